//! Shopify: webhook signatures (`X-Shopify-Hmac-Sha256`: base64 of the
//! HMAC-SHA256 of the raw body with the app's secret) and the Admin API's
//! JSON resources turned into mirror writes. Webhook bodies are the bare
//! resource; API responses wrap it (`{"order": {…}}`); both are accepted.

use crate::model::*;
use crate::money::parse_minor;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Whether `header` is the signature of `body` under `secret`
/// (constant-time).
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature Shopify would send for `body` (for tests and the local
/// Admin API server).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook topics Ferry subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `orders/create`.
    OrdersCreate,
    /// `orders/updated`.
    OrdersUpdated,
    /// `orders/cancelled`.
    OrdersCancelled,
    /// `fulfillments/create`.
    FulfillmentsCreate,
    /// `fulfillments/update`.
    FulfillmentsUpdate,
    /// `products/create`.
    ProductsCreate,
    /// `products/update`.
    ProductsUpdate,
    /// `inventory_levels/update`.
    InventoryLevelsUpdate,
    /// `refunds/create`.
    RefundsCreate,
    /// `customers/create`.
    CustomersCreate,
    /// `customers/update`.
    CustomersUpdate,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 11] = [
        Topic::OrdersCreate,
        Topic::OrdersUpdated,
        Topic::OrdersCancelled,
        Topic::FulfillmentsCreate,
        Topic::FulfillmentsUpdate,
        Topic::ProductsCreate,
        Topic::ProductsUpdate,
        Topic::InventoryLevelsUpdate,
        Topic::RefundsCreate,
        Topic::CustomersCreate,
        Topic::CustomersUpdate,
    ];

    /// Shopify's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::OrdersCreate => "orders/create",
            Topic::OrdersUpdated => "orders/updated",
            Topic::OrdersCancelled => "orders/cancelled",
            Topic::FulfillmentsCreate => "fulfillments/create",
            Topic::FulfillmentsUpdate => "fulfillments/update",
            Topic::ProductsCreate => "products/create",
            Topic::ProductsUpdate => "products/update",
            Topic::InventoryLevelsUpdate => "inventory_levels/update",
            Topic::RefundsCreate => "refunds/create",
            Topic::CustomersCreate => "customers/create",
            Topic::CustomersUpdate => "customers/update",
        }
    }

    /// The key a wrapped resource sits under (`order`, `fulfillment`, …).
    fn wrapper(self) -> &'static str {
        match self {
            Topic::OrdersCreate | Topic::OrdersUpdated | Topic::OrdersCancelled => "order",
            Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => "fulfillment",
            Topic::ProductsCreate | Topic::ProductsUpdate => "product",
            Topic::InventoryLevelsUpdate => "inventory_level",
            Topic::RefundsCreate => "refund",
            Topic::CustomersCreate | Topic::CustomersUpdate => "customer",
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A topic Ferry does not handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported Shopify topic `{0}`")]
pub struct UnknownTopic(pub String);

impl FromStr for Topic {
    type Err = UnknownTopic;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s.trim()).ok_or_else(|| UnknownTopic(s.to_owned()))
    }
}

/// A body that is not the resource its topic promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON.
    #[error("the body is not JSON: {0}")]
    Json(String),
    /// A required field is missing or has the wrong type.
    #[error("{resource}.{field} is missing or invalid")]
    Field {
        /// The resource.
        resource: &'static str,
        /// The field.
        field: &'static str,
    },
}

fn field(resource: &'static str, name: &'static str) -> PayloadError {
    PayloadError::Field { resource, field: name }
}

/// An id: Shopify sends numbers (REST) or strings.
fn id(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty() && *s != "null").map(str::to_owned)
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?).ok().map(|t| t.with_timezone(&Utc))
}

fn email(v: &Value) -> Option<String> {
    text(v).filter(|e| e.contains('@')).map(|e| e.to_lowercase())
}

fn phone(v: &Value, region: Option<&str>) -> Option<String> {
    ferry_core::contact::normalize_phone(&text(v)?, region).ok()
}

fn address(v: &Value) -> Option<Address> {
    if !v.is_object() {
        return None;
    }
    let s = |k: &str| text(&v[k]).unwrap_or_default();
    Some(Address {
        name: s("name"),
        address1: s("address1"),
        address2: s("address2"),
        city: s("city"),
        province: s("province"),
        zip: s("zip"),
        country_code: s("country_code").to_uppercase(),
        phone: s("phone"),
    })
}

