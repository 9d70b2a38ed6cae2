"""A quiet, private start and progress that tells the truth (issue 15 item 9, issue 13 item 7): sync
reports every stage (parse, segment, embed, store) with true counts; the CLI draws a bar per stage on a
terminal and stays quiet when piped or with --json; `make demo` says what each stage does and where the
app is; Streamlit runs without a file watcher and on localhost only; pyproject.toml builds without a
setuptools deprecation warning."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from analysis.cli import app
from analysis.cli._common import progress_bar
from analysis.domain.progress import STAGES, Rate, Step, describe

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def interview(n: int, who: str = "Leader A") -> str:
    """An interview of ``n`` distinct sentences by ``who``."""
    body = " ".join(f"In week {i} the {who.split()[-1]} cohort met mentor number {i * 7 + 3}." for i in range(n))
    return f"Interviewer: Tell me about it.\n\n{who}: {body}\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_sync_reports_each_stage_in_order_with_true_counts(make_project):
    project = make_project(transcripts={"a.txt": interview(300), "b.txt": interview(20, "Leader B")}, sync=False)
    steps: list[Step] = []
    report = project.sync(progress=steps.append)
    assert [s for s in dict.fromkeys(s.stage for s in steps)] == list(STAGES)
    last = {s.stage: s for s in steps}
    assert (last["parse"].done, last["parse"].total, last["parse"].unit) == (2, 2, "files")
    assert (last["segment"].done, last["segment"].total) == (2, 2)
    assert last["embed"].total == report["segments_embedded"] > 256 and last["embed"].finished
    embeds = [s.done for s in steps if s.stage == "embed"]
    assert embeds == sorted(embeds) and embeds[0] == 0 and len(embeds) >= 3  # more than one batch: it moves
    assert (last["store"].done, last["store"].total) == (2, 2)
    # a second sync has nothing to segment, embed or store, and says so
    again: list[Step] = []
    project.sync(progress=again.append)
    assert [(s.stage, s.total) for s in again if s.stage != "parse"] == [("segment", 0), ("store", 0), ("embed", 0)]
    assert describe(again[-1]) == "Embedding sentences: nothing to do (no new sentences)"


def test_a_changed_transcript_embeds_only_its_new_sentences(make_project):
    project = make_project(transcripts={"a.txt": interview(30)})
    (project.path / "transcripts" / "a.txt").write_text(interview(30) + "\nLeader A: One new thing.\n")
    steps: list[Step] = []
    project.sync(progress=steps.append)
    embed = [s for s in steps if s.stage == "embed"][-1]
    assert embed.total == 1 and embed.finished  # the 31 sentences before (30 + the question) keep their vectors


def test_rate_and_time_left_leave_out_the_first_batch():
    now = [0.0]
    rate = Rate(clock=lambda: now[0])
    assert rate.update(Step("embed", 0, 1000, "sentences")) == (None, None)
    now[0] = 20.0  # the first batch waited for the language model
    assert rate.update(Step("embed", 250, 1000, "sentences")) == (None, None)
    now[0] = 21.0
    speed, left = rate.update(Step("embed", 750, 1000, "sentences"))
    assert speed == 500 and left == 0.5
    assert describe(Step("embed", 750, 1000, "sentences"), speed, 65) == (
        "Embedding sentences: 750 of 1,000 sentences · 500 sentences/s · about 1:05 left")


def test_cli_draws_a_bar_per_stage_on_a_terminal(make_project):
    project = make_project(transcripts={"a.txt": interview(600)}, sync=False)  # three batches of sentences
    screen = Terminal()
    project.sync(progress=progress_bar(True, screen))
    lines = [line.strip() for line in screen.getvalue().replace("\r", "\n").splitlines() if line.strip()]
    finals = {label: next(x for x in reversed(lines) if x.startswith(label))
              for label in ("Reading files", "Splitting into sentences", "Embedding sentences", "Saving transcripts")}
    assert finals["Reading files"].endswith("1/1 files, a.txt")
    assert re.search(r"601/601 sentences, [\d,]+/s$", finals["Embedding sentences"]), finals["Embedding sentences"]
    assert any(re.search(r"sentences, [\d,]+/s · \d+ s left$", x) for x in lines if x.startswith("Embedding"))  # ETA
    assert all(len(x) <= 80 for x in lines), [x for x in lines if len(x) > 80]  # fits a terminal
    assert finals["Saving transcripts"].endswith("1/1 transcripts, a.txt")
    quiet = Terminal()
    project.sync(progress=progress_bar(True, quiet))
    assert "Embedding sentences      nothing to do (no new sentences)" in quiet.getvalue()


def test_cli_is_quiet_when_piped_or_with_json(make_project):
    assert progress_bar(False, Terminal()) is None  # --json
    assert progress_bar(True, io.StringIO()) is None  # piped
    project = make_project(transcripts={"a.txt": interview(5)}, sync=False)
    result = runner.invoke(app, ["sync", "--project", str(project.path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == ["a.txt"]  # stdout is the JSON alone


def test_make_demo_says_each_stage_and_the_url():
    """make demo is `storyloom demo .` (the repository root is the sample study); the program says each stage,
    and its server listens on localhost only, without a file watcher or usage statistics."""
    # --no-print-directory: under `make test` (a nested make) make would add "Entering/Leaving directory" lines
    out = subprocess.run(["make", "--no-print-directory", "-n", "-B", "demo"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    said = [line for line in out.splitlines() if line.startswith('echo "==>')]
    assert any("Installing" in s for s in said)
    assert out.splitlines()[-1].strip().endswith("storyloom demo .")
    from analysis.cli import program
    from analysis.cli.server import ENTRY, command

    source = Path(program.__file__).read_text(encoding="utf-8")
    stages = [" ".join(s.split()[:2]) for s in re.findall(r'"==> ([^"]+)', source)]
    assert stages == ["Copying the", "Importing the", "Preparing the", "Starting the"], stages
    assert "Storyloom is running at {server.url}" in source
    start = " ".join(command(8501, REPO))
    assert start.startswith(f"{sys.executable} -m streamlit run {ENTRY} --server.port 8501")
    for flag in ("--server.fileWatcherType none", "--server.address localhost", "--browser.gatherUsageStats false",
                 "--server.headless true"):
        assert flag in start, flag
    assert start.endswith(f"-- --project {REPO}")


def test_streamlit_config_is_quiet_and_private():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["address"] == "localhost" and config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False


def test_pyproject_builds_without_a_setuptools_deprecation_warning(tmp_path):
    script = (
        "import warnings, sys\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    from setuptools import build_meta\n"
        f"    build_meta.prepare_metadata_for_build_editable({str(tmp_path)!r})\n"
        "print('\\n'.join(f'{w.category.__name__}: {w.message}' for w in seen))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    warned = [line for line in (done.stdout + done.stderr).splitlines() if "Deprecat" in line or "deprecat" in line]
    assert warned == []
    metadata = next(tmp_path.glob("*.dist-info")) / "METADATA"
    assert "License-Expression: MIT" in metadata.read_text(encoding="utf-8")


def test_the_start_here_guide_follows_the_phases_and_stays_hidden_once_hidden(make_project):
    from analysis.domain.model import PHASES
    from analysis.workbench.guide import PAGE_FILES

    project = make_project(transcripts={"a.txt": interview(3)})
    steps = project.guide.steps()
    assert [s.phase for s in steps] == ["", *PHASES]  # getting the data in, then the six phases in order
    from analysis.workbench.app import routes

    routed = {title: str(REPO / path) for path, title in routes()}
    assert {t for s in steps for t in s.pages} <= set(PAGE_FILES) and all(routed[t] == f for t, f in PAGE_FILES.items())
    assert project.guide.shown()
    events = len(project.audit_trail())
    with project.acting_as("Ana"):
        project.guide.dismiss()
    assert len(project.audit_trail()) == events  # a preference, not a change of data: nothing to undo
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    with open_project(project.path, embedder=HashingEmbedder()) as again:  # remembered in the project
        assert not again.guide.shown()
        again.guide.show_again()
    assert project.guide.shown()
