//! The web chat's public side and the live sockets as a hostile page would
//! use them: which pages may call, how fast, and what a visitor is told. On
//! SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

on_both!(
    the_live_socket_refuses_other_sites_with_the_agents_cookie,
    a_web_inbox_limits_the_pages_that_use_its_widget,
    new_chats_and_messages_are_rate_limited,
    order_guesses_from_one_address_stop_at_its_cap,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

async fn web_inbox(app: &TestApp, t: &Tenant, config: Value) -> i64 {
    let r = app
        .post(
            &format!("{}/inboxes", acct(t)),
            &t.owner_token,
            json!({"name": "Chat", "channel": "web_widget", "config": config}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn session(app: &TestApp, inbox: i64, origin: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.http.post(format!("{}/widget/{inbox}/sessions", app.base)).json(&json!({}));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn the_live_socket_refuses_other_sites_with_the_agents_cookie(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Sockets").await;
    let resp = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "agent@sockets.example", "password": "agent-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let ws_base = app.base.replace("http://", "ws://");
    let host = app.base.trim_start_matches("http://").to_owned();
    for path in ["/ws".to_owned(), format!("{}/live", acct(&t))] {
        let open = |origin: &str| {
            let mut req = format!("{ws_base}{path}").into_client_request().unwrap();
            req.headers_mut().insert("cookie", cookie.parse().unwrap());
            req.headers_mut().insert("origin", origin.parse().unwrap());
            tokio_tungstenite::connect_async(req)
        };
        match open("https://evil.example").await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403, "{path}"),
            other => panic!("{path}: a foreign page got the socket: {:?}", other.map(|(_, r)| r.status())),
        }
        let (_, r) = open(&format!("http://{host}")).await.unwrap();
        assert_eq!(r.status(), 101, "{path}");
    }
}

async fn a_web_inbox_limits_the_pages_that_use_its_widget(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Origins").await;
    let open = web_inbox(&app, &t, json!({})).await;
    let shut = web_inbox(&app, &t, json!({"allowed_origins": ["https://shop.example", "*.brand.example"]})).await;
    assert_eq!(session(&app, open, Some("https://anything.example")).await.0, StatusCode::OK);
    let (status, e) = session(&app, shut, Some("https://evil.example")).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{e:?}");
    assert_eq!(session(&app, shut, Some("https://shop.example")).await.0, StatusCode::OK);
    assert_eq!(session(&app, shut, Some("https://www.brand.example")).await.0, StatusCode::OK);
    // Ferry's own pages (the demo shop) and callers that are not browsers.
    let own = app.base.clone();
    assert_eq!(session(&app, shut, Some(&own)).await.0, StatusCode::OK);
    let (status, s) = session(&app, shut, None).await;
    assert_eq!(status, StatusCode::OK);
    // Every widget call is checked, not only new sessions.
    let r = app
        .http
        .get(format!("{}/widget/{shut}/messages", app.base))
        .header("x-visitor-token", s["token"].as_str().unwrap())
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The settings keep the list.
    let r = app.get(&format!("{}/inboxes/{shut}", acct(&t)), &t.owner_token).await;
    assert_eq!(r.json["config"]["allowed_origins"][1], "*.brand.example", "{:?}", r.json);
}

async fn new_chats_and_messages_are_rate_limited(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Limits").await;
    let inbox = web_inbox(&app, &t, json!({})).await;
    let mut statuses = Vec::new();
    let first = session(&app, inbox, None).await.1["token"].as_str().unwrap().to_owned();
    for _ in 0..20 {
        statuses.push(session(&app, inbox, None).await.0);
    }
    assert!(statuses[..19].iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    let (status, e) = session(&app, inbox, None).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    assert!(e["error"]["message"].as_str().unwrap().contains("try again"), "{e:?}");
    // Resuming a session is not a new chat.
    let r = app.http.post(format!("{}/widget/{inbox}/sessions", app.base)).json(&json!({"token": first})).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);

    let inbox = web_inbox(&app, &t, json!({})).await;
    let r = app.http.post(format!("{}/widget/{inbox}/sessions", app.base)).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the limit is by address, whatever the inbox");
    let token = app.app.start_visitor(ferry_core::InboxId(inbox), None).await.unwrap();
    let mut codes = Vec::new();
    for i in 0..22 {
        let r = app
            .http
            .post(format!("{}/widget/{inbox}/messages", app.base))
            .header("x-visitor-token", &token)
            .json(&json!({"client_id": format!("c-{i}"), "text": format!("message {i}")}))
            .send()
            .await
            .unwrap();
        codes.push(r.status());
    }
    assert!(codes[..20].iter().all(|s| s.is_success()), "{codes:?}");
    assert_eq!(codes[21], StatusCode::TOO_MANY_REQUESTS, "{codes:?}");
}

/// New visitor after new visitor from one address, each guessing another
/// order's e-mail: the address's cap stops them, though no order and no
/// buyer reached its own.
async fn order_guesses_from_one_address_stop_at_its_cap(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Guesses").await;
    let secret = "shpss_guesses_0123456789ab";
    let r = app
        .post(
            &format!("{}/shop_connections", acct(&t)),
            &t.owner_token,
            json!({"name": "S", "shop_domain": "guesses.myshopify.com", "secret": secret}),
        )
        .await;
    let conn = r.json["id"].as_i64().unwrap();
    let order = json!({"id": 9001, "name": "#5001", "order_number": 5001, "email": "owner@example.com",
        "currency": "EUR", "total_price": "10.00", "financial_status": "paid", "fulfillment_status": null,
        "created_at": "2026-11-18T09:00:00+01:00", "updated_at": "2026-11-18T09:00:00+01:00",
        "line_items": [], "fulfillments": []});
    assert!(app.shopify_webhook(conn, secret, "orders/create", "w-1", &order).await.status.is_success());
    let inbox = web_inbox(&app, &t, json!({"bot_enabled": true})).await;
    let mut handed_off = None;
    for i in 0..12 {
        let token = session(&app, inbox, None).await.1["token"].as_str().unwrap().to_owned();
        let post = |text: String, n: usize| {
            let (http, base, token) = (app.http.clone(), app.base.clone(), token.clone());
            async move {
                let r = http
                    .post(format!("{base}/widget/{inbox}/messages"))
                    .header("x-visitor-token", token)
                    .json(&json!({"client_id": format!("c-{n}"), "text": text}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                r.json::<Value>().await.unwrap()
            }
        };
        post(format!("where is my order #{}?", 6000 + i), 1).await;
        app.drain_jobs().await;
        post(format!("my e-mail is guess{i}@example.com"), 2).await;
        app.drain_jobs().await;
        let convs = app.get(&format!("{}/conversations?inbox_id={inbox}&status=open", acct(&t)), &t.owner_token).await;
        if !convs.json["data"].as_array().unwrap().is_empty() {
            handed_off = Some(i);
            break;
        }
    }
    assert_eq!(handed_off, Some(10), "the 11th guess from one address goes to a person");
}
