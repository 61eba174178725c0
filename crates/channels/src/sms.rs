//! Outgoing SMS through a provider speaking Twilio's Messages API
//! (`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded
//! `To`, `From`, `Body`, HTTP basic auth with the account sid and token) —
//! Twilio itself and the many gateways that copy its API. Ferry texts
//! little itself (one-time codes) and never logs what it sends.

use crate::SendError;
use serde_json::Value;

/// A provider speaking Twilio's Messages API.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// Base URL (`https://api.twilio.com`).
    pub base_url: String,
    /// Account sid (the basic-auth user and part of the path).
    pub account_sid: String,
    /// Auth token (never printed).
    pub auth_token: ferry_core::secret::Secret<String>,
    /// Sender number (E.164) or alphanumeric sender id.
    pub from: String,
}

/// Sends `body` to `to` (E.164); returns the provider's message id. An
/// unreachable provider, 429 and 5xx answers are worth retrying; other
/// refusals are permanent.
pub async fn send(config: &SmsConfig, to: &str, body: &str) -> Result<String, SendError> {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let http = HTTP.get_or_init(reqwest::Client::new);
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        config.base_url.trim_end_matches('/'),
        urlencode(&config.account_sid)
    );
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("To", to)
        .append_pair("From", &config.from)
        .append_pair("Body", body)
        .finish();
    let resp = http
        .post(&url)
        .basic_auth(&config.account_sid, Some(config.auth_token.expose()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| SendError::Retryable(format!("the SMS provider is unreachable: {}", e.without_url())))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !status.is_success() {
        let message = v["message"].as_str().map_or_else(|| text.chars().take(200).collect(), str::to_owned);
        let code = v["code"].as_i64().map(|c| format!(" (code {c})")).unwrap_or_default();
        let m = format!("the SMS provider answered {status}{code}: {message}");
        return Err(if status.as_u16() == 429 || status.is_server_error() {
            SendError::Retryable(m)
        } else {
            SendError::Permanent(m)
        });
    }
    Ok(v["sid"].as_str().unwrap_or_default().to_owned())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `+34612345678` → `+34•••••678`: enough for a buyer to recognise the
/// number, not enough to learn it.
pub fn mask_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return "•••".to_owned();
    }
    let head: String = digits[..2].iter().collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    format!("+{head}{}{tail}", "•".repeat(digits.len() - 5))
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_numbers() {
        assert_eq!(super::mask_phone("+34612345678"), "+34••••••678");
        assert_eq!(super::mask_phone("+14155552671"), "+14••••••671");
        assert_eq!(super::mask_phone("+1234"), "•••");
    }
}
