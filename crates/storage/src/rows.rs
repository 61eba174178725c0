//! Plain rows as backends read them, and their conversion to domain types,
//! so both backends map columns the same way.

use crate::error::StorageError;
use chrono::{DateTime, Utc};
use ferry_core::account::{Account, Role, User};
use ferry_core::contact::{Contact, Identity, IdentityKind};
use ferry_core::conversation::{Conversation, Priority, Status};
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::{ContentPart, DeliveryStatus, Message, MessageKind, Sender};
use ferry_core::{AccountId, ContactId, ConversationId, EventId, InboxId, MessageId, TeamId, UserId};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {e}"))
}

/// Parses a JSON column.
pub fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StorageError> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

/// Serialises a value for a JSON column.
pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Serialising our own plain types cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// An `accounts` row.
#[derive(Debug, Clone)]
pub struct AccountRow {
    /// id
    pub id: i64,
    /// name
    pub name: String,
    /// default_language
    pub default_language: String,
    /// created_at
    pub created_at: DateTime<Utc>,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account { id: AccountId(r.id), name: r.name, default_language: r.default_language, created_at: r.created_at }
    }
}

/// A `users` row.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// id
    pub id: i64,
    /// account_id
    pub account_id: i64,
    /// name
    pub name: String,
    /// email
    pub email: String,
    /// role
    pub role: String,
    /// languages (JSON array)
    pub languages: String,
    /// created_at
    pub created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = StorageError;
    fn try_from(r: UserRow) -> Result<Self, StorageError> {
        Ok(User {
            id: UserId(r.id),
            account_id: AccountId(r.account_id),
            name: r.name,
            email: r.email,
            role: r.role.parse::<Role>().map_err(|e| corrupt("users.role", e))?,
            languages: json("users.languages", &r.languages)?,
            created_at: r.created_at,
        })
    }
}

/// An `inboxes` row.
#[derive(Debug, Clone)]
pub struct InboxRow {
    /// id
    pub id: i64,
    /// account_id
    pub account_id: i64,
    /// name
    pub name: String,
    /// channel
    pub channel: String,
    /// config (JSON)
    pub config: String,
    /// secret
    pub secret: String,
    /// created_at
    pub created_at: DateTime<Utc>,
}

impl TryFrom<InboxRow> for Inbox {
    type Error = StorageError;
    fn try_from(r: InboxRow) -> Result<Self, StorageError> {
        Ok(Inbox {
            id: InboxId(r.id),
            account_id: AccountId(r.account_id),
            name: r.name,
            channel: r.channel.parse::<ChannelKind>().map_err(|e| corrupt("inboxes.channel", e))?,
            config: json::<InboxConfig>("inboxes.config", &r.config)?,
            secret: r.secret,
            created_at: r.created_at,
        })
    }
}

/// A `contacts` row.
#[derive(Debug, Clone)]
pub struct ContactRow {
    /// id
    pub id: i64,
    /// account_id
    pub account_id: i64,
    /// name
    pub name: String,
    /// email
    pub email: Option<String>,
    /// phone
    pub phone: Option<String>,
    /// country
    pub country: Option<String>,
    /// language
    pub language: Option<String>,
    /// timezone
    pub timezone: Option<String>,
    /// vip
    pub vip: bool,
    /// custom_attributes (JSON object)
    pub custom_attributes: String,
    /// tags (JSON array)
    pub tags: String,
    /// created_at
    pub created_at: DateTime<Utc>,
    /// updated_at
    pub updated_at: DateTime<Utc>,
}

/// A `contact_identities` row.
#[derive(Debug, Clone)]
pub struct IdentityRow {
    /// kind
    pub kind: String,
    /// value
    pub value: String,
    /// inbox_id (0 for global kinds)
    pub inbox_id: i64,
}

impl TryFrom<IdentityRow> for Identity {
    type Error = StorageError;
    fn try_from(r: IdentityRow) -> Result<Self, StorageError> {
        Ok(Identity {
            kind: r.kind.parse::<IdentityKind>().map_err(|e| corrupt("contact_identities.kind", e))?,
            value: r.value,
            inbox_id: (r.inbox_id != 0).then_some(InboxId(r.inbox_id)),
        })
    }
}

/// The `inbox_id` column value of an identity: 0 for global kinds, so the
/// unique index works in both backends without NULL semantics.
pub fn identity_scope(i: &Identity) -> i64 {
    i.inbox_id.map_or(0, |x| x.0)
}

