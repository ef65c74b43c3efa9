//! API tests of chunked attachment encryption (docs/protocol.md §11):
//! streaming round trips in odd-sized pieces, an independent rebuild of the
//! file layout from the primitives, and every rejection — truncation,
//! extension, reordered or foreign chunks, wrong reference or conversation,
//! modified bytes, non-zero padding, a wrong declared size — and the same
//! through the piece-by-piece path with the SHA-256 on another thread,
//! whose digest must have taken exactly the pieces of its own stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod attachment {
    use chacha20poly1305::aead::{Aead, KeyInit};
    use chacha20poly1305::{ChaCha20Poly1305, Nonce};
    use confide_protocol::attachment::{
        AttachmentDecryptor, AttachmentEncryptor, AttachmentRef, CHUNK_SIZE, CiphertextPiece,
        HEADER_LEN, MAX_ATTACHMENT_SIZE, TAG_LEN, ciphertext_len, decrypt_attachment,
        encrypt_attachment, padded_len,
    };
    use confide_protocol::codec::{Reader, Writer};
    use confide_protocol::label::sha256;
    use confide_protocol::padding::padme;
    use confide_protocol::{ConversationId, Error, Result, Structure};
    use hkdf::Hkdf;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};
    use sha2::Sha256;
    use std::sync::mpsc;
    use std::thread;

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

    /// Encrypts piece by piece into one buffer, hashing on a second thread.
    fn encrypt_pipelined(plain: &[u8], seed: u64) -> (Vec<u8>, AttachmentRef) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut enc = AttachmentEncryptor::new(&CONV, plain.len() as u64, &mut rng).unwrap();
        let mut digest = enc.detached_digest();
        let mut out = vec![0u8; ciphertext_len(padded_len(plain.len() as u64)) as usize];
        let r = thread::scope(|s| {
            let (tx, rx) = mpsc::channel::<CiphertextPiece<'_>>();
            let hasher = s.spawn(move || {
                rx.into_iter().for_each(|p| digest.absorb(p));
                digest
            });
            let (mut input, mut output) = (plain, &mut out[..]);
            while enc.next_piece_len() > 0 {
                let (now, later) = input.split_at(enc.next_piece_plaintext_len());
                let (slot, rest) = std::mem::take(&mut output).split_at_mut(enc.next_piece_len());
                tx.send(enc.seal_piece(now, slot).unwrap()).unwrap();
                (input, output) = (later, rest);
            }
            assert!(input.is_empty() && output.is_empty());
            drop(tx);
            enc.finish_with_detached_digest(hasher.join().unwrap())
        })
        .unwrap();
        (out, r)
    }

    /// Decrypts piece by piece, hashing on a second thread. Bytes past the
    /// end go to `open_piece` as one piece; a short tail is left unread.
    fn decrypt_pipelined(r: &AttachmentRef, ct: &[u8]) -> Result<Vec<u8>> {
        let mut dec = AttachmentDecryptor::new(&CONV, r);
        let mut digest = dec.detached_digest(&mut ChaCha20Rng::seed_from_u64(99));
        let mut out = Vec::new();
        thread::scope(|s| {
            let (tx, rx) = mpsc::channel::<CiphertextPiece<'_>>();
            let hasher = s.spawn(move || {
                rx.into_iter().for_each(|p| digest.absorb(p));
                digest
            });
            let mut input = ct;
            while !input.is_empty() {
                let n = match dec.next_piece_len() {
                    0 => input.len(),
                    n if n > input.len() => break,
                    n => n,
                };
                let (piece, rest) = input.split_at(n);
                let mut slot = vec![0u8; n.saturating_sub(TAG_LEN)];
                let (kept, piece) = dec.open_piece(piece, &mut slot)?;
                out.extend_from_slice(&slot[..kept]);
                tx.send(piece).unwrap();
                input = rest;
            }
            drop(tx);
            dec.finish_with_detached_digest(hasher.join().unwrap())
        })?;
        Ok(out)
    }

    /// Opens every piece of `ct` on this thread and returns them in order.
    fn open_all<'a>(dec: &mut AttachmentDecryptor, ct: &'a [u8]) -> Vec<CiphertextPiece<'a>> {
        let (mut input, mut slot, mut pieces) = (ct, vec![0u8; CHUNK_SIZE], Vec::new());
        while dec.next_piece_len() > 0 {
            let (piece, rest) = input.split_at(dec.next_piece_len());
            pieces.push(dec.open_piece(piece, &mut slot).unwrap().1);
            input = rest;
        }
        pieces
    }

    #[test]
    fn pipelined_paths_match_the_one_shot_ones() {
        for size in [0usize, 1, 65_536, 65_537, 200_000, (1 << 22) + 1] {
            let plain = plaintext(size);
            let (ct, r) = encrypt_pipelined(&plain, size as u64);
            let (want_ct, want_r) = ct_of(size, size as u64);
            assert_eq!(ct, want_ct, "size {size}");
            assert_eq!(encode(&r), encode(&want_r));
            assert_eq!(decrypt_pipelined(&r, &ct).unwrap(), plain);
        }
    }

    #[test]
    fn pipelined_decryption_rejects_what_the_one_shot_rejects() {
        let (ct, r) = ct_of(200_000, 1);
        let (other, _) = ct_of(200_000, 2);
        let mut bad = vec![
            ct[..ct.len() - 1].to_vec(),
            ct[..HEADER_LEN + SEALED].to_vec(),
        ];
        let mut longer = ct.clone();
        longer.push(0);
        bad.push(longer);
        let mut reordered = ct[..HEADER_LEN].to_vec();
        reordered.extend_from_slice(&ct[HEADER_LEN + SEALED..][..SEALED]);
        reordered.extend_from_slice(&ct[HEADER_LEN..][..SEALED]);
        reordered.extend_from_slice(&ct[HEADER_LEN + 2 * SEALED..]);
        bad.push(reordered);
        let mut swapped = ct.clone();
        swapped[HEADER_LEN..][..SEALED].copy_from_slice(&other[HEADER_LEN..][..SEALED]);
        bad.push(swapped);
        for at in [0, 1, HEADER_LEN, ct.len() - 1] {
            let mut flipped = ct.clone();
            flipped[at] ^= 1;
            bad.push(flipped);
        }
        for b in &bad {
            let want = decrypt_attachment(&CONV, &r, b);
            assert!(want.is_err());
            assert_eq!(decrypt_pipelined(&r, b), want, "len {}", b.len());
        }
        let wrong_hash = flipped(&r, SHA);
        let got = decrypt_pipelined(&wrong_hash, &ct);
        assert_eq!(got, Err(Error::AttachmentHashMismatch));
    }

    #[test]
    fn a_detached_digest_must_take_exactly_its_own_pieces() {
        let (ct, r) = ct_of(200_000, 12);
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let run = |arrange: fn(&mut Vec<CiphertextPiece<'_>>)| {
            let mut rng = ChaCha20Rng::seed_from_u64(14);
            let mut dec = AttachmentDecryptor::new(&CONV, &r);
            let mut digest = dec.detached_digest(&mut rng);
            let mut pieces = open_all(&mut dec, &ct);
            arrange(&mut pieces);
            pieces.into_iter().for_each(|p| digest.absorb(p));
            dec.finish_with_detached_digest(digest)
        };
        assert_eq!(run(|_| {}), Ok(()));
        let skipped = run(|p| drop(p.remove(2)));
        assert_eq!(skipped, Err(Error::AttachmentHashMismatch));
        let reordered = run(|p| p.swap(1, 2));
        assert_eq!(reordered, Err(Error::AttachmentHashMismatch));

        // Two decryptions of the same attachment: each digest saw a valid
        // file, but only its own decryptor may accept it.
        let mut one = AttachmentDecryptor::new(&CONV, &r);
        let mut two = AttachmentDecryptor::new(&CONV, &r);
        let (mut d1, mut d2) = (one.detached_digest(&mut rng), two.detached_digest(&mut rng));
        open_all(&mut one, &ct)
            .into_iter()
            .for_each(|p| d1.absorb(p));
        open_all(&mut two, &ct)
            .into_iter()
            .for_each(|p| d2.absorb(p));
        assert_eq!(
            one.finish_with_detached_digest(d2),
            Err(Error::AttachmentHashMismatch)
        );
        assert_eq!(
            two.finish_with_detached_digest(d1),
            Err(Error::AttachmentHashMismatch)
        );

        // Pieces opened before any digest was issued count for none.
        let mut early = AttachmentDecryptor::new(&CONV, &r);
        let pieces = open_all(&mut early, &ct);
        let mut late = early.detached_digest(&mut rng);
        pieces.into_iter().for_each(|p| late.absorb(p));
        assert_eq!(
            early.finish_with_detached_digest(late),
            Err(Error::AttachmentHashMismatch)
        );

        // Pieces bypass the decryptor's own hash, so `finish` refuses them.
        let mut dec = AttachmentDecryptor::new(&CONV, &r);
        let _digest = dec.detached_digest(&mut rng);
        drop(open_all(&mut dec, &ct));
        assert_eq!(dec.finish(), Err(Error::AttachmentHashMismatch));

        // The header through `update`, the chunks as pieces: no digest fits.
        let mut dec = AttachmentDecryptor::new(&CONV, &r);
        let mut digest = dec.detached_digest(&mut rng);
        assert_eq!(dec.update(&ct[..HEADER_LEN]), Ok(vec![]));
        open_all(&mut dec, &ct[HEADER_LEN..])
            .into_iter()
            .for_each(|p| digest.absorb(p));
        assert_eq!(
            dec.finish_with_detached_digest(digest),
            Err(Error::AttachmentHashMismatch)
        );
    }

    #[test]
    fn open_piece_checks_its_lengths() {
        let (ct, r) = ct_of(70_000, 15);
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let mut dec = AttachmentDecryptor::new(&CONV, &r);
        let _digest = dec.detached_digest(&mut rng);
        let mut slot = vec![0u8; CHUNK_SIZE];
        assert_eq!(dec.next_piece_len(), HEADER_LEN);
        let got = dec
            .open_piece(&ct[..HEADER_LEN + 1], &mut slot)
            .map(|(n, _)| n);
        assert_eq!(got, Err(Error::AttachmentSizeMismatch));
        let got = dec.open_piece(&ct[..HEADER_LEN], &mut slot).map(|(n, _)| n);
        assert_eq!(got, Err(Error::AttachmentSizeMismatch), "errors are sticky");

        let mut dec = AttachmentDecryptor::new(&CONV, &r);
        let _header = dec.open_piece(&ct[..HEADER_LEN], &mut []).unwrap();
        assert_eq!(dec.next_piece_len(), SEALED);
        let got = dec.open_piece(&ct[HEADER_LEN..][..SEALED], &mut slot[..100]);
        assert_eq!(got.map(|(n, _)| n), Err(Error::AttachmentSizeMismatch));
    }

    #[test]
    fn the_encryptor_accepts_only_its_own_complete_digest() {
        let plain = plaintext(200_000);
        let pieces_of = |enc: &mut AttachmentEncryptor, out: &mut Vec<u8>| {
            let mut input = &plain[..];
            while enc.next_piece_len() > 0 {
                let (now, later) = input.split_at(enc.next_piece_plaintext_len());
                let mut slot = vec![0u8; enc.next_piece_len()];
                out.extend_from_slice(enc.seal_piece(now, &mut slot).unwrap().as_bytes());
                input = later;
            }
        };
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        let new = |rng: &mut ChaCha20Rng| AttachmentEncryptor::new(&CONV, 200_000, rng).unwrap();

        // Pieces bypass the encryptor's own hash, so `finish` refuses them.
        let mut enc = new(&mut rng);
        pieces_of(&mut enc, &mut Vec::new());
        assert_eq!(enc.finish().err(), Some(Error::AttachmentHashMismatch));

        // A digest of another encryptor, or one that missed a piece.
        let (mut a, b) = (new(&mut rng), new(&mut rng));
        let mut digest = b.detached_digest();
        let mut slot = vec![0u8; HEADER_LEN];
        digest.absorb(a.seal_piece(&[], &mut slot).unwrap());
        let mut ct = Vec::new();
        pieces_of(&mut a, &mut ct);
        let got = a.finish_with_detached_digest(digest);
        assert_eq!(got.err(), Some(Error::AttachmentHashMismatch));

        // Wrong plaintext length for the piece; unfinished file.
        let mut enc = new(&mut rng);
        let mut slot = vec![0u8; SEALED];
        let _header = enc.seal_piece(&[], &mut slot).unwrap();
        let got = enc
            .seal_piece(&plain[..10], &mut slot)
            .map(|p| p.as_bytes().len());
        assert_eq!(got, Err(Error::AttachmentSizeMismatch));
        let enc = new(&mut rng);
        let digest = enc.detached_digest();
        let got = enc.finish_with_detached_digest(digest);
        assert_eq!(got.err(), Some(Error::AttachmentSizeMismatch));
    }
}
