//! The demo's Telegram and SMS inboxes end to end, against the real
//! `ferry-demo` program: a buyer writes on the sandbox phone by Telegram
//! and by SMS; each message reaches its inbox through the stand-in's
//! signed webhook, the bot answers the Telegram buyer, an agent answers the
//! SMS buyer, and the phone page shows both answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::Demo;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn form(pairs: &[(&str, &str)]) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish()
}

#[tokio::test]
async fn telegram_and_sms_buyers_write_on_the_sandbox_phone_and_are_answered() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let demo = Demo::start();
    let base = demo.base();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (telegram, secret) = demo.inbox("telegram_inbox");
    assert!(secret.len() >= 16, "the secret token: {secret}");
    let sms_line = demo.line("sms_inbox").to_owned();
    let mut sms_parts = sms_line.split(' ');
    let sms: i64 = sms_parts.next().unwrap().parse().unwrap();
    assert!(sms_parts.nth(1).unwrap().ends_with(&format!("/webhooks/sms/{sms}")), "{sms_line}");
    let phone = demo.line("buyer_phone").to_owned();
    let account = demo.line("account_id").to_owned();
    let token = demo.line("api_access_token").to_owned();
    let api = format!("{base}/api/v1/accounts/{account}");
    let write = |channel: &'static str, from: &'static str, text: &'static str| {
        let (http, phone) = (http.clone(), phone.clone());
        async move {
            let r = http
                .post(&phone)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[("channel", channel), ("from", from), ("name", "Ana Lima"), ("text", text)]))
                .send()
                .await
                .unwrap();
            r.headers()["location"].to_str().unwrap().to_owned()
        }
    };
    let newest = |inbox: i64| {
        let (http, token, url) =
            (http.clone(), token.clone(), format!("{api}/conversations?inbox_id={inbox}&status=all"));
        async move {
            let r: Value = http.get(url).header("api_access_token", token).send().await.unwrap().json().await.unwrap();
            r["data"].as_array().unwrap().iter().filter_map(|c| c["id"].as_i64()).max()
        }
    };

    assert!(write("telegram", "5550001", "Where is my order?").await.ends_with("status=200"));
    assert!(newest(telegram).await.is_some(), "the Telegram message opened a conversation");
    assert!(write("sms", "+34600123456", "Hola, ¿mi pedido?").await.ends_with("status=200"));
    let conv = newest(sms).await.expect("the SMS opened a conversation");
    let r = http
        .post(format!("{api}/conversations/{conv}/messages"))
        .header("api_access_token", &token)
        .json(&json!({"content": "Hola Ana, sale mañana."}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);

    // The bot (Telegram) and the agent (SMS) are answered on the phone.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let html = http.get(&phone).send().await.unwrap().text().await.unwrap();
        let telegram_answered = html.contains("<td>Telegram</td><td>5550001</td>");
        if telegram_answered && html.contains("sale mañana") {
            break;
        }
        assert!(Instant::now() < deadline, "the answers never reached the phone:\n{html}");
        // The bot and the deliveries run in the demo's own worker.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
