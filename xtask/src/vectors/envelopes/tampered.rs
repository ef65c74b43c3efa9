//! Tampered envelopes: bytes of a valid visitor message flipped, swapped,
//! cut or appended after signing, so each is refused by decoding or by
//! the signature check.

use super::super::case::{Ctx, VectorFile};
use super::super::fixture::Parties;
use super::{HeaderOffsets, Mode, Receiver, World, case, flip, flip_mask, swap, with_expected};

/// Adds the tampered cases, all derived from `visitor_msg`.
pub(super) fn push(
    f: &mut VectorFile,
    p: &Parties,
    w: World<'_>,
    visitor_msg: &[u8],
    visitor_ck: &[u8; 32],
) -> Result<(), String> {
    let live = Mode::Live(super::super::fixture::NOW);
    let hdr = HeaderOffsets::new(3);
    let tampered = |name: &str, desc: &str, bytes: Vec<u8>, expected: &str| {
        with_expected(
            case(
                name,
                desc,
                w,
                &bytes,
                visitor_ck,
                live,
                Receiver::Device(&p.agent),
                None,
            ),
            expected,
        )
    };
    let body_at = hdr.end + 3 * 80 + 4 + 10;
    f.push(tampered(
        "body_ciphertext_tampered",
        "One bit of the body ciphertext flipped: the sender's signature no longer verifies.",
        flip(visitor_msg, body_at)?,
        "bad_signature",
    ));
    f.push(tampered(
        "header_instance_tampered",
        "One bit of the header's sender instance flipped.",
        flip(visitor_msg, hdr.instance)?,
        "bad_signature",
    ));
    f.push(tampered(
        "header_counter_tampered",
        "The header's counter changed from 1 to 2.",
        flip_mask(visitor_msg, hdr.counter + 7, 0x03)?,
        "bad_signature",
    ));
    f.push(tampered(
        "signature_tampered",
        "One bit of the signature flipped.",
        flip(visitor_msg, visitor_msg.len() - 1)?,
        "bad_signature",
    ));
    f.push(tampered(
        "commitment_tampered",
        "One bit of the header's key commitment flipped.",
        flip(visitor_msg, hdr.commitment)?,
        "bad_signature",
    ));
    f.push(tampered(
        "recipient_id_tampered",
        "One bit of a recipient id in the header flipped (the list stays sorted).",
        flip(visitor_msg, hdr.recipients + 33 + 5)?,
        "bad_signature",
    ));
    f.push(tampered(
        "recipients_reordered",
        "The first two header recipient entries swapped: the list is no longer strictly sorted.",
        swap(visitor_msg, hdr.recipients, hdr.recipients + 33, 33)?,
        "not_canonical",
    ));
    f.push(tampered(
        "sealed_keys_swapped",
        "The first two sealed keys swapped (header intact).",
        swap(visitor_msg, hdr.end, hdr.end + 80, 80)?,
        "bad_signature",
    ));
    f.push(tampered(
        "truncated_by_one_byte",
        "The last byte of the signature missing.",
        visitor_msg
            .get(..visitor_msg.len() - 1)
            .ctx("truncate")?
            .to_vec(),
        "truncated",
    ));
    f.push(tampered(
        "truncated_inside_header",
        "Only the first 100 bytes.",
        visitor_msg.get(..100).ctx("truncate")?.to_vec(),
        "truncated",
    ));
    let mut oversized = visitor_msg.to_vec();
    oversized
        .get_mut(body_at - 14..body_at - 10)
        .ctx("body length")?
        .copy_from_slice(&(256 * 1024 + 1u32).to_be_bytes());
    f.push(tampered(
        "body_length_too_large",
        "The body ciphertext's length prefix says 262145 bytes, one more than the limit.",
        oversized,
        "too_large",
    ));
    let mut trailing = visitor_msg.to_vec();
    trailing.push(0);
    f.push(tampered(
        "trailing_byte",
        "One zero byte appended after the signature.",
        trailing,
        "trailing_bytes",
    ));

    Ok(())
}
