//! A client of the WhatsApp Cloud API (Meta's Graph API) for one business
//! phone number: sending every kind of message Ferry sends, uploading and
//! downloading media, marking messages read, listing the account's
//! templates and checking the number. Graph errors are sorted into
//! [`SendError`]s: throughput limits are [`SendError::Throttled`] (with
//! `Retry-After` or Meta's advised pause), outages and network failures
//! [`SendError::Retryable`], everything else [`SendError::Permanent`] with
//! Meta's title and code. The access token is only ever put in the
//! `Authorization` header: never in an error, a URL or a log line.

use super::settings::WhatsAppSettings;
use crate::SendError;
use base64::Engine;
use ferry_core::message::{Button, TemplateMessage};
use ferry_core::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Longest text message WhatsApp takes, in characters.
pub const MAX_TEXT: usize = 4096;
/// Longest caption of a medium, in characters.
pub const MAX_CAPTION: usize = 1024;
/// Most reply buttons in one interactive message.
pub const MAX_BUTTONS: usize = 3;
/// Longest reply button title, in characters.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Most rows in an interactive list.
pub const MAX_LIST_ROWS: usize = 10;
/// Longest list row title, in characters.
pub const MAX_ROW_TITLE: usize = 24;
/// Longest list row description, in characters.
const MAX_ROW_DESCRIPTION: usize = 72;
/// Longest list row id, in characters.
const MAX_ROW_ID: usize = 200;
/// Longest body of an interactive message, in characters.
const MAX_INTERACTIVE_BODY: usize = 1024;
/// Most template pages read (a guard against a cursor that never ends).
const MAX_TEMPLATE_PAGES: usize = 100;

/// What kind of medium a file is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// JPEG or PNG, up to 5 MB.
    Image,
    /// MP4 or 3GP, up to 16 MB.
    Video,
    /// AAC, AMR, MP3, M4A or OGG (Opus), up to 16 MB.
    Audio,
    /// Any file, up to 100 MB.
    Document,
    /// WebP, up to 500 KB.
    Sticker,
}

impl MediaKind {
    /// The kind a file of `content_type` is sent as: what WhatsApp does
    /// not take as a picture, video or sound goes as a document.
    pub fn for_content_type(content_type: &str) -> Self {
        let ct = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match ct.as_str() {
            "image/jpeg" | "image/png" => MediaKind::Image,
            "video/mp4" | "video/3gpp" => MediaKind::Video,
            "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => MediaKind::Audio,
            _ => MediaKind::Document,
        }
    }

    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// The largest file WhatsApp takes of this kind, in bytes.
    pub fn max_bytes(self) -> u64 {
        match self {
            MediaKind::Image => 5 * 1024 * 1024,
            MediaKind::Video | MediaKind::Audio => 16 * 1024 * 1024,
            MediaKind::Document => 100 * 1024 * 1024,
            MediaKind::Sticker => 500 * 1024,
        }
    }

    /// The largest file of `content_type` WhatsApp delivers, for downloads.
    pub fn max_bytes_for(content_type: &str) -> u64 {
        let major = content_type.split('/').next().unwrap_or_default().trim().to_ascii_lowercase();
        match major.as_str() {
            "image" => MediaKind::Image.max_bytes(),
            "video" | "audio" => MediaKind::Video.max_bytes(),
            _ => MediaKind::Document.max_bytes(),
        }
    }

    fn takes_caption(self) -> bool {
        matches!(self, MediaKind::Image | MediaKind::Video | MediaKind::Document)
    }
}

/// Where WhatsApp takes a medium from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// A medium uploaded with [`WhatsAppClient::upload`].
    Id(String),
    /// A public HTTPS link WhatsApp fetches itself.
    Link(String),
}

