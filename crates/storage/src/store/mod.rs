//! The repositories written once over [`Db`]: every [`Backend`] is a
//! [`Storage`]. Each module holds one feature's queries, row mapping and
//! transaction scripts.

pub(crate) mod accounts;
mod alerts;
mod amazon;
mod audit;
mod bot;
mod campaigns;
mod canned;
mod channel_state;
mod commerce;
mod contacts;
mod conversations;
mod echoes;
mod inboxes;
pub(crate) mod insights;
mod intake;
mod jobs;
mod journeys;
mod merges;
mod messages;
mod notices;
mod opt_outs;
pub(crate) mod outbox;
mod platform;
mod privacy;
mod products;
pub(crate) mod profiles;
mod search;
pub(crate) mod security;
mod stock;

pub(crate) use insights::record_rating;

use crate::db::{Arg, Backend, Db};
use crate::error::{StorageError, StorageResult};
use crate::repo::Storage;
use async_trait::async_trait;

#[async_trait]
impl<B: Backend> Storage for B {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    async fn ping(&self) -> StorageResult<()> {
        self.read(|db| Box::pin(async move { db.rows("SELECT 1", Vec::new()).await.map(drop) })).await
    }
}

/// `NotFound` unless the contact and row `id` of `table` (a table of this
/// crate's, with `account_id`) are both the account's.
pub(crate) async fn contact_and_row_are_the_accounts<D: Db>(
    db: &mut D,
    account: ferry_core::AccountId,
    contact: ferry_core::ContactId,
    table: &'static str,
    id: i64,
) -> StorageResult<()> {
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM contacts WHERE account_id = $1 AND id = $2), \
         (SELECT COUNT(*) FROM {table} WHERE account_id = $1 AND id = $3)"
    );
    let owned = db.row(&sql, crate::args![account.0, contact.0, id]).await?.ok_or(StorageError::NotFound)?;
    if owned.count(0)? == 0 || owned.count(1)? == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

/// Runs an `INSERT … RETURNING id`.
pub(crate) async fn insert<D: Db>(db: &mut D, sql: &str, args: Vec<Arg>) -> StorageResult<i64> {
    db.row(sql, args).await?.ok_or(StorageError::NotFound)?.int(0)
}

/// A statement built piece by piece, numbering its parameters.
#[derive(Debug, Default)]
struct Query {
    sql: String,
    args: Vec<Arg>,
}

impl Query {
    fn new(sql: impl Into<String>) -> Self {
        Self { sql: sql.into(), args: Vec::new() }
    }

    /// Appends text.
    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds a value and appends its placeholder.
    fn bind(&mut self, a: impl Into<Arg>) -> &mut Self {
        self.args.push(a.into());
        self.sql.push_str(&format!("${}", self.args.len()));
        self
    }
}
