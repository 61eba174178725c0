//! Delivery of outgoing messages, run as jobs. For API inboxes the message
//! is POSTed as JSON to the inbox's callback URL, signed like inbound
//! webhooks (`X-Ferry-Signature: sha256=<hex>` of the body with the inbox
//! secret); 2xx marks it sent, 408/429/5xx and network errors retry with
//! back-off, other 4xx fail at once. Failures show on the message.

use crate::App;
use async_trait::async_trait;
use ferry_core::contact::IdentityKind;
use ferry_core::inbox::ChannelKind;
use ferry_core::message::DeliveryStatus;
use ferry_core::{MessageId, signature};
use ferry_jobs::{JobError, JobHandler, JobKind};
use ferry_storage::Job;
use std::sync::Arc;
use std::time::Duration;

/// Runs Ferry's jobs.
pub struct Jobs {
    app: Arc<App>,
    http: reqwest::Client,
}

impl Jobs {
    /// Handler for `app`, with its own HTTP client.
    pub fn new(app: Arc<App>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Ferry/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self { app, http }
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
        if inbox.channel != ChannelKind::Api {
            return Err(JobError::Permanent(format!("sending on {} inboxes is not connected", inbox.channel)));
        }
        let Some(url) = inbox.config.callback_url.clone() else {
            return Err(JobError::Permanent("the inbox has no callback URL".into()));
        };
        let contact = storage.get_contact(job.account_id, conv.contact_id).await.map_err(retry)?;
        let handle = contact.as_ref().and_then(|c| {
            c.identities
                .iter()
                .find(|i| i.kind == IdentityKind::ApiHandle && i.inbox_id == Some(inbox.id))
                .map(|i| i.value.clone())
        });
        let body = serde_json::json!({
            "event": "message_created",
            "account_id": message.account_id,
            "inbox_id": inbox.id,
            "conversation_id": conv.id,
            "message": {
                "id": message.id,
                "kind": message.kind,
                "text": message.text(),
                "parts": message.parts,
                "sent_at": message.sent_at,
            },
            "contact": {
                "id": conv.contact_id,
                "name": contact.as_ref().map(|c| c.name.clone()),
                "handle": handle,
            },
        });
        let bytes = serde_json::to_vec(&body).map_err(|e| JobError::Permanent(e.to_string()))?;
        let sig = signature::sign(inbox.secret.as_bytes(), &bytes);
        let resp = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-ferry-signature", sig)
            .header("x-ferry-event", "message_created")
            .header("x-ferry-delivery", message.id.to_string())
            .body(bytes)
            .send()
            .await
            .map_err(|e| JobError::Retry(format!("callback unreachable: {}", without_url(&e))))?;
        let status = resp.status();
        if status.is_success() {
            let now = self.app.clock.now();
            storage.update_delivery(job.account_id, id, DeliveryStatus::Sent, None, now).await.map_err(retry)?;
            self.app.events_committed();
            Ok(())
        } else if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
            Err(JobError::Retry(format!("callback answered {status}")))
        } else {
            Err(JobError::Permanent(format!("callback answered {status}")))
        }
    }
}

fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
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
