//! Applying what a messaging channel's webhook reported, whatever the
//! channel: new buyer messages (their media fetched and stored first, the
//! message they quote linked, the ad they came from kept), delivery
//! reports (matched by the channel's id or, when the send's answer was
//! lost, by the reference Ferry sent), reactions, edits and deletions.
//! Everything is committed before the webhook is acknowledged; a report
//! about something Ferry does not know is logged and acknowledged, so the
//! channel stops re-sending it.

use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use ferry_channels::SendError;
use ferry_channels::update::{
    Batch, Echo, Edit, IncomingMessage, MediaRef, OursMarker, Reaction, StatusReport, Update,
};
use ferry_core::MessageId;
use ferry_core::filetype::Intake;
use ferry_core::inbox::Inbox;
use ferry_core::message::{Attachment, ContentPart, Message, MessageChange, Sender};

/// Fetches a file the channel keeps, with the inbox's credentials.
#[async_trait]
pub trait MediaFetch: Send + Sync {
    /// The bytes and content type of `media`.
    async fn fetch(&self, media: &MediaRef) -> Result<(Vec<u8>, String), SendError>;
}

/// What one webhook delivery changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Buyers' messages stored (re-deliveries not counted).
    pub messages: usize,
    /// Re-deliveries of messages stored before.
    pub duplicates: usize,
    /// Delivery reports that changed a message.
    pub statuses: usize,
    /// Reactions, edits and deletions applied.
    pub changes: usize,
    /// Updates acknowledged without effect.
    pub ignored: usize,
    /// The last stored message and its conversation, if any.
    pub last: Option<(MessageId, ferry_core::ConversationId, ferry_core::ContactId)>,
}

impl App {
    /// Commits every update of `batch` for `inbox`, in order.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox.id, updates = batch.updates.len()))]
    pub async fn apply_updates(&self, inbox: &Inbox, batch: Batch, media: &dyn MediaFetch) -> AppResult<BatchOutcome> {
        let mut out = BatchOutcome::default();
        for update in batch.updates {
            match update {
                Update::Message(m) => {
                    let stored = self.incoming(inbox, *m, media).await?;
                    if stored.duplicate {
                        out.duplicates += 1;
                    } else {
                        out.messages += 1;
                    }
                    out.last = Some((stored.message.id, stored.conversation.id, stored.conversation.contact_id));
                }
                Update::Status(s) => {
                    if self.status_report(inbox, s).await? {
                        out.statuses += 1;
                    } else {
                        out.ignored += 1;
                    }
                }
                Update::Reaction(r) => {
                    if self.reaction(inbox, r).await? {
                        out.changes += 1;
                    } else {
                        out.ignored += 1;
                    }
                }
                Update::Edited(e) => {
                    if self.edited(inbox, e, media).await? {
                        out.changes += 1;
                    } else {
                        out.ignored += 1;
                    }
                }
                Update::Deleted { external_id, at } => {
                    let target = self.storage.find_received_message(inbox.account_id, inbox.id, &external_id).await?;
                    let changed = match target {
                        Some(m) => self.change(inbox, m.id, MessageChange::Delete { at }).await?,
                        None => false,
                    };
                    if changed {
                        out.changes += 1;
                    } else {
                        out.ignored += 1;
                    }
                }
                Update::Echo(e) => {
                    if self.echo(inbox, *e, media).await? {
                        out.changes += 1;
                    } else {
                        out.ignored += 1;
                    }
                }
                Update::Watermark(w) => {
                    let changed = self
                        .storage
                        .apply_watermark(inbox.account_id, inbox.id, w.buyer, w.status, w.up_to, self.clock.now())
                        .await?;
                    if changed.is_empty() {
                        out.ignored += 1;
                    } else {
                        out.statuses += changed.len();
                    }
                }
                Update::Template(t) => {
                    self.template_changed(inbox, &t).await?;
                    out.changes += 1;
                }
                Update::Ignored { what, reason } => {
                    tracing::info!(what = %what, reason = %reason, "channel update acknowledged and ignored");
                    out.ignored += 1;
                }
            }
        }
        Ok(out)
    }

