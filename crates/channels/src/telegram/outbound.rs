//! The outbound side of Telegram inboxes: one Ferry message becomes one or
//! more Bot API messages, in this order: each attachment (read from
//! Ferry's storage and uploaded; the text becomes the caption of a single
//! file when it fits), each location, the text (in pieces of at most 4096
//! characters), then each question with its buttons as an inline
//! keyboard. The message's external id is that of the last piece
//! (`{chat id}:{message id}`); the API's answer is the only report
//! Telegram gives, so a message it took is "sent".

use super::client::{FileMethod, MAX_CAPTION, MAX_TEXT, TelegramClient};
use super::settings::TelegramSettings;
use super::webhook::external_id;
use crate::whatsapp::outbound::split_text;
use crate::{Files, Outbound, Outgoing, PartialSends, SendError, SendResult, Sent};
use async_trait::async_trait;
use ferry_core::InboxId;
use ferry_core::contact::{Contact, IdentityKind};
use ferry_core::message::{Attachment, Button, ContentPart};
use std::sync::Arc;

/// One request of a message's plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A stored file to upload.
    File {
        /// The file.
        attachment: Attachment,
        /// Its caption.
        caption: Option<String>,
    },
    /// A location.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
    },
    /// Text, with buttons as an inline keyboard.
    Text {
        /// The text.
        text: String,
        /// The buttons.
        buttons: Vec<Button>,
    },
}

/// The requests `parts` become, in the order they are sent.
pub fn plan(parts: &[ContentPart]) -> Vec<Step> {
    let mut files = Vec::new();
    let mut locations = Vec::new();
    let mut texts = Vec::new();
    let mut questions = Vec::new();
    for p in parts {
        match p {
            ContentPart::Text { text } if !text.trim().is_empty() => texts.push(text.trim().to_owned()),
            ContentPart::Image { attachment }
            | ContentPart::File { attachment }
            | ContentPart::Audio { attachment } => files.push(attachment.clone()),
            ContentPart::Location { latitude, longitude, name } => {
                locations.push(Step::Location { latitude: *latitude, longitude: *longitude });
                if let Some(n) = name.as_deref().filter(|n| !n.trim().is_empty()) {
                    texts.push(n.to_owned());
                }
            }
            ContentPart::Buttons { text, buttons } => {
                questions.push(Step::Text { text: text.clone(), buttons: buttons.clone() })
            }
            ContentPart::Template { template } => texts.push(template.text.clone()),
            ContentPart::Survey { survey } => texts.push(survey.as_text()),
            ContentPart::Text { .. } | ContentPart::Email { .. } => {}
        }
    }
    let mut text = texts.join("\n\n");
    let mut steps = Vec::new();
    let single = files.len() == 1;
    for attachment in files {
        let caption = if single && !text.is_empty() && text.chars().count() <= MAX_CAPTION {
            Some(std::mem::take(&mut text))
        } else {
            None
        };
        steps.push(Step::File { attachment, caption });
    }
    steps.extend(locations);
    steps.extend(split_text(&text, MAX_TEXT).into_iter().map(|text| Step::Text { text, buttons: Vec::new() }));
    steps.extend(questions);
    steps
}

/// The buyer's chat with the bot of `inbox`: their Telegram user id (a
/// private chat's id is the user's).
pub fn recipient(contact: &Contact, inbox: InboxId) -> Option<String> {
    contact
        .identities
        .iter()
        .find(|i| i.kind == IdentityKind::Telegram && i.inbox_id.is_none_or(|id| id == inbox))
        .map(|i| i.value.clone())
        .filter(|v| !v.is_empty() && v.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()))
}

/// Sends the messages of Telegram inboxes.
pub struct TelegramOutbound {
    http: reqwest::Client,
    files: Arc<dyn Files>,
    /// Ids of the pieces already sent of messages that failed part-way.
    progress: PartialSends,
}

impl TelegramOutbound {
    /// Sends with `http`, reading attachments from `files`.
    pub fn new(http: reqwest::Client, files: Arc<dyn Files>) -> Self {
        Self { http, files, progress: PartialSends::default() }
    }

    async fn step(&self, o: &Outgoing<'_>, client: &TelegramClient, chat: &str, step: Step) -> Result<i64, SendError> {
        match step {
            Step::Text { text, buttons } => client.send_message(chat, &text, &buttons).await,
            Step::Location { latitude, longitude } => client.send_location(chat, latitude, longitude).await,
            Step::File { attachment, caption } => {
                let (bytes, content_type) = self.files.read(o.message.account_id, &attachment.url).await?;
                let method = FileMethod::for_content_type(&content_type);
                client
                    .send_file(chat, method, bytes, &content_type, attachment.filename.as_deref(), caption.as_deref())
                    .await
            }
        }
    }
}

#[async_trait]
impl Outbound for TelegramOutbound {
    fn default_rate(&self, _inbox: &ferry_core::inbox::Inbox) -> Option<f64> {
        // Telegram's broadcast limit: about 30 messages a second a bot.
        Some(30.0)
    }

    async fn send(&self, o: Outgoing<'_>) -> SendResult {
        let settings = TelegramSettings::of(o.inbox)
            .map_err(|e| SendError::Permanent(format!("the Telegram settings are wrong: {e}")))?
            .ok_or_else(|| SendError::Permanent("the inbox has no Telegram settings".into()))?;
        let chat = o
            .contact
            .and_then(|c| recipient(c, o.inbox.id))
            .ok_or_else(|| SendError::Permanent("the buyer has no Telegram chat with this bot".into()))?;
        let steps = plan(&o.message.parts);
        if steps.is_empty() {
            return Err(SendError::Permanent("the message has nothing Telegram can show".into()));
        }
        let client = TelegramClient::new(self.http.clone(), &settings);
        let chat_id: i64 =
            chat.parse().map_err(|_| SendError::Permanent("the buyer's chat id is not a number".into()))?;
        let mut sent = self.progress.done(o.message.id);
        for step in steps.into_iter().skip(sent.len()) {
            match self.step(&o, &client, &chat, step).await {
                Ok(id) => sent.push(external_id(chat_id, id)),
                Err(e) => {
                    self.progress.remember(o.message.id, sent);
                    return Err(e);
                }
            }
        }
        self.progress.remember(o.message.id, Vec::new());
        Ok(Sent { external_id: sent.pop() })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn att(ct: &str) -> Attachment {
        Attachment { url: "stored/1".into(), content_type: ct.into(), filename: Some("f".into()), size: None }
    }

    #[test]
    fn one_file_takes_the_text_as_caption_and_buttons_go_last() {
        let parts = vec![
            ContentPart::Buttons { text: "Q".into(), buttons: vec![Button { title: "a".into(), payload: "p".into() }] },
            ContentPart::Text { text: "look".into() },
            ContentPart::Image { attachment: att("image/png") },
        ];
        let steps = plan(&parts);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0], Step::File { attachment: att("image/png"), caption: Some("look".into()) });
        assert!(matches!(&steps[1], Step::Text { buttons, .. } if buttons.len() == 1));
    }
}
