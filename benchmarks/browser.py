"""Real-browser benchmark: what a researcher waits for, click to settled, in headless Chromium.

    .venv/bin/python benchmarks/browser.py [--runs 7] [--sample-only] [--x10 PATH] [--x50 PATH [--x50-only]]
                                           [--sample PATH]
                                           [--root CHECKOUT] [--json OUT.json] [--compare BEFORE.json]
                                           [--against BEFORE_CHECKOUT] [--coding-only]

For each project (the sample study, synced with the real models; the sample study scaled x10 as
benchmarks/ui.py builds it) and each of ``--runs`` runs: a fresh copy of the project, a fresh
``streamlit run app.py`` (tests/browser/test_browser.py's ``streamlit_app``) and a fresh browser page, then a
researcher's round: open the app, switch transcript, select a passage, apply a code, select another,
create-and-apply a code, open a highlight, undo (the create-and-apply), uncode the first, visit every page, filter
Themes by participant, a first semantic search (at least 10 s after the app opened) and a later one, back to Read &
code. On Themes, after the participant filter, each of its other filters in turn (every participant, a theme, one
value of each participant attribute, "Show all codes") and its two other tabs. At the end of each run, the server's
peak RSS (VmHWM of the streamlit process and its children). ``--x50 PATH``: the x50 project of benchmarks/x50.py
(350 novel transcripts, 100k segments, 15k codings) too, built there once if PATH has none.

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
X50_HEADING = "Real browser at x50 (issue 26)"  # --x50-only writes here, leaving the sample and x10 tables alone
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
      if (text && !(how === 'starts' ? t.startsWith(text) : how === 're' ? new RegExp(text).test(t) : t.includes(text))) continue;
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
  const watch = () => {  // the whole document: the app's element may be replaced (a reconnect on a busy machine)
    if (!document.body) { setTimeout(watch, 20); return; }
    new MutationObserver((changes) => {
      for (const c of changes) {
        if (c.target.getAttribute('data-test-script-state') === 'running') window.__storyloomRuns += 1;
      }
    }).observe(document.body, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
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
        first = project.transcripts.get(rows[0].name).text  # shown when the app opens
        target = next(r for r in rows[len(rows) // 2:] if r.participants)
        name = target.name
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
        others = [str(p) for p in counts.index if p not in target.participants]
        person = others[len(others) // 2]
        themes = themes_plan(project, frame)
    label = f"{', '.join(target.participants)}: {name}"
    snippet = passages[0]
    return {"transcript": name, "label": label, "passages": passages, "code": paths[leaf.id], "person": person,
            "person_quotes": int(counts[person]), "snippet": snippet, "themes": themes}


def themes_plan(project: Any, frame: Any) -> dict[str, Any]:
    """Themes' filters in the order a run sets them, each with the quote count the page then shows: back to
    every participant, the most used theme, then one value of each participant attribute (they narrow the
    theme's quotes together). The run adds codings before it reaches Themes (an apply, a create-and-apply,
    one undone): the counts are for the project as copied and are checked loosely (see one_run)."""
    codes = project.codebook.codes()
    theme_of: dict[int, str] = {}
    for c in codes:
        top = c
        while top.parent_id is not None:
            top = next(p for p in codes if p.id == top.parent_id)
        theme_of[c.id] = top.name
    frame = frame.assign(theme=frame["code_id"].map(theme_of))
    theme = str(frame["theme"].value_counts().index[0])
    quotes = frame[frame["theme"] == theme]
    steps: list[dict[str, Any]] = [{"what": "all participants", "quotes": len(frame)},
                                   {"what": "theme or code", "value": theme, "quotes": len(quotes)}]
    attributes = sorted({k for p in project.participants.list() for k, v in p.attributes.items() if v})
    for attr in attributes:
        if attr not in quotes:
            continue
        value = str(quotes[attr].dropna().value_counts().index[0])
        quotes = quotes[quotes[attr] == value]
        steps.append({"what": attr, "label": attr.replace("_", " ").capitalize(), "value": value,
                      "quotes": len(quotes)})
    return {"theme": theme, "steps": steps}


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
            clock.until(f"page: {title}", t0, *heading(title), timeout=240_000)  # Team took 54 s at x50 before issue 26
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
                themes_filters(page, clock, todo["themes"])
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
        rss = server_rss(url)
        for k, v in rss.items():  # MiB, kept with the timings (seconds) and reported apart
            clock.samples[f"peak RSS MiB ({k})"] = [v]
        print(f"    peak RSS: server {rss['server']:,.0f} MiB, children {rss['children']:,.0f} MiB", flush=True)
    page.close()
    shutil.rmtree(project_dir, ignore_errors=True)
    return clock.samples


QUOTES_CAPTION = r"^\d+ quotes"


def quotes_shown(page: Any) -> int:
    """The quote count Themes' caption shows ("123 quotes, newest first...")."""
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text=" quotes").last.inner_text()
    return int(caption.split(" ", 1)[0].replace(",", ""))


