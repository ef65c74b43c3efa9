//! API tests of passphrase-encrypted key files (docs/protocol.md §4.3):
//! round trips of every kind, every rejection, bounds checked before the
//! KDF runs, and the known-answer vector printed in §4.3.

#[cfg(test)]
mod keyfile {
    use confide_protocol::keyfile::{
        HEADER_LEN, KeyFileInfo, KeyFileParams, KeyKind, inspect, open_device_key, open_hpke_key,
        open_root_key, open_token_signing_key, seal_device_key, seal_hpke_key, seal_root_key,
        seal_token_signing_key,
    };
    use confide_protocol::token::TokenSigningKey;
    use confide_protocol::{DeviceSecretKey, Error, HpkeSecretKey, RootSecretKey, Structure};
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const PASS: &[u8] = b"correct horse battery staple";
    /// Offsets of the header fields (§4.3.2).
    const KIND: usize = 9;
    const KDF: usize = 10;
    const M_COST: usize = 11;
    const T_COST: usize = 15;
    const P_COST: usize = 19;
    const SALT: usize = 23;
    const NONCE: usize = 39;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    fn params() -> KeyFileParams {
        KeyFileParams::default()
    }

    /// A root-key file (32-byte secret, 115 bytes in all).
    fn root_file() -> Vec<u8> {
        let key = RootSecretKey::dangerous_from_bytes(&[7; 32]);
        seal_root_key(&key, PASS, params(), &mut rng(1)).unwrap()
    }

