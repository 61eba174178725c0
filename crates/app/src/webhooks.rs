//! Outgoing webhooks: an account's owners and admins subscribe outside
//! URLs to its events. The feed follows the event bus (on every node; each
//! event is queued once per webhook whichever node sees it first, by its
//! key in the delivery log) and queues one delivery job per subscribed
//! webhook. A delivery POSTs
//! `{"id","event","timestamp","account":{"id"},"payload"}` signed with
//! `X-Ferry-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
//! retried with back-off; the delivery log keeps each delivery's last
//! answer. A webhook failing `disable_after_failures` attempts in a row,
//! or for `disable_after`, is disabled and an alert is raised. Receivers
//! on private, loopback or link-local addresses are refused (at
//! subscription and at each delivery, against the resolved addresses,
//! which the request is then pinned to) unless the configuration allows
//! them.

use crate::auth::{Actor, new_secret};
use crate::{App, AppError, AppResult};
use chrono::Duration;
use ferry_api_types::{ContactView, ConversationView, MessageView};
use ferry_commerce::detect::{AlertKind, Severity};
use ferry_core::conversation::{Change, Status};
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::message::MessageKind;
use ferry_core::{AccountId, WebhookDeliveryId, WebhookId};
use ferry_jobs::{JobError, JobKind};
use ferry_storage::{
    Job, NewAlert, NewWebhook, NewWebhookDelivery, Webhook, WebhookAttempt, WebhookDelivery, WebhookPatch,
};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// The event types a webhook may subscribe to.
pub const EVENT_TYPES: [&str; 9] = [
    "conversation_created",
    "conversation_updated",
    "conversation_resolved",
    "message_created",
    "message_updated",
    "contact_created",
    "contact_updated",
    "order_linked",
    "csat_received",
];

/// The event type of a test delivery (sent whatever the subscription).
pub const TEST_EVENT: &str = "test";

/// How many bytes of a receiver's answer the delivery log keeps.
pub const RESPONSE_BYTES: usize = 512;

/// Most webhooks per account.
pub const MAX_WEBHOOKS: usize = 20;

/// How outgoing webhooks behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Allow receivers on private, loopback and link-local addresses
    /// (tests; an installation whose integrations run on its own network).
    pub allow_private_targets: bool,
    /// Disable a webhook after this many failed attempts in a row.
    pub disable_after_failures: u32,
    /// Disable a webhook failing for this long without a success.
    pub disable_after: Duration,
    /// How long one attempt may take.
    pub timeout: std::time::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            disable_after_failures: 50,
            disable_after: Duration::hours(24),
            timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// A webhook to create.
#[derive(Debug, Clone)]
pub struct NewWebhookInput {
    /// Receiver URL.
    pub url: String,
    /// Event types.
    pub events: Vec<String>,
}

/// Whether an address is one an outside receiver may have: not loopback,
/// private, link-local, shared, documentation, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || v6 == Ipv6Addr::from([0u8; 16]))
        }
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// Checks a receiver URL's shape: http(s), a host, no credentials.
pub fn parse_target(raw: &str) -> AppResult<url::Url> {
    let bad = |m: &str| AppError::invalid("url", m.to_owned());
    let raw = raw.trim();
    if raw.len() > 2048 {
        return Err(bad("the URL is longer than 2048 characters"));
    }
    let u = url::Url::parse(raw).map_err(|_| bad("the URL is not valid"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad("the URL must start with https:// or http://"));
    }
    if u.host().is_none() {
        return Err(bad("the URL has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("the URL must not carry a user name or password"));
    }
    Ok(u)
}

/// Resolves a receiver's addresses and refuses it when any is not public
/// (unless `allow_private`).
pub async fn resolve_target(u: &url::Url, allow_private: bool) -> AppResult<Vec<SocketAddr>> {
    let port = u.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match u.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(d)) => tokio::net::lookup_host((d, port))
            .await
            .map_err(|_| AppError::invalid("url", "the URL's host name does not resolve"))?
            .collect(),
        None => Vec::new(),
    };
    if addrs.is_empty() {
        return Err(AppError::invalid("url", "the URL's host name does not resolve"));
    }
    if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(AppError::invalid("url", "the URL points at a private, loopback or reserved address"));
    }
    Ok(addrs)
}

