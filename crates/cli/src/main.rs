//! The `ferry` binary: configuration, choice of storage by URL, and the
//! commands `serve`, `migrate`, `demo`, `import`, `bench`, `default-config`.

mod bench;
mod bench_backfill;
mod bench_bot;
mod bench_import;
mod config;
mod demo;
mod import;
mod nlu;

use anyhow::Context;
use clap::{Parser, Subcommand};
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

#[derive(Parser)]
#[command(name = "ferry", version, about = "Omnichannel customer service for cross-border e-commerce")]
struct Cli {
    /// Configuration file (default: ./ferry.toml when present).
    #[arg(long, global = true, env = "FERRY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server (API, webhooks, WebSockets, background jobs).
    Serve,
    /// Applies database migrations and exits.
    Migrate,
    /// Seeds a demo shop (once per data directory) and serves it.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Directory for the demo's database and files (default: the user's
        /// data directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Imports shop data into the mirror.
    Import {
        #[command(subcommand)]
        which: import::ImportCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
    /// Language understanding: evaluate the intent classifier.
    Nlu {
        #[command(subcommand)]
        which: nlu::NluCommand,
    },
    /// Prints a documented example configuration.
    DefaultConfig,
}

fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cfg.log_format == "json" { b.json().init() } else { b.init() }
}

/// Opens the store the configuration names.
pub async fn open_storage(cfg: &Config) -> anyhow::Result<Arc<dyn Storage>> {
    let url = cfg.database_url.expose().trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = ferry_storage_postgres::PostgresStorage::connect(url)
            .await
            .context("cannot open the PostgreSQL database")?;
        return Ok(Arc::new(s));
    }
    let path = match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => cfg.data_dir().join("ferry.sqlite"),
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
            ..AppConfig::default()
        },
        ApiConfig { max_body_bytes: cfg.max_body_bytes, secure_cookies: cfg.secure_cookies },
    )
}

async fn shutdown_signal() {
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let command = match cli.command {
        Command::DefaultConfig => {
            print!("{}", config::EXAMPLE);
            return Ok(());
        }
        Command::Nlu { which } => return nlu::run(which),
        other => other,
    };
    let mut cfg = Config::load(cli.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match command {
            Command::Serve => {
                init_tracing(&cfg);
                let storage = open_storage(&cfg).await?;
                run_server(&cfg, node(&cfg, storage)).await
            }
            Command::Migrate => {
                init_tracing(&cfg);
                let storage = open_storage(&cfg).await?;
                storage.ping().await?;
                println!("migrations applied ({})", storage.backend());
                Ok(())
            }
            Command::Demo { listen, data_dir } => {
                cfg.listen = listen;
                if data_dir.is_some() {
                    cfg.data_dir = data_dir;
                }
                if cfg.data_dir.is_none() {
                    cfg.data_dir = Some(dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("ferry-demo"));
                }
                init_tracing(&Config { log: "warn".into(), ..cfg.clone() });
                demo::run(cfg).await
            }
            Command::Import { which } => {
                init_tracing(&Config { log: "warn".into(), ..cfg.clone() });
                let storage = open_storage(&cfg).await?;
                let status = import::run(storage, which).await?;
                if status != 0 {
                    std::process::exit(i32::from(status));
                }
                Ok(())
            }
            Command::Bench { which } => bench::run(which).await,
            Command::DefaultConfig | Command::Nlu { .. } => Ok(()),
        }
    })
}
