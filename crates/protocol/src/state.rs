//! A client's verified view of one inbox: root epochs, membership and
//! key-generation chains, and the checkpoint that stops rollback
//! (docs/protocol.md §5.3, §6.4).
//!
//! [`InboxState`] is the only place statements become `Verified*`. Clients
//! keep a [`Checkpoint`] (the highest heads they verified) and verify every
//! statement the server serves from the trust anchor, through the
//! checkpoint: a statement that conflicts with what was verified is a
//! *fork*, a chain that ends below the checkpoint is a *rollback*.
//!
//! Non-goal: fetching statements. The caller brings them.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::generation::{MAX_GENERATION_AGE, SignedGeneration, VerifiedGeneration};
use crate::ids::{Generation, InboxId, OrgId, Seq, StatementHash, Timestamp};
use crate::keys::RootPublicKey;
use crate::membership::{SignedMembership, VerifiedMembership};
use crate::root::SignedRootRotation;
use alloc::vec::Vec;

/// What a client trusts before it has seen any statement: the organisation,
/// the inbox and the root key pinned at epoch 0 (from the embed snippet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The organisation.
    pub org: OrgId,
    /// The inbox.
    pub inbox: InboxId,
    /// The pinned root key (epoch 0).
    pub root: RootPublicKey,
}

/// The highest heads a client has verified (§5.3). Encoding:
/// `u8 version=1 ‖ org[16] ‖ inbox[16] ‖ u64 root_epoch ‖ root_head[32] ‖
/// u64 membership_seq ‖ membership_hash[32] ‖ u8 has_generation ‖
/// [u64 generation ‖ generation_hash[32]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The organisation.
    pub org: OrgId,
    /// The inbox.
    pub inbox: InboxId,
    /// Highest verified root epoch.
    pub root_epoch: u64,
    /// Hash of the rotation that started it (GENESIS at epoch 0).
    pub root_head: StatementHash,
    /// Highest verified membership.
    pub membership: (Seq, StatementHash),
    /// Highest verified generation, if any.
    pub generation: Option<(Generation, StatementHash)>,
}

impl Checkpoint {
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(160);
        w.u8(1);
        w.raw(&self.org.0);
        w.raw(&self.inbox.0);
        w.u64(self.root_epoch);
        w.raw(&self.root_head.0);
        w.u64(self.membership.0.0);
        w.raw(&self.membership.1.0);
        match self.generation {
            None => w.u8(0),
            Some((g, h)) => {
                w.u8(1);
                w.u64(g.0);
                w.raw(&h.0);
            }
        }
        w.into_vec()
    }

    /// Decodes exactly one checkpoint.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::Checkpoint);
        if r.u8()? != 1 {
            return Err(r.invalid("version"));
        }
        let org = OrgId(r.array()?);
        let inbox = InboxId(r.array()?);
        let root_epoch = r.u64()?;
        let root_head = StatementHash(r.array()?);
        let membership = (Seq(r.u64()?), StatementHash(r.array()?));
        let generation = if r.option_tag("generation")? {
            Some((Generation(r.u64()?), StatementHash(r.array()?)))
        } else {
            None
        };
        r.finish()?;
        Ok(Self {
            org,
            inbox,
            root_epoch,
            root_head,
            membership,
            generation,
        })
    }
}

/// Why the inbox needs a new key generation (§6.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationReason {
    /// No generation exists yet.
    Initial,
    /// The membership changed (a device joined or left, a role changed).
    MembershipChanged,
    /// The head generation is older than a week.
    Weekly,
}

/// The statements a server serves for one inbox, in chain order.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    /// Root rotations, epoch 1 first.
    pub rotations: Vec<SignedRootRotation>,
    /// Membership statements, seq 0 first.
    pub memberships: Vec<SignedMembership>,
    /// Key-generation statements, generation 0 first.
    pub generations: Vec<SignedGeneration>,
}

/// A client's verified view of one inbox.
#[derive(Clone, Debug)]
pub struct InboxState {
    anchor: TrustAnchor,
    floor: Option<Checkpoint>,
    /// Root keys by epoch; index 0 is the anchor's.
    roots: Vec<RootPublicKey>,
    root_head: StatementHash,
    memberships: Vec<VerifiedMembership>,
    generations: Vec<VerifiedGeneration>,
}

impl InboxState {
    /// A state that trusts only `anchor` and has verified nothing yet.
    pub fn new(anchor: TrustAnchor) -> Self {
        Self {
            anchor,
            floor: None,
            roots: alloc::vec![anchor.root],
            root_head: StatementHash::GENESIS,
            memberships: Vec::new(),
            generations: Vec::new(),
        }
    }

