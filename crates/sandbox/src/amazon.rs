//! A local stand-in for Amazon's Selling Partner API as a seller's app
//! sees it: the Login with Amazon token endpoint (`POST /auth/o2/token`,
//! refresh-token grant), the Messaging API (`getMessagingActionsForOrder`
//! and the message operations) and the Solicitations API (the actions of
//! an order and `productReviewAndSellerFeedback`), with Amazon's request
//! and answer shapes: access tokens in `x-amz-access-token` that expire,
//! a token bucket per operation answering 429 `QuotaExceeded` (without
//! `Retry-After`, like Amazon), the `{errors: [{code, message, details}]}`
//! envelope, and faults on demand. Orders are seeded with their purchase
//! and delivery dates; a review may be requested once per order, 5 to 30
//! days after delivery, counted on the clock it is given. Every call is
//! recorded.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use ferry_core::clock::Clock;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The North America marketplace (amazon.com).
pub const MARKETPLACE_US: &str = "ATVPDKIKX0DER";
/// The LWA client id the stand-in accepts by default.
pub const CLIENT_ID: &str = "amzn1.application-oa2-client.ferrysandbox";
/// The LWA client secret the stand-in accepts by default.
pub const CLIENT_SECRET: &str = "sandbox-lwa-client-secret";
/// The refresh token the stand-in accepts by default.
pub const REFRESH_TOKEN: &str = "Atzr|sandbox-refresh-token";

/// The message operations: path segment under `/messages/`, the
/// operation's name, and whether it carries `text` (else `attachments`).
pub const MESSAGE_OPERATIONS: [(&str, &str, bool); 9] = [
    ("confirmCustomizationDetails", "confirmCustomizationDetails", true),
    ("confirmDeliveryDetails", "createConfirmDeliveryDetails", true),
    ("legalDisclosure", "createLegalDisclosure", false),
    ("confirmOrderDetails", "createConfirmOrderDetails", true),
    ("confirmServiceDetails", "createConfirmServiceDetails", true),
    ("warranty", "CreateWarranty", false),
    ("digitalAccessKey", "createDigitalAccessKey", true),
    ("unexpectedProblem", "createUnexpectedProblem", true),
    ("invoice", "sendInvoice", false),
];

/// The solicitation Amazon offers.
pub const REVIEW_SOLICITATION: &str = "productReviewAndSellerFeedback";

/// An order the stand-in knows.
#[derive(Debug, Clone)]
pub struct SeededOrder {
    /// `123-1234567-1234567`.
    pub id: String,
    /// When it was bought.
    pub purchased_at: DateTime<Utc>,
    /// When it was delivered, if it was.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The message operations (path segments) available for it; all of
    /// them when `None`.
    pub actions: Option<Vec<String>>,
}

impl SeededOrder {
    /// An order bought at `purchased_at`, delivered at `delivered_at`,
    /// with every message operation available.
    pub fn new(id: &str, purchased_at: DateTime<Utc>, delivered_at: Option<DateTime<Utc>>) -> Self {
        Self { id: id.to_owned(), purchased_at, delivered_at, actions: None }
    }
}

/// A rate plan: requests per second restored, and the bucket's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePlan {
    /// Requests per second.
    pub rate: f64,
    /// Burst.
    pub burst: u32,
}

/// Amazon's default plan for the Messaging and Solicitations operations.
pub const DEFAULT_PLAN: RatePlan = RatePlan { rate: 1.0, burst: 5 };

/// What the stand-in accepts and how it behaves.
#[derive(Clone)]
pub struct AmazonOptions {
    /// Accepted LWA client id.
    pub client_id: String,
    /// Accepted LWA client secret.
    pub client_secret: String,
    /// Accepted refresh token.
    pub refresh_token: String,
    /// Lifetime of issued access tokens (Amazon: 3600 s).
    pub token_ttl: Duration,
    /// The marketplace its orders are in.
    pub marketplace_id: String,
    /// The plan of every operation not in `plans`.
    pub default_plan: RatePlan,
    /// Plans by operation name (`createConfirmDeliveryDetails`).
    pub plans: HashMap<String, RatePlan>,
    /// Orders.
    pub orders: Vec<SeededOrder>,
    /// The time tokens expire and review windows are counted in.
    pub clock: Arc<dyn Clock>,
}

