//! The console's search box: contacts and messages in one answer.

use crate::extract::{AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ferry_api_types::{ContactView, MessageView};
use ferry_core::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Query of `GET /api/v1/accounts/{id}/search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    /// What to look for.
    pub q: String,
    /// Most results per kind (1–50, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// What the search found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// Matching contacts.
    pub contacts: Vec<ContactView>,
    /// Matching messages and notes, newest first.
    pub messages: Vec<MessageView>,
}

/// Documents the search types.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(SearchResults)))]
pub struct SearchDoc;

async fn search(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let hits = s.app.search(&a, AccountId(account), &q.q, q.limit.unwrap_or(20)).await?;
    Ok(Json(SearchResults {
        contacts: hits.contacts.into_iter().map(Into::into).collect(),
        messages: hits.messages.into_iter().map(Into::into).collect(),
    }))
}

/// The search route.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/accounts/{account_id}/search", get(search))
}
