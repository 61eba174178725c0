//! Files buyers and agents send are served from Ferry's own origin, where
//! agents are logged in: a web page uploaded as an "attachment" must never
//! be shown in place and run script. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    the_widget_refuses_web_pages_and_serves_files_as_downloads,
    the_console_refuses_web_pages_and_serves_files_as_downloads,
    a_channel_page_is_kept_but_only_ever_downloaded,
);

const PAGE: &[u8] = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/auth/me')</script></body></html>";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// Asserts a file response cannot run in the page: sandboxed, not sniffed,
/// and a download unless it is an image shown as one.
fn assert_safe(headers: &reqwest::header::HeaderMap, inline_image: Option<&str>) {
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.split(';').any(|d| d.trim() == "sandbox"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    let ct = headers["content-type"].to_str().unwrap();
    match inline_image {
        Some(image) => assert_eq!((disposition, ct), ("inline", image)),
        None => {
            assert_eq!(disposition, "attachment");
            assert!(!ct.contains("html") && !ct.contains("xml") && !ct.contains("script"), "{ct}");
        }
    }
}

async fn widget_upload(app: &TestApp, inbox: i64, token: &str, ct: &str, body: &[u8]) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}/widget/{inbox}/attachments?client_id=c-{}&filename=f", app.base, body.len()))
        .header("x-visitor-token", token)
        .header("content-type", ct)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn the_widget_refuses_web_pages_and_serves_files_as_downloads(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Widget Files").await;
    let inbox = app
        .post(&format!("{}/inboxes", acct(&t)), &t.owner_token, json!({"name": "Chat", "channel": "web_widget"}))
        .await;
    assert_eq!(inbox.status, StatusCode::CREATED, "{:?}", inbox.json);
    let inbox = inbox.json["id"].as_i64().unwrap();
    let session = app.http.post(format!("{}/widget/{inbox}/sessions", app.base)).json(&json!({})).send().await.unwrap();
    let token = session.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();

    // A web page, whatever type the visitor claims, is refused with a clear
    // error, and nothing is posted.
    for ct in ["text/html", "image/png", "text/plain", "application/octet-stream"] {
        let (status, e) = widget_upload(&app, inbox, &token, ct, PAGE).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ct}: {e:?}");
        assert_eq!(e["error"]["field"], "file");
        assert!(e["error"]["message"].as_str().unwrap().contains("cannot be attached"), "{e:?}");
    }
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
    assert_eq!(widget_upload(&app, inbox, &token, "image/svg+xml", svg).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = app
        .http
        .get(format!("{}/widget/{inbox}/messages", app.base))
        .header("x-visitor-token", &token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed:?}");

    // An image is shown in place; a PDF is a download.
    let (status, image) = widget_upload(&app, inbox, &token, "image/png", PNG).await;
    assert_eq!(status, StatusCode::CREATED, "{image:?}");
    let (status, pdf) = widget_upload(&app, inbox, &token, "application/pdf", b"%PDF-1.4 label").await;
    assert_eq!(status, StatusCode::CREATED, "{pdf:?}");
    for (view, inline) in [(&image, Some("image/png")), (&pdf, None)] {
        let url = view["parts"][0]["attachment"]["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("/widget/{inbox}/attachments/")), "{url}");
        let r = app.http.get(format!("{}{url}?token={token}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_safe(r.headers(), inline);
        // The console's link to the same file answers alike.
        let key = url.rsplit('/').next().unwrap();
        let r = app.get(&format!("{}/attachments/{key}", acct(&t)), &t.agent_token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_safe(&r.headers, inline);
    }
}

async fn the_console_refuses_web_pages_and_serves_files_as_downloads(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Console Files").await;
    let ap = acct(&t);
    for ct in ["text/html", "application/xhtml+xml", "image/png", "text/plain"] {
        let r = app.post_bytes(&format!("{ap}/attachments?filename=x.html"), &t.agent_token, ct, PAGE.to_vec()).await;
        assert_eq!(
            (r.status, r.json["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("file")),
            "{ct}"
        );
    }
    let xml = b"<?xml version=\"1.0\"?><x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">alert(1)</x:script>";
    let r = app.post_bytes(&format!("{ap}/attachments"), &t.agent_token, "application/xml", xml.to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Bytes that are not the image they claim are stored as opaque bytes and
    // downloaded, never shown.
    let r = app.post_bytes(&format!("{ap}/attachments"), &t.agent_token, "image/png", b"GIF89a-ish".to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["content_type"], "image/gif");
    let r = app.post_bytes(&format!("{ap}/attachments"), &t.agent_token, "image/png", b"plain words".to_vec()).await;
    assert_eq!(r.json["content_type"], "application/octet-stream");
    let file = app.get(r.json["url"].as_str().unwrap(), &t.agent_token).await;
    assert_safe(&file.headers, None);

    let r = app.post_bytes(&format!("{ap}/attachments"), &t.agent_token, "image/png", PNG.to_vec()).await;
    let file = app.get(r.json["url"].as_str().unwrap(), &t.agent_token).await;
    assert_safe(&file.headers, Some("image/png"));
}

async fn a_channel_page_is_kept_but_only_ever_downloaded(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Channel Files").await;
    let data = base64::engine::general_purpose::STANDARD.encode(PAGE);
    let body = json!({
        "external_id": "receipt-1",
        "sender": {"handle": "buyer-9"},
        "text": "My receipt",
        "attachments": [{"data_base64": data, "content_type": "text/html", "filename": "receipt.html"}],
    });
    let r = app.webhook(&t, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let conv = r.json["conversation_id"].as_i64().unwrap();
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.agent_token).await;
    let parts = msgs.json.as_array().unwrap().iter().flat_map(|m| m["parts"].as_array().cloned().unwrap_or_default());
    let file = parts.filter_map(|p| p.get("attachment").cloned()).next().expect("the receipt is kept");
    assert_eq!(file["content_type"], "application/octet-stream");
    assert_eq!(file["filename"], "receipt.html");
    let r = app.get(file["url"].as_str().unwrap(), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_safe(&r.headers, None);
}
