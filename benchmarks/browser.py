"""Real-browser benchmark: what a researcher waits for, click to settled, in headless Chromium.

    .venv/bin/python benchmarks/browser.py [--runs 7] [--sample-only] [--x10 PATH] [--sample PATH]
                                           [--root CHECKOUT] [--json OUT.json] [--compare BEFORE.json]
                                           [--against BEFORE_CHECKOUT] [--coding-only]

For each project (the sample study, synced with the real models; the sample study scaled x10 as
benchmarks/ui.py builds it) and each of ``--runs`` runs: a fresh copy of the project, a fresh
``streamlit run app.py`` (tests/browser/test_browser.py's ``streamlit_app``) and a fresh browser page, then a
researcher's round: open the app, switch transcript, select a passage, apply a code, select another,
create-and-apply a code, open a highlight, undo (the create-and-apply), uncode the first, visit every page, filter Themes by participant, a
first semantic search (at least 10 s after the app opened) and a later one, back to Read & code.

Each action is timed from the click (or key press) to *settled*: the page's Streamlit status is idle
(``data-test-script-state="notRunning"``) AND the action's target element is visible (the drawn
highlight, the page's heading, the search's hit count...), checked in the page on every animation
frame. The median and 95th percentile over the runs are reported, with the load average, and written
to the "Real browser (click to settled)" section of benchmarks/BENCHMARKS.md (``--no-write``: not).
``--root`` times another checkout's app.py (e.g. ``git worktree add /tmp/base HEAD~3``) with this
benchmark; ``--json`` keeps the raw timings, ``--compare`` adds a before/after table. ``--against`` times
another checkout too, side by side: its runs interleaved with ``--root``'s (before, after; then after, before...),
on the same busy machine, reported as a before/after table; ``--coding-only`` stops each run after Read & code's
actions (no page visits, no searches).

Not part of the test suite; needs /usr/bin/chromium and Playwright.
"""

from __future__ import annotations

import argparse
import json
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

from analysis import open_project  # noqa: E402
from analysis.embedding.minilm import HashingEmbedder  # noqa: E402
from benchmarks.machine import describe, write_section  # noqa: E402
from tests.browser.test_browser import ARGS, CHROMIUM, SELECT_JS, _pages, choose, settle, streamlit_app  # noqa: E402

HEADING = "Real browser (click to settled)"
QUERIES = ("fear of being assessed again", "the approval process took too long")

# True once the app is idle and a visible element matches the target: [css, text, how, shadow]
# (how: "has" = text content contains text, "starts" = starts with it, "absent" = no element contains it
# any more; shadow: look in shadow roots).
SETTLED_JS = """
([css, text, how, shadow]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning' || !window.__storyloomRuns) return false;
  let roots = [document];
  if (shadow) {
    const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.text'));
    roots = host ? [host.shadowRoot] : [];
  }
  if (how === 'absent') {
    return roots.length > 0 && roots.every(root => ![...root.querySelectorAll(css)].some(el => (el.textContent || '').includes(text)));
  }
  for (const root of roots) {
    for (const el of root.querySelectorAll(css)) {
      const t = (el.textContent || '').trim();
      if (text && !(how === 'starts' ? t.startsWith(text) : t.includes(text))) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && !el.closest('[data-stale="true"]')) return true;
    }
  }
  return false;
}
"""


# Counts the app's script runs (the status attribute turning "running"); reset before each action, so
# that "settled" means a run began after the click, not the page as it was before it.
RUNS_JS = """
(() => {
  window.__storyloomRuns = 0;
  const watch = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) { setTimeout(watch, 20); return; }
    new MutationObserver(() => {
      if (app.getAttribute('data-test-script-state') === 'running') window.__storyloomRuns += 1;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  };
  document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', watch) : watch();
})();
"""


