//! The way from a commit to the bus: events handed over in memory, the
//! recovery scan that rebuilds them from the outbox when the dispatcher
//! died or the bus failed, and pruning once published; on SQLite and on
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use ferry_app::attachments::MemoryAttachments;
use ferry_app::bus::{BusError, EventBus, LocalBus};
use ferry_app::{App, AppConfig, NewInboxInput};
use ferry_core::clock::{Clock, FixedClock};
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, Inbox, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_storage::NewAccount;
use ferry_testkit::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;

on_both!(
    a_killed_dispatcher_leaves_its_events_to_the_recovery_scan,
    events_survive_a_failing_bus_in_order,
    committed_events_reach_the_bus_in_memory_and_are_pruned
);

/// A bus that refuses the first `failures` batches.
struct FlakyBus {
    inner: Arc<LocalBus>,
    failures: AtomicUsize,
}

#[async_trait::async_trait]
impl EventBus for FlakyBus {
    async fn publish(&self, events: &[Arc<EventEnvelope>]) -> Result<(), BusError> {
        if self.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(BusError("unreachable".into()));
        }
        self.inner.publish(events).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.inner.subscribe()
    }
}

struct Setup {
    app: Arc<App>,
    clock: Arc<FixedClock>,
    inbox: Inbox,
    _dir: tempfile::TempDir,
}

async fn setup(b: Backend, bus: Arc<dyn EventBus>) -> Option<Setup> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let storage = fresh_storage(b, dir.path()).await?;
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
    let app = App::new(
        storage,
        clock.clone(),
        bus,
        Arc::new(MemoryAttachments::default()),
        AppConfig::default(),
        Arc::new(tokio::sync::Notify::new()),
    );
    let account = app
        .storage
        .create_account(NewAccount { name: "Outbox".into(), default_language: "en".into() }, app.clock.now())
        .await
        .unwrap();
    let owner = app
        .create_user(
            account.id,
            ferry_app::NewAgent {
                name: "Owner".into(),
                email: "owner@outbox.example".into(),
                password: "owner-password".into(),
                role: ferry_core::account::Role::Owner,
                languages: vec![],
            },
        )
        .await
        .unwrap();
    let created = app
        .create_inbox(
            &ferry_app::auth::Actor::new(owner),
            account.id,
            NewInboxInput { name: "API".into(), channel: ChannelKind::Api, config: InboxConfig::default() },
        )
        .await
        .unwrap();
    let inbox = app.storage.find_inbox(created.id).await.unwrap().unwrap();
    Some(Setup { app, clock, inbox, _dir: dir })
}

fn inbound(s: &Setup, ext: &str, text: &str) -> Inbound {
    Inbound {
        account_id: s.inbox.account_id,
        inbox_id: s.inbox.id,
        external_id: ext.into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::ApiHandle, "buyer-1", Some(s.inbox.id)).unwrap(),
            extra_identities: vec![],
            name: Some("Buyer".into()),
            language: None,
        },
        parts: vec![ContentPart::Text { text: text.into() }],
        sent_at: s.clock.now(),
        meta: Default::default(),
    }
}

async fn next(rx: &mut broadcast::Receiver<Arc<EventEnvelope>>) -> Arc<EventEnvelope> {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("an event in time").unwrap()
}

/// Waits until nothing is left unpublished.
async fn published(s: &Setup) {
    let wait = async {
        while s.app.storage.count_unpublished_events().await.unwrap() > 0 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait).await.expect("published in time");
}

