//! An independent encoder of the wire formats, written from the byte layout
//! with the primitive crates (SHA-256, HKDF, ChaCha20-Poly1305, HPKE,
//! Ed25519) and literal labels — not with `confide_protocol`'s builders.
//!
//! It crafts what the crate's safe API refuses to produce (a wrong
//! commitment, a missing recipient, a non-member's signature, a generation
//! key sealed wrongly…), and, because the generator checks that it rebuilds
//! every envelope `envelope::seal` makes byte for byte, it doubles as a
//! check that the format is the one documented. Non-goal: decoding.

use super::case::Ctx;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use confide_protocol::rand_core::CryptoRng;
use ed25519_dalek::{Signer, SigningKey};
use hkdf::Hkdf;
use hpke::{Deserializable, OpModeS, Serializable};
use sha2::{Digest, Sha256};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

/// Recipient kind bytes (§8.1).
pub const KIND_VISITOR: u8 = 1;
/// The inbox generation key.
pub const KIND_INBOX: u8 = 2;
/// A required recipient (records key).
pub const KIND_REQUIRED: u8 = 3;
/// A member device addressed directly.
pub const KIND_DEVICE: u8 = 4;

/// `u8(len(label)) ‖ label ‖ data`.
pub fn framed(label: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + label.len() + data.len());
    out.push(u8::try_from(label.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(data);
    out
}

/// `SHA-256(u8(len(label)) ‖ label ‖ parts…)`.
pub fn h(label: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    d.update(framed(label, &[]));
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

/// `H("confide/v1/recipient-id", hpke_public_key)`.
pub fn recipient_id(pk: &[u8; 32]) -> [u8; 32] {
    h("confide/v1/recipient-id", &[pk])
}

/// HKDF-SHA256 → body key ‖ commitment (§8.2).
pub fn message_keys(
    content_key: &[u8; 32],
    conversation: &[u8; 32],
    sender: &[u8; 32],
    instance: &[u8; 16],
    counter: u64,
) -> Result<([u8; 32], [u8; 32]), String> {
    let mut info = Vec::new();
    info.extend_from_slice(sender);
    info.extend_from_slice(instance);
    info.extend_from_slice(&counter.to_be_bytes());
    let info = framed("confide/v1/message-keys", &info);
    let mut okm = [0u8; 64];
    Hkdf::<Sha256>::new(Some(conversation), content_key)
        .expand(&info, &mut okm)
        .ctx("hkdf")?;
    split32(&okm)
}

fn split32(okm: &[u8; 64]) -> Result<([u8; 32], [u8; 32]), String> {
    let (a, b) = okm.split_at(32);
    Ok((a.try_into().ctx("okm")?, b.try_into().ctx("okm")?))
}

/// HPKE base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
/// ChaCha20-Poly1305: `enc ‖ ciphertext ‖ tag`.
pub fn hpke_seal(
    pk: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, String> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(pk).ctx("hpke public key")?;
    let (enc, ct) = hpke::single_shot_seal_with_rng::<HpkeAead, Kdf, Kem>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        aad,
        rng,
    )
    .ctx("hpke seal")?;
    let mut out = enc.to_bytes().to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Ed25519 over `u8(len(label)) ‖ label ‖ body`, with a 32-byte seed.
pub fn sign(seed: &[u8; 32], label: &str, body: &[u8]) -> [u8; 64] {
    SigningKey::from_bytes(seed)
        .sign(&framed(label, body))
        .to_bytes()
}

/// Padmé (§8.3).
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = 63 - u64::from(len.leading_zeros());
    let s = 64 - u64::from(e.leading_zeros());
    let bits = e.saturating_sub(s);
    let mask = (1u64 << bits) - 1;
    (len + mask) & !mask
}

/// A text body framed and padded: `u32 len ‖ body ‖ zeros` to
/// `padme(max(4 + len, 256))`, body = `01 ‖ content_type ‖ 00 (no reply) ‖
/// 00 (no token) ‖ u16 0 (no attachments) ‖ opaque32 text`.
pub fn padded_text_body(content_type: u8, text: &str) -> Result<Vec<u8>, String> {
    let mut inner = vec![1, content_type, 0, 0, 0, 0];
    inner.extend_from_slice(&u32::try_from(text.len()).ctx("text")?.to_be_bytes());
    inner.extend_from_slice(text.as_bytes());
    let len = u32::try_from(inner.len()).ctx("body")?;
    let total = padme(u64::from(len + 4).max(256));
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&inner);
    out.resize(usize::try_from(total).ctx("padded")?, 0);
    Ok(out)
}

