//! Digit runs: the entry point of the single pass for everything that
//! starts with a digit, `+` or `(`: cards, SSNs, DNIs, NIRs, BSNs,
//! Steuer-IDs, IPv4 addresses and phone numbers.
//!
//! Job: [`at`] reads one *run* — digit groups joined by one separator each
//! (space, no-break space, `-`, `.`, `/`, ` - `, parentheses around an area
//! code) — and hands it to the validators in a fixed order (national id,
//! card, IPv4, phone); it returns the end of what it reported, or of the
//! run, so the pass never re-reads a digit.
//!
//! A run *glued* to a word is nobody's: a digit right after a letter,
//! digit or `x.`/`x-`/`x/`/`x_`/`#` (`INV-2024-0042`, `v1.2.3.4`,
//! `#12345678`), or right before a letter (`1Z999…`, `10kg`) — except the
//! letter of a Spanish DNI (`12345678Z`).
//!
//! Non-goals: numbers written in words, Arabic-Indic digits.

use crate::detect::lexicon::Tag;
use crate::detect::{Ctx, national_id, payment_card, phone};
use crate::text::{byte, byte_before};

/// Most digit groups one run holds; longer runs are cut.
pub(crate) const MAX_GROUPS: usize = 16;

/// One digit run.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    /// Start byte (the `+` or `(` if any).
    pub start: usize,
    /// End byte (after the last digit, or `)`).
    pub end: usize,
    /// Starts with `+`.
    pub plus: bool,
    /// Number of groups.
    pub n: usize,
    /// Byte ranges of the digit groups.
    pub groups: [(usize, usize); MAX_GROUPS],
    /// The separator before each group (`0` for the first): b' ', b'-',
    /// b'.', b'/', b'(' (any parenthesis form).
    pub seps: [u8; MAX_GROUPS],
}

impl Run {
    /// Digits of groups `a..b`, concatenated.
    pub fn digits(&self, bytes: &[u8], a: usize, b: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        for &(s, e) in self.groups.iter().take(b).skip(a) {
            out.extend_from_slice(bytes.get(s..e).unwrap_or_default());
        }
        out
    }

    /// Number of digits in groups `a..b`.
    pub fn count(&self, a: usize, b: usize) -> usize {
        self.groups.iter().take(b).skip(a).map(|(s, e)| e - s).sum()
    }

    /// Group `k`'s byte range (empty past the end).
    pub fn group(&self, k: usize) -> (usize, usize) {
        self.groups.get(k).copied().unwrap_or((0, 0))
    }

    /// The separator before group `k`.
    pub fn sep(&self, k: usize) -> u8 {
        self.seps.get(k).copied().unwrap_or(0)
    }

    /// Length of group `k`.
    pub fn len(&self, k: usize) -> usize {
        let (s, e) = self.group(k);
        e - s
    }

    /// Byte span of groups `a..b` (with the run's `+`/`(` when `a == 0`).
    pub fn span(&self, a: usize, b: usize) -> core::ops::Range<usize> {
        let start = if a == 0 { self.start } else { self.group(a).0 };
        let mut end = self.group(b.saturating_sub(1)).1;
        if b == self.n {
            end = end.max(self.end);
        }
        start..end
    }
}

/// Whether a digit run may start at `i` (not glued to a preceding word).
pub(crate) fn starts_at(text: &str, i: usize) -> bool {
    let bytes = text.as_bytes();
    let p = byte_before(bytes, i);
    if p.is_ascii_alphanumeric() || p == b'#' {
        return false;
    }
    if matches!(
        p,
        b'.' | b'-' | b'/' | b'_' | b'\\' | b'@' | b'&' | b'?' | b'%' | b','
    ) {
        let pp = byte_before(bytes, i - 1);
        if pp.is_ascii_alphanumeric() || (p == b'-' && pp == b'-') {
            return false;
        }
    }
    // a non-ASCII letter glued before (`№123` is fine, `é123` is not)
    !(p >= 0x80 && crate::text::alnum_before(text, i))
}

