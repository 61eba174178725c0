//! SMS and MMS inboxes through a provider speaking Twilio's Messages API.
//! Pure parts: the inbox's settings (`config.extra["sms"]`), the
//! form-encoded webhook's parameters, its `X-Twilio-Signature` check
//! (base64 HMAC-SHA1 over the full URL and the sorted parameters, see
//! [`ferry_core::sms_signature`]), the reading of a buyer's message (its
//! MMS files as `NumMedia`, `MediaUrl{n}`, `MediaContentType{n}`) or of a
//! status callback (`MessageStatus`), and the opt-out keywords (STOP,
//! START, HELP and their synonyms). With `net`, [`SmsOutbound`] sends
//! agents' and the bot's replies, asking for status callbacks.

use crate::update::{Batch, IncomingMessage, MediaRef, StatusReport, Update};
use crate::{ChannelError, WebhookRequest};
use chrono::{DateTime, Utc};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{Inbox, InboxConfig};
use ferry_core::message::{Attachment, ContentPart, DeliveryStatus};
use ferry_core::secret::Secret;
use serde_json::Value;

/// The key of the SMS section in `config.extra`.
pub const SECTION: &str = "sms";

/// The API Ferry talks to unless the inbox says otherwise.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The most MMS files one message may carry.
pub const MAX_MEDIA: usize = 10;

/// The checked settings of an SMS inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsSettings {
    /// The account sid (`AC…`): the API user and part of its paths.
    pub account_sid: String,
    /// The auth token: the API password and the webhooks' signing key.
    pub auth_token: Secret<String>,
    /// The number the inbox texts from (E.164).
    pub from_number: String,
    /// The full URL the provider posts to, exactly as configured there
    /// (the signature covers it); `None`: Ferry's own webhook URL.
    pub webhook_url: Option<String>,
    /// The API base, no trailing slash.
    pub api_base: String,
}

fn text<'a>(section: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    section.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty())
}

fn http_url(field: &'static str, value: &str) -> Result<String, ChannelError> {
    let parsed =
        url::Url::parse(value).map_err(|_| ChannelError::invalid(field, format!("sms.{field} is not a URL")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ChannelError::invalid(field, format!("sms.{field} must be an http(s) URL")));
    }
    Ok(value.to_owned())
}

impl SmsSettings {
    /// The SMS settings of `inbox`: `None` when it has none, an error
    /// naming the field when they are incomplete or wrong.
    pub fn of(inbox: &Inbox) -> Result<Option<Self>, ChannelError> {
        Self::from_config(&inbox.config)
    }

    /// As [`SmsSettings::of`], from the settings alone.
    pub fn from_config(config: &InboxConfig) -> Result<Option<Self>, ChannelError> {
        let Some(raw) = config.extra.get(SECTION) else { return Ok(None) };
        let Some(section) = raw.as_object() else {
            return Err(ChannelError::invalid("sms", "sms settings must be an object"));
        };
        let account_sid = text(section, "account_sid")
            .ok_or_else(|| ChannelError::invalid("account_sid", "sms.account_sid is required"))?;
        if account_sid.len() > 64 || !account_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ChannelError::invalid("account_sid", "sms.account_sid must be letters and digits (AC…)"));
        }
        let auth_token = text(section, "auth_token")
            .ok_or_else(|| ChannelError::invalid("auth_token", "sms.auth_token is required"))?;
        if auth_token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ChannelError::invalid("auth_token", "sms.auth_token must be one word"));
        }
        let from = text(section, "from_number")
            .ok_or_else(|| ChannelError::invalid("from_number", "sms.from_number is required"))?;
        let from_number = Identity::new(IdentityKind::Phone, from, None)
            .map_err(|_| ChannelError::invalid("from_number", "sms.from_number must be a phone number in E.164 (+…)"))?
            .value;
        let webhook_url = text(section, "webhook_url").map(|u| http_url("webhook_url", u)).transpose()?;
        let api_base = http_url("api_base", text(section, "api_base").unwrap_or(DEFAULT_API_BASE))?
            .trim_end_matches('/')
            .to_owned();
        Ok(Some(SmsSettings {
            account_sid: account_sid.to_owned(),
            auth_token: Secret::new(auth_token.to_owned()),
            from_number,
            webhook_url,
            api_base,
        }))
    }
}

