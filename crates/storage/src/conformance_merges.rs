//! The conformance cases of merging contacts, run by
//! [`crate::conformance::run_all`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::conformance::t0;
use crate::*;
use chrono::{DateTime, Duration, Utc};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, ContactId, ConversationId, InboxId};
use std::sync::Arc;

/// Runs every merge case, each on its own fresh store from `fresh`.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    merging_moves_three_channels_and_undoing_restores_both(fresh().await).await;
    duplicates_by_phone_and_by_name_and_country(fresh().await).await;
    erasing_a_survivor_erases_what_was_merged_into_it(fresh().await).await;
}

fn options(now: DateTime<Utc>) -> IntakeOptions {
    IntakeOptions {
        bot_enabled: false,
        reopen_window: Duration::days(7),
        now,
        bot_job: None,
        threading: Threading::Latest,
        automatic: false,
    }
}

struct Shop {
    account: AccountId,
    email: InboxId,
    whatsapp: InboxId,
    widget: InboxId,
}

async fn shop(s: &dyn Storage, name: &str) -> Shop {
    let account =
        s.create_account(NewAccount { name: name.into(), default_language: "en".into() }, t0()).await.unwrap();
    let mut ids = Vec::new();
    for (name, channel) in
        [("Mail", ChannelKind::Email), ("WhatsApp", ChannelKind::Whatsapp), ("Widget", ChannelKind::WebWidget)]
    {
        let new = NewInbox { name: name.into(), channel, config: InboxConfig::default(), secret: "s".into() };
        ids.push(s.create_inbox(account.id, new, t0()).await.unwrap().id);
    }
    Shop { account: account.id, email: ids[0], whatsapp: ids[1], widget: ids[2] }
}

fn message(
    account: AccountId,
    inbox: InboxId,
    ext: &str,
    identity: Identity,
    extra: Vec<Identity>,
    text: &str,
    at: DateTime<Utc>,
) -> Inbound {
    Inbound {
        account_id: account,
        inbox_id: inbox,
        external_id: ext.into(),
        sender: InboundSender {
            identity,
            extra_identities: extra,
            name: Some("Ann Lee".into()),
            language: Some("de".into()),
        },
        parts: vec![ContentPart::Text { text: text.into() }],
        sent_at: at,
        meta: Default::default(),
    }
}

fn id(kind: IdentityKind, value: &str, inbox: Option<InboxId>) -> Identity {
    Identity::new(kind, value, inbox).unwrap()
}

fn actor() -> MergeActor {
    MergeActor { id: None, name: "Agent Smith".into() }
}

async fn conversations_of(s: &dyn Storage, account: AccountId, c: ContactId) -> Vec<ConversationId> {
    let filter = ConversationFilter { contact_id: Some(c), ..Default::default() };
    let mut ids: Vec<_> =
        s.list_conversations(account, &filter, None, 100).await.unwrap().items.iter().map(|c| c.id).collect();
    ids.sort();
    ids
}

