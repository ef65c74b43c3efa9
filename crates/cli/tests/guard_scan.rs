//! `confide guard scan` end to end: the built binary on stdin.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], input: &str) -> (String, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_confide"))
        .args(["guard", "scan"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

#[test]
fn json_prints_one_object_per_line() {
    let input = "my card is 4111 1111 1111 1111\nhello there\nDNI 12345678Z and https://paypa1.com/login\nPlease install AnyDesk now\n";
    let (stdout, _, ok) = run(&["--json", "--org-domain", "acme.com"], input);
    assert!(ok);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let card = &lines[0]["findings"][0];
    assert_eq!(card["kind"], "payment_card");
    assert_eq!(card["start"], 11);
    assert_eq!(card["end"], 30);
    assert_eq!(card["text"], "4111 1111 1111 1111");
    assert_eq!(card["masked"], "•••• •••• •••• 1111");
    assert!(card["explanation"].as_str().unwrap().ends_with('.'));
    assert_eq!(lines[1]["findings"].as_array().unwrap().len(), 0);
    let f = lines[2]["findings"].as_array().unwrap();
    assert_eq!(f[0]["kind"], "national_id");
    assert_eq!(f[0]["scheme"], "es_dni");
    assert_eq!(f[1]["kind"], "link");
    assert_eq!(f[1]["verdict"], "danger");
    assert!(
        f[1]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "lookalike_brand")
    );
    assert_eq!(lines[3]["findings"][0]["cue"], "remote_access");
}

#[test]
fn org_domains_make_links_safe() {
    let (stdout, _, ok) = run(
        &["--json", "--org-domain", "acme.com"],
        "see https://help.acme.com/x\n",
    );
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["findings"][0]["verdict"], "safe");
}

#[test]
fn human_summary_names_findings_and_decisions() {
    let (stdout, _, ok) = run(&[], "call me on +49 30 1234567\n\n");
    assert!(ok);
    assert!(stdout.contains("line 1: 1 finding(s)"), "{stdout}");
    assert!(stdout.contains("phone"));
    assert!(stdout.contains("sent by an agent: block"), "{stdout}");
    assert!(stdout.contains("line 2: nothing found"));
}

#[test]
fn invalid_utf8_is_an_error_that_says_what_to_do() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_confide"))
        .args(["guard", "scan", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ok\n\xff\xfe\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line 2") && stderr.contains("UTF-8"),
        "{stderr}"
    );
}
