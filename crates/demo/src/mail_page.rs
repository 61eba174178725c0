//! `GET /sandbox/mail`: the mail the demo sent, as the sandbox's SMTP sink
//! received it, newest first — sender, recipients, subject, date, the
//! decoded text and the raw message. Read-only, and only in `ferry-demo`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use ferry_sandbox::smtp::{ReceivedMail, SmtpSink};
use std::fmt::Write;
use std::sync::Arc;

/// Where the page is served.
pub const PATH: &str = "/sandbox/mail";

/// The page's route, to merge into the demo's router.
pub fn router(sink: Arc<SmtpSink>) -> axum::Router {
    axum::Router::new().route(PATH, get(mail_page)).with_state(sink)
}

async fn mail_page(State(sink): State<Arc<SmtpSink>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        render(&sink.received()),
    )
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The fields shown for one message: decoded by Ferry's own parser, else
/// taken from the envelope.
struct Shown {
    from: String,
    to: String,
    subject: String,
    date: String,
    text: String,
}

fn shown(mail: &ReceivedMail) -> Shown {
    let person = |a: &ferry_channels::email::EmailAddress| match &a.name {
        Some(n) => format!("{n} <{}>", a.address),
        None => a.address.clone(),
    };
    match ferry_channels::email::parse(mail.raw.as_bytes()) {
        Ok(p) => Shown {
            from: person(&p.from),
            to: p.to.iter().chain(&p.cc).map(person).collect::<Vec<_>>().join(", "),
            subject: p.subject,
            date: p.date.map(|d| d.to_rfc2822()).unwrap_or_default(),
            text: p.text,
        },
        Err(_) => Shown {
            from: mail.envelope_from.clone(),
            to: mail.envelope_to.join(", "),
            subject: String::new(),
            date: String::new(),
            text: String::new(),
        },
    }
}

fn render(mails: &[ReceivedMail]) -> String {
    let mut page = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sent mail · Ferry demo</title>\
         <style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}\
         th,td{text-align:left;padding:.4em .6em;border-bottom:1px solid #ddd;vertical-align:top}\
         pre{white-space:pre-wrap;background:#f6f6f6;padding:.8em;margin:.4em 0}details{margin:.2em 0}\
         .muted{color:#777}</style></head><body><h1>Sent mail</h1>\
         <p class=\"muted\">What the demo's e-mail and Amazon inboxes sent, as the local SMTP sink received it \
         (kept in memory until the demo stops; newest first). Nothing leaves this machine.</p>",
    );
    if mails.is_empty() {
        page.push_str("<p id=\"empty\">No mail sent yet. Reply to an e-mail conversation in the console.</p>");
    } else {
        page.push_str(
            "<table><thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>Date</th></tr></thead><tbody>",
        );
        for (n, mail) in mails.iter().enumerate().rev() {
            let s = shown(mail);
            let _ = write!(
                page,
                "<tr class=\"mail\" id=\"mail-{n}\"><td>{}</td><td>{}</td><td>{}<div class=\"muted\">envelope: {}</div></td>\
                 <td>{}</td><td>{}</td></tr><tr><td></td><td colspan=\"4\"><pre class=\"text\">{}</pre>\
                 <details><summary>Raw message</summary><pre class=\"raw\">{}</pre></details></td></tr>",
                mail.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
                escape(&s.from),
                escape(&s.to),
                escape(&mail.envelope_to.join(", ")),
                escape(&s.subject),
                escape(&s.date),
                escape(&s.text),
                escape(&mail.raw),
            );
        }
        page.push_str("</tbody></table>");
    }
    page.push_str("</body></html>");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_listed_newest_first_and_escaped() {
        let mail = |subject: &str, text: &str| ReceivedMail {
            received_at: chrono::Utc::now(),
            envelope_from: "shop@example.com".into(),
            envelope_to: vec!["buyer@example.net".into()],
            raw: format!(
                "From: Shop <shop@example.com>\nTo: buyer@example.net\nSubject: {subject}\n\
                 Date: Fri, 4 Dec 2026 10:00:00 +0000\n\n{text}\n"
            ),
        };
        let page = render(&[mail("First", "one"), mail("Re: <b>second</b>", "a & b")]);
        let second = page.find("Re: &lt;b&gt;second&lt;/b&gt;");
        let first = page.find("<td>First</td>");
        assert!(second.is_some() && first.is_some() && second < first, "{page}");
        assert!(page.contains("Shop &lt;shop@example.com&gt;") && page.contains("a &amp; b"), "{page}");
        assert!(!page.contains("<b>second"), "{page}");
        assert!(render(&[]).contains("No mail sent yet"));
    }
}
