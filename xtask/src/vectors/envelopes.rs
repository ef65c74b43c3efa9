//! `envelopes.json`: sealed envelopes opened by each kind of recipient, and
//! every way an envelope must be refused (§8, §9, §10).
//!
//! Valid envelopes come from `envelope::seal` and are rebuilt byte for byte
//! by the independent encoder in [`super::raw`] (the generator stops if they
//! differ). Tampered envelopes are flipped bytes; envelopes a lying or
//! unauthorised sender would sign are crafted with [`super::raw`] and
//! signed with the sender's key.

use super::case::{Case, Ctx, SUCCESS, VectorFile, hx, obj};
use super::fixture::{
    INBOX, NOW, ORG, Parties, VALIDITY, add_generation, anchor_json, chain_json,
    last_membership_hash, role_name, signing_seed, sync,
};
use super::raw::{
    self, KIND_DEVICE, KIND_INBOX, KIND_REQUIRED, KIND_VISITOR, RawEnvelope, RawRecipient,
};
use confide_protocol::body::Body;
use confide_protocol::conversation::Conversation;
use confide_protocol::envelope::{self, Audience, SenderKey};
use confide_protocol::membership::Role;
use confide_protocol::rand_core::SeedableRng;
use confide_protocol::state::{Chain, InboxState, TrustAnchor};
use confide_protocol::{
    Counter, DeviceSecretKey, HpkeSecretKey, InstanceId, StatementHash, Timestamp,
};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

mod crafted;
mod tampered;

/// Who opens a case's envelope.
enum Receiver<'a> {
    /// A device: its own HPKE key plus every generation key it can unseal.
    Device(&'a DeviceSecretKey),
    /// A bare HPKE key (the records key).
    Hpke(&'a HpkeSecretKey),
}

/// What a receiver should learn from a successful open.
struct Expect<'a> {
    text: &'a str,
    sender: &'a DeviceSecretKey,
    /// `None` for the visitor, else (role, alias, still a sending member).
    member: Option<(Role, &'a str, bool)>,
    audience: u8,
    counter: u64,
    instance: InstanceId,
}

/// The statements a receiver has verified, and the conversation it opens in.
#[derive(Clone, Copy)]
struct World<'a> {
    anchor: TrustAnchor,
    /// The name of the chain in the file's `chains` table.
    chain: &'static str,
    conversation: &'a Conversation,
}

/// How the receiver opens.
#[derive(Clone, Copy)]
enum Mode {
    Live(Timestamp),
    History,
}

const VISITOR_INSTANCE: InstanceId = InstanceId([0x5a; 16]);
const AGENT_INSTANCE: InstanceId = InstanceId([0xa5; 16]);
const SUPERVISOR_INSTANCE: InstanceId = InstanceId([0x3c; 16]);

