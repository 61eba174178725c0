//! The seam between the repositories and a database: a handful of
//! primitive operations ([`Db`]) that each backend implements over its own
//! driver, and the way a backend runs a unit of work ([`Backend`]). Every
//! repository method is written once over these (see `store`), so both
//! backends share their transaction logic, query text and row mapping;
//! where the dialects differ the backend supplies the fragment.
//!
//! Query text uses PostgreSQL's numbered parameters (`$1`); the SQLite
//! backend rewrites them to `?1`.

use crate::error::{StorageError, StorageResult};
use chrono::{DateTime, Utc};
use ferry_core::event::EventEnvelope;
use std::future::Future;
use std::pin::Pin;

/// A value bound to a statement parameter. Each backend stores it in its
/// own column type (times as microseconds in SQLite, `TIMESTAMPTZ` in
/// PostgreSQL; JSON as text or `JSONB`; lists as a JSON array or an array).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A 64-bit integer or NULL.
    Int(Option<i64>),
    /// Text or NULL.
    Text(Option<String>),
    /// A flag.
    Bool(bool),
    /// A point in time or NULL.
    Time(Option<DateTime<Utc>>),
    /// A JSON document.
    Json(serde_json::Value),
    /// A list of integers, for `IN` over [`Db::list`].
    Ints(Vec<i64>),
    /// A list of texts, for `IN` over [`Db::list`].
    Texts(Vec<String>),
}

impl Arg {
    /// A JSON document of any serialisable value.
    pub fn json<T: serde::Serialize + ?Sized>(v: &T) -> Self {
        // Serialising our own plain types cannot fail.
        Arg::Json(serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<u32> for Arg {
    fn from(v: u32) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(Some(v))
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::Time(v)
    }
}
impl From<Vec<i64>> for Arg {
    fn from(v: Vec<i64>) -> Self {
        Arg::Ints(v)
    }
}
impl From<Vec<String>> for Arg {
    fn from(v: Vec<String>) -> Self {
        Arg::Texts(v)
    }
}

/// Statement parameters: `args![a, b, c]` binds `$1`, `$2`, `$3`.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$($crate::db::Arg::from($a)),*] };
}

/// One column of a result row, as the backend read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer (also SQLite's times and flags).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text (also JSON documents, as text).
    Text(String),
    /// A flag.
    Bool(bool),
    /// A point in time.
    Time(DateTime<Utc>),
}

/// A result row; columns are read by position, in the order selected.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Cell>);

fn bad(i: usize, want: &str, got: &Cell) -> StorageError {
    StorageError::Corrupt(format!("column {i}: expected {want}, found {got:?}"))
}

impl Row {
    fn cell(&self, i: usize) -> StorageResult<&Cell> {
        self.0.get(i).ok_or_else(|| StorageError::Corrupt(format!("column {i} missing")))
    }

    /// An integer column.
    pub fn int(&self, i: usize) -> StorageResult<i64> {
        self.opt_int(i)?.ok_or_else(|| bad(i, "an integer", &Cell::Null))
    }

    /// A nullable integer column.
    pub fn opt_int(&self, i: usize) -> StorageResult<Option<i64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            other => Err(bad(i, "an integer", other)),
        }
    }

    /// A count or size column.
    pub fn count(&self, i: usize) -> StorageResult<u64> {
        Ok(u64::try_from(self.int(i)?).unwrap_or(0))
    }

    /// A text column.
    pub fn text(&self, i: usize) -> StorageResult<String> {
        self.opt_text(i)?.ok_or_else(|| bad(i, "text", &Cell::Null))
    }

    /// A nullable text column.
    pub fn opt_text(&self, i: usize) -> StorageResult<Option<String>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v.clone())),
            other => Err(bad(i, "text", other)),
        }
    }

    /// A JSON column, parsed.
    pub fn json<T: serde::de::DeserializeOwned>(&self, i: usize, what: &str) -> StorageResult<T> {
        crate::rows::json(what, &self.text(i)?)
    }

    /// A flag column (an integer in SQLite).
    pub fn flag(&self, i: usize) -> StorageResult<bool> {
        match self.cell(i)? {
            Cell::Bool(v) => Ok(*v),
            Cell::Int(v) => Ok(*v != 0),
            other => Err(bad(i, "a flag", other)),
        }
    }

    /// A time column (microseconds since the epoch in SQLite).
    pub fn time(&self, i: usize) -> StorageResult<DateTime<Utc>> {
        self.opt_time(i)?.ok_or_else(|| bad(i, "a time", &Cell::Null))
    }

    /// A nullable time column.
    pub fn opt_time(&self, i: usize) -> StorageResult<Option<DateTime<Utc>>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Time(t) => Ok(Some(*t)),
            Cell::Int(v) => Ok(Some(DateTime::from_timestamp_micros(*v).unwrap_or_default())),
            other => Err(bad(i, "a time", other)),
        }
    }
}

