//! Merging contacts, undoing merges, and likely duplicates.

use super::contacts::{CONTACT_COLS, get_contact, identity_lock, refresh_contact_search, with_identities};
use super::insert;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row};
use crate::error::{StorageError, StorageResult};
use crate::merges::*;
use crate::model::{AuditOutcome, NewAuditEntry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::contact::{Contact, Identity};
use ferry_core::event::Event;
use ferry_core::{AccountId, ContactId, ConversationId, UserId};
use serde_json::json;
use std::collections::BTreeMap;

const MERGE_COLS: &str = "m.id, m.account_id, m.survivor_id, m.merged_id, c.name, m.merged_by, m.moved, m.created_at, \
     m.undone_at, m.undone_by";

fn merge_row(r: &Row) -> StorageResult<ContactMerge> {
    Ok(ContactMerge {
        id: r.int(0)?,
        account_id: AccountId(r.int(1)?),
        survivor_id: ContactId(r.int(2)?),
        merged_id: ContactId(r.int(3)?),
        merged_name: r.text(4)?,
        merged_by: r.opt_int(5)?.map(UserId),
        moves: r.json(6, "contact_merges.moved")?,
        created_at: r.time(7)?,
        undone_at: r.opt_time(8)?,
        undone_by: r.opt_int(9)?.map(UserId),
    })
}

async fn get_merge<D: Db>(db: &mut D, account: AccountId, id: i64) -> StorageResult<Option<ContactMerge>> {
    let sql = format!(
        "SELECT {MERGE_COLS} FROM contact_merges m JOIN contacts c ON c.id = m.merged_id \
         WHERE m.account_id = $1 AND m.id = $2"
    );
    db.row(&sql, args![account.0, id]).await?.as_ref().map(merge_row).transpose()
}

/// A contact and every contact merged into it, directly or through
/// another merged contact.
pub(super) async fn merged_group<D: Db>(db: &mut D, account: AccountId, contact: ContactId) -> StorageResult<Vec<i64>> {
    let mut group = vec![contact.0];
    let mut next = vec![contact.0];
    while !next.is_empty() {
        let sql = format!(
            "SELECT id FROM contacts WHERE account_id = $1 AND merged_into IN (SELECT value FROM {})",
            db.list("$2")
        );
        let found: Vec<i64> =
            db.rows(&sql, args![account.0, next]).await?.iter().map(|r| r.int(0)).collect::<StorageResult<_>>()?;
        next = found.into_iter().filter(|id| !group.contains(id)).collect();
        group.extend(next.iter().copied());
    }
    Ok(group)
}

/// Ids of `table` rows of the account that belong to `contact`.
async fn ids_of<D: Db>(db: &mut D, table: &str, account: AccountId, contact: ContactId) -> StorageResult<Vec<i64>> {
    db.rows(
        &format!("SELECT id FROM {table} WHERE account_id = $1 AND contact_id = $2 ORDER BY id"),
        args![account.0, contact.0],
    )
    .await?
    .iter()
    .map(|r| r.int(0))
    .collect()
}

/// Moves the listed `table` rows now on `from` to `to`.
async fn move_rows<D: Db>(
    db: &mut D,
    table: &str,
    account: AccountId,
    ids: &[i64],
    from: ContactId,
    to: ContactId,
) -> StorageResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE {table} SET contact_id = $3 WHERE account_id = $1 AND contact_id = $2 \
         AND id IN (SELECT value FROM {}) RETURNING id",
        db.list("$4")
    );
    let mut moved: Vec<i64> = db
        .rows(&sql, args![account.0, from.0, to.0, ids.to_vec()])
        .await?
        .iter()
        .map(|r| r.int(0))
        .collect::<StorageResult<_>>()?;
    moved.sort_unstable();
    Ok(moved)
}

async fn write_fields<D: Db>(
    db: &mut D,
    account: AccountId,
    id: ContactId,
    f: &ContactFields,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    db.exec(
        "UPDATE contacts SET name = $3, email = $4, phone = $5, country = $6, language = $7, timezone = $8, vip = $9, \
         custom_attributes = $10, tags = $11, updated_at = $12 WHERE account_id = $1 AND id = $2",
        args![
            account.0,
            id.0,
            &f.name,
            &f.email,
            &f.phone,
            &f.country,
            &f.language,
            &f.timezone,
            f.vip,
            Arg::json(&f.custom_attributes),
            Arg::json(&f.tags),
            now,
        ],
    )
    .await
    .map(drop)
}

