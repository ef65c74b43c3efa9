//! Entry points for `cargo fuzz` (compiled only with `--cfg fuzzing`): one
//! line per target in `fuzz/fuzz_targets/`.
//!
//! Non-goals: anything but exercising the public API on untrusted input.

use crate::policy::{Direction, Policy, apply_masking};
use crate::scan::{ScanOptions, scan};

/// Scans arbitrary bytes (as lossy UTF-8) and checks the span invariants;
/// panics on a violation so the fuzzer reports it.
#[allow(clippy::panic)]
pub fn guard_scan(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let options = ScanOptions {
        org_domains: vec!["acme.com".into()],
        ..ScanOptions::default()
    };
    let found = scan(&text, &options);
    for f in &found {
        if text.get(f.span.clone()) != Some(f.text.as_str()) {
            panic!("span {:?} does not match its text", f.span);
        }
    }
    let _ = apply_masking(&text, &found);
    let _ = Policy::default().evaluate(Direction::AgentToVisitor, &found);
    let _ = crate::json::parse_findings(&crate::json::findings_json(&found), &text);
    if let Ok(policy) = Policy::from_json(data) {
        let _ = policy.to_canonical_json();
    }
}
