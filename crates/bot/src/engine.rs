//! The trained bot of one account: understands a message, decides with the
//! policy of `ferry-core`, and renders the answer in the buyer's language.

use crate::document::BotDocument;
use crate::render::{RenderError, render};
use crate::{BotError, texts};
use ferry_core::bot::{
    BotState, Decision, FaqGuess, HUMAN_INTENT, HandoffReason, IntentGuess, Policy, Slot, Understanding, decide,
};
use ferry_core::message::Button;
use ferry_nlu::{
    EntityConfig, EntityExtractor, EntityValue, Example, FaqEntry, FaqIndex, IntentModel, LanguageDetector,
    TrainConfig, lang::DetectionMethod,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The first run of exactly six digits in `text`.
pub fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).map(str::to_owned)
}

/// Words of prose in `text`: e-mail addresses, links, numbers and codes
/// (anything with a digit, `@`, `/` or `.` inside) say nothing about the
/// language and are not counted. CJK characters count a word each.
fn prose_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| !w.contains('@') && !w.contains("://") && !w.chars().any(|c| c.is_ascii_digit()))
        .map(|w| {
            let cjk = w
                .chars()
                .filter(|c| ('\u{3040}'..='\u{9fff}').contains(c) || ('\u{ac00}'..='\u{d7af}').contains(c))
                .count();
            if cjk > 0 { cjk } else { usize::from(w.chars().any(char::is_alphabetic)) }
        })
        .sum()
}

/// The intent answering where an order is.
const ORDER_STATUS_INTENT: &str = "order_status";

/// Words that may surround an order number without making a request of it.
const ORDER_WORDS: &[&str] = &[
    "order",
    "my",
    "the",
    "number",
    "no",
    "nr",
    "num",
    "id",
    "is",
    "it",
    "s",
    "pedido",
    "mi",
    "el",
    "es",
    "numero",
    "número",
    "commande",
    "ma",
    "mon",
    "la",
    "est",
    "c",
    "bestellung",
    "meine",
    "nummer",
    "ist",
    "ordine",
    "il",
    "mio",
    "è",
    "encomenda",
    "meu",
    "minha",
    "o",
    "a",
    "é",
];
/// The same for scripts written without spaces.
const ORDER_WORDS_CJK: &[&str] = &[
    "我的",
    "订单",
    "訂單",
    "号码",
    "号",
    "號",
    "是",
    "为",
    "注文",
    "番号",
    "は",
    "です",
    "주문",
    "번호",
    "는",
    "입니다",
];

/// The intent of complaints: confident complaints are handed to a person.
pub const COMPLAINT_INTENT: &str = "complaint";

/// What the bot gets to work with for one message.
#[derive(Debug, Clone, Copy)]
pub struct TurnInput<'a> {
    /// The buyer's text.
    pub text: &'a str,
    /// The contact's language (or the conversation's as first stored),
    /// used when the text is too short to tell. The language the bot has
    /// already answered in (`state.language`) weighs more: it stays until
    /// the buyer clearly writes in another.
    pub language_hint: Option<&'a str>,
    /// What the bot remembers of the conversation.
    pub state: &'a BotState,
    /// The inbox's settings.
    pub policy: &'a Policy,
    /// The contact is a VIP.
    pub vip: bool,
}

/// The bot's reading of a message and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Turn {
    /// What the NLU understood.
    pub understanding: Understanding,
    /// What to do.
    pub decision: Decision,
    /// The bot state after this message.
    pub state: BotState,
    /// Index of the matching FAQ entry in the document, if any.
    #[serde(skip)]
    pub faq_entry: Option<usize>,
}

/// What the bot sends or does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Send this to the buyer; the bot keeps the conversation.
    Reply {
        /// The text.
        text: String,
        /// Quick-reply buttons.
        buttons: Vec<Button>,
    },
    /// Tell the buyer `message` and pass the conversation to people.
    HandOff {
        /// Why, for the agent.
        reason: HandoffReason,
        /// What the buyer is told.
        message: String,
    },
}

