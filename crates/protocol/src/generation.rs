//! Key-generation statements signed by a rotating member (docs/protocol.md §6).
//!
//! A generation gives an inbox a fresh HPKE key pair. Its statement names
//! the membership it serves and carries the private key sealed to every
//! agent and supervisor device of that membership (never to scanners or
//! admins). It is signed by a member device whose role may rotate, so
//! strict mode does not need the offline root key every week.
//!
//! This module builds, encodes, decodes and unseals; chain rules and the
//! signer check live in [`crate::state`].

use crate::codec::{Reader, Writer, strictly_sorted};
use crate::error::{Error, Result, Structure};
use crate::ids::{DeviceId, Generation, InboxId, OrgId, Seq, StatementHash, Timestamp};
use crate::keys::{
    DeviceSecretKey, HpkePublicKey, HpkeSecretKey, SEALED_KEY_LEN, SIGNATURE_LEN, SigningPublicKey,
};
use crate::label::{self, labels};
use crate::membership::{MAX_MEMBERS, VerifiedMembership};
use alloc::vec::Vec;
use rand_core::CryptoRng;

/// The key-generation statement format version.
pub const GENERATION_VERSION: u8 = 1;
/// A generation should be replaced after this many seconds (one week).
pub const MAX_GENERATION_AGE: u64 = 7 * 24 * 60 * 60;

/// The generation private key sealed to one member device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySeal {
    /// The receiving device.
    pub device: DeviceId,
    /// HPKE `enc ‖ ciphertext ‖ tag` of the 32-byte private key.
    pub sealed: [u8; SEALED_KEY_LEN],
}

/// The signed content of a key-generation statement (§6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerationBody {
    /// The organisation.
    pub org: OrgId,
    /// The inbox.
    pub inbox: InboxId,
    /// Generation number, from 0.
    pub generation: Generation,
    /// Hash of the previous generation statement, GENESIS for generation 0.
    pub prev: StatementHash,
    /// Sequence number of the membership this generation serves.
    pub membership_seq: Seq,
    /// Hash of the membership this generation serves.
    pub membership_hash: StatementHash,
    /// The generation's HPKE public key.
    pub public_key: HpkePublicKey,
    /// When it was issued, by the signer's clock (drives weekly rotation only).
    pub issued_at: Timestamp,
    /// The signing member device.
    pub signer: DeviceId,
    /// The private key sealed to each agent and supervisor device, sorted by device.
    pub seals: Vec<KeySeal>,
}

impl GenerationBody {
    /// Creates the next generation for `membership`: a fresh key pair sealed
    /// to its agent and supervisor devices, signed by `signer`. Returns the
    /// statement and the private key (which the caller zeroizes by dropping
    /// once it has used or stored it sealed).
    pub fn issue(
        membership: &VerifiedMembership,
        previous: Option<(Generation, StatementHash)>,
        signer: &DeviceSecretKey,
        now: Timestamp,
        rng: &mut impl CryptoRng,
    ) -> Result<(SignedGeneration, HpkeSecretKey)> {
        let m = membership.body();
        let (generation, prev) = match previous {
            None => (Generation(0), StatementHash::GENESIS),
            Some((g, h)) => (
                Generation(g.0.checked_add(1).ok_or(Error::InvalidField {
                    structure: Structure::Generation,
                    field: "generation",
                })?),
                h,
            ),
        };
        let secret = HpkeSecretKey::generate(rng);
        let public_key = secret.public_key();
        let mut seals = Vec::new();
        for member in m.inbox_readers() {
            let device = member.device_id();
            let sealed = member.identity.hpke.seal(
                &seal_info(m.org, m.inbox, generation, &device),
                &public_key.0,
                secret.dangerous_expose_bytes(),
                rng,
            )?;
            let sealed: [u8; SEALED_KEY_LEN] =
                sealed.try_into().map_err(|_| Error::InvalidField {
                    structure: Structure::Generation,
                    field: "seal",
                })?;
            seals.push(KeySeal { device, sealed });
        }
        seals.sort_by_key(|s| s.device);
        let body = GenerationBody {
            org: m.org,
            inbox: m.inbox,
            generation,
            prev,
            membership_seq: m.seq,
            membership_hash: membership.hash(),
            public_key,
            issued_at: now,
            signer: signer.device_id(),
            seals,
        };
        let body_bytes = body.encode()?;
        let signature = signer.sign(labels::GENERATION_SIG, &body_bytes);
        Ok((
            SignedGeneration {
                body,
                body_bytes,
                signature,
            },
            secret,
        ))
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.seals.len() > MAX_MEMBERS {
            return Err(Error::TooLarge {
                structure: Structure::Generation,
                field: "seals",
            });
        }
        if !strictly_sorted(self.seals.iter().map(|s| s.device)) {
            return Err(Error::NotCanonical {
                structure: Structure::Generation,
                field: "seals",
            });
        }
        let mut w = Writer::with_capacity(256 + self.seals.len() * (32 + SEALED_KEY_LEN));
        w.u8(GENERATION_VERSION);
        w.raw(&self.org.0);
        w.raw(&self.inbox.0);
        w.u64(self.generation.0);
        w.raw(&self.prev.0);
        w.u64(self.membership_seq.0);
        w.raw(&self.membership_hash.0);
        w.raw(&self.public_key.0);
        w.u64(self.issued_at.0);
        w.raw(&self.signer.0);
        w.count16(self.seals.len());
        for s in &self.seals {
            w.raw(&s.device.0);
            w.raw(&s.sealed);
        }
        Ok(w.into_vec())
    }

