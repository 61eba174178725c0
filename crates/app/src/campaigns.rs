//! Campaigns as the use cases see them: written as drafts, previewed
//! (audience by language and channel, the hold-out, how long it takes at
//! its rate), launched now or at a time, paused, resumed and cancelled;
//! and the `run_campaign` job that plans the segment page by page into the
//! send log (each buyer once, whatever crashes meanwhile) and sends what
//! is due at the campaign's rate through the same outgoing path as every
//! message, so the compliance gate and the delivery engine apply.

use crate::auth::Actor;
use crate::notices::{Outreach, buyer_language, first_name};
use crate::{App, AppError, AppResult};
use ferry_core::AccountId;
use ferry_core::campaign::{CampaignDefinition, CampaignState, held_out, pace};
use ferry_core::contact::Contact;
use ferry_core::inbox::ChannelKind;
use ferry_core::notices::{Plan, Purpose, plan_outreach};
use ferry_jobs::{JobError, JobKind};
use ferry_storage::{Campaign, NewCampaign, NewNoticeSend, NoticeSend};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::BTreeMap;

/// The tag of conversations a campaign starts.
pub const CAMPAIGN_TAG: &str = "campaign";
/// Contacts planned per page.
const PAGE: u32 = 500;
/// Buyers read, or sends made, at once.
const PARALLEL: usize = 8;

/// A campaign with what it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignInfo {
    /// The stored campaign.
    pub campaign: Campaign,
    /// Its definition.
    pub definition: CampaignDefinition,
    /// Where it is.
    pub state: CampaignState,
}

/// How a campaign fared so far.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CampaignStats {
    /// Recipients decided so far.
    pub planned: u64,
    /// Sent.
    pub sent: u64,
    /// Of those, delivered (or read).
    pub delivered: u64,
    /// Of those, read.
    pub read: u64,
    /// Of those, answered by the buyer.
    pub replied: u64,
    /// Waiting for their turn (the rate, or the buyer's quiet hours).
    pub scheduled: u64,
    /// Kept out on purpose (the hold-out group).
    pub held_out: u64,
    /// Failed, by reason.
    pub failed: BTreeMap<String, u64>,
    /// Skipped, by reason (`opted_out`, `no_consent`, `amazon_buyer`,
    /// `frequency_cap`, `window_closed`…).
    pub skipped: BTreeMap<String, u64>,
}

/// Who a campaign would reach, before it goes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CampaignPreview {
    /// Contacts in the segment.
    pub audience: u64,
    /// About how many the hold-out keeps out.
    pub held_out: u64,
    /// Per language: contacts and the text they get.
    pub languages: Vec<LanguagePreview>,
    /// Per kind of address the contacts have (a contact with several
    /// counts in each).
    pub by_channel: Vec<(String, u64)>,
    /// About how long sending takes at the campaign's rate, in seconds.
    pub duration_seconds: u64,
}

/// One language of a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguagePreview {
    /// The language (`None`: unknown; they get the account's).
    pub language: Option<String>,
    /// Contacts.
    pub contacts: u64,
    /// The text they get.
    pub text: String,
}

fn info(campaign: Campaign) -> AppResult<CampaignInfo> {
    let definition: CampaignDefinition =
        serde_json::from_value(campaign.definition.clone()).map_err(|e| AppError::internal("reading a campaign", e))?;
    let state = CampaignState::parse(&campaign.state)
        .ok_or_else(|| AppError::internal("reading a campaign", format!("unknown state {}", campaign.state)))?;
    Ok(CampaignInfo { campaign, definition, state })
}

fn checked(definition: &CampaignDefinition) -> AppResult<NewCampaign> {
    definition.check().map_err(|e| AppError::invalid(e.field, e.message))?;
    let definition = CampaignDefinition { name: definition.name.trim().to_owned(), ..definition.clone() };
    Ok(NewCampaign {
        name: definition.name.clone(),
        segment_id: definition.segment_id,
        definition: serde_json::to_value(&definition).map_err(|e| AppError::internal("saving a campaign", e))?,
        send_at: definition.send_at,
    })
}

fn segment_missing(e: ferry_storage::StorageError) -> AppError {
    match e {
        ferry_storage::StorageError::NotFound => AppError::invalid("segment_id", "no such segment in this account"),
        other => other.into(),
    }
}