/// The parameters of a form-encoded body, in order.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Checks `X-Twilio-Signature` of a POST of `request.body` to `url` (the
/// full URL the provider was given), keyed by the auth token.
pub fn verify_signature(settings: &SmsSettings, url: &str, request: &WebhookRequest<'_>) -> Result<(), ChannelError> {
    let header =
        request.header(SIGNATURE_HEADER).ok_or(ChannelError::Unauthorized("missing X-Twilio-Signature header"))?;
    if ferry_core::sms_signature::verify(settings.auth_token.expose(), url, &form(request.body), header) {
        Ok(())
    } else {
        Err(ChannelError::Unauthorized("X-Twilio-Signature does not match the URL and parameters"))
    }
}

/// An opt-out keyword a buyer texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: send nothing more.
    Stop,
    /// START, YES, UNSTOP: sending may resume.
    Start,
    /// HELP, INFO: what this number is and how to stop.
    Help,
}

impl Keyword {
    /// The keyword a whole message is, if it is one (any case, spaces and
    /// final punctuation aside).
    pub fn of(text: &str) -> Option<Self> {
        let word = text.trim().trim_end_matches(['.', '!', '?']).trim().to_uppercase();
        match word.as_str() {
            "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::Stop),
            "START" | "YES" | "UNSTOP" => Some(Keyword::Start),
            "HELP" | "INFO" => Some(Keyword::Help),
            _ => None,
        }
    }
}

/// One webhook delivery, read.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsDelivery {
    /// The message or status report it carried.
    pub batch: Batch,
    /// The keyword the buyer's message is, if it is one.
    pub keyword: Option<Keyword>,
}

fn ignored(what: &str, reason: impl Into<String>) -> Update {
    Update::Ignored { what: what.to_owned(), reason: reason.into() }
}

/// The URL scheme of placeholder attachments for MMS files still at the
/// provider: `sms-media:{n}`.
pub const MEDIA_SCHEME: &str = "sms-media:";

