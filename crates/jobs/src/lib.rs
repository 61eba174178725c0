//! Background jobs: the kinds Ferry runs, retry with exponential back-off,
//! and the worker that claims due jobs from the store and runs them.
//!
//! Jobs are rows (see `JobRepo`), enqueued in the same transaction as the
//! write that needs them. A claim is a lease: a worker that dies mid-job
//! leaves it to be claimed again when the lease ends, so handlers must be
//! idempotent. Tests call [`Worker::drain`] instead of waiting.

use async_trait::async_trait;
use chrono::Duration;
use chrono::{DateTime, Utc};
use ferry_core::clock::Clock;
use ferry_core::{AccountId, ContactId, ConversationId, MessageId, WebhookDeliveryId};
use ferry_storage::{Job, NewJob, Storage, StorageResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Notify;

/// What a job does, with its arguments. Stored as the job's `kind` column
/// (the variant's snake_case name) and its JSON `payload` (the fields), so
/// rows written before this type existed read back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum JobKind {
    /// Delivers an outgoing message to its channel.
    DeliverMessage {
        /// The message.
        message_id: MessageId,
    },
    /// Lets the bot handle a buyer's message; enqueued by intake while the
    /// bot holds the conversation.
    BotReply {
        /// The conversation.
        conversation_id: ConversationId,
        /// The buyer's message.
        message_id: MessageId,
    },
    /// Sends the satisfaction survey of a resolved conversation; enqueued
    /// with the resolution.
    SendSurvey {
        /// The conversation.
        conversation_id: ConversationId,
    },
    /// Erases a buyer's personal data (asked for by an owner or admin).
    EraseContact {
        /// The contact.
        contact_id: ContactId,
    },
    /// Sends one event to an account's outgoing webhook; queued by the
    /// webhook feed with its delivery row.
    DeliverWebhook {
        /// The delivery.
        delivery_id: WebhookDeliveryId,
    },
    /// Sends a proactive notice decided earlier (due now: after its delay
    /// and the buyer's quiet hours).
    SendNotice {
        /// The notice's row in the send log.
        notice_id: i64,
    },
    /// Plans and sends a launched campaign, a tick at a time (it runs
    /// again until the campaign is done, paused or cancelled).
    RunCampaign {
        /// The campaign.
        campaign_id: i64,
    },
    /// Decides a launched campaign's segment into its send log, page by
    /// page, beside the job that sends at the rate.
    PlanCampaign {
        /// The campaign.
        campaign_id: i64,
    },
    /// Moves a buyer on in a journey (at their next moment, or when they
    /// reply while a step waits for it).
    AdvanceJourney {
        /// The enrolment.
        enrolment_id: i64,
    },
}

/// A stored job that is not a [`JobKind`]: an unknown kind or a payload
/// without the fields its kind needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed `{kind}` job: {reason}")]
pub struct MalformedJob {
    /// The stored kind.
    pub kind: String,
    /// What is wrong.
    pub reason: String,
}

impl JobKind {
    /// Stored kind of [`JobKind::DeliverMessage`].
    pub const DELIVER_MESSAGE: &'static str = "deliver_message";
    /// Stored kind of [`JobKind::BotReply`] (intake enqueues it by name).
    pub const BOT_REPLY: &'static str = "bot_reply";
    /// Stored kind of [`JobKind::SendSurvey`].
    pub const SEND_SURVEY: &'static str = "send_survey";
    /// Stored kind of [`JobKind::EraseContact`].
    pub const ERASE_CONTACT: &'static str = "erase_contact";
    /// Stored kind of [`JobKind::DeliverWebhook`] (the store queues it by
    /// name with its delivery).
    pub const DELIVER_WEBHOOK: &'static str = "deliver_webhook";
    /// Stored kind of [`JobKind::SendNotice`].
    pub const SEND_NOTICE: &'static str = "send_notice";
    /// Stored kind of [`JobKind::RunCampaign`].
    pub const RUN_CAMPAIGN: &'static str = "run_campaign";
    /// Stored kind of [`JobKind::PlanCampaign`].
    pub const PLAN_CAMPAIGN: &'static str = "plan_campaign";
    /// Stored kind of [`JobKind::AdvanceJourney`].
    pub const ADVANCE_JOURNEY: &'static str = "advance_journey";
    /// Attempts of a webhook delivery: with the default back-off, about
    /// seven hours of retries.
    pub const WEBHOOK_ATTEMPTS: u32 = 15;

