//! E-mail inboxes: their settings, mail coming in (read from IMAP folders
//! or forwarded to the webhook) and the readers that watch the mailboxes.
//!
//! Every raw message goes the same way: parsed (pure, in
//! `ferry_channels::email`), its attachments stored, then committed by
//! intake keyed by its Message-ID, so a message read twice — after a
//! reconnect, a restart or a changed `UIDVALIDITY` — is stored once. A
//! folder's cursor is saved only after its batch is committed. Bounces mark
//! the sent message they return as failed; out-of-office replies are kept
//! as activity lines and wake nothing.

use crate::attachments::attachment_url;
use crate::{App, AppError, AppResult};
use base64::Engine;
use ferry_channels::email::imap::{Batch, FolderCursor, ImapConnection, ImapError, ImapSettings};
use ferry_channels::email::send::{Address as SendAddress, OutgoingEmail, OutgoingFile, SmtpSettings};
use ferry_channels::email::{EmailAddress, EmailError, EmailExtras, EmailKind, ParsedEmail};
use ferry_channels::{Outbound, SendError};
use ferry_core::filetype::Intake;
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{Attachment, ContentPart, DeliveryStatus, EmailHeader, MailAddress};
use ferry_core::{ConversationId, InboxId};
use ferry_storage::{IntakeOutcome, Threading};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// The settings of an e-mail inbox (`config.email`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The inbox's own address, used as the sender of replies.
    pub address: String,
    /// The sender name of replies (the shop's name).
    #[serde(default)]
    pub from_name: Option<String>,
    /// Where mail is read from; `None`: mail arrives only through the
    /// forwarding webhook.
    #[serde(default)]
    pub imap: Option<ImapSettings>,
    /// The folders read (default `INBOX`).
    #[serde(default = "default_folders")]
    pub folders: Vec<String>,
    /// Where replies go out; `None`: replies cannot be sent.
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    /// The inbox receives Amazon buyer messages through Amazon's relay.
    #[serde(default)]
    pub amazon: bool,
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSettings")
            .field("address", &self.address)
            .field("imap", &self.imap)
            .field("folders", &self.folders)
            .field("smtp", &self.smtp)
            .field("amazon", &self.amazon)
            .finish()
    }
}

fn default_folders() -> Vec<String> {
    vec!["INBOX".to_owned()]
}

impl EmailSettings {
    /// The settings of an inbox, when it is an e-mail inbox that has them.
    pub fn of(inbox: &Inbox) -> AppResult<Option<Self>> {
        if inbox.channel != ChannelKind::Email {
            return Ok(None);
        }
        let Some(v) = inbox.config.extra.get("email") else { return Ok(None) };
        serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| AppError::invalid("config", format!("the e-mail settings are not valid: {e}")))
    }
}

/// What became of one raw message.
#[derive(Debug, Clone)]
pub enum MailOutcome {
    /// Committed (or found committed before) in a conversation.
    Stored(Box<IntakeOutcome>),
    /// A bounce: the sent message it returns is marked failed (when known).
    Bounced {
        /// The sent message, if Ferry sent it.
        message: Option<Box<ferry_core::message::Message>>,
    },
}

fn mail_address(a: &EmailAddress) -> MailAddress {
    MailAddress { name: a.name.clone(), address: a.address.clone() }
}

fn header_of(mail: &ParsedEmail, extras: &EmailExtras) -> EmailHeader {
    EmailHeader {
        subject: extras.subject.clone(),
        from: Some(mail_address(&mail.from)),
        to: extras.to.iter().map(mail_address).collect(),
        cc: extras.cc.iter().map(mail_address).collect(),
        bcc: Vec::new(),
        message_id: Some(extras.message_id.clone()),
        in_reply_to: extras.in_reply_to.clone(),
        references: extras.references.clone(),
        html: extras.html.clone(),
        full_text: (extras.full_text.trim() != mail.reply_or_full_text().trim()).then(|| extras.full_text.clone()),
        automatic: matches!(extras.kind, EmailKind::AutoReply { .. }),
        amazon_order_id: extras.amazon.as_ref().and_then(|a| a.order_id.clone()),
    }
}

