//! Engine-level tests: the whole check, the labelled Amazon table and a
//! property test over arbitrary text.

#![allow(clippy::unwrap_used)]

use super::*;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).single().unwrap()
}

fn amazon(text: &str) -> Report {
    check(&Draft::new(ChannelKind::Amazon, text), &AccountRules::default(), now(), Lang::En)
}

fn rules_of(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn clean_reply_is_allowed() {
    let report = amazon("Your refund is on its way.");
    assert_eq!(report.verdict, Verdict::Allow);
    assert!(report.findings.is_empty());
}

#[test]
fn discount_as_a_fact_only_warns() {
    let report = amazon("The discount was applied to your order.");
    assert_eq!(report.verdict, Verdict::AllowWithWarnings);
    assert_eq!(rules_of(&report), vec!["amazon.discount_mention"]);
    assert_eq!(report.findings[0].span.as_ref().unwrap().excerpt, "discount");
}

#[test]
fn promotion_blocks_and_swallows_the_mention_in_its_sentence() {
    let report = amazon("Get a discount with promo code SAVE10. The discount on your order stays.");
    assert_eq!(report.verdict, Verdict::Block);
    assert_eq!(rules_of(&report), vec!["amazon.promotion", "amazon.discount_mention"]);
}

#[test]
fn wholesale_is_not_a_sale() {
    assert!(amazon("We buy wholesale, so the price is low.").findings.is_empty());
    assert_eq!(rules_of(&amazon("The sale price applied.")), vec!["amazon.discount_mention"]);
    assert!(amazon("Our after-sale service will help.").findings.is_empty());
}

#[test]
fn spans_point_at_the_right_bytes_in_multibyte_text() {
    let text = "非常感谢！麻烦给个好评，邮箱：kefu@example.cn";
    let report = amazon(text);
    assert_eq!(rules_of(&report), vec!["amazon.review_manipulation", "amazon.email_address"]);
    for f in &report.findings {
        let span = f.span.as_ref().unwrap();
        assert_eq!(&text[span.start..span.end], span.excerpt);
    }
    let review = report.findings[0].span.as_ref().unwrap();
    assert_eq!(review.excerpt, "好评");
    assert_eq!(review.start, text.find("好评").unwrap());
    let email = report.findings[1].span.as_ref().unwrap();
    assert_eq!(email.excerpt, "kefu@example.cn");

    let accented = "Merci ! Laissez-nous un AVIS POSITIF.";
    let report = amazon(accented);
    assert_eq!(report.findings[0].span.as_ref().unwrap().excerpt, "AVIS POSITIF");
    let ja = "ご購入ありがとうございます。星５つでお願いします";
    let report = amazon(ja);
    assert_eq!(report.findings[0].span.as_ref().unwrap().excerpt, "星５つ");
}

#[test]
fn links_to_amazon_and_allowed_hosts_pass() {
    let text = "Return it at https://www.amazon.de/returns or track it at https://www.dhl.de/track?id=1.";
    assert_eq!(rules_of(&amazon(text)), vec!["amazon.external_link"]);
    let account = AccountRules { allowed_link_hosts: vec!["dhl.de".into()], ..AccountRules::default() };
    // Digits inside a link are part of the link, not a phone number.
    let report = check(
        &Draft::new(ChannelKind::Amazon, "Track it at https://www.dhl.de/track?ref=030-1234-5678"),
        &account,
        now(),
        Lang::En,
    );
    assert_eq!(report.verdict, Verdict::Allow);
    let report = check(&Draft::new(ChannelKind::Amazon, text), &account, now(), Lang::En);
    assert_eq!(report.verdict, Verdict::Allow);
}

#[test]
fn the_subject_is_checked_too() {
    let mut draft = Draft::new(ChannelKind::Amazon, "Your parcel was delivered.");
    draft.subject = Some("[Important] 20% off for you".into());
    let report = check(&draft, &AccountRules::default(), now(), Lang::En);
    assert_eq!(rules_of(&report), vec!["amazon.important_subject", "amazon.promotion"]);
    assert!(report.findings.iter().all(|f| f.location == Location::Subject));
    assert_eq!(report.findings[0].span.as_ref().unwrap().excerpt, "[Important]");
    assert_eq!(report.findings[1].span.as_ref().unwrap().excerpt, "20% off");

    draft.subject = Some("Important: your delivery address".into());
    let report = check(&draft, &AccountRules::default(), now(), Lang::En);
    assert_eq!(report.verdict, Verdict::AllowWithWarnings);
    assert_eq!(report.findings[0].span.as_ref().unwrap().excerpt, "Important");

    draft.subject = Some("Question about an important detail".into());
    assert!(check(&draft, &AccountRules::default(), now(), Lang::En).findings.is_empty());
}

fn attachment(name: &str, mime: &str, size: u64) -> AttachmentMeta {
    AttachmentMeta { content_type: mime.into(), file_name: Some(name.into()), size: Some(size) }
}

#[test]
fn amazon_attachments() {
    let mut draft = Draft::new(ChannelKind::Amazon, "Please find the invoice attached.");
    draft.attachments = vec![
        attachment("invoice.pdf", "application/pdf", 1_000),
        attachment("photo.JPG", "image/jpeg", 1_000),
        attachment("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 1_000),
        attachment("photo.png", "application/x-msdownload", 1_000),
        AttachmentMeta { content_type: "image/gif".into(), file_name: None, size: None },
        attachment("notes.txt", "application/octet-stream", 1_000),
    ];
    let report = check(&draft, &AccountRules::default(), now(), Lang::En);
    let locations: Vec<Location> = report.findings.iter().map(|f| f.location).collect();
    assert_eq!(locations, vec![Location::Attachment { index: 2 }, Location::Attachment { index: 3 }]);
    assert!(report.findings[0].explanation.contains("xlsx"));

    draft.attachments =
        vec![attachment("a.pdf", "application/pdf", 6 << 20), attachment("b.pdf", "application/pdf", 4 << 20)];
    assert_eq!(check(&draft, &AccountRules::default(), now(), Lang::En).verdict, Verdict::Allow);
    draft.attachments.push(attachment("c.txt", "text/plain", 1));
    let report = check(&draft, &AccountRules::default(), now(), Lang::Zh);
    assert_eq!(rules_of(&report), vec!["amazon.attachment_size"]);
    assert!(report.findings[0].explanation.contains("10.0 MB"));
}

#[test]
fn proactive_amazon_messages_only_within_30_days() {
    let mut draft = Draft::new(ChannelKind::Amazon, "Your order has shipped.");
    draft.proactive = true;
    draft.order_date = Some(now() - Duration::days(29));
    assert_eq!(check(&draft, &AccountRules::default(), now(), Lang::En).verdict, Verdict::Allow);
    draft.order_date = Some(now() - Duration::days(31));
    let report = check(&draft, &AccountRules::default(), now(), Lang::En);
    assert_eq!(rules_of(&report), vec!["amazon.proactive_window"]);
    assert!(report.findings[0].explanation.contains("31 days"));
    // A reply to the buyer is not proactive.
    draft.proactive = false;
    assert_eq!(check(&draft, &AccountRules::default(), now(), Lang::En).verdict, Verdict::Allow);
    // Without an order date the delivery date counts.
    draft.proactive = true;
    draft.order_date = None;
    draft.delivery_date = Some(now() - Duration::days(40));
    assert!(check(&draft, &AccountRules::default(), now(), Lang::En).is_blocked());
}

#[test]
fn amazon_rules_stay_on_amazon() {
    let text = "Use promo code SAVE10 at www.example.com or call +1 555 123 4567.";
    for channel in [ChannelKind::Api, ChannelKind::WebWidget, ChannelKind::Email, ChannelKind::Telegram] {
        let report = check(&Draft::new(channel, text), &AccountRules::default(), now(), Lang::En);
        assert_eq!(report.verdict, Verdict::Allow, "{channel}");
    }
}

#[test]
fn channel_rules_reach_the_report() {
    let mut draft = Draft::new(ChannelKind::Whatsapp, "Are you still there?");
    draft.last_buyer_message_at = Some(now() - Duration::hours(30));
    let report = check(&draft, &AccountRules::default(), now(), Lang::En);
    assert_eq!(rules_of(&report), vec!["whatsapp.window_closed"]);
    assert_eq!(report.findings[0].location, Location::Message);

    let mut sms = Draft::new(ChannelKind::Sms, "x".repeat(500));
    sms.channel = ChannelKind::Sms;
    assert_eq!(check(&sms, &AccountRules::default(), now(), Lang::En).verdict, Verdict::AllowWithWarnings);

    let mut mail = Draft::new(ChannelKind::Email, "See attached.");
    mail.attachments = vec![attachment("tool.exe", "application/octet-stream", 10)];
    assert!(check(&mail, &AccountRules::default(), now(), Lang::En).is_blocked());
}

#[test]
fn account_phrases_apply_everywhere_with_their_severity() {
    let account = AccountRules {
        phrases: vec![
            AccountPhrase { phrase: "Cheap".into(), severity: Severity::Warn },
            AccountPhrase { phrase: "Konkurrenz".into(), severity: Severity::Block },
            AccountPhrase { phrase: "竞争对手".into(), severity: Severity::Block },
            AccountPhrase { phrase: "  ".into(), severity: Severity::Block },
        ],
        allowed_link_hosts: Vec::new(),
    };
    let report = check(&Draft::new(ChannelKind::Telegram, "Not cheap, not cheaper."), &account, now(), Lang::En);
    assert_eq!(report.verdict, Verdict::AllowWithWarnings);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].span.as_ref().unwrap().excerpt, "cheap");

    let mut draft = Draft::new(ChannelKind::Email, "比竞争对手更好");
    draft.subject = Some("Besser als die KONKURRENZ".into());
    let report = check(&draft, &account, now(), Lang::Zh);
    assert_eq!(report.verdict, Verdict::Block);
    assert_eq!(report.findings[0].location, Location::Subject);
    assert_eq!(report.findings[1].span.as_ref().unwrap().start, "比".len());
    assert!(report.findings[1].explanation.contains("账户"));
}

