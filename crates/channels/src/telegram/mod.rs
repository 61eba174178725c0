//! The Telegram channel over the Bot API. [`settings`] reads an inbox's
//! bot (`config.extra["telegram"]`); [`webhook`] checks the secret token
//! of a delivery and reads its update into channel-neutral updates (pure);
//! [`client`] talks to the Bot API (`setWebhook`, `getMe`, `getFile`,
//! `sendMessage`, `sendPhoto`, `sendDocument`, `answerCallbackQuery`) and
//! [`outbound`] sends Ferry's messages with it.

#[cfg(feature = "net")]
pub mod client;
#[cfg(feature = "net")]
pub mod outbound;
pub mod settings;
pub mod webhook;

#[cfg(feature = "net")]
pub use client::{BotInfo, TelegramClient};
#[cfg(feature = "net")]
pub use outbound::TelegramOutbound;
pub use settings::TelegramSettings;
pub use webhook::{Delivery, parse, verify_secret};
