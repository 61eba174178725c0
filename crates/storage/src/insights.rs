//! Insights: the facts row of each conversation and the daily rollups
//! that add them up, kept current by every write that changes the
//! conversation or adds a message to it (in the same transaction),
//! recomputed by a rebuild, and read back for reports.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::insights::{ConversationFacts, Dimension, InsightRow, RollupRow};
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
    /// Daily rollup rows of `query.by` (all conversations when `None`) for
    /// the days of the range; with `before`, also one row per value with
    /// the opened-minus-resolved count of every earlier day (as `opened`,
    /// on the day before the range) where it is not zero, for the backlog.
    async fn rollup_rows(&self, account: AccountId, query: InsightQuery, before: bool)
    -> StorageResult<Vec<RollupRow>>;
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
    /// Deletes every facts row and rollup of the account; returns how
    /// many facts rows.
    async fn clear_facts(&self, account: AccountId) -> StorageResult<u64>;
    /// Accounts whose rollups still need a rebuild (facts written before
    /// the rollups existed).
    async fn accounts_pending_rollups(&self) -> StorageResult<Vec<AccountId>>;
    /// Clears that mark once the account is rebuilt.
    async fn rollups_built(&self, account: AccountId, now: DateTime<Utc>) -> StorageResult<()>;
    /// Every account's id (for rebuilding them all).
    async fn account_ids(&self) -> StorageResult<Vec<AccountId>>;
    /// Recomputes the facts of up to `limit` conversations marked by
    /// writes since their last refresh, in one transaction; returns how
    /// many. Report reads do this first for whatever is still marked.
    async fn refresh_pending_facts(&self, limit: u32) -> StorageResult<u64>;
}
