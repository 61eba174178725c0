//! Frequent-question discovery: the buyer messages people had to answer
//! (the bot handed over, or an agent replied) grouped into clusters of the
//! same question across phrasings — and across languages where the bot's
//! intent classifier recognises them — each with its size, trend,
//! languages, channels, examples, the agent replies most often given, and
//! whether an intent or FAQ entry of the bot already answers it.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use ferry_core::AccountId;
use ferry_nlu::cluster::{ClusterParams, ClusterSummary, Coverage, CoverageParams, QuestionItem};
use ferry_storage::AnsweredQuestion;

/// Most messages one discovery run reads.
pub const MAX_QUESTIONS: u32 = 300_000;

/// A cluster of the same question, and whether the bot answers it already.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionCluster {
    /// What the cluster holds.
    pub summary: ClusterSummary,
    /// The intent or FAQ entry that answers it, if one does.
    pub coverage: Coverage,
}

/// The clusters of `questions`, largest first, the classifier's confident
/// guess added to each message so one question asked in several languages
/// meets in one cluster.
pub fn cluster_questions(
    questions: &[AnsweredQuestion],
    engine: &ferry_bot::Engine,
    now: DateTime<Utc>,
) -> Vec<QuestionCluster> {
    let items: Vec<QuestionItem> = questions
        .iter()
        .map(|q| {
            let mut item = QuestionItem::new(q.message_id.0, q.text.clone(), q.sent_at.timestamp())
                .with_channel(q.channel.clone());
            if let Some(l) = &q.language {
                item = item.with_lang(l.clone());
            }
            if let Some(r) = &q.reply {
                item = item.with_reply(r.clone());
            }
            if let Some(signal) = ferry_nlu::cluster::intent_signal(engine.model(), &q.text, 0.8) {
                item = item.with_signal(signal);
            }
            item
        })
        .collect();
    let params = ClusterParams::default();
    let mut clusters = ferry_nlu::cluster::cluster_all(items, &params, now.timestamp());
    clusters.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    let coverage = CoverageParams::default();
    clusters
        .into_iter()
        .map(|summary| {
            let covered = ferry_nlu::cluster::coverage(&summary, Some(engine.model()), engine.faq(), &coverage);
            QuestionCluster { summary, coverage: covered }
        })
        .collect()
}

impl App {
    /// The frequent questions of `[since, until)`: see the module.
    pub async fn frequent_questions(
        &self,
        actor: &Actor,
        account: AccountId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> AppResult<Vec<QuestionCluster>> {
        actor.in_account(account)?;
        self.discover_questions(account, since, until).await
    }

    /// [`App::frequent_questions`] without a caller (the command line).
    pub async fn discover_questions(
        &self,
        account: AccountId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> AppResult<Vec<QuestionCluster>> {
        if since >= until {
            return Err(AppError::invalid("since", "since must be before until"));
        }
        self.storage.get_account(account).await?.ok_or(AppError::NotFound("account"))?;
        let questions = self.storage.answered_questions(account, since, until, MAX_QUESTIONS).await?;
        let engine = self.bot_engine(account).await?;
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || cluster_questions(&questions, &engine, now))
            .await
            .map_err(|e| AppError::internal("clustering questions", e))
    }
}
