//! Reading a mailbox over IMAP: connect (TLS, STARTTLS, or plain on a
//! trusted network), log in, and fetch the messages that arrived after a
//! remembered position, then wait for more with IDLE where the server
//! offers it.
//!
//! The position is a [`FolderCursor`]: the folder's `UIDVALIDITY` and the
//! last UID taken. UIDs only grow while `UIDVALIDITY` stays, so "everything
//! above the last UID" is exactly what is new, across reconnects and
//! restarts. When the server changes `UIDVALIDITY` (a rebuilt mailbox), the
//! old UIDs mean nothing: the whole folder is read again and the caller's
//! de-duplication by Message-ID keeps anything from being stored twice.
//! Messages are read with `BODY.PEEK[]`, so Ferry never marks the seller's
//! mail as read.
//!
//! Callers save the cursor only after the messages of a batch are
//! committed; a crash in between re-reads the batch, which de-duplication
//! absorbs. Nothing here touches the store.

use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures::TryStreamExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::collections::BTreeSet;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (port 993).
    Tls,
    /// Plain, upgraded with `STARTTLS` before logging in (port 143).
    Starttls,
    /// No encryption: only for servers on the same host or a private
    /// network.
    Plain,
}

/// Where and how to read a mailbox.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct ImapSettings {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Protection of the connection.
    pub security: Security,
    /// Login name.
    pub username: String,
    /// Password (never logged).
    pub password: String,
    /// Extra trusted certificate authority in PEM, for servers with a
    /// private or self-signed certificate.
    #[serde(default)]
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"…")
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Where reading a folder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FolderCursor {
    /// The folder's `UIDVALIDITY` when the UIDs were taken.
    pub uid_validity: u32,
    /// The highest UID taken.
    pub last_uid: u32,
}

/// One message read from the server.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Its UID in the folder.
    pub uid: u32,
    /// The raw RFC 5322 bytes; `None` when the message is larger than the
    /// limit (its size is in `size`).
    pub raw: Option<Vec<u8>>,
    /// Its size in bytes as the server reports it.
    pub size: u32,
}

/// What one read of a folder found.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The messages after the cursor, by UID, at most the asked number.
    pub messages: Vec<Fetched>,
    /// The cursor to save once these are committed.
    pub cursor: FolderCursor,
    /// More messages are waiting after this batch.
    pub more: bool,
    /// The server's `UIDVALIDITY` changed: the folder was read from the
    /// start.
    pub resynced: bool,
}

/// What went wrong, in words a seller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The server could not be reached.
    #[error("could not reach {host}:{port}: {source}")]
    Connect {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// TLS failed (certificate, protocol).
    #[error("the secure connection to {host} failed: {reason}")]
    Tls {
        /// Host.
        host: String,
        /// What failed.
        reason: String,
    },
    /// The server refused `STARTTLS`.
    #[error("the server does not offer STARTTLS; choose TLS (port 993) or check the port")]
    NoStarttls,
    /// The user name or password was refused.
    #[error("the server refused the login: {0}")]
    Login(String),
    /// The folder does not exist or cannot be opened.
    #[error("the folder {folder:?} cannot be opened: {reason}")]
    Folder {
        /// Folder.
        folder: String,
        /// The server's words.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    /// The conversation with the server broke.
    #[error("IMAP: {0}")]
    Protocol(#[source] async_imap::error::Error),
}

impl ImapError {
    /// Whether trying again later can help (the network, the server's
    /// mood), as opposed to settings a person must fix.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Connect { .. } | Self::Timeout(_) | Self::Protocol(_))
    }
}

/// How long one exchange with the server may take.
const STEP: Duration = Duration::from_secs(60);

async fn step<T>(fut: impl Future<Output = Result<T, ImapError>>) -> Result<T, ImapError> {
    tokio::time::timeout(STEP, fut).await.map_err(|_| ImapError::Timeout(STEP))?
}

/// The byte stream under the IMAP client: plain or TLS.
pub enum MailStream {
    /// Unencrypted.
    Plain(TcpStream),
    /// Encrypted.
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for MailStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "MailStream::Plain",
            Self::Tls(_) => "MailStream::Tls",
        })
    }
}

