//! `credential`: secrets written into a message. The finding's `detail`
//! names the type.
//!
//! | detail | recognised by |
//! |---|---|
//! | `private_key` | a `-----BEGIN … PRIVATE KEY-----` block (RSA, EC, OpenSSH, PGP `PRIVATE KEY BLOCK`, PKCS#8, encrypted) up to its `-----END …-----` |
//! | `aws_access_key_id` | `AKIA`/`ASIA`/`ABIA`/`ACCA`/`AGPA`/`AIDA`/`AIPA`/`ANPA`/`ANVA`/`APKA`/`AROA`/`ASCA` + 16 upper-case letters or digits |
//! | `aws_secret_access_key` | 40 base64 characters after "aws_secret_access_key"/"secret access key", or within 80 bytes after an access key id |
//! | `github_token` | `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 alphanumerics, `github_pat_` + 22 or more |
//! | `gitlab_token` | `glpat-`, `gldt-`, `glrt-`, `glptt-`, `gloas-`, `glcbt-` + 20 or more |
//! | `slack_token` | `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-`, `xapp-` + 10 or more; `hooks.slack.com/services/…` webhooks |
//! | `stripe_key` | `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`, `whsec_` + 10 or more (publishable `pk_` keys are not secret) |
//! | `google_api_key` | `AIza` + 35; `GOCSPX-` client secrets; `ya29.` OAuth tokens |
//! | `twilio_api_key` | `SK` + 32 hex digits; a 32-hex auth token after "auth token" |
//! | `sendgrid_api_key` | `SG.` + 16–32 + `.` + 16–64 |
//! | `npm_token` | `npm_` + 36 alphanumerics |
//! | `pypi_token` | `pypi-AgE` + 50 or more |
//! | `jwt` | three base64url segments whose first decodes to a JSON header with `"alg"` |
//! | `password` | a value after "password:", "Passwort =", "mot de passe :", "contraseña es …", "PIN: 1234" … that looks like one (see [`password_like`]) |
//!
//! Non-goals: generic high-entropy strings without a prefix or a context
//! word (too many false alarms on ids and hashes); checking tokens with
//! their issuers.

use crate::detect::Ctx;
use crate::detect::lexicon::Tag;
use crate::finding::Kind;
use crate::text::{MASK, alnum_at, byte};

const EXPLANATION: &str = "This looks like a password, key or access token; anyone who reads it can take over the account it protects.";

/// Token prefixes and the type they announce, with the least tail length
/// and the bytes the tail may contain.
const PREFIXES: &[(&str, &str, usize, Tail)] = &[
    ("github_pat_", "github_token", 22, Tail::Word),
    ("ghp_", "github_token", 36, Tail::Alnum),
    ("gho_", "github_token", 36, Tail::Alnum),
    ("ghu_", "github_token", 36, Tail::Alnum),
    ("ghs_", "github_token", 36, Tail::Alnum),
    ("ghr_", "github_token", 36, Tail::Alnum),
    ("glpat-", "gitlab_token", 20, Tail::Dashed),
    ("gldt-", "gitlab_token", 20, Tail::Dashed),
    ("glrt-", "gitlab_token", 20, Tail::Dashed),
    ("glptt-", "gitlab_token", 20, Tail::Dashed),
    ("gloas-", "gitlab_token", 20, Tail::Dashed),
    ("glcbt-", "gitlab_token", 20, Tail::Dashed),
    ("xoxb-", "slack_token", 10, Tail::Dashed),
    ("xoxp-", "slack_token", 10, Tail::Dashed),
    ("xoxa-", "slack_token", 10, Tail::Dashed),
    ("xoxr-", "slack_token", 10, Tail::Dashed),
    ("xoxs-", "slack_token", 10, Tail::Dashed),
    ("xoxe-", "slack_token", 10, Tail::Dashed),
    ("xapp-", "slack_token", 10, Tail::Dashed),
    ("hooks.slack.com/services/", "slack_token", 20, Tail::Path),
    ("sk_live_", "stripe_key", 10, Tail::Alnum),
    ("sk_test_", "stripe_key", 10, Tail::Alnum),
    ("rk_live_", "stripe_key", 10, Tail::Alnum),
    ("rk_test_", "stripe_key", 10, Tail::Alnum),
    ("whsec_", "stripe_key", 24, Tail::Alnum),
    ("AIza", "google_api_key", 35, Tail::Dashed),
    ("GOCSPX-", "google_api_key", 20, Tail::Dashed),
    ("ya29.", "google_api_key", 20, Tail::Dashed),
    ("npm_", "npm_token", 36, Tail::Alnum),
    ("pypi-AgE", "pypi_token", 50, Tail::Dashed),
];

