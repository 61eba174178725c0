//! WhatsApp end to end against the local Graph API stand-in, on SQLite and
//! PostgreSQL: a buyer's picture becomes a conversation with the stored
//! file, the bot asks with buttons sent as interactive buttons, the buyer
//! taps one, an agent answers, and delivery reports that arrive out of
//! order end as read; the 24-hour window, templates, signatures and
//! re-deliveries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use ferry_core::clock::FixedClock;
use ferry_sandbox::whatsapp::{self as wa, FakeGraph};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    a_buyer_is_answered_by_the_bot_and_an_agent_with_statuses_in_order,
    the_window_closes_after_24_hours_and_templates_still_go,
    deliveries_are_signed_and_stored_once,
);

const BUYER: &str = "4915112345678";
const APP_SECRET: &str = "meta-app-secret-for-tests";

struct Wa {
    app: TestApp,
    t: Tenant,
    fake: FakeGraph,
    inbox: i64,
    clock: Arc<FixedClock>,
}

impl Wa {
    fn acct(&self) -> String {
        format!("/api/v1/accounts/{}", self.t.account)
    }

    async fn messages(&self, conv: i64) -> Vec<Value> {
        let r = self.app.get(&format!("{}/conversations/{conv}/messages", self.acct()), &self.t.agent_token).await;
        r.json.as_array().unwrap().clone()
    }

    async fn conversation_of_buyer(&self) -> i64 {
        let r =
            self.app.get(&format!("{}/conversations?inbox_id={}", self.acct(), self.inbox), &self.t.agent_token).await;
        r.json["data"][0]["id"].as_i64().unwrap()
    }
}

