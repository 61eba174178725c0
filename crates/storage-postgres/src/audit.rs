//! The audit log on PostgreSQL: append-only rows, read newest first with
//! an id cursor.

use crate::sql::no_nul;
use crate::{PostgresStorage, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, AuditEntryId, UserId};
use ferry_storage::*;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Row};

macro_rules! cols {
    () => {
        "id, account_id, actor_id, actor_name, action, target_kind, target_id, details, outcome, error, created_at"
    };
}

fn entry(r: &PgRow) -> StorageResult<AuditEntry> {
    let outcome: String = r.try_get("outcome").map_err(db_err)?;
    let details: Json<serde_json::Value> = r.try_get("details").map_err(db_err)?;
    Ok(AuditEntry {
        id: AuditEntryId(r.try_get("id").map_err(db_err)?),
        account_id: AccountId(r.try_get("account_id").map_err(db_err)?),
        actor_id: r.try_get::<Option<i64>, _>("actor_id").map_err(db_err)?.map(UserId),
        actor_name: r.try_get("actor_name").map_err(db_err)?,
        action: r.try_get("action").map_err(db_err)?,
        target_kind: r.try_get("target_kind").map_err(db_err)?,
        target_id: r.try_get("target_id").map_err(db_err)?,
        details: details.0,
        outcome: AuditOutcome::parse(&outcome)
            .ok_or_else(|| StorageError::Corrupt(format!("audit_log.outcome `{outcome}`")))?,
        error: r.try_get("error").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
    })
}

#[async_trait]
impl AuditRepo for PostgresStorage {
    async fn append_audit(
        &self,
        account: AccountId,
        new: NewAuditEntry,
        now: DateTime<Utc>,
    ) -> StorageResult<AuditEntry> {
        let r = sqlx::query(concat!(
            "INSERT INTO audit_log (account_id, actor_id, actor_name, action, target_kind, target_id, details, outcome, error, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $10) RETURNING ",
            cols!()
        ))
        .bind(account.0)
        .bind(new.actor_id.map(|u| u.0))
        .bind(no_nul(&new.actor_name))
        .bind(no_nul(&new.action))
        .bind(no_nul(&new.target_kind))
        .bind(no_nul(&new.target_id))
        .bind(crate::sql::jsonb(&new.details))
        .bind(new.outcome.as_str())
        .bind(new.error.as_deref().map(no_nul))
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        entry(&r)
    }

    async fn list_audit(&self, account: AccountId, query: AuditQuery) -> StorageResult<Vec<AuditEntry>> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new(concat!("SELECT ", cols!(), " FROM audit_log WHERE account_id = "));
        q.push_bind(account.0);
        if let Some(a) = query.action {
            q.push(" AND action = ").push_bind(no_nul(&a));
        }
        if let Some(k) = query.target_kind {
            q.push(" AND target_kind = ").push_bind(no_nul(&k));
        }
        if let Some(t) = query.target_id {
            q.push(" AND target_id = ").push_bind(no_nul(&t));
        }
        if let Some(b) = query.before {
            q.push(" AND id < ").push_bind(b.0);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(query.limit.max(1)));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(entry).collect()
    }
}
