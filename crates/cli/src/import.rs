//! `ferry import shopify`: a resumable backfill of a shop through the
//! Shopify Admin REST API into the mirror, with a progress line on stderr.
//! `ferry import orders|products FILE`: CSV or JSON files into a
//! file-import shop, with a report of the rows that were not imported.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use ferry_app::shop_import::{self, ImportOptions, ImportReport};
use ferry_commerce::import::{ImportDefaults, ImportFormat, ImportKind, RejectedRow};
use ferry_connectors::shopify::sync::{self as shopify_sync, BackfillOptions, Progress, Resource};
use ferry_core::AccountId;
use ferry_core::ShopConnectionId;
use ferry_storage::Storage;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to import.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Backfills a Shopify shop (orders, products, stock, customers) through its
    /// Admin REST API; an interrupted run continues where it stopped.
    Shopify(ShopifyArgs),
    /// Imports orders from a CSV or JSON file (one row per order line;
    /// Shopify's order export works as it is). Valid orders are imported;
    /// rejected rows are listed with their line, column and reason, and
    /// the command then exits with status 2.
    Orders(FileArgs),
    /// Imports products and stock from a CSV or JSON file (one row per
    /// variant; Shopify's product export works as it is).
    Products(FileArgs),
}

/// Options of `ferry import orders|products`.
#[derive(Args)]
pub struct FileArgs {
    /// The file (`.csv`, `.json`, `.jsonl`).
    pub file: PathBuf,
    /// Id of an existing file-import shop connection.
    #[arg(long, conflicts_with_all = ["account", "shop"])]
    pub connection: Option<i64>,
    /// Account to import into (with --shop); its file-import shop of that
    /// name is created when missing.
    #[arg(long, required_unless_present = "connection")]
    pub account: Option<i64>,
    /// Name of the file-import shop.
    #[arg(long, default_value = "Imported orders")]
    pub shop: Option<String>,
    /// `csv` or `json` (default: from the file name, else its content).
    #[arg(long)]
    pub format: Option<String>,
    /// Currency of rows without one (ISO 4217, e.g. USD).
    #[arg(long)]
    pub currency: Option<String>,
    /// Region of phone numbers written without a country code (ISO 3166
    /// alpha-2, e.g. GB); the shipping country is tried first.
    #[arg(long)]
    pub region: Option<String>,
    /// Check the file and report, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the rejected rows to this CSV file.
    #[arg(long)]
    pub report: Option<PathBuf>,
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
    /// Stock per inventory item and location.
    Stock,
    /// Products, stock, customers, then orders.
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

/// Runs an import; the exit status (2 when rows were rejected).
pub async fn run(storage: Arc<dyn Storage>, cmd: ImportCommand) -> anyhow::Result<u8> {
    match cmd {
        ImportCommand::Shopify(a) => shopify(storage, a).await.map(|()| 0),
        ImportCommand::Orders(a) => file(storage, ImportKind::Orders, a).await,
        ImportCommand::Products(a) => file(storage, ImportKind::Products, a).await,
    }
}

/// Rejected rows printed before pointing at `--report`.
const SHOWN: usize = 25;

async fn file(storage: Arc<dyn Storage>, kind: ImportKind, a: FileArgs) -> anyhow::Result<u8> {
    let bytes = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let format = match &a.format {
        Some(f) => Some(ImportFormat::parse(f).ok_or_else(|| anyhow::anyhow!("--format is csv or json"))?),
        None => a.file.to_str().and_then(ImportFormat::from_path),
    };
    let now = chrono::Utc::now();
    let name = a.shop.as_deref().unwrap_or("Imported orders");
    // A dry run writes nothing: not even the shop it would create.
    let conn = match (a.connection, a.account) {
        (Some(c), _) => Some(
            storage
                .find_shop_connection(ShopConnectionId(c))
                .await?
                .ok_or_else(|| anyhow::anyhow!("shop connection {c} not found"))?,
        ),
        (None, Some(acc)) if a.dry_run => shop_import::find_import_shop(storage.as_ref(), AccountId(acc), name).await?,
        (None, Some(acc)) => {
            Some(shop_import::import_shop_named(storage.as_ref(), AccountId(acc), name, None, now).await?)
        }
        (None, None) => anyhow::bail!("give --connection, or --account (and --shop)"),
    };
    let options = ImportOptions {
        format,
        defaults: ImportDefaults {
            currency: a.currency.map(|c| c.trim().to_ascii_uppercase()),
            region: a.region.map(|r| r.trim().to_ascii_uppercase()),
        },
        dry_run: a.dry_run,
    };
    let report = match &conn {
        Some(c) => shop_import::import_file(storage.as_ref(), c.account_id, c.id, kind, &bytes, &options, now).await?,
        None => shop_import::check_file(kind, &bytes, &options, now)?,
    };
    print_report(&report, conn.as_ref().map_or(name, |c| c.name.as_str()));
    if let Some(path) = &a.report {
        write_rejected(path, &report.rejected)?;
        println!("rejected rows written to {}", path.display());
    }
    Ok(if report.rejected.is_empty() { 0 } else { 2 })
}

fn print_report(r: &ImportReport, shop: &str) {
    let what = r.kind.as_str();
    let verb = if r.dry_run { "would import" } else { "imported" };
    println!(
        "{what}: {verb} {} of {} rows into shop {}{}",
        r.accepted,
        r.rows,
        match r.connection_id {
            Some(id) => format!("{id} ({shop})"),
            None => format!("\"{shop}\" (not created yet)"),
        },
        if r.dry_run { String::new() } else { format!("; {} records changed", r.changed) }
    );
    if !r.ignored_columns.is_empty() {
        println!("columns not read: {}", r.ignored_columns.join(", "));
    }
    if r.rejected.is_empty() {
        return;
    }
    println!("{} rows rejected:", r.rejected.len());
    for x in r.rejected.iter().take(SHOWN) {
        println!("  {}", describe(x));
    }
    if r.rejected.len() > SHOWN {
        println!("  … and {} more (use --report FILE for all of them)", r.rejected.len() - SHOWN);
    }
}

/// One rejected row as a line of text.
pub fn describe(x: &RejectedRow) -> String {
    let mut s = format!("line {}", x.line);
    if let Some(k) = &x.key {
        s.push_str(&format!(" ({k})"));
    }
    s.push_str(": ");
    match (&x.column, &x.value) {
        (Some(c), Some(v)) => s.push_str(&format!("{c} \"{v}\" {}", x.reason)),
        (Some(c), None) if !x.reason.contains(c.as_str()) => s.push_str(&format!("{c}: {}", x.reason)),
        _ => s.push_str(&x.reason),
    }
    s
}

fn write_rejected(path: &Path, rows: &[RejectedRow]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["line", "key", "column", "value", "reason"])?;
    for x in rows {
        let line = x.line.to_string();
        w.write_record([
            line.as_str(),
            x.key.as_deref().unwrap_or(""),
            x.column.as_deref().unwrap_or(""),
            x.value.as_deref().unwrap_or(""),
            x.reason.as_str(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

async fn shopify(storage: Arc<dyn Storage>, a: ShopifyArgs) -> anyhow::Result<()> {
    let resources: Vec<Resource> = match a.resource {
        ResourceArg::Orders => vec![Resource::Orders],
        ResourceArg::Products => vec![Resource::Products],
        ResourceArg::Customers => vec![Resource::Customers],
        ResourceArg::Stock => vec![Resource::InventoryLevels],
        ResourceArg::All => Resource::ALL.to_vec(),
    };
    let opts = BackfillOptions { restart: a.restart, count: !a.no_count, ..BackfillOptions::default() };
    let connection = ShopConnectionId(a.connection);
    for resource in resources {
        let mut line = ProgressLine::new();
        let r = shopify_sync::backfill(&storage, connection, resource, &opts, |p| line.show(p)).await;
        line.finish();
        let r = match r {
            // A stored cursor Shopify no longer accepts (they expire).
            Err(e @ shopify_sync::SyncError::Rejected { status: 400, .. }) if !a.restart => {
                let resumed = storage
                    .find_shop_connection(connection)
                    .await?
                    .map(|c| c.account_id)
                    .map(|acc| storage.get_sync_state(acc, connection, resource.as_str()));
                let had_cursor = match resumed {
                    Some(f) => f.await?.is_some_and(|s| s.cursor.is_some()),
                    None => false,
                };
                if had_cursor {
                    anyhow::bail!("{e}\nthe stored position may have expired; run again with --restart to start over");
                }
                return Err(e.into());
            }
            other => other?,
        };
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
