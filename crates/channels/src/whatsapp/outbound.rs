//! The outbound side of WhatsApp inboxes: one Ferry message becomes one or
//! more Cloud API messages, sent in this order:
//!
//! 1. each attachment (read from Ferry's storage, uploaded, then sent by
//!    its media id; the text becomes the caption when there is exactly one
//!    picture, video or document and the text fits in a caption),
//! 2. each location,
//! 3. the text (split in pieces of at most 4096 characters),
//! 4. each question with choices (reply buttons, a list, or numbered text),
//! 5. each template (a message with a template part sends the template
//!    only: its text parts repeat what the template says).
//!
//! The message's [`Sent::external_id`] is the WhatsApp id of the **last**
//! request; every request carries Ferry's message id as
//! `biz_opaque_callback_data`, so status reports of every piece can be
//! matched to the message.
//!
//! When a piece fails after earlier pieces went out, the ids of the sent
//! pieces are remembered in memory, and a retry of the same message
//! (same message id, same parts) starts after them: nothing is sent twice
//! while the process lives. After a restart a retry sends the message
//! from its first piece again.

use super::client::{MAX_CAPTION, MAX_TEXT, MediaKind, MediaSource, OutMessage, SendRequest, WhatsAppClient};
use super::settings::WhatsAppSettings;
use crate::{Files, Outbound, Outgoing, PartialSends, SendError, SendResult, Sent};
use async_trait::async_trait;
use ferry_core::contact::{Contact, IdentityKind};
use ferry_core::message::{Attachment, ContentPart};
use std::sync::Arc;

/// One request of a message's plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A stored file to upload, then send.
    Attachment {
        /// The file.
        attachment: Attachment,
        /// Its caption.
        caption: Option<String>,
    },
    /// A message ready to send.
    Send(OutMessage),
}

/// The label of the button opening a list, in the buyer's language.
fn list_label(language: Option<&str>) -> &'static str {
    match language.map(|l| l.get(..2).unwrap_or(l).to_ascii_lowercase()).as_deref() {
        Some("de") => "Auswählen",
        Some("es") => "Elegir",
        Some("fr") => "Choisir",
        Some("it") => "Scegli",
        Some("pt") => "Escolher",
        Some("nl") => "Kiezen",
        _ => "Choose",
    }
}

/// Splits `text` in pieces of at most `max` characters, at a line break
/// or space when there is one.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        let cut = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let head = &rest[..cut];
        let at = head.rfind('\n').or_else(|| head.rfind(' ')).filter(|&i| i > 0).unwrap_or(cut);
        out.push(rest[..at].trim_end().to_owned());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest.to_owned());
    }
    out
}

/// The requests `parts` become, in the order they are sent (see the
/// module's documentation).
pub fn plan(parts: &[ContentPart], language: Option<&str>) -> Vec<Step> {
    let mut attachments = Vec::new();
    let mut locations = Vec::new();
    let mut texts = Vec::new();
    let mut choices = Vec::new();
    let mut templates = Vec::new();
    for p in parts {
        match p {
            ContentPart::Text { text } if !text.trim().is_empty() => texts.push(text.trim().to_owned()),
            ContentPart::Image { attachment }
            | ContentPart::File { attachment }
            | ContentPart::Audio { attachment } => {
                attachments.push(attachment.clone());
            }
            ContentPart::Location { latitude, longitude, name } => locations.push(OutMessage::Location {
                latitude: *latitude,
                longitude: *longitude,
                name: name.clone(),
                address: None,
            }),
            ContentPart::Buttons { text, buttons } => choices.push(OutMessage::Choices {
                text: text.clone(),
                buttons: buttons.clone(),
                list_label: list_label(language).to_owned(),
            }),
            ContentPart::Template { template } => templates.push(OutMessage::Template((**template).clone())),
            ContentPart::Survey { survey } => texts.push(survey.as_text()),
            ContentPart::Text { .. } | ContentPart::Email { .. } => {}
        }
    }
    if !templates.is_empty() {
        texts.clear();
    }
    let mut text = texts.join("\n\n");
    let mut steps = Vec::new();
    let single_captioned = attachments.len() == 1
        && matches!(
            MediaKind::for_content_type(&attachments[0].content_type),
            MediaKind::Image | MediaKind::Video | MediaKind::Document
        );
    for attachment in attachments {
        let caption = if single_captioned && !text.is_empty() && text.chars().count() <= MAX_CAPTION {
            Some(std::mem::take(&mut text))
        } else {
            None
        };
        steps.push(Step::Attachment { attachment, caption });
    }
    steps.extend(locations.into_iter().map(Step::Send));
    steps.extend(split_text(&text, MAX_TEXT).into_iter().map(|t| Step::Send(OutMessage::Text(t))));
    steps.extend(choices.into_iter().map(Step::Send));
    steps.extend(templates.into_iter().map(Step::Send));
    steps
}

/// The buyer's WhatsApp id: their WhatsApp identity, else their phone
/// number in digits.
pub fn recipient(contact: &Contact) -> Option<String> {
    let of = |kind| contact.identities.iter().find(|i| i.kind == kind).map(|i| i.value.clone());
    of(IdentityKind::Whatsapp)
        .or_else(|| of(IdentityKind::Phone))
        .or_else(|| contact.phone.clone())
        .map(|v| v.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|v| (6..=15).contains(&v.len()))
}

