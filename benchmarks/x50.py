"""The x50 project for the real-browser benchmark (issue 26): novel text at fifty times the sample study.

    .venv/bin/python benchmarks/x50.py [DEST]     (default /tmp/storyloom-x50; prints what it built)

About 350 transcripts of novel interview text (``benchmarks.scale.novel_study``: recombined clauses, not
copies), about 100,000 segments, the participants of its participants.csv, the sample codebook's codes and
about 15,000 codings placed on real sentences of the answers: spread over the codes (some used far more than
others, as in a real codebook) and over every participant, about one in eight overlapping another coding of
the same passage, one in ten with a memo, a second coder on one in six. Built with the real models (spaCy and
MiniLM, through ``Project.sync()``: about 100,000 sentences to embed, minutes on 2 cores), then the codings
through the public import (``project.codebook_files.import_codings``, one transaction). Build it once and pass
it to ``benchmarks/browser.py --x50 PATH``; every run there works on a copy.
"""

from __future__ import annotations

import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = Path("/tmp/storyloom-x50")
TRANSCRIPTS = 350
WORDS_PER_TRANSCRIPT = 3_600  # x 350 = 1.26M words; 12.6 words a segment (BENCHMARKS.md, scale) = 100k segments
CODINGS = 15_000
CODERS = ("Dr Mere Tane", "Hemi Walker")
MEMOS = ("Strong example; consider for the chapter.", "Ambivalent: reads against the theme's central concept.",
         "Compare with the first interviews of this group.", "In-vivo phrase worth keeping.",
         "Check the context: the turn before changes the meaning.")
_SENTENCE = re.compile(r"[^.?!\s][^.?!]*[.?!]")


def sentences_of(project: Any, name: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence the participant says in ``name`` (answers only, not the questions)."""
    text = project.transcripts.get(name).text
    spans = []
    for turn in project.transcripts.turns(name):
        if turn.interviewer or turn.participant is None:
            continue
        for m in _SENTENCE.finditer(text, turn.start, turn.end):
            if len(m.group().split()) >= 6:
                spans.append((m.start(), m.end()))
    return spans


def codings_file(project: Any, count: int, seed: int = 0) -> tuple[str, dict[str, int]]:
    """A codings.yaml of ``count`` codings over the project's transcripts; returns its text and a tally."""
    import yaml

    rng = random.Random(seed)
    paths = project.codebook.code_paths()
    leaves = [paths[c.id] for c in project.codebook.codes() if c.kind == "code"]
    weights = [1.0 / (1 + i) ** 0.6 for i in range(len(leaves))]  # a few codes carry most of the work
    rows = project.transcripts.list()
    per = count // len(rows)
    extra = count - per * len(rows)
    items: list[dict[str, Any]] = []
    tally = {"overlapping": 0, "memos": 0, "second coder": 0, "two sentences": 0}
    for n, row in enumerate(rows):
        name = row.name
        text = project.transcripts.get(name).text
        spans = sentences_of(project, name)
        want = per + (1 if n < extra else 0)
        picks = sorted(rng.sample(range(len(spans) - 1), min(want, len(spans) - 1)))
        for i in picks:
            start, end = spans[i]
            if rng.random() < 0.15 and spans[i + 1][0] - end < 3:  # two sentences in a row
                end = spans[i + 1][1]
                tally["two sentences"] += 1
            code = rng.choices(leaves, weights)[0]
            item: dict[str, Any] = {"transcript": name, "code": code, "start": start, "end": end,
                                    "quote": text[start:end]}
            if rng.random() < 0.1:
                item["memo"] = rng.choice(MEMOS)
                tally["memos"] += 1
            if rng.random() < 1 / 6:
                item["coder"] = CODERS[1]
                tally["second coder"] += 1
            else:
                item["coder"] = CODERS[0]
            items.append(item)
            if rng.random() < 0.125 and len(items) < count:  # the same passage, or part of it, under another code
                other = rng.choice([c for c in leaves if c != code])
                lo = start if rng.random() < 0.5 else text.find(" ", start + (end - start) // 3) + 1
                items.append({**item, "code": other, "start": lo, "end": end, "quote": text[lo:end]})
                items[-1].pop("memo", None)
                tally["overlapping"] += 1
    items = items[:count]
    return yaml.safe_dump({"storyloom_codings": 1, "codings": items}, allow_unicode=True, sort_keys=False), tally


def build(dest: Path = DEFAULT, *, transcripts: int = TRANSCRIPTS, codings: int = CODINGS,
          embedder: Any = None) -> dict[str, Any]:
    """Build the x50 project in ``dest`` (removed first); returns what was built and how long it took.
    ``embedder``: another than the project's MiniLM (a ``HashingEmbedder`` builds a copy in a minute for
    profiling the pages; its semantic search means nothing)."""
    from analysis.offline import set_offline_env

    set_offline_env()
    from analysis import open_project
    from benchmarks.scale import novel_study

    shutil.rmtree(dest, ignore_errors=True)
    t0 = time.perf_counter()
    novel_study(ROOT, dest, transcripts * WORDS_PER_TRANSCRIPT, per_interview=WORDS_PER_TRANSCRIPT)
    (dest / "codebooks").mkdir(exist_ok=True)
    shutil.copy(ROOT / "codebooks" / "codebook.yaml", dest / "codebooks" / "codebook.yaml")
    generated = time.perf_counter() - t0
    with open_project(dest, create=True, embedder=embedder) as project:
        t0 = time.perf_counter()
        project.sync()  # transcripts, participants and (no codes yet) the codebook
        synced = time.perf_counter() - t0
        text, tally = codings_file(project, codings)
        path = dest / "codebooks" / "codings_x50.yaml"  # not codings.yaml: a later sync must not re-import it
        path.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        placed = project.codebook_files.import_codings(path, note="x50 benchmark codings")
        imported = time.perf_counter() - t0
        status = project.status()
    return {"dest": str(dest), "status": status, "generate_s": generated, "sync_s": synced, "import_s": imported,
            "placed": placed.placed, "orphaned": placed.orphaned, "skipped": placed.skipped, **tally}


def main() -> None:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    print(f"Building the x50 project in {dest} (real spaCy + MiniLM: minutes)...", flush=True)
    print(build(dest), flush=True)


if __name__ == "__main__":
    main()
