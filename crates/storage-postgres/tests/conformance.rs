//! The storage conformance suite on PostgreSQL, plus the behaviour only a
//! shared, multi-process database needs (migrations run twice or at once,
//! intake races between different messages, concurrent job claims). Each
//! store gets a database of its own.
//!
//! The server is `FERRY_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Without a reachable server
//! the tests are skipped, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use ferry_core::account::Role;
use ferry_core::contact::{Identity, IdentityKind};
use ferry_core::event::Event;
use ferry_core::inbound::{Inbound, InboundSender};
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::ContentPart;
use ferry_storage::search::{MessageFilter, SearchRepo, SeedContact, SeedConversation};
use ferry_storage::*;
use ferry_storage_postgres::{PostgresStorage, drop_test_database, fresh_test_database};
use sqlx::Connection;
use std::sync::{Arc, Mutex};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The admin URL of the test server, or `None` (after saying so) when it
/// cannot be reached outside CI.
async fn server() -> Option<String> {
    let url = std::env::var("FERRY_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    match sqlx::PgConnection::connect(&url).await {
        Ok(c) => {
            c.close().await.unwrap();
            Some(url)
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "PostgreSQL not reachable at {url} ({e}); CI runs the PostgreSQL tests, so start the server or set FERRY_TEST_POSTGRES_URL"
            )
        }
        Err(_) => {
            eprintln!("skipping: PostgreSQL not reachable at {url}");
            None
        }
    }
}

/// A migrated store on a new database, dropped with [`Dropper::drop_all`].
#[derive(Clone)]
struct Dropper {
    admin: String,
    urls: Arc<Mutex<Vec<String>>>,
}

impl Dropper {
    fn new(admin: &str) -> Self {
        Self { admin: admin.to_owned(), urls: Arc::default() }
    }

    async fn fresh(&self) -> (String, PostgresStorage) {
        let (url, s) = fresh_test_database(&self.admin).await.unwrap();
        self.urls.lock().unwrap().push(url.clone());
        (url, s)
    }

    /// Drops the databases together: each drop waits for a checkpoint,
    /// and concurrent drops share one.
    async fn drop_all(&self) {
        let urls = std::mem::take(&mut *self.urls.lock().unwrap());
        let mut drops = tokio::task::JoinSet::new();
        for url in urls {
            let admin = self.admin.clone();
            drops.spawn(async move { drop_test_database(&admin, &url).await });
        }
        while let Some(done) = drops.join_next().await {
            done.unwrap().unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_suite() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    ferry_storage::conformance::run_all(|| {
        let dbs = dbs.clone();
        async move {
            let (_, s) = dbs.fresh().await;
            assert_eq!(s.backend(), "postgres");
            s.ping().await.unwrap();
            Arc::new(s) as Arc<dyn Storage>
        }
    })
    .await;
    dbs.drop_all().await;
}

#[tokio::test]
async fn migrating_again_keeps_data_and_applies_nothing() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (url, s) = dbs.fresh().await;
    let id =
        s.create_account(NewAccount { name: "A".into(), default_language: "en".into() }, Utc::now()).await.unwrap().id;
    s.migrate().await.unwrap();
    let again = PostgresStorage::connect(&url).await.unwrap();
    assert_eq!(again.get_account(id).await.unwrap().map(|a| a.name), Some("A".into()));
    let applied: Vec<(i64, String)> = sqlx::query_as("SELECT version, name FROM schema_migrations ORDER BY version")
        .fetch_all(again.pool())
        .await
        .unwrap();
    let expected: Vec<(i64, String)> =
        ferry_storage_postgres::MIGRATIONS.iter().map(|(v, n, _)| (*v, (*n).to_owned())).collect();
    assert_eq!(applied, expected);
    assert_eq!(applied[0], (1, "init".to_owned()));
    drop((s, again));
    dbs.drop_all().await;
}

#[tokio::test]
async fn processes_starting_together_migrate_once() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (url, s) = dbs.fresh().await;
    // Back to an empty database, then three stores start at once.
    sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public").execute(s.pool()).await.unwrap();
    let starts = (0..3).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { PostgresStorage::connect(&url).await })
    });
    for start in starts.collect::<Vec<_>>() {
        start.await.unwrap().unwrap();
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations").fetch_one(s.pool()).await.unwrap();
    assert_eq!(n, ferry_storage_postgres::MIGRATIONS.len() as i64);
    drop(s);
    dbs.drop_all().await;
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (url, s) = dbs.fresh().await;
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', now())")
        .execute(s.pool())
        .await
        .unwrap();
    let err = PostgresStorage::connect(&url).await.unwrap_err();
    assert!(matches!(err, StorageError::Corrupt(ref m) if m.contains("999")), "{err}");
    drop(s);
    dbs.drop_all().await;
}

struct World {
    account: ferry_core::AccountId,
    inbox: ferry_core::InboxId,
}

