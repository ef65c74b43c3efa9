//! Membership statements signed by the organisation root (docs/protocol.md §5).
//!
//! A membership statement says which devices belong to an inbox, in which
//! role, which roles may send and rotate keys, which recipients every
//! message must include, which keys sign visitor identity tokens, the
//! minimum protocol version, the policy blob and an expiry. Statements of
//! one inbox form a hash chain.
//!
//! This module builds, encodes, decodes and signature-checks one statement.
//! Chain rules (sequence, `prev_hash`, forks, rollback, expiry) live in
//! [`crate::state`], which is the only place a [`VerifiedMembership`] is
//! minted.

use crate::codec::{Reader, Writer, strictly_sorted};
use crate::error::{Error, Result, Structure};
use crate::ids::{DeviceId, InboxId, OrgId, RecipientId, Seq, StatementHash, Timestamp};
use crate::keys::{HpkePublicKey, PublicIdentity, RootPublicKey, RootSecretKey, SIGNATURE_LEN};
use crate::label::{self, labels};
use crate::token::TokenKey;
use alloc::string::String;
use alloc::vec::Vec;

/// The membership statement format version.
pub const MEMBERSHIP_VERSION: u8 = 1;
/// Maximum members of one inbox.
pub const MAX_MEMBERS: usize = 1024;
/// Maximum required recipients.
pub const MAX_REQUIRED_RECIPIENTS: usize = 8;
/// Maximum identity-token keys.
pub const MAX_TOKEN_KEYS: usize = 8;
/// Maximum size of the policy blob.
pub const MAX_POLICY: usize = 64 * 1024;
/// Maximum size of the sealed name book.
pub const MAX_NAME_BOOK: usize = 512 * 1024;
/// Maximum length of an alias or purpose string.
pub const MAX_LABEL_TEXT: usize = 64;

/// A member's role in an inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Role {
    /// Answers conversations; receives the generation key.
    Agent = 1,
    /// Oversees all conversations of the inbox; receives the generation key.
    Supervisor = 2,
    /// Administers the inbox; does not receive the generation key.
    Admin = 3,
    /// Scans attachments it is a recipient of; never receives the generation key.
    Scanner = 4,
}

impl Role {
    /// Decodes a role byte.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Role::Agent),
            2 => Some(Role::Supervisor),
            3 => Some(Role::Admin),
            4 => Some(Role::Scanner),
            _ => None,
        }
    }

    /// Whether devices of this role receive the inbox generation key.
    pub fn reads_inbox(self) -> bool {
        matches!(self, Role::Agent | Role::Supervisor)
    }
}

/// A set of roles, encoded as a bit mask `1 << role`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RoleSet(u8);

impl RoleSet {
    /// The empty set.
    pub const EMPTY: RoleSet = RoleSet(0);
    const VALID: u8 = 0b0001_1110;

    /// The set of the given roles.
    pub fn of(roles: &[Role]) -> Self {
        Self(roles.iter().fold(0, |m, r| m | (1 << (*r as u8))))
    }

    /// Whether `role` is in the set.
    pub fn contains(self, role: Role) -> bool {
        self.0 & (1 << (role as u8)) != 0
    }

    /// The encoded mask.
    pub fn bits(self) -> u8 {
        self.0
    }

    fn from_bits(bits: u8) -> Option<Self> {
        (bits & !Self::VALID == 0).then_some(Self(bits))
    }
}

/// One member device of an inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The device's public keys.
    pub identity: PublicIdentity,
    /// Its role.
    pub role: Role,
    /// What visitors see instead of the member's name (1–64 bytes UTF-8).
    pub alias: String,
}

impl Member {
    /// The member's device id.
    pub fn device_id(&self) -> DeviceId {
        self.identity.device_id()
    }
}

/// A recipient every message of the inbox must include, e.g. the records key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequiredRecipient {
    /// The recipient's HPKE public key.
    pub key: HpkePublicKey,
    /// What it is for (1–64 bytes UTF-8), e.g. `records`.
    pub purpose: String,
}

/// The signed content of a membership statement (§5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipBody {
    /// The organisation.
    pub org: OrgId,
    /// The inbox.
    pub inbox: InboxId,
    /// Position in the inbox's membership chain, from 0.
    pub seq: Seq,
    /// Hash of the previous statement, [`StatementHash::GENESIS`] for seq 0.
    pub prev: StatementHash,
    /// Root epoch of the key that signs this statement (0 = the pinned root).
    pub root_epoch: u64,
    /// When it was issued (informational).
    pub issued_at: Timestamp,
    /// After this time the statement is expired and must be renewed.
    pub not_after: Timestamp,
    /// Lowest envelope version members and visitors may use.
    pub min_protocol_version: u8,
    /// Roles that may send messages.
    pub send_roles: RoleSet,
    /// Roles that may sign key generations.
    pub rotate_roles: RoleSet,
    /// Member devices, strictly sorted by device id.
    pub members: Vec<Member>,
    /// Required recipients, strictly sorted by recipient id.
    pub required_recipients: Vec<RequiredRecipient>,
    /// Identity-token verification keys, strictly sorted by key id.
    pub token_keys: Vec<TokenKey>,
    /// The policy blob (the DLP policy travels here); opaque to this crate.
    pub policy: Vec<u8>,
    /// Display names sealed to the members ([`crate::namebook`]); opaque here.
    pub name_book: Vec<u8>,
}