/// ChaCha20-Poly1305 with the all-zero nonce (each body key is used once).
pub fn aead_seal(key: &[u8; 32], aad: &[u8], msg: &[u8]) -> Result<Vec<u8>, String> {
    ChaCha20Poly1305::new(&Key::from(*key))
        .encrypt(&Nonce::default(), Payload { msg, aad })
        .ctx("chacha20poly1305")
}

/// One recipient of a crafted envelope.
#[derive(Clone, Debug)]
pub struct RawRecipient {
    /// Kind byte.
    pub kind: u8,
    /// HPKE public key.
    pub public_key: [u8; 32],
    /// Seal this content key instead of the envelope's (a lying sender).
    pub content_key: Option<[u8; 32]>,
}

impl RawRecipient {
    /// A recipient receiving the envelope's content key.
    pub fn new(kind: u8, public_key: [u8; 32]) -> Self {
        Self {
            kind,
            public_key,
            content_key: None,
        }
    }
}

/// Everything an envelope is built from (§8), with knobs to break it.
#[derive(Clone, Debug)]
pub struct RawEnvelope {
    /// Header version byte (1).
    pub version: u8,
    /// 1 conversation, 2 internal note.
    pub audience: u8,
    /// Conversation id.
    pub conversation: [u8; 32],
    /// Ed25519 seed that signs (normally the sender's).
    pub signing_seed: [u8; 32],
    /// Sender device id written in the header.
    pub sender: [u8; 32],
    /// Sender instance.
    pub instance: [u8; 16],
    /// Counter.
    pub counter: u64,
    /// Named membership.
    pub membership: (u64, [u8; 32]),
    /// Named generation.
    pub generation: (u64, [u8; 32]),
    /// Recipients (sorted by `(kind, id)` unless `keep_order`).
    pub recipients: Vec<RawRecipient>,
    /// Keep `recipients` in the given order.
    pub keep_order: bool,
    /// Write this commitment instead of the derived one.
    pub commitment: Option<[u8; 32]>,
    /// Body content type (1 text).
    pub content_type: u8,
    /// Body text.
    pub text: String,
    /// Flip the low bit of this body-ciphertext byte before signing.
    pub flip_body_byte: Option<usize>,
}

/// A built envelope and the content key its commitment is derived from.
pub struct Built {
    /// The wire encoding.
    pub bytes: Vec<u8>,
    /// The content key (drawn first from the rng).
    pub content_key: [u8; 32],
}

