//! Every case of every WhatsApp Cloud API webhook payload file in
//! `shared/data/payloads/whatsapp_cloud_pywa` parses into the update it
//! stands for; plus the signature check and the subscription handshake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use ferry_channels::update::{Batch, IncomingMessage, Update};
use ferry_channels::whatsapp::{WhatsAppSettings, parse, verify_challenge, verify_signature};
use ferry_channels::{ChannelError, WebhookRequest};
use ferry_core::contact::IdentityKind;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::{ContentPart, DeliveryStatus};
use ferry_core::{AccountId, InboxId};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const PHONE_NUMBER_ID: &str = "1122334455667";
const BUYER: &str = "972987654321";
const APP_SECRET: &str = "meta-app-secret";

/// `FERRY_SHARED_DATA`, else the first `shared/data` beside a folder above
/// the crate (the clone's parent, or a worktree's).
fn dir() -> PathBuf {
    let data = match std::env::var_os("FERRY_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/data"))
            .find(|d| d.join("payloads").is_dir())
            .unwrap_or_default(),
    };
    data.join("payloads/whatsapp_cloud_pywa")
}

fn inbox(phone_number_id: &str) -> Inbox {
    let mut config = InboxConfig::default();
    config.extra.insert(
        "whatsapp".into(),
        json!({"phone_number_id": phone_number_id, "business_account_id": "1234567890987654321",
            "access_token": "EAAG-token", "verify_token": "verify-me"}),
    );
    Inbox {
        id: InboxId(7),
        account_id: AccountId(1),
        name: "WhatsApp".into(),
        channel: ChannelKind::Whatsapp,
        config,
        secret: APP_SECRET.into(),
        created_at: Utc::now(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn one(batch: &Batch) -> &Update {
    assert_eq!(batch.updates.len(), 1, "{batch:#?}");
    &batch.updates[0]
}

fn message(batch: &Batch) -> &IncomingMessage {
    match one(batch) {
        Update::Message(m) => m,
        other => panic!("not a message: {other:?}"),
    }
}

fn kinds(m: &IncomingMessage) -> Vec<&'static str> {
    m.inbound
        .parts
        .iter()
        .map(|p| match p {
            ContentPart::Text { .. } => "text",
            ContentPart::Image { .. } => "image",
            ContentPart::File { .. } => "file",
            ContentPart::Audio { .. } => "audio",
            ContentPart::Location { .. } => "location",
            _ => "other",
        })
        .collect()
}

fn text(m: &IncomingMessage) -> String {
    ferry_core::message::text_of(&m.inbound.parts)
}

/// A message of the test buyer, with its name.
fn from_buyer(batch: &Batch) -> &IncomingMessage {
    let m = message(batch);
    assert_eq!(m.inbound.sender.identity.kind, IdentityKind::Whatsapp);
    assert_eq!(m.inbound.sender.identity.value, BUYER);
    assert_eq!(m.inbound.sender.name.as_deref(), Some("Test Name"));
    assert_eq!(m.inbound.inbox_id, InboxId(7));
    assert!(!m.activity);
    m
}

fn media(batch: &Batch, id: &str, content_type: &str, parts: &[&str]) {
    let m = from_buyer(batch);
    assert_eq!(kinds(m), parts);
    assert_eq!(m.media.len(), 1);
    assert_eq!((m.media[0].part, m.media[0].media_id.as_str()), (0, id));
    assert_eq!(m.media[0].content_type, content_type);
    assert!(m.media[0].sha256.is_some());
    let (ContentPart::Image { attachment } | ContentPart::File { attachment } | ContentPart::Audio { attachment }) =
        &m.inbound.parts[0]
    else {
        panic!("not a file part")
    };
    assert_eq!(attachment.url, format!("whatsapp-media:{id}"));
}

fn status(batch: &Batch, expected: &DeliveryStatus) -> ferry_channels::update::StatusReport {
    match one(batch) {
        Update::Status(s) => {
            assert_eq!(s.external_id, "wamid.xyzxyz");
            assert_eq!(&s.status, expected);
            s.clone()
        }
        other => panic!("not a status: {other:?}"),
    }
}

fn ignored(batch: &Batch, what: &str) -> String {
    match one(batch) {
        Update::Ignored { what: w, reason } => {
            assert_eq!(w, what);
            assert!(!reason.is_empty());
            reason.clone()
        }
        other => panic!("not ignored: {other:?}"),
    }
}

fn check(file: &str, case: &str, b: &Batch) {
    match (file, case) {
        ("message", "text") => {
            let m = from_buyer(b);
            assert_eq!(m.inbound.external_id, "wamid.xyzxyz");
            assert_eq!(text(m), "Body Text");
            assert_eq!(m.inbound.sent_at.timestamp(), 1_697_043_223);
            assert_eq!((m.reply_to.as_deref(), m.button_payload.as_deref()), (None, None));
        }
        ("message", "image") => {
            media(b, "65463453", "image/jpeg", &["image"]);
            assert_eq!(message(b).media[0].sha256.as_deref(), Some("4654+8g="));
            assert_eq!(message(b).media[0].url, None);
        }
        ("message", "media_with_url") => {
            media(b, "65463453", "image/jpeg", &["image"]);
            assert!(message(b).media[0].url.as_deref().unwrap().starts_with("https://lookaside.fbsbx.com/"));
        }
        ("message", "video") => {
            media(b, "765756756", "video/mp4", &["file", "text"]);
            assert_eq!(text(message(b)), "caption");
        }
        ("message", "document") => {
            media(b, "1234567890987654321", "application/pdf", &["file", "text"]);
            assert_eq!(message(b).media[0].filename.as_deref(), Some("filename.pdf"));
        }
        ("message", "audio" | "voice") => media(b, "1234567890987654321", "audio/ogg; codecs=opus", &["audio"]),
        ("message", "static_sticker" | "animated_sticker") => {
            media(b, "1234567890987654321", "image/webp", &["image"]);
        }
        ("message", "reaction" | "unreaction_empty" | "unreaction_no_emoji") => match one(b) {
            Update::Reaction(r) => {
                assert_eq!(r.external_id, "wamid.xyzxyz");
                assert_eq!(r.target_external_id, "wamid.yzxyzx=");
                assert_eq!(r.from.value, BUYER);
                assert_eq!(r.emoji, if case == "reaction" { "\u{1f62e}" } else { "" });
            }
            other => panic!("not a reaction: {other:?}"),
        },
        ("message", "current_location" | "chosen_location") => {
            let m = from_buyer(b);
            let ContentPart::Location { latitude, longitude, name } = &m.inbound.parts[0] else { panic!() };
            if case == "current_location" {
                assert_eq!((*latitude, *longitude, name.as_deref()), (12.25089, 43.90539, None));
            } else {
                assert_eq!((*latitude, *longitude), (37.4611978, -122.2164385));
                assert_eq!(name.as_deref(), Some("Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025"));
            }
        }
        ("message", "contacts") => {
            let t = text(from_buyer(b));
            assert!(t.contains("- Chandler Bing: +1 555-555-5555 (cell)"), "{t}");
            assert!(t.contains("- Monica: +1 666-666-6666 (home)"), "{t}");
            assert!(t.contains("- Rachel Green: +1 777-777-7777 (work)"), "{t}");
        }
        ("message", "order") => {
            let t = text(from_buyer(b));
            assert!(t.contains("catalogue 354160437058781"), "{t}");
            assert!(t.contains("- 3 × HAMBURGER at 30 ILS"), "{t}");
            assert!(t.contains("- 2 × FRENCH_FRIES at 35 ILS"), "{t}");
            assert!(t.contains("- 2 × SODA at 10 ILS"), "{t}");
        }
        ("message", "unsupported" | "unsupported_with_type") => {
            let m = message(b);
            assert!(m.activity);
            let t = text(m);
            assert!(t.contains("Message type unknown (131051)"), "{t}");
            assert_eq!(case == "unsupported_with_type", t.contains("`pool`"), "{t}");
        }
        ("message", "reply") => {
            let m = from_buyer(b);
            assert_eq!(text(m), "replied text");
            assert_eq!(m.reply_to.as_deref(), Some("wamid.xyzxyz=="));
        }
        ("message", "forwarded" | "forwarded_many_times") => {
            let m = from_buyer(b);
            assert!(text(m).ends_with("forwarded text") || text(m) == "text forwarded many times");
            assert_eq!(m.reply_to, None);
        }
        ("message", "interactive_message_with_err") => {
            let m = message(b);
            assert!(m.activity);
            assert_eq!(m.inbound.external_id, "wamid.wegrchytvwcggt=");
            assert_eq!(m.reply_to.as_deref(), Some("wamid.gvwegfretge=="));
            let t = text(m);
            assert!(t.contains("Something went wrong (131000): Unsupported webhook payload"), "{t}");
        }
        ("message", "referral") => {
            let m = from_buyer(b);
            assert_eq!(text(m), "BODY");
            let r = m.referral.as_ref().unwrap();
            assert_eq!((r.source_id.as_deref(), r.headline.as_deref()), (Some("ADID"), Some("AD_TITLE")));
            assert_eq!(
                (r.source_url.as_deref(), r.body.as_deref()),
                (Some("AD_OR_POST_FB_URL"), Some("AD_DESCRIPTION"))
            );
        }
        ("callback_button" | "callback_selection", _) => {
            let m = from_buyer(b);
            assert_eq!(text(m), "title");
            assert_eq!(m.button_payload.as_deref(), Some("callback_data"));
            let reply = match case {
                "quick_reply" => Some("wamid.xyzxyz=="),
                "quick_reply_without_context" => None,
                _ => Some("wamid.xyzxyz"),
            };
            assert_eq!(m.reply_to.as_deref(), reply);
        }
        ("deleted_message", "revoke") => match one(b) {
            Update::Deleted { external_id, at } => {
                assert_eq!(external_id, "<ORIGINAL_WHATSAPP_MESSAGE_ID>");
                assert_eq!(at.timestamp(), 1_697_043_223);
            }
            other => panic!("not a deletion: {other:?}"),
        },
        ("edited_message", "image") => match one(b) {
            Update::Edited(e) => {
                assert_eq!(e.external_id, "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=");
                assert!(matches!(e.parts[0], ContentPart::Image { .. }));
                assert_eq!(e.parts[1], ContentPart::Text { text: "Updated image caption".into() });
                assert_eq!(e.media[0].media_id, "1234567890");
                assert_eq!(e.media[0].url.as_deref(), Some("https://media.example.com/updated-image.jpg"));
            }
            other => panic!("not an edit: {other:?}"),
        },
        ("message_status", "sent" | "with_tracker") => {
            let s = status(b, &DeliveryStatus::Sent);
            let p = s.pricing.unwrap();
            assert!(p.billable);
            assert_eq!((p.category.as_str(), p.model.as_deref()), ("service", Some("CBP")));
            assert_eq!(p.conversation_id.as_deref(), Some("7270432eae37498234f4444b35ffc5"));
            assert_eq!(s.reference.as_deref(), (case == "with_tracker").then_some("some data"));
        }
        ("message_status", "delivered") => {
            assert_eq!(status(b, &DeliveryStatus::Delivered).at.timestamp(), 1_698_266_945)
        }
        ("message_status", "read" | "played") => assert!(status(b, &DeliveryStatus::Read).error.is_none()),
        ("message_status", "failed") => {
            let reason = "User's number is part of an experiment (130472): Failed to send message because this user's \
                          phone number is part of an experiment";
            let s = status(b, &DeliveryStatus::Failed { reason: reason.into() });
            assert_eq!(s.error.unwrap().code, 130_472);
            assert_eq!(s.pricing, None);
        }
        ("message_status", "group") => assert!(ignored(b, "status").contains("group")),
        ("outgoing_message", _) => drop(ignored(b, "smb_message_echoes")),
        ("system", "phone_number_change" | "identity_change") => {
            let m = message(b);
            assert!(m.activity);
            assert_eq!(m.inbound.sender.identity.value, BUYER);
            if case == "phone_number_change" {
                assert_eq!(text(m), "User A changed from 972987654321 to 972912345678");
                assert_eq!(m.inbound.sender.name, None);
            } else {
                assert_eq!(text(m), "User identity changed");
                assert_eq!(m.inbound.sender.name.as_deref(), Some("User A"));
            }
        }
        ("template_quality_update", "yellow") => match one(b) {
            Update::Template(t) => {
                assert_eq!((t.name.as_str(), t.language.as_deref()), ("welcome_template", Some("en_US")));
                assert_eq!((t.template_id.as_deref(), t.quality.as_deref()), (Some("806312974732579"), Some("YELLOW")));
                assert_eq!(t.status, None);
            }
            other => panic!("not a template change: {other:?}"),
        },
        ("template_status_update", "approved" | "rejected") => match one(b) {
            Update::Template(t) => {
                if case == "approved" {
                    assert_eq!(
                        (t.name.as_str(), t.status.as_deref(), t.reason.as_deref()),
                        ("order_confirmation", Some("APPROVED"), None)
                    );
                    assert_eq!(t.template_id.as_deref(), Some("1689556908129832"));
                } else {
                    assert_eq!((t.name.as_str(), t.status.as_deref()), ("abandoned_cart", Some("REJECTED")));
                    assert!(t.reason.as_deref().unwrap().contains("parameters placed next to each other"));
                }
            }
            other => panic!("not a template change: {other:?}"),
        },
        ("user_marketing_preferences", _) => drop(ignored(b, "user_preferences")),
        ("account_update", _) => drop(ignored(b, "account_update")),
        ("call_connect" | "call_status" | "call_terminate", _) => drop(ignored(b, "calls")),
        _ => panic!("no expectation for {file}/{case}: add one"),
    }
}

#[test]
fn every_payload_parses_into_its_update() {
    let dir = dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped: {} is absent", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    files.sort();
    let mut checked = 0;
    for path in files {
        let file = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let cases: serde_json::Map<String, Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for (case, body) in cases {
            // Some cases keep Meta's documentation placeholders for the
            // business number; they stand for this inbox's.
            let text = body.to_string().replace("<BUSINESS_PHONE_NUMBER_ID>", PHONE_NUMBER_ID);
            let body: Value = serde_json::from_str(&text).unwrap();
            // Each change is read by an inbox of the number it is for.
            let number = body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
                .as_str()
                .unwrap_or(PHONE_NUMBER_ID)
                .to_owned();
            let batch = parse(&inbox(&number), text.as_bytes(), now())
                .unwrap_or_else(|e| panic!("{file}/{case} does not parse: {e:?}"));
            check(&file, &case, &batch);
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} cases");
}

fn read(file: &str, case: &str) -> Option<Value> {
    let cases: Value = serde_json::from_slice(&std::fs::read(dir().join(format!("{file}.json"))).ok()?).ok()?;
    Some(cases[case].clone())
}

#[test]
fn other_numbers_and_other_objects() {
    let Some(body) = read("message", "text") else { return println!("skipped: payloads absent") };
    let b = parse(&inbox("99999"), body.to_string().as_bytes(), now()).unwrap();
    assert!(ignored(&b, "messages").contains("1122334455667"));
    let page = json!({"object": "page", "entry": []}).to_string();
    assert!(matches!(parse(&inbox(PHONE_NUMBER_ID), page.as_bytes(), now()), Err(ChannelError::Malformed(_))));
    assert!(matches!(parse(&inbox(PHONE_NUMBER_ID), b"{", now()), Err(ChannelError::Malformed(_))));
    let mut plain = inbox(PHONE_NUMBER_ID);
    plain.config = InboxConfig::default();
    assert!(matches!(parse(&plain, body.to_string().as_bytes(), now()), Err(ChannelError::Invalid { .. })));
}

#[test]
fn a_timestamp_from_the_future_is_now() {
    let Some(mut body) = read("message", "text") else { return println!("skipped: payloads absent") };
    let ahead = (now() + chrono::Duration::hours(3)).timestamp().to_string();
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = json!(ahead);
    let b = parse(&inbox(PHONE_NUMBER_ID), body.to_string().as_bytes(), now()).unwrap();
    assert_eq!(message(&b).inbound.sent_at, now());
    let slightly = (now() + chrono::Duration::minutes(2)).timestamp();
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = json!(slightly.to_string());
    let b = parse(&inbox(PHONE_NUMBER_ID), body.to_string().as_bytes(), now()).unwrap();
    assert_eq!(message(&b).inbound.sent_at.timestamp(), slightly);
}

#[test]
fn signatures_are_checked_on_the_exact_body() {
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let sig = ferry_core::signature::sign(APP_SECRET.as_bytes(), body);
    let headers = [("X-Hub-Signature-256", sig.as_str())];
    assert_eq!(verify_signature(APP_SECRET, &WebhookRequest { headers: &headers, body }), Ok(()));
    let tampered = br#"{"object":"whatsapp_business_account","entry":[{}]}"#;
    let refused = verify_signature(APP_SECRET, &WebhookRequest { headers: &headers, body: tampered });
    assert!(matches!(refused, Err(ChannelError::Unauthorized(_))));
    assert!(matches!(
        verify_signature("other", &WebhookRequest { headers: &headers, body }),
        Err(ChannelError::Unauthorized(_))
    ));
    assert!(matches!(
        verify_signature(APP_SECRET, &WebhookRequest { headers: &[], body }),
        Err(ChannelError::Unauthorized(_))
    ));
}

#[test]
fn the_subscription_challenge() {
    let settings = WhatsAppSettings::of(&inbox(PHONE_NUMBER_ID)).unwrap().unwrap();
    let ok = verify_challenge(&settings, Some("subscribe"), Some("verify-me"), Some("1158201444"));
    assert_eq!(ok, Ok("1158201444".to_owned()));
    let wrong = verify_challenge(&settings, Some("subscribe"), Some("verify-you"), Some("1"));
    assert!(matches!(wrong, Err(ChannelError::Unauthorized(_))));
    assert!(verify_challenge(&settings, Some("unsubscribe"), Some("verify-me"), Some("1")).is_err());
    assert!(verify_challenge(&settings, Some("subscribe"), None, Some("1")).is_err());
    assert!(verify_challenge(&settings, Some("subscribe"), Some("verify-me"), None).is_err());
}
