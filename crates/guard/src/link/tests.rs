//! Unit tests of the link analyser: one group per reason, the organisation
//! rule, extraction into findings, masking and explanations.

use super::*;

fn org() -> Vec<String> {
    vec!["acme.com".to_owned(), "acme-support.io".to_owned()]
}

fn judge(url: &str) -> (Verdict, Vec<&'static str>) {
    let info = analyse_url(url, &org());
    (info.verdict, info.reasons)
}

fn has(url: &str, reason: &str, verdict: Verdict) {
    let (v, reasons) = judge(url);
    assert!(
        reasons.contains(&reason),
        "{url}: {reasons:?} lacks {reason}"
    );
    assert_eq!(v, verdict, "{url}: {reasons:?}");
}

#[test]
fn safe_links() {
    for url in [
        "https://www.rust-lang.org/learn",
        "https://docs.rs/url/latest/url/struct.Url.html?search=parse#method.parse",
        "https://en.wikipedia.org/wiki/Rust_(programming_language)",
        "https://www.paypal.com/signin",
        "https://apple.stackexchange.com/questions/1",
        "https://www.amazon.de/gp/cart",
        "mailto:someone@example.org",
        "münchen.de",
        "https://правительство.рф/",
        "https://google.github.io/styleguide/",
    ] {
        assert_eq!(judge(url), (Verdict::Safe, vec![]), "{url}");
    }
}

#[test]
fn organisation_domains_are_safe() {
    for url in [
        "https://acme.com/",
        "http://help.acme.com:8080/reset?next=/account",
        "acme-support.io/ticket/42",
        "https://acme.com/download/AcmeSetup.exe",
        "mailto:support@acme.com",
        "https://acme.com/login?next=https://acme.com/account",
    ] {
        assert_eq!(judge(url), (Verdict::Safe, vec![]), "{url}");
    }
    has("https://user@acme.com/", "userinfo", Verdict::Danger);
    for given in ["https://acme.com/", "*.acme.com", "ACME.COM.", ".acme.com"] {
        let info = analyse_url("https://help.acme.com/x", &[given.to_owned()]);
        assert_eq!(info.verdict, Verdict::Safe, "{given}");
    }
    has(
        "https://acme.com/r?u=https://paypa1.com/",
        "lookalike_brand",
        Verdict::Danger,
    );
}

#[test]
fn dangerous_schemes() {
    has(
        "javascript:alert(document.cookie)",
        "dangerous_scheme",
        Verdict::Danger,
    );
    has("JaVaScRiPt:alert(1)", "dangerous_scheme", Verdict::Danger);
    has("vbscript:msgbox(1)", "dangerous_scheme", Verdict::Danger);
    has(
        "data:text/html;base64,PHNjcmlwdD4=",
        "dangerous_scheme",
        Verdict::Danger,
    );
    has(
        "file:///C:/Windows/System32/cmd.exe",
        "dangerous_scheme",
        Verdict::Danger,
    );
    has(
        "ms-msdt:/id PCWDiagnostic",
        "dangerous_scheme",
        Verdict::Danger,
    );
}

#[test]
fn userinfo() {
    has(
        "https://bank.com@evil.example/login",
        "userinfo",
        Verdict::Danger,
    );
    has(
        "http://www.paypal.com:secure@198.51.100.7/",
        "userinfo",
        Verdict::Danger,
    );
    assert_eq!(
        analyse_url("https://acme.com@evil.example/", &org())
            .host
            .as_deref(),
        Some("evil.example")
    );
}

#[test]
fn homographs() {
    has("https://аpple.com/", "homograph", Verdict::Danger);
    has("https://раураl.com/", "homograph", Verdict::Danger);
    has("https://xn--80ak6aa92e.com/", "homograph", Verdict::Danger);
    has("https://gοοgle.com/", "homograph", Verdict::Danger);
    has("https://ɡoogle.com/", "homograph", Verdict::Danger);
    has("https://exаmple.org/", "homograph", Verdict::Danger);
}

#[test]
fn punycode() {
    has("https://xn--mnchen-3ya.de/", "punycode", Verdict::Caution);
    has("xn--pypal-4ve.com", "punycode", Verdict::Danger);
}

#[test]
fn organisation_lookalikes() {
    for url in [
        "https://acme.net/login",
        "https://acrne.com/",
        "https://acme-support-login.com/",
        "https://acmesupport.com/",
        "https://acme.com.evil.example/",
        "https://acmee.com/",
        "https://аcme.com/",
        "https://acme-supp0rt.io/",
    ] {
        has(url, "lookalike_org", Verdict::Danger);
    }
}

#[test]
fn brand_lookalikes() {
    for url in [
        "https://paypa1.com/",
        "https://paypal-secure-login.com/",
        "https://secure-paypal.com.verify.example/",
        "https://www.paypal.com.account-verify.net/",
        "https://rnicrosoft.com/",
        "https://micros0ft-support.com/",
        "https://amaz0n.co/",
        "https://wellsfargo-alerts.com/",
        "https://bankofamerica.secure-login.info/",
        "https://dhl-parcel-tracking.com/",
        "https://netfliix.com/",
        "https://paypal.web.app/",
        "https://apple.id-verify.net/",
        "https://coinbase-wallet-support.com/",
    ] {
        has(url, "lookalike_brand", Verdict::Danger);
    }
    for url in [
        "https://purchase.com/",
        "https://www.pineapple.com/",
        "https://finance.yahoo.com/",
        "https://paypal-community.com/",
        "https://apple.stackexchange.com/",
        "https://www.amazon.co.uk/",
    ] {
        assert!(
            !judge(url).1.contains(&"lookalike_brand"),
            "{url}: {:?}",
            judge(url)
        );
    }
}