/// The facts answers may use.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The contact's name (may be empty).
    pub contact_name: String,
    /// The shop's name (the account's).
    pub shop_name: String,
    /// The order the conversation is about, as JSON (`number`, `status`,
    /// `tracking_url`, `estimated_delivery`, …), when the shop mirror has it.
    pub order: Option<Value>,
}

/// A trained bot.
#[derive(Debug)]
pub struct Engine {
    doc: BotDocument,
    model: IntentModel,
    faq: Option<FaqIndex>,
    entities: EntityExtractor,
    detector: LanguageDetector,
    vocabulary: Vocabulary,
}

/// Word counts per language from the document's examples: a naive Bayes
/// language guess for messages too short for the general detector, which
/// knows the shop's own words ("pedido", "Bestellung", "注文").
#[derive(Debug, Default)]
struct Vocabulary {
    counts: std::collections::HashMap<String, Vec<f32>>,
    totals: Vec<f32>,
    languages: Vec<String>,
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
}

impl Vocabulary {
    fn new(doc: &BotDocument) -> Self {
        let languages = doc.languages.clone();
        let mut v = Self { counts: Default::default(), totals: vec![0.0; languages.len()], languages };
        for intent in &doc.intents {
            for (lang, examples) in &intent.examples {
                let Some(l) = v.languages.iter().position(|x| x == lang) else { continue };
                for w in examples.iter().flat_map(|e| words(e)) {
                    v.counts.entry(w).or_insert_with(|| vec![0.0; v.languages.len()])[l] += 1.0;
                    v.totals[l] += 1.0;
                }
            }
        }
        v
    }

    /// The most likely language when at least two known words decide it.
    fn guess(&self, text: &str) -> Option<&str> {
        let vocab = self.counts.len() as f32;
        let mut scores = vec![0.0f32; self.languages.len()];
        let mut known = 0;
        for w in words(text) {
            let Some(c) = self.counts.get(&w) else { continue };
            known += 1;
            for (l, s) in scores.iter_mut().enumerate() {
                *s += ((c[l] + 0.1) / (self.totals[l] + 0.1 * vocab)).ln();
            }
        }
        if known < 2 {
            return None;
        }
        let best = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?.0;
        Some(self.languages[best].as_str())
    }
}

impl Engine {
    /// Trains the bot of `doc` (seconds for thousands of examples).
    pub fn build(doc: BotDocument) -> Result<Self, BotError> {
        doc.validate()?;
        let examples: Vec<Example> = doc
            .intents
            .iter()
            .flat_map(|i| {
                i.examples.iter().flat_map(move |(lang, texts)| {
                    texts.iter().map(move |t| Example {
                        text: t.clone(),
                        label: i.name.clone(),
                        lang: Some(lang.clone()),
                    })
                })
            })
            .collect();
        let model = IntentModel::train(&examples, &TrainConfig::default())?;
        let faq = (!doc.faqs.is_empty()).then(|| {
            FaqIndex::new(
                doc.faqs
                    .iter()
                    .enumerate()
                    .map(|(n, f)| FaqEntry {
                        id: n.to_string(),
                        questions: f.questions.clone(),
                        answer: f.answer.clone(),
                        lang: Some(f.language.clone()),
                    })
                    .collect(),
            )
        });
        let entities = EntityExtractor::new(&EntityConfig::default())?;
        let supported: Vec<&str> = doc
            .languages
            .iter()
            .map(String::as_str)
            .filter(|l| ferry_nlu::lang::SUPPORTED_LANGUAGES.iter().any(|(c, _)| c == l))
            .collect();
        let detector = LanguageDetector::new(&supported, &doc.default_language)?;
        let vocabulary = Vocabulary::new(&doc);
        Ok(Self { doc, model, faq, entities, detector, vocabulary })
    }

