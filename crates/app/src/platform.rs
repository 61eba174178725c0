//! The platform: what the server's operator does to accounts with the
//! server-wide platform token (or the command line): create an account
//! with its first owner, list accounts, suspend and reactivate them. Every
//! change is written to the account's audit log.
//!
//! A suspended account's users and API tokens get `403 account_suspended`
//! on every request; its channel webhooks are accepted and dropped (the
//! provider is answered 200 so it neither retries nor disables the
//! subscription, as Chatwoot does for inactive accounts; nothing is
//! stored); its outgoing webhooks send nothing.

use crate::auth::hash_password;
use crate::{App, AppError, AppResult};
use ferry_core::AccountId;
use ferry_core::account::{Role, User, normalize_email};
use ferry_storage::{AuditOutcome, NewAuditEntry, NewPlatformAccount, NewUser, PlatformAccount};

/// A new account and its first owner.
#[derive(Debug, Clone)]
pub struct NewAccountInput {
    /// The shop's name.
    pub name: String,
    /// IANA time zone (`Europe/Berlin`); empty: `UTC`.
    pub time_zone: String,
    /// Languages the account answers in, the default first; empty: `en`.
    pub languages: Vec<String>,
    /// The owner's login e-mail.
    pub owner_email: String,
    /// The owner's name.
    pub owner_name: String,
    /// The owner's first password.
    pub owner_password: String,
}

/// Largest page of accounts.
pub const MAX_ACCOUNTS_PAGE: u32 = 500;

/// Checks a language tag (`en`, `zh-CN`, `pt-BR`).
fn language(tag: &str) -> AppResult<String> {
    let t = tag.trim();
    let ok = !t.is_empty()
        && t.len() <= 35
        && t.split('-').all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && t.split('-').next().is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic()));
    if ok { Ok(t.to_owned()) } else { Err(AppError::invalid("languages", format!("`{t}` is not a language tag"))) }
}

impl App {
    /// Creates an account with its first owner; audited in the new account.
    #[tracing::instrument(skip_all)]
    pub async fn create_platform_account(&self, input: NewAccountInput) -> AppResult<(PlatformAccount, User)> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::invalid("name", "the account's name must have 1 to 200 characters"));
        }
        let tz = input.time_zone.trim();
        let time_zone = if tz.is_empty() { "UTC".to_owned() } else { tz.to_owned() };
        if time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(AppError::invalid("time_zone", "the time zone must be an IANA name such as Europe/Berlin"));
        }
        let mut languages = Vec::new();
        for l in &input.languages {
            let l = language(l)?;
            if !languages.contains(&l) {
                languages.push(l);
            }
        }
        if languages.len() > 20 {
            return Err(AppError::invalid("languages", "at most 20 languages"));
        }
        if languages.is_empty() {
            languages.push("en".to_owned());
        }
        let email = normalize_email(&input.owner_email)
            .ok_or_else(|| AppError::invalid("owner_email", "the owner's e-mail address is not valid"))?;
        let owner_name = input.owner_name.trim();
        if owner_name.is_empty() || owner_name.chars().count() > 200 {
            return Err(AppError::invalid("owner_name", "the owner's name must have 1 to 200 characters"));
        }
        let password_hash = hash_password(&input.owner_password).map_err(|e| match e {
            AppError::Invalid { message, .. } => AppError::invalid("owner_password", message),
            AppError::Rejected { code, message, .. } => AppError::Rejected { code, field: "owner_password", message },
            other => other,
        })?;
        let now = self.clock.now();
        let owner = NewUser {
            name: owner_name.to_owned(),
            email,
            password_hash,
            role: Role::Owner,
            languages: languages.clone(),
        };
        let new = NewPlatformAccount { name: name.to_owned(), time_zone, languages };
        let (account, user) = self.storage.create_account_with_owner(new, owner, now).await?;
        self.platform_audit(account.account.id, "platform.account_create", serde_json::json!({ "owner_id": user.id }))
            .await;
        Ok((account, user))
    }

    /// A page of accounts by id, after `after`.
    pub async fn list_platform_accounts(&self, after: Option<i64>, limit: u32) -> AppResult<Vec<PlatformAccount>> {
        if !(1..=MAX_ACCOUNTS_PAGE).contains(&limit) {
            return Err(AppError::invalid("limit", "limit must be between 1 and 500"));
        }
        Ok(self.storage.list_platform_accounts(after.map(AccountId), limit).await?)
    }

    /// One account.
    pub async fn get_platform_account(&self, id: AccountId) -> AppResult<PlatformAccount> {
        self.storage.get_platform_account(id).await?.ok_or(AppError::NotFound("account"))
    }

    /// Suspends or reactivates an account; audited in that account.
    #[tracing::instrument(skip_all, fields(account_id = %id))]
    pub async fn set_account_suspended(&self, id: AccountId, suspended: bool) -> AppResult<PlatformAccount> {
        let account =
            self.storage.set_account_suspended(id, suspended, self.clock.now()).await.map_err(|e| match e {
                ferry_storage::StorageError::NotFound => AppError::NotFound("account"),
                other => other.into(),
            })?;
        let action = if suspended { "platform.account_suspend" } else { "platform.account_unsuspend" };
        self.platform_audit(id, action, serde_json::json!({})).await;
        Ok(account)
    }

    /// Fails with [`AppError::Suspended`] when the account is suspended.
    pub async fn ensure_active(&self, account: AccountId) -> AppResult<()> {
        if self.storage.account_suspended(account).await? { Err(AppError::Suspended) } else { Ok(()) }
    }

    async fn platform_audit(&self, account: AccountId, action: &str, details: serde_json::Value) {
        let entry = NewAuditEntry {
            actor_id: None,
            actor_name: "platform".into(),
            action: action.into(),
            target_kind: "account".into(),
            target_id: account.to_string(),
            details,
            outcome: AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(account, entry, self.clock.now()).await {
            tracing::error!(error = %e, "could not write the audit entry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked() {
        assert_eq!(language(" zh-CN ").ok().as_deref(), Some("zh-CN"));
        assert!(language("en").is_ok());
        assert!(language("").is_err());
        assert!(language("en--US").is_err());
        assert!(language("1en").is_err());
        assert!(language("en_US").is_err());
    }
}
