//! Product feedback: conversations about a defect (damaged, broken, wrong
//! item, not as described) counted per SKU of the buyer's orders and per
//! week, beside the orders of that SKU, and the rule that raises an alert
//! when a SKU's defect rate jumps.
//!
//! - A conversation is a **defect conversation** when one of its tags is
//!   one of the account's defect tags, or its intent one of the defect
//!   intents (both compared without regard to case; see [`DefectRules`]).
//! - It is counted for every SKU its facts carry (the SKUs of the buyer's
//!   orders), in the ISO week (Monday first, in the account's time zone)
//!   of the day it was opened.
//! - **Defect rate** = defect conversations / orders placed with that SKU
//!   in the same days; `None` when no order was placed (never a division
//!   by zero).
//! - **Alert** ([`defect_jumps`]): over the last [`DefectThresholds::recent_days`]
//!   days against the [`DefectThresholds::baseline_days`] before them, a
//!   SKU with at least [`DefectThresholds::min_defects`] defect
//!   conversations whose rate is at least [`DefectThresholds::factor`]
//!   times its baseline rate, or whose baseline had no defect conversation
//!   at all. For the alert, rates count orders as at least one.

use super::facts::day_date;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Defect tags of an account that has not set its own.
pub const DEFAULT_DEFECT_TAGS: [&str; 5] = ["broken", "damaged", "defect", "not_as_described", "wrong_item"];

/// Most tags or intents in the rules.
pub const MAX_DEFECT_NAMES: usize = 50;

/// Longest tag or intent name in the rules.
pub const MAX_DEFECT_NAME_LEN: usize = 64;

/// Which conversations are about a defect: any tag of `tags`, or an
/// intent of `intents`, compared without regard to case. No intent is a
/// defect intent by default: the intent pack's `complaint` also covers
/// late parcels and service, so an account opts in to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefectRules {
    /// Tags that mark a defect conversation (lower case, sorted).
    pub tags: Vec<String>,
    /// Intents that mark one (lower case, sorted).
    pub intents: Vec<String>,
}

impl Default for DefectRules {
    fn default() -> Self {
        Self { tags: DEFAULT_DEFECT_TAGS.iter().map(|s| (*s).to_owned()).collect(), intents: Vec::new() }
    }
}

/// Why rules were refused: the field and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidDefectRules {
    /// `tags` or `intents`.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn clean(field: &'static str, names: Vec<String>) -> Result<Vec<String>, InvalidDefectRules> {
    let bad = |message: String| InvalidDefectRules { field, message };
    let mut out = Vec::new();
    for n in names {
        let n = n.trim().to_lowercase();
        if n.is_empty() {
            return Err(bad(format!("{field} cannot contain an empty name")));
        }
        if n.chars().count() > MAX_DEFECT_NAME_LEN {
            return Err(bad(format!("each of {field} has at most {MAX_DEFECT_NAME_LEN} characters")));
        }
        if n.chars().any(char::is_control) {
            return Err(bad(format!("{field} cannot contain control characters")));
        }
        out.push(n);
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_DEFECT_NAMES {
        return Err(bad(format!("at most {MAX_DEFECT_NAMES} {field}")));
    }
    Ok(out)
}

impl DefectRules {
    /// Checks and normalises rules as people gave them: names trimmed,
    /// lower-cased, sorted, duplicates dropped; at least one name in all.
    pub fn new(tags: Vec<String>, intents: Vec<String>) -> Result<Self, InvalidDefectRules> {
        let tags = clean("tags", tags)?;
        let intents = clean("intents", intents)?;
        if tags.is_empty() && intents.is_empty() {
            return Err(InvalidDefectRules { field: "tags", message: "tags and intents cannot both be empty".into() });
        }
        Ok(Self { tags, intents })
    }

