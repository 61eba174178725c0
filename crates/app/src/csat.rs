//! Satisfaction surveys. Resolving a conversation of an inbox that asks
//! for them enqueues a `send_survey` job in the same write; the job posts
//! one question in the buyer's language on the conversation's channel —
//! inline in the chat widget, as text with a link elsewhere — at most once
//! per conversation and once per buyer in the inbox's number of days. The
//! link's token is the answer's key; the store keeps only its hash. An
//! answer is written on the conversation as an activity line.

use crate::auth::{Actor, new_secret, secret_hash};
use crate::outgoing::OutgoingMessage;
use crate::{App, AppError, AppResult};
use chrono::Duration;
use ferry_core::conversation::{Conversation, Status};
use ferry_core::csat::{Answer, CsatScale, Survey, SurveyRequest};
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{ContentPart, MessageKind, Sender};
use ferry_core::{AccountId, ConversationId};
use ferry_jobs::JobKind;
use ferry_storage::{NewJob, NewMessage, NewSurvey};

/// What became of a survey job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyOutcome {
    /// Posted to the buyer.
    Sent(Survey),
    /// Not sent, and why.
    Skipped(&'static str),
}

/// The survey's words in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyTexts {
    /// The language code.
    pub language: &'static str,
    /// The question.
    pub question: &'static str,
    /// Label of the comment box.
    pub comment: &'static str,
    /// The button.
    pub send: &'static str,
    /// After answering.
    pub thanks: &'static str,
}

const TEXTS: [SurveyTexts; 8] = [
    SurveyTexts {
        language: "en",
        question: "How would you rate the help you received?",
        comment: "Anything you would like to add? (optional)",
        send: "Send",
        thanks: "Thank you for your feedback!",
    },
    SurveyTexts {
        language: "zh",
        question: "您对本次服务满意吗？请为我们评分。",
        comment: "还有什么想告诉我们的吗？（选填）",
        send: "提交",
        thanks: "感谢您的反馈！",
    },
    SurveyTexts {
        language: "es",
        question: "¿Cómo valorarías la ayuda que recibiste?",
        comment: "¿Quieres añadir algo? (opcional)",
        send: "Enviar",
        thanks: "¡Gracias por tu opinión!",
    },
    SurveyTexts {
        language: "fr",
        question: "Comment évalueriez-vous l'aide reçue ?",
        comment: "Souhaitez-vous ajouter quelque chose ? (facultatif)",
        send: "Envoyer",
        thanks: "Merci pour votre avis !",
    },
    SurveyTexts {
        language: "de",
        question: "Wie bewerten Sie die Hilfe, die Sie erhalten haben?",
        comment: "Möchten Sie noch etwas ergänzen? (optional)",
        send: "Senden",
        thanks: "Vielen Dank für Ihr Feedback!",
    },
    SurveyTexts {
        language: "ja",
        question: "今回のサポートはいかがでしたか？評価をお願いします。",
        comment: "ご意見があればお聞かせください（任意）",
        send: "送信",
        thanks: "ご協力ありがとうございました。",
    },
    SurveyTexts {
        language: "pt",
        question: "Como você avalia a ajuda que recebeu?",
        comment: "Quer acrescentar algo? (opcional)",
        send: "Enviar",
        thanks: "Obrigado pela sua opinião!",
    },
    SurveyTexts {
        language: "it",
        question: "Come valuti l'aiuto che hai ricevuto?",
        comment: "Vuoi aggiungere qualcosa? (facoltativo)",
        send: "Invia",
        thanks: "Grazie per il tuo feedback!",
    },
];

/// The survey's words in `language` (its primary subtag), else English.
pub fn survey_texts(language: &str) -> SurveyTexts {
    let primary = language.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    TEXTS.iter().find(|t| t.language == primary).copied().unwrap_or(TEXTS[0])
}