impl ContactRow {
    /// The contact with its identities.
    pub fn into_contact(self, identities: Vec<IdentityRow>) -> Result<Contact, StorageError> {
        Ok(Contact {
            id: ContactId(self.id),
            account_id: AccountId(self.account_id),
            name: self.name,
            email: self.email,
            phone: self.phone,
            country: self.country,
            language: self.language,
            timezone: self.timezone,
            vip: self.vip,
            custom_attributes: json("contacts.custom_attributes", &self.custom_attributes)?,
            tags: json("contacts.tags", &self.tags)?,
            identities: identities.into_iter().map(Identity::try_from).collect::<Result<_, _>>()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A `conversations` row.
#[derive(Debug, Clone)]
pub struct ConversationRow {
    /// id
    pub id: i64,
    /// account_id
    pub account_id: i64,
    /// inbox_id
    pub inbox_id: i64,
    /// contact_id
    pub contact_id: i64,
    /// status
    pub status: String,
    /// assignee_id
    pub assignee_id: Option<i64>,
    /// team_id
    pub team_id: Option<i64>,
    /// priority
    pub priority: String,
    /// language
    pub language: Option<String>,
    /// tags (JSON array)
    pub tags: String,
    /// snoozed_until
    pub snoozed_until: Option<DateTime<Utc>>,
    /// handoff_reason
    pub handoff_reason: Option<String>,
    /// last_buyer_message_at
    pub last_buyer_message_at: Option<DateTime<Utc>>,
    /// first_reply_at
    pub first_reply_at: Option<DateTime<Utc>>,
    /// resolved_at
    pub resolved_at: Option<DateTime<Utc>>,
    /// last_activity_at
    pub last_activity_at: DateTime<Utc>,
    /// created_at
    pub created_at: DateTime<Utc>,
    /// updated_at
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = StorageError;
    fn try_from(r: ConversationRow) -> Result<Self, StorageError> {
        Ok(Conversation {
            id: ConversationId(r.id),
            account_id: AccountId(r.account_id),
            inbox_id: InboxId(r.inbox_id),
            contact_id: ContactId(r.contact_id),
            status: r.status.parse::<Status>().map_err(|e| corrupt("conversations.status", e))?,
            assignee_id: r.assignee_id.map(UserId),
            team_id: r.team_id.map(TeamId),
            priority: r.priority.parse::<Priority>().map_err(|e| corrupt("conversations.priority", e))?,
            language: r.language,
            tags: json("conversations.tags", &r.tags)?,
            snoozed_until: r.snoozed_until,
            handoff_reason: r.handoff_reason,
            last_buyer_message_at: r.last_buyer_message_at,
            first_reply_at: r.first_reply_at,
            resolved_at: r.resolved_at,
            last_activity_at: r.last_activity_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A `messages` row.
#[derive(Debug, Clone)]
pub struct MessageRow {
    /// id
    pub id: i64,
    /// account_id
    pub account_id: i64,
    /// inbox_id
    pub inbox_id: i64,
    /// conversation_id
    pub conversation_id: i64,
    /// kind
    pub kind: String,
    /// sender (JSON)
    pub sender: String,
    /// parts (JSON array)
    pub parts: String,
    /// external_id
    pub external_id: Option<String>,
    /// delivery_state
    pub delivery_state: Option<String>,
    /// delivery_error
    pub delivery_error: Option<String>,
    /// sent_at
    pub sent_at: DateTime<Utc>,
    /// created_at
    pub created_at: DateTime<Utc>,
    /// meta (JSON)
    pub meta: Option<String>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StorageError;
    fn try_from(r: MessageRow) -> Result<Self, StorageError> {
        let delivery = match r.delivery_state {
            None => None,
            Some(s) => Some(
                DeliveryStatus::from_parts(&s, r.delivery_error)
                    .ok_or_else(|| corrupt("messages.delivery_state", s))?,
            ),
        };
        Ok(Message {
            id: MessageId(r.id),
            account_id: AccountId(r.account_id),
            inbox_id: InboxId(r.inbox_id),
            conversation_id: ConversationId(r.conversation_id),
            kind: r.kind.parse::<MessageKind>().map_err(|e| corrupt("messages.kind", e))?,
            sender: json::<Sender>("messages.sender", &r.sender)?,
            parts: json::<Vec<ContentPart>>("messages.parts", &r.parts)?,
            external_id: r.external_id,
            delivery,
            sent_at: r.sent_at,
            created_at: r.created_at,
            meta: match r.meta {
                Some(m) => Box::new(json("messages.meta", &m)?),
                None => Default::default(),
            },
        })
    }
}

/// An `outbox` row.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// id
    pub id: i64,
    /// account_id
    pub account_id: i64,
    /// payload (JSON of [`Event`])
    pub payload: String,
    /// created_at
    pub created_at: DateTime<Utc>,
}

impl TryFrom<EventRow> for EventEnvelope {
    type Error = StorageError;
    fn try_from(r: EventRow) -> Result<Self, StorageError> {
        Ok(EventEnvelope {
            id: EventId(r.id),
            account_id: AccountId(r.account_id),
            created_at: r.created_at,
            event: json::<Event>("outbox.payload", &r.payload)?,
        })
    }
}

/// The text stored in `messages.search_text` for search: lower-cased, so
/// both backends match case-insensitively in every script with `LIKE`.
pub fn search_text(m: &Message) -> String {
    m.text().to_lowercase()
}

/// Escapes `LIKE` wildcards (escape character `\`).
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A `LIKE` pattern (escape character `\`) matching text that contains
/// `q`, lower-cased like `search_text`.
pub fn contains_pattern(q: &str) -> String {
    format!("%{}%", escape_like(&q.trim().to_lowercase()))
}

/// Lower-cased text the contact search matches: name, primary e-mail and
/// phone, and every identity value.
pub fn contact_search_text(name: &str, email: Option<&str>, phone: Option<&str>, identities: &[Identity]) -> String {
    let mut s = name.to_lowercase();
    for part in email.into_iter().chain(phone) {
        s.push(' ');
        s.push_str(&part.to_lowercase());
    }
    for i in identities {
        s.push(' ');
        s.push_str(&i.value.to_lowercase());
    }
    s
}

/// An order number as buyers write it (`#1001`, ` 1001 `) → `1001`.
pub fn clean_order_number(s: &str) -> String {
    s.trim().trim_start_matches('#').trim().to_owned()
}
