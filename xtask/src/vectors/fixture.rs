//! The organisation the envelope and statement vectors live in: fixed ids
//! and time, seeded keys for every party, membership and generation
//! builders, and the JSON of anchors, chains and keys.
//!
//! The inbox has an agent, a supervisor (may send and rotate), an admin
//! device (may rotate, may not send) and a scanner (neither); every
//! message must include the records key.

use super::case::{Ctx, hx, obj};
use super::raw;
use confide_protocol::generation::{GenerationBody, SignedGeneration};
use confide_protocol::membership::{
    Member, MembershipBody, RequiredRecipient, Role, RoleSet, SignedMembership,
};
use confide_protocol::rand_core::SeedableRng;
use confide_protocol::state::{Chain, InboxState, TrustAnchor};
use confide_protocol::{
    DeviceSecretKey, HpkeSecretKey, InboxId, OrgId, RootSecretKey, Seq, StatementHash, Timestamp,
};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

/// The organisation.
pub const ORG: OrgId = OrgId([
    0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01,
]);
/// The inbox.
pub const INBOX: InboxId = InboxId([
    0x1b, 0x02, 0x13, 0x24, 0x35, 0x46, 0x57, 0x68, 0x79, 0x8a, 0x9b, 0xac, 0xbd, 0xce, 0xdf, 0xe0,
]);
/// "Now" for every vector: 2027-01-15T08:00:00Z.
pub const NOW: Timestamp = Timestamp(1_800_000_000);
/// How long memberships are valid.
pub const VALIDITY: u64 = 30 * 86_400;

/// Every party's keys, from one seed.
pub struct Parties {
    /// The organisation root (epoch 0, pinned).
    pub root: RootSecretKey,
    /// The root that replaces it at epoch 1.
    pub new_root: RootSecretKey,
    /// A key that is no root of this organisation.
    pub impostor_root: RootSecretKey,
    /// An agent device.
    pub agent: DeviceSecretKey,
    /// A supervisor device.
    pub supervisor: DeviceSecretKey,
    /// The organisation's admin device (rotates keys).
    pub admin: DeviceSecretKey,
    /// A scanner device.
    pub scanner: DeviceSecretKey,
    /// The visitor's device.
    pub visitor: DeviceSecretKey,
    /// A device that belongs to no inbox.
    pub outsider: DeviceSecretKey,
    /// The records key (required recipient).
    pub records: HpkeSecretKey,
}

impl Parties {
    /// Generates every key from `seed`, in field order.
    pub fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        Self {
            root: RootSecretKey::generate(&mut rng),
            new_root: RootSecretKey::generate(&mut rng),
            impostor_root: RootSecretKey::generate(&mut rng),
            agent: DeviceSecretKey::generate(&mut rng),
            supervisor: DeviceSecretKey::generate(&mut rng),
            admin: DeviceSecretKey::generate(&mut rng),
            scanner: DeviceSecretKey::generate(&mut rng),
            visitor: DeviceSecretKey::generate(&mut rng),
            outsider: DeviceSecretKey::generate(&mut rng),
            records: HpkeSecretKey::generate(&mut rng),
        }
    }

    /// The `keys` table: every secret, for reproduction (test keys only).
    pub fn keys_json(&self) -> Value {
        let device = |d: &DeviceSecretKey| {
            obj([
                ("secret", hx(d.dangerous_expose_bytes().as_ref())),
                ("public_identity", hx(d.public().encode())),
                ("device_id", hx(d.device_id().0)),
            ])
        };
        let root = |r: &RootSecretKey| {
            obj([
                ("seed", hx(r.dangerous_expose_bytes().as_ref())),
                ("public_key", hx(r.public().to_bytes())),
            ])
        };
        obj([
            ("root", root(&self.root)),
            ("new_root", root(&self.new_root)),
            ("impostor_root", root(&self.impostor_root)),
            ("agent", device(&self.agent)),
            ("supervisor", device(&self.supervisor)),
            ("admin", device(&self.admin)),
            ("scanner", device(&self.scanner)),
            ("visitor", device(&self.visitor)),
            ("outsider", device(&self.outsider)),
            (
                "records",
                obj([
                    ("secret", hx(self.records.dangerous_expose_bytes())),
                    ("public_key", hx(self.records.public_key().0)),
                ]),
            ),
        ])
    }

    /// The trust anchor pinning `root`.
    pub fn anchor(&self) -> TrustAnchor {
        TrustAnchor {
            org: ORG,
            inbox: INBOX,
            root: self.root.public(),
        }
    }

    /// The standard members: agent, supervisor, admin, scanner.
    pub fn standard_members(&self) -> Vec<(&DeviceSecretKey, Role, &'static str)> {
        vec![
            (&self.agent, Role::Agent, "Agent"),
            (&self.supervisor, Role::Supervisor, "Supervisor"),
            (&self.admin, Role::Admin, "system"),
            (&self.scanner, Role::Scanner, "scanner"),
        ]
    }

    /// A membership body with these members (sorted), the records key,
    /// agents and supervisors sending, admins and supervisors rotating.
    pub fn membership(
        &self,
        seq: u64,
        prev: StatementHash,
        root_epoch: u64,
        members: &[(&DeviceSecretKey, Role, &str)],
    ) -> MembershipBody {
        let mut body = MembershipBody {
            org: ORG,
            inbox: INBOX,
            seq: Seq(seq),
            prev,
            root_epoch,
            issued_at: NOW,
            not_after: Timestamp(NOW.0 + VALIDITY),
            min_protocol_version: 1,
            send_roles: RoleSet::of(&[Role::Agent, Role::Supervisor]),
            rotate_roles: RoleSet::of(&[Role::Admin, Role::Supervisor]),
            members: members
                .iter()
                .map(|(d, role, alias)| Member {
                    identity: d.public(),
                    role: *role,
                    alias: (*alias).to_string(),
                })
                .collect(),
            required_recipients: vec![RequiredRecipient {
                key: self.records.public_key(),
                purpose: "records".into(),
            }],
            token_keys: vec![],
            policy: b"{\"dlp\":\"default\"}".to_vec(),
            name_book: vec![],
        };
        body.canonicalize();
        body
    }
}

