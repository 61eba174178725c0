//! The account's directory: inboxes, agents, teams and tags.

use crate::auth::{Actor, hash_password, new_secret};
use crate::{App, AppError, AppResult};
use ferry_core::account::{Role, Team, User, normalize_email};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::{AccountId, InboxId, TeamId, UserId};
use ferry_storage::{InboxPatch, NewInbox, NewUser, StorageError, TagCount, UserPatch};

/// A new inbox as an admin describes it.
#[derive(Debug, Clone)]
pub struct NewInboxInput {
    /// Name.
    pub name: String,
    /// Channel.
    pub channel: ChannelKind,
    /// Settings.
    pub config: InboxConfig,
}

/// A new agent as an admin describes them.
#[derive(Debug, Clone)]
pub struct NewAgent {
    /// Name.
    pub name: String,
    /// Login e-mail.
    pub email: String,
    /// First password.
    pub password: String,
    /// Role.
    pub role: Role,
    /// Languages.
    pub languages: Vec<String>,
}

pub(crate) fn clean_name(field: &'static str, name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 120 {
        return Err(AppError::invalid(field, format!("{field} must have 1 to 120 characters")));
    }
    Ok(n.to_owned())
}

/// `u` as an http(s) URL, or an error naming `field`.
pub(crate) fn http_url(field: &'static str, u: &str) -> AppResult<url::Url> {
    let parsed = url::Url::parse(u).map_err(|_| AppError::invalid(field, format!("{field} is not a URL")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::invalid(field, format!("{field} must be http or https")));
    }
    Ok(parsed)
}

fn check_config(channel: ChannelKind, config: &InboxConfig) -> AppResult<()> {
    if let Some(t) = config.bot_threshold
        && !(0.0..=1.0).contains(&t)
    {
        return Err(AppError::invalid("bot_threshold", "bot_threshold must be between 0 and 1"));
    }
    if let Some(url) = &config.callback_url {
        http_url("callback_url", url)?;
        if channel != ChannelKind::Api {
            return Err(AppError::invalid("callback_url", "only API inboxes have a callback URL"));
        }
    }
    if let Err(e) = config.check_business_hours() {
        return Err(AppError::invalid("business_hours", e.to_string()));
    }
    if channel == ChannelKind::Whatsapp {
        crate::whatsapp::check_settings(config)?;
    }
    if matches!(channel, ChannelKind::Messenger | ChannelKind::Instagram) {
        crate::meta_inbox::check_settings(channel, config)?;
    }
    if channel == ChannelKind::Telegram {
        crate::telegram::check_settings(config)?;
    }
    if channel == ChannelKind::Sms {
        crate::sms_inbox::check_settings(config)?;
    }
    if channel == ChannelKind::Email {
        let probe = Inbox {
            id: ferry_core::InboxId(0),
            account_id: ferry_core::AccountId(0),
            name: String::new(),
            channel,
            config: config.clone(),
            secret: String::new(),
            created_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        };
        let settings = crate::email::EmailSettings::of(&probe)?
            .ok_or_else(|| AppError::invalid("config", "an e-mail inbox needs its settings under config.email"))?;
        let valid = settings.address.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.'));
        if !valid {
            return Err(AppError::invalid("config", "config.email.address must be the inbox's e-mail address"));
        }
        if settings.folders.is_empty() || settings.folders.iter().any(|f| f.trim().is_empty()) {
            return Err(AppError::invalid("config", "config.email.folders must name at least one folder"));
        }
    }
    Ok(())
}

fn not_found(what: &'static str) -> impl Fn(StorageError) -> AppError {
    move |e| match e {
        StorageError::NotFound => AppError::NotFound(what),
        other => other.into(),
    }
}

impl App {
    /// The account's inboxes.
    pub async fn list_inboxes(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<Inbox>> {
        actor.in_account(account)?;
        Ok(self.storage.list_inboxes(account).await?)
    }

    /// One inbox.
    pub async fn get_inbox(&self, actor: &Actor, account: AccountId, id: InboxId) -> AppResult<Inbox> {
        actor.in_account(account)?;
        self.storage.get_inbox(account, id).await?.ok_or(AppError::NotFound("inbox"))
    }

    /// Creates an inbox with a fresh webhook secret (owners and admins).
    pub async fn create_inbox(&self, actor: &Actor, account: AccountId, new: NewInboxInput) -> AppResult<Inbox> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let mut new = new;
        new.config.keep_passwords(None);
        check_config(new.channel, &new.config)?;
        self.check_handoff_team(account, &new.config).await?;
        let new = NewInbox {
            name: clean_name("name", &new.name)?,
            channel: new.channel,
            config: new.config,
            secret: new_secret(),
        };
        Ok(self.storage.create_inbox(account, new, self.clock.now()).await?)
    }

    async fn check_handoff_team(&self, account: AccountId, config: &InboxConfig) -> AppResult<()> {
        if let Some(team) = config.handoff_team_id
            && self.storage.get_team(account, team).await?.is_none()
        {
            return Err(AppError::invalid("handoff_team_id", "no such team in this account"));
        }
        Ok(())
    }

