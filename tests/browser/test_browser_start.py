"""A researcher's first start, in a real Chromium (issue 15 items 8-10, issue 13 item 7): the sample
project opens on the "Start here" guide, which stays hidden once hidden; the Project page's sync shows a
bar per stage while it embeds; an export refused on the Vignettes page says what to do in the
researcher's words (no Python argument, the code on a details line); no request leaves the machine;
and the README tour's screenshots are taken here (docs/screenshots/, kept small).
"""

from __future__ import annotations

import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.browser.test_browser import browser, open_page, settle, streamlit_app  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.browser

REPO = Path(__file__).absolute().parents[2]
DOCS = REPO / "docs" / "screenshots"
NEW = "professional_c.txt"


def shot(page: Any, name: str) -> Path:
    """A screenshot for the README, made small: 256 colours, optimised PNG."""
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def new_interview(n: int) -> str:
    body = " ".join(f"In week {i} our cohort met mentor number {i * 7 + 3} at the training room." for i in range(n))
    return f"Interviewer: How did the programme run?\n\nProfessional C: {body}\n"


def test_first_start_guide_progress_messages_and_screenshots(browser: Any, sample_study_dir: Path,  # noqa: F811
                                                             tmp_path: Path) -> None:
    project_dir = tmp_path / "study"
    shutil.copytree(sample_study_dir, project_dir)
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        coding = int(project.explore.codings_frame()["coding_id"].iloc[0])
        v = project.vignettes.create("Unfinished vignette", participant=None)
        project.vignettes.add_narrative(v.id, "[Narrative: write this paragraph in your own words.]")
        project.vignettes.add_quote(v.id, coding=coding)
        assert project.guide.shown()
    (project_dir / "transcripts" / NEW).write_text(new_interview(400), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requested.append(ws.url))
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    with streamlit_app(project_dir, tmp_path / "server.log") as url:
        page.goto(url)
        guide = page.locator(".st-key-start-here")
        guide.wait_for(timeout=60_000)
        page.get_by_text("Coding panel").wait_for(timeout=60_000)  # the Read & code page below it, drawn
        settle(page)
        for phase in ("Before you start", "1. Familiarising", "2. Coding", "6. Writing up"):
            assert guide.get_by_text(phase).count() == 1, phase
        shot(page, "1-start-here")

        # Hidden once, hidden for good in this project (a reload, another page), until asked back.
        guide.get_by_role("button", name="Hide").click()
        guide.wait_for(state="detached", timeout=30_000)
        settle(page)
        page.reload()
        page.get_by_test_id("stSidebarNav").wait_for(timeout=60_000)
        settle(page)
        assert page.locator(".st-key-start-here").count() == 0

        # The Project page's sync stores and segments the new interview (a bar per stage while it runs), then
        # says what it did; its sentences are embedded in the background (issue 26), a bar at the top of the
        # page until the last vector is in.
        open_page(page, "Project")
        page.get_by_role("button", name="Sync transcripts/ folder").click()
        page.get_by_text("Transcripts: 1 added").wait_for(timeout=300_000)
        shot(page, "5-project-sync")
        page.get_by_text("in the background: transcripts are readable").wait_for(state="hidden", timeout=300_000)
        assert page.get_by_text("Embedding stopped").count() == 0
        settle(page)

        # An export that cannot go yet says what to do, in the researcher's words.
        open_page(page, "Vignettes")
        page.get_by_role("tab", name="Preview & export").click()
        settle(page)
        alert = page.get_by_test_id("stAlertContentError").filter(has_text="placeholder paragraphs").first
        alert.wait_for(timeout=15_000)
        text = alert.inner_text()
        assert "tick 'Allow a draft'" in text and "Details: SL3105" in text
        assert "allow_draft" not in text and "[SL" not in text and "disclosure=False" not in text
        shot(page, "4-vignettes-message")

        for title, name in (("Read & code", "2-read-code"), ("Themes", "3-themes")):
            open_page(page, title)
            shot(page, name)

        open_page(page, "Project")
        page.get_by_role("button", name="Show the Start here guide again").wait_for(timeout=60_000)
        assert page.get_by_test_id("stException").count() == 0
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        assert not project.guide.shown() and NEW in [t.name for t in project.transcripts.list()]
    assert not errors, errors
    # Nothing leaves the machine: every request and websocket of every page and frame went to the app.
    own = urllib.parse.urlsplit(url).netloc
    elsewhere = sorted({r for r in requested if urllib.parse.urlsplit(r).scheme in ("http", "https", "ws", "wss")
                        and urllib.parse.urlsplit(r).netloc != own})
    assert requested and any(r.startswith("ws") for r in requested) and elsewhere == [], elsewhere
    for png in DOCS.glob("*.png"):
        assert png.stat().st_size < 250_000, png  # small enough to commit
    context.close()
