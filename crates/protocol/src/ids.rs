//! Identifiers, counters and times as newtypes (docs/protocol.md §3.2).
//!
//! A `DeviceId` can never be passed where a `ConversationId` is expected;
//! each is exactly the fixed-size byte string the spec names.

use core::fmt;

macro_rules! byte_id {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length of the encoding in bytes.
            pub const LEN: usize = $len;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Lower-case hex of the bytes.
            pub fn to_hex(&self) -> alloc::string::String {
                crate::ids::hex(&self.0)
            }

            /// Parses lower- or upper-case hex of exactly the right length.
            pub fn from_hex(s: &str) -> Option<Self> {
                crate::ids::unhex::<$len>(s).map(Self)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

byte_id!(
    /// An organisation, 16 bytes chosen at creation.
    OrgId, 16
);
byte_id!(
    /// An inbox of an organisation, 16 bytes chosen at creation.
    InboxId, 16
);
byte_id!(
    /// A device: `H("confide/v1/device-id", PublicIdentity)`.
    DeviceId, 32
);
byte_id!(
    /// A recipient key: `H("confide/v1/recipient-id", hpke_public_key)`.
    RecipientId, 32
);
byte_id!(
    /// A conversation, chosen by the visitor's device (§7).
    ConversationId, 32
);
byte_id!(
    /// A sender instance: random per page load or process (§8.1).
    InstanceId, 16
);
byte_id!(
    /// The labelled hash of a statement body (§5, §6).
    StatementHash, 32
);
byte_id!(
    /// The labelled hash of a whole envelope (§8.5).
    EnvelopeHash, 32
);
byte_id!(
    /// An attachment, 16 random bytes chosen by its sender (§11).
    AttachmentId, 16
);

impl StatementHash {
    /// The all-zero hash: `prev_hash` of the first statement of a chain.
    pub const GENESIS: StatementHash = StatementHash([0; 32]);
}

/// Seconds since the Unix epoch, as given by the caller's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

/// A per-(sender, instance, conversation) message counter, starting at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter(pub u64);

/// A key-generation number of an inbox, starting at 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(pub u64);

/// A membership sequence number, starting at 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(pub u64);

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> alloc::string::String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = alloc::string::String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// Parses hex of exactly `N` bytes.
pub(crate) fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (nibble(*hi)?, nibble(*lo)?),
            _ => return None,
        };
        *o = (hi << 4) | lo;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let id = InboxId([0xab; 16]);
        assert_eq!(InboxId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(InboxId::from_hex("zz"), None);
        assert_eq!(InboxId::from_hex(&"g".repeat(32)), None);
    }
}
