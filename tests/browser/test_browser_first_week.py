"""Issue 15 items 3-6 in a real Chromium, on the sample study, as a researcher would do them.

Read & code: line numbers in the margin match the panel's "line N"; coding stripes with the code
names (toggled off and on); a visible edge between two adjacent codings of one theme, whose
sub-codes show two shades of the theme's colour; coding by keyboard (drag, C, type, Enter). Undo: the
history lists the action and its researcher; undoing a bulk import asks first, naming it. Themes and
Participants: every quote of a theme reachable (pages, Show all), each opening its transcript at
that place, quote text at WCAG AA contrast measured from the computed colours, filters that keep
each other and survive the jump. Assist: interviewer turns out of search unless asked, no code
chosen before the researcher picks one, hits placed by line and timestamp.

Screenshots: test-artifacts/screenshots/first-week-*.png. Needs /usr/bin/chromium (fails without).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.domain.explore import line_at, line_starts
from tests.browser.test_browser import SHOTS, browser, choose, drag_over, open_page, settle, streamlit_app

__all__ = ["browser"]  # the Chromium fixture of tests/browser/test_browser.py, shared

pytestmark = pytest.mark.browser

TRANSCRIPT, PARTICIPANT = "academic_a.txt", "Academic A"
THEME = "Designed for the institution, not the learner"
FIRST, SECOND = "Honestly, mixed.", "I wasn't against the idea."  # adjacent sentences, uncoded in the sample
BY_KEYBOARD = "Short, flexible learning for people in work"

HOST = "[...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.text')).shadowRoot"

# The rectangle of the first character of `needle` in the transcript, and the line-number markers.
LINE_JS = """
(needle) => {
  const root = %s, text = root.querySelector('.text');
  const at = text.textContent.indexOf(needle);
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  let pos = 0, node, rect = null;
  while ((node = walker.nextNode())) {
    if (at < pos + node.data.length) {
      const r = document.createRange(); r.setStart(node, at - pos); r.setEnd(node, at - pos + 1);
      node.parentElement.scrollIntoView({block: 'center'});
      rect = r.getBoundingClientRect(); break;
    }
    pos += node.data.length;
  }
  const marks = [...root.querySelectorAll('.ln')].map(m => {
    const b = m.getBoundingClientRect();
    return [Number(m.dataset.l), b.top, b.bottom, b.right, getComputedStyle(m, '::before').content];
  });
  return {top: rect.top, bottom: rect.bottom, left: rect.left, marks};
}
""" % HOST

STRIPES_JS = """() => [...%s.querySelectorAll('.stripes .stripe')].map(s => [s.dataset.c, s.textContent,
  s.getBoundingClientRect().height])""" % HOST

# Between two codings: the edge markers there, with their computed border and box.
EDGE_JS = """
([a, b]) => {
  const root = %s;
  const first = root.querySelector(`.text .c[data-c~="${a}"]`), second = root.querySelector(`.text .c[data-c~="${b}"]`);
  const fa = first.getBoundingClientRect(), sb = second.getBoundingClientRect();
  const edges = [...root.querySelectorAll('.text .edge')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.left >= fa.right - 4 && r.right <= sb.left + 4 && Math.abs(r.top - sb.top) < sb.height;
  }).map(e => [getComputedStyle(e).borderLeftWidth, getComputedStyle(e).borderLeftColor, e.getBoundingClientRect().height]);
  return {edges, colours: [getComputedStyle(first).backgroundColor, getComputedStyle(second).backgroundColor]};
}
""" % HOST

# Where the clicked (".on") coding is, and the transcript box's visible area.
FOCUS_JS = """() => { const root = %s, box = root.querySelector('.scroll').getBoundingClientRect();
  const on = root.querySelector('.text .on'); if (!on) return null; const r = on.getBoundingClientRect();
  return [r.top, r.bottom, box.top, box.bottom, on.textContent]; }""" % HOST

# The text colour of each element as painted: its colour, the product of its and its ancestors'
# opacity, and the first opaque background behind it.
COLOURS_JS = """
(selector) => [...document.querySelectorAll(selector)].slice(0, 30).map(el => {
  let alpha = 1, bg = null;
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const s = getComputedStyle(n);
    alpha *= Number(s.opacity);
    const m = s.backgroundColor.match(/[\\d.]+/g).map(Number);
    if (!bg && (m.length < 4 || m[3] > 0.99) && !(m.length === 4 && m[3] === 0)) bg = m.slice(0, 3);
  }
  const fg = getComputedStyle(el).color.match(/[\\d.]+/g).map(Number);
  return {fg, alpha: alpha * (fg.length > 3 ? fg[3] : 1), bg: bg || [255, 255, 255], text: el.textContent.slice(0, 50)};
})
"""


# What each selectbox of the page shows: its label and its current value.
SELECTED_JS = """() => Object.fromEntries([...document.querySelectorAll('[data-testid=stMain] [data-testid=stSelectbox]')]
  .map(b => [b.querySelector('label').textContent.trim(),
             (b.querySelector('input') && b.querySelector('input').value) || b.textContent.trim()]))"""


def contrast(fg: list[float], alpha: float, bg: list[float]) -> float:
    """WCAG 2 contrast ratio of text ``fg`` (painted at ``alpha``) over ``bg``."""
    painted = [f * alpha + b * (1 - alpha) for f, b in zip(fg[:3], bg)]

    def luminance(rgb: list[float]) -> float:
        c = [v / 255 for v in rgb]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(painted), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _study(sample_study_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(sample_study_dir, folder)
    return folder


def _page(browser: Any) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    return page, errors


def _start_on(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_text("Coding panel").wait_for(timeout=60_000)
    settle(page)


def _no_exception(page: Any) -> None:
    assert page.get_by_test_id("stException").count() == 0


def test_read_and_code_lines_stripes_edges_keyboard_and_undo(browser: Any, sample_study_dir: Path,
                                                             tmp_path: Path) -> None:
    folder = _study(sample_study_dir, tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with open_project(folder, embedder=HashingEmbedder()) as project:
        text = project.transcripts.get(TRANSCRIPT).text
        codes = {c.name: c for c in project.codebook.codes()}
        with project.acting_as("Setup"):  # another researcher: the UI's undo leaves these alone
            a = project.codings.add_coding(transcript=TRANSCRIPT, start=text.index(FIRST),
                                           end=text.index(FIRST) + len(FIRST), code=codes["Starting from the product"].id)
            b = project.codings.add_coding(transcript=TRANSCRIPT, start=text.index(SECOND),
                                           end=text.index(SECOND) + len(SECOND),
                                           code=codes["Reaching the already-served"].id)
        live = [c for c in project.codings.codings_in(TRANSCRIPT) if not c.orphaned]
        bulk = project.can_undo()
        # the sample's imports on sync, newest first: its story file, its cases file, then its 318 codings
        chain = [e.summary for e in project.undo_history()
                 if e.action in ("event.file.import", "case.file.import", "codings.import")]
        assert bulk is not None and bulk.action == "event.file.import" and project.is_bulk(bulk)
    assert len(chain) == 3 and chain[0] == bulk.summary and chain[2].startswith("Imported 318 codings")
    page, errors = _page(browser)
    with streamlit_app(folder, tmp_path / "server.log") as url:
        _start_on(page, url)
        choose(page, "Transcript", PARTICIPANT)

        # Line numbers: the margin number beside the passage is the panel's "line N".
        where = page.evaluate(LINE_JS, FIRST)
        line = line_at(line_starts(text), text.index(FIRST))
        beside = [m for m in where["marks"] if m[1] < where["bottom"] and m[2] > where["top"] - 2]
        assert [m[0] for m in beside] == [line] and beside[0][3] <= where["left"]  # in the margin, on that line
        assert beside[0][4] == "attr(data-l)" or str(line) in beside[0][4]

        # Stripes: one per coding, named by its code; toggled off, none; on again.
        stripes = page.evaluate(STRIPES_JS)
        names = {c.name for c in codes.values()}
        assert sorted(int(s[0]) for s in stripes) == sorted(c.id for c in live)
        assert all(s[1] in names and s[2] > 0 for s in stripes)
        page.screenshot(path=str(SHOTS / "first-week-stripes.png"))
        page.get_by_test_id("stCheckbox").filter(has_text="Code stripes").click()
        settle(page)
        assert page.evaluate(STRIPES_JS) == []
        page.get_by_test_id("stCheckbox").filter(has_text="Code stripes").click()
        settle(page)
        assert len(page.evaluate(STRIPES_JS)) == len(live)

        # Two adjacent codings of one theme: a visible edge between them, and two shades of its colour.
        seen = page.evaluate(EDGE_JS, [a.id, b.id])
        assert seen["edges"] and all(e[0] == "2px" and e[2] > 0 and not e[1].endswith(", 0)") for e in seen["edges"])
        assert seen["colours"][0] != seen["colours"][1]

        # Keyboard coding: select with the mouse, C opens the type-ahead, type, Enter applies.
        drag_over(page, BY_KEYBOARD)
        page.keyboard.press("c")
        typeahead = page.get_by_test_id("storyloom-quickcode")
        typeahead.wait_for(state="visible", timeout=10_000)
        page.keyboard.type("stackab")
        page.wait_for_timeout(200)
        page.screenshot(path=str(SHOTS / "first-week-keyboard.png"))
        page.keyboard.press("Enter")
        page.get_by_text("Coding panel").wait_for(timeout=15_000)
        settle(page)
        with open_project(folder, embedder=HashingEmbedder()) as project:
            keyed = [c for c in project.codings.codings_in(TRANSCRIPT)
                     if c.code_id == codes["Stackability as institutional aspiration"].id and c.text == BY_KEYBOARD]
        start = text.index(BY_KEYBOARD)
        assert [(c.start, c.end, c.coder) for c in keyed] == [(start, start + len(BY_KEYBOARD), "Test Researcher")]

        # The panel names lines and timestamps, never offsets.
        page.locator("[data-testid=storyloom-transcript] .c").filter(has_text="flexible learning").first.click()
        page.get_by_role("button", name="Uncode").first.wait_for(timeout=15_000)
        settle(page)
        panel = page.get_by_test_id("stMain").inner_text()
        assert f"line {line_at(line_starts(text), start)}" in panel and "characters" not in panel
        assert f"{start}–" not in panel

        # Undo history: the action, who did it.
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Undo history").click()
        settle(page)
        listed = sidebar.inner_text()
        assert "Test Researcher" in listed and "Stackability" in listed and "Setup" in listed
        page.screenshot(path=str(SHOTS / "first-week-undo-history.png"))

        # Undo the keyboard coding: at once. Then the bulk import: asked first, naming it; Cancel, then Yes.
        sidebar.get_by_role("button", name="↶ Undo").click()
        settle(page)
        with open_project(folder, embedder=HashingEmbedder()) as project:
            assert not [c for c in project.codings.codings_in(TRANSCRIPT) if c.text == BY_KEYBOARD]
            assert project.can_undo() == bulk
        sidebar.get_by_role("button", name="↶ Undo").click()
        settle(page)
        ask = sidebar.get_by_text("This undo reverses a bulk action")
        ask.wait_for(timeout=10_000)
        assert bulk.summary[:40] in sidebar.inner_text()
        page.screenshot(path=str(SHOTS / "first-week-undo-confirm.png"))
        sidebar.get_by_role("button", name="Cancel").click()
        settle(page)
        with open_project(folder, embedder=HashingEmbedder()) as project:
            assert project.can_undo() == bulk
        for summary in chain:  # the story file, the cases file, then the 318 codings: each asked first
            sidebar.get_by_role("button", name="↶ Undo").click()
            settle(page)
            assert summary[:40] in sidebar.inner_text()
            sidebar.get_by_role("button", name="Yes, undo it").click()
            settle(page)
        with open_project(folder, embedder=HashingEmbedder()) as project:
            states = {e.summary: e.state for e in project.undo_history()}
            assert states[bulk.summary] == "undone"
            assert next(s for k, s in states.items() if k.startswith("Imported 318 codings")) == "undone"
            assert project.status()["codings"] == 2  # only the other researcher's two remain
        _no_exception(page)
    assert not errors, errors
    page.close()


def test_themes_participants_and_assist(browser: Any, sample_study_dir: Path, tmp_path: Path) -> None:
    folder = _study(sample_study_dir, tmp_path)
    with open_project(folder, embedder=HashingEmbedder()) as project:
        theme = next(c for c in project.codebook.codes() if c.name == THEME)
        quotes = project.explore.codings_frame(code=theme.id)
        people = {p.pseudonym: p for p in project.participants.list()}
    total = len(quotes)
    assert total > 40
    page, errors = _page(browser)
    with streamlit_app(folder, tmp_path / "server.log") as url:
        _start_on(page, url)
        open_page(page, "Themes")
        choose(page, "Theme or code", THEME)
        opens = page.get_by_role("button", name="Open in Read & code")
        assert opens.count() == 40 and page.get_by_text("showing 1–40").count() == 1
        page.get_by_label(re.compile(r"Page \(of \d+\)")).fill("2")
        page.keyboard.press("Enter")
        settle(page)
        assert opens.count() == min(40, total - 40)
        page.get_by_test_id("stCheckbox").filter(has_text=f"Show all {total}").click()
        settle(page)
        assert opens.count() == total
        shown = page.locator("[data-testid=stMain] blockquote").all_inner_texts()
        assert {" ".join(t.split()) for t in shown} >= {" ".join(t.split()) for t in quotes["text"]}

        # Quote text (and where it comes from) at WCAG AA contrast, as painted.
        for selector in ("[data-testid=stMain] blockquote p", "[data-testid=stMain] .stMarkdownColoredText"):
            painted = page.evaluate(COLOURS_JS, selector)
            assert painted, selector
            ratios = [contrast(p["fg"], p["alpha"], p["bg"]) for p in painted]
            assert min(ratios) >= 4.5, (selector, min(ratios), painted[ratios.index(min(ratios))])
        page.get_by_test_id("stCheckbox").filter(has_text=f"Show all {total}").click()
        settle(page)

        # Filters keep each other: a participant, then an attribute filter; both stay.
        choose(page, "Participant", PARTICIPANT)
        attr, value = next((k, v) for k, v in people[PARTICIPANT].attributes.items() if v)
        picker = page.get_by_test_id("stMultiSelect").filter(
            has=page.get_by_text(attr.replace("_", " ").capitalize(), exact=True))
        picker.click()
        page.keyboard.type(value)
        page.keyboard.press("Enter")
        settle(page)
        page.keyboard.press("Escape")
        settle(page)
        page.screenshot(path=str(SHOTS / "first-week-themes.png"))
        boxes = page.evaluate(SELECTED_JS)
        assert THEME in boxes["Theme or code"] and PARTICIPANT in boxes["Participant"], boxes

        # A quote opens its transcript at that place: the coding in the panel, scrolled into view.
        first = page.locator("[data-testid=stMain] blockquote").first.inner_text()
        opens.first.click()
        page.get_by_text("Coded here").wait_for(timeout=20_000)
        settle(page)
        top, bottom, box_top, box_bottom, marked = page.evaluate(FOCUS_JS)
        assert box_top <= top and bottom <= box_bottom and " ".join(marked.split())[:30] in " ".join(first.split())
        page.screenshot(path=str(SHOTS / "first-week-jump.png"))
        open_page(page, "Themes")  # and back: the filters are still as chosen
        boxes = page.evaluate(SELECTED_JS)
        assert THEME in boxes["Theme or code"] and PARTICIPANT in boxes["Participant"], boxes
        assert page.get_by_test_id("stMultiSelect").filter(has_text=value).count() == 1

        # Participants: every key quote of a theme reachable, each opening in Read & code.
        open_page(page, "Participants")
        choose(page, "Participant", PARTICIPANT)
        expander = page.get_by_test_id("stMain").get_by_test_id("stExpander").first
        toggle = expander.get_by_test_id("stCheckbox").filter(has_text=re.compile(r"Show all \d+"))
        n = int(re.search(r"Show all (\d+)", toggle.inner_text()).group(1))
        toggle.click()
        settle(page)
        assert expander.get_by_role("button", name="Open in Read & code").count() == n
        painted = page.evaluate(COLOURS_JS, "[data-testid=stMain] blockquote p")
        assert min(contrast(p["fg"], p["alpha"], p["bg"]) for p in painted) >= 4.5
        expander.get_by_role("button", name="Open in Read & code").last.click()
        page.get_by_text("Coded here").wait_for(timeout=20_000)
        settle(page)
        assert page.evaluate(FOCUS_JS) is not None

        # Assist: interviewer questions left out unless asked; no code chosen before the researcher picks one.
        open_page(page, "Assist (suggestions)")
        page.get_by_role("textbox", name="Search", exact=True).fill("Could you start by telling me about your role?")
        page.get_by_role("button", name="Search", exact=True).click()
        settle(page, timeout=180_000)  # the first search loads the embedding model
        hits = page.get_by_text("Machine suggestion (search hit)").all_inner_texts()
        assert hits and all(any(f"· {p} ·" in h for p in people) for h in hits), hits
        assert all(re.search(r"line \d+", h) and not re.search(r"\d+–\d+", h) for h in hits)
        coding_buttons = page.get_by_role("button", name=re.compile("^Code as"))
        assert coding_buttons.count() == len(hits) and all(not b.is_enabled() for b in coding_buttons.all())
        page.get_by_test_id("stCheckbox").filter(has_text="Include interviewer turns").click()
        page.get_by_role("button", name="Search", exact=True).click()
        settle(page, timeout=180_000)  # the first search loads the embedding model
        hits = page.get_by_text("Machine suggestion (search hit)").all_inner_texts()
        assert any(not any(f"· {p} ·" in h for p in people) for h in hits), hits
        page.screenshot(path=str(SHOTS / "first-week-assist.png"))
        _no_exception(page)
    assert not errors, errors
    page.close()
