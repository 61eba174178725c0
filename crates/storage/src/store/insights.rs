//! Insights: the status history, facts rows and daily rollups written
//! beside each event that concerns a conversation, and the reads of
//! reports.

use super::conversations::get_conversation;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row, lock_key};
use crate::error::StorageResult;
use crate::insights::{FACTS_BATCH, InsightQuery, InsightsRepo};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::conversation::{Change, Conversation, Status};
use ferry_core::event::Event;
use ferry_core::inbox::InboxConfig;
use ferry_core::insights::{
    ConversationFacts, Dimension, FactInput, InsightRow, MessageTrace, RollupCell, RollupKey, RollupRow, StatusTrace,
    compute_facts, contributions, count, decode_multiset, delta, duration, encode_multiset, parse_timezone,
};
use ferry_core::message::{MessageKind, Sender};
use ferry_core::{AccountId, ConversationId, UserId};
use std::collections::BTreeMap;

/// Orders of a buyer read for their SKUs, per e-mail and per phone.
const ORDERS_PER_BUYER: i64 = 20;

/// Keeps insights current with an event appended in this unit of work:
/// records status changes, then marks the conversation's facts for a
/// refresh (see [`refresh_pending`]).
pub(super) async fn on_event<D: Db>(
    db: &mut D,
    account: AccountId,
    event: &Event,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    match event {
        Event::MessageReceived { conversation, changes, .. } | Event::ConversationUpdated { conversation, changes } => {
            record_changes(db, account, conversation, changes, now).await?;
            mark_pending(db, account, conversation.id, now).await
        }
        Event::MessageCreated { message } if matches!(message.kind, MessageKind::Incoming | MessageKind::Outgoing) => {
            mark_pending(db, account, message.conversation_id, now).await
        }
        _ => Ok(()),
    }
}

/// Marks a conversation's facts as out of date: one cheap insert in the
/// write itself, whatever the conversation's size. An existing mark is
/// touched, not skipped: the row lock this takes makes a refresher that
/// claimed the mark finish first (and this write then marks it again), and
/// makes refreshers skip the mark until this write commits.
pub(crate) async fn mark_pending<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ConversationId,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    db.exec(
        "INSERT INTO conversation_facts_pending (conversation_id, account_id, queued_at) VALUES ($1, $2, $3) \
         ON CONFLICT (conversation_id) DO UPDATE SET queued_at = conversation_facts_pending.queued_at",
        args![id.0, account.0, now],
    )
    .await
    .map(drop)
}

/// Recomputes the facts of up to `limit` marked conversations and unmarks
/// them, in this unit of work; returns how many. Marks another node is
/// refreshing, or an uncommitted write holds, are skipped; a write that
/// comes after a mark was claimed waits for this unit of work and marks
/// the conversation again, so no change is ever missed.
pub(super) async fn refresh_pending<D: Db>(db: &mut D, limit: u32) -> StorageResult<u64> {
    // Refreshes take turns (on the lock writers of rollups share): a report
    // read that refreshes first waits for a batch under way, so it never
    // misses a committed write that batch had claimed.
    db.serialize_on(vec![lock_key(&["ferry", "insight_rollups"])]).await?;
    // The conversation is locked with its mark: a write holding it (which
    // will mark it before it commits) is skipped rather than waited for,
    // and a write that comes later waits for this batch; so this unit of
    // work never waits for a writer that waits for it.
    let sql = format!(
        "SELECT p.conversation_id, p.account_id, p.queued_at FROM conversation_facts_pending p \
         JOIN conversations c ON c.id = p.conversation_id ORDER BY p.queued_at LIMIT $1{}",
        db.lock(Lock::SkipLocked)
    );
    let rows = db.rows(&sql, args![limit.clamp(1, 10_000)]).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for r in &rows {
        claimed.push((ConversationId(r.int(0)?), AccountId(r.int(1)?), r.time(2)?));
    }
    for (id, account, queued_at) in &claimed {
        refresh(db, *account, *id, *queued_at).await?;
    }
    let ids: Vec<i64> = claimed.iter().map(|(id, _, _)| id.0).collect();
    if !ids.is_empty() {
        let sql = format!(
            "DELETE FROM conversation_facts_pending WHERE conversation_id IN (SELECT value FROM {})",
            db.list("$1")
        );
        db.exec(&sql, args![ids]).await?;
    }
    Ok(claimed.len() as u64)
}

