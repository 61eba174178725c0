//! Text normalisation before tokenisation: Unicode compatibility folding
//! (NFKC turns full-width `ＡＢＣ１２３` into `abc123`), lower-casing, optional
//! accent stripping, and replacement of URLs, e-mail addresses, numbers and
//! long codes (order or tracking numbers) by placeholder tokens so that a
//! classifier learns "a number was given" rather than the number itself.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Placeholder inserted for a URL.
pub const URL_TOKEN: &str = "<url>";
/// Placeholder inserted for an e-mail address.
pub const EMAIL_TOKEN: &str = "<email>";
/// Placeholder inserted for a number.
pub const NUM_TOKEN: &str = "<num>";
/// Placeholder inserted for a mixed letter/digit code such as `LX123456789CN`.
pub const CODE_TOKEN: &str = "<code>";
/// Placeholder inserted for an emoji when [`EmojiMode::Placeholder`] is chosen.
pub const EMOJI_TOKEN: &str = "<emoji>";

/// All placeholder tokens, recognised as single tokens by the tokeniser.
pub const PLACEHOLDERS: [&str; 5] = [URL_TOKEN, EMAIL_TOKEN, NUM_TOKEN, CODE_TOKEN, EMOJI_TOKEN];

/// What to do with emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmojiMode {
    /// Keep each emoji; the tokeniser makes it a token of its own.
    #[default]
    Keep,
    /// Replace each run of emoji by [`EMOJI_TOKEN`].
    Placeholder,
    /// Drop emoji.
    Remove,
}

/// Normalisation switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizeOptions {
    pub lowercase: bool,
    /// Remove Latin diacritics (`é` → `e`); other scripts are left intact.
    pub strip_accents: bool,
    pub replace_urls: bool,
    pub replace_emails: bool,
    pub replace_numbers: bool,
    pub emoji: EmojiMode,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        Self {
            lowercase: true,
            strip_accents: true,
            replace_urls: true,
            replace_emails: true,
            replace_numbers: true,
            emoji: EmojiMode::Keep,
        }
    }
}

/// Is `c` an emoji or an emoji modifier (skin tone, joiner, variation selector)?
pub fn is_emoji(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF
    ) || is_emoji_modifier(c)
}

fn is_emoji_modifier(c: char) -> bool {
    matches!(u32::from(c), 0xFE0E | 0xFE0F | 0x200D | 0x20E3 | 0x1F3FB..=0x1F3FF)
}

/// Normalise `text` according to `opts`.
pub fn normalize(text: &str, opts: &NormalizeOptions) -> String {
    // NFKC folds widths and compatibility forms (ｶﾀｶﾅ, ①, ﬁ).
    let folded: String = text.nfkc().collect();
    let cased = if opts.lowercase { folded.to_lowercase() } else { folded };
    let stripped = if opts.strip_accents { strip_latin_accents(&cased) } else { cased };
    let replaced = replace_spans(&stripped, opts);
    // Removing an emoji or a variation selector can bring a letter next to
    // a combining mark; compose again so normalising twice changes nothing.
    if replaced.is_ascii() { replaced } else { replaced.nfkc().collect() }
}

/// Remove combining diacritical marks (U+0300–U+036F) only, so that marks that
/// carry meaning in other scripts (Thai vowels, Japanese dakuten) survive.
pub fn strip_latin_accents(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    text.nfd().filter(|c| !matches!(u32::from(*c), 0x0300..=0x036F)).nfc().collect()
}

fn is_url_start(chunk: &str) -> bool {
    let lower = chunk.get(..8).unwrap_or(chunk).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.")
}

fn looks_like_email(chunk: &str) -> Option<(usize, usize)> {
    let at = chunk.find('@')?;
    let is_local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let start = chunk[..at].char_indices().rev().take_while(|(_, c)| is_local(*c)).last().map(|(i, _)| i)?;
    let after = &chunk[at + 1..];
    let domain_len: usize = after.chars().take_while(|c| is_domain(*c)).map(char::len_utf8).sum();
    let domain = after[..domain_len].trim_end_matches(['.', '-']);
    let dot = domain.rfind('.')?;
    if dot == 0 || domain.len() - dot < 3 {
        return None;
    }
    Some((start, at + 1 + domain.len()))
}

