//! The settings of a WhatsApp inbox, kept in `config.extra["whatsapp"]`:
//! which business phone number it sends from, the WhatsApp Business
//! Account its templates belong to, the access token (never shown), the
//! webhook verify token, the Graph API base URL and the number's
//! throughput. [`redacted`] and [`keep_token`] let people see and send
//! back the settings without the token ever leaving the server.

use crate::ChannelError;
use ferry_core::inbox::{Inbox, InboxConfig};
use ferry_core::secret::Secret;
use serde_json::Value;

/// The key of the WhatsApp section in `config.extra`.
pub const SECTION: &str = "whatsapp";

/// The Graph API Ferry talks to unless the inbox says otherwise.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com/v21.0";

/// Messages per second a Cloud API number takes by default.
pub const DEFAULT_RATE_PER_SECOND: u32 = 80;

/// The checked settings of a WhatsApp inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppSettings {
    /// The business phone number's id (digits), in every send path.
    pub phone_number_id: String,
    /// The WhatsApp Business Account's id (digits): templates live there.
    pub business_account_id: String,
    /// The system user's access token; `Debug` never prints it.
    pub access_token: Secret<String>,
    /// The token Meta echoes when the webhook is subscribed.
    pub verify_token: Secret<String>,
    /// The Meta app's secret, which signs every webhook delivery; without
    /// it deliveries are refused.
    pub app_secret: Option<Secret<String>>,
    /// The Graph API base with its version, no trailing slash.
    pub api_base: String,
    /// The number's throughput, messages per second.
    pub rate_per_second: u32,
}

fn text<'a>(section: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    section.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty())
}

/// An id Meta gives: digits, given as a string or a number.
fn id(section: &serde_json::Map<String, Value>, field: &'static str) -> Result<String, ChannelError> {
    let value = match section.get(field) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if value.is_empty() {
        return Err(ChannelError::invalid(field, format!("whatsapp.{field} is required")));
    }
    if value.len() > 32 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ChannelError::invalid(field, format!("whatsapp.{field} must be the numeric id Meta shows")));
    }
    Ok(value)
}

impl WhatsAppSettings {
    /// The WhatsApp settings of `inbox`: `None` when it has none, an
    /// error naming the field when they are incomplete or wrong.
    pub fn of(inbox: &Inbox) -> Result<Option<Self>, ChannelError> {
        Self::from_config(&inbox.config)
    }

    /// As [`WhatsAppSettings::of`], from the settings alone.
    pub fn from_config(config: &InboxConfig) -> Result<Option<Self>, ChannelError> {
        let Some(raw) = config.extra.get(SECTION) else { return Ok(None) };
        let Some(section) = raw.as_object() else {
            return Err(ChannelError::invalid("whatsapp", "whatsapp settings must be an object"));
        };
        let phone_number_id = id(section, "phone_number_id")?;
        let business_account_id = id(section, "business_account_id")?;
        let access_token = text(section, "access_token")
            .ok_or_else(|| ChannelError::invalid("access_token", "whatsapp.access_token is required"))?;
        if access_token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ChannelError::invalid("access_token", "whatsapp.access_token must be one word"));
        }
        let verify_token = text(section, "verify_token").unwrap_or_default();
        let app_secret = text(section, "app_secret").map(|s| Secret::new(s.to_owned()));
        let api_base = text(section, "api_base").unwrap_or(DEFAULT_API_BASE).trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&api_base)
            .map_err(|_| ChannelError::invalid("api_base", "whatsapp.api_base is not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(ChannelError::invalid("api_base", "whatsapp.api_base must be an http(s) URL without query"));
        }
        let rate_per_second = match section.get("rate_per_second") {
            None | Some(Value::Null) => DEFAULT_RATE_PER_SECOND,
            Some(v) => v.as_u64().filter(|n| (1..=10_000).contains(n)).and_then(|n| u32::try_from(n).ok()).ok_or_else(
                || ChannelError::invalid("rate_per_second", "whatsapp.rate_per_second must be 1 to 10000"),
            )?,
        };
        Ok(Some(WhatsAppSettings {
            phone_number_id,
            business_account_id,
            access_token: Secret::new(access_token.to_owned()),
            verify_token: Secret::new(verify_token.to_owned()),
            app_secret,
            api_base,
            rate_per_second,
        }))
    }
}

/// The settings as shown to people: the access token and app secret of
/// `config.whatsapp` replaced by `"access_token_set"` / `"app_secret_set"`
/// (see [`InboxConfig::redacted`]).
pub fn redacted(config: &InboxConfig) -> InboxConfig {
    config.redacted()
}

/// Completes settings sent back by a person from the `stored` ones: a
/// WhatsApp section without an `access_token` or `app_secret` (or with
/// `null`) keeps the stored one; the `_set` markers of [`redacted`] are
/// dropped. A new value replaces the stored one.
pub fn keep_token(new: &mut InboxConfig, stored: Option<&InboxConfig>) {
    new.keep_passwords(stored);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn config(section: Value) -> InboxConfig {
        let mut c = InboxConfig::default();
        c.extra.insert(SECTION.into(), section);
        c
    }

    #[test]
    fn reads_defaults_and_hides_the_token() {
        let c = config(json!({"phone_number_id": "1122334455667", "business_account_id": 987654321,
            "access_token": "EAAG-secret-token", "verify_token": "v"}));
        let s = WhatsAppSettings::from_config(&c).unwrap().unwrap();
        assert_eq!(s.api_base, DEFAULT_API_BASE);
        assert_eq!(s.rate_per_second, 80);
        assert_eq!(s.business_account_id, "987654321");
        assert_eq!(s.access_token.expose(), "EAAG-secret-token");
        assert!(!format!("{s:?}").contains("EAAG"));
        assert_eq!(WhatsAppSettings::from_config(&InboxConfig::default()), Ok(None));
    }

    #[test]
    fn names_the_wrong_field() {
        let field = |v: Value| match WhatsAppSettings::from_config(&config(v)) {
            Err(ChannelError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(json!({"phone_number_id": "12a", "business_account_id": "1", "access_token": "t"})),
            "phone_number_id"
        );
        assert_eq!(field(json!({"phone_number_id": "12", "access_token": "t"})), "business_account_id");
        assert_eq!(
            field(json!({"phone_number_id": "12", "business_account_id": "1", "access_token": " "})),
            "access_token"
        );
        assert_eq!(
            field(
                json!({"phone_number_id": "1", "business_account_id": "1", "access_token": "t", "api_base": "ftp://x"})
            ),
            "api_base"
        );
        assert_eq!(
            field(
                json!({"phone_number_id": "1", "business_account_id": "1", "access_token": "t", "rate_per_second": 0})
            ),
            "rate_per_second"
        );
    }

    #[test]
    fn token_is_redacted_and_kept() {
        let stored = config(json!({"phone_number_id": "1", "business_account_id": "2", "access_token": "tok"}));
        let shown = redacted(&stored);
        let text = serde_json::to_string(&shown).unwrap();
        assert!(!text.contains("tok\""), "{text}");
        assert_eq!(shown.extra[SECTION]["access_token_set"], json!(true));
        let mut back = shown.clone();
        keep_token(&mut back, Some(&stored));
        assert_eq!(back, stored);
        let mut replaced = config(json!({"phone_number_id": "1", "business_account_id": "2", "access_token": "new"}));
        keep_token(&mut replaced, Some(&stored));
        assert_eq!(replaced.extra[SECTION]["access_token"], json!("new"));
        let mut fresh = shown;
        keep_token(&mut fresh, None);
        assert!(fresh.extra[SECTION].get("access_token").is_none());
    }
}
