//! A local server speaking the Messenger Platform's Graph API for one
//! Facebook Page and its Instagram professional account: the Send API
//! (`POST /{page}/messages`, checking the recipient, `messaging_type`,
//! the 24-hour window and the `HUMAN_AGENT` tag as Meta does), the
//! Attachment Upload API (`POST /{page}/message_attachments`, multipart),
//! `GET /{page}?fields=name`, `GET /{ig account}?fields=username`,
//! `POST /{page}/subscribed_apps`, and a CDN serving buyers' files
//! (`/cdn/{name}`). Errors have Meta's shape (`{"error": {"message",
//! "type", "code", "error_subcode", "fbtrace_id"}}`): a wrong token is
//! code 190, a closed window code 10 subcode 2018278, an unknown
//! recipient code 100 subcode 2018001, a rate limit code 613.
//!
//! It also plays the buyers: [`FakePages::buyer_message`] and friends post
//! signed webhook deliveries (`X-Hub-Signature-256`) to the inbox's URL,
//! and every message the page sends is echoed back like Meta does.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The page's id.
pub const PAGE_ID: &str = "104857600123456";
/// The page's name.
pub const PAGE_NAME: &str = "Ferry Sandbox Shop";
/// The Instagram professional account's id.
pub const INSTAGRAM_ID: &str = "17841400000000042";
/// The Instagram account's username.
pub const INSTAGRAM_USERNAME: &str = "ferry.sandbox.shop";
/// The page access token the stand-in accepts.
pub const ACCESS_TOKEN: &str = "EAAFerrySandboxPageAccessToken0123456789";
/// The Meta app's secret that signs deliveries.
pub const APP_SECRET: &str = "ferry-sandbox-meta-app-secret";
/// The Meta app's id (echoes of its messages carry it).
pub const APP_ID: &str = "640000000000001";

/// One Send API request the page accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// `messenger` or `instagram`.
    pub platform: String,
    /// The recipient's id.
    pub to: String,
    /// `RESPONSE`, `UPDATE` or `MESSAGE_TAG`.
    pub messaging_type: String,
    /// The tag, when tagged.
    pub tag: Option<String>,
    /// The `message` object.
    pub message: Value,
    /// The id Meta gave it.
    pub mid: String,
}

#[derive(Default)]
struct Pages {
    webhooks: HashMap<&'static str, String>,
    sent: Vec<SentMessage>,
    uploads: HashMap<String, (Vec<u8>, String)>,
    cdn: HashMap<String, (Vec<u8>, String)>,
    /// When each buyer last wrote, by platform and id.
    last_from: HashMap<(String, String), DateTime<Utc>>,
    human_agent: bool,
    names: HashMap<String, (String, String)>,
    subscribed: Vec<String>,
    next_error: Option<(u16, Value)>,
}

