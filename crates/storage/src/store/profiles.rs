//! Contact profiles (derived in the write that changes what they come
//! from), the SKU lines of orders, and saved segments evaluated in SQL.

use super::contacts::{CONTACT_COLS, with_identities};
use super::{Query, insert};
use crate::args;
use crate::db::{Arg, Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use crate::profiles::{AudienceSize, ProfileRepo, Segment};
use crate::rows::contains_pattern;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_commerce::Order;
use ferry_core::contact::Contact;
use ferry_core::profile::{ContactProfile, TOPICS_KEPT, VipRules, most_frequent};
use ferry_core::segment::{SegmentCondition, SegmentFilter};
use ferry_core::{AccountId, ContactId};
use std::collections::HashMap;

/// A buyer's orders: those placed with one of the e-mails (`$e`) or phones
/// (`$p`), or by a shop customer with one of them. `e` and `p` are the
/// backend's list expressions.
pub(super) fn buyer_orders(e: &str, p: &str) -> String {
    // One indexed lookup per way an order names its buyer: an `OR` of them
    // lets the planner walk every order of the account instead. The unary
    // `+` keeps the account's index out of the customer branches, so they
    // start from the customer's e-mail or phone.
    let customers = |column: &str, list: &str| {
        format!(
            "SELECT o.id FROM shop_customers sc JOIN shop_orders o ON o.connection_id = sc.connection_id \
             AND o.customer_external_id = sc.external_id WHERE +o.account_id = $1 \
             AND sc.{column} IN (SELECT value FROM {list})"
        )
    };
    format!(
        "SELECT id FROM shop_orders WHERE account_id = $1 AND email IN (SELECT value FROM {e}) \
         UNION SELECT id FROM shop_orders WHERE account_id = $1 AND phone IN (SELECT value FROM {p}) \
         UNION {} UNION {}",
        customers("email", e),
        customers("phone", p)
    )
}

/// Rewrites the SKU lines and total of one stored order.
pub(super) async fn write_order_lines<D: Db>(
    db: &mut D,
    account: AccountId,
    order_id: i64,
    o: &Order,
) -> StorageResult<()> {
    db.exec("DELETE FROM shop_order_lines WHERE order_id = $1", args![order_id]).await?;
    db.exec("UPDATE shop_orders SET total_minor = $2 WHERE id = $1", args![order_id, o.total_minor]).await?;
    let mut lines: Vec<(String, i64)> = Vec::new();
    for li in &o.line_items {
        let Some(sku) = li.sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) else { continue };
        match lines.iter_mut().find(|(s, _)| s == sku) {
            Some((_, q)) => *q += li.quantity,
            None => lines.push((sku.to_owned(), li.quantity)),
        }
    }
    for (sku, quantity) in lines {
        db.exec(
            "INSERT INTO shop_order_lines (order_id, account_id, sku, quantity, placed_at) VALUES ($1, $2, $3, $4, $5)",
            args![order_id, account.0, sku, quantity, o.created_at],
        )
        .await?;
    }
    Ok(())
}

/// The contacts an order or shop customer with these e-mails and phones
/// belongs to.
pub(super) async fn contacts_reached_by<D: Db>(
    db: &mut D,
    account: AccountId,
    emails: Vec<String>,
    phones: Vec<String>,
) -> StorageResult<Vec<ContactId>> {
    if emails.is_empty() && phones.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT contact_id FROM contact_identities WHERE account_id = $1 AND \
         ((kind = 'email' AND value IN (SELECT value FROM {})) OR (kind = 'phone' AND value IN (SELECT value FROM {})))",
        db.list("$2"),
        db.list("$3")
    );
    let rows = db.rows(&sql, args![account.0, emails, phones]).await?;
    rows.iter().map(|r| Ok(ContactId(r.int(0)?))).collect()
}

async fn vip_rules<D: Db>(db: &mut D, account: AccountId) -> StorageResult<VipRules> {
    let r = db
        .row("SELECT vip_min_orders, vip_min_spent_minor FROM accounts WHERE id = $1", args![account.0])
        .await?
        .ok_or(StorageError::NotFound)?;
    Ok(VipRules { min_orders: r.int(0)?, min_spent_minor: r.int(1)? })
}