    /// A state for a client that earlier verified up to `checkpoint`: any
    /// chain it accepts must pass through the checkpoint's heads.
    pub fn with_checkpoint(anchor: TrustAnchor, checkpoint: Checkpoint) -> Result<Self> {
        if checkpoint.org != anchor.org || checkpoint.inbox != anchor.inbox {
            return Err(Error::WrongScope(Structure::Checkpoint));
        }
        let mut s = Self::new(anchor);
        s.floor = Some(checkpoint);
        Ok(s)
    }

    /// Verifies `chain` from the trust anchor (statements already verified
    /// are accepted again if identical) and, only if all of it verifies and
    /// reaches the checkpoint, makes it this state. On error nothing changes.
    pub fn sync(&mut self, chain: &Chain, now: Timestamp) -> Result<()> {
        let mut next = self.clone();
        for r in &chain.rotations {
            next.apply_rotation(r)?;
        }
        for m in &chain.memberships {
            next.apply_membership(m)?;
        }
        for g in &chain.generations {
            next.apply_generation(g)?;
        }
        next.check_reached(now)?;
        *self = next;
        Ok(())
    }

    /// The highest verified heads, to persist.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        let m = self.memberships.last()?;
        Some(Checkpoint {
            org: self.anchor.org,
            inbox: self.anchor.inbox,
            root_epoch: self.root_epoch(),
            root_head: self.root_head,
            membership: (m.body().seq, m.hash()),
            generation: self
                .generations
                .last()
                .map(|g| (g.body().generation, g.hash())),
        })
    }

    /// The trust anchor.
    pub fn anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// The current root key.
    pub fn root(&self) -> RootPublicKey {
        self.roots.last().copied().unwrap_or(self.anchor.root)
    }

    /// The current root epoch.
    pub fn root_epoch(&self) -> u64 {
        (self.roots.len() as u64).saturating_sub(1)
    }

    /// The head membership, if any was verified.
    pub fn head_membership(&self) -> Option<&VerifiedMembership> {
        self.memberships.last()
    }

    /// The head generation, if any was verified.
    pub fn head_generation(&self) -> Option<&VerifiedGeneration> {
        self.generations.last()
    }

    /// The verified membership with this hash.
    pub fn membership_by_hash(&self, hash: &StatementHash) -> Option<&VerifiedMembership> {
        self.memberships.iter().rev().find(|m| m.hash == *hash)
    }

    /// The verified generation with this number.
    pub fn generation(&self, g: Generation) -> Option<&VerifiedGeneration> {
        usize::try_from(g.0)
            .ok()
            .and_then(|i| self.generations.get(i))
    }

    /// All verified generations, oldest first.
    pub fn generations(&self) -> &[VerifiedGeneration] {
        &self.generations
    }

    /// Whether a new key generation is required now (§6.5).
    pub fn rotation_needed(&self, now: Timestamp) -> Option<RotationReason> {
        let m = self.head_membership()?;
        let Some(g) = self.head_generation() else {
            return Some(RotationReason::Initial);
        };
        if g.body().membership_hash != m.hash() {
            return Some(RotationReason::MembershipChanged);
        }
        if now.0 > g.body().issued_at.0.saturating_add(MAX_GENERATION_AGE) {
            return Some(RotationReason::Weekly);
        }
        None
    }

    fn apply_rotation(&mut self, r: &SignedRootRotation) -> Result<()> {
        let b = r.body();
        if b.org != self.anchor.org {
            return Err(Error::WrongScope(Structure::RootRotation));
        }
        let epoch = self.root_epoch();
        if b.epoch <= epoch {
            // Already verified: must be the very same rotation.
            let known = usize::try_from(b.epoch)
                .ok()
                .and_then(|i| self.roots.get(i))
                .copied();
            return if b.epoch >= 1 && known == Some(b.new_root) {
                Ok(())
            } else {
                Err(Error::Fork(Structure::RootRotation))
            };
        }
        if b.epoch != epoch + 1 || b.prev != self.root_head {
            return Err(Error::BrokenChain(Structure::RootRotation));
        }
        r.verify(&self.root())?;
        let hash = r.hash();
        if let Some(cp) = &self.floor
            && cp.root_epoch == b.epoch
            && cp.root_head != hash
        {
            return Err(Error::Fork(Structure::RootRotation));
        }
        self.roots.push(b.new_root);
        self.root_head = hash;
        Ok(())
    }

    fn apply_membership(&mut self, s: &SignedMembership) -> Result<()> {
        let b = s.body();
        if b.org != self.anchor.org || b.inbox != self.anchor.inbox {
            return Err(Error::WrongScope(Structure::Membership));
        }
        let hash = s.hash();
        let len = self.memberships.len() as u64;
        if b.seq.0 < len {
            let known = usize::try_from(b.seq.0)
                .ok()
                .and_then(|i| self.memberships.get(i));
            return match known {
                Some(k) if k.hash == hash => Ok(()),
                _ => Err(Error::Fork(Structure::Membership)),
            };
        }
        if b.seq.0 != len {
            return Err(Error::BrokenChain(Structure::Membership));
        }
        let prev = self
            .memberships
            .last()
            .map_or(StatementHash::GENESIS, |m| m.hash);
        if b.prev != prev {
            return Err(Error::BrokenChain(Structure::Membership));
        }
        let prev_epoch = self.memberships.last().map_or(0, |m| m.body().root_epoch);
        let root = usize::try_from(b.root_epoch)
            .ok()
            .and_then(|i| self.roots.get(i))
            .ok_or(Error::WrongSigner(Structure::Membership))?;
        if b.root_epoch < prev_epoch {
            return Err(Error::WrongSigner(Structure::Membership));
        }
        s.verify_signature(root)?;
        if let Some(cp) = &self.floor
            && cp.membership.0 == b.seq
            && cp.membership.1 != hash
        {
            return Err(Error::Fork(Structure::Membership));
        }
        self.memberships.push(VerifiedMembership {
            signed: s.clone(),
            hash,
        });
        Ok(())
    }

    fn apply_generation(&mut self, s: &SignedGeneration) -> Result<()> {
        let b = s.body();
        if b.org != self.anchor.org || b.inbox != self.anchor.inbox {
            return Err(Error::WrongScope(Structure::Generation));
        }
        let hash = s.hash();
        let len = self.generations.len() as u64;
        if b.generation.0 < len {
            return match self.generation(b.generation) {
                Some(k) if k.hash == hash => Ok(()),
                _ => Err(Error::Fork(Structure::Generation)),
            };
        }
        if b.generation.0 != len {
            return Err(Error::BrokenChain(Structure::Generation));
        }
        let prev = self
            .generations
            .last()
            .map_or(StatementHash::GENESIS, |g| g.hash);
        if b.prev != prev {
            return Err(Error::BrokenChain(Structure::Generation));
        }
        let membership = usize::try_from(b.membership_seq.0)
            .ok()
            .and_then(|i| self.memberships.get(i))
            .filter(|m| m.hash == b.membership_hash)
            .ok_or(Error::UnknownStatement)?;
        if let Some(last) = self.generations.last()
            && b.membership_seq < last.body().membership_seq
        {
            return Err(Error::BrokenChain(Structure::Generation));
        }
        let m = membership.body();
        let signer = m
            .member(&b.signer)
            .ok_or(Error::WrongSigner(Structure::Generation))?;
        if !m.rotate_roles.contains(signer.role) {
            return Err(Error::RotationNotAllowed);
        }
        s.verify_signature(&signer.identity.signing)?;
        if !b
            .seals
            .iter()
            .map(|k| k.device)
            .eq(m.inbox_readers().map(|r| r.device_id()))
        {
            return Err(Error::WrongSealRecipients);
        }
        if let Some(Some((g, h))) = self.floor.as_ref().map(|c| c.generation)
            && g == b.generation
            && h != hash
        {
            return Err(Error::Fork(Structure::Generation));
        }
        self.generations.push(VerifiedGeneration {
            signed: s.clone(),
            hash,
        });
        Ok(())
    }

    /// After a sync: the chains reach the checkpoint, the head membership is
    /// signed by the current root and has not expired.
    fn check_reached(&self, now: Timestamp) -> Result<()> {
        let head = self
            .memberships
            .last()
            .ok_or(Error::Rollback(Structure::Membership))?;
        if let Some(cp) = &self.floor {
            if self.root_epoch() < cp.root_epoch {
                return Err(Error::Rollback(Structure::RootRotation));
            }
            if head.body().seq < cp.membership.0 {
                return Err(Error::Rollback(Structure::Membership));
            }
            if let Some((g, _)) = cp.generation {
                let reached = self
                    .generations
                    .last()
                    .is_some_and(|h| h.body().generation >= g);
                if !reached {
                    return Err(Error::Rollback(Structure::Generation));
                }
            }
        }
        if head.body().root_epoch != self.root_epoch() {
            return Err(Error::WrongSigner(Structure::Membership));
        }
        if now > head.body().not_after {
            return Err(Error::MembershipExpired);
        }
        Ok(())
    }
}
