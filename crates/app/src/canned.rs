//! Canned responses: every agent of an account lists and inserts them;
//! owners and admins create, change and delete them. Short codes and
//! content are checked here before anything reaches the store.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use ferry_core::canned::{
    CannedResponse, MAX_CONTENT_CHARS, MAX_SHORT_CODE_CHARS, is_valid_content, is_valid_short_code,
};
use ferry_core::{AccountId, CannedResponseId};
use ferry_storage::{CannedResponsePatch, NewCannedResponse, StorageError};

fn clean_short_code(raw: &str) -> AppResult<String> {
    let code = raw.trim();
    if !is_valid_short_code(code) {
        return Err(AppError::invalid(
            "short_code",
            format!("short_code must have 1 to {MAX_SHORT_CODE_CHARS} letters, digits, '-' or '_'"),
        ));
    }
    Ok(code.to_owned())
}

fn check_content(content: String) -> AppResult<String> {
    if !is_valid_content(&content) {
        return Err(AppError::invalid("content", format!("content must have 1 to {MAX_CONTENT_CHARS} characters")));
    }
    Ok(content)
}

fn not_found(e: StorageError) -> AppError {
    match e {
        StorageError::NotFound => AppError::NotFound("canned response"),
        other => other.into(),
    }
}

impl App {
    /// The account's canned responses, by short code (any agent).
    pub async fn list_canned_responses(&self, actor: &Actor, account: AccountId) -> AppResult<Vec<CannedResponse>> {
        actor.in_account(account)?;
        Ok(self.storage.list_canned_responses(account).await?)
    }

    /// Creates a canned response (owners and admins).
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn create_canned_response(
        &self,
        actor: &Actor,
        account: AccountId,
        short_code: &str,
        content: String,
    ) -> AppResult<CannedResponse> {
        actor.in_account(account)?;
        actor.can_manage_canned_responses()?;
        let new = NewCannedResponse { short_code: clean_short_code(short_code)?, content: check_content(content)? };
        Ok(self.storage.create_canned_response(account, new, self.clock.now()).await?)
    }

    /// Changes a canned response's short code or content (owners and
    /// admins).
    #[tracing::instrument(skip_all, fields(account_id = %account, canned_response_id = %id))]
    pub async fn update_canned_response(
        &self,
        actor: &Actor,
        account: AccountId,
        id: CannedResponseId,
        short_code: Option<String>,
        content: Option<String>,
    ) -> AppResult<CannedResponse> {
        actor.in_account(account)?;
        actor.can_manage_canned_responses()?;
        let patch = CannedResponsePatch {
            short_code: short_code.as_deref().map(clean_short_code).transpose()?,
            content: content.map(check_content).transpose()?,
        };
        self.storage.update_canned_response(account, id, patch, self.clock.now()).await.map_err(not_found)
    }

    /// Deletes a canned response (owners and admins).
    #[tracing::instrument(skip_all, fields(account_id = %account, canned_response_id = %id))]
    pub async fn delete_canned_response(
        &self,
        actor: &Actor,
        account: AccountId,
        id: CannedResponseId,
    ) -> AppResult<()> {
        actor.in_account(account)?;
        actor.can_manage_canned_responses()?;
        self.storage.delete_canned_response(account, id).await.map_err(not_found)
    }
}
