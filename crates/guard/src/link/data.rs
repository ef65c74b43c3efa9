//! The bundled link-analysis data, parsed once from `crates/guard/data/`.
//!
//! Job: turn the text files (URL shorteners, commonly phished brands and
//! their real domains, executable file extensions, lure words) into lookup
//! tables the first time a link is judged, with [`OnceLock`].
//!
//! Non-goals: updating the lists at run time or fetching threat feeds — the
//! lists ship with the build (no I/O), and a reputation service, if one is
//! ever wanted, belongs outside the guard.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::lookalike::{Name, fold};

const SHORTENERS: &str = include_str!("../../data/shorteners.txt");
const BRANDS: &str = include_str!("../../data/brands.txt");
const EXECUTABLES: &str = include_str!("../../data/executables.txt");
const LURE_WORDS: &str = include_str!("../../data/lure_words.txt");

/// One commonly phished brand.
pub(super) struct Brand {
    /// The brand's main domain, named in explanations (`paypal.com`).
    pub display: &'static str,
    /// The names a look-alike imitates.
    pub names: Vec<Name>,
    /// Whether the brand runs country sites (`[cc]`): its name under a
    /// country-code suffix is its own.
    pub country_sites: bool,
}

/// Every bundled list, ready for lookups.
pub(super) struct Data {
    /// Shortener domains (registrable domains or hosts).
    pub shorteners: HashSet<&'static str>,
    /// Executable extensions, lower case, no dot.
    pub executables: HashSet<&'static str>,
    /// Lure words, folded (see [`fold`]).
    pub lure_words: HashSet<String>,
    /// The brands.
    pub brands: Vec<Brand>,
    /// Every brand's real domains; never reported as a brand look-alike.
    pub brand_domains: HashSet<&'static str>,
}

/// The parsed lists (parsed on first use).
pub(super) fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(parse)
}

/// The meaningful lines of a data file: comments and blanks dropped.
fn lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
}

fn parse() -> Data {
    let mut brands = Vec::new();
    let mut brand_domains = HashSet::new();
    for line in lines(BRANDS) {
        let mut fields = line.split_whitespace();
        let Some(names) = fields.next() else { continue };
        let mut country_sites = false;
        let domains: Vec<&'static str> = fields
            .filter(|f| {
                let flag = *f == "[cc]";
                country_sites |= flag;
                !flag
            })
            .collect();
        let Some(display) = domains.first().copied() else {
            continue;
        };
        brand_domains.extend(domains.iter().copied());
        let mut prepared: Vec<Name> = Vec::new();
        for name in names.split(',').filter(|n| !n.is_empty()) {
            let name = Name::new(name, name);
            if !prepared.iter().any(|n| n.folded() == name.folded()) {
                prepared.push(name);
            }
        }
        brands.push(Brand {
            display,
            names: prepared,
            country_sites,
        });
    }
    Data {
        shorteners: lines(SHORTENERS).collect(),
        executables: lines(EXECUTABLES).collect(),
        lure_words: lines(LURE_WORDS).map(fold).collect(),
        brands,
        brand_domains,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse() {
        let d = data();
        assert!(d.brands.len() >= 100, "{} brands", d.brands.len());
        assert!(d.shorteners.contains("bit.ly"));
        assert!(d.executables.contains("exe"));
        assert!(d.lure_words.contains(&fold("login")));
        assert!(d.brand_domains.contains("paypal.com"));
        assert!(
            d.brands
                .iter()
                .all(|b| !b.names.is_empty() && b.display.contains('.'))
        );
    }
}
