//! `replay.json`: sequences of (sender, instance, counter, envelope hash)
//! given to one conversation's replay guard, with each step's outcome and
//! the guard's encoded state at the end (§10).

use super::case::{Case, SUCCESS, VectorFile, hx, obj};
use super::raw;
use confide_protocol::envelope::{Audience, Header};
use confide_protocol::replay::ReplayGuard;
use confide_protocol::{
    ConversationId, Counter, DeviceId, EnvelopeHash, Generation, InstanceId, Seq, StatementHash,
};
use serde_json::Value;

const S1: [u8; 32] = [0x01; 32];
const S2: [u8; 32] = [0x02; 32];
const I1: [u8; 16] = [0x11; 16];
const I2: [u8; 16] = [0x12; 16];

/// What a step should do.
#[derive(Clone, Copy)]
enum Out {
    InOrder,
    Gap(u64, u64),
    Late,
    Err(&'static str),
}

/// One step: conversation (true = the guard's), sender, instance, counter, hash number, outcome.
type Step = (bool, [u8; 32], [u8; 16], u64, u64, Out);

/// Builds the file.
pub fn generate() -> Result<VectorFile, String> {
    let conv = ConversationId(raw::h("vectors/replay-conversation", &[]));
    let other = ConversationId(raw::h("vectors/other-conversation", &[]));
    let mut f = VectorFile::new(
        "replay.json",
        "The replay guard of one conversation (docs/protocol.md §10): feed the steps in \
         order to a fresh guard; each step states its outcome; final_state is the guard's \
         encoding afterwards.",
    );
    use Out::*;
    let cases: &[(&str, &str, &[Step])] = &[
        (
            "in_order_gap_and_late",
            "Counters 1, 2, 5 (gap 3..4), then 3 and 4 arrive late.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (true, S1, I1, 2, 2, InOrder),
                (true, S1, I1, 5, 3, Gap(3, 4)),
                (true, S1, I1, 3, 4, Late),
                (true, S1, I1, 4, 5, Late),
            ],
        ),
        (
            "first_counter_not_one",
            "The first envelope of a (sender, instance) has counter 3: counters 1..2 are a gap.",
            &[(true, S1, I1, 3, 1, Gap(1, 2))],
        ),
        (
            "instances_and_senders_are_independent",
            "Counter 1 from two instances of one sender and from another sender.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (true, S1, I2, 1, 2, InOrder),
                (true, S2, I1, 1, 3, InOrder),
                (true, S2, I1, 2, 4, InOrder),
            ],
        ),
        (
            "replay_same_counter",
            "Counter 1 again, under another envelope hash.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (true, S1, I1, 1, 2, Err("replay")),
            ],
        ),
        (
            "replay_same_hash",
            "The same envelope hash again, under a new counter.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (true, S1, I1, 2, 1, Err("replay")),
            ],
        ),
        (
            "replay_of_late_envelope",
            "A gap filled late, then the same counter again.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (true, S1, I1, 3, 2, Gap(2, 2)),
                (true, S1, I1, 2, 3, Late),
                (true, S1, I1, 2, 4, Err("replay")),
            ],
        ),
        (
            "late_at_window_edge",
            "After counter 200, counter 73 (127 behind) is still inside the 128-wide window.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (true, S1, I1, 200, 2, Gap(2, 199)),
                (true, S1, I1, 73, 3, Late),
            ],
        ),
        (
            "too_old",
            "After counter 200, counter 72 (128 behind) is outside the window.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (true, S1, I1, 200, 2, Gap(2, 199)),
                (true, S1, I1, 72, 3, Err("too_old")),
            ],
        ),
        (
            "wrong_conversation",
            "An envelope of another conversation.",
            &[
                (true, S1, I1, 1, 1, InOrder),
                (false, S1, I1, 2, 2, Err("wrong_conversation")),
            ],
        ),
        (
            "refused_envelopes_are_not_recorded",
            "A refused envelope records nothing: a hash first refused for its conversation is accepted afterwards, and a refused replay does not take the next counter.",
            &[
                (false, S1, I1, 1, 9, Err("wrong_conversation")),
                (true, S1, I1, 1, 9, InOrder),
                (true, S1, I1, 1, 10, Err("replay")),
                (true, S1, I1, 2, 10, InOrder),
            ],
        ),
    ];
    for (name, desc, steps) in cases {
        let mut guard = ReplayGuard::new(conv);
        let mut list = Vec::new();
        let mut last = SUCCESS;
        for &(ours, sender, instance, counter, n, out) in steps.iter() {
            let c = if ours { conv } else { other };
            let hash = raw::h("vectors/replay-envelope", &[&n.to_be_bytes()]);
            // The guard's own outcome is not recorded here: the test checks it.
            let _ = guard.accept(&header(c, sender, instance, counter), EnvelopeHash(hash));
            let (expected, gap) = match out {
                InOrder => ("in_order", None),
                Gap(a, b) => ("gap", Some((a, b))),
                Late => ("late", None),
                Err(code) => (code, None),
            };
            last = if matches!(out, Err(_)) {
                expected
            } else {
                SUCCESS
            };
            let mut step = obj([
                ("conversation", hx(c.0)),
                ("sender", hx(sender)),
                ("instance", hx(instance)),
                ("counter", counter.into()),
                ("hash", hx(hash)),
                ("expected", expected.into()),
            ]);
            if let (Some((a, b)), Value::Object(m)) = (gap, &mut step) {
                m.insert("gap_from".into(), a.into());
                m.insert("gap_to".into(), b.into());
            }
            list.push(step);
        }
        f.push(
            Case::new(name, desc, last)
                .hex("conversation", conv.0)
                .with("steps", list)
                .hex("final_state", guard.encode()),
        );
    }
    Ok(f)
}

/// A header carrying only what the guard reads.
fn header(c: ConversationId, sender: [u8; 32], instance: [u8; 16], counter: u64) -> Header {
    Header {
        audience: Audience::Conversation,
        conversation: c,
        sender: DeviceId(sender),
        instance: InstanceId(instance),
        counter: Counter(counter),
        membership_seq: Seq(0),
        membership_hash: StatementHash::GENESIS,
        generation: Generation(0),
        generation_hash: StatementHash::GENESIS,
        recipients: Vec::new(),
        commitment: [0; 32],
    }
}
