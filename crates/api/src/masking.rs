//! Masking of buyers' phone numbers and e-mail addresses in the answers of
//! the account API, in one place: the [`Auth`](crate::extract::Auth)
//! extractor marks the request when its actor may not see them in clear,
//! and [`mask_responses`] rewrites the JSON answer on its way out (see
//! [`ferry_core::privacy::mask_json`]). The live socket masks its frames
//! the same way.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the extractor when the answer must be masked.
#[derive(Debug, Clone, Default)]
pub struct MaskFlag(Arc<AtomicBool>);

impl MaskFlag {
    /// Marks the answer for masking (or not).
    pub fn set(&self, mask: bool) {
        self.0.store(mask, Ordering::Relaxed);
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Paths whose answers are never masked: the actor's own colleagues and
/// settings (agents' logins, inbox settings, roles), and the audited
/// reveal itself.
fn exempt(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/accounts/") else { return true };
    let rest = rest.split_once('/').map_or("", |(_, r)| r);
    ["agents", "inboxes", "roles", "teams", "retention", "audit_log"].iter().any(|p| rest.starts_with(p))
        || rest.ends_with("/unmask")
}

/// Masks the JSON answers of requests the extractor marked.
pub async fn mask_responses(mut req: Request, next: Next) -> Response {
    if exempt(req.uri().path()) {
        return next.run(req).await;
    }
    let flag = MaskFlag::default();
    req.extensions_mut().insert(flag.clone());
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !flag.get() || !json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    ferry_core::privacy::mask_json(&mut v);
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(v.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn settings_and_reveals_are_not_masked() {
        assert!(super::exempt("/api/v1/accounts/1/agents"));
        assert!(super::exempt("/api/v1/accounts/1/contacts/5/unmask"));
        assert!(super::exempt("/healthz"));
        assert!(!super::exempt("/api/v1/accounts/1/contacts/5"));
        assert!(!super::exempt("/api/v1/accounts/1/search"));
    }
}
