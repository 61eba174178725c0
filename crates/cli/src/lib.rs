//! Ferry's command-line programs as a library: configuration, the choice
//! of storage by URL, building and serving a node, and the commands. The
//! `ferry` binary and the `ferry-demo` binary (which adds the sandbox's
//! stand-ins) share it.

pub mod accounts;
pub mod bench;
mod bench_bot;
mod bench_cluster;
mod bench_import;
mod bench_insights;
mod bench_memory;
mod bench_search;
pub mod config;
pub mod import;
pub mod nlu;
pub mod questions;

use anyhow::Context;
use config::Config;
use ferry_api::ApiConfig;
use ferry_api::server::{Background, Node};
use ferry_app::attachments::{AttachmentStore, ObjectAttachments};
use ferry_app::signals::Signals;
use ferry_app::{AppConfig, SmtpConfig};
use ferry_core::clock::SystemClock;
use ferry_storage::Storage;
use ferry_storage_sqlite::{Durability, SqliteOptions, SqliteStorage};
use std::path::PathBuf;
use std::sync::Arc;

/// Logs to stderr with the configured filter and format.
pub fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cfg.log_format == "json" { b.json().init() } else { b.init() }
}

/// The SQLite database file the configuration names, if it names one.
fn sqlite_path(cfg: &Config) -> Option<PathBuf> {
    let url = cfg.database_url.expose().trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    Some(match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => cfg.data_dir().join("ferry.sqlite"),
    })
}

/// Where the embedded store's search index lives: `search/` in the data
/// directory for the default database, else beside the database file
/// (`shop.sqlite` → `shop.sqlite.search/`). `None` on PostgreSQL.
pub fn search_dir(cfg: &Config) -> Option<PathBuf> {
    let db = sqlite_path(cfg)?;
    if db == cfg.data_dir().join("ferry.sqlite") {
        return Some(cfg.data_dir().join("search"));
    }
    let mut name = db.file_name().map(std::ffi::OsString::from).unwrap_or_default();
    name.push(".search");
    Some(db.with_file_name(name))
}

/// Opens the store the configuration names.
pub async fn open_storage(cfg: &Config) -> anyhow::Result<Arc<dyn Storage>> {
    let url = cfg.database_url.expose().trim();
    let Some(path) = sqlite_path(cfg) else {
        let s = ferry_storage_postgres::PostgresStorage::connect(url)
            .await
            .context("cannot open the PostgreSQL database")?;
        return Ok(Arc::new(s));
    };
    let durability = if cfg.sqlite_synchronous == "normal" { Durability::Normal } else { Durability::Full };
    let s = SqliteStorage::open(SqliteOptions { durability, ..SqliteOptions::new(&path) })
        .with_context(|| format!("cannot open the SQLite database at {}", path.display()))?;
    Ok(Arc::new(s))
}

/// What a `ferry serve` process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Role {
    /// The HTTP API, webhooks, WebSockets and the console; publishes the
    /// events of its own writes.
    Api,
    /// Background work: jobs (deliveries, bot replies), the scheduled tasks
    /// (taken by one node per interval), mailboxes and the outbox's
    /// recovery scan; serves only `/healthz` and `/metrics`.
    Worker,
    /// Both.
    #[default]
    All,
}

impl Role {
    /// The background loops of the role.
    pub fn background(self) -> Background {
        match self {
            Role::Api => Background {
                dispatcher: true,
                worker: false,
                snooze_timer: false,
                detectors: false,
                housekeeping: false,
                mailboxes: false,
                search_indexer: true,
            },
            Role::Worker | Role::All => Background::default(),
        }
    }
}

/// Opens the attachment store the configuration names: files under the
/// data directory, or an S3-compatible bucket, checked to answer (a wrong
/// endpoint, bucket or key fails here, at start, with what to fix).
pub async fn open_attachments(cfg: &Config) -> anyhow::Result<Arc<dyn AttachmentStore>> {
    match cfg.attachments.s3() {
        Some(s3) => {
            let store = ObjectAttachments::s3(&s3).context("cannot use the S3 bucket for attachments")?;
            store.check().await.context("cannot use the S3 bucket for attachments")?;
            Ok(Arc::new(store))
        }
        None => {
            let dir = cfg.data_dir().join("attachments");
            Ok(Arc::new(ObjectAttachments::local(&dir).context("cannot use the attachments directory")?))
        }
    }
}

