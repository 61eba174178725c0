//! Canned responses: answers an account saves once under a short code and
//! its agents insert into the composer. The rules for short codes and
//! content live here so every entry point checks them alike.

use crate::{AccountId, CannedResponseId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest short code, in characters.
pub const MAX_SHORT_CODE_CHARS: usize = 64;
/// Longest content, in characters.
pub const MAX_CONTENT_CHARS: usize = 10_000;

/// A saved answer of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponse {
    /// Its id.
    pub id: CannedResponseId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// What agents type after `/` to find it; unique in the account.
    pub short_code: String,
    /// The text, possibly with `{{contact.name}}`-style variables.
    pub content: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Whether `code` is a valid short code: 1 to 64 ASCII letters, digits,
/// `-` or `_`.
pub fn is_valid_short_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_SHORT_CODE_CHARS
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `content` is acceptable: not blank, at most 10 000 characters.
pub fn is_valid_content(content: &str) -> bool {
    !content.trim().is_empty() && content.chars().count() <= MAX_CONTENT_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes() {
        assert!(is_valid_short_code("refund-policy_2"));
        assert!(is_valid_short_code(&"a".repeat(64)));
        assert!(!is_valid_short_code(&"a".repeat(65)));
        assert!(!is_valid_short_code(""));
        assert!(!is_valid_short_code("with space"));
        assert!(!is_valid_short_code("/slash"));
        assert!(!is_valid_short_code("café"));
    }

    #[test]
    fn contents() {
        assert!(is_valid_content("Hello {{contact.name}}"));
        assert!(is_valid_content(&"é".repeat(10_000)));
        assert!(!is_valid_content(&"é".repeat(10_001)));
        assert!(!is_valid_content("  \n "));
    }
}
