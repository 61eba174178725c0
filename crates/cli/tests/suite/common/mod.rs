//! Running `ferry serve` processes on a shared store for the scale-out and
//! crash tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::routing::post;
use ferry_cli::config::{Config, Secret};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_storage::{NewAccount, Storage};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether tests must fail rather than skip when a service is missing.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The NATS server tests use.
pub fn nats_url() -> String {
    std::env::var("FERRY_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

fn nats_reachable() -> bool {
    let url = nats_url();
    let addr = url.trim_start_matches("nats://");
    std::net::TcpStream::connect_timeout(
        &addr.parse().unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 4222))),
        Duration::from_secs(2),
    )
    .is_ok()
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where nodes keep their data: one PostgreSQL database (and NATS) shared
/// by every node, or one SQLite file for the embedded mode.
pub struct Cluster {
    /// `postgres://…` or empty for SQLite in `dir`.
    pub database_url: String,
    /// NATS URL, when nodes use it.
    pub nats: Option<String>,
    /// The installation's prefix on NATS (unique per test).
    pub prefix: String,
    /// Data directory (SQLite, attachments).
    pub dir: tempfile::TempDir,
    store: tokio::sync::OnceCell<Arc<dyn Storage>>,
}

impl Cluster {
    /// A fresh PostgreSQL database and NATS; `None` (with a message) when
    /// either is missing outside CI.
    pub async fn prepare() -> Option<Cluster> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let admin = std::env::var("FERRY_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let (url, _) = match ferry_storage_postgres::fresh_test_database(&admin).await {
            Ok(found) => found,
            Err(e) => {
                assert!(!under_ci(), "PostgreSQL is required under CI: {e}");
                eprintln!("skipping: PostgreSQL not reachable at {admin}: {e}");
                return None;
            }
        };
        if !nats_reachable() {
            assert!(!under_ci(), "NATS is required under CI at {}", nats_url());
            eprintln!("skipping: NATS not reachable at {}", nats_url());
            return None;
        }
        let prefix = format!("t{:x}", rand_suffix());
        Some(Cluster {
            database_url: url,
            nats: Some(nats_url()),
            prefix,
            dir: tempfile::tempdir().unwrap(),
            store: Default::default(),
        })
    }

    /// One embedded node's SQLite store.
    pub fn embedded() -> Cluster {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Cluster {
            database_url: String::new(),
            nats: None,
            prefix: "ferry".into(),
            dir: tempfile::tempdir().unwrap(),
            store: Default::default(),
        }
    }

    pub fn config(&self) -> Config {
        Config {
            database_url: Secret::from(self.database_url.as_str()),
            data_dir: Some(self.dir.path().to_path_buf()),
            ..Config::default()
        }
    }

    /// The store, opened by the test itself.
    pub async fn storage(&self) -> Arc<dyn Storage> {
        self.store.get_or_init(|| async { ferry_cli::open_storage(&self.config()).await.unwrap() }).await.clone()
    }

    /// Account, owner and agent tokens and an API inbox whose outgoing
    /// messages go to `callback`, written before any node starts.
    pub async fn seed(&self, callback: &str) -> Seeded {
        let node = ferry_cli::node(&self.config(), self.storage().await).await.unwrap();
        let app = node.app.clone();
        let account = app
            .storage
            .create_account(NewAccount { name: "Scale".into(), default_language: "en".into() }, app.clock.now())
            .await
            .unwrap();
        let user = |name: &str, role| ferry_app::NewAgent {
            name: name.into(),
            email: format!("{}@scale.example", name.to_lowercase()),
            password: "a-long-password".into(),
            role,
            languages: vec![],
        };
        let owner = app.create_user(account.id, user("Owner", ferry_core::account::Role::Owner)).await.unwrap();
        let agent = app.create_user(account.id, user("Agent", ferry_core::account::Role::Agent)).await.unwrap();
        let token = app.issue_token(&owner, "scale test").await.unwrap();
        let agent_token = app.issue_token(&agent, "scale test").await.unwrap();
        let config: InboxConfig =
            serde_json::from_value(json!({"bot_enabled": false, "callback_url": callback})).unwrap();
        let actor = ferry_app::auth::Actor::new(owner);
        let new = ferry_app::NewInboxInput { name: "Shop API".into(), channel: ChannelKind::Api, config };
        let inbox = app.create_inbox(&actor, account.id, new).await.unwrap();
        Seeded { account: account.id.0, inbox: inbox.id.0, secret: inbox.secret, token, agent_token }
    }

    /// Starts `ferry serve --role <role>` on a new port.
    pub fn serve(&self, role: &str) -> Server {
        self.serve_on(role, free_port())
    }

    /// Starts `ferry serve --role <role>` on `port`.
    pub fn serve_on(&self, role: &str, port: u16) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
        cmd.args(["serve", "--role", role])
            .current_dir(self.dir.path())
            .env_remove("FERRY_CONFIG")
            .env("FERRY_DATABASE_URL", &self.database_url)
            .env("FERRY_DATA_DIR", self.dir.path())
            .env("FERRY_LISTEN", format!("127.0.0.1:{port}"))
            .env("FERRY_LOG", "warn")
            .env("FERRY_JOBS__LEASE_SECONDS", "2")
            .env("FERRY_NATS_PREFIX", &self.prefix)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        match &self.nats {
            Some(url) => cmd.env("FERRY_NATS_URL", url),
            None => cmd.env_remove("FERRY_NATS_URL"),
        };
        Server { child: Some(cmd.spawn().unwrap()), port, base: format!("http://127.0.0.1:{port}") }
    }
}

