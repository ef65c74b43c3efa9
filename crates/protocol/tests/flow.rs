//! End-to-end flows through the public API: an organisation, an inbox with
//! agents, a visitor, messages both ways, internal notes, removal, rotation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use confide_protocol::body::Body;
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, Keyring, OpenMode, SenderKey, SenderKind};
use confide_protocol::generation::GenerationBody;
use confide_protocol::membership::{
    Member, MembershipBody, RequiredRecipient, Role, RoleSet, SignedMembership,
};
use confide_protocol::replay::{Accepted, ReplayGuard};
use confide_protocol::root::RootRotationBody;
use confide_protocol::state::{Chain, InboxState, TrustAnchor};
use confide_protocol::token::{
    IdentityClaims, IdentityStrength, TokenKey, TokenSigningKey, issue_signed,
};
use confide_protocol::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const NOW: Timestamp = Timestamp(1_800_000_000);
const ORG: OrgId = OrgId([0x0a; 16]);
const INBOX: InboxId = InboxId([0x1b; 16]);

struct Org {
    rng: ChaCha20Rng,
    root: RootSecretKey,
    chain: Chain,
    server_device: DeviceSecretKey,
    records: HpkeSecretKey,
    token_key: TokenSigningKey,
}

impl Org {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let root = RootSecretKey::generate(&mut rng);
        let server_device = DeviceSecretKey::generate(&mut rng);
        let records = HpkeSecretKey::generate(&mut rng);
        let token_key = TokenSigningKey::generate(&mut rng);
        Self {
            rng,
            root,
            chain: Chain::default(),
            server_device,
            records,
            token_key,
        }
    }

    fn anchor(&self) -> TrustAnchor {
        TrustAnchor {
            org: ORG,
            inbox: INBOX,
            root: self.root.public(),
        }
    }

    /// Issues the next membership with these (device, role) members, plus the
    /// org's own rotating admin device, and a generation for it.
    fn publish(&mut self, members: &[(&DeviceSecretKey, Role)]) -> InboxState {
        let seq = self.chain.memberships.len() as u64;
        let prev = self
            .chain
            .memberships
            .last()
            .map_or(StatementHash::GENESIS, SignedMembership::hash);
        let mut list: Vec<Member> = members
            .iter()
            .map(|(d, r)| Member {
                identity: d.public(),
                role: *r,
                alias: format!("{r:?}"),
            })
            .collect();
        list.push(Member {
            identity: self.server_device.public(),
            role: Role::Admin,
            alias: "system".into(),
        });
        let mut body = MembershipBody {
            org: ORG,
            inbox: INBOX,
            seq: Seq(seq),
            prev,
            root_epoch: 0,
            issued_at: NOW,
            not_after: Timestamp(NOW.0 + 30 * 86_400),
            min_protocol_version: 1,
            send_roles: RoleSet::of(&[Role::Agent, Role::Supervisor]),
            rotate_roles: RoleSet::of(&[Role::Admin, Role::Supervisor]),
            members: list,
            required_recipients: vec![RequiredRecipient {
                key: self.records.public_key(),
                purpose: "records".into(),
            }],
            token_keys: vec![TokenKey::new("backend-2026", self.token_key.public()).unwrap()],
            policy: b"{}".to_vec(),
            name_book: vec![],
        };
        body.canonicalize();
        self.chain.memberships.push(body.sign(&self.root).unwrap());
        let mut state = InboxState::new(self.anchor());
        state.sync(&self.chain, NOW).unwrap();
        let prev_gen = state
            .head_generation()
            .map(|g| (g.body().generation, g.hash()));
        let (generation, _secret) = GenerationBody::issue(
            state.head_membership().unwrap(),
            prev_gen,
            &self.server_device,
            NOW,
            &mut self.rng,
        )
        .unwrap();
        self.chain.generations.push(generation);
        let mut state = InboxState::new(self.anchor());
        state.sync(&self.chain, NOW).unwrap();
        state
    }
}

