//! The transactional outbox: events appended by the writes that cause
//! them, handed in memory to whoever listens once their unit of work has
//! committed, and read back ("hydrated") from the store only on the
//! recovery path. A row keeps what a consumer cannot read elsewhere — the
//! kind, the ids of the message, conversation or contact, and the changes
//! — not the rendered records; published rows are pruned.

use super::contacts::get_contact;
use super::conversations::get_conversation;
use super::messages::get_message;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock};
use crate::error::{StorageError, StorageResult};
use crate::model::OutboxSize;
use crate::replay::ReplayRepo;
use crate::repo::{CommitSink, OutboxRepo};
use crate::rows::json;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::conversation::Change;
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::{AccountId, AlertId, ContactId, ConversationId, EventId, MessageId};
use serde::{Deserialize, Serialize};

/// What an outbox row holds of an [`Event`]: ids and what cannot be read
/// back from the store later (the changes, the flags of intake).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "slim", rename_all = "snake_case")]
enum Slim {
    MessageCreated { message: MessageId },
    MessageUpdated { message: MessageId },
    ConversationCreated { conversation: ConversationId },
    ConversationUpdated { conversation: ConversationId, changes: Vec<Change> },
    ContactCreated { contact: ContactId },
    ContactUpdated { contact: ContactId },
    CsatReceived { conversation: ConversationId },
    OrderLinked { order_id: i64, order_number: String, contact_id: ContactId },
    MessageReceived { message: MessageId, new_conversation: bool, new_contact: bool, changes: Vec<Change> },
    AlertRaised { alert_id: AlertId, kind: String, severity: String, title: String },
}

impl Slim {
    fn of(event: &Event) -> Self {
        match event {
            Event::MessageCreated { message } => Slim::MessageCreated { message: message.id },
            Event::MessageUpdated { message } => Slim::MessageUpdated { message: message.id },
            Event::ConversationCreated { conversation } => Slim::ConversationCreated { conversation: conversation.id },
            Event::ConversationUpdated { conversation, changes } => {
                Slim::ConversationUpdated { conversation: conversation.id, changes: changes.clone() }
            }
            Event::ContactCreated { contact } => Slim::ContactCreated { contact: contact.id },
            Event::ContactUpdated { contact } => Slim::ContactUpdated { contact: contact.id },
            // The comment is read back rather than kept twice.
            Event::CsatReceived { conversation_id, .. } => Slim::CsatReceived { conversation: *conversation_id },
            Event::OrderLinked { order_id, order_number, contact_id } => {
                Slim::OrderLinked { order_id: *order_id, order_number: order_number.clone(), contact_id: *contact_id }
            }
            Event::MessageReceived { message, new_conversation, new_contact, changes, .. } => Slim::MessageReceived {
                message: message.id,
                new_conversation: *new_conversation,
                new_contact: *new_contact,
                changes: changes.clone(),
            },
            Event::AlertRaised { alert_id, kind, severity, title } => Slim::AlertRaised {
                alert_id: *alert_id,
                kind: kind.clone(),
                severity: severity.clone(),
                title: title.clone(),
            },
        }
    }

    /// The event, with its records as the store holds them now; `None`
    /// when one of them is gone.
    async fn hydrate<D: Db>(self, db: &mut D, account: AccountId) -> StorageResult<Option<Event>> {
        Ok(match self {
            Slim::MessageCreated { message } => {
                get_message(db, account, message, Lock::None).await?.map(|message| Event::MessageCreated { message })
            }
            Slim::MessageUpdated { message } => {
                get_message(db, account, message, Lock::None).await?.map(|message| Event::MessageUpdated { message })
            }
            Slim::ConversationCreated { conversation } => get_conversation(db, account, conversation, Lock::None)
                .await?
                .map(|conversation| Event::ConversationCreated { conversation }),
            Slim::ConversationUpdated { conversation, changes } => {
                get_conversation(db, account, conversation, Lock::None)
                    .await?
                    .map(|conversation| Event::ConversationUpdated { conversation, changes })
            }
            Slim::ContactCreated { contact } => {
                get_contact(db, account, contact, Lock::None).await?.map(|contact| Event::ContactCreated { contact })
            }
            Slim::OrderLinked { order_id, order_number, contact_id } => {
                Some(Event::OrderLinked { order_id, order_number, contact_id })
            }
            Slim::CsatReceived { conversation } => {
                let row = db
                    .row(
                        "SELECT contact_id, agent_id, rating, comment FROM csat_surveys \
                         WHERE account_id = $1 AND conversation_id = $2 AND rating IS NOT NULL",
                        args![account.0, conversation.0],
                    )
                    .await?;
                match row {
                    Some(r) => Some(Event::CsatReceived {
                        conversation_id: conversation,
                        contact_id: ContactId(r.int(0)?),
                        agent_id: r.opt_int(1)?.map(ferry_core::UserId),
                        rating: r.int(2)?.clamp(0, 5) as u8,
                        comment: r.opt_text(3)?,
                    }),
                    None => None,
                }
            }
            Slim::ContactUpdated { contact } => {
                get_contact(db, account, contact, Lock::None).await?.map(|contact| Event::ContactUpdated { contact })
            }
            Slim::MessageReceived { message, new_conversation, new_contact, changes } => {
                let Some(message) = get_message(db, account, message, Lock::None).await? else { return Ok(None) };
                get_conversation(db, account, message.conversation_id, Lock::None).await?.map(|conversation| {
                    Event::MessageReceived { message, conversation, new_conversation, new_contact, changes }
                })
            }
            Slim::AlertRaised { alert_id, kind, severity, title } => {
                Some(Event::AlertRaised { alert_id, kind, severity, title })
            }
        })
    }
}

