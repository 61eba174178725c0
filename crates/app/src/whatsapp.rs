//! WhatsApp inboxes: the webhook's subscription handshake and signed
//! deliveries (applied through [`crate::updates`]), buyers' media fetched
//! with the inbox's token, the message templates synced from Meta and kept
//! per inbox, template messages filled from variables, and the connection
//! check. Sending goes through the delivery engine with
//! `ferry_channels::whatsapp::WhatsAppOutbound`.

use crate::auth::Actor;
use crate::updates::{BatchOutcome, MediaFetch};
use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use ferry_channels::update::{MediaRef, TemplateChange};
pub use ferry_channels::whatsapp::client::Template;
use ferry_channels::whatsapp::client::{WhatsAppClient, fill};
use ferry_channels::whatsapp::{WhatsAppSettings, webhook};
use ferry_channels::{ChannelError, SendError, WebhookRequest};
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{TemplateButtonValue, TemplateMessage};
use ferry_core::{AccountId, ConversationId, InboxId};

/// The key the inbox's templates are kept under.
const TEMPLATES_KEY: &str = "whatsapp.templates";

/// What an agent fills in to send a template.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    /// The template's name.
    pub name: String,
    /// Its language code.
    pub language: String,
    /// Header parameter values (may hold `{{contact.name}}`-style
    /// variables).
    pub header: Vec<String>,
    /// Body parameter values.
    pub body: Vec<String>,
    /// Button parameter values.
    pub buttons: Vec<TemplateButtonValue>,
}

/// What the connection check found.
#[derive(Debug, Clone)]
pub struct WhatsAppCheck {
    /// The number as Meta shows it, or what failed.
    pub phone: Result<ferry_channels::whatsapp::client::PhoneNumber, String>,
    /// How many templates the account has, when they could be read.
    pub templates: Option<usize>,
}

fn settings_of(inbox: &Inbox) -> AppResult<WhatsAppSettings> {
    WhatsAppSettings::of(inbox)
        .map_err(|e| AppError::invalid("config", e.to_string()))?
        .ok_or_else(|| AppError::invalid("config", "a WhatsApp inbox needs its settings under config.whatsapp"))
}

/// Checks the WhatsApp settings of an inbox being created or changed.
pub(crate) fn check_settings(config: &ferry_core::inbox::InboxConfig) -> AppResult<()> {
    let settings = WhatsAppSettings::from_config(config)
        .map_err(|e| match e {
            ChannelError::Invalid { field, message } => AppError::invalid(field, message),
            other => AppError::invalid("config", other.to_string()),
        })?
        .ok_or_else(|| AppError::invalid("config", "a WhatsApp inbox needs its settings under config.whatsapp"))?;
    if settings.app_secret.is_none() {
        return Err(AppError::invalid("app_secret", "whatsapp.app_secret is required: it signs Meta's webhooks"));
    }
    Ok(())
}

struct WhatsAppMedia<'a> {
    client: &'a WhatsAppClient,
}

#[async_trait]
impl MediaFetch for WhatsAppMedia<'_> {
    async fn fetch(&self, media: &MediaRef) -> Result<(Vec<u8>, String), SendError> {
        let (bytes, content_type) = self.client.fetch_media(&media.media_id).await?;
        Ok((bytes, content_type))
    }
}

impl App {
    async fn whatsapp_inbox(&self, inbox_id: InboxId) -> AppResult<std::sync::Arc<Inbox>> {
        let inbox = self.webhook_inbox(inbox_id).await?;
        if inbox.channel != ChannelKind::Whatsapp {
            return Err(AppError::NotFound("inbox"));
        }
        Ok(inbox)
    }

