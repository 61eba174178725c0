//! Messenger's and Instagram's webhooks, as pure functions: the
//! subscription handshake and the `X-Hub-Signature-256` check (the same
//! as WhatsApp's, since all three are Meta's), and the reading of a
//! delivery (`object: page` or `object: instagram`, entries of `messaging`
//! events) into channel-neutral updates: buyers' messages (text,
//! attachments of every type, quick-reply and button presses, story
//! replies and mentions, shares), reactions, unsent messages, echoes of
//! what the page sent itself, delivery and read reports. Anything else
//! (hand-over protocol, opt-ins, comments…) is acknowledged as
//! [`Update::Ignored`] with why; one odd event never fails the delivery.
//!
//! A message's external id is Meta's `mid`; a button press without one is
//! `postback:{sender}:{timestamp}`.

use super::settings::MetaSettings;
use crate::update::{
    Batch, Echo, IncomingMessage, MediaRef, OursMarker, Reaction, Referral, StatusReport, Update, Watermark,
};
use crate::{ChannelError, WebhookRequest};
use chrono::{DateTime, Duration, Utc};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{Attachment, ContentPart, DeliveryStatus};
use serde_json::Value;

/// The URL scheme of placeholder attachments standing for files Meta
/// keeps on its CDN: `meta-media:{n}`, replaced once fetched.
pub const MEDIA_SCHEME: &str = "meta-media:";

/// The metadata prefix Ferry sends with its messages, echoed back.
pub const METADATA_PREFIX: &str = "ferry:";

/// How far ahead of our clock a sender's timestamp may be before it is
/// taken as ours.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Answers Meta's subscription handshake: the `hub.challenge` to echo when
/// `hub.mode` is `subscribe` and `hub.verify_token` is the inbox's
/// (compared in constant time); `Unauthorized` otherwise.
pub fn verify_challenge(
    settings: &MetaSettings,
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&str>,
) -> Result<String, ChannelError> {
    crate::whatsapp::webhook::check_challenge(settings.verify_token.expose(), mode, verify_token, challenge)
}

/// Checks `X-Hub-Signature-256`, the HMAC-SHA256 of the exact body keyed
/// by the Meta app's secret.
pub fn verify_signature(settings: &MetaSettings, request: &WebhookRequest<'_>) -> Result<(), ChannelError> {
    crate::whatsapp::webhook::verify_signature(settings.app_secret.expose(), request)
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

/// The longest message id Ferry keeps; Meta's are far shorter.
const MAX_ID: usize = 512;

/// A message id as given, when it is one (not empty, not absurdly long).
fn mid_of(v: &Value) -> Option<String> {
    non_empty(str_of(v, "mid")).filter(|m| m.len() <= MAX_ID)
}

/// An id Meta writes as a string or a number.
fn id_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a delivery to the inbox of `settings`. `now` bounds the senders'
/// timestamps. Errors only when the body is not a Messenger or Instagram
/// delivery of the inbox's channel.
pub fn parse(inbox: &Inbox, settings: &MetaSettings, body: &[u8], now: DateTime<Utc>) -> Result<Batch, ChannelError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("invalid JSON body: {e}")))?;
    let expected = if inbox.channel == ChannelKind::Instagram { "instagram" } else { "page" };
    match str_of(&root, "object") {
        Some(o) if o == expected => {}
        Some(o) => {
            return Err(ChannelError::Malformed(format!(
                "a delivery for `{o}`, but this {} inbox takes `{expected}`",
                settings.name()
            )));
        }
        None => return Err(ChannelError::Malformed("the body is not a Meta webhook delivery: no object".into())),
    }
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| ChannelError::Malformed("the delivery has no entry list".into()))?;
    let ctx = Ctx { inbox, settings, now };
    let mut updates = Vec::new();
    for entry in entries {
        let entry_id = id_of(entry, "id").unwrap_or_default();
        if entry_id != settings.business_id() && entry_id != settings.page_id {
            updates.push(ignored("entry", format!("an entry for {entry_id:?}, not this inbox's account")));
            continue;
        }
        if let Some(events) = entry.get("messaging").and_then(Value::as_array) {
            for event in events {
                ctx.event(event, &mut updates);
            }
        }
        if entry.get("standby").is_some() {
            updates.push(ignored("standby", "the conversation is with another app (hand-over protocol)"));
        }
        if let Some(changes) = entry.get("changes").and_then(Value::as_array) {
            for c in changes {
                let field = str_of(c, "field").unwrap_or("change");
                updates.push(ignored(field, format!("`{field}` changes are not conversation messages")));
            }
        }
    }
    if updates.is_empty() {
        updates.push(ignored("delivery", "a delivery without events"));
    }
    Ok(Batch { updates })
}

