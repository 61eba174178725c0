//! The OpenAPI document covers the router: every path the server answers
//! (the console's files are the fallback) is described, so clients and the contract
//! run (`scripts/api-contract`) see the whole API; and what the document
//! says of parameters holds (query parameters are query parameters).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_testkit::*;
use std::collections::BTreeSet;

/// The paths the router holds, read from its `Debug` form (axum prints
/// each route's path as a string there).
fn router_paths(router: &axum::Router) -> BTreeSet<String> {
    let text = format!("{router:?}");
    // The console and the widget's script are served by the fallback,
    // which axum keeps as two routes of its own (`/` and a catch-all).
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with('/') && *s != "/" && !s.contains("__private__axum_fallback"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_route_is_in_the_openapi_document() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    let routes = router_paths(&ferry_api::router(app.app.clone(), ferry_api::ApiConfig::default()));
    // A format change in axum must fail here, not make the check vacuous.
    for known in ["/healthz", "/api/v1/accounts/{account_id}/conversations", "/widget/{inbox_id}/messages", "/ws"] {
        assert!(routes.contains(known), "the router's paths could not be read (no {known}): {routes:?}");
    }
    let doc: serde_json::Value =
        app.http.get(format!("{}/api/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let missing: Vec<&String> = routes.iter().filter(|p| !documented.contains(*p)).collect();
    assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
    let phantom: Vec<&String> = documented.iter().filter(|p| !routes.contains(*p)).collect();
    assert!(phantom.is_empty(), "documented paths the router does not serve: {phantom:?}");
}

#[tokio::test]
async fn parameters_are_where_the_document_says() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    let doc: serde_json::Value =
        app.http.get(format!("{}/api/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                let place = p["in"].as_str().unwrap_or_default();
                let in_path = path.contains(&format!("{{{name}}}"));
                if (place == "path") != in_path {
                    wrong.push(format!("{method} {path}: `{name}` is documented in {place}"));
                }
            }
            // Every error, and every 200 or 201, says what it carries.
            for (status, r) in op["responses"].as_object().unwrap() {
                let carries = status == "200" || status == "201" || status.starts_with('4') || status.starts_with('5');
                if carries && r.get("content").is_none() && r.get("$ref").is_none() {
                    wrong.push(format!("{method} {path}: {status} has no content type"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
