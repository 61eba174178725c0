//! The Selling Partner API client of one seller. An access token from
//! Login with Amazon is cached until shortly before it expires (one
//! refresh at a time, whoever asks); an answer refusing the token
//! refreshes it once and tries again. Calls wait for their operation's
//! token bucket, and a 429 (Amazon sends no `Retry-After`) is retried after
//! an exponential back-off with jitter, a bounded number of times.
//! Neither the credentials nor the tokens are ever logged.

use super::limiter::{Limiter, MESSAGING, Plan};
use super::{AmazonSettings, MessageAction, UploadedFile};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use ferry_core::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What went wrong calling Amazon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmazonError {
    /// Amazon refused the request; its message says why and is safe to
    /// show.
    #[error("Amazon refused the request: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Amazon's error code (`InvalidInput`).
        code: String,
        /// Amazon's message.
        message: String,
    },
    /// Amazon did not answer, failed, or throttled past the retries: try
    /// again later.
    #[error("Amazon is not answering or is busy ({0}); try again later")]
    RetryLater(String),
    /// Login with Amazon or the API refused the credentials.
    #[error("Amazon refused the connection's credentials ({0}); an admin must renew them")]
    BadCredentials(String),
}

/// How the client retries and waits.
#[derive(Clone)]
pub struct ClientOptions {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The first back-off after a 429 or a failure; doubles every time.
    pub backoff: Duration,
    /// The longest back-off.
    pub max_backoff: Duration,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// A token is refreshed this long before it expires (at most half its
    /// lifetime).
    pub refresh_early: ChronoDuration,
    /// Rate plans by operation; Amazon's default plan otherwise.
    pub plans: Vec<(&'static str, Plan)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            timeout: Duration::from_secs(15),
            refresh_early: ChronoDuration::seconds(60),
            plans: Vec::new(),
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

struct Token {
    value: String,
    refresh_at: DateTime<Utc>,
}

/// The client of one seller's Selling Partner API.
pub struct AmazonClient {
    http: reqwest::Client,
    settings: AmazonSettings,
    opts: ClientOptions,
    clock: Arc<dyn Clock>,
    token: tokio::sync::Mutex<Option<Token>>,
    limiter: Limiter,
    token_calls: AtomicU64,
    throttled: AtomicU64,
}

impl fmt::Debug for AmazonClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmazonClient")
            .field("endpoint", &self.settings.endpoint)
            .field("marketplace_id", &self.settings.marketplace_id)
            .finish_non_exhaustive()
    }
}

/// Amazon's `errors` envelope: the first error's code and message.
fn first_error(body: &Value) -> (String, String) {
    let e = body["errors"].as_array().and_then(|a| a.first());
    let code = e.and_then(|e| e["code"].as_str()).unwrap_or_default().to_owned();
    let message = e.and_then(|e| e["message"].as_str()).unwrap_or_default().to_owned();
    (code, message)
}

fn auth_refused(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::UNAUTHORIZED || (status == StatusCode::FORBIDDEN && first_error(body).0 == "Unauthorized")
}

