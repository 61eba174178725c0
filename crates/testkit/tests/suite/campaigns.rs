//! Campaigns end to end, on SQLite and PostgreSQL, with the WhatsApp and
//! SMS stand-ins and a fixed clock: a campaign to a saved segment goes to
//! each buyer once, in their language, as an approved marketing template
//! (their window is closed), at the campaign's rate, after the buyer's
//! quiet hours; a buyer without consent, an Amazon buyer and a buyer who
//! sent STOP get nothing, with the reason in the log; a second campaign
//! the same week stops at the frequency cap; the hold-out group is drawn
//! as documented; pausing holds the sends and cancelling drops them; a
//! marketing e-mail carries a one-click unsubscribe that stops the buyer's
//! e-mail for the next campaign.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use ferry_core::clock::FixedClock;
use ferry_sandbox::whatsapp::FakeGraph;
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

on_both!(
    a_campaign_reaches_its_segment_within_the_rules,
    holdout_pause_and_cancel,
    email_marketing_unsubscribes_in_one_click,
);

struct Shop {
    app: TestApp,
    t: Tenant,
    clock: Arc<FixedClock>,
    wa: FakeGraph,
    sms: SmsSink,
}

impl Shop {
    fn acct(&self) -> String {
        format!("/api/v1/accounts/{}", self.t.account)
    }

