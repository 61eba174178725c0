//! Telegram end to end against the local Bot API stand-in, on SQLite and
//! PostgreSQL: the connection check points the bot's webhook at Ferry
//! with the inbox's secret token; a buyer's photo becomes a conversation
//! with the stored file; the bot asks with an inline keyboard; the buyer
//! presses a button (answered with answerCallbackQuery); an agent replies
//! and the message is "sent" from the API's answer. Edits keep the new
//! text with an edited marker; wrong secret tokens are refused;
//! re-deliveries store once; rate limits and blocked bots.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_sandbox::telegram::{self as tg, FakeBotApi};
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    a_buyer_is_answered_by_the_bot_and_an_agent,
    deliveries_need_the_secret_token_and_are_stored_once,
    rate_limits_wait_and_blocked_bots_fail_with_the_reason,
);

const BUYER: i64 = 5_550_123;
const SECRET: &str = "tg-secret-token-for-tests-42";

struct Tg {
    app: TestApp,
    t: Tenant,
    fake: FakeBotApi,
    inbox: i64,
}

impl Tg {
    fn acct(&self) -> String {
        format!("/api/v1/accounts/{}", self.t.account)
    }

    async fn messages(&self, conv: i64) -> Vec<Value> {
        let r = self.app.get(&format!("{}/conversations/{conv}/messages", self.acct()), &self.t.agent_token).await;
        r.json.as_array().unwrap().clone()
    }

    async fn conversation(&self) -> i64 {
        let r =
            self.app.get(&format!("{}/conversations?inbox_id={}", self.acct(), self.inbox), &self.t.agent_token).await;
        r.json["data"][0]["id"].as_i64().unwrap()
    }

    async fn text(&self, message_id: i64, text: &str) -> u16 {
        let u = tg::message_update(self.fake.next_update_id(), message_id, BUYER, "Ana", json!({ "text": text }));
        self.fake.post(&u).await
    }
}

