//! The agent console and the chat widget, served from the files `npm run
//! build` writes to `web/dist` and embedded in the binary. Paths that are
//! not files fall back to the console's `index.html` (the console routes in
//! the browser); API paths stay JSON 404s. A binary built before the web
//! assets exist still serves its API and answers the console's paths with a
//! page saying how to build it.

use crate::ApiError;
use crate::security::{Page, page_headers};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use ferry_app::AppError;
use rust_embed::RustEmbed;
use std::borrow::Cow;

#[derive(RustEmbed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Dist;

/// Where the build writes the assets, for binaries compiled before it ran.
const DIST_ON_DISK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/dist");

const API_PREFIXES: [&str; 6] = ["/api/", "/webhooks/", "/widget/", "/ws", "/healthz", "/metrics"];

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry: console not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
code,pre{background:#f3f4f6;border-radius:4px;padding:.1rem .3rem}pre{padding:.75rem;overflow:auto}</style></head>
<body><h1>Ferry is running; the console is not built</h1>
<p>The API works (<a href="/healthz">/healthz</a>, <a href="/api/openapi.json">/api/openapi.json</a>), but this
binary was compiled without the web console and chat widget. Build them, then rebuild or restart Ferry:</p>
<pre>npm --prefix web ci &amp;&amp; npm --prefix web run build
cargo run --release -p ferry-demo</pre>
<p>Node.js 20 or newer is needed for the build only; the binary serves the files itself.</p></body></html>"#;

/// A file of the built web assets: embedded, or else read from the build
/// folder next to the sources.
fn file(path: &str) -> Option<(Cow<'static, [u8]>, String)> {
    if path.contains("..") || path.contains('\\') {
        return None;
    }
    if let Some(f) = Dist::get(path) {
        return Some((f.data, mime_of(path).to_owned()));
    }
    let on_disk = std::path::Path::new(DIST_ON_DISK).join(path);
    let bytes = std::fs::read(&on_disk).ok()?;
    Some((Cow::Owned(bytes), mime_of(path).to_owned()))
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

fn serve(path: &str, bytes: Cow<'static, [u8]>, mime: &str) -> Response {
    let mut resp = bytes.into_owned().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("text/plain")));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Vite names files under assets/ by content hash: cache them forever.
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    let page = if path == "widget.js" { Page::Widget } else { Page::Console };
    page_headers(h, page);
    resp
}

/// The fallback of the router: static files, the console's paths, or a
/// JSON 404 for unknown API paths.
pub async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if API_PREFIXES.iter().any(|p| path.starts_with(p)) || (method != Method::GET && method != Method::HEAD) {
        return crate::routes::meta::not_found().await.into_response();
    }
    let rel = path.trim_start_matches('/');
    if !rel.is_empty()
        && let Some((bytes, mime)) = file(rel)
    {
        return serve(rel, bytes, &mime);
    }
    // A missing file with an extension is a 404, not the console.
    if rel.rsplit('/').next().is_some_and(|last| last.contains('.')) {
        return ApiError(AppError::NotFound("file")).into_response();
    }
    match file("index.html") {
        Some((bytes, mime)) => serve("index.html", bytes, &mime),
        None => {
            let mut resp = (StatusCode::OK, Html(NOT_BUILT)).into_response();
            page_headers(resp.headers_mut(), Page::Console);
            resp
        }
    }
}
