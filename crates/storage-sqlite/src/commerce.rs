//! The shop mirror on SQLite. Every record keeps the shop's `updated_at`;
//! upserts only replace an older or different-but-as-new version, so
//! re-deliveries and late arrivals change nothing.

use crate::sql::{dt, ts};
use crate::{SqliteStorage, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_commerce::{MirrorWrite, Order, OrderDetails, Product};
use ferry_core::{AccountId, OrderId, ShopConnectionId};
use ferry_storage::rows::{clean_order_number, contains_pattern, json, order_search_text, to_json};
use ferry_storage::*;
use rusqlite::{Connection, OptionalExtension, params, types::Value};

const CONN_COLS: &str = "id, account_id, platform, name, shop_domain, secret, api_url, access_token, created_at";

fn conn_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ShopConnection, String)> {
    let platform: String = r.get(2)?;
    Ok((
        ShopConnection {
            id: ShopConnectionId(r.get(0)?),
            account_id: AccountId(r.get(1)?),
            platform: ShopPlatform::Shopify,
            name: r.get(3)?,
            shop_domain: r.get(4)?,
            secret: r.get(5)?,
            api_url: r.get(6)?,
            access_token: r.get(7)?,
            created_at: dt(r.get(8)?),
        },
        platform,
    ))
}

fn connection((mut c, platform): (ShopConnection, String)) -> StorageResult<ShopConnection> {
    c.platform = ShopPlatform::parse(&platform)
        .ok_or_else(|| StorageError::Corrupt(format!("shop_connections.platform `{platform}`")))?;
    Ok(c)
}

fn get_connection(
    c: &Connection,
    account: Option<AccountId>,
    id: ShopConnectionId,
) -> StorageResult<Option<ShopConnection>> {
    c.prepare_cached(&format!(
        "SELECT {CONN_COLS} FROM shop_connections WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2)"
    ))
    .map_err(db_err)?
    .query_row(params![id.0, account.map(|a| a.0)], conn_row)
    .optional()
    .map_err(db_err)?
    .map(connection)
    .transpose()
}

/// Runs an upsert and says whether it wrote a row.
fn upsert(c: &Connection, sql: &str, p: impl rusqlite::Params) -> StorageResult<usize> {
    c.prepare_cached(sql).map_err(db_err)?.execute(p).map_err(db_err)
}

