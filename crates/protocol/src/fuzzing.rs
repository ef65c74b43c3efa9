//! Fuzzing entry points, built only with `--cfg fuzzing` (as `cargo fuzz`
//! builds). Each target in the repository's `fuzz/fuzz_targets/` is one
//! line calling one function here.
//!
//! A fixture is built once, deterministically: an organisation whose root
//! rotated once; an inbox with two memberships (admin, agent, then a
//! scanner too; a records key, a token key, a name book) and two key
//! generations; a conversation; a visitor envelope carrying an identity
//! token and an attachment reference, an agent reply; a one-chunk and a
//! two-chunk attachment. Every entry point runs the fuzzer's bytes against
//! it, raw or — chosen by the first byte — XOR-ed into a valid encoding,
//! optionally re-signed with the fixture's keys so that the checks behind
//! the signatures are reached too.
//!
//! Each entry point checks an oracle and panics (a crash to the fuzzer)
//! when it fails: a decode that succeeds re-encodes to its input, a
//! mutated envelope, attachment or statement chain is accepted only if it
//! is the original (or, re-signed by the sender, decrypts to the original
//! header and text).
//!
//! Non-goal: being API. Nothing here exists without `cfg(fuzzing)`.

// Fixture construction is infallible by design; a failure there is a bug
// the fuzzer must report loudly, and the oracles are assertions.
#![allow(clippy::expect_used, clippy::panic)]

extern crate std;

use crate::attachment::{AttachmentDecryptor, AttachmentRef, encrypt_attachment};
use crate::body::{AttachmentInfo, Body};
use crate::codec::{Reader, Writer};
use crate::conversation::Conversation;
use crate::envelope::{self, Audience, Envelope, Keyring, OpenMode, SenderKey};
use crate::generation::{GenerationBody, SignedGeneration};
use crate::ids::{Counter, InboxId, InstanceId, OrgId, Seq, StatementHash, Timestamp};
use crate::keys::{DeviceSecretKey, HpkeSecretKey, PublicIdentity, RootSecretKey};
use crate::label::labels;
use crate::membership::{
    Member, MembershipBody, RequiredRecipient, Role, RoleSet, SignedMembership,
};
use crate::replay::ReplayGuard;
use crate::root::{RootRotationBody, SignedRootRotation};
use crate::state::{Chain, Checkpoint, InboxState, TrustAnchor};
use crate::token::{IdentityClaims, IdentityToken, TokenKey, TokenSigningKey, issue_signed};
use crate::{keyfile, namebook};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::convert::Infallible;
use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const ORG: OrgId = OrgId([0x0a; 16]);
const INBOX: InboxId = InboxId([0x1b; 16]);
const NOW: Timestamp = Timestamp(1_800_000_000);
const TEXT: &str = "hello, I need help with my order";

/// `envelope::open` (live and history, agent and visitor keys) on the
/// input, or on the visitor envelope / agent reply mutated by it.
pub fn open_envelope(data: &[u8]) {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (valid, sender) = if mode & 1 == 0 {
        (&f.envelope, &f.visitor)
    } else {
        (&f.reply, &f.agent)
    };
    match (mode >> 1) % 3 {
        0 => {
            if open_all(f, rest) {
                assert!(rest == f.envelope.as_slice() || rest == f.reply.as_slice());
            }
        }
        1 => {
            let m = mutate(valid, rest);
            if open_all(f, &m) {
                assert_eq!(&m, valid, "a modified envelope opened");
            }
        }
        _ => {
            // Mutate the signed part, then sign it again as the sender: the
            // header and seals are bound by the header hash and the key
            // commitment, so only the original header and text may open.
            let signed_len = valid.len().saturating_sub(crate::keys::SIGNATURE_LEN);
            let mut m = mutate(valid.get(..signed_len).unwrap_or_default(), rest);
            let sig = sender.sign(labels::ENVELOPE_SIG, &m);
            m.extend_from_slice(&sig);
            let original = Envelope::decode(valid).expect("fixture envelope decodes");
            for keys in [&f.agent_keys, &f.visitor_keys] {
                if let Ok(opened) = envelope::open(&m, &f.conversation, &f.state, keys, live()) {
                    assert_eq!(
                        &opened.header,
                        original.header(),
                        "re-signed header changed"
                    );
                    let text = if mode & 1 == 0 { TEXT } else { "happy to help" };
                    assert_eq!(opened.body.text, text, "re-signed envelope changed text");
                }
            }
        }
    }
}

