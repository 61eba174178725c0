//! Finding links, e-mail addresses and phone numbers in text.
//!
//! These work on the original text (not the folded one) and return byte
//! ranges on character boundaries. They aim at what sellers actually
//! write, and stay clear of what support replies are full of: Amazon order
//! numbers (`302-1234567-1234567`), tracking numbers, dates, prices, file
//! names and abbreviations such as `e.g.`.

use super::text::is_cjk;

/// A link found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Byte range of the whole link.
    pub start: usize,
    /// End of the link (exclusive).
    pub end: usize,
    /// Its host, lower-cased.
    pub host: String,
}

/// Top-level domains accepted for a bare domain written without `http`
/// or `www.` (`example.shop`, `bit.ly/x`). With a scheme or `www.` any
/// top-level domain counts.
const BARE_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "shop", "store", "online", "site", "website", "io", "co", "me", "ly", "gl",
    "to", "app", "xyz", "top", "link", "club", "vip", "cc", "tv", "de", "fr", "es", "it", "uk", "jp", "cn", "eu", "us",
    "ca", "au", "nl", "be", "ch", "at", "pl", "se", "mx", "br", "in", "ru", "hk", "tw", "sg", "ae", "tr",
];

fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// Trailing characters that end a sentence rather than a link.
fn trim_trailing(s: &str) -> &str {
    let mut s = s;
    loop {
        let Some(last) = s.chars().last() else { return s };
        let unbalanced_paren = last == ')' && s.matches('(').count() < s.matches(')').count();
        if ".,;:!?'\"]".contains(last) || unbalanced_paren {
            s = &s[..s.len() - last.len_utf8()];
        } else {
            return s;
        }
    }
}

/// Links in `text`: with a scheme (`https://…`), starting `www.`, or a
/// bare domain with a common top-level domain (written in lower case, so
/// `item.It` in a sentence missing its space is not a link).
pub fn find_links(text: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let Some(ch) = text[i..].chars().next() else { break };
        let prev = text[..i].chars().next_back();
        let starts_token = prev.is_none_or(|p| !((p.is_alphanumeric() && !is_cjk(p)) || ".-_@/:%+~=&?#".contains(p)));
        if !starts_token || !ch.is_ascii_alphanumeric() {
            i += ch.len_utf8();
            continue;
        }
        let run_len: usize = text[i..].chars().take_while(|&c| is_url_char(c)).map(char::len_utf8).sum();
        let run = trim_trailing(&text[i..i + run_len]);
        if let Some(link) = parse_link(run) {
            links.push(Link { start: i, end: i + run.len(), host: link });
        }
        i += run_len.max(ch.len_utf8());
    }
    links
}

/// The host of `run` if it is a link.
fn parse_link(run: &str) -> Option<String> {
    let lower = run.to_ascii_lowercase();
    let (rest, explicit) = if let Some(r) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) {
        (r, true)
    } else if lower.starts_with("www.") {
        (lower.as_str(), true)
    } else {
        (lower.as_str(), false)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if !explicit && authority.contains('@') {
        // An e-mail address; reported by its own rule.
        return None;
    }
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default().trim_end_matches('.');
    if host.is_empty() || !host.chars().all(is_host_char) {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if explicit {
        return Some(host.to_owned());
    }
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    let tld = labels.last().copied().unwrap_or_default();
    if !BARE_TLDS.contains(&tld) {
        return None;
    }
    // The top-level domain as written must be lower case.
    let written_host_end = run.find(['/', '?', '#']).unwrap_or(run.len());
    let written_tld = run[..written_host_end].rsplit('.').next().unwrap_or_default();
    if written_tld.chars().any(|c| c.is_ascii_uppercase()) {
        return None;
    }
    // Something before the top-level domain must contain a letter
    // (`1.de` is a footnote, not a site).
    if !labels[..labels.len() - 1].iter().any(|l| l.chars().any(|c| c.is_ascii_alphabetic())) {
        return None;
    }
    Some(host.to_owned())
}

/// Whether `host` is `domain` or one of its subdomains.
pub fn host_matches(host: &str, domain: &str) -> bool {
    let domain = domain.trim().trim_start_matches("*.").trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return false;
    }
    host == domain || host.strip_suffix(domain.as_str()).is_some_and(|p| p.ends_with('.'))
}