/// Recomputes and stores one contact's profile (nothing when the contact
/// is gone).
pub(crate) async fn refresh_profile<D: Db>(
    db: &mut D,
    account: AccountId,
    contact: ContactId,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let Some(c) = db
        .row(
            "SELECT country, language, vip, tags, custom_attributes FROM contacts WHERE account_id = $1 AND id = $2 \
             AND merged_into IS NULL",
            args![account.0, contact.0],
        )
        .await?
    else {
        return Ok(());
    };
    let (own_country, own_language, own_vip) = (c.opt_text(0)?, c.opt_text(1)?, c.flag(2)?);
    let tags: Vec<String> = c.json(3, "contacts.tags")?;
    let attrs: serde_json::Map<String, serde_json::Value> = c.json(4, "contacts.custom_attributes")?;

    let (mut emails, mut phones) = (Vec::new(), Vec::new());
    for r in db
        .rows(
            "SELECT kind, value FROM contact_identities WHERE contact_id = $1 AND kind IN ('email', 'phone')",
            args![contact.0],
        )
        .await?
    {
        if r.text(0)? == "email" { emails.push(r.text(1)?) } else { phones.push(r.text(1)?) }
    }
    let rules = vip_rules(db, account).await?;

    let mut p = ContactProfile::default();
    let mut latest: Option<i64> = None;
    if !emails.is_empty() || !phones.is_empty() {
        let orders = buyer_orders(&db.list("$2"), &db.list("$3"));
        let sql = format!(
            "SELECT id, total_minor, placed_at FROM shop_orders WHERE id IN ({orders}) ORDER BY placed_at DESC, id DESC"
        );
        let rows = db.rows(&sql, args![account.0, emails.clone(), phones.clone()]).await?;
        for (i, r) in rows.iter().enumerate() {
            if i == 0 {
                latest = Some(r.int(0)?);
                p.last_order_at = Some(r.time(2)?);
            }
            p.order_count += 1;
            p.spent_minor += r.int(1)?;
        }
        let sql = format!("SELECT DISTINCT sku FROM shop_order_lines WHERE order_id IN ({orders}) ORDER BY sku");
        for r in db.rows(&sql, args![account.0, emails, phones]).await? {
            p.skus.push(r.text(0)?);
        }
    }
    let shipped_to = match latest {
        Some(id) => match db.row("SELECT document FROM shop_orders WHERE id = $1", args![id]).await? {
            Some(r) => r
                .json::<Order>(0, "shop_orders.document")?
                .shipping_address
                .map(|a| a.country_code.trim().to_uppercase())
                .filter(|c| c.len() == 2),
            None => None,
        },
        None => None,
    };

    let mut intents = Vec::new();
    let mut languages = Vec::new();
    for r in db
        .rows(
            "SELECT f.intent, f.language FROM conversation_facts f JOIN conversations c ON c.id = f.conversation_id \
             WHERE c.account_id = $1 AND c.contact_id = $2",
            args![account.0, contact.0],
        )
        .await?
    {
        if let Some(i) = r.opt_text(0)? {
            bump(&mut intents, i);
        }
        if let Some(l) = r.opt_text(1)? {
            bump(&mut languages, l);
        }
    }
    p.topics = most_frequent(&intents, TOPICS_KEPT);
    p.country = own_country.or(shipped_to);
    p.language = own_language.or_else(|| most_frequent(&languages, 1).pop());
    p.vip_by_orders = rules.is_vip(p.order_count, p.spent_minor);
    p.vip = own_vip || p.vip_by_orders;
    if let Some(r) = db
        .row(
            "SELECT rating, answered_at FROM csat_surveys WHERE account_id = $1 AND contact_id = $2 \
             AND rating IS NOT NULL AND answered_at IS NOT NULL ORDER BY answered_at DESC, id DESC LIMIT 1",
            args![account.0, contact.0],
        )
        .await?
    {
        p.last_csat = u8::try_from(r.int(0)?).ok();
        p.last_csat_at = Some(r.time(1)?);
    }
    store_profile(db, account, contact, &p, &tags, &attrs, now).await
}

