//! `ferry bench cluster`: two nodes on one PostgreSQL database and NATS
//! JetStream, in this process. Buyers' messages are posted to node A's
//! webhook at a steady rate while an agent's console is connected to node
//! B; the time from posting a message to its frame on B's socket is the
//! figure an agent lives with.

use anyhow::Context;
use clap::Args;
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::signature;
use ferry_storage::NewAccount;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options of the cluster benchmark.
#[derive(Args, Clone)]
pub struct ClusterArgs {
    /// Messages to post.
    #[arg(long, default_value_t = 5_000)]
    messages: usize,
    /// Messages per second (a steady load, not a burst).
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// PostgreSQL server where a fresh database is made (and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    /// NATS server with JetStream.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
}

struct Started {
    base: String,
    _node: tokio::task::JoinHandle<()>,
}

async fn start(cfg: &crate::config::Config) -> anyhow::Result<Started> {
    let storage = crate::open_storage(cfg).await?;
    let node = crate::connect_node(cfg, storage).await?;
    node.spawn_background(crate::Role::All.background());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let handle = tokio::spawn(async move {
        let _ = node.serve(listener, std::future::pending()).await;
    });
    Ok(Started { base, _node: handle })
}

/// Runs the benchmark.
pub async fn run(a: ClusterArgs) -> anyhow::Result<()> {
    let (url, storage) = ferry_storage_postgres::fresh_test_database(&a.postgres)
        .await
        .with_context(|| format!("cannot make a database on {}", a.postgres))?;
    let result = measure(&a, &url, Arc::new(storage)).await;
    if let Err(e) = ferry_storage_postgres::drop_test_database(&a.postgres, &url).await {
        eprintln!("could not drop the benchmark's database: {e}");
    }
    result
}

async fn measure(a: &ClusterArgs, url: &str, storage: Arc<dyn ferry_storage::Storage>) -> anyhow::Result<()> {
    let cfg = crate::config::Config {
        database_url: crate::config::Secret::from(url),
        nats_url: crate::config::Secret::from(a.nats.as_str()),
        nats_prefix: format!("bench{}", std::process::id()),
        log: "warn".into(),
        ..crate::config::Config::default()
    };
    // The tenant, written before the nodes start.
    let seed = crate::node(&cfg, storage).await?;
    let app = seed.app.clone();
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
    let token = app.issue_token(&owner, "bench").await?;
    let config: InboxConfig = serde_json::from_value(serde_json::json!({"bot_enabled": false}))?;
    let actor = ferry_app::auth::Actor::new(owner);
    let new = ferry_app::NewInboxInput { name: "Shop API".into(), channel: ChannelKind::Api, config };
    let inbox = app.create_inbox(&actor, account.id, new).await?;

    let node_a = start(&cfg).await?;
    let node_b = start(&cfg).await?;
    let ws_url = format!("{}/ws?api_access_token={token}", node_b.base.replacen("http://", "ws://", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.context("connecting to node B's socket")?;
    ws.next().await.context("node B's socket closed")??;

    // When each message was posted, by its text; the reader finds its frame.
    let posted: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let reader = {
        let posted = posted.clone();
        let total = a.messages;
        tokio::spawn(async move {
            let mut lat = Vec::with_capacity(total);
            while lat.len() < total {
                let Some(Ok(frame)) = ws.next().await else { break };
                let Ok(text) = frame.to_text() else { continue };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else { continue };
                if v["event"] != "message_created" {
                    continue;
                }
                let Some(t) = v["data"]["text"].as_str() else { continue };
                let at = posted.lock().unwrap_or_else(|e| e.into_inner()).remove(t);
                if let Some(at) = at {
                    lat.push(at.elapsed());
                }
            }
            lat
        })
    };

    println!(
        "cluster: 2 nodes in one process, PostgreSQL + NATS JetStream, {} messages at {}/s to node A, console on node B",
        a.messages, a.rate
    );
    let http = reqwest::Client::new();
    let webhook = format!("{}/webhooks/api/{}", node_a.base, inbox.id);
    let every = Duration::from_secs_f64(1.0 / f64::from(a.rate.max(1)));
    let started = Instant::now();
    let mut sends = Vec::new();
    for i in 0..a.messages {
        // A steady rate: message i leaves at i × interval.
        let due = started + every * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let text = format!("bench message {i}");
        let body = serde_json::to_vec(&serde_json::json!({
            "external_id": format!("b{i}"),
            "sender": { "handle": format!("buyer-{}", i % 500), "name": "Buyer" },
            "text": text,
        }))?;
        let sig = signature::sign(inbox.secret.as_bytes(), &body);
        posted.lock().unwrap_or_else(|e| e.into_inner()).insert(text, Instant::now());
        let req = http.post(&webhook).header("content-type", "application/json").header("x-ferry-signature", sig);
        let req = req.body(body);
        sends.push(tokio::spawn(async move { req.send().await.map(|r| r.status().is_success()) }));
    }
    let mut failed = 0;
    for s in sends {
        if !matches!(s.await, Ok(Ok(true))) {
            failed += 1;
        }
    }
    let mut lat =
        tokio::time::timeout(Duration::from_secs(60), reader).await.context("frames stopped arriving on node B")??;
    let elapsed = started.elapsed();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied();
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "  {} of {} reached node B ({failed} posts failed) in {:.1} s",
        lat.len(),
        a.messages,
        elapsed.as_secs_f64()
    );
    println!(
        "  webhook on A → frame on B: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.50)),
        ms(pct(0.95)),
        ms(pct(0.99)),
        ms(lat.last().copied())
    );
    Ok(())
}
