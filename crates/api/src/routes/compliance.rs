//! The compliance gate for the composer: what the channel's rules, and the
//! account's, say about a message before it is sent. Sending runs the same
//! check and refuses a blocked message with `422 compliance_blocked`.

use crate::extract::{AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use ferry_api_types::ErrorBody;
use ferry_app::compliance::ComplianceQuery;
use ferry_core::compliance::{AccountRules, AttachmentMeta, Report};
use ferry_core::inbox::ChannelKind;
use ferry_core::{AccountId, ConversationId};
use serde::Deserialize;

/// `POST …/compliance/check`: a message as the composer holds it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceCheckRequest {
    /// The conversation it would go to (its channel, window and order).
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// Or a channel, when there is no conversation yet.
    #[serde(default)]
    pub channel: Option<ChannelKind>,
    /// The text.
    #[serde(default)]
    pub text: String,
    /// The e-mail subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// The files it would carry.
    #[serde(default)]
    pub attachments: Vec<AttachmentMeta>,
    /// Sent without a buyer's message to answer.
    #[serde(default)]
    pub proactive: bool,
}

/// Checks a message against its channel's rules: allow, allow with
/// warnings, or block, each finding with its rule, span and explanation.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/compliance/check", tag = "compliance",
    request_body = ComplianceCheckRequest, params(("account_id" = i64, Path)),
    responses((status = 200, body = Report), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn check_compliance(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<ComplianceCheckRequest>,
) -> Result<Json<Report>, ApiError> {
    if req.text.len() > 64 * 1024 {
        return Err(ApiError(ferry_app::AppError::invalid("text", "the text is longer than 64 KB")));
    }
    let q = ComplianceQuery {
        conversation: req.conversation_id.map(ConversationId),
        channel: req.channel,
        text: req.text,
        subject: req.subject,
        attachments: req.attachments,
        proactive: req.proactive,
    };
    Ok(Json(s.app.check_compliance(&a, AccountId(account), q).await?))
}

/// The account's own rules: phrases it never wants sent and hosts links
/// may point to in Amazon messages.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/compliance/rules", tag = "compliance",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = AccountRules), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_compliance_rules(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<AccountRules>, ApiError> {
    Ok(Json(s.app.compliance_rules(&a, AccountId(account)).await?))
}

/// Replaces the account's own rules (owners and admins; audited).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/compliance/rules", tag = "compliance",
    request_body = AccountRules, params(("account_id" = i64, Path)),
    responses((status = 200, body = AccountRules), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_compliance_rules(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(rules): AppJson<AccountRules>,
) -> Result<Json<AccountRules>, ApiError> {
    Ok(Json(s.app.set_compliance_rules(&a, AccountId(account), rules).await?))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(check_compliance, get_compliance_rules, put_compliance_rules))]
pub struct ComplianceDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/accounts/{account_id}/compliance/check", post(check_compliance)).route(
        "/api/v1/accounts/{account_id}/compliance/rules",
        axum::routing::get(get_compliance_rules).put(put_compliance_rules),
    )
}
