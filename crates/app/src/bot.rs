//! The bot at work: answering buyers' messages in conversations it holds,
//! handing off to people with the reason, and the admin use cases (edit
//! intents, FAQ and shop variables, retrain, test a sentence).
//!
//! Intake enqueues a `bot_reply` job in the same transaction as a buyer
//! message whose conversation is with the bot; the job worker runs
//! [`App::run_bot`]. The bot's answer and its memory of the conversation are
//! written in one transaction — for a hand-off, with the passing of the
//! conversation to people (status, reason, team, agent) too — and a message
//! already handled is skipped, so a job that runs twice answers once and a
//! failed write is retried whole. Answers go out through
//! [`App::send_outgoing`] like every other outgoing message.

use crate::auth::Actor;
use crate::outgoing::OutgoingMessage;
use crate::{App, AppError, AppResult};
use ferry_bot::{BotDocument, BotError, BotFaq, BotIntent, Engine, Facts, Outcome, Turn, TurnInput};
use ferry_core::bot::{BotState, HandoffReason, Policy};
use ferry_core::conversation::{Change, Conversation, Status, Transition};
use ferry_core::inbox::Inbox;
use ferry_core::message::{ContentPart, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId, MessageId, TeamId, UserId};
use ferry_storage::{ConversationUpdate, Describe, NewMessage, StorageError};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Trained bots per account, retrained when the document's version moves.
#[derive(Default)]
pub(crate) struct Engines {
    default: tokio::sync::OnceCell<Arc<Engine>>,
    accounts: Mutex<EngineCache>,
}

/// Trained engines of edited bots, by account, with their document's
/// version; the least recently used goes when the cache is full.
#[derive(Default)]
pub(crate) struct EngineCache {
    entries: HashMap<AccountId, (i64, Arc<Engine>, u64)>,
    clock: u64,
}

impl EngineCache {
    /// Accounts whose trained bots are kept in memory.
    pub(crate) const CAPACITY: usize = 256;

    fn get(&mut self, account: AccountId, version: i64) -> Option<Arc<Engine>> {
        self.clock += 1;
        let tick = self.clock;
        let (v, engine, used) = self.entries.get_mut(&account)?;
        if *v != version {
            return None;
        }
        *used = tick;
        Some(engine.clone())
    }

    fn insert(&mut self, account: AccountId, version: i64, engine: Arc<Engine>) {
        self.clock += 1;
        if self.entries.len() >= Self::CAPACITY && !self.entries.contains_key(&account) {
            let oldest = self.entries.iter().min_by_key(|(_, (_, _, used))| *used).map(|(a, _)| *a);
            if let Some(a) = oldest {
                self.entries.remove(&a);
            }
        }
        self.entries.insert(account, (version, engine, self.clock));
    }
}

/// The account's bot document with its version (`None`: the default pack,
/// never edited).
#[derive(Debug, Clone, Serialize)]
pub struct BotDocumentView {
    /// The document.
    pub document: BotDocument,
    /// Its version; edits name it to avoid overwriting others' changes.
    pub version: Option<i64>,
}

/// What training reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Version trained.
    pub version: Option<i64>,
    /// Intents.
    pub intents: usize,
    /// Examples.
    pub examples: usize,
    /// FAQ entries.
    pub faqs: usize,
    /// Wall time of training, in milliseconds.
    pub millis: u64,
}

/// What the bot would do with a sentence, and why.
#[derive(Debug, Clone, Serialize)]
pub struct BotTestResult {
    /// Understanding, decision and the state after it.
    pub turn: Turn,
    /// What the buyer would get.
    pub outcome: Outcome,
    /// The activity line a hand-off would write.
    pub note: Option<String>,
}

/// An edit of the bot document.
#[derive(Debug, Clone)]
pub enum BotEdit {
    /// Add or replace an intent.
    PutIntent(BotIntent),
    /// Remove an intent.
    RemoveIntent(String),
    /// Add or replace a FAQ entry.
    PutFaq(BotFaq),
    /// Remove a FAQ entry in every language.
    RemoveFaq(String),
    /// Replace the whole document.
    Replace(BotDocument),
}

fn bot_err(e: BotError) -> AppError {
    match e {
        BotError::Invalid { field, message } => AppError::Invalid { field: Some(field), message },
        BotError::Nlu(e) => AppError::internal("training the bot", e),
    }
}

