//! Test kit: start a real Ferry node on a random port with a fresh
//! database (SQLite file or a new PostgreSQL database), seed tenants, and
//! call the API with typed helpers. The listener is bound before the server
//! starts, so no test waits for start-up; jobs are drained, not waited on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod dovecot;
pub mod mail_relay;
pub mod s3;

use ferry_api::ApiConfig;
use ferry_api::server::{Background, Node};
use ferry_app::attachments::{AttachmentStore, MemoryAttachments};
use ferry_app::{App, AppConfig, NewAgent, NewInboxInput};
use ferry_core::account::Role;
use ferry_core::clock::{Clock, SystemClock};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::{AccountId, InboxId, signature};
use ferry_jobs::Worker;
use ferry_storage::{NewAccount, Storage};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the local PostgreSQL server.
    Postgres,
}

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("FERRY_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A store of `backend`, or `None` (with a printed reason) when PostgreSQL
/// is not reachable outside CI. Under `CI=true` an unreachable PostgreSQL
/// fails the test.
pub async fn fresh_storage(backend: Backend, dir: &std::path::Path) -> Option<Arc<dyn Storage>> {
    Some(fresh_database(backend, dir).await?.0)
}

/// Like [`fresh_storage`], with the PostgreSQL database's URL (for another
/// node to join it).
async fn fresh_database(backend: Backend, dir: &std::path::Path) -> Option<(Arc<dyn Storage>, Option<String>)> {
    match backend {
        Backend::Sqlite => {
            let opts = ferry_storage_sqlite::SqliteOptions::new(dir.join("ferry.sqlite"));
            Some((Arc::new(ferry_storage_sqlite::SqliteStorage::open(opts).unwrap()), None))
        }
        Backend::Postgres => match ferry_storage_postgres::fresh_test_database(&postgres_admin_url()).await {
            Ok((url, s)) => Some((Arc::new(s), Some(url))),
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("PostgreSQL is required under CI but not reachable at {}: {e}", postgres_admin_url());
                }
                eprintln!("skipping: PostgreSQL not reachable at {}: {e}", postgres_admin_url());
                None
            }
        },
    }
}

/// Declares, for each `async fn name(backend: Backend)` listed, a module
/// `name` with a test on SQLite and one on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )+};
}

/// A tenant seeded for a test.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Account.
    pub account: AccountId,
    /// Owner's API token.
    pub owner_token: String,
    /// An agent's API token.
    pub agent_token: String,
    /// The agent's user id.
    pub agent_id: i64,
    /// An API inbox.
    pub inbox: InboxId,
    /// Its webhook secret.
    pub secret: String,
}

/// A running node.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://addr`.
    pub base: String,
    /// Its use cases.
    pub app: Arc<App>,
    /// Its job worker (not running by itself: call `drain_jobs`).
    pub worker: Arc<Worker>,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// The PostgreSQL database it runs on (`None` on SQLite).
    pub database_url: Option<String>,
    _dir: tempfile::TempDir,
}

/// Options of [`spawn_with`].
pub struct SpawnOptions {
    /// Backend.
    pub backend: Backend,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Outgoing mail.
    pub smtp: Option<ferry_app::SmtpConfig>,
    /// Outgoing SMS.
    pub sms: Option<ferry_app::SmsConfig>,
    /// Token `/metrics` requires.
    pub metrics_token: Option<String>,
    /// Attachment store; `None`: in memory.
    pub attachments: Option<Arc<dyn AttachmentStore>>,
    /// Largest attachment upload.
    pub max_attachment_bytes: u64,
    /// Join this PostgreSQL database instead of making a fresh one (a
    /// second node of the same deployment; see [`TestApp::spawn_peer`]).
    pub join_database: Option<String>,
    /// The platform API's token (`None`: the platform API is off).
    pub platform_token: Option<String>,
    /// Outgoing webhooks (receivers on loopback allowed by default: the
    /// tests' receivers run there).
    pub webhooks: ferry_app::webhooks::WebhookSettings,
}

