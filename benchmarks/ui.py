"""UI benchmark: how long a rerun of each workbench page takes (AppTest), on the sample study scaled
x10 (70 transcripts, 70 participants, the sample codebook with its codings copied onto every copy).
Not part of the test suite.

    .venv/bin/python benchmarks/ui.py [--factor 10] [--reruns 7] [--project PATH] [--keep]

The project is built with the real models (spaCy + MiniLM) unless ``--project`` names one already
built (e.g. one kept with ``--keep``). Each page is opened once (warm-up: project open, caches
filled), then rerun ``--reruns`` times with nothing changed, as a click elsewhere on the page does;
the median is reported. Writes the "UI reruns (AppTest)" section of benchmarks/BENCHMARKS.md.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.offline import set_offline_env  # noqa: E402

set_offline_env()

import yaml  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from analysis import open_project  # noqa: E402
from benchmarks.machine import describe, write_section  # noqa: E402
from benchmarks.scale import scale_study  # noqa: E402

HEADING = "UI reruns (AppTest)"
BUDGET_MS = 300


def scaled_codings(source: Path, factor: int) -> str:
    """The sample codings file with every coding copied onto each scaled copy of its transcript."""
    data = yaml.safe_load((source / "codebooks" / "codings.yaml").read_text(encoding="utf-8"))
    items = []
    for k in range(1, factor + 1):
        for item in data["codings"]:
            stem, suffix = os.path.splitext(item["transcript"])
            items.append({**item, "transcript": f"{stem}_{k}{suffix}" if factor > 1 else item["transcript"]})
    return yaml.safe_dump({"storyloom_codings": 1, "codings": items}, allow_unicode=True, sort_keys=False)


def build(dest: Path, factor: int) -> dict[str, Any]:
    """Scale the sample study into ``dest`` and sync it with the real models; returns what happened."""
    scale_study(ROOT, dest, factor)
    (dest / "codebooks").mkdir(exist_ok=True)
    shutil.copy(ROOT / "codebooks" / "codebook.yaml", dest / "codebooks" / "codebook.yaml")
    (dest / "codebooks" / "codings.yaml").write_text(scaled_codings(ROOT, factor), encoding="utf-8")
    t0 = time.perf_counter()
    with open_project(dest) as project:
        report = project.sync()
        if not project.status()["codes"]:  # sync leaves the codebook to us in some versions
            project.codebook_files.import_codebook(dest / "codebooks" / "codebook.yaml")
            project.codebook_files.import_codings(dest / "codebooks" / "codings.yaml")
        status = project.status()
        orphaned = len(project.codings.orphans())
        return {"seconds": time.perf_counter() - t0, "embedder": project.embedder.model_id, "status": status,
                "placed": status["codings"] - orphaned, "orphaned": orphaned, "report": report}


def pages(app: Path) -> list[tuple[str, str]]:
    """``(path, title)`` of every page the router registers (analysis/workbench/app.py; ``app`` is the entry run)."""
    from analysis.workbench.app import routes

    return routes()


def time_page(app: Path, page: str, reruns: int) -> dict[str, Any]:
    at = AppTest.from_file(str(app), default_timeout=600)
    t0 = time.perf_counter()
    at.switch_page(page).run()
    first = time.perf_counter() - t0
    if at.exception:
        return {"first": first, "error": at.exception[0].value.splitlines()[0][:80]}
    times = []
    for _ in range(reruns):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    return {"first": first, "median": statistics.median(times), "max": max(times), "errors": len(at.error)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--reruns", type=int, default=7)
    ap.add_argument("--project", type=Path, help="an already built project (skips the build)")
    ap.add_argument("--keep", action="store_true", help="keep the built project and print its path")
    ap.add_argument("--app", type=Path, default=ROOT / "app.py")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="storyloom-ui-bench-"))
    folder = args.project or tmp / f"study_x{args.factor}"
    built = None
    if args.project is None:
        print(f"Building the sample study x{args.factor} in {folder} (real spaCy + MiniLM)...", flush=True)
        built = build(folder, args.factor)
        print(f"  built in {built['seconds']:.0f} s: {built['status']}", flush=True)
    with open_project(folder) as project:
        status = project.status()
    os.environ["STORYLOOM_PROJECT"] = str(folder)

    load = os.getloadavg()[0]
    rows = []
    for page, title in pages(args.app):
        if not (args.app.parent / page).exists():
            rows.append((title, page, {"error": "page file missing"}))
            continue
        result = time_page(args.app, page, args.reruns)
        rows.append((title, page, result))
        print(f"  {title:<22} {result}", flush=True)

    lines = [
        f"Machine: {describe()}.",
        "",
        f"Project: the sample study scaled x{args.factor} by benchmarks/scale.py: {status['transcripts']} transcripts, "
        f"{status['participants']} participants, {status['segments']:,} segments, {status['codes']} codes, "
        f"{status['codings']:,} codings (codebooks/codings.yaml copied onto every copy, placed by quote).",
    ]
    if built:
        lines.append(f"Built with the real models ({built['embedder']}, spaCy) by `Project.sync()` in "
                     f"{built['seconds']:.0f} s; {built['placed']:,} codings placed, {built['orphaned']} orphaned "
                     "(copies whose text was perturbed where a quote sits).")
    lines += [
        "",
        f"Each page: opened once through app.py (`AppTest.switch_page`, project open, caches filled: \"first\"), "
        f"then rerun {args.reruns} times with nothing changed; median and slowest of those reruns. "
        f"Budget: {BUDGET_MS} ms. Load average when timing began: {load:.1f} on {os.cpu_count()} cores "
        "(other work on the machine slows every number).",
        "",
        "| page | file | first run | median rerun | slowest rerun |",
        "|---|---|---|---|---|",
    ]
    for title, page, r in rows:
        if "median" in r:
            flag = "" if r["median"] * 1000 <= BUDGET_MS else " (over budget)"
            lines.append(f"| {title} | `{page}` | {r['first'] * 1000:,.0f} ms | **{r['median'] * 1000:,.0f} ms**{flag} "
                         f"| {r['max'] * 1000:,.0f} ms |")
        else:
            lines.append(f"| {title} | `{page}` | – | not measured: {r['error']} | – |")
    lines += ["", "Rerun: `.venv/bin/python benchmarks/ui.py` (builds the x10 project first: a few minutes)."]
    write_section(HEADING, "\n".join(lines))
    print("\n".join(lines))
    if args.keep or args.project:
        print(f"Project kept at {folder}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
