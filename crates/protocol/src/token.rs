//! Visitor identity tokens (docs/protocol.md §12).
//!
//! A company's backend vouches for a logged-in visitor by issuing a short
//! token that names the visitor's *device*: Ed25519-signed with a key the
//! organisation's root lists in the inbox membership ([`TokenKey`]), or —
//! for compatibility with "user hash" integrations — an HMAC-SHA256 under a
//! secret the chat server shares with the backend. The visitor's widget puts
//! the token into its first message; agents check a signed token themselves
//! ([`verify_signed`], [`IdentityStrength::AgentVerified`]); only the server
//! can check an HMAC token ([`verify_hmac`], [`IdentityStrength::ServerVerified`]),
//! and it could forge one, so clients must show the two apart.
//!
//! Non-goals: token re-use. A receiver should remember each `token_id`
//! until the token expires and refuse to see it twice; this module keeps no
//! state. Also not here: how the backend learns the visitor's device id, or
//! how a verified identity is shown.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::ids::{DeviceId, InboxId, OrgId, Timestamp};
use crate::keys::{RootSecretKey, SIGNATURE_LEN, SigningPublicKey};
use crate::label::{self, labels};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The only token body version.
pub const TOKEN_VERSION: u8 = 1;
/// Longest accepted lifetime, `expires_at - issued_at`, in seconds.
pub const MAX_LIFETIME_SECS: u64 = 600;
/// How far `now` may lie before `issued_at` (clocks of backend and reader differ).
pub const CLOCK_SKEW_SECS: u64 = 60;
/// Longest key id in bytes.
pub const MAX_KEY_ID_LEN: usize = 64;
/// Longest subject, name or e-mail in bytes.
pub const MAX_CLAIM_TEXT: usize = 255;
/// Shortest HMAC secret in bytes.
pub const MIN_HMAC_SECRET_LEN: usize = 32;
/// Length of an HMAC-SHA256 proof.
pub const HMAC_LEN: usize = 32;
/// Longest encoded token: a body with every text field full, then an Ed25519 proof.
pub const MAX_TOKEN_LEN: usize =
    1 + (1 + MAX_KEY_ID_LEN) + 16 + 16 + 3 * (1 + MAX_CLAIM_TEXT) + 8 + 8 + 16 + 32 + 1 + 64;

/// A key that may sign identity tokens for an inbox, as listed in its
/// membership statement. Encoding: `key_id string8 ‖ key[32]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenKey {
    /// The name the backend puts into tokens signed with this key
    /// (1–64 bytes of visible ASCII, `0x21..=0x7e`).
    pub key_id: String,
    /// The Ed25519 public key.
    pub key: SigningPublicKey,
}

impl TokenKey {
    /// A token key with a checked key id.
    pub fn new(key_id: impl Into<String>, key: SigningPublicKey) -> Result<Self> {
        let key = Self {
            key_id: key_id.into(),
            key,
        };
        key.validate(Structure::Membership)?;
        Ok(key)
    }

    /// Checks the key id (length and alphabet); errors name `structure`.
    pub fn validate(&self, structure: Structure) -> Result<()> {
        if valid_key_id(&self.key_id) {
            Ok(())
        } else {
            Err(Error::InvalidField {
                structure,
                field: "key_id",
            })
        }
    }

    /// Writes `key_id string8 ‖ key[32]`. Call [`TokenKey::validate`] first.
    pub fn write(&self, w: &mut Writer) {
        w.opaque8(self.key_id.as_bytes());
        w.raw(&self.key.to_bytes());
    }

    /// Reads `key_id string8 ‖ key[32]`, checking the key id and the point.
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let key_id = read_key_id(r)?;
        let key = SigningPublicKey::from_bytes(&r.array()?)?;
        Ok(Self { key_id, key })
    }
}

