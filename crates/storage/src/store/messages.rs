//! Messages: reads, search, posting and delivery reports.

use super::conversations::{get_conversation, save_conversation};
use super::insert;
use super::outbox::append_event;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::MessageRepo;
use crate::rows::{MessageRow, contains_pattern, search_text};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::conversation::Conversation;
use ferry_core::event::Event;
use ferry_core::message::{ContentPart, DeliveryStatus, Message, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId, MessageId};

pub(super) const MSG_COLS: &str = "id, account_id, inbox_id, conversation_id, kind, sender, parts, external_id, \
     delivery_state, delivery_error, sent_at, created_at, meta";

pub(super) fn message(r: &Row) -> StorageResult<Message> {
    Message::try_from(MessageRow {
        id: r.int(0)?,
        account_id: r.int(1)?,
        inbox_id: r.int(2)?,
        conversation_id: r.int(3)?,
        kind: r.text(4)?,
        sender: r.text(5)?,
        parts: r.text(6)?,
        external_id: r.opt_text(7)?,
        delivery_state: r.opt_text(8)?,
        delivery_error: r.opt_text(9)?,
        sent_at: r.time(10)?,
        created_at: r.time(11)?,
        meta: r.opt_text(12)?,
    })
}

pub(super) async fn get_message<D: Db>(
    db: &mut D,
    account: AccountId,
    id: MessageId,
    lock: Lock,
) -> StorageResult<Option<Message>> {
    let sql = format!("SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND id = $2{}", db.lock(lock));
    db.row(&sql, args![account.0, id.0]).await?.as_ref().map(message).transpose()
}

/// The stored delivery state and failure reason of a status.
fn delivery_columns(d: Option<&DeliveryStatus>) -> (Option<&'static str>, Option<String>) {
    let reason = match d {
        Some(DeliveryStatus::Failed { reason }) => Some(reason.clone()),
        _ => None,
    };
    (d.map(DeliveryStatus::as_str), reason)
}

pub(super) async fn insert_message<D: Db>(db: &mut D, m: &mut Message) -> StorageResult<()> {
    let (state, error) = delivery_columns(m.delivery.as_ref());
    let id = insert(
        db,
        "INSERT INTO messages (account_id, inbox_id, conversation_id, kind, sender, parts, search_text, external_id, \
         delivery_state, delivery_error, sent_at, created_at, updated_at, meta) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING id",
        args![
            m.account_id.0,
            m.inbox_id.0,
            m.conversation_id.0,
            m.kind.as_str(),
            Arg::json(&m.sender),
            Arg::json(&m.parts),
            search_text(m),
            &m.external_id,
            state,
            error,
            m.sent_at,
            m.created_at,
            Arg::json(&m.meta),
        ],
    )
    .await?;
    m.id = MessageId(id);
    Ok(())
}

/// An activity line of a conversation, not yet stored.
pub(super) fn activity(conv: &Conversation, text: String, now: DateTime<Utc>) -> Message {
    Message {
        id: MessageId(0),
        account_id: conv.account_id,
        inbox_id: conv.inbox_id,
        conversation_id: conv.id,
        kind: MessageKind::Activity,
        sender: Sender::System,
        parts: vec![ContentPart::Text { text }],
        external_id: None,
        delivery: None,
        sent_at: now,
        created_at: now,
        meta: Default::default(),
    }
}

#[async_trait]
impl<B: Backend> MessageRepo for B {
    async fn get_message(&self, account: AccountId, id: MessageId) -> StorageResult<Option<Message>> {
        self.read(move |db| Box::pin(get_message(db, account, id, Lock::None))).await
    }

