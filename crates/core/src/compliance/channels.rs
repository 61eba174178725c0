//! Rules of the messaging channels other than Amazon: the WhatsApp,
//! Messenger and Instagram reply windows, e-mail attachments and SMS
//! length.

use super::{AttachmentMeta, Draft, Finding, Lang, Location, RuleId, Span, explain, finding};
use chrono::{DateTime, Duration, Utc};

/// How long after the buyer's last message a business may send free text
/// on WhatsApp, Messenger and Instagram.
pub const STANDARD_WINDOW: Duration = Duration::hours(24);

/// How long a person may reply on Messenger and Instagram with the
/// `HUMAN_AGENT` tag.
pub const HUMAN_AGENT_WINDOW: Duration = Duration::days(7);

/// The most an e-mail's attachments may weigh together (25 MB, the limit
/// of the large mail providers).
pub const EMAIL_MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// File extensions mail providers reject and buyers must never run:
/// programs, installers, scripts and shortcuts.
pub const EMAIL_BLOCKED_EXTENSIONS: &[&str] = &[
    "ade", "adp", "apk", "app", "appx", "bat", "cab", "chm", "cmd", "com", "cpl", "dll", "exe", "hta", "ins", "isp",
    "jar", "js", "jse", "lib", "lnk", "mde", "msc", "msi", "msix", "msp", "mst", "nsh", "pif", "ps1", "psm1", "reg",
    "scr", "sct", "sh", "shb", "sys", "vb", "vbe", "vbs", "vxd", "wsc", "wsf", "wsh",
];

/// MIME types of programs and scripts, caught even without a file name.
pub const EMAIL_BLOCKED_MIME_TYPES: &[&str] = &[
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/x-ms-installer",
    "application/x-msi",
    "application/x-executable",
    "application/x-dosexec",
    "application/vnd.microsoft.portable-executable",
    "application/java-archive",
    "application/x-java-archive",
    "application/javascript",
    "text/javascript",
    "application/x-javascript",
    "application/x-sh",
    "application/x-shellscript",
    "text/x-shellscript",
    "application/x-bat",
    "application/x-powershell",
    "text/vbscript",
    "application/vnd.android.package-archive",
];

/// An SMS longer than this many segments gets a warning.
pub const SMS_MAX_SEGMENTS: usize = 3;

/// The WhatsApp 24-hour customer-service window: free text only within 24
/// hours of the buyer's last message; templates at any time.
pub fn check_whatsapp_window(draft: &Draft, now: DateTime<Utc>, lang: Lang) -> Vec<Finding> {
    if draft.template.is_some() {
        return Vec::new();
    }
    let explanation = match draft.last_buyer_message_at {
        None => explain::no_buyer_message(lang, "WhatsApp", true),
        Some(at) if now - at > STANDARD_WINDOW => explain::plain(RuleId::WhatsappWindowClosed, lang),
        Some(_) => return Vec::new(),
    };
    vec![finding(RuleId::WhatsappWindowClosed, Location::Message, None, explanation)]
}

/// The Messenger and Instagram windows: 24 hours, or 7 days with the human
/// agent tag.
pub fn check_meta_window(draft: &Draft, now: DateTime<Utc>, lang: Lang) -> Vec<Finding> {
    let (rule, name) = match draft.channel {
        crate::inbox::ChannelKind::Instagram => (RuleId::InstagramWindowClosed, "Instagram"),
        _ => (RuleId::MessengerWindowClosed, "Messenger"),
    };
    let explanation = match draft.last_buyer_message_at {
        None => explain::no_buyer_message(lang, name, false),
        Some(at) => {
            let elapsed = now - at;
            let window = if draft.human_agent { HUMAN_AGENT_WINDOW } else { STANDARD_WINDOW };
            if elapsed <= window {
                return Vec::new();
            }
            let tag_would_help = !draft.human_agent && elapsed <= HUMAN_AGENT_WINDOW;
            explain::meta_window(lang, name, elapsed.num_hours(), tag_would_help)
        }
    };
    vec![finding(rule, Location::Message, None, explanation)]
}

/// E-mail attachments: no programs or scripts, 25 MB in total.
pub fn check_email_attachments(attachments: &[AttachmentMeta], lang: Lang) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, a) in attachments.iter().enumerate() {
        let bad_ext = a.extension().is_some_and(|e| EMAIL_BLOCKED_EXTENSIONS.contains(&e.as_str()));
        let bad_mime = EMAIL_BLOCKED_MIME_TYPES.contains(&a.mime().as_str());
        if bad_ext || bad_mime {
            findings.push(finding(
                RuleId::EmailAttachmentType,
                Location::Attachment { index },
                None,
                explain::plain(RuleId::EmailAttachmentType, lang),
            ));
        }
    }
    let total: u64 = attachments.iter().filter_map(|a| a.size).fold(0, u64::saturating_add);
    if total > EMAIL_MAX_ATTACHMENT_BYTES {
        findings.push(finding(
            RuleId::EmailAttachmentSize,
            Location::Message,
            None,
            explain::attachments_too_large(lang, "E-mail", total, EMAIL_MAX_ATTACHMENT_BYTES),
        ));
    }
    findings
}

