//! The WhatsApp Business channel over Meta's Cloud API. [`settings`] reads
//! an inbox's connection (`config.extra["whatsapp"]`); [`webhook`] checks
//! and reads Meta's webhook deliveries into channel-neutral updates (pure);
//! [`client`] talks to the Graph API (send, media, templates, the number)
//! and [`outbound`] sends Ferry's messages with it.

#[cfg(feature = "net")]
pub mod client;
#[cfg(feature = "net")]
pub mod outbound;
pub mod settings;
pub mod webhook;

#[cfg(feature = "net")]
pub use client::{MediaInfo, MediaKind, MediaSource, OutMessage, PhoneNumber, SendRequest, Template, WhatsAppClient};
#[cfg(feature = "net")]
pub use outbound::WhatsAppOutbound;
pub use settings::{WhatsAppSettings, keep_token, redacted};
pub use webhook::{parse, verify_challenge, verify_signature};
