//! Daily rollups: per local day, dimension and value, the counters and
//! durations the overview, agents and hand-off reports add up, so a report
//! reads a row per day and value instead of a row per conversation.
//!
//! A conversation's contribution is a pure function of its facts
//! ([`contributions`]); a write that changes the facts applies the
//! difference between the old and the new contribution ([`delta`]), and a
//! rebuild adds every contribution afresh, so both give the same rows.
//! Durations are kept as value → count multisets, which keeps nearest-rank
//! percentiles exact however many days are added up.

use super::facts::ConversationFacts;
use super::report::{AgentLine, Dimension, HandoffLine, InsightRow, OverviewLine, Percentiles, Range, buckets};
use std::collections::BTreeMap;

/// Durations in seconds, as value → how many times it occurs.
pub type Multiset = BTreeMap<i64, i64>;

/// Counters of a rollup cell (indices into [`RollupCell::counts`]).
pub mod count {
    /// Conversations opened.
    pub const OPENED: usize = 0;
    /// Of those, reopened at least once.
    pub const REOPENED: usize = 1;
    /// Of those, started with the bot.
    pub const BOT_STARTED: usize = 2;
    /// Of those, resolved by the bot alone.
    pub const BOT_CONTAINED: usize = 3;
    /// Of those, handed off to people.
    pub const HANDED_OFF: usize = 4;
    /// Agent replies in the conversations opened.
    pub const AGENT_REPLIES: usize = 5;
    /// Weights of the values of the conversations opened (an agent's
    /// replies for [`super::Dimension::Replier`]).
    pub const WEIGHT: usize = 6;
    /// Conversations resolved.
    pub const RESOLVED: usize = 7;
    /// Of those, rated by the buyer.
    pub const RATED: usize = 8;
    /// The sum of their ratings.
    pub const RATING_SUM: usize = 9;
    /// Of those, rated 4 or 5.
    pub const SATISFIED: usize = 10;
    /// Column names, in index order.
    pub const NAMES: [&str; 11] = [
        "opened",
        "reopened",
        "bot_started",
        "bot_contained",
        "handed_off",
        "agent_replies",
        "weight",
        "resolved",
        "rated",
        "rating_sum",
        "satisfied",
    ];
}

/// Durations of a rollup cell (indices into [`RollupCell::durations`]).
pub mod duration {
    /// First response (by opening day).
    pub const FIRST: usize = 0;
    /// The same in business hours.
    pub const FIRST_BUSINESS: usize = 1;
    /// Mean next response (by opening day).
    pub const NEXT: usize = 2;
    /// The same in business hours.
    pub const NEXT_BUSINESS: usize = 3;
    /// First response by the agent of a [`super::Dimension::Replier`] value.
    pub const FIRST_OWN: usize = 4;
    /// The same in business hours.
    pub const FIRST_OWN_BUSINESS: usize = 5;
    /// Resolution (by resolution day).
    pub const RESOLUTION: usize = 6;
    /// The same in business hours.
    pub const RESOLUTION_BUSINESS: usize = 7;
    /// Column names, in index order.
    pub const NAMES: [&str; 8] = [
        "first_response",
        "first_response_business",
        "next_response",
        "next_response_business",
        "first_own",
        "first_own_business",
        "resolution",
        "resolution_business",
    ];
}

/// What one day and value add up to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RollupCell {
    /// Counters, by [`count`] index.
    pub counts: [i64; 11],
    /// Durations, by [`duration`] index.
    pub durations: [Multiset; 8],
}

impl RollupCell {
    /// Adds `other` times `sign` (1 or -1); durations whose count drops to
    /// zero disappear.
    pub fn add(&mut self, other: &RollupCell, sign: i64) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += sign * b;
        }
        for (a, b) in self.durations.iter_mut().zip(&other.durations) {
            for (v, n) in b {
                let e = a.entry(*v).or_default();
                *e += sign * n;
                if *e == 0 {
                    a.remove(v);
                }
            }
        }
    }

    /// Whether it adds nothing.
    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|c| *c == 0) && self.durations.iter().all(BTreeMap::is_empty)
    }

    fn push(&mut self, d: usize, v: Option<i64>) {
        if let Some(v) = v {
            *self.durations[d].entry(v).or_default() += 1;
        }
    }
}

