//! Channel webhooks, one route shape: `/webhooks/{channel}/{inbox_id}`,
//! dispatched on the channel's name to its verification and parsing, then
//! intake. The body is read raw (the signature covers its exact bytes),
//! verified, parsed and committed before the 200 goes out. (The Shopify
//! webhook addresses a shop connection, not an inbox: see `commerce`.)

use crate::extract::{AppBytes, AppPath};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use ferry_api_types::{ErrorBody, WebhookAck};
use ferry_app::AppError;
use ferry_app::email::MailOutcome;
use ferry_app::intake::WebhookRequest;
use ferry_core::InboxId;

/// Receives a message for an API inbox. Signed with
/// `X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the inbox secret>`.
/// The `api` case of `/webhooks/{channel}/{inbox_id}`.
#[utoipa::path(post, path = "/webhooks/api/{inbox_id}", tag = "webhooks",
    request_body = ferry_api_types::ApiInbound,
    params(("inbox_id" = i64, Path), ("X-Ferry-Signature" = String, Header)),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_webhook(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<WebhookAck>, ApiError> {
    receive(&s, "api", inbox_id, &headers, &body).await
}

/// Receives a message for an inbox of `channel`, verified and parsed the
/// way that channel's provider sends it (`api`: see
/// `POST /webhooks/api/{inbox_id}`). An unknown channel, an unknown inbox
/// or an inbox of another channel is 404.
#[utoipa::path(post, path = "/webhooks/{channel}/{inbox_id}", tag = "webhooks",
    request_body(content = String, description = "The channel provider's payload, as it sends it", content_type = "application/json"),
    params(("channel" = String, Path, description = "The channel's name: `api`, `email` or `amazon` (a raw RFC 5322 message)"), ("inbox_id" = i64, Path)),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn channel_webhook(
    State(s): State<ApiState>,
    AppPath((channel, inbox_id)): AppPath<(String, i64)>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<WebhookAck>, ApiError> {
    receive(&s, &channel, inbox_id, &headers, &body).await
}

async fn receive(
    s: &ApiState,
    channel: &str,
    inbox_id: i64,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Json<WebhookAck>, ApiError> {
    let headers: Vec<(&str, &str)> =
        headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let request = WebhookRequest { headers: &headers, body };
    if matches!(channel, "email" | "amazon") {
        // A raw RFC 5322 message; a bounce answers with the message it
        // returns (ids 0 when Ferry did not send it).
        return match dropped_if_suspended(s.app.ingest_email_webhook(InboxId(inbox_id), &request).await)? {
            None => Ok(Json(ignored())),
            Some(stored) => match stored {
                MailOutcome::Stored(out) => Ok(Json(WebhookAck {
                    message_id: out.message.id.0,
                    conversation_id: out.conversation.id.0,
                    contact_id: out.conversation.contact_id.0,
                    duplicate: out.duplicate,
                })),
                MailOutcome::Bounced { message } => Ok(Json(WebhookAck {
                    message_id: message.as_ref().map_or(0, |m| m.id.0),
                    conversation_id: message.as_ref().map_or(0, |m| m.conversation_id.0),
                    contact_id: 0,
                    duplicate: false,
                })),
            },
        };
    }
    let Some(out) = dropped_if_suspended(s.app.ingest_webhook(channel, InboxId(inbox_id), &request).await)? else {
        return Ok(Json(ignored()));
    };
    Ok(Json(WebhookAck {
        message_id: out.message.id.0,
        conversation_id: out.conversation.id.0,
        contact_id: out.conversation.contact_id.0,
        duplicate: out.duplicate,
    }))
}

/// A suspended account's deliveries are accepted and dropped (`None`):
/// answered 200 so the provider neither retries nor disables the
/// subscription, and nothing is stored.
fn dropped_if_suspended<T>(r: Result<T, AppError>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(AppError::Suspended) => Ok(None),
        Err(e) => Err(ApiError(e)),
    }
}

/// The answer to a delivery that was dropped: no ids.
fn ignored() -> WebhookAck {
    WebhookAck { message_id: 0, conversation_id: 0, contact_id: 0, duplicate: false }
}
