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
const WASH: [&str; 6] = [
    "Can I put the silk dress in the washing machine?",
    "is the silk dress machine washable",
    "Can the silk dress go in the washing machine at 30 degrees?",
    "may I wash the silk dress in the washing machine",
    "Is it ok to machine wash the silk dress?",
    "can i wash the silk dress in a washing machine please",
];

async fn questions_agents_answered_are_grouped_with_their_replies(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let t = app.tenant("Questions").await;
    let acct = format!("/api/v1/accounts/{}", t.account);
    let mut ids = std::collections::HashMap::new();
    for (n, (text, reply)) in WHERE
        .iter()
        .map(|q| (q, "Your order is on its way; here is the tracking link."))
        .chain(WASH.iter().map(|q| (q, "Hand wash it cold; the machine shrinks silk.")))
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
    let wash = with(WASH[0]);
    assert_ne!(whereis["id"], wash["id"]);
    assert_eq!(members(whereis), WHERE.iter().copied().collect::<HashSet<_>>(), "{}", r.json);
    assert_eq!(members(wash), WASH.iter().copied().collect::<HashSet<_>>(), "{}", r.json);
    assert_eq!(whereis["size"], 6);
    assert_eq!(whereis["this_week"], 6);
    assert_eq!(whereis["replies"][0]["value"], "Your order is on its way; here is the tracking link.");
    assert_eq!(whereis["replies"][0]["count"], 6);
    assert_eq!(whereis["channels"][0], json!({"value": "api", "count": 6}));
    let total: u64 = clusters.iter().map(|c| c["size"].as_u64().unwrap()).sum();
    assert_eq!(total, 12, "the unanswered buyer is left out: {}", r.json);

    // The bot's default pack knows where orders are; not how to wash silk.
    assert_eq!(whereis["covered_by"]["name"], "order_status", "{whereis}");
    assert_eq!(wash["covered_by"], Value::Null, "{wash}");
    // The washing question becomes a FAQ entry in one step (owners and
    // admins), answered with the agents' reply; the bot retrains and the
    // cluster shows as covered.
    let adopt = format!("{acct}/insights/questions/{}/adopt", wash["id"]);
    let body = json!({"as": "faq", "name": "silk_care", "days": 7});
    let r = app.post(&adopt, &t.agent_token, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.json);
    let r = app.post(&adopt, &t.owner_token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    let faq = r.json["document"]["faqs"].as_array().unwrap().iter().find(|f| f["id"] == "silk_care").cloned().unwrap();
    assert_eq!(faq["answer"], "Hand wash it cold; the machine shrinks silk.");
    let asked: HashSet<&str> = faq["questions"].as_array().unwrap().iter().map(|q| q.as_str().unwrap()).collect();
    assert_eq!(asked, WASH.iter().copied().collect::<HashSet<_>>());
    let r = app.get(&format!("{acct}/insights/questions?days=7"), &t.agent_token).await;
    let again = r.json.as_array().unwrap().iter().find(|c| c["id"] == wash["id"]).cloned().unwrap();
    assert_eq!(again["covered_by"]["kind"], "faq", "{again}");
    assert_eq!(again["covered_by"]["name"], "silk_care");
    let r = app
        .post(&format!("{acct}/insights/questions/424242/adopt"), &t.owner_token, json!({"as": "faq", "name": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.post(&adopt, &t.owner_token, json!({"as": "poem", "name": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Bad periods are refused; another account sees nothing of this one.
    let r = app.get(&format!("{acct}/insights/questions?days=0"), &t.agent_token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app.tenant("Other").await;
    let r = app.get(&format!("{acct}/insights/questions"), &other.agent_token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.json);
}
