//! `ferry account …`: the platform's account operations from the command
//! line (the same use cases as `/platform/api/v1/accounts`, audited alike;
//! no platform token needed: whoever runs the binary holds the database).

use crate::config::Config;
use ferry_app::platform::NewAccountInput;
use ferry_core::AccountId;
use ferry_storage::{PlatformAccount, Storage};
use std::sync::Arc;

/// The account commands.
#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// Creates an account and its first owner; prints the account's id.
    Create {
        /// The shop's name.
        #[arg(long)]
        name: String,
        /// IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// A language the account answers in (repeat; the first is the default).
        #[arg(long = "language")]
        languages: Vec<String>,
        /// The owner's login e-mail.
        #[arg(long)]
        owner_email: String,
        /// The owner's name.
        #[arg(long)]
        owner_name: String,
        /// The owner's first password (or set FERRY_OWNER_PASSWORD).
        #[arg(long, env = "FERRY_OWNER_PASSWORD", hide_env_values = true)]
        owner_password: String,
    },
    /// Lists accounts by id.
    List {
        /// Only accounts with a greater id.
        #[arg(long)]
        after: Option<i64>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Suspends an account.
    Suspend {
        /// The account's id.
        id: i64,
    },
    /// Reactivates a suspended account.
    Unsuspend {
        /// The account's id.
        id: i64,
    },
}

fn line(a: &PlatformAccount) -> String {
    let status = if a.suspended_at.is_some() { "suspended" } else { "active" };
    format!(
        "{}\t{}\t{}\t{}\t{} users\t{}",
        a.account.id,
        status,
        a.time_zone,
        a.languages.join(","),
        a.users,
        a.account.name
    )
}

/// Runs an account command.
pub async fn run(cfg: &Config, storage: Arc<dyn Storage>, command: AccountCommand) -> anyhow::Result<()> {
    // Only the store is needed: no attachments, bus or background work.
    let _ = cfg;
    let app = ferry_app::App::new(
        storage,
        Arc::new(ferry_core::clock::SystemClock),
        ferry_app::bus::LocalBus::new(16),
        Arc::new(ferry_app::attachments::MemoryAttachments::default()),
        ferry_app::AppConfig::default(),
        Arc::new(tokio::sync::Notify::new()),
    );
    let fail = |e: ferry_app::AppError| anyhow::anyhow!("{e}");
    match command {
        AccountCommand::Create { name, time_zone, languages, owner_email, owner_name, owner_password } => {
            let input = NewAccountInput { name, time_zone, languages, owner_email, owner_name, owner_password };
            let (account, owner) = app.create_platform_account(input).await.map_err(fail)?;
            println!("{}", line(&account));
            println!("owner {}", owner.id);
        }
        AccountCommand::List { after, limit } => {
            for a in app.list_platform_accounts(after, limit).await.map_err(fail)? {
                println!("{}", line(&a));
            }
        }
        AccountCommand::Suspend { id } => {
            println!("{}", line(&app.set_account_suspended(AccountId(id), true).await.map_err(fail)?));
        }
        AccountCommand::Unsuspend { id } => {
            println!("{}", line(&app.set_account_suspended(AccountId(id), false).await.map_err(fail)?));
        }
    }
    Ok(())
}
