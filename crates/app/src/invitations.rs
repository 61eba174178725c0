//! Invitations: owners and admins invite people by e-mail with a role; the
//! link (a random token stored as its hash, working once for seven days)
//! lets the invitee choose a password, which makes them a user of the
//! account and logs them in. Inviting, revoking and accepting are audited.

use crate::auth::{Actor, new_secret, secret_hash};
use crate::directory::clean_name;
use crate::passwords::{check_new_password, codes, hash, invalid_token};
use crate::{App, AppError, AppResult};
use ferry_core::AccountId;
use ferry_core::account::{Role, User, normalize_email};
use ferry_core::invitation::{INVITATION_TTL, Invitation, InvitationState};
use ferry_storage::{NewInvitation, NewUser, StorageError};

/// An invitation to make.
#[derive(Debug, Clone)]
pub struct NewInvite {
    /// Where the link goes.
    pub email: String,
    /// The invitee's name.
    pub name: String,
    /// The role they get.
    pub role: Role,
}

/// A made invitation, with its link (shown once, for sharing it another
/// way when e-mail is not set up or fails).
#[derive(Debug, Clone)]
pub struct Invited {
    /// The invitation.
    pub invitation: Invitation,
    /// The link to accept it.
    pub url: String,
    /// Whether the e-mail went out.
    pub email_sent: bool,
}

impl App {
    /// Invites someone to the account (owners and admins, for roles they
    /// may grant).
    #[tracing::instrument(skip_all, fields(account_id = account.0))]
    pub async fn invite(&self, actor: &Actor, account: AccountId, new: NewInvite) -> AppResult<Invited> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        actor.can_grant(new.role)?;
        let email =
            normalize_email(&new.email).ok_or_else(|| AppError::invalid("email", "not a valid e-mail address"))?;
        let name = clean_name("name", &new.name)?;
        if self.storage.find_login(&email).await?.is_some() {
            return Err(AppError::Conflict("a user with this e-mail already exists".into()));
        }
        let token = new_secret();
        let now = self.clock.now();
        let invitation = self
            .storage
            .create_invitation(
                account,
                NewInvitation {
                    email: email.clone(),
                    name: name.clone(),
                    role: new.role,
                    token_hash: secret_hash(&token),
                    invited_by: Some(actor.user.id),
                    expires_at: now + INVITATION_TTL,
                },
                now,
            )
            .await?;
        let url = format!("{}/accept-invitation?token={token}", self.config.public_url.trim_end_matches('/'));
        let account_name =
            self.storage.get_account(account).await?.map(|a| a.name).unwrap_or_else(|| "Ferry".to_owned());
        let email_sent = match self.config.smtp.as_ref() {
            Some(smtp) => {
                let body = format!(
                    "Hello {name},\n\n{who} invites you to answer customers of {account_name} with Ferry. Open \
                     this link within 7 days to choose your password:\n\n{url}\n\nThe link works once.\n",
                    who = actor.user.name
                );
                let subject = format!("Join {account_name} on Ferry");
                match ferry_channels::mail::send(smtp, &email, &subject, &body).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(invitation_id = invitation.id, error = %e, "the invitation e-mail was not sent");
                        false
                    }
                }
            }
            None => false,
        };
        self.audit_invitation(&actor.user, &invitation, "invitation.create").await;
        Ok(Invited { invitation, url, email_sent })
    }

    /// The account's invitations, newest first (owners and admins).
    pub async fn list_invitations(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<Invitation>> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        Ok(self.storage.list_invitations(account).await?)
    }

    /// Revokes a pending invitation (owners and admins); an accepted one
    /// cannot be revoked.
    #[tracing::instrument(skip_all, fields(account_id = account.0, invitation_id = id))]
    pub async fn revoke_invitation(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<Invitation> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        let found = self.storage.get_invitation(account, id).await?.ok_or(AppError::NotFound("invitation"))?;
        if found.accepted_at.is_some() {
            return Err(AppError::Conflict("the invitation was accepted already".into()));
        }
        let done = self.storage.revoke_invitation(account, id, self.clock.now()).await.map_err(|e| match e {
            StorageError::NotFound => AppError::NotFound("invitation"),
            other => other.into(),
        })?;
        if found.revoked_at.is_none() {
            self.audit_invitation(&actor.user, &done, "invitation.revoke").await;
        }
        Ok(done)
    }

    /// The pending invitation of a link's token (for the accept page).
    pub async fn invitation_of_token(&self, token: &str) -> AppResult<Invitation> {
        let inv = self.storage.invitation_by_token(&secret_hash(token.trim())).await?.ok_or_else(invalid_token)?;
        usable(&inv, self.clock.now())?;
        Ok(inv)
    }

    /// Accepts an invitation: creates the user with `password` and opens a
    /// session; returns the user and the session's secret.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invitation(&self, token: &str, password: &str) -> AppResult<(User, String)> {
        let hashed_token = secret_hash(token.trim());
        let now = self.clock.now();
        let inv = self.storage.invitation_by_token(&hashed_token).await?.ok_or_else(invalid_token)?;
        usable(&inv, now)?;
        check_new_password("password", password, &inv.email, &inv.name)?;
        let language = self.storage.get_account(inv.account_id).await?.map(|a| a.default_language);
        let new = NewUser {
            name: inv.name.clone(),
            email: inv.email.clone(),
            password_hash: hash(password)?,
            role: inv.role,
            languages: language.into_iter().collect(),
        };
        let (inv, user) = self.storage.accept_invitation(&hashed_token, new, now).await.map_err(|e| match e {
            StorageError::Conflict { constraint } if constraint == "invitations.token" => {
                AppError::rejected(codes::TOKEN_USED, "token", "this invitation was used already")
            }
            StorageError::NotFound => invalid_token(),
            other => other.into(),
        })?;
        self.audit_invitation(&user, &inv, "invitation.accept").await;
        let secret = new_secret();
        self.storage.create_session(&secret_hash(&secret), &user, now, now + self.config.session_ttl).await?;
        Ok((user, secret))
    }

    async fn audit_invitation(&self, actor: &User, inv: &Invitation, action: &str) {
        let entry = ferry_storage::NewAuditEntry {
            actor_id: Some(actor.id),
            actor_name: actor.name.clone(),
            action: action.to_owned(),
            target_kind: "invitation".to_owned(),
            target_id: inv.id.to_string(),
            details: serde_json::json!({ "role": inv.role.as_str(), "user_id": inv.user_id.map(|u| u.0) }),
            outcome: ferry_storage::AuditOutcome::Ok,
            error: None,
        };
        if let Err(e) = self.storage.append_audit(inv.account_id, entry, self.clock.now()).await {
            tracing::error!(error = %e, action, "could not write the audit entry");
        }
    }
}

/// Fails unless the invitation can still be accepted, saying why.
fn usable(inv: &Invitation, now: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    match inv.state(now) {
        InvitationState::Pending => Ok(()),
        InvitationState::Accepted => {
            Err(AppError::rejected(codes::TOKEN_USED, "token", "this invitation was used already"))
        }
        InvitationState::Revoked => {
            Err(AppError::rejected(codes::TOKEN_REVOKED, "token", "this invitation was withdrawn"))
        }
        InvitationState::Expired => {
            Err(AppError::rejected(codes::TOKEN_EXPIRED, "token", "this invitation has expired; ask for a new one"))
        }
    }
}
