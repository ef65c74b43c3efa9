//! Link analysis: find URLs and bare domains in a message and judge each
//! one `safe`, `caution` or `danger`, with stable reason codes.
//!
//! Job: [`find_links`] extracts links from chat text (schemes, `www.` forms,
//! bare domains validated against the public suffix list, trailing
//! punctuation left out, Markdown `[text](url)` as one link) and returns one
//! [`Kind::Link`] [`Finding`] per link; [`analyse_url`] judges one URL (an
//! agent clicking a link). Both parse with the WHATWG `url` crate and IDNA
//! UTS #46, so the host judged is the host a browser would open.
//!
//! | reason | level | when |
//! |---|---|---|
//! | `dangerous_scheme` | danger | `javascript:`, `vbscript:`, `data:`, `file:`, `blob:`, `ms-msdt:`, `search-ms:` … |
//! | `userinfo` | danger | user-info before the host: `https://bank.com@evil.example` |
//! | `homograph` | danger | an IDN label outside the UTS #39 identifier profile, mixing scripts beyond *highly restrictive* (Latin + Cyrillic/Greek), or wholly confusable with ASCII (`аррӏе.com`) |
//! | `lookalike_org` | danger | imitates one of the organisation's domains: same confusable skeleton, Damerau-Levenshtein ≤ 1 (≥ 4 chars) or ≤ 2 (≥ 6 chars) on the registrable label, same label under another suffix, the name embedded (`acme-support-login.com`, `acme.com.evil.example`) |
//! | `lookalike_brand` | danger | the same for ~140 commonly phished brands (`data/brands.txt`), excluding their real domains; stricter thresholds (distance 1 from 5 chars with the same first letter, 2 from 9; names under six characters embedded only among lure words; the name under a country-code suffix is the brand's own for brands marked `[cc]`) |
//! | `text_mismatch` | danger | a Markdown link whose text shows another domain than its target: `[paypal.com](https://evil.example)` |
//! | `executable_download` | danger | the path (or a query value naming a file) ends in an executable extension (`data/executables.txt`), double extensions included (`invoice.pdf.exe`) |
//! | `raw_ip` | danger | an IPv4 or IPv6 host instead of a name, in any notation the browser accepts: dotted, decimal, hex, octal, short (`http://3232235521/` is 192.168.0.1); private addresses too, since the guard cannot tell a router's page from a phishing kit on a local network |
//! | `redirect_param` | caution | a query value is a URL to another site (`?url=https://…`); its target is judged too and its danger reasons carry over |
//! | `punycode` | caution | an `xn--` label is shown to the user |
//! | `shortener` | caution | a URL shortener hides the destination (`data/shorteners.txt`) |
//! | `non_standard_port` | caution | an explicit non-default port |
//! | `plain_http` | caution | `http:`, `ws:` or `ftp:` written out (a bare domain gets no scheme reason) |
//! | `unusual_scheme` | caution | any other scheme, e.g. `tel:` or an app's (from [`analyse_url`] only) |
//! | `malformed` | caution | the URL does not parse (invalid host, bad IDNA) |
//!
//! The verdict is the highest level of its reasons; no reason → safe.
//! **The organisation's own domains** (given, their subdomains, and hosts
//! sharing their registrable domain) are safe: only `userinfo` and
//! `dangerous_scheme` still count there (a link built to mislead is a
//! trick whatever its host), and an open redirect on the organisation's site
//! to a *dangerous* target (`acme.com/r?u=https://paypa1.com`) is danger.
//!
//! Non-goals: fetching links, following redirects or asking a reputation
//! service (no I/O — the verdict rests on the link as written); e-mail
//! addresses (the e-mail detector reports them); HTML anchors.

mod analyse;
mod data;
mod extract;
mod lookalike;

use core::ops::Range;

use crate::finding::{Finding, Kind, LinkInfo, Verdict};

use analyse::{Analysis, Org, analyse};
use extract::Form;

