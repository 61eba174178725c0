//! Notice settings and the send log, in the shared SQL of both backends.

use super::conversations::{CONV_COLS, conversation, insert_conversation};
use super::outbox::append_event;
use super::profiles::contacts_reached_by;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row};
use crate::error::{StorageError, StorageResult};
use crate::notices::{ContactConsent, NewNoticeSend, NoticeRepo, NoticeSend, NoticeTally};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::conversation::Conversation;
use ferry_core::event::Event;
use ferry_core::{AccountId, ContactId, ConversationId, MessageId};

pub(super) const COLS: &str = "id, kind, dedup_key, contact_id, order_id, channel, state, reason, message_id, conversation_id, \
                    scheduled_at, created_at, updated_at, campaign_id, journey_id";

pub(super) fn send(r: &Row) -> StorageResult<NoticeSend> {
    Ok(NoticeSend {
        id: r.int(0)?,
        kind: r.text(1)?,
        dedup_key: r.text(2)?,
        contact_id: r.opt_int(3)?.map(ContactId),
        order_id: r.opt_int(4)?,
        channel: r.opt_text(5)?,
        state: r.text(6)?,
        reason: r.opt_text(7)?,
        message_id: r.opt_int(8)?.map(MessageId),
        conversation_id: r.opt_int(9)?.map(ConversationId),
        scheduled_at: r.time(10)?,
        created_at: r.time(11)?,
        updated_at: r.time(12)?,
        campaign_id: r.opt_int(13)?,
        journey_id: r.opt_int(14)?,
    })
}

/// The send log's figures per kind, state and reason (add a `WHERE` on
/// `n`, then [`TALLY_GROUP`]); rows read with [`tally`].
pub(super) const TALLY_SELECT: &str = "SELECT n.kind, n.state, n.reason, COUNT(*), \
     SUM(CASE WHEN m.delivery_state IN ('delivered', 'read') THEN 1 ELSE 0 END), \
     SUM(CASE WHEN m.delivery_state = 'read' THEN 1 ELSE 0 END), \
     SUM(CASE WHEN EXISTS (SELECT 1 FROM messages r WHERE r.account_id = n.account_id \
         AND r.conversation_id = n.conversation_id AND r.kind = 'incoming' AND r.id > n.message_id) \
         THEN 1 ELSE 0 END) \
     FROM notice_sends n LEFT JOIN messages m ON m.id = n.message_id AND m.account_id = n.account_id";
/// The grouping of [`TALLY_SELECT`].
pub(super) const TALLY_GROUP: &str = "GROUP BY n.kind, n.state, n.reason ORDER BY n.kind, n.state, n.reason";

/// A row of `kind, state, reason, count, delivered, read, replied`.
pub(super) fn tally(r: &Row) -> StorageResult<NoticeTally> {
    Ok(NoticeTally {
        kind: r.text(0)?,
        state: r.text(1)?,
        reason: r.opt_text(2)?,
        count: r.count(3)?,
        delivered: u64::try_from(r.opt_int(4)?.unwrap_or(0)).unwrap_or(0),
        read: u64::try_from(r.opt_int(5)?.unwrap_or(0)).unwrap_or(0),
        replied: u64::try_from(r.opt_int(6)?.unwrap_or(0)).unwrap_or(0),
    })
}

/// The arguments of an insert into `notice_sends` (`$1` to `$13`).
pub(super) fn insert_args(account: AccountId, new: &NewNoticeSend, now: DateTime<Utc>) -> Vec<Arg> {
    args![
        account.0,
        new.kind.clone(),
        new.dedup_key.clone(),
        new.contact_id.map(|c| c.0),
        new.order_id,
        new.channel.clone(),
        new.state.clone(),
        new.reason.clone(),
        new.scheduled_at,
        now,
        new.campaign_id,
        new.marketing,
        new.journey_id
    ]
}