fn keyring(device: &DeviceSecretKey, state: &InboxState) -> Keyring {
    let mut k = Keyring::new();
    for g in state.generations() {
        if let Ok(s) = g.unseal(device) {
            k.insert(s);
        }
    }
    k.insert(HpkeSecretKey::dangerous_from_bytes(
        *device.hpke().dangerous_expose_bytes(),
    ));
    k
}

fn send(
    from: &DeviceSecretKey,
    counter: u64,
    conv: &Conversation,
    state: &InboxState,
    audience: Audience,
    text: &str,
    rng: &mut ChaCha20Rng,
) -> Vec<u8> {
    let sender = SenderKey {
        device: from,
        instance: InstanceId([counter as u8 ^ 0x55; 16]),
    };
    envelope::seal(
        &sender,
        Counter(counter),
        conv,
        state,
        audience,
        &Body::text(text),
        &[],
        NOW,
        rng,
    )
    .unwrap()
    .encode()
}

#[test]
fn visitor_and_agent_talk_both_ways_and_records_key_reads() {
    let mut org = Org::new(1);
    let mut rng = ChaCha20Rng::seed_from_u64(100);
    let agent = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let state = org.publish(&[(&agent, Role::Agent)]);
    let conv = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);

    let env = send(
        &visitor,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "hello, I need help",
        &mut rng,
    );
    let opened = envelope::open(
        &env,
        &conv,
        &state,
        &keyring(&agent, &state),
        OpenMode::Live { now: NOW },
    )
    .unwrap();
    assert_eq!(opened.body.text, "hello, I need help");
    assert_eq!(opened.sender_kind, SenderKind::Visitor);
    assert_eq!(opened.sender, visitor.device_id());
    // The visitor reads its own message (other tabs), the records key reads it too.
    assert!(envelope::open(&env, &conv, &state, &visitor, OpenMode::History).is_ok());
    assert!(envelope::open(&env, &conv, &state, &org.records, OpenMode::History).is_ok());

    let reply = send(
        &agent,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "happy to help",
        &mut rng,
    );
    let opened =
        envelope::open(&reply, &conv, &state, &visitor, OpenMode::Live { now: NOW }).unwrap();
    assert_eq!(opened.body.text, "happy to help");
    assert!(matches!(
        opened.sender_kind,
        SenderKind::Member {
            role: Role::Agent,
            current: true,
            ..
        }
    ));

    // The replay guard takes each envelope once.
    let mut guard = ReplayGuard::new(conv.id());
    let v = envelope::verify(&reply, &conv, &state, OpenMode::Live { now: NOW }).unwrap();
    assert_eq!(guard.accept(v.header(), v.hash()), Ok(Accepted::InOrder));
    assert_eq!(guard.accept(v.header(), v.hash()), Err(Error::Replay));
}

#[test]
fn internal_notes_never_reach_the_visitor() {
    let mut org = Org::new(2);
    let mut rng = ChaCha20Rng::seed_from_u64(200);
    let agent = DeviceSecretKey::generate(&mut rng);
    let supervisor = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let state = org.publish(&[(&agent, Role::Agent), (&supervisor, Role::Supervisor)]);
    let conv = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    let note = send(
        &agent,
        1,
        &conv,
        &state,
        Audience::InternalNote,
        "visitor seems legit",
        &mut rng,
    );
    assert!(
        envelope::open(
            &note,
            &conv,
            &state,
            &keyring(&supervisor, &state),
            OpenMode::Live { now: NOW }
        )
        .is_ok()
    );
    assert_eq!(
        envelope::open(&note, &conv, &state, &visitor, OpenMode::Live { now: NOW }).unwrap_err(),
        Error::NotARecipient
    );
    // A visitor cannot write an internal note.
    let sender = SenderKey {
        device: &visitor,
        instance: InstanceId([1; 16]),
    };
    assert_eq!(
        envelope::seal(
            &sender,
            Counter(1),
            &conv,
            &state,
            Audience::InternalNote,
            &Body::text("x"),
            &[],
            NOW,
            &mut rng
        )
        .unwrap_err(),
        Error::RecipientsDoNotFitAudience
    );
}

