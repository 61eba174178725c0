//! Synchronous SQL on one connection: row mapping and the statements the
//! repositories compose inside the writer's transactions.

use crate::db_err;
use chrono::{DateTime, Utc};
use ferry_core::contact::{Contact, Identity};
use ferry_core::conversation::Conversation;
use ferry_core::event::Event;
use ferry_core::message::Message;
use ferry_core::{AccountId, ContactId, ConversationId, MessageId};
use ferry_storage::rows::*;
use ferry_storage::{NewContact, NewJob, StorageError, StorageResult};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Microseconds since the epoch.
pub fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Back from microseconds.
pub fn dt(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(v).unwrap_or_default()
}

fn odt(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(dt)
}

pub const ACCOUNT_COLS: &str = "id, name, default_language, created_at";
pub fn account_row(r: &Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok(AccountRow { id: r.get(0)?, name: r.get(1)?, default_language: r.get(2)?, created_at: dt(r.get(3)?) })
}

pub const USER_COLS: &str = "id, account_id, name, email, role, languages, created_at";
pub fn user_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        role: r.get(4)?,
        languages: r.get(5)?,
        created_at: dt(r.get(6)?),
    })
}

pub const INBOX_COLS: &str = "id, account_id, name, channel, config, secret, created_at";
pub fn inbox_row(r: &Row<'_>) -> rusqlite::Result<InboxRow> {
    Ok(InboxRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        channel: r.get(3)?,
        config: r.get(4)?,
        secret: r.get(5)?,
        created_at: dt(r.get(6)?),
    })
}

pub const CONTACT_COLS: &str = "id, account_id, name, email, phone, country, language, timezone, vip, custom_attributes, tags, created_at, updated_at";
pub fn contact_row(r: &Row<'_>) -> rusqlite::Result<ContactRow> {
    Ok(ContactRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        country: r.get(5)?,
        language: r.get(6)?,
        timezone: r.get(7)?,
        vip: r.get::<_, i64>(8)? != 0,
        custom_attributes: r.get(9)?,
        tags: r.get(10)?,
        created_at: dt(r.get(11)?),
        updated_at: dt(r.get(12)?),
    })
}

pub const CONV_COLS: &str = "id, account_id, inbox_id, contact_id, status, assignee_id, team_id, priority, language, tags, snoozed_until, handoff_reason, last_buyer_message_at, first_reply_at, resolved_at, last_activity_at, created_at, updated_at";
pub fn conv_row(r: &Row<'_>) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        inbox_id: r.get(2)?,
        contact_id: r.get(3)?,
        status: r.get(4)?,
        assignee_id: r.get(5)?,
        team_id: r.get(6)?,
        priority: r.get(7)?,
        language: r.get(8)?,
        tags: r.get(9)?,
        snoozed_until: odt(r.get(10)?),
        handoff_reason: r.get(11)?,
        last_buyer_message_at: odt(r.get(12)?),
        first_reply_at: odt(r.get(13)?),
        resolved_at: odt(r.get(14)?),
        last_activity_at: dt(r.get(15)?),
        created_at: dt(r.get(16)?),
        updated_at: dt(r.get(17)?),
    })
}

pub const MSG_COLS: &str = "id, account_id, inbox_id, conversation_id, kind, sender, parts, external_id, delivery_state, delivery_error, sent_at, created_at";
pub fn msg_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        inbox_id: r.get(2)?,
        conversation_id: r.get(3)?,
        kind: r.get(4)?,
        sender: r.get(5)?,
        parts: r.get(6)?,
        external_id: r.get(7)?,
        delivery_state: r.get(8)?,
        delivery_error: r.get(9)?,
        sent_at: dt(r.get(10)?),
        created_at: dt(r.get(11)?),
    })
}

pub fn get_conversation(
    conn: &Connection,
    account: AccountId,
    id: ConversationId,
) -> StorageResult<Option<Conversation>> {
    let row = conn
        .prepare_cached(&format!("SELECT {CONV_COLS} FROM conversations WHERE account_id = ?1 AND id = ?2"))
        .map_err(db_err)?
        .query_row(params![account.0, id.0], conv_row)
        .optional()
        .map_err(db_err)?;
    row.map(Conversation::try_from).transpose()
}

