//! Any body under every Shopify webhook topic: never a panic.
#![no_main]

use ferry_commerce::shopify::{Topic, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for topic in Topic::ALL {
        let _ = parse(topic, data);
    }
});
