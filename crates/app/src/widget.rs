//! The web-chat channel: buyers writing from the chat widget on a shop's
//! pages. A visitor holds a random token; Ferry keeps only its SHA-256, as
//! the value of the visitor's `web_visitor` identity in the widget's inbox.
//! Visitors' messages go through [`App::ingest`] like every channel's, so
//! idempotency (a client-generated id per message) and events are intake's.

use crate::auth::{new_secret, secret_hash};
use crate::{App, AppError, AppResult};
use ferry_core::contact::{Contact, Identity, IdentityKind};
use ferry_core::conversation::Conversation;
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{Attachment, ContentPart, Message, MessageKind};
use ferry_core::{ContactId, ConversationId, InboxId};
use ferry_storage::{AssigneeFilter, ContactPatch, ContactQuery, ConversationFilter, IntakeOutcome};

pub use ferry_channels::widget::MAX_TEXT;
/// New visitor sessions per address in ten minutes.
const SESSIONS_PER_ADDRESS: u32 = 20;
/// Messages and uploads per visitor in a minute.
const MESSAGES_PER_VISITOR: u32 = 20;
/// Messages and uploads per address in a minute (visitors behind one
/// address, or one sender rotating tokens).
const MESSAGES_PER_ADDRESS: u32 = 60;
/// Largest file a visitor may upload.
pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;

/// A visitor known by their token.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The widget's inbox.
    pub inbox: Inbox,
    /// SHA-256 of the token: the `web_visitor` identity value.
    pub hash: String,
    /// The contact, once the visitor has written.
    pub contact: Option<Contact>,
}

impl Visitor {
    /// The visitor's identity in the inbox.
    pub fn identity(&self) -> AppResult<Identity> {
        ferry_channels::widget::visitor_identity(&self.inbox, &self.hash)
            .map_err(|e| AppError::internal("the visitor's identity", e))
    }
}

pub use ferry_channels::widget::{AgentCommand, VisitorCommand, VisitorMessage};

fn clean_token(token: &str) -> AppResult<&str> {
    let t = token.trim();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::Unauthorized("invalid visitor token"));
    }
    Ok(t)
}

/// Whether a message is one the visitor sees (never notes or activity).
pub fn visible_to_visitor(m: &Message) -> bool {
    matches!(m.kind, MessageKind::Incoming | MessageKind::Outgoing)
}

impl App {
    /// The web-chat inbox `id`; other channels' inboxes look missing.
    pub async fn widget_inbox(&self, id: InboxId) -> AppResult<Inbox> {
        match self.storage.find_inbox(id).await? {
            Some(i) if i.channel == ChannelKind::WebWidget => Ok(i),
            _ => Err(AppError::NotFound("inbox")),
        }
    }

    /// A new visitor token for a browser at `address`. Nothing is stored
    /// until the visitor writes; an address starting many sessions is
    /// refused for a while.
    pub async fn start_visitor(&self, inbox: InboxId, address: Option<std::net::IpAddr>) -> AppResult<String> {
        self.widget_inbox(inbox).await?;
        if let Some(a) = address {
            let key = format!("widget-session:{a}");
            if !self.limits.allow(&key, SESSIONS_PER_ADDRESS, chrono::Duration::minutes(10), self.clock.now()) {
                return Err(AppError::RateLimited("too many new chats from this address; try again in a few minutes"));
            }
        }
        Ok(new_secret())
    }

    /// Counts a message or upload of `v` from `address`: refused when the
    /// visitor or the address sends too fast.
    pub fn visitor_may_send(&self, v: &Visitor, address: Option<std::net::IpAddr>) -> AppResult<()> {
        let now = self.clock.now();
        let minute = chrono::Duration::minutes(1);
        let by_visitor = format!("widget-send:{}", v.hash);
        let by_address = address.map(|a| format!("widget-send-address:{a}"));
        let over = !self.limits.allow(&by_visitor, MESSAGES_PER_VISITOR, minute, now)
            || by_address.is_some_and(|k| !self.limits.allow(&k, MESSAGES_PER_ADDRESS, minute, now));
        if over {
            return Err(AppError::RateLimited("you are sending messages too fast; wait a moment and try again"));
        }
        Ok(())
    }

    /// The visitor holding `token` in `inbox`.
    pub async fn visitor(&self, inbox: InboxId, token: &str) -> AppResult<Visitor> {
        self.visitor_by_hash(inbox, &secret_hash(clean_token(token)?)).await
    }

    /// The visitor whose token hashes to `hash`, with their contact as it
    /// is now.
    pub async fn visitor_by_hash(&self, inbox: InboxId, hash: &str) -> AppResult<Visitor> {
        let inbox = self.widget_inbox(inbox).await?;
        let contact = self.visitor_contact(&inbox, hash).await?;
        Ok(Visitor { inbox, hash: hash.to_owned(), contact })
    }

    async fn visitor_contact(&self, inbox: &Inbox, hash: &str) -> AppResult<Option<Contact>> {
        let found = self
            .storage
            .search_contacts(inbox.account_id, ContactQuery { q: Some(hash.to_owned()), limit: 5, before: None })
            .await?;
        Ok(found.into_iter().find(|c| {
            c.identities
                .iter()
                .any(|i| i.kind == IdentityKind::WebVisitor && i.value == hash && i.inbox_id == Some(inbox.id))
        }))
    }

