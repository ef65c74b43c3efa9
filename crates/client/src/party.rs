//! One party of a conversation as the SDK holds it: the connection, the
//! session token, the device key and — for staff devices — the inbox
//! generation keys unsealed for it (docs/protocol.md §6.3) or granted to
//! it (§6.6).
//!
//! Generation keys are unsealed on this device right after each sync of an
//! inbox's statements; they live only in memory, zeroize on drop and never
//! leave the device except sealed in a grant. Non-goal: persistence of
//! keys (the caller stores the device key; generation keys are re-unsealed
//! from the statements at each start).

use crate::error::Result;
use crate::http::{Auth, Client, Secret};
use crate::trust;
use confide_protocol::envelope::{Opened, RecipientKeys, VerifiedEnvelope};
use confide_protocol::grant::SignedGrant;
use confide_protocol::state::InboxState;
use confide_protocol::{DeviceSecretKey, Generation, HpkeSecretKey, InboxId, RecipientId};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

/// Who a session authenticates as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    /// An anonymous visitor session.
    Visitor {
        /// The server's visitor id.
        visitor_id: i64,
    },
    /// A staff session.
    Staff {
        /// The server's user id.
        user_id: i64,
    },
}

/// A session plus a device key.
pub(crate) struct Party {
    pub(crate) client: Client,
    pub(crate) token: Arc<Secret>,
    pub(crate) principal: Principal,
    pub(crate) device: DeviceSecretKey,
    keys: Mutex<GenerationKeys>,
}

#[derive(Default)]
struct GenerationKeys {
    keys: BTreeMap<RecipientId, HpkeSecretKey>,
    tried: HashSet<(InboxId, Generation)>,
}

/// The keys an opening may use: the device's own HPKE key, then the
/// generation keys.
struct Keys<'a> {
    device: &'a DeviceSecretKey,
    generations: &'a BTreeMap<RecipientId, HpkeSecretKey>,
}

impl RecipientKeys for Keys<'_> {
    fn secret_for(&self, id: &RecipientId) -> Option<&HpkeSecretKey> {
        self.device
            .secret_for(id)
            .or_else(|| self.generations.get(id))
    }
}

impl Party {
    pub(crate) fn new(
        client: Client,
        token: Arc<Secret>,
        principal: Principal,
        device: DeviceSecretKey,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            token,
            principal,
            device,
            keys: Mutex::new(GenerationKeys::default()),
        })
    }

    pub(crate) fn auth(&self) -> Auth<'_> {
        auth(&self.token, self.principal)
    }

    pub(crate) fn is_staff(&self) -> bool {
        matches!(self.principal, Principal::Staff { .. })
    }

    /// The `X-Confide-Device` value staff sends carry.
    pub(crate) fn device_header(&self) -> Option<String> {
        self.is_staff().then(|| self.device.device_id().to_hex())
    }

    /// Fetches and verifies `inbox`'s statements, then unseals new generations.
    pub(crate) async fn sync(&self, inbox: InboxId) -> Result<Arc<InboxState>> {
        let state = trust::sync(&self.client, inbox).await?;
        self.unseal(inbox, &state);
        Ok(state)
    }

    /// The held view of `inbox` (synced if there is none yet).
    pub(crate) async fn view(&self, inbox: InboxId) -> Result<Arc<InboxState>> {
        let state = trust::view(&self.client, inbox).await?;
        self.unseal(inbox, &state);
        Ok(state)
    }

    /// Unseals every generation of `state` sealed to this (staff) device
    /// that was not tried yet. Visitors are never generation recipients.
    fn unseal(&self, inbox: InboxId, state: &InboxState) {
        if !self.is_staff() {
            return;
        }
        let me = self.device.device_id();
        let mut keys = self.lock();
        for g in state.generations() {
            let number = g.body().generation;
            if !keys.tried.insert((inbox, number)) {
                continue;
            }
            if !g.body().seals.iter().any(|s| s.device == me) {
                continue;
            }
            match g.unseal(&self.device) {
                Ok(key) => {
                    keys.keys.insert(key.public_key().recipient_id(), key);
                }
                Err(e) => {
                    tracing::warn!(inbox = %inbox, generation = number.0, code = e.code(), "a generation sealed to this device does not open");
                }
            }
        }
    }

    /// Decrypts a verified envelope with this device's keys.
    pub(crate) fn decrypt(&self, verified: VerifiedEnvelope) -> Result<Opened> {
        let keys = self.lock();
        let ring = Keys {
            device: &self.device,
            generations: &keys.keys,
        };
        Ok(verified.decrypt(&ring)?)
    }

    /// Checks a grant (§6.6) against the view of its inbox and keeps the key.
    pub(crate) async fn accept_grant(&self, grant: &SignedGrant) -> Result<Generation> {
        let inbox = grant.body().inbox;
        let mut state = self.view(inbox).await?;
        if state.generation(grant.body().generation).is_none() {
            state = self.sync(inbox).await?;
        }
        let key = grant.accept(&state, &self.device)?;
        self.lock()
            .keys
            .insert(key.public_key().recipient_id(), key);
        Ok(grant.body().generation)
    }

    /// Seals the key of `generation` of `inbox`, which this device holds,
    /// to `grantee` (a reader of the head membership).
    pub(crate) async fn issue_grant(
        &self,
        inbox: InboxId,
        generation: Generation,
        grantee: &confide_protocol::DeviceId,
    ) -> Result<SignedGrant> {
        let state = self.sync(inbox).await?;
        let g = state
            .generation(generation)
            .ok_or(confide_protocol::Error::UnknownStatement)?;
        let keys = self.lock();
        let key = keys
            .keys
            .get(&g.body().public_key.recipient_id())
            .ok_or(confide_protocol::Error::NotAGenerationRecipient)?;
        Ok(SignedGrant::issue(
            &state,
            g,
            key,
            &self.device,
            grantee,
            &mut crate::rng(),
        )?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GenerationKeys> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn auth(token: &Secret, principal: Principal) -> Auth<'_> {
    match principal {
        Principal::Visitor { .. } => Auth::Visitor(token),
        Principal::Staff { .. } => Auth::Bearer(token),
    }
}
