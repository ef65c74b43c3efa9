//! `attachments.json`: chunked attachment ciphertexts with their
//! references, and every stream manipulation that must be refused (§11).
//!
//! Multi-chunk ciphertexts are large, so they are stored once in the
//! `blobs` table and each case's ciphertext is a list of parts: slices of a
//! blob or literal hex. Truncation, extension, reordering and swapping are
//! then visible in the case itself.

use super::case::{Case, Ctx, SUCCESS, VectorFile, hx, obj};
use super::raw;
use confide_protocol::ConversationId;
use confide_protocol::attachment::{AttachmentRef, encrypt_attachment};
use confide_protocol::codec::Writer;
use confide_protocol::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

/// Header: version byte and 16-byte nonce.
const HEADER: usize = 17;
/// A full sealed chunk: 64 KiB and the tag.
const FULL: usize = 65_536 + 16;
/// Offsets of fields in the 128-byte reference encoding.
const REF_KEY: usize = 16;
const REF_SIZE: usize = 48;
const REF_SHA: usize = 64;
const REF_COMMITMENT: usize = 96;

/// A plaintext of `size` bytes from a documented formula.
fn plaintext(size: usize, salt: u8) -> Vec<u8> {
    (0..size)
        .map(|i| u8::try_from(i % 251).unwrap_or(0).wrapping_add(salt))
        .collect()
}

/// One part of a case's ciphertext.
enum Part<'a> {
    Blob(&'a str, usize, usize),
    Hex(Vec<u8>),
}

