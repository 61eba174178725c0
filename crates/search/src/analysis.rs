//! Text analysis shared by indexing, querying and highlighting.
//!
//! One tokenizer for every script: runs of Chinese characters are cut into
//! words by jieba (the finer search cut when indexing, the plain cut for
//! queries, so a query's words are among the indexed ones); runs of kana
//! and hangul become overlapping character pairs; everything else splits
//! into words at anything not a letter or digit. The language-neutral
//! analyzer lower-cases and folds accents; the stemmed ones lower-case and
//! stem with the message's language.

use jieba_rs::Jieba;
use std::sync::LazyLock;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Tokens longer than this (in bytes) are dropped (hashes, base64).
const LONGEST_TOKEN: usize = 60;

/// The name of the language-neutral analyzer in the index.
pub(crate) const NEUTRAL: &str = "ferry";

/// Languages with a stemmer, by ISO 639-1 code.
pub(crate) const STEMMED: &[(&str, Language)] = &[
    ("ar", Language::Arabic),
    ("da", Language::Danish),
    ("de", Language::German),
    ("el", Language::Greek),
    ("en", Language::English),
    ("es", Language::Spanish),
    ("fi", Language::Finnish),
    ("fr", Language::French),
    ("hu", Language::Hungarian),
    ("it", Language::Italian),
    ("nl", Language::Dutch),
    ("no", Language::Norwegian),
    ("pt", Language::Portuguese),
    ("ro", Language::Romanian),
    ("ru", Language::Russian),
    ("sv", Language::Swedish),
    ("ta", Language::Tamil),
    ("tr", Language::Turkish),
];

/// The stemmed language of a language tag (`en`, `pt-BR`, `nb`), if it has
/// a stemmer.
pub fn language_of(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    let primary = if primary == "nb" || primary == "nn" { "no".to_owned() } else { primary };
    STEMMED.iter().find(|(code, _)| *code == primary).map(|(code, _)| *code)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Han,
    Kana,
    Hangul,
    Word,
    Gap,
}

fn script(c: char) -> Script {
    match u32::from(c) {
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF | 0x3005 | 0x3007 => Script::Han,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        _ if c.is_alphanumeric() => Script::Word,
        _ => Script::Gap,
    }
}

/// Splits text in every script (see the module's description).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MixedTokenizer {
    /// Queries cut Chinese coarsely; indexing also emits the words inside.
    pub query: bool,
}

/// The tokens of one text, computed at once.
pub(crate) struct Tokens {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(t) => {
                self.current = t;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

impl Tokenizer for MixedTokenizer {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        Tokens { tokens: split(text, self.query).into_iter(), current: Token::default() }
    }
}

fn push(out: &mut Vec<Token>, text: &str, from: usize, to: usize) {
    let position = out.len();
    out.push(Token { offset_from: from, offset_to: to, position, text: text[from..to].to_owned(), position_length: 1 });
}

/// The tokens of `text`.
fn split(text: &str, query: bool) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let kind = script(c);
        let mut end = start + c.len_utf8();
        while let Some(&(i, d)) = chars.peek() {
            if script(d) != kind {
                break;
            }
            end = i + d.len_utf8();
            chars.next();
        }
        let run = &text[start..end];
        match kind {
            Script::Gap => {}
            Script::Word => push(&mut out, text, start, end),
            Script::Han => {
                let words = if query { JIEBA.cut(run, true) } else { JIEBA.cut_for_search(run, true) };
                for w in words {
                    push(&mut out, text, start + w.byte_start, start + w.byte_end);
                }
            }
            Script::Kana | Script::Hangul => {
                let offsets: Vec<usize> = run.char_indices().map(|(i, _)| start + i).chain([end]).collect();
                if offsets.len() <= 2 {
                    push(&mut out, text, start, end);
                } else {
                    for w in offsets.windows(3) {
                        if let [a, _, b] = w {
                            push(&mut out, text, *a, *b);
                        }
                    }
                }
            }
        }
    }
    out
}

/// The language-neutral analyzer.
pub(crate) fn neutral(query: bool) -> TextAnalyzer {
    TextAnalyzer::builder(MixedTokenizer { query })
        .filter(RemoveLongFilter::limit(LONGEST_TOKEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzer stemming with `language`.
pub(crate) fn stemmed(language: Language, query: bool) -> TextAnalyzer {
    TextAnalyzer::builder(MixedTokenizer { query })
        .filter(RemoveLongFilter::limit(LONGEST_TOKEN))
        .filter(LowerCaser)
        .filter(Stemmer::new(language))
        .build()
}

/// The tokens `analyzer` makes of `text`.
pub(crate) fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The analyzer name of a stemmed field's language.
pub(crate) fn stemmed_name(code: &str) -> String {
    format!("ferry_{code}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_script_is_split_into_searchable_words() {
        let mut a = neutral(false);
        assert_eq!(terms(&mut a, "Où est ma COMMANDE #1001?"), ["ou", "est", "ma", "commande", "1001"]);
        let ko = terms(&mut a, "배송 조회");
        assert_eq!(ko, ["배송", "조회"]);
        let ja = terms(&mut a, "注文がまだ届きません");
        assert!(ja.contains(&"まだ".to_owned()) && ja.contains(&"きま".to_owned()), "{ja:?}");
        let zh = terms(&mut a, "我的快递还没有到");
        assert!(zh.contains(&"快递".to_owned()), "{zh:?}");
        let mut q = neutral(true);
        for w in terms(&mut q, "快递") {
            assert!(zh.contains(&w), "{w} of the query is among the indexed words");
        }
    }

    #[test]
    fn stemming_follows_the_language() {
        let mut en = stemmed(Language::English, false);
        assert_eq!(terms(&mut en, "running shipments"), terms(&mut en, "run shipment"));
        assert_eq!(language_of("pt-BR"), Some("pt"));
        assert_eq!(language_of("nb"), Some("no"));
        assert_eq!(language_of("zh"), None);
    }
}
