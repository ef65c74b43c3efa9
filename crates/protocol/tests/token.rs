//! API tests of visitor identity tokens (docs/protocol.md §12): round
//! trips, every rejection of `verify_signed` / `verify_hmac`, decoding of
//! hostile bytes, and the known-answer vectors printed in §12.

#[cfg(test)]
mod token {
    use confide_protocol::codec::{Reader, Writer};
    use confide_protocol::token::{
        IdentityClaims, IdentityStrength, IdentityToken, MAX_TOKEN_LEN, TokenKey, TokenScheme,
        TokenSigningKey, issue_hmac, issue_signed, verify_hmac, verify_signed,
    };
    use confide_protocol::{DeviceId, Error, InboxId, OrgId, Structure, Timestamp};
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const ORG: OrgId = OrgId([0x11; 16]);
    const INBOX: InboxId = InboxId([0x22; 16]);
    const DEVICE: DeviceId = DeviceId([0x33; 32]);
    const T0: u64 = 1_700_000_000;
    const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

    fn claims() -> IdentityClaims {
        IdentityClaims {
            key_id: "acme-2024".into(),
            org: ORG,
            inbox: INBOX,
            subject: "user-42".into(),
            name: "Ada Lovelace".into(),
            email: "ada@example.com".into(),
            issued_at: Timestamp(T0),
            expires_at: Timestamp(T0 + 300),
            token_id: [0x44; 16],
            visitor_device: DEVICE,
        }
    }

    fn signer() -> (TokenSigningKey, Vec<TokenKey>) {
        let key = TokenSigningKey::dangerous_from_bytes(&[0x55; 32]);
        let keys = vec![TokenKey::new("acme-2024", key.public()).unwrap()];
        (key, keys)
    }

    fn signed(c: IdentityClaims) -> (IdentityToken, Vec<TokenKey>) {
        let (key, keys) = signer();
        (issue_signed(c, &key).unwrap(), keys)
    }

    fn check_signed(c: IdentityClaims, now: u64) -> Result<IdentityStrength, Error> {
        let (tok, keys) = signed(c);
        verify_signed(&tok, &keys, ORG, INBOX, DEVICE, Timestamp(now)).map(|v| v.strength())
    }

    #[test]
    fn signed_round_trip() {
        let (tok, keys) = signed(claims());
        let bytes = tok.encode();
        let back = IdentityToken::decode(&bytes).unwrap();
        assert_eq!(back, tok);
        assert_eq!(back.scheme(), TokenScheme::Ed25519);
        let v = verify_signed(&back, &keys, ORG, INBOX, DEVICE, Timestamp(T0 + 10)).unwrap();
        assert_eq!(v.strength(), IdentityStrength::AgentVerified);
        assert_eq!(v.claims(), &claims());
        assert!(bytes.len() <= MAX_TOKEN_LEN);
    }

    #[test]
    fn hmac_round_trip() {
        let tok = issue_hmac(claims(), SECRET).unwrap();
        let back = IdentityToken::decode(&tok.encode()).unwrap();
        assert_eq!(back, tok);
        assert_eq!(back.scheme(), TokenScheme::HmacSha256);
        let v = verify_hmac(&back, SECRET, ORG, INBOX, DEVICE, Timestamp(T0)).unwrap();
        assert_eq!(v.strength(), IdentityStrength::ServerVerified);
        assert_eq!(v.into_claims(), claims());
    }

    #[test]
    fn wrong_device_is_refused() {
        let (tok, keys) = signed(claims());
        let other = DeviceId([0x34; 32]);
        assert_eq!(
            verify_signed(&tok, &keys, ORG, INBOX, other, Timestamp(T0)),
            Err(Error::TokenWrongDevice)
        );
        let tok = issue_hmac(claims(), SECRET).unwrap();
        assert_eq!(
            verify_hmac(&tok, SECRET, ORG, INBOX, other, Timestamp(T0)),
            Err(Error::TokenWrongDevice)
        );
    }

