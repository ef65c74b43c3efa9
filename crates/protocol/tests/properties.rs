//! Property tests of the protocol core: every encoding round-trips, any
//! single-bit flip of a signed, sealed or encrypted structure is rejected,
//! every decoder is total on arbitrary and on mutated valid bytes (and what
//! it accepts re-encodes to the same bytes), and the replay guard agrees
//! with a reference model. Case counts keep the file under a minute in a
//! debug build.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::LazyLock;

use confide_protocol::attachment::{
    AttachmentDecryptor, AttachmentEncryptor, AttachmentRef, MAX_ATTACHMENT_SIZE,
    decrypt_attachment, encrypt_attachment, padded_len,
};
use confide_protocol::body::{AttachmentInfo, Body, ContentType, MAX_IDENTITY_TOKEN, MAX_TEXT};
use confide_protocol::codec::{Reader, Writer};
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, Envelope, Keyring, OpenMode, SenderKey};
use confide_protocol::generation::{GenerationBody, KeySeal, SignedGeneration};
use confide_protocol::keyfile;
use confide_protocol::keys::{SEALED_KEY_LEN, SIGNATURE_LEN};
use confide_protocol::membership::{
    MAX_REQUIRED_RECIPIENTS, Member, MembershipBody, RequiredRecipient, Role, RoleSet,
    SignedMembership,
};
use confide_protocol::namebook;
use confide_protocol::padding::body_padded_len;
use confide_protocol::replay::{Accepted, RECENT_HASHES, ReplayGuard, WINDOW};
use confide_protocol::root::{RootRotationBody, SignedRootRotation};
use confide_protocol::state::{Chain, Checkpoint, InboxState, TrustAnchor};
use confide_protocol::token::{
    IdentityClaims, IdentityToken, TokenKey, TokenSigningKey, issue_hmac, issue_signed,
    verify_hmac, verify_signed,
};
use confide_protocol::*;
use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const NOW: Timestamp = Timestamp(1_800_000_000);
const ORG: OrgId = OrgId([0x0a; 16]);
const INBOX: InboxId = InboxId([0x1b; 16]);
/// Device keys that arbitrary memberships draw their members from.
const POOL: usize = 12;
const HMAC_SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

// ---------------------------------------------------------------------------
// Fixture: one inbox (admin + agent, records key, token key), its first
// membership and generation, a conversation, a valid envelope and attachment.
// ---------------------------------------------------------------------------

struct Fixture {
    pool: Vec<DeviceSecretKey>,
    root: RootSecretKey,
    admin: DeviceSecretKey,
    agent: DeviceSecretKey,
    visitor: DeviceSecretKey,
    token_key: TokenSigningKey,
    token_keys: Vec<TokenKey>,
    anchor: TrustAnchor,
    membership: SignedMembership,
    chain: Chain,
    state: InboxState,
    conversation: Conversation,
    agent_keys: Keyring,
    envelope: Vec<u8>,
    attachment: (AttachmentRef, Vec<u8>),
    /// A valid encoding of each structure the decoders read.
    samples: Vec<Vec<u8>>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(build_fixture);

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(0xC0F1DE);
    let pool: Vec<_> = (0..POOL)
        .map(|_| DeviceSecretKey::generate(&mut rng))
        .collect();
    let root = RootSecretKey::generate(&mut rng);
    let admin = DeviceSecretKey::generate(&mut rng);
    let agent = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let records = HpkeSecretKey::generate(&mut rng);
    let token_key = TokenSigningKey::generate(&mut rng);
    let token_keys = vec![TokenKey::new("backend-1", token_key.public()).unwrap()];
    let anchor = TrustAnchor {
        org: ORG,
        inbox: INBOX,
        root: root.public(),
    };
    let mut body = MembershipBody {
        org: ORG,
        inbox: INBOX,
        seq: Seq(0),
        prev: StatementHash::GENESIS,
        root_epoch: 0,
        issued_at: NOW,
        not_after: Timestamp(NOW.0 + 86_400),
        min_protocol_version: 1,
        send_roles: RoleSet::of(&[Role::Agent]),
        rotate_roles: RoleSet::of(&[Role::Admin]),
        members: vec![
            Member {
                identity: admin.public(),
                role: Role::Admin,
                alias: "system".into(),
            },
            Member {
                identity: agent.public(),
                role: Role::Agent,
                alias: "Agent".into(),
            },
        ],
        required_recipients: vec![RequiredRecipient {
            key: records.public_key(),
            purpose: "records".into(),
        }],
        token_keys: token_keys.clone(),
        policy: b"{}".to_vec(),
        name_book: vec![],
    };
    body.canonicalize();
    body.name_book = namebook::seal_names(
        ORG,
        INBOX,
        Seq(0),
        &[(agent.device_id(), "Alice".into())],
        &[agent.public()],
        &mut rng,
    )
    .unwrap();
    let membership = body.sign(&root).unwrap();
    let mut chain = Chain {
        memberships: vec![membership.clone()],
        ..Chain::default()
    };
    let mut state = InboxState::new(anchor);
    state.sync(&chain, NOW).unwrap();
    let (generation, secret) = GenerationBody::issue(
        state.head_membership().unwrap(),
        None,
        &admin,
        NOW,
        &mut rng,
    )
    .unwrap();
    chain.generations.push(generation.clone());
    let mut state = InboxState::new(anchor);
    state.sync(&chain, NOW).unwrap();
    let conversation = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    let mut agent_keys = Keyring::new();
    agent_keys.insert(secret);
    agent_keys.insert(HpkeSecretKey::dangerous_from_bytes(
        *agent.hpke().dangerous_expose_bytes(),
    ));
    let plain: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8 + 1).collect();
    let (ciphertext, reference) = encrypt_attachment(&conversation.id(), &plain, &mut rng).unwrap();
    let token = issue_signed(claims_at(visitor.device_id()), &token_key)
        .unwrap()
        .encode();
    let mut message = Body::text("hello");
    message.identity_token = Some(token.clone());
    message.attachments.push(AttachmentInfo {
        name: "a.png".into(),
        media_type: "image/png".into(),
        reference: clone_ref(&reference),
    });
    let envelope = envelope::seal(
        &SenderKey {
            device: &visitor,
            instance: InstanceId([1; 16]),
        },
        Counter(1),
        &conversation,
        &state,
        Audience::Conversation,
        &message,
        &[],
        NOW,
        &mut rng,
    )
    .unwrap()
    .encode();
    let verified = envelope::verify(&envelope, &conversation, &state, OpenMode::History).unwrap();
    let mut guard = ReplayGuard::new(conversation.id());
    guard.accept(verified.header(), verified.hash()).unwrap();
    let new_root = RootSecretKey::generate(&mut rng);
    let rotation = RootRotationBody {
        org: ORG,
        epoch: 1,
        prev: StatementHash::GENESIS,
        old_root: root.public(),
        new_root: new_root.public(),
        issued_at: NOW,
    };
    let samples = vec![
        envelope.clone(),
        membership.encode(),
        membership.body().encode().unwrap(),
        generation.encode(),
        generation.body().encode().unwrap(),
        rotation.sign(&root, &new_root).encode(),
        message.encode_padded().unwrap().to_vec(),
        guard.encode(),
        state.checkpoint().unwrap().encode(),
        visitor.public().encode().to_vec(),
        conversation.encode_descriptor(),
        token,
        encode_ref(&reference),
        keyfile_shaped(),
        membership.body().name_book.clone(),
        ciphertext.clone(),
    ];
    Fixture {
        pool,
        root,
        admin,
        agent,
        visitor,
        token_key,
        token_keys,
        anchor,
        membership,
        chain,
        state,
        conversation,
        agent_keys,
        envelope,
        attachment: (reference, ciphertext),
        samples,
    }
}

