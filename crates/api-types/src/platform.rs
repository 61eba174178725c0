//! The platform API's shapes (accounts the server's operator manages),
//! outgoing webhooks' and usage metering's.

use crate::AgentView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The first owner of a new account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwnerRequest {
    /// Login e-mail (unique across the server).
    pub email: String,
    /// Display name.
    pub name: String,
    /// First password (8 to 128 characters).
    pub password: String,
}

/// `POST /platform/api/v1/accounts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// The shop's name.
    pub name: String,
    /// IANA time zone (`Asia/Shanghai`); default `UTC`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Languages the account answers in, the default first; default `["en"]`.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    /// The first owner.
    pub owner: NewOwnerRequest,
}

/// An account as the operator sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlatformAccountView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Languages, the default first.
    pub languages: Vec<String>,
    /// `active` or `suspended`.
    pub status: String,
    /// When it was suspended.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Its users.
    pub users: u64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A created account and its owner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedAccountView {
    /// The account.
    pub account: PlatformAccountView,
    /// Its first owner.
    pub owner: AgentView,
}

/// A page of accounts, by id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlatformAccountPage {
    /// The accounts.
    pub accounts: Vec<PlatformAccountView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<i64>,
}

/// `POST …/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Receiver URL (`https://…`); private and loopback addresses are refused.
    pub url: String,
    /// Event types: `conversation_created`, `conversation_updated`,
    /// `conversation_resolved`, `message_created`, `message_updated`,
    /// `contact_created`, `contact_updated`, `order_linked`, `csat_received`.
    pub events: Vec<String>,
}

/// `PATCH …/webhooks/{webhook_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// New receiver URL.
    #[serde(default)]
    pub url: Option<String>,
    /// New event types.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Enable (clearing its failures) or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// An outgoing webhook.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    /// Id.
    pub id: i64,
    /// Receiver URL.
    pub url: String,
    /// Event types sent.
    pub events: Vec<String>,
    /// Deliveries go out only while enabled.
    pub enabled: bool,
    /// Why Ferry disabled it.
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// Failing since.
    pub failing_since: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A created webhook with its signing secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhookView {
    /// The webhook.
    pub webhook: WebhookView,
    /// Key of `X-Ferry-Signature`'s HMAC-SHA256.
    pub secret: String,
}

/// One event sent (or being sent) to a webhook.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryView {
    /// Id (the `X-Ferry-Delivery` header).
    pub id: i64,
    /// Event type (`test` for a test event).
    pub event: String,
    /// The body's `id`: the event and its type.
    pub event_id: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// The receiver's last HTTP status.
    pub response_status: Option<u16>,
    /// The first bytes of its last answer.
    pub response_body: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// When it was last tried.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

/// Messages of one channel in a month.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChannelUsageView {
    /// Channel (`api`, `email`, `whatsapp`, …).
    pub channel: String,
    /// Buyers' messages.
    pub incoming: u64,
    /// Replies to buyers (agents' and the bot's).
    pub outgoing: u64,
}

/// One month's usage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MonthUsageView {
    /// `YYYY-MM` (UTC).
    pub month: String,
    /// Contacts who sent at least one message in the month.
    pub active_contacts: u64,
    /// Conversations opened.
    pub conversations_opened: u64,
    /// Buyers' messages, all channels.
    pub messages_in: u64,
    /// Replies, all channels.
    pub messages_out: u64,
    /// Per channel.
    pub channels: Vec<ChannelUsageView>,
    /// Conversations the bot resolved with no person taking part.
    pub bot_resolutions: u64,
}

/// Usage of a range of months, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageView {
    /// The months.
    pub months: Vec<MonthUsageView>,
}
