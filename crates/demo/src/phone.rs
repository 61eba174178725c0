//! The demo's Telegram and SMS inboxes and `/sandbox/phone`, the buyer's
//! phone for both. Their outside services are the sandbox's stand-ins for
//! the Telegram Bot API and a Twilio-compatible SMS provider, started
//! afresh by every run (so each start points the inboxes at them, sets the
//! bot's webhook through the connection check and tells the SMS stand-in
//! where to post). The page lists what the shop sent on either and writes
//! to the shop as a Telegram or SMS buyer; the stand-ins post signed
//! webhooks as the real services do. Only in `ferry-demo`.

use anyhow::Context;
use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use ferry_app::auth::Actor;
use ferry_app::{App, NewInboxInput};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::{AccountId, InboxId};
use ferry_sandbox::sms::SmsSink;
use ferry_sandbox::telegram::{self as tg, FakeBotApi};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt::Write;
use std::sync::Arc;

/// Where the page is served.
pub const PATH: &str = "/sandbox/phone";

/// The demo's Telegram and SMS inboxes, as `demo.json` keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneInboxes {
    /// The Telegram inbox's id.
    pub telegram: i64,
    /// The secret token Telegram's deliveries carry.
    pub secret_token: String,
    /// The SMS inbox's id.
    pub sms: i64,
}

/// The stand-ins of one run.
pub struct Phone {
    /// The Bot API.
    pub bot: FakeBotApi,
    /// The SMS provider.
    pub sms: SmsSink,
}

fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates both inboxes, the bot on.
pub async fn seed(app: &App, owner: &Actor, account: AccountId, phone: &Phone) -> anyhow::Result<PhoneInboxes> {
    let secret_token = format!("demo-{}", random_token());
    let mut telegram = InboxConfig { bot_enabled: true, ..InboxConfig::default() };
    telegram.extra.insert("telegram".into(), phone.bot.settings(&secret_token));
    let t = app
        .create_inbox(
            owner,
            account,
            NewInboxInput { name: "Telegram".into(), channel: ChannelKind::Telegram, config: telegram },
        )
        .await
        .context("creating the Telegram inbox")?;
    let mut sms = InboxConfig { bot_enabled: true, ..InboxConfig::default() };
    sms.extra.insert("sms".into(), phone.sms.settings());
    let s = app
        .create_inbox(owner, account, NewInboxInput { name: "SMS".into(), channel: ChannelKind::Sms, config: sms })
        .await
        .context("creating the SMS inbox")?;
    Ok(PhoneInboxes { telegram: t.id.0, secret_token, sms: s.id.0 })
}

/// Points both inboxes at this run's stand-ins and the stand-ins at the
/// demo; returns the SMS webhook URL (what its signatures cover).
pub async fn use_fakes(
    app: &App,
    owner: &Actor,
    account: AccountId,
    inboxes: &PhoneInboxes,
    phone: &Phone,
    listen_url: &str,
) -> anyhow::Result<String> {
    let t = app.get_inbox(owner, account, InboxId(inboxes.telegram)).await?;
    let mut c = t.config.clone();
    c.extra.insert("telegram".into(), phone.bot.settings(&inboxes.secret_token));
    let t = app.update_inbox(owner, account, t.id, None, Some(c)).await?;
    // The connection check sets the bot's webhook (setWebhook).
    let check = app.check_telegram(&t).await?;
    if let Err(e) = check.webhook {
        anyhow::bail!("the Telegram stand-in refused the webhook: {e}");
    }
    phone.bot.deliver_to(&format!("{listen_url}/webhooks/telegram/{}", t.id));
    let s = app.get_inbox(owner, account, InboxId(inboxes.sms)).await?;
    let mut c = s.config.clone();
    c.extra.insert("sms".into(), phone.sms.settings());
    let s = app.update_inbox(owner, account, s.id, None, Some(c)).await?;
    let signed = app.sms_webhook_url(&s);
    phone.sms.set_webhook(&signed, &format!("{listen_url}/webhooks/sms/{}", s.id));
    Ok(signed)
}

/// The page's routes, to merge into the demo's router.
pub fn router(phone: Arc<Phone>) -> axum::Router {
    axum::Router::new().route(PATH, get(page).post(write)).with_state(phone)
}

#[derive(Deserialize)]
struct Written {
    channel: String,
    from: String,
    name: String,
    text: String,
}

async fn write(State(phone): State<Arc<Phone>>, Form(w): Form<Written>) -> impl IntoResponse {
    let text = w.text.trim();
    if text.is_empty() {
        return Redirect::to(&format!("{PATH}?error=text")).into_response();
    }
    let status = if w.channel == "telegram" {
        let Ok(user) = w.from.trim().parse::<i64>() else {
            return Redirect::to(&format!("{PATH}?error=user")).into_response();
        };
        let name = if w.name.trim().is_empty() { "Buyer" } else { w.name.trim() };
        let update_id = phone.bot.next_update_id();
        let u = tg::message_update(update_id, update_id, user, name, json!({ "text": text }));
        phone.bot.post(&u).await
    } else {
        let from: String = w.from.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        if !from.starts_with('+') || from.len() < 8 {
            return Redirect::to(&format!("{PATH}?error=number")).into_response();
        }
        phone.sms.buyer_sms(&from, text, &[]).await.0
    };
    Redirect::to(&format!("{PATH}?status={status}")).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn page(State(phone): State<Arc<Phone>>) -> impl IntoResponse {
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><title>Sandbox phone</title>\
         <style>body{font:15px system-ui;margin:2rem;max-width:60rem}td,th{padding:.3rem .6rem;text-align:left;\
         vertical-align:top;border-bottom:1px solid #ddd}form{margin:1rem 0;display:flex;gap:.5rem;flex-wrap:wrap}\
         input,select{padding:.3rem}</style><h1>Sandbox phone: Telegram and SMS</h1>\
         <p>Messages the shop sent through the local Telegram Bot API and SMS provider stand-ins. Write as a buyer \
         below: the stand-in posts a signed webhook to the shop's inbox.</p>\
         <form method=post><select name=channel><option value=telegram>Telegram</option>\
         <option value=sms>SMS</option></select>\
         <input name=from placeholder=\"Telegram user id (digits) or phone (+34…)\" required>\
         <input name=name placeholder=Name><input name=text placeholder=Message size=40 required>\
         <button>Send as buyer</button></form>\
         <table><tr><th>Channel</th><th>To</th><th>Message</th></tr>",
    );
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for m in phone.bot.sent() {
        let mut text = m.text.clone().unwrap_or_else(|| m.method.clone());
        for (title, _) in &m.buttons {
            let _ = write!(text, " [{title}]");
        }
        rows.push(("Telegram".into(), m.chat_id.clone(), text));
    }
    for m in phone.sms.messages() {
        rows.push(("SMS".into(), m.to.clone(), m.body.clone()));
    }
    for (channel, to, text) in rows.iter().rev() {
        let _ = write!(html, "<tr><td>{channel}</td><td>{}</td><td>{}</td></tr>", escape(to), escape(text));
    }
    html.push_str("</table>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
}
