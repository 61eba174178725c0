//! Proactive notices end to end, on SQLite and PostgreSQL, with the
//! WhatsApp and SMS stand-ins and a fixed clock: a Shopify fulfilment
//! webhook produces exactly one shipped notice, in the buyer's language,
//! as a WhatsApp template (the buyer never wrote, so the window is
//! closed), and none when the shop delivers it again; a buyer whose local
//! time is in the quiet hours gets it when they end; a buyer who sent
//! STOP is skipped, with the reason in the log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use ferry_core::clock::FixedClock;
use ferry_sandbox::whatsapp::FakeGraph;
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(a_shipment_becomes_one_notice_in_the_buyers_language, quiet_hours_and_stopped_buyers,);

const SHOP_SECRET: &str = "shop-secret-for-notices";
const APP_SECRET: &str = "wa-app-secret-notices";

struct Shop {
    app: TestApp,
    t: Tenant,
    clock: Arc<FixedClock>,
    wa: FakeGraph,
    conn: i64,
    hooks: std::sync::atomic::AtomicUsize,
}

impl Shop {
    fn acct(&self) -> String {
        format!("/api/v1/accounts/{}", self.t.account)
    }

    async fn hook(&self, topic: &str, body: Value) {
        let n = self.hooks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.hook_with_id(topic, &format!("wh-{n}"), body).await;
    }