/// Builds the file.
pub fn generate() -> Result<VectorFile, String> {
    let p = Parties::new(0x0e01);
    let mut rng = ChaCha20Rng::seed_from_u64(0x0e02);
    let anchor = p.anchor();

    let mut chain = Chain::default();
    let m0 = p.membership(0, StatementHash::GENESIS, 0, &p.standard_members());
    chain.memberships.push(m0.sign(&p.root).ctx("sign m0")?);
    add_generation(anchor, &mut chain, &p.admin, &mut rng)?;
    let state = sync(anchor, &chain, NOW)?;

    // The agent is removed: membership 1 and generation 1.
    let mut removed = chain.clone();
    let without_agent: Vec<_> = p
        .standard_members()
        .into_iter()
        .filter(|(_, r, _)| *r != Role::Agent)
        .collect();
    let m1 = p.membership(1, last_membership_hash(&chain), 0, &without_agent);
    removed.memberships.push(m1.sign(&p.root).ctx("sign m1")?);
    add_generation(anchor, &mut removed, &p.admin, &mut rng)?;

    let conv = Conversation::start(ORG, INBOX, p.visitor.public(), &mut rng);
    let other_conv = Conversation::start(ORG, INBOX, p.visitor.public(), &mut rng);
    let w = World {
        anchor,
        chain: "base",
        conversation: &conv,
    };
    let w_removed = World {
        chain: "agent_removed",
        ..w
    };
    let live = Mode::Live(NOW);

    let mut f = VectorFile::new(
        "envelopes.json",
        "Envelopes (docs/protocol.md §8-§10): verify the chain from the anchor at sync_time, \
         open the envelope in the conversation with the receiver's keys, compare the outcome.",
    );
    // A membership that requires a protocol version newer than 1 (own rng,
    // so it does not shift the other vectors).
    let mut v2_rng = ChaCha20Rng::seed_from_u64(0x0e03);
    let mut v2_body = p.membership(0, StatementHash::GENESIS, 0, &p.standard_members());
    v2_body.min_protocol_version = 2;
    let mut v2_chain = Chain::default();
    v2_chain
        .memberships
        .push(v2_body.sign(&p.root).ctx("sign v2")?);
    add_generation(anchor, &mut v2_chain, &p.admin, &mut v2_rng)?;
    let v2_state = sync(anchor, &v2_chain, NOW)?;

    f.shared("keys", p.keys_json());
    f.shared(
        "chains",
        obj([
            ("base", chain_json(&chain)),
            ("agent_removed", chain_json(&removed)),
            ("min_version_2", chain_json(&v2_chain)),
        ]),
    );

    // --- valid envelopes ---
    let hello = "Hello, I was charged twice for order 1042.";
    let (visitor_msg, visitor_ck) = seal_checked(
        &p,
        &state,
        &conv,
        &p.visitor,
        VISITOR_INSTANCE,
        1,
        Audience::Conversation,
        hello,
        &[],
        &mut rng,
    )?;
    let visitor_expect = Expect {
        text: hello,
        sender: &p.visitor,
        member: None,
        audience: 1,
        counter: 1,
        instance: VISITOR_INSTANCE,
    };
    f.push(case(
        "visitor_message_opened_by_agent",
        "A visitor's message, opened live by an agent device through the inbox generation key it unsealed.",
        w, &visitor_msg, &visitor_ck, live, Receiver::Device(&p.agent), Some(&visitor_expect),
    ));
    f.push(case(
        "visitor_message_opened_by_records_key",
        "The same message read later with the organisation's records key (a required recipient).",
        w,
        &visitor_msg,
        &visitor_ck,
        Mode::History,
        Receiver::Hpke(&p.records),
        Some(&visitor_expect),
    ));
    f.push(case(
        "visitor_message_opened_by_visitor_device",
        "The same message opened by the visitor's own device (another tab).",
        w,
        &visitor_msg,
        &visitor_ck,
        live,
        Receiver::Device(&p.visitor),
        Some(&visitor_expect),
    ));
    f.push(
        case(
            "visitor_message_replayed",
            "The same message opened twice and given to one replay guard each time: the second acceptance is a replay.",
            w, &visitor_msg, &visitor_ck, live, Receiver::Device(&p.agent), None,
        )
        .with("expected", "replay")
        .with("operation", "open_and_accept_twice"),
    );
    f.push(with_expected(
        case(
            "not_a_recipient",
            "A device that is no recipient (an outsider) cannot open the message.",
            w,
            &visitor_msg,
            &visitor_ck,
            live,
            Receiver::Device(&p.outsider),
            None,
        ),
        "not_a_recipient",
    ));
    f.push(with_expected(
        case(
            "wrong_conversation",
            "The message opened in another conversation of the same visitor.",
            World {
                conversation: &other_conv,
                ..w
            },
            &visitor_msg,
            &visitor_ck,
            live,
            Receiver::Device(&p.agent),
            None,
        ),
        "wrong_conversation",
    ));
    f.push(with_expected(
        case(
            "membership_expired_live",
            "Opened live after the membership's not_after.",
            w,
            &visitor_msg,
            &visitor_ck,
            Mode::Live(Timestamp(NOW.0 + VALIDITY + 1)),
            Receiver::Device(&p.agent),
            None,
        ),
        "membership_expired",
    ));

    let reply = "Sorry about that, I have refunded the second charge.";
    let (agent_msg, agent_ck) = seal_checked(
        &p,
        &state,
        &conv,
        &p.agent,
        AGENT_INSTANCE,
        1,
        Audience::Conversation,
        reply,
        &[],
        &mut rng,
    )?;
    let agent_expect = |current| Expect {
        text: reply,
        sender: &p.agent,
        member: Some((Role::Agent, "Agent", current)),
        audience: 1,
        counter: 1,
        instance: AGENT_INSTANCE,
    };
    f.push(case(
        "agent_reply_opened_by_visitor",
        "An agent's reply, opened live by the visitor's device.",
        w,
        &agent_msg,
        &agent_ck,
        live,
        Receiver::Device(&p.visitor),
        Some(&agent_expect(true)),
    ));
    f.push(with_expected(
        case(
            "sender_removed_live",
            "The agent's reply, opened live by a receiver whose head membership no longer lists the agent.",
            w_removed, &agent_msg, &agent_ck, live, Receiver::Device(&p.visitor), None,
        ),
        "sender_removed",
    ));
    f.push(case(
        "sender_removed_history",
        "The same reply read as history: accepted, and flagged as from a former member (current = false).",
        w_removed, &agent_msg, &agent_ck, Mode::History, Receiver::Device(&p.visitor), Some(&agent_expect(false)),
    ));

    let note = "Customer verified by phone; refund approved.";
    let (note_msg, note_ck) = seal_checked(
        &p,
        &state,
        &conv,
        &p.agent,
        AGENT_INSTANCE,
        2,
        Audience::InternalNote,
        note,
        &[],
        &mut rng,
    )?;
    f.push(case(
        "internal_note_opened_by_supervisor",
        "An agent's internal note, opened by a supervisor device through the generation key.",
        w,
        &note_msg,
        &note_ck,
        live,
        Receiver::Device(&p.supervisor),
        Some(&Expect {
            audience: 2,
            counter: 2,
            text: note,
            ..agent_expect(true)
        }),
    ));
    f.push(with_expected(
        case(
            "internal_note_not_readable_by_visitor",
            "The internal note is never sealed to the visitor.",
            w,
            &note_msg,
            &note_ck,
            live,
            Receiver::Device(&p.visitor),
            None,
        ),
        "not_a_recipient",
    ));

    let scan = "Invoice attached for scanning.";
    let (scan_msg, scan_ck) = seal_checked(
        &p,
        &state,
        &conv,
        &p.agent,
        AGENT_INSTANCE,
        3,
        Audience::Conversation,
        scan,
        &[&p.scanner],
        &mut rng,
    )?;
    f.push(case(
        "device_recipient_opened_by_scanner",
        "An agent's message also addressed to the scanner device (recipient kind 4), opened by the scanner.",
        w, &scan_msg, &scan_ck, live, Receiver::Device(&p.scanner),
        Some(&Expect { counter: 3, text: scan, ..agent_expect(true) }),
    ));

    let stale_text = "Any news?";
    let (sup_msg, sup_ck) = seal_checked(
        &p,
        &state,
        &conv,
        &p.supervisor,
        SUPERVISOR_INSTANCE,
        1,
        Audience::Conversation,
        stale_text,
        &[],
        &mut rng,
    )?;
    f.push(with_expected(
        case(
            "stale_statement_live",
            "A supervisor's message naming membership 0, opened live by a receiver whose head is membership 1.",
            w_removed, &sup_msg, &sup_ck, live, Receiver::Device(&p.visitor), None,
        ),
        "stale_statement",
    ));

    tampered::push(&mut f, &p, w, &visitor_msg, &visitor_ck)?;
    crafted::push(&mut f, &p, &state, &conv, w, &mut rng)?;

    let built = honest_raw(
        &p,
        &v2_state,
        &conv,
        &p.visitor,
        VISITOR_INSTANCE,
        20,
        1,
        "version 1 envelope",
        &[],
    )?
    .build(&mut v2_rng)?;
    f.push(with_expected(
        case(
            "membership_requires_newer_version",
            "The named membership's min_protocol_version is 2; the envelope is version 1.",
            World {
                chain: "min_version_2",
                ..w
            },
            &built.bytes,
            &built.content_key,
            live,
            Receiver::Device(&p.agent),
            None,
        ),
        "version_too_old",
    ));
    Ok(f)
}

