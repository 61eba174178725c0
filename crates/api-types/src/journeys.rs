//! Journeys: a short sequence of steps buyers go through, their test run,
//! enrolments and figures.

use crate::NoticeStatsView;
use chrono::{DateTime, Utc};
use ferry_core::journey::Journey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A journey.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JourneyView {
    /// Its id.
    pub id: i64,
    /// `draft`, `active` or `paused`.
    pub state: String,
    /// Its trigger and steps.
    pub journey: Journey,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Buyers to enrol: these contacts, or every buyer of a saved segment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequestView {
    /// Contacts (at most 1,000).
    #[serde(default)]
    pub contact_ids: Vec<i64>,
    /// A saved segment (at most 10,000 of its buyers).
    #[serde(default)]
    pub segment_id: Option<i64>,
}

/// What an enrolment request did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolOutcomeView {
    /// Buyers newly enrolled.
    pub enrolled: u64,
    /// Buyers already in (or through) the journey.
    pub already: u64,
}

/// A test run against one buyer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneyTestRequest {
    /// The buyer.
    pub contact_id: i64,
}

/// One line of a test run: what would happen when.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TestRunLineView {
    /// When.
    pub at: DateTime<Utc>,
    /// The step (1-based), for sends and skips.
    pub step: Option<usize>,
    /// `send`, `skip`, `tag` or `hand_off`.
    pub action: String,
    /// The channel a send goes on.
    pub channel: Option<String>,
    /// The language it is in.
    pub language: Option<String>,
    /// The WhatsApp template it goes as, with its language code.
    pub template: Option<String>,
    /// The text (sends), the tag, the hand-off reason, or why nothing is sent.
    pub detail: String,
}

/// How many buyers wait at a step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepCountView {
    /// The step (0-based).
    pub step: usize,
    /// Buyers there now.
    pub count: u64,
}

/// How many buyers left one way.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutcomeCountView {
    /// `finished`, `handed_off` or `opted_out`.
    pub outcome: String,
    /// Buyers.
    pub count: u64,
}

/// How a journey fares.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JourneyStatsView {
    /// Buyers ever enrolled.
    pub enrolled: u64,
    /// Buyers in it now, by step.
    pub at_step: Vec<StepCountView>,
    /// Buyers who left, by how.
    pub left: Vec<OutcomeCountView>,
    /// Its sends: sent, delivered, read, replied, failed and skipped by reason.
    pub sends: NoticeStatsView,
}

/// One buyer's place in a journey.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentView {
    /// Its id.
    pub id: i64,
    /// The buyer.
    pub contact_id: i64,
    /// What enrolled them.
    pub entry_key: String,
    /// The step they are at (0-based; the number of steps when done).
    pub step: usize,
    /// When their current step is over.
    pub until: Option<DateTime<Utc>>,
    /// They left the journey.
    pub done: bool,
    /// How they left.
    pub outcome: Option<String>,
    /// When they entered.
    pub entered_at: DateTime<Utc>,
}
