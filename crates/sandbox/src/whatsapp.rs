//! A local stand-in for the WhatsApp Cloud API (Meta's Graph API) of one
//! business phone number, under any version prefix (`/v21.0/…`):
//! `POST /{phone_number_id}/messages` (every message type Ferry sends,
//! checked like Meta checks them, answered with a `wamid`; `status: read`
//! marks a message read), `POST /{phone_number_id}/media` (multipart
//! upload), `GET /{media_id}` and the download URL it gives,
//! `GET /{waba_id}/message_templates` (a few realistic templates, paged by
//! `limit`/`after`) and `GET /{phone_number_id}`. Bearer token checks
//! (401, code 190), Meta's error bodies, scripted failures per recipient or
//! for the next sends, a throughput limit (130429) and a rate limit once
//! (4 or 80007). It keeps every accepted message, and posts webhooks
//! signed with `X-Hub-Signature-256` in Meta's shape: buyers' messages on
//! demand, and on request `sent` then `delivered` statuses after each
//! send, retried with back-off like Meta when the receiver fails.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The version prefix of [`FakeGraph::base_url`].
pub const API_VERSION: &str = "v21.0";
/// The access token accepted.
pub const ACCESS_TOKEN: &str = "whatsapp-access-token-for-tests";
/// The business phone number's id.
pub const PHONE_NUMBER_ID: &str = "1122334455667";
/// The WhatsApp Business Account's id.
pub const BUSINESS_ACCOUNT_ID: &str = "1234567890987654";
/// The business number as shown.
pub const DISPLAY_PHONE_NUMBER: &str = "15550100001";

/// One message the stand-in accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The recipient's WhatsApp id.
    pub to: String,
    /// Its `type` (`text`, `image`, `interactive`, `template`…).
    pub kind: String,
    /// The whole request body.
    pub body: Value,
    /// The id it was given.
    pub wamid: String,
    /// Its `biz_opaque_callback_data`.
    pub reference: Option<String>,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
}

/// One webhook POST the stand-in made.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttempt {
    /// The body.
    pub body: Value,
    /// The receiver's HTTP status; `None` when it could not be reached.
    pub status: Option<u16>,
}

#[derive(Clone)]
struct Media {
    bytes: Vec<u8>,
    mime: String,
    sha256: String,
}

#[derive(Default)]
struct Data {
    sent: Vec<SentMessage>,
    read: Vec<String>,
    media: HashMap<String, Media>,
    failing: HashMap<String, i64>,
    next: VecDeque<Option<(u16, Value)>>,
    max_page: Option<usize>,
    throughput: Option<u32>,
    window: Option<(Instant, u32)>,
    webhook: Option<(String, String)>,
    attempts: Vec<WebhookAttempt>,
    latency: Duration,
}

struct Shared {
    addr: SocketAddr,
    ids: AtomicU64,
    auto_status: AtomicBool,
    retry_base: Mutex<Duration>,
    http: reqwest::Client,
    state: Mutex<Data>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Data> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::SeqCst)
    }
}

/// A running stand-in; stops when dropped.
pub struct FakeGraph {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Meta's title of an error code.
pub fn title(code: i64) -> &'static str {
    match code {
        1 => "An unknown error occurred",
        2 => "Service temporarily unavailable",
        4 => "Application request limit reached",
        10 => "Permission denied",
        100 => "Invalid parameter",
        190 => "Invalid OAuth access token - Cannot parse access token",
        368 => "Temporarily blocked for policies violations",
        80_007 => "Rate limit issues",
        130_429 => "Rate limit hit",
        131_000 => "Something went wrong",
        131_026 => "Message undeliverable",
        131_030 => "Recipient phone number not in allowed list",
        131_031 => "Account has been locked",
        131_047 => "Re-engagement message",
        131_051 => "Unsupported message type",
        131_053 => "Media upload error",
        131_056 => "(Business Account, Consumer Account) pair rate limit hit",
        132_000 => "Number of parameters does not match the expected number of params",
        132_001 => "Template name does not exist in the translation",
        _ => "Error",
    }
}

