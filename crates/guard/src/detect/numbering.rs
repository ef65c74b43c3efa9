//! libphonenumber's numbering data, from the `phonenumber` crate's bundled
//! metadata, checked with regexes compiled once per region and kept.
//!
//! Job: [`valid_national`] and [`valid_international`] say whether digits
//! are a valid number (a type other than unknown: fixed line, mobile, toll
//! free, VoIP …) the way `phonenumber::is_valid` does, without its parser
//! and its 100-entry regex cache (which the detector thrashed when it tried
//! several regions, recompiling patterns on every call).
//!
//! Non-goals: formatting, carrier or geocoding data, short codes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::Regex;

/// One descriptor: its national-number pattern (anchored) and lengths.
struct Pattern {
    regex: Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn new(d: &Descriptor) -> Option<Pattern> {
        let source = d.national_number().as_str();
        // the metadata keeps its XML layout: white space is not part of it
        let regex = Regex::new(&format!("^(?x:{source})$")).ok()?;
        Some(Pattern {
            regex,
            lengths: d.possible_length().to_vec(),
        })
    }

    fn matches(&self, nsn: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.iter().any(|&l| usize::from(l) == nsn.len()))
            && self.regex.is_match(nsn)
    }
}

/// A region's compiled patterns.
struct Region {
    general: Option<Pattern>,
    types: Vec<Pattern>,
    national_prefix: Option<String>,
}

impl Region {
    fn new(meta: &Metadata) -> Region {
        let d = meta.descriptors();
        let types = [
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        .filter_map(Pattern::new)
        .collect();
        Region {
            general: Pattern::new(d.general()),
            types,
            national_prefix: meta.national_prefix().map(str::to_owned),
        }
    }

    /// Whether a national significant number is valid here.
    fn valid(&self, nsn: &str) -> bool {
        self.general.as_ref().is_some_and(|g| g.matches(nsn))
            && self.types.iter().any(|t| t.matches(nsn))
    }

    /// Whether digits written nationally (trunk prefix optional) are valid.
    fn valid_national(&self, digits: &str) -> bool {
        match self
            .national_prefix
            .as_deref()
            .and_then(|p| digits.strip_prefix(p))
        {
            Some(nsn) if self.valid(nsn) => true,
            _ => self.valid(digits),
        }
    }
}

fn region(id: &str) -> Option<Arc<Region>> {
    static REGIONS: OnceLock<Mutex<HashMap<String, Arc<Region>>>> = OnceLock::new();
    let map = REGIONS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(r) = map.get(id) {
        return Some(Arc::clone(r));
    }
    let meta = DATABASE.by_id(id)?;
    let r = Arc::new(Region::new(meta));
    map.insert(id.to_owned(), Arc::clone(&r));
    Some(r)
}

/// Whether ASCII `digits` written in `region`'s national format (with or
/// without its trunk prefix) are a valid number there.
pub fn valid_national(region_id: &str, digits: &str) -> bool {
    region(region_id).is_some_and(|r| r.valid_national(digits))
}

/// Whether ASCII `digits` after a `+` (country code first) are a valid
/// number; a trunk prefix written after the country code (`+44 (0)20…`)
/// is tolerated.
pub fn valid_international(digits: &str) -> bool {
    (1..=3).any(|n| {
        let (Some(cc), Some(rest)) = (digits.get(..n), digits.get(n..)) else {
            return false;
        };
        let Ok(code) = cc.parse::<u16>() else {
            return false;
        };
        DATABASE
            .region(&code)
            .unwrap_or_default()
            .into_iter()
            .filter_map(region)
            .any(|r| r.valid(rest) || r.valid_national(rest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_phonenumber_crate() {
        for (n, ok) in [
            ("+4930123456", true),
            ("+4915123456789", true),
            ("+33612345678", true),
            ("+442079460958", true),
            ("+12015550123", true),
            ("+34612345678", true),
            ("+393471234567", true),
            ("+4912", false),
            ("+999123456789", false),
        ] {
            assert_eq!(valid_international(&n[1..]), ok, "{n}");
            let lib = phonenumber::parse(None, n).is_ok_and(|p| phonenumber::is_valid(&p));
            assert_eq!(lib, ok, "phonenumber crate on {n}");
        }
        assert!(valid_national("DE", "030123456"));
        assert!(valid_national("FR", "0612345678"));
        assert!(valid_national("US", "2015550123"));
        assert!(!valid_national("FR", "0012345678"));
    }
}
