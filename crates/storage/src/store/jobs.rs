//! Background jobs: enqueued with the writes that need them, claimed with
//! a lease (concurrent workers skip each other's claims), finished, retried
//! or failed.

use super::insert;
use crate::args;
use crate::db::{Arg, Backend, Db, Lock};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::JobRepo;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ferry_core::{AccountId, JobId};

pub(super) async fn insert_job<D: Db>(db: &mut D, job: &NewJob, now: DateTime<Utc>) -> StorageResult<JobId> {
    let id = insert(
        db,
        "INSERT INTO jobs (account_id, kind, payload, run_at, max_attempts, lane, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        args![job.account_id.0, &job.kind, Arg::json(&job.payload), job.run_at, job.max_attempts, &job.lane, now],
    )
    .await?;
    Ok(JobId(id))
}

fn job_count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl<B: Backend> JobRepo for B {
    async fn enqueue_job(&self, job: NewJob) -> StorageResult<JobId> {
        self.write(move |db| Box::pin(async move { insert_job(db, &job, Utc::now()).await })).await
    }

    async fn wake_lane(&self, account: AccountId, lane: &str, now: DateTime<Utc>) -> StorageResult<bool> {
        let lane = lane.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                let n = db
                    .exec(
                        "UPDATE jobs SET run_at = CASE WHEN run_at > $3 THEN $3 ELSE run_at END \
                         WHERE account_id = $1 AND lane = $2 AND state = 'pending'",
                        args![account.0, lane, now],
                    )
                    .await?;
                Ok(n > 0)
            })
        })
        .await
    }

    async fn claim_jobs(&self, now: DateTime<Utc>, lease: Duration, limit: u32) -> StorageResult<Vec<Job>> {
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    // Every outcome clears `locked_until`: one still set is
                    // a claim that ran out (the SET reads the old row).
                    "UPDATE jobs SET locked_until = $2, attempts = attempts + 1, updated_at = $1, \
                     last_error = CASE WHEN locked_until IS NOT NULL THEN $4 ELSE last_error END WHERE id IN ( \
                     SELECT id FROM jobs j WHERE state = 'pending' AND run_at <= $1 \
                     AND (locked_until IS NULL OR locked_until <= $1) \
                     AND (lane IS NULL OR NOT EXISTS (SELECT 1 FROM jobs e \
                       WHERE e.lane = j.lane AND e.state = 'pending' AND e.id < j.id)) \
                     ORDER BY run_at, id LIMIT $3{}) \
                     RETURNING id, account_id, kind, payload, attempts, max_attempts, last_error, run_at",
                    db.lock(Lock::SkipLocked)
                );
                let rows = db.rows(&sql, args![now, now + lease, limit, INTERRUPTED]).await?;
                let mut jobs = Vec::with_capacity(rows.len());
                for r in &rows {
                    let last_error = r.opt_text(6)?;
                    let job = Job {
                        id: JobId(r.int(0)?),
                        account_id: AccountId(r.int(1)?),
                        kind: r.text(2)?,
                        payload: r.json(3, "jobs.payload")?,
                        attempts: job_count(r.int(4)?),
                        max_attempts: job_count(r.int(5)?),
                        interrupted: last_error.as_deref() == Some(INTERRUPTED),
                        last_error,
                    };
                    jobs.push((r.time(7)?, job));
                }
                jobs.sort_by_key(|(run_at, j)| (*run_at, j.id.0));
                Ok(jobs.into_iter().map(|(_, j)| j).collect())
            })
        })
        .await
    }

    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = $2 WHERE id = $1",
                    args![id.0, now],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> StorageResult<()> {
        let error = error.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1",
                    args![id.0, run_at, error, Utc::now()],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn postpone_job(&self, id: JobId, run_at: DateTime<Utc>, reason: &str) -> StorageResult<()> {
        let reason = reason.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3, \
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = $4 WHERE id = $1",
                    args![id.0, run_at, reason, Utc::now()],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn fail_job(&self, id: JobId, error: &str, now: DateTime<Utc>) -> StorageResult<()> {
        let error = error.to_owned();
        self.write(move |db| {
            Box::pin(async move {
                db.exec(
                    "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = $2, updated_at = $3 \
                     WHERE id = $1",
                    args![id.0, error, now],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn job_state(&self, id: JobId) -> StorageResult<Option<(JobState, u32, Option<String>)>> {
        self.read(move |db| {
            Box::pin(async move {
                let Some(r) = db.row("SELECT state, attempts, last_error FROM jobs WHERE id = $1", args![id.0]).await?
                else {
                    return Ok(None);
                };
                let state = match r.text(0)?.as_str() {
                    "pending" => JobState::Pending,
                    "done" => JobState::Done,
                    "failed" => JobState::Failed,
                    other => return Err(StorageError::Corrupt(format!("jobs.state: {other}"))),
                };
                Ok(Some((state, job_count(r.int(1)?), r.opt_text(2)?)))
            })
        })
        .await
    }

    async fn prune_done_jobs(&self, before: DateTime<Utc>, limit: u32) -> StorageResult<u64> {
        self.write(move |db| {
            Box::pin(db.exec(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' AND updated_at < $1 \
                 ORDER BY id LIMIT $2)",
                args![before, limit],
            ))
        })
        .await
    }

    async fn job_backlog(&self, now: DateTime<Utc>) -> StorageResult<JobBacklog> {
        self.read(move |db| {
            Box::pin(async move {
                let Some(r) = db
                    .row(
                        "SELECT COUNT(*), SUM(CASE WHEN run_at <= $1 THEN 1 ELSE 0 END), \
                         MIN(CASE WHEN run_at <= $1 THEN run_at END) FROM jobs WHERE state = 'pending'",
                        args![now],
                    )
                    .await?
                else {
                    return Ok(JobBacklog::default());
                };
                let due = u64::try_from(r.opt_int(1)?.unwrap_or(0)).unwrap_or(0);
                Ok(JobBacklog { pending: r.count(0)?, due, oldest_due: r.opt_time(2)? })
            })
        })
        .await
    }
}
