//! Detectors over the shop mirror: variants out of stock but still listed,
//! variants about to run out at their sell-through rate, orders past their
//! promised ship or delivery date, and carriers that deliver late to one
//! destination country. Pure: the caller reads the mirror (and counts the
//! buyers asking about each stocked-out variant) and records the findings.
//!
//! Every finding has a stable key (kind plus SKU, order or carrier and
//! country), so running the detectors again refreshes a finding instead of
//! repeating it, and a finding no longer found can be resolved.
//!
//! The rules:
//! - **out of stock**: a variant of an active product whose units available
//!   over all locations (the stock levels, else the variant's own count)
//!   are 0 or less. Critical when at least one open conversation asks
//!   about it, else a warning.
//! - **low stock**: sell-through = units sold in the last
//!   [`Thresholds::sales_window_days`] (orders neither cancelled nor
//!   refunded) / that many days; days of cover = stock / sell-through. A
//!   variant in stock with cover below [`Thresholds::min_cover_days`] is
//!   low (critical under a third of it). No sales, no alert.
//! - **late order**: an order neither cancelled, refunded nor delivered
//!   with a live shipment still undelivered past its estimated delivery,
//!   or a paid order (not fully shipped) older than
//!   [`Thresholds::ship_within_days`]. Critical from a week late.
//! - **carrier delay**: shipments with a delivery estimate, grouped by
//!   (carrier, destination country). A group with at least
//!   [`Thresholds::carrier_min_shipments`] shipments, at least
//!   [`Thresholds::carrier_min_late`] of them late (delivered after the
//!   estimate, or undelivered past it), a late share of at least
//!   [`Thresholds::carrier_late_share`] and at least
//!   [`Thresholds::carrier_margin`] above the late share of all other
//!   shipments is delayed. Critical from a late share of one half.

use crate::model::{Fulfillment, OrderDetails, OrderState, Product, Variant};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// What a detector looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A listed variant with no stock.
    OutOfStock,
    /// A variant that runs out soon at its sell-through rate.
    LowStock,
    /// An order past its promised ship or delivery date.
    LateOrder,
    /// A carrier late to one destination country.
    CarrierDelay,
    /// A SKU whose defect rate jumped (account-wide, not per shop: see
    /// `ferry_core::insights::products`).
    DefectRate,
    /// An outgoing webhook Ferry disabled after its receiver kept failing
    /// (account-wide, raised by the webhook deliveries, not a detector).
    WebhookDisabled,
}

impl AlertKind {
    /// Every kind, in the order the detectors run (the webhooks' last).
    pub const ALL: [AlertKind; 6] = [
        AlertKind::OutOfStock,
        AlertKind::LowStock,
        AlertKind::LateOrder,
        AlertKind::CarrierDelay,
        AlertKind::DefectRate,
        AlertKind::WebhookDisabled,
    ];

    /// The kinds [`detect`] finds on one shop.
    pub const SHOP: [AlertKind; 4] =
        [AlertKind::OutOfStock, AlertKind::LowStock, AlertKind::LateOrder, AlertKind::CarrierDelay];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::OutOfStock => "out_of_stock",
            AlertKind::LowStock => "low_stock",
            AlertKind::LateOrder => "late_order",
            AlertKind::CarrierDelay => "carrier_delay",
            AlertKind::DefectRate => "defect_rate",
            AlertKind::WebhookDisabled => "webhook_disabled",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an alert kind or severity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownName(pub String);

impl FromStr for AlertKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// Buyers are or will be affected now.
    Critical,
}

impl Severity {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            _ => Err(UnknownName(s.to_owned())),
        }
    }
}

/// The detectors' settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Days of sales the sell-through rate is computed over.
    pub sales_window_days: i64,
    /// Days of cover below which stock is low.
    pub min_cover_days: f64,
    /// Days after the order within which a paid order must ship.
    pub ship_within_days: i64,
    /// Fewest shipments of a carrier to a country worth judging.
    pub carrier_min_shipments: usize,
    /// Fewest late shipments of a delayed carrier to a country.
    pub carrier_min_late: usize,
    /// Smallest late share of a delayed carrier to a country.
    pub carrier_late_share: f64,
    /// How far the late share must be above that of all other shipments.
    pub carrier_margin: f64,
    /// Days back the detectors read orders (late orders and carriers).
    pub order_window_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            sales_window_days: 14,
            min_cover_days: 7.0,
            ship_within_days: 3,
            carrier_min_shipments: 5,
            carrier_min_late: 3,
            carrier_late_share: 0.3,
            carrier_margin: 0.15,
            order_window_days: 90,
        }
    }
}

