//! Amazon's `ORDER_CHANGE` notifications (Selling Partner API
//! notifications, payload version 1.0) turned into mirror writes, and the
//! date a review may be asked from.
//!
//! An order is known by its `AmazonOrderId` (also its number and name).
//! `OrderStatus` maps onto the mirror's words: `Pending` and
//! `PendingAvailability` are unpaid, `Canceled` is cancelled at the time of
//! the change, `Shipped` and `InvoiceUnconfirmed` are fulfilled,
//! `PartiallyShipped` partly. A shipped order gets one shipment record
//! (`{order}-shipment`) promised by `LatestDeliveryDate`, delivered when
//! Easy Ship says so. The record's time is the change's
//! (`TimeOfOrderChange`, else `EventTime`), so the newest notification
//! wins however they arrive. Amazon's notifications carry no prices, so
//! totals are zero.

use crate::model::{Fulfillment, LineItem, MirrorWrite, Order, OrderDetails};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Why a notification could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    /// Not JSON.
    #[error("the notification is not JSON")]
    NotJson,
    /// A required field is missing or has the wrong type.
    #[error("the notification has no valid {0}")]
    Missing(&'static str),
}

/// A notification read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `NotificationMetadata.NotificationId` (re-deliveries repeat it).
    pub id: String,
    /// `NotificationType`.
    pub kind: String,
    /// The order's marketplace, for `ORDER_CHANGE`.
    pub marketplace_id: Option<String>,
    /// The writes (none for types Ferry does not use).
    pub writes: Vec<MirrorWrite>,
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The currency of a marketplace (Amazon's notifications carry none).
pub fn marketplace_currency(marketplace: &str) -> &'static str {
    match marketplace {
        "ATVPDKIKX0DER" => "USD",
        "A2EUQ1WTGCTBG2" => "CAD",
        "A1AM78C64UM0Y8" => "MXN",
        "A2Q3Y263D00KWC" => "BRL",
        "A1F83G8C2ARO7P" => "GBP",
        "A1PA6795UKMFR9" | "A13V1IB3VIYZZH" | "APJ6JRA9NG5V4" | "A1RKKUPIHCS9HS" | "A1805IZSGTT6HS"
        | "AMEN7PMS3EDWL" => "EUR",
        "A2NODRKZP88ZB9" => "SEK",
        "A1C3SOZRARQ6R3" => "PLN",
        "A33AVAJ2PDY3EV" => "TRY",
        "A1VC38T7YXB528" => "JPY",
        "A39IBJ37TRP1C6" => "AUD",
        "A19VAU5U5O7RUS" => "SGD",
        "A21TJRUUN4KGV" => "INR",
        "A2VIGQ35RCS4UG" => "AED",
        "A17E79C6D8DWNP" => "SAR",
        _ => "USD",
    }
}

/// Reads a notification; `ORDER_CHANGE` becomes the order (and its
/// shipment), other types no writes.
pub fn parse(body: &[u8]) -> Result<Notification, NotificationError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| NotificationError::NotJson)?;
    let id = text(&v["NotificationMetadata"]["NotificationId"])
        .filter(|i| i.len() <= 255)
        .ok_or(NotificationError::Missing("NotificationMetadata.NotificationId"))?;
    let kind = text(&v["NotificationType"]).ok_or(NotificationError::Missing("NotificationType"))?;
    if kind != "ORDER_CHANGE" {
        return Ok(Notification { id, kind, marketplace_id: None, writes: Vec::new() });
    }
    let n = &v["Payload"]["OrderChangeNotification"];
    let order_id = text(&n["AmazonOrderId"]).ok_or(NotificationError::Missing("AmazonOrderId"))?;
    let s = &n["Summary"];
    let status = text(&s["OrderStatus"]).ok_or(NotificationError::Missing("Summary.OrderStatus"))?;
    let marketplace = text(&s["MarketplaceId"]).ok_or(NotificationError::Missing("Summary.MarketplaceId"))?;
    let event = time(&v["EventTime"]).ok_or(NotificationError::Missing("EventTime"))?;
    let changed = time(&n["OrderChangeTrigger"]["TimeOfOrderChange"]).unwrap_or(event);
    let purchased = time(&s["PurchaseDate"]).unwrap_or(changed);
    let cancelled = status == "Canceled";
    let (financial, fulfillment) = match status.as_str() {
        "Pending" | "PendingAvailability" => ("pending", None),
        "Shipped" | "InvoiceUnconfirmed" => ("paid", Some("fulfilled")),
        "PartiallyShipped" => ("paid", Some("partial")),
        "Canceled" => ("voided", None),
        _ => ("paid", None),
    };
    let line_items = s["OrderItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let sku = text(&i["SellerSKU"]);
            Some(LineItem {
                external_id: text(&i["OrderItemId"])?,
                product_external_id: None,
                variant_external_id: None,
                title: sku.clone().unwrap_or_default(),
                sku,
                variant_title: None,
                quantity: i["Quantity"].as_i64().unwrap_or(0),
                price_minor: 0,
            })
        })
        .collect();
    let order = Order {
        external_id: order_id.clone(),
        number: order_id.clone(),
        name: order_id.clone(),
        email: None,
        phone: None,
        customer_external_id: None,
        customer_name: None,
        financial_status: financial.to_owned(),
        fulfillment_status: fulfillment.map(str::to_owned),
        cancelled_at: cancelled.then_some(changed),
        cancel_reason: if cancelled { text(&n["OrderChangeTrigger"]["ChangeReason"]) } else { None },
        currency: marketplace_currency(&marketplace).to_owned(),
        total_minor: 0,
        line_items,
        shipping_address: None,
        created_at: purchased,
        updated_at: changed,
    };
    let mut writes = vec![MirrorWrite::Order(Box::new(order))];
    if fulfillment.is_some() {
        let delivered = s["EasyShipShipmentStatus"].as_str() == Some("Delivered");
        writes.push(MirrorWrite::Fulfillment(Fulfillment {
            external_id: format!("{order_id}-shipment"),
            order_external_id: order_id,
            status: "success".to_owned(),
            shipment_status: Some(if delivered { "delivered" } else { "in_transit" }.to_owned()),
            carrier: None,
            tracking_number: None,
            tracking_url: None,
            estimated_delivery_at: time(&s["LatestDeliveryDate"]),
            created_at: changed,
            updated_at: changed,
        }));
    }
    Ok(Notification { id, kind, marketplace_id: Some(marketplace), writes })
}

