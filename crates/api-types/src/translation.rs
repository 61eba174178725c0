//! Translation for agents: the account's provider, a message's
//! translation, and a reply's translation before it is sent.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The account's translation provider as shown (the key only by its end).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TranslationSettingsView {
    /// `libretranslate` or `deepl`.
    pub provider: String,
    /// Base URL.
    pub base_url: String,
    /// The key's last four characters (`…f:fx`), if there is a key.
    pub api_key_hint: Option<String>,
    /// How long to wait for an answer, in milliseconds.
    pub timeout_ms: u64,
}

/// Sets the account's translation provider.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslationSettingsRequest {
    /// `libretranslate` (any LibreTranslate-compatible server) or `deepl`
    /// (DeepL's API or a compatible one).
    pub provider: String,
    /// Base URL (`https://libretranslate.example`, `https://api-free.deepl.com`).
    pub base_url: String,
    /// The key; leave out to keep the current one, empty for none.
    #[serde(default)]
    pub api_key: Option<String>,
    /// How long to wait for an answer, 100–60,000 ms (default 10,000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// Whether agents can translate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TranslationStatus {
    /// A provider is set up.
    pub enabled: bool,
}

/// Translate a message.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateMessageRequest {
    /// The language to translate into (default: the caller's first language).
    #[serde(default)]
    pub to: Option<String>,
}

/// Translate a reply before sending it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateDraftRequest {
    /// What the agent wrote.
    pub text: String,
    /// The language to send it in (default: the conversation's, else the buyer's).
    #[serde(default)]
    pub to: Option<String>,
}

/// A reply in the buyer's language, to check (and edit) before sending it
/// with `written_as`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DraftTranslationView {
    /// The text to send.
    pub text: String,
    /// Its language.
    pub language: String,
    /// The language the agent wrote in.
    pub source_language: Option<String>,
}

/// What the agent wrote in their own language, when the reply's text is a
/// translation; stored on the message beside what was sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrittenAs {
    /// The agent's language.
    pub language: String,
    /// The agent's text.
    pub text: String,
}
