//! The one way a stored file leaves Ferry. Every attachment response, from
//! the console's API and the widget alike, goes through [`file_response`]:
//! shown in place only when it is an allow-listed raster image whose bytes
//! agree (re-checked here, whatever was stored), otherwise a download; never
//! sniffed by the browser; and sandboxed, so even a page that slipped in
//! could not run script with an agent's session.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ferry_core::filetype;

/// The policy sent with every file: no script, no plugins, no forms, no
/// same-origin access; images may render.
pub(crate) const FILE_CSP: &str = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";

/// The response for a stored file's bytes and its stored type.
pub(crate) fn file_response(bytes: Vec<u8>, stored_type: &str) -> Response {
    let serving = filetype::serving(stored_type, &bytes);
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&serving.content_type).unwrap_or(HeaderValue::from_static(filetype::OPAQUE)),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(if serving.inline { "inline" } else { "attachment" }),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    resp
}
