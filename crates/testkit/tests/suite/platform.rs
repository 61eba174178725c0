//! The platform API end to end: the operator creates accounts with their
//! owner, lists them page by page, suspends one (its users, tokens and
//! channel webhooks are turned away, other accounts are untouched) and
//! reactivates it; a wrong or missing token is refused and without a
//! configured token the platform API does not exist. Usage figures are
//! checked against a hand-built month.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_storage::AuditQuery;
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_operator_creates_lists_suspends_and_reactivates_accounts,
    the_platform_api_needs_its_token,
    usage_counts_a_hand_built_month
);

const TOKEN: &str = "operator-token-for-the-tests-0123";

async fn platform(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
    let mut req = app.http.request(method, format!("{}/platform/api/v1{path}", app.base));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let json = resp.json().await.unwrap_or(Value::Null);
    Answer { status, json, headers }
}

fn new_account(name: &str, email: &str) -> Value {
    json!({
        "name": name,
        "time_zone": "Asia/Shanghai",
        "languages": ["zh-CN", "en"],
        "owner": { "email": email, "name": "Lin Owner", "password": "owner-password-1" }
    })
}

async fn login(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": email, "password": password}))).await.status
}

async fn the_operator_creates_lists_suspends_and_reactivates_accounts(b: Backend) {
    let opts = SpawnOptions { platform_token: Some(TOKEN.into()), ..SpawnOptions::new(b) };
    let Some(app) = spawn_with(opts).await else { return };
    let created =
        platform(&app, Method::POST, "/accounts", Some(TOKEN), Some(new_account("Lin Tea", "lin@tea.example"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let a = &created.json["account"];
    assert_eq!(
        (a["name"].as_str(), a["status"].as_str(), a["time_zone"].as_str()),
        (Some("Lin Tea"), Some("active"), Some("Asia/Shanghai"))
    );
    assert_eq!(a["languages"], json!(["zh-CN", "en"]));
    assert_eq!((created.json["owner"]["role"].as_str(), a["users"].as_u64()), (Some("owner"), Some(1)));
    let id = a["id"].as_i64().unwrap();
    // The owner logs in to the new account.
    assert_eq!(login(&app, "lin@tea.example", "owner-password-1").await, StatusCode::OK);

    // A taken e-mail, a bad time zone, a short password: nothing created.
    let taken =
        platform(&app, Method::POST, "/accounts", Some(TOKEN), Some(new_account("Other", "lin@tea.example"))).await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "conflict"));
    let mut bad = new_account("Other", "x@other.example");
    bad["time_zone"] = json!("Mars/Olympus");
    let r = platform(&app, Method::POST, "/accounts", Some(TOKEN), Some(bad)).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("time_zone")));
    let mut short = new_account("Other", "x@other.example");
    short["owner"]["password"] = json!("short");
    let r = platform(&app, Method::POST, "/accounts", Some(TOKEN), Some(short)).await;
    assert_eq!(r.json["error"]["field"].as_str(), Some("owner_password"));

    // Two more accounts (the tenants with tokens and an inbox); pages by id.
    let shop = app.tenant("Shop").await;
    let other = app.tenant("Other").await;
    let page = platform(&app, Method::GET, "/accounts?limit=2", Some(TOKEN), None).await;
    assert_eq!(page.status, StatusCode::OK);
    let ids: Vec<i64> = page.json["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![id, shop.account.0]);
    let after = page.json["next_after"].as_i64().unwrap();
    let rest = platform(&app, Method::GET, &format!("/accounts?limit=2&after={after}"), Some(TOKEN), None).await;
    let ids: Vec<i64> = rest.json["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert_eq!((ids, rest.json["next_after"].clone()), (vec![other.account.0], Value::Null));
    let r = platform(&app, Method::GET, "/accounts?limit=0", Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Suspended: tokens, sessions and logins get 403 account_suspended;
    // the channel webhook is answered 200 and stores nothing.
    let conversations = format!("/api/v1/accounts/{}/conversations", shop.account);
    assert_eq!(app.get(&conversations, &shop.owner_token).await.status, StatusCode::OK);
    let sus = platform(&app, Method::POST, &format!("/accounts/{}/suspend", shop.account), Some(TOKEN), None).await;
    assert_eq!((sus.status, sus.json["status"].as_str()), (StatusCode::OK, Some("suspended")));
    assert!(sus.json["suspended_at"].is_string());
    for token in [&shop.owner_token, &shop.agent_token] {
        let r = app.get(&conversations, token).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "account_suspended"));
    }
    let r = app.get("/api/v1/profile", &shop.owner_token).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "account_suspended"));
    assert_eq!(login(&app, "owner@shop.example", "owner-password").await, StatusCode::FORBIDDEN);
    let hook = app.webhook(&shop, &buyer_message("while-suspended", "ana", "hello?")).await;
    assert_eq!((hook.status, hook.json["message_id"].as_i64()), (StatusCode::OK, Some(0)));
    // An unsigned delivery is still refused first.
    let unsigned = app.webhook_raw(shop.inbox, None, b"{}".to_vec()).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    // The other account is untouched.
    let theirs = format!("/api/v1/accounts/{}/conversations", other.account);
    assert_eq!(app.get(&theirs, &other.owner_token).await.status, StatusCode::OK);

    let back = platform(&app, Method::POST, &format!("/accounts/{}/unsuspend", shop.account), Some(TOKEN), None).await;
    assert_eq!((back.status, back.json["status"].as_str()), (StatusCode::OK, Some("active")));
    let list = app.get(&conversations, &shop.owner_token).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json["data"].as_array().map(Vec::len), Some(0), "{:?}", list.json);
    assert_eq!(login(&app, "owner@shop.example", "owner-password").await, StatusCode::OK);
    let one = platform(&app, Method::GET, &format!("/accounts/{}", shop.account), Some(TOKEN), None).await;
    assert_eq!((one.status, one.json["users"].as_u64()), (StatusCode::OK, Some(2)));

    // Unknown accounts are 404.
    for path in ["/accounts/999999/suspend", "/accounts/999999/unsuspend"] {
        let r = platform(&app, Method::POST, path, Some(TOKEN), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Every operation is in the account's audit log.
    let audit = app.app.storage.list_audit(shop.account, AuditQuery { limit: 50, ..AuditQuery::default() }).await;
    let actions: Vec<String> = audit.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"platform.account_suspend".to_owned()), "{actions:?}");
    assert!(actions.contains(&"platform.account_unsuspend".to_owned()), "{actions:?}");
    let audit =
        app.app.storage.list_audit(ferry_core::AccountId(id), AuditQuery { limit: 50, ..AuditQuery::default() });
    let actions: Vec<String> = audit.await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, vec!["platform.account_create".to_owned()]);
}

