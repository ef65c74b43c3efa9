#!/usr/bin/env python3
"""Confide's guard vs Microsoft Presidio's pattern recognizers, side by side
on the same labelled corpus: precision and recall per kind, and speed.

Installs nothing; see README.md beside this file. Usage:

    cargo build --release -p confide-cli
    cargo run --release -p confide-guard --example export_corpus > corpus.jsonl
    python3 crates/guard/compare/presidio_compare.py corpus.jsonl \
        --confide target/release/confide

Presidio runs on a blank spaCy pipeline (no model download, no NER): its
NLP engine is built on ``spacy.blank("en")`` and the NER recognizer
(``SpacyRecognizer``) is removed, so only pattern recognizers run (credit
card, IBAN, SSN, e-mail, phone, IP, URL, national ids …). Recognizers that
Presidio ships for other languages (ES NIF/NIE, IT fiscal code, …) are
loaded too and run on every line, so neither engine depends on the line's
language.

Spans are compared in characters: exactly for data kinds, by overlap for
links and scam cues. A Presidio entity with no Confide counterpart (e.g.
US_DRIVER_LICENSE on an order number) counts as a false positive in the
row "other"; DATE_TIME is ignored (neither engine treats dates as
sensitive).
"""

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict

KINDS = ["payment_card", "iban", "national_id", "phone", "email", "credential",
         "ip_address", "link", "scam_cue"]
OVERLAP = {"link", "scam_cue"}

PRESIDIO_MAP = {
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "iban",
    "US_SSN": "national_id",
    "UK_NINO": "national_id",
    "UK_NHS": "national_id",
    "ES_NIF": "national_id",
    "ES_NIE": "national_id",
    "IT_FISCAL_CODE": "national_id",
    "US_ITIN": "national_id",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "IP_ADDRESS": "ip_address",
    "URL": "link",
}
IGNORED = {"DATE_TIME"}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def byte_to_char(text, b):
    return len(text.encode("utf-8")[:b].decode("utf-8", errors="ignore"))


def score(lines, predictions):
    """predictions[i]: list of (kind, start_char, end_char)."""
    counts = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    for line, preds in zip(lines, predictions):
        labels = [(l["kind"], l["start_char"], l["end_char"]) for l in line["labels"]]
        used = [False] * len(labels)
        for kind, s, e in preds:
            hit = None
            for i, (lk, ls, le) in enumerate(labels):
                if used[i] or lk != kind:
                    continue
                if (kind in OVERLAP and ls < e and s < le) or (ls == s and le == e):
                    hit = i
                    break
            if hit is None:
                counts[kind][1] += 1
            else:
                used[hit] = True
                counts[kind][0] += 1
        for i, (lk, _, _) in enumerate(labels):
            if not used[i]:
                counts[lk][2] += 1
    return counts


def ratio(a, b):
    return a / b if b else float("nan")


def run_confide(binary, lines, org_domain):
    text = "".join(l["text"].replace("\n", " ") + "\n" for l in lines).encode("utf-8")
    args = [binary, "guard", "scan", "--json"]
    if org_domain:
        args += ["--org-domain", org_domain]
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        out = subprocess.run(args, input=text, capture_output=True, check=True).stdout
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    preds = []
    for line, row in zip(lines, out.decode("utf-8").splitlines()):
        found = json.loads(row)["findings"]
        preds.append([(f["kind"], byte_to_char(line["text"], f["start"]),
                       byte_to_char(line["text"], f["end"])) for f in found])
    return preds, best, len(text)


