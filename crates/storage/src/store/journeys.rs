//! Journeys and enrolments, in the shared SQL of both backends.

use super::insert;
use crate::args;
use crate::db::{Arg, Backend, Db, Row};
use crate::error::{StorageError, StorageResult};
use crate::journeys::{EnrolmentCount, EnrolmentMove, JourneyEnrolment, JourneyRepo, NewJourney, StoredJourney};
use crate::notices::NoticeTally;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::{AccountId, ContactId, UserId};

const COLS: &str = "id, name, definition, state, trigger_event, created_by, created_at, updated_at";
const ENROLMENT_COLS: &str = "id, journey_id, contact_id, entry_key, order_id, step, until, done, awaiting_reply, outcome, entered_at, updated_at";

fn journey(r: &Row) -> StorageResult<StoredJourney> {
    Ok(StoredJourney {
        id: r.int(0)?,
        name: r.text(1)?,
        definition: r.json(2, "journeys.definition")?,
        state: r.text(3)?,
        trigger_event: r.opt_text(4)?,
        created_by: r.opt_int(5)?.map(UserId),
        created_at: r.time(6)?,
        updated_at: r.time(7)?,
    })
}

fn enrolment(r: &Row) -> StorageResult<JourneyEnrolment> {
    Ok(JourneyEnrolment {
        id: r.int(0)?,
        journey_id: r.int(1)?,
        contact_id: ContactId(r.int(2)?),
        entry_key: r.text(3)?,
        order_id: r.opt_int(4)?,
        step: usize::try_from(r.int(5)?).unwrap_or(0),
        until: r.opt_time(6)?,
        done: r.flag(7)?,
        awaiting_reply: r.flag(8)?,
        outcome: r.opt_text(9)?,
        entered_at: r.time(10)?,
        updated_at: r.time(11)?,
    })
}

async fn get<D: Db>(db: &mut D, account: AccountId, id: i64) -> StorageResult<Option<StoredJourney>> {
    let sql = format!("SELECT {COLS} FROM journeys WHERE account_id = $1 AND id = $2");
    db.row(&sql, args![account.0, id]).await?.as_ref().map(journey).transpose()
}

async fn get_enrolment<D: Db>(db: &mut D, account: AccountId, id: i64) -> StorageResult<Option<JourneyEnrolment>> {
    let sql = format!("SELECT {ENROLMENT_COLS} FROM journey_enrolments WHERE account_id = $1 AND id = $2");
    db.row(&sql, args![account.0, id]).await?.as_ref().map(enrolment).transpose()
}

