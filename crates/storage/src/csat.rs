//! Satisfaction surveys: one per resolved conversation, found by the hash
//! of the token in its answer link.

use crate::args;
use crate::db::{Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::csat::{Answer, CsatScale, Survey};
use ferry_core::{AccountId, ContactId, ConversationId, InboxId, MessageId, UserId};

/// A survey about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSurvey {
    /// The resolved conversation.
    pub conversation_id: ConversationId,
    /// Its buyer.
    pub contact_id: ContactId,
    /// Its inbox.
    pub inbox_id: InboxId,
    /// Its agent when resolved.
    pub agent_id: Option<UserId>,
    /// SHA-256 (hex) of the answer link's token.
    pub token_hash: String,
    /// The language it is asked in.
    pub language: String,
    /// How it is answered.
    pub scale: CsatScale,
    /// When.
    pub sent_at: DateTime<Utc>,
}

/// Satisfaction surveys.
#[async_trait]
pub trait CsatRepo {
    /// Stores a survey unless the conversation already has one that was
    /// posted; one stored but never posted (its job failed in between)
    /// takes the new token. Returns the survey to post, or `None` when it
    /// was posted already.
    async fn create_survey(&self, account: AccountId, new: NewSurvey) -> StorageResult<Option<Survey>>;
    /// Records the message that carried the survey.
    async fn survey_posted(&self, account: AccountId, survey: i64, message: MessageId) -> StorageResult<()>;
    /// When the buyer was last sent a survey about another conversation
    /// than `except`, if ever.
    async fn last_survey_sent(
        &self,
        account: AccountId,
        contact: ContactId,
        except: ConversationId,
    ) -> StorageResult<Option<DateTime<Utc>>>;
    /// The survey whose token hashes to `token_hash`.
    async fn survey_by_token(&self, token_hash: &str) -> StorageResult<Option<Survey>>;
    /// Stores (or replaces) the answer of the survey with `token_hash`.
    async fn answer_survey(&self, token_hash: &str, answer: Answer, now: DateTime<Utc>) -> StorageResult<Survey>;
    /// A conversation's survey.
    async fn conversation_survey(
        &self,
        account: AccountId,
        conversation: ConversationId,
    ) -> StorageResult<Option<Survey>>;
}

const COLS: &str = "id, account_id, conversation_id, contact_id, inbox_id, agent_id, language, scale, sent_at, \
                    rating, comment, answered_at";

fn survey(r: &Row) -> StorageResult<Survey> {
    let scale = r.text(7)?;
    Ok(Survey {
        id: r.int(0)?,
        account_id: AccountId(r.int(1)?),
        conversation_id: ConversationId(r.int(2)?),
        contact_id: ContactId(r.int(3)?),
        inbox_id: InboxId(r.int(4)?),
        agent_id: r.opt_int(5)?.map(UserId),
        language: r.text(6)?,
        scale: CsatScale::parse(&scale).ok_or_else(|| StorageError::Corrupt(format!("survey scale {scale:?}")))?,
        sent_at: r.time(8)?,
        rating: r.opt_int(9)?.map(|n| n.clamp(0, 5) as u8),
        comment: r.opt_text(10)?,
        answered_at: r.opt_time(11)?,
    })
}

#[async_trait]
impl<B: Backend> CsatRepo for B {
    async fn create_survey(&self, account: AccountId, new: NewSurvey) -> StorageResult<Option<Survey>> {
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "INSERT INTO csat_surveys (account_id, conversation_id, contact_id, inbox_id, agent_id, token_hash, \
                     language, scale, sent_at) SELECT $1, c.id, $3, $4, $5, $6, $7, $8, $9 FROM conversations c \
                     WHERE c.account_id = $1 AND c.id = $2 \
                     ON CONFLICT (conversation_id) DO UPDATE SET token_hash = excluded.token_hash, \
                     sent_at = excluded.sent_at WHERE csat_surveys.message_id IS NULL RETURNING {COLS}"
                );
                let row = db
                    .row(
                        &sql,
                        args![
                            account.0,
                            new.conversation_id.0,
                            new.contact_id.0,
                            new.inbox_id.0,
                            new.agent_id.map(|u| u.0),
                            new.token_hash,
                            new.language,
                            new.scale.as_str(),
                            new.sent_at
                        ],
                    )
                    .await?;
                row.as_ref().map(survey).transpose()
            })
        })
        .await
    }

    async fn survey_posted(&self, account: AccountId, survey: i64, message: MessageId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE csat_surveys SET message_id = $3 WHERE account_id = $1 AND id = $2",
                        args![account.0, survey, message.0],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn last_survey_sent(
        &self,
        account: AccountId,
        contact: ContactId,
        except: ConversationId,
    ) -> StorageResult<Option<DateTime<Utc>>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT sent_at FROM csat_surveys WHERE account_id = $1 AND contact_id = $2 \
                         AND conversation_id <> $3 AND message_id IS NOT NULL ORDER BY sent_at DESC LIMIT 1",
                        args![account.0, contact.0, except.0],
                    )
                    .await?;
                r.map(|r| r.time(0)).transpose()
            })
        })
        .await
    }

    async fn survey_by_token(&self, token_hash: &str) -> StorageResult<Option<Survey>> {
        let hash = token_hash.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {COLS} FROM csat_surveys WHERE token_hash = $1");
                db.row(&sql, args![hash]).await?.as_ref().map(survey).transpose()
            })
        })
        .await
    }

    async fn answer_survey(&self, token_hash: &str, answer: Answer, now: DateTime<Utc>) -> StorageResult<Survey> {
        let hash = token_hash.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "UPDATE csat_surveys SET rating = $2, comment = $3, answered_at = $4 WHERE token_hash = $1 \
                     RETURNING {COLS}"
                );
                let row = db.row(&sql, args![hash, i64::from(answer.rating), answer.comment, now]).await?;
                let answered = row.as_ref().map(survey).transpose()?.ok_or(StorageError::NotFound)?;
                // What the reports count, in the same write; the mark comes
                // first, so a refresher holding it finishes before the
                // rating is written (and the conversation is refreshed again).
                crate::store::insights::mark_pending(db, answered.account_id, answered.conversation_id, now).await?;
                crate::store::record_rating(
                    db,
                    answered.account_id,
                    answered.conversation_id,
                    i64::from(answer.rating),
                    now,
                )
                .await?;
                // And the buyer's last rating on their profile.
                crate::store::profiles::refresh_profile(db, answered.account_id, answered.contact_id, now).await?;
                let event = ferry_core::event::Event::CsatReceived {
                    conversation_id: answered.conversation_id,
                    contact_id: answered.contact_id,
                    agent_id: answered.agent_id,
                    rating: answer.rating,
                    comment: answered.comment.clone(),
                };
                crate::store::outbox::append_event(db, answered.account_id, &event, now).await?;
                Ok(answered)
            })
        })
        .await
    }

    async fn conversation_survey(
        &self,
        account: AccountId,
        conversation: ConversationId,
    ) -> StorageResult<Option<Survey>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {COLS} FROM csat_surveys WHERE account_id = $1 AND conversation_id = $2");
                db.row(&sql, args![account.0, conversation.0]).await?.as_ref().map(survey).transpose()
            })
        })
        .await
    }
}