fn claims_at(device: DeviceId) -> IdentityClaims {
    IdentityClaims {
        key_id: "backend-1".into(),
        org: ORG,
        inbox: INBOX,
        subject: "user-1".into(),
        name: String::new(),
        email: String::new(),
        issued_at: NOW,
        expires_at: Timestamp(NOW.0 + 300),
        token_id: [9; 16],
        visitor_device: device,
    }
}

fn encode_ref(r: &AttachmentRef) -> Vec<u8> {
    let mut w = Writer::new();
    r.write(&mut w);
    w.into_vec()
}

fn read_ref(bytes: &[u8]) -> Result<AttachmentRef> {
    let mut r = Reader::new(bytes, Structure::Body);
    let a = AttachmentRef::read(&mut r)?;
    r.finish()?;
    Ok(a)
}

fn clone_ref(r: &AttachmentRef) -> AttachmentRef {
    read_ref(&encode_ref(r)).unwrap()
}

/// A key file whose structure and KDF bounds are valid (nothing decrypts it).
fn keyfile_shaped() -> Vec<u8> {
    let mut b = keyfile::MAGIC.to_vec();
    b.extend_from_slice(&[1, 1, 1]);
    for v in [19_456u32, 2, 1] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend_from_slice(&[7; keyfile::SALT_LEN + keyfile::NONCE_LEN]);
    b.extend_from_slice(&80u32.to_be_bytes());
    b.extend_from_slice(&[5; 80]);
    b
}

fn flip(bytes: &[u8], bit: Index) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = bit.index(bytes.len() * 8);
    out[i / 8] ^= 1 << (i % 8);
    out
}

/// `default` cases, or `PROPTEST_CASES` for a longer soak
/// (`PROPTEST_CASES=5000 cargo test --release -p confide-protocol --test properties`).
fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig::with_cases(n.unwrap_or(default))
}

fn live() -> OpenMode {
    OpenMode::Live { now: NOW }
}

// ---------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------

fn role() -> impl Strategy<Value = Role> {
    select(vec![
        Role::Agent,
        Role::Supervisor,
        Role::Admin,
        Role::Scanner,
    ])
}

fn role_set() -> impl Strategy<Value = RoleSet> {
    subsequence(
        vec![Role::Agent, Role::Supervisor, Role::Admin, Role::Scanner],
        0..=4,
    )
    .prop_map(|r| RoleSet::of(&r))
}

/// 1–16 printable characters: at most 64 bytes of UTF-8.
fn label_text() -> impl Strategy<Value = String> {
    "\\PC{1,16}"
}

fn hash32() -> impl Strategy<Value = StatementHash> {
    any::<[u8; 32]>().prop_map(StatementHash)
}

/// `(seq, prev)` with `prev` GENESIS exactly when `seq` is 0.
fn chain_position() -> impl Strategy<Value = (u64, StatementHash)> {
    prop_oneof![
        Just((0, StatementHash::GENESIS)),
        (1..u64::MAX, any::<[u8; 32]>()).prop_map(|(s, mut h)| {
            h[0] |= 1;
            (s, StatementHash(h))
        }),
    ]
}

