//! Proactive notices: what a seller tells buyers before they ask (the
//! parcel shipped, it is late, it is out for delivery, it arrived, it is
//! back in stock, the refund was sent, the order was cancelled), and the
//! rules no notice ever breaks. Pure: [`plan`] decides, for one buyer and
//! one notice, whether it goes, on which channel, when and in which
//! language, or why not — intake, storage and sending live elsewhere.
//!
//! The rules: a notice that is switched off, or whose conditions the order
//! does not meet, never goes; the channel is the first of the notice's
//! channels the buyer can be reached on and has not stopped; WhatsApp
//! outside its 24-hour window only as an approved template; never
//! marketing to Amazon buyers, never marketing without consent where the
//! account requires it, never more marketing than the frequency cap;
//! never during the buyer's quiet hours (their time zone, else their
//! country's): a notice due at 02:00 goes when the quiet hours end.

use crate::compliance::channels::STANDARD_WINDOW;
use crate::inbox::ChannelKind;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NoticeKind {
    /// The order's parcel left, with its tracking link.
    Shipped,
    /// The carrier is delivering it today.
    OutForDelivery,
    /// It arrived.
    Delivered,
    /// It is late (the delay detector found it).
    Delayed,
    /// The shop took the order.
    OrderConfirmed,
    /// The order was cancelled.
    OrderCancelled,
    /// Money went back to the buyer.
    Refunded,
    /// A variant the buyer asked to hear about can be bought again.
    BackInStock,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 8] = [
        NoticeKind::Shipped,
        NoticeKind::OutForDelivery,
        NoticeKind::Delivered,
        NoticeKind::Delayed,
        NoticeKind::OrderConfirmed,
        NoticeKind::OrderCancelled,
        NoticeKind::Refunded,
        NoticeKind::BackInStock,
    ];

    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Shipped => "shipped",
            NoticeKind::OutForDelivery => "out_for_delivery",
            NoticeKind::Delivered => "delivered",
            NoticeKind::Delayed => "delayed",
            NoticeKind::OrderConfirmed => "order_confirmed",
            NoticeKind::OrderCancelled => "order_cancelled",
            NoticeKind::Refunded => "refunded",
            NoticeKind::BackInStock => "back_in_stock",
        }
    }

    /// The kind of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether it is marketing (a campaign, a win-back) rather than about
    /// the buyer's own order. Every notice is transactional: order notices
    /// are about the buyer's order, and a back-in-stock notice answers the
    /// buyer's own request (it goes only to those who asked).
    pub fn purpose(self) -> Purpose {
        Purpose::Transactional
    }

    /// The text sent when the account wrote none, in `language` (English
    /// unless one of the shipped translations): placeholders
    /// `{{order.number}}`, `{{tracking.url}}`, `{{contact.name}}`,
    /// `{{refund.amount}}`, `{{product.title}}`.
    pub fn default_text(self, language: &str) -> &'static str {
        let lang = language.split(['-', '_']).next().unwrap_or_default();
        match (self, lang) {
            (NoticeKind::Shipped, "es") => {
                "¡Hola {{contact.name}}! Tu pedido {{order.number}} ya está en camino. Síguelo aquí: {{tracking.url}}"
            }
            (NoticeKind::Shipped, "de") => {
                "Hallo {{contact.name}}! Deine Bestellung {{order.number}} ist unterwegs. Sendungsverfolgung: {{tracking.url}}"
            }
            (NoticeKind::Shipped, "fr") => {
                "Bonjour {{contact.name}} ! Votre commande {{order.number}} est en route. Suivi : {{tracking.url}}"
            }
            (NoticeKind::Shipped, "zh") => {
                "{{contact.name}}您好！您的订单 {{order.number}} 已发货，物流跟踪：{{tracking.url}}"
            }
            (NoticeKind::Shipped, _) => {
                "Hi {{contact.name}}! Your order {{order.number}} is on its way. Track it here: {{tracking.url}}"
            }
            (NoticeKind::OutForDelivery, "es") => "¡Tu pedido {{order.number}} llega hoy! {{tracking.url}}",
            (NoticeKind::OutForDelivery, "de") => {
                "Deine Bestellung {{order.number}} wird heute zugestellt! {{tracking.url}}"
            }
            (NoticeKind::OutForDelivery, "fr") => {
                "Votre commande {{order.number}} arrive aujourd'hui ! {{tracking.url}}"
            }
            (NoticeKind::OutForDelivery, "zh") => "您的订单 {{order.number}} 今天派送！{{tracking.url}}",
            (NoticeKind::OutForDelivery, _) => {
                "Your order {{order.number}} is out for delivery today! {{tracking.url}}"
            }
            (NoticeKind::Delivered, "es") => "Tu pedido {{order.number}} ha sido entregado. ¡Que lo disfrutes!",
            (NoticeKind::Delivered, "de") => "Deine Bestellung {{order.number}} wurde zugestellt. Viel Freude damit!",
            (NoticeKind::Delivered, "fr") => "Votre commande {{order.number}} a été livrée. Profitez-en bien !",
            (NoticeKind::Delivered, "zh") => "您的订单 {{order.number}} 已送达，祝您使用愉快！",
            (NoticeKind::Delivered, _) => "Your order {{order.number}} was delivered. Enjoy!",
            (NoticeKind::Delayed, "es") => {
                "Lo sentimos: tu pedido {{order.number}} viene con retraso. Te avisaremos en cuanto avance. {{tracking.url}}"
            }
            (NoticeKind::Delayed, "de") => {
                "Entschuldigung: Deine Bestellung {{order.number}} verspätet sich. Wir melden uns, sobald es weitergeht. {{tracking.url}}"
            }
            (NoticeKind::Delayed, "fr") => {
                "Désolés : votre commande {{order.number}} a du retard. Nous vous tiendrons informé. {{tracking.url}}"
            }
            (NoticeKind::Delayed, "zh") => "抱歉，您的订单 {{order.number}} 运输延误，我们会持续跟进。{{tracking.url}}",
            (NoticeKind::Delayed, _) => {
                "Sorry: your order {{order.number}} is running late. We'll keep you posted. {{tracking.url}}"
            }
            (NoticeKind::OrderConfirmed, "es") => {
                "¡Gracias, {{contact.name}}! Hemos recibido tu pedido {{order.number}}. Te avisaremos cuando salga."
            }
            (NoticeKind::OrderConfirmed, "de") => {
                "Danke, {{contact.name}}! Wir haben deine Bestellung {{order.number}} erhalten und melden uns beim Versand."
            }
            (NoticeKind::OrderConfirmed, "fr") => {
                "Merci {{contact.name}} ! Nous avons bien reçu votre commande {{order.number}}. Nous vous prévenons dès l'envoi."
            }
            (NoticeKind::OrderConfirmed, "zh") => {
                "{{contact.name}}您好！我们已收到您的订单 {{order.number}}，发货后会通知您。"
            }
            (NoticeKind::OrderConfirmed, _) => {
                "Thanks, {{contact.name}}! We received your order {{order.number}} and will tell you when it ships."
            }
            (NoticeKind::OrderCancelled, "es") => {
                "Tu pedido {{order.number}} ha sido cancelado. Si no lo pediste tú, responde a este mensaje."
            }
            (NoticeKind::OrderCancelled, "de") => {
                "Deine Bestellung {{order.number}} wurde storniert. Falls das nicht von dir kam, antworte einfach."
            }
            (NoticeKind::OrderCancelled, "fr") => {
                "Votre commande {{order.number}} a été annulée. Si ce n'était pas votre demande, répondez à ce message."
            }
            (NoticeKind::OrderCancelled, "zh") => "您的订单 {{order.number}} 已取消。如非您本人操作，请回复此消息。",
            (NoticeKind::OrderCancelled, _) => {
                "Your order {{order.number}} was cancelled. If you did not ask for this, just reply to this message."
            }
            (NoticeKind::Refunded, "es") => {
                "Hemos reembolsado {{refund.amount}} de tu pedido {{order.number}}. Puede tardar unos días en verse."
            }
            (NoticeKind::Refunded, "de") => {
                "Wir haben {{refund.amount}} für deine Bestellung {{order.number}} erstattet. Die Gutschrift kann ein paar Tage dauern."
            }
            (NoticeKind::Refunded, "fr") => {
                "Nous avons remboursé {{refund.amount}} pour votre commande {{order.number}}. Comptez quelques jours pour le voir."
            }
            (NoticeKind::Refunded, "zh") => "您的订单 {{order.number}} 已退款 {{refund.amount}}，到账可能需要几天。",
            (NoticeKind::Refunded, _) => {
                "We refunded {{refund.amount}} for your order {{order.number}}. It may take a few days to show."
            }
            (NoticeKind::BackInStock, "es") => "¡{{product.title}} vuelve a estar disponible! {{product.url}}",
            (NoticeKind::BackInStock, "de") => "{{product.title}} ist wieder da! {{product.url}}",
            (NoticeKind::BackInStock, "fr") => "{{product.title}} est de retour en stock ! {{product.url}}",
            (NoticeKind::BackInStock, "zh") => "{{product.title}} 已补货！{{product.url}}",
            (NoticeKind::BackInStock, _) => "Good news: {{product.title}} is back in stock! {{product.url}}",
        }
    }
}