fn bump(counts: &mut Vec<(String, i64)>, v: String) {
    match counts.iter_mut().find(|(k, _)| *k == v) {
        Some((_, n)) => *n += 1,
        None => counts.push((v, 1)),
    }
}

/// An attribute's value as the `attribute` condition compares it.
fn attribute_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => Some(v.to_string()),
        _ => None,
    }
}

async fn store_profile<D: Db>(
    db: &mut D,
    account: AccountId,
    contact: ContactId,
    p: &ContactProfile,
    tags: &[String],
    attrs: &serde_json::Map<String, serde_json::Value>,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    db.exec(
        "INSERT INTO contact_profiles (contact_id, account_id, country, language, vip, vip_by_orders, order_count, \
         spent_minor, last_order_at, last_csat, last_csat_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
         ON CONFLICT (contact_id) DO UPDATE SET country = excluded.country, language = excluded.language, \
         vip = excluded.vip, vip_by_orders = excluded.vip_by_orders, order_count = excluded.order_count, \
         spent_minor = excluded.spent_minor, last_order_at = excluded.last_order_at, last_csat = excluded.last_csat, \
         last_csat_at = excluded.last_csat_at, updated_at = excluded.updated_at",
        args![
            contact.0,
            account.0,
            &p.country,
            &p.language,
            p.vip,
            p.vip_by_orders,
            p.order_count,
            p.spent_minor,
            p.last_order_at,
            p.last_csat.map(i64::from),
            p.last_csat_at,
            now
        ],
    )
    .await?;
    let mut values: Vec<(&str, String, i64)> = Vec::new();
    values.extend(p.topics.iter().enumerate().map(|(i, t)| ("topic", t.clone(), i as i64)));
    values.extend(p.skus.iter().map(|s| ("sku", s.clone(), 0)));
    values.extend(p.auto_tags().into_iter().map(|t| ("auto", t, 0)));
    values.extend(tags.iter().map(|t| ("tag", t.clone(), 0)));
    values.extend(attrs.iter().filter_map(|(k, v)| attribute_text(v).map(|v| ("attr", format!("{k}={v}"), 0))));
    let stored =
        db.rows("SELECT kind, value, rank FROM contact_profile_values WHERE contact_id = $1", args![contact.0]).await?;
    let mut current = Vec::with_capacity(stored.len());
    for r in &stored {
        current.push((r.text(0)?, r.text(1)?, r.int(2)?));
    }
    let same = current.len() == values.len()
        && values.iter().all(|(k, v, n)| current.iter().any(|(ck, cv, cn)| ck == k && cv == v && cn == n));
    if same {
        return Ok(());
    }
    db.exec("DELETE FROM contact_profile_values WHERE contact_id = $1", args![contact.0]).await?;
    for (kind, value, rank) in values {
        db.exec(
            "INSERT INTO contact_profile_values (contact_id, account_id, kind, value, rank) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
            args![contact.0, account.0, kind, value, rank],
        )
        .await?;
    }
    Ok(())
}

fn profile_of(r: &Row, values: &[(String, String, i64)]) -> StorageResult<ContactProfile> {
    let mut topics: Vec<(i64, String)> = Vec::new();
    let mut skus = Vec::new();
    for (k, v, n) in values {
        match k.as_str() {
            "topic" => topics.push((*n, v.clone())),
            "sku" => skus.push(v.clone()),
            _ => {}
        }
    }
    topics.sort();
    skus.sort();
    Ok(ContactProfile {
        country: r.opt_text(1)?,
        language: r.opt_text(2)?,
        vip: r.flag(3)?,
        vip_by_orders: r.flag(4)?,
        order_count: r.int(5)?,
        spent_minor: r.int(6)?,
        last_order_at: r.opt_time(7)?,
        last_csat: r.opt_int(8)?.and_then(|v| u8::try_from(v).ok()),
        last_csat_at: r.opt_time(9)?,
        skus,
        topics: topics.into_iter().map(|(_, t)| t).collect(),
    })
}