    async fn find_sent_message(
        &self,
        account: AccountId,
        inbox: ferry_core::InboxId,
        external_id: &str,
    ) -> StorageResult<Option<Message>> {
        let external_id = external_id.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND inbox_id = $2 AND external_id = $3 \
                     AND kind = 'outgoing' ORDER BY id DESC LIMIT 1"
                );
                db.row(&sql, args![account.0, inbox.0, external_id]).await?.as_ref().map(message).transpose()
            })
        })
        .await
    }

    async fn find_received_message(
        &self,
        account: AccountId,
        inbox: ferry_core::InboxId,
        external_id: &str,
    ) -> StorageResult<Option<Message>> {
        let external_id = external_id.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND inbox_id = $2 AND external_id = $3 \
                     AND kind = 'incoming'"
                );
                db.row(&sql, args![account.0, inbox.0, external_id]).await?.as_ref().map(message).transpose()
            })
        })
        .await
    }

    async fn change_message(
        &self,
        account: AccountId,
        id: MessageId,
        change: ferry_core::message::MessageChange,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>> {
        self.write(move |db| {
            Box::pin(async move {
                let mut m = get_message(db, account, id, Lock::Update).await?.ok_or(StorageError::NotFound)?;
                if !m.apply(change) {
                    return Ok(None);
                }
                db.exec(
                    "UPDATE messages SET parts = $3, search_text = $4, meta = $5, updated_at = $6 \
                     WHERE account_id = $1 AND id = $2",
                    args![account.0, id.0, Arg::json(&m.parts), search_text(&m), Arg::json(&m.meta), now],
                )
                .await?;
                append_event(db, account, &Event::MessageUpdated { message: m.clone() }, now).await?;
                Ok(Some(m))
            })
        })
        .await
    }

    async fn requeue_delivery(
        &self,
        account: AccountId,
        id: MessageId,
        job: NewJob,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>> {
        self.write(move |db| {
            Box::pin(async move {
                let mut m = get_message(db, account, id, Lock::Update).await?.ok_or(StorageError::NotFound)?;
                if !matches!(m.delivery, Some(DeliveryStatus::Failed { .. })) || m.kind != MessageKind::Outgoing {
                    return Ok(None);
                }
                db.exec(
                    "UPDATE messages SET delivery_state = 'queued', delivery_error = NULL, updated_at = $3 \
                     WHERE account_id = $1 AND id = $2",
                    args![account.0, id.0, now],
                )
                .await?;
                super::jobs::insert_job(db, &job, now).await?;
                m.delivery = Some(DeliveryStatus::Queued);
                append_event(db, account, &Event::MessageUpdated { message: m.clone() }, now).await?;
                Ok(Some(m))
            })
        })
        .await
    }

    async fn list_deliveries(
        &self,
        account: AccountId,
        state: &str,
        before: Option<MessageId>,
        limit: u32,
    ) -> StorageResult<Vec<Message>> {
        let state = state.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND delivery_state = $2 \
                     AND delivery_state IN ('queued', 'failed') AND kind = 'outgoing' AND id < $3 \
                     ORDER BY id DESC LIMIT $4"
                );
                let rows = db.rows(&sql, args![account.0, state, before.map_or(i64::MAX, |b| b.0), limit]).await?;
                rows.iter().map(message).collect()
            })
        })
        .await
    }

    async fn list_messages(
        &self,
        account: AccountId,
        conversation: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> StorageResult<Vec<Message>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND conversation_id = $2 AND id < $3 \
                     ORDER BY id DESC LIMIT $4"
                );
                let before = before.map_or(i64::MAX, |b| b.0);
                let rows = db.rows(&sql, args![account.0, conversation.0, before, limit.clamp(1, 500)]).await?;
                rows.iter().rev().map(message).collect()
            })
        })
        .await
    }

    async fn post_message(&self, account: AccountId, new: NewMessage) -> StorageResult<PostedMessage> {
        self.write(move |db| {
            Box::pin(async move {
                let mut conv = get_conversation(db, account, new.conversation_id, Lock::Update)
                    .await?
                    .ok_or(StorageError::NotFound)?;
                let changes = match new.transition {
                    Some(t) => conv.apply(t, new.now)?,
                    None => Vec::new(),
                };
                let described: Vec<String> = match &new.describe {
                    Some(describe) => changes.iter().filter_map(describe).collect(),
                    None => Vec::new(),
                };
                if new.kind != MessageKind::Note {
                    conv.last_activity_at = conv.last_activity_at.max(new.now);
                    conv.updated_at = new.now;
                }
                save_conversation(db, &conv).await?;
                let mut m = Message {
                    id: MessageId(0),
                    account_id: account,
                    inbox_id: conv.inbox_id,
                    conversation_id: conv.id,
                    kind: new.kind,
                    sender: new.sender,
                    parts: new.parts,
                    external_id: None,
                    delivery: new.delivery,
                    sent_at: new.now,
                    created_at: new.now,
                    meta: Default::default(),
                };
                insert_message(db, &mut m).await?;
                let mut activities = Vec::new();
                for text in described {
                    let mut a = activity(&conv, text, new.now);
                    insert_message(db, &mut a).await?;
                    activities.push(a);
                }
                if let Some(job) = new.job {
                    super::jobs::insert_job(db, &job(&m), new.now).await?;
                }
                if let Some(state) = &new.bot_state {
                    super::bot::put_bot_state(db, account, conv.id, state, new.now).await?;
                }
                if let Some(send) = new.notice_send {
                    let n = db
                        .exec(
                            "UPDATE notice_sends SET state = 'sent', message_id = $3, conversation_id = $4, \
                             updated_at = $5 WHERE account_id = $1 AND id = $2 AND state = 'scheduled'",
                            args![account.0, send, m.id.0, conv.id.0, new.now],
                        )
                        .await?;
                    if n == 0 {
                        return Err(StorageError::Conflict { constraint: "notice_sends_scheduled".into() });
                    }
                }
                append_event(db, account, &Event::MessageCreated { message: m.clone() }, new.now).await?;
                for a in activities {
                    append_event(db, account, &Event::MessageCreated { message: a }, new.now).await?;
                }
                if !changes.is_empty() {
                    let event = Event::ConversationUpdated { conversation: conv.clone(), changes: changes.clone() };
                    append_event(db, account, &event, new.now).await?;
                }
                Ok(PostedMessage { message: m, conversation: conv, changes })
            })
        })
        .await
    }

    async fn search_messages(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<Message>> {
        let pattern = contains_pattern(q);
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND kind <> 'activity' \
                     AND search_text LIKE $2 ESCAPE '\\' ORDER BY id DESC LIMIT $3"
                );
                let rows = db.rows(&sql, args![account.0, pattern, limit.clamp(1, 200)]).await?;
                rows.iter().map(message).collect()
            })
        })
        .await
    }

    async fn update_delivery(
        &self,
        account: AccountId,
        id: MessageId,
        status: DeliveryStatus,
        external_id: Option<String>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>> {
        self.write(move |db| {
            Box::pin(async move {
                let mut m = get_message(db, account, id, Lock::Update).await?.ok_or(StorageError::NotFound)?;
                let current = m.delivery.clone().unwrap_or(DeliveryStatus::Queued);
                if current == status || !current.may_become(&status) {
                    return Ok(None);
                }
                let (state, reason) = delivery_columns(Some(&status));
                db.exec(
                    "UPDATE messages SET delivery_state = $3, delivery_error = $4, \
                     external_id = COALESCE($5, external_id), updated_at = $6 WHERE account_id = $1 AND id = $2",
                    args![account.0, id.0, state, reason, &external_id, now],
                )
                .await?;
                m.delivery = Some(status);
                if external_id.is_some() {
                    m.external_id = external_id;
                }
                append_event(db, account, &Event::MessageUpdated { message: m.clone() }, now).await?;
                Ok(Some(m))
            })
        })
        .await
    }
}
