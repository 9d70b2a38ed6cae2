"""Bulk codings (issue 26, item 4): codings per second into SQLite and into PostgreSQL for the paths that
write many codings at once: a 10,000-coding REFI-QDA import, a 10,000-coding ``codings.yaml`` import and a
merge of a coder's SQLite copy holding 10,000 codings.

    .venv/bin/python -m benchmarks.bulk [--runs 3] [--before REF] [--no-write]

The study: 20 transcripts of 40 lines (about 10,000 words), 10,000 codings of 4 codes by 2 coders. Each run
is its own process (``PYTHONPATH`` the tree measured) that prepares a fresh project (transcripts synced with
the hashing embedder, codes made: not timed) and times the one call a researcher waits for:
``interchange.import_project`` (storing the 20 sources included), ``codebook_files.import_codings`` or
``merge.from_project``. ``--before REF``: the same runs on ``git archive REF``, interleaved with this tree's,
so both see the same machine. PostgreSQL: a server started here for the run (default settings, fsync on).
Writes the "Bulk codings" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks.machine import describe, p95, write_section
from benchmarks.team import postgres

REPO = Path(__file__).resolve().parents[1]
N_TRANSCRIPTS, N_CODINGS = 20, 10_000
CODES, CODERS = ["Delay", "Fear", "Hope", "Money"], ["A", "B"]

JOB = textwrap.dedent("""
    import json, subprocess, sys, time
    from pathlib import Path
    import sqlalchemy as sa
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    job, work, corpus, database = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] or None
    folder = work / "p"
    if job != "refi":
        (folder / "transcripts").mkdir(parents=True)
        for f in sorted((corpus / "transcripts").iterdir()):
            (folder / "transcripts" / f.name).write_bytes(f.read_bytes())
    with open_project(folder, embedder=HashingEmbedder(), database=database) as p:
        if job != "refi":
            p.sync()
        if job == "yaml":
            for code in json.loads((corpus / "codes.json").read_text()):
                p.codebook.add_code(code)
        start = time.perf_counter()
        if job == "refi":
            p.interchange.import_project(corpus / "study.qdpx")
        elif job == "yaml":
            p.codebook_files.import_codings(corpus / "codings.yaml")
        else:
            p.merge.from_project(corpus / "theirs")
        seconds = time.perf_counter() - start
        with p.store.read() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM codings")).scalar_one()
    print(json.dumps({"seconds": seconds, "codings": n}))
