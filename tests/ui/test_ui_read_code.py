"""The Read & code page (analysis/workbench/pages/read_code.py) through AppTest, and the coder component's HTML.

AppTest cannot run the component's JavaScript, so these tests put a selection (or a click on a
highlight) into ``st.session_state`` exactly as the component's callbacks do; tests/browser/test_browser.py
drives the real thing in Chromium.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from analysis import Project
from analysis.services.results import TranscriptListing
from analysis.workbench.components.coder import CodingSpan, TurnSpan, html_text, transcript_html
from analysis.workbench.reading import check_selection, transcript_label

REPO = Path(__file__).absolute().parents[2]
PAGE = "analysis/workbench/pages/read_code.py"
TRANSCRIPT = "academic_a.txt"
PASSAGE = "who the ākonga actually were"


# -- the component's HTML: its text is the transcript's text, offsets map 1:1 ----------------------------
class _Spans(HTMLParser):
    """Collect (code point offset, text) of every coded span, counting text as the browser does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pos, self.stack, self.coded = 0, [], {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(dict(attrs).get("data-c"))

    def handle_endtag(self, tag: str) -> None:
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for ids in filter(None, self.stack[-1:]):
            for cid in ids.split():
                start, end = self.coded.get(int(cid), (self.pos, self.pos))
                self.coded[int(cid)] = (min(start, self.pos), self.pos + len(data))
        self.pos += len(data)


TRICKY = ("Interview: Pūkenga 🧶 notes\n\n"
          "Interviewer: Tell me about the ākonga?\n\n"
          "Leader A: They were afraid of failing 😬 again <after> years & years.\r\n"
          "Ōtautahi was \"hard\". 👩🏽‍🏫 Kaiako knew.\n\n"
          "Interviewer: And then?\n\nLeader A: Ka pai.")


def _tricky_turns(text: str) -> list[TurnSpan]:
    turns = []
    for m in re.finditer(r"^(Interviewer|Leader A): (.*?)(?=\n\n|\Z)", text, flags=re.S | re.M):
        turns.append(TurnSpan(m.start(2), m.end(2), m.group(1), None if m.group(1) == "Interviewer" else "Leader A",
                              m.group(1) == "Interviewer"))
    return turns


def test_html_text_is_exactly_the_transcript_text_with_emoji_and_macrons() -> None:
    text = TRICKY
    words = ["afraid of failing 😬 again", "Ōtautahi", "👩🏽‍🏫 Kaiako", "ākonga?", "Ka pai."]
    codings = [CodingSpan(i, text.index(w), text.index(w) + len(w), f"code {i}", "#f6c85f") for i, w in enumerate(words)]
    codings.append(CodingSpan(99, text.index("years &"), text.index("Ka pai"), 'A "quoted" <code>', "#6fb1e7"))
    html = transcript_html(text, _tricky_turns(text), codings, selection=(text.index("Pūkenga"), text.index(" notes")),
                           active=[1])
    assert html_text(html) == text
    parser = _Spans()
    parser.feed(html)
    for c in codings:  # each coding's spans sit at exactly its code point offsets
        assert parser.coded[c.id] == (c.start, c.end), c
    assert "<br" not in html and 'class="sel"' in html and "c on" in html
    assert 'title="A &quot;quoted&quot; &lt;code&gt;"' in html


def test_html_of_every_sample_transcript_round_trips(sample_project: Project) -> None:
    for row in sample_project.transcripts.list():
        text = sample_project.transcripts.get(row.name).text
        turns = [TurnSpan(t.start, t.end, t.speaker, t.participant, t.interviewer)
                 for t in sample_project.transcripts.turns(row.name)]
        html = transcript_html(text, turns, [CodingSpan(1, 10, 400, "x", "#9fd38a")])
        assert html_text(html) == text, row.name
        assert html.count('class="blk interviewer"') == sum(t.interviewer for t in turns)


def test_selection_is_checked_against_what_the_browser_saw() -> None:
    text = "Kia ora 😬 ākonga and kaiako"
    start = text.index("ākonga")
    assert check_selection(text, start, start + 6, "ākonga") == (start, start + 6)
    # UTF-16 offsets (one too many after the emoji) are repaired from the text the browser saw.
    assert check_selection(text, start + 1, start + 7, "ākonga") == (start, start + 6)
    assert check_selection(text, 3, 3, "") is None
    assert check_selection(text, 0, 4, "nowhere") is None
    row = TranscriptListing(name="leader_a.docx", format="docx", participants=("Leader A",), speakers=(), segments=0,
                            warnings=(), corrections=0)
    assert transcript_label(row) == "Leader A: leader_a.docx"


# -- the page --------------------------------------------------------------------------------------------
def _start(project: Project, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """app.py opened on ``project`` (as ``STORYLOOM_PROJECT``), switched to the Read & code page."""
    monkeypatch.setenv("STORYLOOM_PROJECT", str(project.path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def app(sample_project: Project, monkeypatch: pytest.MonkeyPatch) -> Callable[[], AppTest]:
    """Start an AppTest on a private copy of the synced sample study, on the Read & code page."""
    return lambda: _start(sample_project, monkeypatch)


def _labelled(elements: Any, label: str) -> Any:
    return next(e for e in elements if e.label == label)


def _select(at: AppTest, project: Project, passage: str = PASSAGE, transcript: str = TRANSCRIPT) -> tuple[int, int]:
    start = project.transcripts.get(transcript).text.index(passage)
    at.session_state["rc_transcript"] = transcript
    at.session_state["rc_selection"] = {"transcript": transcript, "start": start, "end": start + len(passage)}
    at.run()
    assert not at.exception, at.exception
    return start, start + len(passage)


def test_page_renders_transcripts_labelled_by_participant(app: Callable[[], AppTest], sample_project: Project) -> None:
    at = app()
    picker = at.selectbox(key="rc_transcript")
    assert "Leader A: leader_a.docx" in picker.options
    assert len(picker.options) == len(sample_project.transcripts.list())
    assert any(el.key == "rc_coder" for el in at.main if hasattr(el, "key"))  # the coder component is mounted
    assert not at.error


def test_selecting_and_apply_creates_the_coding(app: Callable[[], AppTest], sample_project: Project) -> None:
    code = sample_project.codebook.add_code("UI test code", definition="Used by the UI tests", inclusion="Anything")
    at = app()
    start, end = _select(at, sample_project)
    assert any(PASSAGE in m.value for m in at.markdown)  # the panel quotes the selection
    at.selectbox(key="rc_code").set_value(code.id).run()
    assert any("Used by the UI tests" in c.value for c in at.caption)  # the chosen code's definition
    at.button(key="rc_apply").click().run()
    assert not at.exception and not at.error
    codings = [c for c in sample_project.codings.codings_in(TRANSCRIPT) if c.code_id == code.id]
    assert [(c.start, c.end, c.text, c.coder) for c in codings] == [(start, end, PASSAGE, "Test Researcher")]
    assert "rc_selection" not in at.session_state  # the panel is ready for the next passage


def test_new_code_with_an_empty_name_shows_an_error_and_changes_nothing(
    app: Callable[[], AppTest], sample_project: Project,
) -> None:
    at = app()
    _select(at, sample_project)
    before = (sample_project.version(), sample_project.status())
    at.button(key="rc_new_apply").click().run()
    assert not at.exception
    assert any("needs a name" in e.value for e in at.error)
    assert (sample_project.version(), sample_project.status()) == before
    # shown beside the button, in the expander it came from (kept by the click's callback), not at the top
    # of the page, where a callback's own output goes
    expander = next(x for x in at.expander if x.label == "Create a new code and apply it")
    assert any("needs a name" in e.value for e in expander.error)
    assert not any("needs a name" in getattr(child, "value", "") for child in list(at.main.children.values())[:3])
    assert "rc_selection" in at.session_state  # the passage is still selected, to try again
    at.run()
    assert not at.error  # said once


def test_new_code_is_created_and_applied_in_one_click(app: Callable[[], AppTest], sample_project: Project) -> None:
    at = app()
    start, end = _select(at, sample_project)
    _labelled(at.text_input, "New code name").input("Whakamana ākonga")
    _labelled(at.text_area, "Definition").input("Learners' mana upheld")
    at.button(key="rc_new_apply").click().run()
    assert not at.exception and not at.error
    code = sample_project.codebook.get_code("Whakamana ākonga")
    assert code.definition == "Learners' mana upheld"
    assert [(c.start, c.end) for c in sample_project.codings.codings_in(TRANSCRIPT) if c.code_id == code.id] == [(start, end)]


def test_click_on_a_highlight_then_memo_and_uncode(app: Callable[[], AppTest], sample_project: Project) -> None:
    code = sample_project.codebook.add_code("UI test code")
    text = sample_project.transcripts.get(TRANSCRIPT).text
    start = text.index(PASSAGE)
    coding = sample_project.codings.add_coding(transcript=TRANSCRIPT, start=start, end=start + len(PASSAGE), code=code.id)
    at = app()
    at.session_state["rc_transcript"] = TRANSCRIPT
    at.session_state["rc_clicked"] = {"transcript": TRANSCRIPT, "offset": start + 3, "ids": [coding.id]}
    at.run()
    assert any("UI test code" in m.value for m in at.markdown)
    _labelled(at.text_area, "Memo").input("Fear sits with the learners, not the staff").run()
    at.button(key=f"rc_memo_save_{coding.id}").click().run()
    assert sample_project.codings.get(coding.id).memo == "Fear sits with the learners, not the staff"
    at.session_state["rc_clicked"] = {"transcript": TRANSCRIPT, "offset": start + 3, "ids": [coding.id]}
    at.run()
    at.button(key=f"rc_uncode_{coding.id}").click().run()
    assert not at.exception and not at.error
    assert coding.id not in {c.id for c in sample_project.codings.codings_in(TRANSCRIPT)}


def test_familiarisation_note_is_added_with_its_phase(app: Callable[[], AppTest], sample_project: Project) -> None:
    at = app()
    at.session_state["rc_transcript"] = TRANSCRIPT
    at.run()
    _labelled(at.text_area, "New note").input("Ako comes up early: teaching as a relationship.")
    _labelled(at.text_input, "Title (optional)").input("Ako")
    _labelled(at.button, "Add note").click().run()
    assert not at.exception and not at.error
    notes = sample_project.memos.list(kind="familiarisation", target=TRANSCRIPT)
    assert [(n.title, n.phase) for n in notes] == [("Ako", "familiarising")]


# -- speed: the sample study x10 ------------------------------------------------------------------------
def test_a_rerun_at_the_sample_study_times_ten_reuses_the_transcript_view(
    make_project: Callable[..., Project], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """70 transcripts and 700 codings: a plain rerun of the page (selection shown) builds no transcript HTML
    and sends the same view (what keeps it fast; the time itself is measured in benchmarks/, not here)."""
    import analysis.workbench.reading as reading

    files = {f"{Path(n).stem}_{i}{Path(n).suffix}": (REPO / "transcripts" / n).read_bytes()
             for n in sorted(os.listdir(REPO / "transcripts")) if not n.endswith(".csv") for i in range(10)}
    project = make_project("x10", transcripts=files)
    codes = [project.codebook.add_code(f"Code {i}").id for i in range(30)]
    for n, name in enumerate(sorted(files)):
        length = len(project.transcripts.get(name).text)
        for k in range(10):
            start = (k * 1777 + n * 13) % (length - 300)
            project.codings.add_coding(transcript=name, start=start, end=start + 120 + 15 * k, code=codes[(n + k) % 30])
    built: list[str] = []
    render = reading.transcript_html
    monkeypatch.setattr(reading, "transcript_html", lambda text, *a, **k: built.append(text) or render(text, *a, **k))
    at = _start(project, monkeypatch)
    name = sorted(files)[3]
    start = project.codings.codings_in(name)[0].start
    at.session_state["rc_transcript"] = name
    at.session_state["rc_selection"] = {"transcript": name, "start": start, "end": start + 40}
    at.run()
    assert not at.exception, at.exception
    assert built, "the transcript view was never built"
    first = len(built)
    for _ in range(3):
        at.run()
        assert not at.exception, at.exception
    assert len(built) == first  # every rerun reused the cached view
    assert at.session_state["rc_selection"]["start"] == start  # the selection is still shown


def test_orphaned_codings_are_listed_and_can_be_removed(
    make_project: Callable[..., Project], interview_text: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = make_project("orphans", transcripts={"interview.txt": interview_text})
    code = project.codebook.add_code("Fear")
    start = interview_text.index("afraid of failing")
    coding = project.codings.add_coding(transcript="interview.txt", start=start, end=start + 17, code=code.id)
    (project.path / "transcripts" / "interview.txt").write_text(interview_text.replace("afraid of failing", "keen"),
                                                                 encoding="utf-8")
    project.sync()
    assert [c.id for c in project.codings.orphans()] == [coding.id]
    at = _start(project, monkeypatch)
    assert any("Orphaned codings · 1" in e.label for e in at.expander)
    at.button(key=f"rc_orphan_{coding.id}").click().run()
    assert not at.exception and not at.error
    assert project.codings.orphans() == []
