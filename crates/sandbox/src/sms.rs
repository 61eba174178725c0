//! A local server speaking Twilio's Messages API (`POST
//! /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From`,
//! `Body` and `StatusCallback`, HTTP basic auth with the account sid and
//! token): Twilio's answers (`201` with the message's `sid`) and errors
//! (`20003` for bad credentials, `21211` for a number that is not E.164,
//! `21610` for a number that texted STOP), keeping every message it
//! accepts. It also fetches the account (`GET
//! /2010-04-01/Accounts/{sid}.json`), serves MMS files (`GET
//! /media/{id}`, basic auth), and posts what Twilio posts to an inbox's
//! webhook, signed with `X-Twilio-Signature`: buyers' SMS and MMS
//! (`NumMedia`, `MediaUrl{n}`, `MediaContentType{n}`) and the status
//! callbacks (`MessageStatus`) of the messages it accepted.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The account sid the stand-in accepts.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
/// The auth token the stand-in accepts.
pub const AUTH_TOKEN: &str = "sms-auth-token-for-tests";
/// A sender number (Twilio's magic test number).
pub const FROM: &str = "+15005550006";

/// One SMS the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    /// `To`.
    pub to: String,
    /// `From`.
    pub from: String,
    /// `Body`.
    pub body: String,
}

#[derive(Default)]
struct Inner {
    messages: Vec<Sms>,
    sids: Vec<String>,
    callbacks: HashMap<String, String>,
    media: HashMap<String, (Vec<u8>, String)>,
    /// (the URL signatures cover, the URL posted to).
    webhook: Option<(String, String)>,
    stopped: HashSet<String>,
}

struct Shared {
    ids: AtomicU64,
    http: reqwest::Client,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Store = Arc<Shared>;

/// A running stand-in; stops when dropped.
pub struct SmsSink {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Store,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmsSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn unauthorized() -> (StatusCode, Json<Value>) {
    let e = json!({"code": 20003, "message": "Authenticate", "status": 401,
        "more_info": "https://www.twilio.com/docs/errors/20003"});
    (StatusCode::UNAUTHORIZED, Json(e))
}

async fn create(
    State(store): State<Store>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    if sid != ACCOUNT_SID || !authorized(&headers) {
        return unauthorized();
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    if !field("To").starts_with('+') {
        let e = json!({"code": 21211, "message": format!("The 'To' number {} is not a valid phone number.", field("To")), "status": 400});
        return (StatusCode::BAD_REQUEST, Json(e));
    }
    let mut inner = store.lock();
    if inner.stopped.contains(&field("To")) {
        let e = json!({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400});
        return (StatusCode::BAD_REQUEST, Json(e));
    }
    inner.messages.push(Sms { to: field("To"), from: field("From"), body: field("Body") });
    let message_sid = format!("SM{:032}", inner.messages.len());
    inner.sids.push(message_sid.clone());
    if !field("StatusCallback").is_empty() {
        inner.callbacks.insert(message_sid.clone(), field("StatusCallback"));
    }
    let msg = json!({"sid": message_sid, "status": "queued",
        "to": field("To"), "from": field("From"), "body": field("Body"), "account_sid": ACCOUNT_SID,
        "num_segments": "1"});
    (StatusCode::CREATED, Json(msg))
}

async fn account(Path(sid): Path<String>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    let sid = sid.trim_end_matches(".json");
    if sid != ACCOUNT_SID || !authorized(&headers) {
        return unauthorized();
    }
    (StatusCode::OK, Json(json!({"sid": ACCOUNT_SID, "friendly_name": "Ferry sandbox", "status": "active"})))
}

async fn media(State(store): State<Store>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return unauthorized().into_response();
    }
    match store.lock().media.get(&id).cloned() {
        Some((bytes, ct)) => ([("content-type", ct)], bytes).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"code": 20404, "message": "not found"}))).into_response(),
    }
}

