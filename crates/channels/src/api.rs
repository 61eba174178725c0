//! The API channel: a program of the shop pushes buyers' messages to
//! `/webhooks/api/{inbox_id}` as JSON ([`ApiInbound`]), signed with
//! `X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the
//! inbox secret>`; replies are POSTed as JSON to the inbox's callback URL,
//! signed the same way. A 2xx answer means sent; 408, 429, 5xx and network
//! errors are worth retrying; any other 4xx fails at once.

use crate::{Channel, ChannelError, Parsed, Upload, WebhookRequest};
#[cfg(feature = "net")]
use crate::{Outbound, Outgoing, SendError, SendResult, Sent};
#[cfg(feature = "net")]
use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Utc};
pub use ferry_api_types::{ApiAttachment, ApiInbound, ApiSender};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, Inbox};
use ferry_core::message::{Attachment, ContentPart};
use ferry_core::signature;

/// Longest text accepted, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-ferry-signature";

/// The inbound side of API inboxes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiChannel;

fn clean_language(l: Option<String>) -> Option<String> {
    l.map(|l| l.trim().to_owned()).filter(|l| {
        !l.is_empty() && l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// An attachment of a payload, checked.
enum Carried {
    /// A file by link: its part as it is.
    Linked(Attachment),
    /// A file in the body, for intake to store (part index set later).
    Inline(Upload),
}

/// One attachment: a linked file becomes its part; a file carried in the
/// body becomes an upload for intake to store.
fn attachment(i: usize, a: ApiAttachment) -> Result<Carried, ChannelError> {
    let invalid = |m: String| ChannelError::invalid("attachments", m);
    let ct = a.content_type.trim().to_ascii_lowercase();
    if !ct.contains('/') || ct.len() > 127 {
        return Err(invalid(format!("attachments[{i}].content_type is not a MIME type")));
    }
    let filename =
        a.filename.map(|f| f.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(255).collect());
    match (a.url, a.data_base64) {
        (Some(url), None) => {
            let parsed = url::Url::parse(&url).map_err(|_| invalid(format!("attachments[{i}].url is not a URL")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid(format!("attachments[{i}].url must be http or https")));
            }
            Ok(Carried::Linked(Attachment { url, content_type: ct, filename, size: None }))
        }
        (None, Some(data)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|_| invalid(format!("attachments[{i}].data_base64 is not valid base64")))?;
            Ok(Carried::Inline(Upload { part: 0, bytes, content_type: ct, filename }))
        }
        _ => Err(invalid(format!("attachments[{i}] needs exactly one of url and data_base64"))),
    }
}

/// Reads a payload of `inbox` into an inbound message.
pub fn parse_payload(inbox: &Inbox, p: ApiInbound, now: DateTime<Utc>) -> Result<Parsed, ChannelError> {
    let external_id = p.external_id.trim().to_owned();
    if external_id.is_empty() || external_id.len() > 255 {
        return Err(ChannelError::invalid("external_id", "external_id must have 1 to 255 characters"));
    }
    let identity = Identity::new(IdentityKind::ApiHandle, &p.sender.handle, Some(inbox.id))
        .map_err(|e| ChannelError::invalid("sender.handle", e.to_string()))?;
    let mut extra = Vec::new();
    if let Some(e) = p.sender.email.as_deref().filter(|s| !s.trim().is_empty()) {
        extra.push(
            Identity::new(IdentityKind::Email, e, None)
                .map_err(|e| ChannelError::invalid("sender.email", e.to_string()))?,
        );
    }
    if let Some(ph) = p.sender.phone.as_deref().filter(|s| !s.trim().is_empty()) {
        extra.push(
            Identity::new(IdentityKind::Phone, ph, None)
                .map_err(|e| ChannelError::invalid("sender.phone", e.to_string()))?,
        );
    }
    let mut parts = Vec::new();
    if let Some(t) = p.text.as_deref() {
        if t.len() > MAX_TEXT {
            return Err(ChannelError::invalid("text", format!("text is longer than {MAX_TEXT} bytes")));
        }
        if !t.trim().is_empty() {
            parts.push(ContentPart::Text { text: t.to_owned() });
        }
    }
    let mut uploads = Vec::new();
    for (i, a) in p.attachments.into_iter().enumerate() {
        match attachment(i, a)? {
            Carried::Linked(linked) => parts.push(linked.into_part()),
            Carried::Inline(upload) => {
                let upload = Upload { part: parts.len(), ..upload };
                // Stands in for the stored file until intake stores it.
                parts.push(upload.stored(String::new(), upload.content_type.clone()));
                uploads.push(upload);
            }
        }
    }
    if parts.is_empty() {
        return Err(ChannelError::invalid("text", "a message needs text or at least one attachment"));
    }
    // A sender's clock ahead of ours must not put messages in the future.
    let sent_at = p.timestamp.map_or(now, |t| t.min(now));
    let inbound = Inbound {
        account_id: inbox.account_id,
        inbox_id: inbox.id,
        external_id,
        sender: InboundSender {
            identity,
            extra_identities: extra,
            name: p
                .sender
                .name
                .map(|n| n.trim().chars().filter(|c| !c.is_control()).take(255).collect())
                .filter(|n: &String| !n.is_empty()),
            language: clean_language(p.sender.language),
        },
        parts,
        sent_at,
        meta: Default::default(),
    };
    Ok(Parsed { inbound, uploads })
}

impl Channel for ApiChannel {
    fn name(&self) -> &'static str {
        "api"
    }

    fn kind(&self) -> ChannelKind {
        ChannelKind::Api
    }

    fn verify(&self, inbox: &Inbox, request: &WebhookRequest<'_>) -> Result<(), ChannelError> {
        let header =
            request.header(SIGNATURE_HEADER).ok_or(ChannelError::Unauthorized("missing X-Ferry-Signature header"))?;
        if signature::verify(inbox.secret.as_bytes(), request.body, header) {
            Ok(())
        } else {
            Err(ChannelError::Unauthorized("the signature does not match the body"))
        }
    }

    fn parse(&self, inbox: &Inbox, request: &WebhookRequest<'_>, now: DateTime<Utc>) -> Result<Parsed, ChannelError> {
        let payload: ApiInbound = serde_json::from_slice(request.body)
            .map_err(|e| ChannelError::Malformed(format!("invalid JSON body: {e}")))?;
        parse_payload(inbox, payload, now)
    }
}

/// The outbound side of API inboxes: the callback POST.
#[cfg(feature = "net")]
#[derive(Debug, Clone)]
pub struct ApiOutbound {
    http: reqwest::Client,
}

#[cfg(feature = "net")]
impl ApiOutbound {
    /// Sends with `http` (its timeouts apply).
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

/// The callback's JSON body.
#[cfg(feature = "net")]
pub fn callback_body(o: &Outgoing<'_>) -> serde_json::Value {
    let (inbox, conv, message) = (o.inbox, o.conversation, o.message);
    let handle = o.contact.and_then(|c| {
        c.identities
            .iter()
            .find(|i| i.kind == IdentityKind::ApiHandle && i.inbox_id == Some(inbox.id))
            .map(|i| i.value.clone())
    });
    serde_json::json!({
        "event": "message_created",
        "account_id": message.account_id,
        "inbox_id": inbox.id,
        "conversation_id": conv.id,
        "message": {
            "id": message.id,
            "kind": message.kind,
            "text": message.text(),
            "parts": message.parts,
            "sent_at": message.sent_at,
        },
        "contact": {
            "id": conv.contact_id,
            "name": o.contact.map(|c| c.name.clone()),
            "handle": handle,
        },
    })
}

#[cfg(feature = "net")]
fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

#[cfg(feature = "net")]
#[async_trait]
impl Outbound for ApiOutbound {
    async fn send(&self, o: Outgoing<'_>) -> SendResult {
        let Some(url) = o.inbox.config.callback_url.as_deref() else {
            return Err(SendError::Permanent("the inbox has no callback URL".into()));
        };
        let bytes = serde_json::to_vec(&callback_body(&o)).map_err(|e| SendError::Permanent(e.to_string()))?;
        let sig = signature::sign(o.inbox.secret.as_bytes(), &bytes);
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sig)
            .header("x-ferry-event", "message_created")
            .header("x-ferry-delivery", o.message.id.to_string())
            .body(bytes)
            .send()
            .await
            .map_err(|e| SendError::Retryable(format!("callback unreachable: {}", without_url(&e))))?;
        let status = resp.status();
        if status.is_success() {
            Ok(Sent::default())
        } else if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Retryable(format!("callback answered {status}")))
        } else {
            Err(SendError::Permanent(format!("callback answered {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use ferry_core::inbox::InboxConfig;
    use ferry_core::{AccountId, InboxId};

    fn inbox() -> Inbox {
        Inbox {
            id: InboxId(3),
            account_id: AccountId(1),
            name: "api".into(),
            channel: ChannelKind::Api,
            config: InboxConfig::default(),
            secret: "s3cret".into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn verifies_the_signature_of_the_exact_body() {
        let body = br#"{"external_id":"m1","sender":{"handle":"h"},"text":"hi"}"#;
        let sig = signature::sign(b"s3cret", body);
        let headers = [("X-Ferry-Signature", sig.as_str())];
        let ok = WebhookRequest { headers: &headers, body };
        assert_eq!(ApiChannel.verify(&inbox(), &ok), Ok(()));
        let tampered = WebhookRequest { headers: &headers, body: b"{}" };
        assert!(matches!(ApiChannel.verify(&inbox(), &tampered), Err(ChannelError::Unauthorized(_))));
        let unsigned = WebhookRequest { headers: &[], body };
        assert!(matches!(ApiChannel.verify(&inbox(), &unsigned), Err(ChannelError::Unauthorized(_))));
    }

    #[test]
    fn parses_text_and_both_kinds_of_attachment() {
        let body = br#"{"external_id":" m1 ","sender":{"handle":"h","name":" Ana "},"text":"hi",
            "attachments":[{"content_type":"image/png","url":"https://x.test/a.png"},
                           {"content_type":"Text/Plain","data_base64":"aGk=","filename":"a/b.txt"}]}"#;
        let now = Utc::now();
        let p = ApiChannel.parse(&inbox(), &WebhookRequest { headers: &[], body }, now).unwrap();
        assert_eq!(p.inbound.external_id, "m1");
        assert_eq!(p.inbound.sender.name.as_deref(), Some("Ana"));
        assert_eq!(p.inbound.sent_at, now);
        assert_eq!(p.inbound.parts.len(), 3);
        assert_eq!(p.uploads.len(), 1);
        assert_eq!((p.uploads[0].part, p.uploads[0].bytes.as_slice()), (2, b"hi".as_slice()));
        assert_eq!(p.uploads[0].filename.as_deref(), Some("ab.txt"));
    }

    #[test]
    fn refuses_what_it_cannot_take() {
        let parse = |body: &[u8]| ApiChannel.parse(&inbox(), &WebhookRequest { headers: &[], body }, Utc::now());
        assert!(matches!(parse(b"{"), Err(ChannelError::Malformed(_))));
        let empty = parse(br#"{"external_id":"m","sender":{"handle":"h"}}"#);
        assert!(matches!(empty, Err(ChannelError::Invalid { field: "text", .. })));
        let no_id = parse(br#"{"external_id":" ","sender":{"handle":"h"},"text":"x"}"#);
        assert!(matches!(no_id, Err(ChannelError::Invalid { field: "external_id", .. })));
        let ftp = parse(
            br#"{"external_id":"m","sender":{"handle":"h"},"attachments":[{"content_type":"a/b","url":"ftp://x"}]}"#,
        );
        assert!(matches!(ftp, Err(ChannelError::Invalid { field: "attachments", .. })));
    }
}