    /// The stored kind.
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::DeliverMessage { .. } => Self::DELIVER_MESSAGE,
            JobKind::BotReply { .. } => Self::BOT_REPLY,
            JobKind::SendSurvey { .. } => Self::SEND_SURVEY,
            JobKind::EraseContact { .. } => Self::ERASE_CONTACT,
            JobKind::DeliverWebhook { .. } => Self::DELIVER_WEBHOOK,
            JobKind::SendNotice { .. } => Self::SEND_NOTICE,
            JobKind::RunCampaign { .. } => Self::RUN_CAMPAIGN,
            JobKind::AdvanceJourney { .. } => Self::ADVANCE_JOURNEY,
            JobKind::PlanCampaign { .. } => Self::PLAN_CAMPAIGN,
        }
    }

    /// Attempts before giving up.
    pub fn max_attempts(&self) -> u32 {
        match self {
            JobKind::DeliverMessage { .. } => 8,
            JobKind::BotReply { .. } => 5,
            JobKind::SendSurvey { .. } => 5,
            JobKind::EraseContact { .. } => 10,
            JobKind::DeliverWebhook { .. } => Self::WEBHOOK_ATTEMPTS,
            JobKind::SendNotice { .. } => 5,
            JobKind::RunCampaign { .. } => 10,
            JobKind::AdvanceJourney { .. } => 8,
            JobKind::PlanCampaign { .. } => 10,
        }
    }

    /// The job as a row to enqueue for `account`, due at `run_at`.
    pub fn new_job(&self, account: AccountId, run_at: DateTime<Utc>) -> NewJob {
        let payload = match self {
            JobKind::DeliverMessage { message_id } => json!({ "message_id": message_id }),
            JobKind::BotReply { conversation_id, message_id } => {
                json!({ "message_id": message_id, "conversation_id": conversation_id })
            }
            JobKind::SendSurvey { conversation_id } => json!({ "conversation_id": conversation_id }),
            JobKind::EraseContact { contact_id } => json!({ "contact_id": contact_id }),
            JobKind::DeliverWebhook { delivery_id } => json!({ "delivery_id": delivery_id }),
            JobKind::SendNotice { notice_id } => json!({ "notice_id": notice_id }),
            JobKind::RunCampaign { campaign_id } => json!({ "campaign_id": campaign_id }),
            JobKind::AdvanceJourney { enrolment_id } => json!({ "enrolment_id": enrolment_id }),
            JobKind::PlanCampaign { campaign_id } => json!({ "campaign_id": campaign_id }),
        };
        let lane = match self {
            JobKind::DeliverMessage { .. } => None,
            JobKind::BotReply { conversation_id, .. } => Some(format!("bot:{conversation_id}")),
            // After the conversation's other deliveries.
            JobKind::SendSurvey { conversation_id } => Some(format!("deliver:{conversation_id}")),
            JobKind::EraseContact { contact_id } => Some(format!("erase:{contact_id}")),
            JobKind::DeliverWebhook { .. } => None,
            JobKind::SendNotice { .. } => None,
            // One run of a campaign at a time.
            JobKind::RunCampaign { campaign_id } => Some(format!("campaign:{campaign_id}")),
            // One move of a buyer at a time.
            JobKind::AdvanceJourney { enrolment_id } => Some(format!("journey:{enrolment_id}")),
            // One planner of a campaign at a time.
            JobKind::PlanCampaign { campaign_id } => Some(format!("campaign-plan:{campaign_id}")),
        };
        NewJob {
            account_id: account,
            kind: self.name().to_owned(),
            payload,
            run_at,
            max_attempts: self.max_attempts(),
            lane,
        }
    }

    /// Reads a stored job's kind and payload.
    pub fn parse(kind: &str, payload: &serde_json::Value) -> Result<Self, MalformedJob> {
        let malformed = |reason: String| MalformedJob { kind: kind.to_owned(), reason };
        let known = [
            Self::DELIVER_MESSAGE,
            Self::BOT_REPLY,
            Self::SEND_SURVEY,
            Self::ERASE_CONTACT,
            Self::DELIVER_WEBHOOK,
            Self::SEND_NOTICE,
            Self::RUN_CAMPAIGN,
            Self::ADVANCE_JOURNEY,
            Self::PLAN_CAMPAIGN,
        ];
        if !known.contains(&kind) {
            return Err(malformed("unknown job kind".to_owned()));
        }
        serde_json::from_value(json!({ "kind": kind, "payload": payload })).map_err(|e| malformed(e.to_string()))
    }

    /// Reads a claimed job.
    pub fn of(job: &Job) -> Result<Self, MalformedJob> {
        Self::parse(&job.kind, &job.payload)
    }
}

/// How a handler reports a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (timeouts, 5xx, rate limits).
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help (bad request, deleted target).
    #[error("{0}")]
    Permanent(String),
    /// Not done yet, and not a failure: run again after `after` without
    /// counting this attempt (a channel asked to slow down, a send whose
    /// outcome is still being reconciled).
    #[error("{reason}")]
    Later {
        /// Why, kept on the job.
        reason: String,
        /// How long to wait.
        after: std::time::Duration,
    },
}