    #[test]
    fn validity_period_has_sixty_seconds_of_skew_before_issue() {
        let ok = Ok(IdentityStrength::AgentVerified);
        assert_eq!(check_signed(claims(), T0 + 300), ok);
        assert_eq!(check_signed(claims(), T0 + 301), Err(Error::TokenExpired));
        assert_eq!(check_signed(claims(), T0 - 60), ok);
        assert_eq!(check_signed(claims(), T0 - 61), Err(Error::TokenExpired));
        let tok = issue_hmac(claims(), SECRET).unwrap();
        assert_eq!(
            verify_hmac(&tok, SECRET, ORG, INBOX, DEVICE, Timestamp(T0 + 301)),
            Err(Error::TokenExpired)
        );
    }

    #[test]
    fn lifetime_over_ten_minutes_is_refused() {
        let mut c = claims();
        c.expires_at = Timestamp(T0 + 600);
        assert_eq!(
            check_signed(c.clone(), T0),
            Ok(IdentityStrength::AgentVerified)
        );
        c.expires_at = Timestamp(T0 + 601);
        assert_eq!(check_signed(c, T0), Err(Error::TokenLifetimeTooLong));
    }

    #[test]
    fn unknown_or_substituted_key_is_refused() {
        let (tok, mut keys) = signed(claims());
        keys[0].key_id = "acme-2025".into();
        assert_eq!(
            verify_signed(&tok, &keys, ORG, INBOX, DEVICE, Timestamp(T0)),
            Err(Error::TokenUnknownKey)
        );
        assert_eq!(
            verify_signed(&tok, &[], ORG, INBOX, DEVICE, Timestamp(T0)),
            Err(Error::TokenUnknownKey)
        );
        let other = TokenSigningKey::generate(&mut ChaCha20Rng::seed_from_u64(9));
        let keys = vec![TokenKey::new("acme-2024", other.public()).unwrap()];
        assert_eq!(
            verify_signed(&tok, &keys, ORG, INBOX, DEVICE, Timestamp(T0)),
            Err(Error::BadSignature(Structure::IdentityToken))
        );
    }

    #[test]
    fn wrong_org_or_inbox_is_refused() {
        let (tok, keys) = signed(claims());
        let wrong = Err(Error::WrongScope(Structure::IdentityToken));
        let now = Timestamp(T0);
        let other_org = OrgId([0x12; 16]);
        let other_inbox = InboxId([0x23; 16]);
        assert_eq!(
            verify_signed(&tok, &keys, other_org, INBOX, DEVICE, now),
            wrong
        );
        assert_eq!(
            verify_signed(&tok, &keys, ORG, other_inbox, DEVICE, now),
            wrong
        );
        let tok = issue_hmac(claims(), SECRET).unwrap();
        assert_eq!(
            verify_hmac(&tok, SECRET, ORG, other_inbox, DEVICE, now),
            wrong
        );
    }

    /// Flipping any one bit of an encoded token makes it undecodable or unverifiable.
    #[test]
    fn every_tampered_byte_is_refused() {
        let (tok, keys) = signed(claims());
        let hmac = issue_hmac(claims(), SECRET).unwrap();
        for (bytes, is_signed) in [(tok.encode(), true), (hmac.encode(), false)] {
            for i in 0..bytes.len() {
                let mut bad = bytes.clone();
                bad[i] ^= 0x01;
                let Ok(t) = IdentityToken::decode(&bad) else {
                    continue;
                };
                let now = Timestamp(T0);
                let res = if is_signed {
                    verify_signed(&t, &keys, ORG, INBOX, DEVICE, now)
                } else {
                    verify_hmac(&t, SECRET, ORG, INBOX, DEVICE, now)
                };
                assert!(res.is_err(), "byte {i} flipped still verifies");
            }
        }
    }

