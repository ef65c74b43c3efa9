//! Finding link candidates in chat text.
//!
//! Job: return the byte spans (on `char` boundaries) of URLs with a scheme
//! (`https://…`, `ftp://…`, `file:/…`, `mailto:…@…`, `javascript:…`,
//! `vbscript:…`, `data:…,…`), `www.` forms and bare domains
//! (`paypa1-secure.com`, `xn--pypal-4ve.com`, `аpple.com/login`), with
//! trailing punctuation left out (`see example.com.` → `example.com`,
//! `(https://x.example/a_(b))` keeps the balanced parenthesis).
//!
//! Cheap on text without links: one `memchr2` pass over `:` and `.`; each
//! hit is rejected by looking at its neighbouring bytes unless it could start
//! a scheme or sit between two domain labels; nothing is allocated until a
//! candidate's top-level domain is in the public suffix list.
//!
//! Ordinary text is not taken for a domain: the top-level domain must be in
//! the public suffix list (`report.pdf`, `v1.2.3`, `e.g.`, `3.14` fail);
//! names after `/`, `\`, `@`, `_` (paths, e-mail addresses, file names) or
//! before `@`, `_`, `(` are skipped; a title-case top-level domain
//! (`Thanks.See`) is a missing space; and top-level domains that are also
//! common file extensions (`archive.zip`, `main.py`, `lib.rs`, `Main.java`)
//! count only with a path (`evil.zip/x`).
//!
//! Non-goals: judging the candidates (see `analyse`), e-mail addresses
//! (the e-mail detector reports them; `mailto:` URLs are links), and
//! schemes for apps (`tel:`, `zoommtg:`), which are not links a visitor
//! opens in a browser.

use core::ops::Range;

/// How a candidate was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    /// With a scheme: `https://…`, `mailto:…`, `javascript:…`.
    Url,
    /// Starting with `www.`, no scheme.
    Www,
    /// A bare domain, optionally with a port and path.
    Bare,
}

/// One link candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Candidate {
    /// Byte range in the text, on `char` boundaries.
    pub span: Range<usize>,
    /// How it was written.
    pub form: Form,
}

/// Top-level domains that are also common file extensions; a bare domain
/// under one of them needs a path to count as a link.
const FILE_EXTENSION_TLDS: &[&str] = &[
    "ai", "bz", "cc", "cu", "java", "md", "mk", "ml", "mm", "mov", "pl", "pm", "ps", "py", "rs",
    "sc", "sh", "so", "tf", "zip",
];

/// Every link candidate in `text`, in order, not overlapping.
pub(super) fn candidates(text: &str) -> Vec<Candidate> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut resume = 0;
    for i in memchr::memchr2_iter(b':', b'.', bytes) {
        if i < resume {
            continue;
        }
        let step = if bytes.get(i) == Some(&b':') {
            at_colon(text, i)
        } else {
            at_dot(text, i, resume)
        };
        match step {
            Step::Nothing => {}
            Step::Skip(to) => resume = resume.max(to),
            Step::Found(c) => {
                if c.span.start >= resume && c.span.start < c.span.end {
                    resume = c.span.end;
                    out.push(c);
                }
            }
        }
    }
    out
}

/// What one `:` or `.` led to.
enum Step {
    /// Not a link; go on with the next hit.
    Nothing,
    /// Not a link; skip hits before this offset (the token was judged whole).
    Skip(usize),
    /// A link.
    Found(Candidate),
}

