//! The facade end to end, natively: an organisation publishes statements,
//! a visitor device and a staff device talk through sealed envelopes, and
//! the checks refuse what they must (wrong pin, replays, garbage).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use confide_protocol::generation::GenerationBody;
use confide_protocol::membership::{Member, MembershipBody, RoleSet};
use confide_protocol::{RootSecretKey, Seq, StatementHash};
use serde_json::Value;

const ORG: OrgId = OrgId([0x0a; 16]);
const INBOX: InboxId = InboxId([0x1b; 16]);

fn now() -> Timestamp {
    Timestamp(1_900_000_000)
}

struct Org {
    root: RootSecretKey,
    server: DeviceSecretKey,
    chain: Chain,
}

impl Org {
    fn new() -> Self {
        Self {
            root: RootSecretKey::generate(&mut rng()),
            server: DeviceSecretKey::generate(&mut rng()),
            chain: Chain::default(),
        }
    }

    /// Publishes a membership of `agents` and a generation sealed to them.
    fn publish(&mut self, agents: &[String]) {
        let seq = self.chain.memberships.len() as u64;
        let prev = self
            .chain
            .memberships
            .last()
            .map_or(StatementHash::GENESIS, SignedMembership::hash);
        let mut members: Vec<Member> = agents
            .iter()
            .map(|identity| Member {
                identity: confide_protocol::PublicIdentity::decode(&hex::decode(identity).unwrap())
                    .unwrap(),
                role: Role::Agent,
                alias: "Support agent".into(),
            })
            .collect();
        members.push(Member {
            identity: self.server.public(),
            role: Role::Admin,
            alias: "Confide".into(),
        });
        let mut body = MembershipBody {
            org: ORG,
            inbox: INBOX,
            seq: Seq(seq),
            prev,
            root_epoch: 0,
            issued_at: now(),
            not_after: Timestamp(now().0 + 86_400),
            min_protocol_version: 1,
            send_roles: RoleSet::of(&[Role::Agent, Role::Supervisor]),
            rotate_roles: RoleSet::of(&[Role::Admin]),
            members,
            required_recipients: vec![],
            token_keys: vec![],
            policy: vec![],
            name_book: vec![],
        };
        body.canonicalize();
        self.chain.memberships.push(body.sign(&self.root).unwrap());
        let mut state = InboxState::new(TrustAnchor {
            org: ORG,
            inbox: INBOX,
            root: self.root.public(),
        });
        state.sync(&self.chain, now()).unwrap();
        let previous = state
            .head_generation()
            .map(|g| (g.body().generation, g.hash()));
        let (generation, _secret) = GenerationBody::issue(
            state.head_membership().unwrap(),
            previous,
            &self.server,
            now(),
            &mut rng(),
        )
        .unwrap();
        self.chain.generations.push(generation);
    }

    fn chain_json(&self) -> String {
        serde_json::json!({
            "rotations": [],
            "memberships": self.chain.memberships.iter().map(|m| hex::encode(m.encode())).collect::<Vec<_>>(),
            "generations": self.chain.generations.iter().map(|g| hex::encode(g.encode())).collect::<Vec<_>>(),
        })
        .to_string()
    }

    fn root_hex(&self) -> String {
        hex::encode(self.root.public().to_bytes())
    }

