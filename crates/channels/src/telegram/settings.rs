//! The settings of a Telegram inbox, kept in `config.extra["telegram"]`:
//! the bot's token (from @BotFather, never shown back), the secret token
//! Telegram sends with every webhook delivery (never shown back) and the
//! Bot API base URL.

use crate::ChannelError;
use ferry_core::inbox::{Inbox, InboxConfig};
use ferry_core::secret::Secret;
use serde_json::Value;

/// The key of the Telegram section in `config.extra`.
pub const SECTION: &str = "telegram";

/// The Bot API Ferry talks to unless the inbox says otherwise.
pub const DEFAULT_API_BASE: &str = "https://api.telegram.org";

/// The checked settings of a Telegram inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramSettings {
    /// The bot's token (`123456:ABC…`); `Debug` never prints it.
    pub bot_token: Secret<String>,
    /// The secret Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`.
    pub secret_token: Secret<String>,
    /// The Bot API base, no trailing slash.
    pub api_base: String,
}

fn text<'a>(section: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    section.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty())
}

/// Whether `token` is a bot token as @BotFather gives it: the bot's id,
/// a colon, then letters, digits, `_` and `-`.
pub fn is_bot_token(token: &str) -> bool {
    let Some((id, rest)) = token.split_once(':') else { return false };
    !id.is_empty()
        && id.len() <= 20
        && id.bytes().all(|b| b.is_ascii_digit())
        && (10..=100).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `token` is a secret token Telegram takes: 1 to 256 of
/// `A-Z a-z 0-9 _ -`. Ferry asks for at least 16.
pub fn is_secret_token(token: &str) -> bool {
    (16..=256).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl TelegramSettings {
    /// The Telegram settings of `inbox`: `None` when it has none, an
    /// error naming the field when they are incomplete or wrong.
    pub fn of(inbox: &Inbox) -> Result<Option<Self>, ChannelError> {
        Self::from_config(&inbox.config)
    }

    /// As [`TelegramSettings::of`], from the settings alone.
    pub fn from_config(config: &InboxConfig) -> Result<Option<Self>, ChannelError> {
        let Some(raw) = config.extra.get(SECTION) else { return Ok(None) };
        let Some(section) = raw.as_object() else {
            return Err(ChannelError::invalid("telegram", "telegram settings must be an object"));
        };
        let bot_token = text(section, "bot_token")
            .ok_or_else(|| ChannelError::invalid("bot_token", "telegram.bot_token is required"))?;
        if !is_bot_token(bot_token) {
            return Err(ChannelError::invalid(
                "bot_token",
                "telegram.bot_token must be the token @BotFather gave (digits, a colon, then letters)",
            ));
        }
        let secret_token = text(section, "secret_token")
            .ok_or_else(|| ChannelError::invalid("secret_token", "telegram.secret_token is required"))?;
        if !is_secret_token(secret_token) {
            return Err(ChannelError::invalid(
                "secret_token",
                "telegram.secret_token must have 16 to 256 of the characters A-Z, a-z, 0-9, _ and -",
            ));
        }
        let api_base = text(section, "api_base").unwrap_or(DEFAULT_API_BASE).trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&api_base)
            .map_err(|_| ChannelError::invalid("api_base", "telegram.api_base is not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            return Err(ChannelError::invalid("api_base", "telegram.api_base must be an http(s) URL without query"));
        }
        Ok(Some(TelegramSettings {
            bot_token: Secret::new(bot_token.to_owned()),
            secret_token: Secret::new(secret_token.to_owned()),
            api_base,
        }))
    }
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
    fn reads_and_hides_the_tokens() {
        let c = config(json!({"bot_token": "123456:AAbbCCddEEffGG_hh-ii", "secret_token": "s3cret-token-0123456"}));
        let s = TelegramSettings::from_config(&c).unwrap().unwrap();
        assert_eq!(s.api_base, DEFAULT_API_BASE);
        assert!(!format!("{s:?}").contains("AAbb") && !format!("{s:?}").contains("s3cret"));
        let shown = serde_json::to_string(&c.redacted()).unwrap();
        assert!(!shown.contains("AAbb") && !shown.contains("s3cret"), "{shown}");
        assert_eq!(TelegramSettings::from_config(&InboxConfig::default()), Ok(None));
    }

    #[test]
    fn names_the_wrong_field() {
        let field = |v: Value| match TelegramSettings::from_config(&config(v)) {
            Err(ChannelError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({"bot_token": "nope", "secret_token": "s3cret-token-0123456"})), "bot_token");
        assert_eq!(field(json!({"bot_token": "1:AAbbCCddEEff", "secret_token": "short"})), "secret_token");
        assert_eq!(
            field(json!({"bot_token": "1:AAbbCCddEEff", "secret_token": "with space in it 0123"})),
            "secret_token"
        );
        assert_eq!(
            field(
                json!({"bot_token": "1:AAbbCCddEEff", "secret_token": "s3cret-token-0123456", "api_base": "ftp://x"})
            ),
            "api_base"
        );
    }
}
