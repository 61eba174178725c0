//! The web-chat widget's inbound side, pure: a visitor's message (the
//! HTTP body) read into an [`Inbound`], and the commands the visitor's and
//! the agent's sockets accept. Uploads are stored by the caller first and
//! arrive here as parts.

use crate::ChannelError;
use chrono::{DateTime, Utc};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::Inbox;
use ferry_core::message::ContentPart;
use serde_json::Value;

/// Longest text a visitor may send, in bytes.
pub const MAX_TEXT: usize = 16 * 1024;
/// Longest name a visitor may give, in characters.
pub const MAX_NAME: usize = 120;

/// A visitor's message from the widget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisitorMessage {
    /// The client's id for the message; a resend with the same id is the
    /// same message.
    pub client_id: String,
    /// Text.
    pub text: Option<String>,
    /// Files already stored, as parts.
    pub parts: Vec<ContentPart>,
    /// Name the visitor gave.
    pub name: Option<String>,
    /// Browser language.
    pub language: Option<String>,
}

/// The client id of a message: 1 to 64 letters, digits, `-` or `_`.
pub fn clean_client_id(id: &str) -> Result<String, ChannelError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ChannelError::invalid("client_id", "client_id must be 1 to 64 letters, digits, - or _"));
    }
    Ok(id.to_owned())
}

/// The visitor's identity in `inbox`: the SHA-256 of their token.
pub fn visitor_identity(inbox: &Inbox, token_hash: &str) -> Result<Identity, ChannelError> {
    Identity::new(IdentityKind::WebVisitor, token_hash, Some(inbox.id))
        .map_err(|e| ChannelError::invalid("token", e.to_string()))
}

/// Reads a visitor's message to `inbox` into an inbound message. The
/// external id is scoped by the visitor, so two browsers' client ids never
/// collide.
pub fn visitor_inbound(
    inbox: &Inbox,
    token_hash: &str,
    m: VisitorMessage,
    now: DateTime<Utc>,
) -> Result<Inbound, ChannelError> {
    let client_id = clean_client_id(&m.client_id)?;
    let identity = visitor_identity(inbox, token_hash)?;
    let mut parts = Vec::new();
    if let Some(t) = m.text.as_deref() {
        if t.len() > MAX_TEXT {
            return Err(ChannelError::invalid("text", format!("text is longer than {MAX_TEXT} bytes")));
        }
        if !t.trim().is_empty() {
            parts.push(ContentPart::Text { text: t.to_owned() });
        }
    }
    parts.extend(m.parts);
    if parts.is_empty() {
        return Err(ChannelError::invalid("text", "a message needs text or a file"));
    }
    let scope: String = token_hash.chars().take(16).collect();
    Ok(Inbound {
        account_id: inbox.account_id,
        inbox_id: inbox.id,
        external_id: format!("web:{scope}:{client_id}"),
        sender: InboundSender {
            identity,
            extra_identities: Vec::new(),
            name: m
                .name
                .map(|n| n.trim().chars().filter(|c| !c.is_control()).take(MAX_NAME).collect())
                .filter(|n: &String| !n.is_empty()),
            language: m
                .language
                .filter(|l| !l.is_empty() && l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')),
        },
        parts,
        sent_at: now,
        meta: Default::default(),
    })
}

/// What a visitor's socket may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitorCommand {
    /// Keep-alive; answered with a pong.
    Ping,
    /// The visitor started (or stopped) typing.
    Typing {
        /// Whether they are typing now.
        typing: bool,
    },
}

/// What an agent's socket may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentCommand {
    /// The agent started (or stopped) typing in a conversation.
    Typing {
        /// The conversation.
        conversation_id: i64,
        /// Whether they are typing now.
        typing: bool,
    },
}

fn frame(text: &str) -> Option<(Value, String)> {
    // A frame is one small JSON object; anything larger is not a command.
    if text.len() > 4096 {
        return None;
    }
    let v: Value = serde_json::from_str(text).ok()?;
    let kind = v.get("type")?.as_str()?.to_owned();
    Some((v, kind))
}

