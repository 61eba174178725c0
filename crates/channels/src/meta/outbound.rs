//! The outbound side of Messenger and Instagram inboxes: one Ferry message
//! becomes one or more Send API requests, in this order: each attachment
//! (uploaded first, then sent by its id), the text (in pieces of at most
//! 2,000 characters on Messenger, 1,000 on Instagram; a location becomes a
//! map link), then each question with its buttons: Messenger's button
//! template for up to three short buttons, quick replies for up to
//! thirteen, a numbered list beyond. The message's external id is that of
//! the last piece.
//!
//! Every request says why it may be sent: `RESPONSE` within 24 hours of
//! the buyer's last message; after that, for a person's reply on a page
//! with the Human Agent permission, `MESSAGE_TAG` with `HUMAN_AGENT` up to
//! 7 days. Anything else is refused here, before Meta refuses it (the
//! compliance gate already stops such messages from being queued).

use super::client::{MetaClient, attachment_type};
use super::settings::MetaSettings;
use super::webhook::METADATA_PREFIX;
use crate::whatsapp::client::numbered;
use crate::whatsapp::outbound::split_text;
use crate::{Files, Outbound, Outgoing, PartialSends, SendError, SendResult, Sent};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::compliance::channels::{HUMAN_AGENT_WINDOW, STANDARD_WINDOW};
use ferry_core::contact::{Contact, IdentityKind};
use ferry_core::inbox::ChannelKind;
use ferry_core::message::{Attachment, Button, ContentPart, Sender};
use ferry_core::{InboxId, MessageId};
use serde_json::{Value, json};
use std::sync::Arc;

/// Longest text of one Messenger message, in characters.
pub const MESSENGER_MAX_TEXT: usize = 2000;
/// Longest text of one Instagram message (1,000 bytes; counted safely).
pub const INSTAGRAM_MAX_TEXT: usize = 1000;
/// Most buttons of a button template.
pub const MAX_TEMPLATE_BUTTONS: usize = 3;
/// Longest text of a button template.
pub const MAX_TEMPLATE_TEXT: usize = 640;
/// Most quick replies.
pub const MAX_QUICK_REPLIES: usize = 13;
/// Longest title of a button or quick reply.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Longest payload of a button or quick reply.
pub const MAX_PAYLOAD: usize = 1000;

/// Why a message may be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Within 24 hours of the buyer's last message.
    Response,
    /// A person's reply within 7 days, with the `HUMAN_AGENT` tag.
    HumanAgent,
}

/// Whether a message by `sender` may go to a buyer who last wrote at
/// `last_buyer_message_at`, and how; `Err` with why not.
pub fn permission(
    settings: &MetaSettings,
    sender: &Sender,
    last_buyer_message_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Permission, String> {
    let name = settings.name();
    let Some(last) = last_buyer_message_at else {
        return Err(format!("the buyer has never written on {name}: a page may only answer"));
    };
    let elapsed = now - last;
    if elapsed <= STANDARD_WINDOW {
        return Ok(Permission::Response);
    }
    let person = matches!(sender, Sender::User(_));
    if person && settings.human_agent && elapsed <= HUMAN_AGENT_WINDOW {
        return Ok(Permission::HumanAgent);
    }
    Err(if person && !settings.human_agent && elapsed <= HUMAN_AGENT_WINDOW {
        format!(
            "the buyer last wrote {} hours ago; {name} allows answers within 24 hours, or 7 days with the human \
             agent tag, which this page is not set up for",
            elapsed.num_hours()
        )
    } else {
        format!("the buyer last wrote {} hours ago, outside {name}'s reply window", elapsed.num_hours())
    })
}

/// One request of a message's plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A stored file to upload and send.
    File(Attachment),
    /// The `message` object of a Send API request.
    Message(Value),
}

fn title(t: &str) -> String {
    t.chars().take(MAX_BUTTON_TITLE).collect()
}

fn payload(p: &str) -> String {
    let mut p = p.to_owned();
    while p.len() > MAX_PAYLOAD {
        p.pop();
    }
    p
}

/// The `message` of a question with `buttons` on `channel`.
pub fn question(channel: ChannelKind, text: &str, buttons: &[Button]) -> Value {
    let text = text.trim();
    let short = buttons.iter().all(|b| b.title.chars().count() <= MAX_BUTTON_TITLE);
    if channel == ChannelKind::Messenger
        && buttons.len() <= MAX_TEMPLATE_BUTTONS
        && short
        && !text.is_empty()
        && text.chars().count() <= MAX_TEMPLATE_TEXT
    {
        let buttons: Vec<Value> = buttons
            .iter()
            .map(|b| json!({"type": "postback", "title": b.title, "payload": payload(&b.payload)}))
            .collect();
        return json!({"attachment": {"type": "template",
            "payload": {"template_type": "button", "text": text, "buttons": buttons}}});
    }
    if buttons.len() <= MAX_QUICK_REPLIES {
        let quick: Vec<Value> = buttons
            .iter()
            .map(|b| json!({"content_type": "text", "title": title(&b.title), "payload": payload(&b.payload)}))
            .collect();
        let text = if text.is_empty() { "…" } else { text };
        return json!({"text": text, "quick_replies": quick});
    }
    json!({"text": numbered(text, buttons)})
}

