//! Background jobs: the kinds Ferry runs, retry with exponential back-off,
//! and the worker that claims due jobs from the store and runs them.
//!
//! Jobs are rows (see `JobRepo`), enqueued in the same transaction as the
//! write that needs them. A claim is a lease: a worker that dies mid-job
//! leaves it to be claimed again when the lease ends, so handlers must be
//! idempotent. Tests call [`Worker::drain`] instead of waiting.

use async_trait::async_trait;
use chrono::Duration;
use ferry_core::clock::Clock;
use ferry_storage::{Job, NewJob, Storage, StorageResult};
use std::sync::Arc;
use tokio::sync::Notify;

/// Delivers an outgoing message to its channel. Payload: `{"message_id"}`.
pub const DELIVER_MESSAGE: &str = "deliver_message";

/// Lets the bot handle a buyer's message. Payload: `{"message_id",
/// "conversation_id"}`; enqueued by intake while the bot holds the
/// conversation.
pub const BOT_REPLY: &str = "bot_reply";

/// How a handler reports a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (timeouts, 5xx, rate limits).
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help (bad request, deleted target).
    #[error("{0}")]
    Permanent(String),
}

/// Runs jobs of the kinds it knows.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Runs one attempt of `job`.
    async fn handle(&self, job: &Job) -> Result<(), JobError>;
    /// Called once when a job is given up, to record the failure where
    /// users see it (e.g. the message's delivery status).
    async fn gave_up(&self, job: &Job, error: &str);
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
    /// capped, plus up to 10 % spread derived from the job id so retries of
    /// many jobs do not arrive together.
    pub fn delay(&self, attempt: u32, spread_seed: i64) -> Duration {
        let factor = 1i64 << attempt.saturating_sub(1).min(20);
        let d = self.base.num_milliseconds().saturating_mul(factor).min(self.max.num_milliseconds());
        let spread = (spread_seed.unsigned_abs() % 10) as i64 * d / 100;
        Duration::milliseconds(d + spread)
    }
}

/// A job to enqueue for delivering `message_id`.
pub fn deliver_message(
    account: ferry_core::AccountId,
    message_id: ferry_core::MessageId,
    at: chrono::DateTime<chrono::Utc>,
) -> NewJob {
    NewJob {
        account_id: account,
        kind: DELIVER_MESSAGE.to_owned(),
        payload: serde_json::json!({ "message_id": message_id }),
        run_at: at,
        max_attempts: 8,
    }
}

/// Claims and runs jobs.
pub struct Worker {
    storage: Arc<dyn Storage>,
    handler: Arc<dyn JobHandler>,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    lease: Duration,
    batch: u32,
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
            batch: 32,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Uses another back-off.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Wakes early when `wake` is notified (after a job is enqueued).
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// Claims due jobs once and runs them, one after another so their
    /// effects keep the order they were enqueued in; returns how many ran.
    pub async fn run_once(&self) -> StorageResult<usize> {
        let now = self.clock.now();
        let jobs = self.storage.claim_jobs(now, self.lease, self.batch).await?;
        let n = jobs.len();
        for job in jobs {
            let outcome = self.handler.handle(&job).await;
            self.record(&job, outcome).await?;
        }
        Ok(n)
    }

    async fn record(&self, job: &Job, outcome: Result<(), JobError>) -> StorageResult<()> {
        let now = self.clock.now();
        match outcome {
            Ok(()) => self.storage.complete_job(job.id, now).await,
            Err(JobError::Retry(e)) if job.attempts < job.max_attempts => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed, will retry");
                let at = now + self.backoff.delay(job.attempts, job.id.0);
                self.storage.retry_job(job.id, at, &e).await
            }
            Err(JobError::Retry(e) | JobError::Permanent(e)) => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job gave up");
                self.handler.gave_up(job, &e).await;
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

    /// Runs forever: after each pass, waits for a wake-up or `poll`.
    pub async fn run(self: Arc<Self>, poll: std::time::Duration) {
        loop {
            match self.drain().await {
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "job worker pass failed"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff { base: Duration::seconds(5), max: Duration::minutes(1) };
        assert_eq!(b.delay(1, 0), Duration::seconds(5));
        assert_eq!(b.delay(2, 0), Duration::seconds(10));
        assert_eq!(b.delay(3, 0), Duration::seconds(20));
        assert_eq!(b.delay(10, 0), Duration::minutes(1));
        assert!(b.delay(2, 7) > b.delay(2, 0));
        assert!(b.delay(40, 9) <= Duration::seconds(66));
    }
}
