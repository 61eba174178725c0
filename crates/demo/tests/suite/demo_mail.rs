//! The demo's mail end to end, against the real `ferry-demo` program on a
//! free port with a fresh data directory: a buyer's mail forwarded to the
//! e-mail inbox's webhook becomes a conversation, the agent's reply goes
//! out over SMTP, and the sink page shows it, threaded and readable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::Demo;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn a_forwarded_mail_is_answered_and_the_reply_reaches_the_sink() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let demo = Demo::start();
    let base = demo.base();
    let account = demo.line("account_id").to_owned();
    let token = demo.line("api_access_token").to_owned();
    let (inbox, secret) = demo.inbox("email_inbox");
    let (amazon, _) = demo.inbox("amazon_inbox");
    let http = reqwest::Client::new();
    let api = |path: String| format!("{base}/api/v1/accounts/{account}/{path}");

    // The seeded mail is there: the Amazon buyer's conversation names his
    // order.
    let seeded: Value = http
        .get(api(format!("conversations?inbox_id={amazon}")))
        .header("api_access_token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let amazon_conversation = seeded["data"][0]["id"].as_i64().expect("a seeded Amazon conversation");
    let amazon_messages: Value = http
        .get(api(format!("conversations/{amazon_conversation}/messages")))
        .header("api_access_token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(amazon_messages.to_string().contains("302-1234567-7654321"), "{amazon_messages}");

    // A buyer's mail, forwarded to the webhook: refused unsigned, taken
    // signed.
    let raw = "From: Ana López <ana.lopez@example.es>\r\nTo: support@shop.demo.ferry.test\r\n\
               Subject: Pedido #1003\r\nMessage-ID: <demo-test-1@example.es>\r\n\
               Date: Fri, 4 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
               Hola, ¿cuándo llega mi pedido #1003?\r\n";
    let url = format!("{base}/webhooks/email/{inbox}");
    let unsigned = http.post(&url).header("x-ferry-signature", sign("wrong", raw.as_bytes())).body(raw).send();
    assert_eq!(unsigned.await.unwrap().status(), reqwest::StatusCode::UNAUTHORIZED);
    let r = http.post(&url).header("x-ferry-signature", sign(&secret, raw.as_bytes())).body(raw).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let ack: Value = r.json().await.unwrap();
    let conversation = ack["conversation_id"].as_i64().unwrap();

    let got: Value = http
        .get(api(format!("conversations/{conversation}")))
        .header("api_access_token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["inbox_id"].as_i64(), Some(inbox), "{got}");
    let messages: Value = http
        .get(api(format!("conversations/{conversation}/messages")))
        .header("api_access_token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(messages.to_string().contains("¿cuándo llega mi pedido #1003?"), "{messages}");

    // The agent answers; the mail leaves through the sink.
    let reply = "Hola Ana, tu pedido #1003 salió hoy con DHL.";
    let r = http
        .post(api(format!("conversations/{conversation}/messages")))
        .header("api_access_token", &token)
        .json(&json!({"content": reply}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{:?}", r.text().await);
    let page_url = demo.line("mail_sink").to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let page = http.get(&page_url).send().await.unwrap().text().await.unwrap();
        if page.contains(reply) || Instant::now() > deadline {
            break page;
        }
        // The delivery job runs in the demo's own worker: look again.
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(page.contains(reply), "the reply is not on the sink page:\n{page}");
    assert!(page.contains("Re: Pedido #1003"), "{page}");
    assert!(page.contains("In-Reply-To: &lt;demo-test-1@example.es&gt;"), "threaded under the buyer's mail:\n{page}");
    assert!(page.contains("ana.lopez@example.es"), "{page}");
}

/// What a new user meets first: the demo shop page shows the products the
/// seeded orders are made of, the chat's first message gets the bot, and
/// no seeded order is dated in the future.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_visitor_meets_the_catalogue_and_the_bot() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let demo = Demo::start();
    let base = demo.base();
    let http = reqwest::Client::new();
    let page_url = demo.line("demo shop with the chat widget").to_owned();
    let page = http.get(&page_url).send().await.unwrap().text().await.unwrap();
    for product in ["Linen Summer Dress", "Everyday Tee", "Trail Sneakers", "Canvas Backpack"] {
        assert!(page.contains(product), "{product} is not on the shop page:\n{page}");
    }
    assert!(!page.contains("Silk scarf"), "{page}");

    let inbox = page_url.split('/').rev().nth(1).unwrap().to_owned();
    let s: Value = http
        .post(format!("{base}/widget/{inbox}/sessions"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = s["token"].as_str().unwrap().to_owned();
    let r = http
        .post(format!("{base}/widget/{inbox}/messages"))
        .header("x-visitor-token", &token)
        .json(&json!({"client_id": "first", "text": "Hi, where is my order?", "language": "en"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let deadline = Instant::now() + Duration::from_secs(30);
    let answered = loop {
        let list: Value = http
            .get(format!("{base}/widget/{inbox}/messages"))
            .header("x-visitor-token", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bot = list.as_array().unwrap().iter().any(|m| m["author"] == "bot");
        if bot || Instant::now() > deadline {
            break bot;
        }
        // The bot runs in the demo's own worker: look again.
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(answered, "the bot did not answer the first message");

    let account = demo.line("account_id").to_owned();
    let token = demo.line("api_access_token").to_owned();
    let orders: Value = http
        .get(format!("{base}/api/v1/accounts/{account}/orders?limit=100"))
        .header("api_access_token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let orders = orders.as_array().or_else(|| orders["items"].as_array()).unwrap().clone();
    assert!(orders.len() >= 8, "{orders:?}");
    let now = chrono::Utc::now() + chrono::Duration::minutes(1);
    for o in &orders {
        let shipments = o["fulfillments"].as_array().cloned().unwrap_or_default();
        for item in std::iter::once(o).chain(shipments.iter()) {
            for key in ["created_at", "updated_at", "shipped_at", "delivered_at"] {
                if let Some(t) = item[key].as_str() {
                    let t: chrono::DateTime<chrono::Utc> = t.parse().unwrap();
                    assert!(t <= now, "order {} has {key} in the future: {t}", o["number"]);
                }
            }
        }
    }
}
