//! The JavaScript-facing API (wasm-bindgen), compiled for `wasm32` only.
//! Strings in, JSON strings out, so the web code needs no generated types:
//!
//! - `scan(text, options_json)` → `{"findings":[…]}` (the wire form of
//!   [`crate::json`]); `options_json` is [`ScanOptions`] as JSON (`""` or
//!   `"{}"` for the defaults, e.g. `{"org_domains":["acme.com"]}`);
//! - `evaluate(direction, text, findings_json, policy_json)` → a
//!   [`Decision`] as JSON for a message about to be sent
//!   (`direction`: `visitor_to_org`, `agent_to_visitor`, `internal_note`;
//!   `policy_json` `""` for the default policy);
//! - `evaluate_received(…)` the same for a received message;
//! - `mask(text, findings_json)` → the text with those findings masked;
//! - `default_policy()` → the default policy's canonical JSON.
//!
//! Errors come back as `{"error":"…"}` (never a thrown exception, never
//! message text in the error).
//!
//! Non-goals: state between calls beyond the lazily built tables.
//!
//! [`Decision`]: crate::policy::Decision

use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::Error;
use crate::json::{findings_json, parse_findings};
use crate::policy::{Direction, Policy, apply_masking};
use crate::scan::ScanOptions;

fn error_json(e: &Error) -> String {
    serde_json::json!({ "error": e.to_string() }).to_string()
}

fn options(json: &str) -> Result<ScanOptions, Error> {
    if json.trim().is_empty() {
        return Ok(ScanOptions::default());
    }
    Ok(serde_json::from_str(json)?)
}

fn policy(json: &str) -> Result<Policy, Error> {
    if json.trim().is_empty() {
        return Ok(Policy::default());
    }
    Policy::from_json(json.as_bytes())
}

/// Scans one message; returns `{"findings":[…]}` or `{"error":…}`.
#[wasm_bindgen]
pub fn scan(text: &str, options_json: &str) -> String {
    match options(options_json) {
        Ok(o) => findings_json(&crate::scan::scan(text, &o)),
        Err(e) => error_json(&e),
    }
}

fn decide(
    direction: &str,
    text: &str,
    findings: &str,
    policy_json: &str,
    received: bool,
) -> Result<String, Error> {
    let direction = Direction::from_name(direction)?;
    let findings = parse_findings(findings, text)?;
    let policy = policy(policy_json)?;
    let decision = if received {
        policy.evaluate_received(direction, &findings)
    } else {
        policy.evaluate(direction, &findings)
    };
    Ok(serde_json::to_string(&decision)?)
}

/// The decision for a message about to be sent, as JSON.
#[wasm_bindgen]
pub fn evaluate(direction: &str, text: &str, findings_json: &str, policy_json: &str) -> String {
    decide(direction, text, findings_json, policy_json, false).unwrap_or_else(|e| error_json(&e))
}

/// The decision for showing a received message, as JSON.
#[wasm_bindgen]
pub fn evaluate_received(
    direction: &str,
    text: &str,
    findings_json: &str,
    policy_json: &str,
) -> String {
    decide(direction, text, findings_json, policy_json, true).unwrap_or_else(|e| error_json(&e))
}

/// `text` with the given findings replaced by their masked forms (the text
/// unchanged, if the findings do not parse).
#[wasm_bindgen]
pub fn mask(text: &str, findings_json: &str) -> String {
    match parse_findings(findings_json, text) {
        Ok(f) => apply_masking(text, &f),
        Err(_) => text.to_owned(),
    }
}

/// The default policy as canonical JSON.
#[wasm_bindgen]
pub fn default_policy() -> String {
    String::from_utf8(Policy::default().to_canonical_json()).unwrap_or_default()
}
