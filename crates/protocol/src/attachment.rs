//! Chunked, committed attachment encryption (docs/protocol.md §11).
//!
//! The sender encrypts a file once under a fresh random `file_key` and
//! uploads the ciphertext as an opaque blob; the message announcing it
//! carries an [`AttachmentRef`] inside its encrypted, signed body: the key,
//! the true and padded sizes, the SHA-256 of the ciphertext file and a key
//! commitment. The plaintext is zero-padded to its Padmé length, cut into
//! 64 KiB chunks and each chunk sealed with ChaCha20-Poly1305 under a nonce
//! holding the chunk counter and a final-chunk flag (age's STREAM), so
//! reordering, dropping, swapping chunks between files, truncation and
//! extension are all detected. Both directions stream in memory bounded by
//! one chunk.
//!
//! **Decrypted output is provisional.** [`AttachmentDecryptor::update`]
//! returns plaintext as chunks authenticate, but the file is only known to
//! be complete and the one announced once [`AttachmentDecryptor::finish`]
//! returns `Ok`; on any error the caller must discard everything it got.
//!
//! Three ways in, one format: the one-shot [`encrypt_attachment`] and
//! [`decrypt_attachment`]; the streaming [`AttachmentEncryptor`] and
//! [`AttachmentDecryptor`] (`update`/`finish`, or `update_into`/`finish_into`
//! to write into a caller's buffer); and their piece-by-piece methods
//! (`seal_piece`, `open_piece`) whose [`CiphertextPiece`]s feed a
//! [`CiphertextDigest`] the caller may run on another thread, since the
//! SHA-256 of the file costs about as much as the AEAD (`digest.rs`).
//!
//! Non-goals: hiding the padded size (the server sees the file length),
//! carrying the file name or media type (they travel in the body, §8.3),
//! random access, resuming a decryption part-way, and threads (this crate
//! has none; the caller decides where a [`CiphertextDigest`] runs).

mod decryptor;
mod digest;
mod encryptor;

pub use decryptor::AttachmentDecryptor;
pub use digest::{CiphertextDigest, CiphertextPiece};
pub use encryptor::AttachmentEncryptor;

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::ids::{AttachmentId, ConversationId};
use crate::label::{self, labels};
use crate::padding::padme;
use alloc::vec::Vec;
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use core::fmt;
use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// Version byte that starts every attachment ciphertext file.
pub const ATTACHMENT_VERSION: u8 = 1;
/// Largest plaintext attachment in bytes (100 MiB; a Padmé length itself).
pub const MAX_ATTACHMENT_SIZE: u64 = 100 * 1024 * 1024;
/// Plaintext bytes per chunk; only the final chunk may be shorter.
pub const CHUNK_SIZE: usize = 65_536;
/// Poly1305 tag length appended to every chunk.
pub const TAG_LEN: usize = 16;
/// Length of the per-file nonce (the HKDF salt) in the header.
pub const NONCE_LEN: usize = 16;
/// Length of the file header: `version ‖ nonce`.
pub const HEADER_LEN: usize = 1 + NONCE_LEN;

/// The padded plaintext size of an attachment of `size` bytes:
/// `padme(max(size, 1))`, so every file has at least one non-empty chunk.
pub fn padded_len(size: u64) -> u64 {
    padme(size.max(1))
}

/// The exact length of the ciphertext file for a padded size:
/// `17 + padded_size + 16 · ceil(padded_size / 65536)`.
pub fn ciphertext_len(padded_size: u64) -> u64 {
    let chunks = padded_size.div_ceil(CHUNK_SIZE as u64);
    (HEADER_LEN as u64)
        .saturating_add(padded_size)
        .saturating_add(chunks.saturating_mul(TAG_LEN as u64))
}

