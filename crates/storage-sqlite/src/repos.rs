//! The repository traits on SQLite.

use crate::sql::*;
use crate::{SqliteStorage, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ferry_core::account::{Account, Team, User};
use ferry_core::canned::CannedResponse;
use ferry_core::contact::{Contact, IdentityKind};
use ferry_core::conversation::{Change, Conversation, Status, Transition, continues};
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::inbound::Inbound;
use ferry_core::inbox::Inbox;
use ferry_core::message::{ContentPart, DeliveryStatus, Message, MessageKind, Sender};
use ferry_core::{
    AccountId, CannedResponseId, ContactId, ConversationId, EventId, InboxId, JobId, MessageId, TeamId, UserId,
};
use ferry_storage::rows::*;
use ferry_storage::*;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};

fn collect<T, R>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: fn(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
) -> StorageResult<Vec<T>>
where
    T: TryFrom<R, Error = StorageError>,
{
    let mut st = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = st.query_map(params, map).map_err(db_err)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(T::try_from(r.map_err(db_err)?)?);
    }
    Ok(out)
}

fn user_by_id(conn: &Connection, account: AccountId, id: UserId) -> StorageResult<Option<User>> {
    conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE account_id = ?1 AND id = ?2"))
        .map_err(db_err)?
        .query_row(params![account.0, id.0], user_row)
        .optional()
        .map_err(db_err)?
        .map(User::try_from)
        .transpose()
}

fn team_by_id(conn: &Connection, account: AccountId, id: TeamId) -> StorageResult<Option<Team>> {
    let row = conn
        .prepare_cached("SELECT id, name, description FROM teams WHERE account_id = ?1 AND id = ?2")
        .map_err(db_err)?
        .query_row(params![account.0, id.0], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })
        .optional()
        .map_err(db_err)?;
    let Some((id, name, description)) = row else { return Ok(None) };
    let mut st =
        conn.prepare_cached("SELECT user_id FROM team_members WHERE team_id = ?1 ORDER BY user_id").map_err(db_err)?;
    let members = st
        .query_map(params![id], |r| r.get::<_, i64>(0))
        .map_err(db_err)?
        .map(|r| r.map(UserId))
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    Ok(Some(Team { id: TeamId(id), account_id: account, name, description, member_ids: members }))
}

fn inbox_by_id(conn: &Connection, account: Option<AccountId>, id: InboxId) -> StorageResult<Option<Inbox>> {
    let row = match account {
        Some(a) => conn
            .prepare_cached(&format!("SELECT {INBOX_COLS} FROM inboxes WHERE account_id = ?1 AND id = ?2"))
            .map_err(db_err)?
            .query_row(params![a.0, id.0], inbox_row)
            .optional(),
        None => conn
            .prepare_cached(&format!("SELECT {INBOX_COLS} FROM inboxes WHERE id = ?1"))
            .map_err(db_err)?
            .query_row(params![id.0], inbox_row)
            .optional(),
    }
    .map_err(db_err)?;
    row.map(Inbox::try_from).transpose()
}

#[async_trait]
impl AccountRepo for SqliteStorage {
    async fn create_account(&self, new: NewAccount, now: DateTime<Utc>) -> StorageResult<Account> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO accounts (name, default_language, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                params![new.name, new.default_language, ts(now)],
            )
            .map_err(db_err)?;
            Ok(Account {
                id: AccountId(c.last_insert_rowid()),
                name: new.name,
                default_language: new.default_language,
                created_at: now,
            })
        })
        .await
    }

    async fn get_account(&self, id: AccountId) -> StorageResult<Option<Account>> {
        self.read(move |c| {
            c.prepare_cached(&format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1"))
                .map_err(db_err)?
                .query_row(params![id.0], account_row)
                .optional()
                .map_err(db_err)
                .map(|o| o.map(Account::from))
        })
        .await
    }
}

#[async_trait]
impl UserRepo for SqliteStorage {
    async fn create_user(&self, account: AccountId, new: NewUser, now: DateTime<Utc>) -> StorageResult<User> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO users (account_id, name, email, password_hash, role, languages, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![account.0, new.name, new.email, new.password_hash, new.role.as_str(), to_json(&new.languages), ts(now)],
            )
            .map_err(|e| match db_err(e) {
                StorageError::Conflict { .. } => StorageError::Conflict { constraint: "users.email".into() },
                other => other,
            })?;
            user_by_id(c, account, UserId(c.last_insert_rowid()))?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn get_user(&self, account: AccountId, id: UserId) -> StorageResult<Option<User>> {
        self.read(move |c| user_by_id(c, account, id)).await
    }

    async fn list_users(&self, account: AccountId) -> StorageResult<Vec<User>> {
        self.read(move |c| {
            collect(
                c,
                &format!("SELECT {USER_COLS} FROM users WHERE account_id = ?1 ORDER BY name, id"),
                params![account.0],
                user_row,
            )
        })
        .await
    }

    async fn update_user(&self, account: AccountId, id: UserId, patch: UserPatch) -> StorageResult<User> {
        self.write(move |c| {
            let mut u = user_by_id(c, account, id)?.ok_or(StorageError::NotFound)?;
            if let Some(n) = patch.name {
                u.name = n;
            }
            if let Some(r) = patch.role {
                u.role = r;
            }
            if let Some(l) = patch.languages {
                u.languages = l;
            }
            c.execute(
                "UPDATE users SET name = ?3, role = ?4, languages = ?5, password_hash = COALESCE(?6, password_hash), updated_at = ?7 WHERE account_id = ?1 AND id = ?2",
                params![account.0, id.0, u.name, u.role.as_str(), to_json(&u.languages), patch.password_hash, ts(Utc::now())],
            )
            .map_err(db_err)?;
            Ok(u)
        })
        .await
    }

