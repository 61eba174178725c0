//! Records of the shop mirror. Ids are the shop's own (`external_id`),
//! unique per shop connection; times are the shop's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Recipient.
    #[serde(default)]
    pub name: String,
    /// Street and number.
    #[serde(default)]
    pub address1: String,
    /// More of the street.
    #[serde(default)]
    pub address2: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State or province.
    #[serde(default)]
    pub province: String,
    /// Postal code.
    #[serde(default)]
    pub zip: String,
    /// ISO 3166 alpha-2.
    #[serde(default)]
    pub country_code: String,
    /// Phone as written.
    #[serde(default)]
    pub phone: String,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// The shop's id of the line.
    pub external_id: String,
    /// Product.
    pub product_external_id: Option<String>,
    /// Variant.
    pub variant_external_id: Option<String>,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Product title.
    pub title: String,
    /// Variant title (size, colour).
    pub variant_title: Option<String>,
    /// Quantity.
    pub quantity: i64,
    /// Unit price in minor units of the order's currency.
    pub price_minor: i64,
}

/// Where an order stands, in the shop's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Placed, not paid yet.
    Pending,
    /// Paid (or authorised), nothing shipped.
    Paid,
    /// Part of it shipped.
    PartiallyShipped,
    /// Shipped.
    Shipped,
    /// Delivered (the carrier says so).
    Delivered,
    /// Cancelled.
    Cancelled,
    /// Refunded in full.
    Refunded,
}

impl OrderState {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Pending => "pending",
            OrderState::Paid => "paid",
            OrderState::PartiallyShipped => "partially_shipped",
            OrderState::Shipped => "shipped",
            OrderState::Delivered => "delivered",
            OrderState::Cancelled => "cancelled",
            OrderState::Refunded => "refunded",
        }
    }
}

/// An order as the shop last described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The shop's id.
    pub external_id: String,
    /// The order number buyers quote (`1001`).
    pub number: String,
    /// The display name (`#1001`).
    pub name: String,
    /// Buyer's e-mail (lower-cased).
    pub email: Option<String>,
    /// Buyer's phone in E.164, when it parses.
    pub phone: Option<String>,
    /// The shop's customer id.
    pub customer_external_id: Option<String>,
    /// Buyer's name.
    pub customer_name: Option<String>,
    /// Payment state in the shop's words (`paid`, `authorized`, `refunded`, …).
    pub financial_status: String,
    /// Fulfilment state in the shop's words (`fulfilled`, `partial`, none).
    pub fulfillment_status: Option<String>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why, when cancelled.
    pub cancel_reason: Option<String>,
    /// ISO 4217.
    pub currency: String,
    /// Total in minor units.
    pub total_minor: i64,
    /// Lines.
    pub line_items: Vec<LineItem>,
    /// Where it goes.
    pub shipping_address: Option<Address>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When the shop last changed it.
    pub updated_at: DateTime<Utc>,
}

/// A shipment of (part of) an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfillment {
    /// The shop's id.
    pub external_id: String,
    /// Its order.
    pub order_external_id: String,
    /// `pending`, `open`, `success`, `cancelled`, `error`, `failure`.
    pub status: String,
    /// Carrier's latest event (`in_transit`, `out_for_delivery`, `delivered`, …).
    pub shipment_status: Option<String>,
    /// Carrier name.
    pub carrier: Option<String>,
    /// Tracking number.
    pub tracking_number: Option<String>,
    /// Tracking link.
    pub tracking_url: Option<String>,
    /// Promised delivery.
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the shop last changed it.
    pub updated_at: DateTime<Utc>,
}

impl Fulfillment {
    /// Not cancelled and not failed: a shipment that is (or was) on its way.
    pub fn is_live(&self) -> bool {
        !matches!(self.status.as_str(), "cancelled" | "error" | "failure")
    }
}

/// Money given back for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The shop's id.
    pub external_id: String,
    /// Its order.
    pub order_external_id: String,
    /// Amount in minor units (sum of its transactions, or of its lines).
    pub amount_minor: i64,
    /// Why.
    pub note: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A product variant (a size, a colour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The shop's id.
    pub external_id: String,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Title.
    pub title: String,
    /// Price in minor units of the shop's currency (as text in the shop).
    pub price: String,
    /// Inventory item (stock levels refer to it).
    pub inventory_item_id: Option<String>,
    /// Units in stock over all locations, as the product last said.
    pub inventory_quantity: Option<i64>,
}

