//! Look-alike domains: does a host imitate one of the organisation's own
//! domains or a commonly phished brand?
//!
//! Job: compare the *registrable label* of a host (`paypa1-secure` in
//! `login.paypa1-secure.com`) and its subdomain labels with a name
//! (`paypal`, the organisation's `acme`) in a folded space — UTS #39
//! confusable skeleton, lower case, hyphens dropped — so that `paypa1`,
//! `pаypal` (Cyrillic а), `rnicrosoft` and `pay-pal` all fold to the name.
//! A host imitates a name when, in order:
//!
//! 1. its registrable label *is* the name under another public suffix
//!    (`acme.net` for `acme.com`, `paypal.support`) — except a country-code
//!    suffix for a brand with country sites (`amazon.de`);
//! 2. the folded label equals the folded name (`paypa1`, `аррӏе`);
//! 3. the label, folded or merely lower-cased, is within a small
//!    Damerau-Levenshtein distance of the name (organisation: 1 from 4
//!    characters, 2 from 6; brand: 1 from 5 characters with the same first
//!    character, 2 from 9);
//! 4. the name is embedded in the label: as hyphen-separated tokens
//!    (`acme-support-login`, `binance-airdrop`; for brand names under six
//!    characters only when every other token is a lure word or a number,
//!    `apple-id-verify` but not `apple-pie-recipes`), or, for names of four
//!    characters or more, glued to lure words (`acmesupport`,
//!    `securepaypal`, `support-appleid`; not `pineapple`, `purchase`);
//! 5. a subdomain names it before a top-level-domain word
//!    (`paypal.com.evil.example`, `paypal-com.evil.example`), embeds it
//!    (`paypal-login.evil.example`), or is exactly the name while the
//!    registrable label is made of lure words only
//!    (`paypal.account-verify.com`; `apple.stackexchange.com` is fine).
//!
//! Non-goals: deciding what is *real* — callers exclude the organisation's
//! own domains and the brands' real domains before asking — and judging
//! unrelated domains by reputation.

use std::collections::HashSet;

use unicode_security::skeleton;

/// Which thresholds apply: the organisation's own names are protected more
/// eagerly than the bundled brands (an organisation lists its domains, so a
/// near miss is worth a warning; brand names collide with ordinary words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rules {
    /// One of the organisation's domains.
    Org,
    /// A bundled brand; `country_sites` when its name under a country-code
    /// suffix is its own (`amazon.de`).
    Brand {
        /// The brand runs country sites.
        country_sites: bool,
    },
}

/// Folds a label for comparison: UTS #39 skeleton, lower case, no hyphens.
pub(super) fn fold(label: &str) -> String {
    skeleton(label)
        .flat_map(char::to_lowercase)
        .filter(|c| *c != '-')
        .collect()
}

/// A name a host may imitate (an organisation's or a brand's registrable
/// label), prepared once.
pub(super) struct Name {
    /// The label, ASCII (`deutsche-bank`).
    ascii: String,
    /// Folded (`deutschebank`).
    folded: String,
    /// Lower case without hyphens, not folded.
    plain: String,
    /// Characters in `folded`.
    len: usize,
    /// Characters in `plain`.
    plain_len: usize,
}

impl Name {
    /// Prepares the ASCII label `ascii` whose Unicode form is `unicode`.
    pub(super) fn new(ascii: &str, unicode: &str) -> Name {
        let folded = fold(unicode);
        let plain = plain(unicode);
        Name {
            ascii: ascii.to_owned(),
            len: folded.chars().count(),
            plain_len: plain.chars().count(),
            folded,
            plain,
        }
    }

    /// The folded form.
    pub(super) fn folded(&self) -> &str {
        &self.folded
    }
}

/// A label in lower case without hyphens.
fn plain(label: &str) -> String {
    label
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| *c != '-')
        .collect()
}

/// One label, folded whole and by hyphen-separated tokens.
struct Label {
    /// The label as the browser resolves it (ASCII, lower case).
    ascii: String,
    /// The whole label folded.
    folded: String,
    /// Its hyphen-separated tokens, folded; empty tokens dropped.
    tokens: Vec<String>,
    /// The label in lower case without hyphens, not folded: edit distances
    /// are taken on both forms, since folding stretches `m` to `rn`
    /// (`amce` is one transposition from `acme`, three edits once folded).
    plain: String,
    /// Characters in `folded` and in `plain`.
    folded_len: usize,
    plain_len: usize,
}

