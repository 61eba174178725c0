//! SMS inboxes: the provider's webhook (buyers' SMS and MMS, status
//! callbacks) and the segment count the composer shows before sending.

use crate::extract::{AppBytes, AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::intake::WebhookRequest;
use ferry_core::{AccountId, InboxId};

/// The empty TwiML answer: nothing to send back now (replies go through
/// the Messages API).
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// Receives a buyer's SMS or MMS, or a status callback of a message Ferry
/// sent: refused with `401` unless `X-Twilio-Signature` signs the inbox's
/// webhook URL and the parameters; committed before the `200` (an empty
/// TwiML `<Response/>`); a re-delivery (same `MessageSid`) changes
/// nothing. STOP, STOPALL, UNSUBSCRIBE, CANCEL, END and QUIT opt the buyer
/// out of SMS; START, YES and UNSTOP opt them back in.
#[utoipa::path(post, path = "/webhooks/sms/{inbox_id}", tag = "webhooks",
    request_body(content = String, description = "The provider's form-encoded parameters (`MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl0`…, or `MessageStatus`)", content_type = "application/x-www-form-urlencoded"),
    params(("inbox_id" = i64, Path), ("X-Twilio-Signature" = String, Header)),
    responses((status = 200, body = String, content_type = "text/xml"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 502, description = "An MMS file could not be fetched; deliver again", body = ErrorBody)))]
pub async fn sms_webhook(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<impl IntoResponse, ApiError> {
    let headers: Vec<(&str, &str)> =
        headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    s.app.ingest_sms(InboxId(inbox_id), &WebhookRequest { headers: &headers, body: &body }).await?;
    Ok(([("content-type", "text/xml")], EMPTY_TWIML))
}

/// How many SMS segments a text is sent as (GSM-7: 160 characters, 153
/// each once split, the extension table's characters counting twice;
/// UCS-2 for anything else: 70, 67 each once split), for the composer to
/// show before sending.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/sms/segments", tag = "conversations",
    request_body = SmsSegmentsRequest, params(("account_id" = i64, Path)),
    responses((status = 200, body = SmsSegmentsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn count_sms_segments(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<SmsSegmentsRequest>,
) -> Result<Json<SmsSegmentsView>, ApiError> {
    let i = s.app.sms_segments(&a, AccountId(account), &req.text)?;
    Ok(Json(SmsSegmentsView {
        encoding: if i.unicode { "ucs2" } else { "gsm7" }.to_owned(),
        segments: i.segments,
        units: i.units,
        per_segment: i.per_segment,
        remaining: i.remaining,
    }))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(sms_webhook, count_sms_segments))]
pub struct SmsInboxDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/webhooks/sms/{inbox_id}", post(sms_webhook))
        .route("/api/v1/accounts/{account_id}/sms/segments", post(count_sms_segments))
}
