//! Translation for agents through the API, on both stores, against the
//! sandbox's LibreTranslate- and DeepL-compatible service: a Spanish
//! buyer's message read by a Chinese agent (translated once, kept on the
//! message), the agent's reply checked in Spanish and sent with both
//! versions stored, the provider's settings guarded and its key never
//! shown, and a failing or silent provider answered with a clear error
//! and nothing stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_app::NewAgent;
use ferry_core::account::Role;
use ferry_sandbox::translate::{API_KEY, TranslateSink};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(a_spanish_buyer_and_a_chinese_agent_read_each_other, provider_settings_are_guarded_and_failures_are_clear);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// A Chinese-speaking agent of the tenant; returns their token.
async fn chinese_agent(app: &TestApp, t: &Tenant) -> String {
    let new = NewAgent {
        name: "Li Wei".into(),
        email: format!("li.wei.{}@shop.example", t.account.0),
        password: "li-wei-password".into(),
        role: Role::Agent,
        languages: vec!["zh".into()],
    };
    let user = app.app.create_user(t.account, new).await.unwrap();
    app.app.issue_token(&user, "tests").await.unwrap()
}

async fn set_provider(app: &TestApp, t: &Tenant, body: Value) -> Answer {
    app.call(Method::PUT, &format!("{}/translation", acct(t)), Some(&t.owner_token), Some(body)).await
}

async fn spanish_buyer_writes(app: &TestApp, t: &Tenant, ext: &str, text: &str) -> (i64, i64) {
    let mut m = buyer_message(ext, "lucia", text);
    m["sender"]["language"] = json!("es");
    let r = app.webhook(t, &m).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let conv = r.json["conversation_id"].as_i64().unwrap();
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(t)), &t.owner_token).await;
    let id = msgs
        .json
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["text"] == text)
        .and_then(|m| m["id"].as_i64())
        .expect("the buyer's message is stored");
    (conv, id)
}

