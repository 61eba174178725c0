//! `ferry-demo bench delivery` (also `ferry bench delivery`): outgoing
//! WhatsApp messages through the delivery engine to the local Graph API
//! stand-in, in a store that has grown. Buyers write first (signed
//! webhooks, so their 24-hour windows are open), then a burst of replies
//! is posted through `App::reply` by concurrent agents, several per buyer,
//! and drained by the node's own worker over HTTP to the stand-in; once
//! with the number's rate limit off, once at WhatsApp's default (80/s).
//! Reports messages per second from the first post to the last one
//! recorded sent, post → accepted latency, duplicates and each buyer's
//! order as the stand-in received them.

use anyhow::Context;
use clap::Args;
use ferry_api::ApiConfig;
use ferry_api::server::{Background, Node};
use ferry_app::attachments::MemoryAttachments;
use ferry_app::auth::Actor;
use ferry_app::{AppConfig, JobSettings, NewInboxInput, NewReply};
use ferry_cli::config::{Config, Secret};
use ferry_core::clock::SystemClock;
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::{AccountId, ConversationId, InboxId, MessageId};
use ferry_sandbox::whatsapp::FakeGraph;
use ferry_storage::NewAccount;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of the delivery benchmark.
#[derive(Args, Clone)]
pub struct DeliveryArgs {
    /// Outgoing messages with the rate limit off.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Outgoing messages at the number's default rate limit (80/s).
    #[arg(long, default_value_t = 2_000)]
    pub limited_messages: usize,
    /// Buyers the messages go to (each gets several, in order).
    #[arg(long, default_value_t = 1_000)]
    pub buyers: usize,
    /// Other buyers in the store before the burst (one conversation each).
    #[arg(long, default_value_t = 3_000)]
    pub seed_buyers: usize,
    /// Messages of each of those conversations.
    #[arg(long, default_value_t = 3)]
    pub seed_messages: usize,
    /// Agents posting replies at once.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Jobs the worker runs at once.
    #[arg(long, default_value_t = JobSettings::default().concurrency)]
    pub concurrency: usize,
    /// A PostgreSQL database to run on instead of a fresh SQLite file.
    #[arg(long)]
    pub postgres: Option<String>,
}

const APP_SECRET: &str = "bench-meta-app-secret";

struct Bench {
    node: Node,
    fake: FakeGraph,
    account: AccountId,
    actor: Actor,
    inbox: InboxId,
    settings: serde_json::Value,
    /// Each buyer's WhatsApp number and conversation.
    buyers: Vec<(String, ConversationId)>,
}

struct Outcome {
    messages: usize,
    secs: f64,
    rate: f64,
    p50: Duration,
    p99: Duration,
    duplicates: usize,
    missing: usize,
    out_of_order: usize,
    failed: usize,
}

fn inbox_config(settings: &serde_json::Value, rate: Option<f64>) -> anyhow::Result<InboxConfig> {
    let mut v = serde_json::json!({"bot_enabled": false, "whatsapp": settings});
    if let Some(r) = rate {
        v["send_rate_per_second"] = serde_json::json!(r);
    }
    Ok(serde_json::from_value(v)?)
}

async fn setup(a: &DeliveryArgs) -> anyhow::Result<(Bench, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let cfg = Config {
        database_url: Secret::from(a.postgres.clone().unwrap_or_default()),
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let storage = ferry_cli::open_storage(&cfg).await?;
    let jobs = JobSettings { concurrency: a.concurrency.max(1), ..JobSettings::default() };
    let node = Node::new(
        storage,
        Arc::new(SystemClock),
        Arc::new(MemoryAttachments::default()),
        AppConfig { jobs, ..AppConfig::default() },
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
                email: format!("bench-{}@bench.example", account.id),
                password: "bench-password".into(),
                role: ferry_core::account::Role::Owner,
                languages: vec![],
            },
        )
        .await?;
    let actor = Actor::new(owner);
    let fake = FakeGraph::start().await?;
    let mut settings = fake.settings("bench-verify");
    settings["app_secret"] = serde_json::json!(APP_SECRET);
    let inbox = app
        .create_inbox(
            &actor,
            account.id,
            NewInboxInput {
                name: "WhatsApp".into(),
                channel: ChannelKind::Whatsapp,
                config: inbox_config(&settings, Some(0.0))?,
            },
        )
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = node.router.clone();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    fake.set_webhook(&format!("http://{addr}/webhooks/whatsapp/{}", inbox.id), APP_SECRET);
    let bench = Bench { node, fake, account: account.id, actor, inbox: inbox.id, settings, buyers: Vec::new() };
    Ok((bench, dir))
}

