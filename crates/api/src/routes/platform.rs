//! The platform API for the server's operator (`/platform/api/v1/…`,
//! authenticated by the server-wide `platform_token` as
//! `Authorization: Bearer <token>`; without a configured token the whole
//! API answers 404), an account's outgoing webhooks, and its usage.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_api_types::{
    AgentView, ChannelUsageView, CreateAccountRequest, CreateWebhookRequest, CreatedAccountView, CreatedWebhookView,
    ErrorBody, MonthUsageView, PlatformAccountPage, PlatformAccountView, UpdateWebhookRequest, UsageView,
    WebhookDeliveryView, WebhookView,
};
use ferry_app::AppError;
use ferry_app::platform::NewAccountInput;
use ferry_app::usage::MonthUsage;
use ferry_app::webhooks::NewWebhookInput;
use ferry_core::{AccountId, WebhookId};
use ferry_storage::{PlatformAccount, Webhook, WebhookDelivery};
use serde::Deserialize;

/// The operator, authenticated by the platform token.
pub struct Platform;

impl FromRequestParts<ApiState> for Platform {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let Some(expected) = state.config.platform_token.as_ref().filter(|t| !t.expose().trim().is_empty()) else {
            // No token configured: the platform API does not exist.
            return Err(ApiError(AppError::NotFound("route")));
        };
        let given = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if given.is_some_and(|g| same_token(g, expected.expose().trim())) {
            Ok(Platform)
        } else {
            tracing::warn!("a platform API request with a missing or wrong token");
            Err(ApiError(AppError::Unauthorized("a valid platform token is required")))
        }
    }
}

/// Compares the tokens' digests, in time independent of their contents.
fn same_token(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    let (g, e) = (ferry_app::auth::secret_hash(given), ferry_app::auth::secret_hash(expected));
    bool::from(g.as_bytes().ct_eq(e.as_bytes()))
}

fn account_view(a: PlatformAccount) -> PlatformAccountView {
    PlatformAccountView {
        id: a.account.id.0,
        name: a.account.name,
        time_zone: a.time_zone,
        languages: a.languages,
        status: if a.suspended_at.is_some() { "suspended" } else { "active" }.to_owned(),
        suspended_at: a.suspended_at,
        users: a.users,
        created_at: a.account.created_at,
    }
}

