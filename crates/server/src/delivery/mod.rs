//! Delivery: durable, ordered, idempotent storage of envelopes and their
//! fan-out to live subscribers (issue 3 "Delivery"; the checks the server
//! can make are docs/protocol.md §9.1 steps 1–5, via
//! `confide_protocol::envelope::verify`).
//!
//! # Guarantees
//!
//! * **Acknowledged means durable.** An append is acknowledged only after
//!   the SQLite transaction holding it has committed; the database runs in
//!   WAL mode with `synchronous = FULL` (`crate::db`), so the commit has
//!   been fsync'd. A crash or power loss after the acknowledgement cannot
//!   lose the envelope.
//! * **Group commit, not weaker durability.** One writer task
//!   ([`writer`]) owns every envelope write. Handlers hand it the envelope
//!   with a reply channel over a bounded queue; it drains up to
//!   [`writer::MAX_BATCH`] waiting appends, stores them all in one
//!   `BEGIN IMMEDIATE … COMMIT` (one fsync), then answers each. Under load
//!   the fsync cost is shared by the batch; at rest a batch is one append.
//! * **Order.** Each conversation has a gap-free sequence 1, 2, 3, …
//!   (`conversation.last_seq`), assigned inside the committing transaction
//!   by the single writer, so every reader sees one order.
//! * **Idempotence.** An append is keyed by (conversation, sender device,
//!   sender instance, counter). The same envelope again returns the seq it
//!   got the first time (`duplicate`); a different envelope under a used key
//!   is refused (`counter_reused`). A client that did not see the
//!   acknowledgement simply retries.
//! * **Fan-out after commit.** Subscribers ([`fanout`]) only ever see
//!   committed envelopes, in seq order. A subscriber whose bounded queue is
//!   full is disconnected (`slow_consumer`) rather than slowing the writer
//!   or anyone else; it resumes from its last seq (REST catch-up or a new
//!   WebSocket subscription with `after`).
//!
//! Non-goals: reading envelopes (the server holds no content key);
//! fan-out between several server nodes (one process for now; PostgreSQL
//! and NATS/LISTEN-NOTIFY later); authorisation (the handlers in
//! `crate::api::envelopes` and `crate::api::ws` check it first).

pub mod fanout;
pub mod statements;
pub mod writer;

use axum::body::Bytes;
use confide_protocol::ConversationId;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

pub use fanout::{Event, Fanout, Who};
pub use statements::InboxStates;
pub use writer::{Append, AppendError, Outcome, WriterStats};

/// The delivery machinery shared by the handlers: the writer's queue, the
/// fan-out, the verified statement cache and the visitor send limiter.
#[derive(Clone)]
pub struct Delivery {
    writer: writer::Writer,
    /// Live subscribers per conversation.
    pub fanout: Fanout,
    /// Verified inbox statements, per inbox.
    pub statements: Arc<InboxStates>,
    visitor_sends: Arc<RateLimiter>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").finish_non_exhaustive()
    }
}

impl Delivery {
    /// Starts the writer task on the current Tokio runtime; visitors may
    /// send `limits.visitor_sends_per_sec` sustained, in bursts of
    /// `limits.visitor_send_burst`.
    pub fn start(pool: SqlitePool, limits: &crate::config::Limits) -> Self {
        let fanout = Fanout::default();
        Self {
            writer: writer::Writer::start(pool, fanout.clone()),
            fanout,
            statements: Arc::new(InboxStates::default()),
            visitor_sends: Arc::new(RateLimiter::new(
                limits.visitor_sends_per_sec,
                limits.visitor_send_burst,
            )),
        }
    }

    /// Stores `append` durably (group commit) and, when new, publishes it.
    /// Resolves only after the transaction holding it committed.
    pub async fn append(&self, append: Append) -> Result<Outcome, AppendError> {
        self.writer.append(append).await
    }

    /// The writer's counters since start (commits, envelopes stored).
    pub fn stats(&self) -> WriterStats {
        self.writer.stats()
    }

    /// Whether visitor `visitor_id` may send one more envelope now.
    pub fn admit_visitor_send(&self, visitor_id: i64) -> bool {
        self.visitor_sends.admit(visitor_id)
    }
}

/// A stored envelope as readers get it.
#[derive(Clone, Debug)]
pub struct StoredEnvelope {
    /// Its conversation.
    pub conversation: ConversationId,
    /// Sequence number in the conversation (from 1).
    pub seq: i64,
    /// 1 conversation, 2 internal note (`confide_protocol::envelope::Audience`).
    pub audience: u8,
    /// When the server stored it (unix seconds).
    pub received_at: i64,
    /// The envelope exactly as the sender signed it.
    pub bytes: Bytes,
}

impl StoredEnvelope {
    /// Whether this is an internal note (never shown to the visitor).
    pub fn is_internal(&self) -> bool {
        self.audience != confide_protocol::envelope::Audience::Conversation as u8
    }
}

/// Envelopes of `conversation` with `seq > after`, in order, at most
/// `limit`; internal notes only when `internal` (staff readers).
pub async fn load_after(
    pool: &SqlitePool,
    conversation: ConversationId,
    after: i64,
    limit: u32,
    internal: bool,
) -> Result<Vec<StoredEnvelope>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, audience, received_at, bytes FROM envelope \
         WHERE conversation_id = ? AND seq > ? AND (? OR audience = 1) ORDER BY seq LIMIT ?",
    )
    .bind(conversation.0.as_slice())
    .bind(after)
    .bind(internal)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, audience, received_at, bytes)| StoredEnvelope {
            conversation,
            seq,
            audience: u8::try_from(audience).unwrap_or(u8::MAX),
            received_at,
            bytes: Bytes::from(bytes),
        })
        .collect())
}

/// A token bucket per key (in memory; limits are per process).
struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

/// Keys kept before idle (full) buckets are forgotten.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn admit(&self, key: i64) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key).or_insert((self.burst, now));
        let refilled =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            true
        } else {
            *tokens = refilled;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimiter;

    #[test]
    fn bucket_admits_the_burst_then_refuses() {
        let limiter = RateLimiter::new(0.001, 3.0);
        assert!((0..3).all(|_| limiter.admit(7)));
        assert!(!limiter.admit(7));
        assert!(limiter.admit(8), "keys are independent");
    }
}