/// Runs jobs. The worker reads each claimed job's [`JobKind`] first; a job
/// that is none fails at once without reaching the handler.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Runs one attempt of `job`, which is a `kind`.
    async fn handle(&self, job: &Job, kind: &JobKind) -> Result<(), JobError>;
    /// Called once when a job is given up, to record the failure where
    /// users see it (e.g. the message's delivery status).
    async fn gave_up(&self, job: &Job, kind: &JobKind, error: &str);
}

/// Exponential back-off between attempts.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Delay after the first failure.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::seconds(5), max: Duration::hours(1) }
    }
}

impl Backoff {
    /// Delay after attempt number `attempt` (1-based) failed: base·2^(n−1),
    /// capped, plus up to 25 % jitter derived from the job id and the
    /// attempt, so retries of many jobs failed together spread out.
    pub fn delay(&self, attempt: u32, spread_seed: i64) -> Duration {
        let factor = 1i64 << attempt.saturating_sub(1).min(20);
        let d = self.base.num_milliseconds().saturating_mul(factor).min(self.max.num_milliseconds());
        // A multiplicative hash, so neighbouring ids do not get neighbouring
        // delays.
        let mixed = (spread_seed as u64 ^ u64::from(attempt).rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let spread = ((mixed >> 40) % 251) as i64 * d / 1000;
        Duration::milliseconds(d + spread)
    }
}

/// Claims and runs jobs, several at a time: jobs of one lane are never
/// claimed together (the store hands out only a lane's oldest pending
/// job), so the deliveries to one buyer keep their order while different
/// buyers are served side by side.
pub struct Worker {
    storage: Arc<dyn Storage>,
    handler: Arc<dyn JobHandler>,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    lease: Duration,
    concurrency: usize,
    wake: Arc<Notify>,
}

impl Worker {
    /// A worker over `storage` running jobs with `handler`.
    pub fn new(storage: Arc<dyn Storage>, handler: Arc<dyn JobHandler>, clock: Arc<dyn Clock>) -> Self {
        Self {
            storage,
            handler,
            clock,
            backoff: Backoff::default(),
            lease: Duration::minutes(2),
            concurrency: 16,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Uses another back-off.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long a claim holds a job: a worker that dies mid-job leaves it
    /// to others when the lease ends.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many jobs run at once (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Wakes early when `wake` is notified (after a job is enqueued).
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// Claims due jobs once and runs them side by side; returns how many
    /// ran.
    pub async fn run_once(&self) -> StorageResult<usize> {
        let now = self.clock.now();
        let limit = u32::try_from(self.concurrency).unwrap_or(u32::MAX);
        let jobs = self.storage.claim_jobs(now, self.lease, limit).await?;
        let n = jobs.len();
        let results = futures::future::join_all(jobs.into_iter().map(|job| self.run_job(job))).await;
        results.into_iter().collect::<StorageResult<Vec<()>>>()?;
        Ok(n)
    }

    async fn run_job(&self, job: Job) -> StorageResult<()> {
        match JobKind::of(&job) {
            Ok(kind) => {
                let outcome = self.handler.handle(&job, &kind).await;
                self.record(&job, &kind, outcome).await
            }
            Err(e) => {
                // Retrying cannot make a stored job readable.
                tracing::error!(job_id = %job.id, kind = %job.kind, error = %e, "job cannot be read");
                self.storage.fail_job(job.id, &e.to_string(), self.clock.now()).await
            }
        }
    }

    async fn record(&self, job: &Job, kind: &JobKind, outcome: Result<(), JobError>) -> StorageResult<()> {
        let now = self.clock.now();
        match outcome {
            Ok(()) => self.storage.complete_job(job.id, now).await,
            Err(JobError::Later { reason, after }) => {
                tracing::debug!(job_id = %job.id, kind = %job.kind, reason = %reason, "job postponed");
                let after = Duration::from_std(after).unwrap_or(Duration::hours(1));
                self.storage.postpone_job(job.id, now + after, &reason).await
            }
            Err(JobError::Retry(e)) if job.attempts < job.max_attempts => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed, will retry");
                let at = now + self.backoff.delay(job.attempts, job.id.0);
                self.storage.retry_job(job.id, at, &e).await
            }
            Err(JobError::Retry(e) | JobError::Permanent(e)) => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job gave up");
                self.handler.gave_up(job, kind, &e).await;
                self.storage.fail_job(job.id, &e, now).await
            }
        }
    }

