//! Proactive notices end to end, on SQLite and PostgreSQL, with the
//! WhatsApp and SMS stand-ins and a fixed clock: a Shopify fulfilment
//! webhook produces exactly one shipped notice, in the buyer's language,
//! as a WhatsApp template (the buyer never wrote, so the window is
//! closed), and none when the shop delivers it again; a buyer whose local
//! time is in the quiet hours gets it when they end; a buyer who sent
//! STOP is skipped, with the reason in the log. An order taken, cancelled
//! or refunded tells its buyer once (within the notice's conditions), and
//! a buyer who asked for a variant hears once when it is back in stock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use ferry_core::clock::FixedClock;
use ferry_sandbox::whatsapp::FakeGraph;
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    a_shipment_becomes_one_notice_in_the_buyers_language,
    quiet_hours_and_stopped_buyers,
    order_events_and_back_in_stock,
    a_journey_follows_up_a_delivery,
    where_is_my_order_per_100_orders_before_and_after,
);

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

async fn order_events_and_back_in_stock(b: Backend) {
    let Some(s) = setup(b, json!(["whatsapp"])).await else { return };
    let acct = s.acct();
    // The buyer wrote on WhatsApp an hour ago: the window is open, so the
    // notices go as text.
    let inboxes = s.app.get(&format!("{acct}/inboxes"), &s.t.owner_token).await;
    let wa_inbox =
        inboxes.json.as_array().unwrap().iter().find(|i| i["channel"] == "whatsapp").unwrap()["id"].as_i64().unwrap();
    s.wa.set_webhook(&format!("{}/webhooks/whatsapp/{wa_inbox}", s.app.base), APP_SECRET);
    assert_eq!(s.wa.buyer_text("34611222333", "Marta Gil", "Hola, ¿tenéis hervidores azules?").await.status, 200);

    let settings = s.app.get(&format!("{acct}/notices"), &s.t.owner_token).await;
    let mut body = settings.json.clone();
    for r in body["rules"].as_array_mut().unwrap() {
        match r["kind"].as_str().unwrap() {
            "order_confirmed" => {
                r["enabled"] = json!(true);
                r["channels"] = json!(["whatsapp"]);
                // Only orders of 50.00 and more.
                r["min_order_total_minor"] = json!(5000);
            }
            "order_cancelled" | "refunded" | "back_in_stock" => {
                r["enabled"] = json!(true);
                r["channels"] = json!(["whatsapp"]);
            }
            _ => {}
        }
    }
    let r = s.app.call(reqwest::Method::PUT, &format!("{acct}/notices"), Some(&s.t.owner_token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);

    let placed = |id: i64, number: i64, total: &str| {
        let mut o = order(id, number, "+34 611 222 333", "Marta", "ES");
        o["total_price"] = json!(total);
        o["created_at"] = json!("2026-03-10T11:30:00Z");
        o["updated_at"] = json!("2026-03-10T11:30:00Z");
        o
    };
    // An order of 59.00 is confirmed; one of 20.00 is below the notice's
    // least value; an order from last month (sent again by the shop) is
    // too old to announce.
    s.hook("orders/create", placed(9301, 1301, "59.00")).await;
    s.hook("orders/create", placed(9301, 1301, "59.00")).await;
    s.hook("orders/create", placed(9302, 1302, "20.00")).await;
    let mut old = placed(9303, 1303, "80.00");
    old["created_at"] = json!("2026-02-01T10:00:00Z");
    s.hook("orders/updated", old).await;
    // The small order is cancelled, and part of the first refunded.
    let mut cancelled = placed(9302, 1302, "20.00");
    cancelled["cancelled_at"] = json!("2026-03-10T11:45:00Z");
    cancelled["cancel_reason"] = json!("customer");
    s.hook("orders/cancelled", cancelled.clone()).await;
    s.hook("orders/updated", cancelled).await;
    let refund = json!({"id": 55301, "order_id": 9301, "created_at": "2026-03-10T11:50:00Z",
        "transactions": [{"kind": "refund", "amount": "15.50", "currency": "EUR"}]});
    s.hook("refunds/create", refund.clone()).await;
    s.hook("refunds/create", refund).await;
    s.app.drain_jobs().await;

    let texts: Vec<String> =
        s.wa.sent().iter().map(|m| m.body["text"]["body"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(texts.len(), 3, "confirmed, cancelled, refunded — once each: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("Hemos recibido tu pedido #1301")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("#1302 ha sido cancelado")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("15.50 EUR") && t.contains("#1301")), "{texts:?}");
    let log = s.log().await;
    let skipped: Vec<(&str, &str)> = log
        .iter()
        .filter(|l| l["state"] == "skipped")
        .map(|l| (l["kind"].as_str().unwrap(), l["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped, [("order_confirmed", "conditions")], "{log:?}");

    // Back in stock: the blue kettle is out, the red one in.
    let product = json!({"id": 5, "title": "Kettle", "status": "active", "updated_at": "2026-03-10T11:00:00Z",
        "variants": [
            {"id": 51, "sku": "KET-RED", "title": "Red", "price": "59.00", "inventory_item_id": 510, "inventory_quantity": 4},
            {"id": 52, "sku": "KET-BLU", "title": "Blue", "price": "59.00", "inventory_item_id": 520, "inventory_quantity": 0}]});
    s.hook("products/create", product).await;
    let contacts = s.app.get(&format!("{acct}/contacts?q=Marta"), &s.t.agent_token).await;
    let marta = contacts.json["data"].as_array().unwrap()[0]["id"].as_i64().unwrap();
    let subs = format!("{acct}/contacts/{marta}/stock-subscriptions");
    let r = s.app.post(&subs, &s.t.agent_token, json!({"sku": "KET-RED"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "in stock now: {:?}", r.json);
    let r = s.app.post(&subs, &s.t.agent_token, json!({"sku": "NOPE-1"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
    let first = s.app.post(&subs, &s.t.agent_token, json!({"sku": "ket-blu"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.json);
    assert_eq!((first.json["title"].as_str(), first.json["source"].as_str()), (Some("Kettle (Blue)"), Some("agent")));
    let again =
        s.app.post(&subs, &s.t.agent_token, json!({"connection_id": s.conn, "variant_external_id": "52"})).await;
    assert_eq!(again.json["id"], first.json["id"], "one open request per buyer and variant: {:?}", again.json);

    // A visitor on the shop's site asks too, with an e-mail.
    let r = s
        .app
        .post(&format!("{acct}/inboxes"), &s.t.owner_token, json!({"name": "Chat", "channel": "web_widget"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let widget = r.json["id"].as_i64().unwrap();
    let session =
        s.app.http.post(format!("{}/widget/{widget}/sessions", s.app.base)).json(&json!({})).send().await.unwrap();
    let token = session.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let ask = |body: Value| {
        let (app, token) = (&s.app, token.clone());
        async move {
            app.http
                .post(format!("{}/widget/{widget}/stock-subscriptions", app.base))
                .header("x-visitor-token", token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(ask(json!({"sku": "KET-BLU"})).await.status(), StatusCode::UNPROCESSABLE_ENTITY, "no e-mail yet");
    let r = ask(json!({"sku": "KET-BLU", "email": "visitor@example.com"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["title"], "Kettle (Blue)");
    let open = s.app.get(&format!("{acct}/stock-subscriptions"), &s.t.agent_token).await;
    let sources: Vec<&str> = open.json.as_array().unwrap().iter().filter_map(|o| o["source"].as_str()).collect();
    assert_eq!(sources, ["widget", "agent"], "{:?}", open.json);

    // The blue kettle comes back: Marta hears once, in Spanish; the
    // visitor (reachable only by e-mail, which this account has no inbox
    // for) is logged as not reachable; both requests are closed.
    let level =
        |n: i64, at: &str| json!({"inventory_item_id": 520, "location_id": 1, "available": n, "updated_at": at});
    s.hook("inventory_levels/update", level(6, "2026-03-10T11:55:00Z")).await;
    s.hook("inventory_levels/update", level(5, "2026-03-10T11:56:00Z")).await;
    s.app.drain_jobs().await;
    let sent = s.wa.sent();
    assert_eq!(sent.len(), 4, "{sent:?}");
    let text = sent[3].body["text"]["body"].as_str().unwrap();
    assert!(text.contains("Kettle (Blue)") && text.contains("disponible"), "{text}");
    assert!(text.contains("notices.myshopify.com/search?q=KET-BLU"), "{text}");
    let open = s.app.get(&format!("{acct}/stock-subscriptions"), &s.t.agent_token).await;
    assert_eq!(open.json.as_array().unwrap().len(), 0, "{:?}", open.json);
    let mine = s.app.get(&subs, &s.t.agent_token).await;
    assert!(mine.json[0]["notified_at"].is_string(), "{:?}", mine.json);
    let log = s.log().await;
    let stock: Vec<(&str, Option<&str>)> = log
        .iter()
        .filter(|l| l["kind"] == "back_in_stock")
        .map(|l| (l["state"].as_str().unwrap(), l["reason"].as_str()))
        .collect();
    assert_eq!(stock.len(), 2, "{log:?}");
    assert!(stock.contains(&("sent", None)) && stock.contains(&("skipped", Some("no_channel"))), "{stock:?}");

    // Another account sees none of it.
    let other = s.app.tenant("Other shop").await;
    let r = s
        .app
        .get(&format!("/api/v1/accounts/{}/contacts/{marta}/stock-subscriptions", other.account), &other.agent_token)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
    let id = first.json["id"].as_i64().unwrap();
    let r = s
        .app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/accounts/{}/stock-subscriptions/{id}", other.account),
            Some(&other.agent_token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
}

async fn a_journey_follows_up_a_delivery(b: Backend) {
    let Some(s) = setup(b, json!(["whatsapp"])).await else { return };
    let acct = s.acct();
    let inboxes = s.app.get(&format!("{acct}/inboxes"), &s.t.owner_token).await;
    let wa_inbox =
        inboxes.json.as_array().unwrap().iter().find(|i| i["channel"] == "whatsapp").unwrap()["id"].as_i64().unwrap();
    s.wa.set_webhook(&format!("{}/webhooks/whatsapp/{wa_inbox}", s.app.base), APP_SECRET);
    // Two buyers wrote this morning (the window is open: text goes).
    assert_eq!(s.wa.buyer_text("34612000001", "Lucía Ruiz", "Hola").await.status, 200);
    assert_eq!(s.wa.buyer_text("34612000002", "Pau Vidal", "Hola").await.status, 200);

    // Only the journey speaks here: the shipped notice is off.
    let settings = s.app.get(&format!("{acct}/notices"), &s.t.owner_token).await;
    let mut body = settings.json.clone();
    for r in body["rules"].as_array_mut().unwrap() {
        r["enabled"] = json!(false);
    }
    let r = s.app.call(reqwest::Method::PUT, &format!("{acct}/notices"), Some(&s.t.owner_token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);

    // A care journey after delivery: ask how it went; a buyer who answers
    // goes to an agent; one who does not is tagged after a day.
    let journey = json!({
    "name": "After delivery", "purpose": "transactional",
    "trigger": {"type": "event", "event": "delivered"},
    "steps": [
        {"type": "send", "channels": ["whatsapp"],
         "texts": {"es": "¿Qué tal tu pedido {{order.number}}, {{contact.name}}?", "en": "How is your order {{order.number}}?"}},
        {"type": "wait_for_reply", "within_minutes": 1440, "replied": 2, "otherwise": 3},
        {"type": "hand_off", "reason": "answered the care message"},
        {"type": "tag", "tag": "care-no-reply"}
    ]});
    let r = s.app.post(&format!("{acct}/journeys"), &s.t.agent_token, journey.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "agents do not write journeys: {:?}", r.json);
    let mut backwards = journey.clone();
    backwards["steps"][1]["otherwise"] = json!(0);
    let r = s.app.post(&format!("{acct}/journeys"), &s.t.owner_token, backwards).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a jump backwards could loop: {:?}", r.json);
    let r = s.app.post(&format!("{acct}/journeys"), &s.t.owner_token, journey).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["state"], "draft");
    let id = r.json["id"].as_i64().unwrap();
    let one = format!("{acct}/journeys/{id}");

    // Off, a delivery enrols nobody; on, each delivery enrols its buyer once.
    let deliver = |order_id: i64, ful: i64| {
        let mut f = fulfilment(ful, order_id);
        f["shipment_status"] = json!("delivered");
        f
    };
    s.hook("orders/create", order(9401, 1401, "+34 612 000 001", "Lucía", "ES")).await;
    s.hook("orders/create", order(9402, 1402, "+34 612 000 002", "Pau", "ES")).await;
    // The test run against Lucía: the question about her latest order now,
    // in Spanish, then — if she never answers — the tag a day later.
    // Nothing is sent.
    let contacts = s.app.get(&format!("{acct}/contacts?q=Luc%C3%ADa"), &s.t.agent_token).await;
    let lucia = contacts.json["data"].as_array().unwrap()[0]["id"].as_i64().unwrap();
    let r = s
        .app
        .call(
            reqwest::Method::PATCH,
            &format!("{acct}/contacts/{lucia}"),
            Some(&s.t.agent_token),
            Some(json!({"language": "es"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let run = s.app.post(&format!("{one}/test"), &s.t.agent_token, json!({"contact_id": lucia})).await;
    assert_eq!(run.status, StatusCode::OK, "{:?}", run.json);
    let lines = run.json.as_array().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!((lines[0]["action"].as_str(), lines[0]["channel"].as_str()), (Some("send"), Some("whatsapp")));
    assert_eq!(lines[0]["language"], "es");
    assert_eq!(lines[0]["detail"], "¿Qué tal tu pedido #1401, Lucía?", "{lines:?}");
    assert_eq!((lines[1]["action"].as_str(), lines[1]["detail"].as_str()), (Some("tag"), Some("care-no-reply")));
    let at = |l: &Value| l["at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    assert_eq!(at(&lines[1]) - at(&lines[0]), Duration::days(1));
    assert!(s.wa.sent().is_empty());

    s.hook("fulfillments/create", deliver(9401, 77401)).await;
    s.app.drain_jobs().await;
    assert!(s.wa.sent().is_empty(), "the journey is off");
    let r = s.app.post(&format!("{one}/activate"), &s.t.owner_token, json!({})).await;
    assert_eq!((r.status, r.json["state"].as_str()), (StatusCode::OK, Some("active")), "{:?}", r.json);
    let mut again = deliver(9401, 77401);
    again["updated_at"] = json!("2026-03-10T11:58:00Z");
    s.hook("fulfillments/update", again.clone()).await;
    s.hook("fulfillments/update", again).await;
    s.hook("fulfillments/create", deliver(9402, 77402)).await;
    s.app.drain_jobs().await;
    let sent = s.wa.sent();
    assert_eq!(sent.len(), 2, "one question per delivery: {sent:?}");
    let text = sent.iter().find(|m| m.to == "34612000001").unwrap().body["text"]["body"].as_str().unwrap().to_owned();
    assert_eq!(text, "¿Qué tal tu pedido #1401, Lucía?");

    // A running journey does not change; enrolling needs it on.
    let r = s
        .app
        .call(
            reqwest::Method::PUT,
            &one,
            Some(&s.t.owner_token),
            Some(json!({"name": "x", "purpose": "marketing", "steps": [{"type": "tag", "tag": "x"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.json);

    // Lucía answers: at once, not a day later, she goes to an agent with
    // the reason; her conversation is open.
    s.clock.advance(Duration::minutes(5));
    assert_eq!(s.wa.buyer_text("34612000001", "Lucía Ruiz", "¡Genial, gracias!").await.status, 200);
    s.app.drain_jobs().await;
    let log = s.log().await;
    let mine = log.iter().find(|l| l["kind"] == "journey" && l["contact_id"] == lucia).unwrap();
    let conv = mine["conversation_id"].as_i64().unwrap();
    let c = s.app.get(&format!("{acct}/conversations/{conv}"), &s.t.agent_token).await;
    assert_eq!(c.json["status"], "open", "{:?}", c.json);
    let msgs = s.app.get(&format!("{acct}/conversations/{conv}/messages"), &s.t.agent_token).await;
    assert!(msgs.json.to_string().contains("answered the care message"), "{:?}", msgs.json);

    // Pau never answers: a day later he is tagged and done.
    s.clock.advance(Duration::days(1) + Duration::minutes(1));
    s.app.drain_jobs().await;
    let stats = s.app.get(&format!("{one}/stats"), &s.t.agent_token).await;
    assert_eq!(stats.status, StatusCode::OK, "{:?}", stats.json);
    assert_eq!(stats.json["enrolled"], 2, "{:?}", stats.json);
    let left: Vec<(String, u64)> = stats.json["left"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["outcome"].as_str().unwrap().to_owned(), l["count"].as_u64().unwrap()))
        .collect();
    assert!(left.contains(&("handed_off".into(), 1)) && left.contains(&("finished".into(), 1)), "{left:?}");
    assert_eq!((stats.json["sends"]["sent"].as_u64(), stats.json["sends"]["replied"].as_u64()), (Some(2), Some(1)));
    let contacts = s.app.get(&format!("{acct}/contacts?q=Pau"), &s.t.agent_token).await;
    let tags = contacts.json["data"].as_array().unwrap()[0]["tags"].to_string();
    assert!(tags.contains("care-no-reply"), "{tags}");
    assert_eq!(s.wa.sent().len(), 2, "nothing more was sent");

    // Paused, nobody is enrolled; another account sees nothing.
    let r = s.app.post(&format!("{one}/pause"), &s.t.owner_token, json!({})).await;
    assert_eq!(r.json["state"], "paused");
    let r = s.app.post(&format!("{one}/enrol"), &s.t.owner_token, json!({"contact_ids": [lucia]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.json);
    let other = s.app.tenant("Other journeys").await;
    let r = s.app.get(&format!("/api/v1/accounts/{}/journeys/{id}", other.account), &other.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
    let r = s
        .app
        .post(
            &format!("/api/v1/accounts/{}/journeys/{id}/test", other.account),
            &other.owner_token,
            json!({"contact_id": lucia}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
}

async fn where_is_my_order_per_100_orders_before_and_after(b: Backend) {
    // Five days before the shipped notice goes on.
    let start = noon() - Duration::days(5);
    let clock = Arc::new(FixedClock::new(start));
    let mut o = SpawnOptions::new(b);
    o.clock = clock.clone();
    let Some(app) = spawn_with(o).await else { return };
    let t = app.tenant("Impact shop").await;
    let acct = format!("/api/v1/accounts/{}", t.account);
    let r = app
        .call(
            reqwest::Method::PATCH,
            &format!("{acct}/inboxes/{}", t.inbox),
            Some(&t.owner_token),
            Some(json!({"config": {"bot_enabled": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = app
        .post(
            &format!("{acct}/shop_connections"),
            &t.owner_token,
            json!({"name": "Shop", "shop_domain": "impact.myshopify.com", "secret": SHOP_SECRET}),
        )
        .await;
    let conn = r.json["id"].as_i64().unwrap();
    let mut n = 0;
    let mut orders = |count: i64, at: &str| {
        let list: Vec<Value> = (0..count)
            .map(|_| {
                n += 1;
                let mut o = order(9600 + n, 1600 + n, "+34 600 000 000", "Ana", "ES");
                o["created_at"] = json!(at);
                o
            })
            .collect();
        list
    };
    let ask = |id: &str, text: &str| {
        let (app, t, id, text) = (&app, &t, id.to_owned(), text.to_owned());
        async move {
            let r = app.webhook(t, &buyer_message(&id, &id, &text)).await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        }
    };
    for o in orders(4, "2026-03-05T10:00:00Z") {
        assert_eq!(
            app.shopify_webhook(conn, SHOP_SECRET, "orders/create", &format!("o-{}", o["id"]), &o).await.status,
            StatusCode::OK
        );
    }
    ask("w1", "Where is my order? It has not arrived").await;
    ask("w2", "where is my parcel, it still has not arrived").await;
    ask("q1", "Hello").await;
    app.drain_jobs().await;

    // Nothing to compare while the notices are off.
    let r = app.get(&format!("{acct}/notices/impact?days=7"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!((r.json["enabled_since"].clone(), r.json["before"].clone()), (Value::Null, Value::Null));

    // The shipped notice goes on at noon on the 10th (a client cannot say
    // when); saving again keeps the moment.
    clock.advance(Duration::days(5));
    let settings = app.get(&format!("{acct}/notices"), &t.owner_token).await;
    let mut body = settings.json.clone();
    for r in body["rules"].as_array_mut().unwrap() {
        if r["kind"] == "shipped" {
            r["enabled"] = json!(true);
            r["channels"] = json!(["email"]);
            r["enabled_since"] = json!("2020-01-01T00:00:00Z");
        }
    }
    let notices = format!("{acct}/notices");
    let put = |body: Value| app.call(reqwest::Method::PUT, &notices, Some(&t.owner_token), Some(body));
    let r = put(body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let shipped = |v: &Value| v["rules"].as_array().unwrap().iter().find(|r| r["kind"] == "shipped").unwrap().clone();
    assert_eq!(shipped(&r.json)["enabled_since"], "2026-03-10T12:00:00Z");
    clock.advance(Duration::hours(3));
    let r = put(r.json.clone()).await;
    assert_eq!(shipped(&r.json)["enabled_since"], "2026-03-10T12:00:00Z", "saving again keeps it");

    // A day later: as many orders, half the questions.
    clock.advance(Duration::days(1));
    for o in orders(4, "2026-03-11T10:00:00Z") {
        assert_eq!(
            app.shopify_webhook(conn, SHOP_SECRET, "orders/create", &format!("o-{}", o["id"]), &o).await.status,
            StatusCode::OK
        );
    }
    ask("w3", "Where is my order? It has not arrived").await;
    app.drain_jobs().await;
    clock.advance(Duration::minutes(1));
    let r = app.get(&format!("{acct}/notices/impact?days=7"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["enabled_since"], "2026-03-10T12:00:00Z");
    let figures = |p: &Value| (p["orders"].as_u64(), p["wismo"].as_u64(), p["per_100_orders"].as_f64());
    assert_eq!(figures(&r.json["before"]), (Some(4), Some(2), Some(50.0)), "{:?}", r.json);
    assert_eq!(figures(&r.json["after"]), (Some(4), Some(1), Some(25.0)), "{:?}", r.json);
    assert_eq!(r.json["before"]["from"], "2026-03-03T12:00:00Z");
}
