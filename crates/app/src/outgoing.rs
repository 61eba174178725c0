//! The one path every outgoing message takes, whoever writes it (an agent,
//! the bot, later AI answers and campaigns): resolve the inbox, pass the
//! compliance gate, decide how it is delivered, store it with whatever
//! must change in the same transaction, and wake the dispatcher and the
//! job worker. Nothing else stores outgoing messages.

use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use ferry_core::AccountId;
use ferry_core::conversation::{Conversation, Transition};
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{ContentPart, DeliveryStatus, Message, MessageKind, Sender};
use ferry_jobs::JobKind;
use ferry_storage::{Describe, JobForMessage, NewMessage, PostedMessage};

/// A message to the buyer of a conversation.
pub struct OutgoingMessage<'a> {
    /// The conversation, as the sender last read it.
    pub conversation: &'a Conversation,
    /// Who writes it.
    pub sender: Sender,
    /// Content.
    pub parts: Vec<ContentPart>,
    /// The conversation transition it causes, applied in the same write.
    pub transition: Option<Transition>,
    /// Activity lines for what the transition changes.
    pub describe: Option<Describe>,
    /// The bot's new state of the conversation, written in the same
    /// transaction.
    pub bot_state: Option<serde_json::Value>,
    /// The channel whose rules apply, when not the conversation's own (a
    /// conversation forwarded by e-mail to someone outside).
    pub rules: Option<ChannelKind>,
    /// The scheduled notice or campaign send this message is (marked
    /// sent in the same write; see `NewMessage::notice_send`).
    pub notice_send: Option<i64>,
}

impl App {
    /// Stores an outgoing message and queues its delivery; see the module
    /// documentation.
    #[tracing::instrument(skip_all, fields(conversation_id = %out.conversation.id))]
    pub async fn send_outgoing(&self, account: AccountId, out: OutgoingMessage<'_>) -> AppResult<PostedMessage> {
        let conv = out.conversation;
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        self.gate(account, &inbox, conv, &out.parts, out.rules, &out.sender).await?;
        let now = self.clock.now();
        let (delivery, job) = delivery_plan(&inbox, now);
        let needs_job = job.is_some();
        let new = NewMessage {
            notice_send: out.notice_send,
            conversation_id: conv.id,
            kind: MessageKind::Outgoing,
            sender: out.sender,
            parts: out.parts,
            delivery: Some(delivery),
            now,
            transition: out.transition,
            job,
            bot_state: out.bot_state,
            describe: out.describe,
        };
        let posted = self.storage.post_message(account, new).await?;
        if needs_job {
            self.job_enqueued();
        }
        Ok(posted)
    }
}

/// How an outgoing message of `inbox` is delivered: channels with an
/// outside endpoint get a delivery job; the widget and API inboxes without a
/// callback read replies from Ferry directly, so the reply is sent once
/// stored.
fn delivery_plan(inbox: &Inbox, now: DateTime<Utc>) -> (DeliveryStatus, Option<JobForMessage>) {
    let needs_job = match inbox.channel {
        ChannelKind::Api => inbox.config.callback_url.is_some(),
        ChannelKind::WebWidget => false,
        _ => true,
    };
    if needs_job {
        let job: JobForMessage = Box::new(move |m: &Message| {
            // One lane per conversation: the buyer gets the messages in
            // the order they were written, even across retries.
            JobKind::DeliverMessage { message_id: m.id }
                .new_job(m.account_id, now)
                .in_lane(format!("deliver:{}", m.conversation_id))
        });
        (DeliveryStatus::Queued, Some(job))
    } else {
        (DeliveryStatus::Sent, None)
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting to be sent (or being retried).
    Queued,
    /// Given up: an agent may send again.
    Failed,
}

impl DeliveryState {
    /// Reads `queued` or `failed`.
    pub fn parse(s: &str) -> AppResult<Self> {
        match s {
            "queued" => Ok(Self::Queued),
            "failed" => Ok(Self::Failed),
            _ => Err(AppError::invalid("state", "state is `queued` or `failed`")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Failed => "failed",
        }
    }
}

impl App {
    /// Outgoing messages of the account waiting for delivery or failed,
    /// newest first.
    pub async fn list_deliveries(
        &self,
        actor: &crate::auth::Actor,
        account: AccountId,
        state: DeliveryState,
        before: Option<ferry_core::MessageId>,
        limit: u32,
    ) -> AppResult<Vec<Message>> {
        actor.in_account(account)?;
        Ok(self.storage.list_deliveries(account, state.as_str(), before, limit.clamp(1, 100)).await?)
    }

    /// Sends a failed message again: through the compliance gate as it
    /// stands now (a WhatsApp window may have closed since), then queued
    /// in its conversation's lane.
    #[tracing::instrument(skip_all, fields(message_id = %id))]
    pub async fn retry_delivery(
        &self,
        actor: &crate::auth::Actor,
        account: AccountId,
        id: ferry_core::MessageId,
    ) -> AppResult<Message> {
        actor.in_account(account)?;
        let m = self.storage.get_message(account, id).await?.ok_or(AppError::NotFound("message"))?;
        if m.kind != MessageKind::Outgoing || !matches!(m.delivery, Some(DeliveryStatus::Failed { .. })) {
            return Err(AppError::Conflict("only a message whose delivery failed can be sent again".into()));
        }
        let conv = self
            .storage
            .get_conversation(account, m.conversation_id)
            .await?
            .ok_or(AppError::NotFound("conversation"))?;
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        self.gate(account, &inbox, &conv, &m.parts, None, &m.sender).await?;
        let now = self.clock.now();
        let job = JobKind::DeliverMessage { message_id: id }
            .new_job(account, now)
            .in_lane(format!("deliver:{}", m.conversation_id));
        let queued = self
            .storage
            .requeue_delivery(account, id, job, now)
            .await?
            .ok_or_else(|| AppError::Conflict("the message is already being sent again".into()))?;
        self.job_enqueued();
        Ok(queued)
    }
}