/// The names of a HAL `_links.actions` list.
fn action_names(v: &Value) -> Vec<String> {
    v["_links"]["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str().map(str::to_owned))
        .collect()
}

impl AmazonClient {
    /// A client for `settings`, timing tokens on `clock`.
    pub fn new(settings: AmazonSettings, opts: ClientOptions, clock: Arc<dyn Clock>) -> Result<Self, AmazonError> {
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .build()
            .map_err(|_| AmazonError::RetryLater("the HTTP client could not be built".to_owned()))?;
        Ok(Self {
            http,
            settings,
            opts,
            clock,
            token: tokio::sync::Mutex::new(None),
            limiter: Limiter::default(),
            token_calls: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
        })
    }

    /// The settings it calls with.
    pub fn settings(&self) -> &AmazonSettings {
        &self.settings
    }

    /// Token requests made so far.
    pub fn token_calls(&self) -> u64 {
        self.token_calls.load(Ordering::SeqCst)
    }

    /// 429s received so far.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    fn plan(&self, operation: &str) -> Plan {
        self.opts.plans.iter().find(|(o, _)| *o == operation).map_or(MESSAGING, |(_, p)| *p)
    }

    /// A valid access token: the cached one, or a fresh one (`force`: a
    /// fresh one unless another caller refreshed it meanwhile).
    async fn access_token(&self, force: Option<&str>) -> Result<String, AmazonError> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref() {
            let rejected = force.is_some_and(|f| f == t.value);
            if !rejected && self.clock.now() < t.refresh_at {
                return Ok(t.value.clone());
            }
        }
        let c = &self.settings.credentials;
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", c.refresh_token.expose())
            .append_pair("client_id", &c.client_id)
            .append_pair("client_secret", c.client_secret.expose())
            .finish();
        self.token_calls.fetch_add(1, Ordering::SeqCst);
        let resp = self
            .http
            .post(&c.token_url)
            .header("content-type", "application/x-www-form-urlencoded;charset=UTF-8")
            .body(form)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e.without_url(), "Login with Amazon did not answer");
                AmazonError::RetryLater("Login with Amazon did not answer".to_owned())
            })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let error = body["error"].as_str().unwrap_or("unknown").to_owned();
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                return Err(AmazonError::RetryLater(format!("Login with Amazon answered HTTP {}", status.as_u16())));
            }
            let description = body["error_description"].as_str().unwrap_or_default();
            return Err(AmazonError::BadCredentials(format!("{error}: {description}")));
        }
        let (Some(value), Some(expires_in)) = (body["access_token"].as_str(), body["expires_in"].as_i64()) else {
            return Err(AmazonError::RetryLater("Login with Amazon's answer could not be read".to_owned()));
        };
        let lifetime = ChronoDuration::seconds(expires_in.max(0));
        let early = self.opts.refresh_early.min(lifetime / 2);
        let token = Token { value: value.to_owned(), refresh_at: self.clock.now() + lifetime - early };
        let out = token.value.clone();
        *slot = Some(token);
        Ok(out)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.opts.backoff.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let base = base.min(self.opts.max_backoff);
        // Jitter between half and all of the back-off spreads out clients
        // that were throttled together.
        base.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }

    /// One call with the rate limit, token handling and retries.
    async fn call(
        &self,
        method: Method,
        operation: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, AmazonError> {
        let url = format!(
            "{}{path}?{}",
            self.settings.endpoint,
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("marketplaceIds", &self.settings.marketplace_id)
                .finish()
        );
        let mut refreshed = false;
        let mut rejected: Option<String> = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.access_token(rejected.as_deref()).await?;
            self.limiter.acquire(operation, self.plan(operation)).await;
            let mut req = self.http.request(method.clone(), &url).header("x-amz-access-token", &token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let v: Value = resp.json().await.unwrap_or(Value::Null);
                    Ok((status, v))
                }
                Err(e) => Err(e.without_url().to_string()),
            };
            let retry = match outcome {
                Ok((status, v)) if status.is_success() => return Ok(v),
                Ok((status, v)) if auth_refused(status, &v) => {
                    if refreshed {
                        let (_, message) = first_error(&v);
                        return Err(AmazonError::BadCredentials(message));
                    }
                    refreshed = true;
                    rejected = Some(token);
                    // A refused token is retried at once with a fresh one.
                    attempt -= 1;
                    continue;
                }
                Ok((StatusCode::TOO_MANY_REQUESTS, _)) => {
                    self.throttled.fetch_add(1, Ordering::SeqCst);
                    "throttled (HTTP 429)".to_owned()
                }
                Ok((status, _)) if status.is_server_error() => format!("HTTP {}", status.as_u16()),
                Ok((status, v)) => {
                    let (code, message) = first_error(&v);
                    let message = if message.is_empty() { format!("HTTP {}", status.as_u16()) } else { message };
                    return Err(AmazonError::Refused { status: status.as_u16(), code, message });
                }
                Err(e) => {
                    tracing::warn!(error = %e, operation, "an Amazon call failed");
                    "no answer".to_owned()
                }
            };
            if attempt >= self.opts.max_attempts {
                tracing::warn!(operation, attempts = attempt, reason = %retry, "giving up on an Amazon call");
                return Err(AmazonError::RetryLater(format!("{retry} after {attempt} attempts")));
            }
            let wait = self.backoff(attempt);
            tracing::info!(operation, attempt, wait_ms = wait.as_millis() as u64, reason = %retry, "retrying an Amazon call");
            tokio::time::sleep(wait).await;
        }
    }

    fn order_path(prefix: &str, order: &str, tail: &str) -> Result<String, AmazonError> {
        let ok =
            !order.is_empty() && order.len() <= 64 && order.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(AmazonError::Refused {
                status: 400,
                code: "InvalidInput".to_owned(),
                message: format!("`{order}` is not an Amazon order id"),
            });
        }
        Ok(format!("{prefix}/{order}{tail}"))
    }

    /// The messages Amazon allows for an order now
    /// (`getMessagingActionsForOrder`), by their action names.
    pub async fn messaging_actions(&self, order: &str) -> Result<Vec<String>, AmazonError> {
        let path = Self::order_path("/messaging/v1/orders", order, "")?;
        let v = self.call(Method::GET, "getMessagingActionsForOrder", &path, None).await?;
        Ok(action_names(&v))
    }

    /// Sends a message about an order.
    pub async fn send_message(
        &self,
        order: &str,
        action: MessageAction,
        text: Option<&str>,
        attachments: &[UploadedFile],
    ) -> Result<(), AmazonError> {
        let path = Self::order_path("/messaging/v1/orders", order, &format!("/messages/{}", action.as_str()))?;
        let mut body = json!({});
        if let (Some(t), Some(o)) = (text, body.as_object_mut()) {
            o.insert("text".into(), Value::from(t));
        }
        if !attachments.is_empty()
            && let Some(o) = body.as_object_mut()
        {
            o.insert("attachments".into(), json!(attachments));
        }
        self.call(Method::POST, action.operation(), &path, Some(&body)).await.map(drop)
    }

    /// The solicitations Amazon allows for an order now.
    pub async fn solicitation_actions(&self, order: &str) -> Result<Vec<String>, AmazonError> {
        let path = Self::order_path("/solicitations/v1/orders", order, "")?;
        let v = self.call(Method::GET, "getSolicitationActionsForOrder", &path, None).await?;
        Ok(action_names(&v))
    }

    /// Asks Amazon to request a product review and seller feedback from
    /// the buyer.
    pub async fn request_review(&self, order: &str) -> Result<(), AmazonError> {
        let path =
            Self::order_path("/solicitations/v1/orders", order, "/solicitations/productReviewAndSellerFeedback")?;
        self.call(Method::POST, "createProductReviewAndSellerFeedbackSolicitation", &path, Some(&json!({})))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_errors_are_read_from_the_envelope() {
        let v = json!({ "errors": [{ "code": "InvalidInput", "message": "Too late", "details": "" }] });
        assert_eq!(first_error(&v), ("InvalidInput".to_owned(), "Too late".to_owned()));
        assert!(auth_refused(StatusCode::FORBIDDEN, &json!({ "errors": [{ "code": "Unauthorized", "message": "" }] })));
        assert!(!auth_refused(StatusCode::FORBIDDEN, &v));
        assert!(AmazonClient::order_path("/x", "../admin", "").is_err());
        let links = json!({ "_links": { "actions": [{ "href": "/a", "name": "invoice" }] } });
        assert_eq!(action_names(&links), vec!["invoice".to_owned()]);
    }
}
