//! Telling machines from people: bounces (delivery status notifications
//! and the informal reports of older mail servers) and auto-replies
//! (RFC 3834 `Auto-Submitted`, vendor headers, out-of-office subjects).

use super::{EmailAddress, EmailKind, clean_id, raw_header};
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

/// A report that a message could not be delivered (or is delayed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounce {
    /// Whether it is a standard delivery status notification
    /// (`multipart/report; report-type=delivery-status`).
    pub dsn: bool,
    /// The recipient that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The DSN action (`failed`, `delayed`, …), lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The enhanced status code (`5.1.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The remote server's diagnostic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
    /// The `Message-ID` of the message that bounced, when the report
    /// carries it: the outgoing message to mark failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_message_id: Option<String>,
}

impl Bounce {
    /// Whether delivery failed for good (not merely delayed or relayed).
    pub fn is_failure(&self) -> bool {
        match self.action.as_deref() {
            Some(a) => a == "failed",
            None => !self.status.as_deref().is_some_and(|s| s.starts_with('4')),
        }
    }
}

/// What showed that a message was sent automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum AutoReplySignal {
    /// `Auto-Submitted` with a value other than `no`.
    AutoSubmitted(String),
    /// `X-Autoreply`, `X-Autorespond` or `X-Autoresponder`.
    VendorHeader(String),
    /// `Precedence: auto_reply`.
    Precedence,
    /// An out-of-office subject.
    Subject,
}

pub(crate) fn classify(msg: &Message<'_>, from: &EmailAddress, subject: &str, text: &str) -> EmailKind {
    if let Some(b) = dsn(msg).or_else(|| informal_bounce(msg, from, subject, text)) {
        return EmailKind::Bounce(b);
    }
    match auto_reply(msg, subject) {
        Some(signal) => EmailKind::AutoReply { signal },
        None => EmailKind::Normal,
    }
}

