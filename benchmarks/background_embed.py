"""Start working before the embeddings are done (issue 26 item 3), measured on novel text.

A fresh project of ``WORDS`` words (benchmarks/scale.py: ``novel_study``), synced with ``wait=False`` as the
workbench does: the time until every transcript is stored and segmented (readable and codable), split into
reading, sentences (spaCy) and storing; then a coding and a keyword search at once; then the embedding queue
worked in a background thread (as analysis/workbench/embedding_jobs.py does) while the main thread samples the
coverage query and runs a semantic search at about half coverage; then the time until all is embedded.

Rerun: ``.venv/bin/python benchmarks/background_embed.py [WORDS]`` (default 1,000,000; writes its section of
BENCHMARKS.md).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def flags() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            have = set(line.split(":", 1)[1].split())
            return " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile") if f in have)
    return "unknown"


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run(words: int, workdir: Path) -> dict[str, Any]:
    from analysis.offline import set_offline_env

    set_offline_env()
    from analysis import open_project
    from analysis.domain.progress import Step
    from analysis.services import transcripts as transcript_service
    from benchmarks.scale import novel_study

    out: dict[str, Any] = {"words": words, "load_start": load()}
    folder = novel_study(ROOT, workdir / "study", words)
    spent = {"sentences": 0.0}
    segment = transcript_service.sentences

    def timed(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return segment(*a, **k)
        finally:
            spent["sentences"] += time.perf_counter() - t

    transcript_service.sentences = timed  # type: ignore[assignment]
    project = open_project(folder, create=True)
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def tell(step: Step) -> None:
        now = time.perf_counter() - t0
        marks.setdefault(f"{step.stage}_first", now)
        marks[f"{step.stage}_last"] = now
        if step.stage == "store" and step.done == 1:
            marks["first_readable"] = now

    report = project.sync(progress=tell, wait=False)
    out["readable_s"] = time.perf_counter() - t0
    out.update(transcripts=len(report["added"]), pending=report["embedding_pending"], marks=marks,
               sentences_s=spent["sentences"])
    # Readable and codable now: a transcript's text, a code and a coding, a keyword search over every segment.
    t = time.perf_counter()
    name = "interview_0001.txt"
    text = project.transcripts.get(name).text
    project.codebook.add_code("Before the vectors")
    start = text.index("P1: ") + 4
    project.codings.add_coding(transcript=name, start=start, end=start + 40, code="Before the vectors")
    out["code_s"] = time.perf_counter() - t
    t = time.perf_counter()
    hits = project.assist.search("funding", mode="keyword", k=10)
    out["keyword_s"], out["keyword_hits"] = time.perf_counter() - t, len(hits)
    coverage = project.assist.coverage()
    out["segments"] = coverage.segments
    # The queue, worked as the workbench's worker does, while the researcher searches.
    done = threading.Event()
    stored: list[int] = []
    e0 = time.perf_counter()
    worker = threading.Thread(target=lambda: (stored.append(project.transcripts.embed_pending()), done.set()))
    worker.start()
    samples: list[float] = []
    semantic: dict[str, Any] = {}
    while not done.wait(5):
        t = time.perf_counter()
        c = project.assist.coverage()
        samples.append(time.perf_counter() - t)
        if not semantic and c.percent >= 50:
            t = time.perf_counter()
            found = project.assist.search("the funding rules kept changing", mode="semantic", k=10)
            semantic = {"at_percent": c.percent, "s": time.perf_counter() - t, "hits": len(found),
                        "at_s": time.perf_counter() - e0}
    worker.join()
    out["embed_s"] = time.perf_counter() - e0
    out["embedded"] = stored[0]
    out["all_embedded_s"] = out["readable_s"] + out["embed_s"]
    out["coverage_query_ms"] = (statistics.median(samples) * 1000, sorted(samples)[int(0.95 * (len(samples) - 1))] * 1000) \
        if samples else (0.0, 0.0)
    out["semantic"] = semantic
    out["final"] = asdict(project.assist.coverage())
    out["backend"] = getattr(project.embedder, "backend", None)
    project.close()
    out["load_end"] = load()
    return out


def markdown(r: dict[str, Any], machine: str) -> str:
    m = r["marks"]
    parse = m.get("parse_last", 0.0)
    store = m.get("store_last", 0.0) - m.get("store_first", 0.0)
    other = r["readable_s"] - parse - r["sentences_s"] - store
    sem = r["semantic"]
    return f"""Machine: {machine}. CPU flags: {flags()}. Load 1/5/15 at start {r['load_start']}, at end {r['load_end']}
(the 1-minute load average says how busy the 2 cores were: above 2, other work shared them and every time here is an upper bound).
Embedding backend: {r['backend']}. Rerun: `.venv/bin/python benchmarks/background_embed.py {r['words']}`.

A fresh project of {r['words']:,} novel words ({r['transcripts']} transcripts, {r['segments']:,} segments), synced as the
workbench does (`project.sync(wait=False)`), then the embedding queue worked in a background thread:

| step | time |
|---|---|
| first transcript readable and codable (stored, segmented) | {m.get('first_readable', 0):.1f} s |
| **every transcript readable and codable** (sync returns) | **{r['readable_s']:.1f} s** |
| of which reading and parsing the files | {parse:.1f} s |
| of which sentences (spaCy senter, every transcript before the first is stored) | {r['sentences_s']:.1f} s |
| of which storing (turns, segments, anchors; one transaction per transcript) | {store:.1f} s |
| of which the rest (participants.csv, codebooks/, the queue's count) | {other:.1f} s |
| a code and a coding right after | {r['code_s']:.2f} s |
| a keyword search over all {r['segments']:,} segments, no vector yet (builds the index) | {r['keyword_s']:.1f} s ({r['keyword_hits']} hits) |
| embedding the queue ({r['embedded']:,} texts) in the background | {r['embed_s']:.0f} s ({r['embedded'] / max(r['embed_s'], 1e-9):.0f} texts/s) |
| **all embedded, from the start of the sync** | **{r['all_embedded_s']:.0f} s** |
| the coverage query (the Assist page's line), median / p95 while embedding | {r['coverage_query_ms'][0]:.0f} / {r['coverage_query_ms'][1]:.0f} ms |
| a semantic search at {sem.get('at_percent', '-')} % coverage ({sem.get('at_s', 0):.0f} s into embedding; rebuilds the index) | {sem.get('s', 0):.1f} s ({sem.get('hits', 0)} hits) |
"""


def main() -> None:
    from benchmarks.machine import describe, write_section

    words = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        result = run(words, Path(tmp))
    print(result)
    body = markdown(result, describe(("onnxruntime", "spacy", "streamlit")))
    print(body)
    if "--no-write" not in sys.argv:
        write_section("Start working before the embeddings are done (issue 26 item 3)", body)


if __name__ == "__main__":
    main()