/// When an order counts as delivered for Amazon's review window: when a
/// shipment was reported delivered, else the latest promised delivery
/// date once it has passed (Amazon counts from it when the carrier does
/// not confirm delivery). `None` while the order is on its way or not
/// shipped.
pub fn delivery_date(d: &OrderDetails, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if d.order.cancelled_at.is_some() {
        return None;
    }
    let live: Vec<&Fulfillment> = d.fulfillments.iter().filter(|f| f.is_live()).collect();
    if let Some(f) =
        live.iter().filter(|f| f.shipment_status.as_deref() == Some("delivered")).max_by_key(|f| f.updated_at)
    {
        return Some(f.updated_at);
    }
    live.iter().filter_map(|f| f.estimated_delivery_at).max().filter(|at| *at <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notification(id: &str, status: &str, at: &str) -> Vec<u8> {
        json!({
            "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
            "EventTime": at,
            "Payload": { "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel", "SellerId": "A3TH9S8BH6GOGM",
                "AmazonOrderId": "903-8868176-2219830", "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": { "TimeOfOrderChange": at, "ChangeReason": "Order status changed" },
                "Summary": {
                    "MarketplaceId": "A1PA6795UKMFR9", "OrderStatus": status,
                    "PurchaseDate": "2025-03-01T10:00:00Z", "DestinationPostalCode": "10115",
                    "FulfillmentType": "MFN", "OrderType": "StandardOrder",
                    "LatestDeliveryDate": "2025-03-06T23:59:59Z",
                    "OrderItems": [{ "OrderItemId": "OIID1", "SellerSKU": "MUG-1", "SupplySourceId": null, "Quantity": 2 }]
                }
            }},
            "NotificationMetadata": { "ApplicationId": "amzn1.sellerapps.app.x", "SubscriptionId": "s",
                "PublishTime": at, "NotificationId": id }
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn order_changes_become_orders_and_shipments() {
        let n = parse(&notification("n1", "Shipped", "2025-03-02T08:00:00Z"));
        let Ok(n) = n else { panic!("{n:?}") };
        assert_eq!(n.id, "n1");
        assert_eq!(n.writes.len(), 2);
        let MirrorWrite::Order(o) = &n.writes[0] else { panic!("{:?}", n.writes[0]) };
        assert_eq!((o.external_id.as_str(), o.currency.as_str()), ("903-8868176-2219830", "EUR"));
        assert_eq!(o.fulfillment_status.as_deref(), Some("fulfilled"));
        assert_eq!(o.line_items[0].quantity, 2);
        let cancelled = parse(&notification("n2", "Canceled", "2025-03-02T09:00:00Z"));
        let Ok(Notification { writes, .. }) = cancelled else { panic!() };
        let MirrorWrite::Order(o) = &writes[0] else { panic!() };
        assert!(o.cancelled_at.is_some() && writes.len() == 1);
    }

    #[test]
    fn other_types_and_broken_bodies() {
        let other = json!({ "NotificationType": "REPORT_PROCESSING_FINISHED",
            "NotificationMetadata": { "NotificationId": "x" } });
        let n = parse(other.to_string().as_bytes());
        assert!(n.is_ok_and(|n| n.writes.is_empty()));
        assert_eq!(parse(b"{"), Err(NotificationError::NotJson));
        assert_eq!(parse(b"{}"), Err(NotificationError::Missing("NotificationMetadata.NotificationId")));
    }

    #[test]
    fn delivery_counts_from_the_promise_once_passed() {
        let Ok(n) = parse(&notification("n1", "Shipped", "2025-03-02T08:00:00Z")) else { panic!() };
        let mut writes = n.writes.into_iter();
        let (Some(MirrorWrite::Order(o)), Some(MirrorWrite::Fulfillment(f))) = (writes.next(), writes.next()) else {
            panic!()
        };
        let d = OrderDetails { order: *o, fulfillments: vec![f], refunds: Vec::new() };
        let before = time(&json!("2025-03-05T00:00:00Z")).unwrap_or_default();
        let after = time(&json!("2025-03-08T00:00:00Z")).unwrap_or_default();
        assert_eq!(delivery_date(&d, before), None);
        assert_eq!(delivery_date(&d, after), time(&json!("2025-03-06T23:59:59Z")));
    }
}
