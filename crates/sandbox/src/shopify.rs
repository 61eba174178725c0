//! A local stand-in for a shop's Admin REST API, for tests, benchmarks
//! and the demo: generated orders, products and customers with
//! increasing ids, cursor pagination by the `Link` header (`page_info`),
//! `X-Shopify-Shop-Api-Call-Limit`, a leaky bucket answering 429 with
//! `Retry-After`, `/{resource}/count.json`, token checks (401), and
//! failures on demand (500 or a dropped connection after K pages), the
//! products' stock at two locations (`locations.json`,
//! `inventory_levels.json?location_ids=…`), and the order actions (cancel,
//! refunds, shipping address) with Shopify's answers and errors,
//! remembering each changed order.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Duration as ChronoDuration, FixedOffset, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// API version in the paths.
pub const API_PREFIX: &str = "/admin/api/2024-01";

/// First order id; ids increase by one.
pub const FIRST_ORDER_ID: u64 = 5_100_000_000;
const FIRST_PRODUCT_ID: u64 = 7_200_000_000;
const FIRST_CUSTOMER_ID: u64 = 6_300_000_000;
/// The mock shop's locations.
pub const LOCATION_IDS: [u64; 2] = [9_100_000_001, 9_100_000_002];

/// How a failing page fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `500 Internal Server Error`.
    Status500,
    /// The connection drops in the middle of the body.
    Drop,
}

/// What the shop serves and how.
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// Orders.
    pub orders: u64,
    /// Products.
    pub products: u64,
    /// Customers.
    pub customers: u64,
    /// The access token accepted.
    pub token: String,
    /// Bucket size (REST: 40; Plus: 400).
    pub bucket_size: u32,
    /// Requests per second the bucket leaks (REST: 2; Plus: 20).
    pub leak_per_sec: f64,
    /// `Retry-After` sent with 429s, in seconds (default: the time until a
    /// request fits in the bucket).
    pub retry_after: Option<f64>,
    /// Every n-th request is answered 429 whatever the bucket holds (as
    /// when another app shares the shop's bucket).
    pub throttle_every: Option<u64>,
    /// Once this many pages were served, page requests fail.
    pub fail_after_pages: Option<u64>,
    /// How they fail.
    pub failure: Failure,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            orders: 0,
            products: 0,
            customers: 0,
            token: "shpat_mock_token".into(),
            bucket_size: 40,
            leak_per_sec: 2.0,
            retry_after: None,
            throttle_every: None,
            fail_after_pages: None,
            failure: Failure::Status500,
        }
    }
}

struct Shared {
    opts: MockOptions,
    addr: SocketAddr,
    bucket: Mutex<(f64, Instant)>,
    requests: AtomicU64,
    pages: AtomicU64,
    throttled: AtomicU64,
    failures: AtomicU64,
    fail_after: AtomicU64,
    actions: Mutex<ActionState>,
}

/// A running mock shop; stops when dropped.
pub struct MockShop {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockShop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockShop {
    /// Starts on 127.0.0.1, on a free port.
    pub async fn start(opts: MockOptions) -> std::io::Result<MockShop> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let fail_after = opts.fail_after_pages.unwrap_or(u64::MAX);
        let shared = Arc::new(Shared {
            opts,
            addr,
            bucket: Mutex::new((0.0, Instant::now())),
            requests: AtomicU64::new(0),
            pages: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            fail_after: AtomicU64::new(fail_after),
            actions: Mutex::new(ActionState::default()),
        });
        let app =
            Router::new().fallback(handle).with_state(shared.clone()).layer(axum::middleware::map_response(crate::tag));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "mock shop stopped");
            }
        });
        Ok(MockShop { shared, task })
    }

    /// Base URL of the Admin API (`http://127.0.0.1:port/admin/api/2024-01`).
    pub fn api_url(&self) -> String {
        format!("http://{}{API_PREFIX}", self.shared.addr)
    }

    /// The token it accepts.
    pub fn token(&self) -> &str {
        &self.shared.opts.token
    }

    /// Pages served successfully.
    pub fn pages_served(&self) -> u64 {
        self.shared.pages.load(Ordering::SeqCst)
    }

    /// Requests received.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// 429s answered.
    pub fn throttled(&self) -> u64 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Failures (500s and drops) answered.
    pub fn failures(&self) -> u64 {
        self.shared.failures.load(Ordering::SeqCst)
    }

    /// Changes when page requests start failing (`None`: never).
    pub fn fail_after_pages(&self, pages: Option<u64>) {
        self.shared.fail_after.store(pages.unwrap_or(u64::MAX), Ordering::SeqCst);
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0).single().unwrap_or_default()
}

