//! Text folding and phrase matching for the compliance rules.
//!
//! The checked text is folded once into a sequence of normalised
//! characters, each remembering the bytes of the original text it came
//! from, so every match maps back to a byte range that starts and ends on
//! character boundaries of the original.
//!
//! Folding lower-cases, removes Latin accents (`é` → `e`, `ß` → `ss`),
//! turns full-width ASCII into ASCII, treats hyphens and underscores as
//! spaces (so `5-star` and `5 star` are the same), collapses runs of
//! white space and drops the space in `20 %`.
//!
//! A phrase pattern is a small language:
//! - words separated by single spaces must follow each other in the text;
//! - a word ending in `*` may continue (`review*` matches `reviews`), a
//!   word starting with `*` may have a prefix (`*bewertung` matches
//!   `Kundenbewertung`); otherwise a Latin word must stand on its own
//!   (`sale` does not match `wholesale`);
//! - `#` stands for a run of digits (`#% off` matches `20% off`);
//! - ` ~ ` is a gap of up to [`GAP_CHARS`] characters within one sentence
//!   (`leave ~ review*` matches `leave us a quick review`).
//!
//! CJK and kana have no spaces between words, so no word boundary is
//! required next to them: `好评` matches inside `给个好评吧`.

/// The most characters a ` ~ ` gap may skip.
pub const GAP_CHARS: usize = 40;

/// One character of the folded text and the bytes of the original it
/// stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldedChar {
    /// The folded character.
    pub c: char,
    /// First byte in the original text.
    pub start: usize,
    /// One past the last byte in the original text.
    pub end: usize,
}

/// A folded text.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// Its characters.
    pub chars: Vec<FoldedChar>,
}

impl Folded {
    /// Folds `text`.
    pub fn new(text: &str) -> Self {
        let mut chars: Vec<FoldedChar> = Vec::with_capacity(text.len());
        let mut buf = String::new();
        for (start, ch) in text.char_indices() {
            let end = start + ch.len_utf8();
            buf.clear();
            fold_char(ch, &mut buf);
            if buf.is_empty() {
                // A combining mark or an ignorable: it belongs to the
                // character before it.
                if let Some(last) = chars.last_mut() {
                    last.end = end;
                }
                continue;
            }
            for c in buf.chars() {
                if c == ' ' && chars.last().is_none_or(|l| l.c == ' ') {
                    if let Some(last) = chars.last_mut() {
                        last.end = end;
                    }
                    continue;
                }
                // French typography writes `20 %`; make it `20%`.
                if c == '%' {
                    let n = chars.len();
                    if n >= 2 && chars[n - 1].c == ' ' && chars[n - 2].c.is_ascii_digit() {
                        chars.pop();
                    }
                }
                chars.push(FoldedChar { c, start, end });
            }
        }
        Self { chars }
    }

    /// The byte range of the original text covered by folded characters
    /// `from..to` (`to` exclusive, `from < to`).
    pub fn byte_range(&self, from: usize, to: usize) -> (usize, usize) {
        let start = self.chars.get(from).map_or(0, |c| c.start);
        let end = to.checked_sub(1).and_then(|i| self.chars.get(i)).map_or(start, |c| c.end);
        (start, end.max(start))
    }

    /// The index of the sentence each folded character belongs to.
    pub fn sentence_ids(&self) -> Vec<usize> {
        let mut id = 0;
        self.chars
            .iter()
            .map(|fc| {
                let this = id;
                if is_sentence_end(fc.c) {
                    id += 1;
                }
                this
            })
            .collect()
    }
}

/// Folds one character of the original text into `out` (possibly
/// nothing, possibly several characters).
fn fold_char(ch: char, out: &mut String) {
    let ch = match ch as u32 {
        // Full-width ASCII forms.
        0xFF01..=0xFF5E => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
        0x3000 => ' ',
        _ => ch,
    };
    if ch.is_whitespace() || matches!(ch, '-' | '_' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '・' | '·') {
        out.push(' ');
        return;
    }
    if matches!(ch, '’' | '‘' | '`' | '´') {
        out.push('\'');
        return;
    }
    if is_combining(ch) || matches!(ch, '\u{200B}'..='\u{200D}' | '\u{FEFF}' | '\u{00AD}') {
        return;
    }
    for lower in ch.to_lowercase() {
        match strip_accent(lower) {
            Some(s) => out.push_str(s),
            None if is_combining(lower) => {}
            None => out.push(lower),
        }
    }
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// The unaccented form of a lower-case Latin letter, if it has one.
fn strip_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'ţ' | 'ť' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ł' => "l",
        _ => return None,
    })
}

/// Characters that end a sentence; a gap never crosses one.
fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '\n' | ';' | '；')
}

