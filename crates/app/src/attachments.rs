//! Attachment bytes. Messages keep attachment metadata; the bytes sent
//! inline by a channel are stored here under a content-addressed key, so a
//! re-delivered webhook stores nothing twice.

use async_trait::async_trait;
use ferry_core::AccountId;
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
