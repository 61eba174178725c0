//! `ferry bench intake`: the signed webhook path over loopback with
//! concurrent clients, against two ceilings measured in the same run — a
//! bare route of the same server that only verifies the signature (HTTP),
//! and the store's best batched insert of equivalent rows (storage). The
//! messages go in windows on a growing store, so the rate on a grown store
//! shows next to the first window's; the store's size per message, the
//! outbox's size and the process's memory close the report.
//! `ferry bench memory`: the resident memory of an idle `ferry serve`.

use anyhow::Context;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use clap::{Args, Subcommand};
use ferry_api::ApiConfig;
use ferry_api::server::{Background, Node};
use ferry_app::attachments::MemoryAttachments;
use ferry_app::{AppConfig, NewInboxInput};
use ferry_core::clock::SystemClock;
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::signature;
use ferry_storage::NewAccount;
use ferry_storage_sqlite::{Durability, SqliteOptions, SqliteStorage};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which benchmark.
#[derive(Subcommand)]
pub enum Which {
    /// Webhook intake throughput and latency on SQLite.
    Intake(IntakeArgs),
    /// Resident memory of an idle `ferry serve` on a store seeded like the
    /// intake benchmark's.
    Memory(crate::bench_memory::MemoryArgs),
    /// Bot decisions in-process: language, intent, FAQ, entities, policy
    /// and the rendered answer, one message at a time.
    Bot(BotArgs),
    /// Shopify backfill through a local Admin API into a fresh SQLite
    /// store, killed half-way and resumed; runs `ferry-demo bench
    /// backfill`, which holds the local Admin API.
    #[command(disable_help_flag = true)]
    Backfill {
        /// Passed to `ferry-demo bench backfill` (`--orders`, `--bucket`,
        /// `--leak`, `--help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Outgoing WhatsApp messages through the delivery engine with the
    /// number's rate limit off and on; runs `ferry-demo bench delivery`,
    /// which holds the local Graph API.
    #[command(disable_help_flag = true)]
    Delivery {
        /// Passed to `ferry-demo bench delivery` (`--messages`,
        /// `--buyers`, `--postgres`, `--help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// A campaign to a segment of 100,000 contacts on WhatsApp, sent by a
    /// `ferry serve` node killed part-way and started again; runs
    /// `ferry-demo bench campaign`, which holds the local Graph API.
    #[command(disable_help_flag = true)]
    Campaign {
        /// Passed to `ferry-demo bench campaign` (`--contacts`, `--rate`,
        /// `--holdout`, `--kill-at`, `--postgres`, `--help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// An order CSV of N orders imported into a fresh SQLite store, twice.
    Import(crate::bench_import::ImportArgs),
    /// Two nodes on PostgreSQL and NATS: how soon a message posted to one
    /// shows on a console connected to the other, under a steady load.
    Cluster(crate::bench_cluster::ClusterArgs),
    /// Message and contact search over a seeded store: SQLite with the
    /// tantivy index, or PostgreSQL's full text (`--database`).
    Search(crate::bench_search::SearchArgs),
    /// Reports over a store seeded through the use cases (intake, replies,
    /// hand-offs, resolutions, reopenings): the seeding rate with the
    /// facts kept current, each report's p50/p95, and a rebuild that must
    /// give the same figures. SQLite, or PostgreSQL with `--database`.
    Insights(crate::bench_insights::InsightsArgs),
}

/// Options of the bot benchmark.
#[derive(Args, Clone)]
pub struct BotArgs {
    /// Decisions to time.
    #[arg(long, default_value_t = 20_000)]
    pub decisions: usize,
    /// CSV of buyer messages (column `instruction`); defaults to the Bitext
    /// customer-support set in ../shared/data when present.
    #[arg(long)]
    pub messages: Option<std::path::PathBuf>,
}

/// Options of the intake benchmark.
#[derive(Args, Clone)]
pub struct IntakeArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Messages sent through intake in all (in windows on a growing store).
    #[arg(long, default_value_t = 40_000)]
    messages: usize,
    /// Messages per window, and per measurement of the ceilings.
    #[arg(long, default_value_t = 40_000)]
    window: usize,
    /// Distinct buyers the messages come from.
    #[arg(long, default_value_t = 2_000)]
    buyers: usize,
    /// SQLite `synchronous` mode: full or normal.
    #[arg(long, default_value = "full")]
    synchronous: String,
}

/// Runs a benchmark.
pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Intake(a) => intake(a).await,
        Which::Memory(a) => crate::bench_memory::run(a).await,
        Which::Bot(a) => crate::bench_bot::run(a),
        Which::Backfill { .. } => anyhow::bail!("`ferry bench backfill` runs in the `ferry-demo` program"),
        Which::Delivery { .. } => anyhow::bail!("`ferry bench delivery` runs in the `ferry-demo` program"),
        Which::Campaign { .. } => anyhow::bail!("`ferry bench campaign` runs in the `ferry-demo` program"),
        Which::Import(a) => crate::bench_import::run(a).await,
        Which::Cluster(a) => crate::bench_cluster::run(a).await,
        Which::Search(a) => crate::bench_search::run(a).await,
        Which::Insights(a) => crate::bench_insights::run(a).await,
    }
}

