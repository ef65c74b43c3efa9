//! Committed, multi-recipient, signed message envelopes (docs/protocol.md §8, §9).
//!
//! A message is padded and encrypted once (ChaCha20-Poly1305) under a body
//! key derived with HKDF from a fresh content key; the same derivation
//! yields a key commitment placed in the signed header, which every
//! recipient recomputes before decrypting. The content key is sealed with
//! HPKE to each recipient; the whole envelope is signed by the sender device.
//!
//! [`seal`] builds an envelope; [`verify`] runs every check that needs no
//! secret (size, encoding, signature, sender authorisation, recipients) and
//! yields a [`VerifiedEnvelope`]; [`VerifiedEnvelope::decrypt`] checks the
//! commitment and decrypts (those two live in [`crate::opening`] and are
//! re-exported here). Non-goal: ordering and replay — see [`crate::replay`].

use crate::body::Body;
use crate::codec::{Reader, Writer, strictly_sorted};
use crate::conversation::Conversation;
use crate::error::{Error, Result, Structure};
use crate::ids::{
    ConversationId, Counter, DeviceId, EnvelopeHash, Generation, InstanceId, RecipientId, Seq,
    StatementHash, Timestamp,
};
use crate::keys::{DeviceSecretKey, PublicIdentity, SEALED_KEY_LEN, SIGNATURE_LEN};
use crate::label::{self, labels};
use crate::state::InboxState;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

pub use crate::opening::{
    Keyring, OpenMode, Opened, RecipientKeys, SenderKind, VerifiedEnvelope, open, verify,
};

/// The only envelope version; it fixes the cipher suite (§2.1).
pub const ENVELOPE_VERSION: u8 = 1;
/// Maximum recipients of one envelope.
pub const MAX_RECIPIENTS: usize = 64;
/// Maximum body ciphertext.
pub const MAX_BODY_CIPHERTEXT: usize = 256 * 1024;
/// Maximum encoded envelope.
pub const MAX_ENVELOPE: usize = 512 * 1024;

/// Kinds of recipient a content key is sealed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum RecipientKind {
    /// The visitor device the conversation id commits to.
    Visitor = 1,
    /// The inbox's key generation named in the header.
    Inbox = 2,
    /// A recipient the membership requires (e.g. the records key).
    Required = 3,
    /// A member device addressed directly (e.g. a scanner for an attachment).
    Device = 4,
}

impl RecipientKind {
    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Visitor),
            2 => Some(Self::Inbox),
            3 => Some(Self::Required),
            4 => Some(Self::Device),
            _ => None,
        }
    }
}

/// One entry of the header's recipient list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Recipient {
    /// What kind of recipient.
    pub kind: RecipientKind,
    /// Its key id.
    pub id: RecipientId,
}

/// Who may read an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Audience {
    /// The visitor and the inbox.
    Conversation = 1,
    /// The inbox only: an internal note, never sealed to the visitor.
    InternalNote = 2,
}

/// The signed, cleartext header (§8.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Who may read it.
    pub audience: Audience,
    /// The conversation.
    pub conversation: ConversationId,
    /// The sending device.
    pub sender: DeviceId,
    /// The sender's instance (page load, process).
    pub instance: InstanceId,
    /// Counter per (sender, instance, conversation), from 1.
    pub counter: Counter,
    /// Sequence number of the membership used.
    pub membership_seq: Seq,
    /// Hash of the membership used.
    pub membership_hash: StatementHash,
    /// The key generation used.
    pub generation: Generation,
    /// Hash of the key generation used.
    pub generation_hash: StatementHash,
    /// All recipients, strictly sorted by (kind, id).
    pub recipients: Vec<Recipient>,
    /// The key commitment derived with the body key.
    pub commitment: [u8; 32],
}

impl Header {
    fn write(&self, w: &mut Writer) {
        w.u8(ENVELOPE_VERSION);
        w.u8(self.audience as u8);
        w.raw(&self.conversation.0);
        w.raw(&self.sender.0);
        w.raw(&self.instance.0);
        w.u64(self.counter.0);
        w.u64(self.membership_seq.0);
        w.raw(&self.membership_hash.0);
        w.u64(self.generation.0);
        w.raw(&self.generation_hash.0);
        w.count16(self.recipients.len());
        for r in &self.recipients {
            w.u8(r.kind as u8);
            w.raw(&r.id.0);
        }
        w.raw(&self.commitment);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u8()?;
        if version != ENVELOPE_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let audience = match r.u8()? {
            1 => Audience::Conversation,
            2 => Audience::InternalNote,
            _ => return Err(r.invalid("audience")),
        };
        let conversation = ConversationId(r.array()?);
        let sender = DeviceId(r.array()?);
        let instance = InstanceId(r.array()?);
        let counter = Counter(r.u64()?);
        if counter.0 == 0 {
            return Err(r.invalid("counter"));
        }
        let membership_seq = Seq(r.u64()?);
        let membership_hash = StatementHash(r.array()?);
        let generation = Generation(r.u64()?);
        let generation_hash = StatementHash(r.array()?);
        let n = r.count16("recipients", MAX_RECIPIENTS)?;
        if n == 0 {
            return Err(r.invalid("recipients"));
        }
        let mut recipients = Vec::with_capacity(n);
        for _ in 0..n {
            let kind = RecipientKind::from_u8(r.u8()?).ok_or(r.invalid("recipient_kind"))?;
            recipients.push(Recipient {
                kind,
                id: RecipientId(r.array()?),
            });
        }
        if !strictly_sorted(recipients.iter()) {
            return Err(r.not_canonical("recipients"));
        }
        let commitment = r.array()?;
        Ok(Self {
            audience,
            conversation,
            sender,
            instance,
            counter,
            membership_seq,
            membership_hash,
            generation,
            generation_hash,
            recipients,
            commitment,
        })
    }
}

