//! Translation for agents: the account's provider (owners and admins), a
//! buyer's message in the agent's language, and a reply in the buyer's.

use crate::extract::{AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::translation::{TranslationInput, TranslationView};
use ferry_core::{AccountId, ConversationId, MessageId};

fn view(v: TranslationView) -> TranslationSettingsView {
    TranslationSettingsView {
        provider: v.provider,
        base_url: v.base_url,
        api_key_hint: v.api_key_hint,
        timeout_ms: v.timeout_ms,
    }
}

/// The account's translation provider (owners and admins); 404 when none
/// is set up.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/translation", tag = "translation",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = TranslationSettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "No provider is set up", body = ErrorBody)))]
pub async fn get_settings(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<TranslationSettingsView>, ApiError> {
    let v = s.app.translation_settings(&a, AccountId(account)).await?;
    v.map(|v| Json(view(v))).ok_or(ApiError(ferry_app::AppError::NotFound("translation settings")))
}

/// Sets the account's translation provider (owners and admins; audited).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/translation", tag = "translation",
    request_body = TranslationSettingsRequest, params(("account_id" = i64, Path)),
    responses((status = 200, body = TranslationSettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<TranslationSettingsRequest>,
) -> Result<Json<TranslationSettingsView>, ApiError> {
    let input = TranslationInput {
        provider: req.provider,
        base_url: req.base_url,
        api_key: req.api_key,
        timeout_ms: req.timeout_ms,
    };
    Ok(Json(view(s.app.set_translation_settings(&a, AccountId(account), input).await?)))
}

/// Turns translation off (owners and admins; audited).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/translation", tag = "translation",
    params(("account_id" = i64, Path)),
    responses((status = 204, description = "Turned off"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_settings(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_translation_settings(&a, AccountId(account)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether agents of the account can translate.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/translation/status", tag = "translation",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = TranslationStatus), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<TranslationStatus>, ApiError> {
    Ok(Json(TranslationStatus { enabled: s.app.translation_enabled(&a, AccountId(account)).await? }))
}

/// A message in another language (default: the caller's first language),
/// kept on the message (`meta.translations`) so it is translated once;
/// watchers get the message again with it.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}/translate",
    tag = "translation", request_body = TranslateMessageRequest,
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path), ("message_id" = i64, Path)),
    responses((status = 200, body = MessageView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Not set up (`translation_not_configured`), no text, or a bad language", body = ErrorBody),
        (status = 502, description = "The provider refused, failed or timed out (`translation_failed`)", body = ErrorBody)))]
pub async fn translate_message(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, conversation, message)): AppPath<(i64, i64, i64)>,
    AppJson(req): AppJson<TranslateMessageRequest>,
) -> Result<Json<MessageView>, ApiError> {
    let m = s
        .app
        .translate_message(&a, AccountId(account), ConversationId(conversation), MessageId(message), req.to)
        .await?;
    Ok(Json(m.into()))
}

/// A reply in the buyer's language, to check before sending it (with
/// `written_as` holding what the agent wrote).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/conversations/{conversation_id}/translate_draft",
    tag = "translation", request_body = TranslateDraftRequest,
    params(("account_id" = i64, Path), ("conversation_id" = i64, Path)),
    responses((status = 200, body = DraftTranslationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "Not set up, empty, or the buyer's language unknown", body = ErrorBody),
        (status = 502, description = "The provider refused, failed or timed out (`translation_failed`)", body = ErrorBody)))]
pub async fn translate_draft(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, conversation)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<TranslateDraftRequest>,
) -> Result<Json<DraftTranslationView>, ApiError> {
    let d = s.app.translate_draft(&a, AccountId(account), ConversationId(conversation), &req.text, req.to).await?;
    Ok(Json(DraftTranslationView { text: d.text, language: d.language, source_language: d.source_language }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(get_settings, put_settings, delete_settings, status, translate_message, translate_draft))]
pub struct TranslationDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}";
    Router::new()
        .route(&format!("{base}/translation"), get(get_settings).put(put_settings).delete(delete_settings))
        .route(&format!("{base}/translation/status"), get(status))
        .route(
            &format!("{base}/conversations/{{conversation_id}}/messages/{{message_id}}/translate"),
            post(translate_message),
        )
        .route(&format!("{base}/conversations/{{conversation_id}}/translate_draft"), post(translate_draft))
}