const AWS_PREFIXES: &[&str] = &[
    "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA",
];

/// What a token's tail may contain.
#[derive(Clone, Copy, Debug)]
enum Tail {
    /// Letters and digits.
    Alnum,
    /// Letters, digits, `_`.
    Word,
    /// Letters, digits, `_`, `-`.
    Dashed,
    /// Letters, digits, `/`, `_`, `-`.
    Path,
}

impl Tail {
    fn allows(self, c: u8) -> bool {
        c.is_ascii_alphanumeric()
            || match self {
                Tail::Alnum => false,
                Tail::Word => c == b'_',
                Tail::Dashed => matches!(c, b'_' | b'-'),
                Tail::Path => matches!(c, b'_' | b'-' | b'/'),
            }
    }
}

/// A token at word start `i` (the ASCII-alphanumeric word there ends at
/// `word`); reports it and returns its end.
pub(crate) fn token_at(ctx: &mut Ctx<'_>, i: usize, word: usize) -> Option<usize> {
    let b = ctx.bytes;
    let rest = ctx.text.get(i..)?;
    let next = byte(b, word);
    let len = word - i;
    if rest.starts_with("eyJ") {
        return jwt(ctx, i);
    }
    if len >= 16 && next != b'_' && next != b'-' {
        if len == 20
            && AWS_PREFIXES.iter().any(|p| rest.starts_with(p))
            && rest
                .bytes()
                .take(20)
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            report(ctx, i..word, "aws_access_key_id");
            aws_secret_after(ctx, word);
            return Some(word);
        }
        if len == 34
            && rest.starts_with("SK")
            && rest.bytes().skip(2).take(32).all(|c| c.is_ascii_hexdigit())
        {
            report(ctx, i..word, "twilio_api_key");
            return Some(word);
        }
    }
    if rest.starts_with("SG.") {
        return sendgrid(ctx, i);
    }
    if !(matches!(next, b'_' | b'-' | b'.') || len >= 16) {
        return None;
    }
    for &(prefix, detail, min, tail) in PREFIXES {
        if let Some(t) = rest.strip_prefix(prefix) {
            let n = t.bytes().take_while(|&c| tail.allows(c)).count();
            let trimmed = trim_trailing(t, n);
            let n = if trimmed >= min { trimmed } else { n };
            if n >= min && !alnum_at(ctx.text, i + prefix.len() + n) {
                let end = i + prefix.len() + n;
                report(ctx, i..end, detail);
                return Some(end);
            }
            return None;
        }
    }
    None
}

/// Drops trailing `-`, `_`, `/` (sentence punctuation after a token).
fn trim_trailing(t: &str, mut n: usize) -> usize {
    while n > 0 && matches!(t.as_bytes().get(n - 1), Some(b'-' | b'_' | b'/')) {
        n -= 1;
    }
    n
}

fn report(ctx: &mut Ctx<'_>, span: core::ops::Range<usize>, detail: &'static str) {
    let text = ctx.slice(span.clone());
    let masked = match detail {
        "password" => "••••••••".to_owned(),
        "private_key" => "-----BEGIN PRIVATE KEY----- •••• -----END PRIVATE KEY-----".to_owned(),
        _ => {
            let head: String = text.chars().take(4).collect();
            format!("{head}{}", MASK.to_string().repeat(8))
        }
    };
    ctx.push(
        Kind::Credential,
        span,
        Some(detail),
        EXPLANATION.to_owned(),
        masked,
    );
}