    /// Decodes exactly one body.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::Generation);
        let version = r.u8()?;
        if version != GENERATION_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let org = OrgId(r.array()?);
        let inbox = InboxId(r.array()?);
        let generation = Generation(r.u64()?);
        let prev = StatementHash(r.array()?);
        let membership_seq = Seq(r.u64()?);
        let membership_hash = StatementHash(r.array()?);
        let public_key = HpkePublicKey(r.array()?);
        let issued_at = Timestamp(r.u64()?);
        let signer = DeviceId(r.array()?);
        let n = r.count16("seals", MAX_MEMBERS)?;
        let mut seals = Vec::with_capacity(n);
        for _ in 0..n {
            let device = DeviceId(r.array()?);
            let sealed = r.array()?;
            seals.push(KeySeal { device, sealed });
        }
        r.finish()?;
        if !strictly_sorted(seals.iter().map(|s| s.device)) {
            return Err(Error::NotCanonical {
                structure: Structure::Generation,
                field: "seals",
            });
        }
        if (generation.0 == 0) != (prev == StatementHash::GENESIS) {
            return Err(Error::InvalidField {
                structure: Structure::Generation,
                field: "prev_hash",
            });
        }
        Ok(Self {
            org,
            inbox,
            generation,
            prev,
            membership_seq,
            membership_hash,
            public_key,
            issued_at,
            signer,
            seals,
        })
    }
}

/// HPKE `info` for sealing generation `g`'s key to `device`:
/// `signing_input("confide/v1/generation-seal", org ‖ inbox ‖ u64 g ‖ device)`.
fn seal_info(org: OrgId, inbox: InboxId, g: Generation, device: &DeviceId) -> Vec<u8> {
    let mut data = Vec::with_capacity(16 + 16 + 8 + 32);
    data.extend_from_slice(&org.0);
    data.extend_from_slice(&inbox.0);
    data.extend_from_slice(&g.0.to_be_bytes());
    data.extend_from_slice(&device.0);
    label::signing_input(labels::GENERATION_SEAL, &data)
}

/// A key-generation statement: body and the signer's signature (§6.2). Not
/// yet verified; [`crate::state::InboxState`] verifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedGeneration {
    body: GenerationBody,
    body_bytes: Vec<u8>,
    signature: [u8; SIGNATURE_LEN],
}

impl SignedGeneration {
    /// Wire encoding: `opaque32 body ‖ signature[64]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(self.body_bytes.len() + 4 + SIGNATURE_LEN);
        w.opaque32(&self.body_bytes);
        w.raw(&self.signature);
        w.into_vec()
    }

    /// Decodes exactly one statement.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::Generation);
        let body_bytes = r.opaque32("body", 512 + MAX_MEMBERS * (32 + SEALED_KEY_LEN))?;
        let signature = r.array()?;
        r.finish()?;
        let body = GenerationBody::decode(body_bytes)?;
        Ok(Self {
            body,
            body_bytes: body_bytes.to_vec(),
            signature,
        })
    }

    /// The body (not yet verified unless reached through a verified type).
    pub fn body(&self) -> &GenerationBody {
        &self.body
    }

    /// `H("confide/v1/generation-hash", body)`.
    pub fn hash(&self) -> StatementHash {
        StatementHash(label::hash(labels::GENERATION_HASH, &[&self.body_bytes]))
    }

    pub(crate) fn verify_signature(&self, signer: &SigningPublicKey) -> Result<()> {
        signer.verify(
            labels::GENERATION_SIG,
            &self.body_bytes,
            &self.signature,
            Structure::Generation,
        )
    }
}

/// A key-generation statement verified by [`crate::state::InboxState`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedGeneration {
    pub(crate) signed: SignedGeneration,
    pub(crate) hash: StatementHash,
}

impl VerifiedGeneration {
    /// The verified body.
    pub fn body(&self) -> &GenerationBody {
        &self.signed.body
    }

    /// Its hash.
    pub fn hash(&self) -> StatementHash {
        self.hash
    }

    /// The signed statement, e.g. to store or forward.
    pub fn signed(&self) -> &SignedGeneration {
        &self.signed
    }

    /// Unseals this generation's private key with `device`'s HPKE key and
    /// checks that it matches the statement's public key (§6.3).
    pub fn unseal(&self, device: &DeviceSecretKey) -> Result<HpkeSecretKey> {
        let b = self.body();
        let id = device.device_id();
        let seal = b
            .seals
            .iter()
            .find(|s| s.device == id)
            .ok_or(Error::NotAGenerationRecipient)?;
        let plain = device.hpke().open(
            &seal_info(b.org, b.inbox, b.generation, &id),
            &b.public_key.0,
            &seal.sealed,
        )?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| Error::GenerationKeyMismatch)?;
        let secret = HpkeSecretKey::dangerous_from_bytes(bytes);
        if secret.public_key() != b.public_key {
            return Err(Error::GenerationKeyMismatch);
        }
        Ok(secret)
    }
}
