//! Purity and cluster count of the clustering for a range of thresholds on
//! one labelled set used as unlabelled traffic.
//!
//! cargo run --release -p ferry-nlu --example cluster_sweep -- FILE TEXT_FIELD LABEL_FIELD

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use ferry_nlu::{ClusterParams, Fields, QuestionItem, cluster_all, load_examples, purity};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base: ClusterParams = match args.get(3).map(|j| serde_json::from_str(j)) {
        None => ClusterParams::default(),
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let (Some(file), Some(text), Some(label)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: cluster_sweep FILE TEXT_FIELD LABEL_FIELD");
        return ExitCode::FAILURE;
    };
    let fields = Fields { text: text.clone(), label: label.clone(), lang: None };
    let examples = match load_examples(Path::new(file), &fields) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // Timestamps permute the file's order (the sets are sorted by intent).
    let labels: HashMap<i64, String> = examples.iter().enumerate().map(|(i, e)| (i as i64, e.label.clone())).collect();
    for threshold in [0.3f32, 0.35, 0.4, 0.45] {
        for merge in [0.45f32, 0.5, 0.55] {
            let items: Vec<QuestionItem> = examples
                .iter()
                .enumerate()
                .map(|(i, e)| QuestionItem::new(i as i64, e.text.clone(), ((i * 7919) % examples.len()) as i64))
                .collect();
            let params = ClusterParams { threshold, merge_threshold: merge, ..base.clone() };
            let s = cluster_all(items, &params, 0);
            let big = s.iter().filter(|c| c.size >= 5).count();
            println!(
                "threshold {threshold:.2} merge {merge:.2}: {} clusters ({big} of 5+), purity {:.3}",
                s.len(),
                purity(&s, &labels)
            );
        }
    }
    ExitCode::SUCCESS
}