impl Default for AmazonOptions {
    fn default() -> Self {
        Self {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            refresh_token: REFRESH_TOKEN.to_owned(),
            token_ttl: Duration::seconds(3600),
            marketplace_id: MARKETPLACE_US.to_owned(),
            default_plan: DEFAULT_PLAN,
            plans: HashMap::new(),
            orders: Vec::new(),
            clock: Arc::new(ferry_core::clock::SystemClock),
        }
    }
}

/// One call the stand-in received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `GET`, `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The operation (`createUnexpectedProblem`, `token`).
    pub operation: String,
    /// The JSON body (`Null` when none; the token call's form is not kept).
    pub body: Value,
    /// The status answered.
    pub status: u16,
}

#[derive(Default)]
struct State_ {
    tokens: HashMap<String, DateTime<Utc>>,
    buckets: HashMap<String, (f64, Instant)>,
    calls: Vec<Call>,
    solicited: HashSet<String>,
    refusals: HashMap<(String, String), String>,
    faults: Vec<u16>,
    plans: HashMap<String, RatePlan>,
    orders: HashMap<String, SeededOrder>,
}

struct Shared {
    opts: AmazonOptions,
    addr: SocketAddr,
    issued: AtomicU64,
    state: Mutex<State_>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running stand-in; stops when dropped.
pub struct MockAmazon {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockAmazon {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockAmazon {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start(opts: AmazonOptions) -> std::io::Result<MockAmazon> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = State_ {
            plans: opts.plans.clone(),
            orders: opts.orders.iter().map(|o| (o.id.clone(), o.clone())).collect(),
            ..State_::default()
        };
        let shared = Arc::new(Shared { opts, addr, issued: AtomicU64::new(0), state: Mutex::new(state) });
        let app =
            Router::new().fallback(handle).with_state(shared.clone()).layer(axum::middleware::map_response(crate::tag));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the Amazon stand-in stopped");
            }
        });
        Ok(MockAmazon { shared, task })
    }

    /// The Selling Partner API endpoint (`http://127.0.0.1:port`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The LWA token URL.
    pub fn token_url(&self) -> String {
        format!("http://{}/auth/o2/token", self.shared.addr)
    }

    /// Access tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// Every call received, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.state().calls.clone()
    }

    /// Calls of one operation.
    pub fn calls_of(&self, operation: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.operation == operation).collect()
    }

    /// Adds or replaces an order.
    pub fn seed(&self, order: SeededOrder) {
        self.shared.state().orders.insert(order.id.clone(), order);
    }

    /// Sets an operation's rate plan.
    pub fn set_plan(&self, operation: &str, plan: RatePlan) {
        let mut s = self.shared.state();
        s.plans.insert(operation.to_owned(), plan);
        s.buckets.remove(operation);
    }

    /// Makes every access token issued so far expire (as if their hour
    /// had passed).
    pub fn expire_tokens(&self) {
        let now = self.shared.opts.clock.now();
        for t in self.shared.state().tokens.values_mut() {
            *t = now - Duration::seconds(1);
        }
    }

    /// Refuses a message operation (path segment) on an order with
    /// Amazon's `InvalidInput` and `message`.
    pub fn refuse(&self, order: &str, operation: &str, message: &str) {
        self.shared.state().refusals.insert((order.to_owned(), operation.to_owned()), message.to_owned());
    }

    /// The next API calls (not token calls) are answered with these
    /// statuses (500, 503), one each.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.shared.state().faults.extend_from_slice(statuses);
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = Response::new(axum::body::Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn errors(status: StatusCode, code: &str, message: &str, details: &str) -> Response {
    json_response(status, &json!({ "errors": [{ "code": code, "message": message, "details": details }] }))
}

fn invalid(message: &str) -> Response {
    errors(StatusCode::BAD_REQUEST, "InvalidInput", message, "")
}

/// What a request is: an operation name and the order it is about.
enum Route {
    Token,
    MessagingActions(String),
    Message(String, &'static str, &'static str, bool),
    SolicitationActions(String),
    Review(String),
}

fn route(method: &Method, path: &str) -> Option<Route> {
    if path == "/auth/o2/token" && method == Method::POST {
        return Some(Route::Token);
    }
    if let Some(rest) = path.strip_prefix("/messaging/v1/orders/") {
        return match rest.split_once('/') {
            None if method == Method::GET => Some(Route::MessagingActions(rest.to_owned())),
            Some((order, tail)) if method == Method::POST => {
                let segment = tail.strip_prefix("messages/")?;
                let (seg, op, text) = MESSAGE_OPERATIONS.iter().find(|(s, _, _)| *s == segment)?;
                Some(Route::Message(order.to_owned(), seg, op, *text))
            }
            _ => None,
        };
    }
    if let Some(rest) = path.strip_prefix("/solicitations/v1/orders/") {
        return match rest.split_once('/') {
            None if method == Method::GET => Some(Route::SolicitationActions(rest.to_owned())),
            Some((order, tail)) if method == Method::POST && tail == format!("solicitations/{REVIEW_SOLICITATION}") => {
                Some(Route::Review(order.to_owned()))
            }
            _ => None,
        };
    }
    None
}

fn operation_name(r: &Route) -> &'static str {
    match r {
        Route::Token => "token",
        Route::MessagingActions(_) => "getMessagingActionsForOrder",
        Route::Message(_, _, op, _) => op,
        Route::SolicitationActions(_) => "getSolicitationActionsForOrder",
        Route::Review(_) => "createProductReviewAndSellerFeedbackSolicitation",
    }
}

