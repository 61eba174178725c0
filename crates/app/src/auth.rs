//! Passwords, sessions and API tokens.
//!
//! Secrets handed to clients are 32 random bytes; the store keeps only
//! their SHA-256, so a database leak reveals no usable token.

use crate::{App, AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use ferry_core::AccountId;
use ferry_core::account::{CustomRole, CustomRoleId, Permission, Permissions, Role, User, normalize_email};
use sha2::{Digest, Sha256};

/// Hashes a new password with Argon2id (checking its length; the whole
/// policy is [`crate::passwords::check_new_password`]).
pub fn hash_password(password: &str) -> AppResult<String> {
    check_password(password)?;
    crate::passwords::hash(password)
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The length rule of new passwords: 10 to 128 characters.
pub fn check_password(password: &str) -> AppResult<()> {
    crate::passwords::check_length("password", password)
}

/// Spends the time of a real password check, so timing does not reveal
/// which e-mails exist.
pub fn spend_a_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("no such user here").unwrap_or_default());
    let _ = verify_password(password, dummy);
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

/// Who is calling, and in which account, and what they may do: their
/// custom role's permissions when they hold one, else their built-in
/// role's. Every permission check goes through here.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user.
    pub user: User,
    /// What they may do.
    pub permissions: Permissions,
    /// The custom role they hold, if any.
    pub custom_role: Option<CustomRoleId>,
}

impl Actor {
    /// An actor with the user's built-in role.
    pub fn new(user: User) -> Self {
        let permissions = user.role.permissions();
        Self { user, permissions, custom_role: None }
    }

    /// An actor holding a custom role (or the built-in one when `None`).
    pub fn with_role(user: User, role: Option<CustomRole>) -> Self {
        match role {
            Some(r) => Self { user, permissions: r.permissions, custom_role: Some(r.id) },
            None => Self::new(user),
        }
    }

    /// The account the actor works in.
    pub fn account(&self) -> AccountId {
        self.user.account_id
    }

    /// Fails unless the actor belongs to `account`. A foreign account looks
    /// like a missing one.
    pub fn in_account(&self, account: AccountId) -> AppResult<()> {
        if self.user.account_id == account { Ok(()) } else { Err(AppError::NotFound("account")) }
    }

    /// Whether the actor holds `p`.
    pub fn may(&self, p: Permission) -> bool {
        self.permissions.has(p)
    }

    fn require(&self, p: Permission, message: &'static str) -> AppResult<()> {
        if self.may(p) { Ok(()) } else { Err(AppError::Forbidden(message)) }
    }

    /// Fails unless the role may manage inboxes.
    pub fn can_manage_inboxes(&self) -> AppResult<()> {
        self.require(Permission::ManageInboxes, "only owners and admins can manage inboxes")
    }

    /// Fails unless the role may change the bot.
    pub fn can_manage_bot(&self) -> AppResult<()> {
        self.require(Permission::ManageBot, "only owners and admins can change the bot")
    }

    /// Fails unless the role may manage agents and teams.
    pub fn can_manage_agents(&self) -> AppResult<()> {
        self.require(Permission::ManageAgents, "only owners and admins can manage agents and teams")
    }

    /// Fails unless the role may manage the account's canned responses.
    pub fn can_manage_canned_responses(&self) -> AppResult<()> {
        self.require(Permission::ManageCannedResponses, "only owners and admins can manage canned responses")
    }

    /// Fails unless the actor may read conversations and contacts.
    pub fn can_view(&self) -> AppResult<()> {
        self.require(Permission::View, "your role cannot see conversations and contacts")
    }

    /// Fails unless the actor may reply and write notes.
    pub fn can_reply(&self) -> AppResult<()> {
        self.require(Permission::Reply, "your role cannot reply to buyers")
    }

    /// Fails unless the actor may assign conversations and change their
    /// state.
    pub fn can_assign(&self) -> AppResult<()> {
        self.require(Permission::Assign, "your role cannot assign or change conversations")
    }

    /// Fails unless the actor may read reports.
    pub fn can_read_reports(&self) -> AppResult<()> {
        self.require(Permission::Reports, "only owners and admins can read reports")
    }

    /// Fails unless the actor may export a contact's data.
    pub fn can_export(&self) -> AppResult<()> {
        self.require(Permission::Export, "your role cannot export contacts' data")
    }

    /// Whether the actor sees buyers' phone numbers and e-mail addresses
    /// in clear.
    pub fn sees_unmasked(&self) -> bool {
        self.may(Permission::SeeUnmasked)
    }

    /// Fails unless the actor may reveal one contact's data on demand.
    pub fn can_unmask(&self) -> AppResult<()> {
        if self.may(Permission::SeeUnmasked) || self.may(Permission::Unmask) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your role cannot reveal buyers' phone numbers and e-mail addresses"))
        }
    }

    /// Fails unless the actor may refund `amount_minor` (`None`: an amount
    /// not known yet).
    pub fn can_refund(&self, amount_minor: Option<i64>) -> AppResult<()> {
        if self.permissions.may_refund(amount_minor) {
            Ok(())
        } else if self.custom_role.is_none() {
            Err(AppError::Forbidden("only owners and admins can refund orders"))
        } else {
            Err(AppError::Forbidden("the refund is above your role's limit"))
        }
    }

    /// Fails unless the actor may give `role` to somebody: owners only by
    /// owners, other roles by whoever manages agents.
    pub fn can_grant(&self, role: Role) -> AppResult<()> {
        let ok = match role {
            Role::Owner => self.user.role == Role::Owner,
            Role::Admin | Role::Agent => self.may(Permission::ManageAgents),
        };
        if ok { Ok(()) } else { Err(AppError::Forbidden("your role cannot grant this role")) }
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
            spend_a_password_check(password);
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

    /// The actor of an API access token.
    pub async fn actor_from_token(&self, token: &str) -> AppResult<Actor> {
        let user = self.storage.token_user(&secret_hash(token)).await?;
        let user = user.ok_or(AppError::Unauthorized("invalid API access token"))?;
        self.actor_of(user).await
    }

    /// The actor of a user, with the custom role they hold; a suspended
    /// account's users are refused.
    pub async fn actor_of(&self, user: User) -> AppResult<Actor> {
        self.ensure_active(user.account_id).await?;
        let role = self.storage.user_custom_role(user.account_id, user.id).await?;
        Ok(Actor::with_role(user, role))
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
