//! SQL on one PostgreSQL connection: column lists, row mapping into the
//! shared row structs, advisory locks, and the statements the repositories
//! compose inside their transactions.

use crate::db_err;
use chrono::{DateTime, Utc};
use ferry_core::contact::{Contact, Identity, IdentityKind};
use ferry_core::conversation::Conversation;
use ferry_core::event::Event;
use ferry_core::message::{DeliveryStatus, Message};
use ferry_core::{AccountId, ContactId, ConversationId, MessageId};
use ferry_storage::rows::*;
use ferry_storage::{NewContact, NewJob, StorageError, StorageResult};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Row};

/// A statement with its parameters bound.
pub type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Maps one result row.
pub type RowMap<R> = fn(&PgRow) -> Result<R, sqlx::Error>;

/// A statement built from our own column lists.
pub fn query(sql: String) -> PgQuery<'static> {
    sqlx::query(AssertSqlSafe(sql))
}

/// The first row of `q`, converted.
pub async fn fetch_one<T, R>(c: &mut PgConnection, q: PgQuery<'_>, map: RowMap<R>) -> StorageResult<Option<T>>
where
    T: TryFrom<R, Error = StorageError>,
{
    match q.fetch_optional(&mut *c).await.map_err(db_err)? {
        None => Ok(None),
        Some(row) => Ok(Some(T::try_from(map(&row).map_err(db_err)?)?)),
    }
}

/// All rows of `q`, converted.
pub async fn fetch_all<T, R>(c: &mut PgConnection, q: PgQuery<'_>, map: RowMap<R>) -> StorageResult<Vec<T>>
where
    T: TryFrom<R, Error = StorageError>,
{
    let rows = q.fetch_all(&mut *c).await.map_err(db_err)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(T::try_from(map(row).map_err(db_err)?)?);
    }
    Ok(out)
}

/// JSON text for a JSONB column. PostgreSQL refuses the NUL character in
/// text, so any NUL inside a string or key becomes U+FFFD instead of making
/// the whole write fail.
pub fn jsonb<T: serde::Serialize>(v: &T) -> String {
    let s = to_json(v);
    if !s.contains("\\u0000") {
        return s;
    }
    match serde_json::to_value(v) {
        Ok(mut value) => {
            scrub_nul(&mut value);
            to_json(&value)
        }
        Err(_) => s,
    }
}

fn scrub_nul(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if s.contains('\0') {
                *s = no_nul(s);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(scrub_nul),
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut v) in old {
                scrub_nul(&mut v);
                o.insert(no_nul(&k), v);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `s` without NUL characters, which PostgreSQL text cannot hold.
pub fn no_nul(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// Stable 64-bit key of an advisory lock (FNV-1a over `parts`), the same
/// in every process and every Ferry version.
pub fn lock_key(parts: &[&str]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (n, p) in parts.iter().enumerate() {
        if n > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// Takes transaction-scoped advisory locks, in key order so that two
/// transactions taking overlapping sets never wait on each other in a
/// circle.
pub async fn lock_keys(c: &mut PgConnection, mut keys: Vec<i64>) -> StorageResult<()> {
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(k).execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

/// The lock on one inbound message (inbox and the channel's id).
pub fn message_lock(inbox: i64, external_id: &str) -> i64 {
    lock_key(&["ferry", "message", &inbox.to_string(), external_id])
}

/// The lock on one identity of an account: whoever holds it may decide
/// which contact the identity belongs to.
pub fn identity_lock(account: AccountId, i: &Identity) -> i64 {
    lock_key(&["ferry", "identity", &account.0.to_string(), i.kind.as_str(), &i.value, &identity_scope(i).to_string()])
}

pub const ACCOUNT_COLS: &str = "id, name, default_language, created_at";
pub fn account_row(r: &PgRow) -> Result<AccountRow, sqlx::Error> {
    Ok(AccountRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        default_language: r.try_get("default_language")?,
        created_at: r.try_get("created_at")?,
    })
}

pub const USER_COLS: &str = "id, account_id, name, email, role, languages::text AS languages, created_at";
pub fn user_row(r: &PgRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        role: r.try_get("role")?,
        languages: r.try_get("languages")?,
        created_at: r.try_get("created_at")?,
    })
}

pub const INBOX_COLS: &str = "id, account_id, name, channel, config::text AS config, secret, created_at";
pub fn inbox_row(r: &PgRow) -> Result<InboxRow, sqlx::Error> {
    Ok(InboxRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        channel: r.try_get("channel")?,
        config: r.try_get("config")?,
        secret: r.try_get("secret")?,
        created_at: r.try_get("created_at")?,
    })
}

pub const CONTACT_COLS: &str = "id, account_id, name, email, phone, country, language, timezone, vip, \
     custom_attributes::text AS custom_attributes, tags::text AS tags, created_at, updated_at";
pub fn contact_row(r: &PgRow) -> Result<ContactRow, sqlx::Error> {
    Ok(ContactRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        country: r.try_get("country")?,
        language: r.try_get("language")?,
        timezone: r.try_get("timezone")?,
        vip: r.try_get("vip")?,
        custom_attributes: r.try_get("custom_attributes")?,
        tags: r.try_get("tags")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub const CONV_COLS: &str = "id, account_id, inbox_id, contact_id, status, assignee_id, team_id, priority, language, \
     tags::text AS tags, snoozed_until, handoff_reason, last_buyer_message_at, first_reply_at, resolved_at, \
     last_activity_at, created_at, updated_at";
pub fn conv_row(r: &PgRow) -> Result<ConversationRow, sqlx::Error> {
    Ok(ConversationRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        inbox_id: r.try_get("inbox_id")?,
        contact_id: r.try_get("contact_id")?,
        status: r.try_get("status")?,
        assignee_id: r.try_get("assignee_id")?,
        team_id: r.try_get("team_id")?,
        priority: r.try_get("priority")?,
        language: r.try_get("language")?,
        tags: r.try_get("tags")?,
        snoozed_until: r.try_get("snoozed_until")?,
        handoff_reason: r.try_get("handoff_reason")?,
        last_buyer_message_at: r.try_get("last_buyer_message_at")?,
        first_reply_at: r.try_get("first_reply_at")?,
        resolved_at: r.try_get("resolved_at")?,
        last_activity_at: r.try_get("last_activity_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub const MSG_COLS: &str = "id, account_id, inbox_id, conversation_id, kind, sender::text AS sender, parts::text AS parts, \
     external_id, delivery_state, delivery_error, sent_at, created_at";
pub fn msg_row(r: &PgRow) -> Result<MessageRow, sqlx::Error> {
    Ok(MessageRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        inbox_id: r.try_get("inbox_id")?,
        conversation_id: r.try_get("conversation_id")?,
        kind: r.try_get("kind")?,
        sender: r.try_get("sender")?,
        parts: r.try_get("parts")?,
        external_id: r.try_get("external_id")?,
        delivery_state: r.try_get("delivery_state")?,
        delivery_error: r.try_get("delivery_error")?,
        sent_at: r.try_get("sent_at")?,
        created_at: r.try_get("created_at")?,
    })
}

pub fn event_row(r: &PgRow) -> Result<EventRow, sqlx::Error> {
    Ok(EventRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        payload: r.try_get("payload")?,
        created_at: r.try_get("created_at")?,
    })
}

/// How a read locks the row it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// A plain read.
    None,
    /// `FOR UPDATE`: the row will be rewritten by this transaction.
    Update,
    /// `FOR NO KEY UPDATE`: the row will be changed but not its key, so
    /// other transactions may still insert rows that refer to it.
    NoKeyUpdate,
}

impl Lock {
    pub fn sql(self) -> &'static str {
        match self {
            Lock::None => "",
            Lock::Update => " FOR UPDATE",
            Lock::NoKeyUpdate => " FOR NO KEY UPDATE",
        }
    }
}

pub async fn get_conversation(
    c: &mut PgConnection,
    account: AccountId,
    id: ConversationId,
    lock: Lock,
) -> StorageResult<Option<Conversation>> {
    let q = query(format!("SELECT {CONV_COLS} FROM conversations WHERE account_id = $1 AND id = $2{}", lock.sql()));
    fetch_one(c, q.bind(account.0).bind(id.0), conv_row).await
}

pub async fn get_message(
    c: &mut PgConnection,
    account: AccountId,
    id: MessageId,
    lock: Lock,
) -> StorageResult<Option<Message>> {
    let q = query(format!("SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND id = $2{}", lock.sql()));
    fetch_one(c, q.bind(account.0).bind(id.0), msg_row).await
}

pub async fn insert_conversation(c: &mut PgConnection, conv: &mut Conversation) -> StorageResult<()> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO conversations (account_id, inbox_id, contact_id, status, assignee_id, team_id, priority, language, tags, \
         snoozed_until, handoff_reason, last_buyer_message_at, first_reply_at, resolved_at, last_activity_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(conv.account_id.0)
    .bind(conv.inbox_id.0)
    .bind(conv.contact_id.0)
    .bind(conv.status.as_str())
    .bind(conv.assignee_id.map(|x| x.0))
    .bind(conv.team_id.map(|x| x.0))
    .bind(conv.priority.as_str())
    .bind(&conv.language)
    .bind(jsonb(&conv.tags))
    .bind(conv.snoozed_until)
    .bind(&conv.handoff_reason)
    .bind(conv.last_buyer_message_at)
    .bind(conv.first_reply_at)
    .bind(conv.resolved_at)
    .bind(conv.last_activity_at)
    .bind(conv.created_at)
    .bind(conv.updated_at)
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)?;
    conv.id = ConversationId(id);
    Ok(())
}

pub async fn save_conversation(c: &mut PgConnection, conv: &Conversation) -> StorageResult<()> {
    let done = sqlx::query(
        "UPDATE conversations SET status = $3, assignee_id = $4, team_id = $5, priority = $6, language = $7, tags = $8::jsonb, \
         snoozed_until = $9, handoff_reason = $10, last_buyer_message_at = $11, first_reply_at = $12, resolved_at = $13, \
         last_activity_at = $14, updated_at = $15 WHERE account_id = $1 AND id = $2",
    )
    .bind(conv.account_id.0)
    .bind(conv.id.0)
    .bind(conv.status.as_str())
    .bind(conv.assignee_id.map(|x| x.0))
    .bind(conv.team_id.map(|x| x.0))
    .bind(conv.priority.as_str())
    .bind(&conv.language)
    .bind(jsonb(&conv.tags))
    .bind(conv.snoozed_until)
    .bind(&conv.handoff_reason)
    .bind(conv.last_buyer_message_at)
    .bind(conv.first_reply_at)
    .bind(conv.resolved_at)
    .bind(conv.last_activity_at)
    .bind(conv.updated_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

/// The stored delivery state and failure reason of a status.
pub fn delivery_columns(d: Option<&DeliveryStatus>) -> (Option<&'static str>, Option<String>) {
    match d {
        None => (None, None),
        Some(d) => (
            Some(d.as_str()),
            match d {
                DeliveryStatus::Failed { reason } => Some(no_nul(reason)),
                _ => None,
            },
        ),
    }
}

pub async fn insert_message(c: &mut PgConnection, m: &mut Message) -> StorageResult<()> {
    let (state, error) = delivery_columns(m.delivery.as_ref());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (account_id, inbox_id, conversation_id, kind, sender, parts, search_text, external_id, \
         delivery_state, delivery_error, sent_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(m.account_id.0)
    .bind(m.inbox_id.0)
    .bind(m.conversation_id.0)
    .bind(m.kind.as_str())
    .bind(jsonb(&m.sender))
    .bind(jsonb(&m.parts))
    .bind(no_nul(&search_text(m)))
    .bind(&m.external_id)
    .bind(state)
    .bind(error)
    .bind(m.sent_at)
    .bind(m.created_at)
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)?;
    m.id = MessageId(id);
    Ok(())
}

pub async fn append_event(
    c: &mut PgConnection,
    account: AccountId,
    event: &Event,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    sqlx::query(
        "INSERT INTO outbox (account_id, kind, payload, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $4)",
    )
    .bind(account.0)
    .bind(event.name())
    .bind(jsonb(event))
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub async fn insert_job(c: &mut PgConnection, job: &NewJob, now: DateTime<Utc>) -> StorageResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO jobs (account_id, kind, payload, run_at, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $6) RETURNING id",
    )
    .bind(job.account_id.0)
    .bind(&job.kind)
    .bind(jsonb(&job.payload))
    .bind(job.run_at)
    .bind(i64::from(job.max_attempts))
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)
}

fn identity_row(r: &PgRow) -> Result<(i64, IdentityRow), sqlx::Error> {
    Ok((
        r.try_get("contact_id")?,
        IdentityRow { kind: r.try_get("kind")?, value: r.try_get("value")?, inbox_id: r.try_get("inbox_id")? },
    ))
}

/// The identities of several contacts, each list in the order they were
/// added.
pub async fn identities_of(c: &mut PgConnection, contacts: &[i64]) -> StorageResult<Vec<(i64, IdentityRow)>> {
    let rows = sqlx::query(
        "SELECT contact_id, kind, value, inbox_id FROM contact_identities WHERE contact_id = ANY($1) ORDER BY id",
    )
    .bind(contacts)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    rows.iter().map(identity_row).collect::<Result<_, _>>().map_err(db_err)
}

/// Contacts with their identities.
pub async fn with_identities(c: &mut PgConnection, rows: Vec<ContactRow>) -> StorageResult<Vec<Contact>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_contact: std::collections::HashMap<i64, Vec<IdentityRow>> = std::collections::HashMap::new();
    for (owner, i) in identities_of(c, &ids).await? {
        by_contact.entry(owner).or_default().push(i);
    }
    rows.into_iter()
        .map(|r| {
            let mine = by_contact.remove(&r.id).unwrap_or_default();
            r.into_contact(mine)
        })
        .collect()
}

pub async fn get_contact(
    c: &mut PgConnection,
    account: AccountId,
    id: ContactId,
    lock: Lock,
) -> StorageResult<Option<Contact>> {
    let row = query(format!("SELECT {CONTACT_COLS} FROM contacts WHERE account_id = $1 AND id = $2{}", lock.sql()))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    let Some(row) = row else { return Ok(None) };
    let row = contact_row(&row).map_err(db_err)?;
    Ok(with_identities(c, vec![row]).await?.pop())
}

pub async fn find_identity(c: &mut PgConnection, account: AccountId, i: &Identity) -> StorageResult<Option<ContactId>> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT contact_id FROM contact_identities WHERE account_id = $1 AND kind = $2 AND value = $3 AND inbox_id = $4",
    )
    .bind(account.0)
    .bind(i.kind.as_str())
    .bind(&i.value)
    .bind(identity_scope(i))
    .fetch_optional(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(id.map(ContactId))
}

/// Adds an identity to a contact; `false` when it already belongs to
/// someone (then nothing changes).
pub async fn attach_identity(
    c: &mut PgConnection,
    account: AccountId,
    contact: ContactId,
    i: &Identity,
    now: DateTime<Utc>,
) -> StorageResult<bool> {
    let done = sqlx::query(
        "INSERT INTO contact_identities (account_id, contact_id, kind, value, inbox_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
    )
    .bind(account.0)
    .bind(contact.0)
    .bind(i.kind.as_str())
    .bind(&i.value)
    .bind(identity_scope(i))
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

/// Lower-cased text the contact search matches (as the SQLite backend
/// builds it).
pub async fn refresh_contact_search(c: &mut PgConnection, id: ContactId) -> StorageResult<()> {
    let row = sqlx::query("SELECT name, email, phone FROM contacts WHERE id = $1")
        .bind(id.0)
        .fetch_one(&mut *c)
        .await
        .map_err(db_err)?;
    let name: String = row.try_get("name").map_err(db_err)?;
    let email: Option<String> = row.try_get("email").map_err(db_err)?;
    let phone: Option<String> = row.try_get("phone").map_err(db_err)?;
    let ids = identities_of(c, &[id.0])
        .await?
        .into_iter()
        .map(|(_, i)| Identity::try_from(i))
        .collect::<Result<Vec<_>, _>>()?;
    let text = no_nul(&contact_search_text(&name, email.as_deref(), phone.as_deref(), &ids));
    sqlx::query("UPDATE contacts SET search = $2 WHERE id = $1")
        .bind(id.0)
        .bind(text)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The primary e-mail and phone among identities.
pub fn primary_contacts(identities: &[Identity]) -> (Option<String>, Option<String>) {
    let email = identities.iter().find(|i| i.kind == IdentityKind::Email).map(|i| i.value.clone());
    let phone = identities.iter().find(|i| i.kind == IdentityKind::Phone).map(|i| i.value.clone());
    (email, phone)
}

/// Inserts a contact with its identities; an identity that already
/// belongs to someone is a conflict. The caller holds the identities'
/// locks.
pub async fn insert_contact(
    c: &mut PgConnection,
    account: AccountId,
    new: &NewContact,
    now: DateTime<Utc>,
) -> StorageResult<ContactId> {
    let (email, phone) = primary_contacts(&new.identities);
    let search = no_nul(&contact_search_text(&new.name, email.as_deref(), phone.as_deref(), &new.identities));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contacts (account_id, name, email, phone, country, language, timezone, vip, custom_attributes, tags, search, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $12) RETURNING id",
    )
    .bind(account.0)
    .bind(no_nul(&new.name))
    .bind(email)
    .bind(phone)
    .bind(&new.country)
    .bind(&new.language)
    .bind(&new.timezone)
    .bind(new.vip)
    .bind(jsonb(&new.custom_attributes))
    .bind(jsonb(&new.tags))
    .bind(search)
    .bind(now)
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)?;
    let id = ContactId(id);
    for i in &new.identities {
        if !attach_identity(c, account, id, i, now).await? {
            return Err(StorageError::Conflict { constraint: "contact_identities".into() });
        }
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_separate_their_parts() {
        assert_eq!(lock_key(&[]), i64::from_ne_bytes(0xcbf2_9ce4_8422_2325u64.to_ne_bytes()));
        assert_eq!(lock_key(&["a", "bc"]), lock_key(&["a", "bc"]));
        assert_ne!(lock_key(&["a", "bc"]), lock_key(&["ab", "c"]));
        assert_ne!(message_lock(1, "x"), message_lock(2, "x"));
    }

    #[test]
    fn nul_characters_never_reach_postgres() {
        let v = serde_json::json!({"a\u{0}": ["x\u{0}y", 1, {"k": "\u{0}"}], "plain": "\\u0000"});
        let back: serde_json::Value = serde_json::from_str(&jsonb(&v)).unwrap();
        // An escaped backslash followed by `u0000` is not a NUL and stays.
        assert_eq!(back, serde_json::json!({"a\u{fffd}": ["x\u{fffd}y", 1, {"k": "\u{fffd}"}], "plain": "\\u0000"}));
        assert_eq!(jsonb(&"plain"), "\"plain\"");
    }
}
