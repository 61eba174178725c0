//! Second factors, recovery codes, pending logins, session details, the
//! account's security settings and failed-attempt counters.

use super::accounts::user;
use crate::args;
use crate::db::{Backend, Db, Lock, Row, found, lock_key};
use crate::error::{StorageError, StorageResult};
use crate::security::*;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ferry_core::account::User;
use ferry_core::throttle::{FailureOutcome, ThrottlePolicy, ThrottleState};
use ferry_core::{AccountId, UserId};

/// A session's public id: 52 bits derived from the hash of its secret
/// (which reveals nothing of the secret), so clients can name it.
pub(crate) fn session_id(token_hash: &str) -> i64 {
    let h = u64::from_ne_bytes(lock_key(&["session", token_hash]).to_ne_bytes());
    i64::try_from(h >> 12).unwrap_or(0) + 1
}

/// The user columns, qualified for joins.
const USER_COLS: &str =
    "users.id, users.account_id, users.name, users.email, users.role, users.languages, users.created_at";

const SESSION_COLS: &str = "id, token_hash, created_at, COALESCE(last_seen_at, created_at), expires_at, ip, user_agent";

fn session(r: &Row) -> StorageResult<SessionRecord> {
    Ok(SessionRecord {
        id: r.opt_int(0)?.unwrap_or(0),
        token_hash: r.text(1)?,
        created_at: r.time(2)?,
        last_seen_at: r.time(3)?,
        expires_at: r.time(4)?,
        ip: r.opt_text(5)?,
        user_agent: r.opt_text(6)?,
    })
}

fn throttle(r: &Row) -> StorageResult<ThrottleState> {
    let n = |i: usize| -> StorageResult<u32> { Ok(u32::try_from(r.int(i)?.max(0)).unwrap_or(u32::MAX)) };
    Ok(ThrottleState { failures: n(0)?, window_started_at: r.time(1)?, locked_until: r.opt_time(2)?, locks: n(3)? })
}

async fn throttle_of<D: Db>(db: &mut D, scope: &str, key: &str, lock: Lock) -> StorageResult<Option<ThrottleState>> {
    let sql = format!(
        "SELECT failures, window_started_at, locked_until, locks FROM auth_throttles \
         WHERE scope = $1 AND key_hash = $2{}",
        db.lock(lock)
    );
    db.row(&sql, args![scope, key]).await?.as_ref().map(throttle).transpose()
}

/// How stale a session's last use may get before a request records it.
const SEEN_EVERY: Duration = Duration::minutes(1);