fn shop_time(t: DateTime<Utc>) -> String {
    FixedOffset::west_opt(5 * 3600).map_or_else(|| t.to_rfc3339(), |est| t.with_timezone(&est).to_rfc3339())
}

const FIRST: [&str; 8] = ["Bob", "Ana", "Wei", "Lena", "Carlos", "Yuki", "Fatima", "Tom"];
const LAST: [&str; 8] = ["Norman", "Silva", "Zhang", "Müller", "García", "Sato", "Haddad", "Smith"];
const COUNTRIES: [(&str, &str, &str, &str); 4] = [
    ("US", "United States", "Ottawa", "+1 613-555-01"),
    ("DE", "Germany", "Berlin", "+49 30 901820"),
    ("ES", "Spain", "Madrid", "+34 91 555 12"),
    ("GB", "United Kingdom", "London", "+44 20 7946 09"),
];
const ITEMS: [(&str, &str, &str); 4] =
    [("IPod Nano - 8gb", "green", "199.00"), ("Tee", "M", "49.90"), ("Sneaker", "42", "89.00"), ("Mug", "", "12.50")];

/// The order at `index` (0-based), as the Admin API shows it.
pub fn order(index: u64) -> Value {
    let id = FIRST_ORDER_ID + index;
    let number = 1001 + index;
    let created = t0() + ChronoDuration::minutes(i64::try_from(index).unwrap_or(0));
    let updated = created + ChronoDuration::hours(2);
    let (first, last) = (FIRST[(index % 8) as usize], LAST[(index / 8 % 8) as usize]);
    let (cc, country, city, phone_prefix) = COUNTRIES[(index % 4) as usize];
    let phone = format!("{phone_prefix}{:02}", index % 100);
    let email = format!("{}.{index}@example.com", first.to_lowercase());
    let (title, variant, price) = ITEMS[(index % 4) as usize];
    let quantity = 1 + index % 3;
    let price_f: f64 = price.parse().unwrap_or(0.0);
    let subtotal = price_f * quantity as f64;
    let tax = (subtotal * 0.03 * 100.0).round() / 100.0;
    let total = subtotal + tax;
    let address = json!({
        "first_name": first, "last_name": last, "name": format!("{first} {last}"),
        "address1": format!("{} Chestnut Street", 1 + index % 200), "address2": "", "city": city,
        "province": null, "province_code": null, "zip": format!("{:05}", 10000 + index % 89999),
        "country": country, "country_code": cc, "phone": phone, "company": null,
        "latitude": null, "longitude": null
    });
    let fulfilled = index.is_multiple_of(3);
    let fulfillments = if fulfilled {
        json!([{
            "id": 2_550_000_000u64 + index, "order_id": id, "status": "success",
            "shipment_status": if index.is_multiple_of(6) { "delivered" } else { "in_transit" },
            "tracking_company": "DHL Express", "tracking_number": format!("JJD00{:010}", index),
            "tracking_numbers": [format!("JJD00{:010}", index)],
            "tracking_url": format!("https://www.dhl.com/track?AWB=JJD00{:010}", index),
            "created_at": shop_time(created + ChronoDuration::hours(1)),
            "updated_at": shop_time(updated), "line_items": []
        }])
    } else {
        json!([])
    };
    let refunds = if index % 10 == 7 {
        json!([{
            "id": 9_090_000_000u64 + index, "order_id": id, "note": "Damaged in transit",
            "created_at": shop_time(updated), "processed_at": shop_time(updated), "restock": false,
            "transactions": [{ "id": 1_190_000_000u64 + index, "kind": "refund", "status": "success",
                "amount": format!("{:.2}", price_f), "currency": "USD", "gateway": "bogus" }],
            "refund_line_items": []
        }])
    } else {
        json!([])
    };
    let buyer = json!({
        "id": FIRST_CUSTOMER_ID + index % 5000, "email": email, "accepts_marketing": false,
        "first_name": first, "last_name": last, "phone": null, "state": "enabled",
        "created_at": shop_time(t0()), "updated_at": shop_time(updated), "currency": "USD",
        "verified_email": true, "tags": ""
    });
    let line_items = json!([{
        "id": 4_660_000_000u64 + index, "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", 4_660_000_000u64 + index),
        "fulfillable_quantity": if fulfilled { 0 } else { quantity }, "fulfillment_service": "manual",
        "fulfillment_status": if fulfilled { Value::from("fulfilled") } else { Value::Null },
        "gift_card": false, "grams": 200, "name": if variant.is_empty() { title.to_owned() } else { format!("{title} - {variant}") },
        "price": price, "product_exists": true, "product_id": FIRST_PRODUCT_ID + index % 4,
        "properties": [], "quantity": quantity, "requires_shipping": true,
        "sku": format!("SKU-{}", index % 4), "taxable": true, "title": title,
        "total_discount": "0.00", "variant_id": 8_000_000_000u64 + index % 4,
        "variant_title": if variant.is_empty() { Value::Null } else { Value::from(variant) },
        "vendor": "Mock", "tax_lines": [], "discount_allocations": []
    }]);
    let shipping_lines = json!([{ "id": 3_690_000_000u64 + index, "code": "Standard", "price": "0.00",
            "source": "shopify", "title": "Standard", "tax_lines": [] }]);
    let mut order = json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
        "app_id": null, "browser_ip": "0.0.0.0", "buyer_accepts_marketing": index.is_multiple_of(2),
        "cancel_reason": null, "cancelled_at": null,
        "cart_token": format!("{:032x}", id), "checkout_token": format!("{:032x}", id * 7),
        "closed_at": null, "confirmed": true, "contact_email": email,
        "created_at": shop_time(created), "currency": "USD",
        "current_subtotal_price": format!("{subtotal:.2}"), "current_total_price": format!("{total:.2}"),
        "current_total_tax": format!("{tax:.2}"), "customer_locale": "en",
        "discount_codes": [], "email": email,
        "financial_status": if index % 10 == 7 { "partially_refunded" } else { "paid" },
        "fulfillment_status": if fulfilled { Value::from("fulfilled") } else { Value::Null },
    });
    let middle = json!({
        "gateway": "bogus", "landing_site": "/", "name": format!("#{number}"),
        "note": null, "note_attributes": [], "number": index + 1, "order_number": number,
        "order_status_url": format!("https://mock-shop.myshopify.com/{id}/orders/{:032x}/authenticate", id),
        "phone": null, "presentment_currency": "USD",
        "processed_at": shop_time(created), "processing_method": "direct",
        "source_name": "web", "subtotal_price": format!("{subtotal:.2}"),
        "tags": "", "tax_lines": [{ "price": format!("{tax:.2}"), "rate": 0.03, "title": "State Tax" }],
        "taxes_included": false, "test": false, "token": format!("{:032x}", id * 13),
        "total_discounts": "0.00", "total_line_items_price": format!("{subtotal:.2}"),
        "total_price": format!("{total:.2}"), "total_tax": format!("{tax:.2}"), "total_weight": 200,
    });
    let more = json!({
        "updated_at": shop_time(updated), "user_id": null,
        "billing_address": address, "shipping_address": address,
        "customer": buyer,
        "line_items": line_items,
        "shipping_lines": shipping_lines,
        "fulfillments": fulfillments,
        "refunds": refunds
    });
    for part in [middle, more] {
        if let (Some(o), Value::Object(m)) = (order.as_object_mut(), part) {
            o.extend(m);
        }
    }
    order
}

