//! The embedded index: tantivy, on disk beside the SQLite database.
//!
//! One index holds every account's messages, contacts and orders; every query is
//! restricted to one account. The index catches up from the store's change
//! journal: it reads the entries after its checkpoint, re-reads the rows
//! they name, replaces their documents and commits together with the new
//! checkpoint (in the commit's payload), then lets the store forget those
//! entries. Replaying an entry twice rewrites the same document, so a crash
//! at any point loses nothing and duplicates nothing. A new (or outdated)
//! index is rebuilt from the store first.

use crate::analysis::{self, NEUTRAL, STEMMED, stemmed_name};
use crate::highlight::{QueryWords, snippet};
use crate::store_search::contact_text;
use crate::{ContactHit, MessageFilter, MessageHit, MessageQuery, OrderHit, SearchError, SearchIndex};
use async_trait::async_trait;
use ferry_core::contact::Contact;
use ferry_core::{AccountId, ContactId, ConversationId, MessageId, OrderId};
use ferry_storage::Storage;
use ferry_storage::search::{ChangedKind, MessageDoc, OrderDoc};
use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

/// Bumped whenever the schema or the analysis changes: an index of another
/// version is rebuilt.
const SCHEMA_VERSION: u64 = 3;
/// Journal entries applied per commit.
const BATCH: u32 = 5_000;
/// Rows read per page while rebuilding.
const PAGE: u32 = 5_000;
/// The writer's memory.
const WRITER_BYTES: usize = 96 * 1024 * 1024;

const KIND_MESSAGE: &str = "message";
/// The analyzer cutting contacts' text into every run of three characters,
/// so parts of names, e-mails and numbers are found.
const GRAMS: &str = "ferry_grams";
/// A gram's length in characters.
const GRAM: usize = 3;
const KIND_CONTACT: &str = "contact";
const KIND_ORDER: &str = "order";

#[derive(Clone)]
struct Fields {
    kind: Field,
    key: Field,
    id: Field,
    account: Field,
    inbox: Field,
    conversation: Field,
    status: Field,
    channel: Field,
    sent: Field,
    lang: Field,
    body: Field,
    phone: Field,
    grams: Field,
    stems: Vec<(&'static str, Field)>,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str, stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored { o.set_stored() } else { o }
    };
    let fields = Fields {
        kind: b.add_text_field("kind", STRING),
        key: b.add_text_field("key", STRING),
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        account: b.add_u64_field("account", INDEXED),
        inbox: b.add_u64_field("inbox", INDEXED),
        conversation: b.add_u64_field("conversation", INDEXED | STORED),
        status: b.add_text_field("status", STRING),
        channel: b.add_text_field("channel", STRING),
        sent: b.add_i64_field("sent", INDEXED | FAST),
        lang: b.add_text_field("lang", STRING | STORED),
        body: b.add_text_field("body", text(NEUTRAL, true)),
        phone: b.add_text_field("phone", STRING),
        grams: b.add_text_field(
            "grams",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default().set_tokenizer(GRAMS).set_index_option(IndexRecordOption::Basic),
            ),
        ),
        stems: STEMMED
            .iter()
            .map(|(code, _)| (*code, b.add_text_field(&format!("body_{code}"), text(&stemmed_name(code), false))))
            .collect(),
    };
    (b.build(), fields)
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn message_key(id: i64) -> String {
    format!("m{id}")
}

fn contact_key(id: i64) -> String {
    format!("c{id}")
}

fn order_key(id: i64) -> String {
    format!("o{id}")
}

/// What the index's last commit says.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    version: u64,
    seq: i64,
}

struct Open {
    reader: IndexReader,
    writer: Arc<std::sync::Mutex<IndexWriter>>,
    fields: Fields,
    checkpoint: AtomicI64,
    needs_rebuild: AtomicBool,
}

/// The embedded search index.
pub struct TantivyIndex {
    storage: Arc<dyn Storage>,
    dir: Option<PathBuf>,
    open: tokio::sync::OnceCell<Arc<Open>>,
    gate: tokio::sync::Mutex<()>,
}

