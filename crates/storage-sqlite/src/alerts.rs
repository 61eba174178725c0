//! Alerts on SQLite, and the detectors' reads of the mirror and of the
//! conversations.

use crate::commerce::details;
use crate::sql::{append_event, dt, ts};
use crate::{SqliteStorage, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_commerce::OrderDetails;
use ferry_commerce::detect::AlertKind;
use ferry_core::{AccountId, AlertId, ShopConnectionId, UserId};
use ferry_storage::rows::{contains_pattern, json, to_json};
use ferry_storage::*;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(AlertRow, String)> {
    let details: String = r.get(7)?;
    Ok((
        AlertRow {
            id: r.get(0)?,
            account_id: r.get(1)?,
            connection_id: r.get(2)?,
            kind: r.get(3)?,
            key: r.get(4)?,
            severity: r.get(5)?,
            title: r.get(6)?,
            details: serde_json::Value::Null,
            status: r.get(8)?,
            first_seen_at: dt(r.get(9)?),
            last_seen_at: dt(r.get(10)?),
            resolved_at: r.get::<_, Option<i64>>(11)?.map(dt),
            acknowledged_by: r.get(12)?,
            resolved_by: r.get(13)?,
        },
        details,
    ))
}

fn alert((mut row, details): (AlertRow, String)) -> StorageResult<Alert> {
    row.details = json("alerts.details", &details)?;
    Alert::try_from(row)
}

fn get(c: &Connection, account: AccountId, id: AlertId) -> StorageResult<Option<Alert>> {
    c.prepare_cached(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = ?1 AND account_id = ?2"))
        .map_err(db_err)?
        .query_row(params![id.0, account.0], alert_row)
        .optional()
        .map_err(db_err)?
        .map(alert)
        .transpose()
}

#[async_trait]
impl AlertRepo for SqliteStorage {
    async fn record_alerts(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        kinds: &[AlertKind],
        found: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> StorageResult<AlertRunOutcome> {
        let kinds: Vec<&'static str> = kinds.iter().map(|k| k.as_str()).collect();
        self.write(move |c| {
            let owned: Option<i64> = c
                .prepare_cached("SELECT id FROM shop_connections WHERE id = ?1 AND account_id = ?2")
                .map_err(db_err)?
                .query_row(params![connection.0, account.0], |r| r.get(0))
                .optional()
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
                let existing: Option<(i64, String)> = c
                    .prepare_cached(
                        "SELECT id, status FROM alerts WHERE account_id = ?1 AND connection_id = ?2 AND kind = ?3 AND key = ?4",
                    )
                    .map_err(db_err)?
                    .query_row(params![account.0, connection.0, a.kind.as_str(), a.key], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                    .map_err(db_err)?;
                let details = to_json(&a.details);
                match existing {
                    None => {
                        c.prepare_cached(
                            "INSERT INTO alerts (account_id, connection_id, kind, key, severity, title, details, status, \
                             first_seen_at, last_seen_at, created_at, updated_at) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?8, ?8, ?8)",
                        )
                        .map_err(db_err)?
                        .execute(params![
                            account.0,
                            connection.0,
                            a.kind.as_str(),
                            a.key,
                            a.severity.as_str(),
                            a.title,
                            details,
                            ts(now)
                        ])
                        .map_err(db_err)?;
                        let id = c.last_insert_rowid();
                        seen.push(id);
                        out.raised.push(AlertId(id));
                        append_event(c, account, &a.raised_event(AlertId(id)), now)?;
                    }
                    Some((id, status)) if status == AlertStatus::Resolved.as_str() => {
                        c.prepare_cached(
                            "UPDATE alerts SET status = 'open', severity = ?2, title = ?3, details = ?4, first_seen_at = ?5, \
                             last_seen_at = ?5, resolved_at = NULL, acknowledged_by = NULL, resolved_by = NULL, updated_at = ?5 \
                             WHERE id = ?1",
                        )
                        .map_err(db_err)?
                        .execute(params![id, a.severity.as_str(), a.title, details, ts(now)])
                        .map_err(db_err)?;
                        seen.push(id);
                        out.raised.push(AlertId(id));
                        append_event(c, account, &a.raised_event(AlertId(id)), now)?;
                    }
                    Some((id, _)) => {
                        c.prepare_cached(
                            "UPDATE alerts SET severity = ?2, title = ?3, details = ?4, last_seen_at = ?5, updated_at = ?5 \
                             WHERE id = ?1",
                        )
                        .map_err(db_err)?
                        .execute(params![id, a.severity.as_str(), a.title, details, ts(now)])
                        .map_err(db_err)?;
                        seen.push(id);
                        out.refreshed += 1;
                    }
                }
            }
            let resolved = c
                .prepare_cached(
                    "UPDATE alerts SET status = 'resolved', resolved_at = ?3, resolved_by = NULL, updated_at = ?3 \
                     WHERE account_id = ?1 AND connection_id = ?2 AND status <> 'resolved' \
                     AND kind IN (SELECT value FROM json_each(?4)) AND id NOT IN (SELECT value FROM json_each(?5))",
                )
                .map_err(db_err)?
                .execute(params![account.0, connection.0, ts(now), to_json(&kinds), to_json(&seen)])
                .map_err(db_err)?;
            out.resolved = u32::try_from(resolved).unwrap_or(u32::MAX);
            Ok(out)
        })
        .await
    }

    async fn list_alerts(&self, account: AccountId, filter: AlertFilter) -> StorageResult<Vec<Alert>> {
        let limit = alert_limit(&filter);
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLS} FROM alerts WHERE account_id = ?1 AND (?2 IS NULL OR status = ?2) \
                     AND (?3 IS NULL OR kind = ?3) ORDER BY id DESC LIMIT ?4"
                ))
                .map_err(db_err)?;
            let rows = st
                .query_map(
                    params![
                        account.0,
                        filter.status.map(AlertStatus::as_str),
                        filter.kind.map(AlertKind::as_str),
                        i64::from(limit)
                    ],
                    alert_row,
                )
                .map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(alert)).collect()
        })
        .await
    }

    async fn get_alert(&self, account: AccountId, id: AlertId) -> StorageResult<Option<Alert>> {
        self.read(move |c| get(c, account, id)).await
    }

    async fn set_alert_status(
        &self,
        account: AccountId,
        id: AlertId,
        status: AlertStatus,
        by: UserId,
        now: DateTime<Utc>,
    ) -> StorageResult<Alert> {
        self.write(move |c| {
            let mut st = c
                .prepare_cached(match status {
                    AlertStatus::Open => {
                        "UPDATE alerts SET status = 'open', resolved_at = NULL, resolved_by = NULL, \
                         acknowledged_by = NULL, updated_at = ?3 WHERE id = ?1 AND account_id = ?2"
                    }
                    AlertStatus::Acknowledged => {
                        "UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?4, updated_at = ?3 \
                         WHERE id = ?1 AND account_id = ?2"
                    }
                    AlertStatus::Resolved => {
                        "UPDATE alerts SET status = 'resolved', resolved_at = ?3, resolved_by = ?4, updated_at = ?3 \
                         WHERE id = ?1 AND account_id = ?2"
                    }
                })
                .map_err(db_err)?;
            // Reopening records nobody: it has no user to bind.
            let n = if status == AlertStatus::Open {
                st.execute(params![id.0, account.0, ts(now)])
            } else {
                st.execute(params![id.0, account.0, ts(now), by.0])
            }
            .map_err(db_err)?;
            drop(st);
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            get(c, account, id)?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn detector_targets(&self) -> StorageResult<Vec<(AccountId, ShopConnectionId)>> {
        self.read(move |c| {
            let mut st = c.prepare_cached("SELECT account_id, id FROM shop_connections ORDER BY id").map_err(db_err)?;
            let rows = st.query_map([], |r| Ok((AccountId(r.get(0)?), ShopConnectionId(r.get(1)?)))).map_err(db_err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
        })
        .await
    }

    async fn stock_levels(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
    ) -> StorageResult<Vec<(String, i64)>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT i.inventory_item_id, SUM(i.available) FROM shop_inventory i \
                     JOIN shop_connections s ON s.id = i.connection_id \
                     WHERE i.connection_id = ?1 AND s.account_id = ?2 GROUP BY i.inventory_item_id ORDER BY i.inventory_item_id",
                )
                .map_err(db_err)?;
            let rows = st.query_map(params![connection.0, account.0], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db_err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
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
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT id, connection_id, document FROM shop_orders \
                     WHERE account_id = ?1 AND connection_id = ?2 AND placed_at >= ?3 \
                     ORDER BY placed_at DESC, id DESC LIMIT ?4",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![account.0, connection.0, ts(since), i64::from(limit.max(1))], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            rows.iter().map(|(id, conn, doc)| details(c, *id, *conn, doc).map(|o| o.details)).collect()
        })
        .await
    }

    async fn count_conversations_asking(
        &self,
        account: AccountId,
        terms: &[String],
        since: DateTime<Utc>,
    ) -> StorageResult<u32> {
        let patterns: Vec<String> =
            terms.iter().filter(|t| !t.trim().is_empty()).map(|t| contains_pattern(t)).collect();
        if patterns.is_empty() {
            return Ok(0);
        }
        self.read(move |c| {
            let n: i64 = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM conversations c WHERE c.account_id = ?1 AND c.status <> 'resolved' \
                     AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'incoming' \
                       AND m.sent_at >= ?2 \
                       AND EXISTS (SELECT 1 FROM json_each(?3) t WHERE m.search_text LIKE t.value ESCAPE '\\'))",
                )
                .map_err(db_err)?
                .query_row(params![account.0, ts(since), to_json(&patterns)], |r| r.get(0))
                .map_err(db_err)?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
    }
}