fn details(code: i64) -> &'static str {
    match code {
        131_026 => "Message failed to send because the recipient cannot receive it.",
        131_047 => {
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
        }
        130_429 => "Cloud API message throughput has been reached.",
        131_030 => {
            "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."
        }
        _ => title(code),
    }
}

fn http_status(code: i64) -> u16 {
    match code {
        190 => 401,
        10 => 403,
        1 | 2 | 131_000 => 500,
        _ => 400,
    }
}

/// Meta's error body for `code`, with `details` or the usual ones.
pub fn error_body(code: i64, detail: Option<&str>) -> Value {
    json!({"error": {"message": format!("(#{code}) {}", title(code)), "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": detail.unwrap_or(details(code))},
        "fbtrace_id": "AFakeTraceId0000"}})
}

fn error(code: i64, detail: Option<&str>) -> Response {
    let status = StatusCode::from_u16(http_status(code)).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(error_body(code, detail))).into_response()
}

fn invalid(detail: impl AsRef<str>) -> Response {
    error(100, Some(detail.as_ref()))
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

fn now_ts() -> String {
    Utc::now().timestamp().to_string()
}

/// The stand-in's templates, as `GET /{waba}/message_templates` lists them.
pub fn templates() -> Vec<Value> {
    vec![
        json!({"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
            "id": "3000000000000001", "quality_score": {"score": "GREEN"},
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Order update"},
                {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped and should arrive by {{3}}.",
                 "example": {"body_text": [["Ana", "#1001", "Friday"]]}},
                {"type": "FOOTER", "text": "Reply STOP to stop these updates"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Track order", "url": "https://shop.example/track/{{1}}",
                     "example": ["https://shop.example/track/1001"]},
                    {"type": "QUICK_REPLY", "text": "Talk to us"}]}]}),
        json!({"name": "delivery_delay", "language": "de", "status": "APPROVED", "category": "UTILITY",
            "id": "3000000000000002", "quality_score": {"score": "GREEN"},
            "components": [{"type": "BODY",
                "text": "Hallo {{1}}, deine Bestellung {{2}} verspätet sich leider. Wir melden uns, sobald sie unterwegs ist."}]}),
        json!({"name": "back_in_stock", "language": "en_US", "status": "APPROVED", "category": "MARKETING",
            "id": "3000000000000003", "quality_score": {"score": "YELLOW"},
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Back in stock: {{1}}"},
                {"type": "BODY", "text": "Good news! {{1}} is available again. Get yours before it sells out."},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]}]}),
        json!({"name": "order_shipped", "language": "es_MX", "status": "APPROVED", "category": "UTILITY",
            "id": "3000000000000005", "quality_score": {"score": "GREEN"},
            "components": [{"type": "BODY", "text": "¡Hola {{1}}! Tu pedido {{2}} ya va en camino. Síguelo aquí: {{3}}",
                "example": {"body_text": [["Lucía", "#1001", "https://track.example/1"]]}}]}),
        json!({"name": "order_shipped", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
            "id": "3000000000000006", "quality_score": {"score": "GREEN"},
            "components": [{"type": "BODY", "text": "Hi {{1}}! Your order {{2}} is on its way. Track it here: {{3}}",
                "example": {"body_text": [["Ana", "#1001", "https://track.example/1"]]}}]}),
        json!({"name": "hello_world", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
            "id": "3000000000000004",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}]}),
        json!({"name": "summer_sale", "language": "en_US", "status": "REJECTED", "category": "MARKETING",
            "id": "3000000000000005", "rejected_reason": "PROMOTIONAL",
            "components": [{"type": "BODY", "text": "Everything -50% this weekend!"}]}),
        json!({"name": "spring_offer", "language": "en_US", "status": "APPROVED", "category": "MARKETING",
            "id": "3000000000000007", "quality_score": {"score": "GREEN"},
            "components": [
                {"type": "BODY", "text": "Hi {{1}}! Our spring collection is in: 15% off for you this week.",
                 "example": {"body_text": [["Ana"]]}},
                {"type": "FOOTER", "text": "Reply STOP to opt out"}]}),
        json!({"name": "spring_offer", "language": "es", "status": "APPROVED", "category": "MARKETING",
            "id": "3000000000000008", "quality_score": {"score": "GREEN"},
            "components": [
                {"type": "BODY", "text": "¡Hola {{1}}! Ya llegó la colección de primavera: 15 % de descuento esta semana.",
                 "example": {"body_text": [["Ana"]]}},
                {"type": "FOOTER", "text": "Responde STOP para no recibir más"}]}),
    ]
}

