//! The event bus and the outbox dispatcher.
//!
//! Use cases commit events to the outbox with their writes; the dispatcher
//! reads committed events, publishes them on the bus and marks them
//! published. Subscribers receive each event at least once and ignore
//! repeats by event id. In one process the bus is a broadcast channel; the
//! scale-out bus (NATS JetStream) implements the same trait.

use ferry_core::EventId;
use ferry_core::clock::Clock;
use ferry_core::event::EventEnvelope;
use ferry_storage::Storage;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::sync::{Notify, broadcast};

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

/// Moves committed events from the outbox to the bus.
///
/// Marking events published is a write; it runs in the background so a new
/// event never waits behind the previous batch's commit. Events published
/// but not yet marked are remembered and not published again meanwhile; if
/// marking fails they are forgotten and go out again (at least once).
pub struct Dispatcher {
    storage: Arc<dyn Storage>,
    bus: Arc<dyn EventBus>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    in_flight: Arc<Mutex<HashSet<EventId>>>,
    high_water: Mutex<Option<EventId>>,
}

impl Dispatcher {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        bus: Arc<dyn EventBus>,
        wake: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { storage, bus, wake, clock, in_flight: Arc::default(), high_water: Mutex::new(None) }
    }

    /// Publishes everything waiting; returns how many events went out.
    pub async fn dispatch_once(&self) -> Result<usize, ferry_storage::StorageError> {
        self.dispatch(None).await
    }

    /// Publishes waiting events with ids above `after` (all when `None`).
    /// Woken by a commit of this node, the dispatcher looks only past the
    /// last event it published, so events already in flight are not read
    /// again; the periodic pass looks at everything, catching events other
    /// nodes committed with lower ids.
    async fn dispatch(&self, mut after: Option<EventId>) -> Result<usize, ferry_storage::StorageError> {
        let mut total = 0;
        loop {
            let events = self.storage.unpublished_events(after, 500).await?;
            if let Some(last) = events.last() {
                after = Some(last.id);
                let mut hw = self.high_water.lock().unwrap_or_else(|e| e.into_inner());
                *hw = (*hw).max(Some(last.id));
            }
            let fresh: Vec<_> = {
                let mut flying = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                events.into_iter().filter(|e| flying.insert(e.id)).collect()
            };
            if fresh.is_empty() {
                return Ok(total);
            }
            let ids: Vec<_> = fresh.iter().map(|e| e.id).collect();
            let batch: Vec<_> = fresh.into_iter().map(Arc::new).collect();
            if let Err(e) = self.bus.publish(&batch).await {
                let mut flying = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                for id in &ids {
                    flying.remove(id);
                }
                tracing::warn!(error = %e, "publishing events failed; they stay in the outbox");
                return Ok(total);
            }
            total += ids.len();
            let (storage, flying, now) = (self.storage.clone(), self.in_flight.clone(), self.clock.now());
            tokio::spawn(async move {
                if let Err(e) = storage.mark_published(&ids, now).await {
                    tracing::error!(error = %e, "marking events published failed; they will be published again");
                }
                let mut set = flying.lock().unwrap_or_else(|e| e.into_inner());
                for id in &ids {
                    set.remove(id);
                }
            });
        }
    }

    /// Runs forever: publishes whenever woken, and at least every `poll`
    /// (events committed by other processes, or after a failure).
    pub async fn run(self, poll: std::time::Duration) {
        let mut after = None;
        loop {
            if let Err(e) = self.dispatch(after).await {
                tracing::error!(error = %e, "outbox dispatch failed");
            }
            after = tokio::select! {
                _ = self.wake.notified() => *self.high_water.lock().unwrap_or_else(|e| e.into_inner()),
                _ = tokio::time::sleep(poll) => None,
            };
        }
    }
}
