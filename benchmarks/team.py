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
from typing import Any

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

PACED = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    folder, me, slot, writers, go_file, rate, seconds = (Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                                         int(sys.argv[4]), Path(sys.argv[5]), float(sys.argv[6]),
                                                         float(sys.argv[7]))
    p = open_project(folder, embedder=HashingEmbedder(), user=me, create=False)
    p.codebook.get_code("Waiting")  # connected and warm
    print("ready", flush=True)
    while not go_file.exists():
        time.sleep(0.001)
    go = float(go_file.read_text())
    n = int(rate * seconds)
    out, failed = [], 0
    for i in range(n):
        due = go + (i + slot / writers) / rate  # the schedule: writers interleaved, each at `rate` a second
        while time.time() < due:
            time.sleep(min(0.002, max(0.0, due - time.time())))
        start = 10 + (i * writers + slot) * 6
        try:
            p.codings.add_coding(transcript="a.txt", start=start, end=start + 4, code="Waiting")
        except Exception as err:  # counted: a lost coding is a failure of the run
            failed += 1
            print(repr(err), file=sys.stderr)
            continue
        out.append(time.time() - due)  # from the intended start to the commit
    print(json.dumps({"latencies": out, "failed": failed}))
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


def paced(folder: Path, writers: int, rate: float, seconds: float, tree: Path = REPO) -> dict[str, Any]:
    """``writers`` processes, each adding ``rate`` codings a second for ``seconds`` on a fixed schedule;
    latency from each coding's intended start to its commit (a writer behind schedule accumulates it)."""
    go_file = folder / "go"
    go_file.unlink(missing_ok=True)
    env = {**_env(), "PYTHONPATH": str(tree)}
    procs = [subprocess.Popen([sys.executable, "-c", PACED, str(folder), f"coder{w}", str(w), str(writers), str(go_file),
                               str(rate), str(seconds)], env=env, cwd=tree, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for w in range(writers)]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(proc.communicate()[1])
    go_file.write_text(repr(time.time() + 0.5))
    latencies: list[float] = []
    failed = 0
    for proc in procs:
        out, err = proc.communicate(timeout=seconds * 20 + 120)
        if proc.returncode != 0:
            raise RuntimeError(err)
        r = json.loads(out.strip().splitlines()[-1])
        latencies += r["latencies"]
        failed += r["failed"]
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    with open_project(folder, embedder=HashingEmbedder(), create=False) as p:
        stored = len(p.codings.codings_in("a.txt"))
    ms = sorted(x * 1000 for x in latencies)
    return {"writers": writers, "rate": rate, "seconds": seconds, "expected": int(writers * rate * seconds),
            "stored": stored, "failed": failed, "p50": statistics.median(ms), "p95": ms[int(0.95 * (len(ms) - 1))],
            "max": ms[-1]}


COUNT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    folder, log = Path(sys.argv[1]), Path(sys.argv[2])
    p = open_project(folder, embedder=HashingEmbedder(), user="counter", create=False)
    p.codings.add_coding(transcript="a.txt", start=7000, end=7004, code="Waiting")  # connected, warm
    time.sleep(0.3)
    print(log.stat().st_size, flush=True)
    p.codings.add_coding(transcript="a.txt", start=7010, end=7014, code="Waiting")
    time.sleep(0.5)
""")


def round_trips(folder: Path, url: str, name: str, tree: Path = REPO) -> int:
    """Statements one ``add_coding`` sends (the second of a process), from the server's own log
    (``log_statement = all``: one entry per query string sent and waited for, BEGIN and COMMIT included)."""
    root = Path(url.split("host=")[1].split("&")[0])
    _psql(root, f"ALTER DATABASE {name} SET log_statement = 'all'")
    out = subprocess.run([sys.executable, "-c", COUNT, str(folder), str(root / "log")], env={**_env(), "PYTHONPATH": str(tree)},
                         cwd=tree, capture_output=True, text=True, check=True)
    mark = int(out.stdout.strip().splitlines()[-1])
    _psql(root, f"ALTER DATABASE {name} RESET log_statement")
    lines = (root / "log").read_bytes()[mark:].decode("utf-8", "replace").splitlines()
    return sum(1 for ln in lines if " LOG:  statement: " in ln or " LOG:  execute " in ln)


def _psql(root: Path, statement: str) -> None:
    from tests.conftest import postgres_bin

    psql = str((postgres_bin() or Path("/usr/bin")) / "psql")
    subprocess.run([psql, "-h", str(root), "-U", "postgres", "-d", "postgres", "-Atqc", statement], check=True,
                   capture_output=True)


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
    parser.add_argument("--paced-seconds", type=float, default=60.0)
    parser.add_argument("--before", type=Path, help="a checkout of the code before (its files: `git archive REV | tar -x`), "
                        "run side by side in the paced run and the round-trip count")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    load = os.getloadavg()
    rows, delays, trips = [], {}, {}
    paced_rows: list[dict[str, Any]] = []
    trees = [("after", REPO)] + ([("before", args.before.resolve())] if args.before else [])
    with tempfile.TemporaryDirectory(prefix="storyloom-bench-team-") as tmp, postgres() as url:
        if url is not None:
            for label, tree in trees:  # one after the other, on the same server
                name = f"trips_{label}"
                folder = _project(Path(tmp), name, url)
                trips[label] = round_trips(folder, url, name, tree)
                print(label, "round trips of one coding:", trips[label])
            for label, tree in trees:
                folder = _project(Path(tmp), f"paced_{label}", url)
                r = paced(folder, 8, 2.0, args.paced_seconds, tree)
                paced_rows.append({"code": label, **r, "load": os.getloadavg()[0]})
                print(json.dumps(paced_rows[-1]))
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
        f"Machine: {describe(('sqlalchemy', 'psycopg', 'psycopg-binary'))}. CPU flags: {_flags()}. "
        f"Load average (1 min) before/after: {load[0]:.1f}/{after[0]:.1f} (above 2 on these 2 "
        f"cores, other work shared them: the latencies are then upper bounds). PostgreSQL {_pg_version()} on a Unix socket on the same machine, default durability (fsync on); "
        "SQLite in WAL mode with synchronous=NORMAL.",
        "",
    ]
    if trips:
        lines += ["Round trips of one `add_coding` on PostgreSQL (a warm process's second coding; entries in the "
                  "server's log with `log_statement = all`, BEGIN and COMMIT included): "
                  + ", ".join(f"{k} **{v}**" for k, v in trips.items()) + ".", ""]
    if paced_rows:
        lines += [f"8 writer processes, each adding 2 codings a second for {args.paced_seconds:.0f} s on a fixed "
                  "schedule (interleaved), one PostgreSQL server; latency from a coding's intended start to its "
                  "commit (a writer behind schedule accumulates it):", "",
                  "| code | expected | stored | failed | p50 ms | p95 ms | max ms | load at end |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in paced_rows:
            lines.append(f"| {r['code']} | {r['expected']} | {r['stored']} | {r['failed']} | {r['p50']:.0f} | "
                         f"**{r['p95']:.0f}** | {r['max']:.0f} | {r['load']:.1f} |")
        lines.append("")
    lines += [
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
    lines += ["", "Rerun: `.venv/bin/python -m benchmarks.team [--before DIR]` (starts and stops its own PostgreSQL "
              "server; DIR: the older code's files, e.g. `git archive ace0664 | tar -x -C DIR`)."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Team: concurrent writers (issue 14)", body)


def _flags() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            have = set(line.split(":", 1)[1].split())
            return " ".join(f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16")
                            if f in have)
    return "?"


def _pg_version() -> str:
    from tests.conftest import postgres_bin

    pg = postgres_bin()
    if pg is None:
        return "(none)"
    out = subprocess.run([str(pg / "postgres"), "--version"], capture_output=True, text=True)
    return out.stdout.strip().split()[2] if out.returncode == 0 else "?"


if __name__ == "__main__":
    main()