/// What the backend asserts about a visitor: the body of a token (§12.2).
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityClaims {
    /// The [`TokenKey::key_id`] of the signing key (or the HMAC secret's name).
    pub key_id: String,
    /// The organisation the token is for.
    pub org: OrgId,
    /// The inbox the token is for.
    pub inbox: InboxId,
    /// The company's stable user identifier (1–255 bytes of UTF-8).
    pub subject: String,
    /// Display name, possibly empty (0–255 bytes of UTF-8).
    pub name: String,
    /// E-mail address, possibly empty (0–255 bytes of UTF-8).
    pub email: String,
    /// When the backend issued the token.
    pub issued_at: Timestamp,
    /// After this time the token is refused; at most 600 s after `issued_at`.
    pub expires_at: Timestamp,
    /// 16 random bytes; receivers remember it until expiry to refuse re-use.
    pub token_id: [u8; 16],
    /// The visitor device the token may be presented by.
    pub visitor_device: DeviceId,
}

impl IdentityClaims {
    /// The canonical body encoding (§12.2); fails if a field is out of range.
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.check()?;
        let mut w = Writer::with_capacity(128 + self.name.len() + self.email.len());
        w.u8(TOKEN_VERSION);
        w.opaque8(self.key_id.as_bytes());
        w.raw(&self.org.0);
        w.raw(&self.inbox.0);
        w.opaque8(self.subject.as_bytes());
        w.opaque8(self.name.as_bytes());
        w.opaque8(self.email.as_bytes());
        w.u64(self.issued_at.0);
        w.u64(self.expires_at.0);
        w.raw(&self.token_id);
        w.raw(&self.visitor_device.0);
        Ok(w.into_vec())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u8()?;
        if version != TOKEN_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let claims = Self {
            key_id: read_key_id(r)?,
            org: OrgId(r.array()?),
            inbox: InboxId(r.array()?),
            subject: r.string8("subject", MAX_CLAIM_TEXT)?,
            name: r.string8("name", MAX_CLAIM_TEXT)?,
            email: r.string8("email", MAX_CLAIM_TEXT)?,
            issued_at: Timestamp(r.u64()?),
            expires_at: Timestamp(r.u64()?),
            token_id: r.array()?,
            visitor_device: DeviceId(r.array()?),
        };
        claims.check()?;
        Ok(claims)
    }

    fn check(&self) -> Result<()> {
        let invalid = |field| Error::InvalidField {
            structure: Structure::IdentityToken,
            field,
        };
        if !valid_key_id(&self.key_id) {
            return Err(invalid("key_id"));
        }
        if self.subject.is_empty() || self.subject.len() > MAX_CLAIM_TEXT {
            return Err(invalid("subject"));
        }
        if self.name.len() > MAX_CLAIM_TEXT {
            return Err(invalid("name"));
        }
        if self.email.len() > MAX_CLAIM_TEXT {
            return Err(invalid("email"));
        }
        if self.expires_at < self.issued_at {
            return Err(invalid("expires_at"));
        }
        Ok(())
    }
}

/// `Debug` leaves out the personal data (subject, name, e-mail).
impl fmt::Debug for IdentityClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityClaims")
            .field("key_id", &self.key_id)
            .field("org", &self.org)
            .field("inbox", &self.inbox)
            .field("subject", &"<redacted>")
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("token_id", &crate::ids::hex(&self.token_id))
            .field("visitor_device", &self.visitor_device)
            .finish_non_exhaustive()
    }
}

/// How a token proves its origin (the `scheme` byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenScheme {
    /// `1`: an Ed25519 signature any member can check.
    Ed25519 = 1,
    /// `2`: an HMAC-SHA256 "user hash" only the holder of the secret can check.
    HmacSha256 = 2,
}

/// The proof that follows the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenProof {
    /// Ed25519 over `signing_input("confide/v1/identity-token", body)`.
    Ed25519([u8; SIGNATURE_LEN]),
    /// HMAC-SHA256 over `signing_input("confide/v1/identity-token-hmac", body)`.
    HmacSha256([u8; HMAC_LEN]),
}

/// A decoded, not yet verified, identity token: `body ‖ scheme ‖ proof`
/// (§12.3). Made only by [`issue_signed`], [`issue_hmac`] and
/// [`IdentityToken::decode`].
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityToken {
    claims: IdentityClaims,
    body: Vec<u8>,
    proof: TokenProof,
}

