//! `ferry bench import`: writes a Shopify-style order export of N orders
//! (two lines each, one order in `--bad-every` with a bad quantity), imports
//! it into a fresh SQLite store, then imports it again, and prints the
//! rates and what was rejected.

use clap::Args;
use ferry_app::shop_import::{self, ImportOptions};
use ferry_commerce::import::{self, ImportDefaults, ImportFormat, ImportKind};
use ferry_storage::{NewAccount, Storage};
use ferry_storage_sqlite::{SqliteOptions, SqliteStorage};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

/// Options of the import benchmark.
#[derive(Args, Clone)]
pub struct ImportArgs {
    /// Orders in the file.
    #[arg(long, default_value_t = 50_000)]
    pub orders: usize,
    /// One order in this many has a bad line (0: none).
    #[arg(long, default_value_t = 100)]
    pub bad_every: usize,
}

/// The generated CSV.
pub fn order_csv(orders: usize, bad_every: usize) -> String {
    let mut s = String::from(
        "Name,Email,Financial Status,Currency,Total,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,\
         Created at,Shipping Name,Shipping City,Shipping Country,Tracking Company,Tracking Number\n",
    );
    const COUNTRIES: [(&str, &str); 4] = [("US", "Austin"), ("DE", "Berlin"), ("ES", "Madrid"), ("JP", "Osaka")];
    for i in 0..orders {
        let n = 100_000 + i;
        let (cc, city) = COUNTRIES[i % 4];
        let qty = if bad_every > 0 && i % bad_every == bad_every - 1 { "two".to_owned() } else { "1".to_owned() };
        let day = 1 + i % 28;
        let _ = writeln!(
            s,
            "#{n},buyer{i}@example.com,paid,USD,91.40,{qty},Linen Dress,79.00,DRESS-{},2026-02-{day:02} 10:00:00 +0800,Buyer {i},{city},{cc},DHL,JD{n}",
            i % 50
        );
        let _ = writeln!(s, "#{n},,,,,1,Gift wrap,12.40,WRAP,,,,,,");
    }
    s
}

pub async fn run(a: ImportArgs) -> anyhow::Result<()> {
    let csv = order_csv(a.orders, a.bad_every);
    let rows = a.orders * 2;
    println!("file: {} orders, {rows} rows, {:.1} MB of CSV", a.orders, csv.len() as f64 / 1e6);

    let started = Instant::now();
    let batch = import::parse(
        ImportKind::Orders,
        ImportFormat::Csv,
        csv.as_bytes(),
        &ImportDefaults::default(),
        chrono::Utc::now(),
    )?;
    let parse = started.elapsed();
    println!(
        "parse only: {:.2} s, {:.0} rows/s ({} orders accepted, {} rows rejected)",
        parse.as_secs_f64(),
        rows as f64 / parse.as_secs_f64(),
        batch.accepted,
        batch.rejected.len()
    );
    drop(batch);

    let dir = tempfile::tempdir()?;
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(SqliteOptions::new(dir.path().join("import.sqlite")))?);
    let now = chrono::Utc::now();
    let account =
        storage.create_account(NewAccount { name: "Bench".into(), default_language: "en".into() }, now).await?;
    let shop = shop_import::import_shop_named(storage.as_ref(), account.id, "Bench site", None, now).await?;
    for pass in ["first import", "same file again"] {
        let started = Instant::now();
        let r = shop_import::import_file(
            storage.as_ref(),
            account.id,
            shop.id,
            ImportKind::Orders,
            csv.as_bytes(),
            &ImportOptions::default(),
            chrono::Utc::now(),
        )
        .await?;
        let took = started.elapsed().as_secs_f64();
        println!(
            "{pass} (SQLite): {took:.2} s, {:.0} rows/s, {:.0} orders/s; {} orders accepted, {} rows rejected, {} records written",
            rows as f64 / took,
            r.accepted as f64 / took,
            r.accepted,
            r.rejected.len(),
            r.changed
        );
    }
    let stored = storage.count_orders(account.id, shop.id).await?;
    anyhow::ensure!(
        stored as usize == a.orders - a.orders.checked_div(a.bad_every).unwrap_or(0),
        "the store holds {stored} orders"
    );
    println!("store: {stored} orders, no duplicates");
    Ok(())
}
