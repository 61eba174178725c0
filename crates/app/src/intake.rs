//! Intake: buyers' messages in. Channel adapters (`ferry-channels`) verify
//! and parse their payloads into an [`Inbound`]; intake stores the files a
//! payload carried, commits the message (idempotently) and only then
//! returns, so an acknowledged message is never lost.

use crate::{App, AppError, AppResult};

pub use ferry_api_types::{ApiAttachment, ApiInbound, ApiSender};
pub use ferry_channels::WebhookRequest;
use ferry_channels::{ChannelError, Parsed, Upload};
use ferry_core::InboxId;
use ferry_core::inbound::Inbound;
use ferry_core::inbox::Inbox;
use ferry_core::message::Attachment;
use ferry_storage::{IntakeOptions, IntakeOutcome, Threading};

impl App {
    /// Commits a parsed inbound message of `inbox`.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox.id))]
    pub async fn ingest(&self, inbox: &Inbox, inbound: Inbound) -> AppResult<IntakeOutcome> {
        self.ingest_threaded(inbox, inbound, Threading::Latest, false).await
    }

    /// Commits a parsed inbound message of `inbox` into the conversation
    /// `threading` finds; an `automatic` message (an out-of-office reply)
    /// becomes an activity line that wakes nothing.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox.id))]
    pub async fn ingest_threaded(
        &self,
        inbox: &Inbox,
        inbound: Inbound,
        threading: Threading,
        automatic: bool,
    ) -> AppResult<IntakeOutcome> {
        // Nothing of a suspended account is stored.
        self.ensure_active(inbox.account_id).await?;
        let options = IntakeOptions {
            bot_enabled: inbox.config.bot_enabled && !automatic,
            reopen_window: self.config.reopen_window,
            now: self.clock.now(),
            bot_job: Some(ferry_jobs::JobKind::BOT_REPLY),
            threading,
            automatic,
        };
        let outcome = self.storage.ingest(inbound, options).await?;
        crate::monitoring::message_stored(inbox.channel, outcome.duplicate);
        if !automatic {
            // The message is committed whatever happens to the reply: a
            // failure is logged, never the sender's problem.
            if let Err(e) = self.reply_out_of_office(inbox, &outcome).await {
                tracing::warn!(error = %e, "the out-of-office reply failed");
            }
        }
        if !outcome.duplicate
            && !automatic
            && let Err(e) = self.wake_journeys_for_reply(inbox.account_id, outcome.conversation.contact_id).await
        {
            // The journey moves on at its time limit instead.
            tracing::warn!(error = %e, "waking the buyer's journeys failed");
        }
        if !outcome.duplicate && outcome.conversation.status == ferry_core::conversation::Status::Bot {
            self.job_enqueued();
        }
        Ok(outcome)
    }

    /// Verifies, parses and commits a delivery to an API inbox's webhook.
    pub async fn ingest_api_webhook(
        &self,
        inbox_id: InboxId,
        signature_header: Option<&str>,
        body: &[u8],
    ) -> AppResult<IntakeOutcome> {
        let headers: Vec<(&str, &str)> =
            signature_header.map(|s| (ferry_channels::api::SIGNATURE_HEADER, s)).into_iter().collect();
        self.ingest_webhook("api", inbox_id, &WebhookRequest { headers: &headers, body }).await
    }

    /// Verifies, parses and commits a delivery to the webhook of
    /// `channel` (its name in `/webhooks/{channel}/{inbox_id}`) for an
    /// inbox of that channel.
    #[tracing::instrument(skip_all, fields(channel, inbox_id = %inbox_id))]
    pub async fn ingest_webhook(
        &self,
        channel: &str,
        inbox_id: InboxId,
        request: &WebhookRequest<'_>,
    ) -> AppResult<IntakeOutcome> {
        let channel = ferry_channels::channel(channel).ok_or(AppError::NotFound("channel"))?;
        let inbox = self.webhook_inbox(inbox_id).await?;
        if inbox.channel != channel.kind() {
            return Err(AppError::NotFound("inbox"));
        }
        channel.verify(&inbox, request).map_err(channel_error)?;
        let parsed = channel.parse(&inbox, request, self.clock.now()).map_err(channel_error)?;
        let inbound = self.store_uploads(&inbox, parsed).await?;
        self.ingest(&inbox, inbound).await
    }

    /// Stores the files a payload carried and links them into its parts.
    pub(crate) async fn store_uploads(&self, inbox: &Inbox, parsed: Parsed) -> AppResult<Inbound> {
        let Parsed { mut inbound, uploads } = parsed;
        for Upload { part, bytes, content_type, filename } in uploads {
            let size = Some(bytes.len() as u64);
            let (key, content_type) =
                self.store_file(inbox.account_id, bytes, &content_type, ferry_core::filetype::Intake::Channel).await?;
            let url = crate::attachments::attachment_url(inbox.account_id, &key);
            if let Some(part) = inbound.parts.get_mut(part) {
                *part = Attachment { url, content_type, filename, size }.into_part();
            }
        }
        Ok(inbound)
    }
}

pub(crate) fn channel_error(e: ChannelError) -> AppError {
    match e {
        ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
        ChannelError::Malformed(m) => AppError::Malformed(m),
        ChannelError::Invalid { field, message } => AppError::invalid(field, message),
    }
}
