//! Table test of the e-mail parser over the public `.eml` corpus in
//! `shared/data/payloads` (located relative to the crate, or by
//! `FERRY_SHARED_DATA`): mail-parser's own test messages with its parsed
//! result beside each, and a Gmail reply from Chatwoot's fixtures.
//!
//! Every message must parse without panicking, or be refused with a clear
//! error where the expected result shows it has no usable sender (many
//! MIME test messages have no `From`, or one without a domain). Where an
//! `*.expected.json` exists, the subject, sender address, text body
//! (white space normalised) and attachment names must agree with it.

use ferry_channels::email::{EmailError, EmailKind, ParsedEmail, parse};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `FERRY_SHARED_DATA`, else the first `shared/data` beside a folder above
/// the crate (the clone's parent, or a worktree's).
fn shared_data() -> Option<PathBuf> {
    let found = match std::env::var_os("FERRY_SHARED_DATA") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/data"))
            .find(|d| d.join("payloads").is_dir()),
    };
    match found {
        Some(dir) if dir.join("payloads/email_mail_parser").is_dir() => Some(dir),
        _ => {
            println!(
                "skipped: the e-mail corpus (shared/data/payloads/email_mail_parser) was not found; set FERRY_SHARED_DATA"
            );
            None
        }
    }
}

fn emls(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(emls(&p));
        } else if p.extension().is_some_and(|x| x == "eml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// What mail-parser's serialised result says about a message.
#[derive(Clone)]
struct Expected {
    subject: String,
    from: Option<String>,
    /// The text of the text/plain bodies; `None` when mail-parser derived
    /// some of the text from HTML (our converter writes different text).
    text: Option<String>,
    attachment_names: Vec<Option<String>>,
}

fn header<'a>(part: &'a Value, name: &str) -> Option<&'a Value> {
    part["headers"].as_array()?.iter().find(|h| h["name"].as_str() == Some(name)).map(|h| &h["value"])
}

