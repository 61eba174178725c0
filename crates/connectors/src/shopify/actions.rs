//! The Shopify side of order actions, over the Admin REST API (the
//! backfill's client, with its rate-limit handling):
//! `POST /orders/{id}/cancel.json`, `POST /orders/{id}/refunds/calculate.json`
//! then `POST /orders/{id}/refunds.json`, and `PUT /orders/{id}.json` with a
//! new `shipping_address`. Every answer is turned into mirror writes with
//! the same parser as webhooks and backfills.

use super::sync::{AdminClient, ClientOptions, SyncError};
use async_trait::async_trait;
use ferry_commerce::actions::{CancelRequest, Capabilities, CheckedRefund, ConnectorError, ShopConnector};
use ferry_commerce::money::format_minor;
use ferry_commerce::shopify;
use ferry_commerce::{Address, MirrorWrite};
use ferry_storage::ShopConnection;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Why a Shopify connection without credentials allows no actions.
pub const NO_API_REASON: &str = "this shop connection has no Admin API access (no API URL and access token), so Ferry \
     cannot change its orders; an admin can add them to the connection";

/// Order actions on one Shopify shop.
#[derive(Clone)]
pub struct ShopifyConnector {
    client: AdminClient,
}

impl ShopifyConnector {
    /// The connector of a Shopify connection; `None` without Admin API
    /// credentials.
    pub fn for_connection(c: &ShopConnection) -> Option<Self> {
        // Agents wait for the answer (and a request has 30 s): fewer,
        // shorter retries than a backfill.
        let opts = ClientOptions {
            max_attempts: 2,
            max_retry_after: Duration::from_secs(3),
            timeout: Duration::from_secs(8),
            ..ClientOptions::default()
        };
        AdminClient::for_connection(c, opts).ok().map(|client| Self { client })
    }
}

/// Shopify's `errors` (a string, a list, or a map of field to messages)
/// as one sentence.
fn readable(message: &str) -> String {
    fn flat(v: &Value, out: &mut Vec<String>, prefix: &str) {
        match v {
            Value::String(s) if prefix.is_empty() || prefix == "base" => out.push(s.clone()),
            Value::String(s) => out.push(format!("{prefix} {s}")),
            Value::Array(a) => a.iter().for_each(|x| flat(x, out, prefix)),
            Value::Object(o) => o.iter().for_each(|(k, x)| flat(x, out, k)),
            other => out.push(other.to_string()),
        }
    }
    match serde_json::from_str::<Value>(message) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => {
            let mut out = Vec::new();
            flat(&v, &mut out, "");
            out.join("; ")
        }
        _ => message.to_owned(),
    }
}

fn shop_error(e: SyncError) -> ConnectorError {
    match &e {
        SyncError::Rejected { status, message, .. } => {
            ConnectorError::Rejected(format!("Shopify answered HTTP {status}: {}", readable(message)))
        }
        SyncError::Unauthorized { status, message, .. } => ConnectorError::Unavailable(format!(
            "Shopify refused the access token (HTTP {status}): {}",
            readable(message)
        )),
        // Network and server failures stay in the logs; the agent gets
        // what to do about them.
        SyncError::GaveUp { attempts, .. } => {
            tracing::warn!(error = %e, "a Shopify order action failed");
            ConnectorError::Unavailable(format!(
                "Shopify did not answer or failed after {attempts} attempt(s); check the order in Shopify before trying again"
            ))
        }
        other => {
            tracing::warn!(error = %other, "a Shopify order action failed");
            ConnectorError::Unavailable("Shopify's answer could not be read; check the order in Shopify".to_owned())
        }
    }
}

fn order_path(order: &str, rest: &str) -> Result<String, ConnectorError> {
    if order.is_empty() || !order.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::Rejected(format!("`{order}` is not a Shopify order id")));
    }
    Ok(format!("/orders/{order}{rest}"))
}

fn order_writes(v: &Value, what: &str) -> Result<Vec<MirrorWrite>, ConnectorError> {
    match v.get("order") {
        Some(o) if o.is_object() => shopify::order_writes(o)
            .map_err(|e| ConnectorError::Unavailable(format!("Shopify's answer to {what} is unreadable: {e}"))),
        _ => Err(ConnectorError::Unavailable(format!("Shopify's answer to {what} has no order"))),
    }
}

