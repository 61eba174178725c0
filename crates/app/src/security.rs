//! Sign-in security: logins in one or two steps, the second factor (TOTP,
//! RFC 6238, with single-use recovery codes), failed-attempt limits shared
//! by every node, and the sessions a user has open.
//!
//! Secrets handed out (session and challenge secrets, recovery codes) are
//! kept only as SHA-256. The TOTP secret itself must be read back to check
//! codes, so it is the one secret the store holds as is. Logs carry no
//! e-mail, code or secret; failure counters are keyed by hashes.

use crate::auth::{Actor, new_secret, secret_hash, verify_password};
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use ferry_core::account::{Role, User, normalize_email};
use ferry_core::throttle::{FailureOutcome, ThrottlePolicy};
use ferry_core::{AccountId, UserId};
use ferry_storage::{AuditOutcome, NewAuditEntry, NewSession, SessionRecord};
use serde_json::json;
use std::net::IpAddr;

/// How long the second step of a login may take.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;
/// The issuer shown in authenticator apps.
pub const TOTP_ISSUER: &str = "Ferry";

const SCOPE_EMAIL: &str = "login_email";
const SCOPE_IP: &str = "login_ip";
const SCOPE_TWO_FACTOR: &str = "two_factor";
const SCOPE_TOKEN_IP: &str = "api_token_ip";

/// Where a request comes from.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The caller's address.
    pub ip: Option<IpAddr>,
    /// The browser's `User-Agent` (cut to 256 characters).
    pub user_agent: Option<String>,
}

impl ClientInfo {
    fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }

    fn agent(&self) -> Option<String> {
        self.user_agent.as_ref().map(|a| a.chars().take(256).collect())
    }
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in: the session's secret (for the cookie).
    Session {
        /// The user.
        user: User,
        /// The session's secret.
        secret: String,
    },
    /// The second factor is due: the challenge's secret.
    TwoFactor {
        /// The challenge's secret, to send back with the code.
        challenge: String,
        /// When it ends.
        expires_at: DateTime<Utc>,
    },
}

/// The caller of a session cookie.
#[derive(Debug, Clone)]
pub struct SessionActor {
    /// Who.
    pub actor: Actor,
    /// The session's public id.
    pub session_id: i64,
    /// The account requires a second factor the user has not set up: the
    /// session may only set it up.
    pub two_factor_missing: bool,
}

/// Where a user's second factor stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoFactorStatus {
    /// Enabled.
    pub enabled: bool,
    /// Recovery codes left.
    pub recovery_codes_left: u32,
    /// Required by the account.
    pub required: bool,
}

/// A secret being set up.
#[derive(Debug, Clone)]
pub struct TwoFactorSetup {
    /// Base32 secret, to type in by hand.
    pub secret: String,
    /// The `otpauth://` URI.
    pub otpauth_uri: String,
    /// The URI as a QR code (SVG).
    pub qr_svg: String,
}

fn key(scope: &str, value: &str) -> String {
    secret_hash(&format!("{scope}:{value}"))
}

fn locked(d: Duration) -> AppError {
    // Whole seconds, rounded up, at least one.
    let secs = u64::try_from(d.num_milliseconds()).unwrap_or(0).div_ceil(1000).max(1);
    AppError::Locked { retry_after_secs: secs }
}

fn totp(secret_b32: &str, label: &str) -> AppResult<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32)
        .map_err(|e| AppError::internal("reading a TOTP secret", e.to_string()))?;
    let label: String = label.chars().filter(|c| *c != ':').collect();
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(label)
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .map_err(|e| AppError::internal("building a TOTP", e.to_string()))
}

/// A code as typed: six digits (spaces allowed) are a TOTP code; anything
/// else is tried as a recovery code.
fn totp_digits(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A recovery code as stored: lower case, without separators.
fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// Ten random characters from an alphabet without look-alikes, shown as
/// `xxxxx-xxxxx`.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    rand::fill(&mut bytes);
    let chars: Vec<char> = bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect();
    let (a, b) = chars.split_at(5);
    format!("{}-{}", a.iter().collect::<String>(), b.iter().collect::<String>())
}