/// The scheme ending at the `:` at `colon`, if it is one we extract.
fn at_colon(text: &str, colon: usize) -> Step {
    let bytes = text.as_bytes();
    let before = bytes.get(..colon).unwrap_or_default();
    let len = before
        .iter()
        .rev()
        .take(16)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'+' || **b == b'-')
        .count();
    let start = colon - len;
    let scheme = bytes.get(start..colon).unwrap_or_default();
    if !scheme.first().is_some_and(u8::is_ascii_alphabetic) {
        return Step::Nothing;
    }
    let rest = text.get(colon + 1..).unwrap_or_default();
    let lower = |s: &str| scheme.eq_ignore_ascii_case(s.as_bytes());
    let hierarchical = ["http", "https", "ftp", "ftps", "sftp", "ws", "wss"];
    let ok = if hierarchical.iter().any(|s| lower(s)) {
        rest.starts_with("//")
            && rest
                .get(2..)
                .and_then(|r| r.chars().next())
                .is_some_and(|c| c != '/' && !ends_url(c))
    } else if lower("file") {
        rest.starts_with('/')
    } else if lower("javascript") || lower("vbscript") {
        rest.chars().next().is_some_and(|c| !ends_url(c))
    } else if lower("mailto") {
        token(rest).contains('@') && rest.chars().next().is_some_and(|c| c != '@')
    } else if lower("data") {
        let t = token(rest);
        t.contains(',')
            && t.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == ',')
    } else {
        false
    };
    if !ok {
        return Step::Nothing;
    }
    let end = trim_trailing(text, start, url_end(text, colon + 1));
    if end <= colon + 1 {
        return Step::Nothing;
    }
    Step::Found(Candidate {
        span: start..end,
        form: Form::Url,
    })
}

/// A domain around the `.` at `dot`, if it is one.
fn at_dot(text: &str, dot: usize, floor: usize) -> Step {
    let bytes = text.as_bytes();
    let next_ok = bytes
        .get(dot + 1)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b >= 0x80);
    let prev_ok = dot
        .checked_sub(1)
        .and_then(|p| bytes.get(p))
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b >= 0x80);
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    if dot > 0 && digit_at(dot - 1) && digit_at(dot + 1) {
        return ip_at(text, dot, floor);
    }
    if !next_ok || !prev_ok {
        return Step::Nothing;
    }
    // The whole run of label characters and dots around `dot`.
    let head = text.get(floor..dot).unwrap_or_default();
    let mut start = dot;
    for (i, c) in head.char_indices().rev() {
        if !is_label_char(c) && c != '.' {
            break;
        }
        start = floor + i;
    }
    let tail = text.get(dot..).unwrap_or_default();
    let run_end = dot
        + tail
            .char_indices()
            .find(|(_, c)| !is_label_char(*c) && *c != '.')
            .map_or(tail.len(), |(i, _)| i);
    let skip = Step::Skip(run_end);
    let run = text.get(start..run_end).unwrap_or_default();
    // Leading dots and hyphens are not part of the host; trailing dots end
    // a sentence.
    let host = run.trim_start_matches(['.', '-']).trim_end_matches('.');
    let host_start = run_end - run.trim_start_matches(['.', '-']).len();
    let host_end = host_start + host.len();
    if host.ends_with('-') || host.contains("..") || host.len() > 253 {
        return skip;
    }
    let before = text.get(..host_start).and_then(|t| t.chars().next_back());
    if before.is_some_and(|c| "@/\\_$%~=&#+^|`".contains(c)) {
        return skip;
    }
    let after = text.get(host_end..).and_then(|t| t.chars().next());
    if after.is_some_and(|c| c == '@' || c == '_' || c == '(') {
        return skip;
    }
    let Some(tld) = host.rsplit('.').next() else {
        return skip;
    };
    let labels_ok = host
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.len() <= 63);
    if !labels_ok || !tld_plausible(tld) {
        return skip;
    }
    let www = host
        .get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case("www."));
    let path_follows = after == Some('/');
    if !www
        && !path_follows
        && FILE_EXTENSION_TLDS
            .iter()
            .any(|t| tld.eq_ignore_ascii_case(t))
    {
        return skip;
    }
    if tld.is_ascii() && !ascii_tld_known(tld) {
        return skip;
    }
    if !host_known(host) {
        return skip;
    }
    // Port, then path, query or fragment.
    let mut end = host_end;
    let rest = text.get(host_end..).unwrap_or_default();
    if let Some(port) = rest.strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=5).contains(&digits) {
            end += 1 + digits;
        }
    }
    if text
        .get(end..)
        .and_then(|t| t.chars().next())
        .is_some_and(|c| matches!(c, '/' | '?' | '#'))
    {
        end = trim_trailing(text, host_start, url_end(text, end)).max(host_end);
    }
    Step::Found(Candidate {
        span: host_start..end,
        form: if www { Form::Www } else { Form::Bare },
    })
}

