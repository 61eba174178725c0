//! Uploading orders and products from CSV or JSON files into a file-import
//! shop.

use crate::extract::{AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::shop_import::{ImportOptions, ImportReport};
use ferry_commerce::import::{ImportDefaults, ImportFormat, ImportKind};
use ferry_core::{AccountId, ShopConnectionId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest file accepted (about 100,000 order lines).
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// Query of an upload.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `orders` or `products`.
    pub kind: String,
    /// `csv` or `json`; guessed from the content when absent.
    #[serde(default)]
    pub format: Option<String>,
    /// Currency of rows without one (ISO 4217).
    #[serde(default)]
    pub currency: Option<String>,
    /// Region of phone numbers written without a country code (ISO 3166
    /// alpha-2).
    #[serde(default)]
    pub region: Option<String>,
    /// Check the file without writing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// A row that was not imported.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectedRowView {
    /// CSV: line of the file (the header is line 1); JSON: the record's
    /// position.
    pub line: usize,
    /// The order number or product the row belongs to.
    pub key: Option<String>,
    /// The column at fault.
    pub column: Option<String>,
    /// Its value.
    pub value: Option<String>,
    /// Why it was not imported.
    pub reason: String,
}

/// What an upload did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReportView {
    /// The shop written to.
    pub connection_id: i64,
    /// `orders` or `products`.
    pub kind: String,
    /// `csv` or `json`.
    pub format: String,
    /// Data rows read.
    pub rows: usize,
    /// Orders or products accepted.
    pub accepted: usize,
    /// Records written (unchanged ones are not rewritten).
    pub changed: usize,
    /// Rows not imported and why.
    pub rejected: Vec<RejectedRowView>,
    /// Columns that were not read.
    pub ignored_columns: Vec<String>,
    /// Nothing was written.
    pub dry_run: bool,
}

impl From<ImportReport> for ImportReportView {
    fn from(r: ImportReport) -> Self {
        ImportReportView {
            connection_id: r.connection_id.map_or(0, |c| c.0),
            kind: r.kind.as_str().to_owned(),
            format: match r.format {
                ImportFormat::Csv => "csv".to_owned(),
                ImportFormat::Json => "json".to_owned(),
            },
            rows: r.rows,
            accepted: r.accepted,
            changed: r.changed,
            rejected: r
                .rejected
                .into_iter()
                .map(|x| RejectedRowView {
                    line: x.line,
                    key: x.key,
                    column: x.column,
                    value: x.value,
                    reason: x.reason,
                })
                .collect(),
            ignored_columns: r.ignored_columns,
            dry_run: r.dry_run,
        }
    }
}

/// Imports orders or products from a CSV or JSON file (the request body)
/// into a file-import shop (owners and admins). Valid records are applied;
/// every other row comes back with its line, column and reason.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/shop_connections/{connection_id}/import", tag = "commerce",
    params(("account_id" = i64, Path), ("connection_id" = i64, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The file: CSV with a header line, or JSON"),
    responses((status = 200, body = ImportReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not a file-import shop"),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody, description = "The file cannot be read")))]
pub async fn import_file(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, connection)): AppPath<(i64, i64)>,
    AppQuery(q): AppQuery<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportReportView>, ApiError> {
    // Another account is not found before its input is judged.
    a.in_account(AccountId(account))?;
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError(AppError::TooLarge(MAX_IMPORT_BYTES)));
        }
        Err(e) => return Err(ApiError::malformed(e.body_text())),
    };
    let kind = match q.kind.trim() {
        "orders" => ImportKind::Orders,
        "products" => ImportKind::Products,
        _ => return Err(AppError::invalid("kind", "kind is orders or products").into()),
    };
    let format = match q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None => None,
        Some(f) => Some(ImportFormat::parse(f).ok_or_else(|| AppError::invalid("format", "format is csv or json"))?),
    };
    let options = ImportOptions {
        format,
        defaults: ImportDefaults {
            currency: q.currency.map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()),
            region: q.region.map(|r| r.trim().to_ascii_uppercase()).filter(|r| !r.is_empty()),
        },
        dry_run: q.dry_run,
    };
    let report =
        s.app.import_shop_file(&a, AccountId(account), ShopConnectionId(connection), kind, &body, &options).await?;
    Ok(Json(report.into()))
}

/// Documents the import route.
#[derive(utoipa::OpenApi)]
#[openapi(paths(import_file))]
pub struct ShopImportDoc;

/// The import route.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts/{account_id}/shop_connections/{connection_id}/import", post(import_file))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}
