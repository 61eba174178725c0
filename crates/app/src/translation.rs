//! Translation for agents: a buyer's message shown in the agent's language
//! (kept on the message, so it is asked for once), and a reply written in
//! the agent's language sent in the buyer's, with both versions stored.
//!
//! The provider is the account's: a LibreTranslate-compatible server
//! (self-hosted, or a hosted one with a key) or a DeepL-compatible API.
//! Its key is never shown back. A provider that refuses, fails or does not
//! answer in time gets a clear error, and nothing is stored.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use ferry_core::message::{Message, MessageChange, MessageKind, Translation};
use ferry_core::{AccountId, ConversationId, MessageId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// The providers Ferry speaks to.
pub const PROVIDERS: [&str; 2] = ["libretranslate", "deepl"];

/// The longest text sent to a provider.
pub const MAX_CHARS: usize = 5_000;

/// An account's translation settings, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslationSettings {
    /// `libretranslate` or `deepl`.
    pub provider: String,
    /// The provider's base URL (`https://libretranslate.example`,
    /// `https://api-free.deepl.com`).
    pub base_url: String,
    /// The key (empty: none; a self-hosted LibreTranslate needs none).
    #[serde(default)]
    pub api_key: String,
    /// How long to wait for an answer, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

/// New settings from an owner or admin (`api_key: None` keeps the stored
/// key).
#[derive(Debug, Clone, Default)]
pub struct TranslationInput {
    /// `libretranslate` or `deepl`.
    pub provider: String,
    /// Base URL.
    pub base_url: String,
    /// A new key, or `None` to keep the current one.
    pub api_key: Option<String>,
    /// Timeout in milliseconds (100–60,000; `None`: 10 s).
    pub timeout_ms: Option<u64>,
}

/// The settings as shown: the key only as whether there is one and its
/// last four characters.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslationView {
    /// Provider.
    pub provider: String,
    /// Base URL.
    pub base_url: String,
    /// The key's last four characters, if there is a key.
    pub api_key_hint: Option<String>,
    /// Timeout in milliseconds.
    pub timeout_ms: u64,
}

impl From<&TranslationSettings> for TranslationView {
    fn from(s: &TranslationSettings) -> Self {
        let hint = (!s.api_key.is_empty()).then(|| {
            let tail: String = s.api_key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            format!("…{tail}")
        });
        Self {
            provider: s.provider.clone(),
            base_url: s.base_url.clone(),
            api_key_hint: hint,
            timeout_ms: s.timeout_ms,
        }
    }
}

/// A text in another language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The translation.
    pub text: String,
    /// The language the text was in, as the provider saw it.
    pub source_language: Option<String>,
}

/// Why a provider gave no translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// It refused the request (the key, the language).
    #[error("the translation service refused: {0}")]
    Refused(String),
    /// It failed or was unreachable.
    #[error("the translation service failed: {0}")]
    Failed(String),
    /// It did not answer in time.
    #[error("the translation service did not answer within {0} ms")]
    Timeout(u64),
}

/// A machine-translation provider.
#[async_trait]
pub trait Translator: Send + Sync {
    /// `text` in `target` (a BCP 47 primary tag); `source` when known.
    async fn translate(&self, text: &str, source: Option<&str>, target: &str) -> Result<Translated, TranslateError>;
}

fn http() -> &'static reqwest::Client {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Ferry/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

/// The primary language subtag, lower-cased (`es-MX` → `es`).
pub fn primary(lang: &str) -> String {
    lang.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase()
}

/// An HTTP provider for these settings.
pub fn translator(s: &TranslationSettings) -> Box<dyn Translator> {
    match s.provider.as_str() {
        "deepl" => Box::new(Deepl(s.clone())),
        _ => Box::new(LibreTranslate(s.clone())),
    }
}

struct LibreTranslate(TranslationSettings);
struct Deepl(TranslationSettings);