prop_compose! {
    fn membership_body()(
        (members, member_roles, required, purposes) in (
            subsequence((0..POOL).collect::<Vec<_>>(), 0..=8),
            vec((role(), label_text()), POOL),
            subsequence((0..POOL).collect::<Vec<_>>(), 0..=MAX_REQUIRED_RECIPIENTS),
            vec(label_text(), POOL),
        ),
        (token_ids, policy, name_book) in (
            btree_set("[!-~]{1,64}", 0..=3),
            vec(any::<u8>(), 0..300),
            vec(any::<u8>(), 0..300),
        ),
        ((seq, prev), root_epoch, t1, t2, min_protocol_version) in (
            chain_position(), any::<u64>(), any::<u64>(), any::<u64>(), 1u8..,
        ),
        (send_roles, rotate_roles, org, inbox) in (
            role_set(), role_set(), any::<[u8; 16]>(), any::<[u8; 16]>(),
        ),
    ) -> MembershipBody {
        let pool = &FIXTURE.pool;
        let mut body = MembershipBody {
            org: OrgId(org),
            inbox: InboxId(inbox),
            seq: Seq(seq),
            prev,
            root_epoch,
            issued_at: Timestamp(t1.min(t2)),
            not_after: Timestamp(t1.max(t2)),
            min_protocol_version,
            send_roles,
            rotate_roles,
            members: members
                .iter()
                .map(|&i| Member {
                    identity: pool[i].public(),
                    role: member_roles[i].0,
                    alias: member_roles[i].1.clone(),
                })
                .collect(),
            required_recipients: required
                .iter()
                .map(|&i| RequiredRecipient {
                    key: pool[i].public().hpke,
                    purpose: purposes[i].clone(),
                })
                .collect(),
            token_keys: token_ids
                .into_iter()
                .enumerate()
                .map(|(i, id)| TokenKey::new(id, pool[i].public().signing).unwrap())
                .collect(),
            policy,
            name_book,
        };
        body.canonicalize();
        body
    }
}