/// GSM 03.38 basic alphabet (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension table (an escape plus one septet each).
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{0C}";

/// How an SMS text is encoded and how long it is in that encoding's
/// units, with the unit count after each character.
struct SmsLength {
    unicode: bool,
    /// Cumulative units after each character, with its byte offset.
    cumulative: Vec<(usize, usize)>,
}

fn sms_length(text: &str) -> SmsLength {
    let gsm = text.chars().all(|c| GSM7_BASIC.contains(c) || GSM7_EXTENDED.contains(c));
    let mut total = 0;
    let cumulative = text
        .char_indices()
        .map(|(i, c)| {
            total += if gsm { if GSM7_EXTENDED.contains(c) { 2 } else { 1 } } else { c.len_utf16() };
            (i, total)
        })
        .collect();
    SmsLength { unicode: !gsm, cumulative }
}

/// The number of segments an SMS text needs (GSM-7: 160 in one, 153 per
/// part when concatenated; UCS-2: 70 and 67).
pub fn sms_segments(text: &str) -> usize {
    let len = sms_length(text);
    let units = len.cumulative.last().map_or(0, |&(_, u)| u);
    let (single, part) = if len.unicode { (70, 67) } else { (160, 153) };
    if units <= single { 1 } else { units.div_ceil(part) }
}

/// How an SMS text is sent, for the composer to show before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSegmentInfo {
    /// UCS-2 (some character is outside GSM-7 and its extension table).
    pub unicode: bool,
    /// Length in the encoding's units: septets (extension characters
    /// count two) or UTF-16 units.
    pub units: usize,
    /// Segments it is sent (and billed) as.
    pub segments: usize,
    /// Units one segment holds for this text: 160 or 153 (GSM-7), 70 or
    /// 67 (UCS-2) once split.
    pub per_segment: usize,
    /// Units left in the last segment.
    pub remaining: usize,
}

/// The encoding, length and segments of an SMS text.
pub fn sms_segment_info(text: &str) -> SmsSegmentInfo {
    let len = sms_length(text);
    let units = len.cumulative.last().map_or(0, |&(_, u)| u);
    let (single, part) = if len.unicode { (70, 67) } else { (160, 153) };
    let segments = sms_segments(text);
    let per_segment = if segments == 1 { single } else { part };
    SmsSegmentInfo { unicode: len.unicode, units, segments, per_segment, remaining: per_segment * segments - units }
}