fn unwrap<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v.get(key) {
        Some(inner) if inner.is_object() => inner,
        _ => v,
    }
}

/// Parses a webhook body (or a wrapped API resource) of `topic`.
pub fn parse(topic: Topic, body: &[u8]) -> Result<Vec<MirrorWrite>, PayloadError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| PayloadError::Json(e.to_string()))?;
    parse_value(topic, &v)
}

/// Parses an already decoded resource of `topic`.
pub fn parse_value(topic: Topic, v: &Value) -> Result<Vec<MirrorWrite>, PayloadError> {
    let v = unwrap(v, topic.wrapper());
    Ok(match topic {
        Topic::OrdersCreate | Topic::OrdersUpdated | Topic::OrdersCancelled => order_writes(v)?,
        Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => vec![MirrorWrite::Fulfillment(fulfillment(v, None)?)],
        Topic::ProductsCreate | Topic::ProductsUpdate => vec![MirrorWrite::Product(product(v)?)],
        Topic::InventoryLevelsUpdate => inventory_level(v)?.map(MirrorWrite::Inventory).into_iter().collect(),
        Topic::RefundsCreate => vec![MirrorWrite::Refund(refund(v, None, None)?)],
        Topic::CustomersCreate | Topic::CustomersUpdate => vec![MirrorWrite::Customer(customer(v)?)],
    })
}

/// An order and, as their own writes, its embedded fulfilments and refunds.
pub fn order_writes(v: &Value) -> Result<Vec<MirrorWrite>, PayloadError> {
    let o = order(v)?;
    let mut out = Vec::new();
    for f in v["fulfillments"].as_array().into_iter().flatten() {
        out.push(MirrorWrite::Fulfillment(fulfillment(f, Some(&o.external_id))?));
    }
    for r in v["refunds"].as_array().into_iter().flatten() {
        out.push(MirrorWrite::Refund(refund(r, Some(&o.external_id), Some(&o.currency))?));
    }
    out.insert(0, MirrorWrite::Order(Box::new(o)));
    Ok(out)
}

/// An order.
pub fn order(v: &Value) -> Result<Order, PayloadError> {
    const R: &str = "order";
    let external_id = id(&v["id"]).ok_or_else(|| field(R, "id"))?;
    let currency = text(&v["currency"]).unwrap_or_else(|| "USD".to_owned()).to_uppercase();
    let number = id(&v["order_number"]).or_else(|| id(&v["number"])).ok_or_else(|| field(R, "order_number"))?;
    let name = text(&v["name"]).unwrap_or_else(|| format!("#{number}"));
    let shipping_address = address(&v["shipping_address"]);
    let region = shipping_address
        .as_ref()
        .map(|a| a.country_code.clone())
        .or_else(|| text(&v["billing_address"]["country_code"]))
        .filter(|c| !c.is_empty());
    let customer = &v["customer"];
    let customer_name = match (text(&customer["first_name"]), text(&customer["last_name"])) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n),
        (None, None) => shipping_address.as_ref().map(|a| a.name.clone()).filter(|n| !n.is_empty()),
    };
    let mut line_items = Vec::new();
    for li in v["line_items"].as_array().into_iter().flatten() {
        line_items.push(LineItem {
            external_id: id(&li["id"]).ok_or_else(|| field("line_item", "id"))?,
            product_external_id: id(&li["product_id"]),
            variant_external_id: id(&li["variant_id"]),
            sku: text(&li["sku"]),
            title: text(&li["title"]).or_else(|| text(&li["name"])).unwrap_or_default(),
            variant_title: text(&li["variant_title"]),
            quantity: li["quantity"].as_i64().ok_or_else(|| field("line_item", "quantity"))?,
            price_minor: money(&li["price"], &currency).ok_or_else(|| field("line_item", "price"))?,
        });
    }
    let created_at = time(&v["created_at"]).ok_or_else(|| field(R, "created_at"))?;
    Ok(Order {
        external_id,
        number,
        name,
        email: email(&v["email"]).or_else(|| email(&v["contact_email"])).or_else(|| email(&customer["email"])),
        phone: phone(&v["phone"], region.as_deref())
            .or_else(|| phone(&customer["phone"], region.as_deref()))
            .or_else(|| phone(&v["shipping_address"]["phone"], region.as_deref())),
        customer_external_id: id(&customer["id"]),
        customer_name,
        financial_status: text(&v["financial_status"]).unwrap_or_else(|| "pending".to_owned()),
        fulfillment_status: text(&v["fulfillment_status"]),
        cancelled_at: time(&v["cancelled_at"]),
        cancel_reason: text(&v["cancel_reason"]),
        total_minor: money(&v["total_price"], &currency).ok_or_else(|| field(R, "total_price"))?,
        currency,
        line_items,
        shipping_address,
        created_at,
        updated_at: time(&v["updated_at"]).unwrap_or(created_at),
    })
}