async fn handle(State(s): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let Some(r) = route(&method, &path) else {
        return errors(StatusCode::NOT_FOUND, "NotFound", "The requested resource was not found.", "");
    };
    let operation = operation_name(&r);
    let recorded_body = match &r {
        Route::Token => Value::Null,
        _ => serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let response = answer(&s, &r, operation, &query, &headers, &body);
    s.state().calls.push(Call {
        method: method.to_string(),
        path,
        query,
        operation: operation.to_owned(),
        body: recorded_body,
        status: response.status().as_u16(),
    });
    response
}

fn take_token(s: &Shared, operation: &str) -> bool {
    let mut st = s.state();
    let plan = st.plans.get(operation).copied().unwrap_or(s.opts.default_plan);
    let now = Instant::now();
    let (tokens, at) = st.buckets.get(operation).copied().unwrap_or((f64::from(plan.burst), now));
    let tokens = (tokens + now.duration_since(at).as_secs_f64() * plan.rate).min(f64::from(plan.burst));
    let (left, ok) = if tokens >= 1.0 { (tokens - 1.0, true) } else { (tokens, false) };
    st.buckets.insert(operation.to_owned(), (left, now));
    ok
}

fn answer(s: &Shared, r: &Route, operation: &str, query: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Route::Token = r {
        return token(s, body);
    }
    let now = s.opts.clock.now();
    let token = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match s.state().tokens.get(token) {
        None => {
            return errors(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is revoked, malformed or invalid.",
            );
        }
        Some(exp) if *exp <= now => {
            return errors(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            );
        }
        Some(_) => {}
    }
    if !take_token(s, operation) {
        return errors(
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            "",
        );
    }
    let fault = {
        let mut st = s.state();
        (!st.faults.is_empty()).then(|| st.faults.remove(0))
    };
    if let Some(code) = fault {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return errors(status, "InternalFailure", "We encountered an internal error. Please try again.", "");
    }
    let marketplaces: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "marketplaceIds")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    if marketplaces.is_empty() {
        return invalid("Missing required parameter: marketplaceIds");
    }
    if !marketplaces.contains(&s.opts.marketplace_id) {
        return invalid("Invalid marketplaceIds: the order is not in these marketplaces");
    }
    let order_id = match r {
        Route::MessagingActions(o) | Route::Message(o, ..) | Route::SolicitationActions(o) | Route::Review(o) => o,
        Route::Token => return invalid("unexpected"),
    };
    let Some(order) = s.state().orders.get(order_id).cloned() else {
        return errors(StatusCode::NOT_FOUND, "NotFound", "The requested resource was not found.", "");
    };
    let mq = format!("marketplaceIds={}", s.opts.marketplace_id);
    match r {
        Route::MessagingActions(_) => {
            let available = available_messages(&order, now);
            let links: Vec<Value> = available
                .iter()
                .map(|a| json!({ "href": format!("/messaging/v1/orders/{order_id}/messages/{a}?{mq}"), "name": a }))
                .collect();
            let embedded: Vec<Value> = available
                .iter()
                .map(|a| {
                    json!({ "_links": {
                        "self": { "href": format!("/messaging/v1/orders/{order_id}/messages/{a}?{mq}"), "name": a },
                        "schema": { "href": format!("/messaging/v1/orders/{order_id}/messages/{a}/schema"), "name": a },
                    }})
                })
                .collect();
            json_response(
                StatusCode::OK,
                &json!({
                    "_links": { "self": { "href": format!("/messaging/v1/orders/{order_id}?{mq}") }, "actions": links },
                    "_embedded": { "actions": embedded },
                }),
            )
        }
        Route::Message(_, segment, _, text) => {
            let Ok(req) = serde_json::from_slice::<Value>(body) else {
                return invalid("The request body is not valid JSON.");
            };
            if *text {
                let n = req["text"].as_str().map_or(0, |t| t.chars().count());
                if !(1..=2000).contains(&n) {
                    return invalid("text: the length must be between 1 and 2000 characters.");
                }
            }
            if let Some(list) = req.get("attachments") {
                let ok = list.as_array().is_some_and(|a| {
                    a.len() <= 5 && a.iter().all(|x| x["uploadDestinationId"].is_string() && x["fileName"].is_string())
                });
                if !ok {
                    return invalid("attachments: at most 5, each with uploadDestinationId and fileName.");
                }
            } else if !*text && *segment != "legalDisclosure" {
                return invalid("attachments: at least one attachment is required.");
            }
            if let Some(m) = s.state().refusals.get(&(order_id.clone(), (*segment).to_owned())) {
                return invalid(m);
            }
            if !available_messages(&order, now).iter().any(|a| a == segment) {
                return invalid(&format!("The {segment} message cannot be sent for order {order_id}."));
            }
            json_response(StatusCode::CREATED, &json!({}))
        }
        Route::SolicitationActions(_) => {
            let allowed = review_refusal(s, &order, now).is_none();
            let links: Vec<Value> = if allowed {
                vec![json!({
                    "href": format!("/solicitations/v1/orders/{order_id}/solicitations/{REVIEW_SOLICITATION}?{mq}"),
                    "name": REVIEW_SOLICITATION,
                })]
            } else {
                Vec::new()
            };
            json_response(
                StatusCode::OK,
                &json!({
                    "_links": { "self": { "href": format!("/solicitations/v1/orders/{order_id}?{mq}") }, "actions": links },
                    "_embedded": { "actions": links.iter().map(|l| json!({ "_links": { "self": l, "schema": l } })).collect::<Vec<_>>() },
                }),
            )
        }
        Route::Review(_) => {
            if let Some(why) = review_refusal(s, &order, now) {
                return invalid(&why);
            }
            s.state().solicited.insert(order_id.clone());
            json_response(StatusCode::CREATED, &json!({}))
        }
        Route::Token => invalid("unexpected"),
    }
}