#[async_trait]
impl<B: Backend> NoticeRepo for B {
    async fn order_by_external_id(
        &self,
        account: AccountId,
        connection: ferry_core::ShopConnectionId,
        external_id: &str,
    ) -> StorageResult<Option<ferry_core::OrderId>> {
        let external_id = external_id.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT id FROM shop_orders WHERE account_id = $1 AND connection_id = $2 AND external_id = $3",
                        args![account.0, connection.0, external_id],
                    )
                    .await?;
                r.map(|r| r.int(0).map(ferry_core::OrderId)).transpose()
            })
        })
        .await
    }

    async fn conversation_for_notice(
        &self,
        account: AccountId,
        inbox: ferry_core::InboxId,
        contact: ContactId,
        tag: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Conversation> {
        let tag = tag.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {CONV_COLS} FROM conversations WHERE account_id = $1 AND contact_id = $2 \
                     AND inbox_id = $3 ORDER BY id DESC LIMIT 1{}",
                    db.lock(Lock::Update)
                );
                if let Some(r) = db.row(&sql, args![account.0, contact.0, inbox.0]).await? {
                    return conversation(&r);
                }
                let mut c = Conversation::opened_by_business(account, inbox, contact, &tag, now);
                insert_conversation(db, &mut c).await?;
                append_event(db, account, &Event::ConversationCreated { conversation: c.clone() }, now).await?;
                Ok(c)
            })
        })
        .await
    }

    async fn wismo_counts(
        &self,
        account: AccountId,
        intents: Vec<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StorageResult<(u64, u64)> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT (SELECT COUNT(*) FROM shop_orders WHERE account_id = $1 AND placed_at >= $2 AND placed_at < $3), \
                     (SELECT COUNT(*) FROM conversation_facts WHERE account_id = $1 AND opened_at >= $2 AND opened_at < $3 \
                     AND intent IN (SELECT value FROM {}))",
                    db.list("$4")
                );
                let r = db.row(&sql, args![account.0, from, to, intents]).await?.ok_or(StorageError::NotFound)?;
                Ok((r.count(0)?, r.count(1)?))
            })
        })
        .await
    }

    async fn notice_tallies(&self, account: AccountId, since: DateTime<Utc>) -> StorageResult<Vec<NoticeTally>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        &format!("{TALLY_SELECT} WHERE n.account_id = $1 AND n.created_at >= $2 {TALLY_GROUP}"),
                        args![account.0, since],
                    )
                    .await?;
                rows.iter().map(tally).collect()
            })
        })
        .await
    }

    async fn set_contact_consent(&self, account: AccountId, c: ContactConsent) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "INSERT INTO contact_consents (account_id, contact_id, channel, granted, source, recorded_by, \
                         recorded_at) SELECT account_id, id, $3, $4, $5, $6, $7 FROM contacts WHERE id = $2 \
                         AND account_id = $1 ON CONFLICT (contact_id, channel) DO UPDATE SET \
                         granted = excluded.granted, source = excluded.source, recorded_by = excluded.recorded_by, \
                         recorded_at = excluded.recorded_at",
                        args![
                            account.0,
                            c.contact_id.0,
                            c.channel,
                            c.granted,
                            c.source,
                            c.recorded_by.map(|u| u.0),
                            c.recorded_at
                        ],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn contact_consents(&self, account: AccountId, contact: ContactId) -> StorageResult<Vec<ContactConsent>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT channel, granted, source, recorded_by, recorded_at FROM contact_consents \
                         WHERE account_id = $1 AND contact_id = $2 ORDER BY channel",
                        args![account.0, contact.0],
                    )
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ContactConsent {
                            contact_id: contact,
                            channel: r.text(0)?,
                            granted: r.flag(1)?,
                            source: r.text(2)?,
                            recorded_by: r.opt_int(3)?.map(ferry_core::UserId),
                            recorded_at: r.time(4)?,
                        })
                    })
                    .collect()
            })
        })
        .await
    }

    async fn contacts_by_address(
        &self,
        account: AccountId,
        emails: Vec<String>,
        phones: Vec<String>,
    ) -> StorageResult<Vec<ContactId>> {
        self.read(move |db| Box::pin(async move { contacts_reached_by(db, account, emails, phones).await })).await
    }

    async fn notice_settings(&self, account: AccountId) -> StorageResult<Option<serde_json::Value>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row("SELECT notices FROM accounts WHERE id = $1", args![account.0])
                    .await?
                    .ok_or(StorageError::NotFound)?;
                if let Ok(None) = r.opt_text(0) {
                    return Ok(None);
                }
                let v: serde_json::Value = r.json(0, "accounts.notices")?;
                Ok(Some(v).filter(|v| !v.is_null()))
            })
        })
        .await
    }

    async fn set_notice_settings(
        &self,
        account: AccountId,
        settings: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE accounts SET notices = $2, updated_at = $3 WHERE id = $1",
                        args![account.0, Arg::Json(settings), now],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn claim_notice_send(
        &self,
        account: AccountId,
        new: NewNoticeSend,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<NoticeSend>> {
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "INSERT INTO notice_sends (account_id, kind, dedup_key, contact_id, order_id, channel, state, \
                     reason, scheduled_at, created_at, updated_at, campaign_id, marketing, journey_id) \
                     SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13 FROM accounts WHERE id = $1 \
                     ON CONFLICT (account_id, dedup_key) DO NOTHING RETURNING {COLS}"
                );
                let row = db.row(&sql, insert_args(account, &new, now)).await?;
                row.as_ref().map(send).transpose()
            })
        })
        .await
    }

    async fn get_notice_send(&self, account: AccountId, id: i64) -> StorageResult<Option<NoticeSend>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {COLS} FROM notice_sends WHERE account_id = $1 AND id = $2");
                db.row(&sql, args![account.0, id]).await?.as_ref().map(send).transpose()
            })
        })
        .await
    }

    async fn finish_notice_send(
        &self,
        account: AccountId,
        id: i64,
        state: &str,
        channel: Option<String>,
        reason: Option<String>,
        message: Option<(MessageId, ConversationId)>,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let state = state.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE notice_sends SET state = $3, channel = COALESCE($4, channel), reason = $5, \
                         message_id = $6, conversation_id = $7, updated_at = $8 WHERE account_id = $1 AND id = $2",
                        args![
                            account.0,
                            id,
                            state,
                            channel,
                            reason,
                            message.map(|m| m.0.0),
                            message.map(|m| m.1.0),
                            now
                        ],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn list_notice_sends(
        &self,
        account: AccountId,
        before: Option<i64>,
        limit: u32,
    ) -> StorageResult<Vec<NoticeSend>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {COLS} FROM notice_sends WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
                );
                let rows =
                    db.rows(&sql, args![account.0, before.unwrap_or(i64::MAX), i64::from(limit.clamp(1, 200))]).await?;
                rows.iter().map(send).collect()
            })
        })
        .await
    }
}
