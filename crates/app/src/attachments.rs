//! Attachment bytes. Messages keep attachment metadata; the bytes sent
//! inline by a channel or uploaded by an agent are stored here under a
//! content-addressed key, so a re-delivered webhook or a re-sent file
//! stores nothing twice.
//!
//! One implementation, [`ObjectAttachments`], keeps them in an object
//! store: files in a local directory on a single node, an S3-compatible
//! bucket when several nodes share the work. Both lay objects out alike:
//! `<account>/<sha-256>` holds the bytes and `<account>/<sha-256>.type`
//! the content type; a streamed upload first goes to `incoming/…` and is
//! moved under its key once its hash is known.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::AccountId;
use ferry_core::filetype::{self, Intake};
use ferry_core::message::Attachment;
use ferry_core::secret::Secret;
use futures::stream::{BoxStream, StreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Failure of the attachment store, or of the stream being stored.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// The store failed or refused.
    #[error("attachment store: {0}")]
    Store(String),
    /// The stream being stored failed (the client went away mid-upload).
    #[error("reading the file: {0}")]
    Input(String),
    /// The stream being stored is longer than allowed.
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
}

impl AttachmentError {
    fn store(e: impl std::fmt::Display) -> Self {
        Self::Store(e.to_string())
    }
}

/// File bytes arriving or leaving in chunks.
pub type ByteStream = BoxStream<'static, Result<Bytes, AttachmentError>>;

/// A stored file opened for reading.
pub struct Download {
    /// The type it was stored under.
    pub content_type: String,
    /// Its length in bytes.
    pub size: u64,
    /// Its bytes.
    pub body: ByteStream,
}

/// A file stored from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its key (the SHA-256 in hex).
    pub key: String,
    /// Its length in bytes.
    pub size: u64,
}

/// A place for attachment bytes.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Stores bytes; returns their key (the SHA-256 in hex).
    async fn put(&self, account: AccountId, bytes: Vec<u8>, content_type: &str) -> Result<String, AttachmentError>;
    /// Reads bytes and their content type.
    async fn get(&self, account: AccountId, key: &str) -> Result<Option<(Vec<u8>, String)>, AttachmentError>;

    /// Stores a stream without holding it whole (hashing as it goes). A
    /// failing stream stores nothing and its error is returned as is.
    async fn put_stream(
        &self,
        account: AccountId,
        mut body: ByteStream,
        content_type: &str,
    ) -> Result<Stored, AttachmentError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        let size = bytes.len() as u64;
        Ok(Stored { key: self.put(account, bytes, content_type).await?, size })
    }

    /// Deletes a stored file (nothing when there is none).
    async fn delete(&self, account: AccountId, key: &str) -> Result<(), AttachmentError>;

    /// Opens a stored file to read it in chunks.
    async fn open(&self, account: AccountId, key: &str) -> Result<Option<Download>, AttachmentError> {
        Ok(self.get(account, key).await?.map(|(bytes, content_type)| Download {
            content_type,
            size: bytes.len() as u64,
            body: futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed(),
        }))
    }
}

/// The key of a stored attachment from the URL the API serves it under
/// (`None` for a channel's own URL).
pub fn key_of_url(account: AccountId, url: &str) -> Option<&str> {
    let prefix = format!("/api/v1/accounts/{account}/attachments/");
    url.strip_prefix(prefix.as_str()).filter(|k| !k.is_empty() && !k.contains('/'))
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

/// How many first bytes of a file decide its type (more than
/// [`filetype::sniff`] reads).
pub const HEAD_BYTES: usize = 4096;

/// Reads the first [`HEAD_BYTES`] of a stream (fewer when it is shorter);
/// returns them and the stream of the rest.
pub async fn split_head(mut body: ByteStream) -> Result<(Bytes, ByteStream), AttachmentError> {
    let mut head = Vec::new();
    while head.len() < HEAD_BYTES {
        match body.next().await {
            Some(chunk) => head.extend_from_slice(&chunk?),
            // An ended stream may not be polled again: nothing follows.
            None => return Ok((Bytes::from(head), futures::stream::empty().boxed())),
        }
    }
    Ok((Bytes::from(head), body))
}

/// `head` followed by `rest`, as one stream.
pub fn rejoin(head: Bytes, rest: ByteStream) -> ByteStream {
    let first = (!head.is_empty()).then_some(Ok(head));
    futures::stream::iter(first).chain(rest).boxed()
}

/// Fails a stream with [`AttachmentError::TooLarge`] once it passes `limit`
/// bytes.
fn limited(body: ByteStream, limit: u64) -> ByteStream {
    let mut seen = 0u64;
    body.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit { Err(AttachmentError::TooLarge(limit)) } else { Ok(chunk) }
    })
    .boxed()
}

