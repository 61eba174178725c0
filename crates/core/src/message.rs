//! Messages: what buyers, agents and the bot say, private notes and
//! activity lines, with their content parts and delivery status.

use crate::{AccountId, ContactId, ConversationId, InboxId, MessageId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What kind of entry a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// From the buyer.
    Incoming,
    /// To the buyer (agent or bot).
    Outgoing,
    /// A private note between agents; never sent to the buyer.
    Note,
    /// A line recording what happened (assigned, resolved, handed off).
    Activity,
}

impl MessageKind {
    /// All kinds.
    pub const ALL: [MessageKind; 4] =
        [MessageKind::Incoming, MessageKind::Outgoing, MessageKind::Note, MessageKind::Activity];

    /// Stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Incoming => "incoming",
            MessageKind::Outgoing => "outgoing",
            MessageKind::Note => "note",
            MessageKind::Activity => "activity",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a message kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown message kind `{0}`")]
pub struct UnknownMessageKind(pub String);

impl FromStr for MessageKind {
    type Err = UnknownMessageKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownMessageKind(s.to_owned()))
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Sender {
    /// The buyer.
    Contact(ContactId),
    /// An agent.
    User(UserId),
    /// The bot.
    Bot,
    /// Ferry itself (activity lines).
    System,
}

/// A file attached to a message. The bytes live in object storage; this is
/// the metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// Where the file can be fetched (the channel's URL or our storage key).
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Original file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Size in bytes when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl Attachment {
    /// The content part this attachment is shown as.
    pub fn into_part(self) -> ContentPart {
        let major = self.content_type.split('/').next().unwrap_or_default().to_ascii_lowercase();
        match major.as_str() {
            "image" => ContentPart::Image { attachment: self },
            "audio" => ContentPart::Audio { attachment: self },
            _ => ContentPart::File { attachment: self },
        }
    }
}

/// A quick-reply or link button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Button {
    /// Label shown to the buyer.
    pub title: String,
    /// Value sent back when pressed.
    pub payload: String,
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// A picture.
    Image {
        /// The file.
        attachment: Attachment,
    },
    /// Any other file.
    File {
        /// The file.
        attachment: Attachment,
    },
    /// A voice message or recording.
    Audio {
        /// The file.
        attachment: Attachment,
    },
    /// A shared location.
    Location {
        /// Latitude in degrees.
        latitude: f64,
        /// Longitude in degrees.
        longitude: f64,
        /// Place name, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A question with quick-reply buttons.
    Buttons {
        /// The question.
        text: String,
        /// The choices.
        buttons: Vec<Button>,
    },
    /// The envelope of an e-mail: subject, people, thread ids, and the
    /// sanitised HTML and full text beside the folded text part.
    Email {
        /// The header.
        email: Box<EmailHeader>,
    },
    /// A message sent from a template approved by the channel (WhatsApp),
    /// with its parameters filled; the only kind of message WhatsApp takes
    /// outside the 24-hour window.
    Template {
        /// The template and its parameters.
        template: Box<TemplateMessage>,
    },
    /// The satisfaction survey after a resolved conversation.
    Survey {
        /// The question and where to answer.
        survey: Box<crate::csat::SurveyRequest>,
    },
}

/// A filled template: which one, and the values of its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateMessage {
    /// The template's name at the channel.
    pub name: String,
    /// Its language code (`en_US`, `de`).
    pub language: String,
    /// Values of the header's `{{n}}` parameters, in order (text headers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub header: Vec<String>,
    /// Values of the body's `{{n}}` parameters, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<String>,
    /// Values of the buttons' parameters: the URL suffix of dynamic URL
    /// buttons, the payload of quick-reply buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<TemplateButtonValue>,
    /// The message as the buyer sees it, parameters filled: what agents and
    /// search read.
    pub text: String,
}

/// The parameter of one template button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateButtonValue {
    /// The button's position in the template (0-based).
    pub index: u8,
    /// `url` (the value ends the button's URL) or `quick_reply` (the value
    /// is the payload sent back when tapped).
    pub sub_type: String,
    /// The value.
    pub value: String,
}

/// A name and e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailAddress {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The address.
    pub address: String,
}

