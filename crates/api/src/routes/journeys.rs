//! Journeys: written and switched on or paused by owners and admins, tried
//! against a buyer, buyers enrolled by hand or by segment; their figures
//! and enrolments.

use super::notices::stats_view;
use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::journeys::{EnrolRequest, JourneyInfo};
use ferry_core::journey::Journey;
use ferry_core::{AccountId, ContactId};
use serde::Deserialize;

fn view(j: JourneyInfo) -> JourneyView {
    JourneyView {
        id: j.stored.id,
        state: j.stored.state,
        journey: j.journey,
        created_at: j.stored.created_at,
        updated_at: j.stored.updated_at,
    }
}

/// The account's journeys, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/journeys", tag = "journeys",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = [JourneyView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_journeys(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<JourneyView>>, ApiError> {
    Ok(Json(s.app.journeys(&a, AccountId(account)).await?.into_iter().map(view).collect()))
}

/// Writes a journey, off until switched on (owners and admins; audited).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/journeys", tag = "journeys",
    request_body = Journey, params(("account_id" = i64, Path)),
    responses((status = 201, body = JourneyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_journey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<Journey>,
) -> Result<(StatusCode, Json<JourneyView>), ApiError> {
    Ok((StatusCode::CREATED, Json(view(s.app.create_journey(&a, AccountId(account), req).await?))))
}

/// One journey.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}", tag = "journeys",
    params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 200, body = JourneyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_journey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<JourneyView>, ApiError> {
    Ok(Json(view(s.app.journey(&a, AccountId(account), id).await?)))
}

/// Rewrites a journey that is not running (pause it first: 409).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}", tag = "journeys",
    request_body = Journey, params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 200, body = JourneyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_journey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<Journey>,
) -> Result<Json<JourneyView>, ApiError> {
    Ok(Json(view(s.app.update_journey(&a, AccountId(account), id, req).await?)))
}

/// Deletes a journey that is not running, with its enrolments and log.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}", tag = "journeys",
    params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_journey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_journey(&a, AccountId(account), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Switches a journey on: its trigger enrols buyers, and buyers paused in
/// it move on from where they were.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}/activate", tag = "journeys",
    params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 200, body = JourneyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn activate_journey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<JourneyView>, ApiError> {
    Ok(Json(view(s.app.set_journey_active(&a, AccountId(account), id, true).await?)))
}

/// Pauses a journey: nobody enters or moves on until it is switched on again.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}/pause", tag = "journeys",
    params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 200, body = JourneyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn pause_journey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<JourneyView>, ApiError> {
    Ok(Json(view(s.app.set_journey_active(&a, AccountId(account), id, false).await?)))
}

/// Enrols buyers in a running journey: these contacts, or a saved segment
/// (each buyer once).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}/enrol", tag = "journeys",
    request_body = EnrolRequestView, params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 200, body = EnrolOutcomeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn enrol(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<EnrolRequestView>,
) -> Result<Json<EnrolOutcomeView>, ApiError> {
    let req =
        EnrolRequest { contact_ids: req.contact_ids.into_iter().map(ContactId).collect(), segment_id: req.segment_id };
    let out = s.app.enrol_in_journey(&a, AccountId(account), id, req).await?;
    Ok(Json(EnrolOutcomeView { enrolled: out.enrolled, already: out.already }))
}

/// What the journey would do for a buyer from now, if they never replied:
/// each step with its moment, channel, language and text, or why it sends
/// nothing. Nothing is sent. Works on drafts.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}/test", tag = "journeys",
    request_body = JourneyTestRequest, params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 200, body = [TestRunLineView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test_journey(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<JourneyTestRequest>,
) -> Result<Json<Vec<TestRunLineView>>, ApiError> {
    let run = s.app.journey_test_run(&a, AccountId(account), id, ContactId(req.contact_id)).await?;
    Ok(Json(
        run.into_iter()
            .map(|l| TestRunLineView {
                at: l.at,
                step: l.step,
                action: l.action,
                channel: l.channel,
                language: l.language,
                template: l.template,
                detail: l.detail,
            })
            .collect(),
    ))
}

/// How a journey fares: who is at which step, how those who left left,
/// and its sends' figures.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}/stats", tag = "journeys",
    params(("account_id" = i64, Path), ("journey_id" = i64, Path)),
    responses((status = 200, body = JourneyStatsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn journey_stats(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<JourneyStatsView>, ApiError> {
    let st = s.app.journey_stats(&a, AccountId(account), id).await?;
    Ok(Json(JourneyStatsView {
        enrolled: st.enrolled,
        at_step: st.at_step.into_iter().map(|(step, count)| StepCountView { step, count }).collect(),
        left: st.left.into_iter().map(|(outcome, count)| OutcomeCountView { outcome, count }).collect(),
        sends: stats_view(st.sends),
    }))
}

/// A page size.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnrolmentsQuery {
    /// How many (1 to 200, 50 by default).
    pub limit: Option<u32>,
}

/// A journey's latest enrolments, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/journeys/{journey_id}/enrolments", tag = "journeys",
    params(("account_id" = i64, Path), ("journey_id" = i64, Path), EnrolmentsQuery),
    responses((status = 200, body = [EnrolmentView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn enrolments(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppQuery(q): AppQuery<EnrolmentsQuery>,
) -> Result<Json<Vec<EnrolmentView>>, ApiError> {
    let list = s.app.journey_enrolments(&a, AccountId(account), id, q.limit.unwrap_or(50)).await?;
    Ok(Json(
        list.into_iter()
            .map(|e| EnrolmentView {
                id: e.id,
                contact_id: e.contact_id.0,
                entry_key: e.entry_key,
                step: e.step,
                until: e.until,
                done: e.done,
                outcome: e.outcome,
                entered_at: e.entered_at,
            })
            .collect(),
    ))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_journeys,
    create_journey,
    get_journey,
    update_journey,
    delete_journey,
    activate_journey,
    pause_journey,
    enrol,
    test_journey,
    journey_stats,
    enrolments
))]
pub struct JourneysDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    let one = "/api/v1/accounts/{account_id}/journeys/{journey_id}";
    Router::new()
        .route("/api/v1/accounts/{account_id}/journeys", get(list_journeys).post(create_journey))
        .route(one, get(get_journey).put(update_journey).delete(delete_journey))
        .route(&format!("{one}/activate"), post(activate_journey))
        .route(&format!("{one}/pause"), post(pause_journey))
        .route(&format!("{one}/enrol"), post(enrol))
        .route(&format!("{one}/test"), post(test_journey))
        .route(&format!("{one}/stats"), get(journey_stats))
        .route(&format!("{one}/enrolments"), get(enrolments))
}
