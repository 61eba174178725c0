//! Outgoing webhooks end to end, with a receiver on loopback inside the
//! test: the events of a real conversation arrive once each, signed; a
//! delivery answered 500 is retried after its back-off; a receiver that
//! keeps failing gets its webhook disabled with an alert; the delivery log
//! shows the last answers; private addresses are refused unless allowed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use chrono::{DateTime, Duration, Utc};
use ferry_core::clock::{Clock, FixedClock};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

on_both!(
    a_conversation_flow_reaches_the_receiver_once_each_signed,
    failures_are_retried_then_the_webhook_is_disabled_with_an_alert,
    private_receivers_are_refused_unless_allowed,
    contact_changes_and_ratings_reach_their_subscribers,
);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A receiver on loopback answering the queued statuses (200 once they
/// run out).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    always: Arc<Mutex<Option<u16>>>,
}

impl Receiver {
    async fn start() -> (Self, String) {
        let r = Receiver::default();
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    state.got.lock().unwrap().push(Received { headers, body });
                    let status = state.answers.lock().unwrap().pop_front().or(*state.always.lock().unwrap());
                    let status = AxumStatus::from_u16(status.unwrap_or(200)).unwrap();
                    (status, "thanks from the receiver")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, format!("http://{addr}/hook"))
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&Utc)
}

async fn spawn(b: Backend, clock: Arc<FixedClock>, failures: u32) -> Option<TestApp> {
    let dyn_clock: Arc<dyn Clock> = clock;
    let mut o = SpawnOptions { clock: dyn_clock, ..SpawnOptions::new(b) };
    o.webhooks.disable_after_failures = failures;
    spawn_with(o).await
}

/// Runs due jobs until the receiver has `n` requests, waiting for the
/// webhook feed to queue the events it is handed.
async fn settle(app: &TestApp, receiver: &Receiver, n: usize) {
    for _ in 0..200 {
        let mut fed = app.app.webhook_feed();
        app.drain_jobs().await;
        if receiver.count() >= n {
            return;
        }
        let _ = tokio::time::timeout(std::time::Duration::from_millis(100), fed.changed()).await;
    }
    panic!("the receiver got {} requests, expected {n}", receiver.count());
}

async fn create_hook(app: &TestApp, t: &Tenant, url: &str, events: Value) -> Answer {
    app.post(
        &format!("/api/v1/accounts/{}/webhooks", t.account),
        &t.owner_token,
        json!({ "url": url, "events": events }),
    )
    .await
}

