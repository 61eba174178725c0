//! The event bus and the outbox dispatcher.
//!
//! Use cases commit events to the outbox with their writes; the store hands
//! each committed write's events to the dispatcher, which publishes them on
//! the bus and marks them published (the outbox is read back only to
//! recover). Subscribers receive each event at least once and ignore
//! repeats by event id. In one process the bus is a broadcast channel; the
//! scale-out bus (NATS JetStream) implements the same trait.

use chrono::{DateTime, Utc};
use ferry_core::EventId;
use ferry_core::clock::Clock;
use ferry_core::event::EventEnvelope;
use ferry_storage::{CommitSink, Storage};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{broadcast, mpsc};

/// The bus could not take events; the dispatcher publishes them again.
#[derive(Debug, thiserror::Error)]
#[error("event bus: {0}")]
pub struct BusError(pub String);

/// Where committed events go.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes committed events, in order, to every subscriber (on
    /// every node of a scaled-out install). Returns once the bus holds
    /// them: the dispatcher marks them published only then.
    async fn publish(&self, events: &[Arc<EventEnvelope>]) -> Result<(), BusError>;
    /// A new subscription, receiving events published from now on.
    fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>>;
}

/// The in-process bus.
pub struct LocalBus {
    tx: broadcast::Sender<Arc<EventEnvelope>>,
}

impl LocalBus {
    /// A bus keeping up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Arc<Self> {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Arc::new(Self { tx })
    }
}

#[async_trait::async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, events: &[Arc<EventEnvelope>]) -> Result<(), BusError> {
        for e in events {
            // No subscriber is not an error: nobody is listening.
            let _ = self.tx.send(e.clone());
        }
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.tx.subscribe()
    }
}

/// Events handed to the dispatcher in memory and not yet taken, at most
/// (commits, not events); past it the dispatcher recovers from the outbox.
const HANDOFF_CAPACITY: usize = 4096;
/// Most events published in one call.
const BATCH: usize = 500;

/// Moves committed events to the bus.
///
/// The common path never reads the outbox: the store hands the events of
/// every committed write to the dispatcher in memory, in commit order, and
/// the dispatcher publishes them in batches. The outbox scan is the
/// recovery path: at start, after the bus failed or the hand-off
/// overflowed (until the outbox is drained, in-memory copies are dropped,
/// so events of an account keep their order), and periodically for events
/// older than `poll` that nobody published (another process died between
/// commit and publish). Events are marked published only after the bus
/// took them, by a background task that marks many at once; the store
/// prunes them soon after.
pub struct Dispatcher {
    storage: Arc<dyn Storage>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    handed: mpsc::Receiver<Vec<EventEnvelope>>,
    overflowed: Arc<AtomicBool>,
    in_flight: Arc<Mutex<HashSet<EventId>>>,
}

impl Dispatcher {
    /// A dispatcher taking over the store's committed events.
    pub(crate) fn new(storage: Arc<dyn Storage>, bus: Arc<dyn EventBus>, clock: Arc<dyn Clock>) -> Self {
        let (tx, handed) = mpsc::channel(HANDOFF_CAPACITY);
        let overflowed = Arc::new(AtomicBool::new(false));
        let flag = overflowed.clone();
        let sink: CommitSink = Arc::new(move |events: Vec<EventEnvelope>| {
            if tx.try_send(events).is_err() {
                flag.store(true, Ordering::Release);
            }
        });
        storage.hand_committed_events(Some(sink));
        Self { storage, bus, clock, handed, overflowed, in_flight: Arc::default() }
    }

    /// The recovery path: publishes everything waiting in the outbox,
    /// rebuilt from the store, and marks it published before returning;
    /// returns how many events went out.
    pub async fn dispatch_once(&self) -> Result<usize, ferry_storage::StorageError> {
        let (n, _) = self.scan(None, None).await?;
        Ok(n)
    }

    /// Publishes the outbox's waiting events, oldest first, created at or
    /// before `cutoff` (all when `None`). Marks them through `marker`, or
    /// right away. Returns how many went out and whether the bus took all.
    async fn scan(
        &self,
        cutoff: Option<DateTime<Utc>>,
        marker: Option<&mpsc::UnboundedSender<Vec<EventId>>>,
    ) -> Result<(usize, bool), ferry_storage::StorageError> {
        let mut after = None;
        let mut total = 0;
        loop {
            let mut events = self.storage.unpublished_events(after, BATCH as u32).await?;
            let Some(last) = events.last() else { return Ok((total, true)) };
            after = Some(last.id);
            let young = cutoff.and_then(|c| events.iter().position(|e| e.created_at > c));
            if let Some(young) = young {
                events.truncate(young);
            }
            let batch: Vec<_> = events.into_iter().map(Arc::new).collect();
            match self.publish(batch, marker).await? {
                Some(n) => total += n,
                None => return Ok((total, false)),
            }
            if young.is_some() {
                return Ok((total, true));
            }
        }
    }

