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
