//! The conformance cases of the platform's accounts, outgoing webhooks and
//! usage, run by [`crate::conformance::run_all`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::conformance::t0;
use crate::*;
use chrono::Duration;
use ferry_core::account::Role;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_core::{AccountId, WebhookId};
use std::sync::Arc;

/// Runs every platform case, each on its own fresh store from `fresh`.
pub async fn run_all<F, Fut>(fresh: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Storage>>,
{
    accounts_are_created_with_their_owner_listed_and_suspended(fresh().await).await;
    webhooks_queue_each_event_once_and_count_failures(fresh().await).await;
    usage_counts_a_month_of_messages_and_conversations(fresh().await).await;
}

fn owner(email: &str) -> NewUser {
    NewUser {
        name: "Owner".into(),
        email: email.into(),
        password_hash: "x".into(),
        role: Role::Owner,
        languages: vec!["en".into()],
    }
}

fn new_account(name: &str) -> NewPlatformAccount {
    NewPlatformAccount {
        name: name.into(),
        time_zone: "Asia/Shanghai".into(),
        languages: vec!["zh".into(), "en".into()],
    }
}

async fn accounts_are_created_with_their_owner_listed_and_suspended(s: Arc<dyn Storage>) {
    let (a, user) = s.create_account_with_owner(new_account("Alpha"), owner("o@alpha.example"), t0()).await.unwrap();
    assert_eq!((a.account.name.as_str(), a.account.default_language.as_str()), ("Alpha", "zh"));
    assert_eq!((a.time_zone.as_str(), a.languages.len(), a.users), ("Asia/Shanghai", 2, 1));
    assert_eq!((user.account_id, user.role), (a.account.id, Role::Owner));
    assert_eq!(s.get_user(a.account.id, user.id).await.unwrap().unwrap().email, "o@alpha.example");
    // A taken e-mail creates nothing.
    let taken = s.create_account_with_owner(new_account("Beta"), owner("o@alpha.example"), t0()).await;
    assert!(
        matches!(taken, Err(StorageError::Conflict { ref constraint }) if constraint == "users.email"),
        "{taken:?}"
    );
    let (b, _) = s.create_account_with_owner(new_account("Beta"), owner("o@beta.example"), t0()).await.unwrap();
    let all = s.list_platform_accounts(None, 100).await.unwrap();
    assert_eq!(all.iter().map(|p| p.account.name.as_str()).collect::<Vec<_>>(), ["Alpha", "Beta"]);
    let page = s.list_platform_accounts(Some(a.account.id), 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].account.id, b.account.id);

    assert!(!s.account_suspended(a.account.id).await.unwrap());
    let later = t0() + Duration::hours(1);
    let sus = s.set_account_suspended(a.account.id, true, t0()).await.unwrap();
    assert_eq!(sus.suspended_at, Some(t0()));
    // Suspending again keeps the first time.
    let again = s.set_account_suspended(a.account.id, true, later).await.unwrap();
    assert_eq!(again.suspended_at, Some(t0()));
    assert!(s.account_suspended(a.account.id).await.unwrap());
    assert!(!s.account_suspended(b.account.id).await.unwrap(), "the other account is untouched");
    let back = s.set_account_suspended(a.account.id, false, later).await.unwrap();
    assert_eq!(back.suspended_at, None);
    assert!(!s.account_suspended(a.account.id).await.unwrap());
    assert!(matches!(s.set_account_suspended(AccountId(999_999), true, t0()).await, Err(StorageError::NotFound)));
    assert!(!s.account_suspended(AccountId(999_999)).await.unwrap());
}

