//! Property tests of the link analyser: no panic on any input, spans on
//! `char` boundaries that reproduce the finding's text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use confide_guard::finding::Kind;
use confide_guard::link::{analyse_url, find_links};
use proptest::prelude::*;

/// Text that often looks like links: schemes, dots, labels, confusables.
fn linkish() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("https://".to_owned()),
        Just("http://".to_owned()),
        Just("javascript:".to_owned()),
        Just("mailto:".to_owned()),
        Just("data:".to_owned()),
        Just("www.".to_owned()),
        Just(".".to_owned()),
        Just(":".to_owned()),
        Just("@".to_owned()),
        Just("/".to_owned()),
        Just("?url=".to_owned()),
        Just("xn--".to_owned()),
        Just("com".to_owned()),
        Just("paypal".to_owned()),
        Just("acme".to_owned()),
        Just("а".to_owned()),
        Just("。".to_owned()),
        Just("](".to_owned()),
        Just("[".to_owned()),
        Just(")".to_owned()),
        Just(" ".to_owned()),
        "[a-z0-9-]{1,8}",
        "\\PC{1,4}",
    ];
    prop::collection::vec(atoms, 0..24).prop_map(|v| v.concat())
}

fn check(text: &str) {
    let org = vec!["acme.com".to_owned()];
    let mut last_end = 0;
    for f in find_links(text, &org) {
        assert_eq!(f.kind, Kind::Link);
        assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
        assert!(f.span.start >= last_end && f.span.start < f.span.end);
        last_end = f.span.end;
        assert_eq!(text.get(f.span.clone()), Some(f.text.as_str()));
        assert!(f.link.is_some() && !f.explanation.is_empty() && !f.masked.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn find_links_any_text(text in "\\PC*") {
        check(&text);
    }

    #[test]
    fn find_links_linkish_text(text in linkish()) {
        check(&text);
    }

    #[test]
    fn analyse_url_never_panics(text in linkish()) {
        let info = analyse_url(&text, &["acme.com".to_owned(), text.clone()]);
        prop_assert!(info.reasons.iter().all(|r| !r.is_empty()));
    }

    #[test]
    fn analyse_url_any_string(text in "\\PC*") {
        let _ = analyse_url(&text, &[]);
    }
}
