//! Accounts as the operator manages them, outgoing webhooks with their
//! delivery log, and usage counted from stored messages and conversations.

use super::insert;
use super::jobs::insert_job;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock, Row, conflict_as, found};
use crate::error::{StorageError, StorageResult};
use crate::model::{NewJob, NewUser};
use crate::platform::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::account::{Account, User};
use ferry_core::{AccountId, UserId, WebhookDeliveryId, WebhookId};

const ACCOUNT_COLS: &str = "a.id, a.name, a.default_language, a.created_at, a.time_zone, a.languages, a.suspended_at, \
     (SELECT COUNT(*) FROM users u WHERE u.account_id = a.id)";

fn platform_account(r: &Row) -> StorageResult<PlatformAccount> {
    Ok(PlatformAccount {
        account: Account {
            id: AccountId(r.int(0)?),
            name: r.text(1)?,
            default_language: r.text(2)?,
            created_at: r.time(3)?,
        },
        time_zone: r.text(4)?,
        languages: r.json(5, "accounts.languages")?,
        suspended_at: r.opt_time(6)?,
        users: r.count(7)?,
    })
}

async fn account_by_id<D: Db>(db: &mut D, id: AccountId) -> StorageResult<Option<PlatformAccount>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.id = $1");
    db.row(&sql, args![id.0]).await?.as_ref().map(platform_account).transpose()
}

#[async_trait]
impl<B: Backend> PlatformRepo for B {
    async fn create_account_with_owner(
        &self,
        new: NewPlatformAccount,
        owner: NewUser,
        now: DateTime<Utc>,
    ) -> StorageResult<(PlatformAccount, User)> {
        self.write(move |db| {
            Box::pin(async move {
                let default_language = new.languages.first().cloned().unwrap_or_else(|| "en".to_owned());
                let id = insert(
                    db,
                    "INSERT INTO accounts (name, default_language, time_zone, languages, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                    args![&new.name, default_language, &new.time_zone, Arg::json(&new.languages), now],
                )
                .await?;
                let user_id = insert(
                    db,
                    "INSERT INTO users (account_id, name, email, password_hash, role, languages, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    args![
                        id,
                        &owner.name,
                        &owner.email,
                        &owner.password_hash,
                        owner.role.as_str(),
                        Arg::json(&owner.languages),
                        now
                    ],
                )
                .await;
                let user_id = conflict_as(user_id, "users.email")?;
                let account = account_by_id(db, AccountId(id)).await?.ok_or(StorageError::NotFound)?;
                let user = User {
                    id: UserId(user_id),
                    account_id: AccountId(id),
                    name: owner.name,
                    email: owner.email,
                    role: owner.role,
                    languages: owner.languages,
                    created_at: now,
                };
                Ok((account, user))
            })
        })
        .await
    }

    async fn list_platform_accounts(
        &self,
        after: Option<AccountId>,
        limit: u32,
    ) -> StorageResult<Vec<PlatformAccount>> {
        let limit = i64::from(limit.clamp(1, 500));
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ACCOUNT_COLS} FROM accounts a WHERE ($1 IS NULL OR a.id > $1) ORDER BY a.id LIMIT $2"
                );
                db.rows(&sql, args![after.map(|a| a.0), limit]).await?.iter().map(platform_account).collect()
            })
        })
        .await
    }

    async fn get_platform_account(&self, id: AccountId) -> StorageResult<Option<PlatformAccount>> {
        self.read(move |db| Box::pin(account_by_id(db, id))).await
    }

    async fn set_account_suspended(
        &self,
        id: AccountId,
        suspended: bool,
        now: DateTime<Utc>,
    ) -> StorageResult<PlatformAccount> {
        self.write(move |db| {
            Box::pin(async move {
                let n = if suspended {
                    db.exec(
                        "UPDATE accounts SET suspended_at = COALESCE(suspended_at, $2), updated_at = $2 WHERE id = $1",
                        args![id.0, now],
                    )
                    .await?
                } else {
                    db.exec("UPDATE accounts SET suspended_at = NULL, updated_at = $2 WHERE id = $1", args![id.0, now])
                        .await?
                };
                found(n)?;
                account_by_id(db, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn account_suspended(&self, id: AccountId) -> StorageResult<bool> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db.row("SELECT suspended_at FROM accounts WHERE id = $1", args![id.0]).await?;
                Ok(match r {
                    Some(r) => r.opt_time(0)?.is_some(),
                    None => false,
                })
            })
        })
        .await
    }
}

