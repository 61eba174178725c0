//! What a webhook delivery carries once parsed, for every messaging
//! channel: WhatsApp, Messenger, Instagram and Telegram batch several
//! updates in one body (new messages, delivery reports, reactions, edits,
//! template changes), so a channel's parser returns a [`Batch`] of
//! channel-neutral [`Update`]s and intake commits each. Pure data: no IO.

use chrono::{DateTime, Utc};
use ferry_core::inbound::Inbound;
use ferry_core::message::DeliveryStatus;
pub use ferry_core::message::{Pricing, Referral};

use crate::Upload;

/// Everything one webhook body said, in the order it said it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// The updates.
    pub updates: Vec<Update>,
}

/// One thing a channel reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A new message from the buyer.
    Message(Box<IncomingMessage>),
    /// A delivery report about one of Ferry's outgoing messages.
    Status(StatusReport),
    /// The buyer reacted to a message (an empty emoji takes it back).
    Reaction(Reaction),
    /// The buyer edited one of their messages: its new content.
    Edited(Edit),
    /// The buyer deleted one of their messages.
    Deleted {
        /// The channel's id of the deleted message.
        external_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A message template changed at the channel (approved, rejected,
    /// paused, its quality rating).
    Template(TemplateChange),
    /// A message the business sent to the buyer from outside Ferry (the
    /// page's own inbox, another app), which the channel echoes: kept as
    /// an outgoing message of the buyer's conversation, once.
    Echo(Box<Echo>),
    /// Every outgoing message to a buyer up to a moment reached a status
    /// (Messenger's delivery and read watermarks).
    Watermark(Watermark),
    /// Read and acknowledged, but nothing Ferry keeps (account notices,
    /// calls, preferences…), with why, for the log.
    Ignored {
        /// What it was (`account_update`, `calls`…).
        what: String,
        /// Why it is not kept.
        reason: String,
    },
}

/// A buyer's message and what intake must do besides storing it.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    /// The message; parts standing for media still to fetch carry a
    /// placeholder attachment until [`IncomingMessage::media`] is stored.
    pub inbound: Inbound,
    /// Files carried in the payload itself, to store first.
    pub uploads: Vec<Upload>,
    /// Files the channel holds, to fetch and store first.
    pub media: Vec<MediaRef>,
    /// The channel's id of the message this one answers (quotes).
    pub reply_to: Option<String>,
    /// Stored as an activity line rather than a buyer's message (a number
    /// change, a message type the channel cannot show).
    pub activity: bool,
    /// How the buyer came (a click-to-WhatsApp ad, a post): kept on the
    /// conversation.
    pub referral: Option<Referral>,
    /// The payload of the button the buyer pressed ([`Button::payload`]
    /// of a quick reply, list row or template button), when the message
    /// is such a press; its text part holds the button's title, as the
    /// widget sends it.
    ///
    /// [`Button::payload`]: ferry_core::message::Button::payload
    pub button_payload: Option<String>,
}

/// A message the business sent from outside Ferry, as the channel echoes
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct Echo {
    /// The buyer it went to.
    pub to: ferry_core::contact::Identity,
    /// The channel's id of the message.
    pub external_id: String,
    /// Its content (media as in [`IncomingMessage`]).
    pub parts: Vec<ferry_core::message::ContentPart>,
    /// Media to fetch.
    pub media: Vec<MediaRef>,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// Ferry's own id of the message, when the echo shows it was sent by
    /// Ferry (the metadata Ferry attached, or Ferry's app id): then it is
    /// only a report that the message was sent.
    pub ours: Option<OursMarker>,
}

/// How an echo is known as one of Ferry's own messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OursMarker {
    /// The metadata carried Ferry's message id.
    Message(i64),
    /// It was sent by Ferry's app, message unknown.
    App,
}

/// A status every outgoing message to a buyer reached up to a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Watermark {
    /// The buyer.
    pub buyer: ferry_core::contact::Identity,
    /// `delivered` or `read`.
    pub status: DeliveryStatus,
    /// Messages sent at or before this moment.
    pub up_to: DateTime<Utc>,
}

/// A file the channel keeps, fetched by intake with the inbox's
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// Index of the part it stands for in the inbound's parts.
    pub part: usize,
    /// The channel's media id.
    pub media_id: String,
    /// A direct URL, when the payload gives one.
    pub url: Option<String>,
    /// The declared content type.
    pub content_type: String,
    /// The file name, when given.
    pub filename: Option<String>,
    /// The SHA-256 the channel declares, to check the bytes against.
    pub sha256: Option<String>,
}

/// A delivery report.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    /// The channel's id of the outgoing message.
    pub external_id: String,
    /// What happened to it.
    pub status: DeliveryStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// The reference Ferry sent with the message (WhatsApp's
    /// `biz_opaque_callback_data`): Ferry's message id, so a report can be
    /// matched even when the send's answer was lost.
    pub reference: Option<String>,
    /// The channel's error, for a failure.
    pub error: Option<ChannelFailure>,
    /// What the channel bills for it, when it says.
    pub pricing: Option<Pricing>,
}

/// An error a channel reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFailure {
    /// Its code (`131047`).
    pub code: i64,
    /// Its title.
    pub title: String,
    /// Further details, when given.
    pub details: Option<String>,
}

/// A reaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Reaction {
    /// The channel's id of the reaction itself (for de-duplication).
    pub external_id: String,
    /// The message reacted to.
    pub target_external_id: String,
    /// The emoji; empty when the reaction is taken back.
    pub emoji: String,
    /// Who reacted (the channel's identity of the buyer).
    pub from: ferry_core::contact::Identity,
    /// When.
    pub at: DateTime<Utc>,
}

/// New content of an edited message.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The channel's id of the message edited.
    pub external_id: String,
    /// Its new content (media as in [`IncomingMessage`]).
    pub parts: Vec<ferry_core::message::ContentPart>,
    /// Media to fetch for the new content.
    pub media: Vec<MediaRef>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A template's new state at the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateChange {
    /// The channel's id of the template.
    pub template_id: Option<String>,
    /// Its name.
    pub name: String,
    /// Its language.
    pub language: Option<String>,
    /// The new status (`APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`…), if
    /// it changed.
    pub status: Option<String>,
    /// The new quality rating (`GREEN`, `YELLOW`, `RED`), if it changed.
    pub quality: Option<String>,
    /// Why, when the channel says.
    pub reason: Option<String>,
}
