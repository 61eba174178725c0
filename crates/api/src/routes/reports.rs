//! Reports over HTTP: the overview, agents and hand-offs, each as JSON or
//! as CSV (`format=csv`: UTF-8 with a byte-order mark, so spreadsheets
//! keep Chinese and other scripts intact), the conversations behind any
//! number, and the account's time zone that sets the days.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::insights::{DrillDown, DrillTarget, Report, ReportParams};
use ferry_core::AccountId;
use ferry_core::insights::{AgentLine, Dimension, Granularity, HandoffLine, Metric, OverviewLine, Percentiles};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a report covers and how it is grouped.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First local day, `YYYY-MM-DD` (default: 29 days before `until`).
    #[serde(default)]
    pub from: Option<String>,
    /// Last local day, `YYYY-MM-DD` (default: today in the account's time
    /// zone).
    #[serde(default)]
    pub until: Option<String>,
    /// `day`, `week` or `month` (default: one bucket for the whole range).
    #[serde(default)]
    pub group_by: Option<String>,
    /// `channel`, `inbox`, `country`, `language`, `intent`, `tag`, `team`,
    /// `agent`, `sku`, `replier` or `handoff_reason`.
    #[serde(default)]
    pub by: Option<String>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
}

/// The number to drill into, besides the report's own parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DrillQuery {
    /// `opened`, `resolved`, `reopened`, `bot_started`, `bot_contained`,
    /// `handed_off`, `agent_replies`, `first_response`, `next_response`,
    /// `resolution`, `backlog` or `rated`.
    pub metric: String,
    /// The bucket's label as the report gave it (all buckets when absent).
    #[serde(default)]
    pub bucket: Option<String>,
    /// The breakdown's value as the report gave it (all when absent).
    #[serde(default)]
    pub key: Option<String>,
    /// Most ids returned (1–5000, default 500).
    #[serde(default)]
    pub limit: Option<u32>,
    /// First local day.
    #[serde(default)]
    pub from: Option<String>,
    /// Last local day.
    #[serde(default)]
    pub until: Option<String>,
    /// `day`, `week` or `month`.
    #[serde(default)]
    pub group_by: Option<String>,
    /// The breakdown `key` belongs to.
    #[serde(default)]
    pub by: Option<String>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
}

/// A report's lines and the local days they cover.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportView<T> {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub until: NaiveDate,
    /// The account's time zone the days are in.
    pub timezone: String,
    /// The lines.
    pub lines: Vec<T>,
}

impl<T> From<Report<T>> for ReportView<T> {
    fn from(r: Report<T>) -> Self {
        Self { from: r.from, until: r.until, timezone: r.timezone, lines: r.lines }
    }
}

/// The conversations behind a number.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DrillDownView {
    /// How many conversations the number counts.
    pub total: u64,
    /// Their ids, ascending (the first `limit`).
    pub conversation_ids: Vec<i64>,
}

/// The account's time zone for reports.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportSettings {
    /// IANA time zone name, such as `Europe/Berlin`.
    pub timezone: String,
}

pub(crate) fn day(field: &'static str, v: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::invalid(field, format!("{field} must be a date, YYYY-MM-DD")).into()),
    }
}

fn params(
    from: Option<&str>,
    until: Option<&str>,
    group_by: Option<&str>,
    by: Option<&str>,
) -> Result<ReportParams, ApiError> {
    let group_by = match group_by.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(g) => Some(
            g.parse::<Granularity>()
                .map_err(|_| AppError::invalid("group_by", "group_by must be one of day, week, month"))?,
        ),
    };
    let by = match by.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(b) => Some(b.parse::<Dimension>().map_err(|_| {
            let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
            AppError::invalid("by", format!("by must be one of {}", names.join(", ")))
        })?),
    };
    Ok(ReportParams { from: day("from", from)?, until: day("until", until)?, group_by, by })
}

/// Whether CSV was asked for.
pub(crate) fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(AppError::invalid("format", "format must be json or csv").into()),
    }
}

/// A field quoted as CSV needs it.
fn field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_owned() }
}

/// A CSV document: byte-order mark, header, rows, CRLF line ends.
pub(crate) fn csv(name: &str, header: &[&str], rows: Vec<Vec<String>>) -> Response {
    let mut out = String::from("\u{feff}");
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|v| field(v)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")),
        ],
        out,
    )
        .into_response()
}