fn auto_reply(msg: &Message<'_>, subject: &str) -> Option<AutoReplySignal> {
    if let Some(v) = raw_header(msg, "Auto-Submitted") {
        let value = v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !value.is_empty() && value != "no" {
            return Some(AutoReplySignal::AutoSubmitted(value));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder"] {
        if let Some(v) = raw_header(msg, name) {
            let v = v.to_ascii_lowercase();
            if v != "no" && v != "false" && v != "0" {
                return Some(AutoReplySignal::VendorHeader(name.to_ascii_lowercase()));
            }
        }
    }
    if raw_header(msg, "Precedence").is_some_and(|p| p.eq_ignore_ascii_case("auto_reply")) {
        return Some(AutoReplySignal::Precedence);
    }
    out_of_office_subject(subject).then_some(AutoReplySignal::Subject)
}

/// Subjects auto-responders put first, in the languages Ferry's sellers
/// meet most.
fn out_of_office_subject(subject: &str) -> bool {
    let lower = subject.trim().trim_start_matches(['[', '(', '【']).trim_start().to_lowercase();
    [
        "out of office",
        "out of the office",
        "automatic reply",
        "auto reply",
        "auto-reply",
        "autoreply",
        "auto response",
        "auto-response",
        "autoresponse",
        "abwesenheitsnotiz",
        "automatische antwort",
        "abwesend",
        "réponse automatique",
        "reponse automatique",
        "absence du bureau",
        "respuesta automática",
        "respuesta automatica",
        "fuera de la oficina",
        "risposta automatica",
        "fuori sede",
        "resposta automática",
        "automatisch antwoord",
        "afwezig",
        "自动回复",
        "自動回覆",
        "自動回复",
        "自動返信",
        "自動応答",
        "不在通知",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// A delivery status notification: a `message/delivery-status` part,
/// normally inside `multipart/report; report-type=delivery-status`.
fn dsn(msg: &Message<'_>) -> Option<Bounce> {
    let root_is_report = msg.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct.attribute("report-type").is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"))
    });
    let status_part = msg.parts.iter().find(|p| is_type(p, "message", &["delivery-status", "global-delivery-status"]));
    if !root_is_report && status_part.is_none() {
        return None;
    }
    let mut bounce = Bounce { dsn: true, ..Bounce::default() };
    if let Some(part) = status_part {
        let fields = String::from_utf8_lossy(part.contents());
        read_status_fields(&fields, &mut bounce);
    }
    bounce.original_message_id = original_message_id(msg, None);
    Some(bounce)
}

/// Reads the per-recipient fields of a delivery status body (RFC 3464):
/// the first recipient block that failed, else the first one.
fn read_status_fields(body: &str, bounce: &mut Bounce) {
    let mut blocks: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in body.replace("\r\n", "\n").lines() {
        if line.trim().is_empty() {
            if blocks.last().is_some_and(|b| !b.is_empty()) {
                blocks.push(Vec::new());
            }
            continue;
        }
        let Some(block) = blocks.last_mut() else { continue };
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = block.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            block.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let field = |b: &Vec<(String, String)>, k: &str| b.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let recipient_blocks: Vec<&Vec<(String, String)>> = blocks
        .iter()
        .filter(|b| field(b, "final-recipient").or_else(|| field(b, "original-recipient")).is_some())
        .collect();
    let chosen = recipient_blocks
        .iter()
        .find(|b| field(b, "action").is_some_and(|a| a.eq_ignore_ascii_case("failed")))
        .or(recipient_blocks.first());
    let Some(block) = chosen else { return };
    let after_type = |v: String| match v.split_once(';') {
        Some((_, rest)) => rest.trim().to_owned(),
        None => v.trim().to_owned(),
    };
    bounce.recipient = field(block, "final-recipient")
        .or_else(|| field(block, "original-recipient"))
        .map(after_type)
        .map(|r| r.trim_matches(['<', '>']).to_owned())
        .filter(|r| !r.is_empty());
    bounce.action = field(block, "action").map(|a| a.to_ascii_lowercase()).filter(|a| !a.is_empty());
    bounce.status = field(block, "status").and_then(|s| status_code(&s));
    bounce.diagnostic = field(block, "diagnostic-code").map(after_type).filter(|d| !d.is_empty());
}

/// Reports from servers that predate DSNs (or ignore them): sent by
/// `MAILER-DAEMON`, or by `postmaster` or with an empty return path and a
/// delivery-failure subject.
fn informal_bounce(msg: &Message<'_>, from: &EmailAddress, subject: &str, text: &str) -> Option<Bounce> {
    let local = from.address.rsplit_once('@').map_or(from.address.as_str(), |(l, _)| l).to_ascii_lowercase();
    let daemon = local == "mailer-daemon";
    let null_sender = raw_header(msg, "Return-Path").is_some_and(|r| r.trim_matches(['<', '>', ' ']).is_empty());
    if !daemon && !((local == "postmaster" || null_sender) && failure_subject(subject)) {
        return None;
    }
    let mut bounce = Bounce::default();
    read_status_fields(text, &mut bounce);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if bounce.status.is_none() {
        bounce.status = lines.iter().find_map(|l| l.split_whitespace().find_map(status_code));
    }
    if bounce.diagnostic.is_none() {
        bounce.diagnostic = lines
            .iter()
            .find(|l| {
                let code = l.get(..3).unwrap_or_default();
                code.len() == 3 && code.starts_with(['4', '5']) && code.bytes().all(|b| b.is_ascii_digit())
            })
            .or_else(|| lines.iter().find(|l| bounce.status.as_deref().is_some_and(|s| l.contains(s))))
            .map(|l| (*l).to_owned());
    }
    if bounce.recipient.is_none() {
        bounce.recipient = lines.iter().find_map(|l| {
            l.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\''))
                .map(|w| w.trim_end_matches([':', '.']))
                .find(|w| {
                    let lw = w.to_ascii_lowercase();
                    ferry_core::account::normalize_email(w).is_some()
                        && !lw.eq_ignore_ascii_case(&from.address)
                        && !lw.starts_with("mailer-daemon@")
                        && !lw.starts_with("postmaster@")
                })
                .map(str::to_owned)
        });
    }
    bounce.original_message_id = original_message_id(msg, Some(text));
    Some(bounce)
}

