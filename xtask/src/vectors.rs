//! `cargo xtask vectors [--check]`: seeded, reproducible test vectors for
//! the protocol core, written to `crates/protocol/tests/vectors/*.json`.
//!
//! Every file is `{ "description", "cases": [...] }` (plus shared tables
//! documented in that directory's `README.md`); every case has a `name`, a
//! `description` and an `expected` outcome: `"success"` or the stable code
//! of `confide_protocol::Error::code`. Randomness comes only from
//! `ChaCha20Rng::seed_from_u64` with fixed seeds, and JSON objects have
//! sorted keys, so the output is byte-for-byte reproducible; `--check`
//! regenerates in memory and fails if a committed file differs.
//!
//! Negative cases that the crate's safe API refuses to build are crafted
//! from the byte layout with the primitive crates ([`raw`]); the generator
//! also rebuilds every envelope `seal` produces with that independent
//! encoder and stops if the two differ. The expected outcomes are what the
//! protocol *should* return; `crates/protocol/tests/vectors.rs` checks the
//! crate against them. Non-goal: running the checks here.

mod attachments;
mod case;
mod envelopes;
mod fixture;
mod primitives;
mod raw;
mod replay;
mod statements;
mod tokens;

use std::path::Path;

/// Where the vector files live, relative to the workspace root.
const DIR: &str = "crates/protocol/tests/vectors";

/// Generates every vector file and writes it, or (`check`) compares it with
/// the committed one.
pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let files = [
        primitives::generate()?,
        envelopes::generate()?,
        statements::generate()?,
        attachments::generate()?,
        tokens::generate()?,
        replay::generate()?,
    ];
    let dir = root.join(DIR);
    if !check {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut problems = Vec::new();
    for file in &files {
        let text = file.render()?;
        let path = dir.join(file.file_name);
        let shown = format!("{DIR}/{}", file.file_name);
        if check {
            match std::fs::read_to_string(&path) {
                Ok(committed) if committed == text => {}
                Ok(_) => problems.push(format!(
                    "{shown} differs from what the generator produces; run `cargo xtask vectors`"
                )),
                Err(e) => problems.push(format!(
                    "{shown} cannot be read ({e}); run `cargo xtask vectors`"
                )),
            }
        } else {
            std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("vectors: wrote {shown} ({} cases)", file.case_count());
        }
    }
    if check {
        let known: Vec<&str> = files.iter().map(|f| f.file_name).collect();
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !known.contains(&name.as_str()) {
                problems.push(format!(
                    "{DIR}/{name} is not produced by the generator; delete it or add a generator"
                ));
            }
        }
    }
    if problems.is_empty() {
        if check {
            println!("vectors: {} files up to date", files.len());
        }
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