impl Label {
    fn new(ascii: &str, unicode: &str) -> Label {
        let folded = fold(unicode);
        let plain = plain(unicode);
        Label {
            ascii: ascii.to_owned(),
            tokens: unicode
                .split('-')
                .filter(|t| !t.is_empty())
                .map(fold)
                .collect(),
            folded_len: folded.chars().count(),
            plain_len: plain.chars().count(),
            folded,
            plain,
        }
    }
}

/// A host prepared for look-alike comparisons.
pub(super) struct Subject {
    /// The registrable label (`paypa1-secure`).
    reg: Label,
    /// Whether the suffix is an ICANN country-code one (`de`, `co.uk`).
    cctld: bool,
    /// The labels left of the registrable label, outermost first.
    sub: Vec<Label>,
    /// For each of `sub`: whether the label after it starts with a
    /// top-level domain (`com` in `paypal.com.evil.example` or
    /// `paypal.com-verify.info`).
    before_tld: Vec<bool>,
}

impl Subject {
    /// Prepares `host` (IDNA ASCII form, lower case) and its Unicode form;
    /// `None` when the host has no registrable domain (`co.uk`, `localhost`).
    pub(super) fn new(ascii: &str, unicode: &str) -> Option<Subject> {
        let domain = psl::domain(ascii.as_bytes())?;
        let suffix = domain.suffix();
        let cctld = suffix.typ() == Some(psl::Type::Icann)
            && suffix
                .as_bytes()
                .rsplit(|b| *b == b'.')
                .next()
                .is_some_and(|tld| tld.len() == 2);
        let suffix_labels = suffix.as_bytes().split(|b| *b == b'.').count();
        let ascii_labels: Vec<&str> = ascii.split('.').collect();
        let mut unicode_labels: Vec<&str> = unicode.split('.').collect();
        if unicode_labels.len() != ascii_labels.len() {
            unicode_labels.clone_from(&ascii_labels);
        }
        let reg_index = ascii_labels.len().checked_sub(suffix_labels + 1)?;
        let labels: Vec<Label> = ascii_labels
            .iter()
            .zip(&unicode_labels)
            .take(reg_index + 1)
            .map(|(a, u)| Label::new(a, u))
            .collect();
        let mut labels = labels.into_iter();
        let sub: Vec<Label> = labels.by_ref().take(reg_index).collect();
        let reg = labels.next()?;
        let before_tld = sub
            .iter()
            .skip(1)
            .chain(core::iter::once(&reg))
            .map(|next| {
                next.ascii
                    .split('-')
                    .next()
                    .is_some_and(is_top_level_domain)
            })
            .collect();
        Some(Subject {
            reg,
            cctld,
            sub,
            before_tld,
        })
    }

    /// Whether this host imitates `name`. The caller has already excluded
    /// the name's real domains.
    pub(super) fn imitates(&self, name: &Name, rules: Rules, lure: &HashSet<String>) -> bool {
        let n = name.len;
        if n < 2 {
            return false;
        }
        if self.reg.ascii == name.ascii {
            return !(self.cctld
                && rules
                    == Rules::Brand {
                        country_sites: true,
                    });
        }
        let folded = name.folded.as_str();
        if self.reg.folded == folded {
            return true;
        }
        let max = match rules {
            Rules::Org if n >= 6 => 2,
            Rules::Org if n >= 4 => 1,
            Rules::Brand { .. } if n >= 9 => 2,
            Rules::Brand { .. } if n >= 5 => 1,
            _ => 0,
        };
        let near = |mine: &str, my_len: usize, theirs: &str, their_len: usize| {
            let same_first = mine.chars().next() == theirs.chars().next();
            my_len.abs_diff(their_len) <= max
                && (rules == Rules::Org || same_first)
                && within_distance(mine, theirs, max)
        };
        let reg = &self.reg;
        if max > 0
            && (near(&reg.folded, reg.folded_len, folded, n)
                || near(&reg.plain, reg.plain_len, &name.plain, name.plain_len))
        {
            return true;
        }
        // Everything below needs the name inside a label.
        if self.reg.folded.contains(folded) && embedded(&self.reg, folded, rules, lure) {
            return true;
        }
        let strict = Rules::Brand {
            country_sites: false,
        };
        for (label, before_tld) in self.sub.iter().zip(&self.before_tld) {
            if !label.folded.contains(folded) {
                continue;
            }
            let names_it = label.folded == folded || token_run(&label.tokens, folded).is_some();
            if names_it && *before_tld {
                return true;
            }
            if label.folded != folded && embedded(label, folded, strict, lure) {
                return true;
            }
            if label.folded == folded
                && !self.reg.tokens.is_empty()
                && self.reg.tokens.iter().all(|t| is_lure(t, lure))
            {
                return true;
            }
        }
        false
    }
}

