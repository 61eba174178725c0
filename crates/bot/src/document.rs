//! The bot's configuration per account: intents with examples and answer
//! templates per language, FAQ entries, and the shop's variables. Stored as
//! one JSON document with a version; edits go through [`BotDocument`]'s
//! methods so a document is always valid.

use crate::BotError;
use ferry_core::bot::{IntentRule, Slot};
use ferry_nlu::IntentPack;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Intents whose answers need the order number.
const ORDER_INTENTS: &[&str] = &[
    "order_status",
    "shipping_delay",
    "delivery_time",
    "cancel_order",
    "change_order",
    "change_address",
    "refund_status",
    "refund_request",
    "invoice",
];

/// Intents repeated freely (greetings, thanks).
const SMALL_TALK: &[&str] = &["greeting", "thanks"];

/// Longest name of an intent or FAQ id.
const MAX_NAME: usize = 64;
/// Longest example, question or answer.
const MAX_TEXT: usize = 2000;

/// One intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotIntent {
    /// Name (`a-z`, digits, `_`), unique.
    pub name: String,
    /// What it is about, for people.
    #[serde(default)]
    pub description: String,
    /// Language → example messages.
    #[serde(default)]
    pub examples: BTreeMap<String, Vec<String>>,
    /// Language → answer template (`{{contact.name}}`, `{{order.status}}`,
    /// `{{shop.name}}`, …). An intent without answers is recognised but
    /// handed off.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// The entity the answer needs; the bot asks for it first.
    #[serde(default)]
    pub requires: Option<Slot>,
    /// Greetings and thanks: repeating them is no sign of failure.
    #[serde(default)]
    pub small_talk: bool,
}

/// One FAQ entry in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotFaq {
    /// Id (`a-z`, digits, `_`, `-`), unique per language.
    pub id: String,
    /// Language of the questions and answer.
    pub language: String,
    /// Ways buyers ask it.
    pub questions: Vec<String>,
    /// The answer (a template, like intent answers).
    pub answer: String,
}

/// The bot's configuration for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotDocument {
    /// Languages the bot detects and answers in.
    pub languages: Vec<String>,
    /// Answer language when the buyer's is not among them.
    pub default_language: String,
    /// Intents.
    pub intents: Vec<BotIntent>,
    /// FAQ entries.
    #[serde(default)]
    pub faqs: Vec<BotFaq>,
    /// Shop variables for templates, e.g. `return_days` → `30`, used as
    /// `{{shop.return_days}}`. `name` defaults to the account's name.
    #[serde(default)]
    pub shop: BTreeMap<String, String>,
}

impl BotDocument {
    /// The document every account starts with: the default e-commerce pack.
    pub fn from_pack(pack: &IntentPack) -> Self {
        let intents = pack
            .intents
            .iter()
            .map(|i| BotIntent {
                name: i.name.clone(),
                description: i.description.clone(),
                examples: i.examples.clone(),
                answers: i.answers.clone(),
                requires: ORDER_INTENTS.contains(&i.name.as_str()).then_some(Slot::OrderNumber),
                small_talk: SMALL_TALK.contains(&i.name.as_str()),
            })
            .collect();
        let shop = [("return_days", "30")].into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Self {
            languages: pack.languages.clone(),
            default_language: pack.languages.first().cloned().unwrap_or_else(|| "en".to_owned()),
            intents,
            faqs: Vec::new(),
            shop,
        }
    }

    /// The embedded default document.
    pub fn default_pack() -> Result<Self, BotError> {
        Ok(Self::from_pack(&ferry_nlu::ecommerce_pack()?))
    }

    /// An intent by name.
    pub fn intent(&self, name: &str) -> Option<&BotIntent> {
        self.intents.iter().find(|i| i.name == name)
    }

    /// How the policy treats an intent.
    pub fn rule(&self, name: &str) -> IntentRule {
        self.intent(name)
            .map_or_else(IntentRule::default, |i| IntentRule { requires: i.requires, small_talk: i.small_talk })
    }

    /// Adds or replaces an intent.
    pub fn put_intent(&mut self, intent: BotIntent) -> Result<(), BotError> {
        check_intent(&intent, &self.languages)?;
        match self.intents.iter_mut().find(|i| i.name == intent.name) {
            Some(slot) => *slot = intent,
            None => self.intents.push(intent),
        }
        Ok(())
    }

    /// Removes an intent; false when there was none. The bot keeps at
    /// least two intents with examples.
    pub fn remove_intent(&mut self, name: &str) -> Result<bool, BotError> {
        let Some(pos) = self.intents.iter().position(|i| i.name == name) else {
            return Ok(false);
        };
        let removed = self.intents.remove(pos);
        if self.trainable_intents() < 2 {
            self.intents.insert(pos, removed);
            return Err(BotError::invalid("intents", "the bot needs at least two intents with examples"));
        }
        Ok(true)
    }

    /// Adds or replaces a FAQ entry (same id and language).
    pub fn put_faq(&mut self, faq: BotFaq) -> Result<(), BotError> {
        check_faq(&faq, &self.languages)?;
        match self.faqs.iter_mut().find(|f| f.id == faq.id && f.language == faq.language) {
            Some(slot) => *slot = faq,
            None => self.faqs.push(faq),
        }
        Ok(())
    }

    /// Removes a FAQ entry in every language; false when there was none.
    pub fn remove_faq(&mut self, id: &str) -> bool {
        let before = self.faqs.len();
        self.faqs.retain(|f| f.id != id);
        before != self.faqs.len()
    }

    fn trainable_intents(&self) -> usize {
        self.intents.iter().filter(|i| i.examples.values().any(|e| !e.is_empty())).count()
    }

