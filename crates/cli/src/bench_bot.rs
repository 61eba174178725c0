//! `ferry bench bot`: how long the bot takes to decide, in-process, one
//! message at a time — language detection, intent classification, FAQ
//! retrieval, entities, the policy and the rendered answer — with the
//! default e-commerce pack and a few FAQ entries, over real buyer messages.

use crate::bench::BotArgs;
use ferry_bot::{BotDocument, BotFaq, Engine, Facts, TurnInput};
use ferry_core::bot::{BotState, Decision, Policy};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Messages in the pack's languages that are not in the pack.
const BUILT_IN: &[&str] = &[
    "where is my order #4411?",
    "Wo ist meine Bestellung 1234?",
    "¿Dónde está mi pedido 5521?",
    "Je voudrais annuler ma commande d'hier",
    "我的包裹怎么还没到",
    "注文をキャンセルできますか",
    "muito obrigado pela ajuda!",
    "buongiorno!",
    "I want to talk to a real person",
    "我要人工",
    "What's the capital of Mongolia?",
    "do you ship to Iceland?",
    "how long is the warranty on these headphones",
    "my parcel is stuck in customs for two weeks, this is ridiculous",
    "can I pay with PayPal?",
    "I need an invoice for order 99812",
];

fn default_messages() -> Option<PathBuf> {
    let p = PathBuf::from("../shared/data/intent/bitext_customer_support/train.csv");
    p.exists().then_some(p)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn run(a: BotArgs) -> anyhow::Result<()> {
    let mut messages: Vec<String> = BUILT_IN.iter().map(|s| (*s).to_owned()).collect();
    match a.messages.clone().or_else(default_messages) {
        Some(path) => {
            let fields = ferry_nlu::Fields { text: "instruction".into(), ..ferry_nlu::Fields::default() };
            let examples = ferry_nlu::load_examples(&path, &fields)?;
            // A spread sample, not only the first intents of the file.
            let step = (examples.len() / 4000).max(1);
            messages.extend(examples.into_iter().step_by(step).map(|e| e.text));
            println!("messages: {} (built-in + {})", messages.len(), path.display());
        }
        None => println!(
            "messages: {} built-in (../shared/data/intent/bitext_customer_support/train.csv not found)",
            messages.len()
        ),
    }

    let mut doc = BotDocument::default_pack()?;
    doc.shop.insert("returns_url".into(), "https://shop.example/returns".into());
    for (id, q, answer) in [
        ("iceland", "do you ship to Iceland", "Yes, within 10 days."),
        ("warranty", "how long is the warranty", "Two years on every product."),
        ("paypal", "can I pay with PayPal", "Yes, PayPal is accepted."),
    ] {
        doc.put_faq(BotFaq { id: id.into(), language: "en".into(), questions: vec![q.into()], answer: answer.into() })?;
    }
    let examples: usize = doc.intents.iter().map(|i| i.examples.values().map(Vec::len).sum::<usize>()).sum();
    let started = Instant::now();
    let engine = Engine::build(doc)?;
    let train = started.elapsed();
    println!(
        "training: {} intents, {examples} examples in {:.2} s",
        engine.document().intents.len(),
        train.as_secs_f64()
    );

    let policy = Policy::default();
    let state = BotState::default();
    let facts = Facts { contact_name: "Alex".into(), shop_name: "Demo Shop".into(), order: None };
    // Warm-up, then one decision at a time.
    for m in messages.iter().take(200) {
        let t = engine.turn(TurnInput { text: m, language_hint: None, state: &state, policy: &policy, vip: false });
        std::hint::black_box(engine.respond(&t, &facts));
    }
    let mut times = Vec::with_capacity(a.decisions);
    let mut actions: BTreeMap<&'static str, usize> = BTreeMap::new();
    for m in messages.iter().cycle().take(a.decisions) {
        let t0 = Instant::now();
        let turn = engine.turn(TurnInput { text: m, language_hint: None, state: &state, policy: &policy, vip: false });
        let outcome = engine.respond(&turn, &facts);
        times.push(t0.elapsed());
        std::hint::black_box(outcome);
        let action = match turn.decision {
            Decision::Answer { .. } => "answer",
            Decision::AnswerFaq { .. } => "faq",
            Decision::Ask { .. } => "ask",
            Decision::HandOff { .. } => "hand_off",
        };
        *actions.entry(action).or_default() += 1;
    }
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (p50, p99, max) = (percentile(&times, 0.5), percentile(&times, 0.99), times[times.len() - 1]);
    println!("decisions: {} ({actions:?})", times.len());
    println!("latency: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs", us(p50), us(p99), us(max));
    println!(
        "train_ms={} decisions={} p50_us={:.0} p99_us={:.0} max_us={:.0}",
        train.as_millis(),
        times.len(),
        us(p50),
        us(p99),
        us(max)
    );
    Ok(())
}
