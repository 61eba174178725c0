//! Leases on scheduled work: several nodes share one store, and a task that
//! must run once per interval (the commerce detectors, housekeeping, the
//! snooze timer) runs on whichever node takes its lease first. Leases are
//! the nodes' business, not an account's, so their rows carry no account.

use crate::args;
use crate::db::{Backend, Db};
use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// What the store knows of a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    /// The node that took it last.
    pub holder: String,
    /// Until when it holds.
    pub expires_at: DateTime<Utc>,
    /// How many times it was taken (the task ran).
    pub runs: u64,
}

/// Leases on scheduled work.
#[async_trait]
pub trait LeaseRepo {
    /// Takes the lease `name` for `holder` until `until` if nobody holds
    /// it at `now` (it never existed or ran out); returns whether it was
    /// taken. Of several nodes trying at once, one gets it.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StorageResult<bool>;
    /// Takes the lease `name` for `holder` until `until` if nobody holds
    /// it at `now`, or renews it if `holder` holds it; returns whether
    /// `holder` holds it now. For work that stays with one node while it
    /// lives (a mailbox's watcher).
    async fn hold_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StorageResult<bool>;
    /// The lease's state, if it was ever taken.
    async fn lease(&self, name: &str) -> StorageResult<Option<LeaseState>>;
    /// A setting of the installation.
    async fn installation_setting(&self, key: &str) -> StorageResult<Option<String>>;
    /// Stores a setting of the installation.
    async fn put_installation_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> StorageResult<()>;
}

/// Takes `name` for `holder` when it ran out; with `renew`, also when
/// `holder` holds it (a renewal is not a new run).
async fn take<B: Backend>(
    store: &B,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    renew: bool,
) -> StorageResult<bool> {
    let (name, holder) = (name.to_owned(), holder.to_owned());
    store
        .write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "INSERT INTO leases (name, holder, expires_at, runs, updated_at) VALUES ($1, $2, $4, 1, $3) \
                         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                         expires_at = excluded.expires_at, updated_at = excluded.updated_at, \
                         runs = leases.runs + CASE WHEN leases.holder = excluded.holder \
                         AND leases.expires_at > $3 THEN 0 ELSE 1 END \
                         WHERE leases.expires_at <= $3 OR ($5 AND leases.holder = $2)",
                        args![name, holder, now, until, renew],
                    )
                    .await?;
                Ok(n == 1)
            })
        })
        .await
}

#[async_trait]
impl<B: Backend> LeaseRepo for B {
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StorageResult<bool> {
        take(self, name, holder, now, until, false).await
    }

    async fn hold_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StorageResult<bool> {
        take(self, name, holder, now, until, true).await
    }

    async fn lease(&self, name: &str) -> StorageResult<Option<LeaseState>> {
        let name = name.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT holder, expires_at, runs FROM leases WHERE name = $1", args![name]).await?;
                r.map(|r| Ok(LeaseState { holder: r.text(0)?, expires_at: r.time(1)?, runs: r.count(2)? })).transpose()
            })
        })
        .await
    }

    async fn installation_setting(&self, key: &str) -> StorageResult<Option<String>> {
        let key = key.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT value FROM installation_settings WHERE key = $1", args![key]).await?;
                r.map(|r| r.text(0)).transpose()
            })
        })
        .await
    }

    async fn put_installation_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> StorageResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "INSERT INTO installation_settings (key, value, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    args![key, value, now],
                )
                .await
                .map(drop)
            })
        })
        .await
    }
}
