//! `confide guard …`: try the guard on text from the command line.
//!
//! `confide guard scan [--org-domain DOMAIN]... [--json]` reads UTF-8 text
//! from standard input, one message per line, and prints, per line, either
//! one JSON object `{"findings":[…]}` (`--json`, the wire form of
//! `confide_guard::json`) or a human summary with the decision the default
//! policy would take for a visitor's and an agent's message.
//!
//! Non-goals: editing policies (they live in the signed membership).

use std::io::{BufRead, Write};

use clap::{Args, Subcommand};
use confide_guard::policy::{Action, Direction, Policy};
use confide_guard::{Finding, ScanOptions, json, scan};

/// Guard subcommands.
#[derive(Subcommand, Debug)]
pub enum GuardCommand {
    /// Scan stdin, one message per line, for data that should not be sent,
    /// scam cues and risky links.
    Scan(ScanArgs),
}

/// Flags of `confide guard scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// One of the organisation's own domains (links to it are safe); repeat
    /// for several.
    #[arg(long = "org-domain", value_name = "DOMAIN")]
    org_domains: Vec<String>,
    /// Print one JSON object per input line.
    #[arg(long)]
    json: bool,
}

/// Runs a guard subcommand.
pub fn run(command: GuardCommand) -> Result<(), String> {
    match command {
        GuardCommand::Scan(args) => scan_stdin(&args),
    }
}

fn scan_stdin(args: &ScanArgs) -> Result<(), String> {
    let options = ScanOptions {
        org_domains: args.org_domains.clone(),
        ..ScanOptions::default()
    };
    let policy = Policy::default();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|e| {
            format!(
                "cannot read line {} of standard input ({e}); the input must be UTF-8 text",
                n + 1
            )
        })?;
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let findings = scan(line, &options);
        let written = if args.json {
            writeln!(out, "{}", json::findings_json(&findings))
        } else {
            write_summary(&mut out, n + 1, line, &findings, &policy)
        };
        written.map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    out.flush()
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

fn write_summary(
    out: &mut impl Write,
    n: usize,
    line: &str,
    findings: &[Finding],
    policy: &Policy,
) -> std::io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "line {n}: nothing found");
    }
    writeln!(out, "line {n}: {} finding(s)", findings.len())?;
    for f in findings {
        let mut what = f.kind.as_str().to_owned();
        if let Some(d) = f.detail {
            what = format!("{what} ({d})");
        }
        if let Some(l) = &f.link {
            what = format!("{what} [{}: {}]", l.verdict.as_str(), l.reasons.join(", "));
        }
        writeln!(
            out,
            "  {}..{}  {what}  {:?} → {:?}",
            f.span.start, f.span.end, f.text, f.masked
        )?;
        writeln!(out, "        {}", f.explanation)?;
    }
    for (who, direction) in [
        ("a visitor", Direction::VisitorToOrg),
        ("an agent", Direction::AgentToVisitor),
    ] {
        let d = policy.evaluate(direction, findings);
        let received = policy.evaluate_received(direction, findings);
        let action = |a: Action| format!("{a:?}").to_lowercase();
        writeln!(
            out,
            "  sent by {who}: {}{}; reader sees: {}",
            action(d.action),
            if d.can_mask { " (mask offered)" } else { "" },
            action(received.action)
        )?;
    }
    let masked = confide_guard::policy::apply_masking(line, findings);
    if masked != line {
        writeln!(out, "  masked: {masked}")?;
    }
    Ok(())
}
