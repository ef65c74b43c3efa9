//! Verified inbox statements for envelope checks, cached per inbox.
//!
//! Checking an envelope (docs/protocol.md §9.1) needs the inbox's
//! [`InboxState`], verified from the organisation's root key. Verifying the
//! whole chain per envelope would cost a signature check per statement, so
//! the state is kept per inbox together with the chain heads it was built
//! from (highest membership seq, highest generation). Every lookup reads
//! the current heads from the database (one indexed query) and rebuilds the
//! state when they moved, so a statement published by any code path or any
//! process is in force for the next envelope.
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

/// Chain heads a state was verified at: (membership seq, generation), -1 for none.
type Heads = (i64, i64);

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
        let heads: Heads = sqlx::query_as(
            "SELECT COALESCE((SELECT max(seq) FROM membership_statement WHERE inbox_id = ?), -1), \
             COALESCE((SELECT max(generation) FROM generation_statement WHERE inbox_id = ?), -1)",
        )
        .bind(inbox.0.as_slice())
        .bind(inbox.0.as_slice())
        .fetch_one(pool)
        .await?;
        if let Some((cached, state)) = self.lock().get(&inbox)
            && *cached == heads
        {
            return Ok(state.clone());
        }
        let chain = load_chain(pool, inbox).await?;
        let mut state = InboxState::new(anchor);
        state.sync(&chain, now)?;
        let state = Arc::new(state);
        self.lock().insert(inbox, (heads, state.clone()));
        Ok(state)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<InboxId, (Heads, Arc<InboxState>)>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
