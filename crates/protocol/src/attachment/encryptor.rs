//! The streaming attachment encryptor (docs/protocol.md §11.6).
//!
//! Two interfaces over one state: `update`/`finish` (and their `_into`
//! forms that append to a caller's buffer) take plaintext in any pieces
//! and hash the ciphertext themselves; `seal_piece` writes the file one
//! piece at a time into caller memory and leaves the SHA-256 to a
//! [`CiphertextDigest`] the caller may drive on another thread. Full chunks
//! are sealed straight from the caller's plaintext into the output; only a
//! partial chunk is buffered.
//!
//! Non-goals: mixing the two interfaces in one file (it fails closed at
//! `finish`), and threads.

use super::digest::{CiphertextDigest, CiphertextPiece, StreamTag};
use super::{
    ATTACHMENT_VERSION, AttachmentRef, CHUNK_SIZE, FileHash, HEADER_LEN, MAX_ATTACHMENT_SIZE,
    NONCE_LEN, TAG_LEN, chunk_nonce, ciphertext_len, derive_keys, len64, padded_len, piece_count,
    too_large,
};
use crate::error::{Error, Result};
use crate::ids::{AttachmentId, ConversationId};
use alloc::vec::Vec;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::aead::inout::InOutBuf;
use core::fmt;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// Encrypts one attachment as a stream. The concatenation of everything
/// [`update`](Self::update) and [`finish`](Self::finish) return is the
/// ciphertext file; the header comes out with the first call.
///
/// Alternatively [`seal_piece`](Self::seal_piece) produces the file piece
/// by piece (header, then each sealed chunk) for a [`CiphertextDigest`]
/// from [`detached_digest`](Self::detached_digest), and
/// [`finish_with_detached_digest`](Self::finish_with_detached_digest)
/// builds the reference from it.
pub struct AttachmentEncryptor {
    sealer: Sealer,
    attachment_id: AttachmentId,
    file_key: Zeroizing<[u8; 32]>,
    commitment: [u8; 32],
    /// The file header, until it has been emitted.
    header: Option<[u8; HEADER_LEN]>,
    /// Plaintext bytes given (may exceed `size`: an error at `finish`).
    fed: u64,
    /// Plaintext of a partial chunk (`update` only; allocated on first use).
    buf: Zeroizing<Vec<u8>>,
    /// SHA-256 of what `update`/`finish` emitted.
    hash: FileHash,
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
        let mut header = [ATTACHMENT_VERSION; HEADER_LEN];
        if let Some(rest) = header.get_mut(1..) {
            rest.copy_from_slice(&nonce);
        }
        Ok(Self {
            sealer: Sealer {
                cipher,
                size,
                padded_size: padded_len(size),
                sealed: 0,
                counter: 0,
            },
            attachment_id,
            file_key,
            commitment,
            header: Some(header),
            fed: 0,
            buf: Zeroizing::new(Vec::new()),
            hash: FileHash::new(),
            error: None,
        })
    }

    /// Feeds plaintext; returns the ciphertext bytes completed so far.
    /// Feeding more than the declared size is reported by `finish`.
    pub fn update(&mut self, data: &[u8]) -> Vec<u8> {
        let whole = self.buf.len().saturating_add(data.len()) / CHUNK_SIZE;
        let mut out = Vec::with_capacity(
            whole
                .saturating_mul(CHUNK_SIZE + TAG_LEN)
                .saturating_add(HEADER_LEN),
        );
        self.update_into(data, &mut out);
        out
    }

    /// As [`update`](Self::update), appending the ciphertext to `out`.
    pub fn update_into(&mut self, data: &[u8], out: &mut Vec<u8>) {
        if self.error.is_some() {
            return;
        }
        let room = self.sealer.size.saturating_sub(self.fed);
        self.fed = self.fed.saturating_add(len64(data));
        let accepted = match usize::try_from(room) {
            Ok(room) => data.get(..room).unwrap_or(data),
            Err(_) => data,
        };
        if let Err(e) = self.absorb(accepted, out) {
            self.error = Some(e);
        }
    }

    /// Pads, seals the final chunk and returns the rest of the ciphertext
    /// with the reference to announce. Fails with
    /// [`Error::AttachmentSizeMismatch`] if the bytes fed were not exactly
    /// the declared size.
    pub fn finish(self) -> Result<(Vec<u8>, AttachmentRef)> {
        let mut out = Vec::new();
        let reference = self.finish_into(&mut out)?;
        Ok((out, reference))
    }

    /// As [`finish`](Self::finish), appending the ciphertext to `out`.
    pub fn finish_into(mut self, out: &mut Vec<u8>) -> Result<AttachmentRef> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.fed != self.sealer.size {
            return Err(Error::AttachmentSizeMismatch);
        }
        let header = if self.header.is_some() { 0 } else { HEADER_LEN };
        let emitted = (self.sealer.counter.saturating_mul(TAG_LEN as u64))
            .saturating_add(self.sealer.sealed)
            .saturating_add(header as u64);
        let left = ciphertext_len(self.sealer.padded_size).saturating_sub(emitted);
        out.reserve(usize::try_from(left).unwrap_or(0));
        self.emit_header(out);
        // The held final chunk (or the partial one), then any chunks that
        // are all padding: each is sealed with zeros after its plaintext.
        while self.sealer.next_len() > 0 {
            seal_append(&mut self.sealer, &mut self.hash, &self.buf, out)?;
            self.buf.clear();
        }
        let hashed = self.hash.len;
        let digest = self.hash.finalize();
        // Pieces sealed by `seal_piece` went around `hash`.
        if hashed != ciphertext_len(self.sealer.padded_size) {
            return Err(Error::AttachmentHashMismatch);
        }
        Ok(self.into_reference(digest))
    }

    /// A digest for the pieces [`seal_piece`](Self::seal_piece) returns;
    /// it accepts only this encryptor's pieces, each once, in order.
    pub fn detached_digest(&self) -> CiphertextDigest {
        CiphertextDigest::new(StreamTag(self.commitment))
    }

    /// Length of the next piece [`seal_piece`](Self::seal_piece) writes:
    /// [`HEADER_LEN`], then each sealed chunk; 0 once the final chunk is out.
    pub fn next_piece_len(&self) -> usize {
        if self.header.is_some() {
            return HEADER_LEN;
        }
        match self.sealer.next_len() {
            0 => 0,
            n => n.saturating_add(TAG_LEN),
        }
    }

    /// Plaintext bytes the next piece takes: 0 for the header and for
    /// chunks that are all padding, up to [`CHUNK_SIZE`] otherwise.
    pub fn next_piece_plaintext_len(&self) -> usize {
        if self.header.is_some() {
            return 0;
        }
        let left = self.sealer.size.saturating_sub(self.sealer.sealed);
        let n = self.sealer.next_len();
        usize::try_from(left).map_or(n, |left| left.min(n))
    }

    /// Writes the next piece of the file into the start of `out` and
    /// returns it for a [`CiphertextDigest`] (its bytes are the ciphertext
    /// to store). `plaintext` must be exactly
    /// [`next_piece_plaintext_len`](Self::next_piece_plaintext_len) bytes
    /// and `out` at least [`next_piece_len`](Self::next_piece_len); the
    /// chunk is sealed straight from `plaintext`, padding added in `out`.
    /// Fails with [`Error::AttachmentSizeMismatch`] on other lengths, after
    /// the final chunk, or after `update`; errors are sticky.
    pub fn seal_piece<'a>(
        &mut self,
        plaintext: &[u8],
        out: &'a mut [u8],
    ) -> Result<CiphertextPiece<'a>> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.seal_piece_inner(plaintext, out);
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    /// Builds the reference once every piece went through `digest` (one
    /// from [`detached_digest`](Self::detached_digest)). Fails with
    /// [`Error::AttachmentSizeMismatch`] if not all of the declared size
    /// was sealed, and [`Error::AttachmentHashMismatch`] if `digest` did not
    /// take exactly this file's pieces, each once, in order.
    pub fn finish_with_detached_digest(self, digest: CiphertextDigest) -> Result<AttachmentRef> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let padded = self.sealer.padded_size;
        let complete = self.header.is_none() && self.sealer.sealed == padded;
        if self.fed != self.sealer.size || !complete {
            return Err(Error::AttachmentSizeMismatch);
        }
        let digest = digest
            .finalize_for(
                &StreamTag(self.commitment),
                piece_count(padded),
                ciphertext_len(padded),
            )
            .ok_or(Error::AttachmentHashMismatch)?;
        Ok(self.into_reference(digest))
    }

    fn seal_piece_inner<'a>(
        &mut self,
        plaintext: &[u8],
        out: &'a mut [u8],
    ) -> Result<CiphertextPiece<'a>> {
        let len = self.next_piece_len();
        if !self.buf.is_empty() || len == 0 || plaintext.len() != self.next_piece_plaintext_len() {
            return Err(Error::AttachmentSizeMismatch);
        }
        let slot = out.get_mut(..len).ok_or(Error::AttachmentSizeMismatch)?;
        let index = match self.header.take() {
            Some(header) => {
                slot.copy_from_slice(&header);
                0
            }
            None => {
                let index = self.sealer.counter.saturating_add(1);
                self.sealer.seal(plaintext, slot)?;
                index
            }
        };
        self.fed = self.fed.saturating_add(len64(plaintext));
        Ok(CiphertextPiece::new(
            slot,
            index,
            Some(StreamTag(self.commitment)),
        ))
    }

    fn into_reference(self, ciphertext_sha256: [u8; 32]) -> AttachmentRef {
        AttachmentRef {
            attachment_id: self.attachment_id,
            file_key: self.file_key,
            size: self.sealer.size,
            padded_size: self.sealer.padded_size,
            ciphertext_sha256,
            commitment: self.commitment,
        }
    }

    fn emit_header(&mut self, out: &mut Vec<u8>) {
        if let Some(header) = self.header.take() {
            out.extend_from_slice(&header);
            self.hash.update(&header);
        }
    }

    fn absorb(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.emit_header(out);
        while !data.is_empty() {
            // Whole chunks go from `data` to `out` without a copy; the
            // final chunk is held back for `finish`, which pads it.
            if self.buf.is_empty()
                && !self.sealer.next_is_last()
                && let Some((chunk, rest)) = data.split_at_checked(CHUNK_SIZE)
            {
                seal_append(&mut self.sealer, &mut self.hash, chunk, out)?;
                data = rest;
                continue;
            }
            let room = CHUNK_SIZE.saturating_sub(self.buf.len());
            let (head, tail) = data
                .split_at_checked(room.min(data.len()))
                .unwrap_or((data, &[]));
            if head.is_empty() {
                // Only a held final chunk is full; nothing may follow it.
                return Err(Error::AttachmentSizeMismatch);
            }
            if self.buf.capacity() == 0 {
                // Once, at full size: growing would leave unwiped copies.
                self.buf.reserve_exact(CHUNK_SIZE);
            }
            self.buf.extend_from_slice(head);
            data = tail;
            if self.buf.len() == CHUNK_SIZE && !self.sealer.next_is_last() {
                seal_append(&mut self.sealer, &mut self.hash, &self.buf, out)?;
                self.buf.clear();
            }
        }
        Ok(())
    }
}

