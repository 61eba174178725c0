//! Sending e-mail replies over SMTP: the message is composed as a pure
//! function (text and HTML alternatives, attachments, the threading
//! headers `Message-ID`, `In-Reply-To` and `References`, the inbox's
//! sender name), then handed to the inbox's SMTP server over TLS, STARTTLS
//! or (on a trusted network) plain, with login when configured.
//!
//! The `Message-ID` is chosen by the caller from the stored message, so a
//! retried delivery sends the same message again rather than a new one,
//! and the buyer's reply, quoting it, threads back to its conversation.

use crate::email::imap::Security;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// A name and address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The address.
    pub email: String,
}

impl Address {
    /// An address without a name.
    pub fn new(email: impl Into<String>) -> Self {
        Self { name: None, email: email.into() }
    }

    fn mailbox(&self, field: &'static str) -> Result<Mailbox, ComposeError> {
        let email =
            self.email.trim().parse().map_err(|_| ComposeError::Address { field, value: self.email.clone() })?;
        Ok(Mailbox::new(self.name.clone().filter(|n| !n.trim().is_empty()), email))
    }
}

/// A file to attach.
#[derive(Debug, Clone)]
pub struct OutgoingFile {
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub bytes: Vec<u8>,
}

/// An e-mail to send.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    /// Sender (the inbox's address and name).
    pub from: Address,
    /// Where replies go, when not `from`.
    pub reply_to: Option<Address>,
    /// Recipients.
    pub to: Vec<Address>,
    /// Copies.
    pub cc: Vec<Address>,
    /// Blind copies (in the envelope only).
    pub bcc: Vec<Address>,
    /// Subject.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML alternative.
    pub html: Option<String>,
    /// This message's id, without angle brackets (`ferry.1.42@shop.example`).
    pub message_id: String,
    /// The id of the message answered, without angle brackets.
    pub in_reply_to: Option<String>,
    /// The thread's ids, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// Attachments.
    pub attachments: Vec<OutgoingFile>,
    /// A one-click unsubscribe URL (marketing): sent as `List-Unsubscribe`
    /// with `List-Unsubscribe-Post` (RFC 8058).
    pub list_unsubscribe: Option<String>,
}

/// `List-Unsubscribe: <https://…>`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().trim_start_matches('<').trim_end_matches('>').to_owned()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// Why a message could not be composed (nothing was sent).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ComposeError {
    /// An address does not parse.
    #[error("the {field} address {value:?} is not an e-mail address")]
    Address {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: String,
    },
    /// Nobody to send to.
    #[error("the e-mail has no recipient")]
    NoRecipient,
    /// An attachment's type is not a MIME type.
    #[error("the attachment {0:?} has no valid content type")]
    AttachmentType(String),
    /// Anything else the builder refused.
    #[error("the e-mail cannot be built: {0}")]
    Build(String),
}

