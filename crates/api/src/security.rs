//! Browser-facing protections: state-changing requests authenticated by
//! the session cookie must come from Ferry's own pages (a check of
//! `Origin`, else `Referer`), and the console's and widget's pages carry a
//! Content-Security-Policy and the other security headers.
//!
//! API tokens are sent in a header no other site can make a browser add,
//! and webhooks, the widget's routes and survey answers do not use the
//! cookie: those are left alone.

use crate::ApiState;
use crate::extract::{SESSION_COOKIE, own_origin, session_of};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ferry_api_types::{ErrorBody, ErrorDetail};

/// Paths whose requests are not authenticated by the session cookie.
const COOKIELESS: [&str; 4] = ["/webhooks/", "/widget/", "/csat/", "/unsubscribe/"];

/// The console's policy: only its own scripts, styles and connections, no
/// framing. (Svelte sets `style` attributes, hence inline styles.)
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob: https:; media-src 'self' blob: data:; font-src 'self' data:; connect-src 'self'; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The widget's pages (the demo shop) and loader: the same sources; the
/// page may be framed by Ferry itself.
pub const WIDGET_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob: https:; media-src 'self' blob: data:; font-src 'self' data:; connect-src 'self'; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

/// Features no Ferry page uses.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), magnetometer=(), gyroscope=(), accelerometer=()";

/// Which of Ferry's pages a response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The agents' console.
    Console,
    /// The chat widget's script or its demo shop.
    Widget,
}

/// Adds the security headers of `page`.
pub fn page_headers(h: &mut HeaderMap, page: Page) {
    let csp = match page {
        Page::Console => CONSOLE_CSP,
        Page::Widget => WIDGET_CSP,
    };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    if page == Page::Console {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Same-origin requests keep their `Referer` and `Origin` (the check
    // below reads them); links elsewhere carry nothing, such as a reset
    // link's token.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static(PERMISSIONS_POLICY));
}

/// `nosniff` and the referrer policy on every answer (JSON included).
pub async fn baseline_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
    resp
}

/// Whether a request changes state with the session cookie as its only
/// credential.
fn cookie_write(req: &Request) -> bool {
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    let h = req.headers();
    let token = h.contains_key("api_access_token") || h.contains_key("api-access-token");
    let path = req.uri().path();
    writes && !token && session_of(h).is_some() && !COOKIELESS.iter().any(|p| path.starts_with(p))
}

/// Whether a cookie-authenticated request comes from Ferry's own pages:
/// its `Origin`, else the origin of its `Referer`; neither is a refusal.
pub fn same_origin_request(h: &HeaderMap, public_url: &str) -> bool {
    if h.contains_key(header::ORIGIN) {
        return own_origin(h, public_url);
    }
    let Some(referer) = h.get(header::REFERER).and_then(|r| r.to_str().ok()) else { return false };
    let Ok(url) = url::Url::parse(referer) else { return false };
    let origin = url.origin().ascii_serialization();
    let Ok(origin) = HeaderValue::from_str(&origin) else { return false };
    let mut probe = HeaderMap::new();
    probe.insert(header::ORIGIN, origin);
    if let Some(host) = h.get(header::HOST) {
        probe.insert(header::HOST, host.clone());
    }
    own_origin(&probe, public_url)
}

/// Refuses cookie-authenticated writes from other sites (403
/// `cross_origin_request`) before any handler runs.
pub async fn refuse_cross_origin(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    if cookie_write(&req) && !same_origin_request(req.headers(), &s.app.config.public_url) {
        let body = ErrorBody {
            error: ErrorDetail {
                code: "cross_origin_request".to_owned(),
                message: format!(
                    "this request came from another site; Ferry accepts changes made with its {SESSION_COOKIE} \
                     cookie only from its own pages"
                ),
                field: None,
                findings: None,
            },
        };
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origin_then_referer_decide() {
        let public = "https://ferry.example";
        let ok = |p: &[(&'static str, &str)]| same_origin_request(&headers(p), public);
        assert!(ok(&[("origin", "https://ferry.example")]));
        assert!(!ok(&[("origin", "https://evil.example")]));
        assert!(!ok(&[("origin", "null")]));
        assert!(ok(&[("origin", "http://127.0.0.1:9000"), ("host", "127.0.0.1:9000")]), "the host addressed");
        assert!(ok(&[("referer", "https://ferry.example/settings?x=1")]));
        assert!(!ok(&[("referer", "https://evil.example/ferry.example")]));
        assert!(!ok(&[("referer", "https://ferry.example.evil.example/")]));
        assert!(!ok(&[("referer", "not a url")]));
        assert!(!ok(&[]), "neither: refused");
        // Origin wins over a matching Referer.
        assert!(!ok(&[("origin", "https://evil.example"), ("referer", "https://ferry.example/")]));
    }
}
