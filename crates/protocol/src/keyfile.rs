//! Secret-key files encrypted under a passphrase (docs/protocol.md §4.3).
//!
//! A key file is `header ‖ opaque32 ciphertext`: the header names the kind
//! of key and the Argon2id parameters, salt and nonce; the secret is
//! encrypted with XChaCha20-Poly1305 under `Argon2id(passphrase, salt)`,
//! with the whole header as associated data. Reading checks the structure
//! and the KDF bounds *before* running Argon2id, so a hostile file can
//! neither make us allocate gigabytes nor accept a cheap KDF.
//!
//! Non-goals: where the file lives, how the passphrase is asked for, and
//! passphrase strength (the caller's policy). Secrets pass through
//! `Zeroizing` buffers only.

use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::keys::{DeviceSecretKey, HpkeSecretKey, RootSecretKey};
use crate::label::{self, labels};
use crate::token::TokenSigningKey;
use alloc::vec::Vec;
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// The first eight bytes of every key file.
pub const MAGIC: [u8; 8] = *b"CONFIDEK";
/// The only key-file version.
pub const KEY_FILE_VERSION: u8 = 1;
/// KDF identifier of Argon2id, version 0x13 (RFC 9106).
pub const KDF_ARGON2ID: u8 = 1;
/// Salt length.
pub const SALT_LEN: usize = 16;
/// XChaCha20-Poly1305 nonce length.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Header length: magic, version, kind, kdf, three `u32` costs, salt, nonce.
pub const HEADER_LEN: usize = 8 + 1 + 1 + 1 + 4 + 4 + 4 + SALT_LEN + NONCE_LEN;

/// What a key file holds (the `kind` byte) and so its plaintext length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `1`: a device key, Ed25519 seed (32) ‖ X25519 secret (32).
    Device = 1,
    /// `2`: an organisation root key, Ed25519 seed (32).
    Root = 2,
    /// `3`: an HPKE recipient key such as the records key, X25519 secret (32).
    Hpke = 3,
    /// `4`: an identity-token signing key, Ed25519 seed (32).
    TokenSigning = 4,
}

impl KeyKind {
    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Device),
            2 => Some(Self::Root),
            3 => Some(Self::Hpke),
            4 => Some(Self::TokenSigning),
            _ => None,
        }
    }

    /// Length of the plaintext secret.
    pub fn secret_len(self) -> usize {
        match self {
            Self::Device => 64,
            Self::Root | Self::Hpke | Self::TokenSigning => 32,
        }
    }
}

/// Argon2id cost parameters, always within the bounds readers accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyFileParams {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

impl KeyFileParams {
    /// Least memory, KiB (19 MiB, the OWASP minimum for Argon2id).
    pub const MIN_M_COST_KIB: u32 = 19_456;
    /// Most memory, KiB (1 GiB).
    pub const MAX_M_COST_KIB: u32 = 1_048_576;
    /// Fewest passes.
    pub const MIN_T_COST: u32 = 2;
    /// Most passes.
    pub const MAX_T_COST: u32 = 10;
    /// Fewest lanes.
    pub const MIN_P_COST: u32 = 1;
    /// Most lanes.
    pub const MAX_P_COST: u32 = 4;
    /// The default: OWASP's Argon2id recommendation, m = 19456 KiB, t = 2, p = 1.
    pub const OWASP: Self = Self {
        m_cost_kib: Self::MIN_M_COST_KIB,
        t_cost: 2,
        p_cost: 1,
    };

    /// Parameters within the bounds, else [`Error::WeakOrExcessiveKdfParameters`].
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self> {
        let ok = (Self::MIN_M_COST_KIB..=Self::MAX_M_COST_KIB).contains(&m_cost_kib)
            && (Self::MIN_T_COST..=Self::MAX_T_COST).contains(&t_cost)
            && (Self::MIN_P_COST..=Self::MAX_P_COST).contains(&p_cost);
        if ok {
            Ok(Self {
                m_cost_kib,
                t_cost,
                p_cost,
            })
        } else {
            Err(Error::WeakOrExcessiveKdfParameters)
        }
    }

    /// Memory in KiB.
    pub fn m_cost_kib(&self) -> u32 {
        self.m_cost_kib
    }

    /// Passes.
    pub fn t_cost(&self) -> u32 {
        self.t_cost
    }

