//! Contact profiles: what Ferry derives about a buyer from their orders,
//! conversations and survey answers (country, language, VIP standing,
//! frequent topics, last satisfaction rating), and the automatic tags
//! shown as chips beside the agent's own tags.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many of a contact's most frequent intents are kept as topics.
pub const TOPICS_KEPT: usize = 3;

/// When a buyer counts as a VIP by their orders in the shop mirror: at
/// least `min_orders` orders, or at least `min_spent_minor` spent in total
/// (minor units, whatever the orders' currency). Zero turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VipRules {
    /// Orders that make a VIP (0: this rule is off).
    pub min_orders: i64,
    /// Total spend in minor units that makes a VIP (0: this rule is off).
    pub min_spent_minor: i64,
}

impl Default for VipRules {
    fn default() -> Self {
        // Five orders or 500.00 in the shop's currency.
        Self { min_orders: 5, min_spent_minor: 50_000 }
    }
}

impl VipRules {
    /// Whether these order figures make a VIP.
    pub fn is_vip(&self, order_count: i64, spent_minor: i64) -> bool {
        (self.min_orders > 0 && order_count >= self.min_orders)
            || (self.min_spent_minor > 0 && spent_minor >= self.min_spent_minor)
    }

    /// Checks the thresholds: neither may be negative.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_orders < 0 || self.min_spent_minor < 0 {
            return Err("VIP thresholds cannot be negative".into());
        }
        Ok(())
    }
}

/// What is known about a contact from the data Ferry holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactProfile {
    /// Country: the contact's own, else the shipping country of their
    /// latest order.
    pub country: Option<String>,
    /// Language: the contact's own, else the one their conversations were
    /// mostly in.
    pub language: Option<String>,
    /// VIP: marked by hand, or by the account's [`VipRules`].
    pub vip: bool,
    /// Whether the VIP standing comes from the orders (not only by hand).
    pub vip_by_orders: bool,
    /// Orders in the shop mirror.
    pub order_count: i64,
    /// Their total, in minor units.
    pub spent_minor: i64,
    /// The latest order's date.
    pub last_order_at: Option<DateTime<Utc>>,
    /// SKUs the buyer has ordered.
    pub skus: Vec<String>,
    /// The intents of their conversations, most frequent first.
    pub topics: Vec<String>,
    /// The last satisfaction rating they gave.
    pub last_csat: Option<u8>,
    /// When they gave it.
    pub last_csat_at: Option<DateTime<Utc>>,
}

impl ContactProfile {
    /// The automatic tags: `vip`, `country:DE`, `language:de`,
    /// `topic:<intent>` and `buyer` / `repeat-buyer`.
    pub fn auto_tags(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.vip {
            out.push("vip".to_owned());
        }
        match self.order_count {
            0 => {}
            1 => out.push("buyer".to_owned()),
            _ => out.push("repeat-buyer".to_owned()),
        }
        if let Some(c) = &self.country {
            out.push(format!("country:{c}"));
        }
        if let Some(l) = &self.language {
            out.push(format!("language:{l}"));
        }
        out.extend(self.topics.iter().map(|t| format!("topic:{t}")));
        out
    }
}

/// The most frequent values, most frequent first (ties by name), at most
/// `keep`.
pub fn most_frequent(counts: &[(String, i64)], keep: usize) -> Vec<String> {
    let mut v: Vec<&(String, i64)> = counts.iter().filter(|(k, n)| !k.is_empty() && *n > 0).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter().take(keep).map(|(k, _)| k.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vip_by_either_threshold_and_off_at_zero() {
        let r = VipRules { min_orders: 3, min_spent_minor: 10_000 };
        assert!(!r.is_vip(2, 9_999));
        assert!(r.is_vip(3, 0));
        assert!(r.is_vip(1, 10_000));
        let off = VipRules { min_orders: 0, min_spent_minor: 0 };
        assert!(!off.is_vip(100, 1_000_000));
        assert!(VipRules { min_orders: -1, min_spent_minor: 0 }.validate().is_err());
    }

    #[test]
    fn topics_are_most_frequent_first_ties_by_name() {
        let c = vec![("returns".into(), 2), ("where_is_my_order".into(), 5), ("damaged".into(), 2), ("x".into(), 0)];
        assert_eq!(most_frequent(&c, 2), vec!["where_is_my_order".to_owned(), "damaged".to_owned()]);
    }

    #[test]
    fn auto_tags_name_each_derived_fact() {
        let p = ContactProfile {
            vip: true,
            order_count: 2,
            country: Some("DE".into()),
            language: Some("de".into()),
            topics: vec!["returns".into()],
            ..Default::default()
        };
        assert_eq!(p.auto_tags(), vec!["vip", "repeat-buyer", "country:DE", "language:de", "topic:returns"]);
    }
}
