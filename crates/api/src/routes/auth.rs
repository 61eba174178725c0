//! Console login: e-mail + password give an HttpOnly session cookie.

use crate::extract::{AppJson, Auth, SESSION_COOKIE, session_of};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferry_api_types::{ErrorBody, LoginRequest, ProfileView};
use ferry_app::AppError;
use ferry_core::account::User;

async fn profile_of(s: &ApiState, user: User) -> Result<ProfileView, ApiError> {
    let account = s.app.storage.get_account(user.account_id).await?.ok_or(AppError::NotFound("account"))?;
    Ok(ProfileView { account_id: account.id.0, account_name: account.name, user: user.into() })
}

/// Logs in; sets the `ferry_session` cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody)))]
pub async fn login(State(s): State<ApiState>, AppJson(req): AppJson<LoginRequest>) -> Result<Response, ApiError> {
    let (user, secret) = s.app.login(&req.email, &req.password).await?;
    logged_in(&s, user, &secret).await
}

/// The profile of a user who just got a session, with its cookie.
pub(crate) async fn logged_in(s: &ApiState, user: User, secret: &str) -> Result<Response, ApiError> {
    let max_age = s.app.config.session_ttl.num_seconds();
    let secure = if s.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    let profile = profile_of(s, user).await?;
    let mut resp = Json(profile).into_response();
    resp.headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| AppError::internal("the session cookie", e))?);
    Ok(resp)
}

/// Logs out; clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(s): State<ApiState>, headers: axum::http::HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = session_of(&headers) {
        s.app.logout(&secret).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_static("ferry_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    Ok(resp)
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/profile", tag = "auth",
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody)))]
pub async fn profile(State(s): State<ApiState>, Auth(actor): Auth) -> Result<Json<ProfileView>, ApiError> {
    Ok(Json(profile_of(&s, actor.user).await?))
}
