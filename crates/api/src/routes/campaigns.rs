//! Campaigns: drafts written and changed by owners and admins, launched,
//! paused, resumed and cancelled; their preview, figures and send log.

use super::notices::{NoticeLogQuery, send_view};
use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::campaigns::CampaignInfo;
use ferry_core::AccountId;
use ferry_core::campaign::CampaignDefinition;

fn view(c: CampaignInfo) -> CampaignView {
    CampaignView {
        id: c.campaign.id,
        state: c.state,
        definition: c.definition,
        segment_id: c.campaign.segment_id,
        planned: c.campaign.planned,
        planning_done: c.campaign.planning_done,
        started_at: c.campaign.started_at,
        finished_at: c.campaign.finished_at,
        created_at: c.campaign.created_at,
        updated_at: c.campaign.updated_at,
    }
}

/// The account's campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/campaigns", tag = "campaigns",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = [CampaignView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_campaigns(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<CampaignView>>, ApiError> {
    Ok(Json(s.app.campaigns(&a, AccountId(account)).await?.into_iter().map(view).collect()))
}

/// Writes a draft (owners and admins; audited).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/campaigns", tag = "campaigns",
    request_body = CampaignDefinition, params(("account_id" = i64, Path)),
    responses((status = 201, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CampaignDefinition>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    Ok((StatusCode::CREATED, Json(view(s.app.create_campaign(&a, AccountId(account), req).await?))))
}

/// One campaign.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(view(s.app.campaign(&a, AccountId(account), id).await?)))
}

/// Rewrites a draft; a launched campaign does not change (409).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}", tag = "campaigns",
    request_body = CampaignDefinition, params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<CampaignDefinition>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(view(s.app.update_campaign(&a, AccountId(account), id, req).await?)))
}

/// Deletes a campaign that is not sending, with its log.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_campaign(&a, AccountId(account), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Launches a draft: it starts at its `send_at` (now when unset).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}/launch", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn launch_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(view(s.app.launch_campaign(&a, AccountId(account), id).await?)))
}

/// Pauses a scheduled or running campaign.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}/pause", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(view(s.app.pause_campaign(&a, AccountId(account), id).await?)))
}

/// Resumes a paused campaign at its rate.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}/resume", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(view(s.app.resume_campaign(&a, AccountId(account), id).await?)))
}

/// Cancels a campaign for good; what was not sent never goes.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}/cancel", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(view(s.app.cancel_campaign(&a, AccountId(account), id).await?)))
}

/// Who the campaign would reach: audience, hold-out, the text each
/// language gets, addresses by kind and how long it takes at its rate.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}/preview", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignPreviewView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn preview_campaign(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<CampaignPreviewView>, ApiError> {
    let p = s.app.campaign_preview(&a, AccountId(account), id).await?;
    Ok(Json(CampaignPreviewView {
        audience: p.audience,
        held_out: p.held_out,
        languages: p
            .languages
            .into_iter()
            .map(|l| CampaignLanguageView { language: l.language, contacts: l.contacts, text: l.text })
            .collect(),
        by_channel: p.by_channel.into_iter().map(|(k, n)| AudienceGroup { key: Some(k), contacts: n }).collect(),
        duration_seconds: p.duration_seconds,
    }))
}

