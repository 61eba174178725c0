//! Proactive notices as the use cases see them: the account's notices and
//! sending limits; the notices a shop's webhook gives rise to (a shipped
//! parcel, out for delivery, delivered), each decided once per fulfilment
//! with `ferry_core::notices::plan` and logged (scheduled for its moment,
//! or skipped with the reason); and the job that sends a scheduled one
//! through the same outgoing path as everything else (so the compliance
//! gate and the delivery engine apply), as a WhatsApp template when the
//! buyer's window is closed.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_commerce::{Fulfillment, MirrorWrite};
use ferry_core::contact::{Contact, IdentityKind};
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{ContentPart, Sender, TemplateMessage};
use ferry_core::notices::{NoticeKind, NoticeRule, Plan, Reachable, Recipient, SendingPolicy, plan};
use ferry_core::{AccountId, ContactId, ShopConnectionId};
use ferry_jobs::{JobError, JobKind};
use ferry_storage::{NewNoticeSend, NoticeSend, StoredOrder};
use serde::{Deserialize, Serialize};

/// The tag of conversations a notice starts.
pub const NOTICE_TAG: &str = "notice";

/// The account's notices and sending limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSettings {
    /// Quiet hours, frequency caps, consent.
    #[serde(default)]
    pub policy: SendingPolicy,
    /// One rule per kind (every kind, switched off until set).
    #[serde(default)]
    pub rules: Vec<NoticeRule>,
}

impl NoticeSettings {
    fn complete(mut self) -> Self {
        for kind in NoticeKind::ALL {
            if !self.rules.iter().any(|r| r.kind == kind) {
                self.rules.push(NoticeRule::default_for(kind));
            }
        }
        self.rules.sort_by_key(|r| r.kind);
        self
    }

    fn rule(&self, kind: NoticeKind) -> NoticeRule {
        self.rules.iter().find(|r| r.kind == kind).cloned().unwrap_or_else(|| NoticeRule::default_for(kind))
    }
}

/// A buyer's consents and stops, channel by channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactChannels {
    /// Consents to marketing, by channel (or `all`).
    pub consents: Vec<ferry_storage::ContactConsent>,
    /// Channels the buyer stopped (and has not restarted).
    pub stopped: Vec<ferry_storage::ChannelOptOut>,
}

/// How one kind of notice fared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NoticeStats {
    /// The kind.
    pub kind: String,
    /// Sent.
    pub sent: u64,
    /// Of those, delivered (or read).
    pub delivered: u64,
    /// Of those, read.
    pub read: u64,
    /// Of those, answered by the buyer.
    pub replied: u64,
    /// Waiting for their moment.
    pub scheduled: u64,
    /// Failed, by reason.
    pub failed: std::collections::BTreeMap<String, u64>,
    /// Skipped, by reason (`opted_out`, `window_closed`…).
    pub skipped: std::collections::BTreeMap<String, u64>,
}

impl NoticeStats {
    /// Counts a tally of the send log in; false for a state it does not
    /// count (a campaign's hold-out).
    pub(crate) fn add(&mut self, t: &ferry_storage::NoticeTally) -> bool {
        let reason = || t.reason.clone().unwrap_or_else(|| "unknown".into());
        match t.state.as_str() {
            "sent" => {
                self.sent += t.count;
                self.delivered += t.delivered;
                self.read += t.read;
                self.replied += t.replied;
            }
            "scheduled" => self.scheduled += t.count,
            "failed" => *self.failed.entry(reason()).or_default() += t.count,
            "skipped" => *self.skipped.entry(reason()).or_default() += t.count,
            _ => return false,
        }
        true
    }
}

/// Intents of "where is my order" questions.
pub const WISMO_INTENTS: [&str; 3] = ["order_status", "shipping_delay", "delivery_time"];

/// "Where is my order" conversations per 100 orders in a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WismoPeriod {
    /// From.
    pub from: chrono::DateTime<chrono::Utc>,
    /// To (excluded).
    pub to: chrono::DateTime<chrono::Utc>,
    /// Orders placed.
    pub orders: u64,
    /// Conversations the bot placed under a "where is my order" intent.
    pub wismo: u64,
    /// Of those, per 100 orders (`None` without orders).
    pub per_100_orders: Option<f64>,
}

/// What the shipped and delayed notices changed: "where is my order"
/// conversations per 100 orders in the days before they were switched on
/// and the same number of days since.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeImpact {
    /// When the first of them was switched on (`None`: neither is on).
    pub enabled_since: Option<chrono::DateTime<chrono::Utc>>,
    /// The days on each side.
    pub days: u32,
    /// Before.
    pub before: Option<WismoPeriod>,
    /// Since.
    pub after: Option<WismoPeriod>,
}

