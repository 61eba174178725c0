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

    /// What the built-in role may do: owners and admins everything; agents
    /// work conversations and orders (no refunds) and see buyers' data in
    /// clear.
    pub fn permissions(self) -> Permissions {
        let allowed = Permission::ALL
            .into_iter()
            .filter(|p| match p {
                Permission::View
                | Permission::Assign
                | Permission::Reply
                | Permission::OrderActions
                | Permission::SeeUnmasked
                | Permission::Unmask => true,
                Permission::ManageInboxes => self.can_manage_inboxes(),
                Permission::ManageBot => self.can_manage_bot(),
                Permission::ManageAgents => self.can_manage_agents(),
                Permission::ManageCannedResponses => self.can_manage_canned_responses(),
                Permission::Reports => self.can_read_reports(),
                Permission::AuditLog => self.can_read_audit_log(),
                Permission::Export => matches!(self, Role::Owner | Role::Admin),
            })
            .collect();
        let refund_limit_minor = if self.can_refund_orders() { None } else { Some(0) };
        Permissions { allowed, refund_limit_minor }
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

/// One thing a role may do. The built-in roles hold fixed sets
/// ([`Role::permissions`]); an account's custom roles hold any subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read conversations, messages and contacts.
    View,
    /// Assign conversations and change their status, priority and tags.
    Assign,
    /// Reply to buyers and write notes.
    Reply,
    /// Create, change and delete inboxes, shop connections and compliance rules.
    ManageInboxes,
    /// Change the bot's intents, answers, FAQ and flows.
    ManageBot,
    /// Invite agents, change roles and manage teams.
    ManageAgents,
    /// Manage the account's canned responses.
    ManageCannedResponses,
    /// Cancel, change and refund orders (refunds up to the role's limit).
    OrderActions,
    /// See buyers' phone numbers and e-mail addresses in clear.
    SeeUnmasked,
    /// Reveal one contact's clear values on demand (each time audited).
    Unmask,
    /// Read reports.
    Reports,
    /// Export a contact's data.
    Export,
    /// Read the audit log.
    AuditLog,
}

impl Permission {
    /// Every permission, in a stable order.
    pub const ALL: [Permission; 13] = [
        Permission::View,
        Permission::Assign,
        Permission::Reply,
        Permission::ManageInboxes,
        Permission::ManageBot,
        Permission::ManageAgents,
        Permission::ManageCannedResponses,
        Permission::OrderActions,
        Permission::SeeUnmasked,
        Permission::Unmask,
        Permission::Reports,
        Permission::Export,
        Permission::AuditLog,
    ];

    /// Stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::View => "view",
            Permission::Assign => "assign",
            Permission::Reply => "reply",
            Permission::ManageInboxes => "manage_inboxes",
            Permission::ManageBot => "manage_bot",
            Permission::ManageAgents => "manage_agents",
            Permission::ManageCannedResponses => "manage_canned_responses",
            Permission::OrderActions => "order_actions",
            Permission::SeeUnmasked => "see_unmasked",
            Permission::Unmask => "unmask",
            Permission::Reports => "reports",
            Permission::Export => "export",
            Permission::AuditLog => "audit_log",
        }
    }
}

impl FromStr for Permission {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What an actor may do: a set of permissions and the largest refund
/// (minor units of the order's currency; `None` is no limit, 0 forbids
/// refunds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// What is allowed.
    pub allowed: Vec<Permission>,
    /// The largest refund, when refunds are limited.
    pub refund_limit_minor: Option<i64>,
}

impl Permissions {
    /// Whether `p` is allowed.
    pub fn has(&self, p: Permission) -> bool {
        self.allowed.contains(&p)
    }

    /// Whether a refund of `amount_minor` is allowed (`None`: the whole
    /// order, whose amount is not known here).
    pub fn may_refund(&self, amount_minor: Option<i64>) -> bool {
        if !self.has(Permission::OrderActions) {
            return false;
        }
        match (self.refund_limit_minor, amount_minor) {
            (None, _) => true,
            (Some(limit), Some(a)) => limit > 0 && a <= limit,
            (Some(limit), None) => limit > 0,
        }
    }

    /// Sorted, without repeats.
    pub fn normalized(mut self) -> Self {
        self.allowed.sort();
        self.allowed.dedup();
        self
    }
}

/// The id of an account's custom role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomRoleId(pub i64);

impl fmt::Display for CustomRoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A role an account defines: a name and what it may do. A user with a
/// custom role has its permissions instead of those of the built-in role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRole {
    /// Its id.
    pub id: CustomRoleId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// 1 to 64 characters, unique in the account.
    pub name: String,
    /// What it may do.
    pub permissions: Permissions,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Checks a custom role's name: trimmed, 1 to 64 characters, no control
/// characters, not the name of a built-in role.
pub fn check_role_name(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 || n > 64 || s.chars().any(char::is_control) {
        return Err("the name must have 1 to 64 characters");
    }
    if s.parse::<Role>().is_ok() {
        return Err("owner, admin and agent are built-in roles");
    }
    Ok(s.to_owned())
}

/// Checks a refund limit: none, or 0 or more minor units.
pub fn check_refund_limit(limit: Option<i64>) -> Result<Option<i64>, &'static str> {
    match limit {
        Some(l) if l < 0 => Err("the refund limit cannot be negative"),
        other => Ok(other),
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
    fn built_in_permissions_match_the_role_rules() {
        for r in [Role::Owner, Role::Admin, Role::Agent] {
            let p = r.permissions();
            assert_eq!(p.has(Permission::ManageInboxes), r.can_manage_inboxes());
            assert_eq!(p.has(Permission::ManageAgents), r.can_manage_agents());
            assert_eq!(p.has(Permission::Reports), r.can_read_reports());
            assert_eq!(p.may_refund(Some(100)), r.can_refund_orders());
            assert!(p.has(Permission::Reply) && p.has(Permission::SeeUnmasked));
        }
        assert!(!Role::Agent.permissions().has(Permission::Export));
    }

    #[test]
    fn refund_limits_and_role_names() {
        let p = Permissions { allowed: vec![Permission::OrderActions], refund_limit_minor: Some(5000) };
        assert!(p.may_refund(Some(5000)) && !p.may_refund(Some(5001)) && p.may_refund(None));
        let none = Permissions { allowed: vec![Permission::OrderActions], refund_limit_minor: Some(0) };
        assert!(!none.may_refund(Some(1)) && !none.may_refund(None));
        assert!(!Permissions { allowed: vec![], refund_limit_minor: None }.may_refund(Some(1)));
        assert_eq!(check_role_name(" Night shift "), Ok("Night shift".into()));
        assert!(check_role_name("admin").is_err() && check_role_name("").is_err());
        assert!(check_refund_limit(Some(-1)).is_err());
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
        }
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
