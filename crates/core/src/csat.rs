//! Customer satisfaction (CSAT): the one-question survey a buyer gets after
//! a conversation is resolved, and the answer.

use crate::{AccountId, ContactId, ConversationId, InboxId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the buyer answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CsatScale {
    /// One to five stars.
    #[default]
    Stars,
    /// Thumbs up (stored as 5) or down (stored as 1).
    Thumbs,
}

impl CsatScale {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CsatScale::Stars => "stars",
            CsatScale::Thumbs => "thumbs",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stars" => Some(CsatScale::Stars),
            "thumbs" => Some(CsatScale::Thumbs),
            _ => None,
        }
    }

    /// Whether `rating` is an answer on this scale (stars 1–5; thumbs 1 or 5).
    pub fn accepts(self, rating: u8) -> bool {
        match self {
            CsatScale::Stars => (1..=5).contains(&rating),
            CsatScale::Thumbs => rating == 1 || rating == 5,
        }
    }
}

/// An inbox's survey settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatSettings {
    /// Whether resolved conversations get a survey.
    pub enabled: bool,
    /// How the buyer answers.
    #[serde(default)]
    pub scale: CsatScale,
    /// At most one survey per buyer in this many days (default 7; 0: one
    /// per conversation, however often).
    #[serde(default = "default_days_between")]
    pub days_between: u32,
}

fn default_days_between() -> u32 {
    7
}

impl Default for CsatSettings {
    fn default() -> Self {
        Self { enabled: false, scale: CsatScale::Stars, days_between: default_days_between() }
    }
}

/// Longest comment kept with an answer, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A survey sent for a resolved conversation, and its answer once given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Survey {
    /// Id.
    pub id: i64,
    /// Account.
    pub account_id: AccountId,
    /// The conversation it asks about (one survey each).
    pub conversation_id: ConversationId,
    /// The buyer asked.
    pub contact_id: ContactId,
    /// The inbox it went through.
    pub inbox_id: InboxId,
    /// The agent the conversation was assigned to when it was resolved.
    pub agent_id: Option<UserId>,
    /// The language it was asked in.
    pub language: String,
    /// How the buyer answers.
    pub scale: CsatScale,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// The answer: 1–5 (thumbs: 1 or 5); none until answered.
    pub rating: Option<u8>,
    /// The buyer's comment.
    pub comment: Option<String>,
    /// When it was (last) answered.
    pub answered_at: Option<DateTime<Utc>>,
}

/// What a survey message carries to the buyer: the question, the scale,
/// and the page that takes the answer (channels without buttons send the
/// question and the link as text; the chat widget asks inline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyRequest {
    /// The question, in the buyer's language.
    pub question: String,
    /// How the buyer answers.
    pub scale: CsatScale,
    /// The answer page (`…/csat/{token}`); the token is the answer's key.
    pub url: String,
}

impl SurveyRequest {
    /// The question and the link, for channels that send text.
    pub fn as_text(&self) -> String {
        format!("{}\n{}", self.question, self.url)
    }
}

/// A buyer's answer, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The rating, valid for the survey's scale.
    pub rating: u8,
    /// The comment, trimmed; none when empty.
    pub comment: Option<String>,
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The rating is not on the survey's scale.
    #[error("rating must be {0}")]
    Rating(&'static str),
    /// The comment is too long.
    #[error("comment is longer than {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
}

impl Answer {
    /// Checks an answer to a survey on `scale`.
    pub fn check(scale: CsatScale, rating: u8, comment: Option<&str>) -> Result<Self, AnswerError> {
        if !scale.accepts(rating) {
            return Err(AnswerError::Rating(match scale {
                CsatScale::Stars => "1 to 5",
                CsatScale::Thumbs => "1 (thumbs down) or 5 (thumbs up)",
            }));
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            return Err(AnswerError::CommentTooLong);
        }
        Ok(Self { rating, comment: comment.map(str::to_owned) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked_against_the_scale() {
        assert!(Answer::check(CsatScale::Stars, 3, None).is_ok());
        assert_eq!(Answer::check(CsatScale::Stars, 0, None), Err(AnswerError::Rating("1 to 5")));
        assert!(Answer::check(CsatScale::Stars, 6, None).is_err());
        assert!(Answer::check(CsatScale::Thumbs, 5, None).is_ok());
        assert!(Answer::check(CsatScale::Thumbs, 3, None).is_err());
        let a = Answer::check(CsatScale::Thumbs, 1, Some("  slow  ")).ok();
        assert_eq!(a.and_then(|a| a.comment), Some("slow".to_owned()));
        assert_eq!(Answer::check(CsatScale::Stars, 4, Some("   ")).ok().and_then(|a| a.comment), None);
        let long = "好".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(Answer::check(CsatScale::Stars, 4, Some(&long)), Err(AnswerError::CommentTooLong));
        assert!(Answer::check(CsatScale::Stars, 4, Some(&"好".repeat(MAX_COMMENT_CHARS))).is_ok());
    }

    #[test]
    fn settings_default_to_off_and_a_week_between_surveys() {
        let s: CsatSettings = serde_json::from_str(r#"{"enabled":true}"#).unwrap_or_default();
        assert!(s.enabled);
        assert_eq!((s.scale, s.days_between), (CsatScale::Stars, 7));
        assert!(!CsatSettings::default().enabled);
    }
}