/// Replace URLs, e-mails, numbers, codes and (by option) emoji inside each
/// whitespace-separated chunk.
fn replace_spans(text: &str, opts: &NormalizeOptions) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while !rest.is_empty() {
        let ws_len: usize = rest.chars().take_while(|c| c.is_whitespace()).map(char::len_utf8).sum();
        if ws_len > 0 {
            out.push(' ');
            rest = &rest[ws_len..];
            continue;
        }
        let chunk_len: usize = rest.chars().take_while(|c| !c.is_whitespace()).map(char::len_utf8).sum();
        let chunk = &rest[..chunk_len];
        rest = &rest[chunk_len..];
        if opts.replace_urls && is_url_start(chunk) {
            let trimmed = chunk.trim_end_matches(['.', ',', '!', '?', ')', ';', ':']);
            out.push_str(URL_TOKEN);
            out.push_str(&chunk[trimmed.len()..]);
            continue;
        }
        if opts.replace_emails
            && let Some((s, e)) = looks_like_email(chunk)
        {
            replace_inner(&chunk[..s], opts, &mut out);
            out.push_str(EMAIL_TOKEN);
            replace_inner(&chunk[e..], opts, &mut out);
            continue;
        }
        replace_inner(chunk, opts, &mut out);
    }
    out
}

/// Numbers, codes and emoji inside one chunk.
fn replace_inner(chunk: &str, opts: &NormalizeOptions, out: &mut String) {
    let chars: Vec<char> = chunk.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if opts.emoji != EmojiMode::Keep && is_emoji(c) {
            let mut j = i;
            while j < chars.len() && is_emoji(chars[j]) {
                j += 1;
            }
            if opts.emoji == EmojiMode::Placeholder && chars[i..j].iter().any(|c| !is_emoji_modifier(*c)) {
                out.push(' ');
                out.push_str(EMOJI_TOKEN);
                out.push(' ');
            }
            i = j;
            continue;
        }
        if opts.replace_numbers && c.is_ascii_alphanumeric() {
            // A maximal ASCII alphanumeric run, digits joined by `.,:/-`.
            let mut j = i;
            let (mut digits, mut letters) = (0usize, 0usize);
            while j < chars.len() {
                let d = chars[j];
                if d.is_ascii_digit() {
                    digits += 1;
                } else if d.is_ascii_alphabetic() {
                    letters += 1;
                } else if ".,:/-".contains(d)
                    && j > i
                    && chars[j - 1].is_ascii_digit()
                    && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                {
                    // separator inside a number
                } else {
                    break;
                }
                j += 1;
            }
            if digits == 0 {
                out.extend(&chars[i..j]);
            } else if letters == 0 {
                out.push(' ');
                out.push_str(NUM_TOKEN);
                out.push(' ');
            } else if digits >= 3 && j - i >= 6 {
                out.push(' ');
                out.push_str(CODE_TOKEN);
                out.push(' ');
            } else {
                // Short mixes such as `2nd`, `3pm`, `mp3`: keep them.
                out.extend(&chars[i..j]);
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let n = normalize(s, &NormalizeOptions::default());
        n.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn folds_width_case_and_accents() {
        assert_eq!(norm("ＡＢＣ Café À"), "abc cafe a");
        assert_eq!(norm("Größe"), "große");
        // Japanese voiced marks survive accent stripping.
        assert_eq!(norm("ガイド"), "ガイド");
        // Half-width katakana is folded to full width.
        assert_eq!(norm("ｶﾞｲﾄﾞ"), "ガイド");
        // Thai vowel signs are not Latin accents.
        assert_eq!(norm("ยกเลิก"), "ยกเลิก");
    }

    #[test]
    fn replaces_urls_emails_numbers_and_codes() {
        assert_eq!(
            norm("See https://shop.example/orders/1001, or mail Bob.Smith@Example.co.uk!"),
            "see <url>, or mail <email>!"
        );
        assert_eq!(norm("order #1001 costs 1,299.50"), "order # <num> costs <num>");
        assert_eq!(norm("track LX123456789CN please"), "track <code> please");
        assert_eq!(norm("at 3pm on the 2nd"), "at 3pm on the 2nd");
        assert_eq!(norm("订单123456在哪里"), "订单 <num> 在哪里");
    }

    #[test]
    fn emoji_modes() {
        let mut o = NormalizeOptions::default();
        assert_eq!(normalize("thanks 👍", &o), "thanks 👍");
        o.emoji = EmojiMode::Placeholder;
        assert_eq!(normalize("thanks 👍🏽", &o).trim(), "thanks  <emoji>");
        o.emoji = EmojiMode::Remove;
        assert_eq!(normalize("thanks 👍", &o).trim(), "thanks");
    }

    #[test]
    fn options_can_switch_everything_off() {
        let o = NormalizeOptions {
            lowercase: false,
            strip_accents: false,
            replace_urls: false,
            replace_emails: false,
            replace_numbers: false,
            emoji: EmojiMode::Keep,
        };
        assert_eq!(normalize("Café 12 a@b.com", &o), "Café 12 a@b.com");
    }
}
