//! `phone`: telephone numbers, validated with libphonenumber's numbering
//! data (the `phonenumber` crate, a Rust port kept in step with
//! libphonenumber's metadata; it builds for wasm32 and parses a candidate
//! in microseconds, and only digit runs that look like phone numbers reach
//! it).
//!
//! Job: [`in_run`] decides whether a digit run is a phone number:
//! - international form (`+49 30 1234567`, `0049 30 1234567`,
//!   `+44 (0)20 7946 0018`): valid for the country its code names;
//! - national form: valid in one of [`ScanOptions::phone_regions`]
//!   (default: US, CA, GB, IE, DE, AT, CH, FR, BE, NL, ES, IT), and
//!   written like a phone number: a trunk `0` and at least nine digits
//!   (`030 1234567`, `06 12 34 56 78`), a North-American `(415) 555-0132`
//!   / `415-555-0132` shape, a Spanish/Italian mobile in groups
//!   (`612 34 56 78`, `347 123 4567`), or any form after a phone word
//!   ("call", "Telefon", "portable", "móvil"…).
//!
//! Not phones: dates (`06.12.2024`), amounts (`€ 0301234567`), numbers
//! after `#` or after an order/invoice/tracking word ("Bestellnummer
//! 0301234567") unless a phone word is nearer.
//!
//! [`ScanOptions::phone_regions`]: crate::scan::ScanOptions::phone_regions

use crate::detect::lexicon::Tag;
use crate::detect::number::{Run, negative_context};
use crate::detect::{Ctx, numbering};
use crate::finding::Kind;
use crate::text::MASK;

/// Regions whose national numbers never start with `0` (Italian landlines
/// do, without it being a trunk prefix).
const NEVER_ZERO: [&str; 3] = ["US", "CA", "ES"];

/// Finds a phone number in `run`; reports it and returns its end.
pub(crate) fn in_run(ctx: &mut Ctx<'_>, run: &Run) -> Option<usize> {
    if date_shaped(run) {
        return None;
    }
    for b in (1..=run.n).rev() {
        let n = run.count(0, b);
        if n < 7 {
            break;
        }
        if n > 17 {
            continue;
        }
        if valid(ctx, run, b) {
            let span = run.span(0, b);
            let text = ctx.slice(span.clone());
            let masked = mask(text, run.plus);
            ctx.push(
                Kind::Phone,
                span.clone(),
                None,
                "This is a phone number: personal contact details should not be shared in this chat."
                    .to_owned(),
                masked,
            );
            return Some(span.end);
        }
        // only the whole run or a run with trailing groups dropped
        if b + 2 < run.n {
            break;
        }
    }
    None
}

/// Whether groups `0..b` of `run` are a valid phone number here.
fn valid(ctx: &Ctx<'_>, run: &Run, b: usize) -> bool {
    let digits = run.digits(ctx.bytes, 0, b);
    let digits = std::str::from_utf8(&digits).unwrap_or_default();
    let intl = run.plus || (digits.starts_with("00") && !digits.starts_with("000"));
    if intl {
        let rest = if run.plus {
            digits
        } else {
            digits.get(2..).unwrap_or_default()
        };
        return rest.len() <= 15 && numbering::valid_international(rest);
    }
    if digits.len() > 15 || negative_context(ctx, run, 30) {
        return false;
    }
    let context = ctx.context_before(run.start, 40, Tag::PhoneContext);
    let regions = &ctx.options.phone_regions;
    if digits.starts_with('0') {
        // a trunk prefix: regions that dial one
        return (context || digits.len() >= 9)
            && regions
                .iter()
                .filter(|r| !NEVER_ZERO.contains(&r.as_str()) && plausible_length(r, digits.len()))
                .any(|r| numbering::valid_national(r, digits));
    }
    if !(context || nanp_shaped(run, b) || mobile_shaped(run, b)) {
        return false;
    }
    regions
        .iter()
        .filter(|r| NO_TRUNK.contains(&r.as_str()))
        .any(|r| numbering::valid_national(r, digits))
}