async fn a_killed_dispatcher_leaves_its_events_to_the_recovery_scan(b: Backend) {
    let bus = LocalBus::new(64);
    let Some(s) = setup(b, bus.clone()).await else { return };
    let mut rx = bus.subscribe();
    // This dispatcher takes the committed events in memory, then dies
    // before publishing them.
    let killed = s.app.dispatcher();
    let first = s.app.ingest(&s.inbox, inbound(&s, "m1", "Where is my order?")).await.unwrap();
    let second = s.app.ingest(&s.inbox, inbound(&s, "m2", "Hello?")).await.unwrap();
    drop(killed);
    assert_eq!(s.app.storage.count_unpublished_events().await.unwrap(), 2);

    let d = s.app.dispatcher();
    assert_eq!(d.dispatch_once().await.unwrap(), 2);
    let got = next(&mut rx).await;
    assert_eq!(got.account_id, s.inbox.account_id);
    assert_eq!(got.created_at, s.clock.now());
    // Rebuilt from the store: the records as they are now (the second
    // message touched the conversation since).
    let conversation = second.conversation.clone();
    assert_eq!(
        got.event,
        Event::MessageReceived {
            message: first.message,
            conversation: conversation.clone(),
            new_conversation: true,
            new_contact: true,
            changes: vec![]
        }
    );
    let got2 = next(&mut rx).await;
    assert!(got2.id > got.id);
    assert_eq!(
        got2.event,
        Event::MessageReceived {
            message: second.message,
            conversation,
            new_conversation: false,
            new_contact: false,
            changes: vec![]
        }
    );
    assert_eq!(s.app.storage.count_unpublished_events().await.unwrap(), 0);
    assert_eq!(d.dispatch_once().await.unwrap(), 0, "published once");
}

async fn events_survive_a_failing_bus_in_order(b: Backend) {
    let local = LocalBus::new(64);
    let bus = Arc::new(FlakyBus { inner: local.clone(), failures: AtomicUsize::new(2) });
    let Some(s) = setup(b, bus).await else { return };
    let mut rx = local.subscribe();
    tokio::spawn(s.app.dispatcher().run(Duration::from_millis(20)));
    let mut want = Vec::new();
    for i in 0..5 {
        let out = s.app.ingest(&s.inbox, inbound(&s, &format!("f{i}"), &format!("message {i}"))).await.unwrap();
        want.push(out.message.id);
    }
    // At least once, and in order: repeats are ignored by id, as
    // subscribers do.
    let mut got = Vec::new();
    let mut last = None;
    while got.len() < want.len() {
        let e = next(&mut rx).await;
        if last.is_some_and(|l| e.id <= l) {
            continue;
        }
        last = Some(e.id);
        match &e.event {
            Event::MessageReceived { message, .. } => got.push(message.id),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, want);
}

async fn committed_events_reach_the_bus_in_memory_and_are_pruned(b: Backend) {
    let bus = LocalBus::new(64);
    let Some(s) = setup(b, bus.clone()).await else { return };
    let mut rx = bus.subscribe();
    // The recovery scan runs at start only: what arrives later came in
    // memory.
    tokio::spawn(s.app.dispatcher().run(Duration::from_secs(3600)));
    published(&s).await;
    let out = s.app.ingest(&s.inbox, inbound(&s, "p1", "Do you ship to Norway?")).await.unwrap();
    let got = next(&mut rx).await;
    assert_eq!(
        got.event,
        Event::MessageReceived {
            message: out.message,
            conversation: out.conversation,
            new_conversation: true,
            new_contact: true,
            changes: vec![]
        }
    );
    // Marked published in the background, then pruned.
    published(&s).await;
    let kept = s.app.storage.count_events(s.inbox.account_id).await.unwrap();
    assert!(kept >= 1);
    assert_eq!(s.app.prune_published_events().await.unwrap(), 0, "published just now");
    // Kept for consoles that reconnect, then gone.
    s.clock.advance(ferry_storage::REPLAY_WINDOW - chrono::Duration::seconds(1));
    assert_eq!(s.app.prune_published_events().await.unwrap(), 0, "within the replay window");
    s.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(s.app.prune_published_events().await.unwrap(), kept);
    assert_eq!(s.app.storage.count_events(s.inbox.account_id).await.unwrap(), 0);
}
