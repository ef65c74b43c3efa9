//! Opened messages and how an envelope becomes one (docs/protocol.md §9,
//! §10, §12.5).
//!
//! Opening runs, in order: `envelope::verify` against this device's
//! verified view of the inbox (syncing once if the envelope names a
//! statement the view lacks), decryption with this device's keys, the
//! conversation's replay guard, then — for a visitor's message carrying
//! one — the identity-token check. Two rules:
//!
//! * **Live** (an envelope arriving now over the WebSocket, or handed to
//!   `Conversation::open_envelope`): the sender must be the visitor or a
//!   sending member of the *head* membership (`sender_removed` otherwise).
//!   An envelope sealed under the membership just before the head (a send
//!   racing a membership change) is accepted only from such a current
//!   sender.
//! * **History** (catch-up, the stored backlog): the sender must have been
//!   allowed under the membership the envelope names; [`Sender::current`]
//!   says whether it still is.
//!
//! Non-goals: rendering, DLP (`confide-guard` runs before sealing).

use crate::error::{Error, Result};
use crate::party::Party;
use confide_protocol::conversation::Conversation as Descriptor;
use confide_protocol::envelope::{self, Audience, OpenMode, Opened, SenderKind, VerifiedEnvelope};
use confide_protocol::membership::Role;
use confide_protocol::replay::ReplayGuard;
use confide_protocol::state::InboxState;
use confide_protocol::token::IdentityClaims;
use confide_protocol::{ConversationId, Counter, DeviceId, EnvelopeHash, InstanceId};
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroize;

/// Who sent a message, as verified on this device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    /// The signing device (its signature was verified).
    pub device: DeviceId,
    /// What the device is to the inbox.
    pub kind: SenderRole,
    /// Whether the sender may still send: always for the visitor; for a
    /// member, whether it is a sending member of the head membership. A
    /// history message with `false` comes from a former member.
    pub current: bool,
}

/// What a sender is to the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SenderRole {
    /// The visitor the conversation id commits to.
    Visitor,
    /// A member device, certified by the organisation's root key.
    Member {
        /// Its role under the membership the envelope named.
        role: Role,
        /// The alias visitors see (e.g. "Support agent").
        alias: String,
    },
}

/// The result of checking the identity token a visitor put in a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityCheck {
    /// Signed by a token key the organisation lists, for this inbox and
    /// this visitor device, unexpired: the visitor is who the company's
    /// backend says.
    Verified(Box<IdentityClaims>),
    /// A token was present and failed; the code names the check.
    Invalid(&'static str),
}

/// A decrypted, verified message. Its text is zeroized on drop and not
/// printed by `Debug`.
pub struct Message {
    /// Its sequence number in the conversation (server order).
    pub seq: u64,
    /// The conversation.
    pub conversation: ConversationId,
    /// The verified sender.
    pub sender: Sender,
    /// An internal note (sealed to the inbox only, never to the visitor).
    pub internal: bool,
    /// The sender instance (a browser tab, a process).
    pub instance: InstanceId,
    /// The sender's counter in that instance.
    pub counter: Counter,
    /// The envelope hash.
    pub hash: EnvelopeHash,
    /// The message this one replies to, if any.
    pub reply_to: Option<EnvelopeHash>,
    /// When the server stored it (unix seconds, server's clock; not signed).
    pub received_at: i64,
    /// The identity token check, if the visitor sent a token (agents only).
    pub identity: Option<IdentityCheck>,
    text: String,
}

impl Message {
    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("seq", &self.seq)
            .field("conversation", &self.conversation)
            .field("sender", &self.sender)
            .field("internal", &self.internal)
            .field("text_len", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// An envelope that failed a check and is not shown as a message.
#[derive(Debug)]
pub struct Rejected {
    /// Its sequence number.
    pub seq: u64,
    /// Why (`bad_signature`, `sender_removed`, `replay`, `not_a_recipient`, …).
    pub error: Error,
}

/// A conversation's stored messages, read with `Conversation::history`.
#[derive(Debug, Default)]
pub struct Transcript {
    /// Messages in seq order.
    pub messages: Vec<Message>,
    /// Stored envelopes that failed a check.
    pub rejected: Vec<Rejected>,
    /// The conversation's highest seq.
    pub last_seq: u64,
}

/// The server's acknowledgement of a send: the envelope is durably stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Its sequence number in the conversation.
    pub seq: u64,
    /// Whether the server had stored these very bytes before (a retry).
    pub duplicate: bool,
    /// The envelope hash.
    pub hash: EnvelopeHash,
}

/// An envelope sealed ahead of sending (`Conversation::seal_text`), to be
/// posted later with `Conversation::post_sealed` — as often as needed: the
/// server stores it once.
#[derive(Clone, Debug)]
pub struct SealedEnvelope {
    pub(crate) bytes: Vec<u8>,
    pub(crate) hash: EnvelopeHash,
    pub(crate) counter: Counter,
}

impl SealedEnvelope {
    /// The envelope bytes (ciphertext and signed header).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The envelope hash.
    pub fn hash(&self) -> EnvelopeHash {
        self.hash
    }

