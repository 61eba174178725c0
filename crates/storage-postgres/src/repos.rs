//! The repository traits on PostgreSQL: one transaction per write, the
//! rows a write changes locked before they are read.

use crate::sql::*;
use crate::{PostgresStorage, db_err};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ferry_commerce::{Fulfillment, MirrorWrite, Order, OrderDetails, Product, Refund};
use ferry_core::account::{Account, Team, User};
use ferry_core::canned::CannedResponse;
use ferry_core::contact::{Contact, IdentityKind};
use ferry_core::conversation::{Change, Conversation, Status, Transition, continues};
use ferry_core::event::{Event, EventEnvelope};
use ferry_core::inbound::Inbound;
use ferry_core::inbox::Inbox;
use ferry_core::message::{ContentPart, DeliveryStatus, Message, MessageKind, Sender};
use ferry_core::{
    AccountId, CannedResponseId, ContactId, ConversationId, EventId, InboxId, JobId, MessageId, OrderId,
    ShopConnectionId, TeamId, UserId,
};
use ferry_storage::rows::*;
use ferry_storage::*;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row, Transaction};

impl PostgresStorage {
    async fn conn(&self) -> StorageResult<PoolConnection<Postgres>> {
        self.pool.acquire().await.map_err(db_err)
    }

    async fn begin(&self) -> StorageResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_err)
    }
}

async fn commit<T>(tx: Transaction<'_, Postgres>, value: T) -> StorageResult<T> {
    tx.commit().await.map_err(db_err)?;
    Ok(value)
}

fn not_found_if_none(rows_affected: u64) -> StorageResult<()> {
    if rows_affected == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}

async fn user_by_id(c: &mut PgConnection, account: AccountId, id: UserId, lock: Lock) -> StorageResult<Option<User>> {
    let q = query(format!("SELECT {USER_COLS} FROM users WHERE account_id = $1 AND id = $2{}", lock.sql()));
    fetch_one(c, q.bind(account.0).bind(id.0), user_row).await
}

async fn teams_with_members(
    c: &mut PgConnection,
    account: AccountId,
    only: Option<TeamId>,
) -> StorageResult<Vec<Team>> {
    // Names sort byte-wise, as in SQLite, whatever the database's locale.
    let teams = sqlx::query(
        "SELECT id, name, description FROM teams WHERE account_id = $1 AND ($2::bigint IS NULL OR id = $2) ORDER BY name COLLATE \"C\", id",
    )
    .bind(account.0)
    .bind(only.map(|t| t.0))
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    let members = sqlx::query(
        "SELECT team_id, user_id FROM team_members WHERE account_id = $1 AND ($2::bigint IS NULL OR team_id = $2) ORDER BY user_id",
    )
    .bind(account.0)
    .bind(only.map(|t| t.0))
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    let mut out = Vec::with_capacity(teams.len());
    for t in &teams {
        let id: i64 = t.try_get("id").map_err(db_err)?;
        let mut member_ids = Vec::new();
        for m in &members {
            if m.try_get::<i64, _>("team_id").map_err(db_err)? == id {
                member_ids.push(UserId(m.try_get("user_id").map_err(db_err)?));
            }
        }
        out.push(Team {
            id: TeamId(id),
            account_id: account,
            name: t.try_get("name").map_err(db_err)?,
            description: t.try_get("description").map_err(db_err)?,
            member_ids,
        });
    }
    Ok(out)
}

async fn team_by_id(c: &mut PgConnection, account: AccountId, id: TeamId) -> StorageResult<Option<Team>> {
    Ok(teams_with_members(c, account, Some(id)).await?.pop())
}

async fn inbox_by_id(
    c: &mut PgConnection,
    account: Option<AccountId>,
    id: InboxId,
    lock: Lock,
) -> StorageResult<Option<Inbox>> {
    let q = query(format!(
        "SELECT {INBOX_COLS} FROM inboxes WHERE ($1::bigint IS NULL OR account_id = $1) AND id = $2{}",
        lock.sql()
    ));
    fetch_one(c, q.bind(account.map(|a| a.0)).bind(id.0), inbox_row).await
}

#[async_trait]
impl AccountRepo for PostgresStorage {
    async fn create_account(&self, new: NewAccount, now: DateTime<Utc>) -> StorageResult<Account> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (name, default_language, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.default_language)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(
            tx,
            Account { id: AccountId(id), name: new.name, default_language: new.default_language, created_at: now },
        )
        .await
    }

    async fn get_account(&self, id: AccountId) -> StorageResult<Option<Account>> {
        let mut c = self.conn().await?;
        let row = query(format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await
            .map_err(db_err)?;
        row.map(|r| account_row(&r).map(Account::from).map_err(db_err)).transpose()
    }
}

#[async_trait]
impl UserRepo for PostgresStorage {
    async fn create_user(&self, account: AccountId, new: NewUser, now: DateTime<Utc>) -> StorageResult<User> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (account_id, name, email, password_hash, role, languages, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $7) RETURNING id",
        )
        .bind(account.0)
        .bind(&new.name)
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(jsonb(&new.languages))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let user = user_by_id(&mut tx, account, UserId(id), Lock::None).await?.ok_or(StorageError::NotFound)?;
        commit(tx, user).await
    }

    async fn get_user(&self, account: AccountId, id: UserId) -> StorageResult<Option<User>> {
        user_by_id(&mut *self.conn().await?, account, id, Lock::None).await
    }

    async fn list_users(&self, account: AccountId) -> StorageResult<Vec<User>> {
        let q = query(format!("SELECT {USER_COLS} FROM users WHERE account_id = $1 ORDER BY name COLLATE \"C\", id"));
        fetch_all(&mut *self.conn().await?, q.bind(account.0), user_row).await
    }

    async fn update_user(&self, account: AccountId, id: UserId, patch: UserPatch) -> StorageResult<User> {
        let mut tx = self.begin().await?;
        let mut u = user_by_id(&mut tx, account, id, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
        if let Some(n) = patch.name {
            u.name = n;
        }
        if let Some(r) = patch.role {
            u.role = r;
        }
        if let Some(l) = patch.languages {
            u.languages = l;
        }
        sqlx::query(
            "UPDATE users SET name = $3, role = $4, languages = $5::jsonb, password_hash = COALESCE($6, password_hash), updated_at = $7 \
             WHERE account_id = $1 AND id = $2",
        )
        .bind(account.0)
        .bind(id.0)
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(jsonb(&u.languages))
        .bind(patch.password_hash)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx, u).await
    }

    async fn delete_user(&self, account: AccountId, id: UserId) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM users WHERE account_id = $1 AND id = $2")
            .bind(account.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        not_found_if_none(done.rows_affected())?;
        commit(tx, ()).await
    }

    async fn find_login(&self, email: &str) -> StorageResult<Option<(User, String)>> {
        let mut c = self.conn().await?;
        let row = query(format!("SELECT {USER_COLS}, password_hash FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(&mut *c)
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("password_hash").map_err(db_err)?;
        Ok(Some((User::try_from(user_row(&row).map_err(db_err)?)?, hash)))
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, user_id, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(token_hash)
        .bind(user.account_id.0)
        .bind(user.id.0)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // Sessions past their time are removed as new ones are made.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&mut *tx).await.map_err(db_err)?;
        commit(tx, ()).await
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> StorageResult<Option<User>> {
        let q = query(format!(
            "SELECT {USER_COLS} FROM users WHERE id = (SELECT s.user_id FROM sessions s WHERE s.token_hash = $1 AND s.expires_at > $2)"
        ));
        fetch_one(&mut *self.conn().await?, q.bind(token_hash).bind(now), user_row).await
    }

    async fn delete_session(&self, token_hash: &str) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx, ()).await
    }

    async fn create_api_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (account_id, user_id, name, token_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(user.account_id.0)
        .bind(user.id.0)
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx, ()).await
    }

    async fn token_user(&self, token_hash: &str) -> StorageResult<Option<User>> {
        let q = query(format!(
            "SELECT {USER_COLS} FROM users WHERE id = \
             (SELECT t.user_id FROM api_tokens t WHERE t.token_hash = $1 AND t.account_id = users.account_id)"
        ));
        fetch_one(&mut *self.conn().await?, q.bind(token_hash), user_row).await
    }
}

