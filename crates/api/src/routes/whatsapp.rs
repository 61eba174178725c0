//! WhatsApp: Meta's webhook (the subscription handshake and signed
//! deliveries) and the inbox's message templates.

use crate::extract::{AppBytes, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::intake::WebhookRequest;
use ferry_app::whatsapp::Template;
use ferry_core::{AccountId, InboxId};
use serde::Deserialize;

/// Meta's subscription handshake.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Challenge {
    /// `subscribe`.
    #[serde(rename = "hub.mode")]
    #[param(rename = "hub.mode")]
    pub mode: Option<String>,
    /// The verify token set on the inbox.
    #[serde(rename = "hub.verify_token")]
    #[param(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    /// Echoed back when the token matches.
    #[serde(rename = "hub.challenge")]
    #[param(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

/// Answers Meta's subscription handshake with the challenge when the
/// verify token is the inbox's; `403` otherwise.
#[utoipa::path(get, path = "/webhooks/whatsapp/{inbox_id}", tag = "webhooks",
    params(("inbox_id" = i64, Path), Challenge),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn whatsapp_challenge(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    AppQuery(q): AppQuery<Challenge>,
) -> Result<String, ApiError> {
    Ok(s.app
        .whatsapp_challenge(InboxId(inbox_id), q.mode.as_deref(), q.verify_token.as_deref(), q.challenge.as_deref())
        .await?)
}

/// Receives a delivery from WhatsApp: checked with `X-Hub-Signature-256`
/// (HMAC-SHA256 of the body with the Meta app's secret), every message,
/// status, reaction, edit and template change in it committed before the
/// `200`; a re-delivery changes nothing.
#[utoipa::path(post, path = "/webhooks/whatsapp/{inbox_id}", tag = "webhooks",
    request_body(content = String, description = "Meta's webhook body (`object: whatsapp_business_account`)", content_type = "application/json"),
    params(("inbox_id" = i64, Path), ("X-Hub-Signature-256" = String, Header)),
    responses((status = 200, body = BatchAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, description = "A buyer's file could not be fetched from Meta; deliver again", body = ErrorBody)))]
pub async fn whatsapp_webhook(
    State(s): State<ApiState>,
    AppPath(inbox_id): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<BatchAck>, ApiError> {
    let headers: Vec<(&str, &str)> =
        headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let out = s.app.ingest_whatsapp(InboxId(inbox_id), &WebhookRequest { headers: &headers, body: &body }).await?;
    Ok(Json(super::whatsapp::batch_ack(out)))
}

/// What a messaging webhook's delivery changed, as its answer says.
pub(crate) fn batch_ack(out: ferry_app::updates::BatchOutcome) -> BatchAck {
    BatchAck {
        messages: out.messages,
        duplicates: out.duplicates,
        statuses: out.statuses,
        changes: out.changes,
        ignored: out.ignored,
    }
}

fn view(t: Template) -> WhatsAppTemplateView {
    let text = |kind: &str| t.component(kind).and_then(|c| c.text.clone());
    let count = |kind: &str| t.component(kind).map_or(0, |c| c.parameters);
    let buttons: Vec<_> = t.component("BUTTONS").map(|c| c.buttons.clone()).unwrap_or_default();
    WhatsAppTemplateView {
        header: text("HEADER"),
        body: text("BODY").unwrap_or_default(),
        footer: text("FOOTER"),
        header_parameters: count("HEADER"),
        body_parameters: count("BODY"),
        button_parameters: buttons
            .iter()
            .enumerate()
            .filter(|(_, b)| b.parameters > 0 || b.kind.eq_ignore_ascii_case("QUICK_REPLY"))
            .map(|(i, b)| WhatsAppButtonParameter {
                index: u8::try_from(i).unwrap_or(u8::MAX),
                sub_type: if b.kind.eq_ignore_ascii_case("URL") { "url" } else { "quick_reply" }.to_owned(),
            })
            .collect(),
        buttons: buttons
            .into_iter()
            .map(|b| WhatsAppTemplateButton { kind: b.kind, text: b.text, url: b.url })
            .collect(),
        id: t.id,
        name: t.name,
        language: t.language,
        category: t.category,
        status: t.status,
        quality: t.quality,
    }
}

/// The inbox's message templates as last synced from Meta.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/inboxes/{inbox_id}/whatsapp/templates", tag = "inboxes",
    params(("account_id" = i64, Path), ("inbox_id" = i64, Path)),
    responses((status = 200, body = [WhatsAppTemplateView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn list_templates(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<Vec<WhatsAppTemplateView>>, ApiError> {
    let list = s.app.whatsapp_templates(&a, AccountId(account), InboxId(id)).await?;
    Ok(Json(list.into_iter().map(view).collect()))
}

/// Fetches the inbox's message templates from Meta again.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/inboxes/{inbox_id}/whatsapp/templates/sync", tag = "inboxes",
    params(("account_id" = i64, Path), ("inbox_id" = i64, Path)),
    responses((status = 200, body = [WhatsAppTemplateView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn sync_templates(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<Vec<WhatsAppTemplateView>>, ApiError> {
    let list = s.app.sync_whatsapp_templates(&a, AccountId(account), InboxId(id)).await?;
    Ok(Json(list.into_iter().map(view).collect()))
}

/// Sends the buyer a read receipt for the conversation (WhatsApp: blue
/// ticks on the buyer's latest message); `read` is false on channels
/// without receipts.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/read", tag = "conversations",
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)),
    responses((status = 200, body = ReadReceipt), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn mark_read(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<ReadReceipt>, ApiError> {
    let read = s.app.mark_read(&a, AccountId(account), ferry_core::ConversationId(id)).await?;
    Ok(Json(ReadReceipt { read }))
}

/// An agent's reaction to a message; on WhatsApp it reaches the buyer.
/// An empty emoji takes it back.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/messages/{message_id}/reactions", tag = "conversations",
    request_body = ReactionRequest, params(("account_id" = i64, Path), ("message_id" = i64, Path)),
    responses((status = 200, body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn react(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    crate::extract::AppJson(req): crate::extract::AppJson<ReactionRequest>,
) -> Result<Json<MessageView>, ApiError> {
    let m = s.app.react(&a, AccountId(account), ferry_core::MessageId(id), &req.emoji).await?;
    Ok(Json(m.into()))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(whatsapp_challenge, whatsapp_webhook, list_templates, sync_templates, mark_read, react))]
pub struct WhatsAppDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/webhooks/whatsapp/{inbox_id}", get(whatsapp_challenge).post(whatsapp_webhook))
        .route("/api/v1/accounts/{account_id}/inboxes/{inbox_id}/whatsapp/templates", get(list_templates))
        .route("/api/v1/accounts/{account_id}/inboxes/{inbox_id}/whatsapp/templates/sync", post(sync_templates))
        .route("/api/v1/accounts/{account_id}/conversations/{conversation_id}/read", post(mark_read))
        .route("/api/v1/accounts/{account_id}/messages/{message_id}/reactions", post(react))
}