impl MembershipBody {
    /// Sorts the sets into canonical order (callers may build them in any order).
    pub fn canonicalize(&mut self) {
        self.members.sort_by_key(Member::device_id);
        self.required_recipients
            .sort_by_key(|r| r.key.recipient_id());
        self.token_keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    }

    /// The canonical encoding; fails if a limit or canonical order is violated.
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.check()?;
        let mut w = Writer::with_capacity(256 + self.members.len() * 140);
        w.u8(MEMBERSHIP_VERSION);
        w.raw(&self.org.0);
        w.raw(&self.inbox.0);
        w.u64(self.seq.0);
        w.raw(&self.prev.0);
        w.u64(self.root_epoch);
        w.u64(self.issued_at.0);
        w.u64(self.not_after.0);
        w.u8(self.min_protocol_version);
        w.u8(self.send_roles.bits());
        w.u8(self.rotate_roles.bits());
        w.count16(self.members.len());
        for m in &self.members {
            m.identity.write(&mut w);
            w.u8(m.role as u8);
            w.opaque8(m.alias.as_bytes());
        }
        w.count16(self.required_recipients.len());
        for r in &self.required_recipients {
            w.raw(&r.key.0);
            w.opaque8(r.purpose.as_bytes());
        }
        w.count16(self.token_keys.len());
        for k in &self.token_keys {
            k.write(&mut w);
        }
        w.opaque32(&self.policy);
        w.opaque32(&self.name_book);
        Ok(w.into_vec())
    }

    /// Decodes exactly one body.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::Membership);
        let body = Self::read(&mut r)?;
        r.finish()?;
        Ok(body)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u8()?;
        if version != MEMBERSHIP_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let org = OrgId(r.array()?);
        let inbox = InboxId(r.array()?);
        let seq = Seq(r.u64()?);
        let prev = StatementHash(r.array()?);
        let root_epoch = r.u64()?;
        let issued_at = Timestamp(r.u64()?);
        let not_after = Timestamp(r.u64()?);
        let min_protocol_version = r.u8()?;
        let send_roles = RoleSet::from_bits(r.u8()?).ok_or(r.invalid("send_roles"))?;
        let rotate_roles = RoleSet::from_bits(r.u8()?).ok_or(r.invalid("rotate_roles"))?;
        let n = r.count16("members", MAX_MEMBERS)?;
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            let identity = PublicIdentity::read(r)?;
            let role = Role::from_u8(r.u8()?).ok_or(r.invalid("role"))?;
            let alias = r.string8("alias", MAX_LABEL_TEXT)?;
            members.push(Member {
                identity,
                role,
                alias,
            });
        }
        let n = r.count16("required_recipients", MAX_REQUIRED_RECIPIENTS)?;
        let mut required_recipients = Vec::with_capacity(n);
        for _ in 0..n {
            let key = HpkePublicKey(r.array()?);
            let purpose = r.string8("purpose", MAX_LABEL_TEXT)?;
            required_recipients.push(RequiredRecipient { key, purpose });
        }
        let n = r.count16("token_keys", MAX_TOKEN_KEYS)?;
        let mut token_keys = Vec::with_capacity(n);
        for _ in 0..n {
            token_keys.push(TokenKey::read(r)?);
        }
        let policy = r.opaque32("policy", MAX_POLICY)?.to_vec();
        let name_book = r.opaque32("name_book", MAX_NAME_BOOK)?.to_vec();
        let body = Self {
            org,
            inbox,
            seq,
            prev,
            root_epoch,
            issued_at,
            not_after,
            min_protocol_version,
            send_roles,
            rotate_roles,
            members,
            required_recipients,
            token_keys,
            policy,
            name_book,
        };
        body.check()?;
        Ok(body)
    }

    /// Limits and canonical order (§5.1).
    fn check(&self) -> Result<()> {
        let too_large = |field| Error::TooLarge {
            structure: Structure::Membership,
            field,
        };
        let not_canonical = |field| Error::NotCanonical {
            structure: Structure::Membership,
            field,
        };
        let invalid = |field| Error::InvalidField {
            structure: Structure::Membership,
            field,
        };
        if self.members.len() > MAX_MEMBERS {
            return Err(too_large("members"));
        }
        if self.required_recipients.len() > MAX_REQUIRED_RECIPIENTS {
            return Err(too_large("required_recipients"));
        }
        if self.token_keys.len() > MAX_TOKEN_KEYS {
            return Err(too_large("token_keys"));
        }
        if self.policy.len() > MAX_POLICY {
            return Err(too_large("policy"));
        }
        if self.name_book.len() > MAX_NAME_BOOK {
            return Err(too_large("name_book"));
        }
        if self.min_protocol_version == 0 {
            return Err(invalid("min_protocol_version"));
        }
        if self.not_after < self.issued_at {
            return Err(invalid("not_after"));
        }
        if (self.seq.0 == 0) != (self.prev == StatementHash::GENESIS) {
            return Err(invalid("prev_hash"));
        }
        for m in &self.members {
            if m.alias.is_empty() || m.alias.len() > MAX_LABEL_TEXT {
                return Err(invalid("alias"));
            }
        }
        for r in &self.required_recipients {
            if r.purpose.is_empty() || r.purpose.len() > MAX_LABEL_TEXT {
                return Err(invalid("purpose"));
            }
        }
        if !strictly_sorted(self.members.iter().map(Member::device_id)) {
            return Err(not_canonical("members"));
        }
        if !strictly_sorted(
            self.required_recipients
                .iter()
                .map(|r| r.key.recipient_id()),
        ) {
            return Err(not_canonical("required_recipients"));
        }
        for k in &self.token_keys {
            k.validate(Structure::Membership)?;
        }
        if !strictly_sorted(self.token_keys.iter().map(|k| k.key_id.as_str())) {
            return Err(not_canonical("token_keys"));
        }
        Ok(())
    }

    /// Signs the body with the organisation root key.
    pub fn sign(&self, root: &RootSecretKey) -> Result<SignedMembership> {
        let body_bytes = self.encode()?;
        let signature = root.sign(labels::MEMBERSHIP_SIG, &body_bytes);
        Ok(SignedMembership {
            body: self.clone(),
            body_bytes,
            signature,
        })
    }

    /// The member with this device id.
    pub fn member(&self, device: &DeviceId) -> Option<&Member> {
        self.members
            .binary_search_by(|m| m.device_id().cmp(device))
            .ok()
            .and_then(|i| self.members.get(i))
    }

    /// Device ids of members that receive the generation key (agents, supervisors), sorted.
    pub fn inbox_readers(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.role.reads_inbox())
    }

    /// Recipient ids of the required recipients.
    pub fn required_recipient_ids(&self) -> impl Iterator<Item = RecipientId> + '_ {
        self.required_recipients
            .iter()
            .map(|r| r.key.recipient_id())
    }
}

