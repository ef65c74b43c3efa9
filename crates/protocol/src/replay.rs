//! The per-conversation replay and order guard (docs/protocol.md §10).
//!
//! For each (sender device, sender instance) it keeps the highest counter
//! seen and a 128-entry sliding window, plus the hashes of the last 1024
//! accepted envelopes. It rejects duplicates (by counter and by hash) and
//! envelopes of other conversations, reports gaps, and accepts late
//! arrivals inside the window. Its state is serializable, so a client can
//! persist it with the conversation.
//!
//! Non-goal: total order. The server's sequence numbers order a
//! conversation; this guard only makes sure nothing is accepted twice.

use crate::codec::{Reader, Writer, strictly_sorted};
use crate::envelope::Header;
use crate::error::{Error, Result, Structure};
use crate::ids::{ConversationId, Counter, DeviceId, EnvelopeHash, InstanceId};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

/// Width of the sliding window per (sender, instance).
pub const WINDOW: u64 = 128;
/// How many recent envelope hashes are remembered.
pub const RECENT_HASHES: usize = 1024;
/// Most (sender, instance) pairs one state may hold when decoded.
pub const MAX_SENDERS: usize = 1 << 20;

/// How an accepted envelope relates to what came before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// The next counter of its (sender, instance).
    InOrder,
    /// Counters `from..=to` of this (sender, instance) have not been seen yet.
    Gap {
        /// First missing counter.
        from: Counter,
        /// Last missing counter.
        to: Counter,
    },
    /// An earlier gap being filled, inside the window.
    Late,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    highest: u64,
    /// Bit `i` set: counter `highest - i` was seen.
    seen: u128,
}

/// The replay guard of one conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayGuard {
    conversation: ConversationId,
    windows: BTreeMap<(DeviceId, InstanceId), Window>,
    recent: VecDeque<EnvelopeHash>,
    recent_set: BTreeSet<EnvelopeHash>,
}

impl ReplayGuard {
    /// A fresh guard for `conversation`.
    pub fn new(conversation: ConversationId) -> Self {
        Self {
            conversation,
            windows: BTreeMap::new(),
            recent: VecDeque::new(),
            recent_set: BTreeSet::new(),
        }
    }

    /// Checks a verified envelope's header and hash and, if it is new,
    /// records it. Nothing is recorded when an error is returned.
    pub fn accept(&mut self, header: &Header, hash: EnvelopeHash) -> Result<Accepted> {
        if header.conversation != self.conversation {
            return Err(Error::WrongConversation);
        }
        if self.recent_set.contains(&hash) {
            return Err(Error::Replay);
        }
        let key = (header.sender, header.instance);
        let c = header.counter.0;
        if c == 0 {
            return Err(Error::InvalidField {
                structure: Structure::Envelope,
                field: "counter",
            });
        }
        if self.windows.len() >= MAX_SENDERS && !self.windows.contains_key(&key) {
            return Err(Error::TooLarge {
                structure: Structure::ReplayState,
                field: "senders",
            });
        }
        let outcome = match self.windows.get(&key) {
            None => {
                let outcome = if c == 1 {
                    Accepted::InOrder
                } else {
                    Accepted::Gap {
                        from: Counter(1),
                        to: Counter(c - 1),
                    }
                };
                self.windows.insert(
                    key,
                    Window {
                        highest: c,
                        seen: 1,
                    },
                );
                outcome
            }
            Some(w) => {
                let mut w = *w;
                let outcome = w.record(c)?;
                self.windows.insert(key, w);
                outcome
            }
        };
        self.recent.push_back(hash);
        self.recent_set.insert(hash);
        if self.recent.len() > RECENT_HASHES
            && let Some(old) = self.recent.pop_front()
        {
            self.recent_set.remove(&old);
        }
        Ok(outcome)
    }