/// Appends the filter's conditions (`AND …`) to a query over `contacts c
/// LEFT JOIN contact_profiles p`.
pub(super) fn push_filter<D: Db>(db: &D, q: &mut Query, filter: &SegmentFilter) {
    let has_value = |q: &mut Query, kind: &str, values: Vec<String>| {
        q.push(" AND EXISTS (SELECT 1 FROM contact_profile_values v WHERE v.contact_id = c.id AND v.kind = ")
            .bind(kind)
            .push(" AND v.value IN (SELECT value FROM ");
        q.args.push(Arg::Texts(values));
        let list = db.list(&format!("${}", q.args.len()));
        q.push(&list).push("))");
    };
    let in_list = |q: &mut Query, expr: &str, values: Vec<String>| {
        q.push(&format!(" AND {expr} IN (SELECT value FROM "));
        q.args.push(Arg::Texts(values));
        let list = db.list(&format!("${}", q.args.len()));
        q.push(&list).push(")");
    };
    for c in &filter.all {
        match c {
            SegmentCondition::Country { any_of } => in_list(q, "COALESCE(p.country, c.country)", any_of.clone()),
            SegmentCondition::Language { any_of } => in_list(q, "COALESCE(p.language, c.language)", any_of.clone()),
            SegmentCondition::Vip { is } => {
                q.push(" AND COALESCE(p.vip, c.vip) = ").bind(*is);
            }
            SegmentCondition::Tag { any_of } => has_value(q, "tag", any_of.clone()),
            SegmentCondition::AutoTag { any_of } => has_value(q, "auto", any_of.clone()),
            SegmentCondition::Topic { any_of } => has_value(q, "topic", any_of.clone()),
            SegmentCondition::BoughtSku { any_of } => has_value(q, "sku", any_of.clone()),
            SegmentCondition::Attribute { key, equals } => has_value(q, "attr", vec![format!("{key}={equals}")]),
            SegmentCondition::Channel { any_of } => {
                q.push(" AND EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id AND i.kind IN (SELECT value FROM ");
                q.args.push(Arg::Texts(any_of.iter().map(|k| k.as_str().to_owned()).collect()));
                let list = db.list(&format!("${}", q.args.len()));
                q.push(&list).push("))");
            }
            SegmentCondition::Spent { at_least, at_most } => {
                range(q, "COALESCE(p.spent_minor, 0)", *at_least, *at_most)
            }
            SegmentCondition::OrderCount { at_least, at_most } => {
                range(q, "COALESCE(p.order_count, 0)", *at_least, *at_most)
            }
            SegmentCondition::LastOrder { before, after } => {
                if let Some(b) = before {
                    q.push(" AND p.last_order_at < ").bind(*b);
                }
                if let Some(a) = after {
                    q.push(" AND p.last_order_at >= ").bind(*a);
                }
            }
            SegmentCondition::Csat { min, max } => {
                range(q, "p.last_csat", min.map(i64::from), max.map(i64::from));
            }
        }
    }
}

fn range(q: &mut Query, expr: &str, lo: Option<i64>, hi: Option<i64>) {
    if let Some(l) = lo {
        q.push(&format!(" AND {expr} >= ")).bind(l);
    }
    if let Some(h) = hi {
        q.push(&format!(" AND {expr} <= ")).bind(h);
    }
}

pub(super) const FROM_CONTACTS: &str = " FROM contacts c LEFT JOIN contact_profiles p ON p.contact_id = c.id WHERE c.merged_into IS NULL AND c.account_id = ";

fn segment_of(r: &Row) -> StorageResult<Segment> {
    Ok(Segment {
        id: r.int(0)?,
        name: r.text(1)?,
        filter: r.json(2, "segments.filter")?,
        created_at: r.time(3)?,
        updated_at: r.time(4)?,
    })
}

async fn get_segment<D: Db>(db: &mut D, account: AccountId, id: i64) -> StorageResult<Option<Segment>> {
    db.row(
        "SELECT id, name, filter, created_at, updated_at FROM segments WHERE account_id = $1 AND id = $2",
        args![account.0, id],
    )
    .await?
    .as_ref()
    .map(segment_of)
    .transpose()
}

/// A unique-name violation as the conflict callers map to 409.
fn name_conflict(e: StorageError) -> StorageError {
    match e {
        StorageError::Conflict { .. } => StorageError::Conflict { constraint: "segments_name".into() },
        other => other,
    }
}

