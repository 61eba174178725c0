//! Frequent-question discovery over HTTP.

use crate::extract::AppJson;
use crate::extract::{AppPath, AppQuery, Auth};
use crate::routes::bot::BotDocumentResponse;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::questions::{Adopt, AdoptAs, QuestionCluster};
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
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 500 {
        return Err(AppError::invalid("limit", "limit must be between 1 and 500").into());
    }
    let (since, until) = period(&s, q.days, q.since, q.until)?;
    let clusters = s.app.frequent_questions(&a, AccountId(account), since, until).await?;
    Ok(Json(clusters.into_iter().take(limit).map(Into::into).collect()))
}

/// What a question cluster becomes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AdoptQuestion {
    /// `faq` (an entry per language) or `intent` (examples and answers per
    /// language).
    #[serde(rename = "as")]
    pub kind: String,
    /// The FAQ entry's id or the intent's name (`a-z`, digits, `_`).
    pub name: String,
    /// The answer; by default the reply agents gave most (per language).
    #[serde(default)]
    pub answer: Option<String>,
    /// The period the cluster was listed for: the last `days` days
    /// (default 30) unless `since` is given.
    #[serde(default)]
    pub days: Option<u32>,
    /// From (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Until (RFC 3339; default now).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// Turns a question cluster into a FAQ entry or an intent of the bot, with
/// its messages as questions or examples and the agents' most frequent
/// reply as the answer, and retrains the bot (owners and admins).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/insights/questions/{cluster_id}/adopt", tag = "insights",
    params(("account_id" = i64, Path), ("cluster_id" = i64, Path)),
    request_body = AdoptQuestion,
    responses((status = 200, body = BotDocumentResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn adopt_question(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, cluster)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<AdoptQuestion>,
) -> Result<Json<BotDocumentResponse>, ApiError> {
    // Another account is not found before its input is judged.
    a.in_account(AccountId(account))?;
    let kind = match req.kind.as_str() {
        "faq" => AdoptAs::Faq,
        "intent" => AdoptAs::Intent,
        _ => return Err(AppError::invalid("as", "as must be faq or intent").into()),
    };
    let (since, until) = period(&s, req.days, req.since, req.until)?;
    let adopt = Adopt { kind, name: req.name, answer: req.answer, since, until };
    Ok(Json(s.app.adopt_question(&a, AccountId(account), cluster, adopt).await?.into()))
}

fn period(
    s: &ApiState,
    days: Option<u32>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    if days.is_some_and(|d| d == 0 || d > 365) {
        return Err(AppError::invalid("days", "days must be between 1 and 365").into());
    }
    let until = until.unwrap_or_else(|| s.app.clock.now());
    Ok((since.unwrap_or(until - Duration::days(i64::from(days.unwrap_or(30)))), until))
}

/// Documents the insights routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(frequent_questions, adopt_question), components(schemas(AdoptQuestion)))]
pub struct QuestionsDoc;

/// The insights routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts/{account_id}/insights/questions", get(frequent_questions))
        .route("/api/v1/accounts/{account_id}/insights/questions/{cluster_id}/adopt", post(adopt_question))
}