fn bracket(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

/// Builds the message.
pub fn compose(email: &OutgoingEmail) -> Result<Message, ComposeError> {
    if email.to.is_empty() && email.cc.is_empty() && email.bcc.is_empty() {
        return Err(ComposeError::NoRecipient);
    }
    let mut b = Message::builder()
        .from(email.from.mailbox("from")?)
        .subject(email.subject.clone())
        .message_id(Some(bracket(&email.message_id)));
    if let Some(r) = &email.reply_to {
        b = b.reply_to(r.mailbox("reply-to")?);
    }
    for a in &email.to {
        b = b.to(a.mailbox("to")?);
    }
    for a in &email.cc {
        b = b.cc(a.mailbox("cc")?);
    }
    for a in &email.bcc {
        b = b.bcc(a.mailbox("bcc")?);
    }
    if let Some(id) = &email.in_reply_to {
        b = b.in_reply_to(bracket(id));
    }
    if !email.references.is_empty() {
        b = b.references(email.references.iter().map(|r| bracket(r)).collect::<Vec<_>>().join(" "));
    }
    if let Some(url) = &email.list_unsubscribe {
        if !url.starts_with("https://") && !url.starts_with("http://") || url.contains(['<', '>', ' ', '\r', '\n']) {
            return Err(ComposeError::Build(format!("the unsubscribe link {url:?} is not a URL")));
        }
        b = b.header(ListUnsubscribe(url.clone())).header(ListUnsubscribePost);
    }
    let body = match &email.html {
        Some(html) => MultiPart::alternative()
            .singlepart(SinglePart::plain(email.text.clone()))
            .singlepart(SinglePart::html(html.clone())),
        // A single part still declares its type and charset (and MIME):
        // without them clients read the UTF-8 text as US-ASCII.
        None if email.attachments.is_empty() => {
            return b.singlepart(SinglePart::plain(email.text.clone())).map_err(|e| ComposeError::Build(e.to_string()));
        }
        None => MultiPart::mixed().singlepart(SinglePart::plain(email.text.clone())),
    };
    let body = if email.attachments.is_empty() {
        body
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for f in &email.attachments {
            let ct =
                ContentType::parse(&f.content_type).map_err(|_| ComposeError::AttachmentType(f.filename.clone()))?;
            mixed = mixed.singlepart(Attachment::new(f.filename.clone()).body(f.bytes.clone(), ct));
        }
        mixed
    };
    b.multipart(body).map_err(|e| ComposeError::Build(e.to_string()))
}

/// An inbox's outgoing server.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct SmtpSettings {
    /// Host.
    pub host: String,
    /// Port (465 TLS, 587 STARTTLS, 25 plain).
    pub port: u16,
    /// Protection.
    pub security: Security,
    /// Login, when the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password (never logged).
    #[serde(default)]
    pub password: Option<String>,
    /// Extra trusted certificate authority in PEM.
    #[serde(default)]
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "…"))
            .finish()
    }
}

/// What sending found.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The settings cannot work (bad certificate file, …).
    #[error("the SMTP settings are not usable: {0}")]
    Settings(String),
    /// The message cannot be composed.
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// The server refused for good (5xx: bad recipient, login refused,
    /// policy).
    #[error("the mail server refused the message: {0}")]
    Refused(String),
    /// Worth trying again (4xx, network, timeout).
    #[error("the mail server could not take the message now: {0}")]
    Unavailable(String),
}