    /// The document it was trained from.
    pub fn document(&self) -> &BotDocument {
        &self.doc
    }

    /// The intent classifier it was trained into.
    pub fn model(&self) -> &IntentModel {
        &self.model
    }

    /// The FAQ index, when the document has entries.
    pub fn faq(&self) -> Option<&FaqIndex> {
        self.faq.as_ref()
    }

    /// The language to answer `text` in. `conversation` is the language
    /// the conversation is already held in: it stays unless the message
    /// clearly says otherwise (a sentence in another language, or another
    /// script), so an e-mail address, an order number or a short "ok" never
    /// switches it. `hint` (the contact's or browser's language) only
    /// decides when the text cannot.
    fn language(&self, text: &str, conversation: Option<&str>, hint: Option<&str>) -> String {
        let known = |l: &str| {
            let l = l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase();
            self.doc.languages.contains(&l).then_some(l)
        };
        let conversation = conversation.and_then(known);
        let hint = hint.and_then(known);
        let detected = self.detector.detect(text);
        let detected_ok = self.doc.languages.contains(&detected.code);
        let words = prose_words(text);
        let clear = detected_ok
            && match detected.method {
                DetectionMethod::Script => true,
                DetectionMethod::Lexicon => words >= 1,
                DetectionMethod::Statistics => words >= 3 && detected.confidence >= 0.5,
                DetectionMethod::Fallback => false,
            };
        if let Some(c) = conversation {
            // A greeting or thanks in another language is not enough to
            // switch a conversation already under way.
            let switch = clear && detected.method != DetectionMethod::Lexicon;
            return if switch { detected.code } else { c };
        }
        if clear {
            return detected.code;
        }
        let unsure = detected.method == DetectionMethod::Fallback
            || (detected.method == DetectionMethod::Statistics && detected.confidence < 0.5);
        if unsure && let Some(l) = self.vocabulary.guess(text) {
            return l.to_owned();
        }
        match (detected.method, hint) {
            (DetectionMethod::Fallback, Some(h)) => h,
            // A word or two of statistics is weaker than what the contact
            // said about themselves.
            (DetectionMethod::Statistics, Some(h)) if words < 3 => h,
            _ if detected_ok => detected.code,
            (_, Some(h)) => h,
            _ => self.doc.default_language.clone(),
        }
    }

    /// What the NLU makes of `text`.
    /// `conversation` is the language the conversation is held in, `hint`
    /// the contact's (see [`TurnInput`]).
    pub fn understand(
        &self,
        text: &str,
        conversation: Option<&str>,
        hint: Option<&str>,
        threshold: f32,
    ) -> (Understanding, Option<usize>) {
        let language = self.language(text, conversation, hint);
        let p = self.model.predict(text);
        let guess = IntentGuess { name: p.label.clone(), confidence: p.confidence };
        let intent = (!p.out_of_scope).then(|| guess.clone());
        let mut faq_entry = None;
        let faq = self.faq.as_ref().and_then(|index| {
            let hit = index.search(text, 1).into_iter().next()?;
            let n: usize = hit.id.parse().ok()?;
            faq_entry = Some(n);
            Some(FaqGuess { id: self.doc.faqs.get(n)?.id.clone(), score: hit.score })
        });
        let mut slots = std::collections::BTreeMap::new();
        for e in self.entities.extract(text) {
            let (slot, value) = match e.value {
                EntityValue::OrderNumber { number } => (Slot::OrderNumber, number),
                EntityValue::TrackingNumber { number, .. } => (Slot::TrackingNumber, number),
                EntityValue::Email { address } => (Slot::Email, address),
                EntityValue::Phone { e164 } => (Slot::Phone, e164),
                _ => continue,
            };
            slots.entry(slot).or_insert(value);
        }
        // A bare number answering "what is your order number?".
        let bare = text.trim().trim_start_matches('#').trim();
        if (3..=24).contains(&bare.len())
            && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && bare.chars().any(|c| c.is_ascii_digit())
        {
            slots.entry(Slot::OrderNumber).or_insert_with(|| bare.to_owned());
        }
        let complaint = intent.as_ref().is_some_and(|i| i.name == COMPLAINT_INTENT && i.confidence >= threshold);
        let understanding = Understanding {
            language,
            asks_for_human: texts::asks_for_human(text),
            negative: complaint || texts::sounds_angry(text),
            intent,
            best_guess: Some(guess),
            faq,
            slots,
        };
        (understanding, faq_entry)
    }

