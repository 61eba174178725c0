//! Backfills of a shop through the (local stand-in of the) Shopify Admin
//! REST API, on both stores: complete, interrupted and resumed, rate
//! limited, refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_connectors::shopify::sync::{BackfillOptions, ClientOptions, Resource, SyncError, backfill};
use ferry_core::ShopConnectionId;
use ferry_sandbox::shopify::{Failure, MockOptions, MockShop};
use ferry_storage::{NewAccount, NewShopConnection, OrderQuery, ShopPlatform, Storage};
use ferry_testkit::{Backend, on_both};
use std::sync::Arc;
use std::time::Duration;

on_both!(
    a_backfill_mirrors_every_order_searchably,
    an_interrupted_backfill_resumes_from_its_cursor,
    rate_limits_are_waited_out,
    a_refused_token_is_a_clear_error,
    stock_levels_are_backfilled_per_location_and_resume,
);

struct Setup {
    _dir: tempfile::TempDir,
    storage: Arc<dyn Storage>,
    account: ferry_core::AccountId,
    connection: ShopConnectionId,
}

async fn setup(backend: Backend, shop: &MockShop, token: &str) -> Option<Setup> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let storage = ferry_testkit::fresh_storage(backend, dir.path()).await?;
    let now = chrono::Utc::now();
    let account =
        storage.create_account(NewAccount { name: "Shop".into(), default_language: "en".into() }, now).await.unwrap();
    let c = storage
        .create_shop_connection(
            account.id,
            NewShopConnection {
                platform: ShopPlatform::Shopify,
                name: "Mock".into(),
                shop_domain: "mock-shop.myshopify.com".into(),
                secret: "webhook-secret-0123456789".into(),
                api_url: Some(shop.api_url()),
                access_token: Some(token.into()),
            },
            now,
        )
        .await
        .unwrap();
    Some(Setup { _dir: dir, storage, account: account.id, connection: c.id })
}

/// No real waiting: back-offs and pacing in milliseconds.
fn fast() -> BackfillOptions {
    BackfillOptions {
        restart: false,
        count: true,
        client: ClientOptions {
            max_attempts: 3,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            leak_per_sec: 1000.0,
            ..ClientOptions::default()
        },
    }
}

fn mock(orders: u64) -> MockOptions {
    // A Plus-sized bucket: these tests are not about the bucket.
    MockOptions { orders, bucket_size: 400, leak_per_sec: 1000.0, ..MockOptions::default() }
}

async fn a_backfill_mirrors_every_order_searchably(backend: Backend) {
    let shop = MockShop::start(MockOptions { products: 7, customers: 5, ..mock(2_000) }).await.unwrap();
    let Some(s) = setup(backend, &shop, shop.token()).await else { return };
    let mut lines = Vec::new();
    let r = backfill(&s.storage, s.connection, Resource::Orders, &fast(), |p| lines.push(p.line())).await.unwrap();
    assert_eq!((r.fetched, r.pages, r.total, r.resumed, r.already_done), (2_000, 8, Some(2_000), false, false));
    assert_eq!(lines.len(), 8);
    assert!(lines[3].starts_with("orders 1000/2000 (50.0%)"), "{}", lines[3]);
    assert_eq!(s.storage.count_orders(s.account, s.connection).await.unwrap(), 2_000);
    // Every order by its number; a sample by e-mail with its fulfilment.
    for i in 0..2_000u64 {
        let q = OrderQuery { number: Some(format!("#{}", 1001 + i)), limit: 5, ..OrderQuery::default() };
        let found = s.storage.search_orders(s.account, q).await.unwrap();
        assert_eq!(found.len(), 1, "order #{}", 1001 + i);
        assert_eq!(found[0].details.order.external_id, (ferry_sandbox::shopify::FIRST_ORDER_ID + i).to_string());
    }
    let q = OrderQuery { q: Some("ana.1@example.com".into()), limit: 5, ..OrderQuery::default() };
    assert_eq!(s.storage.search_orders(s.account, q).await.unwrap()[0].details.order.number, "1002");
    let q = OrderQuery { number: Some("1031".into()), limit: 5, ..OrderQuery::default() };
    let o = &s.storage.search_orders(s.account, q).await.unwrap()[0];
    assert_eq!(o.details.fulfillments[0].tracking_number.as_deref(), Some("JJD000000000030"));

    // Done: a second run fetches nothing; --restart goes again (no new rows).
    let served = shop.pages_served();
    let again = backfill(&s.storage, s.connection, Resource::Orders, &fast(), |_| {}).await.unwrap();
    assert!(again.already_done);
    assert_eq!(shop.pages_served(), served);
    let restart = BackfillOptions { restart: true, ..fast() };
    let r = backfill(&s.storage, s.connection, Resource::Orders, &restart, |_| {}).await.unwrap();
    assert_eq!((r.fetched, r.pages, r.changed), (2_000, 8, 0));
    assert_eq!(s.storage.count_orders(s.account, s.connection).await.unwrap(), 2_000);

    // Products and customers.
    for res in [Resource::Products, Resource::Customers] {
        backfill(&s.storage, s.connection, res, &fast(), |_| {}).await.unwrap();
    }
    assert_eq!(s.storage.list_products(s.account, s.connection).await.unwrap().len(), 7);
    let state = s.storage.get_sync_state(s.account, s.connection, "customers").await.unwrap().unwrap();
    assert_eq!((state.done, state.fetched, state.cursor), (true, 5, None));
}

