//! Product feedback over HTTP: defect conversations per SKU of the buyer's
//! orders, per week, beside the orders of that SKU (a page of SKUs, one
//! SKU in detail with example buyer messages), each as JSON or CSV, and
//! the account's defect rules. Owners and admins, like reports.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::routes::reports::{csv, day, opt, wants_csv};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::insights::ReportParams;
use ferry_app::products::{DefectExample, ProductDetail, ProductPage};
use ferry_core::AccountId;
use ferry_core::insights::{DefectRules, ProductLine, ProductWeek, ValueCount};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a product feedback read covers.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// First local day, `YYYY-MM-DD` (default: 29 days before `until`).
    #[serde(default)]
    pub from: Option<String>,
    /// Last local day, `YYYY-MM-DD` (default: today in the account's time
    /// zone).
    #[serde(default)]
    pub until: Option<String>,
    /// Most SKUs returned (1–500, default 50; the list only).
    #[serde(default)]
    pub limit: Option<u32>,
    /// SKUs skipped (the list only).
    #[serde(default)]
    pub offset: Option<u32>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
}

/// A page of SKUs, most defect conversations first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductPageView {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub until: NaiveDate,
    /// The account's time zone the days are in.
    pub timezone: String,
    /// SKUs in all.
    pub total: u64,
    /// This page's SKUs.
    pub lines: Vec<ProductLine>,
}

/// A file of an example message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExampleAttachmentView {
    /// Where it is fetched (as in the conversation's message).
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Original name.
    pub filename: Option<String>,
}

/// The first buyer message of a defect conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DefectExampleView {
    /// Conversation.
    pub conversation_id: i64,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Its language.
    pub language: Option<String>,
    /// The defect tags or intent it matched.
    pub reasons: Vec<String>,
    /// The message's text.
    pub text: String,
    /// Its files.
    pub attachments: Vec<ExampleAttachmentView>,
}

/// One SKU: figures, weeks and examples.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductDetailView {
    /// First local day.
    pub from: NaiveDate,
    /// Last local day.
    pub until: NaiveDate,
    /// The account's time zone.
    pub timezone: String,
    /// The SKU's figures and weeks.
    pub line: ProductLine,
    /// First buyer messages of its newest defect conversations (up to 5).
    pub examples: Vec<DefectExampleView>,
}

fn example(e: DefectExample) -> DefectExampleView {
    DefectExampleView {
        conversation_id: e.conversation_id,
        opened_at: e.opened_at,
        language: e.language,
        reasons: e.reasons,
        text: e.text,
        attachments: e
            .attachments
            .into_iter()
            .map(|a| ExampleAttachmentView { url: a.url, content_type: a.content_type, filename: a.filename })
            .collect(),
    }
}

fn params(q: &ProductQuery) -> Result<ReportParams, ApiError> {
    Ok(ReportParams {
        from: day("from", q.from.as_deref())?,
        until: day("until", q.until.as_deref())?,
        group_by: None,
        by: None,
    })
}

fn values(v: &[ValueCount]) -> String {
    v.iter().map(|c| format!("{} {}", c.value, c.count)).collect::<Vec<_>>().join("; ")
}

const LIST_COLUMNS: &[&str] =
    &["sku", "defect_conversations", "conversations", "orders", "units", "defect_rate", "reasons", "countries"];

fn list_row(l: &ProductLine) -> Vec<String> {
    vec![
        l.sku.clone(),
        l.defect_conversations.to_string(),
        l.conversations.to_string(),
        l.orders.to_string(),
        l.units.to_string(),
        opt(l.defect_rate),
        values(&l.reasons),
        values(&l.countries),
    ]
}

const WEEK_COLUMNS: &[&str] =
    &["sku", "week", "defect_conversations", "conversations", "orders", "units", "defect_rate"];

fn week_row(sku: &str, w: &ProductWeek) -> Vec<String> {
    vec![
        sku.to_owned(),
        w.week.to_string(),
        w.defect_conversations.to_string(),
        w.conversations.to_string(),
        w.orders.to_string(),
        w.units.to_string(),
        opt(w.defect_rate),
    ]
}

