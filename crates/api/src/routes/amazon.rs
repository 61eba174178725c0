//! Amazon sellers over HTTP: connections, what may be sent for an order,
//! sending a message (through the compliance gate: `422
//! compliance_blocked`), requesting a review, and the relayed Selling
//! Partner API notifications.

use crate::extract::{AppBytes, AppJson, AppPath, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::amazon::{AmazonActionState, AmazonMessageInput, AmazonSent, NewAmazonConnection};
use ferry_connectors::amazon::{AmazonSettings, UploadedFile};
use ferry_core::compliance::Finding;
use ferry_core::{AccountId, ShopConnectionId};
use ferry_storage::ShopConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An Amazon connection. Its client secret and refresh token are never
/// shown; the notification secret only in the answer to its creation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AmazonConnectionView {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The marketplace.
    pub marketplace_id: String,
    /// The Selling Partner API endpoint.
    pub endpoint: Option<String>,
    /// The LWA client id.
    pub client_id: Option<String>,
    /// The LWA token URL.
    pub token_url: Option<String>,
    /// A client secret and refresh token are set (never shown).
    pub has_credentials: bool,
    /// Where relayed notifications are posted.
    pub notification_url: String,
    /// The notification secret (only in the answer to its creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
}

fn view(c: ShopConnection, public_url: &str, with_secret: bool) -> AmazonConnectionView {
    let settings = AmazonSettings::of(&c).ok();
    AmazonConnectionView {
        id: c.id.0,
        name: c.name,
        marketplace_id: c.shop_domain,
        endpoint: c.api_url,
        client_id: settings.as_ref().map(|s| s.credentials.client_id.clone()),
        token_url: settings.as_ref().map(|s| s.credentials.token_url.clone()),
        has_credentials: settings.is_some(),
        notification_url: format!("{}/webhooks/amazon_notifications/{}", public_url.trim_end_matches('/'), c.id.0),
        secret: with_secret.then_some(c.secret),
        created_at: c.created_at,
    }
}

/// `POST /amazon/connections`.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAmazonConnection {
    /// Display name.
    pub name: String,
    /// `na`, `eu`, `fe`, or the Selling Partner API endpoint's URL.
    pub region: String,
    /// The marketplace (`ATVPDKIKX0DER`).
    pub marketplace_id: String,
    /// LWA client id of the seller's app.
    pub client_id: String,
    /// LWA client secret.
    pub client_secret: String,
    /// The seller's LWA refresh token.
    pub refresh_token: String,
    /// The LWA token URL (Amazon's by default).
    #[serde(default)]
    pub token_url: Option<String>,
    /// The secret relayed notifications are signed with (generated when
    /// absent; at least 16 characters).
    #[serde(default)]
    pub secret: Option<String>,
}

/// Whether one message (or `review`) may be sent for an order now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AmazonActionView {
    /// `unexpectedProblem`, `confirmDeliveryDetails`, …, or `review`.
    pub action: String,
    /// It may be sent now.
    pub allowed: bool,
    /// It carries text.
    pub takes_text: bool,
    /// It carries attachments.
    pub takes_attachments: bool,
    /// Why not.
    pub reason: Option<String>,
}

impl From<AmazonActionState> for AmazonActionView {
    fn from(a: AmazonActionState) -> Self {
        Self {
            action: a.action,
            allowed: a.allowed,
            takes_text: a.takes_text,
            takes_attachments: a.takes_attachments,
            reason: a.reason,
        }
    }
}

/// A file already uploaded through Amazon's Uploads API.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmazonAttachment {
    /// Amazon's upload destination id.
    pub upload_destination_id: String,
    /// The file name the buyer sees.
    pub file_name: String,
}

/// `POST …/orders/{amazon_order_id}/messages`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendAmazonMessage {
    /// `unexpectedProblem`, `confirmDeliveryDetails`, `confirmOrderDetails`,
    /// `warranty`, `invoice`, `legalDisclosure`, … (Amazon's operation
    /// names are accepted too).
    pub action: String,
    /// The text, for actions that carry text (at most 2000 characters).
    #[serde(default)]
    pub text: Option<String>,
    /// Files, for actions that carry them (at most 5).
    #[serde(default)]
    pub attachments: Vec<AmazonAttachment>,
}

/// What was sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AmazonSentView {
    /// The conversation of the order that got an activity line, if one.
    pub conversation_id: Option<i64>,
    /// The gate's warnings (the message was sent).
    pub warnings: Vec<Finding>,
}

impl From<AmazonSent> for AmazonSentView {
    fn from(s: AmazonSent) -> Self {
        Self {
            conversation_id: s.conversation_id.map(|c| c.0),
            warnings: s.report.map(|r| r.findings).unwrap_or_default(),
        }
    }
}

/// What a relayed notification did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AmazonNotificationAck {
    /// `NotificationType`.
    pub kind: String,
    /// Not used by Ferry (another type or marketplace).
    pub ignored: bool,
    /// The notification id was seen before; nothing was written.
    pub duplicate: bool,
    /// Records written (older versions are skipped).
    pub changed: usize,
}

