//! Search through the API on both stores: every script, stemming,
//! highlights, filters, tenant isolation, edits and deletes, rebuilds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use ferry_core::MessageId;
use ferry_core::message::{ContentPart, MessageChange};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    messages_are_found_in_every_script_with_highlights,
    filters_narrow_the_messages,
    accounts_only_find_their_own,
    edits_deletes_and_contact_changes_are_reflected,
    a_rebuild_finds_the_same,
    orders_are_found_by_number_buyer_sku_and_tracking,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// Posts a buyer message; returns (message id, conversation id).
async fn say(app: &TestApp, t: &Tenant, ext: &str, buyer: &str, text: &str) -> (i64, i64) {
    let r = app.webhook(t, &buyer_message(ext, buyer, text)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    (r.json["message_id"].as_i64().unwrap(), r.json["conversation_id"].as_i64().unwrap())
}

async fn search(app: &TestApp, t: &Tenant, query: &str) -> Value {
    let r = app.get(&format!("{}/search?{query}", acct(t)), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.json);
    r.json
}

fn message_ids(found: &Value) -> Vec<i64> {
    found["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

fn contact_ids(found: &Value) -> Vec<i64> {
    found["contacts"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

/// The marked pieces of the first message's highlight.
fn hits(found: &Value) -> Vec<String> {
    found["messages"][0]["highlight"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect()
}

fn q(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    format!("q={out}")
}

async fn messages_are_found_in_every_script_with_highlights(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Scripts").await;
    let (en, _) = say(&app, &t, "en", "ann", "Where is my parcel? It was shipped two weeks ago.").await;
    let (zh, _) = say(&app, &t, "zh", "li", "我的快递还没有到，请帮我查一下物流").await;
    let (ja, _) = say(&app, &t, "ja", "sato", "注文した商品がまだ届きません").await;
    let (ko, _) = say(&app, &t, "ko", "kim", "배송이 언제 되나요?").await;
    say(&app, &t, "other", "bob", "Thanks, all good").await;

    let found = search(&app, &t, &q("PARCEL")).await;
    assert_eq!(message_ids(&found), [en]);
    assert_eq!(hits(&found), ["parcel"]);
    let found = search(&app, &t, &q("快递")).await;
    assert_eq!(message_ids(&found), [zh]);
    assert_eq!(hits(&found), ["快递"]);
    let found = search(&app, &t, &q("物流")).await;
    assert_eq!(message_ids(&found), [zh]);
    let found = search(&app, &t, &q("届きません")).await;
    assert_eq!(message_ids(&found), [ja]);
    assert!(!hits(&found).is_empty(), "{found:?}");
    let found = search(&app, &t, &q("배송")).await;
    assert_eq!(message_ids(&found), [ko]);
    // Every word must match.
    assert!(message_ids(&search(&app, &t, &q("parcel refund")).await).is_empty());
    // The buyer is a contact found by name.
    let found = search(&app, &t, &q("buyer sato")).await;
    assert_eq!(contact_ids(&found).len(), 1, "{found:?}");
    assert!(found["contacts"][0]["highlight"].as_array().unwrap().iter().any(|p| p["hit"] == true));

    if app.app.search_index.kind() == "tantivy" {
        // Stemmed in the conversation's language (the account's, English).
        let found = search(&app, &t, &q("shipping parcels")).await;
        assert_eq!(message_ids(&found), [en]);
        assert_eq!(hits(&found), ["parcel", "shipped"]);
    }
}

async fn filters_narrow_the_messages(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Filters").await;
    let (first, conv) = say(&app, &t, "a", "ann", "The blue kettle leaks").await;
    let (second, _) = say(&app, &t, "b", "bob", "My blue kettle arrived broken").await;
    let base = format!("{}&", q("blue kettle"));
    assert_eq!(message_ids(&search(&app, &t, &base).await), [second, first]);

    let r = app
        .post(&format!("{}/conversations/{conv}/status", acct(&t)), &t.agent_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}status=resolved")).await), [first]);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}status=open")).await), [second]);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}conversation_id={conv}")).await), [first]);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}inbox_id={}", t.inbox)).await).len(), 2);
    assert!(message_ids(&search(&app, &t, &format!("{base}inbox_id={}", t.inbox.0 + 1000)).await).is_empty());
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}channel=api")).await).len(), 2);
    assert!(message_ids(&search(&app, &t, &format!("{base}channel=email")).await).is_empty());
    let soon = (Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let past = (Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    assert!(message_ids(&search(&app, &t, &format!("{base}from={soon}")).await).is_empty());
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}from={past}&until={soon}")).await).len(), 2);

    for bad in ["status=lost", "channel=pigeon", "from=yesterday"] {
        let r = app.get(&format!("{}/search?{base}{bad}", acct(&t)), &t.agent_token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", r.json);
    }
    let r = app.get(&format!("{}/search?{base}from={soon}&until={past}", acct(&t)), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn accounts_only_find_their_own(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Mine").await;
    let other = app.tenant("Theirs").await;
    let (mine, _) = say(&app, &t, "m", "same-handle", "Invoice ZX-42 is wrong").await;
    say(&app, &other, "m", "same-handle", "Invoice ZX-42 is wrong").await;
    let found = search(&app, &t, &q("invoice zx-42")).await;
    assert_eq!(message_ids(&found), [mine]);
    assert_eq!(contact_ids(&search(&app, &t, &q("same-handle")).await).len(), 1);
    let r = app.get(&format!("{}/search?{}", acct(&t), q("invoice")), &other.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn edits_deletes_and_contact_changes_are_reflected(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Changes").await;
    let (id, _) = say(&app, &t, "e", "ann", "Please cancel my order").await;
    assert_eq!(message_ids(&search(&app, &t, &q("cancel")).await), [id]);

    let storage = &app.app.storage;
    let now = Utc::now();
    let edit =
        MessageChange::Edit { parts: vec![ContentPart::Text { text: "Please refund my order".into() }], at: now };
    storage.change_message(t.account, MessageId(id), edit, now).await.unwrap().unwrap();
    assert!(message_ids(&search(&app, &t, &q("cancel")).await).is_empty());
    assert_eq!(message_ids(&search(&app, &t, &q("refund")).await), [id]);
    storage.change_message(t.account, MessageId(id), MessageChange::Delete { at: now }, now).await.unwrap().unwrap();
    assert!(message_ids(&search(&app, &t, &q("refund")).await).is_empty());

    // Catching up is idempotent: once done, nothing is left to apply.
    say(&app, &t, "f", "bob", "Where is the umbrella").await;
    let index = app.app.search_index.clone();
    index.catch_up().await.unwrap();
    assert_eq!(index.catch_up().await.unwrap(), 0);

    let found = search(&app, &t, &q("buyer ann")).await;
    let contact = contact_ids(&found)[0];
    let r = app
        .call(
            Method::PATCH,
            &format!("{}/contacts/{contact}", acct(&t)),
            Some(&t.agent_token),
            Some(json!({"name": "Annabelle Lee", "email": "annabelle@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert!(contact_ids(&search(&app, &t, &q("buyer ann")).await).is_empty());
    assert_eq!(contact_ids(&search(&app, &t, &q("annabelle")).await), [contact]);
    assert_eq!(contact_ids(&search(&app, &t, &q("annabelle@example.com")).await), [contact]);
    // Parts of names and e-mails find the contact too; every part must
    // be there.
    assert_eq!(contact_ids(&search(&app, &t, &q("NABEL")).await), [contact]);
    assert_eq!(contact_ids(&search(&app, &t, &q("belle@exam lee")).await), [contact]);
    assert!(contact_ids(&search(&app, &t, &q("nabel xyz")).await).is_empty());
    assert!(contact_ids(&search(&app, &t, &q("belle@examples")).await).is_empty());
}

async fn a_rebuild_finds_the_same(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Rebuild").await;
    for (i, text) in
        ["Parcel lost in transit", "退货流程是什么", "parcel arrived damaged", "返品したいです"].iter().enumerate()
    {
        say(&app, &t, &format!("r{i}"), &format!("buyer{i}"), text).await;
    }
    let queries = ["parcel", "退货", "返品", "buyer2", "damaged parcel"];
    let mut before = Vec::new();
    for query in queries {
        before.push(search(&app, &t, &q(query)).await);
    }
    assert!(before.iter().all(|f| !message_ids(f).is_empty() || !contact_ids(f).is_empty()), "{before:?}");
    app.app.rebuild_search_index().await.unwrap();
    for (query, before) in queries.iter().zip(before) {
        assert_eq!(search(&app, &t, &q(query)).await, before, "{query}");
    }
}

fn order_ids(found: &Value) -> Vec<i64> {
    found["orders"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect()
}

const SHOP_SECRET: &str = "shpss_search_0123456789abcdef";

/// A connected shop of the tenant; returns the connection id.
async fn shop(app: &TestApp, t: &Tenant, slug: &str) -> i64 {
    let r = app
        .post(
            &format!("{}/shop_connections", acct(t)),
            &t.owner_token,
            json!({"name": slug, "shop_domain": format!("{slug}.myshopify.com"), "secret": SHOP_SECRET}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn hook(app: &TestApp, conn: i64, topic: &str, id: &str, body: Value) {
    let r = app.shopify_webhook(conn, SHOP_SECRET, topic, id, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{topic}: {:?}", r.json);
}

fn shop_order(id: i64, number: i64, email: &str, customer: &str, sku: &str, title: &str, updated: &str) -> Value {
    json!({
        "id": id, "name": format!("#{number}"), "order_number": number, "email": email,
        "phone": "+34 612 345 678",
        "customer": {"id": id + 7, "first_name": customer, "last_name": "Ruiz", "email": email},
        "currency": "EUR", "total_price": "59.00", "financial_status": "paid", "fulfillment_status": null,
        "created_at": "2026-11-02T10:00:00Z", "updated_at": updated,
        "line_items": [{"id": id * 10, "product_id": 5, "variant_id": 51, "sku": sku, "title": title,
            "variant_title": "Red", "quantity": 1, "price": "59.00"}]
    })
}

async fn orders_are_found_by_number_buyer_sku_and_tracking(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Orders found").await;
    let other = app.tenant("Other shop").await;
    let conn = shop(&app, &t, "ordersfound").await;
    let other_conn = shop(&app, &other, "othershop").await;
    let first =
        shop_order(9001, 4417, "lucia@example.es", "Lucía", "KET-RED-1L", "Retro Kettle", "2026-11-02T10:00:00Z");
    hook(&app, conn, "orders/create", "o1", first.clone()).await;
    hook(
        &app,
        conn,
        "orders/create",
        "o2",
        shop_order(9002, 4418, "max@example.de", "Max", "LAMP-7", "Desk Lamp", "2026-11-02T11:00:00Z"),
    )
    .await;
    // The other account's order has the same SKU and is never found here.
    hook(
        &app,
        other_conn,
        "orders/create",
        "o3",
        shop_order(9003, 4419, "x@example.fr", "Xavier", "KET-RED-1L", "Retro Kettle", "2026-11-02T12:00:00Z"),
    )
    .await;

    let by = |q_: &'static str| {
        let (app, t) = (&app, &t);
        async move { search(app, t, &q(q_)).await }
    };
    let kettle = by("ket-red").await;
    assert_eq!(kettle["orders"].as_array().unwrap().len(), 1, "{kettle:?}");
    let order_id = order_ids(&kettle)[0];
    assert_eq!(kettle["orders"][0]["name"], "#4417");
    let marked: Vec<&str> =
        kettle["orders"][0]["highlight"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert!(marked.concat().contains("KET-RED-1L"), "{marked:?}");
    assert_eq!(order_ids(&by("4417").await), [order_id]);
    assert_eq!(order_ids(&by("lucia@example").await), [order_id]);
    assert_eq!(order_ids(&by("Retro kettle").await), [order_id]);
    assert_eq!(order_ids(&by("345678").await).len(), 2, "both orders carry the phone");
    assert!(order_ids(&by("1Z999AA10123456784").await).is_empty());
    assert!(order_ids(&search(&app, &other, &q("4417")).await).is_empty());

    // A shipment arrives on its own: the order is found by its tracking
    // number, and an update of the order keeps it findable so.
    hook(
        &app,
        conn,
        "fulfillments/create",
        "f1",
        json!({"id": 77001, "order_id": 9001, "status": "success", "shipment_status": "in_transit",
            "tracking_company": "UPS", "tracking_number": "1Z999AA10123456784",
            "created_at": "2026-11-03T09:00:00Z", "updated_at": "2026-11-03T09:00:00Z"}),
    )
    .await;
    assert_eq!(order_ids(&by("1Z999AA10123456784").await), [order_id]);
    assert_eq!(order_ids(&by("10123456").await), [order_id], "a part of the tracking number");
    let mut renamed = first;
    renamed["email"] = json!("lucia.new@example.es");
    renamed["updated_at"] = json!("2026-11-04T10:00:00Z");
    hook(&app, conn, "orders/updated", "o4", renamed).await;
    assert_eq!(order_ids(&by("lucia.new").await), [order_id]);
    assert_eq!(order_ids(&by("1Z999AA10123456784").await), [order_id]);

    // The same after a rebuild.
    let before = by("kettle").await;
    app.app.rebuild_search_index().await.unwrap();
    assert_eq!(by("kettle").await, before);
}
