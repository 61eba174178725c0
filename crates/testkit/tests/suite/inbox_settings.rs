//! E-mail inbox settings over the API: server passwords never leave the
//! server (not even to owners), settings sent back without them keep them,
//! and the connection check says exactly what works against a real Dovecot
//! and SMTP relay. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_core::InboxId;
use ferry_testkit::dovecot::Dovecot;
use ferry_testkit::mail_relay::MailRelay;
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(server_passwords_never_leave_the_server, the_connection_check_says_what_fails);

const SHOP: &str = "support@shop.test";
const IMAP_PASSWORD: &str = "imap-pass-7f3a";
const SMTP_PASSWORD: &str = "smtp-pass-91c2";

fn inbox_body(imap_port: u16, smtp_port: u16, ca_pem: &str) -> Value {
    json!({"name": "Support mail", "channel": "email", "config": {"email": {
        "address": SHOP, "from_name": "Lumen Shop", "folders": ["INBOX"],
        "imap": {"host": "127.0.0.1", "port": imap_port, "security": "plain", "username": SHOP, "password": IMAP_PASSWORD},
        "smtp": {"host": "localhost", "port": smtp_port, "security": "starttls", "username": SHOP,
                 "password": SMTP_PASSWORD, "ca_pem": ca_pem},
    }}})
}

fn assert_no_password(a: &Answer) {
    let text = a.json.to_string();
    assert!(!text.contains(IMAP_PASSWORD) && !text.contains(SMTP_PASSWORD), "a password was shown: {text}");
    assert!(!text.contains("\"password\""), "a password field was shown: {text}");
}

async fn stored_email(app: &TestApp, t: &Tenant, id: i64) -> Value {
    let inbox = app.app.storage.get_inbox(t.account, InboxId(id)).await.unwrap().unwrap();
    inbox.config.extra["email"].clone()
}

async fn server_passwords_never_leave_the_server(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Secrets").await;
    let base = format!("/api/v1/accounts/{}/inboxes", t.account);
    let created = app.post(&base, &t.owner_token, inbox_body(1143, 1587, "")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_no_password(&created);
    let email = &created.json["config"]["email"];
    assert_eq!(email["imap"]["password_set"], json!(true));
    assert_eq!(email["smtp"]["password_set"], json!(true));
    assert_eq!(email["imap"]["username"], json!(SHOP), "the rest is shown");
    let id = created.json["id"].as_i64().unwrap();

    for token in [&t.owner_token, &t.agent_token] {
        let list = app.get(&base, token).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.json.as_array().unwrap().iter().any(|i| i["id"].as_i64() == Some(id)));
        assert_no_password(&list);
        let one = app.get(&format!("{base}/{id}"), token).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_no_password(&one);
        assert_eq!(one.json["config"]["email"]["smtp"]["password_set"], json!(true));
    }

    // The console sends back what it was shown, with a new sender name:
    // both passwords are kept.
    let mut config = created.json["config"].clone();
    config["email"]["from_name"] = json!("Lumen Support");
    let patched =
        app.call(Method::PATCH, &format!("{base}/{id}"), Some(&t.owner_token), Some(json!({"config": config}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    assert_no_password(&patched);
    let stored = stored_email(&app, &t, id).await;
    assert_eq!(stored["from_name"], json!("Lumen Support"));
    assert_eq!(stored["imap"]["password"], json!(IMAP_PASSWORD));
    assert_eq!(stored["smtp"]["password"], json!(SMTP_PASSWORD));
    assert!(stored["imap"].get("password_set").is_none(), "markers are not stored");

    // A typed password replaces the stored one; an empty one clears it.
    let mut config = patched.json["config"].clone();
    config["email"]["imap"]["password"] = json!("replaced");
    config["email"]["smtp"]["password"] = json!("");
    let patched =
        app.call(Method::PATCH, &format!("{base}/{id}"), Some(&t.owner_token), Some(json!({"config": config}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    assert_eq!(patched.json["config"]["email"]["smtp"]["password_set"], json!(false));
    assert!(!patched.json.to_string().contains("replaced"));
    let stored = stored_email(&app, &t, id).await;
    assert_eq!(stored["imap"]["password"], json!("replaced"));
    assert!(stored["smtp"].get("password").is_none());
}

async fn the_connection_check_says_what_fails(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let Some(d) = Dovecot::start(&[(SHOP, IMAP_PASSWORD)]) else { return };
    let relay = MailRelay::start(Some((SHOP, SMTP_PASSWORD)), None).await;
    let t = app.tenant("Checks").await;
    let base = format!("/api/v1/accounts/{}/inboxes", t.account);
    let created = app.post(&base, &t.owner_token, inbox_body(d.port, relay.addr.port(), &relay.ca_pem)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_i64().unwrap();
    let check = format!("{base}/{id}/check");

    let ok = app.post(&check, &t.owner_token, json!({})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    assert_eq!(ok.json["imap"]["ok"], json!(true), "{}", ok.json);
    assert_eq!(ok.json["imap"]["idle"], json!(true));
    assert_eq!(ok.json["imap"]["messages"], json!(0));
    assert_eq!(ok.json["smtp"], json!({"ok": true}));

    // Agents cannot probe servers.
    assert_eq!(app.post(&check, &t.agent_token, json!({})).await.status, StatusCode::FORBIDDEN);
    // Only e-mail inboxes have servers.
    let api = app.post(&format!("{base}/{}/check", t.inbox), &t.owner_token, json!({})).await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", api.json);

    // Wrong passwords and a missing folder: each part says what failed.
    let mut config = created.json["config"].clone();
    config["email"]["imap"]["password"] = json!("wrong");
    config["email"]["smtp"]["password"] = json!("wrong");
    let patched =
        app.call(Method::PATCH, &format!("{base}/{id}"), Some(&t.owner_token), Some(json!({"config": config}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    let bad = app.post(&check, &t.owner_token, json!({})).await;
    assert_eq!(bad.status, StatusCode::OK, "{}", bad.json);
    assert_eq!(bad.json["imap"]["ok"], json!(false));
    let imap_error = bad.json["imap"]["error"].as_str().unwrap();
    assert!(imap_error.contains("refused the login"), "{imap_error}");
    assert_eq!(bad.json["smtp"]["ok"], json!(false));
    let smtp_error = bad.json["smtp"]["error"].as_str().unwrap();
    assert!(smtp_error.contains("refused"), "{smtp_error}");

    let mut config = patched.json["config"].clone();
    config["email"]["imap"]["password"] = json!(IMAP_PASSWORD);
    config["email"]["folders"] = json!(["INBOX", "Orders"]);
    config["email"].as_object_mut().unwrap().remove("smtp");
    let patched =
        app.call(Method::PATCH, &format!("{base}/{id}"), Some(&t.owner_token), Some(json!({"config": config}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    let folder = app.post(&check, &t.owner_token, json!({})).await;
    assert_eq!(folder.json["imap"]["ok"], json!(false), "{}", folder.json);
    let folder_error = folder.json["imap"]["error"].as_str().unwrap();
    assert!(folder_error.contains("\"Orders\""), "{folder_error}");
    assert!(folder.json.get("smtp").is_none(), "no outgoing server set: {}", folder.json);
}
