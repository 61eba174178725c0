//! Any file as an orders or products import, CSV or JSON: never a panic,
//! and every row is either imported or rejected with its line.
#![no_main]

use chrono::{TimeZone, Utc};
use ferry_commerce::import::{ImportDefaults, ImportFormat, ImportKind, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let defaults = ImportDefaults { currency: Some("USD".into()), region: Some("US".into()) };
    for kind in [ImportKind::Orders, ImportKind::Products] {
        for format in [ImportFormat::Csv, ImportFormat::Json] {
            let _ = parse(kind, format, data, &defaults, now);
        }
    }
});
