//! The console's and widget's protections as a browser meets them: writes
//! made with the session cookie only from Ferry's own pages, the pages'
//! security headers, CORS only on a widget's allowed pages, the password
//! rules, changing and resetting a password by e-mail, and invitations.
//! On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use ferry_core::clock::FixedClock;
use ferry_storage::AuditQuery;
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    access_tokens_are_made_listed_and_revoked_by_their_owner,
    cookie_writes_come_only_from_ferrys_own_pages,
    console_and_widget_pages_carry_security_headers,
    cors_only_for_a_widgets_allowed_pages,
    new_passwords_follow_the_rules,
    changing_the_password_ends_the_other_sessions,
    a_password_is_reset_by_e_mail_once_within_an_hour,
    invitations_make_agents_once_within_a_week,
);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

/// Logs in; returns the `ferry_session=…` cookie.
async fn login(app: &TestApp, email: &str, password: &str) -> Option<String> {
    let r = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::OK {
        return None;
    }
    Some(r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned())
}

/// A call with the session cookie and the given `Origin`/`Referer`.
async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    origin: Option<&str>,
    referer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = app.http.request(method, format!("{}{path}", app.base)).header("cookie", cookie);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(r) = referer {
        req = req.header("referer", r);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

async fn canned_count(app: &TestApp, t: &Tenant) -> usize {
    app.get(&format!("{}/canned_responses", acct(t)), &t.owner_token).await.json.as_array().unwrap().len()
}

async fn cookie_writes_come_only_from_ferrys_own_pages(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Forms").await;
    let cookie = login(&app, "owner@forms.example", "owner-password").await.unwrap();
    let path = format!("{}/canned_responses", acct(&t));
    let body = |code: &str| Some(json!({"short_code": code, "content": "Thanks!"}));

    // Another site's form, with the browser adding the cookie: refused
    // before anything is done.
    let (status, e, _) =
        with_cookie(&app, Method::POST, &path, &cookie, Some("https://evil.example"), None, body("evil")).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("cross_origin_request")), "{e:?}");
    let (status, _, _) =
        with_cookie(&app, Method::POST, &path, &cookie, None, Some("https://evil.example/page"), body("evil2")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a foreign Referer");
    let (status, _, _) = with_cookie(&app, Method::POST, &path, &cookie, Some("null"), None, body("evil3")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an opaque origin");
    let (status, _, _) = with_cookie(&app, Method::POST, &path, &cookie, None, None, body("evil4")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "neither Origin nor Referer");
    assert_eq!(canned_count(&app, &t).await, 0, "nothing was created");
    // Logging out is a write too.
    let (status, _, _) =
        with_cookie(&app, Method::POST, "/api/v1/auth/logout", &cookie, Some("https://evil.example"), None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Reads are not refused (the same-origin policy keeps their answers).
    let (status, _, _) =
        with_cookie(&app, Method::GET, "/api/v1/profile", &cookie, Some("https://evil.example"), None, None).await;
    assert_eq!(status, StatusCode::OK, "the session still works");

    // Ferry's own pages.
    let own = app.base.clone();
    let (status, _, _) = with_cookie(&app, Method::POST, &path, &cookie, Some(&own), None, body("own")).await;
    assert_eq!(status, StatusCode::CREATED);
    let page = format!("{own}/settings");
    let (status, _, _) = with_cookie(&app, Method::POST, &path, &cookie, None, Some(&page), body("own2")).await;
    assert_eq!(status, StatusCode::CREATED, "Referer when Origin is missing");
    assert_eq!(canned_count(&app, &t).await, 2);

    // API tokens are not cookies: any origin, or none.
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .header("api_access_token", &t.owner_token)
        .header("origin", "https://integration.example")
        .json(&json!({"short_code": "token", "content": "Hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.post(&path, &t.owner_token, json!({"short_code": "token2", "content": "Hi"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Webhooks stay as they are.
    let r = app.webhook(&t, &buyer_message("w-1", "buyer-1", "hello")).await;
    assert!(r.status.is_success(), "{:?}", r.json);
}

async fn web_inbox(app: &TestApp, t: &Tenant, config: Value) -> i64 {
    let r = app
        .post(
            &format!("{}/inboxes", acct(t)),
            &t.owner_token,
            json!({"name": "Chat", "channel": "web_widget", "config": config}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json["id"].as_i64().unwrap()
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn console_and_widget_pages_carry_security_headers(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Headers").await;
    for path in ["/", "/conversations", "/reset-password"] {
        let r = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers();
        let csp = header(h, "content-security-policy");
        assert!(csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{csp}");
        assert_eq!(header(h, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(h, "x-content-type-options"), "nosniff");
        assert_eq!(header(h, "referrer-policy"), "same-origin");
        assert!(header(h, "permissions-policy").contains("camera=()"));
    }
    // The widget's demo shop: its own policy, and no inline script in it.
    let inbox = web_inbox(&app, &t, json!({})).await;
    let r = app.http.get(format!("{}/widget/{inbox}/demo", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    let csp = header(&h, "content-security-policy");
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(!header(&h, "permissions-policy").is_empty());
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    // The loader, when the assets are built.
    let r = app.http.get(format!("{}/widget.js", app.base)).send().await.unwrap();
    if r.status() == StatusCode::OK {
        assert!(header(r.headers(), "content-security-policy").contains("script-src 'self'"));
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
    // JSON answers are not sniffed either.
    let r = app.get("/api/v1/profile", &t.owner_token).await;
    assert_eq!(header(&r.headers, "x-content-type-options"), "nosniff");
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> (StatusCode, reqwest::header::HeaderMap) {
    let r = app
        .http
        .request(Method::OPTIONS, format!("{}{path}", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, x-visitor-token")
        .send()
        .await
        .unwrap();
    (r.status(), r.headers().clone())
}

async fn cors_only_for_a_widgets_allowed_pages(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Cors").await;
    let shut = web_inbox(&app, &t, json!({"allowed_origins": ["https://shop.example"]})).await;
    let open = web_inbox(&app, &t, json!({})).await;
    let path = format!("/widget/{shut}/messages");

    let (status, h) = preflight(&app, &path, "https://shop.example").await;
    assert!(status.is_success(), "{status}");
    assert_eq!(header(&h, "access-control-allow-origin"), "https://shop.example");
    assert!(header(&h, "access-control-allow-methods").contains("POST"));
    let (_, h) = preflight(&app, &path, "https://evil.example").await;
    assert!(h.get("access-control-allow-origin").is_none(), "{h:?}");
    // An actual call: the allowed page gets the header, the other nothing.
    let r = app
        .http
        .post(format!("{}/widget/{shut}/sessions", app.base))
        .header("origin", "https://shop.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "access-control-allow-origin"), "https://shop.example");
    // An inbox without a list lets any page use its widget.
    let (_, h) = preflight(&app, &format!("/widget/{open}/sessions"), "https://any.example").await;
    assert_eq!(header(&h, "access-control-allow-origin"), "https://any.example");
    // An unknown inbox: no CORS.
    let (_, h) = preflight(&app, "/widget/999999/sessions", "https://shop.example").await;
    assert!(h.get("access-control-allow-origin").is_none());

    // The agents' API answers no other site.
    for p in ["/api/v1/profile", "/api/v1/auth/login", &format!("{}/canned_responses", acct(&t))] {
        let (_, h) = preflight(&app, p, "https://shop.example").await;
        assert!(h.get("access-control-allow-origin").is_none(), "{p}: {h:?}");
    }
    let r = app
        .http
        .get(format!("{}/api/v1/profile", app.base))
        .header("api_access_token", &t.owner_token)
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

async fn new_passwords_follow_the_rules(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Rules").await;
    let change = |new: &str, current: &str| {
        let body = json!({"current_password": current, "new_password": new});
        let token = t.owner_token.clone();
        let app = &app;
        async move { app.post("/api/v1/profile/password", &token, body).await }
    };
    for (new, code) in [
        ("short1!", "password_too_short"),
        (&"long-".repeat(30) as &str, "password_too_long"),
        ("Password123", "password_too_common"),
        ("qwertyuiop1", "password_too_common"),
        ("p@$$w0rd2024", "password_too_common"),
        ("my-owner-secret", "password_contains_personal_info"),
        ("rulesOwner-is-me", "password_contains_personal_info"),
    ] {
        let r = change(new, "owner-password").await;
        assert_eq!(
            (r.status, r.code(), r.json["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some("new_password")),
            "{new}: {:?}",
            r.json
        );
    }
    let r = change("tulip-harbour-magnet", "not-my-password").await;
    assert_eq!(
        (r.status, r.code(), r.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "wrong_password", Some("current_password"))
    );
    assert!(login(&app, "owner@rules.example", "owner-password").await.is_some(), "nothing changed");
    // New agents too.
    let r = app
        .post(
            &format!("{}/agents", acct(&t)),
            &t.owner_token,
            json!({"name": "Lena Fox", "email": "lena@rules.example", "password": "sunshine2020"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "password_too_common"));
    let r = app
        .post(
            &format!("{}/agents", acct(&t)),
            &t.owner_token,
            json!({"name": "Lena Fox", "email": "lena@rules.example", "password": "LenaFox-at-work"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "password_contains_personal_info"));
    // Existing passwords keep working whatever the rules: the tenant's
    // agent logs in with theirs.
    assert!(login(&app, "agent@rules.example", "agent-password").await.is_some());
}

async fn audit_actions(app: &TestApp, t: &Tenant) -> Vec<String> {
    let q = AuditQuery { limit: 100, ..AuditQuery::default() };
    app.app.storage.list_audit(t.account, q).await.unwrap().into_iter().map(|e| e.action).collect()
}

async fn changing_the_password_ends_the_other_sessions(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Change").await;
    let here = login(&app, "owner@change.example", "owner-password").await.unwrap();
    let there = login(&app, "owner@change.example", "owner-password").await.unwrap();
    let own = app.base.clone();
    let body = json!({"current_password": "owner-password", "new_password": "tulip-harbour-magnet"});
    let (status, _, _) = with_cookie(
        &app,
        Method::POST,
        "/api/v1/profile/password",
        &here,
        Some("https://evil.example"),
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not from another site");
    let (status, r, _) =
        with_cookie(&app, Method::POST, "/api/v1/profile/password", &here, Some(&own), None, Some(body)).await;
    assert_eq!((status, r["sessions_ended"].as_u64()), (StatusCode::OK, Some(1)), "{r:?}");
    let profile = |c: String| {
        let app = &app;
        async move { with_cookie(app, Method::GET, "/api/v1/profile", &c, None, None, None).await.0 }
    };
    assert_eq!(profile(here.clone()).await, StatusCode::OK, "the session that changed it stays");
    assert_eq!(profile(there).await, StatusCode::UNAUTHORIZED, "the other one ended");
    assert!(login(&app, "owner@change.example", "owner-password").await.is_none());
    assert!(login(&app, "owner@change.example", "tulip-harbour-magnet").await.is_some());
    // API tokens are separate credentials and keep working.
    assert_eq!(app.get("/api/v1/profile", &t.owner_token).await.status, StatusCode::OK);
    assert!(audit_actions(&app, &t).await.contains(&"user.password_change".to_owned()));
}

/// The mails the sink got for `to`, once at least `n` arrived.
async fn mails_to(sink: &SmtpSink, to: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let got: Vec<String> =
            sink.received().into_iter().filter(|m| m.envelope_to.iter().any(|r| r == to)).map(|m| m.raw).collect();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no mail to {to} in time");
}

/// The token of the link in a mail (quoted-printable undone).
fn token_in(mail: &str) -> String {
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let at = text.find("token=").expect("a link with a token") + "token=".len();
    text[at..].chars().take_while(char::is_ascii_hexdigit).collect()
}

async fn spawn_with_mail(b: Backend) -> Option<(TestApp, SmtpSink, Arc<FixedClock>)> {
    let sink = SmtpSink::start().await.unwrap();
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let mut o = SpawnOptions::new(b);
    o.smtp = Some(sink.config());
    o.clock = clock.clone();
    let app = spawn_with(o).await?;
    Some((app, sink, clock))
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> Answer {
    app.call(
        Method::POST,
        "/api/v1/auth/password_reset/confirm",
        None,
        Some(json!({"token": token, "password": password})),
    )
    .await
}

async fn a_password_is_reset_by_e_mail_once_within_an_hour(b: Backend) {
    let Some((app, sink, clock)) = spawn_with_mail(b).await else { return };
    let t = app.tenant("Reset").await;
    let session = login(&app, "agent@reset.example", "agent-password").await.unwrap();
    let ask = |email: &str| {
        let app = &app;
        let body = json!({"email": email});
        async move { app.call(Method::POST, "/api/v1/auth/password_reset", None, Some(body)).await }
    };
    // Unknown and known addresses get the same answer.
    let unknown = ask("nobody@reset.example").await;
    let known = ask("Agent@Reset.example").await;
    assert_eq!((unknown.status, known.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(unknown.json, known.json);
    let mails = mails_to(&sink, "agent@reset.example", 1).await;
    assert!(sink.received().iter().all(|m| m.envelope_to.iter().all(|r| r != "nobody@reset.example")));
    let token = token_in(&mails[0]);
    assert_eq!(token.len(), 64, "{}", mails[0]);
    assert!(mails[0].contains("/reset-password?token="));
    let stored = app.app.storage.password_reset_by_token(&token).await.unwrap();
    assert!(stored.is_none(), "only the token's hash is stored");

    // The rules apply; a refused password leaves the link usable.
    let r = confirm(&app, &token, "agent-2024").await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));
    let r = confirm(&app, &format!("{token}0"), "tulip-harbour-magnet").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "token_invalid"));
    let r = confirm(&app, &token, "tulip-harbour-magnet").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.json);
    assert!(login(&app, "agent@reset.example", "tulip-harbour-magnet").await.is_some());
    assert!(login(&app, "agent@reset.example", "agent-password").await.is_none());
    let (status, _, _) = with_cookie(&app, Method::GET, "/api/v1/profile", &session, None, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "sessions end with a reset");
    // Used once.
    let r = confirm(&app, &token, "another-fine-passphrase").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "token_used"));

    // Expired after an hour.
    assert_eq!(ask("agent@reset.example").await.status, StatusCode::ACCEPTED);
    let mails = mails_to(&sink, "agent@reset.example", 2).await;
    let late = token_in(&mails[1]);
    assert_ne!(late, token);
    clock.advance(Duration::minutes(61));
    let r = confirm(&app, &late, "another-fine-passphrase").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "token_expired"));
    assert!(login(&app, "agent@reset.example", "tulip-harbour-magnet").await.is_some());
    assert!(audit_actions(&app, &t).await.contains(&"user.password_reset".to_owned()));
}

async fn accept(app: &TestApp, token: &str, password: &str) -> (StatusCode, Value, Option<String>) {
    let r = app
        .http
        .post(format!("{}/api/v1/invitations/accept", app.base))
        .json(&json!({"token": token, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let cookie = r.headers().get("set-cookie").map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, r.json().await.unwrap_or(Value::Null), cookie)
}

async fn invitations_make_agents_once_within_a_week(b: Backend) {
    let Some((app, sink, clock)) = spawn_with_mail(b).await else { return };
    let t = app.tenant("Invites").await;
    let other = app.tenant("Outsiders").await;
    let path = format!("{}/invitations", acct(&t));
    let invite = |email: &str, role: &str| {
        let (app, path, token) = (&app, path.clone(), t.owner_token.clone());
        let body = json!({"email": email, "name": "Mia Lund", "role": role});
        async move { app.post(&path, &token, body).await }
    };

    let r = invite("Mia@Team.example", "admin").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    assert_eq!(r.json["invitation"]["state"], "pending");
    assert_eq!(r.json["invitation"]["email"], "mia@team.example");
    assert_eq!(r.json["email_sent"], true);
    let first = r.json["invitation"]["id"].as_i64().unwrap();
    let mail = mails_to(&sink, "mia@team.example", 1).await.remove(0);
    assert!(mail.contains("/accept-invitation?token="), "{mail}");
    let token = token_in(&mail);
    assert_eq!(token.len(), 64);
    assert!(r.json["url"].as_str().unwrap().ends_with(&token));

    // Agents cannot invite; an existing user cannot be invited; another
    // account sees nothing.
    let r = app.post(&path, &t.agent_token, json!({"email": "x@team.example", "name": "X"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = invite("agent@invites.example", "agent").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app.get(&format!("{}/invitations", acct(&other)), &t.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call(Method::DELETE, &format!("{}/invitations/{first}", acct(&other)), Some(&other.owner_token), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another account's invitation");

    // Accepting: the password rules, then the user and a session.
    let (status, e, _) = accept(&app, &token, "mia-lund-2025").await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password_contains_personal_info"))
    );
    let (status, profile, cookie) = accept(&app, &token, "tulip-harbour-magnet").await;
    assert_eq!(status, StatusCode::OK, "{profile:?}");
    assert_eq!((profile["user"]["role"].as_str(), profile["account_id"].as_i64()), (Some("admin"), Some(t.account.0)));
    let cookie = cookie.unwrap();
    let (status, me, _) = with_cookie(&app, Method::GET, "/api/v1/profile", &cookie, None, None, None).await;
    assert_eq!((status, me["user"]["email"].as_str()), (StatusCode::OK, Some("mia@team.example")));
    assert!(login(&app, "mia@team.example", "tulip-harbour-magnet").await.is_some());
    let (status, e, _) = accept(&app, &token, "another-fine-passphrase").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("token_used")));
    let r = app.call(Method::DELETE, &format!("{path}/{first}"), Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "an accepted invitation stays");

    // Revoked.
    let r = invite("rev@team.example", "agent").await;
    let revoked = r.json["invitation"]["id"].as_i64().unwrap();
    let rev_token = token_in(&mails_to(&sink, "rev@team.example", 1).await[0]);
    let r = app.call(Method::DELETE, &format!("{path}/{revoked}"), Some(&t.owner_token), None).await;
    assert_eq!((r.status, r.json["state"].as_str()), (StatusCode::OK, Some("revoked")));
    let (status, e, _) = accept(&app, &rev_token, "tulip-harbour-magnet").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("token_revoked")));

    // Expired after seven days.
    invite("late@team.example", "agent").await;
    let late_token = token_in(&mails_to(&sink, "late@team.example", 1).await[0]);
    clock.advance(Duration::days(7) + Duration::minutes(1));
    let (status, e, _) = accept(&app, &late_token, "tulip-harbour-magnet").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("token_expired")));
    assert!(login(&app, "late@team.example", "tulip-harbour-magnet").await.is_none());
    let (status, e, _) = accept(&app, "0123", "tulip-harbour-magnet").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("token_invalid")));

    let list = app.get(&path, &t.owner_token).await;
    let states: Vec<&str> = list.json.as_array().unwrap().iter().map(|i| i["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["expired", "revoked", "accepted"], "{:?}", list.json);
    let actions = audit_actions(&app, &t).await;
    for a in ["invitation.create", "invitation.revoke", "invitation.accept"] {
        assert!(actions.contains(&a.to_owned()), "{a}: {actions:?}");
    }
    assert!(!audit_actions(&app, &other).await.iter().any(|a| a.starts_with("invitation.")));

    // Every route is documented with its answers.
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await.json;
    for (path, method, statuses) in [
        ("/api/v1/profile/password", "post", &["200", "401", "403", "422"][..]),
        ("/api/v1/auth/password_reset", "post", &["202", "422"]),
        ("/api/v1/auth/password_reset/confirm", "post", &["204", "422"]),
        ("/api/v1/accounts/{account_id}/invitations", "get", &["200", "403", "404"]),
        ("/api/v1/accounts/{account_id}/invitations", "post", &["201", "403", "409", "422"]),
        ("/api/v1/accounts/{account_id}/invitations/{invitation_id}", "delete", &["200", "404", "409"]),
        ("/api/v1/invitations/accept", "post", &["200", "409", "422"]),
    ] {
        let answers = &doc["paths"][path][method]["responses"];
        for st in statuses {
            assert!(answers.get(*st).is_some(), "{method} {path}: {st} is not documented");
        }
    }
}

/// An agent makes a token for an integration (its secret shown once),
/// the integration calls the API with it, and once revoked it is refused;
/// nobody else sees or revokes it. Audited.
async fn access_tokens_are_made_listed_and_revoked_by_their_owner(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Tokens").await;
    let path = "/api/v1/profile/access_tokens";
    let r = app.post(path, &t.agent_token, json!({ "name": "  " })).await;
    assert_eq!((r.status, r.json["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")));
    let r = app.post(path, &t.agent_token, json!({ "name": "Shop sync" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    let id = r.json["token"]["id"].as_i64().unwrap();

    // It works as the agent.
    let me = app.get("/api/v1/profile", &secret).await;
    assert_eq!((me.status, me.json["user"]["id"].as_i64()), (StatusCode::OK, Some(t.agent_id)), "{:?}", me.json);
    // Listed by name, never with the secret; the owner's list is their own.
    let list = app.get(path, &t.agent_token).await;
    assert!(list.json.as_array().unwrap().iter().any(|x| x["id"] == id && x["name"] == "Shop sync"));
    assert!(!list.json.to_string().contains(&secret));
    let owners = app.get(path, &t.owner_token).await;
    assert!(owners.json.as_array().unwrap().iter().all(|x| x["id"] != id));
    // Nobody else revokes it.
    let r = app.call(Method::DELETE, &format!("{path}/{id}"), Some(&t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::DELETE, &format!("{path}/{id}"), Some(&t.agent_token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/profile", &secret).await.status, StatusCode::UNAUTHORIZED);
    let q = AuditQuery { limit: 50, ..AuditQuery::default() };
    let actions: Vec<String> =
        app.app.storage.list_audit(t.account, q).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"access_token.create".to_owned()) && actions.contains(&"access_token.revoke".to_owned()));
}
