//! The primitive operations on one SQLite connection. They run
//! synchronously, so every future they return is ready when first polled.

use crate::db_err;
use ferry_core::event::EventEnvelope;
use ferry_storage::db::{Arg, Cell, Db, Lock, Row};
use ferry_storage::{StorageError, StorageResult};
use rusqlite::Connection;
use rusqlite::types::{Value, ValueRef};
use std::borrow::Cow;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// A connection, owned by the writer thread or the reader pool, with the
/// events the running write appended.
pub struct Lite(pub(crate) Connection, pub(crate) Vec<EventEnvelope>);

/// `$1` placeholders as SQLite numbers them (`?1`). The shared query text
/// holds `$` nowhere else.
fn numbered(sql: &str) -> Cow<'_, str> {
    if sql.contains('$') { Cow::Owned(sql.replace('$', "?")) } else { Cow::Borrowed(sql) }
}

fn value(a: Arg) -> Value {
    match a {
        Arg::Int(v) => v.map_or(Value::Null, Value::Integer),
        Arg::Text(v) => v.map_or(Value::Null, Value::Text),
        Arg::Bool(b) => Value::Integer(i64::from(b)),
        Arg::Time(t) => t.map_or(Value::Null, |t| Value::Integer(t.timestamp_micros())),
        Arg::Json(v) => Value::Text(v.to_string()),
        Arg::Ints(v) => Value::Text(ferry_storage::rows::to_json(&v)),
        Arg::Texts(v) => Value::Text(ferry_storage::rows::to_json(&v)),
    }
}

fn cell(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

impl Lite {
    fn run_exec(&mut self, sql: &str, args: Vec<Arg>) -> StorageResult<u64> {
        let mut st = self.0.prepare_cached(&numbered(sql)).map_err(db_err)?;
        let n = st.execute(rusqlite::params_from_iter(args.into_iter().map(value))).map_err(db_err)?;
        Ok(n as u64)
    }

    fn run_rows(&mut self, sql: &str, args: Vec<Arg>) -> StorageResult<Vec<Row>> {
        let mut st = self.0.prepare_cached(&numbered(sql)).map_err(db_err)?;
        let width = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(args.into_iter().map(value))).map_err(db_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db_err)? {
            let cells = (0..width).map(|i| r.get_ref(i).map(cell)).collect::<Result<_, _>>().map_err(db_err)?;
            out.push(Row(cells));
        }
        Ok(out)
    }
}

impl Db for Lite {
    async fn exec(&mut self, sql: &str, args: Vec<Arg>) -> StorageResult<u64> {
        self.run_exec(sql, args)
    }

    async fn rows(&mut self, sql: &str, args: Vec<Arg>) -> StorageResult<Vec<Row>> {
        self.run_rows(sql, args)
    }

    // One writer: writes never race.
    async fn serialize_on(&mut self, _keys: Vec<i64>) -> StorageResult<()> {
        Ok(())
    }

    fn lock(&self, _lock: Lock) -> &'static str {
        ""
    }

    // SQLite compares text byte-wise by default.
    fn bytewise(&self) -> &'static str {
        ""
    }

    fn json_elements(&self, expr: &str) -> String {
        format!("json_each({expr}) AS t")
    }

    fn list(&self, param: &str) -> String {
        format!("json_each({param}) AS t")
    }

    fn record_event(&mut self, event: EventEnvelope) {
        self.1.push(event);
    }
}

/// The result of a unit of work on SQLite, which never waits.
pub(crate) fn ready<T>(f: impl Future<Output = StorageResult<T>>) -> StorageResult<T> {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => Err(StorageError::Corrupt("a SQLite statement waited".into())),
    }
}
