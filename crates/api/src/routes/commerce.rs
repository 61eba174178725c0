//! The shop mirror over HTTP: shop connections, Shopify's webhooks, order
//! search and a contact's orders.

use crate::extract::{AppBytes, AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::AppError;
use ferry_app::commerce::{NewShopInput, ShopConnectionEdit, ShopifyHeaders, ShopifyWebhookOutcome};
use ferry_commerce::money::format_minor;
use ferry_core::{AccountId, ContactId, OrderId, ShopConnectionId};
use ferry_storage::{ShopConnection, ShopPlatform, StoredOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A connected shop. The webhook secret is shown only when it is created.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShopConnectionView {
    /// Id (the path of its webhook URL).
    pub id: i64,
    /// `shopify` or `import`.
    pub platform: String,
    /// Display name.
    pub name: String,
    /// The shop's domain.
    pub shop_domain: String,
    /// Where Shopify must send webhooks (none for a file-import shop).
    pub webhook_url: Option<String>,
    /// Admin API base URL for backfills and order actions.
    pub api_url: Option<String>,
    /// An Admin API access token is set (it is never shown).
    pub has_access_token: bool,
    /// The webhook secret (only in the answer to its creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
}

fn connection_view(c: ShopConnection, public_url: &str, with_secret: bool) -> ShopConnectionView {
    ShopConnectionView {
        id: c.id.0,
        platform: c.platform.as_str().to_owned(),
        name: c.name,
        shop_domain: c.shop_domain,
        webhook_url: (c.platform == ShopPlatform::Shopify)
            .then(|| format!("{}/webhooks/shopify/{}", public_url.trim_end_matches('/'), c.id.0)),
        api_url: c.api_url,
        has_access_token: c.access_token.is_some(),
        secret: (with_secret && c.platform == ShopPlatform::Shopify).then_some(c.secret),
        created_at: c.created_at,
    }
}

/// `POST /shop_connections`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateShopConnection {
    /// Display name.
    pub name: String,
    /// `example.myshopify.com`.
    pub shop_domain: String,
    /// The Shopify app's API secret (signs webhooks); generated when absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// Admin API base URL, e.g. `https://example.myshopify.com/admin/api/2024-07`.
    #[serde(default)]
    pub api_url: Option<String>,
    /// Admin API access token.
    #[serde(default)]
    pub access_token: Option<String>,
    /// `shopify` (the default) or `import` (orders and products come from
    /// uploaded CSV or JSON files).
    #[serde(default)]
    pub platform: Option<String>,
}

/// A postal address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AddressView {
    /// Recipient.
    #[serde(default)]
    pub name: String,
    /// Street and number.
    #[serde(default)]
    pub address1: String,
    /// More of the street.
    #[serde(default)]
    pub address2: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State or province.
    #[serde(default)]
    pub province: String,
    /// Postal code.
    #[serde(default)]
    pub zip: String,
    /// ISO 3166-1 alpha-2 (`US`, `DE`).
    #[serde(default)]
    pub country_code: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
}

impl From<ferry_commerce::Address> for AddressView {
    fn from(a: ferry_commerce::Address) -> Self {
        AddressView {
            name: a.name,
            address1: a.address1,
            address2: a.address2,
            city: a.city,
            province: a.province,
            zip: a.zip,
            country_code: a.country_code,
            phone: a.phone,
        }
    }
}

impl From<AddressView> for ferry_commerce::Address {
    fn from(a: AddressView) -> Self {
        ferry_commerce::Address {
            name: a.name,
            address1: a.address1,
            address2: a.address2,
            city: a.city,
            province: a.province,
            zip: a.zip,
            country_code: a.country_code,
            phone: a.phone,
        }
    }
}

/// `PATCH /shop_connections/{id}`: fields left out stay as they are; an
/// empty `api_url` or `access_token` removes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateShopConnection {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Admin API base URL.
    #[serde(default)]
    pub api_url: Option<String>,
    /// Admin API access token (never shown again).
    #[serde(default)]
    pub access_token: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderLineView {
    /// The shop's id of the line (refunds by line name it).
    #[serde(default)]
    pub external_id: String,
    /// Product title.
    pub title: String,
    /// Size, colour.
    pub variant_title: Option<String>,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Quantity.
    pub quantity: i64,
    /// Unit price (decimal, in the order's currency).
    pub price: String,
}