fn index_err(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(e.to_string())
}

fn open_index(dir: Option<&PathBuf>) -> Result<Open, SearchError> {
    let (schema, fields) = schema();
    let index = match dir {
        None => Index::create_in_ram(schema),
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(index_err)?;
            let mmap = || tantivy::directory::MmapDirectory::open(dir).map_err(index_err);
            match Index::open_or_create(mmap()?, schema.clone()) {
                Ok(i) => i,
                Err(e) => {
                    // Another schema: an older Ferry's index. Start afresh.
                    tracing::warn!(error = %e, "search index unreadable; rebuilding it");
                    std::fs::remove_dir_all(dir).map_err(index_err)?;
                    std::fs::create_dir_all(dir).map_err(index_err)?;
                    Index::create(mmap()?, schema, tantivy::IndexSettings::default())?
                }
            }
        }
    };
    index.tokenizers().register(NEUTRAL, analysis::neutral(false));
    index.tokenizers().register(GRAMS, grams_analyzer()?);
    for (code, lang) in STEMMED {
        index.tokenizers().register(&stemmed_name(code), analysis::stemmed(*lang, false));
    }
    let checkpoint = index
        .load_metas()?
        .payload
        .and_then(|p| serde_json::from_str::<Checkpoint>(&p).ok())
        .filter(|c| c.version == SCHEMA_VERSION);
    let writer: IndexWriter = index.writer_with_num_threads(1, WRITER_BYTES).map_err(|e| match e {
        tantivy::TantivyError::LockFailure(..) => {
            SearchError::Index("the search index is in use by another Ferry process".to_owned())
        }
        e => index_err(e),
    })?;
    let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    Ok(Open {
        reader,
        writer: Arc::new(std::sync::Mutex::new(writer)),
        fields,
        checkpoint: AtomicI64::new(checkpoint.as_ref().map_or(0, |c| c.seq)),
        needs_rebuild: AtomicBool::new(checkpoint.is_none()),
    })
}

fn message_doc(f: &Fields, d: &MessageDoc) -> Option<TantivyDocument> {
    let m = &d.message;
    let text = m.text();
    if text.trim().is_empty() {
        return None;
    }
    let lang = d.language.as_deref().and_then(analysis::language_of);
    let mut doc = TantivyDocument::default();
    doc.add_text(f.kind, KIND_MESSAGE);
    doc.add_text(f.key, message_key(m.id.0));
    doc.add_u64(f.id, u(m.id.0));
    doc.add_u64(f.account, u(m.account_id.0));
    doc.add_u64(f.inbox, u(m.inbox_id.0));
    doc.add_u64(f.conversation, u(m.conversation_id.0));
    doc.add_text(f.status, d.status.as_str());
    doc.add_text(f.channel, d.channel.as_str());
    doc.add_i64(f.sent, m.sent_at.timestamp_micros());
    doc.add_text(f.lang, lang.unwrap_or(""));
    if let Some(code) = lang
        && let Some((_, field)) = f.stems.iter().find(|(c, _)| *c == code)
    {
        doc.add_text(*field, &text);
    }
    doc.add_text(f.body, text);
    Some(doc)
}

/// The digits of `s`, when it is written like a phone number.
fn phone_digits(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let phone_like = s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    (phone_like && digits.len() >= 4).then_some(digits)
}

fn contact_doc(f: &Fields, c: &Contact) -> TantivyDocument {
    let phones = c.phone.iter().chain(c.identities.iter().map(|i| &i.value));
    record_doc(f, KIND_CONTACT, contact_key(c.id.0), c.id.0, c.account_id, contact_text(c), phones)
}

fn order_doc(f: &Fields, d: &OrderDoc) -> TantivyDocument {
    let o = &d.order;
    let text = o.details.search_text();
    record_doc(f, KIND_ORDER, order_key(o.id.0), o.id.0, d.account_id, text, o.details.order.phone.iter())
}

