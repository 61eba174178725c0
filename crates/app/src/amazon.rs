//! Amazon sellers: their connections (a shop connection of platform
//! `amazon`, see `ferry_connectors::amazon`), the messages a seller may
//! send about an order through the Messaging API, the review request of
//! the Solicitations API, and Amazon's `ORDER_CHANGE` notifications into
//! the order mirror.
//!
//! A message passes the compliance gate as a proactive Amazon message
//! before it reaches Amazon. A review is asked for only 5 to 30 days after
//! delivery and once per order; both are checked here before Amazon is
//! called. Every attempt is in the audit log (done or not, with why), and
//! a sent message or review request is told as an activity line in the
//! conversation of the order (found by the order id of the buyer's mail).
//! Clients are kept per connection so their access token and rate-limit
//! buckets outlive a request.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use ferry_commerce::amazon as notifications;
use ferry_connectors::amazon::client::{AmazonClient, AmazonError, ClientOptions};
use ferry_connectors::amazon::{AmazonSettings, Credentials, ENDPOINTS, MessageAction, Secret, UploadedFile};
use ferry_core::compliance::{self, AttachmentMeta, Draft, Lang, Report};
use ferry_core::inbox::ChannelKind;
use ferry_core::{AccountId, ConversationId, ShopConnectionId};
use ferry_storage::{
    AuditOutcome, AuditQuery, MirrorOutcome, NewAuditEntry, NewShopConnection, OrderQuery, ShopConnection,
    ShopPlatform, StoredOrder,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// First day after delivery a review may be requested.
pub const REVIEW_FROM_DAYS: i64 = 5;
/// Last day after delivery a review may be requested.
pub const REVIEW_UNTIL_DAYS: i64 = 30;

const AUDIT_MESSAGE: &str = "amazon.send_message";
const AUDIT_REVIEW: &str = "amazon.request_review";
const AUDIT_TARGET: &str = "amazon_order";

/// The API clients of the Amazon connections, one per connection and
/// credentials.
#[derive(Default)]
pub struct AmazonClients {
    clients: Mutex<HashMap<ShopConnectionId, (AmazonSettings, Arc<AmazonClient>)>>,
    options: Mutex<Option<ClientOptions>>,
}

impl AmazonClients {
    /// Sets how new clients retry and wait (tests shorten the back-off).
    pub fn set_options(&self, opts: ClientOptions) {
        *self.options.lock().unwrap_or_else(|e| e.into_inner()) = Some(opts);
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The client of a connection (a new one when its settings changed).
    pub fn client(&self, c: &ShopConnection, clock: Arc<dyn ferry_core::clock::Clock>) -> AppResult<Arc<AmazonClient>> {
        let settings = AmazonSettings::of(c).map_err(|e| AppError::Unsupported(e.to_string()))?;
        let mut map = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, client)) = map.get(&c.id)
            && *s == settings
        {
            return Ok(client.clone());
        }
        let opts = self.options.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default();
        let client = Arc::new(AmazonClient::new(settings.clone(), opts, clock).map_err(amazon_error)?);
        map.insert(c.id, (settings, client.clone()));
        Ok(client)
    }
}

/// A new Amazon connection.
#[derive(Clone)]
pub struct NewAmazonConnection {
    /// Display name.
    pub name: String,
    /// `na`, `eu`, `fe`, or the endpoint's URL.
    pub region: String,
    /// The marketplace (`ATVPDKIKX0DER`).
    pub marketplace_id: String,
    /// LWA client id.
    pub client_id: String,
    /// LWA client secret.
    pub client_secret: String,
    /// The seller's LWA refresh token.
    pub refresh_token: String,
    /// The LWA token URL (Amazon's when absent).
    pub token_url: Option<String>,
    /// The secret relayed notifications are signed with (generated when
    /// absent).
    pub notification_secret: Option<String>,
}