impl App {
    pub(crate) async fn stored_bot_document(&self, account: AccountId) -> AppResult<BotDocumentView> {
        match self.storage.get_bot_document(account).await? {
            Some(stored) => {
                let document: BotDocument = serde_json::from_value(stored.document)
                    .map_err(|e| AppError::internal("reading the stored bot document", e))?;
                Ok(BotDocumentView { document, version: Some(stored.version) })
            }
            None => Ok(BotDocumentView { document: BotDocument::default_pack().map_err(bot_err)?, version: None }),
        }
    }

    async fn train(document: BotDocument) -> AppResult<Arc<Engine>> {
        tokio::task::spawn_blocking(move || Engine::build(document).map(Arc::new))
            .await
            .map_err(|e| AppError::internal("training the bot", e))?
            .map_err(bot_err)
    }

    async fn default_engine(&self) -> AppResult<Arc<Engine>> {
        let engine = self
            .bots
            .default
            .get_or_try_init(|| async { Self::train(BotDocument::default_pack().map_err(bot_err)?).await })
            .await?;
        Ok(engine.clone())
    }

    /// Trains the default bot ahead of the first message.
    pub async fn warm_bot(&self) {
        if let Err(e) = self.default_engine().await {
            tracing::error!(error = %e, "the default bot could not be trained");
        }
    }

    /// The trained bot of an account (trains it when its document changed).
    pub async fn bot_engine(&self, account: AccountId) -> AppResult<Arc<Engine>> {
        // Most messages only need to know the version is unchanged.
        let Some(version) = self.storage.bot_document_version(account).await? else {
            return self.default_engine().await;
        };
        if let Some(e) = self.bots.accounts.lock().ok().and_then(|mut cache| cache.get(account, version)) {
            return Ok(e);
        }
        let Some(view) = self.storage.get_bot_document(account).await? else {
            return self.default_engine().await;
        };
        let document: BotDocument = serde_json::from_value(view.document)
            .map_err(|e| AppError::internal("reading the stored bot document", e))?;
        let engine = Self::train(document).await?;
        if let Ok(mut cache) = self.bots.accounts.lock() {
            cache.insert(account, view.version, engine.clone());
        }
        Ok(engine)
    }

    /// The account's bot document.
    pub async fn bot_document(&self, actor: &Actor, account: AccountId) -> AppResult<BotDocumentView> {
        actor.in_account(account)?;
        self.stored_bot_document(account).await
    }

    /// Applies an edit to the bot document (owners and admins). `expected`
    /// is the version the editor saw; a newer stored version is a conflict.
    pub async fn edit_bot(
        &self,
        actor: &Actor,
        account: AccountId,
        edit: BotEdit,
        expected: Option<i64>,
    ) -> AppResult<BotDocumentView> {
        actor.in_account(account)?;
        actor.can_manage_bot()?;
        let BotDocumentView { mut document, version } = self.stored_bot_document(account).await?;
        if expected.is_some() && expected != version {
            return Err(StorageError::Conflict { constraint: "bot_documents.version".into() }.into());
        }
        match edit {
            BotEdit::PutIntent(i) => document.put_intent(i).map_err(bot_err)?,
            BotEdit::RemoveIntent(name) => {
                if !document.remove_intent(&name).map_err(bot_err)? {
                    return Err(AppError::NotFound("intent"));
                }
            }
            BotEdit::PutFaq(f) => document.put_faq(f).map_err(bot_err)?,
            BotEdit::RemoveFaq(id) => {
                if !document.remove_faq(&id) {
                    return Err(AppError::NotFound("FAQ entry"));
                }
            }
            BotEdit::Replace(d) => document = d,
        }
        document.validate().map_err(bot_err)?;
        let json = serde_json::to_value(&document).map_err(|e| AppError::internal("writing the bot document", e))?;
        let version = self.storage.put_bot_document(account, json, version, self.clock.now()).await?;
        Ok(BotDocumentView { document, version: Some(version) })
    }

