//! Messenger and Instagram end to end against the local Graph API
//! stand-in, on SQLite and PostgreSQL: the connection check (page name,
//! subscription) and Meta's handshake; a buyer's text and photo become a
//! conversation with the stored file; the bot asks with buttons and the
//! buyer presses one; an agent's reply is sent as a `RESPONSE`, its echo
//! (which arrives before the send's answer) is not stored twice, and the
//! buyer's delivery and read watermarks reach it; what the page writes
//! from Meta's own inbox is kept once; the 24-hour window and the
//! `HUMAN_AGENT` tag; Instagram story replies, unsent messages, files
//! uploaded with the Attachment Upload API, and refused signatures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use ferry_sandbox::meta_pages::{self as meta, FakePages};
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    a_messenger_buyer_is_answered_by_the_bot_and_an_agent,
    the_window_closes_and_the_human_agent_tag_extends_it,
    instagram_story_replies_unsent_messages_and_files,
    an_instagram_buyer_is_answered_by_the_bot_and_an_agent,
);

const BUYER: &str = "7310000000000001";
const VERIFY: &str = "meta-verify-token-for-tests-01";

struct Page {
    app: TestApp,
    t: Tenant,
    fake: FakePages,
    inbox: i64,
    platform: &'static str,
}

impl Page {
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

    async fn reply(&self, conv: i64, body: Value) -> Answer {
        self.app.post(&format!("{}/conversations/{conv}/messages", self.acct()), &self.t.agent_token, body).await
    }

    async fn message(&self, conv: i64, id: i64) -> Value {
        self.messages(conv).await.into_iter().find(|m| m["id"].as_i64() == Some(id)).unwrap()
    }
}

