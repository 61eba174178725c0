//! The facts of one conversation that reports count: computed from the
//! conversation as it stands, its messages and its status history, so the
//! same inputs always give the same row (kept current in the write that
//! changes them, and recomputed alike by a rebuild).

use super::hours::BusinessHours;
use crate::conversation::{Conversation, Status};
use crate::message::{MessageKind, Sender};
use crate::{ConversationId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// What reports need of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageTrace {
    /// Its kind.
    pub kind: MessageKind,
    /// Who wrote it.
    pub sender: Sender,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
}

/// One change of a conversation's status, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusTrace {
    /// Before.
    pub from: Status,
    /// After.
    pub to: Status,
    /// The hand-off reason when the bot passed it to people.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Everything the facts of a conversation are computed from.
#[derive(Debug, Clone)]
pub struct FactInput<'a> {
    /// The conversation now.
    pub conversation: &'a Conversation,
    /// The inbox's channel (`api`, `email`, …).
    pub channel: &'a str,
    /// The inbox's business hours, if it has them.
    pub hours: Option<&'a BusinessHours>,
    /// The account's time zone (day boundaries).
    pub timezone: Tz,
    /// The buyer's country.
    pub country: Option<String>,
    /// The buyer's language when the conversation has none.
    pub contact_language: Option<String>,
    /// The intent the bot answered most in the conversation.
    pub intent: Option<String>,
    /// Its messages, any order.
    pub messages: &'a [MessageTrace],
    /// Its status changes, any order.
    pub changes: &'a [StatusTrace],
    /// SKUs of the buyer's linked orders.
    pub skus: Vec<String>,
    /// The buyer's satisfaction rating (1–5), once given.
    pub csat: Option<i64>,
}

/// The facts row of one conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationFacts {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its inbox.
    pub inbox_id: i64,
    /// The inbox's channel.
    pub channel: String,
    /// The buyer's country.
    pub country: Option<String>,
    /// The buyer's language (primary subtag, lower case).
    pub language: Option<String>,
    /// The bot's main intent.
    pub intent: Option<String>,
    /// Its team.
    pub team_id: Option<i64>,
    /// Its agent.
    pub assignee_id: Option<i64>,
    /// Its status now.
    pub status: Status,
    /// When it opened (its first buyer message, else its creation).
    pub opened_at: DateTime<Utc>,
    /// The local date it opened on, as days since 1970-01-01.
    pub opened_day: i64,
    /// When it was resolved, while it is.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The local date of `resolved_at`.
    pub resolved_day: Option<i64>,
    /// It started with the bot.
    pub started_with_bot: bool,
    /// It went from the bot to people at least once.
    pub handed_off: bool,
    /// Why, the first time.
    pub handoff_reason: Option<String>,
    /// Resolved without a person: started with the bot, never handed off,
    /// no agent reply.
    pub bot_contained: bool,
    /// Times it was reopened after being resolved.
    pub reopen_count: i64,
    /// Replies by agents (not notes, not the bot).
    pub agent_replies: i64,
    /// Replies by the bot.
    pub bot_replies: i64,
    /// Messages by the buyer.
    pub buyer_messages: i64,
    /// Replies per agent, by agent.
    pub replies_by: Vec<(UserId, i64)>,
    /// Who replied first.
    pub first_responder: Option<UserId>,
    /// Seconds to the first agent reply (from the first buyer message, or
    /// from the hand-off when it started with the bot).
    pub first_response_secs: Option<i64>,
    /// The same in the inbox's business hours (wall time without them).
    pub first_response_business_secs: Option<i64>,
    /// Later waits answered by an agent.
    pub next_response_count: i64,
    /// Their mean, seconds.
    pub next_response_secs: Option<i64>,
    /// Their mean in business hours.
    pub next_response_business_secs: Option<i64>,
    /// Seconds from opening to resolution, while resolved.
    pub resolution_secs: Option<i64>,
    /// The same in business hours.
    pub resolution_business_secs: Option<i64>,
    /// Tags.
    pub tags: Vec<String>,
    /// SKUs of linked orders.
    pub skus: Vec<String>,
    /// The buyer's satisfaction rating (1–5), once given.
    pub csat: Option<i64>,
}

/// Days since 1970-01-01 of a local date.
pub fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.to_epoch_days())
}

/// The local date of a day number.
pub fn day_date(day: i64) -> NaiveDate {
    i32::try_from(day).ok().and_then(NaiveDate::from_epoch_days).unwrap_or_default()
}

/// The local day number of an instant in `tz`.
pub fn local_day(at: DateTime<Utc>, tz: Tz) -> i64 {
    day_number(at.with_timezone(&tz).date_naive())
}

fn is_agent_reply(m: &MessageTrace) -> Option<UserId> {
    match (m.kind, &m.sender) {
        (MessageKind::Outgoing, Sender::User(u)) => Some(*u),
        _ => None,
    }
}

