//! Language detection for customer messages. Scripts that identify a
//! language on their own (kana, Hangul, Han, Thai, Arabic, Cyrillic, Greek,
//! Hebrew) decide directly; Latin-script text goes to whatlang restricted to
//! the configured languages, with a small lexicon for the greetings and
//! thanks that are too short for statistics. Below a minimum confidence the
//! configured default language is returned, flagged as a fallback.

use serde::{Deserialize, Serialize};
use whatlang::{Detector, Lang};

use crate::error::NluError;
use crate::normalize::{NormalizeOptions, PLACEHOLDERS, normalize, strip_latin_accents};

/// Languages this module knows: ISO 639-1 code and whatlang's ISO 639-3 code.
pub const SUPPORTED_LANGUAGES: &[(&str, &str)] = &[
    ("en", "eng"),
    ("zh", "cmn"),
    ("ja", "jpn"),
    ("ko", "kor"),
    ("es", "spa"),
    ("pt", "por"),
    ("fr", "fra"),
    ("de", "deu"),
    ("it", "ita"),
    ("nl", "nld"),
    ("ru", "rus"),
    ("uk", "ukr"),
    ("ar", "ara"),
    ("tr", "tur"),
    ("pl", "pol"),
    ("th", "tha"),
    ("vi", "vie"),
    ("id", "ind"),
    ("sv", "swe"),
    ("da", "dan"),
    ("nb", "nob"),
    ("fi", "fin"),
    ("cs", "ces"),
    ("ro", "ron"),
    ("hu", "hun"),
    ("el", "ell"),
    ("he", "heb"),
    ("hi", "hin"),
];

/// How a language was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionMethod {
    /// The writing system identifies the language.
    Script,
    /// A known short word (greeting, thanks).
    Lexicon,
    /// Character statistics (whatlang).
    Statistics,
    /// Too little evidence: the configured default.
    Fallback,
}

/// Result of [`LanguageDetector::detect`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectedLanguage {
    /// ISO 639-1 code.
    pub code: String,
    /// 0..1; for a fallback, the confidence of the rejected guess.
    pub confidence: f64,
    pub method: DetectionMethod,
}

/// Language detector restricted to a set of languages.
#[derive(Debug)]
pub struct LanguageDetector {
    allowed: Vec<&'static str>,
    default: String,
    min_confidence: f64,
    detector: Detector,
}

fn whatlang_code(code: &str) -> Option<&'static str> {
    SUPPORTED_LANGUAGES.iter().find(|(c, _)| *c == code).map(|(_, w)| *w)
}

fn iso1(lang: Lang) -> Option<&'static str> {
    SUPPORTED_LANGUAGES.iter().find(|(_, w)| *w == lang.code()).map(|(c, _)| *c)
}

// Short words that statistics cannot place.
const LEXICON: &[(&str, &str)] = &[
    ("hi", "en"),
    ("hello", "en"),
    ("hey", "en"),
    ("thanks", "en"),
    ("thank you", "en"),
    ("thx", "en"),
    ("ok thanks", "en"),
    ("good morning", "en"),
    ("hola", "es"),
    ("gracias", "es"),
    ("muchas gracias", "es"),
    ("buenos dias", "es"),
    ("buenas tardes", "es"),
    ("bonjour", "fr"),
    ("merci", "fr"),
    ("merci beaucoup", "fr"),
    ("salut", "fr"),
    ("bonsoir", "fr"),
    ("hallo", "de"),
    ("danke", "de"),
    ("danke schon", "de"),
    ("vielen dank", "de"),
    ("guten tag", "de"),
    ("guten morgen", "de"),
    ("ciao", "it"),
    ("grazie", "it"),
    ("grazie mille", "it"),
    ("buongiorno", "it"),
    ("buonasera", "it"),
    ("ola", "pt"),
    ("obrigado", "pt"),
    ("obrigada", "pt"),
    ("bom dia", "pt"),
    ("boa tarde", "pt"),
    ("dank je", "nl"),
    ("dank u", "nl"),
    ("bedankt", "nl"),
    ("goedemorgen", "nl"),
    ("dzien dobry", "pl"),
    ("dziekuje", "pl"),
    ("merhaba", "tr"),
    ("tesekkurler", "tr"),
    ("tesekkur ederim", "tr"),
];

#[derive(Debug, Default)]
struct ScriptCounts {
    latin: usize,
    kana: usize,
    han: usize,
    hangul: usize,
    thai: usize,
    arabic: usize,
    cyrillic: usize,
    greek: usize,
    hebrew: usize,
    devanagari: usize,
}

