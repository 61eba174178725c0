//! Any bytes through the e-mail parse path that intake takes: parsing
//! never panics, and whatever parses maps onto an `Inbound` within the
//! limits intake relies on (bounded text and external id, never dated in
//! the future, never empty).
#![no_main]

use chrono::{TimeZone, Utc};
use ferry_channels::email::{MAX_INBOUND_TEXT, parse, to_inbound};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, InboxId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mail) = parse(data) else { return };
    let epoch = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let inbox = Inbox {
        id: InboxId(1),
        account_id: AccountId(1),
        name: "Support".into(),
        channel: ChannelKind::Email,
        config: InboxConfig::default(),
        secret: String::new(),
        created_at: epoch,
    };
    let Ok((inbound, extras)) = to_inbound(&mail, &inbox, now) else { return };
    assert!(!inbound.parts.is_empty(), "an inbound message without parts");
    assert!(inbound.external_id.len() <= 255, "external id of {} bytes", inbound.external_id.len());
    assert!(inbound.sent_at <= now, "dated in the future: {}", inbound.sent_at);
    for part in &inbound.parts {
        if let ContentPart::Text { text } = part {
            assert!(text.len() <= MAX_INBOUND_TEXT, "{} bytes of text", text.len());
        }
    }
    assert_eq!(extras.message_id, mail.message_id);
});
