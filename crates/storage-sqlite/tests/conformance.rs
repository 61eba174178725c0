//! The storage conformance suite on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferry_storage::Storage;
use ferry_storage_sqlite::{SqliteOptions, SqliteStorage};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    ferry_storage::conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = dir.path().join(format!("db{n}.sqlite"));
        async move { Arc::new(SqliteStorage::open(SqliteOptions::new(path)).unwrap()) as Arc<dyn Storage> }
    })
    .await;
}

#[tokio::test]
async fn reopening_keeps_data_and_skips_applied_migrations() {
    use ferry_storage::{AccountRepo, NewAccount};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.sqlite");
    let id = {
        let s = SqliteStorage::open(SqliteOptions::new(&path)).unwrap();
        s.create_account(NewAccount { name: "A".into(), default_language: "en".into() }, chrono::Utc::now())
            .await
            .unwrap()
            .id
    };
    let s = SqliteStorage::open(SqliteOptions::new(&path)).unwrap();
    assert_eq!(s.get_account(id).await.unwrap().map(|a| a.name), Some("A".into()));
}