/// Whether `label` embeds `name` as tokens or glued to lure words.
fn embedded(label: &Label, name: &str, rules: Rules, lure: &HashSet<String>) -> bool {
    if label.folded != name && glued(&label.folded, name, lure) {
        return true;
    }
    let distinctive = rules == Rules::Org || name.chars().count() >= 6;
    let names_it = |t: &str| t == name || glued(t, name, lure);
    let tokens = &label.tokens;
    for start in 0..tokens.len() {
        let mut joined = String::new();
        for (end, token) in tokens.iter().enumerate().skip(start) {
            joined.push_str(token);
            if !names_it(&joined) {
                continue;
            }
            let whole = start == 0 && end + 1 == tokens.len();
            let others_lure = tokens
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i > end)
                .all(|(_, t)| is_lure(t, lure) || names_it(t));
            if !whole && (distinctive || others_lure) {
                return true;
            }
        }
    }
    false
}

/// Whether `s` is `name` with lure words glued before and/or after it
/// (`paypalsecure`, `securepaypal`, `supportappleid`); names under four
/// characters are too likely inside ordinary words (`tracking` ends in
/// `ing`).
fn glued(s: &str, name: &str, lure: &HashSet<String>) -> bool {
    if name.chars().count() < 4 || s.len() <= name.len() {
        return false;
    }
    let part_ok = |p: &str| p.is_empty() || is_lure(p, lure);
    s.match_indices(name).any(|(i, _)| {
        let before = s.get(..i).unwrap_or_default();
        let after = s.get(i + name.len()..).unwrap_or_default();
        part_ok(before) && part_ok(after)
    })
}

/// The first run of consecutive tokens whose concatenation is `name`, as a
/// half-open token range.
fn token_run(tokens: &[String], name: &str) -> Option<(usize, usize)> {
    for start in 0..tokens.len() {
        let mut joined = String::new();
        for (end, token) in tokens.iter().enumerate().skip(start) {
            joined.push_str(token);
            if joined.len() > name.len() {
                break;
            }
            if joined == name {
                return Some((start, end + 1));
            }
        }
    }
    None
}

/// Whether `s` (folded) splits entirely into lure words and numbers.
fn is_lure(s: &str, lure: &HashSet<String>) -> bool {
    // reachable[i]: the first i bytes split into words.
    let mut reachable = vec![false; s.len() + 1];
    if let Some(first) = reachable.first_mut() {
        *first = true;
    }
    for (i, _) in s.char_indices() {
        if !reachable.get(i).copied().unwrap_or(false) {
            continue;
        }
        let rest = s.get(i..).unwrap_or_default();
        let mut mark = |len: usize| {
            if let Some(r) = reachable.get_mut(i + len) {
                *r = true;
            }
        };
        // A number: digits, where `o` and `l` stand for the digits 0 and 1
        // the skeleton folded (`2024` folds to `2o24`).
        let digits = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'o' || *b == b'l')
            .count();
        if rest.bytes().take(digits).any(|b| b.is_ascii_digit()) {
            mark(digits);
        }
        // Lure words are short; longer prefixes need not be looked up.
        for (j, c) in rest.char_indices().take(MAX_WORD) {
            let end = j + c.len_utf8();
            if rest.get(..end).is_some_and(|w| lure.contains(w)) {
                mark(end);
            }
        }
    }
    !s.is_empty() && reachable.last().copied().unwrap_or(false)
}

/// Whether `label` is a top-level domain (`com`, `de`, `xn--p1ai`).
fn is_top_level_domain(label: &str) -> bool {
    !label.is_empty()
        && psl::suffix(label.as_bytes())
            .is_some_and(|s| s.is_known() && s.as_bytes() == label.as_bytes())
}