/// A shipment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FulfillmentView {
    /// `pending`, `open`, `success`, `cancelled`, `error`, `failure`.
    pub status: String,
    /// The carrier's latest event (`in_transit`, `delivered`, …).
    pub shipment_status: Option<String>,
    /// Carrier.
    pub carrier: Option<String>,
    /// Tracking number.
    pub tracking_number: Option<String>,
    /// Tracking link.
    pub tracking_url: Option<String>,
    /// Promised delivery.
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A refund.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefundView {
    /// Amount (decimal, in the order's currency).
    pub amount: String,
    /// Why.
    pub note: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// An order of the shop mirror.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    /// Id.
    pub id: i64,
    /// Its shop connection.
    pub connection_id: i64,
    /// The number buyers quote (`1001`).
    pub number: String,
    /// Display name (`#1001`).
    pub name: String,
    /// Where it stands: pending, paid, partially_shipped, shipped,
    /// delivered, cancelled, refunded.
    pub state: String,
    /// Buyer's e-mail.
    pub email: Option<String>,
    /// Buyer's phone (E.164).
    pub phone: Option<String>,
    /// Buyer's name.
    pub customer_name: Option<String>,
    /// Payment state in the shop's words.
    pub financial_status: String,
    /// Fulfilment state in the shop's words.
    pub fulfillment_status: Option<String>,
    /// ISO 4217.
    pub currency: String,
    /// Total (decimal).
    pub total: String,
    /// Lines.
    pub line_items: Vec<OrderLineView>,
    /// Ship-to country (ISO 3166 alpha-2).
    pub ship_to_country: Option<String>,
    /// Where it goes.
    #[serde(default)]
    pub shipping_address: Option<AddressView>,
    /// Shipments.
    pub fulfillments: Vec<FulfillmentView>,
    /// Refunds.
    pub refunds: Vec<RefundView>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When the shop last changed it.
    pub updated_at: DateTime<Utc>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<StoredOrder> for OrderView {
    fn from(s: StoredOrder) -> Self {
        let state = s.details.state().as_str().to_owned();
        let d = s.details;
        let o = d.order;
        let cur = o.currency.clone();
        OrderView {
            id: s.id.0,
            connection_id: s.connection_id.0,
            number: o.number,
            name: o.name,
            state,
            email: o.email,
            phone: o.phone,
            customer_name: o.customer_name,
            financial_status: o.financial_status,
            fulfillment_status: o.fulfillment_status,
            total: format_minor(o.total_minor, &cur),
            line_items: o
                .line_items
                .into_iter()
                .map(|l| OrderLineView {
                    external_id: l.external_id,
                    title: l.title,
                    variant_title: l.variant_title,
                    sku: l.sku,
                    quantity: l.quantity,
                    price: format_minor(l.price_minor, &cur),
                })
                .collect(),
            ship_to_country: o.shipping_address.as_ref().map(|a| a.country_code.clone()).filter(|c| !c.is_empty()),
            shipping_address: o.shipping_address.map(AddressView::from),
            fulfillments: d
                .fulfillments
                .into_iter()
                .map(|f| FulfillmentView {
                    status: f.status,
                    shipment_status: f.shipment_status,
                    carrier: f.carrier,
                    tracking_number: f.tracking_number,
                    tracking_url: f.tracking_url,
                    estimated_delivery_at: f.estimated_delivery_at,
                    created_at: f.created_at,
                })
                .collect(),
            refunds: d
                .refunds
                .into_iter()
                .map(|r| RefundView {
                    amount: format_minor(r.amount_minor, &cur),
                    note: r.note,
                    created_at: r.created_at,
                })
                .collect(),
            currency: cur,
            created_at: o.created_at,
            updated_at: o.updated_at,
            cancelled_at: o.cancelled_at,
        }
    }
}

/// Query of the order search.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderSearch {
    /// Order name or number, e-mail or phone (part of it).
    #[serde(default)]
    pub q: Option<String>,
    /// Page size (1–100, default 25).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// What a Shopify webhook did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShopifyAck {
    /// The webhook id was seen before; nothing was written.
    pub duplicate: bool,
    /// Records written (older versions are skipped).
    pub changed: usize,
    /// The topic is not one Ferry uses.
    pub ignored: bool,
}

