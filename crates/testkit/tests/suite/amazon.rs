//! Amazon sellers through the API against the local stand-in of the
//! Selling Partner API, on both stores: access tokens are cached and
//! renewed, throttled calls back off until Amazon's limit clears, Amazon's
//! refusals reach the agent in Amazon's words, blocked texts never leave,
//! review requests keep to their window and happen once, and relayed
//! `ORDER_CHANGE` notifications update the mirror idempotently, newest
//! first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use ferry_connectors::amazon::client::ClientOptions;
use ferry_core::clock::FixedClock;
use ferry_sandbox::amazon::{
    AmazonOptions, CLIENT_ID, CLIENT_SECRET, MARKETPLACE_US, MockAmazon, REFRESH_TOKEN, RatePlan, SeededOrder,
};
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    access_tokens_are_cached_until_they_expire,
    throttled_calls_back_off_until_the_limit_clears,
    refusals_carry_amazons_message_and_blocked_texts_never_leave,
    reviews_are_requested_once_within_their_window,
    order_change_notifications_are_idempotent_and_newest_wins,
);

const ORDER: &str = "113-1234567-7654321";
const SECRET: &str = "amazon-notification-secret";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).single().unwrap()
}

struct World {
    app: TestApp,
    t: Tenant,
    amazon: MockAmazon,
    clock: Arc<FixedClock>,
    connection: i64,
}

impl World {
    fn order_path(&self, tail: &str) -> String {
        format!("/api/v1/accounts/{}/amazon/connections/{}/orders/{ORDER}{tail}", self.t.account, self.connection)
    }

    async fn send(&self, action: &str, text: &str) -> Answer {
        self.app
            .post(&self.order_path("/messages"), &self.t.agent_token, json!({ "action": action, "text": text }))
            .await
    }

    /// A buyer's mail about the order, as Amazon's relay delivers it; the
    /// conversation's id.
    async fn buyer_mail(&self) -> i64 {
        use ferry_core::contact::{Identity, IdentityKind};
        use ferry_core::inbound::{Inbound, InboundSender};
        use ferry_core::message::{ContentPart, EmailHeader};
        let inbox = self.app.app.storage.get_inbox(self.t.account, self.t.inbox).await.unwrap().unwrap();
        let header = EmailHeader {
            subject: format!("Inquiry from Amazon customer (Order: {ORDER})"),
            amazon_order_id: Some(ORDER.to_owned()),
            ..EmailHeader::default()
        };
        let inbound = Inbound {
            account_id: self.t.account,
            inbox_id: self.t.inbox,
            external_id: "<relay-1@marketplace.amazon.com>".into(),
            sender: InboundSender {
                identity: Identity {
                    kind: IdentityKind::Email,
                    value: "x7k2@marketplace.amazon.com".into(),
                    inbox_id: None,
                },
                extra_identities: Vec::new(),
                name: Some("Jo".into()),
                language: None,
            },
            parts: vec![
                ContentPart::Text { text: "Where is my mug?".into() },
                ContentPart::Email { email: Box::new(header) },
            ],
            sent_at: self.app.app.clock.now(),
            meta: Default::default(),
        };
        self.app.app.ingest(&inbox, inbound).await.unwrap().conversation.id.0
    }

    async fn notify(&self, body: &Value, secret: &str) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        let sig = ferry_core::signature::sign(secret.as_bytes(), &bytes);
        let resp = self
            .app
            .http
            .post(format!("{}/webhooks/amazon_notifications/{}", self.app.base, self.connection))
            .header("content-type", "application/json")
            .header("x-ferry-signature", sig)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        Answer { status, headers: resp.headers().clone(), json: resp.json().await.unwrap_or(Value::Null) }
    }
}

