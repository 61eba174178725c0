//! `ferry import shopify`: a resumable backfill of a shop through the
//! Shopify Admin REST API into the mirror, with a progress line on stderr.

use clap::{Args, Subcommand, ValueEnum};
use ferry_app::shopify_sync::{self, BackfillOptions, Progress, Resource};
use ferry_core::ShopConnectionId;
use ferry_storage::Storage;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to import.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Backfills a Shopify shop (orders, products, customers) through its
    /// Admin REST API; an interrupted run continues where it stopped.
    Shopify(ShopifyArgs),
}

/// Resources to backfill.
#[derive(Clone, Copy, ValueEnum)]
pub enum ResourceArg {
    /// Orders of every status, with fulfilments and refunds.
    Orders,
    /// Products and variants.
    Products,
    /// Customers.
    Customers,
    /// Products, customers, then orders.
    All,
}

/// Options of `ferry import shopify`.
#[derive(Args)]
pub struct ShopifyArgs {
    /// Id of the shop connection (with its Admin API URL and access token).
    #[arg(long)]
    pub connection: i64,
    /// What to backfill.
    #[arg(long, value_enum, default_value = "all")]
    pub resource: ResourceArg,
    /// Start over even when a previous run finished.
    #[arg(long)]
    pub restart: bool,
    /// Do not ask Shopify for the total first (no ETA).
    #[arg(long)]
    pub no_count: bool,
}

/// Prints the progress line at most ten times a second (and always the
/// last one).
pub struct ProgressLine {
    last: Option<Instant>,
    tty: bool,
}

impl ProgressLine {
    /// A progress printer on stderr.
    pub fn new() -> Self {
        use std::io::IsTerminal;
        ProgressLine { last: None, tty: std::io::stderr().is_terminal() }
    }

    /// Shows `p`.
    pub fn show(&mut self, p: &Progress) {
        let finished = p.total.is_some_and(|t| p.fetched >= t);
        let due = self.last.is_none_or(|l| l.elapsed() >= Duration::from_millis(if self.tty { 100 } else { 2000 }));
        if !due && !finished {
            return;
        }
        self.last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        let _ = if self.tty { write!(err, "\r\x1b[2K{}", p.line()) } else { writeln!(err, "{}", p.line()) };
        let _ = err.flush();
    }

    /// Ends the line.
    pub fn finish(&mut self) {
        if self.tty && self.last.is_some() {
            eprintln!();
        }
        self.last = None;
    }
}

impl Default for ProgressLine {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs an import.
pub async fn run(storage: Arc<dyn Storage>, cmd: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Shopify(a) = cmd;
    let resources: Vec<Resource> = match a.resource {
        ResourceArg::Orders => vec![Resource::Orders],
        ResourceArg::Products => vec![Resource::Products],
        ResourceArg::Customers => vec![Resource::Customers],
        ResourceArg::All => Resource::ALL.to_vec(),
    };
    let opts = BackfillOptions { restart: a.restart, count: !a.no_count, ..BackfillOptions::default() };
    let connection = ShopConnectionId(a.connection);
    for resource in resources {
        let mut line = ProgressLine::new();
        let r = shopify_sync::backfill(&storage, connection, resource, &opts, |p| line.show(p)).await;
        line.finish();
        let r = r?;
        if r.already_done {
            println!(
                "{}: already backfilled ({} records); use --restart to fetch everything again",
                resource.as_str(),
                r.fetched
            );
        } else {
            println!(
                "{}: {} records in {} pages{} ({} changed; {} rate-limited waits, {} retries)",
                resource.as_str(),
                r.fetched_now,
                r.pages,
                if r.resumed { format!(", resumed ({} in total)", r.fetched) } else { String::new() },
                r.changed,
                r.client.throttled + r.client.paced,
                r.client.retried
            );
        }
    }
    Ok(())
}