#[async_trait]
impl<B: Backend> SecurityRepo for B {
    async fn get_two_factor(&self, account: AccountId, user: UserId) -> StorageResult<Option<TwoFactorRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT secret, enabled_at, last_step FROM two_factor WHERE account_id = $1 AND user_id = $2",
                        args![account.0, user.0],
                    )
                    .await?;
                r.map(|r| {
                    Ok(TwoFactorRecord { secret: r.text(0)?, enabled_at: r.opt_time(1)?, last_step: r.opt_int(2)? })
                })
                .transpose()
            })
        })
        .await
    }

    async fn set_up_two_factor(
        &self,
        account: AccountId,
        user: UserId,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let secret = secret.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                // The user's row is locked so two set-ups at once cannot
                // both insert.
                let sql = format!("SELECT id FROM users WHERE account_id = $1 AND id = $2{}", db.lock(Lock::NoKeyUpdate));
                if db.row(&sql, args![account.0, user.0]).await?.is_none() {
                    return Err(StorageError::NotFound);
                }
                let r = db
                    .row(
                        "SELECT enabled_at FROM two_factor WHERE account_id = $1 AND user_id = $2",
                        args![account.0, user.0],
                    )
                    .await?;
                if r.map(|r| r.opt_time(0)).transpose()?.flatten().is_some() {
                    return Err(StorageError::Conflict { constraint: "two_factor.enabled".into() });
                }
                db.exec("DELETE FROM two_factor WHERE account_id = $1 AND user_id = $2", args![account.0, user.0])
                    .await?;
                db.exec(
                    "INSERT INTO two_factor (user_id, account_id, secret, enabled_at, last_step, created_at, updated_at) \
                     VALUES ($1, $2, $3, NULL, NULL, $4, $4)",
                    args![user.0, account.0, secret, now],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn enable_two_factor(
        &self,
        account: AccountId,
        user: UserId,
        step: i64,
        code_hashes: &[String],
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let codes = code_hashes.to_vec();
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT enabled_at FROM two_factor WHERE account_id = $1 AND user_id = $2{}",
                    db.lock(Lock::NoKeyUpdate)
                );
                let r = db.row(&sql, args![account.0, user.0]).await?.ok_or(StorageError::NotFound)?;
                if r.opt_time(0)?.is_some() {
                    return Err(StorageError::Conflict { constraint: "two_factor.enabled".into() });
                }
                db.exec(
                    "UPDATE two_factor SET enabled_at = $3, last_step = $4, updated_at = $3 \
                     WHERE account_id = $1 AND user_id = $2",
                    args![account.0, user.0, now, step],
                )
                .await?;
                db.exec("DELETE FROM recovery_codes WHERE account_id = $1 AND user_id = $2", args![account.0, user.0])
                    .await?;
                for c in codes {
                    db.exec(
                        "INSERT INTO recovery_codes (account_id, user_id, code_hash, used_at, created_at, updated_at) \
                         VALUES ($1, $2, $3, NULL, $4, $4)",
                        args![account.0, user.0, c, now],
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn disable_two_factor(&self, account: AccountId, user: UserId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec("DELETE FROM recovery_codes WHERE account_id = $1 AND user_id = $2", args![account.0, user.0])
                    .await?;
                found(
                    db.exec("DELETE FROM two_factor WHERE account_id = $1 AND user_id = $2", args![account.0, user.0])
                        .await?,
                )
            })
        })
        .await
    }

    async fn accept_totp_step(&self, account: AccountId, user: UserId, step: i64) -> StorageResult<bool> {
        self.write(move |db| {
            Box::pin(async move {
                // One conditional update: two nodes checking the same code
                // at once cannot both accept it.
                let n = db
                    .exec(
                        "UPDATE two_factor SET last_step = $3 WHERE account_id = $1 AND user_id = $2 \
                         AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < $3)",
                        args![account.0, user.0, step],
                    )
                    .await?;
                Ok(n > 0)
            })
        })
        .await
    }

    async fn use_recovery_code(
        &self,
        account: AccountId,
        user: UserId,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let hash = code_hash.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE recovery_codes SET used_at = $4, updated_at = $4 \
                         WHERE account_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                        args![account.0, user.0, hash, now],
                    )
                    .await?;
                Ok(n > 0)
            })
        })
        .await
    }

    async fn unused_recovery_codes(&self, account: AccountId, user: UserId) -> StorageResult<u32> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND user_id = $2 AND used_at IS NULL",
                        args![account.0, user.0],
                    )
                    .await?;
                Ok(u32::try_from(r.map_or(Ok(0), |r| r.count(0))?).unwrap_or(u32::MAX))
            })
        })
        .await
    }

    async fn create_login_challenge(
        &self,
        token_hash: &str,
        user: &User,
        ip: Option<String>,
        user_agent: Option<String>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StorageResult<()> {
        let (hash, account, user) = (token_hash.to_owned(), user.account_id, user.id);
        self.write(move |db| {
            Box::pin(async move {
                db.exec("DELETE FROM login_challenges WHERE expires_at < $1", args![now]).await?;
                db.exec(
                    "INSERT INTO login_challenges (token_hash, account_id, user_id, ip, user_agent, expires_at, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                    args![hash, account.0, user.0, ip, user_agent, expires_at, now],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn get_login_challenge(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<LoginChallenge>> {
        let hash = token_hash.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {USER_COLS}, c.ip, c.user_agent, c.expires_at FROM login_challenges c \
                     JOIN users ON users.id = c.user_id AND users.account_id = c.account_id \
                     WHERE c.token_hash = $1 AND c.expires_at > $2"
                );
                let r = db.row(&sql, args![hash, now]).await?;
                r.map(|r| {
                    Ok(LoginChallenge {
                        user: user(&r)?,
                        ip: r.opt_text(7)?,
                        user_agent: r.opt_text(8)?,
                        expires_at: r.time(9)?,
                    })
                })
                .transpose()
            })
        })
        .await
    }

    async fn delete_login_challenge(&self, token_hash: &str) -> StorageResult<()> {
        let hash = token_hash.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                db.exec("DELETE FROM login_challenges WHERE token_hash = $1", args![hash]).await.map(drop)
            })
        })
        .await
    }

    async fn open_session(&self, user: &User, new: NewSession) -> StorageResult<SessionRecord> {
        let (account, user) = (user.account_id, user.id);
        self.write(move |db| {
            Box::pin(async move {
                let id = session_id(&new.token_hash);
                db.exec(
                    "INSERT INTO sessions (token_hash, account_id, user_id, expires_at, created_at, updated_at, id, \
                     ip, user_agent, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $5)",
                    args![&new.token_hash, account.0, user.0, new.expires_at, new.now, id, &new.ip, &new.user_agent],
                )
                .await?;
                db.exec("DELETE FROM sessions WHERE expires_at < $1", args![new.now]).await?;
                Ok(SessionRecord {
                    id,
                    token_hash: new.token_hash,
                    created_at: new.now,
                    last_seen_at: new.now,
                    expires_at: new.expires_at,
                    ip: new.ip,
                    user_agent: new.user_agent,
                })
            })
        })
        .await
    }

    async fn session_auth(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<SessionAuth>> {
        let hash = token_hash.to_owned();
        let found = self
            .read({
                let hash = hash.clone();
                move |db| {
                    Box::pin(async move {
                        let sql = format!(
                            "SELECT {USER_COLS}, s.id, COALESCE(s.last_seen_at, s.created_at), \
                             COALESCE(a.require_two_factor, $3), f.enabled_at \
                             FROM sessions s JOIN users ON users.id = s.user_id AND users.account_id = s.account_id \
                             LEFT JOIN account_security a ON a.account_id = s.account_id \
                             LEFT JOIN two_factor f ON f.user_id = s.user_id AND f.account_id = s.account_id \
                             WHERE s.token_hash = $1 AND s.expires_at > $2"
                        );
                        let Some(r) = db.row(&sql, args![hash, now, false]).await? else { return Ok(None) };
                        Ok(Some(SessionAuth {
                            user: user(&r)?,
                            session_id: r.opt_int(7)?.unwrap_or(0),
                            last_seen_at: r.time(8)?,
                            two_factor_missing: r.flag(9)? && r.opt_time(10)?.is_none(),
                        }))
                    })
                }
            })
            .await?;
        if let Some(a) = &found
            && now - a.last_seen_at >= SEEN_EVERY
        {
            self.write(move |db| {
                Box::pin(async move {
                    db.exec("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1", args![hash, now])
                        .await
                        .map(drop)
                })
            })
            .await?;
        }
        Ok(found)
    }

    async fn list_sessions(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StorageResult<Vec<SessionRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {SESSION_COLS} FROM sessions WHERE account_id = $1 AND user_id = $2 AND expires_at > $3 \
                     ORDER BY created_at DESC, id DESC"
                );
                db.rows(&sql, args![account.0, user.0, now]).await?.iter().map(session).collect()
            })
        })
        .await
    }

    async fn revoke_session(&self, account: AccountId, user: UserId, id: i64) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                found(
                    db.exec(
                        "DELETE FROM sessions WHERE account_id = $1 AND user_id = $2 AND id = $3",
                        args![account.0, user.0, id],
                    )
                    .await?,
                )
            })
        })
        .await
    }

    async fn revoke_other_sessions(&self, account: AccountId, user: UserId, keep: Option<i64>) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "DELETE FROM sessions WHERE account_id = $1 AND user_id = $2 AND ($3 IS NULL OR id IS NULL OR id <> $3)",
                    args![account.0, user.0, keep],
                )
                .await
            })
        })
        .await
    }

    async fn requires_two_factor(&self, account: AccountId) -> StorageResult<bool> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row("SELECT require_two_factor FROM account_security WHERE account_id = $1", args![account.0])
                    .await?;
                r.map_or(Ok(false), |r| r.flag(0))
            })
        })
        .await
    }

    async fn set_requires_two_factor(&self, account: AccountId, on: bool, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "INSERT INTO account_security (account_id, require_two_factor, created_at, updated_at) \
                     VALUES ($1, $2, $3, $3) ON CONFLICT (account_id) \
                     DO UPDATE SET require_two_factor = $2, updated_at = $3",
                    args![account.0, on, now],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn throttle_state(&self, scope: &str, key_hash: &str) -> StorageResult<Option<ThrottleState>> {
        let (scope, key) = (scope.to_owned(), key_hash.to_owned());
        self.read(move |db| Box::pin(async move { throttle_of(db, &scope, &key, Lock::None).await })).await
    }

    async fn record_failure(
        &self,
        scope: &str,
        key_hash: &str,
        policy: ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> StorageResult<(ThrottleState, FailureOutcome)> {
        let (scope, key) = (scope.to_owned(), key_hash.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                // The row may not exist yet: serialise the nodes counting
                // the same key so no failure is lost.
                db.serialize_on(vec![lock_key(&["auth_throttles", scope.as_str(), key.as_str()])]).await?;
                let prev = throttle_of(db, &scope, &key, Lock::Update).await?;
                let (next, outcome) = ThrottleState::after_failure(prev, &policy, now);
                db.exec(
                    "INSERT INTO auth_throttles (scope, key_hash, failures, window_started_at, locked_until, locks, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                     ON CONFLICT (scope, key_hash) DO UPDATE SET failures = $3, window_started_at = $4, \
                     locked_until = $5, locks = $6, updated_at = $7",
                    args![scope, key, next.failures, next.window_started_at, next.locked_until, next.locks, now],
                )
                .await?;
                Ok((next, outcome))
            })
        })
        .await
    }

    async fn clear_failures(&self, scope: &str, key_hash: &str) -> StorageResult<()> {
        let (scope, key) = (scope.to_owned(), key_hash.to_owned());
        self.write(move |db| {
            Box::pin(async move {
                db.exec("DELETE FROM auth_throttles WHERE scope = $1 AND key_hash = $2", args![scope, key])
                    .await
                    .map(drop)
            })
        })
        .await
    }
}