async fn record_changes<D: Db>(
    db: &mut D,
    account: AccountId,
    conv: &Conversation,
    changes: &[Change],
    now: DateTime<Utc>,
) -> StorageResult<()> {
    for ch in changes {
        if let Change::Status { from, to } = ch {
            let reason =
                if *from == Status::Bot && *to != Status::Resolved { conv.handoff_reason.clone() } else { None };
            db.exec(
                "INSERT INTO conversation_status_changes (account_id, conversation_id, from_status, to_status, \
                 reason, at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $6)",
                args![account.0, conv.id.0, from.as_str(), to.as_str(), reason, now],
            )
            .await?;
        }
    }
    Ok(())
}

/// The intent the bot answered most in a conversation (ties: by name); when
/// it answered none, the one it recognised and asks the buyer about (the
/// order number of a "where is my order").
fn main_intent(state: &serde_json::Value) -> Option<String> {
    let mut best: Option<(&String, u64)> = None;
    for (k, v) in state.get("answered").and_then(|a| a.as_object()).into_iter().flatten() {
        let n = v.as_u64().unwrap_or(0);
        if best.is_none_or(|(bk, bn)| n > bn || (n == bn && k < bk)) {
            best = Some((k, n));
        }
    }
    best.map(|(k, _)| k.clone())
        .or_else(|| state.get("awaiting").and_then(|a| a.get("intent")).and_then(|i| i.as_str()).map(str::to_owned))
}

/// SKUs of an order document's line items.
fn skus_of(doc: &serde_json::Value, out: &mut Vec<String>) {
    let Some(items) = doc.get("line_items").and_then(|v| v.as_array()) else { return };
    for i in items {
        if let Some(s) = i.get("sku").and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()) {
            out.push(s.to_owned());
        }
    }
}

/// Recomputes and stores the facts of one conversation.
pub(super) async fn refresh<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ConversationId,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let Some(conv) = get_conversation(db, account, id, Lock::None).await? else { return Ok(()) };
    let conv = &conv;
    let Some(ctx) = db
        .row(
            "SELECT a.timezone, i.channel, i.config, c.country, c.language, c.email, c.phone, \
             (SELECT rating FROM csat_surveys WHERE conversation_id = $4) \
             FROM accounts a, inboxes i, contacts c WHERE a.id = $1 AND i.id = $2 AND c.id = $3",
            args![account.0, conv.inbox_id.0, conv.contact_id.0, id.0],
        )
        .await?
    else {
        return Ok(());
    };
    let timezone = parse_timezone(&ctx.text(0)?).unwrap_or(chrono_tz::UTC);
    let channel = ctx.text(1)?;
    let config: InboxConfig = ctx.json(2, "inboxes.config")?;
    let hours = config.business_hours();
    let (email, phone) = (ctx.opt_text(5)?, ctx.opt_text(6)?);

    let mut messages = Vec::new();
    for r in db
        .rows(
            "SELECT kind, sender, sent_at FROM messages WHERE conversation_id = $1 \
             AND kind IN ('incoming', 'outgoing')",
            args![id.0],
        )
        .await?
    {
        let kind = if r.text(0)? == "incoming" { MessageKind::Incoming } else { MessageKind::Outgoing };
        messages.push(MessageTrace { kind, sender: r.json::<Sender>(1, "messages.sender")?, sent_at: r.time(2)? });
    }
    let mut changes = Vec::new();
    for r in db
        .rows(
            "SELECT from_status, to_status, reason, at FROM conversation_status_changes \
             WHERE conversation_id = $1 ORDER BY id",
            args![id.0],
        )
        .await?
    {
        let status = |s: String| s.parse::<Status>().map_err(|e| crate::StorageError::Corrupt(e.to_string()));
        changes.push(StatusTrace {
            from: status(r.text(0)?)?,
            to: status(r.text(1)?)?,
            reason: r.opt_text(2)?,
            at: r.time(3)?,
        });
    }
    let intent = match db.row("SELECT state FROM bot_states WHERE conversation_id = $1", args![id.0]).await? {
        Some(r) => main_intent(&r.json::<serde_json::Value>(0, "bot_states.state")?),
        None => None,
    };
    let mut skus = Vec::new();
    // One lookup per key, each on its own index (an `OR` of the two, or an
    // order by date, lets the planner walk every order of the account).
    for (column, value) in [("email", email), ("phone", phone)] {
        let Some(value) = value else { continue };
        let sql = format!("SELECT document FROM shop_orders WHERE account_id = $1 AND {column} = $2 LIMIT $3");
        for r in db.rows(&sql, args![account.0, value, ORDERS_PER_BUYER]).await? {
            skus_of(&r.json::<serde_json::Value>(0, "shop_orders.document")?, &mut skus);
        }
    }
    let facts = compute_facts(&FactInput {
        conversation: conv,
        channel: &channel,
        hours: hours.as_ref(),
        timezone,
        country: ctx.opt_text(3)?,
        contact_language: ctx.opt_text(4)?,
        intent,
        messages: &messages,
        changes: &changes,
        skus,
        csat: ctx.opt_int(7)?,
    });
    // As stored (times to the microsecond, tags in order), so an unchanged
    // row compares equal.
    let mut facts = facts;
    facts.opened_at = micros(facts.opened_at);
    facts.resolved_at = facts.resolved_at.map(micros);
    facts.tags.sort();
    let old = load_facts(db, account, id).await?;
    store_facts(db, account, &facts, old.as_ref(), now).await?;
    // The buyer's topics and language follow their conversations' intents
    // and languages: only a change of those moves the profile.
    if old.as_ref().is_none_or(|o| o.intent != facts.intent || o.language != facts.language) {
        super::profiles::refresh_profile(db, account, conv.contact_id, now).await?;
    }
    Ok(())
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Records the buyer's rating in the conversation's facts and the
/// rollups, in the answer's write.
pub(crate) async fn record_rating<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ConversationId,
    rating: i64,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let Some(old) = load_facts(db, account, id).await? else { return Ok(()) };
    let new = ConversationFacts { csat: Some(rating), ..old.clone() };
    if new == old {
        return Ok(());
    }
    db.exec(
        "UPDATE conversation_facts SET csat = $2, updated_at = $3 WHERE conversation_id = $1",
        args![id.0, rating, now],
    )
    .await?;
    apply_rollups(db, account, delta(Some(&old), Some(&new)), now).await
}

