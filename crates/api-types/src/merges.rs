//! Merging contacts: the request, a merge as the API shows it, and likely
//! duplicates.

use crate::ContactView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Merge another contact into this one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeContactRequest {
    /// The contact that goes into this one (its identities,
    /// conversations, surveys, tags and attributes move; it disappears
    /// until the merge is undone).
    pub other_id: i64,
}

/// One merge of a contact into another.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactMergeView {
    /// Id (for undoing).
    pub id: i64,
    /// The contact that stayed.
    pub survivor_id: i64,
    /// The contact merged into it.
    pub merged_id: i64,
    /// The merged contact's name.
    pub merged_name: String,
    /// Who merged them.
    pub merged_by: Option<i64>,
    /// Channel identities that moved.
    pub identities: usize,
    /// Conversations that moved.
    pub conversations: usize,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Until when an owner or admin can undo it.
    pub undo_until: DateTime<Utc>,
    /// When it was undone.
    pub undone_at: Option<DateTime<Utc>>,
    /// Who undid it.
    pub undone_by: Option<i64>,
}

/// The result of a merge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MergedContact {
    /// The contact that stayed, with what it took in.
    pub contact: ContactView,
    /// The merge.
    pub merge: ContactMergeView,
}

/// The result of undoing a merge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnmergedContacts {
    /// The contact that had stayed.
    pub survivor: ContactView,
    /// The contact given back.
    pub restored: ContactView,
    /// The merge, now undone.
    pub merge: ContactMergeView,
}

/// Why a contact looks like the same buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReasonView {
    /// The same phone number (phone, WhatsApp or SMS).
    SamePhone,
    /// The same e-mail address.
    SameEmail,
    /// The same name in the same country.
    SameNameAndCountry,
}

/// A likely duplicate of a contact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DuplicateContactView {
    /// The other contact.
    pub contact: ContactView,
    /// What they share.
    pub reasons: Vec<DuplicateReasonView>,
}
