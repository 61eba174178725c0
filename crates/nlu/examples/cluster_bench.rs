//! Times frequent-question clustering on N messages made from the Bitext
//! customer-support set (its 3,612 questions repeated with variations:
//! other order numbers, greetings and thanks around them, a dropped letter)
//! spread over 30 days, and prints purity against the real intents.
//!
//! cargo run --release -p ferry-nlu --example cluster_bench -- [N] [DATA_DIR] [PARAMS_JSON]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use ferry_nlu::{ClusterParams, Clusterer, Fields, QuestionItem, load_examples, purity};

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn vary(text: &str, rng: &mut SplitMix) -> String {
    const BEFORE: [&str; 5] = ["", "hi, ", "hello ", "good morning, ", "hey "];
    const AFTER: [&str; 5] = ["", " thanks", " please", "!", " asap"];
    let mut words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            if w.chars().any(|c| c.is_ascii_digit()) {
                format!("{:08}", rng.next() % 100_000_000)
            } else {
                w.to_owned()
            }
        })
        .collect();
    if !words.is_empty() && rng.below(3) == 0 {
        let i = rng.below(words.len());
        let w: Vec<char> = words[i].chars().collect();
        if w.len() > 3 {
            let j = rng.below(w.len());
            words[i] = w.iter().enumerate().filter(|(k, _)| *k != j).map(|(_, c)| *c).collect();
        }
    }
    format!("{}{}{}", BEFORE[rng.below(5)], words.join(" "), AFTER[rng.below(5)])
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = args
        .get(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("FERRY_SHARED_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let path = dir.join("intent/bitext_customer_support/train.csv");
    let fields = Fields { text: "instruction".into(), ..Fields::default() };
    let base = match load_examples(&path, &fields) {
        Ok(b) if !b.is_empty() => b,
        Ok(_) | Err(_) => {
            eprintln!("cannot read {}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let mut rng = SplitMix(7);
    let span = 30 * 24 * 3600;
    let mut items = Vec::with_capacity(n);
    let mut labels = HashMap::with_capacity(n);
    for i in 0..n {
        let e = &base[rng.below(base.len())];
        let text = if i < base.len() { e.text.clone() } else { vary(&e.text, &mut rng) };
        let ts = (i as i64 * span) / n as i64;
        items.push(QuestionItem::new(i as i64, text, ts).with_channel(["web", "whatsapp", "email"][i % 3]));
        labels.insert(i as i64, e.label.clone());
    }
    // The steps of `cluster_all`, timed one by one.
    let started = Instant::now();
    let params: ClusterParams = match args.get(2).map(|j| serde_json::from_str(j)) {
        None => ClusterParams::default(),
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut c = Clusterer::new(params);
    for it in &items {
        c.observe(&it.text);
    }
    let observed = started.elapsed();
    for it in &items {
        // No embedder: adding cannot fail.
        if let Err(e) = c.add(it.clone()) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let added = started.elapsed();
    let incremental = c.cluster_count();
    let merges = c.consolidate();
    let consolidated = started.elapsed();
    if let Err(e) = c.refine(&items) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let refined = started.elapsed();
    let summaries = c.summaries(span);
    let total = started.elapsed();
    println!(
        "{n} messages: observe {:.2} s, add {:.2} s ({:.1} µs/message, {incremental} clusters), consolidate {:.2} s ({merges} merges), refine {:.2} s, summaries {:.2} s; total {:.2} s",
        observed.as_secs_f64(),
        (added - observed).as_secs_f64(),
        (added - observed).as_secs_f64() * 1e6 / n as f64,
        (consolidated - added).as_secs_f64(),
        (refined - consolidated).as_secs_f64(),
        (total - refined).as_secs_f64(),
        total.as_secs_f64()
    );
    let big = summaries.iter().filter(|s| s.size >= 10).count();
    println!(
        "{} clusters ({big} of 10+ messages), purity {:.3} against 27 intents",
        summaries.len(),
        purity(&summaries, &labels)
    );
    ExitCode::SUCCESS
}
