//! Snippets: the part of a text around what matched, with the matches
//! marked.

use crate::analysis::{self, STEMMED};
use std::collections::BTreeMap;
use tantivy::schema::Field;
use tantivy::snippet::SnippetGenerator;

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 160;

/// One piece of a snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetPart {
    /// The text.
    pub text: String,
    /// Whether it matched the query.
    pub hit: bool,
}

/// A piece of a text with the matches marked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// The pieces, in order.
    pub parts: Vec<SnippetPart>,
}

impl Snippet {
    /// The matched pieces.
    pub fn hits(&self) -> Vec<&str> {
        self.parts.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect()
    }

    /// The plain text.
    pub fn text(&self) -> String {
        self.parts.iter().map(|p| p.text.as_str()).collect()
    }

    fn from_ranges(text: &str, ranges: &[std::ops::Range<usize>]) -> Self {
        let mut parts = Vec::new();
        let mut at = 0;
        for r in ranges {
            if r.start < at || r.end > text.len() || !text.is_char_boundary(r.start) || !text.is_char_boundary(r.end) {
                continue;
            }
            if r.start > at {
                parts.push(SnippetPart { text: text[at..r.start].to_owned(), hit: false });
            }
            parts.push(SnippetPart { text: text[r.clone()].to_owned(), hit: true });
            at = r.end;
        }
        if at < text.len() {
            parts.push(SnippetPart { text: text[at..].to_owned(), hit: false });
        }
        Self { parts }
    }
}

/// The words of a query, as each analyzer sees them.
pub(crate) struct QueryWords {
    /// Language-neutral terms.
    pub neutral: Vec<String>,
    /// Stemmed terms by language code.
    pub stemmed: Vec<(&'static str, Vec<String>)>,
    /// The query's words as typed, lower-cased (substring fallback).
    pub raw: Vec<String>,
}

impl QueryWords {
    pub(crate) fn new(q: &str) -> Self {
        let neutral = analysis::terms(&mut analysis::neutral(true), q);
        let stemmed = STEMMED
            .iter()
            .map(|(code, lang)| (*code, analysis::terms(&mut analysis::stemmed(*lang, true), q)))
            .collect();
        let raw = q.to_lowercase().split_whitespace().map(str::to_owned).collect();
        Self { neutral, stemmed, raw }
    }
}

fn generate(analyzer: tantivy::tokenizer::TextAnalyzer, words: &[String], text: &str) -> Option<Snippet> {
    let terms: BTreeMap<String, f32> = words.iter().map(|w| (w.clone(), 1.0)).collect();
    if terms.is_empty() {
        return None;
    }
    let generator = SnippetGenerator::new(terms, analyzer, Field::from_field_id(0), SNIPPET_CHARS);
    let s = generator.snippet(text);
    if s.highlighted().is_empty() {
        return None;
    }
    Some(Snippet::from_ranges(s.fragment(), s.highlighted()))
}

/// The snippet of `text` for a query, in `language` where known: words as
/// the index matches them, else stems, else plain substrings, else the
/// text's beginning.
pub(crate) fn snippet(text: &str, words: &QueryWords, language: Option<&str>) -> Snippet {
    if let Some(s) = generate(analysis::neutral(false), &words.neutral, text) {
        return s;
    }
    if let Some(code) = language
        && let Some((_, lang)) = STEMMED.iter().find(|(c, _)| *c == code)
        && let Some((_, stems)) = words.stemmed.iter().find(|(c, _)| *c == code)
        && let Some(s) = generate(analysis::stemmed(*lang, false), stems, text)
    {
        return s;
    }
    substring_snippet(text, &words.raw)
}

/// Marks where the words occur in `text` (case-insensitive), in a window
/// around the first.
fn substring_snippet(text: &str, words: &[String]) -> Snippet {
    let lower = text.to_lowercase();
    // Lower-casing may change lengths; then only the beginning is shown.
    let same = lower.len() == text.len();
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    if same {
        for w in words.iter().filter(|w| !w.is_empty()) {
            let mut from = 0;
            while let Some(i) = lower[from..].find(w.as_str()) {
                ranges.push(from + i..from + i + w.len());
                from += i + w.len();
            }
        }
    }
    ranges.sort_by_key(|r| r.start);
    let first = ranges.first().map_or(0, |r| r.start);
    let mut start = first.saturating_sub(SNIPPET_CHARS / 3);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = text.len().min(start + SNIPPET_CHARS * 2);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let window: Vec<_> = ranges
        .into_iter()
        .filter(|r| r.start >= start && r.end <= end)
        .map(|r| r.start - start..r.end - start)
        .collect();
    Snippet::from_ranges(&text[start..end], &window)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn snippets_mark_words_stems_and_substrings() {
        let s = snippet("Where is my parcel? The parcel was shipped.", &QueryWords::new("PARCEL"), None);
        assert_eq!(s.hits(), ["parcel", "parcel"]);
        let s = snippet("Both shipments are late", &QueryWords::new("shipment"), Some("en"));
        assert_eq!(s.hits(), ["shipments"]);
        let s = snippet("我的快递还没有到", &QueryWords::new("快递"), None);
        assert_eq!(s.hits(), ["快递"]);
        let s = snippet("order ZX981abc", &QueryWords::new("981a"), None);
        assert_eq!(s.hits(), ["981a"]);
        assert_eq!(s.text(), "order ZX981abc");
    }
}
