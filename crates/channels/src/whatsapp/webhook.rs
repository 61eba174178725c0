//! WhatsApp's webhooks, as pure functions: the subscription handshake
//! (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`), the
//! `X-Hub-Signature-256` check of a delivery, and the reading of a
//! delivery's body (`object: whatsapp_business_account`, entries of
//! changes) into a [`Batch`] of channel-neutral updates: buyers'
//! messages of every type, delivery statuses, reactions, edits and
//! deletions, template changes; anything else is acknowledged as
//! [`Update::Ignored`] with why. One odd message never fails the whole
//! delivery (Meta would send it again and again): it becomes an ignored
//! update or an activity line instead.

use super::settings::WhatsAppSettings;
use crate::update::{
    Batch, ChannelFailure, Edit, IncomingMessage, MediaRef, Pricing, Reaction, Referral, StatusReport, TemplateChange,
    Update,
};
use crate::{ChannelError, WebhookRequest};
use chrono::{DateTime, Duration, Utc};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::Inbox;
use ferry_core::message::{Attachment, ContentPart, DeliveryStatus};
use serde_json::Value;
use subtle::ConstantTimeEq;

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The `object` of every WhatsApp Business delivery.
pub const OBJECT: &str = "whatsapp_business_account";

/// The URL scheme of the placeholder attachments standing for media still
/// held by WhatsApp: `whatsapp-media:{media id}`.
pub const MEDIA_SCHEME: &str = "whatsapp-media:";

/// How far ahead of our clock a sender's timestamp may be before it is
/// taken as ours.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Answers Meta's subscription handshake: the `hub.challenge` to echo when
/// `hub.mode` is `subscribe` and `hub.verify_token` is the inbox's (compared
/// in constant time); `Unauthorized` otherwise.
pub fn verify_challenge(
    settings: &WhatsAppSettings,
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&str>,
) -> Result<String, ChannelError> {
    check_challenge(settings.verify_token.expose(), mode, verify_token, challenge)
}

/// Meta's subscription handshake against `expected`, the inbox's verify
/// token (WhatsApp, Messenger and Instagram alike).
pub fn check_challenge(
    expected: &str,
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&str>,
) -> Result<String, ChannelError> {
    if mode != Some("subscribe") {
        return Err(ChannelError::Unauthorized("hub.mode must be subscribe"));
    }
    let expected = expected.as_bytes();
    let given = verify_token.unwrap_or_default().as_bytes();
    if expected.is_empty() || !bool::from(expected.ct_eq(given)) {
        return Err(ChannelError::Unauthorized("hub.verify_token does not match the inbox's verify token"));
    }
    match challenge {
        Some(c) if !c.is_empty() && c.len() <= 256 => Ok(c.to_owned()),
        _ => Err(ChannelError::invalid("hub.challenge", "hub.challenge is missing")),
    }
}

/// Checks `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the exact
/// body keyed by the Meta app's secret, in constant time.
pub fn verify_signature(app_secret: &str, request: &WebhookRequest<'_>) -> Result<(), ChannelError> {
    if app_secret.is_empty() {
        return Err(ChannelError::Unauthorized("the inbox has no app secret to check signatures with"));
    }
    let header =
        request.header(SIGNATURE_HEADER).ok_or(ChannelError::Unauthorized("missing X-Hub-Signature-256 header"))?;
    if ferry_core::signature::verify(app_secret.as_bytes(), request.body, header) {
        Ok(())
    } else {
        Err(ChannelError::Unauthorized("the signature does not match the body"))
    }
}

/// Reads a delivery to `inbox` into its updates. `now` bounds the
/// senders' timestamps. Errors only when the body is not a WhatsApp
/// Business delivery or the inbox has no WhatsApp settings.
pub fn parse(inbox: &Inbox, body: &[u8], now: DateTime<Utc>) -> Result<Batch, ChannelError> {
    let settings = WhatsAppSettings::of(inbox)?
        .ok_or_else(|| ChannelError::invalid("whatsapp", "the inbox has no WhatsApp settings"))?;
    let root: Value =
        serde_json::from_slice(body).map_err(|e| ChannelError::Malformed(format!("invalid JSON body: {e}")))?;
    let object = root.get("object").and_then(Value::as_str).unwrap_or_default();
    if object != OBJECT {
        return Err(ChannelError::Malformed(format!("object must be {OBJECT}, not `{object}`")));
    }
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| ChannelError::Malformed("the body has no entry list".into()))?;
    let ctx = Ctx { inbox, settings: &settings, now };
    let mut batch = Batch::default();
    for entry in entries {
        for change in entry.get("changes").and_then(Value::as_array).into_iter().flatten() {
            ctx.change(change, &mut batch.updates);
        }
    }
    Ok(batch)
}

