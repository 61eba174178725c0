//! One mapping from errors to HTTP answers: a stable snake_case code, the
//! right status, `{"error":{"code","message"}}`. Server errors are logged
//! here once with their cause and answered opaquely.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ferry_api_types::{ErrorBody, ErrorDetail};
use ferry_app::AppError;
use ferry_core::compliance::Severity;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl ApiError {
    /// A 400 for a request that could not be read.
    pub fn malformed(msg: impl Into<String>) -> Self {
        ApiError(AppError::Malformed(msg.into()))
    }
}

fn body(status: StatusCode, code: &str, message: String, field: Option<&str>) -> Response {
    let b = ErrorBody {
        error: ErrorDetail { code: code.to_owned(), message, field: field.map(str::to_owned), findings: None },
    };
    (status, Json(b)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        match &e {
            AppError::NotFound(what) => body(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"), None),
            AppError::Unauthorized(m) => body(StatusCode::UNAUTHORIZED, "unauthorized", (*m).to_owned(), None),
            AppError::Forbidden(m) => body(StatusCode::FORBIDDEN, "forbidden", (*m).to_owned(), None),
            AppError::Suspended => body(StatusCode::FORBIDDEN, "account_suspended", e.to_string(), None),
            AppError::RateLimited(m) => body(StatusCode::TOO_MANY_REQUESTS, "rate_limited", (*m).to_owned(), None),
            AppError::Locked { retry_after_secs } => {
                let mut r = body(StatusCode::TOO_MANY_REQUESTS, "login_locked", e.to_string(), None);
                r.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(*retry_after_secs));
                r
            }
            AppError::TwoFactorRequired => body(StatusCode::FORBIDDEN, "two_factor_required", e.to_string(), None),
            AppError::Invalid { field, message } => {
                body(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message.clone(), *field)
            }
            AppError::Rejected { code, field, message } => {
                body(StatusCode::UNPROCESSABLE_ENTITY, code, message.clone(), Some(field))
            }
            AppError::Malformed(m) => body(StatusCode::BAD_REQUEST, "malformed_request", m.clone(), None),
            AppError::TooLarge(_) => {
                // The rest of the body is not read: the connection cannot
                // carry another request, and the client must not reuse it.
                let mut r = body(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", e.to_string(), None);
                r.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
                r
            }
            AppError::Conflict(m) => body(StatusCode::CONFLICT, "conflict", m.clone(), None),
            AppError::Unsupported(m) => body(StatusCode::CONFLICT, "not_supported", m.clone(), None),
            AppError::Upstream(m) => body(StatusCode::BAD_GATEWAY, "shop_error", m.clone(), None),
            AppError::Provider { code, message } => body(StatusCode::BAD_GATEWAY, code, message.clone(), None),
            AppError::Transition(t) => body(StatusCode::CONFLICT, "invalid_transition", t.to_string(), Some("status")),
            AppError::Blocked(report) => {
                let blocking: Vec<_> = report.findings.iter().filter(|f| f.severity == Severity::Block).collect();
                let message = match blocking.first() {
                    Some(f) if blocking.len() == 1 => f.explanation.clone(),
                    Some(f) => format!("{} (and {} more)", f.explanation, blocking.len() - 1),
                    None => e.to_string(),
                };
                // The one block a client can act on by itself (send a
                // template instead) gets its own code.
                let window_closed = blocking.len() == 1
                    && blocking.iter().all(|f| f.rule == ferry_core::compliance::RuleId::WhatsappWindowClosed);
                // A buyer who opted out is refused whatever the text says.
                let opted_out = blocking.iter().any(|f| f.rule == ferry_core::compliance::RuleId::ContactOptedOut);
                let code = if opted_out {
                    "contact_opted_out"
                } else if window_closed {
                    "whatsapp_window_closed"
                } else {
                    "compliance_blocked"
                };
                let b = ErrorBody {
                    error: ErrorDetail {
                        code: code.to_owned(),
                        message,
                        field: Some("content".to_owned()),
                        findings: Some(report.findings.clone()),
                    },
                };
                (StatusCode::UNPROCESSABLE_ENTITY, Json(b)).into_response()
            }
            AppError::Storage(_) | AppError::Failed { .. } => {
                tracing::error!(error = ?e, "request failed");
                body(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side".to_owned(), None)
            }
        }
    }
}

/// The answer when a handler panics.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    body(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side".to_owned(), None)
}