fn placeholders(text: &str) -> usize {
    (1..=20).take_while(|n| text.contains(&format!("{{{{{n}}}}}"))).count()
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Why Meta refuses a message: its error code and details.
type Refusal = (i64, String);

fn refuse(code: i64, detail: Option<&str>) -> Refusal {
    (code, detail.unwrap_or(details(code)).to_owned())
}

fn bad(detail: impl Into<String>) -> Refusal {
    (100, detail.into())
}

/// Checks a message body like Meta; `Err` is the error answer.
fn check_message(body: &Value, media: &HashMap<String, Media>) -> Result<(), Refusal> {
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("text");
    let obj = body.get(kind).unwrap_or(&Value::Null);
    if !obj.is_object() {
        return Err(bad(format!("Param {kind} is required")));
    }
    match kind {
        "text" => {
            let n = chars(&obj["body"]);
            if n == 0 || n > 4096 {
                return Err(bad("Param text['body'] must be 1 to 4096 characters"));
            }
        }
        "image" | "audio" | "video" | "document" | "sticker" => {
            match (obj.get("id").and_then(Value::as_str), obj.get("link").and_then(Value::as_str)) {
                (Some(id), None) if media.contains_key(id) => {}
                (Some(_), None) => return Err(refuse(131_053, Some("Media id is not valid"))),
                (None, Some(link)) if link.starts_with("http") => {}
                _ => return Err(bad(format!("Param {kind} must have exactly one of id and link"))),
            }
            if obj.get("caption").is_some() && matches!(kind, "audio" | "sticker") {
                return Err(bad(format!("Param {kind}['caption'] is not allowed")));
            }
            if chars(&obj["caption"]) > 1024 {
                return Err(bad("Param caption must be at most 1024 characters"));
            }
        }
        "location" => {
            if !obj["latitude"].is_number() || !obj["longitude"].is_number() {
                return Err(bad("Param location requires latitude and longitude"));
            }
        }
        "reaction" => {
            if chars(&obj["message_id"]) == 0 || !obj["emoji"].is_string() {
                return Err(bad("Param reaction requires message_id and emoji"));
            }
        }
        "interactive" => check_interactive(obj)?,
        "template" => check_template(obj)?,
        other => return Err(refuse(131_051, Some(&format!("Message type {other} is not supported")))),
    }
    if chars(&body["biz_opaque_callback_data"]) > 512 {
        return Err(bad("Param biz_opaque_callback_data must be at most 512 characters"));
    }
    Ok(())
}

fn check_interactive(i: &Value) -> Result<(), Refusal> {
    let body = chars(&i["body"]["text"]);
    match i["type"].as_str() {
        Some("button") => {
            let buttons = i["action"]["buttons"].as_array().cloned().unwrap_or_default();
            if body == 0 || body > 1024 {
                return Err(bad("Param interactive['body']['text'] must be 1 to 1024 characters"));
            }
            if buttons.is_empty() || buttons.len() > 3 {
                return Err(bad("Param interactive['action']['buttons'] must have 1 to 3 buttons"));
            }
            let mut ids = Vec::new();
            for b in &buttons {
                let (id, title) = (&b["reply"]["id"], &b["reply"]["title"]);
                if b["type"] != "reply" || chars(id) == 0 || chars(id) > 256 || chars(title) == 0 || chars(title) > 20 {
                    return Err(bad("Button title length invalid. Must be between 1 and 20 characters long"));
                }
                if ids.contains(id) {
                    return Err(bad("Buttons must have unique ids"));
                }
                ids.push(id.clone());
            }
        }
        Some("list") => {
            if body == 0 || body > 4096 {
                return Err(bad("Param interactive['body']['text'] must be 1 to 4096 characters"));
            }
            let label = chars(&i["action"]["button"]);
            if label == 0 || label > 20 {
                return Err(bad("Param interactive['action']['button'] must be 1 to 20 characters"));
            }
            let sections = i["action"]["sections"].as_array().cloned().unwrap_or_default();
            let rows: Vec<Value> =
                sections.iter().flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default()).collect();
            if sections.is_empty() || rows.is_empty() || rows.len() > 10 {
                return Err(bad("Total row count exceed max allowed count: 10"));
            }
            for r in &rows {
                if chars(&r["id"]) == 0 || chars(&r["id"]) > 200 || chars(&r["title"]) == 0 || chars(&r["title"]) > 24 {
                    return Err(bad("Row title length invalid. Must be between 1 and 24 characters long"));
                }
                if chars(&r["description"]) > 72 {
                    return Err(bad("Row description is too long. Max length is 72"));
                }
            }
        }
        _ => return Err(bad("Param interactive['type'] must be button or list")),
    }
    Ok(())
}