struct Ctx<'a> {
    inbox: &'a Inbox,
    settings: &'a WhatsAppSettings,
    now: DateTime<Utc>,
}

fn ignored(what: impl Into<String>, reason: impl Into<String>) -> Update {
    Update::Ignored { what: what.into(), reason: reason.into() }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A string Meta sometimes sends as a number (template ids, timestamps).
fn string_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A WhatsApp error object (`code`, `title`, `message`, `error_data.details`).
fn failure(e: &Value) -> ChannelFailure {
    let code = e.get("code").and_then(Value::as_i64).unwrap_or_default();
    let title = non_empty(str_of(e, "title"))
        .or_else(|| non_empty(str_of(e, "message")))
        .unwrap_or_else(|| "Unknown error".to_owned());
    let details = e.get("error_data").and_then(|d| non_empty(str_of(d, "details")));
    ChannelFailure { code, title, details }
}

/// The reason an agent reads: `Title (code): details`.
fn describe(f: &ChannelFailure) -> String {
    match &f.details {
        Some(d) if d != &f.title => format!("{} ({}): {d}", f.title, f.code),
        _ => format!("{} ({})", f.title, f.code),
    }
}

fn first_failure(v: &Value) -> Option<ChannelFailure> {
    v.get("errors").and_then(Value::as_array).and_then(|e| e.first()).map(failure)
}

impl Ctx<'_> {
    fn time(&self, v: &Value) -> DateTime<Utc> {
        let at = string_of(v, "timestamp")
            .and_then(|t| t.trim().parse::<i64>().ok())
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0));
        match at {
            Some(t) if t <= self.now + CLOCK_SKEW => t,
            _ => self.now,
        }
    }

    fn change(&self, change: &Value, out: &mut Vec<Update>) {
        let field = str_of(change, "field").unwrap_or_default();
        let value = change.get("value").unwrap_or(&Value::Null);
        match field {
            "messages" => self.messages(value, out),
            "message_template_status_update" => out.push(Update::Template(TemplateChange {
                template_id: string_of(value, "message_template_id"),
                name: str_of(value, "message_template_name").unwrap_or_default().to_owned(),
                language: non_empty(str_of(value, "message_template_language")),
                status: non_empty(str_of(value, "event")),
                quality: None,
                reason: value
                    .get("rejection_info")
                    .and_then(|r| non_empty(str_of(r, "reason")))
                    .or_else(|| non_empty(str_of(value, "reason")).filter(|r| r != "NONE")),
            })),
            "message_template_quality_update" => out.push(Update::Template(TemplateChange {
                template_id: string_of(value, "message_template_id"),
                name: str_of(value, "message_template_name").unwrap_or_default().to_owned(),
                language: non_empty(str_of(value, "message_template_language")),
                status: None,
                quality: non_empty(str_of(value, "new_quality_score")),
                reason: non_empty(str_of(value, "previous_quality_score")).map(|p| format!("was {p}")),
            })),
            "smb_message_echoes" => {
                out.push(ignored(field, "messages sent from the WhatsApp Business app are not kept"))
            }
            "" => out.push(ignored("unknown", "a change without a field")),
            other => out.push(ignored(other, format!("`{other}` changes are not conversation events"))),
        }
    }

    fn messages(&self, value: &Value, out: &mut Vec<Update>) {
        let phone_number_id = value.get("metadata").and_then(|m| string_of(m, "phone_number_id")).unwrap_or_default();
        if phone_number_id != self.settings.phone_number_id {
            out.push(ignored(
                "messages",
                format!("for phone number id `{phone_number_id}`, not this inbox's {}", self.settings.phone_number_id),
            ));
            return;
        }
        let names: Vec<(&str, &str)> = value
            .get("contacts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| Some((str_of(c, "wa_id")?, c.get("profile").and_then(|p| str_of(p, "name"))?)))
            .collect();
        let messages = value.get("messages").and_then(Value::as_array);
        let statuses = value.get("statuses").and_then(Value::as_array);
        // Errors beside the messages describe them (a message WhatsApp
        // could not read); alone they are a notice.
        let change_error = first_failure(value);
        for m in messages.into_iter().flatten() {
            let from = str_of(m, "from").unwrap_or_default();
            let name = names.iter().find(|(wa_id, _)| *wa_id == from).map(|(_, n)| *n);
            out.push(self.message(m, name, change_error.as_ref()));
        }
        for s in statuses.into_iter().flatten() {
            out.push(self.status(s));
        }
        if messages.is_none() && statuses.is_none() {
            let reason = change_error.map_or_else(|| "neither messages nor statuses".to_owned(), |e| describe(&e));
            out.push(ignored("messages", reason));
        }
    }

    fn status(&self, s: &Value) -> Update {
        let id = str_of(s, "id").unwrap_or_default();
        if str_of(s, "recipient_type") == Some("group") {
            return ignored("status", "a status of a group message; Ferry sends none");
        }
        if id.is_empty() {
            return ignored("status", "a status without a message id");
        }
        let error = first_failure(s);
        let status = match str_of(s, "status").unwrap_or_default() {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" | "played" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed {
                reason: error.as_ref().map_or_else(|| "WhatsApp could not deliver the message".to_owned(), describe),
            },
            other => return ignored("status", format!("status `{other}` has no delivery meaning")),
        };
        let conversation_id = s.get("conversation").and_then(|c| non_empty(str_of(c, "id")));
        let pricing = s.get("pricing").map(|p| Pricing {
            billable: p.get("billable").and_then(Value::as_bool).unwrap_or(false),
            category: str_of(p, "category").unwrap_or_default().to_owned(),
            model: non_empty(str_of(p, "pricing_model")),
            conversation_id: conversation_id.clone(),
        });
        Update::Status(StatusReport {
            external_id: id.to_owned(),
            status,
            at: self.time(s),
            reference: non_empty(str_of(s, "biz_opaque_callback_data")),
            error,
            pricing,
        })
    }

    fn message(&self, m: &Value, name: Option<&str>, change_error: Option<&ChannelFailure>) -> Update {
        let id = str_of(m, "id").unwrap_or_default();
        let kind = str_of(m, "type").unwrap_or_default();
        if id.is_empty() {
            return ignored("message", format!("a {kind} message without an id"));
        }
        let at = self.time(m);
        match kind {
            "revoke" => {
                return match m.get("revoke").and_then(|r| non_empty(str_of(r, "original_message_id"))) {
                    Some(external_id) => Update::Deleted { external_id, at },
                    None => ignored("revoke", "a deletion without the deleted message's id"),
                };
            }
            "edit" => {
                let edit = m.get("edit").unwrap_or(&Value::Null);
                let Some(external_id) = non_empty(str_of(edit, "original_message_id")) else {
                    return ignored("edit", "an edit without the edited message's id");
                };
                let content = content(edit.get("message").unwrap_or(&Value::Null), None);
                return Update::Edited(Edit { external_id, parts: content.parts, media: content.media, at });
            }
            _ => {}
        }
        let from = str_of(m, "from").unwrap_or_default();
        let identity = match Identity::new(IdentityKind::Whatsapp, from, None) {
            Ok(i) => i,
            Err(_) => return ignored(kind, "the sender is not a WhatsApp id"),
        };
        if kind == "reaction" {
            let r = m.get("reaction").unwrap_or(&Value::Null);
            let Some(target) = non_empty(str_of(r, "message_id")) else {
                return ignored("reaction", "a reaction without the message it reacts to");
            };
            return Update::Reaction(Reaction {
                external_id: id.to_owned(),
                target_external_id: target,
                emoji: str_of(r, "emoji").unwrap_or_default().to_owned(),
                from: identity,
                at,
            });
        }
        if kind == "request_welcome" {
            return ignored(kind, "the buyer opened the chat; nothing was written yet");
        }
        let content = content(m, change_error);
        let extra_identities =
            Identity::new(IdentityKind::Phone, &format!("+{}", identity.value), None).into_iter().collect();
        let inbound = Inbound {
            account_id: self.inbox.account_id,
            inbox_id: self.inbox.id,
            external_id: id.to_owned(),
            sender: InboundSender {
                identity,
                extra_identities,
                name: name
                    .map(|n| n.trim().chars().filter(|c| !c.is_control()).take(255).collect::<String>())
                    .filter(|n| !n.is_empty()),
                language: None,
            },
            parts: content.parts,
            sent_at: at,
            meta: Default::default(),
        };
        let context = m.get("context");
        Update::Message(Box::new(IncomingMessage {
            inbound,
            uploads: Vec::new(),
            media: content.media,
            reply_to: context.and_then(|c| non_empty(str_of(c, "id"))),
            activity: content.activity,
            referral: m.get("referral").map(referral),
            button_payload: content.button_payload,
        }))
    }
}

