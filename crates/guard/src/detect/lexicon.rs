//! The phrase lexicon: scam cues and context words, kept as data
//! (`data/scam_cues.txt`, `data/keywords.txt`), compiled once into one
//! Aho-Corasick automaton that runs over the folded message.
//!
//! Job: [`Lexicon::hits`] finds, in one pass, every whole-word phrase of
//! every list (case-, accent- and space-insensitive), and returns them as
//! [`Hit`]s with spans in the original text. The detectors use the context
//! hits (a phone word before a number, an order word before a number, "BSN"
//! before nine digits, `password:` before a value); the scam-cue detector
//! reports the cue hits.
//!
//! Non-goals: stemming, fuzzy matching, languages beyond the lists.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, Input, MatchKind, StartKind};

use crate::text::Folded;

const SCAM_CUES: &str = include_str!("../../data/scam_cues.txt");
const KEYWORDS: &str = include_str!("../../data/keywords.txt");

/// Most expansions one data line may produce (guards against typos that
/// multiply groups).
const MAX_EXPANSIONS: usize = 4096;

/// A social-engineering cue (the `cue` of a scam-cue finding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cue {
    /// Asks for a password, one-time code or 2FA code.
    CredentialRequest,
    /// Asks to install remote-access software or share the screen.
    RemoteAccess,
    /// Redirects payment: gift cards, crypto wallets, "our new bank account".
    PaymentRedirect,
    /// Pressure and threats: urgency, account closure, extortion.
    Pressure,
}

impl Cue {
    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cue::CredentialRequest => "credential_request",
            Cue::RemoteAccess => "remote_access",
            Cue::PaymentRedirect => "payment_redirect",
            Cue::Pressure => "pressure",
        }
    }

    fn from_name(name: &str) -> Option<Cue> {
        [
            Cue::CredentialRequest,
            Cue::RemoteAccess,
            Cue::PaymentRedirect,
            Cue::Pressure,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
    }
}

/// What a lexicon phrase means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// A scam cue.
    Cue(Cue),
    /// A word that makes a nearby number a phone number.
    PhoneContext,
    /// A word that makes a nearby number an order/parcel/invoice id.
    NotPersonal,
    /// "SSN", "social security number".
    SsnContext,
    /// "BSN", "burgerservicenummer".
    BsnContext,
    /// "Steuer-ID", "Identifikationsnummer".
    SteuerContext,
    /// "aws_secret_access_key", "auth token".
    SecretContext,
    /// "password", "Passwort", "mot de passe", "contraseña", "PIN".
    PasswordKey,
    /// "-----BEGIN".
    Pem,
}

impl Tag {
    fn from_section(section: &str) -> Option<Tag> {
        let mut parts = section.split_whitespace();
        let first = parts.next()?;
        Some(match first {
            "phone_context" => Tag::PhoneContext,
            "not_personal" => Tag::NotPersonal,
            "us_ssn_context" => Tag::SsnContext,
            "nl_bsn_context" => Tag::BsnContext,
            "de_steuer_id_context" => Tag::SteuerContext,
            "secret_context" => Tag::SecretContext,
            "password_key" => Tag::PasswordKey,
            "pem" => Tag::Pem,
            cue => Tag::Cue(Cue::from_name(cue)?),
        })
    }
}

/// One phrase found in a message, with its span in the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// What the phrase means.
    pub tag: Tag,
    /// Start byte in the original text.
    pub start: usize,
    /// End byte in the original text.
    pub end: usize,
}

/// The compiled lexicon.
pub struct Lexicon {
    /// Anchored, leftmost-longest: run only at word starts that begin a
    /// phrase's first word.
    automaton: Option<AhoCorasick>,
    /// Open-addressed table of phrase starts: whole first words with
    /// [`SINGLE`]/[`MULTI`] flags, first four bytes of one-word prefix
    /// phrases with [`PREFIX`], (first word, second word's head) pairs with
    /// [`PAIR`]. A key of 0 is an empty slot.
    starts: Vec<(u64, u64)>,
    /// The stems of one-word prefix phrases (`bestell` of `bestell*`).
    stems: Vec<(Vec<u8>, Tag)>,
    /// Per pattern: its tag and whether it is a prefix (`*`).
    patterns: Vec<(Tag, bool)>,
}