/// A sealed envelope as it travels and is stored (§8.4):
/// `header ‖ sealed_key[80] × n ‖ opaque32 body_ciphertext ‖ signature[64]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub(crate) header: Header,
    header_bytes: Vec<u8>,
    pub(crate) sealed_keys: Vec<[u8; SEALED_KEY_LEN]>,
    pub(crate) body_ciphertext: Vec<u8>,
    pub(crate) signature: [u8; SIGNATURE_LEN],
}

impl Envelope {
    /// The wire encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    pub(crate) fn signed_part(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(
            self.header_bytes.len()
                + self.sealed_keys.len() * SEALED_KEY_LEN
                + 4
                + self.body_ciphertext.len()
                + SIGNATURE_LEN,
        );
        w.raw(&self.header_bytes);
        for k in &self.sealed_keys {
            w.raw(k);
        }
        w.opaque32(&self.body_ciphertext);
        w.into_vec()
    }

    /// Decodes one envelope, enforcing size limits and canonical form. The
    /// signature is *not* checked here; see [`verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_ENVELOPE {
            return Err(Error::TooLarge {
                structure: Structure::Envelope,
                field: "envelope",
            });
        }
        let mut r = Reader::new(bytes, Structure::Envelope);
        let header = Header::read(&mut r)?;
        let header_len = bytes.len() - r.remaining();
        let header_bytes = bytes.get(..header_len).unwrap_or_default().to_vec();
        let mut sealed_keys = Vec::with_capacity(header.recipients.len());
        for _ in 0..header.recipients.len() {
            sealed_keys.push(r.array()?);
        }
        let body_ciphertext = r.opaque32("body_ciphertext", MAX_BODY_CIPHERTEXT)?.to_vec();
        let signature = r.array()?;
        r.finish()?;
        Ok(Self {
            header,
            header_bytes,
            sealed_keys,
            body_ciphertext,
            signature,
        })
    }

    /// The cleartext header (unverified unless reached through [`VerifiedEnvelope`]).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// `H("confide/v1/envelope-hash", encoding)`.
    pub fn hash(&self) -> EnvelopeHash {
        EnvelopeHash(label::hash(labels::ENVELOPE_HASH, &[&self.encode()]))
    }

    pub(crate) fn header_hash(&self) -> [u8; 32] {
        label::hash(labels::HEADER_HASH, &[&self.header_bytes])
    }
}

/// The sending side of [`seal`]: the device key and its instance.
#[derive(Debug)]
pub struct SenderKey<'a> {
    /// The sender's device key.
    pub device: &'a DeviceSecretKey,
    /// The sender instance (random per page load / process).
    pub instance: InstanceId,
}

