//! Contact profiles and saved segments as agents and integrations meet
//! them: derived attributes and automatic tags kept current when an order
//! syncs or a survey is answered, the contact list filtered by them, and
//! segments over a hand-built set of buyers with their expected members.
//! On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use ferry_commerce::{Address, LineItem, MirrorWrite, Order};
use ferry_core::ShopConnectionId;
use ferry_core::clock::{Clock, FixedClock};
use ferry_storage::{NewShopConnection, ShopPlatform};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    a_profile_follows_orders_and_survey_answers,
    segments_select_the_expected_buyers,
    segments_are_validated_paged_and_private,
    contacts_merge_through_the_api_and_an_admin_undoes_it,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

async fn shop(app: &TestApp, t: &Tenant) -> ShopConnectionId {
    let conn = NewShopConnection {
        platform: ShopPlatform::Import,
        name: "Shop".into(),
        shop_domain: "shop.example".into(),
        secret: "webhook-secret-0123456789".into(),
        api_url: None,
        access_token: None,
    };
    app.app.storage.create_shop_connection(t.account, conn, app.app.clock.now()).await.unwrap().id
}

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

/// An order of one SKU line.
fn order(
    id: &str,
    email: Option<&str>,
    phone: Option<&str>,
    sku: &str,
    qty: i64,
    total: i64,
    at: DateTime<Utc>,
) -> Order {
    Order {
        external_id: id.into(),
        number: id.into(),
        name: format!("#{id}"),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        customer_external_id: None,
        customer_name: None,
        financial_status: "paid".into(),
        fulfillment_status: None,
        cancelled_at: None,
        cancel_reason: None,
        currency: "EUR".into(),
        total_minor: total,
        line_items: vec![LineItem {
            external_id: format!("{id}-1"),
            product_external_id: None,
            variant_external_id: None,
            sku: Some(sku.into()),
            title: sku.into(),
            variant_title: None,
            quantity: qty,
            price_minor: total / qty.max(1),
        }],
        shipping_address: Some(Address { country_code: "DE".into(), city: "Berlin".into(), ..Default::default() }),
        created_at: at,
        updated_at: at,
    }
}

async fn sync(app: &TestApp, t: &Tenant, conn: ShopConnectionId, orders: Vec<Order>) {
    let writes = orders.into_iter().map(|o| MirrorWrite::Order(Box::new(o))).collect();
    app.app.storage.apply_mirror_writes(t.account, conn, None, writes, app.app.clock.now()).await.unwrap();
}