struct Run {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

async fn load(url: String, bodies: Arc<Vec<(Vec<u8>, String)>>, clients: usize) -> anyhow::Result<Run> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, bodies, next) = (http.clone(), url.clone(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, sig)) = bodies.get(i) else { break };
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-ferry-signature", sig)
                    .body(body.clone())
                    .send()
                    .await?;
                let status = r.status();
                r.bytes().await?;
                anyhow::ensure!(status.is_success(), "request failed with {status}");
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::with_capacity(bodies.len());
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    Ok(Run { rate: all.len() as f64 / elapsed.as_secs_f64(), p50: pct(0.50), p99: pct(0.99) })
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn bodies(n: usize, buyers: usize, offset: usize, secret: &str) -> Arc<Vec<(Vec<u8>, String)>> {
    let texts = [
        "Where is my order #1001? It has been two weeks.",
        "¿Cuándo llegará mi pedido?",
        "我的包裹什么时候到？",
        "Can I return the shoes if they don't fit?",
        "Ich möchte meine Bestellung stornieren.",
    ];
    Arc::new(
        (0..n)
            .map(|i| {
                let body = serde_json::json!({
                    "external_id": format!("bench-{}", offset + i),
                    "sender": { "handle": format!("buyer-{}", i % buyers), "name": format!("Buyer {}", i % buyers) },
                    "text": texts[i % texts.len()],
                });
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                let sig = signature::sign(secret.as_bytes(), &bytes);
                (bytes, sig)
            })
            .collect(),
    )
}