/// Takes the conversations of an inbox about to be deleted out of the
/// rollups (their facts go with them).
pub(crate) async fn forget_inbox<D: Db>(
    db: &mut D,
    account: AccountId,
    inbox: i64,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let sql = format!(
        "SELECT {FACT_COLS_F}, v.dimension, v.value, v.weight FROM conversation_facts f \
         LEFT JOIN conversation_fact_values v ON v.conversation_id = f.conversation_id \
         WHERE f.account_id = $1 AND f.inbox_id = $2 ORDER BY f.conversation_id"
    );
    let rows = db.rows(&sql, args![account.0, inbox]).await?;
    let mut total: BTreeMap<RollupKey, RollupCell> = BTreeMap::new();
    let mut i = 0;
    while i < rows.len() {
        let id = rows[i].int(0)?;
        let j = i + rows[i..].iter().take_while(|r| r.int(0).is_ok_and(|x| x == id)).count();
        let facts = facts_with_values(&rows[i..j])?;
        for (k, c) in contributions(&facts) {
            total.entry(k).or_default().add(&c, -1);
        }
        i = j;
    }
    total.retain(|_, c| !c.is_empty());
    apply_rollups(db, account, total, now).await
}

/// The stored facts of a conversation, with their values.
async fn load_facts<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ConversationId,
) -> StorageResult<Option<ConversationFacts>> {
    let sql = format!(
        "SELECT {FACT_COLS_F}, v.dimension, v.value, v.weight FROM conversation_facts f \
         LEFT JOIN conversation_fact_values v ON v.conversation_id = f.conversation_id \
         WHERE f.conversation_id = $1 AND f.account_id = $2"
    );
    let rows = db.rows(&sql, args![id.0, account.0]).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    facts_with_values(&rows).map(Some)
}

/// Facts from rows of [`FACT_COLS_F`] followed by a value's dimension,
/// value and weight (NULL when it has none).
fn facts_with_values(rows: &[Row]) -> StorageResult<ConversationFacts> {
    let Some(first) = rows.first() else { return Err(crate::StorageError::NotFound) };
    let mut values = Vec::new();
    for r in rows {
        if let Some(dim) = r.opt_text(FACT_COUNT)? {
            values.push((dim, r.text(FACT_COUNT + 1)?, r.int(FACT_COUNT + 2)?));
        }
    }
    facts_of(first, values)
}

/// Rollup rows are written in chunks of this many (bound parameters stay
/// well under either database's limit).
const ROLLUP_CHUNK: usize = 400;

const TOTAL: &str = "all";