/// Reads a delivery's parameters for `inbox`: a buyer's SMS/MMS or a
/// status callback of a message Ferry sent. Errors only when it is
/// neither (no `MessageSid`).
pub fn parse(inbox: &Inbox, params: &[(String, String)], now: DateTime<Utc>) -> Result<SmsDelivery, ChannelError> {
    let sid = param(params, "MessageSid")
        .or_else(|| param(params, "SmsSid"))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or_else(|| ChannelError::Malformed("not an SMS webhook: no MessageSid".into()))?;
    let status = param(params, "MessageStatus").or_else(|| param(params, "SmsStatus")).unwrap_or("received");
    if !matches!(status, "received" | "receiving") {
        let update = match status {
            "sent" => Some(DeliveryStatus::Sent),
            "delivered" => Some(DeliveryStatus::Delivered),
            "read" => Some(DeliveryStatus::Read),
            "undelivered" | "failed" => {
                let code = param(params, "ErrorCode").filter(|c| !c.is_empty());
                let message = param(params, "ErrorMessage").filter(|c| !c.is_empty());
                let reason = match (code, message) {
                    (Some(c), Some(m)) => format!("the SMS was {status}: {m} (error {c})"),
                    (Some(c), None) => format!("the SMS was {status} (error {c})"),
                    (None, Some(m)) => format!("the SMS was {status}: {m}"),
                    (None, None) => format!("the SMS was {status}"),
                };
                Some(DeliveryStatus::Failed { reason })
            }
            _ => None,
        };
        let update = match update {
            Some(status) => Update::Status(StatusReport {
                external_id: sid.to_owned(),
                status,
                at: now,
                reference: None,
                error: None,
                pricing: None,
            }),
            None => ignored("status", format!("status `{status}` is not a delivery state yet")),
        };
        return Ok(SmsDelivery { batch: Batch { updates: vec![update] }, keyword: None });
    }
    let from = param(params, "From").unwrap_or_default();
    let Ok(identity) = Identity::new(IdentityKind::Phone, from, None) else {
        let u = ignored("message", "the sender is not a phone number (a short code or alphanumeric sender)");
        return Ok(SmsDelivery { batch: Batch { updates: vec![u] }, keyword: None });
    };
    let body = param(params, "Body").unwrap_or_default();
    let keyword = Keyword::of(body);
    let mut parts = Vec::new();
    let mut media = Vec::new();
    let count: usize = param(params, "NumMedia").and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    for n in 0..count.min(MAX_MEDIA) {
        let Some(url) = param(params, &format!("MediaUrl{n}")).filter(|u| u.starts_with("http")) else { continue };
        let content_type = param(params, &format!("MediaContentType{n}"))
            .filter(|c| c.contains('/'))
            .unwrap_or("application/octet-stream")
            .to_ascii_lowercase();
        let attachment = Attachment {
            url: format!("{MEDIA_SCHEME}{n}"),
            content_type: content_type.clone(),
            filename: None,
            size: None,
        };
        media.push(MediaRef {
            part: parts.len(),
            media_id: url.to_owned(),
            url: Some(url.to_owned()),
            content_type: content_type.clone(),
            filename: None,
            sha256: None,
        });
        parts.push(if content_type.starts_with("image/") {
            ContentPart::Image { attachment }
        } else if content_type.starts_with("audio/") {
            ContentPart::Audio { attachment }
        } else {
            ContentPart::File { attachment }
        });
    }
    if !body.trim().is_empty() {
        parts.push(ContentPart::Text { text: body.to_owned() });
    }
    if parts.is_empty() {
        let u = ignored("message", "an empty message");
        return Ok(SmsDelivery { batch: Batch { updates: vec![u] }, keyword: None });
    }
    let inbound = Inbound {
        account_id: inbox.account_id,
        inbox_id: inbox.id,
        external_id: sid.to_owned(),
        sender: InboundSender { identity, extra_identities: Vec::new(), name: None, language: None },
        parts,
        sent_at: now,
        meta: Default::default(),
    };
    let update = Update::Message(Box::new(IncomingMessage {
        inbound,
        uploads: Vec::new(),
        media,
        reply_to: None,
        activity: false,
        referral: None,
        button_payload: None,
    }));
    Ok(SmsDelivery { batch: Batch { updates: vec![update] }, keyword })
}

/// The text an SMS carries for `parts`: the text, then each question with
/// its choices numbered (a buyer answers with the number or the title).
pub fn text_for(parts: &[ContentPart]) -> String {
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        match p {
            ContentPart::Text { text } if !text.trim().is_empty() => out.push(text.trim().to_owned()),
            ContentPart::Buttons { text, buttons } => {
                let mut lines = vec![text.trim().to_owned()];
                lines.extend(buttons.iter().enumerate().map(|(i, b)| format!("{}) {}", i + 1, b.title)));
                out.push(lines.join("\n"));
            }
            ContentPart::Location { latitude, longitude, name } => out.push(match name {
                Some(n) => format!("{n}: https://maps.google.com/?q={latitude},{longitude}"),
                None => format!("https://maps.google.com/?q={latitude},{longitude}"),
            }),
            ContentPart::Template { template } => out.push(template.text.clone()),
            ContentPart::Survey { survey } => out.push(survey.as_text()),
            _ => {}
        }
    }
    out.join("\n\n")
}

#[cfg(feature = "net")]
pub use net::SmsOutbound;

#[cfg(feature = "net")]
mod net {
    use super::{SmsSettings, text_for};
    use crate::{Files, Outbound, Outgoing, SendError, SendResult, Sent};
    use async_trait::async_trait;
    use ferry_core::contact::IdentityKind;
    use ferry_core::message::ContentPart;
    use serde_json::Value;
    use std::sync::Arc;
    use std::time::Duration;

