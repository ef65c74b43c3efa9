//! The single-pass scanner: every detector over one message, findings
//! de-duplicated by one fixed rule.
//!
//! Job: [`scan`] runs, in this order,
//! 1. the lexicon (one Aho-Corasick automaton over the case- and
//!    accent-folded message) for scam cues and context words;
//! 2. one byte pass over the message, entering a detector only where its
//!    kind can start — a digit run (`number`), a letter at a word start
//!    (`word`), an `@` (`email`), a `:` after a hex digit (`ip_address`) —
//!    and skipping ordinary words in one step;
//! 3. the link analyser, [`crate::link::find_links`].
//!
//! **Overlaps** are resolved deterministically: scam cues never conflict
//! (they describe a phrase, not data); among the other findings a
//! credential beats anything it overlaps (a secret inside a URL must not
//! leave the device), then an e-mail beats a link (`mailto:` links report
//! the address), then the longer span wins (a card number inside a URL is
//! part of the link), then the kind that comes first in
//! `payment_card, iban, national_id, email, ip_address, phone, link`, then
//! the earlier start. The result is sorted by start, then kind.
//!
//! Non-goals: policy (see [`crate::policy`]); I/O; state across messages.

use serde::{Deserialize, Serialize};

use crate::detect::lexicon::{Lexicon, Tag};
use crate::detect::{Ctx, credential, email, ip_address, number, scam_cue, word};
use crate::finding::{Finding, Kind};
use crate::text::byte;

/// What a scan needs to know about the organisation and its visitors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanOptions {
    /// The organisation's own domains (`acme.com`): links to them are safe.
    pub org_domains: Vec<String>,
    /// ISO 3166 regions tried, in order, for phone numbers written without
    /// a country code.
    pub phone_regions: Vec<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            org_domains: Vec::new(),
            phone_regions: [
                "US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "ES", "IT",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        }
    }
}

/// Every finding in `text`, overlaps resolved, in order of position.
pub fn scan(text: &str, options: &ScanOptions) -> Vec<Finding> {
    let lexicon = Lexicon::get();
    let mut ctx = Ctx::new(text, options);
    ctx.hits.extend(lexicon.pem(text));
    pass(&mut ctx, lexicon);
    scam_cue::from_hits(&mut ctx);
    if ctx
        .hits
        .iter()
        .any(|h| matches!(h.tag, Tag::Pem | Tag::PasswordKey | Tag::SecretContext))
    {
        credential::from_hits(&mut ctx);
    }
    let mut findings = ctx.out;
    if findings.is_empty() {
        return crate::link::find_links(text, &options.org_domains);
    }
    findings.extend(crate::link::find_links(text, &options.org_domains));
    resolve(findings)
}

/// The byte pass. At each word start the lexicon is probed first (its
/// hits are the context of what follows), then the word's detectors run.
fn pass(ctx: &mut Ctx<'_>, lexicon: &Lexicon) {
    let b = ctx.bytes;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i = match c {
            b'0'..=b'9' if number::starts_at(ctx.text, i) => number::at(ctx, i),
            b'+' | b'(' if byte(b, i + 1).is_ascii_digit() && number::starts_at(ctx.text, i) => {
                number::at(ctx, i)
            }
            b'a'..=b'z' | b'A'..=b'Z' if word_start(ctx.text, i) => {
                if let Some(hit) = lexicon.probe(ctx.text, i, &mut ctx.fold) {
                    ctx.hits.push(hit);
                }
                word::at(ctx, i)
            }
            0xC0.. => {
                let ch = crate::text::char_at(ctx.text, i);
                if ch.is_some_and(crate::text::is_alnum)
                    && word_start(ctx.text, i)
                    && let Some(hit) = lexicon.probe(ctx.text, i, &mut ctx.fold)
                {
                    ctx.hits.push(hit);
                }
                i + ch.map_or(1, char::len_utf8)
            }
            b'@' => email::at(ctx, i),
            b':' if byte(b, i + 1) == b':'
                || crate::text::byte_before(b, i).is_ascii_hexdigit() =>
            {
                ip_address::v6_at(ctx, i)
            }
            _ => i + 1,
        }
        .max(i + 1);
    }
}

/// Whether a word starts at `i` (no letter or digit right before it).
fn word_start(text: &str, i: usize) -> bool {
    let p = crate::text::byte_before(text.as_bytes(), i);
    if p < 0x80 {
        !p.is_ascii_alphanumeric()
    } else {
        !crate::text::alnum_before(text, i)
    }
}

/// Applies the overlap rule (see the module docs).
fn resolve(findings: Vec<Finding>) -> Vec<Finding> {
    let (cues, mut data): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| f.kind == Kind::ScamCue);
    data.sort_by_key(|f| {
        (
            tier(f.kind),
            core::cmp::Reverse(f.span.len()),
            priority(f.kind),
            f.span.start,
        )
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(data.len() + cues.len());
    for f in data {
        if !kept
            .iter()
            .any(|k| k.span.start < f.span.end && f.span.start < k.span.end)
        {
            kept.push(f);
        }
    }
    kept.extend(cues);
    kept.sort_by_key(|f| (f.span.start, f.kind, f.span.end));
    kept
}

fn tier(kind: Kind) -> u8 {
    match kind {
        Kind::Credential => 0,
        Kind::Email => 1,
        _ => 2,
    }
}

fn priority(kind: Kind) -> u8 {
    match kind {
        Kind::PaymentCard => 0,
        Kind::Iban => 1,
        Kind::NationalId => 2,
        Kind::Email => 3,
        Kind::IpAddress => 4,
        Kind::Phone => 5,
        Kind::Link => 6,
        _ => 7,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .map(|f| (f.kind, f.text))
            .collect()
    }

    #[test]
    fn ordinary_chat_has_no_findings() {
        for t in [
            "Hi, my order #123456 hasn't arrived yet.",
            "It cost €49.99 on 12/03/2024 at 14:30.",
            "Tracking number 1Z999AA10123456784, invoice INV-2024-00123.",
            "I'm on version 2.3.1.4 of the app, build 20240312.",
            "Order 4000 1234 5678 9010 was placed on 2024-03-12.",
            "Can I return it within 30 days?",
            "Sendungsnummer 00340434161234567890, Rechnung 2024001234.",
        ] {
            assert!(kinds(t).is_empty(), "{t}: {:?}", kinds(t));
        }
    }

    #[test]
    fn overlaps_follow_the_rule() {
        // a card inside a URL is part of the link
        let f = kinds("see https://shop.example/pay?c=4111111111111111 now");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, Kind::Link);
        // a credential inside a URL wins
        let f =
            kinds("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");
        assert_eq!(f[0].0, Kind::Credential);
        // an e-mail is not also a link
        let f = kinds("write to anna@example.com");
        assert_eq!(f, [(Kind::Email, "anna@example.com".to_string())]);
    }

    #[test]
    fn spans_are_on_char_boundaries() {
        let t = "Ünïcödé 4111 1111 1111 1111 — é@é.fr ☃ +49 30 1234567";
        for f in scan(t, &ScanOptions::default()) {
            assert_eq!(&t[f.span.clone()], f.text);
        }
    }
}
