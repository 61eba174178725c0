//! Ferry's channels, one module per channel. Each inbound side is a
//! [`Channel`]: it verifies a webhook request and parses its payload into a
//! normalised [`Inbound`] as pure functions (no IO), which intake then
//! commits. Each outbound side is an [`Outbound`]: the delivery engine
//! hands it an outgoing message and gets back a typed [`SendResult`]
//! (sent, retry later, or failed for good), so retries and statuses live
//! in one place. [`email`] is the e-mail inbox channel (parsing, IMAP,
//! SMTP replies); [`whatsapp`] the WhatsApp Business (Cloud API) channel;
//! [`mail`] and [`sms`] send Ferry's own e-mails and texts.

pub mod api;
pub mod email;
#[cfg(feature = "net")]
pub mod mail;
pub mod meta;
#[cfg(feature = "net")]
pub mod sms;
pub mod sms_inbox;
pub mod telegram;
pub mod update;
pub mod whatsapp;
pub mod widget;

#[cfg(feature = "net")]
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::Contact;
use ferry_core::conversation::Conversation;
use ferry_core::inbound::Inbound;
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{Attachment, Message};
#[cfg(feature = "net")]
use std::collections::HashMap;
#[cfg(feature = "net")]
use std::sync::Arc;

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The sender could not be verified (missing or wrong signature).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The payload cannot be read (not JSON, wrong shape).
    #[error("{0}")]
    Malformed(String),
    /// The payload is readable but one of its values is not acceptable.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong, for the sender.
        message: String,
    },
}

impl ChannelError {
    /// An invalid value of `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ChannelError::Invalid { field, message: message.into() }
    }
}

/// A webhook request as a channel sees it: its headers and raw body (the
/// signature covers the exact bytes).
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// Header names (any case) and values.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, unparsed.
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

/// A file that came inside a payload (not by URL): intake stores it and
/// puts its link into the part it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Index of the part in [`Parsed::inbound`]'s parts.
    pub part: usize,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// The declared content type.
    pub content_type: String,
    /// The file name, cleaned.
    pub filename: Option<String>,
}

impl Upload {
    /// The part the stored file is shown as, once it has a link.
    pub fn stored(&self, url: String, content_type: String) -> ferry_core::message::ContentPart {
        Attachment { url, content_type, filename: self.filename.clone(), size: Some(self.bytes.len() as u64) }
            .into_part()
    }
}

/// A parsed webhook payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The message, ready for intake once its uploads are stored.
    pub inbound: Inbound,
    /// Files carried in the payload, to store first.
    pub uploads: Vec<Upload>,
}

/// The inbound side of a channel: verify, then parse. Pure: no IO.
pub trait Channel: Send + Sync {
    /// The channel's name in webhook paths (`/webhooks/{name}/{inbox_id}`).
    fn name(&self) -> &'static str;
    /// The kind of inbox it feeds.
    fn kind(&self) -> ChannelKind;
    /// Checks that the request comes from whom the inbox trusts.
    fn verify(&self, inbox: &Inbox, request: &WebhookRequest<'_>) -> Result<(), ChannelError>;
    /// Reads the payload into an inbound message of `inbox`; `now` bounds
    /// the sender's timestamp.
    fn parse(&self, inbox: &Inbox, request: &WebhookRequest<'_>, now: DateTime<Utc>) -> Result<Parsed, ChannelError>;
}

/// The channel whose webhooks arrive under `name`.
#[cfg(feature = "net")]
pub fn channel(name: &str) -> Option<&'static dyn Channel> {
    match name {
        "api" => Some(&api::ApiChannel),
        _ => None,
    }
}

/// An outgoing message with what a channel needs to send it.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The inbox it leaves from (settings and secret).
    pub inbox: &'a Inbox,
    /// Its conversation.
    pub conversation: &'a Conversation,
    /// The message.
    pub message: &'a Message,
    /// The buyer, when still known.
    pub contact: Option<&'a Contact>,
}

