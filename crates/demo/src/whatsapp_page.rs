//! `/sandbox/whatsapp`: the demo's WhatsApp phone. Shows every message
//! Ferry sent through the Graph API stand-in, newest first, and lets you
//! write to the shop as a buyer: the stand-in posts a signed webhook, as
//! Meta would. Only in `ferry-demo`.

use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use ferry_sandbox::whatsapp::FakeGraph;
use serde::Deserialize;
use std::fmt::Write;
use std::sync::Arc;

/// Where the page is served.
pub const PATH: &str = "/sandbox/whatsapp";

/// The page's routes, to merge into the demo's router.
pub fn router(fake: Arc<FakeGraph>) -> axum::Router {
    axum::Router::new().route(PATH, get(page).post(write)).with_state(fake)
}

#[derive(Deserialize)]
struct Written {
    from: String,
    name: String,
    text: String,
}

async fn write(State(fake): State<Arc<FakeGraph>>, Form(w): Form<Written>) -> impl IntoResponse {
    let from: String = w.from.chars().filter(char::is_ascii_digit).collect();
    if !(6..=15).contains(&from.len()) || w.text.trim().is_empty() {
        return Redirect::to(&format!("{PATH}?error=number")).into_response();
    }
    let posted = fake.buyer_text(&from, w.name.trim(), w.text.trim()).await;
    Redirect::to(&format!("{PATH}?status={}", posted.status)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What a sent message says, in one line.
fn summary(body: &serde_json::Value) -> String {
    let kind = body["type"].as_str().unwrap_or_default();
    match kind {
        "text" => body["text"]["body"].as_str().unwrap_or_default().to_owned(),
        "interactive" => {
            let i = &body["interactive"];
            let mut s = i["body"]["text"].as_str().unwrap_or_default().to_owned();
            let buttons = i["action"]["buttons"].as_array().into_iter().flatten();
            for b in buttons {
                let _ = write!(s, " [{}]", b["reply"]["title"].as_str().unwrap_or_default());
            }
            s
        }
        "template" => format!(
            "template {} ({})",
            body["template"]["name"].as_str().unwrap_or_default(),
            body["template"]["language"]["code"].as_str().unwrap_or_default()
        ),
        other => format!("{other} message"),
    }
}

async fn page(State(fake): State<Arc<FakeGraph>>) -> impl IntoResponse {
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><title>Sandbox WhatsApp</title>\
         <style>body{font:15px system-ui;margin:2rem;max-width:60rem}td,th{padding:.3rem .6rem;text-align:left;\
         vertical-align:top;border-bottom:1px solid #ddd}form{margin:1rem 0;display:flex;gap:.5rem;flex-wrap:wrap}\
         input{padding:.3rem}</style><h1>Sandbox WhatsApp</h1>\
         <p>Messages Ferry sent through the local Graph API stand-in. Write as a buyer below: the stand-in posts a \
         signed webhook to the shop's WhatsApp inbox.</p>\
         <form method=post><input name=from placeholder=\"WhatsApp number, e.g. 4915112345678\" required>\
         <input name=name placeholder=Name><input name=text placeholder=Message size=40 required>\
         <button>Send as buyer</button></form><table><tr><th>When</th><th>To</th><th>Message</th><th>Id</th></tr>",
    );
    for m in fake.sent().iter().rev() {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>+{}</td><td>{}</td><td><code>{}</code></td></tr>",
            m.received_at.format("%Y-%m-%d %H:%M:%S"),
            escape(&m.to),
            escape(&summary(&m.body)),
            escape(&m.wamid)
        );
    }
    html.push_str("</table>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
}
