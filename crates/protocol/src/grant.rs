//! Generation-key grants: how a device that joins an inbox reads
//! conversations sealed to generations issued before it joined
//! (docs/protocol.md §6.6).
//!
//! A generation's private key is sealed only to the readers of the
//! membership it served. When a new agent or supervisor device joins, a
//! device that holds an older generation key (a reader of that generation)
//! seals it to the newcomer and signs a [`SignedGrant`]. The newcomer
//! accepts it only if the granter really received that generation, the
//! grantee (itself) is a reader of the receiver's head membership, and the
//! unsealed key matches the generation's public key.
//!
//! Non-goal: revocation. A grant cannot be taken back; removing a device
//! starts a new generation it never receives. Retention is by retiring
//! (shredding) old generations everywhere, grants included.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::generation::VerifiedGeneration;
use crate::ids::{DeviceId, Generation, InboxId, OrgId, StatementHash};
use crate::keys::{DeviceSecretKey, HpkeSecretKey, SEALED_KEY_LEN, SIGNATURE_LEN};
use crate::label::{self, labels};
use crate::state::InboxState;
use alloc::vec::Vec;
use rand_core::CryptoRng;

/// The grant format version.
pub const GRANT_VERSION: u8 = 1;
const BODY_LEN: usize = 1 + 16 + 16 + 8 + 32 + 32 + 32 + SEALED_KEY_LEN;

/// The signed content of a grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantBody {
    /// The organisation.
    pub org: OrgId,
    /// The inbox.
    pub inbox: InboxId,
    /// The generation whose key is granted.
    pub generation: Generation,
    /// That generation statement's hash.
    pub generation_hash: StatementHash,
    /// The device granting (a reader of that generation).
    pub granter: DeviceId,
    /// The device receiving the key.
    pub grantee: DeviceId,
    /// The generation private key, HPKE-sealed to the grantee.
    pub sealed: [u8; SEALED_KEY_LEN],
}

impl GrantBody {
    /// Canonical encoding (fixed size).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(BODY_LEN);
        w.u8(GRANT_VERSION);
        w.raw(&self.org.0);
        w.raw(&self.inbox.0);
        w.u64(self.generation.0);
        w.raw(&self.generation_hash.0);
        w.raw(&self.granter.0);
        w.raw(&self.grantee.0);
        w.raw(&self.sealed);
        w.into_vec()
    }
}

/// A grant with the granter's signature; checked by [`SignedGrant::accept`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedGrant {
    body: GrantBody,
    signature: [u8; SIGNATURE_LEN],
}

/// HPKE `info` of a grant: `signing_input("confide/v1/generation-grant-seal",
/// org ‖ inbox ‖ u64 generation ‖ grantee)`; the `aad` is the generation's public key.
fn seal_info(org: OrgId, inbox: InboxId, g: Generation, grantee: &DeviceId) -> Vec<u8> {
    let mut data = Vec::with_capacity(16 + 16 + 8 + 32);
    data.extend_from_slice(&org.0);
    data.extend_from_slice(&inbox.0);
    data.extend_from_slice(&g.0.to_be_bytes());
    data.extend_from_slice(&grantee.0);
    label::signing_input(labels::GENERATION_GRANT_SEAL, &data)
}

impl SignedGrant {
    /// Grants `key` (the private key of `generation`, held by `granter`) to
    /// the reader device `grantee` of the head membership of `state`.
    pub fn issue(
        state: &InboxState,
        generation: &VerifiedGeneration,
        key: &HpkeSecretKey,
        granter: &DeviceSecretKey,
        grantee: &DeviceId,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let g = generation.body();
        if key.public_key() != g.public_key {
            return Err(Error::GenerationKeyMismatch);
        }
        let head = state.head_membership().ok_or(Error::UnknownStatement)?;
        let member = head
            .body()
            .member(grantee)
            .filter(|m| m.role.reads_inbox())
            .ok_or(Error::NotAGenerationRecipient)?;
        let sealed = member.identity.hpke.seal(
            &seal_info(g.org, g.inbox, g.generation, grantee),
            &g.public_key.0,
            key.dangerous_expose_bytes(),
            rng,
        )?;
        let body = GrantBody {
            org: g.org,
            inbox: g.inbox,
            generation: g.generation,
            generation_hash: generation.hash(),
            granter: granter.device_id(),
            grantee: *grantee,
            sealed: sealed.try_into().map_err(|_| Error::InvalidPublicKey)?,
        };
        let signature = granter.sign(labels::GENERATION_GRANT_SIG, &body.encode());
        Ok(Self { body, signature })
    }

    /// Wire encoding: `body ‖ signature[64]` (fixed size).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body.encode();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes exactly one grant.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::Grant);
        let version = r.u8()?;
        if version != GRANT_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let body = GrantBody {
            org: OrgId(r.array()?),
            inbox: InboxId(r.array()?),
            generation: Generation(r.u64()?),
            generation_hash: StatementHash(r.array()?),
            granter: DeviceId(r.array()?),
            grantee: DeviceId(r.array()?),
            sealed: r.array()?,
        };
        let signature = r.array()?;
        r.finish()?;
        Ok(Self { body, signature })
    }

    /// The body (unverified).
    pub fn body(&self) -> &GrantBody {
        &self.body
    }

    /// What the grantee runs (§6.6), in order: scope; the generation is
    /// verified in `state` with that hash; the grantee is `me` and a reader
    /// of the head membership; the granter received that generation (is
    /// among its seals) and is a member of the membership it served;
    /// signature; unseal; the key matches the generation's public key.
    pub fn accept(&self, state: &InboxState, me: &DeviceSecretKey) -> Result<HpkeSecretKey> {
        let b = &self.body;
        let anchor = state.anchor();
        if b.org != anchor.org || b.inbox != anchor.inbox {
            return Err(Error::WrongScope(Structure::Grant));
        }
        let generation = state
            .generation(b.generation)
            .filter(|g| g.hash() == b.generation_hash)
            .ok_or(Error::UnknownStatement)?;
        let me_id = me.device_id();
        let head = state.head_membership().ok_or(Error::UnknownStatement)?;
        if b.grantee != me_id
            || !head
                .body()
                .member(&me_id)
                .is_some_and(|m| m.role.reads_inbox())
        {
            return Err(Error::NotAGenerationRecipient);
        }
        let g = generation.body();
        if !g.seals.iter().any(|s| s.device == b.granter) {
            return Err(Error::WrongSigner(Structure::Grant));
        }
        let served = state
            .membership_by_hash(&g.membership_hash)
            .ok_or(Error::UnknownStatement)?;
        let granter = served
            .body()
            .member(&b.granter)
            .ok_or(Error::WrongSigner(Structure::Grant))?;
        granter.identity.signing.verify(
            labels::GENERATION_GRANT_SIG,
            &b.encode(),
            &self.signature,
            Structure::Grant,
        )?;
        let plain = me.hpke().open(
            &seal_info(b.org, b.inbox, b.generation, &me_id),
            &g.public_key.0,
            &b.sealed,
        )?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| Error::GenerationKeyMismatch)?;
        let key = HpkeSecretKey::dangerous_from_bytes(bytes);
        if key.public_key() != g.public_key {
            return Err(Error::GenerationKeyMismatch);
        }
        Ok(key)
    }
}