impl SmsSink {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder().build().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { ids: AtomicU64::new(1), http, inner: Mutex::default() });
        let app = axum::Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", axum::routing::post(create))
            .route("/2010-04-01/Accounts/{sid}", axum::routing::get(account))
            .route("/media/{id}", axum::routing::get(media))
            .with_state(shared.clone())
            .layer(axum::middleware::map_response(crate::tag));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the SMS stand-in stopped");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// The base URL to configure as the SMS provider.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The settings (`config.extra["sms"]`) of an SMS inbox that talks to
    /// it.
    pub fn settings(&self) -> Value {
        json!({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": FROM, "api_base": self.base_url()})
    }

    /// Messages accepted so far.
    pub fn messages(&self) -> Vec<Sms> {
        self.shared.lock().messages.clone()
    }

    /// The sids of the messages accepted so far, in order.
    pub fn sids(&self) -> Vec<String> {
        self.shared.lock().sids.clone()
    }

    /// The status callback URL given with message `sid`.
    pub fn status_callback(&self, sid: &str) -> Option<String> {
        self.shared.lock().callbacks.get(sid).cloned()
    }

    /// Where buyers' messages go: signed over `signed_url` (the URL the
    /// provider was given), posted to `post_url` (where the server really
    /// listens; the same unless a proxy is between them).
    pub fn set_webhook(&self, signed_url: &str, post_url: &str) {
        self.shared.lock().webhook = Some((signed_url.to_owned(), post_url.to_owned()));
    }

    /// Sends to `number` are refused with `21610` (it texted STOP to the
    /// provider itself).
    pub fn unsubscribe(&self, number: &str) {
        self.shared.lock().stopped.insert(number.to_owned());
    }

    /// Posts `params` to the webhook, signed (or with `signature` instead,
    /// when given); the receiver's status (0 when unreachable or none is
    /// set).
    pub async fn post_params(&self, params: &[(String, String)], signature: Option<&str>) -> u16 {
        let Some((signed, post)) = self.shared.lock().webhook.clone() else { return 0 };
        let sig = signature
            .map(str::to_owned)
            .unwrap_or_else(|| ferry_core::sms_signature::sign(AUTH_TOKEN, &signed, params));
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
        let r = self
            .shared
            .http
            .post(post)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(body)
            .send()
            .await;
        r.map_or(0, |r| r.status().as_u16())
    }

    /// The parameters of a buyer's SMS (with MMS files when `files` has
    /// some) from `from` to `to`, with a new `MessageSid`.
    pub fn inbound(&self, from: &str, to: &str, body: &str, files: &[(Vec<u8>, &str)]) -> Vec<(String, String)> {
        let n = self.shared.ids.fetch_add(1, Ordering::SeqCst);
        let sid = format!("{}{n:032}", if files.is_empty() { "SM" } else { "MM" });
        let mut p = vec![
            ("MessageSid".to_owned(), sid.clone()),
            ("SmsSid".to_owned(), sid.clone()),
            ("AccountSid".to_owned(), ACCOUNT_SID.to_owned()),
            ("From".to_owned(), from.to_owned()),
            ("To".to_owned(), to.to_owned()),
            ("Body".to_owned(), body.to_owned()),
            ("NumSegments".to_owned(), "1".to_owned()),
            ("SmsStatus".to_owned(), "received".to_owned()),
            ("NumMedia".to_owned(), files.len().to_string()),
        ];
        for (i, (bytes, ct)) in files.iter().enumerate() {
            let id = format!("ME{n}x{i}");
            self.shared.lock().media.insert(id.clone(), (bytes.clone(), (*ct).to_owned()));
            p.push((format!("MediaUrl{i}"), format!("{}/media/{id}", self.base_url())));
            p.push((format!("MediaContentType{i}"), (*ct).to_owned()));
        }
        p
    }

    /// Posts a buyer's SMS; the receiver's status and the message's sid.
    pub async fn buyer_sms(&self, from: &str, body: &str, files: &[(Vec<u8>, &str)]) -> (u16, String) {
        let p = self.inbound(from, FROM, body, files);
        let sid = p[0].1.clone();
        (self.post_params(&p, None).await, sid)
    }

    /// Posts the status callback `status` (`sent`, `delivered`,
    /// `undelivered`, `failed`) of accepted message `sid`, signed over the
    /// callback URL it was sent with, to the webhook's post URL.
    pub async fn report(&self, sid: &str, status: &str, error_code: Option<u32>) -> u16 {
        let Some(callback) = self.status_callback(sid) else { return 0 };
        let Some((_, post)) = self.shared.lock().webhook.clone() else { return 0 };
        let mut p = vec![
            ("MessageSid".to_owned(), sid.to_owned()),
            ("SmsSid".to_owned(), sid.to_owned()),
            ("AccountSid".to_owned(), ACCOUNT_SID.to_owned()),
            ("MessageStatus".to_owned(), status.to_owned()),
            ("SmsStatus".to_owned(), status.to_owned()),
            ("From".to_owned(), FROM.to_owned()),
        ];
        if let Some(c) = error_code {
            p.push(("ErrorCode".to_owned(), c.to_string()));
        }
        let sig = ferry_core::sms_signature::sign(AUTH_TOKEN, &callback, &p);
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(p.iter()).finish();
        let r = self
            .shared
            .http
            .post(post)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(body)
            .send()
            .await;
        r.map_or(0, |r| r.status().as_u16())
    }
}
