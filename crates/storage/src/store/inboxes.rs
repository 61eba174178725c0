//! Inboxes: one per channel account a business connects.

use super::insert;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row, found};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::InboxRepo;
use crate::rows::InboxRow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::inbox::Inbox;
use ferry_core::{AccountId, InboxId};

const INBOX_COLS: &str = "id, account_id, name, channel, config, secret, created_at";

fn inbox(r: &Row) -> StorageResult<Inbox> {
    Inbox::try_from(InboxRow {
        id: r.int(0)?,
        account_id: r.int(1)?,
        name: r.text(2)?,
        channel: r.text(3)?,
        config: r.text(4)?,
        secret: r.text(5)?,
        created_at: r.time(6)?,
    })
}

/// An inbox by id, of the account when given.
async fn inbox_by_id<D: Db>(
    db: &mut D,
    account: Option<AccountId>,
    id: InboxId,
    lock: Lock,
) -> StorageResult<Option<Inbox>> {
    let sql =
        format!("SELECT {INBOX_COLS} FROM inboxes WHERE ($1 IS NULL OR account_id = $1) AND id = $2{}", db.lock(lock));
    db.row(&sql, args![account.map(|a| a.0), id.0]).await?.as_ref().map(inbox).transpose()
}

#[async_trait]
impl<B: Backend> InboxRepo for B {
    async fn create_inbox(&self, account: AccountId, new: NewInbox, now: DateTime<Utc>) -> StorageResult<Inbox> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO inboxes (account_id, name, channel, config, secret, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                    args![account.0, new.name, new.channel.as_str(), Arg::json(&new.config), new.secret, now],
                )
                .await?;
                inbox_by_id(db, Some(account), InboxId(id), Lock::None).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn inboxes_of_channel(&self, channel: ferry_core::inbox::ChannelKind) -> StorageResult<Vec<Inbox>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {INBOX_COLS} FROM inboxes WHERE channel = $1 ORDER BY id");
                db.rows(&sql, args![channel.as_str()]).await?.iter().map(inbox).collect()
            })
        })
        .await
    }

    async fn get_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<Option<Inbox>> {
        self.read(move |db| Box::pin(inbox_by_id(db, Some(account), id, Lock::None))).await
    }

    async fn find_inbox(&self, id: InboxId) -> StorageResult<Option<Inbox>> {
        self.read(move |db| Box::pin(inbox_by_id(db, None, id, Lock::None))).await
    }

    async fn list_inboxes(&self, account: AccountId) -> StorageResult<Vec<Inbox>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {INBOX_COLS} FROM inboxes WHERE account_id = $1 ORDER BY name{}, id",
                    db.bytewise()
                );
                db.rows(&sql, args![account.0]).await?.iter().map(inbox).collect()
            })
        })
        .await
    }

    async fn update_inbox(&self, account: AccountId, id: InboxId, patch: InboxPatch) -> StorageResult<Inbox> {
        self.write(move |db| {
            Box::pin(async move {
                let mut i =
                    inbox_by_id(db, Some(account), id, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
                if let Some(n) = patch.name {
                    i.name = n;
                }
                if let Some(cfg) = patch.config {
                    i.config = cfg;
                }
                db.exec(
                    "UPDATE inboxes SET name = $3, config = $4, updated_at = $5 WHERE account_id = $1 AND id = $2",
                    args![account.0, id.0, &i.name, Arg::json(&i.config), Utc::now()],
                )
                .await?;
                Ok(i)
            })
        })
        .await
    }

    async fn delete_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                // Its conversations' facts go with it: take them out of the
                // rollups first.
                super::insights::forget_inbox(db, account, id.0, Utc::now()).await?;
                found(db.exec("DELETE FROM inboxes WHERE account_id = $1 AND id = $2", args![account.0, id.0]).await?)
            })
        })
        .await
    }
}
