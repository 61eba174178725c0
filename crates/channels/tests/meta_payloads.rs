//! Every Messenger and Instagram fixture (`tests/fixtures/meta`, written
//! from the delivery shapes Meta documents) read as the right updates:
//! each event kept with the right content, or acknowledged and ignored
//! with a reason; none refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use ferry_channels::meta::MetaSettings;
use ferry_channels::meta::webhook::parse;
use ferry_channels::update::{OursMarker, Update};
use ferry_core::contact::IdentityKind;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::{ContentPart, DeliveryStatus};
use ferry_core::{AccountId, InboxId};
use serde_json::json;
use std::path::Path;

fn inbox(channel: ChannelKind) -> (Inbox, MetaSettings) {
    let name = if channel == ChannelKind::Instagram { "instagram" } else { "messenger" };
    let mut config = InboxConfig::default();
    config.extra.insert(
        name.into(),
        json!({"page_id": "104857600123456", "instagram_account_id": "17841400000000042", "access_token": "t",
            "app_secret": "s", "verify_token": "verify-token-0123456789", "app_id": "640000000000001"}),
    );
    let inbox = Inbox {
        id: InboxId(3),
        account_id: AccountId(1),
        name: name.into(),
        channel,
        config,
        secret: String::new(),
        created_at: DateTime::<Utc>::UNIX_EPOCH,
    };
    let settings = MetaSettings::of(&inbox).unwrap().unwrap();
    (inbox, settings)
}

fn read(file: &str) -> Vec<Update> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/meta").join(file);
    let body = std::fs::read(&path).unwrap();
    let channel = if file.starts_with("instagram") { ChannelKind::Instagram } else { ChannelKind::Messenger };
    let (inbox, settings) = inbox(channel);
    let now = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap();
    parse(&inbox, &settings, &body, now).unwrap_or_else(|e| panic!("{file}: {e}")).updates
}

fn texts(parts: &[ContentPart]) -> Vec<String> {
    parts
        .iter()
        .map(|p| match p {
            ContentPart::Text { text } => text.clone(),
            ContentPart::Image { .. } => "[image]".into(),
            ContentPart::Audio { .. } => "[audio]".into(),
            ContentPart::File { attachment } => format!("[file {}]", attachment.content_type),
            ContentPart::Location { latitude, longitude, name } => {
                format!("[location {latitude},{longitude} {}]", name.clone().unwrap_or_default())
            }
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn every_fixture_parses_without_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/meta");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            let updates = read(&name);
            assert!(!updates.is_empty(), "{name}");
            for u in &updates {
                if let Update::Ignored { reason, .. } = u {
                    assert!(!reason.is_empty(), "{name}: an ignored update needs its reason");
                }
            }
            n += 1;
        }
    }
    assert_eq!(n, 10, "every fixture is read");
}

#[test]
fn a_text_message() {
    let u = read("messenger_text.json");
    let Update::Message(m) = &u[0] else { panic!("{u:?}") };
    assert_eq!(texts(&m.inbound.parts), vec!["Hello, where is my order #1002?"]);
    assert_eq!(m.inbound.sender.identity.kind, IdentityKind::Messenger);
    assert_eq!(m.inbound.sender.identity.value, "7310000000000001");
    assert_eq!(m.inbound.sent_at.timestamp_millis(), 1_767_225_599_000);
}

