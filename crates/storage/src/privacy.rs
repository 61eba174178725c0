//! Roles and privacy: an account's custom roles and who holds them, its
//! retention settings, and the erasure of one buyer's personal data.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::{CustomRole, CustomRoleId, Permission};
use ferry_core::{AccountId, ContactId, UserId};

/// A custom role about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomRole {
    /// Its name, checked.
    pub name: String,
    /// What it may do.
    pub permissions: Vec<Permission>,
    /// The largest refund in minor units (`None`: no limit).
    pub refund_limit_minor: Option<i64>,
}

/// Changes to a custom role; absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomRolePatch {
    /// New name, checked.
    pub name: Option<String>,
    /// New permissions.
    pub permissions: Option<Vec<Permission>>,
    /// New refund limit (`Some(None)`: no limit).
    pub refund_limit_minor: Option<Option<i64>>,
}

/// How long an account keeps things (`None`: for ever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Conversations whose last activity is older are deleted.
    pub conversation_days: Option<u32>,
    /// Attachments of messages older than this are deleted.
    pub attachment_days: Option<u32>,
}

/// What erasing a buyer changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Conversations kept as skeletons.
    pub conversations: u64,
    /// Messages whose content was replaced.
    pub messages: u64,
    /// Shop orders whose buyer fields were anonymised.
    pub orders: u64,
    /// URLs of the attachments the erased messages held that no other
    /// message refers to any more (the caller deletes the stored files).
    pub attachment_urls: Vec<String>,
}

/// What a retention sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Conversations deleted.
    pub conversations: u64,
    /// Messages whose attachments were removed.
    pub messages: u64,
    /// URLs of attachments no remaining message refers to (the caller
    /// deletes the stored files).
    pub attachment_urls: Vec<String>,
}

/// Custom roles, retention and erasure.
#[async_trait]
pub trait PrivacyRepo {
    /// Stores a custom role; a taken name is a `Conflict { constraint: "custom_roles.name" }`.
    async fn create_custom_role(
        &self,
        account: AccountId,
        new: NewCustomRole,
        now: DateTime<Utc>,
    ) -> StorageResult<CustomRole>;
    /// The account's custom roles, by name.
    async fn list_custom_roles(&self, account: AccountId) -> StorageResult<Vec<CustomRole>>;
    /// One custom role.
    async fn get_custom_role(&self, account: AccountId, id: CustomRoleId) -> StorageResult<Option<CustomRole>>;
    /// Changes a custom role.
    async fn update_custom_role(
        &self,
        account: AccountId,
        id: CustomRoleId,
        patch: CustomRolePatch,
        now: DateTime<Utc>,
    ) -> StorageResult<CustomRole>;
    /// Removes a custom role; its holders fall back to their built-in role.
    async fn delete_custom_role(&self, account: AccountId, id: CustomRoleId) -> StorageResult<()>;
    /// Gives a user a custom role, or takes it away (`None`). `NotFound`
    /// unless both are the account's.
    async fn set_user_custom_role(
        &self,
        account: AccountId,
        user: UserId,
        role: Option<CustomRoleId>,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
    /// The custom role a user holds, if any.
    async fn user_custom_role(&self, account: AccountId, user: UserId) -> StorageResult<Option<CustomRole>>;

    /// The account's retention settings.
    async fn retention(&self, account: AccountId) -> StorageResult<Retention>;
    /// Changes the account's retention settings.
    async fn set_retention(&self, account: AccountId, retention: Retention, now: DateTime<Utc>) -> StorageResult<()>;
    /// Every account that limits how long it keeps something.
    async fn accounts_with_retention(&self) -> StorageResult<Vec<(AccountId, Retention)>>;
    /// Deletes the conversations (with their messages) whose last activity
    /// is before `before`.
    async fn delete_conversations_before(&self, account: AccountId, before: DateTime<Utc>) -> StorageResult<Sweep>;
    /// Removes the attachments of messages sent before `before` (each
    /// becomes a line saying it was removed).
    async fn strip_attachments_before(&self, account: AccountId, before: DateTime<Utc>) -> StorageResult<Sweep>;

    /// Erases a buyer: the contact's name, e-mail, phone, attributes, tags
    /// and identities; the content of every message of their
    /// conversations; their survey comments and bot state; the buyer
    /// fields of their shop orders and customers; pending events, jobs and
    /// audit details that name them. Conversations stay as skeletons
    /// (times, counts, channel, tags) so statistics stay right.
    async fn erase_contact(&self, account: AccountId, contact: ContactId, now: DateTime<Utc>)
    -> StorageResult<Erasure>;

    /// `table.column` of every column, in every table, whose text contains
    /// `needle` (case-insensitive): the check that an erasure left nothing.
    async fn scan_text(&self, needle: &str) -> StorageResult<Vec<String>>;
}