#[async_trait]
impl TeamRepo for PostgresStorage {
    async fn create_team(
        &self,
        account: AccountId,
        name: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Team> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (account_id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(account.0)
        .bind(name)
        .bind(description)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let team = team_by_id(&mut tx, account, TeamId(id)).await?.ok_or(StorageError::NotFound)?;
        commit(tx, team).await
    }

    async fn get_team(&self, account: AccountId, id: TeamId) -> StorageResult<Option<Team>> {
        team_by_id(&mut *self.conn().await?, account, id).await
    }

    async fn list_teams(&self, account: AccountId) -> StorageResult<Vec<Team>> {
        teams_with_members(&mut *self.conn().await?, account, None).await
    }

    async fn set_team_members(&self, account: AccountId, id: TeamId, members: &[UserId]) -> StorageResult<Team> {
        let members: Vec<i64> = members.iter().map(|m| m.0).collect();
        let mut tx = self.begin().await?;
        let team: Option<i64> =
            sqlx::query_scalar("SELECT id FROM teams WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE")
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if team.is_none() {
            return Err(StorageError::NotFound);
        }
        let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE account_id = $1 AND id = ANY($2)")
            .bind(account.0)
            .bind(&members)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut wanted = members.clone();
        wanted.sort_unstable();
        wanted.dedup();
        if usize::try_from(known).ok() != Some(wanted.len()) {
            return Err(StorageError::Conflict { constraint: "team_members.user_id".into() });
        }
        sqlx::query("DELETE FROM team_members WHERE account_id = $1 AND team_id = $2")
            .bind(account.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO team_members (account_id, team_id, user_id, created_at, updated_at) \
             SELECT $1, $2, u, $4, $4 FROM unnest($3::bigint[]) AS u ON CONFLICT DO NOTHING",
        )
        .bind(account.0)
        .bind(id.0)
        .bind(&wanted)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let team = team_by_id(&mut tx, account, id).await?.ok_or(StorageError::NotFound)?;
        commit(tx, team).await
    }

    async fn delete_team(&self, account: AccountId, id: TeamId) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM teams WHERE account_id = $1 AND id = $2")
            .bind(account.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        not_found_if_none(done.rows_affected())?;
        commit(tx, ()).await
    }
}

#[async_trait]
impl InboxRepo for PostgresStorage {
    async fn create_inbox(&self, account: AccountId, new: NewInbox, now: DateTime<Utc>) -> StorageResult<Inbox> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO inboxes (account_id, name, channel, config, secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $6) RETURNING id",
        )
        .bind(account.0)
        .bind(&new.name)
        .bind(new.channel.as_str())
        .bind(jsonb(&new.config))
        .bind(&new.secret)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let inbox =
            inbox_by_id(&mut tx, Some(account), InboxId(id), Lock::None).await?.ok_or(StorageError::NotFound)?;
        commit(tx, inbox).await
    }

    async fn get_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<Option<Inbox>> {
        inbox_by_id(&mut *self.conn().await?, Some(account), id, Lock::None).await
    }

    async fn find_inbox(&self, id: InboxId) -> StorageResult<Option<Inbox>> {
        inbox_by_id(&mut *self.conn().await?, None, id, Lock::None).await
    }

    async fn list_inboxes(&self, account: AccountId) -> StorageResult<Vec<Inbox>> {
        let q =
            query(format!("SELECT {INBOX_COLS} FROM inboxes WHERE account_id = $1 ORDER BY name COLLATE \"C\", id"));
        fetch_all(&mut *self.conn().await?, q.bind(account.0), inbox_row).await
    }

    async fn update_inbox(&self, account: AccountId, id: InboxId, patch: InboxPatch) -> StorageResult<Inbox> {
        let mut tx = self.begin().await?;
        let mut i = inbox_by_id(&mut tx, Some(account), id, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
        if let Some(n) = patch.name {
            i.name = n;
        }
        if let Some(cfg) = patch.config {
            i.config = cfg;
        }
        sqlx::query(
            "UPDATE inboxes SET name = $3, config = $4::jsonb, updated_at = $5 WHERE account_id = $1 AND id = $2",
        )
        .bind(account.0)
        .bind(id.0)
        .bind(&i.name)
        .bind(jsonb(&i.config))
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx, i).await
    }

    async fn delete_inbox(&self, account: AccountId, id: InboxId) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM inboxes WHERE account_id = $1 AND id = $2")
            .bind(account.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        not_found_if_none(done.rows_affected())?;
        commit(tx, ()).await
    }
}

#[async_trait]
impl ContactRepo for PostgresStorage {
    async fn create_contact(&self, account: AccountId, new: NewContact, now: DateTime<Utc>) -> StorageResult<Contact> {
        let mut tx = self.begin().await?;
        lock_keys(&mut tx, new.identities.iter().map(|i| identity_lock(account, i)).collect()).await?;
        let id = insert_contact(&mut tx, account, &new, now).await?;
        let contact = get_contact(&mut tx, account, id, Lock::None).await?.ok_or(StorageError::NotFound)?;
        commit(tx, contact).await
    }

    async fn get_contact(&self, account: AccountId, id: ContactId) -> StorageResult<Option<Contact>> {
        get_contact(&mut *self.conn().await?, account, id, Lock::None).await
    }

