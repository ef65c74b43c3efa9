//! Judging one link: parse it (WHATWG `url` + IDNA UTS #46) and collect
//! the reasons it is risky.
//!
//! Job: scheme, user-info, port, host (IP literal in any notation, or
//! domain: punycode, homograph, look-alike of the organisation or a brand,
//! shortener), path (executable download) and query (redirect parameters,
//! whose target is judged too, one level deep). The levels and the
//! organisation rule live in the parent module.
//!
//! Non-goals: fetching the link, following redirects, reputation look-ups —
//! the guard does no I/O; the verdict rests on what the link itself shows.

use percent_encoding::percent_decode_str;
use unicode_security::{GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection};
use url::{Host, Url};

use super::Reason;
use super::data::data;
use super::extract::Form;
use super::lookalike::{Name, Rules, Subject, fold};

/// The organisation's own domains, prepared once per call.
pub(super) struct Org {
    entries: Vec<OrgDomain>,
}

struct OrgDomain {
    /// The domain as given, IDNA ASCII (`support.acme.com`).
    domain: String,
    /// Its registrable domain (`acme.com`).
    registrable: String,
    /// Its registrable label (`acme`), prepared for comparisons.
    name: Name,
}

impl Org {
    /// Prepares the organisation's domains; entries that are not domains
    /// (empty, a bare public suffix) are ignored.
    pub(super) fn new(domains: &[String]) -> Org {
        let entries = domains
            .iter()
            .filter_map(|d| {
                let d = d.trim();
                let d = d.split_once("://").map_or(d, |(_, rest)| rest);
                let d = d.split(['/', ':']).next().unwrap_or_default();
                let d = d.trim_start_matches("*.").trim_matches('.');
                let ascii = idna::domain_to_ascii(d).ok()?;
                let domain = psl::domain(ascii.as_bytes())?;
                let registrable = String::from_utf8_lossy(domain.as_bytes()).into_owned();
                let suffix_len = domain.suffix().as_bytes().len();
                let label = registrable.get(..registrable.len().checked_sub(suffix_len + 1)?)?;
                let unicode = idna::domain_to_unicode(label).0;
                Some(OrgDomain {
                    name: Name::new(label, &unicode),
                    registrable: registrable.clone(),
                    domain: ascii,
                })
            })
            .collect();
        Org { entries }
    }

    /// Whether `host` is one of the organisation's domains or below one, or
    /// shares its registrable domain.
    fn owns(&self, host: &str, registrable: Option<&str>) -> bool {
        self.entries.iter().any(|e| {
            host == e.domain
                || host
                    .strip_suffix(e.domain.as_str())
                    .is_some_and(|h| h.ends_with('.'))
                || registrable == Some(e.registrable.as_str())
        })
    }
}

/// What judging one link found.
#[derive(Debug, Default)]
pub(super) struct Analysis {
    /// Reasons, first found first, without repeats.
    pub reasons: Vec<Reason>,
    /// The scheme, lower case (`https`); empty for bare domains.
    pub scheme: String,
    /// The host as the browser resolves it (IDNA ASCII, IP canonical).
    pub host: Option<String>,
    /// The host's registrable domain.
    pub registrable: Option<String>,
    /// The domain a look-alike imitates (`paypal.com`, `acme.com`).
    pub imitates: Option<String>,
    /// Whether the host is one of the organisation's own.
    pub org: bool,
    /// Whether there is more than a host (path, query, fragment, address).
    pub has_rest: bool,
}

impl Analysis {
    fn push(&mut self, reason: Reason) {
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
    }
}

/// Schemes whose link runs code or reads local files.
const DANGEROUS_SCHEMES: &[&str] = &[
    "javascript",
    "vbscript",
    "data",
    "file",
    "blob",
    "filesystem",
    "ms-msdt",
    "search-ms",
    "search",
    "ms-search",
    "ms-officecmd",
];

