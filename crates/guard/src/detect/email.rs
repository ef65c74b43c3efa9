//! `email`: e-mail addresses, internationalised ones included
//! (`josé.müller@exämple.de`, `用户@例子.广告`).
//!
//! Job: [`at`] is entered at an `@`; it reads the local part backwards
//! (ASCII letters, digits, `. _ % + - '`, and letters or digits of any
//! script; no leading, trailing or doubled dot; at most 64 bytes) and the
//! domain forwards (labels of letters, digits and `-` in any script), then
//! checks the domain through IDNA (UTS #46) and requires its suffix to be
//! in the public suffix list, so `@mention`, `user@localhost` and
//! `name@file.txt` are not addresses. Masked: `j•••@example.com`.
//!
//! Non-goals: quoted local parts and IP-literal domains (RFC 5321 allows
//! them; nobody types them in a chat); the user-info part of a URL
//! (`https://bank.com@evil.example` is the link analyser's trick).

use crate::detect::Ctx;
use crate::finding::Kind;
use crate::text::{MASK, char_at, char_before};

/// Reads the address around the `@` at `at`; returns where the pass
/// continues.
pub(crate) fn at(ctx: &mut Ctx<'_>, at: usize) -> usize {
    let text = ctx.text;
    let mut start = at;
    while let Some(c) = char_before(text, start) {
        let ok = c.is_ascii_alphanumeric()
            || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
            || (!c.is_ascii() && c.is_alphanumeric());
        if !ok || at - start >= 64 {
            break;
        }
        start -= c.len_utf8();
    }
    while text
        .get(start..)
        .is_some_and(|s| s.starts_with(['.', '\'', '-']))
    {
        start += 1;
    }
    let local = text.get(start..at).unwrap_or_default();
    if local.is_empty() || local.ends_with('.') || local.contains("..") {
        return at + 1;
    }
    let before = text.get(..start).unwrap_or_default();
    // the user-info of a URL (`https://user@host`, `ftp://u:p@host`)
    let token = before
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or_default();
    if token.contains("://") || token.ends_with("//") {
        return at + 1;
    }
    let Some(end) = domain_end(text, at + 1) else {
        return at + 1;
    };
    let domain = text.get(at + 1..end).unwrap_or_default();
    if !domain_ok(domain) {
        return at + 1;
    }
    let first = local.chars().next().unwrap_or(MASK);
    let masked = format!("{first}{MASK}{MASK}{MASK}@{domain}");
    ctx.push(
        Kind::Email,
        start..end,
        None,
        "This is an e-mail address: personal contact details should not be shared in this chat."
            .to_owned(),
        masked,
    );
    end
}

/// The end of a domain starting at `p`: labels of letters, digits and `-`
/// joined by single dots; a trailing dot is left out.
fn domain_end(text: &str, p: usize) -> Option<usize> {
    let mut end = p;
    let mut label_start = p;
    let mut labels = 0;
    let mut q = p;
    while let Some(c) = char_at(text, q) {
        if c.is_alphanumeric() || c == '-' {
            q += c.len_utf8();
        } else if (c == '.' || c == '。') && q > label_start {
            labels += 1;
            end = q;
            q += c.len_utf8();
            label_start = q;
        } else {
            break;
        }
    }
    if q > label_start {
        labels += 1;
        end = q;
    }
    (labels >= 2 && end > p).then_some(end)
}

/// Whether `domain` converts through IDNA and ends in a known public
/// suffix with letters only.
fn domain_ok(domain: &str) -> bool {
    if domain.len() > 253
        || domain
            .split('.')
            .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
    {
        return false;
    }
    let tld = domain.rsplit(['.', '。']).next().unwrap_or_default();
    if !(tld.chars().all(char::is_alphabetic) || tld.to_ascii_lowercase().starts_with("xn--"))
        || tld.chars().count() < 2
    {
        return false;
    }
    let Ok(ascii) = idna::domain_to_ascii(domain) else {
        return false;
    };
    psl::suffix(ascii.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes().len() < ascii.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::scan::{ScanOptions, scan};

    fn emails(text: &str) -> Vec<(String, String)> {
        scan(text, &ScanOptions::default())
            .into_iter()
            .filter(|f| f.kind == Kind::Email)
            .map(|f| (f.text, f.masked))
            .collect()
    }

    #[test]
    fn ascii_and_international_addresses() {
        assert_eq!(
            emails("write to john.doe+x@example.com."),
            [("john.doe+x@example.com".into(), "j•••@example.com".into())]
        );
        assert_eq!(
            emails("josé.müller@exämple.de ok")[0].0,
            "josé.müller@exämple.de"
        );
        assert_eq!(emails("用户@例子.中国")[0].0, "用户@例子.中国");
        assert_eq!(
            emails("mail: anna@xn--exmple-cua.de")[0].0,
            "anna@xn--exmple-cua.de"
        );
        assert_eq!(emails("mailto:a.b@example.org")[0].0, "a.b@example.org");
    }

    #[test]
    fn lookalikes_are_not_addresses() {
        for t in [
            "@support please",
            "ftp://me:pw@example.com",
            "user@localhost",
            "see name@file.txt",
            "https://bank.com@evil.example/x",
            "a..b@example.com",
            "x@-a.com",
        ] {
            assert!(emails(t).is_empty(), "{t}");
        }
    }
}
