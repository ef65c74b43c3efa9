//! Runs every case of `tests/vectors/*.json` (written by `cargo xtask
//! vectors`, documented in `tests/vectors/README.md`) through the public
//! API and compares the outcome with the case's `expected`: `success` (and
//! then the `result` object, field by field) or the error's `code()`.
//! Every file must hold positive and negative cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use confide_protocol::attachment::{AttachmentRef, decrypt_attachment};
use confide_protocol::codec::Reader;
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, Header, Keyring, OpenMode, SenderKind};
use confide_protocol::generation::SignedGeneration;
use confide_protocol::label;
use confide_protocol::membership::{Role, SignedMembership};
use confide_protocol::padding::{body_padded_len, padme};
use confide_protocol::replay::{Accepted, ReplayGuard};
use confide_protocol::root::SignedRootRotation;
use confide_protocol::state::{Chain, Checkpoint, InboxState, TrustAnchor};
use confide_protocol::token::{
    IdentityStrength, IdentityToken, TokenKey, verify_hmac, verify_signed,
};
use confide_protocol::*;
use serde_json::{Value, json};

/// A case's outcome: its `result` (`null` if it has none) or an error code
/// (or, for a harness-level mismatch, a message that matches no code).
type Outcome = std::result::Result<Value, String>;

fn load(file: &str) -> Value {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs every case of `file` and fails with the list of mismatches.
fn check_file(file: &str, run: impl Fn(&Value, &Value) -> Outcome) {
    let doc = load(file);
    assert!(doc["description"].is_string(), "{file}: no description");
    let cases = doc["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no cases"));
    let (mut positive, mut negative) = (0, 0);
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("case name");
        assert!(
            case["description"].is_string(),
            "{file}/{name}: no description"
        );
        let expected = case["expected"].as_str().expect("expected");
        if expected == "success" {
            positive += 1;
        } else {
            negative += 1;
        }
        let want = case.get("result").cloned().unwrap_or(Value::Null);
        match (expected, run(case, &doc)) {
            ("success", Ok(got)) if got == want => {}
            ("success", Ok(got)) => failures.push(format!(
                "{name}: result differs\n  expected {want}\n  got      {got}"
            )),
            ("success", Err(code)) => {
                failures.push(format!("{name}: expected success, got {code}"))
            }
            (code, Ok(_)) => failures.push(format!("{name}: expected {code}, got success")),
            (code, Err(got)) if got == code => {}
            (code, Err(got)) => failures.push(format!("{name}: expected {code}, got {got}")),
        }
    }
    assert!(positive > 0, "{file} has no positive case");
    assert!(negative > 0, "{file} has no negative case");
    assert!(
        failures.is_empty(),
        "{file}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn code(e: Error) -> String {
    e.code().to_string()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("not hex: {v}"))).expect("hex")
}

fn arr<const N: usize>(v: &Value) -> [u8; N] {
    bytes(v)
        .try_into()
        .unwrap_or_else(|_| panic!("not {N} bytes: {v}"))
}

fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn anchor(v: &Value) -> TrustAnchor {
    TrustAnchor {
        org: OrgId(arr(&v["org"])),
        inbox: InboxId(arr(&v["inbox"])),
        root: RootPublicKey::from_bytes(&arr(&v["root_public_key"])).expect("root key"),
    }
}

fn chain(v: &Value) -> Result<Chain> {
    let list = |k: &str| {
        v[k].as_array()
            .expect("chain list")
            .iter()
            .map(bytes)
            .collect::<Vec<_>>()
    };
    Ok(Chain {
        rotations: list("rotations")
            .iter()
            .map(|b| SignedRootRotation::decode(b))
            .collect::<Result<_>>()?,
        memberships: list("memberships")
            .iter()
            .map(|b| SignedMembership::decode(b))
            .collect::<Result<_>>()?,
        generations: list("generations")
            .iter()
            .map(|b| SignedGeneration::decode(b))
            .collect::<Result<_>>()?,
    })
}

fn role(r: Role) -> &'static str {
    match r {
        Role::Agent => "agent",
        Role::Supervisor => "supervisor",
        Role::Admin => "admin",
        Role::Scanner => "scanner",
    }
}

fn device_secret(v: &Value) -> DeviceSecretKey {
    let b: [u8; 64] = arr(v);
    let (seed, hpke) = b.split_at(32);
    DeviceSecretKey::dangerous_from_bytes(&seed.try_into().unwrap(), hpke.try_into().unwrap())
}

// ---------------------------------------------------------------- envelopes

