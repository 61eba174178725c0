//! Tests on the real public data sets in `shared/data` (located relative to
//! the crate, or by `FERRY_SHARED_DATA`). Each test prints a message and
//! returns when the data is absent. Sizes are kept small so that debug
//! builds stay fast; full-size figures come from `examples/eval.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferry_nlu::{
    EntityConfig, EntityExtractor, EntityValue, Example, Fields, LanguageDetector, TrainConfig, evaluate_examples,
    load_examples,
};

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("FERRY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.join("intent").is_dir() {
        Some(dir)
    } else {
        println!("skipped: shared data not found at {} (set FERRY_SHARED_DATA)", dir.display());
        None
    }
}

/// Deterministic stratified split: every `k`-th example of each label to the test side.
fn split(examples: Vec<Example>, k: usize) -> (Vec<Example>, Vec<Example>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for e in examples {
        let n = seen.entry(e.label.clone()).or_default();
        *n += 1;
        if n.is_multiple_of(k) { test.push(e) } else { train.push(e) }
    }
    (train, test)
}

#[test]
fn bitext_csv_subset_is_learned() {
    let Some(data) = shared_data() else { return };
    let fields = Fields { text: "instruction".into(), ..Fields::default() };
    let all = load_examples(&data.join("intent/bitext_customer_support/train.csv"), &fields).unwrap();
    assert!(all.len() > 3000);
    // One example in three keeps the debug build quick.
    let subset: Vec<Example> = all.into_iter().step_by(3).collect();
    let (train, test) = split(subset, 5);
    let report = evaluate_examples(&train, &test, &TrainConfig::default()).unwrap();
    println!("{report}");
    assert!(report.accuracy > 0.9, "{}", report.accuracy);
    assert!(report.oos.is_none());
    assert!(report.to_string().lines().last().unwrap().starts_with("accuracy="));
}

#[test]
fn clinc150_subset_detects_out_of_scope() {
    let Some(data) = shared_data() else { return };
    let fields = Fields { lang: Some("split".into()), ..Fields::default() };
    let all = load_examples(&data.join("intent/clinc150/train_val.jsonl"), &fields).unwrap();
    // Twelve intents plus the out-of-scope class.
    let mut intents: Vec<&str> = all.iter().map(|e| e.label.as_str()).filter(|l| *l != "oos").collect();
    intents.sort_unstable();
    intents.dedup();
    let keep: Vec<String> = intents.iter().step_by(12).map(|s| (*s).to_owned()).collect();
    let wanted = |e: &Example| e.label == "oos" || keep.contains(&e.label);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for e in all.iter().filter(|e| wanted(e)) {
        match e.lang.as_deref() {
            Some("train" | "oos_train") => train.push(e.clone()),
            _ => test.push(e.clone()),
        }
    }
    let report = evaluate_examples(&train, &test, &TrainConfig::default()).unwrap();
    println!("{report}");
    let oos = report.oos.as_ref().unwrap();
    assert_eq!(oos.support, 100);
    assert!(oos.in_scope_accuracy > 0.9, "{}", oos.in_scope_accuracy);
    assert!(oos.recall >= 0.6, "{}", oos.recall);
    assert!(report.to_string().contains("oos_recall="));
}

#[test]
fn xsid_few_shot_in_chinese_japanese_and_arabic() {
    let Some(data) = shared_data() else { return };
    for lang in ["zh", "ja", "ar", "de"] {
        let all = load_examples(&data.join(format!("intent/xsid/train.{lang}.jsonl")), &Fields::default()).unwrap();
        let (train, test) = split(all, 2);
        let report = evaluate_examples(&train, &test, &TrainConfig::default()).unwrap();
        println!("xsid {lang}: {:.3}", report.accuracy);
        assert!(report.accuracy > 0.8, "{lang}: {}", report.accuracy);
    }
}

#[test]
fn xsid_language_detection() {
    let Some(data) = shared_data() else { return };
    let langs = ["en", "de", "it", "nl", "tr", "zh", "ja", "ar"];
    let det = LanguageDetector::new(&langs, "en").unwrap();
    for lang in langs {
        let all = load_examples(&data.join(format!("intent/xsid/train.{lang}.jsonl")), &Fields::default()).unwrap();
        let right = all.iter().filter(|e| det.detect(&e.text).code == lang).count();
        let share = right as f64 / all.len() as f64;
        println!("language detection {lang}: {share:.3}");
        assert!(share > 0.75, "{lang}: {share}");
    }
}

#[test]
fn bitext_order_ids_and_amounts_are_extracted() {
    let Some(data) = shared_data() else { return };
    let path = data.join("intent/bitext_customer_support/train.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let x = EntityExtractor::new(&EntityConfig::default()).unwrap();
    let (mut orders, mut order_hits, mut amounts, mut amount_hits) = (0, 0, 0, 0);
    for rec in reader.deserialize::<BTreeMap<String, String>>() {
        let rec = rec.unwrap();
        let text = &rec["instruction"];
        let ents = x.extract(text);
        for e in &ents {
            assert_eq!(&text[e.start..e.end], e.text);
        }
        match rec["entity_type"].as_str() {
            "order_id" => {
                orders += 1;
                // The annotated value is sometimes a truncated copy: accept a prefix.
                let want = rec["entity_value"].trim_start_matches('0');
                if ents.iter().any(|e| {
                    matches!(&e.value,
                    EntityValue::OrderNumber { number } if number.trim_start_matches('0').starts_with(want))
                }) {
                    order_hits += 1;
                }
            }
            "refund_amount" => {
                amounts += 1;
                if ents.iter().any(|e| matches!(&e.value, EntityValue::Amount { currency, .. } if currency == "USD")) {
                    amount_hits += 1;
                }
            }
            _ => {}
        }
    }
    println!("order ids {order_hits}/{orders}, amounts {amount_hits}/{amounts}");
    assert!(orders > 300 && amounts > 40);
    assert!(order_hits * 10 >= orders * 9, "{order_hits}/{orders}");
    assert!(amount_hits * 10 >= amounts * 9, "{amount_hits}/{amounts}");
}
