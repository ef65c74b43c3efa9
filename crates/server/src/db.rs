//! The SQLite store: one file in the data directory, WAL mode,
//! `synchronous = FULL` (a commit is on disk before it is acknowledged),
//! foreign keys on, schema from `migrations/`.
//!
//! Only this crate knows SQL. PostgreSQL for multi-node deployments is a
//! later step; nothing outside `db` and the handlers' queries assumes SQLite.

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "confide.sqlite3";

/// Opens (creating if needed) the database in `data_dir` and migrates it.
pub async fn open(data_dir: &Path) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(data_dir.join(DB_FILE))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // A larger page cache and memory-mapped reads: SQLite's default
        // 2 MiB cache made every envelope append and catch-up re-read
        // index pages with a system call each. Durability is unchanged
        // (writes still go through the WAL with synchronous = FULL).
        .pragma("cache_size", "-65536")
        .pragma("mmap_size", "268435456")
        // No automatic checkpoints: one would run inside whichever commit
        // crossed the threshold — usually the envelope writer's — and stall
        // every acknowledgement waiting on it. [`checkpoints`] runs them
        // beside the writer instead.
        .pragma("wal_autocheckpoint", "0");
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// How often [`checkpoints`] copies the WAL back into the database.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// Copies committed WAL frames into the database file every
/// [`CHECKPOINT_INTERVAL`] with a *passive* checkpoint, which never waits
/// for (nor blocks) the writer or readers; a checkpoint that could not
/// finish is simply continued next time. Ends when the pool is closed.
/// Durability does not depend on it: a commit is durable once its WAL
/// frames are fsync'd, before any checkpoint.
pub async fn checkpoints(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
        }
    }
}

/// Seconds since the Unix epoch, from the server's clock.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