/// The compact text of a multiset: `value` or `value*count`, ascending,
/// comma-separated (`60,600*3,7200`).
pub fn encode_multiset(m: &Multiset) -> String {
    let mut out = String::new();
    for (v, n) in m {
        if !out.is_empty() {
            out.push(',');
        }
        if *n == 1 {
            out.push_str(&v.to_string());
        } else {
            out.push_str(&format!("{v}*{n}"));
        }
    }
    out
}

/// Reads [`encode_multiset`]'s text back.
pub fn decode_multiset(s: &str) -> Result<Multiset, String> {
    let mut m = Multiset::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (v, n) = part.split_once('*').unwrap_or((part, "1"));
        let v: i64 = v.parse().map_err(|_| format!("bad duration `{part}`"))?;
        let n: i64 = n.parse().map_err(|_| format!("bad duration count `{part}`"))?;
        *m.entry(v).or_default() += n;
    }
    Ok(m)
}

/// A rollup cell's place: the dimension (`None`: all conversations), the
/// value (`None`: unset) and the local day.
pub type RollupKey = (Option<Dimension>, Option<String>, i64);

/// One stored rollup cell of a dimension, as reports read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RollupRow {
    /// The dimension's value (`None`: unset, or no dimension).
    pub key: Option<String>,
    /// The local day (days before a report's range may be summed into
    /// one row carrying only opened and resolved, for the backlog).
    pub day: i64,
    /// What it adds up to.
    pub cell: RollupCell,
}

/// The report rows of one conversation's facts for a dimension: one per
/// value (one with no value when it has none), as the stores read them.
pub fn facts_rows(f: &ConversationFacts, by: Option<Dimension>) -> Vec<InsightRow> {
    let base = InsightRow {
        conversation_id: f.conversation_id.0,
        key: None,
        weight: 1,
        opened_day: f.opened_day,
        resolved_day: f.resolved_day,
        started_with_bot: f.started_with_bot,
        handed_off: f.handed_off,
        bot_contained: f.bot_contained,
        reopen_count: f.reopen_count,
        agent_replies: f.agent_replies,
        first_responder: f.first_responder.map(|u| u.0),
        assignee: f.assignee_id,
        first_response_secs: f.first_response_secs,
        first_response_business_secs: f.first_response_business_secs,
        next_response_secs: f.next_response_secs,
        next_response_business_secs: f.next_response_business_secs,
        resolution_secs: f.resolution_secs,
        resolution_business_secs: f.resolution_business_secs,
        csat: f.csat,
    };
    let one = |key: Option<String>| vec![InsightRow { key, ..base.clone() }];
    let many = |values: Vec<(String, i64)>| {
        if values.is_empty() {
            return one(None);
        }
        values.into_iter().map(|(k, w)| InsightRow { key: Some(k), weight: w, ..base.clone() }).collect()
    };
    match by {
        None => one(None),
        Some(Dimension::Channel) => one(Some(f.channel.clone())),
        Some(Dimension::Inbox) => one(Some(f.inbox_id.to_string())),
        Some(Dimension::Country) => one(f.country.clone()),
        Some(Dimension::Language) => one(f.language.clone()),
        Some(Dimension::Intent) => one(f.intent.clone()),
        Some(Dimension::Team) => one(f.team_id.map(|t| t.to_string())),
        Some(Dimension::Agent) => one(f.assignee_id.map(|a| a.to_string())),
        Some(Dimension::HandoffReason) => one(f.handoff_reason.clone()),
        Some(Dimension::Tag) => many(f.tags.iter().map(|t| (t.clone(), 1)).collect()),
        Some(Dimension::Sku) => many(f.skus.iter().map(|s| (s.clone(), 1)).collect()),
        Some(Dimension::Replier) => many(f.replies_by.iter().map(|(u, n)| (u.0.to_string(), *n)).collect()),
    }
}