/// Ann wrote by e-mail as one contact and on WhatsApp and the widget as
/// another: merged, one contact holds the three conversations with their
/// messages, later messages find it, the merge is audited; undone, both
/// come back as they were.
async fn merging_moves_three_channels_and_undoing_restores_both(s: Arc<dyn Storage>) {
    let w = shop(&*s, "Merge").await;
    let t = t0();
    let mail = s
        .ingest(
            message(
                w.account,
                w.email,
                "e-1",
                id(IdentityKind::Email, "ann@example.com", None),
                vec![],
                "Where is it?",
                t,
            ),
            options(t),
        )
        .await
        .unwrap();
    let t1 = t + Duration::hours(1);
    let wa = s
        .ingest(
            message(
                w.account,
                w.whatsapp,
                "w-1",
                id(IdentityKind::Whatsapp, "4915112345678", None),
                vec![],
                "Hallo",
                t1,
            ),
            options(t1),
        )
        .await
        .unwrap();
    let t2 = t + Duration::hours(2);
    let web = s
        .ingest(
            message(
                w.account,
                w.widget,
                "v-1",
                id(IdentityKind::WebVisitor, "visitor-1", Some(w.widget)),
                vec![id(IdentityKind::Whatsapp, "4915112345678", None)],
                "Order 1001?",
                t2,
            ),
            options(t2),
        )
        .await
        .unwrap();
    let (ann, other) = (mail.conversation.contact_id, wa.conversation.contact_id);
    assert_ne!(ann, other);
    assert_eq!(web.conversation.contact_id, other);
    let patch = |tags: Vec<&str>, attrs: serde_json::Value| ContactPatch {
        tags: Some(tags.into_iter().map(String::from).collect()),
        custom_attributes: Some(attrs.as_object().cloned().unwrap()),
        ..Default::default()
    };
    s.update_contact(w.account, ann, patch(vec!["prospect"], serde_json::json!({"size": "S"})), t2).await.unwrap();
    s.update_contact(w.account, other, patch(vec!["returns"], serde_json::json!({"size": "M", "shoe": "38"})), t2)
        .await
        .unwrap();
    let before_other = s.get_contact(w.account, other).await.unwrap().unwrap();

    // Refused: itself, a missing contact, another account's contact.
    let now = t + Duration::hours(3);
    assert!(matches!(
        s.merge_contacts(w.account, ann, ann, actor(), now).await,
        Err(StorageError::Conflict { constraint }) if constraint == "contact_merges.same_contact"
    ));
    assert!(matches!(
        s.merge_contacts(w.account, ann, ContactId(999_999), actor(), now).await,
        Err(StorageError::NotFound)
    ));
    let elsewhere = shop(&*s, "Elsewhere").await;
    let stranger = s
        .ingest(
            message(
                elsewhere.account,
                elsewhere.email,
                "x-1",
                id(IdentityKind::Email, "z@example.com", None),
                vec![],
                "hi",
                t,
            ),
            options(t),
        )
        .await
        .unwrap()
        .conversation
        .contact_id;
    assert!(matches!(s.merge_contacts(w.account, ann, stranger, actor(), now).await, Err(StorageError::NotFound)));

    let m = s.merge_contacts(w.account, ann, other, actor(), now).await.unwrap();
    assert_eq!((m.survivor_id, m.merged_id, m.merged_name.as_str()), (ann, other, "Ann Lee"));
    assert_eq!((m.moves.identities.len(), m.moves.conversations.len()), (2, 2));
    assert_eq!(conversations_of(&*s, w.account, ann).await, {
        let mut all = vec![mail.conversation.id, wa.conversation.id, web.conversation.id];
        all.sort();
        all
    });
    assert!(conversations_of(&*s, w.account, other).await.is_empty());
    for (conv, text) in [(wa.conversation.id, "Hallo"), (web.conversation.id, "Order 1001?")] {
        let msgs = s.list_messages(w.account, conv, None, 10).await.unwrap();
        assert!(msgs.iter().any(|m| m.parts == vec![ContentPart::Text { text: text.into() }]), "the history stays");
    }
    let merged = s.get_contact(w.account, ann).await.unwrap().unwrap();
    assert_eq!(merged.tags, vec!["prospect".to_owned(), "returns".to_owned()]);
    assert_eq!(merged.custom_attributes.get("size"), Some(&serde_json::json!("S")), "the survivor's value wins");
    assert_eq!(merged.custom_attributes.get("shoe"), Some(&serde_json::json!("38")));
    assert_eq!(merged.identities.len(), 3);
    assert!(s.get_contact(w.account, other).await.unwrap().is_none(), "the merged contact is gone from view");
    let found = s
        .search_contacts(w.account, ContactQuery { q: Some("4915112345678".into()), limit: 10, before: None })
        .await
        .unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![ann]);
    assert_eq!(s.contact_merges(w.account, ann).await.unwrap(), vec![m.clone()]);
    let audit = s
        .list_audit(w.account, AuditQuery { action: Some("contact.merge".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].target_id.as_str(), audit[0].actor_name.as_str()),
        (ann.0.to_string().as_str(), "Agent Smith")
    );
    assert_eq!(audit[0].details["merged_contact_id"], serde_json::json!(other.0));

    // A later WhatsApp message finds the survivor.
    let t4 = t + Duration::hours(4);
    let again = s
        .ingest(
            message(
                w.account,
                w.whatsapp,
                "w-2",
                id(IdentityKind::Whatsapp, "4915112345678", None),
                vec![],
                "Still there?",
                t4,
            ),
            options(t4),
        )
        .await
        .unwrap();
    assert_eq!((again.conversation.contact_id, again.conversation.id), (ann, wa.conversation.id));

    // Undone: both as they were.
    let t5 = t + Duration::hours(5);
    let undone = s.undo_contact_merge(w.account, m.id, actor(), t5).await.unwrap();
    assert_eq!(undone.undone_at, Some(t5));
    let back = s.get_contact(w.account, other).await.unwrap().expect("the merged contact is back");
    assert_eq!(
        (back.name.as_str(), &back.tags, &back.identities),
        (before_other.name.as_str(), &before_other.tags, &before_other.identities)
    );
    assert_eq!(conversations_of(&*s, w.account, other).await, {
        let mut mine = vec![wa.conversation.id, web.conversation.id];
        mine.sort();
        mine
    });
    assert_eq!(conversations_of(&*s, w.account, ann).await, vec![mail.conversation.id]);
    let ann_now = s.get_contact(w.account, ann).await.unwrap().unwrap();
    assert_eq!(ann_now.tags, vec!["prospect".to_owned()]);
    assert_eq!(ann_now.custom_attributes.get("shoe"), None);
    assert_eq!(ann_now.identities.len(), 1);
    assert!(matches!(
        s.undo_contact_merge(w.account, m.id, actor(), t5).await,
        Err(StorageError::Conflict { constraint }) if constraint == "contact_merges.undone"
    ));
    assert!(matches!(s.undo_contact_merge(elsewhere.account, m.id, actor(), t5).await, Err(StorageError::NotFound)));
    let audit = s
        .list_audit(w.account, AuditQuery { action: Some("contact.unmerge".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

/// The same phone on WhatsApp and as a phone number, and the same name in
/// the same country, are suggested; other contacts are not.
async fn duplicates_by_phone_and_by_name_and_country(s: Arc<dyn Storage>) {
    let w = shop(&*s, "Dupes").await;
    let t = t0();
    let wa = s
        .ingest(
            message(
                w.account,
                w.whatsapp,
                "w-1",
                id(IdentityKind::Whatsapp, "4915112345678", None),
                vec![],
                "Hallo",
                t,
            ),
            options(t),
        )
        .await
        .unwrap()
        .conversation
        .contact_id;
    let new = |name: &str, country: Option<&str>, ids: Vec<Identity>| NewContact {
        name: name.into(),
        country: country.map(String::from),
        language: None,
        timezone: None,
        vip: false,
        custom_attributes: Default::default(),
        tags: vec![],
        identities: ids,
    };
    let phone = s
        .create_contact(w.account, new("A. Lee", None, vec![id(IdentityKind::Phone, "+49 151 12345678", None)]), t)
        .await
        .unwrap();
    let twin = s.create_contact(w.account, new("Bo Chen", Some("US"), vec![]), t).await.unwrap();
    let twin2 = s.create_contact(w.account, new("Bo Chen", Some("US"), vec![]), t).await.unwrap();
    let elsewhere = s.create_contact(w.account, new("Bo Chen", Some("CA"), vec![]), t).await.unwrap();
    let dupes = s.duplicate_contacts(w.account, phone.id, 10).await.unwrap();
    assert_eq!(dupes.len(), 1);
    assert_eq!((dupes[0].contact.id, dupes[0].reasons.clone()), (wa, vec![DuplicateReason::SamePhone]));
    let dupes = s.duplicate_contacts(w.account, twin.id, 10).await.unwrap();
    assert_eq!(dupes.iter().map(|d| d.contact.id).collect::<Vec<_>>(), vec![twin2.id]);
    assert_eq!(dupes[0].reasons, vec![DuplicateReason::SameNameAndCountry]);
    assert!(s.duplicate_contacts(w.account, elsewhere.id, 10).await.unwrap().is_empty());
    // Once merged, the duplicate is no longer suggested.
    s.merge_contacts(w.account, twin.id, twin2.id, actor(), t).await.unwrap();
    assert!(s.duplicate_contacts(w.account, twin.id, 10).await.unwrap().is_empty());
    assert!(matches!(s.duplicate_contacts(w.account, twin2.id, 10).await, Err(StorageError::NotFound)));
}

/// Erasing a buyer also erases the contact merged into them and the
/// records of the merge: nothing of the merged contact's name is left.
async fn erasing_a_survivor_erases_what_was_merged_into_it(s: Arc<dyn Storage>) {
    let w = shop(&*s, "Erase").await;
    let t = t0();
    let a = s
        .ingest(
            message(w.account, w.email, "e-1", id(IdentityKind::Email, "kim@example.com", None), vec![], "Hi", t),
            options(t),
        )
        .await
        .unwrap()
        .conversation
        .contact_id;
    let b = s
        .create_contact(
            w.account,
            NewContact {
                name: "Kimberly Zephyrine".into(),
                country: None,
                language: None,
                timezone: None,
                vip: false,
                custom_attributes: Default::default(),
                tags: vec![],
                identities: vec![id(IdentityKind::Email, "kimberly.zephyrine@example.net", None)],
            },
            t,
        )
        .await
        .unwrap();
    let m = s.merge_contacts(w.account, a, b.id, actor(), t).await.unwrap();
    s.erase_contact(w.account, a, t + Duration::hours(1)).await.unwrap();
    assert_eq!(s.get_contact_merge(w.account, m.id).await.unwrap(), None);
    assert!(s.contact_merges(w.account, a).await.unwrap().is_empty());
    for needle in ["zephyrine", "kim@example.com"] {
        assert_eq!(s.scan_text(needle).await.unwrap(), Vec::<String>::new(), "{needle} is left somewhere");
    }
}