fn unix_seconds(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

impl App {
    /// Fails with `login_locked` while `key` of `scope` is locked.
    async fn check_lock(&self, scope: &str, key: &str) -> AppResult<()> {
        if let Some(s) = self.storage.throttle_state(scope, key).await?
            && let Some(d) = s.locked_for(self.clock.now())
        {
            return Err(locked(d));
        }
        Ok(())
    }

    /// Counts a failure; records bursts and locks in the audit log of the
    /// user's account when the user is known.
    async fn count_failure(&self, scope: &'static str, key: &str, policy: ThrottlePolicy, user: Option<&User>) {
        let now = self.clock.now();
        let outcome = match self.storage.record_failure(scope, key, policy, now).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, scope, "counting a failed attempt");
                return;
            }
        };
        let (state, outcome) = outcome;
        let action = match outcome {
            FailureOutcome::Counted => return,
            FailureOutcome::Burst => "auth.failed_attempts",
            FailureOutcome::Locked => "auth.locked",
        };
        tracing::warn!(scope, action, "repeated failed sign-in attempts");
        let Some(user) = user else { return };
        let details = match outcome {
            FailureOutcome::Locked => {
                json!({ "scope": scope, "locked_until": state.locked_until, "locks": state.locks })
            }
            _ => json!({ "scope": scope, "failures": state.failures }),
        };
        let entry = NewAuditEntry {
            actor_id: None,
            actor_name: "sign-in".into(),
            action: action.into(),
            target_kind: "user".into(),
            target_id: user.id.0.to_string(),
            details,
            outcome: AuditOutcome::Failed,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(user.account_id, entry, now).await {
            tracing::error!(error = %e, "writing the audit log");
        }
    }

    async fn audit_user(&self, user: &User, action: &str, details: serde_json::Value) -> AppResult<()> {
        let entry = NewAuditEntry {
            actor_id: Some(user.id),
            actor_name: user.name.clone(),
            action: action.into(),
            target_kind: "user".into(),
            target_id: user.id.0.to_string(),
            details,
            outcome: AuditOutcome::Ok,
            error: None,
        };
        self.storage.append_audit(user.account_id, entry, self.clock.now()).await?;
        Ok(())
    }

    /// Opens a session for `user`.
    async fn open_session(&self, user: &User, client: &ClientInfo) -> AppResult<(String, SessionRecord)> {
        let secret = new_secret();
        let now = self.clock.now();
        let rec = self
            .storage
            .open_session(
                user,
                NewSession {
                    token_hash: secret_hash(&secret),
                    ip: client.ip_text(),
                    user_agent: client.agent(),
                    now,
                    expires_at: now + self.config.session_ttl,
                },
            )
            .await?;
        Ok((secret, rec))
    }

    /// Checks e-mail and password under the failure limits (per e-mail and
    /// per address). A user with a second factor gets a challenge; anyone
    /// else a new session. `previous` (the session cookie the browser
    /// sent, if any) ends: every login gets a new secret.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
        previous: Option<&str>,
    ) -> AppResult<LoginOutcome> {
        let bad = AppError::Unauthorized("wrong e-mail or password");
        let normalized = normalize_email(email).unwrap_or_else(|| email.trim().to_lowercase());
        let email_key = key(SCOPE_EMAIL, &normalized);
        let ip_key = client.ip.map(|ip| key(SCOPE_IP, &ip.to_string()));
        self.check_lock(SCOPE_EMAIL, &email_key).await?;
        if let Some(k) = &ip_key {
            self.check_lock(SCOPE_IP, k).await?;
        }
        let found = match normalize_email(email) {
            Some(e) => self.storage.find_login(&e).await?,
            None => None,
        };
        let ok = match &found {
            Some((_, hash)) => verify_password(password, hash),
            None => {
                crate::auth::spend_a_password_check(password);
                false
            }
        };
        let user = found.map(|(u, _)| u);
        if !ok {
            self.count_failure(SCOPE_EMAIL, &email_key, ThrottlePolicy::LOGIN_EMAIL, user.as_ref()).await;
            if let Some(k) = &ip_key {
                self.count_failure(SCOPE_IP, k, ThrottlePolicy::LOGIN_IP, user.as_ref()).await;
            }
            return Err(bad);
        }
        let Some(user) = user else { return Err(bad) };
        self.storage.clear_failures(SCOPE_EMAIL, &email_key).await?;
        if let Some(prev) = previous {
            self.storage.delete_session(&secret_hash(prev)).await?;
        }
        let two_factor = self.storage.get_two_factor(user.account_id, user.id).await?;
        if two_factor.is_some_and(|t| t.enabled_at.is_some()) {
            let challenge = new_secret();
            let now = self.clock.now();
            let expires_at = now + CHALLENGE_TTL;
            self.storage
                .create_login_challenge(
                    &secret_hash(&challenge),
                    &user,
                    client.ip_text(),
                    client.agent(),
                    now,
                    expires_at,
                )
                .await?;
            return Ok(LoginOutcome::TwoFactor { challenge, expires_at });
        }
        let (secret, _) = self.open_session(&user, client).await?;
        Ok(LoginOutcome::Session { user, secret })
    }

    /// Checks a TOTP or recovery code of `user`; counts failures.
    async fn check_second_factor(&self, user: &User, code: &str, client: &ClientInfo) -> AppResult<bool> {
        let user_key = key(SCOPE_TWO_FACTOR, &user.id.0.to_string());
        let ip_key = client.ip.map(|ip| key(SCOPE_IP, &ip.to_string()));
        self.check_lock(SCOPE_TWO_FACTOR, &user_key).await?;
        if let Some(k) = &ip_key {
            self.check_lock(SCOPE_IP, k).await?;
        }
        let Some(rec) = self.storage.get_two_factor(user.account_id, user.id).await? else { return Ok(false) };
        if rec.enabled_at.is_none() {
            return Ok(false);
        }
        let ok = match totp_digits(code) {
            Some(digits) => match totp(&rec.secret, &user.email)?.check(&digits, unix_seconds(self.clock.now())) {
                Some(step) => {
                    self.storage
                        .accept_totp_step(user.account_id, user.id, i64::try_from(step).unwrap_or(i64::MAX))
                        .await?
                }
                None => false,
            },
            None => {
                let code = normalize_recovery(code);
                !code.is_empty()
                    && self
                        .storage
                        .use_recovery_code(user.account_id, user.id, &secret_hash(&code), self.clock.now())
                        .await?
            }
        };
        if ok {
            self.storage.clear_failures(SCOPE_TWO_FACTOR, &user_key).await?;
        } else {
            self.count_failure(SCOPE_TWO_FACTOR, &user_key, ThrottlePolicy::TWO_FACTOR, Some(user)).await;
            if let Some(k) = &ip_key {
                self.count_failure(SCOPE_IP, k, ThrottlePolicy::LOGIN_IP, Some(user)).await;
            }
        }
        Ok(ok)
    }

    /// The second step of a login: a TOTP code or a recovery code for the
    /// challenge gives a new session.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_second_factor(
        &self,
        challenge: &str,
        code: &str,
        client: &ClientInfo,
    ) -> AppResult<(User, String)> {
        let hash = secret_hash(challenge);
        let c = self
            .storage
            .get_login_challenge(&hash, self.clock.now())
            .await?
            .ok_or(AppError::Unauthorized("the login has expired; enter your e-mail and password again"))?;
        if !self.check_second_factor(&c.user, code, client).await? {
            return Err(AppError::Unauthorized("wrong or already used code"));
        }
        self.storage.delete_login_challenge(&hash).await?;
        let (secret, _) = self.open_session(&c.user, client).await?;
        Ok((c.user, secret))
    }

    /// The caller of a session cookie.
    pub async fn session_actor(&self, session_secret: &str) -> AppResult<SessionActor> {
        let a = self
            .storage
            .session_auth(&secret_hash(session_secret), self.clock.now())
            .await?
            .ok_or(AppError::Unauthorized("the session has ended; log in again"))?;
        Ok(SessionActor {
            actor: self.actor_of(a.user).await?,
            session_id: a.session_id,
            two_factor_missing: a.two_factor_missing,
        })
    }

    /// The actor of an API access token, under the per-address failure
    /// limit.
    pub async fn token_actor(&self, token: &str, ip: Option<IpAddr>) -> AppResult<Actor> {
        let ip_key = ip.map(|ip| key(SCOPE_TOKEN_IP, &ip.to_string()));
        if let Some(k) = &ip_key {
            self.check_lock(SCOPE_TOKEN_IP, k).await?;
        }
        match self.actor_from_token(token).await {
            Err(AppError::Unauthorized(m)) => {
                if let Some(k) = &ip_key {
                    self.count_failure(SCOPE_TOKEN_IP, k, ThrottlePolicy::API_TOKEN_IP, None).await;
                }
                Err(AppError::Unauthorized(m))
            }
            other => other,
        }
    }

    /// Ends every session of `user` but `keep`: after a change of role,
    /// password or second factor.
    pub async fn revoke_sessions_after_change(&self, user: &User, keep: Option<i64>) -> AppResult<u64> {
        Ok(self.storage.revoke_other_sessions(user.account_id, user.id, keep).await?)
    }

    /// Ends the caller's sessions and opens a new one (`None` when the
    /// caller used an API token: their sessions just end).
    async fn rotate(&self, actor: &Actor, client: &ClientInfo, session: Option<i64>) -> AppResult<Option<String>> {
        self.storage.revoke_other_sessions(actor.account(), actor.user.id, None).await?;
        if session.is_none() {
            return Ok(None);
        }
        Ok(Some(self.open_session(&actor.user, client).await?.0))
    }

    /// Where the caller's second factor stands.
    pub async fn two_factor_status(&self, actor: &Actor) -> AppResult<TwoFactorStatus> {
        let rec = self.storage.get_two_factor(actor.account(), actor.user.id).await?;
        let enabled = rec.is_some_and(|r| r.enabled_at.is_some());
        let left = if enabled { self.storage.unused_recovery_codes(actor.account(), actor.user.id).await? } else { 0 };
        let required = self.storage.requires_two_factor(actor.account()).await?;
        Ok(TwoFactorStatus { enabled, recovery_codes_left: left, required })
    }

    /// Makes a new secret for the caller, not active until confirmed with
    /// a code.
    #[tracing::instrument(skip_all, fields(user_id = actor.user.id.0))]
    pub async fn set_up_two_factor(&self, actor: &Actor) -> AppResult<TwoFactorSetup> {
        let mut bytes = [0u8; 20];
        rand::fill(&mut bytes);
        let secret = totp_rs::Secret::from(bytes.to_vec()).to_base32();
        let t = totp(&secret, &actor.user.email)?;
        let uri = t.to_url().map_err(|e| AppError::internal("the otpauth URI", e.to_string()))?;
        let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| AppError::internal("the QR code", e.to_string()))?;
        let svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
        self.storage.set_up_two_factor(actor.account(), actor.user.id, &secret, self.clock.now()).await.map_err(
            |e| match e {
                ferry_storage::StorageError::Conflict { .. } => {
                    AppError::Conflict("two-factor authentication is already on; turn it off first".into())
                }
                other => other.into(),
            },
        )?;
        Ok(TwoFactorSetup { secret, otpauth_uri: uri, qr_svg: svg })
    }

    /// Turns the set-up secret on with a code from it; returns the
    /// recovery codes (shown once) and, for a session caller, the secret
    /// of the new session that replaces all of theirs.
    #[tracing::instrument(skip_all, fields(user_id = actor.user.id.0))]
    pub async fn enable_two_factor(
        &self,
        actor: &Actor,
        code: &str,
        client: &ClientInfo,
        session: Option<i64>,
    ) -> AppResult<(Vec<String>, Option<String>)> {
        let user = &actor.user;
        let user_key = key(SCOPE_TWO_FACTOR, &user.id.0.to_string());
        self.check_lock(SCOPE_TWO_FACTOR, &user_key).await?;
        let rec = self
            .storage
            .get_two_factor(actor.account(), user.id)
            .await?
            .ok_or_else(|| AppError::Conflict("set up two-factor authentication first".into()))?;
        if rec.enabled_at.is_some() {
            return Err(AppError::Conflict("two-factor authentication is already on".into()));
        }
        let step = totp_digits(code)
            .and_then(|d| totp(&rec.secret, &user.email).ok()?.check(&d, unix_seconds(self.clock.now())));
        let Some(step) = step else {
            self.count_failure(SCOPE_TWO_FACTOR, &user_key, ThrottlePolicy::TWO_FACTOR, Some(user)).await;
            return Err(AppError::invalid("code", "the code is not right; enter the current code of your app"));
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| secret_hash(&normalize_recovery(c))).collect();
        self.storage
            .enable_two_factor(
                actor.account(),
                user.id,
                i64::try_from(step).unwrap_or(i64::MAX),
                &hashes,
                self.clock.now(),
            )
            .await?;
        self.storage.clear_failures(SCOPE_TWO_FACTOR, &user_key).await?;
        self.audit_user(user, "auth.two_factor_enabled", json!({})).await?;
        let secret = self.rotate(actor, client, session).await?;
        Ok((codes, secret))
    }

    /// Turns the second factor off (password and a current code or a
    /// recovery code); for a session caller, the secret of the new session
    /// that replaces all of theirs.
    #[tracing::instrument(skip_all, fields(user_id = actor.user.id.0))]
    pub async fn disable_two_factor(
        &self,
        actor: &Actor,
        password: &str,
        code: &str,
        client: &ClientInfo,
        session: Option<i64>,
    ) -> AppResult<Option<String>> {
        let user = &actor.user;
        let rec = self.storage.get_two_factor(actor.account(), user.id).await?;
        if rec.is_none_or(|r| r.enabled_at.is_none()) {
            return Err(AppError::Conflict("two-factor authentication is not on".into()));
        }
        let user_key = key(SCOPE_TWO_FACTOR, &user.id.0.to_string());
        self.check_lock(SCOPE_TWO_FACTOR, &user_key).await?;
        let hash = self
            .storage
            .find_login(&user.email)
            .await?
            .filter(|(u, _)| u.id == user.id)
            .map(|(_, h)| h)
            .ok_or(AppError::NotFound("user"))?;
        if !verify_password(password, &hash) {
            self.count_failure(SCOPE_TWO_FACTOR, &user_key, ThrottlePolicy::TWO_FACTOR, Some(user)).await;
            return Err(AppError::invalid("password", "the password is not right"));
        }
        if !self.check_second_factor(user, code, client).await? {
            return Err(AppError::invalid("code", "the code is not right or was already used"));
        }
        self.storage.disable_two_factor(actor.account(), user.id).await?;
        self.audit_user(user, "auth.two_factor_disabled", json!({})).await?;
        self.rotate(actor, client, session).await
    }

    /// The caller's live sessions, newest first.
    pub async fn list_sessions(&self, actor: &Actor) -> AppResult<Vec<SessionRecord>> {
        Ok(self.storage.list_sessions(actor.account(), actor.user.id, self.clock.now()).await?)
    }

    /// Ends one of the caller's sessions.
    pub async fn revoke_session(&self, actor: &Actor, id: i64) -> AppResult<()> {
        self.storage.revoke_session(actor.account(), actor.user.id, id).await.map_err(|e| match e {
            ferry_storage::StorageError::NotFound => AppError::NotFound("session"),
            other => other.into(),
        })
    }

    /// Ends every session of the caller but the current one; how many.
    pub async fn revoke_other_sessions(&self, actor: &Actor, current: Option<i64>) -> AppResult<u64> {
        let n = self.storage.revoke_other_sessions(actor.account(), actor.user.id, current).await?;
        self.audit_user(&actor.user, "auth.sessions_revoked", json!({ "sessions": n })).await?;
        Ok(n)
    }

    /// Whether the account requires a second factor of everyone.
    pub async fn requires_two_factor(&self, actor: &Actor, account: AccountId) -> AppResult<bool> {
        actor.in_account(account)?;
        Ok(self.storage.requires_two_factor(account).await?)
    }

    /// Sets whether the account requires a second factor (owners only).
    pub async fn set_requires_two_factor(&self, actor: &Actor, account: AccountId, on: bool) -> AppResult<bool> {
        actor.in_account(account)?;
        if actor.user.role != Role::Owner {
            return Err(AppError::Forbidden("only owners can change the account's sign-in rules"));
        }
        self.storage.set_requires_two_factor(account, on, self.clock.now()).await?;
        self.audit_user(&actor.user, "account.require_two_factor", json!({ "on": on })).await?;
        Ok(on)
    }

    /// The user of an id in the account (for role changes).
    pub async fn revoke_sessions_of(&self, account: AccountId, user: UserId) -> AppResult<u64> {
        Ok(self.storage.revoke_other_sessions(account, user, None).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_told_apart_and_normalised() {
        assert_eq!(totp_digits("123 456").as_deref(), Some("123456"));
        assert_eq!(totp_digits("12345"), None);
        assert_eq!(totp_digits("abcde-12345"), None);
        assert_eq!(normalize_recovery(" ABCDE-fghjk "), "abcdefghjk");
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(c.as_bytes()[5], b'-');
        assert_ne!(c, new_recovery_code());
    }

    #[test]
    fn totp_codes_follow_rfc_6238() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at
        // 59 s gives 94287082 (8 digits); with 6 digits, 287082.
        let secret = totp_rs::Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let t = totp(&secret, "user@example.com").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.generate(59).to_string(), "287082");
        assert_eq!(t.check("287082", 59), Some(1));
        assert_eq!(t.check("287082", 59 + 90), None);
    }
}