async fn setup(b: Backend, bot: bool) -> Option<Wa> {
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let mut o = SpawnOptions::new(b);
    o.clock = clock.clone();
    let app = spawn_with(o).await?;
    let t = app.tenant("WhatsApp Shop").await;
    let fake = FakeGraph::start().await.unwrap();
    let mut settings = fake.settings("verify-me");
    settings["app_secret"] = json!(APP_SECRET);
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/inboxes", t.account),
            &t.owner_token,
            json!({"name": "WhatsApp", "channel": "whatsapp", "config": {"bot_enabled": bot, "whatsapp": settings}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["config"]["whatsapp"]["access_token_set"], json!(true), "{:?}", r.json);
    assert!(!r.json.to_string().contains(wa::ACCESS_TOKEN) && !r.json.to_string().contains(APP_SECRET));
    let inbox = r.json["id"].as_i64().unwrap();
    fake.set_webhook(&format!("{}/webhooks/whatsapp/{inbox}", app.base), APP_SECRET);
    Some(Wa { app, t, fake, inbox, clock })
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    v.extend_from_slice(&[0u8; 32]);
    v
}

async fn a_buyer_is_answered_by_the_bot_and_an_agent_with_statuses_in_order(b: Backend) {
    let Some(w) = setup(b, true).await else { return };
    // Meta's subscription handshake.
    let ok = w
        .app
        .http
        .get(format!(
            "{}/webhooks/whatsapp/{}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345",
            w.app.base, w.inbox
        ))
        .send()
        .await
        .unwrap();
    assert_eq!((ok.status(), ok.text().await.unwrap()), (StatusCode::OK, "12345".to_owned()));
    let bad = w
        .app
        .http
        .get(format!(
            "{}/webhooks/whatsapp/{}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            w.app.base, w.inbox
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);

    // A picture with the question as its caption.
    let media = w.fake.add_media(png(), "image/png");
    let picture = wa::envelope(json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": wa::DISPLAY_PHONE_NUMBER, "phone_number_id": wa::PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Lena Kraus"}, "wa_id": BUYER}],
        "messages": [{"from": BUYER, "id": "wamid.picture-1", "timestamp": chrono::Utc::now().timestamp().to_string(),
            "type": "image", "image": {"id": media, "mime_type": "image/png", "caption": "Where is my order?"}}]}));
    assert_eq!(w.fake.post(picture).await, 200);
    let conv = w.conversation_of_buyer().await;
    let msgs = w.messages(conv).await;
    let image = &msgs[0]["parts"][0];
    assert_eq!(image["type"], "image", "{msgs:?}");
    let url = image["attachment"]["url"].as_str().unwrap();
    let file = w
        .app
        .http
        .get(format!("{}{url}", w.app.base))
        .header("api_access_token", &w.t.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().to_vec(), png(), "the picture is stored in Ferry");

    // The bot asks for the order number with a "talk to a person" button,
    // sent as WhatsApp's interactive reply buttons.
    w.app.drain_jobs().await;
    w.app.drain_jobs().await;
    let sent = w.fake.sent();
    let asked = sent.iter().find(|m| m.kind == "interactive").unwrap_or_else(|| panic!("no buttons: {sent:?}"));
    assert_eq!(asked.to, BUYER);
    assert_eq!(asked.body["interactive"]["type"], "button");
    let button = asked.body["interactive"]["action"]["buttons"][0]["reply"].clone();

    // The buyer taps it: the bot hands the conversation to people.
    let tap = w
        .fake
        .buyer_button_reply(BUYER, button["id"].as_str().unwrap(), button["title"].as_str().unwrap(), &asked.wamid)
        .await;
    assert_eq!(tap.status, 200);
    w.app.drain_jobs().await;
    let c = w.app.get(&format!("{}/conversations/{conv}", w.acct()), &w.t.agent_token).await;
    assert_eq!(c.json["status"], "open", "{:?}", c.json);

    // An agent answers; Meta reports read before delivered.
    let r = w
        .app
        .post(
            &format!("{}/conversations/{conv}/messages", w.acct()),
            &w.t.agent_token,
            json!({"content": "Hi Lena, it left our warehouse today: https://track.example/1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let mid = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let reply = w.fake.sent().into_iter().find(|m| m.reference.as_deref() == Some(&mid.to_string())).unwrap();
    assert_eq!((reply.kind.as_str(), reply.body["text"]["preview_url"].clone()), ("text", json!(true)));
    assert_eq!(w.fake.status(&reply.wamid, "read").await, 200);
    assert_eq!(w.fake.status(&reply.wamid, "delivered").await, 200);
    assert_eq!(w.fake.status(&reply.wamid, "sent").await, 200);
    let m = w.messages(conv).await.into_iter().find(|m| m["id"].as_i64() == Some(mid)).unwrap();
    assert_eq!(m["delivery"]["state"], "read", "{m:?}");
    assert_eq!(m["external_id"].as_str(), Some(reply.wamid.as_str()));
    assert_eq!(m["meta"]["pricing"]["category"], "service", "billing is kept: {m:?}");

    // The buyer reacts to the reply; a failure report cannot undo "read".
    let reaction = wa::envelope(json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": wa::DISPLAY_PHONE_NUMBER, "phone_number_id": wa::PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Lena Kraus"}, "wa_id": BUYER}],
        "messages": [{"from": BUYER, "id": "wamid.reaction-1", "timestamp": chrono::Utc::now().timestamp().to_string(),
            "type": "reaction", "reaction": {"message_id": reply.wamid, "emoji": "👍"}}]}));
    assert_eq!(w.fake.post(reaction).await, 200);
    assert_eq!(w.fake.status_with_error(&reply.wamid, "failed", Some(131_026)).await, 200);
    let m = w.messages(conv).await.into_iter().find(|m| m["id"].as_i64() == Some(mid)).unwrap();
    assert_eq!(m["meta"]["reactions"][0]["emoji"], "👍", "{m:?}");
    assert_eq!(m["delivery"]["state"], "read");

    // The agent reads the conversation and reacts to the picture: both
    // reach the buyer's WhatsApp.
    let read = w.app.post(&format!("{}/conversations/{conv}/read", w.acct()), &w.t.agent_token, json!({})).await;
    assert_eq!((read.status, read.json["read"].clone()), (StatusCode::OK, json!(true)), "{:?}", read.json);
    assert_eq!(w.fake.marked_read().last(), Some(&tap.message_id), "the buyer's latest message is marked read");
    let picture_id = w.messages(conv).await[0]["id"].as_i64().unwrap();
    let r = w
        .app
        .post(&format!("{}/messages/{picture_id}/reactions", w.acct()), &w.t.agent_token, json!({"emoji": "❤️"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["meta"]["reactions"][0]["by"]["type"], "user");
    let sent = w.fake.sent();
    let reaction = sent.last().unwrap();
    assert_eq!(
        (reaction.kind.as_str(), reaction.body["reaction"]["message_id"].as_str()),
        ("reaction", Some("wamid.picture-1"))
    );
    let bad = w
        .app
        .post(&format!("{}/messages/{picture_id}/reactions", w.acct()), &w.t.agent_token, json!({"emoji": "ok"}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_window_closes_after_24_hours_and_templates_still_go(b: Backend) {
    let Some(w) = setup(b, false).await else { return };
    assert_eq!(w.fake.buyer_text(BUYER, "Ana", "Is it shipped?").await.status, 200);
    let conv = w.conversation_of_buyer().await;
    let path = format!("{}/conversations/{conv}/messages", w.acct());
    w.clock.advance(Duration::hours(25));
    let refused = w.app.post(&path, &w.t.agent_token, json!({"content": "Sorry for the wait!"})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "whatsapp_window_closed", "{:?}", refused.json);
    assert!(refused.json["error"]["message"].as_str().unwrap().contains("24 hours"));
    assert!(w.fake.sent().is_empty());

    // The templates Meta approved, synced into Ferry.
    let list = w.app.get(&format!("{}/inboxes/{}/whatsapp/templates", w.acct(), w.inbox), &w.t.agent_token).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.json);
    let order_update = list.json.as_array().unwrap().iter().find(|t| t["name"] == "order_update").unwrap().clone();
    assert_eq!(order_update["body_parameters"], 3);
    let template = json!({"template": {"name": "order_update", "language": "en_US",
        "body": ["{{contact.name}}", "#1001", "Friday"],
        "buttons": [{"index": 0, "sub_type": "url", "value": "1001"}]}});
    let r = w.app.post(&path, &w.t.agent_token, template).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(
        r.json["parts"][0]["template"]["text"],
        "Order update\n\nHi Ana, your order #1001 has shipped and should arrive by Friday.\n\nReply STOP to stop these updates"
    );
    w.app.drain_jobs().await;
    let sent = w.fake.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let body = &sent[0].body["template"];
    assert_eq!(body["name"], "order_update");
    let params =
        body["components"].as_array().unwrap().iter().find(|c| c["type"] == "body").unwrap()["parameters"].clone();
    assert_eq!(params[0]["text"], "Ana");
    let m = w.messages(conv).await.into_iter().find(|m| m["id"] == r.json["id"]).unwrap();
    assert_eq!(m["delivery"]["state"], "sent");

    // A template that needs values it was not given, or one Meta rejected.
    let short = w
        .app
        .post(
            &path,
            &w.t.agent_token,
            json!({"template": {"name": "order_update", "language": "en_US", "body": ["x"]}}),
        )
        .await;
    assert_eq!(
        (short.status, short.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("template"))
    );
    let rejected =
        w.app.post(&path, &w.t.agent_token, json!({"template": {"name": "summer_sale", "language": "en_US"}})).await;
    assert!(rejected.json["error"]["message"].as_str().unwrap().contains("REJECTED"), "{:?}", rejected.json);

    // A send Meta refuses for the window is failed with its reason and can
    // be sent again once the buyer writes.
    w.fake.fail_next(131_047);
    let r =
        w.app.post(&path, &w.t.agent_token, json!({"template": {"name": "hello_world", "language": "en_US"}})).await;
    w.app.drain_jobs().await;
    let failed = w.app.get(&format!("{}/deliveries?state=failed", w.acct()), &w.t.agent_token).await;
    assert_eq!(failed.json["items"][0]["id"], r.json["id"]);
    assert!(failed.json["items"][0]["delivery"]["reason"].as_str().unwrap().contains("24"), "{:?}", failed.json);
    let again = w.app.post(&format!("{}/messages/{}/retry", w.acct(), r.json["id"]), &w.t.agent_token, json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.json);
    w.app.drain_jobs().await;
    assert_eq!(w.fake.sent().len(), 2);
}

async fn deliveries_are_signed_and_stored_once(b: Backend) {
    let Some(w) = setup(b, false).await else { return };
    let body = wa::envelope(json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": wa::DISPLAY_PHONE_NUMBER, "phone_number_id": wa::PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Omar"}, "wa_id": BUYER}],
        "messages": [{"from": BUYER, "id": "wamid.once", "timestamp": chrono::Utc::now().timestamp().to_string(),
            "type": "text", "text": {"body": "Can I change the address?"}}]}));
    let raw = serde_json::to_vec(&body).unwrap();
    let sign = |bytes: &[u8]| ferry_core::signature::sign(APP_SECRET.as_bytes(), bytes);
    let url = format!("{}/webhooks/whatsapp/{}", w.app.base, w.inbox);
    let post = |bytes: Vec<u8>, sig: String| {
        let (http, url) = (w.app.http.clone(), url.clone());
        async move {
            http.post(url)
                .header("x-hub-signature-256", sig)
                .header("content-type", "application/json")
                .body(bytes)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Tampered: one byte changed after signing.
    let mut tampered = raw.clone();
    let at = tampered.iter().position(|&c| c == b'C').unwrap();
    tampered[at] = b'X';
    assert_eq!(post(tampered, sign(&raw)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(raw.clone(), String::new()).await, StatusCode::UNAUTHORIZED);
    // The same delivery five times at once: one message.
    let all = futures::future::join_all((0..5).map(|_| post(raw.clone(), sign(&raw)))).await;
    assert!(all.iter().all(|s| *s == StatusCode::OK), "{all:?}");
    let conv = w.conversation_of_buyer().await;
    let msgs = w.messages(conv).await;
    assert_eq!(msgs.iter().filter(|m| m["kind"] == "incoming").count(), 1, "{msgs:?}");
    // Another inbox's number is acknowledged, not stored.
    let mut other = body.clone();
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("999");
    other["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = json!("wamid.other");
    let raw = serde_json::to_vec(&other).unwrap();
    assert_eq!(post(raw.clone(), sign(&raw)).await, StatusCode::OK);
    assert_eq!(w.messages(conv).await.len(), msgs.len());
    let r = w
        .app
        .call(Method::GET, &format!("{}/conversations?inbox_id={}", w.acct(), w.inbox), Some(&w.t.agent_token), None)
        .await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1);
}
