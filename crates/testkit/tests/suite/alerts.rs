//! The commerce detectors end to end: a shop seeded through signed Shopify
//! webhooks, a buyer asking about a stocked-out dress, the detectors run
//! through the API, and the alerts acknowledged and resolved, on SQLite and
//! on PostgreSQL, with a fixed clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use ferry_core::clock::{Clock, FixedClock};
use ferry_testkit::*;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(detectors_raise_refresh_and_resolve_alerts, alerts_are_per_account_and_checked);

const SECRET: &str = "shpss_alerts_0123456789abcdef";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&Utc)
}

fn ago(days: i64) -> String {
    (now() - Duration::days(days)).to_rfc3339()
}

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// An order of one unit of `sku`, shipped a day after it was placed with
/// `carrier` to `country`, promised `eta` days after shipping, delivered
/// `delivered` days after shipping (in transit when `None`).
fn order(
    number: i64,
    sku: &str,
    placed_days_ago: i64,
    carrier: &str,
    country: &str,
    eta: i64,
    delivered: Option<i64>,
) -> Value {
    let id = 50_000 + number;
    let placed = now() - Duration::days(placed_days_ago);
    let shipped = placed + Duration::days(1);
    let changed = delivered.map_or(shipped, |d| shipped + Duration::days(d));
    json!({
        "id": id, "name": format!("#{number}"), "order_number": number, "email": format!("buyer{number}@example.com"),
        "currency": "USD", "total_price": "24.00", "financial_status": "paid", "fulfillment_status": "fulfilled",
        "created_at": placed.to_rfc3339(), "updated_at": changed.to_rfc3339(),
        "shipping_address": {"name": "Buyer", "country_code": country},
        "line_items": [{"id": id * 100, "product_id": 2, "variant_id": 21, "sku": sku, "title": "Everyday Tee",
            "variant_title": "Black / L", "quantity": 1, "price": "24.00"}],
        "fulfillments": [{
            "id": id * 10, "order_id": id, "status": "success",
            "shipment_status": if delivered.is_some() { "delivered" } else { "in_transit" },
            "tracking_company": carrier, "tracking_number": format!("T{number}"),
            "estimated_delivery_at": (shipped + Duration::days(eta)).to_rfc3339(),
            "created_at": shipped.to_rfc3339(), "updated_at": changed.to_rfc3339()
        }]
    })
}

fn level(item: i64, available: i64, updated_days_ago: i64) -> Value {
    json!({"inventory_item_id": item, "location_id": 1, "available": available, "updated_at": ago(updated_days_ago)})
}

struct Seeded {
    app: TestApp,
    clock: Arc<FixedClock>,
    t: Tenant,
    conn: i64,
}

