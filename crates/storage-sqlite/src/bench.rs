//! The storage ceiling the intake benchmark compares against.

use crate::{SqliteStorage, db_err};
use chrono::Utc;
use ferry_core::ContactId;
use ferry_core::message::{ContentPart, Sender};
use ferry_storage::StorageResult;
use ferry_storage::rows::to_json;
use rusqlite::{Connection, params};

fn ts(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The storage ceiling for the intake benchmark: inserts `n` message rows
/// plus one outbox row each into a fresh database at `path`, `batch` per
/// transaction, on one connection with cached statements, and returns rows
/// per second. Same durability as the server.
pub fn batched_insert_ceiling(
    path: &std::path::Path,
    n: usize,
    batch: usize,
    durability: crate::Durability,
) -> StorageResult<f64> {
    let storage = SqliteStorage::open(crate::SqliteOptions { durability, ..crate::SqliteOptions::new(path) })?;
    drop(storage);
    let conn = Connection::open(path).map_err(db_err)?;
    let sync = match durability {
        crate::Durability::Full => "FULL",
        crate::Durability::Normal => "NORMAL",
    };
    conn.execute_batch(&format!("PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = OFF;"))
        .map_err(db_err)?;
    let now = ts(Utc::now());
    conn.execute(
        "INSERT INTO accounts (name, default_language, created_at, updated_at) VALUES ('bench', 'en', ?1, ?1)",
        params![now],
    )
    .map_err(db_err)?;
    let parts = to_json(&vec![ContentPart::Text { text: "Where is my order #1001? It has been two weeks.".into() }]);
    let sender = to_json(&Sender::Contact(ContactId(1)));
    let start = std::time::Instant::now();
    let mut done = 0usize;
    while done < n {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        {
            let mut m = conn
                .prepare_cached(
                    "INSERT INTO messages (account_id, inbox_id, conversation_id, kind, sender, parts, search_text, external_id, sent_at, created_at, updated_at) \
                     VALUES (1, 1, 1, 'incoming', ?1, ?2, ?3, ?4, ?5, ?5, ?5)",
                )
                .map_err(db_err)?;
            let mut o = conn
                .prepare_cached("INSERT INTO outbox (account_id, kind, payload, created_at, updated_at) VALUES (1, 'message_created', ?1, ?2, ?2)")
                .map_err(db_err)?;
            for i in done..(done + batch).min(n) {
                m.execute(params![
                    sender,
                    parts,
                    "Where is my order #1001? It has been two weeks.",
                    format!("ext-{i}"),
                    now
                ])
                .map_err(db_err)?;
                o.execute(params![parts, now]).map_err(db_err)?;
            }
        }
        conn.execute_batch("COMMIT").map_err(db_err)?;
        done = (done + batch).min(n);
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}
