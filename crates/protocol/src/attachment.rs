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
//! Non-goals: hiding the padded size (the server sees the file length),
//! carrying the file name or media type (they travel in the body, §8.3),
//! random access and resuming a decryption part-way.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::ids::{AttachmentId, ConversationId};
use crate::label::{self, labels};
use crate::padding::padme;
use alloc::vec::Vec;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use core::fmt;
use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

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

/// Encrypts one attachment as a stream. The concatenation of everything
/// [`update`](Self::update) and [`finish`](Self::finish) return is the
/// ciphertext file; the header comes out with the first call.
pub struct AttachmentEncryptor {
    cipher: ChaCha20Poly1305,
    attachment_id: AttachmentId,
    file_key: Zeroizing<[u8; 32]>,
    commitment: [u8; 32],
    size: u64,
    padded_size: u64,
    /// Plaintext bytes given to `update` (may exceed `size`: an error at `finish`).
    fed: u64,
    /// Padded plaintext bytes sealed so far.
    sealed: u64,
    counter: u64,
    /// Plaintext of the chunk being filled (at most `CHUNK_SIZE` bytes).
    buf: Zeroizing<Vec<u8>>,
    /// Output not yet returned (the header, until the first call).
    pending: Vec<u8>,
    hasher: Sha256,
    error: Option<Error>,
}

impl AttachmentEncryptor {
    /// Starts encrypting an attachment of exactly `size` bytes in
    /// `conversation`. Draws `file_key[32]`, then `attachment_id[16]`, then
    /// `nonce[16]` from `rng`.
    pub fn new(conversation: &ConversationId, size: u64, rng: &mut impl CryptoRng) -> Result<Self> {
        if size > MAX_ATTACHMENT_SIZE {
            return Err(too_large("size"));
        }
        let mut file_key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(file_key.as_mut());
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let attachment_id = AttachmentId(id);
        let (cipher, commitment) = derive_keys(&file_key, &nonce, conversation, &attachment_id)?;
        let mut pending = Vec::with_capacity(HEADER_LEN);
        pending.push(ATTACHMENT_VERSION);
        pending.extend_from_slice(&nonce);
        Ok(Self {
            cipher,
            attachment_id,
            file_key,
            commitment,
            size,
            padded_size: padded_len(size),
            fed: 0,
            sealed: 0,
            counter: 0,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK_SIZE)),
            pending,
            hasher: Sha256::new(),
            error: None,
        })
    }

    /// Feeds plaintext; returns the ciphertext bytes completed so far.
    /// Feeding more than the declared size is reported by `finish`.
    pub fn update(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = core::mem::take(&mut self.pending);
        if self.error.is_none() {
            let room = self.size.saturating_sub(self.fed);
            self.fed = self.fed.saturating_add(len64(data));
            let accepted = match usize::try_from(room) {
                Ok(room) => data.get(..room).unwrap_or(data),
                Err(_) => data,
            };
            if let Err(e) = self.absorb(accepted, &mut out) {
                self.error = Some(e);
            }
        }
        self.hasher.update(&out);
        out
    }

    /// Pads, seals the final chunk and returns the rest of the ciphertext
    /// with the reference to announce. Fails with
    /// [`Error::AttachmentSizeMismatch`] if the bytes fed were not exactly
    /// the declared size.
    pub fn finish(mut self) -> Result<(Vec<u8>, AttachmentRef)> {
        let mut out = core::mem::take(&mut self.pending);
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.fed != self.size {
            return Err(Error::AttachmentSizeMismatch);
        }
        let mut padding = self.padded_size.saturating_sub(self.size);
        while padding > 0 {
            let room = CHUNK_SIZE.saturating_sub(self.buf.len());
            let n = usize::try_from(padding).map_or(room, |p| p.min(room));
            if n == 0 {
                return Err(Error::AttachmentSizeMismatch);
            }
            let new_len = self.buf.len().saturating_add(n);
            self.buf.resize(new_len, 0);
            padding = padding.saturating_sub(n as u64);
            self.seal_if_full(&mut out)?;
        }
        if self.buf.is_empty() || self.sealed.saturating_add(len64(&self.buf)) != self.padded_size {
            return Err(Error::AttachmentSizeMismatch);
        }
        self.seal(true, &mut out)?;
        self.hasher.update(&out);
        let reference = AttachmentRef {
            attachment_id: self.attachment_id,
            file_key: self.file_key,
            size: self.size,
            padded_size: self.padded_size,
            ciphertext_sha256: self.hasher.finalize().into(),
            commitment: self.commitment,
        };
        Ok((out, reference))
    }

    fn absorb(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        while !data.is_empty() {
            let room = CHUNK_SIZE.saturating_sub(self.buf.len());
            let (head, tail) = data
                .split_at_checked(room.min(data.len()))
                .unwrap_or((data, &[]));
            if head.is_empty() {
                // Only a held final chunk is full; nothing may follow it.
                return Err(Error::AttachmentSizeMismatch);
            }
            self.buf.extend_from_slice(head);
            data = tail;
            self.seal_if_full(out)?;
        }
        Ok(())
    }

    /// Seals a full chunk unless it is the final one (held for `finish`).
    fn seal_if_full(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let end = self.sealed.saturating_add(CHUNK_SIZE as u64);
        if self.buf.len() == CHUNK_SIZE && end < self.padded_size {
            self.seal(false, out)?;
        }
        Ok(())
    }

    fn seal(&mut self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let payload = Payload {
            msg: &self.buf,
            aad: &[],
        };
        let sealed = self
            .cipher
            .encrypt(&chunk_nonce(self.counter, last), payload)
            .map_err(|_| too_large("chunk"))?;
        out.extend_from_slice(&sealed);
        self.sealed = self.sealed.saturating_add(len64(&self.buf));
        self.buf.clear();
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(too_large("chunk_counter"))?;
        Ok(())
    }
}

