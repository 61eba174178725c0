//! Resumable backfill of a Shopify shop through the Admin REST API.
//!
//! Pages are fetched with Shopify's cursor pagination (the `Link` header's
//! `rel="next"` URL and its `page_info`), each page is applied to the mirror
//! (newest wins, so re-applying a page changes nothing), and then the
//! cursor of the next page is stored per (connection, resource). A run
//! after an interruption continues from the stored cursor; a finished
//! resource starts over only when asked to.
//!
//! Rate limits: a 429 is waited out for its `Retry-After` (fractional
//! seconds allowed); `X-Shopify-Shop-Api-Call-Limit: used/size` slows the
//! client down before the bucket is full (REST buckets leak 2 requests/s).
//! 5xx answers and network errors are retried with exponential back-off, a
//! bounded number of times.

use chrono::Utc;
use ferry_commerce::MirrorWrite;
use ferry_commerce::shopify;
use ferry_core::{AccountId, ShopConnectionId};
use ferry_storage::{ShopConnection, ShopSyncState, Storage, StorageError};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Page size (Shopify's maximum).
pub const PAGE_SIZE: u32 = 250;

/// A resource that can be backfilled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `orders.json` (every status), with embedded fulfilments and refunds.
    Orders,
    /// `products.json`.
    Products,
    /// `customers.json`.
    Customers,
    /// `inventory_levels.json`: stock per inventory item and location, for
    /// every location of `locations.json` (50 locations per pass, as
    /// Shopify allows).
    InventoryLevels,
}

/// Locations per `inventory_levels.json` query (Shopify's maximum).
pub const LOCATIONS_PER_QUERY: usize = 50;

/// Where a stock-level backfill stands: at the first page of the group of
/// locations `group`, or at a later page of it (`more`: groups follow).
/// Stored as `loc:{group}` or `{group}:{0|1}:{page_info}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelCursor {
    /// The first page of a group of locations.
    Group(usize),
    /// A later page of a group.
    Page {
        /// The group.
        group: usize,
        /// Groups follow this one.
        more: bool,
        /// Shopify's cursor.
        page_info: String,
    },
}

impl LevelCursor {
    /// Reads a stored cursor.
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(g) = s.strip_prefix("loc:") {
            return g.parse().ok().map(LevelCursor::Group);
        }
        let mut parts = s.splitn(3, ':');
        let group = parts.next()?.parse().ok()?;
        let more = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let page_info = parts.next().filter(|p| !p.is_empty())?.to_owned();
        Some(LevelCursor::Page { group, more, page_info })
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        match self {
            LevelCursor::Group(g) => format!("loc:{g}"),
            LevelCursor::Page { group, more, page_info } => format!("{group}:{}:{page_info}", u8::from(*more)),
        }
    }

    /// The cursor after a page of `group` whose next page is `next`.
    fn after(group: usize, more: bool, next: Option<String>) -> Option<Self> {
        match next {
            Some(page_info) => Some(LevelCursor::Page { group, more, page_info }),
            None if more => Some(LevelCursor::Group(group + 1)),
            None => None,
        }
    }
}

impl Resource {
    /// Every resource, in backfill order.
    pub const ALL: [Resource; 4] =
        [Resource::Products, Resource::InventoryLevels, Resource::Customers, Resource::Orders];

    /// Name in URLs, responses and the sync state.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Orders => "orders",
            Resource::Products => "products",
            Resource::Customers => "customers",
            Resource::InventoryLevels => "inventory_levels",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "orders" => Some(Resource::Orders),
            "products" => Some(Resource::Products),
            "customers" => Some(Resource::Customers),
            "inventory_levels" | "inventory" | "stock" => Some(Resource::InventoryLevels),
            _ => None,
        }
    }

    /// Query of the first page (filters go only there: later pages carry
    /// them in `page_info`).
    fn first_query(self) -> &'static str {
        match self {
            Resource::Orders => "status=any&",
            Resource::Products | Resource::Customers | Resource::InventoryLevels => "",
        }
    }

    fn writes(self, v: &Value) -> Result<Vec<MirrorWrite>, shopify::PayloadError> {
        Ok(match self {
            Resource::Orders => shopify::order_writes(v)?,
            Resource::Products => vec![MirrorWrite::Product(shopify::product(v)?)],
            Resource::Customers => vec![MirrorWrite::Customer(shopify::customer(v)?)],
            Resource::InventoryLevels => shopify::inventory_level(v)?.map(MirrorWrite::Inventory).into_iter().collect(),
        })
    }
}