#[test]
fn removed_agent_cannot_read_new_messages_and_its_envelopes_are_rejected() {
    let mut org = Org::new(3);
    let mut rng = ChaCha20Rng::seed_from_u64(300);
    let alice = DeviceSecretKey::generate(&mut rng);
    let mallory = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let before = org.publish(&[(&alice, Role::Agent), (&mallory, Role::Agent)]);
    let conv = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    let mallory_keys = keyring(&mallory, &before);
    let after = org.publish(&[(&alice, Role::Agent)]);

    // Sent after the removal: sealed to the new generation, which mallory never received.
    let env = send(
        &visitor,
        1,
        &conv,
        &after,
        Audience::Conversation,
        "my new address",
        &mut rng,
    );
    assert_eq!(
        envelope::open(&env, &conv, &after, &mallory_keys, OpenMode::History).unwrap_err(),
        Error::NotARecipient
    );
    assert_eq!(
        after
            .head_generation()
            .unwrap()
            .unseal(&mallory)
            .unwrap_err(),
        Error::NotAGenerationRecipient
    );
    assert!(
        envelope::open(
            &env,
            &conv,
            &after,
            &keyring(&alice, &after),
            OpenMode::Live { now: NOW }
        )
        .is_ok()
    );

    // Mallory still signs with the old statements: rejected live by everyone in sync.
    let forged = send(
        &mallory,
        7,
        &conv,
        &before,
        Audience::Conversation,
        "pay to this IBAN",
        &mut rng,
    );
    assert_eq!(
        envelope::open(
            &forged,
            &conv,
            &after,
            &visitor,
            OpenMode::Live { now: NOW }
        )
        .unwrap_err(),
        Error::SenderRemoved
    );
    // Read later as history it is flagged as a former member's.
    let old = envelope::open(&forged, &conv, &after, &visitor, OpenMode::History).unwrap();
    assert!(matches!(
        old.sender_kind,
        SenderKind::Member { current: false, .. }
    ));
}

#[test]
fn other_inbox_agent_and_stale_statements() {
    let mut org = Org::new(4);
    let mut rng = ChaCha20Rng::seed_from_u64(400);
    let agent = DeviceSecretKey::generate(&mut rng);
    let outsider = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let state = org.publish(&[(&agent, Role::Agent)]);
    let conv = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    let env = send(
        &visitor,
        1,
        &conv,
        &state,
        Audience::Conversation,
        "secret",
        &mut rng,
    );
    assert_eq!(
        envelope::open(
            &env,
            &conv,
            &state,
            &keyring(&outsider, &state),
            OpenMode::Live { now: NOW }
        )
        .unwrap_err(),
        Error::NotARecipient
    );
    // An outsider's validly signed envelope is rejected.
    let sender = SenderKey {
        device: &outsider,
        instance: InstanceId([2; 16]),
    };
    assert_eq!(
        envelope::seal(
            &sender,
            Counter(1),
            &conv,
            &state,
            Audience::Conversation,
            &Body::text("x"),
            &[],
            NOW,
            &mut rng
        )
        .unwrap_err(),
        Error::SenderNotAllowed
    );
    // After a new membership, an envelope naming the old one is stale when live.
    let newer = org.publish(&[(&agent, Role::Agent), (&outsider, Role::Agent)]);
    assert_eq!(
        envelope::open(
            &env,
            &conv,
            &newer,
            &keyring(&agent, &newer),
            OpenMode::Live { now: NOW }
        )
        .unwrap_err(),
        Error::StaleStatement
    );
    assert!(
        envelope::open(
            &env,
            &conv,
            &newer,
            &keyring(&agent, &newer),
            OpenMode::History
        )
        .is_ok()
    );
    // Another conversation's guard/opening refuses it.
    let other = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    assert_eq!(
        envelope::open(&env, &other, &state, &visitor, OpenMode::History).unwrap_err(),
        Error::WrongConversation
    );
}