/// `t` at the precision the store keeps (microseconds), so an event handed
/// on in memory equals the same event read back.
fn stored_time(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

pub(crate) async fn append_event<D: Db>(
    db: &mut D,
    account: AccountId,
    event: &Event,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let row = db
        .row(
            "INSERT INTO outbox (account_id, kind, payload, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             RETURNING id",
            args![account.0, event.name(), Arg::json(&Slim::of(event)), now],
        )
        .await?
        .ok_or_else(|| StorageError::Corrupt("outbox insert returned no id".into()))?;
    db.record_event(EventEnvelope {
        id: EventId(row.int(0)?),
        account_id: account,
        created_at: stored_time(now),
        event: event.clone(),
    });
    super::insights::on_event(db, account, event, now).await
}

/// Events rebuilt from outbox rows (`id, account_id, payload,
/// created_at`); rows whose record is gone are left out.
async fn hydrate_rows<D: Db>(db: &mut D, rows: &[crate::db::Row]) -> StorageResult<Vec<EventEnvelope>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (id, account) = (EventId(r.int(0)?), AccountId(r.int(1)?));
        let payload = r.text(2)?;
        // Rows written before the outbox was slimmed hold the whole event.
        let event = match json::<Slim>("outbox.payload", &payload) {
            Ok(slim) => slim.hydrate(db, account).await?,
            Err(_) => Some(json::<Event>("outbox.payload", &payload)?),
        };
        // An event whose record was deleted since tells nobody anything; it
        // stays until pruned with its account.
        if let Some(event) = event {
            out.push(EventEnvelope { id, account_id: account, created_at: r.time(3)?, event });
        }
    }
    Ok(out)
}

#[async_trait]
impl<B: Backend> ReplayRepo for B {
    async fn events_after(&self, account: AccountId, after: EventId, limit: u32) -> StorageResult<Vec<EventEnvelope>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, account_id, payload, created_at FROM outbox \
                         WHERE id > $2 AND account_id = $1 ORDER BY id LIMIT $3",
                        args![account.0, after.0, limit],
                    )
                    .await?;
                hydrate_rows(db, &rows).await
            })
        })
        .await
    }

    async fn oldest_event(&self, account: AccountId) -> StorageResult<Option<EventId>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT MIN(id) FROM outbox WHERE account_id = $1", args![account.0]).await?;
                Ok(r.map(|r| r.opt_int(0)).transpose()?.flatten().map(EventId))
            })
        })
        .await
    }
}

#[async_trait]
impl<B: Backend> OutboxRepo for B {
    async fn unpublished_events(&self, after: Option<EventId>, limit: u32) -> StorageResult<Vec<EventEnvelope>> {
        let after = after.map_or(0, |a| a.0);
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, account_id, payload, created_at FROM outbox \
                         WHERE published_at IS NULL AND id > $2 ORDER BY id LIMIT $1",
                        args![limit, after],
                    )
                    .await?;
                hydrate_rows(db, &rows).await
            })
        })
        .await
    }

    async fn mark_published(&self, ids: &[EventId], now: DateTime<Utc>) -> StorageResult<()> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "UPDATE outbox SET published_at = $2, updated_at = $2 WHERE id IN (SELECT value FROM {})",
                    db.list("$1")
                );
                db.exec(&sql, args![ids, now]).await.map(drop)
            })
        })
        .await
    }

    async fn count_events(&self, account: AccountId) -> StorageResult<u64> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT COUNT(*) FROM outbox WHERE account_id = $1", args![account.0]).await?;
                r.map_or(Ok(0), |r| r.count(0))
            })
        })
        .await
    }

    async fn prune_published_events(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(db.exec(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                 WHERE published_at IS NOT NULL AND published_at < $1 ORDER BY id LIMIT $2)",
                args![before, limit],
            ))
        })
        .await
    }

    async fn count_unpublished_events(&self) -> StorageResult<u64> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL", args![]).await?;
                r.map_or(Ok(0), |r| r.count(0))
            })
        })
        .await
    }

    fn hand_committed_events(&self, sink: Option<CommitSink>) {
        self.set_commit_sink(sink);
    }

    async fn outbox_size(&self) -> StorageResult<OutboxSize> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT COUNT(*), COALESCE(SUM(LENGTH(kind) + LENGTH(CAST(payload AS TEXT))), 0) FROM outbox",
                        args![],
                    )
                    .await?;
                Ok(match r {
                    Some(r) => OutboxSize { rows: r.count(0)?, payload_bytes: r.count(1)? },
                    None => OutboxSize::default(),
                })
            })
        })
        .await
    }
}
