//! Ferry's command-line programs as a library: configuration, the choice
//! of storage by URL, building and serving a node, and the commands. The
//! `ferry` binary and the `ferry-demo` binary (which adds the sandbox's
//! stand-ins) share it.

pub mod bench;
mod bench_bot;
mod bench_import;
mod bench_search;
pub mod config;
pub mod import;
pub mod nlu;

use anyhow::Context;
use config::Config;
use ferry_api::ApiConfig;
use ferry_api::server::{Background, Node};
use ferry_app::attachments::LocalAttachments;
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

/// Builds a node from the configuration.
pub fn node(cfg: &Config, storage: Arc<dyn Storage>) -> Node {
    let public_url = cfg.public_url.clone().unwrap_or_else(|| format!("http://{}", cfg.listen));
    Node::new(
        storage,
        Arc::new(SystemClock),
        Arc::new(LocalAttachments::new(cfg.data_dir().join("attachments"))),
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
            search_dir: search_dir(cfg),
            ..AppConfig::default()
        },
        ApiConfig {
            max_body_bytes: cfg.max_body_bytes,
            secure_cookies: cfg.secure_cookies,
            behind_proxy: cfg.behind_proxy,
            metrics_token: (!cfg.metrics_token.is_blank()).then(|| cfg.metrics_token.expose().trim().to_owned().into()),
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

/// Binds, starts the background loops and serves until a signal.
pub async fn run_server(cfg: &Config, node: Node) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind(&cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    node.spawn_background(Background::default());
    tracing::info!(listen = %cfg.listen, "Ferry is serving");
    node.serve(listener, shutdown_signal()).await?;
    Ok(())
}
