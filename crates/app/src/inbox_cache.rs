//! A short-lived cache of inboxes by id for the webhook path, where every
//! delivery needs its inbox's secret and settings before anything else.
//! Changes made through this node drop the entry at once; changes made on
//! another node are seen within [`TTL`].

use crate::{App, AppError, AppResult};
use ferry_core::InboxId;
use ferry_core::inbox::Inbox;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(10);

/// The cache.
#[derive(Default)]
pub struct InboxCache(Mutex<HashMap<InboxId, (Arc<Inbox>, Instant)>>);

impl InboxCache {
    fn get(&self, id: InboxId) -> Option<Arc<Inbox>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&id).filter(|(_, at)| at.elapsed() < TTL).map(|(i, _)| i.clone())
    }

    fn put(&self, inbox: Arc<Inbox>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < TTL);
        }
        map.insert(inbox.id, (inbox, Instant::now()));
    }

    /// Forgets an inbox (after it changed).
    pub fn forget(&self, id: InboxId) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }
}

impl App {
    /// The inbox a webhook names, from the cache or the store.
    pub async fn webhook_inbox(&self, id: InboxId) -> AppResult<Arc<Inbox>> {
        if let Some(i) = self.inbox_cache.get(id) {
            return Ok(i);
        }
        let inbox = Arc::new(self.storage.find_inbox(id).await?.ok_or(AppError::NotFound("inbox"))?);
        self.inbox_cache.put(inbox.clone());
        Ok(inbox)
    }

    pub(crate) fn inbox_changed(&self, id: InboxId) {
        self.inbox_cache.forget(id);
    }
}