/// Decodes the input as a root rotation, membership or key generation
/// (raw, mutated, or mutated and re-signed by the fixture's keys), puts it
/// in place of one statement of the fixture's chain and syncs that chain
/// into a fresh state and into one holding the fixture's checkpoint.
pub fn verify_statements(data: &[u8]) {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let slot = mode % 5;
    let how = (mode / 5) % 3;
    let valid = match slot {
        0 => f.chain.rotations.first().map(SignedRootRotation::encode),
        1 | 2 => f
            .chain
            .memberships
            .get(usize::from(slot - 1))
            .map(SignedMembership::encode),
        _ => f
            .chain
            .generations
            .get(usize::from(slot - 3))
            .map(SignedGeneration::encode),
    }
    .expect("fixture chain is complete");
    let bytes = match how {
        0 => rest.to_vec(),
        1 => mutate(&valid, rest),
        _ => resign(f, slot, &valid, rest),
    };
    let mut chain = f.chain.clone();
    let decoded = match slot {
        0 => SignedRootRotation::decode(&bytes).map(|r| chain.rotations = vec![r]),
        1 | 2 => SignedMembership::decode(&bytes).map(|m| {
            if let Some(s) = chain.memberships.get_mut(usize::from(slot - 1)) {
                *s = m;
            }
        }),
        _ => SignedGeneration::decode(&bytes).map(|g| {
            if let Some(s) = chain.generations.get_mut(usize::from(slot - 3)) {
                *s = g;
            }
        }),
    };
    if decoded.is_err() {
        return;
    }
    let mut fresh = InboxState::new(f.anchor);
    if fresh.sync(&chain, NOW).is_ok() {
        if how == 1 {
            assert_eq!(bytes, valid, "a modified statement verified");
        }
        let _ = fresh.rotation_needed(NOW);
        let _ = envelope::open(&f.envelope, &f.conversation, &fresh, &f.agent_keys, live());
    }
    let mut pinned = InboxState::with_checkpoint(f.anchor, f.checkpoint).expect("same scope");
    if pinned.sync(&chain, NOW).is_ok() {
        // Everything is chained to the checkpoint's heads: nothing else verifies.
        assert_eq!(
            bytes, valid,
            "a statement other than the checkpointed one verified"
        );
    }
}

/// Feeds the input (raw, or XOR-ed into a valid ciphertext, or into the
/// encoded reference) to an [`AttachmentDecryptor`] in pieces.
pub fn decrypt_attachment(data: &[u8]) {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let att = if mode & 1 == 0 {
        &f.small
    } else {
        &f.two_chunks
    };
    // Odd cuts around the header and chunk boundaries; byte by byte only
    // for the small file (70 000 one-byte calls would make runs slow).
    const PIECES: [usize; 8] = [1, 16, 17, 4099, 65_551, 65_552, 65_553, usize::MAX];
    let piece = PIECES.get(usize::from(mode >> 4) % PIECES.len()).copied();
    let piece = piece
        .unwrap_or(usize::MAX)
        .max(if mode & 1 == 0 { 1 } else { 97 });
    let cid = f.conversation.id();
    match (mode >> 1) % 3 {
        0 => {
            if let Some(out) = decrypt_in_pieces(&cid, &att.reference, rest, piece) {
                assert_eq!(
                    rest,
                    att.ciphertext.as_slice(),
                    "foreign ciphertext decrypted"
                );
                assert_eq!(out, att.plaintext);
            }
        }
        1 => {
            let m = mutate(&att.ciphertext, rest);
            if let Some(out) = decrypt_in_pieces(&cid, &att.reference, &m, piece) {
                assert_eq!(m, att.ciphertext, "a modified ciphertext decrypted");
                assert_eq!(out, att.plaintext);
            }
        }
        _ => {
            let mut w = Writer::new();
            att.reference.write(&mut w);
            let m = mutate(w.as_slice(), rest);
            let mut r = Reader::new(&m, crate::Structure::Body);
            if let Ok(reference) = AttachmentRef::read(&mut r) {
                let _ = decrypt_in_pieces(&cid, &reference, &att.ciphertext, piece);
            }
        }
    }
}

