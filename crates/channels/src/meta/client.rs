//! A client of the Messenger Platform's Graph API for one page (Messenger
//! and Instagram alike): the Send API (`POST /{page}/messages`), the
//! Attachment Upload API (`POST /{page}/message_attachments`), the page's
//! or account's name, the page's webhook subscription
//! (`POST /{page}/subscribed_apps`) and buyers' files from Meta's CDN.
//! The page token travels in the `Authorization` header, never in a URL;
//! failures become [`SendError`]s the delivery engine acts on.

use super::settings::MetaSettings;
use crate::SendError;
use ferry_core::inbox::ChannelKind;
use ferry_core::secret::Secret;
use serde_json::{Value, json};
use std::time::Duration;

/// Largest file Meta takes as an attachment (25 MB).
pub const MAX_UPLOAD: u64 = 25 * 1024 * 1024;
/// Largest buyer's file Ferry fetches from Meta's CDN.
pub const MAX_DOWNLOAD: u64 = 25 * 1024 * 1024;

/// A Graph API error object with its subcode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaError {
    /// `error.code`.
    pub code: i64,
    /// `error.error_subcode`.
    pub subcode: Option<i64>,
    /// `error.message`, without the `(#code) ` prefix.
    pub message: String,
}

impl MetaError {
    /// The error in a Graph answer's body (`{"error": {...}}`), if any.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let e = v.get("error")?;
        let code = e.get("code").and_then(Value::as_i64).unwrap_or_default();
        let raw = e.get("message").and_then(Value::as_str).unwrap_or_default();
        let prefix = format!("(#{code}) ");
        Some(MetaError {
            code,
            subcode: e.get("error_subcode").and_then(Value::as_i64),
            message: raw.strip_prefix(&prefix).unwrap_or(raw).trim().to_owned(),
        })
    }
}

/// Sorts a failed Graph call (its HTTP status, `Retry-After` and error)
/// into what the delivery engine does next; `name` is "Messenger" or
/// "Instagram".
pub fn classify(name: &str, status: u16, retry_after: Option<Duration>, error: Option<&MetaError>) -> SendError {
    let reason = match error {
        Some(e) if !e.message.is_empty() => format!("{name} refused the message ({}): {}", e.code, e.message),
        Some(e) => format!("{name} refused the message ({})", e.code),
        None => format!("{name} answered HTTP {status}"),
    };
    let throttled = |default: u64| SendError::Throttled {
        reason: reason.clone(),
        retry_after: retry_after.unwrap_or(Duration::from_secs(default)),
    };
    let code = error.map(|e| e.code);
    let subcode = error.and_then(|e| e.subcode);
    match (code, subcode) {
        (Some(10), _)
            if subcode == Some(2_018_278)
                || error.is_some_and(|e| e.message.to_ascii_lowercase().contains("window")) =>
        {
            SendError::Permanent(format!(
                "{reason}. The buyer last wrote more than 24 hours ago (7 days with the human agent tag): \
                 {name} takes no reply until they write again"
            ))
        }
        (Some(551), _) => SendError::Permanent(format!("{reason}. The buyer cannot be reached on {name} right now")),
        (Some(4 | 17 | 32 | 613 | 80_006), _) => throttled(60),
        (Some(1 | 2), _) => SendError::Retryable(reason),
        _ if status == 429 => throttled(1),
        _ if status >= 500 => SendError::Retryable(reason),
        (Some(190), _) => SendError::Permanent(format!("{reason}. The page access token has expired or is wrong")),
        (Some(200 | 230), _) => {
            SendError::Permanent(format!("{reason}. The page has not given Ferry's app the messaging permission"))
        }
        _ => SendError::Permanent(reason),
    }
}

fn transport(name: &str, e: &reqwest::Error) -> SendError {
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
    SendError::Retryable(format!("{name} unreachable: {what}"))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

/// The page or account as the Graph API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    /// The page's name, or the Instagram account's `@username`.
    pub name: String,
}

/// Talks to the Graph API for one page.
#[derive(Clone)]
pub struct MetaClient {
    http: reqwest::Client,
    base: String,
    page_id: String,
    instagram_account_id: Option<String>,
    channel: ChannelKind,
    token: Secret<String>,
}

impl std::fmt::Debug for MetaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaClient").field("base", &self.base).field("page_id", &self.page_id).finish_non_exhaustive()
    }
}