def themes_filters(page: Any, clock: Clock, plan: dict[str, Any]) -> None:
    """Every filter of Themes in turn (after the participant filter): every participant again, a theme,
    one value of each participant attribute, "Show all codes", then the Co-occurrence and Theme map tabs
    and back. Each is timed to the quotes caption of the run it caused; the counts are checked to narrow."""
    shown = []
    for step in plan["steps"]:
        if step["what"] == "all participants":
            box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Participant", exact=True)).last
            typed = "All participants"
        elif step["what"] == "theme or code":
            box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Theme or code", exact=True)).last
            typed = step["value"]
        else:
            box = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text(step["label"], exact=True)).last
            typed = step["value"]
        box.click()
        page.keyboard.type(typed)
        t0 = clock.start()
        page.keyboard.press("Enter")
        clock.until(f"filter Themes ({step['what'].replace('_', ' ')})", t0, "[data-testid=stCaptionContainer]",
                    QUOTES_CAPTION, how="re")
        if step["what"] not in ("all participants", "theme or code"):
            page.keyboard.press("Escape")  # close the multiselect's list
        settle(page)
        shown.append(quotes_shown(page))
    if any(b > a for a, b in zip(shown[1:], shown[2:])) or shown[0] < plan["steps"][0]["quotes"]:
        raise RuntimeError(f"Themes' filters did not narrow the quotes: {shown} (planned {plan['steps']})")
    t0 = clock.start()
    page.get_by_text("Show all codes", exact=True).click()
    clock.until("filter Themes (show all codes)", t0, "[data-testid=stCaptionContainer]", QUOTES_CAPTION, how="re")
    settle(page)
    for tab, caption in (("Co-occurrence", "Empty cells: no co-occurrence"), ("Theme map", "Boxes: themes"),
                         ("Theme × participant", "Click a cell")):
        t0 = clock.start()
        page.get_by_role("tab", name=tab).click()
        clock.until(f"Themes tab: {tab}", t0, "[data-testid=stCaptionContainer]", caption)
        settle(page)


def server_rss(url: str) -> dict[str, float]:
    """Peak resident memory (VmHWM, MiB) of the streamlit server serving ``url`` and of its children (the
    process whose command line runs streamlit on that port, found in /proc; its children by PPid)."""
    port = url.rsplit(":", 1)[1]
    procs: dict[int, tuple[int, str]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (d / "status").read_text()
        except OSError:
            continue
        ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "0")
        procs[int(d.name)] = (ppid, f"{cmd}\t{hwm}")
    server = next(pid for pid, (_, info) in procs.items()
                  if "streamlit" in info and f"--server.port {port} " in info.split("\t")[0])
    family, frontier = [server], [server]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, (ppid, _) in procs.items() if ppid == parent]
        family += kids
        frontier += kids
    peaks = {pid: int(procs[pid][1].rsplit("\t", 1)[1]) / 1024 for pid in family}
    return {"server": peaks[server], "children": sum(v for pid, v in peaks.items() if pid != server),
            "total": sum(peaks.values())}


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
    ap.add_argument("--x50", type=Path, help="the x50 project (benchmarks/x50.py): reused when PATH holds one, "
                    "else built there (real models: many minutes); times x50 too")
    ap.add_argument("--x50-only", action="store_true", help="only the x50 project (with --x50 PATH)")
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
            write_section(X50_HEADING if list(merged["projects"]) == ["x50"] else HEADING, text)
        return
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="storyloom-browser-bench-"))
    projects: dict[str, Path] = {}
    if not (args.x10_only or args.x50_only):
        projects["sample study"] = args.sample or sample_study(work / "sample")
    if not (args.sample_only or args.x50_only):
        if args.x10 is None:
            from benchmarks.ui import build
            print("Building the sample study x10 (real models, a few minutes)...", flush=True)
            build(work / "x10", 10)
            args.x10 = work / "x10"
        projects["x10"] = args.x10
    if args.x50 is not None and not (args.sample_only or args.x10_only):
        if not (args.x50 / "project.db").exists():
            from benchmarks.x50 import build as build_x50
            print(f"Building the x50 project in {args.x50} (real models, many minutes)...", flush=True)
            print(build_x50(args.x50), flush=True)
        projects["x50"] = args.x50
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
        write_section(X50_HEADING if list(projects) == ["x50"] else HEADING, text)
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
            if action.startswith("peak RSS"):
                continue
            if old:
                o = old.get(action)
                was = f"{_ms(o['median'])} / {_ms(o['p95'])}" if o else "–"
                lines.append(f"| {action} | {was} | **{_ms(v['median'])}** / {_ms(v['p95'])} |")
            else:
                lines.append(f"| {action} | **{_ms(v['median'])}** | {_ms(v['p95'])} | {v['n']} |")
        rss = {k: v for k, v in r["summary"].items() if k.startswith("peak RSS")}
        if rss:
            lines.append("\nServer peak RSS (VmHWM at the end of each run), median / largest: " + "; ".join(
                f"{k[len('peak RSS MiB ('):-1]} {v['median']:,.0f} / {max(r['samples'][k]):,.0f} MiB"
                for k, v in rss.items()) + ".")
        if old and before:
            lines.append(f"\nBefore: load averages {', '.join(f'{x:.1f}' for x in before['projects'][label]['loads'])}.")
    lines += ["", "Rerun: `.venv/bin/python benchmarks/browser.py` (`--sample-only --runs 2` for a quick check; "
                  "`--x10 PATH` reuses a project kept by `benchmarks/ui.py --keep`)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
