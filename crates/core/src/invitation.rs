//! Invitations: an owner or admin asks someone to join an account by
//! e-mail; the link's token (stored only as its hash) is used once, before
//! it expires, to set a password and become a user.

use crate::account::Role;
use crate::{AccountId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long an invitation link works.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// An invitation to join an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Its id.
    pub id: i64,
    /// The account it joins.
    pub account_id: AccountId,
    /// Who is invited (normalised e-mail).
    pub email: String,
    /// Their name.
    pub name: String,
    /// The role they get.
    pub role: Role,
    /// Who invited them, while that user exists.
    pub invited_by: Option<UserId>,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The user it became.
    pub user_id: Option<UserId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Waiting for the invitee.
    Pending,
    /// The invitee joined.
    Accepted,
    /// Withdrawn by an owner or admin.
    Revoked,
    /// Not used in time.
    Expired,
}

impl Invitation {
    /// Its state at `now`. Accepted and revoked invitations stay so; a
    /// pending one expires.
    pub fn state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_dates() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let mut i = Invitation {
            id: 1,
            account_id: AccountId(1),
            email: "a@b.example".into(),
            name: "A".into(),
            role: Role::Agent,
            invited_by: None,
            expires_at: now + INVITATION_TTL,
            accepted_at: None,
            revoked_at: None,
            user_id: None,
            created_at: now,
        };
        assert_eq!(i.state(now), InvitationState::Pending);
        assert_eq!(i.state(now + INVITATION_TTL), InvitationState::Expired);
        i.revoked_at = Some(now);
        assert_eq!(i.state(now), InvitationState::Revoked);
        i.accepted_at = Some(now);
        assert_eq!(i.state(now + INVITATION_TTL * 2), InvitationState::Accepted);
    }
}
