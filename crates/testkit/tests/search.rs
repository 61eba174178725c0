//! Search through the API on both stores: every script, stemming,
//! highlights, filters, tenant isolation, edits and deletes, rebuilds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use ferry_core::MessageId;
use ferry_core::message::{ContentPart, MessageChange};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    messages_are_found_in_every_script_with_highlights,
    filters_narrow_the_messages,
    accounts_only_find_their_own,
    edits_deletes_and_contact_changes_are_reflected,
    a_rebuild_finds_the_same,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// Posts a buyer message; returns (message id, conversation id).
async fn say(app: &TestApp, t: &Tenant, ext: &str, buyer: &str, text: &str) -> (i64, i64) {
    let r = app.webhook(t, &buyer_message(ext, buyer, text)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    (r.json["message_id"].as_i64().unwrap(), r.json["conversation_id"].as_i64().unwrap())
}

async fn search(app: &TestApp, t: &Tenant, query: &str) -> Value {
    let r = app.get(&format!("{}/search?{query}", acct(t)), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.json);
    r.json
}

fn message_ids(found: &Value) -> Vec<i64> {
    found["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

fn contact_ids(found: &Value) -> Vec<i64> {
    found["contacts"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

/// The marked pieces of the first message's highlight.
fn hits(found: &Value) -> Vec<String> {
    found["messages"][0]["highlight"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect()
}

fn q(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    format!("q={out}")
}

async fn messages_are_found_in_every_script_with_highlights(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Scripts").await;
    let (en, _) = say(&app, &t, "en", "ann", "Where is my parcel? It was shipped two weeks ago.").await;
    let (zh, _) = say(&app, &t, "zh", "li", "我的快递还没有到，请帮我查一下物流").await;
    let (ja, _) = say(&app, &t, "ja", "sato", "注文した商品がまだ届きません").await;
    let (ko, _) = say(&app, &t, "ko", "kim", "배송이 언제 되나요?").await;
    say(&app, &t, "other", "bob", "Thanks, all good").await;

    let found = search(&app, &t, &q("PARCEL")).await;
    assert_eq!(message_ids(&found), [en]);
    assert_eq!(hits(&found), ["parcel"]);
    let found = search(&app, &t, &q("快递")).await;
    assert_eq!(message_ids(&found), [zh]);
    assert_eq!(hits(&found), ["快递"]);
    let found = search(&app, &t, &q("物流")).await;
    assert_eq!(message_ids(&found), [zh]);
    let found = search(&app, &t, &q("届きません")).await;
    assert_eq!(message_ids(&found), [ja]);
    assert!(!hits(&found).is_empty(), "{found:?}");
    let found = search(&app, &t, &q("배송")).await;
    assert_eq!(message_ids(&found), [ko]);
    // Every word must match.
    assert!(message_ids(&search(&app, &t, &q("parcel refund")).await).is_empty());
    // The buyer is a contact found by name.
    let found = search(&app, &t, &q("buyer sato")).await;
    assert_eq!(contact_ids(&found).len(), 1, "{found:?}");
    assert!(found["contacts"][0]["highlight"].as_array().unwrap().iter().any(|p| p["hit"] == true));

    if app.app.search_index.kind() == "tantivy" {
        // Stemmed in the conversation's language (the account's, English).
        let found = search(&app, &t, &q("shipping parcels")).await;
        assert_eq!(message_ids(&found), [en]);
        assert_eq!(hits(&found), ["parcel", "shipped"]);
    }
}

async fn filters_narrow_the_messages(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Filters").await;
    let (first, conv) = say(&app, &t, "a", "ann", "The blue kettle leaks").await;
    let (second, _) = say(&app, &t, "b", "bob", "My blue kettle arrived broken").await;
    let base = format!("{}&", q("blue kettle"));
    assert_eq!(message_ids(&search(&app, &t, &base).await), [second, first]);

    let r = app
        .post(&format!("{}/conversations/{conv}/status", acct(&t)), &t.agent_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}status=resolved")).await), [first]);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}status=open")).await), [second]);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}conversation_id={conv}")).await), [first]);
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}inbox_id={}", t.inbox)).await).len(), 2);
    assert!(message_ids(&search(&app, &t, &format!("{base}inbox_id={}", t.inbox.0 + 1000)).await).is_empty());
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}channel=api")).await).len(), 2);
    assert!(message_ids(&search(&app, &t, &format!("{base}channel=email")).await).is_empty());
    let soon = (Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let past = (Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    assert!(message_ids(&search(&app, &t, &format!("{base}from={soon}")).await).is_empty());
    assert_eq!(message_ids(&search(&app, &t, &format!("{base}from={past}&until={soon}")).await).len(), 2);

    for bad in ["status=lost", "channel=pigeon", "from=yesterday"] {
        let r = app.get(&format!("{}/search?{base}{bad}", acct(&t)), &t.agent_token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", r.json);
    }
    let r = app.get(&format!("{}/search?{base}from={soon}&until={past}", acct(&t)), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn accounts_only_find_their_own(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Mine").await;
    let other = app.tenant("Theirs").await;
    let (mine, _) = say(&app, &t, "m", "same-handle", "Invoice ZX-42 is wrong").await;
    say(&app, &other, "m", "same-handle", "Invoice ZX-42 is wrong").await;
    let found = search(&app, &t, &q("invoice zx-42")).await;
    assert_eq!(message_ids(&found), [mine]);
    assert_eq!(contact_ids(&search(&app, &t, &q("same-handle")).await).len(), 1);
    let r = app.get(&format!("{}/search?{}", acct(&t), q("invoice")), &other.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn edits_deletes_and_contact_changes_are_reflected(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Changes").await;
    let (id, _) = say(&app, &t, "e", "ann", "Please cancel my order").await;
    assert_eq!(message_ids(&search(&app, &t, &q("cancel")).await), [id]);

    let storage = &app.app.storage;
    let now = Utc::now();
    let edit =
        MessageChange::Edit { parts: vec![ContentPart::Text { text: "Please refund my order".into() }], at: now };
    storage.change_message(t.account, MessageId(id), edit, now).await.unwrap().unwrap();
    assert!(message_ids(&search(&app, &t, &q("cancel")).await).is_empty());
    assert_eq!(message_ids(&search(&app, &t, &q("refund")).await), [id]);
    storage.change_message(t.account, MessageId(id), MessageChange::Delete { at: now }, now).await.unwrap().unwrap();
    assert!(message_ids(&search(&app, &t, &q("refund")).await).is_empty());

    // Catching up is idempotent: once done, nothing is left to apply.
    say(&app, &t, "f", "bob", "Where is the umbrella").await;
    let index = app.app.search_index.clone();
    index.catch_up().await.unwrap();
    assert_eq!(index.catch_up().await.unwrap(), 0);

    let found = search(&app, &t, &q("buyer ann")).await;
    let contact = contact_ids(&found)[0];
    let r = app
        .call(
            Method::PATCH,
            &format!("{}/contacts/{contact}", acct(&t)),
            Some(&t.agent_token),
            Some(json!({"name": "Annabelle Lee", "email": "annabelle@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert!(contact_ids(&search(&app, &t, &q("buyer ann")).await).is_empty());
    assert_eq!(contact_ids(&search(&app, &t, &q("annabelle")).await), [contact]);
    assert_eq!(contact_ids(&search(&app, &t, &q("annabelle@example.com")).await), [contact]);
    // Parts of names and e-mails find the contact too; every part must
    // be there.
    assert_eq!(contact_ids(&search(&app, &t, &q("NABEL")).await), [contact]);
    assert_eq!(contact_ids(&search(&app, &t, &q("belle@exam lee")).await), [contact]);
    assert!(contact_ids(&search(&app, &t, &q("nabel xyz")).await).is_empty());
    assert!(contact_ids(&search(&app, &t, &q("belle@examples")).await).is_empty());
}

async fn a_rebuild_finds_the_same(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Rebuild").await;
    for (i, text) in
        ["Parcel lost in transit", "退货流程是什么", "parcel arrived damaged", "返品したいです"].iter().enumerate()
    {
        say(&app, &t, &format!("r{i}"), &format!("buyer{i}"), text).await;
    }
    let queries = ["parcel", "退货", "返品", "buyer2", "damaged parcel"];
    let mut before = Vec::new();
    for query in queries {
        before.push(search(&app, &t, &q(query)).await);
    }
    assert!(before.iter().all(|f| !message_ids(f).is_empty() || !contact_ids(f).is_empty()), "{before:?}");
    app.app.rebuild_search_index().await.unwrap();
    for (query, before) in queries.iter().zip(before) {
        assert_eq!(search(&app, &t, &q(query)).await, before, "{query}");
    }
}