fn failure_subject(subject: &str) -> bool {
    let lower = subject.to_lowercase();
    [
        "undeliver",
        "undelivered",
        "delivery status",
        "delivery failure",
        "delivery failed",
        "delivery has failed",
        "failure notice",
        "returned mail",
        "returned to sender",
        "mail delivery",
        "unzustellbar",
        "nicht zustellbar",
        "non remis",
        "échec de la remise",
        "no se puede entregar",
        "no entregado",
        "退信",
        "未送达",
        "配信不能",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// The `Message-ID` of the bounced message: from an attached
/// `message/rfc822`, a `text/rfc822-headers` part, or a `Message-ID:` line
/// quoted in the report's text.
fn original_message_id(msg: &Message<'_>, text: Option<&str>) -> Option<String> {
    let own = msg.message_id().map(clean_id);
    let not_own = |id: &String| !id.is_empty() && Some(id) != own.as_ref();
    for part in &msg.parts {
        match &part.body {
            PartType::Message(inner) => {
                if let Some(id) = inner.message_id().map(clean_id).filter(not_own) {
                    return Some(id);
                }
            }
            _ if is_type(part, "text", &["rfc822-headers"]) || is_type(part, "message", &["rfc822-headers"]) => {
                if let Some(id) = message_id_line(&String::from_utf8_lossy(part.contents())).filter(not_own) {
                    return Some(id);
                }
            }
            _ => {}
        }
    }
    text.and_then(message_id_line).filter(not_own)
}

fn message_id_line(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (name, value) = l.trim_start().split_once(':')?;
        name.trim().eq_ignore_ascii_case("message-id").then(|| clean_id(value)).filter(|id| !id.is_empty())
    })
}

fn is_type(part: &MessagePart<'_>, ctype: &str, subtypes: &[&str]) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct.subtype().is_some_and(|s| subtypes.iter().any(|w| s.eq_ignore_ascii_case(w)))
    })
}

