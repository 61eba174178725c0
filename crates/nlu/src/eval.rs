//! Evaluation of the intent classifier: train on one file, classify a test
//! file one message at a time (feature extraction included in the timing),
//! and report accuracy, macro-F1, out-of-scope recall and precision, the
//! most confused label pairs, latency percentiles and training time.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::classifier::{IntentModel, TrainConfig};
use crate::dataset::{Example, Fields, load_examples};
use crate::error::NluError;

/// What to evaluate and how to read the files.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub train: PathBuf,
    pub test: PathBuf,
    /// Field (JSON) or column (CSV) holding the message; default `text`.
    pub text_field: String,
    /// Field or column holding the label; default `intent`.
    pub label_field: String,
    /// Label of out-of-scope messages; default `oos`.
    pub oos_label: String,
    /// Optional field with the language, for per-language figures.
    pub lang_field: Option<String>,
    pub train_config: TrainConfig,
}

impl EvalOptions {
    pub fn new(train: impl Into<PathBuf>, test: impl Into<PathBuf>) -> Self {
        Self {
            train: train.into(),
            test: test.into(),
            text_field: "text".into(),
            label_field: "intent".into(),
            oos_label: "oos".into(),
            lang_field: None,
            train_config: TrainConfig::default(),
        }
    }
}

/// Out-of-scope detection figures.
#[derive(Debug, Clone, PartialEq)]
pub struct OosMetrics {
    pub recall: f64,
    pub precision: f64,
    /// Out-of-scope messages in the test set.
    pub support: usize,
    /// Accuracy on the in-scope test messages alone.
    pub in_scope_accuracy: f64,
}

/// A gold label confused with a predicted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    pub gold: String,
    pub predicted: String,
    pub count: usize,
}

/// Accuracy for one language.
#[derive(Debug, Clone, PartialEq)]
pub struct LangAccuracy {
    pub lang: String,
    pub n: usize,
    pub accuracy: f64,
}

/// Result of [`evaluate`].
#[derive(Debug, Clone)]
pub struct EvalReport {
    pub n_train: usize,
    pub n_test: usize,
    pub n_labels: usize,
    pub n_features: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Present when the test set contains the out-of-scope label.
    pub oos: Option<OosMetrics>,
    /// Share of test messages under the confidence threshold (sets without
    /// out-of-scope messages are scored on the top intent regardless).
    pub below_threshold: f64,
    pub confusions: Vec<Confusion>,
    pub per_lang: Vec<LangAccuracy>,
    pub p50_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
    pub train_time: Duration,
    pub temperature: f32,
    pub threshold: f32,
    /// IDF exponent the training chose.
    pub idf_power: f32,
}

/// Read both files, train, test one message at a time.
pub fn evaluate(opts: &EvalOptions) -> Result<EvalReport, NluError> {
    let fields =
        Fields { text: opts.text_field.clone(), label: opts.label_field.clone(), lang: opts.lang_field.clone() };
    let train = load_examples(&opts.train, &fields)?;
    let test = load_examples(&opts.test, &fields)?;
    let mut config = opts.train_config.clone();
    config.oos_label = opts.oos_label.clone();
    evaluate_examples(&train, &test, &config)
}

