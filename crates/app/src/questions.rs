//! Frequent-question discovery: the buyer messages people had to answer
//! (the bot handed over, or an agent replied) grouped into clusters of the
//! same question across phrasings — and across languages where the bot's
//! intent classifier recognises them — each with its size, trend,
//! languages, channels, examples, the agent replies most often given, and
//! whether an intent or FAQ entry of the bot already answers it.

use crate::auth::Actor;
use crate::bot::{BotDocumentView, BotEdit};
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use ferry_bot::{BotFaq, BotIntent};
use ferry_core::AccountId;
use ferry_nlu::cluster::{ClusterParams, ClusterSummary, Coverage, CoverageParams, QuestionItem};
use ferry_storage::AnsweredQuestion;
use std::collections::{BTreeMap, HashMap};

/// Most messages one discovery run reads.
pub const MAX_QUESTIONS: u32 = 300_000;

/// Most examples taken from a cluster per language.
const MAX_EXAMPLES: usize = 50;

/// What a cluster becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdoptAs {
    /// A FAQ entry per language.
    Faq,
    /// An intent with examples and answers per language.
    Intent,
}

/// How to turn a cluster into the bot's knowledge.
#[derive(Debug, Clone)]
pub struct Adopt {
    /// FAQ entry or intent.
    pub kind: AdoptAs,
    /// Its id or name.
    pub name: String,
    /// The answer; by default the reply agents gave most.
    pub answer: Option<String>,
    /// The period the cluster was found in.
    pub since: DateTime<Utc>,
    /// Its end.
    pub until: DateTime<Utc>,
}

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
            let covered = match ferry_nlu::cluster::coverage(&summary, Some(engine.model()), engine.faq(), &coverage) {
                // The index numbers the document's entries; people know
                // them by their ids.
                Coverage::Faq { id, share } => {
                    let faqs = &engine.document().faqs;
                    let known = id.parse::<usize>().ok().and_then(|n| faqs.get(n)).map(|f| f.id.clone());
                    Coverage::Faq { id: known.unwrap_or(id), share }
                }
                other => other,
            };
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

    /// Turns a cluster of `[since, until)` into a FAQ entry or an intent of
    /// the bot named `name` (owners and admins): its messages, per
    /// language, as the questions or training examples, the reply agents
    /// gave most in each language as the answer (or `answer` when given);
    /// then retrains the bot.
    pub async fn adopt_question(
        &self,
        actor: &Actor,
        account: AccountId,
        cluster: i64,
        adopt: Adopt,
    ) -> AppResult<BotDocumentView> {
        actor.in_account(account)?;
        actor.can_manage_bot()?;
        let (questions, clusters) = self.clustered(account, adopt.since, adopt.until).await?;
        let found = clusters.into_iter().find(|c| c.summary.id == cluster);
        let found = found.ok_or(AppError::NotFound("question cluster"))?;
        let view = self.stored_bot_document(account).await?;
        let fallback = view.document.default_language.clone();
        let by_id: HashMap<i64, &AnsweredQuestion> = questions.iter().map(|q| (q.message_id.0, q)).collect();
        // Language → (distinct texts, reply → count).
        let mut per_language: BTreeMap<String, (Vec<String>, HashMap<String, usize>)> = BTreeMap::new();
        for id in &found.summary.members {
            let Some(q) = by_id.get(id) else { continue };
            let lang = q.language.clone().filter(|l| !l.is_empty()).unwrap_or_else(|| fallback.clone());
            let (texts, replies) = per_language.entry(lang).or_default();
            let text = q.text.trim().to_owned();
            if texts.len() < MAX_EXAMPLES && !texts.contains(&text) {
                texts.push(text);
            }
            if let Some(r) = q.reply.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                *replies.entry(r.to_owned()).or_default() += 1;
            }
        }
        let answer_of = |replies: &HashMap<String, usize>| -> Option<String> {
            if let Some(a) = adopt.answer.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                return Some(a.to_owned());
            }
            replies.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(r, _)| r.clone())
        };
        match adopt.kind {
            AdoptAs::Faq => {
                for (language, (texts, replies)) in &per_language {
                    let answer = answer_of(replies).ok_or_else(|| {
                        AppError::invalid(
                            "answer",
                            format!("no agent reply in {language} to draft the answer from: give one"),
                        )
                    })?;
                    let faq =
                        BotFaq { id: adopt.name.clone(), language: language.clone(), questions: texts.clone(), answer };
                    self.edit_bot(actor, account, BotEdit::PutFaq(faq), None).await?;
                }
            }
            AdoptAs::Intent => {
                let examples = per_language.iter().map(|(l, (t, _))| (l.clone(), t.clone())).collect();
                let answers =
                    per_language.iter().filter_map(|(l, (_, r))| answer_of(r).map(|a| (l.clone(), a))).collect();
                let intent = BotIntent {
                    name: adopt.name.clone(),
                    description: found.summary.label.clone(),
                    examples,
                    answers,
                    requires: None,
                    small_talk: false,
                };
                self.edit_bot(actor, account, BotEdit::PutIntent(intent), None).await?;
            }
        }
        self.train_bot(actor, account).await?;
        self.stored_bot_document(account).await
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
        Ok(self.clustered(account, since, until).await?.1)
    }

    /// The answered questions of `[since, until)` and their clusters.
    async fn clustered(
        &self,
        account: AccountId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> AppResult<(Vec<AnsweredQuestion>, Vec<QuestionCluster>)> {
        let questions = self.storage.answered_questions(account, since, until, MAX_QUESTIONS).await?;
        let engine = self.bot_engine(account).await?;
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let clusters = cluster_questions(&questions, &engine, now);
            (questions, clusters)
        })
        .await
        .map_err(|e| AppError::internal("clustering questions", e))
    }
}