fn dimension_name(d: Option<Dimension>) -> &'static str {
    d.map_or(TOTAL, Dimension::as_str)
}

fn rollup_cols() -> String {
    count::NAMES.iter().chain(duration::NAMES.iter()).copied().collect::<Vec<_>>().join(", ")
}

fn rollup_cell(r: &Row, from: usize) -> StorageResult<RollupCell> {
    let mut cell = RollupCell::default();
    for (i, c) in cell.counts.iter_mut().enumerate() {
        *c = r.int(from + i)?;
    }
    let from = from + cell.counts.len();
    for (i, d) in cell.durations.iter_mut().enumerate() {
        *d = decode_multiset(&r.text(from + i)?).map_err(crate::StorageError::Corrupt)?;
    }
    Ok(cell)
}

/// Adds `delta` to the rollups: the cells are created if missing and
/// locked and read in one statement (in key order, so concurrent writes
/// take their locks in the same order), then written back in another;
/// cells left empty are deleted.
async fn apply_rollups<D: Db>(
    db: &mut D,
    account: AccountId,
    delta: BTreeMap<RollupKey, RollupCell>,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    if delta.is_empty() {
        return Ok(());
    }
    // Rollup rows are shared by many conversations (today's, for one), and
    // a unit of work may change those of several: writers of rollups take
    // turns, so two of them never hold rows the other waits for. (A no-op
    // where writes are serial anyway.)
    db.serialize_on(vec![lock_key(&["ferry", "insight_rollups"])]).await?;
    let cols = rollup_cols();
    let delta: Vec<(RollupKey, RollupCell)> = delta.into_iter().collect();
    for chunk in delta.chunks(ROLLUP_CHUNK) {
        let mut args = args![account.0, now];
        let mut tuples = Vec::with_capacity(chunk.len());
        for ((dim, key, day), _) in chunk {
            let n = args.len();
            tuples.push(format!("($1, ${}, ${}, ${}, ${}, $2, $2)", n + 1, n + 2, n + 3, n + 4));
            args.extend([
                Arg::from(dimension_name(*dim)),
                Arg::from(key.is_some()),
                Arg::from(key.clone().unwrap_or_default()),
                Arg::from(*day),
            ]);
        }
        let sql = format!(
            "INSERT INTO insight_rollups (account_id, dimension, keyed, value, day, created_at, updated_at) \
             VALUES {} ON CONFLICT (account_id, dimension, day, keyed, value) \
             DO UPDATE SET updated_at = excluded.updated_at RETURNING dimension, keyed, value, day, {cols}",
            tuples.join(", ")
        );
        let mut current: BTreeMap<(String, bool, String, i64), RollupCell> = BTreeMap::new();
        for r in db.rows(&sql, args).await? {
            current.insert((r.text(0)?, r.flag(1)?, r.text(2)?, r.int(3)?), rollup_cell(&r, 4)?);
        }
        let mut args = args![account.0, now];
        let mut tuples = Vec::with_capacity(chunk.len());
        let mut empty = Vec::new();
        for ((dim, key, day), d) in chunk {
            let k = (dimension_name(*dim).to_owned(), key.is_some(), key.clone().unwrap_or_default(), *day);
            let mut cell = current.remove(&k).unwrap_or_default();
            cell.add(d, 1);
            let n = args.len();
            let width = 4 + cell.counts.len() + cell.durations.len();
            let params: Vec<String> = (1..=width).map(|i| format!("${}", n + i)).collect();
            tuples.push(format!("($1, {}, $2, $2)", params.join(", ")));
            if cell.is_empty() {
                empty.push(k.clone());
            }
            args.extend([Arg::from(k.0), Arg::from(k.1), Arg::from(k.2), Arg::from(k.3)]);
            args.extend(cell.counts.iter().map(|c| Arg::from(*c)));
            args.extend(cell.durations.iter().map(|m| Arg::from(encode_multiset(m))));
        }
        let set: Vec<String> =
            count::NAMES.iter().chain(duration::NAMES.iter()).map(|c| format!("{c} = excluded.{c}")).collect();
        let sql = format!(
            "INSERT INTO insight_rollups (account_id, dimension, keyed, value, day, {cols}, created_at, updated_at) \
             VALUES {} ON CONFLICT (account_id, dimension, day, keyed, value) DO UPDATE SET {}, \
             updated_at = excluded.updated_at",
            tuples.join(", "),
            set.join(", ")
        );
        db.exec(&sql, args).await?;
        if !empty.is_empty() {
            let mut args = args![account.0];
            let mut conds = Vec::with_capacity(empty.len());
            for (dim, keyed, value, day) in empty {
                let n = args.len();
                conds.push(format!(
                    "(dimension = ${} AND day = ${} AND keyed = ${} AND value = ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4
                ));
                args.extend([Arg::from(dim), Arg::from(day), Arg::from(keyed), Arg::from(value)]);
            }
            let sql = format!("DELETE FROM insight_rollups WHERE account_id = $1 AND ({})", conds.join(" OR "));
            db.exec(&sql, args).await?;
        }
    }
    Ok(())
}