/// What an e-mail says about itself beyond its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailHeader {
    /// Subject.
    #[serde(default)]
    pub subject: String,
    /// Sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<MailAddress>,
    /// Recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<MailAddress>,
    /// Copies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<MailAddress>,
    /// Blind copies (outgoing only; incoming mail does not show them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<MailAddress>,
    /// `Message-ID`, with angle brackets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// `In-Reply-To`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Sanitised HTML body, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The whole text with quotes and signature, when the text part shows
    /// it folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_text: Option<String>,
    /// An automatic message (out of office, auto-reply).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub automatic: bool,
    /// The Amazon order the message is about (`123-1234567-1234567`), for
    /// mail through Amazon's buyer relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amazon_order_id: Option<String>,
}

impl EmailHeader {
    /// The subject without reply and forward prefixes (`Re:`, `AW:`,
    /// `Fwd:`, `回复:` …), for threading and display.
    pub fn base_subject(subject: &str) -> &str {
        let mut s = subject.trim();
        loop {
            let lower = s.to_lowercase();
            let cut = [
                "re:",
                "aw:",
                "fw:",
                "fwd:",
                "wg:",
                "tr:",
                "rv:",
                "sv:",
                "vs:",
                "回复:",
                "回复：",
                "答复:",
                "转发:",
                "re：",
                "fw：",
            ]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
            match cut {
                Some(n) if s.is_char_boundary(n) => s = s[n..].trim_start(),
                _ => return s,
            }
        }
    }
}

/// Delivery status of an outgoing message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Stored, waiting for delivery.
    Queued,
    /// Accepted by the channel.
    Sent,
    /// Reached the buyer's device.
    Delivered,
    /// Read by the buyer.
    Read,
    /// Could not be delivered.
    Failed {
        /// Why, in words an agent understands.
        reason: String,
    },
}

impl DeliveryStatus {
    /// Stable name used in storage and the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed { .. } => "failed",
        }
    }

    /// Rebuilds a status from its stored name and failure reason.
    pub fn from_parts(state: &str, reason: Option<String>) -> Option<Self> {
        Some(match state {
            "queued" => DeliveryStatus::Queued,
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed { reason: reason.unwrap_or_default() },
            _ => return None,
        })
    }

    fn rank(&self) -> u8 {
        match self {
            DeliveryStatus::Queued => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered => 2,
            DeliveryStatus::Read => 3,
            DeliveryStatus::Failed { .. } => 4,
        }
    }

    /// Whether a status report may replace the current one. Channels report
    /// out of order (a "delivered" after a "read"); a status never moves
    /// backwards, and a failure is final unless the message is retried.
    pub fn may_become(&self, next: &DeliveryStatus) -> bool {
        match (self, next) {
            (DeliveryStatus::Failed { .. }, DeliveryStatus::Queued) => true,
            (DeliveryStatus::Failed { .. }, _) => false,
            (_, DeliveryStatus::Failed { .. }) => !matches!(self, DeliveryStatus::Delivered | DeliveryStatus::Read),
            _ => next.rank() > self.rank(),
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The inbox of its conversation.
    pub inbox_id: InboxId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// What kind of entry it is.
    pub kind: MessageKind,
    /// Who wrote it.
    pub sender: Sender,
    /// Its content.
    pub parts: Vec<ContentPart>,
    /// The channel's id for it (for de-duplication and status reports).
    pub external_id: Option<String>,
    /// Delivery status (outgoing messages only).
    pub delivery: Option<DeliveryStatus>,
    /// When the sender sent it (the channel's timestamp for incoming).
    pub sent_at: DateTime<Utc>,
    /// When Ferry stored it.
    pub created_at: DateTime<Utc>,
    /// What happened to it after it was written: reactions, edits, the
    /// message it answers, how the buyer came, what the channel bills.
    /// Boxed: most messages have none, and messages travel in events.
    pub meta: Box<MessageMeta>,
}

/// What a channel reports about a message besides its content.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageMeta {
    /// The message this one answers (the buyer quoted it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub reply_to: Option<MessageId>,
    /// Reactions, one per person (the latest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<MessageReaction>,
    /// When its author last edited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// When its author deleted it; its content is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The ad or post the buyer came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<Referral>,
    /// What the channel bills for it (outgoing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// Its text in other languages, for agents (one per language).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translations: Vec<Translation>,
    /// What the agent wrote, in their own language, when the message went
    /// out translated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_as: Option<Translation>,
}

/// A message's text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Translation {
    /// The language of `text` (BCP 47 primary tag: `es`, `zh`).
    pub language: String,
    /// The text.
    pub text: String,
    /// The language it was translated from (as the provider detected it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_language: Option<String>,
    /// Who translated it (`libretranslate`, `deepl`; `agent` for the
    /// agent's own words).
    pub provider: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl MessageMeta {
    /// True when nothing is recorded (stored as no value).
    pub fn is_empty(&self) -> bool {
        *self == MessageMeta::default()
    }
}