/// Why a message goes to a buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Purpose {
    /// About the buyer's own order: allowed without marketing consent.
    Transactional,
    /// Promotion: consent, caps and the Amazon ban apply.
    Marketing,
}

/// An approved WhatsApp template a notice goes as outside the 24-hour
/// window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeTemplate {
    /// The template's name.
    pub name: String,
    /// Its language code per buyer language (`es` → `es_MX`); the first
    /// entry when the buyer's language has none.
    pub languages: BTreeMap<String, String>,
    /// Body parameter values, with the notice's placeholders.
    #[serde(default)]
    pub body: Vec<String>,
}

/// One notice as the account set it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeRule {
    /// What it is about.
    pub kind: NoticeKind,
    /// Switched on.
    pub enabled: bool,
    /// Minutes to wait after the event before sending.
    #[serde(default)]
    pub delay_minutes: u32,
    /// Channels in order of preference; the buyer's last-used channel
    /// comes first when it is one of them.
    pub channels: Vec<ChannelKind>,
    /// The text per language (`en`, `es`…), with placeholders; a language
    /// without one uses the shipped text.
    #[serde(default)]
    pub texts: BTreeMap<String, String>,
    /// The WhatsApp template for buyers outside the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_template: Option<NoticeTemplate>,
    /// Only to buyers in these countries (ISO codes); empty: all.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Only about orders of at least this total, in the order currency's
    /// minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order_total_minor: Option<i64>,
    /// Only about the buyer's first order.
    #[serde(default)]
    pub first_order_only: bool,
    /// Only to buyers with one of these tags; empty: all.
    #[serde(default)]
    pub contact_tags: Vec<String>,
    /// When it was last switched on (kept by Ferry, for the before/after
    /// figures; what a client sends is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_since: Option<DateTime<Utc>>,
}