fn money(v: &Value, currency: &str) -> Option<i64> {
    match v {
        Value::String(s) => parse_minor(s, currency),
        Value::Number(n) => parse_minor(&n.to_string(), currency),
        _ => None,
    }
}

/// A fulfilment; `order` fills a missing `order_id` (embedded in an order).
pub fn fulfillment(v: &Value, order: Option<&str>) -> Result<Fulfillment, PayloadError> {
    const R: &str = "fulfillment";
    let created_at = time(&v["created_at"]).ok_or_else(|| field(R, "created_at"))?;
    Ok(Fulfillment {
        external_id: id(&v["id"]).ok_or_else(|| field(R, "id"))?,
        order_external_id: id(&v["order_id"])
            .or_else(|| order.map(str::to_owned))
            .ok_or_else(|| field(R, "order_id"))?,
        status: text(&v["status"]).unwrap_or_else(|| "pending".to_owned()),
        shipment_status: text(&v["shipment_status"]),
        carrier: text(&v["tracking_company"]),
        tracking_number: text(&v["tracking_number"])
            .or_else(|| v["tracking_numbers"].as_array().and_then(|a| a.first()).and_then(text)),
        tracking_url: text(&v["tracking_url"])
            .or_else(|| v["tracking_urls"].as_array().and_then(|a| a.first()).and_then(text)),
        estimated_delivery_at: time(&v["estimated_delivery_at"]),
        created_at,
        updated_at: time(&v["updated_at"]).unwrap_or(created_at),
    })
}

