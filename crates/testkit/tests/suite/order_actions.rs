//! Agents acting on orders through the API against the local stand-in of
//! the Shopify Admin API, on both stores: cancel, refund and address
//! changes reach the shop and the mirror at once, roles and order states
//! are enforced, every attempt is in the audit log, and shops that do not
//! allow actions say so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_app::NewAgent;
use ferry_connectors::shopify::sync::{BackfillOptions, ClientOptions, Resource, backfill};
use ferry_core::ShopConnectionId;
use ferry_core::account::Role;
use ferry_sandbox::shopify::{FIRST_ORDER_ID, MockOptions, MockShop};
use ferry_storage::{NewShopConnection, ShopPlatform};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

on_both!(
    agents_cancel_unfulfilled_orders_and_every_attempt_is_audited,
    refunds_need_an_admin_and_stay_within_what_is_left,
    shipping_addresses_change_in_the_shop_and_are_validated,
    shops_without_actions_and_other_accounts_are_refused,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// A running app with a tenant whose Shopify connection points at a mock
/// shop of 12 orders, backfilled into the mirror. In the mock, orders
/// #1001, #1004, … (every third) are fulfilled; #1002, #1003 are not.
struct World {
    app: TestApp,
    t: Tenant,
    shop: MockShop,
    connection: i64,
    admin_token: String,
}

async fn world(b: Backend) -> Option<World> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = spawn_app(b).await?;
    let t = app.tenant("Shop").await;
    let shop =
        MockShop::start(MockOptions { orders: 12, bucket_size: 400, leak_per_sec: 1000.0, ..MockOptions::default() })
            .await
            .unwrap();
    let c = app
        .post(
            &format!("{}/shop_connections", acct(&t)),
            &t.owner_token,
            json!({ "name": "Mock", "shop_domain": "mock-shop.myshopify.com", "api_url": shop.api_url(), "access_token": shop.token() }),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.json);
    let connection = c.json["id"].as_i64().unwrap();
    let opts = BackfillOptions {
        restart: false,
        count: false,
        client: ClientOptions { backoff: Duration::from_millis(1), leak_per_sec: 1000.0, ..ClientOptions::default() },
    };
    let r = backfill(&app.app.storage, ShopConnectionId(connection), Resource::Orders, &opts, |_| {}).await.unwrap();
    assert_eq!(r.fetched, 12);
    let admin = app
        .app
        .create_user(
            t.account,
            NewAgent {
                name: "Maria Admin".into(),
                email: "maria@shop.example".into(),
                password: "admin-password".into(),
                role: Role::Admin,
                languages: vec!["en".into()],
            },
        )
        .await
        .unwrap();
    let admin_token = app.app.issue_token(&admin, "tests").await.unwrap();
    Some(World { app, t, shop, connection, admin_token })
}

impl World {
    /// The mirror's id of order `#number`.
    async fn order(&self, number: u64) -> i64 {
        let found = self.app.get(&format!("{}/orders?q={number}", acct(&self.t)), &self.t.owner_token).await;
        let list = found.json.as_array().unwrap();
        list.iter().find(|o| o["number"].as_str() == Some(number.to_string().as_str())).unwrap()["id"].as_i64().unwrap()
    }

    fn path(&self, order: i64, action: &str) -> String {
        format!("{}/orders/{order}/{action}", acct(&self.t))
    }

