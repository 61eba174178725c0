//! The use cases' error type.

use ferry_core::conversation::TransitionError;
use ferry_storage::StorageError;

/// Result of a use case.
pub type AppResult<T> = Result<T, AppError>;

/// The cause of an internal failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong in a use case. The HTTP layer maps each variant to a
/// status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such resource in this account.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No or bad credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but the role does not allow it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The account is suspended by the server's operator: its users and
    /// tokens can do nothing until it is reactivated.
    #[error("this account is suspended")]
    Suspended,
    /// Too many requests from one visitor or address; try again later.
    #[error("{0}")]
    RateLimited(&'static str),
    /// Too many failed sign-in attempts: locked for a while.
    #[error("too many failed attempts; try again later")]
    Locked {
        /// Seconds until the lock ends.
        retry_after_secs: u64,
    },
    /// The account requires a second factor the user has not set up yet.
    #[error("this account requires two-factor authentication; set it up first")]
    TwoFactorRequired,
    /// The request is well-formed but its values are not acceptable.
    #[error("{message}")]
    Invalid {
        /// The field at fault, if one.
        field: Option<&'static str>,
        /// What is wrong, for the user.
        message: String,
    },
    /// A value breaks a named rule (a weak password, a used link): a 422
    /// with the rule's own code, which the console translates.
    #[error("{message}")]
    Rejected {
        /// Stable snake_case code of the rule.
        code: &'static str,
        /// The field at fault.
        field: &'static str,
        /// What is wrong, for the user.
        message: String,
    },
    /// The request body could not be read (not JSON, not UTF-8, wrong
    /// shape).
    #[error("{0}")]
    Malformed(String),
    /// The request body is larger than allowed.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// It clashes with existing data (a taken e-mail, a duplicate name).
    #[error("{0}")]
    Conflict(String),
    /// The shop connection does not allow the action.
    #[error("{0}")]
    Unsupported(String),
    /// The shop refused or failed (its message, safe to show).
    #[error("{0}")]
    Upstream(String),
    /// A provider the account configured (translation) refused, failed or
    /// did not answer in time: `code` names it for clients.
    #[error("{message}")]
    Provider {
        /// Stable snake_case code (`translation_failed`).
        code: &'static str,
        /// What happened, safe to show.
        message: String,
    },
    /// The conversation's state does not allow it.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The store failed.
    #[error("storage failure")]
    Storage(#[source] StorageError),
    /// Anything else internal, with its cause kept for the logs. Never
    /// shown to users.
    #[error("internal error: {context}")]
    Failed {
        /// What was being done.
        context: &'static str,
        /// Why it failed.
        #[source]
        source: BoxError,
    },
    /// The compliance gate refused an outgoing message; the report says
    /// which rules and where.
    #[error("the message breaks the channel's rules")]
    Blocked(Box<ferry_core::compliance::Report>),
}

impl AppError {
    /// An invalid value of `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid { field: Some(field), message: message.into() }
    }

    /// A value of `field` breaking the rule `code`.
    pub fn rejected(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        AppError::Rejected { code, field, message: message.into() }
    }

    /// An internal failure while doing `context`, caused by `source`.
    pub fn internal(context: &'static str, source: impl Into<BoxError>) -> Self {
        AppError::Failed { context, source: source.into() }
    }

    /// The error and its causes on one line (`a: b: c`), for logs and job
    /// records; never for users.
    pub fn report(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            // Errors that print their source too are not repeated.
            let text = c.to_string();
            if !out.ends_with(&text) {
                out.push_str(": ");
                out.push_str(&text);
            }
            cause = c.source();
        }
        out
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => AppError::NotFound("resource"),
            StorageError::Conflict { constraint } => AppError::Conflict(match constraint.as_str() {
                "users.email" => "a user with this e-mail already exists".to_owned(),
                "teams.name" => "a team with this name already exists".to_owned(),
                "canned_responses.short_code" => "a canned response with this short code already exists".to_owned(),
                "contact_identities" => "this e-mail, phone or handle already belongs to another contact".to_owned(),
                "bot_documents.version" => {
                    "the bot was changed by someone else meanwhile; reload it and try again".to_owned()
                }
                "team_members.user_id" => "every team member must be an agent of this account".to_owned(),
                _ => "the change conflicts with existing data".to_owned(),
            }),
            StorageError::Transition(t) => AppError::Transition(t),
            other => AppError::Storage(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn internal_failures_keep_their_cause() {
        let cause = serde_json::from_str::<serde_json::Value>("{").err().map(BoxError::from);
        let Some(cause) = cause else { return };
        let text = cause.to_string();
        let e = AppError::internal("reading the bot document", cause);
        assert_eq!(e.to_string(), "internal error: reading the bot document");
        assert_eq!(e.source().map(|s| s.to_string()), Some(text.clone()));
        assert_eq!(e.report(), format!("internal error: reading the bot document: {text}"));
        let storage = AppError::from(StorageError::other(std::io::Error::other("disk full")));
        assert_eq!(storage.report(), "storage failure: database error: disk full");
    }
}
