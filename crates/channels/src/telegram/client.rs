//! A client of the Telegram Bot API (`{base}/bot{token}/{method}`): every
//! answer is `{"ok": true, "result": …}` or `{"ok": false, "error_code",
//! "description", "parameters": {"retry_after"}}`. Errors become
//! [`SendError`]s: 429 is [`SendError::Throttled`] after
//! `parameters.retry_after` seconds, 403 (the buyer blocked the bot) and
//! other 4xx are permanent, 5xx and network failures worth retrying. The
//! token is in every URL, so URLs are never logged or shown.

use super::settings::TelegramSettings;
use crate::SendError;
use ferry_core::message::Button;
use serde_json::{Value, json};
use std::time::Duration;

/// Longest text of one message, in characters.
pub const MAX_TEXT: usize = 4096;
/// Longest caption, in characters.
pub const MAX_CAPTION: usize = 1024;
/// Largest file a bot may download.
pub const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;
/// Largest file a bot may upload.
pub const MAX_UPLOAD: u64 = 50 * 1024 * 1024;
/// Longest `callback_data` of an inline button, in bytes.
pub const MAX_CALLBACK_DATA: usize = 64;

/// The bot, as `getMe` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotInfo {
    /// Its user id.
    pub id: i64,
    /// Its `@username`, without the `@`.
    pub username: Option<String>,
    /// Its name.
    pub first_name: String,
}

/// A file a message of the bot carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMethod {
    /// `sendPhoto`.
    Photo,
    /// `sendDocument`.
    Document,
    /// `sendAudio`.
    Audio,
    /// `sendVideo`.
    Video,
}

impl FileMethod {
    /// The method for a file of `content_type`.
    pub fn for_content_type(content_type: &str) -> Self {
        let ct = content_type.to_ascii_lowercase();
        if matches!(ct.as_str(), "image/jpeg" | "image/png" | "image/webp" | "image/gif") {
            FileMethod::Photo
        } else if matches!(ct.as_str(), "audio/mpeg" | "audio/mp4" | "audio/m4a") {
            FileMethod::Audio
        } else if ct == "video/mp4" {
            FileMethod::Video
        } else {
            FileMethod::Document
        }
    }

    /// The Bot API method and the form field of the file.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            FileMethod::Photo => ("sendPhoto", "photo"),
            FileMethod::Document => ("sendDocument", "document"),
            FileMethod::Audio => ("sendAudio", "audio"),
            FileMethod::Video => ("sendVideo", "video"),
        }
    }
}

/// Talks to the Bot API for one bot.
#[derive(Clone)]
pub struct TelegramClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl std::fmt::Debug for TelegramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// The inline keyboard of `buttons`, one button a row.
pub fn inline_keyboard(buttons: &[Button]) -> Value {
    let rows: Vec<Value> = buttons
        .iter()
        .map(|b| {
            // Telegram takes at most 64 bytes of callback data.
            let mut data = b.payload.clone();
            while data.len() > MAX_CALLBACK_DATA {
                data.pop();
            }
            json!([{"text": b.title, "callback_data": data}])
        })
        .collect();
    json!({ "inline_keyboard": rows })
}

/// The [`SendError`] of a refused call.
pub fn classify(status: u16, body: &Value) -> SendError {
    let code = body.get("error_code").and_then(Value::as_i64).unwrap_or(i64::from(status));
    let description = body.get("description").and_then(Value::as_str).unwrap_or("no description").to_owned();
    let retry_after = body.get("parameters").and_then(|p| p.get("retry_after")).and_then(Value::as_u64);
    match code {
        429 => SendError::Throttled {
            reason: format!("Telegram asks to slow down: {description}"),
            retry_after: Duration::from_secs(retry_after.unwrap_or(1).clamp(1, 3600)),
        },
        403 => SendError::Permanent(format!("the buyer blocked the bot or cannot be written to (403): {description}")),
        401 | 404 => SendError::Permanent(format!("Telegram refused the bot token ({code}): {description}")),
        c if (500..600).contains(&c) || status >= 500 => {
            SendError::Retryable(format!("Telegram failed ({code}): {description}"))
        }
        _ => SendError::Permanent(format!("Telegram refused it ({code}): {description}")),
    }
}

impl TelegramClient {
    /// A client for the bot of `settings`, sending with `http`.
    pub fn new(http: reqwest::Client, settings: &TelegramSettings) -> Self {
        Self { http, base: settings.api_base.clone(), token: settings.bot_token.expose().clone() }
    }

