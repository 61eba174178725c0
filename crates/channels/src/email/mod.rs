//! E-mail: mailboxes read over IMAP ([`imap`]), replies sent over SMTP
//! ([`send`]), and a raw RFC 5322 message turned into a normalised [`ParsedEmail`]
//! as a pure function (no IO), and mapped onto intake's [`Inbound`].
//!
//! Parsing decodes headers and bodies in any charset, keeps the full text
//! of the thread beside a reply text with quotes and signatures folded
//! away, sanitises HTML for display, collects attachments, and classifies
//! the message (a buyer's mail, an auto-reply or a bounce) so intake can
//! keep machines out of conversations. Amazon's buyer relay and Ferry's own
//! conversation tokens are recognised so replies thread without headers.
//!
//! [`Inbound`]: ferry_core::inbound::Inbound

#[cfg(feature = "net")]
pub mod imap;
#[cfg(feature = "net")]
pub mod send;

mod classify;
mod html;
mod intake;
mod markers;
mod quote;

pub use classify::{AutoReplySignal, Bounce};
pub use html::{html_to_text, sanitize_html};
pub use intake::{EmailExtras, MAX_INBOUND_TEXT, to_inbound};
pub use markers::{
    AmazonRelay, amazon_order_id, amazon_relay, conversation_token_in_address, conversation_token_in_subject,
};
pub use quote::fold_quotes;

use chrono::{DateTime, Utc};
use mail_parser::{Address, HeaderName, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The largest raw message accepted, in bytes.
pub const MAX_EMAIL_BYTES: usize = 40 * 1024 * 1024;

/// Why a raw message could not become a [`ParsedEmail`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Larger than [`MAX_EMAIL_BYTES`].
    #[error("the message is {size} bytes, more than the {max} accepted")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not an e-mail message at all (no headers found).
    #[error("the data is not an e-mail message")]
    NotAMessage,
    /// Neither `From` nor `Sender` holds a usable address.
    #[error("the message has no usable sender address")]
    NoSender,
    /// No text, no subject and no attachment.
    #[error("the message has no content")]
    Empty,
}

/// A mailbox: an address with its display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    /// The address as written (trimmed; not lower-cased).
    pub address: String,
    /// The display name, decoded, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A file carried by a message, or a nested message (`message/rfc822`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAttachment {
    /// The file name given by the sender, decoded, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The declared MIME type, lower-cased (`application/octet-stream`
    /// when none was declared). Not trusted: the bytes decide how a file
    /// is served.
    pub content_type: String,
    /// The decoded content (for a nested message, its raw bytes).
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
    /// The `Content-ID` without angle brackets, by which the HTML refers to
    /// it as `cid:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// Whether it is shown within the body rather than offered as a file.
    pub inline: bool,
}

/// What kind of mail it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EmailKind {
    /// Written by a person.
    Normal,
    /// Sent automatically (out of office, vacation notice, ticket receipt).
    AutoReply {
        /// What showed it.
        signal: AutoReplySignal,
    },
    /// A delivery failure (or delay) report about a message we sent.
    Bounce(Bounce),
}

/// An inbound e-mail, parsed and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedEmail {
    /// `Message-ID` without angle brackets, or a synthetic id (see
    /// `message_id_synthetic`).
    pub message_id: String,
    /// Whether the message had no `Message-ID` and `message_id` is the
    /// hex SHA-256 of the raw bytes (stable across re-deliveries).
    pub message_id_synthetic: bool,
    /// The first id of `In-Reply-To`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The ids of `References`, oldest first.
    #[serde(default)]
    pub references: Vec<String>,
    /// The author (`From`, else `Sender`).
    pub from: EmailAddress,
    /// Where replies should go, when it differs from `from`.
    #[serde(default)]
    pub reply_to: Vec<EmailAddress>,
    /// `To` recipients.
    #[serde(default)]
    pub to: Vec<EmailAddress>,
    /// `Cc` recipients.
    #[serde(default)]
    pub cc: Vec<EmailAddress>,
    /// `Bcc` recipients (rarely present on received mail).
    #[serde(default)]
    pub bcc: Vec<EmailAddress>,
    /// The decoded subject (empty when none).
    pub subject: String,
    /// The `Date` header, if valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<Utc>>,
    /// The full text of the message: the text/plain body, else the HTML
    /// body converted to readable text.
    pub text: String,
    /// `text` with quoted replies, reply headers and signatures folded
    /// away: what the sender wrote this time. Empty when nothing is left
    /// (a bare forward of a quote); fall back to `text` then.
    pub reply_text: String,
    /// The HTML body, sanitised for display, when the message had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Files and nested messages.
    #[serde(default)]
    pub attachments: Vec<EmailAttachment>,
    /// A person's mail, an auto-reply or a bounce.
    pub kind: EmailKind,
    /// Set when the sender is Amazon's buyer–seller relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amazon: Option<AmazonRelay>,
    /// A conversation token found in a recipient's sub-address
    /// (`support+c123@…`) or the subject (`[#c123]`): the number names the
    /// conversation the mail replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_token: Option<i64>,
}