    /// Changes an inbox (owners and admins).
    pub async fn update_inbox(
        &self,
        actor: &Actor,
        account: AccountId,
        id: InboxId,
        name: Option<String>,
        mut config: Option<InboxConfig>,
    ) -> AppResult<Inbox> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let current = self.get_inbox(actor, account, id).await?;
        if let Some(c) = &mut config {
            // People never see the stored passwords, so settings sent back
            // without one keep it.
            c.keep_passwords(Some(&current.config));
            check_config(current.channel, c)?;
            self.check_handoff_team(account, c).await?;
        }
        let name = name.map(|n| clean_name("name", &n)).transpose()?;
        let out = self.storage.update_inbox(account, id, InboxPatch { name, config }).await.map_err(not_found("inbox"));
        self.inbox_changed(id);
        out
    }

    /// Deletes an inbox with its conversations (owners and admins).
    pub async fn delete_inbox(&self, actor: &Actor, account: AccountId, id: InboxId) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let out = self.storage.delete_inbox(account, id).await.map_err(not_found("inbox"));
        self.inbox_changed(id);
        out
    }

    /// The account's agents.
    pub async fn list_agents(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<User>> {
        actor.in_account(account)?;
        Ok(self.storage.list_users(account).await?)
    }

    /// Adds an agent with a first password (owners and admins).
    pub async fn create_agent(&self, actor: &Actor, account: AccountId, new: NewAgent) -> AppResult<User> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        actor.can_grant(new.role)?;
        crate::passwords::check_new_password("password", &new.password, &new.email, &new.name)?;
        self.create_user(account, new).await
    }

    /// Adds a user without an actor (set-up and the demo).
    pub async fn create_user(&self, account: AccountId, new: NewAgent) -> AppResult<User> {
        let email =
            normalize_email(&new.email).ok_or_else(|| AppError::invalid("email", "not a valid e-mail address"))?;
        let user = NewUser {
            name: clean_name("name", &new.name)?,
            email,
            password_hash: hash_password(&new.password)?,
            role: new.role,
            languages: new.languages,
        };
        Ok(self.storage.create_user(account, user, self.clock.now()).await?)
    }

    /// Changes an agent's name, role or languages (owners and admins; an
    /// agent may change their own name and languages).
    pub async fn update_agent(
        &self,
        actor: &Actor,
        account: AccountId,
        id: UserId,
        mut patch: UserPatch,
    ) -> AppResult<User> {
        actor.in_account(account)?;
        let target = self.storage.get_user(account, id).await?.ok_or(AppError::NotFound("agent"))?;
        if let Some(role) = patch.role {
            actor.can_manage_agents()?;
            actor.can_grant(role)?;
            if target.role == Role::Owner && role != Role::Owner {
                actor.can_grant(Role::Owner)?;
                self.keep_an_owner(account, id).await?;
            }
        } else if actor.user.id != id {
            actor.can_manage_agents()?;
        }
        if let Some(n) = patch.name.take() {
            patch.name = Some(clean_name("name", &n)?);
        }
        patch.password_hash = None;
        let role_changes = patch.role.is_some_and(|r| r != target.role);
        let user = self.storage.update_user(account, id, patch).await.map_err(not_found("agent"))?;
        if role_changes {
            // Sessions opened under the old role end: the user logs in
            // again with a new session secret.
            self.revoke_sessions_of(account, id).await?;
        }
        Ok(user)
    }

    /// Removes an agent (owners and admins; never the last owner).
    pub async fn delete_agent(&self, actor: &Actor, account: AccountId, id: UserId) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        let target = self.storage.get_user(account, id).await?.ok_or(AppError::NotFound("agent"))?;
        if target.role == Role::Owner {
            actor.can_grant(Role::Owner)?;
            self.keep_an_owner(account, id).await?;
        }
        self.storage.delete_user(account, id).await.map_err(not_found("agent"))
    }

    async fn keep_an_owner(&self, account: AccountId, leaving: UserId) -> AppResult<()> {
        let owners = self
            .storage
            .list_users(account)
            .await?
            .into_iter()
            .filter(|u| u.role == Role::Owner && u.id != leaving)
            .count();
        if owners == 0 {
            return Err(AppError::Conflict("an account must keep at least one owner".into()));
        }
        Ok(())
    }

    /// The account's teams.
    pub async fn list_teams(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<Team>> {
        actor.in_account(account)?;
        Ok(self.storage.list_teams(account).await?)
    }

    /// Creates a team (owners and admins).
    pub async fn create_team(
        &self,
        actor: &Actor,
        account: AccountId,
        name: &str,
        description: &str,
    ) -> AppResult<Team> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        let name = clean_name("name", name)?;
        Ok(self.storage.create_team(account, &name, description.trim(), self.clock.now()).await?)
    }

    /// Replaces a team's members (owners and admins).
    pub async fn set_team_members(
        &self,
        actor: &Actor,
        account: AccountId,
        id: TeamId,
        members: &[UserId],
    ) -> AppResult<Team> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        self.storage.set_team_members(account, id, members).await.map_err(not_found("team"))
    }

    /// Deletes a team (owners and admins).
    pub async fn delete_team(&self, actor: &Actor, account: AccountId, id: TeamId) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_agents()?;
        self.storage.delete_team(account, id).await.map_err(not_found("team"))
    }

    /// Tags in use, most used first.
    pub async fn list_tags(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<TagCount>> {
        actor.in_account(account)?;
        Ok(self.storage.list_tags(account).await?)
    }
}