/// Shopify's address fields from ours (its `name` is derived from the
/// first and last names).
fn shopify_address(a: &Address) -> Value {
    let (first, last) = match a.name.rsplit_once(' ') {
        Some((f, l)) => (f.trim(), l.trim()),
        None => ("", a.name.trim()),
    };
    json!({
        "first_name": first, "last_name": last, "name": a.name,
        "address1": a.address1, "address2": a.address2, "city": a.city, "province": a.province,
        "zip": a.zip, "country_code": a.country_code, "phone": a.phone,
    })
}

#[async_trait]
impl ShopConnector for ShopifyConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    async fn cancel_order(&self, order: &str, req: &CancelRequest) -> Result<Vec<MirrorWrite>, ConnectorError> {
        let body = json!({ "reason": req.reason.as_str(), "email": req.notify_customer, "restock": req.restock });
        let v = self
            .client
            .send_json(Method::POST, &order_path(order, "/cancel.json")?, Some(&body))
            .await
            .map_err(shop_error)?;
        order_writes(&v, "the cancellation")
    }

    async fn refund(&self, order: &str, req: &CheckedRefund) -> Result<Vec<MirrorWrite>, ConnectorError> {
        let lines: Vec<Value> = req
            .lines
            .iter()
            .map(|l| {
                // Shopify's ids are numbers in its JSON.
                let id =
                    l.line_item_id.parse::<u64>().map_or_else(|_| Value::from(l.line_item_id.as_str()), Value::from);
                json!({ "line_item_id": id, "quantity": l.quantity, "restock_type": "no_restock" })
            })
            .collect();
        // The calculation names the payment to refund against (its parent
        // transaction and gateway).
        let calc = json!({ "refund": { "currency": req.currency, "refund_line_items": lines } });
        let v = self
            .client
            .send_json(Method::POST, &order_path(order, "/refunds/calculate.json")?, Some(&calc))
            .await
            .map_err(shop_error)?;
        let suggested = v["refund"]["transactions"]
            .as_array()
            .and_then(|t| t.first())
            .ok_or_else(|| ConnectorError::Rejected("Shopify found no payment of this order to refund".to_owned()))?;
        let transaction = json!({
            "parent_id": suggested["parent_id"], "gateway": suggested["gateway"], "kind": "refund",
            "amount": format_minor(req.amount_minor, &req.currency),
        });
        let mut refund = json!({
            "currency": req.currency, "notify": req.notify_customer,
            "refund_line_items": lines, "transactions": [transaction],
        });
        if let (Some(n), Some(o)) = (&req.note, refund.as_object_mut()) {
            o.insert("note".into(), Value::from(n.as_str()));
        }
        let v = self
            .client
            .send_json(Method::POST, &order_path(order, "/refunds.json")?, Some(&json!({ "refund": refund })))
            .await
            .map_err(shop_error)?;
        // The refund is made from here on: what cannot be read is logged,
        // never reported as a failed refund (an agent would refund again).
        let made = shopify::refund(&v["refund"], Some(order), Some(&req.currency))
            .inspect_err(|e| tracing::warn!(error = %e, "the refund was made but Shopify's answer is unreadable"))
            .ok();
        // The order itself changed too (its financial status, its refunds).
        let o = self.client.send_json(Method::GET, &order_path(order, ".json")?, None).await;
        let mut writes = match o
            .map_err(|e| e.to_string())
            .and_then(|o| order_writes(&o, "reading the order").map_err(|e| e.to_string()))
        {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "the refund was made but the order could not be read again");
                Vec::new()
            }
        };
        writes.extend(made.map(MirrorWrite::Refund));
        Ok(writes)
    }

    async fn update_shipping_address(
        &self,
        order: &str,
        address: &Address,
    ) -> Result<Vec<MirrorWrite>, ConnectorError> {
        let body = json!({ "order": { "id": order, "shipping_address": shopify_address(address) } });
        let v =
            self.client.send_json(Method::PUT, &order_path(order, ".json")?, Some(&body)).await.map_err(shop_error)?;
        order_writes(&v, "the address change")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_errors_read_as_sentences() {
        assert_eq!(readable(r#"{"base":["Cannot cancel a fulfilled order"]}"#), "Cannot cancel a fulfilled order");
        assert_eq!(readable(r#"{"amount":["is too large"]}"#), "amount is too large");
        assert_eq!(readable("Not Found"), "Not Found");
        assert!(order_path("12a", ".json").is_err());
        assert_eq!(order_path("5100000000", "/cancel.json").ok().as_deref(), Some("/orders/5100000000/cancel.json"));
    }
}