fn apply(
    c: &Connection,
    account: AccountId,
    conn: ShopConnectionId,
    w: &MirrorWrite,
    now: DateTime<Utc>,
) -> StorageResult<usize> {
    match w {
        MirrorWrite::Order(o) => upsert(
            c,
            "INSERT INTO shop_orders (account_id, connection_id, external_id, number, email, phone, search_text, source_updated_at, placed_at, document, created_at, updated_at, customer_external_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET number = excluded.number, email = excluded.email, phone = excluded.phone, \
               customer_external_id = excluded.customer_external_id, \
               search_text = excluded.search_text, source_updated_at = excluded.source_updated_at, placed_at = excluded.placed_at, \
               document = excluded.document, updated_at = excluded.updated_at \
             WHERE shop_orders.source_updated_at < excluded.source_updated_at \
                OR (shop_orders.source_updated_at = excluded.source_updated_at AND shop_orders.document <> excluded.document)",
            params![
                account.0,
                conn.0,
                o.external_id,
                clean_order_number(&o.number),
                o.email,
                o.phone,
                order_search_text(o),
                ts(o.updated_at),
                ts(o.created_at),
                to_json(o),
                ts(now),
                o.customer_external_id
            ],
        ),
        MirrorWrite::Fulfillment(f) => upsert(
            c,
            "INSERT INTO shop_fulfillments (connection_id, external_id, order_external_id, source_updated_at, document) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET order_external_id = excluded.order_external_id, \
               source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_fulfillments.source_updated_at < excluded.source_updated_at \
                OR (shop_fulfillments.source_updated_at = excluded.source_updated_at AND shop_fulfillments.document <> excluded.document)",
            params![conn.0, f.external_id, f.order_external_id, ts(f.updated_at), to_json(f)],
        ),
        MirrorWrite::Refund(r) => upsert(
            c,
            "INSERT INTO shop_refunds (connection_id, external_id, order_external_id, document) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (connection_id, external_id) DO NOTHING",
            params![conn.0, r.external_id, r.order_external_id, to_json(r)],
        ),
        MirrorWrite::Product(p) => upsert(
            c,
            "INSERT INTO shop_products (connection_id, external_id, title, source_updated_at, document) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET title = excluded.title, \
               source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_products.source_updated_at < excluded.source_updated_at \
                OR (shop_products.source_updated_at = excluded.source_updated_at AND shop_products.document <> excluded.document)",
            params![conn.0, p.external_id, p.title, ts(p.updated_at), to_json(p)],
        ),
        MirrorWrite::Inventory(l) => upsert(
            c,
            "INSERT INTO shop_inventory (connection_id, inventory_item_id, location_id, available, source_updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (connection_id, inventory_item_id, location_id) DO UPDATE SET available = excluded.available, \
               source_updated_at = excluded.source_updated_at \
             WHERE shop_inventory.source_updated_at < excluded.source_updated_at \
                OR (shop_inventory.source_updated_at = excluded.source_updated_at AND shop_inventory.available <> excluded.available)",
            params![conn.0, l.inventory_item_id, l.location_id, l.available, ts(l.updated_at)],
        ),
        MirrorWrite::Customer(cu) => upsert(
            c,
            "INSERT INTO shop_customers (connection_id, external_id, email, phone, source_updated_at, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, \
               source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_customers.source_updated_at < excluded.source_updated_at \
                OR (shop_customers.source_updated_at = excluded.source_updated_at AND shop_customers.document <> excluded.document)",
            params![conn.0, cu.external_id, cu.email, cu.phone, ts(cu.updated_at), to_json(cu)],
        ),
    }
}

/// An order row with its fulfilments and refunds.
pub(crate) fn details(c: &Connection, id: i64, conn: i64, document: &str) -> StorageResult<StoredOrder> {
    let order: Order = json("shop_orders.document", document)?;
    let docs = |sql: &str| -> StorageResult<Vec<String>> {
        let mut st = c.prepare_cached(sql).map_err(db_err)?;
        let rows = st.query_map(params![conn, order.external_id], |r| r.get::<_, String>(0)).map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
    };
    let mut fulfillments =
        docs("SELECT document FROM shop_fulfillments WHERE connection_id = ?1 AND order_external_id = ?2")?
            .iter()
            .map(|d| json::<ferry_commerce::Fulfillment>("shop_fulfillments.document", d))
            .collect::<StorageResult<Vec<_>>>()?;
    fulfillments.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
    let mut refunds = docs("SELECT document FROM shop_refunds WHERE connection_id = ?1 AND order_external_id = ?2")?
        .iter()
        .map(|d| json::<ferry_commerce::Refund>("shop_refunds.document", d))
        .collect::<StorageResult<Vec<_>>>()?;
    refunds.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
    Ok(StoredOrder {
        id: OrderId(id),
        connection_id: ShopConnectionId(conn),
        details: OrderDetails { order, fulfillments, refunds },
    })
}

#[async_trait]
impl CommerceRepo for SqliteStorage {
    async fn create_shop_connection(
        &self,
        account: AccountId,
        new: NewShopConnection,
        now: DateTime<Utc>,
    ) -> StorageResult<ShopConnection> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO shop_connections (account_id, platform, name, shop_domain, secret, api_url, access_token, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![account.0, new.platform.as_str(), new.name, new.shop_domain, new.secret, new.api_url, new.access_token, ts(now)],
            )
            .map_err(db_err)?;
            get_connection(c, Some(account), ShopConnectionId(c.last_insert_rowid()))?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn get_shop_connection(
        &self,
        account: AccountId,
        id: ShopConnectionId,
    ) -> StorageResult<Option<ShopConnection>> {
        self.read(move |c| get_connection(c, Some(account), id)).await
    }

