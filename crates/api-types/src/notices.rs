//! Proactive notices: the account's notices and sending limits, and the
//! log of every notice decided for a buyer.

use chrono::{DateTime, Utc};
use ferry_core::notices::{NoticeRule, SendingPolicy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The account's notices (one per kind: shipped, out for delivery,
/// delivered, delayed) and the limits every notice keeps to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeSettingsView {
    /// Quiet hours in the buyer's time zone, marketing caps and consent;
    /// left out, they stay as they are.
    #[serde(default)]
    pub policy: Option<SendingPolicy>,
    /// The notices; kinds left out are switched off.
    #[serde(default)]
    pub rules: Vec<NoticeRule>,
}

/// One notice decided for a buyer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoticeSendView {
    /// Its id.
    pub id: i64,
    /// `shipped`, `out_for_delivery`, `delivered` or `delayed`.
    pub kind: String,
    /// What makes it happen once (`shipped:{shop}:{fulfilment}`).
    pub dedup_key: String,
    /// The buyer.
    pub contact_id: Option<i64>,
    /// The order.
    pub order_id: Option<i64>,
    /// The channel it goes or went on.
    pub channel: Option<String>,
    /// `scheduled` (waiting for its moment: a delay or the buyer's quiet
    /// hours), `sent`, `skipped` or `failed`.
    pub state: String,
    /// Why it was skipped (`disabled`, `opted_out`, `window_closed`,
    /// `no_channel`, `amazon_buyer`, `no_consent`, `frequency_cap`,
    /// `country`) or failed.
    pub reason: Option<String>,
    /// The message it became.
    pub message_id: Option<i64>,
    /// That message's conversation.
    pub conversation_id: Option<i64>,
    /// When it is or was due.
    pub scheduled_at: DateTime<Utc>,
    /// When it was decided.
    pub created_at: DateTime<Utc>,
    /// The campaign it belongs to.
    pub campaign_id: Option<i64>,
}

/// How one kind of notice fared over a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoticeStatsView {
    /// The kind.
    pub kind: String,
    /// Sent.
    pub sent: u64,
    /// Of those, delivered (or read) as far as the channel reports.
    pub delivered: u64,
    /// Of those, read.
    pub read: u64,
    /// Of those, answered by the buyer in the notice's conversation.
    pub replied: u64,
    /// Waiting for their moment.
    pub scheduled: u64,
    /// Failed, by reason.
    pub failed: std::collections::BTreeMap<String, u64>,
    /// Skipped, by reason (`opted_out`, `window_closed`, `no_channel`…).
    pub skipped: std::collections::BTreeMap<String, u64>,
}

/// A buyer's consent to marketing on one channel.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentView {
    /// A channel's name, or `all`.
    pub channel: String,
    /// Given (true) or withdrawn.
    pub granted: bool,
    /// Where it came from (`checkout`, `widget`, `agent`…).
    pub source: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The person who recorded it.
    pub recorded_by: Option<i64>,
}

/// A channel the buyer stopped (an SMS STOP), until they restart it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoppedView {
    /// The channel.
    pub channel: String,
    /// The word the buyer sent (`STOP`…).
    pub keyword: String,
    /// Since when.
    pub since: DateTime<Utc>,
}

/// A buyer's consents to marketing and the channels they stopped.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactChannelsView {
    /// Consents, by channel.
    pub consents: Vec<ConsentView>,
    /// Stopped channels: nothing is sent there, consent or not.
    pub stopped: Vec<StoppedView>,
}

/// Records a buyer's consent to marketing (given or withdrawn).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// A channel's name (`whatsapp`, `email`, `sms`, `messenger`,
    /// `instagram`, `telegram`) or `all`.
    pub channel: String,
    /// Given (true) or withdrawn (false).
    pub granted: bool,
    /// Where it came from (`checkout`, `agent`…); `agent` when left out.
    #[serde(default)]
    pub source: Option<String>,
}

/// A buyer's request to hear when a variant is back in stock.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StockSubscriptionView {
    /// Its id.
    pub id: i64,
    /// The buyer.
    pub contact_id: i64,
    /// The shop connection.
    pub connection_id: i64,
    /// The product in the shop.
    pub product_external_id: String,
    /// The variant in the shop.
    pub variant_external_id: String,
    /// The variant's SKU.
    pub sku: Option<String>,
    /// What the buyer sees (`Lamp (Blue)`).
    pub title: String,
    /// `widget`, `agent` or `asked` (the buyer asked about it while it was out).
    pub source: String,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// When the back-in-stock notice was decided; open until then.
    pub notified_at: Option<DateTime<Utc>>,
}

/// Asks to tell a buyer when a variant is back: by its shop and id, or by SKU.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockSubscriptionRequest {
    /// The variant's SKU (searched in every shop of the account).
    #[serde(default)]
    pub sku: Option<String>,
    /// The shop connection, with `variant_external_id`.
    #[serde(default)]
    pub connection_id: Option<i64>,
    /// The variant's id in the shop.
    #[serde(default)]
    pub variant_external_id: Option<String>,
}

/// A widget visitor asks to hear when a variant is back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetStockRequest {
    /// The variant's SKU.
    pub sku: String,
    /// Where to tell them, when they have not written in the chat yet.
    #[serde(default)]
    pub email: Option<String>,
}

/// What the widget shows after a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WidgetStockView {
    /// What the visitor will hear about.
    pub title: String,
}

/// "Where is my order" conversations per 100 orders in a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WismoPeriodView {
    /// From.
    pub from: DateTime<Utc>,
    /// To (excluded).
    pub to: DateTime<Utc>,
    /// Orders placed.
    pub orders: u64,
    /// Conversations the bot placed under a "where is my order" intent
    /// (`order_status`, `shipping_delay`, `delivery_time`).
    pub wismo: u64,
    /// Of those, per 100 orders (`null` without orders).
    pub per_100_orders: Option<f64>,
}

/// What the shipped and delayed notices changed: "where is my order"
/// conversations per 100 orders before and since they were switched on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoticeImpactView {
    /// When the first of them was switched on (`null`: neither is on).
    pub enabled_since: Option<DateTime<Utc>>,
    /// The days on each side.
    pub days: u32,
    /// The days before.
    pub before: Option<WismoPeriodView>,
    /// The days since (up to now).
    pub after: Option<WismoPeriodView>,
}
