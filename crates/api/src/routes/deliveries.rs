//! Deliveries: outgoing messages waiting to be sent or failed, and sending
//! a failed one again.

use crate::extract::{AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::outgoing::DeliveryState;
use ferry_core::{AccountId, MessageId};
use serde::Deserialize;

/// Which deliveries to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `failed` (default) or `queued`.
    pub state: Option<String>,
    /// The previous page's `next_before`.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Outgoing messages of the account whose delivery failed (or that wait
/// to be sent), newest first, with the reason on each.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/deliveries", tag = "deliveries",
    params(("account_id" = i64, Path), DeliveryQuery),
    responses((status = 200, body = DeliveryPage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_deliveries(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let state = DeliveryState::parse(q.state.as_deref().unwrap_or("failed"))?;
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let items = s.app.list_deliveries(&a, AccountId(account), state, q.before.map(MessageId), limit).await?;
    let next_before = (items.len() == limit as usize).then(|| items.last().map(|m| m.id.0)).flatten();
    Ok(Json(DeliveryPage { items: items.into_iter().map(Into::into).collect(), next_before }))
}

/// Sends a failed message again, through the compliance gate as it stands
/// now; `409` when its delivery had not failed.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/messages/{message_id}/retry", tag = "deliveries",
    params(("account_id" = i64, Path), ("message_id" = i64, Path)),
    responses((status = 200, body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn retry_delivery(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(s.app.retry_delivery(&a, AccountId(account), MessageId(id)).await?.into()))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_deliveries, retry_delivery))]
pub struct DeliveriesDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts/{account_id}/deliveries", get(list_deliveries))
        .route("/api/v1/accounts/{account_id}/messages/{message_id}/retry", post(retry_delivery))
}
