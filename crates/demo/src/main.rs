//! `ferry-demo`: the demo shop (`ferry demo` runs this program) and the
//! benchmarks that need the sandbox's stand-ins for outside services
//! (`ferry-demo bench backfill`, `ferry-demo bench delivery`). The `ferry` server binary contains
//! neither.

mod bench_backfill;
mod bench_campaign;
mod bench_delivery;
mod demo;
mod mail;
mod mail_page;
mod meta;
mod meta_page;
mod phone;
mod translation;
mod whatsapp;
mod whatsapp_page;

use clap::{Parser, Subcommand};
use ferry_cli::config::Config;
use ferry_cli::init_tracing;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ferry demo",
    version,
    about = "Seeds a demo shop (once per data directory) and serves it",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Configuration file (default: ./ferry.toml when present).
    #[arg(long, env = "FERRY_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Directory for the demo's database and files (default: the user's
    /// data directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmarks against local stand-ins of outside services.
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// Shopify backfill through a local Admin API into a fresh SQLite
    /// store, killed half-way and resumed.
    Backfill(bench_backfill::BackfillArgs),
    /// Outgoing WhatsApp messages through the delivery engine to a local
    /// Graph API, with the number's rate limit off and on.
    Delivery(bench_delivery::DeliveryArgs),
    /// A campaign to a segment of 100,000 contacts through a `ferry serve`
    /// node killed part-way and started again.
    Campaign(bench_campaign::CampaignArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Some(Command::Bench { which: Bench::Backfill(a) }) => return rt.block_on(bench_backfill::run(a)),
        Some(Command::Bench { which: Bench::Delivery(a) }) => {
            init_tracing(&Config { log: "warn".into(), ..Config::default() });
            return rt.block_on(bench_delivery::run(a));
        }
        Some(Command::Bench { which: Bench::Campaign(a) }) => {
            init_tracing(&Config { log: "warn".into(), ..Config::default() });
            return rt.block_on(bench_campaign::run(a));
        }
        None => {}
    }
    let mut cfg = Config::load(cli.config.as_deref())?;
    cfg.listen = cli.listen;
    if cli.data_dir.is_some() {
        cfg.data_dir = cli.data_dir;
    }
    if cfg.data_dir.is_none() {
        cfg.data_dir = Some(dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("ferry-demo"));
    }
    init_tracing(&Config { log: "warn".into(), ..cfg.clone() });
    rt.block_on(demo::run(cfg))
}
