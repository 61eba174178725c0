//! Telegram and SMS inboxes: their parts of a connection check, and an
//! SMS's segment count as the composer shows it before sending.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The Telegram part of a connection check: the bot (`getMe`) and the
/// webhook Ferry pointed it at (`setWebhook`, with the inbox's secret
/// token).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TelegramCheckView {
    /// Whether Telegram accepted the bot token and the webhook.
    pub ok: bool,
    /// What failed.
    pub error: Option<String>,
    /// The bot's `@username`.
    pub username: Option<String>,
    /// The URL Telegram now posts updates to, once set.
    pub webhook_url: Option<String>,
}

/// The Messenger or Instagram part of a connection check: the page (its
/// name, which proves the page access token) and the subscription of
/// Ferry's app to its messages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MetaCheckView {
    /// Whether Meta accepted the token and the subscription.
    pub ok: bool,
    /// What failed.
    pub error: Option<String>,
    /// The page's name, or the Instagram account's `@username`.
    pub name: Option<String>,
    /// The callback URL to give Meta, with the inbox's verify token.
    pub webhook_url: String,
    /// Whether Ferry's app is subscribed to the page's messages.
    pub subscribed: bool,
}

/// The SMS part of a connection check: the account at the provider.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SmsCheckView {
    /// Whether the provider accepted the account sid and token.
    pub ok: bool,
    /// What failed.
    pub error: Option<String>,
    /// The account's name at the provider.
    pub account_name: Option<String>,
    /// The URL to give the provider for incoming messages and status
    /// callbacks (what the signature is computed over).
    pub webhook_url: String,
}

/// Ask how many SMS segments a text takes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsSegmentsRequest {
    /// The text as it would be sent.
    pub text: String,
}

/// How an SMS is split: GSM-7 (160 characters in one segment, 153 each
/// when split; the extension table's characters count twice) or UCS-2
/// (70, or 67 each when split).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmsSegmentsView {
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// How many segments the text is sent as (billed per segment).
    pub segments: usize,
    /// Its length in the encoding's units (septets or UTF-16 units).
    pub units: usize,
    /// Units one segment holds for this text (160/153 or 70/67).
    pub per_segment: usize,
    /// Units left in the last segment.
    pub remaining: usize,
}
