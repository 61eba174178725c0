//! Any body through the Messenger and Instagram webhook parse path (the
//! half of the bytes' first bit picks the channel): never a panic; every
//! message it reads is an inbound message intake can take, and every
//! echo names its buyer and message.
#![no_main]

use ferry_channels::meta::MetaSettings;
use ferry_channels::meta::webhook::parse;
use ferry_channels::update::Update;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fn config(name: &str) -> InboxConfig {
    let mut config = InboxConfig::default();
    config.extra.insert(
        name.into(),
        serde_json::json!({
            "page_id": "104857600123456",
            "instagram_account_id": "17841400000000042",
            "access_token": "token",
            "app_secret": "secret",
            "verify_token": "verify-token-0123456789",
            "app_id": "640000000000001",
        }),
    );
    config
}

fuzz_target!(|data: &[u8]| {
    let (channel, name) = match data.first() {
        Some(b) if b & 1 == 1 => (ChannelKind::Instagram, "instagram"),
        _ => (ChannelKind::Messenger, "messenger"),
    };
    let inbox = inbox(channel, config(name));
    let Ok(Some(settings)) = MetaSettings::of(&inbox) else { panic!("the fuzz inbox's settings are valid") };
    let body = data.get(1..).unwrap_or_default();
    let Ok(batch) = parse(&inbox, &settings, body, now()) else { return };
    assert!(!batch.updates.is_empty(), "a delivery read into nothing");
    for update in &batch.updates {
        match update {
            Update::Message(m) => {
                check_inbound(&m.inbound, 1 << 20);
                for media in &m.media {
                    assert!(media.part < m.inbound.parts.len(), "media for a part that is not there");
                    assert!(media.url.is_some(), "Meta's files come with their URL");
                }
            }
            Update::Echo(e) => {
                assert!(!e.external_id.is_empty() && e.external_id.len() <= 512);
                assert!(!e.parts.is_empty(), "an echo without parts");
                assert!(e.at <= now());
            }
            _ => {}
        }
    }
});