    async fn audit(&self, query: &str) -> Vec<Value> {
        let r = self.app.get(&format!("{}/audit_log{query}", acct(&self.t)), &self.t.owner_token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        r.json.as_array().unwrap().clone()
    }

    /// A conversation of the tenant's inbox.
    async fn conversation(&self) -> i64 {
        let r = self.app.webhook(&self.t, &buyer_message("m-1", "buyer-1", "Please cancel my order #1002")).await;
        r.json["conversation_id"].as_i64().unwrap()
    }
}

fn shop_id(number: u64) -> u64 {
    FIRST_ORDER_ID + number - 1001
}

async fn agents_cancel_unfulfilled_orders_and_every_attempt_is_audited(b: Backend) {
    let Some(w) = world(b).await else { return };
    let (t, app) = (&w.t, &w.app);
    let conv = w.conversation().await;
    let o1002 = w.order(1002).await;

    // What the agent may do: cancel and re-address, not refund.
    let can = app.get(&w.path(o1002, "actions"), &t.agent_token).await;
    assert_eq!(can.status, StatusCode::OK, "{:?}", can.json);
    let allowed: Vec<(String, bool, Value)> = can.json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap().to_owned(), a["allowed"].as_bool().unwrap(), a["code"].clone()))
        .collect();
    assert_eq!(
        allowed,
        vec![
            ("cancel".to_owned(), true, Value::Null),
            ("refund".to_owned(), false, json!("forbidden")),
            ("update_shipping_address".to_owned(), true, Value::Null)
        ]
    );

    let r = app
        .post(
            &w.path(o1002, "cancel"),
            &t.agent_token,
            json!({ "reason": "customer", "notify_customer": true, "restock": true, "conversation_id": conv }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["state"], "cancelled");
    assert!(r.json["cancelled_at"].is_string());
    // The shop has it cancelled, and so has the mirror.
    assert_eq!(w.shop.order_now(shop_id(1002)).unwrap()["cancel_reason"], "customer");
    let again = app.get(&format!("{}/orders/{o1002}", acct(t)), &t.owner_token).await;
    assert_eq!(again.json["state"], "cancelled");
    // The conversation tells it.
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(t)), &t.agent_token).await;
    let activity: Vec<&str> = msgs
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "activity")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(activity, vec!["Shop Agent cancelled order #1002 (reason: customer)"]);

    // Cancelling again, or a fulfilled order: 409, audited as failed.
    let twice = app.post(&w.path(o1002, "cancel"), &t.agent_token, json!({})).await;
    assert_eq!((twice.status, twice.code()), (StatusCode::CONFLICT, "conflict"), "{:?}", twice.json);
    let o1001 = w.order(1001).await;
    let shipped = app.post(&w.path(o1001, "cancel"), &t.agent_token, json!({ "reason": "customer" })).await;
    assert_eq!(shipped.status, StatusCode::CONFLICT, "{:?}", shipped.json);
    assert!(shipped.json["error"]["message"].as_str().unwrap().contains("fulfilled"), "{:?}", shipped.json);
    assert!(w.shop.order_now(shop_id(1001)).unwrap()["cancelled_at"].is_null());
    let bad_reason =
        app.post(&w.path(w.order(1003).await, "cancel"), &t.agent_token, json!({ "reason": "bored" })).await;
    assert_eq!(
        (bad_reason.status, bad_reason.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );

    let log = w.audit("?action=order.cancel").await;
    let rows: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|e| (e["target_id"].as_str().unwrap(), e["outcome"].as_str().unwrap(), e["actor_name"].as_str().unwrap()))
        .collect();
    let (s1001, s1002, s1003) = (o1001.to_string(), o1002.to_string(), w.order(1003).await.to_string());
    assert_eq!(
        rows,
        vec![
            (s1003.as_str(), "failed", "Shop Agent"),
            (s1001.as_str(), "failed", "Shop Agent"),
            (s1002.as_str(), "failed", "Shop Agent"),
            (s1002.as_str(), "ok", "Shop Agent"),
        ]
    );
    assert!(log[1]["error"].as_str().unwrap().contains("fulfilled"));
    assert_eq!(log[3]["details"]["conversation_id"], conv);
    assert_eq!(log[3]["details"]["order"], "#1002");
    assert_eq!(log[3]["details"]["restock"], true);
    assert!(log[3]["error"].is_null());
    // Paging by cursor.
    let before = log[1]["id"].as_i64().unwrap();
    assert_eq!(w.audit(&format!("?action=order.cancel&before={before}&limit=1")).await[0]["id"], log[2]["id"]);

    // The audit log is for owners and admins.
    let denied = app.get(&format!("{}/audit_log", acct(t)), &t.agent_token).await;
    assert_eq!((denied.status, denied.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let admin = app.get(&format!("{}/audit_log", acct(t)), &w.admin_token).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert_eq!(admin.json.as_array().unwrap().len(), 4);
}

async fn refunds_need_an_admin_and_stay_within_what_is_left(b: Backend) {
    let Some(w) = world(b).await else { return };
    let (t, app) = (&w.t, &w.app);
    let o = w.order(1003).await;
    let conv = w.conversation().await;
    let before = app.get(&format!("{}/orders/{o}", acct(t)), &t.owner_token).await.json;
    // #1003: 3 × Sneaker at 89.00 + 3 % tax = 275.01.
    assert_eq!(before["total"], "275.01");

    let agent = app.post(&w.path(o, "refund"), &t.agent_token, json!({ "amount": "5.00" })).await;
    assert_eq!((agent.status, agent.code()), (StatusCode::FORBIDDEN, "forbidden"), "{:?}", agent.json);
    assert!(agent.json["error"]["message"].as_str().unwrap().contains("owners and admins"));

    let r = app
        .post(
            &w.path(o, "refund"),
            &w.admin_token,
            json!({ "amount": "5.00", "note": "Late delivery", "notify_customer": true, "conversation_id": conv }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(t)), &t.agent_token).await;
    assert!(
        msgs.json.as_array().unwrap().iter().any(|m| m["text"] == "Maria Admin refunded 5.00 USD of order #1003"),
        "{:?}",
        msgs.json
    );
    let refunds = r.json["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!((refunds[0]["amount"].as_str(), refunds[0]["note"].as_str()), (Some("5.00"), Some("Late delivery")));
    assert_eq!(r.json["financial_status"], "partially_refunded");
    assert_eq!(w.shop.order_now(shop_id(1003)).unwrap()["refunds"].as_array().unwrap().len(), 1);

    // More than is left, another currency, nonsense: 422 naming the field.
    let too_much = app.post(&w.path(o, "refund"), &w.admin_token, json!({ "amount": "271.00" })).await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", too_much.json);
    assert_eq!(too_much.json["error"]["field"], "amount");
    assert!(too_much.json["error"]["message"].as_str().unwrap().contains("270.01"), "{:?}", too_much.json);
    let eur = app.post(&w.path(o, "refund"), &w.admin_token, json!({ "amount": "1.00", "currency": "EUR" })).await;
    assert_eq!((eur.status, eur.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("currency")));
    for bad in ["0", "-3", "abc", "1.234"] {
        let r = app.post(&w.path(o, "refund"), &w.admin_token, json!({ "amount": bad })).await;
        assert_eq!(
            (r.status, r.json["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")),
            "{bad}"
        );
    }

    // By line: one pair.
    let line = before["line_items"][0]["external_id"].as_str().unwrap().to_owned();
    let r = app
        .post(&w.path(o, "refund"), &t.owner_token, json!({ "line_items": [{ "line_item_id": line, "quantity": 1 }] }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let amounts: Vec<&str> =
        r.json["refunds"].as_array().unwrap().iter().map(|x| x["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, vec!["5.00", "89.00"]);

    // The shop fails: a refund is not sent twice, and the agent is told.
    w.shop.fail_actions(true);
    let requests = w.shop.requests();
    let r = app.post(&w.path(o, "refund"), &t.owner_token, json!({ "amount": "1.00" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_GATEWAY, "shop_error"), "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("check the order in Shopify"), "{:?}", r.json);
    assert_eq!(w.shop.requests() - requests, 1, "the refund calculation is asked once, never retried");
    w.shop.fail_actions(false);
    let failed = &w.audit("?action=order.refund&limit=1").await[0];
    assert_eq!(failed["outcome"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("did not answer or failed"));

    let log = w.audit("?action=order.refund").await;
    let outcomes: Vec<&str> = log.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        vec!["failed", "ok", "failed", "failed", "failed", "failed", "failed", "failed", "ok", "failed"]
    );
    assert_eq!(log.last().unwrap()["actor_name"], "Shop Agent");
    assert!(log.last().unwrap()["error"].as_str().unwrap().contains("owners and admins"));
    assert_eq!(log[8]["actor_name"], "Maria Admin");
    assert_eq!(log[8]["details"]["amount"], "5.00");
}

async fn shipping_addresses_change_in_the_shop_and_are_validated(b: Backend) {
    let Some(w) = world(b).await else { return };
    let (t, app) = (&w.t, &w.app);
    let o = w.order(1002).await;
    let conv = w.conversation().await;
    let address = json!({
        "name": "Ana Silva", "address1": "Rua Augusta 100", "address2": "3º Esq", "city": "Lisboa",
        "province": "", "zip": "1100-053", "country_code": "pt", "phone": "+351 21 000 0000", "conversation_id": conv
    });
    let put = |body: Value, order: i64| {
        let path = w.path(order, "shipping_address");
        async move { app.call(Method::PUT, &path, Some(&t.agent_token), Some(body)).await }
    };
    let r = put(address.clone(), o).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["shipping_address"]["city"], "Lisboa");
    assert_eq!(r.json["shipping_address"]["country_code"], "PT");
    assert_eq!(r.json["ship_to_country"], "PT");
    let mirror = app.get(&format!("{}/orders/{o}", acct(t)), &t.owner_token).await;
    assert_eq!(mirror.json["shipping_address"]["address1"], "Rua Augusta 100");
    let in_shop = w.shop.order_now(shop_id(1002)).unwrap();
    assert_eq!(
        (in_shop["shipping_address"]["city"].as_str(), in_shop["shipping_address"]["zip"].as_str()),
        (Some("Lisboa"), Some("1100-053"))
    );
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(t)), &t.agent_token).await;
    assert!(
        msgs.json.as_array().unwrap().iter().any(|m| m["kind"] == "activity"
            && m["text"] == "Shop Agent changed the shipping address of order #1002 (now Lisboa, PT)"),
        "{:?}",
        msgs.json
    );

    let mut bad = address.clone();
    bad["country_code"] = json!("XX");
    let r = put(bad, o).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("country_code")));
    let mut bad = address.clone();
    bad["city"] = json!(" ");
    let r = put(bad, o).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("city")));
    // A shipped order keeps its address.
    let r = put(address.clone(), w.order(1004).await).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.json);

    let log = w.audit("?target_kind=order").await;
    let outcomes: Vec<&str> = log.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, vec!["failed", "failed", "failed", "ok"]);
    assert_eq!(log[3]["details"]["shipping_address"]["city"], "Lisboa");
    assert_eq!(log[3]["action"], "order.update_shipping_address");
}

