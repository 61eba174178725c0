//! Roles and privacy: custom roles and who holds them, the caller's own
//! permissions, the audited reveal of a masked contact, a buyer's data
//! export (ZIP) and erasure, and the account's retention settings.

use crate::extract::{AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::privacy::{RoleChange, RoleInput};
use ferry_core::account::CustomRoleId;
use ferry_core::{AccountId, ContactId, UserId};
use ferry_storage::Retention;

/// The account's custom roles (owners and admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/roles", tag = "roles",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = [RoleView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_roles(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<RoleView>>, ApiError> {
    Ok(Json(s.app.list_roles(&a, AccountId(account)).await?.into_iter().map(Into::into).collect()))
}

/// Defines a custom role (owners and admins; audited).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/roles", tag = "roles", request_body = CreateRole,
    params(("account_id" = i64, Path)),
    responses((status = 201, body = RoleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_role(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateRole>,
) -> Result<(StatusCode, Json<RoleView>), ApiError> {
    let input = RoleInput { name: req.name, permissions: req.permissions, refund_limit_minor: req.refund_limit_minor };
    Ok((StatusCode::CREATED, Json(s.app.create_role(&a, AccountId(account), input).await?.into())))
}

/// Changes a custom role (owners and admins; audited).
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/roles/{role_id}", tag = "roles", request_body = UpdateRole,
    params(("account_id" = i64, Path), ("role_id" = i64, Path)),
    responses((status = 200, body = RoleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_role(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateRole>,
) -> Result<Json<RoleView>, ApiError> {
    let change =
        RoleChange { name: req.name, permissions: req.permissions, refund_limit_minor: req.refund_limit_minor };
    Ok(Json(s.app.update_role(&a, AccountId(account), CustomRoleId(id), change).await?.into()))
}

/// Deletes a custom role; its holders fall back to their built-in role
/// (owners and admins; audited).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/roles/{role_id}", tag = "roles",
    params(("account_id" = i64, Path), ("role_id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_role(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_role(&a, AccountId(account), CustomRoleId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The custom role an agent holds (owners and admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/agents/{user_id}/custom_role", tag = "roles",
    params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = AgentRoleView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_agent_role(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, user)): AppPath<(i64, i64)>,
) -> Result<Json<AgentRoleView>, ApiError> {
    let r = s.app.agent_role(&a, AccountId(account), UserId(user)).await?;
    Ok(Json(AgentRoleView { user_id: user, custom_role: r.map(Into::into) }))
}

/// Gives an agent a custom role, or takes it away (owners and admins;
/// audited).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/agents/{user_id}/custom_role", tag = "roles",
    request_body = AssignRole, params(("account_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = AgentRoleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_agent_role(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, user)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<AssignRole>,
) -> Result<Json<AgentRoleView>, ApiError> {
    let r = s.app.assign_role(&a, AccountId(account), UserId(user), req.custom_role_id.map(CustomRoleId)).await?;
    Ok(Json(AgentRoleView { user_id: user, custom_role: r.map(Into::into) }))
}

/// What the caller may do in the account.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/permissions", tag = "roles",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = PermissionsView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn my_permissions(Auth(a): Auth, AppPath(account): AppPath<i64>) -> Result<Json<PermissionsView>, ApiError> {
    a.in_account(AccountId(account))?;
    Ok(Json(PermissionsView {
        role: a.user.role,
        custom_role_id: a.custom_role.map(|r| r.0),
        permissions: a.permissions.allowed.clone(),
        refund_limit_minor: a.permissions.refund_limit_minor,
    }))
}

/// A contact with its phone numbers and e-mail addresses in clear, for
/// callers who may reveal them (`see_unmasked` or `unmask`); every reveal
/// is audited.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/unmask", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = ContactView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn unmask_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<ContactView>, ApiError> {
    Ok(Json(s.app.unmask_contact(&a, AccountId(account), ContactId(id)).await?.into()))
}

/// A buyer's data as a ZIP: JSON files (contact and identities, profile,
/// conversations with messages, orders, satisfaction answers, audit
/// entries) and the attachment files (owners, admins and roles with
/// `export`; audited).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/export", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, description = "A ZIP archive", content_type = "application/zip"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Response, ApiError> {
    let bytes = s.app.export_contact(&a, AccountId(account), ContactId(id)).await?;
    let disposition = format!("attachment; filename=\"contact-{id}.zip\"");
    Ok(([(header::CONTENT_TYPE, "application/zip".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

/// Erases a buyer (owners and admins; audited): a job replaces their
/// messages' text, deletes their attachments, removes their name, e-mail,
/// phone, identities and attributes and anonymises their orders; the
/// conversations stay as skeletons for the statistics.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 202, body = ErasureView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn erase_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<(StatusCode, Json<ErasureView>), ApiError> {
    s.app.request_erase(&a, AccountId(account), ContactId(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(ErasureView { contact_id: id, state: "queued".into() })))
}

/// How long the account keeps conversations and attachments (owners and
/// admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/retention", tag = "roles",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = RetentionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_retention(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<RetentionView>, ApiError> {
    let r = s.app.retention(&a, AccountId(account)).await?;
    Ok(Json(RetentionView { conversation_days: r.conversation_days, attachment_days: r.attachment_days }))
}

/// Sets how long the account keeps conversations and attachments (owners
/// and admins; audited); housekeeping deletes what is older.
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/retention", tag = "roles", request_body = RetentionView,
    params(("account_id" = i64, Path)),
    responses((status = 200, body = RetentionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_retention(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<RetentionView>,
) -> Result<Json<RetentionView>, ApiError> {
    let r = Retention { conversation_days: req.conversation_days, attachment_days: req.attachment_days };
    let r = s.app.set_retention(&a, AccountId(account), r).await?;
    Ok(Json(RetentionView { conversation_days: r.conversation_days, attachment_days: r.attachment_days }))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_roles,
    create_role,
    update_role,
    delete_role,
    get_agent_role,
    assign_agent_role,
    my_permissions,
    unmask_contact,
    export_contact,
    erase_contact,
    get_retention,
    put_retention
))]
pub struct PrivacyDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}";
    Router::new()
        .route(&format!("{base}/roles"), get(list_roles).post(create_role))
        .route(&format!("{base}/roles/{{role_id}}"), axum::routing::patch(update_role).delete(delete_role))
        .route(&format!("{base}/agents/{{user_id}}/custom_role"), get(get_agent_role).put(assign_agent_role))
        .route(&format!("{base}/permissions"), get(my_permissions))
        .route(&format!("{base}/contacts/{{contact_id}}/unmask"), axum::routing::post(unmask_contact))
        .route(&format!("{base}/contacts/{{contact_id}}/export"), get(export_contact))
        .route(&format!("{base}/retention"), get(get_retention).put(put_retention))
}