/// Every decoder on the input, then on each valid encoding XOR-ed with
/// it; whatever decodes must re-encode to the same bytes.
pub fn decode_all(data: &[u8]) {
    let f = fixture();
    decode_each(f, data);
    for sample in &f.samples {
        decode_each(f, &mutate(sample, data));
    }
}

fn decode_each(f: &Fixture, data: &[u8]) {
    if let Ok(e) = Envelope::decode(data) {
        assert_eq!(e.encode(), data, "Envelope");
    }
    if let Ok(s) = SignedMembership::decode(data) {
        assert_eq!(s.encode(), data, "SignedMembership");
    }
    if let Ok(b) = MembershipBody::decode(data) {
        assert_eq!(b.encode().as_deref(), Ok(data), "MembershipBody");
    }
    if let Ok(s) = SignedGeneration::decode(data) {
        assert_eq!(s.encode(), data, "SignedGeneration");
    }
    if let Ok(b) = GenerationBody::decode(data) {
        assert_eq!(b.encode().as_deref(), Ok(data), "GenerationBody");
    }
    if let Ok(r) = SignedRootRotation::decode(data) {
        assert_eq!(r.encode(), data, "SignedRootRotation");
    }
    if let Ok(g) = crate::grant::SignedGrant::decode(data) {
        assert_eq!(g.encode(), data, "SignedGrant");
        let _ = g.accept(&f.state, &f.agent);
    }
    if let Ok(b) = Body::decode_padded(data) {
        let again = b.encode_padded().expect("a decoded body encodes");
        assert_eq!(again.as_slice(), data, "Body");
    }
    if let Ok(mut g) = ReplayGuard::decode(data) {
        assert_eq!(g.encode(), data, "ReplayGuard");
        let _ = g.accept(f.verified.header(), f.verified.hash());
    }
    if let Ok(c) = Checkpoint::decode(data) {
        assert_eq!(c.encode(), data, "Checkpoint");
        let _ = InboxState::with_checkpoint(f.anchor, c).map(|mut s| s.sync(&f.chain, NOW));
    }
    if let Ok(p) = PublicIdentity::decode(data) {
        assert_eq!(p.encode().as_slice(), data, "PublicIdentity");
    }
    if let Ok(c) = Conversation::decode_descriptor(data, f.conversation.id()) {
        assert_eq!(c.encode_descriptor(), data, "Conversation");
    }
    if let Ok(t) = IdentityToken::decode(data) {
        assert_eq!(t.encode(), data, "IdentityToken");
        let _ =
            crate::token::verify_signed(&t, &f.token_keys, ORG, INBOX, f.visitor.device_id(), NOW);
    }
    let mut r = Reader::new(data, crate::Structure::Body);
    if let Ok(a) = AttachmentRef::read(&mut r) {
        let mut w = Writer::new();
        a.write(&mut w);
        assert_eq!(Some(w.as_slice()), data.get(..AttachmentRef::ENCODED_LEN));
    }
    let mut r = Reader::new(data, crate::Structure::Membership);
    let _ = TokenKey::read(&mut r);
    // Opening a key file is `inspect` (all parsing and bounds) followed by
    // Argon2id and the AEAD; fuzzing the KDF would only make runs slow.
    let _ = keyfile::inspect(data);
    let _ = namebook::open_names(data, ORG, INBOX, Seq(1), &f.agent);
}

/// Opens `bytes` every way the fixture allows; whether any succeeded.
fn open_all(f: &Fixture, bytes: &[u8]) -> bool {
    let mut any = false;
    for mode in [live(), OpenMode::History] {
        for keys in [&f.agent_keys, &f.visitor_keys] {
            if let Ok(opened) = envelope::open(bytes, &f.conversation, &f.state, keys, mode) {
                any = true;
                let _ = opened.verify_identity(&f.conversation, &f.state, NOW);
            }
        }
    }
    if let Ok(v) = envelope::verify(bytes, &f.conversation, &f.state, live()) {
        let mut guard = ReplayGuard::new(f.conversation.id());
        let _ = guard.accept(v.header(), v.hash());
    }
    any
}