fn check_events(events: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        let e = e.trim();
        if !EVENT_TYPES.contains(&e) {
            return Err(AppError::invalid(
                "events",
                format!("`{e}` is not an event type; use {}", EVENT_TYPES.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_owned());
        }
    }
    if out.is_empty() {
        return Err(AppError::invalid("events", "subscribe to at least one event type"));
    }
    Ok(out)
}

fn can_manage_webhooks(actor: &Actor, account: AccountId) -> AppResult<()> {
    actor.in_account(account)?;
    if actor.user.role.can_manage_agents() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only owners and admins can manage webhooks"))
    }
}

/// The webhook events one bus event makes, with their payloads, in order.
fn webhook_events(e: &Event, contact: Option<Value>) -> Vec<(&'static str, Value)> {
    let conv = |c: &ferry_core::conversation::Conversation| json!(ConversationView::from(c.clone()));
    let resolved =
        |changes: &[Change]| changes.iter().any(|c| matches!(c, Change::Status { to: Status::Resolved, .. }));
    match e {
        Event::MessageCreated { message } if message.kind != MessageKind::Activity => {
            vec![("message_created", json!({ "message": MessageView::from(message.clone()) }))]
        }
        Event::MessageUpdated { message } => {
            vec![("message_updated", json!({ "message": MessageView::from(message.clone()) }))]
        }
        Event::ConversationCreated { conversation } => {
            vec![("conversation_created", json!({ "conversation": conv(conversation) }))]
        }
        Event::ConversationUpdated { conversation, changes } => {
            let mut out =
                vec![("conversation_updated", json!({ "conversation": conv(conversation), "changes": changes }))];
            if resolved(changes) {
                out.push(("conversation_resolved", json!({ "conversation": conv(conversation) })));
            }
            out
        }
        Event::ContactCreated { contact } => {
            vec![("contact_created", json!({ "contact": ContactView::from(contact.clone()) }))]
        }
        Event::CsatReceived { conversation_id, contact_id, agent_id, rating, comment } => vec![(
            "csat_received",
            json!({
                "conversation_id": conversation_id, "contact_id": contact_id, "agent_id": agent_id,
                "rating": rating, "comment": comment,
            }),
        )],
        Event::OrderLinked { order_id, order_number, contact_id } => vec![(
            "order_linked",
            json!({ "order_id": order_id, "order_number": order_number, "contact_id": contact_id }),
        )],
        Event::ContactUpdated { contact } => {
            vec![("contact_updated", json!({ "contact": ContactView::from(contact.clone()) }))]
        }
        Event::MessageReceived { message, conversation, new_conversation, new_contact, changes } => {
            let mut out = Vec::new();
            if *new_contact && let Some(c) = contact {
                out.push(("contact_created", json!({ "contact": c })));
            }
            if *new_conversation {
                out.push(("conversation_created", json!({ "conversation": conv(conversation) })));
            }
            out.push(("message_created", json!({ "message": MessageView::from(message.clone()) })));
            if !changes.is_empty() {
                out.push(("conversation_updated", json!({ "conversation": conv(conversation), "changes": changes })));
            }
            out
        }
        _ => Vec::new(),
    }
}

fn body(key: &str, event: &str, at: chrono::DateTime<chrono::Utc>, account: AccountId, payload: Value) -> String {
    json!({
        "id": key,
        "event": event,
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "account": { "id": account },
        "payload": payload,
    })
    .to_string()
}

