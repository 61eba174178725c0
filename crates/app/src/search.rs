//! One search box over contacts, messages and orders for the console, through the
//! [`SearchIndex`] of the store (tantivy beside SQLite, full text in
//! PostgreSQL), with highlighted snippets and filters; and the indexer that
//! keeps the embedded index current.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_core::AccountId;
use ferry_core::contact::Contact;
use ferry_core::event::Event;
use ferry_core::message::Message;
use ferry_search::MessageQuery;
pub use ferry_search::{MessageFilter, SearchError, SearchIndex, Snippet, SnippetPart};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A message found, with where it matched.
#[derive(Debug, Clone)]
pub struct FoundMessage {
    /// The message.
    pub message: Message,
    /// Its text around the matches, matches marked.
    pub snippet: Snippet,
}

/// A contact found, with where it matched.
#[derive(Debug, Clone)]
pub struct FoundContact {
    /// The contact.
    pub contact: Contact,
    /// Its name, e-mail, phone and identities, matches marked.
    pub snippet: Snippet,
}

/// An order found, with where it matched.
#[derive(Debug, Clone)]
pub struct FoundOrder {
    /// The order with its shipments and refunds.
    pub order: ferry_storage::StoredOrder,
    /// Its name, number, buyer, SKUs, titles and tracking numbers, matches
    /// marked.
    pub snippet: Snippet,
}

/// What the search box found.
#[derive(Debug, Clone, Default)]
pub struct SearchHits {
    /// Contacts whose name, e-mail, phone or identity matches, newest first.
    pub contacts: Vec<FoundContact>,
    /// Messages and notes whose text matches, newest first.
    pub messages: Vec<FoundMessage>,
    /// Orders whose name, number, buyer, SKUs, titles or tracking numbers
    /// match, newest first.
    pub orders: Vec<FoundOrder>,
}

impl From<SearchError> for AppError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Storage(e) => e.into(),
            e @ SearchError::Index(_) => AppError::internal("searching", e),
        }
    }
}

impl App {
    /// Searches contacts, messages and orders of the account; the filters
    /// apply to messages.
    #[tracing::instrument(skip_all, fields(account_id = account.0))]
    pub async fn search(
        &self,
        actor: &Actor,
        account: AccountId,
        q: &str,
        limit: u32,
        filter: MessageFilter,
    ) -> AppResult<SearchHits> {
        actor.in_account(account)?;
        actor.can_view()?;
        let q = q.trim();
        if q.is_empty() || q.chars().count() > 200 {
            return Err(AppError::invalid("q", "search for 1 to 200 characters"));
        }
        if let (Some(from), Some(until)) = (filter.from, filter.until)
            && from >= until
        {
            return Err(AppError::invalid("from", "the range must start before it ends"));
        }
        let limit = limit.clamp(1, 50);
        // What was committed before this search is found by it.
        self.search_index.catch_up().await?;
        let query = MessageQuery { account, q: q.to_owned(), filter, limit };
        let message_hits = self.search_index.messages(&query).await?;
        let contact_hits = self.search_index.contacts(account, q, limit).await?;
        let order_hits = self.search_index.orders(account, q, limit).await?;

        let ids = message_hits.iter().map(|h| h.id.0).collect();
        let mut docs: HashMap<_, _> = self
            .storage
            .message_docs(ids)
            .await?
            .into_iter()
            .filter(|d| d.message.account_id == account)
            .map(|d| (d.message.id, d.message))
            .collect();
        let messages = message_hits
            .into_iter()
            .filter_map(|h| docs.remove(&h.id).map(|message| FoundMessage { message, snippet: h.snippet }))
            .collect();
        let ids = contact_hits.iter().map(|h| h.id.0).collect();
        let mut people: HashMap<_, _> = self
            .storage
            .contacts_by_ids(ids)
            .await?
            .into_iter()
            .filter(|c| c.account_id == account)
            .map(|c| (c.id, c))
            .collect();
        let contacts = contact_hits
            .into_iter()
            .filter_map(|h| people.remove(&h.id).map(|contact| FoundContact { contact, snippet: h.snippet }))
            .collect();
        let ids = order_hits.iter().map(|h| h.id.0).collect();
        let mut found: HashMap<_, _> = self
            .storage
            .order_docs(ids)
            .await?
            .into_iter()
            .filter(|d| d.account_id == account)
            .map(|d| (d.order.id, d.order))
            .collect();
        let orders = order_hits
            .into_iter()
            .filter_map(|h| found.remove(&h.id).map(|order| FoundOrder { order, snippet: h.snippet }))
            .collect();
        Ok(SearchHits { contacts, messages, orders })
    }

    /// Rebuilds the search index from the store; returns how many
    /// documents it holds (0 where the store searches itself).
    pub async fn rebuild_search_index(&self) -> AppResult<u64> {
        Ok(self.search_index.rebuild().await?)
    }

    /// Keeps the search index current, forever: catches up at start, when
    /// an event that changes what search finds is published, and at least
    /// every `poll` (writes of other processes, missed events).
    pub async fn run_search_indexer(self: Arc<Self>, poll: Duration) {
        let mut events = self.bus.subscribe();
        loop {
            if let Err(e) = self.search_index.catch_up().await {
                tracing::error!(error = %e, "catching up the search index failed");
            }
            let deadline = tokio::time::sleep(poll);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    e = events.recv() => match e {
                        Ok(e) if changes_search(&e.event) => break,
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        }
    }
}

/// Whether an event may change what search finds.
fn changes_search(e: &Event) -> bool {
    matches!(
        e,
        Event::MessageCreated { .. }
            | Event::MessageUpdated { .. }
            | Event::ConversationUpdated { .. }
            | Event::ConversationCreated { .. }
            | Event::ContactCreated { .. }
            | Event::ContactUpdated { .. }
    )
}
