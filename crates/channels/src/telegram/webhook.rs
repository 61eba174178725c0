//! Telegram's webhook deliveries, as pure functions: the check of the
//! `X-Telegram-Bot-Api-Secret-Token` header against the inbox's secret
//! token, and the reading of one `Update` object into channel-neutral
//! updates: buyers' messages of every kind in private chats (text,
//! photos, documents, videos, audio, voice, stickers, locations, venues,
//! contacts), the presses of inline-keyboard buttons (callback queries),
//! edits, business messages and their deletion. Anything else (group
//! chats, inline queries, member changes, payments…) is acknowledged as
//! [`Update::Ignored`] with why; one odd update never fails the delivery
//! (Telegram would send it again and again).
//!
//! Telegram numbers messages per chat, so a message's external id is
//! `{chat id}:{message id}`; a button press is `callback:{query id}`. A
//! re-delivered update has the same ids and is stored once.

use super::settings::TelegramSettings;
use crate::update::{Batch, Edit, IncomingMessage, MediaRef, Update};
use crate::{ChannelError, WebhookRequest};
use chrono::{DateTime, Duration, Utc};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::Inbox;
use ferry_core::message::{Attachment, ContentPart};
use serde_json::Value;
use subtle::ConstantTimeEq;

/// The header carrying the inbox's secret token.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The URL scheme of the placeholder attachments standing for files still
/// held by Telegram: `telegram-file:{file id}`.
pub const FILE_SCHEME: &str = "telegram-file:";

/// How far ahead of our clock a sender's timestamp may be before it is
/// taken as ours.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// One webhook delivery, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Telegram's `update_id`.
    pub update_id: i64,
    /// What it carried (one update, or one ignored with why).
    pub batch: Batch,
    /// The id of the button press to answer (`answerCallbackQuery`), so
    /// the buyer's app stops showing the button as busy.
    pub callback_query_id: Option<String>,
}

/// Checks `X-Telegram-Bot-Api-Secret-Token` against the inbox's secret
/// token, in constant time.
pub fn verify_secret(settings: &TelegramSettings, request: &WebhookRequest<'_>) -> Result<(), ChannelError> {
    let expected = settings.secret_token.expose().as_bytes();
    if expected.is_empty() {
        return Err(ChannelError::Unauthorized("the inbox has no secret token to check deliveries with"));
    }
    let given = request
        .header(SECRET_HEADER)
        .ok_or(ChannelError::Unauthorized("missing X-Telegram-Bot-Api-Secret-Token header"))?;
    if bool::from(expected.ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(ChannelError::Unauthorized("X-Telegram-Bot-Api-Secret-Token does not match the inbox's secret token"))
    }
}

fn ignored(what: impl Into<String>, reason: impl Into<String>) -> Update {
    Update::Ignored { what: what.into(), reason: reason.into() }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Update fields that never concern a conversation with one buyer.
const NOT_CONVERSATIONS: &[(&str, &str)] = &[
    ("channel_post", "posts of channels are not buyers' messages"),
    ("edited_channel_post", "posts of channels are not buyers' messages"),
    ("inline_query", "inline queries are answered by inline bots, not by people"),
    ("chosen_inline_result", "inline results are not messages"),
    ("shipping_query", "payments are not handled in conversations"),
    ("pre_checkout_query", "payments are not handled in conversations"),
    ("purchased_paid_media", "payments are not handled in conversations"),
    ("poll", "a poll's state is not a message"),
    ("poll_answer", "poll answers are not messages"),
    ("my_chat_member", "the bot's membership changed"),
    ("chat_member", "a chat's membership changed"),
    ("chat_join_request", "join requests are for groups"),
    ("chat_boost", "chat boosts are not messages"),
    ("removed_chat_boost", "chat boosts are not messages"),
    ("message_reaction", "reactions in groups are not kept"),
    ("message_reaction_count", "reaction counts are not kept"),
    ("business_connection", "a business connection changed"),
];

/// Reads one delivery to `inbox`. `now` bounds the senders' timestamps.
/// Errors only when the body is not a Telegram update.
pub fn parse(inbox: &Inbox, body: &[u8], now: DateTime<Utc>) -> Result<Delivery, ChannelError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("invalid JSON body: {e}")))?;
    let update_id = root
        .get("update_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| ChannelError::Malformed("the body is not a Telegram update: no update_id".into()))?;
    let ctx = Ctx { inbox, now };
    let mut callback_query_id = None;
    let update = if let Some(m) = root.get("message").or_else(|| root.get("business_message")) {
        ctx.message(m)
    } else if let Some(m) = root.get("edited_message").or_else(|| root.get("edited_business_message")) {
        ctx.edit(m)
    } else if let Some(q) = root.get("callback_query") {
        callback_query_id = non_empty(str_of(q, "id"));
        ctx.callback(q)
    } else if let Some(d) = root.get("deleted_business_messages") {
        return Ok(Delivery { update_id, batch: ctx.deleted(d), callback_query_id });
    } else if let Some((key, why)) = NOT_CONVERSATIONS.iter().find(|(k, _)| root.get(*k).is_some()) {
        ignored(*key, *why)
    } else {
        let key = root.as_object().and_then(|o| o.keys().find(|k| *k != "update_id").cloned());
        match key {
            Some(k) => ignored(k.clone(), format!("`{k}` updates are not conversation events")),
            None => ignored("update", "an update without content"),
        }
    };
    Ok(Delivery { update_id, batch: Batch { updates: vec![update] }, callback_query_id })
}