const WEBHOOK_COLS: &str = "id, account_id, url, events, secret, enabled, disabled_reason, consecutive_failures, \
     failing_since, created_at, updated_at";

fn webhook(r: &Row) -> StorageResult<Webhook> {
    Ok(Webhook {
        id: WebhookId(r.int(0)?),
        account_id: AccountId(r.int(1)?),
        url: r.text(2)?,
        events: r.json(3, "webhooks.events")?,
        secret: r.text(4)?,
        enabled: r.flag(5)?,
        disabled_reason: r.opt_text(6)?,
        consecutive_failures: u32::try_from(r.int(7)?).unwrap_or(u32::MAX),
        failing_since: r.opt_time(8)?,
        created_at: r.time(9)?,
        updated_at: r.time(10)?,
    })
}

async fn webhook_by_id<D: Db>(
    db: &mut D,
    account: AccountId,
    id: WebhookId,
    lock: Lock,
) -> StorageResult<Option<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLS} FROM webhooks WHERE account_id = $1 AND id = $2{}", db.lock(lock));
    db.row(&sql, args![account.0, id.0]).await?.as_ref().map(webhook).transpose()
}

const DELIVERY_COLS: &str = "id, account_id, webhook_id, event_key, event, body, state, attempts, response_status, \
     response_body, error, last_attempt_at, created_at";

fn delivery(r: &Row) -> StorageResult<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: WebhookDeliveryId(r.int(0)?),
        account_id: AccountId(r.int(1)?),
        webhook_id: WebhookId(r.int(2)?),
        event_key: r.text(3)?,
        event: r.text(4)?,
        body: r.text(5)?,
        state: r.text(6)?,
        attempts: u32::try_from(r.int(7)?).unwrap_or(u32::MAX),
        response_status: r.opt_int(8)?.and_then(|s| u16::try_from(s).ok()),
        response_body: r.opt_text(9)?,
        error: r.opt_text(10)?,
        last_attempt_at: r.opt_time(11)?,
        created_at: r.time(12)?,
    })
}