/// How long a connection check waits for each server.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// What checking an IMAP server found.
#[derive(Debug, Clone)]
pub struct ImapCheck {
    /// The server offers IDLE.
    pub idle: bool,
    /// Messages in all the folders read.
    pub messages: u64,
}

/// What checking an inbox's mail servers found; `None` where a server is
/// not configured.
#[derive(Debug)]
pub struct ConnectionCheck {
    /// Connecting, logging in and opening each folder.
    pub imap: Option<Result<ImapCheck, ImapError>>,
    /// Connecting and logging in to the outgoing server.
    pub smtp: Option<Result<(), ferry_channels::email::send::SmtpError>>,
}

async fn check_imap(settings: &ImapSettings, folders: &[String]) -> Result<ImapCheck, ImapError> {
    let mut out = ImapCheck { idle: false, messages: 0 };
    for folder in folders {
        let report = ferry_channels::email::imap::check(settings, folder).await?;
        out.idle = report.idle;
        out.messages += u64::from(report.messages);
    }
    Ok(out)
}

impl App {
    /// Tries an e-mail inbox's stored server settings (owners and admins):
    /// IMAP (connect, log in, open each folder) and SMTP (connect, log in),
    /// both at once, saying exactly what failed.
    #[tracing::instrument(skip_all, fields(inbox_id = %id))]
    pub async fn check_inbox_connection(
        &self,
        actor: &crate::auth::Actor,
        account: ferry_core::AccountId,
        id: InboxId,
    ) -> AppResult<ConnectionCheck> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let inbox = self.storage.get_inbox(account, id).await?.ok_or(AppError::NotFound("inbox"))?;
        let settings = EmailSettings::of(&inbox)?
            .ok_or_else(|| AppError::invalid("inbox", "only e-mail inboxes have mail servers to check"))?;
        let imap = async {
            let imap = settings.imap.as_ref()?;
            Some(match tokio::time::timeout(CHECK_TIMEOUT, check_imap(imap, &settings.folders)).await {
                Ok(r) => r,
                Err(_) => Err(ImapError::Timeout(CHECK_TIMEOUT)),
            })
        };
        let smtp = async {
            let smtp = settings.smtp.as_ref()?;
            Some(match tokio::time::timeout(CHECK_TIMEOUT, ferry_channels::email::send::check(smtp)).await {
                Ok(r) => r,
                Err(_) => Err(ferry_channels::email::send::SmtpError::Unavailable(format!(
                    "the server did not answer within {CHECK_TIMEOUT:?}"
                ))),
            })
        };
        let (imap, smtp) = tokio::join!(imap, smtp);
        Ok(ConnectionCheck { imap, smtp })
    }
}

impl App {
    /// Commits one raw RFC 5322 message delivered to an e-mail inbox.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox.id, size = raw.len()))]
    pub async fn ingest_email(&self, inbox: &Inbox, raw: &[u8]) -> AppResult<MailOutcome> {
        let mail = ferry_channels::email::parse(raw).map_err(|e| match e {
            EmailError::TooLarge { max, .. } => AppError::TooLarge(max),
            other => AppError::invalid("message", other.to_string()),
        })?;
        if let EmailKind::Bounce(bounce) = &mail.kind
            && bounce.is_failure()
        {
            let mut message = None;
            if let Some(original) = &bounce.original_message_id
                && let Some(sent) = self.storage.find_sent_message(inbox.account_id, inbox.id, original).await?
            {
                let reason = match (&bounce.recipient, &bounce.diagnostic) {
                    (Some(r), Some(d)) => format!("the mail to {r} bounced: {d}"),
                    (None, Some(d)) => format!("the mail bounced: {d}"),
                    (Some(r), None) => format!("the mail to {r} bounced"),
                    (None, None) => "the mail bounced".to_owned(),
                };
                let now = self.clock.now();
                self.storage
                    .update_delivery(inbox.account_id, sent.id, DeliveryStatus::Failed { reason }, None, now)
                    .await?;
                message = Some(Box::new(sent));
            }
            return Ok(MailOutcome::Bounced { message });
        }
        let now = self.clock.now();
        let (mut inbound, extras) = ferry_channels::email::to_inbound(&mail, inbox, now)
            .map_err(|e| AppError::invalid("message", e.to_string()))?;
        for part in &mut inbound.parts {
            if let ContentPart::Image { attachment }
            | ContentPart::File { attachment }
            | ContentPart::Audio { attachment } = part
            {
                self.store_data_url(inbox, attachment).await?;
            }
        }
        inbound.parts.push(ContentPart::Email { email: Box::new(header_of(&mail, &extras)) });
        let mut references = extras.references.clone();
        references.extend(extras.in_reply_to.clone());
        let threading = Threading::Reply { references, conversation: extras.conversation_token.map(ConversationId) };
        let automatic = matches!(extras.kind, EmailKind::AutoReply { .. } | EmailKind::Bounce(_));
        let out = self.ingest_threaded(inbox, inbound, threading, automatic).await?;
        Ok(MailOutcome::Stored(Box::new(out)))
    }

