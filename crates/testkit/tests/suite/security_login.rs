//! Sign-in security through the HTTP API: two-factor enrolment and login
//! (codes computed from the secret at the node's fixed clock), single-use
//! recovery codes, refused replays, an account that requires two-factor
//! authentication, failure locks (passwords, codes, API tokens) with their
//! audit entries, and the session list with revocation and rotation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use ferry_core::clock::{Clock, FixedClock};
use ferry_storage::AuditQuery;
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    two_factor_enrol_login_and_disable,
    recovery_codes_work_once_and_codes_never_twice,
    required_two_factor_limits_sessions_to_set_up,
    repeated_wrong_passwords_lock_the_login,
    repeated_wrong_codes_lock_the_second_step,
    invalid_api_tokens_lock_the_address,
    sessions_are_listed_revoked_and_rotated,
);

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).single().unwrap()
}

async fn spawn(b: Backend) -> Option<(TestApp, Arc<FixedClock>)> {
    let clock = Arc::new(FixedClock::new(start()));
    let mut o = SpawnOptions::new(b);
    o.clock = clock.clone();
    Some((spawn_with(o).await?, clock))
}

/// A browser-like caller: keeps the session cookie it was given.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
    agent: &'static str,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp, agent: &'static str) -> Self {
        Self { app, cookie: None, agent }
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req =
            self.app.http.request(method, format!("{}{path}", self.app.base)).header("user-agent", self.agent);
        if let Some(c) = &self.cookie {
            // A browser on Ferry's own pages names them as the origin.
            req = req.header("cookie", c).header("origin", &self.app.base);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(set) = headers.get("set-cookie") {
            let set = set.to_str().unwrap();
            assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        let bytes = resp.bytes().await.unwrap();
        Answer { status, json: serde_json::from_slice(&bytes).unwrap_or(Value::Null), headers }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn login(&mut self, email: &str, password: &str) -> Answer {
        self.post("/api/v1/auth/login", json!({ "email": email, "password": password })).await
    }
}

fn code_at(secret: &str, at: DateTime<Utc>) -> String {
    let t = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("user".to_owned())
        .build()
        .unwrap();
    t.generate(u64::try_from(at.timestamp()).unwrap()).to_string()
}

/// Logs in and turns two-factor authentication on; returns the secret and
/// the recovery codes.
async fn enrol(b: &mut Browser<'_>, clock: &FixedClock, email: &str, password: &str) -> (String, Vec<String>) {
    if b.cookie.is_none() {
        assert_eq!(b.login(email, password).await.status, StatusCode::OK);
    }
    let setup = b.post("/api/v1/profile/two_factor/setup", json!({})).await;
    assert_eq!(setup.status, StatusCode::OK, "{:?}", setup.json);
    let secret = setup.json["secret"].as_str().unwrap().to_owned();
    let r = b.post("/api/v1/profile/two_factor/enable", json!({ "code": code_at(&secret, clock.now()) })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let codes: Vec<String> =
        r.json["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (secret, codes)
}

async fn audit_actions(app: &TestApp, t: &Tenant) -> Vec<String> {
    let list = app.app.storage.list_audit(t.account, AuditQuery { limit: 100, ..AuditQuery::default() }).await.unwrap();
    list.into_iter().map(|e| e.action).collect()
}

async fn two_factor_enrol_login_and_disable(b: Backend) {
    let Some((app, clock)) = spawn(b).await else { return };
    let t = app.tenant("Enrol").await;
    let mut web = Browser::new(&app, "Firefox");
    assert_eq!(web.login("owner@enrol.example", "owner-password").await.status, StatusCode::OK);
    let st = web.get("/api/v1/profile/two_factor").await;
    assert_eq!((st.status, &st.json["enabled"], &st.json["required"]), (StatusCode::OK, &json!(false), &json!(false)));

    // Enabling before a setup is a conflict; a setup is not active yet.
    let r = web.post("/api/v1/profile/two_factor/enable", json!({ "code": "123456" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    let setup = web.post("/api/v1/profile/two_factor/setup", json!({})).await;
    assert_eq!(setup.status, StatusCode::OK);
    let secret = setup.json["secret"].as_str().unwrap().to_owned();
    let uri = setup.json["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("issuer=Ferry"));
    assert!(setup.json["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(web.get("/api/v1/profile/two_factor").await.json["enabled"], false);

    // A wrong code does not enable it.
    let good = code_at(&secret, clock.now());
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let r = web.post("/api/v1/profile/two_factor/enable", json!({ "code": wrong })).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    assert_eq!(r.json["error"]["field"], "code");

    // The right one does: ten recovery codes, once; the session is
    // replaced by a new one (the old cookie no longer works).
    let before = web.cookie.clone();
    let r = web.post("/api/v1/profile/two_factor/enable", json!({ "code": good })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let codes = r.json["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert_ne!(web.cookie, before);
    let mut old = Browser { app: &app, cookie: before, agent: "Firefox" };
    assert_eq!(old.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);
    let st = web.get("/api/v1/profile/two_factor").await;
    assert_eq!((st.json["enabled"].as_bool(), st.json["recovery_codes_left"].as_u64()), (Some(true), Some(10)));
    // Enabling again or setting up over it is refused.
    let r = web.post("/api/v1/profile/two_factor/setup", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Login: the password gives a challenge, not a session.
    let mut other = Browser::new(&app, "Chromium");
    let r = other.login("owner@enrol.example", "owner-password").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert!(other.cookie.is_none());
    assert_eq!(r.json["two_factor_required"], true);
    let challenge = r.json["challenge"].as_str().unwrap().to_owned();
    assert_eq!(other.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);
    // The code that enabled it was used: it is not accepted again.
    let r = other.post("/api/v1/auth/login/two_factor", json!({ "challenge": challenge, "code": good })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A wrong challenge is refused too.
    clock.advance(Duration::seconds(30));
    let now_code = code_at(&secret, clock.now());
    let r = other.post("/api/v1/auth/login/two_factor", json!({ "challenge": "nope", "code": now_code })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = other.post("/api/v1/auth/login/two_factor", json!({ "challenge": challenge, "code": now_code })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(r.json["user"]["email"], "owner@enrol.example");
    assert!(other.cookie.is_some());
    assert_eq!(other.get(&format!("/api/v1/accounts/{}/conversations", t.account)).await.status, StatusCode::OK);
    // The challenge was used up.
    let r = other.post("/api/v1/auth/login/two_factor", json!({ "challenge": challenge, "code": now_code })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Disabling needs the password and a code.
    clock.advance(Duration::seconds(30));
    let c = code_at(&secret, clock.now());
    let r = web.post("/api/v1/profile/two_factor/disable", json!({ "password": "wrong-password", "code": c })).await;
    assert_eq!((r.status, &r.json["error"]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("password")));
    let r =
        web.post("/api/v1/profile/two_factor/disable", json!({ "password": "owner-password", "code": "999x" })).await;
    assert_eq!((r.status, &r.json["error"]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("code")));
    let r = web.post("/api/v1/profile/two_factor/disable", json!({ "password": "owner-password", "code": c })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.json);
    // Other sessions ended; this one goes on with a new secret.
    assert_eq!(other.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(web.get("/api/v1/profile/two_factor").await.json["enabled"], false);
    let mut again = Browser::new(&app, "Safari");
    assert_eq!(again.login("owner@enrol.example", "owner-password").await.status, StatusCode::OK);

    let actions = audit_actions(&app, &t).await;
    assert!(actions.contains(&"auth.two_factor_enabled".to_owned()), "{actions:?}");
    assert!(actions.contains(&"auth.two_factor_disabled".to_owned()), "{actions:?}");
}

async fn recovery_codes_work_once_and_codes_never_twice(b: Backend) {
    let Some((app, clock)) = spawn(b).await else { return };
    let _t = app.tenant("Recover").await;
    let mut web = Browser::new(&app, "Firefox");
    let (secret, codes) = enrol(&mut web, &clock, "agent@recover.example", "agent-password").await;
    let challenge = |r: &Answer| r.json["challenge"].as_str().unwrap().to_owned();

    // A recovery code, typed in capitals, signs in once.
    let mut a = Browser::new(&app, "A");
    let ch = challenge(&a.login("agent@recover.example", "agent-password").await);
    let r = a.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": codes[3].to_uppercase() })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let mut b2 = Browser::new(&app, "B");
    let ch = challenge(&b2.login("agent@recover.example", "agent-password").await);
    let r = b2.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": codes[3] })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let st = a.get("/api/v1/profile/two_factor").await;
    assert_eq!(st.json["recovery_codes_left"], 9);
    // Another code still works on the same challenge.
    let r = b2.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": codes[4] })).await;
    assert_eq!(r.status, StatusCode::OK);

    // A TOTP code is accepted once within its step, not twice.
    clock.advance(Duration::seconds(60));
    let code = code_at(&secret, clock.now());
    let mut c = Browser::new(&app, "C");
    let ch = challenge(&c.login("agent@recover.example", "agent-password").await);
    assert_eq!(
        c.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": code })).await.status,
        StatusCode::OK
    );
    let mut d = Browser::new(&app, "D");
    let ch = challenge(&d.login("agent@recover.example", "agent-password").await);
    let r = d.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": code })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Nor is an earlier step's code once a later one was used.
    let earlier = code_at(&secret, clock.now() - Duration::seconds(30));
    let r = d.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": earlier })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The next step's code is fine.
    clock.advance(Duration::seconds(30));
    let r = d
        .post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": code_at(&secret, clock.now()) }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A challenge ends after five minutes.
    let mut e = Browser::new(&app, "E");
    let ch = challenge(&e.login("agent@recover.example", "agent-password").await);
    clock.advance(Duration::minutes(6));
    let r = e
        .post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": code_at(&secret, clock.now()) }))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn required_two_factor_limits_sessions_to_set_up(b: Backend) {
    let Some((app, clock)) = spawn(b).await else { return };
    let t = app.tenant("Strict").await;
    let sec = format!("/api/v1/accounts/{}/security", t.account);
    assert_eq!(app.get(&sec, &t.owner_token).await.json["require_two_factor"], false);
    // Only owners change it.
    let r = app.call(Method::PUT, &sec, Some(&t.agent_token), Some(json!({ "require_two_factor": true }))).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let r = app.call(Method::PUT, &sec, Some(&t.owner_token), Some(json!({ "require_two_factor": "yes" }))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app.tenant("Other").await;
    let r = app.call(Method::PUT, &sec, Some(&other.owner_token), Some(json!({ "require_two_factor": true }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::PUT, &sec, Some(&t.owner_token), Some(json!({ "require_two_factor": true }))).await;
    assert_eq!((r.status, &r.json["require_two_factor"]), (StatusCode::OK, &json!(true)));

    // The agent has no second factor: the session may only set one up.
    let mut web = Browser::new(&app, "Firefox");
    let r = web.login("agent@strict.example", "agent-password").await;
    assert_eq!((r.status, &r.json["two_factor_setup_required"]), (StatusCode::OK, &json!(true)));
    let convs = format!("/api/v1/accounts/{}/conversations", t.account);
    let r = web.get(&convs).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "two_factor_required"));
    assert_eq!(web.get(&sec).await.code(), "two_factor_required");
    let me = web.get("/api/v1/profile").await;
    assert_eq!((me.status, &me.json["two_factor_setup_required"]), (StatusCode::OK, &json!(true)));
    assert_eq!(web.get("/api/v1/profile/two_factor").await.json["required"], true);
    // Another account is not affected.
    let mut elsewhere = Browser::new(&app, "Firefox");
    assert_eq!(elsewhere.login("agent@other.example", "agent-password").await.status, StatusCode::OK);
    assert_eq!(
        elsewhere.get(&format!("/api/v1/accounts/{}/conversations", other.account)).await.status,
        StatusCode::OK
    );

    // Once set up, the (new) session may do everything.
    enrol(&mut web, &clock, "agent@strict.example", "agent-password").await;
    let r = web.get(&convs).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(web.get("/api/v1/profile").await.json["two_factor_setup_required"], false);
    // Switched off again, the owner's own session (no second factor) is
    // unlimited.
    let mut owner = Browser::new(&app, "Firefox");
    assert_eq!(owner.login("owner@strict.example", "owner-password").await.json["two_factor_setup_required"], true);
    assert_eq!(owner.get(&convs).await.status, StatusCode::FORBIDDEN);
    let r = app.call(Method::PUT, &sec, Some(&t.owner_token), Some(json!({ "require_two_factor": false }))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(owner.get(&convs).await.status, StatusCode::OK);
    assert!(audit_actions(&app, &t).await.contains(&"account.require_two_factor".to_owned()));
}

async fn repeated_wrong_passwords_lock_the_login(b: Backend) {
    let Some((app, clock)) = spawn(b).await else { return };
    let t = app.tenant("Locked").await;
    let mut web = Browser::new(&app, "Firefox");
    for _ in 0..10 {
        let r = web.login("agent@locked.example", "wrong-password").await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }
    // Locked: even the right password is refused, with Retry-After.
    let r = web.login("Agent@Locked.example", "agent-password").await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "login_locked"), "{:?}", r.json);
    let retry: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(retry, 15 * 60);
    assert!(web.cookie.is_none());
    // Another user is not locked (the address has not reached its limit).
    assert_eq!(web.login("owner@locked.example", "owner-password").await.status, StatusCode::OK);
    let actions = audit_actions(&app, &t).await;
    assert!(actions.contains(&"auth.locked".to_owned()), "{actions:?}");
    assert!(actions.contains(&"auth.failed_attempts".to_owned()), "{actions:?}");
    let entry = app
        .app
        .storage
        .list_audit(t.account, AuditQuery { action: Some("auth.locked".into()), limit: 10, ..AuditQuery::default() })
        .await
        .unwrap();
    assert_eq!(entry.len(), 1);
    assert_eq!(entry[0].target_id, t.agent_id.to_string());
    assert_eq!(entry[0].details["scope"], "login_email");
    // No e-mail in the audit entry.
    assert!(!entry[0].details.to_string().contains("locked.example"));

    // Still locked a minute before the end; open after it.
    clock.advance(Duration::minutes(14));
    assert_eq!(web.login("agent@locked.example", "agent-password").await.status, StatusCode::TOO_MANY_REQUESTS);
    clock.advance(Duration::minutes(1) + Duration::seconds(1));
    let mut fresh = Browser::new(&app, "Firefox");
    assert_eq!(fresh.login("agent@locked.example", "agent-password").await.status, StatusCode::OK);

    // An e-mail nobody has is locked alike (no hint that it is unknown).
    for _ in 0..10 {
        assert_eq!(fresh.login("nobody@locked.example", "whatever-pw").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(fresh.login("nobody@locked.example", "whatever-pw").await.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn repeated_wrong_codes_lock_the_second_step(b: Backend) {
    let Some((app, clock)) = spawn(b).await else { return };
    let t = app.tenant("Codes").await;
    let mut web = Browser::new(&app, "Firefox");
    let (secret, codes) = enrol(&mut web, &clock, "agent@codes.example", "agent-password").await;
    clock.advance(Duration::seconds(30));
    let mut b2 = Browser::new(&app, "Chromium");
    let r = b2.login("agent@codes.example", "agent-password").await;
    let ch = r.json["challenge"].as_str().unwrap().to_owned();
    let good = code_at(&secret, clock.now());
    let wrong = if good == "000000" { "111111" } else { "000000" };
    for _ in 0..10 {
        let r = b2.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": wrong })).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = b2.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": good })).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "login_locked"));
    assert!(r.headers.contains_key("retry-after"));
    let r = b2.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": codes[0] })).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let locks = app
        .app
        .storage
        .list_audit(t.account, AuditQuery { action: Some("auth.locked".into()), limit: 10, ..AuditQuery::default() })
        .await
        .unwrap();
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].details["scope"], "two_factor");
    // After the lock, a new login with a new code works (the recovery code
    // was not used up while locked).
    clock.advance(Duration::minutes(16));
    let r = b2.login("agent@codes.example", "agent-password").await;
    let ch = r.json["challenge"].as_str().unwrap().to_owned();
    let r = b2.post("/api/v1/auth/login/two_factor", json!({ "challenge": ch, "code": codes[0] })).await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn invalid_api_tokens_lock_the_address(b: Backend) {
    let Some((app, clock)) = spawn(b).await else { return };
    let t = app.tenant("Tokens").await;
    let convs = format!("/api/v1/accounts/{}/conversations", t.account);
    for i in 0..20 {
        let r = app.get(&convs, &format!("guess-{i}")).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }
    // The address is locked: a valid token from it is refused for now.
    let r = app.get(&convs, &t.owner_token).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "login_locked"));
    assert_eq!(r.headers["retry-after"], "900");
    clock.advance(Duration::minutes(15));
    assert_eq!(app.get(&convs, &t.owner_token).await.status, StatusCode::OK);
    // A valid token does not count as a failure.
    for _ in 0..25 {
        assert_eq!(app.get(&convs, &t.owner_token).await.status, StatusCode::OK);
    }
}

async fn sessions_are_listed_revoked_and_rotated(b: Backend) {
    let Some((app, clock)) = spawn(b).await else { return };
    let t = app.tenant("Sessions").await;
    let mut firefox = Browser::new(&app, "Firefox");
    let mut chromium = Browser::new(&app, "Chromium");
    assert_eq!(firefox.login("agent@sessions.example", "agent-password").await.status, StatusCode::OK);
    clock.advance(Duration::minutes(1));
    assert_eq!(chromium.login("agent@sessions.example", "agent-password").await.status, StatusCode::OK);
    let mut owner = Browser::new(&app, "Safari");
    assert_eq!(owner.login("owner@sessions.example", "owner-password").await.status, StatusCode::OK);

    let list = firefox.get("/api/v1/profile/sessions").await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json.as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["user_agent"], "Chromium");
    assert_eq!(list[0]["current"], false);
    assert_eq!(list[1]["user_agent"], "Firefox");
    assert_eq!(list[1]["current"], true);
    assert_eq!(list[1]["ip"], "127.0.0.1");
    assert!(list[1]["created_at"].is_string() && list[1]["last_seen_at"].is_string());
    let chromium_id = list[0]["id"].as_i64().unwrap();

    // The owner cannot end the agent's session: not theirs.
    let r = owner.send(Method::DELETE, &format!("/api/v1/profile/sessions/{chromium_id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = owner.send(Method::DELETE, "/api/v1/profile/sessions/not-a-number", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(chromium.get("/api/v1/profile").await.status, StatusCode::OK);
    let r = firefox.send(Method::DELETE, &format!("/api/v1/profile/sessions/{chromium_id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(chromium.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);

    // Log out everywhere else.
    let mut edge = Browser::new(&app, "Edge");
    assert_eq!(edge.login("agent@sessions.example", "agent-password").await.status, StatusCode::OK);
    let mut curl = Browser::new(&app, "curl");
    assert_eq!(curl.login("agent@sessions.example", "agent-password").await.status, StatusCode::OK);
    let r = firefox.post("/api/v1/profile/sessions/revoke_others", json!({})).await;
    assert_eq!((r.status, &r.json["revoked"]), (StatusCode::OK, &json!(2)));
    assert_eq!(edge.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(curl.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(firefox.get("/api/v1/profile").await.status, StatusCode::OK);
    assert_eq!(owner.get("/api/v1/profile").await.status, StatusCode::OK);
    assert_eq!(firefox.get("/api/v1/profile/sessions").await.json.as_array().unwrap().len(), 1);

    // A login from a browser that still holds a session replaces it: a
    // new secret every time.
    let before = firefox.cookie.clone();
    assert_eq!(firefox.login("agent@sessions.example", "agent-password").await.status, StatusCode::OK);
    assert_ne!(firefox.cookie, before);
    let mut stale = Browser { app: &app, cookie: before, agent: "Firefox" };
    assert_eq!(stale.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);

    // A change of role ends the user's sessions.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}/agents/{}", t.account, t.agent_id),
            Some(&t.owner_token),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!(firefox.get("/api/v1/profile").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(owner.get("/api/v1/profile").await.status, StatusCode::OK);
    // A change of name does not.
    assert_eq!(firefox.login("agent@sessions.example", "agent-password").await.status, StatusCode::OK);
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}/agents/{}", t.account, t.agent_id),
            Some(&t.owner_token),
            Some(json!({ "name": "Renamed" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(firefox.get("/api/v1/profile").await.status, StatusCode::OK);

    // Last use is kept to the minute.
    clock.advance(Duration::minutes(5));
    firefox.get("/api/v1/profile").await;
    let list = firefox.get("/api/v1/profile/sessions").await.json;
    let seen: DateTime<Utc> = list[0]["last_seen_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(seen, clock.now());
    // Logging out clears the cookie.
    let r = firefox.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(firefox.cookie.is_none());
}
