//! Campaigns: a message to a saved segment, planned recipient by recipient
//! into the notice send log (one row per buyer, keyed so that a resumed
//! campaign plans nobody twice) and sent from there at its rate.

use crate::error::StorageResult;
use crate::notices::{NewNoticeSend, NoticeSend, NoticeTally};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, ContactId, UserId};

/// A stored campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its segment, while the segment exists.
    pub segment_id: Option<i64>,
    /// What it sends (a `ferry_core::campaign::CampaignDefinition`).
    pub definition: serde_json::Value,
    /// `draft`, `scheduled`, `running`, `paused`, `done` or `cancelled`.
    pub state: String,
    /// When it starts (or started).
    pub send_at: Option<DateTime<Utc>>,
    /// The last contact planned (contacts are planned in id order).
    pub cursor: Option<ContactId>,
    /// Recipients planned so far (sent, scheduled, skipped or held out).
    pub planned: u64,
    /// Every contact of the segment is planned.
    pub planning_done: bool,
    /// Who wrote it.
    pub created_by: Option<UserId>,
    /// When it started sending.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished or was cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// How far it has used its rate.
    pub ticked_at: Option<DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A campaign to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    /// Its name.
    pub name: String,
    /// Its segment.
    pub segment_id: i64,
    /// What it sends.
    pub definition: serde_json::Value,
    /// When it starts.
    pub send_at: Option<DateTime<Utc>>,
}

/// Campaigns and their sends.
#[async_trait]
pub trait CampaignRepo {
    /// Stores a draft; `NotFound` when the segment is not the account's.
    async fn create_campaign(
        &self,
        account: AccountId,
        new: NewCampaign,
        created_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StorageResult<Campaign>;
    /// The account's campaigns, newest first.
    async fn list_campaigns(&self, account: AccountId) -> StorageResult<Vec<Campaign>>;
    /// One campaign.
    async fn get_campaign(&self, account: AccountId, id: i64) -> StorageResult<Option<Campaign>>;
    /// Rewrites a draft; `None` when it is not a draft (or gone);
    /// `NotFound` when the segment is not the account's.
    async fn update_campaign(
        &self,
        account: AccountId,
        id: i64,
        new: NewCampaign,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Campaign>>;
    /// Deletes a campaign that is not sending (with its log); false when
    /// it is gone or sending.
    async fn delete_campaign(&self, account: AccountId, id: i64) -> StorageResult<bool>;
    /// Moves a campaign from one of `from` to `to` (stamping its start or
    /// end); `None` when it was in none of them.
    async fn set_campaign_state(
        &self,
        account: AccountId,
        id: i64,
        from: &[&str],
        to: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Campaign>>;
    /// Records the recipients of one planned page: each send once per key,
    /// a marketing one turned into a `frequency_cap` skip when the buyer
    /// already has `cap.0` marketing sends due within the 7 days before
    /// it; then moves the cursor to `cursor` (and marks planning done).
    /// All in one transaction. Returns the rows written.
    #[allow(clippy::too_many_arguments)]
    async fn plan_campaign_page(
        &self,
        account: AccountId,
        campaign: i64,
        sends: Vec<NewNoticeSend>,
        cap: Option<u32>,
        cursor: Option<ContactId>,
        done: bool,
        now: DateTime<Utc>,
    ) -> StorageResult<u64>;
    /// Up to `limit` contacts of a segment's filter after `after`, in id
    /// order (the pages a campaign plans).
    async fn segment_page(
        &self,
        account: AccountId,
        filter: ferry_core::segment::SegmentFilter,
        after: Option<ContactId>,
        limit: u32,
    ) -> StorageResult<Vec<ferry_core::contact::Contact>>;
    /// A campaign's scheduled sends due by `now`, earliest first.
    async fn due_campaign_sends(
        &self,
        account: AccountId,
        campaign: i64,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<NoticeSend>>;
    /// Records how far a campaign has used its rate.
    async fn campaign_ticked(&self, account: AccountId, campaign: i64, ticked_at: DateTime<Utc>) -> StorageResult<()>;
    /// A campaign's sends, newest first, before `before`.
    async fn list_campaign_sends(
        &self,
        account: AccountId,
        campaign: i64,
        before: Option<i64>,
        limit: u32,
    ) -> StorageResult<Vec<NoticeSend>>;
    /// When a campaign's next scheduled send is due.
    async fn next_campaign_due(&self, account: AccountId, campaign: i64) -> StorageResult<Option<DateTime<Utc>>>;
    /// How a campaign's sends fared, by state and reason.
    async fn campaign_tallies(&self, account: AccountId, campaign: i64) -> StorageResult<Vec<NoticeTally>>;
    /// Marks a cancelled campaign's scheduled sends skipped.
    async fn cancel_campaign_sends(&self, account: AccountId, campaign: i64, now: DateTime<Utc>) -> StorageResult<u64>;
    /// The marketing send a message is, if it is one: its buyer.
    async fn marketing_send_of(
        &self,
        account: AccountId,
        message: ferry_core::MessageId,
    ) -> StorageResult<Option<ContactId>>;
    /// Keeps an unsubscribe link's token (as its hash) for a buyer and
    /// channel.
    async fn create_unsubscribe_link(
        &self,
        account: AccountId,
        contact: ContactId,
        channel: &str,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// The account, buyer and channel of a link's token, marking it used.
    async fn use_unsubscribe_link(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<(AccountId, ContactId, String)>>;
    /// Marketing sends due or sent to a buyer from `since` on.
    async fn marketing_sends_since(
        &self,
        account: AccountId,
        contact: ContactId,
        since: DateTime<Utc>,
    ) -> StorageResult<u32>;
}