fn referral(r: &Value) -> Referral {
    Referral {
        source_type: str_of(r, "source_type").unwrap_or("unknown").to_owned(),
        source_id: non_empty(str_of(r, "source_id")),
        source_url: non_empty(str_of(r, "source_url")),
        headline: non_empty(str_of(r, "headline")),
        body: non_empty(str_of(r, "body")),
    }
}

/// What a message (or an edit's new message) says.
#[derive(Default)]
struct Content {
    parts: Vec<ContentPart>,
    media: Vec<MediaRef>,
    activity: bool,
    button_payload: Option<String>,
}

impl Content {
    fn text(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !text.trim().is_empty() {
            self.parts.push(ContentPart::Text { text });
        }
    }

    fn activity(&mut self, text: String) {
        self.activity = true;
        self.parts.push(ContentPart::Text { text });
    }
}

/// The parts of one message object (its `type` and the object of that
/// name). `change_error` describes a message WhatsApp could not read.
fn content(m: &Value, change_error: Option<&ChannelFailure>) -> Content {
    let kind = str_of(m, "type").unwrap_or_default();
    let body = m.get(kind).unwrap_or(&Value::Null);
    let error = first_failure(m).or_else(|| change_error.cloned());
    let mut c = Content::default();
    match kind {
        "text" => c.text(str_of(body, "body").unwrap_or_default()),
        "image" | "sticker" | "video" | "audio" | "document" => media(kind, body, &mut c),
        "location" => {
            let (Some(latitude), Some(longitude)) =
                (body.get("latitude").and_then(Value::as_f64), body.get("longitude").and_then(Value::as_f64))
            else {
                c.activity("The buyer shared a location without coordinates.".into());
                return c;
            };
            let name = match (non_empty(str_of(body, "name")), non_empty(str_of(body, "address"))) {
                (Some(n), Some(a)) => Some(format!("{n}, {a}")),
                (n, a) => n.or(a),
            };
            c.parts.push(ContentPart::Location { latitude, longitude, name });
        }
        "contacts" => c.text(contacts(m.get("contacts").unwrap_or(&Value::Null))),
        "interactive" => {
            let itype = str_of(body, "type").unwrap_or_default();
            let reply = body.get(itype).unwrap_or(&Value::Null);
            match itype {
                "button_reply" | "list_reply" => {
                    let title = str_of(reply, "title").unwrap_or_default();
                    let payload = non_empty(str_of(reply, "id"));
                    c.text(if title.trim().is_empty() {
                        payload.clone().unwrap_or_default()
                    } else {
                        title.to_owned()
                    });
                    c.button_payload = payload;
                }
                "nfm_reply" => {
                    c.text(non_empty(str_of(reply, "body")).unwrap_or_else(|| "Form sent".to_owned()));
                    if let Some(json) = non_empty(str_of(reply, "response_json")) {
                        c.text(json);
                    }
                }
                _ => c.activity(unreadable("an interactive reply", error.as_ref())),
            }
        }
        "button" => {
            let title = str_of(body, "text").unwrap_or_default();
            let payload = non_empty(str_of(body, "payload"));
            c.text(if title.trim().is_empty() { payload.clone().unwrap_or_default() } else { title.to_owned() });
            c.button_payload = payload;
        }
        "order" => c.text(order(body)),
        "system" => {
            let text = non_empty(str_of(body, "body")).unwrap_or_else(|| match str_of(body, "type") {
                Some("user_changed_number") => "The buyer changed their number.".to_owned(),
                Some("customer_identity_changed") => "The buyer's identity changed.".to_owned(),
                _ => "WhatsApp reported a change of the buyer's account.".to_owned(),
            });
            c.activity(text);
        }
        "unsupported" | "unknown" => {
            let what = body.get("type").and_then(Value::as_str).map_or_else(
                || "a message WhatsApp does not support".to_owned(),
                |t| format!("a `{t}` message, which WhatsApp does not support"),
            );
            c.activity(unreadable(&what, error.as_ref()));
        }
        other => c.activity(unreadable(&format!("a `{other}` message"), error.as_ref())),
    }
    if c.parts.is_empty() {
        c.activity(unreadable(&format!("an empty `{kind}` message"), error.as_ref()));
    }
    c
}

