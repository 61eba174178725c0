//! The storage ceiling the intake benchmark compares against.

use crate::{SqliteStorage, db_err};
use chrono::Utc;
use ferry_core::ContactId;
use ferry_core::message::{ContentPart, Sender};
use ferry_storage::StorageResult;
use ferry_storage::rows::to_json;
use ferry_storage::search::{SeedContact, SeedConversation};
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

/// Seeds one account with an API inbox, `contacts` and `conversations`
/// into a fresh database at `path`, in large transactions on one
/// connection (the search benchmark's corpus). Returns the account id.
pub fn seed_search_corpus(
    path: &std::path::Path,
    contacts: &[SeedContact],
    conversations: impl Iterator<Item = SeedConversation>,
) -> StorageResult<i64> {
    let storage = SqliteStorage::open(crate::SqliteOptions::new(path))?;
    drop(storage);
    let mut conn = Connection::open(path).map_err(db_err)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;")
        .map_err(db_err)?;
    let now = ts(Utc::now());
    let tx = conn.transaction().map_err(db_err)?;
    tx.execute(
        "INSERT INTO accounts (name, default_language, created_at, updated_at) VALUES ('bench', 'en', ?1, ?1)",
        params![now],
    )
    .map_err(db_err)?;
    let account = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO inboxes (account_id, name, channel, secret, created_at, updated_at) \
         VALUES (?1, 'Bench', 'api', 'bench-secret', ?2, ?2)",
        params![account, now],
    )
    .map_err(db_err)?;
    let inbox = tx.last_insert_rowid();
    let mut contact_ids = Vec::with_capacity(contacts.len());
    {
        let mut st = tx
            .prepare_cached(
                "INSERT INTO contacts (account_id, name, email, phone, search, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )
            .map_err(db_err)?;
        for c in contacts {
            let search = ferry_storage::rows::contact_search_text(&c.name, Some(&c.email), Some(&c.phone), &[]);
            st.execute(params![account, c.name, c.email, c.phone, search, now]).map_err(db_err)?;
            contact_ids.push(tx.last_insert_rowid());
        }
    }
    tx.commit().map_err(db_err)?;
    let start = now - 365 * 24 * 3_600_000_000;
    let mut n: i64 = 0;
    let mut batch = Vec::new();
    let mut conversations = conversations.peekable();
    while conversations.peek().is_some() {
        batch.clear();
        batch.extend(conversations.by_ref().take(2_000));
        let tx = conn.transaction().map_err(db_err)?;
        {
            let mut conv = tx
                .prepare_cached(
                    "INSERT INTO conversations (account_id, inbox_id, contact_id, status, language, \
                     last_activity_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)",
                )
                .map_err(db_err)?;
            let mut msg = tx
                .prepare_cached(
                    "INSERT INTO messages (account_id, inbox_id, conversation_id, kind, sender, parts, search_text, \
                     sent_at, created_at, updated_at) VALUES (?1, ?2, ?3, 'incoming', ?4, ?5, ?6, ?7, ?7, ?7)",
                )
                .map_err(db_err)?;
            for c in &batch {
                let contact = contact_ids.get(c.contact % contact_ids.len().max(1)).copied().unwrap_or(0);
                let status = if n % 3 == 0 { "resolved" } else { "open" };
                conv.execute(params![account, inbox, contact, status, c.language, start + n * 30_000_000])
                    .map_err(db_err)?;
                let conv_id = tx.last_insert_rowid();
                let sender = to_json(&Sender::Contact(ContactId(contact)));
                for text in &c.texts {
                    n += 1;
                    let parts = to_json(&vec![ContentPart::Text { text: text.clone() }]);
                    msg.execute(params![
                        account,
                        inbox,
                        conv_id,
                        sender,
                        parts,
                        text.to_lowercase(),
                        start + n * 30_000_000
                    ])
                    .map_err(db_err)?;
                }
            }
        }
        tx.commit().map_err(db_err)?;
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(db_err)?;
    Ok(account)
}
