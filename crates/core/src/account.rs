//! Accounts (tenants), users and their roles.

use crate::{AccountId, TeamId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A tenant: one seller organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// Display name (the shop's name).
    pub name: String,
    /// Default language of answers, a BCP 47 tag such as `en` or `zh-CN`.
    pub default_language: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What a user may do in an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Full control, including billing and deleting the account.
    Owner,
    /// Manages inboxes, agents, teams and settings.
    Admin,
    /// Works conversations.
    Agent,
}

impl Role {
    /// Whether the role may create, change or delete inboxes.
    pub fn can_manage_inboxes(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role may change the bot's intents, answers and FAQ.
    pub fn can_manage_bot(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role may invite agents, change roles and manage teams.
    pub fn can_manage_agents(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role may create, change and delete the account's canned
    /// responses (every role may use them).
    pub fn can_manage_canned_responses(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role may cancel unfulfilled orders from a conversation
    /// (every role: it is the everyday request agents handle).
    pub fn can_cancel_orders(self) -> bool {
        true
    }

    /// Whether the role may change an order's shipping address (every
    /// role).
    pub fn can_edit_orders(self) -> bool {
        true
    }

    /// Whether the role may refund orders: money leaves the shop, so only
    /// owners and admins.
    pub fn can_refund_orders(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role may read reports (every agent's figures) and set
    /// the account's time zone for them.
    pub fn can_read_reports(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role may read the account's audit log.
    pub fn can_read_audit_log(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role may grant `other` to somebody: only an owner makes
    /// owners.
    pub fn can_grant(self, other: Role) -> bool {
        match other {
            Role::Owner => self == Role::Owner,
            Role::Admin | Role::Agent => self.can_manage_agents(),
        }
    }

    /// Stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// Somebody who logs in to the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Display name.
    pub name: String,
    /// Login e-mail, lower-cased.
    pub email: String,
    /// Role in the account.
    pub role: Role,
    /// Languages the agent answers in (routing uses them).
    pub languages: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A group of agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Its id.
    pub id: TeamId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Display name.
    pub name: String,
    /// What the team handles.
    pub description: String,
    /// Its members.
    pub member_ids: Vec<UserId>,
}

/// Checks and normalises a login e-mail: trimmed, lower-cased, one `@` with
/// something on both sides and a dot in the domain.
pub fn normalize_email(raw: &str) -> Option<String> {
    let s = raw.trim().to_lowercase();
    let (local, domain) = s.split_once('@')?;
    if local.is_empty()
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains('@')
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refunds_and_the_audit_log_need_admins() {
        for r in [Role::Owner, Role::Admin, Role::Agent] {
            assert!(r.can_cancel_orders() && r.can_edit_orders());
        }
        assert!(Role::Owner.can_refund_orders() && Role::Admin.can_refund_orders());
        assert!(!Role::Agent.can_refund_orders());
        assert!(Role::Admin.can_read_audit_log() && !Role::Agent.can_read_audit_log());
    }

    #[test]
    fn only_owners_grant_owner() {
        assert!(Role::Owner.can_grant(Role::Owner));
        assert!(!Role::Admin.can_grant(Role::Owner));
        assert!(Role::Admin.can_grant(Role::Agent));
        assert!(!Role::Agent.can_grant(Role::Agent));
        assert!(!Role::Agent.can_manage_inboxes());
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Owner, Role::Admin, Role::Agent] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(normalize_email("  Li.Wei@Example.COM "), Some("li.wei@example.com".into()));
        assert_eq!(normalize_email("nobody"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("a b@c.de"), None);
        assert_eq!(normalize_email("@c.de"), None);
    }
}