    /// Meta's subscription handshake: the challenge, echoed when the verify
    /// token is the inbox's.
    pub async fn whatsapp_challenge(
        &self,
        inbox_id: InboxId,
        mode: Option<&str>,
        verify_token: Option<&str>,
        challenge: Option<&str>,
    ) -> AppResult<String> {
        let inbox = self.whatsapp_inbox(inbox_id).await?;
        let settings = settings_of(&inbox)?;
        webhook::verify_challenge(&settings, mode, verify_token, challenge).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Forbidden(m),
            other => AppError::invalid("hub.challenge", other.to_string()),
        })
    }

    /// A signed delivery to a WhatsApp inbox's webhook: verified, parsed
    /// and every update in it committed before it is acknowledged.
    #[tracing::instrument(skip_all, fields(inbox_id = %inbox_id))]
    pub async fn ingest_whatsapp(&self, inbox_id: InboxId, request: &WebhookRequest<'_>) -> AppResult<BatchOutcome> {
        let inbox = self.whatsapp_inbox(inbox_id).await?;
        let settings = settings_of(&inbox)?;
        let secret = settings
            .app_secret
            .as_ref()
            .ok_or(AppError::Unauthorized("the inbox has no app secret to check the signature with"))?;
        webhook::verify_signature(secret.expose(), request).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            other => AppError::invalid("signature", other.to_string()),
        })?;
        let batch = webhook::parse(&inbox, request.body, self.clock.now()).map_err(|e| match e {
            ChannelError::Unauthorized(m) => AppError::Unauthorized(m),
            ChannelError::Malformed(m) => AppError::Malformed(m),
            ChannelError::Invalid { field, message } => AppError::invalid(field, message),
        })?;
        let client = WhatsAppClient::new(self.http.clone(), &settings);
        self.apply_updates(&inbox, batch, &WhatsAppMedia { client: &client }).await
    }

    /// The templates of a WhatsApp inbox as last synced (synced now when
    /// never).
    pub async fn whatsapp_templates(&self, actor: &Actor, account: AccountId, id: InboxId) -> AppResult<Vec<Template>> {
        let inbox = self.get_inbox(actor, account, id).await?;
        if inbox.channel != ChannelKind::Whatsapp {
            return Err(AppError::invalid("inbox_id", "not a WhatsApp inbox"));
        }
        match self.stored_templates(&inbox).await? {
            Some(t) => Ok(t),
            None => self.fetch_templates(&inbox).await,
        }
    }

    /// Fetches the templates of a WhatsApp inbox from Meta and keeps them.
    pub async fn sync_whatsapp_templates(
        &self,
        actor: &Actor,
        account: AccountId,
        id: InboxId,
    ) -> AppResult<Vec<Template>> {
        let inbox = self.get_inbox(actor, account, id).await?;
        if inbox.channel != ChannelKind::Whatsapp {
            return Err(AppError::invalid("inbox_id", "not a WhatsApp inbox"));
        }
        self.fetch_templates(&inbox).await
    }

    async fn stored_templates(&self, inbox: &Inbox) -> AppResult<Option<Vec<Template>>> {
        let Some(v) = self.storage.get_channel_state(inbox.account_id, inbox.id, TEMPLATES_KEY).await? else {
            return Ok(None);
        };
        serde_json::from_value(v).map(Some).map_err(|e| AppError::internal("reading the stored templates", e))
    }

    async fn fetch_templates(&self, inbox: &Inbox) -> AppResult<Vec<Template>> {
        let settings = settings_of(inbox)?;
        let client = WhatsAppClient::new(self.http.clone(), &settings);
        let templates = client.templates(&settings.business_account_id).await.map_err(|e| match e {
            SendError::Permanent(m) => AppError::invalid("config", format!("Meta refused the template list: {m}")),
            other => AppError::Upstream(format!("the template list could not be fetched: {other}")),
        })?;
        let value = serde_json::to_value(&templates).map_err(|e| AppError::internal("storing the template list", e))?;
        self.storage.put_channel_state(inbox.account_id, inbox.id, TEMPLATES_KEY, value, self.clock.now()).await?;
        Ok(templates)
    }

    /// A template's status or quality changed at Meta: the kept list
    /// follows (a template not kept yet is fetched with the next sync).
    pub(crate) async fn template_changed(&self, inbox: &Inbox, change: &TemplateChange) -> AppResult<()> {
        let Some(mut templates) = self.stored_templates(inbox).await? else { return Ok(()) };
        let mut touched = false;
        for t in templates.iter_mut().filter(|t| {
            change.template_id.as_deref().map_or(t.name == change.name, |id| t.id == id)
                && change.language.as_deref().is_none_or(|l| t.language == l)
        }) {
            if let Some(s) = &change.status {
                t.status = s.clone();
            }
            if let Some(q) = &change.quality {
                t.quality = Some(q.clone());
            }
            touched = true;
        }
        tracing::info!(template = %change.name, status = ?change.status, quality = ?change.quality, known = touched,
            "WhatsApp template changed");
        if touched {
            let value =
                serde_json::to_value(&templates).map_err(|e| AppError::internal("storing the template list", e))?;
            self.storage.put_channel_state(inbox.account_id, inbox.id, TEMPLATES_KEY, value, self.clock.now()).await?;
        }
        Ok(())
    }

    /// A template message for `conversation`: the template must be one of
    /// the inbox's approved ones, each parameter given, and the variables
    /// in the values filled from the buyer and their latest order.
    pub async fn template_message(
        &self,
        actor: &Actor,
        account: AccountId,
        conversation: ConversationId,
        input: TemplateInput,
    ) -> AppResult<TemplateMessage> {
        actor.in_account(account)?;
        let conv =
            self.storage.get_conversation(account, conversation).await?.ok_or(AppError::NotFound("conversation"))?;
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        self.template_for(account, &conv, &inbox, input).await
    }

    /// [`App::template_message`] for a conversation already read (and
    /// for Ferry's own senders, which act for no person).
    pub(crate) async fn template_for(
        &self,
        account: AccountId,
        conv: &ferry_core::conversation::Conversation,
        inbox: &Inbox,
        input: TemplateInput,
    ) -> AppResult<TemplateMessage> {
        if inbox.channel != ChannelKind::Whatsapp {
            return Err(AppError::invalid("template", "templates are sent in WhatsApp conversations"));
        }
        let templates = match self.stored_templates(inbox).await? {
            Some(t) => t,
            None => self.fetch_templates(inbox).await?,
        };
        let Some(t) = templates.iter().find(|t| t.name == input.name && t.language == input.language) else {
            return Err(AppError::invalid(
                "template",
                format!("no template {} in {} for this inbox", input.name, input.language),
            ));
        };
        if !t.status.eq_ignore_ascii_case("APPROVED") {
            return Err(AppError::invalid("template", format!("template {} is {}, not approved", t.name, t.status)));
        }
        let vars = self.template_vars(account, conv).await?;
        let render = |values: Vec<String>| -> AppResult<Vec<String>> {
            values
                .into_iter()
                .map(|v| {
                    let out = ferry_bot::render::render_or_raw(&v, &vars);
                    if out.trim().is_empty() || out.contains("{{") {
                        Err(AppError::invalid(
                            "template",
                            format!("the value {v:?} has no value for this buyer; type it in instead"),
                        ))
                    } else {
                        Ok(out)
                    }
                })
                .collect()
        };
        let header = render(input.header)?;
        let body = render(input.body)?;
        let count = |kind: &str| t.component(kind).map_or(0, |c| c.parameters);
        if header.len() != count("HEADER") || body.len() != count("BODY") {
            return Err(AppError::invalid(
                "template",
                format!(
                    "template {} takes {} header and {} body values; {} and {} were given",
                    t.name,
                    count("HEADER"),
                    count("BODY"),
                    header.len(),
                    body.len()
                ),
            ));
        }
        let mut buttons = Vec::new();
        for b in input.buttons {
            let value = render(vec![b.value])?.into_iter().next().unwrap_or_default();
            buttons.push(TemplateButtonValue { value, ..b });
        }
        let mut text = Vec::new();
        if let Some(h) = t.component("HEADER").and_then(|c| c.text.as_deref()) {
            text.push(fill(h, &header));
        }
        if let Some(b) = t.component("BODY").and_then(|c| c.text.as_deref()) {
            text.push(fill(b, &body));
        }
        if let Some(f) = t.component("FOOTER").and_then(|c| c.text.as_deref()) {
            text.push(f.to_owned());
        }
        Ok(TemplateMessage {
            name: t.name.clone(),
            language: t.language.clone(),
            header,
            body,
            buttons,
            text: text.join("\n\n"),
        })
    }

    /// The variables template values may use: the buyer and their latest
    /// order (its number and tracking link).
    async fn template_vars(
        &self,
        account: AccountId,
        conv: &ferry_core::conversation::Conversation,
    ) -> AppResult<serde_json::Value> {
        let contact = self.storage.get_contact(account, conv.contact_id).await?;
        let name = contact.as_ref().map(|c| c.name.clone()).filter(|n| !n.trim().is_empty());
        let mut vars = serde_json::json!({ "contact": { "name": name } });
        if let Some(c) = &contact {
            let query = ferry_storage::OrderQuery {
                emails: c.email.iter().cloned().collect(),
                phones: c.phone.iter().cloned().collect(),
                limit: 1,
                ..Default::default()
            };
            let known = !query.emails.is_empty() || !query.phones.is_empty();
            let latest =
                if known { self.storage.search_orders(account, query).await?.into_iter().next() } else { None };
            if let Some(o) = latest {
                let order = &o.details.order;
                let tracking =
                    o.details.fulfillments.iter().rev().find_map(|f| f.tracking_url.clone()).unwrap_or_default();
                vars["order"] = serde_json::json!({ "number": order.number, "tracking_url": tracking });
            }
        }
        Ok(vars)
    }

    /// Checks a WhatsApp inbox's settings against Meta: the number, then
    /// the template list.
    pub async fn check_whatsapp(&self, inbox: &Inbox) -> AppResult<WhatsAppCheck> {
        let settings = settings_of(inbox)?;
        let client = WhatsAppClient::new(self.http.clone(), &settings);
        let phone = client.phone_number().await.map_err(|e| e.to_string());
        let templates = if phone.is_ok() { self.fetch_templates(inbox).await.ok().map(|t| t.len()) } else { None };
        Ok(WhatsAppCheck { phone, templates })
    }
}