/// Seals `body` in `conversation` under the head statements of `state`
/// (§8.2). Member devices listed in `extra_devices` (scanners for an
/// attachment) also receive the content key.
#[allow(clippy::too_many_arguments)]
pub fn seal(
    sender: &SenderKey<'_>,
    counter: Counter,
    conversation: &Conversation,
    state: &InboxState,
    audience: Audience,
    body: &Body,
    extra_devices: &[PublicIdentity],
    now: Timestamp,
    rng: &mut impl CryptoRng,
) -> Result<Envelope> {
    let membership = state.head_membership().ok_or(Error::UnknownStatement)?;
    let generation = state.head_generation().ok_or(Error::RotationRequired)?;
    let m = membership.body();
    if generation.body().membership_hash != membership.hash() {
        return Err(Error::RotationRequired);
    }
    if now > m.not_after {
        return Err(Error::MembershipExpired);
    }
    if m.min_protocol_version > ENVELOPE_VERSION {
        return Err(Error::VersionTooOld);
    }
    if conversation.org() != m.org || conversation.inbox() != m.inbox {
        return Err(Error::WrongConversation);
    }
    if counter.0 == 0 {
        return Err(Error::InvalidField {
            structure: Structure::Envelope,
            field: "counter",
        });
    }
    let sender_id = sender.device.device_id();
    if sender_id == conversation.visitor_device() {
        if audience != Audience::Conversation {
            return Err(Error::RecipientsDoNotFitAudience);
        }
    } else if !m
        .member(&sender_id)
        .is_some_and(|mem| m.send_roles.contains(mem.role))
    {
        return Err(Error::SenderNotAllowed);
    }

    // Recipients and their public keys, in canonical order.
    let mut keys = BTreeMap::new();
    if audience == Audience::Conversation {
        let k = conversation.visitor().hpke;
        keys.insert(
            Recipient {
                kind: RecipientKind::Visitor,
                id: k.recipient_id(),
            },
            k,
        );
    }
    let k = generation.body().public_key;
    keys.insert(
        Recipient {
            kind: RecipientKind::Inbox,
            id: k.recipient_id(),
        },
        k,
    );
    for r in &m.required_recipients {
        keys.insert(
            Recipient {
                kind: RecipientKind::Required,
                id: r.key.recipient_id(),
            },
            r.key,
        );
    }
    for d in extra_devices {
        if m.member(&d.device_id()).is_none() {
            return Err(Error::SenderNotAllowed);
        }
        keys.insert(
            Recipient {
                kind: RecipientKind::Device,
                id: d.hpke.recipient_id(),
            },
            d.hpke,
        );
    }
    if keys.len() > MAX_RECIPIENTS {
        return Err(Error::TooLarge {
            structure: Structure::Envelope,
            field: "recipients",
        });
    }

    let mut content_key = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(content_key.as_mut());
    let instance = sender.instance;
    let (body_key, commitment) = derive_message_keys(
        &content_key,
        &conversation.id(),
        &sender_id,
        &instance,
        counter,
    );
    let header = Header {
        audience,
        conversation: conversation.id(),
        sender: sender_id,
        instance,
        counter,
        membership_seq: m.seq,
        membership_hash: membership.hash(),
        generation: generation.body().generation,
        generation_hash: generation.hash(),
        recipients: keys.keys().copied().collect(),
        commitment,
    };
    let mut w = Writer::with_capacity(256 + header.recipients.len() * 33);
    header.write(&mut w);
    let header_bytes = w.into_vec();
    let header_hash = label::hash(labels::HEADER_HASH, &[&header_bytes]);

    let mut sealed_keys = Vec::with_capacity(keys.len());
    for (recipient, pk) in &keys {
        let sealed = pk.seal(
            &content_key_info(recipient),
            &header_hash,
            content_key.as_ref(),
            rng,
        )?;
        sealed_keys.push(sealed.try_into().map_err(|_| Error::InvalidPublicKey)?);
    }
    let padded = body.encode_padded()?;
    let body_ciphertext = body_cipher(&body_key)
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: &padded,
                aad: &header_hash,
            },
        )
        .map_err(|_| Error::TooLarge {
            structure: Structure::Envelope,
            field: "body",
        })?;
    if body_ciphertext.len() > MAX_BODY_CIPHERTEXT {
        return Err(Error::TooLarge {
            structure: Structure::Envelope,
            field: "body_ciphertext",
        });
    }
    let mut env = Envelope {
        header,
        header_bytes,
        sealed_keys,
        body_ciphertext,
        signature: [0; SIGNATURE_LEN],
    };
    env.signature = sender.device.sign(labels::ENVELOPE_SIG, &env.signed_part());
    Ok(env)
}

/// The body cipher under a 32-byte body key.
pub(crate) fn body_cipher(body_key: &[u8; 32]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(&Key::from(*body_key))
}

/// HPKE `info` for one recipient: `signing_input("confide/v1/content-key-seal", u8 kind ‖ id)`.
pub(crate) fn content_key_info(r: &Recipient) -> Vec<u8> {
    let mut data = Vec::with_capacity(33);
    data.push(r.kind as u8);
    data.extend_from_slice(&r.id.0);
    label::signing_input(labels::CONTENT_KEY_SEAL, &data)
}

/// `HKDF-SHA256(salt = conversation, ikm = content_key, info =
/// label(message-keys) ‖ sender ‖ instance ‖ u64 counter)` → 64 bytes:
/// body key ‖ commitment (§8.2).
pub(crate) fn derive_message_keys(
    content_key: &[u8; 32],
    conversation: &ConversationId,
    sender: &DeviceId,
    instance: &InstanceId,
    counter: Counter,
) -> (Zeroizing<[u8; 32]>, [u8; 32]) {
    let mut info = Vec::with_capacity(32 + 16 + 8);
    info.extend_from_slice(&sender.0);
    info.extend_from_slice(&instance.0);
    info.extend_from_slice(&counter.0.to_be_bytes());
    let info = label::signing_input(labels::MESSAGE_KEYS, &info);
    let hk = Hkdf::<Sha256>::new(Some(&conversation.0), content_key);
    let mut okm = Zeroizing::new([0u8; 64]);
    // 64 bytes is far below HKDF-SHA256's 8160-byte limit, so this cannot fail.
    let _ = hk.expand(&info, okm.as_mut());
    let mut body_key = Zeroizing::new([0u8; 32]);
    let mut commitment = [0u8; 32];
    let (a, b) = okm.split_at(32);
    body_key.copy_from_slice(a);
    commitment.copy_from_slice(b);
    (body_key, commitment)
}
