//! An account's machine-translation settings, kept as a document the
//! application layer reads and checks.

use crate::args;
use crate::db::{Arg, Backend, Db};
use crate::error::{StorageError, StorageResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::AccountId;

/// Where an account's translation settings live.
#[async_trait]
pub trait TranslationRepo {
    /// The account's settings (`None`: translation is off); `NotFound` for
    /// an unknown account.
    async fn translation_settings(&self, account: AccountId) -> StorageResult<Option<serde_json::Value>>;
    /// Replaces them (`None` turns translation off); `NotFound` for an
    /// unknown account.
    async fn set_translation_settings(
        &self,
        account: AccountId,
        settings: Option<serde_json::Value>,
        now: DateTime<Utc>,
    ) -> StorageResult<()>;
}

#[async_trait]
impl<B: Backend> TranslationRepo for B {
    async fn translation_settings(&self, account: AccountId) -> StorageResult<Option<serde_json::Value>> {
        self.read(move |db| {
            Box::pin(async move {
                let r = db
                    .row("SELECT translation FROM accounts WHERE id = $1", args![account.0])
                    .await?
                    .ok_or(StorageError::NotFound)?;
                // Never set: SQL NULL; turned off: JSON `null`.
                if let Ok(None) = r.opt_text(0) {
                    return Ok(None);
                }
                let v: serde_json::Value = r.json(0, "accounts.translation")?;
                Ok(Some(v).filter(|v| !v.is_null()))
            })
        })
        .await
    }

    async fn set_translation_settings(
        &self,
        account: AccountId,
        settings: Option<serde_json::Value>,
        now: DateTime<Utc>,
    ) -> StorageResult<()> {
        self.write(move |db| {
            Box::pin(async move {
                let value = Arg::Json(settings.unwrap_or(serde_json::Value::Null));
                let n = db
                    .exec(
                        "UPDATE accounts SET translation = $2, updated_at = $3 WHERE id = $1",
                        args![account.0, value, now],
                    )
                    .await?;
                crate::db::found(n)
            })
        })
        .await
    }
}