    fn fingerprint(&self) -> String {
        hex::encode(self.root.public().fingerprint())
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn pinned(org: &Org, staff: bool) -> Core {
    let mut d = Core::generate(staff).unwrap();
    d.pin(&ORG.to_hex(), &org.root_hex(), &org.fingerprint())
        .unwrap();
    d
}

#[test]
fn visitor_and_agent_talk_both_ways() {
    let mut org = Org::new();
    let mut agent = pinned(&org, true);
    org.publish(&[agent.identity()]);
    let inbox = INBOX.to_hex();

    let mut visitor = pinned(&org, false);
    let summary: Value =
        serde_json::from_str(&visitor.sync(&inbox, &org.chain_json(), now()).unwrap()).unwrap();
    assert_eq!(summary["can_send"], true);
    assert_eq!(summary["member"], false);
    let started: Value =
        serde_json::from_str(&visitor.start_conversation(&inbox, "").unwrap()).unwrap();
    let id = started["id"].as_str().unwrap();
    let sealed = visitor
        .seal(id, "Hello, my order", false, None, now())
        .unwrap();
    assert_eq!(sealed.counter, 1);

    let summary: Value =
        serde_json::from_str(&agent.sync(&inbox, &org.chain_json(), now()).unwrap()).unwrap();
    assert_eq!(summary["member"], true);
    assert_eq!(summary["readable_generations"], serde_json::json!([0]));
    let info: Value = serde_json::from_str(
        &agent
            .open_conversation(id, started["descriptor"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info["mine"], false);
    let m: Value = serde_json::from_str(
        &agent
            .open(id, &b64(&sealed.bytes), true, false, now())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m["text"], "Hello, my order");
    assert_eq!(m["sender"]["kind"], "visitor");
    assert_eq!(m["hash"], sealed.hash.as_str());

    // The same envelope again is a replay.
    let again = agent.open(id, &b64(&sealed.bytes), true, false, now());
    assert_eq!(again.unwrap_err().code(), "replay");

    let reply = agent.seal(id, "Let me check.", false, None, now()).unwrap();
    let note = agent.seal(id, "VIP customer", true, None, now()).unwrap();
    let m: Value = serde_json::from_str(
        &visitor
            .open(id, &b64(&reply.bytes), true, false, now())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m["text"], "Let me check.");
    assert_eq!(m["sender"]["alias"], "Support agent");
    assert_eq!(m["sender"]["role"], "agent");
    // Visitors are not recipients of internal notes.
    let refused = visitor.open(id, &b64(&note.bytes), true, false, now());
    assert!(refused.is_err());
    // The visitor opens its own message too (echo from the server).
    let own: Value = serde_json::from_str(
        &visitor
            .open(id, &b64(&sealed.bytes), false, false, now())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(own["sender"]["me"], true);
}

#[test]
fn a_device_survives_export_and_restore() {
    let d = Core::generate(false).unwrap();
    let secret = d.export_secret();
    assert_eq!(secret.len(), 64);
    let back = Core::restore(&secret, false).unwrap();
    assert_eq!(back.identity(), d.identity());
    assert_eq!(
        Core::restore(&secret[..63], false).err().unwrap().code(),
        "invalid_input"
    );
}

#[test]
fn a_wrong_pin_is_refused() {
    let org = Org::new();
    let other = Org::new();
    let mut d = Core::generate(false).unwrap();
    let e = d
        .pin(&ORG.to_hex(), &org.root_hex(), &other.fingerprint())
        .unwrap_err();
    assert_eq!(e.code(), "root_key_mismatch");
    assert_eq!(
        d.sync(&INBOX.to_hex(), "{}", now()).unwrap_err().code(),
        "invalid_input"
    );
}

#[test]
fn checkpoints_stop_rollback_across_page_loads() {
    let mut org = Org::new();
    let agent = pinned(&org, true);
    org.publish(&[agent.identity()]);
    let old_chain = org.chain_json();
    org.publish(&[agent.identity()]);
    let inbox = INBOX.to_hex();
    let mut first = pinned(&org, false);
    first.sync(&inbox, &org.chain_json(), now()).unwrap();
    let checkpoint = first.checkpoint(&inbox).unwrap();

    let mut second = pinned(&org, false);
    second.restore_checkpoint(&checkpoint).unwrap();
    let e = second.sync(&inbox, &old_chain, now()).unwrap_err();
    assert_eq!(e.code(), "rollback");
}

#[test]
fn garbage_from_the_network_is_an_error() {
    let mut org = Org::new();
    let agent = pinned(&org, true);
    org.publish(&[agent.identity()]);
    let inbox = INBOX.to_hex();
    let mut v = pinned(&org, false);
    for chain in [
        "",
        "null",
        "{\"memberships\":[\"zz\"]}",
        "{\"memberships\":[\"00\"]}",
    ] {
        assert!(v.sync(&inbox, chain, now()).is_err(), "{chain}");
    }
    v.sync(&inbox, &org.chain_json(), now()).unwrap();
    let started: Value = serde_json::from_str(&v.start_conversation(&inbox, "").unwrap()).unwrap();
    let id = started["id"].as_str().unwrap();
    for env in ["", "!!!", "AAAA", &b64(&[1u8; 300])] {
        assert!(v.open(id, env, true, false, now()).is_err(), "{env}");
    }
    assert_eq!(
        v.open(&"00".repeat(32), "AAAA", true, false, now())
            .unwrap_err()
            .code(),
        "unknown_conversation"
    );
    // A descriptor that does not commit to the id is refused.
    let e = v
        .open_conversation(&"11".repeat(32), started["descriptor"].as_str().unwrap())
        .unwrap_err();
    assert_eq!(e.code(), "conversation_id_mismatch");
    assert_eq!(
        v.seal(id, "note", true, None, now()).err().unwrap().code(),
        "not_staff"
    );
    assert_eq!(
        v.seal(id, "x", false, Some(5), now()).err().unwrap().code(),
        "invalid_input"
    );
}
