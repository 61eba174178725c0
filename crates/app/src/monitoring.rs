//! Operational metrics: what the use cases count and time, recorded through
//! the `metrics` facade (a no-op until the binary installs a recorder), and
//! the backlog gauges sampled from storage when metrics are scraped. Label
//! values come from closed sets only (channel kinds, outcomes, decisions):
//! never ids or anything a person wrote.

use crate::{App, AppResult};
use ferry_bot::Outcome;
use ferry_channels::SendError;
use ferry_core::bot::Decision;
use ferry_core::inbox::ChannelKind;
use std::time::Duration;

/// Buyers' messages stored, per channel.
pub const MESSAGES_RECEIVED: &str = "ferry_messages_received_total";
/// Re-deliveries of messages stored before, per channel.
pub const MESSAGES_DUPLICATE: &str = "ferry_messages_duplicate_total";
/// Send attempts per channel and outcome (`sent`, `retry`, `throttled`,
/// `failed`).
pub const DELIVERIES: &str = "ferry_deliveries_total";
/// How long a channel took to take (or refuse) a message, per channel.
pub const DELIVERY_SECONDS: &str = "ferry_delivery_send_duration_seconds";
/// The bot's decisions per kind (`answer`, `ask`, `hand_off`).
pub const BOT_DECISIONS: &str = "ferry_bot_decisions_total";
/// Pending jobs, due or not.
pub const JOBS_PENDING: &str = "ferry_jobs_pending";
/// Pending jobs whose time has come.
pub const JOBS_DUE: &str = "ferry_jobs_due";
/// Seconds the oldest due job has waited (0 when none is due).
pub const JOBS_OLDEST_DUE_AGE: &str = "ferry_jobs_oldest_due_age_seconds";
/// Outbox events not yet published.
pub const OUTBOX_UNPUBLISHED: &str = "ferry_outbox_unpublished_events";

/// Counts a buyer's message stored, or a re-delivery of one.
pub fn message_stored(channel: ChannelKind, duplicate: bool) {
    let name = if duplicate { MESSAGES_DUPLICATE } else { MESSAGES_RECEIVED };
    metrics::counter!(name, "channel" => channel.as_str()).increment(1);
}

/// Counts a send attempt by outcome and times it.
pub fn send_attempted<T>(channel: ChannelKind, result: &Result<T, SendError>, took: Duration) {
    let outcome = match result {
        Ok(_) => "sent",
        Err(SendError::Retryable(_)) => "retry",
        Err(SendError::Throttled { .. }) => "throttled",
        Err(SendError::Permanent(_)) => "failed",
    };
    metrics::histogram!(DELIVERY_SECONDS, "channel" => channel.as_str()).record(took.as_secs_f64());
    metrics::counter!(DELIVERIES, "channel" => channel.as_str(), "outcome" => outcome).increment(1);
}

/// Counts what the bot did with a buyer's message.
pub fn bot_decided(decision: &Decision, outcome: &Outcome) {
    let kind = match (outcome, decision) {
        (Outcome::HandOff { .. }, _) => "hand_off",
        (Outcome::Reply { .. }, Decision::Ask { .. }) => "ask",
        (Outcome::Reply { .. }, _) => "answer",
    };
    metrics::counter!(BOT_DECISIONS, "decision" => kind).increment(1);
}

impl App {
    /// Samples the job backlog and the outbox lag into their gauges (when
    /// metrics are scraped: two aggregate queries).
    pub async fn sample_backlog(&self) -> AppResult<()> {
        let now = self.clock.now();
        let jobs = self.storage.job_backlog(now).await?;
        let unpublished = self.storage.count_unpublished_events().await?;
        let age = jobs.oldest_due.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
        metrics::gauge!(JOBS_PENDING).set(jobs.pending as f64);
        metrics::gauge!(JOBS_DUE).set(jobs.due as f64);
        metrics::gauge!(JOBS_OLDEST_DUE_AGE).set(age);
        metrics::gauge!(OUTBOX_UNPUBLISHED).set(unpublished as f64);
        Ok(())
    }
}