/// A dotted-quad IPv4 address around the `.` at `dot` that is followed by a
/// path (`198.51.100.7/login`, `10.0.0.1:8080/admin`): a link without its
/// scheme. An address alone is the IP-address detector's, not a link.
fn ip_at(text: &str, dot: usize, floor: usize) -> Step {
    let bytes = text.as_bytes();
    let is_ip_byte = |b: &u8| b.is_ascii_digit() || *b == b'.';
    let head = bytes.get(floor..dot).unwrap_or_default();
    let start = dot - head.iter().rev().take_while(|b| is_ip_byte(b)).count();
    let tail = bytes.get(dot..).unwrap_or_default();
    let run_end = dot + tail.iter().take_while(|b| is_ip_byte(b)).count();
    let Some(run) = text.get(start..run_end) else {
        return Step::Skip(run_end);
    };
    let host = run.trim_end_matches('.');
    let host_end = start + host.len();
    let before = text.get(..start).and_then(|t| t.chars().next_back());
    let before_ok = !before.is_some_and(|c| c.is_alphanumeric() || "@/\\_$%~=&#+^|`-".contains(c));
    if !before_ok || host.parse::<std::net::Ipv4Addr>().is_err() {
        return Step::Skip(run_end);
    }
    let rest = text.get(host_end..).unwrap_or_default();
    let port = rest
        .strip_prefix(':')
        .map_or(0, |p| p.bytes().take_while(u8::is_ascii_digit).count());
    let path_at = if port > 0 {
        host_end + 1 + port
    } else {
        host_end
    };
    if !text.get(path_at..).is_some_and(|t| t.starts_with('/')) {
        return Step::Skip(run_end);
    }
    let end = trim_trailing(text, start, url_end(text, path_at)).max(host_end);
    Step::Found(Candidate {
        span: start..end,
        form: Form::Bare,
    })
}

/// Letters, digits, hyphens and combining marks of a domain label.
fn is_label_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '-'
    } else {
        c.is_alphanumeric()
            || matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
                | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}' | '\u{200C}' | '\u{200D}')
    }
}

/// A top-level domain as written could be real: letters only (`com`,
/// `рф`), or an A-label (`xn--p1ai`); a title-case one (`Thanks.See`) is a
/// missing space after a full stop.
fn tld_plausible(tld: &str) -> bool {
    if tld.len() >= 5 && tld.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")) {
        return true;
    }
    let mut chars = tld.chars();
    let first_upper = chars.next().is_some_and(char::is_uppercase);
    let title_case = first_upper && chars.any(char::is_lowercase);
    tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic) && !title_case
}

/// Whether an ASCII top-level domain is in the public suffix list, without
/// allocating.
fn ascii_tld_known(tld: &str) -> bool {
    let mut buf = [0u8; 64];
    if tld.len() > buf.len() {
        return false;
    }
    for (slot, b) in buf.iter_mut().zip(tld.bytes()) {
        *slot = b.to_ascii_lowercase();
    }
    let lower = buf.get(..tld.len()).unwrap_or_default();
    psl::suffix(lower).is_some_and(|s| s.is_known() && s.as_bytes().len() == lower.len())
}

/// Whether `host` (as written) maps through IDNA to a domain with a
/// registrable part under a known public suffix.
fn host_known(host: &str) -> bool {
    let Ok(ascii) = idna::domain_to_ascii(host) else {
        return false;
    };
    psl::domain(ascii.as_bytes()).is_some_and(|d| d.suffix().is_known())
}

/// Characters that end a URL in running text: spaces, controls, delimiters
/// and emoji (`https://acme.com🙂` links to `acme.com`).
fn ends_url(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '<' | '>' | '"' | '`' | '{' | '}' | '|')
        || matches!(c, '\u{2600}'..='\u{27BF}' | '\u{2B00}'..='\u{2BFF}' | '\u{FE0F}'
            | '\u{1F000}'..='\u{1FAFF}')
}

/// The text from the start of `s` to the first character that ends a URL,
/// or to a Markdown `](` (the end of a link label).
fn token(s: &str) -> &str {
    let end = s.find(ends_url).unwrap_or(s.len());
    let end = s.get(..end).and_then(|t| t.find("](")).unwrap_or(end);
    s.get(..end).unwrap_or_default()
}

/// The offset where the URL continuing at `from` ends (before trimming).
fn url_end(text: &str, from: usize) -> usize {
    from + token(text.get(from..).unwrap_or_default()).len()
}