#[test]
fn root_rotation_then_new_memberships() {
    let mut org = Org::new(5);
    let mut rng = ChaCha20Rng::seed_from_u64(500);
    let agent = DeviceSecretKey::generate(&mut rng);
    let state = org.publish(&[(&agent, Role::Agent)]);
    let cp = state.checkpoint().unwrap();
    let new_root = RootSecretKey::generate(&mut rng);
    let rot = RootRotationBody {
        org: ORG,
        epoch: 1,
        prev: StatementHash::GENESIS,
        old_root: org.root.public(),
        new_root: new_root.public(),
        issued_at: NOW,
    }
    .sign(&org.root, &new_root);
    org.chain.rotations.push(rot);
    org.root = new_root;
    // A membership still under epoch 0 after the rotation is not accepted as head.
    let mut s = InboxState::with_checkpoint(org.anchor_with(state.anchor().root), cp).unwrap();
    assert_eq!(
        s.sync(&org.chain, NOW).unwrap_err(),
        Error::WrongSigner(Structure::Membership)
    );
    let _ = &mut rng;
}

impl Org {
    fn anchor_with(&self, root: RootPublicKey) -> TrustAnchor {
        TrustAnchor {
            org: ORG,
            inbox: INBOX,
            root,
        }
    }
}

#[test]
fn identity_token_in_first_message_marks_visitor_verified() {
    let mut org = Org::new(6);
    let mut rng = ChaCha20Rng::seed_from_u64(600);
    let agent = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let other = DeviceSecretKey::generate(&mut rng);
    let state = org.publish(&[(&agent, Role::Agent)]);
    let conv = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    let token_for = |device: DeviceId| {
        let claims = IdentityClaims {
            key_id: "backend-2026".into(),
            org: ORG,
            inbox: INBOX,
            subject: "customer-42".into(),
            name: "Erika Mustermann".into(),
            email: "erika@example.com".into(),
            issued_at: NOW,
            expires_at: Timestamp(NOW.0 + 300),
            token_id: [4; 16],
            visitor_device: device,
        };
        issue_signed(claims, &org.token_key).unwrap().encode()
    };
    let agent_keys = keyring(&agent, &state);
    let sender = SenderKey {
        device: &visitor,
        instance: InstanceId([8; 16]),
    };
    let cases = [
        (visitor.device_id(), None),
        (other.device_id(), Some(Error::TokenWrongDevice)),
    ];
    for (counter, (device, expected)) in (1..).zip(cases) {
        let mut body = Body::text("hi, it's me");
        body.identity_token = Some(token_for(device));
        let env = envelope::seal(
            &sender,
            Counter(counter),
            &conv,
            &state,
            Audience::Conversation,
            &body,
            &[],
            NOW,
            &mut rng,
        )
        .unwrap()
        .encode();
        let opened = envelope::open(
            &env,
            &conv,
            &state,
            &agent_keys,
            OpenMode::Live { now: NOW },
        )
        .unwrap();
        let verified = opened.verify_identity(&conv, &state, NOW).unwrap();
        match &expected {
            None => {
                let v = verified.unwrap();
                assert_eq!(v.strength(), IdentityStrength::AgentVerified);
                assert_eq!(v.claims().subject, "customer-42");
            }
            Some(e) => assert_eq!(&verified.unwrap_err(), e),
        }
        // Expired by the agent's clock.
        assert_eq!(
            opened
                .verify_identity(&conv, &state, Timestamp(NOW.0 + 301))
                .unwrap()
                .unwrap_err(),
            expected.unwrap_or(Error::TokenExpired)
        );
    }
}

