//! Conversations and messages as agents work them: lists, assignment,
//! status, tags, replies and notes.

use crate::auth::Actor;
use crate::outgoing::OutgoingMessage;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use ferry_core::contact::normalize_tag;
use ferry_core::conversation::{Change, Conversation, Priority, Status, Transition};
use ferry_core::message::{ContentPart, Message, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId, MessageId, TeamId, UserId};
use ferry_storage::{
    ConversationCursor, ConversationFilter, ConversationPage, ConversationUpdate, Describe, NewMessage, PostedMessage,
    UpdatedConversation,
};
use std::collections::HashMap;

/// A conversation list request.
#[derive(Debug, Clone, Default)]
pub struct ConversationQuery {
    /// Filters.
    pub filter: ConversationFilter,
    /// Continue after this position.
    pub after: Option<ConversationCursor>,
    /// Page size (1–100, default 25).
    pub limit: Option<u32>,
}

/// An agent's reply or note.
#[derive(Debug, Clone, Default)]
pub struct NewReply {
    /// Text.
    pub text: Option<String>,
    /// Further parts (images, buttons, …).
    pub parts: Vec<ContentPart>,
    /// A private note instead of a reply.
    pub private: bool,
    /// E-mail recipients and subject (e-mail conversations only).
    pub email: Option<ferry_api_types::ReplyEmail>,
}

impl App {
    /// A page of the account's conversations.
    pub async fn list_conversations(
        &self,
        actor: &Actor,
        account: AccountId,
        q: ConversationQuery,
    ) -> AppResult<ConversationPage> {
        actor.in_account(account)?;
        actor.can_view()?;
        let limit = q.limit.unwrap_or(25).clamp(1, 100);
        Ok(self.storage.list_conversations(account, &q.filter, q.after, limit).await?)
    }

    /// Counts per status for the filter (its status ignored).
    pub async fn count_conversations(
        &self,
        actor: &Actor,
        account: AccountId,
        filter: &ConversationFilter,
    ) -> AppResult<Vec<(Status, u64)>> {
        actor.in_account(account)?;
        actor.can_view()?;
        Ok(self.storage.count_conversations(account, filter).await?)
    }

