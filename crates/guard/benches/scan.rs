//! Throughput of the full scan (issue 4: ≥ 100 MB/s per core on mixed chat
//! text). Inputs come from the seeded corpus (`tests/corpus/`):
//!
//! - `chat_mix`: the corpus's ordinary lines (small talk, order and
//!   tracking numbers, prices, dates, versions, near misses) with one line
//!   in twenty carrying data (a card, an IBAN, a phone number, a token, a
//!   scam cue …), as a support conversation does;
//! - `ordinary_only`: the ordinary lines alone;
//! - `dense_corpus`: the labelled corpus as generated, where most lines
//!   carry data (the worst case: every phone number is checked against
//!   libphonenumber's numbering data).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use confide_guard::{ScanOptions, scan};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "../tests/corpus/mod.rs"]
mod corpus;

fn run(c: &mut Criterion, name: &str, lines: &[String], options: &ScanOptions) {
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function(name, |b| {
        b.iter(|| {
            for l in lines {
                black_box(scan(black_box(l), options));
            }
        });
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let generated = corpus::generate(42, 20_000);
    let options = ScanOptions {
        org_domains: vec!["acme.com".into()],
        ..ScanOptions::default()
    };
    let ordinary: Vec<String> = generated
        .iter()
        .filter(|l| l.labels.is_empty())
        .map(|l| l.text.clone())
        .collect();
    let sensitive: Vec<String> = generated
        .iter()
        .filter(|l| !l.labels.is_empty())
        .map(|l| l.text.clone())
        .collect();
    let mut mix = Vec::with_capacity(ordinary.len() * 21 / 20);
    for (i, l) in ordinary.iter().enumerate() {
        mix.push(l.clone());
        if i % 19 == 18 {
            mix.push(sensitive[(i / 19) % sensitive.len()].clone());
        }
    }
    let dense: Vec<String> = generated
        .iter()
        .take(4000)
        .map(|l| l.text.clone())
        .collect();
    // warm the lexicon, the IBAN registry and the phone metadata
    for l in &dense {
        black_box(scan(l, &options));
    }
    run(c, "chat_mix", &mix, &options);
    run(c, "ordinary_only", &ordinary, &options);
    run(c, "dense_corpus", &dense, &options);
}

criterion_group!(benches, bench);
criterion_main!(benches);