/// Refreshes every marked conversation, batch by batch: what reads of
/// facts do first, so they count every committed write.
pub(super) async fn flush_pending<B: Backend>(b: &B) -> StorageResult<()> {
    while b.write(|db| Box::pin(async move { refresh_pending(db, FACTS_BATCH).await })).await? >= u64::from(FACTS_BATCH)
    {
    }
    Ok(())
}

async fn store_facts<D: Db>(
    db: &mut D,
    account: AccountId,
    f: &ConversationFacts,
    old: Option<&ConversationFacts>,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    // Most messages change no figure: nothing to write.
    if old == Some(f) {
        return Ok(());
    }
    db.exec(
        "INSERT INTO conversation_facts (conversation_id, account_id, inbox_id, channel, country, language, intent, \
         team_id, assignee_id, status, opened_at, opened_day, resolved_at, resolved_day, started_with_bot, \
         handed_off, handoff_reason, bot_contained, reopen_count, agent_replies, bot_replies, buyer_messages, \
         first_responder_id, first_response_secs, first_response_business_secs, next_response_count, \
         next_response_secs, next_response_business_secs, resolution_secs, resolution_business_secs, \
         created_at, updated_at, csat) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $31, $32) \
         ON CONFLICT (conversation_id) DO UPDATE SET inbox_id = excluded.inbox_id, channel = excluded.channel, \
         country = excluded.country, language = excluded.language, intent = excluded.intent, \
         team_id = excluded.team_id, assignee_id = excluded.assignee_id, status = excluded.status, \
         opened_at = excluded.opened_at, opened_day = excluded.opened_day, resolved_at = excluded.resolved_at, \
         resolved_day = excluded.resolved_day, started_with_bot = excluded.started_with_bot, \
         handed_off = excluded.handed_off, handoff_reason = excluded.handoff_reason, \
         bot_contained = excluded.bot_contained, reopen_count = excluded.reopen_count, \
         agent_replies = excluded.agent_replies, bot_replies = excluded.bot_replies, \
         buyer_messages = excluded.buyer_messages, first_responder_id = excluded.first_responder_id, \
         first_response_secs = excluded.first_response_secs, \
         first_response_business_secs = excluded.first_response_business_secs, \
         next_response_count = excluded.next_response_count, next_response_secs = excluded.next_response_secs, \
         next_response_business_secs = excluded.next_response_business_secs, \
         resolution_secs = excluded.resolution_secs, resolution_business_secs = excluded.resolution_business_secs, \
         updated_at = excluded.updated_at, csat = excluded.csat",
        vec![
            Arg::from(f.conversation_id.0),
            Arg::from(account.0),
            Arg::from(f.inbox_id),
            Arg::from(f.channel.as_str()),
            Arg::from(&f.country),
            Arg::from(&f.language),
            Arg::from(&f.intent),
            Arg::from(f.team_id),
            Arg::from(f.assignee_id),
            Arg::from(f.status.as_str()),
            Arg::from(f.opened_at),
            Arg::from(f.opened_day),
            Arg::from(f.resolved_at),
            Arg::from(f.resolved_day),
            Arg::from(f.started_with_bot),
            Arg::from(f.handed_off),
            Arg::from(&f.handoff_reason),
            Arg::from(f.bot_contained),
            Arg::from(f.reopen_count),
            Arg::from(f.agent_replies),
            Arg::from(f.bot_replies),
            Arg::from(f.buyer_messages),
            Arg::from(f.first_responder.map(|u| u.0)),
            Arg::from(f.first_response_secs),
            Arg::from(f.first_response_business_secs),
            Arg::from(f.next_response_count),
            Arg::from(f.next_response_secs),
            Arg::from(f.next_response_business_secs),
            Arg::from(f.resolution_secs),
            Arg::from(f.resolution_business_secs),
            Arg::from(now),
            Arg::from(f.csat),
        ],
    )
    .await?;
    apply_rollups(db, account, delta(old, Some(f)), now).await?;
    let mut values: Vec<(&str, String, i64)> = Vec::new();
    values.extend(f.tags.iter().map(|t| (Dimension::Tag.as_str(), t.clone(), 1)));
    values.extend(f.skus.iter().map(|s| (Dimension::Sku.as_str(), s.clone(), 1)));
    values.extend(f.replies_by.iter().map(|(u, n)| (Dimension::Replier.as_str(), u.0.to_string(), *n)));
    // Unchanged values (the common case) are left alone.
    if old.is_some_and(|o| o.tags == f.tags && o.skus == f.skus && o.replies_by == f.replies_by) {
        return Ok(());
    }
    db.exec("DELETE FROM conversation_fact_values WHERE conversation_id = $1", args![f.conversation_id.0]).await?;
    for (dim, value, weight) in values {
        db.exec(
            "INSERT INTO conversation_fact_values (conversation_id, account_id, dimension, value, weight, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
            args![f.conversation_id.0, account.0, dim, value, weight, now],
        )
        .await?;
    }
    Ok(())
}