/// Builds a node from the configuration, opening its attachment store: on
/// NATS when `nats_url` is set, else with events in process.
pub async fn connect_node(cfg: &Config, storage: Arc<dyn Storage>) -> anyhow::Result<Node> {
    let attachments = open_attachments(cfg).await?;
    let url = cfg.nats_url.expose().trim();
    if url.is_empty() {
        return Ok(node_with(cfg, storage, attachments));
    }
    if storage.backend() != "postgres" {
        tracing::warn!("nats_url is set but the database is SQLite: other nodes cannot share it");
    }
    let signals = Signals::new();
    let opts = ferry_nats::NatsOptions { prefix: cfg.nats_prefix.clone(), ..ferry_nats::NatsOptions::new(url) };
    let bus = ferry_nats::NatsBus::connect(opts, signals.clone()).await?;
    let (app_config, api_config) = settings(cfg);
    Ok(Node::with_bus(storage, Arc::new(SystemClock), attachments, app_config, api_config, bus, signals))
}

/// Builds a single node from the configuration (opening its attachment
/// store), with events in process.
pub async fn node(cfg: &Config, storage: Arc<dyn Storage>) -> anyhow::Result<Node> {
    let attachments = open_attachments(cfg).await?;
    Ok(node_with(cfg, storage, attachments))
}

/// Builds a single node from the configuration on a given attachment
/// store, with events in process.
pub fn node_with(cfg: &Config, storage: Arc<dyn Storage>, attachments: Arc<dyn AttachmentStore>) -> Node {
    let (app_config, api_config) = settings(cfg);
    Node::new(storage, Arc::new(SystemClock), attachments, app_config, api_config)
}

fn settings(cfg: &Config) -> (AppConfig, ApiConfig) {
    let public_url = cfg.public_url.clone().unwrap_or_else(|| format!("http://{}", cfg.listen));
    (
        AppConfig {
            public_url,
            smtp: (!cfg.smtp_url.is_blank())
                .then(|| SmtpConfig { url: cfg.smtp_url.clone(), from: cfg.smtp_from.clone() }),
            sms: (!cfg.sms_url.trim().is_empty()).then(|| ferry_app::SmsConfig {
                base_url: cfg.sms_url.trim().to_owned(),
                account_sid: cfg.sms_account_sid.trim().to_owned(),
                auth_token: cfg.sms_auth_token.clone(),
                from: cfg.sms_from.trim().to_owned(),
            }),
            detectors: cfg.detectors.to_app(),
            retention: chrono::Duration::days(cfg.retention_days),
            jobs: cfg.jobs.to_app(),
            max_attachment_bytes: cfg.attachments.max_upload_bytes,
            search_dir: search_dir(cfg),
            webhooks: cfg.webhooks.to_app(),
            ..AppConfig::default()
        },
        ApiConfig {
            max_body_bytes: cfg.max_body_bytes,
            secure_cookies: cfg.secure_cookies,
            behind_proxy: cfg.behind_proxy,
            metrics_token: (!cfg.metrics_token.is_blank()).then(|| cfg.metrics_token.expose().trim().to_owned().into()),
            platform_token: (!cfg.platform_token.is_blank())
                .then(|| cfg.platform_token.expose().trim().to_owned().into()),
        },
    )
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Binds, starts the background loops of the role and serves until a
/// signal.
pub async fn run_server(cfg: &Config, mut node: Node, role: Role) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind(&cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    node.spawn_background(role.background());
    if role == Role::Worker {
        node.router = ferry_api::health_router(node.app.clone(), node.api_config.clone());
    }
    tracing::info!(listen = %cfg.listen, role = ?role, "Ferry is serving");
    node.serve(listener, shutdown_signal()).await?;
    Ok(())
}