/// The notices a fulfilment gives rise to: shipped once it is live with a
/// tracking number or link, and its carrier's last step.
fn notices_of(f: &Fulfillment) -> Vec<NoticeKind> {
    if !f.is_live() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if f.tracking_number.is_some() || f.tracking_url.is_some() || f.status == "success" {
        out.push(NoticeKind::Shipped);
    }
    match f.shipment_status.as_deref() {
        Some("out_for_delivery") => out.push(NoticeKind::OutForDelivery),
        Some("delivered") => out.push(NoticeKind::Delivered),
        _ => {}
    }
    out
}

fn channel_of(kind: IdentityKind) -> Vec<ChannelKind> {
    match kind {
        IdentityKind::Whatsapp => vec![ChannelKind::Whatsapp],
        IdentityKind::Phone => vec![ChannelKind::Whatsapp, ChannelKind::Sms],
        IdentityKind::Email => vec![ChannelKind::Email],
        IdentityKind::Messenger => vec![ChannelKind::Messenger],
        IdentityKind::Instagram => vec![ChannelKind::Instagram],
        IdentityKind::Telegram => vec![ChannelKind::Telegram],
        _ => Vec::new(),
    }
}

impl App {
    pub(crate) async fn load_notice_settings(&self, account: AccountId) -> AppResult<NoticeSettings> {
        let stored = self.storage.notice_settings(account).await?;
        let settings = match stored {
            Some(v) => serde_json::from_value(v).map_err(|e| AppError::internal("reading the notice settings", e))?,
            None => NoticeSettings { policy: SendingPolicy::default(), rules: Vec::new() },
        };
        Ok(settings.complete())
    }

    /// The account's notices (every kind) and sending limits.
    pub async fn notice_settings(&self, actor: &Actor, account: AccountId) -> AppResult<NoticeSettings> {
        actor.in_account(account)?;
        self.load_notice_settings(account).await
    }

    /// Replaces the account's notices and limits (owners and admins),
    /// audited.
    pub async fn set_notice_settings(
        &self,
        actor: &Actor,
        account: AccountId,
        settings: NoticeSettings,
    ) -> AppResult<NoticeSettings> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        for (i, r) in settings.rules.iter().enumerate() {
            if settings.rules[..i].iter().any(|o| o.kind == r.kind) {
                return Err(AppError::invalid("rules", format!("{} is set twice", r.kind.as_str())));
            }
            r.check().map_err(|e| AppError::invalid("rules", format!("{}: {e}", r.kind.as_str())))?;
        }
        if settings.policy.marketing_per_week > 50 {
            return Err(AppError::invalid("policy", "at most 50 marketing messages a week"));
        }
        let now = self.clock.now();
        // When each notice was switched on is Ferry's to keep.
        let before = self.load_notice_settings(account).await?;
        let mut settings = settings.complete();
        for r in &mut settings.rules {
            let was = before.rule(r.kind);
            r.enabled_since = match (r.enabled, was.enabled) {
                (false, _) => None,
                (true, true) => was.enabled_since,
                (true, false) => Some(now),
            };
        }
        let value = serde_json::to_value(&settings).map_err(|e| AppError::internal("saving the notice settings", e))?;
        self.storage.set_notice_settings(account, value.clone(), now).await?;
        let entry = ferry_storage::NewAuditEntry {
            actor_id: Some(actor.user.id),
            actor_name: actor.user.name.clone(),
            action: "notices.update".into(),
            target_kind: "account".into(),
            target_id: account.to_string(),
            details: value,
            outcome: ferry_storage::AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(account, entry, now).await {
            tracing::error!(error = %e, "could not write the audit entry");
        }
        Ok(settings)
    }

