//! Changing orders in the shop: the connector trait every platform
//! implements (cancel, refund, change the shipping address), what a
//! connection allows, and the rules an action must pass before Ferry asks
//! the shop at all. The rules are pure and decide from the mirror's copy
//! of the order; the shop still has the last word.

use crate::model::{Address, MirrorWrite, OrderDetails, OrderState};
use crate::money::format_minor;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a shop connection lets Ferry do to its orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Cancel an order.
    pub cancel_order: bool,
    /// Refund (part of) an order.
    pub refund: bool,
    /// Change an order's shipping address.
    pub update_shipping_address: bool,
}

impl Capabilities {
    /// Nothing (imported shops, connections without API access).
    pub const NONE: Capabilities = Capabilities { cancel_order: false, refund: false, update_shipping_address: false };
    /// Every action.
    pub const ALL: Capabilities = Capabilities { cancel_order: true, refund: true, update_shipping_address: true };

    /// Whether `action` is allowed.
    pub fn allows(self, action: OrderAction) -> bool {
        match action {
            OrderAction::Cancel => self.cancel_order,
            OrderAction::Refund => self.refund,
            OrderAction::UpdateShippingAddress => self.update_shipping_address,
        }
    }
}

/// An action on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    /// Cancel it.
    Cancel,
    /// Give money back.
    Refund,
    /// Change where it goes.
    UpdateShippingAddress,
}

impl OrderAction {
    /// Every action.
    pub const ALL: [OrderAction; 3] = [OrderAction::Cancel, OrderAction::Refund, OrderAction::UpdateShippingAddress];

    /// Stable name (`cancel`, `refund`, `update_shipping_address`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderAction::Cancel => "cancel",
            OrderAction::Refund => "refund",
            OrderAction::UpdateShippingAddress => "update_shipping_address",
        }
    }

    /// Name in the audit log (`order.cancel`, `order.refund`,
    /// `order.update_shipping_address`).
    pub fn audit_name(self) -> &'static str {
        match self {
            OrderAction::Cancel => "order.cancel",
            OrderAction::Refund => "order.refund",
            OrderAction::UpdateShippingAddress => "order.update_shipping_address",
        }
    }

    /// What it does, in words (`cancel orders`).
    pub fn describe(self) -> &'static str {
        match self {
            OrderAction::Cancel => "cancel orders",
            OrderAction::Refund => "refund orders",
            OrderAction::UpdateShippingAddress => "change shipping addresses",
        }
    }
}

/// Why an order is cancelled (Shopify's reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The customer changed or cancelled the order.
    Customer,
    /// Suspected fraud.
    Fraud,
    /// Items out of stock.
    Inventory,
    /// The payment was declined.
    Declined,
    /// Something else.
    Other,
}

impl CancelReason {
    /// Shopify's name.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Customer => "customer",
            CancelReason::Fraud => "fraud",
            CancelReason::Inventory => "inventory",
            CancelReason::Declined => "declined",
            CancelReason::Other => "other",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "customer" => Some(CancelReason::Customer),
            "fraud" => Some(CancelReason::Fraud),
            "inventory" => Some(CancelReason::Inventory),
            "declined" => Some(CancelReason::Declined),
            "other" => Some(CancelReason::Other),
            _ => None,
        }
    }
}

/// Cancel an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    /// Why.
    pub reason: CancelReason,
    /// Send the buyer the shop's cancellation e-mail.
    pub notify_customer: bool,
    /// Put the items back in stock.
    pub restock: bool,
}

/// One refunded line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    /// The shop's id of the order line.
    pub line_item_id: String,
    /// Units refunded.
    pub quantity: i64,
}

/// How much to refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundAmount {
    /// Everything not refunded yet.
    Full,
    /// An amount in minor units of the order's currency.
    Amount(i64),
    /// Lines (their price × quantity).
    Lines(Vec<RefundLine>),
}

/// Give money back for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// How much.
    pub amount: RefundAmount,
    /// ISO 4217; must be the order's.
    pub currency: String,
    /// Why (shown in the shop).
    pub note: Option<String>,
    /// Send the buyer the shop's refund e-mail.
    pub notify_customer: bool,
}

/// A refund that passed the rules: what the shop is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRefund {
    /// Minor units to give back.
    pub amount_minor: i64,
    /// ISO 4217 (the order's).
    pub currency: String,
    /// Refunded lines, if by line.
    pub lines: Vec<RefundLine>,
    /// Why.
    pub note: Option<String>,
    /// Send the buyer the shop's refund e-mail.
    pub notify_customer: bool,
}

/// Why an action breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The order's state does not allow it.
    #[error("{0}")]
    State(String),
    /// A value is not acceptable.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> RuleError {
    RuleError::Invalid { field, message: message.into() }
}