/// A JWT: `eyJ…` `.` payload `.` signature (may be empty for `alg: none`).
fn jwt(ctx: &mut Ctx<'_>, i: usize) -> Option<usize> {
    let rest = ctx.text.get(i..)?;
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let bytes = rest.as_bytes();
    let h = bytes.iter().take_while(|&&c| is_b64(c)).count();
    if bytes.get(h) != Some(&b'.') {
        return None;
    }
    let p = bytes
        .get(h + 1..)?
        .iter()
        .take_while(|&&c| is_b64(c))
        .count();
    if p < 2 || bytes.get(h + 1 + p) != Some(&b'.') {
        return None;
    }
    let s = bytes
        .get(h + p + 2..)?
        .iter()
        .take_while(|&&c| is_b64(c))
        .count();
    let header = base64url(bytes.get(..h)?)?;
    let json: serde_json::Value = serde_json::from_slice(&header).ok()?;
    json.as_object()?.get("alg")?.as_str()?;
    let end = i + h + p + 2 + s;
    report(ctx, i..end, "jwt");
    Some(end)
}

/// `SG.` + 16–32 + `.` + 16–64.
fn sendgrid(ctx: &mut Ctx<'_>, i: usize) -> Option<usize> {
    let bytes = ctx.bytes.get(i + 3..)?;
    let ok = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let a = bytes.iter().take_while(|&&c| ok(c)).count();
    if !(16..=32).contains(&a) || bytes.get(a) != Some(&b'.') {
        return None;
    }
    let c = bytes.get(a + 1..)?.iter().take_while(|&&c| ok(c)).count();
    if !(16..=64).contains(&c) {
        return None;
    }
    let end = i + 3 + a + 1 + c;
    report(ctx, i..end, "sendgrid_api_key");
    Some(end)
}

/// Decodes unpadded base64url (padding tolerated).
fn base64url(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// An AWS secret key within 80 bytes after an access key id.
fn aws_secret_after(ctx: &mut Ctx<'_>, from: usize) {
    let window = ctx.text.get(from..).unwrap_or_default();
    let window = window.get(..window.len().min(80)).unwrap_or(window);
    let mut offset = 0;
    for piece in window.split(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '+')) {
        if piece.len() == 40 && classes(piece) >= 2 {
            let start = from + offset;
            report(ctx, start..start + 40, "aws_secret_access_key");
            return;
        }
        offset += piece.len() + 1;
    }
}

/// How many of lower case, upper case, digits and symbols `s` uses.
fn classes(s: &str) -> usize {
    let b = s.as_bytes();
    [
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_digit),
        b.iter().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&x| x)
    .count()
}

/// Credentials announced by a lexicon hit: private-key blocks, secrets
/// after "secret access key"/"auth token", passwords after "password:".
pub(crate) fn from_hits(ctx: &mut Ctx<'_>) {
    let hits: Vec<_> = ctx
        .hits
        .iter()
        .filter(|h| matches!(h.tag, Tag::Pem | Tag::PasswordKey | Tag::SecretContext))
        .copied()
        .collect();
    let mut last_end = 0;
    for h in hits {
        if h.start < last_end {
            continue;
        }
        let end = match h.tag {
            Tag::Pem => private_key(ctx, h.start),
            Tag::SecretContext => secret_after(ctx, h.end),
            _ => password_after(ctx, h.start, h.end),
        };
        if let Some(end) = end {
            last_end = end;
        }
    }
}

/// A `-----BEGIN … PRIVATE KEY-----` block at `start`.
fn private_key(ctx: &mut Ctx<'_>, start: usize) -> Option<usize> {
    let rest = ctx.text.get(start..)?;
    let header_end = rest.get(10..)?.find("-----")? + 15;
    let label = rest.get(10..header_end - 5)?.to_ascii_uppercase();
    if !label.contains("PRIVATE KEY") || label.len() > 40 {
        return None;
    }
    let body = rest.get(header_end..)?;
    let len = match body.find("-----END") {
        Some(e) => {
            let after = body.get(e + 8..)?;
            e + 8 + after.find("-----").map_or(after.len(), |k| k + 5)
        }
        None => body
            .bytes()
            .take_while(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, b'+' | b'/' | b'=' | b':' | b'-' | b',')
                    || c.is_ascii_whitespace()
            })
            .count(),
    };
    let end = (start + header_end + len).min(ctx.text.len());
    let end = start + ctx.text.get(start..end)?.trim_end().len();
    report(ctx, start..end, "private_key");
    Some(end)
}

