//! Product feedback over HTTP on both stores, with a fixed clock: defect
//! conversations per SKU of the buyer's orders and per week (Shanghai
//! days), the SKU in detail with the first buyer message and its file,
//! CSV with a byte-order mark, the defect rules with their 422s, roles;
//! and the `defect_rate` alert raised by a jump, not by a steady rate, and
//! resolved once the jump is over.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use ferry_core::clock::{Clock, FixedClock};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(product_feedback_counts_exports_and_checks, defect_rate_jumps_raise_an_alert);

const SECRET: &str = "shpss_products_0123456789abcdef";

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Shop {
    app: TestApp,
    clock: Arc<FixedClock>,
    t: Tenant,
    conn: i64,
    hooks: u32,
}

async fn shop(b: Backend, name: &str, now: DateTime<Utc>) -> Option<Shop> {
    let clock = Arc::new(FixedClock::new(now));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let app = spawn_with(SpawnOptions { clock: dyn_clock, ..SpawnOptions::new(b) }).await?;
    let t = app.tenant(name).await;
    let slug: String = name.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let body = json!({"name": name, "shop_domain": format!("{slug}.myshopify.com"), "secret": SECRET});
    let r = app.post(&format!("{}/shop_connections", acct(&t)), &t.owner_token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let conn = r.json["id"].as_i64().unwrap();
    let settings = format!("{}/reports/settings", acct(&t));
    let r = app.call(Method::PUT, &settings, Some(&t.owner_token), Some(json!({"timezone": "Asia/Shanghai"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    Some(Shop { app, clock, t, conn, hooks: 0 })
}

impl Shop {
    /// Sets the clock (forward or back).
    fn set_clock(&self, to: DateTime<Utc>) {
        self.clock.advance(to - self.clock.now());
    }

    /// An order by `email` of `lines` (SKU, units), placed at `placed`.
    async fn order(&mut self, number: i64, email: &str, lines: &[(&str, i64)], placed: DateTime<Utc>) {
        self.hooks += 1;
        let items: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(k, (sku, q))| {
                json!({"id": number * 100 + k as i64, "product_id": 1, "variant_id": 1, "sku": sku, "title": "Mug",
                    "quantity": q, "price": "10.00"})
            })
            .collect();
        let body = json!({
            "id": number, "name": format!("#{number}"), "order_number": number, "email": email,
            "currency": "USD", "total_price": "10.00", "financial_status": "paid", "fulfillment_status": "fulfilled",
            "created_at": placed.to_rfc3339(), "updated_at": placed.to_rfc3339(), "line_items": items,
            "fulfillments": [{"id": number * 10, "order_id": number, "status": "success", "shipment_status": "delivered",
                "tracking_company": "DHL", "tracking_number": format!("T{number}"),
                "created_at": placed.to_rfc3339(), "updated_at": placed.to_rfc3339()}]
        });
        let r =
            self.app.shopify_webhook(self.conn, SECRET, "orders/create", &format!("wh-{}", self.hooks), &body).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    }

    /// A buyer writes (now, by the clock); the conversation gets `tags`.
    async fn write(&self, ext: &str, email: &str, text: &str, files: Value, tags: &[&str]) -> i64 {
        let handle = email.split('@').next().unwrap();
        let body = json!({"external_id": ext, "sender": {"handle": handle, "email": email}, "text": text,
            "attachments": files});
        let r = self.app.webhook(&self.t, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        let id = r.json["conversation_id"].as_i64().unwrap();
        if !tags.is_empty() {
            let path = format!("{}/conversations/{id}/tags", acct(&self.t));
            let r = self.app.call(Method::PUT, &path, Some(&self.t.agent_token), Some(json!({"tags": tags}))).await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        }
        id
    }
}

async fn product_feedback_counts_exports_and_checks(b: Backend) {
    // Thursday 12 March 2026, noon in Shanghai.
    let Some(mut s) = shop(b, "Mugs", at("2026-03-12T04:00:00Z")).await else { return };
    let ap = acct(&s.t);
    s.order(1001, "ann@buyer.example", &[("MUG-RED", 2), ("LID-01", 1)], at("2026-03-03T02:00:00Z")).await;
    s.order(1002, "bob@buyer.example", &[("MUG-RED", 1)], at("2026-03-08T17:00:00Z")).await;
    s.order(1003, "cat@buyer.example", &[("MUG-RED", 1)], at("2026-03-10T02:00:00Z")).await;
    s.order(1004, "dan@buyer.example", &[("MUG-RED", 4)], at("2026-03-10T03:00:00Z")).await;

    // Sunday 8 March 17:00 UTC is Monday 9 March in Shanghai: week two.
    s.set_clock(at("2026-03-08T17:00:00Z"));
    let photo =
        json!([{"url": "https://cdn.example/crack.jpg", "content_type": "image/jpeg", "filename": "crack.jpg"}]);
    let bob = s.write("b-1", "bob@buyer.example", "The mug came cracked", photo, &["Damaged"]).await;
    s.set_clock(at("2026-03-04T02:00:00Z"));
    let ann = s.write("a-1", "ann@buyer.example", "Wrong colour and no lid", json!([]), &["wrong_item"]).await;
    s.set_clock(at("2026-03-10T04:00:00Z"));
    s.write("c-1", "cat@buyer.example", "Where is my parcel?", json!([]), &[]).await;
    s.set_clock(at("2026-03-12T04:00:00Z"));

    // Agents may not read it; owners may.
    let list = format!("{ap}/insights/products?from=2026-03-02&until=2026-03-15");
    let r = s.app.get(&list, &s.t.agent_token).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let r = s.app.get(&list, &s.t.owner_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!((r.json["timezone"].as_str(), r.json["total"].as_u64()), (Some("Asia/Shanghai"), Some(2)));
    let mug = &r.json["lines"][0];
    assert_eq!(mug["sku"], "MUG-RED");
    // 2 defect conversations (Ann, Bob) of 3; 4 orders, 8 units.
    assert_eq!(
        (&mug["defect_conversations"], &mug["conversations"], &mug["orders"], &mug["units"], &mug["defect_rate"]),
        (&json!(2), &json!(3), &json!(4), &json!(8), &json!(0.5))
    );
    assert_eq!(mug["reasons"], json!([{"value": "damaged", "count": 1}, {"value": "wrong_item", "count": 1}]));
    let weeks: Vec<(&str, u64, u64)> = mug["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (w["week"].as_str().unwrap(), w["defect_conversations"].as_u64().unwrap(), w["orders"].as_u64().unwrap())
        })
        .collect();
    // Order 1002 (8 March 17:00 UTC) is placed on Monday 9 March too.
    assert_eq!(weeks, vec![("2026-03-02", 1, 1), ("2026-03-09", 1, 3)]);
    assert_eq!(r.json["lines"][1]["sku"], "LID-01");
    assert_eq!(r.json["lines"][1]["defect_rate"], json!(1.0));
    let r = s.app.get(&format!("{list}&limit=1&offset=1"), &s.t.owner_token).await;
    assert_eq!((r.json["total"].as_u64(), r.json["lines"][0]["sku"].as_str()), (Some(2), Some("LID-01")));
    assert_eq!(r.json["lines"].as_array().unwrap().len(), 1);

    // One SKU: the newest defect conversation's first message and file.
    let r =
        s.app.get(&format!("{ap}/insights/products/MUG-RED?from=2026-03-02&until=2026-03-15"), &s.t.owner_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["line"]["defect_conversations"], 2);
    let ex = r.json["examples"].as_array().unwrap();
    assert_eq!(ex.iter().map(|e| e["conversation_id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![bob, ann]);
    assert_eq!((ex[0]["text"].as_str(), ex[0]["reasons"].clone()), (Some("The mug came cracked"), json!(["damaged"])));
    assert_eq!(ex[0]["attachments"][0]["filename"], "crack.jpg");
    assert_eq!(ex[0]["attachments"][0]["content_type"], "image/jpeg");
    // A SKU only ordered has its orders and no conversation.
    let r = s.app.get(&format!("{ap}/insights/products/NOPE"), &s.t.owner_token).await;
    assert_eq!((r.status, r.json["line"]["orders"].clone()), (StatusCode::OK, json!(0)));

    // CSV: a byte-order mark, a header, a line per SKU.
    let resp = s
        .app
        .http
        .get(format!("{}{list}&format=csv", s.app.base))
        .header("api_access_token", &s.t.owner_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "sku,defect_conversations,conversations,orders,units,defect_rate,reasons,countries");
    assert_eq!(lines[1], "MUG-RED,2,3,4,8,0.5,damaged 1; wrong_item 1,unknown 2");
    assert_eq!(lines.len(), 3);

    // Bad parameters are 422s.
    for q in ["limit=0", "limit=501", "format=xml", "from=soon", "from=2026-03-16&until=2026-03-15"] {
        let r = s.app.get(&format!("{ap}/insights/products?{q}"), &s.t.owner_token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {:?}", r.json);
    }

    // The rules: defaults, checked, per account, and the figures follow.
    let rules = format!("{ap}/insights/defect_rules");
    let r = s.app.get(&rules, &s.t.owner_token).await;
    assert_eq!(
        r.json,
        json!({"tags": ["broken", "damaged", "defect", "not_as_described", "wrong_item"], "intents": []})
    );
    for (body, field) in [
        (json!({"tags": [], "intents": []}), "tags"),
        (json!({"tags": ["ok", " "], "intents": []}), "tags"),
        (json!({"tags": ["ok"], "intents": ["x".repeat(65)]}), "intents"),
    ] {
        let r = s.app.call(Method::PUT, &rules, Some(&s.t.owner_token), Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
        assert!(r.json["error"]["message"].as_str().unwrap().contains(field), "{:?}", r.json);
    }
    let body = json!({"tags": ["Damaged", "damaged"], "intents": []});
    let r = s.app.call(Method::PUT, &rules, Some(&s.t.agent_token), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.app.call(Method::PUT, &rules, Some(&s.t.owner_token), Some(body)).await;
    assert_eq!((r.status, r.json.clone()), (StatusCode::OK, json!({"tags": ["damaged"], "intents": []})));
    let r = s.app.get(&list, &s.t.owner_token).await;
    assert_eq!(r.json["lines"][0]["defect_conversations"], 1, "only Bob's now");
    assert_eq!(r.json["lines"][1]["defect_conversations"], 0);
    let other = s.app.tenant("Other").await;
    let r = s.app.get(&format!("{}/insights/products", acct(&other)), &other.owner_token).await;
    assert_eq!((r.status, r.json["total"].as_u64()), (StatusCode::OK, Some(0)));
    let r = s.app.get(&format!("{}/insights/defect_rules", acct(&other)), &s.t.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another account's rules are not found");
}

async fn defect_rate_jumps_raise_an_alert(b: Backend) {
    let now = at("2026-11-20T04:00:00Z");
    let Some(mut s) = shop(b, "Jumps", now).await else { return };
    let ap = acct(&s.t);
    let mut n = 5000;
    // STEADY: 3 defect conversations out of 4 orders in the baseline
    // (20 days ago) and again in the last week (2 days ago).
    // JUMP: 5 orders in the baseline without a defect; in the last week 3
    // orders, each followed by a defect conversation.
    for (days, tag) in [(20, "broken"), (2, "damaged")] {
        for k in 0..4 {
            n += 1;
            let email = format!("steady-{days}-{k}@buyer.example");
            s.order(n, &email, &[("STEADY", 1)], now - Duration::days(days)).await;
            if k < 3 {
                s.set_clock(now - Duration::days(days) + Duration::hours(1));
                s.write(&format!("s-{n}"), &email, "It broke", json!([]), &[tag]).await;
            }
        }
    }
    for k in 0..5 {
        n += 1;
        s.order(n, &format!("calm-{k}@buyer.example"), &[("JUMP", 1)], now - Duration::days(15)).await;
    }
    for k in 0..3 {
        n += 1;
        let email = format!("jump-{k}@buyer.example");
        s.order(n, &email, &[("JUMP", 1)], now - Duration::days(3)).await;
        s.set_clock(now - Duration::days(1));
        s.write(&format!("j-{n}"), &email, "Arrived in pieces", json!([]), &["damaged"]).await;
    }
    s.set_clock(now);

    let r = s.app.post(&format!("{ap}/alerts/run"), &s.t.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = s.app.get(&format!("{ap}/alerts?kind=defect_rate"), &s.t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let alerts = r.json.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "only the jump: {alerts:#?}");
    let a = &alerts[0];
    assert_eq!(
        (a["key"].as_str(), a["status"].as_str(), a["severity"].as_str()),
        (Some("defect_rate:JUMP"), Some("open"), Some("warning"))
    );
    assert_eq!(a["connection_id"], Value::Null);
    assert_eq!(
        (&a["details"]["recent_defects"], &a["details"]["recent_orders"], &a["details"]["baseline_orders"]),
        (&json!(3), &json!(3), &json!(5))
    );
    assert_eq!((&a["details"]["recent_rate"], &a["details"]["baseline_rate"]), (&json!(1.0), &json!(0.0)));

    // A second run refreshes it; a week and a half later it is over.
    let r = s.app.post(&format!("{ap}/alerts/run"), &s.t.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = s.app.get(&format!("{ap}/alerts?kind=defect_rate"), &s.t.owner_token).await;
    assert_eq!(r.json.as_array().unwrap().len(), 1);
    s.set_clock(now + Duration::days(10));
    let r = s.app.post(&format!("{ap}/alerts/run"), &s.t.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = s.app.get(&format!("{ap}/alerts?kind=defect_rate"), &s.t.owner_token).await;
    assert_eq!(r.json[0]["status"], "resolved", "{:?}", r.json);
}