/// Connects an Amazon seller (owners and admins). The answer carries the
/// notification secret once.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/amazon/connections", tag = "amazon",
    request_body = CreateAmazonConnection, params(("account_id" = i64, Path)),
    responses((status = 201, body = AmazonConnectionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_amazon_connection(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<CreateAmazonConnection>,
) -> Result<(StatusCode, Json<AmazonConnectionView>), ApiError> {
    let input = NewAmazonConnection {
        name: req.name,
        region: req.region,
        marketplace_id: req.marketplace_id,
        client_id: req.client_id,
        client_secret: req.client_secret,
        refresh_token: req.refresh_token,
        token_url: req.token_url,
        notification_secret: req.secret,
    };
    let c = s.app.create_amazon_connection(&a, AccountId(account), input).await?;
    Ok((StatusCode::CREATED, Json(view(c, &s.app.config.public_url, true))))
}

/// The account's Amazon connections.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/amazon/connections", tag = "amazon",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = [AmazonConnectionView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_amazon_connections(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<AmazonConnectionView>>, ApiError> {
    let list = s.app.list_amazon_connections(&a, AccountId(account)).await?;
    Ok(Json(list.into_iter().map(|c| view(c, &s.app.config.public_url, false)).collect()))
}

/// What may be sent for an Amazon order now: Amazon's messages for it and
/// the review request, each with why not.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/amazon/connections/{connection_id}/orders/{amazon_order_id}/actions",
    tag = "amazon",
    params(("account_id" = i64, Path), ("connection_id" = i64, Path), ("amazon_order_id" = String, Path)),
    responses((status = 200, body = [AmazonActionView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody)))]
pub async fn list_amazon_actions(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, connection, order)): AppPath<(i64, i64, String)>,
) -> Result<Json<Vec<AmazonActionView>>, ApiError> {
    let list = s.app.amazon_actions(&a, AccountId(account), ShopConnectionId(connection), &order).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Sends a message about an Amazon order through the Messaging API, after
/// the compliance gate (a proactive Amazon message).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/amazon/connections/{connection_id}/orders/{amazon_order_id}/messages",
    tag = "amazon", request_body = SendAmazonMessage,
    params(("account_id" = i64, Path), ("connection_id" = i64, Path), ("amazon_order_id" = String, Path)),
    responses((status = 201, body = AmazonSentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid, or `compliance_blocked` with the findings"),
        (status = 502, body = ErrorBody, description = "Amazon refused it (with Amazon's message) or is not answering")))]
pub async fn send_amazon_message(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, connection, order)): AppPath<(i64, i64, String)>,
    AppJson(req): AppJson<SendAmazonMessage>,
) -> Result<(StatusCode, Json<AmazonSentView>), ApiError> {
    let input = AmazonMessageInput {
        action: req.action,
        text: req.text,
        attachments: req
            .attachments
            .into_iter()
            .map(|f| UploadedFile { upload_destination_id: f.upload_destination_id, file_name: f.file_name })
            .collect(),
    };
    let sent = s.app.send_amazon_message(&a, AccountId(account), ShopConnectionId(connection), &order, input).await?;
    Ok((StatusCode::CREATED, Json(sent.into())))
}

/// Asks Amazon to request a product review and seller feedback from the
/// buyer: 5 to 30 days after delivery, once per order (`409` otherwise,
/// before Amazon is called).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/amazon/connections/{connection_id}/orders/{amazon_order_id}/review",
    tag = "amazon",
    params(("account_id" = i64, Path), ("connection_id" = i64, Path), ("amazon_order_id" = String, Path)),
    responses((status = 201, body = AmazonSentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody)))]
pub async fn request_review(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, connection, order)): AppPath<(i64, i64, String)>,
) -> Result<(StatusCode, Json<AmazonSentView>), ApiError> {
    let sent = s.app.request_review(&a, AccountId(account), ShopConnectionId(connection), &order).await?;
    Ok((StatusCode::CREATED, Json(sent.into())))
}

/// Receives a Selling Partner API notification relayed from Amazon's SQS
/// queue or EventBridge, signed with the connection's secret
/// (`X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the raw body>`).
/// `ORDER_CHANGE` updates the order mirror (the newest change wins); a
/// re-delivered `NotificationId` changes nothing; other types are
/// acknowledged and ignored.
#[utoipa::path(post, path = "/webhooks/amazon_notifications/{connection_id}", tag = "webhooks",
    request_body(content = String, description = "The notification JSON as Amazon sends it", content_type = "application/json"),
    params(("connection_id" = i64, Path), ("X-Ferry-Signature" = String, Header)),
    responses((status = 200, body = AmazonNotificationAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn amazon_notification(
    State(s): State<ApiState>,
    AppPath(connection): AppPath<i64>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<AmazonNotificationAck>, ApiError> {
    let signature = headers.get("x-ferry-signature").and_then(|v| v.to_str().ok());
    let out = s.app.ingest_amazon_notification(ShopConnectionId(connection), signature, &body).await?;
    Ok(Json(AmazonNotificationAck {
        kind: out.kind,
        ignored: out.ignored,
        duplicate: out.applied.is_some_and(|a| a.duplicate),
        changed: out.applied.map_or(0, |a| a.changed),
    }))
}

/// Documents the Amazon routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create_amazon_connection,
    list_amazon_connections,
    list_amazon_actions,
    send_amazon_message,
    request_review,
    amazon_notification
))]
pub struct AmazonDoc;

/// The Amazon routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}/amazon/connections";
    let order = format!("{base}/{{connection_id}}/orders/{{amazon_order_id}}");
    Router::new()
        .route(base, get(list_amazon_connections).post(create_amazon_connection))
        .route(&format!("{order}/actions"), get(list_amazon_actions))
        .route(&format!("{order}/messages"), post(send_amazon_message))
        .route(&format!("{order}/review"), post(request_review))
        .route("/webhooks/amazon_notifications/{connection_id}", post(amazon_notification))
}