impl SmtpError {
    /// Whether trying again later can help.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

fn transport(settings: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpError> {
    let tls = || -> Result<TlsParameters, SmtpError> {
        let mut b = TlsParameters::builder(settings.host.clone());
        if let Some(pem) = &settings.ca_pem {
            let cert = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| SmtpError::Settings(format!("the trusted certificate is not valid PEM: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| SmtpError::Settings(e.to_string()))
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
        .port(settings.port)
        .timeout(Some(Duration::from_secs(30)))
        .tls(match settings.security {
            Security::Tls => Tls::Wrapper(tls()?),
            Security::Starttls => Tls::Required(tls()?),
            Security::Plain => Tls::None,
        });
    if let Some(user) = &settings.username {
        b = b.credentials(Credentials::new(user.clone(), settings.password.clone().unwrap_or_default()));
    }
    Ok(b.build())
}

fn classify(e: lettre::transport::smtp::Error) -> SmtpError {
    if e.is_permanent() { SmtpError::Refused(e.to_string()) } else { SmtpError::Unavailable(e.to_string()) }
}

/// Sends `email`; on success returns the `Message-ID` the server accepted
/// (without angle brackets, as parsed mail gives them).
pub async fn send(settings: &SmtpSettings, email: &OutgoingEmail) -> Result<String, SmtpError> {
    let message = compose(email)?;
    transport(settings)?.send(message).await.map_err(classify)?;
    Ok(email.message_id.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
}

/// Connects (and logs in when configured) without sending, saying exactly
/// what failed.
pub async fn check(settings: &SmtpSettings) -> Result<(), SmtpError> {
    match transport(settings)?.test_connection().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(SmtpError::Unavailable("the server did not answer NOOP".into())),
        Err(e) => Err(classify(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn reply() -> OutgoingEmail {
        OutgoingEmail {
            from: Address { name: Some("Lumen Shop".into()), email: "support@lumen.example".into() },
            reply_to: Some(Address::new("support+c42@lumen.example")),
            to: vec![Address { name: Some("Ana López".into()), email: "ana@example.com".into() }],
            cc: vec![Address::new("partner@example.com")],
            bcc: vec![Address::new("audit@lumen.example")],
            subject: "Re: ¿Dónde está mi pedido #1001?".into(),
            text: "Hola Ana, tu pedido salió ayer.".into(),
            html: Some("<p>Hola Ana, tu pedido salió ayer.</p>".into()),
            message_id: "ferry.1.77@lumen.example".into(),
            in_reply_to: Some("<CAB-1@mail.example.com>".into()),
            references: vec!["CAB-0@mail.example.com".into(), "<CAB-1@mail.example.com>".into()],
            attachments: vec![OutgoingFile {
                filename: "label.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF-1.4".to_vec(),
            }],
            list_unsubscribe: None,
        }
    }

    #[test]
    fn marketing_carries_one_click_unsubscribe() {
        let mut e = reply();
        e.list_unsubscribe = Some("https://ferry.example/unsubscribe/tok123".into());
        let raw = String::from_utf8(compose(&e).unwrap().formatted()).unwrap();
        assert!(raw.contains("List-Unsubscribe: <https://ferry.example/unsubscribe/tok123>\r\n"), "{raw}");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{raw}");
        assert!(!String::from_utf8(compose(&reply()).unwrap().formatted()).unwrap().contains("List-Unsubscribe"));
        e.list_unsubscribe = Some("javascript:alert(1)".into());
        assert!(matches!(compose(&e), Err(ComposeError::Build(_))));
    }

    #[test]
    fn a_reply_carries_its_thread_and_alternatives() {
        let raw = String::from_utf8(compose(&reply()).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <ferry.1.77@lumen.example>"), "{raw}");
        assert!(raw.contains("In-Reply-To: <CAB-1@mail.example.com>"), "{raw}");
        assert!(raw.contains("References: <CAB-0@mail.example.com> <CAB-1@mail.example.com>"), "{raw}");
        assert!(raw.contains("Reply-To: support+c42@lumen.example"), "{raw}");
        assert!(raw.contains("Cc: partner@example.com"), "{raw}");
        assert!(!raw.contains("audit@lumen.example"), "Bcc stays in the envelope");
        assert!(raw.contains("multipart/alternative") && raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("filename=\"label.pdf\""), "{raw}");
        assert!(raw.contains("From: \"Lumen Shop\" <support@lumen.example>"), "{raw}");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let mut e = reply();
        e.to = vec![Address::new("not an address")];
        assert_eq!(compose(&e).unwrap_err(), ComposeError::Address { field: "to", value: "not an address".into() });
        let mut e = reply();
        (e.to, e.cc, e.bcc) = (vec![], vec![], vec![]);
        assert_eq!(compose(&e).unwrap_err(), ComposeError::NoRecipient);
        let mut e = reply();
        e.attachments[0].content_type = "pdf".into();
        assert!(matches!(compose(&e).unwrap_err(), ComposeError::AttachmentType(_)));
        let plain = OutgoingEmail { html: None, attachments: vec![], ..reply() };
        let raw = String::from_utf8(compose(&plain).unwrap().formatted()).unwrap();
        assert!(!raw.contains("multipart"), "{raw}");
        // Plain text alone still names its charset, or clients garble "salió".
        assert!(raw.contains("MIME-Version: 1.0") && raw.contains("Content-Type: text/plain; charset=utf-8"), "{raw}");
        let parsed = crate::email::parse(raw.as_bytes()).unwrap();
        assert_eq!(parsed.text.trim(), "Hola Ana, tu pedido salió ayer.");
    }

    #[test]
    fn passwords_never_print() {
        let s = SmtpSettings {
            host: "smtp.example".into(),
            port: 587,
            security: Security::Starttls,
            username: Some("u".into()),
            password: Some("hunter2".into()),
            ca_pem: None,
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