/// A contact or an order: found by its words, by parts of words (grams)
/// and by the endings of its phone numbers.
fn record_doc<'a>(
    f: &Fields,
    kind: &str,
    key: String,
    id: i64,
    account: AccountId,
    text: String,
    phone_values: impl Iterator<Item = &'a String>,
) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.kind, kind);
    doc.add_text(f.key, key);
    doc.add_u64(f.id, u(id));
    doc.add_u64(f.account, u(account.0));
    doc.add_text(f.grams, text.to_lowercase());
    doc.add_text(f.body, text);
    let mut phones = BTreeSet::new();
    for p in phone_values {
        if let Some(d) = phone_digits(p) {
            // Every ending of 4 digits or more: a number is typed with or
            // without its country code.
            for start in 0..=d.len() - 4 {
                phones.insert(d[start..].to_owned());
            }
        }
    }
    for p in phones {
        doc.add_text(f.phone, p);
    }
    doc
}

fn term(field: Field, s: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, s), IndexRecordOption::Basic))
}

fn u64_term(field: Field, v: i64) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_u64(field, u(v)), IndexRecordOption::Basic))
}

fn message_query(f: &Fields, account: AccountId, words: &QueryWords, filter: &MessageFilter) -> BooleanQuery {
    let mut must: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, u64_term(f.account, account.0)), (Occur::Must, term(f.kind, KIND_MESSAGE))];
    for (i, w) in words.neutral.iter().enumerate() {
        let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, term(f.body, w))];
        for (code, stems) in &words.stemmed {
            if let (Some(s), Some((_, field))) = (stems.get(i), f.stems.iter().find(|(c, _)| c == code)) {
                any.push((Occur::Should, term(*field, s)));
            }
        }
        must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    if let Some(i) = filter.inbox {
        must.push((Occur::Must, u64_term(f.inbox, i.0)));
    }
    if let Some(c) = filter.conversation {
        must.push((Occur::Must, u64_term(f.conversation, c.0)));
    }
    if let Some(s) = filter.status {
        must.push((Occur::Must, term(f.status, s.as_str())));
    }
    if let Some(c) = filter.channel {
        must.push((Occur::Must, term(f.channel, c.as_str())));
    }
    if filter.from.is_some() || filter.until.is_some() {
        let t = |v: chrono::DateTime<chrono::Utc>| Term::from_field_i64(f.sent, v.timestamp_micros());
        let lower = filter.from.map_or(Bound::Unbounded, |v| Bound::Included(t(v)));
        let upper = filter.until.map_or(Bound::Unbounded, |v| Bound::Excluded(t(v)));
        must.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    BooleanQuery::new(must)
}

fn record_query(f: &Fields, kind: &str, account: AccountId, words: &QueryWords, q: &str) -> BooleanQuery {
    let all_words: Vec<(Occur, Box<dyn Query>)> =
        words.neutral.iter().map(|w| (Occur::Must, term(f.body, w))).collect();
    let mut matches: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, Box::new(BooleanQuery::new(all_words)))];
    if let Some(d) = phone_digits(q) {
        matches.push((Occur::Should, term(f.phone, &d)));
    }
    BooleanQuery::new(vec![
        (Occur::Must, u64_term(f.account, account.0)),
        (Occur::Must, term(f.kind, kind)),
        (Occur::Must, Box::new(BooleanQuery::new(matches))),
    ])
}

fn grams_analyzer() -> Result<tantivy::tokenizer::TextAnalyzer, SearchError> {
    let grams = tantivy::tokenizer::NgramTokenizer::new(GRAM, GRAM, false)?;
    Ok(tantivy::tokenizer::TextAnalyzer::builder(grams).filter(tantivy::tokenizer::LowerCaser).build())
}