/// Sends the messages of WhatsApp inboxes.
pub struct WhatsAppOutbound {
    http: reqwest::Client,
    files: Arc<dyn Files>,
    /// WhatsApp ids of the pieces already sent of messages that failed
    /// part-way.
    progress: PartialSends,
}

impl WhatsAppOutbound {
    /// Sends with `http` (its timeouts apply), reading attachments from
    /// `files`.
    pub fn new(http: reqwest::Client, files: Arc<dyn Files>) -> Self {
        Self { http, files, progress: PartialSends::default() }
    }

    async fn request(&self, o: &Outgoing<'_>, client: &WhatsAppClient, step: Step) -> Result<OutMessage, SendError> {
        let (attachment, caption) = match step {
            Step::Send(m) => return Ok(m),
            Step::Attachment { attachment, caption } => (attachment, caption),
        };
        let (bytes, content_type) = self.files.read(o.message.account_id, &attachment.url).await?;
        let kind = MediaKind::for_content_type(&content_type);
        if bytes.len() as u64 > kind.max_bytes() {
            return Err(SendError::Permanent(format!(
                "the file is larger than WhatsApp takes for a {} ({} MB)",
                kind.as_str(),
                kind.max_bytes() / (1024 * 1024)
            )));
        }
        let id = client.upload(bytes, &content_type, attachment.filename.as_deref()).await?;
        Ok(OutMessage::Media { kind, source: MediaSource::Id(id), caption, filename: attachment.filename })
    }
}

#[async_trait]
impl Outbound for WhatsAppOutbound {
    fn default_rate(&self, inbox: &ferry_core::inbox::Inbox) -> Option<f64> {
        // The number's throughput (80 messages per second unless the
        // inbox says otherwise).
        WhatsAppSettings::of(inbox).ok().flatten().map(|s| f64::from(s.rate_per_second))
    }

    fn reports_by_reference(&self) -> bool {
        // Every send carries `biz_opaque_callback_data`, and Meta posts a
        // `sent` status with it (re-posting until acknowledged).
        true
    }

    async fn send(&self, o: Outgoing<'_>) -> SendResult {
        let settings = WhatsAppSettings::of(o.inbox)
            .map_err(|e| SendError::Permanent(format!("the WhatsApp settings are wrong: {e}")))?
            .ok_or_else(|| SendError::Permanent("the inbox has no WhatsApp settings".into()))?;
        let to = o
            .contact
            .and_then(recipient)
            .ok_or_else(|| SendError::Permanent("the buyer has no WhatsApp number".into()))?;
        let language = o.conversation.language.as_deref().or(o.contact.and_then(|c| c.language.as_deref()));
        let steps = plan(&o.message.parts, language);
        if steps.is_empty() {
            return Err(SendError::Permanent("the message has nothing WhatsApp can show".into()));
        }
        let client = WhatsAppClient::new(self.http.clone(), &settings);
        let mut sent = self.progress.done(o.message.id);
        let reference = o.message.id.to_string();
        for step in steps.into_iter().skip(sent.len()) {
            let result = match self.request(&o, &client, step).await {
                Ok(message) => {
                    let request =
                        SendRequest { to: to.clone(), message, reply_to: None, reference: Some(reference.clone()) };
                    client.send(&request).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(wamid) => sent.push(wamid),
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
    use ferry_core::message::Button;

    fn att(ct: &str) -> Attachment {
        Attachment { url: "stored/1".into(), content_type: ct.into(), filename: Some("f".into()), size: None }
    }

    #[test]
    fn one_picture_takes_the_text_as_caption() {
        let parts =
            vec![ContentPart::Text { text: "look".into() }, ContentPart::Image { attachment: att("image/png") }];
        let steps = plan(&parts, None);
        assert_eq!(steps, vec![Step::Attachment { attachment: att("image/png"), caption: Some("look".into()) }]);
    }

    #[test]
    fn media_go_first_then_text_then_choices() {
        let parts = vec![
            ContentPart::Buttons { text: "Q".into(), buttons: vec![Button { title: "a".into(), payload: "p".into() }] },
            ContentPart::Text { text: "hi".into() },
            ContentPart::Audio { attachment: att("audio/ogg") },
            ContentPart::Image { attachment: att("image/png") },
        ];
        let steps = plan(&parts, Some("de-DE"));
        assert_eq!(steps.len(), 4);
        assert!(matches!(&steps[0], Step::Attachment { caption: None, .. }));
        assert!(matches!(&steps[1], Step::Attachment { caption: None, .. }));
        assert_eq!(steps[2], Step::Send(OutMessage::Text("hi".into())));
        assert!(matches!(&steps[3], Step::Send(OutMessage::Choices { list_label, .. }) if list_label == "Auswählen"));
    }

    #[test]
    fn long_text_is_split() {
        let text = "word ".repeat(2000);
        let pieces = split_text(&text, MAX_TEXT);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= MAX_TEXT && !p.is_empty()));
        assert_eq!(pieces.join(" ").split_whitespace().count(), 2000);
    }
}