/// How the campaign fared: sent, delivered, read, answered, waiting,
/// held out, failed and skipped by reason.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}/stats", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path)),
    responses((status = 200, body = CampaignStatsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn campaign_stats(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<CampaignStatsView>, ApiError> {
    let t = s.app.campaign_stats(&a, AccountId(account), id).await?;
    Ok(Json(CampaignStatsView {
        planned: t.planned,
        sent: t.sent,
        delivered: t.delivered,
        read: t.read,
        replied: t.replied,
        scheduled: t.scheduled,
        held_out: t.held_out,
        failed: t.failed,
        skipped: t.skipped,
    }))
}

/// The campaign's recipients, newest first: sent, waiting, held out,
/// skipped with the reason, or failed.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}/log", tag = "campaigns",
    params(("account_id" = i64, Path), ("campaign_id" = i64, Path), NoticeLogQuery),
    responses((status = 200, body = [NoticeSendView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn campaign_log(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppQuery(q): AppQuery<NoticeLogQuery>,
) -> Result<Json<Vec<NoticeSendView>>, ApiError> {
    let log = s.app.campaign_log(&a, AccountId(account), id, q.before, q.limit.unwrap_or(50)).await?;
    Ok(Json(log.into_iter().map(send_view).collect()))
}

const UNSUBSCRIBE_FORM: &str = "<h1>Unsubscribe</h1><p>Stop receiving marketing e-mail from this shop? \
     Messages about your own orders still reach you.</p><form method=\"post\">\
     <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
     <button type=\"submit\">Unsubscribe</button></form>";

fn unsubscribe_answer(r: Result<(), ferry_app::AppError>) -> Response {
    match r {
        Ok(()) => Html(super::csat::shell(
            "en",
            "Unsubscribed",
            "<h1>Unsubscribed</h1><p>You will receive no more marketing e-mail from this shop.</p>".to_owned(),
        ))
        .into_response(),
        Err(ferry_app::AppError::NotFound(_)) => (
            StatusCode::NOT_FOUND,
            Html(super::csat::shell("en", "Unsubscribe", "<p>This link is not valid.</p>".to_owned())),
        )
            .into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

/// The page an unsubscribe link opens: a button that confirms (opening a
/// link, as mail scanners do, unsubscribes nobody).
#[utoipa::path(get, path = "/unsubscribe/{token}", tag = "campaigns", security(()),
    params(("token" = String, Path, description = "The token in the link")),
    responses((status = 200, description = "The confirmation page", body = String, content_type = "text/html")))]
pub async fn unsubscribe_page(AppPath(_token): AppPath<String>) -> Response {
    Html(super::csat::shell("en", "Unsubscribe", UNSUBSCRIBE_FORM.to_owned())).into_response()
}

/// One-click unsubscribe (RFC 8058; mail clients post
/// `List-Unsubscribe=One-Click`), and the page's button: the buyer's
/// e-mail is stopped for the shop and their consent withdrawn.
#[utoipa::path(post, path = "/unsubscribe/{token}", tag = "campaigns", security(()),
    params(("token" = String, Path, description = "The token in the link")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Unsubscribed (again, when it was before)", body = String, content_type = "text/html"),
        (status = 404, description = "The link is not valid", body = String, content_type = "text/html"),
    ))]
pub async fn unsubscribe(State(s): State<ApiState>, AppPath(token): AppPath<String>) -> Response {
    unsubscribe_answer(s.app.unsubscribe(&token).await)
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_campaigns,
    create_campaign,
    get_campaign,
    update_campaign,
    delete_campaign,
    launch_campaign,
    pause_campaign,
    resume_campaign,
    cancel_campaign,
    preview_campaign,
    campaign_stats,
    campaign_log,
    unsubscribe_page,
    unsubscribe
))]
pub struct CampaignsDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    let one = "/api/v1/accounts/{account_id}/campaigns/{campaign_id}";
    Router::new()
        .route("/api/v1/accounts/{account_id}/campaigns", get(list_campaigns).post(create_campaign))
        .route(one, get(get_campaign).put(update_campaign).delete(delete_campaign))
        .route(&format!("{one}/launch"), post(launch_campaign))
        .route(&format!("{one}/pause"), post(pause_campaign))
        .route(&format!("{one}/resume"), post(resume_campaign))
        .route(&format!("{one}/cancel"), post(cancel_campaign))
        .route(&format!("{one}/preview"), get(preview_campaign))
        .route(&format!("{one}/stats"), get(campaign_stats))
        .route(&format!("{one}/log"), get(campaign_log))
        .route("/unsubscribe/{token}", get(unsubscribe_page).post(unsubscribe))
}
