//! What an uploaded or received file really is, and how it may be stored
//! and served.
//!
//! Files come from buyers (widget uploads, channel attachments) and are
//! served from Ferry's own origin, where agents are logged in. A file a
//! browser would run — HTML, SVG, XML, scripts — must therefore never be
//! shown inline: the declared content type is not trusted, the bytes are
//! sniffed, and only a short allow-list of raster image types whose bytes
//! agree with their declared type is ever displayed inline. Everything
//! else is a download.
//!
//! Uploads by people (the widget, the console) refuse active types with a
//! clear error; files arriving through a channel are never dropped (a
//! buyer's e-mail may carry an `.html` receipt) but are stored neutralised
//! as `application/octet-stream`.

/// What the first bytes of a file show it to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A PNG image.
    Png,
    /// A JPEG image.
    Jpeg,
    /// A GIF image.
    Gif,
    /// A WebP image.
    Webp,
    /// A PDF document.
    Pdf,
    /// Markup a browser would render and run: HTML, SVG, XML (with or
    /// without a BOM and leading white space).
    Markup,
    /// Nothing recognised.
    Unknown,
}

impl Sniffed {
    /// The raster image type these bytes are, if one of the inline
    /// allow-list.
    pub fn image_type(self) -> Option<&'static str> {
        match self {
            Self::Png => Some("image/png"),
            Self::Jpeg => Some("image/jpeg"),
            Self::Gif => Some("image/gif"),
            Self::Webp => Some("image/webp"),
            _ => None,
        }
    }
}

/// Looks at the first bytes of a file.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Png;
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Sniffed::Jpeg;
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Sniffed::Gif;
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Sniffed::Webp;
    }
    if bytes.starts_with(b"%PDF-") {
        return Sniffed::Pdf;
    }
    if looks_like_markup(bytes) {
        return Sniffed::Markup;
    }
    Sniffed::Unknown
}

/// Tags that make a browser treat text as a document (the HTML sniffing
/// patterns browsers use, plus SVG and XML).
const MARKUP_OPENINGS: &[&str] = &[
    "<!doctype html",
    "<html",
    "<head",
    "<body",
    "<script",
    "<iframe",
    "<h1",
    "<div",
    "<font",
    "<table",
    "<a",
    "<style",
    "<title",
    "<b",
    "<br",
    "<p",
    "<img",
    "<svg",
    "<?xml",
    "<!--",
    "<object",
    "<embed",
    "<meta",
    "<form",
    "<math",
];

fn looks_like_markup(bytes: &[u8]) -> bool {
    // Skip a UTF-8 or UTF-16 byte-order mark, and (for UTF-16) read the
    // ASCII bytes only.
    let (body, stride) = if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        (rest, 1)
    } else if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        (rest, 2)
    } else if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        (rest.get(1..).unwrap_or_default(), 2)
    } else {
        (bytes, 1)
    };
    let head: Vec<u8> = body.iter().step_by(stride).take(512).map(u8::to_ascii_lowercase).collect();
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let head = &head[start..];
    MARKUP_OPENINGS.iter().any(|tag| {
        // A tag name must end there (`<b>`, `<a href`), not run on (`<abbr`).
        let needs_end = tag.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric);
        head.starts_with(tag.as_bytes())
            && (!needs_end || head.get(tag.len()).is_none_or(|&c| c == b'>' || c == b'/' || c.is_ascii_whitespace()))
    }) || head.starts_with(b"<!doctype") && head.windows(4).any(|w| w == b"html" || w == b"svg ")
}

/// Whether a declared content type is one a browser would run or render as
/// a document.
pub fn is_active_type(content_type: &str) -> bool {
    let ct = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    matches!(
        ct.as_str(),
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/xsl"
            | "application/xslt+xml"
            | "text/javascript"
            | "application/javascript"
            | "application/ecmascript"
            | "text/ecmascript"
            | "application/x-javascript"
            | "text/vtt"
            | "application/pdf+html"
            | "multipart/x-mixed-replace"
    ) || ct.ends_with("+xml")
}

/// How strictly a file is received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    /// A person uploads it (widget, console): active files are refused.
    Upload,
    /// A channel delivers it: never dropped, but stored as an opaque
    /// download when active.
    Channel,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// The declared type or the bytes are a web page, SVG, XML or script.
    #[error("web pages, SVG, XML and scripts cannot be attached; send a PDF, an image or another document")]
    Active,
}

/// The content type to store a file under: the declared (cleaned) type
/// when safe; for an active file either a refusal (uploads) or the opaque
/// `application/octet-stream` (channels). A declared image type whose bytes
/// are not that image is stored as opaque too, so it is never shown inline.
pub fn vet(bytes: &[u8], declared: &str, intake: Intake) -> Result<String, FileRefusal> {
    let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let sniffed = sniff(bytes);
    if is_active_type(&declared) || sniffed == Sniffed::Markup {
        return match intake {
            Intake::Upload => Err(FileRefusal::Active),
            Intake::Channel => Ok(OPAQUE.to_owned()),
        };
    }
    if declared.starts_with("image/") && sniffed.image_type() != Some(declared.as_str()) {
        // `image/jpg` and friends: trust the bytes when they are an image.
        return Ok(sniffed.image_type().map_or_else(|| OPAQUE.to_owned(), str::to_owned));
    }
    Ok(declared)
}

