//! The bot's hand-off survives a failed write: the message telling the
//! buyer a person is coming and the passing of the conversation to people
//! are one write, so when the store fails the job's retry does both, once.
//!
//! The store is made to fail with a database trigger that refuses moving a
//! conversation from the bot to open, armed for the first attempt only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use ferry_app::attachments::MemoryAttachments;
use ferry_app::bus::LocalBus;
use ferry_app::delivery::Jobs;
use ferry_app::{App, AppConfig, NewAgent, NewInboxInput};
use ferry_core::account::Role;
use ferry_core::clock::{Clock, FixedClock};
use ferry_core::conversation::Status;
use ferry_core::inbox::{ChannelKind, InboxConfig};
use ferry_core::message::{MessageKind, Sender};
use ferry_core::signature;
use ferry_jobs::Worker;
use ferry_storage::{NewAccount, Storage};
use ferry_testkit::{Backend, buyer_message, on_both};
use std::path::PathBuf;
use std::sync::Arc;

on_both!(a_failed_hand_off_is_retried_whole_and_tells_the_buyer_once);

/// Where the test reaches the database behind the store, to arm the fault.
enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    const SQLITE_ARM: &str = "CREATE TRIGGER fail_hand_off BEFORE UPDATE ON conversations \
        WHEN OLD.status = 'bot' AND NEW.status = 'open' \
        BEGIN SELECT abs(-9223372036854775808); END;";
    const POSTGRES_ARM: [&str; 2] = [
        "CREATE FUNCTION fail_hand_off() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the store is down'; END $$",
        "CREATE TRIGGER fail_hand_off BEFORE UPDATE ON conversations FOR EACH ROW \
         WHEN (OLD.status = 'bot' AND NEW.status = 'open') EXECUTE FUNCTION fail_hand_off()",
    ];

    async fn run(&self, sqlite: &str, postgres: &[&str]) {
        match self {
            // SQLite reports a failing function as a plain error (a RAISE
            // would read as a constraint conflict, which is not retried).
            Database::Sqlite(path) => rusqlite::Connection::open(path).unwrap().execute_batch(sqlite).unwrap(),
            Database::Postgres(url) => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                for q in postgres {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(*q)).execute(&mut c).await.unwrap();
                }
                c.close().await.unwrap();
            }
        }
    }

    /// Every move of a conversation from the bot to people fails.
    async fn arm(&self) {
        self.run(Self::SQLITE_ARM, &Self::POSTGRES_ARM).await;
    }

    async fn disarm(&self) {
        self.run("DROP TRIGGER fail_hand_off;", &["DROP TRIGGER fail_hand_off ON conversations"]).await;
    }
}

async fn store(backend: Backend, dir: &std::path::Path) -> Option<(Arc<dyn Storage>, Database)> {
    match backend {
        Backend::Sqlite => {
            let path = dir.join("ferry.sqlite");
            let opts = ferry_storage_sqlite::SqliteOptions::new(path.clone());
            Some((Arc::new(ferry_storage_sqlite::SqliteStorage::open(opts).unwrap()), Database::Sqlite(path)))
        }
        Backend::Postgres => {
            let admin = ferry_testkit::postgres_admin_url();
            match ferry_storage_postgres::fresh_test_database(&admin).await {
                Ok((url, s)) => Some((Arc::new(s), Database::Postgres(url))),
                Err(e) => {
                    assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "PostgreSQL is required under CI: {e}");
                    eprintln!("skipping: PostgreSQL not reachable at {admin}: {e}");
                    None
                }
            }
        }
    }
}

async fn a_failed_hand_off_is_retried_whole_and_tells_the_buyer_once(backend: Backend) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let Some((storage, database)) = store(backend, dir.path()).await else { return };
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()));
    let app = App::new(
        storage.clone(),
        clock.clone(),
        LocalBus::new(64),
        Arc::new(MemoryAttachments::default()),
        AppConfig::default(),
        Arc::new(tokio::sync::Notify::new()),
    );
    let worker = Worker::new(storage.clone(), Arc::new(Jobs::new(app.clone())), clock.clone());

    // A shop whose bot hands off to its support team, auto-assigning: the
    // team's one agent is the only one who may get the conversation.
    let account = storage
        .create_account(NewAccount { name: "Harbour".into(), default_language: "en".into() }, clock.now())
        .await
        .unwrap()
        .id;
    let agent = |name: &str, role| NewAgent {
        name: name.into(),
        email: format!("{}@harbour.example", name.to_lowercase()),
        password: "a-long-password".into(),
        role,
        languages: vec!["en".into()],
    };
    let owner = app.create_user(account, agent("Owner", Role::Owner)).await.unwrap();
    app.create_user(account, agent("Outsider", Role::Agent)).await.unwrap();
    let member = app.create_user(account, agent("Member", Role::Agent)).await.unwrap();
    let actor = app.actor_from_token(&app.issue_token(&owner, "test").await.unwrap()).await.unwrap();
    let team = app.create_team(&actor, account, "Support", "").await.unwrap();
    app.set_team_members(&actor, account, team.id, &[member.id]).await.unwrap();
    let config =
        InboxConfig { bot_enabled: true, handoff_team_id: Some(team.id), auto_assign: true, ..InboxConfig::default() };
    let new = NewInboxInput { name: "Shop API".into(), channel: ChannelKind::Api, config };
    let inbox = app.create_inbox(&actor, account, new).await.unwrap();

    // The buyer asks for a person while the store refuses the hand-off.
    let body = serde_json::to_vec(&buyer_message("m-1", "ana", "I want to talk to a human")).unwrap();
    let sig = signature::sign(inbox.secret.as_bytes(), &body);
    let conv = app.ingest_api_webhook(inbox.id, Some(&sig), &body).await.unwrap().conversation.id;
    database.arm().await;
    assert_eq!(worker.drain().await.unwrap(), 1);
    database.disarm().await;
    let c = storage.get_conversation(account, conv).await.unwrap().unwrap();
    assert_eq!(c.status, Status::Bot, "the fault fired");

    // The retry, once its back-off has passed.
    clock.advance(Duration::minutes(5));
    assert_eq!(worker.drain().await.unwrap(), 1);
    assert_eq!(worker.drain().await.unwrap(), 0);

    let c = storage.get_conversation(account, conv).await.unwrap().unwrap();
    assert_eq!(c.status, Status::Open);
    assert_eq!((c.team_id, c.assignee_id), (Some(team.id), Some(member.id)));
    assert!(c.handoff_reason.is_some());
    let msgs = storage.list_messages(account, conv, None, 100).await.unwrap();
    let told: Vec<_> =
        msgs.iter().filter(|m| m.kind == MessageKind::Outgoing && m.sender == Sender::Bot).map(|m| m.text()).collect();
    assert_eq!(told.len(), 1, "one hand-off message to the buyer: {told:?}");
    let activity: Vec<_> = msgs.iter().filter(|m| m.kind == MessageKind::Activity).map(|m| m.text()).collect();
    assert!(activity.iter().any(|a| a.starts_with("Bot handed off")), "{activity:?}");
    assert!(activity.iter().any(|a| a == "Assigned to Member by the bot"), "{activity:?}");
    assert!(activity.iter().any(|a| a == "Team set to Support by the bot"), "{activity:?}");
}
