//! Canned responses: listed by every agent of the account, managed by
//! owners and admins.

use crate::extract::{AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ferry_api_types::*;
use ferry_core::{AccountId, CannedResponseId};

/// The account's canned responses, by short code.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/canned_responses", tag = "canned_responses",
    params(("account_id" = i64, Path)), responses((status = 200, body = [CannedResponseView]), (status = 404, body = ErrorBody)))]
pub async fn list_canned_responses(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<CannedResponseView>>, ApiError> {
    Ok(Json(s.app.list_canned_responses(&a, AccountId(account)).await?.into_iter().map(Into::into).collect()))
}

/// Creates a canned response (owners and admins).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/canned_responses", tag = "canned_responses",
    request_body = CreateCannedResponse, params(("account_id" = i64, Path)),
    responses((status = 201, body = CannedResponseView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_canned_response(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateCannedResponse>,
) -> Result<(StatusCode, Json<CannedResponseView>), ApiError> {
    let c = s.app.create_canned_response(&a, AccountId(account), &req.short_code, req.content).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Changes a canned response (owners and admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/canned_responses/{canned_response_id}", tag = "canned_responses",
    request_body = UpdateCannedResponse, params(("account_id" = i64, Path), ("canned_response_id" = i64, Path)),
    responses((status = 200, body = CannedResponseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_canned_response(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateCannedResponse>,
) -> Result<Json<CannedResponseView>, ApiError> {
    let c =
        s.app.update_canned_response(&a, AccountId(account), CannedResponseId(id), req.short_code, req.content).await?;
    Ok(Json(c.into()))
}

/// Deletes a canned response (owners and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/canned_responses/{canned_response_id}", tag = "canned_responses",
    params(("account_id" = i64, Path), ("canned_response_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_canned_response(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_canned_response(&a, AccountId(account), CannedResponseId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
