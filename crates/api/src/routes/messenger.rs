//! Messenger and Instagram: Meta's webhooks for each inbox (the
//! subscription handshake and signed deliveries).

use super::whatsapp::Challenge;
use crate::extract::{AppBytes, AppPath, AppQuery};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::intake::WebhookRequest;
use ferry_core::InboxId;
use ferry_core::inbox::ChannelKind;

async fn challenge(s: &ApiState, channel: ChannelKind, inbox_id: i64, q: Challenge) -> Result<String, ApiError> {
    Ok(s.app
        .meta_challenge(
            channel,
            InboxId(inbox_id),
            q.mode.as_deref(),
            q.verify_token.as_deref(),
            q.challenge.as_deref(),
        )
        .await?)
}

async fn deliver(
    s: &ApiState,
    channel: ChannelKind,
    inbox_id: i64,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Json<BatchAck>, ApiError> {
    let headers: Vec<(&str, &str)> =
        headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let out = s.app.ingest_meta(channel, InboxId(inbox_id), &WebhookRequest { headers: &headers, body }).await?;
    Ok(Json(super::whatsapp::batch_ack(out)))
}

/// Answers Meta's subscription handshake for a Messenger inbox with the
/// challenge when the verify token is the inbox's; `403` otherwise.
#[utoipa::path(get, path = "/webhooks/messenger/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path), Challenge),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn messenger_challenge(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    AppQuery(q): AppQuery<Challenge>,
) -> Result<String, ApiError> {
    challenge(&s, ChannelKind::Messenger, inbox_id, q).await
}

/// Receives a delivery from Messenger (`object: page`): checked with
/// `X-Hub-Signature-256` (HMAC-SHA256 of the body with the Meta app's
/// secret); every message, button press, reaction, echo of the page's own
/// messages and delivery or read report in it committed before the `200`;
/// a re-delivery changes nothing.
#[utoipa::path(post, path = "/webhooks/messenger/{inbox_id}", tag = "webhooks",
    request_body(content = String, description = "Meta's webhook body (`object: page`)", content_type = "application/json"),
    params(("inbox_id" = i64, Path), ("X-Hub-Signature-256" = String, Header)),
    responses((status = 200, body = BatchAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, description = "A buyer's file could not be fetched from Meta; deliver again", body = ErrorBody)))]
pub async fn messenger_webhook(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<BatchAck>, ApiError> {
    deliver(&s, ChannelKind::Messenger, inbox_id, &headers, &body).await
}

/// Answers Meta's subscription handshake for an Instagram inbox with the
/// challenge when the verify token is the inbox's; `403` otherwise.
#[utoipa::path(get, path = "/webhooks/instagram/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path), Challenge),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn instagram_challenge(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    AppQuery(q): AppQuery<Challenge>,
) -> Result<String, ApiError> {
    challenge(&s, ChannelKind::Instagram, inbox_id, q).await
}

/// Receives a delivery from Instagram (`object: instagram`), checked and
/// committed like Messenger's: messages, story replies and mentions,
/// reactions, unsent messages, echoes and read reports.
#[utoipa::path(post, path = "/webhooks/instagram/{inbox_id}", tag = "webhooks",
    request_body(content = String, description = "Meta's webhook body (`object: instagram`)", content_type = "application/json"),
    params(("inbox_id" = i64, Path), ("X-Hub-Signature-256" = String, Header)),
    responses((status = 200, body = BatchAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, description = "A buyer's file could not be fetched from Meta; deliver again", body = ErrorBody)))]
pub async fn instagram_webhook(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<BatchAck>, ApiError> {
    deliver(&s, ChannelKind::Instagram, inbox_id, &headers, &body).await
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(messenger_challenge, messenger_webhook, instagram_challenge, instagram_webhook))]
pub struct MessengerDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/webhooks/messenger/{inbox_id}", get(messenger_challenge).post(messenger_webhook))
        .route("/webhooks/instagram/{inbox_id}", get(instagram_challenge).post(instagram_webhook))
}
