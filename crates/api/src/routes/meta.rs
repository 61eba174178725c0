//! Health, metrics, the OpenAPI document, unknown paths.

use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use ferry_api_types::Health;
use ferry_app::AppError;

/// Liveness and storage check.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()), responses((status = 200, body = Health)))]
pub async fn healthz(State(s): State<ApiState>) -> Result<Json<Health>, ApiError> {
    s.app.storage.ping().await?;
    Ok(Json(Health {
        status: "ok".into(),
        storage: s.app.storage.backend().into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// Prometheus metrics (text format). With `metrics_token` configured the
/// caller must send `Authorization: Bearer <token>`.
#[utoipa::path(get, path = "/metrics", tag = "meta", security(()),
    responses(
        (status = 200, description = "Metrics in Prometheus' text format", body = String, content_type = "text/plain"),
        (status = 401, description = "A metrics token is configured and this is not it", body = ferry_api_types::ErrorBody),
        (status = 404, description = "Metrics are not collected by this process", body = ferry_api_types::ErrorBody),
    ))]
pub async fn metrics(State(s): State<ApiState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(expected) = &s.config.metrics_token {
        let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same_secret(g, expected.expose())) {
            return Err(ApiError(AppError::Unauthorized("a valid metrics token is required")));
        }
    }
    let handle = crate::monitoring::handle().ok_or(ApiError(AppError::NotFound("metrics")))?;
    // Stale gauges beat no scrape at all: the failure is logged and the
    // rest is still rendered.
    if let Err(e) = s.app.sample_backlog().await {
        tracing::warn!(error = %e, "could not sample the job backlog for metrics");
    }
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response())
}

/// Compares in time independent of where the strings differ.
fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This document", body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError(AppError::NotFound("route"))
}
