//! The wire form of findings: what `confide guard scan --json` prints and
//! what the WebAssembly API exchanges with JavaScript.
//!
//! Job: [`WireFinding`] is one finding as JSON — `kind`, `start`, `end`
//! (bytes), `text`, `explanation`, `masked`, plus `scheme` (national id),
//! `cue` (scam cue), `network` (card), `type` (credential), `verdict`,
//! `reasons` and `host` (link). [`findings_json`] prints a message's
//! findings as `{"findings":[…]}`; [`from_wire`] parses them back, checking
//! kinds and spans against the text.
//!
//! Non-goals: a versioned archive format (findings are recomputed, not
//! stored).

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::finding::{Finding, Kind, LinkInfo, Verdict};

/// One finding as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireFinding {
    /// Wire name of the kind (`payment_card`, …).
    pub kind: String,
    /// Start byte.
    pub start: usize,
    /// End byte.
    pub end: usize,
    /// The matched text.
    pub text: String,
    /// Why it is risky, in one sentence.
    pub explanation: String,
    /// The masked form.
    pub masked: String,
    /// National-id scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Scam cue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cue: Option<String>,
    /// Card network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Credential type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    /// Link verdict (`safe`, `caution`, `danger`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Link reason codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
    /// Link host (IDNA ASCII).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// `{"findings": [...]}` for one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireFindings {
    /// The findings.
    pub findings: Vec<WireFinding>,
}

/// A finding's wire form.
pub fn to_wire(f: &Finding) -> WireFinding {
    let detail = f.detail.map(str::to_owned);
    let pick = |k: Kind| if f.kind == k { detail.clone() } else { None };
    WireFinding {
        kind: f.kind.as_str().to_owned(),
        start: f.span.start,
        end: f.span.end,
        text: f.text.clone(),
        explanation: f.explanation.clone(),
        masked: f.masked.clone(),
        scheme: pick(Kind::NationalId),
        cue: pick(Kind::ScamCue),
        network: pick(Kind::PaymentCard),
        credential_type: pick(Kind::Credential),
        verdict: f.link.as_ref().map(|l| l.verdict.as_str().to_owned()),
        reasons: f
            .link
            .as_ref()
            .map(|l| l.reasons.iter().map(|r| (*r).to_owned()).collect()),
        host: f.link.as_ref().and_then(|l| l.host.clone()),
    }
}

/// `{"findings":[…]}` as one line of JSON.
pub fn findings_json(findings: &[Finding]) -> String {
    let wire = WireFindings {
        findings: findings.iter().map(to_wire).collect(),
    };
    serde_json::to_string(&wire).unwrap_or_else(|_| "{\"findings\":[]}".to_owned())
}

/// Every `detail` and reason code the guard produces, so parsed findings
/// get the same `&'static str`s back.
const NAMES: &[&str] = &[
    "us_ssn",
    "uk_nino",
    "es_dni",
    "es_nie",
    "fr_nir",
    "it_codice_fiscale",
    "nl_bsn",
    "de_steuer_id",
    "credential_request",
    "remote_access",
    "payment_redirect",
    "pressure",
    "visa",
    "mastercard",
    "amex",
    "discover",
    "diners",
    "jcb",
    "unionpay",
    "maestro",
    "mir",
    "private_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "google_api_key",
    "twilio_api_key",
    "sendgrid_api_key",
    "npm_token",
    "pypi_token",
    "jwt",
    "password",
    "api_secret",
    "ipv4",
    "ipv6",
    "dangerous_scheme",
    "userinfo",
    "homograph",
    "lookalike_org",
    "lookalike_brand",
    "text_mismatch",
    "executable_download",
    "raw_ip",
    "redirect_param",
    "punycode",
    "shortener",
    "non_standard_port",
    "plain_http",
    "unusual_scheme",
    "malformed",
];

fn intern(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| *n == name)
}

/// Parses a wire finding of `text` back (unknown details and reasons are
/// dropped; kind and span are checked).
pub fn from_wire(w: &WireFinding, text: &str) -> Result<Finding, Error> {
    let kind = Kind::from_name(&w.kind).ok_or_else(|| Error::UnknownKind(w.kind.clone()))?;
    let span_text = text
        .get(w.start..w.end)
        .filter(|_| w.start <= w.end)
        .ok_or(Error::Span {
            start: w.start,
            end: w.end,
        })?;
    let detail = [&w.scheme, &w.cue, &w.network, &w.credential_type]
        .into_iter()
        .flatten()
        .find_map(|d| intern(d));
    let link = match (kind, w.verdict.as_deref()) {
        (Kind::Link, verdict) => Some(LinkInfo {
            verdict: match verdict {
                Some("safe") => Verdict::Safe,
                Some("caution") => Verdict::Caution,
                _ => Verdict::Danger,
            },
            reasons: w
                .reasons
                .iter()
                .flatten()
                .filter_map(|r| intern(r))
                .collect(),
            host: w.host.clone(),
        }),
        _ => None,
    };
    Ok(Finding {
        kind,
        span: w.start..w.end,
        text: span_text.to_owned(),
        detail,
        explanation: w.explanation.clone(),
        masked: w.masked.clone(),
        link,
    })
}

/// Parses `{"findings":[…]}` or a bare array of findings of `text`.
pub fn parse_findings(json: &str, text: &str) -> Result<Vec<Finding>, Error> {
    let wire: Vec<WireFinding> = match serde_json::from_str::<WireFindings>(json) {
        Ok(w) => w.findings,
        Err(_) => serde_json::from_str(json)?,
    };
    wire.iter().map(|w| from_wire(w, text)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::scan::{ScanOptions, scan};

    #[test]
    fn round_trips_through_json() {
        let text = "SSN 536-22-1234, card 4111 1111 1111 1111, see http://192.168.0.1/x; tell me your password";
        let found = scan(text, &ScanOptions::default());
        assert!(found.len() >= 4, "{found:?}");
        let json = findings_json(&found);
        assert!(
            json.contains("\"scheme\":\"us_ssn\"")
                && json.contains("\"cue\":\"credential_request\"")
        );
        assert!(json.contains("\"verdict\""));
        let back = parse_findings(&json, text).unwrap();
        assert_eq!(back, found);
    }

    #[test]
    fn rejects_bad_spans_and_kinds() {
        let text = "é";
        let bad = r#"[{"kind":"email","start":0,"end":1,"text":"","explanation":"","masked":""}]"#;
        assert_eq!(
            parse_findings(bad, text),
            Err(Error::Span { start: 0, end: 1 })
        );
        let bad = r#"[{"kind":"nope","start":0,"end":2,"text":"","explanation":"","masked":""}]"#;
        assert!(matches!(
            parse_findings(bad, text),
            Err(Error::UnknownKind(_))
        ));
    }
}
