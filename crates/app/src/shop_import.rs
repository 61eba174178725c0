//! Orders and products from CSV or JSON files into a file-import shop's
//! mirror (see [`ferry_commerce::import`] for the accepted layouts). Used by
//! `ferry import orders|products FILE` and by the API's upload.

use crate::auth::Actor;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use ferry_commerce::MirrorWrite;
use ferry_commerce::import::{self, ImportDefaults, ImportFormat, ImportKind, RejectedRow};
use ferry_core::{AccountId, ShopConnectionId};
use ferry_storage::{NewShopConnection, ShopConnection, ShopPlatform, Storage};
use serde::Serialize;

/// Writes applied per transaction (a record never spans two).
const CHUNK: usize = 1000;

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The shop written to (`None`: a dry run before the shop exists).
    pub connection_id: Option<ShopConnectionId>,
    /// Orders or products.
    pub kind: ImportKind,
    /// How the file was read.
    pub format: ImportFormat,
    /// Data rows read.
    pub rows: usize,
    /// Orders or products accepted.
    pub accepted: usize,
    /// Records written to the mirror (an unchanged record is not
    /// rewritten; zero on a dry run).
    pub changed: usize,
    /// Rows not imported, with line, column, value and reason.
    pub rejected: Vec<RejectedRow>,
    /// Columns that were not read.
    pub ignored_columns: Vec<String>,
    /// Only checked, nothing written.
    pub dry_run: bool,
}

/// How to read and apply a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The format; guessed from the content when absent.
    pub format: Option<ImportFormat>,
    /// Defaults for rows without a currency or a phone region.
    pub defaults: ImportDefaults,
    /// Check only.
    pub dry_run: bool,
}

/// Why a file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The file as a whole is unreadable.
    #[error(transparent)]
    File(#[from] import::ImportError),
    /// No such shop in the account.
    #[error("shop connection {0} not found")]
    NotFound(ShopConnectionId),
    /// The shop is not one files are imported into.
    #[error("{0}")]
    Connection(String),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] ferry_storage::StorageError),
}

/// Checks that `connection` of `account` takes file imports.
pub async fn import_connection(
    storage: &dyn Storage,
    account: AccountId,
    connection: ShopConnectionId,
) -> Result<ShopConnection, ImportFailure> {
    let conn = storage.get_shop_connection(account, connection).await?.ok_or(ImportFailure::NotFound(connection))?;
    if conn.platform != ShopPlatform::Import {
        return Err(ImportFailure::Connection(format!(
            "shop connection {connection} ({}) is a Shopify shop: its orders come from Shopify (webhooks and `ferry import shopify`); import files into a file-import shop",
            conn.name
        )));
    }
    Ok(conn)
}

/// The account's file-import shop called `name`, if there is one.
pub async fn find_import_shop(
    storage: &dyn Storage,
    account: AccountId,
    name: &str,
) -> Result<Option<ShopConnection>, ImportFailure> {
    let name = name.trim();
    Ok(storage
        .list_shop_connections(account)
        .await?
        .into_iter()
        .find(|c| c.platform == ShopPlatform::Import && c.name == name))
}

/// The account's file-import shop called `name`, created when missing.
pub async fn import_shop_named(
    storage: &dyn Storage,
    account: AccountId,
    name: &str,
    domain: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ShopConnection, ImportFailure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ImportFailure::Connection("a shop name has 1 to 255 characters".into()));
    }
    if storage.get_account(account).await?.is_none() {
        return Err(ImportFailure::Connection(format!("account {account} not found")));
    }
    if let Some(c) = find_import_shop(storage, account, name).await? {
        return Ok(c);
    }
    let domain = match domain {
        Some(d) => d.trim().to_ascii_lowercase(),
        None => format!("{}.import", slug(name)),
    };
    let new = NewShopConnection {
        platform: ShopPlatform::Import,
        name: name.to_owned(),
        shop_domain: domain,
        secret: crate::auth::new_secret(),
        api_url: None,
        access_token: None,
    };
    Ok(storage.create_shop_connection(account, new, now).await?)
}

fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    if s.is_empty() { "shop".to_owned() } else { s.to_owned() }
}

/// Reads `bytes` as `kind` and applies what is valid to the mirror of
/// `connection` (which must be a file-import shop of `account`).
pub async fn import_file(
    storage: &dyn Storage,
    account: AccountId,
    connection: ShopConnectionId,
    kind: ImportKind,
    bytes: &[u8],
    options: &ImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportFailure> {
    let conn = import_connection(storage, account, connection).await?;
    let (format, batch) = read_file(kind, bytes, options, now)?;
    let mut changed = 0;
    if !options.dry_run {
        let mut chunk: Vec<MirrorWrite> = Vec::new();
        for w in batch.writes {
            let starts_record = matches!(w, MirrorWrite::Order(_) | MirrorWrite::Product(_));
            if starts_record && chunk.len() >= CHUNK {
                let out = storage.apply_mirror_writes(account, conn.id, None, std::mem::take(&mut chunk), now).await?;
                changed += out.changed;
            }
            chunk.push(w);
        }
        if !chunk.is_empty() {
            changed += storage.apply_mirror_writes(account, conn.id, None, chunk, now).await?.changed;
        }
    }
    Ok(ImportReport {
        connection_id: Some(conn.id),
        kind,
        format,
        rows: batch.rows,
        accepted: batch.accepted,
        changed,
        rejected: batch.rejected,
        ignored_columns: batch.ignored_columns,
        dry_run: options.dry_run,
    })
}

fn read_file(
    kind: ImportKind,
    bytes: &[u8],
    options: &ImportOptions,
    now: DateTime<Utc>,
) -> Result<(ImportFormat, import::ImportBatch), ImportFailure> {
    let format = options.format.unwrap_or_else(|| ImportFormat::sniff(bytes));
    Ok((format, import::parse(kind, format, bytes, &options.defaults, now)?))
}

/// Checks a file without a shop and without writing anything (a dry run
/// before the shop is created).
pub fn check_file(
    kind: ImportKind,
    bytes: &[u8],
    options: &ImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportFailure> {
    let (format, batch) = read_file(kind, bytes, options, now)?;
    Ok(ImportReport {
        connection_id: None,
        kind,
        format,
        rows: batch.rows,
        accepted: batch.accepted,
        changed: 0,
        rejected: batch.rejected,
        ignored_columns: batch.ignored_columns,
        dry_run: true,
    })
}

impl From<ImportFailure> for AppError {
    fn from(e: ImportFailure) -> Self {
        match e {
            ImportFailure::File(e) => AppError::invalid("file", e.to_string()),
            ImportFailure::NotFound(_) => AppError::NotFound("shop connection"),
            ImportFailure::Connection(m) => AppError::Conflict(m),
            ImportFailure::Storage(e) => e.into(),
        }
    }
}

impl App {
    /// Imports a file into a file-import shop (owners and admins).
    pub async fn import_shop_file(
        &self,
        actor: &Actor,
        account: AccountId,
        connection: ShopConnectionId,
        kind: ImportKind,
        bytes: &[u8],
        options: &ImportOptions,
    ) -> AppResult<ImportReport> {
        actor.in_account(account)?;
        actor.can_manage_inboxes()?;
        let report =
            import_file(self.storage.as_ref(), account, connection, kind, bytes, options, self.clock.now()).await?;
        tracing::info!(
            account = %account,
            connection = %connection,
            kind = kind.as_str(),
            accepted = report.accepted,
            rejected = report.rejected.len(),
            "imported a shop file"
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn shop_names_become_domains() {
        assert_eq!(slug("Lin's Linen Shop"), "lin-s-linen-shop");
        assert_eq!(slug("旗舰店"), "shop");
    }
}