fn typing_flag(v: &Value) -> bool {
    v.get("typing").and_then(Value::as_bool).unwrap_or(true)
}

impl VisitorCommand {
    /// Reads one text frame; `None` for anything that is not a command
    /// (ignored, the socket stays open).
    pub fn parse(text: &str) -> Option<Self> {
        let (v, kind) = frame(text)?;
        match kind.as_str() {
            "ping" => Some(VisitorCommand::Ping),
            "typing" => Some(VisitorCommand::Typing { typing: typing_flag(&v) }),
            _ => None,
        }
    }
}

impl AgentCommand {
    /// Reads one text frame; `None` for anything that is not a command.
    pub fn parse(text: &str) -> Option<Self> {
        let (v, kind) = frame(text)?;
        match kind.as_str() {
            "typing" => {
                let conversation_id = v.get("conversation_id")?.as_i64().filter(|id| *id > 0)?;
                Some(AgentCommand::Typing { conversation_id, typing: typing_flag(&v) })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use ferry_core::inbox::{ChannelKind, InboxConfig};
    use ferry_core::{AccountId, InboxId};

    fn inbox() -> Inbox {
        Inbox {
            id: InboxId(7),
            account_id: AccountId(3),
            name: "Chat".into(),
            channel: ChannelKind::WebWidget,
            config: InboxConfig::default(),
            secret: String::new(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_message_is_scoped_by_the_visitor_and_cleaned() {
        let m = VisitorMessage {
            client_id: " m-1 ".into(),
            text: Some("Where is my order?".into()),
            name: Some("  Ana\u{7}\n Lima ".into()),
            language: Some("pt-BR".into()),
            ..Default::default()
        };
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(1);
        let i = visitor_inbound(&inbox(), HASH, m, now).unwrap();
        assert_eq!(i.external_id, "web:0123456789abcdef:m-1");
        assert_eq!(i.sender.name.as_deref(), Some("Ana Lima"));
        assert_eq!(i.sender.language.as_deref(), Some("pt-BR"));
        assert_eq!(i.sent_at, now);
        assert_eq!((i.account_id, i.inbox_id), (AccountId(3), InboxId(7)));
    }

    #[test]
    fn bad_messages_name_their_field() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let cases = [
            (VisitorMessage { client_id: "a b".into(), text: Some("hi".into()), ..Default::default() }, "client_id"),
            (VisitorMessage { client_id: "a".into(), text: Some("  ".into()), ..Default::default() }, "text"),
            (
                VisitorMessage { client_id: "a".into(), text: Some("x".repeat(MAX_TEXT + 1)), ..Default::default() },
                "text",
            ),
        ];
        for (m, field) in cases {
            match visitor_inbound(&inbox(), HASH, m, now) {
                Err(ChannelError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected an invalid {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn socket_frames_become_commands_or_nothing() {
        assert_eq!(VisitorCommand::parse(r#"{"type":"ping"}"#), Some(VisitorCommand::Ping));
        assert_eq!(
            VisitorCommand::parse(r#"{"type":"typing","typing":false}"#),
            Some(VisitorCommand::Typing { typing: false })
        );
        assert_eq!(VisitorCommand::parse(r#"{"type":"typing"}"#), Some(VisitorCommand::Typing { typing: true }));
        assert_eq!(VisitorCommand::parse(r#"{"type":"dance"}"#), None);
        assert_eq!(VisitorCommand::parse("not json"), None);
        assert_eq!(
            AgentCommand::parse(r#"{"type":"typing","conversation_id":12,"typing":true}"#),
            Some(AgentCommand::Typing { conversation_id: 12, typing: true })
        );
        assert_eq!(AgentCommand::parse(r#"{"type":"typing","conversation_id":-1}"#), None);
        assert_eq!(AgentCommand::parse(r#"{"type":"typing"}"#), None);
    }
}