/// How a read inside a write locks the row it returns (PostgreSQL; SQLite
/// has one writer and needs no row locks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// The row will be rewritten by this transaction.
    Update,
    /// The row will change, but not its key: rows referring to it may
    /// still be inserted meanwhile.
    NoKeyUpdate,
    /// The row must stay (not be deleted or re-keyed) until the end.
    KeyShare,
    /// Locked for update, skipping rows other transactions hold.
    SkipLocked,
}

/// The primitive operations of a backend on one connection, inside the
/// unit of work the [`Backend`] runs. (SQLite's futures are ready when
/// first polled: its writer thread runs them without an async runtime.)
pub trait Db: Send {
    /// Runs a statement; returns how many rows it changed.
    fn exec(&mut self, sql: &str, args: Vec<Arg>) -> impl Future<Output = StorageResult<u64>> + Send;

    /// Runs a query; returns its rows.
    fn rows(&mut self, sql: &str, args: Vec<Arg>) -> impl Future<Output = StorageResult<Vec<Row>>> + Send;

    /// Runs a query; returns its first row.
    fn row(&mut self, sql: &str, args: Vec<Arg>) -> impl Future<Output = StorageResult<Option<Row>>> + Send {
        async move { Ok(self.rows(sql, args).await?.into_iter().next()) }
    }

    /// Waits for the transaction-scoped locks named by `keys`, taken in key
    /// order (serialises writers that could race on rows not yet
    /// inserted). A no-op where writes are serial anyway.
    fn serialize_on(&mut self, keys: Vec<i64>) -> impl Future<Output = StorageResult<()>> + Send;

    /// The clause that locks the rows a `SELECT` returns (may be empty).
    fn lock(&self, lock: Lock) -> &'static str;

    /// The collation clause that orders text byte-wise (may be empty).
    fn bytewise(&self) -> &'static str;

    /// A table expression (aliased `t`, one column `value`) over the
    /// elements of a JSON array column `expr`.
    fn json_elements(&self, expr: &str) -> String;

    /// A table expression (aliased `t`, one column `value`) over the
    /// elements of a list parameter ([`Arg::Ints`], [`Arg::Texts`]).
    fn list(&self, param: &str) -> String;

    /// Keeps an event this unit of work appended to the outbox, to be
    /// handed to the commit sink once (and only if) it commits.
    fn record_event(&mut self, event: EventEnvelope);
}

/// A boxed unit of work on a [`Db`].
pub type DbFuture<'a, T> = Pin<Box<dyn Future<Output = StorageResult<T>> + Send + 'a>>;

/// A backend: where units of work run. Every type that is a backend is a
/// whole [`crate::Storage`].
pub trait Backend: Send + Sync + 'static {
    /// The connection a unit of work gets.
    type Db: Db + 'static;

    /// The backend's name (`sqlite`, `postgres`).
    const NAME: &'static str;

    /// Runs `f` with a connection that only reads.
    fn read<T, F>(&self, f: F) -> impl Future<Output = StorageResult<T>> + Send
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Self::Db) -> DbFuture<'a, T> + Send + 'static;

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled
    /// back otherwise.
    fn write<T, F>(&self, f: F) -> impl Future<Output = StorageResult<T>> + Send
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Self::Db) -> DbFuture<'a, T> + Send + 'static;

    /// Where the events of committed writes go from now on.
    fn set_commit_sink(&self, sink: Option<crate::repo::CommitSink>);
}

/// Stable 64-bit key of a lock for [`Db::serialize_on`] (FNV-1a over
/// `parts`), the same in every process and every Ferry version.
pub fn lock_key(parts: &[&str]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (n, p) in parts.iter().enumerate() {
        if n > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// `n` rows changed, or `NotFound` when none.
pub fn found(n: u64) -> StorageResult<()> {
    if n == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}

/// Renames any uniqueness conflict of a write to `constraint`.
pub fn conflict_as<T>(r: StorageResult<T>, constraint: &str) -> StorageResult<T> {
    r.map_err(|e| match e {
        StorageError::Conflict { .. } => StorageError::Conflict { constraint: constraint.to_owned() },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_separate_their_parts() {
        assert_eq!(lock_key(&[]), i64::from_ne_bytes(0xcbf2_9ce4_8422_2325u64.to_ne_bytes()));
        assert_eq!(lock_key(&["a", "bc"]), lock_key(&["a", "bc"]));
        assert_ne!(lock_key(&["a", "bc"]), lock_key(&["ab", "c"]));
    }

    #[test]
    fn rows_read_sqlite_and_postgres_cells_alike() {
        let t = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let lite = Row(vec![Cell::Int(t.timestamp_micros()), Cell::Int(1), Cell::Null]);
        let pg = Row(vec![Cell::Time(t), Cell::Bool(true), Cell::Null]);
        for r in [lite, pg] {
            assert_eq!(r.time(0).unwrap(), t);
            assert!(r.flag(1).unwrap());
            assert_eq!(r.opt_time(2).unwrap(), None);
            assert!(r.text(2).is_err());
        }
    }
}
