//! `tokens.json`: visitor identity tokens checked by an agent
//! (`verify_signed`) or by the server (`verify_hmac`) (§12).
//!
//! The inputs are those of the known-answer vectors printed in
//! docs/protocol.md §12.8; the generator stops if the tokens it
//! issues differ from the ones printed there.

use super::case::{Case, Ctx, SUCCESS, VectorFile, hx, obj};
use confide_protocol::token::{
    IdentityClaims, IdentityToken, TokenSigningKey, issue_hmac, issue_signed,
};
use confide_protocol::{DeviceId, InboxId, OrgId, Timestamp};
use serde_json::Value;

const ORG: OrgId = OrgId([0x11; 16]);
const INBOX: InboxId = InboxId([0x22; 16]);
const DEVICE: DeviceId = DeviceId([0x33; 32]);
const T0: u64 = 1_700_000_000;
const SEED: [u8; 32] = [0x55; 32];
const OTHER_SEED: [u8; 32] = [0x66; 32];
const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";
/// The scheme-1 proof printed in §12.8.
const SPEC_SIGNATURE: &str = "aa4157e2b20352c74eb92051848a35db78d56c4ecfed57993690e9923a67fcf3\
                              8d080a5f0a4859c26b56a2fdb02cdd223b72d7f06ff385bbae93de9e1e92a405";
/// The scheme-2 proof printed in §12.8.
const SPEC_HMAC: &str = "55dcaee67a56e2081353b23a4d4bff82ad8501ac8542bd03d6c63fd191083a69";

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

enum Check<'a> {
    /// `verify_signed` with these `(key_id, seed)` keys listed.
    Signed(&'a [(&'a str, [u8; 32])]),
    /// `verify_hmac` with this secret.
    Hmac(&'a [u8]),
}

/// Builds the file.
pub fn generate() -> Result<VectorFile, String> {
    let key = TokenSigningKey::dangerous_from_bytes(&SEED);
    let signed = issue_signed(claims(), &key).ctx("issue signed")?.encode();
    let hmac = issue_hmac(claims(), SECRET).ctx("issue hmac")?.encode();
    let body_len = signed.len() - 65;
    check_spec(&signed, body_len, 1, SPEC_SIGNATURE)?;
    check_spec(&hmac, body_len, 2, SPEC_HMAC)?;

    let mut f = VectorFile::new(
        "tokens.json",
        "Visitor identity tokens (docs/protocol.md §12): decode the token, verify it as an \
         agent (verify_signed, with the listed token keys) or as the server (verify_hmac, \
         with the secret), for the given org, inbox, sender device and time.",
    );
    let listed: &[(&str, [u8; 32])] = &[("acme-2024", SEED)];
    let now = T0 + 10;
    let case = |name: &str,
                desc: &str,
                token: &[u8],
                check: Check<'_>,
                sender: DeviceId,
                inbox: InboxId,
                now: u64,
                expected: &str| {
        token_case(name, desc, token, check, sender, inbox, now, expected)
    };
    f.push(case(
        "signed_valid",
        "The §12.8 scheme-1 token, checked by an agent.",
        &signed,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        now,
        SUCCESS,
    )?);
    f.push(case(
        "signed_valid_at_clock_skew_edge",
        "Checked 60 s before issued_at (the allowed clock skew).",
        &signed,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        T0 - 60,
        SUCCESS,
    )?);
    f.push(case(
        "signed_valid_at_expiry",
        "Checked exactly at expires_at.",
        &signed,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        T0 + 300,
        SUCCESS,
    )?);
    f.push(case(
        "signed_not_yet_valid",
        "Checked 61 s before issued_at.",
        &signed,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        T0 - 61,
        "token_expired",
    )?);
    f.push(case(
        "signed_expired",
        "Checked one second after expires_at.",
        &signed,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        T0 + 301,
        "token_expired",
    )?);
    f.push(case(
        "signed_for_another_device",
        "Presented by a visitor device other than the one it names.",
        &signed,
        Check::Signed(listed),
        DeviceId([0x34; 32]),
        INBOX,
        now,
        "token_wrong_device",
    )?);
    f.push(case(
        "signed_for_another_inbox",
        "Checked in another inbox than the one it names.",
        &signed,
        Check::Signed(listed),
        DEVICE,
        InboxId([0x23; 16]),
        now,
        "wrong_scope",
    )?);
    f.push(case(
        "signed_unknown_key",
        "The membership lists no key with id acme-2024.",
        &signed,
        Check::Signed(&[("acme-2025", SEED)]),
        DEVICE,
        INBOX,
        now,
        "token_unknown_key",
    )?);
    f.push(case(
        "signed_by_other_key",
        "The key listed as acme-2024 is not the one that signed.",
        &signed,
        Check::Signed(&[("acme-2024", OTHER_SEED)]),
        DEVICE,
        INBOX,
        now,
        "bad_signature",
    )?);
    let mut tampered = signed.clone();
    // Byte 52 is inside the name "Ada Lovelace" (A -> @).
    *tampered.get_mut(52).ctx("tamper")? ^= 1;
    f.push(case(
        "signed_body_tampered",
        "One bit of the display name flipped; the token still decodes.",
        &tampered,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        now,
        "bad_signature",
    )?);
    let mut long = claims();
    long.expires_at = Timestamp(T0 + 601);
    let long = issue_signed(long, &key).ctx("long")?.encode();
    f.push(case(
        "signed_lifetime_too_long",
        "A correctly signed token whose lifetime is 601 s (at most 600 s).",
        &long,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        now,
        "token_lifetime_too_long",
    )?);
    f.push(case(
        "hmac_token_checked_by_agent",
        "An agent never accepts a scheme-2 (HMAC) token.",
        &hmac,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        now,
        "token_wrong_scheme",
    )?);
    f.push(case(
        "signed_truncated",
        "The scheme-1 token without its last byte.",
        signed.get(..signed.len() - 1).ctx("cut")?,
        Check::Signed(listed),
        DEVICE,
        INBOX,
        now,
        "truncated",
    )?);

    f.push(case(
        "hmac_valid",
        "The §12.8 scheme-2 token, checked by the server with the shared secret.",
        &hmac,
        Check::Hmac(SECRET),
        DEVICE,
        INBOX,
        now,
        SUCCESS,
    )?);
    f.push(case(
        "hmac_wrong_secret",
        "Checked with another secret.",
        &hmac,
        Check::Hmac(b"0123456789abcdef0123456789abcdeF"),
        DEVICE,
        INBOX,
        now,
        "bad_signature",
    )?);
    f.push(case(
        "hmac_secret_too_short",
        "A 31-byte secret is refused.",
        &hmac,
        Check::Hmac(b"0123456789abcdef0123456789abcde"),
        DEVICE,
        INBOX,
        now,
        "invalid_field",
    )?);
    f.push(case(
        "hmac_expired",
        "Checked one second after expires_at.",
        &hmac,
        Check::Hmac(SECRET),
        DEVICE,
        INBOX,
        T0 + 301,
        "token_expired",
    )?);
    f.push(case(
        "hmac_for_another_device",
        "Presented by another visitor device.",
        &hmac,
        Check::Hmac(SECRET),
        DeviceId([0x34; 32]),
        INBOX,
        now,
        "token_wrong_device",
    )?);
    f.push(case(
        "signed_token_checked_as_hmac",
        "The HMAC check takes no scheme-1 token.",
        &signed,
        Check::Hmac(SECRET),
        DEVICE,
        INBOX,
        now,
        "token_wrong_scheme",
    )?);
    Ok(f)
}