#[test]
fn findings_are_sorted_and_explained_in_the_agent_language() {
    let text = "Call 0800 123 4567, leave a 5 star review, see www.example.com";
    let report =
        check(&Draft::new(ChannelKind::Amazon, text), &AccountRules::default(), now(), Lang::from_tag("zh-CN"));
    let starts: Vec<usize> = report.findings.iter().map(|f| f.span.as_ref().unwrap().start).collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted);
    assert_eq!(rules_of(&report), vec!["amazon.phone_number", "amazon.review_manipulation", "amazon.external_link"]);
    assert!(report.findings.iter().all(|f| f.explanation.chars().any(text::is_cjk)));
    assert_eq!(Lang::from_tag("de-DE"), Lang::En);
    assert_eq!(Lang::from_tag("zh_Hant"), Lang::Zh);
}

#[test]
fn reports_serialise_with_stable_ids() {
    let report = amazon("Visit www.example.com");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["verdict"], "block");
    assert_eq!(json["findings"][0]["rule"], "amazon.external_link");
    assert_eq!(json["findings"][0]["severity"], "block");
    assert_eq!(json["findings"][0]["location"]["type"], "text");
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
    for rule in RuleId::ALL {
        let s = serde_json::to_value(rule).unwrap();
        assert_eq!(s, rule.as_str());
    }
    let draft: Draft = serde_json::from_str(r#"{"channel":"amazon","text":"hi"}"#).unwrap();
    assert_eq!(draft, Draft::new(ChannelKind::Amazon, "hi"));
}