/// A secret value right after "aws_secret_access_key", "auth token"…
fn secret_after(ctx: &mut Ctx<'_>, from: usize) -> Option<usize> {
    let rest = ctx.text.get(from..)?;
    let skipped = rest.len()
        - rest
            .trim_start_matches(|c: char| {
                c.is_whitespace() || matches!(c, ':' | '=' | '"' | '\'' | '`')
            })
            .len();
    let rest = ctx.text.get(from + skipped..)?;
    let rest = match rest.split_once(' ') {
        Some(("is" | "ist" | "est" | "es", r)) => r.trim_start(),
        _ => rest,
    };
    let start = ctx.text.len() - rest.len();
    let n = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b'=' | b'_' | b'-'))
        .count();
    let value = rest.get(..n)?;
    let detail = if n == 40 && classes(value) >= 2 {
        "aws_secret_access_key"
    } else if n == 32 && value.bytes().all(|c| c.is_ascii_hexdigit()) {
        "twilio_api_key"
    } else if n >= 16 && classes(value) >= 2 {
        "api_secret"
    } else {
        return None;
    };
    report(ctx, start..start + n, detail);
    Some(start + n)
}

/// Words that follow "password" without disclosing one.
const NOT_PASSWORDS: &[&str] = &[
    "incorrect",
    "incorrecto",
    "incorrecta",
    "incorrecte",
    "invalid",
    "invalide",
    "inválida",
    "invalida",
    "expired",
    "abgelaufen",
    "expiré",
    "expire",
    "caducada",
    "wrong",
    "falsch",
    "forgotten",
    "vergessen",
    "oublié",
    "olvidada",
    "required",
    "erforderlich",
    "requis",
    "obligatoire",
    "changed",
    "geändert",
    "changé",
    "cambiada",
    "reset",
    "zurückgesetzt",
    "réinitialisé",
    "restablecida",
    "working",
    "blocked",
    "gesperrt",
    "bloqué",
    "bloqueada",
    "correct",
    "korrekt",
    "correcte",
    "correcta",
    "different",
    "anders",
    "différent",
    "diferente",
    "protected",
    "geschützt",
    "protégé",
    "protegido",
    "unknown",
    "unbekannt",
    "inconnu",
    "desconocida",
    "missing",
    "manquant",
    "attached",
    "anbei",
    "ci-joint",
    "adjunta",
    "encrypted",
    "verschlüsselt",
    "chiffré",
    "cifrada",
    "necessary",
    "notwendig",
    "nécessaire",
    "necesaria",
    "please",
    "bitte",
    "merci",
    "gracias",
    "thanks",
    "someone",
];

/// Whether `value` looks like a disclosed password: 4–64 characters,
/// not a common word; with digits, symbols or inner capitals, or (after
/// `:`/`=`) eight letters or more.
pub fn password_like(value: &str, pin: bool, verb: bool) -> bool {
    let n = value.chars().count();
    if pin {
        return (4..=8).contains(&n) && value.bytes().all(|c| c.is_ascii_digit());
    }
    if !(4..=64).contains(&n) || NOT_PASSWORDS.contains(&value.to_lowercase().as_str()) {
        return false;
    }
    let b = value.as_bytes();
    let strong = b.iter().any(u8::is_ascii_digit)
        || b.iter().any(|c| c.is_ascii_punctuation())
        || b.iter().skip(1).any(u8::is_ascii_uppercase);
    if verb {
        strong && n >= 6
    } else {
        strong || n >= 8
    }
}

