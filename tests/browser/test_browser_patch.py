"""Issue 26 item 1 in a real Chromium: applying a code, uncoding and undoing patch the coder's text in place
(only the blocks whose html changed are replaced, and only their highlights are measured for the stripes),
and leave exactly the DOM a full render draws: after each step the transcript's html and every coding
stripe (its coding, name, top, height and lane) equal those of a fresh page opened on the same transcript,
also after switching transcripts. The patch is seen to happen: blocks the change did not touch are the
same DOM elements as before it.

Needs /usr/bin/chromium (fails without).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.browser.test_browser import browser, choose, code_selection, select_passage, settle, streamlit_app

__all__ = ["browser"]  # the Chromium fixture of tests/browser/test_browser.py, shared

pytestmark = pytest.mark.browser

FIRST_NAME, FIRST_PARTICIPANT = "academic_a.txt", "Academic A"
FIRST, SECOND = "Honestly, mixed.", "I wasn't against the idea."  # adjacent sentences, uncoded in the sample
OTHER_NAME = "leader_a.docx"

HOST = "[...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.text')).shadowRoot"

# What a render leaves: the transcript's html, and each stripe as drawn (inline style: from the page's top).
DOM_JS = """() => { const root = %s, text = root.querySelector('.text');
  return {html: text.innerHTML, blocks: text.children.length,
          stripes: [...root.querySelectorAll('.stripes .stripe')].map(s => [s.dataset.c, s.title, s.textContent,
                    s.style.top, s.style.height, s.style.left]),
          width: root.querySelector('.stripes').style.width}; }""" % HOST

# Tag every block element; later, count the tagged ones still in the text (a patch keeps the untouched ones).
TAG_JS = "() => { for (const b of %s.querySelector('.text').children) b.__kept = true; }" % HOST
KEPT_JS = "() => [...%s.querySelector('.text').children].filter(b => b.__kept).length" % HOST

HAS_JS = """([needle, coded]) => { const root = %s;
  const hit = [...root.querySelectorAll('.text .c')].some(c => c.textContent.includes(needle));
  return hit === coded; }""" % HOST


def _page(browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.errors = errors
    return page


def _open(page: Any, url: str, participant_or_name: str) -> None:
    page.goto(url)
    page.get_by_text("Coding panel").wait_for(timeout=60_000)
    settle(page)
    choose(page, "Transcript", participant_or_name)


def _fresh(browser: Any, url: str, transcript: str) -> dict[str, Any]:
    """What a full render shows: a new page (a new session) opened on ``transcript``."""
    page = _page(browser)
    try:
        _open(page, url, transcript)
        dom: dict[str, Any] = page.evaluate(DOM_JS)
        assert not page.errors, page.errors
        return dom
    finally:
        page.close()


def _patched(page: Any, do: Any, needle: str, coded: bool) -> dict[str, Any]:
    """Do ``do`` (a click that changes the codings) on a page showing the text; check it patched the text
    (some blocks are the very elements they were) and return the DOM it left."""
    page.evaluate(TAG_JS)
    blocks = page.evaluate(DOM_JS)["blocks"]
    do()
    page.wait_for_function(HAS_JS, arg=[needle, coded], timeout=30_000)
    settle(page)
    kept = page.evaluate(KEPT_JS)
    assert 0 < kept < blocks, f"{kept} of {blocks} blocks kept: the text was replaced, not patched"
    dom: dict[str, Any] = page.evaluate(DOM_JS)
    assert dom["blocks"] == blocks
    return dom


def _same(patched: dict[str, Any], fresh: dict[str, Any]) -> None:
    assert patched["html"] == fresh["html"]
    assert patched["stripes"] == fresh["stripes"]
    assert patched["width"] == fresh["width"]


def _uncoded(folder: Path, name: str) -> str:
    """A five-word passage of ``name`` that no coding touches and that occurs once."""
    with open_project(folder, embedder=HashingEmbedder()) as project:
        text = project.transcripts.get(name).text
        coded = [(c.start, c.end) for c in project.codings.codings_in(name)]
        for turn in project.transcripts.turns(name):
            words = text[turn.start:turn.end].split()
            for lo in range(1, max(1, len(words) - 6), 3):
                passage = " ".join(words[lo:lo + 5])
                at = text.find(passage)
                if (len(passage) > 20 and passage.isascii() and text.count(passage) == 1
                        and not any(a < at + len(passage) and b > at for a, b in coded)):
                    return passage
    raise AssertionError(f"no uncoded passage in {name}")


def test_apply_uncode_and_undo_patch_the_text_to_what_a_full_render_draws(
        browser: Any, sample_study_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "study"
    shutil.copytree(sample_study_dir, folder)
    other = _uncoded(folder, OTHER_NAME)
    page = _page(browser)
    with streamlit_app(folder, tmp_path / "server.log") as url:
        _open(page, url, FIRST_PARTICIPANT)

        # Apply a code, then the same code beside it (one theme: an edge between them, the block may reflow).
        def apply(passage: str) -> Any:
            def go() -> None:
                select_passage(page, passage)
                code_selection(page, folder)
            return go

        _same(_patched(page, apply(FIRST), FIRST, True), _fresh(browser, url, FIRST_PARTICIPANT))
        _same(_patched(page, apply(SECOND), SECOND, True), _fresh(browser, url, FIRST_PARTICIPANT))

        # Open the first highlight (marked "on": a patch too), uncode it.
        def uncode() -> None:
            page.locator("[data-testid=storyloom-transcript] .c").filter(has_text=FIRST).first.click()
            page.get_by_role("button", name="Uncode").first.wait_for(timeout=15_000)
            settle(page)
            page.get_by_role("button", name="Uncode").first.click()

        _same(_patched(page, uncode, FIRST, False), _fresh(browser, url, FIRST_PARTICIPANT))

        # Undo the uncoding: the highlight and its stripe come back.
        undo = page.get_by_test_id("stSidebar").get_by_role("button", name="↶ Undo")
        _same(_patched(page, undo.click, FIRST, True), _fresh(browser, url, FIRST_PARTICIPANT))

        # Another transcript (the whole text replaced), then a patch there, and its undo.
        choose(page, "Transcript", OTHER_NAME)
        page.wait_for_function("(n) => %s.querySelector('.text').textContent.includes(n)" % HOST, arg=other)
        _same(page.evaluate(DOM_JS), _fresh(browser, url, OTHER_NAME))
        _same(_patched(page, apply(other), other, True), _fresh(browser, url, OTHER_NAME))
        _same(_patched(page, undo.click, other, False), _fresh(browser, url, OTHER_NAME))
        assert not page.errors, page.errors
    page.close()