impl App {
    /// Subscribes a URL; returns the webhook with its secret (shown once).
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        account: AccountId,
        input: NewWebhookInput,
    ) -> AppResult<Webhook> {
        can_manage_webhooks(actor, account)?;
        let u = parse_target(&input.url)?;
        let events = check_events(&input.events)?;
        resolve_target(&u, self.config.webhooks.allow_private_targets).await?;
        if self.storage.list_webhooks(account).await?.len() >= MAX_WEBHOOKS {
            return Err(AppError::Conflict(format!("an account has at most {MAX_WEBHOOKS} webhooks")));
        }
        let secret = format!("whsec_{}", new_secret());
        let new = NewWebhook { url: u.to_string(), events, secret };
        Ok(self.storage.create_webhook(account, new, self.clock.now()).await?)
    }

    /// The account's webhooks.
    pub async fn list_webhooks(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<Webhook>> {
        can_manage_webhooks(actor, account)?;
        Ok(self.storage.list_webhooks(account).await?)
    }

    async fn own_webhook(&self, actor: &Actor, account: AccountId, id: WebhookId) -> AppResult<Webhook> {
        can_manage_webhooks(actor, account)?;
        self.storage.get_webhook(account, id).await?.ok_or(AppError::NotFound("webhook"))
    }

    /// Changes a webhook; enabling one clears its failures (and its alert).
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        account: AccountId,
        id: WebhookId,
        url: Option<String>,
        events: Option<Vec<String>>,
        enabled: Option<bool>,
    ) -> AppResult<Webhook> {
        self.own_webhook(actor, account, id).await?;
        let url = match url {
            Some(raw) => {
                let u = parse_target(&raw)?;
                resolve_target(&u, self.config.webhooks.allow_private_targets).await?;
                Some(u.to_string())
            }
            None => None,
        };
        let events = events.as_deref().map(check_events).transpose()?;
        let w =
            self.storage.update_webhook(account, id, WebhookPatch { url, events, enabled }, self.clock.now()).await?;
        if enabled.is_some() {
            self.refresh_webhook_alerts(account).await;
        }
        Ok(w)
    }

    /// Removes a webhook and its delivery log.
    pub async fn delete_webhook(&self, actor: &Actor, account: AccountId, id: WebhookId) -> AppResult<()> {
        self.own_webhook(actor, account, id).await?;
        self.storage.delete_webhook(account, id).await?;
        self.refresh_webhook_alerts(account).await;
        Ok(())
    }

    /// The webhook's last deliveries, newest first.
    pub async fn list_webhook_deliveries(
        &self,
        actor: &Actor,
        account: AccountId,
        id: WebhookId,
        limit: u32,
    ) -> AppResult<Vec<WebhookDelivery>> {
        self.own_webhook(actor, account, id).await?;
        if !(1..=100).contains(&limit) {
            return Err(AppError::invalid("limit", "limit must be between 1 and 100"));
        }
        Ok(self.storage.list_webhook_deliveries(account, id, limit).await?)
    }

    /// Queues a `test` event to the webhook (sent even while disabled is
    /// not: enable it first); returns the delivery.
    pub async fn send_test_webhook(
        &self,
        actor: &Actor,
        account: AccountId,
        id: WebhookId,
    ) -> AppResult<WebhookDelivery> {
        let w = self.own_webhook(actor, account, id).await?;
        if !w.enabled {
            return Err(AppError::Conflict("the webhook is disabled; enable it first".into()));
        }
        let now = self.clock.now();
        let key = format!("test:{}", &new_secret()[..16]);
        let payload = json!({ "message": "a test event from Ferry", "webhook_id": w.id });
        let d = NewWebhookDelivery {
            webhook_id: w.id,
            event_key: key.clone(),
            event: TEST_EVENT.into(),
            body: body(&key, TEST_EVENT, now, account, payload),
        };
        let ids = self
            .storage
            .queue_webhook_deliveries(account, vec![d], JobKind::DELIVER_WEBHOOK, JobKind::WEBHOOK_ATTEMPTS, now)
            .await?;
        self.job_enqueued();
        let id = ids.first().copied().ok_or(AppError::NotFound("webhook"))?;
        self.storage.get_webhook_delivery(account, id).await?.ok_or(AppError::NotFound("delivery"))
    }

    /// Queues the deliveries one published event makes; feeding the same
    /// event again queues nothing more. Returns how many were queued.
    pub async fn feed_webhooks(&self, e: &EventEnvelope) -> AppResult<usize> {
        let account = e.account_id;
        let hooks: Vec<Webhook> =
            self.storage.list_webhooks(account).await?.into_iter().filter(|w| w.enabled).collect();
        if hooks.is_empty() || self.storage.account_suspended(account).await? {
            return Ok(0);
        }
        let contact = match &e.event {
            Event::MessageReceived { conversation, new_contact: true, .. } => {
                self.storage.get_contact(account, conversation.contact_id).await?.map(|c| json!(ContactView::from(c)))
            }
            _ => None,
        };
        let mut deliveries = Vec::new();
        for (event, payload) in webhook_events(&e.event, contact) {
            let key = format!("{}:{event}", e.id);
            let text = body(&key, event, e.created_at, account, payload);
            for w in hooks.iter().filter(|w| w.events.iter().any(|s| s == event)) {
                deliveries.push(NewWebhookDelivery {
                    webhook_id: w.id,
                    event_key: key.clone(),
                    event: event.to_owned(),
                    body: text.clone(),
                });
            }
        }
        if deliveries.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let queued = self
            .storage
            .queue_webhook_deliveries(account, deliveries, JobKind::DELIVER_WEBHOOK, JobKind::WEBHOOK_ATTEMPTS, now)
            .await?;
        if !queued.is_empty() {
            self.job_enqueued();
        }
        Ok(queued.len())
    }

    /// Feeds outgoing webhooks from the bus, forever. Each event handled
    /// moves [`App::webhook_feed`] on.
    pub async fn run_webhook_feed(self: Arc<Self>) {
        let mut events = self.bus.subscribe();
        loop {
            match events.recv().await {
                Ok(e) => {
                    if let Err(err) = self.feed_webhooks(&e).await {
                        tracing::error!(error = %err.report(), event_id = %e.id, "queueing webhook deliveries failed");
                    }
                    self.webhook_fed.send_modify(|n| *n += 1);
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the webhook feed fell behind; events were not sent to webhooks");
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// Counts the events the webhook feed has handled (tests wait on it).
    pub fn webhook_feed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.webhook_fed.subscribe()
    }

    /// One attempt of a delivery job.
    #[tracing::instrument(skip_all, fields(delivery_id = %id))]
    pub async fn deliver_webhook(&self, job: &Job, id: WebhookDeliveryId) -> Result<(), JobError> {
        let account = job.account_id;
        let retry = |e: ferry_storage::StorageError| JobError::Retry(e.to_string());
        let Some(d) = self.storage.get_webhook_delivery(account, id).await.map_err(retry)? else {
            return Err(JobError::Permanent("the delivery is gone (its webhook was deleted)".into()));
        };
        let Some(w) = self.storage.get_webhook(account, d.webhook_id).await.map_err(retry)? else {
            return Err(JobError::Permanent("the webhook was deleted".into()));
        };
        if !w.enabled {
            return Err(JobError::Permanent("the webhook is disabled".into()));
        }
        if self.storage.account_suspended(account).await.map_err(retry)? {
            return Err(JobError::Permanent("the account is suspended".into()));
        }
        let last = job.attempts >= job.max_attempts;
        let (ok, status, answer, error) = match self.post_webhook(&w, &d).await {
            Ok((status, answer)) => {
                let ok = (200..300).contains(&status);
                (ok, Some(status), Some(answer), (!ok).then(|| format!("the receiver answered HTTP {status}")))
            }
            Err(e) => (false, None, None, Some(e)),
        };
        let now = self.clock.now();
        let attempt = WebhookAttempt { ok, status, body: answer, error: error.clone(), last, at: now };
        let after = self.storage.record_webhook_attempt(account, id, attempt).await.map_err(retry)?;
        if ok {
            return Ok(());
        }
        let s = self.config.webhooks;
        let failing_long = after.failing_since.is_some_and(|t| now - t >= s.disable_after);
        if after.enabled && (after.consecutive_failures >= s.disable_after_failures || failing_long) {
            let reason = format!(
                "disabled after {} failed attempts in a row since {}",
                after.consecutive_failures,
                after.failing_since.unwrap_or(now).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            tracing::warn!(webhook_id = %after.id, failures = after.consecutive_failures, "disabling a failing webhook");
            self.storage.disable_webhook(account, after.id, &reason, now).await.map_err(retry)?;
            self.refresh_webhook_alerts(account).await;
            return Err(JobError::Permanent(reason));
        }
        let e = error.unwrap_or_else(|| "the delivery failed".into());
        if last { Err(JobError::Permanent(e)) } else { Err(JobError::Retry(e)) }
    }

    /// Sends a delivery: returns the receiver's status and the first bytes
    /// of its answer, or why there was none.
    async fn post_webhook(&self, w: &Webhook, d: &WebhookDelivery) -> Result<(u16, String), String> {
        let settings = self.config.webhooks;
        let u = parse_target(&w.url).map_err(|e| e.to_string())?;
        let addrs = resolve_target(&u, settings.allow_private_targets).await.map_err(|e| e.to_string())?;
        let mut client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Ferry-Webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(url::Host::Domain(host)) = u.host() {
            // The addresses just checked are the ones connected to.
            client = client.resolve_to_addrs(host, &addrs);
        }
        let client = client.build().map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let unix = self.clock.now().timestamp();
        let signature = ferry_core::signature::sign_timestamped(w.secret.as_bytes(), unix, d.body.as_bytes());
        let sent = client
            .post(u)
            .header("content-type", "application/json")
            .header("x-ferry-signature", signature)
            .header("x-ferry-event", &d.event)
            .header("x-ferry-delivery", d.id.to_string())
            .body(d.body.clone())
            .send()
            .await;
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err("the receiver did not answer in time".into()),
            Err(e) if e.is_connect() => return Err("cannot connect to the receiver".into()),
            Err(_) => return Err("the request to the receiver failed".into()),
        };
        let status = resp.status().as_u16();
        let mut bytes = Vec::new();
        while bytes.len() < RESPONSE_BYTES {
            match resp.chunk().await {
                Ok(Some(c)) => bytes.extend_from_slice(&c),
                _ => break,
            }
        }
        bytes.truncate(RESPONSE_BYTES);
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        // A cut inside a character leaves a replacement mark at the end.
        if text.ends_with('\u{fffd}') {
            text.pop();
        }
        Ok((status, text))
    }

    /// Keeps one alert per webhook Ferry disabled: raised when disabled,
    /// resolved when it is enabled again or deleted.
    async fn refresh_webhook_alerts(&self, account: AccountId) {
        let hooks = match self.storage.list_webhooks(account).await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "cannot read webhooks for their alerts");
                return;
            }
        };
        let found = hooks
            .into_iter()
            .filter(|w| !w.enabled && w.disabled_reason.is_some())
            .map(|w| NewAlert {
                kind: AlertKind::WebhookDisabled,
                key: format!("webhook_disabled:{}", w.id),
                severity: Severity::Critical,
                title: format!("Webhook {} was disabled: its receiver kept failing", w.id),
                details: json!({
                    "webhook_id": w.id,
                    "url": w.url,
                    "reason": w.disabled_reason,
                    "consecutive_failures": w.consecutive_failures,
                    "failing_since": w.failing_since,
                }),
            })
            .collect();
        let now = self.clock.now();
        if let Err(e) = self.storage.record_account_alerts(account, &[AlertKind::WebhookDisabled], found, now).await {
            tracing::error!(error = %e, "cannot record the webhooks' alerts");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "255.255.255.255",
        ] {
            assert!(!is_public(private.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))), "{public}");
        }
    }

    #[test]
    fn target_urls_are_checked() {
        assert!(parse_target("https://hooks.example/in").is_ok());
        assert!(parse_target("ftp://hooks.example/in").is_err());
        assert!(parse_target("https://user:pw@hooks.example/").is_err());
        assert!(parse_target("not a url").is_err());
    }

    #[tokio::test]
    async fn private_targets_are_refused_unless_allowed() {
        let u = parse_target("http://127.0.0.1:9/hook").unwrap_or_else(|_| unreachable!());
        assert!(resolve_target(&u, false).await.is_err());
        assert!(resolve_target(&u, true).await.is_ok());
        let u = parse_target("http://localhost:9/hook").unwrap_or_else(|_| unreachable!());
        assert!(resolve_target(&u, false).await.is_err(), "names resolving to loopback too");
    }

    #[test]
    fn events_are_checked_and_deduplicated() {
        let ok = check_events(&["message_created".into(), "message_created".into()]).unwrap_or_default();
        assert_eq!(ok, vec!["message_created".to_owned()]);
        assert!(check_events(&[]).is_err());
        assert!(check_events(&["nope".into()]).is_err());
    }

    #[test]
    fn a_resolution_is_also_a_resolved_event() {
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let c = ferry_core::conversation::Conversation::opened_by_buyer(
            AccountId(1),
            ferry_core::InboxId(1),
            ferry_core::ContactId(1),
            false,
            at,
            at,
        );
        let e = Event::ConversationUpdated {
            conversation: c,
            changes: vec![Change::Status { from: Status::Open, to: Status::Resolved }],
        };
        let names: Vec<_> = webhook_events(&e, None).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["conversation_updated", "conversation_resolved"]);
    }
}
