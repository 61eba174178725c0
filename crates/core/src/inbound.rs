//! The normalised inbound message every channel adapter produces.

use crate::contact::Identity;
use crate::message::ContentPart;
use crate::{AccountId, InboxId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A buyer's message as a channel adapter hands it to intake, after the
/// adapter verified and parsed the channel's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    /// The account of the inbox.
    pub account_id: AccountId,
    /// The inbox it arrived in.
    pub inbox_id: InboxId,
    /// The channel's id of the message; a second delivery with the same id
    /// is the same message.
    pub external_id: String,
    /// Who sent it.
    pub sender: InboundSender,
    /// What it says.
    pub parts: Vec<ContentPart>,
    /// When the buyer sent it (the channel's clock).
    pub sent_at: DateTime<Utc>,
    /// What the channel says besides the content (the message it quotes,
    /// the ad the buyer came from).
    #[serde(default)]
    pub meta: crate::message::MessageMeta,
}

/// The sender of an inbound message, as the channel knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundSender {
    /// The identity the channel gives (handle, phone, visitor id, …).
    pub identity: Identity,
    /// Further identities the channel reveals (e.g. an e-mail the widget
    /// visitor typed): they link the contact to other channels.
    #[serde(default)]
    pub extra_identities: Vec<Identity>,
    /// Display name, if given.
    pub name: Option<String>,
    /// Language hint from the channel (browser language, profile locale).
    #[serde(default)]
    pub language: Option<String>,
}