    /// Publishes the events not already in flight; `None` when the bus
    /// failed (they stay in the outbox).
    async fn publish(
        &self,
        batch: Vec<Arc<EventEnvelope>>,
        marker: Option<&mpsc::UnboundedSender<Vec<EventId>>>,
    ) -> Result<Option<usize>, ferry_storage::StorageError> {
        let fresh: Vec<_> = {
            let mut flying = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            batch.into_iter().filter(|e| flying.insert(e.id)).collect()
        };
        if fresh.is_empty() {
            return Ok(Some(0));
        }
        let ids: Vec<_> = fresh.iter().map(|e| e.id).collect();
        if let Err(e) = self.bus.publish(&fresh).await {
            forget(&self.in_flight, &ids);
            tracing::warn!(error = %e, "publishing events failed; they stay in the outbox");
            return Ok(None);
        }
        let n = ids.len();
        match marker {
            Some(marker) => {
                if let Err(lost) = marker.send(ids) {
                    forget(&self.in_flight, &lost.0);
                }
            }
            None => {
                let marked = self.storage.mark_published(&ids, self.clock.now()).await;
                forget(&self.in_flight, &ids);
                marked?;
            }
        }
        Ok(Some(n))
    }

    /// Runs forever: publishes events as they are committed, and recovers
    /// from the outbox at start, after failures and every `poll`.
    pub async fn run(mut self, poll: std::time::Duration) {
        let (marker, marks) = mpsc::unbounded_channel();
        tokio::spawn(mark_published(self.storage.clone(), self.clock.clone(), self.in_flight.clone(), marks));
        let grace = chrono::Duration::from_std(poll).unwrap_or(chrono::Duration::seconds(1));
        let mut recovering = true;
        let mut next_scan = tokio::time::Instant::now() + poll;
        loop {
            if recovering || self.overflowed.swap(false, Ordering::AcqRel) {
                // The outbox holds every event handed over meanwhile; the
                // scan publishes them in order.
                while self.handed.try_recv().is_ok() {}
                recovering = !matches!(self.scan(None, Some(&marker)).await, Ok((_, true)));
                next_scan = tokio::time::Instant::now() + poll;
                if recovering {
                    tokio::time::sleep(poll).await;
                    continue;
                }
            }
            tokio::select! {
                handed = self.handed.recv() => {
                    let Some(first) = handed else {
                        // Another dispatcher took over the hand-off: only
                        // the recovery scan is left to this one.
                        tokio::time::sleep(poll).await;
                        recovering = true;
                        continue;
                    };
                    let mut batch: Vec<_> = first.into_iter().map(Arc::new).collect();
                    while batch.len() < BATCH {
                        match self.handed.try_recv() {
                            Ok(more) => batch.extend(more.into_iter().map(Arc::new)),
                            Err(_) => break,
                        }
                    }
                    recovering = !matches!(self.publish(batch, Some(&marker)).await, Ok(Some(_)));
                }
                _ = tokio::time::sleep_until(next_scan) => {
                    let cutoff = self.clock.now() - grace;
                    match self.scan(Some(cutoff), Some(&marker)).await {
                        Ok((_, complete)) => recovering = !complete,
                        Err(e) => {
                            tracing::error!(error = %e, "reading the outbox failed");
                            recovering = true;
                        }
                    }
                    next_scan = tokio::time::Instant::now() + poll;
                }
            }
        }
    }
}

fn forget(in_flight: &Mutex<HashSet<EventId>>, ids: &[EventId]) {
    let mut flying = in_flight.lock().unwrap_or_else(|e| e.into_inner());
    for id in ids {
        flying.remove(id);
    }
}

/// Marks published events, as many at once as are waiting, off the
/// dispatcher's path. If marking fails the events are forgotten and the
/// recovery scan publishes them again (at least once).
async fn mark_published(
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    in_flight: Arc<Mutex<HashSet<EventId>>>,
    mut marks: mpsc::UnboundedReceiver<Vec<EventId>>,
) {
    while let Some(mut ids) = marks.recv().await {
        while ids.len() < 5000 {
            match marks.try_recv() {
                Ok(more) => ids.extend(more),
                Err(_) => break,
            }
        }
        if let Err(e) = storage.mark_published(&ids, clock.now()).await {
            tracing::error!(error = %e, "marking events published failed; they will be published again");
        }
        forget(&in_flight, &ids);
    }
}
