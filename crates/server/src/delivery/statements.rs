//! Verified inbox statements for envelope checks, cached per inbox.
//!
//! Checking an envelope (docs/protocol.md §9.1) needs the inbox's
//! [`InboxState`], verified from the organisation's root key. Verifying the
//! whole chain per envelope would cost a signature check per statement, so
//! the state is kept per inbox together with the value of
//! `managed::publications()` it was built at. `managed::publish` is the
//! only code that stores statements and bumps that counter after each
//! commit, so a lookup that finds the counter unchanged serves the cached
//! state without touching the database, and a statement just published is
//! in force for the next envelope. Entries are also rebuilt after
//! [`MAX_AGE`], so that time-based validity is re-evaluated.
//!
//! Non-goals: serving chains to clients (`crate::api::devices`); signing
//! statements (`crate::managed`).

use crate::managed::{PublishError, load_chain};
use confide_protocol::InboxId;
use confide_protocol::Timestamp;
use confide_protocol::state::{InboxState, TrustAnchor};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Longest a cached state is served without rebuilding it.
pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The publication counter and the instant a state was built at.
type Heads = (u64, std::time::Instant);

/// The cache of verified inbox states.
#[derive(Default)]
pub struct InboxStates {
    states: Mutex<HashMap<InboxId, (Heads, Arc<InboxState>)>>,
}

impl std::fmt::Debug for InboxStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxStates").finish_non_exhaustive()
    }
}

impl InboxStates {
    /// The verified state of `anchor.inbox` as stored now, verified at `now`.
    pub async fn get(
        &self,
        pool: &SqlitePool,
        anchor: TrustAnchor,
        now: Timestamp,
    ) -> Result<Arc<InboxState>, PublishError> {
        let inbox = anchor.inbox;
        let publications = crate::managed::publications();
        if let Some(((at, built), state)) = self.lock().get(&inbox)
            && *at == publications
            && built.elapsed() < MAX_AGE
        {
            return Ok(state.clone());
        }
        let chain = load_chain(pool, inbox).await?;
        let mut state = InboxState::new(anchor);
        state.sync(&chain, now)?;
        let state = Arc::new(state);
        let heads = (publications, std::time::Instant::now());
        self.lock().insert(inbox, (heads, state.clone()));
        Ok(state)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<InboxId, (Heads, Arc<InboxState>)>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
