//! Proactive notices: the account's notice settings (a document the
//! application layer reads and checks) and the send log, whose key makes
//! each notice happen once per event.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, ContactId, ConversationId, MessageId};

/// A notice decided for a buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeSend {
    /// Its id.
    pub id: i64,
    /// What it is about (`shipped`…).
    pub kind: String,
    /// What makes it unique (`shipped:{connection}:{fulfilment}`).
    pub dedup_key: String,
    /// The buyer, while the contact exists.
    pub contact_id: Option<ContactId>,
    /// The order it is about.
    pub order_id: Option<i64>,
    /// The channel it goes or went on.
    pub channel: Option<String>,
    /// `scheduled`, `sent`, `skipped` or `failed`.
    pub state: String,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    /// The message it became.
    pub message_id: Option<MessageId>,
    /// That message's conversation.
    pub conversation_id: Option<ConversationId>,
    /// When it is or was due.
    pub scheduled_at: DateTime<Utc>,
    /// When it was decided.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The campaign it belongs to.
    pub campaign_id: Option<i64>,
    /// The journey it belongs to.
    pub journey_id: Option<i64>,
}

/// A notice to record, once per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNoticeSend {
    /// What it is about.
    pub kind: String,
    /// What makes it unique.
    pub dedup_key: String,
    /// The buyer.
    pub contact_id: Option<ContactId>,
    /// The order.
    pub order_id: Option<i64>,
    /// The channel chosen.
    pub channel: Option<String>,
    /// `scheduled` or `skipped`.
    pub state: String,
    /// Why it is skipped.
    pub reason: Option<String>,
    /// When it is due.
    pub scheduled_at: DateTime<Utc>,
    /// The campaign it belongs to.
    pub campaign_id: Option<i64>,
    /// Marketing: counted by the weekly frequency cap.
    pub marketing: bool,
    /// The journey it belongs to.
    pub journey_id: Option<i64>,
}

/// How the notices decided since a moment fared, per kind, state and
/// reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTally {
    /// The kind.
    pub kind: String,
    /// `scheduled`, `sent`, `skipped` or `failed`.
    pub state: String,
    /// Why skipped or failed.
    pub reason: Option<String>,
    /// How many.
    pub count: u64,
    /// Of those sent: delivered (or read).
    pub delivered: u64,
    /// Of those sent: read.
    pub read: u64,
    /// Of those sent: the buyer wrote in the conversation afterwards.
    pub replied: u64,
}

/// A buyer's consent to marketing on one channel (or `all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactConsent {
    /// The buyer.
    pub contact_id: ContactId,
    /// A channel's name, or `all`.
    pub channel: String,
    /// Given (true) or withdrawn.
    pub granted: bool,
    /// Where it came from (`checkout`, `widget`, `agent`, `import`…).
    pub source: String,
    /// The person who recorded it, if one did.
    pub recorded_by: Option<ferry_core::UserId>,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// Notice settings and the send log.
#[async_trait]
pub trait NoticeRepo {
    /// The account's notice settings (`None` until set); `NotFound` for an
    /// unknown account.
    async fn notice_settings(&self, account: AccountId) -> StorageResult<Option<serde_json::Value>>;
    /// Replaces them.
    async fn set_notice_settings(
        &self,
        account: AccountId,
        settings: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// Records a notice unless one with its key exists: `None` then.
    async fn claim_notice_send(
        &self,
        account: AccountId,
        new: NewNoticeSend,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<NoticeSend>>;
    /// Reads one.
    async fn get_notice_send(&self, account: AccountId, id: i64) -> StorageResult<Option<NoticeSend>>;
    /// Records what became of a scheduled notice.
    #[allow(clippy::too_many_arguments)]
    async fn finish_notice_send(
        &self,
        account: AccountId,
        id: i64,
        state: &str,
        channel: Option<String>,
        reason: Option<String>,
        message: Option<(MessageId, ConversationId)>,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// The store id of the order the shop knows as `external_id`.
    async fn order_by_external_id(
        &self,
        account: AccountId,
        connection: ferry_core::ShopConnectionId,
        external_id: &str,
    ) -> StorageResult<Option<ferry_core::OrderId>>;
    /// The contacts known by any of these e-mails or phones (normalised).
    async fn contacts_by_address(
        &self,
        account: AccountId,
        emails: Vec<String>,
        phones: Vec<String>,
    ) -> StorageResult<Vec<ContactId>>;
    /// The buyer's latest conversation in `inbox`, or a new one the
    /// business starts (resolved, tagged `tag`), with its event.
    async fn conversation_for_notice(
        &self,
        account: AccountId,
        inbox: ferry_core::InboxId,
        contact: ContactId,
        tag: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<ferry_core::conversation::Conversation>;
    /// Orders placed in `[from, to)` and conversations opened then whose
    /// main intent is one of `intents`.
    async fn wismo_counts(
        &self,
        account: AccountId,
        intents: Vec<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StorageResult<(u64, u64)>;
    /// How the notices decided since `since` fared.
    async fn notice_tallies(&self, account: AccountId, since: DateTime<Utc>) -> StorageResult<Vec<NoticeTally>>;
    /// Records a buyer's consent (replacing the one for its channel); the
    /// contact must be the account's.
    async fn set_contact_consent(&self, account: AccountId, consent: ContactConsent) -> StorageResult<()>;
    /// A buyer's consents, by channel.
    async fn contact_consents(&self, account: AccountId, contact: ContactId) -> StorageResult<Vec<ContactConsent>>;
    /// The log, newest first, before `before`.
    async fn list_notice_sends(
        &self,
        account: AccountId,
        before: Option<i64>,
        limit: u32,
    ) -> StorageResult<Vec<NoticeSend>>;
}