/// What a message body carries to let its recipients fetch, check and
/// decrypt one attachment. Built only by [`AttachmentEncryptor::finish`]
/// or [`AttachmentRef::read`], so its sizes are always consistent. The file
/// key is zeroized on drop, redacted from `Debug`, and never cloned.
pub struct AttachmentRef {
    attachment_id: AttachmentId,
    file_key: Zeroizing<[u8; 32]>,
    size: u64,
    padded_size: u64,
    ciphertext_sha256: [u8; 32],
    commitment: [u8; 32],
}

impl AttachmentRef {
    /// Length of the encoding: `16 + 32 + 8 + 8 + 32 + 32` bytes.
    pub const ENCODED_LEN: usize = 128;

    /// The attachment's id, chosen at random by its sender.
    pub fn attachment_id(&self) -> AttachmentId {
        self.attachment_id
    }

    /// The true plaintext size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The padded plaintext size: [`padded_len`]`(size)`.
    pub fn padded_size(&self) -> u64 {
        self.padded_size
    }

    /// The exact length of the ciphertext file (see [`ciphertext_len`]).
    pub fn ciphertext_len(&self) -> u64 {
        ciphertext_len(self.padded_size)
    }

    /// SHA-256 of the whole ciphertext file; checkable without the key.
    pub fn ciphertext_sha256(&self) -> &[u8; 32] {
        &self.ciphertext_sha256
    }

    /// The key commitment derived with the payload key.
    pub fn commitment(&self) -> &[u8; 32] {
        &self.commitment
    }

    /// Writes `attachment_id[16] ‖ file_key[32] ‖ u64 size ‖ u64 padded_size
    /// ‖ ciphertext_sha256[32] ‖ commitment[32]`.
    pub fn write(&self, w: &mut Writer) {
        w.raw(&self.attachment_id.0);
        w.raw(self.file_key.as_ref());
        w.u64(self.size);
        w.u64(self.padded_size);
        w.raw(&self.ciphertext_sha256);
        w.raw(&self.commitment);
    }

    /// Reads the encoding of [`AttachmentRef::write`], checking
    /// `size <= MAX_ATTACHMENT_SIZE` and `padded_size == padded_len(size)`.
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let attachment_id = AttachmentId(r.array()?);
        let file_key = Zeroizing::new(r.array()?);
        let size = r.u64()?;
        let padded_size = r.u64()?;
        let ciphertext_sha256 = r.array()?;
        let commitment = r.array()?;
        if size > MAX_ATTACHMENT_SIZE {
            return Err(r.too_large("attachment_size"));
        }
        if padded_size != padded_len(size) {
            return Err(r.invalid("attachment_padded_size"));
        }
        Ok(Self {
            attachment_id,
            file_key,
            size,
            padded_size,
            ciphertext_sha256,
            commitment,
        })
    }
}

impl fmt::Debug for AttachmentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentRef")
            .field("attachment_id", &self.attachment_id)
            .field("file_key", &"<redacted>")
            .field("size", &self.size)
            .field("padded_size", &self.padded_size)
            .field(
                "ciphertext_sha256",
                &crate::ids::hex(&self.ciphertext_sha256),
            )
            .finish_non_exhaustive()
    }
}