/// Which accounts to list.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// Accounts with a greater id (the previous page's `next_after`).
    #[serde(default)]
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size (1–500, default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Creates an account and its first owner.
#[utoipa::path(post, path = "/platform/api/v1/accounts", tag = "platform",
    request_body = CreateAccountRequest,
    security(("platform_token" = [])),
    responses((status = 201, body = CreatedAccountView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_account(
    State(s): State<ApiState>,
    _: Platform,
    AppJson(r): AppJson<CreateAccountRequest>,
) -> Result<(StatusCode, Json<CreatedAccountView>), ApiError> {
    let input = NewAccountInput {
        name: r.name,
        time_zone: r.time_zone.unwrap_or_default(),
        languages: r.languages.unwrap_or_default(),
        owner_email: r.owner.email,
        owner_name: r.owner.name,
        owner_password: r.owner.password,
    };
    let (account, owner) = s.app.create_platform_account(input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAccountView { account: account_view(account), owner: AgentView::from(owner) }),
    ))
}

/// The server's accounts, by id.
#[utoipa::path(get, path = "/platform/api/v1/accounts", tag = "platform",
    params(AccountsQuery),
    security(("platform_token" = [])),
    responses((status = 200, body = PlatformAccountPage), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_accounts(
    State(s): State<ApiState>,
    _: Platform,
    AppQuery(q): AppQuery<AccountsQuery>,
) -> Result<Json<PlatformAccountPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    let list = s.app.list_platform_accounts(q.after, limit).await?;
    let next_after = (list.len() == limit as usize).then(|| list.last().map(|a| a.account.id.0)).flatten();
    Ok(Json(PlatformAccountPage { accounts: list.into_iter().map(account_view).collect(), next_after }))
}

/// One account.
#[utoipa::path(get, path = "/platform/api/v1/accounts/{account_id}", tag = "platform",
    params(("account_id" = i64, Path)),
    security(("platform_token" = [])),
    responses((status = 200, body = PlatformAccountView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(s): State<ApiState>,
    _: Platform,
    AppPath(id): AppPath<i64>,
) -> Result<Json<PlatformAccountView>, ApiError> {
    Ok(Json(account_view(s.app.get_platform_account(AccountId(id)).await?)))
}

/// Suspends an account: its users and tokens get 403 `account_suspended`,
/// its channel webhooks are accepted and dropped, its outgoing webhooks
/// stop.
#[utoipa::path(post, path = "/platform/api/v1/accounts/{account_id}/suspend", tag = "platform",
    params(("account_id" = i64, Path)),
    security(("platform_token" = [])),
    responses((status = 200, body = PlatformAccountView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suspend_account(
    State(s): State<ApiState>,
    _: Platform,
    AppPath(id): AppPath<i64>,
) -> Result<Json<PlatformAccountView>, ApiError> {
    Ok(Json(account_view(s.app.set_account_suspended(AccountId(id), true).await?)))
}

/// Reactivates a suspended account.
#[utoipa::path(post, path = "/platform/api/v1/accounts/{account_id}/unsuspend", tag = "platform",
    params(("account_id" = i64, Path)),
    security(("platform_token" = [])),
    responses((status = 200, body = PlatformAccountView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unsuspend_account(
    State(s): State<ApiState>,
    _: Platform,
    AppPath(id): AppPath<i64>,
) -> Result<Json<PlatformAccountView>, ApiError> {
    Ok(Json(account_view(s.app.set_account_suspended(AccountId(id), false).await?)))
}

fn webhook_view(w: Webhook) -> WebhookView {
    WebhookView {
        id: w.id.0,
        url: w.url,
        events: w.events,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason,
        consecutive_failures: w.consecutive_failures,
        failing_since: w.failing_since,
        created_at: w.created_at,
        updated_at: w.updated_at,
    }
}

fn delivery_view(d: WebhookDelivery) -> WebhookDeliveryView {
    WebhookDeliveryView {
        id: d.id.0,
        event: d.event,
        event_id: d.event_key,
        state: d.state,
        attempts: d.attempts,
        response_status: d.response_status,
        response_body: d.response_body,
        error: d.error,
        last_attempt_at: d.last_attempt_at,
        created_at: d.created_at,
    }
}

/// The account's outgoing webhooks (owners and admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/webhooks", tag = "webhooks",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = [WebhookView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_webhooks(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let list = s.app.list_webhooks(&a, AccountId(account)).await?;
    Ok(Json(list.into_iter().map(webhook_view).collect()))
}

/// Subscribes a URL to the account's events; the answer carries the
/// signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/webhooks", tag = "webhooks",
    params(("account_id" = i64, Path)),
    request_body = CreateWebhookRequest,
    responses((status = 201, body = CreatedWebhookView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_webhook(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(r): AppJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<CreatedWebhookView>), ApiError> {
    let w = s.app.create_webhook(&a, AccountId(account), NewWebhookInput { url: r.url, events: r.events }).await?;
    let secret = w.secret.clone();
    Ok((StatusCode::CREATED, Json(CreatedWebhookView { webhook: webhook_view(w), secret })))
}

/// Changes a webhook; enabling it clears its failures.
#[utoipa::path(patch, path = "/api/v1/accounts/{account_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(("account_id" = i64, Path), ("webhook_id" = i64, Path)),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_webhook(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppJson(r): AppJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookView>, ApiError> {
    let w = s.app.update_webhook(&a, AccountId(account), WebhookId(id), r.url, r.events, r.enabled).await?;
    Ok(Json(webhook_view(w)))
}

/// Removes a webhook and its delivery log.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(("account_id" = i64, Path), ("webhook_id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_webhook(&a, AccountId(account), WebhookId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many deliveries to list.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Page size (1–100, default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The webhook's last deliveries, newest first, with the receiver's last
/// answer to each.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("account_id" = i64, Path), ("webhook_id" = i64, Path), DeliveriesQuery),
    responses((status = 200, body = [WebhookDeliveryView]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_webhook_deliveries(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
    AppQuery(q): AppQuery<DeliveriesQuery>,
) -> Result<Json<Vec<WebhookDeliveryView>>, ApiError> {
    let list = s.app.list_webhook_deliveries(&a, AccountId(account), WebhookId(id), q.limit.unwrap_or(50)).await?;
    Ok(Json(list.into_iter().map(delivery_view).collect()))
}

/// Queues a `test` event to the webhook.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/webhooks/{webhook_id}/test", tag = "webhooks",
    params(("account_id" = i64, Path), ("webhook_id" = i64, Path)),
    responses((status = 202, body = WebhookDeliveryView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn test_webhook(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<(StatusCode, Json<WebhookDeliveryView>), ApiError> {
    let d = s.app.send_test_webhook(&a, AccountId(account), WebhookId(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_view(d))))
}

/// Which months.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// The (first) month, `YYYY-MM` (UTC).
    pub month: String,
    /// The last month of a range, `YYYY-MM` (at most 24 months).
    #[serde(default)]
    pub to: Option<String>,
}

fn month_view(m: MonthUsage) -> MonthUsageView {
    let u = m.usage;
    MonthUsageView {
        month: m.month,
        active_contacts: u.active_contacts,
        conversations_opened: u.conversations_opened,
        messages_in: u.channels.iter().map(|c| c.incoming).sum(),
        messages_out: u.channels.iter().map(|c| c.outgoing).sum(),
        channels: u
            .channels
            .into_iter()
            .map(|c| ChannelUsageView { channel: c.channel, incoming: c.incoming, outgoing: c.outgoing })
            .collect(),
        bot_resolutions: u.bot_resolutions,
    }
}

/// The account's usage per month (owners and admins).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/usage", tag = "usage",
    params(("account_id" = i64, Path), UsageQuery),
    responses((status = 200, body = UsageView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_usage(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<UsageQuery>,
) -> Result<Json<UsageView>, ApiError> {
    let months = s.app.usage(&a, AccountId(account), &q.month, q.to.as_deref()).await?;
    Ok(Json(UsageView { months: months.into_iter().map(month_view).collect() }))
}

/// Documents the platform, webhook and usage routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create_account, list_accounts, get_account, suspend_account, unsuspend_account,
        list_webhooks, create_webhook, update_webhook, delete_webhook, list_webhook_deliveries, test_webhook,
        get_usage,
    ),
    modifiers(&PlatformSecurity),
)]
pub struct PlatformDoc;

struct PlatformSecurity;

impl utoipa::Modify for PlatformSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "platform_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The platform, webhook and usage routes.
pub fn routes() -> Router<ApiState> {
    let platform = "/platform/api/v1/accounts";
    let base = "/api/v1/accounts/{account_id}";
    Router::new()
        .route(platform, get(list_accounts).post(create_account))
        .route(&format!("{platform}/{{account_id}}"), get(get_account))
        .route(&format!("{platform}/{{account_id}}/suspend"), post(suspend_account))
        .route(&format!("{platform}/{{account_id}}/unsuspend"), post(unsuspend_account))
        .route(&format!("{base}/webhooks"), get(list_webhooks).post(create_webhook))
        .route(&format!("{base}/webhooks/{{webhook_id}}"), axum::routing::patch(update_webhook).delete(delete_webhook))
        .route(&format!("{base}/webhooks/{{webhook_id}}/deliveries"), get(list_webhook_deliveries))
        .route(&format!("{base}/webhooks/{{webhook_id}}/test"), post(test_webhook))
        .route(&format!("{base}/usage"), get(get_usage))
}