/// The outbound adapter's access to stored attachments.
pub(crate) struct StoredFiles {
    pub(crate) app: std::sync::Arc<App>,
}

#[async_trait]
impl ferry_channels::Files for StoredFiles {
    async fn read(&self, account: AccountId, url: &str) -> Result<(Vec<u8>, String), SendError> {
        let key = url.rsplit('/').next().unwrap_or_default();
        self.app
            .attachments
            .get(account, key)
            .await
            .map_err(|e| SendError::Retryable(e.to_string()))?
            .ok_or_else(|| SendError::Permanent("an attached file is missing".into()))
    }
}

impl App {
    /// Tells the buyer's WhatsApp the shop read the conversation: the
    /// buyer's latest message (and with it every earlier one) shows blue
    /// ticks. Other channels have no read receipts: `false`.
    #[tracing::instrument(skip_all, fields(conversation_id = %conversation))]
    pub async fn mark_read(&self, actor: &Actor, account: AccountId, conversation: ConversationId) -> AppResult<bool> {
        actor.in_account(account)?;
        let conv =
            self.storage.get_conversation(account, conversation).await?.ok_or(AppError::NotFound("conversation"))?;
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        if inbox.channel != ChannelKind::Whatsapp {
            return Ok(false);
        }
        let recent = self.storage.list_messages(account, conversation, None, 50).await?;
        let Some(latest) = recent
            .iter()
            .rev()
            .find(|m| m.kind == ferry_core::message::MessageKind::Incoming)
            .and_then(|m| m.external_id.clone())
        else {
            return Ok(false);
        };
        let settings = settings_of(&inbox)?;
        WhatsAppClient::new(self.http.clone(), &settings)
            .mark_read(&latest)
            .await
            .map_err(|e| AppError::Upstream(format!("WhatsApp did not take the read receipt: {e}")))?;
        Ok(true)
    }