/// The lower-cased words of a contact or order search, when each is long enough to
/// be looked up by its parts.
fn part_words(q: &str) -> Option<Vec<String>> {
    let words: Vec<String> = q.to_lowercase().split_whitespace().take(16).map(str::to_owned).collect();
    (!words.is_empty() && words.iter().all(|w| w.chars().count() >= GRAM)).then_some(words)
}

/// Contacts or orders having every gram of every word: candidates for a
/// search by parts of words, checked against the text afterwards.
fn parts_query(f: &Fields, kind: &str, account: AccountId, words: &[String]) -> BooleanQuery {
    let mut must: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, u64_term(f.account, account.0)), (Occur::Must, term(f.kind, kind))];
    let mut grams = BTreeSet::new();
    for w in words {
        let chars: Vec<char> = w.chars().collect();
        for g in chars.windows(GRAM) {
            grams.insert(g.iter().collect::<String>());
        }
    }
    for g in grams {
        must.push((Occur::Must, term(f.grams, &g)));
    }
    BooleanQuery::new(must)
}

fn stored_u64(doc: &TantivyDocument, field: Field) -> i64 {
    doc.get_first(field).and_then(|v| v.as_u64()).and_then(|v| i64::try_from(v).ok()).unwrap_or(0)
}

fn stored_text(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_owned()
}

impl TantivyIndex {
    /// An index in `dir` (in memory when `None`) over `storage`. Opened at
    /// first use.
    pub fn new(storage: Arc<dyn Storage>, dir: Option<PathBuf>) -> Self {
        Self { storage, dir, open: tokio::sync::OnceCell::new(), gate: tokio::sync::Mutex::new(()) }
    }

