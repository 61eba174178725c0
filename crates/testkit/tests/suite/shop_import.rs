//! Orders and products from CSV and JSON files into a file-import shop,
//! over the API, on both stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::json;

on_both!(files_fill_an_import_shop_and_report_rejected_rows, imports_are_guarded);

const PRODUCTS: &str = "\
Handle,Title,Status,Option1 Value,Variant SKU,Variant Price,Variant Inventory Qty
linen-dress,Linen Dress,active,Blue / M,DRESS-BLU-M,79.00,0
linen-dress,,,Blue / S,DRESS-BLU-S,79.00,6
tea,Jasmine Tea,active,,TEA-1,12.50,many
";

const ORDERS: &str = "\
Name,Email,Financial Status,Currency,Total,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Created at,Shipping Name,Shipping City,Shipping Country,Tracking Company,Tracking Number,Tracking URL,Estimated Delivery At
#2001,ana@example.com,paid,EUR,167.90,2,Linen Dress - Blue / M,79.00,DRESS-BLU-M,2026-02-20 09:30:00 +0100,Ana García,Madrid,ES,DHL,JD0001,https://track.example/JD0001,2026-03-01
#2001,,,,,1,Gift wrap,9.90,WRAP,,,,,,,,
#2002,bob@example.com,paid,USD,25.00,one,Socks,25.00,SOCK-1,2026-02-21,Bob,Springfield,US,,,,
#2003,chen@example.com,paid,USD,12.50,1,Jasmine Tea,12.50,TEA-1,2026-02-22,Chen,Toronto,Canada,,,,
";

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

