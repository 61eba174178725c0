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
