//! The caller's API access tokens, for integrations.

use crate::extract::{AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_storage::AccessToken;

fn view(t: AccessToken) -> AccessTokenView {
    AccessTokenView { id: t.id, name: t.name, created_at: t.created_at }
}

/// The caller's API access tokens, newest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/profile/access_tokens", tag = "auth",
    responses((status = 200, body = [AccessTokenView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(State(s): State<ApiState>, Auth(a): Auth) -> Result<Json<Vec<AccessTokenView>>, ApiError> {
    Ok(Json(s.app.list_access_tokens(&a).await?.into_iter().map(view).collect()))
}

/// Creates an API access token acting as the caller; its secret is in this
/// answer only. Audited.
#[utoipa::path(post, path = "/api/v1/profile/access_tokens", tag = "auth", request_body = CreateAccessToken,
    responses((status = 201, body = CreatedAccessToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppJson(req): AppJson<CreateAccessToken>,
) -> Result<(StatusCode, Json<CreatedAccessToken>), ApiError> {
    let (token, secret) = s.app.create_access_token(&a, &req.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedAccessToken { token: view(token), secret })))
}

/// Revokes one of the caller's tokens. Audited.
#[utoipa::path(delete, path = "/api/v1/profile/access_tokens/{token_id}", tag = "auth",
    params(("token_id" = i64, Path)),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(id): AppPath<i64>,
) -> Result<StatusCode, ApiError> {
    s.app.revoke_access_token(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_tokens, create_token, revoke_token))]
pub struct AccessTokensDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/profile/access_tokens", get(list_tokens).post(create_token))
        .route("/api/v1/profile/access_tokens/{token_id}", delete(revoke_token))
}