/// Whether the order may be cancelled: not cancelled, nothing shipped.
pub fn check_cancel(d: &OrderDetails) -> Result<(), RuleError> {
    let name = &d.order.name;
    match d.state() {
        OrderState::Cancelled => Err(RuleError::State(format!("order {name} is already cancelled"))),
        OrderState::PartiallyShipped | OrderState::Shipped | OrderState::Delivered => Err(RuleError::State(format!(
            "order {name} has been fulfilled (in part or in full); only unfulfilled orders can be cancelled"
        ))),
        OrderState::Refunded | OrderState::Pending | OrderState::Paid => Ok(()),
    }
}

/// Minor units refunded so far.
pub fn refunded_minor(d: &OrderDetails) -> i64 {
    d.refunds.iter().map(|r| r.amount_minor).sum()
}

/// Checks a refund against the order: the currency is the order's, the
/// amount is more than zero and at most what is left to refund, lines
/// exist and are not refunded beyond their quantity.
pub fn check_refund(d: &OrderDetails, r: &RefundRequest) -> Result<CheckedRefund, RuleError> {
    let o = &d.order;
    if o.cancelled_at.is_some() {
        return Err(RuleError::State(format!("order {} is cancelled", o.name)));
    }
    if !r.currency.trim().eq_ignore_ascii_case(&o.currency) {
        return Err(invalid("currency", format!("the refund must be in the order's currency, {}", o.currency)));
    }
    let left = o.total_minor - refunded_minor(d);
    if left <= 0 {
        return Err(RuleError::State(format!("order {} has been refunded in full", o.name)));
    }
    let note = r.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(invalid("note", "the note is longer than 1000 characters"));
    }
    let (amount_minor, lines) = match &r.amount {
        RefundAmount::Full => (left, Vec::new()),
        RefundAmount::Amount(a) => (*a, Vec::new()),
        RefundAmount::Lines(lines) => {
            if lines.is_empty() {
                return Err(invalid("line_items", "name at least one line to refund"));
            }
            let mut sum: i64 = 0;
            for (i, l) in lines.iter().enumerate() {
                if lines[..i].iter().any(|earlier| earlier.line_item_id == l.line_item_id) {
                    return Err(invalid("line_items", format!("line {} is named twice", l.line_item_id)));
                }
                let Some(item) = o.line_items.iter().find(|i| i.external_id == l.line_item_id) else {
                    return Err(invalid("line_items", format!("order {} has no line {}", o.name, l.line_item_id)));
                };
                if l.quantity <= 0 || l.quantity > item.quantity {
                    return Err(invalid(
                        "line_items",
                        format!("the quantity of line {} must be between 1 and {}", l.line_item_id, item.quantity),
                    ));
                }
                sum = sum.saturating_add(item.price_minor.saturating_mul(l.quantity));
            }
            (sum, lines.clone())
        }
    };
    if amount_minor <= 0 {
        return Err(invalid("amount", "the refund must be more than zero"));
    }
    if amount_minor > left {
        return Err(invalid(
            "amount",
            format!(
                "the refund ({} {}) is more than what is left to refund ({} {})",
                format_minor(amount_minor, &o.currency),
                o.currency,
                format_minor(left, &o.currency),
                o.currency
            ),
        ));
    }
    Ok(CheckedRefund { amount_minor, currency: o.currency.clone(), lines, note, notify_customer: r.notify_customer })
}

/// Whether the order's shipping address may change: not cancelled,
/// nothing shipped yet.
pub fn check_address_change(d: &OrderDetails) -> Result<(), RuleError> {
    let name = &d.order.name;
    match d.state() {
        OrderState::Cancelled => Err(RuleError::State(format!("order {name} is cancelled"))),
        OrderState::PartiallyShipped | OrderState::Shipped | OrderState::Delivered => {
            Err(RuleError::State(format!("order {name} has already shipped; its address can no longer change")))
        }
        OrderState::Refunded | OrderState::Pending | OrderState::Paid => Ok(()),
    }
}

