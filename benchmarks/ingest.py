"""Ingest benchmark: parse+segment characters/s, embedding sentences/s, end-to-end import of the
sample study scaled x1, x10, x50 (medians). Not part of the test suite.

    .venv/bin/python benchmarks/ingest.py [--factors 1 10 50] [--runs 3]

Writes the "Ingest" section of benchmarks/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.offline import set_offline_env  # noqa: E402

set_offline_env()

from analysis import open_project  # noqa: E402
from analysis.embedding.minilm import MiniLMEmbedder  # noqa: E402
from analysis.ingest import read_transcript  # noqa: E402
from analysis.domain.segment import load_nlp, sentences  # noqa: E402
from benchmarks.machine import describe, write_section  # noqa: E402
from benchmarks.scale import scale_study  # noqa: E402


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def boundary_f1(a: list, b: list) -> float:
    sa, sb = {s.start for t in a for s in t}, {s.start for t in b for s in t}
    tp = len(sa & sb)
    return 2 * tp / (len(sa) + len(sb)) if sa or sb else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--factors", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    files = [f for f in sorted((ROOT / "transcripts").iterdir()) if f.suffix in (".txt", ".md", ".docx", ".vtt", ".srt")]
    named = [(f.name, f.read_bytes()) for f in files]
    parsed = [read_transcript(n, d) for n, d in named]
    chars = sum(len(p.text) for p in parsed)
    load_nlp(), load_nlp(full=True)
    t_parse = median_time(lambda: [read_transcript(n, d) for n, d in named], args.runs)
    turns = [[(t.start, t.end) for t in p.turns] for p in parsed]
    t_senter = median_time(lambda: [sentences(p.text, tt) for p, tt in zip(parsed, turns)], args.runs)
    t_full = median_time(lambda: [sentences(p.text, tt, full=True) for p, tt in zip(parsed, turns)], args.runs)
    f1 = statistics.mean(boundary_f1(sentences(p.text, tt), sentences(p.text, tt, full=True))
                         for p, tt in zip(parsed, turns))
    segs = [p.text[s.start:s.end] for p, tt in zip(parsed, turns) for t in sentences(p.text, tt) for s in t]
    n_segs = len(segs)
    embedder = MiniLMEmbedder()
    embedder.embed(segs[:64])
    sample = segs[:1024]
    t_embed = median_time(lambda: embedder.embed(sample), args.runs)
    lines = [
        f"Machine: {describe()}.",
        "",
        f"Sample study: {len(files)} transcripts, {chars:,} characters, {n_segs:,} sentences.",
        "",
        "| stage | median | rate |",
        "|---|---|---|",
        f"| parse (all readers) | {t_parse * 1000:.0f} ms | {chars / t_parse:,.0f} chars/s |",
        f"| segment, spaCy `senter` only (used) | {t_senter:.2f} s | {chars / t_senter:,.0f} chars/s |",
        f"| segment, full spaCy pipeline (parser) | {t_full:.2f} s | {chars / t_full:,.0f} chars/s |",
        f"| parse + segment (senter) | {t_parse + t_senter:.2f} s | {chars / (t_parse + t_senter):,.0f} chars/s |",
        f"| embed 1,024 sentences, MiniLM fp32, batch 64 | {t_embed:.2f} s | {len(sample) / t_embed:,.0f} sentences/s |",
        "",
        f"Sentence-boundary agreement of `senter` with the full pipeline's parser: F1 {f1:.3f} "
        f"(mean over transcripts). The sentence recogniser alone is used: it is {t_full / t_senter:.0f} times "
        "faster and agrees closely with the parser on interview speech.",
        "",
        "End-to-end import (`Project.sync()` on a fresh project: read, map speakers, segment, embed what "
        "is not cached, store), sample study scaled by benchmarks/scale.py (copies after the first have "
        "20% of their lines perturbed by one word, so those sentences are new and must be embedded):",
        "",
        "| scale | transcripts | segments | embedded | runs | median | segments/s | sum of parts | pipeline / parts |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for factor in args.factors:
        runs = args.runs if factor <= 10 else 1
        times, report, status = [], {}, {}
        with tempfile.TemporaryDirectory() as tmp:
            src = scale_study(ROOT, Path(tmp) / "src", factor)
            for r in range(runs):
                folder = Path(tmp) / f"run{r}"
                folder.mkdir()
                os.symlink(src / "transcripts", folder / "transcripts")
                project = open_project(folder, embedder=embedder)
                t0 = time.perf_counter()
                report = project.sync()
                times.append(time.perf_counter() - t0)
                status = project.status()
                project.close()
        med = statistics.median(times)
        parts = (t_parse + t_senter) * factor + report["segments_embedded"] / (len(sample) / t_embed)
        lines.append(f"| x{factor} | {status['transcripts']} | {status['segments']:,} | {report['segments_embedded']:,} "
                     f"| {runs} | {med:.1f} s | {status['segments'] / med:,.0f} | {parts:.1f} s | {med / parts:.2f} |")
        print(lines[-1], flush=True)
    lines += ["", "Sum of parts: parse + segment time for the same text plus the embedding time of the sentences "
              "that were embedded, at the rates above; the rest of the pipeline is storing (SQLite: transcripts, "
              "turns, segments, vectors), speaker mapping and the cache look-ups. (These projects hold the "
              "transcripts only: no codebook is imported.)",
              "", "Rerun: `.venv/bin/python benchmarks/ingest.py` (x50 runs once: it takes minutes)."]
    write_section("Ingest", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
