//! Tenant isolation, generated from the API itself: every operation under
//! `/api/v1/accounts/{account_id}/…` in the served OpenAPI document is
//! called by the users of account B with account A's id and A's resource
//! ids in its path (a plausible body and the required query parameters
//! made from the document), and must answer 404; with B's own account id
//! and A's resource ids it must answer 404 too. Never 2xx, 403 or 5xx.
//!
//! So that no route escapes, every route registered in the router's
//! source (`crates/api/src/routes/*.rs`) under `/api/v1/` or `/platform/`
//! must be in the document with its method.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

on_both!(another_accounts_resources_are_not_found_on_any_route);

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The `(method, path)` of every route registered in the routes' source.
fn registered_routes() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/routes");
    let mut out = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let nested = f.file_name().and_then(|n| n.to_str()) == Some("mod.rs");
        for (path, methods) in routes_in(&src) {
            // `mod.rs` nests its account routes under the account.
            let path =
                if nested && !path.starts_with("/api") && !path.starts_with("/platform") && is_account_route(&path) {
                    format!("/api/v1/accounts/{{account_id}}{path}")
                } else {
                    path
                };
            for m in methods {
                out.insert((m, path.clone()));
            }
        }
    }
    out
}

fn is_account_route(path: &str) -> bool {
    !["/healthz", "/metrics", "/webhooks", "/ws", "/widget", "/csat"].iter().any(|p| path.starts_with(p))
}

/// `let name = "…";` (literal) and `let name = format!("…");` (to
/// expand) bindings of a file.
fn bindings(src: &str) -> HashMap<String, (String, bool)> {
    let mut out = HashMap::new();
    for line in src.lines() {
        let l = line.trim();
        let Some(rest) = l.strip_prefix("let ") else { continue };
        let Some((name, value)) = rest.split_once(" = ") else { continue };
        let value = value.trim_end_matches(';');
        if let Some(f) = value.strip_prefix("format!(\"").and_then(|v| v.strip_suffix("\")")) {
            out.insert(name.trim().to_owned(), (f.to_owned(), true));
        } else if let Some(t) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            out.insert(name.trim().to_owned(), (t.to_owned(), false));
        }
    }
    out
}