impl fmt::Debug for AttachmentEncryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentEncryptor")
            .field("attachment_id", &self.attachment_id)
            .field("size", &self.sealer.size)
            .field("fed", &self.fed)
            .finish_non_exhaustive()
    }
}

/// The chunk sequence of one file: payload cipher and how far it got.
struct Sealer {
    cipher: ChaCha20Poly1305,
    size: u64,
    padded_size: u64,
    /// Padded plaintext bytes sealed so far.
    sealed: u64,
    /// Chunks sealed so far: the next chunk's counter.
    counter: u64,
}

impl Sealer {
    /// Padded plaintext length of the next chunk; 0 once the final one is sealed.
    fn next_len(&self) -> usize {
        let left = self.padded_size.saturating_sub(self.sealed);
        usize::try_from(left.min(CHUNK_SIZE as u64)).unwrap_or(0)
    }

    fn next_is_last(&self) -> bool {
        self.sealed.saturating_add(len64_of(self.next_len())) == self.padded_size
    }

    /// Seals the next chunk into `out` (exactly its sealed length):
    /// `input`, then zeros up to the chunk's padded length, then the tag.
    fn seal(&mut self, input: &[u8], out: &mut [u8]) -> Result<()> {
        let n = self.next_len();
        if n == 0 || input.len() > n || out.len() != n.saturating_add(TAG_LEN) {
            return Err(Error::AttachmentSizeMismatch);
        }
        let nonce = chunk_nonce(self.counter, self.next_is_last());
        let (body, tag_out) = out
            .split_at_mut_checked(n)
            .ok_or(Error::AttachmentSizeMismatch)?;
        let buffer = if input.len() == n {
            InOutBuf::new(input, body).map_err(|_| Error::AttachmentSizeMismatch)?
        } else {
            let (head, padding) = body
                .split_at_mut_checked(input.len())
                .ok_or(Error::AttachmentSizeMismatch)?;
            head.copy_from_slice(input);
            padding.fill(0);
            InOutBuf::from(body)
        };
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce, &[], buffer)
            .map_err(|_| too_large("chunk"))?;
        tag_out.copy_from_slice(&tag);
        self.sealed = self.sealed.saturating_add(len64_of(n));
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(too_large("chunk_counter"))?;
        Ok(())
    }
}

/// Seals the next chunk from `input` onto the end of `out` and hashes it
/// while it is still in cache.
fn seal_append(
    sealer: &mut Sealer,
    hash: &mut FileHash,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    let start = out.len();
    let sealed_len = sealer.next_len().saturating_add(TAG_LEN);
    out.resize(start.saturating_add(sealed_len), 0);
    let slot = out.get_mut(start..).ok_or(Error::AttachmentSizeMismatch)?;
    let result = sealer.seal(input, slot);
    if result.is_ok() {
        hash.update(slot);
    } else {
        out.truncate(start);
    }
    result
}

fn len64_of(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
