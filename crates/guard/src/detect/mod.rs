//! The detectors, one module per kind, and what they share: the
//! [`Ctx`] a scan threads through them (text, lexicon hits, options, the
//! findings so far).
//!
//! Job: each detector is entered by the single pass in `crate::scan` at
//! the byte that can start its kind (a digit, a letter at a word start, an
//! `@`, a `:`) or from a lexicon hit, validates the candidate (checksums,
//! ranges, numbering data) and pushes at most a few findings; it returns
//! where the pass continues, so no byte is examined twice by the same
//! family. Every module keeps its own unit tests.
//!
//! Non-goals: deciding between overlapping findings (`crate::scan` does),
//! and what to do about a finding (`crate::policy`).

pub mod credential;
pub mod email;
pub mod iban;
pub mod ip_address;
pub mod lexicon;
pub mod national_id;
pub(crate) mod number;
pub mod numbering;
pub mod payment_card;
pub mod phone;
pub mod scam_cue;
pub(crate) mod word;

use core::ops::Range;

use crate::finding::{Finding, Kind};
use crate::scan::ScanOptions;
use lexicon::{Hit, Tag};

/// What a scan threads through the detectors.
pub(crate) struct Ctx<'a> {
    /// The message.
    pub text: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Lexicon hits so far (the pass adds them as it reaches each word).
    pub hits: Vec<Hit>,
    /// The folded text, built at the first word that could start a phrase.
    pub fold: Option<crate::text::Folded>,
    /// The scan options.
    pub options: &'a ScanOptions,
    /// Findings so far (may overlap; `crate::scan` resolves).
    pub out: Vec<Finding>,
}

impl<'a> Ctx<'a> {
    /// A context over `text`.
    pub fn new(text: &'a str, options: &'a ScanOptions) -> Ctx<'a> {
        Ctx {
            text,
            bytes: text.as_bytes(),
            hits: Vec::new(),
            fold: None,
            options,
            out: Vec::new(),
        }
    }

    /// The text of `span` ("" if it is not on char boundaries).
    pub fn slice(&self, span: Range<usize>) -> &'a str {
        self.text.get(span).unwrap_or_default()
    }

    /// The nearest hit with `tag` that ends at most `window` bytes before
    /// `pos` (and not after it): its end.
    pub fn hit_before(&self, pos: usize, window: usize, tag: Tag) -> Option<usize> {
        // hits come in text order (a private-key header may come first)
        self.hits
            .iter()
            .rev()
            .take_while(|h| h.tag == Tag::Pem || h.end + window >= pos)
            .filter(|h| h.tag == tag && h.end <= pos && pos - h.end <= window)
            .map(|h| h.end)
            .next()
    }

    /// Whether a hit with `tag` ends within `window` bytes before `pos`.
    pub fn context_before(&self, pos: usize, window: usize, tag: Tag) -> bool {
        self.hit_before(pos, window, tag).is_some()
    }

    /// Records a finding.
    pub fn push(
        &mut self,
        kind: Kind,
        span: Range<usize>,
        detail: Option<&'static str>,
        explanation: String,
        masked: String,
    ) {
        let Some(text) = self.text.get(span.clone()) else {
            return;
        };
        self.out.push(Finding {
            kind,
            text: text.to_owned(),
            span,
            detail,
            explanation,
            masked,
            link: None,
        });
    }
}

/// Luhn check over ASCII digits (ignoring anything else).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &d in digits.iter().rev() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if double {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
        double = !double;
    }
    sum.is_multiple_of(10)
}

/// The decimal value of ASCII digits (saturating; for short fields).
pub(crate) fn value(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |acc, &d| {
        acc.saturating_mul(10)
            .saturating_add(u64::from(d.wrapping_sub(b'0')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_typos() {
        assert!(luhn(b"4242424242424242"));
        assert!(luhn(b"378282246310005"));
        assert!(!luhn(b"4242424242424241"));
        assert!(!luhn(b"42424x4242424242"));
    }
}