/// Why a backfill stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The connection does not exist.
    #[error("shop connection {0} not found")]
    NoConnection(ShopConnectionId),
    /// The connection has no Admin API URL or token.
    #[error("shop connection {0} has no Admin API URL and access token; set api_url and access_token first")]
    NotConfigured(ShopConnectionId),
    /// Shopify refused the token (401/403).
    #[error("Shopify refused the access token (HTTP {status}) for {url}: {message}")]
    Unauthorized {
        /// Status.
        status: u16,
        /// URL without its query.
        url: String,
        /// Shopify's `errors`.
        message: String,
    },
    /// Another 4xx answer.
    #[error("Shopify answered HTTP {status} for {url}: {message}")]
    Rejected {
        /// Status.
        status: u16,
        /// URL without its query.
        url: String,
        /// Shopify's `errors`.
        message: String,
    },
    /// 5xx answers, network errors or 429s went on for too long.
    #[error("gave up on {url} after {attempts} attempts: {last}")]
    GaveUp {
        /// URL without its query.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// A response that is not the documented shape.
    #[error("unexpected response from {url}: {message}")]
    Malformed {
        /// URL without its query.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A record Ferry cannot read.
    #[error("{resource} record {id}: {error}")]
    Payload {
        /// Resource.
        resource: &'static str,
        /// Its id, if any.
        id: String,
        /// The parse error.
        error: shopify::PayloadError,
    },
    /// The store failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

/// How the client paces and retries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Attempts per request (5xx, network errors, 429s) before giving up.
    pub max_attempts: u32,
    /// First back-off after a 5xx or network error; doubles each time.
    pub backoff: Duration,
    /// Longest back-off.
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured as is.
    pub max_retry_after: Duration,
    /// Requests per second the shop's bucket leaks (REST: 2).
    pub leak_per_sec: f64,
    /// Requests kept free in the bucket: when fewer are free, wait.
    pub reserve: u32,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            max_attempts: 8,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            leak_per_sec: 2.0,
            reserve: 4,
            timeout: Duration::from_secs(60),
        }
    }
}

/// Counters of one client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Successful page or count requests.
    pub requests: u64,
    /// 429 answers waited out.
    pub throttled: u64,
    /// 5xx answers and network errors retried.
    pub retried: u64,
    /// Pauses made because the bucket was nearly full.
    pub paced: u64,
}

/// A client of one shop's Admin REST API.
#[derive(Clone)]
pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: String,
    opts: ClientOptions,
    stats: Arc<std::sync::Mutex<ClientStats>>,
}

/// One page of a resource.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records.
    pub items: Vec<Value>,
    /// `page_info` of the next page, if any.
    pub next: Option<String>,
}

/// `page_info` of the `rel="next"` link of a `Link` header.
pub fn next_page_info(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        if !is_next {
            return None;
        }
        let url = url::Url::parse(url.trim().trim_start_matches('<').trim_end_matches('>')).ok()?;
        url.query_pairs().find(|(k, _)| k == "page_info").map(|(_, v)| v.into_owned())
    })
}

/// `(used, size)` of `X-Shopify-Shop-Api-Call-Limit`.
pub fn parse_call_limit(v: &str) -> Option<(u32, u32)> {
    let (used, size) = v.trim().split_once('/')?;
    Some((used.trim().parse().ok()?, size.trim().parse().ok()?))
}

/// How long to wait before the next request so that `reserve` requests
/// stay free in a bucket of `size` with `used` taken, leaking `leak` per
/// second.
pub fn pacing_delay(used: u32, size: u32, reserve: u32, leak: f64) -> Duration {
    let limit = size.saturating_sub(reserve).max(1);
    if used < limit || leak <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(f64::from(used - limit + 1) / leak)
}

/// Seconds of a `Retry-After` header (Shopify sends e.g. `2.0`).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let s: f64 = v.trim().parse().ok()?;
    (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s))
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_owned()
}