async fn a_conversation_flow_reaches_the_receiver_once_each_signed(b: Backend) {
    let clock = Arc::new(FixedClock::new(start()));
    let Some(app) = spawn(b, clock.clone(), 50).await else { return };
    let shop = app.tenant("Shop").await;
    let other = app.tenant("Other").await;
    let (receiver, url) = Receiver::start().await;
    let all = json!([
        "conversation_created",
        "conversation_updated",
        "conversation_resolved",
        "message_created",
        "contact_created"
    ]);
    // Only owners and admins, only in their own account, only known events.
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/webhooks", shop.account),
            &shop.agent_token,
            json!({"url": url, "events": all}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/webhooks", shop.account),
            &other.owner_token,
            json!({"url": url, "events": all}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = create_hook(&app, &shop, &url, json!(["message_created", "nope"])).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("events")));

    let created = create_hook(&app, &shop, &url, all.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let secret = created.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let hook = created.json["webhook"]["id"].as_i64().unwrap();
    // The secret is shown once.
    let list = app.get(&format!("/api/v1/accounts/{}/webhooks", shop.account), &shop.owner_token).await;
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    assert!(!list.json.to_string().contains(&secret));
    // Another account's buyer reaches nobody here.
    assert_eq!(app.webhook(&other, &buyer_message("o-1", "zed", "hi")).await.status, StatusCode::OK);

    // A buyer writes (a new contact and conversation), an agent answers,
    // the conversation is resolved.
    let r = app.webhook(&shop, &buyer_message("w-1", "ana", "Where is my parcel?")).await;
    let conv = r.json["conversation_id"].as_i64().unwrap();
    let cp = format!("/api/v1/accounts/{}/conversations/{conv}", shop.account);
    assert!(
        app.post(&format!("{cp}/messages"), &shop.agent_token, json!({"content": "On its way."}))
            .await
            .status
            .is_success()
    );
    assert!(
        app.post(&format!("{cp}/status"), &shop.agent_token, json!({"status": "resolved"})).await.status.is_success()
    );
    settle(&app, &receiver, 6).await;
    // Nothing more comes after everything is handed over.
    app.drain_jobs().await;

    let got = receiver.all();
    let mut ids = std::collections::HashSet::new();
    let mut names = Vec::new();
    for r in &got {
        let body = r.json();
        let sig = r.header("x-ferry-signature");
        let t = ferry_core::signature::verify_timestamped(secret.as_bytes(), &r.body, sig);
        assert_eq!(t, Some(start().timestamp()), "signature {sig}");
        assert_eq!(r.header("x-ferry-event"), body["event"].as_str().unwrap());
        assert!(r.header("x-ferry-delivery").parse::<i64>().is_ok());
        assert_eq!(body["account"]["id"].as_i64(), Some(shop.account.0));
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(ids.insert(body["id"].as_str().unwrap().to_owned()), "delivered twice: {body}");
        names.push(body["event"].as_str().unwrap().to_owned());
    }
    let count = |n: &str| names.iter().filter(|x| *x == n).count();
    assert_eq!((count("contact_created"), count("conversation_created"), count("conversation_resolved")), (1, 1, 1));
    assert_eq!(count("message_created"), 2, "{names:?}");
    assert!(count("conversation_updated") >= 1, "{names:?}");
    // Deliveries run side by side, so they may arrive in any order; the
    // body's id starts with the event's position.
    let mut created: Vec<Value> = got.iter().map(Received::json).filter(|b| b["event"] == "message_created").collect();
    let position = |b: &Value| b["id"].as_str().and_then(|i| i.split(':').next()?.parse::<i64>().ok()).unwrap();
    created.sort_by_key(position);
    let texts: Vec<&str> = created.iter().map(|b| b["payload"]["message"]["text"].as_str().unwrap_or("")).collect();
    assert_eq!(texts, ["Where is my parcel?", "On its way."]);
    let resolved = got.iter().map(Received::json).find(|b| b["event"] == "conversation_resolved").unwrap();
    assert_eq!(resolved["payload"]["conversation"]["id"].as_i64(), Some(conv));

    // The delivery log: newest first, each with the receiver's answer.
    let log =
        app.get(&format!("/api/v1/accounts/{}/webhooks/{hook}/deliveries", shop.account), &shop.owner_token).await;
    assert_eq!(log.status, StatusCode::OK);
    let log = log.json.as_array().unwrap().clone();
    assert_eq!(log.len(), got.len());
    assert!(log.iter().all(|d| d["state"] == "delivered" && d["response_status"] == 200 && d["attempts"] == 1));
    assert_eq!(log[0]["response_body"].as_str(), Some("thanks from the receiver"));
    assert!(log[0]["id"].as_i64() > log[1]["id"].as_i64());
    let r = app.get(&format!("/api/v1/accounts/{}/webhooks/{hook}/deliveries", shop.account), &other.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r =
        app.get(&format!("/api/v1/accounts/{}/webhooks/{hook}/deliveries", other.account), &other.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another account's webhook");

    // Unsubscribed events are not sent; a deleted webhook gets nothing.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}/webhooks/{hook}", shop.account),
            Some(&shop.owner_token),
            Some(json!({"events": ["conversation_resolved"]})),
        )
        .await;
    assert_eq!((r.status, r.json["events"].clone()), (StatusCode::OK, json!(["conversation_resolved"])));
    let before = receiver.count();
    assert_eq!(app.webhook(&shop, &buyer_message("w-2", "bo", "Hello")).await.status, StatusCode::OK);
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/accounts/{}/webhooks/{hook}", shop.account),
            Some(&shop.owner_token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.drain_jobs().await;
    assert_eq!(receiver.count(), before);
}

async fn failures_are_retried_then_the_webhook_is_disabled_with_an_alert(b: Backend) {
    let clock = Arc::new(FixedClock::new(start()));
    let Some(app) = spawn(b, clock.clone(), 3).await else { return };
    let shop = app.tenant("Shop").await;
    let (receiver, url) = Receiver::start().await;
    let created = create_hook(&app, &shop, &url, json!(["message_created"])).await;
    let hook = created.json["webhook"]["id"].as_i64().unwrap();
    let base = format!("/api/v1/accounts/{}/webhooks/{hook}", shop.account);

    // A 500, then the retry after the back-off succeeds.
    receiver.answers.lock().unwrap().push_back(500);
    let test = app.post(&format!("{base}/test"), &shop.owner_token, json!({})).await;
    assert_eq!((test.status, test.json["event"].as_str()), (StatusCode::ACCEPTED, Some("test")));
    settle(&app, &receiver, 1).await;
    let log = app.get(&format!("{base}/deliveries"), &shop.owner_token).await.json;
    assert_eq!((log[0]["state"].as_str(), log[0]["response_status"].as_u64()), (Some("pending"), Some(500)));
    assert_eq!(log[0]["error"].as_str(), Some("the receiver answered HTTP 500"));
    app.drain_jobs().await;
    assert_eq!(receiver.count(), 1, "not before its back-off");
    clock.advance(Duration::minutes(10));
    settle(&app, &receiver, 2).await;
    let got = receiver.all();
    assert_eq!(got[0].json()["id"], got[1].json()["id"], "the same event again");
    let log = app.get(&format!("{base}/deliveries"), &shop.owner_token).await.json;
    assert_eq!((log[0]["state"].as_str(), log[0]["attempts"].as_u64()), (Some("delivered"), Some(2)));
    let hooks = app.get(&format!("/api/v1/accounts/{}/webhooks", shop.account), &shop.owner_token).await.json;
    assert_eq!(hooks[0]["consecutive_failures"].as_u64(), Some(0));

    // A receiver that keeps failing: disabled after 3 failed attempts in a
    // row, with an alert.
    *receiver.always.lock().unwrap() = Some(503);
    app.post(&format!("{base}/test"), &shop.owner_token, json!({})).await;
    for n in 3..=5 {
        settle(&app, &receiver, n).await;
        clock.advance(Duration::hours(2));
    }
    app.drain_jobs().await;
    assert_eq!(receiver.count(), 5, "nothing after it was disabled");
    let hooks = app.get(&format!("/api/v1/accounts/{}/webhooks", shop.account), &shop.owner_token).await.json;
    assert_eq!((hooks[0]["enabled"].as_bool(), hooks[0]["consecutive_failures"].as_u64()), (Some(false), Some(3)));
    assert!(hooks[0]["disabled_reason"].as_str().unwrap().contains("3 failed attempts"));
    let log = app.get(&format!("{base}/deliveries"), &shop.owner_token).await.json;
    assert_eq!((log[0]["state"].as_str(), log[0]["response_status"].as_u64()), (Some("pending"), Some(503)));
    let alerts =
        app.get(&format!("/api/v1/accounts/{}/alerts?kind=webhook_disabled", shop.account), &shop.owner_token).await;
    assert_eq!(alerts.status, StatusCode::OK, "{:?}", alerts.json);
    let alerts = alerts.json.as_array().unwrap().clone();
    assert_eq!(alerts.len(), 1);
    assert_eq!((alerts[0]["status"].as_str(), alerts[0]["severity"].as_str()), (Some("open"), Some("critical")));
    assert_eq!(alerts[0]["details"]["webhook_id"].as_i64(), Some(hook));
    // A disabled webhook takes no test; enabled again, the alert resolves.
    let r = app.post(&format!("{base}/test"), &shop.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app.call(Method::PATCH, &base, Some(&shop.owner_token), Some(json!({"enabled": true}))).await;
    assert_eq!((r.json["enabled"].as_bool(), r.json["consecutive_failures"].as_u64()), (Some(true), Some(0)));
    let alerts =
        app.get(&format!("/api/v1/accounts/{}/alerts?kind=webhook_disabled", shop.account), &shop.owner_token).await;
    assert_eq!(alerts.json[0]["status"].as_str(), Some("resolved"));
}

async fn private_receivers_are_refused_unless_allowed(b: Backend) {
    let mut o = SpawnOptions::new(b);
    o.webhooks.allow_private_targets = false;
    let Some(app) = spawn_with(o).await else { return };
    let shop = app.tenant("Shop").await;
    let (receiver, url) = Receiver::start().await;
    for target in [
        url.as_str(),
        "http://localhost:8080/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://[fd00::1]/hook",
        "ftp://files.example/hook",
    ] {
        let r = create_hook(&app, &shop, target, json!(["message_created"])).await;
        assert_eq!(
            (r.status, r.json["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("url")),
            "{target}"
        );
    }
    assert!(
        app.get(&format!("/api/v1/accounts/{}/webhooks", shop.account), &shop.owner_token)
            .await
            .json
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(receiver.count(), 0);
    // Allowed by configuration (as every other test here runs), loopback
    // is accepted.
    let Some(open) = spawn_app(b).await else { return };
    let t = open.tenant("Shop").await;
    assert_eq!(create_hook(&open, &t, &url, json!(["message_created"])).await.status, StatusCode::CREATED);
}

/// An edited contact, a merge and a survey answer each reach a receiver
/// subscribed to `contact_updated` and `csat_received`, with the contact
/// and the rating.
async fn contact_changes_and_ratings_reach_their_subscribers(b: Backend) {
    let clock = Arc::new(FixedClock::new(start()));
    let Some(app) = spawn(b, clock.clone(), 50).await else { return };
    let shop = app.tenant("Shop").await;
    let (receiver, url) = Receiver::start().await;
    let acct = format!("/api/v1/accounts/{}", shop.account);
    let r = create_hook(&app, &shop, &url, json!(["contact_updated", "csat_received", "order_linked"])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);

    let mut hello = buyer_message("w-1", "ana", "Hello");
    hello["sender"]["email"] = json!("ana@example.com");
    let conv = app.webhook(&shop, &hello).await.json["conversation_id"].as_i64().unwrap();
    let contact =
        app.get(&format!("{acct}/conversations/{conv}"), &shop.owner_token).await.json["contact_id"].as_i64().unwrap();
    let r = app
        .call(
            Method::PATCH,
            &format!("{acct}/contacts/{contact}"),
            Some(&shop.owner_token),
            Some(json!({"country": "PT"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    settle(&app, &receiver, 1).await;

    // A new order with her e-mail comes from the shop (once, though the
    // shop sends it again updated).
    let conn = ferry_storage::NewShopConnection {
        platform: ferry_storage::ShopPlatform::Import,
        name: "Shop".into(),
        shop_domain: "shop.example".into(),
        secret: "webhook-secret-0123456789".into(),
        api_url: None,
        access_token: None,
    };
    let conn = app.app.storage.create_shop_connection(shop.account, conn, start()).await.unwrap().id;
    let order = |updated: &str| -> ferry_commerce::Order {
        serde_json::from_value(json!({
            "external_id": "9001", "number": "1042", "name": "#1042", "email": "ana@example.com", "phone": null,
            "customer_external_id": null, "customer_name": "Ana", "financial_status": "paid",
            "fulfillment_status": null, "cancelled_at": null, "cancel_reason": null, "currency": "EUR",
            "total_minor": 4200, "line_items": [], "shipping_address": null,
            "created_at": "2026-11-20T11:00:00Z", "updated_at": updated,
        }))
        .unwrap()
    };
    for updated in ["2026-11-20T11:00:00Z", "2026-11-20T11:30:00Z"] {
        let writes = vec![ferry_commerce::MirrorWrite::Order(Box::new(order(updated)))];
        let out = app.app.storage.apply_mirror_writes(shop.account, conn, None, writes, start()).await.unwrap();
        assert_eq!(out.changed, 1);
    }
    settle(&app, &receiver, 2).await;

    // Surveys on; the agent answers and resolves; the buyer rates.
    let inbox = format!("{acct}/inboxes/{}", shop.inbox.0);
    let r = app
        .call(Method::PATCH, &inbox, Some(&shop.owner_token), Some(json!({"config": {"csat": {"enabled": true}}})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let cp = format!("{acct}/conversations/{conv}");
    assert!(
        app.post(&format!("{cp}/messages"), &shop.agent_token, json!({"content": "Done."})).await.status.is_success()
    );
    assert!(
        app.post(&format!("{cp}/status"), &shop.agent_token, json!({"status": "resolved"})).await.status.is_success()
    );
    app.drain_jobs().await;
    let msgs = app.get(&format!("{cp}/messages"), &shop.agent_token).await;
    let url_of_survey = msgs
        .json
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().cloned().unwrap_or_default())
        .find(|p| p["type"] == "survey")
        .and_then(|p| p["survey"]["url"].as_str().map(String::from))
        .expect("a survey was sent");
    let token = url_of_survey.rsplit('/').next().unwrap().to_owned();
    let answered = app
        .http
        .post(format!("{}/csat/{token}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("rating=5&comment=Great")
        .send()
        .await
        .unwrap();
    assert!(answered.status().is_success(), "{}", answered.status());
    settle(&app, &receiver, 3).await;

    let got: Vec<Value> = receiver.all().iter().map(Received::json).collect();
    let updated = got.iter().find(|b| b["event"] == "contact_updated").expect("contact_updated");
    assert_eq!(
        (updated["payload"]["contact"]["id"].as_i64(), updated["payload"]["contact"]["country"].as_str()),
        (Some(contact), Some("PT"))
    );
    let rated = got.iter().find(|b| b["event"] == "csat_received").expect("csat_received");
    assert_eq!(rated["payload"]["rating"], 5);
    assert_eq!(rated["payload"]["comment"], "Great");
    assert_eq!(rated["payload"]["conversation_id"].as_i64(), Some(conv));
    assert_eq!(rated["payload"]["contact_id"].as_i64(), Some(contact));
    let linked: Vec<&Value> = got.iter().filter(|b| b["event"] == "order_linked").collect();
    assert_eq!(linked.len(), 1, "a new order once, not its updates: {got:?}");
    assert_eq!(
        (linked[0]["payload"]["order_number"].as_str(), linked[0]["payload"]["contact_id"].as_i64()),
        (Some("1042"), Some(contact))
    );
    assert_eq!(got.len(), 3, "only what was subscribed: {got:?}");
}
