//! Delivery of outgoing messages, run as jobs: load the message, hand it to
//! the `Outbound` adapter of its inbox's channel (`ferry-channels`), and
//! record what came of it — sent (with the channel's id), retried with
//! back-off, or failed at once. Failures show on the message.

use crate::App;
use async_trait::async_trait;
use ferry_channels::{Outbounds, Outgoing, SendError};
use ferry_core::MessageId;
use ferry_core::message::DeliveryStatus;
use ferry_jobs::{JobError, JobHandler, JobKind};
use ferry_storage::Job;
use std::sync::Arc;
use std::time::Duration;

/// Runs Ferry's jobs.
pub struct Jobs {
    app: Arc<App>,
    outbounds: Outbounds,
}

impl Jobs {
    /// Handler for `app`, sending with the standard channel adapters and
    /// its own HTTP client.
    pub fn new(app: Arc<App>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Ferry/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let mut outbounds = Outbounds::standard(http);
        let email: Arc<dyn ferry_channels::Outbound> = Arc::new(crate::email::EmailOutbound::new(app.clone()));
        outbounds.register(ferry_core::inbox::ChannelKind::Email, email.clone());
        outbounds.register(ferry_core::inbox::ChannelKind::Amazon, email);
        Self::with_outbounds(app, outbounds)
    }

    /// Handler for `app`, sending with `outbounds`.
    pub fn with_outbounds(app: Arc<App>, outbounds: Outbounds) -> Self {
        Self { app, outbounds }
    }

    async fn bot_reply(
        &self,
        job: &Job,
        conversation: ferry_core::ConversationId,
        message: MessageId,
    ) -> Result<(), JobError> {
        self.app.run_bot(job.account_id, conversation, message).await.map_err(|e| match e {
            e @ crate::AppError::Storage(_) => JobError::Retry(e.report()),
            other => JobError::Permanent(other.report()),
        })
    }

    async fn bot_gave_up(&self, job: &Job, conversation: ferry_core::ConversationId, error: &str) {
        let storage = &self.app.storage;
        let Ok(Some(conv)) = storage.get_conversation(job.account_id, conversation).await else { return };
        let Ok(Some(inbox)) = storage.get_inbox(job.account_id, conv.inbox_id).await else { return };
        let reason = ferry_core::bot::HandoffReason::Failed { error: error.to_owned() };
        let note = format!("Bot handed off: {reason}.");
        let lang = conv.language.clone().unwrap_or_default();
        if let Err(e) = self.app.hand_off(job.account_id, &inbox, conversation, note, &lang).await {
            tracing::warn!(error = %e, "could not hand off after the bot failed");
        }
    }

    async fn deliver(&self, job: &Job, id: MessageId) -> Result<(), JobError> {
        let storage = &self.app.storage;
        let retry = |e: ferry_storage::StorageError| JobError::Retry(format!("storage: {e}"));
        let Some(message) = storage.get_message(job.account_id, id).await.map_err(retry)? else {
            return Err(JobError::Permanent("the message no longer exists".into()));
        };
        if matches!(message.delivery, Some(DeliveryStatus::Sent | DeliveryStatus::Delivered | DeliveryStatus::Read)) {
            return Ok(());
        }
        let conv = storage
            .get_conversation(job.account_id, message.conversation_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent("the conversation no longer exists".into()))?;
        let inbox = storage
            .get_inbox(job.account_id, conv.inbox_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent("the inbox no longer exists".into()))?;
        let Some(outbound) = self.outbounds.get(inbox.channel) else {
            return Err(JobError::Permanent(format!("sending on {} inboxes is not connected", inbox.channel)));
        };
        let contact = storage.get_contact(job.account_id, conv.contact_id).await.map_err(retry)?;
        let outgoing = Outgoing { inbox: &inbox, conversation: &conv, message: &message, contact: contact.as_ref() };
        match outbound.send(outgoing).await {
            Ok(sent) => {
                let now = self.app.clock.now();
                storage
                    .update_delivery(job.account_id, id, DeliveryStatus::Sent, sent.external_id, now)
                    .await
                    .map_err(retry)?;
                self.app.events_committed();
                Ok(())
            }
            Err(SendError::Retryable(e)) => Err(JobError::Retry(e)),
            Err(SendError::Throttled { reason, .. }) => Err(JobError::Retry(reason)),
            Err(SendError::Permanent(e)) => Err(JobError::Permanent(e)),
        }
    }
}

#[async_trait]
impl JobHandler for Jobs {
    async fn handle(&self, job: &Job, kind: &JobKind) -> Result<(), JobError> {
        match *kind {
            JobKind::DeliverMessage { message_id } => self.deliver(job, message_id).await,
            JobKind::BotReply { conversation_id, message_id } => self.bot_reply(job, conversation_id, message_id).await,
        }
    }

    async fn gave_up(&self, job: &Job, kind: &JobKind, error: &str) {
        match *kind {
            // The buyer must not wait for a bot that cannot answer.
            JobKind::BotReply { conversation_id, .. } => self.bot_gave_up(job, conversation_id, error).await,
            JobKind::DeliverMessage { message_id: id } => {
                let now = self.app.clock.now();
                let failed = DeliveryStatus::Failed { reason: error.to_owned() };
                match self.app.storage.update_delivery(job.account_id, id, failed, None, now).await {
                    Ok(_) => self.app.events_committed(),
                    Err(e) => tracing::error!(error = %e, message_id = %id, "could not record a failed delivery"),
                }
            }
        }
    }
}