#[test]
fn a_new_agent_reads_history_through_a_grant_and_nobody_else_can_use_one() {
    use confide_protocol::grant::SignedGrant;
    let mut org = Org::new(7);
    let mut rng = ChaCha20Rng::seed_from_u64(700);
    let alice = DeviceSecretKey::generate(&mut rng);
    let bob = DeviceSecretKey::generate(&mut rng);
    let outsider = DeviceSecretKey::generate(&mut rng);
    let visitor = DeviceSecretKey::generate(&mut rng);
    let before = org.publish(&[(&alice, Role::Agent)]);
    let conv = Conversation::start(ORG, INBOX, visitor.public(), &mut rng);
    let old = send(
        &visitor,
        1,
        &conv,
        &before,
        Audience::Conversation,
        "order 1234 is late",
        &mut rng,
    );

    // Bob joins later: the new generation is sealed to him, the old one is not.
    let after = org.publish(&[(&alice, Role::Agent), (&bob, Role::Agent)]);
    assert_eq!(
        envelope::open(
            &old,
            &conv,
            &after,
            &keyring(&bob, &after),
            OpenMode::History
        )
        .unwrap_err(),
        Error::NotARecipient
    );
    // Alice grants him generation 0; Bob accepts it and reads the history.
    let g0 = after.generation(Generation(0)).unwrap();
    let alice_g0 = g0.unseal(&alice).unwrap();
    let grant =
        SignedGrant::issue(&after, g0, &alice_g0, &alice, &bob.device_id(), &mut rng).unwrap();
    let wire = grant.encode();
    let key = SignedGrant::decode(&wire)
        .unwrap()
        .accept(&after, &bob)
        .unwrap();
    let mut ring = keyring(&bob, &after);
    ring.insert(key);
    let opened = envelope::open(&old, &conv, &after, &ring, OpenMode::History).unwrap();
    assert_eq!(opened.body.text, "order 1234 is late");

    // A grant to a non-member is refused at issue; a grant meant for Bob is useless to others.
    assert_eq!(
        SignedGrant::issue(
            &after,
            g0,
            &alice_g0,
            &alice,
            &outsider.device_id(),
            &mut rng
        )
        .unwrap_err(),
        Error::NotAGenerationRecipient
    );
    assert_eq!(
        SignedGrant::decode(&wire)
            .unwrap()
            .accept(&after, &outsider)
            .unwrap_err(),
        Error::NotAGenerationRecipient
    );
    // Any changed byte is refused.
    for i in [1usize, 50, 150, wire.len() - 1] {
        let mut bad = wire.clone();
        bad[i] ^= 0x01;
        assert!(
            SignedGrant::decode(&bad)
                .and_then(|g| g.accept(&after, &bob))
                .is_err(),
            "byte {i}"
        );
    }
    // Bob (a generation-1 reader only) cannot pose as a granter of generation 0.
    let forged =
        SignedGrant::issue(&after, g0, &alice_g0, &bob, &bob.device_id(), &mut rng).unwrap();
    assert_eq!(
        forged.accept(&after, &bob).unwrap_err(),
        Error::WrongSigner(Structure::Grant)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any single-bit change of a grant is refused by its grantee.
    #[test]
    fn any_bit_flip_of_a_grant_is_refused(bit in 0usize..(SignedGrantLen::LEN * 8)) {
        use confide_protocol::grant::SignedGrant;
        let (after, bob, wire) = &*GRANT_FIXTURE;
        let mut bad = wire.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        proptest::prop_assert!(SignedGrant::decode(&bad).and_then(|g| g.accept(after, bob)).is_err());
        proptest::prop_assert!(SignedGrant::decode(wire).unwrap().accept(after, bob).is_ok());
    }
}

struct SignedGrantLen;
impl SignedGrantLen {
    const LEN: usize = 1 + 16 + 16 + 8 + 32 + 32 + 32 + 80 + 64;
}

static GRANT_FIXTURE: std::sync::LazyLock<(InboxState, DeviceSecretKey, Vec<u8>)> =
    std::sync::LazyLock::new(|| {
        use confide_protocol::grant::SignedGrant;
        let mut org = Org::new(8);
        let mut rng = ChaCha20Rng::seed_from_u64(800);
        let alice = DeviceSecretKey::generate(&mut rng);
        let bob = DeviceSecretKey::generate(&mut rng);
        org.publish(&[(&alice, Role::Agent)]);
        let after = org.publish(&[(&alice, Role::Agent), (&bob, Role::Supervisor)]);
        let g0 = after.generation(Generation(0)).unwrap();
        let key = g0.unseal(&alice).unwrap();
        let wire = SignedGrant::issue(&after, g0, &key, &alice, &bob.device_id(), &mut rng)
            .unwrap()
            .encode();
        assert_eq!(wire.len(), SignedGrantLen::LEN);
        (after, bob, wire)
    });