/// Per-rule counts of the table test.
#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fp) as f64 }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fn_) as f64 }
    }
}

#[test]
fn labelled_amazon_table() {
    let table = include_str!("amazon_cases.tsv");
    let mut per_rule: BTreeMap<String, Counts> = BTreeMap::new();
    let mut overall = Counts::default();
    let mut languages = BTreeSet::new();
    let mut rows = 0;
    let mut misses = Vec::new();
    for line in table.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let cols: Vec<&str> = line.splitn(3, '\t').collect();
        assert_eq!(cols.len(), 3, "malformed row: {line}");
        let (lang, labels, text) = (cols[0], cols[1], cols[2]);
        languages.insert(lang);
        rows += 1;
        let expected: BTreeSet<String> =
            if labels == "-" { BTreeSet::new() } else { labels.split(',').map(|s| s.trim().to_owned()).collect() };
        for id in &expected {
            assert!(RuleId::ALL.iter().any(|r| r.as_str() == id), "unknown rule {id}");
        }
        let predicted: BTreeSet<String> = amazon(text).findings.iter().map(|f| f.rule.as_str().to_owned()).collect();
        for id in expected.union(&predicted) {
            let c = per_rule.entry(id.clone()).or_default();
            match (expected.contains(id), predicted.contains(id)) {
                (true, true) => {
                    c.tp += 1;
                    overall.tp += 1;
                }
                (false, true) => {
                    c.fp += 1;
                    overall.fp += 1;
                }
                (true, false) => {
                    c.fn_ += 1;
                    overall.fn_ += 1;
                }
                (false, false) => {}
            }
        }
        if expected != predicted {
            misses.push(format!("[{lang}] expected {expected:?}, got {predicted:?}: {text}"));
        }
    }
    println!("Amazon table: {rows} sentences in {} languages", languages.len());
    println!("{:<30} {:>4} {:>4} {:>4} {:>9} {:>7}", "rule", "tp", "fp", "fn", "precision", "recall");
    for (rule, c) in &per_rule {
        println!("{rule:<30} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}", c.tp, c.fp, c.fn_, c.precision(), c.recall());
    }
    println!(
        "{:<30} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
        "overall",
        overall.tp,
        overall.fp,
        overall.fn_,
        overall.precision(),
        overall.recall()
    );
    for miss in &misses {
        println!("miss: {miss}");
    }
    assert!(rows >= 150, "only {rows} sentences");
    assert!(languages.len() >= 7, "languages: {languages:?}");
    assert!(overall.precision() >= 0.95, "precision {:.3}", overall.precision());
    assert!(overall.recall() >= 0.90, "recall {:.3}", overall.recall());
}

