//! `ferry bench memory`: the resident memory of an idle server. Seeds a
//! store (an account, an inbox, buyers' conversations), starts `ferry
//! serve` on it — and `ferry-demo` when it is installed next to `ferry` —
//! waits until it answers and has been idle a while, and reads its
//! resident set from `/proc/<pid>/status`.

use anyhow::Context;
use clap::Args;
use ferry_api::ApiConfig;
use ferry_api::server::Node;
use ferry_app::attachments::MemoryAttachments;
use ferry_app::{AppConfig, NewInboxInput};
use ferry_core::clock::SystemClock;
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_storage::NewAccount;
use ferry_storage_sqlite::{SqliteOptions, SqliteStorage};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of the memory benchmark.
#[derive(Args, Clone)]
pub struct MemoryArgs {
    /// Buyers' messages seeded into the store first.
    #[arg(long, default_value_t = 5_000)]
    messages: usize,
    /// Seconds the server is left idle before its memory is read.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
}

/// The resident set of this process in KiB (0 where `/proc` is absent).
pub fn own_rss_kb() -> u64 {
    rss_kb("/proc/self/status").unwrap_or(0)
}

fn rss_kb(status: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Kills the child when dropped, so a failed run leaves no server behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn seed(path: &Path, messages: usize) -> anyhow::Result<()> {
    let storage = Arc::new(SqliteStorage::open(SqliteOptions::new(path))?);
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
        .create_account(NewAccount { name: "Memory".into(), default_language: "en".into() }, app.clock.now())
        .await?;
    let owner = app
        .create_user(
            account.id,
            ferry_app::NewAgent {
                name: "Owner".into(),
                email: "owner@memory.example".into(),
                password: "memory-password".into(),
                role: ferry_core::account::Role::Owner,
                languages: vec![],
            },
        )
        .await?;
    let created = app
        .create_inbox(
            &ferry_app::auth::Actor::new(owner),
            account.id,
            NewInboxInput { name: "API".into(), channel: ChannelKind::Api, config: InboxConfig::default() },
        )
        .await?;
    let inbox = app.storage.find_inbox(created.id).await?.context("seeded inbox")?;
    for i in 0..messages {
        let inbound = ferry_core::inbound::Inbound {
            account_id: inbox.account_id,
            inbox_id: inbox.id,
            external_id: format!("seed-{i}"),
            sender: ferry_core::inbound::InboundSender {
                identity: ferry_core::contact::Identity::new(
                    ferry_core::contact::IdentityKind::ApiHandle,
                    &format!("buyer-{}", i % 500),
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
        app.ingest(&inbox, inbound).await?;
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `program` with `args` and `env`, waits until `/healthz` answers
/// and `idle` has passed, and returns its resident set in KiB.
async fn idle_rss(
    program: &Path,
    args: &[String],
    env: &[(&str, String)],
    port: u16,
    idle: Duration,
) -> anyhow::Result<u64> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn().with_context(|| format!("cannot start {}", program.display()))?);
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    loop {
        if http.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "{} did not answer on {url}", program.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(idle).await;
    rss_kb(&format!("/proc/{}/status", server.0.id())).context("reading the server's memory")
}

/// Runs the memory benchmark.
pub async fn run(a: MemoryArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("ferry.sqlite");
    seed(&db, a.messages).await?;
    let idle = Duration::from_secs(a.idle_seconds);
    let exe = std::env::current_exe()?;
    let port = free_port()?;
    let serve = idle_rss(
        &exe,
        &["serve".to_owned()],
        &[
            ("FERRY_LISTEN", format!("127.0.0.1:{port}")),
            ("FERRY_DATABASE_URL", format!("sqlite://{}", db.display())),
            ("FERRY_DATA_DIR", dir.path().display().to_string()),
            ("FERRY_LOG", "warn".to_owned()),
        ],
        port,
        idle,
    )
    .await?;
    println!("ferry bench memory: {} messages seeded, idle {} s", a.messages, a.idle_seconds);
    println!("{:<34} {:>8.1} MB resident", "ferry serve", serve as f64 / 1024.0);
    let demo_program = exe.with_file_name("ferry-demo");
    let mut demo = None;
    if demo_program.exists() {
        let port = free_port()?;
        let demo_dir = dir.path().join("demo");
        let kb = idle_rss(
            &demo_program,
            &[
                "--listen".to_owned(),
                format!("127.0.0.1:{port}"),
                "--data-dir".to_owned(),
                demo_dir.display().to_string(),
            ],
            &[("FERRY_LOG", "warn".to_owned())],
            port,
            idle,
        )
        .await?;
        println!("{:<34} {:>8.1} MB resident", "ferry-demo (seeded demo shop)", kb as f64 / 1024.0);
        demo = Some(kb);
    }
    println!(
        "bench_memory serve_rss_mb={:.1} demo_rss_mb={}",
        serve as f64 / 1024.0,
        demo.map_or("none".to_owned(), |kb| format!("{:.1}", kb as f64 / 1024.0))
    );
    Ok(())
}