impl App {
    /// Stores a file an agent uploads to attach to a message, streamed to
    /// the store as it arrives; returns what a message part refers to. The
    /// file may be at most `AppConfig::max_attachment_bytes` long.
    #[tracing::instrument(skip_all, fields(account_id = %account))]
    pub async fn upload_attachment(
        &self,
        actor: &Actor,
        account: AccountId,
        body: ByteStream,
        content_type: &str,
        filename: Option<&str>,
    ) -> AppResult<Attachment> {
        actor.in_account(account)?;
        let ct = clean_content_type(content_type)
            .ok_or_else(|| AppError::invalid("content_type", "the Content-Type header must be a MIME type"))?;
        let limit = self.config.max_attachment_bytes;
        let (head, rest) = split_head(limited(body, limit)).await.map_err(|e| self.upload_error(e))?;
        if head.is_empty() {
            return Err(AppError::invalid("file", "the file is empty"));
        }
        // The type is decided from the first bytes, before anything is
        // stored.
        let ct = filetype::vet(&head, &ct, Intake::Upload).map_err(|e| AppError::invalid("file", e.to_string()))?;
        let stored =
            self.attachments.put_stream(account, rejoin(head, rest), &ct).await.map_err(|e| self.upload_error(e))?;
        tracing::debug!(size = stored.size, "attachment stored");
        Ok(Attachment {
            url: attachment_url(account, &stored.key),
            content_type: ct,
            filename: filename.and_then(clean_filename),
            size: Some(stored.size),
        })
    }