pub fn get_message(conn: &Connection, account: AccountId, id: MessageId) -> StorageResult<Option<Message>> {
    let row = conn
        .prepare_cached(&format!("SELECT {MSG_COLS} FROM messages WHERE account_id = ?1 AND id = ?2"))
        .map_err(db_err)?
        .query_row(params![account.0, id.0], msg_row)
        .optional()
        .map_err(db_err)?;
    row.map(Message::try_from).transpose()
}

pub fn insert_conversation(conn: &Connection, c: &mut Conversation) -> StorageResult<()> {
    conn.prepare_cached(
        "INSERT INTO conversations (account_id, inbox_id, contact_id, status, assignee_id, team_id, priority, language, tags, \
         snoozed_until, handoff_reason, last_buyer_message_at, first_reply_at, resolved_at, last_activity_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )
    .map_err(db_err)?
    .execute(params![
        c.account_id.0,
        c.inbox_id.0,
        c.contact_id.0,
        c.status.as_str(),
        c.assignee_id.map(|x| x.0),
        c.team_id.map(|x| x.0),
        c.priority.as_str(),
        c.language,
        to_json(&c.tags),
        c.snoozed_until.map(ts),
        c.handoff_reason,
        c.last_buyer_message_at.map(ts),
        c.first_reply_at.map(ts),
        c.resolved_at.map(ts),
        ts(c.last_activity_at),
        ts(c.created_at),
        ts(c.updated_at),
    ])
    .map_err(db_err)?;
    c.id = ConversationId(conn.last_insert_rowid());
    Ok(())
}

pub fn save_conversation(conn: &Connection, c: &Conversation) -> StorageResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE conversations SET status = ?3, assignee_id = ?4, team_id = ?5, priority = ?6, language = ?7, tags = ?8, \
             snoozed_until = ?9, handoff_reason = ?10, last_buyer_message_at = ?11, first_reply_at = ?12, resolved_at = ?13, \
             last_activity_at = ?14, updated_at = ?15 WHERE account_id = ?1 AND id = ?2",
        )
        .map_err(db_err)?
        .execute(params![
            c.account_id.0,
            c.id.0,
            c.status.as_str(),
            c.assignee_id.map(|x| x.0),
            c.team_id.map(|x| x.0),
            c.priority.as_str(),
            c.language,
            to_json(&c.tags),
            c.snoozed_until.map(ts),
            c.handoff_reason,
            c.last_buyer_message_at.map(ts),
            c.first_reply_at.map(ts),
            c.resolved_at.map(ts),
            ts(c.last_activity_at),
            ts(c.updated_at),
        ])
        .map_err(db_err)?;
    if n == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

pub fn insert_message(conn: &Connection, m: &mut Message) -> StorageResult<()> {
    let (state, error) = match &m.delivery {
        None => (None, None),
        Some(d) => (
            Some(d.as_str()),
            match d {
                ferry_core::message::DeliveryStatus::Failed { reason } => Some(reason.clone()),
                _ => None,
            },
        ),
    };
    conn.prepare_cached(
        "INSERT INTO messages (account_id, inbox_id, conversation_id, kind, sender, parts, search_text, external_id, \
         delivery_state, delivery_error, sent_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
    )
    .map_err(db_err)?
    .execute(params![
        m.account_id.0,
        m.inbox_id.0,
        m.conversation_id.0,
        m.kind.as_str(),
        to_json(&m.sender),
        to_json(&m.parts),
        search_text(m),
        m.external_id,
        state,
        error,
        ts(m.sent_at),
        ts(m.created_at),
    ])
    .map_err(db_err)?;
    m.id = MessageId(conn.last_insert_rowid());
    Ok(())
}

pub fn append_event(conn: &Connection, account: AccountId, event: &Event, now: DateTime<Utc>) -> StorageResult<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (account_id, kind, payload, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )
    .map_err(db_err)?
    .execute(params![account.0, event.name(), to_json(event), ts(now)])
    .map_err(db_err)?;
    Ok(())
}