/// Details of a variant out of stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockDetails {
    /// The product's shop id.
    pub product_external_id: String,
    /// Product title.
    pub product_title: String,
    /// The variant's shop id.
    pub variant_external_id: String,
    /// Variant title.
    pub variant_title: String,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Units available.
    pub stock: i64,
    /// Open conversations asking about it (out of stock only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_conversations: Option<u32>,
    /// Units sold in the sales window (low stock only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units_sold: Option<i64>,
    /// The sales window in days (low stock only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<i64>,
    /// Units sold a day (low stock only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_rate: Option<f64>,
    /// Days until it runs out (low stock only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_cover: Option<f64>,
}

/// Details of a late order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateOrderDetails {
    /// The order's shop id.
    pub order_external_id: String,
    /// The number buyers quote.
    pub order_number: String,
    /// Display name (`#1001`).
    pub order_name: String,
    /// `delivery_overdue` (shipped, not delivered by the estimate) or
    /// `not_shipped` (not fully shipped within the promised time).
    pub reason: String,
    /// Where the order stands.
    pub state: String,
    /// What was promised by when.
    pub due_at: DateTime<Utc>,
    /// Whole days past `due_at`.
    pub days_late: i64,
    /// Carrier of the overdue shipment.
    pub carrier: Option<String>,
    /// Its tracking number.
    pub tracking_number: Option<String>,
    /// Destination country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// Buyer's e-mail.
    pub email: Option<String>,
}

/// Details of a carrier late to one country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarrierDetails {
    /// Carrier name.
    pub carrier: String,
    /// Destination country (ISO 3166 alpha-2).
    pub country: String,
    /// Shipments with a delivery estimate.
    pub shipments: usize,
    /// Of them, late.
    pub late: usize,
    /// `late / shipments`.
    pub late_share: f64,
    /// The late share of every other carrier and country.
    pub others_late_share: f64,
    /// Median days from shipping to delivery (or to now, when undelivered).
    pub median_transit_days: f64,
}

/// One thing a detector found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Which detector.
    pub kind: AlertKind,
    /// Stable identity within the shop: `kind:sku`, `kind:order id`,
    /// `kind:carrier:country`.
    pub key: String,
    /// How urgent.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// The numbers behind it (one of the `*Details` types as JSON).
    pub details: serde_json::Value,
}

fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    // Serialising these plain structs cannot fail.
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// What the detectors read.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The shop's products.
    pub products: &'a [Product],
    /// Units available per inventory item over all locations.
    pub stock: &'a HashMap<String, i64>,
    /// Recent orders (placed within [`Thresholds::order_window_days`]).
    pub orders: &'a [OrderDetails],
    /// Open conversations asking about a variant, by variant id.
    pub demand: &'a HashMap<String, u32>,
    /// Now.
    pub now: DateTime<Utc>,
    /// Settings.
    pub thresholds: &'a Thresholds,
}

/// Units available of a variant: its inventory item's level when known,
/// else the quantity the product carries.
pub fn variant_stock(v: &Variant, stock: &HashMap<String, i64>) -> Option<i64> {
    v.inventory_item_id.as_ref().and_then(|i| stock.get(i).copied()).or(v.inventory_quantity)
}

fn variant_key(v: &Variant) -> String {
    v.sku.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| format!("variant-{}", v.external_id))
}

fn variant_label(p: &Product, v: &Variant) -> String {
    let name = if v.title.is_empty() || v.title == "Default Title" {
        p.title.clone()
    } else {
        format!("{} ({})", p.title, v.title)
    };
    match v.sku.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(sku) => format!("{sku} {name}"),
        None => name,
    }
}