    async fn delete_user(&self, account: AccountId, id: UserId) -> StorageResult<()> {
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM users WHERE account_id = ?1 AND id = ?2", params![account.0, id.0])
                .map_err(db_err)?;
            if n == 0 { Err(StorageError::NotFound) } else { Ok(()) }
        })
        .await
    }

    async fn find_login(&self, email: &str) -> StorageResult<Option<(User, String)>> {
        let email = email.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(&format!("SELECT {USER_COLS}, password_hash FROM users WHERE email = ?1"))
                .map_err(db_err)?
                .query_row(params![email], |r| Ok((user_row(r)?, r.get::<_, String>(7)?)))
                .optional()
                .map_err(db_err)?;
            row.map(|(u, h)| Ok((User::try_from(u)?, h))).transpose()
        })
        .await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StorageResult<()> {
        let (h, a, u) = (token_hash.to_owned(), user.account_id, user.id);
        self.write(move |c| {
            let now = ts(now);
            c.execute(
                "INSERT INTO sessions (token_hash, account_id, user_id, expires_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![h, a.0, u.0, ts(expires_at), now],
            )
            .map_err(db_err)?;
            // Sessions past their time are removed as new ones are made.
            c.execute("DELETE FROM sessions WHERE expires_at < ?1", params![now]).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<User>> {
        let h = token_hash.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
            ))
            .map_err(db_err)?
            .query_row(params![h, ts(now)], user_row)
            .optional()
            .map_err(db_err)?
            .map(User::try_from)
            .transpose()
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StorageResult<()> {
        let h = token_hash.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", params![h]).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn create_api_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let (a, u, n, h) = (user.account_id, user.id, name.to_owned(), token_hash.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO api_tokens (account_id, user_id, name, token_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![a.0, u.0, n, h, ts(now)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn token_user(&self, token_hash: &str) -> StorageResult<Option<User>> {
        let h = token_hash.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {} FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id WHERE t.token_hash = ?1",
                USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
            ))
            .map_err(db_err)?
            .query_row(params![h], user_row)
            .optional()
            .map_err(db_err)?
            .map(User::try_from)
            .transpose()
        })
        .await
    }
}