/// The attachment type the Send API takes for a file of `content_type`.
pub fn attachment_type(content_type: &str) -> &'static str {
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("image/") {
        "image"
    } else if ct.starts_with("video/") {
        "video"
    } else if ct.starts_with("audio/") {
        "audio"
    } else {
        "file"
    }
}

impl MetaClient {
    /// A client for the page of `settings`.
    pub fn new(http: reqwest::Client, settings: &MetaSettings) -> Self {
        Self {
            http,
            base: settings.api_base.clone(),
            page_id: settings.page_id.clone(),
            instagram_account_id: settings.instagram_account_id.clone(),
            channel: settings.channel,
            token: settings.access_token.clone(),
        }
    }

    fn name(&self) -> &'static str {
        if self.channel == ChannelKind::Instagram { "Instagram" } else { "Messenger" }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, SendError> {
        let name = self.name();
        let response = request.bearer_auth(self.token.expose()).send().await.map_err(|e| transport(name, &e))?;
        let status = response.status();
        let wait = retry_after(response.headers());
        let bytes = response.bytes().await.map_err(|e| transport(name, &e))?;
        if status.is_success() {
            serde_json::from_slice(&bytes)
                .map_err(|_| SendError::Retryable(format!("{name} answered HTTP {status} with an unreadable body")))
        } else {
            Err(classify(name, status.as_u16(), wait, MetaError::from_body(&bytes).as_ref()))
        }
    }

