//! Folding quoted replies and signatures out of a plain-text body, so the
//! thread shows what the sender wrote this time.
//!
//! Recognised: attribution lines (`On … wrote:`, `Am … schrieb:`,
//! `Le … a écrit :`, `El … escribió:`, `在 … 写道：`, `…のメッセージ:`,
//! also when a client wrapped them over two or three lines), `>`-quoted
//! lines, Outlook-style reply headers (`From:` / `Sent:` / `Subject:`
//! blocks, `-----Original Message-----` and its translations), the `-- `
//! signature delimiter and "Sent from my iPhone"-style lines at the end.
//! Text after a forwarding marker is content, not a quote, and is kept.

/// The text the sender wrote this time: `text` without quoted replies,
/// reply headers and signature. May be empty (a message that is only a
/// quote); callers fall back to the full text then.
pub fn fold_quotes(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.lines().collect();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut forwarded = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_forward_marker(line) {
            forwarded = true;
        }
        if !forwarded && is_reply_header(&lines[i..]) {
            break;
        }
        if let Some(span) = attribution_span(&lines[i..]) {
            let next = lines[i + span..].iter().find(|l| !l.trim().is_empty());
            match next {
                // The quote follows, `>`-prefixed: drop the attribution; the
                // quoted lines go below (replies may be interleaved).
                Some(l) if is_quoted(l) => {
                    i += span;
                    continue;
                }
                None => break,
                // The quote follows without prefixes (converted HTML, some
                // mobile clients): everything from here on is the quote.
                Some(_) if !forwarded => break,
                Some(_) => {}
            }
        }
        if is_quoted(line) {
            i += 1;
            continue;
        }
        if is_signature_delimiter(line) {
            break;
        }
        kept.push(line);
        i += 1;
    }
    // Mobile and mail-app signatures close the message.
    // Mobile and mail-app signatures and rules left by a cut reply header
    // close the message.
    while kept.last().is_some_and(|l| is_rule(l) || is_device_signature(l)) {
        kept.pop();
    }
    let mut out = String::new();
    let mut blank = false;
    for line in kept {
        let line = line.trim_end();
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank && !out.is_empty() {
            out.push('\n');
        }
        blank = false;
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

/// Blank, or a horizontal rule drawn with `-`, `_`, `=` or `*`.
fn is_rule(line: &str) -> bool {
    line.trim().chars().all(|c| matches!(c, '-' | '_' | '=' | '*'))
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn is_signature_delimiter(line: &str) -> bool {
    line == "-- " || line == "--" || line == "-- \u{a0}" || line == "--\u{a0}"
}

/// Normalises the spacing of an attribution candidate: non-breaking and
/// narrow spaces (French typography) become plain spaces.
fn spaced(s: &str) -> String {
    s.chars().map(|c| if matches!(c, '\u{a0}' | '\u{202f}' | '\u{2009}') { ' ' } else { c }).collect()
}

/// How many lines (1 to 3) the attribution at the start of `lines` spans.
fn attribution_span(lines: &[&str]) -> Option<usize> {
    let first = spaced(lines.first()?.trim());
    if first.is_empty() || first.starts_with('>') {
        return None;
    }
    let mut joined = first;
    for span in 1..=3 {
        if is_attribution(&joined) {
            return Some(span);
        }
        let next = lines.get(span)?.trim();
        if next.is_empty() {
            return None;
        }
        joined.push(' ');
        joined.push_str(&spaced(next));
    }
    None
}

fn is_attribution(line: &str) -> bool {
    let l = line.trim();
    let lower = l.to_lowercase();
    // The verb comes last, or just before the quoted author's address
    // (`Am … schrieb Shop <s@shop.example>:`).
    // Every client writes a date or time into it: a sentence of the
    // buyer's ("On Monday I wrote to you:") has none.
    let ends_colon = (lower.ends_with(':') || lower.ends_with('：')) && l.chars().any(|c| c.is_ascii_digit());
    let shaped =
        |start: &str, verbs: &[&str]| ends_colon && lower.starts_with(start) && verbs.iter().any(|v| lower.contains(v));
    shaped("on ", &[" wrote:", " wrote "])
        || shaped("am ", &[" schrieb"])
        || shaped("le ", &[" a écrit"])
        || shaped("el ", &[" escribió", " escribio"])
        || shaped("在", &["写道"])
        || shaped("於", &["寫道"])
        || lower.ends_with("のメッセージ:")
        || lower.ends_with("のメッセージ：")
        || lower.ends_with(" wrote:") && lower.contains('@') && l.chars().count() < 200
}

/// A reply header starting at `lines[0]`: an "Original Message" rule, or a
/// `From:` line followed closely by a date and a subject or recipient line.
fn is_reply_header(lines: &[&str]) -> bool {
    let Some(first) = lines.first() else { return false };
    let t = first.trim();
    let lower = t.to_lowercase();
    if t.starts_with(['-', '_', '=', '*'])
        && [
            "original message",
            "original-nachricht",
            "ursprüngliche nachricht",
            "message d'origine",
            "message d’origine",
            "mensaje original",
            "messaggio originale",
            "原始邮件",
            "原始郵件",
            "元のメッセージ",
        ]
        .iter()
        .any(|m| lower.contains(m))
    {
        return true;
    }
    if !starts_with_any(&lower, &["from:", "von:", "de :", "de:", "发件人:", "发件人：", "寄件者:", "差出人:"])
    {
        return false;
    }
    let window = || lines.iter().skip(1).take(5).map(|l| l.trim().to_lowercase());
    let dated = window().any(|l| {
        starts_with_any(
            &l,
            &[
                "sent:",
                "date:",
                "gesendet:",
                "datum:",
                "envoyé :",
                "envoyé:",
                "enviado:",
                "fecha:",
                "发送时间:",
                "发送时间：",
                "日期:",
                "送信日時:",
                "日時:",
            ],
        )
    });
    let addressed = window().any(|l| {
        starts_with_any(
            &l,
            &[
                "to:",
                "subject:",
                "an:",
                "betreff:",
                "à :",
                "à:",
                "objet :",
                "objet:",
                "para:",
                "asunto:",
                "收件人:",
                "收件人：",
                "主题:",
                "主题：",
                "宛先:",
                "件名:",
            ],
        )
    });
    dated && addressed
}

fn starts_with_any(s: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| s.starts_with(p))
}

fn is_forward_marker(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    [
        "forwarded message",
        "begin forwarded message",
        "weitergeleitete nachricht",
        "message transféré",
        "mensaje reenviado",
        "messaggio inoltrato",
        "转发的邮件",
        "転送されたメッセージ",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

fn is_device_signature(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    [
        "sent from my ",
        "sent from outlook",
        "sent from mail for windows",
        "sent from yahoo mail",
        "sent via ",
        "get outlook for ",
        "von meinem ",
        "gesendet von ",
        "envoyé de mon ",
        "envoyé depuis ",
        "enviado desde mi ",
        "enviado desde ",
        "inviato da ",
        "发自我的",
        "從我的",
        "iphoneから送信",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
        && lower.chars().count() <= 80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_attribution_and_quote_are_folded() {
        let text = "Yes please.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Shop Support <\nsupport@shop.example> wrote:\n\n> Do you want a refund?\n> Regards\n";
        assert_eq!(fold_quotes(text), "Yes please.");
    }

    #[test]
    fn attributions_in_several_languages() {
        for attribution in [
            "Am 01.01.2024 um 10:00 schrieb Shop <s@shop.example>:",
            "Le lun. 1 janv. 2024 à 10:00, Shop <s@shop.example> a\u{a0}écrit\u{a0}:",
            "El lun, 1 ene 2024 a las 10:00, Shop (<s@shop.example>) escribió:",
            "在 2024年1月1日 10:00，Shop <s@shop.example> 写道：",
            "2024/01/01 10:00、Shop <s@shop.example>のメッセージ:",
        ] {
            let text = format!("Danke\n\n{attribution}\n> alt\n");
            assert_eq!(fold_quotes(&text), "Danke", "{attribution}");
        }
    }

    #[test]
    fn interleaved_replies_keep_the_answers() {
        let text = "On Mon, Shop <s@shop.example> wrote:\n> What size?\nM\n> Which colour?\nBlue\n";
        assert_eq!(fold_quotes(text), "M\nBlue");
    }

    #[test]
    fn outlook_headers_cut_the_rest() {
        let text = "Thanks!\n\n________________________________\nFrom: Shop <s@shop.example>\nSent: Monday, 1 January 2024 10:00\nTo: Me\nSubject: Your order\n\nold text";
        assert_eq!(fold_quotes(text), "Thanks!");
        let text = "Danke!\n\n-----Ursprüngliche Nachricht-----\nVon: Shop\nalt";
        assert_eq!(fold_quotes(text), "Danke!");
    }

    #[test]
    fn signatures_are_folded() {
        assert_eq!(fold_quotes("Where is my parcel?\n-- \nJane Doe\nACME Ltd"), "Where is my parcel?");
        assert_eq!(fold_quotes("Where is my parcel?\n\nSent from my iPhone\n"), "Where is my parcel?");
        assert_eq!(fold_quotes("Wo ist mein Paket?\n\nVon meinem iPhone gesendet"), "Wo ist mein Paket?");
        assert_eq!(fold_quotes("Sent from my iPhone"), "");
    }

    #[test]
    fn forwarded_messages_are_kept() {
        let text = "See below.\n\n---------- Forwarded message ---------\nFrom: Carrier <c@carrier.example>\nDate: Mon, 1 Jan 2024\nSubject: Delivery failed\nTo: me@x.example\n\nWe could not deliver.";
        assert_eq!(fold_quotes(text), text);
    }

    #[test]
    fn plain_text_is_untouched() {
        let text = "Hello,\n\nmy order 123 has not arrived.\n\nOn Monday I wrote to you:\nno answer yet.\nThanks";
        assert_eq!(fold_quotes(text), text);
    }
}