impl App {
    async fn load_campaign(&self, account: AccountId, id: i64) -> AppResult<CampaignInfo> {
        info(self.storage.get_campaign(account, id).await?.ok_or(AppError::NotFound("campaign"))?)
    }

    /// The account's campaigns, newest first.
    pub async fn campaigns(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<CampaignInfo>> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.list_campaigns(account).await?.into_iter().map(info).collect()
    }

    /// One campaign.
    pub async fn campaign(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<CampaignInfo> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.load_campaign(account, id).await
    }

    /// Writes a draft (owners and admins); audited.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        account: AccountId,
        definition: CampaignDefinition,
    ) -> AppResult<CampaignInfo> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let new = checked(&definition)?;
        let c = self
            .storage
            .create_campaign(account, new, Some(actor.user.id), self.clock.now())
            .await
            .map_err(segment_missing)?;
        self.audit(account, Some(actor), "campaign.create", "campaign", c.id.to_string(), c.definition.clone()).await;
        info(c)
    }

    /// Rewrites a draft; a campaign that was launched cannot change.
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        definition: CampaignDefinition,
    ) -> AppResult<CampaignInfo> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        // Another account's campaign is not found, whatever was sent.
        let current = self.load_campaign(account, id).await?;
        if current.state != CampaignState::Draft {
            return Err(AppError::Conflict(format!("the campaign is {}; only drafts change", current.state.as_str())));
        }
        let new = checked(&definition)?;
        let c = self.storage.update_campaign(account, id, new, self.clock.now()).await.map_err(segment_missing)?;
        let c = c.ok_or_else(|| AppError::Conflict("the campaign was launched meanwhile".into()))?;
        self.audit(account, Some(actor), "campaign.update", "campaign", id.to_string(), c.definition.clone()).await;
        info(c)
    }

    /// Deletes a campaign that is not sending, with its log.
    pub async fn delete_campaign(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let c = self.load_campaign(account, id).await?;
        if matches!(c.state, CampaignState::Running | CampaignState::Scheduled) {
            return Err(AppError::Conflict("pause or cancel the campaign before deleting it".into()));
        }
        if !self.storage.delete_campaign(account, id).await? {
            return Err(AppError::Conflict("the campaign started meanwhile".into()));
        }
        self.audit(account, Some(actor), "campaign.delete", "campaign", id.to_string(), serde_json::json!({})).await;
        Ok(())
    }

    /// Launches a draft: it starts at its time (now when unset).
    pub async fn launch_campaign(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<CampaignInfo> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let c = self.load_campaign(account, id).await?;
        if c.campaign.segment_id.is_none() {
            return Err(AppError::invalid("segment_id", "the campaign's segment was deleted; choose another"));
        }
        let now = self.clock.now();
        let start = c.definition.send_at.filter(|t| *t > now).unwrap_or(now);
        let to = if start > now { "scheduled" } else { "running" };
        let launched =
            self.storage.set_campaign_state(account, id, &["draft"], to, now).await?.ok_or_else(|| {
                AppError::Conflict(format!("the campaign is {}; only drafts launch", c.state.as_str()))
            })?;
        // Recipients are decided from now on, ready for the start.
        self.storage.enqueue_job(JobKind::PlanCampaign { campaign_id: id }.new_job(account, self.clock.now())).await?;
        self.storage.enqueue_job(JobKind::RunCampaign { campaign_id: id }.new_job(account, start)).await?;
        self.job_enqueued();
        self.audit(
            account,
            Some(actor),
            "campaign.launch",
            "campaign",
            id.to_string(),
            serde_json::json!({"start": start}),
        )
        .await;
        info(launched)
    }

    /// Pauses a scheduled or running campaign; what is planned waits.
    pub async fn pause_campaign(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<CampaignInfo> {
        self.move_campaign(actor, account, id, &["scheduled", "running"], "paused", "campaign.pause").await
    }

    /// Resumes a paused campaign at its rate.
    pub async fn resume_campaign(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<CampaignInfo> {
        let c = self.move_campaign(actor, account, id, &["paused"], "running", "campaign.resume").await?;
        self.storage.enqueue_job(JobKind::PlanCampaign { campaign_id: id }.new_job(account, self.clock.now())).await?;
        self.storage.enqueue_job(JobKind::RunCampaign { campaign_id: id }.new_job(account, self.clock.now())).await?;
        self.job_enqueued();
        Ok(c)
    }

    /// Cancels a campaign for good: nothing more goes.
    pub async fn cancel_campaign(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<CampaignInfo> {
        let from = ["draft", "scheduled", "running", "paused"];
        let c = self.move_campaign(actor, account, id, &from, "cancelled", "campaign.cancel").await?;
        self.storage.cancel_campaign_sends(account, id, self.clock.now()).await?;
        Ok(c)
    }

    async fn move_campaign(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        from: &[&str],
        to: &str,
        action: &str,
    ) -> AppResult<CampaignInfo> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let c = self.load_campaign(account, id).await?;
        let moved =
            self.storage.set_campaign_state(account, id, from, to, self.clock.now()).await?.ok_or_else(|| {
                AppError::Conflict(format!("the campaign is {}; it cannot become {to}", c.state.as_str()))
            })?;
        self.audit(account, Some(actor), action, "campaign", id.to_string(), serde_json::json!({})).await;
        info(moved)
    }

    /// Who the campaign would reach and what each language gets.
    pub async fn campaign_preview(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<CampaignPreview> {
        actor.in_account(account)?;
        actor.can_view()?;
        let c = self.load_campaign(account, id).await?;
        let segment = c.campaign.segment_id.ok_or(AppError::NotFound("segment"))?;
        let segment = self.storage.get_segment(account, segment).await?.ok_or(AppError::NotFound("segment"))?;
        let size = self.storage.audience_size(account, segment.filter).await?;
        let account_language = self.account_language(account).await?;
        let languages = size
            .by_language
            .iter()
            .map(|(language, contacts)| {
                let lang = language.clone().unwrap_or_else(|| account_language.clone());
                LanguagePreview {
                    language: language.clone(),
                    contacts: *contacts,
                    text: c.definition.text_for(&lang, &account_language).to_owned(),
                }
            })
            .collect();
        let held_out = size.total * u64::from(c.definition.holdout_percent) / 100;
        let (batch, tick) = pace(c.definition.rate_per_minute);
        let ticks = (size.total - held_out).div_ceil(u64::from(batch));
        let duration_seconds = ticks * u64::try_from(tick.num_milliseconds()).unwrap_or(1000) / 1000;
        Ok(CampaignPreview { audience: size.total, held_out, languages, by_channel: size.by_channel, duration_seconds })
    }

    /// How a campaign fared so far.
    pub async fn campaign_stats(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<CampaignStats> {
        actor.in_account(account)?;
        actor.can_view()?;
        let c = self.load_campaign(account, id).await?;
        let mut sends = crate::notices::NoticeStats::default();
        let mut held_out = 0;
        for t in self.storage.campaign_tallies(account, id).await? {
            if !sends.add(&t) && t.state == "held_out" {
                held_out += t.count;
            }
        }
        let crate::notices::NoticeStats { sent, delivered, read, replied, scheduled, failed, skipped, .. } = sends;
        Ok(CampaignStats {
            planned: c.campaign.planned,
            sent,
            delivered,
            read,
            replied,
            scheduled,
            held_out,
            failed,
            skipped,
        })
    }

    /// A campaign's sends, newest first.
    pub async fn campaign_log(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> AppResult<Vec<NoticeSend>> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.load_campaign(account, id).await?;
        Ok(self.storage.list_campaign_sends(account, id, before, limit).await?)
    }

    /// The `run_campaign` job: plans one page of the segment and sends
    /// one tick's share of what is due, then runs again at the next tick
    /// (or when the next buyer's quiet hours end) until everyone is done.
    pub(crate) async fn run_campaign(&self, account: AccountId, id: i64) -> Result<(), JobError> {
        let retry = |e: AppError| JobError::Retry(e.report());
        let Some(stored) = self.storage.get_campaign(account, id).await.map_err(|e| retry(e.into()))? else {
            return Err(JobError::Permanent("the campaign is gone".into()));
        };
        let c = info(stored).map_err(|e| JobError::Permanent(e.report()))?;
        let started = self.clock.now();
        match c.state {
            CampaignState::Scheduled => {
                let start = c.definition.send_at.unwrap_or(started);
                if start > started {
                    let after = (start - started).to_std().unwrap_or_default();
                    return Err(JobError::Later { reason: "waiting for the campaign's start".into(), after });
                }
                self.storage
                    .set_campaign_state(account, id, &["scheduled"], "running", started)
                    .await
                    .map_err(|e| retry(e.into()))?;
            }
            CampaignState::Running => {}
            // Paused (a resume enqueues it again), cancelled or done.
            _ => return Ok(()),
        }
        if !c.campaign.planning_done && c.campaign.planned == 0 {
            // The first page at once, so the first messages go at the
            // start; the planner decides the rest (deciding a page twice
            // writes nothing twice).
            self.plan_campaign_page(account, &c).await.map_err(retry)?;
        }
        // The rate as a token bucket kept in the row: `ticked_at` is how
        // far the campaign has used its credit; at most two ticks' worth
        // is saved up, so a pause is not followed by a burst.
        let rate = i64::from(c.definition.rate_per_minute.max(1));
        let (batch, tick) = pace(c.definition.rate_per_minute);
        let floor = started - tick * 2;
        let used_to = c.campaign.ticked_at.unwrap_or(started - tick).clamp(floor, started);
        let credit = ((started - used_to).num_milliseconds() * rate / 60_000).clamp(0, i64::from(batch) * 2);
        let due = if credit > 0 {
            let limit = u32::try_from(credit).unwrap_or(batch);
            self.storage.due_campaign_sends(account, id, started, limit).await.map_err(|e| retry(e.into()))?
        } else {
            Vec::new()
        };
        let sent = due.len() as i64;
        // Several at a time, as a node's delivery workers would.
        let c = &c;
        futures::stream::iter(due)
            .map(|send| self.send_campaign_one(account, c, send))
            .buffer_unordered(PARALLEL)
            .try_collect::<Vec<()>>()
            .await?;
        let used_to = if sent < credit {
            // Nothing more was due: no credit is kept for later.
            started
        } else {
            used_to + chrono::Duration::milliseconds(sent * 60_000 / rate)
        };
        self.storage.campaign_ticked(account, id, used_to).await.map_err(|e| retry(e.into()))?;
        let now = self.clock.now();
        let next_tick = started + tick;
        if sent == credit {
            let after = (next_tick - now).to_std().unwrap_or_default();
            return Err(JobError::Later { reason: "sending at the campaign's rate".into(), after });
        }
        match self.storage.next_campaign_due(account, id).await.map_err(|e| retry(e.into()))? {
            Some(at) => {
                let after = (at.max(next_tick) - now).to_std().unwrap_or_default();
                Err(JobError::Later { reason: "waiting for buyers' quiet hours to end".into(), after })
            }
            // The planner has more to decide: it starts a sender with each page.
            None if !self
                .storage
                .get_campaign(account, id)
                .await
                .map_err(|e| retry(e.into()))?
                .is_some_and(|c| c.planning_done) =>
            {
                Ok(())
            }
            None => {
                self.storage
                    .set_campaign_state(account, id, &["running"], "done", now)
                    .await
                    .map_err(|e| retry(e.into()))?;
                tracing::info!(campaign_id = id, "campaign done");
                Ok(())
            }
        }
    }

    /// The `plan_campaign` job: decides the segment's contacts into the
    /// log, page after page for a couple of seconds, then runs again until
    /// every contact is decided (or the campaign is paused or cancelled:
    /// a page is never written then).
    pub(crate) async fn plan_campaign(&self, account: AccountId, id: i64) -> Result<(), JobError> {
        let retry = |e: AppError| JobError::Retry(e.report());
        let began = std::time::Instant::now();
        loop {
            let Some(stored) = self.storage.get_campaign(account, id).await.map_err(|e| retry(e.into()))? else {
                return Ok(());
            };
            let c = info(stored).map_err(|e| JobError::Permanent(e.report()))?;
            if c.campaign.planning_done || !matches!(c.state, CampaignState::Scheduled | CampaignState::Running) {
                return Ok(());
            }
            self.plan_campaign_page(account, &c).await.map_err(retry)?;
            // A sender for the page (it waits in the campaign's lane behind
            // one already sending; one that found nothing to send ended).
            self.storage
                .enqueue_job(JobKind::RunCampaign { campaign_id: id }.new_job(account, self.clock.now()))
                .await
                .map_err(|e| retry(e.into()))?;
            self.job_enqueued();
            if began.elapsed() > std::time::Duration::from_secs(2) {
                return Err(JobError::Later {
                    reason: "deciding the next recipients".into(),
                    after: std::time::Duration::from_millis(1),
                });
            }
        }
    }

    /// Decides the next page of the segment's contacts into the log.
    async fn plan_campaign_page(&self, account: AccountId, c: &CampaignInfo) -> AppResult<()> {
        let now = self.clock.now();
        let id = c.campaign.id;
        let Some(segment) = c.campaign.segment_id else {
            self.storage.plan_campaign_page(account, id, Vec::new(), None, None, true, now).await?;
            return Ok(());
        };
        let filter = match self.storage.get_segment(account, segment).await? {
            Some(s) => s.filter,
            None => {
                self.storage.plan_campaign_page(account, id, Vec::new(), None, None, true, now).await?;
                return Ok(());
            }
        };
        let contacts = self.storage.segment_page(account, filter, c.campaign.cursor, PAGE).await?;
        let done = contacts.len() < PAGE as usize;
        let cursor = contacts.last().map(|k| k.id);
        let settings = self.load_notice_settings(account).await?;
        let inboxes = self.storage.list_inboxes(account).await?;
        let account_language = self.account_language(account).await?;
        let marketing = c.definition.purpose == Purpose::Marketing;
        let start = c.definition.send_at.unwrap_or(now).max(now);
        // Buyers are read several at a time (each is a few small reads);
        // the page is written in one transaction.
        let (settings_ref, inboxes, account_language) = (&settings, &inboxes, &account_language);
        let sends: Vec<NewNoticeSend> = futures::stream::iter(contacts)
            .map(|contact| async move {
                let mut new = NewNoticeSend {
                    kind: CAMPAIGN_TAG.into(),
                    dedup_key: format!("campaign:{id}:{}", contact.id.0),
                    contact_id: Some(contact.id),
                    order_id: None,
                    channel: None,
                    state: "held_out".into(),
                    reason: Some("holdout".into()),
                    scheduled_at: start,
                    campaign_id: Some(id),
                    journey_id: None,
                    marketing,
                };
                if held_out(id, contact.id.0, c.definition.holdout_percent) {
                    return Ok::<_, AppError>(new);
                }
                let to = self.recipient(account, &contact, inboxes).await?;
                match plan_outreach(
                    &c.definition.outreach(),
                    c.definition.purpose,
                    &to,
                    &settings_ref.policy,
                    account_language,
                    start,
                ) {
                    Plan::Send { channel, at, .. } => {
                        new.state = "scheduled".into();
                        new.reason = None;
                        new.channel = Some(channel.as_str().into());
                        new.scheduled_at = at;
                    }
                    Plan::Skip(why) => {
                        new.state = "skipped".into();
                        new.reason = Some(why.as_str().into());
                    }
                }
                Ok(new)
            })
            .buffered(PARALLEL)
            .try_collect()
            .await?;
        let cap = marketing.then_some(settings.policy.marketing_per_week);
        self.storage.plan_campaign_page(account, id, sends, cap, cursor, done, now).await?;
        Ok(())
    }

    /// Sends one due recipient; consent and stops are read again, since
    /// the buyer may have changed their mind since planning.
    async fn send_campaign_one(&self, account: AccountId, c: &CampaignInfo, send: NoticeSend) -> Result<(), JobError> {
        let now = self.clock.now();
        let finish = |state: &'static str, reason: String| async move {
            self.storage
                .finish_notice_send(account, send.id, state, None, Some(reason), None, now)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))
        };
        let channel = send.channel.as_deref().and_then(|s| s.parse::<ChannelKind>().ok());
        let contact = match send.contact_id {
            Some(id) => self.storage.get_contact(account, id).await.map_err(|e| JobError::Retry(e.to_string()))?,
            None => None,
        };
        let (Some(contact), Some(channel)) = (contact, channel) else {
            return finish("failed", "the buyer or channel is gone".into()).await;
        };
        if let Some(why) =
            self.still_reachable(account, c, &contact, channel).await.map_err(|e| JobError::Retry(e.report()))?
        {
            return finish("skipped", why.into()).await;
        }
        let account_language = self.account_language(account).await.map_err(|e| JobError::Retry(e.report()))?;
        let language = buyer_language(&contact, &account_language);
        let out = Outreach {
            contact: &contact,
            channel,
            text: c.definition.text_for(&language, &account_language).to_owned(),
            template: c.definition.whatsapp_template.as_ref(),
            template_category: (c.definition.purpose == Purpose::Marketing).then_some("MARKETING"),
            vars: serde_json::json!({ "contact": { "name": first_name(&contact) } }),
            tag: CAMPAIGN_TAG,
            subject: Some(c.definition.name.clone()),
            send: send.id,
        };
        match self.send_outreach(account, out).await {
            Ok(_) | Err(AppError::Conflict(_)) => Ok(()),
            Err(e @ (AppError::Storage(_) | AppError::Upstream(_))) => Err(JobError::Retry(e.report())),
            Err(e) => finish("failed", e.to_string()).await,
        }
    }

    /// Why a planned buyer may no longer get a campaign (they stopped the
    /// channel or withdrew consent since), if they may not.
    async fn still_reachable(
        &self,
        account: AccountId,
        c: &CampaignInfo,
        contact: &Contact,
        channel: ChannelKind,
    ) -> AppResult<Option<&'static str>> {
        if self.storage.is_opted_out(account, contact.id, channel).await? {
            return Ok(Some("opted_out"));
        }
        if c.definition.purpose == Purpose::Marketing {
            let settings = self.load_notice_settings(account).await?;
            let consents = self.storage.contact_consents(account, contact.id).await?;
            let consent = consents
                .iter()
                .filter(|k| k.channel == channel.as_str() || k.channel == "all")
                .max_by_key(|k| k.recorded_at)
                .is_some_and(|k| k.granted);
            if settings.policy.require_consent && !consent {
                return Ok(Some("no_consent"));
            }
        }
        Ok(None)
    }
}

