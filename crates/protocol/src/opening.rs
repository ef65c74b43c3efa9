//! Opening envelopes: the checks of docs/protocol.md §9 in order, then
//! commitment check and decryption.
//!
//! [`verify`] needs no secret: size, canonical encoding, signature, sender
//! authorisation under the named statements (and, live, the receiver's
//! head), recipients and audience. [`VerifiedEnvelope::decrypt`] unseals the
//! content key, recomputes the key commitment, then decrypts the body.
//! Sealing is in [`crate::envelope`].

use crate::body::Body;
use crate::conversation::Conversation;
use crate::envelope::{
    Audience, ENVELOPE_VERSION, Envelope, Header, Recipient, RecipientKind, body_cipher,
    content_key_info, derive_message_keys,
};
use crate::error::{Error, Result, Structure};
use crate::ids::{DeviceId, EnvelopeHash, RecipientId, Timestamp};
use crate::keys::{DeviceSecretKey, HpkeSecretKey};
use crate::label::labels;
use crate::membership::{MembershipBody, Role, VerifiedMembership};
use crate::state::InboxState;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use chacha20poly1305::Nonce;
use chacha20poly1305::aead::{Aead, Payload};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// How strictly [`verify`] judges the sender's membership (§9.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// A message arriving now: the named membership must be the receiver's
    /// head, not expired at the receiver's `now`.
    Live {
        /// The receiver's clock.
        now: Timestamp,
    },
    /// A stored message read later: the named statements must be verified
    /// ones; whether the sender is still a member is reported, not required.
    History,
}

/// Who sent a verified envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SenderKind {
    /// The visitor the conversation id commits to.
    Visitor,
    /// A member of the inbox.
    Member {
        /// Role under the named membership.
        role: Role,
        /// Alias under the named membership.
        alias: String,
        /// Whether the device is still a sending member in the head membership.
        current: bool,
    },
}

/// An envelope whose signature, sender and recipients were checked.
#[derive(Clone, Debug)]
pub struct VerifiedEnvelope {
    envelope: Envelope,
    sender: DeviceId,
    sender_kind: SenderKind,
    hash: EnvelopeHash,
}

/// A decrypted envelope.
#[derive(Debug)]
pub struct Opened {
    /// The verified header.
    pub header: Header,
    /// The verified sender device.
    pub sender: DeviceId,
    /// What the sender is to this inbox.
    pub sender_kind: SenderKind,
    /// The envelope hash (for replies and the replay guard).
    pub hash: EnvelopeHash,
    /// The decrypted body.
    pub body: Body,
}

/// Secret keys a receiver holds, found by recipient id.
pub trait RecipientKeys {
    /// The secret key for `id`, if held.
    fn secret_for(&self, id: &RecipientId) -> Option<&HpkeSecretKey>;
}

impl RecipientKeys for HpkeSecretKey {
    fn secret_for(&self, id: &RecipientId) -> Option<&HpkeSecretKey> {
        (self.public_key().recipient_id() == *id).then_some(self)
    }
}

impl RecipientKeys for DeviceSecretKey {
    fn secret_for(&self, id: &RecipientId) -> Option<&HpkeSecretKey> {
        self.hpke().secret_for(id)
    }
}

/// Several secret keys (an agent's device key and its unsealed generation keys).
#[derive(Debug, Default)]
pub struct Keyring {
    keys: BTreeMap<RecipientId, HpkeSecretKey>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    pub fn insert(&mut self, key: HpkeSecretKey) {
        self.keys.insert(key.public_key().recipient_id(), key);
    }
}

impl RecipientKeys for Keyring {
    fn secret_for(&self, id: &RecipientId) -> Option<&HpkeSecretKey> {
        self.keys.get(id)
    }
}