impl IdentityToken {
    /// The claims, unverified.
    pub fn claims(&self) -> &IdentityClaims {
        &self.claims
    }

    /// The proof.
    pub fn proof(&self) -> &TokenProof {
        &self.proof
    }

    /// The proof scheme.
    pub fn scheme(&self) -> TokenScheme {
        match self.proof {
            TokenProof::Ed25519(_) => TokenScheme::Ed25519,
            TokenProof::HmacSha256(_) => TokenScheme::HmacSha256,
        }
    }

    /// The encoding: `body ‖ u8 scheme ‖ proof`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 1 + SIGNATURE_LEN);
        out.extend_from_slice(&self.body);
        out.push(self.scheme() as u8);
        match &self.proof {
            TokenProof::Ed25519(sig) => out.extend_from_slice(sig),
            TokenProof::HmacSha256(tag) => out.extend_from_slice(tag),
        }
        out
    }

    /// Decodes exactly one token; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::IdentityToken);
        let claims = IdentityClaims::read(&mut r)?;
        let body_len = bytes.len().saturating_sub(r.remaining());
        let body = bytes
            .get(..body_len)
            .ok_or(Error::Truncated(Structure::IdentityToken))?
            .to_vec();
        let proof = match r.u8()? {
            1 => TokenProof::Ed25519(r.array()?),
            2 => TokenProof::HmacSha256(r.array()?),
            _ => return Err(r.invalid("scheme")),
        };
        r.finish()?;
        Ok(Self {
            claims,
            body,
            proof,
        })
    }
}

/// `Debug` shows the claims without personal data, and the scheme.
impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("claims", &self.claims)
            .field("scheme", &self.scheme())
            .finish_non_exhaustive()
    }
}

/// Who checked a token's proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityStrength {
    /// A member device checked the backend's Ed25519 signature under a key
    /// the organisation root listed; the chat server cannot forge this.
    AgentVerified,
    /// The chat server checked an HMAC "user hash"; the server knows the
    /// secret, so it could have made the token itself.
    ServerVerified,
}

/// Claims whose proof, scope, device and validity period were checked.
/// Only [`verify_signed`] and [`verify_hmac`] make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedIdentity {
    claims: IdentityClaims,
    strength: IdentityStrength,
}

impl VerifiedIdentity {
    /// The verified claims.
    pub fn claims(&self) -> &IdentityClaims {
        &self.claims
    }

    /// Who checked the proof.
    pub fn strength(&self) -> IdentityStrength {
        self.strength
    }

    /// The verified claims, by value.
    pub fn into_claims(self) -> IdentityClaims {
        self.claims
    }
}

/// The company backend's Ed25519 token-signing key. Zeroized on drop;
/// `Debug` is redacted.
pub struct TokenSigningKey(RootSecretKey);

impl TokenSigningKey {
    /// Generates a new key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self(RootSecretKey::generate(rng))
    }

    /// Rebuilds a key from its 32-byte seed (key files, vectors).
    pub fn dangerous_from_bytes(seed: &[u8; 32]) -> Self {
        Self(RootSecretKey::dangerous_from_bytes(seed))
    }

    /// The seed, for key files and vectors only.
    pub fn dangerous_expose_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.0.dangerous_expose_bytes()
    }

    /// The public key, to list in the membership as a [`TokenKey`].
    pub fn public(&self) -> SigningPublicKey {
        self.0.public().0
    }
}

impl fmt::Debug for TokenSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSigningKey(<redacted>, {:?})", self.public())
    }
}

/// Signs `claims` with the backend's key (scheme 1).
pub fn issue_signed(claims: IdentityClaims, key: &TokenSigningKey) -> Result<IdentityToken> {
    let body = claims.encode()?;
    let sig = key.0.sign(labels::IDENTITY_TOKEN_SIG, &body);
    Ok(IdentityToken {
        claims,
        body,
        proof: TokenProof::Ed25519(sig),
    })
}