/// Schemes of ordinary links.
const WEB_SCHEMES: &[&str] = &[
    "http", "https", "ftp", "ftps", "sftp", "ws", "wss", "mailto",
];

/// Judges `input`, written in `form`, for the organisation `org`; `depth`
/// counts redirect parameters followed so far.
pub(super) fn analyse(input: &str, form: Form, org: &Org, depth: u8) -> Analysis {
    let mut a = Analysis::default();
    let input = input.trim();
    let owned;
    let text = if form == Form::Url {
        input
    } else {
        owned = format!("https://{input}");
        owned.as_str()
    };
    if form == Form::Url {
        a.scheme = scheme_of(text).to_ascii_lowercase();
    }
    let scheme = a.scheme.clone();
    if DANGEROUS_SCHEMES.contains(&scheme.as_str()) {
        a.push(Reason::DangerousScheme);
        a.has_rest = true;
        if scheme != "file" {
            return a;
        }
    }
    if scheme == "mailto" {
        mailto(text, org, &mut a);
        return a;
    }
    let Ok(url) = Url::parse(text) else {
        a.push(Reason::Malformed);
        return a;
    };
    if form == Form::Url && !WEB_SCHEMES.contains(&scheme.as_str()) && scheme != "file" {
        a.push(Reason::UnusualScheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        a.push(Reason::UserInfo);
    }
    if form == Form::Url && matches!(scheme.as_str(), "http" | "ws" | "ftp") {
        a.push(Reason::PlainHttp);
    }
    if url.port().is_some() {
        a.push(Reason::NonStandardPort);
    }
    a.has_rest |= url.path() != "/" && !url.path().is_empty()
        || url.query().is_some()
        || url.fragment().is_some();
    let written = written_host(text);
    match url.host() {
        Some(Host::Ipv4(ip)) => {
            a.push(Reason::RawIp);
            a.host = Some(ip.to_string());
        }
        Some(Host::Ipv6(ip)) => {
            a.push(Reason::RawIp);
            a.host = Some(format!("[{ip}]"));
        }
        Some(Host::Domain(domain)) => judge_domain(domain, written, org, &mut a),
        None => {}
    }
    if executable(&url) {
        a.push(Reason::ExecutableDownload);
    }
    if a.org {
        a.reasons
            .retain(|r| matches!(r, Reason::UserInfo | Reason::DangerousScheme));
    }
    if depth < 1 {
        redirects(&url, org, depth, &mut a);
    }
    a
}

/// Judges a domain host: punycode, homographs, look-alikes, shorteners.
fn judge_domain(ascii: &str, written: &str, org: &Org, a: &mut Analysis) {
    a.host = Some(ascii.to_owned());
    let registrable =
        psl::domain(ascii.as_bytes()).map(|d| String::from_utf8_lossy(d.as_bytes()).into_owned());
    a.org = org.owns(ascii, registrable.as_deref());
    let shown_punycode = written
        .split(['.', '。', '．', '｡'])
        .any(|l| l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
    if shown_punycode {
        a.push(Reason::Punycode);
    }
    let unicode = idna::domain_to_unicode(ascii).0;
    if unicode.split('.').any(is_homograph) {
        a.push(Reason::Homograph);
    }
    let data = data();
    if let Some(subject) = Subject::new(ascii, &unicode).filter(|_| !a.org) {
        for e in &org.entries {
            if subject.imitates(&e.name, Rules::Org, &data.lure_words) {
                a.push(Reason::LookalikeOrg);
                a.imitates = Some(e.domain.clone());
                break;
            }
        }
        let real = registrable
            .as_deref()
            .is_some_and(|r| data.brand_domains.contains(r));
        if !real {
            'brands: for brand in &data.brands {
                for name in &brand.names {
                    let rules = Rules::Brand {
                        country_sites: brand.country_sites,
                    };
                    if subject.imitates(name, rules, &data.lure_words) {
                        a.push(Reason::LookalikeBrand);
                        a.imitates.get_or_insert_with(|| brand.display.to_owned());
                        break 'brands;
                    }
                }
            }
        }
        let shortener = data.shorteners.contains(ascii)
            || registrable
                .as_deref()
                .is_some_and(|r| data.shorteners.contains(r));
        if shortener {
            a.push(Reason::Shortener);
        }
    }
    a.registrable = registrable;
}

/// Whether one label (Unicode form) is an IDN homograph: characters outside
/// the UTS #39 identifier profile, scripts mixed beyond "highly
/// restrictive" (Latin with Cyrillic or Greek …), or a non-ASCII label
/// whose confusable skeleton is plain ASCII (whole-script confusables such
/// as Cyrillic `аррӏе`, Latin `ɡoogle`).
fn is_homograph(label: &str) -> bool {
    if label.is_ascii() {
        return false;
    }
    !label
        .chars()
        .all(GeneralSecurityProfile::identifier_allowed)
        || label.detect_restriction_level() > RestrictionLevel::HighlyRestrictive
        || fold(label).is_ascii()
}

/// `mailto:` links: the address's domain is judged like a host.
fn mailto(text: &str, org: &Org, a: &mut Analysis) {
    a.has_rest = true;
    let address = text.get("mailto:".len()..).unwrap_or_default();
    let address = address.split(['?', '#']).next().unwrap_or_default();
    let address = percent_decode_str(address).decode_utf8_lossy();
    let first = address.split(',').next().unwrap_or_default();
    let Some((_, domain)) = first.rsplit_once('@') else {
        a.push(Reason::Malformed);
        return;
    };
    match idna::domain_to_ascii(domain.trim()) {
        Ok(ascii) if !ascii.is_empty() => judge_domain(&ascii, domain, org, a),
        _ => a.push(Reason::Malformed),
    }
}

/// The scheme of `text` (before the first `:`), or `""`.
fn scheme_of(text: &str) -> &str {
    text.split_once(':').map_or("", |(s, _)| s)
}

/// The host as written in `text` (no user-info, no port).
fn written_host(text: &str) -> &str {
    let rest = text.split_once(':').map_or(text, |(_, r)| r);
    let rest = rest.trim_start_matches(['/', '\\']);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.split_inclusive(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

/// Whether the path, or a query value naming a file, ends in an executable
/// extension (`setup.exe`, `invoice.pdf.exe`, `?file=tool.msi`).
fn executable(url: &Url) -> bool {
    let exts = &data().executables;
    let is_exe = |name: &str| {
        let name = name.trim_end_matches(['.', ' ']);
        name.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty() && exts.contains(ext.to_ascii_lowercase().as_str())
        })
    };
    let last = url.path().rsplit('/').next().unwrap_or_default();
    if is_exe(&percent_decode_str(last).decode_utf8_lossy()) {
        return true;
    }
    url.query_pairs()
        .any(|(_, v)| is_exe(v.rsplit(['/', '\\']).next().unwrap_or_default()))
}

/// Query parameters whose value is another URL (`?url=https://…`): an open
/// redirect that hides the real destination. The target is judged too; its
/// danger reasons carry over.
fn redirects(url: &Url, org: &Org, depth: u8, a: &mut Analysis) {
    for (_, value) in url.query_pairs() {
        let value = value.trim();
        let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
        let form = if lower.starts_with("http://") || lower.starts_with("https://") {
            Form::Url
        } else if lower.starts_with("www.") {
            Form::Www
        } else {
            continue;
        };
        let target = analyse(value, form, org, depth + 1);
        let elsewhere = target.registrable.is_some() && target.registrable != a.registrable;
        let dangerous: Vec<Reason> = target
            .reasons
            .iter()
            .copied()
            .filter(|r| r.level() == crate::finding::Verdict::Danger)
            .collect();
        if (elsewhere && !target.org && !a.org) || !dangerous.is_empty() {
            a.push(Reason::RedirectParam);
        }
        for r in dangerous {
            a.push(r);
        }
        if a.imitates.is_none() {
            a.imitates = target.imitates;
        }
    }
}