    /// The reasons a conversation with these tags and intent is about a
    /// defect (the matching names, lower case, sorted); empty when it is
    /// not.
    pub fn reasons(&self, tags: &[String], intent: Option<&str>) -> Vec<String> {
        let mut out: Vec<String> =
            tags.iter().map(|t| t.trim().to_lowercase()).filter(|t| self.tags.contains(t)).collect();
        if let Some(i) = intent.map(|i| i.trim().to_lowercase()).filter(|i| self.intents.contains(i)) {
            out.push(i);
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The Monday of the ISO week a local day (days since 1970-01-01, a
/// Thursday) falls in.
pub fn week_start(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

/// A conversation that mentions SKUs, as product feedback reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuConversation {
    /// Conversation.
    pub conversation_id: i64,
    /// Local day it was opened.
    pub opened_day: i64,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Its main intent.
    pub intent: Option<String>,
    /// Buyer's country.
    pub country: Option<String>,
    /// Its language.
    pub language: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The SKUs of the buyer's orders.
    pub skus: Vec<String>,
}

/// One order line of a SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuSale {
    /// SKU.
    pub sku: String,
    /// Local day the order was placed.
    pub day: i64,
    /// Units of the SKU in the order.
    pub quantity: i64,
}

/// A value and how many conversations have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueCount {
    /// The value (`unknown` for a country not known).
    pub value: String,
    /// Conversations.
    pub count: u64,
}

/// One week of a SKU.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductWeek {
    /// The week's Monday.
    pub week: NaiveDate,
    /// Defect conversations opened that week.
    pub defect_conversations: u64,
    /// Conversations opened that week whose buyer ordered the SKU.
    pub conversations: u64,
    /// Orders with the SKU placed that week.
    pub orders: u64,
    /// Units of the SKU in them.
    pub units: i64,
    /// `defect_conversations / orders`; `None` without orders.
    pub defect_rate: Option<f64>,
}

/// The product feedback of one SKU over a range of days.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductLine {
    /// SKU.
    pub sku: String,
    /// Defect conversations.
    pub defect_conversations: u64,
    /// Conversations whose buyer ordered the SKU.
    pub conversations: u64,
    /// Orders with the SKU.
    pub orders: u64,
    /// Units of the SKU ordered.
    pub units: i64,
    /// `defect_conversations / orders`; `None` without orders.
    pub defect_rate: Option<f64>,
    /// Defect conversations by reason (a defect tag or intent), most first.
    pub reasons: Vec<ValueCount>,
    /// Defect conversations by the buyer's country, most first.
    pub countries: Vec<ValueCount>,
    /// Every week of the range, oldest first.
    pub weeks: Vec<ProductWeek>,
}

/// `defects / orders`, rounded to four places; `None` without orders.
pub fn defect_rate(defects: u64, orders: u64) -> Option<f64> {
    if orders == 0 {
        return None;
    }
    Some((defects as f64 / orders as f64 * 10_000.0).round() / 10_000.0)
}

fn counts(m: HashMap<String, u64>) -> Vec<ValueCount> {
    let mut v: Vec<ValueCount> = m.into_iter().map(|(value, count)| ValueCount { value, count }).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    v
}

#[derive(Default)]
struct Acc {
    defects: u64,
    conversations: u64,
    orders: u64,
    units: i64,
    reasons: HashMap<String, u64>,
    countries: HashMap<String, u64>,
    weeks: BTreeMap<i64, (u64, u64, u64, i64)>,
}

