//! Product feedback: the account's defect rules, and the reads that count
//! defect conversations per SKU beside the orders of that SKU.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::insights::{DefectRules, SkuConversation};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, ConversationId};

/// One order line of a SKU as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuOrderLine {
    /// SKU.
    pub sku: String,
    /// When the order was placed.
    pub placed_at: DateTime<Utc>,
    /// Units of the SKU in the order.
    pub quantity: i64,
}

/// The first message a buyer wrote in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstBuyerMessage {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Message id.
    pub message_id: i64,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// Its content.
    pub parts: Vec<ContentPart>,
}

/// Defect rules and the reads of product feedback.
#[async_trait]
pub trait ProductFeedbackRepo {
    /// The account's defect rules. `NotFound` for no such account.
    async fn defect_rules(&self, account: AccountId) -> StorageResult<DefectRules>;
    /// Sets them (already normalised). `NotFound` for no such account.
    async fn set_defect_rules(&self, account: AccountId, rules: DefectRules, now: DateTime<Utc>) -> StorageResult<()>;
    /// Conversations opened on local days `from..=until` whose facts carry
    /// a SKU (only `sku`, when given), with their tags and SKUs, by id.
    /// Refreshes marked facts first.
    async fn sku_conversations(
        &self,
        account: AccountId,
        from: i64,
        until: i64,
        sku: Option<String>,
    ) -> StorageResult<Vec<SkuConversation>>;
    /// Order lines of these SKUs placed in `from..until`.
    async fn sku_order_lines(
        &self,
        account: AccountId,
        skus: Vec<String>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StorageResult<Vec<SkuOrderLine>>;
    /// The first buyer message of each of these conversations (those that
    /// have one and are the account's).
    async fn first_buyer_messages(
        &self,
        account: AccountId,
        ids: Vec<ConversationId>,
    ) -> StorageResult<Vec<FirstBuyerMessage>>;
}