    /// One conversation.
    pub async fn get_conversation(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
    ) -> AppResult<Conversation> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.get_conversation(account, id).await?.ok_or(AppError::NotFound("conversation"))
    }

    /// Messages of a conversation, oldest first, before `before`.
    pub async fn list_messages(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> AppResult<Vec<Message>> {
        self.get_conversation(actor, account, id).await?;
        Ok(self.storage.list_messages(account, id, before, limit.unwrap_or(50).clamp(1, 200)).await?)
    }

    /// Assigns to an agent and/or a team (`Some(None)` removes).
    #[tracing::instrument(skip_all, fields(conversation_id = %id))]
    pub async fn assign_conversation(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        assignee: Option<Option<UserId>>,
        team: Option<Option<TeamId>>,
    ) -> AppResult<Conversation> {
        actor.in_account(account)?;
        actor.can_assign()?;
        if let Some(Some(u)) = assignee {
            self.storage
                .get_user(account, u)
                .await?
                .ok_or_else(|| AppError::invalid("assignee_id", "no such agent in this account"))?;
        }
        if let Some(Some(t)) = team {
            self.storage
                .get_team(account, t)
                .await?
                .ok_or_else(|| AppError::invalid("team_id", "no such team in this account"))?;
        }
        let mut conv = self.get_conversation(actor, account, id).await?;
        if let Some(a) = assignee {
            conv = self.transition(actor, account, id, Transition::Assign(a)).await?.conversation;
        }
        if let Some(t) = team {
            conv = self.transition(actor, account, id, Transition::SetTeam(t)).await?.conversation;
        }
        Ok(conv)
    }

    /// Moves a conversation to `status` (snoozing needs `until`).
    #[tracing::instrument(skip_all, fields(conversation_id = %id))]
    pub async fn set_status(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        status: Status,
        until: Option<DateTime<Utc>>,
    ) -> AppResult<Conversation> {
        let t = match status {
            Status::Open => Transition::Reopen,
            Status::Pending => Transition::SetPending,
            Status::Resolved => Transition::Resolve,
            Status::Bot => Transition::ReturnToBot,
            Status::Snoozed => Transition::Snooze {
                until: until.ok_or_else(|| AppError::invalid("snoozed_until", "snoozing needs snoozed_until"))?,
            },
        };
        let back_to_bot = matches!(t, Transition::ReturnToBot);
        let mut jobs = Vec::new();
        if status == Status::Resolved {
            let conv = self.storage.get_conversation(account, id).await?.ok_or(AppError::NotFound("conversation"))?;
            if let Some(inbox) = self.storage.get_inbox(account, conv.inbox_id).await? {
                jobs.extend(crate::csat::survey_job(&inbox, id, self.clock.now()));
            }
        }
        let has_jobs = !jobs.is_empty();
        let out = self.transition_with(actor, account, id, t, jobs).await?;
        if has_jobs && !out.changes.is_empty() {
            self.job_enqueued();
        }
        if back_to_bot && !out.changes.is_empty() {
            // A fresh start: earlier failures must not hand off at once.
            self.reset_bot_state(account, id).await?;
        }
        Ok(out.conversation)
    }

    /// Replaces the tags.
    pub async fn set_tags(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        tags: &[String],
    ) -> AppResult<Conversation> {
        let mut clean = Vec::with_capacity(tags.len());
        for t in tags {
            clean.push(normalize_tag(t).ok_or_else(|| AppError::invalid("tags", format!("`{t}` is not a valid tag")))?);
        }
        if clean.len() > 50 {
            return Err(AppError::invalid("tags", "at most 50 tags"));
        }
        Ok(self.transition(actor, account, id, Transition::SetTags(clean)).await?.conversation)
    }

    /// Changes the priority.
    pub async fn set_priority(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        p: Priority,
    ) -> AppResult<Conversation> {
        Ok(self.transition(actor, account, id, Transition::SetPriority(p)).await?.conversation)
    }

    async fn transition(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        t: Transition,
    ) -> AppResult<UpdatedConversation> {
        self.transition_with(actor, account, id, t, Vec::new()).await
    }

    /// Applies `t`, enqueueing `jobs` in the same write if it changes
    /// anything.
    async fn transition_with(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        t: Transition,
        jobs: Vec<ferry_storage::NewJob>,
    ) -> AppResult<UpdatedConversation> {
        actor.in_account(account)?;
        actor.can_assign()?;
        let describe = self.describer(account, Some(actor.user.name.clone())).await?;
        let update = ConversationUpdate { jobs, transition: t, describe, now: self.clock.now() };
        let out = self.storage.update_conversation(account, id, update).await.map_err(|e| match e {
            ferry_storage::StorageError::NotFound => AppError::NotFound("conversation"),
            other => other.into(),
        })?;
        Ok(out)
    }

    /// Activity lines in words, with the names of agents and teams.
    pub(crate) async fn describer(&self, account: AccountId, by: Option<String>) -> AppResult<Describe> {
        let users: HashMap<UserId, String> =
            self.storage.list_users(account).await?.into_iter().map(|u| (u.id, u.name)).collect();
        let teams: HashMap<TeamId, String> =
            self.storage.list_teams(account).await?.into_iter().map(|t| (t.id, t.name)).collect();
        let by = by.map(|b| format!(" by {b}")).unwrap_or_default();
        Ok(Box::new(move |c: &Change| {
            let name = |u: &UserId| users.get(u).cloned().unwrap_or_else(|| format!("agent {u}"));
            Some(match c {
                Change::Assignee { to: Some(u), .. } => format!("Assigned to {}{by}", name(u)),
                Change::Assignee { to: None, .. } => format!("Unassigned{by}"),
                Change::Team { to: Some(t), .. } => {
                    format!("Team set to {}{by}", teams.get(t).cloned().unwrap_or_else(|| format!("team {t}")))
                }
                Change::Team { to: None, .. } => format!("Team removed{by}"),
                Change::Status { to, .. } => match to {
                    Status::Open => format!("Reopened{by}"),
                    Status::Pending => format!("Marked pending{by}"),
                    Status::Snoozed => format!("Snoozed{by}"),
                    Status::Resolved => format!("Resolved{by}"),
                    Status::Bot => format!("Returned to the bot{by}"),
                },
                Change::Priority { to, .. } => format!("Priority set to {}{by}", to.as_str()),
                Change::Tags { added, removed } => match (added.is_empty(), removed.is_empty()) {
                    (false, true) => format!("Tagged {}{by}", added.join(", ")),
                    (true, false) => format!("Removed tag {}{by}", removed.join(", ")),
                    _ => format!("Tags changed: +{} −{}{by}", added.join(", "), removed.join(", ")),
                },
            })
        }))
    }

    /// An agent's reply (delivered to the buyer) or private note.
    #[tracing::instrument(skip_all, fields(conversation_id = %id))]
    pub async fn reply(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
        r: NewReply,
    ) -> AppResult<PostedMessage> {
        let conv = self.get_conversation(actor, account, id).await?;
        actor.can_reply()?;
        let mut parts = Vec::new();
        if let Some(t) = r.text.as_deref() {
            if t.len() > 64 * 1024 {
                return Err(AppError::invalid("content", "the message is longer than 64 KiB"));
            }
            if !t.trim().is_empty() {
                parts.push(ContentPart::Text { text: t.to_owned() });
            }
        }
        // The e-mail envelope is Ferry's to write, from `email`.
        parts.extend(r.parts.into_iter().filter(|p| !matches!(p, ContentPart::Email { .. })));
        if parts.is_empty() {
            return Err(AppError::invalid("content", "a message needs content"));
        }
        if let Some(options) = &r.email
            && !r.private
        {
            let header = self.reply_header(account, &conv, options).await?;
            parts.push(ContentPart::Email { email: Box::new(header) });
        }
        if !r.private {
            let now = self.clock.now();
            let out = OutgoingMessage {
                notice_send: None,
                conversation: &conv,
                sender: Sender::User(actor.user.id),
                parts,
                transition: Some(Transition::AgentReply { by: actor.user.id, at: now }),
                describe: None,
                bot_state: None,
                rules: None,
            };
            return self.send_outgoing(account, out).await;
        }
        let new = NewMessage {
            notice_send: None,
            conversation_id: id,
            kind: MessageKind::Note,
            sender: Sender::User(actor.user.id),
            parts,
            delivery: None,
            now: self.clock.now(),
            transition: None,
            job: None,
            bot_state: None,
            describe: None,
        };
        let posted = self.storage.post_message(account, new).await?;
        Ok(posted)
    }

    /// Wakes snoozed conversations whose time has come; returns how many.
    pub async fn wake_snoozed(&self) -> AppResult<usize> {
        let due = self.storage.due_snoozed(self.clock.now(), 200).await?;
        let mut n = 0;
        for (account, id) in due {
            let describe: Describe = Box::new(|c| match c {
                Change::Status { to: Status::Open, .. } => Some("Snooze ended".to_owned()),
                _ => None,
            });
            let update =
                ConversationUpdate { jobs: Vec::new(), transition: Transition::Wake, describe, now: self.clock.now() };
            match self.storage.update_conversation(account, id, update).await {
                Ok(_) => n += 1,
                // Woken or changed meanwhile by someone else: nothing to do.
                Err(ferry_storage::StorageError::Transition(_) | ferry_storage::StorageError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(n)
    }
}
