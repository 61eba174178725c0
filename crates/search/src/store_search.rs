//! Search on PostgreSQL: the store's full-text and trigram indexes answer,
//! snippets are cut here. Always current: there is nothing to catch up.

use crate::highlight::{QueryWords, snippet};
use crate::{ContactHit, MessageHit, MessageQuery, OrderHit, SearchError, SearchIndex};
use async_trait::async_trait;
use ferry_core::AccountId;
use ferry_core::contact::Contact;
use ferry_storage::Storage;
use std::sync::Arc;

/// Search through the store's own indexes.
pub struct StoreSearch {
    storage: Arc<dyn Storage>,
}

impl StoreSearch {
    /// Searches `storage`.
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self { storage }
    }
}

/// The text a contact is found by.
pub(crate) fn contact_text(c: &Contact) -> String {
    let mut parts = vec![c.name.clone()];
    parts.extend(c.email.iter().cloned());
    parts.extend(c.phone.iter().cloned());
    for i in &c.identities {
        if !parts.contains(&i.value) {
            parts.push(i.value.clone());
        }
    }
    parts.join(" · ")
}

#[async_trait]
impl SearchIndex for StoreSearch {
    async fn messages(&self, q: &MessageQuery) -> Result<Vec<MessageHit>, SearchError> {
        let docs = self.storage.full_text_messages(q.account, &q.q, &q.filter, q.limit).await?;
        let words = QueryWords::new(&q.q);
        Ok(docs
            .into_iter()
            .map(|d| {
                let lang = d.language.as_deref().and_then(crate::language_of);
                MessageHit {
                    id: d.message.id,
                    conversation_id: d.message.conversation_id,
                    snippet: snippet(&d.message.text(), &words, lang),
                }
            })
            .collect())
    }

    async fn orders(&self, account: AccountId, q: &str, limit: u32) -> Result<Vec<OrderHit>, SearchError> {
        let docs = self.storage.full_text_orders(account, q, limit).await?;
        let words = QueryWords::new(q);
        Ok(docs
            .into_iter()
            .map(|d| OrderHit { id: d.order.id, snippet: snippet(&d.order.details.search_text(), &words, None) })
            .collect())
    }

    async fn contacts(&self, account: AccountId, q: &str, limit: u32) -> Result<Vec<ContactHit>, SearchError> {
        let found = self.storage.full_text_contacts(account, q, limit).await?;
        let words = QueryWords::new(q);
        Ok(found.iter().map(|c| ContactHit { id: c.id, snippet: snippet(&contact_text(c), &words, None) }).collect())
    }

    async fn catch_up(&self) -> Result<u64, SearchError> {
        Ok(0)
    }

    async fn rebuild(&self) -> Result<u64, SearchError> {
        Ok(0)
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }
}
