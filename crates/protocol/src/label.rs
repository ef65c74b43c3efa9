//! Domain-separation labels, the labelled hash and signing input
//! (docs/protocol.md §2.2).
//!
//! Every hashed or signed byte string starts with a label
//! `confide/v1/<type>`, framed as `u8 length ‖ label`, so no two kinds of
//! input can ever collide, and one key never signs two kinds of statement
//! under the same label.

use sha2::{Digest, Sha256};

/// The labels of the protocol, one per kind of hashed, signed or derived input.
pub mod labels {
    /// Device id: `H(DEVICE_ID, PublicIdentity)`.
    pub const DEVICE_ID: &str = "confide/v1/device-id";
    /// Recipient key id: `H(RECIPIENT_ID, hpke_public_key)`.
    pub const RECIPIENT_ID: &str = "confide/v1/recipient-id";
    /// Root-key fingerprint: `H(ROOT_FINGERPRINT, root_public_key)`.
    pub const ROOT_FINGERPRINT: &str = "confide/v1/root-fingerprint";
    /// Signature on a membership statement by the organisation root.
    pub const MEMBERSHIP_SIG: &str = "confide/v1/membership";
    /// Hash of a membership statement body.
    pub const MEMBERSHIP_HASH: &str = "confide/v1/membership-hash";
    /// Signature on a key-generation statement by a rotating member.
    pub const GENERATION_SIG: &str = "confide/v1/generation";
    /// Hash of a key-generation statement body.
    pub const GENERATION_HASH: &str = "confide/v1/generation-hash";
    /// HPKE `info` sealing a generation private key to a member device.
    pub const GENERATION_SEAL: &str = "confide/v1/generation-seal";
    /// Signature on a generation-key grant by the granting device.
    pub const GENERATION_GRANT_SIG: &str = "confide/v1/generation-grant";
    /// HPKE `info` sealing a granted generation key to the grantee.
    pub const GENERATION_GRANT_SEAL: &str = "confide/v1/generation-grant-seal";
    /// Signature on a root rotation, by the old root.
    pub const ROOT_ROTATION_SIG: &str = "confide/v1/root-rotation";
    /// Signature on a root rotation, by the new root (proof of possession).
    pub const ROOT_ROTATION_ACCEPT_SIG: &str = "confide/v1/root-rotation-accept";
    /// Hash of a root rotation body.
    pub const ROOT_ROTATION_HASH: &str = "confide/v1/root-rotation-hash";
    /// HPKE `info` of the display-name book sealed to members.
    pub const NAME_BOOK_SEAL: &str = "confide/v1/name-book-seal";
    /// HKDF `info` deriving the name-book AEAD key.
    pub const NAME_BOOK_KEY: &str = "confide/v1/name-book-key";
    /// Conversation id.
    pub const CONVERSATION_ID: &str = "confide/v1/conversation-id";
    /// Signature on an envelope by its sender device.
    pub const ENVELOPE_SIG: &str = "confide/v1/envelope";
    /// Hash of an envelope header (AEAD and HPKE associated data).
    pub const HEADER_HASH: &str = "confide/v1/header-hash";
    /// Hash of a whole envelope (replay guard, replies).
    pub const ENVELOPE_HASH: &str = "confide/v1/envelope-hash";
    /// HKDF `info` deriving body key and commitment from a content key.
    pub const MESSAGE_KEYS: &str = "confide/v1/message-keys";
    /// HPKE `info` sealing a content key to one recipient.
    pub const CONTENT_KEY_SEAL: &str = "confide/v1/content-key-seal";
    /// HKDF `info` deriving an attachment's payload key and commitment.
    pub const ATTACHMENT_KEYS: &str = "confide/v1/attachment-keys";
    /// Signature on an identity token by the company backend.
    pub const IDENTITY_TOKEN_SIG: &str = "confide/v1/identity-token";
    /// HMAC input of the compatibility "user hash" identity scheme.
    pub const IDENTITY_TOKEN_HMAC: &str = "confide/v1/identity-token-hmac";
    /// Associated data of an encrypted secret-key file.
    pub const KEY_FILE: &str = "confide/v1/key-file";
}

/// A 32-byte labelled SHA-256 digest.
pub type Digest32 = [u8; 32];

/// Appends `u8(len(label)) ‖ label` to `out`.
pub fn frame_label(out: &mut alloc::vec::Vec<u8>, label: &str) {
    // Every label is a short ASCII constant (< 64 bytes).
    out.push(label.len() as u8);
    out.extend_from_slice(label.as_bytes());
}

/// `H(label, parts…) = SHA-256(u8(len(label)) ‖ label ‖ parts…)`.
pub fn hash(label: &str, parts: &[&[u8]]) -> Digest32 {
    let mut h = Sha256::new();
    h.update([label.len() as u8]);
    h.update(label.as_bytes());
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The bytes a signature covers: `u8(len(label)) ‖ label ‖ body`.
pub fn signing_input(label: &str, body: &[u8]) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::with_capacity(1 + label.len() + body.len());
    frame_label(&mut out, label);
    out.extend_from_slice(body);
    out
}

/// Plain SHA-256 (used where the spec says so: attachment ciphertext digests).
pub fn sha256(data: &[u8]) -> Digest32 {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_and_short() {
        let all = [
            labels::DEVICE_ID,
            labels::RECIPIENT_ID,
            labels::ROOT_FINGERPRINT,
            labels::MEMBERSHIP_SIG,
            labels::MEMBERSHIP_HASH,
            labels::GENERATION_SIG,
            labels::GENERATION_HASH,
            labels::GENERATION_SEAL,
            labels::GENERATION_GRANT_SIG,
            labels::GENERATION_GRANT_SEAL,
            labels::ROOT_ROTATION_SIG,
            labels::ROOT_ROTATION_ACCEPT_SIG,
            labels::ROOT_ROTATION_HASH,
            labels::NAME_BOOK_SEAL,
            labels::NAME_BOOK_KEY,
            labels::CONVERSATION_ID,
            labels::ENVELOPE_SIG,
            labels::HEADER_HASH,
            labels::ENVELOPE_HASH,
            labels::MESSAGE_KEYS,
            labels::CONTENT_KEY_SEAL,
            labels::ATTACHMENT_KEYS,
            labels::IDENTITY_TOKEN_SIG,
            labels::IDENTITY_TOKEN_HMAC,
            labels::KEY_FILE,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.starts_with("confide/v1/") && a.len() < 64);
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn framing_separates_label_from_data() {
        assert_ne!(
            hash("confide/v1/a", &[b"bc"]),
            hash("confide/v1/ab", &[b"c"])
        );
    }
}
