//! Any body through the API channel's parse path: never a panic, and a
//! payload that parses is an inbound message intake can take.
#![no_main]

use ferry_channels::api::{MAX_TEXT, parse_payload};
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<ferry_api_types::ApiInbound>(data) else { return };
    let inbox = inbox(ChannelKind::Api, InboxConfig::default());
    let Ok(parsed) = parse_payload(&inbox, payload, now()) else { return };
    check_inbound(&parsed.inbound, MAX_TEXT);
    for upload in &parsed.uploads {
        assert!(upload.part < parsed.inbound.parts.len(), "an upload for a part that does not exist");
        assert!(upload.content_type.contains('/'), "an upload without a MIME type");
    }
});
