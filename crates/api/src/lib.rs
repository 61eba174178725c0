//! Ferry's HTTP surface: the REST API under `/api/v1/accounts/{id}/…`,
//! channel webhooks under `/webhooks/…`, the agents' WebSocket at `/ws`,
//! the OpenAPI document and health check. Handlers are thin: extract, call
//! one use case, map to a view.

mod assets;
mod error;
mod extract;
mod files;
mod masking;
pub mod monitoring;
mod openapi;
mod routes;
pub mod security;
pub mod server;

pub use error::ApiError;
pub use openapi::ApiDoc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use ferry_app::App;
use ferry_core::secret::Secret;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Mark session cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Served through a reverse proxy: a caller's address (for rate
    /// limits) is the last `X-Forwarded-For` entry, not the peer's.
    pub behind_proxy: bool,
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    pub metrics_token: Option<Secret<String>>,
    /// The server-wide token of the platform API (`/platform/api/v1/…`);
    /// `None`: the platform API answers 404.
    pub platform_token: Option<Secret<String>>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            secure_cookies: false,
            behind_proxy: false,
            metrics_token: None,
            platform_token: None,
        }
    }
}

/// What handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The use cases.
    pub app: Arc<App>,
    /// HTTP settings.
    pub config: Arc<ApiConfig>,
}

/// The whole router.
pub fn router(app: Arc<App>, config: ApiConfig) -> Router {
    let max = config.max_body_bytes;
    let state = ApiState { app, config: Arc::new(config) };
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    monitoring::handle();
    routes::routes(state.clone())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .merge(routes::streamed())
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::refuse_cross_origin))
        .layer(axum::middleware::from_fn(security::baseline_headers))
        .route_layer(axum::middleware::from_fn(monitoring::tag_route))
        .layer(axum::middleware::from_fn(masking::mask_responses))
        .with_state(state)
        .layer(DefaultBodyLimit::max(max))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn(monitoring::track_requests))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// The router of a worker node: only `/healthz` and `/metrics`.
pub fn health_router(app: Arc<App>, config: ApiConfig) -> Router {
    let state = ApiState { app, config: Arc::new(config) };
    monitoring::handle();
    Router::new()
        .route("/healthz", axum::routing::get(routes::meta::healthz))
        .route("/metrics", axum::routing::get(routes::meta::metrics))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(CatchPanicLayer::custom(error::panic_response))
}

/// The span of a request: its path without the query string, which may
/// carry search terms (e-mail addresses, phone numbers) or an access token.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}
