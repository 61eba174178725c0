//! The shop mirror. Every record keeps the shop's `updated_at`; upserts
//! only replace an older or different-but-as-new version, so re-deliveries
//! and late arrivals change nothing.

use super::profiles::{contacts_reached_by, refresh_profile, write_order_lines};
use super::{Query, insert};
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row, found};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::CommerceRepo;
use crate::rows::{clean_order_number, contains_pattern};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_commerce::{Fulfillment, MirrorWrite, Order, OrderDetails, Product, Refund};
use ferry_core::{AccountId, OrderId, ShopConnectionId};

const CONN_COLS: &str = "id, account_id, platform, name, shop_domain, secret, api_url, access_token, created_at";

fn shop_connection(r: &Row) -> StorageResult<ShopConnection> {
    let platform = r.text(2)?;
    Ok(ShopConnection {
        id: ShopConnectionId(r.int(0)?),
        account_id: AccountId(r.int(1)?),
        platform: ShopPlatform::parse(&platform)
            .ok_or_else(|| StorageError::Corrupt(format!("shop_connections.platform `{platform}`")))?,
        name: r.text(3)?,
        shop_domain: r.text(4)?,
        secret: r.text(5)?,
        api_url: r.opt_text(6)?,
        access_token: r.opt_text(7)?,
        created_at: r.time(8)?,
    })
}

async fn get_connection<D: Db>(
    db: &mut D,
    account: Option<AccountId>,
    id: ShopConnectionId,
) -> StorageResult<Option<ShopConnection>> {
    let sql = format!("SELECT {CONN_COLS} FROM shop_connections WHERE id = $1 AND ($2 IS NULL OR account_id = $2)");
    db.row(&sql, args![id.0, account.map(|a| a.0)]).await?.as_ref().map(shop_connection).transpose()
}

/// Whether the account owns the connection, which is then locked as
/// `lock` says.
pub(super) async fn owns_connection<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ShopConnectionId,
    lock: Lock,
) -> StorageResult<bool> {
    let sql = format!("SELECT id FROM shop_connections WHERE id = $1 AND account_id = $2{}", db.lock(lock));
    Ok(db.row(&sql, args![id.0, account.0]).await?.is_some())
}

/// Where a write goes, so that a batch takes its row locks in one order
/// (two batches touching the same records never wait on each other in a
/// circle). The sort is stable: writes to the same record keep their order.
fn mirror_write_key(w: &MirrorWrite) -> (u8, &str, &str) {
    match w {
        MirrorWrite::Order(o) => (0, &o.external_id, ""),
        MirrorWrite::Fulfillment(f) => (1, &f.external_id, ""),
        MirrorWrite::Refund(r) => (2, &r.external_id, ""),
        MirrorWrite::Product(p) => (3, &p.external_id, ""),
        MirrorWrite::Inventory(l) => (4, &l.inventory_item_id, &l.location_id),
        MirrorWrite::Customer(c) => (5, &c.external_id, ""),
    }
}

