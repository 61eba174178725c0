//! Mapping a parsed e-mail onto intake's [`Inbound`], with what `Inbound`
//! cannot carry returned beside it as [`EmailExtras`].

use super::{AmazonRelay, EmailAddress, EmailError, EmailKind, ParsedEmail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::Inbox;
use ferry_core::message::{Attachment, ContentPart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most text, in bytes, put into an [`Inbound`]; the rest stays in
/// [`EmailExtras::full_text`].
pub const MAX_INBOUND_TEXT: usize = 64 * 1024;

/// The longest `Message-ID` used as the external id as it is; longer ones
/// are replaced by their hex SHA-256.
const MAX_EXTERNAL_ID: usize = 255;

/// What an e-mail says beyond what [`Inbound`] carries: threading headers,
/// recipients, subject, the sanitised HTML, the unfolded text and the
/// classification. Intake uses them to thread the mail, to keep
/// auto-replies and bounces out of conversations, and for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailExtras {
    /// The decoded subject.
    pub subject: String,
    /// `Message-ID` (or the synthetic id) as parsed; the external id is
    /// this, hashed when longer than 255 bytes.
    pub message_id: String,
    /// The first id of `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// The ids of `References`, oldest first.
    pub references: Vec<String>,
    /// The conversation token of a sub-address or the subject.
    pub conversation_token: Option<i64>,
    /// Where replies should go, when it differs from the sender.
    pub reply_to: Vec<EmailAddress>,
    /// `To` recipients.
    pub to: Vec<EmailAddress>,
    /// `Cc` recipients: a reply to all includes them.
    pub cc: Vec<EmailAddress>,
    /// `Bcc` recipients.
    pub bcc: Vec<EmailAddress>,
    /// The sanitised HTML body, when there was one.
    pub html: Option<String>,
    /// The full text, quotes and signature included.
    pub full_text: String,
    /// Whether the inbound text was cut at [`MAX_INBOUND_TEXT`].
    pub text_truncated: bool,
    /// The `Content-ID` of each attachment part, in the order of the
    /// inbound's attachment parts, so `cid:` references in `html` can be
    /// pointed at the stored files.
    pub attachment_content_ids: Vec<Option<String>>,
    /// A person's mail, an auto-reply or a bounce.
    pub kind: EmailKind,
    /// Amazon relay details, when the sender is Amazon's relay.
    pub amazon: Option<AmazonRelay>,
}

/// Maps a parsed e-mail that arrived in `inbox` onto an [`Inbound`].
///
/// - external id: the `Message-ID` (re-deliveries are de-duplicated);
/// - sender: the lower-cased from address as an e-mail identity, or as an
///   Amazon identity for Amazon's relay addresses, with the display name;
/// - text: the reply with quotes and signature folded away (the full text
///   when folding leaves nothing, the subject when there is no body), cut
///   at [`MAX_INBOUND_TEXT`];
/// - attachments: one part each, with the bytes inline as a `data:` URL.
///   Intake stores them (object storage, type checks) and replaces the URL
///   before committing;
/// - sent at: the `Date` header, never later than `now`.
///
/// Auto-replies and bounces are mapped too; [`EmailExtras::kind`] tells the
/// caller to route them elsewhere.
pub fn to_inbound(mail: &ParsedEmail, inbox: &Inbox, now: DateTime<Utc>) -> Result<(Inbound, EmailExtras), EmailError> {
    let identity = match &mail.amazon {
        Some(relay) => Identity::new(IdentityKind::Amazon, &relay.relay_address, None),
        None => Identity::new(IdentityKind::Email, &mail.from.address, None),
    }
    .map_err(|_| EmailError::NoSender)?;

    let mut text = mail.reply_or_full_text().trim().to_owned();
    if text.is_empty() {
        text = mail.subject.clone();
    }
    let text_truncated = text.len() > MAX_INBOUND_TEXT;
    if text_truncated {
        let mut end = MAX_INBOUND_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }

    let mut parts = Vec::new();
    if !text.is_empty() {
        parts.push(ContentPart::Text { text });
    }
    let mut attachment_content_ids = Vec::new();
    for a in &mail.attachments {
        let filename = a
            .filename
            .as_deref()
            .map(|f| f.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(255).collect::<String>())
            .filter(|f| !f.trim().is_empty())
            .or_else(|| (a.content_type == "message/rfc822").then(|| "message.eml".to_owned()));
        let attachment = Attachment {
            url: format!("data:{};base64,{}", a.content_type, STANDARD.encode(&a.bytes)),
            content_type: a.content_type.clone(),
            filename,
            size: Some(a.bytes.len() as u64),
        };
        parts.push(attachment.into_part());
        attachment_content_ids.push(a.content_id.clone());
    }
    if parts.is_empty() {
        return Err(EmailError::Empty);
    }

    let external_id = if mail.message_id.len() <= MAX_EXTERNAL_ID {
        mail.message_id.clone()
    } else {
        hex::encode(Sha256::digest(mail.message_id.as_bytes()))
    };
    let name = mail
        .from
        .name
        .as_deref()
        .map(|n| n.trim().chars().filter(|c| !c.is_control()).take(255).collect::<String>())
        .filter(|n| !n.is_empty());
    let inbound = Inbound {
        account_id: inbox.account_id,
        inbox_id: inbox.id,
        external_id,
        sender: InboundSender { identity, extra_identities: Vec::new(), name, language: None },
        parts,
        // A sender's clock ahead of ours must not put messages in the future.
        sent_at: mail.date.map_or(now, |d| d.min(now)),
        meta: Default::default(),
    };
    let extras = EmailExtras {
        subject: mail.subject.clone(),
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.clone(),
        references: mail.references.clone(),
        conversation_token: mail.conversation_token,
        reply_to: mail.reply_to.clone(),
        to: mail.to.clone(),
        cc: mail.cc.clone(),
        bcc: mail.bcc.clone(),
        html: mail.html.clone(),
        full_text: mail.text.clone(),
        text_truncated,
        attachment_content_ids,
        kind: mail.kind.clone(),
        amazon: mail.amazon.clone(),
    };
    Ok((inbound, extras))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use chrono::TimeZone;
    use ferry_core::inbox::{ChannelKind, InboxConfig};
    use ferry_core::{AccountId, InboxId};

    fn inbox() -> Inbox {
        Inbox {
            id: InboxId(5),
            account_id: AccountId(2),
            name: "Support".into(),
            channel: ChannelKind::Email,
            config: InboxConfig::default(),
            secret: String::new(),
            created_at: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).single().unwrap_or_default()
    }

    const MAIL: &str = "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Buyer.Example>\r\n\
To: Support <support+c77@shop.example>\r\n\
Cc: partner@buyer.example\r\n\
Subject: Re: Ihre Bestellung\r\n\
Date: Sat, 01 Jun 2024 10:00:00 +0000\r\n\
Message-ID: <abc@buyer.example>\r\n\
In-Reply-To: <out-1@shop.example>\r\n\
References: <out-0@shop.example> <out-1@shop.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"M\"\r\n\
\r\n\
--M\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Das Paket ist kaputt.\r\n\
\r\n\
Am 31.05.2024 um 09:00 schrieb Support <support@shop.example>:\r\n\
> Wie geht es?\r\n\
--M\r\n\
Content-Type: image/png; name=\"foto.png\"\r\n\
Content-Disposition: attachment; filename=\"foto.png\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
iVBORw0KGgo=\r\n\
--M--\r\n";

    #[test]
    fn maps_sender_text_attachments_and_extras() {
        let mail = match parse(MAIL.as_bytes()) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        let (inbound, extras) = match to_inbound(&mail, &inbox(), now()) {
            Ok(x) => x,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(inbound.external_id, "abc@buyer.example");
        assert_eq!((inbound.account_id, inbound.inbox_id), (AccountId(2), InboxId(5)));
        assert_eq!(inbound.sender.identity.kind, IdentityKind::Email);
        assert_eq!(inbound.sender.identity.value, "juergen@buyer.example");
        assert_eq!(inbound.sender.name.as_deref(), Some("Jürgen Müller"));
        assert_eq!(inbound.sent_at, Utc.with_ymd_and_hms(2024, 6, 1, 10, 0, 0).single().unwrap_or_default());
        assert_eq!(inbound.parts.len(), 2);
        assert_eq!(inbound.parts[0], ContentPart::Text { text: "Das Paket ist kaputt.".into() });
        let ContentPart::Image { attachment } = &inbound.parts[1] else { panic!("{:?}", inbound.parts[1]) };
        assert_eq!(attachment.filename.as_deref(), Some("foto.png"));
        assert_eq!(attachment.url, "data:image/png;base64,iVBORw0KGgo=");
        assert_eq!(attachment.size, Some(8));

        assert_eq!(extras.subject, "Re: Ihre Bestellung");
        assert_eq!(extras.in_reply_to.as_deref(), Some("out-1@shop.example"));
        assert_eq!(extras.references, ["out-0@shop.example", "out-1@shop.example"]);
        assert_eq!(extras.conversation_token, Some(77));
        assert_eq!(extras.cc.len(), 1);
        assert!(extras.full_text.contains("Wie geht es?"));
        assert_eq!(extras.kind, EmailKind::Normal);
    }

    #[test]
    fn amazon_relays_become_amazon_identities_and_future_dates_are_clamped() {
        let raw = "From: \"Jane - Amazon Marketplace\" <3xk9z@marketplace.amazon.co.uk>\r\n\
Subject: Inquiry from Amazon customer Jane\r\n\
Date: Mon, 01 Jan 2035 00:00:00 +0000\r\n\
\r\n\
Order ID: 203-1234567-7654321\r\nWhere is it?\r\n";
        let Ok(mail) = parse(raw.as_bytes()) else { panic!("parse") };
        let relay = mail.amazon.clone().unwrap_or_else(|| panic!("no relay"));
        assert_eq!(relay.order_id.as_deref(), Some("203-1234567-7654321"));
        let Ok((inbound, _)) = to_inbound(&mail, &inbox(), now()) else { panic!("map") };
        assert_eq!(inbound.sender.identity.kind, IdentityKind::Amazon);
        assert_eq!(inbound.sender.identity.value, "3xk9z@marketplace.amazon.co.uk");
        assert_eq!(inbound.sent_at, now());
        assert!(mail.message_id_synthetic);
        assert_eq!(inbound.external_id.len(), 64);
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let body = "ü".repeat(MAX_INBOUND_TEXT);
        let raw = format!("From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n");
        let Ok(mail) = parse(raw.as_bytes()) else { panic!("parse") };
        let Ok((inbound, extras)) = to_inbound(&mail, &inbox(), now()) else { panic!("map") };
        let ContentPart::Text { text } = &inbound.parts[0] else { panic!("no text") };
        assert!(text.len() <= MAX_INBOUND_TEXT && text.len() > MAX_INBOUND_TEXT - 2);
        assert!(extras.text_truncated);
    }
}
