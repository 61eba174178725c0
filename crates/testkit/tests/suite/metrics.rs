//! Prometheus metrics at `/metrics`, on SQLite and on PostgreSQL: requests
//! counted by route template, messages stored per channel, deliveries by
//! outcome, the bot's decisions, the job backlog and outbox gauges, live
//! WebSockets, and the optional scrape token. The recorder is shared by every node of the
//! process, so counts are checked as lower bounds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both!(a_scrape_shows_traffic_intake_deliveries_and_backlog, the_metrics_token_is_required_when_set);

/// The value of the first series named `name` whose labels include every
/// one of `labels` (`key="value"`).
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
        (series_name == name && labels.iter().all(|want| rest.contains(want))).then(|| value.parse().ok())?
    })
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut req = app.http.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async fn a_scrape_shows_traffic_intake_deliveries_and_backlog(b: Backend) {
    use axum::routing::post;
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Metrics").await;
    let ap = format!("/api/v1/accounts/{}", t.account);
    let receiver = axum::Router::new().route("/ok", post(|| async { StatusCode::OK }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let config = json!({"config": {"callback_url": format!("http://127.0.0.1:{port}/ok")}});
    let r = app.call(Method::PATCH, &format!("{ap}/inboxes/{}", t.inbox), Some(&t.owner_token), Some(config)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);

    let first = app.webhook(&t, &buyer_message("m-1", "buyer-m1", "Can I return this?")).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let again = app.webhook(&t, &buyer_message("m-1", "buyer-m1", "Can I return this?")).await;
    assert_eq!(again.json["duplicate"], json!(true));
    let conv = first.json["conversation_id"].as_i64().unwrap();
    let reply = app
        .post(
            &format!("{ap}/conversations/{conv}/messages"),
            &t.agent_token,
            json!({"content": "Yes, within 30 days."}),
        )
        .await;
    assert!(reply.status.is_success(), "{:?}", reply.json);
    assert_eq!(app.get(&format!("{ap}/contacts/999999"), &t.agent_token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/no/such/page.php", &t.agent_token).await.status, StatusCode::NOT_FOUND);

    // Jobs wait until drained: the backlog gauge sees the delivery.
    let (status, before) = scrape(&app, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(sample(&before, "ferry_jobs_pending", &[]).unwrap() >= 1.0, "{before}");
    assert!(sample(&before, "ferry_jobs_due", &[]).is_some(), "{before}");
    assert!(sample(&before, "ferry_jobs_oldest_due_age_seconds", &[]).unwrap() >= 0.0, "{before}");
    assert!(sample(&before, "ferry_outbox_unpublished_events", &[]).is_some(), "{before}");

    // The bot answers a second buyer; its reply is delivered too.
    let bot = json!({"config": {"bot_enabled": true, "callback_url": format!("http://127.0.0.1:{port}/ok")}});
    let r = app.call(Method::PATCH, &format!("{ap}/inboxes/{}", t.inbox), Some(&t.owner_token), Some(bot)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let second = app.webhook(&t, &buyer_message("m-2", "buyer-m2", "Where is my order 1234?")).await;
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.json);
    assert!(app.drain_jobs().await >= 2, "the agent's reply and the bot's turn at least");
    let c2 = second.json["conversation_id"].as_i64().unwrap();
    let thread = app.get(&format!("{ap}/conversations/{c2}/messages"), &t.agent_token).await;
    let bot_reply = thread.json.as_array().unwrap().iter().find(|m| m["sender"]["type"] == "bot").cloned();
    assert_eq!(bot_reply.map(|m| m["delivery"]["state"].clone()), Some(json!("sent")), "{:#?}", thread.json);

    let (mut socket, _) = tokio_tungstenite::connect_async(app.ws_url(&t.agent_token)).await.unwrap();
    assert!(socket.next().await.unwrap().unwrap().to_text().unwrap().contains("ready"));
    let (_, text) = scrape(&app, None).await;
    assert!(sample(&text, "ferry_websocket_connections", &["kind=\"agent\""]).unwrap() >= 1.0, "{text}");
    let webhook = ["route=\"/webhooks/api/{inbox_id}\"", "method=\"POST\"", "status=\"200\""];
    assert!(sample(&text, "ferry_http_requests_total", &webhook).unwrap() >= 3.0, "{text}");
    let messages = ["route=\"/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages\""];
    assert!(sample(&text, "ferry_http_requests_total", &messages).unwrap() >= 1.0, "{text}");
    let not_found = ["route=\"/api/v1/accounts/{account_id}/contacts/{contact_id}\"", "status=\"404\""];
    assert!(sample(&text, "ferry_http_requests_total", &not_found).unwrap() >= 1.0, "{text}");
    assert!(sample(&text, "ferry_http_requests_total", &["route=\"unmatched\""]).unwrap() >= 1.0, "{text}");
    let labels = text.lines().filter_map(|l| l.split_once('}').map(|(labels, _)| labels)).collect::<Vec<_>>();
    assert!(labels.iter().all(|l| !l.contains("999999") && !l.contains("page.php")), "no ids or raw paths in labels");
    let webhook_latency = ["route=\"/webhooks/api/{inbox_id}\""];
    assert!(sample(&text, "ferry_http_request_duration_seconds_count", &webhook_latency).unwrap() >= 3.0, "{text}");
    assert!(sample(&text, "ferry_messages_received_total", &["channel=\"api\""]).unwrap() >= 2.0, "{text}");
    assert!(sample(&text, "ferry_messages_duplicate_total", &["channel=\"api\""]).unwrap() >= 1.0, "{text}");
    let sent = ["channel=\"api\"", "outcome=\"sent\""];
    assert!(sample(&text, "ferry_deliveries_total", &sent).unwrap() >= 1.0, "{text}");
    let send_latency = ["channel=\"api\""];
    assert!(sample(&text, "ferry_delivery_send_duration_seconds_count", &send_latency).unwrap() >= 1.0, "{text}");
    let decisions: f64 = ["answer", "ask", "hand_off"]
        .iter()
        .filter_map(|d| sample(&text, "ferry_bot_decisions_total", &[&format!("decision=\"{d}\"")]))
        .sum();
    assert!(decisions >= 1.0, "{text}");
    assert!(labels.iter().all(|l| !l.contains("buyer-m1") && !l.contains("Metrics")), "no personal data or names");
}

async fn the_metrics_token_is_required_when_set(b: Backend) {
    let opts = SpawnOptions { metrics_token: Some("scrape-secret".into()), ..SpawnOptions::new(b) };
    let Some(app) = spawn_with(opts).await else { return };
    assert_eq!(scrape(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, Some("scrape-secreT")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, Some("scrape")).await.0, StatusCode::UNAUTHORIZED);
    let (status, text) = scrape(&app, Some("scrape-secret")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("ferry_jobs_pending"), "{text}");
    // Another node of the process without a token stays open.
    let Some(open) = spawn_app(b).await else { return };
    assert_eq!(scrape(&open, None).await.0, StatusCode::OK);
}