impl ScriptCounts {
    fn of(text: &str) -> Self {
        let mut s = Self::default();
        for c in text.chars() {
            match u32::from(c) {
                0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => s.kana += 1,
                0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF => s.han += 1,
                0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => s.hangul += 1,
                0x0E00..=0x0E7F => s.thai += 1,
                0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => s.arabic += 1,
                0x0400..=0x04FF => s.cyrillic += 1,
                0x0370..=0x03FF => s.greek += 1,
                0x0590..=0x05FF => s.hebrew += 1,
                0x0900..=0x097F => s.devanagari += 1,
                _ if c.is_alphabetic() => s.latin += 1,
                _ => {}
            }
        }
        s
    }
}

impl LanguageDetector {
    /// `allowed`: ISO 639-1 codes (empty: every supported language);
    /// `default`: returned when evidence is too weak.
    pub fn new(allowed: &[&str], default: &str) -> Result<Self, NluError> {
        let mut list: Vec<&'static str> = Vec::new();
        if allowed.is_empty() {
            list = SUPPORTED_LANGUAGES.iter().map(|(c, _)| *c).collect();
        } else {
            for code in allowed {
                let entry = SUPPORTED_LANGUAGES
                    .iter()
                    .find(|(c, _)| c.eq_ignore_ascii_case(code))
                    .ok_or_else(|| NluError::Config(format!("unsupported language {code:?}")))?;
                list.push(entry.0);
            }
        }
        let langs: Vec<Lang> = list.iter().filter_map(|c| whatlang_code(c).and_then(Lang::from_code)).collect();
        Ok(Self {
            allowed: list,
            default: default.to_ascii_lowercase(),
            min_confidence: 0.1,
            detector: Detector::with_allowlist(langs),
        })
    }

    /// Confidence below which the default language is returned (default 0.1).
    pub fn with_min_confidence(mut self, min_confidence: f64) -> Self {
        self.min_confidence = min_confidence;
        self
    }

    fn allows(&self, code: &str) -> bool {
        self.allowed.contains(&code)
    }

    fn fallback(&self, confidence: f64) -> DetectedLanguage {
        DetectedLanguage { code: self.default.clone(), confidence, method: DetectionMethod::Fallback }
    }

    /// Detect the language of `text`.
    pub fn detect(&self, text: &str) -> DetectedLanguage {
        // URLs, addresses, numbers and codes say nothing about the language.
        // Accents stay: they are good evidence for the statistics.
        let opts = NormalizeOptions { strip_accents: false, ..NormalizeOptions::default() };
        let mut cleaned = normalize(text, &opts);
        for p in PLACEHOLDERS {
            cleaned = cleaned.replace(p, " ");
        }
        let counts = ScriptCounts::of(&cleaned);
        let letters = counts.latin
            + counts.kana
            + counts.han
            + counts.hangul
            + counts.thai
            + counts.arabic
            + counts.cyrillic
            + counts.greek
            + counts.hebrew
            + counts.devanagari;
        if letters == 0 {
            return self.fallback(0.0);
        }
        if let Some(d) = self.by_script(&counts, letters) {
            return d;
        }
        let words: Vec<&str> = cleaned.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let key = strip_latin_accents(&words.join(" "));
        if words.len() <= 3
            && let Some((_, code)) = LEXICON.iter().find(|(w, _)| *w == key)
            && self.allows(code)
        {
            return DetectedLanguage { code: (*code).to_owned(), confidence: 0.9, method: DetectionMethod::Lexicon };
        }
        match self.detector.detect(&cleaned) {
            Some(info) => {
                // whatlang is unreliable on a word or two: scale its confidence.
                let length_factor = (counts.latin as f64 / 20.0).min(1.0);
                let confidence = info.confidence() * (0.5 + 0.5 * length_factor);
                match iso1(info.lang()) {
                    Some(code) if confidence >= self.min_confidence => {
                        DetectedLanguage { code: code.to_owned(), confidence, method: DetectionMethod::Statistics }
                    }
                    _ => self.fallback(confidence),
                }
            }
            None => self.fallback(0.0),
        }
    }