async fn world(b: Backend) -> Option<World> {
    let clock = Arc::new(FixedClock::new(t0()));
    let mut opts = SpawnOptions::new(b);
    opts.clock = clock.clone();
    let app = spawn_with(opts).await?;
    app.app.amazon.set_options(ClientOptions {
        backoff: std::time::Duration::from_millis(40),
        max_backoff: std::time::Duration::from_millis(400),
        max_attempts: 6,
        ..ClientOptions::default()
    });
    let t = app.tenant("Seller").await;
    let amazon = MockAmazon::start(AmazonOptions {
        clock: clock.clone(),
        orders: vec![SeededOrder::new(ORDER, t0(), Some(t0() + Duration::days(2)))],
        ..AmazonOptions::default()
    })
    .await
    .unwrap();
    let c = app
        .post(
            &format!("/api/v1/accounts/{}/amazon/connections", t.account),
            &t.owner_token,
            json!({
                "name": "Amazon US", "region": amazon.endpoint(), "marketplace_id": MARKETPLACE_US,
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
                "token_url": amazon.token_url(), "secret": SECRET,
            }),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.json);
    assert_eq!(c.json["secret"], SECRET);
    let printed = c.json.to_string();
    assert!(!printed.contains(CLIENT_SECRET) && !printed.contains(REFRESH_TOKEN), "{printed}");
    let connection = c.json["id"].as_i64().unwrap();
    Some(World { app, t, amazon, clock, connection })
}

/// An `ORDER_CHANGE` notification as Amazon sends it.
fn order_change(id: &str, status: &str, at: DateTime<Utc>, latest_delivery: DateTime<Utc>) -> Value {
    json!({
        "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
        "EventTime": at.to_rfc3339(),
        "Payload": { "OrderChangeNotification": {
            "NotificationLevel": "OrderLevel", "SellerId": "A3TH9S8BH6GOGM", "AmazonOrderId": ORDER,
            "OrderChangeType": "OrderStatusChange",
            "OrderChangeTrigger": { "TimeOfOrderChange": at.to_rfc3339(), "ChangeReason": "Order status changed" },
            "Summary": {
                "MarketplaceId": MARKETPLACE_US, "OrderStatus": status, "PurchaseDate": t0().to_rfc3339(),
                "DestinationPostalCode": "98101", "FulfillmentType": "MFN", "OrderType": "StandardOrder",
                "NumberOfItemsShipped": 1, "NumberOfItemsUnshipped": 0,
                "LatestDeliveryDate": latest_delivery.to_rfc3339(),
                "OrderItems": [{ "OrderItemId": "OI-1", "SellerSKU": "MUG-BLUE", "SupplySourceId": null, "Quantity": 1 }]
            }
        }},
        "NotificationMetadata": { "ApplicationId": "amzn1.sellerapps.app.ferry", "SubscriptionId": "sub-1",
            "PublishTime": at.to_rfc3339(), "NotificationId": id }
    })
}