fn errors_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match &v["errors"] {
        Value::String(s) => s.clone(),
        Value::Null => body.chars().take(200).collect(),
        other => other.to_string(),
    }
}

impl AdminClient {
    /// A client of `base` (`https://shop.myshopify.com/admin/api/2024-01`).
    pub fn new(base: &str, token: &str, opts: ClientOptions) -> Result<Self, SyncError> {
        let http = reqwest::Client::builder().timeout(opts.timeout).build().map_err(|e| SyncError::Malformed {
            url: base.to_owned(),
            message: format!("cannot build the HTTP client: {e}"),
        })?;
        Ok(AdminClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            opts,
            stats: Arc::default(),
        })
    }

    /// The client of a connection.
    pub fn for_connection(c: &ShopConnection, opts: ClientOptions) -> Result<Self, SyncError> {
        match (&c.api_url, &c.access_token) {
            (Some(u), Some(t)) if !u.is_empty() && !t.is_empty() => Self::new(u, t, opts),
            _ => Err(SyncError::NotConfigured(c.id)),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> ClientStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut ClientStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    /// GETs `url` with retries; returns the body and the `Link` header.
    async fn get(&self, url: &str) -> Result<(Value, Option<String>), SyncError> {
        self.send(reqwest::Method::GET, url, None).await
    }

    /// Sends a request (with a JSON body, if any) to `path` under the API base
    /// (`/orders/1/cancel.json`) and returns the JSON answer. 429s are
    /// waited out; 5xx answers and network errors are retried only for
    /// idempotent methods (a POST that may have been done is not repeated).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, SyncError> {
        let url = format!("{}{path}", self.base);
        Ok(self.send(method, &url, body).await?.0)
    }

    /// Sends a request with retries; returns the body and the `Link` header.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(Value, Option<String>), SyncError> {
        let retry_failures = method.is_idempotent();
        let mut backoff = self.opts.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.http.request(method.clone(), url).header("X-Shopify-Access-Token", &self.token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let last = match req.send().await {
                Err(e) => format!("network error: {}", without_url(&e)),
                Ok(r) => {
                    let status = r.status();
                    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let link = header("link");
                    let limit = header("x-shopify-shop-api-call-limit").and_then(|v| parse_call_limit(&v));
                    let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
                    if status.as_u16() == 429 {
                        let wait = retry_after.unwrap_or(Duration::from_secs(2)).min(self.opts.max_retry_after);
                        self.count(|s| s.throttled += 1);
                        if attempt >= self.opts.max_attempts {
                            return Err(SyncError::GaveUp {
                                url: strip_query(url),
                                attempts: attempt,
                                last: "HTTP 429 Too Many Requests".into(),
                            });
                        }
                        tracing::debug!(wait_ms = wait.as_millis() as u64, "Shopify rate limit: waiting");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    match r.text().await {
                        Err(e) => format!("network error reading the body: {}", without_url(&e)),
                        Ok(body) if status.is_success() => {
                            let v = serde_json::from_str(&body).map_err(|e| SyncError::Malformed {
                                url: strip_query(url),
                                message: format!("not JSON: {e}"),
                            })?;
                            self.count(|s| s.requests += 1);
                            if let Some((used, size)) = limit {
                                let wait = pacing_delay(used, size, self.opts.reserve, self.opts.leak_per_sec);
                                if !wait.is_zero() {
                                    self.count(|s| s.paced += 1);
                                    tokio::time::sleep(wait).await;
                                }
                            }
                            return Ok((v, link));
                        }
                        Ok(body) if status.as_u16() == 401 || status.as_u16() == 403 => {
                            return Err(SyncError::Unauthorized {
                                status: status.as_u16(),
                                url: strip_query(url),
                                message: errors_of(&body),
                            });
                        }
                        Ok(body) if status.is_server_error() => format!("HTTP {status}: {}", errors_of(&body)),
                        Ok(body) => {
                            return Err(SyncError::Rejected {
                                status: status.as_u16(),
                                url: strip_query(url),
                                message: errors_of(&body),
                            });
                        }
                    }
                }
            };
            if attempt >= self.opts.max_attempts || !retry_failures {
                return Err(SyncError::GaveUp { url: strip_query(url), attempts: attempt, last });
            }
            self.count(|s| s.retried += 1);
            tracing::debug!(attempt, error = %last, "Shopify request failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(self.opts.max_backoff);
        }
    }

    /// One page: the first when `page_info` is `None`.
    pub async fn page(&self, resource: Resource, page_info: Option<&str>) -> Result<Page, SyncError> {
        if resource == Resource::InventoryLevels {
            return self.level_page(page_info).await;
        }
        self.plain_page(resource, page_info, resource.first_query()).await
    }

    /// The ids of the shop's locations (`GET /locations.json`).
    pub async fn location_ids(&self) -> Result<Vec<String>, SyncError> {
        let url = format!("{}/locations.json", self.base);
        let (v, _) = self.get(&url).await?;
        let Some(list) = v["locations"].as_array() else {
            return Err(SyncError::Malformed { url, message: "no `locations` array in the response".into() });
        };
        Ok(list
            .iter()
            .filter_map(|l| match &l["id"] {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                _ => None,
            })
            .collect())
    }

    /// A page of stock levels; the cursor says which group of locations.
    async fn level_page(&self, cursor: Option<&str>) -> Result<Page, SyncError> {
        let cursor = match cursor {
            None => LevelCursor::Group(0),
            Some(c) => LevelCursor::parse(c).ok_or_else(|| SyncError::Rejected {
                status: 400,
                url: format!("{}/inventory_levels.json", self.base),
                message: format!(
                    "the stored stock-level cursor {c:?} is not one Ferry wrote; run again with --restart"
                ),
            })?,
        };
        let next = match cursor {
            LevelCursor::Group(g) => {
                let ids = self.location_ids().await?;
                let chunk: Vec<&str> =
                    ids.iter().skip(g * LOCATIONS_PER_QUERY).take(LOCATIONS_PER_QUERY).map(String::as_str).collect();
                if chunk.is_empty() {
                    return Ok(Page { items: Vec::new(), next: None });
                }
                let more = ids.len() > (g + 1) * LOCATIONS_PER_QUERY;
                let page = self
                    .plain_page(Resource::InventoryLevels, None, &format!("location_ids={}&", chunk.join(",")))
                    .await?;
                (page.items, LevelCursor::after(g, more, page.next))
            }
            LevelCursor::Page { group, more, page_info } => {
                let page = self.plain_page(Resource::InventoryLevels, Some(&page_info), "").await?;
                (page.items, LevelCursor::after(group, more, page.next))
            }
        };
        Ok(Page { items: next.0, next: next.1.map(|c| c.encode()) })
    }

    async fn plain_page(
        &self,
        resource: Resource,
        page_info: Option<&str>,
        first_query: &str,
    ) -> Result<Page, SyncError> {
        let name = resource.as_str();
        let url = match page_info {
            None => format!("{}/{name}.json?{first_query}limit={PAGE_SIZE}", self.base),
            Some(p) => {
                let mut u = url::Url::parse(&format!("{}/{name}.json", self.base)).map_err(|e| {
                    SyncError::Malformed { url: self.base.clone(), message: format!("bad API URL: {e}") }
                })?;
                u.query_pairs_mut().append_pair("limit", &PAGE_SIZE.to_string()).append_pair("page_info", p);
                u.to_string()
            }
        };
        let (v, link) = self.get(&url).await?;
        let items = match v.get(name) {
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(SyncError::Malformed {
                    url: strip_query(&url),
                    message: format!("no `{name}` array in the response"),
                });
            }
        };
        Ok(Page { items, next: link.as_deref().and_then(next_page_info) })
    }

    /// `GET /{resource}/count.json` (`None` when the shop does not say).
    pub async fn total(&self, resource: Resource) -> Result<Option<u64>, SyncError> {
        if resource == Resource::InventoryLevels {
            // No count endpoint for stock levels.
            return Ok(None);
        }
        let url = format!("{}/{}/count.json?{}", self.base, resource.as_str(), resource.first_query());
        let url = url.trim_end_matches(['?', '&']).to_owned();
        Ok(self.get(&url).await?.0["count"].as_u64())
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), &strip_query(u.as_str()));
    }
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Where a backfill stands, after each page.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Resource.
    pub resource: Resource,
    /// Records fetched in this pass (including earlier, interrupted runs).
    pub fetched: u64,
    /// Records fetched by this run.
    pub fetched_now: u64,
    /// Shopify's count, when asked for.
    pub total: Option<u64>,
    /// Since this run began.
    pub elapsed: Duration,
}