fn run_envelope(case: &Value, doc: &Value) -> Outcome {
    let chain_name = case["chain"].as_str().expect("chain name");
    let chain = chain(&doc["chains"][chain_name]).map_err(code)?;
    let mut state = InboxState::new(anchor(&case["anchor"]));
    state
        .sync(&chain, Timestamp(num(&case["sync_time"])))
        .map_err(code)?;
    let conv = Conversation::decode_descriptor(
        &bytes(&case["conversation"]["descriptor"]),
        ConversationId(arr(&case["conversation"]["id"])),
    )
    .map_err(code)?;
    let receiver = &case["receiver"];
    let mut keys = Keyring::new();
    if !receiver["device_secret"].is_null() {
        let device = device_secret(&receiver["device_secret"]);
        for g in state.generations() {
            if let Ok(k) = g.unseal(&device) {
                keys.insert(k);
            }
        }
        keys.insert(HpkeSecretKey::dangerous_from_bytes(
            *device.hpke().dangerous_expose_bytes(),
        ));
    }
    for k in receiver["hpke_secrets"].as_array().expect("hpke_secrets") {
        keys.insert(HpkeSecretKey::dangerous_from_bytes(arr(k)));
    }
    let mode = match case["mode"].as_str() {
        Some("live") => OpenMode::Live {
            now: Timestamp(num(&case["now"])),
        },
        Some("history") => OpenMode::History,
        other => panic!("mode {other:?}"),
    };
    let env = bytes(&case["envelope"]);
    match case["operation"].as_str() {
        Some("open") => {
            let o = envelope::open(&env, &conv, &state, &keys, mode).map_err(code)?;
            let (kind, role, alias, current) = match &o.sender_kind {
                SenderKind::Visitor => ("visitor", Value::Null, Value::Null, Value::Null),
                SenderKind::Member {
                    role: r,
                    alias,
                    current,
                } => ("member", json!(role(*r)), json!(alias), json!(current)),
            };
            Ok(json!({
                "sender": o.sender.to_hex(),
                "sender_kind": kind,
                "role": role,
                "alias": alias,
                "current": current,
                "audience": match o.header.audience { Audience::Conversation => 1, Audience::InternalNote => 2 },
                "counter": o.header.counter.0,
                "instance": o.header.instance.to_hex(),
                "envelope_hash": o.hash.to_hex(),
                "content_type": o.body.content_type as u8,
                "text": o.body.text,
            }))
        }
        Some("open_and_accept_twice") => {
            let mut guard = ReplayGuard::new(conv.id());
            for round in 0..2 {
                let o = envelope::open(&env, &conv, &state, &keys, mode).map_err(code)?;
                let accepted = guard.accept(&o.header, o.hash).map_err(code)?;
                if round == 0 && accepted != Accepted::InOrder {
                    return Err(format!("first acceptance was {accepted:?}"));
                }
            }
            Ok(Value::Null)
        }
        other => panic!("operation {other:?}"),
    }
}

#[test]
fn envelope_vectors() {
    check_file("envelopes.json", run_envelope);
}

// --------------------------------------------------------------- statements

fn run_statement(case: &Value, _doc: &Value) -> Outcome {
    let anchor = anchor(&case["anchor"]);
    let mut state = match &case["checkpoint"] {
        Value::Null => InboxState::new(anchor),
        cp => InboxState::with_checkpoint(anchor, Checkpoint::decode(&bytes(cp)).map_err(code)?)
            .map_err(code)?,
    };
    let chain = chain(&case["chain"]).map_err(code)?;
    state
        .sync(&chain, Timestamp(num(&case["now"])))
        .map_err(code)?;
    match case["operation"].as_str() {
        Some("sync") => {
            let m = state.head_membership().expect("head membership");
            let g = state.head_generation();
            Ok(json!({
                "root_epoch": state.root_epoch(),
                "membership_seq": m.body().seq.0,
                "membership_hash": m.hash().to_hex(),
                "generation": g.map(|g| g.body().generation.0),
                "generation_hash": g.map(|g| g.hash().to_hex()),
                "checkpoint": hex::encode(state.checkpoint().expect("checkpoint").encode()),
            }))
        }
        Some("sync_then_unseal") => {
            let g = state
                .generation(Generation(num(&case["generation"])))
                .ok_or_else(|| "no such generation".to_string())?;
            let secret = g
                .unseal(&device_secret(&case["device_secret"]))
                .map_err(code)?;
            Ok(json!({
                "generation_secret": hex::encode(secret.dangerous_expose_bytes()),
                "generation_public_key": hex::encode(secret.public_key().0),
            }))
        }
        other => panic!("operation {other:?}"),
    }
}

#[test]
fn statement_vectors() {
    check_file("statements.json", run_statement);
}

// -------------------------------------------------------------- attachments

