//! Per-conversation fan-out of committed envelopes, typing indicators and
//! read markers to live listeners (WebSocket connections).
//!
//! A [`Listener`] is one connection: one bounded queue of
//! [`LISTENER_QUEUE`] events for all its subscriptions. Publishing never
//! waits: an event that does not fit a listener's queue *kicks* that
//! listener (`slow_consumer`), which then disconnects and later resumes
//! from its last seq; the writer and every other listener carry on.
//! Internal notes are never queued for a listener that does not read them
//! (visitors).
//!
//! Non-goals: ordering across conversations; durability (listeners that
//! miss events catch up from the store); fan-out between server nodes.

use super::StoredEnvelope;
use confide_protocol::ConversationId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, mpsc};

/// Events one listener may have waiting before it is a slow consumer.
pub const LISTENER_QUEUE: usize = 1024;

/// Who typed or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The conversation's visitor.
    Visitor,
    /// A staff user.
    User(i64),
}

/// Something that happened in a conversation.
#[derive(Clone, Debug)]
pub enum Event {
    /// A committed envelope.
    Envelope(Arc<StoredEnvelope>),
    /// Someone is typing.
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        who: Who,
    },
    /// Someone has read up to `seq`.
    Read {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        who: Who,
        /// The highest seq read.
        seq: i64,
    },
}

impl Event {
    /// The conversation the event belongs to.
    pub fn conversation(&self) -> ConversationId {
        match self {
            Event::Envelope(e) => e.conversation,
            Event::Typing { conversation, .. } | Event::Read { conversation, .. } => *conversation,
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, Event::Envelope(e) if e.is_internal())
    }
}

struct Subscriber {
    listener: u64,
    queue: mpsc::Sender<Event>,
    kick: Arc<Notify>,
    internal: bool,
}

#[derive(Default)]
struct Inner {
    subscribers: Mutex<HashMap<ConversationId, Vec<Subscriber>>>,
    next_listener: AtomicU64,
}

/// The fan-out hub (cheap to clone).
#[derive(Clone, Default)]
pub struct Fanout {
    inner: Arc<Inner>,
}

impl Fanout {
    /// A new listener; `internal` when it may receive internal notes.
    pub fn listener(&self, internal: bool) -> Listener {
        let (queue, events) = mpsc::channel(LISTENER_QUEUE);
        Listener {
            id: self.inner.next_listener.fetch_add(1, Ordering::Relaxed),
            queue,
            events,
            kick: Arc::new(Notify::new()),
            internal,
            fanout: self.clone(),
        }
    }

    /// Publishes a committed envelope to its conversation's listeners.
    pub fn publish_envelope(&self, envelope: Arc<StoredEnvelope>) {
        self.publish(Event::Envelope(envelope), None);
    }

    /// Publishes `event` to its conversation's listeners except `except`.
    pub fn publish(&self, event: Event, except: Option<u64>) {
        let conversation = event.conversation();
        let internal = event.is_internal();
        let subscribers = self.lock();
        let Some(list) = subscribers.get(&conversation) else {
            return;
        };
        for s in list {
            if Some(s.listener) == except || (internal && !s.internal) {
                continue;
            }
            match s.queue.try_send(event.clone()) {
                Ok(()) | Err(TrySendError::Closed(_)) => {}
                Err(TrySendError::Full(_)) => s.kick.notify_one(),
            }
        }
    }

    /// How many listeners follow `conversation`.
    pub fn listeners_of(&self, conversation: &ConversationId) -> usize {
        self.lock().get(conversation).map_or(0, Vec::len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, Vec<Subscriber>>> {
        self.inner
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's end of the fan-out.
pub struct Listener {
    id: u64,
    queue: mpsc::Sender<Event>,
    events: mpsc::Receiver<Event>,
    kick: Arc<Notify>,
    internal: bool,
    fanout: Fanout,
}

impl Listener {
    /// This listener's id (to exclude it from its own typing events).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Starts queueing `conversation`'s events; they stop when the
    /// returned subscription is dropped.
    pub fn subscribe(&self, conversation: ConversationId) -> Subscription {
        self.fanout
            .lock()
            .entry(conversation)
            .or_default()
            .push(Subscriber {
                listener: self.id,
                queue: self.queue.clone(),
                kick: self.kick.clone(),
                internal: self.internal,
            });
        Subscription {
            fanout: self.fanout.clone(),
            conversation,
            listener: self.id,
        }
    }

    /// The next queued event.
    pub async fn recv(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Notified when the queue overflowed: the listener must disconnect.
    pub fn kick(&self) -> Arc<Notify> {
        self.kick.clone()
    }
}

/// A listener's subscription to one conversation; unsubscribes on drop.
pub struct Subscription {
    fanout: Fanout,
    conversation: ConversationId,
    listener: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut subscribers = self.fanout.lock();
        if let Some(list) = subscribers.get_mut(&self.conversation) {
            list.retain(|s| s.listener != self.listener);
            if list.is_empty() {
                subscribers.remove(&self.conversation);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::body::Bytes;

    fn envelope(seq: i64, audience: u8) -> Arc<StoredEnvelope> {
        Arc::new(StoredEnvelope {
            conversation: ConversationId([1; 32]),
            seq,
            audience,
            received_at: 0,
            bytes: Bytes::from_static(b"x"),
        })
    }

    #[tokio::test]
    async fn internal_notes_skip_visitors_and_overflow_kicks() {
        let fanout = Fanout::default();
        let mut staff = fanout.listener(true);
        let mut visitor = fanout.listener(false);
        let _a = staff.subscribe(ConversationId([1; 32]));
        let _b = visitor.subscribe(ConversationId([1; 32]));
        fanout.publish_envelope(envelope(1, 2));
        fanout.publish_envelope(envelope(2, 1));
        assert!(matches!(staff.recv().await, Some(Event::Envelope(e)) if e.seq == 1));
        assert!(matches!(visitor.recv().await, Some(Event::Envelope(e)) if e.seq == 2));

        let kick = visitor.kick();
        for seq in 0..=i64::try_from(LISTENER_QUEUE).unwrap() {
            fanout.publish_envelope(envelope(seq, 1));
        }
        tokio::time::timeout(std::time::Duration::from_secs(1), kick.notified())
            .await
            .unwrap();
        drop(_b);
        assert_eq!(fanout.listeners_of(&ConversationId([1; 32])), 1);
    }
}