    /// The sender counter it was sealed with.
    pub fn counter(&self) -> Counter {
        self.counter
    }
}

/// Whether opening may succeed after syncing the inbox's statements.
fn needs_sync(e: &confide_protocol::Error) -> bool {
    use confide_protocol::Error as P;
    matches!(
        e,
        P::UnknownStatement | P::StaleStatement | P::MembershipExpired | P::SenderRemoved
    )
}

/// `envelope::verify` with the rule of the mode, syncing once when the
/// view may be behind.
async fn verify(
    party: &Party,
    conversation: &Descriptor,
    bytes: &[u8],
    live: bool,
) -> Result<(VerifiedEnvelope, Arc<InboxState>)> {
    let inbox = conversation.inbox();
    let mode = |live: bool| {
        if live {
            OpenMode::Live { now: crate::now() }
        } else {
            OpenMode::History
        }
    };
    let state = party.view(inbox).await?;
    match envelope::verify(bytes, conversation, &state, mode(live)) {
        Ok(v) => return Ok((v, state)),
        Err(e) if needs_sync(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let state = party.sync(inbox).await?;
    match envelope::verify(bytes, conversation, &state, mode(live)) {
        Ok(v) => Ok((v, state)),
        Err(confide_protocol::Error::StaleStatement) if live => {
            // Sealed under an earlier membership (a send racing a change):
            // acceptable only from a sender that may still send.
            let v = envelope::verify(bytes, conversation, &state, OpenMode::History)?;
            match v.sender_kind() {
                SenderKind::Visitor | SenderKind::Member { current: true, .. } => Ok((v, state)),
                SenderKind::Member { .. } => Err(confide_protocol::Error::SenderRemoved.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Where an envelope came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stored {
    pub(crate) seq: u64,
    pub(crate) received_at: i64,
}

/// Verifies, decrypts and replay-checks one envelope.
pub(crate) async fn open(
    party: &Party,
    conversation: &Descriptor,
    bytes: &[u8],
    live: bool,
    guard: &mut ReplayGuard,
    stored: Stored,
) -> Result<Message> {
    let (verified, state) = verify(party, conversation, bytes, live).await?;
    let opened = party.decrypt(verified)?;
    guard.accept(&opened.header, opened.hash)?;
    Ok(message(party, opened, conversation, &state, stored))
}

fn message(
    party: &Party,
    mut opened: Opened,
    conversation: &Descriptor,
    state: &InboxState,
    stored: Stored,
) -> Message {
    let identity = if party.is_staff() {
        opened
            .verify_identity(conversation, state, crate::now())
            .map(|r| match r {
                Ok(v) => IdentityCheck::Verified(Box::new(v.into_claims())),
                Err(e) => IdentityCheck::Invalid(e.code()),
            })
    } else {
        None
    };
    let (kind, current) = match &opened.sender_kind {
        SenderKind::Visitor => (SenderRole::Visitor, true),
        SenderKind::Member {
            role,
            alias,
            current,
        } => (
            SenderRole::Member {
                role: *role,
                alias: alias.clone(),
            },
            *current,
        ),
    };
    let h = &opened.header;
    Message {
        seq: stored.seq,
        conversation: h.conversation,
        sender: Sender {
            device: opened.sender,
            kind,
            current,
        },
        internal: h.audience == Audience::InternalNote,
        instance: h.instance,
        counter: h.counter,
        hash: opened.hash,
        reply_to: opened.body.reply_to,
        received_at: stored.received_at,
        identity,
        text: std::mem::take(&mut opened.body.text),
    }
}