#[async_trait]
impl<B: Backend> WebhookRepo for B {
    async fn create_webhook(&self, account: AccountId, new: NewWebhook, now: DateTime<Utc>) -> StorageResult<Webhook> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO webhooks (account_id, url, events, secret, enabled, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                    args![account.0, &new.url, Arg::json(&new.events), &new.secret, true, now],
                )
                .await?;
                webhook_by_id(db, account, WebhookId(id), Lock::None).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn list_webhooks(&self, account: AccountId) -> StorageResult<Vec<Webhook>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {WEBHOOK_COLS} FROM webhooks WHERE account_id = $1 ORDER BY id");
                db.rows(&sql, args![account.0]).await?.iter().map(webhook).collect()
            })
        })
        .await
    }

    async fn get_webhook(&self, account: AccountId, id: WebhookId) -> StorageResult<Option<Webhook>> {
        self.read(move |db| Box::pin(webhook_by_id(db, account, id, Lock::None))).await
    }

    async fn update_webhook(
        &self,
        account: AccountId,
        id: WebhookId,
        patch: WebhookPatch,
        now: DateTime<Utc>,
    ) -> StorageResult<Webhook> {
        self.write(move |db| {
            Box::pin(async move {
                let mut w = webhook_by_id(db, account, id, Lock::NoKeyUpdate).await?.ok_or(StorageError::NotFound)?;
                if let Some(u) = patch.url {
                    w.url = u;
                }
                if let Some(e) = patch.events {
                    w.events = e;
                }
                if let Some(enabled) = patch.enabled {
                    if enabled && !w.enabled {
                        w.consecutive_failures = 0;
                        w.failing_since = None;
                    }
                    if enabled {
                        w.disabled_reason = None;
                    }
                    w.enabled = enabled;
                }
                db.exec(
                    "UPDATE webhooks SET url = $3, events = $4, enabled = $5, disabled_reason = $6, \
                     consecutive_failures = $7, failing_since = $8, updated_at = $9 \
                     WHERE account_id = $1 AND id = $2",
                    args![
                        account.0,
                        id.0,
                        &w.url,
                        Arg::json(&w.events),
                        w.enabled,
                        &w.disabled_reason,
                        i64::from(w.consecutive_failures),
                        w.failing_since,
                        now
                    ],
                )
                .await?;
                webhook_by_id(db, account, id, Lock::None).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn delete_webhook(&self, account: AccountId, id: WebhookId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "DELETE FROM webhook_deliveries WHERE account_id = $1 AND webhook_id = $2",
                    args![account.0, id.0],
                )
                .await?;
                found(db.exec("DELETE FROM webhooks WHERE account_id = $1 AND id = $2", args![account.0, id.0]).await?)
            })
        })
        .await
    }

    async fn disable_webhook(
        &self,
        account: AccountId,
        id: WebhookId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Webhook> {
        let reason = reason.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                found(
                    db.exec(
                        "UPDATE webhooks SET enabled = $3, disabled_reason = $4, updated_at = $5 \
                         WHERE account_id = $1 AND id = $2",
                        args![account.0, id.0, false, reason, now],
                    )
                    .await?,
                )?;
                webhook_by_id(db, account, id, Lock::None).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn queue_webhook_deliveries(
        &self,
        account: AccountId,
        deliveries: Vec<NewWebhookDelivery>,
        job_kind: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> StorageResult<Vec<WebhookDeliveryId>> {
        let job_kind = job_kind.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let mut out = Vec::new();
                for d in deliveries {
                    let r = db
                        .row(
                            "INSERT INTO webhook_deliveries (account_id, webhook_id, event_key, event, body, state, \
                             created_at, updated_at) \
                             SELECT $1, w.id, $3, $4, $5, 'pending', $6, $6 FROM webhooks w \
                             WHERE w.account_id = $1 AND w.id = $2 \
                             ON CONFLICT (webhook_id, event_key) DO NOTHING RETURNING id",
                            args![account.0, d.webhook_id.0, &d.event_key, &d.event, &d.body, now],
                        )
                        .await?;
                    let Some(r) = r else { continue };
                    let id = WebhookDeliveryId(r.int(0)?);
                    let job = NewJob {
                        account_id: account,
                        kind: job_kind.clone(),
                        payload: serde_json::json!({ "delivery_id": id }),
                        run_at: now,
                        max_attempts,
                        lane: None,
                    };
                    insert_job(db, &job, now).await?;
                    out.push(id);
                }
                Ok(out)
            })
        })
        .await
    }

    async fn get_webhook_delivery(
        &self,
        account: AccountId,
        id: WebhookDeliveryId,
    ) -> StorageResult<Option<WebhookDelivery>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE account_id = $1 AND id = $2");
                db.row(&sql, args![account.0, id.0]).await?.as_ref().map(delivery).transpose()
            })
        })
        .await
    }

    async fn record_webhook_attempt(
        &self,
        account: AccountId,
        id: WebhookDeliveryId,
        attempt: WebhookAttempt,
    ) -> StorageResult<Webhook> {
        self.write(move |db| {
            Box::pin(async move {
                let r = db
                    .row(
                        "SELECT webhook_id FROM webhook_deliveries WHERE account_id = $1 AND id = $2",
                        args![account.0, id.0],
                    )
                    .await?
                    .ok_or(StorageError::NotFound)?;
                let hook = WebhookId(r.int(0)?);
                let state = match (attempt.ok, attempt.last) {
                    (true, _) => "delivered",
                    (false, true) => "failed",
                    (false, false) => "pending",
                };
                db.exec(
                    "UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1, response_status = $4, \
                     response_body = $5, error = $6, last_attempt_at = $7, updated_at = $7 \
                     WHERE account_id = $1 AND id = $2",
                    args![
                        account.0,
                        id.0,
                        state,
                        attempt.status.map(i64::from),
                        attempt.body,
                        attempt.error,
                        attempt.at
                    ],
                )
                .await?;
                if attempt.ok {
                    db.exec(
                        "UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL \
                         WHERE account_id = $1 AND id = $2",
                        args![account.0, hook.0],
                    )
                    .await?;
                } else {
                    db.exec(
                        "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, \
                         failing_since = COALESCE(failing_since, $3) WHERE account_id = $1 AND id = $2",
                        args![account.0, hook.0, attempt.at],
                    )
                    .await?;
                }
                webhook_by_id(db, account, hook, Lock::None).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn list_webhook_deliveries(
        &self,
        account: AccountId,
        webhook: WebhookId,
        limit: u32,
    ) -> StorageResult<Vec<WebhookDelivery>> {
        let limit = i64::from(limit.clamp(1, 500));
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE account_id = $1 AND webhook_id = $2 \
                     ORDER BY id DESC LIMIT $3"
                );
                db.rows(&sql, args![account.0, webhook.0, limit]).await?.iter().map(delivery).collect()
            })
        })
        .await
    }
}

