//! The guard for the page: what to say before a message is sealed, and how
//! to show one that was opened. JSON in, JSON out; spans never cross into
//! JavaScript (its strings are UTF-16, the guard's spans are bytes), so a
//! received message comes back as *segments* the page renders as text.
//!
//! - [`check_outgoing`]: findings (wire form of `confide_guard::json`), the
//!   policy decision for the direction, and the message with every
//!   maskable finding masked (what "mask and send" sends).
//! - [`render_incoming`]: segments of the received text — plain text,
//!   masked spans, and links with their verdict, reasons and explanation —
//!   and the decision for the reader (scam cues, risky links).
//!
//! Non-goals: the detectors and the policy themselves (`confide-guard`).

use crate::error::Error;
use confide_guard::json::to_wire;
use confide_guard::policy::{Action, Decision, apply_masking};
use confide_guard::{Direction, Finding, Kind, Policy, ScanOptions};
use serde::Serialize;
use wasm_bindgen::prelude::*;

fn policy(json: &str) -> Result<Policy, Error> {
    if json.trim().is_empty() {
        Ok(Policy::default())
    } else {
        Ok(Policy::from_json(json.as_bytes())?)
    }
}

fn options(json: &str) -> Result<ScanOptions, Error> {
    if json.trim().is_empty() {
        Ok(ScanOptions::default())
    } else {
        serde_json::from_str(json).map_err(|_| Error::InvalidInput("scan options"))
    }
}

/// The findings a decision acts on with `wanted`, maskable ones only.
fn maskable(findings: &[Finding], decision: &Decision, wanted: &[Action]) -> Vec<Finding> {
    decision
        .findings
        .iter()
        .filter(|a| wanted.contains(&a.action))
        .filter_map(|a| findings.get(a.index))
        .filter(|f| !matches!(f.kind, Kind::ScamCue | Kind::Link))
        .cloned()
        .collect()
}

#[derive(Serialize)]
struct Outgoing {
    findings: Vec<confide_guard::json::WireFinding>,
    decision: Decision,
    /// The text with the findings the policy masks (`mask`) masked: what
    /// must be sent instead of the original.
    required: String,
    /// The text with every warned or masked finding masked ("mask and send").
    masked: String,
}

/// Scans a message about to be sent in `direction` and decides with
/// `policy_json` (`""`: the default policy).
pub fn check_outgoing(
    direction: &str,
    text: &str,
    policy_json: &str,
    options_json: &str,
) -> Result<String, Error> {
    let direction = Direction::from_name(direction)?;
    let policy = policy(policy_json)?;
    let findings = confide_guard::scan(text, &options(options_json)?);
    let decision = policy.evaluate(direction, &findings);
    let required = apply_masking(text, &maskable(&findings, &decision, &[Action::Mask]));
    let masked = apply_masking(
        text,
        &maskable(&findings, &decision, &[Action::Warn, Action::Mask]),
    );
    let out = Outgoing {
        findings: findings.iter().map(to_wire).collect(),
        decision,
        required,
        masked,
    };
    serde_json::to_string(&out).map_err(|_| Error::InvalidInput("guard result"))
}

/// A link as shown: inert, with its verdict.
#[derive(Serialize)]
struct LinkView {
    verdict: &'static str,
    reasons: Vec<&'static str>,
    host: Option<String>,
    explanation: String,
    /// The action the reader's policy takes (`allow`, `warn`, …).
    action: Action,
}

/// One piece of a received message.
#[derive(Serialize)]
struct Segment {
    text: String,
    /// Masked by the reader's policy (the text is the masked form).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    masked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<LinkView>,
}

#[derive(Serialize)]
struct Incoming {
    segments: Vec<Segment>,
    decision: Decision,
}