    /// Moves an attachment carried inline (`data:` URL) into the attachment
    /// store and points the attachment at it.
    async fn store_data_url(&self, inbox: &Inbox, attachment: &mut Attachment) -> AppResult<()> {
        let Some(rest) = attachment.url.strip_prefix("data:") else { return Ok(()) };
        let Some((_, data)) = rest.split_once(";base64,") else { return Ok(()) };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| AppError::invalid("message", "an attachment is not valid base64"))?;
        let (key, ct) = self.store_file(inbox.account_id, bytes, &attachment.content_type, Intake::Channel).await?;
        attachment.url = attachment_url(inbox.account_id, &key);
        attachment.content_type = ct;
        Ok(())
    }

    /// Reads what is new in every folder of an e-mail inbox once, committing
    /// each batch before saving the folder's cursor. Returns how many
    /// messages were read.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox.id))]
    pub async fn read_mailbox(&self, inbox: &Inbox) -> AppResult<usize> {
        let settings = EmailSettings::of(inbox)?.ok_or_else(|| AppError::invalid("config", "no e-mail settings"))?;
        let imap = settings.imap.as_ref().ok_or_else(|| AppError::invalid("config", "no IMAP settings"))?;
        let mut conn = ImapConnection::connect(imap).await.map_err(imap_error)?;
        let n = self.read_folders(inbox, &settings, &mut conn).await;
        conn.logout().await;
        n
    }

    async fn read_folders(
        &self,
        inbox: &Inbox,
        settings: &EmailSettings,
        conn: &mut ImapConnection,
    ) -> AppResult<usize> {
        let mut read = 0;
        for folder in &settings.folders {
            let key = format!("imap:{folder}");
            loop {
                let cursor: Option<FolderCursor> = self
                    .storage
                    .get_channel_state(inbox.account_id, inbox.id, &key)
                    .await?
                    .and_then(|v| serde_json::from_value(v).ok());
                let batch: Batch =
                    conn.fetch_after(folder, cursor, MAIL_BATCH, MAX_MAIL_BYTES).await.map_err(imap_error)?;
                if batch.resynced {
                    tracing::info!(folder, "the server changed UIDVALIDITY; reading the folder again");
                }
                for fetched in &batch.messages {
                    let Some(raw) = &fetched.raw else {
                        tracing::warn!(uid = fetched.uid, size = fetched.size, "a message is too large to read");
                        continue;
                    };
                    match self.ingest_email(inbox, raw).await {
                        Ok(_) => read += 1,
                        // Mail Ferry cannot read is skipped, not retried forever.
                        Err(AppError::Invalid { message, .. }) => {
                            tracing::warn!(uid = fetched.uid, reason = %message, "an unreadable message was skipped");
                        }
                        Err(AppError::TooLarge(_)) => {
                            tracing::warn!(uid = fetched.uid, "a message is too large to read");
                        }
                        Err(e) => return Err(e),
                    }
                }
                if cursor != Some(batch.cursor) {
                    let value = serde_json::to_value(batch.cursor)
                        .map_err(|e| AppError::internal("saving the mailbox cursor", e))?;
                    self.storage.put_channel_state(inbox.account_id, inbox.id, &key, value, self.clock.now()).await?;
                }
                if !batch.more {
                    break;
                }
            }
        }
        Ok(read)
    }

    /// Watches one e-mail inbox until `stop` fires: reads what is new, then
    /// waits for news (IDLE) or the poll interval, reconnecting with
    /// back-off after failures.
    pub async fn watch_mailbox(self: Arc<Self>, inbox: InboxId, stop: Arc<tokio::sync::Notify>) {
        let mut backoff = Duration::from_secs(2);
        loop {
            let run = self.watch_session(inbox);
            tokio::select! {
                _ = stop.notified() => return,
                Err(e) = run => {
                    tracing::warn!(inbox_id = %inbox, error = %e, "reading the mailbox failed; trying again");
                    if matches!(e, AppError::NotFound(_)) {
                        return;
                    }
                }
            }
            tokio::select! {
                _ = stop.notified() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(300));
        }
    }

    /// One connection's life: reads, waits for news, reads again, until
    /// something fails.
    async fn watch_session(&self, inbox: InboxId) -> AppResult<std::convert::Infallible> {
        let inbox = self.storage.find_inbox(inbox).await?.ok_or(AppError::NotFound("inbox"))?;
        let settings = EmailSettings::of(&inbox)?.ok_or(AppError::NotFound("e-mail settings"))?;
        let imap = settings.imap.clone().ok_or(AppError::NotFound("IMAP settings"))?;
        let mut conn = ImapConnection::connect(&imap).await.map_err(imap_error)?;
        loop {
            self.read_folders(&inbox, &settings, &mut conn).await?;
            let wait = if conn.supports_idle() { IDLE_WAIT } else { POLL_WAIT };
            conn = conn.wait(wait).await.map_err(imap_error)?;
        }
    }

    /// The e-mail inboxes that read a mailbox, of every account.
    pub async fn mailboxes(&self) -> AppResult<Vec<InboxId>> {
        let inboxes = self.storage.inboxes_of_channel(ChannelKind::Email).await?;
        Ok(inboxes
            .into_iter()
            .filter(|i| EmailSettings::of(i).ok().flatten().is_some_and(|s| s.imap.is_some()))
            .map(|i| i.id)
            .collect())
    }
}