/// One message to send.
#[derive(Debug, Clone, PartialEq)]
pub enum OutMessage {
    /// Text (a link in it gets a preview).
    Text(String),
    /// A picture, video, sound, document or sticker.
    Media {
        /// How it is shown.
        kind: MediaKind,
        /// The file.
        source: MediaSource,
        /// Text under it (pictures, videos and documents).
        caption: Option<String>,
        /// The file name shown (documents).
        filename: Option<String>,
    },
    /// A question with choices: up to three short ones as reply buttons,
    /// up to ten as a list, more as numbered text.
    Choices {
        /// The question.
        text: String,
        /// The choices; each button's payload comes back when tapped.
        buttons: Vec<Button>,
        /// The label of the button opening a list.
        list_label: String,
    },
    /// A place.
    Location {
        /// Latitude in degrees.
        latitude: f64,
        /// Longitude in degrees.
        longitude: f64,
        /// Its name.
        name: Option<String>,
        /// Its address.
        address: Option<String>,
    },
    /// A reaction to a message (an empty emoji takes it back).
    Reaction {
        /// The message reacted to.
        message_id: String,
        /// The emoji.
        emoji: String,
    },
    /// An approved template with its parameters.
    Template(TemplateMessage),
}

/// A message, its recipient and what goes with it.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    /// The recipient's WhatsApp id (phone number in digits).
    pub to: String,
    /// What to send.
    pub message: OutMessage,
    /// The WhatsApp id of the message this one quotes.
    pub reply_to: Option<String>,
    /// A reference WhatsApp hands back in every status of the message
    /// (`biz_opaque_callback_data`): Ferry's message id.
    pub reference: Option<String>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn truncate(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn has_link(text: &str) -> bool {
    text.contains("https://") || text.contains("http://") || text.contains("www.")
}

/// The choices as numbered lines under the question, for when they fit
/// neither buttons nor a list.
pub fn numbered(text: &str, buttons: &[Button]) -> String {
    let mut out = text.trim_end().to_owned();
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    let lines: Vec<String> = buttons.iter().enumerate().map(|(i, b)| format!("{}. {}", i + 1, b.title)).collect();
    out.push_str(&lines.join("\n"));
    out
}

fn choices(text: &str, buttons: &[Button], list_label: &str) -> Value {
    let body = if text.trim().is_empty() { "…".to_owned() } else { truncate(text, MAX_INTERACTIVE_BODY) };
    let fits_buttons = !buttons.is_empty()
        && buttons.len() <= MAX_BUTTONS
        && buttons.iter().all(|b| chars(&b.title) <= MAX_BUTTON_TITLE && chars(&b.payload) <= 256);
    if fits_buttons {
        let buttons: Vec<Value> =
            buttons.iter().map(|b| json!({"type": "reply", "reply": {"id": b.payload, "title": b.title}})).collect();
        return json!({"type": "interactive", "interactive": {
            "type": "button", "body": {"text": body}, "action": {"buttons": buttons}}});
    }
    let fits_list = !buttons.is_empty()
        && buttons.len() <= MAX_LIST_ROWS
        && buttons.iter().all(|b| !b.payload.is_empty() && chars(&b.payload) <= MAX_ROW_ID);
    if fits_list {
        let rows: Vec<Value> = buttons
            .iter()
            .map(|b| {
                let mut row = json!({"id": b.payload, "title": truncate(&b.title, MAX_ROW_TITLE)});
                if chars(&b.title) > MAX_ROW_TITLE {
                    row["description"] = json!(truncate(&b.title, MAX_ROW_DESCRIPTION));
                }
                row
            })
            .collect();
        let label = if list_label.trim().is_empty() { "Choose" } else { list_label };
        return json!({"type": "interactive", "interactive": {
            "type": "list", "body": {"text": body},
            "action": {"button": truncate(label, MAX_BUTTON_TITLE), "sections": [{"rows": rows}]}}});
    }
    let text = numbered(text, buttons);
    json!({"type": "text", "text": {"body": truncate(&text, MAX_TEXT), "preview_url": has_link(&text)}})
}

fn template(t: &TemplateMessage) -> Value {
    let text_params =
        |values: &[String]| -> Vec<Value> { values.iter().map(|v| json!({"type": "text", "text": v})).collect() };
    let mut components = Vec::new();
    if !t.header.is_empty() {
        components.push(json!({"type": "header", "parameters": text_params(&t.header)}));
    }
    if !t.body.is_empty() {
        components.push(json!({"type": "body", "parameters": text_params(&t.body)}));
    }
    for b in &t.buttons {
        let parameter = if b.sub_type == "quick_reply" {
            json!({"type": "payload", "payload": b.value})
        } else {
            json!({"type": "text", "text": b.value})
        };
        components.push(json!({"type": "button", "sub_type": b.sub_type, "index": b.index.to_string(),
            "parameters": [parameter]}));
    }
    let mut out = json!({"name": t.name, "language": {"code": t.language}});
    if !components.is_empty() {
        out["components"] = Value::Array(components);
    }
    json!({"type": "template", "template": out})
}

impl SendRequest {
    /// The JSON body of `POST /{phone_number_id}/messages`.
    pub fn body(&self) -> Value {
        let mut body = match &self.message {
            OutMessage::Text(text) => {
                json!({"type": "text", "text": {"body": text, "preview_url": has_link(text)}})
            }
            OutMessage::Media { kind, source, caption, filename } => {
                let mut media = match source {
                    MediaSource::Id(id) => json!({"id": id}),
                    MediaSource::Link(link) => json!({"link": link}),
                };
                if let Some(c) = caption.as_deref().filter(|c| !c.trim().is_empty() && kind.takes_caption()) {
                    media["caption"] = json!(c);
                }
                if let Some(f) = filename.as_deref().filter(|_| *kind == MediaKind::Document) {
                    media["filename"] = json!(f);
                }
                json!({"type": kind.as_str(), kind.as_str(): media})
            }
            OutMessage::Choices { text, buttons, list_label } => choices(text, buttons, list_label),
            OutMessage::Location { latitude, longitude, name, address } => {
                let mut location = json!({"latitude": latitude, "longitude": longitude});
                if let Some(n) = name {
                    location["name"] = json!(n);
                }
                if let Some(a) = address {
                    location["address"] = json!(a);
                }
                json!({"type": "location", "location": location})
            }
            OutMessage::Reaction { message_id, emoji } => {
                json!({"type": "reaction", "reaction": {"message_id": message_id, "emoji": emoji}})
            }
            OutMessage::Template(t) => template(t),
        };
        body["messaging_product"] = json!("whatsapp");
        body["recipient_type"] = json!("individual");
        body["to"] = json!(self.to);
        if let Some(id) = &self.reply_to {
            body["context"] = json!({"message_id": id});
        }
        if let Some(reference) = &self.reference {
            body["biz_opaque_callback_data"] = json!(reference);
        }
        body
    }
}

/// An error object of the Graph API.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphError {
    /// Its code (`131047`).
    pub code: i64,
    /// Its message, without the `(#code) ` prefix.
    pub message: String,
    /// `error_data.details`, when given.
    pub details: Option<String>,
}