    fn upload_error(&self, e: AttachmentError) -> AppError {
        match e {
            AttachmentError::TooLarge(limit) => AppError::TooLarge(usize::try_from(limit).unwrap_or(usize::MAX)),
            AttachmentError::Input(m) => AppError::Malformed(format!("the upload could not be read: {m}")),
            e @ AttachmentError::Store(_) => AppError::internal("storing an attachment", e),
        }
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

/// Where an S3-compatible bucket is and how to sign requests to it.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// Endpoint URL (`https://s3.eu-west-1.amazonaws.com`,
    /// `http://minio:9000`); empty: AWS for the region.
    pub endpoint: String,
    /// Bucket name.
    pub bucket: String,
    /// Region (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// Access key id; empty: the usual AWS sources (`AWS_*` variables,
    /// web identity, instance metadata).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret<String>,
    /// Allow an `http://` endpoint (a server on a private network).
    pub allow_http: bool,
    /// Address the bucket in the path (`endpoint/bucket/key`), as MinIO and
    /// most self-hosted servers expect, rather than as a sub-domain.
    pub path_style: bool,
}

/// Size of the parts of a multipart upload.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Attachments in an object store: a local directory, an S3-compatible
/// bucket, or memory (tests).
#[derive(Debug, Clone)]
pub struct ObjectAttachments {
    store: Arc<dyn ObjectStore>,
}

/// Attachments in memory, for tests.
pub type MemoryAttachments = ObjectAttachments;

impl Default for ObjectAttachments {
    /// In memory.
    fn default() -> Self {
        Self::new(Arc::new(object_store::memory::InMemory::new()))
    }
}

impl ObjectAttachments {
    /// Over any object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Files under `dir` (created if missing): `<dir>/<account>/<key>` and
    /// `<key>.type`, the layout Ferry has always used.
    pub fn local(dir: &Path) -> Result<Self, AttachmentError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| AttachmentError::Store(format!("cannot create {}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| AttachmentError::Store(format!("cannot use {}: {e}", dir.display())))?;
        Ok(Self::new(Arc::new(fs)))
    }

    /// A bucket of an S3-compatible server. Nothing is sent yet: call
    /// [`ObjectAttachments::check`] to find out whether it answers.
    pub fn s3(s: &S3Settings) -> Result<Self, AttachmentError> {
        use object_store::aws::AmazonS3Builder;
        use object_store::{BackoffConfig, ClientOptions, RetryConfig};
        if s.bucket.trim().is_empty() {
            return Err(AttachmentError::Store("no S3 bucket is set".into()));
        }
        // The HTTP client speaks TLS through rustls with ring, the tree's
        // one crypto provider; it refuses to start without one installed
        // (the binary installs it at start; this covers library users).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = if s.access_key_id.trim().is_empty() {
            AmazonS3Builder::from_env()
        } else {
            AmazonS3Builder::new()
                .with_access_key_id(s.access_key_id.trim())
                .with_secret_access_key(s.secret_access_key.expose().trim())
        };
        b = b
            .with_bucket_name(s.bucket.trim())
            .with_region(if s.region.trim().is_empty() { "us-east-1" } else { s.region.trim() })
            .with_allow_http(s.allow_http)
            .with_virtual_hosted_style_request(!s.path_style)
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(s.allow_http)
                    .with_connect_timeout(Duration::from_secs(5))
                    // Whole requests, bodies included: a part of a large
                    // upload or a download read by a slow client.
                    .with_timeout(Duration::from_secs(300)),
            )
            // A few quick retries, so a wrong endpoint fails within seconds
            // rather than minutes.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
            });
        if !s.endpoint.trim().is_empty() {
            b = b.with_endpoint(s.endpoint.trim());
        }
        let store = b.build().map_err(|e| AttachmentError::Store(format!("invalid S3 settings: {e}")))?;
        Ok(Self::new(Arc::new(store)))
    }

    /// Checks that the store answers and its bucket exists, with an error
    /// that says what to fix.
    pub async fn check(&self) -> Result<(), AttachmentError> {
        let e = match self.store.list_with_delimiter(Some(&ObjectPath::from("incoming"))).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        // Most S3 errors come back as generic ones carrying the server's
        // answer: read its error code.
        let text = e.to_string();
        let said = |codes: &[&str]| codes.iter().any(|c| text.contains(c));
        let what = if matches!(e, object_store::Error::NotFound { .. }) || said(&["NoSuchBucket"]) {
            "the bucket does not exist"
        } else if matches!(
            e,
            object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
        ) || said(&["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403 Forbidden"])
        {
            "the credentials were refused"
        } else {
            "it does not answer"
        };
        Err(AttachmentError::Store(format!("{}: {what} ({text})", self.store)))
    }

    fn data(account: AccountId, key: &str) -> ObjectPath {
        ObjectPath::from(format!("{account}/{key}"))
    }

    fn type_of(account: AccountId, key: &str) -> ObjectPath {
        ObjectPath::from(format!("{account}/{key}.type"))
    }

    async fn exists(&self, path: &ObjectPath) -> Result<bool, AttachmentError> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(AttachmentError::store(e)),
        }
    }

    async fn stored_type(&self, account: AccountId, key: &str) -> Result<String, AttachmentError> {
        match self.store.get(&Self::type_of(account, key)).await {
            Ok(r) => {
                let b = r.bytes().await.map_err(AttachmentError::store)?;
                Ok(String::from_utf8_lossy(&b).trim().to_owned())
            }
            Err(object_store::Error::NotFound { .. }) => Ok(filetype::OPAQUE.to_owned()),
            Err(e) => Err(AttachmentError::store(e)),
        }
    }

    async fn put_type(&self, account: AccountId, key: &str, content_type: &str) -> Result<(), AttachmentError> {
        let payload = PutPayload::from(content_type.to_owned().into_bytes());
        self.store.put(&Self::type_of(account, key), payload).await.map_err(AttachmentError::store)?;
        Ok(())
    }

    /// Moves a streamed upload from `tmp` under its key, or drops it when
    /// the same bytes are already there.
    async fn move_into_place(
        &self,
        account: AccountId,
        key: &str,
        tmp: &ObjectPath,
        content_type: &str,
    ) -> Result<(), AttachmentError> {
        let path = Self::data(account, key);
        if self.exists(&path).await? {
            self.discard(tmp).await;
            return Ok(());
        }
        self.put_type(account, key, content_type).await?;
        // A rename on a file system; a copy and a delete on S3.
        self.store.rename(tmp, &path).await.map_err(AttachmentError::store)
    }

    async fn discard(&self, tmp: &ObjectPath) {
        if let Err(e) = self.store.delete(tmp).await {
            tracing::warn!(error = %e, "removing an upload's temporary object failed");
        }
    }

    /// Writes a stream to `tmp`, hashing it; the hash and length.
    async fn write_hashing(&self, tmp: &ObjectPath, mut body: ByteStream) -> Result<(String, u64), AttachmentError> {
        // Parts of 5 MiB (S3's smallest) go up as they fill, two at a time
        // (S3 multipart upload), so an upload holds at most about three
        // parts in memory; a smaller file is one plain PUT.
        let mut w = BufWriter::with_capacity(self.store.clone(), tmp.clone(), PART_BYTES).with_max_concurrency(2);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let written = match chunk {
                Ok(chunk) => {
                    hasher.update(&chunk);
                    size += chunk.len() as u64;
                    w.put(chunk).await.map_err(AttachmentError::store)
                }
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                if let Err(abort) = w.abort().await {
                    tracing::warn!(error = %abort, "abandoning a partial upload failed");
                }
                return Err(e);
            }
        }
        w.shutdown().await.map_err(AttachmentError::store)?;
        Ok((hex::encode(hasher.finalize()), size))
    }
}