/// Regions whose national numbers need no trunk prefix.
const NO_TRUNK: [&str; 4] = ["US", "CA", "ES", "IT"];

/// Whether a national number of `n` digits (trunk `0` included) can be
/// one of `region`'s (a cheap filter before the numbering data).
fn plausible_length(region: &str, n: usize) -> bool {
    match region {
        "FR" | "NL" | "CH" => n == 10,
        "BE" | "IE" => (9..=10).contains(&n),
        "GB" => (10..=11).contains(&n),
        "DE" => (6..=13).contains(&n),
        "AT" => (6..=14).contains(&n),
        "IT" => (6..=11).contains(&n),
        _ => true,
    }
}

/// `(415) 555-0132`, `415-555-0132`, `415.555.0132`, `415 555 0132`,
/// `1-415-555-0132`.
fn nanp_shaped(run: &Run, b: usize) -> bool {
    let lens: Vec<usize> = (0..b).map(|k| run.len(k)).collect();
    let seps_ok = (1..b).all(|k| matches!(run.sep(k), b'-' | b'.' | b' ' | b'('));
    seps_ok && (lens == [3, 3, 4] || lens == [1, 3, 3, 4])
}

/// Spanish (`612 34 56 78`, `612 345 678`) and Italian mobile
/// (`347 123 4567`) groupings.
fn mobile_shaped(run: &Run, b: usize) -> bool {
    let lens: Vec<usize> = (0..b).map(|k| run.len(k)).collect();
    let sep = run.sep(1);
    let same = matches!(sep, b' ' | b'-' | b'.') && (1..b).all(|k| run.sep(k) == sep);
    same && (lens == [3, 2, 2, 2] || lens == [3, 3, 3] || lens == [3, 3, 4] || lens == [3, 7])
}

/// `06.12.2024`, `2024-12-06`, `6/12/24`.
fn date_shaped(run: &Run) -> bool {
    if run.n != 3 || run.sep(1) != run.sep(2) || !matches!(run.sep(1), b'.' | b'/' | b'-') {
        return false;
    }
    let l = [run.len(0), run.len(1), run.len(2)];
    matches!(l, [1 | 2, 1 | 2, 2 | 4] | [4, 1 | 2, 1 | 2])
}

/// `+49 •• •••••67`: the `+` and country code stay, then all digits but the
/// last two are masked.
fn mask(text: &str, plus: bool) -> String {
    let total = text.bytes().filter(u8::is_ascii_digit).count();
    let keep_head = if plus {
        text.bytes()
            .skip(1)
            .take_while(u8::is_ascii_digit)
            .count()
            .min(3)
    } else {
        0
    };
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= keep_head || seen + 2 > total {
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

    fn phones(text: &str) -> Vec<String> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::Phone)
            .map(|f| f.text)
            .collect()
    }

    #[test]
    fn international_and_national_forms() {
        assert_eq!(phones("ruf an: +49 30 1234567."), ["+49 30 1234567"]);
        assert_eq!(phones("0049 30 12345678 bitte"), ["0049 30 12345678"]);
        assert_eq!(phones("call me on (201) 555-0123"), ["(201) 555-0123"]);
        assert_eq!(phones("mon portable 06 12 34 56 78"), ["06 12 34 56 78"]);
        assert_eq!(phones("my mobile is 07700 900123"), ["07700 900123"]);
        assert_eq!(phones("+44 (0)20 7946 0018"), ["+44 (0)20 7946 0018"]);
        assert_eq!(phones("móvil 612 34 56 78"), ["612 34 56 78"]);
    }

    #[test]
    fn ordinary_numbers_are_not_phones() {
        for t in [
            "order 0301234567 shipped",
            "Bestellnummer 0301234567",
            "delivered 06.12.2024",
            "total € 0301234567",
            "ticket #0301234567",
            "12345678 items",
            "the year 2024 was 1234567 units",
        ] {
            assert!(phones(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn masks_keeping_country_code_and_last_two() {
        assert_eq!(mask("+49 30 1234567", true), "+49 •• •••••67");
        assert_eq!(mask("030 1234567", false), "••• •••••67");
    }
}
