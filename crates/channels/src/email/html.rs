//! HTML bodies: converted to readable text for the thread, and sanitised
//! for display in the console.
//!
//! The conversion reads the token stream (no tree is built): block
//! elements become line breaks, list items get markers, links keep their
//! address as `text (url)`, and scripts, styles and titles vanish. In the
//! same pass it writes a second text without the quote containers mail
//! clients wrap earlier messages in (Gmail's `gmail_quote`, Apple Mail's
//! and Thunderbird's `blockquote type="cite"`, Yahoo's `yahoo_quoted`) and
//! without anything after Outlook's reply header.

use ammonia::{Builder, UrlRelative};
use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::LazyLock;

/// HTML converted to text: all of it, and without quoted earlier messages.
pub(crate) struct Converted {
    pub full: String,
    pub reply: String,
}

/// Converts an HTML body to readable plain text: paragraphs and line
/// breaks kept, list items marked, links written as `text (url)`, no tags,
/// scripts or styles.
pub fn html_to_text(html: &str) -> String {
    convert(html).full
}

pub(crate) fn convert(html: &str) -> Converted {
    let sink = Sink { state: RefCell::new(State::default()) };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(html));
    while let TokenizerResult::Script(_) = tokenizer.feed(&queue) {}
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();
    Converted { full: state.full.finish(), reply: state.reply.finish() }
}

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto", "tel", "cid"]))
        .url_relative(UrlRelative::Deny)
        .add_generic_attributes(["style"])
        .filter_style_properties(HashSet::from([
            "color",
            "background-color",
            "font-weight",
            "font-style",
            "font-size",
            "text-align",
            "text-decoration",
            "white-space",
        ]))
        // Remote images are tracking beacons more often than content, and
        // loading them would tell the sender when an agent opened the mail:
        // only images carried in the message itself (`cid:`) are kept.
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("img", "src") if !value.trim_start().get(..4).is_some_and(|s| s.eq_ignore_ascii_case("cid:")) => None,
            _ => Some(Cow::Borrowed(value)),
        });
    b
});

/// Sanitises an HTML body for display: no scripts, event handlers, forms,
/// frames, style sheets or remote resources (images load only from the
/// message's own `cid:` parts); links open safely; a few harmless inline
/// style properties survive.
pub fn sanitize_html(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Accumulates text, collapsing white space the way a browser does.
#[derive(Default)]
struct Out {
    buf: String,
    pending_space: bool,
}

impl Out {
    fn text(&mut self, s: &str, pre: bool) {
        for c in s.chars() {
            if c == '\r' {
                continue;
            }
            if pre {
                self.flush_space();
                self.buf.push(if c == '\u{a0}' { ' ' } else { c });
            } else if c.is_whitespace() {
                if !self.buf.is_empty() && !self.buf.ends_with('\n') {
                    self.pending_space = true;
                }
            } else if c != '\u{200b}' && c != '\u{feff}' && !c.is_control() {
                self.flush_space();
                self.buf.push(c);
            }
        }
    }

    fn flush_space(&mut self) {
        if self.pending_space {
            self.buf.push(' ');
            self.pending_space = false;
        }
    }

    /// Ends the line and makes sure `n` line breaks separate what follows.
    fn breaks(&mut self, n: usize) {
        self.pending_space = false;
        if self.buf.is_empty() {
            return;
        }
        while self.buf.ends_with(' ') {
            self.buf.pop();
        }
        let have = self.buf.chars().rev().take_while(|c| *c == '\n').count();
        for _ in have..n {
            self.buf.push('\n');
        }
    }

    /// A forced line break (`<br>`): always adds one.
    fn line_break(&mut self) {
        self.pending_space = false;
        while self.buf.ends_with(' ') {
            self.buf.pop();
        }
        self.buf.push('\n');
    }

    fn finish(self) -> String {
        let mut out = String::with_capacity(self.buf.len());
        let mut blank_run = 0;
        for line in self.buf.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                blank_run += 1;
                if blank_run > 1 {
                    continue;
                }
            } else {
                blank_run = 0;
            }
            out.push_str(line);
            out.push('\n');
        }
        out.trim().to_owned()
    }
}

#[derive(Default)]
struct State {
    full: Out,
    reply: Out,
    /// Inside a script, style or title: its text is not content.
    skipping: Option<String>,
    /// An open quote container: its tag name and how deeply it nests.
    quote: Option<(String, usize)>,
    /// An Outlook reply header was seen: the reply text ends there.
    cut: bool,
    pre: usize,
    /// Open links: their address and where their text starts in `full`.
    links: Vec<(Option<String>, usize)>,
    /// Open lists: `Some(n)` counts the items of an ordered list.
    lists: Vec<Option<u32>>,
}