/// The product at `index`.
pub fn product(index: u64) -> Value {
    let id = FIRST_PRODUCT_ID + index;
    let (title, variant, price) = ITEMS[(index % 4) as usize];
    json!({
        "id": id, "title": format!("{title} {index}"), "body_html": "<p>Mock product</p>", "vendor": "Mock",
        "product_type": "Goods", "handle": format!("product-{index}"), "status": "active",
        "created_at": shop_time(t0()), "updated_at": shop_time(t0() + ChronoDuration::hours(1)),
        "published_at": shop_time(t0()), "tags": "",
        "variants": [{ "id": 8_000_000_000u64 + index, "product_id": id, "title": if variant.is_empty() { "Default Title" } else { variant },
            "price": price, "sku": format!("SKU-{index}"), "position": 1, "inventory_policy": "deny",
            "inventory_item_id": 8_800_000_000u64 + index, "inventory_quantity": 10 + index % 7,
            "created_at": shop_time(t0()), "updated_at": shop_time(t0()) }],
        "options": [], "images": []
    })
}

/// The stock level at `index`: product `index / 2` at location
/// `index % 2`; the two add up to the variant's `inventory_quantity`.
pub fn inventory_level(index: u64) -> Value {
    let product = index / 2;
    let total = 10 + product % 7;
    let second = product % 3;
    let available = if index.is_multiple_of(2) { total - second } else { second };
    json!({
        "inventory_item_id": 8_800_000_000u64 + product,
        "location_id": LOCATION_IDS[(index % 2) as usize],
        "available": available,
        "updated_at": shop_time(t0() + ChronoDuration::hours(2)),
        "admin_graphql_api_id": format!("gid://shopify/InventoryLevel/{}?inventory_item_id={}", LOCATION_IDS[(index % 2) as usize], 8_800_000_000u64 + product),
    })
}