    async fn opened(&self) -> Result<Arc<Open>, SearchError> {
        let dir = self.dir.clone();
        self.open
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || open_index(dir.as_ref()).map(Arc::new)).await.map_err(index_err)?
            })
            .await
            .cloned()
    }

    /// Runs `f` with the writer on a blocking thread.
    async fn with_writer<T: Send + 'static>(
        open: &Open,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let writer = open.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut w)
        })
        .await
        .map_err(index_err)?
    }

    async fn commit(open: &Open, seq: i64) -> Result<(), SearchError> {
        let payload = serde_json::to_string(&Checkpoint { version: SCHEMA_VERSION, seq }).map_err(index_err)?;
        Self::with_writer(open, move |w| {
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            Ok(())
        })
        .await?;
        open.checkpoint.store(seq, Ordering::SeqCst);
        open.reader.reload()?;
        Ok(())
    }

    async fn rebuild_locked(&self, open: &Open) -> Result<u64, SearchError> {
        let head = self.storage.search_changes_head().await?;
        Self::with_writer(open, |w| w.delete_all_documents().map(drop).map_err(Into::into)).await?;
        let mut count = 0u64;
        let mut after = 0;
        loop {
            let docs = self.storage.message_docs_after(after, PAGE).await?;
            let Some(last) = docs.last() else { break };
            after = last.message.id.0;
            let f = open.fields.clone();
            count += Self::with_writer(open, move |w| {
                let mut n = 0;
                for d in docs.iter().filter_map(|d| message_doc(&f, d)) {
                    w.add_document(d)?;
                    n += 1;
                }
                Ok(n)
            })
            .await?;
        }
        let mut after = 0;
        loop {
            let contacts = self.storage.contacts_after(after, PAGE).await?;
            let Some(last) = contacts.last() else { break };
            after = last.id.0;
            let f = open.fields.clone();
            count += Self::with_writer(open, move |w| {
                for c in &contacts {
                    w.add_document(contact_doc(&f, c))?;
                }
                Ok(contacts.len() as u64)
            })
            .await?;
        }
        let mut after = 0;
        loop {
            let orders = self.storage.order_docs_after(after, PAGE).await?;
            let Some(last) = orders.last() else { break };
            after = last.order.id.0;
            let f = open.fields.clone();
            count += Self::with_writer(open, move |w| {
                for o in &orders {
                    w.add_document(order_doc(&f, o))?;
                }
                Ok(orders.len() as u64)
            })
            .await?;
        }
        Self::commit(open, head).await?;
        open.needs_rebuild.store(false, Ordering::SeqCst);
        self.storage.prune_search_changes(head).await?;
        tracing::info!(documents = count, "search index rebuilt");
        Ok(count)
    }

    async fn catch_up_locked(&self, open: &Open) -> Result<u64, SearchError> {
        let mut applied = 0u64;
        loop {
            let from = open.checkpoint.load(Ordering::SeqCst);
            let changes = self.storage.search_changes(from, BATCH).await?;
            let Some(last) = changes.last() else { break };
            let seq = last.seq;
            let mut messages = BTreeSet::new();
            let mut contacts = BTreeSet::new();
            let mut orders = BTreeSet::new();
            let mut conversations = Vec::new();
            for c in &changes {
                match c.kind {
                    ChangedKind::Message => {
                        messages.insert(c.row_id);
                    }
                    ChangedKind::Contact => {
                        contacts.insert(c.row_id);
                    }
                    ChangedKind::Conversation => conversations.push(c.row_id),
                    ChangedKind::Order => {
                        orders.insert(c.row_id);
                    }
                }
            }
            messages.extend(self.storage.conversation_message_ids(conversations).await?);
            let messages: Vec<i64> = messages.into_iter().collect();
            let contacts: Vec<i64> = contacts.into_iter().collect();
            let mut docs = Vec::new();
            for chunk in messages.chunks(1000) {
                docs.extend(self.storage.message_docs(chunk.to_vec()).await?);
            }
            let mut people = Vec::new();
            for chunk in contacts.chunks(1000) {
                people.extend(self.storage.contacts_by_ids(chunk.to_vec()).await?);
            }
            let orders: Vec<i64> = orders.into_iter().collect();
            let mut order_docs = Vec::new();
            for chunk in orders.chunks(1000) {
                order_docs.extend(self.storage.order_docs(chunk.to_vec()).await?);
            }
            let f = open.fields.clone();
            Self::with_writer(open, move |w| {
                for id in &orders {
                    w.delete_term(Term::from_field_text(f.key, &order_key(*id)));
                }
                for o in &order_docs {
                    w.add_document(order_doc(&f, o))?;
                }
                for id in &messages {
                    w.delete_term(Term::from_field_text(f.key, &message_key(*id)));
                }
                for id in &contacts {
                    w.delete_term(Term::from_field_text(f.key, &contact_key(*id)));
                }
                for d in docs.iter().filter_map(|d| message_doc(&f, d)) {
                    w.add_document(d)?;
                }
                for c in &people {
                    w.add_document(contact_doc(&f, c))?;
                }
                Ok(())
            })
            .await?;
            Self::commit(open, seq).await?;
            self.storage.prune_search_changes(seq).await?;
            applied += changes.len() as u64;
        }
        Ok(applied)
    }

    /// Contacts or orders (`kind`) with every word of `q`, whole or as a
    /// part, or with a phone number ending in its digits; newest first.
    async fn records(
        &self,
        kind: &'static str,
        account: AccountId,
        q: &str,
        limit: u32,
    ) -> Result<Vec<(i64, crate::Snippet)>, SearchError> {
        let q = q.to_owned();
        self.search_blocking(move |open| {
            let words = QueryWords::new(&q);
            if words.neutral.is_empty() && phone_digits(&q).is_none() && part_words(&q).is_none() {
                return Ok(Vec::new());
            }
            let f = &open.fields;
            let query = record_query(f, kind, account, &words, &q);
            let searcher = open.reader.searcher();
            let limit = usize::try_from(limit.clamp(1, 200)).unwrap_or(200);
            let newest_first = |n: usize| TopDocs::with_limit(n).order_by_fast_field::<u64>("id", Order::Desc);
            let mut found: Vec<(i64, String)> = Vec::new();
            for (_, addr) in searcher.search(&query, &newest_first(limit))? {
                let doc: TantivyDocument = searcher.doc(addr)?;
                found.push((stored_u64(&doc, f.id), stored_text(&doc, f.body)));
            }
            // Parts of words: the records with all their grams, kept when
            // the text really holds every word.
            if let Some(parts) = part_words(&q) {
                let candidates = searcher.search(&parts_query(f, kind, account, &parts), &newest_first(limit * 8))?;
                let mut kept = 0;
                for (_, addr) in candidates {
                    let doc: TantivyDocument = searcher.doc(addr)?;
                    let text = stored_text(&doc, f.body);
                    let lower = text.to_lowercase();
                    if parts.iter().all(|w| lower.contains(w.as_str())) {
                        found.push((stored_u64(&doc, f.id), text));
                        kept += 1;
                        if kept == limit {
                            break;
                        }
                    }
                }
            }
            found.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
            found.dedup_by_key(|(id, _)| *id);
            found.truncate(limit);
            Ok(found.into_iter().map(|(id, text)| (id, snippet(&text, &words, None))).collect())
        })
        .await
    }

    async fn search_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Open) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let open = self.opened().await?;
        if open.needs_rebuild.load(Ordering::SeqCst) {
            self.catch_up().await?;
        }
        tokio::task::spawn_blocking(move || f(&open)).await.map_err(index_err)?
    }
}

