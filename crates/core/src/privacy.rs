//! Buyers' personal data seen by people without the right to see it in
//! clear: phone numbers and e-mail addresses are masked, keeping just
//! enough for an agent to tell two buyers apart.

use serde_json::Value;

const DOT: char = '•';

/// `ana@example.com` → `a•••@example.com`.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((user, domain)) if !user.is_empty() => {
            let first: String = user.chars().take(1).collect();
            format!("{first}{}@{domain}", DOT.to_string().repeat(3))
        }
        _ => DOT.to_string().repeat(3),
    }
}

/// `+34612345678` → `+34••••••678`: the country prefix and the last three
/// digits.
pub fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return DOT.to_string().repeat(3);
    }
    let head: String = digits[..2].iter().collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    format!("+{head}{}{tail}", DOT.to_string().repeat(digits.len() - 5))
}

/// Masks a value by its look: an e-mail address when it has an `@`, a
/// phone number otherwise.
pub fn mask_any(value: &str) -> String {
    if value.contains('@') { mask_email(value) } else { mask_phone(value) }
}

/// Masks the e-mail addresses and phone numbers (7 digits or more) among
/// the words of a text.
pub fn mask_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |w: &mut String, out: &mut String| {
        let digits = w.chars().filter(char::is_ascii_digit).count();
        if w.contains('@') && w.contains('.') {
            out.push_str(&mask_email(w));
        } else if digits >= 7 {
            out.push_str(&mask_phone(w));
        } else {
            out.push_str(w);
        }
        w.clear();
    };
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // A phone's spaces and dashes, between digits, are part of the number.
        let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let phone_gap = (c == ' ' || c == '-') && word.starts_with('+') && next_digit;
        if (c.is_whitespace() && !phone_gap) || matches!(c, ',' | ';' | '(' | ')' | '<' | '>') {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Field names whose string values are a buyer's e-mail address.
const EMAIL_KEYS: [&str; 4] = ["email", "buyer_email", "customer_email", "contact_email"];
/// Field names whose string values are a buyer's phone number.
const PHONE_KEYS: [&str; 4] = ["phone", "buyer_phone", "customer_phone", "contact_phone"];
/// Identity kinds whose values are addresses or numbers.
const IDENTITY_KINDS: [&str; 3] = ["email", "phone", "whatsapp"];

/// Masks every e-mail address and phone number in a JSON document as the
/// API answers it: fields named like [`EMAIL_KEYS`] and [`PHONE_KEYS`],
/// and the `value` of identities (`{"kind": "email", "value": …}`).
/// Everything else is left as it is.
pub fn mask_json(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        Value::Object(map) => {
            let identity = map.get("kind").and_then(Value::as_str).is_some_and(|k| IDENTITY_KINDS.contains(&k));
            // A search hit's highlight spells out the fields it matched:
            // one plain piece, masked, instead.
            let personal = EMAIL_KEYS.iter().chain(PHONE_KEYS.iter()).any(|k| map.contains_key(*k));
            if personal && let Some(Value::Array(parts)) = map.get_mut("highlight") {
                let text: String =
                    parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().concat();
                *parts = vec![serde_json::json!({ "text": mask_text(&text), "hit": false })];
            }
            for (k, x) in map.iter_mut() {
                match x {
                    Value::String(s) if EMAIL_KEYS.contains(&k.as_str()) => *s = mask_email(s),
                    Value::String(s) if PHONE_KEYS.contains(&k.as_str()) => *s = mask_phone(s),
                    Value::String(s) if identity && k == "value" => *s = mask_any(s),
                    other => mask_json(other),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_addresses_and_numbers() {
        assert_eq!(mask_email("ana@example.com"), "a•••@example.com");
        assert_eq!(mask_email("nope"), "•••");
        assert_eq!(mask_phone("+34612345678"), "+34••••••678");
        assert_eq!(mask_phone("+1234"), "•••");
        assert_eq!(mask_any("+34 612 345 678"), "+34••••••678");
    }

    #[test]
    fn masks_documents_by_field() {
        let mut v = json!({
            "data": [{
                "name": "Ana",
                "email": "ana@example.com",
                "phone": "+34612345678",
                "identities": [{"kind": "whatsapp", "value": "+34612345678"}, {"kind": "amazon", "value": "A1B2"}],
                "contact": {"email": null, "customer_email": "b@shop.example"}
            }]
        });
        mask_json(&mut v);
        let c = &v["data"][0];
        assert_eq!(c["name"], "Ana");
        assert_eq!(c["email"], "a•••@example.com");
        assert_eq!(c["phone"], "+34••••••678");
        assert_eq!(c["identities"][0]["value"], "+34••••••678");
        assert_eq!(c["identities"][1]["value"], "A1B2");
        assert_eq!(c["contact"]["email"], Value::Null);
        assert_eq!(c["contact"]["customer_email"], "b•••@shop.example");
        let mut hit = json!({ "email": "ana@example.com", "highlight": [
            {"text": "Ana ", "hit": false}, {"text": "ana@example.com", "hit": true}, {"text": " +34 612 345 678", "hit": false}
        ]});
        mask_json(&mut hit);
        assert_eq!(hit["highlight"], json!([{ "text": "Ana a•••@example.com +34••••••678", "hit": false }]));
    }

    #[test]
    fn masks_words_of_a_text() {
        assert_eq!(
            mask_text("write to ana@example.com, or +34 612-345-678 now"),
            "write to a•••@example.com, or +34••••••678 now"
        );
        assert_eq!(mask_text("order 1001 of 2 items"), "order 1001 of 2 items");
    }
}
