//! Credentials handed out by link: invitations to join an account and
//! password-reset links (each by the SHA-256 of its token, used once,
//! until it expires), and the password changes they lead to.

use crate::args;
use crate::db::{Backend, Db, Lock, Row, conflict_as, found};
use crate::error::{StorageError, StorageResult};
use crate::model::NewUser;
use crate::store::accounts::{USER_COLS, user, user_by_id};
use crate::store::insert;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::{Role, User};
use ferry_core::invitation::Invitation;
use ferry_core::{AccountId, UserId};
use std::str::FromStr;

/// An invitation about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    /// Normalised e-mail of the invitee.
    pub email: String,
    /// Their name.
    pub name: String,
    /// The role they will get.
    pub role: Role,
    /// SHA-256 (hex) of the link's token.
    pub token_hash: String,
    /// Who invites.
    pub invited_by: Option<UserId>,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// A password-reset link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    /// Its id.
    pub id: i64,
    /// The user's account.
    pub account_id: AccountId,
    /// Whose password it resets.
    pub user_id: UserId,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used (or made void by a later change).
    pub used_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Invitations, reset links and password changes.
#[async_trait]
pub trait CredentialRepo {
    /// Stores an invitation.
    async fn create_invitation(
        &self,
        account: AccountId,
        new: NewInvitation,
        now: DateTime<Utc>,
    ) -> StorageResult<Invitation>;
    /// The account's invitations, newest first.
    async fn list_invitations(&self, account: AccountId) -> StorageResult<Vec<Invitation>>;
    /// One invitation of the account.
    async fn get_invitation(&self, account: AccountId, id: i64) -> StorageResult<Option<Invitation>>;
    /// Revokes an invitation that is neither accepted nor revoked yet;
    /// returns it as it is afterwards (`NotFound` in another account).
    async fn revoke_invitation(&self, account: AccountId, id: i64, now: DateTime<Utc>) -> StorageResult<Invitation>;
    /// The invitation whose token hashes to `token_hash` (any account).
    async fn invitation_by_token(&self, token_hash: &str) -> StorageResult<Option<Invitation>>;
    /// Accepts a pending, unexpired invitation and creates its user, in one
    /// transaction. `Conflict { "invitations.token" }` when it is no longer
    /// pending, `Conflict { "users.email" }` when the e-mail is taken,
    /// `NotFound` for an unknown token.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        user: NewUser,
        now: DateTime<Utc>,
    ) -> StorageResult<(Invitation, User)>;
    /// Stores a reset link for `user`.
    async fn create_password_reset(
        &self,
        user: &User,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<PasswordReset>;
    /// The reset link whose token hashes to `token_hash`.
    async fn password_reset_by_token(&self, token_hash: &str) -> StorageResult<Option<PasswordReset>>;
    /// Uses an unused, unexpired reset link: sets the user's password, ends
    /// all their sessions and voids their other links, in one transaction.
    /// `Conflict { "password_resets.token" }` when used or expired,
    /// `NotFound` for an unknown token.
    async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<User>;
    /// The stored password hash of a user of the account.
    async fn password_hash(&self, account: AccountId, user: UserId) -> StorageResult<Option<String>>;
    /// Sets a user's password, ends their sessions but the one hashing to
    /// `keep_session`, and voids their reset links; returns how many
    /// sessions ended.
    async fn set_password(
        &self,
        account: AccountId,
        user: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
    ) -> StorageResult<u64>;
}

const INVITATION_COLS: &str =
    "id, account_id, email, name, role, invited_by, expires_at, accepted_at, revoked_at, user_id, created_at";

fn invitation(r: &Row) -> StorageResult<Invitation> {
    let role = r.text(4)?;
    Ok(Invitation {
        id: r.int(0)?,
        account_id: AccountId(r.int(1)?),
        email: r.text(2)?,
        name: r.text(3)?,
        role: Role::from_str(&role).map_err(|e| StorageError::Corrupt(e.to_string()))?,
        invited_by: r.opt_int(5)?.map(UserId),
        expires_at: r.time(6)?,
        accepted_at: r.opt_time(7)?,
        revoked_at: r.opt_time(8)?,
        user_id: r.opt_int(9)?.map(UserId),
        created_at: r.time(10)?,
    })
}

