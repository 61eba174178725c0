//! The delivery engine. Every outgoing message is a stored row first, then
//! a delivery job in its conversation's lane (so one buyer's messages keep
//! their order): load the message, wait for the inbox's rate limit, hand it
//! to the `Outbound` adapter of its channel (`ferry-channels`), and record
//! what came of it — sent (with the channel's id), retried with back-off
//! and jitter, postponed without losing an attempt when the channel asks to
//! slow down, or failed at once when retrying cannot help. Failures show on
//! the message and in the failed-deliveries list, from where an agent can
//! send again.
//!
//! A node that dies mid-send leaves the job leased; whoever claims it after
//! the lease first reads the message again, so a status report that came
//! in the meantime (WhatsApp reports carry Ferry's message id) marks it
//! sent and it is not sent twice. The report may come later than the
//! lease (the node was down longer, and the channel re-posts with
//! back-off), so on such channels the claim that finds its predecessor
//! interrupted waits `JobSettings::reconcile` first, then reads again.

use crate::App;
use async_trait::async_trait;
use ferry_channels::{Outbounds, Outgoing, SendError};
use ferry_core::MessageId;
use ferry_core::message::DeliveryStatus;
use ferry_jobs::{JobError, JobHandler, JobKind};
use ferry_storage::Job;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Paces sends per inbox: each send takes the next free slot, `1/rate`
/// after the previous one, and a channel's "slow down" pushes the next slot
/// back. Kept per node.
#[derive(Default)]
pub struct Pacer {
    next: Mutex<HashMap<ferry_core::InboxId, Instant>>,
}

impl Pacer {
    /// How long to wait before sending from `inbox` at `rate` messages per
    /// second, reserving the slot; `Err` with the wait, reserving nothing,
    /// when it is longer than `max_wait`.
    pub fn reserve(&self, inbox: ferry_core::InboxId, rate: f64, max_wait: Duration) -> Result<Duration, Duration> {
        if !(rate.is_finite() && rate > 0.0) {
            return Ok(Duration::ZERO);
        }
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = next.entry(inbox).or_insert(now);
        let at = (*slot).max(now);
        if at - now > max_wait {
            return Err(at - now);
        }
        *slot = at + Duration::from_secs_f64(1.0 / rate);
        Ok(at - now)
    }

    /// Holds every send of `inbox` for `pause`.
    pub fn pause(&self, inbox: ferry_core::InboxId, pause: Duration) {
        let until = Instant::now() + pause;
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = next.entry(inbox).or_insert(until);
        *slot = (*slot).max(until);
    }
}