#[async_trait]
impl TeamRepo for SqliteStorage {
    async fn create_team(
        &self,
        account: AccountId,
        name: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Team> {
        let (n, d) = (name.to_owned(), description.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO teams (account_id, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![account.0, n, d, ts(now)],
            )
            .map_err(|e| match db_err(e) {
                StorageError::Conflict { .. } => StorageError::Conflict { constraint: "teams.name".into() },
                other => other,
            })?;
            team_by_id(c, account, TeamId(c.last_insert_rowid()))?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn get_team(&self, account: AccountId, id: TeamId) -> StorageResult<Option<Team>> {
        self.read(move |c| team_by_id(c, account, id)).await
    }

    async fn list_teams(&self, account: AccountId) -> StorageResult<Vec<Team>> {
        self.read(move |c| {
            let mut st =
                c.prepare_cached("SELECT id FROM teams WHERE account_id = ?1 ORDER BY name").map_err(db_err)?;
            let ids = st
                .query_map(params![account.0], |r| r.get::<_, i64>(0))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(t) = team_by_id(c, account, TeamId(id))? {
                    out.push(t);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn set_team_members(&self, account: AccountId, id: TeamId, members: &[UserId]) -> StorageResult<Team> {
        let members = members.to_vec();
        self.write(move |c| {
            if team_by_id(c, account, id)?.is_none() {
                return Err(StorageError::NotFound);
            }
            for m in &members {
                if user_by_id(c, account, *m)?.is_none() {
                    return Err(StorageError::Conflict { constraint: "team_members.user_id".into() });
                }
            }
            c.execute("DELETE FROM team_members WHERE account_id = ?1 AND team_id = ?2", params![account.0, id.0]).map_err(db_err)?;
            let now = ts(Utc::now());
            for m in &members {
                c.execute(
                    "INSERT OR IGNORE INTO team_members (account_id, team_id, user_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![account.0, id.0, m.0, now],
                )
                .map_err(db_err)?;
            }
            team_by_id(c, account, id)?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn delete_team(&self, account: AccountId, id: TeamId) -> StorageResult<()> {
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM teams WHERE account_id = ?1 AND id = ?2", params![account.0, id.0])
                .map_err(db_err)?;
            if n == 0 { Err(StorageError::NotFound) } else { Ok(()) }
        })
        .await
    }
}

#[async_trait]
impl InboxRepo for SqliteStorage {
    async fn create_inbox(&self, account: AccountId, new: NewInbox, now: DateTime<Utc>) -> StorageResult<Inbox> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO inboxes (account_id, name, channel, config, secret, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![account.0, new.name, new.channel.as_str(), to_json(&new.config), new.secret, ts(now)],
            )
            .map_err(db_err)?;
            inbox_by_id(c, Some(account), InboxId(c.last_insert_rowid()))?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn get_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<Option<Inbox>> {
        self.read(move |c| inbox_by_id(c, Some(account), id)).await
    }

    async fn find_inbox(&self, id: InboxId) -> StorageResult<Option<Inbox>> {
        self.read(move |c| inbox_by_id(c, None, id)).await
    }

    async fn list_inboxes(&self, account: AccountId) -> StorageResult<Vec<Inbox>> {
        self.read(move |c| {
            collect(
                c,
                &format!("SELECT {INBOX_COLS} FROM inboxes WHERE account_id = ?1 ORDER BY name, id"),
                params![account.0],
                inbox_row,
            )
        })
        .await
    }

    async fn update_inbox(&self, account: AccountId, id: InboxId, patch: InboxPatch) -> StorageResult<Inbox> {
        self.write(move |c| {
            let mut i = inbox_by_id(c, Some(account), id)?.ok_or(StorageError::NotFound)?;
            if let Some(n) = patch.name {
                i.name = n;
            }
            if let Some(cfg) = patch.config {
                i.config = cfg;
            }
            c.execute(
                "UPDATE inboxes SET name = ?3, config = ?4, updated_at = ?5 WHERE account_id = ?1 AND id = ?2",
                params![account.0, id.0, i.name, to_json(&i.config), ts(Utc::now())],
            )
            .map_err(db_err)?;
            Ok(i)
        })
        .await
    }

    async fn delete_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<()> {
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM inboxes WHERE account_id = ?1 AND id = ?2", params![account.0, id.0])
                .map_err(db_err)?;
            if n == 0 { Err(StorageError::NotFound) } else { Ok(()) }
        })
        .await
    }
}

#[async_trait]
impl ContactRepo for SqliteStorage {
    async fn create_contact(&self, account: AccountId, new: NewContact, now: DateTime<Utc>) -> StorageResult<Contact> {
        self.write(move |c| {
            let id = insert_contact(c, account, &new, now)?;
            get_contact(c, account, id)?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn get_contact(&self, account: AccountId, id: ContactId) -> StorageResult<Option<Contact>> {
        self.read(move |c| get_contact(c, account, id)).await
    }

    async fn search_contacts(&self, account: AccountId, query: ContactQuery) -> StorageResult<Vec<Contact>> {
        self.read(move |c| {
            let pattern = query.q.as_deref().map(contains_pattern);
            let before = query.before.map_or(i64::MAX, |b| b.0);
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {CONTACT_COLS} FROM contacts WHERE account_id = ?1 AND id < ?2 AND (?3 IS NULL OR search LIKE ?3 ESCAPE '\\') ORDER BY id DESC LIMIT ?4"
                ))
                .map_err(db_err)?;
            let rows = st
                .query_map(params![account.0, before, pattern, query.limit.clamp(1, 500)], contact_row)
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let ids = identities_of(c, r.id)?;
                out.push(r.into_contact(ids)?);
            }
            Ok(out)
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
        self.write(move |c| {
            let mut ct = get_contact(c, account, id)?.ok_or(StorageError::NotFound)?;
            patch.apply_to(&mut ct);
            for i in &patch.add_identities {
                if !attach_identity(c, account, id, i, now)? && find_identity(c, account, i)? != Some(id) {
                    return Err(StorageError::Conflict { constraint: "contact_identities".into() });
                }
                match i.kind {
                    IdentityKind::Email if ct.email.is_none() => ct.email = Some(i.value.clone()),
                    IdentityKind::Phone if ct.phone.is_none() => ct.phone = Some(i.value.clone()),
                    _ => {}
                }
            }
            c.execute(
                "UPDATE contacts SET name = ?3, email = ?4, phone = ?5, country = ?6, language = ?7, timezone = ?8, vip = ?9, \
                 custom_attributes = ?10, tags = ?11, updated_at = ?12 WHERE account_id = ?1 AND id = ?2",
                params![
                    account.0,
                    id.0,
                    ct.name,
                    ct.email,
                    ct.phone,
                    ct.country,
                    ct.language,
                    ct.timezone,
                    ct.vip as i64,
                    to_json(&ct.custom_attributes),
                    to_json(&ct.tags),
                    ts(now)
                ],
            )
            .map_err(db_err)?;
            refresh_contact_search(c, id)?;
            get_contact(c, account, id)?.ok_or(StorageError::NotFound)
        })
        .await
    }
}

/// WHERE clause and parameters of a conversation filter.
fn filter_sql(account: AccountId, f: &ConversationFilter, with_status: bool) -> (String, Vec<Value>) {
    let mut sql = String::from("account_id = ?");
    let mut p: Vec<Value> = vec![Value::Integer(account.0)];
    if with_status && let Some(s) = f.status {
        sql.push_str(" AND status = ?");
        p.push(Value::Text(s.as_str().into()));
    }
    match f.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => sql.push_str(" AND assignee_id IS NULL"),
        AssigneeFilter::User(u) => {
            sql.push_str(" AND assignee_id = ?");
            p.push(Value::Integer(u.0));
        }
    }
    if let Some(t) = f.team_id {
        sql.push_str(" AND team_id = ?");
        p.push(Value::Integer(t.0));
    }
    if let Some(i) = f.inbox_id {
        sql.push_str(" AND inbox_id = ?");
        p.push(Value::Integer(i.0));
    }
    if let Some(c) = f.contact_id {
        sql.push_str(" AND contact_id = ?");
        p.push(Value::Integer(c.0));
    }
    if let Some(tag) = &f.tag {
        sql.push_str(" AND EXISTS (SELECT 1 FROM json_each(conversations.tags) WHERE json_each.value = ?)");
        p.push(Value::Text(tag.clone()));
    }
    if let Some(l) = &f.language {
        sql.push_str(" AND (language = ? OR language LIKE ? ESCAPE '\\')");
        p.push(Value::Text(l.clone()));
        p.push(Value::Text(format!("{}-%", escape_like(l))));
    }
    (sql, p)
}

fn write_activities(
    c: &Connection,
    conv: &Conversation,
    changes: &[Change],
    describe: &Describe,
    now: DateTime<Utc>,
) -> StorageResult<Vec<Message>> {
    let mut out = Vec::new();
    for ch in changes {
        if let Some(text) = describe(ch) {
            let mut m = Message {
                id: MessageId(0),
                account_id: conv.account_id,
                inbox_id: conv.inbox_id,
                conversation_id: conv.id,
                kind: MessageKind::Activity,
                sender: Sender::System,
                parts: vec![ContentPart::Text { text }],
                external_id: None,
                delivery: None,
                sent_at: now,
                created_at: now,
            };
            insert_message(c, &mut m)?;
            append_event(c, conv.account_id, &Event::MessageCreated { message: m.clone() }, now)?;
            out.push(m);
        }
    }
    Ok(out)
}

#[async_trait]
impl ConversationRepo for SqliteStorage {
    async fn get_conversation(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<Conversation>> {
        self.read(move |c| get_conversation(c, account, id)).await
    }

    async fn list_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
        after: Option<ConversationCursor>,
        limit: u32,
    ) -> StorageResult<ConversationPage> {
        let (mut where_, mut p) = filter_sql(account, filter, true);
        if let Some(cur) = after {
            where_.push_str(" AND (last_activity_at < ? OR (last_activity_at = ? AND id < ?))");
            p.push(Value::Integer(ts(cur.last_activity_at)));
            p.push(Value::Integer(ts(cur.last_activity_at)));
            p.push(Value::Integer(cur.id.0));
        }
        let limit = limit.clamp(1, 200);
        p.push(Value::Integer(i64::from(limit) + 1));
        self.read(move |c| {
            let sql = format!(
                "SELECT {CONV_COLS} FROM conversations WHERE {where_} ORDER BY last_activity_at DESC, id DESC LIMIT ?"
            );
            let mut items: Vec<Conversation> = collect(c, &sql, params_from_iter(p), conv_row)?;
            let next = if items.len() > limit as usize {
                items.truncate(limit as usize);
                items.last().map(|l| ConversationCursor { last_activity_at: l.last_activity_at, id: l.id })
            } else {
                None
            };
            Ok(ConversationPage { items, next })
        })
        .await
    }

    async fn count_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
    ) -> StorageResult<Vec<(Status, u64)>> {
        let (where_, p) = filter_sql(account, filter, false);
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!("SELECT status, COUNT(*) FROM conversations WHERE {where_} GROUP BY status"))
                .map_err(db_err)?;
            let rows = st
                .query_map(params_from_iter(p), |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            Ok(Status::ALL
                .iter()
                .map(|s| (*s, rows.iter().find(|(n, _)| n == s.as_str()).map_or(0, |(_, k)| *k as u64)))
                .collect())
        })
        .await
    }

    async fn assigned_load(&self, account: AccountId) -> StorageResult<Vec<(UserId, u64)>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT assignee_id, COUNT(*) FROM conversations WHERE account_id = ?1 \
                     AND status IN ('open', 'pending') AND assignee_id IS NOT NULL GROUP BY assignee_id",
                )
                .map_err(db_err)?;
            st.query_map(params![account.0], |r| Ok((UserId(r.get(0)?), r.get::<_, i64>(1)? as u64)))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)
        })
        .await
    }

    async fn update_conversation(
        &self,
        account: AccountId,
        id: ConversationId,
        update: ConversationUpdate,
    ) -> StorageResult<UpdatedConversation> {
        self.write(move |c| {
            let mut conv = get_conversation(c, account, id)?.ok_or(StorageError::NotFound)?;
            let changes = update.apply(&mut conv)?;
            if changes.is_empty() {
                return Ok(UpdatedConversation { conversation: conv, changes, activities: Vec::new() });
            }
            save_conversation(c, &conv)?;
            let activities = write_activities(c, &conv, &changes, &update.describe, update.now)?;
            append_event(
                c,
                account,
                &Event::ConversationUpdated { conversation: conv.clone(), changes: changes.clone() },
                update.now,
            )?;
            Ok(UpdatedConversation { conversation: conv, changes, activities })
        })
        .await
    }

    async fn due_snoozed(&self, now: DateTime<Utc>, limit: u32) -> StorageResult<Vec<(AccountId, ConversationId)>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached("SELECT account_id, id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= ?1 ORDER BY snoozed_until LIMIT ?2")
                .map_err(db_err)?;
            st.query_map(params![ts(now), limit], |r| Ok((AccountId(r.get(0)?), ConversationId(r.get(1)?))))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)
        })
        .await
    }

    async fn list_tags(&self, account: AccountId) -> StorageResult<Vec<TagCount>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT j.value, COUNT(*) FROM conversations, json_each(conversations.tags) j WHERE conversations.account_id = ?1 \
                     GROUP BY j.value ORDER BY COUNT(*) DESC, j.value",
                )
                .map_err(db_err)?;
            st.query_map(params![account.0], |r| Ok(TagCount { tag: r.get(0)?, conversations: r.get::<_, i64>(1)? as u64 }))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)
        })
        .await
    }
}