/// Connects a shop (owners and admins). The answer carries the webhook
/// secret once.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/shop_connections", tag = "commerce",
    request_body = CreateShopConnection, params(("account_id" = i64, Path)),
    responses((status = 201, body = ShopConnectionView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_shop_connection(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateShopConnection>,
) -> Result<(StatusCode, Json<ShopConnectionView>), ApiError> {
    let platform = match req.platform.as_deref().map(str::trim) {
        None | Some("") | Some("shopify") => ShopPlatform::Shopify,
        Some("import") => ShopPlatform::Import,
        Some(_) => return Err(AppError::invalid("platform", "platform is shopify or import").into()),
    };
    let input = NewShopInput {
        platform,
        name: req.name,
        shop_domain: req.shop_domain,
        secret: req.secret,
        api_url: req.api_url,
        access_token: req.access_token,
    };
    let c = s.app.create_shop_connection(&a, AccountId(account), input).await?;
    Ok((StatusCode::CREATED, Json(connection_view(c, &s.app.config.public_url, true))))
}

/// Renames a shop connection or sets its Admin API URL and access token
/// (owners and admins).
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/shop_connections/{connection_id}", tag = "commerce",
    request_body = UpdateShopConnection, params(("account_id" = i64, Path), ("connection_id" = i64, Path)),
    responses((status = 200, body = ShopConnectionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_shop_connection(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateShopConnection>,
) -> Result<Json<ShopConnectionView>, ApiError> {
    let edit = ShopConnectionEdit { name: req.name, api_url: req.api_url, access_token: req.access_token };
    let c = s.app.update_shop_connection(&a, AccountId(account), ShopConnectionId(id), edit).await?;
    Ok(Json(connection_view(c, &s.app.config.public_url, false)))
}

/// The account's shop connections.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/shop_connections", tag = "commerce",
    params(("account_id" = i64, Path)), responses((status = 200, body = [ShopConnectionView])))]
pub async fn list_shop_connections(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<ShopConnectionView>>, ApiError> {
    let list = s.app.list_shop_connections(&a, AccountId(account)).await?;
    Ok(Json(list.into_iter().map(|c| connection_view(c, &s.app.config.public_url, false)).collect()))
}

/// Orders by order name or number, e-mail or phone, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/orders", tag = "commerce",
    params(("account_id" = i64, Path), OrderSearch), responses((status = 200, body = [OrderView]), (status = 422, body = ErrorBody)))]
pub async fn search_orders(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<OrderSearch>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let found = s.app.search_orders(&a, AccountId(account), q.q.as_deref(), q.limit).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// One order with its fulfilments and refunds.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/orders/{order_id}", tag = "commerce",
    params(("account_id" = i64, Path), ("order_id" = i64, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(s.app.get_order(&a, AccountId(account), OrderId(id)).await?.into()))
}

/// The orders of a contact (matched by e-mail and phone).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/orders", tag = "commerce",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = [OrderView]), (status = 404, body = ErrorBody)))]
pub async fn contact_orders(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let found = s.app.contact_orders(&a, AccountId(account), ContactId(id)).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// Receives a Shopify webhook: `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256`
/// (base64 HMAC-SHA256 of the raw body with the connection's secret),
/// `X-Shopify-Webhook-Id` (re-deliveries are recognised),
/// `X-Shopify-Shop-Domain`. Topics Ferry does not use are acknowledged and
/// ignored.
#[utoipa::path(post, path = "/webhooks/shopify/{connection_id}", tag = "webhooks",
    request_body(content = String, description = "The Shopify resource (order, fulfillment, product, …) as JSON", content_type = "application/json"),
    params(("connection_id" = i64, Path), ("X-Shopify-Topic" = String, Header), ("X-Shopify-Hmac-Sha256" = String, Header)),
    responses((status = 200, body = ShopifyAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn shopify_webhook(
    State(s): State<ApiState>,
    AppPath(connection): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<ShopifyAck>, ApiError> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sh = ShopifyHeaders {
        topic: h("x-shopify-topic"),
        hmac: h("x-shopify-hmac-sha256"),
        webhook_id: h("x-shopify-webhook-id"),
        shop_domain: h("x-shopify-shop-domain"),
    };
    Ok(Json(match s.app.ingest_shopify_webhook(ShopConnectionId(connection), sh, &body).await? {
        ShopifyWebhookOutcome::Applied(o) => ShopifyAck { duplicate: o.duplicate, changed: o.changed, ignored: false },
        ShopifyWebhookOutcome::Ignored => ShopifyAck { duplicate: false, changed: 0, ignored: true },
    }))
}

/// Documents the commerce routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create_shop_connection,
    update_shop_connection,
    list_shop_connections,
    search_orders,
    get_order,
    contact_orders,
    shopify_webhook
))]
pub struct CommerceDoc;

/// The commerce routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}";
    Router::new()
        .route(&format!("{base}/shop_connections"), get(list_shop_connections).post(create_shop_connection))
        .route(&format!("{base}/shop_connections/{{connection_id}}"), axum::routing::patch(update_shop_connection))
        .route(&format!("{base}/orders"), get(search_orders))
        .route(&format!("{base}/orders/{{order_id}}"), get(get_order))
        .route(&format!("{base}/contacts/{{contact_id}}/orders"), get(contact_orders))
        .route("/webhooks/shopify/{connection_id}", post(shopify_webhook))
}
