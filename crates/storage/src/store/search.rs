//! Search: the change journal, messages and contacts as documents for the
//! embedded index, and PostgreSQL's full-text queries.

use super::Query;
use super::commerce::with_details;
use super::contacts::{CONTACT_COLS, with_identities};
use super::messages::{MSG_COLS, message};
use crate::args;
use crate::db::{Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use crate::rows::escape_like;
use crate::search::{ChangedKind, MessageDoc, MessageFilter, OrderDoc, SearchChange, SearchRepo};
use async_trait::async_trait;
use ferry_core::contact::Contact;
use ferry_core::{AccountId, InboxId};

/// The columns of a message document: the message's, then the
/// conversation's status, the inbox's channel and the language.
fn doc_cols() -> String {
    let cols: Vec<String> = MSG_COLS.split(',').map(|c| format!("m.{}", c.trim())).collect();
    format!("{}, c.status, i.channel, COALESCE(c.language, a.default_language)", cols.join(", "))
}

const DOC_FROM: &str = "FROM messages m JOIN conversations c ON c.id = m.conversation_id \
     JOIN inboxes i ON i.id = m.inbox_id JOIN accounts a ON a.id = m.account_id";

fn doc(r: &Row) -> StorageResult<MessageDoc> {
    let status = r.text(13)?;
    let channel = r.text(14)?;
    Ok(MessageDoc {
        message: message(r)?,
        status: status.parse().map_err(|_| StorageError::Corrupt(format!("conversation status {status}")))?,
        channel: channel.parse().map_err(|_| StorageError::Corrupt(format!("channel {channel}")))?,
        language: r.opt_text(15)?.filter(|l| !l.is_empty()),
    })
}

fn change(r: &Row) -> StorageResult<SearchChange> {
    let kind = match r.text(1)?.as_str() {
        "message" => ChangedKind::Message,
        "contact" => ChangedKind::Contact,
        "conversation" => ChangedKind::Conversation,
        "order" => ChangedKind::Order,
        other => return Err(StorageError::Corrupt(format!("search change kind {other}"))),
    };
    Ok(SearchChange { seq: r.int(0)?, kind, account_id: AccountId(r.int(2)?), row_id: r.int(3)? })
}

/// `LIKE` patterns (escape `\`) for each whitespace-separated word of
/// `q`, lower-cased like the stored search text.
fn word_patterns(q: &str) -> Vec<String> {
    q.to_lowercase().split_whitespace().take(16).map(|w| format!("%{}%", escape_like(w))).collect()
}

/// How many of the newest message ids a search first walks, newest first,
/// checking each: a common word has its hits there and stops early. What
/// it did not find there is then looked up through the indexes, which are
/// fast when the words are rare (as they are, if the newest rows had too
/// few).
const NEWEST_WINDOW: i64 = 10_000;

/// Which messages one step of a search looks at.
#[derive(Clone, Copy)]
enum Window {
    /// Ids above this, walked newest first along the primary key.
    Above(i64),
    /// Ids up to this, found through the full-text and trigram indexes
    /// and sorted afterwards.
    UpTo(i64),
}

/// A message search over one window: whole words through the stored
/// `search_vector` (full text), or every word as a part of the text
/// (trigrams: parts of words, scripts written without spaces).
fn message_search(account: AccountId, q: &str, filter: &MessageFilter, limit: u32, window: Window) -> Query {
    let mut query = Query::new(format!("SELECT {} {DOC_FROM} WHERE m.account_id = ", doc_cols()));
    query.bind(account.0).push(" AND m.kind <> 'activity' AND ");
    match window {
        Window::Above(id) => query.push("m.id > ").bind(id),
        Window::UpTo(id) => query.push("m.id <= ").bind(id),
    };
    query.push(" AND (m.search_vector @@ plainto_tsquery('simple', ");
    query.bind(q.to_lowercase()).push(") OR (");
    for (n, w) in word_patterns(q).into_iter().enumerate() {
        if n > 0 {
            query.push(" AND ");
        }
        query.push("m.search_text LIKE ").bind(w).push(" ESCAPE '\\'");
    }
    query.push("))");
    let MessageFilter { inbox, conversation, status, channel, from, until } = filter.clone();
    if let Some(InboxId(i)) = inbox {
        query.push(" AND m.inbox_id = ").bind(i);
    }
    if let Some(c) = conversation {
        query.push(" AND m.conversation_id = ").bind(c.0);
    }
    if let Some(s) = status {
        query.push(" AND c.status = ").bind(s.as_str());
    }
    if let Some(ch) = channel {
        query.push(" AND i.channel = ").bind(ch.as_str());
    }
    if let Some(t) = from {
        query.push(" AND m.sent_at >= ").bind(t);
    }
    if let Some(t) = until {
        query.push(" AND m.sent_at < ").bind(t);
    }
    match window {
        Window::Above(_) => query.push(" ORDER BY m.id DESC LIMIT "),
        Window::UpTo(_) => query.push(" ORDER BY m.id + 0 DESC LIMIT "),
    };
    query.bind(limit);
    query
}

/// Orders (rows of `id, connection_id, document, account_id`) as
/// documents, in the rows' order.
async fn order_docs<D: Db>(db: &mut D, rows: Vec<Row>) -> StorageResult<Vec<OrderDoc>> {
    let accounts = rows.iter().map(|r| Ok((r.int(0)?, AccountId(r.int(3)?)))).collect::<StorageResult<Vec<_>>>()?;
    let orders = with_details(db, rows).await?;
    Ok(orders
        .into_iter()
        .filter_map(|order| {
            let account_id = accounts.iter().find(|(id, _)| *id == order.id.0)?.1;
            Some(OrderDoc { account_id, order })
        })
        .collect())
}

fn postgres_only<B: Backend>() -> StorageResult<()> {
    if B::NAME == "postgres" {
        Ok(())
    } else {
        Err(StorageError::Corrupt(format!("full-text queries run on PostgreSQL, not {}", B::NAME)))
    }
}

#[async_trait]
impl<B: Backend> SearchRepo for B {
    async fn search_changes(&self, after: i64, limit: u32) -> StorageResult<Vec<SearchChange>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, kind, account_id, row_id FROM search_changes WHERE id > $1 ORDER BY id LIMIT $2",
                        args![after, limit.clamp(1, 100_000)],
                    )
                    .await?;
                rows.iter().map(change).collect()
            })
        })
        .await
    }

    async fn search_changes_head(&self) -> StorageResult<i64> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT MAX(id) FROM search_changes", Vec::new()).await?;
                Ok(r.map(|r| r.opt_int(0)).transpose()?.flatten().unwrap_or(0))
            })
        })
        .await
    }

    async fn prune_search_changes(&self, upto: i64) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(async move { db.exec("DELETE FROM search_changes WHERE id <= $1", args![upto]).await })
        })
        .await
    }

    async fn message_docs(&self, ids: Vec<i64>) -> StorageResult<Vec<MessageDoc>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {} {DOC_FROM} WHERE m.id IN (SELECT value FROM {}) AND m.kind <> 'activity' ORDER BY m.id",
                    doc_cols(),
                    db.list("$1")
                );
                db.rows(&sql, args![ids]).await?.iter().map(doc).collect()
            })
        })
        .await
    }

    async fn conversation_message_ids(&self, conversations: Vec<i64>) -> StorageResult<Vec<i64>> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT id FROM messages WHERE conversation_id IN (SELECT value FROM {}) AND kind <> 'activity' \
                     ORDER BY id",
                    db.list("$1")
                );
                db.rows(&sql, args![conversations]).await?.iter().map(|r| r.int(0)).collect()
            })
        })
        .await
    }

    async fn message_docs_after(&self, after: i64, limit: u32) -> StorageResult<Vec<MessageDoc>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {} {DOC_FROM} WHERE m.id > $1 AND m.kind <> 'activity' ORDER BY m.id LIMIT $2",
                    doc_cols()
                );
                db.rows(&sql, args![after, limit.clamp(1, 100_000)]).await?.iter().map(doc).collect()
            })
        })
        .await
    }

    async fn contacts_by_ids(&self, ids: Vec<i64>) -> StorageResult<Vec<Contact>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {CONTACT_COLS} FROM contacts WHERE id IN (SELECT value FROM {}) AND merged_into IS NULL ORDER BY id",
                    db.list("$1")
                );
                let rows = db.rows(&sql, args![ids]).await?;
                with_identities(db, rows).await
            })
        })
        .await
    }

    async fn contacts_after(&self, after: i64, limit: u32) -> StorageResult<Vec<Contact>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {CONTACT_COLS} FROM contacts WHERE id > $1 AND merged_into IS NULL ORDER BY id LIMIT $2"
                );
                let rows = db.rows(&sql, args![after, limit.clamp(1, 100_000)]).await?;
                with_identities(db, rows).await
            })
        })
        .await
    }

    async fn order_docs(&self, ids: Vec<i64>) -> StorageResult<Vec<OrderDoc>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT id, connection_id, document, account_id FROM shop_orders \
                     WHERE id IN (SELECT value FROM {}) ORDER BY id",
                    db.list("$1")
                );
                let rows = db.rows(&sql, args![ids]).await?;
                order_docs(db, rows).await
            })
        })
        .await
    }

    async fn order_docs_after(&self, after: i64, limit: u32) -> StorageResult<Vec<OrderDoc>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, connection_id, document, account_id FROM shop_orders WHERE id > $1 \
                         ORDER BY id LIMIT $2",
                        args![after, limit.clamp(1, 100_000)],
                    )
                    .await?;
                order_docs(db, rows).await
            })
        })
        .await
    }

    async fn full_text_orders(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<OrderDoc>> {
        postgres_only::<B>()?;
        let words = word_patterns(q);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut query =
            Query::new("SELECT id, connection_id, document, account_id FROM shop_orders WHERE account_id = ");
        query.bind(account.0);
        for w in words {
            query.push(" AND search_text LIKE ").bind(w).push(" ESCAPE '\\'");
        }
        // Newest first (as the embedded index: by id), sorted after the
        // trigram index found the rows.
        query.push(" ORDER BY id + 0 DESC LIMIT ").bind(limit.clamp(1, 200));
        let Query { sql, args } = query;
        self.read(move |db| {
            Box::pin(async move {
                let rows = db.rows(&sql, args).await?;
                order_docs(db, rows).await
            })
        })
        .await
    }

    async fn full_text_messages(
        &self,
        account: AccountId,
        q: &str,
        filter: &MessageFilter,
        limit: u32,
    ) -> StorageResult<Vec<MessageDoc>> {
        postgres_only::<B>()?;
        if word_patterns(q).is_empty() {
            return Ok(Vec::new());
        }
        let (q, filter, limit) = (q.to_owned(), filter.clone(), limit.clamp(1, 200));
        self.read(move |db| {
            Box::pin(async move {
                let newest = db.row("SELECT MAX(id) FROM messages", Vec::new()).await?;
                let newest = newest.map(|r| r.opt_int(0)).transpose()?.flatten().unwrap_or(0);
                let lower = newest - NEWEST_WINDOW;
                let Query { sql, args } = message_search(account, &q, &filter, limit, Window::Above(lower));
                let mut found: Vec<MessageDoc> =
                    db.rows(&sql, args).await?.iter().map(doc).collect::<Result<_, _>>()?;
                if found.len() < limit as usize && lower > 0 {
                    let rest = limit - found.len() as u32;
                    let Query { sql, args } = message_search(account, &q, &filter, rest, Window::UpTo(lower));
                    for r in db.rows(&sql, args).await? {
                        found.push(doc(&r)?);
                    }
                }
                Ok(found)
            })
        })
        .await
    }

    async fn full_text_contacts(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<Contact>> {
        postgres_only::<B>()?;
        let words = word_patterns(q);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query::new(format!("SELECT {CONTACT_COLS} FROM contacts WHERE account_id = "));
        query.bind(account.0);
        for w in words {
            query.push(" AND search LIKE ").bind(w).push(" ESCAPE '\\'");
        }
        // Sorted after the trigram index found the rows (`id + 0`): walking
        // the primary key newest first reads every contact when few match.
        query.push(" ORDER BY id + 0 DESC LIMIT ").bind(limit.clamp(1, 200));
        let Query { sql, args } = query;
        self.read(move |db| {
            Box::pin(async move {
                let rows = db.rows(&sql, args).await?;
                with_identities(db, rows).await
            })
        })
        .await
    }
}