    async fn contact(&self, name: &str, phone: &str, country: &str, language: &str, extra: Value) -> i64 {
        let mut body = json!({"name": name, "phone": phone, "country": country, "language": language,
            "tags": ["spring"]});
        if let Some(ids) = extra.get("identities") {
            body["identities"] = ids.clone();
        }
        let r = self.app.post(&format!("{}/contacts", self.acct()), &self.t.agent_token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        let id = r.json["id"].as_i64().unwrap();
        if let Some(channel) = extra.get("consent") {
            let path = format!("{}/contacts/{id}/consent", self.acct());
            let body = json!({"channel": channel, "granted": true, "source": "checkout"});
            let r = self.app.call(Method::PUT, &path, Some(&self.t.agent_token), Some(body)).await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        }
        id
    }

    async fn segment(&self, name: &str, tag: &str) -> i64 {
        let body = json!({"name": name, "filter": {"all": [{"field": "tag", "any_of": [tag]}]}});
        let r = self.app.post(&format!("{}/segments", self.acct()), &self.t.owner_token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        r.json["id"].as_i64().unwrap()
    }

    async fn campaign(&self, body: Value) -> i64 {
        let r = self.app.post(&format!("{}/campaigns", self.acct()), &self.t.owner_token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        assert_eq!(r.json["state"], "draft");
        r.json["id"].as_i64().unwrap()
    }

    async fn act(&self, id: i64, action: &str) -> Answer {
        self.app.post(&format!("{}/campaigns/{id}/{action}", self.acct()), &self.t.owner_token, json!({})).await
    }

    async fn stats(&self, id: i64) -> Value {
        let r = self.app.get(&format!("{}/campaigns/{id}/stats", self.acct()), &self.t.agent_token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        r.json
    }

    async fn log(&self, id: i64) -> Vec<Value> {
        let r = self.app.get(&format!("{}/campaigns/{id}/log?limit=200", self.acct()), &self.t.agent_token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        r.json.as_array().unwrap().clone()
    }
}

/// 12:00 UTC: 14:00 in Madrid, 06:00 in Mexico City (quiet until 08:00).
fn noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 14, 12, 0, 0).unwrap()
}

async fn setup(b: Backend) -> Option<Shop> {
    let clock = Arc::new(FixedClock::new(noon()));
    let mut o = SpawnOptions::new(b);
    o.clock = clock.clone();
    let app = spawn_with(o).await?;
    let t = app.tenant("Campaign Shop").await;
    let wa = FakeGraph::start().await.unwrap();
    let mut settings = wa.settings("verify-campaigns");
    settings["app_secret"] = json!("wa-app-secret-campaigns");
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/inboxes", t.account),
            &t.owner_token,
            json!({"name": "WhatsApp", "channel": "whatsapp",
                "config": {"bot_enabled": false, "whatsapp": settings}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let sms = SmsSink::start().await.unwrap();
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/inboxes", t.account),
            &t.owner_token,
            json!({"name": "SMS", "channel": "sms", "config": {"bot_enabled": false, "sms": sms.settings()}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let inbox = r.json["id"].as_i64().unwrap();
    let check =
        app.post(&format!("/api/v1/accounts/{}/inboxes/{inbox}/check", t.account), &t.owner_token, json!({})).await;
    let signed = check.json["sms"]["webhook_url"].as_str().unwrap().to_owned();
    sms.set_webhook(&signed, &format!("{}/webhooks/sms/{inbox}", app.base));
    Some(Shop { app, t, clock, wa, sms })
}

fn spring(segment: i64, rate: u32, holdout: u8) -> Value {
    json!({"name": "Spring collection", "segment_id": segment, "channels": ["whatsapp", "sms"],
        "texts": {"en": "Hi {{ contact.name }}! Our spring collection is in: 15% off this week.",
                  "es": "¡Hola {{ contact.name }}! Ya llegó la colección de primavera: 15 % esta semana."},
        "whatsapp_template": {"name": "spring_offer", "languages": {"en": "en_US", "es": "es"},
            "body": ["{{contact.name}}"]},
        "rate_per_minute": rate, "holdout_percent": holdout})
}

async fn a_campaign_reaches_its_segment_within_the_rules(b: Backend) {
    let Some(s) = setup(b).await else { return };
    let ana = s.contact("Ana Ruiz", "+34612000001", "ES", "es", json!({"consent": "whatsapp"})).await;
    let ben = s.contact("Ben Carter", "+525512345678", "MX", "en", json!({"consent": "all"})).await;
    let chen = s.contact("Chen Li", "+34612000003", "ES", "en", json!({})).await;
    let amazon = s
        .contact(
            "Dana Amazon",
            "+34612000004",
            "ES",
            "es",
            json!({"consent": "all", "identities": [{"kind": "amazon", "value": "A2AMZBUYER04"}]}),
        )
        .await;
    // Consented to SMS only, then stopped it.
    let eli = s.contact("Eli Stop", "+34612000005", "ES", "es", json!({"consent": "sms"})).await;
    assert_eq!(s.sms.buyer_sms("+34612000005", "STOP", &[]).await.0, 200);
    let segment = s.segment("Spring buyers", "spring").await;

    // Agents may not write campaigns; a campaign that cannot go is refused.
    let r = s.app.post(&format!("{}/campaigns", s.acct()), &s.t.agent_token, spring(segment, 60, 0)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    let mut bad = spring(segment, 60, 0);
    bad["channels"] = json!(["amazon"]);
    let r = s.app.post(&format!("{}/campaigns", s.acct()), &s.t.owner_token, bad).await;
    assert_eq!(
        (r.status, r.json["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("channels")),
        "{:?}",
        r.json
    );
    let r = s.app.post(&format!("{}/campaigns", s.acct()), &s.t.owner_token, spring(987_654, 60, 0)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "another account's or no segment: {:?}", r.json);

    let id = s.campaign(spring(segment, 60, 0)).await;
    let p = s.app.get(&format!("{}/campaigns/{id}/preview", s.acct()), &s.t.agent_token).await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.json);
    assert_eq!(p.json["audience"], 5, "{:?}", p.json);
    let es = p.json["languages"].as_array().unwrap().iter().find(|l| l["language"] == "es").unwrap().clone();
    assert_eq!(es["contacts"], 3);
    assert!(es["text"].as_str().unwrap().starts_with("¡Hola"), "{es:?}");

    let r = s.act(id, "launch").await;
    assert_eq!((r.status, r.json["state"].as_str()), (StatusCode::OK, Some("running")), "{:?}", r.json);
    let r = s
        .app
        .call(
            Method::PUT,
            &format!("{}/campaigns/{id}", s.acct()),
            Some(&s.t.owner_token),
            Some(spring(segment, 60, 0)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a launched campaign does not change: {:?}", r.json);
    assert_eq!(s.act(id, "launch").await.status, StatusCode::CONFLICT);

    // One message a second: Ana now (Madrid, 14:00); Ben is asleep in
    // Mexico City until 08:00 there (12:00 UTC + 2 h).
    s.app.drain_jobs().await;
    s.app.drain_jobs().await;
    let sent = s.wa.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, "34612000001");
    assert_eq!(sent[0].body["template"]["name"], "spring_offer");
    assert_eq!(sent[0].body["template"]["language"]["code"], "es", "in the buyer's language");
    assert!(sent[0].body.to_string().contains("Ana"), "{:?}", sent[0].body);
    let log = s.log(id).await;
    let of = |contact: i64| log.iter().find(|n| n["contact_id"] == contact).unwrap().clone();
    assert_eq!((of(ana)["state"].as_str(), of(ana)["channel"].as_str()), (Some("sent"), Some("whatsapp")));
    assert_eq!(of(ben)["state"], "scheduled");
    let due: chrono::DateTime<Utc> = of(ben)["scheduled_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, noon() + Duration::hours(2));
    assert_eq!((of(chen)["state"].as_str(), of(chen)["reason"].as_str()), (Some("skipped"), Some("no_consent")));
    assert_eq!((of(amazon)["state"].as_str(), of(amazon)["reason"].as_str()), (Some("skipped"), Some("amazon_buyer")));
    assert_eq!((of(eli)["state"].as_str(), of(eli)["reason"].as_str()), (Some("skipped"), Some("opted_out")));

    s.clock.advance(Duration::hours(2));
    s.app.drain_jobs().await;
    s.app.drain_jobs().await;
    let sent = s.wa.sent();
    assert_eq!(sent.len(), 2, "{:?}", s.log(id).await);
    assert_eq!(
        (sent[1].to.as_str(), sent[1].body["template"]["language"]["code"].as_str()),
        ("525512345678", Some("en_US"))
    );
    let c = s.app.get(&format!("{}/campaigns/{id}", s.acct()), &s.t.agent_token).await;
    assert_eq!((c.json["state"].as_str(), c.json["planned"].as_u64()), (Some("done"), Some(5)), "{:?}", c.json);
    let st = s.stats(id).await;
    assert_eq!(st["sent"], 2, "{st:?}");
    assert_eq!(st["skipped"], json!({"amazon_buyer": 1, "no_consent": 1, "opted_out": 1}), "{st:?}");
    assert!(s.sms.messages().iter().all(|m| !m.body.contains("spring")), "nothing by SMS: {:?}", s.sms.messages());
    // The messages are in the buyers' conversations, tagged, where their
    // answers land.
    let conv = of(ana)["conversation_id"].as_i64().unwrap();
    let c = s.app.get(&format!("{}/conversations/{conv}", s.acct()), &s.t.agent_token).await;
    assert!(c.json["tags"].to_string().contains("campaign"), "{:?}", c.json);

    // The account allows one marketing message a week: a second campaign
    // the same week reaches nobody who got the first.
    let settings = s.app.get(&format!("{}/notices", s.acct()), &s.t.owner_token).await;
    let mut body = settings.json.clone();
    body["policy"]["marketing_per_week"] = json!(1);
    let r = s.app.call(Method::PUT, &format!("{}/notices", s.acct()), Some(&s.t.owner_token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let mut second = spring(segment, 600, 0);
    second["name"] = json!("Spring, second call");
    let second = s.campaign(second).await;
    assert_eq!(s.act(second, "launch").await.status, StatusCode::OK);
    s.app.drain_jobs().await;
    let st = s.stats(second).await;
    assert_eq!(st["sent"], 0, "{st:?}");
    assert_eq!(st["skipped"]["frequency_cap"], 2, "{st:?}");
    assert_eq!(s.wa.sent().len(), 2);
    let audit = s.app.get(&format!("{}/audit_log?limit=50", s.acct()), &s.t.owner_token).await;
    assert!(audit.json.to_string().contains("campaign.launch"), "{:?}", audit.json);
}

async fn holdout_pause_and_cancel(b: Backend) {
    let Some(s) = setup(b).await else { return };
    let mut ids = Vec::new();
    for i in 0..24 {
        let phone = format!("+346120001{i:02}");
        ids.push(s.contact(&format!("Buyer {i}"), &phone, "ES", "es", json!({"consent": "all"})).await);
    }
    let segment = s.segment("Everyone in spring", "spring").await;
    let id = s.campaign(spring(segment, 60, 50)).await;
    let p = s.app.get(&format!("{}/campaigns/{id}/preview", s.acct()), &s.t.agent_token).await;
    assert_eq!((p.json["audience"].as_u64(), p.json["held_out"].as_u64()), (Some(24), Some(12)), "{:?}", p.json);

    assert_eq!(s.act(id, "launch").await.status, StatusCode::OK);
    s.app.drain_jobs().await;
    // The hold-out group is the documented stable draw; nobody in it gets
    // anything.
    let held: Vec<i64> = ids.iter().copied().filter(|c| ferry_core::campaign::held_out(id, *c, 50)).collect();
    let log = s.log(id).await;
    let logged: Vec<i64> =
        log.iter().filter(|n| n["state"] == "held_out").map(|n| n["contact_id"].as_i64().unwrap()).collect();
    assert_eq!(sorted(logged), sorted(held.clone()));
    assert!(!held.is_empty() && held.len() < ids.len(), "{held:?}");
    let to_send = ids.len() - held.len();
    assert_eq!(s.wa.sent().len(), 1, "one a second");

    // Paused: time passes, nothing goes.
    let r = s.act(id, "pause").await;
    assert_eq!(r.json["state"], "paused", "{:?}", r.json);
    s.clock.advance(Duration::seconds(5));
    s.app.drain_jobs().await;
    assert_eq!(s.wa.sent().len(), 1);
    // Resumed: at the same pace, not a burst of what waited.
    assert_eq!(s.act(id, "resume").await.json["state"], "running");
    s.app.drain_jobs().await;
    let after_resume = s.wa.sent().len();
    assert!((2..=3).contains(&after_resume), "{after_resume}");
    for _ in 0..2 {
        s.clock.advance(Duration::seconds(1));
        s.app.drain_jobs().await;
    }
    let before_cancel = s.wa.sent().len();
    assert!(before_cancel < to_send, "{before_cancel} of {to_send}");
    // Cancelled: the rest never goes.
    let r = s.act(id, "cancel").await;
    assert_eq!(r.json["state"], "cancelled", "{:?}", r.json);
    s.clock.advance(Duration::minutes(5));
    s.app.drain_jobs().await;
    assert_eq!(s.wa.sent().len(), before_cancel);
    let st = s.stats(id).await;
    assert_eq!(st["sent"].as_u64().unwrap() as usize, before_cancel, "{st:?}");
    assert_eq!(st["held_out"].as_u64().unwrap() as usize, held.len(), "{st:?}");
    assert_eq!(st["skipped"]["cancelled"].as_u64().unwrap() as usize, to_send - before_cancel, "{st:?}");
    // Each buyer got at most one message.
    let mut to: Vec<String> = s.wa.sent().into_iter().map(|m| m.to).collect();
    let n = to.len();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), n);
    // A cancelled campaign can be deleted; another account sees nothing.
    let other = s.app.tenant("Other Shop").await;
    let r = s.app.get(&format!("/api/v1/accounts/{}/campaigns/{id}", other.account), &other.owner_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s.app.call(Method::DELETE, &format!("{}/campaigns/{id}", s.acct()), Some(&s.t.owner_token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.json);
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

async fn email_marketing_unsubscribes_in_one_click(b: Backend) {
    let Some(s) = setup(b).await else { return };
    let mail = ferry_sandbox::smtp::SmtpSink::start().await.unwrap();
    let port = mail.addr.port();
    let body = json!({"name": "Mail", "channel": "email", "config": {"bot_enabled": false, "email": {
        "address": "news@shop.test", "from_name": "Lumen Shop", "folders": ["INBOX"],
        "imap": {"host": "127.0.0.1", "port": 1, "security": "plain", "username": "news@shop.test", "password": "x"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "plain"}}}});
    let r = s.app.post(&format!("{}/inboxes", s.acct()), &s.t.owner_token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let mut ids = Vec::new();
    for (name, email) in [("Ana", "ana@example.com"), ("Ben", "ben@example.com")] {
        let body = json!({"name": name, "email": email, "country": "ES", "language": "en", "tags": ["mail"]});
        let r = s.app.post(&format!("{}/contacts", s.acct()), &s.t.agent_token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        let id = r.json["id"].as_i64().unwrap();
        let path = format!("{}/contacts/{id}/consent", s.acct());
        let consent = json!({"channel": "email", "granted": true, "source": "checkout"});
        assert_eq!(s.app.call(Method::PUT, &path, Some(&s.t.agent_token), Some(consent)).await.status, StatusCode::OK);
        ids.push(id);
    }
    let segment = s.segment("Mail buyers", "mail").await;
    let campaign = |name: &str| {
        json!({"name": name, "segment_id": segment, "channels": ["email"],
            "texts": {"en": "Hi {{ contact.name }}! Spring is in."}, "rate_per_minute": 600})
    };
    let first = s.campaign(campaign("Spring mail")).await;
    assert_eq!(s.act(first, "launch").await.status, StatusCode::OK);
    s.app.drain_jobs().await;
    s.app.drain_jobs().await;
    let sent = mail.messages();
    assert_eq!(sent.len(), 2, "{sent:?}");
    // Quoted-printable soft line breaks joined.
    let ana = sent.iter().find(|m| m.contains("ana@example.com")).unwrap().replace("=\n", "");
    assert!(ana.contains("Subject: Spring mail"), "the campaign's name as the subject: {ana}");
    assert!(ana.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{ana}");
    let url = ana
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .and_then(|l| l.strip_suffix('>'))
        .unwrap()
        .to_owned();
    let path = url.split_once("/unsubscribe/").map(|(_, t)| format!("/unsubscribe/{t}")).unwrap();
    assert!(ana.contains(&format!("Unsubscribe: {url}")), "the link under the text too: {ana}");

    // Opening the link asks first; the mail client's one-click POST (no
    // session, another origin) unsubscribes; again changes nothing.
    let page = reqwest::get(format!("{}{path}", s.app.base)).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    let post = || {
        reqwest::Client::new()
            .post(format!("{}{path}", s.app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "https://mail.example.net")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    let wrong = reqwest::Client::new().post(format!("{}/unsubscribe/not-a-token", s.app.base)).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let c = s.app.get(&format!("{}/contacts/{}/consent", s.acct(), ids[0]), &s.t.agent_token).await;
    assert_eq!(c.json["stopped"][0]["channel"], "email", "{:?}", c.json);
    assert_eq!(c.json["consents"][0]["granted"], false, "{:?}", c.json);

    // The next campaign skips her, with the reason; Ben still gets it.
    let second = s.campaign(campaign("Summer mail")).await;
    assert_eq!(s.act(second, "launch").await.status, StatusCode::OK);
    s.app.drain_jobs().await;
    s.app.drain_jobs().await;
    let st = s.stats(second).await;
    // Her consent was withdrawn by the link (and her e-mail stopped).
    assert_eq!((st["sent"].as_u64(), st["skipped"]["no_consent"].as_u64()), (Some(1), Some(1)), "{st:?}");
    let sent = mail.messages();
    assert_eq!(sent.len(), 3);
    assert!(sent[2].contains("ben@example.com"), "{}", sent[2]);
    let audit = s.app.get(&format!("{}/audit_log?limit=50", s.acct()), &s.t.owner_token).await;
    assert!(audit.json.to_string().contains("contact.unsubscribed"), "{:?}", audit.json);
}
