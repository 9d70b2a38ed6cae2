"""Start working before the embeddings are done (issue 26 item 3), in a real Chromium: while only part of
the project is embedded, the Assist page says how much semantic search covers ("Semantic search covers 31 %
of segments so far"), and keyword search finds the words of a transcript that has no vector yet. The
server runs with background embedding off, so the partial state holds still while the page is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import MiniLMEmbedder
from tests.browser.test_browser import browser, open_page, settle, streamlit_app  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.browser


def interview(n: int, who: str, topic: str) -> str:
    body = " ".join(f"In week {i} the {topic} of {who} met mentor number {i * 7 + 3}." for i in range(n))
    return f"Interviewer: Tell me about it.\n\n{who}: {body}\n"


def test_assist_page_shows_the_coverage_line_while_embedding_is_partial(
        browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    folder = tmp_path / "study"
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / "a.txt").write_text(interview(29, "Leader A", "cohort"), encoding="utf-8")
    with open_project(folder, embedder=MiniLMEmbedder()) as project:  # the model the app runs
        project.sync()  # a.txt embedded: 30 segments
        (folder / "transcripts" / "b.txt").write_text(interview(69, "Leader B", "whanau"), encoding="utf-8")
        report = project.sync(wait=False)  # b.txt stored and segmented, its 69 sentences waiting
        assert report["embedding_pending"] == 69
        assert project.assist.coverage().percent == 31
    monkeypatch.setenv("STORYLOOM_EMBED_IN_BACKGROUND", "0")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    with streamlit_app(folder, tmp_path / "server.log") as url:
        page.goto(url)
        page.get_by_test_id("stSidebarNav").wait_for(timeout=60_000)
        settle(page)
        open_page(page, "Assist")
        line = page.get_by_text("Semantic search covers 31 % of segments so far (31 of 100)")
        line.wait_for(timeout=30_000)
        assert "Keyword search covers every segment" in line.inner_text()
        page.get_by_text("Background embedding is off here").wait_for(timeout=10_000)
        form = page.locator(".st-key-as_search_query")
        form.locator("input").fill("whanau")
        page.get_by_text("Exact words (keyword)", exact=True).first.click()
        page.get_by_test_id("stBaseButton-primaryFormSubmit").filter(has_text="Search").first.click()
        settle(page)
        page.get_by_text("the whanau of Leader B met mentor number", exact=False).first.wait_for(timeout=30_000)
        assert page.get_by_test_id("stException").count() == 0
    with open_project(folder, embedder=MiniLMEmbedder()) as project:  # nothing changed behind the page
        assert project.assist.coverage().percent == 31
    assert not errors, errors