/// ISO 3166-1 alpha-2 codes in use.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK \
FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM \
JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS \
MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM \
US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` is an ISO 3166-1 alpha-2 country code (upper case).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && COUNTRIES.split_ascii_whitespace().any(|c| c == code)
}

/// Trims an address and checks it: name, street, city and country are
/// required, the country is an ISO 3166-1 alpha-2 code, nothing is longer
/// than 255 characters.
pub fn validate_address(a: &Address) -> Result<Address, RuleError> {
    let t = |s: &str| s.trim().to_owned();
    let out = Address {
        name: t(&a.name),
        address1: t(&a.address1),
        address2: t(&a.address2),
        city: t(&a.city),
        province: t(&a.province),
        zip: t(&a.zip),
        country_code: a.country_code.trim().to_ascii_uppercase(),
        phone: t(&a.phone),
    };
    let fields: [(&'static str, &str, bool); 8] = [
        ("name", &out.name, true),
        ("address1", &out.address1, true),
        ("address2", &out.address2, false),
        ("city", &out.city, true),
        ("province", &out.province, false),
        ("zip", &out.zip, false),
        ("country_code", &out.country_code, true),
        ("phone", &out.phone, false),
    ];
    for (field, value, required) in fields {
        if required && value.is_empty() {
            return Err(invalid(field, format!("{field} is required")));
        }
        if value.chars().count() > 255 {
            return Err(invalid(field, format!("{field} is longer than 255 characters")));
        }
    }
    if !is_country_code(&out.country_code) {
        return Err(invalid(
            "country_code",
            format!("country_code `{}` is not an ISO 3166-1 alpha-2 code (such as US, DE, GB)", out.country_code),
        ));
    }
    Ok(out)
}

/// Why the shop did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The connection does not allow this action.
    #[error("this shop connection does not allow Ferry to {}", .0.describe())]
    NotSupported(OrderAction),
    /// The shop refused the request (a 4xx answer), with its message.
    #[error("the shop refused: {0}")]
    Rejected(String),
    /// The shop could not be reached or failed (network, 5xx, rate limits
    /// beyond patience, an answer Ferry cannot read).
    #[error("the shop is unavailable: {0}")]
    Unavailable(String),
}

/// A shop platform's side of order actions. Every call returns the writes
/// that bring the mirror up to date with the shop's answer.
#[async_trait]
pub trait ShopConnector: Send + Sync {
    /// What this connection allows.
    fn capabilities(&self) -> Capabilities;

    /// Cancels the order with the shop's id `order`.
    async fn cancel_order(&self, order: &str, req: &CancelRequest) -> Result<Vec<MirrorWrite>, ConnectorError>;

    /// Refunds (part of) the order `order`.
    async fn refund(&self, order: &str, req: &CheckedRefund) -> Result<Vec<MirrorWrite>, ConnectorError>;

    /// Replaces the shipping address of the order `order`.
    async fn update_shipping_address(&self, order: &str, address: &Address)
    -> Result<Vec<MirrorWrite>, ConnectorError>;
}

/// A connector that allows nothing (imported shops; connections without
/// Admin API access), with the reason it gives.
#[derive(Debug, Clone)]
pub struct NoActions {
    /// Why nothing is allowed, for people.
    pub reason: String,
}

impl fmt::Display for NoActions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

#[async_trait]
impl ShopConnector for NoActions {
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
    }

    async fn cancel_order(&self, _: &str, _: &CancelRequest) -> Result<Vec<MirrorWrite>, ConnectorError> {
        Err(ConnectorError::NotSupported(OrderAction::Cancel))
    }

    async fn refund(&self, _: &str, _: &CheckedRefund) -> Result<Vec<MirrorWrite>, ConnectorError> {
        Err(ConnectorError::NotSupported(OrderAction::Refund))
    }

    async fn update_shipping_address(&self, _: &str, _: &Address) -> Result<Vec<MirrorWrite>, ConnectorError> {
        Err(ConnectorError::NotSupported(OrderAction::UpdateShippingAddress))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::*;
    use chrono::{TimeZone, Utc};

    fn details() -> OrderDetails {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().unwrap();
        OrderDetails {
            order: Order {
                external_id: "1".into(),
                number: "1001".into(),
                name: "#1001".into(),
                email: None,
                phone: None,
                customer_external_id: None,
                customer_name: None,
                financial_status: "paid".into(),
                fulfillment_status: None,
                cancelled_at: None,
                cancel_reason: None,
                currency: "USD".into(),
                total_minor: 10_000,
                line_items: vec![LineItem {
                    external_id: "L1".into(),
                    product_external_id: None,
                    variant_external_id: None,
                    sku: None,
                    title: "Tee".into(),
                    variant_title: None,
                    quantity: 2,
                    price_minor: 4_000,
                }],
                shipping_address: None,
                created_at: t,
                updated_at: t,
            },
            fulfillments: vec![],
            refunds: vec![],
        }
    }

    fn refund_of(amount: RefundAmount) -> RefundRequest {
        RefundRequest { amount, currency: "usd".into(), note: None, notify_customer: false }
    }

    #[test]
    fn only_unfulfilled_live_orders_cancel() {
        let mut d = details();
        assert_eq!(check_cancel(&d), Ok(()));
        d.order.fulfillment_status = Some("partial".into());
        assert!(matches!(check_cancel(&d), Err(RuleError::State(m)) if m.contains("fulfilled")));
        d.order.fulfillment_status = Some("fulfilled".into());
        assert!(check_cancel(&d).is_err());
        let mut d = details();
        d.order.cancelled_at = Some(d.order.created_at);
        assert!(matches!(check_cancel(&d), Err(RuleError::State(m)) if m.contains("already cancelled")));
        assert!(check_address_change(&d).is_err());
    }

    #[test]
    fn refunds_stay_within_what_is_left() {
        let mut d = details();
        let ok = check_refund(&d, &refund_of(RefundAmount::Amount(2_500))).unwrap();
        assert_eq!((ok.amount_minor, ok.currency.as_str()), (2_500, "USD"));
        assert_eq!(check_refund(&d, &refund_of(RefundAmount::Full)).unwrap().amount_minor, 10_000);
        assert!(matches!(
            check_refund(&d, &refund_of(RefundAmount::Amount(0))),
            Err(RuleError::Invalid { field: "amount", .. })
        ));
        assert!(matches!(
            check_refund(&d, &refund_of(RefundAmount::Amount(-5))),
            Err(RuleError::Invalid { field: "amount", .. })
        ));
        d.refunds.push(Refund {
            external_id: "R1".into(),
            order_external_id: "1".into(),
            amount_minor: 7_000,
            note: None,
            created_at: d.order.created_at,
        });
        let too_much = check_refund(&d, &refund_of(RefundAmount::Amount(3_001)));
        assert!(matches!(&too_much, Err(RuleError::Invalid { field: "amount", message }) if message.contains("30.00")));
        assert_eq!(check_refund(&d, &refund_of(RefundAmount::Full)).unwrap().amount_minor, 3_000);
        let mut eur = refund_of(RefundAmount::Amount(100));
        eur.currency = "EUR".into();
        assert!(matches!(check_refund(&d, &eur), Err(RuleError::Invalid { field: "currency", .. })));
        d.refunds[0].amount_minor = 10_000;
        assert!(matches!(check_refund(&d, &refund_of(RefundAmount::Full)), Err(RuleError::State(_))));
    }

    #[test]
    fn line_refunds_price_their_lines() {
        let d = details();
        let line = |q| RefundAmount::Lines(vec![RefundLine { line_item_id: "L1".into(), quantity: q }]);
        assert_eq!(check_refund(&d, &refund_of(line(1))).unwrap().amount_minor, 4_000);
        assert!(matches!(check_refund(&d, &refund_of(line(3))), Err(RuleError::Invalid { field: "line_items", .. })));
        let unknown = RefundAmount::Lines(vec![RefundLine { line_item_id: "X".into(), quantity: 1 }]);
        assert!(matches!(check_refund(&d, &refund_of(unknown)), Err(RuleError::Invalid { field: "line_items", .. })));
        assert!(check_refund(&d, &refund_of(RefundAmount::Lines(vec![]))).is_err());
        let twice = RefundAmount::Lines(vec![
            RefundLine { line_item_id: "L1".into(), quantity: 2 },
            RefundLine { line_item_id: "L1".into(), quantity: 2 },
        ]);
        assert!(matches!(check_refund(&d, &refund_of(twice)), Err(RuleError::Invalid { field: "line_items", .. })));
    }

    #[test]
    fn addresses_need_the_essentials_and_a_real_country() {
        let a = Address {
            name: " Ana Silva ".into(),
            address1: "Rua Augusta 1".into(),
            city: "Lisboa".into(),
            country_code: "pt".into(),
            ..Address::default()
        };
        let ok = validate_address(&a).unwrap();
        assert_eq!((ok.name.as_str(), ok.country_code.as_str()), ("Ana Silva", "PT"));
        for (field, bad) in [
            ("name", Address { name: " ".into(), ..a.clone() }),
            ("address1", Address { address1: String::new(), ..a.clone() }),
            ("city", Address { city: String::new(), ..a.clone() }),
            ("country_code", Address { country_code: String::new(), ..a.clone() }),
            ("country_code", Address { country_code: "XX".into(), ..a.clone() }),
            ("country_code", Address { country_code: "USA".into(), ..a.clone() }),
            ("zip", Address { zip: "9".repeat(256), ..a.clone() }),
        ] {
            assert!(
                matches!(validate_address(&bad), Err(RuleError::Invalid { field: f, .. }) if f == field),
                "{field}"
            );
        }
        assert!(is_country_code("GB") && is_country_code("DE") && !is_country_code("UK") && !is_country_code("de"));
    }

    #[test]
    fn capabilities_gate_actions() {
        for a in OrderAction::ALL {
            assert!(Capabilities::ALL.allows(a));
            assert!(!Capabilities::NONE.allows(a));
        }
        assert_eq!(
            ConnectorError::NotSupported(OrderAction::Refund).to_string(),
            "this shop connection does not allow Ferry to refund orders"
        );
    }
}
