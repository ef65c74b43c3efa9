//! `national_id`: identity numbers whose format carries a check or strict
//! ranges; the finding's `detail` (`scheme` on the wire) names the scheme.
//!
//! | scheme | form | check |
//! |---|---|---|
//! | `us_ssn` | `123-45-6789`, `123 45 6789`; nine bare digits only after "SSN"/"social security" | area 001–899 but 666, group ≠ 00, serial ≠ 0000, known advertising numbers excluded |
//! | `uk_nino` | `AB123456C`, `AB 12 34 56 C` | prefix letters (no D F I Q U V, second no O; not BG GB KN NK NT TN ZZ), suffix A–D |
//! | `es_dni` | `12345678Z`, `12.345.678-Z` | check letter (mod 23) |
//! | `es_nie` | `X1234567L`, `X-1234567-L` | check letter (X/Y/Z → 0/1/2, mod 23) |
//! | `fr_nir` | `1 85 05 78 006 084 91` (15 digits) | sex, month, key = 97 − (13 digits mod 97) |
//! | `it_codice_fiscale` | `RSSMRA85T10A562S` | check character (odd/even tables), month letter |
//! | `nl_bsn` | nine digits after "BSN" | 11-check |
//! | `de_steuer_id` | eleven digits after "Steuer-ID"/"Identifikationsnummer" | ISO 7064 MOD 11,10 and the digit-repetition rule |
//!
//! Non-goals: schemes without a check (or with one too weak to tell an id
//! from an order number) unless a context word announces them; passports.

use crate::detect::lexicon::Tag;
use crate::detect::number::{Run, negative_context};
use crate::detect::{Ctx, value};
use crate::finding::Kind;
use crate::text::{byte, mask_keep_last};

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// How far before a number a context word may end.
const CONTEXT_WINDOW: usize = 40;

/// Whether `area-group-serial` is a possible SSN.
pub fn ssn_valid(area: u64, group: u64, serial: u64) -> bool {
    (1..=899).contains(&area)
        && area != 666
        && (1..=99).contains(&group)
        && (1..=9999).contains(&serial)
        && !matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999))
}

/// The check letter of a DNI number.
pub fn dni_letter(number: u64) -> u8 {
    DNI_LETTERS
        .get((number % 23) as usize)
        .copied()
        .unwrap_or(b'?')
}

/// Whether a NINO (9 ASCII chars, no spaces, upper case) is well formed.
pub fn nino_valid(s: &[u8]) -> bool {
    let [a, b, d @ .., suffix] = s else {
        return false;
    };
    d.len() == 6
        && d.iter().all(u8::is_ascii_digit)
        && a.is_ascii_uppercase()
        && b.is_ascii_uppercase()
        && !b"DFIQUV".contains(a)
        && !b"DFIOQUV".contains(b)
        && ![*b"BG", *b"GB", *b"KN", *b"NK", *b"NT", *b"TN", *b"ZZ"].contains(&[*a, *b])
        && (b'A'..=b'D').contains(suffix)
}

/// Whether a 15-digit French NIR is valid (key included).
pub fn nir_valid(d: &[u8]) -> bool {
    if d.len() != 15 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sex = value(d.get(..1).unwrap_or_default());
    let month = value(d.get(3..5).unwrap_or_default());
    let body = value(d.get(..13).unwrap_or_default());
    let key = value(d.get(13..).unwrap_or_default());
    matches!(sex, 1 | 2 | 3 | 4 | 7 | 8)
        && ((1..=12).contains(&month) || month >= 20)
        && key == 97 - body % 97
}

