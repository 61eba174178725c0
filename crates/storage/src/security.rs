//! Sign-in security: a user's second factor (TOTP secret, single-use
//! recovery codes by their hash), pending two-step logins, the sessions a
//! user has open (listed and revoked by id), the account's security
//! settings, and failed-attempt counters shared by every node.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::User;
use ferry_core::throttle::{FailureOutcome, ThrottlePolicy, ThrottleState};
use ferry_core::{AccountId, UserId};

/// A user's second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoFactorRecord {
    /// The TOTP secret (base32).
    pub secret: String,
    /// When it was enabled (`None`: set up, not yet confirmed).
    pub enabled_at: Option<DateTime<Utc>>,
    /// The last TOTP time step accepted.
    pub last_step: Option<i64>,
}

/// A new session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of its secret.
    pub token_hash: String,
    /// Where the login came from.
    pub ip: Option<String>,
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
    /// Opened.
    pub now: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
}

/// An open session of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Public id.
    pub id: i64,
    /// SHA-256 of its secret.
    pub token_hash: String,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// Last request.
    pub last_seen_at: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
    /// Address at login.
    pub ip: Option<String>,
    /// Browser at login.
    pub user_agent: Option<String>,
}

/// Who a session cookie belongs to, and what the session may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAuth {
    /// The user.
    pub user: User,
    /// The session's public id.
    pub session_id: i64,
    /// The account requires a second factor and the user has none: the
    /// session may only set one up.
    pub two_factor_missing: bool,
    /// Last request before this one.
    pub last_seen_at: DateTime<Utc>,
}

/// A pending two-step login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginChallenge {
    /// The user.
    pub user: User,
    /// Address at login.
    pub ip: Option<String>,
    /// Browser at login.
    pub user_agent: Option<String>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
}

/// Sign-in security.
#[async_trait]
pub trait SecurityRepo {
    /// The user's second factor, set up or enabled.
    async fn get_two_factor(&self, account: AccountId, user: UserId) -> StorageResult<Option<TwoFactorRecord>>;
    /// Sets up a new secret, not yet enabled; replaces one not enabled
    /// (`Conflict { constraint: "two_factor.enabled" }` when one is).
    async fn set_up_two_factor(
        &self,
        account: AccountId,
        user: UserId,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// Enables the secret set up, accepting `step`, and replaces the
    /// recovery codes with `code_hashes`. `NotFound` when none is set up;
    /// `Conflict { constraint: "two_factor.enabled" }` when already on.
    async fn enable_two_factor(
        &self,
        account: AccountId,
        user: UserId,
        step: i64,
        code_hashes: &[String],
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// Removes the second factor and its recovery codes.
    async fn disable_two_factor(&self, account: AccountId, user: UserId) -> StorageResult<()>;
    /// Accepts TOTP time step `step` unless it is not later than the last
    /// one accepted (a replay); whether it was accepted.
    async fn accept_totp_step(&self, account: AccountId, user: UserId, step: i64) -> StorageResult<bool>;
    /// Uses up the unused recovery code with this hash; whether there was
    /// one.
    async fn use_recovery_code(
        &self,
        account: AccountId,
        user: UserId,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<bool>;
    /// Recovery codes not yet used.
    async fn unused_recovery_codes(&self, account: AccountId, user: UserId) -> StorageResult<u32>;

    /// Stores a pending two-step login.
    async fn create_login_challenge(
        &self,
        token_hash: &str,
        user: &User,
        ip: Option<String>,
        user_agent: Option<String>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// A live pending login.
    async fn get_login_challenge(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<LoginChallenge>>;
    /// Ends a pending login.
    async fn delete_login_challenge(&self, token_hash: &str) -> StorageResult<()>;

    /// Opens a session for `user`; returns it.
    async fn open_session(&self, user: &User, new: NewSession) -> StorageResult<SessionRecord>;
    /// The user and state of a live session; records the request as its
    /// last use when the last one is older than a minute.
    async fn session_auth(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<SessionAuth>>;
    /// The user's live sessions, newest first.
    async fn list_sessions(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StorageResult<Vec<SessionRecord>>;
    /// Ends one session of the user (`NotFound` for none of theirs).
    async fn revoke_session(&self, account: AccountId, user: UserId, id: i64) -> StorageResult<()>;
    /// Ends every session of the user but `keep`; how many ended.
    async fn revoke_other_sessions(&self, account: AccountId, user: UserId, keep: Option<i64>) -> StorageResult<u64>;

    /// Whether the account requires a second factor of every user.
    async fn requires_two_factor(&self, account: AccountId) -> StorageResult<bool>;
    /// Sets whether the account requires a second factor.
    async fn set_requires_two_factor(&self, account: AccountId, on: bool, now: DateTime<Utc>) -> StorageResult<()>;

    /// A key's failed attempts.
    async fn throttle_state(&self, scope: &str, key_hash: &str) -> StorageResult<Option<ThrottleState>>;
    /// Counts one more failure of a key under `policy`, atomically across
    /// nodes; the new state and what the failure did.
    async fn record_failure(
        &self,
        scope: &str,
        key_hash: &str,
        policy: ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> StorageResult<(ThrottleState, FailureOutcome)>;
    /// Forgets a key's failures (after a success).
    async fn clear_failures(&self, scope: &str, key_hash: &str) -> StorageResult<()>;
}
