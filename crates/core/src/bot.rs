//! The bot's decision policy: for one buyer message in a conversation the
//! bot holds, answer it, ask for what is missing, or hand it to a person.
//!
//! The policy is a pure function of what the NLU understood, the
//! conversation's bot state and the inbox's settings, so every rule can be
//! tested directly. The rules, in order:
//!
//! 1. the buyer asks for a person → hand off at once;
//! 2. a VIP contact (when the inbox says so) → hand off;
//! 3. anger or a complaint → hand off;
//! 4. the bot was waiting for an entity (an order number) and got it →
//!    answer the intent it was asked for; no entity and nothing new →
//!    ask again, and hand off after `max_asks` tries;
//! 5. a confident match of the shop's FAQ → answer it, unless the intent is
//!    small talk or needs the buyer's data (an order question);
//! 6. a confident intent (confidence ≥ the inbox's threshold) → answer it,
//!    or ask for the entity it needs; the same intent or FAQ entry coming
//!    back after `max_repeats` answers means the answers did not help →
//!    hand off;
//! 7. anything else → hand off, saying how unsure the bot was.
//!
//! A conversation that has had `max_turns` bot answers is handed off too, so
//! the bot can never loop.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Something an answer needs from the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The shop's order number.
    OrderNumber,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A carrier tracking number.
    TrackingNumber,
    /// A one-time code sent to the buyer.
    VerificationCode,
}

impl Slot {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::OrderNumber => "order_number",
            Slot::Email => "email",
            Slot::Phone => "phone",
            Slot::TrackingNumber => "tracking_number",
            Slot::VerificationCode => "verification_code",
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inbox's bot settings the policy uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Policy {
    /// Intent confidence needed to answer (0–1).
    pub threshold: f32,
    /// FAQ score needed to answer with a FAQ entry (0–1).
    pub faq_threshold: f32,
    /// Answers of the same intent before its return means a hand-off.
    pub max_repeats: u32,
    /// Times the bot asks for a missing entity before handing off.
    pub max_asks: u32,
    /// Bot answers in one conversation before it hands off regardless.
    pub max_turns: u32,
    /// Hand VIP contacts to a person at once.
    pub handoff_vip: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self { threshold: 0.5, faq_threshold: 0.4, max_repeats: 1, max_asks: 2, max_turns: 12, handoff_vip: true }
    }
}

/// The best intent and how sure the classifier is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntentGuess {
    /// Intent name.
    pub name: String,
    /// Calibrated confidence (0–1).
    pub confidence: f32,
}

/// The best FAQ entry and its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaqGuess {
    /// Entry id.
    pub id: String,
    /// Score (0–1).
    pub score: f32,
}

/// What the NLU made of one message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Understanding {
    /// Language the bot answers in.
    pub language: String,
    /// Best intent; `None` when the classifier says out of scope.
    pub intent: Option<IntentGuess>,
    /// Best in-scope intent even when out of scope (for the reason).
    pub best_guess: Option<IntentGuess>,
    /// Best FAQ entry.
    pub faq: Option<FaqGuess>,
    /// Entities found, by slot (first value of each).
    pub slots: BTreeMap<Slot, String>,
    /// The buyer asks for a person.
    pub asks_for_human: bool,
    /// Anger, insults or a complaint.
    pub negative: bool,
}

/// What an intent needs and how it is treated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntentRule {
    /// The entity the answer needs.
    pub requires: Option<Slot>,
    /// Greetings and thanks: never counted as failing when repeated.
    pub small_talk: bool,
}

/// An entity the bot asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Awaiting {
    /// The intent waiting for it.
    pub intent: String,
    /// What was asked for.
    pub slot: Slot,
    /// How many times it was asked.
    pub asked: u32,
}

/// What the bot remembers about a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotState {
    /// The last buyer message handled (makes handling idempotent).
    #[serde(default)]
    pub last_message_id: Option<i64>,
    /// The entity the bot is waiting for.
    #[serde(default)]
    pub awaiting: Option<Awaiting>,
    /// Answers given, per intent (`faq:<id>` for FAQ entries).
    #[serde(default)]
    pub answered: BTreeMap<String, u32>,
    /// Entities the buyer gave in this conversation.
    #[serde(default)]
    pub slots: BTreeMap<Slot, String>,
    /// Bot answers in this conversation.
    #[serde(default)]
    pub turns: u32,
    /// Orders whose details this buyer has proved to own.
    #[serde(default)]
    pub verified_orders: Vec<String>,
    /// Failed identity checks in this conversation.
    #[serde(default)]
    pub verify_attempts: u32,
    /// The one-time code sent for an order, while it is pending.
    #[serde(default)]
    pub otp: Option<OneTimeCode>,
    /// Codes sent in this conversation (rate limit).
    #[serde(default)]
    pub otp_sent: u32,
    /// The language of the bot's last answer, for messages too short to
    /// tell (a code, a number).
    #[serde(default)]
    pub language: Option<String>,
}