/// Offsets inside an encoded header with `n` recipients.
struct HeaderOffsets {
    instance: usize,
    counter: usize,
    recipients: usize,
    commitment: usize,
    end: usize,
}

impl HeaderOffsets {
    fn new(n: usize) -> Self {
        let instance = 2 + 32 + 32;
        let counter = instance + 16;
        let recipients = counter + 8 + 8 + 32 + 8 + 32 + 2;
        let commitment = recipients + 33 * n;
        Self {
            instance,
            counter,
            recipients,
            commitment,
            end: commitment + 32,
        }
    }
}

fn flip(bytes: &[u8], at: usize) -> Result<Vec<u8>, String> {
    flip_mask(bytes, at, 1)
}

fn flip_mask(bytes: &[u8], at: usize, mask: u8) -> Result<Vec<u8>, String> {
    let mut v = bytes.to_vec();
    *v.get_mut(at).ctx("flip offset")? ^= mask;
    Ok(v)
}

fn swap(bytes: &[u8], a: usize, b: usize, len: usize) -> Result<Vec<u8>, String> {
    let mut v = bytes.to_vec();
    let first = bytes.get(a..a + len).ctx("swap")?;
    let second = bytes.get(b..b + len).ctx("swap")?;
    v.get_mut(a..a + len).ctx("swap")?.copy_from_slice(second);
    v.get_mut(b..b + len).ctx("swap")?.copy_from_slice(first);
    Ok(v)
}

