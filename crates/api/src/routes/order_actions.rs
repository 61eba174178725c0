//! Order actions over HTTP (cancel, refund, change the shipping address),
//! what the caller may do to an order, and the account's audit log.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::routes::commerce::{AddressView, OrderView};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use ferry_api_types::ErrorBody;
use ferry_app::order_actions::{AddressInput, CancelInput, RefundInput};
use ferry_commerce::actions::RefundLine;
use ferry_core::{AccountId, AuditEntryId, ConversationId, OrderId};
use ferry_storage::{AuditEntry, AuditQuery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn default_reason() -> String {
    "customer".to_owned()
}

/// `POST /orders/{order_id}/cancel`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CancelOrder {
    /// `customer` (default), `fraud`, `inventory`, `declined` or `other`.
    #[serde(default = "default_reason")]
    pub reason: String,
    /// Send the buyer the shop's cancellation e-mail.
    #[serde(default)]
    pub notify_customer: bool,
    /// Put the items back in stock.
    #[serde(default)]
    pub restock: bool,
    /// The conversation acted from: it gets an activity line.
    #[serde(default)]
    pub conversation_id: Option<i64>,
}

/// One line to refund.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RefundLineInput {
    /// The line's `external_id`.
    pub line_item_id: String,
    /// Units.
    pub quantity: i64,
}

/// `POST /orders/{order_id}/refund`: an `amount`, or `line_items`, or
/// neither for everything not refunded yet.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RefundOrder {
    /// Decimal amount in the order's currency (`"12.50"`).
    #[serde(default)]
    pub amount: Option<String>,
    /// ISO 4217; must be the order's (default).
    #[serde(default)]
    pub currency: Option<String>,
    /// Lines to refund instead of an amount.
    #[serde(default)]
    pub line_items: Vec<RefundLineInput>,
    /// Why (shown in the shop).
    #[serde(default)]
    pub note: Option<String>,
    /// Send the buyer the shop's refund e-mail.
    #[serde(default)]
    pub notify_customer: bool,
    /// The conversation acted from.
    #[serde(default)]
    pub conversation_id: Option<i64>,
}

/// `PUT /orders/{order_id}/shipping_address`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateShippingAddress {
    /// The new address.
    #[serde(flatten)]
    pub address: AddressView,
    /// The conversation acted from.
    #[serde(default)]
    pub conversation_id: Option<i64>,
}

/// Whether one action may be taken now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderActionView {
    /// `cancel`, `refund` or `update_shipping_address`.
    pub action: String,
    /// It may be taken.
    pub allowed: bool,
    /// Why not: `forbidden` (role), `not_supported` (the shop connection)
    /// or `order_state`.
    pub code: Option<String>,
    /// Why not, in words.
    pub reason: Option<String>,
}

/// An order and what the caller may do to it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderActionsView {
    /// The order.
    pub order: OrderView,
    /// Each action.
    pub actions: Vec<OrderActionView>,
}

/// An entry of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    /// Id (the `before` cursor of the next page).
    pub id: i64,
    /// Who acted (absent once the user is deleted).
    pub actor_id: Option<i64>,
    /// Their name at the time.
    pub actor_name: String,
    /// `order.cancel`, `order.refund`, `order.update_shipping_address`.
    pub action: String,
    /// Kind of the record acted on (`order`).
    pub target_kind: String,
    /// Its id.
    pub target_id: String,
    /// The request and its context.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// `ok` or `failed`.
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        AuditEntryView {
            id: e.id.0,
            actor_id: e.actor_id.map(|u| u.0),
            actor_name: e.actor_name,
            action: e.action,
            target_kind: e.target_kind,
            target_id: e.target_id,
            details: e.details,
            outcome: e.outcome.as_str().to_owned(),
            error: e.error,
            created_at: e.created_at,
        }
    }
}

/// Query of the audit log.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditSearch {
    /// Only this action (`order.refund`).
    #[serde(default)]
    pub action: Option<String>,
    /// Only records of this kind (`order`).
    #[serde(default)]
    pub target_kind: Option<String>,
    /// Only this record.
    #[serde(default)]
    pub target_id: Option<String>,
    /// Entries older than this id.
    #[serde(default)]
    pub before: Option<i64>,
    /// Page size (1–200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Cancels an unfulfilled order in the shop (every role). The answer is
/// the order as the shop now has it.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/orders/{order_id}/cancel", tag = "commerce",
    request_body = CancelOrder, params(("account_id" = i64, Path), ("order_id" = i64, Path)),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "already cancelled or fulfilled, or the shop connection does not allow it"),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody, description = "the shop refused or failed")))]
