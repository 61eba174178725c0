//! Echoes and watermarks, in the shared SQL of both backends.

use super::contacts::find_identity;
use super::messages::{MSG_COLS, insert_message, message};
use super::outbox::append_event;
use crate::args;
use crate::db::{Backend, Db, lock_key};
use crate::echoes::{EchoRepo, EchoedMessage};
use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::Identity;
use ferry_core::event::Event;
use ferry_core::message::{DeliveryStatus, Message, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId, InboxId, MessageId};

/// Most messages one watermark moves (older ones have long settled).
const WATERMARK_LIMIT: u32 = 500;

#[async_trait]
impl<B: Backend> EchoRepo for B {
    async fn record_echo(
        &self,
        account: AccountId,
        inbox: InboxId,
        echo: EchoedMessage,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>> {
        self.write(move |db| {
            Box::pin(async move {
                db.serialize_on(vec![lock_key(&["ferry", "message", &inbox.0.to_string(), &echo.external_id])]).await?;
                let known = db
                    .row(
                        "SELECT id FROM messages WHERE account_id = $1 AND inbox_id = $2 AND external_id = $3 \
                         AND kind IN ('outgoing', 'incoming') LIMIT 1",
                        args![account.0, inbox.0, &echo.external_id],
                    )
                    .await?;
                if known.is_some() {
                    return Ok(None);
                }
                let Some(contact) = find_identity(db, account, &echo.to).await? else { return Ok(None) };
                let conv = db
                    .row(
                        "SELECT id FROM conversations WHERE account_id = $1 AND contact_id = $2 AND inbox_id = $3 \
                         ORDER BY id DESC LIMIT 1",
                        args![account.0, contact.0, inbox.0],
                    )
                    .await?;
                let Some(conv) = conv else { return Ok(None) };
                let mut m = Message {
                    id: MessageId(0),
                    account_id: account,
                    inbox_id: inbox,
                    conversation_id: ConversationId(conv.int(0)?),
                    kind: MessageKind::Outgoing,
                    sender: Sender::System,
                    parts: echo.parts,
                    external_id: Some(echo.external_id),
                    delivery: Some(DeliveryStatus::Sent),
                    sent_at: echo.sent_at,
                    created_at: now,
                    meta: Default::default(),
                };
                insert_message(db, &mut m).await?;
                append_event(db, account, &Event::MessageCreated { message: m.clone() }, now).await?;
                Ok(Some(m))
            })
        })
        .await
    }

    async fn apply_watermark(
        &self,
        account: AccountId,
        inbox: InboxId,
        buyer: Identity,
        status: DeliveryStatus,
        up_to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<Vec<Message>> {
        self.write(move |db| {
            Box::pin(async move {
                let Some(contact) = find_identity(db, account, &buyer).await? else { return Ok(Vec::new()) };
                let sql = format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND inbox_id = $2 AND kind = 'outgoing' \
                     AND sent_at <= $4 AND delivery_state IN ('sent', 'delivered') AND conversation_id IN \
                     (SELECT id FROM conversations WHERE account_id = $1 AND inbox_id = $2 AND contact_id = $3) \
                     ORDER BY id DESC LIMIT {WATERMARK_LIMIT}"
                );
                let rows = db.rows(&sql, args![account.0, inbox.0, contact.0, up_to]).await?;
                let mut changed = Vec::new();
                for row in &rows {
                    let mut m = message(row)?;
                    let current = m.delivery.clone().unwrap_or(DeliveryStatus::Queued);
                    if current == status || !current.may_become(&status) {
                        continue;
                    }
                    db.exec(
                        "UPDATE messages SET delivery_state = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
                        args![account.0, m.id.0, status.as_str(), now],
                    )
                    .await?;
                    m.delivery = Some(status.clone());
                    append_event(db, account, &Event::MessageUpdated { message: m.clone() }, now).await?;
                    changed.push(m);
                }
                Ok(changed)
            })
        })
        .await
    }
}
