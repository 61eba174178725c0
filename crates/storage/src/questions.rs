//! What frequent-question discovery reads: the buyer messages people had
//! to answer (the bot handed the conversation over, or an agent replied),
//! each with the first reply an agent gave after it.

use crate::args;
use crate::db::{Backend, Db};
use crate::error::StorageResult;
use crate::rows::json;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::message::{ContentPart, MessageKind, Sender, text_of};
use ferry_core::{AccountId, ConversationId, MessageId};

/// A buyer's message people answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredQuestion {
    /// The message.
    pub message_id: MessageId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its text.
    pub text: String,
    /// The conversation's language, where known.
    pub language: Option<String>,
    /// The channel it came through (`web_widget`, `email`, …).
    pub channel: String,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// The first agent reply after it, if any.
    pub reply: Option<String>,
}

/// Reads answered questions.
#[async_trait]
pub trait QuestionRepo {
    /// Buyer messages sent in `[since, until)` that people answered, up to
    /// `limit` (newest conversations first): those an agent's reply
    /// followed (with that reply), including the ones the bot answered
    /// just before an agent took over (its hand-off), and those of a
    /// handed-off conversation no agent has answered yet. What the bot
    /// answered by itself is left out.
    async fn answered_questions(
        &self,
        account: AccountId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<AnsweredQuestion>>;
}

/// One conversation's buyer messages as the scan meets them.
#[derive(Default)]
struct Thread {
    /// Not answered yet.
    pending: Vec<AnsweredQuestion>,
    /// Answered by the bot's latest message (which may be its hand-off).
    by_bot: Vec<AnsweredQuestion>,
    handed_off: bool,
}

impl Thread {
    /// Ends the conversation: what the bot left to people without an agent
    /// reply yet counts when it handed the conversation over.
    fn close(&mut self, out: &mut Vec<AnsweredQuestion>) {
        if self.handed_off {
            out.append(&mut self.by_bot);
            out.append(&mut self.pending);
        }
        *self = Thread::default();
    }
}

#[async_trait]
impl<B: Backend> QuestionRepo for B {
    async fn answered_questions(
        &self,
        account: AccountId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<AnsweredQuestion>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT m.id, m.conversation_id, m.kind, m.sender, m.parts, m.sent_at, c.language, i.channel, \
                         c.handoff_reason IS NOT NULL \
                         FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                         JOIN inboxes i ON i.id = m.inbox_id \
                         WHERE m.account_id = $1 AND m.kind IN ('incoming', 'outgoing') \
                         AND m.sent_at >= $2 AND m.sent_at < $3 \
                         AND (c.handoff_reason IS NOT NULL OR c.first_reply_at IS NOT NULL) \
                         ORDER BY m.conversation_id DESC, m.id LIMIT $4",
                        args![account.0, since, until, limit.saturating_mul(4)],
                    )
                    .await?;
                let mut out: Vec<AnsweredQuestion> = Vec::new();
                let mut thread = Thread::default();
                let mut current = None;
                for r in &rows {
                    if out.len() >= limit as usize {
                        break;
                    }
                    let conversation = ConversationId(r.int(1)?);
                    if current != Some(conversation) {
                        thread.close(&mut out);
                        current = Some(conversation);
                        thread.handed_off = r.flag(8)?;
                    }
                    let parts: Vec<ContentPart> = json("messages.parts", &r.text(4)?)?;
                    let text = text_of(&parts);
                    if r.text(2)? == MessageKind::Incoming.as_str() {
                        if !text.trim().is_empty() {
                            thread.pending.push(AnsweredQuestion {
                                message_id: MessageId(r.int(0)?),
                                conversation_id: conversation,
                                text,
                                language: r.opt_text(6)?,
                                channel: r.text(7)?,
                                sent_at: r.time(5)?,
                                reply: None,
                            });
                        }
                        continue;
                    }
                    match json::<Sender>("messages.sender", &r.text(3)?)? {
                        // What the bot answered stays the bot's unless an
                        // agent's reply comes next (it handed over).
                        Sender::Bot => thread.by_bot = std::mem::take(&mut thread.pending),
                        Sender::User(_) => {
                            for mut q in thread.by_bot.drain(..).chain(thread.pending.drain(..)) {
                                q.reply = Some(text.clone());
                                out.push(q);
                            }
                        }
                        Sender::Contact(_) | Sender::System => {}
                    }
                }
                thread.close(&mut out);
                out.truncate(limit as usize);
                Ok(out)
            })
        })
        .await
    }
}