    /// Lanes.
    pub fn p_cost(&self) -> u32 {
        self.p_cost
    }
}

impl Default for KeyFileParams {
    fn default() -> Self {
        Self::OWASP
    }
}

/// What a key file's header says, readable without the passphrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyFileInfo {
    /// The kind of key inside.
    pub kind: KeyKind,
    /// The Argon2id parameters.
    pub params: KeyFileParams,
}

/// Checks a key file's structure and bounds and returns its header (no KDF run).
pub fn inspect(bytes: &[u8]) -> Result<KeyFileInfo> {
    let f = parse(bytes)?;
    Ok(KeyFileInfo {
        kind: f.kind,
        params: f.params,
    })
}

/// Encrypts a device key (kind 1).
pub fn seal_device_key(
    key: &DeviceSecretKey,
    passphrase: &[u8],
    params: KeyFileParams,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    seal(
        KeyKind::Device,
        key.dangerous_expose_bytes().as_ref(),
        passphrase,
        params,
        rng,
    )
}

/// Decrypts a device key (kind 1).
pub fn open_device_key(bytes: &[u8], passphrase: &[u8]) -> Result<DeviceSecretKey> {
    let (seed, hpke) = split_64(&open(KeyKind::Device, bytes, passphrase)?)?;
    Ok(DeviceSecretKey::dangerous_from_bytes(&seed, *hpke))
}

/// Encrypts an organisation root key (kind 2).
pub fn seal_root_key(
    key: &RootSecretKey,
    passphrase: &[u8],
    params: KeyFileParams,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    seal(
        KeyKind::Root,
        key.dangerous_expose_bytes().as_ref(),
        passphrase,
        params,
        rng,
    )
}

/// Decrypts an organisation root key (kind 2).
pub fn open_root_key(bytes: &[u8], passphrase: &[u8]) -> Result<RootSecretKey> {
    let seed = to_32(&open(KeyKind::Root, bytes, passphrase)?)?;
    Ok(RootSecretKey::dangerous_from_bytes(&seed))
}

/// Encrypts an HPKE recipient key, e.g. the records key (kind 3).
pub fn seal_hpke_key(
    key: &HpkeSecretKey,
    passphrase: &[u8],
    params: KeyFileParams,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    seal(
        KeyKind::Hpke,
        key.dangerous_expose_bytes(),
        passphrase,
        params,
        rng,
    )
}

/// Decrypts an HPKE recipient key (kind 3).
pub fn open_hpke_key(bytes: &[u8], passphrase: &[u8]) -> Result<HpkeSecretKey> {
    let secret = to_32(&open(KeyKind::Hpke, bytes, passphrase)?)?;
    Ok(HpkeSecretKey::dangerous_from_bytes(*secret))
}

/// Encrypts an identity-token signing key (kind 4).
pub fn seal_token_signing_key(
    key: &TokenSigningKey,
    passphrase: &[u8],
    params: KeyFileParams,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    seal(
        KeyKind::TokenSigning,
        key.dangerous_expose_bytes().as_ref(),
        passphrase,
        params,
        rng,
    )
}

/// Decrypts an identity-token signing key (kind 4).
pub fn open_token_signing_key(bytes: &[u8], passphrase: &[u8]) -> Result<TokenSigningKey> {
    let seed = to_32(&open(KeyKind::TokenSigning, bytes, passphrase)?)?;
    Ok(TokenSigningKey::dangerous_from_bytes(&seed))
}

/// A parsed key file, borrowing the input.
struct Parsed<'a> {
    kind: KeyKind,
    params: KeyFileParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    header: &'a [u8],
    ciphertext: &'a [u8],
}