impl App {
    /// A one-click unsubscribe link for a buyer's e-mail (RFC 8058): a new
    /// token each time, kept only as its hash.
    pub(crate) async fn unsubscribe_link(
        &self,
        account: AccountId,
        contact: ferry_core::ContactId,
    ) -> AppResult<String> {
        let token = crate::auth::new_secret();
        let hash = crate::auth::secret_hash(&token);
        self.storage.create_unsubscribe_link(account, contact, "email", hash, self.clock.now()).await?;
        Ok(format!("{}/unsubscribe/{token}", self.config.public_url.trim_end_matches('/')))
    }

    /// Uses an unsubscribe link: the buyer's e-mail is stopped for the
    /// account (no more campaigns or marketing there) and their e-mail
    /// consent withdrawn, audited. Using it again changes nothing.
    pub async fn unsubscribe(&self, token: &str) -> AppResult<()> {
        let now = self.clock.now();
        let hash = crate::auth::secret_hash(token.trim());
        let (account, contact, channel) =
            self.storage.use_unsubscribe_link(hash, now).await?.ok_or(AppError::NotFound("link"))?;
        let channel: ChannelKind = channel.parse().map_err(|_| AppError::NotFound("link"))?;
        let c = self.storage.get_contact(account, contact).await?.ok_or(AppError::NotFound("link"))?;
        if self.storage.is_opted_out(account, contact, channel).await? {
            return Ok(());
        }
        let address = c
            .identities
            .iter()
            .find(|i| i.kind == ferry_core::contact::IdentityKind::Email)
            .map(|i| i.value.clone())
            .unwrap_or_default();
        let choice = ferry_storage::ChannelOptOut {
            contact_id: contact,
            channel,
            address,
            opted_out: true,
            keyword: "UNSUBSCRIBE".into(),
            updated_at: now,
        };
        self.storage.set_channel_opt_out(account, choice).await?;
        let consent = ferry_storage::ContactConsent {
            contact_id: contact,
            channel: channel.as_str().into(),
            granted: false,
            source: "unsubscribe_link".into(),
            recorded_by: None,
            recorded_at: now,
        };
        self.storage.set_contact_consent(account, consent).await?;
        self.audit(
            account,
            None,
            "contact.unsubscribed",
            "contact",
            contact.to_string(),
            serde_json::json!({"channel": channel.as_str()}),
        )
        .await;
        Ok(())
    }
}