/// Reads the run starting at `i` (a digit, or `+`/`(` before a digit).
pub(crate) fn read(bytes: &[u8], i: usize) -> Run {
    let mut run = Run {
        start: i,
        end: i,
        plus: false,
        n: 0,
        groups: [(0, 0); MAX_GROUPS],
        seps: [0; MAX_GROUPS],
    };
    let mut p = i;
    let mut open = false;
    match byte(bytes, p) {
        b'+' => {
            run.plus = true;
            p += 1;
        }
        b'(' => {
            open = true;
            p += 1;
        }
        _ => {}
    }
    let mut sep = 0u8;
    loop {
        let s = p;
        while byte(bytes, p).is_ascii_digit() {
            p += 1;
        }
        if p == s {
            break;
        }
        if let (Some(g), Some(sp)) = (run.groups.get_mut(run.n), run.seps.get_mut(run.n)) {
            *g = (s, p);
            *sp = sep;
        }
        run.n += 1;
        run.end = p;
        if run.n == MAX_GROUPS {
            break;
        }
        // separator before the next group
        let (next, kind) = match (byte(bytes, p), byte(bytes, p + 1), byte(bytes, p + 2)) {
            (b')', b' ' | b'-', d) if open && d.is_ascii_digit() => {
                open = false;
                (p + 2, b'(')
            }
            (b')', d, _) if open && d.is_ascii_digit() => {
                open = false;
                (p + 1, b'(')
            }
            (b' ', b'(', d) if d.is_ascii_digit() => {
                open = true;
                (p + 2, b'(')
            }
            (b' ', b'-', b' ') if byte(bytes, p + 3).is_ascii_digit() => (p + 3, b'-'),
            (b' ' | b'-' | b'.' | b'/', d, _) if d.is_ascii_digit() => (p + 1, byte(bytes, p)),
            (0xC2, 0xA0, d) if d.is_ascii_digit() => (p + 2, b' '),
            _ => break,
        };
        p = next;
        sep = kind;
    }
    if open && byte(bytes, run.end) == b')' && run.n == 1 {
        run.end += 1;
    }
    run
}

/// Handles the run starting at `i`; returns where the pass continues.
pub(crate) fn at(ctx: &mut Ctx<'_>, i: usize) -> usize {
    let run = read(ctx.bytes, i);
    if run.n == 0 {
        return i + 1;
    }
    let after = byte(ctx.bytes, run.end);
    let total = run.count(0, run.n);
    // part of an e-mail local part or a word: nobody's
    if after == b'@' || (after == b'_') {
        return run.end;
    }
    if after.is_ascii_alphabetic() {
        if let Some(end) = national_id::dni_at(ctx, &run) {
            return end;
        }
        return run.end;
    }
    if total < 4 {
        return run.end;
    }
    if let Some(end) = crate::detect::ip_address::v4_in_run(ctx, &run) {
        return end;
    }
    if total < 7 {
        return run.end;
    }
    if let Some(end) = national_id::dni_at(ctx, &run) {
        return end;
    }
    if let Some(end) = national_id::in_run(ctx, &run) {
        return end;
    }
    if let Some(end) = payment_card::in_run(ctx, &run) {
        return end;
    }
    let prev = byte_before(ctx.bytes, run.start);
    if prev != b'#'
        && prev != b'$'
        && !is_money(ctx, &run)
        && let Some(end) = phone::in_run(ctx, &run)
    {
        return end;
    }
    run.end
}

/// Whether the run is an amount of money (a currency sign or code right
/// before or after it).
fn is_money(ctx: &Ctx<'_>, run: &Run) -> bool {
    let before = ctx.text.get(..run.start).unwrap_or_default().trim_end();
    let after = ctx.text.get(run.end..).unwrap_or_default().trim_start();
    let signs = ['€', '$', '£', '¥', '₹', '₽', '₺'];
    before.ends_with(signs)
        || after.starts_with(signs)
        || [
            "EUR", "USD", "GBP", "CHF", "eur", "usd", "Euro", "euro", "dollars",
        ]
        .iter()
        .any(|c| after.starts_with(c) || before.ends_with(c))
}

/// Whether a hit of `tag` ends within `window` bytes before the run, with
/// no phone word nearer (for "order 0301234567, call 0301234567").
pub(crate) fn negative_context(ctx: &Ctx<'_>, run: &Run, window: usize) -> bool {
    match ctx.hit_before(run.start, window, Tag::NotPersonal) {
        Some(neg) => ctx
            .hit_before(run.start, window, Tag::PhoneContext)
            .is_none_or(|pos| pos < neg),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn groups(s: &str) -> Vec<&str> {
        let r = read(s.as_bytes(), 0);
        (0..r.n).map(|k| &s[r.group(k).0..r.group(k).1]).collect()
    }

    #[test]
    fn reads_groups_and_separators() {
        assert_eq!(
            groups("4111 1111-1111.1111 x"),
            ["4111", "1111", "1111", "1111"]
        );
        assert_eq!(groups("(415) 555-0132"), ["415", "555", "0132"]);
        assert_eq!(
            groups("+44 (0)20 7946 0018"),
            ["44", "0", "20", "7946", "0018"]
        );
        assert_eq!(groups("030 - 1234567"), ["030", "1234567"]);
        assert_eq!(groups("12 ab"), ["12"]);
        let r = read(b"+49 30", 0);
        assert!(r.plus && r.span(0, r.n) == (0..6));
    }

    #[test]
    fn glued_numbers_do_not_start_runs() {
        let t = "INV-2024 v1.2 #123 a/5 (12) x 7 é8";
        for (i, expect) in [
            (4, false),
            (12, false),
            (15, false),
            (21, false),
            (24, true),
            (30, true),
            (34, false),
        ] {
            assert_eq!(starts_at(t, i), expect, "at {i}");
        }
    }
}
