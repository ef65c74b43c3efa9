//! Device, root and recipient keys; HPKE sealing (docs/protocol.md §4, §2.3).
//!
//! Secret keys zeroize on drop, have no `Clone` and redact their `Debug`.
//! Their bytes leave only through `dangerous_`-named methods (key files,
//! test vectors). Randomness is always passed in.
//!
//! Non-goal: key storage. [`crate::keyfile`] encrypts keys; where the file
//! lives is the caller's business.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::ids::{DeviceId, RecipientId};
use crate::label::{self, labels};
use alloc::vec::Vec;
use core::fmt;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// HPKE suite of version 1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of a sealed 32-byte key: HPKE `enc` (32) ‖ ciphertext (32) ‖ tag (16).
pub const SEALED_KEY_LEN: usize = 80;

/// A fresh Ed25519 key from a 32-byte random seed.
fn random_signing_key(rng: &mut impl CryptoRng) -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(seed.as_mut());
    SigningKey::from_bytes(&seed)
}

/// An Ed25519 public key that decoded to a valid curve point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SigningPublicKey(VerifyingKey);

impl SigningPublicKey {
    /// Decodes 32 bytes; rejects points that do not decompress.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| Error::InvalidPublicKey)
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Verifies `sig` over `signing_input(label, body)` with `verify_strict`
    /// (rejects small-order keys and non-canonical signatures).
    pub fn verify(
        &self,
        label_: &str,
        body: &[u8],
        sig: &[u8; SIGNATURE_LEN],
        structure: Structure,
    ) -> Result<()> {
        let sig = Signature::from_bytes(sig);
        self.0
            .verify_strict(&label::signing_input(label_, body), &sig)
            .map_err(|_| Error::BadSignature(structure))
    }
}

impl fmt::Debug for SigningPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningPublicKey({})",
            crate::ids::hex(&self.0.to_bytes())
        )
    }
}

/// An X25519 public key used as an HPKE recipient key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HpkePublicKey(pub [u8; 32]);

impl HpkePublicKey {
    /// The recipient id of this key: `H("confide/v1/recipient-id", key)`.
    pub fn recipient_id(&self) -> RecipientId {
        RecipientId(label::hash(labels::RECIPIENT_ID, &[&self.0]))
    }

    /// Seals `plaintext` to this key (HPKE base mode, suite of §2.3).
    /// Returns `enc ‖ ciphertext ‖ tag`.
    pub fn seal(
        &self,
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>> {
        let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&self.0)
            .map_err(|_| Error::InvalidPublicKey)?;
        let (enc, ct) = hpke::single_shot_seal_with_rng::<Aead, Kdf, Kem>(
            &OpModeS::Base,
            &pk,
            info,
            plaintext,
            aad,
            rng,
        )
        .map_err(|_| Error::InvalidPublicKey)?;
        let mut out = Vec::with_capacity(32 + ct.len());
        out.extend_from_slice(&enc.to_bytes());
        out.extend_from_slice(&ct);
        Ok(out)
    }
}

impl fmt::Debug for HpkePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HpkePublicKey({})", crate::ids::hex(&self.0))
    }
}

/// An X25519 HPKE private key. Zeroized on drop; `Debug` is redacted.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct HpkeSecretKey([u8; 32]);

impl HpkeSecretKey {
    /// Generates a key with the given randomness.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut ikm = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(ikm.as_mut());
        Self::from_ikm(ikm.as_ref())
    }

    /// Derives a key deterministically from input keying material (RFC 9180 `DeriveKeyPair`).
    pub fn from_ikm(ikm: &[u8]) -> Self {
        let (sk, _) = Kem::derive_keypair(ikm);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&sk.to_bytes());
        Self(bytes)
    }

    /// Wraps raw secret bytes (from a key file or an unsealed generation key).
    pub fn dangerous_from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw secret bytes, for key files and sealing to members only.
    pub fn dangerous_expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The matching public key.
    pub fn public_key(&self) -> HpkePublicKey {
        let pub_ = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(self.0));
        HpkePublicKey(pub_.to_bytes())
    }

    /// Opens `enc ‖ ciphertext ‖ tag` sealed to this key.
    pub fn open(&self, info: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let (enc, ct) = sealed.split_at_checked(32).ok_or(Error::DecryptionFailed)?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)
            .map_err(|_| Error::DecryptionFailed)?;
        let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.0)
            .map_err(|_| Error::DecryptionFailed)?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(&OpModeR::Base, &sk, &enc, info, ct, aad)
            .map(Zeroizing::new)
            .map_err(|_| Error::DecryptionFailed)
    }
}

impl fmt::Debug for HpkeSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HpkeSecretKey(<redacted>, public {:?})",
            self.public_key()
        )
    }
}

/// A device's public identity: what others need to verify its signatures
/// and seal to it. Encoding (§4.1): `u8 version = 1 ‖ signing key[32] ‖ hpke key[32]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicIdentity {
    /// Ed25519 key verifying the device's signatures.
    pub signing: SigningPublicKey,
    /// X25519 key the device receives sealed keys on.
    pub hpke: HpkePublicKey,
}

impl PublicIdentity {
    /// Length of the encoding.
    pub const LEN: usize = 65;
    /// The only identity encoding version.
    pub const VERSION: u8 = 1;