/// Applies one write, keeping the newer version (an equal timestamp with a
/// different record replaces it; the same record changes nothing); true
/// when a row was written.
async fn apply<D: Db>(
    db: &mut D,
    account: AccountId,
    conn: ShopConnectionId,
    w: &MirrorWrite,
    now: DateTime<Utc>,
) -> StorageResult<bool> {
    let (sql, args) = match w {
        MirrorWrite::Order(o) => (
            "INSERT INTO shop_orders (account_id, connection_id, external_id, number, email, phone, search_text, \
             source_updated_at, placed_at, document, created_at, updated_at, customer_external_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET number = excluded.number, email = excluded.email, \
             phone = excluded.phone, customer_external_id = excluded.customer_external_id, \
             search_text = excluded.search_text, source_updated_at = excluded.source_updated_at, \
             placed_at = excluded.placed_at, document = excluded.document, updated_at = excluded.updated_at \
             WHERE shop_orders.source_updated_at < excluded.source_updated_at \
             OR (shop_orders.source_updated_at = excluded.source_updated_at AND shop_orders.document <> excluded.document)",
            args![
                account.0,
                conn.0,
                &o.external_id,
                clean_order_number(&o.number),
                &o.email,
                &o.phone,
                ferry_commerce::order_search_text(o, &[]).to_lowercase(),
                o.updated_at,
                o.created_at,
                Arg::json(&**o),
                now,
                &o.customer_external_id
            ],
        ),
        MirrorWrite::Fulfillment(f) => (
            "INSERT INTO shop_fulfillments (connection_id, external_id, order_external_id, source_updated_at, document) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET order_external_id = excluded.order_external_id, \
             source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_fulfillments.source_updated_at < excluded.source_updated_at \
             OR (shop_fulfillments.source_updated_at = excluded.source_updated_at \
             AND shop_fulfillments.document <> excluded.document)",
            args![conn.0, &f.external_id, &f.order_external_id, f.updated_at, Arg::json(f)],
        ),
        // Refunds never change once made.
        MirrorWrite::Refund(r) => (
            "INSERT INTO shop_refunds (connection_id, external_id, order_external_id, document) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (connection_id, external_id) DO NOTHING",
            args![conn.0, &r.external_id, &r.order_external_id, Arg::json(r)],
        ),
        MirrorWrite::Product(p) => (
            "INSERT INTO shop_products (connection_id, external_id, title, source_updated_at, document) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET title = excluded.title, \
             source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_products.source_updated_at < excluded.source_updated_at \
             OR (shop_products.source_updated_at = excluded.source_updated_at AND shop_products.document <> excluded.document)",
            args![conn.0, &p.external_id, &p.title, p.updated_at, Arg::json(p)],
        ),
        MirrorWrite::Inventory(l) => (
            "INSERT INTO shop_inventory (connection_id, inventory_item_id, location_id, available, source_updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (connection_id, inventory_item_id, location_id) DO UPDATE SET available = excluded.available, \
             source_updated_at = excluded.source_updated_at \
             WHERE shop_inventory.source_updated_at < excluded.source_updated_at \
             OR (shop_inventory.source_updated_at = excluded.source_updated_at \
             AND shop_inventory.available <> excluded.available)",
            args![conn.0, &l.inventory_item_id, &l.location_id, l.available, l.updated_at],
        ),
        MirrorWrite::Customer(cu) => (
            "INSERT INTO shop_customers (connection_id, external_id, email, phone, source_updated_at, document) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, \
             source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_customers.source_updated_at < excluded.source_updated_at \
             OR (shop_customers.source_updated_at = excluded.source_updated_at \
             AND shop_customers.document <> excluded.document)",
            args![conn.0, &cu.external_id, &cu.email, &cu.phone, cu.updated_at, Arg::json(cu)],
        ),
    };
    let changed = db.exec(sql, args).await? > 0;
    // An order is also found by its shipments' tracking numbers, which
    // arrive on their own.
    match w {
        MirrorWrite::Order(o) if changed => refresh_order_search(db, conn, &o.external_id).await?,
        MirrorWrite::Fulfillment(f) if changed => refresh_order_search(db, conn, &f.order_external_id).await?,
        _ => {}
    }
    Ok(changed)
}

/// Rewrites an order's search text from its document and shipments.
pub(super) async fn refresh_order_search<D: Db>(
    db: &mut D,
    conn: ShopConnectionId,
    order_external_id: &str,
) -> StorageResult<()> {
    let rows = db
        .rows(
            "SELECT id, connection_id, document FROM shop_orders WHERE connection_id = $1 AND external_id = $2",
            args![conn.0, order_external_id],
        )
        .await?;
    let Some(order) = with_details(db, rows).await?.pop() else { return Ok(()) };
    let text = order.details.search_text().to_lowercase();
    db.exec("UPDATE shop_orders SET search_text = $1 WHERE id = $2 AND search_text <> $1", args![text, order.id.0])
        .await?;
    Ok(())
}

