//! Passwords, sessions and API tokens.
//!
//! Secrets handed to clients are 32 random bytes; the store keeps only
//! their SHA-256, so a database leak reveals no usable token.

use crate::{App, AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use ferry_core::AccountId;
use ferry_core::account::{Role, User, normalize_email};
use sha2::{Digest, Sha256};

/// Hashes a password with Argon2id.
pub fn hash_password(password: &str) -> AppResult<String> {
    check_password(password)?;
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h: PasswordHash| h)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal("hashing a password", e.to_string()))
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Password rules: 8 to 128 characters.
pub fn check_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(AppError::invalid("password", "the password must have 8 to 128 characters"));
    }
    Ok(())
}

/// A new random secret, URL-safe.
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::fill(&mut b);
    hex::encode(b)
}

/// What the store keeps of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Who is calling, and in which account.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user.
    pub user: User,
}

impl Actor {
    /// The account the actor works in.
    pub fn account(&self) -> AccountId {
        self.user.account_id
    }

    /// Fails unless the actor belongs to `account`. A foreign account looks
    /// like a missing one.
    pub fn in_account(&self, account: AccountId) -> AppResult<()> {
        if self.user.account_id == account { Ok(()) } else { Err(AppError::NotFound("account")) }
    }

    /// Fails unless the role may manage inboxes.
    pub fn can_manage_inboxes(&self) -> AppResult<()> {
        if self.user.role.can_manage_inboxes() {
            Ok(())
        } else {
            Err(AppError::Forbidden("only owners and admins can manage inboxes"))
        }
    }

    /// Fails unless the role may change the bot.
    pub fn can_manage_bot(&self) -> AppResult<()> {
        if self.user.role.can_manage_bot() {
            Ok(())
        } else {
            Err(AppError::Forbidden("only owners and admins can change the bot"))
        }
    }

    /// Fails unless the role may manage agents and teams.
    pub fn can_manage_agents(&self) -> AppResult<()> {
        if self.user.role.can_manage_agents() {
            Ok(())
        } else {
            Err(AppError::Forbidden("only owners and admins can manage agents and teams"))
        }
    }

    /// Fails unless the role may manage the account's canned responses.
    pub fn can_manage_canned_responses(&self) -> AppResult<()> {
        if self.user.role.can_manage_canned_responses() {
            Ok(())
        } else {
            Err(AppError::Forbidden("only owners and admins can manage canned responses"))
        }
    }

    /// Fails unless the actor may give `role` to somebody.
    pub fn can_grant(&self, role: Role) -> AppResult<()> {
        if self.user.role.can_grant(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your role cannot grant this role"))
        }
    }
}

impl App {
    /// Checks e-mail and password; on success opens a session and returns
    /// its secret (for the cookie).
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, email: &str, password: &str) -> AppResult<(User, String)> {
        let bad = AppError::Unauthorized("wrong e-mail or password");
        let email = normalize_email(email).ok_or(AppError::Unauthorized("wrong e-mail or password"))?;
        let Some((user, hash)) = self.storage.find_login(&email).await? else {
            // Spend the same time as a real check so timing does not reveal
            // which e-mails exist.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| hash_password("no such user here").unwrap_or_default());
            let _ = verify_password(password, dummy);
            return Err(bad);
        };
        if !verify_password(password, &hash) {
            return Err(bad);
        }
        self.ensure_active(user.account_id).await?;
        let secret = new_secret();
        let now = self.clock.now();
        self.storage.create_session(&secret_hash(&secret), &user, now, now + self.config.session_ttl).await?;
        Ok((user, secret))
    }

    /// Ends a session.
    pub async fn logout(&self, session_secret: &str) -> AppResult<()> {
        Ok(self.storage.delete_session(&secret_hash(session_secret)).await?)
    }

    /// The actor of a session cookie.
    pub async fn actor_from_session(&self, session_secret: &str) -> AppResult<Actor> {
        let user = self.storage.session_user(&secret_hash(session_secret), self.clock.now()).await?;
        let user = user.ok_or(AppError::Unauthorized("the session has ended; log in again"))?;
        self.ensure_active(user.account_id).await?;
        Ok(Actor { user })
    }

    /// The actor of an API access token.
    pub async fn actor_from_token(&self, token: &str) -> AppResult<Actor> {
        let user = self.storage.token_user(&secret_hash(token)).await?;
        let user = user.ok_or(AppError::Unauthorized("invalid API access token"))?;
        self.ensure_active(user.account_id).await?;
        Ok(Actor { user })
    }

    /// Issues a new API access token acting as `user`; returns the secret,
    /// shown once.
    pub async fn issue_token(&self, user: &User, name: &str) -> AppResult<String> {
        let secret = new_secret();
        self.storage.create_api_token(user, name, &secret_hash(&secret), self.clock.now()).await?;
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse").unwrap_or_default();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret();
        assert_ne!(a, new_secret());
        assert_eq!(a.len(), 64);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), a);
    }
}
