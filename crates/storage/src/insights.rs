//! Insights: the facts row of each conversation, kept current by every
//! write that changes the conversation or adds a message to it (in the
//! same transaction), recomputed by a rebuild, and read back slimmed for
//! reports.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::insights::{ConversationFacts, Dimension, InsightRow};
use ferry_core::{AccountId, ConversationId};

/// The rows a report reads: conversations opened on or before `until` and
/// not resolved before `from` (local days), one per value of `by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsightQuery {
    /// First local day.
    pub from: i64,
    /// Last local day.
    pub until: i64,
    /// The dimension whose value each row carries.
    pub by: Option<Dimension>,
}

/// Conversations refreshed per unit of work by the facts refresher.
pub const FACTS_BATCH: u32 = 100;

/// Facts of conversations and the rows of reports.
#[async_trait]
pub trait InsightsRepo {
    /// The account's time zone (an IANA name; `UTC` unless set).
    async fn account_timezone(&self, account: AccountId) -> StorageResult<Option<String>>;
    /// Sets the account's time zone. Facts keep the days they were
    /// computed with until rebuilt.
    async fn set_account_timezone(&self, account: AccountId, timezone: &str, now: DateTime<Utc>) -> StorageResult<()>;
    /// Report rows (see [`InsightQuery`]).
    async fn insight_rows(&self, account: AccountId, query: InsightQuery) -> StorageResult<Vec<InsightRow>>;
    /// The facts of one conversation.
    async fn conversation_facts(
        &self,
        account: AccountId,
        id: ConversationId,
    ) -> StorageResult<Option<ConversationFacts>>;
    /// Up to `limit` conversation ids of the account above `after`,
    /// ascending (for rebuilds).
    async fn conversation_ids(
        &self,
        account: AccountId,
        after: Option<ConversationId>,
        limit: u32,
    ) -> StorageResult<Vec<ConversationId>>;
    /// Recomputes the facts of the conversations, in one transaction.
    async fn refresh_facts(
        &self,
        account: AccountId,
        ids: Vec<ConversationId>,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// Deletes every facts row of the account; returns how many.
    async fn clear_facts(&self, account: AccountId) -> StorageResult<u64>;
    /// Every account's id (for rebuilding them all).
    async fn account_ids(&self) -> StorageResult<Vec<AccountId>>;
    /// Recomputes the facts of up to `limit` conversations marked by
    /// writes since their last refresh, in one transaction; returns how
    /// many. Report reads do this first for whatever is still marked.
    async fn refresh_pending_facts(&self, limit: u32) -> StorageResult<u64>;
}
