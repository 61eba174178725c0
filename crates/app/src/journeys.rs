//! Journeys as the use cases see them: written as data (a vertical list of
//! steps), tried against a real buyer before they go live (a test run that
//! shows what would be sent when), switched on and paused; buyers enrolled
//! by a shop event (once per event), one by one or a segment at once; and
//! the `advance_journey` job that moves one buyer on at their next moment
//! — or at once when they reply while a step waits for it — deciding each
//! send as it goes (`ferry_core::journey::advance`), so opt-outs, quiet
//! hours and the weekly cap hold whatever the journey says. Each send is a
//! row of the notice log keyed by enrolment and step, sent through the
//! same outgoing path as everything else.

use crate::auth::Actor;
use crate::notices::{NoticeStats, Outreach, buyer_language, first_name};
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use ferry_core::contact::Contact;
use ferry_core::conversation::{Status, Transition};
use ferry_core::journey::{Action, Enrolment, Facts, Journey, Step, Trigger, advance, dry_run};
use ferry_core::notices::{NoticeKind, Purpose, text_in};
use ferry_core::{AccountId, ContactId};
use ferry_jobs::{JobError, JobKind};
use ferry_storage::{EnrolmentMove, JourneyEnrolment, NewJourney, NewNoticeSend, StoredJourney};
use serde::Serialize;

/// The tag of conversations a journey starts.
pub const JOURNEY_TAG: &str = "journey";
/// How far ahead a test run looks.
const TEST_HORIZON_DAYS: i64 = 120;
/// Buyers of a segment enrolled at once, at most.
const MAX_SEGMENT_ENROLMENT: u32 = 10_000;

/// A journey with what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyInfo {
    /// The stored journey.
    pub stored: StoredJourney,
    /// Its steps and trigger.
    pub journey: Journey,
}

/// One line of a test run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestRunLine {
    /// When.
    pub at: DateTime<Utc>,
    /// The step (1-based, as the console shows it).
    pub step: Option<usize>,
    /// `send`, `skip`, `tag` or `hand_off`.
    pub action: String,
    /// The channel a send goes on.
    pub channel: Option<String>,
    /// The language it is in.
    pub language: Option<String>,
    /// The WhatsApp template it goes as (the window is closed).
    pub template: Option<String>,
    /// The text the buyer gets (sends), the tag, the hand-off reason, or
    /// why a step sends nothing.
    pub detail: String,
}

/// How a journey fares.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct JourneyStats {
    /// Buyers ever enrolled.
    pub enrolled: u64,
    /// Buyers in it now, by step (0-based).
    pub at_step: Vec<(usize, u64)>,
    /// Buyers who left, by how (`finished`, `handed_off`, `opted_out`).
    pub left: Vec<(String, u64)>,
    /// Its sends.
    pub sends: NoticeStats,
}

/// Who to enrol.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnrolRequest {
    /// These buyers.
    pub contact_ids: Vec<ContactId>,
    /// Every buyer of this saved segment.
    pub segment_id: Option<i64>,
}

/// What an enrolment request did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EnrolOutcome {
    /// Buyers newly enrolled.
    pub enrolled: u64,
    /// Buyers already in (or through) the journey.
    pub already: u64,
}

fn info(stored: StoredJourney) -> AppResult<JourneyInfo> {
    let journey: Journey =
        serde_json::from_value(stored.definition.clone()).map_err(|e| AppError::internal("reading a journey", e))?;
    Ok(JourneyInfo { stored, journey })
}

fn checked(j: &Journey) -> AppResult<NewJourney> {
    j.check().map_err(|e| AppError::invalid("journey", e))?;
    let j = Journey { name: j.name.trim().to_owned(), ..j.clone() };
    Ok(NewJourney {
        name: j.name.clone(),
        definition: serde_json::to_value(&j).map_err(|e| AppError::internal("saving a journey", e))?,
        trigger_event: match j.trigger {
            Trigger::Event { event } => Some(event.as_str().to_owned()),
            Trigger::Manual => None,
        },
    })
}

