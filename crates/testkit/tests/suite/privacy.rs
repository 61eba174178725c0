//! Roles and privacy through the API, on both stores: custom roles limit
//! what agents do; buyers' phone numbers and e-mail addresses are masked
//! for roles that may not see them, and revealed on demand with an audit
//! entry; a buyer's data exports as a ZIP with their files; an erasure job
//! leaves nothing of them in any table; retention deletes old
//! conversations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use ferry_core::clock::{Clock, FixedClock};
use ferry_storage::AuditQuery;
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Read;
use std::sync::Arc;

on_both!(
    custom_roles_limit_what_agents_do,
    masked_contacts_and_the_audited_reveal,
    a_contact_exports_as_a_zip_with_their_files,
    erasing_a_contact_leaves_nothing_of_them,
    retention_deletes_old_conversations,
);

const EMAIL: &str = "zelda.quixote@example.com";
const PHONE: &str = "+34612345678";
const NAME: &str = "Zelda Quixote";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRzelda-photo";

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// A message from Zelda (with her e-mail and phone and a photo); returns
/// (conversation id, contact id).
async fn zelda_writes(app: &TestApp, t: &Tenant, ext: &str) -> (i64, i64) {
    let body = json!({
        "external_id": ext,
        "sender": { "handle": "zelda", "name": NAME, "email": EMAIL, "phone": PHONE },
        "text": format!("Hello, {NAME} here; where is my parcel?"),
        "attachments": [{
            "data_base64": base64::engine::general_purpose::STANDARD.encode(PNG),
            "content_type": "image/png", "filename": "zelda-photo.png",
        }],
    });
    let r = app.webhook(t, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let conv = r.json["conversation_id"].as_i64().unwrap();
    let c = app.get(&format!("{}/conversations/{conv}", acct(t)), &t.owner_token).await;
    (conv, c.json["contact_id"].as_i64().unwrap())
}

/// Creates a role and gives it to the tenant's agent; returns its id.
async fn agent_gets_role(app: &TestApp, t: &Tenant, name: &str, permissions: Value) -> i64 {
    let r = app
        .post(&format!("{}/roles", acct(t)), &t.owner_token, json!({ "name": name, "permissions": permissions }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let id = r.json["id"].as_i64().unwrap();
    let path = format!("{}/agents/{}/custom_role", acct(t), t.agent_id);
    let r = app.call(Method::PUT, &path, Some(&t.owner_token), Some(json!({ "custom_role_id": id }))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["custom_role"]["id"], id);
    id
}

async fn audit_actions(app: &TestApp, t: &Tenant) -> Vec<(String, Option<i64>)> {
    let q = AuditQuery { limit: 100, ..AuditQuery::default() };
    let entries = app.app.storage.list_audit(t.account, q).await.unwrap();
    entries.into_iter().map(|e| (e.action, e.actor_id.map(|a| a.0))).collect()
}

async fn custom_roles_limit_what_agents_do(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Roles").await;
    let other = app.tenant("Other").await;
    let (conv, _) = zelda_writes(&app, &t, "m1").await;
    let reply = |token: &str| {
        let (app, path) = (&app, format!("{}/conversations/{conv}/messages", acct(&t)));
        let token = token.to_owned();
        async move { app.post(&path, &token, json!({ "content": "On its way" })).await.status }
    };
    // Built-in agents reply but do not manage inboxes or roles.
    assert_eq!(reply(&t.agent_token).await, StatusCode::CREATED);
    let inbox = json!({ "name": "More", "channel": "api" });
    assert_eq!(
        app.post(&format!("{}/inboxes", acct(&t)), &t.agent_token, inbox.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get(&format!("{}/roles", acct(&t)), &t.agent_token).await.status, StatusCode::FORBIDDEN);

    // A role that only looks.
    let viewer = agent_gets_role(&app, &t, "Viewer", json!(["view"])).await;
    assert_eq!(reply(&t.agent_token).await, StatusCode::FORBIDDEN);
    let r = app
        .post(&format!("{}/conversations/{conv}/status", acct(&t)), &t.agent_token, json!({ "status": "resolved" }))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    assert_eq!(app.get(&format!("{}/conversations/{conv}", acct(&t)), &t.agent_token).await.status, StatusCode::OK);
    let mine = app.get(&format!("{}/permissions", acct(&t)), &t.agent_token).await;
    assert_eq!(
        (mine.json["permissions"].clone(), mine.json["custom_role_id"].clone()),
        (json!(["view"]), json!(viewer))
    );

    // Widened to inboxes: the agent may create one now.
    let path = format!("{}/roles/{viewer}", acct(&t));
    let r = app
        .call(Method::PATCH, &path, Some(&t.owner_token), Some(json!({ "permissions": ["view", "manage_inboxes"] })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(
        app.post(&format!("{}/inboxes", acct(&t)), &t.agent_token, inbox.clone()).await.status,
        StatusCode::CREATED
    );
    // Without view, conversations are closed to them.
    app.call(Method::PATCH, &path, Some(&t.owner_token), Some(json!({ "permissions": ["reply"] }))).await;
    assert_eq!(app.get(&format!("{}/conversations", acct(&t)), &t.agent_token).await.status, StatusCode::FORBIDDEN);

    // Names are checked and unique; other accounts' roles are not found.
    let r = app.post(&format!("{}/roles", acct(&t)), &t.owner_token, json!({ "name": "Viewer" })).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app.post(&format!("{}/roles", acct(&t)), &t.owner_token, json!({ "name": "admin" })).await;
    assert_eq!(
        (r.status, r.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
        "{:?}",
        r.json
    );
    let r =
        app.post(&format!("{}/roles", acct(&t)), &t.owner_token, json!({ "name": "X", "permissions": ["fly"] })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.call(Method::PATCH, &path, Some(&other.owner_token), Some(json!({ "name": "Mine" }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let theirs = format!("{}/agents/{}/custom_role", acct(&other), other.agent_id);
    let r = app.call(Method::PUT, &theirs, Some(&other.owner_token), Some(json!({ "custom_role_id": viewer }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);

    // Deleting the role gives the agent back their built-in role.
    assert_eq!(app.call(Method::DELETE, &path, Some(&t.owner_token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(reply(&t.agent_token).await, StatusCode::CREATED);
    let list = app.get(&format!("{}/roles", acct(&t)), &t.owner_token).await;
    assert_eq!(list.json, json!([]));
    let actions: Vec<String> = audit_actions(&app, &t).await.into_iter().map(|a| a.0).collect();
    for a in ["role.create", "role.assign", "role.update", "role.delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
}

async fn masked_contacts_and_the_audited_reveal(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Masks").await;
    let (conv, contact) = zelda_writes(&app, &t, "m1").await;
    // Owners see everything in clear.
    let c = app.get(&format!("{}/contacts/{contact}", acct(&t)), &t.owner_token).await;
    assert_eq!((c.json["email"].as_str(), c.json["phone"].as_str()), (Some(EMAIL), Some(PHONE)));

    agent_gets_role(&app, &t, "Masked", json!(["view", "reply"])).await;
    let c = app.get(&format!("{}/contacts/{contact}", acct(&t)), &t.agent_token).await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.json["email"], "z•••@example.com");
    assert_eq!(c.json["phone"], "+34••••••678");
    assert_eq!(c.json["name"], NAME);
    let text = c.json.to_string();
    assert!(!text.contains(EMAIL) && !text.contains(PHONE), "{text}");
    for path in [
        format!("{}/contacts", acct(&t)),
        format!("{}/contacts?q=zelda", acct(&t)),
        format!("{}/conversations/{conv}", acct(&t)),
        format!("{}/conversations", acct(&t)),
        format!("{}/search?q=zelda", acct(&t)),
    ] {
        let r = app.get(&path, &t.agent_token).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.json);
        let text = r.json.to_string();
        assert!(!text.contains(EMAIL) && !text.contains(PHONE), "{path}: {text}");
    }
    let found = app.get(&format!("{}/search?q=zelda", acct(&t)), &t.agent_token).await;
    assert_eq!(found.json["contacts"][0]["email"], "z•••@example.com", "{:?}", found.json);

    // Revealing needs the right, and is audited.
    let unmask = format!("{}/contacts/{contact}/unmask", acct(&t));
    assert_eq!(app.post(&unmask, &t.agent_token, json!({})).await.status, StatusCode::FORBIDDEN);
    agent_gets_role(&app, &t, "Revealer", json!(["view", "unmask"])).await;
    let r = app.post(&unmask, &t.agent_token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!((r.json["email"].as_str(), r.json["phone"].as_str()), (Some(EMAIL), Some(PHONE)));
    assert!(audit_actions(&app, &t).await.contains(&("contact.unmask".to_owned(), Some(t.agent_id))));
    // Still masked elsewhere.
    let c = app.get(&format!("{}/contacts/{contact}", acct(&t)), &t.agent_token).await;
    assert_eq!(c.json["email"], "z•••@example.com");
    // Another account's contact is not found.
    let other = app.tenant("Elsewhere").await;
    let r = app.post(&format!("{}/contacts/{contact}/unmask", acct(&other)), &other.owner_token, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn download(app: &TestApp, path: &str, token: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let r = app.http.get(format!("{}{path}", app.base)).header("api_access_token", token).send().await.unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, ct, r.bytes().await.unwrap().to_vec())
}

async fn a_contact_exports_as_a_zip_with_their_files(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Export").await;
    let (_, contact) = zelda_writes(&app, &t, "m1").await;
    zelda_writes(&app, &t, "m2").await;
    let path = format!("{}/contacts/{contact}/export", acct(&t));
    let (status, _, _) = download(&app, &path, &t.agent_token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, ct, bytes) = download(&app, &path, &t.owner_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/zip"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    let files: Vec<&String> = names.iter().filter(|n| n.starts_with("attachments/")).collect();
    assert_eq!(files.len(), 1, "one stored photo (the same bytes twice): {names:?}");
    for n in ["audit.json", "contact.json", "conversations.json", "csat.json", "orders.json", "profile.json"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    let read = |zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str| {
        let mut f = zip.by_name(name).unwrap();
        assert_eq!(f.compression(), zip::CompressionMethod::Deflated);
        let mut out = Vec::new();
        f.read_to_end(&mut out).unwrap();
        out
    };
    let photo = read(&mut zip, &files[0].clone());
    assert_eq!(photo, PNG);
    let c: Value = serde_json::from_slice(&read(&mut zip, "contact.json")).unwrap();
    assert_eq!(c["contact"]["email"], EMAIL);
    assert!(c["contact"]["identities"].as_array().unwrap().len() >= 2);
    let convs: Value = serde_json::from_slice(&read(&mut zip, "conversations.json")).unwrap();
    let messages = convs["conversations"][0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].to_string().contains("where is my parcel"));
    assert!(audit_actions(&app, &t).await.iter().any(|a| a.0 == "contact.export"));
    let other = app.tenant("Not theirs").await;
    let (status, _, _) =
        download(&app, &format!("{}/contacts/{contact}/export", acct(&other)), &other.owner_token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn erasing_a_contact_leaves_nothing_of_them(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Erase").await;
    let (conv, contact) = zelda_writes(&app, &t, "m1").await;
    let r = app
        .post(
            &format!("{}/conversations/{conv}/messages", acct(&t)),
            &t.agent_token,
            json!({ "content": format!("Dear {NAME}, we will call {PHONE} or write to {EMAIL}") }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.owner_token).await;
    let photo = msgs.json.to_string();
    let key = photo.split("/attachments/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let file = format!("{}/attachments/{key}", acct(&t));
    assert_eq!(app.get(&file, &t.owner_token).await.status, StatusCode::OK);
    app.drain_jobs().await;
    for needle in [EMAIL, PHONE, NAME] {
        assert!(!app.app.storage.scan_text(needle).await.unwrap().is_empty(), "{needle} is stored before");
    }

    let path = format!("{}/contacts/{contact}", acct(&t));
    assert_eq!(app.call(Method::DELETE, &path, Some(&t.agent_token), None).await.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::DELETE, &path, Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.json);
    assert_eq!(r.json["state"], "queued");
    assert!(app.drain_jobs().await >= 1);

    for needle in [EMAIL, PHONE, NAME, "zelda-photo"] {
        assert_eq!(app.app.storage.scan_text(needle).await.unwrap(), Vec::<String>::new(), "{needle} is left");
    }
    assert_eq!(app.get(&file, &t.owner_token).await.status, StatusCode::NOT_FOUND);
    // The skeleton stays for the statistics.
    let c = app.get(&format!("{}/conversations/{conv}", acct(&t)), &t.owner_token).await;
    assert_eq!(c.status, StatusCode::OK);
    let msgs = app.get(&format!("{}/conversations/{conv}/messages", acct(&t)), &t.owner_token).await;
    assert!(msgs.json.to_string().contains("[erased]"));
    let contact_now = app.get(&path, &t.owner_token).await;
    assert_eq!((contact_now.json["email"].clone(), contact_now.json["identities"].clone()), (Value::Null, json!([])));
    let actions: Vec<String> = audit_actions(&app, &t).await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"contact.erase_requested".to_owned()) && actions.contains(&"contact.erased".to_owned()));
    let other = app.tenant("Not theirs").await;
    let r =
        app.call(Method::DELETE, &format!("{}/contacts/{contact}", acct(&other)), Some(&other.owner_token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn retention_deletes_old_conversations(b: Backend) {
    let start = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
    let clock = Arc::new(FixedClock::new(start));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let Some(app) = spawn_with(SpawnOptions { clock: dyn_clock, ..SpawnOptions::new(b) }).await else { return };
    let t = app.tenant("Retention").await;
    let (old, _) = zelda_writes(&app, &t, "m1").await;
    clock.advance(Duration::days(20));
    let r = app.webhook(&t, &buyer_message("n1", "newer", "still here")).await;
    let newer = r.json["conversation_id"].as_i64().unwrap();

    let path = format!("{}/retention", acct(&t));
    assert_eq!(
        app.get(&path, &t.owner_token).await.json,
        json!({ "conversation_days": null, "attachment_days": null })
    );
    let bad = app
        .call(
            Method::PUT,
            &path,
            Some(&t.owner_token),
            Some(json!({ "conversation_days": 0, "attachment_days": null })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let set = json!({ "conversation_days": 30, "attachment_days": null });
    assert_eq!(
        app.call(Method::PUT, &path, Some(&t.agent_token), Some(set.clone())).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.call(Method::PUT, &path, Some(&t.owner_token), Some(set.clone())).await;
    assert_eq!((r.status, r.json.clone()), (StatusCode::OK, set));

    // Not old enough yet.
    app.app.housekeeping().await.unwrap();
    assert_eq!(app.get(&format!("{}/conversations/{old}", acct(&t)), &t.owner_token).await.status, StatusCode::OK);
    clock.advance(Duration::days(15));
    let pruned = app.app.housekeeping().await.unwrap();
    assert_eq!(pruned.retention.conversations, 1);
    assert_eq!(
        app.get(&format!("{}/conversations/{old}", acct(&t)), &t.owner_token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&format!("{}/conversations/{newer}", acct(&t)), &t.owner_token).await.status, StatusCode::OK);
    let actions: Vec<String> = audit_actions(&app, &t).await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"retention.sweep".to_owned()) && actions.contains(&"retention.update".to_owned()));
}
