//! Saved segments (named filters over contacts), their members, the
//! audience of an unsaved filter, and the account's VIP thresholds.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::routes::contacts::with_profiles;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_core::profile::VipRules;
use ferry_core::{AccountId, ContactId};
use ferry_storage::{AudienceSize, Segment};
use serde::Deserialize;

fn view(s: Segment) -> SegmentView {
    SegmentView { id: s.id, name: s.name, filter: s.filter, created_at: s.created_at, updated_at: s.updated_at }
}

fn audience(a: AudienceSize) -> AudienceView {
    AudienceView {
        total: a.total,
        by_language: a.by_language.into_iter().map(|(key, contacts)| AudienceGroup { key, contacts }).collect(),
        by_channel: a.by_channel.into_iter().map(|(k, contacts)| AudienceGroup { key: Some(k), contacts }).collect(),
    }
}

/// The account's segments, by name.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/segments", tag = "segments",
    params(("account_id" = i64, Path)), responses((status = 200, body = [SegmentView]), (status = 404, body = ErrorBody)))]
pub async fn list_segments(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<SegmentView>>, ApiError> {
    Ok(Json(s.app.list_segments(&a, AccountId(account)).await?.into_iter().map(view).collect()))
}

/// Saves a segment.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/segments", tag = "segments", request_body = CreateSegment,
    params(("account_id" = i64, Path)),
    responses((status = 201, body = SegmentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_segment(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateSegment>,
) -> Result<(StatusCode, Json<SegmentView>), ApiError> {
    let seg = s.app.create_segment(&a, AccountId(account), &req.name, req.filter).await?;
    Ok((StatusCode::CREATED, Json(view(seg))))
}

/// One segment.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/segments/{segment_id}", tag = "segments",
    params(("account_id" = i64, Path), ("segment_id" = i64, Path)),
    responses((status = 200, body = SegmentView), (status = 404, body = ErrorBody)))]
pub async fn get_segment(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<SegmentView>, ApiError> {
    Ok(Json(view(s.app.get_segment(&a, AccountId(account), id).await?)))
}

/// Renames and/or refilters a segment.
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/segments/{segment_id}", tag = "segments",
    request_body = UpdateSegment, params(("account_id" = i64, Path), ("segment_id" = i64, Path)),
    responses((status = 200, body = SegmentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_segment(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateSegment>,
) -> Result<Json<SegmentView>, ApiError> {
    let seg = s.app.update_segment(&a, AccountId(account), id, req.name.as_deref(), req.filter).await?;
    Ok(Json(view(seg)))
}

/// Deletes a segment.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/segments/{segment_id}", tag = "segments",
    params(("account_id" = i64, Path), ("segment_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_segment(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_segment(&a, AccountId(account), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of members.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Contacts older than this id (the previous page's `next_before`).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Page size, 1–100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The segment's members, newest contacts first, with their profiles.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/segments/{segment_id}/contacts", tag = "segments",
    params(("account_id" = i64, Path), ("segment_id" = i64, Path), MembersQuery),
    responses((status = 200, body = ContactList), (status = 404, body = ErrorBody)))]
pub async fn segment_contacts(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppQuery(q): AppQuery<MembersQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let account = AccountId(account);
    let limit = q.limit.unwrap_or(25).clamp(1, 100);
    let list = s.app.segment_contacts(&a, account, id, q.before.map(ContactId), limit).await?;
    let next_before = if list.len() == limit as usize { list.last().map(|c| c.id.0) } else { None };
    Ok(Json(ContactList { data: with_profiles(&s, &a, account, list).await?, next_before }))
}

/// How many contacts an unsaved filter reaches, by language and channel.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/segments/preview", tag = "segments",
    request_body = PreviewSegment, params(("account_id" = i64, Path)),
    responses((status = 200, body = AudienceView), (status = 422, body = ErrorBody)))]
pub async fn preview_segment(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<PreviewSegment>,
) -> Result<Json<AudienceView>, ApiError> {
    Ok(Json(audience(s.app.preview_segment(&a, AccountId(account), req.filter).await?)))
}

/// The account's VIP thresholds.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/vip_rules", tag = "segments",
    params(("account_id" = i64, Path)), responses((status = 200, body = VipRulesView), (status = 404, body = ErrorBody)))]
pub async fn get_vip_rules(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<VipRulesView>, ApiError> {
    let r = s.app.vip_rules(&a, AccountId(account)).await?;
    Ok(Json(VipRulesView { min_orders: r.min_orders, min_spent_minor: r.min_spent_minor }))
}

/// Sets the VIP thresholds; every contact's VIP standing follows at once.
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/vip_rules", tag = "segments", request_body = VipRulesView,
    params(("account_id" = i64, Path)),
    responses((status = 200, body = VipRulesView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_vip_rules(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<VipRulesView>,
) -> Result<Json<VipRulesView>, ApiError> {
    let rules = VipRules { min_orders: req.min_orders, min_spent_minor: req.min_spent_minor };
    let r = s.app.set_vip_rules(&a, AccountId(account), rules).await?;
    Ok(Json(VipRulesView { min_orders: r.min_orders, min_spent_minor: r.min_spent_minor }))
}

/// Documents the segment routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_segments,
    create_segment,
    get_segment,
    update_segment,
    delete_segment,
    segment_contacts,
    preview_segment,
    get_vip_rules,
    set_vip_rules
))]
pub struct SegmentsDoc;

/// The segment routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}";
    Router::new()
        .route(&format!("{base}/segments"), get(list_segments).post(create_segment))
        .route(&format!("{base}/segments/preview"), post(preview_segment))
        .route(
            &format!("{base}/segments/{{segment_id}}"),
            get(get_segment).patch(update_segment).delete(delete_segment),
        )
        .route(&format!("{base}/segments/{{segment_id}}/contacts"), get(segment_contacts))
        .route(&format!("{base}/vip_rules"), get(get_vip_rules).put(set_vip_rules))
}
