//! Prometheus metrics at `GET /metrics`: one recorder per process (tests
//! start many nodes in one process, so installing is idempotent), a
//! middleware counting and timing requests by route template, and a guard
//! counting live WebSockets. The text is rendered on our own route; no
//! exporter server runs.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Requests per method, route template and status code.
pub const HTTP_REQUESTS: &str = "ferry_http_requests_total";
/// Request latency per method and route template.
pub const HTTP_SECONDS: &str = "ferry_http_request_duration_seconds";
/// Open WebSockets per kind (`agent`, `widget_visitor`, `widget_agent`).
pub const WEBSOCKETS: &str = "ferry_websocket_connections";

/// Latency buckets, in seconds, of every `*_seconds` histogram.
const BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The process's recorder, installed on first use; `None` when another
/// recorder was installed first (then metrics go there, and `/metrics`
/// answers 404).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics are off: could not install the recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// Keeps the recorder's histograms drained between scrapes.
pub fn upkeep() {
    if let Some(h) = handle() {
        h.run_upkeep();
    }
}

/// Marks a response with the route template that produced it (a route
/// layer: only matched routes have one), for [`track_requests`].
pub async fn tag_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(m) = matched {
        response.extensions_mut().insert(m);
    }
    response
}

/// Counts and times every request by method, route template (or
/// `unmatched`) and status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let route = response.extensions().get::<MatchedPath>().map_or("unmatched".to_owned(), |m| m.as_str().to_owned());
    let status = response.status().as_u16().to_string();
    metrics::histogram!(HTTP_SECONDS, "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    response
}

/// Methods outside the standard set share one label value.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts one open WebSocket of `kind` while alive.
pub struct LiveSocket(&'static str);

impl LiveSocket {
    /// A socket of `kind` opened.
    pub fn open(kind: &'static str) -> Self {
        metrics::gauge!(WEBSOCKETS, "kind" => kind).increment(1.0);
        Self(kind)
    }
}

impl Drop for LiveSocket {
    fn drop(&mut self) {
        metrics::gauge!(WEBSOCKETS, "kind" => self.0).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_a_label() {
        assert_eq!(method_label(&axum::http::Method::GET), "GET");
        let custom = axum::http::Method::from_bytes(b"PURGE").unwrap_or_default();
        assert_eq!(method_label(&custom), "other");
    }
}
