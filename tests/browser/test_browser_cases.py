"""The Cases page in a real Chromium (issue 12): select a coded passage on Read & code, open Cases, click
a cell of the matrix grid with the mouse, judge it with one click, attach the Read & code selection as its
evidence with one click, and check both in the database. Screenshots: test-artifacts/screenshots/cases*.png.

Needs Debian's chromium at /usr/bin/chromium, as tests/browser/test_browser.py (whose helpers this reuses)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.browser.test_browser import SHOTS, browser, choose, open_page, select_passage, settle, streamlit_app  # noqa: F401
from analysis.workbench.case_grid import ROW_HEIGHT, widths

pytestmark = pytest.mark.browser

CASE, CONDITION = "Drone inspection for the lines company", "Useful on the job"  # not judged in the sample
PASSAGE = "And the lines company, like everybody, just... froze."  # coded, in Professional B's interview


def click_cell(page: Any, row: int, column: int, case_width: int, cell_width: int) -> None:
    """Click the grid's cell at ``row`` (0: the first case) and ``column`` (0: the first condition) with the
    mouse, from the grid's widths (analysis/workbench/case_grid.py: the case column, then the cells; a header row on top)."""
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    x = box["x"] + case_width + column * cell_width + cell_width / 2
    y = box["y"] + ROW_HEIGHT + row * ROW_HEIGHT + ROW_HEIGHT / 2
    assert x < box["x"] + box["width"] and y < box["y"] + box["height"], "the cell is outside the grid's view"
    page.mouse.click(x, y)
    settle(page)


def test_judge_a_cell_by_mouse_and_attach_the_read_code_selection(browser: Any, sample_study_dir: Path,
                                                                     tmp_path: Path) -> None:
    project_dir = tmp_path / "study"
    shutil.copytree(sample_study_dir, project_dir)
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        m = project.cases.matrix()
        row = [c.name for c in m.cases].index(CASE)
        conds = [c for c in m.conditions if not c.is_outcome] + [c for c in m.conditions if c.is_outcome]
        column = [c.name for c in conds].index(CONDITION)
        case_width, cell_width = widths(m)
        assert m.value(CASE, CONDITION) is None
        text = project.transcripts.get("professional_b.md").text
        start = text.index(PASSAGE)
        under = project.cases.codings_in_selection("professional_b.md", start, start + len(PASSAGE))
    assert under, "the passage is coded in the sample study"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    with streamlit_app(project_dir, tmp_path / "server.log") as url:
        page.goto(url)
        page.get_by_text("Coding panel").wait_for(timeout=60_000)
        settle(page)
        choose(page, "Transcript", "Professional B")
        select_passage(page, PASSAGE)

        open_page(page, "Cases")
        page.get_by_text("Type into the grid").wait_for(timeout=30_000)
        click_cell(page, row, column, case_width, cell_width)
        heading = page.get_by_role("heading", name=f"{CASE} × {CONDITION}")
        heading.wait_for(timeout=15_000)  # the click chose that cell
        page.screenshot(path=str(SHOTS / "cases.png"), full_page=True)
        page.get_by_role("button", name="✗ Absent").click()
        settle(page)
        with open_project(project_dir, embedder=HashingEmbedder()) as project:
            cell = project.cases.matrix().cells[(CASE, CONDITION)]
        assert cell.value == 0.0 and cell.origin == "researcher"

        page.get_by_role("button", name="Attach from Read & code").click()
        settle(page)
        page.get_by_text("Evidence of this cell").first.wait_for(timeout=15_000)
        page.get_by_text("froze").first.wait_for(timeout=15_000)
        page.screenshot(path=str(SHOTS / "cases-cell.png"), full_page=True)
        with open_project(project_dir, embedder=HashingEmbedder()) as project:
            cell = project.cases.matrix().cells[(CASE, CONDITION)]
            case = project.cases.get(CASE)
            trail = [e.action for e in project.audit_trail(action="case.*")][-2:]
        assert cell.value == 0.0 and set(under) <= set(cell.evidence) and set(under) <= set(case.evidence)
        assert trail == ["case.cell.set", "case.cell.evidence"]

        page.get_by_role("tab", name="Compare").click()
        settle(page)
        page.get_by_text("separates the cases with").first.wait_for(timeout=15_000)
        page.screenshot(path=str(SHOTS / "cases-compare.png"), full_page=True)
        assert page.get_by_test_id("stException").count() == 0
    assert not errors, errors
    page.close()
