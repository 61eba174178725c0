//! Buyers who asked a channel to stop (an SMS STOP): one row per contact
//! and channel, kept when they opt back in, so every sender can ask
//! whether a contact may be written to on a channel.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::inbox::ChannelKind;
use ferry_core::{AccountId, ContactId};

/// A contact's choice on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOptOut {
    /// The contact.
    pub contact_id: ContactId,
    /// The channel.
    pub channel: ChannelKind,
    /// The address it was asked from (the phone number).
    pub address: String,
    /// Whether the contact is opted out now.
    pub opted_out: bool,
    /// The word the buyer sent last (`STOP`, `START`…).
    pub keyword: String,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Opt-outs per contact and channel.
#[async_trait]
pub trait OptOutRepo {
    /// Records the buyer's latest choice on `channel` (opted out or back
    /// in); the contact must be the account's.
    async fn set_channel_opt_out(&self, account: AccountId, choice: ChannelOptOut) -> StorageResult<()>;

    /// The contact's choice on `channel`, if it ever made one.
    async fn get_channel_opt_out(
        &self,
        account: AccountId,
        contact: ContactId,
        channel: ChannelKind,
    ) -> StorageResult<Option<ChannelOptOut>>;

    /// Whether the contact is opted out on `channel` now.
    async fn is_opted_out(&self, account: AccountId, contact: ContactId, channel: ChannelKind) -> StorageResult<bool> {
        Ok(self.get_channel_opt_out(account, contact, channel).await?.is_some_and(|o| o.opted_out))
    }
}