async fn a_spanish_buyer_and_a_chinese_agent_read_each_other(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let sink = TranslateSink::start().await.unwrap();
    let t = app.tenant("Lin Tea").await;
    let li = chinese_agent(&app, &t).await;
    let r = set_provider(
        &app,
        &t,
        json!({ "provider": "libretranslate", "base_url": sink.base_url(), "api_key": API_KEY }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(app.get(&format!("{}/translation/status", acct(&t)), &li).await.json["enabled"], true);

    let (conv, msg) = spanish_buyer_writes(&app, &t, "m-1", "¿Dónde está mi pedido?").await;
    let path = format!("{}/conversations/{conv}/messages/{msg}/translate", acct(&t));
    let r = app.post(&path, &li, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["text"], "¿Dónde está mi pedido?", "the original stays");
    let tr = &r.json["meta"]["translations"][0];
    assert_eq!((tr["language"].as_str(), tr["text"].as_str()), (Some("zh"), Some("我的订单在哪里？")));
    assert_eq!((tr["source_language"].as_str(), tr["provider"].as_str()), (Some("es"), Some("libretranslate")));
    // Asked again (or by a colleague): the kept translation, no new request.
    let calls = sink.calls();
    let again = app.post(&path, &li, json!({})).await;
    assert_eq!(again.json["meta"]["translations"], r.json["meta"]["translations"]);
    assert_eq!(sink.calls(), calls);
    // Into English for another agent: a second translation beside the first.
    let en = app.post(&path, &t.agent_token, json!({ "to": "en-GB" })).await;
    assert_eq!(en.json["meta"]["translations"][1]["text"], "Where is my order?");
    let listed = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &li).await;
    let stored = listed.json.as_array().unwrap().iter().find(|m| m["id"] == msg).cloned().unwrap();
    assert_eq!(stored["meta"]["translations"].as_array().unwrap().len(), 2, "kept on the message");

    // The reply: written in Chinese, checked in Spanish, sent with both.
    let draft = app
        .post(
            &format!("{}/conversations/{conv}/translate_draft", acct(&t)),
            &li,
            json!({ "text": "您的订单已经发货了。" }),
        )
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{:?}", draft.json);
    assert_eq!(
        (draft.json["text"].as_str(), draft.json["language"].as_str(), draft.json["source_language"].as_str()),
        (Some("Su pedido ya ha sido enviado."), Some("es"), Some("zh"))
    );
    let sent = app
        .post(
            &format!("{}/conversations/{conv}/messages", acct(&t)),
            &li,
            json!({ "content": draft.json["text"], "written_as": { "language": "zh", "text": "您的订单已经发货了。" } }),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.json);
    assert_eq!(sent.json["text"], "Su pedido ya ha sido enviado.", "the buyer gets Spanish");
    assert_eq!(sent.json["meta"]["written_as"]["text"], "您的订单已经发货了。");
    assert_eq!(sent.json["meta"]["written_as"]["provider"], "agent");
    let bad = app
        .post(
            &format!("{}/conversations/{conv}/messages", acct(&t)),
            &li,
            json!({ "content": "Hola", "written_as": { "language": "chinese!", "text": "你好" } }),
        )
        .await;
    assert_eq!(
        (bad.status, bad.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("written_as.language"))
    );

    // Another account sees none of it.
    let other = app.tenant("Other").await;
    let r = app
        .post(&format!("{}/conversations/{conv}/messages/{msg}/translate", acct(&other)), &other.owner_token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&format!("{}/conversations/{conv}/messages/{msg}/translate", acct(&t)), &other.owner_token, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn provider_settings_are_guarded_and_failures_are_clear(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let sink = TranslateSink::start().await.unwrap();
    let t = app.tenant("Guarded").await;
    let (conv, msg) = spanish_buyer_writes(&app, &t, "m-1", "El paquete llega tarde.").await;
    let path = format!("{}/conversations/{conv}/messages/{msg}/translate", acct(&t));

    // Nothing set up: a clear refusal.
    let r = app.post(&path, &t.agent_token, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "translation_not_configured"));
    assert_eq!(app.get(&format!("{}/translation", acct(&t)), &t.owner_token).await.status, StatusCode::NOT_FOUND);

    // Owners and admins only; checked values; the key never shown.
    let good = json!({ "provider": "deepl", "base_url": sink.base_url(), "api_key": API_KEY, "timeout_ms": 300 });
    let r = app.call(Method::PUT, &format!("{}/translation", acct(&t)), Some(&t.agent_token), Some(good.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({ "provider": "babelfish", "base_url": sink.base_url() }), "provider"),
        (json!({ "provider": "libretranslate", "base_url": "ftp://x" }), "base_url"),
        (json!({ "provider": "deepl", "base_url": sink.base_url() }), "api_key"),
        (json!({ "provider": "libretranslate", "base_url": sink.base_url(), "timeout_ms": 5 }), "timeout_ms"),
    ] {
        let r = set_provider(&app, &t, body).await;
        assert_eq!(
            (r.status, r.json["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{:?}",
            r.json
        );
    }
    let r = set_provider(&app, &t, good).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let shown = app.get(&format!("{}/translation", acct(&t)), &t.owner_token).await;
    assert_eq!(shown.json["provider"], "deepl");
    assert!(!shown.json.to_string().contains(API_KEY), "the key is not shown: {:?}", shown.json);
    assert_eq!(shown.json["api_key_hint"], "…ests");
    // Changing the timeout keeps the key.
    let r =
        set_provider(&app, &t, json!({ "provider": "deepl", "base_url": sink.base_url(), "timeout_ms": 400 })).await;
    assert_eq!((r.status, r.json["timeout_ms"].as_u64()), (StatusCode::OK, Some(400)), "{:?}", r.json);

    // DeepL-compatible: works.
    let r = app.post(&path, &t.agent_token, json!({ "to": "de" })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["meta"]["translations"][0]["text"], "Das Paket ist verspätet.");
    assert_eq!(r.json["meta"]["translations"][0]["provider"], "deepl");

    // Failing, then silent: a clear error, nothing stored.
    sink.fail_with(Some(503));
    let r = app.post(&path, &t.agent_token, json!({ "to": "en" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_GATEWAY, "translation_failed"), "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("503"));
    sink.fail_with(None);
    sink.stall(true);
    let r = app.post(&path, &t.agent_token, json!({ "to": "en" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_GATEWAY, "translation_failed"), "{:?}", r.json);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("did not answer"), "{:?}", r.json);
    sink.stall(false);
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.agent_token).await;
    let stored = msgs.json.as_array().unwrap().iter().find(|m| m["id"] == msg).cloned().unwrap();
    assert_eq!(stored["meta"]["translations"].as_array().unwrap().len(), 1, "the failures stored nothing");

    // A refused key is the provider's refusal, said as such.
    let r =
        set_provider(&app, &t, json!({ "provider": "deepl", "base_url": sink.base_url(), "api_key": "wrong" })).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.post(&path, &t.agent_token, json!({ "to": "en" })).await;
    assert_eq!(r.code(), "translation_failed");
    assert!(r.json["error"]["message"].as_str().unwrap().contains("refused"), "{:?}", r.json);

    // Turned off, by an owner; audited.
    let r = app.call(Method::DELETE, &format!("{}/translation", acct(&t)), Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("{}/translation/status", acct(&t)), &t.agent_token).await.json["enabled"], false);
    let audit = app.get(&format!("{}/audit_log?action=translation.configure", acct(&t)), &t.owner_token).await;
    assert_eq!(audit.json.as_array().map(Vec::len), Some(3), "{:?}", audit.json);
}