async fn world(s: &PostgresStorage) -> World {
    let t0 = conformance::t0();
    let a = s.create_account(NewAccount { name: "Shop".into(), default_language: "en".into() }, t0).await.unwrap();
    let inbox = s
        .create_inbox(
            a.id,
            NewInbox {
                name: "API".into(),
                channel: ChannelKind::Api,
                config: InboxConfig::default(),
                secret: "s".into(),
            },
            t0,
        )
        .await
        .unwrap();
    World { account: a.id, inbox: inbox.id }
}

fn inbound(w: &World, ext: &str, handle: &str, text: &str) -> Inbound {
    Inbound {
        account_id: w.account,
        inbox_id: w.inbox,
        external_id: ext.into(),
        sender: InboundSender {
            identity: Identity::new(IdentityKind::ApiHandle, handle, Some(w.inbox)).unwrap(),
            extra_identities: vec![Identity::new(IdentityKind::Email, &format!("{handle}@example.com"), None).unwrap()],
            name: Some(format!("Buyer {handle}")),
            language: None,
        },
        parts: vec![ContentPart::Text { text: text.into() }],
        sent_at: conformance::t0(),
        meta: Default::default(),
    }
}

fn opts() -> IntakeOptions {
    IntakeOptions {
        bot_enabled: false,
        reopen_window: Duration::days(7),
        now: conformance::t0(),
        bot_job: None,
        threading: Threading::Latest,
        automatic: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_messages_of_one_new_buyer_make_one_contact_and_conversation() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (_, s) = dbs.fresh().await;
    let s = Arc::new(s);
    let w = world(&s).await;
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let (s, m) = (s.clone(), inbound(&w, &format!("m{n}"), "newbie", &format!("message {n}")));
            tokio::spawn(async move { s.ingest(m, opts()).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| o.new_contact).count(), 1, "one buyer, one contact");
    assert_eq!(outcomes.iter().filter(|o| o.new_conversation).count(), 1, "one open conversation");
    let contact = outcomes[0].conversation.contact_id;
    let conversation = outcomes[0].conversation.id;
    assert!(
        outcomes
            .iter()
            .all(|o| o.conversation.contact_id == contact && o.conversation.id == conversation && !o.duplicate)
    );
    assert_eq!(s.list_messages(w.account, conversation, None, 100).await.unwrap().len(), 6);
    let events = s.unpublished_events(None, 1000).await.unwrap();
    let received: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::MessageReceived { new_contact, new_conversation, .. } => Some((*new_contact, *new_conversation)),
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), 6, "one event per message");
    assert_eq!(received.iter().filter(|(c, _)| *c).count(), 1);
    assert_eq!(received.iter().filter(|(_, v)| *v).count(), 1);
    let c = s.get_contact(w.account, contact).await.unwrap().unwrap();
    assert_eq!(c.identities.len(), 2);
    assert_eq!(c.email.as_deref(), Some("newbie@example.com"));
    drop(s);
    dbs.drop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_hand_out_a_job_twice() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (_, s) = dbs.fresh().await;
    let s = Arc::new(s);
    let w = world(&s).await;
    let t0 = conformance::t0();
    for n in 0..40 {
        s.enqueue_job(NewJob {
            account_id: w.account,
            kind: "k".into(),
            payload: serde_json::json!({ "n": n }),
            run_at: t0,
            max_attempts: 3,
            lane: None,
        })
        .await
        .unwrap();
    }
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = s.claim_jobs(t0, Duration::seconds(60), 3).await.unwrap();
                    if batch.is_empty() {
                        break mine;
                    }
                    mine.extend(batch.into_iter().map(|j| (j.id, j.attempts)));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    assert_eq!(all.len(), 40);
    assert!(all.iter().all(|(_, attempts)| *attempts == 1));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 40, "no job claimed twice");
    drop(s);
    dbs.drop_all().await;
}

#[tokio::test]
async fn conflicts_are_named_like_sqlite_names_them() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (_, s) = dbs.fresh().await;
    let w = world(&s).await;
    let t0 = conformance::t0();
    let user = |email: &str| NewUser {
        name: "A".into(),
        email: email.into(),
        password_hash: "h".into(),
        role: Role::Agent,
        languages: vec![],
    };
    s.create_user(w.account, user("a@example.com"), t0).await.unwrap();
    let conflict = |r: Result<_, StorageError>| match r {
        Err(StorageError::Conflict { constraint }) => constraint,
        Err(other) => panic!("expected a conflict, got {other}"),
        Ok(_) => panic!("expected a conflict"),
    };
    assert_eq!(conflict(s.create_user(w.account, user("a@example.com"), t0).await.map(|_| ())), "users.email");
    s.create_team(w.account, "Returns", "", t0).await.unwrap();
    assert_eq!(conflict(s.create_team(w.account, "Returns", "", t0).await.map(|_| ())), "teams.name");
    let with_email = NewContact {
        name: "B".into(),
        identities: vec![Identity::new(IdentityKind::Email, "b@example.com", None).unwrap()],
        ..Default::default()
    };
    s.create_contact(w.account, with_email.clone(), t0).await.unwrap();
    assert_eq!(conflict(s.create_contact(w.account, with_email, t0).await.map(|_| ())), "contact_identities");
    let orphan = s.create_inbox(
        ferry_core::AccountId(999_999),
        NewInbox { name: "x".into(), channel: ChannelKind::Api, config: InboxConfig::default(), secret: "s".into() },
        t0,
    );
    assert_eq!(conflict(orphan.await.map(|_| ())), "inboxes.account_id");
    dbs.drop_all().await;
}