/// Every link in `text`, in order, as [`Kind::Link`] findings with a
/// verdict, reasons, a one-sentence explanation and a defanged `masked` form
/// (`hxxps://evil[.]example/…`). `org_domains` are the organisation's own
/// domains (`acme.com`); links to them and their subdomains are safe.
pub fn find_links(text: &str, org_domains: &[String]) -> Vec<Finding> {
    let candidates = extract::candidates(text);
    if candidates.is_empty() {
        return Vec::new();
    }
    let org = Org::new(org_domains);
    let wrapped: Vec<Option<(Range<usize>, Range<usize>)>> =
        candidates.iter().map(|c| markdown(text, &c.span)).collect();
    // Markdown labels, in text order; a candidate inside one (the `paypal.com`
    // of `[paypal.com](…)`) is part of that link's finding.
    let mut labels = wrapped.iter().flatten().map(|(_, l)| l).peekable();
    let mut findings = Vec::with_capacity(candidates.len());
    for (candidate, wrap) in candidates.iter().zip(&wrapped) {
        let span = &candidate.span;
        while labels.next_if(|l| l.end <= span.start).is_some() {}
        if labels
            .peek()
            .is_some_and(|l| l.start <= span.start && span.end <= l.end)
        {
            continue;
        }
        let url = text.get(span.clone()).unwrap_or_default();
        let mut a = analyse(url, candidate.form, &org, 0);
        let mut span = span.clone();
        let after_previous = |outer: &Range<usize>| {
            findings
                .last()
                .is_none_or(|f: &Finding| f.span.end <= outer.start)
        };
        if let Some((outer, label)) = wrap.as_ref().filter(|(o, _)| after_previous(o)) {
            span = outer.clone();
            if mismatch(text.get(label.clone()).unwrap_or_default(), &a, &org) {
                a.reasons.push(Reason::TextMismatch);
            }
        }
        let info = info(&a);
        findings.push(Finding {
            kind: Kind::Link,
            text: text.get(span.clone()).unwrap_or_default().to_owned(),
            span,
            detail: None,
            explanation: explanation(&a, &info),
            masked: masked(&a, candidate.form),
            link: Some(info),
        });
    }
    findings
}

/// Judges one URL, bare domain or `www.` form (an agent clicking a link).
pub fn analyse_url(url: &str, org_domains: &[String]) -> LinkInfo {
    let url = url.trim();
    let form = if has_scheme(url) {
        Form::Url
    } else if url.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("www.")) {
        Form::Www
    } else {
        Form::Bare
    };
    info(&analyse(url, form, &Org::new(org_domains), 0))
}

/// A reason a link is risky; the order is the order of explanation
/// priority (most telling first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reason {
    DangerousScheme,
    UserInfo,
    Homograph,
    LookalikeOrg,
    LookalikeBrand,
    TextMismatch,
    ExecutableDownload,
    RawIp,
    RedirectParam,
    Punycode,
    Shortener,
    NonStandardPort,
    PlainHttp,
    UnusualScheme,
    Malformed,
}

impl Reason {
    /// The stable code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Reason::DangerousScheme => "dangerous_scheme",
            Reason::UserInfo => "userinfo",
            Reason::Homograph => "homograph",
            Reason::LookalikeOrg => "lookalike_org",
            Reason::LookalikeBrand => "lookalike_brand",
            Reason::TextMismatch => "text_mismatch",
            Reason::ExecutableDownload => "executable_download",
            Reason::RawIp => "raw_ip",
            Reason::RedirectParam => "redirect_param",
            Reason::Punycode => "punycode",
            Reason::Shortener => "shortener",
            Reason::NonStandardPort => "non_standard_port",
            Reason::PlainHttp => "plain_http",
            Reason::UnusualScheme => "unusual_scheme",
            Reason::Malformed => "malformed",
        }
    }

    /// How much it weighs.
    pub(crate) fn level(self) -> Verdict {
        match self {
            Reason::DangerousScheme
            | Reason::UserInfo
            | Reason::Homograph
            | Reason::LookalikeOrg
            | Reason::LookalikeBrand
            | Reason::TextMismatch
            | Reason::ExecutableDownload
            | Reason::RawIp => Verdict::Danger,
            Reason::RedirectParam
            | Reason::Punycode
            | Reason::Shortener
            | Reason::NonStandardPort
            | Reason::PlainHttp
            | Reason::UnusualScheme
            | Reason::Malformed => Verdict::Caution,
        }
    }
}

/// Whether `url` starts with a scheme (`https:`, `mailto:`), as opposed to
/// a host with a port (`example.com:8080`).
fn has_scheme(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.starts_with(|c: char| c.is_ascii_digit())
}