/// The send-log row of step `step` of an enrolment (its key makes it once).
fn journey_send_row(
    j: &JourneyInfo,
    e: &JourneyEnrolment,
    step: usize,
    channel: Option<String>,
    state: &str,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> NewNoticeSend {
    NewNoticeSend {
        kind: "journey".into(),
        dedup_key: format!("journey:{}:{step}", e.id),
        contact_id: Some(e.contact_id),
        order_id: e.order_id,
        channel,
        state: state.into(),
        reason,
        scheduled_at: now,
        campaign_id: None,
        marketing: state == "scheduled" && j.journey.purpose == Purpose::Marketing,
        journey_id: Some(j.stored.id),
    }
}

/// The placeholders of a journey's texts: the buyer, and the order the
/// event was about (its number and tracking) when there is one.
fn journey_vars(contact: &Contact, order: Option<&ferry_storage::StoredOrder>) -> serde_json::Value {
    let mut vars = serde_json::json!({"contact": {"name": first_name(contact)}});
    if let Some(o) = order {
        vars["order"] = serde_json::json!({"number": o.details.order.name});
        if let Some(f) = o.details.fulfillments.iter().rev().find(|f| f.is_live()) {
            vars["tracking"] = serde_json::json!({
                "url": f.tracking_url.clone().unwrap_or_default(),
                "number": f.tracking_number.clone().unwrap_or_default(),
            });
        }
    }
    vars
}

impl App {
    async fn load_journey(&self, account: AccountId, id: i64) -> AppResult<JourneyInfo> {
        info(self.storage.get_journey(account, id).await?.ok_or(AppError::NotFound("journey"))?)
    }

    /// The account's journeys, newest first.
    pub async fn journeys(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<JourneyInfo>> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.storage.list_journeys(account).await?.into_iter().map(info).collect()
    }

    /// One journey.
    pub async fn journey(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<JourneyInfo> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.load_journey(account, id).await
    }

    /// Writes a journey, off until switched on (owners and admins); audited.
    pub async fn create_journey(&self, actor: &Actor, account: AccountId, j: Journey) -> AppResult<JourneyInfo> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let new = checked(&j)?;
        let stored = self.storage.create_journey(account, new, Some(actor.user.id), self.clock.now()).await?;
        self.audit(account, Some(actor), "journey.create", "journey", stored.id.to_string(), stored.definition.clone())
            .await;
        info(stored)
    }

    /// Rewrites a journey that is not running (pause it first); buyers in
    /// it stay at their step number.
    pub async fn update_journey(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        j: Journey,
    ) -> AppResult<JourneyInfo> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let current = self.load_journey(account, id).await?;
        if current.stored.state == "active" {
            return Err(AppError::Conflict("the journey is running; pause it before changing it".into()));
        }
        let new = checked(&j)?;
        let stored = self
            .storage
            .update_journey(account, id, new, self.clock.now())
            .await?
            .ok_or_else(|| AppError::Conflict("the journey was switched on meanwhile".into()))?;
        self.audit(account, Some(actor), "journey.update", "journey", id.to_string(), stored.definition.clone()).await;
        info(stored)
    }

    /// Deletes a journey with its enrolments and log (it must not be running).
    pub async fn delete_journey(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let current = self.load_journey(account, id).await?;
        if current.stored.state == "active" {
            return Err(AppError::Conflict("the journey is running; pause it before deleting it".into()));
        }
        self.storage.delete_journey(account, id).await?;
        self.audit(account, Some(actor), "journey.delete", "journey", id.to_string(), serde_json::json!({})).await;
        Ok(())
    }

    /// Switches a journey on (buyers paused in it move on from where they
    /// were) or pauses it (nobody moves or enters until it is on again).
    pub async fn set_journey_active(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        active: bool,
    ) -> AppResult<JourneyInfo> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let current = self.load_journey(account, id).await?;
        let state = if active { "active" } else { "paused" };
        if current.stored.state == state {
            return Ok(current);
        }
        let now = self.clock.now();
        let stored =
            self.storage.set_journey_state(account, id, state, now).await?.ok_or(AppError::NotFound("journey"))?;
        if active {
            // Their jobs found the journey paused and stopped: start again.
            for (enrolment, until) in self.storage.enrolments_in(account, id).await? {
                let at = until.map_or(now, |u| u.max(now));
                self.storage
                    .enqueue_job(JobKind::AdvanceJourney { enrolment_id: enrolment }.new_job(account, at))
                    .await?;
            }
            self.job_enqueued();
        }
        let action = if active { "journey.activate" } else { "journey.pause" };
        self.audit(account, Some(actor), action, "journey", id.to_string(), serde_json::json!({})).await;
        info(stored)
    }

    /// Enrols buyers (one by one, or a saved segment) in a running journey.
    pub async fn enrol_in_journey(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        req: EnrolRequest,
    ) -> AppResult<EnrolOutcome> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let j = self.load_journey(account, id).await?;
        if j.stored.state != "active" {
            return Err(AppError::Conflict("switch the journey on before enrolling buyers".into()));
        }
        if req.contact_ids.is_empty() && req.segment_id.is_none() {
            return Err(AppError::invalid("contact_ids", "give buyers or a segment"));
        }
        if req.contact_ids.len() > 1000 {
            return Err(AppError::invalid("contact_ids", "at most 1,000 buyers at once; use a segment for more"));
        }
        let mut contacts = req.contact_ids.clone();
        if let Some(segment) = req.segment_id {
            let s = self
                .storage
                .get_segment(account, segment)
                .await?
                .ok_or_else(|| AppError::invalid("segment_id", "no such segment in this account"))?;
            let mut after = None;
            loop {
                let page = self.storage.segment_page(account, s.filter.clone(), after, 500).await?;
                after = page.last().map(|c| c.id);
                contacts.extend(page.iter().map(|c| c.id));
                if page.len() < 500 || contacts.len() as u32 >= MAX_SEGMENT_ENROLMENT {
                    break;
                }
            }
        }
        let mut out = EnrolOutcome::default();
        for contact in contacts {
            let key = format!("manual:{}", contact.0);
            match self.storage.enrol(account, id, contact, &key, None, self.clock.now()).await {
                Ok(Some(e)) => {
                    self.storage
                        .enqueue_job(JobKind::AdvanceJourney { enrolment_id: e.id }.new_job(account, self.clock.now()))
                        .await?;
                    out.enrolled += 1;
                }
                Ok(None) => out.already += 1,
                Err(ferry_storage::StorageError::NotFound) => return Err(AppError::NotFound("contact")),
                Err(e) => return Err(e.into()),
            }
        }
        if out.enrolled > 0 {
            self.job_enqueued();
        }
        self.audit(
            account,
            Some(actor),
            "journey.enrol",
            "journey",
            id.to_string(),
            serde_json::json!({"enrolled": out.enrolled, "segment_id": req.segment_id}),
        )
        .await;
        Ok(out)
    }

    /// What the journey would do for `contact` from now, if nothing about
    /// them changed (they never reply): each step with its moment, the
    /// channel, language and text — or why it would send nothing. Nothing
    /// is sent or stored. Works on drafts.
    pub async fn journey_test_run(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        contact: ContactId,
    ) -> AppResult<Vec<TestRunLine>> {
        actor.in_account(account)?;
        actor.can_view()?;
        let j = self.load_journey(account, id).await?;
        let c = self.storage.get_contact(account, contact).await?.ok_or(AppError::NotFound("contact"))?;
        let now = self.clock.now();
        let mut facts = self.journey_facts(account, &c, now).await?;
        facts.replied = false;
        let settings = self.load_notice_settings(account).await?;
        let account_language = self.account_language(account).await?;
        // Their latest order fills the order's placeholders, as an event
        // about it would.
        let latest = self.orders_of(account, &c).await?.into_iter().max_by_key(|o| o.details.order.created_at);
        let vars = journey_vars(&c, latest.as_ref());
        let run =
            dry_run(&j.journey, &facts, &settings.policy, &account_language, now, Duration::days(TEST_HORIZON_DAYS));
        Ok(run
            .into_iter()
            .map(|(at, a)| match a {
                Action::Send { step, channel, language, template } => {
                    let text = match j.journey.steps.get(step) {
                        Some(Step::Send { texts, .. }) => {
                            ferry_bot::render::render_or_raw(text_in(texts, &language, "en").unwrap_or_default(), &vars)
                        }
                        _ => String::new(),
                    };
                    TestRunLine {
                        at,
                        step: Some(step + 1),
                        action: "send".into(),
                        channel: Some(channel.as_str().into()),
                        language: Some(language),
                        template: template.map(|(name, code)| format!("{name} ({code})")),
                        detail: text,
                    }
                }
                Action::Skipped { step, why } => TestRunLine {
                    at,
                    step: Some(step + 1),
                    action: "skip".into(),
                    channel: None,
                    language: None,
                    template: None,
                    detail: why.as_str().into(),
                },
                Action::Tag(tag) => TestRunLine {
                    at,
                    step: None,
                    action: "tag".into(),
                    channel: None,
                    language: None,
                    template: None,
                    detail: tag,
                },
                Action::HandOff(reason) => TestRunLine {
                    at,
                    step: None,
                    action: "hand_off".into(),
                    channel: None,
                    language: None,
                    template: None,
                    detail: reason,
                },
            })
            .collect())
    }

    /// How a journey fares: who is where, how those who left left, and
    /// its sends' figures.
    pub async fn journey_stats(&self, actor: &Actor, account: AccountId, id: i64) -> AppResult<JourneyStats> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.load_journey(account, id).await?;
        let mut out = JourneyStats::default();
        for c in self.storage.enrolment_counts(account, id).await? {
            out.enrolled += c.count;
            if c.done {
                let how = c.outcome.unwrap_or_else(|| "finished".into());
                match out.left.iter_mut().find(|(k, _)| *k == how) {
                    Some((_, n)) => *n += c.count,
                    None => out.left.push((how, c.count)),
                }
            } else {
                out.at_step.push((c.step, c.count));
            }
        }
        for t in self.storage.journey_tallies(account, id).await? {
            out.sends.add(&t);
        }
        out.sends.kind = "journey".into();
        Ok(out)
    }

    /// A journey's latest enrolments, newest first.
    pub async fn journey_enrolments(
        &self,
        actor: &Actor,
        account: AccountId,
        id: i64,
        limit: u32,
    ) -> AppResult<Vec<JourneyEnrolment>> {
        actor.in_account(account)?;
        actor.can_view()?;
        self.load_journey(account, id).await?;
        Ok(self.storage.list_enrolments(account, id, limit.clamp(1, 200)).await?)
    }

    /// Enrols the buyer of a shop event in the running journeys it starts,
    /// once per event.
    pub(crate) async fn enrol_for_event(
        &self,
        account: AccountId,
        event: NoticeKind,
        key: &str,
        buyer: Option<&Contact>,
        order_id: Option<i64>,
    ) -> AppResult<u64> {
        let Some(buyer) = buyer else { return Ok(0) };
        let mut n = 0;
        for j in self.storage.journeys_for_event(account, event.as_str()).await? {
            if let Some(e) = self.storage.enrol(account, j.id, buyer.id, key, order_id, self.clock.now()).await? {
                self.storage
                    .enqueue_job(JobKind::AdvanceJourney { enrolment_id: e.id }.new_job(account, self.clock.now()))
                    .await?;
                n += 1;
            }
        }
        if n > 0 {
            self.job_enqueued();
        }
        Ok(n)
    }

    /// Moves on at once the buyer's enrolments waiting for their reply.
    pub(crate) async fn wake_journeys_for_reply(&self, account: AccountId, contact: ContactId) -> AppResult<()> {
        let waiting = self.storage.enrolments_awaiting_reply(account, contact).await?;
        let now = self.clock.now();
        for id in &waiting {
            // Its job waiting for the time limit goes now (a second job in
            // the lane would wait behind it).
            if !self.storage.wake_lane(account, &format!("journey:{id}"), now).await? {
                self.storage.enqueue_job(JobKind::AdvanceJourney { enrolment_id: *id }.new_job(account, now)).await?;
            }
        }
        if !waiting.is_empty() {
            self.job_enqueued();
        }
        Ok(())
    }

    /// The account's language (English when unset).
    pub(crate) async fn account_language(&self, account: AccountId) -> AppResult<String> {
        Ok(self.storage.get_account(account).await?.map(|a| a.default_language).unwrap_or_else(|| "en".into()))
    }

    /// What a journey's steps read of a buyer now; `since` is when they
    /// entered (a reply counts from then).
    async fn journey_facts(&self, account: AccountId, c: &Contact, since: DateTime<Utc>) -> AppResult<Facts> {
        let inboxes = self.storage.list_inboxes(account).await?;
        let recipient = self.recipient(account, c, &inboxes).await?;
        let replied = recipient.channels.iter().any(|r| r.last_buyer_message_at.is_some_and(|t| t > since));
        Ok(Facts { recipient, tags: c.tags.clone(), replied })
    }

    /// The `advance_journey` job: moves one buyer on as far as they go now.
    pub(crate) async fn advance_enrolment(&self, account: AccountId, id: i64) -> Result<(), JobError> {
        let retry = |e: AppError| JobError::Retry(e.report());
        let Some(e) = self.storage.get_enrolment(account, id).await.map_err(|e| retry(e.into()))? else {
            return Ok(());
        };
        if e.done {
            return Ok(());
        }
        let Some(stored) = self.storage.get_journey(account, e.journey_id).await.map_err(|e| retry(e.into()))? else {
            return Ok(());
        };
        // Paused: switching it on again enqueues everyone in it.
        if stored.state != "active" {
            return Ok(());
        }
        let j = info(stored).map_err(|e| JobError::Permanent(e.report()))?;
        self.move_on(account, &j, e).await.map_err(|e| match e {
            AppError::Storage(_) | AppError::Upstream(_) => retry(e),
            other => JobError::Permanent(other.report()),
        })
    }

    async fn move_on(&self, account: AccountId, j: &JourneyInfo, e: JourneyEnrolment) -> AppResult<()> {
        let now = self.clock.now();
        let Some(contact) = self.storage.get_contact(account, e.contact_id).await? else { return Ok(()) };
        let facts = self.journey_facts(account, &contact, e.entered_at).await?;
        let settings = self.load_notice_settings(account).await?;
        let language = self.account_language(account).await?;
        let mut place = Enrolment { step: e.step, until: e.until, done: false };
        let actions = advance(&j.journey, &mut place, &facts, &settings.policy, &language, now);
        let mut outcome = None;
        for a in actions {
            match a {
                Action::Send { step, channel, .. } => {
                    self.journey_send(account, j, &e, &contact, step, channel).await?;
                }
                Action::Skipped { step, why } => {
                    if why == ferry_core::notices::Skip::OptedOut {
                        outcome = Some("opted_out");
                    }
                    let new = journey_send_row(j, &e, step, None, "skipped", Some(why.as_str().into()), now);
                    self.storage.claim_notice_send(account, new, now).await?;
                }
                Action::Tag(tag) => {
                    if !contact.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                        let mut tags = contact.tags.clone();
                        tags.push(tag);
                        let patch = ferry_storage::ContactPatch { tags: Some(tags), ..Default::default() };
                        self.storage.update_contact(account, contact.id, patch, now).await?;
                    }
                }
                Action::HandOff(reason) => {
                    outcome = Some("handed_off");
                    self.journey_hand_off(account, j, &contact, &reason).await?;
                }
            }
        }
        let awaiting_reply = !place.done && matches!(j.journey.steps.get(place.step), Some(Step::WaitForReply { .. }));
        let to = EnrolmentMove {
            step: place.step,
            until: place.until,
            done: place.done,
            awaiting_reply,
            outcome: place.done.then(|| outcome.unwrap_or("finished").to_owned()),
        };
        self.storage.move_enrolment(account, e.id, to, now).await?;
        if let (false, Some(at)) = (place.done, place.until) {
            self.storage.enqueue_job(JobKind::AdvanceJourney { enrolment_id: e.id }.new_job(account, at)).await?;
            self.job_enqueued();
        }
        Ok(())
    }

    /// Sends step `step` to the buyer once: the row keyed by enrolment and
    /// step is written first and marked sent with the message, so a job run
    /// again after a crash finds it and sends it at most once.
    async fn journey_send(
        &self,
        account: AccountId,
        j: &JourneyInfo,
        e: &JourneyEnrolment,
        contact: &Contact,
        step: usize,
        channel: ferry_core::inbox::ChannelKind,
    ) -> AppResult<()> {
        let Some(Step::Send { texts, whatsapp_template, .. }) = j.journey.steps.get(step) else { return Ok(()) };
        let now = self.clock.now();
        let new = journey_send_row(j, e, step, Some(channel.as_str().into()), "scheduled", None, now);
        let row = match self.storage.claim_notice_send(account, new.clone(), now).await? {
            Some(row) => row,
            None => match self.storage.notice_send_by_key(account, &new.dedup_key).await? {
                Some(row) if row.state == "scheduled" => row,
                _ => return Ok(()),
            },
        };
        let order = match e.order_id {
            Some(id) => self.storage.get_order(account, ferry_core::OrderId(id)).await?,
            None => None,
        };
        let vars = journey_vars(contact, order.as_ref());
        let language = buyer_language(contact, "en");
        let marketing = j.journey.purpose == Purpose::Marketing;
        let out = Outreach {
            contact,
            channel,
            text: text_in(texts, &language, "en").unwrap_or_default().to_owned(),
            template: whatsapp_template.as_ref(),
            template_category: marketing.then_some("MARKETING"),
            vars,
            tag: JOURNEY_TAG,
            subject: Some(j.journey.name.clone()),
            send: row.id,
        };
        match self.send_outreach(account, out).await {
            Ok(_) | Err(AppError::Conflict(_)) => Ok(()),
            Err(err @ (AppError::Storage(_) | AppError::Upstream(_))) => Err(err),
            Err(err) => {
                let reason = Some(err.to_string());
                self.storage.finish_notice_send(account, row.id, "failed", None, reason, None, now).await?;
                Ok(())
            }
        }
    }

    /// Hands the buyer to people: their latest conversation opens with the
    /// journey's reason as its activity line (or, held by the bot, is
    /// handed off as the bot does).
    async fn journey_hand_off(
        &self,
        account: AccountId,
        j: &JourneyInfo,
        contact: &Contact,
        reason: &str,
    ) -> AppResult<()> {
        let filter = ferry_storage::ConversationFilter {
            contact_id: Some(contact.id),
            ..ferry_storage::ConversationFilter::default()
        };
        let Some(conv) = self.storage.list_conversations(account, &filter, None, 1).await?.items.into_iter().next()
        else {
            tracing::info!("a journey's hand-off found no conversation with the buyer");
            return Ok(());
        };
        let note = format!("Journey “{}”: {reason}", j.journey.name);
        if conv.status == Status::Bot {
            let Some(inbox) = self.storage.get_inbox(account, conv.inbox_id).await? else { return Ok(()) };
            return self.hand_off(account, &inbox, conv.id, note, &buyer_language(contact, "")).await;
        }
        // The reason as an activity line, reopening a closed conversation.
        let reopen = matches!(conv.status, Status::Resolved | Status::Pending);
        let line = |transition: Option<Transition>| ferry_storage::NewMessage {
            notice_send: None,
            conversation_id: conv.id,
            kind: ferry_core::message::MessageKind::Activity,
            sender: ferry_core::message::Sender::System,
            parts: vec![ferry_core::message::ContentPart::Text { text: note.clone() }],
            delivery: None,
            now: self.clock.now(),
            transition,
            job: None,
            bot_state: None,
            describe: None,
        };
        match self.storage.post_message(account, line(reopen.then_some(Transition::Reopen))).await {
            Ok(_) => Ok(()),
            // It changed meanwhile: the line alone.
            Err(ferry_storage::StorageError::Transition(_)) => {
                self.storage.post_message(account, line(None)).await.map(drop).map_err(Into::into)
            }
            Err(e) => Err(e.into()),
        }
    }
}