/// Orders (rows of `id, connection_id, document`) with their fulfilments
/// and refunds, oldest first.
pub(super) async fn with_details<D: Db>(db: &mut D, rows: Vec<Row>) -> StorageResult<Vec<StoredOrder>> {
    let mut orders = Vec::with_capacity(rows.len());
    for r in &rows {
        orders.push((r.int(0)?, r.int(1)?, r.json::<Order>(2, "shop_orders.document")?));
    }
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let connections: Vec<i64> = orders.iter().map(|(_, c, _)| *c).collect();
    let externals: Vec<String> = orders.iter().map(|(_, _, o)| o.external_id.clone()).collect();
    let mut parts = Vec::new();
    for table in ["shop_fulfillments", "shop_refunds"] {
        let sql = format!(
            "SELECT connection_id, order_external_id, document FROM {table} \
             WHERE connection_id IN (SELECT value FROM {}) AND order_external_id IN (SELECT value FROM {})",
            db.list("$1"),
            db.list("$2")
        );
        parts.push(db.rows(&sql, args![connections.clone(), externals.clone()]).await?);
    }
    let mut out = Vec::with_capacity(orders.len());
    for (id, connection_id, order) in orders {
        let mine =
            |r: &&Row| r.int(0).is_ok_and(|c| c == connection_id) && r.text(1).is_ok_and(|e| e == order.external_id);
        let mut fulfillments = parts[0]
            .iter()
            .filter(mine)
            .map(|r| r.json::<Fulfillment>(2, "shop_fulfillments.document"))
            .collect::<StorageResult<Vec<_>>>()?;
        fulfillments.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
        let mut refunds = parts[1]
            .iter()
            .filter(mine)
            .map(|r| r.json::<Refund>(2, "shop_refunds.document"))
            .collect::<StorageResult<Vec<_>>>()?;
        refunds.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
        out.push(StoredOrder {
            id: OrderId(id),
            connection_id: ShopConnectionId(connection_id),
            details: OrderDetails { order, fulfillments, refunds },
        });
    }
    Ok(out)
}

#[async_trait]
impl<B: Backend> CommerceRepo for B {
    async fn create_shop_connection(
        &self,
        account: AccountId,
        new: NewShopConnection,
        now: DateTime<Utc>,
    ) -> StorageResult<ShopConnection> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO shop_connections (account_id, platform, name, shop_domain, secret, api_url, \
                     access_token, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                    args![
                        account.0,
                        new.platform.as_str(),
                        new.name,
                        new.shop_domain,
                        new.secret,
                        new.api_url,
                        new.access_token,
                        now
                    ],
                )
                .await?;
                get_connection(db, Some(account), ShopConnectionId(id)).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn get_shop_connection(
        &self,
        account: AccountId,
        id: ShopConnectionId,
    ) -> StorageResult<Option<ShopConnection>> {
        self.read(move |db| Box::pin(get_connection(db, Some(account), id))).await
    }

    async fn find_shop_connection(&self, id: ShopConnectionId) -> StorageResult<Option<ShopConnection>> {
        self.read(move |db| Box::pin(get_connection(db, None, id))).await
    }

