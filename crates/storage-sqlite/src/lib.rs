//! The embedded SQLite backend.
//!
//! SQLite allows one writer at a time, so every write runs on one dedicated
//! writer thread that **group-commits**: it takes all writes waiting in its
//! queue, runs each inside its own savepoint of one transaction, commits
//! once, and only then answers each caller. With `synchronous=FULL` every
//! answered write is durable, yet one fsync covers a whole batch. Reads run
//! on a small pool of read-only connections (WAL readers never block the
//! writer).

mod bench;
mod db;
mod migrate;

use db::{Lite, ready};
use ferry_storage::db::{Backend, DbFuture};
use ferry_storage::{CommitSink, StorageError, StorageResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use tokio::sync::oneshot;

pub use migrate::MIGRATIONS;

/// How commits reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a commit is on disk before it is answered.
    #[default]
    Full,
    /// `synchronous=NORMAL`: WAL stays consistent, but the last commits may
    /// be lost on power failure. For benchmarks and throw-away data.
    Normal,
}

/// Options of the SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Database file.
    pub path: PathBuf,
    /// Commit durability.
    pub durability: Durability,
    /// Most writes committed together.
    pub max_batch: usize,
    /// Read connections kept open.
    pub readers: usize,
}

impl SqliteOptions {
    /// Defaults for a database file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), durability: Durability::Full, max_batch: 512, readers: 4 }
    }
}

type Finish = Box<dyn FnOnce(Option<String>) + Send>;
/// A write: run on the connection inside the batch transaction, or with
/// `None` when the transaction could not start (then it only reports).
type WriteJob = Box<dyn FnOnce(Option<&mut Lite>) -> (bool, Finish) + Send>;

/// The SQLite storage.
pub struct SqliteStorage {
    writer: mpsc::Sender<WriteJob>,
    readers: Arc<ReaderPool>,
    sink: Arc<RwLock<Option<CommitSink>>>,
}

/// At most `size` read connections; callers wait for a free one rather than
/// open more, so every connection keeps its prepared statements warm.
struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Lite>>,
    permits: Arc<tokio::sync::Semaphore>,
}

impl ReaderPool {
    fn take(&self) -> StorageResult<Lite> {
        let idle = self.idle.lock().map_err(|_| StorageError::Corrupt("reader pool poisoned".into()))?.pop();
        match idle {
            Some(c) => Ok(c),
            None => open_reader(&self.path).map(|c| Lite(c, Vec::new())),
        }
    }

    fn put(&self, c: Lite) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(c);
        }
    }
}

fn db_err(e: rusqlite::Error) -> StorageError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && f.code == rusqlite::ErrorCode::ConstraintViolation
    {
        let constraint = msg
            .as_deref()
            .and_then(|m| m.split_once("failed: ").map(|(_, c)| c.to_owned()))
            .unwrap_or_else(|| "constraint".to_owned());
        return StorageError::Conflict { constraint };
    }
    StorageError::other(e)
}

fn open_reader(path: &Path) -> StorageResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(db_err)?;
    conn.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA query_only = 1;").map_err(db_err)?;
    Ok(conn)
}

