//! The bot end to end in-process: understanding, decisions and answers in
//! the buyer's language, with the default e-commerce pack.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_bot::{BotDocument, BotFaq, Engine, Facts, Outcome, TurnInput};
use ferry_core::bot::{BotState, Decision, HandoffReason, Policy, Slot};
use serde_json::json;
use std::sync::LazyLock;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let mut doc = BotDocument::default_pack().unwrap();
    doc.shop.insert("returns_url".into(), "https://shop.test/returns".into());
    doc.put_faq(BotFaq {
        id: "warranty".into(),
        language: "en".into(),
        questions: vec![
            "how long is the warranty on the headphones".into(),
            "do the headphones have a warranty".into(),
        ],
        answer: "All headphones carry a two-year warranty, {{contact.name}}.".into(),
    })
    .unwrap();
    Engine::build(doc).unwrap()
});

fn facts() -> Facts {
    Facts { contact_name: "Lena".into(), shop_name: "Ferry Demo Shop".into(), order: None }
}

fn say(text: &str, state: &BotState, hint: Option<&str>) -> (ferry_bot::Turn, Outcome) {
    let policy = Policy::default();
    let turn = ENGINE.turn(TurnInput { text, language_hint: hint, state, policy: &policy, vip: false });
    let out = ENGINE.respond(&turn, &facts());
    (turn, out)
}

fn reply_text(out: &Outcome) -> &str {
    match out {
        Outcome::Reply { text, .. } => text,
        Outcome::HandOff { .. } => panic!("handed off: {out:?}"),
    }
}

#[test]
fn german_order_question_is_answered_in_german() {
    let (turn, out) = say("Wo ist meine Bestellung 1234?", &BotState::default(), None);
    assert_eq!(turn.understanding.language, "de");
    assert_eq!(turn.decision, Decision::Answer { intent: "order_status".into() });
    let text = reply_text(&out);
    assert!(text.contains("1234") && text.contains("Bestellung"), "{text}");
    assert!(text.starts_with("Danke, Lena"), "{text}");
}

#[test]
fn with_the_order_the_answer_has_its_details() {
    let (turn, _) = say("Wo ist meine Bestellung 1234?", &BotState::default(), None);
    let f = Facts { order: Some(json!({"status": "versandt", "tracking_url": "https://track.test/LX1"})), ..facts() };
    let out = ENGINE.respond(&turn, &f);
    let text = reply_text(&out);
    assert!(text.contains("1234 ist versandt") && text.contains("https://track.test/LX1"), "{text}");
}