    /// Sends the messages of SMS inboxes through the provider's Messages
    /// API, asking for status callbacks at the inbox's webhook URL. Files
    /// cannot be sent (MMS needs a public URL for each file): a message
    /// with files fails with that reason.
    pub struct SmsOutbound {
        http: reqwest::Client,
        _files: Arc<dyn Files>,
        public_url: String,
    }

    impl SmsOutbound {
        /// Sends with `http`; status callbacks go to
        /// `{public_url}/webhooks/sms/{inbox}` unless the inbox names its
        /// URL.
        pub fn new(http: reqwest::Client, files: Arc<dyn Files>, public_url: &str) -> Self {
            Self { http, _files: files, public_url: public_url.trim_end_matches('/').to_owned() }
        }
    }

    #[async_trait]
    impl Outbound for SmsOutbound {
        fn default_rate(&self, _inbox: &ferry_core::inbox::Inbox) -> Option<f64> {
            // A long code's usual limit: one message a second.
            Some(1.0)
        }

        async fn send(&self, o: Outgoing<'_>) -> SendResult {
            let settings = SmsSettings::of(o.inbox)
                .map_err(|e| SendError::Permanent(format!("the SMS settings are wrong: {e}")))?
                .ok_or_else(|| SendError::Permanent("the inbox has no SMS settings".into()))?;
            let to = o
                .contact
                .and_then(|c| {
                    c.identities
                        .iter()
                        .find(|i| i.kind == IdentityKind::Phone)
                        .map(|i| i.value.clone())
                        .or(c.phone.clone())
                })
                .ok_or_else(|| SendError::Permanent("the buyer has no phone number".into()))?;
            if o.message
                .parts
                .iter()
                .any(|p| matches!(p, ContentPart::Image { .. } | ContentPart::File { .. } | ContentPart::Audio { .. }))
            {
                return Err(SendError::Permanent("files cannot be sent by SMS from Ferry; send a link instead".into()));
            }
            let body = text_for(&o.message.parts);
            if body.trim().is_empty() {
                return Err(SendError::Permanent("the message has no text to send by SMS".into()));
            }
            let callback = settings
                .webhook_url
                .clone()
                .unwrap_or_else(|| format!("{}/webhooks/sms/{}", self.public_url, o.inbox.id));
            let url = format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                settings.api_base,
                url::form_urlencoded::byte_serialize(settings.account_sid.as_bytes()).collect::<String>()
            );
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("To", &to)
                .append_pair("From", &settings.from_number)
                .append_pair("Body", &body)
                .append_pair("StatusCallback", &callback)
                .finish();
            let resp = self
                .http
                .post(&url)
                .basic_auth(&settings.account_sid, Some(settings.auth_token.expose()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .map_err(|e| SendError::Retryable(format!("the SMS provider is unreachable: {}", e.without_url())))?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                let sid = v["sid"].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
                return Ok(Sent { external_id: sid });
            }
            let message = v["message"].as_str().unwrap_or("no message").to_owned();
            let code = v["code"].as_i64().map(|c| format!(" (error {c})")).unwrap_or_default();
            let m = format!("the SMS provider answered {status}{code}: {message}");
            Err(match status.as_u16() {
                429 => SendError::Throttled {
                    reason: m,
                    retry_after: Duration::from_secs(retry_after.unwrap_or(1).clamp(1, 3600)),
                },
                s if s >= 500 => SendError::Retryable(m),
                _ => SendError::Permanent(m),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ferry_core::{AccountId, InboxId};
    use serde_json::json;

    fn inbox() -> Inbox {
        let mut config = InboxConfig::default();
        config
            .extra
            .insert(SECTION.into(), json!({"account_sid": "AC1", "auth_token": "tok", "from_number": "+15005550006"}));
        Inbox {
            id: InboxId(3),
            account_id: AccountId(1),
            name: "SMS".into(),
            channel: ferry_core::inbox::ChannelKind::Sms,
            config,
            secret: String::new(),
            created_at: Utc::now(),
        }
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn keywords_and_their_synonyms() {
        for w in ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "CANCEL", "end", "QUIT!"] {
            assert_eq!(Keyword::of(w), Some(Keyword::Stop), "{w}");
        }
        for w in ["START", "yes", "UNSTOP"] {
            assert_eq!(Keyword::of(w), Some(Keyword::Start), "{w}");
        }
        for w in ["HELP", "info"] {
            assert_eq!(Keyword::of(w), Some(Keyword::Help), "{w}");
        }
        assert_eq!(Keyword::of("please stop sending"), None);
        assert_eq!(Keyword::of("yes please"), None);
    }

    #[test]
    fn an_mms_has_its_files_and_text() {
        let params = p(&[
            ("MessageSid", "MM1"),
            ("From", "+4915112345678"),
            ("To", "+15005550006"),
            ("Body", "Broken"),
            ("NumMedia", "2"),
            ("MediaUrl0", "https://api.example/m/0"),
            ("MediaContentType0", "image/jpeg"),
            ("MediaUrl1", "https://api.example/m/1"),
            ("MediaContentType1", "application/pdf"),
            ("SmsStatus", "received"),
        ]);
        let d = parse(&inbox(), &params, Utc::now()).unwrap();
        let Update::Message(m) = &d.batch.updates[0] else { panic!() };
        assert_eq!(m.inbound.external_id, "MM1");
        assert_eq!(m.media.len(), 2);
        assert_eq!(m.media[1].url.as_deref(), Some("https://api.example/m/1"));
        assert!(matches!(m.inbound.parts[0], ContentPart::Image { .. }));
        assert!(matches!(m.inbound.parts[1], ContentPart::File { .. }));
        assert!(matches!(&m.inbound.parts[2], ContentPart::Text { text } if text == "Broken"));
        assert_eq!(m.inbound.sender.identity.value, "+4915112345678");
        assert_eq!(d.keyword, None);
    }

    #[test]
    fn status_callbacks_become_reports() {
        let status = |s: &str| {
            let d =
                parse(&inbox(), &p(&[("MessageSid", "SM1"), ("MessageStatus", s), ("ErrorCode", "30006")]), Utc::now())
                    .unwrap();
            d.batch.updates[0].clone()
        };
        assert!(matches!(status("delivered"), Update::Status(StatusReport { status: DeliveryStatus::Delivered, .. })));
        assert!(matches!(status("sent"), Update::Status(StatusReport { status: DeliveryStatus::Sent, .. })));
        assert!(matches!(status("undelivered"),
            Update::Status(StatusReport { status: DeliveryStatus::Failed { reason }, .. }) if reason.contains("30006")));
        assert!(matches!(status("queued"), Update::Ignored { .. }));
        assert!(matches!(parse(&inbox(), &p(&[("Body", "x")]), Utc::now()), Err(ChannelError::Malformed(_))));
    }

    #[test]
    fn settings_name_the_wrong_field() {
        let field = |v: Value| {
            let mut c = InboxConfig::default();
            c.extra.insert(SECTION.into(), v);
            match SmsSettings::from_config(&c) {
                Err(ChannelError::Invalid { field, .. }) => field,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(field(json!({"auth_token": "t", "from_number": "+15005550006"})), "account_sid");
        assert_eq!(field(json!({"account_sid": "AC1", "from_number": "+15005550006"})), "auth_token");
        assert_eq!(field(json!({"account_sid": "AC1", "auth_token": "t", "from_number": "nope"})), "from_number");
        assert_eq!(
            field(json!({"account_sid": "AC1", "auth_token": "t", "from_number": "+15005550006", "webhook_url": "x"})),
            "webhook_url"
        );
    }

    #[test]
    fn choices_are_numbered() {
        let parts = vec![ContentPart::Buttons {
            text: "Anything else?".into(),
            buttons: vec![ferry_core::message::Button { title: "Talk to a person".into(), payload: "/human".into() }],
        }];
        assert_eq!(text_for(&parts), "Anything else?\n1) Talk to a person");
    }
}