#[async_trait]
impl<B: Backend> ProfileRepo for B {
    async fn vip_rules(&self, account: AccountId) -> StorageResult<VipRules> {
        self.read(move |db| Box::pin(vip_rules(db, account))).await
    }

    async fn set_vip_rules(&self, account: AccountId, rules: VipRules, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE accounts SET vip_min_orders = $2, vip_min_spent_minor = $3, updated_at = $4 WHERE id = $1",
                        args![account.0, rules.min_orders, rules.min_spent_minor, now],
                    )
                    .await?;
                crate::db::found(n)?;
                // Only the VIP standing depends on the rules, but it feeds the
                // automatic tags: each profile is derived again.
                let ids = db
                    .rows("SELECT contact_id FROM contact_profiles WHERE account_id = $1", args![account.0])
                    .await?;
                for r in ids {
                    refresh_profile(db, account, ContactId(r.int(0)?), now).await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn contact_profiles(
        &self,
        account: AccountId,
        ids: Vec<ContactId>,
    ) -> StorageResult<HashMap<ContactId, ContactProfile>> {
        // Profiles follow conversations' facts: what is still marked first.
        super::insights::flush_pending(self).await?;
        self.read(move |db| {
            Box::pin(async move {
                let ids: Vec<i64> = ids.into_iter().map(|c| c.0).collect();
                let mut out = HashMap::new();
                if ids.is_empty() {
                    return Ok(out);
                }
                let list = db.list("$2");
                let values = db
                    .rows(
                        &format!(
                            "SELECT contact_id, kind, value, rank FROM contact_profile_values WHERE account_id = $1 \
                             AND kind IN ('topic', 'sku') AND contact_id IN (SELECT value FROM {list})"
                        ),
                        args![account.0, ids.clone()],
                    )
                    .await?;
                let mut by: HashMap<i64, Vec<(String, String, i64)>> = HashMap::new();
                for r in &values {
                    by.entry(r.int(0)?).or_default().push((r.text(1)?, r.text(2)?, r.int(3)?));
                }
                let rows = db
                    .rows(
                        &format!(
                            "SELECT contact_id, country, language, vip, vip_by_orders, order_count, spent_minor, \
                             last_order_at, last_csat, last_csat_at FROM contact_profiles WHERE account_id = $1 \
                             AND contact_id IN (SELECT value FROM {list})"
                        ),
                        args![account.0, ids],
                    )
                    .await?;
                for r in &rows {
                    let id = r.int(0)?;
                    out.insert(ContactId(id), profile_of(r, by.get(&id).map_or(&[][..], Vec::as_slice))?);
                }
                Ok(out)
            })
        })
        .await
    }

    async fn contact_ids(
        &self,
        account: AccountId,
        after: Option<ContactId>,
        limit: u32,
    ) -> StorageResult<Vec<ContactId>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id FROM contacts WHERE account_id = $1 AND id > $2 AND merged_into IS NULL ORDER BY id LIMIT $3",
                        args![account.0, after.map_or(0, |a| a.0), limit.clamp(1, 10_000)],
                    )
                    .await?;
                rows.iter().map(|r| Ok(ContactId(r.int(0)?))).collect()
            })
        })
        .await
    }

    async fn refresh_profiles(&self, account: AccountId, ids: Vec<ContactId>, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                for id in ids {
                    refresh_profile(db, account, id, now).await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn rebuild_order_lines(&self, account: AccountId) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(async move {
                let rows =
                    db.rows("SELECT id, document FROM shop_orders WHERE account_id = $1", args![account.0]).await?;
                for r in &rows {
                    let o: Order = r.json(1, "shop_orders.document")?;
                    write_order_lines(db, account, r.int(0)?, &o).await?;
                }
                Ok(rows.len() as u64)
            })
        })
        .await
    }

    async fn filter_contacts(
        &self,
        account: AccountId,
        filter: SegmentFilter,
        text: Option<String>,
        before: Option<ContactId>,
        limit: u32,
    ) -> StorageResult<Vec<Contact>> {
        // Profiles follow conversations' facts: what is still marked first.
        super::insights::flush_pending(self).await?;
        self.read(move |db| {
            Box::pin(async move {
                let cols = CONTACT_COLS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
                let mut q = Query::new(format!("SELECT {cols}{FROM_CONTACTS}"));
                q.bind(account.0);
                if let Some(b) = before {
                    q.push(" AND c.id < ").bind(b.0);
                }
                if let Some(t) = text.as_deref() {
                    q.push(" AND c.search LIKE ").bind(contains_pattern(t)).push(" ESCAPE '\\'");
                }
                push_filter(db, &mut q, &filter);
                q.push(" ORDER BY c.id DESC LIMIT ").bind(limit.clamp(1, 500));
                let rows = db.rows(&q.sql, q.args).await?;
                with_identities(db, rows).await
            })
        })
        .await
    }

    async fn audience_size(&self, account: AccountId, filter: SegmentFilter) -> StorageResult<AudienceSize> {
        // Profiles follow conversations' facts: what is still marked first.
        super::insights::flush_pending(self).await?;
        self.read(move |db| {
            Box::pin(async move {
                let mut q = Query::new(format!("SELECT COALESCE(p.language, c.language), COUNT(*){FROM_CONTACTS}"));
                q.bind(account.0);
                push_filter(db, &mut q, &filter);
                q.push(" GROUP BY COALESCE(p.language, c.language)");
                let mut out = AudienceSize::default();
                for r in db.rows(&q.sql, q.args).await? {
                    let n = r.count(1)?;
                    out.total += n;
                    out.by_language.push((r.opt_text(0)?, n));
                }
                let mut q = Query::new(
                    "SELECT i.kind, COUNT(DISTINCT c.id) FROM contacts c \
                     LEFT JOIN contact_profiles p ON p.contact_id = c.id \
                     JOIN contact_identities i ON i.contact_id = c.id WHERE c.merged_into IS NULL AND c.account_id = ",
                );
                q.bind(account.0);
                push_filter(db, &mut q, &filter);
                q.push(" GROUP BY i.kind");
                for r in db.rows(&q.sql, q.args).await? {
                    out.by_channel.push((r.text(0)?, r.count(1)?));
                }
                out.by_language.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                out.by_channel.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Ok(out)
            })
        })
        .await
    }

    async fn create_segment(
        &self,
        account: AccountId,
        name: String,
        filter: SegmentFilter,
        now: DateTime<Utc>,
    ) -> StorageResult<Segment> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO segments (account_id, name, filter, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4) RETURNING id",
                    args![account.0, name, Arg::json(&filter), now],
                )
                .await
                .map_err(name_conflict)?;
                get_segment(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn list_segments(&self, account: AccountId) -> StorageResult<Vec<Segment>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        "SELECT id, name, filter, created_at, updated_at FROM segments WHERE account_id = $1 \
                         ORDER BY name, id",
                        args![account.0],
                    )
                    .await?;
                rows.iter().map(segment_of).collect()
            })
        })
        .await
    }

    async fn get_segment(&self, account: AccountId, id: i64) -> StorageResult<Option<Segment>> {
        self.read(move |db| Box::pin(get_segment(db, account, id))).await
    }

    async fn update_segment(
        &self,
        account: AccountId,
        id: i64,
        name: Option<String>,
        filter: Option<SegmentFilter>,
        now: DateTime<Utc>,
    ) -> StorageResult<Segment> {
        self.write(move |db| {
            Box::pin(async move {
                let mut s = get_segment(db, account, id).await?.ok_or(StorageError::NotFound)?;
                if let Some(n) = name {
                    s.name = n;
                }
                if let Some(f) = filter {
                    s.filter = f;
                }
                db.exec(
                    "UPDATE segments SET name = $3, filter = $4, updated_at = $5 WHERE account_id = $1 AND id = $2",
                    args![account.0, id, &s.name, Arg::json(&s.filter), now],
                )
                .await
                .map_err(name_conflict)?;
                get_segment(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn delete_segment(&self, account: AccountId, id: i64) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db.exec("DELETE FROM segments WHERE account_id = $1 AND id = $2", args![account.0, id]).await?;
                crate::db::found(n)
            })
        })
        .await
    }
}