    /// Runs until no job is due now (for tests and the CLI).
    pub async fn drain(&self) -> StorageResult<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs forever, keeping up to the worker's concurrency of jobs in
    /// flight: claims whenever a slot is free, and otherwise waits for a
    /// job to finish, a wake-up or `poll`.
    pub async fn run(self: Arc<Self>, poll: std::time::Duration) {
        let mut running = tokio::task::JoinSet::new();
        loop {
            let free = self.concurrency.saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 {
                let limit = u32::try_from(free).unwrap_or(u32::MAX);
                match self.storage.claim_jobs(self.clock.now(), self.lease, limit).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let worker = self.clone();
                            running.spawn(async move {
                                if let Err(e) = worker.run_job(job).await {
                                    tracing::error!(error = %e, "could not record a job's outcome");
                                }
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "claiming jobs failed"),
                }
            }
            if claimed > 0 && running.len() < self.concurrency {
                continue;
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kinds_keep_the_stored_row_format() {
        let at = chrono::DateTime::<Utc>::UNIX_EPOCH;
        let deliver = JobKind::DeliverMessage { message_id: MessageId(7) };
        let row = deliver.new_job(AccountId(1), at);
        assert_eq!(
            (row.kind.as_str(), &row.payload, row.max_attempts),
            ("deliver_message", &json!({"message_id": 7}), 8)
        );
        assert_eq!(JobKind::parse(&row.kind, &row.payload), Ok(deliver));
        let bot = JobKind::BotReply { conversation_id: ConversationId(3), message_id: MessageId(9) };
        let row = bot.new_job(AccountId(1), at);
        assert_eq!((row.kind.as_str(), row.max_attempts), ("bot_reply", 5));
        assert_eq!(row.payload, json!({"message_id": 9, "conversation_id": 3}));
        assert_eq!(JobKind::parse(&row.kind, &row.payload), Ok(bot));
    }

    #[test]
    fn intake_enqueues_bot_jobs_that_parse() {
        // Intake builds its bot job inside the store, by name.
        let at = chrono::DateTime::<Utc>::UNIX_EPOCH;
        let options = ferry_storage::IntakeOptions {
            bot_enabled: true,
            reopen_window: Duration::days(7),
            now: at,
            bot_job: Some(JobKind::BOT_REPLY),
            threading: ferry_storage::Threading::Latest,
            automatic: false,
        };
        let conv = ferry_core::conversation::Conversation::opened_by_buyer(
            AccountId(1),
            ferry_core::InboxId(1),
            ferry_core::ContactId(1),
            true,
            at,
            at,
        );
        let conv = ferry_core::conversation::Conversation { id: ConversationId(4), ..conv };
        let message = ferry_core::message::Message {
            id: MessageId(11),
            account_id: AccountId(1),
            inbox_id: ferry_core::InboxId(1),
            conversation_id: conv.id,
            kind: ferry_core::message::MessageKind::Incoming,
            sender: ferry_core::message::Sender::Contact(ferry_core::ContactId(1)),
            parts: Vec::new(),
            external_id: None,
            delivery: None,
            sent_at: at,
            created_at: at,
            meta: Default::default(),
        };
        let job = options.bot_job_for(&message, &conv).unwrap();
        let expected = JobKind::BotReply { conversation_id: ConversationId(4), message_id: MessageId(11) };
        assert_eq!(JobKind::parse(&job.kind, &job.payload), Ok(expected.clone()));
        assert_eq!(job, expected.new_job(AccountId(1), at));
    }

    #[test]
    fn unknown_and_malformed_jobs_are_refused_clearly() {
        let e = JobKind::parse("reindex", &json!({})).unwrap_err();
        assert_eq!(e.to_string(), "malformed `reindex` job: unknown job kind");
        let e = JobKind::parse("deliver_message", &json!({"id": 1})).unwrap_err();
        assert!(e.to_string().contains("message_id"), "{e}");
        let e = JobKind::parse("bot_reply", &json!({"message_id": 1})).unwrap_err();
        assert!(e.to_string().contains("conversation_id"), "{e}");
        // Extra fields in old rows are ignored.
        assert!(JobKind::parse("deliver_message", &json!({"message_id": 1, "conversation_id": 2})).is_ok());
    }

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff { base: Duration::seconds(5), max: Duration::minutes(1) };
        let within = |d: Duration, base: i64| d >= Duration::seconds(base) && d <= Duration::milliseconds(base * 1250);
        assert!(within(b.delay(1, 3), 5));
        assert!(within(b.delay(2, 3), 10));
        assert!(within(b.delay(3, 3), 20));
        assert!(within(b.delay(10, 3), 60));
        let spread: std::collections::HashSet<_> = (0..50).map(|id| b.delay(2, id)).collect();
        assert!(spread.len() > 25, "retries of jobs failed together spread out");
        assert!((0..50).all(|id| b.delay(2, id) >= Duration::seconds(10)));
        assert!((0..50).all(|id| b.delay(40, id) <= Duration::seconds(75)));
    }
}