const RESET_COLS: &str = "id, account_id, user_id, expires_at, used_at, created_at";

fn reset(r: &Row) -> StorageResult<PasswordReset> {
    Ok(PasswordReset {
        id: r.int(0)?,
        account_id: AccountId(r.int(1)?),
        user_id: UserId(r.int(2)?),
        expires_at: r.time(3)?,
        used_at: r.opt_time(4)?,
        created_at: r.time(5)?,
    })
}

async fn invitation_by_id<D: Db>(db: &mut D, account: AccountId, id: i64) -> StorageResult<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE account_id = $1 AND id = $2");
    db.row(&sql, args![account.0, id]).await?.as_ref().map(invitation).transpose()
}

/// Ends a user's sessions but `keep` and voids their unused reset links.
async fn end_sessions<D: Db>(
    db: &mut D,
    account: AccountId,
    user: UserId,
    keep: Option<String>,
    now: DateTime<Utc>,
) -> StorageResult<u64> {
    let ended = db
        .exec(
            "DELETE FROM sessions WHERE account_id = $1 AND user_id = $2 AND ($3 IS NULL OR token_hash <> $3)",
            args![account.0, user.0, keep],
        )
        .await?;
    db.exec(
        "UPDATE password_resets SET used_at = $3, updated_at = $3 \
         WHERE account_id = $1 AND user_id = $2 AND used_at IS NULL",
        args![account.0, user.0, now],
    )
    .await?;
    Ok(ended)
}