/// Adds one report row to the cells of its opening and resolution days.
fn contribute(r: &InsightRow, by: Option<Dimension>, out: &mut BTreeMap<(Option<String>, i64), RollupCell>) {
    use count::*;
    use duration::*;
    let opened = out.entry((r.key.clone(), r.opened_day)).or_default();
    opened.counts[OPENED] += 1;
    opened.counts[REOPENED] += i64::from(r.reopen_count > 0);
    opened.counts[BOT_STARTED] += i64::from(r.started_with_bot);
    opened.counts[BOT_CONTAINED] += i64::from(r.bot_contained);
    opened.counts[HANDED_OFF] += i64::from(r.started_with_bot && r.handed_off);
    opened.counts[AGENT_REPLIES] += r.agent_replies.max(0);
    opened.counts[WEIGHT] += r.weight.max(0);
    opened.push(FIRST, r.first_response_secs);
    opened.push(FIRST_BUSINESS, r.first_response_business_secs);
    opened.push(NEXT, r.next_response_secs);
    opened.push(NEXT_BUSINESS, r.next_response_business_secs);
    let own = by == Some(Dimension::Replier)
        && r.first_responder.is_some()
        && r.key.as_deref().and_then(|k| k.parse::<i64>().ok()) == r.first_responder;
    if own {
        opened.push(FIRST_OWN, r.first_response_secs);
        opened.push(FIRST_OWN_BUSINESS, r.first_response_business_secs);
    }
    if let Some(d) = r.resolved_day {
        let resolved = out.entry((r.key.clone(), d)).or_default();
        resolved.counts[RESOLVED] += 1;
        resolved.push(RESOLUTION, r.resolution_secs);
        resolved.push(RESOLUTION_BUSINESS, r.resolution_business_secs);
        if let Some(c) = r.csat {
            resolved.counts[RATED] += 1;
            resolved.counts[RATING_SUM] += c;
            resolved.counts[SATISFIED] += i64::from(c >= 4);
        }
    }
}

/// Report rows added up per value and day.
pub fn rollup_rows(rows: &[InsightRow], by: Option<Dimension>) -> Vec<RollupRow> {
    let mut cells = BTreeMap::new();
    for r in rows {
        contribute(r, by, &mut cells);
    }
    cells.into_iter().map(|((key, day), cell)| RollupRow { key, day, cell }).collect()
}

/// Everything one conversation adds to the rollups: under no dimension and
/// under each dimension's values, on its opening and resolution days.
pub fn contributions(f: &ConversationFacts) -> BTreeMap<RollupKey, RollupCell> {
    let mut out = BTreeMap::new();
    for by in std::iter::once(None).chain(Dimension::ALL.into_iter().map(Some)) {
        let mut cells = BTreeMap::new();
        for r in facts_rows(f, by) {
            contribute(&r, by, &mut cells);
        }
        out.extend(cells.into_iter().map(|((key, day), cell)| ((by, key, day), cell)));
    }
    out
}