pub(crate) fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn pct(p: &Percentiles) -> [String; 2] {
    [opt(p.median), opt(p.p90)]
}

const OVERVIEW_COLUMNS: &[&str] = &[
    "bucket",
    "key",
    "label",
    "opened",
    "resolved",
    "reopened",
    "bot_started",
    "bot_contained",
    "containment_rate",
    "handed_off",
    "handoff_rate",
    "agent_replies",
    "replies_per_conversation",
    "first_response_median_secs",
    "first_response_p90_secs",
    "first_response_business_median_secs",
    "first_response_business_p90_secs",
    "next_response_median_secs",
    "next_response_p90_secs",
    "next_response_business_median_secs",
    "next_response_business_p90_secs",
    "resolution_median_secs",
    "resolution_p90_secs",
    "resolution_business_median_secs",
    "resolution_business_p90_secs",
    "backlog",
    "rated",
    "csat",
    "satisfied",
    "satisfied_rate",
];

fn overview_row(l: &OverviewLine) -> Vec<String> {
    let mut r = vec![
        opt(l.bucket.as_ref()),
        opt(l.key.as_ref()),
        opt(l.label.as_ref()),
        l.opened.to_string(),
        l.resolved.to_string(),
        l.reopened.to_string(),
        l.bot_started.to_string(),
        l.bot_contained.to_string(),
        opt(l.containment_rate),
        l.handed_off.to_string(),
        opt(l.handoff_rate),
        l.agent_replies.to_string(),
        opt(l.replies_per_conversation),
    ];
    for p in [
        &l.first_response,
        &l.first_response_business,
        &l.next_response,
        &l.next_response_business,
        &l.resolution,
        &l.resolution_business,
    ] {
        r.extend(pct(p));
    }
    r.push(l.backlog.to_string());
    r.extend([l.rated.to_string(), opt(l.csat), l.satisfied.to_string(), opt(l.satisfied_rate)]);
    r
}