/// The message operations an order allows now: Amazon lets sellers write
/// proactively for 30 days after the purchase.
fn available_messages(order: &SeededOrder, now: DateTime<Utc>) -> Vec<String> {
    if now > order.purchased_at + Duration::days(30) {
        return vec!["legalDisclosure".to_owned()];
    }
    match &order.actions {
        Some(a) => a.clone(),
        None => MESSAGE_OPERATIONS.iter().map(|(s, _, _)| (*s).to_owned()).collect(),
    }
}

fn review_refusal(s: &Shared, order: &SeededOrder, now: DateTime<Utc>) -> Option<String> {
    if s.state().solicited.contains(&order.id) {
        return Some("A solicitation has already been sent for this order.".to_owned());
    }
    let Some(delivered) = order.delivered_at else {
        return Some("The order has not been delivered yet.".to_owned());
    };
    if now < delivered + Duration::days(5) || now > delivered + Duration::days(30) {
        return Some("Solicitations can only be sent between 5 and 30 days after the order was delivered.".to_owned());
    }
    None
}

fn token(s: &Shared, body: &[u8]) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let lwa = |status: StatusCode, error: &str, description: &str| {
        json_response(status, &json!({ "error": error, "error_description": description }))
    };
    if get("grant_type") != "refresh_token" {
        return lwa(StatusCode::BAD_REQUEST, "unsupported_grant_type", "The authorization grant type is not supported");
    }
    if get("client_id") != s.opts.client_id || get("client_secret") != s.opts.client_secret {
        return lwa(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    if get("refresh_token") != s.opts.refresh_token {
        return lwa(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let access = format!("Atza|sandbox-access-token-{n}");
    let expires = s.opts.clock.now() + s.opts.token_ttl;
    s.state().tokens.insert(access.clone(), expires);
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "refresh_token": s.opts.refresh_token,
            "token_type": "bearer",
            "expires_in": s.opts.token_ttl.num_seconds(),
        }),
    )
}
