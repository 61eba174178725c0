//! Alerts the commerce detectors raise, and the detectors' reads of the
//! mirror and of the conversations.

use super::commerce::{owns_connection, with_details};
use super::insert;
use super::outbox::append_event;
use crate::alerts::*;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row, found, lock_key};
use crate::error::{StorageError, StorageResult};
use crate::rows::contains_pattern;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_commerce::OrderDetails;
use ferry_commerce::detect::AlertKind;
use ferry_core::{AccountId, AlertId, ShopConnectionId, UserId};
use std::collections::HashSet;

fn alert(r: &Row) -> StorageResult<Alert> {
    Alert::try_from(AlertRow {
        id: r.int(0)?,
        account_id: r.int(1)?,
        connection_id: r.opt_int(2)?,
        kind: r.text(3)?,
        key: r.text(4)?,
        severity: r.text(5)?,
        title: r.text(6)?,
        details: r.json(7, "alerts.details")?,
        status: r.text(8)?,
        first_seen_at: r.time(9)?,
        last_seen_at: r.time(10)?,
        resolved_at: r.opt_time(11)?,
        acknowledged_by: r.opt_int(12)?,
        resolved_by: r.opt_int(13)?,
    })
}

/// Records one run's findings on a connection, or on the account as a
/// whole (`None`), in the caller's unit of work.
async fn record<D: Db>(
    db: &mut D,
    account: AccountId,
    connection: Option<ShopConnectionId>,
    kinds: Vec<String>,
    found: Vec<NewAlert>,
    now: DateTime<Utc>,
) -> StorageResult<AlertRunOutcome> {
    // The same connection, or none on both sides.
    const SAME: &str = "(connection_id = $2 OR ($2 IS NULL AND connection_id IS NULL))";
    let connection = connection.map(|c| c.0);
    let mut out = AlertRunOutcome::default();
    let mut seen: Vec<i64> = Vec::new();
    let mut keys = HashSet::new();
    for a in found {
        if !keys.insert((a.kind, a.key.clone())) {
            continue;
        }
        let sql = format!("SELECT id, status FROM alerts WHERE account_id = $1 AND {SAME} AND kind = $3 AND key = $4");
        let existing = db.row(&sql, args![account.0, connection, a.kind.as_str(), &a.key]).await?;
        let reopen = match &existing {
            None => true,
            Some(r) => r.text(1)? == AlertStatus::Resolved.as_str(),
        };
        let id = match existing {
            None => {
                insert(
                    db,
                    "INSERT INTO alerts (account_id, connection_id, kind, key, severity, title, details, \
                     status, first_seen_at, last_seen_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8, $8, $8) RETURNING id",
                    args![
                        account.0,
                        connection,
                        a.kind.as_str(),
                        &a.key,
                        a.severity.as_str(),
                        &a.title,
                        Arg::json(&a.details),
                        now
                    ],
                )
                .await?
            }
            Some(r) => {
                let sql = if reopen {
                    "UPDATE alerts SET status = 'open', severity = $2, title = $3, details = $4, \
                     first_seen_at = $5, last_seen_at = $5, resolved_at = NULL, acknowledged_by = NULL, \
                     resolved_by = NULL, updated_at = $5 WHERE id = $1"
                } else {
                    "UPDATE alerts SET severity = $2, title = $3, details = $4, last_seen_at = $5, \
                     updated_at = $5 WHERE id = $1"
                };
                let id = r.int(0)?;
                db.exec(sql, args![id, a.severity.as_str(), &a.title, Arg::json(&a.details), now]).await?;
                id
            }
        };
        seen.push(id);
        if reopen {
            out.raised.push(AlertId(id));
            append_event(db, account, &a.raised_event(AlertId(id)), now).await?;
        } else {
            out.refreshed += 1;
        }
    }
    let sql = format!(
        "UPDATE alerts SET status = 'resolved', resolved_at = $3, resolved_by = NULL, updated_at = $3 \
         WHERE account_id = $1 AND {SAME} AND status <> 'resolved' \
         AND kind IN (SELECT value FROM {}) AND id NOT IN (SELECT value FROM {})",
        db.list("$4"),
        db.list("$5")
    );
    let resolved = db.exec(&sql, args![account.0, connection, now, kinds, seen]).await?;
    out.resolved = u32::try_from(resolved).unwrap_or(u32::MAX);
    Ok(out)
}

#[async_trait]
impl<B: Backend> AlertRepo for B {
    async fn record_alerts(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        kinds: &[AlertKind],
        found: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> StorageResult<AlertRunOutcome> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
        self.write(move |db| {
            Box::pin(async move {
                // One run per connection at a time: concurrent runs wait
                // here instead of racing on the same keys.
                if !owns_connection(db, account, connection, Lock::NoKeyUpdate).await? {
                    return Err(StorageError::NotFound);
                }
                record(db, account, Some(connection), kinds, found, now).await
            })
        })
        .await
    }

    async fn record_account_alerts(
        &self,
        account: AccountId,
        kinds: &[AlertKind],
        found: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> StorageResult<AlertRunOutcome> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
        self.write(move |db| {
            Box::pin(async move {
                // One run per account at a time (no shop row to lock).
                db.serialize_on(vec![lock_key(&["ferry", "account_alerts", &account.0.to_string()])]).await?;
                record(db, account, None, kinds, found, now).await
            })
        })
        .await
    }

