"""Long single-line transcripts (issue 25, class 4): time and peak memory, before and after, side by side.

    .venv/bin/python benchmarks/long_text.py [--chars 2000000] [--runs 3] [--big-mb 50] [--big-before]

1. Segmenting one line of ``--chars`` characters: sentence bounds read from ``doc.sents`` (before: a Python
   Token object per token) against :func:`analysis.domain.segment.sentence_bounds` (after: one array per
   piece). Each run is a fresh process (peak RSS is the process's), the two interleaved, ``--runs`` each.
2. Importing a ``--big-mb`` MB single-line ``.txt`` (within ``limits.TRANSCRIPT_BYTES``): after, refused by
   ``limits.TRANSCRIPT_CHARS`` before segmenting; with ``--big-before``, once with the cap lifted as before
   (minutes).

Writes the "Long single-line transcripts" section of benchmarks/BENCHMARKS.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe, write_section  # noqa: E402

SEGMENT = r'''
import json, random, resource, sys, time
from analysis.domain import segment
segment.load_nlp()
how, chars = sys.argv[1], int(sys.argv[2])
if how == "before":
    segment.sentence_bounds = lambda doc: [(s.start_char, s.end_char) for s in doc.sents]
random.seed(1)
words = "It was hard and we built a credential nobody wanted. Then ākonga came back?".split()
text = ("Leader A: " + " ".join(random.choice(words) for _ in range(chars // 5)))[:chars]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
spans = segment.sentences(text, [(10, len(text))])
print(json.dumps({"seconds": time.perf_counter() - t, "sentences": sum(map(len, spans)),
                  "grown_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024,
                  "first": [(s.start, s.end) for s in spans[0][:50]]}))
'''

BIG = r'''
import json, os, resource, sys, time
from pathlib import Path
from analysis import limits, open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.errors import StoryloomError
folder, mb, lift = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "before"
line = ("It was hard and we built a credential nobody wanted. " * (mb * 1024 * 1024 // 53 + 1))[: mb * 1024 * 1024]
(folder / "long.txt").write_text(line)
del line
if lift:
    limits.TRANSCRIPT_CHARS = 10**9
p = open_project(folder / "p", embedder=HashingEmbedder())
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    p.transcripts.import_files([folder / "long.txt"])
    outcome = "imported"
except StoryloomError as err:
    outcome = str(err)[:160]
print(json.dumps({"seconds": time.perf_counter() - t, "outcome": outcome,
                  "grown_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}))
'''


def _run(script: str, *args: str, timeout: int = 3600) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                         timeout=timeout, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chars", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-mb", type=int, default=50)
    ap.add_argument("--big-before", action="store_true")
    args = ap.parse_args()
    flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), [])
    load_start = os.getloadavg()
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.runs):
        for how in ("before", "after"):
            runs[how].append(_run(SEGMENT, how, str(args.chars)))
            print(how, runs[how][-1]["seconds"], runs[how][-1]["grown_mib"], flush=True)
    same = all(r["sentences"] == runs["before"][0]["sentences"] and r["first"] == runs["before"][0]["first"]
               for r in runs["before"] + runs["after"])
    big: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for how in (["before"] if args.big_before else []) + ["after"]:
            folder = Path(tmp) / how
            folder.mkdir()
            big[how] = _run(BIG, str(folder), str(args.big_mb), how)
            print(how, big[how], flush=True)
    load_end = os.getloadavg()
    rows = []
    for how in ("before", "after"):
        secs = [r["seconds"] for r in runs[how]]
        mem = [r["grown_mib"] for r in runs[how]]
        rows.append(f"| {how} | {statistics.median(secs):.1f} | {_p95(secs):.1f} | {statistics.median(mem):.0f} | "
                    f"{_p95(mem):.0f} |")
    ratio = statistics.median(r["seconds"] for r in runs["before"]) / statistics.median(
        r["seconds"] for r in runs["after"])
    body = [f"Machine: {describe()}.", f"CPU flags: {' '.join(f for f in flags if f.startswith(('avx', 'sse4', 'fma')))}.",
            f"Load average (1, 5, 15 min) at start {tuple(round(x, 2) for x in load_start)}, at end "
            f"{tuple(round(x, 2) for x in load_end)}: a shared, busy machine; before and after ran interleaved, "
            f"each run a fresh process.", "",
            f"Segmenting one line of {args.chars:,} characters ({runs['after'][0]['sentences']:,} sentences; the "
            f"same sentences both ways: {same}), {args.runs} runs each:", "",
            "| sentence bounds | median s | p95 s | median peak RSS growth MiB | p95 MiB |", "| --- | --- | --- | --- | --- |",
            *rows, "", f"Before/after time ratio (medians): {ratio:.2f}.", ""]
    for how, r in big.items():
        body.append(f"- {args.big_mb} MB single-line `.txt`, {how}: {r['seconds']:.1f} s, peak RSS growth "
                    f"{r['grown_mib']:.0f} MiB; {r['outcome']}")
    write_section("Long single-line transcripts (issue 25, class 4)", "\n".join(body))


if __name__ == "__main__":
    main()
