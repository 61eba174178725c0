//! The console's search box: contacts, messages and orders in one answer, with the
//! matches marked, and messages filtered by inbox, conversation, status,
//! channel and time.

use super::commerce::OrderView;
use crate::extract::{AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ferry_api_types::{ContactView, MessageView};
use ferry_app::AppError;
use ferry_app::search::{MessageFilter, Snippet};
use ferry_core::conversation::Status;
use ferry_core::inbox::ChannelKind;
use ferry_core::{AccountId, ConversationId, InboxId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Query of `GET /api/v1/accounts/{id}/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for.
    pub q: String,
    /// Most results per kind (1–50, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only messages of this inbox.
    #[serde(default)]
    pub inbox_id: Option<i64>,
    /// Only messages of this conversation.
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// Only messages of conversations with this status.
    #[serde(default)]
    pub status: Option<String>,
    /// Only messages of inboxes of this channel (`email`, `whatsapp`, …).
    #[serde(default)]
    pub channel: Option<String>,
    /// Only messages sent at or after this time (RFC 3339).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Only messages sent before this time (RFC 3339).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// A piece of highlighted text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HighlightPart {
    /// The text.
    pub text: String,
    /// Whether it matched the search.
    pub hit: bool,
}

/// A message found, with where it matched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageFound {
    /// The message.
    #[serde(flatten)]
    pub message: MessageView,
    /// Its text around the matches, in pieces.
    pub highlight: Vec<HighlightPart>,
}

/// A contact found, with where it matched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactFound {
    /// The contact.
    #[serde(flatten)]
    pub contact: ContactView,
    /// Its name, e-mail, phone and identities, in pieces.
    pub highlight: Vec<HighlightPart>,
}

/// An order found, with where it matched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderFound {
    /// The order.
    #[serde(flatten)]
    pub order: OrderView,
    /// Its name, number, buyer, SKUs, product titles and tracking numbers,
    /// in pieces.
    pub highlight: Vec<HighlightPart>,
}

/// What the search found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// Matching contacts, newest first.
    pub contacts: Vec<ContactFound>,
    /// Matching messages and notes, newest first.
    pub messages: Vec<MessageFound>,
    /// Matching orders of the shop mirror (by name, number, buyer, SKU,
    /// product title or tracking number), newest first.
    pub orders: Vec<OrderFound>,
}

/// Documents the search types.
#[derive(utoipa::OpenApi)]
#[openapi(paths(search), components(schemas(SearchResults, MessageFound, ContactFound, OrderFound, HighlightPart)))]
pub struct SearchDoc;

fn highlight(s: Snippet) -> Vec<HighlightPart> {
    s.parts.into_iter().map(|p| HighlightPart { text: p.text, hit: p.hit }).collect()
}

fn filter(q: &SearchQuery) -> Result<MessageFilter, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(|s| s.parse::<Status>().map_err(|e| ApiError(AppError::invalid("status", e.to_string()))))
        .transpose()?;
    let channel = q
        .channel
        .as_deref()
        .map(|c| c.parse::<ChannelKind>().map_err(|e| ApiError(AppError::invalid("channel", e.to_string()))))
        .transpose()?;
    Ok(MessageFilter {
        inbox: q.inbox_id.map(InboxId),
        conversation: q.conversation_id.map(ConversationId),
        status,
        channel,
        from: q.from,
        until: q.until,
    })
}

/// Searches the account's contacts, messages and orders.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/search", tag = "search",
    params(("account_id" = i64, Path), SearchQuery),
    responses((status = 200, body = SearchResults), (status = 401, body = ferry_api_types::ErrorBody),
        (status = 404, body = ferry_api_types::ErrorBody), (status = 422, body = ferry_api_types::ErrorBody)))]
pub async fn search(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let filter = filter(&q)?;
    let hits = s.app.search(&a, AccountId(account), &q.q, q.limit.unwrap_or(20), filter).await?;
    Ok(Json(SearchResults {
        contacts: hits
            .contacts
            .into_iter()
            .map(|f| ContactFound { contact: f.contact.into(), highlight: highlight(f.snippet) })
            .collect(),
        messages: hits
            .messages
            .into_iter()
            .map(|f| MessageFound { message: f.message.into(), highlight: highlight(f.snippet) })
            .collect(),
        orders: hits
            .orders
            .into_iter()
            .map(|f| OrderFound { order: f.order.into(), highlight: highlight(f.snippet) })
            .collect(),
    }))
}

/// The search route.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/accounts/{account_id}/search", get(search))
}