/// A membership statement: body and root signature (§5.2). Its signature is
/// *not yet checked*; only [`crate::state::InboxState`] checks it and the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedMembership {
    body: MembershipBody,
    body_bytes: Vec<u8>,
    signature: [u8; SIGNATURE_LEN],
}

impl SignedMembership {
    /// Wire encoding: `opaque32 body ‖ signature[64]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(self.body_bytes.len() + 4 + SIGNATURE_LEN);
        w.opaque32(&self.body_bytes);
        w.raw(&self.signature);
        w.into_vec()
    }

    /// Decodes exactly one statement.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::Membership);
        let body_bytes = r.opaque32("body", MAX_NAME_BOOK + MAX_POLICY + 256 * 1024)?;
        let signature = r.array()?;
        r.finish()?;
        let body = MembershipBody::decode(body_bytes)?;
        Ok(Self {
            body,
            body_bytes: body_bytes.to_vec(),
            signature,
        })
    }

    /// The body (not yet verified unless reached through a verified type).
    pub fn body(&self) -> &MembershipBody {
        &self.body
    }

    /// `H("confide/v1/membership-hash", body)`.
    pub fn hash(&self) -> StatementHash {
        StatementHash(label::hash(labels::MEMBERSHIP_HASH, &[&self.body_bytes]))
    }

    /// Checks the signature against `root`.
    pub(crate) fn verify_signature(&self, root: &RootPublicKey) -> Result<()> {
        root.0.verify(
            labels::MEMBERSHIP_SIG,
            &self.body_bytes,
            &self.signature,
            Structure::Membership,
        )
    }
}

/// A membership statement whose signature and chain position were verified
/// by [`crate::state::InboxState`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedMembership {
    pub(crate) signed: SignedMembership,
    pub(crate) hash: StatementHash,
}

impl VerifiedMembership {
    /// The verified body.
    pub fn body(&self) -> &MembershipBody {
        &self.signed.body
    }

    /// Its hash.
    pub fn hash(&self) -> StatementHash {
        self.hash
    }

    /// The signed statement, e.g. to store or forward.
    pub fn signed(&self) -> &SignedMembership {
        &self.signed
    }
}
