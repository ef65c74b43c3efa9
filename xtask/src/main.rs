//! `cargo xtask`: the project's tooling, in Rust.
//!
//! - `tidy`: every module opens with `//!`, every crate root forbids
//!   `unsafe_code`, no build output is tracked by git.
//! - `vectors [--check]`: regenerates `crates/protocol/tests/vectors/*.json`
//!   from a seeded generator, or checks that the committed files match it.
//! - `wasm`: builds the no-I/O core crates for `wasm32-unknown-unknown`.

mod vectors;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("tidy") => tidy(),
        Some("vectors") => vectors::run(&root(), args.iter().any(|a| a == "--check")),
        Some("wasm") => wasm(),
        _ => Err("usage: cargo xtask <tidy | vectors [--check] | wasm>".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    // `cargo xtask` sets CARGO_MANIFEST_DIR when it runs us; prefer it over
    // the compile-time value, which names whichever checkout built the
    // binary (a shared target directory serves several checkouts).
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Crates compiled to WebAssembly for the browser (no I/O in them).
const WASM_CRATES: &[&str] = &["confide-protocol", "confide-guard"];

fn wasm() -> Result<(), String> {
    for krate in WASM_CRATES {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--locked",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                krate,
            ])
            .current_dir(root())
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("{krate} does not build for wasm32-unknown-unknown"));
        }
    }
    Ok(())
}

fn tidy() -> Result<(), String> {
    let root = root();
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for dir in ["crates", "xtask"] {
        collect_rs(&root.join(dir), &mut files);
    }
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let in_src = f.components().any(|c| c.as_os_str() == "src");
        if in_src && !text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{}: module does not open with a `//!` doc",
                f.display()
            ));
        }
        if f.ends_with("src/lib.rs") && !text.contains("#![forbid(unsafe_code)]") {
            problems.push(format!(
                "{}: crate root lacks #![forbid(unsafe_code)]",
                f.display()
            ));
        }
    }
    let tracked = Command::new("git")
        .args(["ls-files"])
        .current_dir(&root)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    for line in String::from_utf8_lossy(&tracked.stdout).lines() {
        let build_output = line.starts_with("target/")
            || line.contains("/target/")
            || line.ends_with(".wasm")
            || line.contains("node_modules/")
            || line.contains("/dist/");
        if build_output {
            problems.push(format!("{line}: build output is tracked by git"));
        }
    }
    if problems.is_empty() {
        println!("tidy: {} Rust files checked", files.len());
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}