    /// A buyer's consents to marketing and the channels they stopped.
    pub async fn contact_channels(
        &self,
        actor: &Actor,
        account: AccountId,
        contact: ContactId,
    ) -> AppResult<ContactChannels> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.get_contact(account, contact).await?.ok_or(AppError::NotFound("contact"))?;
        let consents = self.storage.contact_consents(account, contact).await?;
        let mut stopped = Vec::new();
        for channel in ferry_core::notices::NOTICE_CHANNELS {
            if let Some(o) = self.storage.get_channel_opt_out(account, contact, channel).await?
                && o.opted_out
            {
                stopped.push(o);
            }
        }
        Ok(ContactChannels { consents, stopped })
    }

    /// Records what a buyer said about marketing on `channel` (a channel's
    /// name, or `all`): given or withdrawn, with where it came from.
    /// Agents may record it (the buyer told them); audited.
    pub async fn set_contact_consent(
        &self,
        actor: &Actor,
        account: AccountId,
        contact: ContactId,
        channel: &str,
        granted: bool,
        source: &str,
    ) -> AppResult<ContactChannels> {
        actor.in_account(account)?;
        actor.can_reply()?;
        // Another account's buyer is not found, whatever was sent.
        self.storage.get_contact(account, contact).await?.ok_or(AppError::NotFound("contact"))?;
        let channel = channel.trim().to_ascii_lowercase();
        if channel != "all" && !ferry_core::notices::NOTICE_CHANNELS.iter().any(|c| c.as_str() == channel) {
            return Err(AppError::invalid("channel", "a channel notices can use (whatsapp, email, sms, …) or all"));
        }
        let source = source.trim();
        if source.is_empty() || source.chars().count() > 64 || source.chars().any(char::is_control) {
            return Err(AppError::invalid("source", "where the consent came from, in 1 to 64 characters"));
        }
        let now = self.clock.now();
        let consent = ferry_storage::ContactConsent {
            contact_id: contact,
            channel: channel.clone(),
            granted,
            source: source.to_owned(),
            recorded_by: Some(actor.user.id),
            recorded_at: now,
        };
        self.storage.set_contact_consent(account, consent).await.map_err(|e| match e {
            ferry_storage::StorageError::NotFound => AppError::NotFound("contact"),
            other => other.into(),
        })?;
        let entry = ferry_storage::NewAuditEntry {
            actor_id: Some(actor.user.id),
            actor_name: actor.user.name.clone(),
            action: if granted { "contact.consent_given".into() } else { "contact.consent_withdrawn".into() },
            target_kind: "contact".into(),
            target_id: contact.to_string(),
            details: serde_json::json!({ "channel": channel, "source": source }),
            outcome: ferry_storage::AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(account, entry, now).await {
            tracing::error!(error = %e, "could not write the audit entry");
        }
        self.contact_channels(actor, account, contact).await
    }

    /// How each kind of notice fared over the last `days` days.
    pub async fn notice_stats(&self, actor: &Actor, account: AccountId, days: u32) -> AppResult<Vec<NoticeStats>> {
        actor.in_account(account)?;
        actor.can_view()?;
        let since = self.clock.now() - chrono::Duration::days(i64::from(days.clamp(1, 366)));
        let tallies = self.storage.notice_tallies(account, since).await?;
        let mut out: Vec<NoticeStats> =
            NoticeKind::ALL.iter().map(|k| NoticeStats { kind: k.as_str().into(), ..NoticeStats::default() }).collect();
        for t in &tallies {
            if let Some(s) = out.iter_mut().find(|s| s.kind == t.kind) {
                s.add(t);
            }
        }
        Ok(out)
    }

    /// "Where is my order" conversations per 100 orders before and since
    /// the shipped or delayed notice was switched on, `days` on each side
    /// (from the insights' facts: conversations the bot placed).
    pub async fn notice_impact(&self, actor: &Actor, account: AccountId, days: u32) -> AppResult<NoticeImpact> {
        actor.in_account(account)?;
        actor.can_view()?;
        let days = days.clamp(1, 365);
        let settings = self.load_notice_settings(account).await?;
        let on = [NoticeKind::Shipped, NoticeKind::Delayed]
            .into_iter()
            .map(|k| settings.rule(k))
            .filter(|r| r.enabled)
            .filter_map(|r| r.enabled_since)
            .min();
        let Some(on) = on else { return Ok(NoticeImpact { enabled_since: None, days, before: None, after: None }) };
        // The facts of conversations written since the last refresh.
        self.refresh_pending_facts().await?;
        let span = chrono::Duration::days(i64::from(days));
        let intents: Vec<String> = WISMO_INTENTS.iter().map(|s| (*s).to_owned()).collect();
        let period = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
            let intents = intents.clone();
            async move {
                let (orders, wismo) = self.storage.wismo_counts(account, intents, from, to).await?;
                #[allow(clippy::cast_precision_loss)]
                let per_100_orders = (orders > 0).then(|| (wismo as f64) * 100.0 / (orders as f64));
                AppResult::Ok(WismoPeriod { from, to, orders, wismo, per_100_orders })
            }
        };
        let before = period(on - span, on).await?;
        let after = period(on, (on + span).min(self.clock.now())).await?;
        Ok(NoticeImpact { enabled_since: Some(on), days, before: Some(before), after: Some(after) })
    }

    /// The send log, newest first.
    pub async fn notice_log(
        &self,
        actor: &Actor,
        account: AccountId,
        before: Option<i64>,
        limit: u32,
    ) -> AppResult<Vec<NoticeSend>> {
        actor.in_account(account)?;
        actor.can_view()?;
        Ok(self.storage.list_notice_sends(account, before, limit).await?)
    }

    /// The notices the writes of one shop webhook give rise to, each
    /// decided once (a re-delivered webhook decides nothing again).
    /// The notices a shop webhook's writes give rise to: shipped, out for
    /// delivery and delivered per fulfilment; order confirmed and cancelled
    /// per order; refunded per refund — each decided once per key, and only
    /// for events of the last two days (an old order re-sent by the shop
    /// tells nobody anything).
    pub(crate) async fn notices_for_writes(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        writes: &[MirrorWrite],
    ) -> AppResult<usize> {
        let now = self.clock.now();
        let recent = |t: chrono::DateTime<chrono::Utc>| now - t <= chrono::Duration::days(2);
        let c = connection.0;
        let mut events: Vec<(NoticeKind, &str, String)> = Vec::new();
        for w in writes {
            match w {
                MirrorWrite::Fulfillment(f) => {
                    for kind in notices_of(f) {
                        events.push((kind, &f.order_external_id, format!("{}:{c}:{}", kind.as_str(), f.external_id)));
                    }
                }
                MirrorWrite::Order(o) => match o.cancelled_at {
                    Some(at) if recent(at) => {
                        events.push((
                            NoticeKind::OrderCancelled,
                            &o.external_id,
                            format!("order_cancelled:{c}:{}", o.external_id),
                        ));
                    }
                    None if recent(o.created_at) => {
                        events.push((
                            NoticeKind::OrderConfirmed,
                            &o.external_id,
                            format!("order_confirmed:{c}:{}", o.external_id),
                        ));
                    }
                    _ => {}
                },
                MirrorWrite::Refund(r) if recent(r.created_at) => {
                    events.push((
                        NoticeKind::Refunded,
                        &r.order_external_id,
                        format!("refunded:{c}:{}", r.external_id),
                    ));
                }
                _ => {}
            }
        }
        if events.is_empty() {
            return Ok(0);
        }
        let settings = self.load_notice_settings(account).await?;
        let mut journeys: std::collections::HashMap<NoticeKind, bool> = std::collections::HashMap::new();
        let mut decided = 0;
        for (kind, order_external_id, key) in events {
            let rule = settings.rule(kind);
            let journey = match journeys.get(&kind) {
                Some(j) => *j,
                None => {
                    let j = !self.storage.journeys_for_event(account, kind.as_str()).await?.is_empty();
                    journeys.insert(kind, j);
                    j
                }
            };
            if !rule.enabled && !journey {
                continue;
            }
            let Some(order) = self.storage.order_by_external_id(account, connection, order_external_id).await? else {
                tracing::info!(kind = kind.as_str(), "an event of an order not in the mirror: no notice");
                continue;
            };
            let Some(order) = self.storage.get_order(account, order).await? else { continue };
            let buyer = self.order_buyer(account, &order).await?;
            if journey {
                self.enrol_for_event(account, kind, &key, buyer.as_ref(), Some(order.id.0)).await?;
            }
            if rule.enabled && self.decide_notice(account, &settings, &rule, &key, buyer, Some(&order)).await? {
                decided += 1;
            }
        }
        Ok(decided)
    }

    /// The back-in-stock notices of a shop: every open request whose
    /// variant can be bought again is decided once and closed.
    pub(crate) async fn notices_for_restock(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
    ) -> AppResult<usize> {
        let waiting = self.storage.waiting_stock_subscriptions(account, connection).await?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let settings = self.load_notice_settings(account).await?;
        let rule = settings.rule(NoticeKind::BackInStock);
        if !rule.enabled {
            // Kept open: they are told once the notice is switched on.
            return Ok(0);
        }
        let products = self.storage.list_products(account, connection).await?;
        let stock: std::collections::HashMap<String, i64> =
            self.storage.stock_levels(account, connection).await?.into_iter().collect();
        let mut decided = 0;
        for s in waiting {
            let back = products
                .iter()
                .filter(|p| p.external_id == s.product_external_id && p.status == "active")
                .flat_map(|p| p.variants.iter())
                .find(|v| v.external_id == s.variant_external_id)
                .and_then(|v| ferry_commerce::detect::variant_stock(v, &stock))
                .is_some_and(|n| n > 0);
            if !back {
                continue;
            }
            let buyer = self.storage.get_contact(account, s.contact_id).await?;
            let key = format!("back_in_stock:{}:{}", connection.0, s.id);
            if self.decide_notice(account, &settings, &rule, &key, buyer, None).await? {
                decided += 1;
            }
            // Decided now or by an earlier run that stopped before this.
            self.storage.close_stock_subscription(account, s.id, self.clock.now()).await?;
        }
        Ok(decided)
    }

    /// The delay notices of the late orders the detectors found, each
    /// decided once per order.
    pub(crate) async fn notices_for_late_orders(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        late: &[String],
    ) -> AppResult<usize> {
        if late.is_empty() {
            return Ok(0);
        }
        let settings = self.load_notice_settings(account).await?;
        let rule = settings.rule(NoticeKind::Delayed);
        let journey = !self.storage.journeys_for_event(account, NoticeKind::Delayed.as_str()).await?.is_empty();
        if !rule.enabled && !journey {
            return Ok(0);
        }
        let mut decided = 0;
        for external_id in late {
            let Some(order) = self.storage.order_by_external_id(account, connection, external_id).await? else {
                continue;
            };
            let Some(order) = self.storage.get_order(account, order).await? else { continue };
            let key = format!("delayed:{}:{external_id}", connection.0);
            let buyer = self.order_buyer(account, &order).await?;
            if journey {
                self.enrol_for_event(account, NoticeKind::Delayed, &key, buyer.as_ref(), Some(order.id.0)).await?;
            }
            if rule.enabled && self.decide_notice(account, &settings, &rule, &key, buyer, Some(&order)).await? {
                decided += 1;
            }
        }
        Ok(decided)
    }

    /// The buyer of an order as a contact: the one their e-mail or phone
    /// already names, else a new one from the order.
    async fn order_buyer(&self, account: AccountId, order: &StoredOrder) -> AppResult<Option<Contact>> {
        let o = &order.details.order;
        let email = o.email.as_deref().and_then(ferry_core::account::normalize_email);
        let country = o.shipping_address.as_ref().map(|a| a.country_code.clone()).filter(|c| !c.is_empty());
        let phone = o.phone.as_deref().and_then(|p| ferry_core::contact::normalize_phone(p, country.as_deref()).ok());
        let known = self
            .storage
            .contacts_by_address(account, email.iter().cloned().collect(), phone.iter().cloned().collect())
            .await?;
        if let Some(id) = known.into_iter().min_by_key(|c| c.0) {
            let contact = self.storage.get_contact(account, id).await?;
            // A buyer known only by their chat learns their country from
            // where their order ships (their language and quiet hours follow).
            if let (Some(c), Some(country)) = (&contact, &country)
                && c.country.is_none()
            {
                let patch = ferry_storage::ContactPatch { country: Some(Some(country.clone())), ..Default::default() };
                return Ok(Some(self.storage.update_contact(account, c.id, patch, self.clock.now()).await?));
            }
            return Ok(contact);
        }
        let mut identities = Vec::new();
        if let Some(e) = &email {
            identities.extend(ferry_core::contact::Identity::new(IdentityKind::Email, e, None).ok());
        }
        if let Some(p) = &phone {
            identities.extend(ferry_core::contact::Identity::new(IdentityKind::Phone, p, None).ok());
        }
        if identities.is_empty() {
            return Ok(None);
        }
        let name = o
            .customer_name
            .clone()
            .or_else(|| o.shipping_address.as_ref().map(|a| a.name.clone()))
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.clone().or(phone.clone()).unwrap_or_default());
        let language = country.as_deref().and_then(ferry_core::notices::country_language).map(str::to_owned);
        let new = ferry_storage::NewContact {
            name,
            country,
            language,
            timezone: None,
            vip: false,
            custom_attributes: Default::default(),
            tags: Vec::new(),
            identities,
        };
        match self.storage.create_contact(account, new, self.clock.now()).await {
            Ok(c) => Ok(Some(c)),
            // Created meanwhile by intake: that one.
            Err(ferry_storage::StorageError::Conflict { .. }) => {
                let again = self
                    .storage
                    .contacts_by_address(account, email.into_iter().collect(), phone.into_iter().collect())
                    .await?;
                match again.into_iter().min_by_key(|c| c.0) {
                    Some(id) => Ok(self.storage.get_contact(account, id).await?),
                    None => Ok(None),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// What the planner knows of a buyer: the channels the account has an
    /// inbox for and the buyer an address on, their last-used first.
    pub(crate) async fn recipient(
        &self,
        account: AccountId,
        contact: &Contact,
        inboxes: &[Inbox],
    ) -> AppResult<Recipient> {
        let mut channels: Vec<Reachable> = Vec::new();
        let consents = self.storage.contact_consents(account, contact.id).await?;
        let filter = ferry_storage::ConversationFilter {
            contact_id: Some(contact.id),
            ..ferry_storage::ConversationFilter::default()
        };
        let conversations = self.storage.list_conversations(account, &filter, None, 20).await?.items;
        for identity in &contact.identities {
            for channel in channel_of(identity.kind) {
                let scoped_ok = identity.inbox_id.is_none_or(|id| inboxes.iter().any(|i| i.id == id));
                if channels.iter().any(|c| c.channel == channel)
                    || !scoped_ok
                    || !inboxes.iter().any(|i| i.channel == channel)
                {
                    continue;
                }
                let last = conversations
                    .iter()
                    .filter(|c| inboxes.iter().any(|i| i.id == c.inbox_id && i.channel == channel))
                    .filter_map(|c| c.last_buyer_message_at)
                    .max();
                let opted_out = self.storage.is_opted_out(account, contact.id, channel).await?;
                let consent = consents
                    .iter()
                    .filter(|c| c.channel == channel.as_str() || c.channel == "all")
                    .max_by_key(|c| c.recorded_at)
                    .is_some_and(|c| c.granted);
                channels.push(Reachable { channel, last_buyer_message_at: last, opted_out, consent });
            }
        }
        channels.sort_by_key(|c| std::cmp::Reverse(c.last_buyer_message_at));
        Ok(Recipient {
            channels,
            language: contact.language.clone().or_else(|| {
                contact.country.as_deref().and_then(ferry_core::notices::country_language).map(str::to_owned)
            }),
            timezone: contact.timezone.clone(),
            country: contact.country.clone(),
            amazon: contact.identities.iter().any(|i| i.kind == IdentityKind::Amazon),
            marketing_last_week: self
                .storage
                .marketing_sends_since(account, contact.id, self.clock.now() - chrono::Duration::days(7))
                .await?,
        })
    }

    /// Decides one notice for `buyer` (about `order`, when it is about one)
    /// once per `key`, and schedules its send or logs why not; false when
    /// it was decided before.
    async fn decide_notice(
        &self,
        account: AccountId,
        settings: &NoticeSettings,
        rule: &NoticeRule,
        key: &str,
        buyer: Option<Contact>,
        order: Option<&StoredOrder>,
    ) -> AppResult<bool> {
        let now = self.clock.now();
        let contact = buyer;
        let inboxes = self.storage.list_inboxes(account).await?;
        let account_language = self.account_language(account).await?;
        let (decision, contact_id) = match &contact {
            Some(c) if !self.notice_conditions_hold(account, rule, c, order).await? => {
                (Plan::Skip(ferry_core::notices::Skip::Conditions), Some(c.id))
            }
            Some(c) => {
                let to = self.recipient(account, c, &inboxes).await?;
                (plan(rule, rule.kind.purpose(), &to, &settings.policy, &account_language, now), Some(c.id))
            }
            None => (Plan::Skip(ferry_core::notices::Skip::NoChannel), None),
        };
        let new = match &decision {
            Plan::Send { channel, at, .. } => NewNoticeSend {
                kind: rule.kind.as_str().into(),
                dedup_key: key.to_owned(),
                contact_id,
                order_id: order.map(|o| o.id.0),
                channel: Some(channel.as_str().into()),
                state: "scheduled".into(),
                reason: None,
                scheduled_at: *at,
                campaign_id: None,
                journey_id: None,
                marketing: rule.kind.purpose() == ferry_core::notices::Purpose::Marketing,
            },
            Plan::Skip(why) => NewNoticeSend {
                kind: rule.kind.as_str().into(),
                dedup_key: key.to_owned(),
                contact_id,
                order_id: order.map(|o| o.id.0),
                channel: None,
                state: "skipped".into(),
                reason: Some(why.as_str().into()),
                scheduled_at: now,
                campaign_id: None,
                journey_id: None,
                marketing: false,
            },
        };
        let Some(claimed) = self.storage.claim_notice_send(account, new, now).await? else { return Ok(false) };
        if let Plan::Send { at, .. } = decision {
            let job = JobKind::SendNotice { notice_id: claimed.id }.new_job(account, at);
            self.storage.enqueue_job(job).await?;
            self.job_enqueued();
        }
        tracing::info!(kind = %claimed.kind, state = %claimed.state, "notice decided");
        Ok(true)
    }

    /// Whether the order and the buyer meet the notice's conditions.
    async fn notice_conditions_hold(
        &self,
        account: AccountId,
        rule: &NoticeRule,
        buyer: &Contact,
        order: Option<&StoredOrder>,
    ) -> AppResult<bool> {
        let first_order = match (rule.first_order_only, order) {
            (true, Some(o)) => {
                let placed = o.details.order.created_at;
                let theirs = self.orders_of(account, buyer).await?;
                !theirs.iter().any(|x| x.id != o.id && x.details.order.created_at < placed)
            }
            _ => true,
        };
        let facts = ferry_core::notices::NoticeFacts {
            order_total_minor: order.map(|o| o.details.order.total_minor),
            first_order,
            tags: &buyer.tags,
        };
        Ok(rule.conditions_hold(&facts))
    }

    /// Sends a scheduled notice (the `send_notice` job).
    pub(crate) async fn send_notice(&self, account: AccountId, id: i64) -> Result<(), JobError> {
        let retry = |e: AppError| JobError::Retry(e.report());
        let Some(n) = self.storage.get_notice_send(account, id).await.map_err(|e| retry(e.into()))? else {
            return Err(JobError::Permanent("the notice is gone".into()));
        };
        if n.state != "scheduled" {
            return Ok(());
        }
        let now = self.clock.now();
        let fail = |reason: String| async move {
            self.storage
                .finish_notice_send(account, id, "failed", None, Some(reason.clone()), None, now)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))?;
            Err::<(), JobError>(JobError::Permanent(reason))
        };
        let (Some(contact_id), Some(channel)) =
            (n.contact_id, n.channel.as_deref().and_then(|c| c.parse::<ChannelKind>().ok()))
        else {
            return fail("the buyer or channel is gone".into()).await;
        };
        let kind = NoticeKind::parse(&n.kind).ok_or_else(|| JobError::Permanent("unknown notice kind".into()))?;
        match self.compose_and_send_notice(account, kind, &n, contact_id, channel).await {
            // Marked sent with the message, in the same write.
            Ok(_) => Ok(()),
            // Sent (or cancelled) meanwhile by an earlier run of this job.
            Err(AppError::Conflict(_)) => Ok(()),
            Err(e @ (AppError::Storage(_) | AppError::Upstream(_))) => Err(retry(e)),
            Err(e) => fail(e.to_string()).await,
        }
    }

    async fn compose_and_send_notice(
        &self,
        account: AccountId,
        kind: NoticeKind,
        send: &NoticeSend,
        contact_id: ContactId,
        channel: ChannelKind,
    ) -> AppResult<ferry_storage::PostedMessage> {
        let settings = self.load_notice_settings(account).await?;
        let rule = settings.rule(kind);
        let contact = self.storage.get_contact(account, contact_id).await?.ok_or(AppError::NotFound("contact"))?;
        let vars = match send.order_id {
            Some(id) => {
                let order = self
                    .storage
                    .get_order(account, ferry_core::OrderId(id))
                    .await?
                    .ok_or(AppError::NotFound("order"))?;
                order_vars(&contact, &order, send.dedup_key.rsplit(':').next().unwrap_or_default())
            }
            None if kind == NoticeKind::BackInStock => {
                let id = send.dedup_key.rsplit(':').next().and_then(|i| i.parse().ok()).unwrap_or_default();
                let s = self
                    .storage
                    .get_stock_subscription(account, id)
                    .await?
                    .ok_or(AppError::NotFound("back-in-stock request"))?;
                let domain = self
                    .storage
                    .list_shop_connections(account)
                    .await?
                    .into_iter()
                    .find(|c| c.id == s.connection_id)
                    .map(|c| c.shop_domain)
                    .unwrap_or_default();
                let q = s.sku.clone().unwrap_or_else(|| s.title.clone());
                let url = if domain.is_empty() {
                    String::new()
                } else {
                    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
                    format!("https://{domain}/search?q={q}")
                };
                serde_json::json!({
                    "contact": {"name": first_name(&contact)},
                    "product": {"title": s.title, "sku": s.sku.unwrap_or_default(), "url": url},
                })
            }
            None => return Err(AppError::NotFound("order")),
        };
        let language = buyer_language(&contact, "en");
        let outreach = Outreach {
            contact: &contact,
            channel,
            text: rule.text_for(&language),
            template: rule.whatsapp_template.as_ref(),
            template_category: None,
            vars,
            tag: NOTICE_TAG,
            subject: None,
            send: send.id,
        };
        self.send_outreach(account, outreach).await
    }

    /// Sends one planned notice or campaign message to a buyer on
    /// `channel`: in their own conversation of that channel (or a new one
    /// the business starts), as the WhatsApp template when their window
    /// is closed, else as text; through the compliance gate and the
    /// delivery engine; the send marked sent in the same write.
    pub(crate) async fn send_outreach(
        &self,
        account: AccountId,
        out: Outreach<'_>,
    ) -> AppResult<ferry_storage::PostedMessage> {
        let inboxes = self.storage.list_inboxes(account).await?;
        // The buyer's own inbox of the channel when they have one.
        let filter = ferry_storage::ConversationFilter {
            contact_id: Some(out.contact.id),
            ..ferry_storage::ConversationFilter::default()
        };
        let convs = self.storage.list_conversations(account, &filter, None, 20).await?.items;
        let channel = out.channel;
        let inbox = convs
            .iter()
            .find_map(|c| inboxes.iter().find(|i| i.id == c.inbox_id && i.channel == channel))
            .or_else(|| inboxes.iter().find(|i| i.channel == channel))
            .ok_or_else(|| AppError::invalid("channel", format!("the account has no {channel} inbox")))?;
        let conv =
            self.storage.conversation_for_notice(account, inbox.id, out.contact.id, out.tag, self.clock.now()).await?;
        let language = buyer_language(out.contact, "en");
        let window_open = conv
            .last_buyer_message_at
            .is_some_and(|t| self.clock.now() - t <= ferry_core::compliance::channels::STANDARD_WINDOW);
        let parts = match (out.template, channel) {
            (Some(t), ChannelKind::Whatsapp) if !window_open => {
                let base = language.split(['-', '_']).next().unwrap_or_default().to_owned();
                let code = t
                    .languages
                    .get(&language)
                    .or_else(|| t.languages.get(&base))
                    .or_else(|| t.languages.values().next())
                    .cloned()
                    .unwrap_or_default();
                if let Some(category) = out.template_category {
                    self.check_template_category(inbox, &t.name, &code, category).await?;
                }
                let body: Vec<String> = t.body.iter().map(|v| ferry_bot::render::render_or_raw(v, &out.vars)).collect();
                let input = crate::whatsapp::TemplateInput {
                    name: t.name.clone(),
                    language: code,
                    header: Vec::new(),
                    body,
                    buttons: Vec::new(),
                };
                let template: TemplateMessage = self.template_for(account, &conv, inbox, input).await?;
                vec![ContentPart::Template { template: Box::new(template) }]
            }
            _ => {
                let text = ferry_bot::render::render_or_raw(&out.text, &out.vars);
                vec![ContentPart::Text { text: text.trim().to_owned() }]
            }
        };
        let mut parts = parts;
        if let (ChannelKind::Email, Some(subject)) = (channel, out.subject.filter(|s| !s.trim().is_empty())) {
            let header = ferry_core::message::EmailHeader { subject, ..Default::default() };
            parts.push(ContentPart::Email { email: Box::new(header) });
        }
        self.send_outgoing(
            account,
            crate::outgoing::OutgoingMessage {
                conversation: &conv,
                sender: Sender::System,
                parts,
                transition: None,
                describe: None,
                bot_state: None,
                rules: None,
                notice_send: Some(out.send),
            },
        )
        .await
    }
}

