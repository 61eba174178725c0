//! The one way a stored file leaves Ferry. Every attachment response, from
//! the console's API and the widget alike, goes through [`file_response`]:
//! shown in place only when it is an allow-listed raster image whose bytes
//! agree (re-checked here, whatever was stored), otherwise a download; never
//! sniffed by the browser; and sandboxed, so even a page that slipped in
//! could not run script with an agent's session.
//!
//! Files are streamed: the first bytes are read to decide how the file is
//! served, then the rest follows as it comes from the attachment store.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ferry_app::AppError;
use ferry_app::attachments::{Download, rejoin, split_head};
use ferry_core::filetype;
use futures::StreamExt;

/// The policy sent with every file: no script, no plugins, no forms, no
/// same-origin access; images may render.
pub(crate) const FILE_CSP: &str = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";

/// The response streaming a stored file, with the headers of its type.
pub(crate) async fn file_response(download: Download) -> Result<Response, AppError> {
    let (head, rest) = split_head(download.body).await.map_err(|e| AppError::internal("reading an attachment", e))?;
    let serving = filetype::serving(&download.content_type, &head);
    let body = rejoin(head, rest).map(|chunk| {
        // Past the headers, a failure can only cut the response short;
        // say why in the log.
        chunk.inspect_err(|e| tracing::warn!(error = %e, "streaming an attachment failed"))
    });
    let mut resp = Body::from_stream(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(download.size));
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
    Ok(resp)
}
