//! Train on one file, evaluate on another, print the report.
//!
//! cargo run --release -p ferry-nlu --example eval -- --train T.jsonl --test V.jsonl
//!   [--text-field text] [--label-field intent] [--oos-label oos] [--lang-field lang]
//!   [--algorithm svm|logreg] [--c 1] [--epochs 10] [--tolerance 0.1] [--seed 42] [--class-balanced] [--no-calibrate]
//!   [--threshold X | --no-threshold] [--reject-rate R] [--word-max 2] [--char-min 2]
//!   [--char-max 5] [--spaceless-max 4] [--min-df 1] [--idf-power P | --idf-candidates 1,0.5] [--char-weight 1] [--word-weight 1]
//!   [--no-accents-strip] [--threads N]

use std::process::ExitCode;

use ferry_nlu::{Algorithm, EvalOptions, OosThreshold, evaluate};

fn parse<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    v.ok_or_else(|| format!("{flag} needs a value"))?.parse().map_err(|_| format!("bad value for {flag}"))
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (mut train, mut test) = (None, None);
    let mut o = EvalOptions::new("", "");
    while let Some(a) = args.next() {
        let cfg = &mut o.train_config;
        match a.as_str() {
            "--train" => train = args.next(),
            "--test" => test = args.next(),
            "--text-field" => o.text_field = parse(&a, args.next())?,
            "--label-field" => o.label_field = parse(&a, args.next())?,
            "--oos-label" => o.oos_label = parse(&a, args.next())?,
            "--lang-field" => o.lang_field = Some(parse(&a, args.next())?),
            "--algorithm" => {
                cfg.algorithm = match args.next().as_deref() {
                    Some("svm") => Algorithm::Svm,
                    Some("logreg") => Algorithm::LogReg,
                    _ => return Err("--algorithm svm|logreg".into()),
                }
            }
            "--c" => cfg.c = parse(&a, args.next())?,
            "--epochs" => cfg.epochs = parse(&a, args.next())?,
            "--tolerance" => cfg.tolerance = parse(&a, args.next())?,
            "--seed" => cfg.seed = parse(&a, args.next())?,
            "--threads" => cfg.threads = parse(&a, args.next())?,
            "--class-balanced" => cfg.class_balanced = true,
            "--no-calibrate" => cfg.calibrate = false,
            "--threshold" => cfg.oos_threshold = OosThreshold::Fixed(parse(&a, args.next())?),
            "--no-threshold" => cfg.oos_threshold = OosThreshold::Off,
            "--reject-rate" => cfg.oos_threshold = OosThreshold::Auto { reject_rate: parse(&a, args.next())? },
            "--word-max" => cfg.features.word_ngram_max = parse(&a, args.next())?,
            "--char-min" => cfg.features.char_ngram_min = parse(&a, args.next())?,
            "--char-max" => cfg.features.char_ngram_max = parse(&a, args.next())?,
            "--spaceless-max" => cfg.features.spaceless_char_ngram_max = parse(&a, args.next())?,
            "--idf-power" => {
                cfg.features.idf_power = parse(&a, args.next())?;
                cfg.idf_power_candidates.clear();
            }
            "--idf-candidates" => {
                cfg.idf_power_candidates = parse::<String>(&a, args.next())?
                    .split(',')
                    .map(|v| v.parse().map_err(|_| "bad --idf-candidates".to_owned()))
                    .collect::<Result<_, _>>()?
            }
            "--min-df" => cfg.features.min_df = parse(&a, args.next())?,
            "--char-weight" => cfg.features.char_weight = parse(&a, args.next())?,
            "--word-weight" => cfg.features.word_weight = parse(&a, args.next())?,
            "--no-accents-strip" => cfg.features.normalize.strip_accents = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    o.train = train.ok_or("--train FILE is required")?.into();
    o.test = test.ok_or("--test FILE is required")?.into();
    let report = evaluate(&o).map_err(|e| e.to_string())?;
    println!("{report}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
