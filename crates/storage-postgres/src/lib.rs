//! The PostgreSQL backend.
//!
//! Every write method runs in one transaction on a pooled connection at
//! READ COMMITTED. Rows that a write reads and changes are locked first
//! (`SELECT … FOR UPDATE`), and intake serialises the deliveries that could
//! race on the same message or the same buyer with transaction-scoped
//! advisory locks, so several Ferry processes may share one database.
//! Needs PostgreSQL 13 or newer.

mod bench;
mod db;
mod migrate;

pub use db::Pg;
use ferry_storage::db::{Backend, DbFuture};
use ferry_storage::{CommitSink, StorageError, StorageResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use bench::seed_search_corpus;
pub use migrate::MIGRATIONS;

/// Connections a store opens at most.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The PostgreSQL storage.
#[derive(Clone)]
pub struct PostgresStorage {
    pool: PgPool,
    sink: Arc<RwLock<Option<CommitSink>>>,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage").field("connections", &self.pool.size()).finish()
    }
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://…`) with a pool of
    /// [`DEFAULT_MAX_CONNECTIONS`] and applies the migrations not yet
    /// applied.
    pub async fn connect(url: &str) -> StorageResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(db_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(DEFAULT_MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let storage = Self::from_pool(pool);
        storage.migrate().await?;
        Ok(storage)
    }

    /// Uses an existing pool as it is; call [`PostgresStorage::migrate`]
    /// unless the schema is known to be current.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool, sink: Arc::default() }
    }

    /// Applies the migrations not yet applied (safe to run from several
    /// processes at once: they take turns).
    pub async fn migrate(&self) -> StorageResult<()> {
        migrate::run(&self.pool).await
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Backend for PostgresStorage {
    type Db = Pg;
    const NAME: &'static str = "postgres";

    async fn read<T, F>(&self, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Pg) -> DbFuture<'a, T> + Send + 'static,
    {
        let mut db = Pg::Conn(self.pool.acquire().await.map_err(db_err)?);
        f(&mut db).await
    }

    async fn write<T, F>(&self, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Pg) -> DbFuture<'a, T> + Send + 'static,
    {
        let mut db = Pg::Tx(self.pool.begin().await.map_err(db_err)?, Vec::new());
        let out = f(&mut db).await?;
        if let Pg::Tx(tx, events) = db {
            tx.commit().await.map_err(db_err)?;
            if !events.is_empty() {
                let sink = self.sink.read().map(|s| s.clone()).unwrap_or(None);
                if let Some(sink) = sink {
                    sink(events);
                }
            }
        }
        Ok(out)
    }

    fn set_commit_sink(&self, sink: Option<CommitSink>) {
        if let Ok(mut s) = self.sink.write() {
            *s = sink;
        }
    }
}

/// Maps a database error: unique and foreign-key violations become
/// [`StorageError::Conflict`] named like the SQLite backend names them;
/// everything else is wrapped, never shown to clients.
pub(crate) fn db_err(e: sqlx::Error) -> StorageError {
    if let Some(d) = e.as_database_error() {
        let code = d.code();
        if matches!(code.as_deref(), Some("23505" | "23503")) {
            let constraint = d.constraint().map_or_else(|| "constraint".to_owned(), constraint_name);
            return StorageError::Conflict { constraint };
        }
    }
    StorageError::other(e)
}

/// The name a constraint has in `StorageError::Conflict` (`table.column`,
/// as SQLite reports it), from its PostgreSQL name.
fn constraint_name(pg: &str) -> String {
    match pg {
        "users_email" => "users.email".to_owned(),
        "teams_name" => "teams.name".to_owned(),
        "canned_responses_short_code" => "canned_responses.short_code".to_owned(),
        "contact_identities_unique" => "contact_identities".to_owned(),
        "messages_inbound_external" => "messages.external_id".to_owned(),
        "sessions_pkey" => "sessions.token_hash".to_owned(),
        "api_tokens_token_hash_key" => "api_tokens.token_hash".to_owned(),
        "team_members_pkey" => "team_members.user_id".to_owned(),
        other => match other.strip_suffix("_fkey") {
            // `<table>_<column>_fkey`: the column is the last `_id` word.
            Some(rest) => match rest.rfind('_').and_then(|i| rest[..i].rfind('_')) {
                Some(i) => format!("{}.{}", &rest[..i], &rest[i + 1..]),
                None => rest.to_owned(),
            },
            None => other.to_owned(),
        },
    }
}

/// Prefix of the databases [`fresh_test_database`] creates.
pub const TEST_DATABASE_PREFIX: &str = "ferry_t_";

/// Creates a uniquely named, empty database on the server of `admin_url`
/// (which must allow `CREATE DATABASE`) and returns its URL and a migrated
/// store on it. For tests: each test gets its own database, so tests run in
/// parallel. Remove it with [`drop_test_database`] (dropping forces a
/// checkpoint, so drop many at once rather than one after another).
pub async fn fresh_test_database(admin_url: &str) -> StorageResult<(String, PostgresStorage)> {
    let options = PgConnectOptions::from_str(admin_url).map_err(db_err)?;
    let mut admin = PgConnection::connect_with(&options).await.map_err(db_err)?;
    let name: String = sqlx::query_scalar("SELECT $1 || replace(gen_random_uuid()::text, '-', '')")
        .bind(TEST_DATABASE_PREFIX)
        .fetch_one(&mut admin)
        .await
        .map_err(db_err)?;
    // template0 is never connected to, so concurrent creations cannot fail
    // on a busy template.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{}\" TEMPLATE template0", test_database_name(&name)?)))
        .execute(&mut admin)
        .await
        .map_err(db_err)?;
    admin.close().await.map_err(db_err)?;
    let url = with_database(admin_url, &name)?;
    let storage = PostgresStorage::connect(&url).await?;
    Ok((url, storage))
}

/// Drops a database made by [`fresh_test_database`], closing its remaining
/// connections. Refuses any other database.
pub async fn drop_test_database(admin_url: &str, url: &str) -> StorageResult<()> {
    let parsed = url::Url::parse(url).map_err(StorageError::other)?;
    let name = test_database_name(parsed.path().trim_start_matches('/'))?;
    let options = PgConnectOptions::from_str(admin_url).map_err(db_err)?;
    let mut admin = PgConnection::connect_with(&options).await.map_err(db_err)?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .map_err(db_err)?;
    admin.close().await.map_err(db_err)
}

/// Checks that `name` is a test database's name (and so safe to quote).
fn test_database_name(name: &str) -> StorageResult<&str> {
    let ok = name.len() > TEST_DATABASE_PREFIX.len()
        && name.len() <= 63
        && name.starts_with(TEST_DATABASE_PREFIX)
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { Ok(name) } else { Err(StorageError::Corrupt(format!("`{name}` is not a Ferry test database"))) }
}

/// `url` pointing at database `name` instead (user, host and parameters
/// kept).
fn with_database(url: &str, name: &str) -> StorageResult<String> {
    let mut u = url::Url::parse(url).map_err(StorageError::other)?;
    u.set_path(&format!("/{name}"));
    Ok(u.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn constraint_names_follow_the_sqlite_backend() {
        assert_eq!(constraint_name("users_email"), "users.email");
        assert_eq!(constraint_name("teams_name"), "teams.name");
        assert_eq!(constraint_name("contact_identities_unique"), "contact_identities");
        assert_eq!(constraint_name("team_members_user_id_fkey"), "team_members.user_id");
        assert_eq!(constraint_name("contact_identities_contact_id_fkey"), "contact_identities.contact_id");
        assert_eq!(constraint_name("something_else"), "something_else");
    }

    #[test]
    fn test_database_urls_keep_everything_but_the_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "ferry_t_ab").unwrap(),
            "postgres://postgres@127.0.0.1:5432/ferry_t_ab"
        );
        assert_eq!(
            with_database("postgres://u:p@db/test?sslmode=disable", "ferry_t_ab").unwrap(),
            "postgres://u:p@db/ferry_t_ab?sslmode=disable"
        );
        assert_eq!(with_database("postgres://db:5432", "ferry_t_1").unwrap(), "postgres://db:5432/ferry_t_1");
    }

    #[test]
    fn only_test_databases_may_be_dropped() {
        assert!(test_database_name("ferry_t_0af3").is_ok());
        assert!(test_database_name("ferry").is_err());
        assert!(test_database_name("ferry_t_").is_err());
        assert!(test_database_name("ferry_t_x\"; DROP").is_err());
    }
}