    async fn incoming(
        &self,
        inbox: &Inbox,
        m: IncomingMessage,
        media: &dyn MediaFetch,
    ) -> AppResult<ferry_storage::IntakeOutcome> {
        let IncomingMessage { mut inbound, uploads, media: refs, reply_to, activity, referral, button_payload } = m;
        // A re-delivery is answered from what was stored, without fetching
        // its media again.
        if let Some(m) = self.storage.find_received_message(inbox.account_id, inbox.id, &inbound.external_id).await? {
            let conversation = self
                .storage
                .get_conversation(inbox.account_id, m.conversation_id)
                .await?
                .ok_or(AppError::NotFound("conversation"))?;
            crate::monitoring::message_stored(inbox.channel, true);
            return Ok(ferry_storage::IntakeOutcome {
                message: m,
                conversation,
                duplicate: true,
                new_conversation: false,
                new_contact: false,
            });
        }
        if button_payload.is_none()
            && let Some(n) = bare_choice(&inbound.parts)
            && let Some(title) = self.offered_choice(inbox, &inbound.sender.identity, n).await?
        {
            // A numbered choice answered by its number (SMS, or a list too
            // long for the channel's buttons) is the press of that button.
            inbound.parts = vec![ContentPart::Text { text: title }];
        }
        let inbound_parsed = ferry_channels::Parsed { inbound, uploads };
        inbound = self.store_uploads(inbox, inbound_parsed).await?;
        self.store_media(inbox, &mut inbound.parts, &refs, media).await?;
        if let Some(quoted) = reply_to {
            inbound.meta.reply_to = self.message_by_external(inbox, &quoted).await?.map(|m| m.id);
        }
        inbound.meta.referral = referral;
        let threading = ferry_storage::Threading::Latest;
        self.ingest_threaded(inbox, inbound, threading, activity).await
    }

    /// The title of choice `n` (from 1) of the buttons the latest message
    /// to this buyer in `inbox` offered, if that message offered any.
    async fn offered_choice(
        &self,
        inbox: &Inbox,
        buyer: &ferry_core::contact::Identity,
        n: usize,
    ) -> AppResult<Option<String>> {
        let account = inbox.account_id;
        let Some(contact) = self.storage.find_contact_by_identity(account, buyer).await? else { return Ok(None) };
        let filter = ferry_storage::ConversationFilter {
            inbox_id: Some(inbox.id),
            contact_id: Some(contact),
            ..ferry_storage::ConversationFilter::default()
        };
        let page = self.storage.list_conversations(account, &filter, None, 1).await?;
        let Some(conv) = page.items.first() else { return Ok(None) };
        let recent = self.storage.list_messages(account, conv.id, None, 10).await?;
        let last_out = recent.iter().rev().find(|m| m.kind == ferry_core::message::MessageKind::Outgoing);
        let buttons = last_out.into_iter().flat_map(|m| &m.parts).find_map(|p| match p {
            ContentPart::Buttons { buttons, .. } => Some(buttons),
            _ => None,
        });
        Ok(buttons.and_then(|b| b.get(n.checked_sub(1)?)).map(|b| b.title.clone()))
    }

    /// Replaces the placeholder parts of `refs` with the stored files; a
    /// file that cannot be had (too large, refused type, gone) becomes a
    /// line saying so, and the message is kept.
    async fn store_media(
        &self,
        inbox: &Inbox,
        parts: &mut [ContentPart],
        refs: &[MediaRef],
        media: &dyn MediaFetch,
    ) -> AppResult<()> {
        for r in refs {
            let part = match media.fetch(r).await {
                Ok((bytes, content_type)) => {
                    let size = Some(bytes.len() as u64);
                    match self.store_file(inbox.account_id, bytes, &content_type, Intake::Channel).await {
                        Ok((key, content_type)) => {
                            let url = crate::attachments::attachment_url(inbox.account_id, &key);
                            Attachment { url, content_type, filename: r.filename.clone(), size }.into_part()
                        }
                        Err(e @ AppError::Storage(_)) => return Err(e),
                        Err(e @ AppError::Failed { .. }) => return Err(e),
                        Err(e) => unavailable(r, &e.to_string()),
                    }
                }
                // Worth another delivery: the channel re-sends the webhook.
                Err(SendError::Retryable(e) | SendError::Throttled { reason: e, .. }) => {
                    return Err(AppError::Upstream(format!("the channel's media could not be fetched: {e}")));
                }
                Err(SendError::Permanent(e)) => unavailable(r, &e),
            };
            if let Some(slot) = parts.get_mut(r.part) {
                *slot = part;
            }
        }
        Ok(())
    }

    async fn message_by_external(&self, inbox: &Inbox, external_id: &str) -> AppResult<Option<Message>> {
        if let Some(m) = self.storage.find_received_message(inbox.account_id, inbox.id, external_id).await? {
            return Ok(Some(m));
        }
        Ok(self.storage.find_sent_message(inbox.account_id, inbox.id, external_id).await?)
    }

