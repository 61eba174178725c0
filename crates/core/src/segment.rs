//! Segments: a named filter over contacts, as data. A [`SegmentFilter`] is
//! what the contact list filters by, what a saved segment keeps and what a
//! campaign will target; the stores evaluate it in SQL.

use crate::contact::{IdentityKind, normalize_tag};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Conditions in one filter, at most.
pub const MAX_CONDITIONS: usize = 30;
/// Values in one condition's list, at most.
pub const MAX_VALUES: usize = 100;

/// A filter over contacts: every condition must hold. The empty filter
/// matches everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SegmentFilter {
    /// The conditions, all of which must hold.
    #[serde(default)]
    pub all: Vec<SegmentCondition>,
}

/// One condition on a contact, named by its `field`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum SegmentCondition {
    /// Country (the profile's: the contact's own or their orders') is one of these.
    Country {
        /// ISO 3166 alpha-2 codes.
        any_of: Vec<String>,
    },
    /// Language (the profile's) is one of these.
    Language {
        /// BCP 47 tags (`de`, `zh-CN`).
        any_of: Vec<String>,
    },
    /// VIP (by hand or by orders) or not.
    Vip {
        /// The wanted standing.
        is: bool,
    },
    /// Has at least one of these tags set by people.
    Tag {
        /// Tags.
        any_of: Vec<String>,
    },
    /// Has at least one of these automatic tags (`vip`, `repeat-buyer`,
    /// `country:DE`, `topic:returns` …).
    AutoTag {
        /// Automatic tags.
        any_of: Vec<String>,
    },
    /// Has talked about one of these intents among their frequent topics.
    Topic {
        /// Intent names.
        any_of: Vec<String>,
    },
    /// A custom attribute has this value (compared as text).
    Attribute {
        /// The attribute's key.
        key: String,
        /// Its value as text (`true`, `42`, `gold`).
        equals: String,
    },
    /// Can be reached on one of these kinds of identity.
    Channel {
        /// Identity kinds.
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
        any_of: Vec<IdentityKind>,
    },
    /// Bought at least one of these SKUs (orders in the shop mirror).
    BoughtSku {
        /// SKUs.
        any_of: Vec<String>,
    },
    /// Total spend in minor units lies in a range.
    Spent {
        /// At least this much.
        #[serde(default)]
        at_least: Option<i64>,
        /// At most this much.
        #[serde(default)]
        at_most: Option<i64>,
    },
    /// Number of orders lies in a range.
    OrderCount {
        /// At least this many.
        #[serde(default)]
        at_least: Option<i64>,
        /// At most this many.
        #[serde(default)]
        at_most: Option<i64>,
    },
    /// The latest order was placed before and/or after a time (a contact
    /// without orders never matches).
    LastOrder {
        /// Strictly before.
        #[serde(default)]
        before: Option<DateTime<Utc>>,
        /// At or after.
        #[serde(default)]
        after: Option<DateTime<Utc>>,
    },
    /// The last satisfaction rating lies in a range (a contact who never
    /// rated never matches).
    Csat {
        /// At least.
        #[serde(default)]
        min: Option<u8>,
        /// At most.
        #[serde(default)]
        max: Option<u8>,
    },
}

/// Why a filter is refused: where (`all[1].any_of`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FilterError {
    /// Where in the filter.
    pub path: String,
    /// Why, for people.
    pub message: String,
}

fn err(i: usize, field: &str, message: impl Into<String>) -> FilterError {
    FilterError { path: format!("all[{i}].{field}"), message: message.into() }
}

fn texts(i: usize, v: &mut Vec<String>, clean: impl Fn(&str) -> Option<String>, what: &str) -> Result<(), FilterError> {
    if v.is_empty() {
        return Err(err(i, "any_of", format!("give at least one {what}")));
    }
    if v.len() > MAX_VALUES {
        return Err(err(i, "any_of", format!("give at most {MAX_VALUES} values")));
    }
    let mut out = Vec::with_capacity(v.len());
    for raw in v.iter() {
        let c = clean(raw).ok_or_else(|| err(i, "any_of", format!("`{raw}` is not a valid {what}")))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    *v = out;
    Ok(())
}

fn range<T: PartialOrd + Copy>(i: usize, lo: Option<T>, hi: Option<T>, names: (&str, &str)) -> Result<(), FilterError> {
    if lo.is_none() && hi.is_none() {
        return Err(err(i, names.0, format!("give `{}` or `{}`", names.0, names.1)));
    }
    if let (Some(l), Some(h)) = (lo, hi)
        && l > h
    {
        return Err(err(i, names.1, format!("`{}` is below `{}`", names.1, names.0)));
    }
    Ok(())
}

fn country(raw: &str) -> Option<String> {
    let c = raw.trim().to_uppercase();
    (c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase())).then_some(c)
}

fn language(raw: &str) -> Option<String> {
    let l = raw.trim();
    let ok = !l.is_empty() && l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then(|| l.to_owned())
}