fn attachment_ref() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 16]>(),
        any::<[u8; 32]>(),
        0..=MAX_ATTACHMENT_SIZE,
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(id, key, size, sha, commitment)| {
            let mut w = Writer::new();
            w.raw(&id);
            w.raw(&key);
            w.u64(size);
            w.u64(padded_len(size));
            w.raw(&sha);
            w.raw(&commitment);
            w.into_vec()
        })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,200}",
        1 => (any::<char>(), 0..20_000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

prop_compose! {
    fn claims()(
        key_id in "[!-~]{1,64}",
        (org, inbox, device, token_id) in (
            any::<[u8; 16]>(), any::<[u8; 16]>(), any::<[u8; 32]>(), any::<[u8; 16]>(),
        ),
        subject in "\\PC{1,60}",
        name in "\\PC{0,60}",
        email in "[a-z.@]{0,255}",
        (t1, t2) in (any::<u64>(), any::<u64>()),
    ) -> IdentityClaims {
        IdentityClaims {
            key_id,
            org: OrgId(org),
            inbox: InboxId(inbox),
            subject,
            name,
            email,
            issued_at: Timestamp(t1.min(t2)),
            expires_at: Timestamp(t1.max(t2)),
            token_id,
            visitor_device: DeviceId(device),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Bool(bool),
    Raw([u8; 7]),
    Opaque8(Vec<u8>),
    Opaque16(Vec<u8>),
    Opaque32(Vec<u8>),
    String8(String),
    String32(String),
    Count16(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::U8),
        any::<u16>().prop_map(Op::U16),
        any::<u32>().prop_map(Op::U32),
        any::<u64>().prop_map(Op::U64),
        any::<bool>().prop_map(Op::Bool),
        any::<[u8; 7]>().prop_map(Op::Raw),
        vec(any::<u8>(), 0..=255).prop_map(Op::Opaque8),
        vec(any::<u8>(), 0..700).prop_map(Op::Opaque16),
        vec(any::<u8>(), 0..700).prop_map(Op::Opaque32),
        "\\PC{0,63}".prop_map(Op::String8),
        "\\PC{0,300}".prop_map(Op::String32),
        any::<u16>().prop_map(Op::Count16),
    ]
}

fn write_op(w: &mut Writer, op: &Op) {
    match op {
        Op::U8(v) => w.u8(*v),
        Op::U16(v) => w.u16(*v),
        Op::U32(v) => w.u32(*v),
        Op::U64(v) => w.u64(*v),
        Op::Bool(v) => w.bool(*v),
        Op::Raw(v) => w.raw(v),
        Op::Opaque8(v) => w.opaque8(v),
        Op::Opaque16(v) => w.opaque16(v),
        Op::Opaque32(v) => w.opaque32(v),
        Op::String8(v) => w.opaque8(v.as_bytes()),
        Op::String32(v) => w.opaque32(v.as_bytes()),
        Op::Count16(v) => w.count16(usize::from(*v)),
    }
}

/// Reads `op` back; `Ok(true)` if it equals what was written.
fn read_op(r: &mut Reader<'_>, op: &Op) -> Result<bool> {
    Ok(match op {
        Op::U8(v) => r.u8()? == *v,
        Op::U16(v) => r.u16()? == *v,
        Op::U32(v) => r.u32()? == *v,
        Op::U64(v) => r.u64()? == *v,
        Op::Bool(v) => r.bool("b")? == *v,
        Op::Raw(v) => r.array::<7>()? == *v,
        Op::Opaque8(v) => r.opaque8("o", 255)? == v.as_slice(),
        Op::Opaque16(v) => r.opaque16("o", 700)? == v.as_slice(),
        Op::Opaque32(v) => r.opaque32("o", 700)? == v.as_slice(),
        Op::String8(v) => r.string8("s", 255)? == *v,
        Op::String32(v) => r.string32("s", 1200)? == *v,
        Op::Count16(v) => r.count16("n", usize::from(u16::MAX))? == usize::from(*v),
    })
}

// ---------------------------------------------------------------------------
// Decoding everything, with the canonical-encoding oracle.
// ---------------------------------------------------------------------------

/// Runs every public decoder on `bytes`; whatever decodes must re-encode to
/// exactly `bytes` (one encoding per value, §3).
fn decode_everything(bytes: &[u8]) {
    if let Ok(g) = confide_protocol::grant::SignedGrant::decode(bytes) {
        assert_eq!(g.encode(), bytes, "SignedGrant re-encodes");
    }
    let f = &*FIXTURE;
    if let Ok(e) = Envelope::decode(bytes) {
        assert_eq!(e.encode(), bytes);
    }
    if let Ok(s) = SignedMembership::decode(bytes) {
        assert_eq!(s.encode(), bytes);
        let chain = Chain {
            memberships: vec![s],
            ..f.chain.clone()
        };
        if InboxState::new(f.anchor).sync(&chain, NOW).is_ok() {
            assert_eq!(bytes, f.chain.memberships[0].encode());
        }
    }
    if let Ok(b) = MembershipBody::decode(bytes) {
        assert_eq!(b.encode().unwrap(), bytes);
    }
    if let Ok(s) = SignedGeneration::decode(bytes) {
        assert_eq!(s.encode(), bytes);
        let chain = Chain {
            generations: vec![s],
            ..f.chain.clone()
        };
        if InboxState::new(f.anchor).sync(&chain, NOW).is_ok() {
            assert_eq!(bytes, f.chain.generations[0].encode());
        }
    }
    if let Ok(b) = GenerationBody::decode(bytes) {
        assert_eq!(b.encode().unwrap(), bytes);
    }
    if let Ok(r) = SignedRootRotation::decode(bytes) {
        assert_eq!(r.encode(), bytes);
    }
    if let Ok(b) = Body::decode_padded(bytes) {
        assert_eq!(b.encode_padded().unwrap().as_slice(), bytes);
    }
    if let Ok(g) = ReplayGuard::decode(bytes) {
        assert_eq!(g.encode(), bytes);
    }
    if let Ok(c) = Checkpoint::decode(bytes) {
        assert_eq!(c.encode(), bytes);
    }
    if let Ok(p) = PublicIdentity::decode(bytes) {
        assert_eq!(p.encode().as_slice(), bytes);
    }
    if let Ok(c) = Conversation::decode_descriptor(bytes, f.conversation.id()) {
        assert_eq!(c.encode_descriptor(), bytes);
    }
    if let Ok(t) = IdentityToken::decode(bytes) {
        assert_eq!(t.encode(), bytes);
        let _ = verify_signed(&t, &f.token_keys, ORG, INBOX, f.visitor.device_id(), NOW);
        let _ = verify_hmac(&t, HMAC_SECRET, ORG, INBOX, f.visitor.device_id(), NOW);
    }
    if let Ok(a) = read_ref(bytes) {
        assert_eq!(encode_ref(&a), bytes);
    }
    let _ = TokenKey::read(&mut Reader::new(bytes, Structure::Membership));
    // Opening a key file parses and bounds-checks it (`inspect`) before the
    // KDF; whatever `inspect` refuses, every `open_*` refuses without Argon2.
    if keyfile::inspect(bytes).is_err() {
        assert!(keyfile::open_device_key(bytes, b"pw").is_err());
        assert!(keyfile::open_root_key(bytes, b"pw").is_err());
        assert!(keyfile::open_hpke_key(bytes, b"pw").is_err());
        assert!(keyfile::open_token_signing_key(bytes, b"pw").is_err());
    }
    if let Ok(names) = namebook::open_names(bytes, ORG, INBOX, Seq(0), &f.agent) {
        assert_eq!(bytes, f.membership.body().name_book.as_slice());
        assert_eq!(names, vec![(f.agent.device_id(), "Alice".to_string())]);
    }
    // The whole envelope path against a real state and real keys.
    for mode in [live(), OpenMode::History] {
        if envelope::open(bytes, &f.conversation, &f.state, &f.agent_keys, mode).is_ok() {
            assert_eq!(bytes, f.envelope.as_slice());
        }
    }
    // The attachment decryptor, in two ways of cutting the input.
    let (reference, ciphertext) = &f.attachment;
    for piece in [1usize, 4099] {
        let mut dec = AttachmentDecryptor::new(&f.conversation.id(), reference);
        let fed = bytes.chunks(piece).all(|c| dec.update(c).is_ok());
        if fed && dec.finish().is_ok() {
            assert_eq!(bytes, ciphertext.as_slice());
        }
    }
}

/// `sample` with the given bytes overwritten and optionally cut short.
fn mutated(sample: &[u8], edits: &[(Index, u8)], cut: Option<Index>) -> Vec<u8> {
    let mut out = sample.to_vec();
    for (i, v) in edits {
        if !out.is_empty() {
            let at = i.index(out.len());
            out[at] = *v;
        }
    }
    if let Some(c) = cut {
        out.truncate(c.index(out.len() + 1));
    }
    out
}

// ---------------------------------------------------------------------------
// Replay-guard reference model (§10).
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Model {
    highest: HashMap<(u8, u8), u64>,
    seen: HashSet<(u8, u8, u64)>,
    recent: VecDeque<u64>,
    recent_set: HashSet<u64>,
}

impl Model {
    fn accept(&mut self, sender: u8, instance: u8, c: u64, hash: u64) -> Result<Accepted> {
        if self.recent_set.contains(&hash) {
            return Err(Error::Replay);
        }
        let key = (sender, instance);
        let outcome = match self.highest.get(&key) {
            None if c == 1 => Accepted::InOrder,
            None => Accepted::Gap {
                from: Counter(1),
                to: Counter(c - 1),
            },
            Some(&h) if h.checked_add(1) == Some(c) => Accepted::InOrder,
            Some(&h) if c > h => Accepted::Gap {
                from: Counter(h + 1),
                to: Counter(c - 1),
            },
            Some(&h) if h - c >= WINDOW => return Err(Error::TooOld),
            Some(_) if self.seen.contains(&(sender, instance, c)) => return Err(Error::Replay),
            Some(_) => Accepted::Late,
        };
        let h = self.highest.entry(key).or_insert(c);
        *h = (*h).max(c);
        self.seen.insert((sender, instance, c));
        self.recent.push_back(hash);
        self.recent_set.insert(hash);
        if self.recent.len() > RECENT_HASHES {
            let old = self.recent.pop_front().unwrap();
            self.recent_set.remove(&old);
        }
        Ok(outcome)
    }
}

#[derive(Clone, Debug)]
enum GuardOp {
    Accept {
        sender: u8,
        instance: u8,
        counter: u64,
        hash: u64,
    },
    OtherConversation,
    Persist,
}

fn guard_op() -> impl Strategy<Value = GuardOp> {
    let counter = prop_oneof![
        6 => 1u64..40,
        3 => 1u64..400,
        1 => 1u64..=u64::MAX,
        1 => (u64::MAX - 200)..=u64::MAX,
    ];
    prop_oneof![
        40 => (0u8..3, 0u8..2, counter, 0u64..4_000).prop_map(|(sender, instance, counter, hash)| {
            GuardOp::Accept { sender, instance, counter, hash }
        }),
        1 => Just(GuardOp::OtherConversation),
        2 => Just(GuardOp::Persist),
    ]
}

fn guard_header(
    conversation: ConversationId,
    sender: u8,
    instance: u8,
    c: u64,
) -> envelope::Header {
    envelope::Header {
        audience: Audience::Conversation,
        conversation,
        sender: DeviceId([sender; 32]),
        instance: InstanceId([instance; 16]),
        counter: Counter(c),
        membership_seq: Seq(0),
        membership_hash: StatementHash::GENESIS,
        generation: Generation(0),
        generation_hash: StatementHash::GENESIS,
        recipients: vec![],
        commitment: [0; 32],
    }
}

fn envelope_hash(n: u64) -> EnvelopeHash {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_be_bytes());
    EnvelopeHash(b)
}

// ---------------------------------------------------------------------------
// Properties: cheap ones, many cases.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn codec_round_trips_and_rejects_truncation_and_trailing_bytes(
        ops in vec(op(), 0..16),
        cut in any::<Index>(),
    ) {
        let mut w = Writer::new();
        for o in &ops {
            write_op(&mut w, o);
        }
        let bytes = w.into_vec();
        let mut r = Reader::new(&bytes, Structure::Body);
        for o in &ops {
            prop_assert_eq!(read_op(&mut r, o), Ok(true));
        }
        prop_assert_eq!(r.finish(), Ok(()));

        let mut longer = bytes.clone();
        longer.push(0);
        let mut r = Reader::new(&longer, Structure::Body);
        for o in &ops {
            prop_assert_eq!(read_op(&mut r, o), Ok(true));
        }
        prop_assert_eq!(r.finish(), Err(Error::TrailingBytes(Structure::Body)));

        if !bytes.is_empty() {
            let short = &bytes[..cut.index(bytes.len())];
            let mut r = Reader::new(short, Structure::Body);
            let all_read = ops.iter().all(|o| read_op(&mut r, o).is_ok());
            prop_assert!(!all_read || r.finish().is_err(), "a truncated encoding read fully");
        }
    }

    #[test]
    fn public_identity_round_trips(seed in any::<[u8; 32]>(), hpke in any::<[u8; 32]>()) {
        let key = DeviceSecretKey::dangerous_from_bytes(&seed, hpke);
        let id = key.public();
        prop_assert_eq!(PublicIdentity::decode(&id.encode()), Ok(id));
        let mut w = Writer::new();
        id.write(&mut w);
        prop_assert_eq!(w.as_slice(), &id.encode()[..]);
        prop_assert_eq!(id.device_id(), key.device_id());
    }

    #[test]
    fn membership_body_round_trips(body in membership_body()) {
        let bytes = body.encode().unwrap();
        prop_assert_eq!(MembershipBody::decode(&bytes).unwrap(), body);
    }

    #[test]
    fn generation_body_and_wire_round_trip(
        (generation, prev) in chain_position(),
        (org, inbox, membership_seq) in (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<u64>()),
        (membership_hash, public_key, issued_at, signer) in
            (hash32(), any::<[u8; 32]>(), any::<u64>(), any::<[u8; 32]>()),
        seals in btree_map(any::<[u8; 32]>(), vec(any::<u8>(), SEALED_KEY_LEN), 0..6),
        signature in vec(any::<u8>(), SIGNATURE_LEN),
    ) {
        let body = GenerationBody {
            org: OrgId(org),
            inbox: InboxId(inbox),
            generation: Generation(generation),
            prev,
            membership_seq: Seq(membership_seq),
            membership_hash,
            public_key: HpkePublicKey(public_key),
            issued_at: Timestamp(issued_at),
            signer: DeviceId(signer),
            seals: seals
                .into_iter()
                .map(|(d, s)| KeySeal { device: DeviceId(d), sealed: s.try_into().unwrap() })
                .collect(),
        };
        let bytes = body.encode().unwrap();
        prop_assert_eq!(GenerationBody::decode(&bytes).unwrap(), body);
        let mut w = Writer::new();
        w.opaque32(&bytes);
        w.raw(&signature);
        let wire = w.into_vec();
        let signed = SignedGeneration::decode(&wire).unwrap();
        prop_assert_eq!(signed.encode(), wire);
    }

    #[test]
    fn body_round_trips_when_within_limits(
        content_type in select(vec![ContentType::Text, ContentType::Attachment, ContentType::Event]),
        reply_to in proptest::option::of(any::<[u8; 32]>()),
        token in proptest::option::of(prop_oneof![
            vec(any::<u8>(), 0..64),
            vec(any::<u8>(), MAX_IDENTITY_TOKEN - 2..MAX_IDENTITY_TOKEN + 2),
        ]),
        attachments in vec(("\\PC{0,40}", "[a-z/+.-]{0,40}", attachment_ref()), 0..=3),
        text in text(),
    ) {
        let body = Body {
            content_type,
            reply_to: reply_to.map(EnvelopeHash),
            identity_token: token.clone(),
            attachments: attachments
                .iter()
                .map(|(name, media_type, r)| AttachmentInfo {
                    name: name.clone(),
                    media_type: media_type.clone(),
                    reference: read_ref(r).unwrap(),
                })
                .collect(),
            text: text.clone(),
        };
        let fits = text.len() <= MAX_TEXT
            && token.as_ref().is_none_or(|t| t.len() <= MAX_IDENTITY_TOKEN);
        let padded = body.encode_padded();
        prop_assert_eq!(padded.is_ok(), fits);
        let Ok(padded) = padded else { return Ok(()) };
        let inner = u32::from_be_bytes(padded[..4].try_into().unwrap());
        prop_assert_eq!(padded.len() as u64, body_padded_len(u64::from(inner) + 4));
        let back = Body::decode_padded(&padded).unwrap();
        prop_assert_eq!(back.content_type, body.content_type);
        prop_assert_eq!(back.reply_to, body.reply_to);
        prop_assert_eq!(&back.identity_token, &body.identity_token);
        prop_assert_eq!(&back.text, &body.text);
        prop_assert_eq!(back.attachments.len(), attachments.len());
        for (a, (name, media_type, r)) in back.attachments.iter().zip(&attachments) {
            prop_assert_eq!(&a.name, name);
            prop_assert_eq!(&a.media_type, media_type);
            prop_assert_eq!(&encode_ref(&a.reference), r);
        }
    }

    #[test]
    fn checkpoint_round_trips(
        (org, inbox, root_epoch) in (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<u64>()),
        (root_head, seq, membership_hash) in (hash32(), any::<u64>(), hash32()),
        generation in proptest::option::of((any::<u64>(), hash32())),
    ) {
        let cp = Checkpoint {
            org: OrgId(org),
            inbox: InboxId(inbox),
            root_epoch,
            root_head,
            membership: (Seq(seq), membership_hash),
            generation: generation.map(|(g, h)| (Generation(g), h)),
        };
        prop_assert_eq!(Checkpoint::decode(&cp.encode()), Ok(cp));
    }

    #[test]
    fn identity_token_round_trips(claims in claims(), signed in any::<bool>(), seed in any::<[u8; 32]>()) {
        let token = if signed {
            issue_signed(claims.clone(), &TokenSigningKey::dangerous_from_bytes(&seed)).unwrap()
        } else {
            issue_hmac(claims.clone(), &seed).unwrap()
        };
        let bytes = token.encode();
        let back = IdentityToken::decode(&bytes).unwrap();
        prop_assert_eq!(back.claims(), &claims);
        prop_assert_eq!(back.encode(), bytes);
        prop_assert_eq!(back, token);
    }

    #[test]
    fn conversation_descriptor_round_trips_and_commits(
        (org, inbox, visitor, seed) in (any::<[u8; 16]>(), any::<[u8; 16]>(), 0..POOL, any::<u64>()),
        bit in any::<Index>(),
    ) {
        let visitor = FIXTURE.pool[visitor].public();
        let c = Conversation::start(
            OrgId(org), InboxId(inbox), visitor, &mut ChaCha20Rng::seed_from_u64(seed),
        );
        let d = c.encode_descriptor();
        prop_assert_eq!(d.len(), Conversation::DESCRIPTOR_LEN);
        prop_assert_eq!(Conversation::decode_descriptor(&d, c.id()), Ok(c));
        prop_assert!(Conversation::decode_descriptor(&flip(&d, bit), c.id()).is_err());
    }

    #[test]
    fn replay_guard_matches_reference_model(ops in vec(guard_op(), 0..2_500)) {
        let conversation = ConversationId([0xcc; 32]);
        let mut guard = ReplayGuard::new(conversation);
        let mut model = Model::default();
        for op in &ops {
            match *op {
                GuardOp::Accept { sender, instance, counter, hash } => {
                    let header = guard_header(conversation, sender, instance, counter);
                    let got = guard.accept(&header, envelope_hash(hash));
                    let want = model.accept(sender, instance, counter, hash);
                    prop_assert_eq!(got, want, "{:?}", op);
                }
                GuardOp::OtherConversation => {
                    let header = guard_header(ConversationId([0xdd; 32]), 0, 0, 1);
                    prop_assert_eq!(
                        guard.accept(&header, envelope_hash(u64::MAX)),
                        Err(Error::WrongConversation)
                    );
                }
                GuardOp::Persist => {
                    let bytes = guard.encode();
                    let back = ReplayGuard::decode(&bytes).unwrap();
                    prop_assert_eq!(&back, &guard);
                    prop_assert_eq!(back.encode(), bytes);
                    guard = back;
                }
            }
        }
        let bytes = guard.encode();
        prop_assert_eq!(ReplayGuard::decode(&bytes).unwrap(), guard);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..2_048)) {
        decode_everything(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_valid_encodings(
        sample in any::<Index>(),
        edits in vec((any::<Index>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<Index>()),
    ) {
        let samples = &FIXTURE.samples;
        let sample = &samples[sample.index(samples.len())];
        decode_everything(&mutated(sample, &edits, cut));
    }
}

// ---------------------------------------------------------------------------
// Properties: crypto-heavy ones, fewer cases.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn signed_membership_round_trips_and_any_bit_flip_fails_to_sync(
        body in membership_body(),
        bit in any::<Index>(),
    ) {
        let f = &*FIXTURE;
        let signed = body.sign(&f.root).unwrap();
        let bytes = signed.encode();
        prop_assert_eq!(SignedMembership::decode(&bytes).unwrap(), signed.clone());

        // The same body as this inbox's first membership: it syncs, a flip doesn't.
        let mut first = body;
        first.org = ORG;
        first.inbox = INBOX;
        first.seq = Seq(0);
        first.prev = StatementHash::GENESIS;
        first.root_epoch = 0;
        first.issued_at = Timestamp(first.issued_at.0.min(NOW.0));
        first.not_after = Timestamp(first.not_after.0.max(NOW.0));
        first.canonicalize();
        let bytes = first.sign(&f.root).unwrap().encode();
        let sync = |bytes: &[u8]| -> Result<()> {
            let chain = Chain { memberships: vec![SignedMembership::decode(bytes)?], ..Chain::default() };
            InboxState::new(f.anchor).sync(&chain, NOW)
        };
        prop_assert_eq!(sync(&bytes), Ok(()));
        prop_assert!(sync(&flip(&bytes, bit)).is_err());
    }

    #[test]
    fn signed_generation_round_trips_and_any_bit_flip_fails_to_sync(
        seed in any::<u64>(),
        issued_at in NOW.0 - 1_000..=NOW.0,
        bit in any::<Index>(),
    ) {
        let f = &*FIXTURE;
        let membership = f.state.head_membership().unwrap();
        let (generation, secret) = GenerationBody::issue(
            membership, None, &f.admin, Timestamp(issued_at), &mut ChaCha20Rng::seed_from_u64(seed),
        ).unwrap();
        let bytes = generation.encode();
        prop_assert_eq!(SignedGeneration::decode(&bytes).unwrap(), generation.clone());
        let sync = |bytes: &[u8]| -> Result<InboxState> {
            let chain = Chain {
                memberships: vec![f.membership.clone()],
                generations: vec![SignedGeneration::decode(bytes)?],
                ..Chain::default()
            };
            let mut s = InboxState::new(f.anchor);
            s.sync(&chain, NOW)?;
            Ok(s)
        };
        let state = sync(&bytes).unwrap();
        let unsealed = state.head_generation().unwrap().unseal(&f.agent).unwrap();
        prop_assert_eq!(unsealed.public_key(), secret.public_key());
        prop_assert!(sync(&flip(&bytes, bit)).is_err());
    }

    #[test]
    fn signed_root_rotation_round_trips_and_any_bit_flip_fails_to_sync(
        seed in any::<[u8; 32]>(),
        issued_at in any::<u64>(),
        bit in any::<Index>(),
    ) {
        let f = &*FIXTURE;
        let new_root = RootSecretKey::dangerous_from_bytes(&seed);
    let rotation = RootRotationBody {
            org: ORG,
            epoch: 1,
            prev: StatementHash::GENESIS,
            old_root: f.root.public(),
            new_root: new_root.public(),
            issued_at: Timestamp(issued_at),
        }
        .sign(&f.root, &new_root);
        let bytes = rotation.encode();
        prop_assert_eq!(SignedRootRotation::decode(&bytes).unwrap(), rotation);
        // Membership 1, signed by the new root, follows the rotation.
        let mut body = f.membership.body().clone();
        body.seq = Seq(1);
        body.prev = f.membership.hash();
        body.root_epoch = 1;
        let second = body.sign(&new_root).unwrap();
        let sync = |bytes: &[u8]| -> Result<()> {
            let chain = Chain {
                rotations: vec![SignedRootRotation::decode(bytes)?],
                memberships: vec![f.membership.clone(), second.clone()],
                generations: vec![],
            };
            InboxState::new(f.anchor).sync(&chain, NOW)
        };
        prop_assert_eq!(sync(&bytes), Ok(()));
        prop_assert!(sync(&flip(&bytes, bit)).is_err());
    }

    #[test]
    fn envelope_round_trips_opens_and_any_bit_flip_is_rejected(
        text in "\\PC{0,300}",
        from_visitor in any::<bool>(),
        note in any::<bool>(),
        counter in 1..=u64::MAX,
        (instance, reply_to, seed) in (any::<[u8; 16]>(), proptest::option::of(any::<[u8; 32]>()), any::<u64>()),
        bit in any::<Index>(),
    ) {
        let f = &*FIXTURE;
        let (device, audience) = match (from_visitor, note) {
            (true, _) => (&f.visitor, Audience::Conversation),
            (false, true) => (&f.agent, Audience::InternalNote),
            (false, false) => (&f.agent, Audience::Conversation),
        };
        let mut body = Body::text(text.clone());
        body.reply_to = reply_to.map(EnvelopeHash);
        let env = envelope::seal(
            &SenderKey { device, instance: InstanceId(instance) },
            Counter(counter),
            &f.conversation,
            &f.state,
            audience,
            &body,
            &[],
            NOW,
            &mut ChaCha20Rng::seed_from_u64(seed),
        ).unwrap();
        let bytes = env.encode();
        let decoded = Envelope::decode(&bytes).unwrap();
        prop_assert_eq!(decoded.encode(), bytes.clone());
        prop_assert_eq!(&decoded, &env);
        let open = |bytes: &[u8], mode| {
            envelope::open(bytes, &f.conversation, &f.state, &f.agent_keys, mode)
        };
        let opened = open(&bytes, live()).unwrap();
        prop_assert_eq!(&opened.body.text, &text);
        prop_assert_eq!(opened.body.reply_to, body.reply_to);
        prop_assert_eq!(opened.hash, env.hash());
        let flipped = flip(&bytes, bit);
        prop_assert!(open(&flipped, live()).is_err());
        prop_assert!(open(&flipped, OpenMode::History).is_err());
    }

    #[test]
    fn identity_token_any_bit_flip_fails_to_verify(
        (subject, name, token_id) in ("\\PC{1,40}", "\\PC{0,40}", any::<[u8; 16]>()),
        (age, lifetime) in (0u64..=300, 300u64..=600),
        hmac in any::<bool>(),
        bit in any::<Index>(),
    ) {
        let f = &*FIXTURE;
        let device = f.visitor.device_id();
        let mut claims = claims_at(device);
        claims.subject = subject;
        claims.name = name;
        claims.token_id = token_id;
        claims.issued_at = Timestamp(NOW.0 - age);
        claims.expires_at = Timestamp(claims.issued_at.0 + lifetime);
        let verify = |bytes: &[u8]| -> Result<()> {
            let t = IdentityToken::decode(bytes)?;
            if hmac {
                verify_hmac(&t, HMAC_SECRET, ORG, INBOX, device, NOW).map(drop)
            } else {
                verify_signed(&t, &f.token_keys, ORG, INBOX, device, NOW).map(drop)
            }
        };
        let token = if hmac {
            issue_hmac(claims, HMAC_SECRET).unwrap()
        } else {
            issue_signed(claims, &f.token_key).unwrap()
        };
        let bytes = token.encode();
        prop_assert_eq!(verify(&bytes), Ok(()));
        prop_assert!(verify(&flip(&bytes, bit)).is_err());
    }
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn attachments_round_trip_in_any_pieces_and_any_bit_flip_fails(
        size in prop_oneof![0usize..300, 0usize..300_000, 65_530usize..65_545],
        seed in any::<u64>(),
        enc_pieces in vec(1usize..100_000, 1..6),
        dec_pieces in vec(1usize..100_000, 1..6),
        bit in any::<Index>(),
    ) {
        let cid = FIXTURE.conversation.id();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let plain: Vec<u8> = (0..size).map(|i| (i as u64 ^ seed) as u8).collect();
        let mut enc = AttachmentEncryptor::new(&cid, size as u64, &mut rng).unwrap();
        let mut ciphertext = Vec::new();
        let mut rest = plain.as_slice();
        for n in enc_pieces.iter().cycle() {
            let (head, tail) = rest.split_at((*n).min(rest.len()));
            ciphertext.extend_from_slice(&enc.update(head));
            rest = tail;
            if rest.is_empty() {
                break;
            }
        }
        let (tail, reference) = enc.finish().unwrap();
        ciphertext.extend_from_slice(&tail);
        prop_assert_eq!(ciphertext.len() as u64, reference.ciphertext_len());
        prop_assert_eq!(reference.size(), size as u64);
        prop_assert_eq!(encode_ref(&read_ref(&encode_ref(&reference)).unwrap()), encode_ref(&reference));

        let mut dec = AttachmentDecryptor::new(&cid, &reference);
        let mut out = Vec::new();
        let mut rest = ciphertext.as_slice();
        for n in dec_pieces.iter().cycle() {
            let (head, tail) = rest.split_at((*n).min(rest.len()));
            out.extend_from_slice(&dec.update(head).unwrap());
            rest = tail;
            if rest.is_empty() {
                break;
            }
        }
        dec.finish().unwrap();
        prop_assert!(out == plain, "streamed decryption differs");
        prop_assert!(decrypt_attachment(&cid, &reference, &ciphertext).unwrap() == plain);
        prop_assert!(decrypt_attachment(&cid, &reference, &flip(&ciphertext, bit)).is_err());
    }
}
