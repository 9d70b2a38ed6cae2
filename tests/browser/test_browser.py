"""End to end in a real Chromium: code a passage with the mouse on Read & code, check the coding
through the Project API, find its quote on the Themes page, and screenshot every page.

Needs Debian's chromium at /usr/bin/chromium (CI installs it); without it these tests FAIL, they do
not skip. Screenshots go to test-artifacts/screenshots/<page>.png.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from analysis.offline import OFFLINE_ENV

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder

pytestmark = pytest.mark.browser

REPO = Path(__file__).absolute().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TRANSCRIPT, PASSAGE, PARTICIPANT = "academic_a.txt", "who the ākonga actually were", "Academic A"
TEST_CODE = "Browser-test code"

# Select the first occurrence of a passage inside the coder component's shadow root (a DOM Range
# over its text nodes, as a mouse drag makes), then release the mouse as the researcher would.
SELECT_JS = """
(needle) => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.text'));
  const root = host.shadowRoot, text = root.querySelector('.text');
  const at = text.textContent.indexOf(needle);           // UTF-16 offsets, as the DOM counts
  if (at < 0) return -1;
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  let pos = 0, node, start = null, end = null;
  while ((node = walker.nextNode())) {
    const len = node.data.length;
    if (start === null && at < pos + len) start = [node, at - pos];
    if (at + needle.length <= pos + len) { end = [node, at + needle.length - pos]; break; }
    pos += len;
  }
  const range = document.createRange();
  range.setStart(...start);
  range.setEnd(...end);
  text.dispatchEvent(new MouseEvent('mousedown', {bubbles: true, composed: true}));
  const selection = root.getSelection ? root.getSelection() : document.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  range.startContainer.parentElement.scrollIntoView({block: 'center'});
  text.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, composed: true}));
  return at;
}
"""


class Wire:
    """What the page sends to the server: the component's ``selected`` triggers, read off the websocket
    (the offsets exactly as the JavaScript computed them, before Python checks or snaps them)."""

    def __init__(self, page: Any) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framesent", self._sent))

    def _sent(self, payload: str | bytes) -> None:
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode("utf-8"))

    def selections(self) -> list[tuple[int, int]]:
        pattern = rb'"event":\s*"selected".*?"start":\s*(\d+),\s*"end":\s*(\d+)'
        return [(int(a), int(b)) for a, b in re.findall(pattern, b"".join(self.frames), flags=re.S)]


# Where a passage's first and last characters are on screen, to drag over it with the real mouse.
EDGES_JS = """
(needle) => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.text'));
  const text = host.shadowRoot.querySelector('.text');
  const at = text.textContent.indexOf(needle);
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  const rectAt = (offset) => {             // the box of the UTF-16 unit at `offset`
    walker.currentNode = text;
    let pos = 0, node;
    while ((node = walker.nextNode())) {
      if (offset < pos + node.data.length) {
        const r = document.createRange();
        r.setStart(node, offset - pos);
        r.setEnd(node, offset - pos + 1);
        return r.getBoundingClientRect();
      }
      pos += node.data.length;
    }
  };
  rectAt(at) && walker.currentNode.parentElement.scrollIntoView({block: 'center'});
  const first = rectAt(at), last = rectAt(at + needle.length - 1);
  return [first.left + 1, first.top + first.height / 2, last.right - 1, last.top + last.height / 2];
}
"""


def drag_over(page: Any, passage: str) -> None:
    """Select ``passage`` as a researcher does: press before its first letter, drag, release after its last."""
    x1, y1, x2, y2 = page.evaluate(EDGES_JS, passage)
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=5)
    page.mouse.move(x2, y2, steps=5)
    page.mouse.up()
    page.get_by_text("Code the selection").wait_for(timeout=15_000)
    settle(page)


def _pages() -> list[tuple[str, str]]:
    """(file stem, title) of every page the router (analysis/workbench/app.py) registers, in its order."""
    from analysis.workbench.app import routes

    return [(Path(path).stem, title) for path, title in routes()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_app(project: Path, log: Path, root: Path = REPO) -> Iterator[str]:
    """``streamlit run app.py -- --project PROJECT`` on a free port; killed however the test ends.
    ``root``: the checkout whose app.py runs (benchmarks/browser.py compares two)."""
    port = _free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--", "--project", str(project)],
            cwd=root, env={**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(root)},
            stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                if server.poll() is not None:
                    pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not answer within 90 s:\n{log.read_text()}")
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    "(apt-get install chromium). CI installs it; install it to run them here.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def settle(page: Any, timeout: float = 30_000) -> None:
    """Wait until the app has finished its current run."""
    page.wait_for_timeout(250)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(250)


def open_page(page: Any, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).first.click()
    settle(page)


def choose(page: Any, label: str, typed: str) -> None:
    """Pick an option of the selectbox labelled ``label`` by typing (its type-ahead), then Enter."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).last
    box.click()
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    settle(page)


def select_passage(page: Any, passage: str) -> None:
    assert page.evaluate(SELECT_JS, passage) >= 0, f"{passage!r} is not in the transcript shown"
    page.get_by_text("Code the selection").wait_for(timeout=15_000)
    settle(page)


