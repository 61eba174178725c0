//! Back-in-stock requests, in the shared SQL of both backends.

use crate::args;
use crate::db::{Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use crate::stock::{NewStockSubscription, StockSubscription, StockSubscriptionRepo};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, ContactId, ShopConnectionId};

const COLS: &str = "id, contact_id, connection_id, product_external_id, variant_external_id, sku, title, source, \
                    created_at, notified_at";

fn subscription(r: &Row) -> StorageResult<StockSubscription> {
    Ok(StockSubscription {
        id: r.int(0)?,
        contact_id: ContactId(r.int(1)?),
        connection_id: ShopConnectionId(r.int(2)?),
        product_external_id: r.text(3)?,
        variant_external_id: r.text(4)?,
        sku: r.opt_text(5)?,
        title: r.text(6)?,
        source: r.text(7)?,
        created_at: r.time(8)?,
        notified_at: r.opt_time(9)?,
    })
}

async fn open_one<D: Db>(
    db: &mut D,
    account: AccountId,
    new: &NewStockSubscription,
) -> StorageResult<Option<StockSubscription>> {
    let sql = format!(
        "SELECT {COLS} FROM stock_subscriptions WHERE account_id = $1 AND contact_id = $2 AND connection_id = $3 \
         AND variant_external_id = $4 AND notified_at IS NULL"
    );
    db.row(&sql, args![account.0, new.contact_id.0, new.connection_id.0, new.variant_external_id.clone()])
        .await?
        .as_ref()
        .map(subscription)
        .transpose()
}

#[async_trait]
impl<B: Backend> StockSubscriptionRepo for B {
    async fn subscribe_stock(
        &self,
        account: AccountId,
        new: NewStockSubscription,
        now: DateTime<Utc>,
    ) -> StorageResult<StockSubscription> {
        self.write(move |db| {
            Box::pin(async move {
                super::contact_and_row_are_the_accounts(
                    db,
                    account,
                    new.contact_id,
                    "shop_connections",
                    new.connection_id.0,
                )
                .await?;
                if let Some(s) = open_one(db, account, &new).await? {
                    return Ok(s);
                }
                db.exec(
                    "INSERT INTO stock_subscriptions (account_id, contact_id, connection_id, product_external_id, \
                     variant_external_id, sku, title, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    args![
                        account.0,
                        new.contact_id.0,
                        new.connection_id.0,
                        new.product_external_id.clone(),
                        new.variant_external_id.clone(),
                        new.sku.clone(),
                        new.title.clone(),
                        new.source.clone(),
                        now
                    ],
                )
                .await?;
                open_one(db, account, &new).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn list_stock_subscriptions(
        &self,
        account: AccountId,
        contact: Option<ContactId>,
        open_only: bool,
        limit: u32,
    ) -> StorageResult<Vec<StockSubscription>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {COLS} FROM stock_subscriptions WHERE account_id = $1 \
                     AND ($2 IS NULL OR contact_id = $2) AND ($3 = FALSE OR notified_at IS NULL) \
                     ORDER BY id DESC LIMIT $4"
                );
                db.rows(&sql, args![account.0, contact.map(|c| c.0), open_only, i64::from(limit)])
                    .await?
                    .iter()
                    .map(subscription)
                    .collect()
            })
        })
        .await
    }

    async fn waiting_stock_subscriptions(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
    ) -> StorageResult<Vec<StockSubscription>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {COLS} FROM stock_subscriptions WHERE account_id = $1 AND connection_id = $2 \
                     AND notified_at IS NULL ORDER BY id LIMIT 5000"
                );
                db.rows(&sql, args![account.0, connection.0]).await?.iter().map(subscription).collect()
            })
        })
        .await
    }

    async fn get_stock_subscription(&self, account: AccountId, id: i64) -> StorageResult<Option<StockSubscription>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {COLS} FROM stock_subscriptions WHERE account_id = $1 AND id = $2");
                db.row(&sql, args![account.0, id]).await?.as_ref().map(subscription).transpose()
            })
        })
        .await
    }

    async fn close_stock_subscription(&self, account: AccountId, id: i64, now: DateTime<Utc>) -> StorageResult<bool> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE stock_subscriptions SET notified_at = $3 WHERE account_id = $1 AND id = $2 \
                         AND notified_at IS NULL",
                        args![account.0, id, now],
                    )
                    .await?;
                Ok(n > 0)
            })
        })
        .await
    }

    async fn delete_stock_subscription(&self, account: AccountId, id: i64) -> StorageResult<bool> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec("DELETE FROM stock_subscriptions WHERE account_id = $1 AND id = $2", args![account.0, id])
                    .await?;
                Ok(n > 0)
            })
        })
        .await
    }
}
