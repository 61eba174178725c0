//! Storage errors.

use ferry_core::conversation::TransitionError;

/// Result of a storage call.
pub type StorageResult<T> = Result<T, StorageError>;

/// What can go wrong in a backend.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row does not exist in this account.
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key rule refused the write.
    #[error("conflict on {constraint}")]
    Conflict {
        /// The rule, e.g. `users.email`.
        constraint: String,
    },
    /// The conversation's state machine refused the change.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A stored value could not be read back (corrupt or newer data).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StorageError {
    /// Wraps any backend error.
    pub fn other(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StorageError::Other(Box::new(e))
    }
}