async fn webhooks_queue_each_event_once_and_count_failures(s: Arc<dyn Storage>) {
    let (a, _) = s.create_account_with_owner(new_account("Alpha"), owner("o@a.example"), t0()).await.unwrap();
    let (b, _) = s.create_account_with_owner(new_account("Beta"), owner("o@b.example"), t0()).await.unwrap();
    let (a, b) = (a.account.id, b.account.id);
    let new = NewWebhook {
        url: "https://hooks.example/in".into(),
        events: vec!["message_created".into()],
        secret: "whsec".into(),
    };
    let w = s.create_webhook(a, new.clone(), t0()).await.unwrap();
    assert!(w.enabled && w.consecutive_failures == 0);
    assert_eq!(s.list_webhooks(a).await.unwrap(), vec![w.clone()]);
    assert!(s.list_webhooks(b).await.unwrap().is_empty());
    assert_eq!(s.get_webhook(b, w.id).await.unwrap(), None, "another account's webhook is not found");
    assert!(matches!(
        s.update_webhook(b, w.id, WebhookPatch { enabled: Some(false), ..Default::default() }, t0()).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(s.delete_webhook(b, w.id).await, Err(StorageError::NotFound)));

    let d = |key: &str| NewWebhookDelivery {
        webhook_id: w.id,
        event_key: key.into(),
        event: "message_created".into(),
        body: "{}".into(),
    };
    let first = s.queue_webhook_deliveries(a, vec![d("1:message_created")], "deliver_webhook", 5, t0()).await.unwrap();
    assert_eq!(first.len(), 1);
    let again = s
        .queue_webhook_deliveries(a, vec![d("1:message_created"), d("2:message_created")], "deliver_webhook", 5, t0())
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "the event seen before is skipped");
    // Another account cannot queue for this webhook.
    assert!(s.queue_webhook_deliveries(b, vec![d("3:x")], "deliver_webhook", 5, t0()).await.unwrap().is_empty());
    let jobs = s.claim_jobs(t0(), Duration::minutes(1), 10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j.kind == "deliver_webhook" && j.account_id == a && j.max_attempts == 5));
    assert_eq!(jobs[0].payload, serde_json::json!({ "delivery_id": first[0] }));

    let attempt = |ok: bool, status: u16, last: bool, at| WebhookAttempt {
        ok,
        status: Some(status),
        body: Some("nope".into()),
        error: (!ok).then(|| format!("HTTP {status}")),
        last,
        at,
    };
    let t1 = t0() + Duration::minutes(1);
    let after = s.record_webhook_attempt(a, first[0], attempt(false, 500, false, t0())).await.unwrap();
    assert_eq!((after.consecutive_failures, after.failing_since), (1, Some(t0())));
    let after = s.record_webhook_attempt(a, again[0], attempt(false, 502, true, t1)).await.unwrap();
    assert_eq!((after.consecutive_failures, after.failing_since), (2, Some(t0())));
    let log = s.list_webhook_deliveries(a, w.id, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].id, log[0].state.as_str(), log[0].response_status), (again[0], "failed", Some(502)));
    assert_eq!((log[1].state.as_str(), log[1].attempts, log[1].error.as_deref()), ("pending", 1, Some("HTTP 500")));
    assert!(s.list_webhook_deliveries(b, w.id, 10).await.unwrap().is_empty());
    assert_eq!(s.get_webhook_delivery(b, first[0]).await.unwrap(), None);
    let ok = s.record_webhook_attempt(a, first[0], attempt(true, 200, false, t1)).await.unwrap();
    assert_eq!((ok.consecutive_failures, ok.failing_since), (0, None));
    let d1 = s.get_webhook_delivery(a, first[0]).await.unwrap().unwrap();
    assert_eq!((d1.state.as_str(), d1.attempts, d1.last_attempt_at), ("delivered", 2, Some(t1)));

    let off = s.disable_webhook(a, w.id, "failing for a day", t1).await.unwrap();
    assert!(!off.enabled);
    assert_eq!(off.disabled_reason.as_deref(), Some("failing for a day"));
    let on = s.update_webhook(a, w.id, WebhookPatch { enabled: Some(true), ..Default::default() }, t1).await.unwrap();
    assert!(on.enabled && on.disabled_reason.is_none());
    let changed = s
        .update_webhook(
            a,
            w.id,
            WebhookPatch { url: Some("https://x.example/".into()), events: Some(vec![]), enabled: None },
            t1,
        )
        .await
        .unwrap();
    assert_eq!((changed.url.as_str(), changed.events.len()), ("https://x.example/", 0));
    s.delete_webhook(a, w.id).await.unwrap();
    assert!(s.list_webhook_deliveries(a, w.id, 10).await.unwrap().is_empty());
    assert!(matches!(s.delete_webhook(a, WebhookId(w.id.0)).await, Err(StorageError::NotFound)));
}

async fn usage_counts_a_month_of_messages_and_conversations(s: Arc<dyn Storage>) {
    let (a, _) = s.create_account_with_owner(new_account("Alpha"), owner("o@a.example"), t0()).await.unwrap();
    let (b, _) = s.create_account_with_owner(new_account("Beta"), owner("o@b.example"), t0()).await.unwrap();
    let (a, b) = (a.account.id, b.account.id);
    let inbox = |account| {
        let s = s.clone();
        async move {
            s.create_inbox(
                account,
                NewInbox {
                    name: "API".into(),
                    channel: ChannelKind::Api,
                    config: InboxConfig::default(),
                    secret: "s".into(),
                },
                t0(),
            )
            .await
            .unwrap()
        }
    };
    let (ia, ib) = (inbox(a).await, inbox(b).await);
    let options = |now| IntakeOptions {
        bot_enabled: false,
        reopen_window: Duration::days(7),
        now,
        bot_job: None,
        threading: Threading::Latest,
        automatic: false,
    };
    let msg = |account, inbox, ext: &str, handle: &str, at| Inbound {
        account_id: account,
        inbox_id: inbox,
        external_id: ext.into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::ApiHandle, handle, Some(inbox)).unwrap(),
            extra_identities: vec![],
            name: None,
            language: None,
        },
        parts: vec![ContentPart::Text { text: "hello".into() }],
        sent_at: at,
        meta: Default::default(),
    };
    let t = t0();
    // Two buyers in the month (one writes twice), one in the next, and
    // another account's buyer.
    s.ingest(msg(a, ia.id, "m1", "ann", t), options(t)).await.unwrap();
    s.ingest(msg(a, ia.id, "m2", "ann", t + Duration::hours(1)), options(t + Duration::hours(1))).await.unwrap();
    s.ingest(msg(a, ia.id, "m3", "bob", t + Duration::hours(2)), options(t + Duration::hours(2))).await.unwrap();
    let next = t + Duration::days(40);
    s.ingest(msg(a, ia.id, "m4", "cid", next), options(next)).await.unwrap();
    s.ingest(msg(b, ib.id, "m5", "dan", t), options(t)).await.unwrap();
    let u = s.usage(a, t - Duration::days(1), t + Duration::days(30)).await.unwrap();
    assert_eq!((u.active_contacts, u.conversations_opened, u.bot_resolutions), (2, 2, 0));
    assert_eq!(u.channels, vec![ChannelUsage { channel: "api".into(), incoming: 3, outgoing: 0 }]);
    let later = s.usage(a, t + Duration::days(30), t + Duration::days(60)).await.unwrap();
    assert_eq!((later.active_contacts, later.conversations_opened), (1, 1));
    let none = s.usage(a, t + Duration::days(90), t + Duration::days(120)).await.unwrap();
    assert_eq!(none, Usage::default());
}