async fn import_shop(app: &TestApp, t: &Tenant) -> i64 {
    let r = app
        .post(
            &format!("{}/shop_connections", acct(t)),
            &t.owner_token,
            json!({ "name": "Lin's own site", "shop_domain": "lins-linen.example", "platform": "import" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["platform"], "import");
    // No webhooks and no webhook secret for a shop fed by files.
    assert!(r.json["webhook_url"].is_null() && r.json.get("secret").is_none(), "{:?}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn files_fill_an_import_shop_and_report_rejected_rows(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Lin").await;
    let shop = import_shop(&app, &t).await;
    let url = |kind: &str, extra: &str| format!("{}/shop_connections/{shop}/import?kind={kind}{extra}", acct(&t));

    // Products: one bad stock cell rejects its product only.
    let r = app.post_bytes(&url("products", ""), &t.owner_token, "text/csv", PRODUCTS.into()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!((r.json["rows"].as_u64(), r.json["accepted"].as_u64()), (Some(3), Some(1)));
    assert_eq!(r.json["rejected"][0]["line"], 4);
    assert_eq!(r.json["rejected"][0]["column"], "stock");
    assert_eq!(r.json["rejected"][0]["value"], "many");

    // A dry run reports and writes nothing.
    let r = app.post_bytes(&url("orders", "&dry_run=true"), &t.owner_token, "text/csv", ORDERS.into()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        (r.json["accepted"].as_u64(), r.json["changed"].as_u64(), r.json["dry_run"].as_bool()),
        (Some(1), Some(0), Some(true))
    );
    let found = app.get(&format!("{}/orders?q=2001", acct(&t)), &t.agent_token).await;
    assert_eq!(found.json.as_array().unwrap().len(), 0);

    // The real import: #2001 with its two lines and its shipment; #2002
    // (a quantity in words) and #2003 (a country name) come back with
    // their lines and reasons.
    let r = app.post_bytes(&url("orders", ""), &t.owner_token, "text/csv", ORDERS.into()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        (r.json["rows"].as_u64(), r.json["accepted"].as_u64(), r.json["format"].as_str()),
        (Some(4), Some(1), Some("csv"))
    );
    let rejected: Vec<(i64, String, String)> = r.json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["line"].as_i64().unwrap(),
                x["key"].as_str().unwrap().to_owned(),
                x["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![(4, "2002".to_owned(), "quantity".to_owned()), (5, "2003".to_owned(), "shipping_country".to_owned())]
    );
    assert!(r.json["rejected"][1]["reason"].as_str().unwrap().contains("two-letter"), "{:?}", r.json);

    let found = app.get(&format!("{}/orders?q=ana@example.com", acct(&t)), &t.agent_token).await;
    let orders = found.json.as_array().unwrap();
    assert_eq!(orders.len(), 1, "{:?}", found.json);
    let o = &orders[0];
    assert_eq!(o["name"], "#2001");
    assert_eq!(o["line_items"].as_array().unwrap().len(), 2);
    assert_eq!(o["state"], "shipped");
    assert_eq!(o["fulfillments"][0]["tracking_number"], "JD0001");

    // The corrected rows, as JSON: imported; #2001 again is not doubled.
    let fixed = json!({ "orders": [
        { "number": "2002", "email": "bob@example.com", "currency": "USD", "created_at": "2026-02-21",
          "line_items": [{ "sku": "SOCK-1", "title": "Socks", "quantity": 1, "price": "25.00" }] },
        { "number": "2001", "email": "ana@example.com", "currency": "EUR", "created_at": "2026-02-20T08:30:00Z",
          "total": "167.90", "financial_status": "paid",
          "line_items": [{ "sku": "DRESS-BLU-M", "title": "Linen Dress - Blue / M", "quantity": 2, "price": "79.00" },
                         { "sku": "WRAP", "title": "Gift wrap", "quantity": 1, "price": "9.90" }] }
    ]});
    let r = app
        .post_bytes(&url("orders", ""), &t.owner_token, "application/json", serde_json::to_vec(&fixed).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!((r.json["accepted"].as_u64(), r.json["format"].as_str()), (Some(2), Some("json")));
    let all = app.get(&format!("{}/orders?q=example.com&limit=50", acct(&t)), &t.agent_token).await;
    let names: Vec<&str> = all.json.as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"#2001") && names.contains(&"#2002"));
}

async fn imports_are_guarded(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Lin").await;
    let other = app.tenant("Other").await;
    let shop = import_shop(&app, &t).await;
    let url = format!("{}/shop_connections/{shop}/import?kind=orders", acct(&t));

    // Agents cannot import.
    let r = app.post_bytes(&url, &t.agent_token, "text/csv", ORDERS.into()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    // Another account does not see the shop.
    let r = app
        .post_bytes(
            &format!("{}/shop_connections/{shop}/import?kind=orders", acct(&other)),
            &other.owner_token,
            "text/csv",
            ORDERS.into(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
    // Unreadable files and bad parameters are clear errors.
    let r = app.post_bytes(&url, &t.owner_token, "application/json", b"[{\"number\": 1".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("not valid JSON"), "{:?}", r.json);
    let r = app.post_bytes(&url, &t.owner_token, "text/csv", b"sku,total\nA,1\n".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("no number column"), "{:?}", r.json);
    let r = app
        .post_bytes(
            &format!("{}/shop_connections/{shop}/import?kind=refunds", acct(&t)),
            &t.owner_token,
            "text/csv",
            ORDERS.into(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    // A Shopify shop's data comes from Shopify.
    let r = app
        .post(
            &format!("{}/shop_connections", acct(&t)),
            &t.owner_token,
            json!({ "name": "Shopify", "shop_domain": "lin.myshopify.com" }),
        )
        .await;
    let shopify = r.json["id"].as_i64().unwrap();
    let r = app
        .post_bytes(
            &format!("{}/shop_connections/{shopify}/import?kind=orders", acct(&t)),
            &t.owner_token,
            "text/csv",
            ORDERS.into(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.json);
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("is a Shopify shop") && message.contains("file-import shop"), "{message}");
    // An unknown platform is refused.
    let r = app
        .post(
            &format!("{}/shop_connections", acct(&t)),
            &t.owner_token,
            json!({ "name": "X", "shop_domain": "x.example", "platform": "woo" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
}
