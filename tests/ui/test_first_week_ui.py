"""Issue 15, items 3-6, below the browser: line numbers and timestamps instead of offsets, coding
stripes, edges and colour families in the transcript HTML, keyboard coding, quotes that are all
reachable and open in Read & code, filters that keep each other, Assist without interviewer turns
and without a pre-chosen code, segments without stray punctuation, the undo history and the
confirmation before undoing a bulk action (service, CLI and sidebar).

The browser drives the same in tests/browser/test_browser_first_week.py.
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from analysis import Project
from analysis.cli import app as cli
from analysis.errors import ConflictError
from analysis.domain.explore import line_at, line_starts, place_label, timestamp_at
from analysis.domain.segment import CLOSING, CONTINUING, reattach
from analysis.workbench.components.coder import CodingSpan, TurnSpan, edges, html_text, transcript_html
from analysis.workbench.reading import shade
from analysis.workbench.widgets import md_escape

REPO = Path(__file__).absolute().parents[2]
runner = CliRunner()
INTERVIEW = ("Interviewer: Could you tell me about your role here?\n\n"
             "Leader A: I run the programme. The approval took fourteen months.\n"
             "Then we waited again.\n\n"
             "Interviewer: What was the approval like, the approval process?\n\n"
             "Leader A: Slow. The approval process was the main problem, honestly.\n")


# -- line numbers and timestamps (what the researcher sees instead of offsets) ----------------------------
def test_lines_are_the_non_blank_lines_as_shown() -> None:
    text = "A: one\n\nB: two\nthree\n\n\nA: four"
    starts = line_starts(text)
    assert [text[s:].split("\n")[0] for s in starts] == ["A: one", "B: two", "three", "A: four"]
    assert [line_at(starts, text.index(w)) for w in ("one", "two", "three", "four")] == [1, 2, 3, 4]
    turns = [(3, 6, 3.0), (11, 20, None), (26, 30, 65.0)]
    assert timestamp_at(turns, text.index("two")) == "~00:00:03"  # an untimed turn borrows the one before
    assert timestamp_at(turns, text.index("four")) == "00:01:05"
    assert timestamp_at([(0, 5, None)], 2) == ""
    assert place_label(12, "00:01:43") == "line 12 · 00:01:43" and place_label(3) == "line 3"


def test_transcript_html_numbers_every_line_in_the_margin_without_adding_text() -> None:
    text = INTERVIEW
    turns = [TurnSpan(m.start(2), m.end(2), m.group(1), None if m.group(1) == "Interviewer" else "Leader A",
                      m.group(1) == "Interviewer") for m in re.finditer(r"^(Interviewer|Leader A): (.*?)(?=\n\n|\Z)",
                                                                         text, flags=re.S | re.M)]
    html = transcript_html(text, turns, [], lines=line_starts(text))
    assert html_text(html) == text  # the markers are empty elements: offsets unchanged
    assert re.findall(r'class="ln" data-l="(\d+)"', html) == ["1", "2", "3", "4", "5"]
    # the number of line 3 ("Then we waited again.") sits right before its first word
    assert '<span class="ln" data-l="3"></span>Then we waited' in html


# -- edges between adjacent codings of one theme, colour families ------------------------------------------
def test_adjacent_codings_of_one_theme_get_a_visible_edge_others_do_not() -> None:
    text = "Leader A: I run the programme. The approval took fourteen months. Then we waited."
    a, b, c = (text.index(s) for s in ("I run", "The approval", "Then we"))
    one = CodingSpan(1, a, b - 1, "Starting from the product", "#6fb1e7", "Designed")
    two = CodingSpan(2, b, c - 1, "Approval time", "#5a9fd9", "Designed")
    other = CodingSpan(3, c, len(text), "Fear", "#f29e8e", "Door")
    assert edges([one, two, other], text) == {b - 1, b}  # the one-space gap between 1 and 2, not before 3
    html = transcript_html(text, [TurnSpan(10, len(text), "Leader A", "Leader A", False)], [one, two, other])
    assert html.count('class="edge"') == 2 and html_text(html) == text


def test_sub_codes_take_shades_of_their_themes_colour() -> None:
    base = "#6fb1e7"
    shades = [shade(base, i) for i in range(5)]
    assert shades[0] == base and len(set(shades)) == 5
    hue = colorsys.rgb_to_hls(*(int(base[k:k + 2], 16) / 255 for k in (1, 3, 5)))[0]
    for s in shades:
        h = colorsys.rgb_to_hls(*(int(s[k:k + 2], 16) / 255 for k in (1, 3, 5)))[0]
        assert abs(h - hue) < 0.01, s  # one family: the same hue, another lightness


def test_sub_codes_without_a_colour_get_distinct_shades_in_read_and_code(make_project: Any) -> None:
    from analysis.workbench.reading import _colours

    project = make_project()
    theme = project.codebook.add_code("Door", colour="#f29e8e")
    kids = [project.codebook.add_code(n, parent=theme.id) for n in ("Fear", "Enrolment", "Trust")]
    mine = project.codebook.add_code("Own colour", parent=theme.id, colour="#123456")
    colours = _colours(project)
    assert colours[theme.id] == "#f29e8e" and colours[mine.id] == "#123456"
    assert len({colours[k.id] for k in kids} | {colours[theme.id]}) == 4
    assert all(colours[k.id] == shade("#f29e8e", i) for i, k in enumerate(kids, start=1))


# -- segments never start with stray punctuation -------------------------------------------------------------
def test_reattach_moves_stray_punctuation_back_with_exact_offsets() -> None:
    pieces = ["Honestly? No", ". Not my learners.", ' He said "wait"', ", and left.", ' "Quote.', '" Next']
    text = "".join(pieces)
    cut, pos = [], 0
    for piece in pieces:  # how the recogniser cut it
        cut.append((pos, pos + len(piece)))
        pos += len(piece)
    got = [text[a:b] for a, b in reattach(text, cut)]
    assert got == ["Honestly? No.", "Not my learners.", 'He said "wait", and left.', '"Quote."', "Next"]
    lead = ", so then. Yes"
    assert [lead[a:b].strip() for a, b in reattach(lead, [(0, 10), (10, 14)])] == ["so then.", "Yes"]


def test_no_sample_segment_starts_with_a_comma_a_full_stop_or_a_space(sample_project: Project) -> None:
    frame = sample_project.assist.segment_index().frame
    texts = sample_project.assist.segment_index().texts
    for row in frame.itertuples():
        seg = texts[int(row.transcript_id)][int(row.start):int(row.end)]
        assert seg == row.text and seg[0] not in CLOSING + CONTINUING and not seg[0].isspace(), (row.transcript, seg)


# -- Assist: interviewer turns left out, hits placed by line and timestamp -----------------------------------
def test_search_leaves_interviewer_turns_out_unless_asked(make_project: Any) -> None:
    project = make_project(transcripts={"a.txt": INTERVIEW})
    hits = project.assist.search("approval process", mode="keyword", k=10)
    assert hits and all(h.speaker == "Leader A" for h in hits)
    every = project.assist.search("approval process", mode="keyword", k=10, interviewer=True)
    assert any(h.speaker == "Interviewer" for h in every)
    text = project.transcripts.get("a.txt").text
    for h in every:
        assert h.line == line_at(line_starts(text), h.start) and h.timestamp is not None


def test_cli_search_leaves_the_interviewer_out_unless_asked(sample_project: Project) -> None:
    import json

    people = {p.pseudonym for p in sample_project.participants.list()}
    where = ["--project", str(sample_project.path), "--json", "--k", "10"]
    query = "Could you start by telling me about your role?"
    spoken = json.loads(runner.invoke(cli, ["search", query, *where]).output)["hits"]
    assert spoken and {h["participant"] for h in spoken} <= people and all("line" in h for h in spoken)
    every = json.loads(runner.invoke(cli, ["search", query, "--interviewer", *where]).output)["hits"]
    assert {h["participant"] for h in every} - people  # the interviewers' questions come back


def test_suggestions_leave_interviewer_turns_out_unless_asked(make_project: Any) -> None:
    project = make_project(transcripts={"a.txt": INTERVIEW})
    code = project.codebook.add_code("Approval")
    text = project.transcripts.get("a.txt").text
    start = text.index("The approval took")
    project.codings.add_coding(transcript="a.txt", start=start, end=start + len("The approval took fourteen months."),
                               code=code.id)
    spoken = project.suggestions.suggest(code.id, k=10)
    assert spoken and not any(s["speaker"] == "Interviewer" for s in spoken)
    assert any(s["speaker"] == "Interviewer" for s in project.suggestions.suggest(code.id, k=10, interviewer=True))


# -- undo: history and the confirmation before a bulk undo ---------------------------------------------------
def test_undo_history_and_bulk_confirmation(sample_project: Project) -> None:
    project = sample_project
    history = project.undo_history()
    assert 0 < len(history) <= 20 and history == sorted(history, key=lambda e: -e.id)
    last = project.can_undo()
    assert last is not None and project.is_bulk(last)
    with pytest.raises(ConflictError) as refused:
        project.undo(allow_bulk=False)
    assert "SL8101" in str(refused.value) and last.summary in str(refused.value)
    assert project.can_undo() == last  # nothing was undone
    # a small action is undone at once; then the bulk import of 318 codings asks, naming its count
    code = project.codebook.add_code("A small one")
    assert not project.is_bulk(project.can_undo())
    project.undo(allow_bulk=False)
    assert code.id not in {c.id for c in project.codebook.codes()}
    with pytest.raises(ConflictError, match="SL8102"):
        project.undo(expect=last.id - 1)  # confirmed another action than the last one: refused
    project.undo(allow_bulk=True, expect=last.id)
    imports = project.can_undo()
    while imports is not None and imports.action in ("case.file.import", "event.file.import"):
        project.undo(allow_bulk=True, expect=imports.id)  # the sample's cases and story come after its codings
        imports = project.can_undo()
    assert imports is not None and imports.action == "codings.import" and project.is_bulk(imports)
    assert project.describe_scope(imports) == "318 codings"
    with pytest.raises(ConflictError, match="318 codings"):
        project.undo(allow_bulk=False)


def test_cli_undo_asks_before_a_bulk_undo(sample_project: Project) -> None:
    where = ["--project", str(sample_project.path)]
    last = sample_project.can_undo()
    shown = runner.invoke(cli, ["undo", "--history", *where])
    assert shown.exit_code == 0 and last.summary[:40] in shown.output and last.who in shown.output
    refused = runner.invoke(cli, ["undo", *where])  # no terminal to ask at: refused, naming what it reverses
    assert refused.exit_code != 0 and "SL8101" in refused.output and "--yes" in refused.output
    assert sample_project.can_undo() == last
    done = runner.invoke(cli, ["undo", "--yes", *where])
    assert done.exit_code == 0 and last.summary in done.output
    assert sample_project.can_undo() != last


# -- the pages through AppTest ---------------------------------------------------------------------------------
@pytest.fixture
def page(sample_project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], AppTest]]:
    monkeypatch.setenv("STORYLOOM_PROJECT", str(sample_project.path))

    def open_page(path: str) -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.run()
        at.switch_page(path).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield open_page


def _texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_read_and_code_panel_shows_line_and_timestamp_not_offsets(page: Callable[[str], AppTest],
                                                                  sample_project: Project) -> None:
    at = page("analysis/workbench/pages/read_code.py")
    text = sample_project.transcripts.get("academic_a.txt").text
    start = text.index("who the ākonga actually were")
    at.session_state["rc_transcript"] = "academic_a.txt"
    at.session_state["rc_selection"] = {"transcript": "academic_a.txt", "start": start, "end": start + 28}
    at.run()
    shown = _texts(at)
    assert f"line {line_at(line_starts(text), start)} · ~00:01:43" in shown
    assert "characters" not in shown and f"{start}–" not in shown


def test_keyboard_coding_applies_the_chosen_code(page: Callable[[str], AppTest], sample_project: Project) -> None:
    at = page("analysis/workbench/pages/read_code.py")
    code = sample_project.codebook.add_code("Keyboard code")
    text = sample_project.transcripts.get("academic_a.txt").text
    start = text.index("who the ākonga actually were")
    at.session_state["rc_transcript"] = "academic_a.txt"
    at.session_state["rc_keycoded"] = {"transcript": "academic_a.txt", "start": start, "end": start + 28,
                                       "code": code.id}
    at.run()
    assert not at.exception and not at.error
    mine = [c for c in sample_project.codings.codings_in("academic_a.txt") if c.code_id == code.id]
    assert [(c.start, c.end) for c in mine] == [(start, start + 28)]


def test_themes_quotes_are_all_reachable_and_filters_keep_each_other(page: Callable[[str], AppTest],
                                                                     sample_project: Project) -> None:
    at = page("analysis/workbench/pages/themes.py")
    theme = next(c for c in sample_project.codebook.codes() if c.name == "Designed for the institution, not the learner")
    total = len(sample_project.explore.codings_frame(code=theme.id))
    assert total > 40
    at.selectbox(key="th_code").set_value(theme.id).run()
    opens = [b for b in at.button if b.label == "Open in Read & code"]
    assert len(opens) == 40 and any("showing 1–40" in c.value for c in at.caption)
    at.number_input(key="th_quotes_page").set_value(2).run()
    assert len([b for b in at.button if b.label == "Open in Read & code"]) == min(40, total - 40)
    at.toggle(key="th_quotes_all").set_value(True).run()
    assert len([b for b in at.button if b.label == "Open in Read & code"]) == total
    # an attribute filter does not reset the chosen theme or participant
    at.selectbox(key="th_participant").set_value("Academic A").run()
    group = sample_project.participants.list()[0].attributes
    attr, value = next((k, v) for k, v in group.items() if v)
    at.multiselect(key=f"th_filter_{attr}").set_value([value]).run()
    assert at.selectbox(key="th_code").value == theme.id and at.selectbox(key="th_participant").value == "Academic A"
    assert "characters" not in _texts(at) and "line " in _texts(at)


def test_assist_offers_no_code_before_one_is_chosen(page: Callable[[str], AppTest]) -> None:
    at = page("analysis/workbench/pages/assist.py")
    at.text_input(key="as_search_query").set_value("approval took months")
    form_submit = next(b for b in at.button if b.label == "Search")
    form_submit.click().run()
    assert not at.exception
    assert at.selectbox(key="as_search_target").value is None
    buttons = [b for b in at.button if b.label.startswith("Code as")]
    assert buttons and all(b.disabled for b in buttons)
    assert all(re.search(r"line \d+", c.value) for c in at.caption if "search hit" in c.value)
    assert not any(re.search(r"\d+–\d+", c.value) for c in at.caption if "search hit" in c.value)


def test_sidebar_asks_before_undoing_a_bulk_action(page: Callable[[str], AppTest], sample_project: Project) -> None:
    at = page("analysis/workbench/pages/project.py")
    last = sample_project.can_undo()
    at.button(key="sidebar_undo").click().run()
    assert sample_project.can_undo() == last  # asked, nothing undone yet
    shown = md_escape(last.summary)[:30]  # the summary as the sidebar writes it (Markdown characters escaped)
    assert any("This undo reverses a bulk action" in m.value and shown in m.value for m in at.sidebar.markdown)
    at.button(key="sidebar_undo_no").click().run()
    assert sample_project.can_undo() == last
    at.button(key="sidebar_undo").click().run()
    at.button(key="sidebar_undo_yes").click().run()
    assert sample_project.can_undo() != last
    assert any("Undo history" in e.label for e in at.sidebar.expander)