/// The lines of every SKU that conversations opened in `from..=until`
/// mention (SKUs only ordered are left out), with their orders of those
/// days: most defect conversations first, then most conversations, then
/// by SKU.
pub fn product_lines(
    rules: &DefectRules,
    conversations: &[SkuConversation],
    sales: &[SkuSale],
    from: i64,
    until: i64,
) -> Vec<ProductLine> {
    let mut acc: BTreeMap<&str, Acc> = BTreeMap::new();
    for c in conversations.iter().filter(|c| (from..=until).contains(&c.opened_day)) {
        let reasons = rules.reasons(&c.tags, c.intent.as_deref());
        let week = week_start(c.opened_day);
        let mut skus: Vec<&str> = c.skus.iter().map(String::as_str).collect();
        skus.sort_unstable();
        skus.dedup();
        for sku in skus {
            let a = acc.entry(sku).or_default();
            a.conversations += 1;
            let w = a.weeks.entry(week).or_default();
            w.1 += 1;
            if !reasons.is_empty() {
                a.defects += 1;
                w.0 += 1;
                for r in &reasons {
                    *a.reasons.entry(r.clone()).or_default() += 1;
                }
                *a.countries.entry(c.country.clone().unwrap_or_else(|| "unknown".into())).or_default() += 1;
            }
        }
    }
    for s in sales.iter().filter(|s| (from..=until).contains(&s.day)) {
        if let Some(a) = acc.get_mut(s.sku.as_str()) {
            a.orders += 1;
            a.units += s.quantity;
            let w = a.weeks.entry(week_start(s.day)).or_default();
            w.2 += 1;
            w.3 += s.quantity;
        }
    }
    let mut lines: Vec<ProductLine> = acc
        .into_iter()
        .map(|(sku, a)| {
            let mut weeks = Vec::new();
            let mut w = week_start(from);
            while w <= until {
                let (d, c, o, u) = a.weeks.get(&w).copied().unwrap_or_default();
                weeks.push(ProductWeek {
                    week: day_date(w),
                    defect_conversations: d,
                    conversations: c,
                    orders: o,
                    units: u,
                    defect_rate: defect_rate(d, o),
                });
                w += 7;
            }
            ProductLine {
                sku: sku.to_owned(),
                defect_conversations: a.defects,
                conversations: a.conversations,
                orders: a.orders,
                units: a.units,
                defect_rate: defect_rate(a.defects, a.orders),
                reasons: counts(a.reasons),
                countries: counts(a.countries),
                weeks,
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        b.defect_conversations
            .cmp(&a.defect_conversations)
            .then_with(|| b.conversations.cmp(&a.conversations))
            .then_with(|| a.sku.cmp(&b.sku))
    });
    lines
}

/// The defect conversations of a SKU, newest first.
pub fn defect_conversations_of<'a>(
    rules: &DefectRules,
    conversations: &'a [SkuConversation],
    sku: &str,
) -> Vec<&'a SkuConversation> {
    let mut out: Vec<&SkuConversation> = conversations
        .iter()
        .filter(|c| c.skus.iter().any(|s| s == sku) && !rules.reasons(&c.tags, c.intent.as_deref()).is_empty())
        .collect();
    out.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then_with(|| b.conversation_id.cmp(&a.conversation_id)));
    out
}

/// When a SKU's defect rate has jumped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefectThresholds {
    /// Days of the recent window (ending today).
    pub recent_days: i64,
    /// Days of the baseline before it.
    pub baseline_days: i64,
    /// Fewest defect conversations in the recent window.
    pub min_defects: u64,
    /// How many times the baseline rate the recent rate must reach.
    pub factor: f64,
}

impl Default for DefectThresholds {
    fn default() -> Self {
        Self { recent_days: 7, baseline_days: 28, min_defects: 3, factor: 2.0 }
    }
}

/// Defect conversations and orders of a SKU in one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DefectWindow {
    /// Defect conversations.
    pub defects: u64,
    /// Orders.
    pub orders: u64,
}

impl DefectWindow {
    /// The rate the alert compares: orders count as at least one.
    pub fn rate(&self) -> f64 {
        self.defects as f64 / self.orders.max(1) as f64
    }
}

/// A SKU whose defect rate jumped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefectJump {
    /// SKU.
    pub sku: String,
    /// The recent window.
    pub recent: DefectWindow,
    /// The baseline window.
    pub baseline: DefectWindow,
    /// The recent rate (orders counted as at least one).
    pub recent_rate: f64,
    /// The baseline rate (likewise).
    pub baseline_rate: f64,
    /// Critical: at least twice the factor over the baseline, or twice the
    /// minimum of cases with no baseline.
    pub critical: bool,
}