/// Conversations opened, resolved and reopened; bot containment and
/// hand-offs; agent replies per conversation; first-response,
/// next-response and resolution times (median and p90, wall time and in
/// the inbox's business hours); backlog at the end of each bucket;
/// satisfaction of the conversations resolved in the bucket (rated, mean
/// rating 1–5, share rated 4–5). Per bucket of `group_by` and value of
/// `by`, from daily rollups. Owners and admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/reports/overview", tag = "reports",
    params(("account_id" = i64, Path), ReportQuery),
    responses((status = 200, body = ReportView<OverviewLine>, description = "JSON, or CSV with `format=csv`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report_overview(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let csv_out = wants_csv(q.format.as_deref())?;
    let p = params(q.from.as_deref(), q.until.as_deref(), q.group_by.as_deref(), q.by.as_deref())?;
    let r = s.app.report_overview(&a, AccountId(account), p).await?;
    if csv_out {
        return Ok(csv("overview", OVERVIEW_COLUMNS, r.lines.iter().map(overview_row).collect()));
    }
    Ok(Json(ReportView::from(r)).into_response())
}

/// Per agent: conversations handled (replied in), replies, first
/// response (median, p90), conversations resolved and resolution time;
/// `csat` is the mean rating of the rated ones. Owners and admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/reports/agents", tag = "reports",
    params(("account_id" = i64, Path), ReportQuery),
    responses((status = 200, body = ReportView<AgentLine>, description = "JSON, or CSV with `format=csv`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report_agents(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let csv_out = wants_csv(q.format.as_deref())?;
    let p = params(q.from.as_deref(), q.until.as_deref(), None, None)?;
    let r = s.app.report_agents(&a, AccountId(account), p).await?;
    if csv_out {
        let header = [
            "agent_id",
            "name",
            "conversations_handled",
            "replies",
            "first_response_median_secs",
            "first_response_p90_secs",
            "first_response_business_median_secs",
            "first_response_business_p90_secs",
            "resolved",
            "resolution_median_secs",
            "resolution_p90_secs",
            "csat",
        ];
        let rows = r
            .lines
            .iter()
            .map(|l| {
                let mut row = vec![
                    l.agent_id.to_string(),
                    opt(l.name.as_ref()),
                    l.conversations_handled.to_string(),
                    l.replies.to_string(),
                ];
                row.extend(pct(&l.first_response));
                row.extend(pct(&l.first_response_business));
                row.push(l.resolved.to_string());
                row.extend(pct(&l.resolution));
                row.push(opt(l.csat));
                row
            })
            .collect();
        return Ok(csv("agents", &header, rows));
    }
    Ok(Json(ReportView::from(r)).into_response())
}

/// Hand-offs of conversations opened in the range, by reason. Owners and
/// admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/reports/handoffs", tag = "reports",
    params(("account_id" = i64, Path), ReportQuery),
    responses((status = 200, body = ReportView<HandoffLine>, description = "JSON, or CSV with `format=csv`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report_handoffs(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let csv_out = wants_csv(q.format.as_deref())?;
    let p = params(q.from.as_deref(), q.until.as_deref(), None, None)?;
    let r = s.app.report_handoffs(&a, AccountId(account), p).await?;
    if csv_out {
        let rows = r
            .lines
            .iter()
            .map(|l| vec![opt(l.reason.as_ref()), l.conversations.to_string(), l.share.to_string()])
            .collect();
        return Ok(csv("handoffs", &["reason", "conversations", "share"], rows));
    }
    Ok(Json(ReportView::from(r)).into_response())
}

/// The conversations behind one number of the overview: the same range,
/// `group_by` and `by`, plus the metric, the bucket's label and the
/// value. Owners and admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/reports/conversations", tag = "reports",
    params(("account_id" = i64, Path), DrillQuery),
    responses((status = 200, body = DrillDownView, description = "JSON, or CSV with `format=csv`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report_conversations(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<DrillQuery>,
) -> Result<Response, ApiError> {
    // Another account is not found before its input is judged.
    a.in_account(AccountId(account))?;
    let csv_out = wants_csv(q.format.as_deref())?;
    let p = params(q.from.as_deref(), q.until.as_deref(), q.group_by.as_deref(), q.by.as_deref())?;
    let metric = q.metric.trim().parse::<Metric>().map_err(|_| {
        AppError::invalid(
            "metric",
            "metric must be one of opened, resolved, reopened, bot_started, bot_contained, handed_off, \
             agent_replies, first_response, next_response, resolution, backlog, rated",
        )
    })?;
    if q.limit.is_some_and(|l| l == 0 || l > 5000) {
        return Err(AppError::invalid("limit", "limit must be between 1 and 5000").into());
    }
    let target = DrillTarget {
        metric,
        bucket: q.bucket.as_deref().map(str::trim).filter(|b| !b.is_empty()).map(str::to_owned),
        key: q.key.filter(|k| !k.is_empty()),
        limit: q.limit.unwrap_or(500),
    };
    let DrillDown { total, conversation_ids } = s.app.report_conversations(&a, AccountId(account), p, target).await?;
    if csv_out {
        let rows = conversation_ids.iter().map(|id| vec![id.to_string()]).collect();
        return Ok(csv("conversations", &["conversation_id"], rows));
    }
    Ok(Json(DrillDownView { total, conversation_ids }).into_response())
}

/// The account's time zone for reports. Owners and admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/reports/settings", tag = "reports",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = ReportSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_report_settings(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<ReportSettings>, ApiError> {
    Ok(Json(ReportSettings { timezone: s.app.get_report_timezone(&a, AccountId(account)).await? }))
}

/// Sets the account's time zone for reports and recomputes the days of
/// its conversations. Owners and admins.
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/reports/settings", tag = "reports",
    params(("account_id" = i64, Path)), request_body = ReportSettings,
    responses((status = 200, body = ReportSettings), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_report_settings(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(body): AppJson<ReportSettings>,
) -> Result<Json<ReportSettings>, ApiError> {
    let timezone = s.app.set_report_timezone(&a, AccountId(account), &body.timezone).await?;
    Ok(Json(ReportSettings { timezone }))
}

/// Documents the report routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    report_overview,
    report_agents,
    report_handoffs,
    report_conversations,
    get_report_settings,
    put_report_settings
))]
pub struct ReportsDoc;

/// The report routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}/reports";
    Router::new()
        .route(&format!("{base}/overview"), get(report_overview))
        .route(&format!("{base}/agents"), get(report_agents))
        .route(&format!("{base}/handoffs"), get(report_handoffs))
        .route(&format!("{base}/conversations"), get(report_conversations))
        .route(&format!("{base}/settings"), get(get_report_settings).put(put_report_settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("退货"), "退货");
    }
}