/// A password value after a "password" word spanning `key_start..from`.
fn password_after(ctx: &mut Ctx<'_>, key_start: usize, from: usize) -> Option<usize> {
    let key = ctx.slice(key_start..from).to_lowercase();
    let pin = key.contains("pin") || key.contains("geheimzahl");
    let rest = ctx.text.get(from..)?;
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let (verb, after) = if let Some(r) = trimmed.strip_prefix([':', '=', '：']) {
        (false, r)
    } else {
        let (w, r) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        let w = w.to_lowercase();
        if matches!(
            w.as_str(),
            "is" | "ist" | "est" | "es" | "lautet" | "era" | "war" | "was" | "c'est"
        ) {
            (true, r.trim_start_matches(':'))
        } else if trimmed.len() < rest.len() {
            // "password Sommer2024": no separator, judged like a verb form
            (true, trimmed)
        } else {
            return None;
        }
    };
    let after_trim = after.trim_start_matches([' ', '\t', '"', '\'', '«', '“', '`']);
    let start = ctx.text.len() - after_trim.len();
    let raw = after_trim
        .split(char::is_whitespace)
        .next()
        .unwrap_or_default();
    let value = raw.trim_end_matches(['.', ',', ';', ')', '"', '\'', '»', '”', '`']);
    if value.is_empty() || !password_like(value, pin, verb) {
        return None;
    }
    let end = start + value.len();
    report(ctx, start..end, "password");
    Some(end)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::scan::{ScanOptions, scan};

    fn creds(text: &str) -> Vec<(String, &'static str)> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::Credential)
            .map(|f| (f.text, f.detail.unwrap()))
            .collect()
    }

    #[test]
    fn token_formats() {
        let cases = [
            ("AKIAIOSFODNN7EXAMPLE", "aws_access_key_id"),
            ("ghp_1234567890abcdefghijABCDEFGHIJ123456", "github_token"),
            ("glpat-xxxxxxxxxxxxxxxxxxxx", "gitlab_token"),
            ("xoxb-123456789012-abcdefABCDEF", "slack_token"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe_key"),
            ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "google_api_key"),
            ("SK0123456789abcdef0123456789abcdef", "twilio_api_key"),
            (
                "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                "sendgrid_api_key",
            ),
            ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_token"),
            (
                "pypi-AgEIcHlwaS5vcmcCJGE0ZjE2ZTZmLTk4ZmEtNDFmMS1iZDM2LTk5YzQ3ZDQ4ZjhlYg",
                "pypi_token",
            ),
            (
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "jwt",
            ),
        ];
        for (token, detail) in cases {
            assert_eq!(
                creds(&format!("here: {token}.")),
                [(token.to_string(), detail)],
                "{token}"
            );
        }
        assert_eq!(
            creds("AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")[1],
            (
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                "aws_secret_access_key"
            )
        );
        assert!(
            creds("eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.sig").is_empty(),
            "no alg"
        );
        assert!(creds("pk_live_4eC39HqLyjWDarjtT1zdp7dc").is_empty());
    }

    #[test]
    fn private_key_block() {
        let t = "key: -----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA7 -----END RSA PRIVATE KEY----- thanks";
        let c = creds(t);
        assert_eq!(c[0].1, "private_key");
        assert!(c[0].0.ends_with("-----END RSA PRIVATE KEY-----"));
        assert!(creds("-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----").is_empty());
    }

    #[test]
    fn password_disclosures() {
        assert_eq!(
            creds("my password: Hunter2!"),
            [("Hunter2!".into(), "password")]
        );
        assert_eq!(
            creds("Mein Passwort ist Sommer2024."),
            [("Sommer2024".into(), "password")]
        );
        assert_eq!(
            creds("mot de passe : chaton99"),
            [("chaton99".into(), "password")]
        );
        assert_eq!(
            creds("la contraseña es Gato_1234"),
            [("Gato_1234".into(), "password")]
        );
        assert_eq!(creds("PIN: 4921"), [("4921".into(), "password")]);
        assert_eq!(
            creds("login jsmith password Sommer2024"),
            [("Sommer2024".into(), "password")]
        );
        for t in [
            "my password is incorrect",
            "password reset link",
            "password 2 times",
            "password is not working",
            "reset your password please",
            "Password: reset",
            "the password is wrong",
        ] {
            assert!(creds(t).is_empty(), "{t}");
        }
    }
}