pub async fn cancel_order(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<CancelOrder>,
) -> Result<Json<OrderView>, ApiError> {
    let input = CancelInput {
        reason: req.reason,
        notify_customer: req.notify_customer,
        restock: req.restock,
        conversation_id: req.conversation_id.map(ConversationId),
    };
    let app = s.app.clone();
    let done = to_completion(async move { app.cancel_order(&a, AccountId(account), OrderId(id), input).await }).await?;
    Ok(Json(done.into()))
}

/// Runs an order action on its own task: once the shop has been asked, a
/// request that times out or a client that goes away must not stop the
/// answer from reaching the mirror and the audit log.
async fn to_completion<T: Send + 'static>(
    action: impl std::future::Future<Output = Result<T, ferry_app::AppError>> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::spawn(action).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError(ferry_app::AppError::internal("the order action stopped", e))),
    }
}

/// Refunds an amount, some lines, or all that is left of an order
/// (owners and admins).
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/orders/{order_id}/refund", tag = "commerce",
    request_body = RefundOrder, params(("account_id" = i64, Path), ("order_id" = i64, Path)),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "amount above what is left, wrong currency, …"),
        (status = 502, body = ErrorBody)))]
pub async fn refund_order(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<RefundOrder>,
) -> Result<Json<OrderView>, ApiError> {
    let input = RefundInput {
        amount: req.amount,
        currency: req.currency,
        line_items: req
            .line_items
            .into_iter()
            .map(|l| RefundLine { line_item_id: l.line_item_id, quantity: l.quantity })
            .collect(),
        note: req.note,
        notify_customer: req.notify_customer,
        conversation_id: req.conversation_id.map(ConversationId),
    };
    let app = s.app.clone();
    let done = to_completion(async move { app.refund_order(&a, AccountId(account), OrderId(id), input).await }).await?;
    Ok(Json(done.into()))
}

/// Replaces the shipping address of an order not shipped yet (every role).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/orders/{order_id}/shipping_address", tag = "commerce",
    request_body = UpdateShippingAddress, params(("account_id" = i64, Path), ("order_id" = i64, Path)),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn update_shipping_address(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<UpdateShippingAddress>,
) -> Result<Json<OrderView>, ApiError> {
    let input = AddressInput { address: req.address.into(), conversation_id: req.conversation_id.map(ConversationId) };
    let app = s.app.clone();
    let done =
        to_completion(async move { app.update_shipping_address(&a, AccountId(account), OrderId(id), input).await })
            .await?;
    Ok(Json(done.into()))
}

/// What the caller may do to an order now, and why not.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/orders/{order_id}/actions", tag = "commerce",
    params(("account_id" = i64, Path), ("order_id" = i64, Path)),
    responses((status = 200, body = OrderActionsView), (status = 404, body = ErrorBody)))]
pub async fn order_actions(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<Json<OrderActionsView>, ApiError> {
    let (order, list) = s.app.order_actions(&a, AccountId(account), OrderId(id)).await?;
    let actions = list
        .into_iter()
        .map(|x| OrderActionView {
            action: x.action.as_str().to_owned(),
            allowed: x.allowed,
            code: x.code.map(str::to_owned),
            reason: x.reason,
        })
        .collect();
    Ok(Json(OrderActionsView { order: order.into(), actions }))
}

/// The account's audit log, newest first (owners and admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/audit_log", tag = "admin",
    params(("account_id" = i64, Path), AuditSearch),
    responses((status = 200, body = [AuditEntryView]), (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<AuditSearch>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    let query = AuditQuery {
        action: q.action.filter(|s| !s.is_empty()),
        target_kind: q.target_kind.filter(|s| !s.is_empty()),
        target_id: q.target_id.filter(|s| !s.is_empty()),
        before: q.before.map(AuditEntryId),
        limit: q.limit.unwrap_or(0),
    };
    let list = s.app.audit_log(&a, AccountId(account), query).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Documents the order actions and the audit log.
#[derive(utoipa::OpenApi)]
#[openapi(paths(cancel_order, refund_order, update_shipping_address, order_actions, audit_log))]
pub struct OrderActionsDoc;

/// The order action and audit log routes.
pub fn routes() -> Router<ApiState> {
    let base = "/api/v1/accounts/{account_id}";
    Router::new()
        .route(&format!("{base}/orders/{{order_id}}/cancel"), post(cancel_order))
        .route(&format!("{base}/orders/{{order_id}}/refund"), post(refund_order))
        .route(&format!("{base}/orders/{{order_id}}/shipping_address"), put(update_shipping_address))
        .route(&format!("{base}/orders/{{order_id}}/actions"), get(order_actions))
        .route(&format!("{base}/audit_log"), get(audit_log))
}
