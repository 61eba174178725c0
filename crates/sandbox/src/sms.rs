//! A local server speaking Twilio's Messages API (`POST
//! /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From`,
//! `Body`, HTTP basic auth with the account sid and token): Twilio's
//! answers (`201` with the message's `sid`) and errors (`20003` for bad
//! credentials, `21211` for a number that is not E.164), keeping every
//! message it accepts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// The account sid the stand-in accepts.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
/// The auth token the stand-in accepts.
pub const AUTH_TOKEN: &str = "sms-auth-token-for-tests";
/// A sender number (Twilio's magic test number).
pub const FROM: &str = "+15005550006";

/// One SMS the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    /// `To`.
    pub to: String,
    /// `From`.
    pub from: String,
    /// `Body`.
    pub body: String,
}

type Store = Arc<Mutex<Vec<Sms>>>;

/// A running stand-in; stops when dropped.
pub struct SmsSink {
    /// Where it listens.
    pub addr: SocketAddr,
    messages: Store,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmsSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn create(
    State(store): State<Store>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")));
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if sid != ACCOUNT_SID || auth != Some(expected.as_str()) {
        let e = json!({"code": 20003, "message": "Authenticate", "status": 401,
            "more_info": "https://www.twilio.com/docs/errors/20003"});
        return (StatusCode::UNAUTHORIZED, Json(e));
    }
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    if !field("To").starts_with('+') {
        let e = json!({"code": 21211, "message": format!("The 'To' number {} is not a valid phone number.", field("To")), "status": 400});
        return (StatusCode::BAD_REQUEST, Json(e));
    }
    let mut list = store.lock().unwrap_or_else(PoisonError::into_inner);
    list.push(Sms { to: field("To"), from: field("From"), body: field("Body") });
    let msg = json!({"sid": format!("SM{:032}", list.len()), "status": "queued",
        "to": field("To"), "from": field("From"), "body": field("Body"), "account_sid": ACCOUNT_SID});
    (StatusCode::CREATED, Json(msg))
}

impl SmsSink {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let messages: Store = Arc::default();
        let app = axum::Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", axum::routing::post(create))
            .with_state(messages.clone())
            .layer(axum::middleware::map_response(crate::tag));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the SMS stand-in stopped");
            }
        });
        Ok(Self { addr, messages, task })
    }

    /// The base URL to configure as the SMS provider.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Messages accepted so far.
    pub fn messages(&self) -> Vec<Sms> {
        self.messages.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