/// A product with its variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The shop's id.
    pub external_id: String,
    /// Title.
    pub title: String,
    /// `active`, `draft`, `archived`.
    pub status: String,
    /// Variants.
    pub variants: Vec<Variant>,
    /// When the shop last changed it.
    pub updated_at: DateTime<Utc>,
}

/// Stock of an inventory item at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryLevel {
    /// Inventory item (one per variant).
    pub inventory_item_id: String,
    /// Location.
    pub location_id: String,
    /// Units available.
    pub available: i64,
    /// When the shop last changed it.
    pub updated_at: DateTime<Utc>,
}

/// A customer of the shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The shop's id.
    pub external_id: String,
    /// E-mail (lower-cased).
    pub email: Option<String>,
    /// Phone in E.164.
    pub phone: Option<String>,
    /// Name.
    pub name: String,
    /// When the shop last changed it.
    pub updated_at: DateTime<Utc>,
}

/// One change to the mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MirrorWrite {
    /// An order (its embedded fulfilments and refunds come as their own writes).
    Order(Box<Order>),
    /// A fulfilment.
    Fulfillment(Fulfillment),
    /// A refund.
    Refund(Refund),
    /// A product.
    Product(Product),
    /// A stock level.
    Inventory(InventoryLevel),
    /// A customer.
    Customer(Customer),
}

/// An order with its fulfilments and refunds, as agents and the bot see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetails {
    /// The order.
    pub order: Order,
    /// Its shipments, oldest first.
    pub fulfillments: Vec<Fulfillment>,
    /// Its refunds, oldest first.
    pub refunds: Vec<Refund>,
}

impl OrderDetails {
    /// Where the order stands, from the order and its shipments.
    pub fn state(&self) -> OrderState {
        let o = &self.order;
        if o.cancelled_at.is_some() {
            return OrderState::Cancelled;
        }
        if o.financial_status == "refunded" {
            return OrderState::Refunded;
        }
        let live: Vec<&Fulfillment> = self.fulfillments.iter().filter(|f| f.is_live()).collect();
        if !live.is_empty() && live.iter().all(|f| f.shipment_status.as_deref() == Some("delivered")) {
            return OrderState::Delivered;
        }
        match o.fulfillment_status.as_deref() {
            Some("fulfilled") => return OrderState::Shipped,
            Some("partial") => return OrderState::PartiallyShipped,
            _ => {}
        }
        if !live.is_empty() {
            return OrderState::Shipped;
        }
        match o.financial_status.as_str() {
            "paid" | "partially_paid" | "authorized" | "partially_refunded" => OrderState::Paid,
            _ => OrderState::Pending,
        }
    }

    /// The latest live shipment.
    pub fn latest_fulfillment(&self) -> Option<&Fulfillment> {
        self.fulfillments.iter().filter(|f| f.is_live()).max_by_key(|f| f.updated_at)
    }

    /// What the order is found by: see [`order_search_text`].
    pub fn search_text(&self) -> String {
        order_search_text(&self.order, &self.fulfillments)
    }
}

/// What an order is found by, as shown in a search hit: its name and
/// number, the buyer's e-mail, phone and name, each line's SKU and title,
/// and every shipment's tracking number.
pub fn order_search_text(o: &Order, fulfillments: &[Fulfillment]) -> String {
    let mut parts: Vec<&str> = vec![o.name.as_str(), o.number.as_str()];
    parts.extend(o.email.as_deref());
    parts.extend(o.phone.as_deref());
    parts.extend(o.customer_name.as_deref());
    for l in &o.line_items {
        parts.extend(l.sku.as_deref());
        parts.push(l.title.as_str());
    }
    parts.extend(fulfillments.iter().filter_map(|f| f.tracking_number.as_deref()));
    let mut out: Vec<&str> = Vec::with_capacity(parts.len());
    for p in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out.join(" · ")
}