impl Progress {
    /// Records per second in this run.
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.fetched_now as f64 / s } else { 0.0 }
    }

    /// Time left at the current rate, when the total is known.
    pub fn eta(&self) -> Option<Duration> {
        let left = self.total?.saturating_sub(self.fetched);
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate))
    }

    /// A one-line summary: `orders 1500/50000 (3.0%) 812/s ETA 1m01s`.
    pub fn line(&self) -> String {
        let mut s = format!("{} {}", self.resource.as_str(), self.fetched);
        if let Some(t) = self.total {
            let pct = if t > 0 { self.fetched as f64 * 100.0 / t as f64 } else { 100.0 };
            s.push_str(&format!("/{t} ({pct:.1}%)"));
        }
        s.push_str(&format!(" {:.0}/s", self.rate()));
        if let Some(eta) = self.eta() {
            let secs = eta.as_secs();
            s.push_str(&format!(" ETA {}m{:02}s", secs / 60, secs % 60));
        }
        s
    }
}

/// What to do.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// Start over even when a previous pass finished.
    pub restart: bool,
    /// Ask Shopify's count endpoint for the total first.
    pub count: bool,
    /// Pacing and retries.
    pub client: ClientOptions,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        BackfillOptions { restart: false, count: true, client: ClientOptions::default() }
    }
}

