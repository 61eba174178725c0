//! End-to-end tests of the HTTP API against a real node, on SQLite and on
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both!(
    same_webhook_five_times_concurrently_is_one_message,
    bad_webhooks_get_clear_errors,
    accounts_cannot_touch_each_other,
    roles_are_enforced,
    login_sessions_and_profile,
    agents_work_a_conversation,
    websocket_gets_buyer_message_quickly,
    replies_reach_the_callback_signed_with_retries,
    deliveries_keep_each_buyers_order_fail_visibly_and_are_retried,
    contacts_are_searchable,
    canned_responses_are_shared_by_the_account,
    agents_upload_and_send_attachments,
    search_covers_every_conversation,
    the_bot_answers_asks_and_hands_off,
    the_bot_is_edited_trained_and_tested,
    shopify_webhooks_fill_the_order_mirror_the_bot_answers_from,
    a_buyer_proves_the_order_with_a_code_sent_to_its_email,
    a_buyer_proves_the_order_with_a_code_texted_to_its_phone,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

async fn same_webhook_five_times_concurrently_is_one_message(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Shop").await;
    let body = buyer_message("wamid-1", "buyer-1", "Where is my order #1001?");
    let results = futures::future::join_all((0..5).map(|_| app.webhook(&t, &body))).await;
    for r in &results {
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    }
    let ids: Vec<_> =
        results.iter().map(|r| (r.json["message_id"].clone(), r.json["conversation_id"].clone())).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "same ids on every delivery: {ids:?}");
    assert_eq!(results.iter().filter(|r| r.json["duplicate"] == json!(false)).count(), 1);
    let conv = results[0].json["conversation_id"].as_i64().unwrap();
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.owner_token).await;
    assert_eq!(msgs.json.as_array().unwrap().len(), 1);
    let events = app.app.storage.count_events(t.account).await.unwrap();
    // One message, one outbox event.
    assert_eq!(events, 1);
}

async fn bad_webhooks_get_clear_errors(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Shop").await;
    let ok = serde_json::to_vec(&buyer_message("x1", "h", "hi")).unwrap();

    let r = app.webhook_raw(t.inbox, Some(&t.secret), b"{\"external_id\": ".to_vec()).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "malformed_request"));

    let r = app.webhook_raw(t.inbox, Some("wrong-secret"), ok.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let r = app.webhook_raw(t.inbox, None, ok.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = app.webhook_raw(ferry_core::InboxId(987_654), Some(&t.secret), ok.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.call(Method::POST, "/webhooks/api/not-a-number", None, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::POST, &format!("/webhooks/nowhere/{}", t.inbox.0), None, Some(json!({}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    let big = json!({ "external_id": "big", "sender": {"handle": "h"}, "text": "x".repeat(1024 * 1024 + 10) });
    let r = app.webhook_raw(t.inbox, Some(&t.secret), serde_json::to_vec(&big).unwrap()).await;
    assert_eq!((r.status, r.code()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"), "{:?}", r.json);

    let mut bad_utf8 = b"{\"external_id\": \"u\", \"sender\": {\"handle\": \"h\"}, \"text\": \"".to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, 0xfd]);
    bad_utf8.extend_from_slice(b"\"}");
    let r = app.webhook_raw(t.inbox, Some(&t.secret), bad_utf8).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "malformed_request"));

    let empty = json!({ "external_id": "e", "sender": {"handle": "h"}, "text": "   " });
    let r = app.webhook(&t, &empty).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    let bad_b64 = json!({ "external_id": "e", "sender": {"handle": "h"}, "attachments": [{"data_base64": "***", "content_type": "image/png"}] });
    let r = app.webhook(&t, &bad_b64).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_field = json!({ "external_id": "e", "sender": {"handle": "h"}, "text": "hi", "surprise": 1 });
    assert_eq!(app.webhook(&t, &unknown_field).await.status, StatusCode::BAD_REQUEST);
    let bad_phone = json!({ "external_id": "e", "sender": {"handle": "h", "phone": "12"}, "text": "hi" });
    let r = app.webhook(&t, &bad_phone).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("sender.phone")));

    // Nothing of the above was stored; a good delivery still works, with an
    // inline attachment stored and served.
    assert_eq!(app.app.storage.count_events(t.account).await.unwrap(), 0);
    let png = json!({ "external_id": "img", "sender": {"handle": "h"}, "text": "photo of the damage",
        "attachments": [{"data_base64": "iVBORw0KGgo=", "content_type": "image/png", "filename": "broken.png"}] });
    let r = app.webhook(&t, &png).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let conv = r.json["conversation_id"].as_i64().unwrap();
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.agent_token).await;
    let part = &msgs.json[0]["parts"][1];
    assert_eq!(part["type"], "image");
    let url = part["attachment"]["url"].as_str().unwrap();
    let file =
        app.http.get(format!("{}{url}", app.base)).header("api_access_token", &t.agent_token).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().as_ref(), &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
}

