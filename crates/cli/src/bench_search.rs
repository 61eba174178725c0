//! `ferry bench search`: seeds a store with N multilingual messages (the
//! real sentences of the shared data sets when present, generated text
//! otherwise) and M contacts, builds the search index, then times message
//! searches for rare and common words and contact searches: p50, p95, p99.
//! SQLite with the tantivy index by default; PostgreSQL's full text with
//! `--database postgres://…` (a fresh database is made on that server).

use anyhow::Context;
use clap::Args;
use ferry_core::AccountId;
use ferry_search::{MessageFilter, MessageQuery, SearchIndex};
use ferry_storage::Storage;
use ferry_storage::search::{SeedContact, SeedConversation};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of the search benchmark.
#[derive(Args, Clone)]
pub struct SearchArgs {
    /// Messages to seed.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// Contacts to seed.
    #[arg(long, default_value_t = 100_000)]
    contacts: usize,
    /// Searches timed per kind.
    #[arg(long, default_value_t = 300)]
    queries: usize,
    /// A PostgreSQL server (`postgres://…`, allowed to create databases);
    /// SQLite with tantivy when absent.
    #[arg(long)]
    database: Option<String>,
    /// The shared data sets (sentences from `intent/**/*.jsonl`).
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
}

/// A tiny deterministic generator (xorshift): the same corpus every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Sentences by language.
fn sentences(data: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    let mut dirs = vec![data.join("intent")];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if let Some(t) = v["text"].as_str().filter(|t| t.len() > 3) {
                let lang = v["lang"].as_str().unwrap_or("en").to_owned();
                out.push((lang, t.to_owned()));
            }
        }
    }
    out
}

/// Sentences made up from a small vocabulary, when the data sets are
/// absent.
fn generated(rng: &mut Rng) -> Vec<(String, String)> {
    const WORDS: &[&str] = &[
        "order", "parcel", "refund", "return", "delivery", "late", "broken", "size", "colour", "invoice", "address",
        "payment", "card", "cancel", "tracking", "number", "shoes", "jacket", "please", "help", "where", "when",
        "still", "waiting", "received", "wrong", "item", "exchange", "discount", "coupon",
    ];
    (0..20_000)
        .map(|i| {
            let n = 4 + rng.below(8);
            let mut s: Vec<String> = (0..n).map(|_| WORDS[rng.below(WORDS.len())].to_owned()).collect();
            s.push(format!("w{i}"));
            ("en".to_owned(), s.join(" "))
        })
        .collect()
}