/// Tells whoever shows them that the contacts and the moved conversations
/// changed.
async fn announce<D: Db>(
    db: &mut D,
    account: AccountId,
    contacts: &[ContactId],
    conversations: &[i64],
    now: DateTime<Utc>,
) -> StorageResult<()> {
    for id in contacts {
        if let Some(contact) = get_contact(db, account, *id, Lock::None).await? {
            super::outbox::append_event(db, account, &Event::ContactUpdated { contact }, now).await?;
        }
    }
    for id in conversations {
        if let Some(conversation) =
            super::conversations::get_conversation(db, account, ConversationId(*id), Lock::None).await?
        {
            let event = Event::ConversationUpdated { conversation, changes: Vec::new() };
            super::outbox::append_event(db, account, &event, now).await?;
        }
    }
    Ok(())
}

fn audit(actor: &MergeActor, action: &str, target: ContactId, details: serde_json::Value) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: actor.id,
        actor_name: actor.name.clone(),
        action: action.to_owned(),
        target_kind: "contact".to_owned(),
        target_id: target.0.to_string(),
        details,
        outcome: AuditOutcome::Ok,
        error: None,
    }
}

/// The digits of a phone number, or of a WhatsApp id.
fn digits(v: &str) -> String {
    v.chars().filter(char::is_ascii_digit).collect()
}