    /// The canonical encoding.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut w = Writer::with_capacity(Self::LEN);
        self.write(&mut w);
        let mut out = [0u8; Self::LEN];
        out.copy_from_slice(w.as_slice());
        out
    }

    /// Writes the canonical encoding.
    pub fn write(&self, w: &mut Writer) {
        w.u8(Self::VERSION);
        w.raw(&self.signing.to_bytes());
        w.raw(&self.hpke.0);
    }

    /// Reads the canonical encoding.
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u8()?;
        if version != Self::VERSION {
            return Err(r.invalid("identity_version"));
        }
        let signing = SigningPublicKey::from_bytes(&r.array()?)?;
        let hpke = HpkePublicKey(r.array()?);
        Ok(Self { signing, hpke })
    }

    /// Decodes exactly one identity.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Structure::PublicIdentity);
        let id = Self::read(&mut r)?;
        r.finish()?;
        Ok(id)
    }

    /// `H("confide/v1/device-id", encoding)`.
    pub fn device_id(&self) -> DeviceId {
        DeviceId(label::hash(labels::DEVICE_ID, &[&self.encode()]))
    }
}

/// A device's secret keys: an Ed25519 signing key and an X25519 HPKE key.
pub struct DeviceSecretKey {
    signing: SigningKey,
    hpke: HpkeSecretKey,
}

impl DeviceSecretKey {
    /// Generates a new device key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self {
            signing: random_signing_key(rng),
            hpke: HpkeSecretKey::generate(rng),
        }
    }

    /// Rebuilds a key from its two 32-byte secrets (key files, vectors).
    pub fn dangerous_from_bytes(signing_seed: &[u8; 32], hpke_secret: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(signing_seed),
            hpke: HpkeSecretKey(hpke_secret),
        }
    }

    /// The two 32-byte secrets, for key files and vectors only.
    pub fn dangerous_expose_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        let (a, b) = out.split_at_mut(32);
        a.copy_from_slice(self.signing.as_bytes());
        b.copy_from_slice(&self.hpke.0);
        out
    }

    /// The public identity.
    pub fn public(&self) -> PublicIdentity {
        PublicIdentity {
            signing: SigningPublicKey(self.signing.verifying_key()),
            hpke: self.hpke.public_key(),
        }
    }

    /// The device id.
    pub fn device_id(&self) -> DeviceId {
        self.public().device_id()
    }

    /// Signs `signing_input(label, body)`.
    pub fn sign(&self, label_: &str, body: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.signing
            .sign(&label::signing_input(label_, body))
            .to_bytes()
    }

    /// The HPKE secret key.
    pub fn hpke(&self) -> &HpkeSecretKey {
        &self.hpke
    }
}

impl fmt::Debug for DeviceSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceSecretKey(<redacted>, {:?})", self.device_id())
    }
}

/// The organisation's root signing key (Ed25519). Held by the server in
/// managed mode, offline by an administrator in strict mode.
pub struct RootSecretKey(SigningKey);

impl RootSecretKey {
    /// Generates a new root key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self(random_signing_key(rng))
    }

    /// Rebuilds a root key from its seed (key files, vectors).
    pub fn dangerous_from_bytes(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The seed, for key files and vectors only.
    pub fn dangerous_expose_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.0.as_bytes())
    }

    /// The public root key.
    pub fn public(&self) -> RootPublicKey {
        RootPublicKey(SigningPublicKey(self.0.verifying_key()))
    }

    /// Signs `signing_input(label, body)`.
    pub fn sign(&self, label_: &str, body: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(&label::signing_input(label_, body)).to_bytes()
    }
}

impl fmt::Debug for RootSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootSecretKey(<redacted>, {:?})", self.public())
    }
}

/// The organisation's public root key, pinned by clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RootPublicKey(pub SigningPublicKey);

impl RootPublicKey {
    /// Decodes 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        SigningPublicKey::from_bytes(bytes).map(Self)
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// `H("confide/v1/root-fingerprint", key)`, shown in the embed snippet as hex.
    pub fn fingerprint(&self) -> [u8; 32] {
        label::hash(labels::ROOT_FINGERPRINT, &[&self.to_bytes()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn identity_round_trips_and_id_is_stable() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = DeviceSecretKey::generate(&mut rng);
        let id = key.public();
        assert_eq!(PublicIdentity::decode(&id.encode()), Ok(id));
        assert_eq!(id.device_id(), key.device_id());
        let mut bad = id.encode();
        bad[0] = 2;
        assert!(PublicIdentity::decode(&bad).is_err());
    }

    #[test]
    fn hpke_seal_open_round_trip_and_binding() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let sk = HpkeSecretKey::generate(&mut rng);
        let sealed = sk
            .public_key()
            .seal(b"info", b"aad", b"secret", &mut rng)
            .unwrap();
        assert_eq!(sealed.len(), 32 + 6 + 16);
        assert_eq!(
            sk.open(b"info", b"aad", &sealed).unwrap().as_slice(),
            b"secret"
        );
        assert_eq!(
            sk.open(b"info", b"other", &sealed),
            Err(Error::DecryptionFailed)
        );
        assert_eq!(
            sk.open(b"other", b"aad", &sealed),
            Err(Error::DecryptionFailed)
        );
    }

    #[test]
    fn signatures_are_label_bound_and_debug_is_redacted() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let key = DeviceSecretKey::generate(&mut rng);
        let sig = key.sign("confide/v1/a", b"body");
        let pk = key.public().signing;
        assert!(
            pk.verify("confide/v1/a", b"body", &sig, Structure::Envelope)
                .is_ok()
        );
        assert!(
            pk.verify("confide/v1/b", b"body", &sig, Structure::Envelope)
                .is_err()
        );
        let dbg = alloc::format!("{key:?} {:?}", key.hpke());
        let secret = key.dangerous_expose_bytes();
        assert!(!dbg.contains(&crate::ids::hex(&secret[..32])));
        assert!(!dbg.contains(&crate::ids::hex(&secret[32..])));
    }
}
