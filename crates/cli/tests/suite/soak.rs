//! Nodes killed with SIGKILL under a steady webhook load, 20 times each
//! run, on both set-ups: two nodes on PostgreSQL + NATS (one of them is
//! killed and restarted, the other stays up) and the embedded single node
//! on SQLite. Afterwards:
//! - every acknowledged buyer message is stored exactly once (the sender
//!   retries what was not acknowledged, as channel providers do);
//! - every message reached the agent's console: live on a node that stayed
//!   up, or replayed when the console reconnected with the last event id
//!   it saw;
//! - every reply written during the load was delivered (at least once: a
//!   node killed mid-send sends again; the count of repeats is printed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::*;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KILLS: usize = 20;
const PER_KILL: usize = 15;
const BUYERS: usize = 8;

#[derive(Default)]
struct Seen {
    markers: HashSet<String>,
    last_event: Option<i64>,
    reconnects: usize,
    /// Sockets opened (the server subscribes before the upgrade completes).
    connects: usize,
    resyncs: usize,
    ids: Vec<i64>,
    afters: Vec<i64>,
}

/// An agent's console: reads frames, remembers the markers of buyer
/// messages and the last event id; when the socket drops, reconnects with
/// `after` (to any of `bases`).
fn console(
    bases: Vec<String>,
    token: String,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut turn = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let base = &bases[turn % bases.len()];
            turn += 1;
            let after = {
                let mut s = seen.lock().unwrap();
                if let Some(a) = s.last_event {
                    s.afters.push(a);
                }
                s.last_event.map(|id| format!("&after={id}")).unwrap_or_default()
            };
            let url = format!("{}/ws?api_access_token={token}{after}", base.replacen("http://", "ws://", 1));
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            seen.lock().unwrap().connects += 1;
            while let Some(Ok(frame)) = ws.next().await {
                let Ok(text) = frame.to_text() else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text) else { continue };
                let mut s = seen.lock().unwrap();
                if v["event"] == "resync" {
                    s.resyncs += 1;
                }
                if let Some(id) = v["id"].as_i64() {
                    s.ids.push(id);
                    s.last_event = Some(s.last_event.map_or(id, |l| l.max(id)));
                }
                if v["event"] == "message_created"
                    && let Some(t) = v["data"]["text"].as_str()
                    && t.starts_with("soak-")
                {
                    s.markers.insert(t.to_owned());
                }
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
            seen.lock().unwrap().reconnects += 1;
        }
    })
}