#[async_trait]
impl<B: Backend> MergeRepo for B {
    async fn merge_contacts(
        &self,
        account: AccountId,
        survivor: ContactId,
        merged: ContactId,
        actor: MergeActor,
        now: DateTime<Utc>,
    ) -> StorageResult<ContactMerge> {
        if survivor == merged {
            return Err(StorageError::Conflict { constraint: "contact_merges.same_contact".into() });
        }
        self.write(move |db| {
            Box::pin(async move {
                // Intake decides under an identity's lock which contact it
                // belongs to: take the locks of the identities that move.
                let other = get_contact(db, account, merged, Lock::None).await?.ok_or(StorageError::NotFound)?;
                db.serialize_on(other.identities.iter().map(|i| identity_lock(account, i)).collect()).await?;
                // Both rows, in id order.
                let (first, second) = if survivor.0 < merged.0 { (survivor, merged) } else { (merged, survivor) };
                let a = get_contact(db, account, first, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
                let b = get_contact(db, account, second, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
                let (keep, other) = if a.id == survivor { (a, b) } else { (b, a) };

                let identities = ids_of(db, "contact_identities", account, merged).await?;
                let conversations = ids_of(db, "conversations", account, merged).await?;
                let surveys = ids_of(db, "csat_surveys", account, merged).await?;
                let identities = move_rows(db, "contact_identities", account, &identities, merged, survivor).await?;
                let conversations = move_rows(db, "conversations", account, &conversations, merged, survivor).await?;
                let surveys = move_rows(db, "csat_surveys", account, &surveys, merged, survivor).await?;

                let before = ContactFields::of(&keep);
                let after = before.merged_with(&ContactFields::of(&other));
                write_fields(db, account, survivor, &after, now).await?;
                db.exec(
                    "UPDATE contacts SET merged_into = $3, search = '', updated_at = $4 WHERE account_id = $1 AND id = $2",
                    args![account.0, merged.0, survivor.0, now],
                )
                .await?;
                db.exec(
                    "DELETE FROM contact_profile_values WHERE account_id = $1 AND contact_id = $2",
                    args![account.0, merged.0],
                )
                .await?;
                db.exec("DELETE FROM contact_profiles WHERE account_id = $1 AND contact_id = $2", args![
                    account.0, merged.0
                ])
                .await?;
                refresh_contact_search(db, survivor).await?;
                super::profiles::refresh_profile(db, account, survivor, now).await?;

                let details = json!({
                    "merged_contact_id": merged.0,
                    "identities": identities.len(),
                    "conversations": conversations.len(),
                    "surveys": surveys.len(),
                });
                let moves = MergeMoves { identities, conversations, surveys, before, after };
                let id = insert(
                    db,
                    "INSERT INTO contact_merges (account_id, survivor_id, merged_id, merged_by, moved, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    args![account.0, survivor.0, merged.0, actor.id.map(|u| u.0), Arg::json(&moves), now],
                )
                .await?;
                let mut details = details;
                details["merge_id"] = json!(id);
                super::audit::append(db, account, audit(&actor, "contact.merge", survivor, details), now).await?;
                announce(db, account, &[survivor], &moves.conversations, now).await?;
                get_merge(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn undo_contact_merge(
        &self,
        account: AccountId,
        merge: i64,
        actor: MergeActor,
        now: DateTime<Utc>,
    ) -> StorageResult<ContactMerge> {
        self.write(move |db| {
            Box::pin(async move {
                let m = get_merge(db, account, merge).await?.ok_or(StorageError::NotFound)?;
                if m.undone_at.is_some() {
                    return Err(StorageError::Conflict { constraint: "contact_merges.undone".into() });
                }
                let (survivor, merged) = (m.survivor_id, m.merged_id);
                // The identities that go back, under their locks.
                let list = db.list("$3");
                let rows = db
                    .rows(
                        &format!(
                            "SELECT kind, value, inbox_id FROM contact_identities WHERE account_id = $1 \
                             AND contact_id = $2 AND id IN (SELECT value FROM {list})"
                        ),
                        args![account.0, survivor.0, m.moves.identities.clone()],
                    )
                    .await?;
                let mut locks = Vec::new();
                for r in &rows {
                    let row = crate::rows::IdentityRow { kind: r.text(0)?, value: r.text(1)?, inbox_id: r.int(2)? };
                    locks.push(identity_lock(account, &Identity::try_from(row)?));
                }
                db.serialize_on(locks).await?;
                let keep = match get_contact(db, account, survivor, Lock::NoKeyUpdate).await? {
                    Some(c) => c,
                    None => return Err(StorageError::Conflict { constraint: "contact_merges.survivor_merged".into() }),
                };

                let identities =
                    move_rows(db, "contact_identities", account, &m.moves.identities, survivor, merged).await?;
                let conversations =
                    move_rows(db, "conversations", account, &m.moves.conversations, survivor, merged).await?;
                let surveys = move_rows(db, "csat_surveys", account, &m.moves.surveys, survivor, merged).await?;
                let fields = ContactFields::of(&keep).unmerged(&m.moves.before, &m.moves.after);
                write_fields(db, account, survivor, &fields, now).await?;
                db.exec(
                    "UPDATE contacts SET merged_into = NULL, updated_at = $3 WHERE account_id = $1 AND id = $2",
                    args![account.0, merged.0, now],
                )
                .await?;
                for c in [survivor, merged] {
                    refresh_contact_search(db, c).await?;
                    super::profiles::refresh_profile(db, account, c, now).await?;
                }
                db.exec(
                    "UPDATE contact_merges SET undone_at = $3, undone_by = $4 WHERE account_id = $1 AND id = $2",
                    args![account.0, merge, now, actor.id.map(|u| u.0)],
                )
                .await?;
                let details = json!({
                    "merge_id": merge,
                    "restored_contact_id": merged.0,
                    "identities": identities.len(),
                    "conversations": conversations.len(),
                    "surveys": surveys.len(),
                });
                super::audit::append(db, account, audit(&actor, "contact.unmerge", survivor, details), now).await?;
                announce(db, account, &[survivor, merged], &conversations, now).await?;
                get_merge(db, account, merge).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn get_contact_merge(&self, account: AccountId, merge: i64) -> StorageResult<Option<ContactMerge>> {
        self.read(move |db| Box::pin(get_merge(db, account, merge))).await
    }

    async fn contact_merges(&self, account: AccountId, survivor: ContactId) -> StorageResult<Vec<ContactMerge>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {MERGE_COLS} FROM contact_merges m JOIN contacts c ON c.id = m.merged_id \
                     WHERE m.account_id = $1 AND m.survivor_id = $2 ORDER BY m.id DESC LIMIT 100"
                );
                db.rows(&sql, args![account.0, survivor.0]).await?.iter().map(merge_row).collect()
            })
        })
        .await
    }

    async fn duplicate_contacts(
        &self,
        account: AccountId,
        contact: ContactId,
        limit: u32,
    ) -> StorageResult<Vec<DuplicateContact>> {
        self.read(move |db| {
            Box::pin(async move {
                let c = get_contact(db, account, contact, Lock::None).await?.ok_or(StorageError::NotFound)?;
                let mut phones: Vec<String> = Vec::new();
                let mut emails: Vec<String> = Vec::new();
                for i in &c.identities {
                    match i.kind {
                        ferry_core::contact::IdentityKind::Phone | ferry_core::contact::IdentityKind::Whatsapp => {
                            phones.push(digits(&i.value))
                        }
                        ferry_core::contact::IdentityKind::Email => emails.push(i.value.to_lowercase()),
                        _ => {}
                    }
                }
                phones.extend(c.phone.as_deref().map(digits));
                emails.extend(c.email.as_deref().map(str::to_lowercase));
                phones.retain(|p| p.len() >= 6);
                phones.sort();
                phones.dedup();
                emails.sort();
                emails.dedup();

                let mut found: BTreeMap<i64, Vec<DuplicateReason>> = BTreeMap::new();
                let mut note = |id: i64, why: DuplicateReason| {
                    if id != contact.0 {
                        let reasons = found.entry(id).or_default();
                        if !reasons.contains(&why) {
                            reasons.push(why);
                        }
                    }
                };
                if !phones.is_empty() {
                    // E.164 for phones, bare digits for WhatsApp ids.
                    let plus: Vec<String> = phones.iter().map(|p| format!("+{p}")).collect();
                    let sql = format!(
                        "SELECT contact_id FROM contact_identities WHERE account_id = $1 AND \
                         ((kind = 'phone' AND value IN (SELECT value FROM {p})) \
                         OR (kind = 'whatsapp' AND value IN (SELECT value FROM {w}))) \
                         UNION SELECT id FROM contacts WHERE account_id = $1 AND phone IN (SELECT value FROM {p})",
                        p = db.list("$2"),
                        w = db.list("$3"),
                    );
                    for r in db.rows(&sql, args![account.0, plus, phones.clone()]).await? {
                        note(r.int(0)?, DuplicateReason::SamePhone);
                    }
                }
                if !emails.is_empty() {
                    let sql = format!(
                        "SELECT contact_id FROM contact_identities WHERE account_id = $1 AND kind = 'email' \
                         AND value IN (SELECT value FROM {e}) \
                         UNION SELECT id FROM contacts WHERE account_id = $1 AND LOWER(email) IN (SELECT value FROM {e})",
                        e = db.list("$2"),
                    );
                    for r in db.rows(&sql, args![account.0, emails]).await? {
                        note(r.int(0)?, DuplicateReason::SameEmail);
                    }
                }
                let name = c.name.trim().to_owned();
                if let (false, Some(country)) = (name.is_empty(), c.country.clone()) {
                    let rows = db
                        .rows(
                            "SELECT id FROM contacts WHERE account_id = $1 AND name = $2 AND country = $3 \
                             AND merged_into IS NULL LIMIT 200",
                            args![account.0, name, country],
                        )
                        .await?;
                    for r in rows {
                        note(r.int(0)?, DuplicateReason::SameNameAndCountry);
                    }
                }
                if found.is_empty() {
                    return Ok(Vec::new());
                }
                let ids: Vec<i64> = found.keys().copied().collect();
                let sql = format!(
                    "SELECT {CONTACT_COLS} FROM contacts WHERE account_id = $1 AND merged_into IS NULL \
                     AND id IN (SELECT value FROM {}) ORDER BY id",
                    db.list("$2")
                );
                let rows = db.rows(&sql, args![account.0, ids]).await?;
                let contacts: Vec<Contact> = with_identities(db, rows).await?;
                let mut out: Vec<DuplicateContact> = contacts
                    .into_iter()
                    .filter_map(|contact| {
                        found.remove(&contact.id.0).map(|reasons| DuplicateContact { contact, reasons })
                    })
                    .collect();
                // The most reasons first, then the oldest contact.
                out.sort_by(|a, b| b.reasons.len().cmp(&a.reasons.len()).then(a.contact.id.0.cmp(&b.contact.id.0)));
                out.truncate(limit.clamp(1, 50) as usize);
                Ok(out)
            })
        })
        .await
    }
}
