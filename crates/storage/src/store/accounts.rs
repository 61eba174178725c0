//! Accounts, their users (with sessions and API tokens) and teams.

use super::insert;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row, conflict_as, found};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::{AccountRepo, TeamRepo, UserRepo};
use crate::rows::{AccountRow, UserRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::{Account, Team, User};
use ferry_core::{AccountId, TeamId, UserId};

pub(crate) const USER_COLS: &str = "id, account_id, name, email, role, languages, created_at";

pub(crate) fn user(r: &Row) -> StorageResult<User> {
    User::try_from(UserRow {
        id: r.int(0)?,
        account_id: r.int(1)?,
        name: r.text(2)?,
        email: r.text(3)?,
        role: r.text(4)?,
        languages: r.text(5)?,
        created_at: r.time(6)?,
    })
}

pub(crate) async fn user_by_id<D: Db>(
    db: &mut D,
    account: AccountId,
    id: UserId,
    lock: Lock,
) -> StorageResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE account_id = $1 AND id = $2{}", db.lock(lock));
    db.row(&sql, args![account.0, id.0]).await?.as_ref().map(user).transpose()
}

/// Teams of an account (all, or only `only`) with their members, by name.
async fn teams<D: Db>(db: &mut D, account: AccountId, only: Option<TeamId>) -> StorageResult<Vec<Team>> {
    let sql = format!(
        "SELECT id, name, description FROM teams WHERE account_id = $1 AND ($2 IS NULL OR id = $2) \
         ORDER BY name{}, id",
        db.bytewise()
    );
    let teams = db.rows(&sql, args![account.0, only.map(|t| t.0)]).await?;
    let members = db
        .rows(
            "SELECT team_id, user_id FROM team_members WHERE account_id = $1 AND ($2 IS NULL OR team_id = $2) \
             ORDER BY user_id",
            args![account.0, only.map(|t| t.0)],
        )
        .await?;
    let mut out = Vec::with_capacity(teams.len());
    for t in &teams {
        let id = t.int(0)?;
        let mut member_ids = Vec::new();
        for m in &members {
            if m.int(0)? == id {
                member_ids.push(UserId(m.int(1)?));
            }
        }
        out.push(Team { id: TeamId(id), account_id: account, name: t.text(1)?, description: t.text(2)?, member_ids });
    }
    Ok(out)
}

async fn team_by_id<D: Db>(db: &mut D, account: AccountId, id: TeamId) -> StorageResult<Option<Team>> {
    Ok(teams(db, account, Some(id)).await?.pop())
}

#[async_trait]
impl<B: Backend> AccountRepo for B {
    async fn create_account(&self, new: NewAccount, now: DateTime<Utc>) -> StorageResult<Account> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO accounts (name, default_language, created_at, updated_at) \
                     VALUES ($1, $2, $3, $3) RETURNING id",
                    args![&new.name, &new.default_language, now],
                )
                .await?;
                Ok(Account {
                    id: AccountId(id),
                    name: new.name,
                    default_language: new.default_language,
                    created_at: now,
                })
            })
        })
        .await
    }

    async fn get_account(&self, id: AccountId) -> StorageResult<Option<Account>> {
        self.read(move |db| {
            Box::pin(async move {
                let r =
                    db.row("SELECT id, name, default_language, created_at FROM accounts WHERE id = $1", args![id.0]);
                r.await?
                    .map(|r| {
                        Ok(Account::from(AccountRow {
                            id: r.int(0)?,
                            name: r.text(1)?,
                            default_language: r.text(2)?,
                            created_at: r.time(3)?,
                        }))
                    })
                    .transpose()
            })
        })
        .await
    }
}

#[async_trait]
impl<B: Backend> UserRepo for B {
    async fn create_user(&self, account: AccountId, new: NewUser, now: DateTime<Utc>) -> StorageResult<User> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO users (account_id, name, email, password_hash, role, languages, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    args![
                        account.0,
                        new.name,
                        new.email,
                        new.password_hash,
                        new.role.as_str(),
                        Arg::json(&new.languages),
                        now
                    ],
                )
                .await;
                let id = conflict_as(id, "users.email")?;
                user_by_id(db, account, UserId(id), Lock::None).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn get_user(&self, account: AccountId, id: UserId) -> StorageResult<Option<User>> {
        self.read(move |db| Box::pin(user_by_id(db, account, id, Lock::None))).await
    }

