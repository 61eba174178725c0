//! Reports computed from facts rows: counts, rates and percentiles per
//! time bucket (day, week, month in the account's time zone) and per
//! value of a dimension, and the conversations behind each number. Pure,
//! so both stores give the same figures from the same rows.

use super::facts::day_date;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What a report can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The inbox's channel.
    Channel,
    /// The inbox.
    Inbox,
    /// The buyer's country.
    Country,
    /// The buyer's language.
    Language,
    /// The bot's main intent.
    Intent,
    /// Each tag (a conversation counts once under each of its tags).
    Tag,
    /// The team.
    Team,
    /// The assigned agent.
    Agent,
    /// Each product (SKU) of the buyer's linked orders.
    Sku,
    /// Each agent who replied.
    Replier,
    /// Why the bot handed off.
    HandoffReason,
}

impl Dimension {
    /// All dimensions.
    pub const ALL: [Dimension; 11] = [
        Dimension::Channel,
        Dimension::Inbox,
        Dimension::Country,
        Dimension::Language,
        Dimension::Intent,
        Dimension::Tag,
        Dimension::Team,
        Dimension::Agent,
        Dimension::Sku,
        Dimension::Replier,
        Dimension::HandoffReason,
    ];

    /// Stable name used in URLs and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Channel => "channel",
            Dimension::Inbox => "inbox",
            Dimension::Country => "country",
            Dimension::Language => "language",
            Dimension::Intent => "intent",
            Dimension::Tag => "tag",
            Dimension::Team => "team",
            Dimension::Agent => "agent",
            Dimension::Sku => "sku",
            Dimension::Replier => "replier",
            Dimension::HandoffReason => "handoff_reason",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a dimension, granularity or metric.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`")]
pub struct UnknownName {
    /// What was asked for.
    pub what: &'static str,
    /// The name given.
    pub name: String,
}

impl FromStr for Dimension {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dimension::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName { what: "dimension", name: s.to_owned() })
    }
}

/// The size of a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Local days.
    Day,
    /// Weeks starting on Monday.
    Week,
    /// Calendar months.
    Month,
}

impl FromStr for Granularity {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(Granularity::Day),
            "week" => Ok(Granularity::Week),
            "month" => Ok(Granularity::Month),
            _ => Err(UnknownName { what: "granularity", name: s.to_owned() }),
        }
    }
}

/// The first day of the bucket a day falls in, and its label
/// (`2026-03-02` for days and weeks, `2026-03` for months).
pub fn bucket_of(day: i64, g: Option<Granularity>) -> Option<(i64, String)> {
    let d = day_date(day);
    let (start, label) = match g? {
        Granularity::Day => (d, d.to_string()),
        Granularity::Week => {
            let s = d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
            (s, s.to_string())
        }
        Granularity::Month => {
            let s = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d);
            (s, format!("{:04}-{:02}", d.year(), d.month()))
        }
    };
    Some((super::facts::day_number(start), label))
}

/// The last day of the bucket starting on `start`.
fn bucket_end(start: i64, g: Option<Granularity>, until: i64) -> i64 {
    let end = match g {
        None => until,
        Some(Granularity::Day) => start,
        Some(Granularity::Week) => start + 6,
        Some(Granularity::Month) => {
            let d = day_date(start);
            let next = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            };
            next.map_or(start, |n| super::facts::day_number(n) - 1)
        }
    };
    end.min(until)
}

/// What a report reads of one conversation (one row per value of the
/// dimension asked for).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InsightRow {
    /// The conversation.
    pub conversation_id: i64,
    /// The dimension's value (`None`: no dimension asked, or none set).
    pub key: Option<String>,
    /// Replies behind the value (for [`Dimension::Replier`]), else 1.
    pub weight: i64,
    /// Local day it opened.
    pub opened_day: i64,
    /// Local day it was resolved, while it is.
    pub resolved_day: Option<i64>,
    /// Started with the bot.
    pub started_with_bot: bool,
    /// Went from the bot to people.
    pub handed_off: bool,
    /// Resolved by the bot alone.
    pub bot_contained: bool,
    /// Times reopened.
    pub reopen_count: i64,
    /// Agent replies.
    pub agent_replies: i64,
    /// The agent who replied first.
    pub first_responder: Option<i64>,
    /// The assigned agent.
    pub assignee: Option<i64>,
    /// First response, seconds.
    pub first_response_secs: Option<i64>,
    /// First response in business hours.
    pub first_response_business_secs: Option<i64>,
    /// Mean next response, seconds.
    pub next_response_secs: Option<i64>,
    /// Mean next response in business hours.
    pub next_response_business_secs: Option<i64>,
    /// Resolution, seconds.
    pub resolution_secs: Option<i64>,
    /// Resolution in business hours.
    pub resolution_business_secs: Option<i64>,
    /// Satisfaction score, once collected.
    pub csat: Option<i64>,
}

/// Median and 90th percentile of durations, seconds (nearest rank: the
/// smallest value with at least half, or 90 %, of the values at or below
/// it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Percentiles {
    /// How many values.
    pub count: u64,
    /// Median, seconds.
    pub median: Option<i64>,
    /// 90th percentile, seconds.
    pub p90: Option<i64>,
}

/// The nearest-rank percentile `p` (0–1] of sorted values.
pub fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as f64;
    let rank = ((p * n).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

impl Percentiles {
    fn of(mut v: Vec<i64>) -> Self {
        v.sort_unstable();
        Percentiles { count: v.len() as u64, median: nearest_rank(&v, 0.5), p90: nearest_rank(&v, 0.9) }
    }
}

/// One line of the overview: one bucket, one value of the dimension.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverviewLine {
    /// The bucket's label (none without `group_by`).
    pub bucket: Option<String>,
    /// The dimension's value (none without `by`, or when unset).
    pub key: Option<String>,
    /// A display name for the value (an inbox's, team's or agent's name).
    pub label: Option<String>,
    /// Conversations opened.
    pub opened: u64,
    /// Conversations resolved (and still resolved).
    pub resolved: u64,
    /// Conversations opened that were reopened at least once.
    pub reopened: u64,
    /// Conversations opened with the bot.
    pub bot_started: u64,
    /// Of those, resolved without a person.
    pub bot_contained: u64,
    /// `bot_contained / bot_started`.
    pub containment_rate: Option<f64>,
    /// Of those, handed to people.
    pub handed_off: u64,
    /// `handed_off / bot_started`.
    pub handoff_rate: Option<f64>,
    /// Agent replies in conversations opened.
    pub agent_replies: u64,
    /// `agent_replies / opened`.
    pub replies_per_conversation: Option<f64>,
    /// First response (conversations opened).
    pub first_response: Percentiles,
    /// First response in business hours.
    pub first_response_business: Percentiles,
    /// Mean next response per conversation (conversations opened).
    pub next_response: Percentiles,
    /// The same in business hours.
    pub next_response_business: Percentiles,
    /// Resolution time (conversations resolved).
    pub resolution: Percentiles,
    /// The same in business hours.
    pub resolution_business: Percentiles,
    /// Conversations not resolved at the end of the bucket.
    pub backlog: u64,
}

/// One agent's line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentLine {
    /// The agent's id.
    pub agent_id: i64,
    /// The agent's name.
    pub name: Option<String>,
    /// Conversations opened in the range the agent replied in.
    pub conversations_handled: u64,
    /// The agent's replies in them.
    pub replies: u64,
    /// First responses by this agent.
    pub first_response: Percentiles,
    /// The same in business hours.
    pub first_response_business: Percentiles,
    /// Conversations assigned to the agent resolved in the range.
    pub resolved: u64,
    /// Their resolution times.
    pub resolution: Percentiles,
    /// Mean satisfaction rating (1–5) of the conversations resolved in
    /// the range that were rated.
    pub csat: Option<f64>,
}

/// One hand-off reason's line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffLine {
    /// The reason.
    pub reason: Option<String>,
    /// Conversations opened in the range handed off for it.
    pub conversations: u64,
    /// Their share of all hand-offs.
    pub share: f64,
}

/// The days a report covers (local, inclusive) and how it groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First day.
    pub from: i64,
    /// Last day.
    pub until: i64,
    /// Time buckets, if any.
    pub group_by: Option<Granularity>,
}

impl Range {
    fn has(&self, day: i64) -> bool {
        (self.from..=self.until).contains(&day)
    }
}

/// A number of the overview that can be drilled into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Conversations opened.
    Opened,
    /// Conversations resolved.
    Resolved,
    /// Conversations reopened.
    Reopened,
    /// Conversations that started with the bot.
    BotStarted,
    /// Conversations the bot resolved alone.
    BotContained,
    /// Conversations handed off.
    HandedOff,
    /// Conversations with an agent reply.
    AgentReplies,
    /// Conversations with a first response.
    FirstResponse,
    /// Conversations with a next response.
    NextResponse,
    /// Conversations resolved with a resolution time.
    Resolution,
    /// Conversations not resolved at the end of the bucket.
    Backlog,
}

impl FromStr for Metric {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "opened" => Metric::Opened,
            "resolved" => Metric::Resolved,
            "reopened" => Metric::Reopened,
            "bot_started" => Metric::BotStarted,
            "bot_contained" => Metric::BotContained,
            "handed_off" => Metric::HandedOff,
            "agent_replies" => Metric::AgentReplies,
            "first_response" => Metric::FirstResponse,
            "next_response" => Metric::NextResponse,
            "resolution" => Metric::Resolution,
            "backlog" => Metric::Backlog,
            _ => return Err(UnknownName { what: "metric", name: s.to_owned() }),
        })
    }
}

/// The buckets of the range, with their first and last day.
fn buckets(range: &Range) -> Vec<(i64, i64, Option<String>)> {
    if range.group_by.is_none() {
        return vec![(range.from, range.until, None)];
    }
    let mut out = Vec::new();
    let mut day = range.from;
    while day <= range.until {
        let Some((start, label)) = bucket_of(day, range.group_by) else { break };
        let end = bucket_end(start, range.group_by, range.until);
        out.push((start.max(range.from), end, Some(label)));
        day = end + 1;
    }
    out
}

/// Whether a row counts towards `metric` in the bucket `(start, end)`.
fn counts(r: &InsightRow, metric: Metric, range: &Range, start: i64, end: i64) -> bool {
    let opened_here = r.opened_day >= start && r.opened_day <= end && range.has(r.opened_day);
    let resolved_here = r.resolved_day.is_some_and(|d| d >= start && d <= end && range.has(d));
    match metric {
        Metric::Opened => opened_here,
        Metric::Resolved => resolved_here,
        Metric::Reopened => opened_here && r.reopen_count > 0,
        Metric::BotStarted => opened_here && r.started_with_bot,
        Metric::BotContained => opened_here && r.bot_contained,
        Metric::HandedOff => opened_here && r.started_with_bot && r.handed_off,
        Metric::AgentReplies => opened_here && r.agent_replies > 0,
        Metric::FirstResponse => opened_here && r.first_response_secs.is_some(),
        Metric::NextResponse => opened_here && r.next_response_secs.is_some(),
        Metric::Resolution => resolved_here && r.resolution_secs.is_some(),
        Metric::Backlog => r.opened_day <= end && r.resolved_day.is_none_or(|d| d > end),
    }
}

fn rate(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

#[derive(Default)]
struct Acc {
    opened: u64,
    resolved: u64,
    reopened: u64,
    bot_started: u64,
    bot_contained: u64,
    handed_off: u64,
    agent_replies: u64,
    first: Vec<i64>,
    first_business: Vec<i64>,
    next: Vec<i64>,
    next_business: Vec<i64>,
    resolution: Vec<i64>,
    resolution_business: Vec<i64>,
    /// Opened minus resolved at this bucket (summed up to give the backlog).
    backlog_delta: i64,
}

/// The overview: one line per bucket and value, buckets in order, values
/// by name (unset last). One pass over the rows.
pub fn overview(rows: &[InsightRow], range: &Range) -> Vec<OverviewLine> {
    let bs = buckets(range);
    let ends: Vec<i64> = bs.iter().map(|b| b.1).collect();
    // The first bucket whose end is on or after `day` (past the end: none).
    let at = |day: i64| {
        let i = ends.partition_point(|e| *e < day);
        (i < ends.len()).then_some(i)
    };
    let mut keys: BTreeMap<(bool, Option<&str>), Vec<Acc>> = BTreeMap::new();
    for r in rows {
        // Unset values sort last.
        let accs = keys
            .entry((r.key.is_none(), r.key.as_deref()))
            .or_insert_with(|| (0..bs.len()).map(|_| Acc::default()).collect());
        if let Some(i) = at(r.opened_day) {
            accs[i].backlog_delta += 1;
            if range.has(r.opened_day) {
                let a = &mut accs[i];
                a.opened += 1;
                a.reopened += u64::from(r.reopen_count > 0);
                a.bot_started += u64::from(r.started_with_bot);
                a.bot_contained += u64::from(r.bot_contained);
                a.handed_off += u64::from(r.started_with_bot && r.handed_off);
                a.agent_replies += u64::try_from(r.agent_replies).unwrap_or(0);
                a.first.extend(r.first_response_secs);
                a.first_business.extend(r.first_response_business_secs);
                a.next.extend(r.next_response_secs);
                a.next_business.extend(r.next_response_business_secs);
            }
        }
        if let Some(d) = r.resolved_day
            && let Some(i) = at(d)
        {
            // Opened and resolved before the range: +1 and -1 in the
            // first bucket, never in its backlog.
            accs[i].backlog_delta -= 1;
            if range.has(d) {
                let a = &mut accs[i];
                a.resolved += 1;
                if let Some(v) = r.resolution_secs {
                    a.resolution.push(v);
                }
                a.resolution_business.extend(r.resolution_business_secs);
            }
        }
    }
    if keys.is_empty() {
        keys.insert((true, None), (0..bs.len()).map(|_| Acc::default()).collect());
    }
    let mut per_key: Vec<(Option<String>, Vec<OverviewLine>)> = Vec::new();
    for ((_, key), accs) in keys {
        let mut backlog = 0i64;
        let mut lines = Vec::with_capacity(accs.len());
        for (a, (_, _, bucket)) in accs.into_iter().zip(&bs) {
            backlog += a.backlog_delta;
            lines.push(OverviewLine {
                bucket: bucket.clone(),
                key: key.map(str::to_owned),
                label: None,
                opened: a.opened,
                resolved: a.resolved,
                reopened: a.reopened,
                bot_started: a.bot_started,
                bot_contained: a.bot_contained,
                containment_rate: rate(a.bot_contained, a.bot_started),
                handed_off: a.handed_off,
                handoff_rate: rate(a.handed_off, a.bot_started),
                agent_replies: a.agent_replies,
                replies_per_conversation: rate(a.agent_replies, a.opened),
                first_response: Percentiles::of(a.first),
                first_response_business: Percentiles::of(a.first_business),
                next_response: Percentiles::of(a.next),
                next_response_business: Percentiles::of(a.next_business),
                resolution: Percentiles::of(a.resolution),
                resolution_business: Percentiles::of(a.resolution_business),
                backlog: u64::try_from(backlog).unwrap_or(0),
            });
        }
        per_key.push((key.map(str::to_owned), lines));
    }
    // Bucket-major order: every value of the first bucket, then the next.
    let n = bs.len();
    let mut out = Vec::with_capacity(n * per_key.len());
    let mut iters: Vec<_> = per_key.into_iter().map(|(_, l)| l.into_iter()).collect();
    for _ in 0..n {
        for it in &mut iters {
            out.extend(it.next());
        }
    }
    out
}

/// Per agent, from rows by [`Dimension::Replier`] (`replied`) and by
/// [`Dimension::Agent`] (`assigned`); agents by id.
pub fn agents(replied: &[InsightRow], assigned: &[InsightRow], range: &Range) -> Vec<AgentLine> {
    #[derive(Default)]
    struct AgentAcc {
        line: AgentLine,
        first: Vec<i64>,
        first_business: Vec<i64>,
        resolution: Vec<i64>,
        ratings: Vec<i64>,
    }
    fn entry(lines: &mut BTreeMap<i64, AgentAcc>, a: i64) -> &mut AgentAcc {
        lines.entry(a).or_insert_with(|| AgentAcc {
            line: AgentLine { agent_id: a, ..AgentLine::default() },
            ..AgentAcc::default()
        })
    }
    let mut lines: BTreeMap<i64, AgentAcc> = BTreeMap::new();
    let id = |k: &Option<String>| k.as_deref().and_then(|k| k.parse::<i64>().ok());
    for r in replied {
        let Some(a) = id(&r.key) else { continue };
        if !range.has(r.opened_day) {
            continue;
        }
        let l = entry(&mut lines, a);
        l.line.conversations_handled += 1;
        l.line.replies += u64::try_from(r.weight).unwrap_or(0);
        if r.first_responder == Some(a) {
            l.first.extend(r.first_response_secs);
            l.first_business.extend(r.first_response_business_secs);
        }
    }
    for r in assigned {
        let Some(a) = id(&r.key) else { continue };
        if !r.resolved_day.is_some_and(|d| range.has(d)) {
            continue;
        }
        let l = entry(&mut lines, a);
        l.line.resolved += 1;
        l.resolution.extend(r.resolution_secs);
        l.ratings.extend(r.csat);
    }
    lines
        .into_values()
        .map(|mut l| {
            l.line.first_response = Percentiles::of(l.first);
            l.line.first_response_business = Percentiles::of(l.first_business);
            l.line.resolution = Percentiles::of(l.resolution);
            l.line.csat =
                (!l.ratings.is_empty()).then(|| l.ratings.iter().sum::<i64>() as f64 / l.ratings.len() as f64);
            l.line
        })
        .collect()
}

/// Hand-offs of conversations opened in the range, by reason (most first),
/// from rows by [`Dimension::HandoffReason`].
pub fn handoffs(rows: &[InsightRow], range: &Range) -> Vec<HandoffLine> {
    let mut by: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.handed_off && r.started_with_bot && range.has(r.opened_day)) {
        *by.entry(r.key.clone()).or_default() += 1;
    }
    let total: u64 = by.values().sum();
    let mut out: Vec<HandoffLine> = by
        .into_iter()
        .map(|(reason, n)| HandoffLine { reason, conversations: n, share: rate(n, total).unwrap_or(0.0) })
        .collect();
    out.sort_by(|a, b| b.conversations.cmp(&a.conversations).then_with(|| a.reason.cmp(&b.reason)));
    out
}

/// The conversations behind one number of the overview: `metric` in the
/// bucket labelled `bucket` (all when `None`) for the dimension's value
/// `key` (all values when `None`), ids ascending and distinct.
pub fn drill_down(
    rows: &[InsightRow],
    range: &Range,
    metric: Metric,
    bucket: Option<&str>,
    key: Option<&str>,
) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    for (start, end, label) in buckets(range) {
        if bucket.is_some() && label.as_deref() != bucket {
            continue;
        }
        ids.extend(
            rows.iter()
                .filter(|r| key.is_none() || r.key.as_deref() == key)
                .filter(|r| counts(r, metric, range, start, end))
                .map(|r| r.conversation_id),
        );
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The bucket label a day belongs to under the range's grouping.
pub fn bucket_label(day: i64, range: &Range) -> Option<String> {
    bucket_of(day, range.group_by).map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::insights::facts::day_number;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        day_number(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 0.5), None);
        assert_eq!(nearest_rank(&[7], 0.9), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 0.5), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), Some(9));
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9), Some(10));
    }

    #[test]
    fn buckets_follow_weeks_and_months() {
        // Sunday 1 March 2026 to Tuesday 14 April 2026.
        let range = Range { from: day(2026, 3, 1), until: day(2026, 4, 14), group_by: Some(Granularity::Week) };
        let b = buckets(&range);
        assert_eq!(b[0], (day(2026, 3, 1), day(2026, 3, 1), Some("2026-02-23".into())));
        assert_eq!(b[1], (day(2026, 3, 2), day(2026, 3, 8), Some("2026-03-02".into())));
        assert_eq!(b.last().unwrap().1, day(2026, 4, 14));
        let months = buckets(&Range { group_by: Some(Granularity::Month), ..range });
        assert_eq!(
            months,
            vec![
                (day(2026, 3, 1), day(2026, 3, 31), Some("2026-03".into())),
                (day(2026, 4, 1), day(2026, 4, 14), Some("2026-04".into()))
            ]
        );
    }

    #[test]
    fn overview_counts_by_opening_and_resolution_day() {
        let d1 = day(2026, 3, 2);
        let row = |id: i64, opened: i64, resolved: Option<i64>| InsightRow {
            conversation_id: id,
            opened_day: opened,
            resolved_day: resolved,
            weight: 1,
            ..InsightRow::default()
        };
        let rows = vec![row(1, d1, Some(d1 + 1)), row(2, d1, None), row(3, d1 + 1, Some(d1 + 1))];
        let range = Range { from: d1, until: d1 + 2, group_by: Some(Granularity::Day) };
        let lines = overview(&rows, &range);
        let got: Vec<(u64, u64, u64)> = lines.iter().map(|l| (l.opened, l.resolved, l.backlog)).collect();
        assert_eq!(got, vec![(2, 0, 2), (1, 2, 1), (0, 0, 1)]);
        assert_eq!(drill_down(&rows, &range, Metric::Resolved, Some("2026-03-03"), None), vec![1, 3]);
        assert_eq!(drill_down(&rows, &range, Metric::Backlog, Some("2026-03-04"), None), vec![2]);
    }
}