/// Expands a `format!` string: `{name}` bindings, `{{` and `}}`.
fn expand(s: &str, binds: &HashMap<String, (String, bool)>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("{{") {
            let end = tail.find("}}").unwrap();
            out.push('{');
            out.push_str(&tail[..end]);
            out.push('}');
            rest = &tail[end + 2..];
        } else {
            let end = after.find('}').unwrap();
            let name = &after[1..end];
            out.push_str(&bound(name, binds));
            rest = &after[end + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The text a binding stands for.
fn bound(name: &str, binds: &HashMap<String, (String, bool)>) -> String {
    match binds.get(name) {
        Some((f, true)) => expand(f, binds),
        Some((t, false)) => t.clone(),
        None => panic!("unknown binding `{name}`"),
    }
}

/// The routes `.route(path, handlers)` of one file, with their methods.
fn routes_in(src: &str) -> Vec<(String, Vec<String>)> {
    let binds = bindings(src);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = src[from..].find(".route(") {
        let start = from + i + ".route(".len();
        let bytes = src.as_bytes();
        let (mut depth, mut k) = (1, start);
        while depth > 0 {
            match bytes[k] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            k += 1;
        }
        let inner = &src[start..k - 1];
        from = k;
        let mut d = 0;
        let mut cut = inner.len();
        for (n, c) in inner.char_indices() {
            match c {
                '(' | '[' | '{' => d += 1,
                ')' | ']' | '}' => d -= 1,
                ',' if d == 0 => {
                    cut = n;
                    break;
                }
                _ => {}
            }
        }
        let (first, rest) = (inner[..cut].trim(), &inner[cut..]);
        let path = if let Some(f) = first.trim_start_matches('&').strip_prefix("format!(\"") {
            expand(f.trim_end_matches("\")"), &binds)
        } else if let Some(l) = first.strip_prefix('"') {
            l.trim_end_matches('"').to_owned()
        } else {
            bound(first, &binds)
        };
        let mut methods = Vec::new();
        for m in METHODS {
            let mut at = 0;
            while let Some(j) = rest[at..].find(&format!("{m}(")) {
                let pos = at + j;
                let before = rest[..pos].chars().next_back();
                if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    methods.push(m.to_owned());
                    break;
                }
                at = pos + 1;
            }
        }
        out.push((path, methods));
    }
    out
}

/// A value satisfying `schema` (required fields only), from the document.
fn sample(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return sample(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return e.clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|o| {
            o.iter().find(|s| s.get("type").and_then(Value::as_str) != Some("null")).or_else(|| o.first())
        }) {
            return sample(doc, first, depth + 1);
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for s in all {
            if let Value::Object(o) = sample(doc, s, depth + 1) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null").to_owned()
        }
        _ if schema.get("properties").is_some() => "object".to_owned(),
        _ => "null".to_owned(),
    };
    match ty.as_str() {
        "object" => {
            let mut o = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in required {
                o.insert(name.to_owned(), sample(doc, &schema["properties"][name], depth + 1));
            }
            Value::Object(o)
        }
        "array" => json!([]),
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            Some("date") => json!("2026-01-01"),
            _ => json!("x"),
        },
        "integer" | "number" => json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(1).max(1)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// Calls one operation as `token`, with a sample body and required query.
async fn call(app: &TestApp, doc: &Value, op: &Value, method: &str, path: &str, token: &str) -> StatusCode {
    let mut query = Vec::new();
    for p in op["parameters"].as_array().cloned().unwrap_or_default() {
        if p["in"] == "query" && p["required"] == json!(true) {
            let v = sample(doc, &p["schema"], 0);
            let v = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            query.push((p["name"].as_str().unwrap().to_owned(), v));
        }
    }
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut url = format!("{}{path}", app.base);
    if !query.is_empty() {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &query {
            q.append_pair(k, v);
        }
        url = format!("{url}?{}", q.finish());
    }
    let mut req = app.http.request(method, url).header("api_access_token", token);
    if let Some(content) = op["requestBody"]["content"].as_object() {
        if let Some(json_body) = content.get("application/json") {
            req = req.json(&sample(doc, &json_body["schema"], 0));
        } else if let Some(ct) = content.keys().next() {
            req = req.header("content-type", ct.as_str()).body("x");
        }
    }
    req.send().await.unwrap().status()
}

async fn another_accounts_resources_are_not_found_on_any_route(b: Backend) {
    let Some(app) = spawn_app(b).await else { return };
    let a = app.tenant("Alpha").await;
    let bt = app.tenant("Beta").await;
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await.json;
    let paths = doc["paths"].as_object().unwrap().clone();

    // Every registered route is documented.
    let registered = registered_routes();
    assert!(registered.len() > 50, "the routes' source was not read: {registered:?}");
    let missing: Vec<_> = registered
        .iter()
        .filter(|(m, p)| {
            (p.starts_with("/api/v1/") || p.starts_with("/platform/")) && paths.get(p).and_then(|o| o.get(m)).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");

    // Account A's resources.
    let ap = format!("/api/v1/accounts/{}", a.account);
    let r = app.webhook(&a, &buyer_message("iso-1", "ana", "hello")).await;
    let (conversation, contact, message) = (
        r.json["conversation_id"].as_i64().unwrap(),
        r.json["contact_id"].as_i64().unwrap(),
        r.json["message_id"].as_i64().unwrap(),
    );
    let team = app.post(&format!("{ap}/teams"), &a.owner_token, json!({"name": "Returns"})).await.json["id"].as_i64();
    let canned = app
        .post(&format!("{ap}/canned_responses"), &a.owner_token, json!({"short_code": "hi", "content": "Hello!"}))
        .await
        .json["id"]
        .as_i64();
    let webhook = app
        .post(
            &format!("{ap}/webhooks"),
            &a.owner_token,
            json!({"url": "http://127.0.0.1:9/hook", "events": ["message_created"]}),
        )
        .await
        .json["webhook"]["id"]
        .as_i64();
    let attachment =
        app.post_bytes(&format!("{ap}/attachments"), &a.owner_token, "text/plain", b"isolated".to_vec()).await;
    let key = attachment.json["url"].as_str().and_then(|u| u.rsplit('/').next()).map(str::to_owned);
    let mut ids: HashMap<&str, String> = HashMap::from([
        ("conversation_id", conversation.to_string()),
        ("contact_id", contact.to_string()),
        ("message_id", message.to_string()),
        ("inbox_id", a.inbox.0.to_string()),
        ("user_id", a.agent_id.to_string()),
    ]);
    for (name, v) in [("team_id", team), ("canned_response_id", canned), ("webhook_id", webhook)] {
        ids.insert(name, v.unwrap_or_else(|| panic!("{name} of A was not created")).to_string());
    }
    if let Some(k) = key {
        ids.insert("key", k);
    }
    // Resources the test does not make: the lowest ids, which are A's or
    // nobody's (A was created first).
    let fallback = |name: &str| if name.ends_with("_id") { "1".to_owned() } else { "x".to_owned() };

    let mut tried = 0;
    let mut wrong = Vec::new();
    for (template, ops) in &paths {
        let Some(rest) = template.strip_prefix("/api/v1/accounts/{account_id}") else { continue };
        let params: Vec<&str> = rest.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let fill = |account: i64| {
            let mut p = format!("/api/v1/accounts/{account}{rest}");
            for name in &params {
                let v = ids.get(name).cloned().unwrap_or_else(|| fallback(name));
                p = p.replace(&format!("{{{name}}}"), &v);
            }
            p
        };
        for m in METHODS {
            let Some(op) = ops.get(m) else { continue };
            // B's users in A's account.
            for token in [&bt.owner_token, &bt.agent_token] {
                let status = call(&app, &doc, op, m, &fill(a.account.0), token).await;
                tried += 1;
                if status != StatusCode::NOT_FOUND {
                    wrong.push(format!("{m} {template} in A's account: {status}"));
                }
            }
            // B's owner in B's account, with A's resources.
            if !params.is_empty() && params.iter().all(|p| ids.contains_key(p)) {
                let status = call(&app, &doc, op, m, &fill(bt.account.0), &bt.owner_token).await;
                tried += 1;
                if status != StatusCode::NOT_FOUND {
                    wrong.push(format!("{m} {template} in B's account with A's ids: {status}"));
                }
            }
        }
    }
    assert!(tried > 100, "only {tried} calls");
    assert!(wrong.is_empty(), "{} calls were not 404:\n{}", wrong.len(), wrong.join("\n"));
    // A's own data is untouched and still A's.
    let mine = app.get(&format!("{ap}/conversations/{conversation}"), &a.owner_token).await;
    assert_eq!(mine.status, StatusCode::OK);
}
