//! The client's verified view of each inbox (docs/protocol.md §5.3, §6.4).
//!
//! A [`TrustStore`] holds, per inbox, an [`InboxState`] verified from the
//! trust anchor: the organisation and the root key the caller pinned by
//! its [`RootFingerprint`]. Syncing fetches the inbox's statement chains
//! (`GET /api/v1/inboxes/{id}/chain`) and verifies them *into* the state
//! already held, so a server can neither replace nor roll back what this
//! client verified (a shorter or different chain fails with `fork` /
//! `rollback`). Restored checkpoints extend that across restarts.
//!
//! A view older than [`MAX_VIEW_AGE`] is synced again before use, so a
//! membership change (a device removed) reaches this client within that
//! time even if nothing else prompts a sync; callers also sync when an
//! envelope or the server names a statement the view lacks, and before
//! checking envelopes handed to them explicitly.

use crate::error::{Error, Result};
use crate::http::{Auth, Client};
use confide_protocol::generation::SignedGeneration;
use confide_protocol::membership::SignedMembership;
use confide_protocol::root::SignedRootRotation;
use confide_protocol::state::{Chain, Checkpoint, InboxState, TrustAnchor};
use confide_protocol::{InboxId, OrgId, RootPublicKey};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a verified view is used before it is synced again.
pub const MAX_VIEW_AGE: Duration = Duration::from_secs(60);

/// The fingerprint of an organisation's root key, as printed by
/// `confide serve` and put in the embed snippet: 32 bytes, shown as hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RootFingerprint(pub [u8; 32]);

impl RootFingerprint {
    /// Parses 64 hex digits.
    pub fn from_hex(hex_text: &str) -> Result<Self> {
        hex::decode(hex_text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .map(Self)
            .ok_or(Error::InvalidInput(
                "a root fingerprint is 64 hex digits (32 bytes)",
            ))
    }

    /// The fingerprint of `key`.
    pub fn of(key: &RootPublicKey) -> Self {
        Self(key.fingerprint())
    }

    /// Whether `key` has this fingerprint.
    pub fn matches(&self, key: &RootPublicKey) -> bool {
        key.fingerprint() == self.0
    }
}

impl fmt::Debug for RootFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootFingerprint({})", hex::encode(self.0))
    }
}

impl fmt::Display for RootFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// `GET /api/v1/inboxes/{id}/chain`.
#[derive(Deserialize)]
struct ChainResponse {
    rotations: Vec<String>,
    memberships: Vec<String>,
    generations: Vec<String>,
}

fn decode_all<T>(
    hexes: &[String],
    decode: impl Fn(&[u8]) -> confide_protocol::Result<T>,
) -> Result<Vec<T>> {
    hexes
        .iter()
        .map(|h| {
            let bytes = hex::decode(h).map_err(|_| Error::bad_response("statement hex"))?;
            Ok(decode(&bytes)?)
        })
        .collect()
}

/// Verified inbox states, per inbox, from one pinned root key.
pub(crate) struct TrustStore {
    org: OrgId,
    root: RootPublicKey,
    states: Mutex<HashMap<InboxId, (Arc<InboxState>, Instant)>>,
    floors: Mutex<HashMap<InboxId, Checkpoint>>,
}

impl TrustStore {
    pub(crate) fn new(org: OrgId, root: RootPublicKey) -> Self {
        Self {
            org,
            root,
            states: Mutex::new(HashMap::new()),
            floors: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn root(&self) -> RootPublicKey {
        self.root
    }

    fn anchor(&self, inbox: InboxId) -> TrustAnchor {
        TrustAnchor {
            org: self.org,
            inbox,
            root: self.root,
        }
    }

    /// The state last verified for `inbox`, if any.
    pub(crate) fn current(&self, inbox: InboxId) -> Option<Arc<InboxState>> {
        lock(&self.states).get(&inbox).map(|(s, _)| s.clone())
    }

    /// The state last verified for `inbox`, if synced within [`MAX_VIEW_AGE`].
    fn fresh(&self, inbox: InboxId) -> Option<Arc<InboxState>> {
        lock(&self.states)
            .get(&inbox)
            .filter(|(_, at)| at.elapsed() < MAX_VIEW_AGE)
            .map(|(s, _)| s.clone())
    }

    pub(crate) fn checkpoint(&self, inbox: InboxId) -> Option<Checkpoint> {
        self.current(inbox)
            .and_then(|s| s.checkpoint())
            .or_else(|| lock(&self.floors).get(&inbox).copied())
    }

    pub(crate) fn restore(&self, checkpoint: Checkpoint) -> Result<()> {
        // Check the scope now rather than at the next sync.
        InboxState::with_checkpoint(self.anchor(checkpoint.inbox), checkpoint)?;
        lock(&self.floors).insert(checkpoint.inbox, checkpoint);
        Ok(())
    }

    /// Verifies `chain` into the held state of `inbox` (or a fresh one from
    /// the anchor and any restored checkpoint) and keeps the result.
    fn apply(&self, inbox: InboxId, chain: &Chain) -> Result<Arc<InboxState>> {
        let now = crate::now();
        let mut states = lock(&self.states);
        let mut next = match states.get(&inbox) {
            Some((s, _)) => InboxState::clone(s),
            None => match lock(&self.floors).get(&inbox) {
                Some(cp) => InboxState::with_checkpoint(self.anchor(inbox), *cp)?,
                None => InboxState::new(self.anchor(inbox)),
            },
        };
        next.sync(chain, now)?;
        let next = Arc::new(next);
        states.insert(inbox, (next.clone(), Instant::now()));
        Ok(next)
    }
}

/// Fetches `inbox`'s chains and verifies them into `client`'s view.
pub(crate) async fn sync(client: &Client, inbox: InboxId) -> Result<Arc<InboxState>> {
    let path = format!("api/v1/inboxes/{}/chain", inbox.to_hex());
    let res: ChainResponse = client.get(&path, Auth::None).await?;
    let chain = Chain {
        rotations: decode_all(&res.rotations, SignedRootRotation::decode)?,
        memberships: decode_all(&res.memberships, SignedMembership::decode)?,
        generations: decode_all(&res.generations, SignedGeneration::decode)?,
    };
    client.inner.trust.apply(inbox, &chain)
}

/// The held view of `inbox`, syncing first if there is none or it is
/// older than [`MAX_VIEW_AGE`].
pub(crate) async fn view(client: &Client, inbox: InboxId) -> Result<Arc<InboxState>> {
    match client.inner.trust.fresh(inbox) {
        Some(s) => Ok(s),
        None => sync(client, inbox).await,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_and_print() {
        let fp = RootFingerprint([0xab; 32]);
        assert_eq!(RootFingerprint::from_hex(&fp.to_string()).unwrap(), fp);
        assert!(RootFingerprint::from_hex("abcd").is_err());
        assert!(RootFingerprint::from_hex(&"zz".repeat(32)).is_err());
    }
}