    async fn list_alerts(&self, account: AccountId, filter: AlertFilter) -> StorageResult<Vec<Alert>> {
        let limit = alert_limit(&filter);
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ALERT_COLS} FROM alerts WHERE account_id = $1 AND ($2 IS NULL OR status = $2) \
                     AND ($3 IS NULL OR kind = $3) ORDER BY id DESC LIMIT $4"
                );
                let status = filter.status.map(AlertStatus::as_str);
                let rows = db.rows(&sql, args![account.0, status, filter.kind.map(AlertKind::as_str), limit]).await?;
                rows.iter().map(alert).collect()
            })
        })
        .await
    }

    async fn get_alert(&self, account: AccountId, id: AlertId) -> StorageResult<Option<Alert>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1 AND account_id = $2");
                db.row(&sql, args![id.0, account.0]).await?.as_ref().map(alert).transpose()
            })
        })
        .await
    }

    async fn set_alert_status(
        &self,
        account: AccountId,
        id: AlertId,
        status: AlertStatus,
        by: UserId,
        now: DateTime<Utc>,
    ) -> StorageResult<Alert> {
        self.write(move |db| {
            Box::pin(async move {
                // Reopening records nobody: it has no user to bind.
                let (sql, args) = match status {
                    AlertStatus::Open => (
                        "UPDATE alerts SET status = 'open', resolved_at = NULL, resolved_by = NULL, \
                         acknowledged_by = NULL, updated_at = $3 WHERE id = $1 AND account_id = $2",
                        args![id.0, account.0, now],
                    ),
                    AlertStatus::Acknowledged => (
                        "UPDATE alerts SET status = 'acknowledged', acknowledged_by = $4, updated_at = $3 \
                         WHERE id = $1 AND account_id = $2",
                        args![id.0, account.0, now, by.0],
                    ),
                    AlertStatus::Resolved => (
                        "UPDATE alerts SET status = 'resolved', resolved_at = $3, resolved_by = $4, updated_at = $3 \
                         WHERE id = $1 AND account_id = $2",
                        args![id.0, account.0, now, by.0],
                    ),
                };
                found(db.exec(sql, args).await?)?;
                let sql = format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1 AND account_id = $2");
                alert(&db.row(&sql, args![id.0, account.0]).await?.ok_or(StorageError::NotFound)?)
            })
        })
        .await
    }

    async fn detector_targets(&self) -> StorageResult<Vec<(AccountId, ShopConnectionId)>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db.rows("SELECT account_id, id FROM shop_connections ORDER BY id", Vec::new()).await?;
                rows.iter().map(|r| Ok((AccountId(r.int(0)?), ShopConnectionId(r.int(1)?)))).collect()
            })
        })
        .await
    }

    async fn stock_levels(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
    ) -> StorageResult<Vec<(String, i64)>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT i.inventory_item_id, CAST(SUM(i.available) AS BIGINT) FROM shop_inventory i \
                         JOIN shop_connections s ON s.id = i.connection_id WHERE i.connection_id = $1 \
                         AND s.account_id = $2 GROUP BY i.inventory_item_id ORDER BY i.inventory_item_id",
                        args![connection.0, account.0],
                    )
                    .await?;
                rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
            })
        })
        .await
    }

    async fn orders_placed_since(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<OrderDetails>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, connection_id, document FROM shop_orders \
                         WHERE account_id = $1 AND connection_id = $2 AND placed_at >= $3 \
                         ORDER BY placed_at DESC, id DESC LIMIT $4",
                        args![account.0, connection.0, since, limit.max(1)],
                    )
                    .await?;
                Ok(with_details(db, rows).await?.into_iter().map(|o| o.details).collect())
            })
        })
        .await
    }

    async fn count_conversations_asking(
        &self,
        account: AccountId,
        terms: &[String],
        since: DateTime<Utc>,
    ) -> StorageResult<u32> {
        let patterns = asking_patterns(terms);
        if patterns.is_empty() {
            return Ok(0);
        }
        self.read(move |db| {
            Box::pin(async move {
                let sql = asking_sql(&db.list("$3"), "COUNT(*)", "");
                let n = db.row(&sql, args![account.0, since, patterns]).await?.map_or(Ok(0), |r| r.count(0))?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            })
        })
        .await
    }

    async fn contacts_asking(
        &self,
        account: AccountId,
        terms: &[String],
        since: DateTime<Utc>,
    ) -> StorageResult<Vec<ferry_core::ContactId>> {
        let patterns = asking_patterns(terms);
        if patterns.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |db| {
            Box::pin(async move {
                let sql = asking_sql(&db.list("$3"), "DISTINCT c.contact_id", " ORDER BY c.contact_id LIMIT 1000");
                db.rows(&sql, args![account.0, since, patterns])
                    .await?
                    .iter()
                    .map(|r| r.int(0).map(ferry_core::ContactId))
                    .collect()
            })
        })
        .await
    }
}

/// The patterns of `terms` for [`asking_sql`]; empty when no term is left.
fn asking_patterns(terms: &[String]) -> Vec<String> {
    terms.iter().filter(|t| !t.trim().is_empty()).map(|t| contains_pattern(t)).collect()
}

/// Unresolved conversations with a buyer message since `$2` containing one
/// of the patterns in `$3` (a `list`), selecting `what`.
fn asking_sql(list: &str, what: &str, tail: &str) -> String {
    format!(
        "SELECT {what} FROM conversations c WHERE c.account_id = $1 AND c.status <> 'resolved' \
         AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'incoming' \
         AND m.sent_at >= $2 AND EXISTS (SELECT 1 FROM {list} WHERE m.search_text LIKE t.value ESCAPE '\\')){tail}"
    )
}