async fn post(s: &TranslationSettings, path: &str, auth: Option<String>, body: Value) -> Result<Value, TranslateError> {
    let url = format!("{}{path}", s.base_url.trim_end_matches('/'));
    let mut req = http().post(url).timeout(Duration::from_millis(s.timeout_ms)).json(&body);
    if let Some(a) = auth {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() { TranslateError::Timeout(s.timeout_ms) } else { TranslateError::Failed(e.to_string()) }
    })?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| {
        if e.is_timeout() { TranslateError::Timeout(s.timeout_ms) } else { TranslateError::Failed(e.to_string()) }
    })?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let said = body["error"].as_str().or(body["message"].as_str()).unwrap_or("no reason given").to_owned();
    let said = format!("{said} (HTTP {})", status.as_u16());
    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        Err(TranslateError::Refused(said))
    } else {
        Err(TranslateError::Failed(said))
    }
}

#[async_trait]
impl Translator for LibreTranslate {
    async fn translate(&self, text: &str, source: Option<&str>, target: &str) -> Result<Translated, TranslateError> {
        let mut body = json!({ "q": text, "source": source.unwrap_or("auto"), "target": target, "format": "text" });
        if !self.0.api_key.is_empty() {
            body["api_key"] = json!(self.0.api_key);
        }
        let r = post(&self.0, "/translate", None, body).await?;
        let out = r["translatedText"].as_str().ok_or_else(|| TranslateError::Failed("no translatedText".into()))?;
        let detected = r["detectedLanguage"]["language"].as_str().map(primary);
        Ok(Translated { text: out.to_owned(), source_language: detected.or_else(|| source.map(primary)) })
    }
}

/// DeepL's target codes: English and Portuguese need a variant.
fn deepl_target(lang: &str) -> String {
    match lang {
        "en" => "EN-US".to_owned(),
        "pt" => "PT-BR".to_owned(),
        "zh" => "ZH-HANS".to_owned(),
        other => other.to_ascii_uppercase(),
    }
}

#[async_trait]
impl Translator for Deepl {
    async fn translate(&self, text: &str, source: Option<&str>, target: &str) -> Result<Translated, TranslateError> {
        let mut body = json!({ "text": [text], "target_lang": deepl_target(target) });
        if let Some(s) = source {
            body["source_lang"] = json!(s.to_ascii_uppercase());
        }
        let auth = Some(format!("DeepL-Auth-Key {}", self.0.api_key));
        let r = post(&self.0, "/v2/translate", auth, body).await?;
        let first = &r["translations"][0];
        let out = first["text"].as_str().ok_or_else(|| TranslateError::Failed("no translations".into()))?;
        let detected = first["detected_source_language"].as_str().map(primary);
        Ok(Translated { text: out.to_owned(), source_language: detected.or_else(|| source.map(primary)) })
    }
}

/// Checks a language parameter (a BCP 47 tag) and returns its primary tag.
pub fn check_language(field: &'static str, lang: &str) -> AppResult<String> {
    let p = primary(lang);
    if (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(p)
    } else {
        Err(AppError::invalid(field, format!("`{lang}` is not a language code such as es or zh")))
    }
}

fn provider_error(e: TranslateError) -> AppError {
    AppError::Provider { code: "translation_failed", message: e.to_string() }
}

/// A reply's text in the buyer's language, for the agent to check before
/// sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftTranslation {
    /// The text to send.
    pub text: String,
    /// Its language.
    pub language: String,
    /// The language the agent wrote in.
    pub source_language: Option<String>,
}

impl App {
    async fn stored_translation(&self, account: AccountId) -> AppResult<Option<TranslationSettings>> {
        let Some(v) = self.storage.translation_settings(account).await? else { return Ok(None) };
        serde_json::from_value(v).map(Some).map_err(|e| AppError::internal("reading the translation settings", e))
    }

    async fn configured_translator(&self, account: AccountId) -> AppResult<Box<dyn Translator>> {
        match self.stored_translation(account).await? {
            Some(s) => Ok(translator(&s)),
            None => Err(AppError::rejected(
                "translation_not_configured",
                "translation",
                "translation is not set up for this account; an owner or admin can choose a provider in Settings",
            )),
        }
    }

