//! Built-in texts of the bot in its languages: questions for missing
//! entities, the hand-off message, answers for when the shop's data is not
//! available, and the words that mean "a person, please" or anger.

use ferry_core::bot::Slot;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

type PerLanguage = BTreeMap<String, String>;

#[derive(Debug, Deserialize)]
struct Texts {
    ask: BTreeMap<Slot, PerLanguage>,
    human_button: PerLanguage,
    handoff: PerLanguage,
    fallback: BTreeMap<String, PerLanguage>,
    order_not_found: PerLanguage,
    ask_order_email: PerLanguage,
    email_mismatch: PerLanguage,
    order_status_unshipped: PerLanguage,
    otp_sent: PerLanguage,
    otp_wrong: PerLanguage,
    otp_email_subject: PerLanguage,
    otp_email_body: PerLanguage,
    otp_sent_sms: PerLanguage,
    otp_sms_body: PerLanguage,
    order_state: BTreeMap<String, BTreeMap<String, String>>,
    human_words: BTreeMap<String, Vec<String>>,
    anger_words: BTreeMap<String, Vec<String>>,
}

static TEXTS: LazyLock<Texts> = LazyLock::new(|| {
    // The file is part of the crate and checked by the tests below.
    serde_json::from_str(include_str!("../texts/texts.json")).unwrap_or_else(|e| panic!("texts.json: {e}"))
});

fn pick<'a>(m: &'a PerLanguage, lang: &str) -> &'a str {
    m.get(lang).or_else(|| m.get("en")).map_or("", String::as_str)
}

/// The question asking for `slot`.
pub fn ask(slot: Slot, lang: &str) -> &'static str {
    TEXTS.ask.get(&slot).map_or("", |m| pick(m, lang))
}

/// The label of the "talk to a person" button.
pub fn human_button(lang: &str) -> &'static str {
    pick(&TEXTS.human_button, lang)
}

/// What the buyer is told when the bot hands off.
pub fn handoff(lang: &str) -> &'static str {
    pick(&TEXTS.handoff, lang)
}

/// The answer to `intent` when the order's details are not available.
pub fn fallback(intent: &str, lang: &str) -> Option<&'static str> {
    TEXTS.fallback.get(intent).map(|m| pick(m, lang))
}

/// "I couldn't find order {{order.number}}…".
pub fn order_not_found(lang: &str) -> &'static str {
    pick(&TEXTS.order_not_found, lang)
}

/// Asks for the e-mail address of order {{order.number}}.
pub fn ask_order_email(lang: &str) -> &'static str {
    pick(&TEXTS.ask_order_email, lang)
}

/// The e-mail does not match order {{order.number}}.
pub fn email_mismatch(lang: &str) -> &'static str {
    pick(&TEXTS.email_mismatch, lang)
}

/// The order-status answer for an order that has not shipped.
pub fn order_status_unshipped(lang: &str) -> &'static str {
    pick(&TEXTS.order_status_unshipped, lang)
}

/// "I've sent a code to {{email}}…".
pub fn otp_sent(lang: &str) -> &'static str {
    pick(&TEXTS.otp_sent, lang)
}

/// "That code is not right. {{left}} tries left."
pub fn otp_wrong(lang: &str) -> &'static str {
    pick(&TEXTS.otp_wrong, lang)
}

/// The bot's message after texting a one-time code to the order's phone
/// (`{{order.number}}`, `{{phone}}` masked).
pub fn otp_sent_sms(lang: &str) -> &'static str {
    pick(&TEXTS.otp_sent_sms, lang)
}

/// The SMS carrying a one-time code (`{{code}}`, `{{order.number}}`).
pub fn otp_sms(lang: &str) -> &'static str {
    pick(&TEXTS.otp_sms_body, lang)
}

/// Subject and body of the e-mail carrying a one-time code (`{{code}}`).
pub fn otp_email(lang: &str) -> (&'static str, &'static str) {
    (pick(&TEXTS.otp_email_subject, lang), pick(&TEXTS.otp_email_body, lang))
}

/// An order state (`paid`, `shipped`, …) in words of `lang`.
pub fn order_state(state: &str, lang: &str) -> String {
    TEXTS
        .order_state
        .get(lang)
        .or_else(|| TEXTS.order_state.get("en"))
        .and_then(|m| m.get(state))
        .cloned()
        .unwrap_or_else(|| state.replace('_', " "))
}

/// The payload of the "talk to a person" button.
pub const HUMAN_PAYLOAD: &str = "/human";

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// Whether `lower` (lower-cased text) contains `word`: anywhere for CJK
/// words, at word boundaries otherwise.
fn contains_word(lower: &str, word: &str) -> bool {
    if word.chars().any(is_cjk) {
        return lower.contains(word);
    }
    lower.match_indices(word).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn any_word(lists: &BTreeMap<String, Vec<String>>, text: &str) -> bool {
    let lower = text.to_lowercase();
    lists.values().flatten().any(|w| contains_word(&lower, w))
}

/// The buyer asks for a person, in any of the bot's languages.
pub fn asks_for_human(text: &str) -> bool {
    text.trim() == HUMAN_PAYLOAD || any_word(&TEXTS.human_words, text)
}

/// The message contains words of anger.
pub fn sounds_angry(text: &str) -> bool {
    any_word(&TEXTS.anger_words, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text() {
        let langs = ["en", "zh", "es", "fr", "de", "ja", "pt", "it"];
        for l in langs {
            for slot in [Slot::OrderNumber, Slot::Email, Slot::Phone, Slot::TrackingNumber, Slot::VerificationCode] {
                assert!(TEXTS.ask[&slot].contains_key(l), "ask {slot} {l}");
            }
            assert!(TEXTS.human_button.contains_key(l) && TEXTS.handoff.contains_key(l), "{l}");
            for (intent, m) in &TEXTS.fallback {
                assert!(m.contains_key(l), "fallback {intent} {l}");
            }
            assert!(!TEXTS.human_words[l].is_empty() && !TEXTS.anger_words[l].is_empty(), "{l}");
            for m in [
                &TEXTS.order_not_found,
                &TEXTS.ask_order_email,
                &TEXTS.email_mismatch,
                &TEXTS.order_status_unshipped,
                &TEXTS.otp_sent,
                &TEXTS.otp_wrong,
                &TEXTS.otp_email_subject,
                &TEXTS.otp_email_body,
                &TEXTS.otp_sent_sms,
                &TEXTS.otp_sms_body,
            ] {
                assert!(m.contains_key(l), "{l}");
            }
            assert_eq!(TEXTS.order_state[l].len(), 7, "{l}");
        }
        assert_eq!(handoff("xx"), handoff("en"));
    }

    #[test]
    fn human_and_anger_words() {
        assert!(asks_for_human("我要人工"));
        assert!(asks_for_human("Can I talk to a real person?"));
        assert!(asks_for_human("Ich möchte mit einem Mitarbeiter sprechen"));
        assert!(asks_for_human("/human"));
        assert!(!asks_for_human("is this humanly possible"));
        assert!(!asks_for_human("where is my order"));
        assert!(sounds_angry("This is a SCAM, I want my money"));
        assert!(sounds_angry("太差了，我要投诉"));
        assert!(!sounds_angry("scampi are nice"));
    }
}