/// The public verdict of an analysis.
fn info(a: &Analysis) -> LinkInfo {
    let mut reasons = a.reasons.clone();
    reasons.sort();
    let verdict = reasons
        .iter()
        .map(|r| r.level())
        .max()
        .unwrap_or(Verdict::Safe);
    let mut codes: Vec<&'static str> = Vec::with_capacity(reasons.len());
    for code in reasons.iter().map(|r| r.code()) {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    LinkInfo {
        verdict,
        reasons: codes,
        host: a.host.clone(),
    }
}

/// For a link directly inside Markdown `[label](…)`: the whole construct's
/// span and the label's.
fn markdown(text: &str, span: &Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
    let before = text.get(..span.start)?.strip_suffix("](")?;
    if !text.get(span.end..)?.starts_with(')') {
        return None;
    }
    let open = before
        .char_indices()
        .rev()
        .take(300)
        .take_while(|(_, c)| *c != '\n' && *c != ']')
        .find(|(_, c)| *c == '[')?
        .0;
    Some((open..span.end + 1, open + 1..before.len()))
}

/// Whether a Markdown label shows a domain other than the target's.
fn mismatch(label: &str, target: &Analysis, org: &Org) -> bool {
    extract::candidates(label).iter().any(|c| {
        let shown = analyse(
            label.get(c.span.clone()).unwrap_or_default(),
            c.form,
            org,
            1,
        );
        let (shown, real) = (
            shown.registrable.or(shown.host),
            target.registrable.as_ref().or(target.host.as_ref()),
        );
        shown.is_some() && shown.as_ref() != real
    })
}

/// One sentence for the user naming the most telling risk.
fn explanation(a: &Analysis, info: &LinkInfo) -> String {
    let host = info.host.as_deref().unwrap_or("an unknown site");
    let imitates = a.imitates.as_deref().unwrap_or("a trusted website");
    let Some(top) = a.reasons.iter().min() else {
        return if a.org {
            format!("This link opens the organisation's own website ({host}).")
        } else {
            format!(
                "No known trick found in this link to {host}; check the address before opening it."
            )
        };
    };
    match top {
        Reason::DangerousScheme => {
            "This link runs code or opens files on your device instead of opening a web page."
                .into()
        }
        Reason::UserInfo => {
            format!(
                "This link hides its real destination behind an '@' sign: it actually opens {host}."
            )
        }
        Reason::Homograph => format!(
            "This link uses look-alike letters from another alphabet to disguise its real address ({host})."
        ),
        Reason::LookalikeOrg => format!(
            "This link imitates the organisation's address {imitates} but opens {host}, which is not the organisation's."
        ),
        Reason::LookalikeBrand => {
            format!("This link imitates {imitates} but opens {host}, a different website.")
        }
        Reason::TextMismatch => {
            format!("The link text shows one address but the link actually opens {host}.")
        }
        Reason::ExecutableDownload => {
            "This link downloads a program or script that could install malware on your device."
                .into()
        }
        Reason::RawIp => format!(
            "This link opens a bare IP address ({host}) instead of a named website, a common phishing trick."
        ),
        Reason::RedirectParam => {
            "This link forwards you to another website named inside its address.".into()
        }
        Reason::Punycode => format!(
            "This link shows an encoded international address ({host}) that can disguise the real website."
        ),
        Reason::Shortener => {
            "This link goes through a URL shortener that hides where it really leads.".into()
        }
        Reason::NonStandardPort => {
            "This link uses an unusual network port, which ordinary websites rarely need.".into()
        }
        Reason::PlainHttp => {
            "This link is not encrypted (plain HTTP), so what it shows can be altered on the way."
                .into()
        }
        Reason::UnusualScheme => {
            "This link opens an app or protocol rather than a web page.".into()
        }
        Reason::Malformed => {
            "This link is malformed, so where it really leads cannot be checked.".into()
        }
    }
}

/// The link defanged, so it can be shown but not opened:
/// `hxxps://evil[.]example/…`, `mailto:…@evil[.]example`, `javascript:…`.
fn masked(a: &Analysis, form: Form) -> String {
    let rest = if a.has_rest { "/…" } else { "" };
    let Some(host) = a.host.as_deref() else {
        return if a.scheme.is_empty() {
            "[link]".into()
        } else {
            format!("{}:…", a.scheme)
        };
    };
    let host = host.replace('.', "[.]");
    match (form, a.scheme.as_str()) {
        (Form::Url, "mailto") => format!("mailto:…@{host}"),
        (Form::Url, scheme) => {
            let scheme = match scheme {
                "http" => "hxxp",
                "https" => "hxxps",
                "ftp" => "fxp",
                "ftps" => "fxps",
                other => other,
            };
            format!("{scheme}://{host}{rest}")
        }
        _ => format!("{host}{rest}"),
    }
}

#[cfg(test)]
mod tests;
