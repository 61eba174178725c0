// Shared by the targets (included with `include!`, not a module of its own
// crate): the inbox and the clocks every target parses against.

use chrono::{DateTime, TimeZone, Utc};
use ferry_core::inbound::Inbound;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, InboxId};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
}

fn inbox(channel: ChannelKind, config: InboxConfig) -> Inbox {
    Inbox {
        id: InboxId(1),
        account_id: AccountId(1),
        name: "Support".into(),
        channel,
        config,
        secret: "secret".into(),
        created_at: DateTime::<Utc>::UNIX_EPOCH,
    }
}

/// What intake relies on of every inbound message, whatever the channel.
fn check_inbound(inbound: &Inbound, max_text: usize) {
    assert!(!inbound.parts.is_empty(), "an inbound message without parts");
    assert!(!inbound.external_id.is_empty(), "an empty external id");
    assert!(inbound.external_id.len() <= 512, "external id of {} bytes", inbound.external_id.len());
    assert!(inbound.sent_at <= now(), "dated in the future: {}", inbound.sent_at);
    assert_eq!(inbound.account_id, AccountId(1));
    assert_eq!(inbound.inbox_id, InboxId(1));
    if let Some(name) = &inbound.sender.name {
        assert!(!name.chars().any(char::is_control), "a control character in the sender's name");
        assert!(name.chars().count() <= 255, "a name of {} characters", name.chars().count());
    }
    for part in &inbound.parts {
        if let ContentPart::Text { text } = part {
            assert!(text.len() <= max_text, "{} bytes of text", text.len());
        }
    }
}
