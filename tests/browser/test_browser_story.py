"""The Story page in a real Chromium on the sample study: the timeline chart renders with a point per
passage linked to an event, a click on a point opens that passage in Read & code; the restorying and
chapter tabs render. Screenshots go to test-artifacts/screenshots/story-*.png."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.browser.test_browser import SHOTS, browser, settle, streamlit_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
WAIT = 240_000  # a run of the Story page reads the whole story; a busy machine may take minutes, never a failure


def open_page(page: Any, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).first.click()
    settle(page, WAIT)

# The centre of the leftmost drawn point of the chart: Vega draws on a canvas (or as SVG symbols); a point is
# a run of saturated pixels (axes, grid lines and text are grey or black).
POINT_JS = """
() => {
  const embed = document.querySelector('.vega-embed');
  if (!embed) return null;
  const symbols = [...embed.querySelectorAll('.mark-symbol.role-mark path')];
  if (symbols.length) {
    const r = symbols.map(s => s.getBoundingClientRect()).sort((a, b) => a.x - b.x)[0];
    return [r.x + r.width / 2, r.y + r.height / 2, symbols.length];
  }
  const canvas = embed.querySelector('canvas');
  if (!canvas) return null;
  const ctx = canvas.getContext('2d'), w = canvas.width, h = canvas.height;
  const data = ctx.getImageData(0, 0, w, h).data;
  const box = canvas.getBoundingClientRect(), sx = box.width / w, sy = box.height / h;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const i = (y * w + x) * 4, r = data[i], g = data[i + 1], b = data[i + 2], a = data[i + 3];
      if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 80) {
        let y2 = y;
        while (y2 + 1 < h) {
          const j = ((y2 + 1) * w + x) * 4;
          if (data[j + 3] > 200 && Math.max(data[j], data[j + 1], data[j + 2]) - Math.min(data[j], data[j + 1], data[j + 2]) > 80) y2++;
          else break;
        }
        return [box.x + (x + 4) * sx, box.y + ((y + y2) / 2) * sy, -1];
      }
    }
  }
  return null;
}
"""


def test_story_timeline_renders_and_a_click_opens_the_passage(browser: Any, sample_study_dir: Path,
                                                             tmp_path: Path) -> None:
    project_dir = tmp_path / "study"
    shutil.copytree(sample_study_dir, project_dir)
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        timeline = project.story.timeline()
        first = timeline[0]
        frame = project.explore.codings_frame().set_index("coding_id")
        (coding,) = first.codings  # the first event in story order is told in one passage
        passage = str(frame.loc[coding, "text"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    with streamlit_app(project_dir, tmp_path / "server.log") as url:
        page.goto(url)
        page.get_by_text("Coding panel").wait_for(timeout=WAIT)
        settle(page, WAIT)
        open_page(page, "Story")
        page.locator(".vega-embed").first.wait_for(timeout=WAIT)
        page.locator(".vega-embed").first.scroll_into_view_if_needed()
        settle(page, WAIT)
        page.screenshot(path=str(SHOTS / "story-timeline.png"), full_page=True)
        assert page.get_by_text("Participants place 'The transport company asks for an EV credential' at different "
                                "times").first.is_visible()
        point = page.evaluate(POINT_JS)
        assert point is not None, "the timeline chart draws no point"
        page.mouse.move(point[0], point[1])
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "story-hover.png"))
        page.mouse.click(point[0], point[1])
        # Read & code opens with the clicked passage's coding in its panel
        page.get_by_role("button", name="Uncode").first.wait_for(timeout=WAIT)
        settle(page, WAIT)
        page.screenshot(path=str(SHOTS / "story-opened.png"))
        assert point[2] == -1 or point[2] == sum(len(e.codings) for e in timeline)  # a point per linked passage
        panel = page.get_by_test_id("stSidebar").inner_text() + page.get_by_test_id("stMain").inner_text()
        assert passage[:40] in " ".join(panel.split()), passage[:40]
        open_page(page, "Story")
        page.get_by_role("tab", name="Restorying").click()
        settle(page, WAIT)
        page.screenshot(path=str(SHOTS / "story-restorying.png"), full_page=True)
        assert page.get_by_text("a gap: told by").first.is_visible()
        page.get_by_role("tab", name="Chapter").click()
        settle(page, WAIT)
        page.screenshot(path=str(SHOTS / "story-chapter.png"), full_page=True)
        assert page.get_by_text("A catalogue that arrived as a done deal").first.is_visible()
        assert page.get_by_test_id("stException").count() == 0
    assert not errors, errors
    page.close()