    fn by_script(&self, c: &ScriptCounts, letters: usize) -> Option<DetectedLanguage> {
        // CJK characters carry about a word each: weigh them against Latin letters.
        let cjk = c.kana + c.han + c.hangul;
        let share = |n: usize, weight: usize| (n * weight) as f64 / (letters + n * (weight - 1)) as f64;
        let pick = |code: &str, confidence: f64| -> Option<DetectedLanguage> {
            self.allows(code).then(|| DetectedLanguage {
                code: code.to_owned(),
                confidence: confidence.clamp(0.0, 1.0),
                method: DetectionMethod::Script,
            })
        };
        if cjk > 0 && share(cjk, 4) >= 0.4 {
            let conf = share(cjk, 4);
            if c.kana > 0
                && let Some(d) = pick("ja", conf)
            {
                return Some(d);
            }
            if c.hangul > 0
                && c.hangul >= c.han
                && let Some(d) = pick("ko", conf)
            {
                return Some(d);
            }
            if c.han > 0 {
                return pick("zh", conf).or_else(|| pick("ja", conf * 0.8));
            }
        }
        let single = [(c.thai, "th"), (c.greek, "el"), (c.hebrew, "he"), (c.devanagari, "hi"), (c.arabic, "ar")];
        for (n, code) in single {
            if n > 0 && n * 2 >= letters {
                return pick(code, n as f64 / letters as f64);
            }
        }
        if c.cyrillic > 0 && c.cyrillic * 2 >= letters {
            let cyrillic_allowed: Vec<&str> =
                self.allowed.iter().copied().filter(|l| ["ru", "uk"].contains(l)).collect();
            if cyrillic_allowed.len() == 1 {
                return pick(cyrillic_allowed[0], c.cyrillic as f64 / letters as f64);
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn det(allowed: &[&str]) -> LanguageDetector {
        LanguageDetector::new(allowed, "en").unwrap()
    }

    #[test]
    fn scripts_decide_cjk_and_others() {
        let d = det(&[]);
        assert_eq!(d.detect("我的订单在哪里？").code, "zh");
        assert_eq!(d.detect("注文はどこですか").code, "ja");
        assert_eq!(d.detect("주문 취소해 주세요").code, "ko");
        assert_eq!(d.detect("ยกเลิกคำสั่งซื้อ").code, "th");
        assert_eq!(d.detect("أين طلبي؟").code, "ar");
        assert_eq!(d.detect("iPhone 15 的手机壳有货吗").code, "zh");
        assert_eq!(d.detect("注文").method, DetectionMethod::Script);
    }

    #[test]
    fn european_sentences() {
        let d = det(&["en", "es", "pt", "fr", "de", "it", "nl", "ru", "tr", "pl"]);
        let cases = [
            ("Where is my order? It was supposed to arrive yesterday.", "en"),
            ("¿Dónde está mi pedido? Debía llegar ayer.", "es"),
            ("Onde está o meu pedido? Deveria ter chegado ontem.", "pt"),
            ("Où est ma commande ? Elle devait arriver hier.", "fr"),
            ("Wo ist meine Bestellung? Sie sollte gestern ankommen.", "de"),
            ("Dov'è il mio ordine? Doveva arrivare ieri.", "it"),
            ("Waar is mijn bestelling? Die zou gisteren aankomen.", "nl"),
            ("Где мой заказ? Он должен был прийти вчера.", "ru"),
            ("Siparişim nerede? Dün gelmesi gerekiyordu.", "tr"),
            ("Gdzie jest moje zamówienie? Miało przyjść wczoraj.", "pl"),
        ];
        for (text, code) in cases {
            assert_eq!(d.detect(text).code, code, "{text}");
        }
    }

    #[test]
    fn short_messages_use_the_lexicon_or_fall_back() {
        let d = det(&["en", "es", "fr", "de"]);
        assert_eq!(d.detect("Hola!").code, "es");
        assert_eq!(d.detect("merci beaucoup").code, "fr");
        assert_eq!(d.detect("Danke schön").code, "de");
        let r = d.detect("#1001 ???");
        assert_eq!((r.code.as_str(), r.method), ("en", DetectionMethod::Fallback));
        let r = d.detect("https://example.com/x");
        assert_eq!(r.method, DetectionMethod::Fallback);
        // Not in the lexicon and too short to be sure: a low confidence.
        let r = d.detect("ok");
        assert!(r.method == DetectionMethod::Fallback || r.confidence < 0.6);
    }

    #[test]
    fn restriction_and_bad_codes() {
        // Cyrillic with only Russian allowed is decided by script.
        let d = det(&["en", "ru"]);
        assert_eq!(d.detect("привет").code, "ru");
        // Chinese characters with only Japanese allowed.
        let d = det(&["en", "ja"]);
        assert_eq!(d.detect("配送状況").code, "ja");
        assert!(LanguageDetector::new(&["xx"], "en").is_err());
    }
}
