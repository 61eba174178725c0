//! Keeping the store from growing without end: published outbox events are
//! deleted within seconds, in batches off the path of the writes that made
//! them; finished jobs once they are older than the retention; and each
//! account's conversations and attachments older than it keeps them.

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
    /// What the accounts' retention settings removed.
    pub retention: crate::privacy::RetentionSummary,
}

impl App {
    /// Deletes the events published more than [`ferry_storage::REPLAY_WINDOW`]
    /// ago (subscribers have them; a console that reconnects within it gets
    /// what it missed, later ones resync from the API), in batches;
    /// unpublished events stay. Returns how many went.
    pub async fn prune_published_events(&self) -> AppResult<u64> {
        // Kept a minute for consoles that reconnect (`/ws?after=`).
        let now = self.clock.now() - ferry_storage::REPLAY_WINDOW;
        let mut pruned = 0;
        loop {
            let n = self.storage.prune_published_events(now, BATCH).await?;
            pruned += n;
            if n < u64::from(BATCH) {
                return Ok(pruned);
            }
        }
    }

    /// Deletes published events, and done jobs older than
    /// `config.retention`, in batches; failed jobs and unpublished events
    /// stay.
    pub async fn housekeeping(&self) -> AppResult<Pruned> {
        let before = self.clock.now() - self.config.retention;
        let mut pruned = Pruned { events: self.prune_published_events().await?, ..Pruned::default() };
        loop {
            let n = self.storage.prune_done_jobs(before, BATCH).await?;
            pruned.jobs += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        pruned.retention = self.apply_retention().await?;
        if pruned != Pruned::default() {
            tracing::info!(events = pruned.events, jobs = pruned.jobs, "pruned old events and jobs");
        }
        Ok(pruned)
    }
}