    /// Understands `input.text` and decides what to do.
    pub fn turn(&self, input: TurnInput<'_>) -> Turn {
        let (mut understanding, faq_entry) =
            self.understand(input.text, input.state.language.as_deref(), input.language_hint, input.policy.threshold);
        // While a one-time code is awaited, six digits are the code, not an
        // order number.
        if input.state.awaiting.as_ref().is_some_and(|a| a.slot == Slot::VerificationCode)
            && let Some(code) = six_digits(input.text)
        {
            if understanding.slots.get(&Slot::OrderNumber) == Some(&code) {
                understanding.slots.remove(&Slot::OrderNumber);
            }
            understanding.slots.insert(Slot::VerificationCode, code);
        }
        // "order #1005" alone is a reference, not a request: it answers the
        // question waiting, or asks after the order (never "change order",
        // which the word "order" alone may suggest to the model).
        if self.only_an_order_reference(input.text) {
            if input.state.awaiting.is_some() {
                understanding.intent = None;
            } else if self.doc.intent(ORDER_STATUS_INTENT).is_some() {
                understanding.intent = Some(IntentGuess { name: ORDER_STATUS_INTENT.to_owned(), confidence: 1.0 });
            }
        }
        let (decision, state) = decide(input.policy, &understanding, |n| self.doc.rule(n), input.state, input.vip);
        Turn { understanding, decision, state, faq_entry }
    }

