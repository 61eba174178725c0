//! SMS inboxes end to end against the local Twilio-compatible stand-in, on
//! SQLite and PostgreSQL: the connection check gives the URL to paste at
//! the provider; a buyer's MMS becomes a conversation with the stored
//! picture; the bot asks with numbered choices; the buyer answers with a
//! choice; an agent replies, sent with a status callback, and the
//! provider's `delivered` report reaches the message. Tampered and
//! unsigned deliveries are refused; re-deliveries store once; STOP makes
//! every sender refuse with `contact_opted_out` until START.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_sandbox::sms::{self as twilio, SmsSink};
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(a_buyer_texts_the_bot_answers_and_an_agent_replies, signatures_redeliveries_and_stop_start,);

const BUYER: &str = "+34600111222";

struct Sms {
    app: TestApp,
    t: Tenant,
    fake: SmsSink,
}

impl Sms {
    fn acct(&self) -> String {
        format!("/api/v1/accounts/{}", self.t.account)
    }

    async fn conversation(&self, inbox: i64) -> i64 {
        let r = self
            .app
            .get(&format!("{}/conversations?inbox_id={inbox}&status=all", self.acct()), &self.t.agent_token)
            .await;
        r.json["data"][0]["id"].as_i64().unwrap()
    }

    async fn messages(&self, conv: i64) -> Vec<Value> {
        let r = self.app.get(&format!("{}/conversations/{conv}/messages", self.acct()), &self.t.agent_token).await;
        r.json.as_array().unwrap().clone()
    }

    async fn reply(&self, conv: i64, text: &str) -> Answer {
        self.app
            .post(
                &format!("{}/conversations/{conv}/messages", self.acct()),
                &self.t.agent_token,
                json!({"content": text}),
            )
            .await
    }
}

async fn setup(b: Backend, bot: bool) -> Option<(Sms, i64)> {
    let app = spawn_app(b).await?;
    let t = app.tenant("SMS Shop").await;
    let fake = SmsSink::start().await.unwrap();
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/inboxes", t.account),
            &t.owner_token,
            json!({"name": "SMS", "channel": "sms", "config": {"bot_enabled": bot, "sms": fake.settings()}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert!(!r.json.to_string().contains(twilio::AUTH_TOKEN), "the token is never shown");
    let inbox = r.json["id"].as_i64().unwrap();
    let check =
        app.post(&format!("/api/v1/accounts/{}/inboxes/{inbox}/check", t.account), &t.owner_token, json!({})).await;
    assert_eq!(check.json["sms"]["ok"], json!(true), "{:?}", check.json);
    let signed = check.json["sms"]["webhook_url"].as_str().unwrap().to_owned();
    assert!(signed.ends_with(&format!("/webhooks/sms/{inbox}")), "{signed}");
    // The provider signs over the URL it was given and posts to the server.
    fake.set_webhook(&signed, &format!("{}/webhooks/sms/{inbox}", app.base));
    Some((Sms { app, t, fake }, inbox))
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    v.extend_from_slice(&[0u8; 32]);
    v
}

async fn a_buyer_texts_the_bot_answers_and_an_agent_replies(b: Backend) {
    let Some((w, inbox)) = setup(b, true).await else { return };
    // An MMS with a photo and the question.
    let (status, _) = w.fake.buyer_sms(BUYER, "Where is my order?", &[(png(), "image/png")]).await;
    assert_eq!(status, 200);
    let conv = w.conversation(inbox).await;
    let msgs = w.messages(conv).await;
    let first = &msgs[0];
    assert_eq!(first["parts"][0]["type"], "image", "{first:?}");
    let url = first["parts"][0]["attachment"]["url"].as_str().unwrap();
    let stored = w
        .app
        .http
        .get(format!("{}{url}", w.app.base))
        .header("api_access_token", &w.t.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.bytes().await.unwrap().to_vec(), png(), "the picture is stored in Ferry");

    // The bot asks, its choices numbered in the text.
    w.app.drain_jobs().await;
    w.app.drain_jobs().await;
    let sent = w.fake.messages();
    let asked = sent.iter().find(|m| m.body.contains("\n1) ")).unwrap_or_else(|| panic!("no choices: {sent:?}"));
    assert_eq!(asked.to, BUYER);
    let choice = asked.body.lines().find_map(|l| l.trim().strip_prefix("1) ")).unwrap().trim().to_owned();

    // The buyer answers with the choice's number: taken as that choice,
    // and the bot hands over to people.
    let (status, _) = w.fake.buyer_sms(BUYER, " 1 ", &[]).await;
    assert_eq!(status, 200);
    let msgs = w.messages(conv).await;
    assert_eq!(msgs.iter().rev().find(|m| m["kind"] == "incoming").unwrap()["parts"][0]["text"], json!(choice));
    w.app.drain_jobs().await;
    let c = w.app.get(&format!("{}/conversations/{conv}", w.acct()), &w.t.agent_token).await;
    assert_eq!(c.json["status"], "open", "{:?}", c.json);

    // An agent replies: sent with a status callback; `delivered` follows.
    let r = w.reply(conv, "Hi! It ships tomorrow.").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    assert_eq!(w.fake.messages().last().unwrap().body, "Hi! It ships tomorrow.");
    let sid = w.fake.sids().last().unwrap().clone();
    assert!(w.fake.status_callback(&sid).unwrap().contains(&format!("/webhooks/sms/{inbox}")));
    assert_eq!(w.fake.report(&sid, "delivered", None).await, 200);
    let m = w.messages(conv).await.into_iter().find(|m| m["id"].as_i64() == Some(id)).unwrap();
    assert_eq!(m["delivery"]["state"], "delivered", "{m:?}");
    assert_eq!(m["external_id"], sid.as_str());
}

async fn signatures_redeliveries_and_stop_start(b: Backend) {
    let Some((w, inbox)) = setup(b, false).await else { return };
    let params = w.fake.inbound(BUYER, twilio::FROM, "Can I change my address?", &[]);
    // Unsigned, wrongly signed, or changed after signing: refused.
    assert_eq!(w.fake.post_params(&params, Some("")).await, 401);
    assert_eq!(w.fake.post_params(&params, Some("bm90IGEgc2lnbmF0dXJl")).await, 401);
    let signed = w.app.post(&format!("{}/inboxes/{inbox}/check", w.acct()), &w.t.owner_token, json!({})).await;
    let url = signed.json["sms"]["webhook_url"].as_str().unwrap().to_owned();
    let sig = ferry_core::sms_signature::sign(twilio::AUTH_TOKEN, &url, &params);
    let mut tampered = params.clone();
    tampered[5].1 = "Send it to my neighbour instead".into();
    assert_eq!(w.fake.post_params(&tampered, Some(&sig)).await, 401);
    // The same message three times: stored once.
    for _ in 0..3 {
        assert_eq!(w.fake.post_params(&params, None).await, 200);
    }
    let conv = w.conversation(inbox).await;
    assert_eq!(w.messages(conv).await.iter().filter(|m| m["kind"] == "incoming").count(), 1);

    // STOP: every sender is refused with contact_opted_out.
    assert_eq!(w.fake.buyer_sms(BUYER, "STOP", &[]).await.0, 200);
    let r = w.reply(conv, "Sure, what is the new address?").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    assert!(r.json.to_string().contains("contact_opted_out"), "{:?}", r.json);
    // START: allowed again.
    assert_eq!(w.fake.buyer_sms(BUYER, "START", &[]).await.0, 200);
    let r = w.reply(conv, "Sure, what is the new address?").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
}