/// Decodes and verifies an envelope in the order of §9.1, short of decryption.
pub fn verify(
    bytes: &[u8],
    conversation: &Conversation,
    state: &InboxState,
    mode: OpenMode,
) -> Result<VerifiedEnvelope> {
    // 1–2. size limits and canonical encoding.
    let envelope = Envelope::decode(bytes)?;
    let h = &envelope.header;
    let anchor = state.anchor();
    if h.conversation != conversation.id()
        || conversation.org() != anchor.org
        || conversation.inbox() != anchor.inbox
    {
        return Err(Error::WrongConversation);
    }
    // 3. signature, by the visitor the id commits to or a member of the named membership.
    let membership = state
        .membership_by_hash(&h.membership_hash)
        .filter(|m| m.body().seq == h.membership_seq)
        .ok_or(Error::UnknownStatement)?;
    let m = membership.body();
    let is_visitor = h.sender == conversation.visitor_device();
    let member = m.member(&h.sender);
    let signing = if is_visitor {
        conversation.visitor().signing
    } else {
        member.ok_or(Error::SenderNotAllowed)?.identity.signing
    };
    signing.verify(
        labels::ENVELOPE_SIG,
        &envelope.signed_part(),
        &envelope.signature,
        Structure::Envelope,
    )?;
    // 4. the sender may send under the named statements.
    if m.min_protocol_version > ENVELOPE_VERSION {
        return Err(Error::VersionTooOld);
    }
    let head = state.head_membership().ok_or(Error::UnknownStatement)?;
    let still_sending = |body: &MembershipBody| {
        body.member(&h.sender)
            .is_some_and(|x| body.send_roles.contains(x.role))
    };
    let sender_kind = match member {
        _ if is_visitor => SenderKind::Visitor,
        Some(mem) if m.send_roles.contains(mem.role) => SenderKind::Member {
            role: mem.role,
            alias: mem.alias.clone(),
            current: still_sending(head.body()),
        },
        _ => return Err(Error::SenderNotAllowed),
    };
    if let OpenMode::Live { now } = mode {
        check_live(
            membership,
            head,
            is_visitor || still_sending(head.body()),
            now,
        )?;
    }
    let generation = state
        .generation(h.generation)
        .filter(|g| g.hash() == h.generation_hash)
        .ok_or(Error::UnknownStatement)?;
    if generation.body().membership_hash != membership.hash() {
        return Err(Error::UnknownStatement);
    }
    // 5. recipients: inbox, required, audience.
    check_recipients(
        h,
        m,
        conversation,
        &generation.body().public_key.recipient_id(),
        is_visitor,
    )?;
    let hash = envelope.hash();
    Ok(VerifiedEnvelope {
        sender: h.sender,
        sender_kind,
        hash,
        envelope,
    })
}

/// [`verify`], then [`VerifiedEnvelope::decrypt`].
pub fn open(
    bytes: &[u8],
    conversation: &Conversation,
    state: &InboxState,
    keys: &impl RecipientKeys,
    mode: OpenMode,
) -> Result<Opened> {
    verify(bytes, conversation, state, mode)?.decrypt(keys)
}

fn check_live(
    named: &VerifiedMembership,
    head: &VerifiedMembership,
    sender_in_head: bool,
    now: Timestamp,
) -> Result<()> {
    if !sender_in_head {
        return Err(Error::SenderRemoved);
    }
    if named.hash() != head.hash() {
        return Err(Error::StaleStatement);
    }
    if now > head.body().not_after {
        return Err(Error::MembershipExpired);
    }
    Ok(())
}