/// Byte ranges of e-mail addresses in `text` (`@` or full-width `＠`).
pub fn find_emails(text: &str) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    for (at, ch) in text.char_indices() {
        if ch != '@' && ch != '＠' {
            continue;
        }
        if found.last().is_some_and(|&(_, e)| at < e) {
            continue;
        }
        let is_local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
        let local_len: usize = text[..at].chars().rev().take_while(|&c| is_local(c)).map(char::len_utf8).sum();
        let after = at + ch.len_utf8();
        let domain_len: usize = text[after..].chars().take_while(|&c| is_host_char(c)).map(char::len_utf8).sum();
        let domain = text[after..after + domain_len].trim_end_matches(['.', '-']);
        let local = text[at - local_len..at].trim_start_matches('.');
        let Some((name, tld)) = domain.rsplit_once('.') else { continue };
        if local.is_empty() || name.is_empty() || tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        found.push((at - local.len(), after + domain.len()));
    }
    found
}

/// Words that announce a phone number, so a plain run of digits after one
/// is taken as a number to call.
const PHONE_CUES: &[&str] = &[
    "tel",
    "tel.",
    "phone",
    "call",
    "ring",
    "whatsapp",
    "mobile",
    "cell",
    "telefon",
    "telephone",
    "téléphone",
    "teléfono",
    "telefono",
    "numero",
    "número",
    "handy",
    "portable",
    "cellulare",
    "móvil",
    "movil",
    "wechat",
    "line",
    "电话",
    "電話",
    "手机",
    "手機",
    "微信",
    "携帯",
    "けいたい",
    "号码",
    "號碼",
    "番号",
];

/// Byte ranges of phone numbers in `text`.
///
/// A candidate is a run of digits and separators (space, `-`, `.`,
/// parentheses), optionally starting with `+`, not glued to letters or
/// other digits. It is a phone number when
/// - it starts with `+` and has 8–15 digits; or
/// - it has separators, 9–13 digits, does not start like a date
///   (`2024-05-12`, `12.05.2024`) and is not followed by `:` (a time);
///   groups after the first have at least two digits; or
/// - it has no separators and is a Chinese mobile number (11 digits
///   starting 13–19), or 7–15 digits right after a word such as
///   "phone", "Telefon" or "电话".
///
/// Amazon order numbers (17 digits) and tracking numbers (letters, or
/// more than 13 digits) therefore never count.
pub fn find_phones(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let Some(ch) = text[i..].chars().next() else { break };
        let prev = text[..i].chars().next_back();
        let glued = prev.is_some_and(|p| p.is_alphanumeric() && !is_cjk(p) || p == '+' || p == '/' || p == '.');
        if !(ch.is_ascii_digit() || ch == '+' || ch == '(') || glued {
            i += ch.len_utf8();
            continue;
        }
        let end = candidate_end(text, i);
        let run = &text[i..end];
        let next = text[end..].chars().next();
        let glued_after = next.is_some_and(|n| n.is_alphanumeric() && !is_cjk(n) || n == ':' || n == '/');
        if !glued_after && is_phone(run, cue_before(&text[..i])) {
            found.push((i, end));
            i = end;
        } else {
            i += run.len().max(ch.len_utf8());
        }
    }
    found
}

/// End of the run of digits and single separators starting at `start`.
fn candidate_end(text: &str, start: usize) -> usize {
    let mut last_end = start;
    let mut pending_sep = false;
    for (off, c) in text[start..].char_indices() {
        let pos = start + off;
        if c.is_ascii_digit() || c == ')' {
            pending_sep = false;
            last_end = pos + 1;
        } else if (c == '+' && pos == start) || c == '(' {
            pending_sep = false;
        } else if matches!(c, ' ' | '-' | '.') && !pending_sep {
            pending_sep = true;
        } else {
            break;
        }
    }
    last_end
}

fn is_phone(run: &str, cued: bool) -> bool {
    let digits = run.chars().filter(char::is_ascii_digit).count();
    if run.starts_with('+') {
        return (8..=15).contains(&digits);
    }
    let groups: Vec<&str> = run.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    if groups.len() <= 1 {
        let chinese_mobile =
            digits == 11 && run.starts_with('1') && run.chars().nth(1).is_some_and(|c| ('3'..='9').contains(&c));
        return chinese_mobile || (cued && (7..=15).contains(&digits));
    }
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let date_like =
        matches!(lens.as_slice(), [4, 2, 2, ..] | [2, 2, 4, ..] | [1 | 2, 1 | 2, 4, ..] | [4, 1 | 2, 1 | 2, ..]);
    if date_like {
        return false;
    }
    if lens.iter().skip(1).any(|&l| l < 2) && !cued {
        return false;
    }
    (9..=13).contains(&digits) || (cued && (7..=15).contains(&digits))
}

