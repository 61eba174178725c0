//! Replay of recent events to a console that reconnects: the events of an
//! account after the last one it saw, while the outbox still holds them.

use crate::args;
use crate::db::{Backend, Db};
use crate::error::StorageResult;
use crate::rows::EventRow;
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

#[async_trait]
impl<B: Backend> ReplayRepo for B {
    async fn events_after(&self, account: AccountId, after: EventId, limit: u32) -> StorageResult<Vec<EventEnvelope>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, account_id, payload, created_at FROM outbox \
                         WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                        args![account.0, after.0, limit],
                    )
                    .await?;
                rows.iter()
                    .map(|r| {
                        EventEnvelope::try_from(EventRow {
                            id: r.int(0)?,
                            account_id: r.int(1)?,
                            payload: r.text(2)?,
                            created_at: r.time(3)?,
                        })
                    })
                    .collect()
            })
        })
        .await
    }

    async fn oldest_event(&self, account: AccountId) -> StorageResult<Option<EventId>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT MIN(id) FROM outbox WHERE account_id = $1", args![account.0]).await?;
                Ok(r.map(|r| r.opt_int(0)).transpose()?.flatten().map(EventId))
            })
        })
        .await
    }
}