#[async_trait]
impl MessageRepo for SqliteStorage {
    async fn get_message(&self, account: AccountId, id: MessageId) -> StorageResult<Option<Message>> {
        self.read(move |c| get_message(c, account, id)).await
    }

    async fn list_messages(
        &self,
        account: AccountId,
        conversation: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> StorageResult<Vec<Message>> {
        self.read(move |c| {
            let mut out: Vec<Message> = collect(
                c,
                &format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = ?1 AND conversation_id = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4"
                ),
                params![account.0, conversation.0, before.map_or(i64::MAX, |b| b.0), limit.clamp(1, 500)],
                msg_row,
            )?;
            out.reverse();
            Ok(out)
        })
        .await
    }

    async fn search_messages(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<Message>> {
        let pattern = contains_pattern(q);
        self.read(move |c| {
            collect(
                c,
                &format!(
                    "SELECT {MSG_COLS} FROM messages WHERE account_id = ?1 AND kind != 'activity' \
                     AND search_text LIKE ?2 ESCAPE '\\' ORDER BY id DESC LIMIT ?3"
                ),
                params![account.0, pattern, limit.clamp(1, 200)],
                msg_row,
            )
        })
        .await
    }

    async fn post_message(&self, account: AccountId, new: NewMessage) -> StorageResult<PostedMessage> {
        self.write(move |c| {
            let mut conv = get_conversation(c, account, new.conversation_id)?.ok_or(StorageError::NotFound)?;
            let changes = match new.transition {
                Some(t) => conv.apply(t, new.now)?,
                None => Vec::new(),
            };
            if new.kind != MessageKind::Note {
                conv.last_activity_at = conv.last_activity_at.max(new.now);
                conv.updated_at = new.now;
            }
            save_conversation(c, &conv)?;
            let mut m = Message {
                id: MessageId(0),
                account_id: account,
                inbox_id: conv.inbox_id,
                conversation_id: conv.id,
                kind: new.kind,
                sender: new.sender,
                parts: new.parts,
                external_id: None,
                delivery: new.delivery,
                sent_at: new.now,
                created_at: new.now,
            };
            insert_message(c, &mut m)?;
            if let Some(describe) = &new.describe {
                write_activities(c, &conv, &changes, describe, new.now)?;
            }
            if let Some(job) = new.job {
                insert_job(c, &job(&m), new.now)?;
            }
            if let Some(state) = &new.bot_state {
                put_bot_state(c, account, conv.id, state, new.now)?;
            }
            append_event(c, account, &Event::MessageCreated { message: m.clone() }, new.now)?;
            if !changes.is_empty() {
                append_event(
                    c,
                    account,
                    &Event::ConversationUpdated { conversation: conv.clone(), changes: changes.clone() },
                    new.now,
                )?;
            }
            Ok(PostedMessage { message: m, conversation: conv, changes })
        })
        .await
    }

    async fn update_delivery(
        &self,
        account: AccountId,
        id: MessageId,
        status: DeliveryStatus,
        external_id: Option<String>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>> {
        self.write(move |c| {
            let mut m = get_message(c, account, id)?.ok_or(StorageError::NotFound)?;
            let current = m.delivery.clone().unwrap_or(DeliveryStatus::Queued);
            if current == status || !current.may_become(&status) {
                return Ok(None);
            }
            let reason = match &status {
                DeliveryStatus::Failed { reason } => Some(reason.clone()),
                _ => None,
            };
            c.execute(
                "UPDATE messages SET delivery_state = ?3, delivery_error = ?4, external_id = COALESCE(?5, external_id), updated_at = ?6 WHERE account_id = ?1 AND id = ?2",
                params![account.0, id.0, status.as_str(), reason, external_id, ts(now)],
            )
            .map_err(db_err)?;
            m.delivery = Some(status);
            if external_id.is_some() {
                m.external_id = external_id;
            }
            append_event(c, account, &Event::MessageUpdated { message: m.clone() }, now)?;
            Ok(Some(m))
        })
        .await
    }
}

fn ingest_tx(c: &Connection, inbound: Inbound, opt: IntakeOptions) -> StorageResult<IntakeOutcome> {
    let account = inbound.account_id;
    let now = opt.now;
    let existing = c
        .prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE inbox_id = ?1 AND external_id = ?2 AND kind = 'incoming' AND account_id = ?3"
        ))
        .map_err(db_err)?
        .query_row(params![inbound.inbox_id.0, inbound.external_id, account.0], msg_row)
        .optional()
        .map_err(db_err)?;
    if let Some(row) = existing {
        let message = Message::try_from(row)?;
        let conversation = get_conversation(c, account, message.conversation_id)?.ok_or(StorageError::NotFound)?;
        return Ok(IntakeOutcome {
            message,
            conversation,
            duplicate: true,
            new_contact: false,
            new_conversation: false,
        });
    }

