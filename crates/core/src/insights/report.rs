//! Reports computed from facts rows: counts, rates and percentiles per
//! time bucket (day, week, month in the account's time zone) and per
//! value of a dimension, and the conversations behind each number. Pure,
//! so both stores give the same figures from the same rows.

use super::facts::day_date;
use super::rollup::{agents_of_rollups, handoffs_of_rollups, overview_of_rollups, rollup_rows};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
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
    /// Conversations resolved in the bucket that the buyer rated.
    pub rated: u64,
    /// Their mean rating (1–5).
    pub csat: Option<f64>,
    /// Of those, rated 4 or 5.
    pub satisfied: u64,
    /// `satisfied / rated`.
    pub satisfied_rate: Option<f64>,
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
    /// Conversations resolved and rated by the buyer.
    Rated,
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
            "rated" => Metric::Rated,
            _ => return Err(UnknownName { what: "metric", name: s.to_owned() }),
        })
    }
}

/// The buckets of the range, with their first and last day.
pub(crate) fn buckets(range: &Range) -> Vec<(i64, i64, Option<String>)> {
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
        Metric::Rated => resolved_here && r.csat.is_some(),
    }
}

/// The overview: one line per bucket and value, buckets in order, values
/// by name (unset last), from report rows (see [`overview_of_rollups`]).
pub fn overview(rows: &[InsightRow], range: &Range) -> Vec<OverviewLine> {
    overview_of_rollups(&rollup_rows(rows, None), range)
}

/// Per agent, from rows by [`Dimension::Replier`] (`replied`) and by
/// [`Dimension::Agent`] (`assigned`); agents by id.
pub fn agents(replied: &[InsightRow], assigned: &[InsightRow], range: &Range) -> Vec<AgentLine> {
    agents_of_rollups(
        &rollup_rows(replied, Some(Dimension::Replier)),
        &rollup_rows(assigned, Some(Dimension::Agent)),
        range,
    )
}

/// Hand-offs of conversations opened in the range, by reason (most first),
/// from rows by [`Dimension::HandoffReason`].
pub fn handoffs(rows: &[InsightRow], range: &Range) -> Vec<HandoffLine> {
    handoffs_of_rollups(&rollup_rows(rows, Some(Dimension::HandoffReason)), range)
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