pub fn insert_job(conn: &Connection, job: &NewJob, now: DateTime<Utc>) -> StorageResult<i64> {
    conn.prepare_cached(
        "INSERT INTO jobs (account_id, kind, payload, run_at, max_attempts, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )
    .map_err(db_err)?
    .execute(params![job.account_id.0, job.kind, to_json(&job.payload), ts(job.run_at), job.max_attempts, ts(now)])
    .map_err(db_err)?;
    Ok(conn.last_insert_rowid())
}

pub fn identities_of(conn: &Connection, contact: i64) -> StorageResult<Vec<IdentityRow>> {
    let mut st = conn
        .prepare_cached("SELECT kind, value, inbox_id FROM contact_identities WHERE contact_id = ?1 ORDER BY id")
        .map_err(db_err)?;
    let rows = st
        .query_map(params![contact], |r| Ok(IdentityRow { kind: r.get(0)?, value: r.get(1)?, inbox_id: r.get(2)? }))
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub fn get_contact(conn: &Connection, account: AccountId, id: ContactId) -> StorageResult<Option<Contact>> {
    let row = conn
        .prepare_cached(&format!("SELECT {CONTACT_COLS} FROM contacts WHERE account_id = ?1 AND id = ?2"))
        .map_err(db_err)?
        .query_row(params![account.0, id.0], contact_row)
        .optional()
        .map_err(db_err)?;
    match row {
        None => Ok(None),
        Some(r) => {
            let ids = identities_of(conn, r.id)?;
            Ok(Some(r.into_contact(ids)?))
        }
    }
}

pub fn find_identity(conn: &Connection, account: AccountId, i: &Identity) -> StorageResult<Option<ContactId>> {
    conn.prepare_cached(
        "SELECT contact_id FROM contact_identities WHERE account_id = ?1 AND kind = ?2 AND value = ?3 AND inbox_id = ?4",
    )
    .map_err(db_err)?
    .query_row(params![account.0, i.kind.as_str(), i.value, identity_scope(i)], |r| r.get::<_, i64>(0))
    .optional()
    .map_err(db_err)
    .map(|o| o.map(ContactId))
}

/// Adds an identity to a contact; `false` when it already belongs to
/// someone (then nothing changes).
pub fn attach_identity(
    conn: &Connection,
    account: AccountId,
    contact: ContactId,
    i: &Identity,
    now: DateTime<Utc>,
) -> StorageResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO contact_identities (account_id, contact_id, kind, value, inbox_id, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT DO NOTHING",
        )
        .map_err(db_err)?
        .execute(params![account.0, contact.0, i.kind.as_str(), i.value, identity_scope(i), ts(now)])
        .map_err(db_err)?;
    Ok(n == 1)
}

pub fn refresh_contact_search(conn: &Connection, id: ContactId) -> StorageResult<()> {
    let (name, email, phone): (String, Option<String>, Option<String>) = conn
        .prepare_cached("SELECT name, email, phone FROM contacts WHERE id = ?1")
        .map_err(db_err)?
        .query_row(params![id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db_err)?;
    let ids = identities_of(conn, id.0)?.into_iter().map(Identity::try_from).collect::<Result<Vec<_>, _>>()?;
    let text = contact_search_text(&name, email.as_deref(), phone.as_deref(), &ids);
    conn.prepare_cached("UPDATE contacts SET search = ?2 WHERE id = ?1")
        .map_err(db_err)?
        .execute(params![id.0, text])
        .map_err(db_err)?;
    Ok(())
}

pub fn insert_contact(
    conn: &Connection,
    account: AccountId,
    new: &NewContact,
    now: DateTime<Utc>,
) -> StorageResult<ContactId> {
    use ferry_core::contact::IdentityKind;
    let email = new.identities.iter().find(|i| i.kind == IdentityKind::Email).map(|i| i.value.clone());
    let phone = new.identities.iter().find(|i| i.kind == IdentityKind::Phone).map(|i| i.value.clone());
    let search = contact_search_text(&new.name, email.as_deref(), phone.as_deref(), &new.identities);
    conn.prepare_cached(
        "INSERT INTO contacts (account_id, name, email, phone, country, language, timezone, vip, custom_attributes, tags, search, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
    )
    .map_err(db_err)?
    .execute(params![
        account.0,
        new.name,
        email,
        phone,
        new.country,
        new.language,
        new.timezone,
        new.vip as i64,
        to_json(&new.custom_attributes),
        to_json(&new.tags),
        search,
        ts(now),
    ])
    .map_err(db_err)?;
    let id = ContactId(conn.last_insert_rowid());
    for i in &new.identities {
        if !attach_identity(conn, account, id, i, now)? {
            return Err(StorageError::Conflict { constraint: "contact_identities".into() });
        }
    }
    Ok(id)
}
