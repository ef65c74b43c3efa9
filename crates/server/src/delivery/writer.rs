//! The group-commit writer: the one task that writes envelopes.
//!
//! Handlers send an [`Append`] with a reply channel over a bounded queue
//! ([`QUEUE`] deep; a full queue makes senders wait, which is the
//! back-pressure). The task takes every waiting append up to
//! [`MAX_BATCH`], stores them in one `BEGIN IMMEDIATE … COMMIT`
//! transaction, assigning each new envelope the next seq of its
//! conversation, and only after the commit returned (fsync'd, WAL with
//! `synchronous = FULL`) answers each handler and publishes the new
//! envelopes to the fan-out, in seq order.
//!
//! If a batch fails as a whole (a database error), nothing of it was
//! committed; each append is then retried alone, so one bad append cannot
//! fail its neighbours. A retry of an append whose commit did land is
//! harmless: it is found by its idempotency key and answered as the
//! duplicate it is, with its original seq.
//!
//! Non-goals: verification and authorisation (done by the handler before
//! an append reaches the queue).

use super::{Fanout, StoredEnvelope};
use crate::db;
use axum::body::Bytes;
use confide_protocol::{ConversationId, DeviceId, EnvelopeHash, InstanceId};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Most appends stored by one transaction.
pub const MAX_BATCH: usize = 256;
/// Appends that may wait for the writer before senders are held back.
pub const QUEUE: usize = 4096;

/// One verified envelope to store.
#[derive(Clone, Debug)]
pub struct Append {
    /// The conversation (the handler checked that it exists).
    pub conversation: ConversationId,
    /// The verified sender device.
    pub sender: DeviceId,
    /// The sender's instance.
    pub instance: InstanceId,
    /// The sender's counter (fits SQLite's signed 64-bit integer).
    pub counter: i64,
    /// The envelope hash (§8.5).
    pub hash: EnvelopeHash,
    /// The audience byte (1 conversation, 2 internal note).
    pub audience: u8,
    /// The envelope bytes as signed.
    pub bytes: Bytes,
}

/// What an append became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now under `seq`.
    Stored {
        /// The assigned sequence number.
        seq: i64,
    },
    /// The same envelope was stored before, under `seq`.
    Duplicate {
        /// The sequence number it got the first time.
        seq: i64,
    },
}

/// Why an append was not stored.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another envelope was stored under the same (sender, instance, counter).
    #[error("another envelope was stored under this sender, instance and counter")]
    CounterReused,
    /// The conversation does not exist (any more).
    #[error("no such conversation")]
    NoConversation,
    /// The writer is not running (shutting down).
    #[error("the envelope writer is not running")]
    Stopped,
    /// The database failed; nothing was stored.
    #[error("database: {0}")]
    Db(String),
}

type Reply = oneshot::Sender<Result<Outcome, AppendError>>;

/// Counters of the writer since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: u64,
    /// Envelopes newly stored.
    pub stored: u64,
}

#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    stored: AtomicU64,
}

/// The writer's queue.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    queue: mpsc::Sender<(Append, Reply)>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Spawns the writer task; it ends when every [`Writer`] is dropped.
    pub(super) fn start(pool: SqlitePool, fanout: Fanout) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(pool, rx, fanout, counters.clone()));
        Self { queue, counters }
    }

    /// Counters since start.
    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            stored: self.counters.stored.load(Ordering::Relaxed),
        }
    }

    /// Queues `append` and waits for its committed outcome.
    pub(super) async fn append(&self, append: Append) -> Result<Outcome, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((append, reply))
            .await
            .map_err(|_| AppendError::Stopped)?;
        answer.await.map_err(|_| AppendError::Stopped)?
    }
}

async fn run(
    pool: SqlitePool,
    mut rx: mpsc::Receiver<(Append, Reply)>,
    fanout: Fanout,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let appends: Vec<&Append> = jobs.iter().map(|(a, _)| a).collect();
        let (received_at, results) = match commit(&pool, &appends, &counters).await {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(error = %e, size = jobs.len(), "envelope batch failed; retrying one by one");
                let mut results = Vec::with_capacity(jobs.len());
                for append in &appends {
                    results.push(match commit(&pool, &[*append], &counters).await {
                        Ok((_, mut one)) => one.pop().unwrap_or(Err(AppendError::Stopped)),
                        Err(e) => {
                            tracing::error!(error = %e, "storing an envelope failed");
                            Err(AppendError::Db(e.to_string()))
                        }
                    });
                }
                (db::now(), results)
            }
        };
        for ((append, reply), result) in jobs.into_iter().zip(results) {
            let stored = match &result {
                Ok(Outcome::Stored { seq }) => Some(*seq),
                _ => None,
            };
            // The handler may have gone (client disconnected): the envelope stays stored.
            let _ = reply.send(result);
            if let Some(seq) = stored {
                fanout.publish_envelope(Arc::new(StoredEnvelope {
                    conversation: append.conversation,
                    seq,
                    audience: append.audience,
                    received_at,
                    bytes: append.bytes,
                }));
            }
        }
    }
}

/// An idempotency key: (conversation, sender device, instance, counter).
type Key = (ConversationId, DeviceId, InstanceId, i64);

fn key(a: &Append) -> Key {
    (a.conversation, a.sender, a.instance, a.counter)
}