/// The type of a file that must not be interpreted.
pub const OPAQUE: &str = "application/octet-stream";

/// How to serve a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// The `Content-Type` to send.
    pub content_type: String,
    /// Whether the browser may show it in place (`inline`) rather than
    /// download it (`attachment`).
    pub inline: bool,
}

/// Decides how a stored file is served, from its stored type and its bytes
/// (re-checked at every response, so a file stored before these rules or
/// under a wrong type is still safe): inline only for an allow-listed
/// raster image whose bytes are that image; never an active type.
pub fn serving(stored_type: &str, bytes: &[u8]) -> Serving {
    let stored = stored_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let sniffed = sniff(bytes);
    if let Some(image) = sniffed.image_type()
        && image == stored
    {
        return Serving { content_type: stored, inline: true };
    }
    let safe = !is_active_type(&stored) && sniffed != Sniffed::Markup && !stored.is_empty();
    Serving { content_type: if safe { stored } else { OPAQUE.to_owned() }, inline: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn sniffs_images_documents_and_markup() {
        assert_eq!(sniff(PNG), Sniffed::Png);
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Sniffed::Jpeg);
        assert_eq!(sniff(b"GIF89a...."), Sniffed::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Sniffed::Webp);
        assert_eq!(sniff(b"%PDF-1.7"), Sniffed::Pdf);
        assert_eq!(sniff(b"  \n<!DOCTYPE html><script>alert(1)</script>"), Sniffed::Markup);
        assert_eq!(sniff(b"\xef\xbb\xbf<HTML>"), Sniffed::Markup);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"), Sniffed::Markup);
        assert_eq!(sniff(b"<?xml version='1.0'?><x/>"), Sniffed::Markup);
        assert_eq!(sniff(b"\xff\xfe<\0h\0t\0m\0l\0>\0"), Sniffed::Markup);
        assert_eq!(sniff(b"<script>x</script>"), Sniffed::Markup);
        assert_eq!(sniff(b"hello, my order 1001"), Sniffed::Unknown);
        assert_eq!(sniff(b"<abbr is not a tag we sniff"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
    }

    #[test]
    fn uploads_refuse_active_files_and_channels_neutralise_them() {
        let page = b"<html><script>fetch('/api/v1/auth/me')</script></html>";
        assert_eq!(vet(page, "text/html", Intake::Upload), Err(FileRefusal::Active));
        // A page declared as a harmless type is still a page.
        assert_eq!(vet(page, "image/png", Intake::Upload), Err(FileRefusal::Active));
        assert_eq!(vet(page, "text/plain", Intake::Upload), Err(FileRefusal::Active));
        assert_eq!(vet(b"<svg/>", "image/svg+xml", Intake::Upload), Err(FileRefusal::Active));
        assert_eq!(vet(b"x", "application/atom+xml", Intake::Upload), Err(FileRefusal::Active));
        assert_eq!(vet(page, "text/html; charset=utf-8", Intake::Channel).as_deref(), Ok(OPAQUE));
        assert_eq!(vet(PNG, "image/png", Intake::Upload).as_deref(), Ok("image/png"));
        assert_eq!(vet(PNG, "image/jpg", Intake::Upload).as_deref(), Ok("image/png"));
        assert_eq!(vet(b"not an image", "image/png", Intake::Upload).as_deref(), Ok(OPAQUE));
        assert_eq!(vet(b"%PDF-1.4", "application/pdf", Intake::Upload).as_deref(), Ok("application/pdf"));
        assert_eq!(vet(b"order 1001", "Text/Plain", Intake::Upload).as_deref(), Ok("text/plain"));
    }

    #[test]
    fn only_matching_raster_images_are_inline() {
        assert_eq!(serving("image/png", PNG), Serving { content_type: "image/png".into(), inline: true });
        // Stored under an image type but the bytes are a page: a download of
        // opaque bytes.
        let page = b"<html><script>x</script>";
        assert_eq!(serving("image/png", page), Serving { content_type: OPAQUE.into(), inline: false });
        assert_eq!(serving("text/html", page), Serving { content_type: OPAQUE.into(), inline: false });
        assert_eq!(serving("image/svg+xml", b"<svg/>"), Serving { content_type: OPAQUE.into(), inline: false });
        assert_eq!(
            serving("application/pdf", b"%PDF-1.4"),
            Serving { content_type: "application/pdf".into(), inline: false }
        );
        assert_eq!(serving("image/jpeg", PNG), Serving { content_type: "image/jpeg".into(), inline: false });
    }

    proptest! {
        #[test]
        fn an_inline_answer_is_always_an_allow_listed_image(
            ct in "[a-z]{1,8}/[a-z+.-]{1,12}",
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let s = serving(&ct, &bytes);
            if s.inline {
                prop_assert!(matches!(s.content_type.as_str(), "image/png" | "image/jpeg" | "image/gif" | "image/webp"));
                prop_assert_eq!(sniff(&bytes).image_type(), Some(s.content_type.as_str()));
            }
            prop_assert!(!is_active_type(&s.content_type));
            if let Ok(stored) = vet(&bytes, &ct, Intake::Channel) {
                prop_assert!(!is_active_type(&stored));
            }
        }
    }
}