#[async_trait]
impl AttachmentStore for ObjectAttachments {
    async fn put(&self, account: AccountId, bytes: Vec<u8>, content_type: &str) -> Result<String, AttachmentError> {
        let key = key_of(&bytes);
        let path = Self::data(account, &key);
        if self.exists(&path).await? {
            return Ok(key);
        }
        // The type first: whoever sees the bytes finds their type too. Each
        // object appears whole (a file is renamed into place, an S3 PUT is
        // atomic).
        self.put_type(account, &key, content_type).await?;
        self.store.put(&path, PutPayload::from(bytes)).await.map_err(AttachmentError::store)?;
        Ok(key)
    }

    async fn get(&self, account: AccountId, key: &str) -> Result<Option<(Vec<u8>, String)>, AttachmentError> {
        let Some(d) = self.open(account, key).await? else { return Ok(None) };
        let mut bytes = Vec::with_capacity(usize::try_from(d.size).unwrap_or(0));
        let mut body = d.body;
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(Some((bytes, d.content_type)))
    }

    async fn put_stream(
        &self,
        account: AccountId,
        body: ByteStream,
        content_type: &str,
    ) -> Result<Stored, AttachmentError> {
        let mut nonce = [0u8; 12];
        rand::fill(&mut nonce);
        let tmp = ObjectPath::from(format!("incoming/{account}-{}", hex::encode(nonce)));
        let (key, size) = self.write_hashing(&tmp, body).await?;
        if let Err(e) = self.move_into_place(account, &key, &tmp, content_type).await {
            self.discard(&tmp).await;
            return Err(e);
        }
        Ok(Stored { key, size })
    }

