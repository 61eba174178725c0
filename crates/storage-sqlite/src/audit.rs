//! The audit log on SQLite: append-only rows, read newest first with an
//! id cursor.

use crate::sql::{dt, ts};
use crate::{SqliteStorage, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, AuditEntryId, UserId};
use ferry_storage::*;
use rusqlite::{params, types::Value};

const COLS: &str =
    "id, account_id, actor_id, actor_name, action, target_kind, target_id, details, outcome, error, created_at";

type Raw = (AuditEntry, String, String);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        AuditEntry {
            id: AuditEntryId(r.get(0)?),
            account_id: AccountId(r.get(1)?),
            actor_id: r.get::<_, Option<i64>>(2)?.map(UserId),
            actor_name: r.get(3)?,
            action: r.get(4)?,
            target_kind: r.get(5)?,
            target_id: r.get(6)?,
            details: serde_json::Value::Null,
            outcome: AuditOutcome::Failed,
            error: r.get(9)?,
            created_at: dt(r.get(10)?),
        },
        r.get(7)?,
        r.get(8)?,
    ))
}

fn entry((mut e, details, outcome): Raw) -> StorageResult<AuditEntry> {
    e.details = serde_json::from_str(&details)
        .map_err(|err| StorageError::Corrupt(format!("audit_log.details of {}: {err}", e.id)))?;
    e.outcome =
        AuditOutcome::parse(&outcome).ok_or_else(|| StorageError::Corrupt(format!("audit_log.outcome `{outcome}`")))?;
    Ok(e)
}

#[async_trait]
impl AuditRepo for SqliteStorage {
    async fn append_audit(
        &self,
        account: AccountId,
        new: NewAuditEntry,
        now: DateTime<Utc>,
    ) -> StorageResult<AuditEntry> {
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO audit_log (account_id, actor_id, actor_name, action, target_kind, target_id, details, outcome, error, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )
            .map_err(db_err)?
            .execute(params![
                account.0,
                new.actor_id.map(|u| u.0),
                new.actor_name,
                new.action,
                new.target_kind,
                new.target_id,
                new.details.to_string(),
                new.outcome.as_str(),
                new.error,
                ts(now)
            ])
            .map_err(db_err)?;
            let id = c.last_insert_rowid();
            let raw = c
                .prepare_cached(&format!("SELECT {COLS} FROM audit_log WHERE id = ?1 AND account_id = ?2"))
                .map_err(db_err)?
                .query_row(params![id, account.0], row)
                .map_err(db_err)?;
            entry(raw)
        })
        .await
    }

    async fn list_audit(&self, account: AccountId, query: AuditQuery) -> StorageResult<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut sql = format!("SELECT {COLS} FROM audit_log WHERE account_id = ?");
            let mut args: Vec<Value> = vec![Value::Integer(account.0)];
            if let Some(a) = query.action {
                sql.push_str(" AND action = ?");
                args.push(Value::Text(a));
            }
            if let Some(k) = query.target_kind {
                sql.push_str(" AND target_kind = ?");
                args.push(Value::Text(k));
            }
            if let Some(t) = query.target_id {
                sql.push_str(" AND target_id = ?");
                args.push(Value::Text(t));
            }
            if let Some(b) = query.before {
                sql.push_str(" AND id < ?");
                args.push(Value::Integer(b.0));
            }
            sql.push_str(" ORDER BY id DESC LIMIT ?");
            args.push(Value::Integer(i64::from(query.limit.max(1))));
            let mut st = c.prepare_cached(&sql).map_err(db_err)?;
            let rows = st.query_map(rusqlite::params_from_iter(args), row).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(entry)).collect()
        })
        .await
    }
}