impl RawEnvelope {
    /// Builds the envelope: draws the content key (32 bytes) from `rng`,
    /// then seals it to each recipient in header order — the order
    /// `envelope::seal` uses, so equal rng states give equal bytes.
    pub fn build(&self, rng: &mut impl CryptoRng) -> Result<Built, String> {
        let mut content_key = [0u8; 32];
        rng.fill_bytes(&mut content_key);
        let (body_key, commitment) = message_keys(
            &content_key,
            &self.conversation,
            &self.sender,
            &self.instance,
            self.counter,
        )?;
        let mut recipients: Vec<([u8; 32], &RawRecipient)> = self
            .recipients
            .iter()
            .map(|r| (recipient_id(&r.public_key), r))
            .collect();
        if !self.keep_order {
            recipients.sort_by_key(|(id, r)| (r.kind, *id));
        }
        let mut header = vec![self.version, self.audience];
        header.extend_from_slice(&self.conversation);
        header.extend_from_slice(&self.sender);
        header.extend_from_slice(&self.instance);
        header.extend_from_slice(&self.counter.to_be_bytes());
        header.extend_from_slice(&self.membership.0.to_be_bytes());
        header.extend_from_slice(&self.membership.1);
        header.extend_from_slice(&self.generation.0.to_be_bytes());
        header.extend_from_slice(&self.generation.1);
        header.extend_from_slice(
            &u16::try_from(recipients.len())
                .ctx("recipients")?
                .to_be_bytes(),
        );
        for (id, r) in &recipients {
            header.push(r.kind);
            header.extend_from_slice(id);
        }
        header.extend_from_slice(&self.commitment.unwrap_or(commitment));
        let header_hash = h("confide/v1/header-hash", &[&header]);

        let mut out = header;
        for (id, r) in &recipients {
            let mut kind_id = vec![r.kind];
            kind_id.extend_from_slice(id);
            let info = framed("confide/v1/content-key-seal", &kind_id);
            let key = r.content_key.unwrap_or(content_key);
            out.extend_from_slice(&hpke_seal(&r.public_key, &info, &header_hash, &key, rng)?);
        }
        let padded = padded_text_body(self.content_type, &self.text)?;
        let mut body = aead_seal(&body_key, &header_hash, &padded)?;
        if let Some(i) = self.flip_body_byte {
            let b = body.get_mut(i).ctx("flip_body_byte")?;
            *b ^= 1;
        }
        out.extend_from_slice(&u32::try_from(body.len()).ctx("body")?.to_be_bytes());
        out.extend_from_slice(&body);
        let sig = sign(&self.signing_seed, "confide/v1/envelope", &out);
        out.extend_from_slice(&sig);
        Ok(Built {
            bytes: out,
            content_key,
        })
    }
}

/// HPKE `info` sealing generation `g`'s private key to `device` (§6.1).
pub fn generation_seal_info(
    org: &[u8; 16],
    inbox: &[u8; 16],
    g: u64,
    device: &[u8; 32],
) -> Vec<u8> {
    let mut data = Vec::new();
    data.extend_from_slice(org);
    data.extend_from_slice(inbox);
    data.extend_from_slice(&g.to_be_bytes());
    data.extend_from_slice(device);
    framed("confide/v1/generation-seal", &data)
}

/// `opaque32(body) ‖ Ed25519(seed, label, body)`: a signed statement.
pub fn signed_statement(body: &[u8], seed: &[u8; 32], label: &str) -> Result<Vec<u8>, String> {
    let mut out = u32::try_from(body.len())
        .ctx("statement")?
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(body);
    out.extend_from_slice(&sign(seed, label, body));
    Ok(out)
}

/// Plain SHA-256.
pub fn h_plain(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The X25519 public key of an HPKE secret key.
pub fn x25519_public(secret: &[u8; 32]) -> Result<[u8; 32], String> {
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(secret).ctx("x25519 secret")?;
    let pk = <Kem as hpke::Kem>::sk_to_pk(&sk).to_bytes();
    pk.as_slice().try_into().ctx("x25519 public")
}

/// RFC 9180 `DeriveKeyPair(ikm)` for DHKEM(X25519): `(secret, public)`.
pub fn hpke_derive_keypair(ikm: &[u8]) -> Result<([u8; 32], [u8; 32]), String> {
    let (sk, pk) = <Kem as hpke::Kem>::derive_keypair(ikm);
    Ok((
        sk.to_bytes().as_slice().try_into().ctx("secret")?,
        pk.to_bytes().as_slice().try_into().ctx("public")?,
    ))
}

/// The Ed25519 public key of a seed.
pub fn ed25519_public(seed: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

/// Whether 32 bytes decompress to an Ed25519 point.
pub fn ed25519_point_is_valid(bytes: &[u8; 32]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(bytes).is_ok()
}
