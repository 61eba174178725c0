//! Back-in-stock requests: a buyer asks to hear when a variant can be
//! bought again — from the widget, through an agent, or by asking about it
//! while it was out. One open request per buyer and variant; deciding its
//! notice closes it.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, ContactId, ShopConnectionId};

/// A buyer's request to hear when a variant is back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockSubscription {
    /// Its id.
    pub id: i64,
    /// The buyer.
    pub contact_id: ContactId,
    /// The shop.
    pub connection_id: ShopConnectionId,
    /// The product in the shop.
    pub product_external_id: String,
    /// The variant in the shop.
    pub variant_external_id: String,
    /// The variant's SKU.
    pub sku: Option<String>,
    /// What the buyer sees (`Lamp (Blue)`).
    pub title: String,
    /// `widget`, `agent` or `asked`.
    pub source: String,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// When its notice was decided (open until then).
    pub notified_at: Option<DateTime<Utc>>,
}

/// A request to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStockSubscription {
    /// The buyer.
    pub contact_id: ContactId,
    /// The shop.
    pub connection_id: ShopConnectionId,
    /// The product in the shop.
    pub product_external_id: String,
    /// The variant in the shop.
    pub variant_external_id: String,
    /// The variant's SKU.
    pub sku: Option<String>,
    /// What the buyer sees.
    pub title: String,
    /// `widget`, `agent` or `asked`.
    pub source: String,
}

/// Back-in-stock requests.
#[async_trait]
pub trait StockSubscriptionRepo {
    /// Stores a request, or gives the buyer's open one for the variant;
    /// `NotFound` when the contact or the shop is not the account's.
    async fn subscribe_stock(
        &self,
        account: AccountId,
        new: NewStockSubscription,
        now: DateTime<Utc>,
    ) -> StorageResult<StockSubscription>;
    /// Requests, newest first: a contact's or the account's, open ones or all.
    async fn list_stock_subscriptions(
        &self,
        account: AccountId,
        contact: Option<ContactId>,
        open_only: bool,
        limit: u32,
    ) -> StorageResult<Vec<StockSubscription>>;
    /// The open requests of a shop, oldest first (at most 5,000).
    async fn waiting_stock_subscriptions(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
    ) -> StorageResult<Vec<StockSubscription>>;
    /// One request.
    async fn get_stock_subscription(&self, account: AccountId, id: i64) -> StorageResult<Option<StockSubscription>>;
    /// Closes an open request; false when it was closed already (so one
    /// notice goes per request, whoever closes it first).
    async fn close_stock_subscription(&self, account: AccountId, id: i64, now: DateTime<Utc>) -> StorageResult<bool>;
    /// Withdraws a request; false when there was none.
    async fn delete_stock_subscription(&self, account: AccountId, id: i64) -> StorageResult<bool>;
}