fn check_template(t: &Value) -> Result<(), Refusal> {
    let (name, lang) = (t["name"].as_str().unwrap_or_default(), t["language"]["code"].as_str().unwrap_or_default());
    let all = templates();
    let Some(found) = all.iter().find(|x| x["name"] == name && x["language"] == lang && x["status"] == "APPROVED")
    else {
        return Err(refuse(132_001, Some(&format!("template name ({name}) does not exist in {lang}"))));
    };
    let components = t["components"].as_array().cloned().unwrap_or_default();
    let given = |kind: &str| {
        components.iter().find(|c| c["type"] == kind).and_then(|c| c["parameters"].as_array()).map_or(0, Vec::len)
    };
    for (kind, upper) in [("header", "HEADER"), ("body", "BODY")] {
        let text = found["components"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == upper))
            .and_then(|c| c["text"].as_str())
            .unwrap_or_default();
        let expected = placeholders(text);
        if given(kind) != expected {
            return Err(refuse(
                132_000,
                Some(&format!(
                    "{kind}: number of localizable_params ({}) does not match the expected number of params ({expected})",
                    given(kind)
                )),
            ));
        }
    }
    Ok(())
}

/// A multipart body's fields: name → (file content type, bytes).
fn multipart(content_type: &str, body: &[u8]) -> HashMap<String, (Option<String>, Vec<u8>)> {
    let mut out = HashMap::new();
    let Some(boundary) = content_type.split("boundary=").nth(1).map(|b| b.trim_matches('"')) else { return out };
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        (from..hay.len().saturating_sub(needle.len() - 1)).find(|&i| hay[i..].starts_with(needle))
    };
    let mut at = match find(body, &delimiter, 0) {
        Some(i) => i + delimiter.len(),
        None => return out,
    };
    while let Some(end) = find(body, &delimiter, at) {
        let part = &body[at..end];
        at = end + delimiter.len();
        let Some(split) = find(part, b"\r\n\r\n", 0) else { continue };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let content = part[split + 4..].strip_suffix(b"\r\n").unwrap_or(&part[split + 4..]);
        let name = head.split("name=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        let ct = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().starts_with("content-type:").then(|| l[13..].trim().to_owned()));
        out.insert(name.to_owned(), (ct, content.to_vec()));
    }
    out
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !bearer_ok(&headers) {
        return error(190, Some("The access token could not be decrypted"));
    }
    let mut segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    if segments.first().is_some_and(|s| s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit() || c == '.')) {
        segments.remove(0);
    }
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    match (method, segments.as_slice()) {
        (Method::POST, [PHONE_NUMBER_ID, "messages"]) => {
            let answer = messages(&shared, &body);
            let latency = shared.lock().latency;
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            answer
        }
        (Method::POST, [PHONE_NUMBER_ID, "media"]) => {
            let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
            let fields = multipart(ct, &body);
            if fields.get("messaging_product").map(|f| f.1.as_slice()) != Some(b"whatsapp") {
                return invalid("Param messaging_product must be whatsapp");
            }
            let Some((file_ct, bytes)) = fields.get("file") else { return invalid("Param file is required") };
            let mime = fields
                .get("type")
                .map(|t| String::from_utf8_lossy(&t.1).to_string())
                .or_else(|| file_ct.clone())
                .unwrap_or_else(|| "application/octet-stream".into());
            ok(json!({"id": store_media(&shared, bytes.clone(), &mime)}))
        }
        (Method::GET, ["whatsapp_business", "attachments"]) => {
            let media = query.get("mid").and_then(|id| shared.lock().media.get(id).cloned());
            match media {
                Some(m) => ([("content-type", m.mime)], m.bytes).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        (Method::GET, [BUSINESS_ACCOUNT_ID, "message_templates"]) => {
            let all = templates();
            let cap = shared.lock().max_page.unwrap_or(1000);
            let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, cap.max(1));
            let start = query
                .get("after")
                .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a).ok())
                .and_then(|b| String::from_utf8(b).ok()?.parse::<usize>().ok())
                .unwrap_or(0);
            let end = (start + limit).min(all.len());
            let page: Vec<Value> = all.get(start..end).map(<[Value]>::to_vec).unwrap_or_default();
            let cursor = |n: usize| base64::engine::general_purpose::STANDARD.encode(n.to_string());
            let mut paging = json!({"cursors": {"before": cursor(start), "after": cursor(end)}});
            if end < all.len() {
                paging["next"] = json!(format!(
                    "http://{}/{API_VERSION}/{BUSINESS_ACCOUNT_ID}/message_templates?limit={limit}&after={}",
                    shared.addr,
                    cursor(end)
                ));
            }
            ok(json!({"data": page, "paging": paging}))
        }
        (Method::GET, [PHONE_NUMBER_ID]) => ok(json!({"display_phone_number": "+1 555-010-0001",
            "verified_name": "Ferry Demo Shop", "quality_rating": "GREEN", "id": PHONE_NUMBER_ID})),
        (Method::GET, [id]) => match shared.lock().media.get(*id) {
            Some(m) => ok(json!({"messaging_product": "whatsapp", "id": id, "mime_type": m.mime, "sha256": m.sha256,
                "file_size": m.bytes.len(),
                "url": format!("http://{}/whatsapp_business/attachments/?mid={id}&ext=1&hash=fake", shared.addr)})),
            None => invalid(format!("Unsupported get request. Object with ID '{id}' does not exist")),
        },
        _ => invalid(format!("Unknown path components: {}", uri.path())),
    }
}

