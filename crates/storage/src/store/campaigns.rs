//! Campaigns and their sends, in the shared SQL of both backends.

use super::contacts::{CONTACT_COLS, with_identities};
use super::notices::{COLS as SEND_COLS, insert_args, send};
use super::profiles::{FROM_CONTACTS, push_filter};
use super::{Query, insert};
use crate::args;
use crate::campaigns::{Campaign, CampaignRepo, NewCampaign};
use crate::db::{Arg, Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use crate::notices::{NewNoticeSend, NoticeSend, NoticeTally};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ferry_core::contact::Contact;
use ferry_core::segment::SegmentFilter;
use ferry_core::{AccountId, ContactId, UserId};

const COLS: &str = "id, name, segment_id, definition, state, send_at, cursor, planned, planning_done, created_by, \
                    started_at, finished_at, created_at, updated_at, ticked_at";

fn campaign(r: &Row) -> StorageResult<Campaign> {
    Ok(Campaign {
        id: r.int(0)?,
        name: r.text(1)?,
        segment_id: r.opt_int(2)?,
        definition: r.json(3, "campaigns.definition")?,
        state: r.text(4)?,
        send_at: r.opt_time(5)?,
        cursor: r.opt_int(6)?.map(ContactId),
        planned: r.count(7)?,
        planning_done: r.flag(8)?,
        created_by: r.opt_int(9)?.map(UserId),
        started_at: r.opt_time(10)?,
        finished_at: r.opt_time(11)?,
        created_at: r.time(12)?,
        updated_at: r.time(13)?,
        ticked_at: r.opt_time(14)?,
    })
}

async fn get<D: Db>(db: &mut D, account: AccountId, id: i64) -> StorageResult<Option<Campaign>> {
    let sql = format!("SELECT {COLS} FROM campaigns WHERE account_id = $1 AND id = $2");
    db.row(&sql, args![account.0, id]).await?.as_ref().map(campaign).transpose()
}

async fn segment_is_the_accounts<D: Db>(db: &mut D, account: AccountId, segment: i64) -> StorageResult<()> {
    db.row("SELECT id FROM segments WHERE account_id = $1 AND id = $2", args![account.0, segment])
        .await?
        .map(drop)
        .ok_or(StorageError::NotFound)
}

/// Marketing sends to `contact` due from `since` on.
async fn marketing_count<D: Db>(
    db: &mut D,
    account: AccountId,
    contact: ContactId,
    since: DateTime<Utc>,
) -> StorageResult<u32> {
    let row = db
        .row(
            "SELECT COUNT(*) FROM notice_sends WHERE contact_id = $2 AND account_id = $1 AND marketing = $3 \
             AND state IN ('scheduled', 'sent') AND scheduled_at >= $4",
            args![account.0, contact.0, true, since],
        )
        .await?;
    Ok(row.map(|r| r.count(0)).transpose()?.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

#[async_trait]
impl<B: Backend> CampaignRepo for B {
    async fn create_campaign(
        &self,
        account: AccountId,
        new: NewCampaign,
        created_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StorageResult<Campaign> {
        self.write(move |db| {
            Box::pin(async move {
                segment_is_the_accounts(db, account, new.segment_id).await?;
                let id = insert(
                    db,
                    "INSERT INTO campaigns (account_id, name, segment_id, definition, state, send_at, created_by, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $7) RETURNING id",
                    args![
                        account.0,
                        new.name,
                        new.segment_id,
                        Arg::json(&new.definition),
                        new.send_at,
                        created_by.map(|u| u.0),
                        now
                    ],
                )
                .await?;
                get(db, account, id).await?.ok_or(StorageError::NotFound)
            })
        })
        .await
    }

    async fn list_campaigns(&self, account: AccountId) -> StorageResult<Vec<Campaign>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {COLS} FROM campaigns WHERE account_id = $1 ORDER BY id DESC LIMIT 500");
                db.rows(&sql, args![account.0]).await?.iter().map(campaign).collect()
            })
        })
        .await
    }

    async fn get_campaign(&self, account: AccountId, id: i64) -> StorageResult<Option<Campaign>> {
        self.read(move |db| Box::pin(get(db, account, id))).await
    }

    async fn update_campaign(
        &self,
        account: AccountId,
        id: i64,
        new: NewCampaign,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Campaign>> {
        self.write(move |db| {
            Box::pin(async move {
                segment_is_the_accounts(db, account, new.segment_id).await?;
                let n = db
                    .exec(
                        "UPDATE campaigns SET name = $3, segment_id = $4, definition = $5, send_at = $6, \
                         updated_at = $7 WHERE account_id = $1 AND id = $2 AND state = 'draft'",
                        args![account.0, id, new.name, new.segment_id, Arg::json(&new.definition), new.send_at, now],
                    )
                    .await?;
                if n == 0 {
                    return Ok(None);
                }
                get(db, account, id).await
            })
        })
        .await
    }

    async fn delete_campaign(&self, account: AccountId, id: i64) -> StorageResult<bool> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec("DELETE FROM notice_sends WHERE account_id = $1 AND campaign_id = $2 AND EXISTS \
                         (SELECT 1 FROM campaigns c WHERE c.id = $2 AND c.account_id = $1 \
                         AND c.state NOT IN ('running', 'scheduled'))", args![account.0, id])
                    .await?;
                let n = db
                    .exec(
                        "DELETE FROM campaigns WHERE account_id = $1 AND id = $2 AND state NOT IN ('running', 'scheduled')",
                        args![account.0, id],
                    )
                    .await?;
                Ok(n > 0)
            })
        })
        .await
    }

    async fn set_campaign_state(
        &self,
        account: AccountId,
        id: i64,
        from: &[&str],
        to: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Campaign>> {
        let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
        let to = to.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let Some(c) = get(db, account, id).await? else { return Ok(None) };
                if !from.contains(&c.state) {
                    return Ok(None);
                }
                let started = if to == "running" { c.started_at.or(Some(now)) } else { c.started_at };
                let finished = if to == "done" || to == "cancelled" { Some(now) } else { None };
                db.exec(
                    "UPDATE campaigns SET state = $3, started_at = $4, finished_at = $5, updated_at = $6 \
                     WHERE account_id = $1 AND id = $2",
                    args![account.0, id, to, started, finished, now],
                )
                .await?;
                get(db, account, id).await
            })
        })
        .await
    }

    async fn plan_campaign_page(
        &self,
        account: AccountId,
        campaign: i64,
        sends: Vec<NewNoticeSend>,
        cap: Option<u32>,
        cursor: Option<ContactId>,
        done: bool,
        now: DateTime<Utc>,
    ) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(async move {
                // A paused or cancelled campaign takes no more recipients.
                let live = db
                    .row("SELECT state FROM campaigns WHERE account_id = $1 AND id = $2", args![account.0, campaign])
                    .await?
                    .map(|r| r.text(0))
                    .transpose()?
                    .is_some_and(|s| s == "scheduled" || s == "running");
                if !live {
                    return Ok(0);
                }
                let mut written = 0;
                for mut new in sends {
                    if let (Some(cap), Some(contact), true) = (cap, new.contact_id, new.marketing)
                        && new.state == "scheduled"
                        && marketing_count(db, account, contact, new.scheduled_at - Duration::days(7)).await? >= cap
                    {
                        new.state = "skipped".into();
                        new.reason = Some("frequency_cap".into());
                        new.channel = None;
                    }
                    let n = db
                        .exec(
                            "INSERT INTO notice_sends (account_id, kind, dedup_key, contact_id, order_id, channel, \
                             state, reason, scheduled_at, created_at, updated_at, campaign_id, marketing, journey_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13) \
                             ON CONFLICT (account_id, dedup_key) DO NOTHING",
                            insert_args(account, &new, now),
                        )
                        .await?;
                    written += n;
                }
                let n = db
                    .exec(
                        "UPDATE campaigns SET cursor = COALESCE($3, cursor), planned = planned + $4, \
                         planning_done = $5, updated_at = $6 WHERE account_id = $1 AND id = $2",
                        args![
                            account.0,
                            campaign,
                            cursor.map(|c| c.0),
                            i64::try_from(written).unwrap_or(i64::MAX),
                            done,
                            now
                        ],
                    )
                    .await?;
                crate::db::found(n)?;
                Ok(written)
            })
        })
        .await
    }

    async fn segment_page(
        &self,
        account: AccountId,
        filter: SegmentFilter,
        after: Option<ContactId>,
        limit: u32,
    ) -> StorageResult<Vec<Contact>> {
        // Profiles follow conversations' facts: what is still marked first.
        super::insights::flush_pending(self).await?;
        self.read(move |db| {
            Box::pin(async move {
                let cols = CONTACT_COLS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
                let mut q = Query::new(format!("SELECT {cols}{FROM_CONTACTS}"));
                q.bind(account.0);
                q.push(" AND c.id > ").bind(after.map_or(0, |a| a.0));
                push_filter(db, &mut q, &filter);
                q.push(" ORDER BY c.id LIMIT ").bind(limit.clamp(1, 2000));
                let rows = db.rows(&q.sql, q.args).await?;
                with_identities(db, rows).await
            })
        })
        .await
    }

    async fn due_campaign_sends(
        &self,
        account: AccountId,
        campaign: i64,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StorageResult<Vec<NoticeSend>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {SEND_COLS} FROM notice_sends WHERE campaign_id = $2 AND state = 'scheduled' \
                     AND scheduled_at <= $3 AND account_id = $1 ORDER BY scheduled_at, id LIMIT $4"
                );
                let rows = db.rows(&sql, args![account.0, campaign, now, limit.clamp(1, 1000)]).await?;
                rows.iter().map(send).collect()
            })
        })
        .await
    }

    async fn campaign_ticked(&self, account: AccountId, campaign: i64, ticked_at: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE campaigns SET ticked_at = $3 WHERE account_id = $1 AND id = $2",
                        args![account.0, campaign, ticked_at],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn list_campaign_sends(
        &self,
        account: AccountId,
        campaign: i64,
        before: Option<i64>,
        limit: u32,
    ) -> StorageResult<Vec<NoticeSend>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {SEND_COLS} FROM notice_sends WHERE campaign_id = $2 AND id < $3 AND account_id = $1 \
                     ORDER BY id DESC LIMIT $4"
                );
                let rows = db
                    .rows(&sql, args![account.0, campaign, before.unwrap_or(i64::MAX), i64::from(limit.clamp(1, 200))])
                    .await?;
                rows.iter().map(send).collect()
            })
        })
        .await
    }

    async fn next_campaign_due(&self, account: AccountId, campaign: i64) -> StorageResult<Option<DateTime<Utc>>> {
        self.read(move |db| {
            Box::pin(async move {
                let row = db
                    .row(
                        "SELECT scheduled_at FROM notice_sends WHERE campaign_id = $2 AND state = 'scheduled' \
                         AND account_id = $1 ORDER BY scheduled_at LIMIT 1",
                        args![account.0, campaign],
                    )
                    .await?;
                row.map(|r| r.time(0)).transpose()
            })
        })
        .await
    }

    async fn campaign_tallies(&self, account: AccountId, campaign: i64) -> StorageResult<Vec<NoticeTally>> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = db
                    .rows(
                        &format!(
                            "{} WHERE n.campaign_id = $2 AND n.account_id = $1 {}",
                            super::notices::TALLY_SELECT,
                            super::notices::TALLY_GROUP
                        ),
                        args![account.0, campaign],
                    )
                    .await?;
                rows.iter().map(super::notices::tally).collect()
            })
        })
        .await
    }

    async fn cancel_campaign_sends(&self, account: AccountId, campaign: i64, now: DateTime<Utc>) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE notice_sends SET state = 'skipped', reason = 'cancelled', updated_at = $3 \
                     WHERE campaign_id = $2 AND state = 'scheduled' AND account_id = $1",
                    args![account.0, campaign, now],
                )
                .await
            })
        })
        .await
    }

    async fn marketing_send_of(
        &self,
        account: AccountId,
        message: ferry_core::MessageId,
    ) -> StorageResult<Option<ContactId>> {
        self.read(move |db| {
            Box::pin(async move {
                let row = db
                    .row(
                        "SELECT contact_id FROM notice_sends WHERE message_id = $2 AND account_id = $1 \
                         AND marketing = $3 AND contact_id IS NOT NULL",
                        args![account.0, message.0, true],
                    )
                    .await?;
                Ok(row.map(|r| r.int(0)).transpose()?.map(ContactId))
            })
        })
        .await
    }

    async fn create_unsubscribe_link(
        &self,
        account: AccountId,
        contact: ContactId,
        channel: &str,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        let channel = channel.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "INSERT INTO unsubscribe_links (token_hash, account_id, contact_id, channel, created_at) \
                         SELECT $3, account_id, id, $4, $5 FROM contacts WHERE account_id = $1 AND id = $2",
                        args![account.0, contact.0, token_hash, channel, now],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }

    async fn use_unsubscribe_link(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<(AccountId, ContactId, String)>> {
        self.write(move |db| {
            Box::pin(async move {
                let Some(r) = db
                    .row(
                        "SELECT account_id, contact_id, channel FROM unsubscribe_links WHERE token_hash = $1",
                        args![token_hash.clone()],
                    )
                    .await?
                else {
                    return Ok(None);
                };
                db.exec(
                    "UPDATE unsubscribe_links SET used_at = COALESCE(used_at, $2) WHERE token_hash = $1",
                    args![token_hash, now],
                )
                .await?;
                Ok(Some((AccountId(r.int(0)?), ContactId(r.int(1)?), r.text(2)?)))
            })
        })
        .await
    }

    async fn marketing_sends_since(
        &self,
        account: AccountId,
        contact: ContactId,
        since: DateTime<Utc>,
    ) -> StorageResult<u32> {
        self.read(move |db| Box::pin(marketing_count(db, account, contact, since))).await
    }
}
