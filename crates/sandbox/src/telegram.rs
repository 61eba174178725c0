//! A local server speaking the Telegram Bot API (`/bot{token}/{method}`,
//! JSON or multipart bodies, answers `{"ok": true, "result": …}` or
//! `{"ok": false, "error_code", "description", "parameters"}`) and its
//! file downloads (`/file/bot{token}/{file_path}`): `getMe`, `setWebhook`
//! (the URL and secret token are kept, and updates are posted there with
//! `X-Telegram-Bot-Api-Secret-Token`), `getFile`, `sendMessage`,
//! `sendPhoto`, `sendDocument`, `sendAudio`, `sendVideo`,
//! `sendLocation` and `answerCallbackQuery`. A wrong token is `401
//! Unauthorized`; a chat that blocked the bot is `403 Forbidden: bot was
//! blocked by the user`; a rate limit is `429` with
//! `parameters.retry_after`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The bot token the stand-in accepts.
pub const BOT_TOKEN: &str = "7000000001:AAFerrySandboxBotTokenForTests_0123";
/// The bot's user id (the token's first part).
pub const BOT_ID: i64 = 7_000_000_001;
/// The bot's username.
pub const BOT_USERNAME: &str = "ferry_sandbox_bot";

/// One message the bot sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The method (`sendMessage`, `sendPhoto`…).
    pub method: String,
    /// `chat_id`.
    pub chat_id: String,
    /// The text or caption.
    pub text: Option<String>,
    /// The inline keyboard's buttons, `(text, callback_data)` row by row.
    pub buttons: Vec<(String, String)>,
    /// The uploaded file's bytes and type, for file methods.
    pub file: Option<(Vec<u8>, String)>,
    /// The message id Telegram gave it.
    pub message_id: i64,
}

#[derive(Default)]
struct State_ {
    webhook: Option<(String, String)>,
    target: Option<String>,
    sent: Vec<SentMessage>,
    answered: Vec<String>,
    files: HashMap<String, (Vec<u8>, String)>,
    blocked: HashSet<String>,
    next_error: Option<(u16, Value)>,
    calls: Vec<String>,
}

struct Shared {
    addr: SocketAddr,
    ids: AtomicI64,
    http: reqwest::Client,
    state: Mutex<State_>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running stand-in; stops when dropped.
pub struct FakeBotApi {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBotApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(status: u16, description: &str, retry_after: Option<u64>) -> (u16, Value) {
    let mut e = json!({"ok": false, "error_code": status, "description": description});
    if let Some(r) = retry_after {
        e["parameters"] = json!({ "retry_after": r });
    }
    (status, e)
}

fn reply(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), axum::Json(body)).into_response()
}

/// The fields of a form, JSON object or multipart body: text values, and
/// files as (bytes, content type).
#[derive(Default)]
struct Params {
    fields: HashMap<String, Value>,
    files: crate::FileParts,
}

