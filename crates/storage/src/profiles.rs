//! Contact profiles and saved segments. A profile is rewritten in the same
//! write as whatever it is derived from (a contact edit, a conversation's
//! facts, a survey answer, an order synced from the shop), so a filter
//! never reads a stale VIP flag or topic; a rebuild recomputes them all.
//! Segment filters are evaluated in SQL.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::Contact;
use ferry_core::profile::{ContactProfile, VipRules};
use ferry_core::segment::SegmentFilter;
use ferry_core::{AccountId, ContactId};
use std::collections::HashMap;

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Id.
    pub id: i64,
    /// Name, unique in the account.
    pub name: String,
    /// Who belongs to it.
    pub filter: SegmentFilter,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// How many contacts a filter matches, split by language and by channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceSize {
    /// Contacts matched.
    pub total: u64,
    /// Per language (`None`: unknown), most first.
    pub by_language: Vec<(Option<String>, u64)>,
    /// Per identity kind the contacts can be reached on, most first (a
    /// contact with several kinds counts in each).
    pub by_channel: Vec<(String, u64)>,
}

/// Profiles and segments.
#[async_trait]
pub trait ProfileRepo {
    /// The account's VIP thresholds.
    async fn vip_rules(&self, account: AccountId) -> StorageResult<VipRules>;
    /// Sets them; the profiles follow at once (in the same write).
    async fn set_vip_rules(&self, account: AccountId, rules: VipRules, now: DateTime<Utc>) -> StorageResult<()>;
    /// The profiles of these contacts (those that have one).
    async fn contact_profiles(
        &self,
        account: AccountId,
        ids: Vec<ContactId>,
    ) -> StorageResult<HashMap<ContactId, ContactProfile>>;
    /// Up to `limit` contact ids of the account above `after`, ascending.
    async fn contact_ids(
        &self,
        account: AccountId,
        after: Option<ContactId>,
        limit: u32,
    ) -> StorageResult<Vec<ContactId>>;
    /// Recomputes these contacts' profiles (and the SKU lines of the
    /// account's orders when `lines` is set), in one transaction.
    async fn refresh_profiles(&self, account: AccountId, ids: Vec<ContactId>, now: DateTime<Utc>) -> StorageResult<()>;
    /// Rewrites the SKU lines and totals of the account's orders from
    /// their documents; returns how many orders.
    async fn rebuild_order_lines(&self, account: AccountId) -> StorageResult<u64>;
    /// Contacts matching a filter, newest first, below `before`.
    async fn filter_contacts(
        &self,
        account: AccountId,
        filter: SegmentFilter,
        q: Option<String>,
        before: Option<ContactId>,
        limit: u32,
    ) -> StorageResult<Vec<Contact>>;
    /// How many contacts a filter matches.
    async fn audience_size(&self, account: AccountId, filter: SegmentFilter) -> StorageResult<AudienceSize>;
    /// Saves a segment; a name in use is `Conflict { constraint: "segments_name" }`.
    async fn create_segment(
        &self,
        account: AccountId,
        name: String,
        filter: SegmentFilter,
        now: DateTime<Utc>,
    ) -> StorageResult<Segment>;
    /// The account's segments by name.
    async fn list_segments(&self, account: AccountId) -> StorageResult<Vec<Segment>>;
    /// One segment.
    async fn get_segment(&self, account: AccountId, id: i64) -> StorageResult<Option<Segment>>;
    /// Renames and/or refilters a segment.
    async fn update_segment(
        &self,
        account: AccountId,
        id: i64,
        name: Option<String>,
        filter: Option<SegmentFilter>,
        now: DateTime<Utc>,
    ) -> StorageResult<Segment>;
    /// Deletes a segment (`NotFound` when there is none).
    async fn delete_segment(&self, account: AccountId, id: i64) -> StorageResult<()>;
}