#[async_trait]
impl<B: Backend> CredentialRepo for B {
    async fn create_invitation(
        &self,
        account: AccountId,
        new: NewInvitation,
        now: DateTime<Utc>,
    ) -> StorageResult<Invitation> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO invitations (account_id, email, name, role, token_hash, invited_by, expires_at, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                    args![
                        account.0,
                        new.email,
                        new.name,
                        new.role.as_str(),
                        new.token_hash,
                        new.invited_by.map(|u| u.0),
                        new.expires_at,
                        now
                    ],
                )
                .await;
                let id = conflict_as(id, "invitations.token")?;
                invitation_by_id(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn list_invitations(&self, account: AccountId) -> StorageResult<Vec<Invitation>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {INVITATION_COLS} FROM invitations WHERE account_id = $1 ORDER BY created_at DESC, id DESC"
                );
                db.rows(&sql, args![account.0]).await?.iter().map(invitation).collect()
            })
        })
        .await
    }

    async fn get_invitation(&self, account: AccountId, id: i64) -> StorageResult<Option<Invitation>> {
        self.read(move |db| Box::pin(invitation_by_id(db, account, id))).await
    }

    async fn revoke_invitation(&self, account: AccountId, id: i64, now: DateTime<Utc>) -> StorageResult<Invitation> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE invitations SET revoked_at = $3, updated_at = $3 WHERE account_id = $1 AND id = $2 \
                     AND accepted_at IS NULL AND revoked_at IS NULL",
                    args![account.0, id, now],
                )
                .await?;
                invitation_by_id(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn invitation_by_token(&self, token_hash: &str) -> StorageResult<Option<Invitation>> {
        let hash = token_hash.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1");
                db.row(&sql, args![hash]).await?.as_ref().map(invitation).transpose()
            })
        })
        .await
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        new: NewUser,
        now: DateTime<Utc>,
    ) -> StorageResult<(Invitation, User)> {
        let hash = token_hash.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1{}", db.lock(Lock::Update));
                let found = db.row(&sql, args![&hash]).await?.as_ref().map(invitation).transpose()?;
                let inv = found.ok_or(StorageError::NotFound)?;
                if inv.state(now) != ferry_core::invitation::InvitationState::Pending {
                    return Err(StorageError::Conflict { constraint: "invitations.token".into() });
                }
                let id = insert(
                    db,
                    "INSERT INTO users (account_id, name, email, password_hash, role, languages, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    args![
                        inv.account_id.0,
                        new.name,
                        new.email,
                        new.password_hash,
                        new.role.as_str(),
                        crate::db::Arg::json(&new.languages),
                        now
                    ],
                )
                .await;
                let id = UserId(conflict_as(id, "users.email")?);
                let n = db
                    .exec(
                        "UPDATE invitations SET accepted_at = $2, user_id = $3, updated_at = $2 \
                         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL",
                        args![inv.id, now, id.0],
                    )
                    .await?;
                if n == 0 {
                    return Err(StorageError::Conflict { constraint: "invitations.token".into() });
                }
                let u = user_by_id(db, inv.account_id, id, Lock::None).await?.ok_or(StorageError::NotFound)?;
                let inv = invitation_by_id(db, inv.account_id, inv.id).await?.ok_or(StorageError::NotFound)?;
                Ok((inv, u))
            })
        })
        .await
    }

    async fn create_password_reset(
        &self,
        user: &User,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<PasswordReset> {
        let (account, user, hash) = (user.account_id, user.id, token_hash.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "INSERT INTO password_resets (account_id, user_id, token_hash, expires_at, created_at, updated_at) \
                     SELECT $1, u.id, $3, $4, $5, $5 FROM users u WHERE u.account_id = $1 AND u.id = $2 \
                     RETURNING {RESET_COLS}"
                );
                let row = conflict_as(
                    db.row(&sql, args![account.0, user.0, hash, expires_at, now]).await,
                    "password_resets.token",
                )?;
                row.as_ref().map(reset).transpose()?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn password_reset_by_token(&self, token_hash: &str) -> StorageResult<Option<PasswordReset>> {
        let hash = token_hash.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {RESET_COLS} FROM password_resets WHERE token_hash = $1");
                db.row(&sql, args![hash]).await?.as_ref().map(reset).transpose()
            })
        })
        .await
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<User> {
        let (hash, password) = (token_hash.to_owned(), password_hash.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                let sql =
                    format!("SELECT {RESET_COLS} FROM password_resets WHERE token_hash = $1{}", db.lock(Lock::Update));
                let r =
                    db.row(&sql, args![&hash]).await?.as_ref().map(reset).transpose()?.ok_or(StorageError::NotFound)?;
                if r.used_at.is_some() || r.expires_at <= now {
                    return Err(StorageError::Conflict { constraint: "password_resets.token".into() });
                }
                found(
                    db.exec(
                        "UPDATE users SET password_hash = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
                        args![r.account_id.0, r.user_id.0, password, now],
                    )
                    .await?,
                )?;
                end_sessions(db, r.account_id, r.user_id, None, now).await?;
                let sql = format!("SELECT {USER_COLS} FROM users WHERE account_id = $1 AND id = $2");
                db.row(&sql, args![r.account_id.0, r.user_id.0])
                    .await?
                    .as_ref()
                    .map(user)
                    .transpose()?
                    .ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn password_hash(&self, account: AccountId, user: UserId) -> StorageResult<Option<String>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row("SELECT password_hash FROM users WHERE account_id = $1 AND id = $2", args![account.0, user.0])
                    .await?;
                r.map(|r| r.text(0)).transpose()
            })
        })
        .await
    }

    async fn set_password(
        &self,
        account: AccountId,
        user: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
    ) -> StorageResult<u64> {
        let (password, keep) = (password_hash.to_owned(), keep_session.map(str::to_owned));
        self.write(move |db| {
            Box::pin(async move {
                found(
                    db.exec(
                        "UPDATE users SET password_hash = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
                        args![account.0, user.0, password, now],
                    )
                    .await?,
                )?;
                end_sessions(db, account, user, keep, now).await
            })
        })
        .await
    }
}