impl GraphError {
    /// The error in a Graph answer's body (`{"error": {...}}`), if any.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let e = v.get("error")?;
        let code = e.get("code").and_then(Value::as_i64).unwrap_or_default();
        let raw = e
            .get("error_user_title")
            .and_then(Value::as_str)
            .or_else(|| e.get("message").and_then(Value::as_str))
            .unwrap_or_default();
        let prefix = format!("(#{code}) ");
        let message = raw.strip_prefix(&prefix).unwrap_or(raw).trim().to_owned();
        let details = e
            .get("error_data")
            .and_then(|d| d.get("details"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        Some(GraphError { code, message, details })
    }

    fn describe(&self) -> String {
        let title = if self.message.is_empty() { "WhatsApp refused the request" } else { &self.message };
        match &self.details {
            Some(d) if d != title => format!("{title} ({}): {d}", self.code),
            _ => format!("{title} ({})", self.code),
        }
    }
}

/// Sorts a failed Graph call (its HTTP status, `Retry-After`, and error
/// object) into what the delivery engine does next.
pub fn classify(status: u16, retry_after: Option<Duration>, error: Option<&GraphError>) -> SendError {
    let code = error.map(|e| e.code);
    let reason = error.map_or_else(|| format!("WhatsApp answered HTTP {status}"), GraphError::describe);
    let throttled = |default: u64| SendError::Throttled {
        reason: reason.clone(),
        retry_after: retry_after.unwrap_or(Duration::from_secs(default)),
    };
    match code {
        Some(130_429) => throttled(1),
        // One message every six seconds to the same person.
        Some(131_056) => throttled(6),
        Some(4 | 80_007 | 613) => throttled(60),
        Some(131_047) => SendError::Permanent(format!(
            "{reason}. More than 24 hours have passed since the buyer last wrote: WhatsApp only takes an \
             approved template until they write again"
        )),
        Some(1 | 2 | 131_000 | 131_016 | 133_004) => SendError::Retryable(reason),
        _ if status == 429 => throttled(1),
        _ if status >= 500 => SendError::Retryable(reason),
        Some(190) => SendError::Permanent(format!("{reason}. The access token has expired or is wrong")),
        _ => SendError::Permanent(reason),
    }
}

fn transport(e: &reqwest::Error) -> SendError {
    // Never the error's own text: it may carry the URL.
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "request failed"
    };
    SendError::Retryable(format!("WhatsApp unreachable: {what}"))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs).or_else(|| v.parse::<f64>().ok().map(Duration::from_secs_f64))
}

