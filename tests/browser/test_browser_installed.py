"""What a user installs, in a real Chromium (issue 23): ``storyloom open --no-browser`` from the fresh
virtual environment of the ``installed`` fixture (tests/conftest.py: the wheel built from the sdist, no
checkout in sight) on the study ``storyloom demo`` set up; the page renders, a passage is coded by mouse,
the coding is in the project; Ctrl-C stops the server. A package-data file missing from the wheel fails here.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.browser.test_browser import PARTICIPANT, PASSAGE, TRANSCRIPT, browser, choose, code_selection, select_passage, settle  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.install]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _open(installed: Any, *args: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``storyloom open ARGS --no-browser`` from the installed environment; its address once it answers."""
    server = subprocess.Popen([str(installed.storyloom), "open", *args, "--no-browser", "--port", str(_free_port())],
                              cwd=installed.work, env=installed.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    lines: list[str] = []
    assert server.stdout is not None
    deadline = time.monotonic() + 180
    while not any("Storyloom is running at" in x for x in lines):
        line = server.stdout.readline()
        if not line and server.poll() is not None:
            pytest.fail("".join(lines))
        lines.append(line)
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail("".join(lines))
    return server, re.search(r"running at (http://localhost:\d+)", "".join(lines))[1], lines  # type: ignore[index]


def _stop(server: subprocess.Popen[str]) -> str:
    server.send_signal(signal.SIGINT)  # Ctrl-C
    rest, _ = server.communicate(timeout=30)
    return rest


def test_storyloom_open_from_the_wheel_codes_a_passage_by_mouse(browser: Any, installed: Any, installed_demo: Path,
                                                                 tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(installed_demo, study)
    with open_project(study, embedder=HashingEmbedder(), create=False) as project:
        before = len(project.codings.codings_in(TRANSCRIPT))
    server, url, lines = _open(installed, str(study))
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(url)
        page.get_by_text("Coding panel").wait_for(timeout=90_000)
        settle(page)
        assert page.get_by_test_id("stException").count() == 0
        choose(page, "Transcript", PARTICIPANT)
        select_passage(page, PASSAGE)  # the coder component (its JS and CSS from the wheel) answers the mouse
        code_selection(page, study)
        page.get_by_text("Coding panel").wait_for(timeout=15_000)
        settle(page)
        with open_project(study, embedder=HashingEmbedder(), create=False) as project:
            after = project.codings.codings_in(TRANSCRIPT)
        mine = [c for c in after if c.text == PASSAGE and c.coder == "Test Researcher"]
        assert len(after) == before + 1 and len(mine) == 1, (before, mine)
        assert not errors, errors
        page.close()
    finally:
        rest = _stop(server)
    assert server.returncode == 0 and "Storyloom stopped." in rest, "".join(lines) + rest
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
    assert str(study.resolve()) in (installed.home / "recent.json").read_text(encoding="utf-8")


def test_the_start_screen_from_the_wheel_creates_a_project_only_when_asked(browser: Any, installed: Any,
                                                                            tmp_path: Path) -> None:
    folder = tmp_path / "new study"
    server, url, lines = _open(installed)  # in installed.work: no project there, none named
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        page.get_by_text("Try the sample study").wait_for(timeout=90_000)
        settle(page)
        assert page.get_by_test_id("stSidebarNav").count() == 0  # no pages to list before there is a project
        assert not (installed.work / "project.db").exists()
        page.get_by_role("textbox", name="Folder").fill(str(folder))
        page.get_by_role("textbox", name="Folder").press("Enter")
        settle(page)
        page.get_by_role("button", name="Create project").click()
        page.get_by_text("No transcripts yet").wait_for(timeout=60_000)
        settle(page)
        assert (folder / "project.db").is_file() and (folder / "transcripts").is_dir()
        assert page.get_by_test_id("stSidebarNav").get_by_role("link", name="Codebook").count() == 1
        page.close()
    finally:
        rest = _stop(server)
    assert "Storyloom stopped." in rest, "".join(lines) + rest