async fn access_tokens_are_cached_until_they_expire(b: Backend) {
    let Some(w) = world(b).await else { return };
    let actions = w.app.get(&w.order_path("/actions"), &w.t.agent_token).await;
    assert_eq!(actions.status, StatusCode::OK, "{:?}", actions.json);
    let allowed =
        |name: &str| actions.json.as_array().unwrap().iter().any(|a| a["action"] == name && a["allowed"] == true);
    assert!(allowed("unexpectedProblem") && allowed("invoice"), "{:?}", actions.json);
    // Not delivered long enough for a review yet.
    assert!(!allowed("review"));
    for n in 0..3 {
        let r = w.send("unexpectedProblem", &format!("Your parcel is delayed by a day ({n}), sorry.")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    }
    assert_eq!(w.amazon.tokens_issued(), 1, "one token for every call while it is valid");
    assert_eq!(w.amazon.calls_of("createUnexpectedProblem").len(), 3);
    let sent = &w.amazon.calls_of("createUnexpectedProblem")[0];
    assert_eq!(sent.query, format!("marketplaceIds={MARKETPLACE_US}"));
    assert!(sent.body["text"].as_str().unwrap().starts_with("Your parcel is delayed"));

    // An hour later the token is renewed before it is used.
    w.clock.advance(Duration::minutes(59));
    assert_eq!(w.send("confirmDeliveryDetails", "Which day suits you for delivery?").await.status, StatusCode::CREATED);
    assert_eq!(w.amazon.tokens_issued(), 2);

    // A token Amazon no longer accepts is renewed once and the call made.
    w.amazon.expire_tokens();
    assert_eq!(w.send("confirmOrderDetails", "Please confirm the engraving text.").await.status, StatusCode::CREATED);
    assert_eq!(w.amazon.tokens_issued(), 3);

    // The generic shop settings cannot overwrite the stored credentials.
    let path = format!("/api/v1/accounts/{}/shop_connections/{}", w.t.account, w.connection);
    let r = w.app.call(reqwest::Method::PATCH, &path, Some(&w.t.owner_token), Some(json!({"access_token": "x"}))).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("access_token")));
    let r = w.app.call(reqwest::Method::PATCH, &path, Some(&w.t.owner_token), Some(json!({"name": "Amazon DE"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    w.amazon.expire_tokens();
    assert_eq!(w.send("confirmDeliveryDetails", "Is the afternoon fine?").await.status, StatusCode::CREATED);
}

async fn throttled_calls_back_off_until_the_limit_clears(b: Backend) {
    let Some(w) = world(b).await else { return };
    // Amazon's limit for this seller is tighter than the default plan.
    w.amazon.set_plan("createUnexpectedProblem", RatePlan { rate: 5.0, burst: 1 });
    for n in 0..3 {
        let r = w.send("unexpectedProblem", &format!("Update {n}: the carrier picked up your parcel.")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    }
    let calls = w.amazon.calls_of("createUnexpectedProblem");
    let throttled = calls.iter().filter(|c| c.status == 429).count();
    let created = calls.iter().filter(|c| c.status == 201).count();
    assert!(throttled >= 1, "{calls:?}");
    assert_eq!(created, 3);

    // Past the retries the agent is told to try later.
    w.amazon.set_plan("createUnexpectedProblem", RatePlan { rate: 0.0, burst: 0 });
    let r = w.send("unexpectedProblem", "One more update.").await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("try again later"), "{:?}", r.json);
}

async fn refusals_carry_amazons_message_and_blocked_texts_never_leave(b: Backend) {
    let Some(w) = world(b).await else { return };
    w.amazon.refuse(ORDER, "confirmDeliveryDetails", "Delivery details were already confirmed for this order.");
    let r = w.send("confirmDeliveryDetails", "Can you confirm the delivery address?").await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{:?}", r.json);
    assert_eq!(
        r.json["error"]["message"],
        "Amazon refused it: Delivery details were already confirmed for this order."
    );

    let blocked = w
        .send("unexpectedProblem", "Sorry! Write to me at help@myshop.example or see https://myshop.example/faq")
        .await;
    assert_eq!(blocked.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", blocked.json);
    assert_eq!(blocked.code(), "compliance_blocked");
    let rules: Vec<&str> =
        blocked.json["error"]["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"amazon.email_address") && rules.contains(&"amazon.external_link"), "{rules:?}");
    assert!(w.amazon.calls_of("createUnexpectedProblem").is_empty(), "a blocked text reached Amazon");

    // Input Amazon would refuse is refused here first.
    let no_text = w.send("unexpectedProblem", "  ").await;
    assert_eq!(no_text.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = w.send("negativeFeedbackRemoval", "x").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_id = w
        .app
        .post(
            &format!("/api/v1/accounts/{}/amazon/connections/{}/orders/12345/messages", w.t.account, w.connection),
            &w.t.agent_token,
            json!({ "action": "unexpectedProblem", "text": "hello" }),
        )
        .await;
    assert_eq!(bad_id.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Every attempt is audited, with why it failed.
    let audit = w.app.get(&format!("/api/v1/accounts/{}/audit_log", w.t.account), &w.t.owner_token).await;
    assert_eq!(audit.status, StatusCode::OK, "{:?}", audit.json);
    let entries: Vec<&Value> = audit
        .json
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_else(|| audit.json["entries"].as_array().map(|a| a.iter().collect()).unwrap_or_default());
    let amazon: Vec<&&Value> = entries.iter().filter(|e| e["action"] == "amazon.send_message").collect();
    assert!(amazon.len() >= 2, "{:?}", audit.json);
    assert!(amazon.iter().all(|e| e["outcome"] == "failed"));
}

async fn reviews_are_requested_once_within_their_window(b: Backend) {
    let Some(w) = world(b).await else { return };
    let delivered = t0() + Duration::days(2);
    let shipped = w.notify(&order_change("n-ship", "Shipped", t0() + Duration::days(1), delivered), SECRET).await;
    assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.json);
    let review = w.order_path("/review");
    // The buyer wrote about the order through Amazon's relay.
    let conversation = w.buyer_mail().await;

    // Three days after delivery: refused here, Amazon is not asked.
    w.clock.advance(Duration::days(5));
    let early = w.app.post(&review, &w.t.agent_token, json!({})).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{:?}", early.json);
    assert!(early.json["error"]["message"].as_str().unwrap().contains("2025-03-08"), "{:?}", early.json);
    assert!(w.amazon.calls_of("createProductReviewAndSellerFeedbackSolicitation").is_empty());

    // Ten days after: sent.
    w.clock.advance(Duration::days(7));
    let sent = w.app.post(&review, &w.t.agent_token, json!({})).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.json);
    assert_eq!(w.amazon.calls_of("createProductReviewAndSellerFeedbackSolicitation").len(), 1);
    assert_eq!(sent.json["conversation_id"], conversation, "{:?}", sent.json);
    let messages = w
        .app
        .get(&format!("/api/v1/accounts/{}/conversations/{conversation}/messages", w.t.account), &w.t.agent_token)
        .await;
    assert!(
        messages.json.to_string().contains(&format!("asked Amazon to request a review for order {ORDER}")),
        "{:?}",
        messages.json
    );

    // Never twice.
    let again = w.app.post(&review, &w.t.agent_token, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.json);
    assert!(again.json["error"]["message"].as_str().unwrap().contains("already requested"));
    assert_eq!(w.amazon.calls_of("createProductReviewAndSellerFeedbackSolicitation").len(), 1);
    let actions = w.app.get(&w.order_path("/actions"), &w.t.agent_token).await;
    let review_state = actions.json.as_array().unwrap().iter().find(|a| a["action"] == "review").cloned().unwrap();
    assert_eq!(review_state["allowed"], false);

    // Past thirty days nothing is offered.
    w.clock.advance(Duration::days(30));
    let late = w.app.post(&review, &w.t.agent_token, json!({})).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
}

async fn order_change_notifications_are_idempotent_and_newest_wins(b: Backend) {
    let Some(w) = world(b).await else { return };
    let delivery = t0() + Duration::days(4);
    let unshipped = order_change("n-1", "Unshipped", t0() + Duration::hours(1), delivery);
    let first = w.notify(&unshipped, SECRET).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    assert_eq!((first.json["duplicate"].clone(), first.json["changed"].clone()), (json!(false), json!(1)));
    let again = w.notify(&unshipped, SECRET).await;
    assert_eq!(again.json["duplicate"], true, "{:?}", again.json);

    let shipped = w.notify(&order_change("n-3", "Shipped", t0() + Duration::hours(30), delivery), SECRET).await;
    assert!(shipped.json["changed"].as_u64().unwrap() >= 1, "{:?}", shipped.json);
    // An older change arriving late changes nothing.
    let late = w.notify(&order_change("n-2", "Unshipped", t0() + Duration::hours(5), delivery), SECRET).await;
    assert_eq!(
        (late.json["duplicate"].clone(), late.json["changed"].clone()),
        (json!(false), json!(0)),
        "{:?}",
        late.json
    );

    let found = w.app.get(&format!("/api/v1/accounts/{}/orders?q={ORDER}", w.t.account), &w.t.agent_token).await;
    assert_eq!(found.status, StatusCode::OK);
    let orders = found.json.as_array().unwrap();
    assert_eq!(orders.len(), 1, "{:?}", found.json);
    assert_eq!(orders[0]["state"], "shipped", "{:?}", orders[0]);

    // Wrong signatures and other types.
    let forged = w.notify(&unshipped, "not-the-secret-at-all").await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let other = json!({ "NotificationType": "REPORT_PROCESSING_FINISHED", "NotificationMetadata": { "NotificationId": "r-1" } });
    let ignored = w.notify(&other, SECRET).await;
    assert_eq!(ignored.json["ignored"], true, "{:?}", ignored.json);
    let broken = w.notify(&json!({ "NotificationType": "ORDER_CHANGE" }), SECRET).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);

    // The routes are documented.
    let doc = w.app.call(reqwest::Method::GET, "/api/openapi.json", None, None).await;
    for p in [
        "/api/v1/accounts/{account_id}/amazon/connections",
        "/api/v1/accounts/{account_id}/amazon/connections/{connection_id}/orders/{amazon_order_id}/messages",
        "/api/v1/accounts/{account_id}/amazon/connections/{connection_id}/orders/{amazon_order_id}/review",
        "/webhooks/amazon_notifications/{connection_id}",
    ] {
        assert!(doc.json["paths"].get(p).is_some(), "{p} documented");
    }
    // Listing never shows the credentials.
    let list = w.app.get(&format!("/api/v1/accounts/{}/amazon/connections", w.t.account), &w.t.owner_token).await;
    assert_eq!(list.json[0]["has_credentials"], true, "{:?}", list.json);
    assert!(list.json[0].get("secret").is_none());
    assert!(!list.json.to_string().contains(REFRESH_TOKEN));
}
