//! Reports over HTTP on both stores, with a fixed clock: the account's
//! time zone, the overview as JSON and as CSV (byte-order mark, Chinese
//! intact), the drill-down to the conversations behind a number, roles,
//! bad parameters, and a rebuild that changes no figure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use ferry_core::clock::{Clock, FixedClock};
use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

on_both!(reports_count_drill_down_and_export, out_of_office_replies_once_per_closed_period);

fn acct(t: &Tenant) -> String {
    format!("/api/v1/accounts/{}", t.account)
}

fn start() -> DateTime<Utc> {
    // Friday 6 March 2026, 23:00 in Shanghai.
    DateTime::parse_from_rfc3339("2026-03-06T15:00:00Z").unwrap().with_timezone(&Utc)
}

async fn reports_count_drill_down_and_export(b: Backend) {
    let clock = Arc::new(FixedClock::new(start()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let Some(app) = spawn_with(SpawnOptions { clock: dyn_clock, ..SpawnOptions::new(b) }).await else { return };
    let t = app.tenant("Reports").await;
    let ap = acct(&t);

    // Owners set the time zone; agents may not read reports.
    let settings = format!("{ap}/reports/settings");
    let r = app.call(Method::PUT, &settings, Some(&t.owner_token), Some(json!({"timezone": "Asia/Shanghai"}))).await;
    assert_eq!((r.status, r.json["timezone"].as_str()), (StatusCode::OK, Some("Asia/Shanghai")), "{:?}", r.json);
    let r = app.call(Method::PUT, &settings, Some(&t.owner_token), Some(json!({"timezone": "Mars/Base"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&format!("{ap}/reports/overview"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Two buyers; the first is answered after 10 minutes, tagged and
    // resolved, the second waits.
    let r = app.webhook(&t, &buyer_message("r-1", "buyer-1", "我要退货")).await;
    let first = r.json["conversation_id"].as_i64().unwrap();
    clock.advance(Duration::minutes(10));
    let r = app.post(&format!("{ap}/conversations/{first}/messages"), &t.agent_token, json!({"content": "好的"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let tags = format!("{ap}/conversations/{first}/tags");
    let r = app.call(Method::PUT, &tags, Some(&t.agent_token), Some(json!({"tags": ["退货"]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    clock.advance(Duration::minutes(20));
    let r =
        app.post(&format!("{ap}/conversations/{first}/status"), &t.agent_token, json!({"status": "resolved"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let r = app.webhook(&t, &buyer_message("r-2", "buyer-2", "hello")).await;
    let second = r.json["conversation_id"].as_i64().unwrap();

    let range = "from=2026-03-06&until=2026-03-06";
    let overview = format!("{ap}/reports/overview?{range}");
    let r = app.get(&overview, &t.owner_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    assert_eq!((r.json["timezone"].as_str(), r.json["from"].as_str()), (Some("Asia/Shanghai"), Some("2026-03-06")));
    let line = &r.json["lines"][0];
    assert_eq!(
        (line["opened"].as_u64(), line["resolved"].as_u64(), line["backlog"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(line["first_response"], json!({"count": 1, "median": 600, "p90": 600}));
    assert_eq!(line["resolution"], json!({"count": 1, "median": 1800, "p90": 1800}));
    let before = r.json.clone();

    // The day after in Shanghai has nothing yet.
    let r = app.get(&format!("{ap}/reports/overview?from=2026-03-07&until=2026-03-07"), &t.owner_token).await;
    assert_eq!(r.json["lines"][0]["opened"], json!(0));

    // The number's conversations.
    let drill = format!("{ap}/reports/conversations?{range}&metric=backlog");
    let r = app.get(&drill, &t.owner_token).await;
    assert_eq!(r.json, json!({"total": 1, "conversation_ids": [second]}));
    let r = app.get(&format!("{ap}/reports/conversations?{range}&by=tag&key=退货&metric=opened"), &t.owner_token).await;
    assert_eq!(r.json["conversation_ids"], json!([first]));

    // CSV: a byte-order mark, a header, the tag in Chinese.
    let resp = app
        .http
        .get(format!("{}{overview}&by=tag&format=csv", app.base))
        .header("api_access_token", &t.owner_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("bucket,key,label,opened,resolved,"), "{}", lines[0]);
    assert!(lines[1].starts_with(",退货,,1,1,"), "{}", lines[1]);
    assert!(lines[2].starts_with(",,,1,0,"), "{}", lines[2]);
    assert_eq!(lines.len(), 3);
    // Satisfaction columns last: nobody rated yet.
    assert!(lines[0].ends_with(",backlog,rated,csat,satisfied,satisfied_rate"), "{}", lines[0]);
    assert!(lines[1].ends_with(",0,0,,0,"), "{}", lines[1]);
    let r = app.get(&format!("{ap}/reports/conversations?{range}&metric=rated"), &t.owner_token).await;
    assert_eq!(r.json, json!({"total": 0, "conversation_ids": []}));

    // Agents and hand-offs answer too.
    let r = app.get(&format!("{ap}/reports/agents?{range}"), &t.owner_token).await;
    assert_eq!(r.json["lines"][0]["agent_id"], json!(t.agent_id));
    assert_eq!((r.json["lines"][0]["replies"].as_u64(), r.json["lines"][0]["resolved"].as_u64()), (Some(1), Some(1)));
    let r = app.get(&format!("{ap}/reports/handoffs?{range}"), &t.owner_token).await;
    assert_eq!(r.json["lines"], json!([]));

    // Bad parameters are 422s.
    for q in ["by=colour", "group_by=year", "from=yesterday", "format=xml", "from=2026-03-07&until=2026-03-06"] {
        let r = app.get(&format!("{ap}/reports/overview?{q}"), &t.owner_token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {:?}", r.json);
    }
    let r = app.get(&format!("{ap}/reports/conversations?metric=everything"), &t.owner_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Recomputed from the messages, the figures stay.
    let done = app.app.rebuild_insights(None).await.unwrap();
    assert_eq!(done.conversations, 2);
    let r = app.get(&overview, &t.owner_token).await;
    assert_eq!(r.json, before);
}

/// Texts of the conversation's outgoing messages.
async fn replies(app: &TestApp, t: &Tenant, conv: i64) -> Vec<String> {
    let r = app.get(&format!("{}/conversations/{conv}/messages", acct(t)), &t.owner_token).await;
    r.json
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "outgoing")
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn out_of_office_replies_once_per_closed_period(b: Backend) {
    // Friday 6 March 2026, 20:00 in Berlin: closed.
    let clock =
        Arc::new(FixedClock::new(DateTime::parse_from_rfc3339("2026-03-06T19:00:00Z").unwrap().with_timezone(&Utc)));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let Some(app) = spawn_with(SpawnOptions { clock: dyn_clock, ..SpawnOptions::new(b) }).await else { return };
    let t = app.tenant("Hours").await;
    let ap = acct(&t);
    let weekly: Vec<_> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| json!({"day": d, "open": "09:00", "close": "17:00"}))
        .collect();
    let config = json!({
        "business_hours": {"timezone": "Europe/Berlin", "weekly": weekly, "holidays": []},
        "out_of_office": {"en": "We are closed and answer from 9:00.", "zh": "我们已下班，明早九点回复。"}
    });
    let inbox = format!("{ap}/inboxes/{}", t.inbox);
    let bad = json!({"config": {"business_hours": {"timezone": "Europe/Berlin", "weekly": [{"day": "mon", "open": "18:00", "close": "09:00"}]}}});
    let r = app.call(Method::PATCH, &inbox, Some(&t.owner_token), Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    let r = app.call(Method::PATCH, &inbox, Some(&t.owner_token), Some(json!({"config": config}))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);

    let mut zh = buyer_message("o-1", "buyer-zh", "你好");
    zh["sender"]["language"] = json!("zh-CN");
    let conv = app.webhook(&t, &zh).await.json["conversation_id"].as_i64().unwrap();
    assert_eq!(replies(&app, &t, conv).await, ["我们已下班，明早九点回复。"]);
    // Saturday: the same closed period, no second reply.
    clock.advance(Duration::hours(15));
    let mut again = buyer_message("o-2", "buyer-zh", "在吗");
    again["sender"]["language"] = json!("zh-CN");
    app.webhook(&t, &again).await;
    assert_eq!(replies(&app, &t, conv).await.len(), 1);
    // Monday 10:00 Berlin: open, no reply.
    clock.advance(Duration::hours(48));
    let mut open = buyer_message("o-3", "buyer-zh", "早上好");
    open["sender"]["language"] = json!("zh-CN");
    app.webhook(&t, &open).await;
    assert_eq!(replies(&app, &t, conv).await.len(), 1);
    // Monday 19:00: closed again, a new period.
    clock.advance(Duration::hours(9));
    let mut late = buyer_message("o-4", "buyer-zh", "还在等");
    late["sender"]["language"] = json!("zh-CN");
    app.webhook(&t, &late).await;
    assert_eq!(replies(&app, &t, conv).await.len(), 2);
    // A buyer without a text in their language gets the account's.
    let mut fr = buyer_message("o-5", "buyer-fr", "bonjour");
    fr["sender"]["language"] = json!("fr");
    let other = app.webhook(&t, &fr).await.json["conversation_id"].as_i64().unwrap();
    assert_eq!(replies(&app, &t, other).await, ["We are closed and answer from 9:00."]);
    // Automatic replies count for nothing in reports.
    let r = app.get(&format!("{ap}/reports/agents?from=2026-03-01&until=2026-03-10"), &t.owner_token).await;
    assert_eq!(r.json["lines"], json!([]));
}
