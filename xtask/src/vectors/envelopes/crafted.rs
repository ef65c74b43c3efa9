//! Envelopes a lying or unauthorised sender would sign, crafted with the
//! independent encoder ([`super::super::raw`]) and signed with the
//! sender's key: a body that does not authenticate, a wrong commitment, a
//! content key split between recipients, unsorted or duplicated
//! recipients, a non-member or non-sending sender, missing or extra
//! recipients, an unknown statement, a wrong version or counter.

use super::super::case::{Ctx, VectorFile};
use super::super::fixture::{NOW, Parties};
use super::super::raw::{
    self, KIND_DEVICE, KIND_INBOX, KIND_REQUIRED, KIND_VISITOR, RawEnvelope, RawRecipient,
};
use super::{
    AGENT_INSTANCE, Expect, Mode, Receiver, VISITOR_INSTANCE, World, case, honest_raw,
    with_expected,
};
use confide_protocol::conversation::Conversation;
use confide_protocol::state::InboxState;
use confide_protocol::{DeviceSecretKey, InstanceId};
use rand_chacha::ChaCha20Rng;

/// Adds the crafted cases.
pub(super) fn push(
    f: &mut VectorFile,
    p: &Parties,
    state: &InboxState,
    conv: &Conversation,
    w: World<'_>,
    rng: &mut ChaCha20Rng,
) -> Result<(), String> {
    let live = Mode::Live(NOW);
    let honest = |sender: &DeviceSecretKey, instance, counter, audience: u8, text: &str| {
        honest_raw(
            p,
            state,
            conv,
            sender,
            instance,
            counter,
            audience,
            text,
            &[],
        )
    };
    let crafted = |name: &str,
                   desc: &str,
                   r: RawEnvelope,
                   expected: &str,
                   receiver: Receiver<'_>,
                   rng: &mut ChaCha20Rng| {
        let built = r.build(rng)?;
        Ok::<_, String>(with_expected(
            case(
                name,
                desc,
                w,
                &built.bytes,
                &built.content_key,
                live,
                receiver,
                None,
            ),
            expected,
        ))
    };
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 2, 1, "tampered body")?;
    r.flip_body_byte = Some(10);
    f.push(crafted(
        "body_ciphertext_tampered_then_signed",
        "The sender signs an envelope whose body ciphertext does not authenticate.",
        r,
        "decryption_failed",
        Receiver::Device(&p.agent),
        rng,
    )?);
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 3, 1, "wrong commitment")?;
    r.commitment = Some(raw::h("vectors/other-commitment", &[]));
    f.push(crafted(
        "commitment_mismatch_signed",
        "The sender signs a header whose key commitment is not derived from the content key it seals.",
        r,
        "commitment_mismatch",
        Receiver::Device(&p.agent),
        rng,
    )?);
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 4, 1, "reordered recipients")?;
    r.recipients.reverse();
    r.keep_order = true;
    f.push(crafted(
        "recipients_unsorted_signed",
        "The sender signs a header whose recipients are in descending order.",
        r,
        "not_canonical",
        Receiver::Device(&p.agent),
        rng,
    )?);
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 5, 1, "twice")?;
    let first = r.recipients.first().cloned().ctx("recipient")?;
    r.recipients.push(first);
    r.keep_order = false;
    f.push(crafted(
        "recipient_duplicated_signed",
        "The sender signs a header listing the visitor recipient twice.",
        r,
        "not_canonical",
        Receiver::Device(&p.agent),
        rng,
    )?);

    // One envelope, a different content key sealed to the records key.
    let split_text = "Agents read this; the records key gets another key.";
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 6, 1, split_text)?;
    for rc in &mut r.recipients {
        if rc.kind == KIND_REQUIRED {
            rc.content_key = Some([0x42; 32]);
        }
    }
    let split = r.build(rng)?;
    let split_expect = Expect {
        text: split_text,
        sender: &p.visitor,
        member: None,
        audience: 1,
        counter: 6,
        instance: VISITOR_INSTANCE,
    };
    f.push(with_expected(
        case(
            "content_key_split_records_key",
            "The visitor seals a different content key to the records key than to the others: the records key sees a commitment mismatch.",
            w, &split.bytes, &split.content_key, Mode::History, Receiver::Hpke(&p.records), None,
        ),
        "commitment_mismatch",
    ));
    f.push(case(
        "content_key_split_agent",
        "The same envelope opened by the agent, whose key was sealed honestly.",
        w,
        &split.bytes,
        &split.content_key,
        live,
        Receiver::Device(&p.agent),
        Some(&split_expect),
    ));
    f.push(case(
        "content_key_split_visitor",
        "The same envelope opened by the visitor's device, whose key was sealed honestly.",
        w,
        &split.bytes,
        &split.content_key,
        live,
        Receiver::Device(&p.visitor),
        Some(&split_expect),
    ));

    let r = honest(
        &p.outsider,
        InstanceId([0x0f; 16]),
        1,
        1,
        "I am your agent now",
    )?;
    f.push(crafted(
        "non_member_sender",
        "A well-formed envelope signed by a device that is no member of the inbox and not the visitor.",
        r,
        "sender_not_allowed",
        Receiver::Device(&p.visitor),
        rng,
    )?);
    let r = honest(&p.admin, InstanceId([0x0d; 16]), 1, 1, "admins do not chat")?;
    f.push(crafted(
        "member_without_send_role",
        "Signed by the admin device, a member whose role may not send.",
        r,
        "sender_not_allowed",
        Receiver::Device(&p.visitor),
        rng,
    )?);
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 7, 1, "no records")?;
    r.recipients.retain(|x| x.kind != KIND_REQUIRED);
    f.push(crafted(
        "missing_required_recipient",
        "The visitor leaves the records key (required by the membership) out.",
        r,
        "missing_required_recipient",
        Receiver::Device(&p.agent),
        rng,
    )?);
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 8, 1, "no inbox")?;
    r.recipients.retain(|x| x.kind != KIND_INBOX);
    f.push(crafted(
        "missing_inbox_recipient",
        "The visitor leaves the inbox generation key out.",
        r,
        "missing_required_recipient",
        Receiver::Hpke(&p.records),
        rng,
    )?);
    let mut r = honest(&p.agent, AGENT_INSTANCE, 9, 1, "copy for a friend")?;
    r.recipients
        .push(RawRecipient::new(KIND_DEVICE, p.outsider.public().hpke.0));
    f.push(crafted(
        "eavesdropper_device_recipient",
        "An agent adds a non-member device as a recipient (kind 4).",
        r,
        "recipients_do_not_fit_audience",
        Receiver::Device(&p.visitor),
        rng,
    )?);
    let r = honest(&p.visitor, VISITOR_INSTANCE, 9, 2, "note from a visitor")?;
    f.push(crafted(
        "visitor_internal_note",
        "The visitor signs an internal note (audience 2, not sealed to itself).",
        r,
        "recipients_do_not_fit_audience",
        Receiver::Device(&p.agent),
        rng,
    )?);
    let mut r = honest(&p.agent, AGENT_INSTANCE, 10, 2, "note leaked to visitor")?;
    r.recipients
        .push(RawRecipient::new(KIND_VISITOR, p.visitor.public().hpke.0));
    f.push(crafted(
        "internal_note_sealed_to_visitor",
        "An agent's internal note that lists the visitor as a recipient.",
        r,
        "recipients_do_not_fit_audience",
        Receiver::Device(&p.supervisor),
        rng,
    )?);
    let mut r = honest(&p.agent, AGENT_INSTANCE, 11, 1, "visitor left out")?;
    r.recipients.retain(|x| x.kind != KIND_VISITOR);
    f.push(crafted(
        "conversation_message_without_visitor",
        "An agent's conversation message (audience 1) that is not sealed to the visitor.",
        r,
        "recipients_do_not_fit_audience",
        Receiver::Device(&p.supervisor),
        rng,
    )?);
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 12, 1, "unknown statement")?;
    r.membership.1 = [0x77; 32];
    f.push(crafted(
        "unknown_membership",
        "The header names a membership hash the receiver never verified.",
        r,
        "unknown_statement",
        Receiver::Device(&p.agent),
        rng,
    )?);
    let mut r = honest(&p.visitor, VISITOR_INSTANCE, 13, 1, "version 2")?;
    r.version = 2;
    f.push(crafted(
        "unsupported_version",
        "Envelope version byte 2.",
        r,
        "unsupported_version",
        Receiver::Device(&p.agent),
        rng,
    )?);
    let r = honest(&p.visitor, VISITOR_INSTANCE, 0, 1, "counter zero")?;
    f.push(crafted(
        "counter_zero",
        "Counter 0 (counters start at 1).",
        r,
        "invalid_field",
        Receiver::Device(&p.agent),
        rng,
    )?);
    Ok(())
}
