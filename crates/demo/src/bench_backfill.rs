//! `ferry-demo bench backfill` (also `ferry bench backfill`): backfills N generated orders from a local
//! stand-in of the Shopify Admin REST API into a fresh SQLite store, kills
//! the run half-way (the task is aborted), resumes it from the stored
//! cursor, and checks the mirror holds exactly N orders.

use clap::Args;
use ferry_connectors::shopify::sync::{self as shopify_sync, BackfillOptions, ClientOptions, Resource};
use ferry_sandbox::shopify::{MockOptions, MockShop};
use ferry_storage::{NewAccount, NewShopConnection, ShopPlatform, Storage};
use ferry_storage_sqlite::{SqliteOptions, SqliteStorage};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Options of the backfill benchmark.
#[derive(Args, Clone)]
pub struct BackfillArgs {
    /// Orders the shop has.
    #[arg(long, default_value_t = 50_000)]
    pub orders: u64,
    /// Bucket size of the local Admin API (Shopify Plus: 400, standard: 40).
    #[arg(long, default_value_t = 400)]
    pub bucket: u32,
    /// Requests per second the bucket leaks (Shopify Plus REST: 20,
    /// standard: 2).
    #[arg(long, default_value_t = 20.0)]
    pub leak: f64,
}

/// Runs the benchmark.
pub async fn run(a: BackfillArgs) -> anyhow::Result<()> {
    let shop = MockShop::start(MockOptions {
        orders: a.orders,
        bucket_size: a.bucket,
        leak_per_sec: a.leak,
        ..MockOptions::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(SqliteOptions::new(dir.path().join("backfill.sqlite")))?);
    let now = chrono::Utc::now();
    let account =
        storage.create_account(NewAccount { name: "Bench".into(), default_language: "en".into() }, now).await?;
    let connection = storage
        .create_shop_connection(
            account.id,
            NewShopConnection {
                platform: ShopPlatform::Shopify,
                name: "Bench shop".into(),
                shop_domain: "bench.myshopify.com".into(),
                secret: "bench-webhook-secret-0123".into(),
                api_url: Some(shop.api_url()),
                access_token: Some(shop.token().to_owned()),
            },
            now,
        )
        .await?;
    let opts = BackfillOptions {
        client: ClientOptions { leak_per_sec: a.leak, ..ClientOptions::default() },
        ..BackfillOptions::default()
    };
    let total_pages = a.orders.div_ceil(u64::from(shopify_sync::PAGE_SIZE));
    eprintln!("backfilling {} orders ({} pages); killing the run half-way", a.orders, total_pages);

    // First run: aborted once half the orders are in.
    let fetched = Arc::new(AtomicU64::new(0));
    let half = a.orders / 2;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let first = {
        let (storage, opts, fetched) = (storage.clone(), opts.clone(), fetched.clone());
        let mut tx = Some(tx);
        tokio::spawn(async move {
            let mut line = ferry_cli::import::ProgressLine::new();
            shopify_sync::backfill(&storage, connection.id, Resource::Orders, &opts, |p| {
                line.show(p);
                fetched.store(p.fetched, Ordering::SeqCst);
                if p.fetched >= half
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(());
                }
            })
            .await
        })
    };
    let _ = rx.await;
    first.abort();
    let killed = first.await.is_err_and(|e| e.is_cancelled());
    let first_secs = start.elapsed().as_secs_f64();
    eprintln!();
    let in_store = storage.count_orders(account.id, connection.id).await?;
    let state = storage.get_sync_state(account.id, connection.id, "orders").await?;
    let at_kill = state.as_ref().map_or(0, |s| s.fetched);
    eprintln!("killed={killed} after {first_secs:.2}s: {in_store} orders stored, cursor at {at_kill}; resuming");

    // Second run: from the stored cursor.
    let t = Instant::now();
    let mut line = ferry_cli::import::ProgressLine::new();
    let r = shopify_sync::backfill(&storage, connection.id, Resource::Orders, &opts, |p| line.show(p)).await?;
    line.finish();
    let second_secs = t.elapsed().as_secs_f64();
    let total_secs = start.elapsed().as_secs_f64();
    let count = storage.count_orders(account.id, connection.id).await?;
    let served = shop.pages_served();
    let pages_first = u64::try_from(at_kill)?.div_ceil(u64::from(shopify_sync::PAGE_SIZE));
    anyhow::ensure!(r.resumed, "the second run did not resume from the stored cursor");
    anyhow::ensure!(count == i64::try_from(a.orders)?, "the mirror holds {count} orders, not {}", a.orders);
    anyhow::ensure!(
        pages_first + r.pages <= total_pages + 1,
        "{pages_first} + {} pages applied for {total_pages}: the resume refetched more than one page",
        r.pages
    );
    let rate = a.orders as f64 / total_secs;
    println!("orders in the mirror: {count} (exactly {})", a.orders);
    println!("first run: {in_store} orders in {pages_first} pages applied in {first_secs:.2}s, then killed");
    println!(
        "resumed run: {} orders, {} pages in {second_secs:.2}s ({:.0} orders/s)",
        r.fetched_now,
        r.pages,
        r.fetched_now as f64 / second_secs
    );
    println!(
        "overall: {rate:.0} orders/s; pages served by the shop {served} (of {total_pages}; the killed run's request in flight included); \
         429 waits {}, pacing pauses {}, retries {}",
        shop.throttled(),
        r.client.paced,
        r.client.retried
    );
    println!(
        "bench_backfill orders={} count={count} rate={rate:.0} secs={total_secs:.2} first_secs={first_secs:.2} resumed_secs={second_secs:.2} \
         pages_first={pages_first} pages_resumed={} pages_total={total_pages} pages_served={served} killed_at={in_store} throttled={} bucket={} leak={} build={}",
        a.orders,
        r.pages,
        shop.throttled(),
        a.bucket,
        a.leak,
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    Ok(())
}
