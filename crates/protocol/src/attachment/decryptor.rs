//! The streaming attachment decryptor (docs/protocol.md §11.7).
//!
//! Two interfaces over one state: `update` (or `update_into`, appending to
//! a caller's buffer) takes ciphertext in any pieces and hashes it itself,
//! `finish` checks the hash; `open_piece` takes the file one piece at a
//! time and leaves the SHA-256 to a [`CiphertextDigest`] the caller may
//! drive on another thread, `finish_with_detached_digest` checks it. Whole
//! chunks are opened straight from the caller's input into the output;
//! only a partial piece is buffered. The checks and their order are the
//! same either way.
//!
//! Non-goals: mixing the two interfaces in one file (it fails closed at
//! `finish`), and threads.

use super::digest::{CiphertextDigest, CiphertextPiece, StreamTag};
use super::{
    ATTACHMENT_VERSION, AttachmentRef, CHUNK_SIZE, FileHash, HEADER_LEN, NONCE_LEN, TAG_LEN,
    chunk_nonce, ciphertext_len, derive_keys, discard_from, len64, piece_count, too_large,
};
use crate::error::{Error, Result, Structure};
use crate::ids::{AttachmentId, ConversationId};
use alloc::vec::Vec;
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{ChaCha20Poly1305, Tag};
use core::fmt;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Decrypts one attachment as a stream, holding at most one chunk.
///
/// Which chunk is final follows from the announced padded size, so the
/// expected file length is known up front: more bytes are
/// [`Error::AttachmentExtended`] at once, fewer are
/// [`Error::AttachmentTruncated`] at `finish`. After any error every later
/// call returns the same error.
///
/// Alternatively [`open_piece`](Self::open_piece) takes the file piece by
/// piece and returns each for a [`CiphertextDigest`] from
/// [`detached_digest`](Self::detached_digest), which
/// [`finish_with_detached_digest`](Self::finish_with_detached_digest)
/// checks instead of a hash of its own.
pub struct AttachmentDecryptor {
    conversation: ConversationId,
    attachment_id: AttachmentId,
    file_key: Zeroizing<[u8; 32]>,
    commitment: [u8; 32],
    ciphertext_sha256: [u8; 32],
    size: u64,
    padded_size: u64,
    /// Set once the header checked out against the commitment.
    opener: Option<Opener>,
    /// Ciphertext of a partial header or chunk (allocated on first use).
    buf: Vec<u8>,
    received: u64,
    /// SHA-256 of what `update` received.
    hash: FileHash,
    /// The ticket of the last digest handed out by `detached_digest`.
    stream: Option<StreamTag>,
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
            opener: None,
            buf: Vec::new(),
            received: 0,
            hash: FileHash::new(),
            stream: None,
            error: None,
        }
    }

    /// Feeds ciphertext; returns the **provisional** plaintext of the chunks
    /// completed so far, without padding. Discard all of it unless
    /// [`finish`](Self::finish) returns `Ok`.
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        // Room for every chunk this call completes (the padded plaintext is
        // never longer than its ciphertext), so `out` is never moved.
        let left = self.padded_size.saturating_sub(self.opened());
        let room = self.buf.len().saturating_add(data.len());
        let mut out = Vec::with_capacity(usize::try_from(left).map_or(room, |l| l.min(room)));
        self.update_into(data, &mut out)?;
        Ok(out)
    }

    /// As [`update`](Self::update), appending the provisional plaintext to
    /// `out`. On error what this call appended is wiped and removed. Each
    /// chunk is decrypted in place at the end of `out`, so to keep it from
    /// moving give it spare capacity for the chunk's padded length.
    pub fn update_into(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let start = out.len();
        let result = self.absorb(data, out);
        if let Err(e) = &result {
            discard_from(out, start);
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
        self.check_complete()?;
        let total = ciphertext_len(self.padded_size);
        // Pieces given to `open_piece` went around `hash`: no match.
        let hashed_all = self.hash.len == total;
        let mut hash = self.hash;
        let digest = hash.finalize();
        if !hashed_all || !bool::from(digest.ct_eq(&self.ciphertext_sha256)) {
            return Err(Error::AttachmentHashMismatch);
        }
        Ok(())
    }

    /// A digest for the pieces [`open_piece`](Self::open_piece) returns from
    /// now on. Draws a 32-byte ticket from `rng` that ties it to this
    /// decryptor: it accepts only this decryptor's pieces (not another
    /// decryption's, even of the same attachment), each once, in order.
    pub fn detached_digest(&mut self, rng: &mut impl CryptoRng) -> CiphertextDigest {
        let mut ticket = [0u8; 32];
        rng.fill_bytes(&mut ticket);
        self.stream = Some(StreamTag(ticket));
        CiphertextDigest::new(StreamTag(ticket))
    }

    /// Length the next piece given to [`open_piece`](Self::open_piece) must
    /// have: [`HEADER_LEN`], then each sealed chunk; 0 once the file is done.
    pub fn next_piece_len(&self) -> usize {
        let Some(opener) = &self.opener else {
            return HEADER_LEN;
        };
        match opener.next_len() {
            0 => 0,
            n => n.saturating_add(TAG_LEN),
        }
    }

    /// Checks and opens the next piece of the file, which must be exactly
    /// [`next_piece_len`](Self::next_piece_len) bytes, with the checks of
    /// [`update`](Self::update). For a chunk, `out` needs room for its
    /// padded plaintext (`piece.len() - TAG_LEN`); the first of the
    /// returned count of bytes are the **provisional** plaintext, the rest
    /// checked-zero padding. The returned piece is for the
    /// [`CiphertextDigest`] from [`detached_digest`](Self::detached_digest).
    /// A piece of the wrong length or too small an `out` is
    /// [`Error::AttachmentSizeMismatch`]; errors are sticky.
    pub fn open_piece<'a>(
        &mut self,
        piece: &'a [u8],
        out: &mut [u8],
    ) -> Result<(usize, CiphertextPiece<'a>)> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.open_piece_inner(piece, out);
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    /// As [`finish`](Self::finish), but with the SHA-256 of the file
    /// computed by `digest` (from [`detached_digest`](Self::detached_digest))
    /// over the pieces [`open_piece`](Self::open_piece) returned. Fails with
    /// [`Error::AttachmentHashMismatch`] unless `digest` took exactly those
    /// pieces — all of them, each once, in order, none from elsewhere — and
    /// their hash is the announced one.
    pub fn finish_with_detached_digest(self, digest: CiphertextDigest) -> Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.check_complete()?;
        let stream = self.stream.ok_or(Error::AttachmentHashMismatch)?;
        let digest = digest
            .finalize_for(
                &stream,
                piece_count(self.padded_size),
                ciphertext_len(self.padded_size),
            )
            .ok_or(Error::AttachmentHashMismatch)?;
        if !bool::from(digest.ct_eq(&self.ciphertext_sha256)) {
            return Err(Error::AttachmentHashMismatch);
        }
        Ok(())
    }

    fn opened(&self) -> u64 {
        self.opener.as_ref().map_or(0, |o| o.opened)
    }

    fn check_complete(&self) -> Result<()> {
        if self.received != ciphertext_len(self.padded_size) || self.opened() != self.padded_size {
            return Err(Error::AttachmentTruncated);
        }
        Ok(())
    }

    /// Counts `n` more bytes received; more than the file holds is an error.
    fn receive(&mut self, n: usize) -> Result<()> {
        self.received = self
            .received
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        if self.received > ciphertext_len(self.padded_size) {
            return Err(Error::AttachmentExtended);
        }
        Ok(())
    }

    fn absorb(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.receive(data.len())?;
        while !data.is_empty() {
            let piece = self.next_piece_len();
            if piece == 0 {
                return Err(Error::AttachmentExtended);
            }
            // A whole piece in `data`: opened from there, no copy.
            if self.buf.is_empty()
                && let Some((whole, rest)) = data.split_at_checked(piece)
            {
                self.hash.update(whole);
                self.open_append(whole, out)?;
                data = rest;
                continue;
            }
            let want = piece.saturating_sub(self.buf.len());
            let (head, tail) = data
                .split_at_checked(want.min(data.len()))
                .unwrap_or((data, &[]));
            if self.buf.capacity() == 0 {
                self.buf.reserve_exact(CHUNK_SIZE + TAG_LEN);
            }
            self.hash.update(head);
            self.buf.extend_from_slice(head);
            data = tail;
            if self.buf.len() == piece {
                let buf = core::mem::take(&mut self.buf);
                let result = self.open_append(&buf, out);
                self.buf = buf;
                self.buf.clear();
                result?;
            }
        }
        Ok(())
    }

    /// Opens a whole piece: checks the header, or appends a chunk's
    /// plaintext (without padding) to `out`.
    fn open_append(&mut self, piece: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let Some(opener) = &mut self.opener else {
            return self.open_header(piece);
        };
        let start = out.len();
        let padded = piece.len().saturating_sub(TAG_LEN);
        out.resize(start.saturating_add(padded), 0);
        let slot = out.get_mut(start..).ok_or(Error::DecryptionFailed)?;
        let kept = opener.open(piece, slot)?;
        out.truncate(start.saturating_add(kept));
        Ok(())
    }

    fn open_piece_inner<'a>(
        &mut self,
        piece: &'a [u8],
        out: &mut [u8],
    ) -> Result<(usize, CiphertextPiece<'a>)> {
        self.receive(piece.len())?;
        let expected = self.next_piece_len();
        if expected == 0 {
            return Err(Error::AttachmentExtended);
        }
        if !self.buf.is_empty() || piece.len() != expected {
            return Err(Error::AttachmentSizeMismatch);
        }
        let (index, kept) = match &mut self.opener {
            None => {
                self.open_header(piece)?;
                (0, 0)
            }
            Some(opener) => {
                let index = opener.counter.saturating_add(1);
                let padded = piece.len().saturating_sub(TAG_LEN);
                let slot = out.get_mut(..padded).ok_or(Error::AttachmentSizeMismatch)?;
                (index, opener.open(piece, slot)?)
            }
        };
        Ok((kept, CiphertextPiece::new(piece, index, self.stream)))
    }

    fn open_header(&mut self, header: &[u8]) -> Result<()> {
        let truncated = Error::Truncated(Structure::Attachment);
        let (&version, nonce) = header.split_first().ok_or(truncated.clone())?;
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
        self.opener = Some(Opener {
            cipher,
            size: self.size,
            padded_size: self.padded_size,
            opened: 0,
            counter: 0,
        });
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

/// The chunk sequence of one file once its header checked out.
struct Opener {
    cipher: ChaCha20Poly1305,
    size: u64,
    padded_size: u64,
    /// Padded plaintext bytes opened so far.
    opened: u64,
    /// Chunks opened so far: the next chunk's counter.
    counter: u64,
}

impl Opener {
    /// Padded plaintext length of the next chunk; 0 once the final one is open.
    fn next_len(&self) -> usize {
        let left = self.padded_size.saturating_sub(self.opened);
        usize::try_from(left.min(CHUNK_SIZE as u64)).unwrap_or(0)
    }

    /// Authenticates the next sealed chunk and decrypts it into `out`
    /// (exactly its padded length); returns how many leading bytes are
    /// plaintext. The rest is padding and must be zero; if not, `out` is
    /// wiped. Nothing is written to `out` unless the tag verifies.
    fn open(&mut self, sealed: &[u8], out: &mut [u8]) -> Result<usize> {
        let n = self.next_len();
        if n == 0 || sealed.len() != n.saturating_add(TAG_LEN) || out.len() != n {
            return Err(Error::DecryptionFailed);
        }
        let end = self.opened.saturating_add(len64(out));
        let nonce = chunk_nonce(self.counter, end == self.padded_size);
        let (ciphertext, tag) = sealed.split_at_checked(n).ok_or(Error::DecryptionFailed)?;
        let tag = Tag::try_from(tag).map_err(|_| Error::DecryptionFailed)?;
        let buffer = InOutBuf::new(ciphertext, out).map_err(|_| Error::DecryptionFailed)?;
        self.cipher
            .decrypt_inout_detached(&nonce, &[], buffer, &tag)
            .map_err(|_| Error::DecryptionFailed)?;
        let keep = self.size.saturating_sub(self.opened).min(len64(out));
        let keep = usize::try_from(keep).map_err(|_| too_large("chunk"))?;
        if out.get(keep..).is_some_and(|p| p.iter().any(|b| *b != 0)) {
            out.zeroize();
            return Err(Error::InvalidField {
                structure: Structure::Attachment,
                field: "padding",
            });
        }
        self.opened = end;
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(too_large("chunk_counter"))?;
        Ok(keep)
    }
}