#[async_trait]
impl SearchIndex for TantivyIndex {
    async fn messages(&self, q: &MessageQuery) -> Result<Vec<MessageHit>, SearchError> {
        let q = q.clone();
        self.search_blocking(move |open| {
            let words = QueryWords::new(&q.q);
            if words.neutral.is_empty() {
                return Ok(Vec::new());
            }
            let f = &open.fields;
            let query = message_query(f, q.account, &words, &q.filter);
            let searcher = open.reader.searcher();
            let limit = usize::try_from(q.limit.clamp(1, 200)).unwrap_or(200);
            let top =
                searcher.search(&query, &TopDocs::with_limit(limit).order_by_fast_field::<u64>("id", Order::Desc))?;
            let mut hits = Vec::with_capacity(top.len());
            for (_, addr) in top {
                let doc: TantivyDocument = searcher.doc(addr)?;
                let lang = stored_text(&doc, f.lang);
                hits.push(MessageHit {
                    id: MessageId(stored_u64(&doc, f.id)),
                    conversation_id: ConversationId(stored_u64(&doc, f.conversation)),
                    snippet: snippet(&stored_text(&doc, f.body), &words, Some(lang.as_str()).filter(|l| !l.is_empty())),
                });
            }
            Ok(hits)
        })
        .await
    }

    async fn contacts(&self, account: AccountId, q: &str, limit: u32) -> Result<Vec<ContactHit>, SearchError> {
        let found = self.records(KIND_CONTACT, account, q, limit).await?;
        Ok(found.into_iter().map(|(id, snippet)| ContactHit { id: ContactId(id), snippet }).collect())
    }

    async fn orders(&self, account: AccountId, q: &str, limit: u32) -> Result<Vec<OrderHit>, SearchError> {
        let found = self.records(KIND_ORDER, account, q, limit).await?;
        Ok(found.into_iter().map(|(id, snippet)| OrderHit { id: OrderId(id), snippet }).collect())
    }

    async fn catch_up(&self) -> Result<u64, SearchError> {
        let open = self.opened().await?;
        let _one_at_a_time = self.gate.lock().await;
        if open.needs_rebuild.load(Ordering::SeqCst) {
            self.rebuild_locked(&open).await?;
        }
        self.catch_up_locked(&open).await
    }

    async fn rebuild(&self) -> Result<u64, SearchError> {
        let open = self.opened().await?;
        let _one_at_a_time = self.gate.lock().await;
        let n = self.rebuild_locked(&open).await?;
        self.catch_up_locked(&open).await?;
        Ok(n)
    }

    fn kind(&self) -> &'static str {
        "tantivy"
    }
}
