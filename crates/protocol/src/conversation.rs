//! Conversation ids chosen by the visitor's device (docs/protocol.md §7).
//!
//! `id = H("confide/v1/conversation-id", org ‖ inbox ‖ visitor_device_id ‖ nonce[32])`.
//! Because the visitor's device id is the hash of its public keys, the id
//! commits to the visitor's keys: an agent seals replies only to the key a
//! [`Conversation`] was verified against, so a server cannot substitute its
//! own key for the visitor's.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::ids::{ConversationId, DeviceId, InboxId, OrgId};
use crate::keys::PublicIdentity;
use crate::label::{self, labels};
use alloc::vec::Vec;
use rand_core::CryptoRng;

/// A conversation whose id was checked against its visitor, inbox and nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conversation {
    org: OrgId,
    inbox: InboxId,
    visitor: PublicIdentity,
    nonce: [u8; 32],
    id: ConversationId,
}

impl Conversation {
    /// Length of the descriptor encoding.
    pub const DESCRIPTOR_LEN: usize = 16 + 16 + PublicIdentity::LEN + 32;

    /// Starts a new conversation for `visitor` (the visitor's device does this).
    pub fn start(
        org: OrgId,
        inbox: InboxId,
        visitor: PublicIdentity,
        rng: &mut impl CryptoRng,
    ) -> Self {
        let mut nonce = [0u8; 32];
        rng.fill_bytes(&mut nonce);
        let id = compute_id(org, inbox, &visitor.device_id(), &nonce);
        Self {
            org,
            inbox,
            visitor,
            nonce,
            id,
        }
    }

    /// Checks that `claimed` is the id of this visitor, inbox and nonce.
    pub fn verify(
        org: OrgId,
        inbox: InboxId,
        visitor: PublicIdentity,
        nonce: [u8; 32],
        claimed: ConversationId,
    ) -> Result<Self> {
        let id = compute_id(org, inbox, &visitor.device_id(), &nonce);
        if id != claimed {
            return Err(Error::ConversationIdMismatch);
        }
        Ok(Self {
            org,
            inbox,
            visitor,
            nonce,
            id,
        })
    }

    /// The descriptor the server stores and serves: `org ‖ inbox ‖ visitor identity ‖ nonce`.
    pub fn encode_descriptor(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(Self::DESCRIPTOR_LEN);
        w.raw(&self.org.0);
        w.raw(&self.inbox.0);
        self.visitor.write(&mut w);
        w.raw(&self.nonce);
        w.into_vec()
    }

    /// Decodes a descriptor and checks it against the id the client expects.
    pub fn decode_descriptor(bytes: &[u8], expected: ConversationId) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::Conversation);
        let org = OrgId(r.array()?);
        let inbox = InboxId(r.array()?);
        let visitor = PublicIdentity::read(&mut r)?;
        let nonce = r.array()?;
        r.finish()?;
        Self::verify(org, inbox, visitor, nonce, expected)
    }

    /// The conversation id.
    pub fn id(&self) -> ConversationId {
        self.id
    }

    /// The organisation.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The inbox.
    pub fn inbox(&self) -> InboxId {
        self.inbox
    }

    /// The visitor's public identity the id commits to.
    pub fn visitor(&self) -> &PublicIdentity {
        &self.visitor
    }

    /// The visitor's device id.
    pub fn visitor_device(&self) -> DeviceId {
        self.visitor.device_id()
    }

    /// The 32-byte nonce.
    pub fn nonce(&self) -> &[u8; 32] {
        &self.nonce
    }
}

fn compute_id(org: OrgId, inbox: InboxId, visitor: &DeviceId, nonce: &[u8; 32]) -> ConversationId {
    ConversationId(label::hash(
        labels::CONVERSATION_ID,
        &[&org.0, &inbox.0, &visitor.0, nonce],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceSecretKey;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn id_commits_to_visitor_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let visitor = DeviceSecretKey::generate(&mut rng).public();
        let other = DeviceSecretKey::generate(&mut rng).public();
        let c = Conversation::start(OrgId([1; 16]), InboxId([2; 16]), visitor, &mut rng);
        let d = c.encode_descriptor();
        assert_eq!(Conversation::decode_descriptor(&d, c.id()), Ok(c));
        assert_eq!(
            Conversation::verify(c.org(), c.inbox(), other, *c.nonce(), c.id()),
            Err(Error::ConversationIdMismatch)
        );
        assert_eq!(
            Conversation::verify(c.org(), InboxId([3; 16]), visitor, *c.nonce(), c.id()),
            Err(Error::ConversationIdMismatch)
        );
    }
}
