//! Passwords and invitations over HTTP: changing one's password, resetting
//! it by e-mail, and inviting agents who then choose their password.

use crate::extract::{AppJson, AppPath, Auth, session_of};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ferry_api_types::{ErrorBody, ProfileView};
use ferry_app::invitations::{Invited, NewInvite};
use ferry_core::AccountId;
use ferry_core::account::Role;
use ferry_core::invitation::{Invitation, InvitationState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/v1/profile/password`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The new one: 10 to 128 characters, not a common password, without
    /// one's name or e-mail name.
    pub new_password: String,
}

/// The password was changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordChanged {
    /// How many other sessions were ended.
    pub sessions_ended: u64,
}

/// `POST /api/v1/auth/password_reset`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The login e-mail.
    pub email: String,
}

/// `POST /api/v1/auth/password_reset/confirm`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The token of the e-mailed link.
    pub token: String,
    /// The new password.
    pub password: String,
}

/// `POST /api/v1/accounts/{id}/invitations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    /// Where the invitation goes.
    pub email: String,
    /// The invitee's name.
    pub name: String,
    /// The role they get (default agent).
    #[serde(default)]
    pub role: Option<Role>,
}

/// An invitation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationView {
    /// Id.
    pub id: i64,
    /// The invitee's e-mail.
    pub email: String,
    /// Their name.
    pub name: String,
    /// The role they get.
    pub role: Role,
    /// Pending, accepted, revoked or expired.
    pub state: InvitationState,
    /// Who invited.
    pub invited_by: Option<i64>,
    /// The user it became.
    pub user_id: Option<i64>,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl InvitationView {
    fn of(i: Invitation, now: DateTime<Utc>) -> Self {
        Self {
            id: i.id,
            state: i.state(now),
            email: i.email,
            name: i.name,
            role: i.role,
            invited_by: i.invited_by.map(|u| u.0),
            user_id: i.user_id.map(|u| u.0),
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            revoked_at: i.revoked_at,
            created_at: i.created_at,
        }
    }
}

/// A new invitation and its link, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationCreated {
    /// The invitation.
    pub invitation: InvitationView,
    /// The link the invitee opens (e-mailed when e-mail is set up).
    pub url: String,
    /// Whether the e-mail went out.
    pub email_sent: bool,
}

/// `POST /api/v1/invitations/accept`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The token of the invitation link.
    pub token: String,
    /// The password to log in with.
    pub password: String,
}

/// Changes the caller's password; ends their other sessions.
#[utoipa::path(post, path = "/api/v1/profile/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 200, body = PasswordChanged), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "A cookie-authenticated request from another site (`cross_origin_request`)", body = ErrorBody),
        (status = 422, description = "`wrong_password` (field `current_password`) or a password rule (field `new_password`: \
            `password_too_short`, `password_too_long`, `password_too_common`, `password_contains_personal_info`)", body = ErrorBody)))]
pub async fn change_password(
    State(s): State<ApiState>,
    Auth(a): Auth,
    headers: HeaderMap,
    AppJson(req): AppJson<ChangePasswordRequest>,
) -> Result<Json<PasswordChanged>, ApiError> {
    let current = session_of(&headers);
    let ended = s.app.change_password(&a, current.as_deref(), &req.current_password, &req.new_password).await?;
    Ok(Json(PasswordChanged { sessions_ended: ended }))
}

/// Asks for a reset link by e-mail. Always accepted, whether or not the
/// address is a login, so nobody learns which are.
#[utoipa::path(post, path = "/api/v1/auth/password_reset", tag = "auth", request_body = PasswordResetRequest,
    responses((status = 202, description = "A link is e-mailed if the address is a login"), (status = 400, body = ErrorBody),
        (status = 403, description = "A cookie-authenticated request from another site (`cross_origin_request`)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn request_password_reset(
    State(s): State<ApiState>,
    AppJson(req): AppJson<PasswordResetRequest>,
) -> StatusCode {
    // Answered before the lookup and the e-mail, so the time taken does
    // not tell either.
    let app = s.app.clone();
    tokio::spawn(async move {
        if let Err(e) = app.request_password_reset(&req.email).await {
            tracing::error!(error = %e.report(), "a password reset request failed");
        }
    });
    StatusCode::ACCEPTED
}

/// Sets a new password with a reset link's token; every session of the
/// user ends.
#[utoipa::path(post, path = "/api/v1/auth/password_reset/confirm", tag = "auth", request_body = PasswordResetConfirm,
    responses((status = 204), (status = 400, body = ErrorBody),
        (status = 403, description = "A cookie-authenticated request from another site (`cross_origin_request`)", body = ErrorBody),
        (status = 422, description = "A bad link (field `token`: `token_invalid`, `token_expired`, `token_used`) or a password \
            rule (field `password`)", body = ErrorBody)))]