    fn set_u32(bytes: &mut [u8], at: usize, v: u32) {
        bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    #[test]
    fn every_kind_round_trips() {
        let mut r = rng(2);
        let device = DeviceSecretKey::generate(&mut r);
        let file = seal_device_key(&device, PASS, params(), &mut r).unwrap();
        assert_eq!(file.len(), HEADER_LEN + 4 + 64 + 16);
        let back = open_device_key(&file, PASS).unwrap();
        assert_eq!(
            *back.dangerous_expose_bytes(),
            *device.dangerous_expose_bytes()
        );

        let file = root_file();
        assert_eq!(file.len(), HEADER_LEN + 4 + 32 + 16);
        assert_eq!(
            *open_root_key(&file, PASS).unwrap().dangerous_expose_bytes(),
            [7; 32]
        );

        let hpke = HpkeSecretKey::generate(&mut r);
        let file = seal_hpke_key(&hpke, PASS, params(), &mut r).unwrap();
        let back = open_hpke_key(&file, PASS).unwrap();
        assert_eq!(back.dangerous_expose_bytes(), hpke.dangerous_expose_bytes());

        let token = TokenSigningKey::generate(&mut r);
        let file = seal_token_signing_key(&token, PASS, params(), &mut r).unwrap();
        let back = open_token_signing_key(&file, PASS).unwrap();
        assert_eq!(back.public(), token.public());
    }

    #[test]
    fn stronger_parameters_are_written_and_honoured() {
        let strong = KeyFileParams::new(32_768, 3, 2).unwrap();
        let key = RootSecretKey::dangerous_from_bytes(&[8; 32]);
        let file = seal_root_key(&key, PASS, strong, &mut rng(3)).unwrap();
        assert_eq!(
            inspect(&file),
            Ok(KeyFileInfo {
                kind: KeyKind::Root,
                params: strong
            })
        );
        assert!(open_root_key(&file, PASS).is_ok());
    }

    #[test]
    fn wrong_passphrase_is_refused() {
        let file = root_file();
        assert_eq!(
            open_root_key(&file, b"correct horse battery stapler").err(),
            Some(Error::WrongPassphrase)
        );
        assert_eq!(
            open_root_key(&file, b"").err(),
            Some(Error::WrongPassphrase)
        );
    }

    #[test]
    fn modified_header_or_ciphertext_is_refused() {
        let file = root_file();
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for at in [
            SALT,
            SALT + 15,
            NONCE,
            NONCE + 23,
            file.len() - 1,
            HEADER_LEN + 4,
        ] {
            let mut b = file.clone();
            b[at] ^= 0x01;
            cases.push(b);
        }
        let mut b = file.clone();
        set_u32(&mut b, T_COST, 3);
        cases.push(b);
        for b in cases {
            assert_eq!(open_root_key(&b, PASS).err(), Some(Error::WrongPassphrase));
        }
        // Relabelled as a token-signing key (same secret length): only the
        // associated data catches it.
        let mut b = file.clone();
        b[KIND] = KeyKind::TokenSigning as u8;
        assert_eq!(
            open_token_signing_key(&b, PASS).err(),
            Some(Error::WrongPassphrase)
        );
    }

    #[test]
    fn structural_header_changes_are_named() {
        let file = root_file();
        let invalid = |field| {
            Some(Error::InvalidField {
                structure: Structure::KeyFile,
                field,
            })
        };
        let mut b = file.clone();
        b[0] = b'X';
        assert_eq!(open_root_key(&b, PASS).err(), invalid("magic"));
        let mut b = file.clone();
        b[8] = 2;
        assert_eq!(
            open_root_key(&b, PASS).err(),
            Some(Error::UnsupportedVersion(2))
        );
        for kind in [0u8, 5, 0xff] {
            let mut b = file.clone();
            b[KIND] = kind;
            assert_eq!(open_root_key(&b, PASS).err(), invalid("kind"));
        }
        let mut b = file.clone();
        b[KDF] = 2;
        assert_eq!(open_root_key(&b, PASS).err(), invalid("kdf"));
        // Kind 1 needs an 80-byte ciphertext; this one is 48.
        let mut b = file.clone();
        b[KIND] = KeyKind::Device as u8;
        assert_eq!(open_device_key(&b, PASS).err(), invalid("ciphertext"));
    }

    /// Out-of-bounds costs are refused before Argon2id runs: m = 2^32 - 1 KiB
    /// would need 4 TiB, and the test returns at once.
    #[test]
    fn out_of_bounds_parameters_are_refused_before_the_kdf() {
        let file = root_file();
        let cases = [
            (M_COST, 19_455),
            (M_COST, 1_048_577),
            (M_COST, u32::MAX),
            (M_COST, 0),
            (T_COST, 1),
            (T_COST, 11),
            (T_COST, u32::MAX),
            (P_COST, 0),
            (P_COST, 5),
        ];
        for (at, v) in cases {
            let mut b = file.clone();
            set_u32(&mut b, at, v);
            assert_eq!(inspect(&b), Err(Error::WeakOrExcessiveKdfParameters));
            assert_eq!(
                open_root_key(&b, PASS).err(),
                Some(Error::WeakOrExcessiveKdfParameters)
            );
        }
        assert!(KeyFileParams::new(19_456, 2, 1).is_ok());
        assert!(KeyFileParams::new(1_048_576, 10, 4).is_ok());
        assert_eq!(
            KeyFileParams::new(19_455, 2, 1),
            Err(Error::WeakOrExcessiveKdfParameters)
        );
        assert_eq!(KeyFileParams::default(), KeyFileParams::OWASP);
        assert_eq!(
            (params().m_cost_kib(), params().t_cost(), params().p_cost()),
            (19_456, 2, 1)
        );
    }

    #[test]
    fn wrong_kind_is_refused_before_the_kdf() {
        let file = root_file();
        assert_eq!(open_hpke_key(&file, PASS).err(), Some(Error::WrongKeyKind));
        assert_eq!(
            open_device_key(&file, PASS).err(),
            Some(Error::WrongKeyKind)
        );
        assert_eq!(
            open_token_signing_key(&file, PASS).err(),
            Some(Error::WrongKeyKind)
        );
    }

    #[test]
    fn truncated_and_extended_files_are_refused() {
        let file = root_file();
        for n in 0..file.len() {
            assert_eq!(
                inspect(&file[..n]).err(),
                Some(Error::Truncated(Structure::KeyFile)),
                "prefix {n}"
            );
        }
        assert_eq!(
            open_root_key(&file[..file.len() - 1], PASS).err(),
            Some(Error::Truncated(Structure::KeyFile))
        );
        let mut long = file.clone();
        long.push(0);
        assert_eq!(
            open_root_key(&long, PASS).err(),
            Some(Error::TrailingBytes(Structure::KeyFile))
        );
    }

    #[test]
    fn empty_passphrase_is_not_sealed() {
        let key = RootSecretKey::dangerous_from_bytes(&[7; 32]);
        assert_eq!(
            seal_root_key(&key, b"", params(), &mut rng(4)),
            Err(Error::InvalidField {
                structure: Structure::KeyFile,
                field: "passphrase"
            })
        );
    }

    /// The vector printed in docs/protocol.md §4.3.6.
    #[test]
    fn known_answer_vector() {
        assert_eq!(hex::encode(root_file()), VECTOR_FILE);
        let file = hex::decode(VECTOR_FILE).unwrap();
        let key = open_root_key(&file, PASS).unwrap();
        assert_eq!(*key.dangerous_expose_bytes(), [7; 32]);
    }

    const VECTOR_FILE: &str = "434f4e464944454b01020100004c0000000002000000019a3744504560639ec670b7a17d492b273e077b0a96bef58ba7760779e544546e000efec87c5749ec0000003040c5a2252b4e4eae7a0fa115866178520238967cbfde6a15f98222c9f26f7de30679062aa817ff860c3ab9f8271df9a1";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn inspecting_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = inspect(&bytes);
        }
    }
}