    /// Trains the account's bot now and reports how long it took.
    pub async fn train_bot(&self, actor: &Actor, account: AccountId) -> AppResult<TrainReport> {
        actor.in_account(account)?;
        actor.can_manage_bot()?;
        let view = self.stored_bot_document(account).await?;
        let d = &view.document;
        let examples = d.intents.iter().map(|i| i.examples.values().map(Vec::len).sum::<usize>()).sum();
        let (intents, faqs) = (d.intents.len(), d.faqs.len());
        let started = Instant::now();
        let engine = Self::train(view.document).await?;
        let millis = started.elapsed().as_millis() as u64;
        if let Some(v) = view.version
            && let Ok(mut cache) = self.bots.accounts.lock()
        {
            cache.insert(account, v, engine);
        }
        Ok(TrainReport { version: view.version, intents, examples, faqs, millis })
    }

    /// What the bot would do with `text` in a new conversation of `inbox`.
    pub async fn test_bot(
        &self,
        actor: &Actor,
        account: AccountId,
        text: &str,
        language: Option<&str>,
        inbox: Option<ferry_core::InboxId>,
    ) -> AppResult<BotTestResult> {
        actor.in_account(account)?;
        if text.trim().is_empty() || text.len() > 4096 {
            return Err(AppError::invalid("text", "give a sentence of 1 to 4096 bytes"));
        }
        let policy = match inbox {
            Some(id) => self.get_inbox(actor, account, id).await?.config.bot_policy(),
            None => Policy::default(),
        };
        let engine = self.bot_engine(account).await?;
        let shop_name = self.storage.get_account(account).await?.map(|a| a.name).unwrap_or_default();
        let state = BotState::default();
        let turn = engine.turn(TurnInput { text, language_hint: language, state: &state, policy: &policy, vip: false });
        let outcome = engine.respond(&turn, &Facts { contact_name: String::new(), shop_name, order: None });
        let note = match &outcome {
            Outcome::HandOff { reason, .. } => Some(Engine::handoff_note(&turn, reason)),
            Outcome::Reply { .. } => None,
        };
        Ok(BotTestResult { turn, outcome, note })
    }

    /// Clears what the bot remembers of a conversation (when an agent gives
    /// it back), keeping the last message handled.
    pub(crate) async fn reset_bot_state(&self, account: AccountId, id: ConversationId) -> AppResult<()> {
        let old: BotState = self
            .storage
            .get_bot_state(account, id)
            .await?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let fresh = BotState { last_message_id: old.last_message_id, ..BotState::default() };
        let json = serde_json::to_value(fresh).map_err(|e| AppError::internal("writing the bot state", e))?;
        self.storage.put_bot_state(account, id, json, self.clock.now()).await?;
        Ok(())
    }