async fn an_interrupted_backfill_resumes_from_its_cursor(backend: Backend) {
    for failure in [Failure::Status500, Failure::Drop] {
        let shop = MockShop::start(MockOptions { fail_after_pages: Some(4), failure, ..mock(2_100) }).await.unwrap();
        let Some(s) = setup(backend, &shop, shop.token()).await else { return };
        let err = backfill(&s.storage, s.connection, Resource::Orders, &fast(), |_| {}).await.unwrap_err();
        assert!(matches!(err, SyncError::GaveUp { attempts: 3, .. }), "{err}");
        assert!(err.to_string().contains("gave up on http://127.0.0.1:"), "{err}");
        assert_eq!(shop.failures(), 3);
        assert_eq!(s.storage.count_orders(s.account, s.connection).await.unwrap(), 1_000);
        let state = s.storage.get_sync_state(s.account, s.connection, "orders").await.unwrap().unwrap();
        assert_eq!((state.done, state.fetched), (false, 1_000));
        assert!(state.cursor.is_some());

        // The shop recovers: the next run starts from the stored cursor.
        shop.fail_after_pages(None);
        let r = backfill(&s.storage, s.connection, Resource::Orders, &fast(), |_| {}).await.unwrap();
        assert!(r.resumed);
        assert_eq!((r.pages, r.fetched_now, r.fetched), (5, 1_100, 2_100));
        assert_eq!(shop.pages_served(), 9, "4 pages, then the 5 left: none fetched twice");
        assert_eq!(s.storage.count_orders(s.account, s.connection).await.unwrap(), 2_100);
        let state = s.storage.get_sync_state(s.account, s.connection, "orders").await.unwrap().unwrap();
        assert_eq!((state.done, state.fetched, state.cursor), (true, 2_100, None));
    }
}

async fn rate_limits_are_waited_out(backend: Backend) {
    // Every third request is answered 429 (as when another app drains the
    // bucket), with a tiny Retry-After.
    let shop = MockShop::start(MockOptions { throttle_every: Some(3), retry_after: Some(0.005), ..mock(1_000) })
        .await
        .unwrap();
    let Some(s) = setup(backend, &shop, shop.token()).await else { return };
    let r = backfill(&s.storage, s.connection, Resource::Orders, &fast(), |_| {}).await.unwrap();
    assert_eq!(r.fetched, 1_000);
    assert!(shop.throttled() >= 2, "throttled {}", shop.throttled());
    assert_eq!(r.client.throttled, shop.throttled());
    assert_eq!(s.storage.count_orders(s.account, s.connection).await.unwrap(), 1_000);

    // A small bucket that barely leaks: the client reads the call limit
    // header and paces itself before Shopify has to say 429.
    let shop = MockShop::start(MockOptions { bucket_size: 8, leak_per_sec: 2000.0, ..mock(1_500) }).await.unwrap();
    let Some(s) = setup(backend, &shop, shop.token()).await else { return };
    let opts =
        BackfillOptions { client: ClientOptions { reserve: 7, leak_per_sec: 2000.0, ..fast().client }, ..fast() };
    let r = backfill(&s.storage, s.connection, Resource::Orders, &opts, |_| {}).await.unwrap();
    assert_eq!(r.fetched, 1_500);
    assert!(r.client.paced > 0, "{:?}", r.client);
}

async fn a_refused_token_is_a_clear_error(backend: Backend) {
    let shop = MockShop::start(mock(10)).await.unwrap();
    let Some(s) = setup(backend, &shop, "shpat_wrong").await else { return };
    let err = backfill(&s.storage, s.connection, Resource::Orders, &fast(), |_| {}).await.unwrap_err();
    assert!(matches!(err, SyncError::Unauthorized { status: 401, .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("refused the access token (HTTP 401)"), "{msg}");
    assert!(msg.contains("Invalid API key or access token"), "{msg}");
    assert_eq!(shop.requests(), 1, "no retries on 401");
    assert_eq!(s.storage.get_sync_state(s.account, s.connection, "orders").await.unwrap(), None);
}

async fn stock_levels_are_backfilled_per_location_and_resume(backend: Backend) {
    // 300 products at two locations: 600 levels, three pages.
    let shop = MockShop::start(MockOptions { products: 300, ..mock(0) }).await.unwrap();
    let Some(s) = setup(backend, &shop, shop.token()).await else { return };
    backfill(&s.storage, s.connection, Resource::Products, &fast(), |_| {}).await.unwrap();
    // The second page of levels fails until the shop recovers.
    shop.fail_after_pages(Some(shop.pages_served() + 1));
    let err = backfill(&s.storage, s.connection, Resource::InventoryLevels, &fast(), |_| {}).await.unwrap_err();
    assert!(matches!(err, SyncError::GaveUp { .. }), "{err}");
    let state = s.storage.get_sync_state(s.account, s.connection, "inventory_levels").await.unwrap().unwrap();
    assert_eq!((state.done, state.fetched), (false, 250));
    assert!(state.cursor.as_deref().is_some_and(|c| c.starts_with("0:0:")), "{:?}", state.cursor);
    shop.fail_after_pages(None);
    let r = backfill(&s.storage, s.connection, Resource::InventoryLevels, &fast(), |_| {}).await.unwrap();
    assert_eq!((r.resumed, r.fetched, r.fetched_now, r.pages, r.total), (true, 600, 350, 2, None));
    // Each variant's stock is the sum over both locations, as the product says.
    let products = s.storage.list_products(s.account, s.connection).await.unwrap();
    assert_eq!(products.len(), 300);
    for p in &products {
        let v = &p.variants[0];
        let item = v.inventory_item_id.as_deref().unwrap();
        let stock = s.storage.available_stock(s.account, s.connection, item).await.unwrap();
        assert_eq!(stock, v.inventory_quantity, "{item}");
    }
    // A finished pass is not fetched again.
    let again = backfill(&s.storage, s.connection, Resource::InventoryLevels, &fast(), |_| {}).await.unwrap();
    assert!(again.already_done);
}