#[test]
fn every_attachment_type() {
    let u = read("messenger_attachments.json");
    let Update::Message(m) = &u[0] else { panic!("{u:?}") };
    assert_eq!(
        texts(&m.inbound.parts),
        vec![
            "[image]",
            "[file video/mp4]",
            "[audio]",
            "[file application/octet-stream]",
            "[image]",
            "Shared: Our summer collection https://shop.example/summer",
            "[location 41.3874,2.1686 Pinned location]",
        ]
    );
    // Four files and the sticker are fetched from the CDN, each for its part.
    assert_eq!(m.media.iter().map(|r| r.part).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert_eq!(m.media[3].filename.as_deref(), Some("Invoice 1002.pdf"));
    assert!(m.media.iter().all(|r| r.url.as_deref().is_some_and(|u| u.starts_with("https://"))));
}

#[test]
fn quick_replies_postbacks_and_referrals() {
    let u = read("messenger_quick_reply_and_postback.json");
    let Update::Message(quick) = &u[0] else { panic!("{u:?}") };
    assert_eq!(quick.button_payload.as_deref(), Some("TRACK_ORDER"));
    assert_eq!(texts(&quick.inbound.parts), vec!["Track my parcel"]);
    let Update::Message(postback) = &u[1] else { panic!("{u:?}") };
    assert_eq!(
        (postback.inbound.external_id.as_str(), postback.button_payload.as_deref()),
        ("m_postback_1", Some("HANDOFF"))
    );
    assert_eq!(texts(&postback.inbound.parts), vec!["Talk to a person"]);
    let r = postback.referral.as_ref().unwrap();
    assert_eq!((r.source_type.as_str(), r.source_id.as_deref()), ("link", Some("summer-sale")));
}

#[test]
fn reactions_come_and_go() {
    let u = read("messenger_reactions.json");
    assert!(matches!(&u[0], Update::Reaction(r) if r.emoji == "❤️" && r.target_external_id == "m_reply_1"));
    assert!(matches!(&u[1], Update::Reaction(r) if r.emoji.is_empty()));
    let Update::Reaction(a) = &u[0] else { unreachable!() };
    let Update::Reaction(b) = &u[1] else { unreachable!() };
    assert_ne!(a.external_id, b.external_id, "each reaction event is its own");
}

#[test]
fn delivery_and_read_reports() {
    let u = read("messenger_delivery_and_read.json");
    let statuses: Vec<_> = u
        .iter()
        .map(|u| match u {
            Update::Status(s) => format!("{} {}", s.external_id, s.status.as_str()),
            Update::Watermark(w) => format!("up to {} {}", w.up_to.timestamp_millis(), w.status.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        statuses,
        vec!["m_reply_1 delivered", "m_reply_2 delivered", "up to 1767225590000 delivered", "up to 1767225595000 read"]
    );
}

#[test]
fn echoes_from_the_page_and_from_ferry() {
    let u = read("messenger_echoes.json");
    let Update::Echo(page) = &u[0] else { panic!("{u:?}") };
    assert_eq!((page.external_id.as_str(), page.ours.clone()), ("m_page_inbox_1", None));
    assert_eq!(page.to.value, "7310000000000001");
    assert_eq!(texts(&page.parts), vec!["We sent it today!"]);
    let Update::Echo(ours) = &u[1] else { panic!("{u:?}") };
    assert_eq!(ours.ours, Some(OursMarker::Message(314)));
}

#[test]
fn referrals_opt_ins_and_standby_are_acknowledged() {
    let u = read("messenger_referral_and_optin.json");
    let what: Vec<_> = u
        .iter()
        .map(|u| match u {
            Update::Ignored { what, .. } => what.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(what, vec!["referral", "optin", "standby"]);
}

#[test]
fn instagram_story_replies_mentions_shares_and_unsend() {
    let u = read("instagram_story_reply.json");
    let Update::Message(m) = &u[0] else { panic!("{u:?}") };
    assert_eq!(m.inbound.sender.identity.kind, IdentityKind::Instagram);
    assert_eq!(
        texts(&m.inbound.parts),
        vec![
            "Replied to your story: https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1790",
            "Is the dress available in S?"
        ]
    );

    let u = read("instagram_mentions_shares_unsend.json");
    let Update::Message(mention) = &u[0] else { panic!("{u:?}") };
    assert_eq!(
        texts(&mention.inbound.parts),
        vec!["Mentioned you in their story: https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1791"]
    );
    let Update::Message(share) = &u[1] else { panic!("{u:?}") };
    assert_eq!(texts(&share.inbound.parts), vec!["Shared: https://www.instagram.com/p/CxYz123/"]);
    assert!(matches!(&u[2], Update::Deleted { external_id, .. } if external_id == "aWdf_unsent_1"));
    let Update::Message(unsupported) = &u[3] else { panic!("{u:?}") };
    assert!(unsupported.activity);
    assert!(matches!(&u[4], Update::Status(s) if s.status == DeliveryStatus::Read && s.external_id == "aWdf_reply_1"));
}

#[test]
fn instagram_reactions_and_comments() {
    let u = read("instagram_reaction_and_comment.json");
    assert!(matches!(&u[0], Update::Reaction(r) if r.from.kind == IdentityKind::Instagram));
    assert!(matches!(&u[1], Update::Ignored { what, .. } if what == "comments"));
}
