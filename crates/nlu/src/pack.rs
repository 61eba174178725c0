//! Intent packs: a named set of intents with example messages per language
//! and answer templates per language (minijinja syntax, e.g.
//! `{{order.status}}`, `{{order.tracking_url}}`, `{{contact.name}}`). The
//! default e-commerce pack is embedded in the binary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classifier::{IntentModel, TrainConfig};
use crate::dataset::Example;
use crate::error::NluError;

const ECOMMERCE_PACK: &str = include_str!("../packs/ecommerce/pack.json");

/// One intent of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackIntent {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Language code → example messages.
    pub examples: BTreeMap<String, Vec<String>>,
    /// Language code → answer template.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

/// A set of intents with examples and answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentPack {
    pub name: String,
    pub version: u32,
    pub languages: Vec<String>,
    #[serde(default)]
    pub source: String,
    pub intents: Vec<PackIntent>,
}

/// The embedded default e-commerce pack.
pub fn ecommerce_pack() -> Result<IntentPack, NluError> {
    IntentPack::from_json(ECOMMERCE_PACK)
}

impl IntentPack {
    /// Parse a pack from JSON.
    pub fn from_json(json: &str) -> Result<Self, NluError> {
        let pack: Self = serde_json::from_str(json).map_err(|e| NluError::parse("intent pack", e))?;
        if pack.intents.len() < 2 {
            return Err(NluError::parse("intent pack", "a pack needs at least two intents"));
        }
        Ok(pack)
    }

    /// Intent names in pack order.
    pub fn intent_names(&self) -> Vec<&str> {
        self.intents.iter().map(|i| i.name.as_str()).collect()
    }

    /// Every example, labelled with its intent and language.
    pub fn examples(&self) -> Vec<Example> {
        self.examples_for(&[])
    }

    /// Examples in the given languages only (all when `langs` is empty).
    pub fn examples_for(&self, langs: &[&str]) -> Vec<Example> {
        let mut out = Vec::new();
        for intent in &self.intents {
            for (lang, texts) in &intent.examples {
                if !langs.is_empty() && !langs.contains(&lang.as_str()) {
                    continue;
                }
                out.extend(texts.iter().map(|t| Example {
                    text: t.clone(),
                    label: intent.name.clone(),
                    lang: Some(lang.clone()),
                }));
            }
        }
        out
    }

    /// Answer template for `intent` in `lang`, else in English, else any.
    pub fn answer(&self, intent: &str, lang: &str) -> Option<&str> {
        let i = self.intents.iter().find(|i| i.name == intent)?;
        i.answers.get(lang).or_else(|| i.answers.get("en")).or_else(|| i.answers.values().next()).map(String::as_str)
    }

    /// Train a classifier on the whole pack.
    pub fn train(&self, config: &TrainConfig) -> Result<IntentModel, NluError> {
        IntentModel::train(&self.examples(), config)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn embedded_pack_is_complete() {
        let pack = ecommerce_pack().unwrap();
        assert!(pack.intents.len() >= 18);
        for required in [
            "order_status",
            "cancel_order",
            "change_order",
            "change_address",
            "delivery_time",
            "shipping_delay",
            "refund_status",
            "return_policy",
            "exchange",
            "payment_problem",
            "invoice",
            "account",
            "product_availability",
            "human_agent",
            "complaint",
            "greeting",
            "thanks",
        ] {
            assert!(pack.intent_names().contains(&required), "{required}");
        }
        for intent in &pack.intents {
            for lang in &pack.languages {
                assert!(
                    intent.examples.get(lang).is_some_and(|e| !e.is_empty()),
                    "{} has no {lang} examples",
                    intent.name
                );
                let answer = intent.answers.get(lang).unwrap();
                // Templates are balanced and use dotted variable names.
                assert_eq!(answer.matches("{{").count(), answer.matches("}}").count(), "{answer}");
                for var in answer.split("{{").skip(1) {
                    let name = var.split("}}").next().unwrap().trim();
                    assert!(
                        name.contains('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'),
                        "{name}"
                    );
                }
            }
        }
        assert!(pack.examples().len() > 500);
        assert_eq!(pack.answer("greeting", "xx"), pack.answer("greeting", "en"));
        assert!(pack.answer("order_status", "ja").unwrap().contains("{{order.tracking_url}}"));
        assert!(pack.answer("nope", "en").is_none());
    }

    #[test]
    fn pack_trains_a_multilingual_classifier() {
        let pack = ecommerce_pack().unwrap();
        let model = pack.train(&TrainConfig::default()).unwrap();
        // Messages that are not in the pack.
        let cases = [
            ("hey, where's my parcel? order #4411", "order_status"),
            ("please cancel order 5521, I changed my mind", "cancel_order"),
            ("I'd like to speak with a real human please", "human_agent"),
            ("¿Dónde está mi pedido 4411?", "order_status"),
            ("quiero cancelar la compra que hice ayer", "cancel_order"),
            ("Je voudrais annuler ma commande d'hier", "cancel_order"),
            ("Ich habe mein Passwort vergessen und komme nicht rein", "account"),
            ("我想退货，怎么操作", "return_policy"),
            ("这个有现货吗", "product_availability"),
            ("注文をキャンセルできますか", "cancel_order"),
            ("muito obrigado pela ajuda!", "thanks"),
            ("buongiorno!", "greeting"),
        ];
        let mut wrong = Vec::new();
        for (text, want) in cases {
            let p = model.predict(text);
            if p.label != want {
                wrong.push(format!("{text} -> {} ({:.2})", p.label, p.confidence));
            }
        }
        assert!(wrong.len() <= 1, "{wrong:#?}");
    }

    #[test]
    fn bad_pack_json_is_rejected() {
        assert!(IntentPack::from_json("{}").is_err());
        assert!(IntentPack::from_json(r#"{"name":"x","version":1,"languages":[],"intents":[]}"#).is_err());
    }
}
