//! Contacts and their channel identities.

use super::insert;
use super::intake::primary_contacts;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row, lock_key};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::ContactRepo;
use crate::rows::{ContactRow, IdentityRow, contact_search_text, contains_pattern, identity_scope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::{Contact, Identity, IdentityKind};
use ferry_core::{AccountId, ContactId};
use std::collections::HashMap;

pub(super) const CONTACT_COLS: &str = "id, account_id, name, email, phone, country, language, timezone, vip, \
     custom_attributes, tags, created_at, updated_at";

fn contact_row(r: &Row) -> StorageResult<ContactRow> {
    Ok(ContactRow {
        id: r.int(0)?,
        account_id: r.int(1)?,
        name: r.text(2)?,
        email: r.opt_text(3)?,
        phone: r.opt_text(4)?,
        country: r.opt_text(5)?,
        language: r.opt_text(6)?,
        timezone: r.opt_text(7)?,
        vip: r.flag(8)?,
        custom_attributes: r.text(9)?,
        tags: r.text(10)?,
        created_at: r.time(11)?,
        updated_at: r.time(12)?,
    })
}

/// The lock on one identity of an account: whoever holds it may decide
/// which contact the identity belongs to.
pub(super) fn identity_lock(account: AccountId, i: &Identity) -> i64 {
    lock_key(&["ferry", "identity", &account.0.to_string(), i.kind.as_str(), &i.value, &identity_scope(i).to_string()])
}

/// The identities of several contacts, each list in the order they were
/// added.
async fn identities_of<D: Db>(db: &mut D, contacts: Vec<i64>) -> StorageResult<HashMap<i64, Vec<IdentityRow>>> {
    let sql = format!(
        "SELECT contact_id, kind, value, inbox_id FROM contact_identities \
         WHERE contact_id IN (SELECT value FROM {}) ORDER BY id",
        db.list("$1")
    );
    let mut out: HashMap<i64, Vec<IdentityRow>> = HashMap::new();
    for r in db.rows(&sql, args![contacts]).await? {
        let row = IdentityRow { kind: r.text(1)?, value: r.text(2)?, inbox_id: r.int(3)? };
        out.entry(r.int(0)?).or_default().push(row);
    }
    Ok(out)
}

/// Contacts with their identities.
pub(super) async fn with_identities<D: Db>(db: &mut D, rows: Vec<Row>) -> StorageResult<Vec<Contact>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let rows = rows.iter().map(contact_row).collect::<StorageResult<Vec<_>>>()?;
    let mut ids = identities_of(db, rows.iter().map(|r| r.id).collect()).await?;
    rows.into_iter()
        .map(|r| {
            let mine = ids.remove(&r.id).unwrap_or_default();
            r.into_contact(mine)
        })
        .collect()
}

pub(super) async fn get_contact<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ContactId,
    lock: Lock,
) -> StorageResult<Option<Contact>> {
    let sql = format!(
        "SELECT {CONTACT_COLS} FROM contacts WHERE account_id = $1 AND id = $2 AND merged_into IS NULL{}",
        db.lock(lock)
    );
    let rows = db.rows(&sql, args![account.0, id.0]).await?;
    Ok(with_identities(db, rows).await?.pop())
}

pub(super) async fn find_identity<D: Db>(
    db: &mut D,
    account: AccountId,
    i: &Identity,
) -> StorageResult<Option<ContactId>> {
    let row = db
        .row(
            "SELECT contact_id FROM contact_identities WHERE account_id = $1 AND kind = $2 AND value = $3 \
             AND inbox_id = $4",
            args![account.0, i.kind.as_str(), &i.value, identity_scope(i)],
        )
        .await?;
    row.map(|r| r.int(0).map(ContactId)).transpose()
}

/// Adds an identity to a contact; `false` when it already belongs to
/// someone (then nothing changes).
pub(super) async fn attach_identity<D: Db>(
    db: &mut D,
    account: AccountId,
    contact: ContactId,
    i: &Identity,
    now: DateTime<Utc>,
) -> StorageResult<bool> {
    let n = db
        .exec(
            "INSERT INTO contact_identities (account_id, contact_id, kind, value, inbox_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
            args![account.0, contact.0, i.kind.as_str(), &i.value, identity_scope(i), now],
        )
        .await?;
    Ok(n == 1)
}

/// Recomputes the lower-cased text the contact search matches.
pub(super) async fn refresh_contact_search<D: Db>(db: &mut D, id: ContactId) -> StorageResult<()> {
    let r = db.row("SELECT name, email, phone FROM contacts WHERE id = $1", args![id.0]).await?;
    let r = r.ok_or(StorageError::NotFound)?;
    let (name, email, phone) = (r.text(0)?, r.opt_text(1)?, r.opt_text(2)?);
    let ids = identities_of(db, vec![id.0]).await?.remove(&id.0).unwrap_or_default();
    let ids = ids.into_iter().map(Identity::try_from).collect::<StorageResult<Vec<_>>>()?;
    let text = contact_search_text(&name, email.as_deref(), phone.as_deref(), &ids);
    db.exec("UPDATE contacts SET search = $2 WHERE id = $1", args![id.0, text]).await.map(drop)
}