/// The SKUs that conversations opened in the range mention (the SKUs of
/// the buyer's orders), most defect conversations first: defect
/// conversations (a defect tag or intent, see the defect rules),
/// conversations, orders and units of the SKU placed in the range, defect
/// rate (defect conversations / orders; null without orders), reasons,
/// countries and every ISO week. Owners and admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/insights/products", tag = "insights",
    params(("account_id" = i64, Path), ProductQuery),
    responses((status = 200, body = ProductPageView, description = "JSON, or CSV with `format=csv`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_products(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ProductQuery>,
) -> Result<Response, ApiError> {
    let csv_out = wants_csv(q.format.as_deref())?;
    let p = params(&q)?;
    let limit = if csv_out { ferry_app::products::MAX_PAGE } else { q.limit.unwrap_or(50) };
    if !(1..=ferry_app::products::MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid("limit", "limit must be between 1 and 500").into());
    }
    let page: ProductPage = s.app.product_feedback(&a, AccountId(account), p, limit, q.offset.unwrap_or(0)).await?;
    if csv_out {
        return Ok(csv("products", LIST_COLUMNS, page.lines.iter().map(list_row).collect()));
    }
    Ok(Json(ProductPageView {
        from: page.from,
        until: page.until,
        timezone: page.timezone,
        total: page.total,
        lines: page.lines,
    })
    .into_response())
}

/// One SKU in the range: its figures, every ISO week, and the first buyer
/// messages of its newest defect conversations with their files (CSV: the
/// weeks). Owners and admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/insights/products/{sku}", tag = "insights",
    params(("account_id" = i64, Path), ("sku" = String, Path), ProductQuery),
    responses((status = 200, body = ProductDetailView, description = "JSON, or CSV of the weeks with `format=csv`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_product(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, sku)): AppPath<(i64, String)>,
    AppQuery(q): AppQuery<ProductQuery>,
) -> Result<Response, ApiError> {
    let csv_out = wants_csv(q.format.as_deref())?;
    let d: ProductDetail = s.app.product_detail(&a, AccountId(account), &sku, params(&q)?).await?;
    if csv_out {
        let rows = d.line.weeks.iter().map(|w| week_row(&d.line.sku, w)).collect();
        return Ok(csv("product-weeks", WEEK_COLUMNS, rows));
    }
    Ok(Json(ProductDetailView {
        from: d.from,
        until: d.until,
        timezone: d.timezone,
        line: d.line,
        examples: d.examples.into_iter().map(example).collect(),
    })
    .into_response())
}

/// The account's defect rules: the tags and intents that make a
/// conversation a defect conversation (compared without regard to case).
/// Owners and admins.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/insights/defect_rules", tag = "insights",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = DefectRules), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_defect_rules(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<DefectRules>, ApiError> {
    Ok(Json(s.app.defect_rules(&a, AccountId(account)).await?))
}

/// Sets the defect rules: names are trimmed, lower-cased and de-duplicated;
/// at least one tag or intent, at most 50 of each, 64 characters each.
/// Owners and admins.
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/insights/defect_rules", tag = "insights",
    params(("account_id" = i64, Path)), request_body = DefectRules,
    responses((status = 200, body = DefectRules), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_defect_rules(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(body): AppJson<DefectRules>,
) -> Result<Json<DefectRules>, ApiError> {
    Ok(Json(s.app.set_defect_rules(&a, AccountId(account), body.tags, body.intents).await?))
}

/// Documents the product feedback routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_products, get_product, get_defect_rules, put_defect_rules))]
pub struct ProductsDoc;

/// The product feedback routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}/insights";
    Router::new()
        .route(&format!("{base}/products"), get(list_products))
        .route(&format!("{base}/products/{{sku}}"), get(get_product))
        .route(&format!("{base}/defect_rules"), get(get_defect_rules).put(put_defect_rules))
}