#[test]
fn asking_for_a_person_in_chinese_hands_off_at_once() {
    let (turn, out) = say("我要人工", &BotState::default(), None);
    assert_eq!(turn.decision, Decision::HandOff { reason: HandoffReason::BuyerAsked });
    let Outcome::HandOff { message, .. } = out else { panic!("{out:?}") };
    assert!(message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{message}");
}

#[test]
fn out_of_scope_questions_are_handed_off_with_a_reason() {
    for text in ["What's the capital of Mongolia?", "Can you recommend a good pizza recipe with anchovies?"] {
        let (turn, out) = say(text, &BotState::default(), None);
        let Outcome::HandOff { reason, .. } = &out else { panic!("{text}: {out:?}") };
        assert!(
            matches!(reason, HandoffReason::OutOfScope { .. } | HandoffReason::LowConfidence { .. }),
            "{text}: {reason:?}"
        );
        assert!(!Engine::handoff_note(&turn, reason).is_empty());
    }
}

#[test]
fn asks_for_the_order_number_with_a_button_then_answers() {
    let (turn, out) = say("where is my order?", &BotState::default(), None);
    assert_eq!(turn.decision, Decision::Ask { intent: "order_status".into(), slot: Slot::OrderNumber });
    let Outcome::Reply { text, buttons } = &out else { panic!("{out:?}") };
    assert!(text.contains("order number"), "{text}");
    assert_eq!(buttons.len(), 1);
    let (turn2, out2) = say("#1001", &turn.state, Some("en"));
    assert_eq!(turn2.decision, Decision::Answer { intent: "order_status".into() });
    assert!(reply_text(&out2).contains("1001"));
    // The button asks for a person.
    let (turn3, _) = say(&buttons[0].payload, &turn.state, Some("en"));
    assert_eq!(turn3.decision, Decision::HandOff { reason: HandoffReason::BuyerAsked });
}

#[test]
fn faq_answers_and_shop_variables() {
    let (_, out) = say("is there a warranty on these headphones?", &BotState::default(), None);
    assert_eq!(reply_text(&out), "All headphones carry a two-year warranty, Lena.");
    let (turn, out) = say("how do I return an item?", &BotState::default(), None);
    assert_eq!(turn.decision, Decision::Answer { intent: "return_policy".into() });
    let text = reply_text(&out);
    assert!(text.contains("30") && text.contains("https://shop.test/returns"), "{text}");
}

#[test]
fn missing_shop_data_hands_off_instead_of_answering_with_a_hole() {
    let engine = Engine::build(BotDocument::default_pack().unwrap()).unwrap();
    let policy = Policy::default();
    let state = BotState::default();
    let turn = engine.turn(TurnInput {
        text: "how do I return an item?",
        language_hint: None,
        state: &state,
        policy: &policy,
        vip: false,
    });
    let out = engine.respond(&turn, &facts());
    let Outcome::HandOff { reason, .. } = out else { panic!("{out:?}") };
    assert_eq!(
        reason,
        HandoffReason::MissingData { intent: "return_policy".into(), variable: "shop.returns_url".into() }
    );
}

#[test]
fn answers_follow_the_buyers_language() {
    let cases = [
        ("¿Dónde está mi pedido 1001?", "es"),
        ("Où est ma commande 1001 ?", "fr"),
        ("我的订单1001到哪里了", "zh"),
        ("注文1001はどこですか", "ja"),
        ("Dov'è il mio ordine 1001?", "it"),
        ("Olá, onde está o meu pedido 1001, por favor?", "pt"),
    ];
    for (text, lang) in cases {
        let (turn, out) = say(text, &BotState::default(), None);
        assert_eq!(turn.understanding.language, lang, "{text}");
        assert_eq!(turn.decision, Decision::Answer { intent: "order_status".into() }, "{text}");
        assert!(reply_text(&out).contains("1001"));
    }
    // Too short to tell: the conversation's language decides.
    let (turn, _) = say("1001", &BotState::default(), Some("de-DE"));
    assert_eq!(turn.understanding.language, "de");
}

#[test]
fn anger_hands_off() {
    let (turn, _) = say("This is a scam, where is my money??", &BotState::default(), None);
    assert!(matches!(turn.decision, Decision::HandOff { reason: HandoffReason::Negative }));
}

#[test]
fn an_email_address_or_a_short_word_keeps_the_conversations_language() {
    let (first, _) = say("Hi, where is my order? I ordered last week.", &BotState::default(), None);
    assert_eq!(first.understanding.language, "en");
    let mut state = first.state.clone();
    state.language = Some("en".into());
    for text in ["joao.silva@empresa.com.br", "maria.gonzalez@correo.es", "ok", "sim", "1005", "#1005 joao@mail.pt"] {
        let (turn, _) = say(text, &state, Some("pt-BR"));
        assert_eq!(turn.understanding.language, "en", "{text}");
    }
    // The buyer clearly changes language: the bot follows.
    let (turn, _) = say("¿Dónde está mi pedido? Lo compré la semana pasada.", &state, None);
    assert_eq!(turn.understanding.language, "es");
}

#[test]
fn order_numbers_in_many_phrasings() {
    let cases = [
        ("订单号是1005", "zh"),
        ("注文番号は1005です", "ja"),
        ("mi pedido es 1005", "es"),
        ("order #1005", "en"),
        ("where is order #1005", "en"),
    ];
    for (text, lang) in cases {
        let (turn, out) = say(text, &BotState::default(), None);
        assert_eq!(turn.understanding.slots.get(&Slot::OrderNumber).map(String::as_str), Some("1005"), "{text}");
        assert_eq!(turn.understanding.language, lang, "{text}");
        assert_eq!(turn.decision, Decision::Answer { intent: "order_status".into() }, "{text}: {turn:?}");
        assert!(reply_text(&out).contains("1005"), "{text}");
    }
}

#[test]
fn a_spanish_buyer_with_an_english_browser_is_answered_in_spanish() {
    let (turn, _) = say("mi pedido es 1003", &BotState::default(), Some("en-US"));
    assert_eq!(turn.understanding.language, "es");
}