/// Columns of a report row after the conversation id and key.
const ROW_COLS: &str = "f.opened_day, f.resolved_day, f.started_with_bot, f.handed_off, f.bot_contained, \
     f.reopen_count, f.agent_replies, f.first_responder_id, f.assignee_id, f.first_response_secs, \
     f.first_response_business_secs, f.next_response_secs, f.next_response_business_secs, f.resolution_secs, \
     f.resolution_business_secs, f.csat";

fn insight_row(r: &Row) -> StorageResult<InsightRow> {
    Ok(InsightRow {
        conversation_id: r.int(0)?,
        key: match r.0.get(1) {
            Some(crate::db::Cell::Int(v)) => Some(v.to_string()),
            _ => r.opt_text(1)?,
        },
        weight: r.opt_int(2)?.unwrap_or(1),
        opened_day: r.int(3)?,
        resolved_day: r.opt_int(4)?,
        started_with_bot: r.flag(5)?,
        handed_off: r.flag(6)?,
        bot_contained: r.flag(7)?,
        reopen_count: r.int(8)?,
        agent_replies: r.int(9)?,
        first_responder: r.opt_int(10)?,
        assignee: r.opt_int(11)?,
        first_response_secs: r.opt_int(12)?,
        first_response_business_secs: r.opt_int(13)?,
        next_response_secs: r.opt_int(14)?,
        next_response_business_secs: r.opt_int(15)?,
        resolution_secs: r.opt_int(16)?,
        resolution_business_secs: r.opt_int(17)?,
        csat: r.opt_int(18)?,
    })
}

/// The key and weight columns and the join for a dimension.
fn key_of(by: Option<Dimension>) -> (&'static str, &'static str) {
    let multi = "LEFT JOIN conversation_fact_values v ON v.conversation_id = f.conversation_id AND v.dimension = $4";
    match by {
        None => ("NULL, NULL", ""),
        Some(Dimension::Channel) => ("f.channel, NULL", ""),
        Some(Dimension::Inbox) => ("f.inbox_id, NULL", ""),
        Some(Dimension::Country) => ("f.country, NULL", ""),
        Some(Dimension::Language) => ("f.language, NULL", ""),
        Some(Dimension::Intent) => ("f.intent, NULL", ""),
        Some(Dimension::Team) => ("f.team_id, NULL", ""),
        Some(Dimension::Agent) => ("f.assignee_id, NULL", ""),
        Some(Dimension::HandoffReason) => ("f.handoff_reason, NULL", ""),
        Some(Dimension::Tag | Dimension::Sku | Dimension::Replier) => ("v.value, v.weight", multi),
    }
}

/// The columns of a facts row, in [`facts_of`]'s order (`f` is the table).
const FACT_COLS_F: &str = "f.conversation_id, f.inbox_id, f.channel, f.country, f.language, f.intent, \
     f.team_id, f.assignee_id, f.status, f.opened_at, f.opened_day, f.resolved_at, f.resolved_day, \
     f.started_with_bot, f.handed_off, f.handoff_reason, f.bot_contained, f.reopen_count, f.agent_replies, \
     f.bot_replies, f.buyer_messages, f.first_responder_id, f.first_response_secs, \
     f.first_response_business_secs, f.next_response_count, f.next_response_secs, \
     f.next_response_business_secs, f.resolution_secs, f.resolution_business_secs, f.csat";