/// Scripts written without spaces between words: no word boundary is
/// needed next to them.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // hiragana, katakana
        | 0x31F0..=0x31FF   // katakana extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // compatibility ideographs
        | 0xFF66..=0xFF9F   // half-width katakana
        | 0xAC00..=0xD7AF   // hangul
        | 0x20000..=0x2FFFF)
}

/// A character that is part of a word in a spaced script.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// One element of a pattern word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom {
    Char(char),
    /// One or more ASCII digits.
    Digits,
}

impl Atom {
    fn is_word(self) -> bool {
        match self {
            Atom::Char(c) => is_word_char(c),
            Atom::Digits => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    atoms: Vec<Atom>,
    prefix: bool,
    suffix: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Words(Vec<Word>),
    Gap,
}

/// A compiled phrase pattern (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
}

impl Pattern {
    /// Compiles a pattern written in the pattern language.
    pub fn new(source: &str) -> Self {
        Self::compile(source, false)
    }

    /// Compiles a phrase taken literally: `*`, `#` and `~` are ordinary
    /// characters (for phrases an account configures).
    pub fn literal(source: &str) -> Self {
        Self::compile(source, true)
    }

    fn compile(source: &str, literal: bool) -> Self {
        let folded = Folded::new(source);
        let text: String = folded.chars.iter().map(|c| c.c).collect();
        let mut segments = Vec::new();
        let parts: Vec<&str> = if literal { vec![text.as_str()] } else { text.split(" ~ ").collect() };
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                segments.push(Segment::Gap);
            }
            let words: Vec<Word> = part
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let (prefix, w) = match w.strip_prefix('*') {
                        Some(rest) if !literal && !rest.is_empty() => (true, rest),
                        _ => (false, w),
                    };
                    let (suffix, w) = match w.strip_suffix('*') {
                        Some(rest) if !literal && !rest.is_empty() => (true, rest),
                        _ => (false, w),
                    };
                    let atoms =
                        w.chars().map(|c| if c == '#' && !literal { Atom::Digits } else { Atom::Char(c) }).collect();
                    Word { atoms, prefix, suffix }
                })
                .collect();
            if !words.is_empty() {
                segments.push(Segment::Words(words));
            }
        }
        // A gap at either end means nothing.
        while matches!(segments.first(), Some(Segment::Gap)) {
            segments.remove(0);
        }
        while matches!(segments.last(), Some(Segment::Gap)) {
            segments.pop();
        }
        Self { segments }
    }

    /// Whether the pattern can match anything at all.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// All non-overlapping matches, as folded-character ranges, leftmost
    /// first.
    pub fn find_all(&self, text: &Folded) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        if self.is_empty() {
            return found;
        }
        let chars = &text.chars;
        let mut i = 0;
        while i < chars.len() {
            if let Some(end) = self.match_segments(chars, 0, i) {
                found.push((i, end));
                i = end.max(i + 1);
            } else {
                i += 1;
            }
        }
        found
    }

    fn match_segments(&self, chars: &[FoldedChar], seg: usize, at: usize) -> Option<usize> {
        let Some(segment) = self.segments.get(seg) else {
            return Some(at);
        };
        match segment {
            Segment::Words(words) => {
                let end = match_words(chars, words, at)?;
                self.match_segments(chars, seg + 1, end)
            }
            Segment::Gap => {
                let mut j = at;
                loop {
                    if let Some(end) = self.match_segments(chars, seg + 1, j) {
                        return Some(end);
                    }
                    let fc = chars.get(j)?;
                    if is_sentence_end(fc.c) || j - at >= GAP_CHARS {
                        return None;
                    }
                    j += 1;
                }
            }
        }
    }
}

/// Matches consecutive words starting exactly at `at`; returns the end.
fn match_words(chars: &[FoldedChar], words: &[Word], at: usize) -> Option<usize> {
    let mut pos = at;
    for (wi, word) in words.iter().enumerate() {
        if wi > 0 {
            if chars.get(pos)?.c != ' ' {
                // A pattern word after punctuation (`#%` then `off`) may
                // follow directly when the text has no space.
                let prev_is_word = pos.checked_sub(1).and_then(|p| chars.get(p)).is_some_and(|c| is_word_char(c.c));
                let next_is_word = word.atoms.first().is_some_and(|a| a.is_word());
                if prev_is_word && next_is_word {
                    return None;
                }
            } else {
                pos += 1;
            }
        }
        pos = match_word(chars, word, pos)?;
    }
    Some(pos)
}

