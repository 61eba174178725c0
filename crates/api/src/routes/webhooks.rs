//! Channel webhooks. The body is read raw (the signature covers its exact
//! bytes), verified, parsed and committed before the 200 goes out.

use crate::extract::AppPath;
use crate::{ApiError, ApiState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use ferry_api_types::{ErrorBody, WebhookAck};
use ferry_core::InboxId;

/// Receives a message for an API inbox. Signed with
/// `X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the inbox secret>`.
#[utoipa::path(post, path = "/webhooks/api/{inbox_id}", tag = "webhooks",
    request_body = ferry_api_types::ApiInbound,
    params(("inbox_id" = i64, Path), ("X-Ferry-Signature" = String, Header)),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_webhook(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<WebhookAck>, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError(ferry_app::AppError::TooLarge(s.config.max_body_bytes))
        } else {
            ApiError::malformed(e.body_text())
        }
    })?;
    let sig = headers.get("x-ferry-signature").and_then(|v| v.to_str().ok());
    let out = s.app.ingest_api_webhook(InboxId(inbox_id), sig, &body).await?;
    Ok(Json(WebhookAck {
        message_id: out.message.id.0,
        conversation_id: out.conversation.id.0,
        contact_id: out.conversation.contact_id.0,
        duplicate: out.duplicate,
    }))
}
