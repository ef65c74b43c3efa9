//! `iban`: International Bank Account Numbers of every country in the
//! SWIFT registry (`data/iban_registry.txt`: length and BBAN structure per
//! country), with or without the usual spaces, validated by the ISO 7064
//! mod-97 check.
//!
//! Job: [`validate`] checks a compact IBAN; [`at_word`] reads one at a
//! word that starts with a country code and two digits (`DE89…`, also in
//! lower case), collecting letters and digits across single spaces or
//! dashes until the country's length. The masked form keeps the country
//! and the last four characters: `DE•• •••• •••• •••• ••30 00`.
//!
//! Non-goals: national account numbers without an IBAN (sort code +
//! account, RIB, ABA routing), BIC codes, checking that the bank exists.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::detect::Ctx;
use crate::finding::Kind;
use crate::text::{MASK, alnum_at, byte};

const REGISTRY: &str = include_str!("../../data/iban_registry.txt");

/// One country's IBAN format.
#[derive(Clone, Debug)]
pub struct Format {
    /// Total length, country code and check digits included.
    pub length: usize,
    /// The BBAN as runs of (count, class): `n` digit, `a` upper-case
    /// letter, `c` either.
    pub bban: Vec<(usize, u8)>,
}

/// The registry, parsed once.
pub fn registry() -> &'static HashMap<[u8; 2], Format> {
    static REG: OnceLock<HashMap<[u8; 2], Format>> = OnceLock::new();
    REG.get_or_init(|| {
        let mut map = HashMap::new();
        for line in REGISTRY.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(cc), Some(len), Some(bban)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(cc), Ok(length)) = (<[u8; 2]>::try_from(cc.as_bytes()), len.parse()) else {
                continue;
            };
            let mut runs = Vec::new();
            let mut count = 0usize;
            for c in bban.bytes() {
                if c.is_ascii_digit() {
                    count = count * 10 + usize::from(c - b'0');
                } else {
                    runs.push((count, c));
                    count = 0;
                }
            }
            map.insert(cc, Format { length, bban: runs });
        }
        map
    })
}

/// Whether a compact, upper-case IBAN has its country's length and
/// structure and passes mod-97.
pub fn validate(iban: &[u8]) -> bool {
    let Some(cc) = iban.get(..2).and_then(|c| <[u8; 2]>::try_from(c).ok()) else {
        return false;
    };
    let Some(format) = registry().get(&cc) else {
        return false;
    };
    if iban.len() != format.length
        || !iban
            .get(2..4)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    {
        return false;
    }
    let mut rest = iban.get(4..).unwrap_or_default().iter();
    for &(count, class) in &format.bban {
        for _ in 0..count {
            let Some(&c) = rest.next() else { return false };
            let ok = match class {
                b'n' => c.is_ascii_digit(),
                b'a' => c.is_ascii_uppercase(),
                _ => c.is_ascii_digit() || c.is_ascii_uppercase(),
            };
            if !ok {
                return false;
            }
        }
    }
    mod97(iban) == 1
}

/// The IBAN's value mod 97 after moving the first four characters to the
/// end (letters count 10–35).
pub fn mod97(iban: &[u8]) -> u32 {
    let (head, tail) = iban.split_at(iban.len().min(4));
    let mut r = 0u32;
    for &c in tail.iter().chain(head) {
        if c.is_ascii_digit() {
            r = (r * 10 + u32::from(c - b'0')) % 97;
        } else {
            let v = u32::from(c.to_ascii_uppercase().wrapping_sub(b'A')) + 10;
            r = (r * 100 + v) % 97;
        }
    }
    r
}

/// Reads an IBAN at word start `i`; reports it if valid. Returns where the
/// pass continues when the text there looks like an IBAN (valid or not),
/// so its digits are not read again as something else.
pub(crate) fn at_word(ctx: &mut Ctx<'_>, i: usize) -> Option<usize> {
    let b = ctx.bytes;
    let (c0, c1) = (byte(b, i), byte(b, i + 1));
    if !(c0.is_ascii_alphabetic()
        && c1.is_ascii_alphabetic()
        && byte(b, i + 2).is_ascii_digit()
        && byte(b, i + 3).is_ascii_digit())
    {
        return None;
    }
    let cc = [c0.to_ascii_uppercase(), c1.to_ascii_uppercase()];
    let format = registry().get(&cc)?;
    let mut compact = Vec::with_capacity(format.length);
    let mut p = i;
    let mut sep = 0u8;
    let mut group = 0usize;
    while compact.len() < format.length {
        let c = byte(b, p);
        if c.is_ascii_alphanumeric() {
            compact.push(c.to_ascii_uppercase());
            group += 1;
            p += 1;
        } else if matches!(c, b' ' | b'-')
            && (sep == 0 || sep == c)
            && group == 4
            && byte(b, p + 1).is_ascii_alphanumeric()
        {
            // printed IBANs come in groups of four
            sep = c;
            group = 0;
            p += 1;
        } else {
            break;
        }
    }
    if compact.len() != format.length || alnum_at(ctx.text, p) {
        return None;
    }
    if !validate(&compact) {
        // a near miss (wrong check digits): nobody else's either
        return Some(p);
    }
    let span = i..p;
    let masked = mask(ctx.slice(span.clone()));
    ctx.push(
        Kind::Iban,
        span,
        None,
        "This looks like a bank account number (IBAN); share it only with someone you trust to pay you."
            .to_owned(),
        masked,
    );
    Some(p)
}

/// Keeps the country code and the last four characters.
fn mask(s: &str) -> String {
    let total = s.chars().filter(char::is_ascii_alphanumeric).count();
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                seen += 1;
                if seen <= 2 || seen + 4 > total {
                    c
                } else {
                    MASK
                }
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::scan::{ScanOptions, scan};

    fn ibans(text: &str) -> Vec<String> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::Iban)
            .map(|f| f.text)
            .collect()
    }

    #[test]
    fn registry_is_complete_and_consistent() {
        let reg = registry();
        assert!(reg.len() >= 85, "{}", reg.len());
        for (cc, f) in reg {
            let bban: usize = f.bban.iter().map(|r| r.0).sum();
            assert_eq!(bban + 4, f.length, "{}", String::from_utf8_lossy(cc));
        }
    }

    #[test]
    fn validates_known_ibans() {
        for iban in [
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "FR1420041010050500013M02606",
            "ES9121000418450200051332",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "CH9300762011623852957",
            "IT60X0542811101000000123456",
            "NO9386011117947",
            "MT84MALT011000012345MTLCAST001S",
        ] {
            assert!(validate(iban.as_bytes()), "{iban}");
        }
        assert!(!validate(b"DE89370400440532013001"), "checksum");
        assert!(!validate(b"GB82WEST1234569876543"), "length");
        assert!(!validate(b"XX82WEST12345698765432"), "country");
    }

    #[test]
    fn finds_spaced_and_compact_forms() {
        assert_eq!(
            ibans("IBAN: DE89 3704 0044 0532 0130 00."),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert_eq!(
            ibans("to gb82west12345698765432 pls"),
            ["gb82west12345698765432"]
        );
        assert!(ibans("DE89 3704 0044 0532 0130 01").is_empty());
        let f = scan("DE89 3704 0044 0532 0130 00", &ScanOptions::default());
        assert_eq!(f[0].masked, "DE•• •••• •••• •••• ••30 00");
        assert_eq!(f.len(), 1, "{f:?}");
    }
}