    async fn delete(&self, account: AccountId, key: &str) -> Result<(), AttachmentError> {
        if !valid_key(key) {
            return Ok(());
        }
        for path in [Self::data(account, key), Self::type_of(account, key)] {
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(AttachmentError::store(e)),
            }
        }
        Ok(())
    }

    async fn open(&self, account: AccountId, key: &str) -> Result<Option<Download>, AttachmentError> {
        if !valid_key(key) {
            return Ok(None);
        }
        let r = match self.store.get(&Self::data(account, key)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(AttachmentError::store(e)),
        };
        let size = r.meta.size;
        let content_type = self.stored_type(account, key).await?;
        let body = r.into_stream().map(|c| c.map_err(AttachmentError::store)).boxed();
        Ok(Some(Download { content_type, size, body }))
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

    fn chunks(parts: Vec<Result<&'static [u8], AttachmentError>>) -> ByteStream {
        futures::stream::iter(parts.into_iter().map(|p| p.map(Bytes::from_static))).boxed()
    }

    /// The files under `dir`, relative to it.
    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    todo.push(e.path());
                } else if let Ok(p) = e.path().strip_prefix(dir) {
                    out.push(p.to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    #[allow(clippy::unwrap_used)]
    async fn local_files_keep_the_layout_of_earlier_versions() {
        let dir = tempfile::tempdir().unwrap();
        // A file stored by an earlier version.
        let old = key_of(b"old");
        std::fs::create_dir_all(dir.path().join("3")).unwrap();
        std::fs::write(dir.path().join("3").join(&old), b"old").unwrap();
        std::fs::write(dir.path().join("3").join(format!("{old}.type")), "text/plain").unwrap();
        let store = ObjectAttachments::local(dir.path()).unwrap();
        assert_eq!(store.get(AccountId(3), &old).await.unwrap(), Some((b"old".to_vec(), "text/plain".to_owned())));
        assert!(store.get(AccountId(4), &old).await.unwrap().is_none(), "another account's file");
        assert!(store.open(AccountId(3), "../3").await.unwrap().is_none());

        // New files land beside it, streamed or whole, under the same names.
        let s = store.put_stream(AccountId(3), chunks(vec![Ok(b"new "), Ok(b"file")]), "text/plain").await.unwrap();
        assert_eq!(s, Stored { key: key_of(b"new file"), size: 8 });
        let whole = store.put(AccountId(3), b"whole".to_vec(), "application/pdf").await.unwrap();
        let mut expected =
            [&old, &s.key, &whole].iter().flat_map(|k| [format!("3/{k}"), format!("3/{k}.type")]).collect::<Vec<_>>();
        expected.sort();
        assert_eq!(files(dir.path()), expected);
        assert_eq!(std::fs::read(dir.path().join("3").join(&s.key)).unwrap(), b"new file");
        let d = store.open(AccountId(3), &whole).await.unwrap().unwrap();
        assert_eq!((d.content_type.as_str(), d.size), ("application/pdf", 5));

        // A stream that fails stores nothing and says why.
        let failing = chunks(vec![Ok(b"half"), Err(AttachmentError::Input("the client left".into()))]);
        let e = store.put_stream(AccountId(3), failing, "text/plain").await.unwrap_err();
        assert!(matches!(e, AttachmentError::Input(_)), "{e}");
        let e = store.put_stream(AccountId(3), limited(chunks(vec![Ok(b"12345678")]), 4), "text/plain").await;
        assert!(matches!(e, Err(AttachmentError::TooLarge(4))));
        assert_eq!(files(dir.path()), expected);
    }

    #[tokio::test]
    #[allow(clippy::unwrap_used)]
    async fn the_head_is_split_off_and_put_back() {
        let body = futures::stream::iter((0..10).map(|_| Ok(Bytes::from(vec![7u8; 1000])))).boxed();
        let (head, rest) = split_head(body).await.unwrap();
        assert!(head.len() >= HEAD_BYTES);
        let all: Vec<Bytes> = rejoin(head, rest).map(|c| c.unwrap()).collect().await;
        assert_eq!(all.iter().map(Bytes::len).sum::<usize>(), 10_000);
        let (head, rest) = split_head(chunks(vec![Ok(b"short")])).await.unwrap();
        assert_eq!(head.as_ref(), b"short");
        assert_eq!(rejoin(head, rest).count().await, 1);
        // A stream that must not be polled once ended (as a request body
        // read through `unfold` is).
        let once =
            futures::stream::unfold(
                false,
                |done| async move { (!done).then(|| (Ok(Bytes::from_static(b"tiny")), true)) },
            )
            .boxed();
        let (head, rest) = split_head(once).await.unwrap();
        assert_eq!(rejoin(head, rest).count().await, 1);
    }
}
