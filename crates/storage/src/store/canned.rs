//! Canned responses, shared by the account's agents.

use crate::args;
use crate::db::{Backend, Db, Row, conflict_as, found};
use crate::error::{StorageError, StorageResult};
use crate::model::*;
use crate::repo::CannedResponseRepo;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::canned::CannedResponse;
use ferry_core::{AccountId, CannedResponseId};

const COLS: &str = "id, account_id, short_code, content, created_at, updated_at";
const SHORT_CODE: &str = "canned_responses.short_code";

fn canned(r: &Row) -> StorageResult<CannedResponse> {
    Ok(CannedResponse {
        id: CannedResponseId(r.int(0)?),
        account_id: AccountId(r.int(1)?),
        short_code: r.text(2)?,
        content: r.text(3)?,
        created_at: r.time(4)?,
        updated_at: r.time(5)?,
    })
}

#[async_trait]
impl<B: Backend> CannedResponseRepo for B {
    async fn create_canned_response(
        &self,
        account: AccountId,
        new: NewCannedResponse,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse> {
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "INSERT INTO canned_responses (account_id, short_code, content, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4) RETURNING {COLS}"
                );
                let row =
                    conflict_as(db.row(&sql, args![account.0, new.short_code, new.content, now]).await, SHORT_CODE)?;
                canned(&row.ok_or(StorageError::NotFound)?)
            })
        })
        .await
    }

    async fn list_canned_responses(&self, account: AccountId) -> StorageResult<Vec<CannedResponse>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "SELECT {COLS} FROM canned_responses WHERE account_id = $1 ORDER BY short_code{}, id",
                    db.bytewise()
                );
                db.rows(&sql, args![account.0]).await?.iter().map(canned).collect()
            })
        })
        .await
    }

    async fn get_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
    ) -> StorageResult<Option<CannedResponse>> {
        self.read(move |db| {
            Box::pin(async move {
                let sql = format!("SELECT {COLS} FROM canned_responses WHERE account_id = $1 AND id = $2");
                db.row(&sql, args![account.0, id.0]).await?.as_ref().map(canned).transpose()
            })
        })
        .await
    }

    async fn update_canned_response(
        &self,
        account: AccountId,
        id: CannedResponseId,
        patch: CannedResponsePatch,
        now: DateTime<Utc>,
    ) -> StorageResult<CannedResponse> {
        self.write(move |db| {
            Box::pin(async move {
                let sql = format!(
                    "UPDATE canned_responses SET short_code = COALESCE($3, short_code), \
                     content = COALESCE($4, content), updated_at = $5 WHERE account_id = $1 AND id = $2 RETURNING {COLS}"
                );
                let row = db.row(&sql, args![account.0, id.0, patch.short_code, patch.content, now]).await;
                canned(&conflict_as(row, SHORT_CODE)?.ok_or(StorageError::NotFound)?)
            })
        })
        .await
    }

    async fn delete_canned_response(&self, account: AccountId, id: CannedResponseId) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                found(
                    db.exec("DELETE FROM canned_responses WHERE account_id = $1 AND id = $2", args![account.0, id.0])
                        .await?,
                )
            })
        })
        .await
    }
}