    async fn list_users(&self, account: AccountId) -> StorageResult<Vec<User>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql =
                    format!("SELECT {USER_COLS} FROM users WHERE account_id = $1 ORDER BY name{}, id", db.bytewise());
                db.rows(&sql, args![account.0]).await?.iter().map(user).collect()
            })
        })
        .await
    }

    async fn update_user(&self, account: AccountId, id: UserId, patch: UserPatch) -> StorageResult<User> {
        self.write(move |db| {
            Box::pin(async move {
                let mut u = user_by_id(db, account, id, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
                if let Some(n) = patch.name {
                    u.name = n;
                }
                if let Some(r) = patch.role {
                    u.role = r;
                }
                if let Some(l) = patch.languages {
                    u.languages = l;
                }
                db.exec(
                    "UPDATE users SET name = $3, role = $4, languages = $5, \
                     password_hash = COALESCE($6, password_hash), updated_at = $7 WHERE account_id = $1 AND id = $2",
                    args![
                        account.0,
                        id.0,
                        &u.name,
                        u.role.as_str(),
                        Arg::json(&u.languages),
                        patch.password_hash,
                        Utc::now()
                    ],
                )
                .await?;
                Ok(u)
            })
        })
        .await
    }

    async fn delete_user(&self, account: AccountId, id: UserId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                found(db.exec("DELETE FROM users WHERE account_id = $1 AND id = $2", args![account.0, id.0]).await?)
            })
        })
        .await
    }

    async fn find_login(&self, email: &str) -> StorageResult<Option<(User, String)>> {
        let email = email.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {USER_COLS}, password_hash FROM users WHERE email = $1");
                let r = db.row(&sql, args![email]).await?;
                r.map(|r| Ok((user(&r)?, r.text(7)?))).transpose()
            })
        })
        .await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StorageResult<()> {
        let (hash, account, user) = (token_hash.to_owned(), user.account_id, user.id);
        self.write(move |db| {
            Box::pin(async move {
                let id = super::security::session_id(&hash);
                db.exec(
                    "INSERT INTO sessions (token_hash, account_id, user_id, expires_at, created_at, updated_at, id, \
                     last_seen_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $5)",
                    args![hash, account.0, user.0, expires_at, now, id],
                )
                .await?;
                // Sessions past their time are removed as new ones are made.
                db.exec("DELETE FROM sessions WHERE expires_at < $1", args![now]).await.map(drop)
            })
        })
        .await
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<User>> {
        let hash = token_hash.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {USER_COLS} FROM users WHERE id = \
                     (SELECT s.user_id FROM sessions s WHERE s.token_hash = $1 AND s.expires_at > $2)"
                );
                db.row(&sql, args![hash, now]).await?.as_ref().map(user).transpose()
            })
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StorageResult<()> {
        let hash = token_hash.to_owned();
        self.write(move |db| {
            Box::pin(async move { db.exec("DELETE FROM sessions WHERE token_hash = $1", args![hash]).await.map(drop) })
        })
        .await
    }

    async fn create_api_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let (account, user, name, hash) = (user.account_id, user.id, name.to_owned(), token_hash.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "INSERT INTO api_tokens (account_id, user_id, name, token_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                    args![account.0, user.0, name, hash, now],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn token_user(&self, token_hash: &str) -> StorageResult<Option<User>> {
        let hash = token_hash.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {USER_COLS} FROM users WHERE id = \
                     (SELECT t.user_id FROM api_tokens t WHERE t.token_hash = $1 AND t.account_id = users.account_id)"
                );
                db.row(&sql, args![hash]).await?.as_ref().map(user).transpose()
            })
        })
        .await
    }
}

#[async_trait]
impl<B: Backend> TeamRepo for B {
    async fn create_team(
        &self,
        account: AccountId,
        name: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Team> {
        let (name, description) = (name.to_owned(), description.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO teams (account_id, name, description, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4) RETURNING id",
                    args![account.0, name, description, now],
                )
                .await;
                let id = TeamId(conflict_as(id, "teams.name")?);
                team_by_id(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn get_team(&self, account: AccountId, id: TeamId) -> StorageResult<Option<Team>> {
        self.read(move |db| Box::pin(team_by_id(db, account, id))).await
    }

    async fn list_teams(&self, account: AccountId) -> StorageResult<Vec<Team>> {
        self.read(move |db| Box::pin(teams(db, account, None))).await
    }

    async fn set_team_members(&self, account: AccountId, id: TeamId, members: &[UserId]) -> StorageResult<Team> {
        let mut wanted: Vec<i64> = members.iter().map(|m| m.0).collect();
        wanted.sort_unstable();
        wanted.dedup();
        self.write(move |db| {
            Box::pin(async move {
                let sql =
                    format!("SELECT id FROM teams WHERE account_id = $1 AND id = $2{}", db.lock(Lock::NoKeyUpdate));
                if db.row(&sql, args![account.0, id.0]).await?.is_none() {
                    return Err(StorageError::NotFound);
                }
                let sql = format!(
                    "SELECT COUNT(*) FROM users WHERE account_id = $1 AND id IN (SELECT value FROM {})",
                    db.list("$2")
                );
                let known = db.row(&sql, args![account.0, wanted.clone()]).await?.map_or(Ok(0), |r| r.count(0))?;
                if usize::try_from(known).ok() != Some(wanted.len()) {
                    return Err(StorageError::Conflict { constraint: "team_members.user_id".into() });
                }
                db.exec("DELETE FROM team_members WHERE account_id = $1 AND team_id = $2", args![account.0, id.0])
                    .await?;
                let now = Utc::now();
                for m in wanted {
                    db.exec(
                        "INSERT INTO team_members (account_id, team_id, user_id, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
                        args![account.0, id.0, m, now],
                    )
                    .await?;
                }
                team_by_id(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn delete_team(&self, account: AccountId, id: TeamId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                found(db.exec("DELETE FROM teams WHERE account_id = $1 AND id = $2", args![account.0, id.0]).await?)
            })
        })
        .await
    }
}