    fn url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base, self.token)
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Value, SendError> {
        // `without_url`: the URL holds the token.
        let resp = request
            .send()
            .await
            .map_err(|e| SendError::Retryable(format!("Telegram is unreachable: {}", e.without_url())))?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) && body.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(body.get("result").cloned().unwrap_or(Value::Null));
        }
        Err(classify(status, &body))
    }

    /// Calls `method` with a JSON body; its `result`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, SendError> {
        self.answer(self.http.post(self.url(method)).json(&params)).await
    }

    /// The bot (`getMe`).
    pub async fn get_me(&self) -> Result<BotInfo, SendError> {
        let r = self.call("getMe", json!({})).await?;
        Ok(BotInfo {
            id: r.get("id").and_then(Value::as_i64).unwrap_or_default(),
            username: r.get("username").and_then(Value::as_str).map(str::to_owned),
            first_name: r.get("first_name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        })
    }

    /// Points the bot's updates at `url`, with `secret_token` in every
    /// delivery's header (`setWebhook`).
    pub async fn set_webhook(&self, url: &str, secret_token: &str) -> Result<(), SendError> {
        let params = json!({"url": url, "secret_token": secret_token,
            "allowed_updates": ["message", "edited_message", "callback_query", "business_message",
                "edited_business_message", "deleted_business_messages"]});
        self.call("setWebhook", params).await.map(|_| ())
    }

    /// The bytes and content type of file `file_id` (`getFile`, then the
    /// download URL).
    pub async fn fetch_file(&self, file_id: &str) -> Result<(Vec<u8>, String), SendError> {
        let file = self.call("getFile", json!({ "file_id": file_id })).await?;
        if file.get("file_size").and_then(Value::as_u64).is_some_and(|n| n > MAX_DOWNLOAD) {
            return Err(SendError::Permanent("the file is larger than the 20 MB a bot may download".into()));
        }
        let Some(path) = file.get("file_path").and_then(Value::as_str).filter(|p| !p.is_empty()) else {
            return Err(SendError::Permanent("Telegram gave no path for the file".into()));
        };
        let url = format!("{}/file/bot{}/{}", self.base, self.token, path.trim_start_matches('/'));
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| SendError::Retryable(format!("Telegram is unreachable: {}", e.without_url())))?;
        let status = resp.status();
        if !status.is_success() {
            let m = format!("the file download answered {status}");
            return Err(if status.is_server_error() { SendError::Retryable(m) } else { SendError::Permanent(m) });
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .unwrap_or_default();
        let bytes = resp.bytes().await.map_err(|e| SendError::Retryable(format!("the file download broke: {e}")))?;
        if bytes.len() as u64 > MAX_DOWNLOAD {
            return Err(SendError::Permanent("the file is larger than the 20 MB a bot may download".into()));
        }
        Ok((bytes.to_vec(), content_type))
    }

    /// Sends `text` to `chat_id`, with `buttons` as an inline keyboard;
    /// the message's id (`sendMessage`).
    pub async fn send_message(&self, chat_id: &str, text: &str, buttons: &[Button]) -> Result<i64, SendError> {
        let mut params = json!({"chat_id": chat_id, "text": text});
        if !buttons.is_empty() {
            params["reply_markup"] = inline_keyboard(buttons);
        }
        message_id(&self.call("sendMessage", params).await?)
    }

    /// Sends a location (`sendLocation`).
    pub async fn send_location(&self, chat_id: &str, latitude: f64, longitude: f64) -> Result<i64, SendError> {
        let params = json!({"chat_id": chat_id, "latitude": latitude, "longitude": longitude});
        message_id(&self.call("sendLocation", params).await?)
    }

    /// Uploads and sends a file (`sendPhoto`, `sendDocument`…).
    pub async fn send_file(
        &self,
        chat_id: &str,
        method: FileMethod,
        bytes: Vec<u8>,
        content_type: &str,
        filename: Option<&str>,
        caption: Option<&str>,
    ) -> Result<i64, SendError> {
        if bytes.len() as u64 > MAX_UPLOAD {
            return Err(SendError::Permanent("the file is larger than the 50 MB a bot may send".into()));
        }
        let (name, field) = method.names();
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.unwrap_or("file").to_owned())
            .mime_str(content_type)
            .map_err(|_| SendError::Permanent(format!("{content_type} is not a content type")))?;
        let mut form = reqwest::multipart::Form::new().text("chat_id", chat_id.to_owned()).part(field, part);
        if let Some(c) = caption {
            form = form.text("caption", c.to_owned());
        }
        message_id(&self.answer(self.http.post(self.url(name)).multipart(form)).await?)
    }

    /// Tells the buyer's app a button press was handled
    /// (`answerCallbackQuery`).
    pub async fn answer_callback_query(&self, id: &str) -> Result<(), SendError> {
        self.call("answerCallbackQuery", json!({ "callback_query_id": id })).await.map(|_| ())
    }
}

fn message_id(result: &Value) -> Result<i64, SendError> {
    result
        .get("message_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| SendError::Retryable("Telegram's answer has no message_id".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn errors_are_classified() {
        let e = classify(
            429,
            &json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}),
        );
        assert!(matches!(e, SendError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(7)));
        let e = classify(
            403,
            &json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
        );
        assert!(matches!(&e, SendError::Permanent(m) if m.contains("blocked")), "{e:?}");
        assert!(matches!(classify(502, &Value::Null), SendError::Retryable(_)));
        assert!(matches!(
            classify(400, &json!({"error_code": 400, "description": "Bad Request: chat not found"})),
            SendError::Permanent(_)
        ));
    }

    #[test]
    fn keyboards_keep_callback_data_short() {
        let k = inline_keyboard(&[Button { title: "Yes".into(), payload: "y".repeat(80) }]);
        assert_eq!(k["inline_keyboard"][0][0]["callback_data"].as_str().unwrap().len(), 64);
        assert_eq!(k["inline_keyboard"][0][0]["text"], "Yes");
    }
}