/// What a notice's conditions read of the order and the buyer.
#[derive(Debug, Clone, Copy)]
pub struct NoticeFacts<'a> {
    /// The order's total in minor units, for a notice about an order.
    pub order_total_minor: Option<i64>,
    /// The order is the buyer's first.
    pub first_order: bool,
    /// The buyer's tags.
    pub tags: &'a [String],
}

impl NoticeRule {
    /// The rule of a kind until the account sets its own: off, on WhatsApp
    /// then e-mail then SMS.
    pub fn default_for(kind: NoticeKind) -> Self {
        Self {
            kind,
            enabled: false,
            delay_minutes: 0,
            channels: vec![ChannelKind::Whatsapp, ChannelKind::Email, ChannelKind::Sms],
            texts: BTreeMap::new(),
            whatsapp_template: None,
            countries: Vec::new(),
            min_order_total_minor: None,
            first_order_only: false,
            contact_tags: Vec::new(),
            enabled_since: None,
        }
    }

    /// Whether the order and the buyer meet the notice's conditions (order
    /// value, first order, tags); the countries are the planner's.
    pub fn conditions_hold(&self, facts: &NoticeFacts<'_>) -> bool {
        let value = match (self.min_order_total_minor, facts.order_total_minor) {
            (Some(min), Some(total)) => total >= min,
            (Some(_), None) | (None, _) => true,
        };
        let tags = self.contact_tags.is_empty()
            || self.contact_tags.iter().any(|t| facts.tags.iter().any(|x| x.eq_ignore_ascii_case(t)));
        value && (!self.first_order_only || facts.first_order) && tags
    }

    /// Checks what a person set: at least one channel that can carry a
    /// notice, texts of sane length, a template with a name and language.
    pub fn check(&self) -> Result<(), String> {
        if self.channels.is_empty() {
            return Err("a notice needs at least one channel".into());
        }
        if let Some(c) = self.channels.iter().find(|c| !NOTICE_CHANNELS.contains(c)) {
            return Err(format!("notices cannot go on {c}"));
        }
        if self.delay_minutes > 7 * 24 * 60 {
            return Err("a notice may wait at most 7 days".into());
        }
        if self.min_order_total_minor.is_some_and(|m| m < 0) {
            return Err("the least order value cannot be negative".into());
        }
        if self.contact_tags.len() > 50 || self.contact_tags.iter().any(|t| t.trim().is_empty() || t.len() > 100) {
            return Err("at most 50 tags, each 1 to 100 characters".into());
        }
        for (lang, text) in &self.texts {
            if lang.is_empty() || lang.len() > 35 || text.trim().is_empty() || text.chars().count() > 2000 {
                return Err(format!("the {lang:?} text must have 1 to 2000 characters"));
            }
        }
        if let Some(t) = &self.whatsapp_template
            && (t.name.trim().is_empty() || t.languages.is_empty())
        {
            return Err("the WhatsApp template needs its name and at least one language".into());
        }
        Ok(())
    }

    /// The text for a buyer speaking `language`.
    pub fn text_for(&self, language: &str) -> String {
        let base = language.split(['-', '_']).next().unwrap_or_default();
        self.texts
            .get(language)
            .or_else(|| self.texts.get(base))
            .cloned()
            .unwrap_or_else(|| self.kind.default_text(language).to_owned())
    }
}

/// The text of `texts` for a buyer reading `language`: theirs, their base
/// language's (`es` for `es-MX`), `fallback`'s, else the first there is.
pub fn text_in<'a>(texts: &'a BTreeMap<String, String>, language: &str, fallback: &str) -> Option<&'a str> {
    let base = language.split(['-', '_']).next().unwrap_or_default();
    texts
        .get(language)
        .or_else(|| texts.get(base))
        .or_else(|| texts.get(fallback))
        .or_else(|| texts.values().next())
        .map(String::as_str)
}