/// What a backfill of one resource did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillReport {
    /// Resource.
    pub resource: Resource,
    /// A previous pass had finished: nothing was fetched.
    pub already_done: bool,
    /// Continued from a stored cursor.
    pub resumed: bool,
    /// Pages fetched by this run.
    pub pages: u64,
    /// Records fetched by this run.
    pub fetched_now: u64,
    /// Records fetched by the pass (with earlier runs).
    pub fetched: u64,
    /// Records the mirror changed.
    pub changed: u64,
    /// Shopify's count, when asked for.
    pub total: Option<u64>,
    /// Client counters of this run.
    pub client: ClientStats,
}

/// Backfills one resource of a connection into the mirror, resuming from
/// the stored cursor; `progress` is called after every page.
pub async fn backfill(
    storage: &Arc<dyn Storage>,
    connection: ShopConnectionId,
    resource: Resource,
    opts: &BackfillOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<BackfillReport, SyncError> {
    let conn = storage.find_shop_connection(connection).await?.ok_or(SyncError::NoConnection(connection))?;
    let client = AdminClient::for_connection(&conn, opts.client.clone())?;
    backfill_with(storage, conn.account_id, connection, &client, resource, opts, &mut progress).await
}

/// [`backfill`] with a given client.
pub async fn backfill_with(
    storage: &Arc<dyn Storage>,
    account: AccountId,
    connection: ShopConnectionId,
    client: &AdminClient,
    resource: Resource,
    opts: &BackfillOptions,
    progress: &mut impl FnMut(&Progress),
) -> Result<BackfillReport, SyncError> {
    let start = Instant::now();
    let stats0 = client.stats();
    let stored = storage.get_sync_state(account, connection, resource.as_str()).await?;
    let mut report = BackfillReport {
        resource,
        already_done: false,
        resumed: false,
        pages: 0,
        fetched_now: 0,
        fetched: 0,
        changed: 0,
        total: None,
        client: ClientStats::default(),
    };
    let mut cursor = None;
    match stored {
        Some(s) if s.done && !opts.restart => {
            report.already_done = true;
            report.fetched = u64::try_from(s.fetched).unwrap_or(0);
            return Ok(report);
        }
        Some(s) if !opts.restart && s.cursor.is_some() => {
            report.resumed = true;
            report.fetched = u64::try_from(s.fetched).unwrap_or(0);
            cursor = s.cursor;
        }
        _ => {}
    }
    if opts.count {
        report.total = client.total(resource).await?;
    }
    // Each page is applied while the next one is fetched; the cursor is
    // stored only once its page is in the mirror.
    let mut page = client.page(resource, cursor.as_deref()).await?;
    loop {
        let mut writes = Vec::with_capacity(page.items.len() * 2);
        for item in &page.items {
            writes.extend(resource.writes(item).map_err(|error| SyncError::Payload {
                resource: resource.as_str(),
                id: item["id"].to_string(),
                error,
            })?);
        }
        let n = page.items.len() as u64;
        let now = Utc::now();
        let next = page.next.take();
        let done = next.is_none();
        let state = ShopSyncState {
            resource: resource.as_str().to_owned(),
            cursor: next.clone(),
            done,
            fetched: i64::try_from(report.fetched + n).unwrap_or(i64::MAX),
            updated_at: now,
        };
        let store = async {
            let out = storage.apply_mirror_writes(account, connection, None, writes, now).await?;
            storage.put_sync_state(account, connection, state, now).await?;
            Ok::<_, SyncError>(out)
        };
        let fetch = async {
            match &next {
                Some(p) => client.page(resource, Some(p)).await.map(Some),
                None => Ok(None),
            }
        };
        let (stored, fetched) = tokio::join!(store, fetch);
        let out = stored?;
        report.pages += 1;
        report.fetched_now += n;
        report.fetched += n;
        report.changed += out.changed as u64;
        progress(&Progress {
            resource,
            fetched: report.fetched,
            fetched_now: report.fetched_now,
            total: report.total,
            elapsed: start.elapsed(),
        });
        match fetched? {
            Some(p) => page = p,
            None => break,
        }
    }
    let s = client.stats();
    report.client = ClientStats {
        requests: s.requests - stats0.requests,
        throttled: s.throttled - stats0.throttled,
        retried: s.retried - stats0.retried,
        paced: s.paced - stats0.paced,
    };
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_the_next_page_info() {
        let l = "<https://s.myshopify.com/admin/api/2024-01/orders.json?limit=250&page_info=abc%3D>; rel=\"previous\", \
                 <https://s.myshopify.com/admin/api/2024-01/orders.json?limit=250&page_info=def>; rel=\"next\"";
        assert_eq!(next_page_info(l).as_deref(), Some("def"));
        let prev = "<https://s.myshopify.com/admin/api/2024-01/orders.json?limit=250&page_info=abc>; rel=\"previous\"";
        assert_eq!(next_page_info(prev), None);
        assert_eq!(next_page_info(""), None);
    }

    #[test]
    fn call_limits_and_retry_after() {
        assert_eq!(parse_call_limit("32/40"), Some((32, 40)));
        assert_eq!(parse_call_limit("x/40"), None);
        assert_eq!(pacing_delay(10, 40, 4, 2.0), Duration::ZERO);
        assert_eq!(pacing_delay(36, 40, 4, 2.0), Duration::from_millis(500));
        assert_eq!(pacing_delay(40, 40, 4, 2.0), Duration::from_millis(2500));
        assert_eq!(parse_retry_after("2.0"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.05"), Some(Duration::from_millis(50)));
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn stock_level_cursors_round_trip() {
        for c in [
            LevelCursor::Group(0),
            LevelCursor::Group(3),
            LevelCursor::Page { group: 1, more: true, page_info: "eyJsYXN0IjoxfQ".into() },
            LevelCursor::Page { group: 0, more: false, page_info: "a:b".into() },
        ] {
            assert_eq!(LevelCursor::parse(&c.encode()), Some(c));
        }
        for bad in ["", "loc:x", "1:2:abc", "1:1:", "eyJsYXN0IjoxfQ"] {
            assert_eq!(LevelCursor::parse(bad), None, "{bad}");
        }
        assert_eq!(LevelCursor::after(0, true, None), Some(LevelCursor::Group(1)));
        assert_eq!(LevelCursor::after(2, false, None), None);
    }

    #[test]
    fn progress_lines() {
        let p = Progress {
            resource: Resource::Orders,
            fetched: 1000,
            fetched_now: 500,
            total: Some(2000),
            elapsed: Duration::from_secs(1),
        };
        assert_eq!(p.line(), "orders 1000/2000 (50.0%) 500/s ETA 0m02s");
    }
}
