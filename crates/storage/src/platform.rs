//! The platform: accounts as the server's operator sees them (created with
//! their first owner, listed, suspended), the outgoing webhooks an account
//! subscribes to with their delivery log, and the usage figures metering
//! reads from the stored messages and conversations.

use crate::error::StorageResult;
use crate::model::NewUser;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::{Account, User};
use ferry_core::{AccountId, WebhookDeliveryId, WebhookId};

/// An account with what the operator manages of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformAccount {
    /// The account.
    pub account: Account,
    /// IANA time zone (`Asia/Shanghai`).
    pub time_zone: String,
    /// Languages the account answers in, the default first.
    pub languages: Vec<String>,
    /// When it was suspended; `None` while active.
    pub suspended_at: Option<DateTime<Utc>>,
    /// How many users it has.
    pub users: u64,
}

/// A new account.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlatformAccount {
    /// Display name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Languages, the default first (at least one).
    pub languages: Vec<String>,
}

/// Accounts across the server (the operator's view: global, not scoped by
/// an account).
#[async_trait]
pub trait PlatformRepo {
    /// Creates an account and its first user (an owner) in one
    /// transaction; a taken e-mail is a `Conflict { constraint:
    /// "users.email" }` and creates nothing.
    async fn create_account_with_owner(
        &self,
        new: NewPlatformAccount,
        owner: NewUser,
        now: DateTime<Utc>,
    ) -> StorageResult<(PlatformAccount, User)>;
    /// Accounts by id, after `after`, at most `limit` (1–500).
    async fn list_platform_accounts(&self, after: Option<AccountId>, limit: u32)
    -> StorageResult<Vec<PlatformAccount>>;
    /// One account.
    async fn get_platform_account(&self, id: AccountId) -> StorageResult<Option<PlatformAccount>>;
    /// Suspends (keeping the first suspension's time) or reactivates an
    /// account; `NotFound` when there is none.
    async fn set_account_suspended(
        &self,
        id: AccountId,
        suspended: bool,
        now: DateTime<Utc>,
    ) -> StorageResult<PlatformAccount>;
    /// Whether the account is suspended (`false` for none).
    async fn account_suspended(&self, id: AccountId) -> StorageResult<bool>;
}

/// An account's subscription to its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Id.
    pub id: WebhookId,
    /// Account.
    pub account_id: AccountId,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Event types sent (`message_created`, …).
    pub events: Vec<String>,
    /// Signing secret.
    pub secret: String,
    /// Deliveries go out only while enabled.
    pub enabled: bool,
    /// Why it was disabled, when Ferry disabled it.
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// The first failed attempt since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    /// Receiver URL.
    pub url: String,
    /// Event types.
    pub events: Vec<String>,
    /// Signing secret.
    pub secret: String,
}

/// Changes to a subscription. Enabling one clears its failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookPatch {
    /// New URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// One event for one webhook, and how sending it went.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// Id (the `X-Ferry-Delivery` header).
    pub id: WebhookDeliveryId,
    /// Account.
    pub account_id: AccountId,
    /// The webhook.
    pub webhook_id: WebhookId,
    /// What makes it unique for its webhook (event id and type, or a test).
    pub event_key: String,
    /// Event type.
    pub event: String,
    /// The JSON body, exactly as signed and sent.
    pub body: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// The receiver's last HTTP status.
    pub response_status: Option<u16>,
    /// The first bytes of the receiver's last answer.
    pub response_body: Option<String>,
    /// Why the last attempt failed (no answer, or its status).
    pub error: Option<String>,
    /// When it was last tried.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the event was queued for the webhook.
    pub created_at: DateTime<Utc>,
}

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookDelivery {
    /// The webhook.
    pub webhook_id: WebhookId,
    /// Unique per webhook: a second delivery with the same key is skipped.
    pub event_key: String,
    /// Event type.
    pub event: String,
    /// The JSON body.
    pub body: String,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttempt {
    /// The receiver answered 2xx.
    pub ok: bool,
    /// Its status, when it answered.
    pub status: Option<u16>,
    /// The first bytes of its answer.
    pub body: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// No attempt follows (the job gives up): a failure marks it `failed`.
    pub last: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// Accounts' outgoing webhooks.
#[async_trait]
pub trait WebhookRepo {
    /// Creates a subscription (enabled).
    async fn create_webhook(&self, account: AccountId, new: NewWebhook, now: DateTime<Utc>) -> StorageResult<Webhook>;
    /// The account's subscriptions, oldest first.
    async fn list_webhooks(&self, account: AccountId) -> StorageResult<Vec<Webhook>>;
    /// One subscription of the account.
    async fn get_webhook(&self, account: AccountId, id: WebhookId) -> StorageResult<Option<Webhook>>;
    /// Changes a subscription; `NotFound` when it is not the account's.
    async fn update_webhook(
        &self,
        account: AccountId,
        id: WebhookId,
        patch: WebhookPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<Webhook>;
    /// Removes a subscription with its delivery log.
    async fn delete_webhook(&self, account: AccountId, id: WebhookId) -> StorageResult<()>;
    /// Disables a subscription Ferry gave up on, saying why.
    async fn disable_webhook(
        &self,
        account: AccountId,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Webhook>;
    /// Queues deliveries, each with a job of `job_kind` (payload
    /// `{"delivery_id": id}`, at most `max_attempts`), in one transaction.
    /// A webhook's key seen before is skipped, so feeding the same event
    /// twice queues it once; webhooks not of the account are skipped.
    /// Returns the deliveries queued.
    async fn queue_webhook_deliveries(
        &self,
        account: AccountId,
        deliveries: Vec<NewWebhookDelivery>,
        job_kind: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> StorageResult<Vec<WebhookDeliveryId>>;
    /// One delivery of the account.
    async fn get_webhook_delivery(
        &self,
        account: AccountId,
        id: WebhookDeliveryId,
    ) -> StorageResult<Option<WebhookDelivery>>;
    /// Records an attempt on the delivery and on its webhook's failure
    /// count (reset by a success); returns the webhook after it.
    async fn record_webhook_attempt(
        &self,
        account: AccountId,
        id: WebhookDeliveryId,
        attempt: WebhookAttempt,
    ) -> StorageResult<Webhook>;
    /// The webhook's deliveries, newest first, at most `limit`.
    async fn list_webhook_deliveries(
        &self,
        account: AccountId,
        webhook: WebhookId,
        limit: u32,
    ) -> StorageResult<Vec<WebhookDelivery>>;
}

/// Messages of one channel in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelUsage {
    /// Channel kind (`api`, `email`, `whatsapp`, …).
    pub channel: String,
    /// Buyers' messages.
    pub incoming: u64,
    /// Replies sent to buyers (agents' and the bot's).
    pub outgoing: u64,
}

/// What an account used in a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Contacts who sent at least one message.
    pub active_contacts: u64,
    /// Conversations opened.
    pub conversations_opened: u64,
    /// Messages per channel, by channel name.
    pub channels: Vec<ChannelUsage>,
    /// Conversations resolved with the bot alone (no person took part).
    pub bot_resolutions: u64,
}

/// Usage, counted from stored facts.
#[async_trait]
pub trait UsageRepo {
    /// The account's usage in `[from, to)`. Bot resolutions come from the
    /// conversations' facts: refresh the pending ones first.
    async fn usage(&self, account: AccountId, from: DateTime<Utc>, to: DateTime<Utc>) -> StorageResult<Usage>;
}