/// Encrypts a whole attachment at once; see [`AttachmentEncryptor`]. The
/// output is allocated once at its exact length and each chunk is sealed
/// straight from `plaintext` into it.
pub fn encrypt_attachment(
    conversation: &ConversationId,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<(Vec<u8>, AttachmentRef)> {
    let mut enc = AttachmentEncryptor::new(conversation, len64(plaintext), rng)?;
    let total = usize::try_from(ciphertext_len(padded_len(len64(plaintext))))
        .map_err(|_| too_large("size"))?;
    let mut out = Vec::with_capacity(total);
    enc.update_into(plaintext, &mut out);
    let reference = enc.finish_into(&mut out)?;
    Ok((out, reference))
}

/// Decrypts a whole attachment at once; returns the plaintext only if
/// every check of [`AttachmentDecryptor`] passed. Each chunk is opened
/// straight from `ciphertext` into the one output buffer, which is wiped
/// if any check fails.
pub fn decrypt_attachment(
    conversation: &ConversationId,
    reference: &AttachmentRef,
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let mut dec = AttachmentDecryptor::new(conversation, reference);
    // Room for every padded chunk, so the buffer never moves (a move would
    // leave an unwiped copy); bounded by the input, not the announced size.
    let room = usize::try_from(reference.padded_size)
        .unwrap_or(usize::MAX)
        .min(ciphertext.len());
    let mut plain = Zeroizing::new(Vec::with_capacity(room));
    dec.update_into(ciphertext, &mut plain)?;
    dec.finish()?;
    Ok(core::mem::take(&mut *plain))
}

/// `HKDF-SHA256(salt = nonce, ikm = file_key, info = u8(len(label)) ‖
/// "confide/v1/attachment-keys" ‖ conversation_id ‖ attachment_id)` → 64
/// bytes: payload key ‖ commitment (§11.3).
fn derive_keys(
    file_key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    conversation: &ConversationId,
    attachment_id: &AttachmentId,
) -> Result<(ChaCha20Poly1305, [u8; 32])> {
    let mut scope = Vec::with_capacity(ConversationId::LEN + AttachmentId::LEN);
    scope.extend_from_slice(&conversation.0);
    scope.extend_from_slice(&attachment_id.0);
    let info = label::signing_input(labels::ATTACHMENT_KEYS, &scope);
    let mut okm = Zeroizing::new([0u8; 64]);
    Hkdf::<Sha256>::new(Some(nonce), file_key)
        .expand(&info, okm.as_mut())
        .map_err(|_| too_large("okm"))?;
    let (payload_key, commitment) = okm.split_at(32);
    let cipher = ChaCha20Poly1305::new_from_slice(payload_key).map_err(|_| too_large("key"))?;
    let commitment = <[u8; 32]>::try_from(commitment).map_err(|_| too_large("commitment"))?;
    Ok((cipher, commitment))
}

/// The STREAM nonce: 11-byte big-endian chunk counter ‖ final flag.
fn chunk_nonce(counter: u64, last: bool) -> Nonce {
    let [a, b, c, d, e, f, g, h] = counter.to_be_bytes();
    Nonce::from([0, 0, 0, a, b, c, d, e, f, g, h, u8::from(last)])
}

/// SHA-256 over a ciphertext file as it is produced or received, counting
/// the bytes so a caller can tell whether it covered the whole file.
struct FileHash {
    hasher: Sha256,
    len: u64,
}

impl FileHash {
    fn new() -> Self {
        Self {
            hasher: Sha256::new(),
            len: 0,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len = self.len.saturating_add(len64(bytes));
    }

    /// The digest of everything so far; leaves the hasher empty.
    fn finalize(&mut self) -> [u8; 32] {
        core::mem::take(&mut self.hasher).finalize().into()
    }
}

/// Number of pieces in the file of a padded size: the header, then each chunk.
fn piece_count(padded_size: u64) -> u64 {
    padded_size.div_ceil(CHUNK_SIZE as u64).saturating_add(1)
}

/// Wipes and drops whatever `out` gained past `start` (output of a failed call).
fn discard_from(out: &mut Vec<u8>, start: usize) {
    if let Some(tail) = out.get_mut(start..) {
        tail.zeroize();
    }
    out.truncate(start);
}

fn len64(data: &[u8]) -> u64 {
    u64::try_from(data.len()).unwrap_or(u64::MAX)
}

fn too_large(field: &'static str) -> Error {
    Error::TooLarge {
        structure: Structure::Attachment,
        field,
    }
}

#[cfg(test)]
mod tests {
    // API tests (round trips, truncation, extension, reordering, …) are in
    // `tests/attachment.rs`; this checks the one private layout detail.
    use super::*;

    #[test]
    fn chunk_nonce_is_counter_then_final_flag() {
        let n = chunk_nonce(0x0102_0304_0506_0708, true);
        assert_eq!(n.as_slice(), [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1]);
        assert_eq!(chunk_nonce(0, false).as_slice(), [0; 12]);
    }
}
