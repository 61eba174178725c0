//! Any text as an answer template (canned replies, the bot's answers and
//! flows): listing its variables and rendering it never panics and ends.
#![no_main]

use ferry_bot::render::{render, variables};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else { return };
    let vars = serde_json::json!({
        "contact": {"name": "Ana"},
        "order": {"number": "#1001", "status": "shipped", "items": [{"title": "Shoes", "quantity": 2}]},
        "shop": {"name": "Demo"},
    });
    let _ = variables(template);
    let _ = render(template, &vars);
});
