//! Root-key rotation statements (docs/protocol.md §5.4).
//!
//! The organisation replaces its root key with a statement signed by the old
//! root (authority) and by the new root (proof of possession). Rotations
//! form their own hash chain of *epochs*; epoch 0 is the root pinned in the
//! embed snippet. Chain rules live in [`crate::state`].

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::ids::{OrgId, StatementHash, Timestamp};
use crate::keys::{RootPublicKey, RootSecretKey, SIGNATURE_LEN};
use crate::label::{self, labels};
use alloc::vec::Vec;

/// The root-rotation format version.
pub const ROOT_ROTATION_VERSION: u8 = 1;
const BODY_LEN: usize = 1 + 16 + 8 + 32 + 32 + 32 + 8;

/// The signed content of a root rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootRotationBody {
    /// The organisation.
    pub org: OrgId,
    /// The epoch the new key starts (previous epoch + 1).
    pub epoch: u64,
    /// Hash of the previous rotation, GENESIS for epoch 1.
    pub prev: StatementHash,
    /// The key being replaced.
    pub old_root: RootPublicKey,
    /// The new key.
    pub new_root: RootPublicKey,
    /// When it was issued (informational).
    pub issued_at: Timestamp,
}

impl RootRotationBody {
    /// Canonical encoding (fixed size).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(BODY_LEN);
        w.u8(ROOT_ROTATION_VERSION);
        w.raw(&self.org.0);
        w.u64(self.epoch);
        w.raw(&self.prev.0);
        w.raw(&self.old_root.to_bytes());
        w.raw(&self.new_root.to_bytes());
        w.u64(self.issued_at.0);
        w.into_vec()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u8()?;
        if version != ROOT_ROTATION_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        Ok(Self {
            org: OrgId(r.array()?),
            epoch: r.u64()?,
            prev: StatementHash(r.array()?),
            old_root: RootPublicKey::from_bytes(&r.array()?)?,
            new_root: RootPublicKey::from_bytes(&r.array()?)?,
            issued_at: Timestamp(r.u64()?),
        })
    }

    /// Signs with the old root and the new root.
    pub fn sign(&self, old: &RootSecretKey, new: &RootSecretKey) -> SignedRootRotation {
        let bytes = self.encode();
        SignedRootRotation {
            body: self.clone(),
            old_signature: old.sign(labels::ROOT_ROTATION_SIG, &bytes),
            new_signature: new.sign(labels::ROOT_ROTATION_ACCEPT_SIG, &bytes),
        }
    }
}

/// A root rotation with both signatures; verified by [`crate::state::InboxState`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRootRotation {
    body: RootRotationBody,
    old_signature: [u8; SIGNATURE_LEN],
    new_signature: [u8; SIGNATURE_LEN],
}

impl SignedRootRotation {
    /// Wire encoding: `body ‖ old_signature[64] ‖ new_signature[64]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body.encode();
        out.extend_from_slice(&self.old_signature);
        out.extend_from_slice(&self.new_signature);
        out
    }

    /// Decodes exactly one rotation.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::RootRotation);
        let body = RootRotationBody::read(&mut r)?;
        let old_signature = r.array()?;
        let new_signature = r.array()?;
        r.finish()?;
        Ok(Self {
            body,
            old_signature,
            new_signature,
        })
    }

    /// The body (unverified).
    pub fn body(&self) -> &RootRotationBody {
        &self.body
    }

    /// `H("confide/v1/root-rotation-hash", body)`.
    pub fn hash(&self) -> StatementHash {
        StatementHash(label::hash(
            labels::ROOT_ROTATION_HASH,
            &[&self.body.encode()],
        ))
    }

    /// Checks both signatures; `current` is the root the verifier trusts now.
    pub(crate) fn verify(&self, current: &RootPublicKey) -> Result<()> {
        if self.body.old_root != *current {
            return Err(Error::WrongSigner(Structure::RootRotation));
        }
        let bytes = self.body.encode();
        current.0.verify(
            labels::ROOT_ROTATION_SIG,
            &bytes,
            &self.old_signature,
            Structure::RootRotation,
        )?;
        self.body.new_root.0.verify(
            labels::ROOT_ROTATION_ACCEPT_SIG,
            &bytes,
            &self.new_signature,
            Structure::RootRotation,
        )
    }
}