    // The contact: whoever owns the first known identity, else a new one.
    let sender = &inbound.sender;
    let all: Vec<_> = std::iter::once(&sender.identity).chain(sender.extra_identities.iter()).cloned().collect();
    let mut contact_id = None;
    let mut found_at = 0;
    for (n, i) in all.iter().enumerate() {
        if let Some(id) = find_identity(c, account, i)? {
            contact_id = Some(id);
            found_at = n;
            break;
        }
    }
    let new_contact = contact_id.is_none();
    let contact_id = match contact_id {
        Some(id) => {
            // The identity that matched is already the contact's; the ones
            // before it belong to nobody yet, the ones after may be new.
            let mut added = false;
            for (n, i) in all.iter().enumerate() {
                if n != found_at {
                    added |= attach_identity(c, account, id, i, now)?;
                }
            }
            if added {
                // New identities fill empty primary fields and become
                // searchable, as when an agent adds them.
                let email = all.iter().find(|i| i.kind == IdentityKind::Email).map(|i| i.value.clone());
                let phone = all.iter().find(|i| i.kind == IdentityKind::Phone).map(|i| i.value.clone());
                c.execute(
                    "UPDATE contacts SET email = COALESCE(email, ?2), phone = COALESCE(phone, ?3) WHERE id = ?1",
                    params![id.0, email, phone],
                )
                .map_err(db_err)?;
                refresh_contact_search(c, id)?;
            }
            id
        }
        None => {
            let name = sender.name.clone().unwrap_or_default();
            let new = NewContact {
                name: if name.trim().is_empty() { String::new() } else { name },
                language: sender.language.clone(),
                identities: Vec::new(),
                ..NewContact::default()
            };
            let id = insert_contact(c, account, &new, now)?;
            for i in &all {
                attach_identity(c, account, id, i, now)?;
            }
            let email = all.iter().find(|i| i.kind == IdentityKind::Email).map(|i| i.value.clone());
            let phone = all.iter().find(|i| i.kind == IdentityKind::Phone).map(|i| i.value.clone());
            if email.is_some() || phone.is_some() {
                c.execute("UPDATE contacts SET email = ?2, phone = ?3 WHERE id = ?1", params![id.0, email, phone])
                    .map_err(db_err)?;
            }
            refresh_contact_search(c, id)?;
            id
        }
    };