#[async_trait]
impl<B: Backend> JourneyRepo for B {
    async fn create_journey(
        &self,
        account: AccountId,
        new: NewJourney,
        created_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StorageResult<StoredJourney> {
        self.write(move |db| {
            Box::pin(async move {
                let id = insert(
                    db,
                    "INSERT INTO journeys (account_id, name, definition, state, trigger_event, created_by, created_at, \
                     updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $6, $6) RETURNING id",
                    args![
                        account.0,
                        new.name,
                        Arg::json(&new.definition),
                        new.trigger_event,
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

    async fn list_journeys(&self, account: AccountId) -> StorageResult<Vec<StoredJourney>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {COLS} FROM journeys WHERE account_id = $1 ORDER BY id DESC LIMIT 500");
                db.rows(&sql, args![account.0]).await?.iter().map(journey).collect()
            })
        })
        .await
    }

    async fn get_journey(&self, account: AccountId, id: i64) -> StorageResult<Option<StoredJourney>> {
        self.read(move |db| Box::pin(get(db, account, id))).await
    }

    async fn update_journey(
        &self,
        account: AccountId,
        id: i64,
        new: NewJourney,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<StoredJourney>> {
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE journeys SET name = $3, definition = $4, trigger_event = $5, updated_at = $6 \
                         WHERE account_id = $1 AND id = $2 AND state <> 'active'",
                        args![account.0, id, new.name, Arg::json(&new.definition), new.trigger_event, now],
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

    async fn set_journey_state(
        &self,
        account: AccountId,
        id: i64,
        state: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<StoredJourney>> {
        let state = state.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE journeys SET state = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
                    args![account.0, id, state, now],
                )
                .await?;
                get(db, account, id).await
            })
        })
        .await
    }

    async fn delete_journey(&self, account: AccountId, id: i64) -> StorageResult<bool> {
        self.write(move |db| {
            Box::pin(async move {
                let args = args![account.0, id];
                db.exec("DELETE FROM notice_sends WHERE account_id = $1 AND journey_id = $2", args.clone()).await?;
                db.exec("DELETE FROM journey_enrolments WHERE account_id = $1 AND journey_id = $2", args.clone())
                    .await?;
                Ok(db.exec("DELETE FROM journeys WHERE account_id = $1 AND id = $2", args).await? > 0)
            })
        })
        .await
    }

    async fn journeys_for_event(&self, account: AccountId, event: &str) -> StorageResult<Vec<StoredJourney>> {
        let event = event.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {COLS} FROM journeys WHERE account_id = $1 AND trigger_event = $2 AND state = 'active' \
                     ORDER BY id"
                );
                db.rows(&sql, args![account.0, event]).await?.iter().map(journey).collect()
            })
        })
        .await
    }

    async fn enrol(
        &self,
        account: AccountId,
        journey_id: i64,
        contact: ContactId,
        entry_key: &str,
        order_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<JourneyEnrolment>> {
        let key = entry_key.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                super::contact_and_row_are_the_accounts(db, account, contact, "journeys", journey_id).await?;
                let row = db
                    .row(
                        "INSERT INTO journey_enrolments (account_id, journey_id, contact_id, entry_key, order_id, \
                         entered_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                         ON CONFLICT (account_id, journey_id, entry_key) DO NOTHING RETURNING id",
                        args![account.0, journey_id, contact.0, key, order_id, now],
                    )
                    .await?;
                match row {
                    Some(r) => get_enrolment(db, account, r.int(0)?).await,
                    None => Ok(None),
                }
            })
        })
        .await
    }

    async fn get_enrolment(&self, account: AccountId, id: i64) -> StorageResult<Option<JourneyEnrolment>> {
        self.read(move |db| Box::pin(get_enrolment(db, account, id))).await
    }

    async fn move_enrolment(
        &self,
        account: AccountId,
        id: i64,
        to: EnrolmentMove,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE journey_enrolments SET step = $3, until = $4, done = $5, awaiting_reply = $6, \
                     outcome = $7, updated_at = $8 WHERE account_id = $1 AND id = $2",
                    args![
                        account.0,
                        id,
                        i64::try_from(to.step).unwrap_or(i64::MAX),
                        to.until,
                        to.done,
                        to.awaiting_reply,
                        to.outcome,
                        now
                    ],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn enrolments_awaiting_reply(&self, account: AccountId, contact: ContactId) -> StorageResult<Vec<i64>> {
        self.read(move |db| {
            Box::pin(async move {
                db.rows(
                    "SELECT id FROM journey_enrolments WHERE account_id = $1 AND contact_id = $2 \
                     AND awaiting_reply = $3 LIMIT 100",
                    args![account.0, contact.0, true],
                )
                .await?
                .iter()
                .map(|r| r.int(0))
                .collect()
            })
        })
        .await
    }

    async fn enrolments_in(
        &self,
        account: AccountId,
        journey: i64,
    ) -> StorageResult<Vec<(i64, Option<DateTime<Utc>>)>> {
        self.read(move |db| {
            Box::pin(async move {
                db.rows(
                    "SELECT id, until FROM journey_enrolments WHERE account_id = $1 AND journey_id = $2 \
                     AND done = $3 ORDER BY id LIMIT 10000",
                    args![account.0, journey, false],
                )
                .await?
                .iter()
                .map(|r| Ok((r.int(0)?, r.opt_time(1)?)))
                .collect()
            })
        })
        .await
    }

    async fn list_enrolments(
        &self,
        account: AccountId,
        journey: i64,
        limit: u32,
    ) -> StorageResult<Vec<JourneyEnrolment>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {ENROLMENT_COLS} FROM journey_enrolments WHERE account_id = $1 AND journey_id = $2 \
                     ORDER BY id DESC LIMIT $3"
                );
                db.rows(&sql, args![account.0, journey, i64::from(limit)]).await?.iter().map(enrolment).collect()
            })
        })
        .await
    }

    async fn enrolment_counts(&self, account: AccountId, journey: i64) -> StorageResult<Vec<EnrolmentCount>> {
        self.read(move |db| {
            Box::pin(async move {
                db.rows(
                    "SELECT step, done, outcome, COUNT(*) FROM journey_enrolments WHERE account_id = $1 \
                     AND journey_id = $2 GROUP BY step, done, outcome ORDER BY step, done, outcome",
                    args![account.0, journey],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(EnrolmentCount {
                        step: usize::try_from(r.int(0)?).unwrap_or(0),
                        done: r.flag(1)?,
                        outcome: r.opt_text(2)?,
                        count: r.count(3)?,
                    })
                })
                .collect()
            })
        })
        .await
    }

    async fn notice_send_by_key(&self, account: AccountId, key: &str) -> StorageResult<Option<crate::NoticeSend>> {
        let key = key.to_owned();
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {} FROM notice_sends WHERE account_id = $1 AND dedup_key = $2",
                    super::notices::COLS
                );
                db.row(&sql, args![account.0, key]).await?.as_ref().map(super::notices::send).transpose()
            })
        })
        .await
    }

    async fn journey_tallies(&self, account: AccountId, journey: i64) -> StorageResult<Vec<NoticeTally>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "{} WHERE n.journey_id = $2 AND n.account_id = $1 {}",
                    super::notices::TALLY_SELECT,
                    super::notices::TALLY_GROUP
                );
                db.rows(&sql, args![account.0, journey]).await?.iter().map(super::notices::tally).collect()
            })
        })
        .await
    }
}
