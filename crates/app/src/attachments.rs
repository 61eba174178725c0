//! Attachment bytes. Messages keep attachment metadata; the bytes sent
//! inline by a channel or uploaded by an agent are stored here under a
//! content-addressed key, so a re-delivered webhook or a re-sent file
//! stores nothing twice.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use ferry_core::AccountId;
use ferry_core::filetype::{self, Intake};
use ferry_core::message::Attachment;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Failure of the attachment store.
#[derive(Debug, thiserror::Error)]
#[error("attachment store: {0}")]
pub struct AttachmentError(String);

/// A place for attachment bytes.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Stores bytes; returns their key (the SHA-256 in hex).
    async fn put(&self, account: AccountId, bytes: Vec<u8>, content_type: &str) -> Result<String, AttachmentError>;
    /// Reads bytes and their content type.
    async fn get(&self, account: AccountId, key: &str) -> Result<Option<(Vec<u8>, String)>, AttachmentError>;
}

/// The URL under which the API serves a stored attachment.
pub fn attachment_url(account: AccountId, key: &str) -> String {
    format!("/api/v1/accounts/{account}/attachments/{key}")
}

/// A content type as stored: trimmed and lower-cased; `None` unless it
/// looks like a MIME type (`type/subtype`, at most 127 characters).
pub fn clean_content_type(raw: &str) -> Option<String> {
    let ct = raw.trim().to_ascii_lowercase();
    let (top, sub) = ct.split_once('/')?;
    if top.is_empty() || sub.is_empty() || ct.len() > 127 || ct.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(ct)
}

/// A file name as stored: no control characters or path separators, at
/// most 255 characters; `None` when nothing is left.
pub fn clean_filename(raw: &str) -> Option<String> {
    let f: String = raw.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(255).collect();
    let f = f.trim();
    if f.is_empty() { None } else { Some(f.to_owned()) }
}

impl App {
    /// Stores a file an agent uploads to attach to a message; returns what
    /// a message part refers to. The body limit of the HTTP layer bounds
    /// the size.
    #[tracing::instrument(skip_all, fields(account_id = %account, size = bytes.len()))]
    pub async fn upload_attachment(
        &self,
        actor: &Actor,
        account: AccountId,
        bytes: Vec<u8>,
        content_type: &str,
        filename: Option<&str>,
    ) -> AppResult<Attachment> {
        actor.in_account(account)?;
        let ct = clean_content_type(content_type)
            .ok_or_else(|| AppError::invalid("content_type", "the Content-Type header must be a MIME type"))?;
        if bytes.is_empty() {
            return Err(AppError::invalid("file", "the file is empty"));
        }
        let size = bytes.len() as u64;
        let (key, ct) = self.store_file(account, bytes, &ct, Intake::Upload).await?;
        Ok(Attachment {
            url: attachment_url(account, &key),
            content_type: ct,
            filename: filename.and_then(clean_filename),
            size: Some(size),
        })
    }
}

impl App {
    /// Stores a file's bytes under the type it may be served as (see
    /// [`ferry_core::filetype::vet`]): an upload of a web page, SVG, XML or
    /// script is refused; the same from a channel is kept as an opaque
    /// download. Returns the key and the stored type.
    pub(crate) async fn store_file(
        &self,
        account: AccountId,
        bytes: Vec<u8>,
        declared: &str,
        intake: Intake,
    ) -> AppResult<(String, String)> {
        let ct = filetype::vet(&bytes, declared, intake).map_err(|e| AppError::invalid("file", e.to_string()))?;
        let key = self
            .attachments
            .put(account, bytes, &ct)
            .await
            .map_err(|e| AppError::internal("storing an attachment", e))?;
        Ok((key, ct))
    }
}

fn key_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn valid_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Files in a local directory: `<dir>/<account>/<key>` plus `<key>.type`.
pub struct LocalAttachments {
    dir: PathBuf,
}

impl LocalAttachments {
    /// Stores under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[async_trait]
impl AttachmentStore for LocalAttachments {
    async fn put(&self, account: AccountId, bytes: Vec<u8>, content_type: &str) -> Result<String, AttachmentError> {
        let key = key_of(&bytes);
        let dir = self.dir.join(account.to_string());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| AttachmentError(e.to_string()))?;
        let path = dir.join(&key);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(key);
        }
        // Write to a temporary name and rename, so readers never see half a
        // file.
        let tmp = dir.join(format!("{key}.tmp"));
        tokio::fs::write(&tmp, &bytes).await.map_err(|e| AttachmentError(e.to_string()))?;
        tokio::fs::write(dir.join(format!("{key}.type")), content_type)
            .await
            .map_err(|e| AttachmentError(e.to_string()))?;
        tokio::fs::rename(&tmp, &path).await.map_err(|e| AttachmentError(e.to_string()))?;
        Ok(key)
    }

    async fn get(&self, account: AccountId, key: &str) -> Result<Option<(Vec<u8>, String)>, AttachmentError> {
        if !valid_key(key) {
            return Ok(None);
        }
        let dir = self.dir.join(account.to_string());
        match tokio::fs::read(dir.join(key)).await {
            Ok(bytes) => {
                let ct = tokio::fs::read_to_string(dir.join(format!("{key}.type")))
                    .await
                    .unwrap_or_else(|_| "application/octet-stream".to_owned());
                Ok(Some((bytes, ct)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AttachmentError(e.to_string())),
        }
    }
}

/// Attachments in memory (tests).
#[derive(Default)]
pub struct MemoryAttachments(Mutex<Blobs>);

type Blobs = HashMap<(AccountId, String), (Vec<u8>, String)>;

#[async_trait]
impl AttachmentStore for MemoryAttachments {
    async fn put(&self, account: AccountId, bytes: Vec<u8>, content_type: &str) -> Result<String, AttachmentError> {
        let key = key_of(&bytes);
        let mut m = self.0.lock().map_err(|_| AttachmentError("poisoned".into()))?;
        m.insert((account, key.clone()), (bytes, content_type.to_owned()));
        Ok(key)
    }

    async fn get(&self, account: AccountId, key: &str) -> Result<Option<(Vec<u8>, String)>, AttachmentError> {
        let m = self.0.lock().map_err(|_| AttachmentError("poisoned".into()))?;
        Ok(m.get(&(account, key.to_owned())).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(clean_content_type(" Image/PNG ").as_deref(), Some("image/png"));
        assert_eq!(clean_content_type("application/pdf").as_deref(), Some("application/pdf"));
        assert_eq!(clean_content_type("png"), None);
        assert_eq!(clean_content_type("/png"), None);
        assert_eq!(clean_content_type("image/"), None);
        assert_eq!(clean_content_type(&format!("a/{}", "b".repeat(126))), None);
    }

    #[test]
    fn filenames() {
        assert_eq!(clean_filename("../etc/passwd").as_deref(), Some("..etcpasswd"));
        assert_eq!(clean_filename("in\nvoice.pdf").as_deref(), Some("invoice.pdf"));
        assert_eq!(clean_filename(" \u{7} "), None);
        assert_eq!(clean_filename(&"x".repeat(300)).map(|f| f.len()), Some(255));
    }
}
