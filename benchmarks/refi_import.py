"""The REFI-QDA import and the transcript import on the same text, side by side (house-in-order issue, item 2).

    .venv/bin/python benchmarks/refi_import.py [--runs 3] [--no-write]

The sample study's transcripts are imported into a fresh project (real ONNX embedder, empty embedding cache)
and exported as a .qdpx; then, alternately ``--runs`` times each, into a fresh project: ``storyloom import``'s
path (``transcripts.import_files``) and the REFI-QDA import of that .qdpx (``interchange.import_project``).
Both now go through one pipeline (``TranscriptService.embed_sentences`` and ``store_text``), so their speed
should agree; the table gives wall seconds and sentences per second (median, p95) and the ratio, with the
machine and its load. Writes the "REFI-QDA import beside the transcript import" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from analysis import open_project  # noqa: E402
from benchmarks.machine import describe, p95, write_section  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    files = sorted(p for p in (ROOT / "transcripts").iterdir() if p.suffix in (".txt", ".md", ".docx", ".vtt", ".srt"))
    times: dict[str, list[float]] = {"transcripts": [], "refi": []}
    sentences: dict[str, int] = {}
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        source = open_project(base / "source")
        source.transcripts.import_files(files)
        qdpx = base / "sample.qdpx"
        source.interchange.export_project(qdpx)
        source.close()
        for run in range(args.runs):
            for kind in ("transcripts", "refi"):
                folder = base / f"{kind}-{run}"
                project = open_project(folder)
                project.ctx.embedder  # noqa: B018 - load the model before the clock starts
                project.ctx.embedder.embed(["warm up"])
                loads.append(os.getloadavg()[0])
                t0 = time.perf_counter()
                if kind == "transcripts":
                    report = project.transcripts.import_files(files)
                    sentences[kind] = int(report["segments_embedded"])
                else:
                    project.interchange.import_project(qdpx)
                    sentences[kind] = int(project.status()["segments"])
                times[kind].append(time.perf_counter() - t0)
                project.close()
                shutil.rmtree(folder)
    rows = []
    for kind, label in (("transcripts", "transcript import (storyloom import)"), ("refi", "REFI-QDA import (.qdpx)")):
        med = statistics.median(times[kind])
        rows.append(f"| {label} | {sentences[kind]:,} | {med:.2f} | {p95(times[kind]):.2f} | {sentences[kind] / med:.0f} |")
    ratio = statistics.median(times["refi"]) / statistics.median(times["transcripts"])
    body = (f"Machine: {describe()}. Load average during the runs: {min(loads):.1f}-{max(loads):.1f} "
            f"(1 min). {args.runs} runs of each, alternating, each into a fresh project (empty embedding cache).\n\n"
            "| path | sentences | median s | p95 s | sentences/s (median) |\n|---|---|---|---|---|\n"
            + "\n".join(rows) + f"\n\nREFI / transcript import, median wall time: {ratio:.2f}x.\n")
    print(body)
    if not args.no_write:
        write_section("REFI-QDA import beside the transcript import", body)


if __name__ == "__main__":
    main()