/// A warning when an SMS needs more than [`SMS_MAX_SEGMENTS`] segments;
/// the span is the part beyond them.
pub fn check_sms_segments(text: &str, lang: Lang) -> Vec<Finding> {
    let segments = sms_segments(text);
    if segments <= SMS_MAX_SEGMENTS {
        return Vec::new();
    }
    let len = sms_length(text);
    let limit = SMS_MAX_SEGMENTS * if len.unicode { 67 } else { 153 };
    let start = len.cumulative.iter().find(|&&(_, units)| units > limit).map_or(0, |&(i, _)| i);
    vec![finding(
        RuleId::SmsSegments,
        Location::Text,
        Span::of(text, start, text.len()),
        explain::sms_segments(lang, segments, SMS_MAX_SEGMENTS, len.unicode),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::ChannelKind;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).single().unwrap_or_default()
    }

    fn draft(channel: ChannelKind, hours_ago: Option<i64>) -> Draft {
        let mut d = Draft::new(channel, "Hello");
        d.last_buyer_message_at = hours_ago.map(|h| now() - Duration::hours(h));
        d
    }

    #[test]
    fn whatsapp_free_text_only_within_24_hours() {
        assert!(check_whatsapp_window(&draft(ChannelKind::Whatsapp, Some(23)), now(), Lang::En).is_empty());
        let late = check_whatsapp_window(&draft(ChannelKind::Whatsapp, Some(25)), now(), Lang::En);
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].rule, RuleId::WhatsappWindowClosed);
        assert!(late[0].explanation.contains("template"));
        let never = check_whatsapp_window(&draft(ChannelKind::Whatsapp, None), now(), Lang::Zh);
        assert!(never[0].explanation.contains("模板"));
    }

    #[test]
    fn whatsapp_templates_go_any_time() {
        let mut d = draft(ChannelKind::Whatsapp, Some(24 * 30));
        d.template = Some(super::super::TemplateRef { name: "order_update".into(), language: "en_US".into() });
        assert!(check_whatsapp_window(&d, now(), Lang::En).is_empty());
    }

    #[test]
    fn messenger_and_instagram_windows() {
        assert!(check_meta_window(&draft(ChannelKind::Messenger, Some(20)), now(), Lang::En).is_empty());
        let late = check_meta_window(&draft(ChannelKind::Messenger, Some(30)), now(), Lang::En);
        assert_eq!(late[0].rule, RuleId::MessengerWindowClosed);
        assert!(late[0].explanation.contains("human agent"));
        let mut tagged = draft(ChannelKind::Instagram, Some(24 * 6));
        tagged.human_agent = true;
        assert!(check_meta_window(&tagged, now(), Lang::En).is_empty());
        tagged.last_buyer_message_at = Some(now() - Duration::days(8));
        assert_eq!(check_meta_window(&tagged, now(), Lang::En)[0].rule, RuleId::InstagramWindowClosed);
        assert_eq!(check_meta_window(&draft(ChannelKind::Instagram, None), now(), Lang::En).len(), 1);
    }

    fn file(name: &str, mime: &str, size: u64) -> AttachmentMeta {
        AttachmentMeta { content_type: mime.into(), file_name: Some(name.into()), size: Some(size) }
    }

    #[test]
    fn email_blocks_programs_and_scripts() {
        let files = [
            file("invoice.pdf", "application/pdf", 1000),
            file("Invoice.PDF.exe", "application/octet-stream", 1000),
            file("run.ps1", "text/plain", 10),
            AttachmentMeta { content_type: "application/x-msdownload; x=1".into(), file_name: None, size: None },
            file("photo.jpg", "image/jpeg", 10),
        ];
        let found = check_email_attachments(&files, Lang::En);
        let indexes: Vec<Location> = found.iter().map(|f| f.location).collect();
        assert_eq!(
            indexes,
            vec![
                Location::Attachment { index: 1 },
                Location::Attachment { index: 2 },
                Location::Attachment { index: 3 }
            ]
        );
    }

    #[test]
    fn email_size_limit_is_on_the_total() {
        let mb = 1024 * 1024;
        let ok = [file("a.pdf", "application/pdf", 20 * mb), file("b.pdf", "application/pdf", 5 * mb)];
        assert!(check_email_attachments(&ok, Lang::En).is_empty());
        let big = [file("a.pdf", "application/pdf", 20 * mb), file("b.pdf", "application/pdf", 5 * mb + 1)];
        let found = check_email_attachments(&big, Lang::En);
        assert_eq!(found[0].rule, RuleId::EmailAttachmentSize);
        assert!(found[0].explanation.contains("25.0 MB"));
    }

    #[test]
    fn sms_segment_info_counts_units_and_room() {
        let i = sms_segment_info("Hello");
        assert_eq!((i.unicode, i.units, i.segments, i.per_segment, i.remaining), (false, 5, 1, 160, 155));
        // The extension table's characters take two septets.
        let i = sms_segment_info(&"€".repeat(80));
        assert_eq!((i.unicode, i.units, i.segments), (false, 160, 1));
        let i = sms_segment_info(&"a".repeat(161));
        assert_eq!((i.segments, i.per_segment, i.remaining), (2, 153, 145));
        let i = sms_segment_info(&"好".repeat(71));
        assert_eq!((i.unicode, i.units, i.segments, i.per_segment), (true, 71, 2, 67));
    }

    #[test]
    fn sms_segment_counts() {
        assert_eq!(sms_segments(""), 1);
        assert_eq!(sms_segments(&"a".repeat(160)), 1);
        assert_eq!(sms_segments(&"a".repeat(161)), 2);
        assert_eq!(sms_segments(&"a".repeat(459)), 3);
        assert_eq!(sms_segments(&"a".repeat(460)), 4);
        // Extension characters count twice.
        assert_eq!(sms_segments(&"€".repeat(80)), 1);
        assert_eq!(sms_segments(&"€".repeat(81)), 2);
        assert_eq!(sms_segments(&"好".repeat(70)), 1);
        assert_eq!(sms_segments(&"好".repeat(71)), 2);
        assert_eq!(sms_segments(&"好".repeat(201)), 3);
        // One emoji is two UTF-16 units.
        assert_eq!(sms_segments(&"😀".repeat(35)), 1);
    }

    #[test]
    fn sms_warns_past_three_segments_and_points_at_the_overflow() {
        assert!(check_sms_segments(&"a".repeat(459), Lang::En).is_empty());
        let text = format!("{}{}", "您好".repeat(100), "谢谢你");
        let found = check_sms_segments(&text, Lang::En);
        assert_eq!(found.len(), 1);
        let span = found[0].span.clone().unwrap_or_else(|| Span { start: 0, end: 0, excerpt: String::new() });
        assert_eq!(span.start, 201 * 3);
        assert_eq!(span.excerpt, "谢你");
        assert_eq!(found[0].severity, super::super::Severity::Warn);
    }
}