/// Messages read per round trip.
const MAIL_BATCH: usize = 50;
/// Larger messages are not read (they are reported in the log).
const MAX_MAIL_BYTES: u32 = 40 * 1024 * 1024;
/// How long one IDLE lasts before it is renewed (servers drop idle
/// connections after 30 minutes).
const IDLE_WAIT: Duration = Duration::from_secs(20 * 60);
/// How often a server without IDLE is asked.
const POLL_WAIT: Duration = Duration::from_secs(60);

fn imap_error(e: ImapError) -> AppError {
    if e.is_transient() { AppError::Upstream(e.to_string()) } else { AppError::invalid("imap", e.to_string()) }
}

impl App {
    /// A raw message forwarded to `POST /webhooks/email/{inbox_id}`, signed
    /// like the API channel (`X-Ferry-Signature: sha256=<hex HMAC of the
    /// body with the inbox secret>`): verified, then committed like mail
    /// read from the mailbox.
    pub async fn ingest_email_webhook(
        &self,
        inbox_id: InboxId,
        request: &ferry_channels::WebhookRequest<'_>,
    ) -> AppResult<MailOutcome> {
        use ferry_channels::Channel;
        let inbox = self.webhook_inbox(inbox_id).await?;
        if !matches!(inbox.channel, ChannelKind::Email | ChannelKind::Amazon) {
            return Err(AppError::NotFound("inbox"));
        }
        ferry_channels::api::ApiChannel.verify(&inbox, request).map_err(|e| match e {
            ferry_channels::ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            other => AppError::invalid("signature", other.to_string()),
        })?;
        self.ingest_email(&inbox, request.body).await
    }
}

/// Sends agents' and the bot's replies of e-mail and Amazon inboxes over
/// the inbox's SMTP server, threaded under the buyer's last mail.
pub struct EmailOutbound {
    app: Arc<App>,
}

impl EmailOutbound {
    /// The adapter, reading threads and files through `app`.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }

    async fn compose(
        &self,
        o: &ferry_channels::Outgoing<'_>,
        settings: &EmailSettings,
    ) -> Result<OutgoingEmail, SendError> {
        let storage = &self.app.storage;
        let account = o.inbox.account_id;
        let retry = |e: ferry_storage::StorageError| SendError::Retryable(format!("storage: {e}"));
        let recent = storage.list_messages(account, o.conversation.id, None, 100).await.map_err(retry)?;
        // The buyer's last mail: who to answer, and the thread to answer in.
        let last = recent.iter().rev().filter(|m| m.kind == ferry_core::message::MessageKind::Incoming).find_map(|m| {
            m.parts.iter().find_map(|p| match p {
                ContentPart::Email { email } => Some(email.as_ref().clone()),
                _ => None,
            })
        });
        let own = o.message.parts.iter().find_map(|p| match p {
            ContentPart::Email { email } => Some(email.as_ref().clone()),
            _ => None,
        });
        let contact_address = o.contact.and_then(|c| {
            c.identities
                .iter()
                .find(|i| i.kind == ferry_core::contact::IdentityKind::Amazon)
                .or_else(|| c.identities.iter().find(|i| i.kind == ferry_core::contact::IdentityKind::Email))
                .map(|i| i.value.clone())
        });
        let chosen: Vec<SendAddress> = own
            .as_ref()
            .map(|h| h.to.iter().map(|a| SendAddress { name: a.name.clone(), email: a.address.clone() }).collect())
            .unwrap_or_default();
        let to = if chosen.is_empty() {
            let buyer = last
                .as_ref()
                .and_then(|h| h.from.as_ref().map(|a| a.address.clone()))
                .or(contact_address)
                .ok_or_else(|| SendError::Permanent("the buyer has no e-mail address to answer".into()))?;
            vec![SendAddress::new(buyer)]
        } else {
            chosen
        };
        let subject = own
            .as_ref()
            .map(|h| h.subject.clone())
            .filter(|s| !s.trim().is_empty())
            .or_else(|| last.as_ref().map(|h| format!("Re: {}", EmailHeader::base_subject(&h.subject))))
            .unwrap_or_else(|| "Re: your message".to_owned());
        let (in_reply_to, references) = match &last {
            Some(h) => {
                let mut refs = h.references.clone();
                refs.extend(h.message_id.clone());
                (h.message_id.clone(), refs)
            }
            None => (None, Vec::new()),
        };
        let mut attachments = Vec::new();
        for p in &o.message.parts {
            if let ContentPart::Image { attachment }
            | ContentPart::File { attachment }
            | ContentPart::Audio { attachment } = p
            {
                let key = attachment.url.rsplit('/').next().unwrap_or_default();
                let found =
                    self.app.attachments.get(account, key).await.map_err(|e| SendError::Retryable(e.to_string()))?;
                let (bytes, ct) = found.ok_or_else(|| SendError::Permanent("an attached file is missing".into()))?;
                let filename = attachment.filename.clone().unwrap_or_else(|| "attachment".to_owned());
                attachments.push(OutgoingFile { filename, content_type: ct, bytes });
            }
        }
        // Marketing carries a one-click unsubscribe link, in the headers
        // (mail clients show their own button) and under the text.
        let marketing = storage.marketing_send_of(account, o.message.id).await.map_err(retry)?;
        let list_unsubscribe = match marketing {
            Some(contact) => {
                Some(self.app.unsubscribe_link(account, contact).await.map_err(|e| SendError::Retryable(e.report()))?)
            }
            None => None,
        };
        let mut text = ferry_core::message::text_of(&o.message.parts);
        if let Some(url) = &list_unsubscribe {
            text.push_str(&format!("\n\n--\nUnsubscribe: {url}"));
        }
        let domain = settings.address.rsplit('@').next().unwrap_or("ferry.invalid");
        let plain = |a: &MailAddress| SendAddress { name: a.name.clone(), email: a.address.clone() };
        Ok(OutgoingEmail {
            from: SendAddress { name: settings.from_name.clone(), email: settings.address.clone() },
            reply_to: None,
            to,
            cc: own.as_ref().map(|h| h.cc.iter().map(plain).collect()).unwrap_or_default(),
            bcc: own.as_ref().map(|h| h.bcc.iter().map(plain).collect()).unwrap_or_default(),
            subject,
            text,
            html: None,
            message_id: format!("ferry.{}.{}@{domain}", account, o.message.id),
            in_reply_to,
            references,
            attachments,
            list_unsubscribe,
        })
    }
}