    async fn search_contacts(&self, account: AccountId, query: ContactQuery) -> StorageResult<Vec<Contact>> {
        let pattern = query.q.as_deref().map(|q| no_nul(&contains_pattern(q)));
        let before = query.before.map_or(i64::MAX, |b| b.0);
        let mut c = self.conn().await?;
        let q = crate::sql::query(format!(
            "SELECT {CONTACT_COLS} FROM contacts WHERE account_id = $1 AND id < $2 AND ($3::text IS NULL OR search LIKE $3 ESCAPE '\\') \
             ORDER BY id DESC LIMIT $4"
        ));
        let rows: Vec<ContactRow> = q
            .bind(account.0)
            .bind(before)
            .bind(pattern)
            .bind(i64::from(query.limit.clamp(1, 500)))
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?
            .iter()
            .map(contact_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        with_identities(&mut c, rows).await
    }

    async fn update_contact(
        &self,
        account: AccountId,
        id: ContactId,
        patch: ContactPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<Contact> {
        let mut tx = self.begin().await?;
        // Identity locks before the row lock, in the order intake takes
        // them.
        lock_keys(&mut tx, patch.add_identities.iter().map(|i| identity_lock(account, i)).collect()).await?;
        let mut ct = get_contact(&mut tx, account, id, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
        patch.apply_to(&mut ct);
        for i in &patch.add_identities {
            if !attach_identity(&mut tx, account, id, i, now).await?
                && find_identity(&mut tx, account, i).await? != Some(id)
            {
                return Err(StorageError::Conflict { constraint: "contact_identities".into() });
            }
            match i.kind {
                IdentityKind::Email if ct.email.is_none() => ct.email = Some(i.value.clone()),
                IdentityKind::Phone if ct.phone.is_none() => ct.phone = Some(i.value.clone()),
                _ => {}
            }
        }
        sqlx::query(
            "UPDATE contacts SET name = $3, email = $4, phone = $5, country = $6, language = $7, timezone = $8, vip = $9, \
             custom_attributes = $10::jsonb, tags = $11::jsonb, updated_at = $12 WHERE account_id = $1 AND id = $2",
        )
        .bind(account.0)
        .bind(id.0)
        .bind(no_nul(&ct.name))
        .bind(&ct.email)
        .bind(&ct.phone)
        .bind(&ct.country)
        .bind(&ct.language)
        .bind(&ct.timezone)
        .bind(ct.vip)
        .bind(jsonb(&ct.custom_attributes))
        .bind(jsonb(&ct.tags))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        refresh_contact_search(&mut tx, id).await?;
        let contact = get_contact(&mut tx, account, id, Lock::None).await?.ok_or(StorageError::NotFound)?;
        commit(tx, contact).await
    }
}

/// Appends the WHERE conditions of a conversation filter.
fn push_filter(qb: &mut QueryBuilder<Postgres>, account: AccountId, f: &ConversationFilter, with_status: bool) {
    qb.push(" WHERE account_id = ").push_bind(account.0);
    if with_status && let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    match f.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => {
            qb.push(" AND assignee_id IS NULL");
        }
        AssigneeFilter::User(u) => {
            qb.push(" AND assignee_id = ").push_bind(u.0);
        }
    }
    if let Some(t) = f.team_id {
        qb.push(" AND team_id = ").push_bind(t.0);
    }
    if let Some(i) = f.inbox_id {
        qb.push(" AND inbox_id = ").push_bind(i.0);
    }
    if let Some(c) = f.contact_id {
        qb.push(" AND contact_id = ").push_bind(c.0);
    }
    if let Some(tag) = &f.tag {
        qb.push(" AND tags @> jsonb_build_array(").push_bind(tag.clone()).push("::text)");
    }
    if let Some(l) = &f.language {
        qb.push(" AND (language = ").push_bind(l.clone());
        qb.push(" OR language LIKE ").push_bind(format!("{}-%", escape_like(l))).push(" ESCAPE '\\')");
    }
}

/// Stores the activity lines `texts` of a change, each with its event.
async fn write_activities(
    c: &mut PgConnection,
    conv: &Conversation,
    texts: Vec<String>,
    now: DateTime<Utc>,
) -> StorageResult<Vec<Message>> {
    let mut out = Vec::with_capacity(texts.len());
    for text in texts {
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
        insert_message(c, &mut m).await?;
        append_event(c, conv.account_id, &Event::MessageCreated { message: m.clone() }, now).await?;
        out.push(m);
    }
    Ok(out)
}

#[async_trait]
impl ConversationRepo for PostgresStorage {
    async fn get_conversation(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<Conversation>> {
        get_conversation(&mut *self.conn().await?, account, id, Lock::None).await
    }

    async fn list_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
        after: Option<ConversationCursor>,
        limit: u32,
    ) -> StorageResult<ConversationPage> {
        let limit = limit.clamp(1, 200);
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {CONV_COLS} FROM conversations"));
        push_filter(&mut qb, account, filter, true);
        if let Some(cur) = after {
            qb.push(" AND (last_activity_at, id) < (")
                .push_bind(cur.last_activity_at)
                .push(", ")
                .push_bind(cur.id.0)
                .push(")");
        }
        qb.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let mut c = self.conn().await?;
        let mut items: Vec<Conversation> = Vec::new();
        for row in qb.build().fetch_all(&mut *c).await.map_err(db_err)? {
            items.push(Conversation::try_from(conv_row(&row).map_err(db_err)?)?);
        }
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|l| ConversationCursor { last_activity_at: l.last_activity_at, id: l.id })
        } else {
            None
        };
        Ok(ConversationPage { items, next })
    }

