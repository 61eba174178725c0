//! Test kit: start a real Ferry node on a random port with a fresh
//! database (SQLite file or a new PostgreSQL database), seed tenants, and
//! call the API with typed helpers. The listener is bound before the server
//! starts, so no test waits for start-up; jobs are drained, not waited on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod dovecot;
pub mod mail_relay;

use ferry_api::ApiConfig;
use ferry_api::server::{Background, Node};
use ferry_app::attachments::MemoryAttachments;
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
    match backend {
        Backend::Sqlite => {
            let opts = ferry_storage_sqlite::SqliteOptions::new(dir.join("ferry.sqlite"));
            Some(Arc::new(ferry_storage_sqlite::SqliteStorage::open(opts).unwrap()))
        }
        Backend::Postgres => match ferry_storage_postgres::fresh_test_database(&postgres_admin_url()).await {
            Ok((_, s)) => Some(Arc::new(s)),
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
}

impl SpawnOptions {
    /// Defaults for `backend`.
    pub fn new(backend: Backend) -> Self {
        Self { backend, max_body_bytes: 1024 * 1024, clock: Arc::new(SystemClock), smtp: None, sms: None }
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
    let storage = fresh_storage(o.backend, dir.path()).await?;
    let node = Node::new(
        storage,
        o.clock,
        Arc::new(MemoryAttachments::default()),
        AppConfig { smtp: o.smtp.clone(), sms: o.sms.clone(), ..AppConfig::default() },
        ApiConfig { max_body_bytes: o.max_body_bytes, secure_cookies: false },
    );
    node.spawn_background(Background {
        dispatcher: true,
        worker: false,
        snooze_timer: false,
        detectors: false,
        housekeeping: false,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (app, worker) = (node.app.clone(), node.worker.clone());
    tokio::spawn(node.serve(listener, std::future::pending()));
    Some(TestApp { addr, base: format!("http://{addr}"), app, worker, http: reqwest::Client::new(), _dir: dir })
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

/// A local SMTP server that accepts every message and keeps it, for tests
/// of the e-mail Ferry sends (speaks just enough SMTP for a client).
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    messages: Arc<std::sync::Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// Starts the sink on a random local port.
    pub async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let messages = Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                store.lock().unwrap().push(std::mem::take(body));
                                data = None;
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                body.push_str(line.strip_prefix('.').unwrap_or(&line));
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        Self { addr, messages }
    }

    /// The configuration that sends through this sink.
    pub fn config(&self) -> ferry_app::SmtpConfig {
        ferry_app::SmtpConfig { url: format!("smtp://{}", self.addr).into(), from: "Ferry <codes@ferry.test>".into() }
    }

    /// Messages received so far (headers and body).
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

/// One SMS an [`SmsSink`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    /// `To`.
    pub to: String,
    /// `From`.
    pub from: String,
    /// `Body`.
    pub body: String,
}

/// A local server speaking Twilio's Messages API (`POST
/// /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic auth),
/// keeping every message it accepts, for tests of the SMS Ferry sends.
pub struct SmsSink {
    /// Where it listens.
    pub addr: SocketAddr,
    messages: Arc<std::sync::Mutex<Vec<Sms>>>,
}

/// The sink's account sid and auth token.
pub const SMS_SID: &str = "AC00000000000000000000000000000001";
const SMS_TOKEN: &str = "sms-auth-token-for-tests";

impl SmsSink {
    /// Starts the sink on a random local port.
    pub async fn start() -> Self {
        use axum::extract::{Path, State};
        use axum::http::{HeaderMap, StatusCode};
        type Store = Arc<std::sync::Mutex<Vec<Sms>>>;
        async fn create(
            State(store): State<Store>,
            Path(sid): Path<String>,
            headers: HeaderMap,
            body: String,
        ) -> (StatusCode, axum::Json<Value>) {
            use base64::Engine;
            let expected =
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{SMS_SID}:{SMS_TOKEN}")));
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            if sid != SMS_SID || auth != Some(expected.as_str()) {
                let e = serde_json::json!({"code": 20003, "message": "Authenticate", "status": 401,
                    "more_info": "https://www.twilio.com/docs/errors/20003"});
                return (StatusCode::UNAUTHORIZED, axum::Json(e));
            }
            let form: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
            let field = |k: &str| form.get(k).cloned().unwrap_or_default();
            if !field("To").starts_with('+') {
                let e = serde_json::json!({"code": 21211, "message": format!("The 'To' number {} is not a valid phone number.", field("To")), "status": 400});
                return (StatusCode::BAD_REQUEST, axum::Json(e));
            }
            let mut list = store.lock().unwrap();
            list.push(Sms { to: field("To"), from: field("From"), body: field("Body") });
            let msg = serde_json::json!({"sid": format!("SM{:032}", list.len()), "status": "queued",
                "to": field("To"), "from": field("From"), "body": field("Body"), "account_sid": SMS_SID});
            (StatusCode::CREATED, axum::Json(msg))
        }
        let messages: Store = Arc::default();
        let app = axum::Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", axum::routing::post(create))
            .with_state(messages.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, messages }
    }

    /// The configuration that sends through this sink.
    pub fn config(&self) -> ferry_app::SmsConfig {
        ferry_app::SmsConfig {
            base_url: format!("http://{}", self.addr),
            account_sid: SMS_SID.into(),
            auth_token: SMS_TOKEN.into(),
            from: "+15005550006".into(),
        }
    }

    /// Messages accepted so far.
    pub fn messages(&self) -> Vec<Sms> {
        self.messages.lock().unwrap().clone()
    }
}
