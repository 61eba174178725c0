//! Tokenisation of normalised text. Space-separated scripts (Latin,
//! Cyrillic, Arabic, Hangul, ...) give word tokens; scripts written without
//! spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) give one token per
//! run, which [`terms`] and the feature extractor cut into characters and
//! character bigrams. Placeholders (`<num>`, ...) and emoji are tokens of
//! their own.

use crate::normalize::{PLACEHOLDERS, is_emoji};

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word of a space-separated script.
    Word,
    /// A run of a script written without spaces.
    Spaceless,
    /// One of the normaliser's placeholders, e.g. `<num>`.
    Placeholder,
    /// One emoji (with its modifiers).
    Emoji,
}

/// A token borrowed from the text, with its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
    pub kind: TokenKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Word,
    Spaceless,
    Emoji,
    Other,
}

/// Is `c` from a script written without spaces between words?
pub fn is_spaceless_script(c: char) -> bool {
    matches!(u32::from(c),
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FFFF  // CJK extensions B..
        | 0x0E00..=0x0EFF    // Thai, Lao
        | 0x1780..=0x17FF    // Khmer
        | 0x1000..=0x109F    // Myanmar
        | 0x3005 | 0x3006    // 々 〆
    )
}

fn classify(c: char) -> CharClass {
    if is_spaceless_script(c) {
        CharClass::Spaceless
    } else if c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c) {
        CharClass::Word
    } else if is_emoji(c) {
        CharClass::Emoji
    } else {
        CharClass::Other
    }
}

/// Split normalised text into tokens.
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut iter = text.char_indices().peekable();
    while let Some((start, c)) = iter.next() {
        if c == '<'
            && let Some(p) = PLACEHOLDERS.iter().find(|p| text[start..].starts_with(**p))
        {
            let end = start + p.len();
            while iter.peek().is_some_and(|(i, _)| *i < end) {
                iter.next();
            }
            tokens.push(Token { text: &text[start..end], start, end, kind: TokenKind::Placeholder });
            continue;
        }
        let class = classify(c);
        let kind = match class {
            CharClass::Other => continue,
            CharClass::Word => TokenKind::Word,
            CharClass::Spaceless => TokenKind::Spaceless,
            CharClass::Emoji => TokenKind::Emoji,
        };
        let mut end = start + c.len_utf8();
        while let Some(&(i, d)) = iter.peek() {
            let same = match class {
                // Combining marks continue any run (Thai vowel signs are
                // classified as spaceless already).
                CharClass::Word | CharClass::Spaceless => {
                    classify(d) == class || unicode_normalization::char::is_combining_mark(d)
                }
                // Emoji modifiers (skin tone, ZWJ sequences) stay with their base.
                CharClass::Emoji => {
                    matches!(u32::from(d), 0xFE0E | 0xFE0F | 0x200D | 0x20E3 | 0x1F3FB..=0x1F3FF)
                        || (text[start..i].ends_with('\u{200D}') && is_emoji(d))
                }
                CharClass::Other => false,
            };
            if !same {
                break;
            }
            end = i + d.len_utf8();
            iter.next();
        }
        tokens.push(Token { text: &text[start..end], start, end, kind });
    }
    tokens
}

/// Index terms for retrieval: words as they are, space-less runs as their
/// characters plus character bigrams, placeholders and emoji as they are.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokenize(text) {
        match t.kind {
            TokenKind::Spaceless => {
                let chars: Vec<char> = t.text.chars().collect();
                for (i, c) in chars.iter().enumerate() {
                    out.push(c.to_string());
                    if let Some(n) = chars.get(i + 1) {
                        let mut s = String::with_capacity(8);
                        s.push(*c);
                        s.push(*n);
                        out.push(s);
                    }
                }
            }
            _ => out.push(t.text.to_owned()),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::normalize::{NormalizeOptions, normalize};

    fn texts(s: &str) -> Vec<&str> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn european_words_and_punctuation() {
        assert_eq!(texts("where's my order?! it's late"), ["where", "s", "my", "order", "it", "s", "late"]);
        assert_eq!(texts("¿dónde está mi pedido?"), ["dónde", "está", "mi", "pedido"]);
        assert_eq!(texts("wo ist meine bestellung"), ["wo", "ist", "meine", "bestellung"]);
        assert_eq!(texts("где мой заказ"), ["где", "мой", "заказ"]);
    }

    #[test]
    fn cjk_runs_and_spans() {
        let toks = tokenize("我的订单 <num> 在哪里");
        assert_eq!(toks.len(), 3);
        assert_eq!(toks[0].text, "我的订单");
        assert_eq!(toks[0].kind, TokenKind::Spaceless);
        assert_eq!(toks[1].kind, TokenKind::Placeholder);
        assert_eq!((toks[2].start, toks[2].end), (19, 28));
        assert_eq!(terms("注文を"), ["注", "注文", "文", "文を", "を"]);
        // Korean is written with spaces.
        assert_eq!(texts("주문 취소"), ["주문", "취소"]);
        // Mixed Latin and Japanese.
        assert_eq!(texts("iphoneのケース"), ["iphone", "のケース"]);
    }

    #[test]
    fn thai_and_arabic_keep_their_marks() {
        assert_eq!(texts("ยกเลิกนาฬิกาปลุก"), ["ยกเลิกนาฬิกาปลุก"]);
        assert_eq!(texts("أين طلبي؟"), ["أين", "طلبي"]);
    }

    #[test]
    fn emoji_are_tokens() {
        let n = normalize("thanks👍🏽 great", &NormalizeOptions::default());
        let toks = tokenize(&n);
        assert_eq!(
            toks.iter().map(|t| t.kind).collect::<Vec<_>>(),
            [TokenKind::Word, TokenKind::Emoji, TokenKind::Word]
        );
        assert_eq!(toks[1].text, "👍🏽");
    }
}