fn attribute(ct: &Value, name: &str) -> Option<String> {
    ct["ContentType"]["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|a| a["value"].as_str())
        .map(str::to_owned)
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn expected(v: &Value) -> Expected {
    let empty = Vec::new();
    let parts = v["parts"].as_array().unwrap_or(&empty);
    let root = parts.first().unwrap_or(&Value::Null);
    let subject = header(root, "subject").and_then(|s| s["Text"].as_str()).map(squash).unwrap_or_default();
    let from = header(root, "from").and_then(|f| {
        let addr = &f["Address"];
        let first = addr["List"].as_array().and_then(|l| l.iter().find_map(|a| a["address"].as_str())).or_else(|| {
            addr["Group"].as_array().and_then(|g| {
                g.iter()
                    .flat_map(|g| g["addresses"].as_array().into_iter().flatten())
                    .find_map(|a| a["address"].as_str())
            })
        });
        first.map(|a| a.trim().to_ascii_lowercase())
    });
    let ids = |key: &str| -> Vec<usize> {
        v[key].as_array().map(|a| a.iter().filter_map(Value::as_u64).map(|i| i as usize).collect()).unwrap_or_default()
    };
    let mut texts = Vec::new();
    let mut from_html = false;
    for id in ids("text_body") {
        let body = &parts.get(id).unwrap_or(&Value::Null)["body"];
        if let Some(t) = body["Text"].as_str() {
            texts.push(t.to_owned());
        } else if body.get("Html").is_some() {
            from_html = true;
        }
    }
    let attachment_names = ids("attachments")
        .into_iter()
        .map(|id| {
            let part = parts.get(id).unwrap_or(&Value::Null);
            header(part, "content_disposition")
                .and_then(|d| attribute(d, "filename"))
                .or_else(|| header(part, "content_type").and_then(|c| attribute(c, "name")))
                .map(|n| squash(&n))
                .filter(|n| !n.is_empty())
        })
        .collect();
    Expected { subject, from, text: (!from_html).then(|| squash(&texts.join("\n"))), attachment_names }
}

fn compare(mine: &ParsedEmail, exp: &Expected) -> Vec<String> {
    let mut diffs = Vec::new();
    if mine.subject != exp.subject {
        diffs.push(format!("subject {:?} != {:?}", mine.subject, exp.subject));
    }
    if let Some(from) = &exp.from
        && &mine.from.address.to_ascii_lowercase() != from
    {
        diffs.push(format!("from {:?} != {from:?}", mine.from.address));
    }
    if let Some(text) = &exp.text
        && &squash(&mine.text) != text
    {
        diffs.push(format!("text {:?} != {:?}", cut(&squash(&mine.text)), cut(text)));
    }
    let names: Vec<Option<String>> = mine.attachments.iter().map(|a| a.filename.clone()).collect();
    if names != exp.attachment_names {
        diffs.push(format!("attachments {names:?} != {:?}", exp.attachment_names));
    }
    diffs
}

fn cut(s: &str) -> String {
    s.chars().take(80).collect()
}

#[test]
fn every_corpus_message_parses_and_agrees_with_mail_parsers_result() {
    let Some(data) = shared_data() else { return };
    let files: Vec<PathBuf> =
        ["payloads/email_mail_parser", "payloads/email_chatwoot"].iter().flat_map(|d| emls(&data.join(d))).collect();
    assert!(files.len() >= 70, "expected the corpus, found {} files", files.len());

    let (mut agreed, mut rejected, mut unchecked, mut content_agreed) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let name = path.strip_prefix(&data).unwrap_or(path).display().to_string();
        let Ok(raw) = std::fs::read(path) else {
            failures.push(format!("{name}: unreadable"));
            continue;
        };
        let exp = std::fs::read(path.with_extension("expected.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .map(|v| expected(&v));
        let malformed = name.contains("/malformed/");
        match (parse(&raw), exp) {
            (Ok(mine), Some(exp)) => {
                if mine.kind != EmailKind::Normal {
                    println!("{name}: {:?}", mine.kind);
                }
                let diffs = compare(&mine, &exp);
                if diffs.is_empty() {
                    agreed += 1;
                } else {
                    failures.push(format!("{name}: {}", diffs.join("; ")));
                }
            }
            (Ok(_), None) => unchecked += 1,
            (Err(e), exp) => {
                rejected += 1;
                // A refusal is right only where there is nothing to take:
                // no sender address, or not a message at all.
                let fine = match (&e, &exp) {
                    (EmailError::NoSender, Some(exp)) => {
                        exp.from.as_deref().is_none_or(|a| a.rsplit_once('@').is_none_or(|(_, d)| !d.contains('.')))
                    }
                    (EmailError::NotAMessage | EmailError::Empty, _) => malformed,
                    _ => false,
                };
                println!("rejected {name}: {e}");
                if !fine {
                    failures.push(format!("{name}: refused: {e}"));
                }
                // The rest of a message refused for its sender must still
                // agree: parse it again with a sender put in front.
                if let (EmailError::NoSender, Some(exp)) = (&e, &exp) {
                    let mut with_sender = b"From: corpus@test.example\r\n".to_vec();
                    with_sender.extend_from_slice(&raw);
                    match parse(&with_sender) {
                        Ok(mine) => {
                            let exp = Expected { from: None, ..exp.clone() };
                            let diffs = compare(&mine, &exp);
                            if diffs.is_empty() {
                                content_agreed += 1;
                            } else {
                                failures.push(format!("{name} (with a sender): {}", diffs.join("; ")));
                            }
                        }
                        // Nothing but broken MIME structure: right to refuse.
                        Err(EmailError::Empty) if malformed && exp.text.as_deref() == Some("") => {}
                        Err(e) => failures.push(format!("{name} (with a sender): refused: {e}")),
                    }
                }
            }
        }
    }
    println!(
        "e-mail corpus: {} files, {agreed} agree with mail-parser's result, {rejected} rejected for their sender ({content_agreed} of them agree in content once given one), {unchecked} without expected result, {} disagree",
        files.len(),
        failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} corpus messages disagree", failures.len());
}

#[test]
fn chatwoot_gmail_reply_folds_the_quote() {
    let Some(data) = shared_data() else { return };
    let path = data.join("payloads/email_chatwoot/mail_with_quote.eml");
    let Ok(raw) = std::fs::read(&path) else {
        println!("skipped: {} not found", path.display());
        return;
    };
    let mail = match parse(&raw) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    assert!(mail.text.contains("wrote:"), "the full text keeps the quote: {:?}", mail.text);
    assert!(!mail.reply_text.contains("wrote:"), "{:?}", mail.reply_text);
    assert!(!mail.reply_text.lines().any(|l| l.starts_with('>')), "{:?}", mail.reply_text);
    assert_eq!(mail.reply_text, "Yes, I am providing you step how to reproduce this issue");
    assert_eq!(mail.from.address, "sony@chatwoot.com");
    assert_eq!(
        mail.in_reply_to.as_deref(),
        Some("0100017b5d8efc70-c7f18809-aa55-48f6-91fd-b626092ed8b3-000000@email.amazonses.com")
    );
    assert_eq!(mail.references.len(), 2);
    assert!(mail.html.as_deref().is_some_and(|h| h.contains("Any update on this?")));
}