    #[test]
    fn tampered_body_or_signature_is_a_bad_signature() {
        let (tok, keys) = signed(claims());
        let bad_sig = Err(Error::BadSignature(Structure::IdentityToken));
        let now = Timestamp(T0);
        let mut bytes = tok.encode();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x80;
        let t = IdentityToken::decode(&bytes).unwrap();
        assert_eq!(verify_signed(&t, &keys, ORG, INBOX, DEVICE, now), bad_sig);
        // The name "Ada Lovelace" becomes "Ada Lovelacf".
        let mut bytes = tok.encode();
        let pos = bytes.windows(4).position(|w| w == b"lace").unwrap() + 3;
        bytes[pos] = b'f';
        let t = IdentityToken::decode(&bytes).unwrap();
        assert_eq!(t.claims().name, "Ada Lovelacf");
        assert_eq!(verify_signed(&t, &keys, ORG, INBOX, DEVICE, now), bad_sig);
    }

    #[test]
    fn hmac_with_wrong_or_short_secret_is_refused() {
        let tok = issue_hmac(claims(), SECRET).unwrap();
        let mut other = *SECRET;
        other[0] ^= 1;
        assert_eq!(
            verify_hmac(&tok, &other, ORG, INBOX, DEVICE, Timestamp(T0)),
            Err(Error::BadSignature(Structure::IdentityToken))
        );
        let short = Some(Error::InvalidField {
            structure: Structure::IdentityToken,
            field: "hmac_secret",
        });
        assert_eq!(issue_hmac(claims(), &SECRET[..31]).err(), short);
        assert_eq!(
            verify_hmac(&tok, &SECRET[..31], ORG, INBOX, DEVICE, Timestamp(T0)).err(),
            short
        );
    }

    #[test]
    fn schemes_are_not_interchangeable() {
        let (signed_tok, keys) = signed(claims());
        let hmac = issue_hmac(claims(), SECRET).unwrap();
        let now = Timestamp(T0);
        assert_eq!(
            verify_signed(&hmac, &keys, ORG, INBOX, DEVICE, now),
            Err(Error::TokenWrongScheme)
        );
        assert_eq!(
            verify_hmac(&signed_tok, SECRET, ORG, INBOX, DEVICE, now),
            Err(Error::TokenWrongScheme)
        );
    }

