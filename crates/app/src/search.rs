//! One search box over contacts and messages for the console. Contacts use
//! the store's contact search; messages are matched case-insensitively in
//! the most recently active conversations (a bounded scan, so the answer
//! stays fast on any backend until a full-text index takes over).

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_core::AccountId;
use ferry_core::contact::Contact;
use ferry_core::message::{Message, MessageKind};
use ferry_storage::{ContactQuery, ConversationFilter};

/// How many recent conversations a message search reads.
const SCAN_CONVERSATIONS: u32 = 100;

/// What the search box found.
#[derive(Debug, Clone, Default)]
pub struct SearchHits {
    /// Contacts whose name, e-mail, phone or identity matches.
    pub contacts: Vec<Contact>,
    /// Messages and notes whose text matches, newest first.
    pub messages: Vec<Message>,
}

/// Whether `text` contains `needle` ignoring case.
pub fn matches(text: &str, needle_lower: &str) -> bool {
    text.to_lowercase().contains(needle_lower)
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
        let needle = q.to_lowercase();
        let mut messages = Vec::new();
        let page =
            self.storage.list_conversations(account, &ConversationFilter::default(), None, SCAN_CONVERSATIONS).await?;
        for c in page.items {
            let list = self.storage.list_messages(account, c.id, None, 200).await?;
            messages
                .extend(list.into_iter().filter(|m| m.kind != MessageKind::Activity && matches(&m.text(), &needle)));
        }
        messages.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.0.cmp(&a.id.0)));
        messages.truncate(limit as usize);
        Ok(SearchHits { contacts, messages })
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn matching_ignores_case_and_handles_non_latin_text() {
        assert!(matches("Where is my ORDER #1001?", "order #1001"));
        assert!(matches("注文した商品はいつ届きますか？", "商品"));
        assert!(!matches("refund please", "order"));
    }
}
