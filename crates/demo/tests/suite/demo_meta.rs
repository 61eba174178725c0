//! The demo's Messenger and Instagram inboxes end to end, against the real
//! `ferry-demo` program: a buyer writes on the sandbox's Messenger page,
//! the message reaches the Messenger inbox through a signed webhook, an
//! agent answers through the API, and the page shows the answer as sent
//! with `RESPONSE`. The seeded Instagram story reply is there too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::Demo;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_messenger_buyer_writes_on_the_sandbox_page_and_an_agent_answers() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let demo = Demo::start();
    let base = demo.base();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (messenger, _) = demo.inbox("messenger_inbox");
    let (instagram, _) = demo.inbox("instagram_inbox");
    let page = demo.line("meta_app").to_owned();
    let account = demo.line("account_id").to_owned();
    let token = demo.line("api_access_token").to_owned();
    let api = format!("{base}/api/v1/accounts/{account}");
    let list = |inbox: i64| {
        let http = http.clone();
        let url = format!("{api}/conversations?inbox_id={inbox}&status=all");
        let token = token.clone();
        async move {
            let r: Value = http.get(url).header("api_access_token", token).send().await.unwrap().json().await.unwrap();
            r["data"].as_array().cloned().unwrap_or_default()
        }
    };
    // The seeded Instagram buyer replied to a story.
    let seeded = list(instagram).await;
    assert!(!seeded.is_empty(), "no Instagram conversation was seeded");

    // A new buyer writes on the sandbox's Messenger page.
    let r = http
        .post(&page)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("platform", "messenger")
                .append_pair("from", "7310000000000999")
                .append_pair("name", "Ana Pereira")
                .append_pair("text", "Olá, quando chega o meu pedido?")
                .finish(),
        )
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("status=200"), "{location}");
    // Stored before the webhook was answered: the newest conversation.
    let conv = list(messenger).await.into_iter().max_by_key(|c| c["id"].as_i64()).unwrap();
    let id = conv["id"].as_i64().unwrap();
    let msgs: Value = http
        .get(format!("{api}/conversations/{id}/messages"))
        .header("api_access_token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(msgs.to_string().contains("quando chega o meu pedido"), "{msgs}");

    // An agent answers; the page shows it sent.
    let r = http
        .post(format!("{api}/conversations/{id}/messages"))
        .header("api_access_token", &token)
        .json(&json!({"content": "Olá Ana! Chega na sexta-feira."}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let html = http.get(&page).send().await.unwrap().text().await.unwrap();
        if html.contains("Chega na sexta-feira") {
            assert!(html.contains("RESPONSE"), "{html}");
            break;
        }
        assert!(Instant::now() < deadline, "the answer never reached the page:\n{html}");
        // The delivery runs in the demo's own worker: look again.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
