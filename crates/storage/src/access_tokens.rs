//! A user's API access tokens as they manage them: listed (never the
//! secret, which is kept only as its hash), created and revoked.

use crate::args;
use crate::db::{Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::User;
use ferry_core::{AccountId, UserId};

/// An API access token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// Its id.
    pub id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

fn token(r: &Row) -> StorageResult<AccessToken> {
    Ok(AccessToken { id: r.int(0)?, name: r.text(1)?, created_at: r.time(2)? })
}

/// A user's API access tokens.
#[async_trait]
pub trait AccessTokenRepo {
    /// The user's tokens, newest first.
    async fn list_access_tokens(&self, account: AccountId, user: UserId) -> StorageResult<Vec<AccessToken>>;
    /// Stores a token (by the SHA-256 of its secret) acting as `user`.
    async fn add_access_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<AccessToken>;
    /// Deletes one of the user's tokens; `NotFound` when it is not theirs.
    async fn delete_access_token(&self, account: AccountId, user: UserId, id: i64) -> StorageResult<()>;
}

#[async_trait]
impl<B: Backend> AccessTokenRepo for B {
    async fn list_access_tokens(&self, account: AccountId, user: UserId) -> StorageResult<Vec<AccessToken>> {
        self.read(move |db| {
            Box::pin(async move {
                db.rows(
                    "SELECT id, name, created_at FROM api_tokens WHERE account_id = $1 AND user_id = $2 ORDER BY id DESC",
                    args![account.0, user.0],
                )
                .await?
                .iter()
                .map(token)
                .collect()
            })
        })
        .await
    }

    async fn add_access_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<AccessToken> {
        let (account, user, name, hash) = (user.account_id, user.id, name.to_owned(), token_hash.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "INSERT INTO api_tokens (account_id, user_id, name, token_hash, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id, name, created_at",
                        args![account.0, user.0, name, hash, now],
                    )
                    .await?;
                token(&r.ok_or(StorageError::NotFound)?)
            })
        })
        .await
    }

    async fn delete_access_token(&self, account: AccountId, user: UserId, id: i64) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "DELETE FROM api_tokens WHERE account_id = $1 AND user_id = $2 AND id = $3",
                        args![account.0, user.0, id],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }
}