def build_presidio():
    import tldextract

    # Presidio's e-mail recognizer calls tldextract, which would download the
    # public suffix list; use the snapshot bundled with tldextract instead.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())

    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankSpacyEngine(SpacyNlpEngine):
        """A spaCy NLP engine on a blank English pipeline (no model)."""

        def __init__(self):
            super().__init__(models=[{"lang_code": "en", "model_name": "blank"}])
            self.nlp = {"en": spacy.blank("en")}

        def load(self):
            self.nlp = {"en": spacy.blank("en")}

    engine = BlankSpacyEngine()
    registry = RecognizerRegistry()
    languages = ["en", "es", "it", "pl", "fi"]
    try:
        registry.load_predefined_recognizers(nlp_engine=engine, languages=languages)
    except TypeError:
        registry.load_predefined_recognizers(languages=languages)
    seen = set()
    kept = []
    for rec in registry.recognizers:
        if rec.name == "SpacyRecognizer" or "Spacy" in type(rec).__name__:
            continue
        key = (type(rec).__name__, tuple(rec.supported_entities))
        if key in seen:
            continue
        seen.add(key)
        rec.supported_language = "en"
        kept.append(rec)
    registry.recognizers = kept
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
    names = sorted({type(r).__name__ for r in kept})
    return analyzer, names


def run_presidio(analyzer, lines):
    """Analyses every line; returns per line (kind, start, end, score)."""
    t0 = time.perf_counter()
    raw = [analyzer.analyze(text=l["text"], language="en") for l in lines]
    dt = time.perf_counter() - t0
    preds = [[(PRESIDIO_MAP.get(r.entity_type, "other"), r.start, r.end, r.score)
              for r in results if r.entity_type not in IGNORED] for results in raw]
    nbytes = sum(len(l["text"].encode("utf-8")) + 1 for l in lines)
    return preds, dt, nbytes


def above(preds, threshold):
    return [sorted({(k, s, e) for k, s, e, score in row if score >= threshold}) for row in preds]


def table(title, counts):
    print(f"\n{title}")
    print(f"{'kind':<14}{'TP':>6}{'FP':>6}{'FN':>6}{'precision':>11}{'recall':>9}")
    tp = fp = fn = 0
    for kind in KINDS + (["other"] if "other" in counts else []):
        t, f, n = counts.get(kind, [0, 0, 0])
        tp, fp, fn = tp + t, fp + f, fn + n
        print(f"{kind:<14}{t:>6}{f:>6}{n:>6}{ratio(t, t + f):>11.4f}{ratio(t, t + n):>9.4f}")
    print(f"{'overall':<14}{tp:>6}{fp:>6}{fn:>6}{ratio(tp, tp + fp):>11.4f}{ratio(tp, tp + fn):>9.4f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", help="JSON lines from `cargo run -p confide-guard --example export_corpus`")
    p.add_argument("--confide", default="target/release/confide", help="path to the confide binary")
    p.add_argument("--org-domain", default="acme.com")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="Presidio score threshold (also reported at 0)")
    args = p.parse_args()

    lines = load(args.corpus)
    print(f"corpus: {len(lines)} lines, {sum(len(l['labels']) for l in lines)} labels")

    c_preds, c_time, c_bytes = run_confide(args.confide, lines, args.org_domain)
    try:
        analyzer, names = build_presidio()
    except ImportError as e:
        sys.exit(f"presidio-analyzer is not installed ({e}); see README.md: pip install presidio-analyzer")
    print(f"Presidio recognizers: {', '.join(names)}")
    p_preds, p_time, p_bytes = run_presidio(analyzer, lines)

    table("Confide guard (confide guard scan --json, whole process)", score(lines, c_preds))
    table("Presidio pattern recognizers, score >= 0", score(lines, above(p_preds, 0.0)))
    table(f"Presidio pattern recognizers, score >= {args.threshold}",
          score(lines, above(p_preds, args.threshold)))

    c_mbs = c_bytes / c_time / 1e6
    p_mbs = p_bytes / p_time / 1e6
    print(f"\nspeed: Confide {c_mbs:.2f} MB/s ({c_time * 1000:.0f} ms for {c_bytes} bytes, "
          f"process start and JSON output included), Presidio {p_mbs:.4f} MB/s "
          f"({p_time:.2f} s); Confide is {c_mbs / p_mbs:.0f}x faster")


if __name__ == "__main__":
    main()