/// The customer at `index`.
pub fn customer(index: u64) -> Value {
    let (first, last) = (FIRST[(index % 8) as usize], LAST[(index / 8 % 8) as usize]);
    let (cc, country, city, phone_prefix) = COUNTRIES[(index % 4) as usize];
    json!({
        "id": FIRST_CUSTOMER_ID + index, "email": format!("{}.{}@example.com", first.to_lowercase(), index),
        "accepts_marketing": false, "created_at": shop_time(t0()), "updated_at": shop_time(t0() + ChronoDuration::hours(3)),
        "first_name": first, "last_name": last, "orders_count": 1, "state": "enabled", "total_spent": "0.00",
        "verified_email": true, "tags": "", "currency": "USD", "phone": null,
        "default_address": { "first_name": first, "last_name": last, "city": city, "country": country,
            "country_code": cc, "phone": format!("{phone_prefix}{:02}", index % 100), "default": true }
    })
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

fn encode_cursor(last_id: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({ "direction": "next", "last_id": last_id }).to_string())
}

fn decode_cursor(s: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?["last_id"].as_u64()
}

async fn handle(State(s): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    if headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()) != Some(s.opts.token.as_str()) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" }),
        );
    }
    // The leaky bucket.
    let n = s.requests.load(Ordering::SeqCst);
    let size = f64::from(s.opts.bucket_size.max(1));
    let (admitted, level) = {
        let Ok(mut b) = s.bucket.lock() else {
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({ "errors": "bucket" }));
        };
        let now = Instant::now();
        let leaked = now.duration_since(b.1).as_secs_f64() * s.opts.leak_per_sec;
        b.0 = (b.0 - leaked).max(0.0);
        b.1 = now;
        let forced = s.opts.throttle_every.is_some_and(|k| k > 0 && n.is_multiple_of(k));
        if forced || b.0 + 1.0 > size {
            (false, b.0)
        } else {
            b.0 += 1.0;
            (true, b.0)
        }
    };
    let limit = HeaderValue::from_str(&format!("{}/{}", level.ceil() as u64, s.opts.bucket_size))
        .unwrap_or(HeaderValue::from_static("0/40"));
    if !admitted {
        s.throttled.fetch_add(1, Ordering::SeqCst);
        let wait = s.opts.retry_after.unwrap_or_else(|| {
            if s.opts.leak_per_sec > 0.0 {
                ((level + 1.0 - size).max(0.0) / s.opts.leak_per_sec).max(0.001)
            } else {
                2.0
            }
        });
        let mut r = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({ "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." }),
        );
        r.headers_mut().insert("x-shopify-shop-api-call-limit", limit);
        if let Ok(v) = HeaderValue::from_str(&format!("{wait:.3}")) {
            r.headers_mut().insert("retry-after", v);
        }
        return r;
    }
    let mut r = order_action(&s, &method, &uri, &body).unwrap_or_else(|| route(&s, &uri));
    r.headers_mut().insert("x-shopify-shop-api-call-limit", limit);
    r
}

