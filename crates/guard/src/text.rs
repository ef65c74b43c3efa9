//! Text helpers shared by the detectors: case- and accent-folding with a
//! map back to the original byte offsets, char-boundary snapping, and the
//! masking alphabet.
//!
//! Job: [`Folded`] turns a message into lower-case, accent-free text with
//! runs of white space collapsed to one space, so the phrase lists match
//! "Mot de passe", "MOT DE PASSE" and "mot  de passe" alike, and maps every
//! match back to a span of the original text on `char` boundaries.
//!
//! Non-goals: full Unicode case folding or transliteration (Latin accents,
//! `ß`, `æ`, `œ`, `ø` and curly apostrophes are what the phrase lists need).

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// The character masked digits and letters are replaced with.
pub(crate) const MASK: char = '•';

/// A folded copy of a text and the way back to the original offsets.
pub(crate) struct Folded {
    /// The folded text (always valid UTF-8, mostly ASCII).
    pub text: String,
    /// `(folded offset, original offset)` at every point where the two
    /// stop advancing together, in increasing order.
    anchors: Vec<(usize, usize)>,
    /// The text needed no folding but case (see [`Folded::lazy`]).
    identity: bool,
}

impl Folded {
    /// Folds `text`: lower case, accents stripped, white-space runs → ' '.
    pub fn new(text: &str) -> Folded {
        if text.is_ascii() {
            return Folded::ascii(text.as_bytes());
        }
        Folded::general(text)
    }

    /// Like [`Folded::new`], but ASCII text whose white space needs no
    /// collapsing is not copied: [`Folded::view`] then returns the original
    /// (matched case-insensitively by the caller).
    pub fn lazy(text: &str) -> Folded {
        let b = text.as_bytes();
        if text.is_ascii()
            && memchr::memchr3(b'\t', b'\n', b'\r', b).is_none()
            && !b.windows(2).any(|w| w == b"  ")
        {
            return Folded {
                text: String::new(),
                anchors: Vec::new(),
                identity: true,
            };
        }
        Folded::new(text)
    }

    /// The text to match: the folded copy, or `original` itself.
    pub fn view<'t>(&'t self, original: &'t str) -> &'t str {
        if self.identity { original } else { &self.text }
    }

    fn general(text: &str) -> Folded {
        let mut out = String::with_capacity(text.len());
        let mut anchors = Vec::new();
        let mut in_space = false;
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b.is_ascii() {
                if b.is_ascii_whitespace() {
                    if in_space {
                        i += 1;
                        anchors.push((out.len(), i));
                        continue;
                    }
                    in_space = true;
                    out.push(' ');
                    if b != b' ' {
                        // same length, nothing to anchor
                    }
                } else {
                    in_space = false;
                    out.push(char::from(b.to_ascii_lowercase()));
                }
                i += 1;
                continue;
            }
            let Some(c) = text.get(i..).and_then(|s| s.chars().next()) else {
                break;
            };
            let next = i + c.len_utf8();
            if c.is_whitespace() {
                if !in_space {
                    out.push(' ');
                    in_space = true;
                }
            } else {
                in_space = false;
                fold_char(c, &mut out);
            }
            anchors.push((out.len(), next));
            i = next;
        }
        Folded {
            text: out,
            anchors,
            identity: false,
        }
    }

    /// The fast path for ASCII text: byte for byte, anchors only where
    /// white space collapses.
    fn ascii(bytes: &[u8]) -> Folded {
        let mut out = Vec::with_capacity(bytes.len());
        let mut anchors = Vec::new();
        let mut in_space = false;
        for (i, &b) in bytes.iter().enumerate() {
            if b.is_ascii_whitespace() {
                if in_space {
                    anchors.push((out.len(), i + 1));
                    continue;
                }
                in_space = true;
                out.push(b' ');
            } else {
                in_space = false;
                out.push(b.to_ascii_lowercase());
            }
        }
        Folded {
            text: String::from_utf8(out).unwrap_or_default(),
            anchors,
            identity: false,
        }
    }

    /// The original offset of folded offset `f` (not snapped).
    fn original(&self, f: usize) -> usize {
        let idx = self.anchors.partition_point(|&(fo, _)| fo <= f);
        match idx.checked_sub(1).and_then(|k| self.anchors.get(k)) {
            Some(&(fo, orig)) => orig + (f - fo),
            None => f,
        }
    }

    /// The folded offset of original offset `o` (a char boundary outside
    /// collapsed white space).
    pub fn folded_of(&self, o: usize) -> usize {
        let idx = self.anchors.partition_point(|&(_, orig)| orig <= o);
        match idx.checked_sub(1).and_then(|k| self.anchors.get(k)) {
            Some(&(fo, orig)) => fo + (o - orig),
            None => o,
        }
    }

    /// The original span of the folded span `start..end`, on `char`
    /// boundaries of `original` (start snapped down, end snapped up).
    pub fn span(&self, original: &str, start: usize, end: usize) -> (usize, usize) {
        let s = floor_boundary(original, self.original(start));
        let e = ceil_boundary(original, self.original(end)).max(s);
        (s, e)
    }
}