fn live() -> OpenMode {
    OpenMode::Live { now: NOW }
}

/// `valid` XOR `data` over their common length, then the rest of `data`
/// appended; a first byte of `0xff` instead truncates `valid` at the
/// offset in the next two bytes (mod its length) before the XOR.
fn mutate(valid: &[u8], data: &[u8]) -> Vec<u8> {
    let (base, data) = match data {
        [0xff, hi, lo, rest @ ..] => {
            let cut = usize::from(u16::from_be_bytes([*hi, *lo])) % valid.len().saturating_add(1);
            (valid.get(..cut).unwrap_or(valid), rest)
        }
        _ => (valid, data),
    };
    let mut out = base.to_vec();
    for (o, d) in out.iter_mut().zip(data) {
        *o ^= d;
    }
    out.extend_from_slice(data.get(base.len()..).unwrap_or_default());
    out
}

/// A statement of `slot` whose body is `valid`'s mutated by `data`, signed
/// again with the key(s) that signed the original.
fn resign(f: &Fixture, slot: u8, valid: &[u8], data: &[u8]) -> Vec<u8> {
    const SIG: usize = crate::keys::SIGNATURE_LEN;
    if slot == 0 {
        let body_len = valid.len().saturating_sub(2 * SIG);
        let body = mutate(valid.get(..body_len).unwrap_or_default(), data);
        let mut out = body.clone();
        out.extend_from_slice(&f.root0.sign(labels::ROOT_ROTATION_SIG, &body));
        out.extend_from_slice(&f.root1.sign(labels::ROOT_ROTATION_ACCEPT_SIG, &body));
        return out;
    }
    // `opaque32 body ‖ signature`.
    let body = valid
        .get(4..valid.len().saturating_sub(SIG))
        .unwrap_or_default();
    let body = mutate(body, data);
    let sig = match slot {
        1 => f.root0.sign(labels::MEMBERSHIP_SIG, &body),
        2 => f.root1.sign(labels::MEMBERSHIP_SIG, &body),
        _ => f.admin.sign(labels::GENERATION_SIG, &body),
    };
    let mut w = Writer::new();
    w.opaque32(&body);
    w.raw(&sig);
    w.into_vec()
}

/// Decrypts `ciphertext` in pieces of `piece` bytes; the plaintext if
/// every check passed.
fn decrypt_in_pieces(
    cid: &crate::ConversationId,
    reference: &AttachmentRef,
    ciphertext: &[u8],
    piece: usize,
) -> Option<Vec<u8>> {
    let mut dec = AttachmentDecryptor::new(cid, reference);
    let mut out = Vec::new();
    let mut ok = true;
    for chunk in ciphertext.chunks(piece.max(1)) {
        match dec.update(chunk) {
            Ok(p) => out.extend_from_slice(&p),
            Err(_) => ok = false,
        }
    }
    (dec.finish().is_ok() && ok).then_some(out)
}

struct Attachment {
    reference: AttachmentRef,
    ciphertext: Vec<u8>,
    plaintext: Vec<u8>,
}

