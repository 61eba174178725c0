//! The primitive operations on one PostgreSQL connection: inside a
//! transaction for writes, on a pooled connection for reads.

use crate::db_err;
use ferry_core::event::EventEnvelope;
use ferry_storage::StorageResult;
use ferry_storage::db::{Arg, Cell, Db, Lock, Row};
use ferry_storage::rows::to_json;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Column, PgConnection, Postgres, Row as _, Transaction, TypeInfo, ValueRef};

/// A pooled connection, or a transaction on one.
pub enum Pg {
    /// Reads.
    Conn(PoolConnection<Postgres>),
    /// A unit of work that commits, with the events it appended.
    Tx(Transaction<'static, Postgres>, Vec<EventEnvelope>),
}

impl Pg {
    fn conn(&mut self) -> &mut PgConnection {
        match self {
            Pg::Conn(c) => c,
            Pg::Tx(t, _) => t,
        }
    }
}

/// `s` without NUL characters, which PostgreSQL text cannot hold.
pub fn no_nul(s: String) -> String {
    if s.contains('\0') { s.replace('\0', "\u{fffd}") } else { s }
}

/// A JSON value whose strings and keys hold no NUL characters.
fn scrub_nul(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(no_nul(s)),
        Value::Array(a) => Value::Array(a.into_iter().map(scrub_nul).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (no_nul(k), scrub_nul(v))).collect()),
        other => other,
    }
}

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bind(q: Query<'_>, a: Arg) -> Query<'_> {
    match a {
        Arg::Int(v) => q.bind(v),
        Arg::Text(v) => q.bind(v.map(no_nul)),
        Arg::Bool(v) => q.bind(v),
        Arg::Time(v) => q.bind(v),
        Arg::Json(v) if to_json(&v).contains("\\u0000") => q.bind(Json(scrub_nul(v))),
        Arg::Json(v) => q.bind(Json(v)),
        Arg::Ints(v) => q.bind(v),
        Arg::Texts(v) => q.bind(v.into_iter().map(no_nul).collect::<Vec<_>>()),
    }
}

fn query(sql: &str, args: Vec<Arg>) -> Query<'_> {
    args.into_iter().fold(sqlx::query(AssertSqlSafe(sql)), bind)
}

fn cell(r: &PgRow, i: usize) -> Result<Cell, sqlx::Error> {
    if r.try_get_raw(i)?.is_null() {
        return Ok(Cell::Null);
    }
    Ok(match r.column(i).type_info().name() {
        "INT8" => Cell::Int(r.try_get(i)?),
        "INT4" => Cell::Int(i64::from(r.try_get::<i32, _>(i)?)),
        "INT2" => Cell::Int(i64::from(r.try_get::<i16, _>(i)?)),
        "BOOL" => Cell::Bool(r.try_get(i)?),
        "FLOAT8" => Cell::Real(r.try_get(i)?),
        "TIMESTAMPTZ" => Cell::Time(r.try_get(i)?),
        "JSON" | "JSONB" => Cell::Text(r.try_get::<Json<serde_json::Value>, _>(i)?.0.to_string()),
        _ => Cell::Text(r.try_get(i)?),
    })
}

impl Db for Pg {
    async fn exec(&mut self, sql: &str, args: Vec<Arg>) -> StorageResult<u64> {
        Ok(query(sql, args).execute(self.conn()).await.map_err(db_err)?.rows_affected())
    }

    async fn rows(&mut self, sql: &str, args: Vec<Arg>) -> StorageResult<Vec<Row>> {
        let rows = query(sql, args).fetch_all(self.conn()).await.map_err(db_err)?;
        let row = |r: &PgRow| (0..r.len()).map(|i| cell(r, i)).collect::<Result<_, _>>().map(Row);
        rows.iter().map(row).collect::<Result<_, _>>().map_err(db_err)
    }

    // Transaction-scoped advisory locks, in key order so that two
    // transactions taking overlapping sets never wait on each other in a
    // circle.
    async fn serialize_on(&mut self, mut keys: Vec<i64>) -> StorageResult<()> {
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(k).execute(self.conn()).await.map_err(db_err)?;
        }
        Ok(())
    }

    fn lock(&self, lock: Lock) -> &'static str {
        match lock {
            Lock::None => "",
            Lock::Update => " FOR UPDATE",
            Lock::NoKeyUpdate => " FOR NO KEY UPDATE",
            Lock::KeyShare => " FOR KEY SHARE",
            Lock::SkipLocked => " FOR UPDATE SKIP LOCKED",
        }
    }

    // Byte-wise, as in SQLite, whatever the database's locale.
    fn bytewise(&self) -> &'static str {
        " COLLATE \"C\""
    }

    fn json_elements(&self, expr: &str) -> String {
        format!("jsonb_array_elements_text({expr}) AS t(value)")
    }

    fn list(&self, param: &str) -> String {
        format!("unnest({param}) AS t(value)")
    }

    fn record_event(&mut self, event: EventEnvelope) {
        // Reads append nothing.
        if let Pg::Tx(_, events) = self {
            events.push(event);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn nul_characters_never_reach_postgres() {
        let v = serde_json::json!({"a\u{0}": ["x\u{0}y", 1, {"k": "\u{0}"}], "plain": "\\u0000"});
        // An escaped backslash followed by `u0000` is not a NUL and stays.
        let want = serde_json::json!({"a\u{fffd}": ["x\u{fffd}y", 1, {"k": "\u{fffd}"}], "plain": "\\u0000"});
        assert_eq!(scrub_nul(v), want);
        assert_eq!(no_nul("plain".into()), "plain");
    }
}
