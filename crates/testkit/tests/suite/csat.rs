//! Satisfaction surveys as a buyer and an agent meet them: a resolution
//! sends one survey in the buyer's language, answered inline in the chat
//! widget or on the page its link opens; once per conversation, once per
//! buyer in the inbox's days, never on Amazon. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use ferry_core::clock::FixedClock;
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    a_resolution_sends_one_survey_answered_on_its_page,
    the_widget_answers_inline_and_the_console_sees_it,
    a_buyer_gets_one_survey_in_the_inbox_days,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

async fn enable(app: &TestApp, t: &Tenant, inbox: i64, csat: Value) {
    let r = app
        .call(
            reqwest::Method::PATCH,
            &format!("{}/inboxes/{inbox}", acct(t)),
            Some(&t.owner_token),
            Some(json!({"config": {"csat": csat}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
}

async fn resolve(app: &TestApp, t: &Tenant, conv: i64) {
    let r = app
        .post(&format!("{}/conversations/{conv}/status", acct(t)), &t.agent_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(r.json["status"], "resolved", "{:?}", r.json);
}

async fn surveys_of(app: &TestApp, t: &Tenant, conv: i64) -> Vec<Value> {
    let r = app.get(&format!("{}/conversations/{conv}/messages", acct(t)), &t.agent_token).await;
    let list = r.json.as_array().cloned().or_else(|| r.json["payload"].as_array().cloned()).unwrap_or_default();
    list.into_iter()
        .flat_map(|m| m["parts"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["type"] == "survey")
        .collect()
}

/// Posts the answer page's form as a browser would.
async fn post_form(app: &TestApp, token: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let encoded = reqwest::Url::parse_with_params("http://form.invalid/", fields).unwrap();
    app.http
        .post(format!("{}/csat/{token}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encoded.query().unwrap_or("").to_owned())
        .send()
        .await
        .unwrap()
}

fn token_of(survey: &Value) -> String {
    survey["survey"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

async fn a_resolution_sends_one_survey_answered_on_its_page(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Surveys").await;
    let mut first = buyer_message("m-1", "buyer-1", "Wo ist meine Bestellung?");
    first["sender"]["language"] = json!("de");
    let r = app.webhook(&t, &first).await;
    let conv = r.json["conversation_id"].as_i64().unwrap();
    // Off by default: resolving sends nothing.
    resolve(&app, &t, conv).await;
    app.drain_jobs().await;
    assert!(surveys_of(&app, &t, conv).await.is_empty());

    enable(&app, &t, t.inbox.0, json!({"enabled": true})).await;
    app.webhook(&t, &buyer_message("m-2", "buyer-1", "Hallo?")).await;
    // The agent who answers is the one the survey rates.
    let r = app
        .post(
            &format!("{}/conversations/{conv}/messages", acct(&t)),
            &t.agent_token,
            json!({"content": "Ihr Paket ist unterwegs."}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.json);
    resolve(&app, &t, conv).await;
    app.drain_jobs().await;
    let surveys = surveys_of(&app, &t, conv).await;
    assert_eq!(surveys.len(), 1, "{surveys:?}");
    assert_eq!(surveys[0]["survey"]["scale"], "stars");
    assert!(surveys[0]["survey"]["question"].as_str().unwrap().starts_with("Wie bewerten"), "{surveys:?}");
    let token = token_of(&surveys[0]);

    // The page: in German, five stars, a comment box; no script.
    let page = app.http.get(format!("{}/csat/{token}", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("lang=\"de\"") && html.contains("Wie bewerten") && !html.contains("<script"), "{html}");
    assert_eq!(html.matches("name=\"rating\"").count(), 5);
    // A rating off the scale is refused on the page, and nothing is kept.
    let bad = post_form(&app, &token, &[("rating", "9")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("rating must be 1 to 5"));
    let csat = app.get(&format!("{}/conversations/{conv}/csat", acct(&t)), &t.agent_token).await;
    assert_eq!(csat.json["rating"], Value::Null);
    let ok = post_form(&app, &token, &[("rating", "4"), ("comment", "Schnell, danke — 谢谢")]).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.text().await.unwrap().contains("Vielen Dank"));
    let csat = app.get(&format!("{}/conversations/{conv}/csat", acct(&t)), &t.agent_token).await;
    assert_eq!((csat.json["rating"].clone(), csat.json["comment"].clone()), (json!(4), json!("Schnell, danke — 谢谢")));
    assert_eq!(csat.json["agent_id"], json!(t.agent_id));
    // The agents report counts it for the agent who resolved it.
    let r = app.get(&format!("{}/reports/agents", acct(&t)), &t.owner_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let lines = r.json["lines"].as_array().cloned().unwrap_or_default();
    let mine = lines.iter().find(|l| l["agent_id"] == json!(t.agent_id)).unwrap_or_else(|| panic!("{}", r.json));
    assert_eq!(mine["csat"], json!(4.0), "{mine}");
    // So does the overview, in every breakdown, and the rated number opens
    // the conversation.
    let r = app.get(&format!("{}/reports/overview?by=channel", acct(&t)), &t.owner_token).await;
    let line = &r.json["lines"][0];
    assert_eq!(
        (line["rated"].clone(), line["csat"].clone(), line["satisfied_rate"].clone()),
        (json!(1), json!(4.0), json!(1.0)),
        "{line}"
    );
    let r = app.get(&format!("{}/reports/conversations?metric=rated", acct(&t)), &t.owner_token).await;
    assert_eq!(r.json["conversation_ids"], json!([conv]));
    // The answer is written on the conversation.
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.agent_token).await;
    assert!(msgs.json.to_string().contains("Buyer rated the help 4/5"), "{}", msgs.json);

    // Reopened and resolved again: still one survey for the conversation.
    app.webhook(&t, &buyer_message("m-3", "buyer-1", "Noch eine Frage")).await;
    resolve(&app, &t, conv).await;
    app.drain_jobs().await;
    assert_eq!(surveys_of(&app, &t, conv).await.len(), 1);

    // An unknown link is a page saying so.
    let gone = app.http.get(format!("{}/csat/{}", app.base, "0".repeat(64))).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // Another account's console cannot read it.
    let other = app.tenant("Elsewhere").await;
    let r = app.get(&format!("{}/conversations/{conv}/csat", acct(&other)), &other.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn the_widget_answers_inline_and_the_console_sees_it(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Chat").await;
    let r = app
        .post(
            &format!("{}/inboxes", acct(&t)),
            &t.owner_token,
            json!({"name": "Chat", "channel": "web_widget", "config": {"csat": {"enabled": true, "scale": "thumbs"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let inbox = r.json["id"].as_i64().unwrap();
    let s: Value = app
        .http
        .post(format!("{}/widget/{inbox}/sessions", app.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = s["token"].as_str().unwrap().to_owned();
    let sent: Value = app
        .http
        .post(format!("{}/widget/{inbox}/messages", app.base))
        .header("x-visitor-token", &token)
        .json(&json!({"text": "Is the blue dress back in stock?", "client_id": "c1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["kind"], "incoming", "{sent}");
    let list = app.get(&format!("{}/conversations?status=all", acct(&t)), &t.agent_token).await;
    let rows = list.json["data"].as_array().cloned().unwrap_or_default();
    let conv = rows
        .iter()
        .find(|c| c["inbox_id"] == json!(inbox))
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_else(|| panic!("no conversation of the chat in {}", list.json));
    resolve(&app, &t, conv).await;
    app.drain_jobs().await;
    // The visitor's list carries the survey, with its link.
    let list: Value = app
        .http
        .get(format!("{}/widget/{inbox}/messages", app.base))
        .header("x-visitor-token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let part = list
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().cloned().unwrap_or_default())
        .find(|p| p["type"] == "survey")
        .unwrap_or_else(|| panic!("no survey in {list}"));
    assert_eq!(part["survey"]["scale"], "thumbs");
    let survey_token = token_of(&part);
    let answer = |inbox: i64, rating: u8| {
        app.http
            .post(format!("{}/widget/{inbox}/csat/{survey_token}", app.base))
            .json(&json!({"rating": rating, "comment": "quick"}))
            .send()
    };
    // Thumbs take 1 or 5 only; another inbox's widget cannot answer it.
    assert_eq!(answer(inbox, 3).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer(t.inbox.0, 5).await.unwrap().status(), StatusCode::NOT_FOUND);
    let ok = answer(inbox, 5).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let v: Value = ok.json().await.unwrap();
    assert_eq!((v["rating"].clone(), v["scale"].clone()), (json!(5), json!("thumbs")));
    let csat = app.get(&format!("{}/conversations/{conv}/csat", acct(&t)), &t.agent_token).await;
    assert_eq!((csat.json["rating"].clone(), csat.json["comment"].clone()), (json!(5), json!("quick")));
}

async fn a_buyer_gets_one_survey_in_the_inbox_days(b: Backend) {
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).single().unwrap()));
    let mut o = SpawnOptions::new(b);
    o.clock = clock.clone();
    let Some(app) = spawn_with(o).await else { return };
    let t = app.tenant("Often").await;
    enable(&app, &t, t.inbox.0, json!({"enabled": true, "days_between": 30})).await;
    let mut conversations = Vec::new();
    for (n, wait) in [0, 10, 31].into_iter().enumerate() {
        // Past the reopen window: the buyer's next message opens a new
        // conversation.
        clock.advance(Duration::days(wait));
        let body = buyer_message(&format!("m-{n}"), "buyer-1", "Where is my parcel?");
        let conv = app.webhook(&t, &body).await.json["conversation_id"].as_i64().unwrap();
        assert!(!conversations.contains(&conv), "a new conversation each time");
        resolve(&app, &t, conv).await;
        app.drain_jobs().await;
        conversations.push(conv);
    }
    let mut sent = Vec::new();
    for c in &conversations {
        sent.push(surveys_of(&app, &t, *c).await.len());
    }
    // The second came 10 days after the first survey: none.
    assert_eq!(sent, vec![1, 0, 1]);
}