/// Channels a notice can go on.
pub const NOTICE_CHANNELS: [ChannelKind; 6] = [
    ChannelKind::Whatsapp,
    ChannelKind::Email,
    ChannelKind::Sms,
    ChannelKind::Messenger,
    ChannelKind::Instagram,
    ChannelKind::Telegram,
];

/// The account's limits on what reaches a buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendingPolicy {
    /// Quiet hours start, buyer's local time (`21:00:00`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"))]
    pub quiet_start: NaiveTime,
    /// Quiet hours end, buyer's local time (`08:00:00`); before the start,
    /// the quiet hours run past midnight.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"))]
    pub quiet_end: NaiveTime,
    /// Marketing messages a buyer gets at most per 7 days.
    pub marketing_per_week: u32,
    /// Marketing only to buyers who gave consent (GDPR mode).
    pub require_consent: bool,
}

impl Default for SendingPolicy {
    fn default() -> Self {
        Self {
            quiet_start: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            quiet_end: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            marketing_per_week: 2,
            require_consent: true,
        }
    }
}

/// A way to reach the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reachable {
    /// The channel.
    pub channel: ChannelKind,
    /// When the buyer last wrote on it (for reply windows).
    pub last_buyer_message_at: Option<DateTime<Utc>>,
    /// The buyer stopped this channel (an SMS STOP).
    pub opted_out: bool,
    /// The buyer consented to marketing on this channel.
    pub consent: bool,
}

/// What [`plan`] knows of the buyer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipient {
    /// Where they can be reached, their last-used channel first.
    pub channels: Vec<Reachable>,
    /// Their language (`es`, `pt-BR`); the account's when unknown.
    pub language: Option<String>,
    /// Their IANA time zone, when known.
    pub timezone: Option<String>,
    /// Their country (ISO code), when known.
    pub country: Option<String>,
    /// An Amazon buyer (known by Amazon's relay address).
    pub amazon: bool,
    /// Marketing messages they got in the last 7 days.
    pub marketing_last_week: u32,
}

/// What to do with one notice for one buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Send it.
    Send {
        /// On this channel.
        channel: ChannelKind,
        /// At this moment (after the delay and the quiet hours).
        at: DateTime<Utc>,
        /// In this language.
        language: String,
        /// As this WhatsApp template (the window is closed).
        template: Option<(String, String)>,
    },
    /// Do not send it, for this reason.
    Skip(Skip),
}

/// Why a notice does not go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Skip {
    /// The notice is switched off.
    Disabled,
    /// The buyer is outside the notice's countries.
    Country,
    /// The order or the buyer does not meet the notice's conditions.
    Conditions,
    /// Marketing to an Amazon buyer (Amazon forbids it).
    AmazonBuyer,
    /// Marketing without the buyer's consent.
    NoConsent,
    /// The buyer already got the most marketing a week allows.
    FrequencyCap,
    /// The buyer stopped every channel the notice could use.
    OptedOut,
    /// WhatsApp's window is closed and the notice has no template, and no
    /// other channel reaches the buyer.
    WindowClosed,
    /// The buyer cannot be reached on any of the notice's channels.
    NoChannel,
}

impl Skip {
    /// Its stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Skip::Disabled => "disabled",
            Skip::Country => "country",
            Skip::Conditions => "conditions",
            Skip::AmazonBuyer => "amazon_buyer",
            Skip::NoConsent => "no_consent",
            Skip::FrequencyCap => "frequency_cap",
            Skip::OptedOut => "opted_out",
            Skip::WindowClosed => "window_closed",
            Skip::NoChannel => "no_channel",
        }
    }
}

/// A time zone for a country, for buyers whose own is unknown: the most
/// populous zone of each country Ferry's sellers ship to most.
pub fn country_timezone(country: &str) -> Option<Tz> {
    let name = match country.to_ascii_uppercase().as_str() {
        "US" => "America/New_York",
        "CA" => "America/Toronto",
        "MX" => "America/Mexico_City",
        "BR" => "America/Sao_Paulo",
        "AR" => "America/Argentina/Buenos_Aires",
        "CL" => "America/Santiago",
        "CO" => "America/Bogota",
        "PE" => "America/Lima",
        "GB" | "UK" => "Europe/London",
        "IE" => "Europe/Dublin",
        "PT" => "Europe/Lisbon",
        "ES" => "Europe/Madrid",
        "FR" => "Europe/Paris",
        "DE" => "Europe/Berlin",
        "IT" => "Europe/Rome",
        "NL" => "Europe/Amsterdam",
        "BE" => "Europe/Brussels",
        "CH" => "Europe/Zurich",
        "AT" => "Europe/Vienna",
        "PL" => "Europe/Warsaw",
        "SE" => "Europe/Stockholm",
        "NO" => "Europe/Oslo",
        "DK" => "Europe/Copenhagen",
        "FI" => "Europe/Helsinki",
        "GR" => "Europe/Athens",
        "TR" => "Europe/Istanbul",
        "RU" => "Europe/Moscow",
        "UA" => "Europe/Kyiv",
        "IL" => "Asia/Jerusalem",
        "SA" => "Asia/Riyadh",
        "AE" => "Asia/Dubai",
        "EG" => "Africa/Cairo",
        "NG" => "Africa/Lagos",
        "ZA" => "Africa/Johannesburg",
        "IN" => "Asia/Kolkata",
        "PK" => "Asia/Karachi",
        "TH" => "Asia/Bangkok",
        "VN" => "Asia/Ho_Chi_Minh",
        "MY" => "Asia/Kuala_Lumpur",
        "SG" => "Asia/Singapore",
        "ID" => "Asia/Jakarta",
        "PH" => "Asia/Manila",
        "CN" => "Asia/Shanghai",
        "HK" => "Asia/Hong_Kong",
        "TW" => "Asia/Taipei",
        "KR" => "Asia/Seoul",
        "JP" => "Asia/Tokyo",
        "AU" => "Australia/Sydney",
        "NZ" => "Pacific/Auckland",
        _ => return None,
    };
    name.parse().ok()
}