/// What the rollups change by when a conversation's facts go from `old`
/// to `new` (either absent); cells that do not change are left out.
pub fn delta(old: Option<&ConversationFacts>, new: Option<&ConversationFacts>) -> BTreeMap<RollupKey, RollupCell> {
    let mut out = new.map(contributions).unwrap_or_default();
    if let Some(old) = old {
        for (k, c) in contributions(old) {
            out.entry(k).or_default().add(&c, -1);
        }
    }
    out.retain(|_, c| !c.is_empty());
    out
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn rate(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

/// Median and 90th percentile of a multiset (nearest rank).
pub fn percentiles_of(m: &Multiset) -> Percentiles {
    let n: i64 = m.values().filter(|c| **c > 0).sum();
    let at = |p: f64| -> Option<i64> {
        if n == 0 {
            return None;
        }
        let rank = ((p * n as f64).ceil() as i64).clamp(1, n);
        let mut seen = 0;
        for (v, c) in m.iter().filter(|(_, c)| **c > 0) {
            seen += c;
            if seen >= rank {
                return Some(*v);
            }
        }
        None
    };
    Percentiles { count: to_u64(n), median: at(0.5), p90: at(0.9) }
}

fn mean(sum: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| sum as f64 / n as f64)
}

/// The overview from rollup rows of one dimension: one line per bucket
/// and value, buckets in order, values by name (unset last). Rows before
/// the range count only towards the backlog; rows after it not at all.
pub fn overview_of_rollups(rows: &[RollupRow], range: &Range) -> Vec<OverviewLine> {
    use count::*;
    use duration::*;
    let bs = buckets(range);
    let ends: Vec<i64> = bs.iter().map(|b| b.1).collect();
    struct Acc {
        cell: RollupCell,
        /// Opened minus resolved at this bucket (summed up to give the
        /// backlog).
        backlog_delta: i64,
    }
    let mut keys: BTreeMap<(bool, Option<&str>), Vec<Acc>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.day <= range.until && !r.cell.is_empty()) {
        let net = r.cell.counts[OPENED] - r.cell.counts[RESOLVED];
        if r.day < range.from && net == 0 {
            continue;
        }
        // Unset values sort last.
        let accs = keys
            .entry((r.key.is_none(), r.key.as_deref()))
            .or_insert_with(|| (0..bs.len()).map(|_| Acc { cell: RollupCell::default(), backlog_delta: 0 }).collect());
        let i = ends.partition_point(|e| *e < r.day);
        let Some(a) = accs.get_mut(i) else { continue };
        a.backlog_delta += net;
        if r.day >= range.from {
            a.cell.add(&r.cell, 1);
        }
    }
    if keys.is_empty() {
        keys.insert(
            (true, None),
            (0..bs.len()).map(|_| Acc { cell: RollupCell::default(), backlog_delta: 0 }).collect(),
        );
    }
    let mut per_key: Vec<Vec<OverviewLine>> = Vec::new();
    for ((_, key), accs) in keys {
        let mut backlog = 0i64;
        let mut lines = Vec::with_capacity(accs.len());
        for (a, (_, _, bucket)) in accs.into_iter().zip(&bs) {
            backlog += a.backlog_delta;
            let c = &a.cell.counts;
            let d = &a.cell.durations;
            let opened = to_u64(c[OPENED]);
            let bot_started = to_u64(c[BOT_STARTED]);
            let bot_contained = to_u64(c[BOT_CONTAINED]);
            let handed_off = to_u64(c[HANDED_OFF]);
            let agent_replies = to_u64(c[AGENT_REPLIES]);
            let rated = to_u64(c[RATED]);
            let satisfied = to_u64(c[SATISFIED]);
            lines.push(OverviewLine {
                bucket: bucket.clone(),
                key: key.map(str::to_owned),
                label: None,
                opened,
                resolved: to_u64(c[RESOLVED]),
                reopened: to_u64(c[REOPENED]),
                bot_started,
                bot_contained,
                containment_rate: rate(bot_contained, bot_started),
                handed_off,
                handoff_rate: rate(handed_off, bot_started),
                agent_replies,
                replies_per_conversation: rate(agent_replies, opened),
                first_response: percentiles_of(&d[FIRST]),
                first_response_business: percentiles_of(&d[FIRST_BUSINESS]),
                next_response: percentiles_of(&d[NEXT]),
                next_response_business: percentiles_of(&d[NEXT_BUSINESS]),
                resolution: percentiles_of(&d[RESOLUTION]),
                resolution_business: percentiles_of(&d[RESOLUTION_BUSINESS]),
                backlog: to_u64(backlog),
                rated,
                csat: mean(c[RATING_SUM], c[RATED]),
                satisfied,
                satisfied_rate: rate(satisfied, rated),
            });
        }
        per_key.push(lines);
    }
    // Bucket-major order: every value of the first bucket, then the next.
    let mut out = Vec::with_capacity(bs.len() * per_key.len());
    let mut iters: Vec<_> = per_key.into_iter().map(IntoIterator::into_iter).collect();
    for _ in 0..bs.len() {
        for it in &mut iters {
            out.extend(it.next());
        }
    }
    out
}

