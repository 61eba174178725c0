//! Frequent-question discovery through the API: buyers' questions that
//! agents answered come back grouped by question, with the reply agents
//! gave most, and what the bot answered by itself stays out. On SQLite and
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

on_both!(questions_agents_answered_are_grouped_with_their_replies);

const WHERE: [&str; 6] = [
    "Where is my order 1001? It has not arrived",
    "where is my order #2093, still not here",
    "Hi, where is my order 5521? not arrived yet",
    "where is my order 7730?? it has not arrived",
    "Where's my order 4410, it has not arrived yet",
    "where is my order 9924 it still has not arrived",
];
const RETURNS: [&str; 6] = [
    "Can I return the dress? It is too small",
    "can i return the dress, it is too small for me",
    "I want to return the dress because it is too small",
    "how can I return the dress? too small",
    "Can I return this dress, it's too small",
    "can I return the dress it is too small please",
];

async fn questions_agents_answered_are_grouped_with_their_replies(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Questions").await;
    let acct = format!("/api/v1/accounts/{}", t.account);
    let mut ids = std::collections::HashMap::new();
    for (n, (text, reply)) in WHERE
        .iter()
        .map(|q| (q, "Your order is on its way; here is the tracking link."))
        .chain(RETURNS.iter().map(|q| (q, "Yes: returns are free within 30 days from the returns page.")))
        .enumerate()
    {
        let r = app.webhook(&t, &buyer_message(&format!("q-{n}"), &format!("buyer-{n}"), text)).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
        let conv = r.json["conversation_id"].as_i64().unwrap();
        ids.insert(r.json["message_id"].as_i64().unwrap(), *text);
        let r =
            app.post(&format!("{acct}/conversations/{conv}/messages"), &t.agent_token, json!({"content": reply})).await;
        assert!(r.status.is_success(), "{:?}", r.json);
    }
    // A buyer nobody answered is no question of this list.
    app.webhook(&t, &buyer_message("q-x", "buyer-x", "Where is my order 3333? It has not arrived")).await;

    let r = app.get(&format!("{acct}/insights/questions?days=7"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let clusters = r.json.as_array().unwrap();
    let members = |c: &Value| -> HashSet<&str> {
        c["message_ids"].as_array().unwrap().iter().map(|m| ids[&m.as_i64().unwrap()]).collect()
    };
    let with = |text: &str| {
        clusters
            .iter()
            .find(|c| members(c).contains(text))
            .unwrap_or_else(|| panic!("{text} in no cluster: {}", r.json))
    };
    let whereis = with(WHERE[0]);
    let returns = with(RETURNS[0]);
    assert_ne!(whereis["id"], returns["id"]);
    assert_eq!(members(whereis), WHERE.iter().copied().collect::<HashSet<_>>(), "{}", r.json);
    assert_eq!(members(returns), RETURNS.iter().copied().collect::<HashSet<_>>(), "{}", r.json);
    assert_eq!(whereis["size"], 6);
    assert_eq!(whereis["this_week"], 6);
    assert_eq!(whereis["replies"][0]["value"], "Your order is on its way; here is the tracking link.");
    assert_eq!(whereis["replies"][0]["count"], 6);
    assert_eq!(whereis["channels"][0], json!({"value": "api", "count": 6}));
    let total: u64 = clusters.iter().map(|c| c["size"].as_u64().unwrap()).sum();
    assert_eq!(total, 12, "the unanswered buyer is left out: {}", r.json);

    // Bad periods are refused; another account sees nothing of this one.
    let r = app.get(&format!("{acct}/insights/questions?days=0"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app.tenant("Other").await;
    let r = app.get(&format!("{acct}/insights/questions"), &other.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
}
