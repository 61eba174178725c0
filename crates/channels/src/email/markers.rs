//! Markers in addresses and subjects: Amazon's buyer relay with its order
//! ids, and Ferry's conversation tokens.
//!
//! Amazon hides a buyer behind a relay address
//! (`abc123@marketplace.amazon.de`) that stays the same for that buyer and
//! seller, and names the order (`123-1234567-1234567`) in the subject or
//! the body. Ferry's outgoing mail carries a conversation token as a
//! sub-address of the inbox (`support+c123@shop.example`) and in the
//! subject (`[#c123]`), so a reply threads even when a client drops
//! `In-Reply-To` and `References`.

use serde::{Deserialize, Serialize};

/// The sender is Amazon's buyer–seller messaging relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonRelay {
    /// The relay address, lower-cased: stable for one buyer and seller.
    pub relay_address: String,
    /// The Amazon order id named in the subject, else in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

/// The lower-cased address if it is an Amazon marketplace relay address
/// (`…@marketplace.amazon.com`, `.de`, `.co.uk`, `.co.jp`, `.com.mx`, …).
pub fn amazon_relay(address: &str) -> Option<String> {
    let lower = address.trim().to_ascii_lowercase();
    let (local, domain) = lower.rsplit_once('@')?;
    let tld = domain.strip_prefix("marketplace.amazon.")?;
    let labels: Vec<&str> = tld.split('.').collect();
    let tld_ok = !local.is_empty()
        && (1..=2).contains(&labels.len())
        && labels.iter().all(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()));
    tld_ok.then_some(lower)
}

/// The first Amazon order id (`ddd-ddddddd-ddddddd`) in `text`, not part of
/// a longer run of digits.
pub fn amazon_order_id(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| b.get(from..from + n).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    (0..b.len()).find_map(|i| {
        let boundary_before = i == 0 || !b[i - 1].is_ascii_digit();
        let shape = digits(i, 3)
            && b.get(i + 3) == Some(&b'-')
            && digits(i + 4, 7)
            && b.get(i + 11) == Some(&b'-')
            && digits(i + 12, 7);
        let boundary_after = !b.get(i + 19).is_some_and(u8::is_ascii_digit);
        (boundary_before && shape && boundary_after).then(|| text.get(i..i + 19).map(str::to_owned)).flatten()
    })
}

/// The conversation number of a `+c<digits>` sub-address
/// (`support+c123@shop.example` gives 123).
pub fn conversation_token_in_address(address: &str) -> Option<i64> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _domain) = address.rsplit_once('@')?;
    let (_, tag) = local.rsplit_once('+')?;
    let digits = tag.strip_prefix(['c', 'C'])?;
    number(digits)
}

/// The conversation number of a `[#c<digits>]` token in a subject.
pub fn conversation_token_in_subject(subject: &str) -> Option<i64> {
    subject.match_indices("[#").find_map(|(i, _)| {
        let rest = subject.get(i + 2..)?;
        let rest = rest.strip_prefix(['c', 'C'])?;
        let end = rest.find(']')?;
        number(rest.get(..end)?)
    })
}

fn number(digits: &str) -> Option<i64> {
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_relays_in_every_marketplace() {
        for a in [
            "abc123@marketplace.amazon.com",
            "ABC123@Marketplace.Amazon.de",
            "x9@marketplace.amazon.co.uk",
            "x9@marketplace.amazon.co.jp",
            "x9@marketplace.amazon.com.mx",
        ] {
            assert_eq!(amazon_relay(a), Some(a.to_ascii_lowercase()), "{a}");
        }
        for a in
            ["x@amazon.com", "x@marketplace.amazon.evil.example", "x@marketplace.amazon.", "@marketplace.amazon.com"]
        {
            assert_eq!(amazon_relay(a), None, "{a}");
        }
    }

    #[test]
    fn order_ids_need_their_exact_shape() {
        assert_eq!(amazon_order_id("Order: 302-1234567-7654321)").as_deref(), Some("302-1234567-7654321"));
        assert_eq!(amazon_order_id("Bestellung 028-9876543-1234567."), Some("028-9876543-1234567".into()));
        assert_eq!(amazon_order_id("1302-1234567-7654321"), None);
        assert_eq!(amazon_order_id("302-1234567-76543210"), None);
        assert_eq!(amazon_order_id("302-123456-7654321"), None);
        assert_eq!(amazon_order_id("no order here ü 302-"), None);
    }

    #[test]
    fn conversation_tokens() {
        assert_eq!(conversation_token_in_address("support+c123@shop.example"), Some(123));
        assert_eq!(conversation_token_in_address("<Support+C7@shop.example>"), Some(7));
        assert_eq!(conversation_token_in_address("support+news@shop.example"), None);
        assert_eq!(conversation_token_in_address("support+c@shop.example"), None);
        assert_eq!(conversation_token_in_address("support@shop.example"), None);
        assert_eq!(conversation_token_in_subject("Re: Your order [#c42]"), Some(42));
        assert_eq!(conversation_token_in_subject("Re: [#x1] [#c9]"), Some(9));
        assert_eq!(conversation_token_in_subject("[#c99999999999999999999]"), None);
        assert_eq!(conversation_token_in_subject("[#c12"), None);
    }
}
