//! The `ferry` binary: configuration, choice of storage by URL, and the
//! commands `serve`, `migrate`, `import`, `insights`, `bench`, `nlu`,
//! `default-config`.
//! `demo` and the benchmarks that need stand-ins for outside services run
//! the sibling `ferry-demo` program, so this binary never contains them.

use clap::{Parser, Subcommand};
use ferry_cli::config::{self, Config};
use ferry_cli::{Role, bench, connect_node, import, init_tracing, nlu, open_storage, run_server, search_dir};
use std::ffi::OsString;
use std::path::PathBuf;

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
    Serve {
        /// `api` (HTTP only), `worker` (background work only) or `all`.
        #[arg(long, value_enum, env = "FERRY_ROLE", default_value = "all")]
        role: Role,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Seeds a demo shop (once per data directory) and serves it; runs the
    /// `ferry-demo` program installed next to `ferry` (`ferry demo --help`
    /// for its options).
    #[command(disable_help_flag = true)]
    Demo {
        /// Passed to `ferry-demo` (`--listen`, `--data-dir`, `--help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Imports shop data into the mirror.
    Import {
        #[command(subcommand)]
        which: import::ImportCommand,
    },
    /// The search index.
    Search {
        #[command(subcommand)]
        which: SearchCommand,
    },
    /// Insights: the frequent questions buyers ask, and the reports' facts.
    Insights {
        #[command(subcommand)]
        which: InsightsCommand,
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
    /// Accounts: create one with its first owner, list, suspend, reactivate.
    Account {
        #[command(subcommand)]
        which: ferry_cli::accounts::AccountCommand,
    },
    /// Prints a documented example configuration.
    DefaultConfig,
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Rebuilds the search index from the store (SQLite: the index beside
    /// the database; stop the server first). PostgreSQL searches its own
    /// tables and has nothing to rebuild.
    Rebuild,
}

#[derive(Subcommand)]
enum InsightsCommand {
    /// The questions people had to answer, grouped across phrasings and
    /// languages, largest first, with the replies agents gave most.
    Questions(ferry_cli::questions::QuestionsArgs),
    /// Recomputes every conversation's facts (what reports count) from its
    /// messages and status history and every contact's profile (orders,
    /// topics, VIP standing, last rating), and prints the figures of the last
    /// 30 days: the same as kept current by every write.
    Rebuild {
        /// Only this account (default: all).
        #[arg(long)]
        account: Option<i64>,
    },
}

/// The `ferry-demo` program next to this one.
const DEMO_PROGRAM: &str = "ferry-demo";

/// Runs `ferry-demo` from the directory of this executable with `args`,
/// in place of this process where the platform allows it.
fn run_demo_program(config: Option<PathBuf>, args: Vec<OsString>) -> anyhow::Result<()> {
    let me = std::env::current_exe()?;
    let program = me.with_file_name(format!("{DEMO_PROGRAM}{}", std::env::consts::EXE_SUFFIX));
    if !program.is_file() {
        anyhow::bail!(
            "`ferry demo` runs the `{DEMO_PROGRAM}` program, which is not installed next to ferry (looked for {}); \
             build it with `cargo build -p ferry-demo` (it holds the demo and the local stand-ins for outside \
             services, which the server binary leaves out)",
            program.display()
        );
    }
    let mut command = std::process::Command::new(&program);
    command.args(args);
    if let Some(c) = config {
        command.env("FERRY_CONFIG", c);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Only returns on failure.
        let e = command.exec();
        Err(anyhow::anyhow!("cannot run {}: {e}", program.display()))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(|e| anyhow::anyhow!("cannot run {}: {e}", program.display()))?;
        std::process::exit(status.code().unwrap_or(1));
    }
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
        Command::Demo { args } => return run_demo_program(cli.config, args),
        Command::Bench { which: bench::Which::Backfill { args } } => {
            let args = ["bench".into(), "backfill".into()].into_iter().chain(args).collect();
            return run_demo_program(cli.config, args);
        }
        Command::Bench { which: bench::Which::Campaign { args } } => {
            let args = ["bench".into(), "campaign".into()].into_iter().chain(args).collect();
            return run_demo_program(cli.config, args);
        }
        Command::Bench { which: bench::Which::Delivery { args } } => {
            let args = ["bench".into(), "delivery".into()].into_iter().chain(args).collect();
            return run_demo_program(cli.config, args);
        }
        other => other,
    };
    let cfg = Config::load(cli.config.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match command {
            Command::Serve { role } => {
                init_tracing(&cfg);
                let storage = open_storage(&cfg).await?;
                let node = connect_node(&cfg, storage).await?;
                run_server(&cfg, node, role).await
            }
            Command::Migrate => {
                init_tracing(&cfg);
                let storage = open_storage(&cfg).await?;
                storage.ping().await?;
                println!("migrations applied ({})", storage.backend());
                Ok(())
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
            Command::Search { which: SearchCommand::Rebuild } => {
                init_tracing(&Config { log: "warn".into(), ..cfg.clone() });
                let storage = open_storage(&cfg).await?;
                let index = ferry_search::for_storage(storage, search_dir(&cfg));
                let started = std::time::Instant::now();
                let n = index.rebuild().await?;
                match index.kind() {
                    "tantivy" => {
                        println!("search index rebuilt: {n} documents in {:.1} s", started.elapsed().as_secs_f64())
                    }
                    kind => println!("nothing to rebuild: {kind} searches the store's own indexes"),
                }
                Ok(())
            }
            Command::Insights { which: InsightsCommand::Questions(args) } => {
                init_tracing(&Config { log: "warn".into(), ..cfg.clone() });
                let storage = open_storage(&cfg).await?;
                ferry_cli::questions::run(&cfg, storage, args).await
            }
            Command::Insights { which: InsightsCommand::Rebuild { account } } => {
                init_tracing(&Config { log: "warn".into(), ..cfg.clone() });
                let storage = open_storage(&cfg).await?;
                let node = ferry_cli::node(&cfg, storage).await?;
                let started = std::time::Instant::now();
                let done = node.app.rebuild_insights(account.map(ferry_core::AccountId)).await?;
                println!(
                    "insights rebuilt: {} conversations and {} contact profiles of {} accounts in {:.1} s",
                    done.conversations,
                    done.contacts,
                    done.accounts,
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            }
            Command::Account { which } => {
                init_tracing(&Config { log: "warn".into(), ..cfg.clone() });
                let storage = open_storage(&cfg).await?;
                ferry_cli::accounts::run(&cfg, storage, which).await
            }
            Command::Bench { which } => bench::run(which).await,
            Command::Demo { .. } | Command::DefaultConfig | Command::Nlu { .. } => Ok(()),
        }
    })
}