impl SpawnOptions {
    /// Defaults for `backend`.
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            max_body_bytes: 1024 * 1024,
            clock: Arc::new(SystemClock),
            smtp: None,
            sms: None,
            metrics_token: None,
            attachments: None,
            // As small as the body limit, so tests reach it cheaply.
            max_attachment_bytes: 1024 * 1024,
            join_database: None,
            platform_token: None,
            webhooks: ferry_app::webhooks::WebhookSettings {
                allow_private_targets: true,
                ..ferry_app::webhooks::WebhookSettings::default()
            },
        }
    }
}

/// Starts a node on `backend`; `None` when the backend is unavailable
/// (see [`fresh_storage`]).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_with(SpawnOptions::new(backend)).await
}

/// Starts a node with options.
pub async fn spawn_with(o: SpawnOptions) -> Option<TestApp> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (storage, database_url) = match o.join_database {
        Some(url) => {
            let s: Arc<dyn Storage> = Arc::new(ferry_storage_postgres::PostgresStorage::connect(&url).await.unwrap());
            (s, Some(url))
        }
        None => fresh_database(o.backend, dir.path()).await?,
    };
    let node = Node::new(
        storage,
        o.clock,
        o.attachments.unwrap_or_else(|| Arc::new(MemoryAttachments::default())),
        AppConfig {
            smtp: o.smtp.clone(),
            sms: o.sms.clone(),
            max_attachment_bytes: o.max_attachment_bytes,
            webhooks: o.webhooks,
            ..AppConfig::default()
        },
        ApiConfig {
            max_body_bytes: o.max_body_bytes,
            secure_cookies: false,
            behind_proxy: false,
            metrics_token: o.metrics_token.map(Into::into),
            platform_token: o.platform_token.map(Into::into),
        },
    );
    node.spawn_background(Background {
        dispatcher: true,
        worker: false,
        snooze_timer: false,
        detectors: false,
        housekeeping: false,
        mailboxes: false,
        search_indexer: true,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (app, worker) = (node.app.clone(), node.worker.clone());
    tokio::spawn(node.serve(listener, std::future::pending()));
    Some(TestApp {
        addr,
        base: format!("http://{addr}"),
        app,
        worker,
        http: reqwest::Client::new(),
        database_url,
        _dir: dir,
    })
}

/// An answer: status and JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub json: Value,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// Starts another node on this node's PostgreSQL database, as a second
    /// node of one deployment (its own pool, bus and worker); `o.backend`
    /// must be PostgreSQL.
    pub async fn spawn_peer(&self, o: SpawnOptions) -> TestApp {
        assert_eq!(o.backend, Backend::Postgres, "nodes share a database on PostgreSQL only");
        let url = self.database_url.clone().expect("this node runs on PostgreSQL");
        spawn_with(SpawnOptions { join_database: Some(url), ..o }).await.expect("the database is reachable")
    }

    /// Creates an account with an owner, an agent and an API inbox.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let now = self.app.clock.now();
        let acct = self
            .app
            .storage
            .create_account(NewAccount { name: name.into(), default_language: "en".into() }, now)
            .await
            .unwrap();
        let slug: String = name.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let owner = self
            .app
            .create_user(
                acct.id,
                NewAgent {
                    name: format!("{name} Owner"),
                    email: format!("owner@{slug}.example"),
                    password: "owner-password".into(),
                    role: Role::Owner,
                    languages: vec!["en".into()],
                },
            )
            .await
            .unwrap();
        let agent = self
            .app
            .create_user(
                acct.id,
                NewAgent {
                    name: format!("{name} Agent"),
                    email: format!("agent@{slug}.example"),
                    password: "agent-password".into(),
                    role: Role::Agent,
                    languages: vec!["en".into(), "zh".into()],
                },
            )
            .await
            .unwrap();
        let owner_token = self.app.issue_token(&owner, "tests").await.unwrap();
        let agent_token = self.app.issue_token(&agent, "tests").await.unwrap();
        let actor = self.app.actor_from_token(&owner_token).await.unwrap();
        let inbox = self
            .app
            .create_inbox(
                &actor,
                acct.id,
                NewInboxInput { name: "Shop API".into(), channel: ChannelKind::Api, config: InboxConfig::default() },
            )
            .await
            .unwrap();
        Tenant {
            account: acct.id,
            owner_token,
            agent_token,
            agent_id: agent.id.0,
            inbox: inbox.id,
            secret: inbox.secret,
        }
    }

    /// Calls the API with a token.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("api_access_token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        Self::answer(resp).await
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// POSTs a raw body (a file upload) with a token.
    pub async fn post_bytes(&self, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("api_access_token", token)
            .header("content-type", content_type)
            .body(body);
        Self::answer(req.send().await.unwrap()).await
    }

    async fn answer(resp: reqwest::Response) -> Answer {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, json, headers }
    }

    /// Posts raw bytes to an API inbox's webhook, signed with `secret`
    /// (unsigned when `None`).
    pub async fn webhook_raw(&self, inbox: InboxId, secret: Option<&str>, body: Vec<u8>) -> Answer {
        let mut req =
            self.http.post(format!("{}/webhooks/api/{inbox}", self.base)).header("content-type", "application/json");
        if let Some(s) = secret {
            req = req.header("x-ferry-signature", signature::sign(s.as_bytes(), &body));
        }
        Self::answer(req.body(body).send().await.unwrap()).await
    }

    /// Posts a JSON message to the tenant's API inbox, correctly signed.
    pub async fn webhook(&self, t: &Tenant, body: &Value) -> Answer {
        self.webhook_raw(t.inbox, Some(&t.secret), serde_json::to_vec(body).unwrap()).await
    }

    /// Runs due jobs until none is left.
    pub async fn drain_jobs(&self) -> usize {
        self.worker.drain().await.unwrap()
    }

    /// The WebSocket URL for a token.
    pub fn ws_url(&self, token: &str) -> String {
        format!("ws://{}/ws?api_access_token={token}", self.addr)
    }
}