/// `end` moved left past trailing punctuation that belongs to the sentence:
/// full stops, commas, quotes, closing brackets without an opening one.
fn trim_trailing(text: &str, start: usize, mut end: usize) -> usize {
    let Some(s) = text.get(start..end) else {
        return end;
    };
    // Unmatched closing brackets, counted once (trimming one only lowers
    // the count of its own kind).
    let count = |c: char| s.chars().filter(|x| *x == c).count();
    let mut parens = count(')').saturating_sub(count('('));
    let mut squares = count(']').saturating_sub(count('['));
    while let Some(last) = text.get(start..end).and_then(|s| s.chars().next_back()) {
        let trim = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '…' | '。' | '、' | '，' | '！'
            | '？' | '：' | '；' | '»' | '«' | '”' | '“' | '’' | '‘' | '」' | '』' | '】'
            | '）' => true,
            ')' if parens > 0 => {
                parens -= 1;
                true
            }
            ']' if squares > 0 => {
                squares -= 1;
                true
            }
            _ => false,
        };
        if !trim {
            break;
        }
        end -= last.len_utf8();
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        candidates(text)
            .into_iter()
            .filter_map(|c| text.get(c.span))
            .collect()
    }

    #[test]
    fn urls_with_schemes() {
        assert_eq!(
            found("see https://example.com/a?b=c."),
            ["https://example.com/a?b=c"]
        );
        assert_eq!(
            found("(http://x.example/a_(b))"),
            ["http://x.example/a_(b)"]
        );
        assert_eq!(
            found("[docs](https://docs.rs/url)"),
            ["https://docs.rs/url"]
        );
        assert_eq!(
            found("[https://a.example/x](https://b.example/)"),
            ["https://a.example/x", "https://b.example/"]
        );
        assert_eq!(found("<https://a.example/>"), ["https://a.example/"]);
        assert_eq!(found("javascript:alert(1)"), ["javascript:alert(1)"]);
        assert_eq!(
            found("mail mailto:help@acme.com!"),
            ["mailto:help@acme.com"]
        );
        assert_eq!(found("data:text/html,hi<b>"), ["data:text/html,hi"]);
        assert_eq!(found("file:///etc/passwd"), ["file:///etc/passwd"]);
        assert_eq!(found("HTTPS://EXAMPLE.COM"), ["HTTPS://EXAMPLE.COM"]);
        assert_eq!(found("https://acme.com🙂 ok"), ["https://acme.com"]);
        assert_eq!(found("«https://a.example/x»"), ["https://a.example/x"]);
        assert!(found("JavaScript: a language. data: none. https:// x").is_empty());
    }

    #[test]
    fn bare_and_www() {
        assert_eq!(found("see example.com."), ["example.com"]);
        assert_eq!(
            found("go to www.example.org/path?x=1, then"),
            ["www.example.org/path?x=1"]
        );
        assert_eq!(found("paypa1-secure.com"), ["paypa1-secure.com"]);
        assert_eq!(found("xn--pypal-4ve.com"), ["xn--pypal-4ve.com"]);
        assert_eq!(found("аpple.com/login"), ["аpple.com/login"]);
        assert_eq!(found("evil.zip/x and archive.zip"), ["evil.zip/x"]);
        assert_eq!(found("host example.com:8443/a"), ["example.com:8443/a"]);
        assert_eq!(found("„sparkasse.de“"), ["sparkasse.de"]);
        assert_eq!(found("open 198.51.100.7/login."), ["198.51.100.7/login"]);
        assert_eq!(found("at 10.0.0.1:8080/admin"), ["10.0.0.1:8080/admin"]);
    }

    #[test]
    fn ordinary_text_is_not_a_link() {
        for text in [
            "report.pdf",
            "v1.2.3",
            "e.g. i.e. a.m. U.S.A.",
            "3.14 and 10:30",
            "Thanks.See you",
            "main.py lib.rs notes.md",
            "john.smith@example.com",
            "src/main.rs C:\\Users\\x\\file.txt",
            "my_report.com",
            "console.log(x)",
            "Note: done.",
            "at com.example.Main.run(Main.java:42)",
            "...",
            "a..b.com",
            "server 203.0.113.7 is down",
            "version v1.2.3.4/5 and 999.1.1.1/x",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