def code_selection(page: Any, project_dir: Path) -> str:
    """Apply an existing code (by type-ahead on its path), or create TEST_CODE if the codebook is empty.
    Returns the code's top-level theme."""
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        codes, paths = project.codebook.codes(), project.codebook.code_paths()
    if codes:
        leaf = next((c for c in reversed(codes) if c.kind == "code"), codes[-1])
        choose(page, "Code", paths[leaf.id])
        page.get_by_role("button", name="Apply code").click()
        return paths[leaf.id].split(" > ")[0]
    if not page.get_by_label("New code name").is_visible():  # the form opens by itself on an empty codebook
        page.get_by_text("Create a new code and apply it").click()
    page.get_by_label("New code name").fill(TEST_CODE)
    page.get_by_label("Definition").fill("A passage coded by the browser test.")
    page.get_by_role("button", name="Create code and apply").click()
    return TEST_CODE


def test_code_with_the_mouse_then_find_the_quote_on_themes(browser: Any, sample_study_dir: Path, tmp_path: Path) -> None:
    project_dir = tmp_path / "study"
    shutil.copytree(sample_study_dir, project_dir)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    wire = Wire(page)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    with streamlit_app(project_dir, tmp_path / "server.log") as url:
        page.goto(url)
        page.get_by_text("Coding panel").wait_for(timeout=60_000)
        settle(page)
        choose(page, "Transcript", PARTICIPANT)
        select_passage(page, PASSAGE)
        page.screenshot(path=str(SHOTS / "read_code-selection.png"))
        theme = code_selection(page, project_dir)
        page.get_by_text("Coding panel").wait_for(timeout=15_000)
        settle(page)

        with open_project(project_dir, embedder=HashingEmbedder()) as project:
            text = project.transcripts.get(TRANSCRIPT).text
            mine = [c for c in project.codings.codings_in(TRANSCRIPT) if c.text == PASSAGE]
        start = text.index(PASSAGE)
        assert wire.selections() == [(start, start + len(PASSAGE))]  # sent by the JS, in code points
        assert [(c.start, c.end) for c in mine] == [(start, start + len(PASSAGE))], mine
        assert "ā" in mine[0].text  # the macron came through the browser intact

        # Click the new highlight: the panel shows the coding, with Uncode and its memo.
        page.locator("[data-testid=storyloom-transcript] .c").filter(has_text="actually").first.click()
        page.get_by_role("button", name="Uncode").first.wait_for(timeout=15_000)
        settle(page)
        page.screenshot(path=str(SHOTS / "read_code.png"))

        for stem, title in _pages():
            if stem == "read_code":
                continue
            open_page(page, title)
            if stem == "themes":
                choose(page, "Theme or code", theme)
                choose(page, "Participant", PARTICIPANT)
                quote = page.get_by_text(PASSAGE).first
                quote.wait_for(timeout=15_000)
                quote.scroll_into_view_if_needed()
                assert quote.is_visible()
            page.screenshot(path=str(SHOTS / f"{stem}.png"))
            assert page.get_by_test_id("stException").count() == 0, f"{title} shows an exception"
    assert not errors, errors
    # Nothing leaves the machine: every request the page made (favicon, fonts, icons included) went to
    # the app's own server.
    own = urllib.parse.urlsplit(url).netloc
    elsewhere = sorted({r for r in requested if urllib.parse.urlsplit(r).scheme in ("http", "https", "ws", "wss")
                        and urllib.parse.urlsplit(r).netloc != own})
    assert requested and elsewhere == [], elsewhere
    page.close()


EMOJI_INTERVIEW = """Interviewer: Can you tell me about the micro-credential? 🧶

Leader A: The ākonga were afraid of failing 😬 again after years away. Pūkenga 👩🏽‍🏫 helped.
We met in Ōtautahi.

Interviewer: And then?

Leader A: The approval took fourteen months.
"""


@pytest.mark.parametrize(("passage", "how"), [("again after years away", "range"),
                                              ("helped.\nWe met in Ōtautahi", "drag")])
def test_offsets_after_emoji_and_macrons_are_code_points(browser: Any, tmp_path: Path, passage: str, how: str) -> None:
    """Emoji (two UTF-16 units, or several code points) before a selection must not shift it, whether
    the selection is a DOM Range or a real mouse drag across a line break."""
    folder = tmp_path / "emoji"
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / "interview.txt").write_text(EMOJI_INTERVIEW, encoding="utf-8")
    with open_project(folder, embedder=HashingEmbedder()) as project:
        project.sync()
        project.codebook.add_code("Fear")
        text = project.transcripts.get("interview.txt").text
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    wire = Wire(page)
    with streamlit_app(folder, tmp_path / "server.log") as url:
        page.goto(url)
        page.get_by_text("Coding panel").wait_for(timeout=60_000)
        settle(page)
        page.get_by_test_id("stCheckbox").filter(has_text="Snap to words").click()  # exactly the drag, no snapping
        settle(page)
        if how == "drag":
            drag_over(page, passage)
        else:
            select_passage(page, passage)
        choose(page, "Code", "Fear")
        page.get_by_role("button", name="Apply code").click()
        page.get_by_text("Coding panel").wait_for(timeout=15_000)
    page.close()
    with open_project(folder, embedder=HashingEmbedder()) as project:
        codings = project.codings.codings_in("interview.txt")
    start = text.index(passage)
    utf16 = len(text[:start].encode("utf-16-le")) // 2
    assert utf16 > start  # the emoji before it: naive DOM offsets would be off
    assert wire.selections() == [(start, start + len(passage))]  # the JS sent code points
    assert [(c.start, c.end, c.text) for c in codings] == [(start, start + len(passage), passage)]