struct Ctx<'a> {
    inbox: &'a Inbox,
    settings: &'a MetaSettings,
    now: DateTime<Utc>,
}

/// Event fields that never concern a conversation Ferry keeps, with why.
const NOT_KEPT: &[(&str, &str)] = &[
    ("optin", "a plugin opt-in is not a message"),
    ("account_linking", "account linking is not used"),
    ("pass_thread_control", "hand-over protocol events are not messages"),
    ("take_thread_control", "hand-over protocol events are not messages"),
    ("request_thread_control", "hand-over protocol events are not messages"),
    ("app_roles", "app roles are not messages"),
    ("policy_enforcement", "a policy notice, not a message"),
    ("game_play", "games are not messages"),
    ("messaging_feedback", "feedback forms are not kept"),
    ("response_feedback", "feedback on answers is not kept"),
];

impl Ctx<'_> {
    fn time_ms(&self, ms: Option<i64>) -> DateTime<Utc> {
        match ms.filter(|s| *s > 0).and_then(DateTime::<Utc>::from_timestamp_millis) {
            // A clock a little ahead is taken as ours.
            Some(t) if t <= self.now + CLOCK_SKEW => t.min(self.now),
            _ => self.now,
        }
    }

    fn identity(&self, id: &str) -> Option<Identity> {
        let kind = if self.inbox.channel == ChannelKind::Instagram {
            IdentityKind::Instagram
        } else {
            IdentityKind::Messenger
        };
        Identity::new(kind, id, Some(self.inbox.id)).ok()
    }

    fn event(&self, e: &Value, out: &mut Vec<Update>) {
        let sender = e.get("sender").and_then(|s| id_of(s, "id"));
        let recipient = e.get("recipient").and_then(|s| id_of(s, "id"));
        let at = self.time_ms(e.get("timestamp").and_then(Value::as_i64));
        let business = self.settings.business_id();
        let ours = |id: &Option<String>| id.as_deref().is_some_and(|i| i == business || i == self.settings.page_id);
        if let Some(m) = e.get("message") {
            let echo = m.get("is_echo").and_then(Value::as_bool) == Some(true) || ours(&sender);
            if echo {
                match recipient.as_deref().and_then(|r| self.identity(r)) {
                    Some(to) => out.push(self.echo(m, to, at)),
                    None => out.push(ignored("message_echo", "an echo without its recipient")),
                }
                return;
            }
            match sender.as_deref().and_then(|s| self.identity(s)) {
                Some(from) => out.push(self.message(m, e, from, at)),
                None => out.push(ignored("message", "a message without its sender")),
            }
            return;
        }
        if let Some(p) = e.get("postback") {
            match sender.as_deref().and_then(|s| self.identity(s)) {
                Some(from) if !ours(&sender) => out.push(self.postback(p, from, at)),
                _ => out.push(ignored("postback", "a button press without a buyer")),
            }
            return;
        }
        if let Some(r) = e.get("reaction") {
            let (Some(target), Some(from)) = (mid_of(r), sender.as_deref().and_then(|s| self.identity(s))) else {
                return out.push(ignored("reaction", "a reaction without its message or buyer"));
            };
            let removed = str_of(r, "action") == Some("unreact");
            let emoji = if removed {
                String::new()
            } else {
                non_empty(str_of(r, "emoji")).unwrap_or_else(|| reaction_emoji(str_of(r, "reaction")).to_owned())
            };
            let ms = e.get("timestamp").and_then(Value::as_i64).unwrap_or_default();
            out.push(Update::Reaction(Reaction {
                external_id: format!("reaction:{target}:{}:{ms}", from.value),
                target_external_id: target,
                emoji,
                from,
                at,
            }));
            return;
        }
        if let Some(d) = e.get("delivery") {
            let mids: Vec<String> = d
                .get("mids")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|m| !m.is_empty() && m.len() <= MAX_ID)
                .map(str::to_owned)
                .collect();
            for mid in mids {
                out.push(Update::Status(StatusReport {
                    external_id: mid,
                    status: DeliveryStatus::Delivered,
                    at,
                    reference: None,
                    error: None,
                    pricing: None,
                }));
            }
            let watermark = d.get("watermark").and_then(Value::as_i64);
            match (watermark, sender.as_deref().and_then(|s| self.identity(s))) {
                (Some(w), Some(buyer)) => out.push(Update::Watermark(Watermark {
                    buyer,
                    status: DeliveryStatus::Delivered,
                    up_to: self.time_ms(Some(w)),
                })),
                _ if d.get("mids").is_none() => out.push(ignored("delivery", "a delivery report without messages")),
                _ => {}
            }
            return;
        }
        if let Some(r) = e.get("read") {
            let buyer = sender.as_deref().and_then(|s| self.identity(s));
            if let Some(mid) = mid_of(r) {
                // Instagram names the message read.
                out.push(Update::Status(StatusReport {
                    external_id: mid,
                    status: DeliveryStatus::Read,
                    at,
                    reference: None,
                    error: None,
                    pricing: None,
                }));
            } else if let (Some(w), Some(buyer)) = (r.get("watermark").and_then(Value::as_i64), buyer) {
                out.push(Update::Watermark(Watermark {
                    buyer,
                    status: DeliveryStatus::Read,
                    up_to: self.time_ms(Some(w)),
                }));
            } else {
                out.push(ignored("read", "a read report without a message or watermark"));
            }
            return;
        }
        if let Some(r) = e.get("referral") {
            // The buyer opened the conversation from an ad or a link
            // without writing yet: kept with their first message.
            let source = str_of(r, "source").unwrap_or("link");
            return out.push(ignored("referral", format!("the buyer came from {source} and has not written yet")));
        }
        if let Some((key, why)) = NOT_KEPT.iter().find(|(k, _)| e.get(*k).is_some()) {
            return out.push(ignored(*key, *why));
        }
        let key = e
            .as_object()
            .and_then(|o| o.keys().find(|k| !matches!(k.as_str(), "sender" | "recipient" | "timestamp")).cloned());
        out.push(match key {
            Some(k) => ignored(k.clone(), format!("`{k}` events are not conversation messages")),
            None => ignored("event", "an event without content"),
        });
    }

    fn message(&self, m: &Value, event: &Value, from: Identity, at: DateTime<Utc>) -> Update {
        let Some(mid) = mid_of(m) else { return ignored("message", "a message without a usable mid") };
        if m.get("is_deleted").and_then(Value::as_bool) == Some(true) {
            return Update::Deleted { external_id: mid, at };
        }
        let mut c = Content::default();
        if m.get("is_unsupported").and_then(Value::as_bool) == Some(true) {
            c.activity = true;
            c.parts.push(ContentPart::Text {
                text: format!("The buyer sent something {} cannot show here.", self.settings.name()),
            });
        }
        if let Some(story) = m.get("reply_to").and_then(|r| r.get("story")) {
            let url = non_empty(str_of(story, "url"));
            c.parts.push(ContentPart::Text {
                text: match url {
                    Some(u) => format!("Replied to your story: {u}"),
                    None => "Replied to your story".to_owned(),
                },
            });
        }
        c.attachments(m.get("attachments"));
        c.text(str_of(m, "text"));
        if c.parts.is_empty() {
            return ignored("message", "a message without content");
        }
        let reply_to = m.get("reply_to").and_then(mid_of);
        let button_payload = m.get("quick_reply").and_then(|q| non_empty(str_of(q, "payload")));
        let referral = m.get("referral").or_else(|| event.get("referral")).and_then(referral_of);
        Update::Message(Box::new(IncomingMessage {
            inbound: Inbound {
                account_id: self.inbox.account_id,
                inbox_id: self.inbox.id,
                external_id: mid,
                sender: sender(from),
                parts: c.parts,
                sent_at: at,
                meta: Default::default(),
            },
            uploads: Vec::new(),
            media: c.media,
            reply_to,
            activity: c.activity,
            referral,
            button_payload,
        }))
    }

    fn postback(&self, p: &Value, from: Identity, at: DateTime<Utc>) -> Update {
        let Some(payload) = non_empty(str_of(p, "payload")) else {
            return ignored("postback", "a button press without a payload");
        };
        let title = non_empty(str_of(p, "title")).unwrap_or_else(|| payload.clone());
        let external_id =
            non_empty(str_of(p, "mid")).unwrap_or_else(|| format!("postback:{}:{}", from.value, at.timestamp_millis()));
        let referral = p.get("referral").and_then(referral_of);
        Update::Message(Box::new(IncomingMessage {
            inbound: Inbound {
                account_id: self.inbox.account_id,
                inbox_id: self.inbox.id,
                external_id,
                sender: sender(from),
                parts: vec![ContentPart::Text { text: title }],
                sent_at: at,
                meta: Default::default(),
            },
            uploads: Vec::new(),
            media: Vec::new(),
            reply_to: None,
            activity: false,
            referral,
            button_payload: Some(payload),
        }))
    }

    fn echo(&self, m: &Value, to: Identity, at: DateTime<Utc>) -> Update {
        let Some(mid) = mid_of(m) else { return ignored("message_echo", "an echo without a usable mid") };
        let by_metadata = str_of(m, "metadata")
            .and_then(|s| s.strip_prefix(METADATA_PREFIX))
            .and_then(|id| id.parse::<i64>().ok())
            .map(OursMarker::Message);
        let by_app =
            self.settings.app_id.as_ref().filter(|a| id_of(m, "app_id").as_ref() == Some(*a)).map(|_| OursMarker::App);
        let mut c = Content::default();
        c.attachments(m.get("attachments"));
        c.text(str_of(m, "text"));
        if c.parts.is_empty() {
            c.parts.push(ContentPart::Text { text: format!("(a message {} cannot show here)", self.settings.name()) });
        }
        Update::Echo(Box::new(Echo {
            to,
            external_id: mid,
            parts: c.parts,
            media: c.media,
            at,
            ours: by_metadata.or(by_app),
        }))
    }
}