async fn setup(b: Backend, bot: bool) -> Option<Tg> {
    let app = spawn_app(b).await?;
    let t = app.tenant("Telegram Shop").await;
    let fake = FakeBotApi::start().await.unwrap();
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/inboxes", t.account),
            &t.owner_token,
            json!({"name": "Telegram", "channel": "telegram", "config": {"bot_enabled": bot, "telegram": fake.settings(SECRET)}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let shown = r.json.to_string();
    assert!(!shown.contains(tg::BOT_TOKEN) && !shown.contains(SECRET), "secrets are never shown: {shown}");
    assert_eq!(r.json["config"]["telegram"]["bot_token_set"], json!(true));
    let inbox = r.json["id"].as_i64().unwrap();
    // The connection check sets the webhook with the secret token.
    let check =
        app.post(&format!("/api/v1/accounts/{}/inboxes/{inbox}/check", t.account), &t.owner_token, json!({})).await;
    assert_eq!(check.status, StatusCode::OK, "{:?}", check.json);
    assert_eq!(check.json["telegram"]["ok"], json!(true), "{:?}", check.json);
    assert_eq!(check.json["telegram"]["username"], tg::BOT_USERNAME);
    let (url, secret) = fake.webhook().unwrap();
    assert!(url.ends_with(&format!("/webhooks/telegram/{inbox}")), "{url}");
    assert_eq!(secret, SECRET);
    fake.deliver_to(&format!("{}/webhooks/telegram/{inbox}", app.base));
    Some(Tg { app, t, fake, inbox })
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    v.extend_from_slice(&[0u8; 32]);
    v
}

async fn a_buyer_is_answered_by_the_bot_and_an_agent(b: Backend) {
    let Some(w) = setup(b, true).await else { return };
    // A photo with the question as its caption: fetched with getFile.
    let file = w.fake.add_file(png(), "image/png");
    let photo = tg::message_update(
        w.fake.next_update_id(),
        1,
        BUYER,
        "Ana",
        json!({"photo": [{"file_id": file, "file_unique_id": "u", "width": 1, "height": 1}],
            "caption": "Where is my order?"}),
    );
    assert_eq!(w.fake.post(&photo).await, 200);
    let conv = w.conversation().await;
    let msgs = w.messages(conv).await;
    let image = &msgs[0]["parts"][0];
    assert_eq!(image["type"], "image", "{msgs:?}");
    let url = image["attachment"]["url"].as_str().unwrap();
    let stored = w
        .app
        .http
        .get(format!("{}{url}", w.app.base))
        .header("api_access_token", &w.t.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.bytes().await.unwrap().to_vec(), png(), "the photo is stored in Ferry");
    assert!(w.fake.calls().contains(&"getFile".to_owned()));

    // The bot asks with an inline keyboard.
    w.app.drain_jobs().await;
    w.app.drain_jobs().await;
    let sent = w.fake.sent();
    let asked = sent.iter().find(|m| !m.buttons.is_empty()).unwrap_or_else(|| panic!("no keyboard: {sent:?}"));
    assert_eq!(asked.chat_id, BUYER.to_string());
    assert_eq!(asked.method, "sendMessage");
    let (_, data) = asked.buttons[0].clone();

    // The buyer presses it: stored as the button's reply, answered, and the
    // bot hands the conversation to people.
    let press = tg::callback_update(w.fake.next_update_id(), "cbq-1", BUYER, "Ana", asked, &data);
    assert_eq!(w.fake.post(&press).await, 200);
    assert_eq!(w.fake.answered(), vec!["cbq-1".to_owned()]);
    w.app.drain_jobs().await;
    let c = w.app.get(&format!("{}/conversations/{conv}", w.acct()), &w.t.agent_token).await;
    assert_eq!(c.json["status"], "open", "{:?}", c.json);
    let msgs = w.messages(conv).await;
    let pressed = msgs.iter().find(|m| m["external_id"] == "callback:cbq-1").unwrap();
    assert_eq!(pressed["parts"][0]["text"], json!(asked.buttons[0].0), "{pressed:?}");

    // The buyer edits their first text: the new text is kept, marked.
    assert_eq!(w.text(2, "My order is 1001").await, 200);
    let mut edit = tg::message_update(w.fake.next_update_id(), 2, BUYER, "Ana", json!({"text": "My order is 1002"}));
    edit["edited_message"] = edit["message"].take();
    edit["edited_message"]["edit_date"] = json!(chrono::Utc::now().timestamp());
    edit.as_object_mut().unwrap().remove("message");
    assert_eq!(w.fake.post(&edit).await, 200);
    let msgs = w.messages(conv).await;
    let edited = msgs.iter().find(|m| m["external_id"] == format!("{BUYER}:2")).unwrap();
    assert_eq!(edited["parts"][0]["text"], "My order is 1002", "{edited:?}");
    assert!(edited["meta"]["edited_at"].is_string(), "{edited:?}");

    // An agent replies: "sent" from the Bot API's answer.
    let before = w.fake.sent().len();
    let r = w
        .app
        .post(
            &format!("{}/conversations/{conv}/messages", w.acct()),
            &w.t.agent_token,
            json!({"content": "Hi Ana, it left today."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let mid = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let sent = w.fake.sent();
    assert_eq!(sent.len(), before + 1);
    let reply = sent.last().unwrap();
    assert_eq!(reply.text.as_deref(), Some("Hi Ana, it left today."));
    let m = w.messages(conv).await.into_iter().find(|m| m["id"].as_i64() == Some(mid)).unwrap();
    assert_eq!(m["delivery"]["state"], "sent", "{m:?}");
    assert_eq!(m["external_id"], format!("{BUYER}:{}", reply.message_id));
}

async fn deliveries_need_the_secret_token_and_are_stored_once(b: Backend) {
    let Some(w) = setup(b, false).await else { return };
    let update = tg::message_update(77, 10, BUYER, "Omar", json!({"text": "Can I change the address?"}));
    assert_eq!(w.fake.post_with(&update, Some("tg-secret-token-for-tests-43")).await, 401);
    assert_eq!(w.fake.post_with(&update, Some("")).await, 401);
    let r = w
        .app
        .http
        .post(format!("{}/webhooks/telegram/{}", w.app.base, w.inbox))
        .header("x-telegram-bot-api-secret-token", "wrong")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("Secret-Token"), "{e:?}");
    // The same update five times at once: one message.
    let all = futures::future::join_all((0..5).map(|_| w.fake.post(&update))).await;
    assert!(all.iter().all(|s| *s == 200), "{all:?}");
    let conv = w.conversation().await;
    let msgs = w.messages(conv).await;
    assert_eq!(msgs.iter().filter(|m| m["kind"] == "incoming").count(), 1, "{msgs:?}");
    // A group message and a member change: acknowledged, not stored.
    let mut group = tg::message_update(78, 11, BUYER, "Omar", json!({"text": "hello group"}));
    group["message"]["chat"] = json!({"id": -100_123, "type": "supergroup", "title": "Fans"});
    assert_eq!(w.fake.post(&group).await, 200);
    assert_eq!(w.fake.post(&json!({"update_id": 79, "my_chat_member": {}})).await, 200);
    assert_eq!(w.messages(conv).await.len(), msgs.len());
    // Not a Telegram update.
    let bad = w
        .app
        .http
        .post(format!("{}/webhooks/telegram/{}", w.app.base, w.inbox))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

async fn rate_limits_wait_and_blocked_bots_fail_with_the_reason(b: Backend) {
    let Some(w) = setup(b, false).await else { return };
    assert_eq!(w.text(1, "Hello?").await, 200);
    let conv = w.conversation().await;
    let path = format!("{}/conversations/{conv}/messages", w.acct());
    // The buyer blocked the bot: failed for good, with the reason.
    w.fake.block(BUYER);
    let r = w.app.post(&path, &w.t.agent_token, json!({"content": "Are you there?"})).await;
    let blocked = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let m = w.messages(conv).await.into_iter().find(|m| m["id"].as_i64() == Some(blocked)).unwrap();
    assert_eq!(m["delivery"]["state"], "failed", "{m:?}");
    assert!(m["delivery"]["reason"].as_str().unwrap().contains("blocked"), "{m:?}");
    // Unblocked, then a 429 with retry_after: not sent yet, not failed
    // (and what follows in the conversation waits behind it).
    w.fake.unblock(BUYER);
    w.fake.rate_limit_once(30);
    let r = w.app.post(&path, &w.t.agent_token, json!({"content": "One moment"})).await;
    let mid = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    assert!(w.fake.sent().is_empty());
    let m = w.messages(conv).await.into_iter().find(|m| m["id"].as_i64() == Some(mid)).unwrap();
    assert_ne!(m["delivery"]["state"], "failed", "{m:?}");
}
