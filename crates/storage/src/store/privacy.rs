//! Custom roles, retention sweeps and the erasure of a buyer.

use super::insert;
use crate::args;
use crate::db::{Arg, Backend, Db, Row, conflict_as, found};
use crate::error::{StorageError, StorageResult};
use crate::privacy::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::{CustomRole, CustomRoleId, Permission, Permissions};
use ferry_core::{AccountId, ContactId, UserId};
use serde_json::{Value, json};

const ROLE_COLS: &str = "id, account_id, name, permissions, refund_limit_minor, created_at, updated_at";

/// What an erased message says instead.
const ERASED_TEXT: &str = "[erased]";
/// What a removed attachment becomes.
const REMOVED_TEXT: &str = "[attachment removed]";

fn role(r: &Row) -> StorageResult<CustomRole> {
    let names: Vec<String> = r.json(3, "custom_roles.permissions")?;
    // A permission a later version dropped is ignored rather than fatal.
    let allowed = names.iter().filter_map(|n| n.parse::<Permission>().ok()).collect();
    Ok(CustomRole {
        id: CustomRoleId(r.int(0)?),
        account_id: AccountId(r.int(1)?),
        name: r.text(2)?,
        permissions: Permissions { allowed, refund_limit_minor: r.opt_int(4)? }.normalized(),
        created_at: r.time(5)?,
        updated_at: r.time(6)?,
    })
}

fn names(p: &[Permission]) -> Arg {
    let mut v: Vec<&str> = p.iter().map(|p| p.as_str()).collect();
    v.sort_unstable();
    v.dedup();
    Arg::json(&v)
}

async fn role_by_id<D: Db>(db: &mut D, account: AccountId, id: CustomRoleId) -> StorageResult<Option<CustomRole>> {
    let sql = format!("SELECT {ROLE_COLS} FROM custom_roles WHERE account_id = $1 AND id = $2");
    db.row(&sql, args![account.0, id.0]).await?.as_ref().map(role).transpose()
}

fn days(v: Option<i64>) -> Option<u32> {
    v.and_then(|d| u32::try_from(d).ok())
}

/// The URLs of the attachments in a message's parts.
fn attachment_urls(parts: &Value, out: &mut Vec<String>) {
    match parts {
        Value::Array(a) => a.iter().for_each(|p| attachment_urls(p, out)),
        Value::Object(m) => {
            if let Some(url) = m.get("attachment").and_then(|a| a.get("url")).and_then(Value::as_str) {
                out.push(url.to_owned());
            }
            m.values().for_each(|v| attachment_urls(v, out));
        }
        _ => {}
    }
}

/// Keeps only the URLs no message of the account still refers to.
async fn unreferenced<D: Db>(db: &mut D, account: AccountId, mut urls: Vec<String>) -> StorageResult<Vec<String>> {
    urls.sort();
    urls.dedup();
    let mut out = Vec::new();
    for url in urls {
        let r = db
            .row(
                "SELECT 1 FROM messages WHERE account_id = $1 AND CAST(parts AS TEXT) LIKE $2 LIMIT 1",
                args![account.0, format!("%{}%", like_escape(&url))],
            )
            .await?;
        if r.is_none() {
            out.push(url);
        }
    }
    Ok(out)
}

/// `%` and `_` stand for themselves (URLs hold `_`; we match with the
/// default escape-less LIKE, so an `_` matching any one character only
/// widens the match, which keeps a file rather than losing it).
fn like_escape(s: &str) -> String {
    s.replace('%', "_")
}

/// Blanks every string in `v` that contains one of `needles`
/// (lower-cased), and the values of keys that name a person's details.
fn scrub(v: &mut Value, needles: &[String]) {
    scrub_at(v, needles, 0);
}

