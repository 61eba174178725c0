//! The caller's two-factor authentication and sessions, and the account's
//! sign-in rules. The profile routes also answer a session limited to
//! setting up two-factor authentication.

use crate::extract::{AppJson, AppPath, Auth, Caller, Client};
use crate::routes::auth::set_session_cookie;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_core::AccountId;

/// Where the caller's two-factor authentication stands.
#[utoipa::path(get, path = "/api/v1/profile/two_factor", tag = "auth",
    responses((status = 200, body = TwoFactorStatusView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn two_factor_status(State(s): State<ApiState>, c: Caller) -> Result<Json<TwoFactorStatusView>, ApiError> {
    let st = s.app.two_factor_status(&c.actor).await?;
    Ok(Json(TwoFactorStatusView {
        enabled: st.enabled,
        recovery_codes_left: st.recovery_codes_left,
        required: st.required,
    }))
}

/// Makes a new secret for an authenticator app (replacing one not yet
/// enabled); it is not active until enabled with a code.
#[utoipa::path(post, path = "/api/v1/profile/two_factor/setup", tag = "auth",
    responses((status = 200, body = TwoFactorSetupView), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "already on"), (status = 429, body = ErrorBody)))]
pub async fn set_up_two_factor(State(s): State<ApiState>, c: Caller) -> Result<Json<TwoFactorSetupView>, ApiError> {
    let t = s.app.set_up_two_factor(&c.actor).await?;
    Ok(Json(TwoFactorSetupView { secret: t.secret, otpauth_uri: t.otpauth_uri, qr_svg: t.qr_svg }))
}

/// Turns two-factor authentication on with a current code; answers the
/// recovery codes, shown this once. Every other session of the user ends
/// and this one gets a new secret (a new cookie).
#[utoipa::path(post, path = "/api/v1/profile/two_factor/enable", tag = "auth", request_body = EnableTwoFactorRequest,
    responses((status = 200, body = RecoveryCodesView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not set up, or already on"),
        (status = 422, body = ErrorBody, description = "wrong code"),
        (status = 429, body = ErrorBody, description = "locked after repeated failures", headers(("Retry-After" = u64)))))]
pub async fn enable_two_factor(
    State(s): State<ApiState>,
    c: Caller,
    Client(client): Client,
    AppJson(req): AppJson<EnableTwoFactorRequest>,
) -> Result<Response, ApiError> {
    let (codes, secret) = s.app.enable_two_factor(&c.actor, &req.code, &client, c.session_id).await?;
    let mut resp = Json(RecoveryCodesView { recovery_codes: codes }).into_response();
    if let Some(secret) = secret {
        set_session_cookie(&s, &mut resp, &secret)?;
    }
    Ok(resp)
}

/// Turns two-factor authentication off (password and a current or
/// recovery code). Every other session of the user ends and this one gets
/// a new secret (a new cookie).
#[utoipa::path(post, path = "/api/v1/profile/two_factor/disable", tag = "auth", request_body = DisableTwoFactorRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not on"),
        (status = 422, body = ErrorBody, description = "wrong password or code"),
        (status = 429, body = ErrorBody, description = "locked after repeated failures", headers(("Retry-After" = u64)))))]
pub async fn disable_two_factor(
    State(s): State<ApiState>,
    c: Caller,
    Client(client): Client,
    AppJson(req): AppJson<DisableTwoFactorRequest>,
) -> Result<Response, ApiError> {
    let secret = s.app.disable_two_factor(&c.actor, &req.password, &req.code, &client, c.session_id).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(secret) = secret {
        set_session_cookie(&s, &mut resp, &secret)?;
    }
    Ok(resp)
}

/// The caller's console sessions, newest first.
#[utoipa::path(get, path = "/api/v1/profile/sessions", tag = "auth",
    responses((status = 200, body = [LoginSessionView]), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list_sessions(State(s): State<ApiState>, c: Caller) -> Result<Json<Vec<LoginSessionView>>, ApiError> {
    let list = s.app.list_sessions(&c.actor).await?;
    Ok(Json(
        list.into_iter()
            .map(|r| LoginSessionView {
                current: Some(r.id) == c.session_id,
                id: r.id,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
                ip: r.ip,
                user_agent: r.user_agent,
            })
            .collect(),
    ))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/profile/sessions/{session_id}", tag = "auth",
    params(("session_id" = i64, Path, minimum = 1)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn revoke_session(
    State(s): State<ApiState>,
    c: Caller,
    AppPath(id): AppPath<i64>,
) -> Result<StatusCode, ApiError> {
    s.app.revoke_session(&c.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller but this one ("log out everywhere
/// else").
#[utoipa::path(post, path = "/api/v1/profile/sessions/revoke_others", tag = "auth",
    responses((status = 200, body = RevokedSessionsView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn revoke_other_sessions(
    State(s): State<ApiState>,
    c: Caller,
) -> Result<Json<RevokedSessionsView>, ApiError> {
    let revoked = s.app.revoke_other_sessions(&c.actor, c.session_id).await?;
    Ok(Json(RevokedSessionsView { revoked }))
}

/// The account's sign-in rules.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/security", tag = "admin",
    params(("account_id" = i64, Path, minimum = 1)),
    responses((status = 200, body = AccountSecurityView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "two_factor_required"), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn get_account_security(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<AccountSecurityView>, ApiError> {
    Ok(Json(AccountSecurityView { require_two_factor: s.app.requires_two_factor(&a, AccountId(account)).await? }))
}

/// Changes the account's sign-in rules (owners).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/security", tag = "admin", request_body = AccountSecurityView,
    params(("account_id" = i64, Path, minimum = 1)),
    responses((status = 200, body = AccountSecurityView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn set_account_security(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<AccountSecurityView>,
) -> Result<Json<AccountSecurityView>, ApiError> {
    let on = s.app.set_requires_two_factor(&a, AccountId(account), req.require_two_factor).await?;
    Ok(Json(AccountSecurityView { require_two_factor: on }))
}

/// Documents the routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    two_factor_status,
    set_up_two_factor,
    enable_two_factor,
    disable_two_factor,
    list_sessions,
    revoke_session,
    revoke_other_sessions,
    get_account_security,
    set_account_security
))]
pub struct SecurityDoc;

/// The routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/profile/two_factor", get(two_factor_status))
        .route("/api/v1/profile/two_factor/setup", post(set_up_two_factor))
        .route("/api/v1/profile/two_factor/enable", post(enable_two_factor))
        .route("/api/v1/profile/two_factor/disable", post(disable_two_factor))
        .route("/api/v1/profile/sessions", get(list_sessions))
        .route("/api/v1/profile/sessions/revoke_others", post(revoke_other_sessions))
        .route("/api/v1/profile/sessions/{session_id}", delete(revoke_session))
        .route("/api/v1/accounts/{account_id}/security", get(get_account_security).put(set_account_security))
}