/// What `GET /{media_id}` says about a medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// Its id.
    pub id: String,
    /// Where to download it (for a few minutes, with the token).
    pub url: String,
    /// Its content type.
    pub mime_type: String,
    /// Its SHA-256 (hex or base64).
    pub sha256: Option<String>,
    /// Its size in bytes.
    pub file_size: Option<u64>,
}

/// The business phone number as Meta shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber {
    /// Its id.
    pub id: String,
    /// The number as shown (`+1 555-0100`).
    pub display_phone_number: String,
    /// The business name WhatsApp verified.
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality_rating: Option<String>,
}

/// A message template of the WhatsApp Business Account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Its id.
    pub id: String,
    /// Its name (one name has one template per language).
    pub name: String,
    /// Its language code.
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`…
    pub status: String,
    /// Its quality score (`GREEN`, `YELLOW`, `RED`, `UNKNOWN`), when given.
    pub quality: Option<String>,
    /// Its header, body, footer and buttons.
    pub components: Vec<TemplateComponent>,
}

/// One component of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateComponent {
    /// `HEADER`, `BODY`, `FOOTER` or `BUTTONS`.
    pub kind: String,
    /// A header's format (`TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT`, `LOCATION`).
    pub format: Option<String>,
    /// Its text with `{{n}}` placeholders.
    pub text: Option<String>,
    /// How many distinct placeholders the text has.
    pub parameters: usize,
    /// The buttons of a `BUTTONS` component.
    pub buttons: Vec<TemplateButton>,
}

/// One button of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateButton {
    /// `QUICK_REPLY`, `URL`, `PHONE_NUMBER`, `COPY_CODE`, `OTP`…
    pub kind: String,
    /// Its label.
    pub text: String,
    /// A URL button's URL (ending in `{{1}}` when the send gives a suffix).
    pub url: Option<String>,
    /// A call button's number.
    pub phone_number: Option<String>,
    /// How many placeholders the URL has.
    pub parameters: usize,
}

impl Template {
    /// The component of `kind` (`BODY`…), if the template has one.
    pub fn component(&self, kind: &str) -> Option<&TemplateComponent> {
        self.components.iter().find(|c| c.kind.eq_ignore_ascii_case(kind))
    }
}

/// How many distinct `{{…}}` placeholders `text` has.
pub fn count_parameters(text: &str) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !name.is_empty() && !name.contains('{') && !seen.contains(&name) {
            seen.push(name);
        }
        rest = &after[end + 2..];
    }
    seen.len()
}

/// `text` with `{{1}}`, `{{2}}`… replaced by `values` in order (missing
/// values leave their placeholder): what the buyer reads.
pub fn fill(text: &str, values: &[String]) -> String {
    let mut out = text.to_owned();
    for (i, v) in values.iter().enumerate() {
        out = out.replace(&format!("{{{{{}}}}}", i + 1), v);
    }
    out
}

fn string_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn template_of(t: &Value) -> Template {
    let s = |k: &str| string_of(t, k).unwrap_or_default();
    let components = t
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let text = string_of(c, "text");
            let buttons = c
                .get("buttons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| {
                    let url = string_of(b, "url");
                    TemplateButton {
                        kind: string_of(b, "type").unwrap_or_default(),
                        text: string_of(b, "text").unwrap_or_default(),
                        parameters: url.as_deref().map_or(0, count_parameters),
                        url,
                        phone_number: string_of(b, "phone_number"),
                    }
                })
                .collect();
            TemplateComponent {
                kind: string_of(c, "type").unwrap_or_default(),
                format: string_of(c, "format"),
                parameters: text.as_deref().map_or(0, count_parameters),
                text,
                buttons,
            }
        })
        .collect();
    Template {
        id: s("id"),
        name: s("name"),
        language: s("language"),
        category: s("category"),
        status: s("status"),
        quality: t.get("quality_score").and_then(|q| string_of(q, "score")),
        components,
    }
}

/// Checks `bytes` against a SHA-256 given in hex (media info) or base64
/// (webhooks).
pub fn sha256_matches(bytes: &[u8], expected: &str) -> bool {
    let digest = Sha256::digest(bytes);
    let expected = expected.trim();
    let decoded = if expected.len() == 64 && expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(expected).ok()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(expected)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(expected))
            .ok()
    };
    decoded.is_some_and(|d| d.as_slice() == digest.as_slice())
}

/// A client for one business phone number.
#[derive(Debug, Clone)]
pub struct WhatsAppClient {
    http: reqwest::Client,
    base: String,
    phone_number_id: String,
    business_account_id: String,
    token: Secret<String>,
}

impl WhatsAppClient {
    /// A client for the number of `settings`, sending with `http` (its
    /// timeouts apply).
    pub fn new(http: reqwest::Client, settings: &WhatsAppSettings) -> Self {
        Self {
            http,
            base: settings.api_base.clone(),
            phone_number_id: settings.phone_number_id.clone(),
            business_account_id: settings.business_account_id.clone(),
            token: settings.access_token.clone(),
        }
    }

    /// The WhatsApp Business Account of the settings.
    pub fn business_account_id(&self) -> &str {
        &self.business_account_id
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    fn url_with(&self, path: &str, query: &[(&str, &str)]) -> Result<url::Url, SendError> {
        let mut url = url::Url::parse(&self.url(path))
            .map_err(|_| SendError::Permanent("the WhatsApp API base is not a URL".into()))?;
        url.query_pairs_mut().extend_pairs(query);
        Ok(url)
    }

    /// Sends a request with the token and reads the JSON answer, sorting
    /// failures.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, SendError> {
        let response = request.bearer_auth(self.token.expose()).send().await.map_err(|e| transport(&e))?;
        let status = response.status();
        let wait = retry_after(response.headers());
        let bytes = response.bytes().await.map_err(|e| transport(&e))?;
        if status.is_success() {
            serde_json::from_slice(&bytes)
                .map_err(|_| SendError::Retryable(format!("WhatsApp answered HTTP {status} with an unreadable body")))
        } else {
            Err(classify(status.as_u16(), wait, GraphError::from_body(&bytes).as_ref()))
        }
    }

    /// Sends one message; returns its WhatsApp id (`wamid.…`).
    pub async fn send(&self, request: &SendRequest) -> Result<String, SendError> {
        let url = self.url(&format!("{}/messages", self.phone_number_id));
        let answer = self.call(self.http.post(url).json(&request.body())).await?;
        answer
            .get("messages")
            .and_then(|m| m.get(0))
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| SendError::Permanent("WhatsApp accepted the message but gave no id".into()))
    }

    /// Uploads a file (`POST /{phone_number_id}/media`, multipart); returns
    /// the media id to send it by.
    pub async fn upload(
        &self,
        bytes: Vec<u8>,
        content_type: &str,
        filename: Option<&str>,
    ) -> Result<String, SendError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.unwrap_or("file").to_owned())
            .mime_str(content_type)
            .map_err(|_| SendError::Permanent(format!("`{content_type}` is not a content type")))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", content_type.to_owned())
            .part("file", part);
        let url = self.url(&format!("{}/media", self.phone_number_id));
        let answer = self.call(self.http.post(url).multipart(form)).await?;
        string_of(&answer, "id").ok_or_else(|| SendError::Permanent("WhatsApp stored the file but gave no id".into()))
    }

    /// Marks a buyer's message (and those before it) as read.
    pub async fn mark_read(&self, message_id: &str) -> Result<(), SendError> {
        let url = self.url(&format!("{}/messages", self.phone_number_id));
        let body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id});
        self.call(self.http.post(url).json(&body)).await.map(|_| ())
    }

    /// Where and what a medium is (`GET /{media_id}`).
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo, SendError> {
        if media_id.is_empty() || !media_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(SendError::Permanent("not a WhatsApp media id".into()));
        }
        let answer = self.call(self.http.get(self.url(media_id))).await?;
        let url = string_of(&answer, "url").ok_or_else(|| SendError::Permanent("WhatsApp gave no media URL".into()))?;
        Ok(MediaInfo {
            id: string_of(&answer, "id").unwrap_or_else(|| media_id.to_owned()),
            url,
            mime_type: string_of(&answer, "mime_type").unwrap_or_else(|| "application/octet-stream".into()),
            sha256: string_of(&answer, "sha256"),
            file_size: string_of(&answer, "file_size").and_then(|s| s.parse().ok()),
        })
    }

    /// Downloads a medium from its URL with the token, refusing more than
    /// `limit` bytes and bytes that do not match `sha256` when given.
    pub async fn download(&self, url: &str, limit: u64, sha256: Option<&str>) -> Result<Vec<u8>, SendError> {
        let parsed = url::Url::parse(url).map_err(|_| SendError::Permanent("the media URL is not a URL".into()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(SendError::Permanent("the media URL must be http or https".into()));
        }
        let mut response =
            self.http.get(parsed).bearer_auth(self.token.expose()).send().await.map_err(|e| transport(&e))?;
        let status = response.status();
        if !status.is_success() {
            let wait = retry_after(response.headers());
            let bytes = response.bytes().await.unwrap_or_default();
            return Err(classify(status.as_u16(), wait, GraphError::from_body(&bytes).as_ref()));
        }
        let too_big = || SendError::Permanent(format!("the medium is larger than {limit} bytes"));
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(&e))? {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        if sha256.is_some_and(|expected| !expected.trim().is_empty() && !sha256_matches(&bytes, expected)) {
            return Err(SendError::Permanent("the medium does not match its SHA-256".into()));
        }
        Ok(bytes)
    }

    /// A medium's bytes and content type: its info, then its bytes, limited
    /// by WhatsApp's size for its type and checked against its SHA-256.
    pub async fn fetch_media(&self, media_id: &str) -> Result<(Vec<u8>, String), SendError> {
        let info = self.media_info(media_id).await?;
        let limit = MediaKind::max_bytes_for(&info.mime_type);
        if info.file_size.is_some_and(|n| n > limit) {
            return Err(SendError::Permanent(format!("the medium is larger than {limit} bytes")));
        }
        let bytes = self.download(&info.url, limit, info.sha256.as_deref()).await?;
        Ok((bytes, info.mime_type))
    }

    /// Every template of the WhatsApp Business Account `waba_id`, following
    /// the `after` cursor page by page.
    pub async fn templates(&self, waba_id: &str) -> Result<Vec<Template>, SendError> {
        if waba_id.is_empty() || !waba_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SendError::Permanent("the WhatsApp Business Account id must be digits".into()));
        }
        let path = format!("{waba_id}/message_templates");
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_TEMPLATE_PAGES {
            let mut query = vec![("limit", "100")];
            if let Some(a) = &after {
                query.push(("after", a.as_str()));
            }
            let page = self.call(self.http.get(self.url_with(&path, &query)?)).await?;
            out.extend(page.get("data").and_then(Value::as_array).into_iter().flatten().map(template_of));
            let paging = page.get("paging");
            let next = paging.and_then(|p| p.get("next")).is_some_and(|n| n.as_str().is_some_and(|s| !s.is_empty()));
            let cursor = paging.and_then(|p| p.get("cursors")).and_then(|c| string_of(c, "after"));
            match cursor {
                Some(c) if next && after.as_ref() != Some(&c) => after = Some(c),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// The business phone number, for the console's connection check.
    pub async fn phone_number(&self) -> Result<PhoneNumber, SendError> {
        let url =
            self.url_with(&self.phone_number_id, &[("fields", "display_phone_number,verified_name,quality_rating")])?;
        let answer = self.call(self.http.get(url)).await?;
        Ok(PhoneNumber {
            id: string_of(&answer, "id").unwrap_or_else(|| self.phone_number_id.clone()),
            display_phone_number: string_of(&answer, "display_phone_number").unwrap_or_default(),
            verified_name: string_of(&answer, "verified_name"),
            quality_rating: string_of(&answer, "quality_rating"),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ferry_core::message::TemplateButtonValue;

    fn request(message: OutMessage) -> SendRequest {
        SendRequest { to: "4915112345678".into(), message, reply_to: None, reference: Some("42".into()) }
    }

    fn buttons(n: usize, title: &str) -> Vec<Button> {
        (0..n).map(|i| Button { title: format!("{title}{i}"), payload: format!("p{i}") }).collect()
    }

    #[test]
    fn text_gets_a_preview_only_with_a_link() {
        let b = request(OutMessage::Text("see https://shop.example/x".into())).body();
        assert_eq!(b["text"]["preview_url"], json!(true));
        assert_eq!(b["biz_opaque_callback_data"], json!("42"));
        assert_eq!(b["messaging_product"], json!("whatsapp"));
        let b = request(OutMessage::Text("hello".into())).body();
        assert_eq!(b["text"]["preview_url"], json!(false));
        assert!(b.get("context").is_none());
    }

    #[test]
    fn choices_become_buttons_a_list_or_numbered_text() {
        let b =
            request(OutMessage::Choices { text: "Q".into(), buttons: buttons(3, "Yes"), list_label: "Pick".into() })
                .body();
        assert_eq!(b["interactive"]["type"], json!("button"));
        assert_eq!(b["interactive"]["action"]["buttons"][2]["reply"]["id"], json!("p2"));
        let long = request(OutMessage::Choices {
            text: "Q".into(),
            buttons: buttons(2, "A title longer than twenty"),
            list_label: "Pick".into(),
        })
        .body();
        assert_eq!(long["interactive"]["type"], json!("list"));
        let row = &long["interactive"]["action"]["sections"][0]["rows"][0];
        assert_eq!(row["title"].as_str().unwrap().chars().count(), 24);
        assert_eq!(row["description"], json!("A title longer than twenty0"));
        let list =
            request(OutMessage::Choices { text: "Q".into(), buttons: buttons(10, "x"), list_label: String::new() })
                .body();
        assert_eq!(list["interactive"]["action"]["button"], json!("Choose"));
        let many =
            request(OutMessage::Choices { text: "Q".into(), buttons: buttons(11, "o"), list_label: String::new() })
                .body();
        assert_eq!(many["type"], json!("text"));
        assert!(many["text"]["body"].as_str().unwrap().ends_with("11. o10"));
    }

    #[test]
    fn templates_carry_their_parameters() {
        let t = TemplateMessage {
            name: "order_update".into(),
            language: "en_US".into(),
            header: vec![],
            body: vec!["Ana".into(), "#1001".into()],
            buttons: vec![TemplateButtonValue { index: 0, sub_type: "url".into(), value: "1001".into() }],
            text: "Hi Ana".into(),
        };
        let b = request(OutMessage::Template(t)).body();
        let c = &b["template"]["components"];
        assert_eq!(b["template"]["language"]["code"], json!("en_US"));
        assert_eq!(c[0]["parameters"][1]["text"], json!("#1001"));
        assert_eq!(
            c[1],
            json!({"type": "button", "sub_type": "url", "index": "0",
            "parameters": [{"type": "text", "text": "1001"}]})
        );
    }

    #[test]
    fn errors_are_sorted() {
        let e = |code| GraphError { code, message: "m".into(), details: None };
        assert!(
            matches!(classify(400, None, Some(&e(130_429))), SendError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(1))
        );
        assert!(
            matches!(classify(400, Some(Duration::from_secs(9)), Some(&e(4))), SendError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(9))
        );
        assert!(
            matches!(classify(400, None, Some(&e(80_007))), SendError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(60))
        );
        assert!(matches!(classify(429, None, None), SendError::Throttled { .. }));
        assert!(matches!(classify(500, None, Some(&e(131_000))), SendError::Retryable(_)));
        assert!(matches!(classify(503, None, None), SendError::Retryable(_)));
        assert!(matches!(classify(400, None, Some(&e(131_047))), SendError::Permanent(r) if r.contains("24 hours")));
        assert!(matches!(classify(400, None, Some(&e(131_026))), SendError::Permanent(r) if r.contains("131026")));
        assert!(matches!(classify(401, None, Some(&e(190))), SendError::Permanent(_)));
        let parsed = GraphError::from_body(
            br#"{"error":{"message":"(#131026) Message Undeliverable","type":"OAuthException","code":131026,
                "error_data":{"messaging_product":"whatsapp","details":"Unable to deliver"},"fbtrace_id":"A"}}"#,
        )
        .unwrap();
        assert_eq!(parsed.message, "Message Undeliverable");
        assert_eq!(parsed.describe(), "Message Undeliverable (131026): Unable to deliver");
    }

    #[test]
    fn placeholders_are_counted_and_filled() {
        assert_eq!(count_parameters("Hi {{1}}, order {{2}} ({{1}})"), 2);
        assert_eq!(count_parameters("no {{ parameters"), 0);
        assert_eq!(fill("Hi {{1}}, order {{2}}", &["Ana".into(), "#1".into()]), "Hi Ana, order #1");
    }

    #[test]
    fn hashes_are_read_in_hex_and_base64() {
        let digest = Sha256::digest(b"abc");
        assert!(sha256_matches(b"abc", &hex::encode(digest)));
        assert!(sha256_matches(b"abc", &base64::engine::general_purpose::STANDARD.encode(digest)));
        assert!(!sha256_matches(b"abd", &hex::encode(digest)));
        assert!(!sha256_matches(b"abc", "not a hash"));
    }

    #[test]
    fn media_kinds_follow_whatsapp() {
        assert_eq!(MediaKind::for_content_type("image/png"), MediaKind::Image);
        assert_eq!(MediaKind::for_content_type("image/gif"), MediaKind::Document);
        assert_eq!(MediaKind::for_content_type("audio/ogg; codecs=opus"), MediaKind::Audio);
        assert_eq!(MediaKind::max_bytes_for("video/mp4"), 16 * 1024 * 1024);
    }
}
