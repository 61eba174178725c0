//! Contacts.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ferry_api_types::*;
use ferry_app::ConversationQuery;
use ferry_app::contacts::identities;
use ferry_core::{AccountId, ContactId};
use ferry_storage::{ContactPatch, ConversationFilter, NewContact};
use serde::Deserialize;

/// Query of the contact list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ContactListQuery {
    /// Name, e-mail or phone (any format).
    pub q: Option<String>,
    /// Contacts older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1–100.
    pub limit: Option<u32>,
}

/// Lists or searches contacts, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts", tag = "contacts",
    params(("account_id" = i64, Path), ContactListQuery), responses((status = 200, body = ContactList)))]
pub async fn list_contacts(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ContactListQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let limit = q.limit.unwrap_or(25).clamp(1, 100);
    let list = s.app.search_contacts(&a, AccountId(account), q.q, q.before.map(ContactId), Some(limit)).await?;
    let next_before = if list.len() == limit as usize { list.last().map(|c| c.id.0) } else { None };
    Ok(Json(ContactList { data: list.into_iter().map(Into::into).collect(), next_before }))
}

/// Creates a contact.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/contacts", tag = "contacts", request_body = CreateContact,
    params(("account_id" = i64, Path)), responses((status = 201, body = ContactView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateContact>,
) -> Result<(StatusCode, Json<ContactView>), ApiError> {
    let extra: Vec<_> = req.identities.into_iter().map(|i| (i.kind, i.value)).collect();
    let new = NewContact {
        name: req.name.trim().to_owned(),
        country: req.country,
        language: req.language,
        timezone: req.timezone,
        vip: req.vip,
        custom_attributes: req.custom_attributes,
        tags: req.tags,
        identities: identities(req.email.as_deref(), req.phone.as_deref(), &extra)?,
    };
    Ok((StatusCode::CREATED, Json(s.app.create_contact(&a, AccountId(account), new).await?.into())))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)), responses((status = 200, body = ContactView), (status = 404, body = ErrorBody)))]
pub async fn get_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<ContactView>, ApiError> {
    Ok(Json(s.app.get_contact(&a, AccountId(account), ContactId(id)).await?.into()))
}

/// Edits a contact.
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}", tag = "contacts", request_body = UpdateContact,
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)), responses((status = 200, body = ContactView), (status = 404, body = ErrorBody)))]
pub async fn update_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateContact>,
) -> Result<Json<ContactView>, ApiError> {
    let extra: Vec<_> = req.identities.into_iter().map(|i| (i.kind, i.value)).collect();
    let patch = ContactPatch {
        name: req.name.map(|n| n.trim().to_owned()),
        country: req.country,
        language: req.language,
        timezone: req.timezone,
        vip: req.vip,
        custom_attributes: req.custom_attributes,
        tags: req.tags,
        add_identities: identities(req.email.as_deref(), req.phone.as_deref(), &extra)?,
    };
    Ok(Json(s.app.update_contact(&a, AccountId(account), ContactId(id), patch).await?.into()))
}

/// The contact's conversations, most recent first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/conversations", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)), responses((status = 200, body = [ConversationView])))]
pub async fn contact_conversations(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<Vec<ConversationView>>, ApiError> {
    let account = AccountId(account);
    s.app.get_contact(&a, account, ContactId(id)).await?;
    let q = ConversationQuery {
        filter: ConversationFilter { contact_id: Some(ContactId(id)), ..Default::default() },
        after: None,
        limit: Some(100),
    };
    Ok(Json(s.app.list_conversations(&a, account, q).await?.items.into_iter().map(Into::into).collect()))
}
