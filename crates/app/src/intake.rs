//! Intake: buyers' messages in. Channel adapters parse and verify their
//! payloads into an [`Inbound`]; intake commits it (idempotently) and only
//! then returns, so an acknowledged message is never lost.

use crate::{App, AppError, AppResult};
use base64::Engine;

pub use ferry_api_types::{ApiAttachment, ApiInbound, ApiSender};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{Attachment, ContentPart};
use ferry_core::{InboxId, signature};
use ferry_storage::{IntakeOptions, IntakeOutcome, Threading};

const MAX_TEXT: usize = 64 * 1024;

fn clean_language(l: Option<String>) -> Option<String> {
    l.map(|l| l.trim().to_owned()).filter(|l| {
        !l.is_empty() && l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

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
        let options = IntakeOptions {
            bot_enabled: inbox.config.bot_enabled && !automatic,
            reopen_window: self.config.reopen_window,
            now: self.clock.now(),
            bot_job: Some(ferry_jobs::BOT_REPLY),
            threading,
            automatic,
        };
        let outcome = self.storage.ingest(inbound, options).await?;
        if !outcome.duplicate {
            self.events_committed();
            if outcome.conversation.status == ferry_core::conversation::Status::Bot {
                self.job_enqueued();
            }
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
        let inbox = self.webhook_inbox(inbox_id).await?;
        if inbox.channel != ChannelKind::Api {
            return Err(AppError::NotFound("inbox"));
        }
        let header = signature_header.ok_or(AppError::Unauthorized("missing X-Ferry-Signature header"))?;
        if !signature::verify(inbox.secret.as_bytes(), body, header) {
            return Err(AppError::Unauthorized("the signature does not match the body"));
        }
        let payload: ApiInbound =
            serde_json::from_slice(body).map_err(|e| AppError::Malformed(format!("invalid JSON body: {e}")))?;
        let inbound = self.parse_api_inbound(&inbox, payload).await?;
        self.ingest(&inbox, inbound).await
    }

    async fn parse_api_inbound(&self, inbox: &Inbox, p: ApiInbound) -> AppResult<Inbound> {
        let external_id = p.external_id.trim().to_owned();
        if external_id.is_empty() || external_id.len() > 255 {
            return Err(AppError::invalid("external_id", "external_id must have 1 to 255 characters"));
        }
        let identity = Identity::new(IdentityKind::ApiHandle, &p.sender.handle, Some(inbox.id))
            .map_err(|e| AppError::invalid("sender.handle", e.to_string()))?;
        let mut extra = Vec::new();
        if let Some(e) = p.sender.email.as_deref().filter(|s| !s.trim().is_empty()) {
            extra.push(
                Identity::new(IdentityKind::Email, e, None)
                    .map_err(|e| AppError::invalid("sender.email", e.to_string()))?,
            );
        }
        if let Some(ph) = p.sender.phone.as_deref().filter(|s| !s.trim().is_empty()) {
            extra.push(
                Identity::new(IdentityKind::Phone, ph, None)
                    .map_err(|e| AppError::invalid("sender.phone", e.to_string()))?,
            );
        }
        let mut parts = Vec::new();
        if let Some(t) = p.text.as_deref() {
            if t.len() > MAX_TEXT {
                return Err(AppError::invalid("text", format!("text is longer than {MAX_TEXT} bytes")));
            }
            if !t.trim().is_empty() {
                parts.push(ContentPart::Text { text: t.to_owned() });
            }
        }
        for (i, a) in p.attachments.into_iter().enumerate() {
            parts.push(self.api_attachment(inbox, i, a).await?.into_part());
        }
        if parts.is_empty() {
            return Err(AppError::invalid("text", "a message needs text or at least one attachment"));
        }
        let now = self.clock.now();
        // A sender's clock ahead of ours must not put messages in the future.
        let sent_at = p.timestamp.map_or(now, |t| t.min(now));
        Ok(Inbound {
            account_id: inbox.account_id,
            inbox_id: inbox.id,
            external_id,
            sender: InboundSender {
                identity,
                extra_identities: extra,
                name: p
                    .sender
                    .name
                    .map(|n| n.trim().chars().filter(|c| !c.is_control()).take(255).collect())
                    .filter(|n: &String| !n.is_empty()),
                language: clean_language(p.sender.language),
            },
            parts,
            sent_at,
        })
    }

    async fn api_attachment(&self, inbox: &Inbox, i: usize, a: ApiAttachment) -> AppResult<Attachment> {
        let ct = a.content_type.trim().to_ascii_lowercase();
        if !ct.contains('/') || ct.len() > 127 {
            return Err(AppError::Invalid {
                field: Some("attachments"),
                message: format!("attachments[{i}].content_type is not a MIME type"),
            });
        }
        let filename =
            a.filename.map(|f| f.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(255).collect());
        match (a.url, a.data_base64) {
            (Some(url), None) => {
                let parsed = url::Url::parse(&url).map_err(|_| AppError::Invalid {
                    field: Some("attachments"),
                    message: format!("attachments[{i}].url is not a URL"),
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(AppError::Invalid {
                        field: Some("attachments"),
                        message: format!("attachments[{i}].url must be http or https"),
                    });
                }
                Ok(Attachment { url, content_type: ct, filename, size: None })
            }
            (None, Some(data)) => {
                let bytes =
                    base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|_| AppError::Invalid {
                        field: Some("attachments"),
                        message: format!("attachments[{i}].data_base64 is not valid base64"),
                    })?;
                let size = bytes.len() as u64;
                let (key, ct) =
                    self.store_file(inbox.account_id, bytes, &ct, ferry_core::filetype::Intake::Channel).await?;
                Ok(Attachment {
                    url: crate::attachments::attachment_url(inbox.account_id, &key),
                    content_type: ct,
                    filename,
                    size: Some(size),
                })
            }
            _ => Err(AppError::Invalid {
                field: Some("attachments"),
                message: format!("attachments[{i}] needs exactly one of url and data_base64"),
            }),
        }
    }
}