/// How many columns [`FACT_COLS_F`] has.
const FACT_COUNT: usize = 30;

fn facts_of(r: &Row, values: Vec<(String, String, i64)>) -> StorageResult<ConversationFacts> {
    let mut tags = Vec::new();
    let mut skus = Vec::new();
    let mut replies_by = Vec::new();
    for (dim, value, weight) in values {
        match dim.as_str() {
            "tag" => tags.push(value),
            "sku" => skus.push(value),
            "replier" => replies_by.push((UserId(value.parse().unwrap_or_default()), weight)),
            _ => {}
        }
    }
    tags.sort();
    skus.sort();
    replies_by.sort_by_key(|(u, _)| u.0);
    Ok(ConversationFacts {
        conversation_id: ConversationId(r.int(0)?),
        inbox_id: r.int(1)?,
        channel: r.text(2)?,
        country: r.opt_text(3)?,
        language: r.opt_text(4)?,
        intent: r.opt_text(5)?,
        team_id: r.opt_int(6)?,
        assignee_id: r.opt_int(7)?,
        status: r
            .text(8)?
            .parse()
            .map_err(|e: ferry_core::conversation::UnknownStatus| crate::StorageError::Corrupt(e.to_string()))?,
        opened_at: r.time(9)?,
        opened_day: r.int(10)?,
        resolved_at: r.opt_time(11)?,
        resolved_day: r.opt_int(12)?,
        started_with_bot: r.flag(13)?,
        handed_off: r.flag(14)?,
        handoff_reason: r.opt_text(15)?,
        bot_contained: r.flag(16)?,
        reopen_count: r.int(17)?,
        agent_replies: r.int(18)?,
        bot_replies: r.int(19)?,
        buyer_messages: r.int(20)?,
        replies_by,
        first_responder: r.opt_int(21)?.map(UserId),
        first_response_secs: r.opt_int(22)?,
        first_response_business_secs: r.opt_int(23)?,
        next_response_count: r.int(24)?,
        next_response_secs: r.opt_int(25)?,
        next_response_business_secs: r.opt_int(26)?,
        resolution_secs: r.opt_int(27)?,
        resolution_business_secs: r.opt_int(28)?,
        tags,
        skus,
        csat: r.opt_int(29)?,
    })
}

#[async_trait]
impl<B: Backend> InsightsRepo for B {
    async fn account_timezone(&self, account: AccountId) -> StorageResult<Option<String>> {
        self.read(move |db| {
            Box::pin(async move {
                db.row("SELECT timezone FROM accounts WHERE id = $1", args![account.0])
                    .await?
                    .map(|r| r.text(0))
                    .transpose()
            })
        })
        .await
    }