/// Variants of active products with no stock: what the caller counts the
/// buyers' demand for. A variant whose stock is unknown is skipped.
pub fn stocked_out<'a>(products: &'a [Product], stock: &HashMap<String, i64>) -> Vec<(&'a Product, &'a Variant, i64)> {
    products
        .iter()
        .filter(|p| p.status == "active")
        .flat_map(|p| p.variants.iter().map(move |v| (p, v)))
        .filter_map(|(p, v)| variant_stock(v, stock).filter(|s| *s <= 0).map(|s| (p, v, s)))
        .collect()
}

/// Runs every detector.
pub fn detect(input: &Input<'_>) -> Vec<Finding> {
    let mut out = out_of_stock(input);
    out.extend(low_stock(input));
    out.extend(late_orders(input));
    out.extend(carrier_delays(input));
    out
}

/// Listed variants with no stock.
pub fn out_of_stock(input: &Input<'_>) -> Vec<Finding> {
    stocked_out(input.products, input.stock)
        .into_iter()
        .map(|(p, v, stock)| {
            let demand = input.demand.get(&v.external_id).copied().unwrap_or(0);
            let severity = if demand > 0 { Severity::Critical } else { Severity::Warning };
            let mut title = format!("{} is out of stock but still listed", variant_label(p, v));
            if demand > 0 {
                title.push_str(&if demand == 1 {
                    "; 1 open conversation asks about it".to_owned()
                } else {
                    format!("; {demand} open conversations ask about it")
                });
            }
            let details = StockDetails {
                product_external_id: p.external_id.clone(),
                product_title: p.title.clone(),
                variant_external_id: v.external_id.clone(),
                variant_title: v.title.clone(),
                sku: v.sku.clone(),
                stock,
                open_conversations: Some(demand),
                units_sold: None,
                window_days: None,
                daily_rate: None,
                days_of_cover: None,
            };
            Finding {
                kind: AlertKind::OutOfStock,
                key: format!("out_of_stock:{}", variant_key(v)),
                severity,
                title,
                details: to_value(&details),
            }
        })
        .collect()
}

/// An order that counts as a sale (neither cancelled nor refunded).
fn is_sale(o: &OrderDetails) -> bool {
    !matches!(o.state(), OrderState::Cancelled | OrderState::Refunded)
}

/// Units sold per variant (by SKU, else by variant id) since `since`.
pub fn units_sold(orders: &[OrderDetails], since: DateTime<Utc>) -> HashMap<String, i64> {
    let mut sold: HashMap<String, i64> = HashMap::new();
    for o in orders.iter().filter(|o| o.order.created_at >= since && is_sale(o)) {
        for l in &o.order.line_items {
            let key = match (l.sku.as_deref().filter(|s| !s.trim().is_empty()), &l.variant_external_id) {
                (Some(sku), _) => sku.to_owned(),
                (None, Some(v)) => format!("variant-{v}"),
                (None, None) => continue,
            };
            *sold.entry(key).or_default() += l.quantity.max(0);
        }
    }
    sold
}