/// The raw description of what `envelope::seal` builds for these inputs.
#[allow(clippy::too_many_arguments)]
fn honest_raw(
    p: &Parties,
    state: &InboxState,
    conv: &Conversation,
    sender: &DeviceSecretKey,
    instance: InstanceId,
    counter: u64,
    audience: u8,
    text: &str,
    extra: &[&DeviceSecretKey],
) -> Result<RawEnvelope, String> {
    let m = state.head_membership().ctx("head membership")?;
    let g = state.head_generation().ctx("head generation")?;
    let mut recipients = Vec::new();
    if audience == 1 {
        recipients.push(RawRecipient::new(KIND_VISITOR, conv.visitor().hpke.0));
    }
    recipients.push(RawRecipient::new(KIND_INBOX, g.body().public_key.0));
    recipients.push(RawRecipient::new(KIND_REQUIRED, p.records.public_key().0));
    for d in extra {
        recipients.push(RawRecipient::new(KIND_DEVICE, d.public().hpke.0));
    }
    Ok(RawEnvelope {
        version: 1,
        audience,
        conversation: conv.id().0,
        signing_seed: signing_seed(sender)?,
        sender: sender.device_id().0,
        instance: instance.0,
        counter,
        membership: (m.body().seq.0, m.hash().0),
        generation: (g.body().generation.0, g.hash().0),
        recipients,
        keep_order: false,
        commitment: None,
        content_type: 1,
        text: text.to_string(),
        flip_body_byte: None,
    })
}

