//! Property tests: the scan never panics, every span is on char boundaries
//! and matches its text, data findings never overlap, masking and the
//! policy accept whatever the scan returns.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use confide_guard::policy::{Direction, Policy, apply_masking};
use confide_guard::{Kind, ScanOptions, json, scan};
use proptest::prelude::*;

fn check(text: &str) {
    let options = ScanOptions {
        org_domains: vec!["acme.com".into()],
        ..ScanOptions::default()
    };
    let found = scan(text, &options);
    let mut data: Vec<_> = found.iter().filter(|f| f.kind != Kind::ScamCue).collect();
    for f in &found {
        assert!(f.span.start <= f.span.end && f.span.end <= text.len());
        assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
        assert_eq!(&text[f.span.clone()], f.text);
        assert!(!f.explanation.is_empty());
    }
    data.sort_by_key(|f| f.span.start);
    for w in data.windows(2) {
        assert!(
            w[0].span.end <= w[1].span.start,
            "{:?} overlaps {:?}",
            w[0],
            w[1]
        );
    }
    let masked = apply_masking(text, &found);
    assert!(masked.len() + 64 * found.len() >= text.len() / 8);
    let policy = Policy::default();
    for d in [
        Direction::VisitorToOrg,
        Direction::AgentToVisitor,
        Direction::InternalNote,
    ] {
        let decision = policy.evaluate(d, &found);
        assert!(decision.findings.iter().all(|a| a.index < found.len()));
        policy.evaluate_received(d, &found);
    }
    let back = json::parse_findings(&json::findings_json(&found), text).unwrap();
    assert_eq!(back.len(), found.len());
}

/// Pieces that steer random text into the detectors' paths.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,20}",
        "[0-9 .\\-/()+]{1,25}",
        "[A-Z]{2}[0-9]{2}[ A-Z0-9]{0,30}",
        "[a-zA-Z0-9._%+\\-éü用]{1,12}@[a-zA-Z0-9.\\-äö例]{1,16}",
        "[0-9a-fA-F:.]{2,40}",
        "(ghp_|glpat-|xoxb-|sk_live_|AKIA|AIza|SG\\.|npm_|eyJ|pypi-AgE|-----BEGIN )[A-Za-z0-9_\\-./+=]{0,60}",
        "(password|Passwort|mot de passe|contraseña|PIN)[ :=]{0,3}[^\\n]{0,20}",
        "(https?://|www\\.|mailto:)[a-z0-9.\\-@:/?=&%]{0,30}",
        "(install anydesk|gift card|votre compte sera bloqué|Dígame el código)",
        "\\PC{0,8}",
        " ",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_unicode_text(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn detector_shaped_text(pieces in proptest::collection::vec(piece(), 0..12)) {
        check(&pieces.concat());
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&String::from_utf8_lossy(&bytes));
    }
}
