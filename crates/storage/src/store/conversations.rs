//! Conversations: reads, filters, counts and the transition script.

use super::messages::{activity, insert_message};
use super::{Query, insert};
use crate::args;
use crate::db::{Backend, Db, Lock, Row};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::ConversationRepo;
use crate::rows::{ConversationRow, escape_like};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::conversation::{Conversation, Status};
use ferry_core::event::Event;
use ferry_core::{AccountId, ConversationId, UserId};

pub(super) const CONV_COLS: &str = "id, account_id, inbox_id, contact_id, status, assignee_id, team_id, priority, \
     language, tags, snoozed_until, handoff_reason, last_buyer_message_at, first_reply_at, resolved_at, \
     last_activity_at, created_at, updated_at";

pub(super) fn conversation(r: &Row) -> StorageResult<Conversation> {
    Conversation::try_from(ConversationRow {
        id: r.int(0)?,
        account_id: r.int(1)?,
        inbox_id: r.int(2)?,
        contact_id: r.int(3)?,
        status: r.text(4)?,
        assignee_id: r.opt_int(5)?,
        team_id: r.opt_int(6)?,
        priority: r.text(7)?,
        language: r.opt_text(8)?,
        tags: r.text(9)?,
        snoozed_until: r.opt_time(10)?,
        handoff_reason: r.opt_text(11)?,
        last_buyer_message_at: r.opt_time(12)?,
        first_reply_at: r.opt_time(13)?,
        resolved_at: r.opt_time(14)?,
        last_activity_at: r.time(15)?,
        created_at: r.time(16)?,
        updated_at: r.time(17)?,
    })
}

pub(super) async fn get_conversation<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ConversationId,
    lock: Lock,
) -> StorageResult<Option<Conversation>> {
    let sql = format!("SELECT {CONV_COLS} FROM conversations WHERE account_id = $1 AND id = $2{}", db.lock(lock));
    db.row(&sql, args![account.0, id.0]).await?.as_ref().map(conversation).transpose()
}

pub(super) async fn insert_conversation<D: Db>(db: &mut D, c: &mut Conversation) -> StorageResult<()> {
    let id = insert(
        db,
        "INSERT INTO conversations (account_id, inbox_id, contact_id, status, assignee_id, team_id, priority, language, \
         tags, snoozed_until, handoff_reason, last_buyer_message_at, first_reply_at, resolved_at, last_activity_at, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
        args![
            c.account_id.0,
            c.inbox_id.0,
            c.contact_id.0,
            c.status.as_str(),
            c.assignee_id.map(|x| x.0),
            c.team_id.map(|x| x.0),
            c.priority.as_str(),
            &c.language,
            crate::db::Arg::json(&c.tags),
            c.snoozed_until,
            &c.handoff_reason,
            c.last_buyer_message_at,
            c.first_reply_at,
            c.resolved_at,
            c.last_activity_at,
            c.created_at,
            c.updated_at,
        ],
    )
    .await?;
    c.id = ConversationId(id);
    Ok(())
}

pub(super) async fn save_conversation<D: Db>(db: &mut D, c: &Conversation) -> StorageResult<()> {
    let n = db
        .exec(
            "UPDATE conversations SET status = $3, assignee_id = $4, team_id = $5, priority = $6, language = $7, \
             tags = $8, snoozed_until = $9, handoff_reason = $10, last_buyer_message_at = $11, first_reply_at = $12, \
             resolved_at = $13, last_activity_at = $14, updated_at = $15 WHERE account_id = $1 AND id = $2",
            args![
                c.account_id.0,
                c.id.0,
                c.status.as_str(),
                c.assignee_id.map(|x| x.0),
                c.team_id.map(|x| x.0),
                c.priority.as_str(),
                &c.language,
                crate::db::Arg::json(&c.tags),
                c.snoozed_until,
                &c.handoff_reason,
                c.last_buyer_message_at,
                c.first_reply_at,
                c.resolved_at,
                c.last_activity_at,
                c.updated_at,
            ],
        )
        .await?;
    crate::db::found(n)
}

/// Appends the conditions of a conversation filter.
fn push_filter<D: Db>(db: &D, q: &mut Query, account: AccountId, f: &ConversationFilter, with_status: bool) {
    q.push(" WHERE account_id = ").bind(account.0);
    if with_status && let Some(s) = f.status {
        q.push(" AND status = ").bind(s.as_str());
    }
    match f.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => {
            q.push(" AND assignee_id IS NULL");
        }
        AssigneeFilter::User(u) => {
            q.push(" AND assignee_id = ").bind(u.0);
        }
    }
    if let Some(t) = f.team_id {
        q.push(" AND team_id = ").bind(t.0);
    }
    if let Some(i) = f.inbox_id {
        q.push(" AND inbox_id = ").bind(i.0);
    }
    if let Some(c) = f.contact_id {
        q.push(" AND contact_id = ").bind(c.0);
    }
    if let Some(tag) = &f.tag {
        q.push(&format!(" AND EXISTS (SELECT 1 FROM {} WHERE t.value = ", db.json_elements("conversations.tags")));
        q.bind(tag.as_str()).push(")");
    }
    if let Some(l) = &f.language {
        q.push(" AND (language = ").bind(l.as_str());
        q.push(" OR language LIKE ").bind(format!("{}-%", escape_like(l))).push(" ESCAPE '\\')");
    }
}