struct Ctx<'a> {
    inbox: &'a Inbox,
    now: DateTime<Utc>,
}

/// The external id of message `message_id` in chat `chat_id`.
pub fn external_id(chat_id: i64, message_id: i64) -> String {
    format!("{chat_id}:{message_id}")
}

fn chat_of(m: &Value) -> Option<(i64, &str)> {
    let chat = m.get("chat")?;
    Some((chat.get("id")?.as_i64()?, str_of(chat, "type").unwrap_or_default()))
}

impl Ctx<'_> {
    fn time(&self, secs: Option<i64>) -> DateTime<Utc> {
        match secs.filter(|s| *s > 0).and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)) {
            Some(t) if t <= self.now + CLOCK_SKEW => t,
            _ => self.now,
        }
    }

    /// The buyer of a private chat, from a message's or query's `from`.
    fn sender(&self, from: Option<&Value>) -> Result<InboundSender, String> {
        let Some(from) = from else { return Err("it has no sender".into()) };
        if from.get("is_bot").and_then(Value::as_bool) == Some(true) {
            return Err("it comes from a bot".into());
        }
        let Some(id) = from.get("id").and_then(Value::as_i64) else { return Err("its sender has no id".into()) };
        let identity = Identity::new(IdentityKind::Telegram, &id.to_string(), Some(self.inbox.id))
            .map_err(|e| format!("its sender is not a Telegram user: {e}"))?;
        let name = [str_of(from, "first_name"), str_of(from, "last_name")]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let name = non_empty(Some(&name)).or_else(|| non_empty(str_of(from, "username")).map(|u| format!("@{u}")));
        Ok(InboundSender {
            identity,
            extra_identities: Vec::new(),
            name: name.map(|n| n.chars().filter(|c| !c.is_control()).take(255).collect()),
            language: non_empty(str_of(from, "language_code")).filter(|l| l.len() <= 35),
        })
    }

    fn message(&self, m: &Value) -> Update {
        let Some((chat_id, chat_type)) = chat_of(m) else { return ignored("message", "a message without its chat") };
        if chat_type != "private" {
            return ignored("message", format!("a message in a {chat_type} chat; Ferry talks with buyers one to one"));
        }
        let Some(message_id) = m.get("message_id").and_then(Value::as_i64) else {
            return ignored("message", "a message without an id");
        };
        let sender = match self.sender(m.get("from")) {
            Ok(s) => s,
            Err(why) => return ignored("message", format!("a message not kept: {why}")),
        };
        let content = match content(m) {
            Ok(c) => c,
            Err(why) => return ignored("message", why),
        };
        let reply_to = m
            .get("reply_to_message")
            .and_then(|r| r.get("message_id"))
            .and_then(Value::as_i64)
            .map(|id| external_id(chat_id, id));
        let inbound = Inbound {
            account_id: self.inbox.account_id,
            inbox_id: self.inbox.id,
            external_id: external_id(chat_id, message_id),
            sender,
            parts: content.parts,
            sent_at: self.time(m.get("date").and_then(Value::as_i64)),
            meta: Default::default(),
        };
        Update::Message(Box::new(IncomingMessage {
            inbound,
            uploads: Vec::new(),
            media: content.media,
            reply_to,
            activity: content.activity,
            referral: None,
            button_payload: None,
        }))
    }

    fn edit(&self, m: &Value) -> Update {
        let (Some((chat_id, chat_type)), Some(message_id)) = (chat_of(m), m.get("message_id").and_then(Value::as_i64))
        else {
            return ignored("edited_message", "an edit without its chat or message id");
        };
        if chat_type != "private" {
            return ignored("edited_message", format!("an edit in a {chat_type} chat"));
        }
        let content = match content(m) {
            Ok(c) => c,
            Err(why) => return ignored("edited_message", why),
        };
        let at = self.time(m.get("edit_date").and_then(Value::as_i64).or_else(|| m.get("date")?.as_i64()));
        Update::Edited(Edit {
            external_id: external_id(chat_id, message_id),
            parts: content.parts,
            media: content.media,
            at,
        })
    }

    fn callback(&self, q: &Value) -> Update {
        let Some(id) = non_empty(str_of(q, "id")) else { return ignored("callback_query", "a press without an id") };
        let Some(data) = non_empty(str_of(q, "data")) else {
            return ignored("callback_query", "a press of a game button, not of one of Ferry's buttons");
        };
        let sender = match self.sender(q.get("from")) {
            Ok(s) => s,
            Err(why) => return ignored("callback_query", format!("a press not kept: {why}")),
        };
        let message = q.get("message").filter(|m| !m.is_null());
        if let Some((_, chat_type)) = message.and_then(chat_of)
            && chat_type != "private"
        {
            return ignored("callback_query", format!("a press in a {chat_type} chat"));
        }
        // The title of the pressed button, from the keyboard it was on.
        let title = message
            .and_then(|m| m.get("reply_markup"))
            .and_then(|k| k.get("inline_keyboard"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .find(|b| str_of(b, "callback_data") == Some(data.as_str()))
            .and_then(|b| non_empty(str_of(b, "text")));
        let reply_to = message.and_then(|m| {
            let (chat, _) = chat_of(m)?;
            Some(external_id(chat, m.get("message_id")?.as_i64()?))
        });
        let inbound = Inbound {
            account_id: self.inbox.account_id,
            inbox_id: self.inbox.id,
            external_id: format!("callback:{id}"),
            sender,
            parts: vec![ContentPart::Text { text: title.unwrap_or_else(|| data.clone()) }],
            sent_at: self.now,
            meta: Default::default(),
        };
        Update::Message(Box::new(IncomingMessage {
            inbound,
            uploads: Vec::new(),
            media: Vec::new(),
            reply_to,
            activity: false,
            referral: None,
            button_payload: Some(data),
        }))
    }

    fn deleted(&self, d: &Value) -> Batch {
        let Some((chat_id, _)) = chat_of(d) else {
            return Batch { updates: vec![ignored("deleted_business_messages", "a deletion without its chat")] };
        };
        let updates: Vec<Update> = d
            .get("message_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .map(|id| Update::Deleted { external_id: external_id(chat_id, id), at: self.now })
            .collect();
        if updates.is_empty() {
            return Batch { updates: vec![ignored("deleted_business_messages", "a deletion of no message")] };
        }
        Batch { updates }
    }
}

/// What a message says.
#[derive(Default)]
struct Content {
    parts: Vec<ContentPart>,
    media: Vec<MediaRef>,
    activity: bool,
}

impl Content {
    fn text(&mut self, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            self.parts.push(ContentPart::Text { text: t.to_owned() });
        }
    }

    fn file(&mut self, kind: &str, body: &Value, default_type: &str, filename: Option<String>) {
        let Some(file_id) = non_empty(str_of(body, "file_id")) else {
            self.activity = true;
            self.parts.push(ContentPart::Text { text: format!("The buyer sent a {kind} Telegram gave no file for.") });
            return;
        };
        let content_type = non_empty(str_of(body, "mime_type")).unwrap_or_else(|| default_type.to_owned());
        let filename = filename
            .or_else(|| non_empty(str_of(body, "file_name")))
            .map(|f| f.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(255).collect::<String>());
        let attachment = Attachment {
            url: format!("{FILE_SCHEME}{file_id}"),
            content_type: content_type.clone(),
            filename: filename.clone(),
            size: body.get("file_size").and_then(Value::as_u64),
        };
        self.media.push(MediaRef {
            part: self.parts.len(),
            media_id: file_id,
            url: None,
            content_type: content_type.clone(),
            filename,
            sha256: None,
        });
        self.parts.push(if content_type.starts_with("image/") {
            ContentPart::Image { attachment }
        } else if content_type.starts_with("audio/") {
            ContentPart::Audio { attachment }
        } else {
            ContentPart::File { attachment }
        });
    }
}

/// Kinds of message a buyer may send that Ferry cannot show, as an
/// activity line.
const UNSHOWABLE: &[(&str, &str)] = &[
    ("poll", "a poll"),
    ("dice", "a dice roll"),
    ("game", "a game"),
    ("story", "a story"),
    ("invoice", "an invoice"),
    ("checklist", "a checklist"),
    ("giveaway", "a giveaway"),
    ("paid_media", "paid media"),
    ("passport_data", "Telegram Passport data"),
    ("web_app_data", "data from a web app"),
];

/// The parts of a message; `Err` with why when it carries nothing for a
/// conversation (a service message: members, titles, pins…).
fn content(m: &Value) -> Result<Content, String> {
    let mut c = Content::default();
    if let Some(sizes) = m.get("photo").and_then(Value::as_array) {
        // The largest size is the last.
        match sizes.iter().max_by_key(|s| s.get("width").and_then(Value::as_u64).unwrap_or(0)) {
            Some(best) => c.file("photo", best, "image/jpeg", None),
            None => c.file("photo", &Value::Null, "image/jpeg", None),
        }
    } else if let Some(s) = m.get("sticker") {
        let ct = if s.get("is_animated").and_then(Value::as_bool) == Some(true) {
            "application/x-tgsticker"
        } else if s.get("is_video").and_then(Value::as_bool) == Some(true) {
            "video/webm"
        } else {
            "image/webp"
        };
        c.file("sticker", s, ct, None);
        if let Some(emoji) = non_empty(str_of(s, "emoji")) {
            c.parts.push(ContentPart::Text { text: format!("Sticker {emoji}") });
        }
    } else if let Some(d) = m.get("animation") {
        c.file("animation", d, "video/mp4", None);
    } else if let Some(d) = m.get("document") {
        c.file("document", d, "application/octet-stream", None);
    } else if let Some(d) = m.get("video") {
        c.file("video", d, "video/mp4", None);
    } else if let Some(d) = m.get("video_note") {
        c.file("video message", d, "video/mp4", None);
    } else if let Some(d) = m.get("audio") {
        c.file("audio file", d, "audio/mpeg", None);
    } else if let Some(d) = m.get("voice") {
        c.file("voice message", d, "audio/ogg", None);
    }
    c.text(str_of(m, "text"));
    c.text(str_of(m, "caption"));
    if let Some(v) = m.get("venue") {
        let loc = v.get("location").unwrap_or(&Value::Null);
        if let (Some(latitude), Some(longitude)) =
            (loc.get("latitude").and_then(Value::as_f64), loc.get("longitude").and_then(Value::as_f64))
        {
            let name = match (non_empty(str_of(v, "title")), non_empty(str_of(v, "address"))) {
                (Some(n), Some(a)) => Some(format!("{n}, {a}")),
                (n, a) => n.or(a),
            };
            c.parts.push(ContentPart::Location { latitude, longitude, name });
        }
    } else if let Some(loc) = m.get("location")
        && let (Some(latitude), Some(longitude)) =
            (loc.get("latitude").and_then(Value::as_f64), loc.get("longitude").and_then(Value::as_f64))
    {
        c.parts.push(ContentPart::Location { latitude, longitude, name: None });
    }
    if let Some(k) = m.get("contact") {
        let name =
            [str_of(k, "first_name"), str_of(k, "last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let name = non_empty(Some(&name)).unwrap_or_else(|| "(no name)".to_owned());
        let line = match non_empty(str_of(k, "phone_number")) {
            Some(p) => format!("Shared contact:\n- {name}: {p}"),
            None => format!("Shared contact:\n- {name}"),
        };
        c.parts.push(ContentPart::Text { text: line });
    }
    if c.parts.is_empty() {
        if let Some((_, what)) = UNSHOWABLE.iter().find(|(k, _)| m.get(*k).is_some()) {
            c.activity = true;
            c.parts.push(ContentPart::Text { text: format!("The buyer sent {what}, which cannot be shown here.") });
        } else {
            let key = m.as_object().and_then(|o| {
                o.keys()
                    .find(|k| {
                        !matches!(
                            k.as_str(),
                            "message_id"
                                | "from"
                                | "chat"
                                | "date"
                                | "edit_date"
                                | "sender_chat"
                                | "business_connection_id"
                                | "message_thread_id"
                                | "is_topic_message"
                                | "reply_to_message"
                                | "entities"
                        )
                    })
                    .cloned()
            });
            return Err(match key {
                Some(k) => format!("a `{k}` service message carries nothing for the conversation"),
                None => "a message without content".to_owned(),
            });
        }
    }
    Ok(c)
}

/// The file id of a placeholder attachment URL (`telegram-file:{id}`).
pub fn file_id_of(url: &str) -> Option<&str> {
    url.strip_prefix(FILE_SCHEME).filter(|id| !id.is_empty())
}
