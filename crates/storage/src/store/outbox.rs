//! The transactional outbox: events appended by the writes that cause
//! them, read and marked by the dispatcher, pruned once published.

use crate::args;
use crate::db::{Arg, Backend, Db};
use crate::error::StorageResult;
use crate::repo::OutboxRepo;
use crate::rows::EventRow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::{AccountId, EventId};

pub(super) async fn append_event<D: Db>(
    db: &mut D,
    account: AccountId,
    event: &Event,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    db.exec(
        "INSERT INTO outbox (account_id, kind, payload, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
        args![account.0, event.name(), Arg::json(event), now],
    )
    .await
    .map(drop)
}

#[async_trait]
impl<B: Backend> OutboxRepo for B {
    async fn unpublished_events(&self, after: Option<EventId>, limit: u32) -> StorageResult<Vec<EventEnvelope>> {
        let after = after.map_or(0, |a| a.0);
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, account_id, payload, created_at FROM outbox \
                         WHERE published_at IS NULL AND id > $2 ORDER BY id LIMIT $1",
                        args![limit, after],
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

    async fn mark_published(&self, ids: &[EventId], now: DateTime<Utc>) -> StorageResult<()> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "UPDATE outbox SET published_at = $2, updated_at = $2 WHERE id IN (SELECT value FROM {})",
                    db.list("$1")
                );
                db.exec(&sql, args![ids, now]).await.map(drop)
            })
        })
        .await
    }

    async fn count_events(&self, account: AccountId) -> StorageResult<u64> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT COUNT(*) FROM outbox WHERE account_id = $1", args![account.0]).await?;
                r.map_or(Ok(0), |r| r.count(0))
            })
        })
        .await
    }

    async fn prune_published_events(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(db.exec(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                 WHERE published_at IS NOT NULL AND published_at < $1 ORDER BY id LIMIT $2)",
                args![before, limit],
            ))
        })
        .await
    }

    async fn count_unpublished_events(&self) -> StorageResult<u64> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL", args![]).await?;
                r.map_or(Ok(0), |r| r.count(0))
            })
        })
        .await
    }
}
