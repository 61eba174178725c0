//! Messenger and Instagram inboxes, both on Meta's Messenger Platform.
//! [`settings`] reads an inbox's page (`config.extra["messenger"]` or
//! `["instagram"]`); [`webhook`] answers the subscription handshake,
//! checks signatures and reads deliveries into channel-neutral updates
//! (pure); [`client`] talks to the Graph API and [`outbound`] sends
//! Ferry's messages with it, within the platform's reply windows.

#[cfg(feature = "net")]
pub mod client;
#[cfg(feature = "net")]
pub mod outbound;
pub mod settings;
pub mod webhook;

#[cfg(feature = "net")]
pub use client::MetaClient;
#[cfg(feature = "net")]
pub use outbound::MetaOutbound;
pub use settings::MetaSettings;