fn any_channel() -> impl Strategy<Value = ChannelKind> {
    prop::sample::select(ChannelKind::ALL.to_vec())
}

/// Text mixing arbitrary Unicode with the pieces the rules look for, so
/// the detectors' edge cases are reached.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("https://".to_owned()),
        Just("www.".to_owned()),
        Just("@".to_owned()),
        Just("＠".to_owned()),
        Just("+1 (".to_owned()),
        Just(".com".to_owned()),
        Just(" 5 star review ".to_owned()),
        Just("好评".to_owned()),
        Just("e\u{301}".to_owned()),
        Just("ß".to_owned()),
        Just("İ".to_owned()),
        Just("％ ｏｆｆ".to_owned()),
        "[0-9 ().+-]{0,20}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn never_panics_and_spans_are_valid(
        channel in any_channel(),
        text in tricky_text(),
        subject in prop::option::of(tricky_text()),
        phrase in "\\PC{0,6}",
    ) {
        let mut draft = Draft::new(channel, text.clone());
        draft.subject = subject.clone();
        draft.last_buyer_message_at = Some(now() - Duration::hours(30));
        let account = AccountRules {
            phrases: vec![AccountPhrase { phrase, severity: Severity::Warn }],
            allowed_link_hosts: vec!["example.com".into()],
        };
        let report = check(&draft, &account, now(), Lang::En);
        for f in &report.findings {
            if let Some(span) = &f.span {
                let source = match f.location {
                    Location::Subject => subject.as_deref().unwrap_or_default(),
                    _ => text.as_str(),
                };
                prop_assert!(span.start <= span.end && span.end <= source.len());
                prop_assert!(source.is_char_boundary(span.start) && source.is_char_boundary(span.end));
                prop_assert_eq!(&source[span.start..span.end], span.excerpt.as_str());
            }
        }
        let blocked = report.findings.iter().any(|f| f.severity == Severity::Block);
        prop_assert_eq!(report.verdict == Verdict::Block, blocked);
    }
}