/// A refund; the amount is the sum of its refund transactions, else of its
/// refunded lines (price × quantity).
pub fn refund(v: &Value, order: Option<&str>, currency: Option<&str>) -> Result<Refund, PayloadError> {
    const R: &str = "refund";
    let currency = currency
        .map(str::to_owned)
        .or_else(|| v["transactions"].as_array().and_then(|t| t.first()).and_then(|t| text(&t["currency"])))
        .unwrap_or_else(|| "USD".to_owned());
    // Sums of amounts from outside: too large is a bad field, not a wrap.
    let too_large = || field(R, "amount");
    let from_transactions: Option<Option<i64>> = v["transactions"].as_array().filter(|t| !t.is_empty()).map(|ts| {
        ts.iter()
            .filter(|t| t["kind"].as_str().is_none_or(|k| k == "refund"))
            .filter_map(|t| money(&t["amount"], &currency))
            .try_fold(0i64, i64::checked_add)
    });
    let amount_minor = match from_transactions {
        Some(sum) => sum.ok_or_else(too_large)?,
        None => v["refund_line_items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|rl| Some((money(&rl["line_item"]["price"], &currency)?, rl["quantity"].as_i64()?)))
            .try_fold(0i64, |sum, (price, qty)| sum.checked_add(price.checked_mul(qty)?))
            .ok_or_else(too_large)?,
    };
    Ok(Refund {
        external_id: id(&v["id"]).ok_or_else(|| field(R, "id"))?,
        order_external_id: id(&v["order_id"])
            .or_else(|| order.map(str::to_owned))
            .ok_or_else(|| field(R, "order_id"))?,
        amount_minor,
        note: text(&v["note"]),
        created_at: time(&v["created_at"])
            .or_else(|| time(&v["processed_at"]))
            .ok_or_else(|| field(R, "created_at"))?,
    })
}

/// A product with its variants.
pub fn product(v: &Value) -> Result<Product, PayloadError> {
    const R: &str = "product";
    let mut variants = Vec::new();
    for pv in v["variants"].as_array().into_iter().flatten() {
        variants.push(Variant {
            external_id: id(&pv["id"]).ok_or_else(|| field("variant", "id"))?,
            sku: text(&pv["sku"]),
            title: text(&pv["title"]).unwrap_or_default(),
            price: text(&pv["price"]).unwrap_or_default(),
            inventory_item_id: id(&pv["inventory_item_id"]),
            inventory_quantity: pv["inventory_quantity"].as_i64(),
        });
    }
    let updated_at = time(&v["updated_at"]).or_else(|| time(&v["created_at"])).ok_or_else(|| field(R, "updated_at"))?;
    Ok(Product {
        external_id: id(&v["id"]).ok_or_else(|| field(R, "id"))?,
        title: text(&v["title"]).unwrap_or_default(),
        status: text(&v["status"]).unwrap_or_else(|| "active".to_owned()),
        variants,
        updated_at,
    })
}

/// A stock level; `None` for an item whose stock the shop does not track
/// (Shopify sends `"available": null`), which is not a stock of zero.
pub fn inventory_level(v: &Value) -> Result<Option<InventoryLevel>, PayloadError> {
    const R: &str = "inventory_level";
    let available = match &v["available"] {
        Value::Null => return Ok(None),
        a => a.as_i64().ok_or_else(|| field(R, "available"))?,
    };
    Ok(Some(InventoryLevel {
        inventory_item_id: id(&v["inventory_item_id"]).ok_or_else(|| field(R, "inventory_item_id"))?,
        location_id: id(&v["location_id"]).ok_or_else(|| field(R, "location_id"))?,
        available,
        updated_at: time(&v["updated_at"]).ok_or_else(|| field(R, "updated_at"))?,
    }))
}

/// A customer.
pub fn customer(v: &Value) -> Result<Customer, PayloadError> {
    const R: &str = "customer";
    let region = text(&v["default_address"]["country_code"]);
    let name = [text(&v["first_name"]), text(&v["last_name"])].into_iter().flatten().collect::<Vec<_>>().join(" ");
    Ok(Customer {
        external_id: id(&v["id"]).ok_or_else(|| field(R, "id"))?,
        email: email(&v["email"]),
        phone: phone(&v["phone"], region.as_deref())
            .or_else(|| phone(&v["default_address"]["phone"], region.as_deref())),
        name,
        updated_at: time(&v["updated_at"]).or_else(|| time(&v["created_at"])).ok_or_else(|| field(R, "updated_at"))?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn untracked_stock_is_no_level_and_huge_refunds_are_refused() {
        let level = |available: Value| {
            serde_json::json!({"inventory_item_id": 1, "location_id": 2, "available": available,
                "updated_at": "2026-01-01T00:00:00Z"})
        };
        assert_eq!(inventory_level(&level(Value::Null)).unwrap(), None);
        assert_eq!(inventory_level(&level(serde_json::json!(0))).unwrap().unwrap().available, 0);
        assert!(inventory_level(&level(serde_json::json!("many"))).is_err());
        assert!(parse_value(Topic::InventoryLevelsUpdate, &level(Value::Null)).unwrap().is_empty());
        let huge = serde_json::json!({"id": 9, "order_id": 1, "created_at": "2026-01-01T00:00:00Z",
            "transactions": [{"kind": "refund", "amount": "90000000000000000.00", "currency": "USD"},
                             {"kind": "refund", "amount": "90000000000000000.00", "currency": "USD"}]});
        assert!(refund(&huge, None, None).is_err());
    }

    #[test]
    fn signatures_are_base64_hmac_of_the_raw_body() {
        let body = br#"{"id":1}"#;
        let sig = sign(b"secret", body);
        assert!(verify(b"secret", body, &sig));
        assert!(!verify(b"other", body, &sig));
        assert!(!verify(b"secret", br#"{"id":2}"#, &sig));
        assert!(!verify(b"secret", body, "not base64!"));
        assert!(!verify(b"secret", body, ""));
    }

    #[test]
    fn topics_parse() {
        for t in Topic::ALL {
            assert_eq!(t.as_str().parse::<Topic>().unwrap(), t);
        }
        assert!("app/uninstalled".parse::<Topic>().is_err());
    }

    #[test]
    fn bad_bodies_are_clear_errors() {
        assert!(matches!(parse(Topic::OrdersCreate, b"nope"), Err(PayloadError::Json(_))));
        assert_eq!(
            parse(Topic::OrdersCreate, br#"{"order": {"name": "x"}}"#),
            Err(PayloadError::Field { resource: "order", field: "id" })
        );
        assert_eq!(
            parse(Topic::InventoryLevelsUpdate, br#"{"inventory_item_id": 1, "location_id": 2, "available": 3}"#),
            Err(PayloadError::Field { resource: "inventory_level", field: "updated_at" })
        );
    }
}