#[tokio::test]
async fn text_postgres_cannot_hold_is_stored_readably() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (_, s) = dbs.fresh().await;
    let w = world(&s).await;
    let o = s.ingest(inbound(&w, "nul", "n", "before\0after"), opts()).await.unwrap();
    let stored = s.get_message(w.account, o.message.id).await.unwrap().unwrap();
    assert_eq!(stored.text(), "before\u{fffd}after");
    let events = s.unpublished_events(None, 100).await.unwrap();
    assert!(events.iter().any(
        |e| matches!(&e.event, Event::MessageReceived { message, .. } if message.text() == "before\u{fffd}after")
    ));
    let found = s
        .search_contacts(w.account, ContactQuery { q: Some("n@example".into()), limit: 10, before: None })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    dbs.drop_all().await;
}

#[tokio::test]
async fn timestamps_keep_microseconds_so_cursors_match() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (_, s) = dbs.fresh().await;
    let w = world(&s).await;
    let at = Utc.timestamp_micros(1_772_355_600_123_456).unwrap();
    let o = s
        .ingest(Inbound { sent_at: at, ..inbound(&w, "t", "t", "x") }, IntakeOptions { now: at, ..opts() })
        .await
        .unwrap();
    let stored = s.get_conversation(w.account, o.conversation.id).await.unwrap().unwrap();
    assert_eq!(stored.last_activity_at, at);
    assert_eq!(stored, o.conversation);
    dbs.drop_all().await;
}

/// The message ids a brute-force scan finds: `pattern` anywhere in the
/// text, optionally only in conversations of `status`, newest first.
async fn scanned(s: &PostgresStorage, pattern: &str, status: Option<&str>, limit: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.search_text LIKE $1 AND ($2::text IS NULL OR c.status = $2) ORDER BY m.id DESC LIMIT $3",
    )
    .bind(pattern)
    .bind(status)
    .bind(limit)
    .fetch_all(s.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn search_finds_newest_first_across_a_large_store() {
    let Some(admin) = server().await else { return };
    let dbs = Dropper::new(&admin);
    let (_, s) = dbs.fresh().await;
    // More messages than the newest-first walk covers, so searches go
    // through both it and the indexes. Every message has `every`; `seldom`
    // in one in 997 (old and new ones); a part of a word in two.
    let n = 12_500;
    let people =
        vec![SeedContact { name: "Ada Lovelace".into(), email: "ada@example.com".into(), phone: "+4930123456".into() }];
    let texts = (0..n).map(move |i| {
        let mut t = format!("message n{i} every day");
        if i % 997 == 5 {
            t.push_str(" seldom");
        }
        if i == 40 || i == 12_400 {
            t.push_str(" unsearchable");
        }
        SeedConversation { contact: 0, language: Some("en".into()), texts: vec![t] }
    });
    let account = ferry_core::AccountId(ferry_storage_postgres::seed_search_corpus(&s, &people, texts).await.unwrap());
    let ids = |docs: Vec<ferry_storage::search::MessageDoc>| docs.iter().map(|d| d.message.id.0).collect::<Vec<_>>();
    let all = MessageFilter::default();

    let common = ids(s.full_text_messages(account, "every", &all, 20).await.unwrap());
    assert_eq!(common, scanned(&s, "%every%", None, 20).await);
    assert_eq!(common.len(), 20);

    let rare = ids(s.full_text_messages(account, "seldom", &all, 50).await.unwrap());
    assert_eq!(rare, scanned(&s, "%seldom%", None, 50).await);
    assert_eq!(rare.len(), 13, "one in 997 of 12,500, old and new");

    let few = ids(s.full_text_messages(account, "seldom", &all, 5).await.unwrap());
    assert_eq!(few, rare[..5]);

    let part = ids(s.full_text_messages(account, "archab", &all, 20).await.unwrap());
    assert_eq!(part, scanned(&s, "%archab%", None, 20).await);
    assert_eq!(part.len(), 2);

    let both = ids(s.full_text_messages(account, "seldom every", &all, 50).await.unwrap());
    assert_eq!(both, rare);

    let resolved =
        MessageFilter { status: Some(ferry_core::conversation::Status::Resolved), ..MessageFilter::default() };
    let filtered = ids(s.full_text_messages(account, "seldom", &resolved, 50).await.unwrap());
    assert_eq!(filtered, scanned(&s, "%seldom%", Some("resolved"), 50).await);
    assert!(!filtered.is_empty() && filtered.len() < rare.len());

    let contacts = s.full_text_contacts(account, "lovelace 123456", 20).await.unwrap();
    assert_eq!(contacts.len(), 1);
    dbs.drop_all().await;
}