/// Per agent, from rollup rows by [`Dimension::Replier`] (`replied`:
/// conversations opened in the range the agent replied in, replies, their
/// own first responses) and by [`Dimension::Agent`] (`assigned`:
/// conversations resolved in the range, resolution times, ratings);
/// agents by id.
pub fn agents_of_rollups(replied: &[RollupRow], assigned: &[RollupRow], range: &Range) -> Vec<AgentLine> {
    use count::*;
    use duration::*;
    let mut lines: BTreeMap<i64, (AgentLine, RollupCell)> = BTreeMap::new();
    let id = |k: &Option<String>| k.as_deref().and_then(|k| k.parse::<i64>().ok());
    let in_range = |r: &&RollupRow| range.from <= r.day && r.day <= range.until;
    for (rows, side) in [(replied, OPENED), (assigned, RESOLVED)] {
        for r in rows.iter().filter(in_range) {
            let Some(a) = id(&r.key) else { continue };
            if r.cell.counts[side] == 0 {
                continue;
            }
            let l = lines
                .entry(a)
                .or_insert_with(|| (AgentLine { agent_id: a, ..AgentLine::default() }, RollupCell::default()));
            let mut part = RollupCell::default();
            if side == OPENED {
                for i in [OPENED, WEIGHT] {
                    part.counts[i] = r.cell.counts[i];
                }
                for i in [FIRST_OWN, FIRST_OWN_BUSINESS] {
                    part.durations[i].clone_from(&r.cell.durations[i]);
                }
            } else {
                for i in [RESOLVED, RATED, RATING_SUM] {
                    part.counts[i] = r.cell.counts[i];
                }
                part.durations[RESOLUTION].clone_from(&r.cell.durations[RESOLUTION]);
            }
            l.1.add(&part, 1);
        }
    }
    lines
        .into_values()
        .map(|(mut line, c)| {
            line.conversations_handled = to_u64(c.counts[OPENED]);
            line.replies = to_u64(c.counts[WEIGHT]);
            line.first_response = percentiles_of(&c.durations[FIRST_OWN]);
            line.first_response_business = percentiles_of(&c.durations[FIRST_OWN_BUSINESS]);
            line.resolved = to_u64(c.counts[RESOLVED]);
            line.resolution = percentiles_of(&c.durations[RESOLUTION]);
            line.csat = mean(c.counts[RATING_SUM], c.counts[RATED]);
            line
        })
        .collect()
}

/// Hand-offs of conversations opened in the range, by reason (most
/// first), from rollup rows by [`Dimension::HandoffReason`].
pub fn handoffs_of_rollups(rows: &[RollupRow], range: &Range) -> Vec<HandoffLine> {
    let mut by: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| range.from <= r.day && r.day <= range.until) {
        let n = to_u64(r.cell.counts[count::HANDED_OFF]);
        if n > 0 {
            *by.entry(r.key.clone()).or_default() += n;
        }
    }
    let total: u64 = by.values().sum();
    let mut out: Vec<HandoffLine> = by
        .into_iter()
        .map(|(reason, n)| HandoffLine { reason, conversations: n, share: rate(n, total).unwrap_or(0.0) })
        .collect();
    out.sort_by(|a, b| b.conversations.cmp(&a.conversations).then_with(|| a.reason.cmp(&b.reason)));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn multisets_read_back_what_they_wrote() {
        let m: Multiset = [(60, 1), (600, 3), (-5, 2)].into_iter().collect();
        let s = encode_multiset(&m);
        assert_eq!(s, "-5*2,60,600*3");
        assert_eq!(decode_multiset(&s).unwrap(), m);
        assert_eq!(decode_multiset("").unwrap(), Multiset::new());
        assert!(decode_multiset("1*x").is_err());
    }

    #[test]
    fn multiset_percentiles_match_sorted_values() {
        let values = [5, 1, 9, 9, 3, 7, 7, 7, 2, 10, 4];
        let mut m = Multiset::new();
        for v in values {
            *m.entry(v).or_default() += 1;
        }
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let p = percentiles_of(&m);
        assert_eq!(p.count, 11);
        assert_eq!(p.median, super::super::report::nearest_rank(&sorted, 0.5));
        assert_eq!(p.p90, super::super::report::nearest_rank(&sorted, 0.9));
    }

    #[test]
    fn a_cell_minus_itself_is_empty() {
        let mut a = RollupCell::default();
        a.counts[count::OPENED] = 2;
        a.push(duration::FIRST, Some(30));
        let b = a.clone();
        a.add(&b, -1);
        assert!(a.is_empty());
    }
}
