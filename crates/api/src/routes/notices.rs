//! Proactive notices: the account's notices and sending limits (owners
//! and admins change them), and the log of every notice decided.

use crate::extract::{AppJson, AppPath, AppQuery, Auth};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ferry_api_types::*;
use ferry_app::notices::NoticeSettings;
use ferry_core::{AccountId, ContactId};
use serde::Deserialize;

fn view(s: NoticeSettings) -> NoticeSettingsView {
    NoticeSettingsView { policy: Some(s.policy), rules: s.rules }
}

/// A page of the log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeLogQuery {
    /// Entries before this id (the last id of the previous page).
    pub before: Option<i64>,
    /// Page size (1 to 200, 50 by default).
    pub limit: Option<u32>,
}

/// The account's notices, every kind (off until set), and the sending
/// limits.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/notices", tag = "notices",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = NoticeSettingsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_notices(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<NoticeSettingsView>, ApiError> {
    Ok(Json(view(s.app.notice_settings(&a, AccountId(account)).await?)))
}

/// Replaces the notices and limits (owners and admins; audited).
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/notices", tag = "notices",
    request_body = NoticeSettingsView, params(("account_id" = i64, Path)),
    responses((status = 200, body = NoticeSettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_notices(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppJson(req): AppJson<NoticeSettingsView>,
) -> Result<Json<NoticeSettingsView>, ApiError> {
    let account = AccountId(account);
    let policy = match req.policy {
        Some(p) => p,
        None => s.app.notice_settings(&a, account).await?.policy,
    };
    let settings = NoticeSettings { policy, rules: req.rules };
    Ok(Json(view(s.app.set_notice_settings(&a, account, settings).await?)))
}

/// Every notice decided for a buyer, newest first: sent, waiting for its
/// moment, skipped with the reason, or failed.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/notices/log", tag = "notices",
    params(("account_id" = i64, Path), NoticeLogQuery),
    responses((status = 200, body = [NoticeSendView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn notice_log(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<NoticeLogQuery>,
) -> Result<Json<Vec<NoticeSendView>>, ApiError> {
    let log = s.app.notice_log(&a, AccountId(account), q.before, q.limit.unwrap_or(50)).await?;
    Ok(Json(log.into_iter().map(send_view).collect()))
}

/// A send log row as the API shows it.
pub(crate) fn send_view(n: ferry_storage::NoticeSend) -> NoticeSendView {
    NoticeSendView {
        id: n.id,
        kind: n.kind,
        dedup_key: n.dedup_key,
        contact_id: n.contact_id.map(|c| c.0),
        order_id: n.order_id,
        channel: n.channel,
        state: n.state,
        reason: n.reason,
        message_id: n.message_id.map(|m| m.0),
        conversation_id: n.conversation_id.map(|c| c.0),
        scheduled_at: n.scheduled_at,
        created_at: n.created_at,
        campaign_id: n.campaign_id,
    }
}

/// A period of the figures.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeStatsQuery {
    /// Days back from now (1 to 366, 30 by default).
    pub days: Option<u32>,
}

/// How each kind of notice fared: sent, delivered, read, answered by the
/// buyer, waiting, failed and skipped by reason.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/notices/stats", tag = "notices",
    params(("account_id" = i64, Path), NoticeStatsQuery),
    responses((status = 200, body = [NoticeStatsView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn notice_stats(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<NoticeStatsQuery>,
) -> Result<Json<Vec<NoticeStatsView>>, ApiError> {
    let stats = s.app.notice_stats(&a, AccountId(account), q.days.unwrap_or(30)).await?;
    Ok(Json(stats.into_iter().map(stats_view).collect()))
}

/// The days on each side of the before/after figures.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImpactQuery {
    /// Days (1 to 365, 30 by default).
    pub days: Option<u32>,
}

/// "Where is my order" conversations per 100 orders in the days before the
/// shipped or delayed notice was switched on and as many days since.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/notices/impact", tag = "notices",
    params(("account_id" = i64, Path), ImpactQuery),
    responses((status = 200, body = NoticeImpactView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn notice_impact(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
    AppQuery(q): AppQuery<ImpactQuery>,
) -> Result<Json<NoticeImpactView>, ApiError> {
    let i = s.app.notice_impact(&a, AccountId(account), q.days.unwrap_or(30)).await?;
    let period = |p: ferry_app::notices::WismoPeriod| WismoPeriodView {
        from: p.from,
        to: p.to,
        orders: p.orders,
        wismo: p.wismo,
        per_100_orders: p.per_100_orders,
    };
    Ok(Json(NoticeImpactView {
        enabled_since: i.enabled_since,
        days: i.days,
        before: i.before.map(period),
        after: i.after.map(period),
    }))
}

pub(crate) fn stats_view(s: ferry_app::notices::NoticeStats) -> NoticeStatsView {
    NoticeStatsView {
        kind: s.kind,
        sent: s.sent,
        delivered: s.delivered,
        read: s.read,
        replied: s.replied,
        scheduled: s.scheduled,
        failed: s.failed,
        skipped: s.skipped,
    }
}

fn channels_view(c: ferry_app::notices::ContactChannels) -> ContactChannelsView {
    ContactChannelsView {
        consents: c
            .consents
            .into_iter()
            .map(|c| ConsentView {
                channel: c.channel,
                granted: c.granted,
                source: c.source,
                recorded_at: c.recorded_at,
                recorded_by: c.recorded_by.map(|u| u.0),
            })
            .collect(),
        stopped: c
            .stopped
            .into_iter()
            .map(|o| StoppedView { channel: o.channel.as_str().to_owned(), keyword: o.keyword, since: o.updated_at })
            .collect(),
    }
}

/// A buyer's consents to marketing, channel by channel, and the channels
/// they stopped.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/consent", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = ContactChannelsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_consent(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, contact)): AppPath<(i64, i64)>,
) -> Result<Json<ContactChannelsView>, ApiError> {
    Ok(Json(channels_view(s.app.contact_channels(&a, AccountId(account), ContactId(contact)).await?)))
}

/// Records a buyer's consent to marketing on a channel (or all), given or
/// withdrawn, with where it came from; audited.
#[utoipa::path(put, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/consent", tag = "contacts",
    request_body = ConsentRequest, params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = ContactChannelsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_consent(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, contact)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<ConsentRequest>,
) -> Result<Json<ContactChannelsView>, ApiError> {
    let source = req.source.unwrap_or_else(|| "agent".into());
    let c = s
        .app
        .set_contact_consent(&a, AccountId(account), ContactId(contact), &req.channel, req.granted, &source)
        .await?;
    Ok(Json(channels_view(c)))
}

pub(crate) fn stock_view(s: ferry_storage::StockSubscription) -> StockSubscriptionView {
    StockSubscriptionView {
        id: s.id,
        contact_id: s.contact_id.0,
        connection_id: s.connection_id.0,
        product_external_id: s.product_external_id,
        variant_external_id: s.variant_external_id,
        sku: s.sku,
        title: s.title,
        source: s.source,
        created_at: s.created_at,
        notified_at: s.notified_at,
    }
}

/// A buyer's back-in-stock requests, newest first (open and told).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/stock-subscriptions", tag = "contacts",
    params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = [StockSubscriptionView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn contact_stock(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, contact)): AppPath<(i64, i64)>,
) -> Result<Json<Vec<StockSubscriptionView>>, ApiError> {
    let list = s.app.contact_stock_subscriptions(&a, AccountId(account), ContactId(contact)).await?;
    Ok(Json(list.into_iter().map(stock_view).collect()))
}

/// Asks to tell a buyer when a variant is back in stock (the back-in-stock
/// notice, once). Refused while the variant is in stock.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/contacts/{contact_id}/stock-subscriptions", tag = "contacts",
    request_body = StockSubscriptionRequest, params(("account_id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 201, body = StockSubscriptionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn subscribe_stock(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, contact)): AppPath<(i64, i64)>,
    AppJson(req): AppJson<StockSubscriptionRequest>,
) -> Result<(axum::http::StatusCode, Json<StockSubscriptionView>), ApiError> {
    use ferry_app::stock::VariantRef;
    let r = match (req.sku, req.connection_id, req.variant_external_id) {
        (_, Some(c), Some(v)) => {
            Some(VariantRef::Variant { connection: ferry_core::ShopConnectionId(c), external_id: v })
        }
        (Some(sku), None, None) if !sku.trim().is_empty() => Some(VariantRef::Sku(sku)),
        _ => None,
    };
    let out = s.app.subscribe_contact_to_stock(&a, AccountId(account), ContactId(contact), r).await?;
    Ok((axum::http::StatusCode::CREATED, Json(stock_view(out))))
}

/// The account's open back-in-stock requests, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/stock-subscriptions", tag = "notices",
    params(("account_id" = i64, Path)),
    responses((status = 200, body = [StockSubscriptionView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn open_stock(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath(account): AppPath<i64>,
) -> Result<Json<Vec<StockSubscriptionView>>, ApiError> {
    Ok(Json(s.app.open_stock_subscriptions(&a, AccountId(account)).await?.into_iter().map(stock_view).collect()))
}

/// Withdraws a back-in-stock request.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/stock-subscriptions/{subscription_id}", tag = "notices",
    params(("account_id" = i64, Path), ("subscription_id" = i64, Path)),
    responses((status = 204, description = "Withdrawn"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_stock(
    State(s): State<ApiState>,
    Auth(a): Auth,
    AppPath((account, id)): AppPath<(i64, i64)>,
) -> Result<axum::http::StatusCode, ApiError> {
    s.app.delete_stock_subscription(&a, AccountId(account), id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    get_notices,
    put_notices,
    notice_log,
    notice_stats,
    notice_impact,
    get_consent,
    put_consent,
    contact_stock,
    subscribe_stock,
    open_stock,
    delete_stock
))]
pub struct NoticesDoc;

/// The routes of this module.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts/{account_id}/notices", get(get_notices).put(put_notices))
        .route("/api/v1/accounts/{account_id}/notices/log", get(notice_log))
        .route("/api/v1/accounts/{account_id}/notices/stats", get(notice_stats))
        .route("/api/v1/accounts/{account_id}/notices/impact", get(notice_impact))
        .route("/api/v1/accounts/{account_id}/contacts/{contact_id}/consent", get(get_consent).put(put_consent))
        .route(
            "/api/v1/accounts/{account_id}/contacts/{contact_id}/stock-subscriptions",
            get(contact_stock).post(subscribe_stock),
        )
        .route("/api/v1/accounts/{account_id}/stock-subscriptions", get(open_stock))
        .route(
            "/api/v1/accounts/{account_id}/stock-subscriptions/{subscription_id}",
            axum::routing::delete(delete_stock),
        )
}