    async fn list_shop_connections(&self, account: AccountId) -> StorageResult<Vec<ShopConnection>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {CONN_COLS} FROM shop_connections WHERE account_id = $1 ORDER BY id");
                db.rows(&sql, args![account.0]).await?.iter().map(shop_connection).collect()
            })
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
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE shop_connections SET name = COALESCE($3, name), \
                         api_url = CASE WHEN $4 THEN $5 ELSE api_url END, \
                         access_token = CASE WHEN $6 THEN $7 ELSE access_token END, updated_at = $8 \
                         WHERE account_id = $1 AND id = $2",
                        args![
                            account.0,
                            id.0,
                            patch.name,
                            patch.api_url.is_some(),
                            patch.api_url.flatten(),
                            patch.access_token.is_some(),
                            patch.access_token.flatten(),
                            now
                        ],
                    )
                    .await?;
                found(n)?;
                get_connection(db, Some(account), id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn apply_mirror_writes(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        webhook_id: Option<String>,
        mut writes: Vec<MirrorWrite>,
        now: DateTime<Utc>,
    ) -> StorageResult<MirrorOutcome> {
        self.write(move |db| {
            Box::pin(async move {
                // The connection stays while the batch is written.
                if !owns_connection(db, account, connection, Lock::KeyShare).await? {
                    return Err(StorageError::NotFound);
                }
                if let Some(webhook) = webhook_id {
                    let fresh = db
                        .exec(
                            "INSERT INTO shop_webhooks (connection_id, webhook_id, received_at) VALUES ($1, $2, $3) \
                             ON CONFLICT DO NOTHING",
                            args![connection.0, webhook, now],
                        )
                        .await?;
                    if fresh == 0 {
                        return Ok(MirrorOutcome { duplicate: true, changed: 0 });
                    }
                }
                writes.sort_by(|a, b| mirror_write_key(a).cmp(&mirror_write_key(b)));
                let mut changed = 0;
                let (mut emails, mut phones) = (Vec::new(), Vec::new());
                for w in &writes {
                    // A new order is announced to its buyers' contacts.
                    let new_order = match w {
                        MirrorWrite::Order(o) => db
                            .row(
                                "SELECT id FROM shop_orders WHERE connection_id = $1 AND external_id = $2",
                                args![connection.0, &o.external_id],
                            )
                            .await?
                            .is_none(),
                        _ => false,
                    };
                    if !apply(db, account, connection, w, now).await? {
                        continue;
                    }
                    changed += 1;
                    match w {
                        MirrorWrite::Order(o) => {
                            let id = db
                                .row(
                                    "SELECT id FROM shop_orders WHERE connection_id = $1 AND external_id = $2",
                                    args![connection.0, &o.external_id],
                                )
                                .await?
                                .ok_or(StorageError::NotFound)?
                                .int(0)?;
                            write_order_lines(db, account, id, o).await?;
                            let (mut order_emails, mut order_phones) = (Vec::new(), Vec::new());
                            order_emails.extend(o.email.clone());
                            order_phones.extend(o.phone.clone());
                            if let Some(cu) = &o.customer_external_id {
                                let r = db
                                    .row(
                                        "SELECT email, phone FROM shop_customers WHERE connection_id = $1 \
                                         AND external_id = $2",
                                        args![connection.0, cu],
                                    )
                                    .await?;
                                if let Some(r) = r {
                                    order_emails.extend(r.opt_text(0)?);
                                    order_phones.extend(r.opt_text(1)?);
                                }
                            }
                            if new_order {
                                let reached =
                                    contacts_reached_by(db, account, order_emails.clone(), order_phones.clone())
                                        .await?;
                                for contact_id in reached {
                                    let event = ferry_core::event::Event::OrderLinked {
                                        order_id: id,
                                        order_number: o.number.clone(),
                                        contact_id,
                                    };
                                    super::outbox::append_event(db, account, &event, now).await?;
                                }
                            }
                            emails.extend(order_emails);
                            phones.extend(order_phones);
                        }
                        MirrorWrite::Customer(cu) => {
                            emails.extend(cu.email.clone());
                            phones.extend(cu.phone.clone());
                        }
                        _ => {}
                    }
                }
                // The buyers' profiles (orders, spend, VIP) in the same write.
                emails.sort();
                emails.dedup();
                phones.sort();
                phones.dedup();
                for contact in contacts_reached_by(db, account, emails, phones).await? {
                    refresh_profile(db, account, contact, now).await?;
                }
                Ok(MirrorOutcome { duplicate: false, changed })
            })
        })
        .await
    }

    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StorageResult<Vec<StoredOrder>> {
        self.read(move |db| {
            Box::pin(async move {
                let by_buyer = !query.emails.is_empty() || !query.phones.is_empty();
                // A buyer's orders are found through their own indexes (see
                // `buyer_orders`); the account's index, which also gives the
                // order by date, would walk every order of the account.
                let account_cond = if by_buyer { "+account_id" } else { "account_id" };
                let mut q =
                    Query::new(format!("SELECT id, connection_id, document FROM shop_orders WHERE {account_cond} = "));
                q.bind(account.0);
                if let Some(text) = query.q.as_deref().map(clean_order_number).filter(|t| !t.is_empty()) {
                    q.push(" AND search_text LIKE ").bind(contains_pattern(&text)).push(" ESCAPE '\\'");
                }
                if let Some(n) = query.number.as_deref().map(clean_order_number) {
                    q.push(" AND number = ").bind(n);
                }
                if by_buyer {
                    // Also the orders of the shop customers with these
                    // e-mails or phones, whatever the order's own.
                    let emails = format!("${}", q.args.len() + 1);
                    let phones = format!("${}", q.args.len() + 2);
                    q.args.push(Arg::Texts(query.emails.clone()));
                    q.args.push(Arg::Texts(query.phones.clone()));
                    let orders = super::profiles::buyer_orders(&db.list(&emails), &db.list(&phones));
                    q.push(&format!(" AND id IN ({orders})"));
                }
                let limit = if query.limit == 0 { 50 } else { query.limit.clamp(1, 200) };
                q.push(" ORDER BY placed_at DESC, id DESC LIMIT ").bind(limit);
                let rows = db.rows(&q.sql, q.args).await?;
                with_details(db, rows).await
            })
        })
        .await
    }

    async fn get_order(&self, account: AccountId, id: OrderId) -> StorageResult<Option<StoredOrder>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, connection_id, document FROM shop_orders WHERE id = $1 AND account_id = $2",
                        args![id.0, account.0],
                    )
                    .await?;
                Ok(with_details(db, rows).await?.pop())
            })
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
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT CAST(SUM(i.available) AS BIGINT) FROM shop_inventory i \
                         JOIN shop_connections s ON s.id = i.connection_id \
                         WHERE i.connection_id = $1 AND s.account_id = $2 AND i.inventory_item_id = $3",
                        args![connection.0, account.0, item],
                    )
                    .await?;
                r.map_or(Ok(None), |r| r.opt_int(0))
            })
        })
        .await
    }

    async fn list_products(&self, account: AccountId, connection: ShopConnectionId) -> StorageResult<Vec<Product>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT p.document FROM shop_products p JOIN shop_connections s ON s.id = p.connection_id \
                     WHERE p.connection_id = $1 AND s.account_id = $2 ORDER BY p.title{0}, p.external_id{0}",
                    db.bytewise()
                );
                let rows = db.rows(&sql, args![connection.0, account.0]).await?;
                rows.iter().map(|r| r.json(0, "shop_products.document")).collect()
            })
        })
        .await
    }

    async fn count_orders(&self, account: AccountId, connection: ShopConnectionId) -> StorageResult<i64> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT COUNT(*) FROM shop_orders WHERE connection_id = $1 AND account_id = $2",
                        args![connection.0, account.0],
                    )
                    .await?;
                r.map_or(Ok(0), |r| r.int(0))
            })
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
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT y.resource, y.cursor, y.done, y.fetched, y.updated_at FROM shop_sync_state y \
                         JOIN shop_connections s ON s.id = y.connection_id \
                         WHERE y.connection_id = $1 AND s.account_id = $2 AND y.resource = $3",
                        args![connection.0, account.0, resource],
                    )
                    .await?;
                r.map(|r| {
                    Ok(ShopSyncState {
                        resource: r.text(0)?,
                        cursor: r.opt_text(1)?,
                        done: r.flag(2)?,
                        fetched: r.int(3)?,
                        updated_at: r.time(4)?,
                    })
                })
                .transpose()
            })
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
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "INSERT INTO shop_sync_state (connection_id, resource, cursor, done, fetched, updated_at) \
                         SELECT id, $3, $4, $5, $6, $7 FROM shop_connections WHERE id = $1 AND account_id = $2 \
                         ON CONFLICT (connection_id, resource) DO UPDATE SET cursor = excluded.cursor, \
                         done = excluded.done, fetched = excluded.fetched, updated_at = excluded.updated_at",
                        args![connection.0, account.0, state.resource, state.cursor, state.done, state.fetched, now],
                    )
                    .await?;
                found(n)
            })
        })
        .await
    }
}
