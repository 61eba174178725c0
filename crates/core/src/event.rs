//! Domain events: what intake and the use cases append to the outbox and
//! the dispatcher publishes to subscribers (consoles, widgets, the bot).

use crate::contact::Contact;
use crate::conversation::{Change, Conversation};
use crate::message::Message;
use crate::{AccountId, AlertId, EventId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Something that happened in an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// A message, note or activity line was stored.
    MessageCreated {
        /// The message.
        message: Message,
    },
    /// An outgoing message's delivery status changed.
    MessageUpdated {
        /// The message.
        message: Message,
    },
    /// A conversation was opened.
    ConversationCreated {
        /// The conversation.
        conversation: Conversation,
    },
    /// A conversation changed (status, assignee, team, tags, priority).
    ConversationUpdated {
        /// The conversation after the change.
        conversation: Conversation,
        /// What changed.
        changes: Vec<Change>,
    },
    /// A contact was created.
    ContactCreated {
        /// The contact.
        contact: Contact,
    },
    /// A new order from the shop belongs to a known buyer.
    OrderLinked {
        /// The stored order's id.
        order_id: i64,
        /// The order's number as the shop shows it.
        order_number: String,
        /// The buyer's contact.
        contact_id: crate::ContactId,
    },
    /// A buyer answered a satisfaction survey.
    CsatReceived {
        /// The survey's conversation.
        conversation_id: crate::ConversationId,
        /// The buyer.
        contact_id: crate::ContactId,
        /// The agent the rating is about, if any.
        agent_id: Option<crate::UserId>,
        /// The rating (1–5; 1–2 on a two-point scale).
        rating: u8,
        /// The buyer's comment.
        comment: Option<String>,
    },
    /// A contact changed: edited, or merged with another (then its
    /// identities and conversations changed too).
    ContactUpdated {
        /// The contact after the change.
        contact: Contact,
    },
    /// A buyer's message came in through intake: one event per message,
    /// carrying what it did to its conversation.
    MessageReceived {
        /// The message.
        message: Message,
        /// Its conversation after the message.
        conversation: Conversation,
        /// The message opened the conversation.
        new_conversation: bool,
        /// The message created the contact.
        new_contact: bool,
        /// What the message changed in an existing conversation (a reopen).
        changes: Vec<Change>,
    },
    /// A commerce detector raised an alert (new, or found again after it
    /// was resolved).
    AlertRaised {
        /// The alert.
        alert_id: AlertId,
        /// `out_of_stock`, `low_stock`, `late_order`, `carrier_delay` or `defect_rate`.
        kind: String,
        /// `warning` or `critical`.
        severity: String,
        /// One line for people.
        title: String,
    },
}

impl Event {
    /// Stable name of the event kind (the WebSocket `event` field).
    pub fn name(&self) -> &'static str {
        match self {
            Event::MessageCreated { .. } => "message_created",
            Event::MessageUpdated { .. } => "message_updated",
            Event::ConversationCreated { .. } => "conversation_created",
            Event::ConversationUpdated { .. } => "conversation_updated",
            Event::ContactCreated { .. } => "contact_created",
            Event::ContactUpdated { .. } => "contact_updated",
            Event::CsatReceived { .. } => "csat_received",
            Event::OrderLinked { .. } => "order_linked",
            Event::MessageReceived { .. } => "message_received",
            Event::AlertRaised { .. } => "alert_raised",
        }
    }
}

/// An event as committed to the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Outbox position; subscribers use it to ignore repeats.
    pub id: EventId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}