struct Fixture {
    anchor: TrustAnchor,
    chain: Chain,
    checkpoint: Checkpoint,
    state: InboxState,
    root0: RootSecretKey,
    root1: RootSecretKey,
    admin: DeviceSecretKey,
    agent: DeviceSecretKey,
    visitor: DeviceSecretKey,
    conversation: Conversation,
    agent_keys: Keyring,
    visitor_keys: Keyring,
    token_keys: Vec<TokenKey>,
    envelope: Vec<u8>,
    verified: envelope::VerifiedEnvelope,
    reply: Vec<u8>,
    small: Attachment,
    two_chunks: Attachment,
    /// A valid encoding of every structure `decode_all` decodes.
    samples: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

fn build() -> Fixture {
    let mut rng = FixtureRng::new(b"confide fuzz fixture");
    let root0 = RootSecretKey::generate(&mut rng);
    let root1 = RootSecretKey::generate(&mut rng);
    let admin = DeviceSecretKey::generate(&mut rng);
    let agent = DeviceSecretKey::generate(&mut rng);
    let scanner = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let records = HpkeSecretKey::generate(&mut rng);
    let token_key = TokenSigningKey::generate(&mut rng);
    let token_keys = vec![TokenKey::new("backend-1", token_key.public()).expect("key id")];
    let anchor = TrustAnchor {
        org: ORG,
        inbox: INBOX,
        root: root0.public(),
    };

    let member = |d: &DeviceSecretKey, role: Role, alias: &str| Member {
        identity: d.public(),
        role,
        alias: String::from(alias),
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
        send_roles: RoleSet::of(&[Role::Agent, Role::Supervisor]),
        rotate_roles: RoleSet::of(&[Role::Admin]),
        members: vec![
            member(&admin, Role::Admin, "system"),
            member(&agent, Role::Agent, "Agent 1"),
        ],
        required_recipients: vec![RequiredRecipient {
            key: records.public_key(),
            purpose: String::from("records"),
        }],
        token_keys: token_keys.clone(),
        policy: b"{\"dlp\":\"warn\"}".to_vec(),
        name_book: Vec::new(),
    };
    body.canonicalize();
    let m0 = body.sign(&root0).expect("m0");
    let mut chain = Chain {
        rotations: Vec::new(),
        memberships: vec![m0.clone()],
        generations: Vec::new(),
    };
    let mut state = InboxState::new(anchor);
    state.sync(&chain, NOW).expect("sync m0");
    let (g0, _) = GenerationBody::issue(
        state.head_membership().expect("m0"),
        None,
        &admin,
        NOW,
        &mut rng,
    )
    .expect("g0");

    let rotation = RootRotationBody {
        org: ORG,
        epoch: 1,
        prev: StatementHash::GENESIS,
        old_root: root0.public(),
        new_root: root1.public(),
        issued_at: NOW,
    }
    .sign(&root0, &root1);
    body.seq = Seq(1);
    body.prev = m0.hash();
    body.root_epoch = 1;
    body.members
        .push(member(&scanner, Role::Scanner, "scanner"));
    body.canonicalize();
    body.name_book = namebook::seal_names(
        ORG,
        INBOX,
        Seq(1),
        &[
            (agent.device_id(), String::from("Alice Agent")),
            (admin.device_id(), String::from("System")),
        ],
        &[agent.public()],
        &mut rng,
    )
    .expect("name book");
    let m1 = body.sign(&root1).expect("m1");
    chain.rotations.push(rotation);
    chain.memberships.push(m1.clone());
    chain.generations.push(g0.clone());
    let mut state = InboxState::new(anchor);
    state.sync(&chain, NOW).expect("sync through m1");
    let (g1, g1_secret) = GenerationBody::issue(
        state.membership_by_hash(&m1.hash()).expect("m1"),
        Some((g0.body().generation, g0.hash())),
        &admin,
        NOW,
        &mut rng,
    )
    .expect("g1");
    chain.generations.push(g1);
    let mut state = InboxState::new(anchor);
    state.sync(&chain, NOW).expect("sync full chain");
    let checkpoint = state.checkpoint().expect("checkpoint");

    let conversation = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    let cid = conversation.id();
    let attach = |size: usize, rng: &mut FixtureRng| {
        let plaintext: Vec<u8> = (0..size).map(|i| (i % 251) as u8 + 1).collect();
        let (ciphertext, reference) =
            encrypt_attachment(&cid, &plaintext, rng).expect("attachment");
        Attachment {
            reference,
            ciphertext,
            plaintext,
        }
    };
    let small = attach(1000, &mut rng);
    let two_chunks = attach(70_000, &mut rng);

    let token = issue_signed(
        IdentityClaims {
            key_id: String::from("backend-1"),
            org: ORG,
            inbox: INBOX,
            subject: String::from("customer-42"),
            name: String::from("Erika Mustermann"),
            email: String::from("erika@example.com"),
            issued_at: NOW,
            expires_at: Timestamp(NOW.0 + 300),
            token_id: [4; 16],
            visitor_device: visitor.device_id(),
        },
        &token_key,
    )
    .expect("token")
    .encode();
    let mut ref_bytes = Writer::new();
    small.reference.write(&mut ref_bytes);
    let reference = AttachmentRef::read(&mut Reader::new(
        ref_bytes.as_slice(),
        crate::Structure::Body,
    ))
    .expect("reference");
    let mut body = Body::text(TEXT);
    body.reply_to = Some(crate::EnvelopeHash([3; 32]));
    body.identity_token = Some(token.clone());
    body.attachments.push(AttachmentInfo {
        name: String::from("invoice.pdf"),
        media_type: String::from("application/pdf"),
        reference,
    });
    let seal =
        |from: &DeviceSecretKey, body: &Body, extra: &[PublicIdentity], rng: &mut FixtureRng| {
            let sender = SenderKey {
                device: from,
                instance: InstanceId([7; 16]),
            };
            envelope::seal(
                &sender,
                Counter(1),
                &conversation,
                &state,
                Audience::Conversation,
                body,
                extra,
                NOW,
                rng,
            )
            .expect("seal")
            .encode()
        };
    let envelope = seal(&visitor, &body, &[scanner.public()], &mut rng);
    let reply = seal(&agent, &Body::text("happy to help"), &[], &mut rng);

    let mut agent_keys = Keyring::new();
    agent_keys.insert(HpkeSecretKey::dangerous_from_bytes(
        *agent.hpke().dangerous_expose_bytes(),
    ));
    agent_keys.insert(g1_secret);
    let mut visitor_keys = Keyring::new();
    visitor_keys.insert(HpkeSecretKey::dangerous_from_bytes(
        *visitor.hpke().dangerous_expose_bytes(),
    ));

    let verified = envelope::verify(&envelope, &conversation, &state, live()).expect("verify");
    let mut guard = ReplayGuard::new(cid);
    guard
        .accept(verified.header(), verified.hash())
        .expect("accept");
    let mut keyfile_sample = Vec::from(keyfile::MAGIC);
    keyfile_sample.extend_from_slice(&[1, 1, 1, 0, 0, 0x4c, 0, 0, 0, 0, 2, 0, 0, 0, 1]);
    keyfile_sample.extend_from_slice(&[9; keyfile::SALT_LEN + keyfile::NONCE_LEN]);
    keyfile_sample.extend_from_slice(&[0, 0, 0, 80]);
    keyfile_sample.extend_from_slice(&[5; 80]);
    let samples = vec![
        envelope.clone(),
        reply.clone(),
        m0.encode(),
        m1.encode(),
        m1.body().encode().expect("m1 body"),
        g0.encode(),
        g0.body().encode().expect("g0 body"),
        chain
            .rotations
            .iter()
            .flat_map(SignedRootRotation::encode)
            .collect(),
        body.encode_padded().expect("body").to_vec(),
        guard.encode(),
        checkpoint.encode(),
        visitor.public().encode().to_vec(),
        conversation.encode_descriptor(),
        token,
        ref_bytes.into_vec(),
        keyfile_sample,
        m1.body().name_book.clone(),
    ];

    Fixture {
        anchor,
        chain,
        checkpoint,
        state,
        root0,
        root1,
        admin,
        agent,
        visitor,
        conversation,
        agent_keys,
        visitor_keys,
        token_keys,
        envelope,
        verified,
        reply,
        small,
        two_chunks,
        samples,
    }
}

/// A deterministic byte stream (SHA-256 in counter mode over a fixed
/// seed) so the fixture is the same in every run. Not random: fixtures only.
struct FixtureRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl FixtureRng {
    fn new(seed: &[u8]) -> Self {
        Self {
            seed: Sha256::digest(seed).into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl TryRng for FixtureRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for d in dst {
            if self.used == self.block.len() {
                let mut h = Sha256::new();
                h.update(self.seed);
                h.update(self.counter.to_be_bytes());
                self.block = h.finalize().into();
                self.counter = self.counter.wrapping_add(1);
                self.used = 0;
            }
            *d = self.block.get(self.used).copied().unwrap_or_default();
            self.used += 1;
        }
        Ok(())
    }
}

impl TryCryptoRng for FixtureRng {}
