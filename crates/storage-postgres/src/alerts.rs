//! Alerts on PostgreSQL, and the detectors' reads of the mirror and of the
//! conversations.

use crate::repos::with_order_details;
use crate::sql::{append_event, jsonb, no_nul};
use crate::{PostgresStorage, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_commerce::OrderDetails;
use ferry_commerce::detect::AlertKind;
use ferry_core::{AccountId, AlertId, ShopConnectionId, UserId};
use ferry_storage::rows::contains_pattern;
use ferry_storage::*;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use std::collections::HashSet;

fn alert(r: &PgRow) -> StorageResult<Alert> {
    let details: Json<serde_json::Value> = r.try_get("details").map_err(db_err)?;
    Alert::try_from(AlertRow {
        id: r.try_get("id").map_err(db_err)?,
        account_id: r.try_get("account_id").map_err(db_err)?,
        connection_id: r.try_get("connection_id").map_err(db_err)?,
        kind: r.try_get("kind").map_err(db_err)?,
        key: r.try_get("key").map_err(db_err)?,
        severity: r.try_get("severity").map_err(db_err)?,
        title: r.try_get("title").map_err(db_err)?,
        details: details.0,
        status: r.try_get("status").map_err(db_err)?,
        first_seen_at: r.try_get("first_seen_at").map_err(db_err)?,
        last_seen_at: r.try_get("last_seen_at").map_err(db_err)?,
        resolved_at: r.try_get("resolved_at").map_err(db_err)?,
        acknowledged_by: r.try_get("acknowledged_by").map_err(db_err)?,
        resolved_by: r.try_get("resolved_by").map_err(db_err)?,
    })
}

async fn get(c: &mut PgConnection, account: AccountId, id: AlertId) -> StorageResult<Option<Alert>> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1 AND account_id = $2")))
        .bind(id.0)
        .bind(account.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    row.as_ref().map(alert).transpose()
}

#[async_trait]
impl AlertRepo for PostgresStorage {
    async fn record_alerts(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        kinds: &[AlertKind],
        found: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> StorageResult<AlertRunOutcome> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // One run per connection at a time: concurrent runs wait here
        // instead of racing on the same keys.
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT id FROM shop_connections WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE")
                .bind(connection.0)
                .bind(account.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if owned.is_none() {
            return Err(StorageError::NotFound);
        }
        let mut out = AlertRunOutcome::default();
        let mut seen: Vec<i64> = Vec::new();
        let mut keys = HashSet::new();
        for a in found {
            if !keys.insert((a.kind, a.key.clone())) {
                continue;
            }
            let key = no_nul(&a.key);
            let title = no_nul(&a.title);
            let details = jsonb(&a.details);
            let existing: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, status FROM alerts WHERE account_id = $1 AND connection_id = $2 AND kind = $3 AND key = $4",
            )
            .bind(account.0)
            .bind(connection.0)
            .bind(a.kind.as_str())
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            match existing {
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO alerts (account_id, connection_id, kind, key, severity, title, details, status, \
                         first_seen_at, last_seen_at, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'open', $8, $8, $8, $8) RETURNING id",
                    )
                    .bind(account.0)
                    .bind(connection.0)
                    .bind(a.kind.as_str())
                    .bind(&key)
                    .bind(a.severity.as_str())
                    .bind(&title)
                    .bind(&details)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    seen.push(id);
                    out.raised.push(AlertId(id));
                    append_event(&mut tx, account, &a.raised_event(AlertId(id)), now).await?;
                }
                Some((id, status)) => {
                    let reopen = status == AlertStatus::Resolved.as_str();
                    let sql = if reopen {
                        "UPDATE alerts SET status = 'open', severity = $2, title = $3, details = $4::jsonb, \
                         first_seen_at = $5, last_seen_at = $5, resolved_at = NULL, acknowledged_by = NULL, \
                         resolved_by = NULL, updated_at = $5 WHERE id = $1"
                    } else {
                        "UPDATE alerts SET severity = $2, title = $3, details = $4::jsonb, last_seen_at = $5, \
                         updated_at = $5 WHERE id = $1"
                    };
                    sqlx::query(sql)
                        .bind(id)
                        .bind(a.severity.as_str())
                        .bind(&title)
                        .bind(&details)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    seen.push(id);
                    if reopen {
                        out.raised.push(AlertId(id));
                        append_event(&mut tx, account, &a.raised_event(AlertId(id)), now).await?;
                    } else {
                        out.refreshed += 1;
                    }
                }
            }
        }
        let resolved = sqlx::query(
            "UPDATE alerts SET status = 'resolved', resolved_at = $3, resolved_by = NULL, updated_at = $3 \
             WHERE account_id = $1 AND connection_id = $2 AND status <> 'resolved' \
             AND kind = ANY($4::text[]) AND NOT (id = ANY($5::bigint[]))",
        )
        .bind(account.0)
        .bind(connection.0)
        .bind(now)
        .bind(&kinds)
        .bind(&seen)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        out.resolved = u32::try_from(resolved.rows_affected()).unwrap_or(u32::MAX);
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn list_alerts(&self, account: AccountId, filter: AlertFilter) -> StorageResult<Vec<Alert>> {
        let limit = alert_limit(&filter);
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE account_id = $1 AND ($2::text IS NULL OR status = $2) \
             AND ($3::text IS NULL OR kind = $3) ORDER BY id DESC LIMIT $4"
        )))
        .bind(account.0)
        .bind(filter.status.map(AlertStatus::as_str))
        .bind(filter.kind.map(AlertKind::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(alert).collect()
    }

    async fn get_alert(&self, account: AccountId, id: AlertId) -> StorageResult<Option<Alert>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        get(&mut c, account, id).await
    }

    async fn set_alert_status(
        &self,
        account: AccountId,
        id: AlertId,
        status: AlertStatus,
        by: UserId,
        now: DateTime<Utc>,
    ) -> StorageResult<Alert> {
        let sql = match status {
            AlertStatus::Open => {
                "UPDATE alerts SET status = 'open', resolved_at = NULL, resolved_by = NULL, acknowledged_by = NULL, \
                 updated_at = $3 WHERE id = $1 AND account_id = $2"
            }
            AlertStatus::Acknowledged => {
                "UPDATE alerts SET status = 'acknowledged', acknowledged_by = $4, updated_at = $3 \
                 WHERE id = $1 AND account_id = $2"
            }
            AlertStatus::Resolved => {
                "UPDATE alerts SET status = 'resolved', resolved_at = $3, resolved_by = $4, updated_at = $3 \
                 WHERE id = $1 AND account_id = $2"
            }
        };
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let q = sqlx::query(sql).bind(id.0).bind(account.0).bind(now);
        // Reopening records nobody: it has no user to bind.
        let q = if status == AlertStatus::Open { q } else { q.bind(by.0) };
        let n = q.execute(&mut *tx).await.map_err(db_err)?.rows_affected();
        if n == 0 {
            return Err(StorageError::NotFound);
        }
        let a = get(&mut tx, account, id).await?.ok_or(StorageError::NotFound)?;
        tx.commit().await.map_err(db_err)?;
        Ok(a)
    }

    async fn detector_targets(&self) -> StorageResult<Vec<(AccountId, ShopConnectionId)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT account_id, id FROM shop_connections ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|(a, c)| (AccountId(a), ShopConnectionId(c))).collect())
    }

    async fn stock_levels(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
    ) -> StorageResult<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT i.inventory_item_id, SUM(i.available)::bigint FROM shop_inventory i \
             JOIN shop_connections s ON s.id = i.connection_id \
             WHERE i.connection_id = $1 AND s.account_id = $2 GROUP BY i.inventory_item_id ORDER BY i.inventory_item_id",
        )
        .bind(connection.0)
        .bind(account.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn orders_placed_since(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<OrderDetails>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT id, connection_id, document FROM shop_orders \
             WHERE account_id = $1 AND connection_id = $2 AND placed_at >= $3 \
             ORDER BY placed_at DESC, id DESC LIMIT $4",
        )
        .bind(account.0)
        .bind(connection.0)
        .bind(since)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(with_order_details(&mut c, rows).await?.into_iter().map(|o| o.details).collect())
    }

    async fn count_conversations_asking(
        &self,
        account: AccountId,
        terms: &[String],
        since: DateTime<Utc>,
    ) -> StorageResult<u32> {
        let patterns: Vec<String> =
            terms.iter().filter(|t| !t.trim().is_empty()).map(|t| no_nul(&contains_pattern(t))).collect();
        if patterns.is_empty() {
            return Ok(0);
        }
        // `LIKE` escapes with a backslash by default, as `contains_pattern`
        // expects.
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations c WHERE c.account_id = $1 AND c.status <> 'resolved' \
             AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'incoming' \
               AND m.sent_at >= $2 AND m.search_text LIKE ANY($3::text[]))",
        )
        .bind(account.0)
        .bind(since)
        .bind(&patterns)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