fn route(s: &Shared, uri: &Uri) -> Response {
    let not_found = || json_response(StatusCode::NOT_FOUND, &json!({ "errors": "Not Found" }));
    let Some(path) = uri.path().strip_prefix(API_PREFIX) else { return not_found() };
    let query: Vec<(String, String)> =
        uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if path == "/locations.json" {
        let locations: Vec<Value> = LOCATION_IDS
            .iter()
            .enumerate()
            .map(|(i, id)| json!({ "id": id, "name": format!("Warehouse {}", i + 1), "active": true, "country_code": "CN" }))
            .collect();
        return json_response(StatusCode::OK, &json!({ "locations": locations }));
    }
    if path == "/inventory_levels.json" && param("page_info").is_none() {
        // Shopify requires a filter, and the mock serves its two locations
        // together.
        let asked: Vec<&str> = param("location_ids").map(|l| l.split(',').collect()).unwrap_or_default();
        if asked.is_empty() && param("inventory_item_ids").is_none() {
            return json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({ "errors": "inventory_item_ids or location_ids must be present" }),
            );
        }
        if LOCATION_IDS.iter().any(|l| !asked.contains(&l.to_string().as_str())) {
            return json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({ "errors": "the mock shop serves stock for both of its locations at once" }),
            );
        }
    }
    type Gen = fn(u64) -> Value;
    let table: [(&str, u64, u64, Gen); 4] = [
        ("orders", s.opts.orders, FIRST_ORDER_ID, order),
        ("products", s.opts.products, FIRST_PRODUCT_ID, product),
        ("customers", s.opts.customers, FIRST_CUSTOMER_ID, customer),
        ("inventory_levels", s.opts.products * 2, 0, inventory_level),
    ];
    for (name, count, first_id, generate) in table {
        if path == format!("/{name}/count.json") {
            return json_response(StatusCode::OK, &json!({ "count": count }));
        }
        if path != format!("/{name}.json") {
            continue;
        }
        let limit = match param("limit").map(str::parse::<u64>) {
            None => 50,
            Some(Ok(l)) if (1..=250).contains(&l) => l,
            Some(_) => {
                return json_response(StatusCode::BAD_REQUEST, &json!({ "errors": { "limit": "Invalid value" } }));
            }
        };
        let start = match param("page_info") {
            None => 0,
            Some(p) => {
                if query.iter().any(|(k, _)| k != "limit" && k != "page_info" && k != "fields") {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        &json!({ "errors": { "page_info": "Invalid value: page_info cannot be combined with other filters." } }),
                    );
                }
                match decode_cursor(p) {
                    Some(last) if last >= first_id => last - first_id + 1,
                    _ => {
                        return json_response(
                            StatusCode::BAD_REQUEST,
                            &json!({ "errors": { "page_info": "Invalid value." } }),
                        );
                    }
                }
            }
        };
        if s.pages.load(Ordering::SeqCst) >= s.fail_after.load(Ordering::SeqCst) {
            s.failures.fetch_add(1, Ordering::SeqCst);
            return match s.opts.failure {
                Failure::Status500 => {
                    json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({ "errors": "Internal Server Error" }))
                }
                Failure::Drop => {
                    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                        Ok(Bytes::from(format!("{{\"{name}\":[{}", generate(start)))),
                        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped")),
                    ];
                    let mut r = Response::new(Body::from_stream(futures::stream::iter(chunks)));
                    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
                    r
                }
            };
        }
        let end = (start + limit).min(count);
        let items: Vec<Value> = (start..end).map(generate).collect();
        s.pages.fetch_add(1, Ordering::SeqCst);
        let base = format!("http://{}{API_PREFIX}/{name}.json", s.addr);
        let mut links = Vec::new();
        if start > 0 {
            let prev = encode_cursor(first_id + start.saturating_sub(limit + 1));
            links.push(format!("<{base}?limit={limit}&page_info={prev}>; rel=\"previous\""));
        }
        if end < count {
            links.push(format!("<{base}?limit={limit}&page_info={}>; rel=\"next\"", encode_cursor(first_id + end - 1)));
        }
        let mut r = json_response(StatusCode::OK, &json!({ name: items }));
        if !links.is_empty()
            && let Ok(v) = HeaderValue::from_str(&links.join(", "))
        {
            r.headers_mut().insert("link", v);
        }
        return r;
    }
    not_found()
}