/// A message to send about an order.
#[derive(Debug, Clone)]
pub struct AmazonMessageInput {
    /// The action's name (`unexpectedProblem`, `confirmDeliveryDetails`, …).
    pub action: String,
    /// The text, for actions that carry text.
    pub text: Option<String>,
    /// Files already uploaded to Amazon, for actions that carry them.
    pub attachments: Vec<UploadedFile>,
}

/// Whether one thing may be sent for an order, and if not why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmazonActionState {
    /// The action's name (`unexpectedProblem`, or `review` for the review
    /// request).
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

/// What was sent.
#[derive(Debug, Clone)]
pub struct AmazonSent {
    /// The conversation of the order that got an activity line, if one.
    pub conversation_id: Option<ConversationId>,
    /// The gate's warnings.
    pub report: Option<Report>,
}

/// What a notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmazonNotificationOutcome {
    /// Its type (`ORDER_CHANGE`).
    pub kind: String,
    /// A type Ferry does not use, or another marketplace's order.
    pub ignored: bool,
    /// Applied, or a re-delivery.
    pub applied: Option<MirrorOutcome>,
}

fn amazon_error(e: AmazonError) -> AppError {
    match e {
        AmazonError::Refused { message, .. } => AppError::Upstream(format!("Amazon refused it: {message}")),
        AmazonError::RetryLater(_) => AppError::Upstream(e.to_string()),
        AmazonError::BadCredentials(_) => {
            tracing::warn!(error = %e, "Amazon refused a connection's credentials");
            AppError::Upstream(
                "Amazon refused this connection's credentials; an admin must renew the refresh token".to_owned(),
            )
        }
    }
}

/// Amazon's order ids are 3-7-7 digits.
fn check_order_id(id: &str) -> AppResult<&str> {
    let parts: Vec<&str> = id.split('-').collect();
    let ok = parts.len() == 3
        && [3, 7, 7].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(id)
    } else {
        Err(AppError::invalid("order_id", format!("`{id}` is not an Amazon order id (3-7-7 digits)")))
    }
}

fn endpoint_of(region: &str) -> AppResult<String> {
    let r = region.trim();
    if let Some((_, url)) = ENDPOINTS.iter().find(|(name, _)| name.eq_ignore_ascii_case(r)) {
        return Ok((*url).to_owned());
    }
    check_url("region", r)?;
    Ok(r.trim_end_matches('/').to_owned())
}

/// Credentials travel to this URL: https, except on this machine (a
/// local stand-in of Amazon).
fn check_url(field: &'static str, u: &str) -> AppResult<()> {
    let parsed = crate::directory::http_url(field, u)?;
    let local = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if parsed.scheme() != "https" && !local {
        return Err(AppError::invalid(field, format!("{field} must be https (credentials are sent to it)")));
    }
    Ok(())
}

