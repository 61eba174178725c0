//! Ferry's bot. For each buyer message in a conversation the bot holds it
//! detects the language, classifies the intent, looks up FAQ entries and
//! entities ([`ferry_nlu`]), decides with the pure policy of
//! [`ferry_core::bot`] whether to answer, ask or hand off, and renders the
//! answer from the account's templates in the buyer's language.
//!
//! No IO happens here: the application loads the account's
//! [`BotDocument`], trains an [`Engine`] from it, and feeds it messages,
//! the conversation's [`ferry_core::bot::BotState`] and the facts it knows
//! (contact, shop, order).

pub mod document;
pub mod engine;
pub mod render;
pub mod texts;

pub use document::{BotDocument, BotFaq, BotIntent};
pub use engine::{Engine, Facts, Outcome, Turn, TurnInput};

/// What can go wrong building or editing a bot.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// The document or an edit is invalid.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Training or loading failed.
    #[error(transparent)]
    Nlu(#[from] ferry_nlu::NluError),
}

impl BotError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        BotError::Invalid { field, message: message.into() }
    }
}
