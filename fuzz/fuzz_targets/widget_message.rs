//! Any body a visitor can post to the widget, and any frame their socket
//! (or an agent's) can send: never a panic; a message that parses is an
//! inbound message intake can take.
#![no_main]

use ferry_channels::widget::{AgentCommand, MAX_TEXT, VisitorCommand, VisitorMessage, visitor_inbound};
use libfuzzer_sys::fuzz_target;

include!("common.rs");

const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VisitorCommand::parse(text);
        if let Some(AgentCommand::Typing { conversation_id, .. }) = AgentCommand::parse(text) {
            assert!(conversation_id > 0);
        }
    }
    // The body of `POST /widget/{inbox}/messages`.
    let Ok(serde_json::Value::Object(post)) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let text = |k: &str| post.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let m = VisitorMessage {
        client_id: text("client_id").unwrap_or_default(),
        text: text("text"),
        parts: Vec::new(),
        name: text("name"),
        language: text("language"),
    };
    let inbox = inbox(ChannelKind::WebWidget, InboxConfig::default());
    let Ok(inbound) = visitor_inbound(&inbox, HASH, m, now()) else { return };
    check_inbound(&inbound, MAX_TEXT);
});