impl SqliteStorage {
    /// Opens (creating if needed) the database, runs the migrations and
    /// starts the writer thread.
    pub fn open(options: SqliteOptions) -> StorageResult<Self> {
        if let Some(dir) = options.path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StorageError::other)?;
        }
        let mut conn = Connection::open(&options.path).map_err(db_err)?;
        let sync = match options.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 5000; PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;"
        ))
        .map_err(db_err)?;
        migrate::run(&mut conn)?;
        // The query planner's statistics (sqlite_stat1): without them it
        // may read a whole account's rows through an account index where
        // one buyer's would do. Bounded, so a large store opens fast.
        conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;").map_err(db_err)?;
        conn.set_prepared_statement_cache_capacity(128);

        let (tx, rx) = mpsc::channel::<WriteJob>();
        let max_batch = options.max_batch.max(1);
        std::thread::Builder::new()
            .name("ferry-sqlite-writer".into())
            .spawn(move || writer_loop(Lite(conn, Vec::new()), rx, max_batch))
            .map_err(StorageError::other)?;
        Ok(Self {
            sink: Arc::default(),
            writer: tx,
            readers: Arc::new(ReaderPool {
                path: options.path,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(tokio::sync::Semaphore::new(options.readers.max(1))),
            }),
        })
    }

    /// Runs `f` on the writer inside the next group commit and returns its
    /// result once the commit is durable. An error from `f` rolls back only
    /// `f`'s own writes.
    async fn submit<T, F>(&self, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Lite) -> StorageResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StorageResult<T>>();
        let sink = self.sink.clone();
        let job: WriteJob = Box::new(move |conn| {
            let (result, events) = match conn {
                Some(c) => {
                    c.1.clear();
                    let result = f(c);
                    (result, std::mem::take(&mut c.1))
                }
                None => (Err(StorageError::Corrupt("the write transaction could not start".into())), Vec::new()),
            };
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let out = match commit_error {
                    None => {
                        // Finishes run in commit order on the writer
                        // thread, so the sink sees events in that order.
                        if ok && !events.is_empty() {
                            let sink = sink.read().map(|s| s.clone()).unwrap_or(None);
                            if let Some(sink) = sink {
                                sink(events);
                            }
                        }
                        result
                    }
                    Some(e) => Err(StorageError::Other(e.into())),
                };
                let _ = tx.send(out);
            });
            (ok, finish)
        });
        self.writer.send(job).map_err(|_| StorageError::Corrupt("the SQLite writer has stopped".into()))?;
        rx.await.map_err(|_| StorageError::Corrupt("the SQLite writer dropped a write".into()))?
    }
}

impl Backend for SqliteStorage {
    type Db = Lite;
    const NAME: &'static str = "sqlite";

    async fn read<T, F>(&self, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Lite) -> DbFuture<'a, T> + Send + 'static,
    {
        let pool = self.readers.clone();
        let permit = pool.permits.clone().acquire_owned().await.map_err(StorageError::other)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.take()?;
            let out = ready(f(&mut conn));
            pool.put(conn);
            out
        })
        .await
        .map_err(StorageError::other)?
    }

    async fn write<T, F>(&self, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Lite) -> DbFuture<'a, T> + Send + 'static,
    {
        self.submit(move |conn| ready(f(conn))).await
    }

    fn set_commit_sink(&self, sink: Option<CommitSink>) {
        if let Ok(mut s) = self.sink.write() {
            *s = sink;
        }
    }
}

/// Runs one of the writer's fixed statements through the statement cache
/// (they run for every write, so they are parsed once).
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// How often the writer refreshes the planner's statistics as tables grow.
const OPTIMIZE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

fn writer_loop(mut lite: Lite, rx: mpsc::Receiver<WriteJob>, max_batch: usize) {
    let mut optimized = std::time::Instant::now();
    while let Ok(first) = rx.recv() {
        if optimized.elapsed() > OPTIMIZE_EVERY {
            // Only tables whose size changed much since are analysed.
            if let Err(e) = exec(&lite.0, "PRAGMA optimize") {
                tracing::warn!(error = %e, "refreshing the planner's statistics failed");
            }
            optimized = std::time::Instant::now();
        }
        let mut batch = Vec::with_capacity(64);
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = exec(&lite.0, "BEGIN IMMEDIATE") {
            let msg = e.to_string();
            for job in batch {
                // The job does not run; its caller learns why.
                let (_, finish) = job(None);
                finish(Some(msg.clone()));
            }
            continue;
        }
        let mut finishes = Vec::with_capacity(batch.len());
        for job in batch {
            let finish = match exec(&lite.0, "SAVEPOINT w") {
                Ok(()) => {
                    let (ok, finish) = job(Some(&mut lite));
                    let conn = &lite.0;
                    let end = if ok {
                        exec(conn, "RELEASE w")
                    } else {
                        exec(conn, "ROLLBACK TO w").and_then(|()| exec(conn, "RELEASE w"))
                    };
                    if let Err(e) = end {
                        tracing::error!(error = %e, "savepoint end failed");
                    }
                    finish
                }
                Err(e) => {
                    tracing::error!(error = %e, "savepoint failed");
                    job(None).1
                }
            };
            finishes.push(finish);
        }
        let commit = exec(&lite.0, "COMMIT").map_err(|e| e.to_string());
        if let Err(e) = &commit {
            tracing::error!(error = %e, "group commit failed");
            let _ = exec(&lite.0, "ROLLBACK");
        }
        let err = commit.err();
        for finish in finishes {
            finish(err.clone());
        }
    }
}

pub use bench::{batched_insert_ceiling, seed_search_corpus};
