//! The bot's admin API: its intents, examples and answers per language, FAQ
//! entries and shop variables; retraining; and "what would the bot do with
//! this sentence, and why".

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ferry_api_types::ErrorBody;
use ferry_app::bot::{BotDocumentView, BotEdit};
use ferry_bot::{BotDocument, BotFaq, BotIntent, Outcome, Turn};
use ferry_core::{AccountId, InboxId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The account's bot document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BotDocumentResponse {
    /// Intents, FAQ entries, languages and shop variables.
    pub document: BotDocument,
    /// Its version (`null`: the default pack, never edited). Send it back
    /// with edits so two editors cannot overwrite each other.
    pub version: Option<i64>,
}

impl From<BotDocumentView> for BotDocumentResponse {
    fn from(v: BotDocumentView) -> Self {
        Self { document: v.document, version: v.version }
    }
}

/// `PUT /bot`: the whole document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReplaceBotDocument {
    /// The new document.
    pub document: BotDocument,
    /// The version it replaces.
    #[serde(default)]
    pub version: Option<i64>,
}

/// The version an edit applies to.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version the editor saw; a newer stored version is a conflict.
    #[serde(default)]
    pub version: Option<i64>,
}

/// What training reports.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrainResponse {
    /// Version trained (`null`: the default pack).
    pub version: Option<i64>,
    /// Intents.
    pub intents: usize,
    /// Examples.
    pub examples: usize,
    /// FAQ entries.
    pub faqs: usize,
    /// Training time in milliseconds.
    pub millis: u64,
}

/// `POST /bot/test`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BotTestRequest {
    /// The buyer's sentence.
    pub text: String,
    /// The conversation's language, used when the sentence is too short to
    /// tell.
    #[serde(default)]
    pub language: Option<String>,
    /// Use this inbox's threshold.
    #[serde(default)]
    pub inbox_id: Option<i64>,
}

/// What the bot would do with a sentence, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BotTestResponse {
    /// Language, intent with confidence, FAQ match, entities; the decision.
    pub turn: Turn,
    /// What the buyer would get.
    pub outcome: Outcome,
    /// The activity line a hand-off would write.
    pub note: Option<String>,
}

/// The account's bot document (the default pack until edited).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/bot", tag = "bot",
    params(("account_id" = i64, Path)), responses((status = 200, body = BotDocumentResponse), (status = 404, body = ErrorBody)))]
pub async fn get_bot(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<BotDocumentResponse>, ApiError> {
    Ok(Json(s.app.bot_document(&a, AccountId(account)).await?.into()))
}

/// Replaces the whole bot document (owners and admins).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/bot", tag = "bot", request_body = ReplaceBotDocument,
    params(("account_id" = i64, Path)),
    responses((status = 200, body = BotDocumentResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn replace_bot(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<ReplaceBotDocument>,
) -> Result<Json<BotDocumentResponse>, ApiError> {
    let v = s.app.edit_bot(&a, AccountId(account), BotEdit::Replace(req.document), req.version).await?;
    Ok(Json(v.into()))
}

/// Adds or replaces an intent (owners and admins). The name in the path
/// wins over the body's.
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/bot/intents/{name}", tag = "bot", request_body = BotIntent,
    params(("account_id" = i64, Path), ("name" = String, Path), VersionQuery),
    responses((status = 200, body = BotDocumentResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_intent(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, name)): AppPath<(i64, String)>,
    AppQuery(q): AppQuery<VersionQuery>,
    AppJson(mut intent): AppJson<BotIntent>,
) -> Result<Json<BotDocumentResponse>, ApiError> {
    intent.name = name;
    Ok(Json(s.app.edit_bot(&a, AccountId(account), BotEdit::PutIntent(intent), q.version).await?.into()))
}

/// Removes an intent (owners and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/bot/intents/{name}", tag = "bot",
    params(("account_id" = i64, Path), ("name" = String, Path), VersionQuery),
    responses((status = 200, body = BotDocumentResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn delete_intent(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, name)): AppPath<(i64, String)>,
    AppQuery(q): AppQuery<VersionQuery>,
) -> Result<Json<BotDocumentResponse>, ApiError> {
    Ok(Json(s.app.edit_bot(&a, AccountId(account), BotEdit::RemoveIntent(name), q.version).await?.into()))
}

/// Adds or replaces a FAQ entry in one language (owners and admins).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/bot/faqs/{faq_id}", tag = "bot", request_body = BotFaq,
    params(("account_id" = i64, Path), ("faq_id" = String, Path), VersionQuery),
    responses((status = 200, body = BotDocumentResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_faq(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, String)>,
    AppQuery(q): AppQuery<VersionQuery>,
    AppJson(mut faq): AppJson<BotFaq>,
) -> Result<Json<BotDocumentResponse>, ApiError> {
    faq.id = id;
    Ok(Json(s.app.edit_bot(&a, AccountId(account), BotEdit::PutFaq(faq), q.version).await?.into()))
}

/// Removes a FAQ entry in every language (owners and admins).
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/bot/faqs/{faq_id}", tag = "bot",
    params(("account_id" = i64, Path), ("faq_id" = String, Path), VersionQuery),
    responses((status = 200, body = BotDocumentResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_faq(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, String)>,
    AppQuery(q): AppQuery<VersionQuery>,
) -> Result<Json<BotDocumentResponse>, ApiError> {
    Ok(Json(s.app.edit_bot(&a, AccountId(account), BotEdit::RemoveFaq(id), q.version).await?.into()))
}

/// Trains the bot now (owners and admins); it also retrains by itself on
/// the first message after a change.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/bot/train", tag = "bot",
    params(("account_id" = i64, Path)), responses((status = 200, body = TrainResponse), (status = 403, body = ErrorBody)))]
pub async fn train(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<TrainResponse>, ApiError> {
    let r = s.app.train_bot(&a, AccountId(account)).await?;
    Ok(Json(TrainResponse {
        version: r.version,
        intents: r.intents,
        examples: r.examples,
        faqs: r.faqs,
        millis: r.millis,
    }))
}

/// What the bot would do with a sentence in a new conversation, and why.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/bot/test", tag = "bot", request_body = BotTestRequest,
    params(("account_id" = i64, Path)),
    responses((status = 200, body = BotTestResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<BotTestRequest>,
) -> Result<(StatusCode, Json<BotTestResponse>), ApiError> {
    let r =
        s.app.test_bot(&a, AccountId(account), &req.text, req.language.as_deref(), req.inbox_id.map(InboxId)).await?;
    Ok((StatusCode::OK, Json(BotTestResponse { turn: r.turn, outcome: r.outcome, note: r.note })))
}

/// Documents the bot routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_bot, replace_bot, put_intent, delete_intent, put_faq, delete_faq, train, test))]
pub struct BotDoc;

/// The bot routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}/bot";
    Router::new()
        .route(base, get(get_bot).put(replace_bot))
        .route(&format!("{base}/intents/{{name}}"), put(put_intent).delete(delete_intent))
        .route(&format!("{base}/faqs/{{faq_id}}"), put(put_faq).delete(delete_faq))
        .route(&format!("{base}/train"), post(train))
        .route(&format!("{base}/test"), post(test))
}