/// The language most buyers of a country read, for buyers whose own is
/// unknown (a contact made from a shop order).
pub fn country_language(country: &str) -> Option<&'static str> {
    Some(match country.to_ascii_uppercase().as_str() {
        "ES" | "MX" | "AR" | "CO" | "CL" | "PE" | "VE" | "EC" | "GT" | "UY" | "PY" | "BO" | "CR" | "PA" | "DO" => "es",
        "DE" | "AT" => "de",
        "FR" | "BE" | "LU" | "MC" => "fr",
        "IT" | "SM" => "it",
        "PT" | "BR" | "AO" | "MZ" => "pt",
        "NL" => "nl",
        "PL" => "pl",
        "RU" | "BY" | "KZ" => "ru",
        "UA" => "uk",
        "TR" => "tr",
        "SA" | "AE" | "EG" | "MA" | "DZ" | "QA" | "KW" | "JO" => "ar",
        "CN" | "TW" | "HK" | "SG" => "zh",
        "JP" => "ja",
        "KR" => "ko",
        "TH" => "th",
        "VN" => "vi",
        "ID" => "id",
        "US" | "GB" | "UK" | "IE" | "CA" | "AU" | "NZ" | "IN" | "ZA" | "NG" | "PH" => "en",
        _ => return None,
    })
}

/// The buyer's time zone: their own, else their country's, else UTC.
pub fn recipient_timezone(r: &Recipient) -> Tz {
    r.timezone
        .as_deref()
        .and_then(|t| t.parse::<Tz>().ok())
        .or_else(|| r.country.as_deref().and_then(country_timezone))
        .unwrap_or(chrono_tz::UTC)
}

/// Whether local time `t` is inside quiet hours `start..end` (which may
/// wrap past midnight).
pub fn is_quiet(t: NaiveTime, start: NaiveTime, end: NaiveTime) -> bool {
    if start == end {
        false
    } else if start < end {
        t >= start && t < end
    } else {
        t >= start || t < end
    }
}

/// The first moment at or after `at` outside the quiet hours in `tz`.
pub fn after_quiet_hours(at: DateTime<Utc>, tz: Tz, policy: &SendingPolicy) -> DateTime<Utc> {
    let local = at.with_timezone(&tz);
    if !is_quiet(local.time(), policy.quiet_start, policy.quiet_end) {
        return at;
    }
    // The quiet hours end today or, when they started today, tomorrow.
    let mut day = local.date_naive();
    if policy.quiet_start > policy.quiet_end && local.time() >= policy.quiet_start {
        day = day.succ_opt().unwrap_or(day);
    }
    let end = day.and_time(policy.quiet_end);
    // A clock change may skip the end: take the next moment that exists.
    let mut probe = end;
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc).max(at);
        }
        probe += Duration::minutes(30);
    }
    at + Duration::hours(1)
}

/// What [`plan_outreach`] needs of a notice, a campaign or a journey's
/// step: whether it is on, where it may go and what goes outside a
/// closed WhatsApp window.
#[derive(Debug, Clone, Copy)]
pub struct Outreach<'a> {
    /// Switched on.
    pub enabled: bool,
    /// Only to buyers in these countries; empty: all.
    pub countries: &'a [String],
    /// Minutes to wait before sending.
    pub delay_minutes: u32,
    /// Channels in order of preference.
    pub channels: &'a [ChannelKind],
    /// The WhatsApp template for buyers outside the window.
    pub whatsapp_template: Option<&'a NoticeTemplate>,
}

impl NoticeRule {
    /// The rule as [`plan_outreach`] reads it.
    pub fn outreach(&self) -> Outreach<'_> {
        Outreach {
            enabled: self.enabled,
            countries: &self.countries,
            delay_minutes: self.delay_minutes,
            channels: &self.channels,
            whatsapp_template: self.whatsapp_template.as_ref(),
        }
    }
}