    /// Canonical encoding: `u8 version=1 ‖ conversation[32] ‖ u32 n ‖
    /// n × (device[32] ‖ instance[16] ‖ u64 highest ‖ u128 seen) ‖
    /// u16 m ‖ m × hash[32]` (senders sorted, hashes oldest first).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(40 + self.windows.len() * 72 + self.recent.len() * 32);
        w.u8(1);
        w.raw(&self.conversation.0);
        w.u32(self.windows.len() as u32);
        for ((d, i), win) in &self.windows {
            w.raw(&d.0);
            w.raw(&i.0);
            w.u64(win.highest);
            w.raw(&win.seen.to_be_bytes());
        }
        w.count16(self.recent.len());
        for h in &self.recent {
            w.raw(&h.0);
        }
        w.into_vec()
    }

    /// Decodes a state written by [`ReplayGuard::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::ReplayState);
        if r.u8()? != 1 {
            return Err(r.invalid("version"));
        }
        let conversation = ConversationId(r.array()?);
        let n = usize::try_from(r.u32()?).map_err(|_| r.too_large("senders"))?;
        if n > MAX_SENDERS || n.saturating_mul(72) > r.remaining() {
            return Err(r.too_large("senders"));
        }
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let d = DeviceId(r.array()?);
            let i = InstanceId(r.array()?);
            let highest = r.u64()?;
            let seen = u128::from_be_bytes(r.array()?);
            if highest == 0 || seen & 1 == 0 {
                return Err(r.invalid("window"));
            }
            entries.push(((d, i), Window { highest, seen }));
        }
        if !strictly_sorted(entries.iter().map(|(k, _)| *k)) {
            return Err(r.not_canonical("senders"));
        }
        let m = r.count16("recent", RECENT_HASHES)?;
        let mut recent = VecDeque::with_capacity(m);
        let mut recent_set = BTreeSet::new();
        for _ in 0..m {
            let h = EnvelopeHash(r.array()?);
            if !recent_set.insert(h) {
                return Err(r.not_canonical("recent"));
            }
            recent.push_back(h);
        }
        r.finish()?;
        Ok(Self {
            conversation,
            windows: entries.into_iter().collect(),
            recent,
            recent_set,
        })
    }
}

impl Window {
    fn record(&mut self, c: u64) -> Result<Accepted> {
        if c > self.highest {
            let shift = c - self.highest;
            let outcome = if shift == 1 {
                Accepted::InOrder
            } else {
                Accepted::Gap {
                    from: Counter(self.highest + 1),
                    to: Counter(c - 1),
                }
            };
            self.seen = if shift >= 128 {
                1
            } else {
                (self.seen << shift) | 1
            };
            self.highest = c;
            return Ok(outcome);
        }
        let age = self.highest - c;
        if age >= WINDOW {
            return Err(Error::TooOld);
        }
        let bit = 1u128 << age;
        if self.seen & bit != 0 {
            return Err(Error::Replay);
        }
        self.seen |= bit;
        Ok(Accepted::Late)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Audience;
    use crate::ids::{Generation, Seq, StatementHash};

    fn header(conv: u8, sender: u8, instance: u8, counter: u64) -> Header {
        Header {
            audience: Audience::Conversation,
            conversation: ConversationId([conv; 32]),
            sender: DeviceId([sender; 32]),
            instance: InstanceId([instance; 16]),
            counter: Counter(counter),
            membership_seq: Seq(0),
            membership_hash: StatementHash([0; 32]),
            generation: Generation(0),
            generation_hash: StatementHash([0; 32]),
            recipients: Vec::new(),
            commitment: [0; 32],
        }
    }

    fn h(n: u64) -> EnvelopeHash {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&n.to_be_bytes());
        EnvelopeHash(b)
    }

    #[test]
    fn order_gaps_late_and_replays() {
        let mut g = ReplayGuard::new(ConversationId([1; 32]));
        assert_eq!(g.accept(&header(1, 1, 1, 1), h(1)), Ok(Accepted::InOrder));
        assert_eq!(g.accept(&header(1, 1, 1, 1), h(2)), Err(Error::Replay));
        assert_eq!(
            g.accept(&header(1, 1, 2, 5), h(3)),
            Ok(Accepted::Gap {
                from: Counter(1),
                to: Counter(4)
            })
        );
        assert_eq!(
            g.accept(&header(1, 1, 1, 4), h(4)),
            Ok(Accepted::Gap {
                from: Counter(2),
                to: Counter(3)
            })
        );
        assert_eq!(g.accept(&header(1, 1, 1, 2), h(5)), Ok(Accepted::Late));
        assert_eq!(g.accept(&header(1, 1, 1, 2), h(6)), Err(Error::Replay));
        // Same hash again, even under another counter, is a replay.
        assert_eq!(g.accept(&header(1, 1, 1, 9), h(5)), Err(Error::Replay));
        assert_eq!(
            g.accept(&header(2, 1, 1, 9), h(7)),
            Err(Error::WrongConversation)
        );
        assert_eq!(
            g.accept(&header(1, 1, 1, 200), h(8)),
            Ok(Accepted::Gap {
                from: Counter(5),
                to: Counter(199)
            })
        );
        assert_eq!(g.accept(&header(1, 1, 1, 3), h(9)), Err(Error::TooOld));
        assert_eq!(g.accept(&header(1, 1, 1, 150), h(10)), Ok(Accepted::Late));

        let bytes = g.encode();
        let back = ReplayGuard::decode(&bytes).unwrap();
        assert_eq!(back, g);
        let mut back = back;
        assert_eq!(
            back.accept(&header(1, 1, 1, 150), h(11)),
            Err(Error::Replay)
        );
    }
}
