//! `/sandbox/meta`: the demo's Messenger and Instagram app. Shows every
//! message the page sent through the Graph API stand-in, newest first, and
//! lets you write to the shop as a buyer on either: the stand-in posts a
//! signed webhook, as Meta would. Only in `ferry-demo`.

use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use ferry_sandbox::meta_pages::FakePages;
use serde::Deserialize;
use std::fmt::Write;
use std::sync::Arc;

/// Where the page is served.
pub const PATH: &str = "/sandbox/meta";

/// The page's routes, to merge into the demo's router.
pub fn router(fake: Arc<FakePages>) -> axum::Router {
    axum::Router::new().route(PATH, get(page).post(write)).with_state(fake)
}

#[derive(Deserialize)]
struct Written {
    platform: String,
    from: String,
    name: String,
    text: String,
}

async fn write(State(fake): State<Arc<FakePages>>, Form(w): Form<Written>) -> impl IntoResponse {
    let from: String = w.from.chars().filter(char::is_ascii_digit).collect();
    let platform = if w.platform == "instagram" { "instagram" } else { "messenger" };
    if !(6..=20).contains(&from.len()) || w.text.trim().is_empty() {
        return Redirect::to(&format!("{PATH}?error=id")).into_response();
    }
    if let Some((first, last)) = w.name.trim().split_once(' ') {
        fake.set_buyer_name(&from, first, last);
    } else if !w.name.trim().is_empty() {
        fake.set_buyer_name(&from, w.name.trim(), "");
    }
    let (_, status) = fake.buyer_message(platform, &from, serde_json::json!({ "text": w.text.trim() })).await;
    Redirect::to(&format!("{PATH}?status={status}")).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What a sent message says, in one line.
fn summary(message: &serde_json::Value) -> String {
    if let Some(t) = message["text"].as_str() {
        let mut s = t.to_owned();
        for q in message["quick_replies"].as_array().into_iter().flatten() {
            let _ = write!(s, " [{}]", q["title"].as_str().unwrap_or_default());
        }
        return s;
    }
    let payload = &message["attachment"]["payload"];
    if let Some(t) = payload["text"].as_str() {
        let mut s = t.to_owned();
        for b in payload["buttons"].as_array().into_iter().flatten() {
            let _ = write!(s, " [{}]", b["title"].as_str().unwrap_or_default());
        }
        return s;
    }
    format!("{} attachment", message["attachment"]["type"].as_str().unwrap_or("an"))
}

async fn page(State(fake): State<Arc<FakePages>>) -> impl IntoResponse {
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><title>Sandbox Messenger and Instagram</title>\
         <style>body{font:15px system-ui;margin:2rem;max-width:60rem}td,th{padding:.3rem .6rem;text-align:left;\
         vertical-align:top;border-bottom:1px solid #ddd}form{margin:1rem 0;display:flex;gap:.5rem;flex-wrap:wrap}\
         input,select{padding:.3rem}</style><h1>Sandbox Messenger and Instagram</h1>\
         <p>Messages the shop's page sent through the local Graph API stand-in. Write as a buyer below: the \
         stand-in posts a signed webhook to the shop's Messenger or Instagram inbox.</p>\
         <form method=post><select name=platform><option value=messenger>Messenger</option>\
         <option value=instagram>Instagram</option></select>\
         <input name=from placeholder=\"Buyer id (digits), e.g. 7310000000000555\" required>\
         <input name=name placeholder=Name><input name=text placeholder=Message size=40 required>\
         <button>Send as buyer</button></form>\
         <table><tr><th>Platform</th><th>To</th><th>Why</th><th>Message</th><th>Id</th></tr>",
    );
    for m in fake.sent().iter().rev() {
        let why = match &m.tag {
            Some(tag) => format!("{} {tag}", m.messaging_type),
            None => m.messaging_type.clone(),
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&m.platform),
            escape(&m.to),
            escape(&why),
            escape(&summary(&m.message)),
            escape(&m.mid)
        );
    }
    html.push_str("</table>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
}
