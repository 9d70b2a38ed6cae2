"""Team benchmark (issue 14): codings per second with 1, 2 and 4 concurrent writers on each dialect
(SQLite: one project.db on this machine; PostgreSQL: a server started here, default durability), and
the delay until another session sees a new coding.

Each writer is its own process (a researcher's UI session or CLI), opening the project as its own user
and adding codings one action at a time (one transaction and one audit event each), all starting at
the same instant. Throughput = all codings / (last writer's end - start). Visibility: one process notes
the time and adds a coding (the coder's click); another polls the project's change counter (what the
Read & code page does every 3 s) every 5 ms and notes when it moved; the delay is the difference, the
action itself included (the page's own 3-s poll comes on top).

    .venv/bin/python -m benchmarks.team [--per-writer 100] [--trials 20]

Writes the "Team: concurrent writers" section of benchmarks/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.machine import describe, write_section

REPO = Path(__file__).resolve().parents[1]
TEXT = "Leader A: " + "We waited for the approval for months. " * 400 + "\n"

WRITER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    from analysis.errors import StorageError
    folder, me, slot, writers, go_file, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]), int(sys.argv[6])
    p = open_project(folder, embedder=HashingEmbedder(), user=me, create=False)
    p.codebook.get_code("Waiting")  # connected and warm
    print("ready", flush=True)
    while not go_file.exists():
        time.sleep(0.001)
    go = float(go_file.read_text())
    while time.time() < go:
        time.sleep(0.0005)
    locked = 0
    for i in range(n):
        start = 10 + (i * writers + slot) * 6
        while True:
            try:
                p.codings.add_coding(transcript="a.txt", start=start, end=start + 4, code="Waiting")
                break
            except StorageError as err:  # the busy timeout ran out: told, and tried again
                locked += 1
    print(json.dumps({"end": time.time(), "n": n, "locked": locked}))
""")

WATCHER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    folder, trials = Path(sys.argv[1]), int(sys.argv[2])
    p = open_project(folder, embedder=HashingEmbedder(), user="watcher", create=False)
    seen = p.version()
    print("ready", flush=True)
    out = []
    while len(out) < trials:
        v = p.version()
        if v != seen:
            out.append(time.time())
            seen = v
        else:
            time.sleep(0.005)
    print(json.dumps(out), flush=True)
