//! Any body as an Amazon SP-API notification: never a panic.
#![no_main]

use ferry_commerce::amazon::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(data);
});
