//! Every Telegram update in `shared/data/payloads/telegram_nutgram` (the
//! test fixtures of the MIT-licensed nutgram library, read in place) parses
//! to the message, button press, edit or deletion it stands for, or is
//! acknowledged and ignored with a reason; none is an error. Plus the
//! secret-token check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use ferry_channels::telegram::{TelegramSettings, parse, verify_secret};
use ferry_channels::update::{Batch, Update};
use ferry_channels::{ChannelError, WebhookRequest};
use ferry_core::contact::IdentityKind;
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, InboxId};
use serde_json::json;
use std::path::{Path, PathBuf};

const SECRET: &str = "secret-token-for-tests-0123";

/// `FERRY_SHARED_DATA`, else the first `shared/data` above the crate.
fn dir() -> PathBuf {
    let data = match std::env::var_os("FERRY_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/data"))
            .find(|d| d.join("payloads").is_dir())
            .unwrap_or_default(),
    };
    data.join("payloads/telegram_nutgram")
}

fn inbox() -> Inbox {
    let mut config = InboxConfig::default();
    config.extra.insert("telegram".into(), json!({"bot_token": "123456:AAbbCCddEEffGGhh", "secret_token": SECRET}));
    Inbox {
        id: InboxId(9),
        account_id: AccountId(1),
        name: "Telegram".into(),
        channel: ChannelKind::Telegram,
        config,
        secret: String::new(),
        created_at: Utc::now(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn kinds(parts: &[ContentPart]) -> Vec<&'static str> {
    parts
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

/// What a file must become.
enum Expect {
    /// A buyer's message with these part kinds.
    Message(&'static [&'static str]),
    /// An activity line (something Ferry cannot show).
    Activity,
    /// A press of an inline button with this callback data.
    Press(&'static str),
    /// An edit with these part kinds.
    Edited(&'static [&'static str]),
    /// Deletions of this many messages.
    Deleted(usize),
    /// Acknowledged and ignored.
    Ignored,
}

fn expect(name: &str) -> Option<Expect> {
    use Expect::*;
    Some(match name {
        "text"
        | "message"
        | "entities"
        | "food"
        | "not_command"
        | "command_message"
        | "command_tag_wrong"
        | "command_with_parameters"
        | "business_message" => Message(&["text"]),
        "photo" => Message(&["image", "text"]),
        "animation" | "video" => Message(&["file"]),
        "document" => Message(&["file"]),
        "audio" => Message(&["audio"]),
        "sticker" => Message(&["image", "text"]),
        "location" => Message(&["location"]),
        "venue" => Message(&["location"]),
        "contact" => Message(&["text"]),
        "dice" | "game" | "giveaway" | "invoice" | "checklist" | "message_poll" | "passport_data" | "story"
        | "web_app_data" => Activity,
        "callback_query" | "callback_query_inaccessible_message" | "callback_query_without_message" => Press("thedata"),
        "callback_query_complex" => Press("c=uud&pid=1&bid=1"),
        "edited_message" | "edited_business_message" => Edited(&["text"]),
        "deleted_business_messages" => Deleted(2),
        "channel_chat_created"
        | "channel_post"
        | "chat_join_request"
        | "chat_member"
        | "chat_owner_changed"
        | "chat_owner_left"
        | "chat_shared"
        | "checklist_tasks_added"
        | "checklist_tasks_done"
        | "chosen_inline_result"
        | "community_chat_removed"
        | "delete_chat_photo"
        | "direct_message_price_changed"
        | "forum_topic_closed"
        | "forum_topic_created"
        | "forum_topic_edited"
        | "giveaway_completed"
        | "giveaway_created"
        | "group_chat_created"
        | "guest_message"
        | "inline_query"
        | "left_chat_member"
        | "managed_bot_created"
        | "message_boost_added"
        | "message_different_topic"
        | "message_general_topic"
        | "message_general_topic_reply"
        | "message_topic"
        | "migrate_from_chat_id"
        | "my_chat_member"
        | "new_chat_members"
        | "new_chat_photo"
        | "poll"
        | "poll_option_added"
        | "poll_option_deleted"
        | "pre_checkout_query"
        | "refunded_payment"
        | "removed_chat_boost"
        | "subscription"
        | "successful_payment"
        | "supergroup_chat_created"
        | "users_shared"
        | "video_chat_ended"
        | "video_chat_participants_invited"
        | "video_chat_scheduled" => Ignored,
        _ => return None,
    })
}

fn check(name: &str, batch: &Batch) {
    let Some(expected) = expect(name) else { panic!("{name}.json is new: say what it must become") };
    match expected {
        Expect::Deleted(n) => {
            assert_eq!(batch.updates.len(), n, "{name}: {batch:#?}");
            assert!(batch.updates.iter().all(|u| matches!(u, Update::Deleted { .. })), "{name}: {batch:#?}");
            return;
        }
        _ => assert_eq!(batch.updates.len(), 1, "{name}: {batch:#?}"),
    }
    let update = &batch.updates[0];
    match (expected, update) {
        (Expect::Message(parts), Update::Message(m)) => {
            assert_eq!(kinds(&m.inbound.parts), parts, "{name}: {m:#?}");
            assert!(!m.activity, "{name}");
            assert_eq!(m.inbound.sender.identity.kind, IdentityKind::Telegram);
            assert_eq!(m.inbound.sender.identity.inbox_id, Some(InboxId(9)));
            assert!(m.inbound.external_id.contains(':'), "{name}: chat:message");
            assert!(m.inbound.sent_at <= now());
            assert!(m.inbound.sender.name.is_some(), "{name}");
            let files = m
                .inbound
                .parts
                .iter()
                .filter(|p| {
                    matches!(p, ContentPart::Image { .. } | ContentPart::File { .. } | ContentPart::Audio { .. })
                })
                .count();
            assert_eq!(m.media.len(), files, "{name}: every file is fetched with getFile");
            for r in &m.media {
                assert!(!r.media_id.is_empty() && r.content_type.contains('/'), "{name}: {r:?}");
            }
        }
        (Expect::Activity, Update::Message(m)) => {
            assert!(m.activity, "{name}: {m:#?}");
            assert!(ferry_core::message::text_of(&m.inbound.parts).contains("cannot be shown"), "{name}");
        }
        (Expect::Press(data), Update::Message(m)) => {
            assert_eq!(m.button_payload.as_deref(), Some(data), "{name}");
            assert!(m.inbound.external_id.starts_with("callback:"), "{name}");
            assert_eq!(kinds(&m.inbound.parts), ["text"]);
        }
        (Expect::Edited(parts), Update::Edited(e)) => {
            assert_eq!(kinds(&e.parts), parts, "{name}");
            assert!(e.external_id.contains(':'));
        }
        (Expect::Ignored, Update::Ignored { what, reason }) => {
            assert!(!what.is_empty() && !reason.is_empty(), "{name}");
        }
        (_, other) => panic!("{name}.json gave {other:#?}"),
    }
}

#[test]
fn every_nutgram_update_is_read_or_ignored_with_a_reason() {
    let dir = dir();
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED: {} is absent (set FERRY_SHARED_DATA); the Telegram payload table did not run",
            dir.display()
        );
        return;
    }
    let license = std::fs::read_to_string(dir.join("LICENSE")).unwrap_or_default();
    assert!(license.contains("MIT"), "the fixtures' licence is MIT");
    let mut seen = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read(path).unwrap();
        let delivery = parse(&inbox(), &body, now()).unwrap_or_else(|e| panic!("{name}.json: {e}"));
        assert!(delivery.update_id > 0, "{name}");
        check(&name, &delivery.batch);
        seen += 1;
    }
    assert!(seen >= 70, "only {seen} files");
}

