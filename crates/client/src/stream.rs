//! A conversation's live, decrypted message stream.
//!
//! A [`MessageStream`] is a [`RawSubscription`] to one conversation whose
//! envelopes are opened on arrival (`crate::message`): the stored backlog
//! by the History rule, everything after the first catch-up by the Live
//! rule, all through one replay guard. It reconnects and resumes from the
//! last seq by itself, so every stored message is yielded exactly once, in
//! seq order. An envelope that fails a check is yielded as
//! [`Event::Rejected`], never as a message.
//!
//! Non-goals: sending (`crate::Conversation`); persisting the replay guard
//! across processes (a new stream starts a new guard).

use crate::error::{Error, Result};
use crate::live::{LiveEvent, RawSubscription, Who};
use crate::message::{self, Message, Rejected, Stored};
use crate::party::Party;
use confide_protocol::conversation::Conversation as Descriptor;
use confide_protocol::replay::ReplayGuard;
use std::sync::Arc;
use std::time::Duration;

/// What a [`MessageStream`] yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A verified, decrypted message.
    Message(Message),
    /// A stored envelope that failed a check (not shown as a message).
    Rejected(Rejected),
    /// Everything stored up to `seq` has been yielded; live messages follow.
    CaughtUp {
        /// The last seq yielded.
        seq: u64,
    },
    /// Someone is typing (server metadata, not signed).
    Typing {
        /// Who.
        who: Who,
    },
    /// Someone read up to `seq` (server metadata, not signed).
    Read {
        /// Who.
        who: Who,
        /// The highest seq read.
        seq: u64,
    },
    /// The connection broke; the stream reconnects and resumes by itself.
    Reconnecting {
        /// Why it broke.
        reason: String,
    },
}

/// Live, decrypted messages of one conversation (see the module docs).
pub struct MessageStream {
    raw: RawSubscription,
    party: Arc<Party>,
    descriptor: Descriptor,
    guard: ReplayGuard,
    live: bool,
    done: bool,
}

impl std::fmt::Debug for MessageStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageStream")
            .field("conversation", &self.descriptor.id())
            .finish_non_exhaustive()
    }
}

/// Attempts at opening one envelope when syncing statements fails in transit.
const OPEN_ATTEMPTS: u32 = 5;

impl MessageStream {
    pub(crate) async fn start(
        party: Arc<Party>,
        descriptor: Descriptor,
        after: u64,
    ) -> Result<Self> {
        let raw = RawSubscription::connect(&party.client, party.auth()).await?;
        raw.subscribe(descriptor.id(), after);
        Ok(Self {
            raw,
            guard: ReplayGuard::new(descriptor.id()),
            party,
            descriptor,
            live: false,
            done: false,
        })
    }

    /// The next event; `None` once the stream has ended (after an error).
    pub async fn next(&mut self) -> Option<Result<Event>> {
        if self.done {
            return None;
        }
        let Some(event) = self.raw.next().await else {
            self.done = true;
            return Some(Err(Error::Closed(
                "the live connection task stopped".into(),
            )));
        };
        let event = match event {
            LiveEvent::Envelope(e) => {
                let stored = Stored {
                    seq: e.seq,
                    received_at: e.received_at,
                };
                match self.open(&e.bytes, stored).await {
                    Ok(m) => Event::Message(m),
                    Err(error) => Event::Rejected(Rejected { seq: e.seq, error }),
                }
            }
            LiveEvent::CaughtUp { seq, .. } => {
                self.live = true;
                Event::CaughtUp { seq }
            }
            LiveEvent::Typing { who, .. } => Event::Typing { who },
            LiveEvent::Read { who, seq, .. } => Event::Read { who, seq },
            LiveEvent::Reconnecting { reason } => Event::Reconnecting { reason },
            LiveEvent::Failed { error, .. } => {
                self.done = true;
                return Some(Err(error));
            }
        };
        Some(Ok(event))
    }

    /// Tells the other parties this one is typing (best effort).
    pub fn typing(&self) {
        self.raw.typing(self.descriptor.id());
    }

    /// Records that this party has read up to `seq`.
    pub fn mark_read(&self, seq: u64) {
        self.raw.mark_read(self.descriptor.id(), seq);
    }

    async fn open(&mut self, bytes: &[u8], stored: Stored) -> Result<Message> {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            let r = message::open(
                &self.party,
                &self.descriptor,
                bytes,
                self.live,
                &mut self.guard,
                stored,
            )
            .await;
            match r {
                Err(e) if e.is_transient() && attempt < OPEN_ATTEMPTS => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}