struct Shared {
    addr: SocketAddr,
    ids: AtomicI64,
    http: reqwest::Client,
    state: Mutex<Pages>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pages> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running stand-in; stops when dropped.
pub struct FakePages {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakePages {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> (u16, Value) {
    let mut e = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AFerrySandbox"});
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    (status, json!({ "error": e }))
}

fn reply(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), axum::Json(body)).into_response()
}

fn fail(e: (u16, Value)) -> Response {
    reply(e.0, e.1)
}

fn platform_of(shared: &Shared, to: &str) -> Option<String> {
    let s = shared.lock();
    ["messenger", "instagram"]
        .into_iter()
        .find(|p| s.last_from.contains_key(&(p.to_string(), to.to_owned())))
        .map(str::to_owned)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/').to_owned();
    if let Some(name) = path.strip_prefix("cdn/") {
        let file = shared.lock().cdn.get(name).cloned();
        return match file {
            Some((bytes, ct)) => ([("content-type", ct)], bytes).into_response(),
            None => (StatusCode::FORBIDDEN, "URL signature expired").into_response(),
        };
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or_else(|| {
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        });
    if token.as_deref() != Some(ACCESS_TOKEN) {
        return fail(graph_error(400, 190, Some(463), "Error validating access token: Session has expired"));
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let segments: Vec<&str> = path.split('/').collect();
    match (method, segments.as_slice()) {
        (Method::GET, [PAGE_ID]) => reply(200, json!({"name": PAGE_NAME, "id": PAGE_ID})),
        (Method::GET, [INSTAGRAM_ID]) => {
            reply(200, json!({"username": INSTAGRAM_USERNAME, "name": PAGE_NAME, "id": INSTAGRAM_ID}))
        }
        (Method::GET, [buyer]) if shared.lock().names.contains_key(*buyer) => {
            let (first, last) = shared.lock().names.get(*buyer).cloned().unwrap_or_default();
            if platform_of(&shared, buyer).as_deref() == Some("instagram") {
                let username = format!("{}.{}", first, last).to_lowercase();
                reply(200, json!({"name": format!("{first} {last}"), "username": username, "id": buyer}))
            } else {
                reply(200, json!({"first_name": first, "last_name": last, "id": buyer}))
            }
        }
        (Method::POST, [PAGE_ID, "subscribed_apps"]) => {
            let fields = query.get("subscribed_fields").cloned().unwrap_or_default();
            if fields.is_empty() {
                return fail(graph_error(400, 100, None, "(#100) The parameter subscribed_fields is required"));
            }
            shared.lock().subscribed.push(fields);
            reply(200, json!({"success": true}))
        }
        (Method::POST, [PAGE_ID, "message_attachments"]) => {
            let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
            let (fields, files) = crate::multipart(ct, &body);
            let Some(file) = files.get("filedata").cloned() else {
                return fail(graph_error(400, 100, None, "(#100) Upload attachment failure."));
            };
            let declared: Value = fields.get("message").and_then(|m| serde_json::from_str(m).ok()).unwrap_or_default();
            if declared.pointer("/attachment/type").and_then(Value::as_str).is_none() {
                return fail(graph_error(400, 100, None, "(#100) Param message[attachment][type] is required"));
            }
            let id = shared.ids.fetch_add(1, Ordering::SeqCst).to_string();
            shared.lock().uploads.insert(id.clone(), file);
            reply(200, json!({ "attachment_id": id }))
        }
        (Method::POST, [PAGE_ID | "me", "messages"]) => send(&shared, &body).await,
        _ => fail(graph_error(400, 100, Some(33), "Unsupported request - method type or path")),
    }
}

async fn send(shared: &Arc<Shared>, body: &[u8]) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return fail(graph_error(400, 100, None, "(#100) Invalid JSON for postbody"));
    };
    if let Some(e) = shared.lock().next_error.take() {
        return fail(e);
    }
    let to = req.pointer("/recipient/id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let Some(platform) = platform_of(shared, &to) else {
        return fail(graph_error(400, 100, Some(2_018_001), "(#100) No matching user found"));
    };
    let messaging_type = req.get("messaging_type").and_then(Value::as_str).unwrap_or_default().to_owned();
    let tag = req.get("tag").and_then(Value::as_str).map(str::to_owned);
    if !matches!(messaging_type.as_str(), "RESPONSE" | "UPDATE" | "MESSAGE_TAG") {
        return fail(graph_error(
            400,
            100,
            None,
            "(#100) param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG",
        ));
    }
    let message = req.get("message").cloned().unwrap_or(Value::Null);
    let text = message.get("text").and_then(Value::as_str);
    let attachment = message.get("attachment");
    if text.is_none_or(|t| t.trim().is_empty()) && attachment.is_none() {
        return fail(graph_error(
            400,
            100,
            None,
            "(#100) Message cannot be empty, must provide valid attachment or text",
        ));
    }
    let limit = if platform == "instagram" { 1000 } else { 2000 };
    if text.is_some_and(|t| t.chars().count() > limit) {
        return fail(graph_error(
            400,
            100,
            None,
            &format!("(#100) Length of param message[text] must be less than or equal to {limit}"),
        ));
    }
    if let Some(id) = attachment.and_then(|a| a.pointer("/payload/attachment_id")).and_then(Value::as_str)
        && !shared.lock().uploads.contains_key(id)
    {
        return fail(graph_error(400, 100, None, "(#100) Invalid attachment_id"));
    }
    // Meta's reply windows.
    let last = shared.lock().last_from.get(&(platform.clone(), to.clone())).copied();
    let elapsed = last.map(|l| Utc::now() - l).unwrap_or(Duration::days(365));
    let human_agent = shared.lock().human_agent;
    let allowed = match (messaging_type.as_str(), tag.as_deref()) {
        ("RESPONSE" | "UPDATE", _) => elapsed <= Duration::hours(24),
        ("MESSAGE_TAG", Some("HUMAN_AGENT")) if human_agent => elapsed <= Duration::days(7),
        ("MESSAGE_TAG", Some("HUMAN_AGENT")) => {
            return fail(graph_error(
                400,
                200,
                Some(2_018_065),
                "(#200) This app does not have the human_agent permission",
            ));
        }
        _ => false,
    };
    if !allowed {
        return fail(graph_error(400, 10, Some(2_018_278), "(#10) This message is sent outside of allowed window."));
    }
    let mid = format!("m_{}", shared.ids.fetch_add(1, Ordering::SeqCst));
    shared.lock().sent.push(SentMessage {
        platform: platform.clone(),
        to: to.clone(),
        messaging_type,
        tag,
        message: message.clone(),
        mid: mid.clone(),
    });
    let mut echo = json!({"mid": mid, "is_echo": true, "app_id": APP_ID.parse::<i64>().unwrap_or_default()});
    for key in ["text", "metadata", "attachment"] {
        if let Some(v) = message.get(key) {
            echo[key] = v.clone();
        }
    }
    let business = if platform == "instagram" { INSTAGRAM_ID } else { PAGE_ID };
    let event = json!({"sender": {"id": business}, "recipient": {"id": to}, "timestamp": Utc::now().timestamp_millis(),
        "message": echo});
    // Meta echoes what the page sent, often before the send's answer
    // arrives: the stand-in always does, the harder order for Ferry.
    deliver(shared, &platform, event).await;
    reply(200, json!({"recipient_id": to, "message_id": mid}))
}

/// Posts one messaging event to the platform's webhook, signed; the
/// receiver's status (0 when unreachable or no webhook is set).
async fn deliver(shared: &Shared, platform: &str, event: Value) -> u16 {
    let url = {
        let s = shared.lock();
        let key = if platform == "instagram" { "instagram" } else { "messenger" };
        match s.webhooks.get(key) {
            Some(u) => u.clone(),
            None => return 0,
        }
    };
    let (object, entry) = if platform == "instagram" { ("instagram", INSTAGRAM_ID) } else { ("page", PAGE_ID) };
    let body = json!({"object": object, "entry": [{"id": entry, "time": Utc::now().timestamp_millis(), "messaging": [event]}]});
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let signature = ferry_core::signature::sign(APP_SECRET.as_bytes(), &bytes);
    shared
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(bytes)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

impl FakePages {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().build().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { addr, ids: AtomicI64::new(7_000_000), http, state: Mutex::default() });
        let app =
            Router::new().fallback(handle).with_state(shared.clone()).layer(axum::middleware::map_response(crate::tag));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the Meta stand-in stopped");
            }
        });
        Ok(Self { shared, task })
    }

    /// The Graph API base to configure (`http://127.0.0.1:port`).
    pub fn api_base(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The inbox settings (`config.extra["messenger"]` or
    /// `["instagram"]`) that talk to it.
    pub fn settings(&self, instagram: bool, verify_token: &str, human_agent: bool) -> Value {
        let mut s = json!({"page_id": PAGE_ID, "access_token": ACCESS_TOKEN, "app_secret": APP_SECRET,
            "verify_token": verify_token, "app_id": APP_ID, "api_base": self.api_base(), "human_agent": human_agent});
        if instagram {
            s["instagram_account_id"] = json!(INSTAGRAM_ID);
        }
        s
    }

    /// Where deliveries of `platform` (`messenger` or `instagram`) go.
    pub fn set_webhook(&self, platform: &str, url: &str) {
        let key = if platform == "instagram" { "instagram" } else { "messenger" };
        self.shared.lock().webhooks.insert(key, url.to_owned());
    }

    /// Whether the page has the Human Agent permission.
    pub fn grant_human_agent(&self, granted: bool) {
        self.shared.lock().human_agent = granted;
    }

    /// Every message the page sent, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// The bytes and type of an uploaded attachment.
    pub fn upload(&self, attachment_id: &str) -> Option<(Vec<u8>, String)> {
        self.shared.lock().uploads.get(attachment_id).cloned()
    }

    /// The fields of each `subscribed_apps` call.
    pub fn subscriptions(&self) -> Vec<String> {
        self.shared.lock().subscribed.clone()
    }

    /// Keeps a buyer's file on the CDN; returns its URL.
    pub fn add_file(&self, name: &str, bytes: Vec<u8>, content_type: &str) -> String {
        self.shared.lock().cdn.insert(name.to_owned(), (bytes, content_type.to_owned()));
        format!("http://{}/cdn/{name}", self.shared.addr)
    }

    /// The next send is refused with this Graph error.
    pub fn fail_next(&self, status: u16, code: i64, subcode: Option<i64>, message: &str) {
        self.shared.lock().next_error = Some(graph_error(status, code, subcode, message));
    }

    /// The buyer's profile name, as the platform shows it to the page.
    pub fn set_buyer_name(&self, buyer: &str, first: &str, last: &str) {
        self.shared.lock().names.insert(buyer.to_owned(), (first.to_owned(), last.to_owned()));
    }

    /// Pretends the buyer last wrote `ago` ago (moves their window).
    pub fn buyer_wrote_ago(&self, platform: &str, buyer: &str, ago: Duration) {
        self.shared.lock().last_from.insert((platform.to_owned(), buyer.to_owned()), Utc::now() - ago);
    }

    /// A new message id.
    pub fn next_mid(&self) -> String {
        format!("m_{}", self.shared.ids.fetch_add(1, Ordering::SeqCst))
    }

    /// Posts a raw event of `buyer` on `platform` (the sender and
    /// recipient are added, and the timestamp unless given) to the
    /// webhook, signed.
    pub async fn post_event(&self, platform: &str, buyer: &str, mut event: Value) -> u16 {
        let business = if platform == "instagram" { INSTAGRAM_ID } else { PAGE_ID };
        event["sender"] = json!({ "id": buyer });
        event["recipient"] = json!({ "id": business });
        if event.get("timestamp").is_none() {
            event["timestamp"] = json!(Utc::now().timestamp_millis());
        }
        deliver(&self.shared, platform, event).await
    }

    /// The buyer writes `message` (`{"text": …}`, `{"attachments": […]}`…);
    /// a `mid` is added when missing. Returns the mid and the receiver's
    /// status.
    pub async fn buyer_message(&self, platform: &str, buyer: &str, mut message: Value) -> (String, u16) {
        let mid = match message.get("mid").and_then(Value::as_str) {
            Some(m) => m.to_owned(),
            None => {
                let m = self.next_mid();
                message["mid"] = json!(m);
                m
            }
        };
        self.shared.lock().last_from.insert((platform.to_owned(), buyer.to_owned()), Utc::now());
        let status = self.post_event(platform, buyer, json!({ "message": message })).await;
        (mid, status)
    }

    /// The buyer wrote `text` `ago` ago (a delivery Meta held back, or a
    /// conversation left waiting): the window counts from then.
    pub async fn buyer_message_ago(&self, platform: &str, buyer: &str, text: &str, ago: Duration) -> (String, u16) {
        let mid = self.next_mid();
        let at = Utc::now() - ago;
        self.shared.lock().last_from.insert((platform.to_owned(), buyer.to_owned()), at);
        let event = json!({"timestamp": at.timestamp_millis(), "message": {"mid": mid, "text": text}});
        let status = self.post_event(platform, buyer, event).await;
        (mid, status)
    }

    /// The buyer presses a button (postback) or quick reply.
    pub async fn buyer_presses(&self, platform: &str, buyer: &str, title: &str, payload: &str) -> u16 {
        self.shared.lock().last_from.insert((platform.to_owned(), buyer.to_owned()), Utc::now());
        let mid = self.next_mid();
        self.post_event(platform, buyer, json!({"postback": {"title": title, "payload": payload, "mid": mid}})).await
    }

    /// The buyer's app reports everything up to now delivered and read.
    pub async fn buyer_reads(&self, platform: &str, buyer: &str) -> u16 {
        let now = Utc::now().timestamp_millis();
        let d = self.post_event(platform, buyer, json!({"delivery": {"watermark": now}})).await;
        let r = self.post_event(platform, buyer, json!({"read": {"watermark": now}})).await;
        d.max(r)
    }

    /// The page writes to a buyer from Meta's own inbox (not through
    /// Ferry): only the echo reaches Ferry.
    pub async fn page_writes(&self, platform: &str, buyer: &str, text: &str) -> (String, u16) {
        let mid = self.next_mid();
        let business = if platform == "instagram" { INSTAGRAM_ID } else { PAGE_ID };
        let event = json!({"sender": {"id": business}, "recipient": {"id": buyer},
            "timestamp": Utc::now().timestamp_millis(),
            "message": {"mid": mid, "is_echo": true, "text": text, "app_id": 263_902_037_430_900_i64}});
        let status = deliver(&self.shared, platform, event).await;
        (mid, status)
    }
}