    /// Whether `text` is an order number with at most the words that
    /// introduce one ("order", "mi pedido es", "订单号是", …).
    fn only_an_order_reference(&self, text: &str) -> bool {
        let entities = self.entities.extract(text);
        let Some(order) = entities.iter().find(|e| matches!(e.value, EntityValue::OrderNumber { .. })) else {
            return false;
        };
        let mut rest = format!("{} {}", &text[..order.start], &text[order.end..]).to_lowercase();
        for w in ORDER_WORDS_CJK {
            rest = rest.replace(w, " ");
        }
        rest.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).all(|w| ORDER_WORDS.contains(&w))
    }

    /// The variables templates see.
    pub fn variables(&self, turn: &Turn, facts: &Facts) -> Value {
        let mut shop: serde_json::Map<String, Value> =
            self.doc.shop.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        if !facts.shop_name.is_empty() {
            shop.entry("name").or_insert_with(|| Value::String(facts.shop_name.clone()));
        }
        let mut order = match &facts.order {
            Some(Value::Object(o)) => o.clone(),
            _ => serde_json::Map::new(),
        };
        if let Some(n) = turn.state.slots.get(&Slot::OrderNumber) {
            order.entry("number").or_insert_with(|| Value::String(n.clone()));
        }
        json!({ "contact": { "name": facts.contact_name }, "shop": shop, "order": order })
    }

    /// Renders what the bot sends for `turn`.
    pub fn respond(&self, turn: &Turn, facts: &Facts) -> Outcome {
        let lang = turn.understanding.language.as_str();
        let vars = self.variables(turn, facts);
        match &turn.decision {
            Decision::Answer { intent } => {
                let template = self
                    .doc
                    .intent(intent)
                    .and_then(|i| i.answers.get(lang).or_else(|| i.answers.get(&self.doc.default_language)));
                let Some(template) = template else {
                    return self.hand_off(
                        turn,
                        HandoffReason::MissingData { intent: intent.clone(), variable: format!("an answer in {lang}") },
                        &vars,
                    );
                };
                match render(template, &vars) {
                    Ok(text) => Outcome::Reply { text, buttons: Vec::new() },
                    Err(RenderError::Missing(variable)) => {
                        // A known order that has not shipped has no tracking
                        // link yet; without the order, the general answer.
                        let fallback = if facts.order.is_some() && intent == "order_status" {
                            Some(texts::order_status_unshipped(lang))
                        } else if facts.order.is_none() {
                            texts::fallback(intent, lang)
                        } else {
                            None
                        };
                        match fallback.map(|f| render(f, &vars)) {
                            Some(Ok(text)) => Outcome::Reply { text, buttons: Vec::new() },
                            _ => self.hand_off(
                                turn,
                                HandoffReason::MissingData { intent: intent.clone(), variable },
                                &vars,
                            ),
                        }
                    }
                    Err(RenderError::Broken(e)) => self.hand_off(
                        turn,
                        HandoffReason::MissingData {
                            intent: intent.clone(),
                            variable: format!("a working template ({e})"),
                        },
                        &vars,
                    ),
                }
            }
            Decision::AnswerFaq { id } => {
                let entry = self
                    .doc
                    .faqs
                    .iter()
                    .find(|f| &f.id == id && f.language == lang)
                    .or_else(|| turn.faq_entry.and_then(|n| self.doc.faqs.get(n)));
                let rendered = entry.map(|f| render(&f.answer, &vars));
                match rendered {
                    Some(Ok(text)) => Outcome::Reply { text, buttons: Vec::new() },
                    Some(Err(RenderError::Missing(variable))) => {
                        self.hand_off(turn, HandoffReason::MissingData { intent: format!("faq:{id}"), variable }, &vars)
                    }
                    _ => self.hand_off(
                        turn,
                        HandoffReason::MissingData { intent: format!("faq:{id}"), variable: "its answer".into() },
                        &vars,
                    ),
                }
            }
            Decision::Ask { slot, .. } => {
                let text = crate::render::render_or_raw(texts::ask(*slot, lang), &vars);
                let buttons = vec![Button {
                    title: texts::human_button(lang).to_owned(),
                    payload: texts::HUMAN_PAYLOAD.to_owned(),
                }];
                Outcome::Reply { text, buttons }
            }
            Decision::HandOff { reason } => self.hand_off(turn, reason.clone(), &vars),
        }
    }

    fn hand_off(&self, turn: &Turn, reason: HandoffReason, vars: &Value) -> Outcome {
        let lang = turn.understanding.language.as_str();
        // Buyers asking for a person or complaining get the intent's own
        // words when the document has them.
        let own = match &reason {
            HandoffReason::BuyerAsked => Some(HUMAN_INTENT),
            HandoffReason::Negative
                if turn.understanding.intent.as_ref().is_some_and(|i| i.name == COMPLAINT_INTENT) =>
            {
                Some(COMPLAINT_INTENT)
            }
            _ => None,
        };
        let message = own
            .and_then(|name| self.doc.intent(name))
            .and_then(|i| i.answers.get(lang))
            .and_then(|t| render(t, vars).ok())
            .unwrap_or_else(|| texts::handoff(lang).to_owned());
        Outcome::HandOff { reason, message }
    }

    /// The activity line written when the bot hands off.
    pub fn handoff_note(turn: &Turn, reason: &HandoffReason) -> String {
        let u = &turn.understanding;
        let intent = match u.intent.as_ref().or(u.best_guess.as_ref()) {
            Some(i) => format!("{} ({:.2})", i.name, i.confidence),
            None => "none".to_owned(),
        };
        format!("Bot handed off: {reason}. Intent: {intent}; language: {}.", u.language)
    }
}
