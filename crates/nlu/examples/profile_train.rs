//! Time the stages of training on one file.
//!
//! cargo run --release -p ferry-nlu --example profile_train -- TRAIN.jsonl

use std::path::Path;
use std::time::Instant;

use ferry_nlu::features::{FeatureConfig, Vectorizer};
use ferry_nlu::{Fields, IntentModel, TrainConfig, load_examples};

fn main() -> Result<(), ferry_nlu::NluError> {
    let path = std::env::args().nth(1).unwrap_or_default();
    let ex = load_examples(Path::new(&path), &Fields::default())?;
    let texts: Vec<&str> = ex.iter().map(|e| e.text.as_str()).collect();
    let t = Instant::now();
    let v = Vectorizer::fit(&texts, &FeatureConfig::default());
    println!("fit vocabulary: {:.2} s, {} features", t.elapsed().as_secs_f64(), v.n_features());
    let t = Instant::now();
    let nnz: usize = texts.iter().map(|x| v.transform(x).nnz()).sum();
    println!("transform all: {:.2} s, mean nnz {:.0}", t.elapsed().as_secs_f64(), nnz as f64 / texts.len() as f64);
    for (calibrate, threads) in [(false, 1), (false, 2), (true, 2)] {
        let t = Instant::now();
        let cfg = TrainConfig { calibrate, threads, ..TrainConfig::default() };
        IntentModel::train(&ex, &cfg)?;
        println!("train calibrate={calibrate} threads={threads}: {:.2} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}
