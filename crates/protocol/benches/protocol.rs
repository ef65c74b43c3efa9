//! Criterion benchmarks of the protocol core (issue 2 targets on a 2-core machine):
//! seal+sign a 1 KiB message to 3 recipients (≤ 250 µs), verify+open it
//! (≤ 150 µs), and attachment encryption/decryption throughput against raw
//! ChaCha20-Poly1305 over the same bytes, measured in the same run (≥ 80 %).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use confide_protocol::attachment::{decrypt_attachment, encrypt_attachment};
use confide_protocol::body::Body;
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, Keyring, OpenMode, SenderKey};
use confide_protocol::generation::GenerationBody;
use confide_protocol::membership::{Member, MembershipBody, RequiredRecipient, Role, RoleSet};
use confide_protocol::state::{Chain, InboxState, TrustAnchor};
use confide_protocol::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;

const NOW: Timestamp = Timestamp(1_800_000_000);

struct Fixture {
    state: InboxState,
    conv: Conversation,
    visitor: DeviceSecretKey,
    agent_keys: Keyring,
}

fn fixture(rng: &mut ChaCha20Rng) -> Fixture {
    let (org, inbox) = (OrgId([1; 16]), InboxId([2; 16]));
    let root = RootSecretKey::generate(rng);
    let agent = DeviceSecretKey::generate(rng);
    let admin = DeviceSecretKey::generate(rng);
    let visitor = DeviceSecretKey::generate(rng);
    let records = HpkeSecretKey::generate(rng);
    let mut body = MembershipBody {
        org,
        inbox,
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
                identity: agent.public(),
                role: Role::Agent,
                alias: "Agent".into(),
            },
            Member {
                identity: admin.public(),
                role: Role::Admin,
                alias: "Admin".into(),
            },
        ],
        required_recipients: vec![RequiredRecipient {
            key: records.public_key(),
            purpose: "records".into(),
        }],
        token_keys: vec![],
        policy: vec![],
        name_book: vec![],
    };
    body.canonicalize();
    let anchor = TrustAnchor {
        org,
        inbox,
        root: root.public(),
    };
    let mut chain = Chain {
        memberships: vec![body.sign(&root).unwrap()],
        ..Chain::default()
    };
    let mut state = InboxState::new(anchor);
    state.sync(&chain, NOW).unwrap();
    let (g, _) =
        GenerationBody::issue(state.head_membership().unwrap(), None, &admin, NOW, rng).unwrap();
    chain.generations.push(g);
    state.sync(&chain, NOW).unwrap();
    let mut agent_keys = Keyring::new();
    agent_keys.insert(state.head_generation().unwrap().unseal(&agent).unwrap());
    let conv = Conversation::start(org, inbox, visitor.public(), rng);
    Fixture {
        state,
        conv,
        visitor,
        agent_keys,
    }
}

fn envelopes(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let f = fixture(&mut rng);
    let text = "x".repeat(1024);
    let sender = SenderKey {
        device: &f.visitor,
        instance: InstanceId([3; 16]),
    };
    let mut counter = 0u64;
    let mut group = c.benchmark_group("envelope_1KiB_3_recipients");
    group.bench_function("seal_and_sign", |b| {
        b.iter(|| {
            counter += 1;
            let body = Body::text(text.as_str());
            let env = envelope::seal(
                &sender,
                Counter(counter),
                &f.conv,
                &f.state,
                Audience::Conversation,
                &body,
                &[],
                NOW,
                &mut rng,
            )
            .unwrap();
            black_box(env.encode())
        })
    });
    let body = Body::text(text.as_str());
    let env = envelope::seal(
        &sender,
        Counter(1),
        &f.conv,
        &f.state,
        Audience::Conversation,
        &body,
        &[],
        NOW,
        &mut rng,
    )
    .unwrap()
    .encode();
    group.bench_function("verify_and_open", |b| {
        b.iter(|| {
            let opened = envelope::open(
                black_box(&env),
                &f.conv,
                &f.state,
                &f.agent_keys,
                OpenMode::Live { now: NOW },
            )
            .unwrap();
            black_box(opened.body.text.len())
        })
    });
    group.finish();
}

fn attachments(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(43);
    let conv = ConversationId([7; 32]);
    let mut group = c.benchmark_group("attachment");
    for size in [1usize << 20, 8 << 20] {
        let data = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        // Baseline: raw ChaCha20-Poly1305 over the same bytes, in 64 KiB chunks.
        let aead = ChaCha20Poly1305::new(&Key::from([9u8; 32]));
        let mut buf = data.clone();
        group.bench_with_input(
            BenchmarkId::new("raw_chacha20poly1305", size),
            &size,
            |b, _| {
                b.iter(|| {
                    for (i, chunk) in buf.chunks_mut(64 * 1024).enumerate() {
                        let mut nonce = [0u8; 12];
                        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
                        let tag = aead
                            .encrypt_inout_detached(&Nonce::from(nonce), &[], chunk.into())
                            .unwrap();
                        black_box(tag);
                    }
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("encrypt", size), &size, |b, _| {
            b.iter(|| black_box(encrypt_attachment(&conv, black_box(&data), &mut rng).unwrap()))
        });
        let (ct, reference) = encrypt_attachment(&conv, &data, &mut rng).unwrap();
        group.bench_with_input(BenchmarkId::new("decrypt", size), &size, |b, _| {
            b.iter(|| black_box(decrypt_attachment(&conv, &reference, black_box(&ct)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, envelopes, attachments);
criterion_main!(benches);