    #[test]
    fn malformed_encodings_are_refused() {
        let (tok, _) = signed(claims());
        let bytes = tok.encode();
        for n in 0..bytes.len() {
            assert!(IdentityToken::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            IdentityToken::decode(&long),
            Err(Error::TrailingBytes(Structure::IdentityToken))
        );
        let mut v = bytes.clone();
        v[0] = 2;
        assert_eq!(IdentityToken::decode(&v), Err(Error::UnsupportedVersion(2)));
        let scheme_at = bytes.len() - 65;
        for s in [0u8, 3, 0xff] {
            let mut b = bytes.clone();
            b[scheme_at] = s;
            assert_eq!(
                IdentityToken::decode(&b),
                Err(Error::InvalidField {
                    structure: Structure::IdentityToken,
                    field: "scheme"
                })
            );
        }
        // An HMAC scheme byte in front of a 64-byte signature leaves 32 bytes over.
        let mut b = bytes.clone();
        b[scheme_at] = 2;
        assert_eq!(
            IdentityToken::decode(&b),
            Err(Error::TrailingBytes(Structure::IdentityToken))
        );
    }

    #[test]
    fn claims_out_of_range_are_refused() {
        let (key, _) = signer();
        let invalid = |field| {
            Err(Error::InvalidField {
                structure: Structure::IdentityToken,
                field,
            })
        };
        for bad_id in ["", "has space", "naïve", &"k".repeat(65)] {
            let mut c = claims();
            c.key_id = bad_id.into();
            assert_eq!(issue_signed(c, &key), invalid("key_id"), "{bad_id:?}");
        }
        let mut c = claims();
        c.key_id = "k".repeat(64);
        assert!(issue_signed(c, &key).is_ok());
        let mut c = claims();
        c.subject = String::new();
        assert_eq!(issue_signed(c, &key), invalid("subject"));
        let mut c = claims();
        c.email = "e".repeat(256);
        assert_eq!(issue_signed(c, &key), invalid("email"));
        let mut c = claims();
        c.name = "n".repeat(256);
        assert_eq!(issue_signed(c, &key), invalid("name"));
        let mut c = claims();
        c.name = String::new();
        c.email = String::new();
        c.subject = "s".repeat(255);
        assert!(issue_signed(c, &key).is_ok());
        let mut c = claims();
        c.expires_at = Timestamp(T0 - 1);
        assert_eq!(issue_signed(c, &key), invalid("expires_at"));
    }

    #[test]
    fn token_key_round_trips_and_checks_its_fields() {
        let (_, keys) = signer();
        let mut w = Writer::new();
        keys[0].write(&mut w);
        let bytes = w.into_vec();
        assert_eq!(bytes.len(), 1 + 9 + 32);
        let mut r = Reader::new(&bytes, Structure::Membership);
        assert_eq!(TokenKey::read(&mut r).as_ref(), Ok(&keys[0]));
        assert_eq!(r.finish(), Ok(()));
        let mut bad = bytes.clone();
        bad[1] = b' ';
        let mut r = Reader::new(&bad, Structure::Membership);
        assert!(matches!(
            TokenKey::read(&mut r),
            Err(Error::InvalidField {
                field: "key_id",
                ..
            })
        ));
        assert!(TokenKey::new("", keys[0].key).is_err());
    }

    #[test]
    fn debug_output_leaves_out_secrets_and_personal_data() {
        let (key, _) = signer();
        let tok = issue_hmac(claims(), SECRET).unwrap();
        let dbg = format!("{key:?} {tok:?}");
        assert!(!dbg.contains(&hex::encode([0x55; 32])));
        for pii in ["user-42", "Ada", "ada@example.com"] {
            assert!(!dbg.contains(pii), "{pii} in {dbg}");
        }
    }

    /// The vectors printed in docs/protocol.md §12.6.
    #[test]
    fn known_answer_vectors() {
        let body = claims().encode().unwrap();
        assert_eq!(hex::encode(&body), VECTOR_BODY);
        let (tok, _) = signed(claims());
        let sig = &tok.encode()[body.len()..];
        assert_eq!(hex::encode(sig), VECTOR_SIGNED_TAIL);
        let (key, _) = signer();
        assert_eq!(hex::encode(key.public().to_bytes()), VECTOR_PUBLIC_KEY);
        let hmac = issue_hmac(claims(), SECRET).unwrap().encode();
        assert_eq!(hex::encode(&hmac[body.len()..]), VECTOR_HMAC_TAIL);
    }

    const VECTOR_BODY: &str = "010961636d652d32303234111111111111111111111111111111112222222222222222222222222222222207757365722d34320c416461204c6f76656c6163650f616461406578616d706c652e636f6d000000006553f100000000006553f22c444444444444444444444444444444443333333333333333333333333333333333333333333333333333333333333333";
    const VECTOR_PUBLIC_KEY: &str =
        "c6822637c7d310ec57627be00ba259d253749f4aaf644470cffbe53a35f73242";
    const VECTOR_SIGNED_TAIL: &str = "01aa4157e2b20352c74eb92051848a35db78d56c4ecfed57993690e9923a67fcf38d080a5f0a4859c26b56a2fdb02cdd223b72d7f06ff385bbae93de9e1e92a405";
    const VECTOR_HMAC_TAIL: &str =
        "0255dcaee67a56e2081353b23a4d4bff82ad8501ac8542bd03d6c63fd191083a69";

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
            let _ = IdentityToken::decode(&bytes);
        }

        #[test]
        fn decoding_mutated_tokens_never_panics(i in 0usize..200, b in any::<u8>(), cut in 0usize..40) {
            let mut bytes = issue_hmac(claims(), SECRET).unwrap().encode();
            let n = bytes.len();
            bytes[i % n] = b;
            bytes.truncate(n - cut.min(n));
            let _ = IdentityToken::decode(&bytes);
        }
    }
}