fn run_attachment(case: &Value, doc: &Value) -> Outcome {
    let conv = ConversationId(arr(&case["conversation_id"]));
    let reference_bytes = bytes(&case["reference"]);
    let mut r = Reader::new(&reference_bytes, Structure::Attachment);
    let reference = AttachmentRef::read(&mut r).map_err(code)?;
    r.finish().map_err(code)?;
    let mut ciphertext = Vec::new();
    for part in case["ciphertext"].as_array().expect("parts") {
        if let Some(h) = part.get("hex") {
            ciphertext.extend(bytes(h));
        } else {
            let blob = bytes(&doc["blobs"][part["blob"].as_str().expect("blob")]);
            let (start, end) = (num(&part["start"]) as usize, num(&part["end"]) as usize);
            ciphertext.extend_from_slice(&blob[start..end]);
        }
    }
    let plain = decrypt_attachment(&conv, &reference, &ciphertext).map_err(code)?;
    Ok(json!({
        "size": plain.len(),
        "plaintext_sha256": hex::encode(label::sha256(&plain)),
        "plaintext": if plain.len() <= 1024 { json!(hex::encode(&plain)) } else { Value::Null },
    }))
}

#[test]
fn attachment_vectors() {
    check_file("attachments.json", run_attachment);
}

// ------------------------------------------------------------------- tokens

fn run_token(case: &Value, _doc: &Value) -> Outcome {
    let token = IdentityToken::decode(&bytes(&case["token"])).map_err(code)?;
    let org = OrgId(arr(&case["org"]));
    let inbox = InboxId(arr(&case["inbox"]));
    let sender = DeviceId(arr(&case["sender"]));
    let now = Timestamp(num(&case["now"]));
    let verified = match case["verify"].as_str() {
        Some("signed") => {
            let keys: Vec<TokenKey> = case["token_keys"]
                .as_array()
                .expect("token_keys")
                .iter()
                .map(|k| {
                    let pk =
                        SigningPublicKey::from_bytes(&arr(&k["public_key"])).expect("token key");
                    TokenKey::new(k["key_id"].as_str().expect("key_id"), pk).expect("key id")
                })
                .collect();
            verify_signed(&token, &keys, org, inbox, sender, now)
        }
        Some("hmac") => verify_hmac(
            &token,
            &bytes(&case["hmac_secret"]),
            org,
            inbox,
            sender,
            now,
        ),
        other => panic!("verify {other:?}"),
    }
    .map_err(code)?;
    let c = verified.claims();
    Ok(json!({
        "key_id": c.key_id,
        "org": c.org.to_hex(),
        "inbox": c.inbox.to_hex(),
        "subject": c.subject,
        "name": c.name,
        "email": c.email,
        "issued_at": c.issued_at.0,
        "expires_at": c.expires_at.0,
        "token_id": hex::encode(c.token_id),
        "visitor_device": c.visitor_device.to_hex(),
        "strength": match verified.strength() {
            IdentityStrength::AgentVerified => "agent_verified",
            IdentityStrength::ServerVerified => "server_verified",
        },
    }))
}

#[test]
fn token_vectors() {
    check_file("tokens.json", run_token);
}

// ------------------------------------------------------------------- replay

fn run_replay(case: &Value, _doc: &Value) -> Outcome {
    let mut guard = ReplayGuard::new(ConversationId(arr(&case["conversation"])));
    let steps = case["steps"].as_array().expect("steps");
    let mut last = Ok(Value::Null);
    for (i, s) in steps.iter().enumerate() {
        let header = Header {
            audience: Audience::Conversation,
            conversation: ConversationId(arr(&s["conversation"])),
            sender: DeviceId(arr(&s["sender"])),
            instance: InstanceId(arr(&s["instance"])),
            counter: Counter(num(&s["counter"])),
            membership_seq: Seq(0),
            membership_hash: StatementHash::GENESIS,
            generation: Generation(0),
            generation_hash: StatementHash::GENESIS,
            recipients: Vec::new(),
            commitment: [0; 32],
        };
        let got = match guard.accept(&header, EnvelopeHash(arr(&s["hash"]))) {
            Ok(Accepted::InOrder) => "in_order".to_string(),
            Ok(Accepted::Gap { from, to }) => format!("gap {}..{}", from.0, to.0),
            Ok(Accepted::Late) => "late".to_string(),
            Err(e) => e.code().to_string(),
        };
        let want = match s["expected"].as_str().expect("step expected") {
            "gap" => format!("gap {}..{}", num(&s["gap_from"]), num(&s["gap_to"])),
            other => other.to_string(),
        };
        if got != want {
            return Err(format!("step {i}: expected {want}, got {got}"));
        }
        last = match want.as_str() {
            "in_order" | "late" => Ok(Value::Null),
            w if w.starts_with("gap ") => Ok(Value::Null),
            w => Err(w.to_string()),
        };
    }
    let state = guard.encode();
    if hex::encode(&state) != case["final_state"].as_str().expect("final_state") {
        return Err("final_state differs".into());
    }
    assert_eq!(
        ReplayGuard::decode(&state).as_ref(),
        Ok(&guard),
        "state round trip"
    );
    last
}