/// The requests `parts` become on `channel`, in the order they are sent.
pub fn plan(channel: ChannelKind, parts: &[ContentPart]) -> Vec<Step> {
    let max = if channel == ChannelKind::Instagram { INSTAGRAM_MAX_TEXT } else { MESSENGER_MAX_TEXT };
    let mut files = Vec::new();
    let mut texts = Vec::new();
    let mut questions = Vec::new();
    for p in parts {
        match p {
            ContentPart::Text { text } if !text.trim().is_empty() => texts.push(text.trim().to_owned()),
            ContentPart::Image { attachment }
            | ContentPart::File { attachment }
            | ContentPart::Audio { attachment } => files.push(Step::File(attachment.clone())),
            ContentPart::Location { latitude, longitude, name } => {
                let link = format!("https://maps.google.com/?q={latitude},{longitude}");
                texts.push(match name.as_deref().filter(|n| !n.trim().is_empty()) {
                    Some(n) => format!("{n}\n{link}"),
                    None => link,
                });
            }
            ContentPart::Buttons { text, buttons } => questions.push(Step::Message(question(channel, text, buttons))),
            ContentPart::Template { template } => texts.push(template.text.clone()),
            ContentPart::Survey { survey } => texts.push(survey.as_text()),
            ContentPart::Text { .. } | ContentPart::Email { .. } => {}
        }
    }
    let mut steps = files;
    steps.extend(split_text(&texts.join("\n\n"), max).into_iter().map(|t| Step::Message(json!({"text": t}))));
    steps.extend(questions);
    steps
}

/// The buyer's id on the page of `inbox` (page-scoped or
/// Instagram-scoped).
pub fn recipient(contact: &Contact, channel: ChannelKind, inbox: InboxId) -> Option<String> {
    let kind = if channel == ChannelKind::Instagram { IdentityKind::Instagram } else { IdentityKind::Messenger };
    contact
        .identities
        .iter()
        .find(|i| i.kind == kind && i.inbox_id.is_none_or(|id| id == inbox))
        .map(|i| i.value.clone())
        .filter(|v| !v.is_empty())
}

/// The whole Send API request of one step's `message`.
pub fn request(
    channel: ChannelKind,
    to: &str,
    permission: Permission,
    mut message: Value,
    ferry_id: MessageId,
) -> Value {
    if channel == ChannelKind::Messenger {
        // Echoed back, so the echo is known as Ferry's own.
        message["metadata"] = json!(format!("{METADATA_PREFIX}{}", ferry_id.0));
    }
    let mut body = json!({"recipient": {"id": to}, "message": message});
    match permission {
        Permission::Response => body["messaging_type"] = json!("RESPONSE"),
        Permission::HumanAgent => {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        }
    }
    body
}

/// Sends the messages of Messenger and Instagram inboxes.
pub struct MetaOutbound {
    http: reqwest::Client,
    files: Arc<dyn Files>,
    /// Ids of the pieces already sent of messages that failed part-way.
    progress: PartialSends,
}

impl MetaOutbound {
    /// Sends with `http`, reading attachments from `files`.
    pub fn new(http: reqwest::Client, files: Arc<dyn Files>) -> Self {
        Self { http, files, progress: PartialSends::default() }
    }
}

#[async_trait]
impl Outbound for MetaOutbound {
    fn default_rate(&self, _inbox: &ferry_core::inbox::Inbox) -> Option<f64> {
        // Well under the Send API's per-page limits.
        Some(40.0)
    }