""")


def _env() -> dict[str, str]:
    from analysis.offline import OFFLINE_ENV

    return {**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(REPO)}


@contextmanager
def postgres() -> Iterator[str | None]:
    """A PostgreSQL server for the run (default settings: fsync on), or None when none is installed."""
    from tests.conftest import _as_postgres, postgres_bin

    pg = postgres_bin()
    if pg is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="storyloom-bench-pg-"))
    root.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    data = root / "data"
    subprocess.run(_as_postgres([str(pg / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
                   check=True, capture_output=True, env=env)
    subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-o", f"-k {root} -c listen_addresses='' -p 5432",
                                 "-l", str(root / "log"), "-w", "start"]), check=True, capture_output=True, env=env)
    try:
        yield f"postgresql://postgres@/{{db}}?host={root}&port=5432"
    finally:
        subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, env=env)
        shutil.rmtree(root, ignore_errors=True)


def _project(root: Path, name: str, url: str | None) -> Path:
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    folder = root / name
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / "a.txt").write_text(TEXT, encoding="utf-8")
    database = None
    if url is not None:
        pg_root = url.split("host=")[1].split("&")[0]
        from tests.conftest import postgres_bin

        psql = str((postgres_bin() or Path("/usr/bin")) / "psql")
        subprocess.run([psql, "-h", pg_root, "-U", "postgres", "-d", "postgres", "-Atqc", f"CREATE DATABASE {name}"],
                       check=True, capture_output=True)
        database = url.format(db=name)
    with open_project(folder, embedder=HashingEmbedder(), database=database) as p:
        p.sync()
        p.codebook.add_code("Waiting")
    return folder


def throughput(folder: Path, writers: int, per_writer: int) -> dict[str, float]:
    go_file = folder / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), f"coder{w}", str(w), str(writers), str(go_file),
                               str(per_writer)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(writers)]
    for proc in procs:  # every writer has imported, opened the project and connected: start them together
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(proc.communicate()[1])
    go = time.time() + 0.2
    go_file.write_text(repr(go))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(err)
        results.append(json.loads(out.strip().splitlines()[-1]))
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    with open_project(folder, embedder=HashingEmbedder(), create=False) as p:
        stored = len(p.codings.codings_in("a.txt"))
    total = writers * per_writer
    assert stored == total, (stored, total)
    seconds = max(r["end"] for r in results) - go
    return {"writers": writers, "codings": total, "seconds": seconds, "per_second": total / seconds,
            "retries": sum(r["locked"] for r in results)}


def visibility(folder: Path, trials: int) -> list[float]:
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(folder), str(trials)], env=_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert watcher.stdout is not None
    assert watcher.stdout.readline().strip() == "ready"
    clicked = []
    with open_project(folder, embedder=HashingEmbedder(), user="writer", create=False) as p:
        for i in range(trials):
            start = 5000 + i * 6
            clicked.append(time.time())  # the coder's click: the action (its commit inside) starts now
            p.codings.add_coding(transcript="a.txt", start=start, end=start + 4, code="Waiting")
            time.sleep(0.25)
    out, _err = watcher.communicate(timeout=120)
    seen = json.loads(out.strip().splitlines()[-1])
    return [s - c for s, c in zip(seen, clicked)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-writer", type=int, default=100)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    load = os.getloadavg()
    rows, delays = [], {}
    with tempfile.TemporaryDirectory(prefix="storyloom-bench-team-") as tmp, postgres() as url:
        for dialect in ("sqlite", "postgresql"):
            if dialect == "postgresql" and url is None:
                print("PostgreSQL not installed: skipped")
                continue
            for writers in (1, 2, 4):
                folder = _project(Path(tmp), f"{dialect}_w{writers}", url if dialect == "postgresql" else None)
                r = throughput(folder, writers, args.per_writer)
                rows.append({"dialect": dialect, **r})
                print(json.dumps(rows[-1]))
            folder = _project(Path(tmp), f"{dialect}_vis", url if dialect == "postgresql" else None)
            delays[dialect] = visibility(folder, args.trials)
            print(dialect, "visibility ms", [round(d * 1000, 1) for d in delays[dialect]])
    after = os.getloadavg()
    lines = [
        f"Machine: {describe(('sqlalchemy', 'psycopg', 'psycopg-binary'))}. Load average before/after: "
        f"{load[0]:.1f}/{after[0]:.1f} (a shared machine: other jobs were running). PostgreSQL "
        f"{_pg_version()} on a Unix socket on the same machine, default durability (fsync on); SQLite in WAL "
        "mode with synchronous=NORMAL.",
        "",
        f"Each writer is a process adding {args.per_writer} codings, one action (transaction + audit event) "
        "each, all starting together; every run stored exactly writers x codings, none lost.",
        "",
        "| store | writers | codings | seconds | codings/s | retries after the busy timeout |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['dialect']} | {r['writers']} | {r['codings']} | {r['seconds']:.1f} | "
                     f"{r['per_second']:.0f} | {r['retries']} |")
    lines += ["", "Delay from a coder's click until another session sees the new coding (its change counter "
              "moved; the action itself included; measured by a process polling every 5 ms; the Read & code page "
              "polls every 3 s, which comes on top):", ""]
    for dialect, ds in delays.items():
        ms = sorted(d * 1000 for d in ds)
        lines.append(f"- {dialect}: median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms over {len(ms)} codings")
    lines += ["", "Rerun: `.venv/bin/python -m benchmarks.team` (starts and stops its own PostgreSQL server)."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Team: concurrent writers (issue 14)", body)


def _pg_version() -> str:
    from tests.conftest import postgres_bin

    pg = postgres_bin()
    if pg is None:
        return "(none)"
    out = subprocess.run([str(pg / "postgres"), "--version"], capture_output=True, text=True)
    return out.stdout.strip().split()[2] if out.returncode == 0 else "?"


if __name__ == "__main__":
    main()
