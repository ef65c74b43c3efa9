//! Display names sealed to an inbox's members (docs/protocol.md §5.5).
//!
//! Membership statements are served to visitors too, so members' real
//! names travel encrypted: a random book key is sealed (HPKE) to each
//! reader device, and the list of `(device id, display name)` is encrypted
//! under a key derived from it. Visitors see only each member's alias.

use crate::codec::{Reader, Writer, strictly_sorted};
use crate::error::{Error, Result, Structure};
use crate::ids::{DeviceId, InboxId, OrgId, RecipientId, Seq};
use crate::keys::{DeviceSecretKey, PublicIdentity, SEALED_KEY_LEN};
use crate::label::{self, labels};
use crate::membership::MAX_MEMBERS;
use alloc::string::String;
use alloc::vec::Vec;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Maximum display-name length in bytes.
pub const MAX_DISPLAY_NAME: usize = 128;

fn scope(org: OrgId, inbox: InboxId, seq: Seq) -> Vec<u8> {
    let mut s = Vec::with_capacity(40);
    s.extend_from_slice(&org.0);
    s.extend_from_slice(&inbox.0);
    s.extend_from_slice(&seq.0.to_be_bytes());
    s
}

fn book_cipher(book_key: &[u8; 32], scope: &[u8]) -> ChaCha20Poly1305 {
    let hk = Hkdf::<Sha256>::new(None, book_key);
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is within HKDF-SHA256's output limit; expand cannot fail.
    let _ = hk.expand(
        &label::signing_input(labels::NAME_BOOK_KEY, scope),
        key.as_mut(),
    );
    ChaCha20Poly1305::new(&Key::from(*key))
}

fn bad(field: &'static str) -> Error {
    Error::InvalidField {
        structure: Structure::Membership,
        field,
    }
}

/// Seals `names` to `readers` for membership `seq` of `inbox`. Encoding:
/// `u8 version=1 ‖ u16 n ‖ n × (recipient_id[32] ‖ sealed_key[80]) ‖ opaque32 ciphertext`.
pub fn seal_names(
    org: OrgId,
    inbox: InboxId,
    seq: Seq,
    names: &[(DeviceId, String)],
    readers: &[PublicIdentity],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    if readers.len() > MAX_MEMBERS || names.len() > MAX_MEMBERS {
        return Err(bad("name_book"));
    }
    let scope = scope(org, inbox, seq);
    let mut book_key = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(book_key.as_mut());
    let mut sorted: Vec<_> = names.iter().collect();
    sorted.sort_by_key(|(d, _)| *d);
    let mut plain = Writer::new();
    plain.count16(sorted.len());
    for (d, n) in sorted {
        if n.len() > MAX_DISPLAY_NAME {
            return Err(bad("display_name"));
        }
        plain.raw(&d.0);
        plain.opaque8(n.as_bytes());
    }
    let plain = Zeroizing::new(plain.into_vec());
    let ct = book_cipher(&book_key, &scope)
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: &plain,
                aad: &scope,
            },
        )
        .map_err(|_| bad("name_book"))?;
    let info = label::signing_input(labels::NAME_BOOK_SEAL, &scope);
    let mut seals = Vec::with_capacity(readers.len());
    for r in readers {
        seals.push((
            r.hpke.recipient_id(),
            r.hpke.seal(&info, &[], book_key.as_ref(), rng)?,
        ));
    }
    seals.sort_by_key(|(id, _)| *id);
    seals.dedup_by_key(|(id, _)| *id);
    let mut w = Writer::new();
    w.u8(1);
    w.count16(seals.len());
    for (id, s) in &seals {
        w.raw(&id.0);
        w.raw(s);
    }
    w.opaque32(&ct);
    Ok(w.into_vec())
}

/// Opens a name book with a member device's key.
pub fn open_names(
    book: &[u8],
    org: OrgId,
    inbox: InboxId,
    seq: Seq,
    me: &DeviceSecretKey,
) -> Result<Vec<(DeviceId, String)>> {
    let scope = scope(org, inbox, seq);
    let mut r = Reader::new(book, Structure::Membership);
    if r.u8()? != 1 {
        return Err(r.invalid("name_book_version"));
    }
    let n = r.count16("name_book_seals", MAX_MEMBERS)?;
    let mine = me.public().hpke.recipient_id();
    let mut ids = Vec::with_capacity(n);
    let mut my_seal = None;
    for _ in 0..n {
        let id = RecipientId(r.array()?);
        let sealed: [u8; SEALED_KEY_LEN] = r.array()?;
        if id == mine {
            my_seal = Some(sealed);
        }
        ids.push(id);
    }
    let ct = r.opaque32("name_book_ciphertext", crate::membership::MAX_NAME_BOOK)?;
    r.finish()?;
    if !strictly_sorted(ids.iter()) {
        return Err(r_not_canonical());
    }
    let sealed = my_seal.ok_or(Error::NotARecipient)?;
    let info = label::signing_input(labels::NAME_BOOK_SEAL, &scope);
    let key = me.hpke().open(&info, &[], &sealed)?;
    let key: &[u8; 32] = key
        .as_slice()
        .try_into()
        .map_err(|_| Error::DecryptionFailed)?;
    let plain = Zeroizing::new(
        book_cipher(key, &scope)
            .decrypt(
                &Nonce::default(),
                Payload {
                    msg: ct,
                    aad: &scope,
                },
            )
            .map_err(|_| Error::DecryptionFailed)?,
    );
    let mut r = Reader::new(&plain, Structure::Membership);
    let n = r.count16("names", MAX_MEMBERS)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let d = DeviceId(r.array()?);
        let name = r.string8("display_name", MAX_DISPLAY_NAME)?;
        out.push((d, name));
    }
    r.finish()?;
    Ok(out)
}

fn r_not_canonical() -> Error {
    Error::NotCanonical {
        structure: Structure::Membership,
        field: "name_book_seals",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn members_read_names_outsiders_cannot() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let a = DeviceSecretKey::generate(&mut rng);
        let b = DeviceSecretKey::generate(&mut rng);
        let outsider = DeviceSecretKey::generate(&mut rng);
        let names = alloc::vec![
            (a.device_id(), String::from("Alice Example")),
            (b.device_id(), String::from("Bob Example")),
        ];
        let (org, inbox, seq) = (OrgId([1; 16]), InboxId([2; 16]), Seq(3));
        let book =
            seal_names(org, inbox, seq, &names, &[a.public(), b.public()], &mut rng).unwrap();
        let opened = open_names(&book, org, inbox, seq, &b).unwrap();
        assert_eq!(opened.len(), 2);
        assert!(opened.iter().any(|(_, n)| n == "Alice Example"));
        assert_eq!(
            open_names(&book, org, inbox, seq, &outsider),
            Err(Error::NotARecipient)
        );
        assert!(open_names(&book, org, inbox, Seq(4), &a).is_err());
    }
}
