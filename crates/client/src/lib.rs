//! Confide's Rust SDK: talk to a Confide server as a visitor or as staff,
//! with every message sealed, verified and opened on this device.
//!
//! The server relays and stores envelopes it cannot read; this crate is
//! where they are made and read, all through `confide-protocol` (it has
//! no cryptography of its own). What it guarantees the caller:
//!
//! * **The root key is pinned, never fetched on trust.** [`Client::connect`]
//!   refuses a server whose organisation root key does not have the
//!   [`RootFingerprint`] the caller gives (from the embed snippet or the
//!   operator). Every inbox's membership and key-generation chains are
//!   verified from that key into a view the server cannot roll back
//!   ([`Client::checkpoint`] persists it across restarts).
//! * **Senders are verified.** A [`Message`] exists only after the
//!   envelope's signature, its sender's membership (the conversation's
//!   visitor, or a device the root certified), its recipients, the key
//!   commitment and the replay guard all checked out. Envelopes arriving
//!   live from devices that are no longer members are rejected.
//! * **Sends are durable and exactly-once.** [`Conversation::send_text`]
//!   returns a [`Receipt`] only after the server committed the envelope,
//!   retries transport failures with the same bytes (stored once), and
//!   re-seals under fresh statements when the inbox's membership moved on.
//! * **Live delivery has no gap and no duplicate.** [`MessageStream`]
//!   reconnects and resumes from the last seq by itself.
//! * **Secrets stay secret.** Device and generation keys, tokens and
//!   passwords zeroize on drop, are not `Clone` and do not print.
//!
//! Map: [`Client`] (one server), [`Visitor`] and [`Agent`] (the two
//! roles; administration in `admin`), [`Conversation`] (one sender
//! instance: a tab or a process), [`MessageStream`] (live, decrypted),
//! [`RawSubscription`] and [`SealedEnvelope`] (the undecrypted low-level
//! path for load generators). Non-goals: DLP (`confide-guard` runs before
//! `send_text`), attachments, persistence of keys and tokens (the caller
//! stores them; see [`Visitor::resume`], [`Agent::resume`]).
//!
//! # Example
//!
//! ```no_run
//! use confide_client::{Agent, Client, DeviceSecretKey, Event, RootFingerprint, Visitor};
//!
//! # async fn demo() -> confide_client::Result<()> {
//! let pinned = RootFingerprint::from_hex("5f0c…the fingerprint from the embed snippet…")?;
//! let client = Client::connect("https://chat.example.com", pinned).await?;
//!
//! // A visitor starts a conversation in the default inbox and writes.
//! let visitor = Visitor::create(&client, DeviceSecretKey::generate(&mut confide_client::rng())).await?;
//! let chat = visitor.start_conversation(client.default_inbox()).await?;
//! let receipt = chat.send_text("Hello, my order has not arrived").await?;
//! assert!(!receipt.duplicate);
//!
//! // An agent logs in with a registered console device and answers.
//! let mut agent = Agent::login(&client, "agent@example.com", "correct horse battery").await?;
//! agent.register_device(DeviceSecretKey::generate(&mut confide_client::rng()), "Laptop").await?;
//! let conversation = agent.open_conversation(chat.id()).await?;
//! let mut live = conversation.subscribe().await?;
//! while let Some(event) = live.next().await {
//!     if let Event::Message(m) = event? {
//!         println!("#{} from {:?}: {}", m.seq, m.sender.kind, m.text());
//!         conversation.send_text("Let me check that for you.").await?;
//!         break;
//!     }
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
mod agent;
mod conversation;
mod error;
mod http;
mod live;
mod message;
mod party;
mod stream;
mod trust;
mod visitor;

pub use agent::{Agent, ConversationFilter, User};
pub use confide_protocol::conversation::Conversation as ConversationDescriptor;
pub use confide_protocol::membership::Role;
pub use confide_protocol::state::Checkpoint;
pub use confide_protocol::token::IdentityClaims;
pub use confide_protocol::{
    ConversationId, Counter, DeviceId, DeviceSecretKey, EnvelopeHash, Generation, InboxId,
    InstanceId, OrgId, RootPublicKey,
};
pub use conversation::{Conversation, ConversationInfo};
pub use error::{Error, Result};
pub use http::{Client, ClientOptions, Secret};
pub use live::{LiveEvent, LiveSender, RawEnvelope, RawSubscription, Who};
pub use message::{
    IdentityCheck, Message, Receipt, Rejected, SealedEnvelope, Sender, SenderRole, Transcript,
};
pub use stream::{Event, MessageStream};
pub use trust::{MAX_VIEW_AGE, RootFingerprint};
pub use visitor::Visitor;

/// The operating system's randomness, for generating device keys
/// (`DeviceSecretKey::generate(&mut confide_client::rng())`).
pub fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// This device's clock as a protocol timestamp.
pub(crate) fn now() -> confide_protocol::Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    confide_protocol::Timestamp(secs)
}