/// A buyer message body for the API webhook.
pub fn buyer_message(external_id: &str, handle: &str, text: &str) -> Value {
    serde_json::json!({ "external_id": external_id, "sender": { "handle": handle, "name": format!("Buyer {handle}") }, "text": text })
}

impl TestApp {
    /// Posts a Shopify webhook to a connection, signed with `secret` like
    /// Shopify does (base64 HMAC-SHA256 of the raw body).
    pub async fn shopify_webhook(
        &self,
        connection: i64,
        secret: &str,
        topic: &str,
        webhook_id: &str,
        body: &Value,
    ) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        let sig = ferry_commerce::shopify::sign(secret.as_bytes(), &bytes);
        let req = self
            .http
            .post(format!("{}/webhooks/shopify/{connection}", self.base))
            .header("content-type", "application/json")
            .header("x-shopify-topic", topic)
            .header("x-shopify-hmac-sha256", sig)
            .header("x-shopify-webhook-id", webhook_id)
            .body(bytes);
        Self::answer(req.send().await.unwrap()).await
    }
}

pub use ferry_sandbox::sms::{Sms, SmsSink};
pub use ferry_sandbox::smtp::SmtpSink;

/// The Ferry configuration that sends through a sandbox stand-in.
pub trait SinkConfig {
    /// Ferry's settings for the provider.
    type Config;
    /// Settings that send through this stand-in.
    fn config(&self) -> Self::Config;
}

impl SinkConfig for SmtpSink {
    type Config = ferry_app::SmtpConfig;
    fn config(&self) -> ferry_app::SmtpConfig {
        ferry_app::SmtpConfig { url: self.url().into(), from: "Ferry <codes@ferry.test>".into() }
    }
}

impl SinkConfig for SmsSink {
    type Config = ferry_app::SmsConfig;
    fn config(&self) -> ferry_app::SmsConfig {
        ferry_app::SmsConfig {
            base_url: self.base_url(),
            account_sid: ferry_sandbox::sms::ACCOUNT_SID.into(),
            auth_token: ferry_sandbox::sms::AUTH_TOKEN.into(),
            from: ferry_sandbox::sms::FROM.into(),
        }
    }
}
