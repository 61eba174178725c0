//! The settings of a Messenger or Instagram inbox, kept in
//! `config.extra["messenger"]` or `config.extra["instagram"]`: the
//! Facebook Page it speaks for, the page access token (never shown back),
//! the Meta app's secret that signs every webhook (never shown back), the
//! token Meta echoes when the webhook is subscribed, the Graph API base,
//! whether the page may use the `HUMAN_AGENT` tag, and for Instagram the
//! professional account's id. Both channels run on the Messenger Platform
//! and share one shape.

use crate::ChannelError;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::secret::Secret;
use serde_json::Value;

/// The Graph API Ferry talks to unless the inbox says otherwise.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com/v21.0";

/// The key of the settings in `config.extra` for `channel`.
pub fn section(channel: ChannelKind) -> &'static str {
    if channel == ChannelKind::Instagram { "instagram" } else { "messenger" }
}

/// The checked settings of a Messenger or Instagram inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaSettings {
    /// Messenger or Instagram.
    pub channel: ChannelKind,
    /// The Facebook Page's id (digits): messages are sent through it.
    pub page_id: String,
    /// The Instagram professional account's id (digits; Instagram only):
    /// webhooks name it as the entry and the recipient.
    pub instagram_account_id: Option<String>,
    /// The page access token; `Debug` never prints it.
    pub access_token: Secret<String>,
    /// The Meta app's secret, which signs every webhook delivery.
    pub app_secret: Secret<String>,
    /// The token Meta echoes when the webhook is subscribed.
    pub verify_token: Secret<String>,
    /// The Meta app's id, when given: echoes of messages this app sent
    /// carry it, so they are known as Ferry's own.
    pub app_id: Option<String>,
    /// The Graph API base with its version, no trailing slash.
    pub api_base: String,
    /// The page has Meta's Human Agent permission: people may answer up
    /// to 7 days after the buyer's last message with the `HUMAN_AGENT` tag.
    pub human_agent: bool,
}

fn text<'a>(section: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    section.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty())
}

/// An id Meta gives: digits, given as a string or a number.
fn id(
    section: &serde_json::Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<Option<String>, ChannelError> {
    let value = match section.get(field) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Ok(None),
    };
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > 32 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ChannelError::invalid(field, format!("{name}.{field} must be the numeric id Meta shows")));
    }
    Ok(Some(value))
}