// ---------------------------------------------------------------------------
// Order actions: `GET`/`PUT /orders/{id}.json`, `POST /orders/{id}/cancel.json`,
// `POST /orders/{id}/refunds/calculate.json`, `POST /orders/{id}/refunds.json`.
// An order changed by an action is remembered; the others stay generated.

/// What order actions changed, and whether they fail.
#[derive(Default)]
struct ActionState {
    orders: HashMap<u64, Value>,
    failing: bool,
}

impl MockShop {
    /// The order with the shop's id `id` as the shop has it now (with what
    /// order actions changed), if it exists.
    pub fn order_now(&self, id: u64) -> Option<Value> {
        current_order(&self.shared, id)
    }

    /// Makes the order action endpoints answer `500` (or not).
    pub fn fail_actions(&self, failing: bool) {
        if let Ok(mut a) = self.shared.actions.lock() {
            a.failing = failing;
        }
    }
}

/// The sale transaction a generated order was paid with.
fn sale_id(order_id: u64) -> u64 {
    1_180_000_000 + (order_id - FIRST_ORDER_ID.min(order_id))
}

fn current_order(s: &Shared, id: u64) -> Option<Value> {
    if let Some(v) = s.actions.lock().ok().and_then(|a| a.orders.get(&id).cloned()) {
        return Some(v);
    }
    let index = id.checked_sub(FIRST_ORDER_ID)?;
    (index < s.opts.orders).then(|| order(index))
}

fn unprocessable(errors: Value) -> Response {
    json_response(StatusCode::UNPROCESSABLE_ENTITY, &json!({ "errors": errors }))
}

/// Moves the order's `updated_at` on by a minute and returns the new time.
fn touch(o: &mut Value) -> String {
    let before = o["updated_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let now = shop_time(before.map_or_else(t0, |t| t.with_timezone(&Utc)) + ChronoDuration::minutes(1));
    o["updated_at"] = Value::from(now.clone());
    now
}

fn minor(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => ferry_commerce::money::parse_minor(s, "USD"),
        Value::Number(n) => ferry_commerce::money::parse_minor(&n.to_string(), "USD"),
        _ => None,
    }
}