fn store_media(shared: &Shared, bytes: Vec<u8>, mime: &str) -> String {
    let id = format!("{}", 900_000_000_000_000 + shared.next_id());
    let sha256 = hex::encode(Sha256::digest(&bytes));
    shared.lock().media.insert(id.clone(), Media { bytes, mime: mime.to_owned(), sha256 });
    id
}

fn messages(shared: &Arc<Shared>, raw: &[u8]) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(raw) else { return invalid("The request body is not JSON") };
    if body["messaging_product"] != "whatsapp" {
        return invalid("Param messaging_product must be whatsapp");
    }
    if body["status"] == "read" {
        let Some(id) = body["message_id"].as_str() else { return invalid("Param message_id is required") };
        shared.lock().read.push(id.to_owned());
        return ok(json!({"success": true}));
    }
    let to: String = body["to"].as_str().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
    if to.len() < 6 {
        return invalid("Param to is not a valid phone number");
    }
    let mut state = shared.lock();
    if let Some(Some((status, answer))) = state.next.pop_front() {
        return (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(answer)).into_response();
    }
    if let Some(code) = state.failing.get(&to) {
        return error(*code, None);
    }
    if let Some(limit) = state.throughput {
        let now = Instant::now();
        let (start, count) = match state.window {
            Some((start, count)) if now.duration_since(start) < Duration::from_secs(1) => (start, count),
            _ => (now, 0),
        };
        if count >= limit {
            return error(130_429, None);
        }
        state.window = Some((start, count + 1));
    }
    if let Err((code, detail)) = check_message(&body, &state.media) {
        return error(code, Some(&detail));
    }
    let wamid = format!(
        "wamid.{}",
        base64::engine::general_purpose::STANDARD.encode(format!("{to}:ferry-fake:{:012}", shared.next_id()))
    );
    let reference = body["biz_opaque_callback_data"].as_str().map(str::to_owned);
    let kind = body["type"].as_str().unwrap_or("text").to_owned();
    state.sent.push(SentMessage {
        to: to.clone(),
        kind,
        body: body.clone(),
        wamid: wamid.clone(),
        reference: reference.clone(),
        received_at: Utc::now(),
    });
    let latency = state.latency;
    drop(state);
    if shared.auto_status.load(Ordering::SeqCst) {
        let (shared, wamid, to) = (shared.clone(), wamid.clone(), to.clone());
        tokio::spawn(async move {
            // Reported once the answer is out, as Meta does.
            tokio::time::sleep(latency).await;
            for status in ["sent", "delivered"] {
                let body = status_body(&wamid, &to, status, reference.as_deref(), None);
                deliver(&shared, body, true).await;
            }
        });
    }
    ok(json!({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": to}],
        "messages": [{"id": wamid}]}))
}