    async fn find_shop_connection(&self, id: ShopConnectionId) -> StorageResult<Option<ShopConnection>> {
        self.read(move |c| get_connection(c, None, id)).await
    }

    async fn list_shop_connections(&self, account: AccountId) -> StorageResult<Vec<ShopConnection>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {CONN_COLS} FROM shop_connections WHERE account_id = ?1 ORDER BY id"))
                .map_err(db_err)?;
            let rows = st.query_map(params![account.0], conn_row).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err).and_then(connection)).collect()
        })
        .await
    }

    async fn update_shop_connection(
        &self,
        account: AccountId,
        id: ShopConnectionId,
        patch: ShopConnectionPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<ShopConnection> {
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE shop_connections SET name = COALESCE(?3, name), \
                     api_url = CASE WHEN ?4 THEN ?5 ELSE api_url END, \
                     access_token = CASE WHEN ?6 THEN ?7 ELSE access_token END, updated_at = ?8 \
                     WHERE account_id = ?1 AND id = ?2",
                    params![
                        account.0,
                        id.0,
                        patch.name,
                        patch.api_url.is_some(),
                        patch.api_url.flatten(),
                        patch.access_token.is_some(),
                        patch.access_token.flatten(),
                        ts(now)
                    ],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            get_connection(c, Some(account), id)?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn apply_mirror_writes(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        webhook_id: Option<String>,
        writes: Vec<MirrorWrite>,
        now: DateTime<Utc>,
    ) -> StorageResult<MirrorOutcome> {
        self.write(move |c| {
            get_connection(c, Some(account), connection)?.ok_or(StorageError::NotFound)?;
            if let Some(wid) = &webhook_id {
                let fresh = upsert(
                    c,
                    "INSERT INTO shop_webhooks (connection_id, webhook_id, received_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![connection.0, wid, ts(now)],
                )?;
                if fresh == 0 {
                    return Ok(MirrorOutcome { duplicate: true, changed: 0 });
                }
            }
            let mut changed = 0;
            for w in &writes {
                changed += apply(c, account, connection, w, now)?;
            }
            Ok(MirrorOutcome { duplicate: false, changed })
        })
        .await
    }

    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StorageResult<Vec<StoredOrder>> {
        self.read(move |c| {
            let mut sql = String::from("SELECT id, connection_id, document FROM shop_orders WHERE account_id = ?");
            let mut args: Vec<Value> = vec![Value::Integer(account.0)];
            if let Some(q) = query.q.as_deref().map(clean_order_number).filter(|q| !q.is_empty()) {
                sql.push_str(" AND search_text LIKE ? ESCAPE '\\'");
                args.push(Value::Text(contains_pattern(&q)));
            }
            if let Some(n) = query.number.as_deref().map(clean_order_number) {
                sql.push_str(" AND number = ?");
                args.push(Value::Text(n));
            }
            if !query.emails.is_empty() || !query.phones.is_empty() {
                // Also the orders of the shop customers with these e-mails
                // or phones, whatever the order's own.
                sql.push_str(
                    " AND (email IN (SELECT value FROM json_each(?)) OR phone IN (SELECT value FROM json_each(?)) \
                     OR (customer_external_id IS NOT NULL AND (connection_id, customer_external_id) IN \
                        (SELECT connection_id, external_id FROM shop_customers \
                         WHERE email IN (SELECT value FROM json_each(?)) OR phone IN (SELECT value FROM json_each(?)))))",
                );
                let (e, p) = (to_json(&query.emails), to_json(&query.phones));
                args.extend([Value::Text(e.clone()), Value::Text(p.clone()), Value::Text(e), Value::Text(p)]);
            }
            let limit = if query.limit == 0 { 50 } else { query.limit.clamp(1, 200) };
            sql.push_str(&format!(" ORDER BY placed_at DESC, id DESC LIMIT {limit}"));
            let mut st = c.prepare_cached(&sql).map_err(db_err)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(args), |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            rows.iter().map(|(id, conn, doc)| details(c, *id, *conn, doc)).collect()
        })
        .await
    }

    async fn get_order(&self, account: AccountId, id: OrderId) -> StorageResult<Option<StoredOrder>> {
        self.read(move |c| {
            let row = c
                .prepare_cached("SELECT id, connection_id, document FROM shop_orders WHERE id = ?1 AND account_id = ?2")
                .map_err(db_err)?
                .query_row(params![id.0, account.0], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })
                .optional()
                .map_err(db_err)?;
            row.map(|(id, conn, doc)| details(c, id, conn, &doc)).transpose()
        })
        .await
    }

    async fn available_stock(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        inventory_item_id: &str,
    ) -> StorageResult<Option<i64>> {
        let item = inventory_item_id.to_owned();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT SUM(i.available) FROM shop_inventory i JOIN shop_connections s ON s.id = i.connection_id \
                 WHERE i.connection_id = ?1 AND s.account_id = ?2 AND i.inventory_item_id = ?3",
            )
            .map_err(db_err)?
            .query_row(params![connection.0, account.0, item], |r| r.get::<_, Option<i64>>(0))
            .map_err(db_err)
        })
        .await
    }

    async fn list_products(&self, account: AccountId, connection: ShopConnectionId) -> StorageResult<Vec<Product>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT p.document FROM shop_products p JOIN shop_connections s ON s.id = p.connection_id \
                     WHERE p.connection_id = ?1 AND s.account_id = ?2 ORDER BY p.title, p.external_id",
                )
                .map_err(db_err)?;
            let docs = st
                .query_map(params![connection.0, account.0], |r| r.get::<_, String>(0))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            docs.iter().map(|d| json("shop_products.document", d)).collect()
        })
        .await
    }
    async fn count_orders(&self, account: AccountId, connection: ShopConnectionId) -> StorageResult<i64> {
        self.read(move |c| {
            c.prepare_cached("SELECT COUNT(*) FROM shop_orders WHERE connection_id = ?1 AND account_id = ?2")
                .map_err(db_err)?
                .query_row(params![connection.0, account.0], |r| r.get::<_, i64>(0))
                .map_err(db_err)
        })
        .await
    }

    async fn get_sync_state(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        resource: &str,
    ) -> StorageResult<Option<ShopSyncState>> {
        let resource = resource.to_owned();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT y.resource, y.cursor, y.done, y.fetched, y.updated_at FROM shop_sync_state y \
                 JOIN shop_connections s ON s.id = y.connection_id \
                 WHERE y.connection_id = ?1 AND s.account_id = ?2 AND y.resource = ?3",
            )
            .map_err(db_err)?
            .query_row(params![connection.0, account.0, resource], |r| {
                Ok(ShopSyncState {
                    resource: r.get(0)?,
                    cursor: r.get(1)?,
                    done: r.get::<_, i64>(2)? != 0,
                    fetched: r.get(3)?,
                    updated_at: dt(r.get(4)?),
                })
            })
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn put_sync_state(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        state: ShopSyncState,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |c| {
            get_connection(c, Some(account), connection)?.ok_or(StorageError::NotFound)?;
            c.prepare_cached(
                "INSERT INTO shop_sync_state (connection_id, resource, cursor, done, fetched, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (connection_id, resource) DO UPDATE SET \
                 cursor = excluded.cursor, done = excluded.done, fetched = excluded.fetched, updated_at = excluded.updated_at",
            )
            .map_err(db_err)?
            .execute(params![connection.0, state.resource, state.cursor, i64::from(state.done), state.fetched, ts(now)])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}