    async fn hook_with_id(&self, topic: &str, id: &str, body: Value) {
        let r = self.app.shopify_webhook(self.conn, SHOP_SECRET, topic, id, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{topic}: {:?}", r.json);
    }

    async fn log(&self) -> Vec<Value> {
        let r = self.app.get(&format!("{}/notices/log", self.acct()), &self.t.agent_token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        r.json.as_array().unwrap().clone()
    }
}

/// 12:00 UTC: 13:00 in Madrid, 21:00 in Tokyo.
fn noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

async fn setup(b: Backend, channels: Value) -> Option<Shop> {
    let clock = Arc::new(FixedClock::new(noon()));
    let mut o = SpawnOptions::new(b);
    o.clock = clock.clone();
    let app = spawn_with(o).await?;
    let t = app.tenant("Notices Shop").await;
    let wa = FakeGraph::start().await.unwrap();
    let mut settings = wa.settings("verify-notices");
    settings["app_secret"] = json!(APP_SECRET);
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/inboxes", t.account),
            &t.owner_token,
            json!({"name": "WhatsApp", "channel": "whatsapp", "config": {"bot_enabled": false, "whatsapp": settings}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/shop_connections", t.account),
            &t.owner_token,
            json!({"name": "Shop", "shop_domain": "notices.myshopify.com", "secret": SHOP_SECRET}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let conn = r.json["id"].as_i64().unwrap();

    // Notices are off until the seller turns them on.
    let acct = format!("/api/v1/accounts/{}", t.account);
    let current = app.get(&format!("{acct}/notices"), &t.agent_token).await;
    assert_eq!(current.status, StatusCode::OK, "{:?}", current.json);
    assert!(current.json["rules"].as_array().unwrap().iter().all(|r| r["enabled"] == false), "{:?}", current.json);
    // Agents may not change them; a rule on a channel notices cannot use
    // is refused.
    let shipped = json!({"kind": "shipped", "enabled": true, "channels": channels,
        "whatsapp_template": {"name": "order_shipped", "languages": {"es": "es_MX", "en": "en_US"},
            "body": ["{{contact.name}}", "{{order.number}}", "{{tracking.url}}"]}});
    let body = json!({"policy": current.json["policy"], "rules": [shipped]});
    let r = app.call(reqwest::Method::PUT, &format!("{acct}/notices"), Some(&t.agent_token), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    let mut amazon = body.clone();
    amazon["rules"][0]["channels"] = json!(["amazon"]);
    let r = app.call(reqwest::Method::PUT, &format!("{acct}/notices"), Some(&t.owner_token), Some(amazon)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    let r = app.call(reqwest::Method::PUT, &format!("{acct}/notices"), Some(&t.owner_token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let on = r.json["rules"].as_array().unwrap().iter().find(|r| r["kind"] == "shipped").unwrap().clone();
    assert_eq!(on["enabled"], true);
    Some(Shop { app, t, clock, wa, conn, hooks: 0.into() })
}

fn order(id: i64, number: i64, phone: &str, first_name: &str, country: &str) -> Value {
    json!({
        "id": id, "name": format!("#{number}"), "order_number": number, "email": format!("buyer{id}@example.com"),
        "phone": phone,
        "customer": {"id": id + 7, "first_name": first_name, "last_name": "Ruiz"},
        "shipping_address": {"name": format!("{first_name} Ruiz"), "address1": "Calle 1", "city": "Madrid",
            "zip": "28001", "country_code": country},
        "currency": "EUR", "total_price": "59.00", "financial_status": "paid", "fulfillment_status": null,
        "created_at": "2026-03-08T10:00:00Z", "updated_at": "2026-03-08T10:00:00Z",
        "line_items": [{"id": id * 10, "product_id": 5, "variant_id": 51, "sku": "KET-RED", "title": "Kettle",
            "variant_title": "Red", "quantity": 1, "price": "59.00"}]
    })
}

fn fulfilment(id: i64, order: i64) -> Value {
    json!({"id": id, "order_id": order, "status": "success", "shipment_status": "in_transit",
        "tracking_company": "UPS", "tracking_number": "1Z999AA10123456784",
        "tracking_url": "https://track.example/1Z999AA10123456784",
        "created_at": "2026-03-10T11:50:00Z", "updated_at": "2026-03-10T11:50:00Z"})
}

async fn a_shipment_becomes_one_notice_in_the_buyers_language(b: Backend) {
    let Some(s) = setup(b, json!(["whatsapp", "email"])).await else { return };
    s.hook("orders/create", order(9101, 1101, "+34 612 345 678", "Lucía", "ES")).await;
    // The fulfilment arrives, then the shop sends it again (a retry with
    // its webhook id, and the same shipment inside an order update).
    s.hook_with_id("fulfillments/create", "ful-1", fulfilment(77101, 9101)).await;
    s.hook_with_id("fulfillments/create", "ful-1", fulfilment(77101, 9101)).await;
    let mut updated = fulfilment(77101, 9101);
    updated["updated_at"] = json!("2026-03-10T11:55:00Z");
    s.hook("fulfillments/update", updated).await;
    s.app.drain_jobs().await;
    s.app.drain_jobs().await;

    let sent = s.wa.sent();
    assert_eq!(sent.len(), 1, "exactly one notice: {sent:?}");
    let m = &sent[0];
    assert_eq!(m.to, "34612345678");
    assert_eq!(m.kind, "template");
    assert_eq!(m.body["template"]["name"], "order_shipped");
    assert_eq!(m.body["template"]["language"]["code"], "es_MX", "in the buyer's language");
    let params = m.body["template"]["components"][0]["parameters"].to_string();
    assert!(params.contains("Lucía") && params.contains("#1101") && params.contains("track.example"), "{params}");

    let log = s.log().await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!((log[0]["kind"].as_str(), log[0]["state"].as_str()), (Some("shipped"), Some("sent")));
    assert_eq!(log[0]["channel"], "whatsapp");
    // The notice is in a conversation with the buyer, where their answer
    // will land.
    let conv = log[0]["conversation_id"].as_i64().unwrap();
    let msgs = s.app.get(&format!("{}/conversations/{conv}/messages", s.acct()), &s.t.agent_token).await;
    let text = msgs.json.to_string();
    assert!(text.contains("Tu pedido #1101 ya va en camino"), "{text}");
    let c = s.app.get(&format!("{}/conversations/{conv}", s.acct()), &s.t.agent_token).await;
    assert_eq!(c.json["status"], "resolved", "a notice asks nothing of agents: {:?}", c.json);

    // The buyer answers the notice: in the same conversation, reopened,
    // the notice above it as context.
    let inbox = c.json["inbox_id"].as_i64().unwrap();
    s.wa.set_webhook(&format!("{}/webhooks/whatsapp/{inbox}", s.app.base), APP_SECRET);
    let posted = s.wa.buyer_text("34612345678", "Lucía Ruiz", "¿Cuándo llega?").await;
    assert_eq!(posted.status, 200);
    let c = s.app.get(&format!("{}/conversations/{conv}", s.acct()), &s.t.agent_token).await;
    assert_eq!(c.json["status"], "open", "{:?}", c.json);
    let msgs = s.app.get(&format!("{}/conversations/{conv}/messages", s.acct()), &s.t.agent_token).await;
    let kinds: Vec<&str> = msgs.json.as_array().unwrap().iter().filter_map(|m| m["kind"].as_str()).collect();
    assert_eq!(&kinds[kinds.len() - 2..], ["outgoing", "incoming"], "{kinds:?}");

    // Four days later the parcel is overdue: the delay notice (on, text
    // only) goes once, as free text since the buyer wrote within 24 hours.
    let settings = s.app.get(&format!("{}/notices", s.acct()), &s.t.owner_token).await;
    let mut body = settings.json.clone();
    for r in body["rules"].as_array_mut().unwrap() {
        if r["kind"] == "delayed" {
            r["enabled"] = json!(true);
            r["channels"] = json!(["whatsapp"]);
        }
    }
    let r =
        s.app.call(reqwest::Method::PUT, &format!("{}/notices", s.acct()), Some(&s.t.owner_token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let mut late = fulfilment(77101, 9101);
    late["estimated_delivery_at"] = json!("2026-03-10T12:30:00Z");
    late["updated_at"] = json!("2026-03-10T12:01:00Z");
    s.hook("fulfillments/update", late).await;
    s.clock.advance(Duration::hours(1));
    for _ in 0..2 {
        let r = s.app.post(&format!("{}/alerts/run", s.acct()), &s.t.owner_token, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    }
    s.app.drain_jobs().await;
    let sent = s.wa.sent();
    assert_eq!(sent.len(), 2, "the delay notice, once: {sent:?}");
    assert_eq!(sent[1].kind, "text");
    let text = sent[1].body["text"]["body"].as_str().unwrap();
    assert!(text.contains("#1101") && text.contains("retraso"), "in Spanish: {text}");
    let log = s.log().await;
    assert_eq!(log[0]["kind"], "delayed", "{log:?}");

    // The figures: the shipped notice was sent and answered; the delay
    // notice sent.
    let stats = s.app.get(&format!("{}/notices/stats?days=30", s.acct()), &s.t.agent_token).await;
    assert_eq!(stats.status, StatusCode::OK, "{:?}", stats.json);
    let of = |kind: &str| stats.json.as_array().unwrap().iter().find(|k| k["kind"] == kind).unwrap().clone();
    assert_eq!(
        (of("shipped")["sent"].as_u64(), of("shipped")["replied"].as_u64()),
        (Some(1), Some(1)),
        "{:?}",
        stats.json
    );
    assert_eq!(of("delayed")["sent"], 1);
    assert_eq!(of("delivered")["sent"], 0);
}

async fn quiet_hours_and_stopped_buyers(b: Backend) {
    let Some(s) = setup(b, json!(["whatsapp"])).await else { return };
    // 12:00 UTC is 21:00 in Tokyo: quiet until 08:00 there (23:00 UTC).
    s.hook("orders/create", order(9201, 1201, "+81 90 1234 5678", "Yui", "JP")).await;
    s.hook("fulfillments/create", fulfilment(77201, 9201)).await;
    s.app.drain_jobs().await;
    assert!(s.wa.sent().is_empty(), "nothing during the buyer's night");
    let log = s.log().await;
    assert_eq!(log[0]["state"], "scheduled", "{log:?}");
    let due: chrono::DateTime<Utc> = log[0]["scheduled_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, Utc.with_ymd_and_hms(2026, 3, 10, 23, 0, 0).unwrap());
    s.clock.advance(Duration::hours(11));
    s.app.drain_jobs().await;
    s.app.drain_jobs().await;
    let sent = s.wa.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].body["template"]["language"]["code"], "en_US", "no Japanese template: the first given");
    assert_eq!(s.log().await[0]["state"], "sent");

    // A buyer who stopped WhatsApp... here, a buyer the shop can only
    // reach on a channel they stopped: skipped, with the reason.
    let sms = SmsSink::start().await.unwrap();
    let r = s
        .app
        .post(
            &format!("{}/inboxes", s.acct()),
            &s.t.owner_token,
            json!({"name": "SMS", "channel": "sms", "config": {"bot_enabled": false, "sms": sms.settings()}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let inbox = r.json["id"].as_i64().unwrap();
    let check = s.app.post(&format!("{}/inboxes/{inbox}/check", s.acct()), &s.t.owner_token, json!({})).await;
    let signed = check.json["sms"]["webhook_url"].as_str().unwrap().to_owned();
    sms.set_webhook(&signed, &format!("{}/webhooks/sms/{inbox}", s.app.base));
    assert_eq!(sms.buyer_sms("+34699000111", "STOP", &[]).await.0, 200);
    let settings = s.app.get(&format!("{}/notices", s.acct()), &s.t.owner_token).await;
    let mut body = settings.json.clone();
    for r in body["rules"].as_array_mut().unwrap() {
        if r["kind"] == "shipped" {
            r["channels"] = json!(["sms"]);
        }
    }
    let r =
        s.app.call(reqwest::Method::PUT, &format!("{}/notices", s.acct()), Some(&s.t.owner_token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    s.hook("orders/create", order(9301, 1301, "+34 699 000 111", "Pau", "ES")).await;
    s.hook("fulfillments/create", fulfilment(77301, 9301)).await;
    s.app.drain_jobs().await;
    let log = s.log().await;
    let stopped = log.iter().find(|n| n["dedup_key"].as_str().unwrap().ends_with(":77301")).unwrap();
    assert_eq!((stopped["state"].as_str(), stopped["reason"].as_str()), (Some("skipped"), Some("opted_out")));
    let stats = s.app.get(&format!("{}/notices/stats", s.acct()), &s.t.agent_token).await;
    let shipped = stats.json.as_array().unwrap().iter().find(|k| k["kind"] == "shipped").unwrap().clone();
    assert_eq!(shipped["skipped"]["opted_out"], 1, "{shipped:?}");
    assert_eq!(shipped["sent"], 1, "{shipped:?}");

    // The stopped buyer's channels show the stop; consent is recorded per
    // channel with its source, withdrawn, and audited.
    let contact = stopped["contact_id"].as_i64().unwrap();
    let path = format!("{}/contacts/{contact}/consent", s.acct());
    let c = s.app.get(&path, &s.t.agent_token).await;
    assert_eq!(c.status, StatusCode::OK, "{:?}", c.json);
    assert_eq!(c.json["stopped"][0]["channel"], "sms", "{:?}", c.json);
    assert_eq!(c.json["stopped"][0]["keyword"], "STOP");
    assert_eq!(c.json["consents"], json!([]));
    let put = |body: Value| s.app.call(reqwest::Method::PUT, &path, Some(&s.t.agent_token), Some(body));
    let r = put(json!({"channel": "whatsapp", "granted": true, "source": "checkout"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        (r.json["consents"][0]["channel"].as_str(), r.json["consents"][0]["granted"].as_bool()),
        (Some("whatsapp"), Some(true))
    );
    assert_eq!(r.json["consents"][0]["source"], "checkout");
    let r = put(json!({"channel": "whatsapp", "granted": false})).await;
    assert_eq!(
        (r.json["consents"][0]["granted"].as_bool(), r.json["consents"][0]["source"].as_str()),
        (Some(false), Some("agent"))
    );
    assert_eq!(put(json!({"channel": "amazon", "granted": true})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        put(json!({"channel": "all", "granted": true, "source": ""})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let audit = s.app.get(&format!("{}/audit_log?limit=20", s.acct()), &s.t.owner_token).await;
    assert!(audit.json.to_string().contains("contact.consent_withdrawn"), "{:?}", audit.json);
    assert!(sms.messages().iter().all(|m| m.body != "STOP" && !m.body.contains("#1301")), "{:?}", sms.messages());
}
