//! Health, the OpenAPI document, unknown paths.

use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use ferry_api_types::Health;
use ferry_app::AppError;

/// Liveness and storage check.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = Health)))]
pub async fn healthz(State(s): State<ApiState>) -> Result<Json<Health>, ApiError> {
    s.app.storage.ping().await?;
    Ok(Json(Health {
        status: "ok".into(),
        storage: s.app.storage.backend().into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// The OpenAPI 3 document of this API.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError(AppError::NotFound("route"))
}