/// Runs Ferry's jobs.
pub struct Jobs {
    app: Arc<App>,
    outbounds: Outbounds,
    pacer: Pacer,
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
        let mut outbounds = Outbounds::standard(http.clone());
        let email: Arc<dyn ferry_channels::Outbound> = Arc::new(crate::email::EmailOutbound::new(app.clone()));
        outbounds.register(ferry_core::inbox::ChannelKind::Email, email.clone());
        outbounds.register(ferry_core::inbox::ChannelKind::Amazon, email);
        let files = Arc::new(crate::whatsapp::StoredFiles { app: app.clone() });
        outbounds.register(
            ferry_core::inbox::ChannelKind::Whatsapp,
            Arc::new(ferry_channels::whatsapp::WhatsAppOutbound::new(http.clone(), files.clone())),
        );
        let meta: Arc<dyn ferry_channels::Outbound> =
            Arc::new(ferry_channels::meta::MetaOutbound::new(http.clone(), files.clone()));
        outbounds.register(ferry_core::inbox::ChannelKind::Messenger, meta.clone());
        outbounds.register(ferry_core::inbox::ChannelKind::Instagram, meta);
        outbounds.register(
            ferry_core::inbox::ChannelKind::Telegram,
            Arc::new(ferry_channels::telegram::TelegramOutbound::new(http.clone(), files.clone())),
        );
        outbounds.register(
            ferry_core::inbox::ChannelKind::Sms,
            Arc::new(ferry_channels::sms_inbox::SmsOutbound::new(http.clone(), files, &app.config.public_url)),
        );
        Self::with_outbounds(app, outbounds)
    }

    /// Handler for `app`, sending with `outbounds`.
    pub fn with_outbounds(app: Arc<App>, outbounds: Outbounds) -> Self {
        Self { app, outbounds, pacer: Pacer::default() }
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

    async fn send_survey(&self, job: &Job, conversation: ferry_core::ConversationId) -> Result<(), JobError> {
        match self.app.send_survey(job.account_id, conversation).await {
            Ok(crate::csat::SurveyOutcome::Sent(_)) => Ok(()),
            Ok(crate::csat::SurveyOutcome::Skipped(why)) => {
                tracing::debug!(conversation_id = %conversation, why, "no satisfaction survey");
                Ok(())
            }
            Err(e @ crate::AppError::Storage(_)) => Err(JobError::Retry(e.report())),
            // The compliance gate refused it (say, outside WhatsApp's window).
            Err(other) => Err(JobError::Permanent(other.report())),
        }
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
        if job.interrupted && outbound.reports_by_reference() {
            // The previous attempt died without an outcome, perhaps after
            // the channel accepted the message. Its report (re-posted until
            // a node is up to take it) marks the message sent; send again
            // only if none came in a while, counted from now that a node is
            // up again.
            let after = self.app.config.jobs.reconcile.to_std().unwrap_or(Duration::from_secs(60));
            tracing::info!(message_id = %id, after_ms = after.as_millis() as u64, "interrupted send: waiting for the channel's report");
            return Err(JobError::Later {
                reason: "waiting for the channel's report of an interrupted send".into(),
                after,
            });
        }
        let contact = storage.get_contact(job.account_id, conv.contact_id).await.map_err(retry)?;
        let rate = match inbox.config.send_rate_per_second {
            Some(r) => Some(r),
            None => outbound.default_rate(&inbox),
        };
        if let Some(rate) = rate {
            match self.pacer.reserve(inbox.id, rate, Duration::from_secs(20)) {
                Ok(wait) => tokio::time::sleep(wait).await,
                // Far behind (a large burst or a pause the channel asked
                // for): back to the queue rather than holding the lease.
                Err(wait) => {
                    return Err(JobError::Later { reason: "waiting for the inbox's rate limit".into(), after: wait });
                }
            }
        }
        let outgoing = Outgoing { inbox: &inbox, conversation: &conv, message: &message, contact: contact.as_ref() };
        let started = Instant::now();
        let sent = outbound.send(outgoing).await;
        crate::monitoring::send_attempted(inbox.channel, &sent, started.elapsed());
        match sent {
            Ok(sent) => {
                let now = self.app.clock.now();
                storage
                    .update_delivery(job.account_id, id, DeliveryStatus::Sent, sent.external_id, now)
                    .await
                    .map_err(retry)?;
                Ok(())
            }
            Err(SendError::Retryable(e)) => Err(JobError::Retry(e)),
            Err(SendError::Throttled { reason, retry_after }) => {
                tracing::info!(inbox_id = %inbox.id, after_ms = retry_after.as_millis() as u64, "channel asked to slow down");
                self.pacer.pause(inbox.id, retry_after);
                Err(JobError::Later { reason, after: retry_after })
            }
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
            JobKind::SendSurvey { conversation_id } => self.send_survey(job, conversation_id).await,
            JobKind::EraseContact { contact_id } => self
                .app
                .erase_contact_now(job.account_id, contact_id)
                .await
                .map(drop)
                .map_err(|e| JobError::Retry(e.report())),
            JobKind::DeliverWebhook { delivery_id } => self.app.deliver_webhook(job, delivery_id).await,
            JobKind::SendNotice { notice_id } => self.app.send_notice(job.account_id, notice_id).await,
            JobKind::RunCampaign { campaign_id } => self.app.run_campaign(job.account_id, campaign_id).await,
            JobKind::AdvanceJourney { enrolment_id } => self.app.advance_enrolment(job.account_id, enrolment_id).await,
            JobKind::PlanCampaign { campaign_id } => self.app.plan_campaign(job.account_id, campaign_id).await,
        }
    }

    async fn gave_up(&self, job: &Job, kind: &JobKind, error: &str) {
        match *kind {
            // The buyer must not wait for a bot that cannot answer.
            JobKind::BotReply { conversation_id, .. } => self.bot_gave_up(job, conversation_id, error).await,
            JobKind::SendSurvey { conversation_id } => {
                tracing::warn!(error, conversation_id = %conversation_id, "gave up sending a satisfaction survey");
            }
            JobKind::EraseContact { contact_id } => {
                tracing::error!(error, contact_id = %contact_id, "gave up erasing a contact");
            }
            // The delivery's last attempt already marked it failed.
            JobKind::DeliverWebhook { delivery_id } => {
                tracing::warn!(error, delivery_id = %delivery_id, "gave up sending a webhook delivery");
            }
            JobKind::RunCampaign { campaign_id } => {
                tracing::error!(error, campaign_id, "gave up running a campaign; resume it to go on");
            }
            JobKind::PlanCampaign { campaign_id } => {
                tracing::error!(error, campaign_id, "gave up deciding a campaign's recipients; resume it to go on");
            }
            JobKind::AdvanceJourney { enrolment_id } => {
                tracing::error!(
                    error,
                    enrolment_id,
                    "gave up moving a buyer on in a journey; pause and resume it to go on"
                );
            }
            JobKind::SendNotice { notice_id } => {
                let now = self.app.clock.now();
                let reason = Some(error.to_owned());
                if let Err(e) = self
                    .app
                    .storage
                    .finish_notice_send(job.account_id, notice_id, "failed", None, reason, None, now)
                    .await
                {
                    tracing::error!(error = %e, notice_id, "could not record a failed notice");
                }
            }
            JobKind::DeliverMessage { message_id: id } => {
                let now = self.app.clock.now();
                let failed = DeliveryStatus::Failed { reason: error.to_owned() };
                match self.app.storage.update_delivery(job.account_id, id, failed, None, now).await {
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, message_id = %id, "could not record a failed delivery"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ferry_core::InboxId;

    #[test]
    fn the_pacer_spaces_sends_per_inbox() {
        let p = Pacer::default();
        let max = Duration::from_secs(1);
        assert_eq!(p.reserve(InboxId(1), 10.0, max).unwrap(), Duration::ZERO);
        let second = p.reserve(InboxId(1), 10.0, max).unwrap();
        assert!(second > Duration::from_millis(90) && second <= Duration::from_millis(100), "{second:?}");
        assert_eq!(p.reserve(InboxId(2), 10.0, max).unwrap(), Duration::ZERO, "inboxes are paced apart");
        assert_eq!(p.reserve(InboxId(1), 0.0, max).unwrap(), Duration::ZERO, "0 is no limit");
        p.pause(InboxId(2), Duration::from_secs(5));
        let held = p.reserve(InboxId(2), 10.0, max).unwrap_err();
        assert!(held > Duration::from_secs(4), "{held:?}");
        // A refused reservation takes no slot.
        assert!(p.reserve(InboxId(2), 10.0, max).unwrap_err() <= held);
    }
}