fn unreadable(what: &str, error: Option<&ChannelFailure>) -> String {
    match error {
        Some(e) => format!("The buyer sent {what} that cannot be shown here: {}.", describe(e)),
        None => format!("The buyer sent {what} that cannot be shown here."),
    }
}

fn media(kind: &str, body: &Value, c: &mut Content) {
    let Some(media_id) = non_empty(str_of(body, "id")) else {
        c.activity(format!("The buyer sent a {kind} that WhatsApp gave no media id for."));
        return;
    };
    let content_type = non_empty(str_of(body, "mime_type")).unwrap_or_else(|| match kind {
        "image" => "image/jpeg".to_owned(),
        "sticker" => "image/webp".to_owned(),
        "video" => "video/mp4".to_owned(),
        "audio" => "audio/ogg".to_owned(),
        _ => "application/octet-stream".to_owned(),
    });
    let filename = non_empty(str_of(body, "filename"))
        .map(|f| f.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(255).collect::<String>());
    let attachment = Attachment {
        url: format!("{MEDIA_SCHEME}{media_id}"),
        content_type: content_type.clone(),
        filename: filename.clone(),
        size: None,
    };
    c.media.push(MediaRef {
        part: c.parts.len(),
        media_id,
        url: non_empty(str_of(body, "url")),
        content_type,
        filename,
        sha256: non_empty(str_of(body, "sha256")),
    });
    c.parts.push(match kind {
        "image" | "sticker" => ContentPart::Image { attachment },
        "audio" => ContentPart::Audio { attachment },
        _ => ContentPart::File { attachment },
    });
    if let Some(caption) = str_of(body, "caption") {
        c.text(caption);
    }
}

