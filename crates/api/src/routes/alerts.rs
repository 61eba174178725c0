//! The commerce detectors' alerts over HTTP: list, read, acknowledge,
//! resolve, and run the detectors now.

use crate::extract::{AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::alerts::DetectorSummary;
use ferry_commerce::detect::AlertKind;
use ferry_core::{AccountId, AlertId};
use ferry_storage::{Alert, AlertFilter, AlertStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An alert raised by the commerce detectors.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    /// Id.
    pub id: i64,
    /// The shop it is about.
    pub connection_id: Option<i64>,
    /// `out_of_stock`, `low_stock`, `late_order`, `carrier_delay` or `defect_rate`.
    pub kind: String,
    /// Stable identity within the shop (`out_of_stock:SKU`,
    /// `late_order:ORDER`, `carrier_delay:carrier:COUNTRY`).
    pub key: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// One line for people.
    pub title: String,
    /// The numbers behind it. Out of stock: `sku`, `product_title`,
    /// `variant_title`, `stock`, `open_conversations`. Low stock: also
    /// `units_sold`, `window_days`, `daily_rate`, `days_of_cover`. Late
    /// order: `order_number`, `order_name`, `reason`
    /// (`delivery_overdue`, `not_shipped`), `due_at`, `days_late`,
    /// `carrier`, `tracking_number`, `country`. Carrier delay: `carrier`,
    /// `country`, `shipments`, `late`, `late_share`, `others_late_share`,
    /// `median_transit_days`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// When it was (last) raised.
    pub first_seen_at: DateTime<Utc>,
    /// When the detectors last found it.
    pub last_seen_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<i64>,
    /// Who resolved it (none when the detectors did).
    pub resolved_by: Option<i64>,
}

impl From<Alert> for AlertView {
    fn from(a: Alert) -> Self {
        AlertView {
            id: a.id.0,
            connection_id: a.connection_id.map(|c| c.0),
            kind: a.kind.as_str().to_owned(),
            key: a.key,
            severity: a.severity.as_str().to_owned(),
            title: a.title,
            details: a.details,
            status: a.status.as_str().to_owned(),
            first_seen_at: a.first_seen_at,
            last_seen_at: a.last_seen_at,
            resolved_at: a.resolved_at,
            acknowledged_by: a.acknowledged_by.map(|u| u.0),
            resolved_by: a.resolved_by.map(|u| u.0),
        }
    }
}

/// Which alerts to list.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open`, `acknowledged` or `resolved`.
    #[serde(default)]
    pub status: Option<String>,
    /// `out_of_stock`, `low_stock`, `late_order`, `carrier_delay` or `defect_rate`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Page size (1–500, default 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// What a run of the detectors did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DetectorRunView {
    /// Shops looked at.
    pub connections: u32,
    /// Findings of this run.
    pub found: u32,
    /// Alerts newly raised (or raised again after being resolved).
    pub raised: u32,
    /// Alerts still standing, refreshed.
    pub refreshed: u32,
    /// Alerts resolved because they were no longer found.
    pub resolved: u32,
}

impl From<DetectorSummary> for DetectorRunView {
    fn from(s: DetectorSummary) -> Self {
        Self {
            connections: s.connections,
            found: s.found,
            raised: s.raised,
            refreshed: s.refreshed,
            resolved: s.resolved,
        }
    }
}

fn filter(q: AlertQuery) -> Result<AlertFilter, ApiError> {
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            AlertStatus::parse(s)
                .ok_or_else(|| AppError::invalid("status", "status must be one of open, acknowledged, resolved"))?,
        ),
    };
    let kind = match q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(k.parse::<AlertKind>().map_err(|_| {
            AppError::invalid(
                "kind",
                "kind must be one of out_of_stock, low_stock, late_order, carrier_delay, defect_rate",
            )
        })?),
    };
    if q.limit.is_some_and(|l| l == 0 || l > 500) {
        return Err(AppError::invalid("limit", "limit must be between 1 and 500").into());
    }
    Ok(AlertFilter { status, kind, limit: q.limit.unwrap_or(100) })
}

/// The account's alerts, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/alerts", tag = "alerts",
    params(("account_id" = i64, Path), AlertQuery),
    responses((status = 200, body = [AlertView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_alerts(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<AlertQuery>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let list = s.app.list_alerts(&a, AccountId(account), filter(q)?).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/alerts/{alert_id}", tag = "alerts",
    params(("account_id" = i64, Path), ("alert_id" = i64, Path)),
    responses((status = 200, body = AlertView), (status = 404, body = ErrorBody)))]
pub async fn get_alert(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(s.app.get_alert(&a, AccountId(account), AlertId(id)).await?.into()))
}

/// Marks an alert as being looked after (any user of the account).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/alerts/{alert_id}/acknowledge", tag = "alerts",
    params(("account_id" = i64, Path), ("alert_id" = i64, Path)),
    responses((status = 200, body = AlertView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn acknowledge_alert(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(s.app.acknowledge_alert(&a, AccountId(account), AlertId(id)).await?.into()))
}

/// Resolves an alert (owners and admins). Found again by the detectors,
/// it opens again.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/alerts/{alert_id}/resolve", tag = "alerts",
    params(("account_id" = i64, Path), ("alert_id" = i64, Path)),
    responses((status = 200, body = AlertView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resolve_alert(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<AlertView>, ApiError> {
    Ok(Json(s.app.resolve_alert(&a, AccountId(account), AlertId(id)).await?.into()))
}

/// Runs the detectors on every shop of the account now (owners and
/// admins); they also run on a schedule.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/alerts/run", tag = "alerts",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = DetectorRunView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn run_detectors(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<DetectorRunView>, ApiError> {
    Ok(Json(s.app.run_detectors_now(&a, AccountId(account)).await?.into()))
}

/// Documents the alert routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_alerts, get_alert, acknowledge_alert, resolve_alert, run_detectors))]
pub struct AlertsDoc;

/// The alert routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}/alerts";
    Router::new()
        .route(base, get(list_alerts))
        .route(&format!("{base}/run"), post(run_detectors))
        .route(&format!("{base}/{{alert_id}}"), get(get_alert))
        .route(&format!("{base}/{{alert_id}}/acknowledge"), post(acknowledge_alert))
        .route(&format!("{base}/{{alert_id}}/resolve"), post(resolve_alert))
}
