//! Inboxes: one per channel connection.

use crate::bot::Policy;
use crate::{AccountId, InboxId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of channel an inbox connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Messages pushed by a program to `/webhooks/api/{inbox}`; replies go
    /// to the inbox's callback URL.
    Api,
    /// The chat widget on the shop's web pages.
    WebWidget,
    /// A mailbox.
    Email,
    /// WhatsApp Business (Cloud API).
    Whatsapp,
    /// Facebook Messenger.
    Messenger,
    /// Instagram direct messages.
    Instagram,
    /// A Telegram bot.
    Telegram,
    /// SMS through a provider.
    Sms,
    /// Phone calls: records, recordings, transcripts.
    Phone,
    /// Amazon buyer–seller messages.
    Amazon,
}

impl ChannelKind {
    /// All kinds, in display order.
    pub const ALL: [ChannelKind; 10] = [
        ChannelKind::Api,
        ChannelKind::WebWidget,
        ChannelKind::Email,
        ChannelKind::Whatsapp,
        ChannelKind::Messenger,
        ChannelKind::Instagram,
        ChannelKind::Telegram,
        ChannelKind::Sms,
        ChannelKind::Phone,
        ChannelKind::Amazon,
    ];

    /// Stable name used in storage, URLs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Api => "api",
            ChannelKind::WebWidget => "web_widget",
            ChannelKind::Email => "email",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Instagram => "instagram",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Sms => "sms",
            ChannelKind::Phone => "phone",
            ChannelKind::Amazon => "amazon",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a channel kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel kind `{0}`")]
pub struct UnknownChannel(pub String);

impl FromStr for ChannelKind {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownChannel(s.to_owned()))
    }
}

/// One channel connection of an account.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbox {
    /// Its id.
    pub id: InboxId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Display name.
    pub name: String,
    /// The channel it connects.
    pub channel: ChannelKind,
    /// Channel-specific settings (callback URL, widget colours, …).
    pub config: InboxConfig,
    /// Shared secret for webhook signatures. Never shown in logs.
    pub secret: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Settings of an inbox. Unknown keys are kept in `extra` so channel issues
/// can add settings without a migration.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxConfig {
    /// Where outgoing messages of an API inbox are POSTed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Whether new conversations start with the bot.
    #[serde(default)]
    pub bot_enabled: bool,
    /// Intent confidence the bot needs to answer (0–1); below it the bot
    /// hands off. Default 0.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_threshold: Option<f32>,
    /// Team that conversations handed off by the bot go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_team_id: Option<crate::TeamId>,
    /// Assign handed-off conversations to the least busy agent (of the
    /// hand-off team, if set) who speaks the buyer's language.
    #[serde(default)]
    pub auto_assign: bool,
    /// Greeting shown by the widget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// The most messages per second this inbox sends, so a burst does not
    /// get the number blocked; `0` turns the limit off; unset uses the
    /// channel's own limit (WhatsApp: 80 per number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_rate_per_second: Option<f64>,
    /// The satisfaction survey sent when a conversation is resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<crate::csat::CsatSettings>,
    /// Channel-specific settings not modelled above.
    #[serde(default, flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The sections of `config.email` that hold a server password.
const PASSWORD_SECTIONS: [&str; 2] = ["imap", "smtp"];

/// Secrets kept directly in a channel's section: (section, key). Shown as
/// `"{key}_set": true|false`, kept when sent back without a value.
const SECTION_SECRETS: [(&str, &str); 9] = [
    ("whatsapp", "access_token"),
    ("messenger", "access_token"),
    ("messenger", "app_secret"),
    ("instagram", "access_token"),
    ("instagram", "app_secret"),
    ("whatsapp", "app_secret"),
    ("telegram", "bot_token"),
    ("telegram", "secret_token"),
    ("sms", "auth_token"),
];

impl InboxConfig {
    /// The web pages allowed to embed a web-chat inbox's widget
    /// (`allowed_origins` in the settings: `https://shop.example`, or
    /// `*.shop.example` for its subdomains), lower-cased without a
    /// trailing slash. Empty: any page.
    pub fn allowed_origins(&self) -> Vec<String> {
        let Some(list) = self.extra.get("allowed_origins").and_then(|v| v.as_array()) else { return Vec::new() };
        list.iter()
            .filter_map(|v| v.as_str())
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect()
    }

    /// Whether a page of `origin` (`scheme://host[:port]`) may use the
    /// widget (see [`InboxConfig::allowed_origins`]).
    pub fn allows_origin(&self, origin: &str) -> bool {
        let allowed = self.allowed_origins();
        if allowed.is_empty() {
            return true;
        }
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        let host = origin.split_once("://").map_or(origin.as_str(), |(_, h)| h);
        allowed.iter().any(|a| match a.strip_prefix("*.") {
            Some(domain) => host.ends_with(&format!(".{domain}")) || host == domain,
            None if a.contains("://") => *a == origin,
            None => host == a,
        })
    }

