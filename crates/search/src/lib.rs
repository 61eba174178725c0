//! Search over an account's messages, contacts and orders.
//!
//! [`SearchIndex`] is what the use cases call. Two implementations:
//! [`TantivyIndex`], an index on disk beside the embedded SQLite database,
//! kept current from the store's change journal (idempotent: it keeps its
//! checkpoint in the index's own commits and replays from there), and
//! [`StoreSearch`], which asks PostgreSQL's full-text and trigram indexes
//! directly. Both return ids with highlighted snippets.

mod analysis;
mod highlight;
mod store_search;
mod tantivy_index;

pub use analysis::language_of;
pub use highlight::{Snippet, SnippetPart};
pub use store_search::StoreSearch;
pub use tantivy_index::TantivyIndex;

use async_trait::async_trait;
use ferry_core::{AccountId, ContactId, ConversationId, MessageId, OrderId};
pub use ferry_storage::search::MessageFilter;
use ferry_storage::{Storage, StorageError};
use std::sync::Arc;

/// Search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Reading the store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The index failed (disk, corruption, another process holds it).
    #[error("search index: {0}")]
    Index(String),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Index(e.to_string())
    }
}

/// A search over messages.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageQuery {
    /// Whose messages.
    pub account: AccountId,
    /// The words to find.
    pub q: String,
    /// Which messages.
    pub filter: MessageFilter,
    /// Most hits.
    pub limit: u32,
}

/// A message found.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageHit {
    /// The message.
    pub id: MessageId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Where it matched.
    pub snippet: Snippet,
}

/// A contact found.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactHit {
    /// The contact.
    pub id: ContactId,
    /// Where it matched (name, e-mail, phone or identities).
    pub snippet: Snippet,
}

/// An order found.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderHit {
    /// The order.
    pub id: OrderId,
    /// Where it matched (name, number, buyer, SKUs, titles, tracking).
    pub snippet: Snippet,
}

/// An account-scoped search over messages, contacts and orders.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Messages (not activity lines) with every word of the query, newest
    /// first.
    async fn messages(&self, q: &MessageQuery) -> Result<Vec<MessageHit>, SearchError>;
    /// Contacts whose name, e-mail, phone or identities have every word of
    /// `q`, newest first.
    async fn contacts(&self, account: AccountId, q: &str, limit: u32) -> Result<Vec<ContactHit>, SearchError>;
    /// Orders of the shop mirror whose name, number, buyer, SKUs, product
    /// titles or tracking numbers have every word (or part of a word) of
    /// `q`, newest first.
    async fn orders(&self, account: AccountId, q: &str, limit: u32) -> Result<Vec<OrderHit>, SearchError>;
    /// Brings the index up to date with the store; returns how many
    /// changes it applied. Searches right after a commit call this first.
    async fn catch_up(&self) -> Result<u64, SearchError>;
    /// Rebuilds the index from the store; returns how many documents it
    /// holds.
    async fn rebuild(&self) -> Result<u64, SearchError>;
    /// Which implementation (`tantivy`, `postgres`).
    fn kind(&self) -> &'static str;
}

/// The index for a store: PostgreSQL searches its own tables; SQLite gets
/// a tantivy index in `dir` (in memory when `None`, rebuilt at first use).
pub fn for_storage(storage: Arc<dyn Storage>, dir: Option<std::path::PathBuf>) -> Arc<dyn SearchIndex> {
    if storage.backend() == "postgres" {
        Arc::new(StoreSearch::new(storage))
    } else {
        Arc::new(TantivyIndex::new(storage, dir))
    }
}