impl fmt::Debug for AttachmentEncryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentEncryptor")
            .field("attachment_id", &self.attachment_id)
            .field("size", &self.size)
            .field("fed", &self.fed)
            .finish_non_exhaustive()
    }
}

/// Encrypts a whole attachment at once; see [`AttachmentEncryptor`].
pub fn encrypt_attachment(
    conversation: &ConversationId,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<(Vec<u8>, AttachmentRef)> {
    let mut enc = AttachmentEncryptor::new(conversation, len64(plaintext), rng)?;
    let mut out = enc.update(plaintext);
    let (tail, reference) = enc.finish()?;
    out.extend_from_slice(&tail);
    Ok((out, reference))
}

/// Decrypts one attachment as a stream, holding at most one chunk.
///
/// Which chunk is final follows from the announced padded size, so the
/// expected file length is known up front: more bytes are
/// [`Error::AttachmentExtended`] at once, fewer are
/// [`Error::AttachmentTruncated`] at `finish`. After any error every later
/// call returns the same error.
pub struct AttachmentDecryptor {
    conversation: ConversationId,
    attachment_id: AttachmentId,
    file_key: Zeroizing<[u8; 32]>,
    commitment: [u8; 32],
    ciphertext_sha256: [u8; 32],
    size: u64,
    padded_size: u64,
    /// Set once the header checked out against the commitment.
    cipher: Option<ChaCha20Poly1305>,
    /// Ciphertext of the header or chunk being filled.
    buf: Vec<u8>,
    received: u64,
    /// Padded plaintext bytes opened so far.
    opened: u64,
    counter: u64,
    hasher: Sha256,
    error: Option<Error>,
}

impl AttachmentDecryptor {
    /// Starts decrypting the attachment `reference` announced in `conversation`.
    pub fn new(conversation: &ConversationId, reference: &AttachmentRef) -> Self {
        Self {
            conversation: *conversation,
            attachment_id: reference.attachment_id,
            file_key: reference.file_key.clone(),
            commitment: reference.commitment,
            ciphertext_sha256: reference.ciphertext_sha256,
            size: reference.size,
            padded_size: reference.padded_size,
            cipher: None,
            buf: Vec::with_capacity(CHUNK_SIZE + TAG_LEN),
            received: 0,
            opened: 0,
            counter: 0,
            hasher: Sha256::new(),
            error: None,
        }
    }

    /// Feeds ciphertext; returns the **provisional** plaintext of the chunks
    /// completed so far, without padding. Discard all of it unless
    /// [`finish`](Self::finish) returns `Ok`.
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.absorb(data);
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    /// Checks that the whole file arrived, its final chunk was opened and
    /// its SHA-256 is the announced one. Only then is the output of
    /// [`update`](Self::update) the attachment.
    pub fn finish(self) -> Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.received != ciphertext_len(self.padded_size) || self.opened != self.padded_size {
            return Err(Error::AttachmentTruncated);
        }
        let digest: [u8; 32] = self.hasher.finalize().into();
        if !bool::from(digest.ct_eq(&self.ciphertext_sha256)) {
            return Err(Error::AttachmentHashMismatch);
        }
        Ok(())
    }

    fn absorb(&mut self, mut data: &[u8]) -> Result<Vec<u8>> {
        self.received = self.received.saturating_add(len64(data));
        if self.received > ciphertext_len(self.padded_size) {
            return Err(Error::AttachmentExtended);
        }
        self.hasher.update(data);
        let mut out = Vec::new();
        while !data.is_empty() {
            let piece = self.piece_len();
            let want = piece.saturating_sub(self.buf.len());
            if want == 0 {
                return Err(Error::AttachmentExtended);
            }
            let (head, tail) = data
                .split_at_checked(want.min(data.len()))
                .unwrap_or((data, &[]));
            self.buf.extend_from_slice(head);
            data = tail;
            if self.buf.len() == piece {
                if self.cipher.is_none() {
                    self.open_header()?;
                } else {
                    self.open_chunk(&mut out)?;
                }
                self.buf.clear();
            }
        }
        Ok(out)
    }

    /// Length of the next piece: the header, then each sealed chunk; 0 when done.
    fn piece_len(&self) -> usize {
        if self.cipher.is_none() {
            return HEADER_LEN;
        }
        let left = self.padded_size.saturating_sub(self.opened);
        match usize::try_from(left.min(CHUNK_SIZE as u64)) {
            Ok(0) | Err(_) => 0,
            Ok(n) => n.saturating_add(TAG_LEN),
        }
    }

    fn open_header(&mut self) -> Result<()> {
        let truncated = Error::Truncated(Structure::Attachment);
        let (&version, nonce) = self.buf.split_first().ok_or(truncated.clone())?;
        if version != ATTACHMENT_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| truncated)?;
        let (cipher, commitment) = derive_keys(
            &self.file_key,
            nonce,
            &self.conversation,
            &self.attachment_id,
        )?;
        if !bool::from(commitment.ct_eq(&self.commitment)) {
            return Err(Error::CommitmentMismatch);
        }
        self.cipher = Some(cipher);
        Ok(())
    }

    fn open_chunk(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let cipher = self.cipher.as_ref().ok_or(Error::DecryptionFailed)?;
        let plain_len = len64(&self.buf).saturating_sub(TAG_LEN as u64);
        let end = self.opened.saturating_add(plain_len);
        let last = end == self.padded_size;
        let payload = Payload {
            msg: &self.buf,
            aad: &[],
        };
        let plain = Zeroizing::new(
            cipher
                .decrypt(&chunk_nonce(self.counter, last), payload)
                .map_err(|_| Error::DecryptionFailed)?,
        );
        let keep = self.size.saturating_sub(self.opened).min(plain_len);
        let keep = usize::try_from(keep).map_err(|_| too_large("chunk"))?;
        let (data, padding) = plain
            .split_at_checked(keep)
            .ok_or(Error::DecryptionFailed)?;
        if padding.iter().any(|b| *b != 0) {
            return Err(Error::InvalidField {
                structure: Structure::Attachment,
                field: "padding",
            });
        }
        out.extend_from_slice(data);
        self.opened = end;
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(too_large("chunk_counter"))?;
        Ok(())
    }
}

impl fmt::Debug for AttachmentDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentDecryptor")
            .field("attachment_id", &self.attachment_id)
            .field("received", &self.received)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Decrypts a whole attachment at once; returns the plaintext only if
/// every check of [`AttachmentDecryptor`] passed.
pub fn decrypt_attachment(
    conversation: &ConversationId,
    reference: &AttachmentRef,
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let mut dec = AttachmentDecryptor::new(conversation, reference);
    let plain = Zeroizing::new(dec.update(ciphertext)?);
    dec.finish()?;
    Ok(plain.to_vec())
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