impl ParsedEmail {
    /// The text the sender wrote this time: `reply_text`, or the full text
    /// when folding left nothing.
    pub fn reply_or_full_text(&self) -> &str {
        if self.reply_text.trim().is_empty() { &self.text } else { &self.reply_text }
    }
}

/// Parses a raw RFC 5322 message.
///
/// Never panics; malformed MIME is parsed as far as it goes. Refuses input
/// above [`MAX_EMAIL_BYTES`], input that is not a message, messages without
/// a usable sender address and messages with no content at all.
pub fn parse(raw: &[u8]) -> Result<ParsedEmail, EmailError> {
    if raw.len() > MAX_EMAIL_BYTES {
        return Err(EmailError::TooLarge { size: raw.len(), max: MAX_EMAIL_BYTES });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(EmailError::NotAMessage);
    }
    let msg = MessageParser::new().parse(raw).ok_or(EmailError::NotAMessage)?;

    // The first usable address of any `From` header (some senders repeat
    // it), else of `Sender`.
    let from = [HeaderName::From, HeaderName::Sender]
        .into_iter()
        .flat_map(|wanted| msg.root_part().headers.iter().filter(move |h| h.name == wanted))
        .filter_map(|h| h.value.as_address())
        .find_map(first_usable)
        .ok_or(EmailError::NoSender)?;

    let (message_id, message_id_synthetic) = match msg.message_id().map(clean_id).filter(|s| !s.is_empty()) {
        Some(id) => (id, false),
        None => (hex::encode(Sha256::digest(raw)), true),
    };
    let subject = msg.subject().map(collapse_line).unwrap_or_default();
    let date = msg.date().filter(|d| d.is_valid()).and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0));

    let (text, html_reply_text) = body_text(&msg);
    let html = body_html(&msg);
    let reply_text = fold_quotes(html_reply_text.as_deref().unwrap_or(&text));
    let attachments = msg.attachments().map(attachment).collect::<Vec<_>>();

    if text.trim().is_empty() && subject.is_empty() && attachments.is_empty() {
        return Err(EmailError::Empty);
    }

    let to = addresses(msg.to());
    let cc = addresses(msg.cc());
    let bcc = addresses(msg.bcc());
    let conversation_token = to
        .iter()
        .chain(&cc)
        .chain(&bcc)
        .map(|a| a.address.as_str())
        .chain(raw_headers(&msg, &["Delivered-To", "X-Original-To", "Envelope-To"]))
        .find_map(conversation_token_in_address)
        .or_else(|| conversation_token_in_subject(&subject));
    let amazon = amazon_relay(&from.address).map(|relay_address| AmazonRelay {
        relay_address,
        order_id: amazon_order_id(&subject).or_else(|| amazon_order_id(&text)),
    });
    let kind = classify::classify(&msg, &from, &subject, &text);

    Ok(ParsedEmail {
        message_id,
        message_id_synthetic,
        in_reply_to: ids(msg.in_reply_to()).into_iter().next(),
        references: ids(msg.references()),
        reply_to: addresses(msg.reply_to()),
        from,
        to,
        cc,
        bcc,
        subject,
        date,
        text,
        reply_text,
        html,
        attachments,
        kind,
        amazon,
        conversation_token,
    })
}

/// The full text and, when it came from HTML, the reply text with the
/// HTML quote containers already left out.
fn body_text(msg: &Message<'_>) -> (String, Option<String>) {
    let mut full = Vec::new();
    let mut reply = Vec::new();
    let mut from_html = false;
    for part in msg.text_bodies() {
        match &part.body {
            PartType::Text(t) => {
                full.push(normalise_newlines(t));
                reply.push(normalise_newlines(t));
            }
            PartType::Html(h) => {
                let converted = html::convert(h);
                full.push(converted.full);
                reply.push(converted.reply);
                from_html = true;
            }
            _ => {}
        }
    }
    let full = join_texts(full);
    (full, from_html.then(|| join_texts(reply)))
}

fn join_texts(parts: Vec<String>) -> String {
    parts.iter().map(|t| t.trim_end()).filter(|t| !t.trim().is_empty()).collect::<Vec<_>>().join("\n\n")
}

