//! The crate's one error type.
//!
//! Every variant says *what* was wrong and never carries key material or
//! plaintext. Variants are grouped the way `docs/protocol.md` §9 lists the
//! checks, so a caller can map them to a stable machine-readable code with
//! [`Error::code`].

use core::fmt;

/// Which structure a decoding error was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Structure {
    /// A public device identity.
    PublicIdentity,
    /// A membership statement.
    Membership,
    /// A key-generation statement.
    Generation,
    /// A root-rotation statement.
    RootRotation,
    /// An envelope (header, sealed keys, body ciphertext, signature).
    Envelope,
    /// A decrypted message body.
    Body,
    /// A replay-guard state.
    ReplayState,
    /// A checkpoint.
    Checkpoint,
    /// An identity token.
    IdentityToken,
    /// An encrypted secret-key file.
    KeyFile,
    /// An attachment ciphertext.
    Attachment,
    /// A conversation descriptor.
    Conversation,
    /// A generation-key grant.
    Grant,
}

/// Everything that can go wrong in the protocol core.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // --- encoding (§3) ---
    /// The input ended before the structure was complete.
    Truncated(Structure),
    /// Bytes were left over after a complete structure.
    TrailingBytes(Structure),
    /// A field had a value the encoding does not allow (named by `field`).
    InvalidField {
        /// The structure being decoded.
        structure: Structure,
        /// The field that was wrong.
        field: &'static str,
    },
    /// A set (members, recipients, seals) was not strictly sorted, or had duplicates.
    NotCanonical {
        /// The structure being decoded.
        structure: Structure,
        /// The list that was not canonical.
        field: &'static str,
    },
    /// A size limit of §3.3 was exceeded.
    TooLarge {
        /// The structure being decoded or built.
        structure: Structure,
        /// What was too large.
        field: &'static str,
    },
    /// The protocol version is not one this implementation speaks.
    UnsupportedVersion(u8),

    // --- signatures and statements (§5, §6) ---
    /// A signature did not verify under the key it must verify under.
    BadSignature(Structure),
    /// A public key was not a valid curve point.
    InvalidPublicKey,
    /// A statement was signed by a key or device that may not sign it.
    WrongSigner(Structure),
    /// A statement belongs to another organisation or inbox.
    WrongScope(Structure),
    /// A statement's `prev_hash` does not match the hash of its predecessor,
    /// or its sequence number is not the next one.
    BrokenChain(Structure),
    /// A different statement with the same sequence number as one already verified.
    Fork(Structure),
    /// A statement (or chain) below the client's checkpoint.
    Rollback(Structure),
    /// The membership's `not_after` is in the past.
    MembershipExpired,
    /// The key generation was signed by a device whose role may not rotate keys.
    RotationNotAllowed,
    /// The generation's key seals do not go to exactly the agent and supervisor devices.
    WrongSealRecipients,
    /// A statement named by an envelope or generation is not known to this client.
    UnknownStatement,
    /// The membership requires a newer protocol version than the envelope's.
    VersionTooOld,
    /// The unsealed generation private key does not match the statement's public key.
    GenerationKeyMismatch,
    /// This device is not a recipient of the generation key.
    NotAGenerationRecipient,
    /// The head key generation does not serve the head membership: rotate first.
    RotationRequired,
    /// The envelope names a membership older than the receiver's head.
    StaleStatement,

    // --- envelopes (§8, §9) ---
    /// The sender is neither a member allowed to send nor the conversation's visitor.
    SenderNotAllowed,
    /// The sender was removed from the inbox after the named membership.
    SenderRemoved,
    /// A recipient that the membership requires is missing from the header.
    MissingRequiredRecipient,
    /// The header names an audience its recipients do not fit.
    RecipientsDoNotFitAudience,
    /// The envelope is for another conversation.
    WrongConversation,
    /// This device is not among the envelope's recipients.
    NotARecipient,
    /// The content key does not match the header's key commitment.
    CommitmentMismatch,
    /// Authenticated decryption failed (tampered ciphertext or wrong key).
    DecryptionFailed,
    /// The conversation id does not commit to the given visitor, inbox and nonce.
    ConversationIdMismatch,

    // --- replay guard (§10) ---
    /// The envelope (same sender, instance and counter, or same hash) was already accepted.
    Replay,
    /// The counter is older than the replay window; it cannot be told apart from a replay.
    TooOld,

    // --- attachments (§11) ---
    /// The attachment stream ended before its final chunk.
    AttachmentTruncated,
    /// Data followed the attachment's final chunk.
    AttachmentExtended,
    /// The attachment ciphertext's SHA-256 differs from the announced one.
    AttachmentHashMismatch,
    /// The attachment's size does not match the announced size.
    AttachmentSizeMismatch,

    // --- identity tokens (§12) ---
    /// The token names another visitor device than the envelope's sender.
    TokenWrongDevice,
    /// The token has expired or is not yet valid.
    TokenExpired,
    /// The token's lifetime is longer than the protocol allows.
    TokenLifetimeTooLong,
    /// The token's key id is not among the membership's identity-token keys.
    TokenUnknownKey,
    /// The token's proof scheme is not the one this verifier checks: an
    /// HMAC "user hash" token can be checked only by the server, never by
    /// agents, and the HMAC check takes no Ed25519 token.
    TokenWrongScheme,

    // --- key files (§4.3) ---
    /// The passphrase is wrong or the key file was modified.
    WrongPassphrase,
    /// The key file's KDF parameters are outside the accepted bounds.
    WeakOrExcessiveKdfParameters,
    /// The key file holds another kind of key than the one asked for.
    WrongKeyKind,
}

