//! The JSON logs of a flow full of personal data (a buyer's e-mail and
//! phone in the sender and the text, a search by e-mail, a failed login,
//! a delivery that fails) name none of it, at debug level, on SQLite and on
//! PostgreSQL. Request spans carry the path without the query string.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

on_both!(logs_name_no_email_addresses_or_phone_numbers);

/// Every log line of the process, as the JSON format writes it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's log, captured once (the subscriber is global so the
/// server's tasks on every thread write to it).
fn captured() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let filter = tracing_subscriber::EnvFilter::new("debug,sqlx=info,hyper=info,hyper_util=info,h2=info,reqwest=info,tungstenite=info,tokio_tungstenite=info,rustls=info");
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter(filter)
            .with_writer(move || writer.clone())
            .init();
        log
    })
}

async fn logs_name_no_email_addresses_or_phone_numbers(b: Backend) {
    let log = captured();
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Logs").await;
    let ap = format!("/api/v1/accounts/{}", t.account);
    let (email, phone) = ("jane.roe.4711@buyers.example", "+4915112345678");
    let sender = json!({"handle": "jane-4711", "name": "Jane Roe", "email": email, "phone": phone});
    let text = format!("Please write to {email} or call {phone} about my order.");
    let r = app.webhook(&t, &json!({"external_id": "log-1", "sender": sender, "text": text})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let conv = r.json["conversation_id"].as_i64().unwrap();
    // Refused values are not logged either.
    let bad_phone = "+49 1511 2345 99x";
    let bad = json!({"external_id": "log-2", "sender": {"handle": "h", "phone": bad_phone}, "text": "hi"});
    assert_eq!(app.webhook(&t, &bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let found = app.get(&format!("{ap}/contacts?q={email}"), &t.agent_token).await;
    assert_eq!(found.json["data"].as_array().map(Vec::len), Some(1), "{:?}", found.json);
    let login = json!({"email": "sam.agent.4711@shop.example", "password": "wrong-password"});
    assert_eq!(app.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await.status, StatusCode::UNAUTHORIZED);
    let reply = json!({"content": format!("We will write to {email} and call {phone}.")});
    let r = app.post(&format!("{ap}/conversations/{conv}/messages"), &t.agent_token, reply).await;
    assert!(r.status.is_success(), "{:?}", r.json);
    // No callback URL: the delivery fails, and the failure is logged.
    app.drain_jobs().await;

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    // The server's requests were captured, the search among them.
    assert!(text.contains(&format!("\"path\":\"{ap}/contacts\"")), "the flow was logged: {text}");
    let lower = text.to_lowercase();
    for secret in [email, "jane.roe.4711", "4915112345678", "1511 2345", "sam.agent.4711", "Jane Roe", "wrong-password"]
    {
        assert!(!lower.contains(&secret.to_lowercase()), "{secret} in the log:\n{text}");
    }
}