fn check_recipients(
    h: &Header,
    m: &MembershipBody,
    conversation: &Conversation,
    inbox_id: &RecipientId,
    is_visitor: bool,
) -> Result<()> {
    let has = |kind, id: &RecipientId| h.recipients.contains(&Recipient { kind, id: *id });
    if !has(RecipientKind::Inbox, inbox_id) {
        return Err(Error::MissingRequiredRecipient);
    }
    if !m
        .required_recipient_ids()
        .all(|id| has(RecipientKind::Required, &id))
    {
        return Err(Error::MissingRequiredRecipient);
    }
    let visitor_id = conversation.visitor().hpke.recipient_id();
    let member_keys: Vec<RecipientId> = m
        .members
        .iter()
        .map(|x| x.identity.hpke.recipient_id())
        .collect();
    for r in &h.recipients {
        let fits = match r.kind {
            RecipientKind::Visitor => h.audience == Audience::Conversation && r.id == visitor_id,
            RecipientKind::Inbox => r.id == *inbox_id,
            RecipientKind::Required => m.required_recipient_ids().any(|id| id == r.id),
            RecipientKind::Device => r.id != visitor_id && member_keys.contains(&r.id),
        };
        if !fits {
            return Err(Error::RecipientsDoNotFitAudience);
        }
    }
    match h.audience {
        Audience::Conversation if !has(RecipientKind::Visitor, &visitor_id) => {
            Err(Error::RecipientsDoNotFitAudience)
        }
        Audience::InternalNote if is_visitor => Err(Error::RecipientsDoNotFitAudience),
        _ => Ok(()),
    }
}

impl VerifiedEnvelope {
    /// The verified header.
    pub fn header(&self) -> &Header {
        &self.envelope.header
    }

    /// The verified sender device.
    pub fn sender(&self) -> DeviceId {
        self.sender
    }

    /// What the sender is to the inbox.
    pub fn sender_kind(&self) -> &SenderKind {
        &self.sender_kind
    }

    /// The envelope hash.
    pub fn hash(&self) -> EnvelopeHash {
        self.hash
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// Unseals the content key with one of `keys`, checks the commitment,
    /// then decrypts and decodes the body (§9.1 steps 6–8).
    pub fn decrypt(self, keys: &impl RecipientKeys) -> Result<Opened> {
        let env = &self.envelope;
        let h = &env.header;
        let (recipient, secret, sealed) = h
            .recipients
            .iter()
            .zip(&env.sealed_keys)
            .find_map(|(r, s)| keys.secret_for(&r.id).map(|k| (r, k, s)))
            .ok_or(Error::NotARecipient)?;
        let header_hash = env.header_hash();
        let content_key = secret.open(&content_key_info(recipient), &header_hash, sealed)?;
        let content_key: &[u8; 32] = content_key
            .as_slice()
            .try_into()
            .map_err(|_| Error::CommitmentMismatch)?;
        let (body_key, commitment) = derive_message_keys(
            content_key,
            &h.conversation,
            &h.sender,
            &h.instance,
            h.counter,
        );
        if !bool::from(commitment.ct_eq(&h.commitment)) {
            return Err(Error::CommitmentMismatch);
        }
        let padded = Zeroizing::new(
            body_cipher(&body_key)
                .decrypt(
                    &Nonce::default(),
                    Payload {
                        msg: &env.body_ciphertext,
                        aad: &header_hash,
                    },
                )
                .map_err(|_| Error::DecryptionFailed)?,
        );
        let body = Body::decode_padded(&padded)?;
        Ok(Opened {
            header: self.envelope.header,
            sender: self.sender,
            sender_kind: self.sender_kind,
            hash: self.hash,
            body,
        })
    }
}

impl Opened {
    /// Verifies the identity token the visitor put in this message, if any
    /// (§12.5): it must be signed by a token key of the membership the
    /// envelope names, for this organisation and inbox, and name the device
    /// that signed this envelope. `None` when the body carries no token.
    pub fn verify_identity(
        &self,
        conversation: &Conversation,
        state: &InboxState,
        now: Timestamp,
    ) -> Option<Result<crate::token::VerifiedIdentity>> {
        let bytes = self.body.identity_token.as_ref()?;
        Some((|| {
            if self.sender_kind != SenderKind::Visitor {
                return Err(Error::TokenWrongDevice);
            }
            let membership = state
                .membership_by_hash(&self.header.membership_hash)
                .ok_or(Error::UnknownStatement)?;
            let token = crate::token::IdentityToken::decode(bytes)?;
            crate::token::verify_signed(
                &token,
                &membership.body().token_keys,
                conversation.org(),
                conversation.inbox(),
                self.sender,
                now,
            )
        })())
    }
}