""")


def _text(i: int) -> str:
    return "\n".join(f"Leader {i}: " + " ".join(f"w{i}x{j}y{k}" for k in range(12)) + "." for j in range(40)) + "\n"


def corpus(root: Path) -> Path:
    """The study once: its transcripts, codings.yaml, the coder's SQLite copy holding the codings (what
    merge takes) and its REFI-QDA export."""
    import yaml

    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    out = root / "corpus"
    theirs = out / "theirs"
    (theirs / "transcripts").mkdir(parents=True)
    items = []
    per = N_CODINGS // N_TRANSCRIPTS
    for i in range(N_TRANSCRIPTS):
        text = _text(i)
        (theirs / "transcripts" / f"t{i:02d}.txt").write_text(text, encoding="utf-8")
        words = [m.span() for m in re.finditer(r"w\S+y\d+", text)]
        for n in range(per):
            s, _ = words[n % len(words)]
            _, e = words[min(len(words) - 1, n % len(words) + n // len(words))]
            items.append({"transcript": f"t{i:02d}.txt", "code": CODES[n % len(CODES)], "quote": text[s:e],
                          "start": s, "end": e, "coder": CODERS[(n // len(CODES)) % len(CODERS)]})
    (out / "transcripts").symlink_to(theirs / "transcripts")
    (out / "codes.json").write_text(json.dumps(CODES))
    (out / "codings.yaml").write_text(yaml.safe_dump({"codings": items}, allow_unicode=True), encoding="utf-8")
    with open_project(theirs, embedder=HashingEmbedder()) as p:
        p.sync()
        for code in CODES:
            p.codebook.add_code(code)
        p.codebook_files.import_codings(out / "codings.yaml")
        p.interchange.export_project(out / "study.qdpx")
    return out


def run_job(tree: Path, job: str, corpus_dir: Path, database: str | None) -> dict[str, float]:
    from analysis.offline import OFFLINE_ENV

    with tempfile.TemporaryDirectory(prefix="storyloom-bulk-") as work:
        env = {**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(tree)}
        done = subprocess.run([sys.executable, "-c", JOB, job, work, str(corpus_dir), database or ""],
                              env=env, cwd=tree, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        if result["codings"] != N_CODINGS:
            raise RuntimeError(f"{job}: {result['codings']} codings stored, not {N_CODINGS}")
        return result


def _new_database(url: str, name: str) -> str:
    from tests.conftest import postgres_bin

    host = url.split("host=")[1].split("&")[0]
    psql = str((postgres_bin() or Path("/usr/bin")) / "psql")
    subprocess.run([psql, "-h", host, "-U", "postgres", "-d", "postgres", "-Atqc", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    return url.format(db=name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", help="a git ref measured side by side (interleaved)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    trees = {"now": REPO}
    with tempfile.TemporaryDirectory(prefix="storyloom-bulk-trees-") as tmp:
        root = Path(tmp)
        if args.before:
            before = root / "before"
            before.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.before], check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
            trees["before"] = before
        corpus_dir = corpus(root)
        loads = [os.getloadavg()[0]]
        times: dict[tuple[str, str, str], list[float]] = {}
        with postgres() as url:
            dialects = {"SQLite": None, **({"PostgreSQL": url} if url else {})}
            k = 0
            for _ in range(args.runs):
                for job in ("refi", "yaml", "merge"):
                    for dialect, base in dialects.items():
                        for label, tree in trees.items():
                            k += 1
                            database = None if base is None else _new_database(base, f"bulk{k}")
                            r = run_job(tree, job, corpus_dir, database)
                            times.setdefault((job, dialect, label), []).append(r["seconds"])
                            loads.append(os.getloadavg()[0])
                            print(f"{job:5} {dialect:10} {label:6} {r['seconds']:6.2f} s "
                                  f"{N_CODINGS / r['seconds']:7.0f} codings/s", flush=True)
    names = {"refi": "REFI-QDA import (`.qdpx`, 20 sources stored too)", "yaml": "codings import (`codings.yaml`)",
             "merge": "merge of a coder's SQLite copy"}
    head = "| path | database | " + (f"before ({args.before}) | now | ratio |" if args.before else "now |")
    rows = [head, "| " + " | ".join("---" for _ in head.strip("|").split("|")) + " |"]
    for job in ("refi", "yaml", "merge"):
        for dialect in dialects:
            def cell(label: str) -> str:
                v = times[(job, dialect, label)]
                return (f"{N_CODINGS / statistics.median(v):,.0f} codings/s (median {statistics.median(v):.2f} s, "
                        f"p95 {p95(v):.2f} s)")
            line = f"| {names[job]} | {dialect} | "
            if args.before:
                ratio = statistics.median(times[(job, dialect, "before")]) / statistics.median(times[(job, dialect, "now")])
                line += f"{cell('before')} | {cell('now')} | {ratio:.1f}x |"
            else:
                line += f"{cell('now')} |"
            rows.append(line)
    body = f"""Rerun: `.venv/bin/python -m benchmarks.bulk --runs {args.runs}{' --before ' + args.before if args.before else ''}`
(each run its own process; {N_CODINGS:,} codings in {N_TRANSCRIPTS} transcripts, 4 codes, 2 coders; the time is the
one call a researcher waits for; PostgreSQL is a local server on a Unix socket, default settings).

Machine: {describe(("sqlalchemy", "psycopg"))}. Load average (1 min) {min(loads):.2f}-{max(loads):.2f} over the run
({time.strftime('%Y-%m-%d')}), {args.runs} runs each{', interleaved before/now' if args.before else ''}.

{chr(10).join(rows)}

Each bulk path now writes its codings as one `CodingBatch` (`analysis/services/codings.py`): the project's
codings of the transcripts read once, matches (same GUID, or same code, span and coder) found in memory, new
codings inserted in multi-row `INSERT ... RETURNING` statements of up to 1,000 rows (matched back to their
parameters by GUID: asked for rows in parameter order, SQLite falls back to one statement a row). Before, each
coding cost a GUID look-up, a duplicate look-up and an INSERT: three round trips a coding.
"""
    print(body)
    if not args.no_write:
        write_section("Bulk codings (issue 26 item 4)", body)


if __name__ == "__main__":
    main()