/// Appends the folded form of one non-ASCII character.
pub(crate) fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if let Some(a) = fold_latin(c) {
        out.push(a);
        return;
    }
    match c {
        'ß' | 'ẞ' => out.push_str("ss"),
        'æ' | 'Æ' => out.push_str("ae"),
        'œ' | 'Œ' => out.push_str("oe"),
        'ø' | 'Ø' => out.push('o'),
        'ł' | 'Ł' => out.push('l'),
        'đ' | 'Đ' => out.push('d'),
        '\u{2018}' | '\u{2019}' | '\u{02bc}' | '\u{2032}' => out.push('\''),
        '\u{2010}' | '\u{2011}' | '\u{2013}' => out.push('-'),
        _ => {
            for l in c.to_lowercase() {
                decompose_canonical(l, |d| {
                    if !is_combining_mark(d) {
                        out.push(d);
                    }
                });
            }
        }
    }
}

/// The ASCII letter of a common accented Latin letter (any case).
pub(crate) fn fold_latin(c: char) -> Option<char> {
    Some(match c {
        'à'..='å' | 'À'..='Å' | 'ā' | 'Ā' | 'ą' | 'Ą' => 'a',
        'ç' | 'Ç' | 'ć' | 'Ć' | 'č' | 'Č' => 'c',
        'è'..='ë' | 'È'..='Ë' | 'ē' | 'Ē' | 'ę' | 'Ę' | 'ě' | 'Ě' => 'e',
        'ì'..='ï' | 'Ì'..='Ï' | 'ī' | 'Ī' => 'i',
        'ñ' | 'Ñ' | 'ń' | 'Ń' | 'ň' | 'Ň' => 'n',
        'ò'..='ö' | 'Ò'..='Ö' | 'ō' | 'Ō' | 'ő' | 'Ő' => 'o',
        'ù'..='ü' | 'Ù'..='Ü' | 'ū' | 'Ū' | 'ů' | 'Ů' | 'ű' | 'Ű' => 'u',
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => 'y',
        'š' | 'Š' | 'ś' | 'Ś' => 's',
        'ž' | 'Ž' | 'ź' | 'Ź' | 'ż' | 'Ż' => 'z',
        _ => return None,
    })
}

/// Whether `c` is a letter or digit; fast for Latin.
pub(crate) fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric() || fold_latin(c).is_some() || (!c.is_ascii() && c.is_alphanumeric())
}

/// The greatest char boundary of `s` at or below `i`.
pub(crate) fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The least char boundary of `s` at or above `i`.
pub(crate) fn ceil_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The byte at `i`, or 0 past the end (0 never occurs in chat text and is
/// not alphanumeric, so it reads as a boundary).
#[inline]
pub(crate) fn byte(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// The byte before `i`, or 0 at the start.
#[inline]
pub(crate) fn byte_before(b: &[u8], i: usize) -> u8 {
    i.checked_sub(1).map_or(0, |j| byte(b, j))
}

/// The char ending at byte `i` of `s`, if any.
pub(crate) fn char_before(s: &str, i: usize) -> Option<char> {
    s.get(..i).and_then(|p| p.chars().next_back())
}

/// The char starting at byte `i` of `s`, if any.
pub(crate) fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|p| p.chars().next())
}

/// Whether the char ending at `i` is a letter or digit (any script).
pub(crate) fn alnum_before(s: &str, i: usize) -> bool {
    char_before(s, i).is_some_and(is_alnum)
}

/// Whether the char starting at `i` is a letter or digit (any script).
pub(crate) fn alnum_at(s: &str, i: usize) -> bool {
    char_at(s, i).is_some_and(is_alnum)
}

/// Replaces every ASCII letter and digit of `s` with [`MASK`] except the
/// last `keep` of them; separators stay.
pub(crate) fn mask_keep_last(s: &str, keep: usize) -> String {
    let total = s.chars().filter(char::is_ascii_alphanumeric).count();
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                seen += 1;
                if seen + keep > total { c } else { MASK }
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

    #[test]
    fn folds_case_accents_and_spaces() {
        let f = Folded::new("Mot  de PASSE: Contraseña Straße");
        assert_eq!(f.text, "mot de passe: contrasena strasse");
    }

    #[test]
    fn maps_back_to_original_spans() {
        let t = "Écrivez   votre MOT DE PASSE ici";
        let f = Folded::new(t);
        let at = f.text.find("mot de passe").unwrap();
        let (s, e) = f.span(t, at, at + "mot de passe".len());
        assert_eq!(&t[s..e], "MOT DE PASSE");
        let (s, e) = f.span(t, 0, "ecrivez".len());
        assert_eq!(&t[s..e], "Écrivez");
    }

    #[test]
    fn masks_all_but_last() {
        assert_eq!(mask_keep_last("123-45-6789", 4), "•••-••-6789");
        assert_eq!(mask_keep_last("ab", 4), "ab");
    }
}
