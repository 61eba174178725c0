//! The in-memory mirror: the reference semantics of applying writes, which
//! the stores follow. The newer `updated_at` wins; a write as old as what
//! is stored replaces it (a re-delivery changes nothing); refunds never
//! change once made.

use crate::model::*;
use std::collections::BTreeMap;

/// Every record of one shop connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mirror {
    /// Orders by id.
    pub orders: BTreeMap<String, Order>,
    /// Fulfilments by id.
    pub fulfillments: BTreeMap<String, Fulfillment>,
    /// Refunds by id.
    pub refunds: BTreeMap<String, Refund>,
    /// Products by id.
    pub products: BTreeMap<String, Product>,
    /// Stock by (inventory item, location).
    pub inventory: BTreeMap<(String, String), InventoryLevel>,
    /// Customers by id.
    pub customers: BTreeMap<String, Customer>,
}

fn keep_newer<K: Ord, V: PartialEq>(
    map: &mut BTreeMap<K, V>,
    key: K,
    value: V,
    at: impl Fn(&V) -> chrono::DateTime<chrono::Utc>,
) -> bool {
    match map.get(&key) {
        Some(old) if at(old) > at(&value) || *old == value => false,
        _ => {
            map.insert(key, value);
            true
        }
    }
}

impl Mirror {
    /// Applies one write; false when it changed nothing (a newer or the
    /// same version was already there).
    pub fn apply(&mut self, w: MirrorWrite) -> bool {
        match w {
            MirrorWrite::Order(o) => keep_newer(&mut self.orders, o.external_id.clone(), *o, |o| o.updated_at),
            MirrorWrite::Fulfillment(f) => {
                keep_newer(&mut self.fulfillments, f.external_id.clone(), f, |f| f.updated_at)
            }
            MirrorWrite::Refund(r) => {
                if self.refunds.contains_key(&r.external_id) {
                    return false;
                }
                self.refunds.insert(r.external_id.clone(), r);
                true
            }
            MirrorWrite::Product(p) => keep_newer(&mut self.products, p.external_id.clone(), p, |p| p.updated_at),
            MirrorWrite::Inventory(l) => {
                keep_newer(&mut self.inventory, (l.inventory_item_id.clone(), l.location_id.clone()), l, |l| {
                    l.updated_at
                })
            }
            MirrorWrite::Customer(c) => keep_newer(&mut self.customers, c.external_id.clone(), c, |c| c.updated_at),
        }
    }

    /// An order with its fulfilments and refunds.
    pub fn order(&self, external_id: &str) -> Option<OrderDetails> {
        let order = self.orders.get(external_id)?.clone();
        let mut fulfillments: Vec<Fulfillment> =
            self.fulfillments.values().filter(|f| f.order_external_id == external_id).cloned().collect();
        fulfillments.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
        let mut refunds: Vec<Refund> =
            self.refunds.values().filter(|r| r.order_external_id == external_id).cloned().collect();
        refunds.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
        Some(OrderDetails { order, fulfillments, refunds })
    }

    /// Units available of an inventory item over all locations.
    pub fn available(&self, inventory_item_id: &str) -> Option<i64> {
        let levels: Vec<i64> = self
            .inventory
            .iter()
            .filter(|((item, _), _)| item == inventory_item_id)
            .map(|(_, l)| l.available)
            .collect();
        (!levels.is_empty()).then(|| levels.iter().sum())
    }
}