pub async fn confirm_password_reset(
    State(s): State<ApiState>,
    AppJson(req): AppJson<PasswordResetConfirm>,
) -> Result<StatusCode, ApiError> {
    s.app.confirm_password_reset(&req.token, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's invitations, newest first (owners and admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/invitations", tag = "agents",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = Vec<InvitationView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_invitations(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<InvitationView>>, ApiError> {
    let now = s.app.clock.now();
    let list = s.app.list_invitations(&a, AccountId(account)).await?;
    Ok(Json(list.into_iter().map(|i| InvitationView::of(i, now)).collect()))
}

/// Invites someone by e-mail (owners and admins, for roles they may grant).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/invitations", tag = "agents", request_body = CreateInvitation,
    params(("account_id" = i64, Path)),
    responses((status = 201, body = InvitationCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A user with this e-mail exists", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_invitation(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateInvitation>,
) -> Result<(StatusCode, Json<InvitationCreated>), ApiError> {
    let new = NewInvite { email: req.email, name: req.name, role: req.role.unwrap_or(Role::Agent) };
    let Invited { invitation, url, email_sent } = s.app.invite(&a, AccountId(account), new).await?;
    let now = s.app.clock.now();
    Ok((
        StatusCode::CREATED,
        Json(InvitationCreated { invitation: InvitationView::of(invitation, now), url, email_sent }),
    ))
}

/// Revokes a pending invitation (owners and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/invitations/{invitation_id}", tag = "agents",
    params(("account_id" = i64, Path), ("invitation_id" = i64, Path)),
    responses((status = 200, body = InvitationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Accepted already", body = ErrorBody)))]
pub async fn revoke_invitation(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<InvitationView>, ApiError> {
    let done = s.app.revoke_invitation(&a, AccountId(account), id).await?;
    Ok(Json(InvitationView::of(done, s.app.clock.now())))
}

/// Accepts an invitation: makes the user with this password and logs
/// them in (sets the `ferry_session` cookie).
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "auth", request_body = AcceptInvitation,
    responses((status = 200, body = ProfileView), (status = 400, body = ErrorBody),
        (status = 403, description = "A cookie-authenticated request from another site (`cross_origin_request`)", body = ErrorBody),
        (status = 409, description = "A user with this e-mail exists", body = ErrorBody),
        (status = 422, description = "A bad link (field `token`: `token_invalid`, `token_expired`, `token_used`, \
            `token_revoked`) or a password rule (field `password`)", body = ErrorBody)))]
pub async fn accept_invitation(
    State(s): State<ApiState>,
    AppJson(req): AppJson<AcceptInvitation>,
) -> Result<Response, ApiError> {
    let (user, secret) = s.app.accept_invitation(&req.token, &req.password).await?;
    crate::routes::auth::signed_in(&s, user, &secret).await
}

/// Documents the password and invitation routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        change_password,
        request_password_reset,
        confirm_password_reset,
        list_invitations,
        create_invitation,
        revoke_invitation,
        accept_invitation
    ),
    components(schemas(
        ChangePasswordRequest,
        PasswordChanged,
        PasswordResetRequest,
        PasswordResetConfirm,
        CreateInvitation,
        InvitationView,
        InvitationCreated,
        AcceptInvitation,
        InvitationState
    ))
)]
pub struct CredentialsDoc;

/// The password and invitation routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/profile/password", post(change_password))
        .route("/api/v1/auth/password_reset", post(request_password_reset))
        .route("/api/v1/auth/password_reset/confirm", post(confirm_password_reset))
        .route("/api/v1/accounts/{account_id}/invitations", get(list_invitations).post(create_invitation))
        .route("/api/v1/accounts/{account_id}/invitations/{invitation_id}", axum::routing::delete(revoke_invitation))
        .route("/api/v1/invitations/accept", post(accept_invitation))
}