/// Decides one notice for one buyer; see the module documentation.
pub fn plan(
    rule: &NoticeRule,
    purpose: Purpose,
    to: &Recipient,
    policy: &SendingPolicy,
    account_language: &str,
    now: DateTime<Utc>,
) -> Plan {
    plan_outreach(&rule.outreach(), purpose, to, policy, account_language, now)
}

/// Decides one message to one buyer: whether, where, when and in which
/// language it goes, or why not; see the module documentation.
pub fn plan_outreach(
    rule: &Outreach<'_>,
    purpose: Purpose,
    to: &Recipient,
    policy: &SendingPolicy,
    account_language: &str,
    now: DateTime<Utc>,
) -> Plan {
    if !rule.enabled {
        return Plan::Skip(Skip::Disabled);
    }
    if !rule.countries.is_empty()
        && !to.country.as_deref().is_some_and(|c| rule.countries.iter().any(|x| x.eq_ignore_ascii_case(c)))
    {
        return Plan::Skip(Skip::Country);
    }
    if purpose == Purpose::Marketing {
        if to.amazon {
            return Plan::Skip(Skip::AmazonBuyer);
        }
        if policy.require_consent && !to.channels.iter().any(|c| c.consent && rule.channels.contains(&c.channel)) {
            return Plan::Skip(Skip::NoConsent);
        }
        if to.marketing_last_week >= policy.marketing_per_week {
            return Plan::Skip(Skip::FrequencyCap);
        }
    }
    let language = to.language.clone().unwrap_or_else(|| account_language.to_owned());
    let at = after_quiet_hours(now + Duration::minutes(i64::from(rule.delay_minutes)), recipient_timezone(to), policy);
    // The buyer's channels in their order (last used first), kept to the
    // notice's, then the notice's own order for the rest.
    let mut candidates: Vec<&Reachable> = to.channels.iter().filter(|c| rule.channels.contains(&c.channel)).collect();
    candidates.sort_by_key(|c| {
        let last_used = to.channels.first().map(|f| f.channel) == Some(c.channel);
        (!last_used, rule.channels.iter().position(|x| *x == c.channel).unwrap_or(usize::MAX))
    });
    if candidates.is_empty() {
        return Plan::Skip(Skip::NoChannel);
    }
    let mut why = Skip::OptedOut;
    for c in candidates {
        if c.opted_out || (purpose == Purpose::Marketing && policy.require_consent && !c.consent) {
            continue;
        }
        let window_open = c.last_buyer_message_at.is_some_and(|t| at - t <= STANDARD_WINDOW);
        let template = match c.channel {
            ChannelKind::Whatsapp if !window_open => match rule.whatsapp_template {
                Some(t) => {
                    let base = language.split(['-', '_']).next().unwrap_or_default();
                    let code = t
                        .languages
                        .get(&language)
                        .or_else(|| t.languages.get(base))
                        .or_else(|| t.languages.values().next())
                        .cloned()
                        .unwrap_or_default();
                    Some((t.name.clone(), code))
                }
                None => {
                    why = Skip::WindowClosed;
                    continue;
                }
            },
            // Messenger and Instagram take no proactive message outside
            // their window, and notices have no tag that would allow it.
            ChannelKind::Messenger | ChannelKind::Instagram if !window_open => {
                why = Skip::WindowClosed;
                continue;
            }
            _ => None,
        };
        return Plan::Send { channel: c.channel, at, language, template };
    }
    Plan::Skip(why)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn rule() -> NoticeRule {
        let mut r = NoticeRule::default_for(NoticeKind::Shipped);
        r.enabled = true;
        r.whatsapp_template = Some(NoticeTemplate {
            name: "order_shipped".into(),
            languages: BTreeMap::from([("en".into(), "en_US".into()), ("es".into(), "es_MX".into())]),
            body: vec!["{{order.number}}".into()],
        });
        r
    }

    #[test]
    fn conditions_read_order_value_first_order_and_tags() {
        let mut r = rule();
        let tags = vec!["VIP".to_owned()];
        let facts = NoticeFacts { order_total_minor: Some(5_000), first_order: false, tags: &tags };
        assert!(r.conditions_hold(&facts), "no conditions: every order");
        r.min_order_total_minor = Some(5_001);
        assert!(!r.conditions_hold(&facts));
        r.min_order_total_minor = Some(5_000);
        assert!(r.conditions_hold(&facts));
        assert!(
            r.conditions_hold(&NoticeFacts { order_total_minor: None, ..facts }),
            "a notice about no order is not held back by an order value"
        );
        r.first_order_only = true;
        assert!(!r.conditions_hold(&facts));
        assert!(r.conditions_hold(&NoticeFacts { first_order: true, ..facts }));
        r.contact_tags = vec!["vip".into()];
        assert!(r.conditions_hold(&NoticeFacts { first_order: true, ..facts }), "tags match without case");
        r.contact_tags = vec!["wholesale".into()];
        assert!(!r.conditions_hold(&NoticeFacts { first_order: true, ..facts }));
        r.min_order_total_minor = Some(-1);
        assert!(r.check().is_err());
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
    }

    fn buyer(channels: Vec<Reachable>) -> Recipient {
        Recipient { channels, language: Some("es".into()), country: Some("ES".into()), ..Recipient::default() }
    }

    fn wa(last: Option<DateTime<Utc>>) -> Reachable {
        Reachable { channel: ChannelKind::Whatsapp, last_buyer_message_at: last, opted_out: false, consent: false }
    }

    #[test]
    fn whatsapp_outside_the_window_goes_as_the_template_in_the_buyers_language() {
        let p =
            plan(&rule(), Purpose::Transactional, &buyer(vec![wa(None)]), &SendingPolicy::default(), "en", at(12, 0));
        assert_eq!(
            p,
            Plan::Send {
                channel: ChannelKind::Whatsapp,
                at: at(12, 0),
                language: "es".into(),
                template: Some(("order_shipped".into(), "es_MX".into()))
            }
        );
        let open = plan(
            &rule(),
            Purpose::Transactional,
            &buyer(vec![wa(Some(at(9, 0)))]),
            &SendingPolicy::default(),
            "en",
            at(12, 0),
        );
        assert!(matches!(open, Plan::Send { template: None, .. }), "{open:?}");
        let mut no_template = rule();
        no_template.whatsapp_template = None;
        let sms =
            Reachable { channel: ChannelKind::Sms, last_buyer_message_at: None, opted_out: false, consent: false };
        let p = plan(
            &no_template,
            Purpose::Transactional,
            &buyer(vec![wa(None), sms]),
            &SendingPolicy::default(),
            "en",
            at(12, 0),
        );
        assert!(matches!(p, Plan::Send { channel: ChannelKind::Sms, .. }), "falls back to SMS: {p:?}");
        let p = plan(
            &no_template,
            Purpose::Transactional,
            &buyer(vec![wa(None)]),
            &SendingPolicy::default(),
            "en",
            at(12, 0),
        );
        assert_eq!(p, Plan::Skip(Skip::WindowClosed));
    }

    #[test]
    fn a_notice_due_at_night_waits_for_the_morning_in_the_buyers_zone() {
        // 01:00 UTC is 02:00 in Madrid (winter): quiet until 08:00 local.
        let p =
            plan(&rule(), Purpose::Transactional, &buyer(vec![wa(None)]), &SendingPolicy::default(), "en", at(1, 0));
        let Plan::Send { at: when, .. } = p else { panic!("{p:?}") };
        assert_eq!(when, at(7, 0));
        // 21:30 in Madrid: the next morning.
        let Plan::Send { at: when, .. } =
            plan(&rule(), Purpose::Transactional, &buyer(vec![wa(None)]), &SendingPolicy::default(), "en", at(20, 30))
        else {
            panic!()
        };
        assert_eq!(when, Utc.with_ymd_and_hms(2026, 3, 11, 7, 0, 0).unwrap());
        // The buyer's own zone wins over the country's.
        let mut tokyo = buyer(vec![wa(None)]);
        tokyo.timezone = Some("Asia/Tokyo".into());
        let Plan::Send { at: when, .. } =
            plan(&rule(), Purpose::Transactional, &tokyo, &SendingPolicy::default(), "en", at(12, 0))
        else {
            panic!()
        };
        // 12:00 UTC is 21:00 in Tokyo: 08:00 there is 23:00 UTC.
        assert_eq!(when, at(23, 0));
    }

    #[test]
    fn off_countries_amazon_consent_caps_and_stops() {
        let policy = SendingPolicy::default();
        let mut off = rule();
        off.enabled = false;
        assert_eq!(
            plan(&off, Purpose::Transactional, &buyer(vec![wa(None)]), &policy, "en", at(12, 0)),
            Plan::Skip(Skip::Disabled)
        );
        let mut france = rule();
        france.countries = vec!["FR".into()];
        assert_eq!(
            plan(&france, Purpose::Transactional, &buyer(vec![wa(None)]), &policy, "en", at(12, 0)),
            Plan::Skip(Skip::Country)
        );
        let consenting = Reachable { consent: true, ..wa(None) };
        let mut amazon = buyer(vec![consenting.clone()]);
        amazon.amazon = true;
        assert_eq!(plan(&rule(), Purpose::Marketing, &amazon, &policy, "en", at(12, 0)), Plan::Skip(Skip::AmazonBuyer));
        assert!(matches!(plan(&rule(), Purpose::Transactional, &amazon, &policy, "en", at(12, 0)), Plan::Send { .. }));
        let mut b = buyer(vec![wa(None)]);
        assert_eq!(plan(&rule(), Purpose::Marketing, &b, &policy, "en", at(12, 0)), Plan::Skip(Skip::NoConsent));
        // Consent on e-mail only: marketing goes by e-mail, not WhatsApp.
        let email =
            Reachable { channel: ChannelKind::Email, last_buyer_message_at: None, opted_out: false, consent: true };
        b.channels = vec![wa(Some(at(11, 0))), email];
        assert!(matches!(
            plan(&rule(), Purpose::Marketing, &b, &policy, "en", at(12, 0)),
            Plan::Send { channel: ChannelKind::Email, .. }
        ));
        b.channels = vec![consenting];
        b.marketing_last_week = 2;
        assert_eq!(plan(&rule(), Purpose::Marketing, &b, &policy, "en", at(12, 0)), Plan::Skip(Skip::FrequencyCap));
        let stopped =
            Reachable { channel: ChannelKind::Sms, last_buyer_message_at: None, opted_out: true, consent: true };
        assert_eq!(
            plan(&rule(), Purpose::Transactional, &buyer(vec![stopped]), &policy, "en", at(12, 0)),
            Plan::Skip(Skip::OptedOut)
        );
        let tg = Reachable { channel: ChannelKind::Api, last_buyer_message_at: None, opted_out: false, consent: false };
        assert_eq!(
            plan(&rule(), Purpose::Transactional, &buyer(vec![tg]), &policy, "en", at(12, 0)),
            Plan::Skip(Skip::NoChannel)
        );
    }

    #[test]
    fn the_last_used_channel_comes_first() {
        let email = Reachable {
            channel: ChannelKind::Email,
            last_buyer_message_at: Some(at(11, 0)),
            opted_out: false,
            consent: false,
        };
        let p = plan(
            &rule(),
            Purpose::Transactional,
            &buyer(vec![email, wa(None)]),
            &SendingPolicy::default(),
            "en",
            at(12, 0),
        );
        assert!(matches!(p, Plan::Send { channel: ChannelKind::Email, template: None, .. }), "{p:?}");
    }

    #[test]
    fn texts_fall_back_to_the_base_language_then_the_shipped_text() {
        let mut r = rule();
        r.texts.insert("pt".into(), "Olá {{contact.name}}".into());
        assert_eq!(r.text_for("pt-BR"), "Olá {{contact.name}}");
        assert!(r.text_for("de").starts_with("Hallo"));
        assert!(r.text_for("xx").starts_with("Hi"));
        assert!(r.check().is_ok());
        r.channels = vec![ChannelKind::Amazon];
        assert!(r.check().is_err());
    }

    fn channel() -> impl Strategy<Value = Reachable> {
        (
            prop::sample::select(vec![
                ChannelKind::Whatsapp,
                ChannelKind::Email,
                ChannelKind::Sms,
                ChannelKind::Messenger,
            ]),
            prop::option::of(0i64..(10 * 24 * 60)),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(channel, ago, opted_out, consent)| Reachable {
                channel,
                last_buyer_message_at: ago.map(|m| at(12, 0) - Duration::minutes(m)),
                opted_out,
                consent,
            })
    }

    proptest! {
        /// Whatever the buyer and the clock: never on a stopped channel,
        /// never in quiet hours, never marketing past the cap or to Amazon
        /// buyers, never free text outside WhatsApp's window.
        #[test]
        fn never_breaks_a_rule(
            channels in prop::collection::vec(channel(), 0..4).prop_map(|mut v| {
                // One entry per channel, as a buyer's opt-out is per channel.
                let mut seen = Vec::new();
                v.retain(|c| if seen.contains(&c.channel) { false } else { seen.push(c.channel); true });
                v
            }),
            minutes in 0i64..(3 * 24 * 60),
            delay in 0u32..600,
            tz in prop::sample::select(vec!["Europe/Madrid", "Asia/Tokyo", "America/Sao_Paulo", "Pacific/Auckland", "UTC"]),
            marketing in any::<bool>(),
            sent_this_week in 0u32..4,
            amazon in any::<bool>(),
            template in any::<bool>(),
        ) {
            let mut r = rule();
            r.delay_minutes = delay;
            if !template { r.whatsapp_template = None; }
            let to = Recipient {
                channels: channels.clone(),
                language: Some("en".into()),
                timezone: Some(tz.into()),
                country: None,
                amazon,
                marketing_last_week: sent_this_week,
            };
            let policy = SendingPolicy::default();
            let now = at(0, 0) + Duration::minutes(minutes);
            let purpose = if marketing { Purpose::Marketing } else { Purpose::Transactional };
            if let Plan::Send { channel, at: when, template: t, .. } = plan(&r, purpose, &to, &policy, "en", now) {
                let used = channels.iter().find(|c| c.channel == channel).unwrap();
                prop_assert!(!used.opted_out);
                prop_assert!(when >= now + Duration::minutes(i64::from(delay)));
                let local = when.with_timezone(&tz.parse::<Tz>().unwrap()).time();
                prop_assert!(!is_quiet(local, policy.quiet_start, policy.quiet_end), "{when} is quiet in {tz}");
                if marketing {
                    prop_assert!(!amazon && used.consent && sent_this_week < policy.marketing_per_week);
                }
                let open = used.last_buyer_message_at.is_some_and(|l| when - l <= STANDARD_WINDOW);
                if channel == ChannelKind::Whatsapp && !open { prop_assert!(t.is_some()); }
                if channel == ChannelKind::Messenger { prop_assert!(open); }
            }
        }
    }
}
