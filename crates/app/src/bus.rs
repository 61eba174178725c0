//! The event bus and the outbox dispatcher.
//!
//! Use cases commit events to the outbox with their writes; the dispatcher
//! reads committed events, publishes them on the bus and marks them
//! published. Subscribers receive each event at least once and ignore
//! repeats by event id. In one process the bus is a broadcast channel; the
//! scale-out bus (NATS JetStream) implements the same trait.

use ferry_core::clock::Clock;
use ferry_core::event::EventEnvelope;
use ferry_storage::Storage;
use std::sync::Arc;
use tokio::sync::{Notify, broadcast};

/// Where committed events go.
pub trait EventBus: Send + Sync {
    /// Publishes an event to every subscriber.
    fn publish(&self, event: Arc<EventEnvelope>);
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

impl EventBus for LocalBus {
    fn publish(&self, event: Arc<EventEnvelope>) {
        // No subscriber is not an error: events stay in the outbox.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.tx.subscribe()
    }
}

/// Moves committed events from the outbox to the bus.
pub struct Dispatcher {
    storage: Arc<dyn Storage>,
    bus: Arc<dyn EventBus>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
}

impl Dispatcher {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        bus: Arc<dyn EventBus>,
        wake: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { storage, bus, wake, clock }
    }

    /// Publishes what is waiting; returns how many events went out.
    pub async fn dispatch_once(&self) -> Result<usize, ferry_storage::StorageError> {
        let mut total = 0;
        loop {
            let events = self.storage.unpublished_events(500).await?;
            if events.is_empty() {
                return Ok(total);
            }
            let ids: Vec<_> = events.iter().map(|e| e.id).collect();
            for e in events {
                self.bus.publish(Arc::new(e));
            }
            total += ids.len();
            let now = self.clock.now();
            self.storage.mark_published(&ids, now).await?;
        }
    }

    /// Runs forever: publishes whenever woken, and at least every `poll`
    /// (events committed by other processes, or after a failure).
    pub async fn run(self, poll: std::time::Duration) {
        loop {
            if let Err(e) = self.dispatch_once().await {
                tracing::error!(error = %e, "outbox dispatch failed");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}