/// A webhook body of one `messages` change carrying `value`'s lists.
pub fn envelope(value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID});
    json!({"object": "whatsapp_business_account",
        "entry": [{"id": BUSINESS_ACCOUNT_ID, "changes": [{"value": value, "field": "messages"}]}]})
}

fn buyer_message(from: &str, name: &str, id: &str, message: Value) -> Value {
    let mut message = message;
    message["from"] = json!(from);
    message["id"] = json!(id);
    message["timestamp"] = json!(now_ts());
    envelope(json!({"contacts": [{"profile": {"name": name}, "wa_id": from}], "messages": [message]}))
}

/// A status webhook of one of the business's messages; `error` is the code
/// of a `failed` status.
pub fn status_body(wamid: &str, to: &str, status: &str, reference: Option<&str>, error: Option<i64>) -> Value {
    let mut s = json!({"id": wamid, "status": status, "timestamp": now_ts(), "recipient_id": to});
    if let Some(r) = reference {
        s["biz_opaque_callback_data"] = json!(r);
    }
    if status == "failed" {
        let code = error.unwrap_or(131_026);
        s["errors"] = json!([{"code": code, "title": title(code), "message": title(code),
            "error_data": {"details": details(code)}}]);
    } else {
        s["conversation"] = json!({"id": format!("conv-{to}"), "origin": {"type": "service"}});
        s["pricing"] = json!({"billable": true, "pricing_model": "CBP", "category": "service"});
    }
    envelope(json!({"statuses": [s]}))
}

/// POSTs a signed webhook; with `retry`, again with back-off until the
/// receiver answers 2xx or the attempts run out. The last status, if any.
async fn deliver(shared: &Shared, body: Value, retry: bool) -> Option<u16> {
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut wait = *shared.retry_base.lock().unwrap_or_else(PoisonError::into_inner);
    let attempts = if retry { 10 } else { 1 };
    let mut last = None;
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        let Some((url, secret)) = shared.lock().webhook.clone() else { continue };
        let signature = ferry_core::signature::sign(secret.as_bytes(), &bytes);
        let result = shared
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(bytes.clone())
            .send()
            .await;
        last = result.ok().map(|r| r.status().as_u16());
        shared.lock().attempts.push(WebhookAttempt { body: body.clone(), status: last });
        if last.is_some_and(|s| (200..300).contains(&s)) {
            break;
        }
    }
    last
}

/// What a webhook the stand-in posted gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The receiver's HTTP status (0 when it could not be reached).
    pub status: u16,
    /// The WhatsApp id of the buyer's message it carried.
    pub message_id: String,
}

