//! `primitives.json`: the basics another implementation checks first —
//! Padmé lengths, the labelled hash and signing input, key derivations,
//! device, recipient and conversation ids, HPKE opening and labelled
//! Ed25519 signatures (§2, §3, §4, §7, §8.3, §11.2).
//!
//! Every expected value here is computed with [`super::raw`] (the primitive
//! crates and the spec's formulas), not with `confide_protocol`.

use super::case::{Case, Ctx, SUCCESS, VectorFile, hx, obj};
use super::raw;
use confide_protocol::rand_core::Rng;
use confide_protocol::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

/// Builds the file.
pub fn generate() -> Result<VectorFile, String> {
    let mut rng = ChaCha20Rng::seed_from_u64(0x9121);
    let mut f = VectorFile::new(
        "primitives.json",
        "Building blocks (docs/protocol.md §2-§4, §7, §8.3, §11.2): each case names an \
         `operation` and its inputs; `result` holds the outputs.",
    );

    for n in [
        0u64,
        1,
        2,
        3,
        9,
        100,
        255,
        256,
        257,
        300,
        1000,
        1025,
        65_536,
        65_537,
        1_000_000,
        104_857_600,
    ] {
        let attachment = raw::padme(n.max(1));
        let chunks = attachment.div_ceil(65_536);
        f.push(
            Case::new(
                &format!("padme_{n}"),
                "Padmé of a length, and the padded sizes built on it.",
                SUCCESS,
            )
            .with("operation", "padme")
            .with("length", n)
            .with(
                "result",
                obj([
                    ("padme", raw::padme(n).into()),
                    ("body_padded_len", raw::padme(n.max(256)).into()),
                    ("attachment_padded_len", attachment.into()),
                    (
                        "attachment_ciphertext_len",
                        (17 + attachment + 16 * chunks).into(),
                    ),
                ]),
            ),
        );
    }

    let hashes: &[(&str, &str, &[&[u8]])] = &[
        ("hash_empty_parts", "confide/v1/header-hash", &[]),
        ("hash_framing_a_bc", "confide/v1/a", &[b"bc"]),
        ("hash_framing_ab_c", "confide/v1/ab", &[b"c"]),
        (
            "hash_two_parts",
            "confide/v1/conversation-id",
            &[&[0x01; 16], &[0x02; 48]],
        ),
    ];
    for (name, label, parts) in hashes {
        f.push(
            Case::new(
                name,
                "H(label, parts) = SHA-256(u8(len(label)) ‖ label ‖ parts…); framing keeps `a`+`bc` and `ab`+`c` apart.",
                SUCCESS,
            )
            .with("operation", "labelled_hash")
            .with("label", *label)
            .with("parts", Value::Array(parts.iter().map(hx).collect()))
            .with("result", obj([("digest", hx(raw::h(label, parts)))])),
        );
    }
    f.push(
        Case::new(
            "signing_input",
            "The bytes a signature covers: u8(len(label)) ‖ label ‖ body.",
            SUCCESS,
        )
        .with("operation", "signing_input")
        .with("label", "confide/v1/envelope")
        .hex("body", b"body")
        .with(
            "result",
            obj([("bytes", hx(raw::framed("confide/v1/envelope", b"body")))]),
        ),
    );

    // Device identities from secrets.
    let mut visitor = ([0u8; 32], [0u8; 32]);
    for i in 0..2 {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut ikm = [0u8; 32];
        rng.fill_bytes(&mut ikm);
        let (hpke_secret, hpke_public) = raw::hpke_derive_keypair(&ikm)?;
        if raw::x25519_public(&hpke_secret)? != hpke_public {
            return Err("x25519 public key mismatch".into());
        }
        let mut identity = vec![1u8];
        identity.extend_from_slice(&raw::ed25519_public(&seed));
        identity.extend_from_slice(&hpke_public);
        let mut secret = seed.to_vec();
        secret.extend_from_slice(&hpke_secret);
        f.push(
            Case::new(
                &format!("device_identity_{i}"),
                "A device secret (Ed25519 seed ‖ X25519 secret) gives its public identity (01 ‖ Ed25519 key ‖ X25519 key), device id and recipient id.",
                SUCCESS,
            )
            .with("operation", "device_identity")
            .hex("device_secret", &secret)
            .with(
                "result",
                obj([
                    ("public_identity", hx(&identity)),
                    ("device_id", hx(raw::h("confide/v1/device-id", &[&identity]))),
                    ("recipient_id", hx(raw::recipient_id(&hpke_public))),
                ]),
            ),
        );
        f.push(
            Case::new(
                &format!("hpke_key_from_ikm_{i}"),
                "RFC 9180 DeriveKeyPair for DHKEM(X25519, HKDF-SHA256).",
                SUCCESS,
            )
            .with("operation", "hpke_key_from_ikm")
            .hex("ikm", ikm)
            .with(
                "result",
                obj([("secret", hx(hpke_secret)), ("public_key", hx(hpke_public))]),
            ),
        );
        visitor = (seed, hpke_secret);
    }
    let mut identity = vec![1u8];
    identity.extend_from_slice(&raw::ed25519_public(&visitor.0));
    identity.extend_from_slice(&raw::x25519_public(&visitor.1)?);

    let id_case = |name: &str, desc: &str, bytes: &[u8], expected: &str| {
        let c = Case::new(name, desc, expected)
            .with("operation", "device_id")
            .hex("public_identity", bytes);
        if expected == SUCCESS {
            c.with(
                "result",
                obj([("device_id", hx(raw::h("confide/v1/device-id", &[bytes])))]),
            )
        } else {
            c
        }
    };
    f.push(id_case(
        "device_id",
        "The device id of a public identity.",
        &identity,
        SUCCESS,
    ));
    let mut v2 = identity.clone();
    if let Some(b) = v2.first_mut() {
        *b = 2;
    }
    f.push(id_case(
        "device_id_bad_version",
        "Identity version byte 2.",
        &v2,
        "invalid_field",
    ));
    f.push(id_case(
        "device_id_truncated",
        "A 64-byte identity.",
        identity.get(..64).ctx("cut")?,
        "truncated",
    ));
    let mut long = identity.clone();
    long.push(0);
    f.push(id_case(
        "device_id_trailing",
        "A 66-byte identity.",
        &long,
        "trailing_bytes",
    ));
    let mut bad_point = [0u8; 32];
    for y in 2u8..=255 {
        bad_point = [0; 32];
        if let Some(b) = bad_point.first_mut() {
            *b = y;
        }
        if !raw::ed25519_point_is_valid(&bad_point) {
            break;
        }
    }
    let mut bad = identity.clone();
    bad.get_mut(1..33).ctx("point")?.copy_from_slice(&bad_point);
    f.push(id_case(
        "device_id_invalid_signing_key",
        "The signing key is not an Ed25519 point (does not decompress).",
        &bad,
        "invalid_public_key",
    ));

    let mut root_seed = [0u8; 32];
    rng.fill_bytes(&mut root_seed);
    let root_public = raw::ed25519_public(&root_seed);
    f.push(
        Case::new(
            "root_fingerprint",
            "The root-key fingerprint shown in the embed snippet: H(\"confide/v1/root-fingerprint\", key).",
            SUCCESS,
        )
        .with("operation", "root_fingerprint")
        .hex("root_public_key", root_public)
        .hex("root_seed", root_seed)
        .with(
            "result",
            obj([("fingerprint", hx(raw::h("confide/v1/root-fingerprint", &[&root_public])))]),
        ),
    );

    // Conversation ids.
    let org = [0x0au8; 16];
    let inbox = [0x1bu8; 16];
    let mut nonce = [0u8; 32];
    rng.fill_bytes(&mut nonce);
    let device_id = raw::h("confide/v1/device-id", &[&identity]);
    let conv_id = raw::h(
        "confide/v1/conversation-id",
        &[&org, &inbox, &device_id, &nonce],
    );
    let conv_case =
        |name: &str, desc: &str, inbox: &[u8; 16], claimed: &[u8; 32], expected: &str| {
            let c = Case::new(name, desc, expected)
                .with("operation", "conversation_id")
                .hex("org", org)
                .hex("inbox", inbox)
                .hex("visitor_identity", &identity)
                .hex("nonce", nonce)
                .hex("claimed_id", claimed);
            if expected == SUCCESS {
                c.with("result", obj([("conversation_id", hx(claimed))]))
            } else {
                c
            }
        };
    f.push(conv_case(
        "conversation_id",
        "H(\"confide/v1/conversation-id\", org ‖ inbox ‖ visitor device id ‖ nonce).",
        &inbox,
        &conv_id,
        SUCCESS,
    ));
    f.push(conv_case(
        "conversation_id_other_inbox",
        "The same id claimed for another inbox.",
        &[0x1c; 16],
        &conv_id,
        "conversation_id_mismatch",
    ));

    // HPKE opening of a sealed content key.
    let mut ikm = [0u8; 32];
    rng.fill_bytes(&mut ikm);
    let (sk, pk) = raw::hpke_derive_keypair(&ikm)?;
    let mut kind_id = vec![raw::KIND_INBOX];
    kind_id.extend_from_slice(&raw::recipient_id(&pk));
    let info = raw::framed("confide/v1/content-key-seal", &kind_id);
    let aad = raw::h("confide/v1/header-hash", &[b"example header"]);
    let mut content_key = [0u8; 32];
    rng.fill_bytes(&mut content_key);
    let sealed = raw::hpke_seal(&pk, &info, &aad, &content_key, &mut rng)?;
    let hpke_case = |name: &str, desc: &str, info: &[u8], aad: &[u8], expected: &str| {
        let c = Case::new(name, desc, expected)
            .with("operation", "hpke_open")
            .hex("recipient_secret", sk)
            .hex("info", info)
            .hex("aad", aad)
            .hex("sealed", &sealed);
        if expected == SUCCESS {
            c.with("result", obj([("plaintext", hx(content_key))]))
        } else {
            c
        }
    };
    f.push(hpke_case(
        "hpke_open_content_key",
        "A content key sealed to an inbox key: info = signing_input(content-key-seal, kind ‖ recipient id), aad = header hash.",
        &info,
        &aad,
        SUCCESS,
    ));
    f.push(hpke_case(
        "hpke_open_wrong_aad",
        "The same seal opened with another header hash as aad.",
        &info,
        &raw::h("confide/v1/header-hash", &[b"other header"]),
        "decryption_failed",
    ));
    let mut other_kind = info.clone();
    if let Some(b) = other_kind.get_mut(1 + "confide/v1/content-key-seal".len()) {
        *b = raw::KIND_REQUIRED;
    }
    f.push(hpke_case(
        "hpke_open_wrong_info",
        "The same seal opened as if it were for another recipient kind.",
        &other_kind,
        &aad,
        "decryption_failed",
    ));

    // Labelled Ed25519 signatures.
    let sig = raw::sign(&root_seed, "confide/v1/membership", b"statement body");
    let sig_case = |name: &str, desc: &str, label: &str, expected: &str| {
        Case::new(name, desc, expected)
            .with("operation", "signature_verify")
            .hex("public_key", root_public)
            .with("label", label)
            .hex("body", b"statement body")
            .hex("signature", sig)
    };
    f.push(sig_case(
        "signature_valid",
        "Ed25519 (verify_strict) over signing_input(label, body).",
        "confide/v1/membership",
        SUCCESS,
    ));
    f.push(sig_case(
        "signature_other_label",
        "The same signature checked under another label.",
        "confide/v1/generation",
        "bad_signature",
    ));
    Ok(f)
}
