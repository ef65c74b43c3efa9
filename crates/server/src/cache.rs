//! A short-lived, in-process cache of what authorising an API call reads:
//! staff sessions, visitor sessions, conversation rows and staff devices.
//!
//! Sending an envelope would otherwise cost four database round trips
//! before the envelope even reaches the writer (session, conversation,
//! device, plus the session's `last_seen`), each a hand-off to SQLite's
//! worker thread; under load those hand-offs, not SQLite, were the cost.
//!
//! **Correctness rule.** Every entry records the cache's *epoch* when it
//! was loaded and is served only while the epoch is unchanged and for at
//! most [`TTL`]. Every handler that changes what an entry was derived from
//! (logout, password change, user role / inboxes / disable / delete,
//! device revocation, visitor block, conversation assign / transfer /
//! close / reopen, inbox settings) calls [`AccessCache::invalidate`] right
//! after its commit, which bumps the epoch and so drops every entry at
//! once: a revoked session or device, a blocked visitor or a closed
//! conversation is refused by the very next request. [`TTL`] only bounds
//! the damage of a change made outside the server (an operator editing the
//! database by hand). Session expiry is checked on every hit.
//!
//! Only positive answers are cached (a refused token is looked up again),
//! so the cache cannot be filled by guessing tokens; it is emptied when it
//! holds [`MAX_ENTRIES`].
//!
//! Non-goals: caching anything that is shown to users (listing endpoints
//! read the database), or envelopes.

use crate::access::ConversationRow;
use crate::auth::{Staff, Visitor};
use confide_protocol::ConversationId;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Longest an entry is served.
pub const TTL: Duration = Duration::from_secs(5);
/// Entries per map before it is emptied.
pub const MAX_ENTRIES: usize = 100_000;

struct Entry<T> {
    value: T,
    epoch: u64,
    loaded: Instant,
}

struct Map<K, V>(Mutex<HashMap<K, Entry<V>>>);

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    fn get(&self, key: &K, epoch: u64) -> Option<V> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(key)
            .filter(|e| e.epoch == epoch && e.loaded.elapsed() < TTL)
            .map(|e| e.value.clone())
    }

    fn put(&self, key: K, value: V, epoch: u64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                value,
                epoch,
                loaded: Instant::now(),
            },
        );
    }
}

/// A staff session as cached: the staff member and when the session ends.
#[derive(Clone, Debug)]
pub struct CachedSession {
    /// Who.
    pub staff: Staff,
    /// Session expiry (unix seconds).
    pub expires_at: i64,
}

/// The cache (one per server, in [`crate::app::App`]).
pub struct AccessCache {
    epoch: AtomicU64,
    sessions: Map<[u8; 32], CachedSession>,
    visitors: Map<[u8; 32], Visitor>,
    conversations: Map<ConversationId, ConversationRow>,
    devices: Map<(i64, [u8; 32]), ()>,
}

impl Default for AccessCache {
    fn default() -> Self {
        Self {
            epoch: AtomicU64::new(0),
            sessions: Map::new(),
            visitors: Map::new(),
            conversations: Map::new(),
            devices: Map::new(),
        }
    }
}

impl std::fmt::Debug for AccessCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessCache").finish_non_exhaustive()
    }
}

impl AccessCache {
    /// The current epoch; read it *before* loading what you will [`put`](Self::put_session).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Drops every entry: call after committing any change to sessions,
    /// users, their inboxes or devices, visitors, conversations or inboxes.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// A staff session by token hash.
    pub fn session(&self, token_hash: &[u8; 32]) -> Option<CachedSession> {
        self.sessions.get(token_hash, self.epoch())
    }

    /// Remembers a staff session loaded at `epoch`.
    pub fn put_session(&self, token_hash: [u8; 32], session: CachedSession, epoch: u64) {
        self.sessions.put(token_hash, session, epoch);
    }

    /// A visitor by token hash.
    pub fn visitor(&self, token_hash: &[u8; 32]) -> Option<Visitor> {
        self.visitors.get(token_hash, self.epoch())
    }

    /// Remembers a visitor loaded at `epoch`.
    pub fn put_visitor(&self, token_hash: [u8; 32], visitor: Visitor, epoch: u64) {
        self.visitors.put(token_hash, visitor, epoch);
    }

    /// A conversation row. Its `last_seq` may be behind: use it for
    /// authorisation and the descriptor only.
    pub fn conversation(&self, id: &ConversationId) -> Option<ConversationRow> {
        self.conversations.get(id, self.epoch())
    }

    /// Remembers a conversation row loaded at `epoch`.
    pub fn put_conversation(&self, row: ConversationRow, epoch: u64) {
        self.conversations.put(row.id, row, epoch);
    }

    /// Whether `device` was a current device of `user_id`.
    pub fn staff_device(&self, user_id: i64, device: &[u8; 32]) -> bool {
        self.devices
            .get(&(user_id, *device), self.epoch())
            .is_some()
    }

    /// Remembers that `device` is a current device of `user_id` (at `epoch`).
    pub fn put_staff_device(&self, user_id: i64, device: [u8; 32], epoch: u64) {
        self.devices.put((user_id, device), (), epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Visitor;

    #[test]
    fn invalidation_drops_entries_loaded_before_it() {
        let cache = AccessCache::default();
        let v = Visitor {
            visitor_id: 7,
            device_id: [1; 32],
            blocked: false,
        };
        let epoch = cache.epoch();
        cache.put_visitor([9; 32], v.clone(), epoch);
        assert_eq!(cache.visitor(&[9; 32]).map(|v| v.visitor_id), Some(7));
        cache.invalidate();
        assert!(cache.visitor(&[9; 32]).is_none());
        // Loaded before the invalidation but stored after it: not served.
        cache.put_visitor([9; 32], v, epoch);
        assert!(cache.visitor(&[9; 32]).is_none());
    }

    #[test]
    fn staff_devices_are_per_user() {
        let cache = AccessCache::default();
        cache.put_staff_device(1, [2; 32], cache.epoch());
        assert!(cache.staff_device(1, &[2; 32]));
        assert!(!cache.staff_device(2, &[2; 32]));
    }
}