/// [`evaluate`] on examples already in memory (`config.oos_label` names the
/// out-of-scope label).
pub fn evaluate_examples(train: &[Example], test: &[Example], config: &TrainConfig) -> Result<EvalReport, NluError> {
    if test.is_empty() {
        return Err(NluError::Training("the test set is empty".into()));
    }
    let started = Instant::now();
    let model = IntentModel::train(train, config)?;
    let train_time = started.elapsed();
    let oos_label = config.oos_label.as_str();
    let test_has_oos = test.iter().any(|e| e.label == oos_label);

    let mut latencies = Vec::with_capacity(test.len());
    let mut predicted = Vec::with_capacity(test.len());
    let mut below = 0usize;
    for ex in test {
        let t0 = Instant::now();
        let p = model.predict(&ex.text);
        latencies.push(t0.elapsed().as_secs_f64() * 1e6);
        if p.out_of_scope {
            below += 1;
        }
        predicted.push(if test_has_oos && p.out_of_scope { oos_label.to_owned() } else { p.label });
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        let k = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[k - 1]
    };

    let correct = test.iter().zip(&predicted).filter(|(e, p)| e.label == **p).count();
    let accuracy = correct as f64 / test.len() as f64;

    // Macro-F1 over the union of gold and predicted labels.
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new(); // tp, fp, fn
    let mut confusion: HashMap<(&str, &str), usize> = HashMap::new();
    for (e, p) in test.iter().zip(&predicted) {
        if e.label == *p {
            counts.entry(&e.label).or_default().0 += 1;
        } else {
            counts.entry(p).or_default().1 += 1;
            counts.entry(&e.label).or_default().2 += 1;
            *confusion.entry((&e.label, p)).or_default() += 1;
        }
    }
    let macro_f1 = counts
        .values()
        .map(|&(tp, fp, fneg)| if tp == 0 { 0.0 } else { 2.0 * tp as f64 / (2 * tp + fp + fneg) as f64 })
        .sum::<f64>()
        / counts.len().max(1) as f64;

    let oos = test_has_oos.then(|| {
        let (tp, fp, fneg) = counts.get(oos_label).copied().unwrap_or_default();
        let in_scope: Vec<bool> =
            test.iter().zip(&predicted).filter(|(e, _)| e.label != oos_label).map(|(e, p)| e.label == *p).collect();
        OosMetrics {
            recall: tp as f64 / (tp + fneg).max(1) as f64,
            precision: if tp + fp == 0 { 0.0 } else { tp as f64 / (tp + fp) as f64 },
            support: tp + fneg,
            in_scope_accuracy: in_scope.iter().filter(|c| **c).count() as f64 / in_scope.len().max(1) as f64,
        }
    });

    let mut confusions: Vec<Confusion> = confusion
        .into_iter()
        .map(|((g, p), count)| Confusion { gold: g.to_owned(), predicted: p.to_owned(), count })
        .collect();
    confusions
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.gold, &a.predicted).cmp(&(&b.gold, &b.predicted))));
    confusions.truncate(10);

    let mut by_lang: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (e, p) in test.iter().zip(&predicted) {
        if let Some(l) = &e.lang {
            let entry = by_lang.entry(l).or_default();
            entry.0 += 1;
            entry.1 += usize::from(e.label == *p);
        }
    }
    let per_lang = by_lang
        .into_iter()
        .map(|(l, (n, c))| LangAccuracy { lang: l.to_owned(), n, accuracy: c as f64 / n as f64 })
        .collect();

    let mut labels: Vec<&str> = train.iter().map(|e| e.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    Ok(EvalReport {
        n_train: train.len(),
        n_test: test.len(),
        n_labels: labels.len(),
        n_features: model.n_features(),
        accuracy,
        macro_f1,
        oos,
        below_threshold: below as f64 / test.len() as f64,
        confusions,
        per_lang,
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        mean_us: latencies.iter().sum::<f64>() / latencies.len() as f64,
        train_time,
        temperature: model.temperature(),
        threshold: model.threshold(),
        idf_power: model.config().features.idf_power,
    })
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "train: {} examples, {} labels, {} features, {:.2} s (temperature {:.3}, threshold {:.2}, idf power {})",
            self.n_train,
            self.n_labels,
            self.n_features,
            self.train_time.as_secs_f64(),
            self.temperature,
            self.threshold,
            self.idf_power
        )?;
        writeln!(f, "test: {} examples", self.n_test)?;
        writeln!(f, "accuracy: {:.4}", self.accuracy)?;
        writeln!(f, "macro-F1: {:.4}", self.macro_f1)?;
        match &self.oos {
            Some(o) => {
                writeln!(f, "in-scope accuracy: {:.4}", o.in_scope_accuracy)?;
                writeln!(
                    f,
                    "out-of-scope: recall {:.3}, precision {:.3} ({} messages)",
                    o.recall, o.precision, o.support
                )?;
            }
            None => {
                writeln!(f, "below the out-of-scope threshold (not counted): {:.1} %", self.below_threshold * 100.0)?
            }
        }
        for l in &self.per_lang {
            writeln!(f, "language {}: accuracy {:.4} ({} messages)", l.lang, l.accuracy, l.n)?;
        }
        if !self.confusions.is_empty() {
            writeln!(f, "most confused (gold -> predicted):")?;
            for c in &self.confusions {
                writeln!(f, "  {:>4}  {} -> {}", c.count, c.gold, c.predicted)?;
            }
        }
        writeln!(
            f,
            "latency per message: p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs",
            self.p50_us, self.p99_us, self.mean_us
        )?;
        write!(f, "accuracy={:.4} macro_f1={:.4}", self.accuracy, self.macro_f1)?;
        if let Some(o) = &self.oos {
            write!(f, " oos_recall={:.3}", o.recall)?;
        }
        write!(f, " p50_us={:.0} p99_us={:.0}", self.p50_us, self.p99_us)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn examples(rows: &[(&str, &str)]) -> Vec<Example> {
        rows.iter().map(|(t, l)| Example::new(*t, *l)).collect()
    }

    const TRAIN: &[(&str, &str)] = &[
        ("where is my order", "track"),
        ("track my parcel", "track"),
        ("has my package shipped", "track"),
        ("order status", "track"),
        ("cancel my order", "cancel"),
        ("please cancel it", "cancel"),
        ("i want to cancel", "cancel"),
        ("stop the order", "cancel"),
        ("what is the weather", "oos"),
        ("tell me a joke", "oos"),
        ("play music", "oos"),
    ];

    #[test]
    fn metrics_and_machine_readable_line() {
        let test = examples(&[
            ("where is my parcel", "track"),
            ("cancel the order please", "cancel"),
            ("tell me a funny joke", "oos"),
        ]);
        let r = evaluate_examples(&examples(TRAIN), &test, &TrainConfig::default()).unwrap();
        assert_eq!((r.n_train, r.n_test, r.n_labels), (11, 3, 3));
        assert!((0.0..=1.0).contains(&r.accuracy) && (0.0..=1.0).contains(&r.macro_f1));
        let oos = r.oos.as_ref().unwrap();
        assert_eq!(oos.support, 1);
        assert!(r.p50_us <= r.p99_us);
        let text = r.to_string();
        let last = text.lines().last().unwrap();
        let keys: Vec<&str> = last.split(' ').map(|kv| kv.split('=').next().unwrap()).collect();
        assert_eq!(keys, ["accuracy", "macro_f1", "oos_recall", "p50_us", "p99_us"]);
        assert!(last.starts_with(&format!("accuracy={:.4} macro_f1={:.4} oos_recall=", r.accuracy, r.macro_f1)));
        assert!(text.contains("out-of-scope: recall"));
    }

    #[test]
    fn without_oos_in_the_test_set_there_is_no_oos_recall() {
        let test = examples(&[("where is my parcel", "track"), ("cancel it now", "cancel")]);
        let r = evaluate_examples(&examples(TRAIN), &test, &TrainConfig::default()).unwrap();
        assert!(r.oos.is_none());
        assert!(!r.to_string().contains("oos_recall"));
        assert!(evaluate_examples(&examples(TRAIN), &[], &TrainConfig::default()).is_err());
    }

    #[test]
    fn macro_f1_and_confusions_are_counted_exactly() {
        // A model that cannot tell two labels apart: identical texts.
        let train = examples(&[("same", "a"), ("same", "b"), ("other", "c"), ("other words", "c")]);
        let test = examples(&[("same", "a"), ("same", "b")]);
        let r = evaluate_examples(&train, &test, &TrainConfig { calibrate: false, ..TrainConfig::default() }).unwrap();
        // One of the two is right: accuracy 0.5, F1 0.667 for the predicted
        // label and 0 for the other.
        assert_eq!(r.accuracy, 0.5);
        assert!((r.macro_f1 - (2.0 / 3.0) / 2.0).abs() < 1e-9, "{}", r.macro_f1);
        assert_eq!(r.confusions.len(), 1);
        assert_eq!(r.confusions[0].count, 1);
    }

    #[test]
    fn evaluate_reads_csv_and_jsonl_files() {
        let dir = std::env::temp_dir().join(format!("ferry-nlu-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let train = dir.join("train.csv");
        let mut csv = String::from("id,utterance,label,lang\n");
        for (i, (t, l)) in TRAIN.iter().enumerate() {
            csv.push_str(&format!("{i},\"{t}\",{l},en\n"));
        }
        std::fs::write(&train, csv).unwrap();
        let test = dir.join("test.jsonl");
        std::fs::write(
            &test,
            "{\"utterance\":\"where is my parcel\",\"label\":\"track\",\"lang\":\"en\"}\n\
             {\"utterance\":\"dónde está mi pedido\",\"label\":\"track\",\"lang\":\"es\"}\n",
        )
        .unwrap();
        let mut o = EvalOptions::new(&train, &test);
        o.text_field = "utterance".into();
        o.label_field = "label".into();
        o.lang_field = Some("lang".into());
        let r = evaluate(&o).unwrap();
        assert_eq!(r.n_test, 2);
        assert_eq!(r.per_lang.iter().map(|l| l.lang.as_str()).collect::<Vec<_>>(), ["en", "es"]);
        o.text_field = "missing".into();
        assert!(matches!(evaluate(&o), Err(NluError::Parse { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
