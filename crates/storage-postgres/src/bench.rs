//! The search benchmark's corpus, written in large batches.

use crate::{PostgresStorage, db_err};
use chrono::{Duration, Utc};
use ferry_core::ContactId;
use ferry_core::message::{ContentPart, Sender};
use ferry_storage::StorageResult;
use ferry_storage::search::{SeedContact, SeedConversation};

/// Seeds one account with an API inbox, `contacts` and `conversations`
/// (see the SQLite backend's twin), then analyses the tables. Returns the
/// account id. The search indexes are dropped for the load and made again
/// from their own definitions afterwards (as fast as a bulk load can be,
/// and the same indexes a store that grew has).
pub async fn seed_search_corpus(
    storage: &PostgresStorage,
    contacts: &[SeedContact],
    conversations: impl Iterator<Item = SeedConversation>,
) -> StorageResult<i64> {
    let pool = storage.pool();
    let now = Utc::now();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename IN ('messages', 'contacts') AND indexdef LIKE '%USING gin%' ORDER BY indexname",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\""))).execute(pool).await.map_err(db_err)?;
    }
    let account: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (name, default_language, created_at, updated_at) VALUES ('bench', 'en', $1, $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    let inbox: i64 = sqlx::query_scalar(
        "INSERT INTO inboxes (account_id, name, channel, secret, created_at, updated_at) \
         VALUES ($1, 'Bench', 'api', 'bench-secret', $2, $2) RETURNING id",
    )
    .bind(account)
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    let mut contact_ids = Vec::with_capacity(contacts.len());
    for chunk in contacts.chunks(5_000) {
        let names: Vec<&str> = chunk.iter().map(|c| c.name.as_str()).collect();
        let emails: Vec<&str> = chunk.iter().map(|c| c.email.as_str()).collect();
        let phones: Vec<&str> = chunk.iter().map(|c| c.phone.as_str()).collect();
        let search: Vec<String> = chunk
            .iter()
            .map(|c| ferry_storage::rows::contact_search_text(&c.name, Some(&c.email), Some(&c.phone), &[]))
            .collect();
        let ids: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO contacts (account_id, name, email, phone, search, created_at, updated_at) \
             SELECT $1, n, e, p, s, $6, $6 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[]) \
             WITH ORDINALITY AS x(n, e, p, s, o) ORDER BY o RETURNING id",
        )
        .bind(account)
        .bind(&names)
        .bind(&emails)
        .bind(&phones)
        .bind(&search)
        .bind(now)
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
        contact_ids.extend(ids);
    }
    let start = now - Duration::days(365);
    let mut n: i64 = 0;
    let mut conversations = conversations.peekable();
    while conversations.peek().is_some() {
        let batch: Vec<SeedConversation> = conversations.by_ref().take(2_000).collect();
        let mut conv_contacts = Vec::new();
        let mut statuses = Vec::new();
        let mut languages = Vec::new();
        let mut times = Vec::new();
        for (i, c) in batch.iter().enumerate() {
            conv_contacts.push(contact_ids.get(c.contact % contact_ids.len().max(1)).copied().unwrap_or(0));
            statuses.push(if (n + i as i64) % 3 == 0 { "resolved" } else { "open" });
            languages.push(c.language.clone());
            times.push(start + Duration::seconds(n + i as i64));
        }
        let conv_ids: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO conversations (account_id, inbox_id, contact_id, status, language, last_activity_at, \
             created_at, updated_at) SELECT $1, $2, c, s, l, t, t, t \
             FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY AS x(c, s, l, t, o) \
             ORDER BY o RETURNING id",
        )
        .bind(account)
        .bind(inbox)
        .bind(&conv_contacts)
        .bind(&statuses)
        .bind(&languages)
        .bind(&times)
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
        let (mut convs, mut senders, mut parts, mut texts, mut sent) = (vec![], vec![], vec![], vec![], vec![]);
        for ((c, conv), contact) in batch.iter().zip(&conv_ids).zip(&conv_contacts) {
            let sender = serde_json::to_value(Sender::Contact(ContactId(*contact)))
                .map_err(ferry_storage::StorageError::other)?;
            for text in &c.texts {
                n += 1;
                convs.push(*conv);
                senders.push(sender.clone());
                let p = vec![ContentPart::Text { text: text.clone() }];
                parts.push(serde_json::to_value(p).map_err(ferry_storage::StorageError::other)?);
                texts.push(text.to_lowercase());
                sent.push(start + Duration::seconds(n));
            }
        }
        sqlx::query(
            "INSERT INTO messages (account_id, inbox_id, conversation_id, kind, sender, parts, search_text, sent_at, \
             created_at, updated_at) SELECT $1, $2, c, 'incoming', s, p, x, t, t, t \
             FROM UNNEST($3::bigint[], $4::jsonb[], $5::jsonb[], $6::text[], $7::timestamptz[]) AS u(c, s, p, x, t)",
        )
        .bind(account)
        .bind(inbox)
        .bind(&convs)
        .bind(&senders)
        .bind(&parts)
        .bind(&texts)
        .bind(&sent)
        .execute(pool)
        .await
        .map_err(db_err)?;
    }
    let mut conn = pool.acquire().await.map_err(db_err)?;
    sqlx::query("SET maintenance_work_mem = '256MB'").execute(&mut *conn).await.map_err(db_err)?;
    for (_, def) in indexes {
        sqlx::query(sqlx::AssertSqlSafe(def)).execute(&mut *conn).await.map_err(db_err)?;
    }
    sqlx::query("RESET maintenance_work_mem").execute(&mut *conn).await.map_err(db_err)?;
    sqlx::query("VACUUM ANALYZE contacts, conversations, messages").execute(&mut *conn).await.map_err(db_err)?;
    Ok(account)
}