fn rand_suffix() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    t ^ u64::from(std::process::id())
}

/// What [`Cluster::seed`] wrote.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub account: i64,
    pub inbox: i64,
    pub secret: String,
    pub token: String,
    pub agent_token: String,
}

/// A running `ferry serve`.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub base: String,
}

impl Server {
    /// `ws://127.0.0.1:port`.
    pub fn ws_base(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits for `ready`, polling; fails after `deadline`.
pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !ready().await {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the node to answer `/healthz`.
pub async fn wait_up(http: &reqwest::Client, base: &str) {
    wait_until("the server to answer", Duration::from_secs(30), || async {
        http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await;
}

/// Posts a buyer's message to the API inbox's webhook, signed; returns the
/// HTTP status (0 when the node did not answer).
pub async fn post_buyer(
    http: &reqwest::Client,
    base: &str,
    s: &Seeded,
    external: &str,
    handle: &str,
    text: &str,
) -> u16 {
    post_buyer_to(http, base, s, external, handle, text).await.0
}

/// Like [`post_buyer`], with the conversation id of an acknowledged post.
pub async fn post_buyer_to(
    http: &reqwest::Client,
    base: &str,
    s: &Seeded,
    external: &str,
    handle: &str,
    text: &str,
) -> (u16, Option<i64>) {
    let body = serde_json::to_vec(&json!({
        "external_id": external,
        "sender": { "handle": handle, "name": format!("Buyer {handle}") },
        "text": text,
    }))
    .unwrap();
    let sig = ferry_core::signature::sign(s.secret.as_bytes(), &body);
    let sent = http
        .post(format!("{base}/webhooks/api/{}", s.inbox))
        .header("content-type", "application/json")
        .header("x-ferry-signature", sig)
        .body(body)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let Ok(r) = sent else { return (0, None) };
    let status = r.status().as_u16();
    match r.json::<Value>().await {
        Ok(v) => (status, v["conversation_id"].as_i64()),
        Err(_) => (0, None),
    }
}

/// The newest conversation of the seeded inbox.
pub async fn first_conversation(http: &reqwest::Client, base: &str, s: &Seeded) -> i64 {
    let list: Value = http
        .get(format!("{base}/api/v1/accounts/{}/conversations?inbox_id={}&limit=1", s.account, s.inbox))
        .header("api_access_token", &s.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["data"][0]["id"].as_i64().unwrap()
}

/// Outgoing messages still queued, counted from the store.
pub async fn queued(cluster: &Cluster, account: i64) -> usize {
    let storage = cluster.storage().await;
    let (mut n, mut before) = (0, None);
    loop {
        let page = storage.list_deliveries(ferry_core::AccountId(account), "queued", before, 100).await.unwrap();
        let Some(last) = page.last() else { return n };
        n += page.len();
        before = Some(last.id);
    }
}

/// The API inbox's callback: records every delivery Ferry makes.
pub struct CallbackReceiver {
    pub url: String,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl CallbackReceiver {
    pub async fn start() -> Self {
        let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
        let record = seen.clone();
        let router = axum::Router::new().route(
            "/deliver",
            post(move |body: axum::body::Bytes| {
                let record = record.clone();
                async move {
                    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                        record.lock().unwrap().push(v);
                    }
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/deliver", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { url, seen }
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn calls(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }
}
