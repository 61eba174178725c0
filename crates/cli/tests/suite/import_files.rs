//! `ferry import orders|products FILE` as a seller runs it: a report of
//! what was imported and of every rejected row, an exit status that tells
//! a script something was left out, and the rejected rows as a CSV file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_storage::{NewAccount, OrderQuery};
use ferry_testkit::Backend;
use std::process::Command;

const ORDERS: &str = "\
order_number,email,currency,created_at,sku,title,quantity,price,carrier,tracking_number
A-1,ana@example.com,USD,2026-02-01,MUG,Mug,2,12.50,UPS,1Z999
A-2,bob@example.com,USD,2026-02-02,MUG,Mug,1,twelve,,
A-3,chen@example.com,,2026-02-03,TEA,Tea,1,4,,
";

fn ferry(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .env("FERRY_DATABASE_URL", db)
        .env_remove("FERRY_CONFIG")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_seller_imports_an_order_file_and_gets_the_rejected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let storage = ferry_testkit::fresh_storage(Backend::Sqlite, dir.path()).await.unwrap();
    let account = storage
        .create_account(NewAccount { name: "Lin".into(), default_language: "en".into() }, chrono::Utc::now())
        .await
        .unwrap();
    drop(storage);
    let db = format!("sqlite://{}", dir.path().join("ferry.sqlite").display());
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, ORDERS).unwrap();
    let report = dir.path().join("rejected.csv");
    let acc = account.id.0.to_string();

    // A dry run reports and writes nothing, not even the shop.
    let out =
        ferry(&db, &["import", "orders", file.to_str().unwrap(), "--account", &acc, "--shop", "Dry site", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("would import 1 of 3 rows into shop \"Dry site\" (not created yet)"), "{stdout}");

    let out = ferry(
        &db,
        &[
            "import",
            "orders",
            file.to_str().unwrap(),
            "--account",
            &acc,
            "--shop",
            "Own site",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("imported 1 of 3 rows"), "{stdout}");
    assert!(stdout.contains("line 3 (A-2): price \"twelve\" is not an amount in USD"), "{stdout}");
    assert!(stdout.contains("line 4 (A-3)"), "{stdout}");
    let rejected = std::fs::read_to_string(&report).unwrap();
    assert_eq!(rejected.lines().count(), 3, "{rejected}");
    assert!(rejected.starts_with("line,key,column,value,reason"), "{rejected}");

    // The corrected rows with a default currency: every order is there,
    // once, in the same shop.
    std::fs::write(&file, ORDERS.replace("twelve", "12.00")).unwrap();
    let out = ferry(
        &db,
        &["import", "orders", file.to_str().unwrap(), "--account", &acc, "--shop", "Own site", "--currency", "usd"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("imported 3 of 3 rows"), "{stdout}");

    let storage = ferry_testkit::fresh_storage(Backend::Sqlite, dir.path()).await.unwrap();
    let shops = storage.list_shop_connections(account.id).await.unwrap();
    assert_eq!(shops.len(), 1, "one shop, found by its name the second time, and none by the dry run");
    assert_eq!(storage.count_orders(account.id, shops[0].id).await.unwrap(), 3);
    let q = OrderQuery { number: Some("A-1".into()), limit: 5, ..OrderQuery::default() };
    let o = &storage.search_orders(account.id, q).await.unwrap()[0];
    assert_eq!(o.details.fulfillments[0].tracking_number.as_deref(), Some("1Z999"));

    // A file that cannot be read is an error, with nothing written.
    std::fs::write(&file, "sku,total\nA,1\n").unwrap();
    let out = ferry(&db, &["import", "orders", file.to_str().unwrap(), "--connection", &shops[0].id.0.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no number column"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_shopify_cursor_suggests_starting_over() {
    use ferry_sandbox::shopify::{MockOptions, MockShop};
    use ferry_storage::{NewShopConnection, ShopPlatform, ShopSyncState};
    let shop =
        MockShop::start(MockOptions { orders: 30, bucket_size: 400, leak_per_sec: 1000.0, ..MockOptions::default() })
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let storage = ferry_testkit::fresh_storage(Backend::Sqlite, dir.path()).await.unwrap();
    let now = chrono::Utc::now();
    let account =
        storage.create_account(NewAccount { name: "Lin".into(), default_language: "en".into() }, now).await.unwrap();
    let conn = storage
        .create_shop_connection(
            account.id,
            NewShopConnection {
                platform: ShopPlatform::Shopify,
                name: "Mock".into(),
                shop_domain: "mock-shop.myshopify.com".into(),
                secret: "webhook-secret-0123456789".into(),
                api_url: Some(shop.api_url()),
                access_token: Some(shop.token().into()),
            },
            now,
        )
        .await
        .unwrap();
    let stale = ShopSyncState {
        resource: "orders".into(),
        cursor: Some("expired-cursor".into()),
        done: false,
        fetched: 250,
        updated_at: now,
    };
    storage.put_sync_state(account.id, conn.id, stale, now).await.unwrap();
    drop(storage);
    let db = format!("sqlite://{}", dir.path().join("ferry.sqlite").display());
    let id = conn.id.0.to_string();
    let run = |args: Vec<String>| {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ferry(&db, &args)
        })
    };
    let base =
        vec!["import".to_owned(), "shopify".into(), "--connection".into(), id, "--resource".into(), "orders".into()];
    let out = run(base.clone()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HTTP 400") && stderr.contains("--restart"), "{stderr}");
    let mut again = base;
    again.push("--restart".into());
    let out = run(again).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("orders: 30 records"), "{stdout}");
}