async fn intake(a: IntakeArgs) -> anyhow::Result<()> {
    let durability = match a.synchronous.as_str() {
        "full" => Durability::Full,
        "normal" => Durability::Normal,
        other => anyhow::bail!("--synchronous must be full or normal, not {other}"),
    };
    anyhow::ensure!(a.window > 0 && a.messages > 0, "--messages and --window must be positive");
    let window = a.window.min(a.messages);
    let dir = tempfile::tempdir()?;
    let db_path = dir.path().join("bench.sqlite");
    let storage = Arc::new(SqliteStorage::open(SqliteOptions { durability, ..SqliteOptions::new(&db_path) })?);
    let node = Node::new(
        storage,
        Arc::new(SystemClock),
        Arc::new(MemoryAttachments::default()),
        AppConfig::default(),
        ApiConfig::default(),
    );
    let app = node.app.clone();
    let account = app
        .storage
        .create_account(NewAccount { name: "Bench".into(), default_language: "en".into() }, app.clock.now())
        .await?;
    let owner = app
        .create_user(
            account.id,
            ferry_app::NewAgent {
                name: "Bench".into(),
                email: "bench@bench.example".into(),
                password: "bench-password".into(),
                role: ferry_core::account::Role::Owner,
                languages: vec![],
            },
        )
        .await?;
    let inbox = app
        .create_inbox(
            &ferry_app::auth::Actor::new(owner),
            account.id,
            NewInboxInput { name: "Bench".into(), channel: ChannelKind::Api, config: InboxConfig::default() },
        )
        .await?;
    let secret = inbox.secret.clone();
    let bare_secret = secret.clone();
    // The HTTP ceiling: same server, same body limit and middleware, a route
    // that verifies the signature and answers.
    let router = node.router.clone().route(
        "/bench/bare",
        post(move |headers: HeaderMap, body: Bytes| {
            let secret = bare_secret.clone();
            async move {
                let sig = headers.get("x-ferry-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
                if signature::verify(secret.as_bytes(), &body, sig) {
                    (StatusCode::OK, "{\"ok\":true}")
                } else {
                    (StatusCode::UNAUTHORIZED, "{}")
                }
            }
        }),
    );
    node.spawn_background(Background {
        dispatcher: true,
        worker: false,
        snooze_timer: false,
        detectors: false,
        housekeeping: true,
        mailboxes: false,
        search_indexer: false,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });

    println!(
        "ferry bench intake: {} clients, {} messages in windows of {} from {} buyers, SQLite WAL synchronous={}",
        a.clients,
        a.messages,
        window,
        a.buyers,
        a.synchronous.to_uppercase()
    );
    // Warm-up: connections, caches, the first contacts.
    let warm = window / 10;
    let intake_url = format!("http://{addr}/webhooks/api/{}", inbox.id);
    load(intake_url.clone(), bodies(warm, a.buyers, 100_000_000, &secret), a.clients).await?;
    let bare =
        load(format!("http://{addr}/bench/bare"), bodies(window, a.buyers, 200_000_000, &secret), a.clients).await?;
    // The store grows window by window; the first window is the figure on
    // a small store, the last on a grown one.
    let mut windows = Vec::new();
    let (mut sent, started) = (0, Instant::now());
    while sent < a.messages {
        let n = window.min(a.messages - sent);
        let r = load(intake_url.clone(), bodies(n, a.buyers, sent, &secret), a.clients).await.context("intake run")?;
        sent += n;
        if a.messages > window {
            println!(
                "  window {:>3}: {:>8} stored  {:>8.0} msg/s  p99 {:>7.2} ms",
                windows.len() + 1,
                sent,
                r.rate,
                r.p99.as_secs_f64() * 1e3
            );
        }
        windows.push(r);
    }
    let overall = sent as f64 / started.elapsed().as_secs_f64();
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else { anyhow::bail!("no window ran") };
    let intake = Run { rate: first.rate, p50: first.p50, p99: first.p99 };
    let grown = Run { rate: last.rate, p50: last.p50, p99: last.p99 };
    // Intake without HTTP: the same use case called by concurrent tasks.
    let direct = {
        let inbox = Arc::new(app.storage.find_inbox(inbox.id).await?.context("bench inbox")?);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..a.clients {
            let (app, inbox, next) = (app.clone(), inbox.clone(), next.clone());
            let (n, buyers) = (window, a.buyers);
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let inbound = ferry_core::inbound::Inbound {
                        account_id: inbox.account_id,
                        inbox_id: inbox.id,
                        external_id: format!("direct-{i}"),
                        sender: ferry_core::inbound::InboundSender {
                            identity: ferry_core::contact::Identity::new(
                                ferry_core::contact::IdentityKind::ApiHandle,
                                &format!("buyer-{}", i % buyers),
                                Some(inbox.id),
                            )?,
                            extra_identities: vec![],
                            name: None,
                            language: None,
                        },
                        parts: vec![ferry_core::message::ContentPart::Text { text: "Where is my order #1001?".into() }],
                        sent_at: app.clock.now(),
                        meta: Default::default(),
                    };
                    let t = Instant::now();
                    app.ingest(&inbox, inbound).await?;
                    lat.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(lat)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let elapsed = start.elapsed();
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default()
        };
        Run { rate: all.len() as f64 / elapsed.as_secs_f64(), p50: pct(0.5), p99: pct(0.99) }
    };
    let storage_dir = tempfile::tempdir()?;
    let ceiling_path = storage_dir.path().join("ceiling.sqlite");
    let n = window;
    let storage_rate = tokio::task::spawn_blocking(move || {
        ferry_storage_sqlite::batched_insert_ceiling(&ceiling_path, n, 512, durability)
    })
    .await??;

    let row = |name: &str, r: &Run| {
        println!(
            "{name:<34} {:>10.0} msg/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            r.rate,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3
        )
    };
    row("intake (signed webhook, stored)", &intake);
    if windows.len() > 1 {
        row(&format!("intake, last window ({sent} stored)"), &grown);
        println!("{:<34} {:>10.0} msg/s", format!("intake, all {sent} messages"), overall);
        println!("sustained on the grown store: {:.2} of the first window", grown.rate / intake.rate);
    }
    row("HTTP ceiling (verify + answer)", &bare);
    row("intake use case without HTTP", &direct);
    println!(
        "{:<34} {:>10.0} rows/s (message + outbox row, 512 per transaction)",
        "storage ceiling (batched insert)", storage_rate
    );
    let lower = bare.rate.min(storage_rate);
    let which = if bare.rate <= storage_rate { "HTTP" } else { "storage" };
    println!("ratio to the lower ceiling ({which}): {:.2}", intake.rate / lower);
    println!("ratio to the HTTP ceiling: {:.2}", intake.rate / bare.rate);
    // The store after the run: events published, then pruned.
    let outbox_before = app.storage.outbox_size().await?;
    let wait = Instant::now();
    while app.storage.count_unpublished_events().await? > 0 && wait.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.prune_published_events().await?;
    let outbox_after = app.storage.outbox_size().await?;
    let stored = (sent + warm + window) as u64;
    let db_bytes = file_size(&db_path) + file_size(&dir.path().join("bench.sqlite-wal"));
    println!(
        "store: {:.1} MB, {:.0} bytes per message ({} messages); outbox at the end of the run {} rows / {} bytes, \
         after pruning {} rows",
        db_bytes as f64 / 1e6,
        db_bytes as f64 / stored as f64,
        stored,
        outbox_before.rows,
        outbox_before.payload_bytes,
        outbox_after.rows
    );
    let rss = crate::bench_memory::own_rss_kb();
    println!("process resident memory after the run: {:.1} MB", rss as f64 / 1024.0);
    println!(
        "bench_intake rate={:.0} p50_ms={:.2} p99_ms={:.2} grown_rate={:.0} overall_rate={:.0} messages={} \
         http_ceiling={:.0} storage_ceiling={:.0} ratio={:.2} db_bytes_per_message={:.0} outbox_rows={} synchronous={}",
        intake.rate,
        intake.p50.as_secs_f64() * 1e3,
        intake.p99.as_secs_f64() * 1e3,
        grown.rate,
        overall,
        sent,
        bare.rate,
        storage_rate,
        intake.rate / lower,
        db_bytes as f64 / stored as f64,
        outbox_after.rows,
        a.synchronous
    );
    Ok(())
}
