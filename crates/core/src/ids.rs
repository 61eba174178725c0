//! Newtype ids. The store assigns them (64-bit, increasing), so they are
//! cheap to index and order, and a `ConversationId` can never be passed where
//! a `ContactId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }
    )+};
}

id_type!(
    /// A tenant: one seller organisation. Every row is scoped by it.
    AccountId,
    /// A person who logs in to the console (owner, admin or agent).
    UserId,
    /// A group of agents that conversations can be routed to.
    TeamId,
    /// One channel connection (an API endpoint, a widget, a mailbox, …).
    InboxId,
    /// One buyer, whatever the channel.
    ContactId,
    /// A thread between a buyer and the shop in one inbox.
    ConversationId,
    /// One message, note or activity line in a conversation.
    MessageId,
    /// An entry of the transactional outbox.
    EventId,
    /// A background job.
    JobId,
    /// An entry of an account's audit log.
    AuditEntryId,
    /// A saved answer the account's agents share.
    CannedResponseId,
    /// A connection to one shop (a Shopify store, an imported catalogue).
    ShopConnectionId,
    /// An order in the shop mirror.
    OrderId,
    /// An alert a detector raised in the console.
    AlertId,
    /// An account's subscription to its events at an outside URL.
    WebhookId,
    /// One event sent (or being sent) to one webhook.
    WebhookDeliveryId,
);