#[test]
fn replay_vectors() {
    check_file("replay.json", run_replay);
}

// --------------------------------------------------------------- primitives

fn run_primitive(case: &Value, _doc: &Value) -> Outcome {
    match case["operation"].as_str().expect("operation") {
        "padme" => {
            let n = num(&case["length"]);
            let att = attachment::padded_len(n);
            Ok(json!({
                "padme": padme(n),
                "body_padded_len": body_padded_len(n),
                "attachment_padded_len": att,
                "attachment_ciphertext_len": attachment::ciphertext_len(att),
            }))
        }
        "labelled_hash" => {
            let parts: Vec<Vec<u8>> = case["parts"]
                .as_array()
                .expect("parts")
                .iter()
                .map(bytes)
                .collect();
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let digest = label::hash(case["label"].as_str().expect("label"), &refs);
            Ok(json!({ "digest": hex::encode(digest) }))
        }
        "signing_input" => {
            let b = label::signing_input(
                case["label"].as_str().expect("label"),
                &bytes(&case["body"]),
            );
            Ok(json!({ "bytes": hex::encode(b) }))
        }
        "device_identity" => {
            let d = device_secret(&case["device_secret"]);
            let id = d.public();
            Ok(json!({
                "public_identity": hex::encode(id.encode()),
                "device_id": id.device_id().to_hex(),
                "recipient_id": id.hpke.recipient_id().to_hex(),
            }))
        }
        "hpke_key_from_ikm" => {
            let k = HpkeSecretKey::from_ikm(&bytes(&case["ikm"]));
            Ok(json!({
                "secret": hex::encode(k.dangerous_expose_bytes()),
                "public_key": hex::encode(k.public_key().0),
            }))
        }
        "device_id" => {
            let id = PublicIdentity::decode(&bytes(&case["public_identity"])).map_err(code)?;
            Ok(json!({ "device_id": id.device_id().to_hex() }))
        }
        "root_fingerprint" => {
            let pk = RootPublicKey::from_bytes(&arr(&case["root_public_key"])).map_err(code)?;
            let from_seed = RootSecretKey::dangerous_from_bytes(&arr(&case["root_seed"])).public();
            if from_seed != pk {
                return Err("root_seed does not give root_public_key".into());
            }
            Ok(json!({ "fingerprint": hex::encode(pk.fingerprint()) }))
        }
        "conversation_id" => {
            let visitor =
                PublicIdentity::decode(&bytes(&case["visitor_identity"])).map_err(code)?;
            let c = Conversation::verify(
                OrgId(arr(&case["org"])),
                InboxId(arr(&case["inbox"])),
                visitor,
                arr(&case["nonce"]),
                ConversationId(arr(&case["claimed_id"])),
            )
            .map_err(code)?;
            Ok(json!({ "conversation_id": c.id().to_hex() }))
        }
        "hpke_open" => {
            let sk = HpkeSecretKey::dangerous_from_bytes(arr(&case["recipient_secret"]));
            let plain = sk
                .open(
                    &bytes(&case["info"]),
                    &bytes(&case["aad"]),
                    &bytes(&case["sealed"]),
                )
                .map_err(code)?;
            Ok(json!({ "plaintext": hex::encode(plain.as_slice()) }))
        }
        "signature_verify" => {
            let pk = SigningPublicKey::from_bytes(&arr(&case["public_key"])).map_err(code)?;
            pk.verify(
                case["label"].as_str().expect("label"),
                &bytes(&case["body"]),
                &arr(&case["signature"]),
                Structure::Membership,
            )
            .map_err(code)?;
            Ok(Value::Null)
        }
        other => panic!("operation {other:?}"),
    }
}

#[test]
fn primitive_vectors() {
    check_file("primitives.json", run_primitive);
}

/// The checker itself must be able to fail: a flipped expectation is caught.
#[test]
fn a_wrong_expectation_is_reported() {
    let doc = load("replay.json");
    let mut case = doc["cases"][0].clone();
    assert!(run_replay(&case, &doc).is_ok());
    case["steps"][0]["expected"] = json!("late");
    assert!(run_replay(&case, &doc).is_err());
}