/// [`scrub`] at a depth: a document's own `name` (an order's `#1001`)
/// stays, a nested one (an address's) goes.
fn scrub_at(v: &mut Value, needles: &[String], depth: usize) {
    const PERSONAL: [&str; 15] = [
        "customer_name",
        "email",
        "phone",
        "name",
        "first_name",
        "last_name",
        "address1",
        "address2",
        "city",
        "zip",
        "company",
        "contact_email",
        "customer_email",
        "buyer_name",
        "buyer_email",
    ];
    match v {
        Value::Array(a) => a.iter_mut().for_each(|x| scrub_at(x, needles, depth + 1)),
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(s) if PERSONAL.contains(&k.as_str()) && (depth > 0 || k != "name") => s.clear(),
                    other => scrub_at(other, needles, depth + 1),
                }
            }
        }
        Value::String(s) => {
            let lower = s.to_lowercase();
            if needles.iter().any(|n| lower.contains(n.as_str())) {
                s.clear();
            }
        }
        _ => {}
    }
}

/// Rewrites a JSON column of the rows `select` returns (id, document).
async fn scrub_documents<D: Db>(
    db: &mut D,
    select: &str,
    select_args: Vec<Arg>,
    update: &str,
    needles: &[String],
) -> StorageResult<u64> {
    let rows = db.rows(select, select_args).await?;
    let mut n = 0;
    for r in &rows {
        let id = r.0.first().cloned();
        let mut doc: Value = r.json(1, "document")?;
        scrub(&mut doc, needles);
        let key = match id {
            Some(crate::db::Cell::Int(i)) => Arg::Int(Some(i)),
            Some(crate::db::Cell::Text(t)) => Arg::Text(Some(t)),
            _ => return Err(StorageError::Corrupt("document key".into())),
        };
        n += db.exec(update, vec![key, Arg::Json(doc)]).await?;
    }
    Ok(n)
}