fn params(headers: &HeaderMap, uri: &Uri, body: &[u8]) -> Params {
    let mut p = Params::default();
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        p.fields.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if ct.starts_with("application/json") {
        if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) {
            p.fields.extend(o);
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            p.fields.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    } else {
        let (fields, files) = crate::multipart(ct, body);
        p.fields.extend(fields.into_iter().map(|(k, v)| (k, Value::String(v))));
        p.files = files;
    }
    p
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        let Some((token, file_path)) = rest.split_once('/') else { return reply(404, json!({"ok": false})) };
        if token != BOT_TOKEN || method != Method::GET {
            return reply(404, json!({"ok": false, "error_code": 404, "description": "Not Found"}));
        }
        let file = {
            let state = shared.lock();
            state.files.iter().find(|(id, _)| format!("files/{id}") == file_path).map(|(_, f)| f.clone())
        };
        return match file {
            Some((bytes, _)) => {
                // Telegram serves files without a meaningful type.
                ([("content-type", "application/octet-stream")], bytes).into_response()
            }
            None => reply(404, json!({"ok": false, "error_code": 404, "description": "Not Found"})),
        };
    }
    let Some((token, name)) = path.strip_prefix("/bot").and_then(|r| r.split_once('/')) else {
        return reply(404, json!({"ok": false, "error_code": 404, "description": "Not Found"}));
    };
    if token != BOT_TOKEN {
        let (s, e) = error(401, "Unauthorized", None);
        return reply(s, e);
    }
    let p = params(&headers, &uri, &body);
    shared.lock().calls.push(name.to_owned());
    if name.starts_with("send")
        && let Some((status, e)) = shared.lock().next_error.take()
    {
        return reply(status, e);
    }
    let ok = |result: Value| reply(200, json!({"ok": true, "result": result}));
    match name {
        "getMe" => ok(json!({"id": BOT_ID, "is_bot": true, "first_name": "Ferry Sandbox", "username": BOT_USERNAME,
            "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false})),
        "setWebhook" => {
            let url = text_of(p.fields.get("url")).unwrap_or_default();
            let secret = text_of(p.fields.get("secret_token")).unwrap_or_default();
            if !url.starts_with("http") {
                let (s, e) = error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook", None);
                return reply(s, e);
            }
            if !secret.is_empty()
                && (secret.len() > 256 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            {
                let (s, e) = error(400, "Bad Request: secret token contains unallowed characters", None);
                return reply(s, e);
            }
            shared.lock().webhook = Some((url, secret));
            ok(json!(true))
        }
        "getFile" => {
            let id = text_of(p.fields.get("file_id")).unwrap_or_default();
            let state = shared.lock();
            match state.files.get(&id) {
                Some((bytes, _)) => ok(json!({"file_id": id, "file_unique_id": format!("u{id}"),
                    "file_size": bytes.len(), "file_path": format!("files/{id}")})),
                None => {
                    let (s, e) = error(400, "Bad Request: invalid file_id", None);
                    reply(s, e)
                }
            }
        }
        "answerCallbackQuery" => {
            let id = text_of(p.fields.get("callback_query_id")).unwrap_or_default();
            shared.lock().answered.push(id);
            ok(json!(true))
        }
        "sendMessage" | "sendPhoto" | "sendDocument" | "sendAudio" | "sendVideo" | "sendLocation" => {
            let Some(chat_id) = text_of(p.fields.get("chat_id")).filter(|c| !c.is_empty()) else {
                let (s, e) = error(400, "Bad Request: chat_id is empty", None);
                return reply(s, e);
            };
            if shared.lock().blocked.contains(&chat_id) {
                let (s, e) = error(403, "Forbidden: bot was blocked by the user", None);
                return reply(s, e);
            }
            let text = text_of(p.fields.get("text")).or_else(|| text_of(p.fields.get("caption")));
            if name == "sendMessage" && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                let (s, e) = error(400, "Bad Request: message text is empty", None);
                return reply(s, e);
            }
            let markup = match p.fields.get("reply_markup") {
                Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
                Some(v) => v.clone(),
                None => Value::Null,
            };
            let buttons = markup
                .get("inline_keyboard")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .flatten()
                .map(|b| {
                    (
                        b.get("text").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        b.get("callback_data").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            let field = match name {
                "sendPhoto" => Some("photo"),
                "sendDocument" => Some("document"),
                "sendAudio" => Some("audio"),
                "sendVideo" => Some("video"),
                _ => None,
            };
            let file = field.and_then(|f| p.files.get(f).cloned());
            if field.is_some() && file.is_none() {
                let (s, e) = error(400, "Bad Request: there is no file in the request", None);
                return reply(s, e);
            }
            let message_id = shared.ids.fetch_add(1, Ordering::SeqCst);
            let date = chrono::Utc::now().timestamp();
            shared.lock().sent.push(SentMessage {
                method: name.to_owned(),
                chat_id: chat_id.clone(),
                text: text.clone(),
                buttons,
                file,
                message_id,
            });
            let chat: i64 = chat_id.parse().unwrap_or_default();
            ok(json!({"message_id": message_id, "date": date, "chat": {"id": chat, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Ferry Sandbox", "username": BOT_USERNAME},
                "text": text, "reply_markup": markup}))
        }
        other => {
            let (s, e) = error(404, &format!("Not Found: method {other} not found"), None);
            reply(s, e)
        }
    }
}

impl FakeBotApi {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().build().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { addr, ids: AtomicI64::new(1000), http, state: Mutex::default() });
        let app =
            Router::new().fallback(handle).with_state(shared.clone()).layer(axum::middleware::map_response(crate::tag));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the Telegram stand-in stopped");
            }
        });
        Ok(Self { shared, task })
    }

    /// The API base to configure (`http://127.0.0.1:port`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The inbox settings (`config.extra["telegram"]`) that talk to it.
    pub fn settings(&self, secret_token: &str) -> Value {
        json!({"bot_token": BOT_TOKEN, "secret_token": secret_token, "api_base": self.base_url()})
    }

    /// The webhook URL and secret token set with `setWebhook`.
    pub fn webhook(&self) -> Option<(String, String)> {
        self.shared.lock().webhook.clone()
    }

    /// Posts updates to `url` instead of the URL set with `setWebhook`
    /// (whose host may be the public name of the server).
    pub fn deliver_to(&self, url: &str) {
        self.shared.lock().target = Some(url.to_owned());
    }

    /// Every message the bot sent, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// The ids of the answered button presses.
    pub fn answered(&self) -> Vec<String> {
        self.shared.lock().answered.clone()
    }

    /// The methods called, in order.
    pub fn calls(&self) -> Vec<String> {
        self.shared.lock().calls.clone()
    }

    /// Keeps a buyer's file; returns its file id.
    pub fn add_file(&self, bytes: Vec<u8>, mime: &str) -> String {
        let id = format!("AgACAgQ-{}", self.shared.ids.fetch_add(1, Ordering::SeqCst));
        self.shared.lock().files.insert(id.clone(), (bytes, mime.to_owned()));
        id
    }

    /// The chat blocked the bot: sends to it are `403`.
    pub fn block(&self, chat_id: i64) {
        self.shared.lock().blocked.insert(chat_id.to_string());
    }

    /// The chat unblocked the bot.
    pub fn unblock(&self, chat_id: i64) {
        self.shared.lock().blocked.remove(&chat_id.to_string());
    }

    /// The next send is refused with `429` and `retry_after` seconds.
    pub fn rate_limit_once(&self, retry_after: u64) {
        let e = error(429, &format!("Too Many Requests: retry after {retry_after}"), Some(retry_after));
        self.shared.lock().next_error = Some(e);
    }

    /// A new update id.
    pub fn next_update_id(&self) -> i64 {
        self.shared.ids.fetch_add(1, Ordering::SeqCst)
    }

    /// Posts `update` to the webhook with the secret token set with
    /// `setWebhook` (or `secret` instead, when given); the receiver's
    /// status (0 when unreachable or no webhook is set).
    pub async fn post_with(&self, update: &Value, secret: Option<&str>) -> u16 {
        let (url, set_secret) = {
            let s = self.shared.lock();
            let Some((url, secret)) = s.webhook.clone() else { return 0 };
            (s.target.clone().unwrap_or(url), secret)
        };
        let mut request = self.shared.http.post(url).json(update);
        match secret {
            Some("") => {}
            Some(s) => request = request.header("x-telegram-bot-api-secret-token", s),
            None => request = request.header("x-telegram-bot-api-secret-token", set_secret),
        }
        request.send().await.map_or(0, |r| r.status().as_u16())
    }

    /// Posts `update` as Telegram would.
    pub async fn post(&self, update: &Value) -> u16 {
        self.post_with(update, None).await
    }
}

/// A buyer in a private chat (`from` and `chat`).
pub fn buyer(id: i64, first_name: &str) -> (Value, Value) {
    (
        json!({"id": id, "is_bot": false, "first_name": first_name, "language_code": "en"}),
        json!({"id": id, "first_name": first_name, "type": "private"}),
    )
}

/// An update with a buyer's `message` of `content` (`{"text": …}`,
/// `{"photo": […], "caption": …}`…).
pub fn message_update(update_id: i64, message_id: i64, buyer_id: i64, name: &str, content: Value) -> Value {
    let (from, chat) = buyer(buyer_id, name);
    let mut m = json!({"message_id": message_id, "from": from, "chat": chat, "date": chrono::Utc::now().timestamp()});
    if let (Some(m), Some(c)) = (m.as_object_mut(), content.as_object()) {
        m.extend(c.clone());
    }
    json!({"update_id": update_id, "message": m})
}

/// An update with a press of the button `(title, data)` of the bot's
/// message `sent`.
pub fn callback_update(
    update_id: i64,
    query_id: &str,
    buyer_id: i64,
    name: &str,
    sent: &SentMessage,
    data: &str,
) -> Value {
    let (from, chat) = buyer(buyer_id, name);
    let keyboard: Vec<Value> = sent.buttons.iter().map(|(t, d)| json!([{"text": t, "callback_data": d}])).collect();
    json!({"update_id": update_id, "callback_query": {"id": query_id, "from": from, "chat_instance": "1",
        "data": data, "message": {"message_id": sent.message_id, "chat": chat, "date": chrono::Utc::now().timestamp(),
            "from": {"id": BOT_ID, "is_bot": true, "first_name": "Ferry Sandbox"}, "text": sent.text,
            "reply_markup": {"inline_keyboard": keyboard}}}})
}