fn sender(identity: Identity) -> InboundSender {
    InboundSender { identity, extra_identities: Vec::new(), name: None, language: None }
}

/// The emoji of one of Messenger's named reactions.
fn reaction_emoji(name: Option<&str>) -> &'static str {
    match name.unwrap_or_default() {
        "love" => "❤️",
        "haha" => "😆",
        "wow" => "😮",
        "sad" => "😢",
        "angry" => "😠",
        "like" => "👍",
        "dislike" => "👎",
        _ => "👍",
    }
}

fn referral_of(r: &Value) -> Option<Referral> {
    let source = str_of(r, "source")?;
    let source_type = match source {
        "ADS" => "ad",
        "SHORTLINK" => "link",
        "CUSTOMER_CHAT_PLUGIN" => "chat_plugin",
        _ => "post",
    };
    let ads = r.get("ads_context_data");
    Some(Referral {
        source_type: source_type.to_owned(),
        source_id: id_of(r, "ad_id").or_else(|| non_empty(str_of(r, "ref"))),
        source_url: non_empty(str_of(r, "referer_uri")).or_else(|| ads.and_then(|a| non_empty(str_of(a, "photo_url")))),
        headline: ads.and_then(|a| non_empty(str_of(a, "ad_title"))),
        body: None,
    })
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

    fn file(&mut self, url: String, content_type: &str, filename: Option<String>) {
        let placeholder = Attachment {
            url: format!("{MEDIA_SCHEME}{}", self.media.len()),
            content_type: content_type.to_owned(),
            filename: filename.clone(),
            size: None,
        };
        self.media.push(MediaRef {
            part: self.parts.len(),
            media_id: String::new(),
            url: Some(url),
            content_type: content_type.to_owned(),
            filename,
            sha256: None,
        });
        self.parts.push(placeholder.into_part());
    }

    fn attachments(&mut self, list: Option<&Value>) {
        for a in list.and_then(Value::as_array).into_iter().flatten() {
            let kind = str_of(a, "type").unwrap_or_default();
            let payload = a.get("payload").unwrap_or(&Value::Null);
            let url = non_empty(str_of(payload, "url"));
            let title = non_empty(str_of(payload, "title")).or_else(|| non_empty(str_of(a, "title")));
            match (kind, url) {
                ("image", Some(u)) => {
                    let sticker = payload.get("sticker_id").is_some();
                    self.file(u, if sticker { "image/png" } else { "image/jpeg" }, None);
                }
                ("animated_image", Some(u)) => self.file(u, "image/gif", None),
                ("video", Some(u)) => self.file(u, "video/mp4", None),
                ("audio", Some(u)) => self.file(u, "audio/mpeg", None),
                ("file", Some(u)) => {
                    let name = file_name_of(&u);
                    self.file(u, "application/octet-stream", name)
                }
                ("location", _) => {
                    let coords = payload.get("coordinates").unwrap_or(&Value::Null);
                    match (coords.get("lat").and_then(Value::as_f64), coords.get("long").and_then(Value::as_f64)) {
                        (Some(latitude), Some(longitude)) => {
                            self.parts.push(ContentPart::Location { latitude, longitude, name: title })
                        }
                        _ => self.parts.push(ContentPart::Text { text: "The buyer shared a location.".into() }),
                    }
                }
                ("story_mention", u) => self.parts.push(ContentPart::Text {
                    text: match u {
                        Some(u) => format!("Mentioned you in their story: {u}"),
                        None => "Mentioned you in their story".to_owned(),
                    },
                }),
                ("fallback" | "share" | "ig_reel" | "reel" | "ig_post" | "template", u) => {
                    let line = match (title, u) {
                        (Some(t), Some(u)) => format!("Shared: {t} {u}"),
                        (None, Some(u)) => format!("Shared: {u}"),
                        (Some(t), None) => format!("Shared: {t}"),
                        (None, None) => continue,
                    };
                    self.parts.push(ContentPart::Text { text: line });
                }
                (other, _) => {
                    self.activity = self.parts.is_empty();
                    let what = if other.is_empty() { "an attachment" } else { other };
                    self.parts.push(ContentPart::Text {
                        text: format!("The buyer sent {what}, which cannot be shown here."),
                    });
                }
            }
        }
    }
}