    /// The account's translation settings (owners and admins).
    pub async fn translation_settings(&self, actor: &Actor, account: AccountId) -> AppResult<Option<TranslationView>> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        Ok(self.stored_translation(account).await?.as_ref().map(TranslationView::from))
    }

    /// Whether agents of the account can translate (anyone who can see
    /// conversations).
    pub async fn translation_enabled(&self, actor: &Actor, account: AccountId) -> AppResult<bool> {
        actor.in_account(account)?;
        actor.can_view()?;
        Ok(self.stored_translation(account).await?.is_some())
    }

    /// Sets the account's provider (owners and admins); audited.
    pub async fn set_translation_settings(
        &self,
        actor: &Actor,
        account: AccountId,
        input: TranslationInput,
    ) -> AppResult<TranslationView> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let provider = input.provider.trim().to_ascii_lowercase();
        if !PROVIDERS.contains(&provider.as_str()) {
            return Err(AppError::invalid("provider", format!("the provider must be one of {}", PROVIDERS.join(", "))));
        }
        let base_url = input.base_url.trim().trim_end_matches('/').to_owned();
        match url::Url::parse(&base_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => return Err(AppError::invalid("base_url", "the base URL must be an http or https URL")),
        }
        let timeout_ms = input.timeout_ms.unwrap_or_else(default_timeout_ms);
        if !(100..=60_000).contains(&timeout_ms) {
            return Err(AppError::invalid("timeout_ms", "the timeout must be between 100 and 60,000 ms"));
        }
        let current = self.stored_translation(account).await?;
        let api_key = match input.api_key {
            Some(k) => k.trim().to_owned(),
            None => current.map(|c| c.api_key).unwrap_or_default(),
        };
        if provider == "deepl" && api_key.is_empty() {
            return Err(AppError::invalid("api_key", "DeepL needs an API key"));
        }
        let settings = TranslationSettings { provider, base_url, api_key, timeout_ms };
        let value = serde_json::to_value(&settings).map_err(|e| AppError::internal("writing the settings", e))?;
        self.storage.set_translation_settings(account, Some(value), self.clock.now()).await?;
        self.audit_settings(actor, account, "translation.configure", json!({ "provider": settings.provider })).await;
        Ok(TranslationView::from(&settings))
    }

    /// Turns translation off (owners and admins); audited.
    pub async fn delete_translation_settings(&self, actor: &Actor, account: AccountId) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        self.storage.set_translation_settings(account, None, self.clock.now()).await?;
        self.audit_settings(actor, account, "translation.remove", json!({})).await;
        Ok(())
    }

    async fn audit_settings(&self, actor: &Actor, account: AccountId, action: &str, details: Value) {
        let entry = ferry_storage::NewAuditEntry {
            actor_id: Some(actor.user.id),
            actor_name: actor.user.name.clone(),
            action: action.to_owned(),
            target_kind: "account".to_owned(),
            target_id: account.0.to_string(),
            details,
            outcome: ferry_storage::AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(account, entry, self.clock.now()).await {
            tracing::error!(error = %e, action, "could not write the audit entry");
        }
    }

    /// The agent's language: the first of their profile, else the
    /// account's.
    async fn agent_language(&self, actor: &Actor) -> AppResult<String> {
        if let Some(l) = actor.user.languages.first() {
            return Ok(primary(l));
        }
        let a = self.storage.get_account(actor.account()).await?.ok_or(AppError::NotFound("account"))?;
        Ok(primary(&a.default_language))
    }

    /// A message of a conversation shown in `to` (default: the agent's
    /// language). Kept on the message: asking again costs nothing, and
    /// everyone watching the conversation sees it.
    pub async fn translate_message(
        &self,
        actor: &Actor,
        account: AccountId,
        conversation: ConversationId,
        message: MessageId,
        to: Option<String>,
    ) -> AppResult<Message> {
        self.get_conversation(actor, account, conversation).await?;
        let m = self
            .storage
            .get_message(account, message)
            .await?
            .filter(|m| m.conversation_id == conversation)
            .ok_or(AppError::NotFound("message"))?;
        let to = match to {
            Some(t) => check_language("to", &t)?,
            None => self.agent_language(actor).await?,
        };
        if m.meta.translations.iter().any(|t| t.language == to) {
            return Ok(m);
        }
        if m.kind == MessageKind::Activity {
            return Err(AppError::invalid("message_id", "activity lines are not translated"));
        }
        let text = m.text();
        if text.trim().is_empty() {
            return Err(AppError::invalid("message_id", "the message has no text to translate"));
        }
        if text.chars().count() > MAX_CHARS {
            return Err(AppError::invalid("message_id", format!("the message is longer than {MAX_CHARS} characters")));
        }
        let t = self.configured_translator(account).await?;
        let done = t.translate(&text, None, &to).await.map_err(provider_error)?;
        let settings = self.stored_translation(account).await?;
        let translation = Translation {
            language: to,
            text: done.text,
            source_language: done.source_language,
            provider: settings.map_or_else(|| "translation".to_owned(), |s| s.provider),
            at: self.clock.now(),
        };
        let now = self.clock.now();
        let changed = self.storage.change_message(account, message, MessageChange::Translate(translation), now).await?;
        match changed {
            Some(m) => Ok(m),
            None => self.storage.get_message(account, message).await?.ok_or(AppError::NotFound("message")),
        }
    }

    /// A reply the agent wrote, in the buyer's language (`to`, else the
    /// conversation's, else the buyer's), to show before it is sent.
    pub async fn translate_draft(
        &self,
        actor: &Actor,
        account: AccountId,
        conversation: ConversationId,
        text: &str,
        to: Option<String>,
    ) -> AppResult<DraftTranslation> {
        let conv = self.get_conversation(actor, account, conversation).await?;
        actor.can_reply()?;
        if text.trim().is_empty() {
            return Err(AppError::invalid("text", "write something to translate"));
        }
        if text.chars().count() > MAX_CHARS {
            return Err(AppError::invalid("text", format!("the text is longer than {MAX_CHARS} characters")));
        }
        let to = match to.or(conv.language.clone()) {
            Some(t) => check_language("to", &t)?,
            None => {
                let c = self.storage.get_contact(account, conv.contact_id).await?;
                match c.and_then(|c| c.language) {
                    Some(l) => primary(&l),
                    None => {
                        return Err(AppError::invalid(
                            "to",
                            "the buyer's language is not known yet; choose the language to translate into",
                        ));
                    }
                }
            }
        };
        let from = self.agent_language(actor).await?;
        let t = self.configured_translator(account).await?;
        let source = (from != to).then_some(from.as_str());
        if source.is_none() {
            return Ok(DraftTranslation { text: text.to_owned(), language: to, source_language: Some(from) });
        }
        let done = t.translate(text, source, &to).await.map_err(provider_error)?;
        Ok(DraftTranslation { text: done.text, language: to, source_language: done.source_language })
    }

    /// Keeps the agent's own words on a reply that went out translated.
    pub async fn keep_written_as(
        &self,
        account: AccountId,
        message: MessageId,
        language_tag: &str,
        text: &str,
    ) -> AppResult<Option<Message>> {
        let written = Translation {
            language: check_language("written_as.language", language_tag)?,
            text: text.to_owned(),
            source_language: None,
            provider: "agent".to_owned(),
            at: self.clock.now(),
        };
        Ok(self.storage.change_message(account, message, MessageChange::WrittenAs(written), self.clock.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_reduced_to_their_primary_tag() {
        assert_eq!(primary("es-MX"), "es");
        assert_eq!(primary("zh_Hans"), "zh");
        assert_eq!(primary(" DE "), "de");
        assert!(check_language("to", "español").is_err());
        assert_eq!(check_language("to", "pt-BR").ok(), Some("pt".to_owned()));
    }

    #[test]
    fn the_key_is_shown_by_its_end_only() {
        let s = TranslationSettings {
            provider: "deepl".into(),
            base_url: "https://api-free.deepl.com".into(),
            api_key: "abcdef:fx".into(),
            timeout_ms: 10_000,
        };
        assert_eq!(TranslationView::from(&s).api_key_hint.as_deref(), Some("…f:fx"));
        let none = TranslationSettings { api_key: String::new(), ..s };
        assert_eq!(TranslationView::from(&none).api_key_hint, None);
    }

    #[test]
    fn deepl_targets_name_a_variant_where_deepl_needs_one() {
        assert_eq!(deepl_target("en"), "EN-US");
        assert_eq!(deepl_target("de"), "DE");
        assert_eq!(deepl_target("zh"), "ZH-HANS");
    }
}