#[async_trait::async_trait]
impl Outbound for EmailOutbound {
    async fn send(&self, o: ferry_channels::Outgoing<'_>) -> ferry_channels::SendResult {
        let settings = EmailSettings::of(o.inbox)
            .map_err(|e| SendError::Permanent(e.to_string()))?
            .ok_or_else(|| SendError::Permanent("the inbox has no e-mail settings".into()))?;
        let smtp = settings
            .smtp
            .clone()
            .ok_or_else(|| SendError::Permanent("the inbox has no outgoing (SMTP) server set up".into()))?;
        let email = self.compose(&o, &settings).await?;
        match ferry_channels::email::send::send(&smtp, &email).await {
            Ok(id) => Ok(ferry_channels::Sent { external_id: Some(id) }),
            Err(e) if e.is_transient() => Err(SendError::Retryable(e.to_string())),
            Err(e) => Err(SendError::Permanent(e.to_string())),
        }
    }
}

impl App {
    /// Keeps one watcher per e-mail inbox that reads a mailbox: starts them,
    /// and starts or stops them as inboxes come and go (checked every
    /// `every`). Runs until the process ends.
    pub async fn supervise_mailboxes(self: Arc<Self>, every: Duration) {
        let mut running: std::collections::HashMap<InboxId, Arc<tokio::sync::Notify>> =
            std::collections::HashMap::new();
        let holder = self.signals.node_name();
        // A node watches a mailbox while it holds the mailbox's lease in
        // the store, renewed every round: of several nodes one watches it,
        // and another takes over within a few rounds when that one dies.
        let ttl = chrono::Duration::from_std(every * 3).unwrap_or(chrono::Duration::minutes(2));
        loop {
            match self.mailboxes().await {
                Ok(mut ids) => {
                    let now = chrono::Utc::now();
                    let mut held = Vec::with_capacity(ids.len());
                    for id in ids.drain(..) {
                        match self.storage.hold_lease(&format!("mailbox:{id}"), &holder, now, now + ttl).await {
                            Ok(true) => held.push(id),
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, inbox_id = %id, "cannot renew a mailbox's lease");
                                if running.contains_key(&id) {
                                    held.push(id);
                                }
                            }
                        }
                    }
                    let ids = held;
                    running.retain(|id, stop| {
                        let keep = ids.contains(id);
                        if !keep {
                            stop.notify_one();
                        }
                        keep
                    });
                    for id in ids {
                        if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(id) {
                            let stop = Arc::new(tokio::sync::Notify::new());
                            slot.insert(stop.clone());
                            tokio::spawn(self.clone().watch_mailbox(id, stop));
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "listing the mailboxes failed"),
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// An address an agent typed, checked and lower-cased (and free of the
/// characters that would make it several addresses in a header).
fn typed_address(field: &'static str, raw: &str) -> AppResult<MailAddress> {
    match ferry_core::account::normalize_email(raw) {
        Some(address) if address.len() <= 254 && !address.contains(['<', '>', ',', ';', '"']) => {
            Ok(MailAddress { name: None, address })
        }
        _ => Err(AppError::invalid(field, format!("{raw:?} is not an e-mail address"))),
    }
}

fn typed_addresses(field: &'static str, list: &[String]) -> AppResult<Vec<MailAddress>> {
    if list.len() > 50 {
        return Err(AppError::invalid(field, "at most 50 addresses"));
    }
    list.iter().map(|a| typed_address(field, a)).collect()
}

impl App {
    /// The envelope of an agent's e-mail reply: who it goes to besides (or
    /// instead of) the buyer, and its subject.
    pub(crate) async fn reply_header(
        &self,
        account: ferry_core::AccountId,
        conv: &ferry_core::conversation::Conversation,
        options: &ferry_api_types::ReplyEmail,
    ) -> AppResult<EmailHeader> {
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        let settings = EmailSettings::of(&inbox)?
            .ok_or_else(|| AppError::invalid("email", "recipients and subject apply to e-mail conversations only"))?;
        let mut header = EmailHeader {
            to: typed_addresses("email.to", &options.to)?,
            cc: typed_addresses("email.cc", &options.cc)?,
            bcc: typed_addresses("email.bcc", &options.bcc)?,
            subject: options.subject.clone().map(|s| s.trim().chars().take(998).collect()).unwrap_or_default(),
            ..EmailHeader::default()
        };
        if options.reply_all {
            let recent = self.storage.list_messages(account, conv.id, None, 100).await?;
            let last =
                recent.iter().rev().filter(|m| m.kind == ferry_core::message::MessageKind::Incoming).find_map(|m| {
                    m.parts.iter().find_map(|p| match p {
                        ContentPart::Email { email } => Some(email.as_ref().clone()),
                        _ => None,
                    })
                });
            if let Some(last) = last {
                let own = settings.address.to_ascii_lowercase();
                let buyer = last.from.as_ref().map(|f| f.address.to_ascii_lowercase());
                for a in last.to.iter().chain(last.cc.iter()) {
                    let addr = a.address.to_ascii_lowercase();
                    let taken = header.cc.iter().chain(header.to.iter()).any(|c| c.address == addr);
                    if addr != own && Some(&addr) != buyer.as_ref() && !taken {
                        header.cc.push(MailAddress { name: a.name.clone(), address: addr });
                    }
                }
            }
        }
        Ok(header)
    }

    /// Sends a conversation by e-mail to someone outside: the agent's note,
    /// then every message the buyer and the shop wrote, oldest first. The
    /// forward is kept in the conversation as an outgoing message; it does
    /// not count as a reply to the buyer.
    pub async fn forward_conversation(
        &self,
        actor: &crate::auth::Actor,
        account: ferry_core::AccountId,
        id: ConversationId,
        forward: ferry_api_types::ForwardConversation,
    ) -> AppResult<ferry_storage::PostedMessage> {
        let conv = self.get_conversation(actor, account, id).await?;
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        if EmailSettings::of(&inbox)?.and_then(|s| s.smtp).is_none() {
            return Err(AppError::invalid("to", "forwarding needs an e-mail inbox with an outgoing server"));
        }
        if forward.to.is_empty() {
            return Err(AppError::invalid("to", "name at least one recipient"));
        }
        let to = typed_addresses("to", &forward.to)?;
        let messages = self.storage.list_messages(account, id, None, 500).await?;
        let mut subject = String::new();
        let mut text = forward.note.unwrap_or_default().trim().to_owned();
        text.push_str("\n\n---------- Forwarded conversation ----------\n");
        for m in &messages {
            let who = match (&m.kind, &m.sender) {
                (ferry_core::message::MessageKind::Incoming, _) => "Buyer",
                (ferry_core::message::MessageKind::Outgoing, ferry_core::message::Sender::Bot) => "Bot",
                (ferry_core::message::MessageKind::Outgoing, _) => "Shop",
                _ => continue,
            };
            for p in &m.parts {
                if let ContentPart::Email { email } = p
                    && subject.is_empty()
                    && !email.subject.is_empty()
                {
                    subject = EmailHeader::base_subject(&email.subject).to_owned();
                }
            }
            let files: Vec<String> = m
                .parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Image { attachment }
                    | ContentPart::File { attachment }
                    | ContentPart::Audio { attachment } => {
                        Some(attachment.filename.clone().unwrap_or_else(|| "file".to_owned()))
                    }
                    _ => None,
                })
                .collect();
            text.push_str(&format!("\n{who} — {}\n{}\n", m.sent_at.format("%Y-%m-%d %H:%M UTC"), m.text()));
            if !files.is_empty() {
                text.push_str(&format!("[files: {}]\n", files.join(", ")));
            }
        }
        if text.len() > 64 * 1024 {
            let mut end = 64 * 1024;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        let subject = if subject.is_empty() { format!("Fwd: conversation {id}") } else { format!("Fwd: {subject}") };
        let header = EmailHeader { to, subject, ..EmailHeader::default() };
        let out = crate::outgoing::OutgoingMessage {
            notice_send: None,
            conversation: &conv,
            sender: ferry_core::message::Sender::User(actor.user.id),
            parts: vec![ContentPart::Text { text }, ContentPart::Email { email: Box::new(header) }],
            transition: None,
            describe: None,
            bot_state: None,
            rules: Some(ChannelKind::Email),
        };
        self.send_outgoing(account, out).await
    }
}