/// `n` comma-separated copies of `item`.
fn repeat(item: &str, n: usize) -> String {
    vec![item; n].join(", ")
}

/// Stores `appends` in one transaction: the time stored as `received_at`
/// and per-append outcomes, or the error that rolled it all back.
///
/// A handful of statements per batch, whatever its size: read the
/// conversations' last seqs and the keys already stored, decide every
/// append in order in memory (a key repeated within the batch is a
/// duplicate of its first occurrence), insert the new rows, advance the
/// conversations' `last_seq`, commit.
async fn commit(
    pool: &SqlitePool,
    appends: &[&Append],
    counters: &Counters,
) -> Result<(i64, Vec<Result<Outcome, AppendError>>), sqlx::Error> {
    let now = db::now();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;

    let mut conversations: Vec<ConversationId> = appends.iter().map(|a| a.conversation).collect();
    conversations.sort_unstable();
    conversations.dedup();
    let sql = format!(
        "SELECT id, last_seq FROM conversation WHERE id IN ({})",
        repeat("?", conversations.len())
    );
    let mut query = sqlx::query_as::<_, (Vec<u8>, i64)>(sqlx::AssertSqlSafe(sql)).persistent(false);
    for c in &conversations {
        query = query.bind(c.0.as_slice());
    }
    let mut last_seq: HashMap<ConversationId, i64> = HashMap::new();
    for (id, seq) in query.fetch_all(&mut *tx).await? {
        if let Ok(id) = <[u8; 32]>::try_from(id) {
            last_seq.insert(ConversationId(id), seq);
        }
    }

    let sql = format!(
        "SELECT conversation_id, sender_device, instance, counter, seq, hash FROM envelope \
         WHERE (conversation_id, sender_device, instance, counter) IN (VALUES {})",
        repeat("(?, ?, ?, ?)", appends.len())
    );
    let mut query = sqlx::query_as::<_, (Vec<u8>, Vec<u8>, Vec<u8>, i64, i64, Vec<u8>)>(
        sqlx::AssertSqlSafe(sql),
    )
    .persistent(false);
    for a in appends {
        query = query
            .bind(a.conversation.0.as_slice())
            .bind(a.sender.0.as_slice())
            .bind(a.instance.0.as_slice())
            .bind(a.counter);
    }
    let mut stored: HashMap<Key, (i64, [u8; 32])> = HashMap::new();
    for (c, d, i, counter, seq, hash) in query.fetch_all(&mut *tx).await? {
        if let (Ok(c), Ok(d), Ok(i), Ok(h)) =
            (c.try_into(), d.try_into(), i.try_into(), hash.try_into())
        {
            stored.insert(
                (ConversationId(c), DeviceId(d), InstanceId(i), counter),
                (seq, h),
            );
        }
    }

    let mut results = Vec::with_capacity(appends.len());
    let mut new_rows: Vec<(&Append, i64)> = Vec::with_capacity(appends.len());
    for a in appends {
        let result = match stored.get(&key(a)) {
            Some((seq, hash)) if *hash == a.hash.0 => Ok(Outcome::Duplicate { seq: *seq }),
            Some(_) => Err(AppendError::CounterReused),
            None => match last_seq.get_mut(&a.conversation) {
                None => Err(AppendError::NoConversation),
                Some(last) => {
                    *last += 1;
                    stored.insert(key(a), (*last, a.hash.0));
                    new_rows.push((a, *last));
                    Ok(Outcome::Stored { seq: *last })
                }
            },
        };
        results.push(result);
    }

    if !new_rows.is_empty() {
        let sql = format!(
            "INSERT INTO envelope (conversation_id, seq, sender_device, instance, counter, hash, \
             audience, bytes, received_at) VALUES {}",
            repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?)", new_rows.len())
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for (a, seq) in &new_rows {
            insert = insert
                .bind(a.conversation.0.as_slice())
                .bind(*seq)
                .bind(a.sender.0.as_slice())
                .bind(a.instance.0.as_slice())
                .bind(a.counter)
                .bind(a.hash.0.as_slice())
                .bind(i64::from(a.audience))
                .bind(a.bytes.as_ref())
                .bind(now);
        }
        insert.execute(&mut *tx).await?;
        // `last_seq` now holds each conversation's highest new seq.
        let mut advanced: Vec<ConversationId> =
            new_rows.iter().map(|(a, _)| a.conversation).collect();
        advanced.sort_unstable();
        advanced.dedup();
        let advanced: Vec<(ConversationId, i64)> = advanced
            .into_iter()
            .filter_map(|c| last_seq.get(&c).map(|seq| (c, *seq)))
            .collect();
        let sql = format!(
            "UPDATE conversation SET last_seq = v.column2, updated_at = ? \
             FROM (VALUES {}) AS v WHERE conversation.id = v.column1",
            repeat("(?, ?)", advanced.len())
        );
        let mut update = sqlx::query(sqlx::AssertSqlSafe(sql))
            .persistent(false)
            .bind(now);
        for (c, seq) in &advanced {
            update = update.bind(c.0.as_slice()).bind(*seq);
        }
        update.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    counters.commits.fetch_add(1, Ordering::Relaxed);
    let stored = u64::try_from(new_rows.len()).unwrap_or(u64::MAX);
    counters.stored.fetch_add(stored, Ordering::Relaxed);
    Ok((now, results))
}