impl State {
    fn both(&mut self, f: impl Fn(&mut Out)) {
        f(&mut self.full);
        if self.quote.is_none() && !self.cut {
            f(&mut self.reply);
        }
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if let Some(skipped) = &self.skipping {
            if !start && skipped == name {
                self.skipping = None;
            } else if start && skipped == "head" && name == "body" {
                // A head that was never closed ends where the body starts.
                self.skipping = None;
            } else {
                // Raw-text elements must still switch the tokenizer's state,
                // or their content would be read as markup.
                return match (start, raw_kind(name)) {
                    (true, Some(kind)) => TokenSinkResult::RawData(kind),
                    _ => TokenSinkResult::Continue,
                };
            }
            return TokenSinkResult::Continue;
        }
        if start {
            self.start_tag(name, tag)
        } else {
            self.end_tag(name);
            TokenSinkResult::Continue
        }
    }

    fn start_tag(&mut self, name: &str, tag: &Tag) -> TokenSinkResult<()> {
        let attr = |wanted: &str| tag.attrs.iter().find(|a| &*a.name.local == wanted).map(|a| a.value.to_string());
        if !tag.self_closing && !is_void(name) {
            if let Some((q, depth)) = &mut self.quote {
                if q == name {
                    *depth += 1;
                }
            } else if is_quote_container(name, attr("class").as_deref(), attr("type").as_deref()) {
                self.quote = Some((name.to_owned(), 1));
            }
        }
        let id = attr("id").unwrap_or_default();
        if matches!(id.as_str(), "divRplyFwdMsg" | "appendonsend" | "stopSpelling")
            || attr("class").is_some_and(|c| c.split_whitespace().any(|c| c == "OutlookMessageHeader"))
        {
            self.cut = true;
        }
        if let Some(kind) = raw_kind(name) {
            self.skipping = Some(name.to_owned());
            return TokenSinkResult::RawData(kind);
        }
        match name {
            "template" | "head" if !tag.self_closing => {
                // Their content is not shown; they hold no raw text, so the
                // tokenizer goes on and we drop what it finds.
                self.skipping = Some(name.to_owned());
            }
            "br" => self.both(Out::line_break),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "ul" | "ol" | "dl" => {
                self.both(|o| o.breaks(2));
                match name {
                    "ul" => self.lists.push(None),
                    "ol" => self.lists.push(Some(0)),
                    _ => {}
                }
            }
            "pre" => {
                self.both(|o| o.breaks(2));
                self.pre += 1;
            }
            "li" => {
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{n}. ")
                    }
                    _ => "- ".to_owned(),
                };
                let indent = "  ".repeat(self.lists.len().saturating_sub(1));
                self.both(|o| {
                    o.breaks(1);
                    o.buf.push_str(&indent);
                    o.buf.push_str(&marker);
                });
            }
            "hr" => self.both(|o| o.breaks(2)),
            "td" | "th" => self.both(|o| {
                if !o.buf.is_empty() && !o.buf.ends_with('\n') {
                    o.pending_space = true;
                }
            }),
            "a" => {
                let start = self.full.buf.len();
                self.links.push((attr("href"), start));
            }
            _ if is_block(name) => self.both(|o| o.breaks(1)),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "dl" => self.both(|o| o.breaks(2)),
            "ul" | "ol" => {
                self.lists.pop();
                self.both(|o| o.breaks(2));
            }
            "pre" => {
                self.pre = self.pre.saturating_sub(1);
                self.both(|o| o.breaks(2));
            }
            "a" => {
                if let Some((Some(href), start)) = self.links.pop() {
                    let label = self.full.buf.get(start..).unwrap_or_default().trim().to_owned();
                    if let Some(shown) = link_suffix(&href, &label) {
                        self.both(|o| {
                            o.flush_space();
                            if !o.buf.is_empty() && !o.buf.ends_with(['\n', ' ']) {
                                o.buf.push(' ');
                            }
                            o.buf.push_str(&shown);
                        });
                    }
                }
            }
            _ if is_block(name) || name == "li" => self.both(|o| o.breaks(1)),
            _ => {}
        }
        if let Some((q, depth)) = &mut self.quote
            && q == name
        {
            *depth -= 1;
            if *depth == 0 {
                self.quote = None;
            }
        }
    }

    fn characters(&mut self, s: &str) {
        if self.skipping.is_some() {
            return;
        }
        let pre = self.pre > 0;
        self.both(|o| o.text(s, pre));
    }
}

/// What to write after a link's text: `(url)`, or the address alone when
/// the link has no text; nothing when the text already shows the address
/// or the address is not one a reader can follow.
fn link_suffix(href: &str, label: &str) -> Option<String> {
    let href = href.trim();
    let lower = href.to_ascii_lowercase();
    let shown = if let Some(rest) = lower.strip_prefix("mailto:") {
        href.get(href.len() - rest.len()..).unwrap_or(rest).split('?').next().unwrap_or_default().to_owned()
    } else if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("tel:") {
        href.to_owned()
    } else {
        return None;
    };
    if shown.is_empty() {
        return None;
    }
    let bare = |s: &str| {
        s.trim()
            .trim_end_matches('/')
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("tel:")
            .to_ascii_lowercase()
    };
    if label.is_empty() {
        Some(shown)
    } else if bare(label) == bare(&shown) {
        None
    } else {
        Some(format!("({shown})"))
    }
}