    async fn send(&self, o: Outgoing<'_>) -> SendResult {
        let settings = MetaSettings::of(o.inbox)
            .map_err(|e| SendError::Permanent(format!("the inbox's settings are wrong: {e}")))?
            .ok_or_else(|| SendError::Permanent("the inbox has no Messenger or Instagram settings".into()))?;
        let channel = settings.channel;
        let to = o.contact.and_then(|c| recipient(c, channel, o.inbox.id)).ok_or_else(|| {
            SendError::Permanent(format!("the buyer has no {} conversation with this page", settings.name()))
        })?;
        let permission = permission(&settings, &o.message.sender, o.conversation.last_buyer_message_at, Utc::now())
            .map_err(SendError::Permanent)?;
        let steps = plan(channel, &o.message.parts);
        if steps.is_empty() {
            return Err(SendError::Permanent(format!("the message has nothing {} can show", settings.name())));
        }
        let client = MetaClient::new(self.http.clone(), &settings);
        let mut sent = self.progress.done(o.message.id);
        for step in steps.into_iter().skip(sent.len()) {
            let message = match step {
                Step::Message(m) => Ok(m),
                Step::File(attachment) => match self.files.read(o.message.account_id, &attachment.url).await {
                    Ok((bytes, content_type)) => {
                        client.upload(bytes, &content_type, attachment.filename.as_deref()).await.map(|id| {
                            json!({"attachment": {"type": attachment_type(&content_type),
                                "payload": {"attachment_id": id}}})
                        })
                    }
                    Err(e) => Err(e),
                },
            };
            let result = match message {
                Ok(m) => client.send(&request(channel, &to, permission, m, o.message.id)).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(mid) => sent.push(mid),
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
    use chrono::Duration;
    use ferry_core::inbox::InboxConfig;

    fn settings(channel: ChannelKind, human_agent: bool) -> MetaSettings {
        let mut c = InboxConfig::default();
        let mut s = json!({"page_id": "1", "access_token": "t", "app_secret": "s",
            "verify_token": "verify-token-0123456789", "human_agent": human_agent});
        if channel == ChannelKind::Instagram {
            s["instagram_account_id"] = json!("2");
        }
        c.extra.insert(super::super::settings::section(channel).into(), s);
        MetaSettings::from_config(channel, &c).unwrap().unwrap()
    }

    fn b(n: usize) -> Vec<Button> {
        (0..n).map(|i| Button { title: format!("Option {i}"), payload: format!("p{i}") }).collect()
    }

    #[test]
    fn buttons_become_a_template_quick_replies_or_a_list() {
        let t = question(ChannelKind::Messenger, "Pick one", &b(3));
        assert_eq!(t["attachment"]["payload"]["template_type"], "button");
        assert_eq!(t["attachment"]["payload"]["buttons"][2]["payload"], "p2");
        let q = question(ChannelKind::Instagram, "Pick one", &b(3));
        assert_eq!(q["quick_replies"].as_array().unwrap().len(), 3);
        let q = question(ChannelKind::Messenger, "Pick one", &b(5));
        assert_eq!(q["quick_replies"][4]["title"], "Option 4");
        let l = question(ChannelKind::Messenger, "Pick one", &b(14));
        assert!(l["text"].as_str().unwrap().contains("14."), "{l}");
    }

    #[test]
    fn plans_files_first_and_splits_instagram_text() {
        let att = Attachment { url: "a/1".into(), content_type: "image/png".into(), filename: None, size: None };
        let long = "word ".repeat(300);
        let steps = plan(
            ChannelKind::Instagram,
            &[ContentPart::Text { text: long }, ContentPart::Image { attachment: att.clone() }],
        );
        assert_eq!(steps[0], Step::File(att));
        assert_eq!(steps.len(), 3);
        assert!(steps[1..].iter().all(
            |s| matches!(s, Step::Message(m) if m["text"].as_str().unwrap().chars().count() <= INSTAGRAM_MAX_TEXT)
        ));
    }

    #[test]
    fn the_window_and_the_human_agent_tag() {
        let now = Utc::now();
        let agent = Sender::User(ferry_core::UserId(1));
        let m = settings(ChannelKind::Messenger, false);
        let tagged = settings(ChannelKind::Messenger, true);
        assert_eq!(permission(&m, &Sender::Bot, Some(now - Duration::hours(23)), now), Ok(Permission::Response));
        assert!(permission(&m, &agent, Some(now - Duration::hours(30)), now).unwrap_err().contains("human agent"));
        assert_eq!(permission(&tagged, &agent, Some(now - Duration::days(6)), now), Ok(Permission::HumanAgent));
        assert!(permission(&tagged, &Sender::Bot, Some(now - Duration::days(2)), now).is_err());
        assert!(permission(&tagged, &agent, Some(now - Duration::days(8)), now).is_err());
        assert!(permission(&m, &agent, None, now).is_err());
        let body = request(ChannelKind::Messenger, "42", Permission::HumanAgent, json!({"text": "hi"}), MessageId(9));
        assert_eq!((body["messaging_type"].as_str(), body["tag"].as_str()), (Some("MESSAGE_TAG"), Some("HUMAN_AGENT")));
        assert_eq!(body["message"]["metadata"], "ferry:9");
        let body = request(ChannelKind::Instagram, "42", Permission::Response, json!({"text": "hi"}), MessageId(9));
        assert_eq!(body["messaging_type"], "RESPONSE");
        assert!(body["message"].get("metadata").is_none());
    }
}