    /// Checks the whole document.
    pub fn validate(&self) -> Result<(), BotError> {
        if self.languages.is_empty() {
            return Err(BotError::invalid("languages", "name at least one language"));
        }
        for l in &self.languages {
            check_language(l, "languages")?;
        }
        if !self.languages.contains(&self.default_language) {
            return Err(BotError::invalid("default_language", "the default language must be one of the languages"));
        }
        let mut names = std::collections::BTreeSet::new();
        for i in &self.intents {
            check_intent(i, &self.languages)?;
            if !names.insert(i.name.as_str()) {
                return Err(BotError::invalid("intents", format!("intent `{}` appears twice", i.name)));
            }
        }
        if self.trainable_intents() < 2 {
            return Err(BotError::invalid("intents", "the bot needs at least two intents with examples"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for f in &self.faqs {
            check_faq(f, &self.languages)?;
            if !ids.insert((f.id.as_str(), f.language.as_str())) {
                return Err(BotError::invalid("faqs", format!("FAQ `{}` appears twice in {}", f.id, f.language)));
            }
        }
        for (k, v) in &self.shop {
            check_name(k, "shop")?;
            if v.chars().count() > MAX_TEXT {
                return Err(BotError::invalid("shop", format!("shop.{k} is too long")));
            }
        }
        Ok(())
    }
}

fn check_name(name: &str, field: &'static str) -> Result<(), BotError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok { Ok(()) } else { Err(BotError::invalid(field, format!("`{name}` must be 1-64 of a-z, 0-9, _ and -"))) }
}

fn check_language(l: &str, field: &'static str) -> Result<(), BotError> {
    if (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(BotError::invalid(field, format!("`{l}` is not an ISO 639-1 language code")))
    }
}

fn check_text(t: &str, field: &'static str, what: &str) -> Result<(), BotError> {
    if t.trim().is_empty() {
        return Err(BotError::invalid(field, format!("{what} is empty")));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(BotError::invalid(field, format!("{what} is longer than {MAX_TEXT} characters")));
    }
    Ok(())
}

fn check_template(t: &str, field: &'static str) -> Result<(), BotError> {
    check_text(t, field, "an answer")?;
    crate::render::parse(t).map_err(|e| BotError::invalid(field, format!("the template does not parse: {e}")))
}

fn check_intent(i: &BotIntent, languages: &[String]) -> Result<(), BotError> {
    check_name(&i.name, "name")?;
    if i.name.contains('-') {
        return Err(BotError::invalid("name", "intent names use _ rather than -"));
    }
    for (lang, examples) in &i.examples {
        check_language(lang, "examples")?;
        if !languages.contains(lang) {
            return Err(BotError::invalid("examples", format!("{lang} is not one of the bot's languages")));
        }
        for e in examples {
            check_text(e, "examples", "an example")?;
        }
    }
    for (lang, answer) in &i.answers {
        if !languages.contains(lang) {
            return Err(BotError::invalid("answers", format!("{lang} is not one of the bot's languages")));
        }
        check_template(answer, "answers")?;
    }
    Ok(())
}

fn check_faq(f: &BotFaq, languages: &[String]) -> Result<(), BotError> {
    check_name(&f.id, "id")?;
    if !languages.contains(&f.language) {
        return Err(BotError::invalid("language", format!("{} is not one of the bot's languages", f.language)));
    }
    if f.questions.is_empty() {
        return Err(BotError::invalid("questions", "give at least one question"));
    }
    for q in &f.questions {
        check_text(q, "questions", "a question")?;
    }
    check_template(&f.answer, "answer")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_default_document_is_valid_and_marks_order_intents() {
        let doc = BotDocument::default_pack().unwrap();
        doc.validate().unwrap();
        assert_eq!(doc.rule("order_status").requires, Some(Slot::OrderNumber));
        assert!(doc.rule("greeting").small_talk);
        assert_eq!(doc.rule("nope"), IntentRule::default());
    }

    #[test]
    fn edits_are_checked() {
        let mut doc = BotDocument::default_pack().unwrap();
        let mut bad = doc.intent("greeting").unwrap().clone();
        bad.name = "Bad Name".into();
        assert!(doc.put_intent(bad).is_err());
        let mut bad = doc.intent("greeting").unwrap().clone();
        bad.answers.insert("en".into(), "Hi {{ contact.name ".into());
        assert!(doc.put_intent(bad).unwrap_err().to_string().contains("does not parse"));
        let mut bad = doc.intent("greeting").unwrap().clone();
        bad.examples.insert("xx".into(), vec!["hi".into()]);
        assert!(doc.put_intent(bad).is_err());
        let faq = BotFaq {
            id: "warranty".into(),
            language: "en".into(),
            questions: vec!["how long is the warranty".into()],
            answer: "Two years.".into(),
        };
        doc.put_faq(faq.clone()).unwrap();
        doc.put_faq(BotFaq { answer: "24 months.".into(), ..faq }).unwrap();
        assert_eq!(doc.faqs.len(), 1);
        assert!(doc.remove_faq("warranty"));
        assert!(!doc.remove_faq("warranty"));
        doc.validate().unwrap();
    }

    #[test]
    fn the_bot_keeps_two_intents() {
        let mut doc = BotDocument::default_pack().unwrap();
        let names: Vec<String> = doc.intents.iter().map(|i| i.name.clone()).collect();
        let mut removed = 0;
        for n in &names {
            if doc.remove_intent(n).is_ok() {
                removed += 1;
            }
        }
        assert_eq!(removed, names.len() - 2);
        doc.validate().unwrap();
    }
}
