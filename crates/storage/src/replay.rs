//! Replay of recent events to a console that reconnects: the events of an
//! account after the last one it saw, while the outbox still holds them
//! (published events are kept for [`REPLAY_WINDOW`]).

/// How long published events stay in the outbox for reconnecting consoles.
pub const REPLAY_WINDOW: chrono::Duration = chrono::Duration::seconds(60);

use crate::error::StorageResult;
use async_trait::async_trait;
use ferry_core::event::EventEnvelope;
use ferry_core::{AccountId, EventId};

/// Recent events, for reconnecting sockets.
#[async_trait]
pub trait ReplayRepo {
    /// Up to `limit` events of the account with ids above `after`, oldest
    /// first, published or not.
    async fn events_after(&self, account: AccountId, after: EventId, limit: u32) -> StorageResult<Vec<EventEnvelope>>;
    /// The lowest event id the outbox still holds for the account (a
    /// client that saw less than this missed events that are gone).
    async fn oldest_event(&self, account: AccountId) -> StorageResult<Option<EventId>>;
}