/// The file name in a CDN URL's path, when it has one with an extension.
fn file_name_of(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let name = percent_decode(name);
    (name.contains('.') && name.len() <= 255 && !name.chars().any(|c| c.is_control() || c == '\\')).then_some(name)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.replace('+', "%2B").as_bytes())
        .map(|(k, _)| k.into_owned())
        .next()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ferry_core::inbox::InboxConfig;
    use serde_json::json;

    fn inbox(channel: ChannelKind) -> (Inbox, MetaSettings) {
        let mut config = InboxConfig::default();
        let mut section = json!({"page_id": "100200300", "access_token": "EAAtoken", "app_secret": "shh-secret",
            "verify_token": "verify-token-0123456789", "app_id": "555"});
        if channel == ChannelKind::Instagram {
            section["instagram_account_id"] = json!("17841400000000001");
        }
        config.extra.insert(super::super::settings::section(channel).into(), section);
        let inbox = Inbox {
            id: ferry_core::InboxId(7),
            account_id: ferry_core::AccountId(1),
            name: "Shop".into(),
            channel,
            config,
            secret: String::new(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        let s = MetaSettings::of(&inbox).unwrap().unwrap();
        (inbox, s)
    }

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_760_000_000, 0).unwrap()
    }

    fn read(channel: ChannelKind, body: Value) -> Vec<Update> {
        let (inbox, s) = inbox(channel);
        parse(&inbox, &s, body.to_string().as_bytes(), now()).unwrap().updates
    }

    fn page(events: Value) -> Value {
        json!({"object": "page", "entry": [{"id": "100200300", "time": 1_759_999_999_000_i64, "messaging": events}]})
    }

    #[test]
    fn a_text_with_a_quick_reply_and_a_photo() {
        let u = read(
            ChannelKind::Messenger,
            page(
                json!([{"sender": {"id": "2400001"}, "recipient": {"id": "100200300"}, "timestamp": 1_759_999_990_000_i64,
                "message": {"mid": "m_1", "text": "Track it", "quick_reply": {"payload": "TRACK"},
                    "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/p.jpg?x=1"}}]}}]),
            ),
        );
        let Update::Message(m) = &u[0] else { panic!("{u:?}") };
        assert_eq!(m.inbound.external_id, "m_1");
        assert_eq!(m.inbound.sender.identity.kind, IdentityKind::Messenger);
        assert_eq!(m.inbound.sender.identity.inbox_id, Some(ferry_core::InboxId(7)));
        assert_eq!(m.button_payload.as_deref(), Some("TRACK"));
        assert_eq!(m.media.len(), 1);
        assert_eq!(m.media[0].url.as_deref(), Some("https://cdn.example/p.jpg?x=1"));
        assert!(matches!(m.inbound.parts[0], ContentPart::Image { .. }));
        assert_eq!(m.inbound.sent_at.timestamp(), 1_759_999_990);
    }

    #[test]
    fn echoes_are_ours_or_the_pages() {
        let u = read(
            ChannelKind::Messenger,
            page(json!([
                {"sender": {"id": "100200300"}, "recipient": {"id": "2400001"}, "timestamp": 1_759_999_990_000_i64,
                 "message": {"mid": "m_2", "is_echo": true, "text": "Hi from the page app", "app_id": 999}},
                {"sender": {"id": "100200300"}, "recipient": {"id": "2400001"}, "timestamp": 1_759_999_991_000_i64,
                 "message": {"mid": "m_3", "is_echo": true, "text": "Hi", "metadata": "ferry:42", "app_id": 555}},
                {"sender": {"id": "100200300"}, "recipient": {"id": "2400001"}, "timestamp": 1_759_999_992_000_i64,
                 "message": {"mid": "m_4", "is_echo": true, "text": "Hi", "app_id": 555}}])),
        );
        let ours: Vec<_> = u
            .iter()
            .map(|u| match u {
                Update::Echo(e) => (e.external_id.as_str(), e.to.value.as_str(), e.ours.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            ours,
            vec![
                ("m_2", "2400001", None),
                ("m_3", "2400001", Some(OursMarker::Message(42))),
                ("m_4", "2400001", Some(OursMarker::App))
            ]
        );
    }

    #[test]
    fn postbacks_reactions_and_reports() {
        let u = read(
            ChannelKind::Messenger,
            page(json!([
                {"sender": {"id": "2400001"}, "recipient": {"id": "100200300"}, "timestamp": 1_759_999_990_000_i64,
                 "postback": {"title": "Where is my order?", "payload": "WISMO", "mid": "m_5"}},
                {"sender": {"id": "2400001"}, "recipient": {"id": "100200300"}, "timestamp": 1_759_999_991_000_i64,
                 "reaction": {"mid": "m_6", "action": "react", "reaction": "love"}},
                {"sender": {"id": "2400001"}, "recipient": {"id": "100200300"}, "timestamp": 1_759_999_992_000_i64,
                 "reaction": {"mid": "m_6", "action": "unreact"}},
                {"sender": {"id": "2400001"}, "recipient": {"id": "100200300"}, "timestamp": 1_759_999_993_000_i64,
                 "delivery": {"mids": ["m_7"], "watermark": 1_759_999_993_000_i64}},
                {"sender": {"id": "2400001"}, "recipient": {"id": "100200300"}, "timestamp": 1_759_999_994_000_i64,
                 "read": {"watermark": 1_759_999_994_000_i64}},
                {"sender": {"id": "2400001"}, "recipient": {"id": "100200300"}, "timestamp": 1_759_999_995_000_i64,
                 "optin": {"ref": "x"}}])),
        );
        let Update::Message(m) = &u[0] else { panic!("{u:?}") };
        assert_eq!((m.inbound.external_id.as_str(), m.button_payload.as_deref()), ("m_5", Some("WISMO")));
        assert_eq!(m.inbound.parts, vec![ContentPart::Text { text: "Where is my order?".into() }]);
        assert!(matches!(&u[1], Update::Reaction(r) if r.emoji == "❤️" && r.target_external_id == "m_6"));
        assert!(matches!(&u[2], Update::Reaction(r) if r.emoji.is_empty()));
        assert!(matches!(&u[3], Update::Status(s) if s.external_id == "m_7" && s.status == DeliveryStatus::Delivered));
        assert!(matches!(&u[4], Update::Watermark(w) if w.status == DeliveryStatus::Delivered));
        assert!(
            matches!(&u[5], Update::Watermark(w) if w.status == DeliveryStatus::Read && w.up_to.timestamp() == 1_759_999_994)
        );
        assert!(matches!(&u[6], Update::Ignored { what, .. } if what == "optin"));
    }

    #[test]
    fn instagram_story_replies_mentions_unsend_and_reads() {
        let ig = |events: Value| json!({"object": "instagram", "entry": [{"id": "17841400000000001", "time": 1, "messaging": events}]});
        let u = read(
            ChannelKind::Instagram,
            ig(json!([
                {"sender": {"id": "9001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_759_999_990_000_i64,
                 "message": {"mid": "aWdfZ1", "text": "Is this in stock?",
                    "reply_to": {"story": {"url": "https://cdn.example/story.mp4", "id": "st1"}}}},
                {"sender": {"id": "9001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_759_999_991_000_i64,
                 "message": {"mid": "aWdfZ2", "attachments": [{"type": "story_mention", "payload": {"url": "https://cdn.example/s2"}}]}},
                {"sender": {"id": "9001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_759_999_992_000_i64,
                 "message": {"mid": "aWdfZ1", "is_deleted": true}},
                {"sender": {"id": "9001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_759_999_993_000_i64,
                 "read": {"mid": "aWdfZ3"}}])),
        );
        let Update::Message(m) = &u[0] else { panic!("{u:?}") };
        assert_eq!(m.inbound.sender.identity.kind, IdentityKind::Instagram);
        assert_eq!(
            m.inbound.parts,
            vec![
                ContentPart::Text { text: "Replied to your story: https://cdn.example/story.mp4".into() },
                ContentPart::Text { text: "Is this in stock?".into() }
            ]
        );
        let Update::Message(m) = &u[1] else { panic!("{u:?}") };
        assert_eq!(
            m.inbound.parts,
            vec![ContentPart::Text { text: "Mentioned you in their story: https://cdn.example/s2".into() }]
        );
        assert!(matches!(&u[2], Update::Deleted { external_id, .. } if external_id == "aWdfZ1"));
        assert!(matches!(&u[3], Update::Status(s) if s.status == DeliveryStatus::Read));
    }

    #[test]
    fn refuses_other_objects_and_ignores_other_pages() {
        let (inbox, s) = inbox(ChannelKind::Messenger);
        let body = json!({"object": "instagram", "entry": []}).to_string();
        assert!(matches!(parse(&inbox, &s, body.as_bytes(), now()), Err(ChannelError::Malformed(_))));
        assert!(matches!(parse(&inbox, &s, b"not json", now()), Err(ChannelError::Malformed(_))));
        let other = json!({"object": "page", "entry": [{"id": "999", "messaging": [{"sender": {"id": "1"}, "message": {"mid": "m", "text": "x"}}]}]});
        let u = parse(&inbox, &s, other.to_string().as_bytes(), now()).unwrap().updates;
        assert!(matches!(&u[..], [Update::Ignored { what, .. }] if what == "entry"));
    }

    #[test]
    fn the_handshake_checks_the_token() {
        let (_, s) = inbox(ChannelKind::Messenger);
        assert_eq!(
            verify_challenge(&s, Some("subscribe"), Some("verify-token-0123456789"), Some("1158201444")).unwrap(),
            "1158201444"
        );
        assert!(matches!(
            verify_challenge(&s, Some("subscribe"), Some("wrong"), Some("1")),
            Err(ChannelError::Unauthorized(_))
        ));
        assert!(matches!(
            verify_challenge(&s, Some("unsubscribe"), None, Some("1")),
            Err(ChannelError::Unauthorized(_))
        ));
    }

    #[test]
    fn file_names_come_from_the_url() {
        assert_eq!(file_name_of("https://cdn.example/a/b/Invoice%2012.pdf?oh=1").as_deref(), Some("Invoice 12.pdf"));
        assert_eq!(file_name_of("https://cdn.example/a/blob"), None);
    }
}
