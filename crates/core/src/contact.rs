//! Contacts: one buyer across every channel, known by several identities.

use crate::account::normalize_email;
use crate::{AccountId, ContactId, InboxId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of a channel identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// An e-mail address (global: the same address is the same buyer in any
    /// inbox).
    Email,
    /// A phone number in E.164 (global).
    Phone,
    /// A WhatsApp id (global; usually the phone number without `+`).
    Whatsapp,
    /// A browser visitor of the chat widget (scoped to its inbox).
    WebVisitor,
    /// A Telegram user id (scoped to the bot's inbox).
    Telegram,
    /// A page-scoped Messenger id (scoped to its inbox).
    Messenger,
    /// An Instagram-scoped id (scoped to its inbox).
    Instagram,
    /// An Amazon buyer (anonymised relay address or buyer id).
    Amazon,
    /// A handle given by an API inbox's sender (scoped to its inbox).
    ApiHandle,
}

impl IdentityKind {
    /// All kinds.
    pub const ALL: [IdentityKind; 9] = [
        IdentityKind::Email,
        IdentityKind::Phone,
        IdentityKind::Whatsapp,
        IdentityKind::WebVisitor,
        IdentityKind::Telegram,
        IdentityKind::Messenger,
        IdentityKind::Instagram,
        IdentityKind::Amazon,
        IdentityKind::ApiHandle,
    ];

    /// Stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Email => "email",
            IdentityKind::Phone => "phone",
            IdentityKind::Whatsapp => "whatsapp",
            IdentityKind::WebVisitor => "web_visitor",
            IdentityKind::Telegram => "telegram",
            IdentityKind::Messenger => "messenger",
            IdentityKind::Instagram => "instagram",
            IdentityKind::Amazon => "amazon",
            IdentityKind::ApiHandle => "api_handle",
        }
    }

    /// Whether a value of this kind names the same person in every inbox of
    /// the account (e-mail, phone, WhatsApp), rather than only in the inbox
    /// that issued it (page-scoped ids, widget visitors, API handles).
    pub fn is_global(self) -> bool {
        matches!(self, IdentityKind::Email | IdentityKind::Phone | IdentityKind::Whatsapp | IdentityKind::Amazon)
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an identity kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown identity kind `{0}`")]
pub struct UnknownIdentityKind(pub String);

impl FromStr for IdentityKind {
    type Err = UnknownIdentityKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdentityKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownIdentityKind(s.to_owned()))
    }
}

/// Why an identity value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Not an e-mail address.
    #[error("`{0}` is not a valid e-mail address")]
    Email(String),
    /// Not a phone number that can be written in E.164.
    #[error("`{0}` is not a valid phone number (use international format, e.g. +4915123456789)")]
    Phone(String),
    /// Empty, too long or containing control characters.
    #[error("identity value must be 1 to 320 printable characters")]
    Value,
}

/// One way of reaching a contact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    /// The kind.
    pub kind: IdentityKind,
    /// The normalised value (lower-cased e-mail, E.164 phone, …).
    pub value: String,
    /// For inbox-scoped kinds, the inbox that issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_id: Option<InboxId>,
}

impl Identity {
    /// Builds a normalised identity. Inbox-scoped kinds keep `inbox_id`;
    /// global kinds drop it.
    pub fn new(kind: IdentityKind, raw: &str, inbox_id: Option<InboxId>) -> Result<Self, IdentityError> {
        let value = match kind {
            IdentityKind::Email => normalize_email(raw).ok_or_else(|| IdentityError::Email(raw.to_owned()))?,
            IdentityKind::Phone => normalize_phone(raw, None)?,
            IdentityKind::Whatsapp => {
                let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
                if digits.len() < 6 || digits.len() > 15 {
                    return Err(IdentityError::Phone(raw.to_owned()));
                }
                digits
            }
            _ => {
                let v = raw.trim();
                if v.is_empty() || v.len() > 320 || v.chars().any(char::is_control) {
                    return Err(IdentityError::Value);
                }
                v.to_owned()
            }
        };
        let inbox_id = if kind.is_global() { None } else { inbox_id };
        Ok(Self { kind, value, inbox_id })
    }
}

/// Normalises a phone number to E.164. Numbers without a leading `+` are
/// read in `default_region` (an ISO 3166 alpha-2 code) when given.
pub fn normalize_phone(raw: &str, default_region: Option<&str>) -> Result<String, IdentityError> {
    let err = || IdentityError::Phone(raw.to_owned());
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 40 {
        return Err(err());
    }
    let region = default_region.and_then(|r| r.to_uppercase().parse::<phonenumber::country::Id>().ok());
    let parsed = phonenumber::parse(region, trimmed).map_err(|_| err())?;
    if !phonenumber::is_valid(&parsed) {
        return Err(err());
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

/// A buyer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Its id.
    pub id: ContactId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Display name (may be empty when the channel gives none).
    pub name: String,
    /// Primary e-mail, if known.
    pub email: Option<String>,
    /// Primary phone in E.164, if known.
    pub phone: Option<String>,
    /// ISO 3166 alpha-2 country code.
    pub country: Option<String>,
    /// BCP 47 language tag.
    pub language: Option<String>,
    /// IANA time zone name.
    pub timezone: Option<String>,
    /// Whether the contact is a VIP (routing and the bot treat VIPs first).
    pub vip: bool,
    /// Free-form attributes set by agents or integrations.
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    pub tags: Vec<String>,
    /// Every known way of reaching the contact.
    pub identities: Vec<Identity>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Normalises a tag: trimmed, lower-cased, spaces to `-`, 1–64 characters of
/// letters, digits, `-`, `_`, `.` or `:`.
pub fn normalize_tag(raw: &str) -> Option<String> {
    let t: String = raw.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
    let ok = !t.is_empty()
        && t.chars().count() <= 64
        && t.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_become_e164() {
        assert_eq!(normalize_phone("+49 151 23456789", None).ok().as_deref(), Some("+4915123456789"));
        assert_eq!(normalize_phone("(415) 555-2671", Some("us")).ok().as_deref(), Some("+14155552671"));
        assert!(normalize_phone("12", None).is_err());
        assert!(normalize_phone("hello", Some("US")).is_err());
    }

    #[test]
    fn scoped_identities_keep_their_inbox() {
        let email = Identity::new(IdentityKind::Email, "A@B.com", Some(InboxId(3))).ok();
        assert_eq!(email.map(|i| (i.value, i.inbox_id)), Some(("a@b.com".to_owned(), None)));
        let handle = Identity::new(IdentityKind::ApiHandle, " u-1 ", Some(InboxId(3))).ok();
        assert_eq!(handle.map(|i| (i.value, i.inbox_id)), Some(("u-1".to_owned(), Some(InboxId(3)))));
        assert!(Identity::new(IdentityKind::ApiHandle, "  ", None).is_err());
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(normalize_tag(" Late Delivery "), Some("late-delivery".into()));
        assert_eq!(normalize_tag("退货"), Some("退货".into()));
        assert_eq!(normalize_tag("a/b"), None);
        assert_eq!(normalize_tag(""), None);
    }
}