class Clock:
    """Times actions to settled and keeps the samples per action."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.samples: dict[str, list[float]] = {}

    def start(self) -> float:
        """Forget earlier runs; returns the time to count from (call right before the click)."""
        self.page.evaluate("window.__storyloomRuns = 0")
        return time.perf_counter()

    def until(self, name: str, t0: float, css: str, text: str = "", *, how: str = "has", shadow: bool = False,
              timeout: float = 60_000) -> float:
        try:
            self.page.wait_for_function(SETTLED_JS, arg=[css, text, how, shadow], polling="raf", timeout=timeout)
        except Exception:  # noqa: BLE001 - a timeout of any kind: keep a screenshot and the page's state, then re-raise
            self.page.screenshot(path=str(Path(tempfile.gettempdir()) / "storyloom-browser-bench-timeout.png"))
            state = self.page.evaluate("[window.__storyloomRuns, document.querySelector('[data-testid=stApp]')"
                                       "?.getAttribute('data-test-script-state')]")
            raise RuntimeError(f"{name}: not settled within {timeout / 1000:.0f} s (runs, status: {state}; "
                               f"waiting for {css} {how} {text!r}; screenshot in {tempfile.gettempdir()})") from None
        seconds = time.perf_counter() - t0
        self.samples.setdefault(name, []).append(seconds)
        print(f"    {name:<34} {seconds * 1000:8,.0f} ms", flush=True)
        return seconds


def heading(title: str) -> tuple[str, str]:
    return ("h1", title.split(" (")[0]) if title != "Read & code" else ("[data-testid=stMarkdownContainer] strong", "Coding panel")


def plan(project_dir: Path) -> dict[str, Any]:
    """What a run does on this project: a transcript other than the first one shown, two uncoded
    passages in it, a code to apply, a participant to filter Themes by and the quotes it has."""
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        rows = project.transcripts.list()
        paths = project.codebook.code_paths()
        leaf = next(c for c in reversed(project.codebook.codes()) if c.kind == "code")
        first = project.transcripts.get(rows[0]["name"]).text  # shown when the app opens
        target = next(r for r in rows[len(rows) // 2:] if r.get("participants"))
        name = target["name"]
        text = project.transcripts.get(name).text
        coded = [(c.start, c.end) for c in project.codings.codings_in(name)]
        passages: list[str] = []
        for turn in project.transcripts.turns(name):
            if turn.interviewer:
                continue
            words = text[turn.start:turn.end].split()
            for lo in range(2, max(2, len(words) - 6), 7):
                passage = " ".join(words[lo:lo + 5])
                at = text.find(passage)
                if (len(passage) > 20 and text.count(passage) == 1 and passage.isascii() and passage not in first
                        and not any(a < at + len(passage) and b > at for a, b in coded)):
                    passages.append(passage)
                    break
            if len(passages) == 2:
                break
        frame = project.explore.codings_frame()
        counts = frame["participant"].value_counts()  # the run codes the target's participant: not that one
        others = [str(p) for p in counts.index if p not in (target.get("participants") or [])]
        person = others[len(others) // 2]
    label = f"{', '.join(target['participants'])}: {name}"
    snippet = passages[0]
    return {"transcript": name, "label": label, "passages": passages, "code": paths[leaf.id], "person": person,
            "person_quotes": int(counts[person]), "snippet": snippet}


def one_run(browser: Any, source: Path, work: Path, run: int, root: Path,
            coding_only: bool = False) -> dict[str, list[float]]:
    project_dir = work / f"run{run}"
    shutil.rmtree(project_dir, ignore_errors=True)
    shutil.copytree(source, project_dir)
    todo = plan(project_dir)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.add_init_script(RUNS_JS)
    clock = Clock(page)
    t_server = time.perf_counter()
    with streamlit_app(project_dir, work / f"server{run}.log", root=root) as url:
        clock.samples["server up (health answers)"] = [time.perf_counter() - t_server]
        t0 = time.perf_counter()
        page.goto(url)
        clock.until("open the app", t0, "[data-testid=stMarkdownContainer] strong", "Coding panel")
        opened = time.perf_counter()
        settle(page)

        # switch transcript (type-ahead in the selectbox, then Enter: timed from Enter)
        box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Transcript", exact=True)).last
        box.click()
        page.keyboard.type(todo["label"])
        t0 = clock.start()
        page.keyboard.press("Enter")
        clock.until("switch transcript", t0, ".text .w", todo["snippet"], shadow=True)
        settle(page)

        # select a passage, apply an existing code
        first, second = todo["passages"]
        t0 = clock.start()
        assert page.evaluate(SELECT_JS, first) >= 0, first
        clock.until("select a passage", t0, "[data-testid=stMarkdownContainer] strong", "Code the selection")
        settle(page)
        choose(page, "Code", todo["code"])
        t0 = clock.start()
        page.get_by_role("button", name="Apply code").click()
        clock.until("apply a code (highlight drawn)", t0, ".c", first, shadow=True)
        settle(page)

        # select another, create a code and apply it
        t0 = clock.start()
        assert page.evaluate(SELECT_JS, second) >= 0, second
        clock.until("select a passage", t0, "[data-testid=stMarkdownContainer] strong", "Code the selection")
        settle(page)
        if not page.get_by_label("New code name").is_visible():
            page.get_by_text("Create a new code and apply it").click()
        new_code = f"Bench code {run}"
        page.get_by_label("New code name").fill(new_code)
        page.get_by_label("Definition").fill("A passage coded by the browser benchmark.")
        t0 = clock.start()
        page.get_by_role("button", name="Create code and apply").click()
        clock.until("create-and-apply a code", t0, f'.c[title*="{new_code}"]', second, shadow=True)
        settle(page)

        # open the first highlight, then undo the last action
        t0 = clock.start()
        page.locator("[data-testid=storyloom-transcript] .c").filter(has_text=first).first.click()
        clock.until("open a highlight", t0, "[data-testid=stButton] button", "Uncode")
        settle(page)
        t0 = clock.start()
        page.get_by_role("button", name="↶ Undo").click()  # redo turns enabled (a toast may be gone by then)
        clock.until("undo", t0, "[data-testid=stSidebar] button:not([disabled])", "Redo")
        settle(page)

        # uncode the first highlight (its codings are still open in the panel): until it is gone
        if not page.get_by_role("button", name="Uncode").count():
            page.locator("[data-testid=storyloom-transcript] .c").filter(has_text=first).first.click()
            page.get_by_role("button", name="Uncode").first.wait_for(timeout=30_000)
            settle(page)
        t0 = clock.start()
        page.get_by_role("button", name="Uncode").first.click()
        clock.until("uncode (highlight gone)", t0, ".c", first, how="absent", shadow=True)
        settle(page)

        # every page; Themes filtered; two semantic searches on Assist
        for stem, title in [] if coding_only else [*[p for p in _pages() if p[0] != "read_code"],
                                                   ("read_code", "Read & code")]:
            t0 = clock.start()
            page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).first.click()
            clock.until(f"page: {title}", t0, *heading(title))
            settle(page)
            if stem == "themes":
                box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Participant", exact=True)).last
                box.click()
                page.keyboard.type(todo["person"])
                t0 = clock.start()
                page.keyboard.press("Enter")
                clock.until("filter Themes (participant)", t0, "[data-testid=stCaptionContainer]",
                            f"{todo['person_quotes']} quotes", how="starts")
                settle(page)
            if stem == "assist":
                for n, query in enumerate(QUERIES):
                    if n == 0 and time.perf_counter() - opened < 10:
                        page.wait_for_timeout((10 - (time.perf_counter() - opened)) * 1000)
                    page.get_by_test_id("stForm").get_by_label("Search", exact=True).fill(query)
                    t0 = clock.start()
                    page.get_by_test_id("stForm").get_by_role("button", name="Search", exact=True).click()
                    clock.until("first semantic search" if n == 0 else "later semantic search", t0,
                                "[data-testid=stCaptionContainer]", f"hits for {query}", timeout=180_000)
                    settle(page)
            if page.get_by_test_id("stException").count():
                raise RuntimeError(f"{title} shows an exception")
    page.close()
    shutil.rmtree(project_dir, ignore_errors=True)
    return clock.samples


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))] if len(ordered) < 20 else \
        statistics.quantiles(ordered, n=20)[-1]


def summary(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {k: {"median": statistics.median(v), "p95": p95(v), "n": len(v)} for k, v in samples.items()}


def sample_study(dest: Path) -> Path:
    """The repository's sample study (transcripts/ + codebooks/), synced with the real models."""
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "transcripts", dest / "transcripts")
    shutil.copytree(ROOT / "codebooks", dest / "codebooks")
    with open_project(dest) as project:
        project.sync()
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sample-only", action="store_true", help="only the sample study (a quick check)")
    ap.add_argument("--x10-only", action="store_true", help="only the x10 project")
    ap.add_argument("--sample", type=Path, help="an already synced sample study (skips its sync)")
    ap.add_argument("--x10", type=Path, help="an already built x10 project (benchmarks/ui.py --keep)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py is timed")
    ap.add_argument("--against", type=Path, help="a 'before' checkout, timed interleaved with --root ('after')")
    ap.add_argument("--coding-only", action="store_true", help="only Read & code's actions in each run")
    ap.add_argument("--json", type=Path, help="write the raw timings here")
    ap.add_argument("--compare", type=Path, help="a --json file of an earlier run: adds a before/after table")
    ap.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    ap.add_argument("--results", type=Path, nargs="+",
                    help="--json files of earlier runs (merged by project): report them, run nothing")
    args = ap.parse_args()
    if args.results:
        merged: dict[str, Any] = {}
        for path in args.results:
            data = json.loads(path.read_text(encoding="utf-8"))
            merged = {**data, "projects": {**merged.get("projects", {}), **data["projects"]}}
        before = json.loads(args.compare.read_text(encoding="utf-8")) if args.compare else None
        runs = max(v["n"] for r in merged["projects"].values() for v in r["summary"].values())
        text = report(merged, before, runs)
        print(text)
        if not args.no_write:
            write_section(HEADING, text)
        return
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="storyloom-browser-bench-"))
    projects: dict[str, Path] = {}
    if not args.x10_only:
        projects["sample study"] = args.sample or sample_study(work / "sample")
    if not args.sample_only:
        if args.x10 is None:
            from benchmarks.ui import build
            print("Building the sample study x10 (real models, a few minutes)...", flush=True)
            build(work / "x10", 10)
            args.x10 = work / "x10"
        projects["x10"] = args.x10
    roots = {"after": args.root, **({"before": args.against} if args.against else {})}
    every: dict[str, dict[str, Any]] = {tag: {"machine": describe(("streamlit", "playwright")), "root": str(root), "projects": {}}
             for tag, root in roots.items()}
    results = every["after"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        for label, folder in projects.items():
            with open_project(folder, embedder=HashingEmbedder()) as project:
                status = project.status()
            samples: dict[str, dict[str, list[float]]] = {tag: {} for tag in roots}
            loads: dict[str, list[float]] = {tag: [] for tag in roots}
            for run in range(1, args.runs + 1):
                order = sorted(roots, reverse=run % 2 == 1)  # before, after; then after, before; ...
                for tag in order:
                    loads[tag].append(os.getloadavg()[0])
                    print(f"{label}: run {run}/{args.runs} {tag if args.against else ''} (load {loads[tag][-1]:.1f})",
                          flush=True)
                    try:
                        got = one_run(browser, folder, work, run, roots[tag], args.coding_only)
                    except Exception as err:  # noqa: BLE001 - a run that did not settle: said, and the rest run
                        print(f"  run {run} failed: {err}", flush=True)
                        every[tag].setdefault("failed", []).append(f"{label} run {run}: {str(err)[:200]}")
                        continue
                    for k, v in got.items():
                        samples[tag].setdefault(k, []).extend(v)
                    every[tag]["projects"][label] = {"status": status, "loads": [*loads[tag], os.getloadavg()[0]],
                                                     "samples": samples[tag], "summary": summary(samples[tag])}
                if args.json:  # after every run: a long benchmark cut short still leaves its figures
                    args.json.write_text(json.dumps(results if not args.against else every, indent=1),
                                         encoding="utf-8")
        browser.close()
    if args.json:
        args.json.write_text(json.dumps(results if not args.against else every, indent=1), encoding="utf-8")
    before = every.get("before") or (json.loads(args.compare.read_text(encoding="utf-8")) if args.compare else None)
    text = report(results, before, args.runs)
    print(text)
    if not args.no_write:
        write_section(HEADING, text)
    shutil.rmtree(work, ignore_errors=True)


def _ms(x: float) -> str:
    return f"{x * 1000:,.0f}"


def report(results: dict[str, Any], before: dict[str, Any] | None, runs: int) -> str:
    lines = [
        f"Machine: {results['machine']}. Headless Debian chromium via Playwright; a fresh server, project copy and "
        f"browser page per run; {runs} runs. Click (or key press) to settled: Streamlit's status idle and the "
        "action's target visible (the drawn highlight, the page's heading, the hit count), checked every frame. "
        "The machine is shared (2 cores, other jobs running): the load average of each run is given; figures on a "
        "loaded machine are upper bounds.",
    ]
    for label, r in results["projects"].items():
        s = r["status"]
        lines += ["", f"### {label}: {s['transcripts']} transcripts, {s['segments']:,} segments, {s['codes']} codes, "
                      f"{s['codings']:,} codings",
                  "", f"Load average (1 min) at the start of each run, and at the end: "
                      f"{', '.join(f'{x:.1f}' for x in r['loads'])}.", ""]
        old = (before or {}).get("projects", {}).get(label, {}).get("summary") if before else None
        if old:
            lines += ["| action | before median / p95 ms | after median / p95 ms |", "|---|---|---|"]
        else:
            lines += ["| action | median ms | p95 ms | n |", "|---|---|---|---|"]
        for action, v in r["summary"].items():
            if old:
                o = old.get(action)
                was = f"{_ms(o['median'])} / {_ms(o['p95'])}" if o else "–"
                lines.append(f"| {action} | {was} | **{_ms(v['median'])}** / {_ms(v['p95'])} |")
            else:
                lines.append(f"| {action} | **{_ms(v['median'])}** | {_ms(v['p95'])} | {v['n']} |")
        if old and before:
            lines.append(f"\nBefore: load averages {', '.join(f'{x:.1f}' for x in before['projects'][label]['loads'])}.")
    lines += ["", "Rerun: `.venv/bin/python benchmarks/browser.py` (`--sample-only --runs 2` for a quick check; "
                  "`--x10 PATH` reuses a project kept by `benchmarks/ui.py --keep`)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