impl AsyncRead for MailStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A TLS client configuration trusting the public roots and, when given,
/// one more authority (PEM).
pub fn tls_config(host: &str, ca_pem: Option<&str>) -> Result<Arc<rustls::ClientConfig>, ImapError> {
    let tls_err = |reason: String| ImapError::Tls { host: host.to_owned(), reason };
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| tls_err(format!("the trusted certificate is not valid PEM: {e}")))?;
            roots.add(cert).map_err(|e| tls_err(format!("the trusted certificate cannot be used: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(tls_err("the trusted certificate field holds no PEM certificate".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn tls_wrap(tcp: TcpStream, settings: &ImapSettings) -> Result<MailStream, ImapError> {
    let config = tls_config(&settings.host, settings.ca_pem.as_deref())?;
    let name = ServerName::try_from(settings.host.clone())
        .map_err(|e| ImapError::Tls { host: settings.host.clone(), reason: e.to_string() })?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| ImapError::Tls { host: settings.host.clone(), reason: e.to_string() })?;
    Ok(MailStream::Tls(Box::new(tls)))
}

/// An open, logged-in IMAP connection.
pub struct ImapConnection {
    session: Session<MailStream>,
    idle: bool,
}

impl std::fmt::Debug for ImapConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapConnection").field("idle", &self.idle).finish()
    }
}

fn protocol(e: async_imap::error::Error) -> ImapError {
    ImapError::Protocol(e)
}

impl ImapConnection {
    /// Connects and logs in.
    pub async fn connect(settings: &ImapSettings) -> Result<Self, ImapError> {
        step(Self::open(settings)).await
    }

    async fn open(settings: &ImapSettings) -> Result<Self, ImapError> {
        let tcp = TcpStream::connect((settings.host.as_str(), settings.port))
            .await
            .map_err(|source| ImapError::Connect { host: settings.host.clone(), port: settings.port, source })?;
        let stream = match settings.security {
            Security::Tls => tls_wrap(tcp, settings).await?,
            Security::Plain => MailStream::Plain(tcp),
            Security::Starttls => {
                let mut client = Client::new(tcp);
                greeting(&mut client).await?;
                client.run_command_and_check_ok("STARTTLS", None).await.map_err(|_| ImapError::NoStarttls)?;
                tls_wrap(client.into_inner(), settings).await?
            }
        };
        let mut client = Client::new(stream);
        if settings.security != Security::Starttls {
            greeting(&mut client).await?;
        }
        let mut session = client.login(&settings.username, &settings.password).await.map_err(|(e, _)| match e {
            async_imap::error::Error::No(m) | async_imap::error::Error::Bad(m) => ImapError::Login(m),
            other => ImapError::Protocol(other),
        })?;
        let idle = session.capabilities().await.map_err(protocol)?.has_str("IDLE");
        Ok(Self { session, idle })
    }

    /// Whether the server can push news (IDLE); otherwise the caller polls.
    pub fn supports_idle(&self) -> bool {
        self.idle
    }

    /// Reads up to `max` messages of `folder` after `cursor` (all when
    /// `None`), skipping bodies larger than `max_bytes`.
    pub async fn fetch_after(
        &mut self,
        folder: &str,
        cursor: Option<FolderCursor>,
        max: usize,
        max_bytes: u32,
    ) -> Result<Batch, ImapError> {
        step(self.fetch_inner(folder, cursor, max.max(1), max_bytes)).await
    }

