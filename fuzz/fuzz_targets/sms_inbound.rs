//! Any form body through the SMS (Twilio Messages API) webhook parse path:
//! never a panic; every message it reads is an inbound message intake can
//! take.
#![no_main]

use ferry_channels::sms_inbox::parse;
use ferry_channels::update::Update;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fn config() -> InboxConfig {
    let mut config = InboxConfig::default();
    config.extra.insert(
        "sms".into(),
        serde_json::json!({"account_sid": "AC00000000000000000000000000000001", "auth_token": "token",
            "from_number": "+15005550006"}),
    );
    config
}

fuzz_target!(|data: &[u8]| {
    let inbox = inbox(ChannelKind::Sms, config());
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(data).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let Ok(delivery) = parse(&inbox, &params, now()) else { return };
    for update in &delivery.batch.updates {
        if let Update::Message(m) = update {
            check_inbound(&m.inbound, 1 << 20);
        }
    }
});