async fn setup(b: Backend, instagram: bool, bot: bool) -> Option<Page> {
    let app = spawn_app(b).await?;
    let t = app.tenant("Meta Shop").await;
    let fake = FakePages::start().await.unwrap();
    let platform = if instagram { "instagram" } else { "messenger" };
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/inboxes", t.account),
            &t.owner_token,
            json!({"name": platform, "channel": platform,
                "config": {"bot_enabled": bot, platform: fake.settings(instagram, VERIFY, false)}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let shown = r.json.to_string();
    assert!(
        !shown.contains(meta::ACCESS_TOKEN) && !shown.contains(meta::APP_SECRET),
        "secrets are never shown: {shown}"
    );
    assert_eq!(r.json["config"][platform]["access_token_set"], json!(true));
    let inbox = r.json["id"].as_i64().unwrap();

    // The connection check reads the page and subscribes Ferry's app.
    let check =
        app.post(&format!("/api/v1/accounts/{}/inboxes/{inbox}/check", t.account), &t.owner_token, json!({})).await;
    assert_eq!(check.status, StatusCode::OK, "{:?}", check.json);
    assert_eq!(check.json["meta"]["ok"], json!(true), "{:?}", check.json);
    let name = if instagram { format!("@{}", meta::INSTAGRAM_USERNAME) } else { meta::PAGE_NAME.to_owned() };
    assert_eq!(check.json["meta"]["name"], json!(name));
    assert!(check.json["meta"]["webhook_url"].as_str().unwrap().ends_with(&format!("/webhooks/{platform}/{inbox}")));
    assert!(fake.subscriptions().last().unwrap().contains("messages"));

    // Meta's handshake: the challenge echoed for the inbox's token only.
    let hook = format!("{}/webhooks/{platform}/{inbox}", app.base);
    let ok = app
        .http
        .get(format!("{hook}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = app
        .http
        .get(format!("{hook}?hub.mode=subscribe&hub.verify_token=not-the-token-at-all&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    fake.set_webhook(platform, &hook);

    // A body changed after Meta signed it is refused, and nothing is kept.
    let object = if instagram { "instagram" } else { "page" };
    let signed = json!({"object": object, "entry": []}).to_string();
    let signature = ferry_core::signature::sign(meta::APP_SECRET.as_bytes(), signed.as_bytes());
    let tampered = signed.replace("[]", r#"[{"id": "1", "messaging": []}]"#);
    let r = app.http.post(&hook).header("x-hub-signature-256", signature).body(tampered).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    Some(Page { app, t, fake, inbox, platform })
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    v.extend_from_slice(&[0u8; 32]);
    v
}

async fn a_messenger_buyer_is_answered_by_the_bot_and_an_agent(b: Backend) {
    let Some(w) = setup(b, false, true).await else { return };
    w.fake.set_buyer_name(BUYER, "Lucía", "Fernández");
    // The same message delivered twice is stored once.
    let (mid, _) = w.fake.buyer_message("messenger", BUYER, json!({"text": "Where is my order?"})).await;
    let again = w.fake.buyer_message("messenger", BUYER, json!({"mid": mid, "text": "Where is my order?"})).await;
    assert_eq!(again.1, 200);
    let conv = w.conversation().await;
    let msgs = w.messages(conv).await;
    assert_eq!(msgs.iter().filter(|m| m["external_id"] == mid.as_str()).count(), 1, "{msgs:?}");

    // The bot asks with buttons (a button template or quick replies).
    w.app.drain_jobs().await;
    w.app.drain_jobs().await;
    let sent = w.fake.sent();
    let asked = sent
        .iter()
        .find(|m| m.message.get("quick_replies").is_some() || m.message.get("attachment").is_some())
        .unwrap_or_else(|| panic!("no buttons: {sent:?}"));
    assert_eq!((asked.to.as_str(), asked.messaging_type.as_str()), (BUYER, "RESPONSE"));
    let first = asked
        .message
        .pointer("/attachment/payload/buttons/0")
        .or_else(|| asked.message.pointer("/quick_replies/0"))
        .unwrap()
        .clone();
    let (title, payload) = (first["title"].as_str().unwrap(), first["payload"].as_str().unwrap());
    // Every message the bot sent is stored once although Meta echoed it.
    let msgs = w.messages(conv).await;
    for s in &sent {
        assert_eq!(msgs.iter().filter(|m| m["external_id"] == s.mid.as_str()).count(), 1, "{s:?} in {msgs:?}");
    }

    // The buyer presses the first button: stored as its title.
    assert_eq!(w.fake.buyer_presses("messenger", BUYER, title, payload).await, 200);
    w.app.drain_jobs().await;
    let msgs = w.messages(conv).await;
    let pressed = msgs.iter().rev().find(|m| m["kind"] == "incoming").unwrap();
    assert_eq!(pressed["parts"][0]["text"], json!(title), "{pressed:?}");

    // A photo from the CDN: fetched and stored.
    let url = w.fake.add_file("parcel.png", png(), "image/png");
    let (_, status) = w
        .fake
        .buyer_message("messenger", BUYER, json!({"attachments": [{"type": "image", "payload": {"url": url}}]}))
        .await;
    assert_eq!(status, 200);
    let msgs = w.messages(conv).await;
    let image = &msgs.iter().rev().find(|m| m["kind"] == "incoming").unwrap()["parts"][0];
    assert_eq!(image["type"], "image", "{msgs:?}");
    let stored = w
        .app
        .http
        .get(format!("{}{}", w.app.base, image["attachment"]["url"].as_str().unwrap()))
        .header("api_access_token", &w.t.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.bytes().await.unwrap().to_vec(), png(), "the photo is stored in Ferry");

    // An agent replies: a RESPONSE, sent, its echo not stored again.
    let r = w.reply(conv, json!({"content": "Hi! It left our warehouse today."})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let reply = w.fake.sent().last().unwrap().clone();
    assert_eq!(reply.message["text"], "Hi! It left our warehouse today.");
    assert_eq!(reply.messaging_type, "RESPONSE");
    assert_eq!(reply.message["metadata"], format!("ferry:{id}"));
    let m = w.message(conv, id).await;
    assert_eq!((m["delivery"]["state"].as_str(), m["external_id"].as_str()), (Some("sent"), Some(reply.mid.as_str())));
    let msgs = w.messages(conv).await;
    assert_eq!(msgs.iter().filter(|m| m["external_id"] == reply.mid.as_str()).count(), 1);

    // The buyer's app reports it delivered and read (watermarks), and the
    // buyer reacts to it.
    assert_eq!(w.fake.buyer_reads("messenger", BUYER).await, 200);
    assert_eq!(w.message(conv, id).await["delivery"]["state"], "read");
    let reaction = json!({"reaction": {"mid": reply.mid, "action": "react", "reaction": "love", "emoji": "❤️"}});
    assert_eq!(w.fake.post_event("messenger", BUYER, reaction).await, 200);
    let m = w.message(conv, id).await;
    assert_eq!(m["meta"]["reactions"][0]["emoji"], "❤️", "{m:?}");

    // Someone answers from Meta's own inbox: kept as the page's message,
    // once however often Meta delivers the echo.
    let (page_mid, status) = w.fake.page_writes("messenger", BUYER, "Sent you the tracking link by e-mail too").await;
    assert_eq!(status, 200);
    let echo = json!({"sender": {"id": meta::PAGE_ID}, "recipient": {"id": BUYER},
        "message": {"mid": page_mid, "is_echo": true, "text": "Sent you the tracking link by e-mail too"}});
    assert_eq!(w.fake.post_event("messenger", meta::PAGE_ID, echo).await, 200);
    let msgs = w.messages(conv).await;
    let kept: Vec<_> = msgs.iter().filter(|m| m["external_id"] == page_mid.as_str()).collect();
    assert_eq!(kept.len(), 1, "{msgs:?}");
    assert_eq!(kept[0]["kind"], "outgoing");
    assert_eq!(kept[0]["delivery"]["state"], "sent");
}

async fn the_window_closes_and_the_human_agent_tag_extends_it(b: Backend) {
    let Some(w) = setup(b, false, false).await else { return };
    let (_, status) = w.fake.buyer_message_ago("messenger", BUYER, "Is the blue one back?", Duration::hours(25)).await;
    assert_eq!(status, 200);
    let conv = w.conversation().await;

    // 25 hours later, without the human agent tag: refused by the gate,
    // with the rule and what would help.
    let r = w.reply(conv, json!({"content": "Yes, since this morning!"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    let shown = r.json.to_string();
    assert!(shown.contains("messenger.window_closed"), "{shown}");
    let check = w
        .app
        .post(
            &format!("{}/compliance/check", w.acct()),
            &w.t.agent_token,
            json!({"conversation_id": conv, "text": "Hi"}),
        )
        .await;
    assert!(check.json.to_string().contains("messenger.window_closed"), "{:?}", check.json);

    // The page gets the Human Agent permission and the inbox says so: an
    // agent's reply goes out tagged.
    w.fake.grant_human_agent(true);
    let inbox = w.app.get(&format!("{}/inboxes/{}", w.acct(), w.inbox), &w.t.owner_token).await;
    let mut config = inbox.json["config"].clone();
    config["messenger"]["human_agent"] = json!(true);
    let patched = w
        .app
        .call(
            reqwest::Method::PATCH,
            &format!("{}/inboxes/{}", w.acct(), w.inbox),
            Some(&w.t.owner_token),
            Some(json!({"config": config})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.json);
    assert_eq!(patched.json["config"]["messenger"]["access_token_set"], json!(true), "the token is kept");
    let check = w
        .app
        .post(
            &format!("{}/compliance/check", w.acct()),
            &w.t.agent_token,
            json!({"conversation_id": conv, "text": "Hi"}),
        )
        .await;
    assert!(!check.json.to_string().contains("window_closed"), "{:?}", check.json);
    let r = w.reply(conv, json!({"content": "Yes, since this morning!"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let sent = w.fake.sent().last().unwrap().clone();
    assert_eq!((sent.messaging_type.as_str(), sent.tag.as_deref()), ("MESSAGE_TAG", Some("HUMAN_AGENT")));
    assert_eq!(w.message(conv, id).await["delivery"]["state"], "sent");

    // Meta refuses anyway (the permission was withdrawn): failed for good
    // with Meta's reason.
    w.fake.fail_next(400, 10, Some(2_018_278), "(#10) This message is sent outside of allowed window.");
    let r = w.reply(conv, json!({"content": "One more thing"})).await;
    let id = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let m = w.message(conv, id).await;
    assert_eq!(m["delivery"]["state"], "failed", "{m:?}");
    assert!(m["delivery"]["reason"].as_str().unwrap().contains("24 hours"), "{m:?}");

    // Eight days after the buyer wrote, no tag helps.
    let (_, status) = w.fake.buyer_message_ago("messenger", "7310000000000002", "Hello?", Duration::days(8)).await;
    assert_eq!(status, 200);
    let r = w.app.get(&format!("{}/conversations?inbox_id={}", w.acct(), w.inbox), &w.t.agent_token).await;
    let other =
        r.json["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).find(|c| *c != conv).unwrap();
    let r = w.reply(other, json!({"content": "Sorry for the wait"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
}

async fn instagram_story_replies_unsent_messages_and_files(b: Backend) {
    let Some(w) = setup(b, true, false).await else { return };
    assert_eq!(w.platform, "instagram");
    // A reply to the shop's story, with the story's link kept.
    let story = json!({"text": "Do you ship this to Chile?",
        "reply_to": {"story": {"url": "https://lookaside.example/story/991", "id": "991"}}});
    let (mid, status) = w.fake.buyer_message("instagram", BUYER, story).await;
    assert_eq!(status, 200);
    let conv = w.conversation().await;
    let msgs = w.messages(conv).await;
    let first = msgs.iter().find(|m| m["external_id"] == mid.as_str()).unwrap();
    assert_eq!(first["parts"][0]["text"], "Replied to your story: https://lookaside.example/story/991");
    assert_eq!(first["parts"][1]["text"], "Do you ship this to Chile?");

    // A message the buyer sends and then unsends: marked deleted.
    let (oops, _) = w.fake.buyer_message("instagram", BUYER, json!({"text": "my phone is +56 9 1234 5678"})).await;
    let unsend = json!({"message": {"mid": oops, "is_deleted": true}});
    assert_eq!(w.fake.post_event("instagram", BUYER, unsend).await, 200);
    let msgs = w.messages(conv).await;
    let gone = msgs.iter().find(|m| m["external_id"] == oops.as_str()).unwrap();
    assert!(gone["meta"]["deleted_at"].is_string(), "{gone:?}");

    // An agent answers with a photo: uploaded, then sent by its id.
    let up = w.app.post_bytes(&format!("{}/attachments", w.acct()), &w.t.agent_token, "image/png", png()).await;
    assert_eq!(up.status, StatusCode::CREATED, "{:?}", up.json);
    let r = w
        .reply(conv, json!({"content": "Yes! Here it is packed.", "parts": [{"type": "image", "attachment": up.json}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let sent = w.fake.sent();
    let photo = sent.iter().find(|s| s.message.get("attachment").is_some()).unwrap();
    let attachment_id = photo.message.pointer("/attachment/payload/attachment_id").unwrap().as_str().unwrap();
    assert_eq!(w.fake.upload(attachment_id).unwrap().0, png());
    assert_eq!(photo.platform, "instagram");
    assert!(sent.iter().any(|s| s.message["text"] == "Yes! Here it is packed."), "{sent:?}");
    let m = w.message(conv, id).await;
    assert_eq!(m["delivery"]["state"], "sent", "{m:?}");
    // The echoes (Ferry's app id) are not kept as new messages.
    let msgs = w.messages(conv).await;
    assert_eq!(msgs.iter().filter(|m| m["kind"] == "outgoing").count(), 1, "{msgs:?}");

    // A delivery with a wrong signature or for the other platform.
    let body = json!({"object": "instagram", "entry": []}).to_string();
    let hook = format!("{}/webhooks/instagram/{}", w.app.base, w.inbox);
    let bad =
        w.app.http.post(&hook).header("x-hub-signature-256", "sha256=00").body(body.clone()).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let page = json!({"object": "page", "entry": []}).to_string();
    let signed = ferry_core::signature::sign(meta::APP_SECRET.as_bytes(), page.as_bytes());
    let wrong = w.app.http.post(&hook).header("x-hub-signature-256", signed).body(page).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    // The Messenger path does not take an Instagram inbox.
    let other = w
        .app
        .http
        .get(format!("{}/webhooks/messenger/{}?hub.mode=subscribe", w.app.base, w.inbox))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

async fn an_instagram_buyer_is_answered_by_the_bot_and_an_agent(b: Backend) {
    let Some(w) = setup(b, true, true).await else { return };
    let (_, status) = w.fake.buyer_message("instagram", BUYER, json!({"text": "Where is my order?"})).await;
    assert_eq!(status, 200);
    let conv = w.conversation().await;
    // The bot asks with quick replies (Instagram has no button template).
    w.app.drain_jobs().await;
    w.app.drain_jobs().await;
    let sent = w.fake.sent();
    let asked = sent.iter().find(|m| m.message.get("quick_replies").is_some()).unwrap_or_else(|| panic!("{sent:?}"));
    assert_eq!(asked.platform, "instagram");
    let first = asked.message["quick_replies"][0].clone();
    // The buyer taps the first quick reply: a message carrying its payload.
    let tap = json!({"text": first["title"], "quick_reply": {"payload": first["payload"]}});
    assert_eq!(w.fake.buyer_message("instagram", BUYER, tap).await.1, 200);
    w.app.drain_jobs().await;
    let msgs = w.messages(conv).await;
    let tapped = msgs.iter().rev().find(|m| m["kind"] == "incoming").unwrap();
    assert_eq!(tapped["parts"][0]["text"], first["title"], "{tapped:?}");
    // A photo of the parcel, fetched from the CDN.
    let url = w.fake.add_file("label.png", png(), "image/png");
    let photo = json!({"attachments": [{"type": "image", "payload": {"url": url}}]});
    assert_eq!(w.fake.buyer_message("instagram", BUYER, photo).await.1, 200);
    let msgs = w.messages(conv).await;
    assert_eq!(msgs.iter().rev().find(|m| m["kind"] == "incoming").unwrap()["parts"][0]["type"], "image");
    // An agent answers; Instagram reports it read by its id.
    let r = w.reply(conv, json!({"content": "Thanks! It is with the courier."})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    w.app.drain_jobs().await;
    let reply = w.fake.sent().last().unwrap().clone();
    assert_eq!(reply.message["text"], "Thanks! It is with the courier.");
    assert_eq!(w.message(conv, id).await["delivery"]["state"], "sent");
    assert_eq!(w.fake.post_event("instagram", BUYER, json!({"read": {"mid": reply.mid}})).await, 200);
    assert_eq!(w.message(conv, id).await["delivery"]["state"], "read");
}