fn refundable(o: &Value) -> i64 {
    let total = minor(&o["total_price"]).unwrap_or(0);
    let refunded: i64 = o["refunds"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["transactions"].as_array().into_iter().flatten())
        .filter_map(|t| minor(&t["amount"]))
        .sum();
    total - refunded
}

fn money_text(minor: i64) -> String {
    ferry_commerce::money::format_minor(minor, "USD")
}

/// The price of refunded lines, or Shopify's `errors`.
fn lines_amount(o: &Value, lines: &[Value]) -> Result<i64, Value> {
    let mut sum = 0;
    for l in lines {
        let item = o["line_items"].as_array().into_iter().flatten().find(|li| {
            li["id"] == l["line_item_id"]
                || l["line_item_id"].as_str().is_some_and(|s| s.parse::<u64>().ok() == li["id"].as_u64())
        });
        let (Some(item), Some(q)) = (item, l["quantity"].as_i64()) else {
            return Err(json!({ "refund_line_items": ["line_item_id is invalid"] }));
        };
        if q <= 0 || q > item["quantity"].as_i64().unwrap_or(0) {
            return Err(json!({ "refund_line_items": ["quantity cannot refund more items than were purchased"] }));
        }
        sum += minor(&item["price"]).unwrap_or(0) * q;
    }
    Ok(sum)
}

