//! Frequent-question discovery over HTTP.

use crate::extract::{AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::questions::QuestionCluster;
use ferry_core::AccountId;
use ferry_nlu::cluster::Coverage;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A value and how many messages had it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CountView {
    /// The value (a language, a channel, a reply).
    pub value: String,
    /// Messages.
    pub count: usize,
}

/// A buyer message shown as an example of its question.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionExampleView {
    /// The message.
    pub message_id: i64,
    /// Its text.
    pub text: String,
}

/// What already answers a question.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CoveredView {
    /// `intent` or `faq`.
    pub kind: String,
    /// The intent's label or the FAQ entry's id.
    pub name: String,
    /// Share of the examples it answers (0–1).
    pub share: f32,
}

/// One question buyers ask, in its phrasings and languages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionClusterView {
    /// Stable id (its first message's).
    pub id: i64,
    /// Its most typical message.
    pub label: String,
    /// Messages.
    pub size: usize,
    /// Messages in the last 7 days.
    pub this_week: usize,
    /// Messages in the 7 days before.
    pub last_week: usize,
    /// Languages, most frequent first.
    pub languages: Vec<CountView>,
    /// Channels, most frequent first.
    pub channels: Vec<CountView>,
    /// Its most typical messages.
    pub examples: Vec<QuestionExampleView>,
    /// The agent replies most often given to it.
    pub replies: Vec<CountView>,
    /// The bot's intent or FAQ entry that answers it already.
    pub covered_by: Option<CoveredView>,
    /// Every message in it (for the conversations behind the number).
    pub message_ids: Vec<i64>,
}

impl From<QuestionCluster> for QuestionClusterView {
    fn from(c: QuestionCluster) -> Self {
        let counts = |v: Vec<ferry_nlu::cluster::Counted>| {
            v.into_iter().map(|c| CountView { value: c.value, count: c.count }).collect()
        };
        let s = c.summary;
        Self {
            id: s.id,
            label: s.label,
            size: s.size,
            this_week: s.this_week,
            last_week: s.last_week,
            languages: counts(s.languages),
            channels: counts(s.channels),
            examples: s.examples.into_iter().map(|e| QuestionExampleView { message_id: e.id, text: e.text }).collect(),
            replies: counts(s.replies),
            covered_by: match c.coverage {
                Coverage::Intent { label, share } => Some(CoveredView { kind: "intent".into(), name: label, share }),
                Coverage::Faq { id, share } => Some(CoveredView { kind: "faq".into(), name: id, share }),
                Coverage::NotCovered => None,
            },
            message_ids: s.members,
        }
    }
}

/// Which period.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionsQuery {
    /// The last this many days (1–365, default 30), unless `since` is given.
    #[serde(default)]
    pub days: Option<u32>,
    /// From (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Until (RFC 3339; default now).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// At most this many clusters, largest first (1–500, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The questions buyers ask that people had to answer, grouped across
/// phrasings and languages, largest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/insights/questions", tag = "insights",
    params(("account_id" = i64, Path), QuestionsQuery),
    responses((status = 200, body = [QuestionClusterView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn frequent_questions(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<QuestionsQuery>,
) -> Result<Json<Vec<QuestionClusterView>>, ApiError> {
    if q.days.is_some_and(|d| d == 0 || d > 365) {
        return Err(AppError::invalid("days", "days must be between 1 and 365").into());
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 500 {
        return Err(AppError::invalid("limit", "limit must be between 1 and 500").into());
    }
    let until = q.until.unwrap_or_else(|| s.app.clock.now());
    let since = q.since.unwrap_or(until - Duration::days(i64::from(q.days.unwrap_or(30))));
    let clusters = s.app.frequent_questions(&a, AccountId(account), since, until).await?;
    Ok(Json(clusters.into_iter().take(limit).map(Into::into).collect()))
}

/// Documents the insights routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(frequent_questions))]
pub struct QuestionsDoc;

/// The insights routes.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/accounts/{account_id}/insights/questions", get(frequent_questions))
}
