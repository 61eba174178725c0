//! What search reads from the store: the change journal the embedded index
//! catches up from, messages and contacts as documents to index, and the
//! full-text queries of the PostgreSQL backend.

use crate::error::StorageResult;
use crate::model::StoredOrder;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::Contact;
use ferry_core::conversation::Status;
use ferry_core::inbox::ChannelKind;
use ferry_core::message::Message;
use ferry_core::{AccountId, ConversationId, InboxId};

/// What a journal entry says changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangedKind {
    /// A message was written, edited or deleted.
    Message,
    /// A contact (or one of its identities) was written or deleted.
    Contact,
    /// A conversation's status changed (its messages' filter value).
    Conversation,
    /// An order of the shop mirror was written or deleted.
    Order,
}

/// One entry of the change journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchChange {
    /// Its position in the journal (increasing in commit order).
    pub seq: i64,
    /// What changed.
    pub kind: ChangedKind,
    /// Whose.
    pub account_id: AccountId,
    /// The id of the message, contact or conversation.
    pub row_id: i64,
}

/// A message with what search filters it by.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDoc {
    /// The message.
    pub message: Message,
    /// Its conversation's status.
    pub status: Status,
    /// Its inbox's channel.
    pub channel: ChannelKind,
    /// Its language where known: the conversation's, else the account's.
    pub language: Option<String>,
}

/// An order of the shop mirror as search indexes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderDoc {
    /// Whose.
    pub account_id: AccountId,
    /// The order with its shipments.
    pub order: StoredOrder,
}

/// Filters of a message search; every one set must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    /// In this inbox.
    pub inbox: Option<InboxId>,
    /// In this conversation.
    pub conversation: Option<ConversationId>,
    /// Whose conversation has this status.
    pub status: Option<Status>,
    /// Arriving on this channel.
    pub channel: Option<ChannelKind>,
    /// Sent at or after this.
    pub from: Option<DateTime<Utc>>,
    /// Sent before this.
    pub until: Option<DateTime<Utc>>,
}

/// A buyer for the search benchmark.
#[derive(Debug, Clone)]
pub struct SeedContact {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Phone (E.164).
    pub phone: String,
}

/// A conversation for the search benchmark: its buyer (an index into the
/// contacts), language and the buyer's messages.
#[derive(Debug, Clone)]
pub struct SeedConversation {
    /// Index into the contacts.
    pub contact: usize,
    /// The conversation's language.
    pub language: Option<String>,
    /// The messages' texts.
    pub texts: Vec<String>,
}

/// The reads search needs.
#[async_trait]
pub trait SearchRepo {
    /// Journal entries after `after`, oldest first (empty on backends that
    /// keep no journal).
    async fn search_changes(&self, after: i64, limit: u32) -> StorageResult<Vec<SearchChange>>;
    /// The last journal entry's position (0 when empty).
    async fn search_changes_head(&self) -> StorageResult<i64>;
    /// Forgets journal entries up to and including `upto`.
    async fn prune_search_changes(&self, upto: i64) -> StorageResult<u64>;
    /// Messages (not activity lines) by id, of any account; missing ids
    /// are left out.
    async fn message_docs(&self, ids: Vec<i64>) -> StorageResult<Vec<MessageDoc>>;
    /// The ids of the messages of conversations.
    async fn conversation_message_ids(&self, conversations: Vec<i64>) -> StorageResult<Vec<i64>>;
    /// Messages (not activity lines) with ids above `after`, by id, of
    /// every account: a full pass.
    async fn message_docs_after(&self, after: i64, limit: u32) -> StorageResult<Vec<MessageDoc>>;
    /// Contacts by id, of any account; missing ids are left out.
    async fn contacts_by_ids(&self, ids: Vec<i64>) -> StorageResult<Vec<Contact>>;
    /// Contacts with ids above `after`, by id, of every account.
    async fn contacts_after(&self, after: i64, limit: u32) -> StorageResult<Vec<Contact>>;
    /// Orders by id, of any account; missing ids are left out.
    async fn order_docs(&self, ids: Vec<i64>) -> StorageResult<Vec<OrderDoc>>;
    /// Orders with ids above `after`, by id, of every account.
    async fn order_docs_after(&self, after: i64, limit: u32) -> StorageResult<Vec<OrderDoc>>;
    /// PostgreSQL only: orders of the account whose search text (name,
    /// number, buyer, SKUs, titles, tracking numbers) has every word of
    /// `q`, newest first.
    async fn full_text_orders(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<OrderDoc>>;
    /// PostgreSQL only: messages of the account whose text has every word
    /// of `q` (or contains `q`), newest first.
    async fn full_text_messages(
        &self,
        account: AccountId,
        q: &str,
        filter: &MessageFilter,
        limit: u32,
    ) -> StorageResult<Vec<MessageDoc>>;
    /// PostgreSQL only: contacts of the account whose name, e-mail, phone
    /// or identities have every word of `q`, newest first.
    async fn full_text_contacts(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<Contact>>;
}