    async fn count_conversations(
        &self,
        account: AccountId,
        filter: &ConversationFilter,
    ) -> StorageResult<Vec<(Status, u64)>> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT status, COUNT(*) AS n FROM conversations");
        push_filter(&mut qb, account, filter, false);
        qb.push(" GROUP BY status");
        let mut c = self.conn().await?;
        let mut counts = Vec::new();
        for row in qb.build().fetch_all(&mut *c).await.map_err(db_err)? {
            let status: String = row.try_get("status").map_err(db_err)?;
            let n: i64 = row.try_get("n").map_err(db_err)?;
            counts.push((status, n));
        }
        Ok(Status::ALL
            .iter()
            .map(|s| {
                (*s, counts.iter().find(|(n, _)| n == s.as_str()).map_or(0, |(_, k)| u64::try_from(*k).unwrap_or(0)))
            })
            .collect())
    }

    async fn assigned_load(&self, account: AccountId) -> StorageResult<Vec<(UserId, u64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT assignee_id, COUNT(*) FROM conversations WHERE account_id = $1 \
             AND status IN ('open', 'pending') AND assignee_id IS NOT NULL GROUP BY assignee_id",
        )
        .bind(account.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|(u, n)| (UserId(u), u64::try_from(n).unwrap_or(0))).collect())
    }

    async fn update_conversation(
        &self,
        account: AccountId,
        id: ConversationId,
        update: ConversationUpdate,
    ) -> StorageResult<UpdatedConversation> {
        let mut tx = self.begin().await?;
        let mut conv = get_conversation(&mut tx, account, id, Lock::Update).await?.ok_or(StorageError::NotFound)?;
        let changes = update.apply(&mut conv)?;
        if changes.is_empty() {
            return commit(tx, UpdatedConversation { conversation: conv, changes, activities: Vec::new() }).await;
        }
        let texts: Vec<String> = changes.iter().filter_map(|ch| (update.describe)(ch)).collect();
        save_conversation(&mut tx, &conv).await?;
        let activities = write_activities(&mut tx, &conv, texts, update.now).await?;
        append_event(
            &mut tx,
            account,
            &Event::ConversationUpdated { conversation: conv.clone(), changes: changes.clone() },
            update.now,
        )
        .await?;
        commit(tx, UpdatedConversation { conversation: conv, changes, activities }).await
    }

    async fn due_snoozed(&self, now: DateTime<Utc>, limit: u32) -> StorageResult<Vec<(AccountId, ConversationId)>> {
        let rows = sqlx::query(
            "SELECT account_id, id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= $1 ORDER BY snoozed_until, id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.conn().await?)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((AccountId(r.try_get("account_id")?), ConversationId(r.try_get("id")?))))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn list_tags(&self, account: AccountId) -> StorageResult<Vec<TagCount>> {
        let rows = sqlx::query(
            "SELECT t.tag, COUNT(*) AS n FROM conversations c, jsonb_array_elements_text(c.tags) AS t(tag) \
             WHERE c.account_id = $1 GROUP BY t.tag ORDER BY n DESC, t.tag COLLATE \"C\"",
        )
        .bind(account.0)
        .fetch_all(&mut *self.conn().await?)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TagCount {
                    tag: r.try_get("tag")?,
                    conversations: u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }
}

#[async_trait]
impl MessageRepo for PostgresStorage {
    async fn get_message(&self, account: AccountId, id: MessageId) -> StorageResult<Option<Message>> {
        get_message(&mut *self.conn().await?, account, id, Lock::None).await
    }

    async fn list_messages(
        &self,
        account: AccountId,
        conversation: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> StorageResult<Vec<Message>> {
        let q = query(format!(
            "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND conversation_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4"
        ))
        .bind(account.0)
        .bind(conversation.0)
        .bind(before.map_or(i64::MAX, |b| b.0))
        .bind(i64::from(limit.clamp(1, 500)));
        let mut out: Vec<Message> = fetch_all(&mut *self.conn().await?, q, msg_row).await?;
        out.reverse();
        Ok(out)
    }

    async fn search_messages(&self, account: AccountId, q: &str, limit: u32) -> StorageResult<Vec<Message>> {
        let q = query(format!(
            "SELECT {MSG_COLS} FROM messages WHERE account_id = $1 AND kind <> 'activity' \
             AND search_text LIKE $2 ESCAPE '\\' ORDER BY id DESC LIMIT $3"
        ))
        .bind(account.0)
        .bind(no_nul(&contains_pattern(q)))
        .bind(i64::from(limit.clamp(1, 200)));
        fetch_all(&mut *self.conn().await?, q, msg_row).await
    }

    async fn post_message(&self, account: AccountId, new: NewMessage) -> StorageResult<PostedMessage> {
        let mut tx = self.begin().await?;
        let mut conv = get_conversation(&mut tx, account, new.conversation_id, Lock::Update)
            .await?
            .ok_or(StorageError::NotFound)?;
        let changes = match new.transition {
            Some(t) => conv.apply(t, new.now)?,
            None => Vec::new(),
        };
        if new.kind != MessageKind::Note {
            conv.last_activity_at = conv.last_activity_at.max(new.now);
            conv.updated_at = new.now;
        }
        save_conversation(&mut tx, &conv).await?;
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
        insert_message(&mut tx, &mut m).await?;
        if let Some(describe) = &new.describe {
            let texts = changes.iter().filter_map(describe).collect();
            write_activities(&mut tx, &conv, texts, new.now).await?;
        }
        if let Some(job) = new.job {
            let job = job(&m);
            insert_job(&mut tx, &job, new.now).await?;
        }
        if let Some(state) = &new.bot_state {
            put_bot_state(&mut tx, account, conv.id, state, new.now).await?;
        }
        append_event(&mut tx, account, &Event::MessageCreated { message: m.clone() }, new.now).await?;
        if !changes.is_empty() {
            append_event(
                &mut tx,
                account,
                &Event::ConversationUpdated { conversation: conv.clone(), changes: changes.clone() },
                new.now,
            )
            .await?;
        }
        commit(tx, PostedMessage { message: m, conversation: conv, changes }).await
    }

    async fn update_delivery(
        &self,
        account: AccountId,
        id: MessageId,
        status: DeliveryStatus,
        external_id: Option<String>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Message>> {
        let mut tx = self.begin().await?;
        let mut m = get_message(&mut tx, account, id, Lock::Update).await?.ok_or(StorageError::NotFound)?;
        let current = m.delivery.clone().unwrap_or(DeliveryStatus::Queued);
        if current == status || !current.may_become(&status) {
            return commit(tx, None).await;
        }
        let (state, reason) = delivery_columns(Some(&status));
        sqlx::query(
            "UPDATE messages SET delivery_state = $3, delivery_error = $4, external_id = COALESCE($5, external_id), updated_at = $6 \
             WHERE account_id = $1 AND id = $2",
        )
        .bind(account.0)
        .bind(id.0)
        .bind(state)
        .bind(reason)
        .bind(&external_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        m.delivery = Some(status);
        if external_id.is_some() {
            m.external_id = external_id;
        }
        append_event(&mut tx, account, &Event::MessageUpdated { message: m.clone() }, now).await?;
        commit(tx, Some(m)).await
    }
}

/// Intake in one transaction. Deliveries of the same message take turns
/// on the message's advisory lock, so the second sees the first's row;
/// messages of the same buyer take turns on the locks of the buyer's
/// identities, so one buyer never becomes two contacts; the contact's row
/// lock and the conversation's row lock keep two messages of one buyer from
/// opening two conversations or losing each other's update.
async fn ingest_tx(c: &mut PgConnection, inbound: Inbound, opt: IntakeOptions) -> StorageResult<IntakeOutcome> {
    let account = inbound.account_id;
    let now = opt.now;
    lock_keys(c, vec![message_lock(inbound.inbox_id.0, &inbound.external_id)]).await?;
    let existing = query(format!(
        "SELECT {MSG_COLS} FROM messages WHERE inbox_id = $1 AND external_id = $2 AND kind = 'incoming' AND account_id = $3"
    ))
    .bind(inbound.inbox_id.0)
    .bind(&inbound.external_id)
    .bind(account.0);
    if let Some(message) = fetch_one::<Message, _>(c, existing, msg_row).await? {
        let conversation =
            get_conversation(c, account, message.conversation_id, Lock::None).await?.ok_or(StorageError::NotFound)?;
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
    lock_keys(c, all.iter().map(|i| identity_lock(account, i)).collect()).await?;
    let mut found = None;
    for i in &all {
        if let Some(id) = find_identity(c, account, i).await? {
            found = Some(id);
            break;
        }
    }
    let new_contact = found.is_none();
    let contact_id = match found {
        Some(id) => {
            sqlx::query("SELECT id FROM contacts WHERE id = $1 FOR NO KEY UPDATE")
                .bind(id.0)
                .execute(&mut *c)
                .await
                .map_err(db_err)?;
            let mut added = false;
            for i in &all {
                added |= attach_identity(c, account, id, i, now).await?;
            }
            if added {
                let (email, phone) = primary_contacts(&all);
                sqlx::query(
                    "UPDATE contacts SET email = COALESCE(email, $2), phone = COALESCE(phone, $3) WHERE id = $1",
                )
                .bind(id.0)
                .bind(email)
                .bind(phone)
                .execute(&mut *c)
                .await
                .map_err(db_err)?;
                refresh_contact_search(c, id).await?;
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
            let id = insert_contact(c, account, &new, now).await?;
            for i in &all {
                attach_identity(c, account, id, i, now).await?;
            }
            let (email, phone) = primary_contacts(&all);
            if email.is_some() || phone.is_some() {
                sqlx::query("UPDATE contacts SET email = $2, phone = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(email)
                    .bind(phone)
                    .execute(&mut *c)
                    .await
                    .map_err(db_err)?;
            }
            refresh_contact_search(c, id).await?;
            id
        }
    };

    let latest = query(format!(
        "SELECT {CONV_COLS} FROM conversations WHERE account_id = $1 AND contact_id = $2 AND inbox_id = $3 ORDER BY id DESC LIMIT 1 FOR UPDATE"
    ))
    .bind(account.0)
    .bind(contact_id.0)
    .bind(inbound.inbox_id.0);
    let latest: Option<Conversation> = fetch_one(c, latest, conv_row).await?;
    let (conversation, new_conversation, changes) = match latest {
        Some(mut conv) if continues(&conv, now, opt.reopen_window) => {
            let changes =
                conv.apply(Transition::BuyerMessage { at: inbound.sent_at, bot_enabled: opt.bot_enabled }, now)?;
            save_conversation(c, &conv).await?;
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
            insert_conversation(c, &mut conv).await?;
            (conv, true, Vec::<Change>::new())
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
    insert_message(c, &mut message).await?;
    if let Some(job) = opt.bot_job_for(&message, &conversation) {
        insert_job(c, &job, now).await?;
    }

    let event = Event::MessageReceived {
        message: message.clone(),
        conversation: conversation.clone(),
        new_conversation,
        new_contact,
        changes,
    };
    append_event(c, account, &event, now).await?;
    Ok(IntakeOutcome { message, conversation, duplicate: false, new_contact, new_conversation })
}

#[async_trait]
impl IntakeRepo for PostgresStorage {
    async fn ingest(&self, inbound: Inbound, options: IntakeOptions) -> StorageResult<IntakeOutcome> {
        let mut tx = self.begin().await?;
        let outcome = ingest_tx(&mut tx, inbound, options).await?;
        commit(tx, outcome).await
    }
}

#[async_trait]
impl OutboxRepo for PostgresStorage {
    async fn unpublished_events(&self, after: Option<EventId>, limit: u32) -> StorageResult<Vec<EventEnvelope>> {
        let q = sqlx::query(
            "SELECT id, account_id, payload::text AS payload, created_at FROM outbox \
             WHERE published_at IS NULL AND id > $2 ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .bind(after.map_or(0, |a| a.0));
        fetch_all(&mut *self.conn().await?, q, event_row).await
    }

    async fn mark_published(&self, ids: &[EventId], now: DateTime<Utc>) -> StorageResult<()> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE outbox SET published_at = $2, updated_at = $2 WHERE id = ANY($1)")
            .bind(&ids)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx, ()).await
    }

    async fn prune_published_events(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64> {
        let done = sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
             WHERE published_at IS NOT NULL AND published_at < $1 ORDER BY id LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&mut *self.conn().await?)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn count_events(&self, account: AccountId) -> StorageResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE account_id = $1")
            .bind(account.0)
            .fetch_one(&mut *self.conn().await?)
            .await
            .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn job_count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl JobRepo for PostgresStorage {
    async fn enqueue_job(&self, job: NewJob) -> StorageResult<JobId> {
        let mut tx = self.begin().await?;
        let id = insert_job(&mut tx, &job, Utc::now()).await?;
        commit(tx, JobId(id)).await
    }

    async fn claim_jobs(&self, now: DateTime<Utc>, lease: Duration, limit: u32) -> StorageResult<Vec<Job>> {
        let mut tx = self.begin().await?;
        // SKIP LOCKED: concurrent workers each take different due jobs
        // instead of waiting for each other.
        let rows = sqlx::query(
            "WITH claimed AS ( \
                 UPDATE jobs SET locked_until = $2, attempts = attempts + 1, updated_at = $1 \
                 WHERE id IN ( \
                     SELECT id FROM jobs WHERE state = 'pending' AND run_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) \
                     ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, account_id, kind, payload, attempts, max_attempts, last_error, run_at) \
             SELECT id, account_id, kind, payload::text AS payload, attempts, max_attempts, last_error FROM claimed ORDER BY run_at, id",
        )
        .bind(now)
        .bind(now + lease)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let payload: String = r.try_get("payload").map_err(db_err)?;
            out.push(Job {
                id: JobId(r.try_get("id").map_err(db_err)?),
                account_id: AccountId(r.try_get("account_id").map_err(db_err)?),
                kind: r.try_get("kind").map_err(db_err)?,
                payload: json("jobs.payload", &payload)?,
                attempts: job_count(r.try_get("attempts").map_err(db_err)?),
                max_attempts: job_count(r.try_get("max_attempts").map_err(db_err)?),
                last_error: r.try_get("last_error").map_err(db_err)?,
            });
        }
        commit(tx, out).await
    }

    async fn prune_done_jobs(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' AND updated_at < $1 ORDER BY id LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&mut *self.conn().await?)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = $2 WHERE id = $1")
            .bind(id.0)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx, ()).await
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1")
            .bind(id.0)
            .bind(run_at)
            .bind(no_nul(error))
            .bind(Utc::now())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx, ()).await
    }

    async fn fail_job(&self, id: JobId, error: &str, now: DateTime<Utc>) -> StorageResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id.0)
        .bind(no_nul(error))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx, ()).await
    }

    async fn job_state(&self, id: JobId) -> StorageResult<Option<(JobState, u32, Option<String>)>> {
        let row = sqlx::query("SELECT state, attempts, last_error FROM jobs WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.conn().await?)
            .await
            .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let s: String = r.try_get("state").map_err(db_err)?;
        let state = match s.as_str() {
            "pending" => JobState::Pending,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            other => return Err(StorageError::Corrupt(format!("jobs.state: {other}"))),
        };
        Ok(Some((state, job_count(r.try_get("attempts").map_err(db_err)?), r.try_get("last_error").map_err(db_err)?)))
    }
}

type CannedRow = (i64, i64, String, String, DateTime<Utc>, DateTime<Utc>);

fn canned(r: CannedRow) -> CannedResponse {
    CannedResponse {
        id: CannedResponseId(r.0),
        account_id: AccountId(r.1),
        short_code: r.2,
        content: r.3,
        created_at: r.4,
        updated_at: r.5,
    }
}

fn canned_conflict(e: sqlx::Error) -> StorageError {
    match db_err(e) {
        StorageError::Conflict { .. } => StorageError::Conflict { constraint: "canned_responses.short_code".into() },
        other => other,
    }
}

#[async_trait]
impl CannedResponseRepo for PostgresStorage {
    async fn create_canned_response(
        &self,
        account: AccountId,
        new: NewCannedResponse,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse> {
        let row: CannedRow = sqlx::query_as(
            "INSERT INTO canned_responses (account_id, short_code, content, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id, account_id, short_code, content, created_at, updated_at",
        )
        .bind(account.0)
        .bind(&new.short_code)
        .bind(&new.content)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(canned_conflict)?;
        Ok(canned(row))
    }

    async fn list_canned_responses(&self, account: AccountId) -> StorageResult<Vec<CannedResponse>> {
        let rows: Vec<CannedRow> = sqlx::query_as(
            "SELECT id, account_id, short_code, content, created_at, updated_at FROM canned_responses WHERE account_id = $1 ORDER BY short_code COLLATE \"C\", id",
        )
        .bind(account.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(canned).collect())
    }

    async fn get_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
    ) -> StorageResult<Option<CannedResponse>> {
        let row: Option<CannedRow> =
            sqlx::query_as("SELECT id, account_id, short_code, content, created_at, updated_at FROM canned_responses WHERE account_id = $1 AND id = $2")
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(row.map(canned))
    }

    async fn update_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
        patch: CannedResponsePatch,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse> {
        let row: Option<CannedRow> = sqlx::query_as(
            "UPDATE canned_responses SET short_code = COALESCE($3, short_code), content = COALESCE($4, content), updated_at = $5 WHERE account_id = $1 AND id = $2 RETURNING id, account_id, short_code, content, created_at, updated_at",
        )
        .bind(account.0)
        .bind(id.0)
        .bind(patch.short_code)
        .bind(patch.content)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(canned_conflict)?;
        row.map(canned).ok_or(StorageError::NotFound)
    }

    async fn delete_canned_response(&self, account: AccountId, id: CannedResponseId) -> StorageResult<()> {
        let done = sqlx::query("DELETE FROM canned_responses WHERE account_id = $1 AND id = $2")
            .bind(account.0)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(StorageError::NotFound) } else { Ok(()) }
    }
}

#[async_trait]
impl Storage for PostgresStorage {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_err)?;
        Ok(())
    }
}

async fn put_bot_state(
    c: &mut PgConnection,
    account: AccountId,
    id: ConversationId,
    state: &serde_json::Value,
    now: DateTime<Utc>,
) -> StorageResult<()> {
    let done = sqlx::query(
        "INSERT INTO bot_states (conversation_id, account_id, state, updated_at) \
         SELECT id, account_id, $3::jsonb, $4 FROM conversations WHERE id = $2 AND account_id = $1 \
         ON CONFLICT (conversation_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(jsonb(state))
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    not_found_if_none(done.rows_affected())
}

#[async_trait]
impl BotRepo for PostgresStorage {
    async fn bot_document_version(&self, account: AccountId) -> StorageResult<Option<i64>> {
        sqlx::query_scalar("SELECT version FROM bot_documents WHERE account_id = $1")
            .bind(account.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn get_bot_document(&self, account: AccountId) -> StorageResult<Option<StoredBotDocument>> {
        let row: Option<(sqlx::types::Json<serde_json::Value>, i64, DateTime<Utc>)> =
            sqlx::query_as("SELECT document, version, updated_at FROM bot_documents WHERE account_id = $1")
                .bind(account.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(row.map(|(doc, version, updated_at)| StoredBotDocument { document: doc.0, version, updated_at }))
    }

    async fn put_bot_document(
        &self,
        account: AccountId,
        document: serde_json::Value,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> StorageResult<i64> {
        let mut tx = self.begin().await?;
        // Serialise writers of the same account's document.
        sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(account.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let current: Option<i64> = sqlx::query_scalar("SELECT version FROM bot_documents WHERE account_id = $1")
            .bind(account.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if current != expected {
            return Err(StorageError::Conflict { constraint: "bot_documents.version".into() });
        }
        let version = current.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO bot_documents (account_id, document, version, updated_at) VALUES ($1, $2::jsonb, $3, $4) \
             ON CONFLICT (account_id) DO UPDATE SET document = excluded.document, version = excluded.version, updated_at = excluded.updated_at",
        )
        .bind(account.0)
        .bind(jsonb(&document))
        .bind(version)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx, version).await
    }

    async fn get_bot_state(&self, account: AccountId, id: ConversationId) -> StorageResult<Option<serde_json::Value>> {
        let row: Option<sqlx::types::Json<serde_json::Value>> =
            sqlx::query_scalar("SELECT state FROM bot_states WHERE conversation_id = $2 AND account_id = $1")
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(row.map(|j| j.0))
    }

    async fn put_bot_state(
        &self,
        account: AccountId,
        id: ConversationId,
        state: serde_json::Value,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        put_bot_state(&mut c, account, id, &state, now).await
    }
}

const SHOP_CONNECTION_COLS: &str =
    "id, account_id, platform, name, shop_domain, secret, api_url, access_token, created_at";

fn shop_connection(row: &PgRow) -> StorageResult<ShopConnection> {
    let platform: String = row.try_get("platform").map_err(db_err)?;
    Ok(ShopConnection {
        id: ShopConnectionId(row.try_get("id").map_err(db_err)?),
        account_id: AccountId(row.try_get("account_id").map_err(db_err)?),
        platform: ShopPlatform::parse(&platform)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown shop platform {platform:?}")))?,
        name: row.try_get("name").map_err(db_err)?,
        shop_domain: row.try_get("shop_domain").map_err(db_err)?,
        secret: row.try_get("secret").map_err(db_err)?,
        api_url: row.try_get("api_url").map_err(db_err)?,
        access_token: row.try_get("access_token").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
    })
}

/// Where a write goes, so that a batch takes its row locks in one order
/// (two batches touching the same records never wait on each other in a
/// circle). The sort is stable: writes to the same record keep their order.
fn mirror_write_key(w: &MirrorWrite) -> (u8, &str, &str) {
    match w {
        MirrorWrite::Order(o) => (0, &o.external_id, ""),
        MirrorWrite::Fulfillment(f) => (1, &f.external_id, ""),
        MirrorWrite::Refund(r) => (2, &r.external_id, ""),
        MirrorWrite::Product(p) => (3, &p.external_id, ""),
        MirrorWrite::Inventory(l) => (4, &l.inventory_item_id, &l.location_id),
        MirrorWrite::Customer(c) => (5, &c.external_id, ""),
    }
}

/// Applies one write, keeping the newer version (an equal timestamp with
/// a different record replaces it; the same record changes nothing);
/// true when a row was written.
async fn apply_mirror_write(
    c: &mut PgConnection,
    account: AccountId,
    connection: ShopConnectionId,
    w: &MirrorWrite,
    now: DateTime<Utc>,
) -> StorageResult<bool> {
    let q = match w {
        MirrorWrite::Order(o) => sqlx::query(
            "INSERT INTO shop_orders (account_id, connection_id, external_id, number, email, phone, search_text, \
             source_updated_at, placed_at, document, created_at, updated_at, customer_external_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $11, $12) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET number = excluded.number, email = excluded.email, \
             customer_external_id = excluded.customer_external_id, \
             phone = excluded.phone, search_text = excluded.search_text, source_updated_at = excluded.source_updated_at, \
             placed_at = excluded.placed_at, document = excluded.document, updated_at = excluded.updated_at \
             WHERE shop_orders.source_updated_at < excluded.source_updated_at \
             OR (shop_orders.source_updated_at = excluded.source_updated_at AND shop_orders.document <> excluded.document)",
        )
        .bind(account.0)
        .bind(connection.0)
        .bind(no_nul(&o.external_id))
        .bind(no_nul(&clean_order_number(&o.number)))
        .bind(o.email.as_deref().map(no_nul))
        .bind(o.phone.as_deref().map(no_nul))
        .bind(no_nul(&order_search_text(o)))
        .bind(o.updated_at)
        .bind(o.created_at)
        .bind(jsonb(&**o))
        .bind(now)
        .bind(o.customer_external_id.as_deref().map(no_nul)),
        MirrorWrite::Fulfillment(f) => sqlx::query(
            "INSERT INTO shop_fulfillments (connection_id, external_id, order_external_id, source_updated_at, document) \
             VALUES ($1, $2, $3, $4, $5::jsonb) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET order_external_id = excluded.order_external_id, \
             source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_fulfillments.source_updated_at < excluded.source_updated_at \
             OR (shop_fulfillments.source_updated_at = excluded.source_updated_at AND shop_fulfillments.document <> excluded.document)",
        )
        .bind(connection.0)
        .bind(no_nul(&f.external_id))
        .bind(no_nul(&f.order_external_id))
        .bind(f.updated_at)
        .bind(jsonb(f)),
        // Refunds never change once made.
        MirrorWrite::Refund(r) => sqlx::query(
            "INSERT INTO shop_refunds (connection_id, external_id, order_external_id, document) \
             VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (connection_id, external_id) DO NOTHING",
        )
        .bind(connection.0)
        .bind(no_nul(&r.external_id))
        .bind(no_nul(&r.order_external_id))
        .bind(jsonb(r)),
        MirrorWrite::Product(p) => sqlx::query(
            "INSERT INTO shop_products (connection_id, external_id, title, source_updated_at, document) \
             VALUES ($1, $2, $3, $4, $5::jsonb) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET title = excluded.title, \
             source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_products.source_updated_at < excluded.source_updated_at \
             OR (shop_products.source_updated_at = excluded.source_updated_at AND shop_products.document <> excluded.document)",
        )
        .bind(connection.0)
        .bind(no_nul(&p.external_id))
        .bind(no_nul(&p.title))
        .bind(p.updated_at)
        .bind(jsonb(p)),
        MirrorWrite::Inventory(l) => sqlx::query(
            "INSERT INTO shop_inventory (connection_id, inventory_item_id, location_id, available, source_updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (connection_id, inventory_item_id, location_id) DO UPDATE SET available = excluded.available, \
             source_updated_at = excluded.source_updated_at \
             WHERE shop_inventory.source_updated_at < excluded.source_updated_at \
             OR (shop_inventory.source_updated_at = excluded.source_updated_at AND shop_inventory.available <> excluded.available)",
        )
        .bind(connection.0)
        .bind(no_nul(&l.inventory_item_id))
        .bind(no_nul(&l.location_id))
        .bind(l.available)
        .bind(l.updated_at),
        MirrorWrite::Customer(cu) => sqlx::query(
            "INSERT INTO shop_customers (connection_id, external_id, email, phone, source_updated_at, document) \
             VALUES ($1, $2, $3, $4, $5, $6::jsonb) \
             ON CONFLICT (connection_id, external_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, \
             source_updated_at = excluded.source_updated_at, document = excluded.document \
             WHERE shop_customers.source_updated_at < excluded.source_updated_at \
             OR (shop_customers.source_updated_at = excluded.source_updated_at AND shop_customers.document <> excluded.document)",
        )
        .bind(connection.0)
        .bind(no_nul(&cu.external_id))
        .bind(cu.email.as_deref().map(no_nul))
        .bind(cu.phone.as_deref().map(no_nul))
        .bind(cu.updated_at)
        .bind(jsonb(cu)),
    };
    Ok(q.execute(&mut *c).await.map_err(db_err)?.rows_affected() > 0)
}

/// Orders with their fulfilments and refunds (oldest first), in the order
/// of `rows` (`id, connection_id, document`).
pub(crate) async fn with_order_details(c: &mut PgConnection, rows: Vec<PgRow>) -> StorageResult<Vec<StoredOrder>> {
    let mut orders = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id").map_err(db_err)?;
        let connection_id: i64 = row.try_get("connection_id").map_err(db_err)?;
        let order: Json<Order> = row.try_get("document").map_err(db_err)?;
        orders.push((id, connection_id, order.0));
    }
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let connections: Vec<i64> = orders.iter().map(|(_, c, _)| *c).collect();
    let externals: Vec<String> = orders.iter().map(|(_, _, o)| no_nul(&o.external_id)).collect();
    let fulfillments: Vec<(i64, Json<Fulfillment>)> = sqlx::query_as(
        "SELECT f.connection_id, f.document FROM shop_fulfillments f \
         JOIN UNNEST($1::bigint[], $2::text[]) AS o(connection_id, external_id) \
         ON f.connection_id = o.connection_id AND f.order_external_id = o.external_id",
    )
    .bind(&connections)
    .bind(&externals)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    let refunds: Vec<(i64, Json<Refund>)> = sqlx::query_as(
        "SELECT r.connection_id, r.document FROM shop_refunds r \
         JOIN UNNEST($1::bigint[], $2::text[]) AS o(connection_id, external_id) \
         ON r.connection_id = o.connection_id AND r.order_external_id = o.external_id",
    )
    .bind(&connections)
    .bind(&externals)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    let mut out = Vec::with_capacity(orders.len());
    for (id, connection_id, order) in orders {
        let mut fs: Vec<Fulfillment> = fulfillments
            .iter()
            .filter(|(c, f)| *c == connection_id && f.order_external_id == order.external_id)
            .map(|(_, f)| f.0.clone())
            .collect();
        fs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
        let mut rs: Vec<Refund> = refunds
            .iter()
            .filter(|(c, r)| *c == connection_id && r.order_external_id == order.external_id)
            .map(|(_, r)| r.0.clone())
            .collect();
        rs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.external_id.cmp(&b.external_id)));
        out.push(StoredOrder {
            id: OrderId(id),
            connection_id: ShopConnectionId(connection_id),
            details: OrderDetails { order, fulfillments: fs, refunds: rs },
        });
    }
    Ok(out)
}

#[async_trait]
impl CommerceRepo for PostgresStorage {
    async fn create_shop_connection(
        &self,
        account: AccountId,
        new: NewShopConnection,
        now: DateTime<Utc>,
    ) -> StorageResult<ShopConnection> {
        let row = query(format!(
            "INSERT INTO shop_connections (account_id, platform, name, shop_domain, secret, api_url, access_token, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {SHOP_CONNECTION_COLS}"
        ))
        .bind(account.0)
        .bind(new.platform.as_str())
        .bind(no_nul(&new.name))
        .bind(no_nul(&new.shop_domain))
        .bind(&new.secret)
        .bind(&new.api_url)
        .bind(&new.access_token)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        shop_connection(&row)
    }

    async fn get_shop_connection(
        &self,
        account: AccountId,
        id: ShopConnectionId,
    ) -> StorageResult<Option<ShopConnection>> {
        let row =
            query(format!("SELECT {SHOP_CONNECTION_COLS} FROM shop_connections WHERE account_id = $1 AND id = $2"))
                .bind(account.0)
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        row.as_ref().map(shop_connection).transpose()
    }

    async fn update_shop_connection(
        &self,
        account: AccountId,
        id: ShopConnectionId,
        patch: ShopConnectionPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<ShopConnection> {
        let row = query(format!(
            "UPDATE shop_connections SET name = COALESCE($3, name), \
             api_url = CASE WHEN $4 THEN $5 ELSE api_url END, \
             access_token = CASE WHEN $6 THEN $7 ELSE access_token END, updated_at = $8 \
             WHERE account_id = $1 AND id = $2 RETURNING {SHOP_CONNECTION_COLS}"
        ))
        .bind(account.0)
        .bind(id.0)
        .bind(patch.name.as_deref().map(no_nul))
        .bind(patch.api_url.is_some())
        .bind(patch.api_url.flatten())
        .bind(patch.access_token.is_some())
        .bind(patch.access_token.flatten())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(shop_connection).transpose()?.ok_or(StorageError::NotFound)
    }

    async fn find_shop_connection(&self, id: ShopConnectionId) -> StorageResult<Option<ShopConnection>> {
        let row = query(format!("SELECT {SHOP_CONNECTION_COLS} FROM shop_connections WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(shop_connection).transpose()
    }

    async fn list_shop_connections(&self, account: AccountId) -> StorageResult<Vec<ShopConnection>> {
        let rows =
            query(format!("SELECT {SHOP_CONNECTION_COLS} FROM shop_connections WHERE account_id = $1 ORDER BY id"))
                .bind(account.0)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(shop_connection).collect()
    }

    async fn apply_mirror_writes(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        webhook_id: Option<String>,
        mut writes: Vec<MirrorWrite>,
        now: DateTime<Utc>,
    ) -> StorageResult<MirrorOutcome> {
        let mut tx = self.begin().await?;
        // The connection stays while the batch is written.
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT id FROM shop_connections WHERE id = $1 AND account_id = $2 FOR KEY SHARE")
                .bind(connection.0)
                .bind(account.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if owned.is_none() {
            return Err(StorageError::NotFound);
        }
        if let Some(webhook) = &webhook_id {
            let seen = sqlx::query(
                "INSERT INTO shop_webhooks (connection_id, webhook_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(connection.0)
            .bind(no_nul(webhook))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if seen.rows_affected() == 0 {
                return commit(tx, MirrorOutcome { duplicate: true, changed: 0 }).await;
            }
        }
        writes.sort_by(|a, b| mirror_write_key(a).cmp(&mirror_write_key(b)));
        let mut changed = 0;
        for w in &writes {
            if apply_mirror_write(&mut tx, account, connection, w, now).await? {
                changed += 1;
            }
        }
        commit(tx, MirrorOutcome { duplicate: false, changed }).await
    }

    async fn search_orders(&self, account: AccountId, query: OrderQuery) -> StorageResult<Vec<StoredOrder>> {
        let pattern = query.q.as_deref().map(|q| no_nul(&contains_pattern(&clean_order_number(q))));
        let number = query.number.as_deref().map(|n| no_nul(&clean_order_number(n)));
        let by_identity = !query.emails.is_empty() || !query.phones.is_empty();
        let emails: Vec<String> = query.emails.iter().map(|e| no_nul(e)).collect();
        let phones: Vec<String> = query.phones.iter().map(|p| no_nul(p)).collect();
        let limit = if query.limit == 0 { 50 } else { query.limit.clamp(1, 200) };
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT id, connection_id, document FROM shop_orders WHERE account_id = $1 \
             AND ($2::text IS NULL OR search_text LIKE $2 ESCAPE '\\') \
             AND ($3::text IS NULL OR number = $3) \
             AND (NOT $4::bool OR email = ANY($5::text[]) OR phone = ANY($6::text[]) \
                  OR (customer_external_id IS NOT NULL AND (connection_id, customer_external_id) IN \
                      (SELECT connection_id, external_id FROM shop_customers \
                       WHERE email = ANY($5::text[]) OR phone = ANY($6::text[])))) \
             ORDER BY placed_at DESC, id DESC LIMIT $7",
        )
        .bind(account.0)
        .bind(pattern)
        .bind(number)
        .bind(by_identity)
        .bind(&emails)
        .bind(&phones)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        with_order_details(&mut c, rows).await
    }

    async fn get_order(&self, account: AccountId, id: OrderId) -> StorageResult<Option<StoredOrder>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query("SELECT id, connection_id, document FROM shop_orders WHERE account_id = $1 AND id = $2")
            .bind(account.0)
            .bind(id.0)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        Ok(with_order_details(&mut c, rows).await?.pop())
    }

    async fn available_stock(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        inventory_item_id: &str,
    ) -> StorageResult<Option<i64>> {
        sqlx::query_scalar(
            "SELECT SUM(i.available)::bigint FROM shop_inventory i JOIN shop_connections c ON c.id = i.connection_id \
             WHERE c.account_id = $1 AND i.connection_id = $2 AND i.inventory_item_id = $3",
        )
        .bind(account.0)
        .bind(connection.0)
        .bind(no_nul(inventory_item_id))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn list_products(&self, account: AccountId, connection: ShopConnectionId) -> StorageResult<Vec<Product>> {
        // Titles sort byte-wise, as in SQLite, whatever the database's locale.
        let rows: Vec<Json<Product>> = sqlx::query_scalar(
            "SELECT p.document FROM shop_products p JOIN shop_connections c ON c.id = p.connection_id \
             WHERE c.account_id = $1 AND p.connection_id = $2 ORDER BY p.title COLLATE \"C\", p.external_id COLLATE \"C\"",
        )
        .bind(account.0)
        .bind(connection.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|p| p.0).collect())
    }

    async fn count_orders(&self, account: AccountId, connection: ShopConnectionId) -> StorageResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM shop_orders WHERE connection_id = $1 AND account_id = $2")
            .bind(connection.0)
            .bind(account.0)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn get_sync_state(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        resource: &str,
    ) -> StorageResult<Option<ShopSyncState>> {
        let row = sqlx::query(
            "SELECT y.resource, y.cursor, y.done, y.fetched, y.updated_at FROM shop_sync_state y \
             JOIN shop_connections s ON s.id = y.connection_id \
             WHERE y.connection_id = $1 AND s.account_id = $2 AND y.resource = $3",
        )
        .bind(connection.0)
        .bind(account.0)
        .bind(no_nul(resource))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| {
            Ok(ShopSyncState {
                resource: r.try_get("resource").map_err(db_err)?,
                cursor: r.try_get("cursor").map_err(db_err)?,
                done: r.try_get("done").map_err(db_err)?,
                fetched: r.try_get("fetched").map_err(db_err)?,
                updated_at: r.try_get("updated_at").map_err(db_err)?,
            })
        })
        .transpose()
    }

    async fn put_sync_state(
        &self,
        account: AccountId,
        connection: ShopConnectionId,
        state: ShopSyncState,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let done = sqlx::query(
            "INSERT INTO shop_sync_state (connection_id, resource, cursor, done, fetched, updated_at) \
             SELECT id, $3, $4, $5, $6, $7 FROM shop_connections WHERE id = $1 AND account_id = $2 \
             ON CONFLICT (connection_id, resource) DO UPDATE SET \
             cursor = excluded.cursor, done = excluded.done, fetched = excluded.fetched, updated_at = excluded.updated_at",
        )
        .bind(connection.0)
        .bind(account.0)
        .bind(no_nul(&state.resource))
        .bind(state.cursor.as_deref().map(no_nul))
        .bind(state.done)
        .bind(state.fetched)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(StorageError::NotFound) } else { Ok(()) }
    }
}