    let latest = c
        .prepare_cached(&format!(
            "SELECT {CONV_COLS} FROM conversations WHERE account_id = ?1 AND contact_id = ?2 AND inbox_id = ?3 ORDER BY id DESC LIMIT 1"
        ))
        .map_err(db_err)?
        .query_row(params![account.0, contact_id.0, inbound.inbox_id.0], conv_row)
        .optional()
        .map_err(db_err)?
        .map(Conversation::try_from)
        .transpose()?;
    let (conversation, new_conversation, changes) = match latest {
        Some(mut conv) if continues(&conv, now, opt.reopen_window) => {
            let changes =
                conv.apply(Transition::BuyerMessage { at: inbound.sent_at, bot_enabled: opt.bot_enabled }, now)?;
            save_conversation(c, &conv)?;
            (conv, false, changes)
        }
        _ => {
            let mut conv = Conversation::opened_by_buyer(
                account,
                inbound.inbox_id,
                contact_id,
                opt.bot_enabled,
                inbound.sent_at,
                now,
            );
            conv.language = sender.language.clone();
            insert_conversation(c, &mut conv)?;
            (conv, true, Vec::new())
        }
    };

    let mut message = Message {
        id: MessageId(0),
        account_id: account,
        inbox_id: inbound.inbox_id,
        conversation_id: conversation.id,
        kind: MessageKind::Incoming,
        sender: Sender::Contact(contact_id),
        parts: inbound.parts,
        external_id: Some(inbound.external_id),
        delivery: None,
        sent_at: inbound.sent_at,
        created_at: now,
    };
    insert_message(c, &mut message)?;
    if let Some(job) = opt.bot_job_for(&message, &conversation) {
        insert_job(c, &job, now)?;
    }

    let event = Event::MessageReceived {
        message: message.clone(),
        conversation: conversation.clone(),
        new_conversation,
        new_contact,
        changes,
    };
    append_event(c, account, &event, now)?;
    Ok(IntakeOutcome { message, conversation, duplicate: false, new_contact, new_conversation })
}

#[async_trait]
impl IntakeRepo for SqliteStorage {
    async fn ingest(&self, inbound: Inbound, options: IntakeOptions) -> StorageResult<IntakeOutcome> {
        self.write(move |c| ingest_tx(c, inbound, options)).await
    }
}

#[async_trait]
impl OutboxRepo for SqliteStorage {
    async fn unpublished_events(&self, after: Option<EventId>, limit: u32) -> StorageResult<Vec<EventEnvelope>> {
        let after = after.map_or(0, |a| a.0);
        self.read(move |c| {
            collect(
                c,
                "SELECT id, account_id, payload, created_at FROM outbox WHERE published_at IS NULL AND id > ?2 ORDER BY id LIMIT ?1",
                params![limit, after],
                |r| Ok(EventRow { id: r.get(0)?, account_id: r.get(1)?, payload: r.get(2)?, created_at: dt(r.get(3)?) }),
            )
        })
        .await
    }

    async fn mark_published(&self, ids: &[EventId], now: DateTime<Utc>) -> StorageResult<()> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE outbox SET published_at = ?2, updated_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .map_err(db_err)?
            .execute(params![to_json(&ids), ts(now)])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn prune_published_events(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64> {
        self.write(move |c| {
            c.prepare_cached(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                 WHERE published_at IS NOT NULL AND published_at < ?1 ORDER BY id LIMIT ?2)",
            )
            .map_err(db_err)?
            .execute(params![ts(before), limit])
            .map(|n| n as u64)
            .map_err(db_err)
        })
        .await
    }

    async fn count_events(&self, account: AccountId) -> StorageResult<u64> {
        self.read(move |c| {
            c.query_row("SELECT COUNT(*) FROM outbox WHERE account_id = ?1", params![account.0], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(db_err)
        })
        .await
    }
}

#[async_trait]
impl JobRepo for SqliteStorage {
    async fn enqueue_job(&self, job: NewJob) -> StorageResult<JobId> {
        self.write(move |c| insert_job(c, &job, Utc::now()).map(JobId)).await
    }