/// One message [`App::send_outreach`] sends.
pub(crate) struct Outreach<'a> {
    /// The buyer.
    pub contact: &'a Contact,
    /// The channel planned.
    pub channel: ChannelKind,
    /// The text, with placeholders.
    pub text: String,
    /// The WhatsApp template for a closed window.
    pub template: Option<&'a ferry_core::notices::NoticeTemplate>,
    /// The template category the message needs (`MARKETING`), if checked.
    pub template_category: Option<&'static str>,
    /// The placeholders' values.
    pub vars: serde_json::Value,
    /// The tag of a conversation the message starts.
    pub tag: &'static str,
    /// The e-mail subject, on e-mail (else the thread's or a default).
    pub subject: Option<String>,
    /// The send row it is.
    pub send: i64,
}

/// The placeholders of a notice about `order`; `event` is the fulfilment
/// or refund it is about (the latest live fulfilment otherwise).
fn order_vars(contact: &Contact, order: &StoredOrder, event: &str) -> serde_json::Value {
    let d = &order.details;
    let fulfilment = d
        .fulfillments
        .iter()
        .find(|f| f.external_id == event)
        .or_else(|| d.fulfillments.iter().rev().find(|f| f.is_live()));
    let refund = d.refunds.iter().find(|r| r.external_id == event).or(d.refunds.last());
    let money =
        |minor: i64| format!("{} {}", ferry_commerce::money::format_minor(minor, &d.order.currency), d.order.currency);
    serde_json::json!({
        "contact": {"name": first_name(contact)},
        "order": {
            "number": d.order.name,
            "total": money(d.order.total_minor),
            "cancel_reason": d.order.cancel_reason.clone().unwrap_or_default(),
        },
        "tracking": {
            "url": fulfilment.and_then(|f| f.tracking_url.clone()).unwrap_or_default(),
            "number": fulfilment.and_then(|f| f.tracking_number.clone()).unwrap_or_default(),
        },
        "refund": {"amount": refund.map(|r| money(r.amount_minor)).unwrap_or_default()},
    })
}

/// A buyer's first name, for greetings.
pub(crate) fn first_name(contact: &Contact) -> String {
    contact.name.split_whitespace().next().unwrap_or_default().to_owned()
}

/// The language a buyer reads: theirs, their country's, else `fallback`.
pub(crate) fn buyer_language(contact: &Contact, fallback: &str) -> String {
    contact
        .language
        .clone()
        .or_else(|| contact.country.as_deref().and_then(ferry_core::notices::country_language).map(str::to_owned))
        .unwrap_or_else(|| fallback.to_owned())
}