async fn contact(app: &TestApp, t: &Tenant, body: Value) -> i64 {
    let r = app.post(&format!("{}/contacts", acct(t)), &t.agent_token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn profile(app: &TestApp, t: &Tenant, id: i64) -> Value {
    let r = app.get(&format!("{}/contacts/{id}", acct(t)), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    r.json["profile"].clone()
}

async fn ids(app: &TestApp, t: &Tenant, query: &str) -> Vec<i64> {
    let r = app.get(&format!("{}/contacts?{query}", acct(t)), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.json);
    let mut v: Vec<i64> = r.json["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    v.sort();
    v
}

async fn a_profile_follows_orders_and_survey_answers(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Profiles").await;
    let anna = contact(&app, &t, json!({"name": "Anna", "email": "anna@example.com"})).await;
    let p = profile(&app, &t, anna).await;
    assert_eq!(
        (p["order_count"].clone(), p["vip"].clone(), p["country"].clone()),
        (json!(0), json!(false), Value::Null)
    );

    // Two orders make a VIP in this account; an agent may not change that.
    let rules = json!({"min_orders": 2, "min_spent_minor": 0});
    let r = app.call(Method::PUT, &format!("{}/vip_rules", acct(&t)), Some(&t.agent_token), Some(rules.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad = json!({"min_orders": -1, "min_spent_minor": 0});
    let r = app.call(Method::PUT, &format!("{}/vip_rules", acct(&t)), Some(&t.owner_token), Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.call(Method::PUT, &format!("{}/vip_rules", acct(&t)), Some(&t.owner_token), Some(rules)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);

    // An order syncs: the profile follows in the same write.
    let conn = shop(&app, &t).await;
    sync(&app, &t, conn, vec![order("1001", Some("anna@example.com"), None, "MUG-1", 2, 3000, day(2026, 10, 1))]).await;
    let p = profile(&app, &t, anna).await;
    assert_eq!((p["order_count"].clone(), p["spent_minor"].clone()), (json!(1), json!(3000)), "{p}");
    assert_eq!(
        (p["skus"].clone(), p["country"].clone(), p["vip"].clone()),
        (json!(["MUG-1"]), json!("DE"), json!(false))
    );
    assert_eq!(p["auto_tags"], json!(["buyer", "country:DE"]));
    assert_eq!(ids(&app, &t, "vip=true").await, Vec::<i64>::new());
    // A second order makes a VIP.
    sync(&app, &t, conn, vec![order("1002", Some("anna@example.com"), None, "TEE-1", 1, 2500, day(2026, 11, 2))]).await;
    let p = profile(&app, &t, anna).await;
    assert_eq!(
        (p["vip"].clone(), p["vip_by_orders"].clone(), p["spent_minor"].clone()),
        (json!(true), json!(true), json!(5500))
    );
    assert_eq!(p["auto_tags"], json!(["vip", "repeat-buyer", "country:DE"]));
    assert_eq!(p["last_order_at"], json!("2026-11-02T12:00:00Z"));
    assert_eq!(ids(&app, &t, "vip=true").await, vec![anna]);
    assert_eq!(ids(&app, &t, "country=de&auto_tag=repeat-buyer").await, vec![anna]);
    // Raising the bar takes it away at once.
    let rules = json!({"min_orders": 3, "min_spent_minor": 0});
    app.call(Method::PUT, &format!("{}/vip_rules", acct(&t)), Some(&t.owner_token), Some(rules)).await;
    assert_eq!(profile(&app, &t, anna).await["vip"], json!(false));

    // A survey answered: the buyer's last rating.
    let r = app
        .call(
            Method::PATCH,
            &format!("{}/inboxes/{}", acct(&t), t.inbox.0),
            Some(&t.owner_token),
            Some(json!({"config": {"csat": {"enabled": true}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = app.webhook(&t, &buyer_message("m-1", "buyer-1", "Where is my parcel?")).await;
    let conv = r.json["conversation_id"].as_i64().unwrap();
    let conv_json = app.get(&format!("{}/conversations/{conv}", acct(&t)), &t.agent_token).await.json;
    let buyer = conv_json["contact_id"].as_i64().or_else(|| conv_json["contact"]["id"].as_i64()).unwrap();
    app.post(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.agent_token, json!({"content": "On its way."}))
        .await;
    let r = app
        .post(&format!("{}/conversations/{conv}/status", acct(&t)), &t.agent_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(r.json["status"], "resolved", "{:?}", r.json);
    app.drain_jobs().await;
    assert_eq!(profile(&app, &t, buyer).await["last_csat"], Value::Null);
    assert_eq!(ids(&app, &t, "csat_max=2").await, Vec::<i64>::new());
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.agent_token).await.json;
    let text = msgs.to_string();
    let at = text.find("/csat/").expect("a survey link");
    let token: String = text[at + 6..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    let form = app
        .http
        .post(format!("{}/csat/{token}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("rating=2")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let p = profile(&app, &t, buyer).await;
    assert_eq!(p["last_csat"], json!(2), "{p}");
    assert!(p["last_csat_at"].is_string());
    assert_eq!(ids(&app, &t, "csat_max=2").await, vec![buyer]);
    assert_eq!(ids(&app, &t, "csat_min=3").await, Vec::<i64>::new());
    assert_eq!(ids(&app, &t, "channel=api_handle").await, vec![buyer]);
    assert_eq!(ids(&app, &t, "channel=email").await, vec![anna]);
    let r = app.get(&format!("{}/contacts?channel=pigeon", acct(&t)), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The rebuild derives the same profiles from scratch.
    let before = profile(&app, &t, anna).await;
    app.app.rebuild_insights(Some(t.account)).await.unwrap();
    assert_eq!(profile(&app, &t, anna).await, before);
}

/// Four buyers: Anna (DE, de, tag wholesale, two orders of MUG-1, 120.00:
/// a VIP by orders),
/// Bob (US, en, by phone, one old order of TEE-1), Chen (CN, zh, e-mail and
/// WhatsApp, attribute tier=gold, no orders), Dora (FR, marked VIP).
async fn world(app: &TestApp, t: &Tenant) -> [i64; 4] {
    // Two orders make a VIP here.
    let rules = json!({"min_orders": 2, "min_spent_minor": 0});
    let r = app.call(Method::PUT, &format!("{}/vip_rules", acct(t)), Some(&t.owner_token), Some(rules)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let anna = contact(
        app,
        t,
        json!({"name": "Anna", "email": "anna@example.com", "country": "DE", "language": "de", "tags": ["wholesale"]}),
    )
    .await;
    let bob = contact(app, t, json!({"name": "Bob", "phone": "+14155550100", "country": "US", "language": "en"})).await;
    let chen = contact(
        app,
        t,
        json!({"name": "Chen", "email": "chen@example.com", "country": "CN", "language": "zh",
               "identities": [{"kind": "whatsapp", "value": "8613800000000"}], "custom_attributes": {"tier": "gold"}}),
    )
    .await;
    let dora =
        contact(app, t, json!({"name": "Dora", "email": "dora@example.com", "country": "FR", "vip": true})).await;
    let conn = shop(app, t).await;
    sync(
        app,
        t,
        conn,
        vec![
            order("1", Some("anna@example.com"), None, "MUG-1", 1, 4000, day(2026, 10, 1)),
            order("2", Some("anna@example.com"), None, "MUG-1", 2, 8000, day(2026, 11, 1)),
            order("3", None, Some("+14155550100"), "TEE-1", 1, 2000, day(2026, 6, 1)),
        ],
    )
    .await;
    [anna, bob, chen, dora]
}

async fn members(app: &TestApp, t: &Tenant, filter: Value) -> Vec<i64> {
    let r = app.post(&format!("{}/segments/preview", acct(t)), &t.agent_token, json!({"filter": filter})).await;
    assert_eq!(r.status, StatusCode::OK, "{filter}: {:?}", r.json);
    let total = r.json["total"].as_u64().unwrap();
    let r = app
        .post(&format!("{}/segments", acct(t)), &t.agent_token, json!({"name": filter.to_string(), "filter": filter}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let r = app.get(&format!("{}/segments/{id}/contacts?limit=100", acct(t)), &t.agent_token).await;
    let mut v: Vec<i64> = r.json["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    v.sort();
    assert_eq!(v.len() as u64, total, "{filter}");
    v
}

async fn segments_select_the_expected_buyers(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Segments").await;
    let [anna, bob, chen, dora] = world(&app, &t).await;
    let cases: Vec<(Value, Vec<i64>)> = vec![
        (json!({"all": []}), vec![anna, bob, chen, dora]),
        (json!({"all": [{"field": "bought_sku", "any_of": ["MUG-1"]}]}), vec![anna]),
        (json!({"all": [{"field": "spent", "at_least": 5000}]}), vec![anna]),
        (json!({"all": [{"field": "spent", "at_most": 2000}]}), vec![bob, chen, dora]),
        (json!({"all": [{"field": "order_count", "at_least": 1}]}), vec![anna, bob]),
        (json!({"all": [{"field": "last_order", "before": "2026-09-01T00:00:00Z"}]}), vec![bob]),
        (json!({"all": [{"field": "last_order", "after": "2026-09-01T00:00:00Z"}]}), vec![anna]),
        (json!({"all": [{"field": "channel", "any_of": ["whatsapp"]}]}), vec![chen]),
        (json!({"all": [{"field": "channel", "any_of": ["email"]}]}), vec![anna, chen, dora]),
        (json!({"all": [{"field": "attribute", "key": "tier", "equals": "gold"}]}), vec![chen]),
        (json!({"all": [{"field": "tag", "any_of": ["Wholesale"]}]}), vec![anna]),
        (json!({"all": [{"field": "vip", "is": true}]}), vec![anna, dora]),
        (json!({"all": [{"field": "vip", "is": false}]}), vec![bob, chen]),
        (json!({"all": [{"field": "auto_tag", "any_of": ["repeat-buyer"]}]}), vec![anna]),
        (
            json!({"all": [{"field": "country", "any_of": ["de", "FR"]}, {"field": "language", "any_of": ["de"]}]}),
            vec![anna],
        ),
        (json!({"all": [{"field": "csat", "min": 1}]}), vec![]),
    ];
    for (filter, want) in cases {
        assert_eq!(members(&app, &t, filter.clone()).await, want, "{filter}");
    }
    // The audience by language and by channel.
    let r = app.post(&format!("{}/segments/preview", acct(&t)), &t.agent_token, json!({"filter": {"all": []}})).await;
    assert_eq!(r.json["total"], json!(4));
    let langs: Vec<(Value, Value)> =
        r.json["by_language"].as_array().unwrap().iter().map(|g| (g["key"].clone(), g["contacts"].clone())).collect();
    assert_eq!(
        langs,
        vec![(Value::Null, json!(1)), (json!("de"), json!(1)), (json!("en"), json!(1)), (json!("zh"), json!(1))]
    );
    let channels: Vec<(Value, Value)> =
        r.json["by_channel"].as_array().unwrap().iter().map(|g| (g["key"].clone(), g["contacts"].clone())).collect();
    assert_eq!(channels, vec![(json!("email"), json!(3)), (json!("phone"), json!(1)), (json!("whatsapp"), json!(1))]);
}

async fn segments_are_validated_paged_and_private(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Segments").await;
    let [anna, _bob, chen, dora] = world(&app, &t).await;
    let base = format!("{}/segments", acct(&t));
    // Clear 422s that say where.
    let bad = json!({"name": "Bad", "filter": {"all": [{"field": "vip", "is": true}, {"field": "country", "any_of": ["Germany"]}]}});
    let r = app.post(&base, &t.agent_token, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("all[1].any_of"), "{:?}", r.json);
    let r = app.post(&base, &t.agent_token, json!({"name": "X", "filter": {"all": [{"field": "planet"}]}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    let r = app.post(&base, &t.agent_token, json!({"name": " ", "filter": {"all": []}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    let r = app
        .post(
            &format!("{base}/preview"),
            &t.agent_token,
            json!({"filter": {"all": [{"field": "csat", "min": 5, "max": 1}]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);

    // Create, page through, rename, refilter, delete.
    let emails = json!({"all": [{"field": "channel", "any_of": ["email"]}]});
    let r = app.post(&base, &t.agent_token, json!({"name": "By e-mail", "filter": emails})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let r = app.post(&base, &t.agent_token, json!({"name": "By e-mail", "filter": {"all": []}})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let page = app.get(&format!("{base}/{id}/contacts?limit=2"), &t.agent_token).await.json;
    let first: Vec<i64> = page["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(first, vec![dora, chen]);
    assert!(page["data"][0]["profile"].is_object());
    let next = page["next_before"].as_i64().unwrap();
    let page = app.get(&format!("{base}/{id}/contacts?limit=2&before={next}"), &t.agent_token).await.json;
    let rest: Vec<i64> = page["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!((rest, page["next_before"].clone()), (vec![anna], Value::Null));
    let patch = json!({"name": "Gold", "filter": {"all": [{"field": "attribute", "key": "tier", "equals": "gold"}]}});
    let r = app.call(Method::PATCH, &format!("{base}/{id}"), Some(&t.agent_token), Some(patch)).await;
    assert_eq!((r.status, r.json["name"].clone()), (StatusCode::OK, json!("Gold")), "{:?}", r.json);
    let page = app.get(&format!("{base}/{id}/contacts"), &t.agent_token).await.json;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["id"], json!(chen));
    let list = app.get(&base, &t.agent_token).await.json;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Another account sees none of it.
    let other = app.tenant("Other").await;
    let r = app.get(&format!("{}/segments/{id}", acct(&other)), &other.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get(&format!("{base}/{id}"), &other.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&format!("{}/segments/preview", acct(&other)), &other.agent_token, json!({"filter": {"all": []}}))
        .await;
    assert_eq!(r.json["total"], json!(0));

    let r = app.call(Method::DELETE, &format!("{base}/{id}"), Some(&t.agent_token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get(&format!("{base}/{id}/contacts"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Two contacts of one buyer: suggested as duplicates, merged by an agent
/// (the survivor lists both conversations, the other is gone, the merge is
/// in the audit log), refused where it must be, and undone by the owner
/// (not the agent) within 30 days, after which undoing is refused.
async fn contacts_merge_through_the_api_and_an_admin_undoes_it(b: Backend) {
    let clock = Arc::new(FixedClock::new(day(2026, 3, 2)));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let Some(app) = spawn_with(SpawnOptions { clock: dyn_clock, ..SpawnOptions::new(b) }).await else { return };
    let t = app.tenant("Merge").await;
    let other_tenant = app.tenant("Elsewhere").await;
    let write = |ext: &'static str, sender: Value| {
        let app = &app;
        let t = &t;
        async move {
            let body = json!({ "external_id": ext, "sender": sender, "text": format!("message {ext}") });
            let r = app.webhook(t, &body).await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
            let conv = r.json["conversation_id"].as_i64().unwrap();
            let c = app.get(&format!("{}/conversations/{conv}", acct(t)), &t.owner_token).await;
            (conv, c.json["contact_id"].as_i64().unwrap())
        }
    };
    let (conv_a, ann) =
        write("m1", json!({ "handle": "ann-mail", "name": "Ann Lee", "email": "ann@example.com" })).await;
    clock.advance(Duration::minutes(5));
    let (conv_b, twin) =
        write("m2", json!({ "handle": "ann-phone", "name": "Ann Lee", "phone": "+4915112345678" })).await;
    assert_ne!(ann, twin);
    for id in [ann, twin] {
        let r = app
            .call(
                Method::PATCH,
                &format!("{}/contacts/{id}", acct(&t)),
                Some(&t.owner_token),
                Some(json!({ "country": "DE" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    }

    let dupes = app.get(&format!("{}/contacts/{ann}/duplicates", acct(&t)), &t.agent_token).await;
    assert_eq!(dupes.status, StatusCode::OK, "{:?}", dupes.json);
    assert_eq!(dupes.json[0]["contact"]["id"], twin);
    assert_eq!(dupes.json[0]["reasons"], json!(["same_name_and_country"]));

    let merge = |token: &str, survivor: i64, other: i64| {
        let path = format!("{}/contacts/{survivor}/merge", acct(&t));
        let token = token.to_owned();
        let app = &app;
        async move { app.post(&path, &token, json!({ "other_id": other })).await }
    };
    assert_eq!(merge(&t.agent_token, ann, ann).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(merge(&t.agent_token, ann, 987_654).await.status, StatusCode::NOT_FOUND);
    // Another account's token or contact: not found.
    assert_eq!(merge(&other_tenant.owner_token, ann, twin).await.status, StatusCode::NOT_FOUND);
    let bad = app.post(&format!("{}/contacts/{ann}/merge", acct(&t)), &t.agent_token, json!({ "other": twin })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown field is refused: {:?}", bad.json);

    let r = merge(&t.agent_token, ann, twin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["contact"]["phone"], "+4915112345678", "the survivor takes the phone it lacked");
    assert_eq!(r.json["merge"]["conversations"], 1);
    let merge_id = r.json["merge"]["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("{}/contacts/{twin}", acct(&t)), &t.agent_token).await.status, StatusCode::NOT_FOUND);
    let convs = app.get(&format!("{}/contacts/{ann}/conversations", acct(&t)), &t.agent_token).await;
    let ids: Vec<i64> = convs.json.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![conv_b, conv_a], "both conversations, most recent first");
    let list = app.get(&format!("{}/contacts/{ann}/merges", acct(&t)), &t.agent_token).await;
    assert_eq!(list.json[0]["id"], merge_id);
    assert_eq!(list.json[0]["merged_name"], "Ann Lee");
    let audit = app.get(&format!("{}/audit_log?action=contact.merge", acct(&t)), &t.owner_token).await;
    assert_eq!(audit.status, StatusCode::OK, "{:?}", audit.json);
    let entries = audit.json["data"].as_array().or(audit.json.as_array()).cloned().unwrap_or_default();
    assert!(
        entries.iter().any(|e| e["target_id"].as_str() == Some(ann.to_string().as_str())),
        "the merge is audited: {:?}",
        audit.json
    );

    // A later message from the merged contact's phone finds the survivor.
    let (conv_c, who) = write("m3", json!({ "handle": "ann-phone", "name": "Ann Lee" })).await;
    assert_eq!((conv_c, who), (conv_b, ann));

    let undo = format!("{}/contact_merges/{merge_id}/undo", acct(&t));
    assert_eq!(app.post(&undo, &t.agent_token, json!({})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post(&undo, &other_tenant.owner_token, json!({})).await.status, StatusCode::NOT_FOUND);
    let r = app.post(&undo, &t.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!((r.json["survivor"]["id"].as_i64(), r.json["restored"]["id"].as_i64()), (Some(ann), Some(twin)));
    assert_eq!(r.json["survivor"]["phone"], Value::Null, "the phone goes back with its contact");
    assert_eq!(app.post(&undo, &t.owner_token, json!({})).await.status, StatusCode::CONFLICT);
    let convs = app.get(&format!("{}/contacts/{twin}/conversations", acct(&t)), &t.agent_token).await;
    assert_eq!(convs.json.as_array().unwrap().len(), 1);

    // Merged again, and 31 days later the merge can no longer be undone.
    let again = merge(&t.agent_token, ann, twin).await.json["merge"]["id"].as_i64().unwrap();
    clock.advance(Duration::days(31));
    let r = app.post(&format!("{}/contact_merges/{again}/undo", acct(&t)), &t.owner_token, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "merge_too_old"), "{:?}", r.json);
}