    /// Commits a visitor's message through intake.
    #[tracing::instrument(skip_all, fields(inbox_id = %v.inbox.id))]
    pub async fn visitor_post(&self, v: &Visitor, m: VisitorMessage) -> AppResult<IntakeOutcome> {
        let inbound = ferry_channels::widget::visitor_inbound(&v.inbox, &v.hash, m, self.clock.now())
            .map_err(crate::intake::channel_error)?;
        self.ingest(&v.inbox, inbound).await
    }

    /// Stores a visitor's file and posts it as a message.
    pub async fn visitor_upload(
        &self,
        v: &Visitor,
        client_id: &str,
        bytes: Vec<u8>,
        content_type: &str,
        filename: Option<String>,
    ) -> AppResult<IntakeOutcome> {
        if bytes.is_empty() {
            return Err(AppError::invalid("file", "the file is empty"));
        }
        if bytes.len() > MAX_UPLOAD {
            return Err(AppError::TooLarge(MAX_UPLOAD));
        }
        let ct = content_type.trim().to_ascii_lowercase();
        if !ct.contains('/') || ct.len() > 127 {
            return Err(AppError::invalid("content_type", "send the file's MIME type as Content-Type"));
        }
        let size = bytes.len() as u64;
        let (key, ct) = self.store_file(v.inbox.account_id, bytes, &ct, ferry_core::filetype::Intake::Upload).await?;
        let filename =
            filename.map(|f| f.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(255).collect());
        let attachment = Attachment {
            url: format!("/api/v1/accounts/{}/attachments/{key}", v.inbox.account_id),
            content_type: ct,
            filename,
            size: Some(size),
        };
        self.visitor_post(
            v,
            VisitorMessage {
                client_id: client_id.to_owned(),
                parts: vec![attachment.into_part()],
                ..Default::default()
            },
        )
        .await
    }

    /// The visitor's conversations in the widget's inbox, newest first.
    pub async fn visitor_conversations(&self, v: &Visitor) -> AppResult<Vec<Conversation>> {
        let Some(c) = &v.contact else { return Ok(Vec::new()) };
        let filter = ConversationFilter {
            inbox_id: Some(v.inbox.id),
            contact_id: Some(c.id),
            assignee: AssigneeFilter::Any,
            ..ConversationFilter::default()
        };
        Ok(self.storage.list_conversations(v.inbox.account_id, &filter, None, 10).await?.items)
    }

    /// What the visitor sees: their messages and the replies of their
    /// conversations in this inbox, oldest first (never notes or activity).
    pub async fn visitor_messages(&self, v: &Visitor) -> AppResult<Vec<Message>> {
        let mut out = Vec::new();
        for c in self.visitor_conversations(v).await?.into_iter().rev() {
            let list = self.storage.list_messages(v.inbox.account_id, c.id, None, 200).await?;
            out.extend(list.into_iter().filter(visible_to_visitor));
        }
        Ok(out)
    }

    /// Whether `key` is a file of a message the visitor can see.
    pub async fn visitor_owns_attachment(&self, v: &Visitor, key: &str) -> AppResult<bool> {
        let suffix = format!("/attachments/{key}");
        Ok(self.visitor_messages(v).await?.iter().any(|m| {
            m.parts.iter().any(|p| match p {
                ContentPart::Image { attachment }
                | ContentPart::File { attachment }
                | ContentPart::Audio { attachment } => attachment.url.ends_with(&suffix),
                _ => false,
            })
        }))
    }

    /// Adds the e-mail a visitor left so agents can answer later.
    pub async fn visitor_leave_email(&self, v: &Visitor, email: &str) -> AppResult<Contact> {
        let contact = v.contact.as_ref().ok_or_else(|| AppError::invalid("email", "send a message first"))?;
        let identity =
            Identity::new(IdentityKind::Email, email, None).map_err(|e| AppError::invalid("email", e.to_string()))?;
        if contact.identities.contains(&identity) {
            return Ok(contact.clone());
        }
        let patch = ContactPatch { add_identities: vec![identity], ..ContactPatch::default() };
        self.storage.update_contact(v.inbox.account_id, contact.id, patch, self.clock.now()).await.map_err(
            |e| match e {
                ferry_storage::StorageError::Conflict { .. } => {
                    AppError::Conflict("this e-mail already belongs to another contact".into())
                }
                other => other.into(),
            },
        )
    }

    /// What the inbox's shop sells, for its demo page: each active
    /// product's title and lowest price, from the shop mirror.
    pub async fn widget_catalogue(&self, inbox: &Inbox) -> AppResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        for conn in self.storage.list_shop_connections(inbox.account_id).await? {
            for p in self.storage.list_products(inbox.account_id, conn.id).await? {
                if p.status != "active" {
                    continue;
                }
                let price = p
                    .variants
                    .iter()
                    .filter_map(|v| v.price.parse::<f64>().ok().map(|n| (n, v.price.clone())))
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, p)| p)
                    .unwrap_or_default();
                out.push((p.title, price));
            }
        }
        Ok(out)
    }

    /// The contact of a conversation (for routing events to visitors).
    pub async fn conversation_contact(
        &self,
        account: ferry_core::AccountId,
        id: ConversationId,
    ) -> AppResult<Option<ContactId>> {
        Ok(self.storage.get_conversation(account, id).await?.map(|c| c.contact_id))
    }
}