    /// The inbox's business hours (`business_hours` in the settings: a
    /// time zone, a weekly schedule and holidays); `None` when unset or
    /// invalid (the settings are checked when saved).
    pub fn business_hours(&self) -> Option<crate::insights::BusinessHours> {
        let v = self.extra.get("business_hours")?;
        let config: crate::insights::BusinessHoursConfig = serde_json::from_value(v.clone()).ok()?;
        crate::insights::BusinessHours::new(&config).ok()
    }

    /// The out-of-office reply for a buyer writing in `language` while the
    /// inbox is closed (`out_of_office` in the settings: texts by
    /// language): the text of the language, else of its primary subtag,
    /// else of `fallback`, else none.
    pub fn out_of_office_text(&self, language: Option<&str>, fallback: &str) -> Option<String> {
        let texts = self.extra.get("out_of_office")?.as_object()?;
        let text = |l: &str| {
            texts
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(l))
                .and_then(|(_, v)| v.as_str())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let primary = |l: &str| l.split(['-', '_']).next().unwrap_or_default().to_owned();
        language
            .and_then(|l| text(l).or_else(|| text(&primary(l))))
            .or_else(|| text(fallback).or_else(|| text(&primary(fallback))))
    }

    /// Checks settings that have a shape of their own (business hours).
    pub fn check_business_hours(&self) -> Result<(), crate::insights::InvalidHours> {
        let Some(v) = self.extra.get("business_hours") else { return Ok(()) };
        if v.is_null() {
            return Ok(());
        }
        let config: crate::insights::BusinessHoursConfig =
            serde_json::from_value(v.clone()).map_err(|e| crate::insights::InvalidHours(e.to_string()))?;
        crate::insights::BusinessHours::new(&config).map(drop)
    }

    /// The settings as shown to people: each server password of
    /// `config.email` replaced by `"password_set": true|false`, so the
    /// password itself never leaves the server.
    pub fn redacted(&self) -> Self {
        let mut out = self.clone();
        if let Some(email) = out.extra.get_mut("email").and_then(|v| v.as_object_mut()) {
            for section in PASSWORD_SECTIONS {
                if let Some(server) = email.get_mut(section).and_then(|v| v.as_object_mut()) {
                    let set = server.remove("password").is_some_and(|p| p.as_str().is_some_and(|p| !p.is_empty()));
                    server.insert("password_set".into(), serde_json::Value::Bool(set));
                }
            }
        }
        for (section, key) in SECTION_SECRETS {
            if let Some(sec) = out.extra.get_mut(section).and_then(|v| v.as_object_mut()) {
                let set = sec.remove(key).is_some_and(|t| t.as_str().is_some_and(|t| !t.trim().is_empty()));
                sec.insert(format!("{key}_set"), serde_json::Value::Bool(set));
            }
        }
        out
    }

    /// Completes settings sent back by a person from the `stored` ones:
    /// a server section without a `password` keeps the stored password, an
    /// empty one clears it (the SMTP password is then absent), and the
    /// `password_set` markers of [`InboxConfig::redacted`] are dropped.
    pub fn keep_passwords(&mut self, stored: Option<&InboxConfig>) {
        for (section, key) in SECTION_SECRETS {
            let Some(sec) = self.extra.get_mut(section).and_then(|v| v.as_object_mut()) else { continue };
            sec.remove(&format!("{key}_set"));
            if matches!(sec.get(key), None | Some(serde_json::Value::Null)) {
                let kept = stored
                    .and_then(|c| c.extra.get(section))
                    .and_then(|s| s.get(key))
                    .filter(|t| t.is_string())
                    .cloned();
                match kept {
                    Some(t) => sec.insert(key.to_owned(), t),
                    None => sec.remove(key),
                };
            }
        }
        let Some(email) = self.extra.get_mut("email").and_then(|v| v.as_object_mut()) else { return };
        for section in PASSWORD_SECTIONS {
            let Some(server) = email.get_mut(section).and_then(|v| v.as_object_mut()) else { continue };
            server.remove("password_set");
            match server.get("password") {
                None | Some(serde_json::Value::Null) => {
                    let kept = stored
                        .and_then(|c| c.extra.get("email"))
                        .and_then(|e| e.get(section))
                        .and_then(|s| s.get("password"))
                        .filter(|p| p.is_string())
                        .cloned();
                    match kept {
                        Some(p) => {
                            server.insert("password".into(), p);
                        }
                        None => {
                            server.remove("password");
                        }
                    }
                }
                Some(serde_json::Value::String(p)) if p.is_empty() && section == "smtp" => {
                    server.remove("password");
                }
                Some(_) => {}
            }
        }
    }

    /// The bot policy of this inbox.
    pub fn bot_policy(&self) -> Policy {
        let mut p = Policy::default();
        if let Some(t) = self.bot_threshold {
            p.threshold = t;
        }
        p
    }
}