/// Shared contact cards as lines an agent reads.
fn contacts(cards: &Value) -> String {
    let mut lines = vec!["Shared contacts:".to_owned()];
    for card in cards.as_array().into_iter().flatten() {
        let name = card
            .get("name")
            .and_then(|n| {
                non_empty(str_of(n, "formatted_name")).or_else(|| {
                    let full = [str_of(n, "first_name"), str_of(n, "last_name")]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    non_empty(Some(&full))
                })
            })
            .unwrap_or_else(|| "(no name)".to_owned());
        let mut ways: Vec<String> = Vec::new();
        for p in card.get("phones").and_then(Value::as_array).into_iter().flatten() {
            if let Some(phone) = non_empty(str_of(p, "phone")) {
                ways.push(match non_empty(str_of(p, "type")) {
                    Some(t) => format!("{phone} ({})", t.to_lowercase()),
                    None => phone,
                });
            }
        }
        for e in card.get("emails").and_then(Value::as_array).into_iter().flatten() {
            ways.extend(non_empty(str_of(e, "email")));
        }
        if ways.is_empty() {
            lines.push(format!("- {name}"));
        } else {
            lines.push(format!("- {name}: {}", ways.join(", ")));
        }
    }
    lines.join("\n")
}

/// A cart sent from the catalogue, as lines an agent reads.
fn order(body: &Value) -> String {
    let mut lines = vec![match non_empty(str_of(body, "catalog_id")) {
        Some(catalog) => format!("Order from catalogue {catalog}:"),
        None => "Order:".to_owned(),
    }];
    for item in body.get("product_items").and_then(Value::as_array).into_iter().flatten() {
        let product = str_of(item, "product_retailer_id").unwrap_or("?");
        let quantity = string_of(item, "quantity").unwrap_or_else(|| "1".into());
        let price = string_of(item, "item_price");
        let currency = str_of(item, "currency").unwrap_or_default();
        lines.push(match price {
            Some(p) => format!("- {quantity} × {product} at {p} {currency}").trim_end().to_owned(),
            None => format!("- {quantity} × {product}"),
        });
    }
    if let Some(note) = non_empty(str_of(body, "text")) {
        lines.push(note);
    }
    lines.join("\n")
}

/// The media id of a placeholder attachment URL (`whatsapp-media:{id}`).
pub fn media_id_of(url: &str) -> Option<&str> {
    url.strip_prefix(MEDIA_SCHEME).filter(|id| !id.is_empty())
}