impl Lexicon {
    /// The lexicon built from the bundled data files (once per process).
    pub fn get() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(|| Lexicon::build(&[SCAM_CUES, KEYWORDS]))
    }

    /// Heap bytes used by the automaton (for diagnostics).
    pub fn memory_usage(&self) -> usize {
        self.automaton.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// Number of phrases compiled (for diagnostics).
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Whether no phrase is compiled.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    fn build(sources: &[&str]) -> Lexicon {
        let mut phrases: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for source in sources {
            let mut tag = None;
            for line in source.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    tag = Tag::from_section(section);
                    continue;
                }
                let Some(tag) = tag else { continue };
                for phrase in expand(line) {
                    let prefix = phrase.ends_with('*');
                    let folded =
                        Folded::new(phrase.trim_end_matches('*').replace('*', "").trim()).text;
                    if folded.is_empty() || !seen.insert((folded.clone(), tag_key(tag), prefix)) {
                        continue;
                    }
                    phrases.push(folded);
                    patterns.push((tag, prefix));
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Anchored)
            .ascii_case_insensitive(true)
            .build(&phrases)
            .ok();
        let mut starts = vec![(0u64, 0u64); (phrases.len() * 2).next_power_of_two().max(64)];
        let mut stems: Vec<(Vec<u8>, Tag)> = Vec::new();
        for (p, &(tag, prefix)) in phrases.iter().zip(&patterns) {
            let b = p.as_bytes();
            let first = b.iter().take_while(|&&c| is_word(c)).count();
            let Some(word) = b.get(..first).filter(|w| !w.is_empty()) else {
                continue;
            };
            let mut w = Small::default();
            for &c in word {
                w.push(c);
            }
            let mut second = Small::default();
            let sep = skip_separators(b, first);
            if sep > first {
                for &c in b
                    .get(sep..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|&&c| is_word(c))
                {
                    second.push(c);
                }
            }
            if prefix && first == b.len() {
                insert(&mut starts, w.head_key(), PREFIX);
                stems.push((word.to_vec(), tag));
            } else if second.len == 0 {
                insert(
                    &mut starts,
                    w.exact(),
                    SINGLE | ((u64::from(tag_key(tag)) + 1) << 8),
                );
            } else {
                insert(&mut starts, w.exact(), MULTI);
                insert(&mut starts, pair(w.exact(), second.head_key()), PAIR);
            }
        }
        Lexicon {
            automaton,
            patterns,
            starts,
            stems,
        }
    }

    /// Every whole-word phrase in `text` (at each word start the longest
    /// phrase that ends on a word boundary), in order. The scan does the
    /// same word by word inside its single pass ([`Lexicon::probe`]).
    pub fn hits(&self, text: &str) -> Vec<Hit> {
        let mut out: Vec<Hit> = self.pem(text).into_iter().collect();
        let mut fold = None;
        let mut i = 0;
        while let Some(c) = crate::text::char_at(text, i) {
            if c.is_alphanumeric()
                && !crate::text::alnum_before(text, i)
                && let Some(hit) = self.probe(text, i, &mut fold)
            {
                out.push(hit);
            }
            i += c.len_utf8();
        }
        out
    }

    /// A `-----BEGIN` (private-key block) in `text`.
    pub(crate) fn pem(&self, text: &str) -> Option<Hit> {
        let tb = text.as_bytes();
        memchr::memchr_iter(b'-', tb).find_map(|dash| {
            let five = tb.get(dash..dash + 5)?;
            let begin = tb.get(dash + 5..dash + 10)?;
            (five == b"-----" && begin.eq_ignore_ascii_case(b"begin")).then_some(Hit {
                tag: Tag::Pem,
                start: dash,
                end: dash + 10,
            })
        })
    }

    /// The phrase starting at word start `i` of `text`, if any. Costs one
    /// table probe for most words; `fold` caches the folded text, built at
    /// the first word that could start a phrase.
    pub(crate) fn probe(&self, text: &str, i: usize, fold: &mut Option<Folded>) -> Option<Hit> {
        let ac = self.automaton.as_ref()?;
        let mut first = Small::default();
        let end = fold_word(text, i, &mut first);
        let flags = self.lookup(first.exact()).unwrap_or(0);
        let mut multi = false;
        if flags & MULTI != 0 {
            let p = skip_separators(text.as_bytes(), end);
            if p > end {
                let mut second = Small::default();
                fold_word(text, p, &mut second);
                multi = self
                    .lookup(pair(first.exact(), second.head_key()))
                    .is_some();
            }
        }
        if !multi {
            // a one-word phrase is the word itself: no search needed
            let single = if flags & SINGLE != 0 {
                tag_from_key((((flags >> 8) & 0xff) as u8).wrapping_sub(1))
            } else if first.len >= 4
                && self
                    .lookup(first.head_key())
                    .is_some_and(|f| f & PREFIX != 0)
            {
                self.stem(text, i)
            } else {
                None
            };
            return single.map(|tag| Hit { tag, start: i, end });
        }
        let folded = fold.get_or_insert_with(|| Folded::lazy(text));
        let at = folded.folded_of(i);
        let (tag, fend) = self.longest_at(ac, folded.view(text), at)?;
        let (start, end) = folded.span(text, at, fend);
        Some(Hit { tag, start, end })
    }

    /// The tag of the prefix stem the word at `i` starts with, if any.
    fn stem(&self, text: &str, i: usize) -> Option<Tag> {
        let mut folded = String::new();
        for c in text
            .get(i..)
            .unwrap_or_default()
            .chars()
            .take_while(|&c| crate::text::is_alnum(c))
            .take(24)
        {
            crate::text::fold_char(c, &mut folded);
        }
        self.stems
            .iter()
            .find(|(s, _)| folded.as_bytes().starts_with(s))
            .map(|(_, t)| *t)
    }

    fn lookup(&self, k: u64) -> Option<u64> {
        let mask = self.starts.len() - 1;
        let mut slot = hash(k) & mask;
        loop {
            match self.starts.get(slot) {
                Some(&(0, _)) | None => return None,
                Some(&(x, filter)) if x == k => return Some(filter),
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// The longest phrase at `start` of the folded text that ends on a
    /// word boundary (or is a prefix phrase): its tag and end.
    fn longest_at(&self, ac: &AhoCorasick, f: &str, start: usize) -> Option<(Tag, usize)> {
        let mut limit = f.len();
        for _ in 0..4 {
            let input = Input::new(f).span(start..limit).anchored(Anchored::Yes);
            let m = ac.find(input)?;
            let &(tag, prefix) = self.patterns.get(m.pattern().as_usize())?;
            if prefix {
                let rest = f.get(m.end()..).unwrap_or_default();
                let end = m.end()
                    + rest
                        .find(|c: char| !c.is_alphanumeric())
                        .unwrap_or(rest.len());
                return Some((tag, end));
            }
            if !crate::text::alnum_at(f, m.end()) {
                return Some((tag, m.end()));
            }
            limit = m.end().checked_sub(1)?;
            if limit <= start {
                return None;
            }
        }
        None
    }
}

/// Bytes that continue a word in folded text (non-ASCII bytes are checked
/// as characters where it matters).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Flag: some phrase is this one word (or a one-word prefix).
const SINGLE: u64 = 1;
/// Flag: some phrase of several words starts with this word.
const MULTI: u64 = 2;
/// Flag: a (first word, second word) pair of some phrase.
const PAIR: u64 = 4;
/// Flag: the first four bytes of a one-word prefix phrase.
const PREFIX: u64 = 8;

/// A folded word as the table sees it: its first four bytes, its length
/// and a hash of all its bytes.
struct Small {
    bytes: [u8; 4],
    len: usize,
    hash: u64,
}

impl Default for Small {
    fn default() -> Self {
        Small {
            bytes: [0; 4],
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl Small {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
        }
        self.len += 1;
        self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }

    fn head(&self) -> &[u8] {
        self.bytes.get(..self.len.min(4)).unwrap_or_default()
    }

    /// The key of the whole word.
    fn exact(&self) -> u64 {
        self.hash ^ ((self.len as u64) << 56) | 1
    }

    /// The key of its first four bytes (of a shorter word: the word).
    fn head_key(&self) -> u64 {
        key(self.head(), self.len)
    }
}

/// Folds the word of `text` starting at `i` into `out`; returns its end.
fn fold_word(text: &str, i: usize, out: &mut Small) -> usize {
    let b = text.as_bytes();
    let mut p = i;
    while let Some(&c) = b.get(p) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            p += 1;
        } else if c >= 0x80 {
            let Some(ch) = crate::text::char_at(text, p).filter(|&ch| crate::text::is_alnum(ch))
            else {
                break;
            };
            if let Some(a) = crate::text::fold_latin(ch) {
                out.push(a as u8);
            } else {
                let mut tmp = String::new();
                crate::text::fold_char(ch, &mut tmp);
                for fb in tmp.bytes() {
                    out.push(fb);
                }
            }
            p += ch.len_utf8();
        } else {
            break;
        }
    }
    p
}

/// The lookup key of a first word: its first four bytes, or the whole
/// word with its length when shorter.
fn key(head: &[u8], len: usize) -> u64 {
    let mut k = 0u64;
    for &b in head.iter().take(4) {
        k = (k << 8) | u64::from(b);
    }
    k | ((len.min(4) as u64) << 40) | (1 << 48)
}

/// The key of a first word followed by a second.
fn pair(first: u64, second: u64) -> u64 {
    first.rotate_left(23) ^ second.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ (1 << 63)
}

/// Past up to three separator bytes (a space, `-`, `'`, `,`, `.`, `#`,
/// `:`) after a word ending at `end`.
fn skip_separators(b: &[u8], end: usize) -> usize {
    let mut p = end;
    while p < end + 3
        && matches!(
            crate::text::byte(b, p),
            b' ' | b'-' | b'\'' | b',' | b'.' | b'#' | b':'
        )
    {
        p += 1;
    }
    p
}

fn hash(k: u64) -> usize {
    (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}

fn insert(table: &mut [(u64, u64)], k: u64, bit: u64) {
    let mask = table.len() - 1;
    let mut slot = hash(k) & mask;
    while let Some(entry) = table.get_mut(slot) {
        if entry.0 == 0 || entry.0 == k {
            let keep_tag = if entry.1 & 0xff00 != 0 {
                bit & !0xff00
            } else {
                bit
            };
            *entry = (k, entry.1 | keep_tag);
            return;
        }
        slot = (slot + 1) & mask;
    }
}

/// A hashable stand-in for a tag (for de-duplication).
fn tag_key(tag: Tag) -> u8 {
    match tag {
        Tag::Cue(c) => c as u8,
        Tag::PhoneContext => 10,
        Tag::NotPersonal => 11,
        Tag::SsnContext => 12,
        Tag::BsnContext => 13,
        Tag::SteuerContext => 14,
        Tag::SecretContext => 15,
        Tag::PasswordKey => 16,
        Tag::Pem => 17,
    }
}

/// The tag of a [`tag_key`].
fn tag_from_key(k: u8) -> Option<Tag> {
    Some(match k {
        0 => Tag::Cue(Cue::CredentialRequest),
        1 => Tag::Cue(Cue::RemoteAccess),
        2 => Tag::Cue(Cue::PaymentRedirect),
        3 => Tag::Cue(Cue::Pressure),
        10 => Tag::PhoneContext,
        11 => Tag::NotPersonal,
        12 => Tag::SsnContext,
        13 => Tag::BsnContext,
        14 => Tag::SteuerContext,
        15 => Tag::SecretContext,
        16 => Tag::PasswordKey,
        17 => Tag::Pem,
        _ => return None,
    })
}

/// Expands `(a|b)` choices and `[x]` options into every phrase they stand
/// for, with white space normalised.
fn expand(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut pos = 0;
    let out = seq(&chars, &mut pos);
    out.into_iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Parses a sequence up to `|`, `)`, `]` or the end.
fn seq(chars: &[char], pos: &mut usize) -> Vec<String> {
    let mut acc = vec![String::new()];
    while let Some(&c) = chars.get(*pos) {
        match c {
            '|' | ')' | ']' => break,
            '(' | '[' => {
                *pos += 1;
                let mut options = alts(chars, pos);
                *pos += 1; // closing bracket
                if c == '[' {
                    options.push(String::new());
                }
                let mut next = Vec::with_capacity(acc.len() * options.len());
                'outer: for a in &acc {
                    for o in &options {
                        if next.len() >= MAX_EXPANSIONS {
                            break 'outer;
                        }
                        next.push(format!("{a}{o}"));
                    }
                }
                acc = next;
            }
            _ => {
                for a in &mut acc {
                    a.push(c);
                }
                *pos += 1;
            }
        }
    }
    acc
}

/// Parses `a|b|c` up to the closing bracket.
fn alts(chars: &[char], pos: &mut usize) -> Vec<String> {
    let mut out = seq(chars, pos);
    while chars.get(*pos) == Some(&'|') {
        *pos += 1;
        out.extend(seq(chars, pos));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn expands_groups_and_options() {
        let mut e = expand("(send|give) [me] your (pin|code (now|please))");
        e.sort();
        assert_eq!(e.len(), 12);
        assert!(e.contains(&"give me your code please".to_string()));
        assert!(e.contains(&"send your pin".to_string()));
    }

    #[test]
    fn every_data_line_expands_and_every_section_is_known() {
        for source in [SCAM_CUES, KEYWORDS] {
            for line in source.lines().map(str::trim) {
                if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    assert!(Tag::from_section(section).is_some(), "{section}");
                } else if !line.is_empty() && !line.starts_with('#') {
                    let e = expand(line);
                    assert!(!e.is_empty() && e.len() < MAX_EXPANSIONS, "{line}");
                    assert!(
                        e.iter().all(|p| !p.contains(['(', ')', '[', ']', '|'])),
                        "{line}"
                    );
                }
            }
        }
    }

    #[test]
    fn finds_whole_words_ignoring_case_and_accents() {
        let lex = Lexicon::get();
        let text = "Bitte NENNEN SIE MIR IHR PASSWORT. Mot de passe: x";
        let hits = lex.hits(text);
        assert!(
            hits.iter()
                .any(|h| h.tag == Tag::Cue(Cue::CredentialRequest)
                    && &text[h.start..h.end] == "NENNEN SIE MIR IHR PASSWORT")
        );
        assert!(
            hits.iter()
                .any(|h| h.tag == Tag::PasswordKey && &text[h.start..h.end] == "Mot de passe")
        );
        assert!(
            !lex.hits("spinning wheels")
                .iter()
                .any(|h| h.tag == Tag::PasswordKey)
        );
    }

    #[test]
    fn each_language_has_each_cue() {
        for cue in [
            "credential_request",
            "remote_access",
            "payment_redirect",
            "pressure",
        ] {
            for lang in ["en", "de", "fr", "es"] {
                assert!(
                    SCAM_CUES.contains(&format!("[{cue} {lang}]")),
                    "{cue} {lang}"
                );
            }
        }
    }
}