fn order_action(s: &Shared, method: &Method, uri: &Uri, body: &[u8]) -> Option<Response> {
    let rest = uri.path().strip_prefix(API_PREFIX)?.strip_prefix("/orders/")?;
    let (id, tail) = rest.split_once(['/', '.'])?;
    let id: u64 = id.parse().ok()?;
    let known = matches!(
        (method.as_str(), tail),
        ("GET" | "PUT", "json") | ("POST", "cancel.json" | "refunds/calculate.json" | "refunds.json")
    );
    if !known {
        return None;
    }
    if s.actions.lock().is_ok_and(|a| a.failing) {
        return Some(json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({ "errors": "Internal Server Error" })));
    }
    let Some(mut o) = current_order(s, id) else {
        return Some(json_response(StatusCode::NOT_FOUND, &json!({ "errors": "Not Found" })));
    };
    let req: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return Some(json_response(StatusCode::BAD_REQUEST, &json!({ "errors": "Bad Request" }))),
        }
    };
    let fulfilled = matches!(o["fulfillment_status"].as_str(), Some("fulfilled" | "partial"));
    let cancelled = !o["cancelled_at"].is_null();
    let (status, answer) = match (method.as_str(), tail) {
        ("GET", _) => return Some(json_response(StatusCode::OK, &json!({ "order": o }))),
        ("POST", "cancel.json") => {
            if cancelled {
                return Some(unprocessable(json!({ "base": ["Order has already been cancelled"] })));
            }
            if fulfilled {
                return Some(unprocessable(json!({ "base": ["Cannot cancel an order that has been fulfilled"] })));
            }
            let reason = req["reason"].as_str().unwrap_or("other");
            if !["customer", "fraud", "inventory", "declined", "other"].contains(&reason) {
                return Some(unprocessable(json!({ "reason": ["is not included in the list"] })));
            }
            let now = touch(&mut o);
            o["cancelled_at"] = Value::from(now.clone());
            o["closed_at"] = Value::from(now);
            o["cancel_reason"] = Value::from(reason);
            (StatusCode::OK, json!({ "order": o }))
        }
        ("POST", "refunds/calculate.json") => {
            let lines = req["refund"]["refund_line_items"].as_array().cloned().unwrap_or_default();
            let amount = match lines_amount(&o, &lines) {
                Ok(a) => a,
                Err(e) => return Some(unprocessable(e)),
            };
            let calc = json!({ "refund": {
                "currency": "USD", "shipping": { "amount": "0.00", "tax": "0.00", "maximum_refundable": "0.00" },
                "refund_line_items": lines,
                "transactions": [{ "order_id": id, "kind": "suggested_refund", "gateway": "bogus",
                    "parent_id": sale_id(id), "amount": money_text(amount),
                    "maximum_refundable": money_text(refundable(&o)), "currency": "USD" }]
            }});
            return Some(json_response(StatusCode::OK, &calc));
        }
        ("POST", "refunds.json") => {
            let r = &req["refund"];
            let lines = r["refund_line_items"].as_array().cloned().unwrap_or_default();
            if let Err(e) = lines_amount(&o, &lines) {
                return Some(unprocessable(e));
            }
            let transactions = r["transactions"].as_array().cloned().unwrap_or_default();
            if transactions.is_empty() && lines.is_empty() {
                return Some(unprocessable(json!({ "base": ["A refund needs transactions or refund line items"] })));
            }
            let mut amount = 0;
            for t in &transactions {
                if t["parent_id"].as_u64() != Some(sale_id(id)) {
                    return Some(unprocessable(
                        json!({ "transactions": ["parent_id is not a transaction of this order"] }),
                    ));
                }
                match minor(&t["amount"]) {
                    Some(a) if a > 0 => amount += a,
                    _ => return Some(unprocessable(json!({ "transactions": ["amount must be greater than 0"] }))),
                }
            }
            let left = refundable(&o);
            if amount > left {
                return Some(unprocessable(json!({ "base": [format!(
                    "Transaction amount {} is greater than the refundable amount {}", money_text(amount), money_text(left)
                )] })));
            }
            let now = touch(&mut o);
            let n = o["refunds"].as_array().map_or(0, Vec::len) as u64;
            let refund_id = 9_200_000_000 + (id - FIRST_ORDER_ID.min(id)) * 10 + n;
            let refund = json!({
                "id": refund_id, "order_id": id, "note": r["note"], "created_at": now, "processed_at": now,
                "restock": false,
                "transactions": transactions.iter().enumerate().map(|(k, t)| json!({
                    "id": 1_290_000_000u64 + refund_id * 10 + k as u64, "kind": "refund", "status": "success",
                    "amount": money_text(minor(&t["amount"]).unwrap_or(0)), "currency": "USD", "gateway": "bogus",
                    "parent_id": t["parent_id"],
                })).collect::<Vec<_>>(),
                "refund_line_items": lines,
            });
            if let Some(list) = o["refunds"].as_array_mut() {
                list.push(refund.clone());
            }
            o["financial_status"] = Value::from(if amount == left { "refunded" } else { "partially_refunded" });
            (StatusCode::CREATED, json!({ "refund": refund }))
        }
        ("PUT", _) => {
            let Some(new) = req["order"]["shipping_address"].as_object() else {
                return Some(json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({ "errors": { "order": "Required parameter missing or invalid" } }),
                ));
            };
            let cc = new.get("country_code").and_then(Value::as_str).unwrap_or_default();
            if cc.len() != 2 {
                return Some(unprocessable(json!({ "shipping_address": ["country is not supported"] })));
            }
            touch(&mut o);
            if let Some(addr) = o["shipping_address"].as_object_mut() {
                for (k, v) in new {
                    addr.insert(k.clone(), v.clone());
                }
                let name = [&addr["first_name"], &addr["last_name"]]
                    .iter()
                    .filter_map(|v| v.as_str())
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                addr.insert("name".into(), Value::from(name));
            }
            (StatusCode::OK, json!({ "order": o }))
        }
        _ => return None,
    };
    if let Ok(mut a) = s.actions.lock() {
        a.orders.insert(id, o);
    }
    Some(json_response(status, &answer))
}
