//! A user's API access tokens for integrations: created from the profile
//! (the secret shown once, stored only as its hash), listed by name and
//! date, and revoked. Each change is audited.

use crate::auth::{Actor, new_secret, secret_hash};
use crate::{App, AppError, AppResult};
use ferry_storage::{AccessToken, AuditOutcome, NewAuditEntry, StorageError};
use serde_json::json;

/// The most tokens one user may hold.
pub const MAX_TOKENS: usize = 20;

impl App {
    /// The caller's tokens, newest first.
    pub async fn list_access_tokens(&self, actor: &Actor) -> AppResult<Vec<AccessToken>> {
        Ok(self.storage.list_access_tokens(actor.account(), actor.user.id).await?)
    }

    /// A new token acting as the caller; the secret is returned once.
    pub async fn create_access_token(&self, actor: &Actor, name: &str) -> AppResult<(AccessToken, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("name", "name the token (1 to 100 characters), e.g. after the integration"));
        }
        if self.list_access_tokens(actor).await?.len() >= MAX_TOKENS {
            return Err(AppError::invalid("name", format!("you have {MAX_TOKENS} tokens; revoke one first")));
        }
        let secret = new_secret();
        let token = self.storage.add_access_token(&actor.user, name, &secret_hash(&secret), self.clock.now()).await?;
        self.audit_token(actor, "access_token.create", &token).await;
        Ok((token, secret))
    }

    /// Revokes one of the caller's tokens: requests with it are refused
    /// from now on.
    pub async fn revoke_access_token(&self, actor: &Actor, id: i64) -> AppResult<()> {
        let token = self
            .list_access_tokens(actor)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(AppError::NotFound("access token"))?;
        self.storage.delete_access_token(actor.account(), actor.user.id, id).await.map_err(|e| match e {
            StorageError::NotFound => AppError::NotFound("access token"),
            other => other.into(),
        })?;
        self.audit_token(actor, "access_token.revoke", &token).await;
        Ok(())
    }

    async fn audit_token(&self, actor: &Actor, action: &str, token: &AccessToken) {
        let entry = NewAuditEntry {
            actor_id: Some(actor.user.id),
            actor_name: actor.user.name.clone(),
            action: action.to_owned(),
            target_kind: "access_token".to_owned(),
            target_id: token.id.to_string(),
            details: json!({ "name": token.name }),
            outcome: AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(actor.account(), entry, self.clock.now()).await {
            tracing::error!(error = %e, action, "could not write the audit entry");
        }
    }
}
