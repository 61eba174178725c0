//! Replays the real Shopify resource bodies in `shared/data` as webhook
//! deliveries — in order, twice, and out of order — and checks the mirror
//! they build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_commerce::shopify::{self, Topic};
use ferry_commerce::{Mirror, MirrorWrite, OrderState};
use serde_json::{Value, json};
use std::path::PathBuf;

fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("FERRY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("payloads/shopify_rest_python_api");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: Shopify fixtures not found at {} (set FERRY_SHARED_DATA)", dir.display());
        None
    }
}

fn load(dir: &std::path::Path, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

fn deliver(m: &mut Mirror, topic: Topic, body: &Value) -> usize {
    let bytes = serde_json::to_vec(body).unwrap();
    shopify::parse(topic, &bytes).unwrap().into_iter().filter(|w| m.apply(w.clone())).count()
}

/// One delivery per fixture, in the given order.
fn replay(dir: &std::path::Path, plan: &[(Topic, &str)]) -> Mirror {
    let mut m = Mirror::default();
    for (topic, file) in plan {
        deliver(&mut m, *topic, &load(dir, file));
    }
    m
}

const PLAN: &[(Topic, &str)] = &[
    (Topic::OrdersCreate, "order.json"),
    (Topic::FulfillmentsCreate, "fulfillment.json"),
    (Topic::RefundsCreate, "refund.json"),
    (Topic::ProductsUpdate, "product.json"),
    (Topic::InventoryLevelsUpdate, "inventory_level.json"),
    (Topic::CustomersUpdate, "customer.json"),
];

#[test]
fn replaying_the_fixtures_builds_the_expected_mirror() {
    let Some(dir) = fixtures() else { return };
    let m = replay(&dir, PLAN);

    // Table of what the mirror holds afterwards.
    let o = m.order("450789469").unwrap();
    let rows = [
        ("order.name", json!(o.order.name)),
        ("order.number", json!(o.order.number)),
        ("order.email", json!(o.order.email)),
        ("order.currency", json!(o.order.currency)),
        ("order.total_minor", json!(o.order.total_minor)),
        ("order.financial_status", json!(o.order.financial_status)),
        ("order.line_items", json!(o.order.line_items.len())),
        ("order.first_sku", json!(o.order.line_items[0].sku)),
        ("order.ship_to_country", json!(o.order.shipping_address.as_ref().unwrap().country_code)),
        ("order.customer_name", json!(o.order.customer_name)),
        ("fulfillments", json!(o.fulfillments.len())),
        // order.json embeds the same fulfilment updated in 2014 ("failure");
        // fulfillment.json is its 2013 version and must not win.
        ("fulfillment.status", json!(o.fulfillments[0].status)),
        ("fulfillment.tracking_number", json!(o.fulfillments[0].tracking_number)),
        ("refunds", json!(o.refunds.len())),
        ("refund.amount_minor", json!(o.refunds[0].amount_minor)),
        ("products", json!(m.products.len())),
        ("product.variants", json!(m.products["632910392"].variants.len())),
        ("stock.808950810", json!(m.available("808950810"))),
        ("customer.email", json!(m.customers["207119551"].email)),
    ];
    let expected = [
        ("order.name", json!("#1001")),
        ("order.number", json!("1001")),
        ("order.email", json!("bob.norman@hostmail.com")),
        ("order.currency", json!("USD")),
        ("order.total_minor", json!(40994)),
        ("order.financial_status", json!("authorized")),
        ("order.line_items", json!(3)),
        ("order.first_sku", json!("IPOD2008GREEN")),
        ("order.ship_to_country", json!("US")),
        ("order.customer_name", json!("Bob Norman")),
        ("fulfillments", json!(1)),
        ("fulfillment.status", json!("failure")),
        ("fulfillment.tracking_number", json!("1Z2345")),
        ("refunds", json!(1)),
        ("refund.amount_minor", json!(20900)),
        ("products", json!(1)),
        ("product.variants", json!(4)),
        ("stock.808950810", json!(6)),
        ("customer.email", json!("bob.norman@hostmail.com")),
    ];
    for (got, want) in rows.iter().zip(expected.iter()) {
        assert_eq!(got, want);
    }
    // A failed shipment is not a shipment: the order is paid, not shipped.
    assert_eq!(o.state(), OrderState::Paid);
}

#[test]
fn duplicates_and_out_of_order_deliveries_build_the_same_mirror() {
    let Some(dir) = fixtures() else { return };
    let once = replay(&dir, PLAN);

    // Every delivery twice.
    let twice: Vec<(Topic, &str)> = PLAN.iter().flat_map(|p| [*p, *p]).collect();
    assert_eq!(replay(&dir, &twice), once);

    // Reversed: fulfilments, refunds and stock before the order exists.
    let reversed: Vec<(Topic, &str)> = PLAN.iter().rev().copied().collect();
    assert_eq!(replay(&dir, &reversed), once);

    // An older version of the order arriving late changes nothing; a newer
    // one wins.
    let mut m = once.clone();
    let mut old = load(&dir, "order.json");
    old["order"]["updated_at"] = json!("2007-01-01T00:00:00-05:00");
    old["order"]["financial_status"] = json!("pending");
    assert_eq!(deliver(&mut m, Topic::OrdersUpdated, &old), 0);
    assert_eq!(m, once);
    let mut cancelled = load(&dir, "order.json");
    cancelled["order"]["updated_at"] = json!("2024-05-01T10:00:00+02:00");
    cancelled["order"]["cancelled_at"] = json!("2024-05-01T10:00:00+02:00");
    cancelled["order"]["fulfillments"] = json!([]);
    assert!(deliver(&mut m, Topic::OrdersCancelled, &cancelled) >= 1);
    assert_eq!(m.order("450789469").unwrap().state(), OrderState::Cancelled);

    // Stock: the newer level wins whatever the order of arrival.
    let level = load(&dir, "inventory_level.json");
    let mut newer = level.clone();
    newer["inventory_level"]["available"] = json!(0);
    newer["inventory_level"]["updated_at"] = json!("2019-01-01T00:00:00Z");
    let mut a = Mirror::default();
    deliver(&mut a, Topic::InventoryLevelsUpdate, &newer);
    deliver(&mut a, Topic::InventoryLevelsUpdate, &level);
    assert_eq!(a.available("808950810"), Some(0));
}

#[test]
fn every_order_of_the_orders_list_parses() {
    let Some(dir) = fixtures() else { return };
    let list = load(&dir, "orders.json");
    for o in list["orders"].as_array().unwrap() {
        let writes = shopify::parse_value(Topic::OrdersUpdated, o).unwrap();
        assert!(matches!(writes[0], MirrorWrite::Order(_)));
    }
    // Other fixtures of the same resources parse as their topics.
    for (topic, file) in [(Topic::ProductsUpdate, "products.json"), (Topic::FulfillmentsUpdate, "fulfillment.json")] {
        let v = load(&dir, file);
        let items = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        for item in items {
            shopify::parse_value(topic, &item).unwrap();
        }
    }
}