#[test]
fn a_press_is_titled_after_its_button_and_answered() {
    let body = std::fs::read(dir().join("callback_query.json"));
    let Ok(body) = body else { return };
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["callback_query"]["data"] = json!("b");
    let d = parse(&inbox(), &serde_json::to_vec(&v).unwrap(), now()).unwrap();
    assert_eq!(d.callback_query_id.as_deref(), Some("666728699048485871"));
    let Update::Message(m) = &d.batch.updates[0] else { panic!() };
    assert_eq!(ferry_core::message::text_of(&m.inbound.parts), "dsa");
    assert_eq!(m.reply_to.as_deref(), Some("222222222:69587"));
}

#[test]
fn the_photo_is_its_largest_size_and_the_caption_follows() {
    let update = json!({"update_id": 5, "message": {"message_id": 3, "date": 1,
        "from": {"id": 42, "is_bot": false, "first_name": "Ana"}, "chat": {"id": 42, "type": "private"},
        "photo": [{"file_id": "small", "width": 90, "height": 90}, {"file_id": "big", "width": 1280, "height": 960}],
        "caption": "Broken on arrival"}});
    let d = parse(&inbox(), &serde_json::to_vec(&update).unwrap(), now()).unwrap();
    let Update::Message(m) = &d.batch.updates[0] else { panic!() };
    assert_eq!(m.media[0].media_id, "big");
    assert_eq!(m.inbound.external_id, "42:3");
    assert_eq!(ferry_core::message::text_of(&m.inbound.parts).trim(), "Broken on arrival");
}

#[test]
fn not_an_update_is_malformed() {
    assert!(matches!(parse(&inbox(), b"{}", now()), Err(ChannelError::Malformed(_))));
    assert!(matches!(parse(&inbox(), b"nope", now()), Err(ChannelError::Malformed(_))));
}

#[test]
fn the_secret_token_is_checked() {
    let settings = TelegramSettings::of(&inbox()).unwrap().unwrap();
    let ok = [("X-Telegram-Bot-Api-Secret-Token", SECRET)];
    assert_eq!(verify_secret(&settings, &WebhookRequest { headers: &ok, body: b"{}" }), Ok(()));
    let wrong = [("x-telegram-bot-api-secret-token", "secret-token-for-tests-0124")];
    assert!(matches!(
        verify_secret(&settings, &WebhookRequest { headers: &wrong, body: b"{}" }),
        Err(ChannelError::Unauthorized(m)) if m.contains("does not match")
    ));
    assert!(matches!(
        verify_secret(&settings, &WebhookRequest { headers: &[], body: b"{}" }),
        Err(ChannelError::Unauthorized(m)) if m.contains("missing")
    ));
}