impl Error {
    /// A stable, machine-readable code for this error (`snake_case`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Truncated(_) => "truncated",
            Error::TrailingBytes(_) => "trailing_bytes",
            Error::InvalidField { .. } => "invalid_field",
            Error::NotCanonical { .. } => "not_canonical",
            Error::TooLarge { .. } => "too_large",
            Error::UnsupportedVersion(_) => "unsupported_version",
            Error::BadSignature(_) => "bad_signature",
            Error::InvalidPublicKey => "invalid_public_key",
            Error::WrongSigner(_) => "wrong_signer",
            Error::WrongScope(_) => "wrong_scope",
            Error::BrokenChain(_) => "broken_chain",
            Error::Fork(_) => "fork",
            Error::Rollback(_) => "rollback",
            Error::MembershipExpired => "membership_expired",
            Error::RotationNotAllowed => "rotation_not_allowed",
            Error::WrongSealRecipients => "wrong_seal_recipients",
            Error::UnknownStatement => "unknown_statement",
            Error::VersionTooOld => "version_too_old",
            Error::GenerationKeyMismatch => "generation_key_mismatch",
            Error::NotAGenerationRecipient => "not_a_generation_recipient",
            Error::RotationRequired => "rotation_required",
            Error::StaleStatement => "stale_statement",
            Error::SenderNotAllowed => "sender_not_allowed",
            Error::SenderRemoved => "sender_removed",
            Error::MissingRequiredRecipient => "missing_required_recipient",
            Error::RecipientsDoNotFitAudience => "recipients_do_not_fit_audience",
            Error::WrongConversation => "wrong_conversation",
            Error::NotARecipient => "not_a_recipient",
            Error::CommitmentMismatch => "commitment_mismatch",
            Error::DecryptionFailed => "decryption_failed",
            Error::ConversationIdMismatch => "conversation_id_mismatch",
            Error::Replay => "replay",
            Error::TooOld => "too_old",
            Error::AttachmentTruncated => "attachment_truncated",
            Error::AttachmentExtended => "attachment_extended",
            Error::AttachmentHashMismatch => "attachment_hash_mismatch",
            Error::AttachmentSizeMismatch => "attachment_size_mismatch",
            Error::TokenWrongDevice => "token_wrong_device",
            Error::TokenExpired => "token_expired",
            Error::TokenLifetimeTooLong => "token_lifetime_too_long",
            Error::TokenUnknownKey => "token_unknown_key",
            Error::TokenWrongScheme => "token_wrong_scheme",
            Error::WrongPassphrase => "wrong_passphrase",
            Error::WeakOrExcessiveKdfParameters => "kdf_parameters_out_of_bounds",
            Error::WrongKeyKind => "wrong_key_kind",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(s) => write!(f, "{s:?} is truncated"),
            Error::TrailingBytes(s) => write!(f, "{s:?} has trailing bytes"),
            Error::InvalidField { structure, field } => {
                write!(f, "{structure:?} has an invalid `{field}`")
            }
            Error::NotCanonical { structure, field } => write!(
                f,
                "{structure:?} `{field}` is not strictly sorted or has duplicates"
            ),
            Error::TooLarge { structure, field } => {
                write!(f, "{structure:?} `{field}` exceeds its size limit")
            }
            Error::UnsupportedVersion(v) => write!(f, "protocol version {v} is not supported"),
            Error::BadSignature(s) => write!(f, "{s:?} signature does not verify"),
            Error::InvalidPublicKey => f.write_str("public key is not a valid curve point"),
            Error::WrongSigner(s) => write!(f, "{s:?} is signed by a key that may not sign it"),
            Error::WrongScope(s) => write!(f, "{s:?} belongs to another organisation or inbox"),
            Error::BrokenChain(s) => write!(f, "{s:?} does not extend the verified chain"),
            Error::Fork(s) => write!(
                f,
                "{s:?} conflicts with a verified statement of the same sequence number (fork)"
            ),
            Error::Rollback(s) => write!(f, "{s:?} is below the client's checkpoint (rollback)"),
            Error::MembershipExpired => f.write_str("membership statement has expired"),
            Error::RotationNotAllowed => {
                f.write_str("key generation signed by a role that may not rotate keys")
            }
            Error::WrongSealRecipients => f.write_str(
                "generation key is not sealed to exactly the agent and supervisor devices",
            ),
            Error::UnknownStatement => f.write_str("a named statement is not verified here"),
            Error::VersionTooOld => f.write_str("the membership requires a newer protocol version"),
            Error::GenerationKeyMismatch => {
                f.write_str("unsealed generation key does not match the statement")
            }
            Error::NotAGenerationRecipient => {
                f.write_str("this device did not receive the generation key")
            }
            Error::RotationRequired => {
                f.write_str("the key generation does not serve the current membership")
            }
            Error::StaleStatement => {
                f.write_str("envelope names a membership older than the current one")
            }
            Error::SenderNotAllowed => {
                f.write_str("sender is not a member allowed to send, nor the visitor")
            }
            Error::SenderRemoved => f.write_str("sender is no longer a member of the inbox"),
            Error::MissingRequiredRecipient => {
                f.write_str("a recipient required by the membership is missing")
            }
            Error::RecipientsDoNotFitAudience => {
                f.write_str("the recipient list does not fit the envelope's audience")
            }
            Error::WrongConversation => f.write_str("envelope belongs to another conversation"),
            Error::NotARecipient => f.write_str("this key is not a recipient of the envelope"),
            Error::CommitmentMismatch => f.write_str("content key does not match the commitment"),
            Error::DecryptionFailed => f.write_str("authenticated decryption failed"),
            Error::ConversationIdMismatch => {
                f.write_str("conversation id does not commit to this visitor")
            }
            Error::Replay => f.write_str("envelope was already accepted (replay)"),
            Error::TooOld => f.write_str("envelope counter is older than the replay window"),
            Error::AttachmentTruncated => f.write_str("attachment is truncated"),
            Error::AttachmentExtended => f.write_str("data follows the attachment's final chunk"),
            Error::AttachmentHashMismatch => {
                f.write_str("attachment ciphertext hash does not match")
            }
            Error::AttachmentSizeMismatch => f.write_str("attachment size does not match"),
            Error::TokenWrongDevice => f.write_str("identity token names another device"),
            Error::TokenExpired => f.write_str("identity token is expired or not yet valid"),
            Error::TokenLifetimeTooLong => {
                f.write_str("identity token lifetime exceeds 10 minutes")
            }
            Error::TokenUnknownKey => f.write_str("identity token key id is not in the membership"),
            Error::TokenWrongScheme => f.write_str(
                "identity token uses another proof scheme (an HMAC user hash is not agent-verifiable; only the server can check it)",
            ),
            Error::WrongPassphrase => f.write_str("wrong passphrase or modified key file"),
            Error::WeakOrExcessiveKdfParameters => {
                f.write_str("key file KDF parameters are out of bounds")
            }
            Error::WrongKeyKind => f.write_str("key file holds another kind of key"),
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;
