//! Keeping the store from growing without end: published outbox events and
//! finished jobs are deleted once they are older than the retention.

use crate::{App, AppResult};

/// Rows deleted per statement.
const BATCH: u32 = 5000;

/// What a housekeeping pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Published outbox events.
    pub events: u64,
    /// Jobs done.
    pub jobs: u64,
}

impl App {
    /// Deletes published events and done jobs older than
    /// `config.retention`, in batches; failed jobs and unpublished events
    /// stay.
    pub async fn housekeeping(&self) -> AppResult<Pruned> {
        let before = self.clock.now() - self.config.retention;
        let mut pruned = Pruned::default();
        loop {
            let n = self.storage.prune_published_events(before, BATCH).await?;
            pruned.events += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        loop {
            let n = self.storage.prune_done_jobs(before, BATCH).await?;
            pruned.jobs += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        if pruned != Pruned::default() {
            tracing::info!(events = pruned.events, jobs = pruned.jobs, "pruned old events and jobs");
        }
        Ok(pruned)
    }
}
