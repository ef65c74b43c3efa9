//! A seeded generator of labelled chat lines for the accuracy test, the
//! benchmark and the Presidio comparison (`examples/export_corpus.rs`).
//!
//! Job: [`generate`] builds `n` lines in English, German, French and
//! Spanish from sentence frames (`templates`) filled with true values
//! (`values`: Luhn-valid cards of nine networks, IBANs of every registry
//! country, SSNs, NINOs, DNIs, NIEs, NIRs, codici fiscali, BSNs, Steuer-IDs,
//! phone numbers of eight countries, e-mail addresses including
//! internationalised ones, every credential type, IPv4/IPv6, scam cues)
//! and near misses (failed Luhn, wrong IBAN checksums, invalid SSN ranges,
//! wrong check letters, order and tracking numbers, prices, dates, times,
//! versions, invoice ids). Every true value is labelled with its kind and
//! byte span; near misses are unlabelled, so flagging one is a false
//! positive. [`hand`] adds a hand-written set of tricky lines.
//!
//! Non-goals: being the only corpus (independent checkers bring theirs);
//! the generator draws on its own lists, not on the detectors' data files,
//! except the IBAN registry (the structure is the standard).
#![allow(
    clippy::explicit_auto_deref,
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

pub mod hand;
pub mod templates;
pub mod values;

/// One labelled span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Wire name of the kind.
    pub kind: &'static str,
    /// Byte range.
    pub start: usize,
    /// Byte range end.
    pub end: usize,
}

/// One chat line and its labels.
#[derive(Clone, Debug, Default)]
pub struct Line {
    /// The message.
    pub text: String,
    /// What a perfect detector reports.
    pub labels: Vec<Label>,
    /// Language of the frame.
    pub lang: &'static str,
}

impl Line {
    /// Appends plain text.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Appends a labelled value.
    pub fn value(&mut self, kind: &'static str, s: &str) {
        let start = self.text.len();
        self.text.push_str(s);
        if !kind.is_empty() {
            self.labels.push(Label {
                kind,
                start,
                end: self.text.len(),
            });
        }
    }
}

/// SplitMix64: small, seeded, reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` random decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    /// `n` random characters from `alphabet`.
    pub fn chars(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }
}

/// `n` labelled lines from `seed`.
pub fn generate(seed: u64, n: usize) -> Vec<Line> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| templates::line(&mut rng)).collect()
}
