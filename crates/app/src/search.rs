//! One search box over contacts and messages for the console: the store's
//! contact search and its case-insensitive search over every message, note
//! and reply of the account, newest first.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_core::AccountId;
use ferry_core::contact::Contact;
use ferry_core::message::Message;
use ferry_storage::ContactQuery;

/// What the search box found.
#[derive(Debug, Clone, Default)]
pub struct SearchHits {
    /// Contacts whose name, e-mail, phone or identity matches.
    pub contacts: Vec<Contact>,
    /// Messages and notes whose text matches, newest first.
    pub messages: Vec<Message>,
}

impl App {
    /// Searches contacts and messages of the account.
    pub async fn search(&self, actor: &Actor, account: AccountId, q: &str, limit: u32) -> AppResult<SearchHits> {
        actor.in_account(account)?;
        let q = q.trim();
        if q.is_empty() || q.chars().count() > 200 {
            return Err(AppError::invalid("q", "search for 1 to 200 characters"));
        }
        let limit = limit.clamp(1, 50);
        let contacts =
            self.storage.search_contacts(account, ContactQuery { q: Some(q.to_owned()), limit, before: None }).await?;
        let messages = self.storage.search_messages(account, q, limit).await?;
        Ok(SearchHits { contacts, messages })
    }
}