async fn shops_without_actions_and_other_accounts_are_refused(b: Backend) {
    let Some(w) = world(b).await else { return };
    let (t, app) = (&w.t, &w.app);
    let storage = &app.app.storage;
    let now = app.app.clock.now();
    let order_of = |connection: ShopConnectionId, index: u64| {
        let writes = ferry_commerce::shopify::order_writes(&ferry_sandbox::shopify::order(index)).unwrap();
        async move { storage.apply_mirror_writes(t.account, connection, None, writes, now).await.unwrap() }
    };
    let new_conn = |platform, api_url: Option<String>, token: Option<String>, domain: &str| NewShopConnection {
        platform,
        name: domain.into(),
        shop_domain: domain.into(),
        secret: "webhook-secret-0123456789".into(),
        api_url,
        access_token: token,
    };

    // An imported shop.
    let imported = storage
        .create_shop_connection(t.account, new_conn(ShopPlatform::Import, None, None, "import.example"), now)
        .await
        .unwrap();
    order_of(imported.id, 20).await;
    let o = w.order(1021).await;
    let r = app.post(&w.path(o, "cancel"), &t.agent_token, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_supported"), "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("imported from files"), "{:?}", r.json);
    let can = app.get(&w.path(o, "actions"), &t.owner_token).await;
    assert!(
        can.json["actions"].as_array().unwrap().iter().all(|a| a["allowed"] == false && a["code"] == "not_supported")
    );

    // A Shopify connection without Admin API access (webhooks only).
    let hooks = storage
        .create_shop_connection(t.account, new_conn(ShopPlatform::Shopify, None, None, "hooks.myshopify.com"), now)
        .await
        .unwrap();
    order_of(hooks.id, 21).await;
    let o = w.order(1022).await;
    let r = app.post(&w.path(o, "refund"), &t.owner_token, json!({ "amount": "1.00" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_supported"), "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("no Admin API access"), "{:?}", r.json);
    // An owner gives the connection Admin API access: the refund is allowed
    // now (an agent may not change the connection; a bad URL is refused).
    let edit = format!("{}/shop_connections/{}", acct(t), hooks.id);
    let body = json!({ "api_url": w.shop.api_url(), "access_token": w.shop.token() });
    let r = app.call(Method::PATCH, &edit, Some(&t.agent_token), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    let r = app.call(Method::PATCH, &edit, Some(&t.owner_token), Some(json!({ "api_url": "ftp://x" }))).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("api_url")));
    // The token goes with every call: plain http only to this machine.
    let plain = json!({ "api_url": "http://shop.example/admin/api/2024-01" });
    let r = app.call(Method::PATCH, &edit, Some(&t.owner_token), Some(plain)).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("api_url")));
    let r = app.call(Method::PATCH, &edit, Some(&t.owner_token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        (r.json["api_url"].as_str(), r.json["has_access_token"].as_bool()),
        (Some(w.shop.api_url().as_str()), Some(true))
    );
    assert!(r.json.get("secret").is_none());
    let can = app.get(&w.path(o, "actions"), &t.owner_token).await;
    let refund = can.json["actions"].as_array().unwrap().iter().find(|a| a["action"] == "refund").unwrap().clone();
    assert_eq!(refund["allowed"], true, "{can:?}");
    let r = app
        .call(
            Method::PATCH,
            &format!("{}/shop_connections/{}", acct(t), imported.id),
            Some(&t.owner_token),
            Some(json!({ "access_token": "x" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);

    // The shop refuses the token: 502 with its message, audited.
    let revoked = storage
        .create_shop_connection(
            t.account,
            new_conn(
                ShopPlatform::Shopify,
                Some(w.shop.api_url()),
                Some("shpat_revoked".into()),
                "revoked.myshopify.com",
            ),
            now,
        )
        .await
        .unwrap();
    order_of(revoked.id, 22).await;
    let o = w.order(1023).await;
    let r = app.post(&w.path(o, "cancel"), &t.agent_token, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_GATEWAY, "shop_error"), "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("Invalid API key or access token"), "{:?}", r.json);
    let last = &w.audit("?limit=1").await[0];
    assert_eq!((last["outcome"].as_str(), last["target_id"].as_str()), (Some("failed"), Some(o.to_string().as_str())));
    assert!(last["error"].as_str().unwrap().contains("Invalid API key"));

    // Another account sees none of it.
    let other = app.tenant("Other").await;
    let mine = w.order(1002).await;
    let r = app.post(&format!("{}/orders/{mine}/cancel", acct(&other)), &other.owner_token, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.post(&w.path(mine, "cancel"), &other.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get(&format!("{}/audit_log", acct(&other)), &other.owner_token).await;
    assert_eq!(r.json, json!([]));
    assert!(w.shop.order_now(shop_id(1002)).unwrap()["cancelled_at"].is_null());
    // An unknown order or conversation.
    let r = app.post(&w.path(999_999, "cancel"), &t.agent_token, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.post(&w.path(mine, "cancel"), &t.agent_token, json!({ "conversation_id": 999_999 })).await;
    assert_eq!(
        (r.status, r.json["error"]["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("conversation not found"))
    );
    let _ = w.connection;
}