fn plain(raw: &str) -> Option<String> {
    let v = raw.trim();
    (!v.is_empty() && v.chars().count() <= 200).then(|| v.to_owned())
}

impl SegmentFilter {
    /// Checks the filter and puts its values in the form stored (country
    /// codes upper-cased, tags normalised, lists without repeats).
    pub fn validate(mut self) -> Result<Self, FilterError> {
        if self.all.len() > MAX_CONDITIONS {
            return Err(FilterError {
                path: "all".into(),
                message: format!("a filter has at most {MAX_CONDITIONS} conditions"),
            });
        }
        for (i, c) in self.all.iter_mut().enumerate() {
            match c {
                SegmentCondition::Country { any_of } => texts(i, any_of, country, "two-letter country code")?,
                SegmentCondition::Language { any_of } => texts(i, any_of, language, "language tag")?,
                SegmentCondition::Vip { .. } => {}
                SegmentCondition::Tag { any_of } | SegmentCondition::AutoTag { any_of } => {
                    texts(i, any_of, normalize_tag_keep_case, "tag")?
                }
                SegmentCondition::Topic { any_of } | SegmentCondition::BoughtSku { any_of } => {
                    texts(i, any_of, plain, "value")?
                }
                SegmentCondition::Attribute { key, equals } => {
                    *key = plain(key).ok_or_else(|| err(i, "key", "give the attribute's key"))?;
                    if equals.chars().count() > 500 {
                        return Err(err(i, "equals", "the value is longer than 500 characters"));
                    }
                }
                SegmentCondition::Channel { any_of } => {
                    if any_of.is_empty() {
                        return Err(err(i, "any_of", "give at least one identity kind"));
                    }
                    any_of.dedup();
                }
                SegmentCondition::Spent { at_least, at_most } | SegmentCondition::OrderCount { at_least, at_most } => {
                    range(i, *at_least, *at_most, ("at_least", "at_most"))?;
                    if at_least.is_some_and(|v| v < 0) || at_most.is_some_and(|v| v < 0) {
                        return Err(err(i, "at_least", "amounts and counts cannot be negative"));
                    }
                }
                SegmentCondition::LastOrder { before, after } => {
                    if before.is_none() && after.is_none() {
                        return Err(err(i, "before", "give `before` or `after`"));
                    }
                    if let (Some(b), Some(a)) = (before, after)
                        && a >= b
                    {
                        return Err(err(i, "after", "`after` must come before `before`"));
                    }
                }
                SegmentCondition::Csat { min, max } => {
                    range(i, *min, *max, ("min", "max"))?;
                    if min.is_some_and(|v| !(1..=5).contains(&v)) || max.is_some_and(|v| !(1..=5).contains(&v)) {
                        return Err(err(i, "min", "ratings run from 1 to 5"));
                    }
                }
            }
        }
        Ok(self)
    }
}

/// Tags are matched as stored: normalised, but automatic tags keep the
/// country code's case (`country:DE`).
fn normalize_tag_keep_case(raw: &str) -> Option<String> {
    let lower = normalize_tag(raw)?;
    match lower.strip_prefix("country:") {
        Some(c) => Some(format!("country:{}", c.to_uppercase())),
        None => Some(lower),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(v: serde_json::Value) -> Result<SegmentFilter, String> {
        let f: SegmentFilter = serde_json::from_value(v).map_err(|e| e.to_string())?;
        f.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn a_filter_reads_as_tagged_conditions_and_is_normalised() {
        let f = parse(serde_json::json!({"all": [
            {"field": "country", "any_of": ["de", "DE", " fr "]},
            {"field": "channel", "any_of": ["whatsapp"]},
            {"field": "spent", "at_least": 10000},
            {"field": "auto_tag", "any_of": ["Country:de"]},
        ]}))
        .unwrap();
        assert_eq!(f.all[0], SegmentCondition::Country { any_of: vec!["DE".into(), "FR".into()] });
        assert_eq!(f.all[3], SegmentCondition::AutoTag { any_of: vec!["country:DE".into()] });
        let back: SegmentFilter = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn bad_filters_say_where() {
        let e = parse(
            serde_json::json!({"all": [{"field": "vip", "is": true}, {"field": "country", "any_of": ["Germany"]}]}),
        );
        assert_eq!(e.unwrap_err(), "all[1].any_of: `Germany` is not a valid two-letter country code");
        let e = parse(serde_json::json!({"all": [{"field": "csat", "min": 4, "max": 2}]}));
        assert_eq!(e.unwrap_err(), "all[0].max: `max` is below `min`");
        let e = parse(serde_json::json!({"all": [{"field": "spent"}]}));
        assert!(e.unwrap_err().starts_with("all[0].at_least"));
        assert!(parse(serde_json::json!({"all": [{"field": "planet", "any_of": ["x"]}]})).is_err());
        assert!(parse(serde_json::json!({"all": [{"field": "topic", "any_of": []}]})).is_err());
    }
}