fn body_html(msg: &Message<'_>) -> Option<String> {
    let parts: Vec<String> = msg
        .html_bodies()
        .filter_map(|p| match &p.body {
            PartType::Html(h) => Some(sanitize_html(h)),
            _ => None,
        })
        .filter(|h| !h.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n<hr>\n"))
}

fn attachment(part: &mail_parser::MessagePart<'_>) -> EmailAttachment {
    let content_type = match (&part.body, part.content_type()) {
        (PartType::Message(_), None) => "message/rfc822".to_owned(),
        (_, Some(ct)) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        (PartType::Text(_), None) => "text/plain".to_owned(),
        (PartType::Html(_), None) => "text/html".to_owned(),
        _ => "application/octet-stream".to_owned(),
    };
    let content_id = part.content_id().map(clean_id).filter(|s| !s.is_empty());
    let disposition_inline = part.content_disposition().map(|d| d.is_inline());
    let inline = match disposition_inline {
        Some(inline) => inline,
        None => matches!(part.body, PartType::InlineBinary(_)) || content_id.is_some(),
    };
    EmailAttachment {
        filename: part.attachment_name().map(collapse_line).filter(|n| !n.is_empty()),
        content_type,
        bytes: part.contents().to_vec(),
        content_id,
        inline,
    }
}

fn first_usable(addr: &Address<'_>) -> Option<EmailAddress> {
    addr.iter().find_map(|a| {
        let address = a.address()?.trim();
        ferry_core::account::normalize_email(address)?;
        Some(EmailAddress { address: address.to_owned(), name: clean_name(a.name()) })
    })
}

fn addresses(addr: Option<&Address<'_>>) -> Vec<EmailAddress> {
    addr.map(|a| {
        a.iter()
            .filter_map(|a| {
                let address = a.address()?.trim();
                (!address.is_empty()).then(|| EmailAddress { address: address.to_owned(), name: clean_name(a.name()) })
            })
            .collect()
    })
    .unwrap_or_default()
}

fn clean_name(name: Option<&str>) -> Option<String> {
    name.map(collapse_line)
        .map(|n| n.trim_matches(|c| c == '"' || c == '\'').trim().to_owned())
        .filter(|n| !n.is_empty())
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![clean_id(t)],
        HeaderValue::TextList(l) => l.iter().map(|t| clean_id(t)).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn raw_headers<'a>(msg: &'a Message<'_>, names: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    msg.headers_raw().filter(move |(n, _)| names.iter().any(|w| n.eq_ignore_ascii_case(w))).map(|(_, v)| v.trim())
}

/// The value of a raw header of the top-level message, trimmed.
pub(crate) fn raw_header<'a>(msg: &'a Message<'_>, name: &str) -> Option<&'a str> {
    msg.headers_raw().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

/// An id without angle brackets, white space or control characters.
pub(crate) fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect()
}

/// One line: runs of white space (folded headers) become one space.
fn collapse_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalise_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s.as_bytes()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parsed(raw: &[u8]) -> ParsedEmail {
        match parse(raw) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn east_asian_charsets_decode() {
        for (charset, body, subject, want_body, want_subject) in [
            (
                "gbk",
                "ztLSqs3Lu/WjrLaptaW6xSAxMjM=",
                "=?gbk?B?ztLSqs3Lu/WjrLap?=",
                "我要退货，订单号 123",
                "我要退货，订",
            ),
            (
                "big5",
                "p9qtbrBos2ahQa1xs+a4uSAxMjM=",
                "=?big5?B?p9qtbrBos2ahQa1x?=",
                "我要退貨，訂單號 123",
                "我要退貨，訂",
            ),
            (
                "shift_jis",
                "ldSVaYK1gr2CooLFgreBQpKNlbaU1I2GIDEyMw==",
                "=?shift_jis?B?ldSVaYK1gr2CooLF?=",
                "返品したいです。注文番号 123",
                "返品したいで",
            ),
            (
                "iso-2022-jp",
                "GyRCSlZJSiQ3JD8kJCRHJDkhI0NtSjhIVjlmGyhCIDEyMw==",
                "=?iso-2022-jp?B?GyRCSlZJSiQ3JD8kJCRHGyhC?=",
                "返品したいです。注文番号 123",
                "返品したいで",
            ),
            (
                "euc-kr",
                "ud3HsMfPsO0gvc2+7r/kIDEyMw==",
                "=?euc-kr?B?ud3HsMfPsO0gvc0=?=",
                "반품하고 싶어요 123",
                "반품하고 싶",
            ),
        ] {
            let raw = format!(
                "From: buyer@example.cn\r\nSubject: {subject}\r\nContent-Type: text/plain; charset={charset}\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
            );
            let p = parsed(raw.as_bytes());
            assert_eq!(p.text, want_body, "{charset}");
            assert_eq!(p.subject, want_subject, "{charset}");
        }
    }

    #[test]
    fn html_only_mail_gets_text_and_sanitised_html() {
        let raw = "From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
                   <p>Hello</p><script>steal()</script><img src=x onerror=alert(1)><p>Order <b>42</b></p>\r\n";
        let p = parsed(raw.as_bytes());
        assert_eq!(p.text, "Hello\n\nOrder 42");
        let html = p.html.unwrap_or_default();
        assert!(html.contains("<b>42</b>"), "{html}");
        assert!(!html.contains("script") && !html.contains("onerror") && !html.contains("steal"), "{html}");
    }

    #[test]
    fn attachments_inline_images_and_nested_messages() {
        let raw = "From: a@b.example\r\nMessage-ID: <m1@b.example>\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n\
--M\r\nContent-Type: multipart/related; boundary=R\r\n\r\n\
--R\r\nContent-Type: text/html\r\n\r\n<p>See <img src=\"cid:pic1@b\"></p>\r\n\
--R\r\nContent-Type: image/png\r\nContent-ID: <pic1@b>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
--R--\r\n\
--M\r\nContent-Type: message/rfc822\r\n\r\nFrom: carrier@c.example\r\nSubject: Lost parcel\r\n\r\nWe lost it.\r\n\
--M\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n\
--M--\r\n";
        let p = parsed(raw.as_bytes());
        assert_eq!(p.message_id, "m1@b.example");
        assert!(!p.message_id_synthetic);
        assert!(p.html.as_deref().is_some_and(|h| h.contains("src=\"cid:pic1@b\"")), "{:?}", p.html);
        let image = p.attachments.iter().find(|a| a.content_type == "image/png");
        assert!(
            image.is_some_and(|a| a.inline
                && a.content_id.as_deref() == Some("pic1@b")
                && a.bytes.starts_with(b"\x89PNG"))
        );
        let nested = p.attachments.iter().find(|a| a.content_type == "message/rfc822");
        assert!(nested.is_some_and(|a| !a.inline && a.bytes.windows(11).any(|w| w == b"Lost parcel")));
        let pdf = p.attachments.iter().find(|a| a.filename.as_deref() == Some("invoice.pdf"));
        assert!(pdf.is_some_and(|a| a.content_type == "application/pdf" && a.bytes == b"%PDF-"));
    }

    #[test]
    fn missing_message_id_gets_a_stable_synthetic_one() {
        let raw = b"From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n";
        let (a, b) = (parsed(raw), parsed(raw));
        assert!(a.message_id_synthetic);
        assert_eq!(a.message_id.len(), 64);
        assert_eq!(a.message_id, b.message_id);
        assert_ne!(a.message_id, parsed(b"From: a@b.example\r\nSubject: hi\r\n\r\nother\r\n").message_id);
    }

    #[test]
    fn bad_input_gives_clear_errors() {
        assert_eq!(parse(b""), Err(EmailError::NotAMessage));
        assert_eq!(parse(b"  \r\n "), Err(EmailError::NotAMessage));
        assert_eq!(parse(b"Subject: hi\r\n\r\nno sender\r\n"), Err(EmailError::NoSender));
        assert_eq!(parse(b"From: nobody\r\n\r\nbody\r\n"), Err(EmailError::NoSender));
        assert_eq!(parse(b"From: a@b.example\r\n\r\n \r\n"), Err(EmailError::Empty));
        let big = vec![b'a'; MAX_EMAIL_BYTES + 1];
        assert!(matches!(parse(&big), Err(EmailError::TooLarge { .. })));
        // Falls back to Sender when From has no address.
        let p = parsed(b"From: Shop\r\nSender: desk@shop.example\r\n\r\nhi\r\n");
        assert_eq!(p.from.address, "desk@shop.example");
    }

    #[test]
    fn serialises_to_json() {
        let p = parsed(b"From: A <a@b.example>\r\nSubject: hi\r\n\r\nbody\r\n");
        let json = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(json["from"]["address"], "a@b.example");
        assert_eq!(json["kind"]["kind"], "normal");
        let back: Result<ParsedEmail, _> = serde_json::from_value(json);
        assert_eq!(back.ok(), Some(p));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&raw);
        }

        #[test]
        fn mail_shaped_noise_never_panics(
            headers in proptest::collection::vec(
                ("(From|To|Cc|Subject|Content-Type|Content-Transfer-Encoding|Auto-Submitted|Message-ID)",
                 "[ -~]{0,60}"),
                0..8),
            body in "(?s).{0,400}",
        ) {
            let mut raw = String::new();
            for (name, value) in headers {
                raw.push_str(&format!("{name}: {value}\r\n"));
            }
            raw.push_str("\r\n");
            raw.push_str(&body);
            if let Ok(p) = parse(raw.as_bytes()) {
                let _ = fold_quotes(&p.text);
            }
        }

        #[test]
        fn html_conversion_never_panics(html in "(?s)[<>a-z/=\"' &;#!\\-\\n]{0,300}") {
            let _ = html_to_text(&html);
            let _ = sanitize_html(&html);
            let _ = fold_quotes(&html);
        }
    }
}