/// `envelope::seal`, checked against the independent encoder run on a
/// copy of the rng. Returns the envelope and its content key.
#[allow(clippy::too_many_arguments)]
fn seal_checked(
    p: &Parties,
    state: &InboxState,
    conv: &Conversation,
    sender: &DeviceSecretKey,
    instance: InstanceId,
    counter: u64,
    audience: Audience,
    text: &str,
    extra: &[&DeviceSecretKey],
    rng: &mut ChaCha20Rng,
) -> Result<(Vec<u8>, [u8; 32]), String> {
    let mut mirror = rng.clone();
    let extra_ids: Vec<_> = extra.iter().map(|d| d.public()).collect();
    let env = envelope::seal(
        &SenderKey {
            device: sender,
            instance,
        },
        Counter(counter),
        conv,
        state,
        audience,
        &Body::text(text),
        &extra_ids,
        NOW,
        rng,
    )
    .ctx("envelope::seal")?
    .encode();
    let raw = honest_raw(
        p,
        state,
        conv,
        sender,
        instance,
        counter,
        audience as u8,
        text,
        extra,
    )?
    .build(&mut mirror)?;
    if raw.bytes != env {
        return Err(format!(
            "the independent encoder (xtask/src/vectors/raw.rs) disagrees with envelope::seal \
             for {text:?}:\n seal: {}\n raw:  {}",
            hex::encode(&env),
            hex::encode(&raw.bytes)
        ));
    }
    Ok((env, raw.content_key))
}

fn with_expected(c: Case, expected: &str) -> Case {
    c.with("expected", expected)
}

/// One case. `expect` is `Some` for a success (filling `result`); for a
/// failure pass `None` and set `expected` with [`with_expected`].
#[allow(clippy::too_many_arguments)]
fn case(
    name: &str,
    description: &str,
    w: World<'_>,
    envelope: &[u8],
    content_key: &[u8; 32],
    mode: Mode,
    receiver: Receiver<'_>,
    expect: Option<&Expect<'_>>,
) -> Case {
    let (mode_name, now) = match mode {
        Mode::Live(t) => ("live", Value::from(t.0)),
        Mode::History => ("history", Value::Null),
    };
    let receiver = match receiver {
        Receiver::Device(d) => obj([
            ("device_secret", hx(d.dangerous_expose_bytes().as_ref())),
            ("hpke_secrets", Value::Array(vec![])),
        ]),
        Receiver::Hpke(k) => obj([
            ("device_secret", Value::Null),
            (
                "hpke_secrets",
                Value::Array(vec![hx(k.dangerous_expose_bytes())]),
            ),
        ]),
    };
    let mut c = Case::new(name, description, SUCCESS)
        .with("anchor", anchor_json(&w.anchor))
        .with("chain", w.chain)
        .with("sync_time", NOW.0)
        .with(
            "conversation",
            obj([
                ("id", hx(w.conversation.id().0)),
                ("descriptor", hx(w.conversation.encode_descriptor())),
            ]),
        )
        .hex("envelope", envelope)
        .hex("content_key", content_key)
        .with("mode", mode_name)
        .with("now", now)
        .with("receiver", receiver)
        .with("operation", "open");
    if let Some(e) = expect {
        let (kind, role, alias, current) = match e.member {
            None => ("visitor", Value::Null, Value::Null, Value::Null),
            Some((r, a, cur)) => ("member", role_name(r).into(), a.into(), cur.into()),
        };
        c = c.with(
            "result",
            obj([
                ("sender", hx(e.sender.device_id().0)),
                ("sender_kind", kind.into()),
                ("role", role),
                ("alias", alias),
                ("current", current),
                ("audience", e.audience.into()),
                ("counter", e.counter.into()),
                ("instance", hx(e.instance.0)),
                (
                    "envelope_hash",
                    hx(raw::h("confide/v1/envelope-hash", &[envelope])),
                ),
                ("content_type", 1.into()),
                ("text", e.text.into()),
            ]),
        );
    }
    c
}