/// A one-time code sent to the e-mail of an order. Only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OneTimeCode {
    /// The order it unlocks.
    pub order: String,
    /// SHA-256 (hex) of the salt and the code.
    pub hash: String,
    /// Random salt.
    pub salt: String,
    /// When it stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Wrong codes entered.
    pub attempts: u32,
    /// Where it went, masked (`a***@example.com`, `+34••••••678 by SMS`),
    /// for the agents' "verified by" line.
    #[serde(default)]
    pub sent_to: Option<String>,
}

/// Why the bot passed a conversation to people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandoffReason {
    /// The buyer asked for a person.
    BuyerAsked,
    /// The contact is a VIP.
    Vip,
    /// Anger, insults or a complaint.
    Negative,
    /// No intent was confident enough.
    LowConfidence {
        /// The best guess.
        best: Option<IntentGuess>,
        /// The inbox's threshold.
        threshold: f32,
    },
    /// The message is about something the bot does not know.
    OutOfScope {
        /// The best in-scope guess.
        best: Option<IntentGuess>,
    },
    /// The same intent came back after the bot had answered it.
    Repeated {
        /// The intent.
        intent: String,
    },
    /// The buyer did not give what the bot asked for.
    MissingSlot {
        /// What was asked.
        slot: Slot,
        /// For which intent.
        intent: String,
    },
    /// The answer needs data Ferry does not have (e.g. the order's status
    /// when no shop is connected, or a shop setting left empty).
    MissingData {
        /// The intent or FAQ entry.
        intent: String,
        /// The missing variable.
        variable: String,
    },
    /// The buyer could not prove to own the order.
    NotVerified {
        /// The order number.
        order: String,
    },
    /// The buyer sent something the bot cannot read (a picture, a file).
    NotText,
    /// The bot failed to handle the message.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// The bot answered many times already.
    TooManyTurns {
        /// Answers given.
        turns: u32,
    },
}

impl fmt::Display for HandoffReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoffReason::BuyerAsked => f.write_str("the buyer asked for a person"),
            HandoffReason::Vip => f.write_str("VIP contact"),
            HandoffReason::Negative => f.write_str("the buyer sounds upset"),
            HandoffReason::LowConfidence { best: Some(b), threshold } => write!(
                f,
                "not sure enough: best intent {} at {:.2}, below the inbox's threshold {:.2}",
                b.name, b.confidence, threshold
            ),
            HandoffReason::LowConfidence { best: None, threshold } => {
                write!(f, "no intent reached the inbox's threshold {threshold:.2}")
            }
            HandoffReason::OutOfScope { best: Some(b) } => {
                write!(f, "out of scope (closest intent {} at {:.2})", b.name, b.confidence)
            }
            HandoffReason::OutOfScope { best: None } => f.write_str("out of scope"),
            HandoffReason::Repeated { intent } => {
                write!(f, "the buyer came back to {intent} after the bot's answer")
            }
            HandoffReason::MissingSlot { slot, intent } => {
                write!(f, "no {} given for {intent} after asking", slot.as_str().replace('_', " "))
            }
            HandoffReason::MissingData { intent, variable } => {
                write!(f, "the answer to {intent} needs {variable}, which is not known")
            }
            HandoffReason::NotVerified { order } => {
                write!(f, "the buyer could not confirm owning order {order} (wrong e-mail address or code)")
            }
            HandoffReason::NotText => f.write_str("the buyer sent an attachment the bot cannot read"),
            HandoffReason::Failed { error } => write!(f, "the bot failed: {error}"),
            HandoffReason::TooManyTurns { turns } => write!(f, "the bot already answered {turns} times"),
        }
    }
}