/// The survey job to enqueue with the resolution of `conversation` in
/// `inbox`, when the inbox asks for surveys and its channel allows them.
pub(crate) fn survey_job(
    inbox: &Inbox,
    conversation: ConversationId,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<NewJob> {
    let enabled = inbox.config.csat.as_ref().is_some_and(|c| c.enabled);
    (enabled && surveys_allowed(inbox.channel))
        .then(|| JobKind::SendSurvey { conversation_id: conversation }.new_job(inbox.account_id, now))
}

/// Amazon forbids messages that ask for feedback outside its own review
/// request, so its inboxes never send surveys.
fn surveys_allowed(channel: ChannelKind) -> bool {
    channel != ChannelKind::Amazon
}

impl App {
    /// The `send_survey` job: posts the survey of a resolved conversation
    /// unless it was reopened, the inbox stopped asking, the buyer had one
    /// recently, or it was posted already.
    pub async fn send_survey(&self, account: AccountId, id: ConversationId) -> AppResult<SurveyOutcome> {
        let conv = self.storage.get_conversation(account, id).await?.ok_or(AppError::NotFound("conversation"))?;
        if conv.status != Status::Resolved {
            return Ok(SurveyOutcome::Skipped("the conversation was reopened"));
        }
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        let Some(settings) = inbox.config.csat.clone().filter(|c| c.enabled) else {
            return Ok(SurveyOutcome::Skipped("the inbox sends no surveys"));
        };
        if !surveys_allowed(inbox.channel) {
            return Ok(SurveyOutcome::Skipped("the channel does not allow surveys"));
        }
        let now = self.clock.now();
        if settings.days_between > 0
            && let Some(last) = self.storage.last_survey_sent(account, conv.contact_id, conv.id).await?
            && now - last < Duration::days(i64::from(settings.days_between))
        {
            return Ok(SurveyOutcome::Skipped("the buyer had a survey recently"));
        }
        let language = self.survey_language(account, &conv).await?;
        let texts = survey_texts(&language);
        let token = new_secret();
        let new = NewSurvey {
            conversation_id: conv.id,
            contact_id: conv.contact_id,
            inbox_id: inbox.id,
            agent_id: conv.assignee_id,
            token_hash: secret_hash(&token),
            language: texts.language.to_owned(),
            scale: settings.scale,
            sent_at: now,
        };
        let Some(survey) = self.storage.create_survey(account, new).await? else {
            return Ok(SurveyOutcome::Skipped("the survey was sent already"));
        };
        let request = SurveyRequest {
            question: texts.question.to_owned(),
            scale: settings.scale,
            url: format!("{}/csat/{token}", self.config.public_url.trim_end_matches('/')),
        };
        let out = OutgoingMessage {
            notice_send: None,
            conversation: &conv,
            sender: Sender::Bot,
            parts: vec![ContentPart::Survey { survey: Box::new(request) }],
            transition: None,
            describe: None,
            bot_state: None,
            rules: None,
        };
        let posted = self.send_outgoing(account, out).await?;
        self.storage.survey_posted(account, survey.id, posted.message.id).await?;
        Ok(SurveyOutcome::Sent(survey))
    }

    async fn survey_language(&self, account: AccountId, conv: &Conversation) -> AppResult<String> {
        if let Some(l) = conv.language.clone().filter(|l| !l.is_empty()) {
            return Ok(l);
        }
        let contact = self.storage.get_contact(account, conv.contact_id).await?;
        if let Some(l) = contact.and_then(|c| c.language).filter(|l| !l.is_empty()) {
            return Ok(l);
        }
        self.account_language(account).await
    }

    /// The survey behind an answer link, with its words.
    pub async fn survey_for_token(&self, token: &str) -> AppResult<(Survey, SurveyTexts)> {
        let survey = self.storage.survey_by_token(&secret_hash(token)).await?.ok_or(AppError::NotFound("survey"))?;
        let texts = survey_texts(&survey.language);
        Ok((survey, texts))
    }

    /// Stores the buyer's answer (a later one replaces it) and writes it on
    /// the conversation; with `inbox`, only a survey sent through it.
    pub async fn answer_survey(
        &self,
        token: &str,
        inbox: Option<ferry_core::InboxId>,
        rating: u8,
        comment: Option<&str>,
    ) -> AppResult<Survey> {
        let (survey, _) = self.survey_for_token(token).await?;
        if inbox.is_some_and(|i| i != survey.inbox_id) {
            return Err(AppError::NotFound("survey"));
        }
        let answer =
            Answer::check(survey.scale, rating, comment).map_err(|e| AppError::invalid("rating", e.to_string()))?;
        let now = self.clock.now();
        let answered = self.storage.answer_survey(&secret_hash(token), answer, now).await?;
        let line = answer_line(&answered);
        let note = NewMessage {
            notice_send: None,
            conversation_id: answered.conversation_id,
            kind: MessageKind::Activity,
            sender: Sender::System,
            parts: vec![ContentPart::Text { text: line }],
            delivery: None,
            now,
            transition: None,
            job: None,
            bot_state: None,
            describe: None,
        };
        if let Err(e) = self.storage.post_message(answered.account_id, note).await {
            tracing::warn!(error = %e, "could not write the survey answer on its conversation");
        }
        Ok(answered)
    }

    /// A conversation's survey, for the console.
    pub async fn conversation_survey(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ConversationId,
    ) -> AppResult<Option<Survey>> {
        actor.in_account(account)?;
        self.storage.get_conversation(account, id).await?.ok_or(AppError::NotFound("conversation"))?;
        Ok(self.storage.conversation_survey(account, id).await?)
    }
}

/// "Buyer rated 4/5: …" (thumbs: up or down).
fn answer_line(s: &Survey) -> String {
    let rating = s.rating.unwrap_or(0);
    let head = match s.scale {
        CsatScale::Stars => format!("Buyer rated the help {rating}/5"),
        CsatScale::Thumbs if rating >= 5 => "Buyer rated the help 👍".to_owned(),
        CsatScale::Thumbs => "Buyer rated the help 👎".to_owned(),
    };
    match &s.comment {
        Some(c) => format!("{head}: “{c}”"),
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_the_primary_language_and_fall_back_to_english() {
        assert_eq!(survey_texts("de-AT").language, "de");
        assert_eq!(survey_texts("zh_CN").language, "zh");
        assert_eq!(survey_texts("PT").language, "pt");
        assert_eq!(survey_texts("ko").language, "en");
        assert_eq!(survey_texts("").language, "en");
        for t in TEXTS {
            assert!(!t.question.is_empty() && !t.comment.is_empty() && !t.send.is_empty() && !t.thanks.is_empty());
        }
    }
}