    /// Handles a buyer's message in a conversation the bot holds: answers,
    /// asks, or hands off. Does nothing when the conversation has left the
    /// bot or the message was handled already.
    #[tracing::instrument(skip_all, fields(conversation_id = %conversation_id, message_id = %message_id))]
    pub async fn run_bot(
        &self,
        account: AccountId,
        conversation_id: ConversationId,
        message_id: MessageId,
    ) -> AppResult<()> {
        let Some(conv) = self.storage.get_conversation(account, conversation_id).await? else {
            return Ok(());
        };
        if conv.status != Status::Bot {
            return Ok(());
        }
        let state: BotState = self
            .storage
            .get_bot_state(account, conversation_id)
            .await?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        if state.last_message_id.is_some_and(|last| last >= message_id.0) {
            return Ok(());
        }
        let message = self.storage.get_message(account, message_id).await?.ok_or(AppError::NotFound("message"))?;
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        let contact = self.storage.get_contact(account, conv.contact_id).await?.ok_or(AppError::NotFound("contact"))?;
        let shop_name = self.storage.get_account(account).await?.map(|a| a.name).unwrap_or_default();
        let engine = self.bot_engine(account).await?;
        let policy = inbox.config.bot_policy();
        let text = message.text();
        // What the bot already answered in (`state.language`) is weighed by
        // the engine itself; this is the weaker guess for a first message.
        let hint = conv.language.as_deref().or(contact.language.as_deref());
        let turn = engine.turn(TurnInput {
            text: &text,
            language_hint: hint,
            state: &state,
            policy: &policy,
            vip: contact.vip,
        });
        let mut facts = Facts { contact_name: contact.name.clone(), shop_name, order: None };
        let mut turn = turn;
        let mut verified_by = None;
        let gate = if text.trim().is_empty() {
            None
        } else {
            self.order_gate(account, &engine, &mut turn, &contact, &mut facts, &mut verified_by).await?
        };
        let outcome = if text.trim().is_empty() {
            Outcome::HandOff {
                reason: HandoffReason::NotText,
                message: ferry_bot::texts::handoff(&turn.understanding.language).to_owned(),
            }
        } else if let Some(o) = gate {
            o
        } else {
            engine.respond(&turn, &facts)
        };
        crate::monitoring::bot_decided(&turn.decision, &outcome);
        self.learn_contact_language(account, &contact, &turn.understanding.language).await?;
        let mut next = turn.state.clone();
        next.last_message_id = Some(message_id.0);
        next.language = Some(turn.understanding.language.clone());
        let next = serde_json::to_value(&next).map_err(|e| AppError::internal("writing the bot state", e))?;
        match outcome {
            Outcome::Reply { text, buttons } => {
                let part = if buttons.is_empty() {
                    ContentPart::Text { text }
                } else {
                    ContentPart::Buttons { text, buttons }
                };
                let sent = self.post_bot_message(account, &conv, part, next).await?;
                if let Some(line) = verified_by.filter(|_| sent) {
                    self.post_activity(account, conv.id, line).await?;
                }
            }
            Outcome::HandOff { reason, message } => {
                // The buyer is told a person is coming in the same write
                // that passes the conversation to people, so a failure
                // leaves neither and the job's retry does both.
                let note = Engine::handoff_note(&turn, &reason);
                let (transition, describe) =
                    self.hand_off_plan(account, &inbox, &conv, note, &turn.understanding.language).await?;
                let out = OutgoingMessage {
                    notice_send: None,
                    conversation: &conv,
                    sender: Sender::Bot,
                    parts: vec![ContentPart::Text { text: message }],
                    transition: Some(transition),
                    describe: Some(describe),
                    bot_state: Some(next),
                    rules: None,
                };
                match self.send_outgoing(account, out).await {
                    Ok(_) => {}
                    // An agent took it meanwhile: the bot says nothing.
                    Err(AppError::Transition(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Before an answer about an order: finds the order in the shop mirror
    /// and checks the buyer owns it — the order's e-mail or phone is one of
    /// the contact's, or the buyer gives the order's e-mail address. Returns
    /// what to send instead of the answer when the order is unknown or the
    /// buyer is not verified yet; fills `facts.order` when verified.
    async fn order_gate(
        &self,
        account: AccountId,
        engine: &Engine,
        turn: &mut Turn,
        contact: &ferry_core::contact::Contact,
        facts: &mut Facts,
        verified_by: &mut Option<String>,
    ) -> AppResult<Option<Outcome>> {
        use ferry_bot::texts;
        use ferry_core::bot::{Awaiting, Decision, Slot};
        let Decision::Answer { intent } = turn.decision.clone() else { return Ok(None) };
        if engine.document().rule(&intent).requires != Some(Slot::OrderNumber) {
            return Ok(None);
        }
        let Some(number) = turn.state.slots.get(&Slot::OrderNumber).cloned() else { return Ok(None) };
        let lang = turn.understanding.language.clone();
        let query = ferry_storage::OrderQuery { number: Some(number.clone()), limit: 1, ..Default::default() };
        let found = self.storage.search_orders(account, query).await?.into_iter().next();
        let vars = serde_json::json!({ "order": { "number": number }, "contact": { "name": contact.name } });
        let say = |template: &str| ferry_bot::render::render_or_raw(template, &vars);
        let button = || ferry_core::message::Button {
            title: texts::human_button(&lang).to_owned(),
            payload: texts::HUMAN_PAYLOAD.to_owned(),
        };
        // Not an answer after all: it must not count as one.
        let undo = |state: &mut BotState| {
            if let Some(n) = state.answered.get_mut(&intent) {
                *n = n.saturating_sub(1);
            }
            state.turns = state.turns.saturating_sub(1);
        };
        if found.is_none() && self.storage.list_shop_connections(account).await?.is_empty() {
            return Ok(None); // No shop connected: the general answer.
        }
        let mine = |v: &Option<String>, kind: ferry_core::contact::IdentityKind, primary: &Option<String>| {
            v.as_ref().is_some_and(|v| {
                primary.as_ref() == Some(v) || contact.identities.iter().any(|i| i.kind == kind && &i.value == v)
            })
        };
        let given = turn.understanding.slots.get(&Slot::Email).map(|e| e.to_lowercase());
        let now = self.clock.now();
        let pending = turn.state.otp.clone().filter(|c| c.order == number && c.expires_at > now);
        let code = turn.understanding.slots.get(&Slot::VerificationCode).cloned();
        let code_ok = match (&pending, &code) {
            (Some(p), Some(c)) => otp_hash(&p.salt, c) == p.hash,
            _ => false,
        };
        if let Some(order) = &found {
            let o = &order.details.order;
            let verified = turn.state.verified_orders.contains(&number)
                || mine(&o.email, ferry_core::contact::IdentityKind::Email, &contact.email)
                || mine(&o.phone, ferry_core::contact::IdentityKind::Phone, &contact.phone)
                || (given.is_some() && given == o.email)
                || code_ok;
            if verified {
                if !turn.state.verified_orders.contains(&number) {
                    let how = if mine(&o.email, ferry_core::contact::IdentityKind::Email, &contact.email) {
                        "the order's e-mail matches the contact's".to_owned()
                    } else if mine(&o.phone, ferry_core::contact::IdentityKind::Phone, &contact.phone) {
                        "the order's phone matches the contact's".to_owned()
                    } else if code_ok {
                        let to = pending.as_ref().and_then(|p| p.sent_to.clone());
                        format!(
                            "one-time code sent to {}",
                            to.unwrap_or_else(|| o
                                .email
                                .as_deref()
                                .map(ferry_channels::mail::mask_email)
                                .unwrap_or_default())
                        )
                    } else {
                        "the buyer gave the order's e-mail address".to_owned()
                    };
                    *verified_by = Some(format!("Verified as the buyer of order {}: {how}", o.name));
                    turn.state.verified_orders.push(number.clone());
                }
                turn.state.otp = None;
                turn.state.slots.remove(&Slot::VerificationCode);
                facts.order = Some(order_facts(order, &lang));
                return Ok(None);
            }
        }
        // Not verified, or no such order: both get the same answers from
        // here on, so the replies never tell which order numbers exist.
        undo(&mut turn.state);
        turn.state.slots.remove(&Slot::Email);
        turn.state.slots.remove(&Slot::VerificationCode);

        // Every unverified look-up counts against the order number and the
        // buyer, whatever the conversation: guessing across new chats stops
        // at the cap and goes to a person.
        let window = chrono::Duration::hours(1);
        let per_order = format!("order-check:{}:{}", account.0, number);
        let per_buyer = format!("order-check-buyer:{}:{}", account.0, contact.id.0);
        // A web-chat buyer also counts against the address they write from:
        // new chats from one place do not each get a fresh allowance.
        let per_address = self.limits.address_of(contact.id).map(|a| format!("order-check-address:{a}"));
        if !self.limits.allow(&per_order, ORDER_CHECKS_PER_ORDER, window, now)
            || !self.limits.allow(&per_buyer, ORDER_CHECKS_PER_BUYER, window, now)
            || per_address.is_some_and(|k| !self.limits.allow(&k, ORDER_CHECKS_PER_ADDRESS, window, now))
        {
            tracing::warn!("order look-ups capped");
            turn.state.otp = None;
            turn.state.awaiting = None;
            return Ok(Some(Outcome::HandOff {
                reason: HandoffReason::NotVerified { order: number },
                message: texts::handoff(&lang).to_owned(),
            }));
        }

        // A one-time code is on its way: check what was typed.
        if let Some(mut p) = pending {
            if code.is_some() {
                p.attempts += 1;
                if p.attempts >= OTP_MAX_ATTEMPTS {
                    turn.state.otp = None;
                    turn.state.awaiting = None;
                    return Ok(Some(Outcome::HandOff {
                        reason: HandoffReason::NotVerified { order: number },
                        message: texts::handoff(&lang).to_owned(),
                    }));
                }
                let left = OTP_MAX_ATTEMPTS - p.attempts;
                turn.state.otp = Some(p);
                turn.state.awaiting = Some(Awaiting { intent, slot: Slot::VerificationCode, asked: 1 });
                let vars = serde_json::json!({ "left": left });
                let text = ferry_bot::render::render_or_raw(texts::otp_wrong(&lang), &vars);
                return Ok(Some(Outcome::Reply { text, buttons: vec![button()] }));
            }
            turn.state.awaiting = Some(Awaiting { intent, slot: Slot::VerificationCode, asked: 1 });
            return Ok(Some(Outcome::Reply {
                text: texts::ask(Slot::VerificationCode, &lang).to_owned(),
                buttons: vec![button()],
            }));
        }

        // Send a code to the order's e-mail when Ferry can send mail, else
        // (or when that fails) by SMS to the order's phone. For an order
        // that does not exist the buyer is told the same and no code can
        // match.
        enum Via<'a> {
            Email(&'a crate::SmtpConfig, &'a str),
            Sms(&'a crate::SmsConfig, &'a str),
            Nowhere { sms: bool },
        }
        let mut routes = Vec::new();
        match &found {
            Some(order) => {
                let o = &order.details.order;
                if let (Some(smtp), Some(address)) = (&self.config.smtp, &o.email) {
                    routes.push(Via::Email(smtp, address));
                }
                if let (Some(sms), Some(phone)) = (&self.config.sms, &o.phone) {
                    routes.push(Via::Sms(sms, phone));
                }
            }
            None if self.config.smtp.is_some() => routes.push(Via::Nowhere { sms: false }),
            None if self.config.sms.is_some() => routes.push(Via::Nowhere { sms: true }),
            None => {}
        }
        if turn.state.otp_sent >= OTP_MAX_SENT {
            routes.clear();
        }
        for via in routes {
            let mut b = [0u8; 4];
            rand::fill(&mut b);
            let code = format!("{:06}", u32::from_le_bytes(b) % 1_000_000);
            let salt = crate::auth::new_secret();
            let code_vars = serde_json::json!({ "code": code, "order": { "number": number } });
            let render = |t: &str| ferry_bot::render::render_or_raw(t, &code_vars);
            let (sent, sent_to, told, how) = match via {
                Via::Email(smtp, address) => {
                    let (subject, body) = texts::otp_email(&lang);
                    let sent = ferry_channels::mail::send(smtp, address, &render(subject), &render(body)).await;
                    (sent, Some(ferry_channels::mail::mask_email(address)), texts::otp_sent(&lang), "e-mail")
                }
                Via::Sms(sms, phone) => {
                    let sent = ferry_channels::sms::send(sms, phone, &render(texts::otp_sms(&lang))).await.map(|_| ());
                    let to = format!("{} by SMS", ferry_channels::sms::mask_phone(phone));
                    (sent, Some(to), texts::otp_sent_sms(&lang), "SMS")
                }
                // The hash is of a secret nobody learns: no code matches.
                Via::Nowhere { sms } => {
                    let told = if sms { texts::otp_sent_sms(&lang) } else { texts::otp_sent(&lang) };
                    (Ok(()), None, told, "nowhere")
                }
            };
            let hash =
                if how == "nowhere" { otp_hash(&salt, &crate::auth::new_secret()) } else { otp_hash(&salt, &code) };
            match sent {
                Ok(()) => {
                    turn.state.otp = Some(ferry_core::bot::OneTimeCode {
                        order: number.clone(),
                        hash,
                        salt,
                        expires_at: now + chrono::Duration::minutes(10),
                        attempts: 0,
                        sent_to,
                    });
                    turn.state.otp_sent += 1;
                    turn.state.awaiting = Some(Awaiting { intent, slot: Slot::VerificationCode, asked: 1 });
                    return Ok(Some(Outcome::Reply { text: say(told), buttons: vec![button()] }));
                }
                // The code itself is never logged.
                Err(e) => tracing::warn!(error = %e, by = how, "could not send a one-time code"),
            }
        }

        if given.is_some() {
            turn.state.verify_attempts += 1;
            if turn.state.verify_attempts >= 3 {
                turn.state.awaiting = None;
                return Ok(Some(Outcome::HandOff {
                    reason: HandoffReason::NotVerified { order: number },
                    message: texts::handoff(&lang).to_owned(),
                }));
            }
        }
        let asked = turn.state.awaiting.as_ref().filter(|a| a.slot == Slot::Email).map_or(0, |a| a.asked) + 1;
        turn.state.awaiting = Some(Awaiting { intent, slot: Slot::Email, asked });
        let text = if given.is_some() { texts::email_mismatch(&lang) } else { texts::ask_order_email(&lang) };
        Ok(Some(Outcome::Reply { text: say(text), buttons: vec![button()] }))
    }

    /// Stores the language the bot understood the buyer in as the contact's
    /// when it differs (a browser set to English says little about a buyer
    /// writing Spanish), so agents and routing see what the buyer writes.
    async fn learn_contact_language(
        &self,
        account: AccountId,
        contact: &ferry_core::contact::Contact,
        language: &str,
    ) -> AppResult<()> {
        let primary = |l: &str| l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase();
        if language.is_empty() || contact.language.as_deref().map(primary).as_deref() == Some(language) {
            return Ok(());
        }
        let patch = ferry_storage::ContactPatch { language: Some(Some(language.to_owned())), ..Default::default() };
        match self.storage.update_contact(account, contact.id, patch, self.clock.now()).await {
            Ok(_) => Ok(()),
            // Merged or erased meanwhile: nothing to learn.
            Err(StorageError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes an activity line (seen by agents only).
    pub(crate) async fn post_activity(&self, account: AccountId, id: ConversationId, line: String) -> AppResult<()> {
        let new = NewMessage {
            notice_send: None,
            conversation_id: id,
            kind: MessageKind::Activity,
            sender: Sender::System,
            parts: vec![ContentPart::Text { text: line }],
            delivery: None,
            now: self.clock.now(),
            transition: None,
            job: None,
            bot_state: None,
            describe: None,
        };
        self.storage.post_message(account, new).await?;
        Ok(())
    }

    async fn post_bot_message(
        &self,
        account: AccountId,
        conv: &Conversation,
        part: ContentPart,
        state: Value,
    ) -> AppResult<bool> {
        let out = OutgoingMessage {
            notice_send: None,
            conversation: conv,
            sender: Sender::Bot,
            parts: vec![part],
            transition: Some(Transition::BotAnswer),
            describe: None,
            bot_state: Some(state),
            rules: None,
        };
        match self.send_outgoing(account, out).await {
            Ok(_) => Ok(true),
            // An agent took it while the bot was thinking: the bot says
            // nothing.
            Err(AppError::Transition(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Passes a conversation from the bot to people without a message to
    /// the buyer (when the bot cannot run): open, with the reason as an
    /// activity line, routed as [`App::hand_off_plan`] decides, in one write.
    pub async fn hand_off(
        &self,
        account: AccountId,
        inbox: &Inbox,
        id: ConversationId,
        note: String,
        language: &str,
    ) -> AppResult<()> {
        let Some(conv) = self.storage.get_conversation(account, id).await? else {
            return Ok(());
        };
        let (transition, describe) = self.hand_off_plan(account, inbox, &conv, note, language).await?;
        let update = ConversationUpdate { jobs: Vec::new(), transition, describe, now: self.clock.now() };
        match self.storage.update_conversation(account, id, update).await {
            Ok(_) => {}
            // An agent took it meanwhile: nothing to hand off.
            Err(StorageError::Transition(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        Ok(())
    }

    /// The hand-off of `conv` to people: open with `note` as the reason and
    /// its activity line, to the inbox's hand-off team (unless it has a
    /// team) and, when the inbox says so, to the least busy agent speaking
    /// the buyer's language (unless it has an agent). Decided before the
    /// write so the whole hand-off is one transition.
    async fn hand_off_plan(
        &self,
        account: AccountId,
        inbox: &Inbox,
        conv: &Conversation,
        note: String,
        language: &str,
    ) -> AppResult<(Transition, Describe)> {
        let mut team = None;
        if let Some(t) = inbox.config.handoff_team_id
            && conv.team_id.is_none()
            && self.storage.get_team(account, t).await?.is_some()
        {
            team = Some(t);
        }
        let mut assignee = None;
        if inbox.config.auto_assign && conv.assignee_id.is_none() {
            assignee = self.least_busy_agent(account, conv.team_id.or(team), language).await?;
        }
        let words = self.describer(account, Some("the bot".to_owned())).await?;
        let line = note.clone();
        let describe: Describe = Box::new(move |c| match c {
            Change::Status { to: Status::Open, .. } => Some(line.clone()),
            Change::Status { .. } => None,
            other => words(other),
        });
        let language = Some(language.to_owned()).filter(|l| !l.is_empty());
        Ok((Transition::HandOff { reason: note, team, assignee, language }, describe))
    }

    async fn least_busy_agent(
        &self,
        account: AccountId,
        team: Option<TeamId>,
        language: &str,
    ) -> AppResult<Option<UserId>> {
        let mut users = self.storage.list_users(account).await?;
        if let Some(team) = team
            && let Some(team) = self.storage.get_team(account, team).await?
        {
            users.retain(|u| team.member_ids.contains(&u.id));
        }
        let speaks = |langs: &[String]| langs.iter().any(|l| l.split(['-', '_']).next() == Some(language));
        if users.iter().any(|u| speaks(&u.languages)) {
            users.retain(|u| speaks(&u.languages));
        }
        let load: HashMap<UserId, u64> = self.storage.assigned_load(account).await?.into_iter().collect();
        Ok(users.iter().map(|u| (load.get(&u.id).copied().unwrap_or(0), u.id)).min().map(|(_, id)| id))
    }
}

/// What answer templates see of an order (`{{order.status}}`, …), in the
/// buyer's language.
fn order_facts(order: &ferry_storage::StoredOrder, lang: &str) -> serde_json::Value {
    let d = &order.details;
    let o = &d.order;
    let state = d.state();
    let shipment = d.latest_fulfillment();
    let mut facts = serde_json::json!({
        "number": o.number,
        "name": o.name,
        "state": state.as_str(),
        "status": ferry_bot::texts::order_state(state.as_str(), lang),
        "total": ferry_commerce::money::format_minor(o.total_minor, &o.currency),
        "currency": o.currency,
    });
    if let Some(f) = shipment {
        facts["carrier"] = serde_json::json!(f.carrier);
        facts["tracking_number"] = serde_json::json!(f.tracking_number);
        facts["tracking_url"] = serde_json::json!(f.tracking_url);
        if let Some(at) = f.estimated_delivery_at {
            facts["estimated_delivery"] = serde_json::json!(at.format("%Y-%m-%d").to_string());
        }
    }
    facts
}

/// Unverified look-ups of one order number per hour, across conversations.
const ORDER_CHECKS_PER_ORDER: u32 = 8;
/// Unverified order look-ups by one buyer per hour, across conversations.
const ORDER_CHECKS_PER_BUYER: u32 = 10;
/// Unverified order look-ups per hour from one web-chat address, whoever
/// writes from it.
const ORDER_CHECKS_PER_ADDRESS: u32 = 10;
/// Wrong codes before the check locks and hands off.
const OTP_MAX_ATTEMPTS: u32 = 5;
/// Codes sent per conversation.
const OTP_MAX_SENT: u32 = 3;

fn otp_hash(salt: &str, code: &str) -> String {
    crate::auth::secret_hash(&format!("{salt}:{code}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_engine_cache_keeps_current_versions_and_drops_the_least_used() {
        let engine = Arc::new(Engine::build(BotDocument::default_pack().unwrap()).unwrap());
        let mut cache = EngineCache::default();
        let n = EngineCache::CAPACITY as i64;
        for a in 0..n {
            cache.insert(AccountId(a), 1, engine.clone());
        }
        // A new version is a miss; account 0 is used, so account 1 is the
        // least recently used when room is needed.
        assert!(cache.get(AccountId(0), 2).is_none());
        assert!(cache.get(AccountId(0), 1).is_some());
        cache.insert(AccountId(n), 1, engine.clone());
        assert_eq!(cache.entries.len(), EngineCache::CAPACITY);
        assert!(cache.get(AccountId(1), 1).is_none(), "evicted");
        assert!(cache.get(AccountId(0), 1).is_some());
        assert!(cache.get(AccountId(n), 1).is_some());
        // Retraining an account already there evicts nothing.
        cache.insert(AccountId(0), 2, engine);
        assert_eq!(cache.entries.len(), EngineCache::CAPACITY);
        assert!(cache.get(AccountId(2), 1).is_some());
    }
}