/// Splits a received message into segments to render (plain, masked,
/// links with verdicts) and decides what to warn the reader about.
pub fn render_incoming(
    direction: &str,
    text: &str,
    policy_json: &str,
    options_json: &str,
) -> Result<String, Error> {
    let direction = Direction::from_name(direction)?;
    let policy = policy(policy_json)?;
    let findings = confide_guard::scan(text, &options(options_json)?);
    let decision = policy.evaluate_received(direction, &findings);
    let action_of = |index: usize| {
        decision
            .findings
            .iter()
            .find(|a| a.index == index)
            .map_or(Action::Allow, |a| a.action)
    };
    let mut segments = Vec::new();
    let mut at = 0;
    let plain = |segments: &mut Vec<Segment>, from: usize, to: usize| {
        if let Some(t) = text.get(from..to).filter(|t| !t.is_empty()) {
            segments.push(Segment {
                text: t.to_owned(),
                masked: false,
                link: None,
            });
        }
    };
    for (index, f) in findings.iter().enumerate() {
        if f.span.start < at || f.kind == Kind::ScamCue {
            continue; // overlapping spans keep the first; cues mark no span
        }
        let action = action_of(index);
        let segment = match (&f.link, action) {
            (Some(link), _) => Segment {
                text: f.text.clone(),
                masked: false,
                link: Some(LinkView {
                    verdict: link.verdict.as_str(),
                    reasons: link.reasons.clone(),
                    host: link.host.clone(),
                    explanation: f.explanation.clone(),
                    action,
                }),
            },
            (None, Action::Mask | Action::Block) => Segment {
                text: f.masked.clone(),
                masked: true,
                link: None,
            },
            (None, _) => continue,
        };
        plain(&mut segments, at, f.span.start);
        segments.push(segment);
        at = f.span.end;
    }
    plain(&mut segments, at, text.len());
    let out = Incoming { segments, decision };
    serde_json::to_string(&out).map_err(|_| Error::InvalidInput("guard result"))
}

fn js(r: Result<String, Error>) -> Result<String, JsValue> {
    r.map_err(crate::to_js)
}

/// [`check_outgoing`] for JavaScript.
#[wasm_bindgen(js_name = guardCheck)]
pub fn guard_check(
    direction: &str,
    text: &str,
    policy_json: &str,
    options_json: &str,
) -> Result<String, JsValue> {
    js(check_outgoing(direction, text, policy_json, options_json))
}

/// [`render_incoming`] for JavaScript.
#[wasm_bindgen(js_name = guardRender)]
pub fn guard_render(
    direction: &str,
    text: &str,
    policy_json: &str,
    options_json: &str,
) -> Result<String, JsValue> {
    js(render_incoming(direction, text, policy_json, options_json))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_card_warns_and_masks_to_the_last_four() {
        let out: Value = serde_json::from_str(
            &check_outgoing(
                "visitor_to_org",
                "my card is 4242 4242 4242 4242 thanks",
                "",
                "",
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out["decision"]["action"], "warn");
        assert_eq!(out["decision"]["can_mask"], true);
        let masked = out["masked"].as_str().unwrap();
        assert!(!masked.contains("4242 4242 4242 4242"), "{masked}");
        assert!(masked.contains("4242"), "{masked}");
        assert_eq!(
            out["required"], "my card is 4242 4242 4242 4242 thanks",
            "warn does not force masking"
        );
    }

    #[test]
    fn an_agent_phone_number_is_blocked_with_a_reason() {
        let out: Value = serde_json::from_str(
            &check_outgoing("agent_to_visitor", "call me on +49 151 23456789", "", "").unwrap(),
        )
        .unwrap();
        assert_eq!(out["decision"]["action"], "block");
        let message = out["decision"]["message"].as_str().unwrap();
        assert!(message.contains("personal contact"), "{message}");
    }

    #[test]
    fn received_links_become_segments_with_verdicts() {
        let text = "Please log in at https://paypa1.com/login now";
        let out: Value =
            serde_json::from_str(&render_incoming("agent_to_visitor", text, "", "").unwrap())
                .unwrap();
        let segments = out["segments"].as_array().unwrap();
        let joined: String = segments
            .iter()
            .map(|s| s["text"].as_str().unwrap())
            .collect();
        assert_eq!(joined, text);
        let link = segments.iter().find(|s| s.get("link").is_some()).unwrap();
        assert_eq!(link["text"], "https://paypa1.com/login");
        assert_ne!(link["link"]["verdict"], "safe");
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        assert_eq!(
            check_outgoing("sideways", "x", "", "").unwrap_err().code(),
            "invalid_guard_input"
        );
        assert!(check_outgoing("visitor_to_org", "x", "{nope", "").is_err());
        assert!(render_incoming("visitor_to_org", "x", "", "[1]").is_err());
        // Every char boundary of awkward text still renders losslessly.
        let text = "é👍🏽 4242424242424242 https://xn--80ak6aa92e.com é";
        let out: Value =
            serde_json::from_str(&render_incoming("agent_to_visitor", text, "", "").unwrap())
                .unwrap();
        assert!(out["segments"].as_array().is_some());
    }
}