/// Whether the optimal-string-alignment (restricted Damerau-Levenshtein)
/// distance between `a` and `b` is at most `max`. Without allocating: the
/// rows live on the stack, so `b` must be shorter than [`MAX_ROW`]
/// characters (names are; longer ones are never near).
pub(super) fn within_distance(a: &str, b: &str, max: usize) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la.abs_diff(lb) > max {
        return false;
    }
    if lb >= MAX_ROW {
        return false;
    }
    // Three rolling rows: i-2, i-1, i.
    let mut before = [0usize; MAX_ROW];
    let mut prev = [0usize; MAX_ROW];
    let mut cur = [0usize; MAX_ROW];
    for (j, slot) in prev.iter_mut().enumerate().take(lb + 1) {
        *slot = j;
    }
    let mut a_prev: Option<char> = None;
    for (i, ca) in a.chars().enumerate() {
        let mut row_min = i + 1;
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        let mut b_prev: Option<char> = None;
        for (j, cb) in b.chars().enumerate() {
            let at = |row: &[usize; MAX_ROW], k: usize| row.get(k).copied().unwrap_or(usize::MAX);
            let cost = usize::from(ca != cb);
            let mut v = (at(&prev, j + 1).saturating_add(1))
                .min(at(&cur, j).saturating_add(1))
                .min(at(&prev, j).saturating_add(cost));
            if a_prev == Some(cb) && b_prev == Some(ca) && j > 0 {
                v = v.min(at(&before, j - 1).saturating_add(1));
            }
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = v;
            }
            row_min = row_min.min(v);
            b_prev = Some(cb);
        }
        if row_min > max {
            return false;
        }
        core::mem::swap(&mut before, &mut prev);
        core::mem::swap(&mut prev, &mut cur);
        a_prev = Some(ca);
    }
    prev.get(lb).is_some_and(|d| *d <= max)
}

/// The longest lure word [`is_lure`] looks up, in characters.
const MAX_WORD: usize = 24;

/// Row length of [`within_distance`].
const MAX_ROW: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    const BRAND: Rules = Rules::Brand {
        country_sites: true,
    };

    fn lure() -> HashSet<String> {
        [
            "login", "secure", "support", "verify", "account", "com", "id",
        ]
        .into_iter()
        .map(fold)
        .collect()
    }

    fn imitates(host: &str, name: &str, rules: Rules) -> bool {
        let unicode = idna::domain_to_unicode(host).0;
        let subject = Subject::new(host, &unicode).unwrap_or_else(|| unreachable!("{host}"));
        subject.imitates(&Name::new(name, name), rules, &lure())
    }

    #[test]
    fn folding_maps_confusables() {
        assert_eq!(fold("paypa1"), fold("paypal"));
        assert_eq!(fold("pаypal"), fold("paypal"));
        assert_eq!(fold("rnicrosoft"), fold("microsoft"));
        assert_eq!(fold("g00gle"), fold("google"));
        assert_eq!(fold("pay-pal"), fold("paypal"));
    }

    #[test]
    fn distance() {
        assert!(within_distance("paypal", "paypall", 1));
        assert!(within_distance("amazon", "amzaon", 1));
        assert!(!within_distance("amazon", "amzn", 1));
        assert!(within_distance("amazon", "amzn", 2));
        assert!(within_distance("", "ab", 2));
        assert!(!within_distance("coinbase", "codebase", 1));
        assert!(within_distance("ab", "ba", 1));
        assert!(within_distance("acme", "amce", 1));
        assert!(!within_distance("acme", "mace", 1));
        assert!(within_distance("paypal", "paypal", 0));
    }

    #[test]
    fn rules() {
        assert!(imitates("acme.net", "acme", Rules::Org));
        assert!(imitates("acme-support-login.com", "acme", Rules::Org));
        assert!(imitates("acmesupport.com", "acme", Rules::Org));
        assert!(imitates("acrne.com", "acme", Rules::Org));
        assert!(imitates("paypal-secure-login.com", "paypal", BRAND));
        assert!(imitates("paypal-community.org", "paypal", BRAND));
        assert!(!imitates("apple-pie-recipes.org", "apple", BRAND));
        assert!(imitates("apple-id-verify.org", "apple", BRAND));
        assert!(imitates("support-appleid.com", "apple", BRAND));
        assert!(!imitates("parceltracking.com", "ing", BRAND));
        assert!(!imitates("pineapple.com", "apple", BRAND));
        assert!(imitates("paypal.com.evil.example", "paypal", BRAND));
        assert!(imitates("paypal.account-verify.com", "paypal", BRAND));
        assert!(!imitates("apple.stackexchange.com", "apple", BRAND));
        assert!(!imitates("amazon.de", "amazon", BRAND));
        assert!(imitates("amazon.support", "amazon", BRAND));
        assert!(!imitates("purchase.com", "chase", BRAND));
        assert!(!imitates("finance.com", "binance", BRAND));
        assert!(imitates("xn--pypal-4ve.com", "paypal", BRAND));
    }
}