    async fn claim_jobs(&self, now: DateTime<Utc>, lease: Duration, limit: u32) -> StorageResult<Vec<Job>> {
        self.write(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT id, account_id, kind, payload, attempts, max_attempts, last_error FROM jobs \
                     WHERE state = 'pending' AND run_at <= ?1 AND (locked_until IS NULL OR locked_until <= ?1) ORDER BY run_at, id LIMIT ?2",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![ts(now), limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(rows.len());
            let mut upd = c
                .prepare_cached("UPDATE jobs SET locked_until = ?2, attempts = attempts + 1, updated_at = ?3 WHERE id = ?1")
                .map_err(db_err)?;
            for (id, account, kind, payload, attempts, max, last_error) in rows {
                upd.execute(params![id, ts(now + lease), ts(now)]).map_err(db_err)?;
                out.push(Job {
                    id: JobId(id),
                    account_id: AccountId(account),
                    kind,
                    payload: json("jobs.payload", &payload)?,
                    attempts: (attempts + 1) as u32,
                    max_attempts: max as u32,
                    last_error,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn prune_done_jobs(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64> {
        self.write(move |c| {
            c.prepare_cached(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' AND updated_at < ?1 ORDER BY id LIMIT ?2)",
            )
            .map_err(db_err)?
            .execute(params![ts(before), limit])
            .map(|n| n as u64)
            .map_err(db_err)
        })
        .await
    }

    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ?2 WHERE id = ?1",
                params![id.0, ts(now)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> StorageResult<()> {
        let e = error.to_owned();
        self.write(move |c| {
            c.execute(
                "UPDATE jobs SET run_at = ?2, locked_until = NULL, last_error = ?3, updated_at = ?4 WHERE id = ?1",
                params![id.0, ts(run_at), e, ts(Utc::now())],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn fail_job(&self, id: JobId, error: &str, now: DateTime<Utc>) -> StorageResult<()> {
        let e = error.to_owned();
        self.write(move |c| {
            c.execute(
                "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.0, e, ts(now)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn job_state(&self, id: JobId) -> StorageResult<Option<(JobState, u32, Option<String>)>> {
        self.read(move |c| {
            let row = c
                .query_row("SELECT state, attempts, last_error FROM jobs WHERE id = ?1", params![id.0], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<String>>(2)?))
                })
                .optional()
                .map_err(db_err)?;
            row.map(|(s, a, e)| {
                let state = match s.as_str() {
                    "pending" => JobState::Pending,
                    "done" => JobState::Done,
                    "failed" => JobState::Failed,
                    other => return Err(StorageError::Corrupt(format!("jobs.state: {other}"))),
                };
                Ok((state, a as u32, e))
            })
            .transpose()
        })
        .await
    }
}

const CANNED_COLS: &str = "id, account_id, short_code, content, created_at, updated_at";

fn canned_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CannedResponse> {
    Ok(CannedResponse {
        id: CannedResponseId(r.get(0)?),
        account_id: AccountId(r.get(1)?),
        short_code: r.get(2)?,
        content: r.get(3)?,
        created_at: dt(r.get(4)?),
        updated_at: dt(r.get(5)?),
    })
}

fn canned_by_id(conn: &Connection, account: AccountId, id: CannedResponseId) -> StorageResult<Option<CannedResponse>> {
    conn.prepare_cached(&format!("SELECT {CANNED_COLS} FROM canned_responses WHERE account_id = ?1 AND id = ?2"))
        .map_err(db_err)?
        .query_row(params![account.0, id.0], canned_row)
        .optional()
        .map_err(db_err)
}

fn canned_conflict(e: rusqlite::Error) -> StorageError {
    match db_err(e) {
        StorageError::Conflict { .. } => StorageError::Conflict { constraint: "canned_responses.short_code".into() },
        other => other,
    }
}

#[async_trait]
impl CannedResponseRepo for SqliteStorage {
    async fn create_canned_response(
        &self,
        account: AccountId,
        new: NewCannedResponse,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO canned_responses (account_id, short_code, content, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![account.0, new.short_code, new.content, ts(now)],
            )
            .map_err(canned_conflict)?;
            canned_by_id(c, account, CannedResponseId(c.last_insert_rowid()))?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn list_canned_responses(&self, account: AccountId) -> StorageResult<Vec<CannedResponse>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {CANNED_COLS} FROM canned_responses WHERE account_id = ?1 ORDER BY short_code, id"
                ))
                .map_err(db_err)?;
            let rows = st.query_map(params![account.0], canned_row).map_err(db_err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
        })
        .await
    }

    async fn get_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
    ) -> StorageResult<Option<CannedResponse>> {
        self.read(move |c| canned_by_id(c, account, id)).await
    }

    async fn update_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
        patch: CannedResponsePatch,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse> {
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE canned_responses SET short_code = COALESCE(?3, short_code), content = COALESCE(?4, content), updated_at = ?5 WHERE account_id = ?1 AND id = ?2",
                    params![account.0, id.0, patch.short_code, patch.content, ts(now)],
                )
                .map_err(canned_conflict)?;
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            canned_by_id(c, account, id)?.ok_or(StorageError::NotFound)
        })
        .await
    }

    async fn delete_canned_response(&self, account: AccountId, id: CannedResponseId) -> StorageResult<()> {
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM canned_responses WHERE account_id = ?1 AND id = ?2", params![account.0, id.0])
                .map_err(db_err)?;
            if n == 0 { Err(StorageError::NotFound) } else { Ok(()) }
        })
        .await
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StorageResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(db_err)).await
    }
}

/// The storage ceiling for the intake benchmark: inserts `n` message rows
/// plus one outbox row each into a fresh database at `path`, `batch` per
/// transaction, on one connection with cached statements, and returns rows
/// per second. Same durability as the server.
pub fn batched_insert_ceiling(
    path: &std::path::Path,
    n: usize,
    batch: usize,
    durability: crate::Durability,
) -> StorageResult<f64> {
    let storage = SqliteStorage::open(crate::SqliteOptions { durability, ..crate::SqliteOptions::new(path) })?;
    drop(storage);
    let conn = Connection::open(path).map_err(db_err)?;
    let sync = match durability {
        crate::Durability::Full => "FULL",
        crate::Durability::Normal => "NORMAL",
    };
    conn.execute_batch(&format!("PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = OFF;"))
        .map_err(db_err)?;
    let now = ts(Utc::now());
    conn.execute(
        "INSERT INTO accounts (name, default_language, created_at, updated_at) VALUES ('bench', 'en', ?1, ?1)",
        params![now],
    )
    .map_err(db_err)?;
    let parts = to_json(&vec![ContentPart::Text { text: "Where is my order #1001? It has been two weeks.".into() }]);
    let sender = to_json(&Sender::Contact(ContactId(1)));
    let start = std::time::Instant::now();
    let mut done = 0usize;
    while done < n {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        {
            let mut m = conn
                .prepare_cached(
                    "INSERT INTO messages (account_id, inbox_id, conversation_id, kind, sender, parts, search_text, external_id, sent_at, created_at, updated_at) \
                     VALUES (1, 1, 1, 'incoming', ?1, ?2, ?3, ?4, ?5, ?5, ?5)",
                )
                .map_err(db_err)?;
            let mut o = conn
                .prepare_cached("INSERT INTO outbox (account_id, kind, payload, created_at, updated_at) VALUES (1, 'message_created', ?1, ?2, ?2)")
                .map_err(db_err)?;
            for i in done..(done + batch).min(n) {
                m.execute(params![
                    sender,
                    parts,
                    "Where is my order #1001? It has been two weeks.",
                    format!("ext-{i}"),
                    now
                ])
                .map_err(db_err)?;
                o.execute(params![parts, now]).map_err(db_err)?;
            }
        }
        conn.execute_batch("COMMIT").map_err(db_err)?;
        done = (done + batch).min(n);
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn put_bot_state(
    c: &Connection,
    account: AccountId,
    id: ConversationId,
    state: &serde_json::Value,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    c.prepare_cached(
        "INSERT INTO bot_states (conversation_id, account_id, state, updated_at) \
         SELECT id, account_id, ?3, ?4 FROM conversations WHERE id = ?2 AND account_id = ?1 \
         ON CONFLICT (conversation_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .map_err(db_err)?
    .execute(params![account.0, id.0, to_json(state), ts(now)])
    .map_err(db_err)
    .and_then(|n| if n == 0 { Err(StorageError::NotFound) } else { Ok(()) })
}

#[async_trait]
impl BotRepo for SqliteStorage {
    async fn bot_document_version(&self, account: AccountId) -> StorageResult<Option<i64>> {
        self.read(move |c| {
            c.prepare_cached("SELECT version FROM bot_documents WHERE account_id = ?1")
                .map_err(db_err)?
                .query_row(params![account.0], |r| r.get(0))
                .optional()
                .map_err(db_err)
        })
        .await
    }

    async fn get_bot_document(&self, account: AccountId) -> StorageResult<Option<StoredBotDocument>> {
        self.read(move |c| {
            c.query_row(
                "SELECT document, version, updated_at FROM bot_documents WHERE account_id = ?1",
                params![account.0],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()
            .map_err(db_err)?
            .map(|(doc, version, at)| {
                Ok(StoredBotDocument { document: json("bot_documents.document", &doc)?, version, updated_at: dt(at) })
            })
            .transpose()
        })
        .await
    }

    async fn put_bot_document(
        &self,
        account: AccountId,
        document: serde_json::Value,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> StorageResult<i64> {
        self.write(move |c| {
            let current: Option<i64> = c
                .query_row("SELECT version FROM bot_documents WHERE account_id = ?1", params![account.0], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            if current != expected {
                return Err(StorageError::Conflict { constraint: "bot_documents.version".into() });
            }
            let version = current.unwrap_or(0) + 1;
            c.execute(
                "INSERT INTO bot_documents (account_id, document, version, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (account_id) DO UPDATE SET document = excluded.document, version = excluded.version, updated_at = excluded.updated_at",
                params![account.0, to_json(&document), version, ts(now)],
            )
            .map_err(db_err)?;
            Ok(version)
        })
        .await
    }

    async fn get_bot_state(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<serde_json::Value>> {
        self.read(move |c| {
            c.prepare_cached("SELECT state FROM bot_states WHERE conversation_id = ?2 AND account_id = ?1")
                .map_err(db_err)?
                .query_row(params![account.0, id.0], |r| r.get::<_, String>(0))
                .optional()
                .map_err(db_err)?
                .map(|s| json("bot_states.state", &s))
                .transpose()
        })
        .await
    }

    async fn put_bot_state(
        &self,
        account: AccountId,
        id: ConversationId,
        state: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |c| put_bot_state(c, account, id, &state, now)).await
    }
}
