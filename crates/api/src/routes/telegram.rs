//! Telegram: the bot's webhook, checked with the inbox's secret token.

use crate::extract::{AppBytes, AppPath};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::intake::WebhookRequest;
use ferry_core::InboxId;

/// Receives an update from Telegram: refused with `401` unless
/// `X-Telegram-Bot-Api-Secret-Token` is the inbox's secret token; the
/// message, button press, edit or deletion in it is committed before the
/// `200`, and a re-delivery (same `update_id`) changes nothing. Updates
/// Ferry does not keep are acknowledged and counted as ignored.
#[utoipa::path(post, path = "/webhooks/telegram/{inbox_id}", tag = "webhooks",
    request_body(content = String, description = "A Telegram `Update` object", content_type = "application/json"),
    params(("inbox_id" = i64, Path), ("X-Telegram-Bot-Api-Secret-Token" = String, Header)),
    responses((status = 200, body = BatchAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, description = "A buyer's file could not be fetched from Telegram; deliver again", body = ErrorBody)))]
pub async fn telegram_webhook(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<BatchAck>, ApiError> {
    let headers: Vec<(&str, &str)> =
        headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let out = s.app.ingest_telegram(InboxId(inbox_id), &WebhookRequest { headers: &headers, body: &body }).await?;
    Ok(Json(super::whatsapp::batch_ack(out)))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(telegram_webhook))]
pub struct TelegramDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/webhooks/telegram/{inbox_id}", post(telegram_webhook))
}