async fn accounts_cannot_touch_each_other(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let a = app.tenant("Alpha").await;
    let bt = app.tenant("Beta").await;
    let r = app.webhook(&bt, &buyer_message("m", "buyer", "private question")).await;
    let conv = r.json["conversation_id"].as_i64().unwrap();
    let contact = r.json["contact_id"].as_i64().unwrap();
    let msg = r.json["message_id"].as_i64().unwrap();
    let b_agents = app.get(&format!("{}/agents", acct(&bt)), &bt.owner_token).await;
    let b_agent = b_agents.json[0]["id"].as_i64().unwrap();
    let team = app.post(&format!("{}/teams", acct(&bt)), &bt.owner_token, json!({"name": "Returns"})).await.json["id"]
        .as_i64()
        .unwrap();

    // A's token on B's account path: nothing.
    for path in ["inboxes", "agents", "teams", "tags", "contacts", "conversations", "conversations/meta"] {
        let r = app.get(&format!("{}/{path}", acct(&bt)), &a.owner_token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    // A's token on A's path with B's ids: nothing, and nothing changes.
    let ap = acct(&a);
    let reads = [
        format!("{ap}/conversations/{conv}"),
        format!("{ap}/conversations/{conv}/messages"),
        format!("{ap}/conversations/{conv}/tags"),
        format!("{ap}/contacts/{contact}"),
        format!("{ap}/contacts/{contact}/conversations"),
        format!("{ap}/inboxes/{}", bt.inbox),
    ];
    for p in &reads {
        assert_eq!(app.get(p, &a.owner_token).await.status, StatusCode::NOT_FOUND, "{p}");
    }
    let writes: Vec<(Method, String, Value)> = vec![
        (Method::POST, format!("{ap}/conversations/{conv}/messages"), json!({"content": "hi"})),
        (Method::POST, format!("{ap}/conversations/{conv}/assignments"), json!({"assignee_id": a.agent_id})),
        (Method::POST, format!("{ap}/conversations/{conv}/status"), json!({"status": "resolved"})),
        (Method::POST, format!("{ap}/conversations/{conv}/priority"), json!({"priority": "high"})),
        (Method::PUT, format!("{ap}/conversations/{conv}/tags"), json!({"tags": ["x"]})),
        (Method::PATCH, format!("{ap}/contacts/{contact}"), json!({"name": "pwned"})),
        (Method::PATCH, format!("{ap}/inboxes/{}", bt.inbox), json!({"name": "pwned"})),
        (Method::DELETE, format!("{ap}/inboxes/{}", bt.inbox), Value::Null),
        (Method::PATCH, format!("{ap}/agents/{b_agent}"), json!({"name": "pwned"})),
        (Method::DELETE, format!("{ap}/agents/{b_agent}"), Value::Null),
        (Method::PUT, format!("{ap}/teams/{team}/members"), json!({"user_ids": []})),
        (Method::DELETE, format!("{ap}/teams/{team}"), Value::Null),
    ];
    for (m, p, body) in writes {
        let body = if body.is_null() { None } else { Some(body) };
        let r = app.call(m.clone(), &p, Some(&a.owner_token), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {p}: {:?}", r.json);
    }
    // Assigning A's conversation to B's agent is refused too.
    let ra = app.webhook(&a, &buyer_message("m", "buyer", "hello")).await;
    let aconv = ra.json["conversation_id"].as_i64().unwrap();
    let r = app
        .post(&format!("{ap}/conversations/{aconv}/assignments"), &a.owner_token, json!({"assignee_id": b_agent}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A's inbox secret does not sign for B's inbox.
    let r =
        app.webhook_raw(bt.inbox, Some(&a.secret), serde_json::to_vec(&buyer_message("z", "h", "x")).unwrap()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // B's data is intact.
    let c = app.get(&format!("{}/conversations/{conv}", acct(&bt)), &bt.owner_token).await;
    assert_eq!((c.json["status"].as_str(), c.json["assignee_id"].is_null()), (Some("open"), true));
    let m = app.get(&format!("{}/conversations/{conv}/messages", acct(&bt)), &bt.owner_token).await;
    assert_eq!(m.json.as_array().unwrap().len(), 1);
    assert_eq!(m.json[0]["id"].as_i64(), Some(msg));
    assert_eq!(
        app.get(&format!("{}/contacts/{contact}", acct(&bt)), &bt.owner_token).await.json["name"],
        "Buyer buyer"
    );
    assert_eq!(app.get(&format!("{}/teams", acct(&bt)), &bt.owner_token).await.json.as_array().unwrap().len(), 1);
    assert_eq!(app.get(&format!("{}/agents", acct(&bt)), &bt.owner_token).await.json.as_array().unwrap().len(), 2);
}

async fn roles_are_enforced(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Roles").await;
    let ap = acct(&t);
    let inbox = json!({"name": "Another", "channel": "api"});
    let r = app.post(&format!("{ap}/inboxes"), &t.agent_token, inbox.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let agent = json!({"name": "New", "email": "new@roles.example", "password": "long enough", "role": "agent"});
    assert_eq!(app.post(&format!("{ap}/agents"), &t.agent_token, agent.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&format!("{ap}/teams"), &t.agent_token, json!({"name": "T"})).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .call(Method::PATCH, &format!("{ap}/inboxes/{}", t.inbox), Some(&t.agent_token), Some(json!({"name": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Agents see inboxes but not their secrets.
    let list = app.get(&format!("{ap}/inboxes"), &t.agent_token).await;
    assert!(list.json[0].get("secret").is_none());
    assert!(app.get(&format!("{ap}/inboxes"), &t.owner_token).await.json[0]["secret"].is_string());

    let r = app.post(&format!("{ap}/inboxes"), &t.owner_token, inbox).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json["secret"].as_str().map(str::len), Some(64));
    let r = app.post(&format!("{ap}/agents"), &t.owner_token, agent.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app.post(&format!("{ap}/agents"), &t.owner_token, agent).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    let weak = json!({"name": "W", "email": "w@roles.example", "password": "short"});
    let r = app.post(&format!("{ap}/agents"), &t.owner_token, weak).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));
    // The last owner cannot be demoted.
    let me = app.get("/api/v1/profile", &t.owner_token).await.json["user"]["id"].as_i64().unwrap();
    let r = app
        .call(Method::PATCH, &format!("{ap}/agents/{me}"), Some(&t.owner_token), Some(json!({"role": "agent"})))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // An agent may rename themself but not change roles.
    let r = app
        .call(Method::PATCH, &format!("{ap}/agents/{}", t.agent_id), Some(&t.agent_token), Some(json!({"name": "Me"})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .call(
            Method::PATCH,
            &format!("{ap}/agents/{}", t.agent_id),
            Some(&t.agent_token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // No or a wrong token.
    assert_eq!(
        app.call(Method::GET, &format!("{ap}/conversations"), None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get(&format!("{ap}/conversations"), "nope").await.status, StatusCode::UNAUTHORIZED);
}

async fn login_sessions_and_profile(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Login").await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "Agent@Login.example", "password": "wrong-password"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"email": "agent@login.example"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "Agent@Login.example", "password": "agent-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let session = cookie.split(';').next().unwrap().to_owned();
    let profile: Value = resp.json().await.unwrap();
    assert_eq!(profile["user"]["role"], "agent");
    assert_eq!(profile["account_id"].as_i64(), Some(t.account.0));
    let me = app.http.get(format!("{}/api/v1/profile", app.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let convs = app
        .http
        .get(format!("{}{}/conversations", app.base, acct(&t)))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(convs.status(), StatusCode::OK);
    let out = app
        .http
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("cookie", &session)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let me = app.http.get(format!("{}/api/v1/profile", app.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.json["status"], "ok");
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3."));
    for p in ["/webhooks/api/{inbox_id}", "/api/v1/accounts/{account_id}/conversations", "/api/v1/auth/login"] {
        assert!(doc.json["paths"].get(p).is_some(), "{p} documented");
    }
    assert!(doc.json["components"]["schemas"].get("ConversationView").is_some());
    let r = app.call(Method::GET, "/api/v1/nowhere", None, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
}

async fn agents_work_a_conversation(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Work").await;
    let ap = acct(&t);
    let mut convs = Vec::new();
    for i in 0..12 {
        let mut body = buyer_message(&format!("m{i}"), &format!("buyer{i}"), "Wo ist mein Paket?");
        if i % 3 == 0 {
            body["sender"]["language"] = json!("de-DE");
        }
        convs.push(app.webhook(&t, &body).await.json["conversation_id"].as_i64().unwrap());
    }
    let c = convs[0];
    let cp = format!("{ap}/conversations/{c}");

    // Assign, tag, prioritise.
    let r = app.post(&format!("{cp}/assignments"), &t.owner_token, json!({"assignee_id": t.agent_id})).await;
    assert_eq!(r.json["assignee_id"].as_i64(), Some(t.agent_id));
    let r = app
        .call(Method::PUT, &format!("{cp}/tags"), Some(&t.agent_token), Some(json!({"tags": ["Late Delivery", "vip"]})))
        .await;
    assert_eq!(r.json["tags"], json!(["late-delivery", "vip"]));
    let r =
        app.call(Method::PUT, &format!("{cp}/tags"), Some(&t.agent_token), Some(json!({"tags": ["bad/tag"]}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.post(&format!("{cp}/priority"), &t.agent_token, json!({"priority": "high"})).await;

    // Filters and counts.
    let mine = app.get(&format!("{ap}/conversations?assignee=me"), &t.agent_token).await;
    assert_eq!(mine.json["data"].as_array().unwrap().len(), 1);
    let tagged = app.get(&format!("{ap}/conversations?tag=late-delivery"), &t.agent_token).await;
    assert_eq!(tagged.json["data"][0]["id"].as_i64(), Some(c));
    let de = app.get(&format!("{ap}/conversations?language=de"), &t.agent_token).await;
    assert_eq!(de.json["data"].as_array().unwrap().len(), 4);
    let inbox = app.get(&format!("{ap}/conversations?inbox_id={}&status=open", t.inbox), &t.agent_token).await;
    assert_eq!(inbox.json["data"].as_array().unwrap().len(), 12);
    assert_eq!(
        app.get(&format!("{ap}/conversations?status=bogus"), &t.agent_token).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get(&format!("{ap}/conversations?cursor=garbage"), &t.agent_token).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Cursor pagination covers everything once.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let q = next.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = app.get(&format!("{ap}/conversations?limit=5{q}"), &t.agent_token).await;
        seen.extend(page.json["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()));
        match page.json["next_cursor"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (12, 12));

    // Reply, note, resolve, reopen by the buyer.
    let r = app.post(&format!("{cp}/messages"), &t.agent_token, json!({"content": "Ihr Paket ist unterwegs."})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json["delivery"]["state"], "sent");
    let r = app
        .post(
            &format!("{cp}/messages"),
            &t.agent_token,
            json!({"content": "VIP – check the warehouse", "private": true}),
        )
        .await;
    assert_eq!(r.json["kind"], "note");
    assert_eq!(
        app.post(&format!("{cp}/messages"), &t.agent_token, json!({"content": "  "})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = app.post(&format!("{cp}/status"), &t.agent_token, json!({"status": "snoozed"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post(&format!("{cp}/status"), &t.agent_token, json!({"status": "resolved"})).await;
    assert_eq!(r.json["status"], "resolved");
    let r = app
        .post(
            &format!("{cp}/status"),
            &t.agent_token,
            json!({"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "invalid_transition"));
    let meta = app.get(&format!("{ap}/conversations/meta"), &t.agent_token).await;
    assert_eq!(
        (meta.json["open"].as_u64(), meta.json["resolved"].as_u64(), meta.json["all"].as_u64()),
        (Some(11), Some(1), Some(12))
    );

    app.webhook(&t, &buyer_message("m-again", "buyer0", "Danke, aber es ist noch nicht da")).await;
    let conv = app.get(&cp, &t.agent_token).await;
    assert_eq!(conv.json["status"], "open");
    assert!(conv.json["first_reply_at"].is_string());
    let msgs = app.get(&format!("{cp}/messages"), &t.agent_token).await;
    let kinds: Vec<_> = msgs.json.as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["incoming", "activity", "activity", "activity", "outgoing", "note", "activity", "incoming"]);
    let texts: Vec<_> = msgs.json.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts[1], "Assigned to Work Agent by Work Owner");
    assert_eq!(texts[6], "Resolved by Work Agent");
    let older = app.get(&format!("{cp}/messages?before={}&limit=2", msgs.json[4]["id"]), &t.agent_token).await;
    assert_eq!(older.json.as_array().unwrap().len(), 2);
    let tags = app.get(&format!("{ap}/tags"), &t.agent_token).await;
    assert_eq!(tags.json.as_array().unwrap().len(), 2);
}

async fn websocket_gets_buyer_message_quickly(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Live").await;
    let other = app.tenant("Elsewhere").await;
    let (mut ws, _) = tokio_tungstenite::connect_async(app.ws_url(&t.agent_token)).await.unwrap();
    let ready = ws.next().await.unwrap().unwrap();
    assert!(ready.to_text().unwrap().contains("ready"));
    // Another account's traffic is not delivered here.
    app.webhook(&other, &buyer_message("o1", "x", "not yours")).await;
    let mut worst = Duration::ZERO;
    for i in 0..5 {
        let r = app.webhook(&t, &buyer_message(&format!("w{i}"), "buyer", &format!("hello {i}"))).await;
        assert_eq!(r.status, StatusCode::OK);
        let acked = Instant::now();
        let id = r.json["message_id"].as_i64().unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
            let v: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
            assert_eq!(v["account_id"].as_i64(), Some(t.account.0), "only own account's events");
            if v["event"] == "message_created" && v["data"]["id"].as_i64() == Some(id) {
                assert_eq!(v["data"]["text"], format!("hello {i}"));
                worst = worst.max(acked.elapsed());
                break;
            }
        }
    }
    assert!(worst < Duration::from_millis(100), "slowest event took {worst:?} after the 200");
    ws.send(tokio_tungstenite::tungstenite::Message::Text("{\"type\":\"ping\"}".into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
    assert!(pong.to_text().unwrap().contains("pong"));
    // Without credentials there is no socket.
    assert!(tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr)).await.is_err());
}

async fn replies_reach_the_callback_signed_with_retries(b: Backend) {
    use axum::routing::post;
    use std::sync::{Arc, Mutex};
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Callback").await;
    // A receiver that fails the first time, then accepts; a second path
    // always rejects.
    type Calls = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let seen: Calls = Arc::default();
    let s2 = seen.clone();
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h2 = hits.clone();
    let receiver = axum::Router::new()
        .route(
            "/ok",
            post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = s2.clone();
                let hits = h2.clone();
                async move {
                    let sig = headers["x-ferry-signature"].to_str().unwrap().to_owned();
                    seen.lock().unwrap().push((sig, body.to_vec()));
                    if hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        )
        .route("/reject", post(|| async { StatusCode::BAD_REQUEST }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let ap = acct(&t);
    let set_cb = |path: &str| json!({"config": {"callback_url": format!("http://127.0.0.1:{port}{path}")}});
    let r =
        app.call(Method::PATCH, &format!("{ap}/inboxes/{}", t.inbox), Some(&t.owner_token), Some(set_cb("/ok"))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let bad = app
        .call(
            Method::PATCH,
            &format!("{ap}/inboxes/{}", t.inbox),
            Some(&t.owner_token),
            Some(json!({"config": {"callback_url": "ftp://x"}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let conv = app.webhook(&t, &buyer_message("q", "buyer-77", "Can I return this?")).await.json["conversation_id"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            &format!("{ap}/conversations/{conv}/messages"),
            &t.agent_token,
            json!({"content": "Yes, within 30 days."}),
        )
        .await;
    assert_eq!(r.json["delivery"]["state"], "queued");
    let mid = r.json["id"].as_i64().unwrap();

    // First attempt: 503, retried later (not yet due).
    assert_eq!(app.drain_jobs().await, 1);
    let m = app.get(&format!("{ap}/conversations/{conv}/messages"), &t.agent_token).await;
    let out = m.json.as_array().unwrap().iter().find(|m| m["id"].as_i64() == Some(mid)).unwrap().clone();
    assert_eq!(out["delivery"]["state"], "queued");
    // Make the retry due now and drain again.
    let job_id = {
        let jobs = app
            .app
            .storage
            .claim_jobs(chrono::Utc::now() + chrono::Duration::hours(2), chrono::Duration::seconds(1), 10)
            .await
            .unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].last_error.as_deref(), Some("callback answered 503 Service Unavailable"));
        jobs[0].id
    };
    app.app.storage.retry_job(job_id, chrono::Utc::now() - chrono::Duration::seconds(1), "manual").await.unwrap();
    assert_eq!(app.drain_jobs().await, 1);
    let m = app.get(&format!("{ap}/conversations/{conv}/messages"), &t.agent_token).await;
    let out = m.json.as_array().unwrap().iter().find(|m| m["id"].as_i64() == Some(mid)).unwrap().clone();
    assert_eq!(out["delivery"]["state"], "sent");
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    for (sig, body) in &calls {
        assert!(
            ferry_core::signature::verify(t.secret.as_bytes(), body, sig),
            "callback is signed with the inbox secret"
        );
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["message"]["text"], "Yes, within 30 days.");
        assert_eq!(v["contact"]["handle"], "buyer-77");
    }

    // A callback that rejects the message fails it at once, visibly.
    app.call(Method::PATCH, &format!("{ap}/inboxes/{}", t.inbox), Some(&t.owner_token), Some(set_cb("/reject"))).await;
    let r =
        app.post(&format!("{ap}/conversations/{conv}/messages"), &t.agent_token, json!({"content": "Second"})).await;
    let mid2 = r.json["id"].as_i64().unwrap();
    app.drain_jobs().await;
    let m = app.get(&format!("{ap}/conversations/{conv}/messages"), &t.agent_token).await;
    let out = m.json.as_array().unwrap().iter().find(|m| m["id"].as_i64() == Some(mid2)).unwrap().clone();
    assert_eq!(out["delivery"]["state"], "failed");
    assert_eq!(out["delivery"]["reason"], "callback answered 400 Bad Request");
}

async fn deliveries_keep_each_buyers_order_fail_visibly_and_are_retried(b: Backend) {
    use axum::routing::post;
    use std::sync::{Arc, Mutex};
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Lanes").await;
    // Receives the callbacks in order; the first try of "one" fails with a
    // 503, `/reject` refuses everything.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s2 = seen.clone();
    let receiver = axum::Router::new()
        .route(
            "/ok",
            post(move |body: axum::body::Bytes| {
                let seen = s2.clone();
                async move {
                    let v: Value = serde_json::from_slice(&body).unwrap();
                    let text = v["message"]["text"].as_str().unwrap().to_owned();
                    let mut seen = seen.lock().unwrap();
                    let first_try_of_one = text == "one" && !seen.contains(&text);
                    seen.push(text);
                    if first_try_of_one { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
                }
            }),
        )
        .route("/reject", post(|| async { StatusCode::BAD_REQUEST }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let ap = acct(&t);
    let set_cb = |path: &str| json!({"config": {"callback_url": format!("http://127.0.0.1:{port}{path}")}});
    let inbox = format!("{ap}/inboxes/{}", t.inbox);
    app.call(Method::PATCH, &inbox, Some(&t.owner_token), Some(set_cb("/ok"))).await;
    let conv_a =
        app.webhook(&t, &buyer_message("a", "buyer-a", "Hello?")).await.json["conversation_id"].as_i64().unwrap();
    let conv_b = app.webhook(&t, &buyer_message("b", "buyer-b", "Hi")).await.json["conversation_id"].as_i64().unwrap();
    let send = |conv: i64, text: &'static str| {
        let (app, ap, token) = (&app, ap.clone(), t.agent_token.clone());
        async move {
            let r = app.post(&format!("{ap}/conversations/{conv}/messages"), &token, json!({"content": text})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
            r.json["id"].as_i64().unwrap()
        }
    };
    let one = send(conv_a, "one").await;
    send(conv_a, "two").await;
    send(conv_a, "three").await;
    send(conv_b, "other").await;

    // "one" fails and waits for its retry; "two" and "three" wait behind
    // it, while the other buyer is served.
    assert_eq!(app.drain_jobs().await, 2);
    let mut first = seen.lock().unwrap().clone();
    first.sort();
    assert_eq!(first, vec!["one", "other"]);
    let queued = app.get(&format!("{ap}/deliveries?state=queued"), &t.agent_token).await;
    assert_eq!(queued.json["items"].as_array().unwrap().len(), 3, "{:?}", queued.json);
    let due = chrono::Utc::now() + chrono::Duration::hours(2);
    let head = app.app.storage.claim_jobs(due, chrono::Duration::seconds(1), 10).await.unwrap();
    assert_eq!(head.len(), 1, "only the head of the lane");
    app.app.storage.retry_job(head[0].id, chrono::Utc::now() - chrono::Duration::seconds(1), "due").await.unwrap();
    assert_eq!(app.drain_jobs().await, 3);
    assert_eq!(seen.lock().unwrap()[2..], ["one", "two", "three"]);

    // A refused message shows in the failed list with its reason.
    app.call(Method::PATCH, &inbox, Some(&t.owner_token), Some(set_cb("/reject"))).await;
    let four = send(conv_a, "four").await;
    app.drain_jobs().await;
    let failed = app.get(&format!("{ap}/deliveries?state=failed"), &t.agent_token).await;
    let items = failed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"].as_i64(), Some(four));
    assert_eq!(items[0]["delivery"]["reason"], "callback answered 400 Bad Request");
    assert_eq!(
        app.get(&format!("{ap}/deliveries?state=sent"), &t.agent_token).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Sent again by an agent once the receiver is fixed.
    let sent_one = app.post(&format!("{ap}/messages/{one}/retry"), &t.agent_token, json!({})).await;
    assert_eq!(sent_one.status, StatusCode::CONFLICT, "only failed messages are retried: {:?}", sent_one.json);
    app.call(Method::PATCH, &inbox, Some(&t.owner_token), Some(set_cb("/ok"))).await;
    let r = app.post(&format!("{ap}/messages/{four}/retry"), &t.agent_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["delivery"]["state"], "queued");
    assert_eq!(app.drain_jobs().await, 1);
    assert_eq!(seen.lock().unwrap().last().map(String::as_str), Some("four"));
    assert!(app.get(&format!("{ap}/deliveries"), &t.agent_token).await.json["items"].as_array().unwrap().is_empty());
    let other = app.tenant("Elsewhere").await;
    let r = app.post(&format!("{}/messages/{four}/retry", acct(&other)), &other.agent_token, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "other accounts cannot see it");
}

async fn contacts_are_searchable(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("People").await;
    let ap = acct(&t);
    let c = json!({"name": "Anna Schmidt", "email": "Anna@Example.de", "phone": "+49 151 23456789", "country": "de", "language": "de",
        "timezone": "Europe/Berlin", "custom_attributes": {"shoe_size": 39}, "tags": ["Repeat Buyer"]});
    let r = app.post(&format!("{ap}/contacts"), &t.agent_token, c.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!((r.json["country"].as_str(), r.json["phone"].as_str()), (Some("DE"), Some("+4915123456789")));
    assert_eq!(r.json["tags"], json!(["repeat-buyer"]));
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(app.post(&format!("{ap}/contacts"), &t.agent_token, c).await.status, StatusCode::CONFLICT);
    let bad = app.post(&format!("{ap}/contacts"), &t.agent_token, json!({"name": "X", "country": "Germany"})).await;
    assert_eq!(bad.json["error"]["field"], "country");
    for q in ["schmidt", "anna%40example", "%2B49%20151%202345%206789", "%2B4915123456789"] {
        let r = app.get(&format!("{ap}/contacts?q={q}"), &t.agent_token).await;
        assert_eq!(r.json["data"].as_array().map(Vec::len), Some(1), "q={q}: {:?}", r.json);
    }
    // A buyer writing from the API with the same e-mail is the same person.
    let body =
        json!({"external_id": "e1", "sender": {"handle": "anna-api", "email": "anna@example.de"}, "text": "Hallo"});
    let r = app.webhook(&t, &body).await;
    assert_eq!(r.json["contact_id"].as_i64(), Some(id));
    let r = app
        .call(
            Method::PATCH,
            &format!("{ap}/contacts/{id}"),
            Some(&t.agent_token),
            Some(json!({"timezone": null, "vip": true, "custom_attributes": {"shoe_size": null}})),
        )
        .await;
    assert_eq!((r.json["timezone"].is_null(), r.json["vip"].as_bool()), (true, Some(true)));
    assert_eq!(r.json["custom_attributes"], json!({}));
    let convs = app.get(&format!("{ap}/contacts/{id}/conversations"), &t.agent_token).await;
    assert_eq!(convs.json.as_array().unwrap().len(), 1);
}

async fn canned_responses_are_shared_by_the_account(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Shop").await;
    let other = app.tenant("Other").await;
    let path = format!("{}/canned_responses", acct(&t));

    let r = app
        .post(&path, &t.owner_token, json!({"short_code": "thanks", "content": "Thank you, {{contact.name}}!"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(
        (r.json["short_code"].as_str(), r.json["content"].as_str()),
        (Some("thanks"), Some("Thank you, {{contact.name}}!"))
    );

    let r = app.post(&path, &t.agent_token, json!({"short_code": "mine", "content": "agents cannot"})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let r = app.call(Method::PATCH, &format!("{path}/{id}"), Some(&t.agent_token), Some(json!({"content": "x"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::DELETE, &format!("{path}/{id}"), Some(&t.agent_token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app.get(&path, &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK);
    let listed = r.json.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0]["id"].as_i64(), listed[0]["content"].as_str()),
        (Some(id), Some("Thank you, {{contact.name}}!"))
    );

    let r = app.post(&path, &t.owner_token, json!({"short_code": "thanks", "content": "again"})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(r.json["error"]["message"], "a canned response with this short code already exists");
    let r = app.post(&path, &t.owner_token, json!({"short_code": "has space", "content": "x"})).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("short_code")));
    let r = app.post(&path, &t.owner_token, json!({"short_code": "long", "content": "x".repeat(10_001)})).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("content")));

    let r = app
        .call(Method::PATCH, &format!("{path}/{id}"), Some(&t.owner_token), Some(json!({"content": "Thanks!"})))
        .await;
    assert_eq!((r.status, r.json["content"].as_str()), (StatusCode::OK, Some("Thanks!")));
    assert_eq!(app.get(&path, &t.agent_token).await.json[0]["content"], "Thanks!");

    // Another account sees none of it, on its own path or on ours.
    let r = app.get(&format!("{}/canned_responses", acct(&other)), &other.owner_token).await;
    assert_eq!((r.status, r.json.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    assert_eq!(app.get(&path, &other.owner_token).await.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::DELETE, &format!("{path}/{id}"), Some(&other.owner_token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call(Method::DELETE, &format!("{}/canned_responses/{id}", acct(&other)), Some(&other.owner_token), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app.call(Method::DELETE, &format!("{path}/{id}"), Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &t.agent_token).await.json.as_array().map(Vec::len), Some(0));
}

async fn upload(
    app: &TestApp,
    account_path: &str,
    token: &str,
    ct: Option<&str>,
    query: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req =
        app.http.post(format!("{}{account_path}/attachments{query}", app.base)).header("api_access_token", token);
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    let r = req.body(body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn agents_upload_and_send_attachments(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Files").await;
    let other = app.tenant("Other").await;
    let ap = acct(&t);
    let png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3];

    let (status, att) =
        upload(&app, &ap, &t.agent_token, Some("image/png"), "?filename=..%2Fbroken%20box.png", png.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{att:?}");
    assert_eq!((att["content_type"].as_str(), att["filename"].as_str()), (Some("image/png"), Some("..broken box.png")));
    assert_eq!(att["size"].as_u64(), Some(png.len() as u64));
    let url = att["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{ap}/attachments/")), "{url}");

    let file =
        app.http.get(format!("{}{url}", app.base)).header("api_access_token", &t.owner_token).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "image/png");
    assert_eq!(file.bytes().await.unwrap().as_ref(), png.as_slice());
    let foreign = format!("{}/attachments/{}", acct(&other), url.rsplit('/').next().unwrap());
    assert_eq!(app.get(&foreign, &other.owner_token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&url, &other.owner_token).await.status, StatusCode::NOT_FOUND);
    let (status, _) = upload(&app, &ap, &other.owner_token, Some("image/png"), "", png.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, e) = upload(&app, &ap, &t.agent_token, None, "", png.clone()).await;
    assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("content_type")));
    let (status, e) = upload(&app, &ap, &t.agent_token, Some("application/pdf"), "", Vec::new()).await;
    assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")));
    let (status, e) = upload(&app, &ap, &t.agent_token, Some("application/pdf"), "", vec![0; 1024 * 1024 + 1]).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));

    // The uploaded file goes out as a message part.
    let conv = app.webhook(&t, &buyer_message("f1", "buyer", "Can you see the damage?")).await.json["conversation_id"]
        .as_i64()
        .unwrap();
    let (status, pdf) =
        upload(&app, &ap, &t.agent_token, Some("application/pdf"), "?filename=label.pdf", b"%PDF-1.4".to_vec()).await;
    assert_eq!(status, StatusCode::CREATED);
    let body = json!({"content": "Here is the return label", "parts": [{"type": "image", "attachment": att}, {"type": "file", "attachment": pdf}]});
    let r = app.post(&format!("{ap}/conversations/{conv}/messages"), &t.agent_token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let msgs = app.get(&format!("{ap}/conversations/{conv}/messages"), &t.agent_token).await;
    let sent = msgs.json.as_array().unwrap().last().unwrap().clone();
    let parts = sent["parts"].as_array().unwrap();
    assert_eq!(parts.iter().map(|p| p["type"].as_str().unwrap()).collect::<Vec<_>>(), ["text", "image", "file"]);
    assert_eq!(parts[1]["attachment"]["url"], url.as_str());
    assert_eq!(parts[2]["attachment"]["filename"], "label.pdf");
}

async fn search_covers_every_conversation(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Find").await;
    let other = app.tenant("Other").await;
    let ap = acct(&t);
    // The oldest conversation holds the message; many newer ones follow.
    app.webhook(&t, &buyer_message("old", "first", "Mein Paket Nr. ZX-981 ist beschädigt")).await;
    for i in 0..120 {
        app.webhook(&t, &buyer_message(&format!("n{i}"), &format!("b{i}"), "hello")).await;
    }
    app.webhook(&other, &buyer_message("x", "y", "zx-981 in another shop")).await;
    let r = app.get(&format!("{ap}/search?q=zx-981"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let found = r.json["messages"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["text"], "Mein Paket Nr. ZX-981 ist beschädigt");
    let r = app.get(&format!("{ap}/search?q=BESCHÄDIGT"), &t.agent_token).await;
    assert_eq!(r.json["messages"].as_array().unwrap().len(), 1, "case-insensitive beyond ASCII");
    let r = app.get(&format!("{ap}/search?q=Buyer%20first"), &t.agent_token).await;
    assert_eq!(r.json["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(app.get(&format!("{ap}/search?q="), &t.agent_token).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("{}/search?q=zx", acct(&other)), &t.agent_token).await.status, StatusCode::NOT_FOUND);
}

/// Messages of a conversation after the bot's jobs ran.
async fn thread(app: &TestApp, t: &Tenant, conv: i64) -> Vec<Value> {
    app.drain_jobs().await;
    let r = app.get(&format!("{}/conversations/{conv}/messages", acct(t)), &t.owner_token).await;
    r.json.as_array().unwrap().clone()
}

fn by_kind<'a>(msgs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    msgs.iter().filter(|m| m["kind"] == kind).collect()
}

async fn the_bot_answers_asks_and_hands_off(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Bot Shop").await;
    let ap = acct(&t);
    let r = app
        .call(
            Method::PATCH,
            &format!("{ap}/inboxes/{}", t.inbox),
            Some(&t.owner_token),
            Some(json!({"config": {"bot_enabled": true, "bot_threshold": 0.5, "auto_assign": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);

    // German order question: answered in German, the bot keeps it.
    let r = app.webhook(&t, &buyer_message("de-1", "lena", "Wo ist meine Bestellung 1234?")).await;
    let de = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, de).await;
    let out = by_kind(&msgs, "outgoing");
    assert_eq!(out.len(), 1, "{msgs:#?}");
    assert_eq!(out[0]["sender"]["type"], "bot");
    let text = out[0]["text"].as_str().unwrap();
    assert!(text.contains("Bestellung 1234"), "{text}");
    let conv = app.get(&format!("{ap}/conversations/{de}"), &t.owner_token).await;
    assert_eq!(conv.json["status"], "bot");
    // The job running again changes nothing.
    assert_eq!(app.drain_jobs().await, 0);

    // Without the order number the bot asks, with a button for a person.
    let r = app.webhook(&t, &buyer_message("en-1", "sam", "where is my order?")).await;
    let en = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, en).await;
    let ask = by_kind(&msgs, "outgoing")[0];
    assert_eq!(ask["parts"][0]["type"], "buttons", "{ask:#?}");
    assert!(ask["text"].as_str().unwrap().contains("order number"));
    app.webhook(&t, &buyer_message("en-2", "sam", "#1001")).await;
    let msgs = thread(&app, &t, en).await;
    let out = by_kind(&msgs, "outgoing");
    assert_eq!(out.len(), 2);
    assert!(out[1]["text"].as_str().unwrap().contains("1001"));

    // Out of scope: handed off with the reason for the agent.
    let r = app.webhook(&t, &buyer_message("x-1", "max", "What is the capital of Mongolia?")).await;
    let x = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, x).await;
    let activity: Vec<&str> = by_kind(&msgs, "activity").iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(activity.iter().any(|a| a.starts_with("Bot handed off:") && a.contains("Intent:")), "{activity:?}");
    let conv = app.get(&format!("{ap}/conversations/{x}"), &t.owner_token).await;
    assert_eq!(conv.json["status"], "open");
    assert!(conv.json["handoff_reason"].as_str().unwrap().contains("Bot handed off"));
    // Auto-assigned to the least busy agent.
    assert!(conv.json["assignee_id"].is_i64(), "{:?}", conv.json);
    // After the hand-off the bot stays quiet.
    let before = by_kind(&msgs, "outgoing").len();
    app.webhook(&t, &buyer_message("x-2", "max", "hello? where is my order 1001")).await;
    let msgs = thread(&app, &t, x).await;
    assert_eq!(by_kind(&msgs, "outgoing").len(), before);

    // An agent gives it back; the bot answers again.
    let r = app.post(&format!("{ap}/conversations/{x}/status"), &t.agent_token, json!({"status": "bot"})).await;
    assert_eq!(r.json["status"], "bot", "{:?}", r.json);
    app.webhook(&t, &buyer_message("x-3", "max", "where is my order 1001?")).await;
    let msgs = thread(&app, &t, x).await;
    assert_eq!(by_kind(&msgs, "outgoing").len(), before + 1);

    // "I want a human" in Chinese: handed off at once, told so in Chinese,
    // assigned to the agent who speaks Chinese.
    let r = app.webhook(&t, &buyer_message("zh-1", "wei", "我要人工")).await;
    let zh = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, zh).await;
    let told = by_kind(&msgs, "outgoing")[0]["text"].as_str().unwrap().to_owned();
    assert!(told.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{told}");
    let activity: Vec<&str> = by_kind(&msgs, "activity").iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(activity.iter().any(|a| a.contains("the buyer asked for a person")), "{activity:?}");
    let conv = app.get(&format!("{ap}/conversations/{zh}"), &t.owner_token).await;
    assert_eq!(conv.json["status"], "open");
    assert_eq!(conv.json["assignee_id"].as_i64(), Some(t.agent_id));

    // A Spanish buyer whose browser said English: after a hand-off the
    // conversation and the contact are Spanish, for the agent and routing.
    let mut es = buyer_message("es-1", "lucia", "Quiero hablar con una persona sobre mi pedido, por favor");
    es["sender"]["language"] = json!("en-US");
    let r = app.webhook(&t, &es).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    let contact = r.json["contact_id"].as_i64().unwrap();
    thread(&app, &t, c).await;
    let conv = app.get(&format!("{ap}/conversations/{c}"), &t.owner_token).await;
    assert_eq!(
        (conv.json["status"].as_str(), conv.json["language"].as_str()),
        (Some("open"), Some("es")),
        "{:?}",
        conv.json
    );
    let who = app.get(&format!("{ap}/contacts/{contact}"), &t.owner_token).await;
    assert_eq!(who.json["language"], "es", "{:?}", who.json);
}

async fn the_bot_is_edited_trained_and_tested(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Bot Admin").await;
    let other = app.tenant("Other Shop").await;
    let ap = acct(&t);
    let r = app.get(&format!("{ap}/bot"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["version"], Value::Null);
    assert!(r.json["document"]["intents"].as_array().unwrap().len() >= 18);

    let intent = json!({
        "name": "ignored",
        "description": "Warranty questions",
        "examples": {
            "en": ["how long is the warranty", "is there a guarantee on this", "what does the warranty cover",
                   "my headphones broke, are they under warranty", "warranty period for the speaker"],
            "de": ["wie lange ist die Garantie", "gibt es Garantie auf das Gerät", "ist das noch in der Garantie"]
        },
        "answers": {"en": "Every product has a {{shop.warranty_years}}-year warranty, {{contact.name}}.",
                    "de": "Alle Produkte haben {{shop.warranty_years}} Jahre Garantie, {{contact.name}}."}
    });
    let path = format!("{ap}/bot/intents/warranty");
    let r = app.call(Method::PUT, &path, Some(&t.agent_token), Some(intent.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::PUT, &path, Some(&t.owner_token), Some(intent.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["version"], 1);
    // A stale version is refused; a broken template is a clear error.
    let r = app.call(Method::PUT, &format!("{path}?version=0"), Some(&t.owner_token), Some(intent.clone())).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let mut broken = intent.clone();
    broken["answers"]["en"] = json!("Hi {{ contact.name");
    let r = app.call(Method::PUT, &format!("{path}?version=1"), Some(&t.owner_token), Some(broken)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "answers");

    // Shop variables through the whole document.
    let mut doc = app.get(&format!("{ap}/bot"), &t.owner_token).await.json;
    doc["document"]["shop"]["warranty_years"] = json!("2");
    let r = app.call(Method::PUT, &format!("{ap}/bot"), Some(&t.owner_token), Some(doc)).await;
    assert_eq!(r.json["version"], 2, "{:?}", r.json);

    let r = app.post(&format!("{ap}/bot/train"), &t.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["version"], 2);
    assert!(r.json["examples"].as_u64().unwrap() > 500);

    // Test a sentence: what the bot would do and why.
    let r = app.post(&format!("{ap}/bot/test"), &t.agent_token, json!({"text": "Wie lange gilt die Garantie?"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["turn"]["decision"], json!({"action": "answer", "intent": "warranty"}));
    assert_eq!(r.json["turn"]["understanding"]["language"], "de");
    assert_eq!(r.json["outcome"]["text"], "Alle Produkte haben 2 Jahre Garantie.");
    let r = app.post(&format!("{ap}/bot/test"), &t.agent_token, json!({"text": "I want to speak to a human"})).await;
    assert_eq!(r.json["outcome"]["outcome"], "hand_off");
    assert!(r.json["note"].as_str().unwrap().contains("asked for a person"));
    let r = app.post(&format!("{ap}/bot/test"), &t.agent_token, json!({"text": "  "})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // FAQ entries.
    let faq = json!({"id": "x", "language": "en", "questions": ["do you ship to Iceland"],
                     "answer": "Yes, we ship to Iceland within 10 days."});
    let r = app.call(Method::PUT, &format!("{ap}/bot/faqs/iceland"), Some(&t.owner_token), Some(faq)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["document"]["faqs"][0]["id"], "iceland");
    let r = app.post(&format!("{ap}/bot/test"), &t.agent_token, json!({"text": "can you ship to iceland?"})).await;
    assert_eq!(r.json["outcome"]["text"], "Yes, we ship to Iceland within 10 days.", "{:?}", r.json);

    // The live bot uses the edited document.
    app.call(
        Method::PATCH,
        &format!("{ap}/inboxes/{}", t.inbox),
        Some(&t.owner_token),
        Some(json!({"config": {"bot_enabled": true}})),
    )
    .await;
    let r = app.webhook(&t, &buyer_message("w-1", "kim", "is my speaker still under warranty?")).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, c).await;
    assert!(by_kind(&msgs, "outgoing")[0]["text"].as_str().unwrap().contains("2-year warranty"), "{msgs:#?}");

    // Removing, and other accounts untouched.
    let r = app.call(Method::DELETE, &format!("{ap}/bot/faqs/iceland"), Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.call(Method::DELETE, &format!("{ap}/bot/faqs/iceland"), Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::DELETE, &path, Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["document"]["intents"].as_array().unwrap().iter().all(|i| i["name"] != "warranty"));
    let r = app.get(&format!("{}/bot", acct(&other)), &other.owner_token).await;
    assert_eq!(r.json["version"], Value::Null);
    let r = app.get(&format!("{}/bot", acct(&other)), &t.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

fn shopify_order(id: i64, number: i64, email: &str, updated_at: &str, tracking: Option<&str>) -> Value {
    let fulfillments = match tracking {
        Some(t) => json!([{
            "id": id * 10, "order_id": id, "status": "success", "shipment_status": "in_transit",
            "tracking_company": "DHL", "tracking_number": t, "tracking_url": format!("https://track.test/{t}"),
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"
        }]),
        None => json!([]),
    };
    json!({
        "id": id, "name": format!("#{number}"), "order_number": number, "email": email,
        "currency": "EUR", "total_price": "59.90", "financial_status": "paid",
        "fulfillment_status": if tracking.is_some() { json!("fulfilled") } else { Value::Null },
        "created_at": "2026-11-18T09:00:00+01:00", "updated_at": updated_at,
        "customer": {"id": 77, "first_name": "Ana", "last_name": "López", "email": email},
        "shipping_address": {"name": "Ana López", "country_code": "ES", "city": "Madrid", "phone": "+34 612 345 678"},
        "line_items": [{"id": id * 100, "product_id": 5, "variant_id": 6, "sku": "TEE-M", "title": "Tee", "variant_title": "M", "quantity": 1, "price": "59.90"}],
        "fulfillments": fulfillments
    })
}

async fn shopify_webhooks_fill_the_order_mirror_the_bot_answers_from(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Mirror Shop").await;
    let ap = acct(&t);
    let secret = "shpss_0123456789abcdef0123";
    let r = app
        .post(
            &format!("{ap}/shop_connections"),
            &t.agent_token,
            json!({"name": "Shop", "shop_domain": "mirror.myshopify.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("{ap}/shop_connections"),
            &t.owner_token,
            json!({"name": "Mirror Shop", "shop_domain": "mirror.myshopify.com", "secret": secret}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let conn = r.json["id"].as_i64().unwrap();
    assert_eq!(r.json["secret"], secret);
    assert!(r.json["webhook_url"].as_str().unwrap().ends_with(&format!("/webhooks/shopify/{conn}")));
    let listed = app.get(&format!("{ap}/shop_connections"), &t.owner_token).await;
    assert!(listed.json[0].get("secret").is_none(), "the secret is shown once");

    // Webhooks: verified, idempotent, newest wins, unknown topics ignored.
    let first = shopify_order(9001, 1001, "ana@example.com", "2026-11-18T09:00:00+01:00", None);
    let r = app.shopify_webhook(conn, secret, "orders/create", "wh-1", &first).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json, json!({"duplicate": false, "changed": 1, "ignored": false}));
    let r = app.shopify_webhook(conn, secret, "orders/create", "wh-1", &first).await;
    assert_eq!(r.json["duplicate"], true);
    let r = app.shopify_webhook(conn, "wrong-secret-wrong-secret", "orders/create", "wh-x", &first).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let shipped = shopify_order(9001, 1001, "ana@example.com", "2026-11-20T10:00:00Z", Some("JJD0099"));
    let r = app.shopify_webhook(conn, secret, "orders/updated", "wh-2", &shipped).await;
    assert_eq!(r.json["changed"], 2, "{:?}", r.json);
    // The older version delivered late changes nothing.
    let r = app.shopify_webhook(conn, secret, "orders/updated", "wh-0", &first).await;
    assert_eq!(r.json["changed"], 0);
    let r = app.shopify_webhook(conn, secret, "app/uninstalled", "wh-3", &json!({})).await;
    assert_eq!(r.json["ignored"], true);
    let r = app.shopify_webhook(conn, secret, "orders/create", "wh-4", &json!({"id": 1})).await;
    assert_eq!(r.status.as_u16() / 100, 4, "{:?}", r.json);

    // Agents search and read orders.
    let r = app.get(&format!("{ap}/orders?q=%231001"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK);
    let orders = r.json.as_array().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["state"], "shipped");
    assert_eq!(orders[0]["total"], "59.90");
    assert_eq!(orders[0]["fulfillments"][0]["tracking_url"], "https://track.test/JJD0099");
    let id = orders[0]["id"].as_i64().unwrap();
    let r = app.get(&format!("{ap}/orders/{id}"), &t.agent_token).await;
    assert_eq!(r.json["email"], "ana@example.com");
    let r = app.get(&format!("{ap}/orders?q=ana%40example"), &t.agent_token).await;
    assert_eq!(r.json.as_array().unwrap().len(), 1);

    // The bot answers from the mirror when the buyer owns the order.
    app.call(
        Method::PATCH,
        &format!("{ap}/inboxes/{}", t.inbox),
        Some(&t.owner_token),
        Some(json!({"config": {"bot_enabled": true}})),
    )
    .await;
    let mut ana = buyer_message("es-1", "ana", "¿Dónde está mi pedido #1001?");
    ana["sender"]["email"] = json!("ana@example.com");
    let r = app.webhook(&t, &ana).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    let contact = r.json["contact_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, c).await;
    let answer = by_kind(&msgs, "outgoing")[0]["text"].as_str().unwrap().to_owned();
    assert!(
        answer.contains("1001") && answer.contains("enviado") && answer.contains("https://track.test/JJD0099"),
        "{answer}"
    );
    let r = app.get(&format!("{ap}/contacts/{contact}/orders"), &t.agent_token).await;
    assert_eq!(r.json[0]["number"], "1001");
    // Agents see how the buyer was verified.
    let verified = "Verified as the buyer of order #1001: the order's e-mail matches the contact's";
    assert!(by_kind(&msgs, "activity").iter().any(|m| m["text"] == verified), "{msgs:#?}");

    // Someone else must prove it with the order's e-mail first.
    let r = app.webhook(&t, &buyer_message("x-1", "stranger", "where is my order 1001?")).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, c).await;
    let asked = by_kind(&msgs, "outgoing")[0]["text"].as_str().unwrap().to_owned();
    assert!(asked.contains("e-mail address"), "{asked}");
    assert!(!asked.contains("JJD0099"));
    app.webhook(&t, &buyer_message("x-2", "stranger", "it is bob@example.com")).await;
    let msgs = thread(&app, &t, c).await;
    let told = by_kind(&msgs, "outgoing")[1]["text"].as_str().unwrap().to_owned();
    assert!(told.contains("can't find order 1001 with that e-mail") && !told.contains("JJD0099"), "{told}");
    app.webhook(&t, &buyer_message("x-3", "stranger", "sorry: ana@example.com")).await;
    let msgs = thread(&app, &t, c).await;
    let out = by_kind(&msgs, "outgoing");
    assert!(out[2]["text"].as_str().unwrap().contains("https://track.test/JJD0099"), "{out:#?}");

    // An order that does not exist gets the same answers as someone
    // else's, so the bot never tells which order numbers exist.
    let r = app.webhook(&t, &buyer_message("n-1", "nobody", "where is my order #4242?")).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    app.webhook(&t, &buyer_message("n-2", "nobody", "it is bob@example.com")).await;
    let msgs = thread(&app, &t, c).await;
    let unknown: Vec<String> =
        by_kind(&msgs, "outgoing").iter().map(|m| m["text"].as_str().unwrap().replace("4242", "1001")).collect();
    let r = app.webhook(&t, &buyer_message("o-1", "other", "where is my order #1001?")).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    app.webhook(&t, &buyer_message("o-2", "other", "it is bob@example.com")).await;
    let msgs = thread(&app, &t, c).await;
    let unowned: Vec<String> =
        by_kind(&msgs, "outgoing").iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(unknown, unowned);

    // Guessing e-mails in one new chat after another stops at the cap on
    // the order number: the next chat is handed to a person at once.
    let mut capped = None;
    for i in 0..6 {
        let who = format!("guesser-{i}");
        let r = app.webhook(&t, &buyer_message(&format!("g-{i}-1"), &who, "where is my order #1001?")).await;
        let c = r.json["conversation_id"].as_i64().unwrap();
        app.webhook(&t, &buyer_message(&format!("g-{i}-2"), &who, &format!("it is guess{i}@example.com"))).await;
        thread(&app, &t, c).await;
        let conv = app.get(&format!("{ap}/conversations/{c}"), &t.owner_token).await;
        if conv.json["status"] == "open" {
            capped = Some(i);
            let msgs = thread(&app, &t, c).await;
            assert!(msgs.iter().all(|m| !m["text"].as_str().unwrap_or("").contains("JJD0099")));
            break;
        }
    }
    assert!(capped.is_some_and(|i| i < 5), "unlimited guesses across chats: {capped:?}");
}

/// A tenant with a Shopify shop holding `order` and the bot on in its API
/// inbox.
async fn shop_with_bot(app: &TestApp, name: &str, order: &Value) -> Tenant {
    let t = app.tenant(name).await;
    let ap = acct(&t);
    let secret = "shpss_codes_0123456789abcdef";
    let r = app
        .post(
            &format!("{ap}/shop_connections"),
            &t.owner_token,
            json!({"name": "S", "shop_domain": "codes.myshopify.com", "secret": secret}),
        )
        .await;
    let conn = r.json["id"].as_i64().unwrap();
    app.shopify_webhook(conn, secret, "orders/create", "c-1", order).await;
    app.call(
        Method::PATCH,
        &format!("{ap}/inboxes/{}", t.inbox),
        Some(&t.owner_token),
        Some(json!({"config": {"bot_enabled": true}})),
    )
    .await;
    t
}

async fn a_buyer_proves_the_order_with_a_code_sent_to_its_email(b: Backend) {
    let sink = SmtpSink::start().await.unwrap();
    let Some(app) = spawn_with(SpawnOptions { smtp: Some(sink.config()), ..SpawnOptions::new(b) }).await else {
        return;
    };
    let order = shopify_order(7001, 1001, "ana@example.com", "2026-11-20T10:00:00Z", Some("JJD7001"));
    let t = shop_with_bot(&app, "Code Shop", &order).await;
    let ap = acct(&t);

    // Unverified: asked for the code sent to the order's e-mail, in Spanish.
    let r = app.webhook(&t, &buyer_message("m-1", "maria", "¿Dónde está mi pedido #1001?")).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, c).await;
    let asked = by_kind(&msgs, "outgoing")[0]["text"].as_str().unwrap().to_owned();
    // The reply neither shows the order's address nor tells whether the
    // order exists.
    assert!(asked.contains("código") && !asked.contains("a***@example.com"), "{asked}");
    assert!(!asked.contains("JJD7001"));
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: ana@example.com"), "{}", mails[0]);
    let code = mails[0]
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .expect("a six-digit code in the e-mail")
        .to_owned();
    // The code unlocks the order: status and tracking link, in Spanish.
    app.webhook(&t, &buyer_message("m-2", "maria", &code)).await;
    let msgs = thread(&app, &t, c).await;
    let out = by_kind(&msgs, "outgoing");
    let answer = out[1]["text"].as_str().unwrap();
    assert!(answer.contains("enviado") && answer.contains("https://track.test/JJD7001"), "{answer}");
    // The code is never written into the conversation.
    assert!(by_kind(&msgs, "outgoing").iter().all(|m| !m["text"].as_str().unwrap().contains(&code)));
    let activity: Vec<&str> = by_kind(&msgs, "activity").iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(
        activity.contains(&"Verified as the buyer of order #1001: one-time code sent to a***@example.com"),
        "{activity:?}"
    );

    // Five wrong codes lock the check and hand off; nothing is revealed.
    let r = app.webhook(&t, &buyer_message("w-0", "mallory", "where is my order #1001?")).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    thread(&app, &t, c).await;
    let real = sink.messages()[1].split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).unwrap().to_owned();
    let wrong = if real == "000000" { "111111" } else { "000000" };
    for i in 1..=5 {
        app.webhook(&t, &buyer_message(&format!("w-{i}"), "mallory", wrong)).await;
    }
    let msgs = thread(&app, &t, c).await;
    assert!(msgs.iter().all(|m| !m["text"].as_str().unwrap_or("").contains("JJD7001")), "{msgs:#?}");
    let activity: Vec<&str> = by_kind(&msgs, "activity").iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(activity.iter().any(|a| a.contains("could not confirm")), "{activity:?}");
    let conv = app.get(&format!("{ap}/conversations/{c}"), &t.owner_token).await;
    assert_eq!(conv.json["status"], "open");
    assert_eq!(sink.messages().len(), 2);
}

async fn a_buyer_proves_the_order_with_a_code_texted_to_its_phone(b: Backend) {
    // Mail is configured but the order has no e-mail: the code goes by SMS
    // to the order's phone.
    let sink = SmsSink::start().await.unwrap();
    let mail = SmtpSink::start().await.unwrap();
    let opts = SpawnOptions { sms: Some(sink.config()), smtp: Some(mail.config()), ..SpawnOptions::new(b) };
    let Some(app) = spawn_with(opts).await else { return };
    let mut order = shopify_order(7101, 1001, "x@example.com", "2026-11-20T10:00:00Z", Some("JJD7101"));
    order["email"] = Value::Null;
    order["customer"]["email"] = Value::Null;
    order["phone"] = json!("+34 612 345 678");
    let t = shop_with_bot(&app, "Text Shop", &order).await;

    let r = app.webhook(&t, &buyer_message("s-1", "pablo", "¿Dónde está mi pedido #1001?")).await;
    let c = r.json["conversation_id"].as_i64().unwrap();
    let msgs = thread(&app, &t, c).await;
    let asked = by_kind(&msgs, "outgoing")[0]["text"].as_str().unwrap().to_owned();
    assert!(asked.contains("SMS") && !asked.contains("678"), "{asked}");
    assert!(!asked.contains("612 345") && !asked.contains("JJD7101"), "{asked}");
    let texts = sink.messages();
    assert_eq!(texts.len(), 1);
    assert!(mail.messages().is_empty());
    assert_eq!((texts[0].to.as_str(), texts[0].from.as_str()), ("+34612345678", "+15005550006"));
    assert!(texts[0].body.contains("1001"), "{}", texts[0].body);
    let code = texts[0].body.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).unwrap().to_owned();

    app.webhook(&t, &buyer_message("s-2", "pablo", &code)).await;
    let msgs = thread(&app, &t, c).await;
    let answer = by_kind(&msgs, "outgoing")[1]["text"].as_str().unwrap().to_owned();
    assert!(answer.contains("https://track.test/JJD7101"), "{answer}");
    let activity: Vec<&str> = by_kind(&msgs, "activity").iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(
        activity.contains(&"Verified as the buyer of order #1001: one-time code sent to +34••••••678 by SMS"),
        "{activity:?}"
    );
}
