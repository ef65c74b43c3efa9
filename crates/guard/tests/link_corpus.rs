//! The link corpus (`tests/data/links.tsv`): every `danger` case must be
//! judged danger, no link of the organisation may be flagged, and every
//! expected reason must be reported. Prints counts per verdict, the
//! confusion matrix and the false positives among benign non-organisation
//! links (those are reported, not failed: `caution` on a benign link is a
//! judgement call, and the corpus says so).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use confide_guard::finding::Verdict;
use confide_guard::link::{analyse_url, find_links};

const CORPUS: &str = include_str!("data/links.tsv");

struct Case<'a> {
    line: usize,
    mode: &'a str,
    input: &'a str,
    org: Vec<String>,
    expected: &'a str,
    reasons: Vec<&'a str>,
    group: &'a str,
}

fn cases() -> Vec<Case<'static>> {
    CORPUS
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 7, "line {}: {l}", i + 1);
            let list = |s: &'static str| -> Vec<&'static str> {
                if s == "-" {
                    Vec::new()
                } else {
                    s.split(',').collect()
                }
            };
            Case {
                line: i + 1,
                mode: f[0],
                input: f[1],
                org: list(f[2]).into_iter().map(str::to_owned).collect(),
                expected: f[3],
                reasons: list(f[4]),
                group: f[5],
            }
        })
        .collect()
}

/// The verdict name (`none` when a chat line has no link) and reasons.
fn judge(case: &Case<'_>) -> (String, Vec<&'static str>) {
    match case.mode {
        "url" => {
            let info = analyse_url(case.input, &case.org);
            (info.verdict.as_str().to_owned(), info.reasons)
        }
        "text" => {
            let findings = find_links(case.input, &case.org);
            for f in &findings {
                assert_eq!(case.input.get(f.span.clone()), Some(f.text.as_str()));
            }
            let infos: Vec<_> = findings.iter().filter_map(|f| f.link.as_ref()).collect();
            let verdict = infos.iter().map(|i| i.verdict).max();
            let reasons = infos
                .iter()
                .flat_map(|i| i.reasons.iter().copied())
                .collect();
            (verdict.map_or("none", Verdict::as_str).to_owned(), reasons)
        }
        other => panic!("line {}: unknown mode {other}", case.line),
    }
}

#[test]
fn link_corpus() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut matrix: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut per_group: BTreeMap<&str, usize> = BTreeMap::new();
    let mut benign = 0;
    let mut benign_flagged = Vec::new();
    for case in &cases {
        let (got, reasons) = judge(case);
        *matrix
            .entry((case.expected.to_owned(), got.clone()))
            .or_default() += 1;
        *per_group.entry(case.group).or_default() += 1;
        let missing: Vec<_> = case
            .reasons
            .iter()
            .filter(|r| !reasons.contains(r))
            .collect();
        let describe = || {
            format!(
                "line {} {:?}: expected {} {:?}, got {got} {reasons:?}",
                case.line, case.input, case.expected, case.reasons
            )
        };
        if case.expected == "danger" && got != "danger" {
            failures.push(format!("missed danger: {}", describe()));
        }
        if case.group == "org" && got != "safe" {
            failures.push(format!("organisation link flagged: {}", describe()));
        }
        if case.expected == "none" && got != "none" {
            failures.push(format!("link found in plain text: {}", describe()));
        }
        if !missing.is_empty() {
            failures.push(format!("missing reasons {missing:?}: {}", describe()));
        }
        if case.group == "benign" {
            benign += 1;
            if got != case.expected && (case.expected == "safe" || got == "danger") {
                benign_flagged.push(describe());
            }
        }
    }
    println!("link corpus: {} cases; by group {per_group:?}", cases.len());
    println!("expected -> got: count");
    for ((expected, got), n) in &matrix {
        println!("  {expected:>7} -> {got:<7} {n}");
    }
    println!(
        "false positives among benign non-organisation links: {} of {benign}",
        benign_flagged.len()
    );
    for fp in &benign_flagged {
        println!("  {fp}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
