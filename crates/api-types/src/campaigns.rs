//! Campaigns: one message to a saved segment, at a controlled rate, with
//! a hold-out group; their preview, figures and send log.

use crate::AudienceGroup;
use chrono::{DateTime, Utc};
use ferry_core::campaign::{CampaignDefinition, CampaignState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A campaign.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignView {
    /// Its id.
    pub id: i64,
    /// Where it is.
    pub state: CampaignState,
    /// What it sends, to whom and how fast.
    pub definition: CampaignDefinition,
    /// Its segment, while the segment exists.
    pub segment_id: Option<i64>,
    /// Recipients decided so far.
    pub planned: u64,
    /// Every contact of the segment is decided.
    pub planning_done: bool,
    /// When it started sending.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished or was cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One language of a preview.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignLanguageView {
    /// The language (`null`: unknown; they get the account's).
    pub language: Option<String>,
    /// Contacts.
    pub contacts: u64,
    /// The text they get.
    pub text: String,
}

/// Who a campaign would reach, before it goes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignPreviewView {
    /// Contacts in the segment.
    pub audience: u64,
    /// About how many the hold-out group keeps out.
    pub held_out: u64,
    /// Per language: contacts and the text they get.
    pub languages: Vec<CampaignLanguageView>,
    /// Per kind of address (a contact with several counts in each).
    pub by_channel: Vec<AudienceGroup>,
    /// About how long sending takes at the campaign's rate.
    pub duration_seconds: u64,
}

/// How a campaign fared so far.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignStatsView {
    /// Recipients decided so far.
    pub planned: u64,
    /// Sent.
    pub sent: u64,
    /// Of those, delivered (or read) as far as the channel reports.
    pub delivered: u64,
    /// Of those, read.
    pub read: u64,
    /// Of those, answered by the buyer.
    pub replied: u64,
    /// Waiting for their turn (the rate, or the buyer's quiet hours).
    pub scheduled: u64,
    /// Kept out on purpose (the hold-out group).
    pub held_out: u64,
    /// Failed, by reason.
    pub failed: BTreeMap<String, u64>,
    /// Skipped, by reason (`opted_out`, `no_consent`, `amazon_buyer`,
    /// `frequency_cap`, `window_closed`, `cancelled`…).
    pub skipped: BTreeMap<String, u64>,
}
