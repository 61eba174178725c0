//! Console login: e-mail + password (and a second factor when the user has
//! one) give an HttpOnly session cookie.

use crate::extract::{AppJson, Caller, Client, SESSION_COOKIE, session_of};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferry_api_types::{ErrorBody, LoginChallengeView, LoginRequest, ProfileView, TwoFactorLoginRequest};
use ferry_app::AppError;
use ferry_app::security::LoginOutcome;
use ferry_core::account::User;

pub(crate) async fn profile_of(s: &ApiState, user: User, two_factor_missing: bool) -> Result<ProfileView, ApiError> {
    let account = s.app.storage.get_account(user.account_id).await?.ok_or(AppError::NotFound("account"))?;
    Ok(ProfileView {
        account_id: account.id.0,
        account_name: account.name,
        user: user.into(),
        two_factor_setup_required: two_factor_missing,
    })
}

/// Puts a session cookie on `resp` (HttpOnly, SameSite=Lax, Secure when
/// configured).
pub(crate) fn set_session_cookie(s: &ApiState, resp: &mut Response, secret: &str) -> Result<(), ApiError> {
    let max_age = s.app.config.session_ttl.num_seconds();
    let secure = if s.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    resp.headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| AppError::internal("the session cookie", e))?);
    Ok(())
}

/// The profile of a user who just got a session, with its cookie.
pub(crate) async fn signed_in(s: &ApiState, user: User, secret: &str) -> Result<Response, ApiError> {
    let missing = s.app.session_actor(secret).await?.two_factor_missing;
    let profile = profile_of(s, user, missing).await?;
    let mut resp = Json(profile).into_response();
    set_session_cookie(s, &mut resp, secret)?;
    Ok(resp)
}

/// Logs in; sets the `ferry_session` cookie (a new session every time).
/// A user with two-factor authentication gets 202 and a challenge instead,
/// to finish at `/api/v1/auth/login/two_factor`. Failures are limited per
/// e-mail and per address: past the limit the answer is 429
/// `login_locked` with `Retry-After`, whatever the password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = ProfileView, description = "signed in"),
        (status = 202, body = LoginChallengeView, description = "the second factor is due"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "locked after repeated failures", headers(("Retry-After" = u64)))))]
pub async fn login(
    State(s): State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
    AppJson(req): AppJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let previous = session_of(&headers);
    match s.app.sign_in(&req.email, &req.password, &client, previous.as_deref()).await? {
        LoginOutcome::Session { user, secret } => signed_in(&s, user, &secret).await,
        LoginOutcome::TwoFactor { challenge, expires_at } => {
            Ok((StatusCode::ACCEPTED, Json(LoginChallengeView { two_factor_required: true, challenge, expires_at }))
                .into_response())
        }
    }
}

/// Finishes a login with a code of the authenticator app or a recovery
/// code; sets the `ferry_session` cookie. A code is accepted once; a
/// recovery code never again.
#[utoipa::path(post, path = "/api/v1/auth/login/two_factor", tag = "auth", request_body = TwoFactorLoginRequest,
    responses((status = 200, body = ProfileView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "wrong, used or expired code or challenge"),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "locked after repeated failures", headers(("Retry-After" = u64)))))]
pub async fn login_two_factor(
    State(s): State<ApiState>,
    Client(client): Client,
    AppJson(req): AppJson<TwoFactorLoginRequest>,
) -> Result<Response, ApiError> {
    let (user, secret) = s.app.sign_in_second_factor(&req.challenge, &req.code, &client).await?;
    signed_in(&s, user, &secret).await
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

/// The caller (also for a session limited to setting up two-factor
/// authentication: see `two_factor_setup_required`).
#[utoipa::path(get, path = "/api/v1/profile", tag = "auth",
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn profile(State(s): State<ApiState>, c: Caller) -> Result<Json<ProfileView>, ApiError> {
    Ok(Json(profile_of(&s, c.actor.user, c.two_factor_missing).await?))
}