impl FakeGraph {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // Webhooks go out over plain HTTP, but the client wants a TLS
        // provider chosen (a no-op when the process already has one).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().build().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            addr,
            ids: AtomicU64::new(1),
            auto_status: AtomicBool::new(false),
            retry_base: Mutex::new(Duration::from_millis(100)),
            http,
            state: Mutex::default(),
        });
        let app =
            Router::new().fallback(handle).with_state(shared.clone()).layer(axum::middleware::map_response(crate::tag));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the WhatsApp stand-in stopped");
            }
        });
        Ok(Self { shared, task })
    }

    /// The API base to configure (`http://127.0.0.1:port/v21.0`).
    pub fn base_url(&self) -> String {
        format!("http://{}/{API_VERSION}", self.shared.addr)
    }

    /// The inbox settings (`config.extra["whatsapp"]`) that talk to it.
    pub fn settings(&self, verify_token: &str) -> Value {
        json!({"phone_number_id": PHONE_NUMBER_ID, "business_account_id": BUSINESS_ACCOUNT_ID,
            "access_token": ACCESS_TOKEN, "verify_token": verify_token, "api_base": self.base_url()})
    }

    /// Every message accepted so far, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// How many messages it accepted.
    pub fn sent_count(&self) -> usize {
        self.shared.lock().sent.len()
    }

    /// How many accepted messages carry each `biz_opaque_callback_data`.
    pub fn count_by_reference(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for m in &self.shared.lock().sent {
            *out.entry(m.reference.clone().unwrap_or_default()).or_insert(0) += 1;
        }
        out
    }

    /// Messages marked read, in order.
    pub fn marked_read(&self) -> Vec<String> {
        self.shared.lock().read.clone()
    }

    /// The bytes and type of an uploaded or stored medium.
    pub fn media(&self, id: &str) -> Option<(Vec<u8>, String)> {
        self.shared.lock().media.get(id).map(|m| (m.bytes.clone(), m.mime.clone()))
    }

    /// Stores a medium (as a buyer's upload); returns its id.
    pub fn add_media(&self, bytes: Vec<u8>, mime: &str) -> String {
        store_media(&self.shared, bytes, mime)
    }

    /// Changes a stored medium's bytes but not its declared SHA-256.
    pub fn tamper_media(&self, id: &str) {
        if let Some(m) = self.shared.lock().media.get_mut(id) {
            m.bytes.push(b'!');
        }
    }

    /// Every send to `wa_id` fails with `code` (131026, 131047…) until
    /// [`FakeGraph::clear_failures`].
    pub fn fail_recipient(&self, wa_id: &str, code: i64) {
        self.shared.lock().failing.insert(wa_id.to_owned(), code);
    }

    /// Stops scripted failures.
    pub fn clear_failures(&self) {
        let mut s = self.shared.lock();
        s.failing.clear();
        s.next.clear();
    }

    /// The next send is answered with `code`'s error (after those already
    /// scripted).
    pub fn fail_next(&self, code: i64) {
        self.respond_next(http_status(code), error_body(code, None));
    }

    /// The next send is answered with this status and body (after those
    /// already scripted).
    pub fn respond_next(&self, status: u16, body: Value) {
        self.shared.lock().next.push_back(Some((status, body)));
    }

    /// The next send is handled as usual (to script a failure of the one
    /// after it).
    pub fn pass_next(&self) {
        self.shared.lock().next.push_back(None);
    }

    /// Serves at most `n` templates a page whatever `limit` asks, as Meta
    /// may (`None`: as asked).
    pub fn set_max_page(&self, n: Option<usize>) {
        self.shared.lock().max_page = n;
    }

    /// Answers one rate-limit error (`4` or `80007`) to the next send.
    pub fn rate_limit_once(&self, code: i64) {
        self.fail_next(code);
    }

    /// Messages per second the number takes before answering 130429
    /// (`None`: no limit, the default).
    pub fn set_throughput(&self, per_second: Option<u32>) {
        let mut s = self.shared.lock();
        s.throughput = per_second;
        s.window = None;
    }

    /// Answers each accepted send only after `latency` (kept from the
    /// moment it is accepted), and posts its statuses after that: a window
    /// in which Meta has the message and the sender does not know yet.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Where webhooks go and the app secret they are signed with.
    pub fn set_webhook(&self, url: &str, app_secret: &str) {
        self.shared.lock().webhook = Some((url.to_owned(), app_secret.to_owned()));
    }

    /// After each accepted send, post `sent` then `delivered` statuses,
    /// retrying with back-off from `retry_base` (off by default).
    pub fn auto_status(&self, on: bool, retry_base: Duration) {
        self.shared.auto_status.store(on, Ordering::SeqCst);
        *self.shared.retry_base.lock().unwrap_or_else(PoisonError::into_inner) = retry_base;
    }

    /// Every webhook POST made so far.
    pub fn webhook_attempts(&self) -> Vec<WebhookAttempt> {
        self.shared.lock().attempts.clone()
    }

    /// Posts `body`, signed, to the webhook once; the receiver's status (0
    /// when unreachable or no webhook is set).
    pub async fn post(&self, body: Value) -> u16 {
        deliver(&self.shared, body, false).await.unwrap_or(0)
    }

    async fn post_message(&self, from: &str, name: &str, message: Value) -> Posted {
        let message_id = format!("wamid.buyer{:012}", self.shared.next_id());
        let status = self.post(buyer_message(from, name, &message_id, message)).await;
        Posted { status, message_id }
    }

    /// A buyer's text message.
    pub async fn buyer_text(&self, from: &str, name: &str, text: &str) -> Posted {
        self.post_message(from, name, json!({"type": "text", "text": {"body": text}})).await
    }

    /// A buyer's picture (stored so it can be fetched, declared with its
    /// base64 SHA-256 as webhooks do).
    pub async fn buyer_image(&self, from: &str, name: &str, bytes: Vec<u8>, mime: &str) -> Posted {
        let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
        let id = self.add_media(bytes, mime);
        self.post_message(from, name, json!({"type": "image", "image": {"id": id, "mime_type": mime, "sha256": sha}}))
            .await
    }

    /// A buyer pressing a reply button of the business's message
    /// `context_wamid`.
    pub async fn buyer_button_reply(&self, from: &str, id: &str, title: &str, context_wamid: &str) -> Posted {
        let message = json!({"type": "interactive",
            "context": {"from": DISPLAY_PHONE_NUMBER, "id": context_wamid},
            "interactive": {"type": "button_reply", "button_reply": {"id": id, "title": title}}});
        self.post_message(from, "", message).await
    }

    /// A status of an accepted message (`sent`, `delivered`, `read`, or
    /// `failed` with code 131026), with its recipient and reference.
    pub async fn status(&self, wamid: &str, status: &str) -> u16 {
        self.status_with_error(wamid, status, None).await
    }

    /// As [`FakeGraph::status`], with the error code of a `failed` status.
    pub async fn status_with_error(&self, wamid: &str, status: &str, code: Option<i64>) -> u16 {
        let known = self.sent().into_iter().find(|m| m.wamid == wamid);
        let to = known.as_ref().map_or("15550001111", |m| m.to.as_str()).to_owned();
        let reference = known.and_then(|m| m.reference);
        self.post(status_body(wamid, &to, status, reference.as_deref(), code)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn multipart_fields_are_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n";
        let f = multipart("multipart/form-data; boundary=XyZ", body);
        assert_eq!(f["messaging_product"].1, b"whatsapp");
        assert_eq!(f["file"], (Some("image/png".to_owned()), b"\x89PNG".to_vec()));
    }

    #[test]
    fn templates_are_checked_like_meta() {
        let media = HashMap::new();
        let t = |body_params: usize| {
            let params: Vec<Value> = (0..body_params).map(|i| json!({"type": "text", "text": i.to_string()})).collect();
            json!({"type": "template", "template": {"name": "order_update", "language": {"code": "en_US"},
                "components": [{"type": "header", "parameters": []}, {"type": "body", "parameters": params}]}})
        };
        assert!(check_message(&t(3), &media).is_ok());
        assert_eq!(check_message(&t(2), &media).unwrap_err().0, 132_000);
        let unknown = json!({"type": "template", "template": {"name": "nope", "language": {"code": "en_US"}}});
        assert_eq!(check_message(&unknown, &media).unwrap_err().0, 132_001);
    }
}