async fn soak(cluster: Cluster, two_nodes: bool) {
    let started = Instant::now();
    let receiver = CallbackReceiver::start().await;
    let s = cluster.seed(&receiver.url).await;
    let http = reqwest::Client::new();
    let stable = two_nodes.then(|| cluster.serve("all"));
    let victim_port = free_port();
    let mut victim = cluster.serve_on("all", victim_port);
    wait_up(&http, &victim.base).await;
    if let Some(n) = &stable {
        wait_up(&http, &n.base).await;
    }
    let victim_base = victim.base.clone();
    let bases: Vec<String> = stable.iter().map(|n| n.base.clone()).chain([victim_base.clone()]).collect();

    // The console stays on the stable node when there is one; alone, it
    // follows the killed node through its restarts.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let console_bases = vec![bases[0].clone()];
    let agent = console(console_bases, s.token.clone(), seen.clone(), stop.clone());
    // The load starts once the console listens: what came before it
    // connected is not its to see.
    wait_until("the console to connect", Duration::from_secs(60), || async { seen.lock().unwrap().connects > 0 }).await;

    // The load: buyers' messages to every node in turn, retried until
    // acknowledged; a reply every fifth message.
    let acked = Arc::new(AtomicUsize::new(0));
    let loader = {
        let (http, s, bases, acked, stop) = (http.clone(), s.clone(), bases.clone(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut markers = Vec::new();
            let mut replies = Vec::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let marker = format!("soak-{i}");
                let handle = format!("buyer-{}", i % BUYERS);
                let mut turn = i;
                let conv = loop {
                    let base = &bases[turn % bases.len()];
                    turn += 1;
                    if let (200, Some(conv)) = post_buyer_to(&http, base, &s, &format!("m{i}"), &handle, &marker).await
                    {
                        break conv;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                };
                acked.fetch_add(1, Ordering::Relaxed);
                markers.push(marker);
                if i.is_multiple_of(5) {
                    let mut turn = i;
                    loop {
                        let base = &bases[turn % bases.len()];
                        turn += 1;
                        let r = http
                            .post(format!("{base}/api/v1/accounts/{}/conversations/{conv}/messages", s.account))
                            .header("api_access_token", &s.token)
                            .json(&json!({"content": format!("reply-{i}")}))
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await;
                        if let Ok(r) = r
                            && r.status() == reqwest::StatusCode::CREATED
                        {
                            replies.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                i += 1;
            }
            (markers, replies)
        })
    };

    for k in 0..KILLS {
        let goal = (k + 1) * PER_KILL;
        wait_until("the load to go on", Duration::from_secs(60), || async { acked.load(Ordering::Relaxed) >= goal })
            .await;
        victim.kill();
        victim = cluster.serve_on("all", victim_port);
        wait_up(&http, &victim_base).await;
    }
    let target = acked.load(Ordering::Relaxed) + PER_KILL;
    wait_until("the last messages", Duration::from_secs(60), || async { acked.load(Ordering::Relaxed) >= target })
        .await;
    stop.store(true, Ordering::Relaxed);
    let (markers, replies) = loader.await.unwrap();

    // Every acknowledged message is stored once.
    let storage = cluster.storage().await;
    let account = ferry_core::AccountId(s.account);
    let mut stored: HashMap<String, usize> = HashMap::new();
    let filter = ferry_storage::ConversationFilter::default();
    let mut after = None;
    loop {
        let page = storage.list_conversations(account, &filter, after, 100).await.unwrap();
        for c in &page.items {
            for m in storage.list_messages(account, c.id, None, 100_000).await.unwrap() {
                let t = m.text();
                if t.starts_with("soak-") {
                    *stored.entry(t).or_default() += 1;
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    for m in &markers {
        assert_eq!(stored.get(m), Some(&1), "{m} stored {:?} times", stored.get(m));
    }
    assert_eq!(stored.len(), markers.len(), "only acknowledged messages are stored");

    // Every message reached the console, live or replayed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let missing: Vec<String> = {
            let seen = seen.lock().unwrap();
            markers.iter().filter(|m| !seen.markers.contains(*m)).cloned().collect()
        };
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let events = storage.events_after(account, ferry_core::EventId(0), 1_000_000).await.unwrap();
            for m in &missing {
                let found: Vec<i64> = events
                    .iter()
                    .filter(|e| serde_json::to_string(&e.event).unwrap().contains(&format!("\"{m}\"")))
                    .map(|e| e.id.0)
                    .collect();
                let seen = seen.lock().unwrap();
                eprintln!(
                    "{m}: events {found:?}; console's last event {:?}, resyncs {}",
                    seen.last_event, seen.resyncs
                );
                let around: Vec<i64> =
                    seen.ids.iter().copied().filter(|i| (found[0] - 10..found[0] + 10).contains(i)).collect();
                eprintln!("ids seen around it, in order: {around:?}; reconnected after {:?}", seen.afters);
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} messages never reached the console: {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every reply was delivered.
    wait_until("every reply to be delivered", Duration::from_secs(60), || async {
        let got: HashSet<i64> = receiver.calls().iter().filter_map(|c| c["message"]["id"].as_i64()).collect();
        replies.iter().all(|r| got.contains(r))
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    agent.abort();
    let repeats = receiver.count() - replies.len();
    let reconnects = seen.lock().unwrap().reconnects;
    println!(
        "{}: {} kills, {} messages acknowledged and stored once, {} reached the console ({} reconnects), \
         {} replies delivered ({} sent again after a kill), {:.1} s",
        if two_nodes { "two nodes on PostgreSQL + NATS" } else { "one node on SQLite" },
        KILLS,
        markers.len(),
        markers.len(),
        reconnects,
        replies.len(),
        repeats,
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_survive_twenty_kills_of_one() {
    let Some(cluster) = Cluster::prepare().await else { return };
    soak(cluster, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_node_survives_twenty_kills() {
    soak(Cluster::embedded(), false).await;
}
