//! Any body through the Telegram Bot API webhook parse path: never a
//! panic; every message it reads is an inbound message intake can take.
#![no_main]

use ferry_channels::telegram::webhook::parse;
use ferry_channels::update::Update;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fn config() -> InboxConfig {
    let mut config = InboxConfig::default();
    config.extra.insert(
        "telegram".into(),
        serde_json::json!({"bot_token": "7000000001:AAFerrySandboxBotTokenForTests_0123",
            "secret_token": "tg-secret-token-for-fuzzing"}),
    );
    config
}

fuzz_target!(|data: &[u8]| {
    let inbox = inbox(ChannelKind::Telegram, config());
    let Ok(delivery) = parse(&inbox, data, now()) else { return };
    assert!(!delivery.batch.updates.is_empty(), "an update read into nothing");
    for update in &delivery.batch.updates {
        if let Update::Message(m) = update {
            check_inbound(&m.inbound, 1 << 20);
            for media in &m.media {
                assert!(media.part < m.inbound.parts.len(), "media for a part that is not there");
            }
        }
    }
});