/// Inserts a contact with its identities; an identity that already
/// belongs to someone is a conflict. The caller holds the identities'
/// locks.
pub(super) async fn insert_contact<D: Db>(
    db: &mut D,
    account: AccountId,
    new: &NewContact,
    now: DateTime<Utc>,
) -> StorageResult<ContactId> {
    let (email, phone) = primary_contacts(&new.identities);
    let search = contact_search_text(&new.name, email.as_deref(), phone.as_deref(), &new.identities);
    let id = insert(
        db,
        "INSERT INTO contacts (account_id, name, email, phone, country, language, timezone, vip, custom_attributes, \
         tags, search, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        args![
            account.0,
            &new.name,
            email,
            phone,
            &new.country,
            &new.language,
            &new.timezone,
            new.vip,
            Arg::json(&new.custom_attributes),
            Arg::json(&new.tags),
            search,
            now,
        ],
    )
    .await?;
    let id = ContactId(id);
    for i in &new.identities {
        if !attach_identity(db, account, id, i, now).await? {
            return Err(StorageError::Conflict { constraint: "contact_identities".into() });
        }
    }
    super::profiles::refresh_profile(db, account, id, now).await?;
    Ok(id)
}

#[async_trait]
impl<B: Backend> ContactRepo for B {
    async fn create_contact(&self, account: AccountId, new: NewContact, now: DateTime<Utc>) -> StorageResult<Contact> {
        self.write(move |db| {
            Box::pin(async move {
                db.serialize_on(new.identities.iter().map(|i| identity_lock(account, i)).collect()).await?;
                let id = insert_contact(db, account, &new, now).await?;
                get_contact(db, account, id, Lock::None).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn get_contact(&self, account: AccountId, id: ContactId) -> StorageResult<Option<Contact>> {
        self.read(move |db| Box::pin(get_contact(db, account, id, Lock::None))).await
    }

    async fn find_contact_by_identity(
        &self,
        account: AccountId,
        identity: &Identity,
    ) -> StorageResult<Option<ContactId>> {
        let identity = identity.clone();
        self.read(move |db| Box::pin(async move { find_identity(db, account, &identity).await })).await
    }

    async fn search_contacts(&self, account: AccountId, query: ContactQuery) -> StorageResult<Vec<Contact>> {
        self.read(move |db| {
            Box::pin(async move {
                let pattern = query.q.as_deref().map(contains_pattern);
                let before = query.before.map_or(i64::MAX, |b| b.0);
                let sql = format!(
                    "SELECT {CONTACT_COLS} FROM contacts WHERE account_id = $1 AND id < $2 AND merged_into IS NULL \
                     AND ($3 IS NULL OR search LIKE $3 ESCAPE '\\') ORDER BY id DESC LIMIT $4"
                );
                let rows = db.rows(&sql, args![account.0, before, pattern, query.limit.clamp(1, 500)]).await?;
                with_identities(db, rows).await
            })
        })
        .await
    }

    async fn update_contact(
        &self,
        account: AccountId,
        id: ContactId,
        patch: ContactPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<Contact> {
        self.write(move |db| {
            Box::pin(async move {
                // Identity locks before the row lock, in the order intake
                // takes them.
                db.serialize_on(patch.add_identities.iter().map(|i| identity_lock(account, i)).collect()).await?;
                let mut ct = get_contact(db, account, id, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
                patch.apply_to(&mut ct);
                for i in &patch.add_identities {
                    if !attach_identity(db, account, id, i, now).await?
                        && find_identity(db, account, i).await? != Some(id)
                    {
                        return Err(StorageError::Conflict { constraint: "contact_identities".into() });
                    }
                    match i.kind {
                        IdentityKind::Email if ct.email.is_none() => ct.email = Some(i.value.clone()),
                        IdentityKind::Phone if ct.phone.is_none() => ct.phone = Some(i.value.clone()),
                        _ => {}
                    }
                }
                db.exec(
                    "UPDATE contacts SET name = $3, email = $4, phone = $5, country = $6, language = $7, \
                     timezone = $8, vip = $9, custom_attributes = $10, tags = $11, updated_at = $12 \
                     WHERE account_id = $1 AND id = $2",
                    args![
                        account.0,
                        id.0,
                        &ct.name,
                        &ct.email,
                        &ct.phone,
                        &ct.country,
                        &ct.language,
                        &ct.timezone,
                        ct.vip,
                        Arg::json(&ct.custom_attributes),
                        Arg::json(&ct.tags),
                        now,
                    ],
                )
                .await?;
                refresh_contact_search(db, id).await?;
                super::profiles::refresh_profile(db, account, id, now).await?;
                let contact = get_contact(db, account, id, Lock::None).await?.ok_or(StorageError::NotFound)?;
                let event = ferry_core::event::Event::ContactUpdated { contact: contact.clone() };
                super::outbox::append_event(db, account, &event, now).await?;
                Ok(contact)
            })
        })
        .await
    }
}