/// MACs `claims` with a secret shared with the chat server (scheme 2).
/// The secret must be at least 32 bytes.
pub fn issue_hmac(claims: IdentityClaims, secret: &[u8]) -> Result<IdentityToken> {
    let body = claims.encode()?;
    let tag = hmac_tag(secret, &body)?.finalize().into_bytes().into();
    Ok(IdentityToken {
        claims,
        body,
        proof: TokenProof::HmacSha256(tag),
    })
}

/// What an agent device runs on a token found in a visitor's message, after
/// opening the envelope whose verified sender is `sender` (§12.5): scheme,
/// key id, signature, scope, device, lifetime, validity period — in this order.
pub fn verify_signed(
    token: &IdentityToken,
    keys: &[TokenKey],
    org: OrgId,
    inbox: InboxId,
    sender: DeviceId,
    now: Timestamp,
) -> Result<VerifiedIdentity> {
    let TokenProof::Ed25519(sig) = &token.proof else {
        return Err(Error::TokenWrongScheme);
    };
    let key = keys
        .iter()
        .find(|k| k.key_id == token.claims.key_id)
        .ok_or(Error::TokenUnknownKey)?;
    key.key.verify(
        labels::IDENTITY_TOKEN_SIG,
        &token.body,
        sig,
        Structure::IdentityToken,
    )?;
    check_claims(&token.claims, org, inbox, sender, now)?;
    Ok(VerifiedIdentity {
        claims: token.claims.clone(),
        strength: IdentityStrength::AgentVerified,
    })
}

/// What the chat server runs on an HMAC token (§12.6), with the secret it
/// selected by `token.claims().key_id`: scheme, MAC (constant time), scope,
/// device, lifetime, validity period.
pub fn verify_hmac(
    token: &IdentityToken,
    secret: &[u8],
    org: OrgId,
    inbox: InboxId,
    sender: DeviceId,
    now: Timestamp,
) -> Result<VerifiedIdentity> {
    let TokenProof::HmacSha256(tag) = &token.proof else {
        return Err(Error::TokenWrongScheme);
    };
    hmac_tag(secret, &token.body)?
        .verify_slice(tag)
        .map_err(|_| Error::BadSignature(Structure::IdentityToken))?;
    check_claims(&token.claims, org, inbox, sender, now)?;
    Ok(VerifiedIdentity {
        claims: token.claims.clone(),
        strength: IdentityStrength::ServerVerified,
    })
}

/// The checks after the proof: scope, device, lifetime, validity period.
fn check_claims(
    claims: &IdentityClaims,
    org: OrgId,
    inbox: InboxId,
    sender: DeviceId,
    now: Timestamp,
) -> Result<()> {
    if claims.org != org || claims.inbox != inbox {
        return Err(Error::WrongScope(Structure::IdentityToken));
    }
    if claims.visitor_device != sender {
        return Err(Error::TokenWrongDevice);
    }
    let lifetime = claims.expires_at.0.checked_sub(claims.issued_at.0);
    if lifetime.is_none_or(|l| l > MAX_LIFETIME_SECS) {
        return Err(Error::TokenLifetimeTooLong);
    }
    if now.0 < claims.issued_at.0.saturating_sub(CLOCK_SKEW_SECS) || now > claims.expires_at {
        return Err(Error::TokenExpired);
    }
    Ok(())
}

/// HMAC-SHA256 keyed with `secret`, fed `signing_input(IDENTITY_TOKEN_HMAC, body)`.
fn hmac_tag(secret: &[u8], body: &[u8]) -> Result<Hmac<Sha256>> {
    let short = Error::InvalidField {
        structure: Structure::IdentityToken,
        field: "hmac_secret",
    };
    if secret.len() < MIN_HMAC_SECRET_LEN {
        return Err(short);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| short)?;
    mac.update(&label::signing_input(labels::IDENTITY_TOKEN_HMAC, body));
    Ok(mac)
}

fn valid_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&id.len()) && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn read_key_id(r: &mut Reader<'_>) -> Result<String> {
    let id = r.string8("key_id", MAX_KEY_ID_LEN)?;
    if valid_key_id(&id) {
        Ok(id)
    } else {
        Err(r.invalid("key_id"))
    }
}