/// A shop with DRESS-BLU-M out of stock (and a buyer asking about it),
/// TEE-BLK-L selling faster than its 3 units last, order #2001 past its
/// delivery estimate and SlowPost late to Brazil.
async fn seeded(b: Backend, name: &str) -> Option<Seeded> {
    let clock = Arc::new(FixedClock::new(now()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let app = spawn_with(SpawnOptions { clock: dyn_clock, ..SpawnOptions::new(b) }).await?;
    let t = app.tenant(name).await;
    let slug: String = name.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let r = app
        .post(
            &format!("{}/shop_connections", acct(&t)),
            &t.owner_token,
            json!({"name": name, "shop_domain": format!("{slug}.myshopify.com"), "secret": SECRET}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let conn = r.json["id"].as_i64().unwrap();
    let mut n = 0;
    let mut hook = |topic: &'static str, body: Value| {
        n += 1;
        let (app, id) = (&app, format!("wh-{n}"));
        async move {
            let r = app.shopify_webhook(conn, SECRET, topic, &id, &body).await;
            assert_eq!(r.status, StatusCode::OK, "{topic}: {:?}", r.json);
        }
    };
    hook(
        "products/create",
        json!({"id": 1, "title": "Linen Summer Dress", "status": "active", "updated_at": ago(30), "variants": [
            {"id": 11, "title": "Blue / M", "sku": "DRESS-BLU-M", "price": "79.00", "inventory_item_id": 111},
            {"id": 12, "title": "Blue / S", "sku": "DRESS-BLU-S", "price": "79.00", "inventory_item_id": 112}
        ]}),
    )
    .await;
    hook(
        "products/create",
        json!({"id": 2, "title": "Everyday Tee", "status": "active", "updated_at": ago(30), "variants": [
            {"id": 21, "title": "Black / L", "sku": "TEE-BLK-L", "price": "24.00", "inventory_item_id": 121},
            {"id": 22, "title": "White / M", "sku": "TEE-WHT-M", "price": "24.00", "inventory_item_id": 122}
        ]}),
    )
    .await;
    // An archived product without stock is not listed: no alert.
    hook(
        "products/create",
        json!({"id": 3, "title": "Old Hat", "status": "archived", "updated_at": ago(30), "variants": [
            {"id": 31, "title": "One size", "sku": "HAT-OLD", "price": "9.00", "inventory_item_id": 131}
        ]}),
    )
    .await;
    for (item, units) in [(111, 0), (112, 20), (121, 3), (122, 200), (131, 0)] {
        hook("inventory_levels/update", level(item, units, 1)).await;
    }
    // TEE-BLK-L: 7 sold in 14 days, half a unit a day: 3 left last 6 days.
    for (k, days) in [2, 3, 5, 7, 9, 11, 13].into_iter().enumerate() {
        hook("orders/create", order(3001 + k as i64, "TEE-BLK-L", days, "DHL", "DE", 5, Some(2))).await;
    }
    // Sold before the window: does not count.
    hook("orders/create", order(3100, "TEE-BLK-L", 20, "DHL", "DE", 5, Some(2))).await;
    // #2001: shipped 15 days ago, promised 8 days after: 7 days late.
    hook("orders/create", order(2001, "TEE-WHT-M", 16, "DHL", "US", 8, None)).await;
    // SlowPost to Brazil: 4 of 5 delivered after the estimate.
    for (k, delivered) in [20, 19, 25, 11, 22].into_iter().enumerate() {
        hook("orders/create", order(4001 + k as i64, "TEE-WHT-M", 40, "SlowPost", "BR", 12, Some(delivered))).await;
    }
    // A buyer asks about the stocked-out dress; another asked long ago in a
    // conversation that is resolved.
    let r = app.webhook(&t, &buyer_message("ask-1", "maria", "Hi! Is the DRESS-BLU-M coming back soon?")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = app.webhook(&t, &buyer_message("ask-2", "jon", "any news on the linen summer dress in M?")).await;
    let resolved = r.json["conversation_id"].as_i64().unwrap();
    let r = app
        .post(&format!("{}/conversations/{resolved}/status", acct(&t)), &t.owner_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    Some(Seeded { app, clock, t, conn })
}

fn by_kind<'a>(alerts: &'a Value, kind: &str) -> Vec<&'a Value> {
    alerts.as_array().unwrap().iter().filter(|a| a["kind"] == kind).collect()
}

async fn detectors_raise_refresh_and_resolve_alerts(b: Backend) {
    let Some(Seeded { app, clock, t, conn }) = seeded(b, "Alert Shop").await else { return };
    let ap = acct(&t);

    // Agents may not run the detectors; owners and admins may.
    let r = app.post(&format!("{ap}/alerts/run"), &t.agent_token, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let events = app.app.storage.count_events(t.account).await.unwrap();
    let r = app.post(&format!("{ap}/alerts/run"), &t.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json, json!({"connections": 1, "found": 4, "raised": 4, "refreshed": 0, "resolved": 0}));
    // Consoles hear of each raised alert (`alert_raised` on the WebSocket).
    assert_eq!(app.app.storage.count_events(t.account).await.unwrap(), events + 4);

    let r = app.get(&format!("{ap}/alerts"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK);
    let alerts = r.json.clone();
    assert_eq!(alerts.as_array().unwrap().len(), 4, "{alerts:#?}");
    assert!(alerts.as_array().unwrap().iter().all(|a| a["status"] == "open" && a["connection_id"] == conn));

    let out = by_kind(&alerts, "out_of_stock");
    assert_eq!(out.len(), 1, "only the listed variant: {alerts:#?}");
    let out = out[0];
    assert_eq!(out["key"], "out_of_stock:DRESS-BLU-M");
    assert_eq!(out["severity"], "critical");
    assert_eq!(out["details"]["sku"], "DRESS-BLU-M");
    assert_eq!(out["details"]["stock"], 0);
    assert_eq!(out["details"]["open_conversations"], 1, "the resolved conversation does not count");
    assert!(out["title"].as_str().unwrap().contains("DRESS-BLU-M"), "{out}");

    let low = by_kind(&alerts, "low_stock");
    assert_eq!(low.len(), 1, "{alerts:#?}");
    assert_eq!(low[0]["details"]["sku"], "TEE-BLK-L");
    assert_eq!(low[0]["details"]["units_sold"], 7);
    assert_eq!(low[0]["details"]["days_of_cover"], 6.0);

    let late = by_kind(&alerts, "late_order");
    assert_eq!(late.len(), 1, "{alerts:#?}");
    assert_eq!(late[0]["details"]["order_name"], "#2001");
    assert_eq!(late[0]["details"]["days_late"], 7);
    assert_eq!(late[0]["details"]["reason"], "delivery_overdue");
    assert_eq!(late[0]["details"]["carrier"], "DHL");
    assert_eq!(late[0]["severity"], "critical");

    let slow = by_kind(&alerts, "carrier_delay");
    assert_eq!(slow.len(), 1, "{alerts:#?}");
    assert_eq!(slow[0]["key"], "carrier_delay:slowpost:BR");
    assert_eq!((slow[0]["details"]["shipments"].as_i64(), slow[0]["details"]["late"].as_i64()), (Some(5), Some(4)));

    let out_id = out["id"].as_i64().unwrap();
    let r = app.get(&format!("{ap}/alerts/{out_id}"), &t.agent_token).await;
    assert_eq!(r.json["key"], "out_of_stock:DRESS-BLU-M");
    let r = app.get(&format!("{ap}/alerts?kind=late_order"), &t.agent_token).await;
    assert_eq!(r.json.as_array().unwrap().len(), 1);

    // A rerun refreshes; nothing is duplicated.
    clock.advance(Duration::minutes(15));
    let r = app.post(&format!("{ap}/alerts/run"), &t.owner_token, json!({})).await;
    assert_eq!(r.json, json!({"connections": 1, "found": 4, "raised": 0, "refreshed": 4, "resolved": 0}));
    let r = app.get(&format!("{ap}/alerts"), &t.agent_token).await;
    assert_eq!(r.json.as_array().unwrap().len(), 4);
    assert_eq!(app.app.storage.count_events(t.account).await.unwrap(), events + 4, "nothing new raised");
    let again = app.get(&format!("{ap}/alerts/{out_id}"), &t.agent_token).await;
    assert_eq!(again.json["first_seen_at"], out["first_seen_at"]);
    assert_ne!(again.json["last_seen_at"], out["last_seen_at"]);

    // Restocked: the stock-out resolves itself on the next run.
    let r = app.shopify_webhook(conn, SECRET, "inventory_levels/update", "restock", &level(111, 12, 0)).await;
    assert_eq!(r.json["changed"], 1, "{:?}", r.json);
    clock.advance(Duration::minutes(15));
    let r = app.post(&format!("{ap}/alerts/run"), &t.owner_token, json!({})).await;
    assert_eq!(r.json, json!({"connections": 1, "found": 3, "raised": 0, "refreshed": 3, "resolved": 1}));
    let r = app.get(&format!("{ap}/alerts?status=resolved"), &t.agent_token).await;
    let resolved = r.json.as_array().unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["id"], out_id);
    assert_eq!(resolved[0]["resolved_by"], Value::Null, "resolved by the detectors");
    let r = app.get(&format!("{ap}/alerts?status=open"), &t.agent_token).await;
    assert_eq!(r.json.as_array().unwrap().len(), 3);

    // Agents acknowledge; only owners and admins resolve.
    let late_id = late[0]["id"].as_i64().unwrap();
    let r = app.post(&format!("{ap}/alerts/{late_id}/acknowledge"), &t.agent_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        (r.json["status"].as_str(), r.json["acknowledged_by"].as_i64()),
        (Some("acknowledged"), Some(t.agent_id))
    );
    let r = app.post(&format!("{ap}/alerts/{late_id}/resolve"), &t.agent_token, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Still late: a run keeps it acknowledged.
    app.post(&format!("{ap}/alerts/run"), &t.owner_token, json!({})).await;
    let r = app.get(&format!("{ap}/alerts/{late_id}"), &t.agent_token).await;
    assert_eq!(r.json["status"], "acknowledged");
    let r = app.post(&format!("{ap}/alerts/{late_id}/resolve"), &t.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["status"], "resolved");
    assert!(r.json["resolved_by"].is_i64());
    let r = app.post(&format!("{ap}/alerts/{late_id}/acknowledge"), &t.agent_token, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    // Resolved by hand while still late: the next run raises it again.
    clock.advance(Duration::minutes(15));
    let r = app.post(&format!("{ap}/alerts/run"), &t.owner_token, json!({})).await;
    assert_eq!(r.json["raised"], 1, "{:?}", r.json);
    let r = app.get(&format!("{ap}/alerts/{late_id}"), &t.agent_token).await;
    assert_eq!((r.json["status"].as_str(), &r.json["resolved_at"]), (Some("open"), &Value::Null));
    assert_eq!(app.get(&format!("{ap}/alerts"), &t.agent_token).await.json.as_array().unwrap().len(), 4);
}

async fn alerts_are_per_account_and_checked(b: Backend) {
    let Some(Seeded { app, t, .. }) = seeded(b, "Alert Owner").await else { return };
    let other = app.tenant("Other Shop").await;
    let ap = acct(&t);
    // Consoles hear of every raised alert on their WebSocket.
    let (mut ws, _) = tokio_tungstenite::connect_async(app.ws_url(&t.agent_token)).await.unwrap();
    let ready = ws.next().await.unwrap().unwrap();
    assert!(ready.to_text().unwrap().contains("ready"));
    let r = app.post(&format!("{ap}/alerts/run"), &t.owner_token, json!({})).await;
    assert_eq!(r.json["raised"], 4, "{:?}", r.json);
    let mut kinds = Vec::new();
    while kinds.len() < 4 {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
        let v: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        assert_eq!(v["account_id"].as_i64(), Some(t.account.0));
        if v["event"] == "alert_raised" {
            assert!(v["data"]["id"].is_i64() && v["data"]["title"].is_string(), "{v}");
            kinds.push(v["data"]["kind"].as_str().unwrap().to_owned());
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["carrier_delay", "late_order", "low_stock", "out_of_stock"]);
    let id = app.get(&format!("{ap}/alerts"), &t.owner_token).await.json[0]["id"].as_i64().unwrap();

    // Another account sees nothing, and cannot reach this account's alerts.
    let op = acct(&other);
    assert_eq!(app.get(&format!("{op}/alerts"), &other.owner_token).await.json, json!([]));
    let r = app.post(&format!("{op}/alerts/run"), &other.owner_token, json!({})).await;
    assert_eq!(r.json, json!({"connections": 0, "found": 0, "raised": 0, "refreshed": 0, "resolved": 0}));
    assert_eq!(app.get(&format!("{op}/alerts/{id}"), &other.owner_token).await.status, StatusCode::NOT_FOUND);
    for path in [format!("{ap}/alerts"), format!("{ap}/alerts/{id}")] {
        assert_eq!(app.get(&path, &other.owner_token).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    for action in ["acknowledge", "resolve"] {
        let r = app.post(&format!("{op}/alerts/{id}/{action}"), &other.owner_token, json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
        let r = app.post(&format!("{ap}/alerts/{id}/{action}"), &other.owner_token, json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    let r = app.post(&format!("{ap}/alerts/run"), &other.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("{ap}/alerts/{id}"), &t.owner_token).await.json["status"], "open");

    // Clear errors.
    let r = app.get(&format!("{ap}/alerts?status=sleeping"), &t.owner_token).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    let r = app.get(&format!("{ap}/alerts?kind=weather"), &t.owner_token).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    let r = app.get(&format!("{ap}/alerts?limit=0"), &t.owner_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&format!("{ap}/alerts?limit=1"), &t.owner_token).await;
    assert_eq!(r.json.as_array().unwrap().len(), 1);
    let r = app.get(&format!("{ap}/alerts/{}", id + 1000), &t.owner_token).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.get(&format!("{ap}/alerts/abc"), &t.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(reqwest::Method::GET, &format!("{ap}/alerts"), None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