#[async_trait]
impl<B: Backend> ConversationRepo for B {
    async fn get_conversation(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<Conversation>> {
        self.read(move |db| Box::pin(get_conversation(db, account, id, Lock::None))).await
    }

    async fn list_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
        after: Option<ConversationCursor>,
        limit: u32,
    ) -> StorageResult<ConversationPage> {
        let filter = filter.clone();
        let limit = limit.clamp(1, 200);
        self.read(move |db| {
            Box::pin(async move {
                let mut q = Query::new(format!("SELECT {CONV_COLS} FROM conversations"));
                push_filter(db, &mut q, account, &filter, true);
                if let Some(cur) = after {
                    q.push(" AND (last_activity_at < ").bind(cur.last_activity_at);
                    q.push(" OR (last_activity_at = ").bind(cur.last_activity_at);
                    q.push(" AND id < ").bind(cur.id.0).push("))");
                }
                q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ").bind(i64::from(limit) + 1);
                let rows = db.rows(&q.sql, q.args).await?;
                let mut items = rows.iter().map(conversation).collect::<StorageResult<Vec<_>>>()?;
                let next = if items.len() > limit as usize {
                    items.truncate(limit as usize);
                    items.last().map(|l| ConversationCursor { last_activity_at: l.last_activity_at, id: l.id })
                } else {
                    None
                };
                Ok(ConversationPage { items, next })
            })
        })
        .await
    }

    async fn count_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
    ) -> StorageResult<Vec<(Status, u64)>> {
        let filter = filter.clone();
        self.read(move |db| {
            Box::pin(async move {
                let mut q = Query::new("SELECT status, COUNT(*) FROM conversations");
                push_filter(db, &mut q, account, &filter, false);
                q.push(" GROUP BY status");
                let mut counts = Vec::new();
                for r in db.rows(&q.sql, q.args).await? {
                    counts.push((r.text(0)?, r.count(1)?));
                }
                Ok(Status::ALL
                    .iter()
                    .map(|s| (*s, counts.iter().find(|(n, _)| n == s.as_str()).map_or(0, |(_, k)| *k)))
                    .collect())
            })
        })
        .await
    }

    async fn assigned_load(&self, account: AccountId) -> StorageResult<Vec<(UserId, u64)>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT assignee_id, COUNT(*) FROM conversations WHERE account_id = $1 \
                         AND status IN ('open', 'pending') AND assignee_id IS NOT NULL GROUP BY assignee_id",
                        args![account.0],
                    )
                    .await?;
                rows.iter().map(|r| Ok((UserId(r.int(0)?), r.count(1)?))).collect()
            })
        })
        .await
    }

    async fn update_conversation(
        &self,
        account: AccountId,
        id: ConversationId,
        update: ConversationUpdate,
    ) -> StorageResult<UpdatedConversation> {
        self.write(move |db| {
            Box::pin(async move {
                let mut conv = get_conversation(db, account, id, Lock::Update).await?.ok_or(StorageError::NotFound)?;
                let changes = update.apply(&mut conv)?;
                if changes.is_empty() {
                    return Ok(UpdatedConversation { conversation: conv, changes, activities: Vec::new() });
                }
                let texts: Vec<String> = changes.iter().filter_map(|ch| (update.describe)(ch)).collect();
                save_conversation(db, &conv).await?;
                let mut activities = Vec::new();
                for text in texts {
                    let mut m = activity(&conv, text, update.now);
                    insert_message(db, &mut m).await?;
                    let event = Event::MessageCreated { message: m.clone() };
                    super::outbox::append_event(db, account, &event, update.now).await?;
                    activities.push(m);
                }
                let event = Event::ConversationUpdated { conversation: conv.clone(), changes: changes.clone() };
                super::outbox::append_event(db, account, &event, update.now).await?;
                for job in &update.jobs {
                    super::jobs::insert_job(db, job, update.now).await?;
                }
                Ok(UpdatedConversation { conversation: conv, changes, activities })
            })
        })
        .await
    }

    async fn due_snoozed(&self, now: DateTime<Utc>, limit: u32) -> StorageResult<Vec<(AccountId, ConversationId)>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT account_id, id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= $1 \
                         ORDER BY snoozed_until, id LIMIT $2",
                        args![now, limit],
                    )
                    .await?;
                rows.iter().map(|r| Ok((AccountId(r.int(0)?), ConversationId(r.int(1)?)))).collect()
            })
        })
        .await
    }

    async fn list_tags(&self, account: AccountId) -> StorageResult<Vec<TagCount>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT t.value, COUNT(*) FROM conversations c, {} WHERE c.account_id = $1 \
                     GROUP BY t.value ORDER BY COUNT(*) DESC, t.value{}",
                    db.json_elements("c.tags"),
                    db.bytewise()
                );
                let rows = db.rows(&sql, args![account.0]).await?;
                rows.iter().map(|r| Ok(TagCount { tag: r.text(0)?, conversations: r.count(1)? })).collect()
            })
        })
        .await
    }
}
