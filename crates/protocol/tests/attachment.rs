//! API tests of chunked attachment encryption (docs/protocol.md §11):
//! streaming round trips in odd-sized pieces, an independent rebuild of the
//! file layout from the primitives, and every rejection — truncation,
//! extension, reordered or foreign chunks, wrong reference or conversation,
//! modified bytes, non-zero padding, a wrong declared size.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod attachment {
    use chacha20poly1305::aead::{Aead, KeyInit};
    use chacha20poly1305::{ChaCha20Poly1305, Nonce};
    use confide_protocol::attachment::{
        AttachmentDecryptor, AttachmentEncryptor, AttachmentRef, CHUNK_SIZE, HEADER_LEN,
        MAX_ATTACHMENT_SIZE, TAG_LEN, decrypt_attachment, encrypt_attachment, padded_len,
    };
    use confide_protocol::codec::{Reader, Writer};
    use confide_protocol::label::sha256;
    use confide_protocol::padding::padme;
    use confide_protocol::{ConversationId, Error, Result, Structure};
    use hkdf::Hkdf;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};
    use sha2::Sha256;

    const CONV: ConversationId = ConversationId([7; 32]);
    const SEALED: usize = CHUNK_SIZE + TAG_LEN;
    /// Offsets of the reference's fields in its encoding (§11.5).
    const KEY: usize = 16;
    const SIZE: usize = 48;
    const PADDED: usize = 56;
    const SHA: usize = 64;
    const COMMITMENT: usize = 96;

    fn plaintext(size: usize) -> Vec<u8> {
        (0..size).map(|i| (i % 251) as u8 + 1).collect()
    }

    fn encode(r: &AttachmentRef) -> Vec<u8> {
        let mut w = Writer::new();
        r.write(&mut w);
        w.into_vec()
    }

    fn decode(bytes: &[u8]) -> Result<AttachmentRef> {
        let mut rd = Reader::new(bytes, Structure::Body);
        let r = AttachmentRef::read(&mut rd)?;
        rd.finish()?;
        Ok(r)
    }

    /// `r` with one byte of its encoding flipped.
    fn flipped(r: &AttachmentRef, at: usize) -> AttachmentRef {
        let mut b = encode(r);
        b[at] ^= 1;
        decode(&b).unwrap()
    }

    /// Streams `plain` through an encryptor in pieces of varying odd sizes.
    fn encrypt_in_pieces(plain: &[u8], seed: u64) -> (Vec<u8>, AttachmentRef) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut enc = AttachmentEncryptor::new(&CONV, plain.len() as u64, &mut rng).unwrap();
        let mut out = Vec::new();
        let mut rest = plain;
        for step in [1usize, 7, 65_535, 3, 70_001].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at((*step).min(rest.len()));
            out.extend(enc.update(head));
            rest = tail;
        }
        let (tail, r) = enc.finish().unwrap();
        out.extend(tail);
        (out, r)
    }

    fn decrypt_in_pieces(r: &AttachmentRef, ct: &[u8], piece: usize) -> Result<Vec<u8>> {
        let mut dec = AttachmentDecryptor::new(&CONV, r);
        let mut out = Vec::new();
        for p in ct.chunks(piece) {
            out.extend(dec.update(p)?);
        }
        dec.finish()?;
        Ok(out)
    }

    fn ct_of(size: usize, seed: u64) -> (Vec<u8>, AttachmentRef) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        encrypt_attachment(&CONV, &plaintext(size), &mut rng).unwrap()
    }

    /// The payload cipher of a file, rebuilt from §11.3 with the primitives.
    fn payload_cipher(file_key: &[u8], nonce: &[u8], id: &[u8]) -> (ChaCha20Poly1305, Vec<u8>) {
        let mut info = vec![26u8];
        info.extend_from_slice(b"confide/v1/attachment-keys");
        info.extend_from_slice(&CONV.0);
        info.extend_from_slice(id);
        let mut okm = [0u8; 64];
        Hkdf::<Sha256>::new(Some(nonce), file_key)
            .expand(&info, &mut okm)
            .unwrap();
        let cipher = ChaCha20Poly1305::new_from_slice(&okm[..32]).unwrap();
        (cipher, okm[32..].to_vec())
    }

    fn chunk_nonce(i: usize, last: bool) -> Nonce {
        let mut n = [0u8; 12];
        n[3..11].copy_from_slice(&(i as u64).to_be_bytes());
        n[11] = u8::from(last);
        Nonce::from(n)
    }

    #[test]
    fn round_trips_in_odd_pieces() {
        for size in [0usize, 1, 65_535, 65_536, 65_537, 200_000] {
            let plain = plaintext(size);
            let (ct, r) = encrypt_in_pieces(&plain, size as u64);
            assert_eq!(r.size(), size as u64);
            assert_eq!(r.padded_size(), padded_len(size as u64));
            assert_eq!(ct.len() as u64, r.ciphertext_len());
            assert_eq!(r.ciphertext_sha256(), &sha256(&ct));
            // Same seed, one shot: byte-identical.
            assert_eq!(ct_of(size, size as u64).0, ct);
            for piece in [1usize, 13, SEALED, 100_000] {
                if piece == 1 && size > 70_000 {
                    continue;
                }
                let got = decrypt_in_pieces(&r, &ct, piece).unwrap();
                assert_eq!(got, plain, "size {size}, pieces of {piece}");
            }
            assert_eq!(decrypt_attachment(&CONV, &r, &ct).unwrap(), plain);
            let bytes = encode(&r);
            assert_eq!(bytes.len(), AttachmentRef::ENCODED_LEN);
            let back = decode(&bytes).unwrap();
            assert_eq!(decrypt_attachment(&CONV, &back, &ct).unwrap(), plain);
        }
    }

    #[test]
    fn padding_spanning_several_chunks_round_trips() {
        let size = (1 << 22) + 1;
        let plain = plaintext(size);
        let (ct, r) = encrypt_in_pieces(&plain, 11);
        assert!(r.padded_size() - r.size() > CHUNK_SIZE as u64);
        assert_eq!(ct.len() as u64, r.ciphertext_len());
        assert_eq!(decrypt_in_pieces(&r, &ct, 50_000).unwrap(), plain);
    }

    #[test]
    fn layout_matches_the_spec() {
        let plain = plaintext(70_000);
        let (ct, r) = ct_of(70_000, 5);
        // The encryptor draws file_key, attachment_id, nonce in that order.
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let (mut key, mut id, mut nonce) = ([0u8; 32], [0u8; 16], [0u8; 16]);
        rng.fill_bytes(&mut key);
        rng.fill_bytes(&mut id);
        rng.fill_bytes(&mut nonce);
        let (cipher, commitment) = payload_cipher(&key, &nonce, &id);
        let mut padded = plain.clone();
        padded.resize(padme(70_000) as usize, 0);
        let mut want = vec![1u8];
        want.extend_from_slice(&nonce);
        let n = padded.chunks(CHUNK_SIZE).count();
        for (i, c) in padded.chunks(CHUNK_SIZE).enumerate() {
            want.extend(cipher.encrypt(&chunk_nonce(i, i + 1 == n), c).unwrap());
        }
        assert_eq!(ct, want);
        let bytes = encode(&r);
        assert_eq!(bytes[..KEY], id);
        assert_eq!(bytes[KEY..SIZE], key);
        assert_eq!(bytes[SIZE..PADDED], 70_000u64.to_be_bytes());
        assert_eq!(bytes[PADDED..SHA], padme(70_000).to_be_bytes());
        assert_eq!(bytes[SHA..COMMITMENT], sha256(&ct));
        assert_eq!(bytes[COMMITMENT..], commitment[..]);
    }

    #[test]
    fn truncation_is_detected() {
        let (ct, r) = ct_of(200_000, 1);
        let at_boundary = HEADER_LEN + 2 * SEALED;
        let mid_chunk = at_boundary + 100;
        for len in [
            0,
            5,
            HEADER_LEN,
            HEADER_LEN + SEALED,
            at_boundary,
            mid_chunk,
        ] {
            let got = decrypt_attachment(&CONV, &r, &ct[..len]);
            assert_eq!(got, Err(Error::AttachmentTruncated), "len {len}");
        }
        let got = decrypt_attachment(&CONV, &r, &ct[..ct.len() - 1]);
        assert_eq!(got, Err(Error::AttachmentTruncated));
    }

    #[test]
    fn extension_is_detected() {
        let (ct, r) = ct_of(200_000, 1);
        let (other, _) = ct_of(200_000, 2);
        let mut one_byte = ct.clone();
        one_byte.push(0);
        let mut extra_chunk = ct.clone();
        extra_chunk.extend_from_slice(&ct[HEADER_LEN..HEADER_LEN + SEALED]);
        let mut foreign_chunk = ct.clone();
        foreign_chunk.extend_from_slice(&other[HEADER_LEN..HEADER_LEN + SEALED]);
        for bad in [one_byte, extra_chunk, foreign_chunk] {
            let got = decrypt_attachment(&CONV, &r, &bad);
            assert_eq!(got, Err(Error::AttachmentExtended));
            let got = decrypt_in_pieces(&r, &bad, 999);
            assert_eq!(got, Err(Error::AttachmentExtended));
        }
        // Errors are sticky: data after a complete file keeps failing.
        let mut dec = AttachmentDecryptor::new(&CONV, &r);
        dec.update(&ct).unwrap();
        assert_eq!(dec.update(&[0]), Err(Error::AttachmentExtended));
        assert_eq!(dec.update(&[]), Err(Error::AttachmentExtended));
        assert_eq!(dec.finish(), Err(Error::AttachmentExtended));
    }

    #[test]
    fn reordered_and_swapped_chunks_fail() {
        let (ct, r) = ct_of(200_000, 1);
        let (other, _) = ct_of(200_000, 2);
        let chunk = |f: &[u8], i: usize| f[HEADER_LEN + i * SEALED..][..SEALED].to_vec();
        let mut reordered = ct[..HEADER_LEN].to_vec();
        reordered.extend(chunk(&ct, 1));
        reordered.extend(chunk(&ct, 0));
        reordered.extend_from_slice(&ct[HEADER_LEN + 2 * SEALED..]);
        let mut swapped = ct.clone();
        swapped[HEADER_LEN + SEALED..][..SEALED].copy_from_slice(&chunk(&other, 1));
        for bad in [reordered, swapped] {
            assert_eq!(bad.len(), ct.len());
            let got = decrypt_attachment(&CONV, &r, &bad);
            assert_eq!(got, Err(Error::DecryptionFailed));
        }
    }

    #[test]
    fn wrong_reference_or_conversation_fails() {
        let (ct, r) = ct_of(1000, 3);
        let mut dec = AttachmentDecryptor::new(&ConversationId([8; 32]), &r);
        assert_eq!(dec.update(&ct), Err(Error::CommitmentMismatch));
        let cases = [
            (SHA, Error::AttachmentHashMismatch),
            (COMMITMENT + 31, Error::CommitmentMismatch),
            (KEY, Error::CommitmentMismatch),
            (0, Error::CommitmentMismatch), // attachment id
        ];
        for (at, want) in cases {
            let got = decrypt_attachment(&CONV, &flipped(&r, at), &ct);
            assert_eq!(got, Err(want), "ref byte {at}");
        }
        assert!(decrypt_attachment(&CONV, &r, &ct).is_ok());
    }

    #[test]
    fn modified_bytes_fail() {
        let (ct, r) = ct_of(70_000, 4);
        let cases = [
            (0, Error::UnsupportedVersion(0)),
            (1, Error::CommitmentMismatch),
            (HEADER_LEN, Error::DecryptionFailed),
            (HEADER_LEN + CHUNK_SIZE, Error::DecryptionFailed),
            (ct.len() - 1, Error::DecryptionFailed),
        ];
        for (at, want) in cases {
            let mut bad = ct.clone();
            bad[at] ^= 1;
            let got = decrypt_attachment(&CONV, &r, &bad);
            assert_eq!(got, Err(want), "byte {at}");
        }
    }

    #[test]
    fn non_zero_padding_from_a_sender_is_rejected() {
        // A sender holding the key could seal non-zero padding and announce
        // the matching hash; receivers must still refuse it.
        let (mut ct, r) = ct_of(1000, 6);
        let mut refb = encode(&r);
        let (cipher, _) = payload_cipher(&refb[KEY..SIZE], &ct[1..HEADER_LEN], &refb[..KEY]);
        let mut padded = plaintext(1000);
        padded.resize(r.padded_size() as usize, 0);
        *padded.last_mut().unwrap() = 1;
        ct.truncate(HEADER_LEN);
        ct.extend(cipher.encrypt(&chunk_nonce(0, true), &padded[..]).unwrap());
        refb[SHA..COMMITMENT].copy_from_slice(&sha256(&ct));
        let got = decrypt_attachment(&CONV, &decode(&refb).unwrap(), &ct);
        assert!(matches!(
            got,
            Err(Error::InvalidField {
                structure: Structure::Attachment,
                field: "padding"
            })
        ));
    }

    #[test]
    fn encryptor_checks_the_declared_size() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut enc = AttachmentEncryptor::new(&CONV, 10, &mut rng).unwrap();
        enc.update(&[1; 9]);
        assert_eq!(enc.finish().err(), Some(Error::AttachmentSizeMismatch));
        let mut enc = AttachmentEncryptor::new(&CONV, 10, &mut rng).unwrap();
        enc.update(&[1; 6]);
        enc.update(&[1; 5]);
        assert_eq!(enc.finish().err(), Some(Error::AttachmentSizeMismatch));
        let too_big = AttachmentEncryptor::new(&CONV, MAX_ATTACHMENT_SIZE + 1, &mut rng);
        assert!(matches!(too_big, Err(Error::TooLarge { .. })));
        assert_eq!(padme(MAX_ATTACHMENT_SIZE), MAX_ATTACHMENT_SIZE);
    }

    #[test]
    fn reference_decoding_is_strict_and_debug_redacts() {
        let (_, r) = ct_of(100, 10);
        let good = encode(&r);
        let mut bad_padded = good.clone();
        bad_padded[SHA - 1] ^= 1; // low byte of padded_size
        assert!(matches!(
            decode(&bad_padded),
            Err(Error::InvalidField { .. })
        ));
        let mut huge = good.clone();
        huge[SIZE..PADDED].copy_from_slice(&(MAX_ATTACHMENT_SIZE + 1).to_be_bytes());
        huge[PADDED..SHA].copy_from_slice(&padded_len(MAX_ATTACHMENT_SIZE + 1).to_be_bytes());
        assert!(matches!(decode(&huge), Err(Error::TooLarge { .. })));
        assert_eq!(
            decode(&good[..100]).err(),
            Some(Error::Truncated(Structure::Body))
        );
        let shown = format!("{r:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains(&hex::encode(&good[KEY..SIZE])));
    }
}