fn parts_json(parts: &[Part<'_>]) -> Value {
    Value::Array(
        parts
            .iter()
            .map(|p| match p {
                Part::Blob(name, start, end) => obj([
                    ("blob", (*name).into()),
                    ("start", (*start).into()),
                    ("end", (*end).into()),
                ]),
                Part::Hex(b) => obj([("hex", hx(b))]),
            })
            .collect(),
    )
}

fn encode_ref(r: &AttachmentRef) -> Vec<u8> {
    let mut w = Writer::new();
    r.write(&mut w);
    w.into_vec()
}

fn flipped(bytes: &[u8], at: usize, mask: u8) -> Result<Vec<u8>, String> {
    let mut v = bytes.to_vec();
    *v.get_mut(at).ctx("flip")? ^= mask;
    Ok(v)
}

/// Builds the file.
pub fn generate() -> Result<VectorFile, String> {
    let mut rng = ChaCha20Rng::seed_from_u64(0xa77a);
    let conv = ConversationId(raw::h("vectors/attachment-conversation", &[]));
    let other_conv = ConversationId(raw::h("vectors/other-conversation", &[]));

    let mut f = VectorFile::new(
        "attachments.json",
        "Chunked attachment encryption (docs/protocol.md §11): decode the reference, \
         concatenate the ciphertext parts, decrypt in the conversation.",
    );

    let small_plain = plaintext(300, 1);
    let (small_ct, small_ref) = encrypt_attachment(&conv, &small_plain, &mut rng).ctx("small")?;
    let small_ref = encode_ref(&small_ref);
    let (empty_ct, empty_ref) = encrypt_attachment(&conv, &[], &mut rng).ctx("empty")?;
    let empty_ref = encode_ref(&empty_ref);
    let big_plain = plaintext(65_537, 1);
    let (a_ct, a_ref) = encrypt_attachment(&conv, &big_plain, &mut rng).ctx("a")?;
    let a_ref = encode_ref(&a_ref);
    let (b_ct, _) = encrypt_attachment(&conv, &plaintext(65_537, 7), &mut rng).ctx("b")?;
    let a_len = a_ct.len();
    if a_len != HEADER + FULL + 2048 + 16 || b_ct.len() != a_len {
        return Err(format!("unexpected two-chunk ciphertext length {a_len}"));
    }
    f.shared("blobs", obj([("file_a", hx(&a_ct)), ("file_b", hx(&b_ct))]));
    let chunk1 = HEADER + FULL;

    let case = |name: &str,
                desc: &str,
                conv: &ConversationId,
                reference: &[u8],
                parts: &[Part<'_>],
                expected: &str,
                plain: Option<&[u8]>| {
        let mut c = Case::new(name, desc, expected)
            .hex("conversation_id", conv.0)
            .hex("reference", reference)
            .with("ciphertext", parts_json(parts));
        if let Some(p) = plain {
            c = c.with(
                "result",
                obj([
                    ("size", p.len().into()),
                    ("plaintext_sha256", hx(raw::h_plain(p))),
                    (
                        "plaintext",
                        if p.len() <= 1024 { hx(p) } else { Value::Null },
                    ),
                ]),
            );
        }
        c
    };
    let whole_a = [Part::Blob("file_a", 0, a_len)];
    let small = |b: &[u8]| [Part::Hex(b.to_vec())];

    f.push(case(
        "empty_file",
        "A 0-byte attachment (one 1-byte padded chunk).",
        &conv,
        &empty_ref,
        &small(&empty_ct),
        SUCCESS,
        Some(&[]),
    ));
    f.push(case(
        "small_file",
        "A 300-byte attachment in one chunk, padded to 304 bytes.",
        &conv,
        &small_ref,
        &small(&small_ct),
        SUCCESS,
        Some(&small_plain),
    ));
    f.push(case(
        "two_chunks",
        "A 65537-byte attachment: padded to 67584 bytes, a full 64 KiB chunk and a final 2048-byte chunk. Plaintext byte i is (i mod 251) + 1.",
        &conv, &a_ref, &whole_a, SUCCESS, Some(&big_plain),
    ));
    f.push(case(
        "final_chunk_missing",
        "File A without its final chunk.",
        &conv,
        &a_ref,
        &[Part::Blob("file_a", 0, chunk1)],
        "attachment_truncated",
        None,
    ));
    f.push(case(
        "truncated_mid_chunk",
        "File A cut in the middle of its first chunk.",
        &conv,
        &a_ref,
        &[Part::Blob("file_a", 0, 40_000)],
        "attachment_truncated",
        None,
    ));
    f.push(case(
        "truncated_by_one_byte",
        "The small file without its last byte.",
        &conv,
        &small_ref,
        &small(small_ct.get(..small_ct.len() - 1).ctx("cut")?),
        "attachment_truncated",
        None,
    ));
    f.push(case(
        "header_only",
        "Only the 17-byte header of file A.",
        &conv,
        &a_ref,
        &[Part::Blob("file_a", 0, HEADER)],
        "attachment_truncated",
        None,
    ));
    f.push(case(
        "extended_by_one_byte",
        "File A followed by one zero byte.",
        &conv,
        &a_ref,
        &[Part::Blob("file_a", 0, a_len), Part::Hex(vec![0])],
        "attachment_extended",
        None,
    ));
    f.push(case(
        "final_chunk_repeated",
        "File A followed by its final chunk again.",
        &conv,
        &a_ref,
        &[
            Part::Blob("file_a", 0, a_len),
            Part::Blob("file_a", chunk1, a_len),
        ],
        "attachment_extended",
        None,
    ));
    f.push(case(
        "chunks_reordered",
        "File A's header, then its final chunk, then its first chunk.",
        &conv,
        &a_ref,
        &[
            Part::Blob("file_a", 0, HEADER),
            Part::Blob("file_a", chunk1, a_len),
            Part::Blob("file_a", HEADER, chunk1),
        ],
        "decryption_failed",
        None,
    ));
    f.push(case(
        "first_chunk_from_other_file",
        "File A with its first chunk replaced by file B's (same size, same conversation, another key).",
        &conv, &a_ref,
        &[Part::Blob("file_a", 0, HEADER), Part::Blob("file_b", HEADER, chunk1), Part::Blob("file_a", chunk1, a_len)],
        "decryption_failed", None,
    ));
    f.push(case(
        "final_chunk_from_other_file",
        "File A with its final chunk replaced by file B's.",
        &conv,
        &a_ref,
        &[
            Part::Blob("file_a", 0, chunk1),
            Part::Blob("file_b", chunk1, a_len),
        ],
        "decryption_failed",
        None,
    ));
    f.push(case(
        "header_from_other_file",
        "File A's chunks behind file B's header (another nonce).",
        &conv,
        &a_ref,
        &[
            Part::Blob("file_b", 0, HEADER),
            Part::Blob("file_a", HEADER, a_len),
        ],
        "commitment_mismatch",
        None,
    ));
    f.push(case(
        "chunk_byte_flipped",
        "One bit of the small file's chunk ciphertext flipped.",
        &conv,
        &small_ref,
        &small(&flipped(&small_ct, HEADER + 5, 1)?),
        "decryption_failed",
        None,
    ));
    f.push(case(
        "tag_byte_flipped",
        "One bit of the small file's final tag flipped.",
        &conv,
        &small_ref,
        &small(&flipped(&small_ct, small_ct.len() - 1, 0x80)?),
        "decryption_failed",
        None,
    ));
    f.push(case(
        "unsupported_version",
        "The file's version byte is 2.",
        &conv,
        &small_ref,
        &small(&flipped(&small_ct, 0, 0x03)?),
        "unsupported_version",
        None,
    ));
    f.push(case(
        "wrong_ciphertext_hash",
        "The reference announces another SHA-256 of the ciphertext file.",
        &conv,
        &flipped(&small_ref, REF_SHA, 1)?,
        &small(&small_ct),
        "attachment_hash_mismatch",
        None,
    ));
    f.push(case(
        "wrong_commitment",
        "The reference carries another key commitment.",
        &conv,
        &flipped(&small_ref, REF_COMMITMENT, 1)?,
        &small(&small_ct),
        "commitment_mismatch",
        None,
    ));
    f.push(case(
        "wrong_file_key",
        "The reference carries another file key.",
        &conv,
        &flipped(&small_ref, REF_KEY, 1)?,
        &small(&small_ct),
        "commitment_mismatch",
        None,
    ));
    f.push(case(
        "wrong_attachment_id",
        "The reference carries another attachment id (the keys are bound to it).",
        &conv,
        &flipped(&small_ref, 0, 1)?,
        &small(&small_ct),
        "commitment_mismatch",
        None,
    ));
    f.push(case(
        "wrong_conversation",
        "The small file decrypted in another conversation.",
        &other_conv,
        &small_ref,
        &small(&small_ct),
        "commitment_mismatch",
        None,
    ));
    // size 300 -> 299: padded size stays 304, so the last plaintext byte is taken for padding.
    f.push(case(
        "reference_size_shortened",
        "The reference announces 299 bytes instead of 300 (same padded size): the 300th byte is non-zero padding.",
        &conv, &flipped(&small_ref, REF_SIZE + 7, 0x2c ^ 0x2b)?, &small(&small_ct), "invalid_field", None,
    ));
    f.push(case(
        "reference_inconsistent_padded_size",
        "The reference's padded_size is not padme(max(size, 1)).",
        &conv,
        &flipped(&small_ref, REF_SIZE + 8 + 7, 0x01)?,
        &small(&small_ct),
        "invalid_field",
        None,
    ));
    Ok(f)
}