/// What the bot does with a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Decision {
    /// Answer with the intent's template.
    Answer {
        /// The intent.
        intent: String,
    },
    /// Answer with a FAQ entry.
    AnswerFaq {
        /// The entry.
        id: String,
    },
    /// Ask the buyer for an entity the intent needs.
    Ask {
        /// The intent.
        intent: String,
        /// What to ask for.
        slot: Slot,
    },
    /// Pass the conversation to people.
    HandOff {
        /// Why.
        reason: HandoffReason,
    },
}

/// Decides what to do with a message and returns the bot state after it.
/// `rule` describes an intent by name.
pub fn decide(
    policy: &Policy,
    u: &Understanding,
    rule: impl Fn(&str) -> IntentRule,
    state: &BotState,
    vip: bool,
) -> (Decision, BotState) {
    let mut next = state.clone();
    let hand_off = |reason| Decision::HandOff { reason };
    if u.asks_for_human || u.intent.as_ref().is_some_and(|i| i.name == HUMAN_INTENT && i.confidence >= 0.3) {
        return (hand_off(HandoffReason::BuyerAsked), next);
    }
    if vip && policy.handoff_vip {
        return (hand_off(HandoffReason::Vip), next);
    }
    if u.negative {
        return (hand_off(HandoffReason::Negative), next);
    }
    if state.turns >= policy.max_turns {
        return (hand_off(HandoffReason::TooManyTurns { turns: state.turns }), next);
    }
    for (slot, value) in &u.slots {
        next.slots.insert(*slot, value.clone());
    }
    let confident = u.intent.as_ref().filter(|i| i.confidence >= policy.threshold);
    // Asks carry over when the buyer switches to another request that needs
    // the same kind of entity, so a run of questions stays bounded.
    let mut asked_before = 0;

    if let Some(waiting) = state.awaiting.clone() {
        // A new, complete request wins over the one waiting.
        let switches = confident.is_some_and(|i| i.name != waiting.intent && !rule(&i.name).small_talk);
        if !switches {
            if next.slots.contains_key(&waiting.slot) {
                next.awaiting = None;
                return answer(&mut next, waiting.intent);
            }
            if waiting.asked >= policy.max_asks {
                next.awaiting = None;
                return (hand_off(HandoffReason::MissingSlot { slot: waiting.slot, intent: waiting.intent }), next);
            }
            next.awaiting = Some(Awaiting { asked: waiting.asked + 1, ..waiting.clone() });
            return (Decision::Ask { intent: waiting.intent, slot: waiting.slot }, next);
        }
        next.awaiting = None;
        asked_before = waiting.asked;
    }

    // The shop's own FAQ entries are more specific than the general
    // intents, except those that need the buyer's data and small talk.
    let faq = u.faq.as_ref().filter(|f| f.score >= policy.faq_threshold);
    let intent_first = confident.is_some_and(|i| {
        let r = rule(&i.name);
        r.requires.is_some() || r.small_talk
    });
    if let Some(faq) = faq.filter(|_| !intent_first) {
        let key = format!("faq:{}", faq.id);
        if state.answered.get(&key).copied().unwrap_or(0) >= policy.max_repeats {
            return (hand_off(HandoffReason::Repeated { intent: key }), next);
        }
        *next.answered.entry(key).or_default() += 1;
        next.turns += 1;
        return (Decision::AnswerFaq { id: faq.id.clone() }, next);
    }

    if let Some(intent) = confident {
        let r = rule(&intent.name);
        if !r.small_talk && state.answered.get(&intent.name).copied().unwrap_or(0) >= policy.max_repeats {
            return (hand_off(HandoffReason::Repeated { intent: intent.name.clone() }), next);
        }
        if let Some(slot) = r.requires.filter(|s| !next.slots.contains_key(s)) {
            if asked_before >= policy.max_asks {
                return (hand_off(HandoffReason::MissingSlot { slot, intent: intent.name.clone() }), next);
            }
            next.awaiting = Some(Awaiting { intent: intent.name.clone(), slot, asked: asked_before + 1 });
            return (Decision::Ask { intent: intent.name.clone(), slot }, next);
        }
        return answer(&mut next, intent.name.clone());
    }

    let reason = match &u.intent {
        None => HandoffReason::OutOfScope { best: u.best_guess.clone() },
        Some(best) => HandoffReason::LowConfidence { best: Some(best.clone()), threshold: policy.threshold },
    };
    (hand_off(reason), next)
}

/// The intent of buyers asking for a person.
pub const HUMAN_INTENT: &str = "human_agent";