#[test]
fn raw_ips() {
    has("http://198.51.100.7/login", "raw_ip", Verdict::Danger);
    has("http://3232235521/", "raw_ip", Verdict::Danger);
    has("http://0xC0A80001/", "raw_ip", Verdict::Danger);
    has("http://0300.0250.0.1/", "raw_ip", Verdict::Danger);
    has("http://[2001:db8::1]/", "raw_ip", Verdict::Danger);
    has("http://192.168.1.1/", "raw_ip", Verdict::Danger);
    has("http://[::1]/", "raw_ip", Verdict::Danger);
}

#[test]
fn shorteners() {
    has("https://bit.ly/3abcDEF", "shortener", Verdict::Caution);
    has("https://tinyurl.com/y7x8z9", "shortener", Verdict::Caution);
    has("t.co/abc", "shortener", Verdict::Caution);
}

#[test]
fn plain_http_and_ports() {
    has("http://example.com/", "plain_http", Verdict::Caution);
    has(
        "https://example.com:8443/",
        "non_standard_port",
        Verdict::Caution,
    );
    assert_eq!(judge("example.com").0, Verdict::Safe);
    assert_eq!(judge("https://example.com:443/").0, Verdict::Safe);
}

#[test]
fn executables() {
    for url in [
        "https://example.com/setup.exe",
        "https://example.com/files/invoice.pdf.exe",
        "https://example.com/Update.MSI",
        "https://example.com/run.ps1?x=1",
        "https://example.com/dl?file=tool.scr",
        "https://example.com/app-release.apk",
        "https://example.com/a%2Eexe",
    ] {
        has(url, "executable_download", Verdict::Danger);
    }
    assert_eq!(judge("https://example.com/manual.pdf").0, Verdict::Safe);
}

#[test]
fn redirects() {
    has(
        "https://example.com/out?url=https://other.example/",
        "redirect_param",
        Verdict::Caution,
    );
    has(
        "https://www.google.com/url?q=https://paypa1-login.com/",
        "lookalike_brand",
        Verdict::Danger,
    );
    let (v, r) = judge("https://example.com/a?next=https://example.com/b");
    assert_eq!((v, r), (Verdict::Safe, vec![]));
}

#[test]
fn malformed_and_unusual() {
    has("http://exa mple.com/", "malformed", Verdict::Caution);
    has("tel:+441234567890", "unusual_scheme", Verdict::Caution);
}

#[test]
fn findings_from_text() {
    let text = "Hi! Log in at https://acme.com/login or at paypa1-secure.com. Thanks.";
    let f = find_links(text, &org());
    assert_eq!(f.len(), 2);
    let [first, second] = f.as_slice() else {
        unreachable!()
    };
    assert_eq!(first.text, "https://acme.com/login");
    assert_eq!(first.link.as_ref().map(|l| l.verdict), Some(Verdict::Safe));
    assert_eq!(second.text, "paypa1-secure.com");
    assert_eq!(text.get(second.span.clone()), Some("paypa1-secure.com"));
    assert_eq!(second.kind, Kind::Link);
    assert_eq!(second.masked, "paypa1-secure[.]com");
    assert!(
        second.explanation.contains("paypal.com"),
        "{}",
        second.explanation
    );
    let info = second.link.as_ref().map(|l| (l.verdict, l.reasons.clone()));
    assert_eq!(info, Some((Verdict::Danger, vec!["lookalike_brand"])));
    assert!(find_links("Order 12.5 kg at 10:30, v1.2.3, e.g. report.pdf", &org()).is_empty());
}

#[test]
fn markdown_text_mismatch() {
    let text = "Pay here: [www.paypal.com](https://pay-now.example/checkout).";
    let f = find_links(text, &org());
    assert_eq!(f.len(), 1, "{f:?}");
    let first = f.first().map(|f| (f.text.as_str(), f.link.clone()));
    let (shown, info) = first.unwrap_or_default();
    assert_eq!(shown, "[www.paypal.com](https://pay-now.example/checkout)");
    let info = info.unwrap_or_else(|| unreachable!());
    assert_eq!(
        (info.verdict, info.reasons),
        (Verdict::Danger, vec!["text_mismatch"])
    );
    let same = find_links(
        "[docs](https://docs.rs/) [docs.rs](https://docs.rs/url)",
        &org(),
    );
    assert!(
        same.iter()
            .all(|f| f.link.as_ref().is_some_and(|l| l.verdict == Verdict::Safe))
    );
}

#[test]
fn masking() {
    let m = |t: &str| {
        find_links(t, &org())
            .into_iter()
            .map(|f| f.masked)
            .collect::<Vec<_>>()
    };
    assert_eq!(m("https://evil.example/x?y"), ["hxxps://evil[.]example/…"]);
    assert_eq!(m("http://evil.example"), ["hxxp://evil[.]example"]);
    assert_eq!(m("javascript:alert(1)"), ["javascript:…"]);
    assert_eq!(m("mailto:x@evil.example"), ["mailto:…@evil[.]example"]);
}
