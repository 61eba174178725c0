//! Journeys and their enrolments: each buyer's place in a journey, moved
//! on by a job at its next moment. Sends are rows of the notice send log
//! (with `journey_id`), so each step sends once and the figures come from
//! one log.

use crate::error::StorageResult;
use crate::notices::NoticeTally;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, ContactId, UserId};

/// A stored journey.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredJourney {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The journey (a `ferry_core::journey::Journey`).
    pub definition: serde_json::Value,
    /// `draft`, `active` or `paused`.
    pub state: String,
    /// The shop event that enrols buyers (`delivered`…), if one does.
    pub trigger_event: Option<String>,
    /// Who wrote it.
    pub created_by: Option<UserId>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A journey to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJourney {
    /// Its name.
    pub name: String,
    /// The journey.
    pub definition: serde_json::Value,
    /// The shop event that enrols buyers.
    pub trigger_event: Option<String>,
}

/// One buyer's place in a journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyEnrolment {
    /// Its id.
    pub id: i64,
    /// The journey.
    pub journey_id: i64,
    /// The buyer.
    pub contact_id: ContactId,
    /// What enrolled them (once per key: `delivered:3:77101`, `manual:12`).
    pub entry_key: String,
    /// The order the event was about.
    pub order_id: Option<i64>,
    /// The step they are at; the number of steps when done.
    pub step: usize,
    /// When their current step is over.
    pub until: Option<DateTime<Utc>>,
    /// They left the journey.
    pub done: bool,
    /// They wait at a step for their reply.
    pub awaiting_reply: bool,
    /// How they left (`finished`, `handed_off`, `opted_out`).
    pub outcome: Option<String>,
    /// When they entered.
    pub entered_at: DateTime<Utc>,
    /// When they last moved.
    pub updated_at: DateTime<Utc>,
}

/// Where an enrolment moved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentMove {
    /// The step.
    pub step: usize,
    /// When that step is over.
    pub until: Option<DateTime<Utc>>,
    /// They left.
    pub done: bool,
    /// They wait for their reply.
    pub awaiting_reply: bool,
    /// How they left.
    pub outcome: Option<String>,
}

/// How many buyers are where in a journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCount {
    /// The step.
    pub step: usize,
    /// Left the journey.
    pub done: bool,
    /// How they left.
    pub outcome: Option<String>,
    /// How many.
    pub count: u64,
}

/// Journeys and enrolments.
#[async_trait]
pub trait JourneyRepo {
    /// Stores a draft.
    async fn create_journey(
        &self,
        account: AccountId,
        new: NewJourney,
        created_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StorageResult<StoredJourney>;
    /// The account's journeys, newest first.
    async fn list_journeys(&self, account: AccountId) -> StorageResult<Vec<StoredJourney>>;
    /// One journey.
    async fn get_journey(&self, account: AccountId, id: i64) -> StorageResult<Option<StoredJourney>>;
    /// Rewrites a journey that is not active; `None` when it is (or gone).
    async fn update_journey(
        &self,
        account: AccountId,
        id: i64,
        new: NewJourney,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<StoredJourney>>;
    /// Sets its state; `None` when gone.
    async fn set_journey_state(
        &self,
        account: AccountId,
        id: i64,
        state: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<StoredJourney>>;
    /// Deletes it with its enrolments and sends; false when there was none.
    async fn delete_journey(&self, account: AccountId, id: i64) -> StorageResult<bool>;
    /// The active journeys a shop event enrols into.
    async fn journeys_for_event(&self, account: AccountId, event: &str) -> StorageResult<Vec<StoredJourney>>;
    /// Enrols a buyer once per `entry_key`: `None` when that key was
    /// enrolled before; `NotFound` when the contact is not the account's.
    async fn enrol(
        &self,
        account: AccountId,
        journey: i64,
        contact: ContactId,
        entry_key: &str,
        order_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<JourneyEnrolment>>;
    /// One enrolment.
    async fn get_enrolment(&self, account: AccountId, id: i64) -> StorageResult<Option<JourneyEnrolment>>;
    /// Records where an enrolment moved.
    async fn move_enrolment(
        &self,
        account: AccountId,
        id: i64,
        to: EnrolmentMove,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// The enrolments of a buyer waiting for their reply.
    async fn enrolments_awaiting_reply(&self, account: AccountId, contact: ContactId) -> StorageResult<Vec<i64>>;
    /// A journey's enrolments still in it, with their next moment (at most 10,000).
    async fn enrolments_in(&self, account: AccountId, journey: i64)
    -> StorageResult<Vec<(i64, Option<DateTime<Utc>>)>>;
    /// A journey's latest enrolments, newest first.
    async fn list_enrolments(
        &self,
        account: AccountId,
        journey: i64,
        limit: u32,
    ) -> StorageResult<Vec<JourneyEnrolment>>;
    /// How many buyers are at each step, and how those who left left.
    async fn enrolment_counts(&self, account: AccountId, journey: i64) -> StorageResult<Vec<EnrolmentCount>>;
    /// The send of the log with this key.
    async fn notice_send_by_key(&self, account: AccountId, key: &str) -> StorageResult<Option<crate::NoticeSend>>;
    /// How a journey's sends fared.
    async fn journey_tallies(&self, account: AccountId, journey: i64) -> StorageResult<Vec<NoticeTally>>;
}
