//! One buyer known as two contacts: merging them (the survivor takes the
//! other's identities, conversations, surveys, tags and attributes),
//! undoing a merge, and the likely duplicates of a contact.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::Contact;
use ferry_core::{AccountId, ContactId, UserId};
use serde::{Deserialize, Serialize};

/// The fields of a contact a merge may change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactFields {
    /// Display name.
    pub name: String,
    /// Primary e-mail.
    pub email: Option<String>,
    /// Primary phone.
    pub phone: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Time zone.
    pub timezone: Option<String>,
    /// VIP by hand.
    pub vip: bool,
    /// Custom attributes.
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    pub tags: Vec<String>,
}

impl ContactFields {
    /// The fields of `c`.
    pub fn of(c: &Contact) -> Self {
        Self {
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            country: c.country.clone(),
            language: c.language.clone(),
            timezone: c.timezone.clone(),
            vip: c.vip,
            custom_attributes: c.custom_attributes.clone(),
            tags: c.tags.clone(),
        }
    }

    /// The survivor's fields after taking in `other`'s: the survivor's own
    /// values win; the other's fill what it lacks; tags and attribute keys
    /// are the union; VIP if either was.
    pub fn merged_with(&self, other: &ContactFields) -> Self {
        let fill = |mine: &Option<String>, theirs: &Option<String>| mine.clone().or_else(|| theirs.clone());
        let mut tags = self.tags.clone();
        for t in &other.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        let mut custom_attributes = self.custom_attributes.clone();
        for (k, v) in &other.custom_attributes {
            custom_attributes.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Self {
            name: if self.name.trim().is_empty() { other.name.clone() } else { self.name.clone() },
            email: fill(&self.email, &other.email),
            phone: fill(&self.phone, &other.phone),
            country: fill(&self.country, &other.country),
            language: fill(&self.language, &other.language),
            timezone: fill(&self.timezone, &other.timezone),
            vip: self.vip || other.vip,
            custom_attributes,
            tags,
        }
    }

    /// The survivor's fields when the merge that turned `before` into
    /// `after` is undone, `self` being what they are now: what the merge
    /// changed goes back, unless someone has changed it since.
    pub fn unmerged(&self, before: &ContactFields, after: &ContactFields) -> Self {
        let back = |now: &Option<String>, b: &Option<String>, a: &Option<String>| {
            if now == a { b.clone() } else { now.clone() }
        };
        let added_tags: Vec<&String> = after.tags.iter().filter(|t| !before.tags.contains(t)).collect();
        let tags = self.tags.iter().filter(|t| !added_tags.contains(t)).cloned().collect();
        let mut custom_attributes = self.custom_attributes.clone();
        for (k, v) in &after.custom_attributes {
            if before.custom_attributes.get(k) != Some(v) && custom_attributes.get(k) == Some(v) {
                match before.custom_attributes.get(k) {
                    Some(old) => custom_attributes.insert(k.clone(), old.clone()),
                    None => custom_attributes.remove(k),
                };
            }
        }
        Self {
            name: if self.name == after.name { before.name.clone() } else { self.name.clone() },
            email: back(&self.email, &before.email, &after.email),
            phone: back(&self.phone, &before.phone, &after.phone),
            country: back(&self.country, &before.country, &after.country),
            language: back(&self.language, &before.language, &after.language),
            timezone: back(&self.timezone, &before.timezone, &after.timezone),
            vip: if self.vip == after.vip { before.vip } else { self.vip },
            custom_attributes,
            tags,
        }
    }
}

/// What a merge moved to the survivor and how it changed it, kept so the
/// merge can be undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeMoves {
    /// Identity rows moved.
    pub identities: Vec<i64>,
    /// Conversations moved.
    pub conversations: Vec<i64>,
    /// Satisfaction surveys moved.
    pub surveys: Vec<i64>,
    /// The survivor's fields before the merge.
    pub before: ContactFields,
    /// The survivor's fields the merge wrote.
    pub after: ContactFields,
}

/// One merge of a contact into another.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactMerge {
    /// Its id.
    pub id: i64,
    /// The account.
    pub account_id: AccountId,
    /// The contact that stayed.
    pub survivor_id: ContactId,
    /// The contact merged into it.
    pub merged_id: ContactId,
    /// The merged contact's name at the time.
    pub merged_name: String,
    /// Who merged them (`None`: Ferry itself).
    pub merged_by: Option<UserId>,
    /// What moved.
    pub moves: MergeMoves,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was undone.
    pub undone_at: Option<DateTime<Utc>>,
    /// Who undid it.
    pub undone_by: Option<UserId>,
}

/// Who acts, for the audit entry written with the change.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeActor {
    /// The user (`None`: Ferry itself).
    pub id: Option<UserId>,
    /// Their name.
    pub name: String,
}

/// Why a contact looks like the same buyer as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// The same phone number (as a phone, WhatsApp or SMS identity).
    SamePhone,
    /// The same e-mail address.
    SameEmail,
    /// The same name in the same country.
    SameNameAndCountry,
}

/// A likely duplicate of a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateContact {
    /// The other contact.
    pub contact: Contact,
    /// What they share.
    pub reasons: Vec<DuplicateReason>,
}

/// Merging contacts.
#[async_trait]
pub trait MergeRepo {
    /// Merges `merged` into `survivor` in one transaction: identities,
    /// conversations and surveys move, the survivor's fields take in the
    /// other's ([`ContactFields::merged_with`]), the merged contact is
    /// hidden (kept for undoing), both profiles are recomputed and the
    /// merge is written to the audit log. `NotFound` when either contact
    /// is missing or already merged away; `Conflict { constraint:
    /// "contact_merges.same_contact" }` when they are the same.
    async fn merge_contacts(
        &self,
        account: AccountId,
        survivor: ContactId,
        merged: ContactId,
        actor: MergeActor,
        now: DateTime<Utc>,
    ) -> StorageResult<ContactMerge>;

    /// Undoes a merge: the merged contact comes back with what moved (and
    /// is still on the survivor), and the survivor's fields lose what the
    /// merge gave them unless changed since; audited. `NotFound` for an
    /// unknown merge; `Conflict { constraint: "contact_merges.undone" }`
    /// when already undone, `"contact_merges.survivor_merged"` while the
    /// survivor is itself merged into another contact.
    async fn undo_contact_merge(
        &self,
        account: AccountId,
        merge: i64,
        actor: MergeActor,
        now: DateTime<Utc>,
    ) -> StorageResult<ContactMerge>;

    /// One merge.
    async fn get_contact_merge(&self, account: AccountId, merge: i64) -> StorageResult<Option<ContactMerge>>;

    /// The merges into `survivor`, newest first.
    async fn contact_merges(&self, account: AccountId, survivor: ContactId) -> StorageResult<Vec<ContactMerge>>;

    /// Contacts that look like the same buyer as `contact` (same phone,
    /// same e-mail, or same name and country), at most `limit`.
    async fn duplicate_contacts(
        &self,
        account: AccountId,
        contact: ContactId,
        limit: u32,
    ) -> StorageResult<Vec<DuplicateContact>>;
}