    async fn fetch_inner(
        &mut self,
        folder: &str,
        cursor: Option<FolderCursor>,
        max: usize,
        max_bytes: u32,
    ) -> Result<Batch, ImapError> {
        let mailbox = self.session.select(folder).await.map_err(|e| match e {
            async_imap::error::Error::No(reason) | async_imap::error::Error::Bad(reason) => {
                ImapError::Folder { folder: folder.to_owned(), reason }
            }
            other => ImapError::Protocol(other),
        })?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        let resynced = cursor.is_some_and(|c| c.uid_validity != validity);
        let last = cursor.filter(|c| c.uid_validity == validity).map_or(0, |c| c.last_uid);
        let unchanged = FolderCursor { uid_validity: validity, last_uid: last };
        let empty = Batch { messages: Vec::new(), cursor: unchanged, more: false, resynced };
        if mailbox.exists == 0 || mailbox.uid_next.is_some_and(|next| next <= last.saturating_add(1)) {
            return Ok(empty);
        }
        // `n:*` always matches the newest message, even below `n`: filter.
        let found = self.session.uid_search(format!("UID {}:*", last.saturating_add(1))).await.map_err(protocol)?;
        let uids: BTreeSet<u32> = found.into_iter().filter(|&u| u > last).collect();
        if uids.is_empty() {
            return Ok(empty);
        }
        let more = uids.len() > max;
        let chosen: Vec<u32> = uids.into_iter().take(max).collect();
        let set = chosen.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let sizes = self.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
        let small: Vec<u32> = sizes.iter().filter(|(_, size, _)| *size <= max_bytes).map(|(uid, _, _)| *uid).collect();
        let mut bodies = std::collections::HashMap::new();
        if !small.is_empty() {
            let set = small.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            for (uid, _, body) in self.uid_fetch(&set, "(UID BODY.PEEK[])").await? {
                if let Some(body) = body {
                    bodies.insert(uid, body);
                }
            }
        }
        let mut messages: Vec<Fetched> = sizes
            .into_iter()
            .map(|(uid, size, _)| Fetched { uid, raw: bodies.remove(&uid), size })
            .filter(|f| f.raw.is_some() || f.size > max_bytes)
            .collect();
        messages.sort_by_key(|f| f.uid);
        // The cursor moves to the highest UID handled; a message expunged
        // between the search and the fetch is simply gone.
        let top = chosen.last().copied().unwrap_or(last);
        Ok(Batch { messages, cursor: FolderCursor { uid_validity: validity, last_uid: top }, more, resynced })
    }

    async fn uid_fetch(&mut self, set: &str, query: &str) -> Result<Vec<(u32, u32, Option<Vec<u8>>)>, ImapError> {
        let stream = self.session.uid_fetch(set, query).await.map_err(protocol)?;
        let fetches: Vec<_> = stream.try_collect().await.map_err(protocol)?;
        Ok(fetches.iter().filter_map(|f| Some((f.uid?, f.size.unwrap_or(0), f.body().map(<[u8]>::to_vec)))).collect())
    }

    /// Waits until the server reports a change in the selected folder or
    /// `wait` passes (IDLE); without IDLE, just waits. Returns the
    /// connection to fetch again.
    pub async fn wait(self, wait: Duration) -> Result<Self, ImapError> {
        if !self.idle {
            tokio::time::sleep(wait).await;
            return Ok(self);
        }
        let mut handle = self.session.idle();
        step(async { handle.init().await.map_err(protocol) }).await?;
        let (news, _stop) = handle.wait_with_timeout(wait);
        let outcome = tokio::time::timeout(wait + STEP, news).await;
        let session = step(async { handle.done().await.map_err(protocol) }).await?;
        match outcome {
            Ok(Ok(IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt)) => {}
            Ok(Err(e)) => return Err(protocol(e)),
            Err(_) => return Err(ImapError::Timeout(wait + STEP)),
        }
        Ok(Self { session, idle: true })
    }

    /// The folders of the account.
    pub async fn folders(&mut self) -> Result<Vec<String>, ImapError> {
        step(async {
            let list = self.session.list(Some(""), Some("*")).await.map_err(protocol)?;
            let names: Vec<_> = list.try_collect().await.map_err(protocol)?;
            Ok(names.iter().map(|n| n.name().to_owned()).collect())
        })
        .await
    }

    /// Logs out politely.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

async fn greeting(
    client: &mut Client<impl AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send>,
) -> Result<(), ImapError> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ImapError::Protocol(async_imap::error::Error::ConnectionLost)),
        Err(e) => Err(ImapError::Protocol(e.into())),
    }
}

/// What a connection check found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    /// The server offers IDLE (new mail arrives at once; otherwise it is
    /// polled).
    pub idle: bool,
    /// Messages in the folder.
    pub messages: u32,
}

/// Connects, logs in and opens `folder`, saying exactly what failed.
pub async fn check(settings: &ImapSettings, folder: &str) -> Result<CheckReport, ImapError> {
    let mut conn = ImapConnection::connect(settings).await?;
    let mailbox = step(async {
        conn.session.examine(folder).await.map_err(|e| match e {
            async_imap::error::Error::No(reason) | async_imap::error::Error::Bad(reason) => {
                ImapError::Folder { folder: folder.to_owned(), reason }
            }
            other => ImapError::Protocol(other),
        })
    })
    .await?;
    let idle = conn.idle;
    conn.logout().await;
    Ok(CheckReport { idle, messages: mailbox.exists })
}