fn answer(next: &mut BotState, intent: String) -> (Decision, BotState) {
    *next.answered.entry(intent.clone()).or_default() += 1;
    next.turns += 1;
    (Decision::Answer { intent }, next.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(name: &str) -> IntentRule {
        match name {
            "order_status" | "cancel_order" => IntentRule { requires: Some(Slot::OrderNumber), small_talk: false },
            "greeting" | "thanks" => IntentRule { requires: None, small_talk: true },
            _ => IntentRule::default(),
        }
    }

    fn said(intent: &str, confidence: f32) -> Understanding {
        Understanding {
            language: "en".into(),
            intent: Some(IntentGuess { name: intent.into(), confidence }),
            ..Understanding::default()
        }
    }

    fn with_order(mut u: Understanding, n: &str) -> Understanding {
        u.slots.insert(Slot::OrderNumber, n.into());
        u
    }

    fn run(policy: &Policy, turns: &[Understanding]) -> (Vec<Decision>, BotState) {
        let mut state = BotState::default();
        let mut out = Vec::new();
        for u in turns {
            let (d, s) = decide(policy, u, rule, &state, false);
            out.push(d);
            state = s;
        }
        (out, state)
    }

    #[test]
    fn answers_a_complete_confident_request() {
        let (d, s) = run(&Policy::default(), &[with_order(said("order_status", 0.9), "1234")]);
        assert_eq!(d, vec![Decision::Answer { intent: "order_status".into() }]);
        assert_eq!(s.slots.get(&Slot::OrderNumber).map(String::as_str), Some("1234"));
        assert_eq!(s.turns, 1);
    }

    #[test]
    fn asks_for_the_order_number_then_answers() {
        let mut given = Understanding { language: "en".into(), ..Understanding::default() };
        given.slots.insert(Slot::OrderNumber, "1001".into());
        let (d, s) = run(&Policy::default(), &[said("order_status", 0.9), given]);
        assert_eq!(
            d,
            vec![
                Decision::Ask { intent: "order_status".into(), slot: Slot::OrderNumber },
                Decision::Answer { intent: "order_status".into() }
            ]
        );
        assert!(s.awaiting.is_none());
    }

    #[test]
    fn hands_off_when_the_entity_never_comes() {
        let nothing = Understanding { language: "en".into(), ..Understanding::default() };
        let (d, _) = run(&Policy::default(), &[said("order_status", 0.9), nothing.clone(), nothing]);
        assert!(matches!(d[1], Decision::Ask { .. }));
        assert_eq!(
            d[2],
            Decision::HandOff {
                reason: HandoffReason::MissingSlot { slot: Slot::OrderNumber, intent: "order_status".into() }
            }
        );
    }

    #[test]
    fn a_new_request_replaces_the_one_waiting() {
        let (d, _) = run(&Policy::default(), &[said("order_status", 0.9), said("return_policy", 0.8)]);
        assert_eq!(d[1], Decision::Answer { intent: "return_policy".into() });
    }

    #[test]
    fn human_requests_vip_and_anger_hand_off_first() {
        let mut u = with_order(said("order_status", 0.99), "1");
        u.asks_for_human = true;
        assert_eq!(run(&Policy::default(), &[u]).0[0], Decision::HandOff { reason: HandoffReason::BuyerAsked });
        assert_eq!(
            run(&Policy::default(), &[said("human_agent", 0.4)]).0[0],
            Decision::HandOff { reason: HandoffReason::BuyerAsked }
        );
        let (d, _) = decide(&Policy::default(), &said("greeting", 0.9), rule, &BotState::default(), true);
        assert_eq!(d, Decision::HandOff { reason: HandoffReason::Vip });
        let no_vip = Policy { handoff_vip: false, ..Policy::default() };
        let (d, _) = decide(&no_vip, &said("greeting", 0.9), rule, &BotState::default(), true);
        assert_eq!(d, Decision::Answer { intent: "greeting".into() });
        let mut angry = said("greeting", 0.9);
        angry.negative = true;
        assert_eq!(run(&Policy::default(), &[angry]).0[0], Decision::HandOff { reason: HandoffReason::Negative });
    }

    #[test]
    fn unsure_and_out_of_scope_hand_off_with_the_best_guess() {
        let policy = Policy { threshold: 0.7, ..Policy::default() };
        let (d, _) = run(&policy, &[said("return_policy", 0.6)]);
        assert_eq!(
            d[0],
            Decision::HandOff {
                reason: HandoffReason::LowConfidence {
                    best: Some(IntentGuess { name: "return_policy".into(), confidence: 0.6 }),
                    threshold: 0.7
                }
            }
        );
        let oos = Understanding {
            language: "en".into(),
            best_guess: Some(IntentGuess { name: "invoice".into(), confidence: 0.2 }),
            ..Understanding::default()
        };
        let (d, _) = run(&policy, &[oos]);
        let Decision::HandOff { reason } = &d[0] else { panic!("{d:?}") };
        assert_eq!(reason.to_string(), "out of scope (closest intent invoice at 0.20)");
    }

    #[test]
    fn faq_answers_when_no_intent_is_confident() {
        let mut u = said("invoice", 0.2);
        u.faq = Some(FaqGuess { id: "warranty".into(), score: 0.8 });
        let (d, s) = run(&Policy::default(), &[u.clone(), u]);
        assert_eq!(d[0], Decision::AnswerFaq { id: "warranty".into() });
        assert_eq!(d[1], Decision::HandOff { reason: HandoffReason::Repeated { intent: "faq:warranty".into() } });
        assert_eq!(s.turns, 1);
    }

    #[test]
    fn faq_beats_general_intents_but_not_order_questions_or_small_talk() {
        let faq = Some(FaqGuess { id: "iceland".into(), score: 0.6 });
        let general = Understanding { faq: faq.clone(), ..said("delivery_options", 0.95) };
        assert_eq!(run(&Policy::default(), &[general]).0[0], Decision::AnswerFaq { id: "iceland".into() });
        let order = Understanding { faq: faq.clone(), ..with_order(said("order_status", 0.95), "1") };
        assert_eq!(run(&Policy::default(), &[order]).0[0], Decision::Answer { intent: "order_status".into() });
        let hello = Understanding { faq, ..said("greeting", 0.95) };
        assert_eq!(run(&Policy::default(), &[hello]).0[0], Decision::Answer { intent: "greeting".into() });
    }

    #[test]
    fn the_same_intent_failing_twice_hands_off_but_small_talk_does_not() {
        let (d, _) = run(&Policy::default(), &[said("return_policy", 0.9), said("return_policy", 0.9)]);
        assert_eq!(d[1], Decision::HandOff { reason: HandoffReason::Repeated { intent: "return_policy".into() } });
        let (d, _) = run(&Policy::default(), &[said("greeting", 0.9), said("greeting", 0.9), said("thanks", 0.9)]);
        assert!(d.iter().all(|d| matches!(d, Decision::Answer { .. })), "{d:?}");
    }

    #[test]
    fn state_survives_json() {
        let (_, s) = run(&Policy::default(), &[said("order_status", 0.9)]);
        let back: BotState = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let empty: BotState = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, BotState::default());
    }

    fn any_understanding() -> impl Strategy<Value = Understanding> {
        let intents = prop::sample::select(vec![
            "order_status",
            "cancel_order",
            "return_policy",
            "greeting",
            "invoice",
            "human_agent",
        ]);
        (
            prop::option::of((intents, 0.0f32..1.0)),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(0.0f32..1.0),
            any::<bool>(),
        )
            .prop_map(|(intent, order, negative, faq, human)| {
                let mut u = Understanding {
                    language: "en".into(),
                    intent: intent.map(|(n, c)| IntentGuess { name: n.into(), confidence: c }),
                    faq: faq.map(|score| FaqGuess { id: "f".into(), score }),
                    negative,
                    asks_for_human: human,
                    ..Understanding::default()
                };
                if order {
                    u.slots.insert(Slot::OrderNumber, "1".into());
                }
                u
            })
    }

    proptest! {
        /// Whatever the buyer says, the bot hands off within a bounded
        /// number of messages unless it keeps answering different things:
        /// it never asks more than `max_asks` times in a row and never
        /// gives more than `max_turns` answers.
        #[test]
        fn the_bot_never_loops(turns in prop::collection::vec(any_understanding(), 1..40)) {
            let policy = Policy::default();
            let mut state = BotState::default();
            let mut asks_in_a_row = 0;
            for u in &turns {
                let (d, s) = decide(&policy, u, rule, &state, false);
                match d {
                    Decision::Ask { .. } => asks_in_a_row += 1,
                    Decision::HandOff { .. } => break,
                    _ => asks_in_a_row = 0,
                }
                prop_assert!(asks_in_a_row <= policy.max_asks);
                prop_assert!(s.turns <= policy.max_turns);
                state = s;
            }
        }
    }
}
