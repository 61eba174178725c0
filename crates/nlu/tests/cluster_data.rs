//! Frequent-question clustering on the public intent sets in `shared/data`
//! used as unlabelled traffic: the labels are only used to measure purity.
//! Each test prints a message and returns when the data is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use ferry_nlu::{ClusterParams, Example, Fields, QuestionItem, cluster_all, load_examples, purity};

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

/// Cluster the texts without their labels; returns (purity, clusters, intents).
fn cluster_examples(name: &str, examples: &[Example]) -> (f64, usize, usize) {
    let day = 24 * 3600;
    let items: Vec<QuestionItem> = examples
        .iter()
        .enumerate()
        .map(|(i, e)| QuestionItem::new(i as i64, e.text.clone(), (i as i64 % 30) * day))
        .collect();
    let labels: HashMap<i64, String> = examples.iter().enumerate().map(|(i, e)| (i as i64, e.label.clone())).collect();
    let intents = examples.iter().map(|e| e.label.as_str()).collect::<BTreeSet<_>>().len();
    let clusters = cluster_all(items, &ClusterParams::default(), 30 * day);
    let p = purity(&clusters, &labels);
    let big: Vec<_> = clusters.iter().filter(|c| c.size >= 5).collect();
    let in_big: usize = big.iter().map(|c| c.size).sum();
    println!(
        "{name}: {} messages, {intents} intents -> {} clusters (purity {p:.3}); {} clusters of 5+ hold {:.1} % of the messages",
        examples.len(),
        clusters.len(),
        big.len(),
        100.0 * in_big as f64 / examples.len().max(1) as f64
    );
    for c in clusters.iter().take(5) {
        println!("  {:>4}  {}", c.size, c.label);
    }
    (p, clusters.len(), intents)
}

#[test]
fn bitext_clusters_are_pure() {
    let Some(data) = shared_data() else { return };
    let fields = Fields { text: "instruction".into(), ..Fields::default() };
    let all = load_examples(&data.join("intent/bitext_customer_support/train.csv"), &fields).unwrap();
    let (p, n, intents) = cluster_examples("bitext", &all);
    assert!(p >= 0.8, "purity {p}");
    assert!(n <= 5 * intents, "{n} clusters for {intents} intents");
    assert!(n >= intents / 2, "{n} clusters for {intents} intents");
}

#[test]
fn other_sets_purity_is_printed() {
    let Some(data) = shared_data() else { return };
    let banking = load_examples(
        &data.join("intent/banking77/train.csv"),
        &Fields { label: "category".into(), ..Fields::default() },
    )
    .unwrap();
    let (p, n, _) = cluster_examples("banking77", &banking);
    // Far from the Bitext figure: 77 intents that share most of their words.
    assert!(p > 0.2 && n > 1, "{p} {n}");
    let hwu = load_examples(&data.join("intent/hwu64/train_kfold1.jsonl"), &Fields::default()).unwrap();
    let (p, n, _) = cluster_examples("hwu64", &hwu);
    assert!(p > 0.2 && n > 1, "{p} {n}");
}

/// Share of messages in clusters that hold more than one language.
fn mixed_share(clusters: &[ferry_nlu::ClusterSummary], total: usize) -> f64 {
    let mixed: usize = clusters.iter().filter(|c| c.languages.len() > 1).map(|c| c.size).sum();
    mixed as f64 / total.max(1) as f64
}

#[test]
fn xsid_languages_meet_through_intent_signals() {
    let Some(data) = shared_data() else { return };
    // Half of each language trains a multilingual classifier (as a seller's
    // intent pack would); the other half is the traffic to cluster.
    let (mut train, mut traffic) = (Vec::new(), Vec::new());
    for lang in ["en", "de", "it", "nl", "tr", "zh", "ja", "ar"] {
        let fields = Fields { lang: Some("lang".into()), ..Fields::default() };
        let all = load_examples(&data.join(format!("intent/xsid/train.{lang}.jsonl")), &fields).unwrap();
        for (i, e) in all.into_iter().enumerate() {
            if i % 2 == 0 { train.push(e) } else { traffic.push(e) }
        }
    }
    let model = ferry_nlu::IntentModel::train(&train, &ferry_nlu::TrainConfig::default()).unwrap();
    let labels: HashMap<i64, String> = traffic.iter().enumerate().map(|(i, e)| (i as i64, e.label.clone())).collect();
    let items = |signals: bool| -> Vec<QuestionItem> {
        traffic
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut it = QuestionItem::new(i as i64, e.text.clone(), ((i * 7919) % traffic.len()) as i64);
                it.lang = e.lang.clone();
                if signals && let Some(s) = ferry_nlu::intent_signal(&model, &e.text, 0.5) {
                    it.signals.push(s);
                }
                it
            })
            .collect()
    };
    let params = ClusterParams::default();
    let plain = cluster_all(items(false), &params, 0);
    let tagged = cluster_all(items(true), &params, 0);
    let (mp, mt) = (mixed_share(&plain, traffic.len()), mixed_share(&tagged, traffic.len()));
    println!(
        "xsid, 8 languages, {} messages: character features alone {} clusters, purity {:.3}, {:.1} % in multilingual clusters; with intent signals {} clusters, purity {:.3}, {:.1} % in multilingual clusters",
        traffic.len(),
        plain.len(),
        purity(&plain, &labels),
        100.0 * mp,
        tagged.len(),
        purity(&tagged, &labels),
        100.0 * mt
    );
    assert!(mt > mp + 0.2, "{mp} {mt}");
    assert!(purity(&tagged, &labels) > purity(&plain, &labels));
}
