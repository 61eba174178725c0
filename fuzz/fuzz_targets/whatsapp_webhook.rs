//! Any body through the WhatsApp Cloud API webhook parse path: never a
//! panic; every message it reads is an inbound message intake can take.
#![no_main]

use ferry_channels::update::Update;
use ferry_channels::whatsapp::webhook::parse;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

// The number most of the seeds (../shared/data/payloads/whatsapp_cloud_pywa)
// were sent to, so their messages are read rather than ignored.
fn config() -> InboxConfig {
    let mut config = InboxConfig::default();
    config.extra.insert(
        "whatsapp".into(),
        serde_json::json!({
            "phone_number_id": "1122334455667",
            "business_account_id": "102290129340398",
            "access_token": "token",
            "verify_token": "verify",
            "app_secret": "secret",
        }),
    );
    config
}

fuzz_target!(|data: &[u8]| {
    let inbox = inbox(ChannelKind::Whatsapp, config());
    let Ok(batch) = parse(&inbox, data, now()) else { return };
    for update in &batch.updates {
        if let Update::Message(m) = update {
            check_inbound(&m.inbound, 1 << 20);
        }
    }
});
