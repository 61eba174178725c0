//! Train once, then show in-scope accuracy and out-of-scope recall for a
//! range of confidence thresholds.
//!
//! cargo run --release -p ferry-nlu --example threshold_sweep -- TRAIN.jsonl TEST.jsonl [oos-label]

use std::path::Path;
use std::process::ExitCode;

use ferry_nlu::{Fields, IntentModel, OosThreshold, TrainConfig, load_examples};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(train), Some(test)) = (args.first(), args.get(1)) else {
        eprintln!("usage: threshold_sweep TRAIN TEST [oos-label]");
        return ExitCode::FAILURE;
    };
    let oos = args.get(2).cloned().unwrap_or_else(|| "oos".into());
    let run = || -> Result<(), ferry_nlu::NluError> {
        let train = load_examples(Path::new(train), &Fields::default())?;
        let test = load_examples(Path::new(test), &Fields::default())?;
        let config = TrainConfig { oos_label: oos.clone(), oos_threshold: OosThreshold::Off, ..TrainConfig::default() };
        let model = IntentModel::train(&train, &config)?;
        let preds: Vec<_> = test.iter().map(|e| model.predict(&e.text)).collect();
        let n_in = test.iter().filter(|e| e.label != oos).count().max(1) as f64;
        let n_oos = test.iter().filter(|e| e.label == oos).count().max(1) as f64;
        println!("temperature {:.3}", model.temperature());
        for step in 0..=19 {
            let th = step as f32 * 0.05;
            let (mut acc, mut rec) = (0.0, 0.0);
            for (e, p) in test.iter().zip(&preds) {
                let rejected = p.out_of_scope || p.confidence < th;
                if e.label == oos {
                    rec += f64::from(u8::from(rejected));
                } else if !rejected && p.label == e.label {
                    acc += 1.0;
                }
            }
            println!("threshold {th:.2}: in-scope accuracy {:.4}, oos recall {:.3}", acc / n_in, rec / n_oos);
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