    /// Sends one Send API request; returns the message's id (`mid`).
    pub async fn send(&self, body: &Value) -> Result<String, SendError> {
        let url = self.url(&format!("{}/messages", self.page_id));
        let answer = self.call(self.http.post(url).json(body)).await?;
        answer
            .get("message_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| SendError::Retryable(format!("{} took the message but gave no id", self.name())))
    }

    /// Uploads a file with the Attachment Upload API; returns the
    /// `attachment_id` to send it by.
    pub async fn upload(
        &self,
        bytes: Vec<u8>,
        content_type: &str,
        filename: Option<&str>,
    ) -> Result<String, SendError> {
        if bytes.len() as u64 > MAX_UPLOAD {
            return Err(SendError::Permanent(format!("{} takes files of at most 25 MB", self.name())));
        }
        let kind = attachment_type(content_type);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.unwrap_or("file").to_owned())
            .mime_str(content_type)
            .map_err(|_| SendError::Permanent(format!("`{content_type}` is not a content type")))?;
        let message = json!({"attachment": {"type": kind, "payload": {"is_reusable": false}}});
        let mut form = reqwest::multipart::Form::new().text("message", message.to_string()).part("filedata", part);
        if self.channel == ChannelKind::Instagram {
            form = form.text("platform", "instagram");
        }
        let url = self.url(&format!("{}/message_attachments", self.page_id));
        let answer = self.call(self.http.post(url).multipart(form)).await?;
        answer
            .get("attachment_id")
            .and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string())))
            .ok_or_else(|| SendError::Permanent(format!("{} stored the file but gave no id", self.name())))
    }

    /// The page's name (Messenger) or the account's `@username`
    /// (Instagram): proves the token works.
    pub async fn page(&self) -> Result<PageInfo, SendError> {
        let (id, fields) = match (&self.instagram_account_id, self.channel) {
            (Some(ig), ChannelKind::Instagram) => (ig.as_str(), "username,name"),
            _ => (self.page_id.as_str(), "name"),
        };
        let mut url = url::Url::parse(&self.url(id))
            .map_err(|_| SendError::Permanent(format!("the {} API base is not a URL", self.name())))?;
        url.query_pairs_mut().append_pair("fields", fields);
        let answer = self.call(self.http.get(url)).await?;
        let name = answer
            .get("username")
            .and_then(Value::as_str)
            .map(|u| format!("@{u}"))
            .or_else(|| answer.get("name").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        Ok(PageInfo { name })
    }

    /// A buyer's name as the platform shows it to the page: Messenger's
    /// user profile (`first_name`, `last_name`) or Instagram's (`name`,
    /// else `@username`). `None` when the platform does not say.
    pub async fn buyer_name(&self, buyer_id: &str) -> Result<Option<String>, SendError> {
        if buyer_id.is_empty() || !buyer_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Ok(None);
        }
        let fields = if self.channel == ChannelKind::Instagram { "name,username" } else { "first_name,last_name" };
        let mut url = url::Url::parse(&self.url(buyer_id))
            .map_err(|_| SendError::Permanent(format!("the {} API base is not a URL", self.name())))?;
        url.query_pairs_mut().append_pair("fields", fields);
        let answer = self.call(self.http.get(url)).await?;
        let text = |k: &str| answer.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let full = [text("first_name"), text("last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let name = text("name")
            .map(str::to_owned)
            .or_else(|| (!full.is_empty()).then_some(full))
            .or_else(|| text("username").map(|u| format!("@{u}")));
        Ok(name.map(|n| n.chars().filter(|c| !c.is_control()).take(255).collect()))
    }

    /// Subscribes Ferry's app to the page's messaging events.
    pub async fn subscribe(&self) -> Result<(), SendError> {
        let fields = if self.channel == ChannelKind::Instagram {
            "messages,messaging_postbacks,message_reactions,messaging_seen"
        } else {
            "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,message_reactions"
        };
        let mut url = url::Url::parse(&self.url(&format!("{}/subscribed_apps", self.page_id)))
            .map_err(|_| SendError::Permanent(format!("the {} API base is not a URL", self.name())))?;
        url.query_pairs_mut().append_pair("subscribed_fields", fields);
        let answer = self.call(self.http.post(url)).await?;
        if answer.get("success").and_then(Value::as_bool) == Some(true) {
            Ok(())
        } else {
            Err(SendError::Permanent(format!("{} did not confirm the subscription", self.name())))
        }
    }

    /// A buyer's file from the URL a webhook gave (Meta's CDN, signed and
    /// short-lived; no token is sent with it).
    pub async fn fetch(&self, url: &str) -> Result<(Vec<u8>, String), SendError> {
        let name = self.name();
        let parsed = url::Url::parse(url).map_err(|_| SendError::Permanent("the file's URL is not a URL".into()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(SendError::Permanent("the file's URL must be http or https".into()));
        }
        let mut response = self.http.get(parsed).send().await.map_err(|e| transport(name, &e))?;
        let status = response.status();
        if status.as_u16() == 403 || status.as_u16() == 404 || status.as_u16() == 410 {
            return Err(SendError::Permanent(format!("{name}'s link to the file has expired ({status})")));
        }
        if !status.is_success() {
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                SendError::Retryable(format!("{name} could not serve the file ({status})"))
            } else {
                SendError::Permanent(format!("{name} refused the file ({status})"))
            });
        }
        let too_big = || SendError::Permanent(format!("the file is larger than {MAX_DOWNLOAD} bytes"));
        if response.content_length().is_some_and(|n| n > MAX_DOWNLOAD) {
            return Err(too_big());
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
            .unwrap_or_default();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(name, &e))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > MAX_DOWNLOAD {
                return Err(too_big());
            }
        }
        Ok((bytes, content_type))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn err(code: i64, subcode: Option<i64>, message: &str) -> MetaError {
        MetaError { code, subcode, message: message.into() }
    }

    #[test]
    fn sorts_graph_errors() {
        let window = classify(
            "Messenger",
            400,
            None,
            Some(&err(10, Some(2_018_278), "This message is sent outside of allowed window.")),
        );
        assert!(matches!(&window, SendError::Permanent(r) if r.contains("24 hours")), "{window:?}");
        assert!(matches!(classify("Messenger", 400, None, Some(&err(613, None, "Calls exceeded"))),
            SendError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(60)));
        assert!(matches!(
            classify("Instagram", 500, None, Some(&err(2, None, "Service unavailable"))),
            SendError::Retryable(_)
        ));
        assert!(matches!(classify("Messenger", 400, None, Some(&err(190, None, "Invalid OAuth access token"))),
            SendError::Permanent(r) if r.contains("token")));
        assert!(
            matches!(classify("Messenger", 400, None, Some(&err(551, None, "This person isn't available right now."))),
            SendError::Permanent(r) if r.contains("cannot be reached"))
        );
        assert!(matches!(classify("Messenger", 503, None, None), SendError::Retryable(_)));
        assert!(matches!(classify("Messenger", 429, Some(Duration::from_secs(7)), None),
            SendError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(7)));
        let parsed = MetaError::from_body(
            br#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278}}"#,
        )
        .unwrap();
        assert_eq!(parsed, err(10, Some(2_018_278), "This message is sent outside of allowed window."));
    }

    #[test]
    fn attachment_types() {
        assert_eq!(attachment_type("image/PNG"), "image");
        assert_eq!(attachment_type("video/mp4"), "video");
        assert_eq!(attachment_type("audio/ogg"), "audio");
        assert_eq!(attachment_type("application/pdf"), "file");
    }
}
