//! Contacts.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ferry_api_types::*;
use ferry_app::contacts::identities;
use ferry_app::{AppError, ConversationQuery};
use ferry_core::contact::IdentityKind;
use ferry_core::segment::{SegmentCondition, SegmentFilter};
use ferry_core::{AccountId, ContactId};
use ferry_storage::{ContactPatch, ConversationFilter, NewContact};
use serde::Deserialize;

/// Query of the contact list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactListQuery {
    /// Name, e-mail or phone (any format).
    pub q: Option<String>,
    /// Contacts older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1–100.
    pub limit: Option<u32>,
    /// Only these countries (comma-separated ISO codes).
    pub country: Option<String>,
    /// Only these languages (comma-separated).
    pub language: Option<String>,
    /// Only VIPs (`true`) or only others (`false`).
    pub vip: Option<bool>,
    /// Only contacts with one of these frequent topics (comma-separated intents).
    pub topic: Option<String>,
    /// Only contacts with one of these tags (comma-separated).
    pub tag: Option<String>,
    /// Only contacts with one of these automatic tags (comma-separated).
    pub auto_tag: Option<String>,
    /// Only contacts whose last rating is at least this.
    pub csat_min: Option<u8>,
    /// Only contacts whose last rating is at most this.
    pub csat_max: Option<u8>,
    /// Only contacts reachable on one of these identity kinds (comma-separated: `email`, `whatsapp` …).
    pub channel: Option<String>,
}

fn list_of(v: Option<String>) -> Option<Vec<String>> {
    v.map(|v| v.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect::<Vec<_>>())
}

impl ContactListQuery {
    /// The filter the query parameters describe.
    fn filter(&self) -> Result<SegmentFilter, ApiError> {
        let mut all = Vec::new();
        if let Some(any_of) = list_of(self.country.clone()) {
            all.push(SegmentCondition::Country { any_of });
        }
        if let Some(any_of) = list_of(self.language.clone()) {
            all.push(SegmentCondition::Language { any_of });
        }
        if let Some(is) = self.vip {
            all.push(SegmentCondition::Vip { is });
        }
        if let Some(any_of) = list_of(self.topic.clone()) {
            all.push(SegmentCondition::Topic { any_of });
        }
        if let Some(any_of) = list_of(self.tag.clone()) {
            all.push(SegmentCondition::Tag { any_of });
        }
        if let Some(any_of) = list_of(self.auto_tag.clone()) {
            all.push(SegmentCondition::AutoTag { any_of });
        }
        if self.csat_min.is_some() || self.csat_max.is_some() {
            all.push(SegmentCondition::Csat { min: self.csat_min, max: self.csat_max });
        }
        if let Some(kinds) = list_of(self.channel.clone()) {
            let any_of =
                kinds.iter().map(|k| k.parse::<IdentityKind>()).collect::<Result<Vec<_>, _>>().map_err(|_| {
                    ApiError::from(AppError::invalid(
                        "channel",
                        "channel must name identity kinds such as email, phone or whatsapp",
                    ))
                })?;
            all.push(SegmentCondition::Channel { any_of });
        }
        Ok(SegmentFilter { all })
    }
}

/// Contacts with their profiles, as the API shows them.
pub(crate) async fn with_profiles(
    s: &ApiState,
    a: &ferry_app::auth::Actor,
    account: AccountId,
    list: Vec<ferry_core::contact::Contact>,
) -> Result<Vec<ContactView>, ApiError> {
    let mut profiles = s.app.contact_profiles(a, account, list.iter().map(|c| c.id).collect()).await?;
    Ok(list
        .into_iter()
        .map(|c| {
            let p = profiles.remove(&c.id);
            ContactView { profile: p.map(Into::into), ..c.into() }
        })
        .collect())
}

/// Lists or searches contacts, newest first, optionally filtered by their
/// profile (country, language, VIP, topic, tags, last rating, channel).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts", tag = "contacts",
    params(("account_id" = i64, Path), ContactListQuery), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ContactList), (status = 422, body = ErrorBody)))]
pub async fn list_contacts(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ContactListQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let limit = q.limit.unwrap_or(25).clamp(1, 100);
    let account = AccountId(account);
    let filter = q.filter()?;
    let list = s.app.filter_contacts(&a, account, filter, q.q, q.before.map(ContactId), limit).await?;
    let next_before = if list.len() == limit as usize { list.last().map(|c| c.id.0) } else { None };
    Ok(Json(ContactList { data: with_profiles(&s, &a, account, list).await?, next_before }))
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
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = ContactView), (status = 404, body = ErrorBody)))]
pub async fn get_contact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<ContactView>, ApiError> {
    let account = AccountId(account);
    let c = s.app.get_contact(&a, account, ContactId(id)).await?;
    let mut list = with_profiles(&s, &a, account, vec![c]).await?;
    list.pop().map(Json).ok_or(ApiError::from(AppError::NotFound("contact")))
}

/// Edits a contact.
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}", tag = "contacts", request_body = UpdateContact,
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody),
        (status = 409, description = "Another contact has this e-mail or phone", body = ErrorBody)))]
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
    let account = AccountId(account);
    let c = s.app.update_contact(&a, account, ContactId(id), patch).await?;
    let mut list = with_profiles(&s, &a, account, vec![c]).await?;
    list.pop().map(Json).ok_or(ApiError::from(AppError::NotFound("contact")))
}

/// The contact's conversations, most recent first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/conversations", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)), responses((status = 403, description = "The role does not allow it", body = ErrorBody), (status = 200, body = [ConversationView])))]
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