/// A reaction to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageReaction {
    /// The emoji.
    pub emoji: String,
    /// Who reacted.
    pub by: Sender,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where a buyer came from before writing (a click-to-WhatsApp ad, a post).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referral {
    /// `ad` or `post`.
    pub source_type: String,
    /// The ad's or post's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Its URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// The ad's headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    /// The ad's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// What a channel bills for a message (WhatsApp conversation pricing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pricing {
    /// Whether the message is billed.
    pub billable: bool,
    /// `marketing`, `utility`, `authentication`, `service`…
    pub category: String,
    /// `CBP`, `PMP`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The channel's conversation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
}

/// A change a channel reports to a stored message.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageChange {
    /// Someone reacted; an empty emoji takes their reaction back.
    React {
        /// The emoji.
        emoji: String,
        /// Who.
        by: Sender,
        /// When.
        at: DateTime<Utc>,
    },
    /// The author edited it.
    Edit {
        /// The new content.
        parts: Vec<ContentPart>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The author deleted it.
    Delete {
        /// When.
        at: DateTime<Utc>,
    },
    /// The channel reported what it bills.
    Pricing(Pricing),
    /// A translation was made (replaces one in the same language).
    Translate(Translation),
    /// The agent's own words behind a translated reply.
    WrittenAs(Translation),
}

impl Message {
    /// Applies a reported change; false when it changes nothing (a repeated
    /// report, an edit of a deleted message).
    pub fn apply(&mut self, change: MessageChange) -> bool {
        let before = (self.parts.clone(), self.meta.clone());
        match change {
            MessageChange::React { emoji, by, at } => {
                self.meta.reactions.retain(|r| r.by != by);
                if !emoji.is_empty() {
                    self.meta.reactions.push(MessageReaction { emoji, by, at });
                }
            }
            MessageChange::Edit { parts, at } => {
                if self.meta.deleted_at.is_none() && parts != self.parts {
                    self.parts = parts;
                    self.meta.edited_at = Some(at);
                }
            }
            MessageChange::Delete { at } => {
                if self.meta.deleted_at.is_none() {
                    self.parts.clear();
                    self.meta.deleted_at = Some(at);
                }
            }
            MessageChange::Pricing(p) => self.meta.pricing = Some(p),
            MessageChange::Translate(t) => match self.meta.translations.iter_mut().find(|x| x.language == t.language) {
                Some(x) if x.text == t.text => {}
                Some(x) => *x = t,
                None => self.meta.translations.push(t),
            },
            MessageChange::WrittenAs(t) => self.meta.written_as = Some(t),
        }
        (self.parts.clone(), self.meta.clone()) != before
    }
}

impl Message {
    /// All text of the message, parts joined by new lines: for previews,
    /// search and the bot.
    pub fn text(&self) -> String {
        text_of(&self.parts)
    }
}

/// All text of some parts, joined by new lines.
pub fn text_of(parts: &[ContentPart]) -> String {
    let mut out = String::new();
    for p in parts {
        let t = match p {
            ContentPart::Text { text } | ContentPart::Buttons { text, .. } => text.as_str(),
            ContentPart::Template { template } => template.text.as_str(),
            ContentPart::Location { name: Some(n), .. } => n.as_str(),
            ContentPart::Survey { survey } => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&survey.as_text());
                continue;
            }
            _ => continue,
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_never_moves_back() {
        assert!(DeliveryStatus::Queued.may_become(&DeliveryStatus::Sent));
        assert!(DeliveryStatus::Sent.may_become(&DeliveryStatus::Read));
        assert!(!DeliveryStatus::Read.may_become(&DeliveryStatus::Delivered));
        assert!(!DeliveryStatus::Read.may_become(&DeliveryStatus::Failed { reason: "x".into() }));
        assert!(DeliveryStatus::Sent.may_become(&DeliveryStatus::Failed { reason: "x".into() }));
        assert!(DeliveryStatus::Failed { reason: "x".into() }.may_become(&DeliveryStatus::Queued));
    }

    #[test]
    fn attachments_pick_their_part() {
        let a = |ct: &str| Attachment { url: "u".into(), content_type: ct.into(), filename: None, size: None };
        assert!(matches!(a("image/png").into_part(), ContentPart::Image { .. }));
        assert!(matches!(a("audio/ogg").into_part(), ContentPart::Audio { .. }));
        assert!(matches!(a("application/pdf").into_part(), ContentPart::File { .. }));
    }
}