fn content_type_of(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Why a review cannot be requested now (before asking Amazon).
pub fn review_window_refusal(order: &str, delivered: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<String> {
    let Some(d) = delivered else {
        return Some(format!(
            "order {order} has not been delivered yet; a review can be requested {REVIEW_FROM_DAYS} to {REVIEW_UNTIL_DAYS} days after delivery"
        ));
    };
    let (from, until) = (d + Duration::days(REVIEW_FROM_DAYS), d + Duration::days(REVIEW_UNTIL_DAYS));
    if now < from {
        return Some(format!(
            "a review for order {order} can be requested from {} ({REVIEW_FROM_DAYS} days after delivery on {})",
            day(from),
            day(d)
        ));
    }
    if now > until {
        return Some(format!(
            "the time to request a review for order {order} ended on {} ({REVIEW_UNTIL_DAYS} days after delivery on {})",
            day(until),
            day(d)
        ));
    }
    None
}

struct Attempt<'a> {
    action: &'static str,
    connection: &'a ShopConnection,
    order: &'a str,
    details: Value,
}

impl App {
    /// Connects an Amazon seller (owners and admins).
    pub async fn create_amazon_connection(
        &self,
        actor: &Actor,
        account: AccountId,
        input: NewAmazonConnection,
    ) -> AppResult<ShopConnection> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let name = crate::commerce::shop_name(&input.name)?;
        let marketplace = input.marketplace_id.trim().to_owned();
        if marketplace.is_empty() || marketplace.len() > 32 || !marketplace.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(AppError::invalid("marketplace_id", "give Amazon's marketplace id, e.g. ATVPDKIKX0DER"));
        }
        let required = |field: &'static str, v: &str| -> AppResult<String> {
            let v = v.trim();
            if v.is_empty() || v.len() > 2048 {
                return Err(AppError::invalid(field, format!("{field} is required")));
            }
            Ok(v.to_owned())
        };
        let token_url = match input.token_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => {
                check_url("token_url", u)?;
                u.to_owned()
            }
            None => ferry_connectors::amazon::LWA_TOKEN_URL.to_owned(),
        };
        let credentials = Credentials {
            client_id: required("client_id", &input.client_id)?,
            client_secret: Secret::new(required("client_secret", &input.client_secret)?),
            refresh_token: Secret::new(required("refresh_token", &input.refresh_token)?),
            token_url,
        };
        let secret = match input.notification_secret.map(|s| s.trim().to_owned()) {
            Some(s) if s.len() < 16 => {
                return Err(AppError::invalid("secret", "the notification secret must have at least 16 characters"));
            }
            Some(s) => s,
            None => crate::auth::new_secret(),
        };
        let new = NewShopConnection {
            platform: ShopPlatform::Amazon,
            name,
            shop_domain: marketplace,
            secret,
            api_url: Some(endpoint_of(&input.region)?),
            access_token: Some(AmazonSettings::credentials_document(&credentials)),
        };
        Ok(self.storage.create_shop_connection(account, new, self.clock.now()).await?)
    }

    /// The account's Amazon connections.
    pub async fn list_amazon_connections(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<ShopConnection>> {
        actor.in_account(account)?;
        let all = self.storage.list_shop_connections(account).await?;
        Ok(all.into_iter().filter(|c| c.platform == ShopPlatform::Amazon).collect())
    }

    async fn amazon_connection(&self, account: AccountId, id: ShopConnectionId) -> AppResult<ShopConnection> {
        let c = self.storage.get_shop_connection(account, id).await?.ok_or(AppError::NotFound("Amazon connection"))?;
        if c.platform != ShopPlatform::Amazon {
            return Err(AppError::NotFound("Amazon connection"));
        }
        Ok(c)
    }

    /// The API client of a connection.
    pub fn amazon_client(&self, c: &ShopConnection) -> AppResult<Arc<AmazonClient>> {
        self.amazon.client(c, self.clock.clone())
    }

    /// The order as the mirror has it, if it does.
    async fn amazon_order(
        &self,
        account: AccountId,
        c: &ShopConnection,
        order: &str,
    ) -> AppResult<Option<StoredOrder>> {
        let query = OrderQuery { number: Some(order.to_owned()), limit: 10, ..OrderQuery::default() };
        let found = self.storage.search_orders(account, query).await?;
        Ok(found.into_iter().find(|o| o.connection_id == c.id && o.details.order.external_id == order))
    }

    /// When a review was requested for the order, if it was.
    async fn review_requested_at(
        &self,
        account: AccountId,
        c: &ShopConnection,
        order: &str,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let query = AuditQuery {
            action: Some(AUDIT_REVIEW.to_owned()),
            target_kind: Some(AUDIT_TARGET.to_owned()),
            target_id: Some(format!("{}:{order}", c.id.0)),
            before: None,
            limit: 50,
        };
        let entries = self.storage.list_audit(account, query).await?;
        Ok(entries.into_iter().find(|e| e.outcome == AuditOutcome::Ok).map(|e| e.created_at))
    }

    async fn review_refusal(&self, account: AccountId, c: &ShopConnection, order: &str) -> AppResult<Option<String>> {
        if let Some(at) = self.review_requested_at(account, c, order).await? {
            return Ok(Some(format!(
                "a review was already requested for order {order} on {}; Amazon allows one request per order",
                day(at)
            )));
        }
        let now = self.clock.now();
        let delivered =
            self.amazon_order(account, c, order).await?.and_then(|o| notifications::delivery_date(&o.details, now));
        Ok(review_window_refusal(order, delivered, now))
    }

    /// What may be sent for an Amazon order now: the messages Amazon
    /// offers for it, and the review request.
    #[tracing::instrument(skip_all, fields(connection_id = %connection))]
    pub async fn amazon_actions(
        &self,
        actor: &Actor,
        account: AccountId,
        connection: ShopConnectionId,
        order: &str,
    ) -> AppResult<Vec<AmazonActionState>> {
        actor.in_account(account)?;
        let order = check_order_id(order.trim())?;
        let c = self.amazon_connection(account, connection).await?;
        let client = self.amazon_client(&c)?;
        let offered = client.messaging_actions(order).await.map_err(amazon_error)?;
        let mut list: Vec<AmazonActionState> = MessageAction::ALL
            .into_iter()
            .map(|a| {
                let allowed = offered.iter().any(|o| MessageAction::parse(o) == Some(a));
                AmazonActionState {
                    action: a.as_str().to_owned(),
                    allowed,
                    takes_text: a.takes_text(),
                    takes_attachments: a.takes_attachments(),
                    reason: (!allowed).then(|| format!("Amazon does not offer {a} for order {order} now")),
                }
            })
            .collect();
        let reason = match self.review_refusal(account, &c, order).await? {
            Some(r) => Some(r),
            None => {
                let offered = client.solicitation_actions(order).await.map_err(amazon_error)?;
                (!offered.iter().any(|o| o == "productReviewAndSellerFeedback"))
                    .then(|| format!("Amazon does not offer a review request for order {order} now"))
            }
        };
        list.push(AmazonActionState {
            action: "review".to_owned(),
            allowed: reason.is_none(),
            takes_text: false,
            takes_attachments: false,
            reason,
        });
        Ok(list)
    }

    /// Sends a message about an Amazon order, after the compliance gate.
    #[tracing::instrument(skip_all, fields(connection_id = %connection))]
    pub async fn send_amazon_message(
        &self,
        actor: &Actor,
        account: AccountId,
        connection: ShopConnectionId,
        order: &str,
        input: AmazonMessageInput,
    ) -> AppResult<AmazonSent> {
        actor.in_account(account)?;
        let order = check_order_id(order.trim())?;
        let c = self.amazon_connection(account, connection).await?;
        let attempt = Attempt {
            action: AUDIT_MESSAGE,
            connection: &c,
            order,
            details: json!({
                "action": input.action, "text": input.text,
                "attachments": input.attachments.iter().map(|a| a.file_name.as_str()).collect::<Vec<_>>(),
            }),
        };
        let result = async {
            let action = MessageAction::parse(&input.action).ok_or_else(|| {
                AppError::invalid("action", format!("`{}` is not an Amazon message action", input.action))
            })?;
            let text = input.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
            match (action.takes_text(), text) {
                (true, None) => return Err(AppError::invalid("text", format!("{action} needs a text"))),
                (true, Some(t)) if t.chars().count() > 2000 => {
                    return Err(AppError::invalid("text", "Amazon takes at most 2000 characters"));
                }
                (false, Some(_)) => {
                    return Err(AppError::invalid("text", format!("{action} carries attachments only, no text")));
                }
                _ => {}
            }
            if !input.attachments.is_empty() && !action.takes_attachments() {
                return Err(AppError::invalid("attachments", format!("{action} carries no attachments")));
            }
            if input.attachments.len() > 5 {
                return Err(AppError::invalid("attachments", "Amazon takes at most 5 attachments"));
            }
            if action.needs_attachments() && input.attachments.is_empty() {
                return Err(AppError::invalid("attachments", format!("{action} needs at least one attachment")));
            }
            let mirrored = self.amazon_order(account, &c, order).await?;
            let now = self.clock.now();
            let mut draft = Draft::new(ChannelKind::Amazon, text.unwrap_or_default());
            draft.proactive = true;
            draft.order_date = mirrored.as_ref().map(|o| o.details.order.created_at);
            draft.delivery_date = mirrored.as_ref().and_then(|o| notifications::delivery_date(&o.details, now));
            draft.attachments = input
                .attachments
                .iter()
                .map(|a| AttachmentMeta {
                    content_type: content_type_of(&a.file_name).to_owned(),
                    file_name: Some(a.file_name.clone()),
                    size: None,
                })
                .collect();
            let lang = match actor.user.languages.first() {
                Some(tag) => Lang::from_tag(tag),
                None => Lang::En,
            };
            let rules = self.account_rules(account).await?;
            let report = compliance::check(&draft, &rules, now, lang);
            if report.is_blocked() {
                tracing::info!(findings = report.findings.len(), "Amazon message blocked by the compliance gate");
                return Err(AppError::Blocked(Box::new(report)));
            }
            let client = self.amazon_client(&c)?;
            client.send_message(order, action, text, &input.attachments).await.map_err(amazon_error)?;
            let line = format!("{} sent Amazon's {action} message for order {order}", actor.user.name);
            Ok((line, (!report.findings.is_empty()).then_some(report)))
        }
        .await;
        let (conversation_id, report) = self.finish_amazon(actor, account, attempt, result).await?;
        Ok(AmazonSent { conversation_id, report })
    }

    /// Asks Amazon to request a review and seller feedback for an order:
    /// 5 to 30 days after delivery, once per order.
    #[tracing::instrument(skip_all, fields(connection_id = %connection))]
    pub async fn request_review(
        &self,
        actor: &Actor,
        account: AccountId,
        connection: ShopConnectionId,
        order: &str,
    ) -> AppResult<AmazonSent> {
        actor.in_account(account)?;
        let order = check_order_id(order.trim())?;
        let c = self.amazon_connection(account, connection).await?;
        let attempt = Attempt { action: AUDIT_REVIEW, connection: &c, order, details: json!({}) };
        let result = async {
            if let Some(why) = self.review_refusal(account, &c, order).await? {
                return Err(AppError::Conflict(why));
            }
            self.amazon_client(&c)?.request_review(order).await.map_err(amazon_error)?;
            Ok((format!("{} asked Amazon to request a review for order {order}", actor.user.name), None))
        }
        .await;
        let (conversation_id, report) = self.finish_amazon(actor, account, attempt, result).await?;
        Ok(AmazonSent { conversation_id, report })
    }

    /// Audits an attempt and tells a done one in the order's conversation.
    async fn finish_amazon(
        &self,
        actor: &Actor,
        account: AccountId,
        attempt: Attempt<'_>,
        result: AppResult<(String, Option<Report>)>,
    ) -> AppResult<(Option<ConversationId>, Option<Report>)> {
        let (outcome, error) = match &result {
            Ok(_) => (AuditOutcome::Ok, None),
            Err(e) => (AuditOutcome::Failed, Some(e.to_string())),
        };
        let conversation = match self.storage.conversation_of_amazon_order(account, attempt.order).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not look up the conversation of an Amazon order");
                None
            }
        };
        let mut details = attempt.details;
        if let Some(o) = details.as_object_mut() {
            o.insert("amazon_order_id".into(), Value::from(attempt.order));
            o.insert("connection_id".into(), Value::from(attempt.connection.id.0));
            if let Some(c) = conversation {
                o.insert("conversation_id".into(), Value::from(c.0));
            }
        }
        let entry = NewAuditEntry {
            actor_id: Some(actor.user.id),
            actor_name: actor.user.name.clone(),
            action: attempt.action.to_owned(),
            target_kind: AUDIT_TARGET.to_owned(),
            target_id: format!("{}:{}", attempt.connection.id.0, attempt.order),
            details,
            outcome,
            error,
        };
        let audited = self.storage.append_audit(account, entry, self.clock.now()).await;
        let (line, report) = match (result, audited) {
            (Ok(done), Ok(_)) => done,
            // Amazon has it: a failed audit write must not make it look
            // unsent (it would be sent again).
            (Ok(done), Err(e)) => {
                tracing::error!(error = %e, action = attempt.action, "could not write the audit entry");
                done
            }
            (Err(e), _) => return Err(e),
        };
        if let Some(c) = conversation
            && let Err(e) = self.post_activity(account, c, line).await
        {
            tracing::warn!(error = %e, "could not write the Amazon activity line");
        }
        Ok((conversation, report))
    }

    /// Verifies a relayed Selling Partner API notification (`X-Ferry-Signature`:
    /// `sha256=` and the hex HMAC-SHA256 of the raw body with the
    /// connection's secret) and applies an `ORDER_CHANGE` to the mirror;
    /// a re-delivered notification id changes nothing.
    #[tracing::instrument(skip_all, fields(connection_id = %connection))]
    pub async fn ingest_amazon_notification(
        &self,
        connection: ShopConnectionId,
        signature: Option<&str>,
        body: &[u8],
    ) -> AppResult<AmazonNotificationOutcome> {
        let c = self.storage.find_shop_connection(connection).await?.ok_or(AppError::NotFound("Amazon connection"))?;
        if c.platform != ShopPlatform::Amazon {
            return Err(AppError::NotFound("Amazon connection"));
        }
        let signature = signature.ok_or(AppError::Unauthorized("missing X-Ferry-Signature header"))?;
        if !ferry_core::signature::verify(c.secret.as_bytes(), body, signature) {
            return Err(AppError::Unauthorized("the signature does not match the body"));
        }
        let n = notifications::parse(body).map_err(|e| AppError::Malformed(e.to_string()))?;
        let other_marketplace = n.marketplace_id.as_deref().is_some_and(|m| m != c.shop_domain);
        if n.writes.is_empty() || other_marketplace {
            tracing::info!(kind = %n.kind, other_marketplace, "ignoring an Amazon notification");
            return Ok(AmazonNotificationOutcome { kind: n.kind, ignored: true, applied: None });
        }
        let id = format!("amazon:{}", n.id);
        let out = self.storage.apply_mirror_writes(c.account_id, c.id, Some(id), n.writes, self.clock.now()).await?;
        Ok(AmazonNotificationOutcome { kind: n.kind, ignored: false, applied: Some(out) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_review_window_is_five_to_thirty_days_after_delivery() {
        let d = Utc.with_ymd_and_hms(2025, 3, 6, 12, 0, 0).single().unwrap_or_default();
        let o = "903-8868176-2219830";
        assert!(review_window_refusal(o, None, d).is_some_and(|m| m.contains("not been delivered")));
        assert!(review_window_refusal(o, Some(d), d + Duration::days(3)).is_some_and(|m| m.contains("2025-03-11")));
        assert_eq!(review_window_refusal(o, Some(d), d + Duration::days(10)), None);
        assert_eq!(review_window_refusal(o, Some(d), d + Duration::days(30)), None);
        assert!(review_window_refusal(o, Some(d), d + Duration::days(31)).is_some_and(|m| m.contains("ended")));
    }

    #[test]
    fn order_ids_are_three_seven_seven_digits() {
        assert!(check_order_id("903-8868176-2219830").is_ok());
        assert!(check_order_id("903-8868176-221983").is_err());
        assert!(check_order_id("../../x").is_err());
    }
}