/// The grown store: other buyers' conversations on an API inbox.
async fn seed(b: &Bench, a: &DeliveryArgs) -> anyhow::Result<()> {
    let app = b.node.app.clone();
    let api = app
        .create_inbox(
            &b.actor,
            b.account,
            NewInboxInput { name: "Shop API".into(), channel: ChannelKind::Api, config: InboxConfig::default() },
        )
        .await?;
    let api = Arc::new(api);
    let total = a.seed_buyers * a.seed_messages;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..a.clients.max(1) {
        let (app, api, next) = (app.clone(), api.clone(), next.clone());
        let buyers = a.seed_buyers.max(1);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(());
                }
                let inbound = ferry_core::inbound::Inbound {
                    account_id: api.account_id,
                    inbox_id: api.id,
                    external_id: format!("seed-{i}"),
                    sender: ferry_core::inbound::InboundSender {
                        identity: ferry_core::contact::Identity::new(
                            ferry_core::contact::IdentityKind::ApiHandle,
                            &format!("seed-buyer-{}", i % buyers),
                            Some(api.id),
                        )?,
                        extra_identities: vec![],
                        name: None,
                        language: None,
                    },
                    parts: vec![ferry_core::message::ContentPart::Text { text: "Where is my order #1001?".into() }],
                    sent_at: app.clock.now(),
                    meta: Default::default(),
                };
                app.ingest(&api, inbound).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Each buyer writes once through the signed webhook, which opens the
/// conversation and its 24-hour window.
async fn buyers_write(b: &mut Bench, n: usize) -> anyhow::Result<()> {
    let numbers: Vec<String> = (0..n).map(|i| format!("4917{:09}", 100_000 + i)).collect();
    let mut conversations = Vec::with_capacity(n);
    for number in numbers {
        let posted = b.fake.buyer_text(&number, "Bench Buyer", "Hello, where is my parcel?").await;
        anyhow::ensure!(posted.status == 200, "the webhook answered {}", posted.status);
        let m = b
            .node
            .app
            .storage
            .find_received_message(b.account, b.inbox, &posted.message_id)
            .await?
            .context("a buyer's message was not stored")?;
        conversations.push((number, m.conversation_id));
    }
    b.buyers = conversations;
    Ok(())
}

/// Posts `n` replies spread over the buyers, several each and in order per
/// buyer, and waits until every one is recorded sent.
async fn burst(b: &Bench, n: usize, clients: usize, round: usize) -> anyhow::Result<Outcome> {
    let app = b.node.app.clone();
    let buyers = Arc::new(b.buyers.clone());
    let clients = clients.clamp(1, buyers.len().max(1));
    let start = Instant::now();
    let started_at = chrono::Utc::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        // Agent k answers the buyers k, k + clients, …, one message each
        // per pass, so each buyer's messages are posted in order.
        let (app, buyers, actor, account) = (app.clone(), buyers.clone(), b.actor.clone(), b.account);
        tasks.push(tokio::spawn(async move {
            let mut posted = Vec::new();
            for i in (k..n).step_by(clients) {
                let buyer = i % buyers.len();
                let Some((_, conv)) = buyers.get(buyer) else { continue };
                let text = format!("Round {round}, message {} for you: your parcel is on its way.", i / buyers.len());
                let at = chrono::Utc::now();
                let m = app
                    .reply(
                        &actor,
                        account,
                        *conv,
                        NewReply { text: Some(text), parts: vec![], private: false, email: None },
                    )
                    .await?;
                posted.push((m.message.id, at, buyer));
            }
            Ok::<_, anyhow::Error>(posted)
        }));
    }
    let mut posted: Vec<(MessageId, chrono::DateTime<chrono::Utc>, usize)> = Vec::with_capacity(n);
    for t in tasks {
        posted.extend(t.await??);
    }
    // Until nothing of the account waits for delivery.
    loop {
        let queued = app.storage.list_deliveries(b.account, "queued", None, 1).await?;
        if queued.is_empty() {
            break;
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(3600), "deliveries did not finish within an hour");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let failed = app.storage.list_deliveries(b.account, "failed", None, 100).await?.len();

    let sent = b.fake.sent();
    let by_ref: HashMap<String, usize> = b.fake.count_by_reference();
    let mut accepted: HashMap<String, chrono::DateTime<chrono::Utc>> = HashMap::new();
    for m in sent.iter().filter(|m| m.received_at >= started_at) {
        if let Some(r) = &m.reference {
            accepted.entry(r.clone()).or_insert(m.received_at);
        }
    }
    let mut latencies = Vec::with_capacity(posted.len());
    let (mut duplicates, mut missing) = (0, 0);
    for (id, at, _) in &posted {
        let key = id.0.to_string();
        match by_ref.get(&key) {
            Some(&c) if c > 1 => duplicates += c - 1,
            None => missing += 1,
            _ => {}
        }
        if let Some(t) = accepted.get(&key) {
            latencies.push((*t - *at).to_std().unwrap_or_default());
        }
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    // Each buyer's messages as the stand-in took them: in the order posted
    // (ids grow in posting order within a buyer).
    let mine: std::collections::HashSet<String> = posted.iter().map(|(id, _, _)| id.0.to_string()).collect();
    let mut last: HashMap<&str, i64> = HashMap::new();
    let mut out_of_order = 0;
    for m in &sent {
        let Some(r) = m.reference.as_deref().filter(|r| mine.contains(*r)) else { continue };
        let id: i64 = r.parse().unwrap_or_default();
        let prev = last.entry(m.to.as_str()).or_insert(i64::MIN);
        if id < *prev {
            out_of_order += 1;
        }
        *prev = id;
    }
    Ok(Outcome {
        messages: posted.len(),
        secs,
        rate: posted.len() as f64 / secs,
        p50: pct(0.5),
        p99: pct(0.99),
        duplicates,
        missing,
        out_of_order,
        failed,
    })
}

/// Runs the benchmark.
pub async fn run(a: DeliveryArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.buyers > 0 && a.messages > 0, "--buyers and --messages must be at least 1");
    let (mut b, _dir) = setup(&a).await?;
    b.node.spawn_background(Background {
        dispatcher: true,
        worker: true,
        snooze_timer: false,
        detectors: false,
        housekeeping: false,
        mailboxes: false,
        search_indexer: false,
    });
    let backend = if a.postgres.is_some() { "PostgreSQL" } else { "SQLite" };
    eprintln!(
        "seeding {} conversations × {} messages, then {} buyers write on WhatsApp…",
        a.seed_buyers, a.seed_messages, a.buyers
    );
    let t = Instant::now();
    seed(&b, &a).await?;
    buyers_write(&mut b, a.buyers).await?;
    eprintln!("seeded in {:.1}s", t.elapsed().as_secs_f64());

    let app = b.node.app.clone();
    eprintln!("burst of {} replies, rate limit off…", a.messages);
    let off = burst(&b, a.messages, a.clients, 1).await?;
    let limited = if a.limited_messages > 0 {
        app.update_inbox(&b.actor, b.account, b.inbox, None, Some(inbox_config(&b.settings, None)?)).await?;
        eprintln!("burst of {} replies at the number's default limit…", a.limited_messages);
        Some(burst(&b, a.limited_messages, a.clients, 2).await?)
    } else {
        None
    };

    println!(
        "ferry bench delivery: WhatsApp through the delivery engine to the local Graph API, {backend}, \
         {} buyers, {} agents posting, worker concurrency {}, store seeded with {} conversations",
        a.buyers,
        a.clients,
        a.concurrency,
        a.seed_buyers + a.buyers
    );
    println!(
        "{:<28} {:>8} {:>9} {:>10} {:>10} {:>10} {:>5} {:>6} {:>7} {:>6}",
        "run", "messages", "secs", "msg/s", "p50 ms", "p99 ms", "dups", "lost", "order", "failed"
    );
    let row = |name: &str, o: &Outcome| {
        println!(
            "{name:<28} {:>8} {:>9.2} {:>10.1} {:>10.1} {:>10.1} {:>5} {:>6} {:>7} {:>6}",
            o.messages,
            o.secs,
            o.rate,
            o.p50.as_secs_f64() * 1e3,
            o.p99.as_secs_f64() * 1e3,
            o.duplicates,
            o.missing,
            if o.out_of_order == 0 { "ok".to_owned() } else { o.out_of_order.to_string() },
            o.failed
        )
    };
    row("rate limit off", &off);
    if let Some(l) = &limited {
        row("default limit (80/s)", l);
    }
    println!("msg/s: first post to the last one recorded sent; latency: post to accepted by the stand-in");
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "bench_delivery rate_off={:.1} p50_off_ms={:.1} p99_off_ms={:.1} rate_limited={:.1} p50_limited_ms={:.1} p99_limited_ms={:.1} \
         duplicates={} lost={} out_of_order={} failed={} messages={} limited_messages={} buyers={} backend={backend} build={build}",
        off.rate,
        off.p50.as_secs_f64() * 1e3,
        off.p99.as_secs_f64() * 1e3,
        limited.as_ref().map_or(0.0, |l| l.rate),
        limited.as_ref().map_or(0.0, |l| l.p50.as_secs_f64() * 1e3),
        limited.as_ref().map_or(0.0, |l| l.p99.as_secs_f64() * 1e3),
        off.duplicates + limited.as_ref().map_or(0, |l| l.duplicates),
        off.missing + limited.as_ref().map_or(0, |l| l.missing),
        off.out_of_order + limited.as_ref().map_or(0, |l| l.out_of_order),
        off.failed + limited.as_ref().map_or(0, |l| l.failed),
        a.messages,
        a.limited_messages,
        a.buyers
    );
    let all = [Some(&off), limited.as_ref()];
    for o in all.into_iter().flatten() {
        anyhow::ensure!(o.duplicates == 0, "{} messages were sent twice", o.duplicates);
        anyhow::ensure!(
            o.missing == 0 && o.failed == 0,
            "{} messages never reached the stand-in",
            o.missing + o.failed
        );
        anyhow::ensure!(o.out_of_order == 0, "{} messages reached their buyer out of order", o.out_of_order);
    }
    Ok(())
}
