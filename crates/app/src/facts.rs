//! The facts refresher: writes only mark a conversation whose facts are
//! out of date; this loop recomputes the marked ones in batches, soon after
//! they are marked, so intake stays one cheap insert per write and a burst
//! of messages to one conversation is counted with one refresh. Report
//! reads refresh whatever is still marked first, so figures are exact even
//! while it lags; with several nodes each runs one and they skip each
//! other's batches.

use crate::App;
use ferry_core::event::Event;
use ferry_storage::FACTS_BATCH;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

impl App {
    /// Refreshes every marked conversation's facts; returns how many.
    pub async fn refresh_pending_facts(&self) -> crate::AppResult<u64> {
        let mut total = 0;
        loop {
            let n = self.storage.refresh_pending_facts(FACTS_BATCH).await?;
            total += n;
            if n < u64::from(FACTS_BATCH) {
                return Ok(total);
            }
        }
    }

    /// Keeps facts current, forever: refreshes `settle` after an event that
    /// marks a conversation is published, and at least every `poll`
    /// (writes of other nodes, missed events). The settling time lets the
    /// marks of a busy conversation gather, so under load each one is
    /// recomputed about once per `settle` instead of once per message;
    /// report reads refresh what is still marked first, so they never see
    /// the lag.
    pub async fn run_facts_refresher(self: Arc<Self>, poll: Duration, settle: Duration) {
        let mut events = self.bus.subscribe();
        loop {
            // Events already queued are covered by this refresh, which
            // starts after them; only later ones wake the next.
            events = events.resubscribe();
            if let Err(e) = self.refresh_pending_facts().await {
                tracing::error!(error = %e, "refreshing conversation facts failed");
            }
            let deadline = tokio::time::sleep(poll);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    e = events.recv() => match e {
                        Ok(e) if marks_facts(&e.event) => {
                            tokio::time::sleep(settle).await;
                            break;
                        }
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        }
    }
}

/// Whether an event's write marked a conversation's facts.
fn marks_facts(e: &Event) -> bool {
    matches!(e, Event::MessageReceived { .. } | Event::ConversationUpdated { .. } | Event::MessageCreated { .. })
}
