//! Property tests: normalisation, tokenisation, feature extraction, entity
//! extraction, language detection and FAQ search accept any string.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use ferry_nlu::features::{FeatureConfig, raw_features};
use ferry_nlu::normalize::{EmojiMode, NormalizeOptions, normalize};
use ferry_nlu::tokenize::{terms, tokenize};
use ferry_nlu::{
    EntityConfig, EntityExtractor, FaqEntry, FaqIndex, IntentModel, LanguageDetector, TrainConfig, ecommerce_pack,
};
use proptest::prelude::*;

fn extractor() -> &'static EntityExtractor {
    static X: OnceLock<EntityExtractor> = OnceLock::new();
    X.get_or_init(|| EntityExtractor::new(&EntityConfig::default()).unwrap())
}

fn model() -> &'static IntentModel {
    static M: OnceLock<IntentModel> = OnceLock::new();
    M.get_or_init(|| {
        let pack = ecommerce_pack().unwrap();
        let cfg = TrainConfig { calibrate: false, ..TrainConfig::default() };
        IntentModel::train(&pack.examples_for(&["en", "zh"]), &cfg).unwrap()
    })
}

/// Strings mixing scripts, digits, punctuation, emoji and odd code points.
fn messy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 #@.:/_+()$€¥-]{0,60}",
        "[\\p{Han}\\p{Hiragana}\\p{Katakana}\\p{Thai}\\p{Arabic}\\p{Hangul} 0-9]{0,40}",
        "[\\u{1F300}-\\u{1F6FF}\\u{200D}\\u{FE0F}\\u{0300}-\\u{036F}a-zé ]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn normalisation_is_total_and_idempotent(s in messy(), accents in any::<bool>(), emoji in 0u8..3) {
        let opts = NormalizeOptions {
            strip_accents: accents,
            emoji: match emoji { 0 => EmojiMode::Keep, 1 => EmojiMode::Placeholder, _ => EmojiMode::Remove },
            ..NormalizeOptions::default()
        };
        let once = normalize(&s, &opts);
        let twice = normalize(&once, &opts);
        // Placeholders are stable, so normalising twice changes nothing but spacing.
        prop_assert_eq!(
            once.split_whitespace().collect::<Vec<_>>(),
            twice.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn tokens_are_spans_of_the_text(s in messy()) {
        let n = normalize(&s, &NormalizeOptions::default());
        let mut last = 0;
        for t in tokenize(&n) {
            prop_assert_eq!(&n[t.start..t.end], t.text);
            prop_assert!(t.start >= last && t.end > t.start);
            last = t.end;
        }
        let _ = terms(&n);
    }

    #[test]
    fn features_entities_language_and_prediction_never_panic(s in messy()) {
        let mut out = Vec::new();
        raw_features(&s, &FeatureConfig::default(), &mut out);
        for e in extractor().extract(&s) {
            prop_assert_eq!(&s[e.start..e.end], e.text.as_str());
        }
        let d = LanguageDetector::new(&[], "en").unwrap().detect(&s);
        prop_assert!((0.0..=1.0).contains(&d.confidence));
        let p = model().predict(&s);
        prop_assert!(p.confidence.is_finite() && (0.0..=1.0 + 1e-5).contains(&p.confidence));
    }

    #[test]
    fn faq_search_is_total(q in messy()) {
        let idx = FaqIndex::new(vec![FaqEntry {
            id: "a".into(),
            questions: vec!["where is my order".into(), "订单在哪里".into()],
            answer: "x".into(),
            lang: None,
        }]);
        for h in idx.search(&q, 3) {
            prop_assert!(h.score.is_finite() && h.score >= 0.0);
        }
    }
}

#[test]
fn removing_a_variation_selector_then_composing_is_stable() {
    for emoji in [EmojiMode::Keep, EmojiMode::Placeholder, EmojiMode::Remove] {
        let opts = NormalizeOptions { emoji, ..NormalizeOptions::default() };
        let once = normalize("h\u{fe0f}\u{344}", &opts);
        assert_eq!(
            normalize(&once, &opts).split_whitespace().collect::<Vec<_>>(),
            once.split_whitespace().collect::<Vec<_>>()
        );
    }
}
