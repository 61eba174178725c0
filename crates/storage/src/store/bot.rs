//! The bot's document per account and its state per conversation.

use crate::args;
use crate::db::{Arg, Backend, Db, Lock, found};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::BotRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, ConversationId};

pub(super) async fn put_bot_state<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ConversationId,
    state: &serde_json::Value,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let n = db
        .exec(
            "INSERT INTO bot_states (conversation_id, account_id, state, updated_at) \
             SELECT id, account_id, $3, $4 FROM conversations WHERE id = $2 AND account_id = $1 \
             ON CONFLICT (conversation_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            args![account.0, id.0, Arg::json(state), now],
        )
        .await?;
    found(n)
}

async fn document_version<D: Db>(db: &mut D, account: AccountId) -> StorageResult<Option<i64>> {
    let r = db.row("SELECT version FROM bot_documents WHERE account_id = $1", args![account.0]).await?;
    r.map(|r| r.int(0)).transpose()
}

#[async_trait]
impl<B: Backend> BotRepo for B {
    async fn get_bot_document(&self, account: AccountId) -> StorageResult<Option<StoredBotDocument>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT document, version, updated_at FROM bot_documents WHERE account_id = $1",
                        args![account.0],
                    )
                    .await?;
                r.map(|r| {
                    Ok(StoredBotDocument {
                        document: r.json(0, "bot_documents.document")?,
                        version: r.int(1)?,
                        updated_at: r.time(2)?,
                    })
                })
                .transpose()
            })
        })
        .await
    }

    async fn bot_document_version(&self, account: AccountId) -> StorageResult<Option<i64>> {
        self.read(move |db| Box::pin(document_version(db, account))).await
    }

    async fn put_bot_document(
        &self,
        account: AccountId,
        document: serde_json::Value,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> StorageResult<i64> {
        self.write(move |db| {
            Box::pin(async move {
                // Serialise writers of the same account's document.
                let sql = format!("SELECT id FROM accounts WHERE id = $1{}", db.lock(Lock::Update));
                db.rows(&sql, args![account.0]).await?;
                let current = document_version(db, account).await?;
                if current != expected {
                    return Err(StorageError::Conflict { constraint: "bot_documents.version".into() });
                }
                let version = current.unwrap_or(0) + 1;
                db.exec(
                    "INSERT INTO bot_documents (account_id, document, version, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (account_id) DO UPDATE SET document = excluded.document, version = excluded.version, \
                     updated_at = excluded.updated_at",
                    args![account.0, Arg::json(&document), version, now],
                )
                .await?;
                Ok(version)
            })
        })
        .await
    }

    async fn get_bot_state(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<serde_json::Value>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT state FROM bot_states WHERE conversation_id = $2 AND account_id = $1",
                        args![account.0, id.0],
                    )
                    .await?;
                r.map(|r| r.json(0, "bot_states.state")).transpose()
            })
        })
        .await
    }

    async fn put_bot_state(
        &self,
        account: AccountId,
        id: ConversationId,
        state: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |db| Box::pin(async move { put_bot_state(db, account, id, &state, now).await })).await
    }
}
