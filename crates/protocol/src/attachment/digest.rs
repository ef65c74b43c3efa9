//! The ciphertext file's SHA-256, computed apart from the AEAD
//! (docs/protocol.md §11.4, §11.7 step 4).
//!
//! SHA-256 over the whole file costs about as much as ChaCha20-Poly1305,
//! so a caller with threads can overlap them: an encryptor's
//! `seal_piece` or a decryptor's `open_piece` returns each piece as a
//! [`CiphertextPiece`] — a shared borrow of exactly the bytes it sealed or
//! authenticated, so they cannot change until hashed — and a
//! [`CiphertextDigest`] on another thread absorbs them. The encryptor or
//! decryptor that issued the digest accepts it at `finish` only if it took
//! exactly that stream's pieces, each once, in file order; a piece of
//! another stream, a skipped, repeated or reordered piece poisons it.
//!
//! Non-goals: hashing arbitrary bytes (pieces are minted only by this
//! module's neighbours) and threads (the caller owns them).

use super::FileHash;
use core::fmt;

/// Which encryptor or decryptor a piece came from: an encryptor's
/// commitment (fresh per file), or a decryptor's random ticket (so two
/// decryptions of one attachment are still told apart).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct StreamTag(pub(super) [u8; 32]);

/// One piece of an attachment ciphertext file — the header or one sealed
/// chunk — as an encryptor wrote it or a decryptor authenticated it, on
/// its way to that stream's [`CiphertextDigest`]. It borrows the bytes, so
/// they cannot change until the digest has taken them; it cannot be
/// copied, so each piece is counted once.
#[must_use = "a piece left out of the digest makes `finish_with_detached_digest` fail"]
pub struct CiphertextPiece<'a> {
    bytes: &'a [u8],
    /// Position in the file: 0 is the header, `i + 1` is chunk `i`.
    index: u64,
    /// `None` for a decryptor without a detached digest: never accepted.
    stream: Option<StreamTag>,
}

impl<'a> CiphertextPiece<'a> {
    pub(super) fn new(bytes: &'a [u8], index: u64, stream: Option<StreamTag>) -> Self {
        Self {
            bytes,
            index,
            stream,
        }
    }

    /// The piece's bytes, exactly as they appear in the ciphertext file.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl fmt::Debug for CiphertextPiece<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CiphertextPiece")
            .field("index", &self.index)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// SHA-256 of one attachment ciphertext file, fed with the
/// [`CiphertextPiece`]s of the encryptor or decryptor that issued it
/// (`detached_digest`). It is `Send`, so it may run on another thread
/// while the AEAD runs on this one; hand it back to
/// `finish_with_detached_digest`, which fails unless it took every piece
/// of that stream, each once, in order.
pub struct CiphertextDigest {
    hash: FileHash,
    stream: StreamTag,
    /// Index of the piece expected next.
    next: u64,
    /// Set by a piece that was not the expected one; never cleared.
    poisoned: bool,
}

impl CiphertextDigest {
    pub(super) fn new(stream: StreamTag) -> Self {
        Self {
            hash: FileHash::new(),
            stream,
            next: 0,
            poisoned: false,
        }
    }

    /// Hashes `piece` if it is the next piece of this digest's stream;
    /// otherwise poisons the digest, so `finish_with_detached_digest` will
    /// fail with [`Error::AttachmentHashMismatch`](crate::Error::AttachmentHashMismatch).
    pub fn absorb(&mut self, piece: CiphertextPiece<'_>) {
        if self.poisoned || piece.stream != Some(self.stream) || piece.index != self.next {
            self.poisoned = true;
            return;
        }
        self.hash.update(piece.bytes);
        self.next = self.next.saturating_add(1);
    }

    /// The SHA-256, if this digest took exactly `pieces` pieces of
    /// `stream`, `len` bytes in all, and was never poisoned.
    pub(super) fn finalize_for(
        mut self,
        stream: &StreamTag,
        pieces: u64,
        len: u64,
    ) -> Option<[u8; 32]> {
        let whole = !self.poisoned && self.next == pieces && self.hash.len == len;
        (whole && self.stream == *stream).then(|| self.hash.finalize())
    }
}

impl fmt::Debug for CiphertextDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CiphertextDigest")
            .field("pieces", &self.next)
            .field("len", &self.hash.len)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}
