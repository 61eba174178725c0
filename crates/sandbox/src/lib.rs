//! Local stand-ins for the outside services Ferry talks to, one module per
//! service: each speaks the documented request and answer shapes (and
//! error codes) of its service closely enough for Ferry's clients, and
//! keeps what it received so a test can look. They serve tests,
//! benchmarks and the demo; the `ferry` server binary never contains them.

pub mod amazon;
pub mod meta_pages;
pub mod shopify;
pub mod sms;
pub mod smtp;
pub mod telegram;
pub mod translate;
pub mod whatsapp;

use axum::http::HeaderValue;
use axum::response::Response;

/// Compiled into every stand-in (each sends it with its answers), so a
/// build can be checked for whether it contains the sandbox.
pub static MARKER: &str = "ferry-sandbox: a local stand-in for an outside service";

/// The header every HTTP stand-in answers with.
pub const MARKER_HEADER: &str = "x-ferry-sandbox";

/// Tags an HTTP stand-in's answer as coming from the sandbox.
pub(crate) async fn tag<B>(mut response: Response<B>) -> Response<B> {
    response.headers_mut().insert(MARKER_HEADER, HeaderValue::from_static(MARKER));
    response
}

/// Files of a multipart body by field: bytes and declared type.
pub(crate) type FileParts = std::collections::HashMap<String, (Vec<u8>, String)>;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The text fields and files of a `multipart/form-data` body whose
/// `Content-Type` is `content_type` (nothing for another type).
pub(crate) fn multipart(content_type: &str, body: &[u8]) -> (std::collections::HashMap<String, String>, FileParts) {
    let mut fields = std::collections::HashMap::new();
    let mut files = FileParts::new();
    let Some(boundary) = content_type.split("boundary=").nth(1) else { return (fields, files) };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(rest, b"\r\n\r\n") else { break };
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content = &rest[head_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes()).unwrap_or(content.len());
        let value = &content[..end];
        let attr = |key: &str| {
            head.split(';')
                .find_map(|s| s.trim().strip_prefix(&format!("{key}=\"")).map(|v| v.trim_end_matches('"').to_owned()))
        };
        let part_type = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_owned()));
        if let Some(name) = attr("name") {
            if attr("filename").is_some() {
                files.insert(name, (value.to_vec(), part_type.unwrap_or_default()));
            } else {
                fields.insert(name, String::from_utf8_lossy(value).into_owned());
            }
        }
        rest = &content[end..];
    }
    (fields, files)
}