    async fn set_account_timezone(&self, account: AccountId, timezone: &str, now: DateTime<Utc>) -> StorageResult<()> {
        let timezone = timezone.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE accounts SET timezone = $2, updated_at = $3 WHERE id = $1",
                        args![account.0, timezone, now],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn insight_rows(&self, account: AccountId, query: InsightQuery) -> StorageResult<Vec<InsightRow>> {
        flush_pending(self).await?;
        self.read(move |db| {
            Box::pin(async move {
                let (key, join) = key_of(query.by);
                let sql = format!(
                    "SELECT f.conversation_id, {key}, {ROW_COLS} FROM conversation_facts f {join} \
                     WHERE f.account_id = $1 AND f.opened_day <= $3 \
                     AND (f.resolved_day IS NULL OR f.resolved_day >= $2)"
                );
                let mut args = args![account.0, query.from, query.until];
                if !join.is_empty() {
                    args.push(Arg::from(query.by.map_or("", Dimension::as_str)));
                }
                db.rows(&sql, args).await?.iter().map(insight_row).collect()
            })
        })
        .await
    }

    async fn rollup_rows(
        &self,
        account: AccountId,
        query: InsightQuery,
        before: bool,
    ) -> StorageResult<Vec<RollupRow>> {
        flush_pending(self).await?;
        self.read(move |db| {
            Box::pin(async move {
                let dim = dimension_name(query.by);
                let cols = rollup_cols();
                let sql = format!(
                    "SELECT keyed, value, day, {cols} FROM insight_rollups WHERE account_id = $1 \
                     AND dimension = $2 AND day >= $3 AND day <= $4"
                );
                let mut out = Vec::new();
                for r in db.rows(&sql, args![account.0, dim, query.from, query.until]).await? {
                    let key = if r.flag(0)? { Some(r.text(1)?) } else { None };
                    out.push(RollupRow { key, day: r.int(2)?, cell: rollup_cell(&r, 3)? });
                }
                if before {
                    let sql = "SELECT keyed, value, CAST(SUM(opened - resolved) AS BIGINT) FROM insight_rollups \
                               WHERE account_id = $1 AND dimension = $2 AND day < $3 GROUP BY keyed, value \
                               HAVING SUM(opened - resolved) <> 0";
                    for r in db.rows(sql, args![account.0, dim, query.from]).await? {
                        let key = if r.flag(0)? { Some(r.text(1)?) } else { None };
                        let mut cell = RollupCell::default();
                        cell.counts[count::OPENED] = r.int(2)?;
                        out.push(RollupRow { key, day: query.from - 1, cell });
                    }
                }
                Ok(out)
            })
        })
        .await
    }

    async fn conversation_facts(
        &self,
        account: AccountId,
        id: ConversationId,
    ) -> StorageResult<Option<ConversationFacts>> {
        flush_pending(self).await?;
        self.read(move |db| Box::pin(async move { load_facts(db, account, id).await })).await
    }

    async fn conversation_ids(
        &self,
        account: AccountId,
        after: Option<ConversationId>,
        limit: u32,
    ) -> StorageResult<Vec<ConversationId>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id FROM conversations WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                        args![account.0, after.map_or(0, |a| a.0), limit.clamp(1, 10_000)],
                    )
                    .await?;
                rows.iter().map(|r| Ok(ConversationId(r.int(0)?))).collect()
            })
        })
        .await
    }

    async fn refresh_facts(
        &self,
        account: AccountId,
        ids: Vec<ConversationId>,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                for id in ids {
                    refresh(db, account, id, now).await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn clear_facts(&self, account: AccountId) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec("DELETE FROM conversation_fact_values WHERE account_id = $1", args![account.0]).await?;
                db.exec("DELETE FROM insight_rollups WHERE account_id = $1", args![account.0]).await?;
                db.exec("DELETE FROM conversation_facts WHERE account_id = $1", args![account.0]).await
            })
        })
        .await
    }

    async fn refresh_pending_facts(&self, limit: u32) -> StorageResult<u64> {
        self.write(move |db| Box::pin(async move { refresh_pending(db, limit).await })).await
    }

    async fn accounts_pending_rollups(&self) -> StorageResult<Vec<AccountId>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows =
                    db.rows("SELECT id FROM accounts WHERE rollups_pending = $1 ORDER BY id", args![true]).await?;
                rows.iter().map(|r| Ok(AccountId(r.int(0)?))).collect()
            })
        })
        .await
    }

    async fn rollups_built(&self, account: AccountId, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE accounts SET rollups_pending = $2, updated_at = $3 WHERE id = $1 AND rollups_pending = $4",
                    args![account.0, false, now, true],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn account_ids(&self) -> StorageResult<Vec<AccountId>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db.rows("SELECT id FROM accounts ORDER BY id", Vec::new()).await?;
                rows.iter().map(|r| Ok(AccountId(r.int(0)?))).collect()
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_main_intent_is_the_most_answered() {
        let s = serde_json::json!({"answered": {"where_is_my_order": 2, "returns": 3, "faq:7": 3}});
        assert_eq!(main_intent(&s).as_deref(), Some("faq:7"));
        assert_eq!(main_intent(&serde_json::json!({})), None);
    }

    #[test]
    fn without_an_answer_the_main_intent_is_the_one_asked_about() {
        let s = serde_json::json!({"answered": {}, "awaiting": {"intent": "order_status", "slot": "order_number", "asked": 1}});
        assert_eq!(main_intent(&s).as_deref(), Some("order_status"));
        let s = serde_json::json!({"answered": {"greeting": 1}, "awaiting": {"intent": "order_status"}});
        assert_eq!(main_intent(&s).as_deref(), Some("greeting"), "an answer counts first");
        assert_eq!(main_intent(&serde_json::json!({})), None);
    }

    #[test]
    fn skus_come_from_line_items() {
        let mut out = Vec::new();
        skus_of(&serde_json::json!({"line_items": [{"sku": "A-1"}, {"sku": " "}, {"title": "x"}]}), &mut out);
        assert_eq!(out, vec!["A-1".to_owned()]);
    }
}