/// Computes the facts of a conversation.
pub fn compute_facts(input: &FactInput<'_>) -> ConversationFacts {
    let c = input.conversation;
    let mut messages: Vec<&MessageTrace> = input.messages.iter().collect();
    messages.sort_by_key(|m| m.sent_at);
    let mut changes: Vec<&StatusTrace> = input.changes.iter().collect();
    changes.sort_by_key(|s| s.at);
    let business = |a: DateTime<Utc>, b: DateTime<Utc>| match input.hours {
        Some(h) => h.business_seconds(a, b),
        None => (b - a).num_seconds().max(0),
    };

    let first_buyer = messages.iter().find(|m| m.kind == MessageKind::Incoming).map(|m| m.sent_at);
    let opened_at = first_buyer.map_or(c.created_at, |t| t.min(c.created_at));
    // The first recorded change says where it started; without any it is
    // where it still is.
    let started_with_bot = changes.first().map_or(c.status == Status::Bot, |s| s.from == Status::Bot);
    let handoff = changes.iter().find(|s| s.from == Status::Bot && s.to != Status::Bot && s.to != Status::Resolved);
    let reopen_count = changes.iter().filter(|s| s.from == Status::Resolved && s.to != Status::Resolved).count();

    let mut agent_replies = 0;
    let mut bot_replies = 0;
    let mut buyer_messages = 0;
    let mut replies_by: Vec<(UserId, i64)> = Vec::new();
    let mut first: Option<(UserId, DateTime<Utc>)> = None;
    let mut waiting_since: Option<DateTime<Utc>> = None;
    let (mut next_n, mut next_wall, mut next_biz) = (0i64, 0i64, 0i64);
    for m in &messages {
        match m.kind {
            MessageKind::Incoming => {
                buyer_messages += 1;
                if first.is_some() && waiting_since.is_none() {
                    waiting_since = Some(m.sent_at);
                }
            }
            MessageKind::Outgoing => {
                if let Some(u) = is_agent_reply(m) {
                    agent_replies += 1;
                    match replies_by.iter_mut().find(|(x, _)| *x == u) {
                        Some(e) => e.1 += 1,
                        None => replies_by.push((u, 1)),
                    }
                    if first.is_none() {
                        first = Some((u, m.sent_at));
                    } else if let Some(w) = waiting_since.take() {
                        next_n += 1;
                        next_wall += (m.sent_at - w).num_seconds().max(0);
                        next_biz += business(w, m.sent_at);
                    }
                } else if m.sender == Sender::Bot {
                    bot_replies += 1;
                }
            }
            MessageKind::Note | MessageKind::Activity => {}
        }
    }
    replies_by.sort_by_key(|(u, _)| u.0);

    let response_start = if started_with_bot { handoff.map(|h| h.at) } else { Some(opened_at) };
    let (first_response_secs, first_response_business_secs) = match (first, response_start) {
        (Some((_, at)), Some(start)) => {
            let start = start.min(at);
            (Some((at - start).num_seconds()), Some(business(start, at)))
        }
        _ => (None, None),
    };
    let resolved_at = if c.status == Status::Resolved { c.resolved_at } else { None };
    let (resolution_secs, resolution_business_secs) = match resolved_at {
        Some(r) if r >= opened_at => (Some((r - opened_at).num_seconds()), Some(business(opened_at, r))),
        Some(_) => (Some(0), Some(0)),
        None => (None, None),
    };
    let language = c
        .language
        .clone()
        .or_else(|| input.contact_language.clone())
        .map(|l| l.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase())
        .filter(|l| !l.is_empty());
    let mut skus = input.skus.clone();
    skus.sort();
    skus.dedup();
    let handed_off = handoff.is_some();
    ConversationFacts {
        conversation_id: c.id,
        inbox_id: c.inbox_id.0,
        channel: input.channel.to_owned(),
        country: input.country.clone().map(|x| x.to_ascii_uppercase()),
        language,
        intent: input.intent.clone(),
        team_id: c.team_id.map(|t| t.0),
        assignee_id: c.assignee_id.map(|u| u.0),
        status: c.status,
        opened_at,
        opened_day: local_day(opened_at, input.timezone),
        resolved_at,
        resolved_day: resolved_at.map(|r| local_day(r, input.timezone)),
        started_with_bot,
        handed_off,
        handoff_reason: handoff.and_then(|h| h.reason.clone()),
        bot_contained: started_with_bot && !handed_off && agent_replies == 0 && resolved_at.is_some(),
        reopen_count: i64::try_from(reopen_count).unwrap_or(i64::MAX),
        agent_replies,
        bot_replies,
        buyer_messages,
        replies_by,
        first_responder: first.map(|(u, _)| u),
        first_response_secs,
        first_response_business_secs,
        next_response_count: next_n,
        next_response_secs: (next_n > 0).then(|| next_wall / next_n),
        next_response_business_secs: (next_n > 0).then(|| next_biz / next_n),
        resolution_secs,
        resolution_business_secs,
        tags: c.tags.clone(),
        skus,
        csat: input.csat,
    }
}
