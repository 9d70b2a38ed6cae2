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


def test_storyloom_open_from_the_wheel_codes_a_passage_by_mouse(browser: Any, installed: Any, installed_demo: Path,
                                                                 tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(installed_demo, study)
    with open_project(study, embedder=HashingEmbedder(), create=False) as project:
        before = len(project.codings.codings_in(TRANSCRIPT))
    server = subprocess.Popen([str(installed.storyloom), "open", str(study), "--no-browser", "--port", str(_free_port())],
                              cwd=installed.work, env=installed.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    lines: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 180
        while not any("Storyloom is running at" in x for x in lines):
            line = server.stdout.readline()
            assert line or server.poll() is None, "".join(lines)
            lines.append(line)
            assert time.monotonic() < deadline, "".join(lines)
        url = re.search(r"running at (http://localhost:\d+)", "".join(lines))[1]  # type: ignore[index]
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
        server.send_signal(signal.SIGINT)  # Ctrl-C
        rest, _ = server.communicate(timeout=30)
    assert server.returncode == 0 and "Storyloom stopped." in rest, "".join(lines) + rest
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
    assert str(study.resolve()) in (installed.home / "recent.json").read_text(encoding="utf-8")