/// The SKUs whose defect rate jumped (see the module's rules), by SKU.
pub fn defect_jumps(
    recent: &BTreeMap<String, DefectWindow>,
    baseline: &BTreeMap<String, DefectWindow>,
    t: &DefectThresholds,
) -> Vec<DefectJump> {
    let mut out = Vec::new();
    for (sku, r) in recent {
        if r.defects < t.min_defects.max(1) {
            continue;
        }
        let b = baseline.get(sku).copied().unwrap_or_default();
        let (rr, br) = (r.rate(), b.rate());
        let (jumped, critical) = if b.defects == 0 {
            (true, r.defects >= 2 * t.min_defects.max(1))
        } else {
            (rr >= t.factor * br, rr >= 2.0 * t.factor * br)
        };
        if jumped {
            out.push(DefectJump {
                sku: sku.clone(),
                recent: *r,
                baseline: b,
                recent_rate: (rr * 10_000.0).round() / 10_000.0,
                baseline_rate: (br * 10_000.0).round() / 10_000.0,
                critical,
            });
        }
    }
    out
}

/// Defect conversations and orders per SKU in `from..=until`.
pub fn defect_windows(
    rules: &DefectRules,
    conversations: &[SkuConversation],
    sales: &[SkuSale],
    from: i64,
    until: i64,
) -> BTreeMap<String, DefectWindow> {
    let mut out: BTreeMap<String, DefectWindow> = BTreeMap::new();
    for c in conversations.iter().filter(|c| (from..=until).contains(&c.opened_day)) {
        if rules.reasons(&c.tags, c.intent.as_deref()).is_empty() {
            continue;
        }
        let mut skus: Vec<&String> = c.skus.iter().collect();
        skus.sort_unstable();
        skus.dedup();
        for s in skus {
            out.entry(s.clone()).or_default().defects += 1;
        }
    }
    for s in sales.iter().filter(|s| (from..=until).contains(&s.day)) {
        out.entry(s.sku.clone()).or_default().orders += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::insights::facts::day_number;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        day_number(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn conv(id: i64, day: i64, tags: &[&str], intent: Option<&str>, skus: &[&str]) -> SkuConversation {
        SkuConversation {
            conversation_id: id,
            opened_day: day,
            opened_at: DateTime::from_timestamp(day * 86_400 + id, 0).unwrap(),
            intent: intent.map(str::to_owned),
            country: Some("DE".into()),
            language: Some("de".into()),
            tags: tags.iter().map(|s| (*s).to_owned()).collect(),
            skus: skus.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(day_date(week_start(day(2026, 3, 4))), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(week_start(day(2026, 3, 2)), day(2026, 3, 2));
        assert_eq!(week_start(day(2026, 3, 8)), day(2026, 3, 2));
        assert_eq!(week_start(day(1970, 1, 1)), day(1969, 12, 29));
    }

    #[test]
    fn rules_are_normalised_and_checked() {
        let r = DefectRules::new(vec![" Damaged".into(), "damaged".into(), "BROKEN".into()], vec![]).unwrap();
        assert_eq!(r.tags, vec!["broken", "damaged"]);
        assert_eq!(DefectRules::new(vec![], vec![]).unwrap_err().field, "tags");
        assert_eq!(DefectRules::new(vec![], vec![" ".into()]).unwrap_err().field, "intents");
        assert!(DefectRules::new(vec!["x".repeat(65)], vec![]).is_err());
    }

    #[test]
    fn reasons_match_tags_and_intents_without_case() {
        let r = DefectRules::new(vec!["damaged".into()], vec!["complaint".into()]).unwrap();
        assert_eq!(r.reasons(&["Damaged".into(), "vip".into()], Some("Complaint")), vec!["complaint", "damaged"]);
        assert!(r.reasons(&["vip".into()], Some("where_is_my_order")).is_empty());
        assert!(DefectRules::default().reasons(&[], Some("complaint")).is_empty());
    }

    #[test]
    fn lines_count_per_sku_and_week() {
        let rules = DefectRules::default();
        let mon = day(2026, 3, 2);
        let convs = vec![
            conv(1, mon, &["damaged"], None, &["A", "B"]),
            conv(2, mon + 6, &["wrong_item", "broken"], None, &["A"]),
            conv(3, mon + 7, &[], Some("where_is_my_order"), &["A"]),
            conv(4, mon + 8, &["Defect"], None, &["A", "A"]),
            conv(5, mon + 30, &["damaged"], None, &["A"]),
        ];
        let sales = vec![
            SkuSale { sku: "A".into(), day: mon, quantity: 2 },
            SkuSale { sku: "A".into(), day: mon + 1, quantity: 1 },
            SkuSale { sku: "A".into(), day: mon + 9, quantity: 5 },
            SkuSale { sku: "C".into(), day: mon, quantity: 9 },
        ];
        let lines = product_lines(&rules, &convs, &sales, mon, mon + 13);
        assert_eq!(lines.len(), 2);
        let a = &lines[0];
        assert_eq!((a.sku.as_str(), a.defect_conversations, a.conversations), ("A", 3, 4));
        assert_eq!((a.orders, a.units, a.defect_rate), (3, 8, Some(1.0)));
        assert_eq!(a.reasons[0], ValueCount { value: "broken".into(), count: 1 });
        assert_eq!(a.reasons.len(), 4);
        assert_eq!(a.countries, vec![ValueCount { value: "DE".into(), count: 3 }]);
        assert_eq!(a.weeks.len(), 2);
        assert_eq!((a.weeks[0].defect_conversations, a.weeks[0].orders, a.weeks[0].defect_rate), (2, 2, Some(1.0)));
        assert_eq!((a.weeks[1].defect_conversations, a.weeks[1].conversations, a.weeks[1].units), (1, 2, 5));
        let b = &lines[1];
        assert_eq!((b.sku.as_str(), b.defect_conversations, b.orders, b.defect_rate), ("B", 1, 0, None));
        assert_eq!(b.weeks[1], ProductWeek { week: day_date(mon + 7), ..Default::default() });
        let ex = defect_conversations_of(&rules, &convs, "A");
        assert_eq!(ex.iter().map(|c| c.conversation_id).collect::<Vec<_>>(), vec![5, 4, 2, 1]);
    }

    #[test]
    fn a_jump_needs_enough_cases_and_twice_the_baseline() {
        let t = DefectThresholds::default();
        let w = |defects, orders| DefectWindow { defects, orders };
        let recent: BTreeMap<String, DefectWindow> = [
            ("JUMP".to_owned(), w(4, 20)),
            ("STEADY".to_owned(), w(4, 20)),
            ("FEW".to_owned(), w(2, 4)),
            ("NEW".to_owned(), w(3, 0)),
        ]
        .into();
        let baseline: BTreeMap<String, DefectWindow> =
            [("JUMP".to_owned(), w(4, 80)), ("STEADY".to_owned(), w(12, 80)), ("FEW".to_owned(), w(0, 10))].into();
        let jumps = defect_jumps(&recent, &baseline, &t);
        let skus: Vec<&str> = jumps.iter().map(|j| j.sku.as_str()).collect();
        assert_eq!(skus, vec!["JUMP", "NEW"]);
        assert_eq!((jumps[0].recent_rate, jumps[0].baseline_rate, jumps[0].critical), (0.2, 0.05, true));
        assert!(!jumps[1].critical, "3 cases with no baseline are a warning");
    }

    #[test]
    fn windows_count_defects_and_their_orders() {
        let rules = DefectRules::default();
        let convs = vec![conv(1, 10, &["damaged"], None, &["A"]), conv(2, 12, &["vip"], None, &["A"])];
        let sales =
            vec![SkuSale { sku: "A".into(), day: 11, quantity: 1 }, SkuSale { sku: "A".into(), day: 20, quantity: 1 }];
        let w = defect_windows(&rules, &convs, &sales, 10, 14);
        assert_eq!(w.get("A"), Some(&DefectWindow { defects: 1, orders: 1 }));
    }
}
