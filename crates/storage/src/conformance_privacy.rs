//! Conformance cases of custom roles, erasure and retention ([`super::run_all`]
//! calls them).

use super::{inbound, opts, shop_order, t0, world};
use crate::*;
use chrono::Duration;
use ferry_core::account::{CustomRoleId, Permission};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::message::{Attachment, ContentPart};
use serde_json::json;
use std::sync::Arc;

/// Custom roles are the account's own: named uniquely, changed, given to
/// its users only, and their holders fall back to the built-in role when
/// one is deleted.
pub async fn custom_roles_per_account(s: Arc<dyn Storage>) {
    let a = world(&*s, "Roles").await;
    let b = world(&*s, "Other roles").await;
    let new = |name: &str| NewCustomRole {
        name: name.into(),
        permissions: vec![Permission::View, Permission::Reply, Permission::View],
        refund_limit_minor: Some(5000),
    };
    let r = s.create_custom_role(a.account, new("Night shift"), t0()).await.unwrap();
    assert_eq!(r.permissions.allowed, vec![Permission::View, Permission::Reply]);
    assert_eq!(r.permissions.refund_limit_minor, Some(5000));
    assert_eq!((r.name.as_str(), r.created_at), ("Night shift", t0()));
    let e = s.create_custom_role(a.account, new("Night shift"), t0()).await.unwrap_err();
    assert!(matches!(e, StorageError::Conflict { ref constraint } if constraint == "custom_roles.name"), "{e:?}");
    // Another account may use the same name.
    let theirs = s.create_custom_role(b.account, new("Night shift"), t0()).await.unwrap();
    let early = s.create_custom_role(a.account, new("Early"), t0()).await.unwrap();
    let names: Vec<String> = s.list_custom_roles(a.account).await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, vec!["Early".to_owned(), "Night shift".to_owned()]);
    assert_eq!(s.get_custom_role(b.account, r.id).await.unwrap(), None);

    let t1 = t0() + Duration::hours(1);
    let patch = CustomRolePatch {
        permissions: Some(vec![Permission::View, Permission::SeeUnmasked]),
        refund_limit_minor: Some(None),
        ..CustomRolePatch::default()
    };
    let changed = s.update_custom_role(a.account, r.id, patch, t1).await.unwrap();
    assert_eq!(changed.permissions.allowed, vec![Permission::View, Permission::SeeUnmasked]);
    assert_eq!((changed.permissions.refund_limit_minor, changed.updated_at), (None, t1));
    let clash = CustomRolePatch { name: Some("Early".into()), ..CustomRolePatch::default() };
    assert!(matches!(s.update_custom_role(a.account, r.id, clash, t1).await, Err(StorageError::Conflict { .. })));
    let foreign = CustomRolePatch { name: Some("X".into()), ..CustomRolePatch::default() };
    assert!(matches!(s.update_custom_role(b.account, r.id, foreign, t1).await, Err(StorageError::NotFound)));

    assert_eq!(s.user_custom_role(a.account, a.agent).await.unwrap(), None);
    s.set_user_custom_role(a.account, a.agent, Some(r.id), t1).await.unwrap();
    assert_eq!(s.user_custom_role(a.account, a.agent).await.unwrap(), Some(changed));
    // Not another account's role, nor another account's user.
    assert!(matches!(
        s.set_user_custom_role(a.account, a.agent, Some(theirs.id), t1).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        s.set_user_custom_role(b.account, a.agent, Some(theirs.id), t1).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        s.set_user_custom_role(a.account, a.agent, Some(CustomRoleId(987_654)), t1).await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(s.user_custom_role(b.account, a.agent).await.unwrap(), None);
    assert!(matches!(s.delete_custom_role(b.account, r.id).await, Err(StorageError::NotFound)));
    s.delete_custom_role(a.account, r.id).await.unwrap();
    assert_eq!(s.user_custom_role(a.account, a.agent).await.unwrap(), None);
    assert!(s.get_user(a.account, a.agent).await.unwrap().is_some());
    s.set_user_custom_role(a.account, a.agent, Some(early.id), t1).await.unwrap();
    s.set_user_custom_role(a.account, a.agent, None, t1).await.unwrap();
    assert_eq!(s.user_custom_role(a.account, a.agent).await.unwrap(), None);
}

const EMAIL: &str = "zelda.quixote@example.com";
const PHONE: &str = "+34612345678";
const NAME: &str = "Zelda Quixote";

/// Erasing a buyer leaves none of their e-mail, phone or name in any text
/// column of any table, keeps the conversation skeletons, returns the
/// attachments to delete, and leaves other buyers alone.
pub async fn erasing_a_contact_leaves_no_trace(s: Arc<dyn Storage>) {
    let w = world(&*s, "Erase").await;
    let other_account = world(&*s, "Unrelated").await;
    let mut first = inbound(&w, "z1", "zelda", &format!("Hi, I am {NAME}, write to {EMAIL} or call {PHONE}"), t0());
    first.sender.name = Some(NAME.into());
    first.sender.extra_identities = vec![
        Identity::new(IdentityKind::Email, EMAIL, None).unwrap(),
        Identity::new(IdentityKind::Phone, PHONE, None).unwrap(),
    ];
    let o1 = s.ingest(first, opts(t0())).await.unwrap();
    let contact = o1.conversation.contact_id;
    let own = format!("/api/v1/accounts/{}/attachments/abc123", w.account);
    let mut second = inbound(&w, "z2", "zelda", "photo of the damage", t0() + Duration::minutes(1));
    second.parts.push(ContentPart::Image {
        attachment: Attachment {
            url: own.clone(),
            content_type: "image/png".into(),
            filename: Some("zelda-quixote.png".into()),
            size: Some(10),
        },
    });
    s.ingest(second, opts(t0() + Duration::minutes(1))).await.unwrap();
    // Someone else: untouched.
    let mut bo = inbound(&w, "b1", "bo", "hello from bo.other@example.com", t0());
    bo.sender.extra_identities = vec![Identity::new(IdentityKind::Email, "bo.other@example.com", None).unwrap()];
    let ob = s.ingest(bo, opts(t0())).await.unwrap();

    // An order of theirs in the shop mirror.
    let conn = s
        .create_shop_connection(
            w.account,
            NewShopConnection {
                platform: ShopPlatform::Shopify,
                name: "Shop".into(),
                shop_domain: "erase.myshopify.com".into(),
                secret: "x".into(),
                api_url: None,
                access_token: None,
            },
            t0(),
        )
        .await
        .unwrap();
    let mut order = shop_order("o1", "2001", EMAIL, PHONE, t0(), "paid");
    order.customer_name = Some(NAME.into());
    let writes = vec![ferry_commerce::MirrorWrite::Order(Box::new(order))];
    s.apply_mirror_writes(w.account, conn.id, None, writes, t0()).await.unwrap();
    // An audit entry naming them.
    s.append_audit(
        w.account,
        NewAuditEntry {
            actor_id: Some(w.agent),
            actor_name: "Agent".into(),
            action: "contact.unmask".into(),
            target_kind: "contact".into(),
            target_id: contact.to_string(),
            details: json!({ "shown": EMAIL }),
            outcome: AuditOutcome::Ok,
            error: None,
        },
        t0(),
    )
    .await
    .unwrap();
    for needle in [EMAIL, PHONE, NAME] {
        assert!(!s.scan_text(needle).await.unwrap().is_empty(), "{needle} is stored before");
    }

    let before = s.get_conversation(w.account, o1.conversation.id).await.unwrap().unwrap();
    let e = s.erase_contact(w.account, contact, t0() + Duration::hours(1)).await.unwrap();
    assert_eq!((e.conversations, e.messages, e.orders), (1, 2, 1));
    assert_eq!(e.attachment_urls, vec![own]);
    for needle in [EMAIL, PHONE, NAME, "zelda-quixote"] {
        assert_eq!(s.scan_text(needle).await.unwrap(), Vec::<String>::new(), "{needle} is left");
    }
    // The skeleton stays.
    let after = s.get_conversation(w.account, o1.conversation.id).await.unwrap().unwrap();
    assert_eq!(
        (after.contact_id, after.inbox_id, after.created_at),
        (before.contact_id, before.inbox_id, before.created_at)
    );
    assert_eq!(after.last_activity_at, before.last_activity_at);
    let msgs = s.list_messages(w.account, o1.conversation.id, None, 50).await.unwrap();
    assert_eq!(msgs.len(), 2);
    let c = s.get_contact(w.account, contact).await.unwrap().unwrap();
    assert_eq!((c.email, c.phone, c.identities.len()), (None, None, 0));
    // Others stay.
    assert!(!s.scan_text("bo.other@example.com").await.unwrap().is_empty());
    assert_eq!(s.list_messages(w.account, ob.conversation.id, None, 50).await.unwrap().len(), 1);
    // Another account cannot erase them, nor a missing contact.
    assert!(matches!(
        s.erase_contact(other_account.account, ob.conversation.contact_id, t0()).await,
        Err(StorageError::NotFound)
    ));
}

/// Retention: conversations idle longer than the cut are deleted,
/// attachments of older messages removed; the settings are per account.
pub async fn retention_sweeps_old_conversations_and_attachments(s: Arc<dyn Storage>) {
    let w = world(&*s, "Retention").await;
    let other = world(&*s, "Keeps all").await;
    assert_eq!(s.retention(w.account).await.unwrap(), Retention::default());
    assert_eq!(s.accounts_with_retention().await.unwrap(), vec![]);
    let keep = Retention { conversation_days: Some(30), attachment_days: Some(7) };
    s.set_retention(w.account, keep, t0()).await.unwrap();
    assert_eq!(s.retention(w.account).await.unwrap(), keep);
    assert_eq!(s.accounts_with_retention().await.unwrap(), vec![(w.account, keep)]);
    assert!(matches!(s.set_retention(ferry_core::AccountId(987_654), keep, t0()).await, Err(StorageError::NotFound)));

    let url = |k: &str| format!("/api/v1/accounts/{}/attachments/{k}", w.account);
    let with_file = |ext: &str, handle: &str, key: &str, at| {
        let mut i = inbound(&w, ext, handle, "see file", at);
        i.parts.push(ContentPart::File {
            attachment: Attachment {
                url: url(key),
                content_type: "application/pdf".into(),
                filename: None,
                size: None,
            },
        });
        i
    };
    let old = t0();
    let recent = t0() + Duration::days(40);
    let o_old = s.ingest(with_file("r1", "old", "k-old", old), opts(old)).await.unwrap();
    let o_mid = s
        .ingest(with_file("r2", "mid", "k-mid", old + Duration::days(20)), opts(old + Duration::days(20)))
        .await
        .unwrap();
    // The same file in a recent message too: kept in the store.
    s.ingest(with_file("r3", "new", "k-mid", recent), opts(recent)).await.unwrap();
    let o_other = s.ingest(inbound(&other, "x1", "x", "old but kept", old), opts(old)).await.unwrap();

    let now = t0() + Duration::days(41);
    let swept = s.delete_conversations_before(w.account, now - Duration::days(30)).await.unwrap();
    assert_eq!((swept.conversations, swept.messages), (1, 1));
    assert_eq!(swept.attachment_urls, vec![url("k-old")]);
    assert_eq!(s.get_conversation(w.account, o_old.conversation.id).await.unwrap(), None);
    assert!(s.get_conversation(w.account, o_mid.conversation.id).await.unwrap().is_some());
    assert!(s.get_conversation(other.account, o_other.conversation.id).await.unwrap().is_some());

    let stripped = s.strip_attachments_before(w.account, now - Duration::days(7)).await.unwrap();
    assert_eq!(stripped.messages, 1);
    assert_eq!(stripped.attachment_urls, Vec::<String>::new(), "k-mid is still used by a recent message");
    let msgs = s.list_messages(w.account, o_mid.conversation.id, None, 10).await.unwrap();
    let files = msgs.iter().flat_map(|m| m.parts.iter()).filter(|p| matches!(p, ContentPart::File { .. })).count();
    assert_eq!(files, 0);
    assert_eq!(s.strip_attachments_before(w.account, now - Duration::days(7)).await.unwrap().messages, 0);
    s.set_retention(w.account, Retention::default(), now).await.unwrap();
    assert_eq!(s.accounts_with_retention().await.unwrap(), vec![]);
}

/// Runs the cases above.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    custom_roles_per_account(fresh().await).await;
    erasing_a_contact_leaves_no_trace(fresh().await).await;
    retention_sweeps_old_conversations_and_attachments(fresh().await).await;
}
