//! Writes the seeded corpus as JSON lines for other engines (the Presidio
//! comparison in `compare/`): `{"text","lang","labels":[{"kind","start",
//! "end","start_char","end_char"}]}`, byte and character offsets.
//!
//! `cargo run -p confide-guard --example export_corpus -- [SEED] [LINES] > corpus.jsonl`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_241_125);
    let n = args.next().and_then(|s| s.parse().ok()).unwrap_or(6000);
    let mut lines = corpus::generate(seed, n);
    lines.extend(corpus::hand::lines());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in lines {
        let chars = |b: usize| line.text[..b].chars().count();
        let labels: Vec<serde_json::Value> = line
            .labels
            .iter()
            .map(|l| {
                serde_json::json!({
                    "kind": l.kind, "start": l.start, "end": l.end,
                    "start_char": chars(l.start), "end_char": chars(l.end),
                })
            })
            .collect();
        let v = serde_json::json!({ "text": line.text, "lang": line.lang, "labels": labels });
        writeln!(out, "{v}").unwrap();
    }
}