/// An enhanced status code `c.sss.ddd` (RFC 3463) at the start of `s`.
fn status_code(s: &str) -> Option<String> {
    let token = s.trim().split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';')).next()?;
    let token = token.trim_start_matches('#');
    let mut parts = token.split('.');
    let class = parts.next()?;
    let subject = parts.next()?;
    let detail = parts.next()?;
    let ok = parts.next().is_none()
        && matches!(class, "2" | "4" | "5")
        && (1..=3).contains(&subject.len())
        && (1..=3).contains(&detail.len())
        && subject.bytes().chain(detail.bytes()).all(|b| b.is_ascii_digit());
    ok.then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::{EmailKind, parse};
    use super::*;

    fn kind(raw: &str) -> EmailKind {
        match parse(raw.as_bytes()) {
            Ok(p) => p.kind,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn auto_reply_headers() {
        let base = "From: Jane <jane@buyer.example>\r\nTo: support@shop.example\r\nSubject: Re: your order\r\n";
        for (header, signal) in [
            ("Auto-Submitted: auto-replied\r\n", AutoReplySignal::AutoSubmitted("auto-replied".into())),
            (
                "Auto-Submitted: auto-generated; owner-email=\"x@y.z\"\r\n",
                AutoReplySignal::AutoSubmitted("auto-generated".into()),
            ),
            ("X-Autoreply: yes\r\n", AutoReplySignal::VendorHeader("x-autoreply".into())),
            ("X-Autorespond: Vacation\r\n", AutoReplySignal::VendorHeader("x-autorespond".into())),
            ("Precedence: auto_reply\r\n", AutoReplySignal::Precedence),
        ] {
            let raw = format!("{base}{header}\r\nI am away.\r\n");
            assert_eq!(kind(&raw), EmailKind::AutoReply { signal }, "{header}");
        }
        assert_eq!(kind(&format!("{base}Auto-Submitted: no\r\nPrecedence: bulk\r\n\r\nHi\r\n")), EmailKind::Normal);
    }

    #[test]
    fn out_of_office_subjects() {
        for subject in [
            "Out of Office: Re: your order",
            "Automatic reply: Order 123",
            "Abwesenheitsnotiz: Ihre Bestellung",
            "=?UTF-8?Q?R=C3=A9ponse_automatique=3A_commande?=",
            "=?UTF-8?B?UmVzcHVlc3RhIGF1dG9tw6F0aWNhOiBwZWRpZG8=?=",
            "=?UTF-8?B?6Ieq5Yqo5Zue5aSNOiDorqLljZU=?=",
            "=?UTF-8?B?6Ieq5YuV6L+U5L+hOiDms6jmlofjgavjgaTjgYTjgaY=?=",
            "[Auto-Reply] your order",
        ] {
            let raw = format!("From: a@buyer.example\r\nSubject: {subject}\r\n\r\nAway.\r\n");
            assert_eq!(kind(&raw), EmailKind::AutoReply { signal: AutoReplySignal::Subject }, "{subject}");
        }
        let raw = "From: a@buyer.example\r\nSubject: Re: are you out of office hours?\r\n\r\nHi\r\n";
        assert_eq!(kind(raw), EmailKind::Normal);
    }

    const DSN: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>\r\n\
To: support@shop.example\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Auto-Submitted: auto-replied\r\n\
Message-ID: <dsn-1@mx.shop.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\
\r\n\
--B\r\n\
Content-Type: text/plain\r\n\
\r\n\
I'm sorry to have to inform you that your message could not be delivered.\r\n\
--B\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.shop.example\r\n\
\r\n\
Final-Recipient: rfc822; gone@buyer.example\r\n\
Original-Recipient: rfc822;gone@buyer.example\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <gone@buyer.example>: Recipient address\r\n\
\trejected: User unknown\r\n\
\r\n\
--B\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: support@shop.example\r\n\
To: gone@buyer.example\r\n\
Subject: Your order\r\n\
Message-ID: <out-42@shop.example>\r\n\
\r\n\
Your order has shipped.\r\n\
--B--\r\n";

    #[test]
    fn dsn_bounces_name_recipient_status_and_original() {
        let EmailKind::Bounce(b) = kind(DSN) else { panic!("not a bounce") };
        assert!(b.dsn);
        assert!(b.is_failure());
        assert_eq!(b.recipient.as_deref(), Some("gone@buyer.example"));
        assert_eq!(b.status.as_deref(), Some("5.1.1"));
        assert_eq!(b.action.as_deref(), Some("failed"));
        assert_eq!(
            b.diagnostic.as_deref(),
            Some("550 5.1.1 <gone@buyer.example>: Recipient address rejected: User unknown")
        );
        assert_eq!(b.original_message_id.as_deref(), Some("out-42@shop.example"));
    }

    #[test]
    fn delay_notices_are_not_failures() {
        let raw = DSN.replace("Action: failed", "Action: delayed").replace("Status: 5.1.1", "Status: 4.4.1");
        let EmailKind::Bounce(b) = kind(&raw) else { panic!("not a bounce") };
        assert!(!b.is_failure());
    }

    #[test]
    fn informal_bounces_from_mailer_daemon() {
        let raw = "From: MAILER-DAEMON@mail.example\r\n\
Subject: failure notice\r\n\
\r\n\
Hi. This is the qmail-send program at mail.example.\r\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\
\r\n\
<nobody@buyer.example>:\r\n\
550 5.1.1 mailbox unavailable\r\n\
\r\n\
--- Below this line is a copy of the message.\r\n\
\r\n\
Message-ID: <out-7@shop.example>\r\n\
Subject: Your order\r\n";
        let EmailKind::Bounce(b) = kind(raw) else { panic!("not a bounce") };
        assert!(!b.dsn);
        assert_eq!(b.recipient.as_deref(), Some("nobody@buyer.example"));
        assert_eq!(b.status.as_deref(), Some("5.1.1"));
        assert_eq!(b.diagnostic.as_deref(), Some("550 5.1.1 mailbox unavailable"));
        assert_eq!(b.original_message_id.as_deref(), Some("out-7@shop.example"));

        let postmaster_chat = "From: postmaster@shop.example\r\nSubject: Hello\r\n\r\nJust saying hi.\r\n";
        assert_eq!(kind(postmaster_chat), EmailKind::Normal);
        let postmaster_bounce =
            "From: postmaster@mx.example\r\nSubject: Delivery Status Notification (Failure)\r\n\r\nfailed\r\n";
        assert!(matches!(kind(postmaster_bounce), EmailKind::Bounce(_)));
    }
}