/// Whether the words just before a number announce a phone number.
fn cue_before(before: &str) -> bool {
    let tail: String = before.chars().rev().take(24).collect::<Vec<_>>().into_iter().rev().collect();
    let tail = tail.to_lowercase();
    let words: Vec<&str> = tail.split(|c: char| !(c.is_alphanumeric() || c == '.')).filter(|w| !w.is_empty()).collect();
    let last_words = words.iter().rev().take(3);
    for w in last_words {
        let w = w.trim_end_matches('.');
        if PHONE_CUES.iter().any(|cue| {
            let cue = cue.trim_end_matches('.');
            if cue.chars().any(is_cjk) { w.contains(cue) } else { w == cue }
        }) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Vec<(&str, String)> {
        find_links(text).into_iter().map(|l| (&text[l.start..l.end], l.host)).collect()
    }

    fn spans(text: &str, f: fn(&str) -> Vec<(usize, usize)>) -> Vec<&str> {
        f(text).into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn links_with_scheme_www_or_known_tld() {
        assert_eq!(
            links("See https://Shop.Example.com/a?b=1, or www.example.de."),
            vec![
                ("https://Shop.Example.com/a?b=1", "shop.example.com".to_owned()),
                ("www.example.de", "www.example.de".to_owned())
            ]
        );
        assert_eq!(links("go to bit.ly/abc now"), vec![("bit.ly/abc", "bit.ly".to_owned())]);
        assert_eq!(links("请访问example.shop查看"), vec![("example.shop", "example.shop".to_owned())]);
        assert_eq!(links("(see example.com)"), vec![("example.com", "example.com".to_owned())]);
    }

    #[test]
    fn no_links_in_ordinary_text() {
        for text in [
            "e.g. the invoice.pdf is attached",
            "version 3.5 works, i.e. fine",
            "the item.It arrived",
            "z.B. morgen",
            "U.S. customers",
            "Order 302-1234567-1234567",
            "write to me@example.com",
        ] {
            assert!(links(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn host_matching_covers_subdomains_only() {
        assert!(host_matches("www.ups.com", "ups.com"));
        assert!(host_matches("ups.com", "UPS.com"));
        assert!(!host_matches("notups.com", "ups.com"));
        assert!(!host_matches("ups.com", ""));
    }

    #[test]
    fn emails() {
        assert_eq!(spans("Mail: jane.doe+shop@example.co.uk.", find_emails), vec!["jane.doe+shop@example.co.uk"]);
        assert_eq!(spans("请发邮件到service＠example.cn谢谢", find_emails), vec!["service＠example.cn"]);
        assert!(spans("meet @ 5, @user, a@b", find_emails).is_empty());
    }

    #[test]
    fn phones() {
        assert_eq!(spans("Call +1 (555) 123-4567 today", find_phones), vec!["+1 (555) 123-4567"]);
        assert_eq!(spans("ring 0800 123 4567.", find_phones), vec!["0800 123 4567"]);
        assert_eq!(spans("電話03-1234-5678まで", find_phones), vec!["03-1234-5678"]);
        assert_eq!(spans("请拨打13812345678", find_phones), vec!["13812345678"]);
        assert_eq!(spans("Telefon: 030 1234567", find_phones), vec!["030 1234567"]);
        assert_eq!(spans("phone 5551234567", find_phones), vec!["5551234567"]);
    }

    #[test]
    fn not_phones() {
        for text in [
            "Order 302-1234567-1234567 shipped",
            "tracking 1Z999AA10123456784",
            "tracking 9400 1000 0000 0000 0000 00",
            "on 2024-05-12 14:30",
            "on 12.05.2024 at 10",
            "it costs 1,234.56 EUR",
            "DHL 1234567890",
            "items 1 2 3",
            "SF1234567890123",
        ] {
            assert!(find_phones(text).is_empty(), "{text}");
        }
    }
}
