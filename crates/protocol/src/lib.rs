//! Confide's end-to-end protocol core.
//!
//! This crate implements `docs/protocol.md`: device identities and key
//! files, the organisation-signed inbox membership and member-signed key
//! generations (hash-chained, verified from a checkpoint), conversation ids
//! that commit to the visitor's key, committed multi-recipient envelopes,
//! the replay guard, chunked attachment encryption and visitor identity
//! tokens.
//!
//! It performs **no I/O** and reads **no ambient clock or randomness**:
//! every operation that needs time takes a [`Timestamp`], every one that
//! needs randomness takes a `rand_core::CryptoRng`. It compiles natively and
//! for `wasm32-unknown-unknown`. Neighbours: `confide-server` stores and relays what
//! this crate seals; `confide-client` and the web front-ends call it to
//! seal and open.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod attachment;
pub mod body;
pub mod codec;
pub mod conversation;
pub mod envelope;
pub mod error;
#[cfg(fuzzing)]
pub mod fuzzing;
pub mod generation;
pub mod grant;
pub mod ids;
pub mod keyfile;
pub mod keys;
pub mod label;
pub mod membership;
pub mod namebook;
pub mod opening;
pub mod padding;
pub mod replay;
pub mod root;
pub mod state;
pub mod token;

pub use error::{Error, Result, Structure};
pub use ids::{
    AttachmentId, ConversationId, Counter, DeviceId, EnvelopeHash, Generation, InboxId, InstanceId,
    OrgId, RecipientId, Seq, StatementHash, Timestamp,
};
pub use keys::{
    DeviceSecretKey, HpkePublicKey, HpkeSecretKey, PublicIdentity, RootPublicKey, RootSecretKey,
    SigningPublicKey,
};
pub use rand_core;