/// Variants in stock that run out within the cover threshold.
pub fn low_stock(input: &Input<'_>) -> Vec<Finding> {
    let t = input.thresholds;
    let window = t.sales_window_days.max(1);
    let sold = units_sold(input.orders, input.now - Duration::days(window));
    let mut out = Vec::new();
    for p in input.products.iter().filter(|p| p.status == "active") {
        for v in &p.variants {
            let Some(stock) = variant_stock(v, input.stock).filter(|s| *s > 0) else { continue };
            let key = variant_key(v);
            let units = sold.get(&key).copied().unwrap_or(0);
            if units <= 0 {
                continue;
            }
            let rate = units as f64 / window as f64;
            let cover = stock as f64 / rate;
            if cover >= t.min_cover_days {
                continue;
            }
            let severity = if cover < t.min_cover_days / 3.0 { Severity::Critical } else { Severity::Warning };
            let details = StockDetails {
                product_external_id: p.external_id.clone(),
                product_title: p.title.clone(),
                variant_external_id: v.external_id.clone(),
                variant_title: v.title.clone(),
                sku: v.sku.clone(),
                stock,
                open_conversations: None,
                units_sold: Some(units),
                window_days: Some(window),
                daily_rate: Some(round2(rate)),
                days_of_cover: Some(round2(cover)),
            };
            out.push(Finding {
                kind: AlertKind::LowStock,
                key: format!("low_stock:{key}"),
                severity,
                title: format!(
                    "{} runs out in about {:.1} days ({stock} left, {units} sold in {window} days)",
                    variant_label(p, v),
                    cover
                ),
                details: to_value(&details),
            });
        }
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn is_delivered(f: &Fulfillment) -> bool {
    f.shipment_status.as_deref() == Some("delivered")
}

/// Orders past their promised ship or delivery date.
pub fn late_orders(input: &Input<'_>) -> Vec<Finding> {
    let now = input.now;
    let mut out = Vec::new();
    for o in input.orders {
        let state = o.state();
        if matches!(state, OrderState::Cancelled | OrderState::Refunded | OrderState::Delivered) {
            continue;
        }
        let overdue = o
            .fulfillments
            .iter()
            .filter(|f| f.is_live() && !is_delivered(f))
            .filter_map(|f| f.estimated_delivery_at.filter(|eta| *eta < now).map(|eta| (eta, f)))
            .min_by_key(|(eta, _)| *eta);
        let promised_ship = o.order.created_at + Duration::days(input.thresholds.ship_within_days);
        let (reason, due_at, shipment) = match overdue {
            Some((eta, f)) => ("delivery_overdue", eta, Some(f)),
            None if matches!(state, OrderState::Paid | OrderState::PartiallyShipped) && promised_ship < now => {
                ("not_shipped", promised_ship, None)
            }
            None => continue,
        };
        let days_late = (now - due_at).num_days();
        let severity = if days_late >= 7 { Severity::Critical } else { Severity::Warning };
        let what = if reason == "delivery_overdue" {
            "has not been delivered by its estimate"
        } else if state == OrderState::PartiallyShipped {
            "is not fully shipped in time"
        } else {
            "has not shipped in time"
        };
        let late = match days_late {
            0 => "less than a day late".to_owned(),
            1 => "1 day late".to_owned(),
            n => format!("{n} days late"),
        };
        let details = LateOrderDetails {
            order_external_id: o.order.external_id.clone(),
            order_number: o.order.number.clone(),
            order_name: o.order.name.clone(),
            reason: reason.to_owned(),
            state: state.as_str().to_owned(),
            due_at,
            days_late,
            carrier: shipment.and_then(|f| f.carrier.clone()),
            tracking_number: shipment.and_then(|f| f.tracking_number.clone()),
            country: country(o),
            email: o.order.email.clone(),
        };
        out.push(Finding {
            kind: AlertKind::LateOrder,
            key: format!("late_order:{}", o.order.external_id),
            severity,
            title: format!("Order {} {what} ({late})", o.order.name),
            details: to_value(&details),
        });
    }
    out
}

fn country(o: &OrderDetails) -> Option<String> {
    o.order.shipping_address.as_ref().map(|a| a.country_code.trim().to_ascii_uppercase()).filter(|c| !c.is_empty())
}

/// One shipment as the carrier detector sees it.
struct Shipment {
    late: bool,
    transit_days: f64,
}

/// Carriers late to one destination country, compared with every other
/// shipment.
pub fn carrier_delays(input: &Input<'_>) -> Vec<Finding> {
    let t = input.thresholds;
    let now = input.now;
    let mut groups: BTreeMap<(String, String), Vec<Shipment>> = BTreeMap::new();
    for o in input.orders.iter().filter(|o| !matches!(o.state(), OrderState::Cancelled)) {
        let Some(country) = country(o) else { continue };
        for f in o.fulfillments.iter().filter(|f| f.is_live()) {
            let (Some(carrier), Some(eta)) = (f.carrier.as_deref().map(str::trim), f.estimated_delivery_at) else {
                continue;
            };
            if carrier.is_empty() {
                continue;
            }
            // A delivered shipment last changed when it was delivered.
            let arrived = if is_delivered(f) { f.updated_at } else { now };
            let late = arrived > eta;
            let transit_days = (arrived - f.created_at).num_minutes().max(0) as f64 / (24.0 * 60.0);
            groups.entry((carrier.to_owned(), country.clone())).or_default().push(Shipment { late, transit_days });
        }
    }
    let total: usize = groups.values().map(Vec::len).sum();
    let total_late: usize = groups.values().map(|g| g.iter().filter(|s| s.late).count()).sum();
    let mut out = Vec::new();
    for ((carrier, country), shipments) in &groups {
        let n = shipments.len();
        let late = shipments.iter().filter(|s| s.late).count();
        if n < t.carrier_min_shipments.max(1) || late < t.carrier_min_late {
            continue;
        }
        let share = late as f64 / n as f64;
        let others_n = total - n;
        let others_share = if others_n == 0 { 0.0 } else { (total_late - late) as f64 / others_n as f64 };
        if share < t.carrier_late_share || share < others_share + t.carrier_margin {
            continue;
        }
        let mut transit: Vec<f64> = shipments.iter().map(|s| s.transit_days).collect();
        transit.sort_by(f64::total_cmp);
        let median = if transit.len() % 2 == 1 {
            transit[transit.len() / 2]
        } else {
            (transit[transit.len() / 2 - 1] + transit[transit.len() / 2]) / 2.0
        };
        let severity = if share >= 0.5 { Severity::Critical } else { Severity::Warning };
        let details = CarrierDetails {
            carrier: carrier.clone(),
            country: country.clone(),
            shipments: n,
            late,
            late_share: round2(share),
            others_late_share: round2(others_share),
            median_transit_days: round2(median),
        };
        out.push(Finding {
            kind: AlertKind::CarrierDelay,
            key: format!("carrier_delay:{}:{country}", carrier.to_lowercase()),
            severity,
            title: format!(
                "{carrier} is late to {country}: {late} of {n} shipments ({:.0}% vs {:.0}% elsewhere)",
                share * 100.0,
                others_share * 100.0
            ),
            details: to_value(&details),
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::{Address, LineItem, Order};

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&Utc) + Duration::days(days)
    }

    fn product(id: &str, status: &str, variants: &[(&str, &str, i64)]) -> Product {
        Product {
            external_id: id.into(),
            title: format!("Product {id}"),
            status: status.into(),
            variants: variants
                .iter()
                .map(|(vid, sku, qty)| Variant {
                    external_id: (*vid).into(),
                    sku: Some((*sku).into()),
                    title: "M".into(),
                    price: "10.00".into(),
                    inventory_item_id: Some(format!("inv-{vid}")),
                    inventory_quantity: Some(*qty),
                })
                .collect(),
            updated_at: at(0),
        }
    }

    fn order(id: &str, placed: i64, sku: &str, qty: i64, country: &str) -> OrderDetails {
        OrderDetails {
            order: Order {
                external_id: id.into(),
                number: id.into(),
                name: format!("#{id}"),
                email: Some("a@example.com".into()),
                phone: None,
                customer_external_id: None,
                customer_name: None,
                financial_status: "paid".into(),
                fulfillment_status: None,
                cancelled_at: None,
                cancel_reason: None,
                currency: "USD".into(),
                total_minor: 1000,
                line_items: vec![LineItem {
                    external_id: format!("{id}-1"),
                    product_external_id: None,
                    variant_external_id: None,
                    sku: Some(sku.into()),
                    title: "T".into(),
                    variant_title: None,
                    quantity: qty,
                    price_minor: 1000,
                }],
                shipping_address: Some(Address { country_code: country.into(), ..Address::default() }),
                created_at: at(placed),
                updated_at: at(placed),
            },
            fulfillments: vec![],
            refunds: vec![],
        }
    }

    fn shipped(mut o: OrderDetails, carrier: &str, shipped: i64, eta: i64, delivered: Option<i64>) -> OrderDetails {
        o.order.fulfillment_status = Some("fulfilled".into());
        o.fulfillments.push(Fulfillment {
            external_id: format!("f-{}-{}", o.order.external_id, o.fulfillments.len()),
            order_external_id: o.order.external_id.clone(),
            status: "success".into(),
            shipment_status: Some(if delivered.is_some() { "delivered" } else { "in_transit" }.into()),
            carrier: Some(carrier.into()),
            tracking_number: Some("T1".into()),
            tracking_url: None,
            estimated_delivery_at: Some(at(eta)),
            created_at: at(shipped),
            updated_at: at(delivered.unwrap_or(shipped)),
        });
        o
    }

    struct World {
        products: Vec<Product>,
        stock: HashMap<String, i64>,
        orders: Vec<OrderDetails>,
        demand: HashMap<String, u32>,
        t: Thresholds,
    }

    impl World {
        fn new() -> Self {
            Self {
                products: vec![],
                stock: HashMap::new(),
                orders: vec![],
                demand: HashMap::new(),
                t: Thresholds::default(),
            }
        }
        fn run(&self) -> Vec<Finding> {
            detect(&Input {
                products: &self.products,
                stock: &self.stock,
                orders: &self.orders,
                demand: &self.demand,
                now: at(0),
                thresholds: &self.t,
            })
        }
        fn of(&self, kind: AlertKind) -> Vec<Finding> {
            self.run().into_iter().filter(|f| f.kind == kind).collect()
        }
    }

    #[test]
    fn stock_out_of_an_active_product_with_demand_is_critical() {
        let mut w = World::new();
        w.products = vec![
            product("1", "active", &[("11", "DRESS-M", 5), ("12", "DRESS-S", 4)]),
            product("2", "draft", &[("21", "OLD-1", 0)]),
        ];
        // The stock levels win over the variant's own count.
        w.stock.insert("inv-11".into(), 0);
        let found = w.of(AlertKind::OutOfStock);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "out_of_stock:DRESS-M");
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].details["stock"], 0);
        w.demand.insert("11".into(), 2);
        let found = w.of(AlertKind::OutOfStock);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].details["open_conversations"], 2);
        assert!(found[0].title.ends_with("; 2 open conversations ask about it"), "{}", found[0].title);
        // Oversold counts as out of stock too.
        w.stock.insert("inv-12".into(), -2);
        assert_eq!(w.of(AlertKind::OutOfStock).len(), 2);
    }

    #[test]
    fn low_stock_by_sell_through() {
        let mut w = World::new();
        w.products = vec![product("1", "active", &[("11", "TEE", 3), ("12", "SLOW", 3), ("13", "NONE", 3)])];
        // TEE: 14 sold in 14 days = 1/day, 3 left = 3 days of cover.
        w.orders = vec![order("a", -2, "TEE", 10, "US"), order("b", -13, "TEE", 4, "US")];
        // SLOW: 2 in 14 days: 21 days of cover.
        w.orders.push(order("c", -1, "SLOW", 2, "US"));
        // Sales before the window do not count.
        w.orders.push(order("d", -20, "NONE", 50, "US"));
        let found = w.of(AlertKind::LowStock);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "low_stock:TEE");
        assert_eq!(found[0].details["days_of_cover"], 3.0);
        assert_eq!(found[0].details["units_sold"], 14);
        assert_eq!(found[0].severity, Severity::Warning);
        // Cancelled orders are no sales.
        w.orders[0].order.cancelled_at = Some(at(-1));
        assert!(w.of(AlertKind::LowStock).is_empty());
    }

    #[test]
    fn zero_sales_and_zero_stock_raise_no_low_stock() {
        let mut w = World::new();
        w.products = vec![product("1", "active", &[("11", "A", 0), ("12", "B", 1)])];
        w.orders = vec![order("a", -1, "A", 5, "US")];
        assert!(w.of(AlertKind::LowStock).is_empty(), "A is out of stock, B never sold");
        assert_eq!(w.of(AlertKind::OutOfStock).len(), 1);
    }

    #[test]
    fn late_orders_past_delivery_or_ship_promise() {
        let mut w = World::new();
        w.orders = vec![
            shipped(order("late", -16, "X", 1, "US"), "DHL", -14, -7, None),
            shipped(order("ontime", -5, "X", 1, "US"), "DHL", -4, 3, None),
            shipped(order("delivered", -20, "X", 1, "US"), "DHL", -18, -10, Some(-9)),
            order("unshipped", -5, "X", 1, "US"),
            order("fresh", -1, "X", 1, "US"),
        ];
        let mut cancelled = order("cancelled", -10, "X", 1, "US");
        cancelled.order.cancelled_at = Some(at(-9));
        let mut refunded = order("refunded", -10, "X", 1, "US");
        refunded.order.financial_status = "refunded".into();
        let mut unpaid = order("unpaid", -10, "X", 1, "US");
        unpaid.order.financial_status = "pending".into();
        w.orders.extend([cancelled, refunded, unpaid]);
        let found = w.of(AlertKind::LateOrder);
        let keys: Vec<&str> = found.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["late_order:late", "late_order:unshipped"]);
        assert_eq!(found[0].details["reason"], "delivery_overdue");
        assert_eq!(found[0].details["days_late"], 7);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].details["carrier"], "DHL");
        assert_eq!(found[1].details["reason"], "not_shipped");
        assert_eq!(found[1].details["days_late"], 2);
        assert_eq!(found[1].severity, Severity::Warning);
    }

    #[test]
    fn partial_fulfilment_is_late_to_ship_the_rest() {
        let mut w = World::new();
        let mut o = shipped(order("p", -6, "X", 2, "US"), "UPS", -5, 2, None);
        o.order.fulfillment_status = Some("partial".into());
        w.orders = vec![o];
        let found = w.of(AlertKind::LateOrder);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].details["reason"], "not_shipped");
        assert_eq!(found[0].details["state"], "partially_shipped");
        assert!(found[0].title.contains("not fully shipped"), "{}", found[0].title);
        // A cancelled shipment past its estimate is no delivery promise.
        let mut o = shipped(order("q", -1, "X", 1, "US"), "UPS", -1, -1, None);
        o.fulfillments[0].status = "cancelled".into();
        o.order.fulfillment_status = None;
        w.orders = vec![o];
        assert!(w.of(AlertKind::LateOrder).is_empty());
    }

    #[test]
    fn carrier_late_to_one_country_stands_out() {
        let mut w = World::new();
        // SlowPost to BR: 4 of 5 late. FastShip to DE: 0 of 6 late.
        for i in 0..5 {
            let delivered = if i == 0 { Some(-20) } else { None };
            w.orders.push(shipped(order(&format!("br{i}"), -30, "X", 1, "BR"), "SlowPost", -28, -18, delivered));
        }
        for i in 0..6 {
            w.orders.push(shipped(order(&format!("de{i}"), -30, "X", 1, "DE"), "FastShip", -28, -18, Some(-22)));
        }
        // SlowPost to DE is fine and too small to judge.
        w.orders.push(shipped(order("de-s", -30, "X", 1, "DE"), "SlowPost", -28, -18, None));
        let found = w.of(AlertKind::CarrierDelay);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "carrier_delay:slowpost:BR");
        assert_eq!(found[0].details["shipments"], 5);
        assert_eq!(found[0].details["late"], 4);
        assert_eq!(found[0].severity, Severity::Critical);
        // Too few late ones: no alert.
        w.t.carrier_min_late = 5;
        assert!(w.of(AlertKind::CarrierDelay).is_empty());
    }

    #[test]
    fn a_carrier_late_everywhere_is_not_singled_out_by_country() {
        let mut w = World::new();
        for (c, n) in [("BR", 5), ("DE", 5)] {
            for i in 0..n {
                w.orders.push(shipped(order(&format!("{c}{i}"), -30, "X", 1, c), "SlowPost", -28, -18, None));
            }
        }
        // Everything is late: no group is worse than the others.
        assert!(w.of(AlertKind::CarrierDelay).is_empty());
    }

    #[test]
    fn keys_are_stable_between_runs_and_names_round_trip() {
        let mut w = World::new();
        w.products = vec![product("1", "active", &[("11", "A", 0)])];
        w.orders = vec![order("u", -9, "A", 1, "US")];
        let a: Vec<String> = w.run().into_iter().map(|f| f.key).collect();
        let b: Vec<String> = w.run().into_iter().map(|f| f.key).collect();
        assert_eq!(a, b);
        for k in AlertKind::ALL {
            assert_eq!(k.as_str().parse::<AlertKind>(), Ok(k));
        }
        assert!("nope".parse::<AlertKind>().is_err());
        assert_eq!("critical".parse::<Severity>(), Ok(Severity::Critical));
    }

    #[test]
    fn empty_mirror_finds_nothing() {
        assert!(World::new().run().is_empty());
    }

    use proptest::prelude::*;

    /// (placed days ago, sku index, quantity, country index, cancelled,
    /// shipment: (shipped days ago, eta days after, delivered days after)).
    type Gen = (i64, usize, i64, usize, bool, Option<(i64, i64, Option<i64>)>);

    const SKUS: [&str; 3] = ["A", "B", "C"];
    const COUNTRIES: [&str; 3] = ["US", "BR", "DE"];

    fn gen_order() -> impl Strategy<Value = Gen> {
        (
            0i64..60,
            0usize..3,
            0i64..5,
            0usize..3,
            any::<bool>(),
            proptest::option::of((0i64..30, 0i64..15, proptest::option::of(0i64..30))),
        )
    }

    fn build(i: usize, g: &Gen) -> OrderDetails {
        let (placed, sku, qty, country, cancelled, shipment) = *g;
        let mut o = order(&format!("o{i}"), -placed, SKUS[sku], qty, COUNTRIES[country]);
        if let Some((shipped, eta, delivered)) = shipment {
            let shipped = shipped.min(placed);
            o = shipped_at(o, ["DHL", "UPS"][i % 2], -shipped, eta, delivered);
        }
        if cancelled {
            o.order.cancelled_at = Some(at(-placed));
        }
        o
    }

    /// Shipped on day `day` (0 is now), promised `eta` days later,
    /// delivered `delivered` days later (never after now).
    fn shipped_at(o: OrderDetails, carrier: &str, day: i64, eta: i64, delivered: Option<i64>) -> OrderDetails {
        shipped(o, carrier, day, day + eta, delivered.map(|d| (day + d).min(0)))
    }

    proptest! {
        #[test]
        fn findings_are_unique_consistent_and_repeatable(
            orders in proptest::collection::vec(gen_order(), 0..40),
            stock in proptest::collection::vec(-2i64..12, 3),
            demand in 0u32..3,
        ) {
            let mut w = World::new();
            w.products = vec![product("1", "active", &[("11", "A", 0), ("12", "B", 0), ("13", "C", 0)])];
            for (k, s) in stock.iter().enumerate() {
                w.stock.insert(format!("inv-1{}", k + 1), *s);
            }
            w.demand.insert("11".into(), demand);
            w.orders = orders.iter().enumerate().map(|(i, g)| build(i, g)).collect();
            let found = w.run();
            // The same mirror gives the same findings.
            prop_assert_eq!(&found, &w.run());
            let mut keys: Vec<&str> = found.iter().map(|f| f.key.as_str()).collect();
            keys.sort_unstable();
            let n = keys.len();
            keys.dedup();
            prop_assert_eq!(n, keys.len(), "keys are unique");
            for f in &found {
                prop_assert!(f.key.starts_with(f.kind.as_str()));
                match f.kind {
                    AlertKind::OutOfStock => prop_assert!(f.details["stock"].as_i64().unwrap() <= 0),
                    AlertKind::LowStock => {
                        prop_assert!(f.details["stock"].as_i64().unwrap() > 0);
                        prop_assert!(f.details["units_sold"].as_i64().unwrap() > 0);
                        prop_assert!(f.details["days_of_cover"].as_f64().unwrap() < w.t.min_cover_days + 0.01);
                    }
                    AlertKind::LateOrder => {
                        let id = f.details["order_external_id"].as_str().unwrap();
                        let o = w.orders.iter().find(|o| o.order.external_id == id).unwrap();
                        prop_assert!(o.order.cancelled_at.is_none(), "cancelled orders are never late");
                        prop_assert!(o.state() != OrderState::Delivered);
                        prop_assert!(f.details["days_late"].as_i64().unwrap() >= 0);
                    }
                    AlertKind::CarrierDelay => {
                        let late = f.details["late"].as_u64().unwrap() as usize;
                        let n = f.details["shipments"].as_u64().unwrap() as usize;
                        prop_assert!(n >= w.t.carrier_min_shipments && late >= w.t.carrier_min_late && late <= n);
                    }
                    AlertKind::DefectRate | AlertKind::WebhookDisabled => {
                        prop_assert!(false, "shop detectors find neither defect rates nor webhook failures")
                    }
                }
            }
            // Every variant out of stock is found, none in stock is.
            let out = found.iter().filter(|f| f.kind == AlertKind::OutOfStock).count();
            prop_assert_eq!(out, stock.iter().filter(|s| **s <= 0).count());
        }
    }
}