fn check_spec(token: &[u8], body_len: usize, scheme: u8, proof_hex: &str) -> Result<(), String> {
    let mut expected_tail = vec![scheme];
    expected_tail.extend(hex::decode(proof_hex).ctx("spec hex")?);
    let tail = token.get(body_len..).ctx("token tail")?;
    if tail != expected_tail.as_slice() || token.len() - body_len != 1 + proof_hex.len() / 2 {
        return Err(format!(
            "the issued scheme-{scheme} token does not match docs/protocol.md §12.8: got {}",
            hex::encode(tail)
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn token_case(
    name: &str,
    description: &str,
    token: &[u8],
    check: Check<'_>,
    sender: DeviceId,
    inbox: InboxId,
    now: u64,
    expected: &str,
) -> Result<Case, String> {
    let mut c = Case::new(name, description, expected)
        .hex("token", token)
        .hex("org", ORG.0)
        .hex("inbox", inbox.0)
        .hex("sender", sender.0)
        .with("now", now);
    let strength = match check {
        Check::Signed(keys) => {
            let list: Vec<Value> = keys
                .iter()
                .map(|(id, seed)| {
                    obj([
                        ("key_id", (*id).into()),
                        (
                            "public_key",
                            hx(TokenSigningKey::dangerous_from_bytes(seed)
                                .public()
                                .to_bytes()),
                        ),
                        ("seed", hx(seed)),
                    ])
                })
                .collect();
            c = c
                .with("verify", "signed")
                .with("token_keys", list)
                .with("hmac_secret", Value::Null);
            "agent_verified"
        }
        Check::Hmac(secret) => {
            c = c
                .with("verify", "hmac")
                .with("token_keys", Value::Array(vec![]))
                .hex("hmac_secret", secret);
            "server_verified"
        }
    };
    if expected == SUCCESS {
        let t = IdentityToken::decode(token).ctx(name)?;
        let cl = t.claims();
        c = c.with(
            "result",
            obj([
                ("key_id", cl.key_id.clone().into()),
                ("org", hx(cl.org.0)),
                ("inbox", hx(cl.inbox.0)),
                ("subject", cl.subject.clone().into()),
                ("name", cl.name.clone().into()),
                ("email", cl.email.clone().into()),
                ("issued_at", cl.issued_at.0.into()),
                ("expires_at", cl.expires_at.0.into()),
                ("token_id", hx(cl.token_id)),
                ("visitor_device", hx(cl.visitor_device.0)),
                ("strength", strength.into()),
            ]),
        );
    }
    Ok(c)
}
