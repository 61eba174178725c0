//! What a messaging channel reports about the business's side of a
//! conversation besides Ferry's own sends: messages the business sent from
//! elsewhere (the page's own inbox, another app), which the channel
//! echoes, and watermarks that settle the status of every earlier message
//! to a buyer at once.

use crate::error::StorageResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::Identity;
use ferry_core::message::{ContentPart, DeliveryStatus, Message};
use ferry_core::{AccountId, InboxId};

/// A message the business sent from outside Ferry.
#[derive(Debug, Clone, PartialEq)]
pub struct EchoedMessage {
    /// The buyer it went to.
    pub to: Identity,
    /// The channel's id of the message.
    pub external_id: String,
    /// Its content.
    pub parts: Vec<ContentPart>,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
}

/// Echoes and watermarks.
#[async_trait]
pub trait EchoRepo {
    /// Stores an echoed message as an outgoing message (sent, by the
    /// business) of the buyer's latest conversation in `inbox`, in one
    /// transaction with its event. `None` when it is known already (by its
    /// external id) or the buyer has no conversation there.
    async fn record_echo(
        &self,
        account: AccountId,
        inbox: InboxId,
        echo: EchoedMessage,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>>;

    /// Moves every outgoing message of `inbox` to `buyer` sent at or before
    /// `up_to` forward to `status` (never backwards, never out of a
    /// failure), with an event for each; returns the messages changed.
    async fn apply_watermark(
        &self,
        account: AccountId,
        inbox: InboxId,
        buyer: Identity,
        status: DeliveryStatus,
        up_to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<Vec<Message>>;
}