fn match_word(chars: &[FoldedChar], word: &Word, at: usize) -> Option<usize> {
    let first_is_word = word.atoms.first().is_some_and(|a| a.is_word());
    let before_is_word = at.checked_sub(1).and_then(|p| chars.get(p)).is_some_and(|c| is_word_char(c.c));
    if first_is_word && before_is_word {
        return None;
    }
    let mut start = at;
    loop {
        if let Some(end) = match_atoms(chars, &word.atoms, start) {
            let last_is_word = word.atoms.last().is_some_and(|a| a.is_word());
            let mut end = end;
            if word.suffix {
                while chars.get(end).is_some_and(|c| is_word_char(c.c)) {
                    end += 1;
                }
            } else if last_is_word && chars.get(end).is_some_and(|c| is_word_char(c.c)) {
                // Not at a word end; a prefix pattern may still find a
                // later occurrence in the same word.
                if !word.prefix {
                    return None;
                }
                start += 1;
                continue;
            }
            return Some(end);
        }
        if !word.prefix || !chars.get(start).is_some_and(|c| is_word_char(c.c)) {
            return None;
        }
        start += 1;
    }
}

fn match_atoms(chars: &[FoldedChar], atoms: &[Atom], at: usize) -> Option<usize> {
    let mut pos = at;
    for atom in atoms {
        match atom {
            Atom::Char(c) => {
                if chars.get(pos)?.c != *c {
                    return None;
                }
                pos += 1;
            }
            Atom::Digits => {
                let begin = pos;
                while chars.get(pos).is_some_and(|c| c.c.is_ascii_digit()) {
                    pos += 1;
                }
                if pos == begin {
                    return None;
                }
            }
        }
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(pattern: &str, text: &'a str) -> Vec<&'a str> {
        let folded = Folded::new(text);
        Pattern::new(pattern)
            .find_all(&folded)
            .into_iter()
            .map(|(a, b)| {
                let (s, e) = folded.byte_range(a, b);
                &text[s..e]
            })
            .collect()
    }

    #[test]
    fn folding_is_case_and_accent_tolerant() {
        assert_eq!(find("reduction", "Une RÉDUCTION de prix"), vec!["RÉDUCTION"]);
        assert_eq!(find("funf sterne", "Bitte FÜNF Sterne!"), vec!["FÜNF Sterne"]);
        assert_eq!(find("grosse", "eine Große Auswahl"), vec!["Große"]);
        // A decomposed accent stays inside the match.
        assert_eq!(find("cafe", "un cafe\u{301} noir"), vec!["cafe\u{301}"]);
        // Full-width letters and digits.
        assert_eq!(find("5 star*", "ＦＩＶＥ ５ Ｓｔａｒｓ"), vec!["５ Ｓｔａｒｓ"]);
    }

    #[test]
    fn words_need_boundaries_unless_wild() {
        assert!(find("sale", "our wholesale price").is_empty());
        assert!(find("sale", "salesman").is_empty());
        assert_eq!(find("sale", "a big sale!"), vec!["sale"]);
        assert_eq!(find("review*", "two reviews"), vec!["reviews"]);
        assert_eq!(find("*bewertung*", "Ihre Kundenbewertungen"), vec!["Kundenbewertungen"]);
        assert_eq!(find("5 star*", "a 5-star rating"), vec!["5-star"]);
    }

    #[test]
    fn digits_and_punctuation() {
        assert_eq!(find("#% off", "now 20% off and 5 % off"), vec!["20% off", "5 % off"]);
        assert_eq!(find("#%オフ", "今なら30%オフ"), vec!["30%オフ"]);
        assert_eq!(find("#% off", "now 20%off"), vec!["20%off"]);
    }

    #[test]
    fn gaps_stay_within_a_sentence() {
        assert_eq!(find("leave ~ review*", "Please leave us a quick review."), vec!["leave us a quick review"]);
        assert!(find("leave ~ review*", "We leave it here. Review later").is_empty());
        assert!(find("leave ~ review*", "leave it to the courier and then we can talk about the review").is_empty());
    }

    #[test]
    fn cjk_needs_no_boundaries() {
        assert_eq!(find("好评", "麻烦给个好评吧"), vec!["好评"]);
        assert_eq!(find("レビュー ~ お願い", "ぜひレビューをお願いします"), vec!["レビューをお願い"]);
        assert_eq!(find("5星", "请给5星"), vec!["5星"]);
    }

    #[test]
    fn literal_phrases_keep_their_symbols() {
        let folded = Folded::new("50% *off* today");
        assert_eq!(Pattern::literal("*off*").find_all(&folded).len(), 1);
        assert!(Pattern::literal("").is_empty());
    }

    #[test]
    fn byte_ranges_are_char_boundaries() {
        let text = "Ünïcödé  ＴＥＸＴ";
        let folded = Folded::new(text);
        for a in 0..folded.chars.len() {
            for b in a + 1..=folded.chars.len() {
                let (s, e) = folded.byte_range(a, b);
                assert!(text.is_char_boundary(s) && text.is_char_boundary(e) && s < e);
            }
        }
    }
}
