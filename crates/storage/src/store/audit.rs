//! The audit log: append-only rows, read newest first with an id cursor.

use super::Query;
use crate::args;
use crate::db::{Arg, Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::AuditRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, AuditEntryId, UserId};

const COLS: &str =
    "id, account_id, actor_id, actor_name, action, target_kind, target_id, details, outcome, error, created_at";

fn entry(r: &Row) -> StorageResult<AuditEntry> {
    let outcome = r.text(8)?;
    Ok(AuditEntry {
        id: AuditEntryId(r.int(0)?),
        account_id: AccountId(r.int(1)?),
        actor_id: r.opt_int(2)?.map(UserId),
        actor_name: r.text(3)?,
        action: r.text(4)?,
        target_kind: r.text(5)?,
        target_id: r.text(6)?,
        details: r.json(7, "audit_log.details")?,
        outcome: AuditOutcome::parse(&outcome)
            .ok_or_else(|| StorageError::Corrupt(format!("audit_log.outcome `{outcome}`")))?,
        error: r.opt_text(9)?,
        created_at: r.time(10)?,
    })
}

/// Appends an entry in the caller's unit of work.
pub(super) async fn append<D: Db>(
    db: &mut D,
    account: AccountId,
    new: NewAuditEntry,
    now: DateTime<Utc>,
) -> StorageResult<AuditEntry> {
    let sql = format!(
        "INSERT INTO audit_log (account_id, actor_id, actor_name, action, target_kind, target_id, details, \
         outcome, error, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {COLS}"
    );
    let r = db
        .row(
            &sql,
            args![
                account.0,
                new.actor_id.map(|u| u.0),
                new.actor_name,
                new.action,
                new.target_kind,
                new.target_id,
                Arg::json(&new.details),
                new.outcome.as_str(),
                new.error,
                now
            ],
        )
        .await?;
    entry(&r.ok_or(StorageError::NotFound)?)
}

#[async_trait]
impl<B: Backend> AuditRepo for B {
    async fn append_audit(
        &self,
        account: AccountId,
        new: NewAuditEntry,
        now: DateTime<Utc>,
    ) -> StorageResult<AuditEntry> {
        self.write(move |db| Box::pin(append(db, account, new, now))).await
    }

    async fn list_audit(&self, account: AccountId, query: AuditQuery) -> StorageResult<Vec<AuditEntry>> {
        self.read(move |db| {
            Box::pin(async move {
                let mut q = Query::new(format!("SELECT {COLS} FROM audit_log WHERE account_id = "));
                q.bind(account.0);
                if let Some(a) = query.action {
                    q.push(" AND action = ").bind(a);
                }
                if let Some(k) = query.target_kind {
                    q.push(" AND target_kind = ").bind(k);
                }
                if let Some(t) = query.target_id {
                    q.push(" AND target_id = ").bind(t);
                }
                if let Some(b) = query.before {
                    q.push(" AND id < ").bind(b.0);
                }
                q.push(" ORDER BY id DESC LIMIT ").bind(query.limit.max(1));
                db.rows(&q.sql, q.args).await?.iter().map(entry).collect()
            })
        })
        .await
    }
}