impl fmt::Debug for InboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Redacted so that server passwords never reach a log line.
        let shown = self.redacted();
        f.debug_struct("InboxConfig")
            .field("callback_url", &shown.callback_url)
            .field("bot_enabled", &shown.bot_enabled)
            .field("bot_threshold", &shown.bot_threshold)
            .field("handoff_team_id", &shown.handoff_team_id)
            .field("auto_assign", &shown.auto_assign)
            .field("greeting", &shown.greeting)
            .field("send_rate_per_second", &shown.send_rate_per_second)
            .field("csat", &shown.csat)
            .field("extra", &shown.extra)
            .finish()
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("name", &self.name)
            .field("channel", &self.channel)
            .field("config", &self.config)
            .field("secret", &crate::secret::Redacted(&self.secret))
            .field("created_at", &self.created_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn with_email(email: serde_json::Value) -> InboxConfig {
        let mut c = InboxConfig::default();
        c.extra.insert("email".into(), email);
        c
    }

    #[test]
    fn out_of_office_texts_follow_the_buyers_language() {
        let mut c = InboxConfig::default();
        assert_eq!(c.out_of_office_text(Some("de"), "en"), None);
        c.extra.insert("out_of_office".into(), json!({"en": "Closed", "zh": "我们已下班", "de": " "}));
        assert_eq!(c.out_of_office_text(Some("zh-CN"), "en").as_deref(), Some("我们已下班"));
        assert_eq!(c.out_of_office_text(Some("de"), "en").as_deref(), Some("Closed"), "blank texts do not count");
        assert_eq!(c.out_of_office_text(None, "en-GB").as_deref(), Some("Closed"));
        assert_eq!(c.out_of_office_text(Some("fr"), "it"), None);
    }

    #[test]
    fn business_hours_are_checked() {
        let mut c = InboxConfig::default();
        assert!(c.check_business_hours().is_ok() && c.business_hours().is_none());
        c.extra.insert(
            "business_hours".into(),
            json!({"timezone": "Asia/Tokyo", "weekly": [{"day": "mon", "open": "9:00", "close": "18:00"}]}),
        );
        assert!(c.check_business_hours().is_ok() && c.business_hours().is_some());
        c.extra.insert("business_hours".into(), json!({"timezone": "Asia/Tokio"}));
        assert!(c.check_business_hours().is_err() && c.business_hours().is_none());
    }

    #[test]
    fn allowed_origins_match_exactly_or_by_subdomain() {
        let mut c = InboxConfig::default();
        assert!(c.allows_origin("https://anything.example"), "no list: any page");
        c.extra.insert("allowed_origins".into(), json!(["https://Shop.example/", "*.brand.example", "outlet.example"]));
        assert!(c.allows_origin("https://shop.example"));
        assert!(!c.allows_origin("http://shop.example"), "the scheme counts when given");
        assert!(!c.allows_origin("https://evil.example"));
        assert!(!c.allows_origin("https://shop.example.evil.example"));
        assert!(c.allows_origin("https://www.brand.example"));
        assert!(!c.allows_origin("https://notbrand.example"));
        assert!(c.allows_origin("http://outlet.example"));
    }

    #[test]
    fn passwords_are_redacted_and_kept() {
        let stored = with_email(json!({"address": "a@b.example",
            "imap": {"host": "h", "password": "imap-secret"},
            "smtp": {"host": "h", "password": "smtp-secret"}}));
        let shown = stored.redacted();
        let text = serde_json::to_string(&shown).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert!(!format!("{stored:?}").contains("secret"));
        assert_eq!(shown.extra["email"]["imap"]["password_set"], json!(true));

        // Sent back as shown: both passwords are kept.
        let mut back = shown.clone();
        back.keep_passwords(Some(&stored));
        assert_eq!(back, stored);

        // A new IMAP password replaces; an empty SMTP one clears.
        let mut changed = with_email(json!({"address": "a@b.example",
            "imap": {"host": "h", "password": "new", "password_set": true},
            "smtp": {"host": "h", "password": ""}}));
        changed.keep_passwords(Some(&stored));
        assert_eq!(changed.extra["email"]["imap"], json!({"host": "h", "password": "new"}));
        assert_eq!(changed.extra["email"]["smtp"], json!({"host": "h"}));
        assert_eq!(changed.redacted().extra["email"]["smtp"]["password_set"], json!(false));
    }

    #[test]
    fn whatsapp_secrets_are_redacted_and_kept() {
        let mut stored = InboxConfig::default();
        stored.extra.insert(
            "whatsapp".into(),
            json!({"phone_number_id": "1", "access_token": "EAAG-token", "app_secret": "app-secret-value"}),
        );
        let shown = stored.redacted();
        let text = format!("{} {stored:?}", serde_json::to_string(&shown).unwrap());
        assert!(!text.contains("EAAG-token") && !text.contains("app-secret-value"), "{text}");
        assert_eq!(shown.extra["whatsapp"]["access_token_set"], json!(true));
        let mut back = shown.clone();
        back.keep_passwords(Some(&stored));
        assert_eq!(back, stored);
        let mut new_token = shown;
        new_token.extra.insert("whatsapp".into(), json!({"phone_number_id": "1", "access_token": "new"}));
        new_token.keep_passwords(Some(&stored));
        assert_eq!(new_token.extra["whatsapp"]["access_token"], json!("new"));
        assert_eq!(new_token.extra["whatsapp"]["app_secret"], json!("app-secret-value"));
    }
}