/// Elements whose content the tokenizer must read as raw text; none of it
/// is shown.
fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" => Some(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" => Some(RawKind::Rawtext),
        "title" | "textarea" => Some(RawKind::Rcdata),
        _ => None,
    }
}

fn is_quote_container(name: &str, class: Option<&str>, kind: Option<&str>) -> bool {
    let classes = class.unwrap_or_default();
    classes.split_whitespace().any(|c| matches!(c, "gmail_quote" | "yahoo_quoted" | "moz-cite-prefix"))
        || (name == "blockquote" && kind.is_some_and(|t| t.eq_ignore_ascii_case("cite")))
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
    )
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "div"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "main"
            | "nav"
            | "aside"
            | "address"
            | "figure"
            | "figcaption"
            | "fieldset"
            | "form"
            | "tr"
            | "thead"
            | "tbody"
            | "tfoot"
            | "caption"
            | "dt"
            | "dd"
            | "center"
            | "body"
            | "html"
    )
}

struct Sink {
    state: RefCell<State>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => state.tag(&tag),
            Token::CharacterTokens(s) => {
                state.characters(&s);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_breaks_lists_and_links_become_text() {
        let html = r#"<html><head><title>T</title><style>p{color:red}</style></head><body>
            <p>Hello&nbsp;there,</p><p>line one<br>line two</p>
            <ul><li>first</li><li>second</li></ul>
            <ol><li>a</li><li>b</li></ol>
            <p>Track it <a href="https://t.example/x?a=1&amp;b=2">here</a> or
            <a href="https://shop.example">https://shop.example/</a>,
            mail <a href="mailto:help@shop.example">us</a>.</p>
            <script>alert(1)</script><div>end</div></body></html>"#;
        let text = html_to_text(html);
        assert_eq!(
            text,
            "Hello there,\n\nline one\nline two\n\n- first\n- second\n\n1. a\n2. b\n\n\
             Track it here (https://t.example/x?a=1&b=2) or https://shop.example/, mail us (help@shop.example).\n\nend"
        );
    }

    #[test]
    fn quote_containers_are_left_out_of_the_reply() {
        let html = r#"<div dir="ltr">Yes, please refund.</div><br><div class="gmail_quote gmail_quote_container">
            <div class="gmail_attr">On Mon, 1 Jan 2024 at 10:00, Shop &lt;s@shop.example&gt; wrote:<br></div>
            <blockquote class="gmail_quote"><div>Do you want a refund?</div></blockquote></div>"#;
        let c = convert(html);
        assert_eq!(c.reply, "Yes, please refund.");
        assert!(c.full.contains("Do you want a refund?"));

        let outlook = r#"<div>Thanks!</div><hr><div id="divRplyFwdMsg"><b>From:</b> Shop</div><div>old text</div>"#;
        assert_eq!(convert(outlook).reply, "Thanks!");

        let apple = r#"Fine.<br><div><blockquote type="cite"><div>quoted <blockquote>deeper</blockquote> more</div></blockquote></div>after"#;
        let c = convert(apple);
        assert_eq!(c.reply, "Fine.\nafter");
    }

    #[test]
    fn sanitising_removes_scripts_handlers_and_remote_images() {
        let html = r#"<p onclick="x()">Hi<script>alert(1)</script></p>
            <img src="x" onerror="alert(2)"><img src="https://track.example/p.gif">
            <img src="cid:logo@shop" alt="logo"><a href="javascript:alert(3)">j</a>
            <a href="https://shop.example">s</a><iframe src="https://evil.example"></iframe>
            <form action="https://evil.example"><input name=a></form>
            <p style="color: red; background: url(https://track.example/b.gif)">styled</p>
            <link rel="stylesheet" href="https://evil.example/s.css"><style>body{background:url(x)}</style>"#;
        let clean = sanitize_html(html);
        for bad in ["script", "onerror", "onclick", "alert", "track.example", "javascript", "iframe", "form", "evil"] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(clean.contains(r#"src="cid:logo@shop""#), "{clean}");
        assert!(clean.contains(r#"href="https://shop.example""#), "{clean}");
        assert!(clean.contains("color:red"), "{clean}");
    }

    #[test]
    fn broken_html_still_converts() {
        assert_eq!(html_to_text("<p>open <b>bold <i>never closed"), "open bold never closed");
        assert_eq!(html_to_text("<script>never closed"), "");
        assert_eq!(html_to_text(""), "");
        assert_eq!(html_to_text("<pre>  a\n   b</pre>"), "a\n   b");
    }
}