    /// Records a delivery report; false when it is about no message of
    /// this inbox or changes nothing.
    async fn status_report(&self, inbox: &Inbox, s: StatusReport) -> AppResult<bool> {
        let account = inbox.account_id;
        let mut target = self.storage.find_sent_message(account, inbox.id, &s.external_id).await?;
        if target.is_none()
            && let Some(id) = s.reference.as_deref().and_then(|r| r.parse::<i64>().ok())
        {
            // The send's answer was lost (the node died after the channel
            // accepted it): the reference is Ferry's message id.
            target = self
                .storage
                .get_message(account, MessageId(id))
                .await?
                .filter(|m| m.inbox_id == inbox.id && m.kind == ferry_core::message::MessageKind::Outgoing);
        }
        let Some(m) = target else {
            tracing::info!(status = s.status.as_str(), "delivery report for a message Ferry does not know");
            return Ok(false);
        };
        let external = (m.external_id.as_deref() != Some(s.external_id.as_str())).then(|| s.external_id.clone());
        let external = external.filter(|_| m.external_id.is_none());
        let changed = self.storage.update_delivery(account, m.id, s.status, external, s.at).await?.is_some();
        let mut priced = false;
        if let Some(p) = s.pricing
            && m.meta.pricing.as_ref() != Some(&p)
        {
            priced = self.change(inbox, m.id, MessageChange::Pricing(p)).await?;
        }
        Ok(changed || priced)
    }

    /// A message the business sent: Ferry's own (then only a report that it
    /// was sent) or one sent from elsewhere, kept in the buyer's
    /// conversation.
    async fn echo(&self, inbox: &Inbox, e: Echo, media: &dyn MediaFetch) -> AppResult<bool> {
        if let Some(ours) = e.ours {
            let reference = match ours {
                OursMarker::Message(id) => Some(id.to_string()),
                OursMarker::App => None,
            };
            let report = StatusReport {
                external_id: e.external_id,
                status: ferry_core::message::DeliveryStatus::Sent,
                at: e.at,
                reference,
                error: None,
                pricing: None,
            };
            return self.status_report(inbox, report).await;
        }
        if self.storage.find_sent_message(inbox.account_id, inbox.id, &e.external_id).await?.is_some() {
            return Ok(false);
        }
        let mut parts = e.parts;
        self.store_media(inbox, &mut parts, &e.media, media).await?;
        let echo = ferry_storage::EchoedMessage { to: e.to, external_id: e.external_id, parts, sent_at: e.at };
        Ok(self.storage.record_echo(inbox.account_id, inbox.id, echo, self.clock.now()).await?.is_some())
    }

    async fn reaction(&self, inbox: &Inbox, r: Reaction) -> AppResult<bool> {
        let Some(target) = self.message_by_external(inbox, &r.target_external_id).await? else {
            tracing::info!("reaction to a message Ferry does not know");
            return Ok(false);
        };
        let conv = self
            .storage
            .get_conversation(inbox.account_id, target.conversation_id)
            .await?
            .ok_or(AppError::NotFound("conversation"))?;
        let by = Sender::Contact(conv.contact_id);
        self.change(inbox, target.id, MessageChange::React { emoji: r.emoji, by, at: r.at }).await
    }

    async fn edited(&self, inbox: &Inbox, e: Edit, media: &dyn MediaFetch) -> AppResult<bool> {
        let Some(target) = self.storage.find_received_message(inbox.account_id, inbox.id, &e.external_id).await? else {
            tracing::info!("edit of a message Ferry does not know");
            return Ok(false);
        };
        let mut parts = e.parts;
        self.store_media(inbox, &mut parts, &e.media, media).await?;
        self.change(inbox, target.id, MessageChange::Edit { parts, at: e.at }).await
    }

    async fn change(&self, inbox: &Inbox, id: MessageId, change: MessageChange) -> AppResult<bool> {
        let changed = self.storage.change_message(inbox.account_id, id, change, self.clock.now()).await?.is_some();
        Ok(changed)
    }
}

/// The number a message is, when it is only a small number (`2`, ` 3. `):
/// a buyer picking a numbered choice.
fn bare_choice(parts: &[ContentPart]) -> Option<usize> {
    let [ContentPart::Text { text }] = parts else { return None };
    let t = text.trim().trim_end_matches(['.', ')']);
    if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok().filter(|n| (1..=20).contains(n))
}

/// The part shown for a file the channel could not give.
fn unavailable(r: &MediaRef, why: &str) -> ContentPart {
    tracing::warn!(media_type = %r.content_type, reason = %why, "a buyer's file could not be stored");
    ContentPart::Text { text: format!("[{} not available: {why}]", r.filename.as_deref().unwrap_or(&r.content_type)) }
}
