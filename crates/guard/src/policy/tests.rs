//! Policy tests: defaults per direction, allow-list, masking, canonical
//! JSON round trips.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::scan::{ScanOptions, scan};

fn decide(direction: Direction, text: &str) -> Decision {
    Policy::default().evaluate(direction, &scan(text, &ScanOptions::default()))
}

#[test]
fn visitor_card_warns_with_masking() {
    let d = decide(Direction::VisitorToOrg, "my card is 4242 4242 4242 4242");
    assert_eq!(d.action, Action::Warn);
    assert!(d.can_mask);
    assert!(d.message.starts_with("Check before sending."));
}

#[test]
fn credentials_block_both_ways_and_in_notes() {
    for dir in [
        Direction::VisitorToOrg,
        Direction::AgentToVisitor,
        Direction::InternalNote,
    ] {
        let d = decide(dir, "token ghp_1234567890abcdefghijABCDEFGHIJ123456");
        assert_eq!(d.action, Action::Block, "{dir:?}");
    }
}

#[test]
fn agent_contact_details_block_unless_allowed() {
    let d = decide(
        Direction::AgentToVisitor,
        "reach me at jane.private@gmail.com",
    );
    assert_eq!(d.action, Action::Block);
    assert!(
        d.message
            .contains("Never give out personal contact information")
    );
    let mut p = Policy::default();
    p.contact_allow_list.email_domains.push("acme.com".into());
    p.contact_allow_list.phones.push("+49 30 1234567".into());
    let f = scan(
        "write to support@help.acme.com or call +49 30 1234567",
        &ScanOptions::default(),
    );
    assert_eq!(
        p.evaluate(Direction::AgentToVisitor, &f).action,
        Action::Allow
    );
    // a visitor may give out their own contact details
    assert_eq!(
        decide(Direction::VisitorToOrg, "mail me at jane@gmail.com").action,
        Action::Allow
    );
}

#[test]
fn received_scam_cues_warn_the_reader() {
    let f = scan(
        "Please install AnyDesk so I can fix it",
        &ScanOptions::default(),
    );
    let p = Policy::default();
    assert_eq!(
        p.evaluate(Direction::AgentToVisitor, &f).action,
        Action::Allow
    );
    let d = p.evaluate_received(Direction::AgentToVisitor, &f);
    assert_eq!(d.action, Action::Warn);
    assert!(!d.can_mask);
}

#[test]
fn masking_replaces_spans() {
    let text = "card 4242 4242 4242 4242, mail jo@example.com!";
    let f = scan(text, &ScanOptions::default());
    assert_eq!(
        apply_masking(text, &f),
        "card •••• •••• •••• 4242, mail j•••@example.com!"
    );
    let d = Policy::default().evaluate(Direction::VisitorToOrg, &f);
    let only = to_mask(&f, &d, true);
    assert_eq!(
        apply_masking(text, &only),
        "card •••• •••• •••• 4242, mail jo@example.com!"
    );
}

#[test]
fn canonical_json_round_trips() {
    let mut p = Policy::default();
    p.contact_allow_list.emails = vec![
        "B@acme.com".into(),
        "a@acme.com".into(),
        "a@acme.com".into(),
    ];
    let bytes = p.to_canonical_json();
    let back = Policy::from_json(&bytes).unwrap();
    assert_eq!(back.to_canonical_json(), bytes);
    assert_eq!(back.contact_allow_list.emails, ["a@acme.com", "b@acme.com"]);
    // spacing and field order do not matter; the canonical bytes do not change
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    assert_eq!(
        Policy::from_json(&pretty).unwrap().to_canonical_json(),
        bytes
    );
    assert_eq!(
        Policy::from_json(&Policy::default().to_canonical_json()).unwrap(),
        Policy::default()
    );
}

#[test]
fn refuses_unknown_fields_and_versions() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&Policy::default().to_canonical_json()).unwrap();
    v["version"] = 2.into();
    let e = Policy::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(e, Error::PolicyVersion(2));
    v["version"] = 1.into();
    v["extra"] = true.into();
    assert!(matches!(
        Policy::from_json(&serde_json::to_vec(&v).unwrap()),
        Err(Error::Json(_))
    ));
}