fn contacts(n: usize, rng: &mut Rng) -> Vec<SeedContact> {
    const FIRST: &[&str] = &[
        "Anna", "Ben", "Chloé", "David", "Elena", "Felix", "Grace", "Hiro", "Ines", "Jonas", "Kim", "Lena", "Mateo",
        "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara", "Wei", "Yuki", "Zoe", "Li Na", "Minh",
    ];
    const LAST: &[&str] = &[
        "Schmidt", "Martin", "García", "Rossi", "Tanaka", "Kowalski", "Novak", "Jensen", "Silva", "Dubois", "Müller",
        "Smith", "Nguyen", "Wang", "Kim", "Sato", "Costa", "Larsen", "Fischer", "Moreau", "Ivanova", "Öztürk",
    ];
    (0..n)
        .map(|i| {
            let first = FIRST[rng.below(FIRST.len())];
            let last = LAST[rng.below(LAST.len())];
            SeedContact {
                name: format!("{first} {last}"),
                email: format!("{}.{}{i}@mail.example", first.to_lowercase().replace(' ', ""), last.to_lowercase()),
                phone: format!("+49151{:08}", 10_000_000 + i),
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

async fn time<F, Fut>(label: &str, queries: &[String], mut run: F) -> anyhow::Result<()>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    for q in queries.iter().take(20) {
        run(q.clone()).await?;
    }
    let mut times = Vec::with_capacity(queries.len());
    let mut found = 0usize;
    for q in queries {
        let started = Instant::now();
        found += run(q.clone()).await?;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "bench_search kind={label} queries={} p50_ms={:.2} p95_ms={:.2} p99_ms={:.2} mean_hits={:.1}",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        found as f64 / times.len().max(1) as f64
    );
    Ok(())
}

/// Runs the search benchmark.
pub async fn run(a: SearchArgs) -> anyhow::Result<()> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut pool = sentences(&a.data);
    if pool.is_empty() {
        println!("data sets not found under {} (pass --data): using generated English text instead", a.data.display());
        pool = generated(&mut rng);
    }
    let mut by_lang: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (lang, _)) in pool.iter().enumerate() {
        by_lang.entry(lang.clone()).or_default().push(i);
    }
    let langs: Vec<String> = {
        let mut l: Vec<_> = by_lang.keys().cloned().collect();
        l.sort();
        l
    };
    println!(
        "corpus: {} sentences in {} languages ({}); {} messages, {} contacts",
        pool.len(),
        langs.len(),
        langs.join(" "),
        a.messages,
        a.contacts
    );
    // Words of the corpus by how often they occur.
    let mut freq: HashMap<String, usize> = HashMap::new();
    for (_, s) in &pool {
        for w in s.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 4) {
            *freq.entry(w.to_lowercase()).or_default() += 1;
        }
    }
    let mut rare: Vec<String> = freq.iter().filter(|(_, n)| **n == 1).map(|(w, _)| w.clone()).collect();
    rare.sort();
    let mut common: Vec<(String, usize)> = freq.iter().map(|(w, n)| (w.clone(), *n)).collect();
    common.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let common: Vec<String> = common.into_iter().take(20).map(|(w, _)| w).collect();
    let rare_q: Vec<String> = (0..a.queries).map(|_| rare[rng.below(rare.len())].clone()).collect();
    let common_q: Vec<String> = (0..a.queries).map(|i| common[i % common.len().max(1)].clone()).collect();
    let people = contacts(a.contacts, &mut rng);
    let contact_q: Vec<String> = (0..a.queries)
        .map(|i| {
            let c = &people[rng.below(people.len())];
            match i % 3 {
                0 => c.name.clone(),
                1 => c.email.clone(),
                _ => c.phone[c.phone.len() - 8..].to_owned(),
            }
        })
        .collect();

    // The conversations, made as they are written.
    let (n_messages, n_contacts) = (a.messages, people.len());
    let mut gen_rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut made = 0usize;
    let conversations = std::iter::from_fn(move || {
        if made >= n_messages {
            return None;
        }
        let lang = &langs[gen_rng.below(langs.len())];
        let sentences = &by_lang[lang];
        let count = (1 + gen_rng.below(4)).min(n_messages - made);
        made += count;
        let texts = (0..count)
            .map(|_| {
                let mut t = pool[sentences[gen_rng.below(sentences.len())]].1.clone();
                if gen_rng.below(3) == 0 {
                    t.push(' ');
                    t.push_str(&pool[sentences[gen_rng.below(sentences.len())]].1);
                }
                if gen_rng.below(20) == 0 {
                    t.push_str(&format!(" #{}", 1_000_000 + gen_rng.below(9_000_000)));
                }
                t
            })
            .collect();
        Some(SeedConversation { contact: gen_rng.below(n_contacts), language: Some(lang.clone()), texts })
    });

    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let (storage, account, index): (Arc<dyn Storage>, i64, Arc<dyn SearchIndex>) = match &a.database {
        None => {
            let path = dir.path().join("bench.sqlite");
            let account = ferry_storage_sqlite::seed_search_corpus(&path, &people, conversations)?;
            println!("seeded SQLite in {:.1} s", started.elapsed().as_secs_f64());
            let storage: Arc<dyn Storage> =
                Arc::new(ferry_storage_sqlite::SqliteStorage::open(ferry_storage_sqlite::SqliteOptions::new(&path))?);
            let index = ferry_search::for_storage(storage.clone(), Some(dir.path().join("search")));
            let started = Instant::now();
            let docs = index.rebuild().await?;
            let size = dir_size(&dir.path().join("search"));
            println!(
                "built the tantivy index: {docs} documents in {:.1} s, {:.0} MB on disk",
                started.elapsed().as_secs_f64(),
                size as f64 / 1e6
            );
            (storage, account, index)
        }
        Some(url) => {
            let (_, pg) = ferry_storage_postgres::fresh_test_database(url)
                .await
                .context("cannot make a database for the benchmark on that server")?;
            let account = ferry_storage_postgres::seed_search_corpus(&pg, &people, conversations).await?;
            println!("seeded PostgreSQL (with its indexes) in {:.1} s", started.elapsed().as_secs_f64());
            let storage: Arc<dyn Storage> = Arc::new(pg);
            let index = ferry_search::for_storage(storage.clone(), None);
            (storage, account, index)
        }
    };
    println!("store: {}, search: {}", storage.backend(), index.kind());
    let account = AccountId(account);
    for (label, queries) in [("message_rare_word", &rare_q), ("message_common_word", &common_q)] {
        time(label, queries, |q| {
            let index = index.clone();
            async move {
                let query = MessageQuery { account, q, filter: MessageFilter::default(), limit: 20 };
                Ok(index.messages(&query).await?.len())
            }
        })
        .await?;
    }
    time("contact", &contact_q, |q| {
        let index = index.clone();
        async move { Ok(index.contacts(account, &q, 20).await?.len()) }
    })
    .await?;
    Ok(())
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| e.metadata().map_or(0, |m| if m.is_dir() { dir_size(&e.path()) } else { m.len() }))
            .sum()
    })
}