/// Encrypts `secret` as a key file of `kind` (§4.3.3).
fn seal(
    kind: KeyKind,
    secret: &[u8],
    passphrase: &[u8],
    params: KeyFileParams,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    if passphrase.is_empty() {
        return Err(Error::InvalidField {
            structure: Structure::KeyFile,
            field: "passphrase",
        });
    }
    if secret.len() != kind.secret_len() {
        return Err(Error::InvalidField {
            structure: Structure::KeyFile,
            field: "secret",
        });
    }
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);

    let mut w = Writer::with_capacity(HEADER_LEN + 4 + secret.len() + TAG_LEN);
    w.raw(&MAGIC);
    w.u8(KEY_FILE_VERSION);
    w.u8(kind as u8);
    w.u8(KDF_ARGON2ID);
    w.u32(params.m_cost_kib);
    w.u32(params.t_cost);
    w.u32(params.p_cost);
    w.raw(&salt);
    w.raw(&nonce);

    let key = derive_key(passphrase, &salt, params)?;
    let ciphertext = cipher(&key)?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: secret,
                aad: &label::signing_input(labels::KEY_FILE, w.as_slice()),
            },
        )
        .map_err(|_| Error::TooLarge {
            structure: Structure::KeyFile,
            field: "secret",
        })?;
    w.opaque32(&ciphertext);
    Ok(w.into_vec())
}

/// Parses, checks the kind, derives the key and decrypts (§4.3.4).
fn open(expected: KeyKind, bytes: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let f = parse(bytes)?;
    if f.kind != expected {
        return Err(Error::WrongKeyKind);
    }
    let key = derive_key(passphrase, &f.salt, f.params)?;
    let plaintext = cipher(&key)?
        .decrypt(
            &XNonce::from(f.nonce),
            Payload {
                msg: f.ciphertext,
                aad: &label::signing_input(labels::KEY_FILE, f.header),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| Error::WrongPassphrase)?;
    if plaintext.len() != expected.secret_len() {
        return Err(Error::InvalidField {
            structure: Structure::KeyFile,
            field: "ciphertext",
        });
    }
    Ok(plaintext)
}

/// Structure and bounds, in the order of §4.3.4; runs no KDF.
fn parse(bytes: &[u8]) -> Result<Parsed<'_>> {
    let mut r = Reader::new(bytes, Structure::KeyFile);
    if r.array::<8>()? != MAGIC {
        return Err(r.invalid("magic"));
    }
    let version = r.u8()?;
    if version != KEY_FILE_VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    let kind = KeyKind::from_u8(r.u8()?).ok_or(r.invalid("kind"))?;
    if r.u8()? != KDF_ARGON2ID {
        return Err(r.invalid("kdf"));
    }
    let params = KeyFileParams::new(r.u32()?, r.u32()?, r.u32()?)?;
    let salt = r.array()?;
    let nonce = r.array()?;
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or(Error::Truncated(Structure::KeyFile))?;
    let ciphertext = r.opaque32("ciphertext", KeyKind::Device.secret_len() + TAG_LEN)?;
    if ciphertext.len() != kind.secret_len() + TAG_LEN {
        return Err(r.invalid("ciphertext"));
    }
    r.finish()?;
    Ok(Parsed {
        kind,
        params,
        salt,
        nonce,
        header,
        ciphertext,
    })
}

/// `Argon2id(passphrase, salt, m, t, p)`, version 0x13, 32-byte output, no secret or data.
fn derive_key(
    passphrase: &[u8],
    salt: &[u8; SALT_LEN],
    params: KeyFileParams,
) -> Result<Zeroizing<[u8; 32]>> {
    let p = Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
        .map_err(|_| Error::WeakOrExcessiveKdfParameters)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(passphrase, salt, key.as_mut())
        // Only an allocation failure or a passphrase over 4 GiB gets here.
        .map_err(|_| Error::WeakOrExcessiveKdfParameters)?;
    Ok(key)
}

fn cipher(key: &[u8; 32]) -> Result<XChaCha20Poly1305> {
    // From a slice, so no unzeroized copy of the key lands on the stack.
    XChaCha20Poly1305::new_from_slice(key).map_err(|_| Error::WrongPassphrase)
}

fn to_32(bytes: &[u8]) -> Result<Secret32> {
    let mut out = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(Error::InvalidField {
            structure: Structure::KeyFile,
            field: "ciphertext",
        });
    }
    out.copy_from_slice(bytes);
    Ok(out)
}

/// A 32-byte secret that is wiped on drop.
type Secret32 = Zeroizing<[u8; 32]>;

fn split_64(bytes: &[u8]) -> Result<(Secret32, Secret32)> {
    let (a, b) = bytes.split_at_checked(32).ok_or(Error::InvalidField {
        structure: Structure::KeyFile,
        field: "ciphertext",
    })?;
    Ok((to_32(a)?, to_32(b)?))
}