/// Whether `token` is a verify token Ferry takes: 16 to 256 of
/// `A-Z a-z 0-9 _ -`.
pub fn is_verify_token(token: &str) -> bool {
    (16..=256).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl MetaSettings {
    /// The settings of `inbox` (a Messenger or Instagram inbox): `None`
    /// when it has none, an error naming the field when they are
    /// incomplete or wrong.
    pub fn of(inbox: &Inbox) -> Result<Option<Self>, ChannelError> {
        Self::from_config(inbox.channel, &inbox.config)
    }

    /// As [`MetaSettings::of`], from the channel and settings alone.
    pub fn from_config(channel: ChannelKind, config: &InboxConfig) -> Result<Option<Self>, ChannelError> {
        if !matches!(channel, ChannelKind::Messenger | ChannelKind::Instagram) {
            return Ok(None);
        }
        let name = section(channel);
        let Some(raw) = config.extra.get(name) else { return Ok(None) };
        let Some(s) = raw.as_object() else {
            return Err(ChannelError::invalid(
                if channel == ChannelKind::Instagram { "instagram" } else { "messenger" },
                format!("{name} settings must be an object"),
            ));
        };
        let page_id = id(s, name, "page_id")?
            .ok_or_else(|| ChannelError::invalid("page_id", format!("{name}.page_id is required")))?;
        let instagram_account_id = id(s, name, "instagram_account_id")?;
        if channel == ChannelKind::Instagram && instagram_account_id.is_none() {
            return Err(ChannelError::invalid(
                "instagram_account_id",
                "instagram.instagram_account_id is required: the professional account's id webhooks name",
            ));
        }
        let access_token = text(s, "access_token")
            .ok_or_else(|| ChannelError::invalid("access_token", format!("{name}.access_token is required")))?;
        if access_token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ChannelError::invalid("access_token", format!("{name}.access_token must be one word")));
        }
        let app_secret = text(s, "app_secret").ok_or_else(|| {
            ChannelError::invalid("app_secret", format!("{name}.app_secret is required: it signs Meta's webhooks"))
        })?;
        let verify_token = text(s, "verify_token")
            .ok_or_else(|| ChannelError::invalid("verify_token", format!("{name}.verify_token is required")))?;
        if !is_verify_token(verify_token) {
            return Err(ChannelError::invalid(
                "verify_token",
                format!("{name}.verify_token must have 16 to 256 of the characters A-Z, a-z, 0-9, _ and -"),
            ));
        }
        let app_id = id(s, name, "app_id")?;
        let api_base = text(s, "api_base").unwrap_or(DEFAULT_API_BASE).trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&api_base)
            .map_err(|_| ChannelError::invalid("api_base", format!("{name}.api_base is not a URL")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(ChannelError::invalid(
                "api_base",
                format!("{name}.api_base must be an http(s) URL without query"),
            ));
        }
        let human_agent = match s.get("human_agent") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ChannelError::invalid("human_agent", format!("{name}.human_agent must be true or false")));
            }
        };
        Ok(Some(MetaSettings {
            channel,
            page_id,
            instagram_account_id,
            access_token: Secret::new(access_token.to_owned()),
            app_secret: Secret::new(app_secret.to_owned()),
            verify_token: Secret::new(verify_token.to_owned()),
            app_id,
            api_base,
            human_agent,
        }))
    }

    /// The id webhooks name as their entry and the business's side of
    /// each message: the Instagram account, or the page.
    pub fn business_id(&self) -> &str {
        self.instagram_account_id.as_deref().unwrap_or(&self.page_id)
    }

    /// "Messenger" or "Instagram", for messages.
    pub fn name(&self) -> &'static str {
        if self.channel == ChannelKind::Instagram { "Instagram" } else { "Messenger" }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn config(name: &str, section: Value) -> InboxConfig {
        let mut c = InboxConfig::default();
        c.extra.insert(name.into(), section);
        c
    }

    fn good() -> Value {
        json!({"page_id": "1061234567", "access_token": "EAAGpagetoken", "app_secret": "appsecret0123",
               "verify_token": "verify-token-0123456789"})
    }

    #[test]
    fn reads_both_channels_and_hides_the_secrets() {
        let s = MetaSettings::from_config(ChannelKind::Messenger, &config("messenger", good())).unwrap().unwrap();
        assert_eq!((s.api_base.as_str(), s.human_agent, s.business_id()), (DEFAULT_API_BASE, false, "1061234567"));
        assert!(!format!("{s:?}").contains("EAAG") && !format!("{s:?}").contains("appsecret"));
        let shown = serde_json::to_string(&config("messenger", good()).redacted()).unwrap();
        assert!(!shown.contains("EAAG") && !shown.contains("appsecret0123"), "{shown}");

        let mut ig = good();
        ig["instagram_account_id"] = json!(17841400000000001_u64);
        ig["human_agent"] = json!(true);
        let s = MetaSettings::from_config(ChannelKind::Instagram, &config("instagram", ig)).unwrap().unwrap();
        assert_eq!((s.business_id(), s.human_agent), ("17841400000000001", true));
        let shown = serde_json::to_string(&config("instagram", good()).redacted()).unwrap();
        assert!(!shown.contains("EAAG") && !shown.contains("appsecret0123"), "{shown}");
        assert_eq!(MetaSettings::from_config(ChannelKind::Messenger, &InboxConfig::default()), Ok(None));
    }

    #[test]
    fn names_the_wrong_field() {
        let field = |channel: ChannelKind, change: &dyn Fn(&mut Value)| {
            let mut v = good();
            change(&mut v);
            match MetaSettings::from_config(channel, &config(section(channel), v)) {
                Err(ChannelError::Invalid { field, .. }) => field,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(field(ChannelKind::Messenger, &|v| v["page_id"] = json!("my page")), "page_id");
        assert_eq!(field(ChannelKind::Messenger, &|v| v["app_secret"] = json!("")), "app_secret");
        assert_eq!(field(ChannelKind::Messenger, &|v| v["verify_token"] = json!("short")), "verify_token");
        assert_eq!(field(ChannelKind::Messenger, &|v| v["access_token"] = json!("two words")), "access_token");
        assert_eq!(field(ChannelKind::Messenger, &|v| v["api_base"] = json!("ftp://x")), "api_base");
        assert_eq!(field(ChannelKind::Messenger, &|v| v["human_agent"] = json!("yes")), "human_agent");
        assert_eq!(field(ChannelKind::Instagram, &|_| {}), "instagram_account_id");
    }
}