/// Whether nine digits pass the Dutch 11-check.
pub fn bsn_valid(d: &[u8]) -> bool {
    if d.len() != 9 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: i64 = d
        .iter()
        .zip([9i64, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(&c, w)| i64::from(c - b'0') * w)
        .sum();
    sum != 0 && sum % 11 == 0
}

/// Whether eleven digits are a valid German tax id.
pub fn steuer_id_valid(d: &[u8]) -> bool {
    if d.len() != 11 || !d.iter().all(u8::is_ascii_digit) || d.first() == Some(&b'0') {
        return false;
    }
    let body = d.get(..10).unwrap_or_default();
    let mut counts = [0u8; 10];
    for &c in body {
        if let Some(n) = counts.get_mut(usize::from(c - b'0')) {
            *n += 1;
        }
    }
    let repeated = counts.iter().filter(|&&n| n >= 2).count();
    if repeated != 1 || counts.iter().any(|&n| n > 3) {
        return false;
    }
    let mut product = 10u32;
    for &c in body {
        let mut sum = (u32::from(c - b'0') + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    d.get(10).is_some_and(|&c| u32::from(c - b'0') == check)
}

/// Whether 16 upper-case characters are a valid Italian codice fiscale.
pub fn codice_fiscale_valid(s: &[u8]) -> bool {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    const OMOCODE: &[u8] = b"LMNPQRSTUV";
    if s.len() != 16 {
        return false;
    }
    // letters at 0..6, 8, 11, 15; digits (or omocode letters) elsewhere;
    // month letter at 8
    for (i, &c) in s.iter().enumerate() {
        let ok = match i {
            0..=5 | 8 | 11 | 15 => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit() || OMOCODE.contains(&c),
        };
        if !ok {
            return false;
        }
    }
    if !s.get(8).is_some_and(|m| b"ABCDEHLMPRST".contains(m)) {
        return false;
    }
    let val = |c: u8| -> u32 {
        if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A')
        }
    };
    let mut sum = 0;
    for (i, &c) in s.iter().take(15).enumerate() {
        let v = val(c) as usize;
        sum += if i % 2 == 0 {
            ODD.get(v).copied().unwrap_or(0)
        } else {
            v as u32
        };
    }
    s.get(15).is_some_and(|&c| u32::from(c - b'A') == sum % 26)
}

/// Reports a national id.
fn report(
    ctx: &mut Ctx<'_>,
    span: core::ops::Range<usize>,
    scheme: &'static str,
    keep: usize,
) -> usize {
    let end = span.end;
    let masked = mask_keep_last(ctx.slice(span.clone()), keep);
    let what = match scheme {
        "us_ssn" => "a US Social Security number",
        "uk_nino" => "a UK National Insurance number",
        "es_dni" => "a Spanish DNI number",
        "es_nie" => "a Spanish NIE number",
        "fr_nir" => "a French social security number (NIR)",
        "it_codice_fiscale" => "an Italian codice fiscale",
        "nl_bsn" => "a Dutch citizen service number (BSN)",
        _ => "a German tax identification number",
    };
    ctx.push(
        Kind::NationalId,
        span,
        Some(scheme),
        format!("This looks like {what}, which can be used for identity theft."),
        masked,
    );
    end
}

/// A DNI: eight digits (plain or `12.345.678`), then an optional `-` or
/// space and the check letter.
pub(crate) fn dni_at(ctx: &mut Ctx<'_>, run: &Run) -> Option<usize> {
    if run.plus
        || run.count(0, run.n) != 8
        || !(run.n == 1
            || (run.n == 3 && run.sep(1) == run.sep(2) && matches!(run.sep(1), b'.' | b' ')))
    {
        return None;
    }
    let mut p = run.end;
    if matches!(byte(ctx.bytes, p), b'-' | b' ') {
        p += 1;
    }
    let letter = byte(ctx.bytes, p).to_ascii_uppercase();
    if !letter.is_ascii_uppercase() || crate::text::alnum_at(ctx.text, p + 1) {
        return None;
    }
    let digits = run.digits(ctx.bytes, 0, run.n);
    if dni_letter(value(&digits)) != letter || byte(ctx.bytes, p) != letter {
        return None;
    }
    Some(report(ctx, run.start..p + 1, "es_dni", 3))
}

/// Digit-only national ids in a run.
pub(crate) fn in_run(ctx: &mut Ctx<'_>, run: &Run) -> Option<usize> {
    if run.plus {
        return None;
    }
    let total = run.count(0, run.n);
    // SSN: 3-2-4 with one separator kind
    if run.n == 3
        && run.len(0) == 3
        && run.len(1) == 2
        && run.len(2) == 4
        && run.sep(1) == run.sep(2)
        && matches!(run.sep(1), b'-' | b' ')
    {
        let d = run.digits(ctx.bytes, 0, 3);
        let ok = ssn_valid(value(d.get(..3)?), value(d.get(3..5)?), value(d.get(5..)?));
        if ok
            && (!negative_context(ctx, run, 12)
                || ctx.context_before(run.start, CONTEXT_WINDOW, Tag::SsnContext))
        {
            return Some(report(ctx, run.span(0, 3), "us_ssn", 4));
        }
        return None;
    }
    if total == 15 && (run.n == 1 || run.len(0) == 1) {
        let d = run.digits(ctx.bytes, 0, run.n);
        if nir_valid(&d) {
            return Some(report(ctx, run.span(0, run.n), "fr_nir", 2));
        }
    }
    let single = run.n == 1 || (run.sep(1) == b' ' && (1..run.n).all(|k| run.sep(k) == b' '));
    if total == 9 && single {
        let d = run.digits(ctx.bytes, 0, run.n);
        if ctx.context_before(run.start, CONTEXT_WINDOW, Tag::SsnContext)
            && run.n == 1
            && ssn_valid(value(d.get(..3)?), value(d.get(3..5)?), value(d.get(5..)?))
        {
            return Some(report(ctx, run.span(0, 1), "us_ssn", 4));
        }
        if ctx.context_before(run.start, CONTEXT_WINDOW, Tag::BsnContext) && bsn_valid(&d) {
            return Some(report(ctx, run.span(0, run.n), "nl_bsn", 2));
        }
    }
    if total == 11 && single && ctx.context_before(run.start, CONTEXT_WINDOW, Tag::SteuerContext) {
        let d = run.digits(ctx.bytes, 0, run.n);
        if steuer_id_valid(&d) {
            return Some(report(ctx, run.span(0, run.n), "de_steuer_id", 2));
        }
    }
    None
}

/// Letter-led ids at a word start `i` (NINO, NIE, codice fiscale); `word`
/// is the end of the ASCII-alphanumeric word there.
pub(crate) fn at_word(ctx: &mut Ctx<'_>, i: usize, word: usize) -> Option<usize> {
    let b = ctx.bytes;
    let len = word - i;
    let first = byte(b, i);
    if !first.is_ascii_uppercase() {
        return None;
    }
    // codice fiscale: one 16-character word
    if len == 16 {
        let w = b.get(i..word)?;
        if codice_fiscale_valid(w) {
            return Some(report(ctx, i..word, "it_codice_fiscale", 1));
        }
        return None;
    }
    // NIE: X1234567L, X-1234567-L, X 1234567 L
    if matches!(first, b'X' | b'Y' | b'Z') {
        let mut compact = Vec::with_capacity(9);
        let mut p = i;
        let mut parts = 0;
        while compact.len() < 9 && parts < 3 {
            let c = byte(b, p);
            if c.is_ascii_alphanumeric() {
                compact.push(c);
                p += 1;
            } else if matches!(c, b'-' | b' ') && (compact.len() == 1 || compact.len() == 8) {
                parts += 1;
                p += 1;
            } else {
                break;
            }
        }
        if compact.len() == 9 && !crate::text::alnum_at(ctx.text, p) {
            let digits = compact.get(1..8)?;
            let prefix = u64::from(first - b'X');
            if digits.iter().all(u8::is_ascii_digit)
                && compact.last().copied() == Some(dni_letter(prefix * 10_000_000 + value(digits)))
            {
                return Some(report(ctx, i..p, "es_nie", 3));
            }
        }
    }
    // NINO: AB123456C or AB 12 34 56 C
    if len == 9 || len == 2 {
        let mut compact = Vec::with_capacity(9);
        let mut p = i;
        while compact.len() < 9 {
            let c = byte(b, p);
            if c.is_ascii_alphanumeric() {
                compact.push(c);
                p += 1;
            } else if c == b' ' && len == 2 && matches!(compact.len(), 2 | 4 | 6 | 8) {
                p += 1;
            } else {
                break;
            }
        }
        if compact.len() == 9 && !crate::text::alnum_at(ctx.text, p) && nino_valid(&compact) {
            return Some(report(ctx, i..p, "uk_nino", 2));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::scan::{ScanOptions, scan};

    fn ids(text: &str) -> Vec<(String, &'static str)> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::NationalId)
            .map(|f| (f.text, f.detail.unwrap()))
            .collect()
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn_valid(536, 22, 1234));
        assert!(!ssn_valid(666, 22, 1234));
        assert!(!ssn_valid(0, 22, 1234));
        assert!(!ssn_valid(901, 22, 1234));
        assert!(!ssn_valid(536, 0, 1234));
        assert!(!ssn_valid(536, 22, 0));
        assert_eq!(
            ids("my ssn is 536-22-1234."),
            [("536-22-1234".into(), "us_ssn")]
        );
        assert_eq!(ids("SSN 536221234"), [("536221234".into(), "us_ssn")]);
        assert!(ids("call 536221234").is_empty());
        assert!(ids("666-22-1234 and 536-00-1234").is_empty());
    }

    #[test]
    fn spanish_dni_and_nie() {
        assert_eq!(dni_letter(12_345_678), b'Z');
        assert_eq!(ids("DNI 12345678Z"), [("12345678Z".into(), "es_dni")]);
        assert_eq!(
            ids("dni: 12.345.678-Z"),
            [("12.345.678-Z".into(), "es_dni")]
        );
        assert!(ids("DNI 12345678A").is_empty());
        assert_eq!(ids("NIE X1234567L ok"), [("X1234567L".into(), "es_nie")]);
        assert_eq!(ids("NIE X-1234567-L"), [("X-1234567-L".into(), "es_nie")]);
        assert!(ids("NIE X1234567A").is_empty());
    }

    #[test]
    fn uk_nino() {
        assert!(nino_valid(b"AB123456C"));
        assert!(!nino_valid(b"QQ123456C"));
        assert!(!nino_valid(b"GB123456A"));
        assert!(!nino_valid(b"AB123456E"));
        assert_eq!(
            ids("NI AB 12 34 56 C."),
            [("AB 12 34 56 C".into(), "uk_nino")]
        );
        assert_eq!(ids("nino JG103759A"), [("JG103759A".into(), "uk_nino")]);
    }

    #[test]
    fn french_italian_dutch_german() {
        assert!(nir_valid(b"185057800608491"));
        assert_eq!(
            ids("NIR 1 85 05 78 006 084 91"),
            [("1 85 05 78 006 084 91".into(), "fr_nir")]
        );
        assert!(!nir_valid(b"185057800608437"));
        assert!(codice_fiscale_valid(b"RSSMRA85T10A562S"));
        assert!(!codice_fiscale_valid(b"RSSMRA85T10A562T"));
        assert_eq!(
            ids("CF RSSMRA85T10A562S"),
            [("RSSMRA85T10A562S".into(), "it_codice_fiscale")]
        );
        assert!(bsn_valid(b"111222333"));
        assert_eq!(
            ids("mijn BSN is 111222333"),
            [("111222333".into(), "nl_bsn")]
        );
        assert!(ids("order 111222333").is_empty());
        assert!(steuer_id_valid(b"86095742719"));
        assert!(!steuer_id_valid(b"86095742718"));
        assert_eq!(
            ids("Steuer-ID: 86095742719"),
            [("86095742719".into(), "de_steuer_id")]
        );
    }
}