/// Verifies `chain` into a fresh state at `now`.
pub fn sync(anchor: TrustAnchor, chain: &Chain, now: Timestamp) -> Result<InboxState, String> {
    let mut s = InboxState::new(anchor);
    s.sync(chain, now).ctx("sync of a fixture chain")?;
    Ok(s)
}

/// Issues the next generation for the head membership of `chain` (which
/// must verify), signed by `signer`, and appends it.
pub fn add_generation(
    anchor: TrustAnchor,
    chain: &mut Chain,
    signer: &DeviceSecretKey,
    rng: &mut ChaCha20Rng,
) -> Result<HpkeSecretKey, String> {
    let state = sync(anchor, chain, NOW)?;
    let m = state.head_membership().ctx("head membership")?;
    let prev = state
        .head_generation()
        .map(|g| (g.body().generation, g.hash()));
    let (g, secret) = GenerationBody::issue(m, prev, signer, NOW, rng).ctx("issue generation")?;
    chain.generations.push(g);
    Ok(secret)
}

/// Re-signs a (modified) generation body with `signer`'s device key.
pub fn resign_generation(
    body: &GenerationBody,
    signer: &DeviceSecretKey,
) -> Result<SignedGeneration, String> {
    let bytes = body.encode().ctx("encode generation")?;
    let seed = signing_seed(signer)?;
    let wire = raw::signed_statement(&bytes, &seed, "confide/v1/generation")?;
    SignedGeneration::decode(&wire).ctx("decode crafted generation")
}

/// The Ed25519 seed of a device key.
pub fn signing_seed(d: &DeviceSecretKey) -> Result<[u8; 32], String> {
    let all = d.dangerous_expose_bytes();
    let seed = all.get(..32).ctx("device secret")?;
    seed.try_into().ctx("device seed")
}

/// The hash of the last membership of `chain`.
pub fn last_membership_hash(chain: &Chain) -> StatementHash {
    chain
        .memberships
        .last()
        .map_or(StatementHash::GENESIS, SignedMembership::hash)
}

/// `{ "org", "inbox", "root_public_key" }`.
pub fn anchor_json(a: &TrustAnchor) -> Value {
    obj([
        ("org", hx(a.org.0)),
        ("inbox", hx(a.inbox.0)),
        ("root_public_key", hx(a.root.to_bytes())),
    ])
}

/// `{ "rotations": [hex], "memberships": [hex], "generations": [hex] }`.
pub fn chain_json(c: &Chain) -> Value {
    let list = |v: Vec<Vec<u8>>| Value::Array(v.into_iter().map(hx).collect());
    obj([
        (
            "rotations",
            list(c.rotations.iter().map(|r| r.encode()).collect()),
        ),
        (
            "memberships",
            list(c.memberships.iter().map(|m| m.encode()).collect()),
        ),
        (
            "generations",
            list(c.generations.iter().map(|g| g.encode()).collect()),
        ),
    ])
}

/// Role names used in the JSON.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Agent => "agent",
        Role::Supervisor => "supervisor",
        Role::Admin => "admin",
        Role::Scanner => "scanner",
    }
}