#[async_trait]
impl<B: Backend> PrivacyRepo for B {
    async fn create_custom_role(
        &self,
        account: AccountId,
        new: NewCustomRole,
        now: DateTime<Utc>,
    ) -> StorageResult<CustomRole> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO custom_roles (account_id, name, permissions, refund_limit_minor, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                    args![account.0, new.name, names(&new.permissions), new.refund_limit_minor, now],
                )
                .await;
                let id = conflict_as(id, "custom_roles.name")?;
                role_by_id(db, account, CustomRoleId(id)).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn list_custom_roles(&self, account: AccountId) -> StorageResult<Vec<CustomRole>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ROLE_COLS} FROM custom_roles WHERE account_id = $1 ORDER BY name{}, id",
                    db.bytewise()
                );
                db.rows(&sql, args![account.0]).await?.iter().map(role).collect()
            })
        })
        .await
    }

    async fn get_custom_role(&self, account: AccountId, id: CustomRoleId) -> StorageResult<Option<CustomRole>> {
        self.read(move |db| Box::pin(role_by_id(db, account, id))).await
    }

    async fn update_custom_role(
        &self,
        account: AccountId,
        id: CustomRoleId,
        patch: CustomRolePatch,
        now: DateTime<Utc>,
    ) -> StorageResult<CustomRole> {
        self.write(move |db| {
            Box::pin(async move {
                let mut r = role_by_id(db, account, id).await?.ok_or(StorageError::NotFound)?;
                if let Some(n) = patch.name {
                    r.name = n;
                }
                if let Some(p) = patch.permissions {
                    r.permissions.allowed = p;
                }
                if let Some(l) = patch.refund_limit_minor {
                    r.permissions.refund_limit_minor = l;
                }
                let n = db
                    .exec(
                        "UPDATE custom_roles SET name = $3, permissions = $4, refund_limit_minor = $5, updated_at = $6 \
                         WHERE account_id = $1 AND id = $2",
                        args![
                            account.0,
                            id.0,
                            r.name,
                            names(&r.permissions.allowed),
                            r.permissions.refund_limit_minor,
                            now
                        ],
                    )
                    .await;
                found(conflict_as(n, "custom_roles.name")?)?;
                role_by_id(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn delete_custom_role(&self, account: AccountId, id: CustomRoleId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE users SET custom_role_id = NULL WHERE account_id = $1 AND custom_role_id = $2",
                    args![account.0, id.0],
                )
                .await?;
                found(
                    db.exec("DELETE FROM custom_roles WHERE account_id = $1 AND id = $2", args![account.0, id.0])
                        .await?,
                )
            })
        })
        .await
    }

    async fn set_user_custom_role(
        &self,
        account: AccountId,
        user: UserId,
        role: Option<CustomRoleId>,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                if let Some(r) = role {
                    role_by_id(db, account, r).await?.ok_or(StorageError::NotFound)?;
                }
                found(
                    db.exec(
                        "UPDATE users SET custom_role_id = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
                        args![account.0, user.0, role.map(|r| r.0), now],
                    )
                    .await?,
                )
            })
        })
        .await
    }

    async fn user_custom_role(&self, account: AccountId, user: UserId) -> StorageResult<Option<CustomRole>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ROLE_COLS} FROM custom_roles WHERE account_id = $1 AND id = \
                     (SELECT custom_role_id FROM users WHERE account_id = $1 AND id = $2)"
                );
                db.row(&sql, args![account.0, user.0]).await?.as_ref().map(role).transpose()
            })
        })
        .await
    }

    async fn retention(&self, account: AccountId) -> StorageResult<Retention> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT retention_conversation_days, retention_attachment_days FROM accounts WHERE id = $1",
                        args![account.0],
                    )
                    .await?
                    .ok_or(StorageError::NotFound)?;
                Ok(Retention { conversation_days: days(r.opt_int(0)?), attachment_days: days(r.opt_int(1)?) })
            })
        })
        .await
    }

    async fn set_retention(&self, account: AccountId, retention: Retention, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                found(
                    db.exec(
                        "UPDATE accounts SET retention_conversation_days = $2, retention_attachment_days = $3, \
                         updated_at = $4 WHERE id = $1",
                        args![
                            account.0,
                            retention.conversation_days.map(i64::from),
                            retention.attachment_days.map(i64::from),
                            now
                        ],
                    )
                    .await?,
                )
            })
        })
        .await
    }

    async fn accounts_with_retention(&self) -> StorageResult<Vec<(AccountId, Retention)>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, retention_conversation_days, retention_attachment_days FROM accounts \
                         WHERE retention_conversation_days IS NOT NULL OR retention_attachment_days IS NOT NULL \
                         ORDER BY id",
                        Vec::new(),
                    )
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            AccountId(r.int(0)?),
                            Retention { conversation_days: days(r.opt_int(1)?), attachment_days: days(r.opt_int(2)?) },
                        ))
                    })
                    .collect()
            })
        })
        .await
    }

    async fn delete_conversations_before(&self, account: AccountId, before: DateTime<Utc>) -> StorageResult<Sweep> {
        self.write(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT m.parts FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                         WHERE c.account_id = $1 AND c.last_activity_at < $2 AND m.account_id = $1",
                        args![account.0, before],
                    )
                    .await?;
                let mut urls = Vec::new();
                for r in &rows {
                    let parts: Value = r.json(0, "messages.parts")?;
                    attachment_urls(&parts, &mut urls);
                }
                let messages = rows.len() as u64;
                let conversations = db
                    .exec(
                        "DELETE FROM conversations WHERE account_id = $1 AND last_activity_at < $2",
                        args![account.0, before],
                    )
                    .await?;
                let attachment_urls = unreferenced(db, account, urls).await?;
                Ok(Sweep { conversations, messages, attachment_urls })
            })
        })
        .await
    }

    async fn strip_attachments_before(&self, account: AccountId, before: DateTime<Utc>) -> StorageResult<Sweep> {
        self.write(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, parts FROM messages WHERE account_id = $1 AND created_at < $2 \
                         AND CAST(parts AS TEXT) LIKE '%\"attachment\"%'",
                        args![account.0, before],
                    )
                    .await?;
                let mut urls = Vec::new();
                let mut messages = 0;
                for r in &rows {
                    let parts: Value = r.json(1, "messages.parts")?;
                    let Value::Array(list) = parts else { continue };
                    let mut changed = false;
                    let kept: Vec<Value> = list
                        .into_iter()
                        .map(|p| {
                            if let Some(url) = p.get("attachment").and_then(|a| a.get("url")).and_then(Value::as_str) {
                                urls.push(url.to_owned());
                                changed = true;
                                json!({ "type": "text", "text": REMOVED_TEXT })
                            } else {
                                p
                            }
                        })
                        .collect();
                    if changed {
                        messages += 1;
                        db.exec("UPDATE messages SET parts = $2 WHERE id = $1", args![r.int(0)?, Arg::json(&kept)])
                            .await?;
                    }
                }
                let attachment_urls = unreferenced(db, account, urls).await?;
                Ok(Sweep { conversations: 0, messages, attachment_urls })
            })
        })
        .await
    }

    async fn erase_contact(
        &self,
        account: AccountId,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> StorageResult<Erasure> {
        self.write(move |db| {
            Box::pin(async move {
                let c = db
                    .row(
                        "SELECT name, email, phone FROM contacts WHERE account_id = $1 AND id = $2",
                        args![account.0, contact.0],
                    )
                    .await?
                    .ok_or(StorageError::NotFound)?;
                let (name, email, phone) = (c.text(0)?, c.opt_text(1)?, c.opt_text(2)?);
                let ids = db
                    .rows(
                        "SELECT kind, value FROM contact_identities WHERE account_id = $1 AND contact_id = $2",
                        args![account.0, contact.0],
                    )
                    .await?;
                let (mut emails, mut phones, mut needles) = (Vec::new(), Vec::new(), Vec::new());
                emails.extend(email);
                phones.extend(phone);
                for r in &ids {
                    let (kind, value) = (r.text(0)?, r.text(1)?);
                    match kind.as_str() {
                        "email" => emails.push(value.clone()),
                        "phone" | "whatsapp" => phones.push(value.clone()),
                        _ => {}
                    }
                    needles.push(value);
                }
                // Contacts merged into this one are the same person: their
                // rows go with it, and so do the records of those merges.
                let group = super::merges::merged_group(db, account, contact).await?;
                let mut names = vec![name.clone()];
                for m in group.iter().filter(|m| **m != contact.0) {
                    let r = db
                        .row("SELECT name, email, phone FROM contacts WHERE id = $1", args![*m])
                        .await?
                        .ok_or(StorageError::NotFound)?;
                    names.push(r.text(0)?);
                    emails.extend(r.opt_text(1)?);
                    phones.extend(r.opt_text(2)?);
                    db.exec(
                        "UPDATE contacts SET name = $2, email = NULL, phone = NULL, custom_attributes = $3, tags = $4, \
                         search = '', updated_at = $5 WHERE id = $1",
                        args![*m, format!("Erased contact {m}"), Arg::json(&json!({})), Arg::json(&json!([])), now],
                    )
                    .await?;
                }
                let list = db.list("$2");
                db.exec(
                    &format!(
                        "DELETE FROM contact_merges WHERE account_id = $1 AND (survivor_id IN (SELECT value FROM {list}) \
                         OR merged_id IN (SELECT value FROM {list}))"
                    ),
                    args![account.0, group.clone()],
                )
                .await?;
                // What they said about marketing is about them too.
                db.exec(
                    &format!("DELETE FROM contact_consents WHERE account_id = $1 AND contact_id IN (SELECT value FROM {list})"),
                    args![account.0, group],
                )
                .await?;
                needles.extend(emails.iter().cloned());
                needles.extend(phones.iter().cloned());
                // A short name would match unrelated text.
                needles.extend(names.into_iter().filter(|n| n.chars().count() >= 5));
                let mut needles: Vec<String> =
                    needles.into_iter().map(|n| n.to_lowercase()).filter(|n| n.len() >= 4).collect();
                needles.sort();
                needles.dedup();

                // Orders in the shop mirror: the buyer's fields go.
                let (e, p) = ("$2".to_owned(), "$3".to_owned());
                let orders_sql = super::profiles::buyer_orders(&db.list(&e), &db.list(&p));
                let order_ids: Vec<i64> = db
                    .rows(&orders_sql, vec![Arg::Int(Some(account.0)), Arg::Texts(emails.clone()), Arg::Texts(phones.clone())])
                    .await?
                    .iter()
                    .map(|r| r.int(0))
                    .collect::<StorageResult<_>>()?;
                let mut orders = 0;
                if !order_ids.is_empty() {
                    let list = db.list("$2");
                    // The shop's customers behind those orders.
                    let customers = db
                        .rows(
                            &format!(
                                "SELECT DISTINCT sc.connection_id, sc.external_id FROM shop_customers sc \
                                 JOIN shop_orders o ON o.connection_id = sc.connection_id \
                                 AND o.customer_external_id = sc.external_id \
                                 WHERE o.account_id = $1 AND o.id IN (SELECT value FROM {list})"
                            ),
                            args![account.0, order_ids.clone()],
                        )
                        .await?;
                    for cu in &customers {
                        let (conn, ext) = (cu.int(0)?, cu.text(1)?);
                        let doc = db
                            .row(
                                "SELECT document FROM shop_customers WHERE connection_id = $1 AND external_id = $2",
                                args![conn, ext.clone()],
                            )
                            .await?;
                        if let Some(doc) = doc {
                            let mut d: Value = doc.json(0, "shop_customers.document")?;
                            scrub(&mut d, &needles);
                            db.exec(
                                "UPDATE shop_customers SET email = NULL, phone = NULL, document = $3 \
                                 WHERE connection_id = $1 AND external_id = $2",
                                args![conn, ext, Arg::Json(d)],
                            )
                            .await?;
                        }
                    }
                    let rows = db
                        .rows(
                            &format!(
                                "SELECT id, document, number, connection_id, external_id FROM shop_orders \
                                 WHERE account_id = $1 AND id IN (SELECT value FROM {list})"
                            ),
                            args![account.0, order_ids.clone()],
                        )
                        .await?;
                    for r in &rows {
                        let mut d: Value = r.json(1, "shop_orders.document")?;
                        scrub(&mut d, &needles);
                        orders += db
                            .exec(
                                "UPDATE shop_orders SET email = NULL, phone = NULL, search_text = $2, document = $3, \
                                 updated_at = $4 WHERE id = $1",
                                args![r.int(0)?, r.text(2)?, Arg::Json(d), now],
                            )
                            .await?;
                        let (conn, ext) = (r.int(3)?, r.text(4)?);
                        for table in ["shop_fulfillments", "shop_refunds"] {
                            scrub_documents(
                                db,
                                &format!(
                                    "SELECT external_id, document FROM {table} \
                                     WHERE connection_id = $1 AND order_external_id = $2"
                                ),
                                args![conn, ext.clone()],
                                &format!(
                                    "UPDATE {table} SET document = $2 WHERE connection_id = {conn} AND external_id = $1"
                                ),
                                &needles,
                            )
                            .await?;
                        }
                    }
                }

                // Messages: their content goes, their skeleton stays.
                let rows = db
                    .rows(
                        "SELECT m.id, m.parts FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                         WHERE c.account_id = $1 AND c.contact_id = $2 ORDER BY m.id",
                        args![account.0, contact.0],
                    )
                    .await?;
                let mut urls = Vec::new();
                let erased = Arg::json(&json!([{ "type": "text", "text": ERASED_TEXT }]));
                for r in &rows {
                    let parts: Value = r.json(1, "messages.parts")?;
                    attachment_urls(&parts, &mut urls);
                    db.exec(
                        "UPDATE messages SET parts = $2, search_text = '', meta = NULL, delivery_error = NULL, \
                         updated_at = $3 WHERE id = $1",
                        args![r.int(0)?, erased.clone(), now],
                    )
                    .await?;
                }
                let messages = rows.len() as u64;
                let conversations = db
                    .row(
                        "SELECT COUNT(*) FROM conversations WHERE account_id = $1 AND contact_id = $2",
                        args![account.0, contact.0],
                    )
                    .await?
                    .map(|r| r.count(0))
                    .transpose()?
                    .unwrap_or(0);
                db.exec(
                    "DELETE FROM bot_states WHERE account_id = $1 AND conversation_id IN \
                     (SELECT id FROM conversations WHERE account_id = $1 AND contact_id = $2)",
                    args![account.0, contact.0],
                )
                .await?;
                db.exec(
                    "UPDATE csat_surveys SET comment = NULL WHERE account_id = $1 AND contact_id = $2",
                    args![account.0, contact.0],
                )
                .await?;

                // The contact.
                db.exec(
                    "DELETE FROM contact_identities WHERE account_id = $1 AND contact_id = $2",
                    args![account.0, contact.0],
                )
                .await?;
                db.exec(
                    "DELETE FROM contact_profile_values WHERE account_id = $1 AND contact_id = $2",
                    args![account.0, contact.0],
                )
                .await?;
                db.exec(
                    "UPDATE contacts SET name = $3, email = NULL, phone = NULL, custom_attributes = $4, tags = $5, \
                     search = '', updated_at = $6 WHERE account_id = $1 AND id = $2",
                    args![
                        account.0,
                        contact.0,
                        format!("Erased contact {}", contact.0),
                        Arg::json(&json!({})),
                        Arg::json(&json!([])),
                        now
                    ],
                )
                .await?;

                // Copies elsewhere: events not yet handed over, jobs, and
                // audit details that name them.
                for n in &needles {
                    let like = format!("%{}%", like_escape(n));
                    db.exec(
                        "DELETE FROM outbox WHERE account_id = $1 AND LOWER(CAST(payload AS TEXT)) LIKE $2",
                        args![account.0, like.clone()],
                    )
                    .await?;
                    db.exec(
                        "DELETE FROM jobs WHERE account_id = $1 AND LOWER(CAST(payload AS TEXT)) LIKE $2",
                        args![account.0, like.clone()],
                    )
                    .await?;
                    scrub_documents(
                        db,
                        "SELECT id, details FROM audit_log WHERE account_id = $1 AND LOWER(CAST(details AS TEXT)) LIKE $2",
                        args![account.0, like.clone()],
                        "UPDATE audit_log SET details = $2 WHERE id = $1",
                        &needles,
                    )
                    .await?;
                    db.exec(
                        "UPDATE audit_log SET error = NULL WHERE account_id = $1 AND LOWER(error) LIKE $2",
                        args![account.0, like],
                    )
                    .await?;
                }
                let attachment_urls = unreferenced(db, account, urls).await?;
                Ok(Erasure { conversations, messages, orders, attachment_urls })
            })
        })
        .await
    }

    async fn scan_text(&self, needle: &str) -> StorageResult<Vec<String>> {
        let like = format!("%{}%", needle.to_lowercase());
        self.read(move |db| {
            Box::pin(async move {
                let columns = if B::NAME == "sqlite" {
                    db.rows(
                        "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid",
                        Vec::new(),
                    )
                    .await?
                } else {
                    db.rows(
                        "SELECT table_name::text, column_name::text FROM information_schema.columns \
                         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
                        Vec::new(),
                    )
                    .await?
                };
                let mut hits = Vec::new();
                for c in &columns {
                    let (t, col) = (c.text(0)?, c.text(1)?);
                    let sql = format!("SELECT COUNT(*) FROM \"{t}\" WHERE LOWER(CAST(\"{col}\" AS TEXT)) LIKE $1");
                    if db.row(&sql, args![like.clone()]).await?.map(|r| r.int(0)).transpose()?.unwrap_or(0) > 0 {
                        hits.push(format!("{t}.{col}"));
                    }
                }
                Ok(hits)
            })
        })
        .await
    }
}