#[async_trait]
impl<B: Backend> UsageRepo for B {
    async fn usage(&self, account: AccountId, from: DateTime<Utc>, to: DateTime<Utc>) -> StorageResult<Usage> {
        self.read(move |db| {
            Box::pin(async move {
                let a = account.0;
                let contacts = db
                    .row(
                        "SELECT COUNT(DISTINCT c.contact_id) FROM messages m \
                         JOIN conversations c ON c.id = m.conversation_id \
                         WHERE m.account_id = $1 AND m.kind = 'incoming' AND m.sent_at >= $2 AND m.sent_at < $3",
                        args![a, from, to],
                    )
                    .await?
                    .map_or(Ok(0), |r| r.count(0))?;
                let opened = db
                    .row(
                        "SELECT COUNT(*) FROM conversations \
                         WHERE account_id = $1 AND created_at >= $2 AND created_at < $3",
                        args![a, from, to],
                    )
                    .await?
                    .map_or(Ok(0), |r| r.count(0))?;
                let rows = db
                    .rows(
                        "SELECT i.channel, m.kind, COUNT(*) FROM messages m JOIN inboxes i ON i.id = m.inbox_id \
                         WHERE m.account_id = $1 AND m.kind IN ('incoming', 'outgoing') \
                         AND m.sent_at >= $2 AND m.sent_at < $3 GROUP BY i.channel, m.kind",
                        args![a, from, to],
                    )
                    .await?;
                let mut channels: Vec<ChannelUsage> = Vec::new();
                for r in &rows {
                    let channel = r.text(0)?;
                    let n = r.count(2)?;
                    let i = match channels.iter().position(|c| c.channel == channel) {
                        Some(i) => i,
                        None => {
                            channels.push(ChannelUsage { channel, incoming: 0, outgoing: 0 });
                            channels.len() - 1
                        }
                    };
                    if r.text(1)? == "incoming" {
                        channels[i].incoming += n;
                    } else {
                        channels[i].outgoing += n;
                    }
                }
                channels.sort_by(|x, y| x.channel.cmp(&y.channel));
                let bot = db
                    .row(
                        "SELECT COUNT(*) FROM conversation_facts \
                         WHERE account_id = $1 AND bot_contained AND resolved_at >= $2 AND resolved_at < $3",
                        args![a, from, to],
                    )
                    .await?
                    .map_or(Ok(0), |r| r.count(0))?;
                Ok(Usage { active_contacts: contacts, conversations_opened: opened, channels, bot_resolutions: bot })
            })
        })
        .await
    }
}