    /// An agent reacts to a message of a conversation (an empty emoji takes
    /// the reaction back). On WhatsApp the reaction is sent to the buyer
    /// first — to the buyer's message or to one Ferry sent — and kept on
    /// the message once WhatsApp took it.
    #[tracing::instrument(skip_all, fields(message_id = %id))]
    pub async fn react(
        &self,
        actor: &Actor,
        account: AccountId,
        id: ferry_core::MessageId,
        emoji: &str,
    ) -> AppResult<ferry_core::message::Message> {
        use ferry_core::message::{MessageChange, MessageKind, Sender};
        actor.in_account(account)?;
        // Another account's message is not found, whatever the emoji.
        let m = self.storage.get_message(account, id).await?.ok_or(AppError::NotFound("message"))?;
        let emoji = emoji.trim();
        if emoji.chars().count() > 8 || emoji.chars().any(|c| c.is_ascii_alphanumeric() || c.is_control()) {
            return Err(AppError::invalid("emoji", "one emoji, or nothing to take the reaction back"));
        }
        if !matches!(m.kind, MessageKind::Incoming | MessageKind::Outgoing) {
            return Err(AppError::invalid("message_id", "only buyers' messages and replies take reactions"));
        }
        let conv = self
            .storage
            .get_conversation(account, m.conversation_id)
            .await?
            .ok_or(AppError::NotFound("conversation"))?;
        let inbox = self.storage.get_inbox(account, conv.inbox_id).await?.ok_or(AppError::NotFound("inbox"))?;
        if inbox.channel == ChannelKind::Whatsapp {
            let target = m
                .external_id
                .clone()
                .ok_or_else(|| AppError::Conflict("the message has not reached WhatsApp yet".into()))?;
            let contact = self.storage.get_contact(account, conv.contact_id).await?;
            let to = contact
                .as_ref()
                .and_then(ferry_channels::whatsapp::outbound::recipient)
                .ok_or_else(|| AppError::Conflict("the buyer has no WhatsApp number".into()))?;
            let settings = settings_of(&inbox)?;
            let request = ferry_channels::whatsapp::client::SendRequest {
                to,
                message: ferry_channels::whatsapp::client::OutMessage::Reaction {
                    message_id: target,
                    emoji: emoji.to_owned(),
                },
                reply_to: None,
                reference: None,
            };
            WhatsAppClient::new(self.http.clone(), &settings).send(&request).await.map_err(|e| match e {
                SendError::Permanent(m) => AppError::invalid("emoji", format!("WhatsApp refused the reaction: {m}")),
                other => AppError::Upstream(format!("WhatsApp did not take the reaction: {other}")),
            })?;
        }
        let change =
            MessageChange::React { emoji: emoji.to_owned(), by: Sender::User(actor.user.id), at: self.clock.now() };
        let changed = self.storage.change_message(account, id, change, self.clock.now()).await?;
        match changed {
            Some(m) => Ok(m),
            None => self.storage.get_message(account, id).await?.ok_or(AppError::NotFound("message")),
        }
    }
}

impl App {
    /// Refuses a template whose category does not fit the message: Meta
    /// requires marketing content in `MARKETING` templates, and Ferry
    /// sends nothing else as marketing.
    pub(crate) async fn check_template_category(
        &self,
        inbox: &Inbox,
        name: &str,
        language: &str,
        category: &str,
    ) -> AppResult<()> {
        let templates = match self.stored_templates(inbox).await? {
            Some(t) => t,
            None => self.fetch_templates(inbox).await?,
        };
        match templates.iter().find(|t| t.name == name && t.language == language) {
            Some(t) if t.category.eq_ignore_ascii_case(category) => Ok(()),
            Some(t) => Err(AppError::invalid(
                "template",
                format!("template {name} is a {} template; this message needs a {category} one", t.category),
            )),
            None => Err(AppError::invalid("template", format!("no template {name} in {language} for this inbox"))),
        }
    }
}