async fn the_platform_api_needs_its_token(b: Backend) {
    let opts = SpawnOptions { platform_token: Some(TOKEN.into()), ..SpawnOptions::new(b) };
    let Some(app) = spawn_with(opts).await else { return };
    let shop = app.tenant("Shop").await;
    for token in [None, Some("wrong-token"), Some(&TOKEN[..TOKEN.len() - 1]), Some(shop.owner_token.as_str())] {
        let r = platform(&app, Method::GET, "/accounts", token, None).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"), "{token:?}");
        let r = platform(&app, Method::POST, &format!("/accounts/{}/suspend", shop.account), token, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // An account's own token is no platform token, in either header.
    let r =
        app.post(&format!("/platform/api/v1/accounts/{}/suspend", shop.account), &shop.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!app.app.storage.account_suspended(shop.account).await.unwrap());

    // Without a configured token the platform API does not exist.
    let Some(off) = spawn_app(b).await else { return };
    for token in [None, Some(TOKEN), Some("")] {
        let r = platform(&off, Method::GET, "/accounts", token, None).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
        let r = platform(&off, Method::POST, "/accounts", token, Some(new_account("X", "x@x.example"))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // The document describes it with its statuses.
    let doc = off.call(Method::GET, "/api/openapi.json", None, None).await;
    let post = &doc.json["paths"]["/platform/api/v1/accounts"]["post"]["responses"];
    for status in ["201", "401", "404", "409", "422"] {
        assert!(post.get(status).is_some(), "{status} documented");
    }
}

async fn usage_counts_a_hand_built_month(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let shop = app.tenant("Shop").await;
    let other = app.tenant("Other").await;
    // Two buyers (Ana twice), one reply from an agent; another account's
    // buyer is not counted.
    let mut conv = 0;
    for (id, handle) in [("u1", "ana"), ("u2", "ana"), ("u3", "bo")] {
        let r = app.webhook(&shop, &buyer_message(id, handle, "where is my order?")).await;
        assert_eq!(r.status, StatusCode::OK);
        conv = r.json["conversation_id"].as_i64().unwrap();
    }
    assert_eq!(app.webhook(&other, &buyer_message("o1", "cy", "hi")).await.status, StatusCode::OK);
    let acct = format!("/api/v1/accounts/{}", shop.account);
    let reply = app
        .post(&format!("{acct}/conversations/{conv}/messages"), &shop.agent_token, json!({"content": "On its way!"}))
        .await;
    assert!(reply.status.is_success(), "{:?}", reply.json);
    let month = app.app.clock.now().format("%Y-%m").to_string();
    let r = app.get(&format!("{acct}/usage?month={month}"), &shop.owner_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let m = &r.json["months"][0];
    assert_eq!(m["month"].as_str(), Some(month.as_str()));
    assert_eq!(
        (m["active_contacts"].as_u64(), m["conversations_opened"].as_u64(), m["bot_resolutions"].as_u64()),
        (Some(2), Some(2), Some(0))
    );
    assert_eq!((m["messages_in"].as_u64(), m["messages_out"].as_u64()), (Some(3), Some(1)));
    assert_eq!(m["channels"], json!([{ "channel": "api", "incoming": 3, "outgoing": 1 }]));
    // A range: the month before is empty.
    let first = (app.app.clock.now() - chrono::Duration::days(31)).format("%Y-%m").to_string();
    let r = app.get(&format!("{acct}/usage?month={first}&to={month}"), &shop.owner_token).await;
    let months = r.json["months"].as_array().unwrap();
    assert_eq!(months.len(), 2);
    assert_eq!(months[0]["active_contacts"].as_u64(), Some(0));
    assert_eq!(months[1]["active_contacts"].as_u64(), Some(2));
    // Agents may not see it; bad months are 422; other accounts 404.
    assert_eq!(app.get(&format!("{acct}/usage?month={month}"), &shop.agent_token).await.status, StatusCode::FORBIDDEN);
    let r = app.get(&format!("{acct}/usage?month=2026-13"), &shop.owner_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&format!("{acct}/usage?month={month}"), &other.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