/// A message the channel accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sent {
    /// The channel's id of the message, when it gives one.
    pub external_id: Option<String>,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (network, rate limit, server failure).
    #[error("{0}")]
    Retryable(String),
    /// Trying again cannot help (refused, misconfigured).
    #[error("{0}")]
    Permanent(String),
    /// The channel asked to slow down (HTTP 429 with `Retry-After`,
    /// WhatsApp's throughput errors): try again after `retry_after`,
    /// without counting it as a failed attempt.
    #[error("{reason}")]
    Throttled {
        /// The channel's words.
        reason: String,
        /// How long to wait.
        retry_after: std::time::Duration,
    },
}

/// What sending gave.
pub type SendResult = Result<Sent, SendError>;

/// The outbound side of a channel, called by the delivery engine.
#[cfg(feature = "net")]
#[async_trait]
pub trait Outbound: Send + Sync {
    /// Sends one message to its channel.
    async fn send(&self, outgoing: Outgoing<'_>) -> SendResult;

    /// The most messages per second `inbox` may send when its settings do
    /// not say (the channel's own limit, e.g. WhatsApp's per number).
    fn default_rate(&self, _inbox: &Inbox) -> Option<f64> {
        None
    }

    /// Whether the channel reports every accepted send later with Ferry's
    /// message id (so a send whose answer was lost is recognised as sent
    /// when the report comes, and must not be sent again before).
    fn reports_by_reference(&self) -> bool {
        false
    }
}

/// Stored attachments, as outbound adapters read them to upload a file to
/// their channel.
#[cfg(feature = "net")]
#[async_trait]
pub trait Files: Send + Sync {
    /// The bytes and content type of the attachment of `account` stored at
    /// `url` (an [`Attachment::url`]).
    async fn read(&self, account: ferry_core::AccountId, url: &str) -> Result<(Vec<u8>, String), SendError>;
}

/// The channel ids of the pieces already sent of messages whose send
/// failed part-way (one Ferry message may be several requests), so a retry
/// sends only the rest. Bounded: the oldest messages are forgotten first.
#[derive(Debug, Default)]
pub struct PartialSends {
    sent: std::sync::Mutex<std::collections::BTreeMap<ferry_core::MessageId, Vec<String>>>,
}

impl PartialSends {
    /// Messages remembered at most.
    pub const MAX: usize = 4096;

    /// The ids of the pieces of `id` already sent.
    pub fn done(&self, id: ferry_core::MessageId) -> Vec<String> {
        self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id).cloned().unwrap_or_default()
    }

    /// Remembers the pieces of `id` sent so far (none: forgets it).
    pub fn remember(&self, id: ferry_core::MessageId, sent: Vec<String>) {
        let mut all = self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if sent.is_empty() {
            all.remove(&id);
            return;
        }
        all.insert(id, sent);
        while all.len() > Self::MAX {
            // Ids increase: the smallest is the oldest message.
            all.pop_first();
        }
    }
}

/// The outbound adapter of each connected channel kind.
#[cfg(feature = "net")]
#[derive(Clone, Default)]
pub struct Outbounds {
    by_kind: HashMap<ChannelKind, Arc<dyn Outbound>>,
}

#[cfg(feature = "net")]
impl Outbounds {
    /// The adapters Ferry sends with, sharing one HTTP client.
    pub fn standard(http: reqwest::Client) -> Self {
        let mut o = Self::default();
        o.register(ChannelKind::Api, Arc::new(api::ApiOutbound::new(http)));
        o
    }

    /// Sends messages of `kind` inboxes with `outbound`.
    pub fn register(&mut self, kind: ChannelKind, outbound: Arc<dyn Outbound>) {
        self.by_kind.insert(kind, outbound);
    }

    /// The adapter of `kind`, if that channel can send.
    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn Outbound>> {
        self.by_kind.get(&kind)
    }
}
