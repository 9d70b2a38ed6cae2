"""The workbench pages (Project, Codebook, Themes, Participants, Journal) through AppTest.

Each test opens app.py on a private copy of the coded sample study (synced once per session with the
real models), goes to a page, acts like a researcher and checks the project itself afterwards. Bad
input must show ``st.error`` and leave the project exactly as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import EXTDATA, needs_extdata
from analysis import Project, open_project

REPO = Path(__file__).absolute().parents[2]
PAGES = ["analysis/workbench/pages/project.py", "analysis/workbench/pages/codebook.py", "analysis/workbench/pages/themes.py", "analysis/workbench/pages/participant.py", "analysis/workbench/pages/journal.py"]


@pytest.fixture
def study(sample_project: Project) -> Project:
    """A private copy of the coded sample study; the test's handle on it, to check what the pages did."""
    assert sample_project.status()["codings"] >= 150  # sync imported codebooks/
    return sample_project


@pytest.fixture
def page(study: Project) -> Iterator[Callable[[str], AppTest]]:
    """``page("analysis/workbench/pages/codebook.py")``: an AppTest of app.py on ``study``, switched to that page and run."""
    old = os.environ.get("STORYLOOM_PROJECT")
    os.environ["STORYLOOM_PROJECT"] = str(study.path)

    def open_page(path: str) -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.switch_page(path).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield open_page
    if old is None:
        os.environ.pop("STORYLOOM_PROJECT", None)
    else:
        os.environ["STORYLOOM_PROJECT"] = old


def _w(elements: Any, label: str, form: str = "") -> Any:
    """The widget labelled ``label`` (inside the form whose key starts with ``form``, if given)."""
    found = [e for e in elements if e.label == label and (not form or e.form_id.startswith(form))]
    assert found, f"no widget labelled {label!r} in form {form!r}"
    return found[0]


def _submit(at: AppTest, label: str, form: str = "") -> AppTest:
    button = next(b for b in at.button if b.label == label and (not form or b.form_id.startswith(form)))
    button.click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _snapshot(project: Project) -> tuple[dict[str, int], list[tuple[int, str, int | None]]]:
    return project.status(), [(c.id, c.name, c.parent_id) for c in project.codebook.codes()]


def _pick_code(at: AppTest, project: Project, name: str) -> AppTest:
    code = next(c for c in project.codebook.codes() if c.name == name)
    _w(at.selectbox, "Code or theme").set_value(code.id)
    return at.run()


# -- every page renders -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PAGES)
def test_page_renders_on_the_sample_study(page: Callable[[str], AppTest], path: str) -> None:
    at = page(path)
    assert not at.error, _errors(at)
    assert at.title, "the page has no title"
    assert any(b.label.startswith("↶ Undo") for b in at.sidebar.button), "the shared sidebar is missing"


@pytest.mark.parametrize("path", [*PAGES, "analysis/workbench/widgets.py"])
def test_no_page_says_themes_emerged(path: str) -> None:
    """Themes are constructed by the researcher (ARCHITECTURE.md); the pages' own words never say otherwise."""
    source = (REPO / path).read_text(encoding="utf-8").lower()
    assert "emerge" not in source, f"{path} speaks of themes emerging"


def test_pages_show_an_empty_state_without_codes(tmp_path: Path, sample_study_dir: Path) -> None:
    folder = tmp_path / "bare"
    shutil.copytree(sample_study_dir, folder)
    with open_project(folder) as project:
        for code in reversed(project.codebook.codes()):  # children first
            project.codebook.delete_code(code.id, discard=True)
        assert project.status()["codes"] == 0
    os.environ["STORYLOOM_PROJECT"] = str(folder)
    try:
        for path in PAGES:
            at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
            at.switch_page(path).run()
            assert not at.exception and not at.error, (path, at.exception, _errors(at))
            if path in ("analysis/workbench/pages/codebook.py", "analysis/workbench/pages/themes.py"):
                assert any("codebook is empty" in i.value for i in at.info), path
    finally:
        os.environ.pop("STORYLOOM_PROJECT", None)


# -- codebook ----------------------------------------------------------------------------------------
def test_add_then_rename_a_code_records_history(page: Callable[[str], AppTest], study: Project) -> None:
    at = page("analysis/workbench/pages/codebook.py")
    before = study.status()["codes"]
    _w(at.text_input, "Name", "add-code").input("Hope as resistance")
    _w(at.text_area, "Reflexive note (why?)", "add-code").input("Heard it in three interviews")
    _submit(at, "Add", "add-code")
    assert not at.error, _errors(at)
    assert study.status()["codes"] == before + 1
    _pick_code(at, study, "Hope as resistance")
    _w(at.text_input, "Name", "edit-").input("Hope as quiet resistance")
    _w(at.text_area, "Reflexive note (why?)", "edit-").input("Sharper name")
    _submit(at, "Save changes", "edit-")
    assert not at.error, _errors(at)
    names = [c.name for c in study.codebook.codes()]
    assert "Hope as quiet resistance" in names and "Hope as resistance" not in names
    events = study.codebook.history("Hope as quiet resistance")
    assert [e.note for e in events] == ["Heard it in three interviews", "Sharper name"]
    history = next(d.value for d in at.dataframe if "note" in d.value.columns)
    assert list(history["note"]) == ["Heard it in three interviews", "Sharper name"]


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_code_name_shows_an_error_and_changes_nothing(
    page: Callable[[str], AppTest], study: Project, name: str,
) -> None:
    at = page("analysis/workbench/pages/codebook.py")
    before = _snapshot(study)
    _w(at.text_input, "Name", "add-code").input(name)
    _submit(at, "Add", "add-code")
    assert any("needs a name" in e for e in _errors(at)), _errors(at)
    assert _snapshot(study) == before
    assert at.title[0].value == "Codebook", "the page stopped working after the error"


def test_a_duplicate_sibling_name_shows_an_error_on_add_and_on_rename(
    page: Callable[[str], AppTest], study: Project,
) -> None:
    theme = next(c for c in study.codebook.codes() if c.parent_id is None)
    first, second = [c for c in study.codebook.codes() if c.parent_id == theme.id][:2]
    at = page("analysis/workbench/pages/codebook.py")
    before = _snapshot(study)
    _w(at.text_input, "Name", "add-code").input(first.name.upper())
    _w(at.selectbox, "Under", "add-code").set_value(theme.id)
    _submit(at, "Add", "add-code")
    assert any("already exists" in e for e in _errors(at)), _errors(at)
    _pick_code(at, study, second.name)
    _w(at.text_input, "Name", "edit-").input(first.name)
    _submit(at, "Save changes", "edit-")
    assert any("already exists" in e for e in _errors(at)), _errors(at)
    assert _snapshot(study) == before


def test_merge_into_a_descendant_shows_an_error_and_changes_nothing(
    page: Callable[[str], AppTest], study: Project,
) -> None:
    theme = next(c for c in study.codebook.codes() if c.parent_id is None and any(k.parent_id == c.id for k in study.codebook.codes()))
    child = next(c for c in study.codebook.codes() if c.parent_id == theme.id)
    at = _pick_code(page("analysis/workbench/pages/codebook.py"), study, theme.name)
    before = _snapshot(study)
    _w(at.selectbox, "Merge into", "merge-").set_value(child.id)
    _w(at.checkbox, "Yes, merge them", "merge-").check()
    _submit(at, "Merge", "merge-")
    assert any("lies under" in e for e in _errors(at)), _errors(at)
    assert _snapshot(study) == before


def test_merge_needs_the_confirmation(page: Callable[[str], AppTest], study: Project) -> None:
    a, b = [c for c in study.codebook.codes() if c.parent_id is not None][:2]
    at = _pick_code(page("analysis/workbench/pages/codebook.py"), study, a.name)
    before = _snapshot(study)
    _w(at.selectbox, "Merge into", "merge-").set_value(b.id)
    _submit(at, "Merge", "merge-")
    assert any("confirmation" in w.value for w in at.warning)
    assert _snapshot(study) == before


def test_merge_delete_with_move_then_undo_and_redo(page: Callable[[str], AppTest], study: Project) -> None:
    parents = {c.parent_id for c in study.codebook.codes()}
    leaves = [c for c in study.codebook.codes() if c.parent_id is not None and c.id not in parents]
    a, b, c, d = leaves[:4]
    counts = study.explore.codings_frame().groupby("code_id").size()
    total = study.status()["codings"]
    at = _pick_code(page("analysis/workbench/pages/codebook.py"), study, a.name)
    _w(at.selectbox, "Merge into", "merge-").set_value(b.id)
    _w(at.text_area, "Reflexive note (why?)", "merge-").input("Same idea from two sides")
    _w(at.checkbox, "Yes, merge them", "merge-").check()
    _submit(at, "Merge", "merge-")
    assert not at.error, _errors(at)
    assert a.id not in {x.id for x in study.codebook.codes()}
    assert study.status()["codings"] <= total  # exact duplicates collapse, nothing else is lost

    _pick_code(at, study, c.name)
    _w(at.radio, "Its codings", "delete-").set_value("Move them to another code")
    _w(at.selectbox, "Move them to", "delete-").set_value(d.id)
    _w(at.checkbox, f"Yes, delete '{c.name}'", "delete-").check()
    _submit(at, "Delete", "delete-")
    assert not at.error, _errors(at)
    assert c.id not in {x.id for x in study.codebook.codes()}
    assert study.explore.codings_frame().groupby("code_id").size().get(d.id, 0) >= counts.get(c.id, 0) + counts.get(d.id, 0) - 1

    undo = next(btn for btn in at.sidebar.button if btn.label.startswith("↶ Undo"))
    assert c.name in (undo.help or "")
    undo.click()
    at.run()
    assert c.id in {x.id for x in study.codebook.codes()}, "undo did not bring the deleted code back"
    next(btn for btn in at.sidebar.button if btn.label.startswith("↷ Redo")).click()
    at.run()
    assert c.id not in {x.id for x in study.codebook.codes()}


def test_split_moves_the_chosen_codings(page: Callable[[str], AppTest], study: Project) -> None:
    frame = study.explore.codings_frame()
    code_id = int(frame.groupby("code_id").size().idxmax())
    code = study.codebook.get_code(code_id)
    chosen = frame[frame["code_id"] == code_id]["coding_id"].tolist()[:2]
    at = _pick_code(page("analysis/workbench/pages/codebook.py"), study, code.name)
    _w(at.multiselect, "Codings that go to the new code", "split-").set_value(chosen)
    _w(at.text_input, "New code's name", "split-").input(f"{code.name} (part)")
    _w(at.checkbox, "Yes, split them off", "split-").check()
    _submit(at, "Split", "split-")
    assert not at.error, _errors(at)
    new = next(c for c in study.codebook.codes() if c.name == f"{code.name} (part)")
    assert sorted(study.explore.codings_frame().query(f"code_id == {new.id}")["coding_id"]) == sorted(chosen)


def test_snapshot_then_diff_shows_a_rename(page: Callable[[str], AppTest], study: Project) -> None:
    at = page("analysis/workbench/pages/codebook.py")
    _w(at.text_input, "Label", "snapshot").input("before renaming")
    _submit(at, "Take a snapshot of the codebook", "snapshot")
    code = study.codebook.codes()[1]
    study.codebook.edit_code(code.id, name=f"{code.name} renamed")
    _w(at.text_input, "Label", "snapshot").input("after renaming")
    _w(at.selectbox, "Phase", "snapshot").set_value("developing and reviewing themes")
    _submit(at, "Take a snapshot of the codebook", "snapshot")
    assert [s.label for s in study.codebook_files.snapshots()] == ["before renaming", "after renaming"]
    assert study.codebook_files.snapshots()[1].phase == "developing and reviewing themes"
    _w(at.selectbox, "Compare").set_value("before renaming")
    _w(at.selectbox, "with").set_value("after renaming")
    at.run()
    shown = " ".join(m.value for m in at.markdown)
    assert "Renamed" in shown and "renamed" in shown


# -- project -----------------------------------------------------------------------------------------
def test_editing_an_attribute_saves_only_the_changed_cell(page: Callable[[str], AppTest], study: Project) -> None:
    at = page("analysis/workbench/pages/project.py")
    before = {p.pseudonym: dict(p.attributes) for p in study.participants.list()}
    editor = at.data_editor[0]
    table = editor.value
    row = int(table.index[table["pseudonym"] == "Leader B"][0])
    at.session_state[editor.key] = {"edited_rows": {row: {"unit": "Strategy Office"}}, "added_rows": [],
                                    "deleted_rows": []}
    next(b for b in at.button if b.label == "Save attribute changes").click()
    at.run()
    assert not at.error, _errors(at)
    after = {p.pseudonym: dict(p.attributes) for p in study.participants.list()}
    assert after["Leader B"] == {**before["Leader B"], "unit": "Strategy Office"}
    assert {k: v for k, v in after.items() if k != "Leader B"} == {k: v for k, v in before.items() if k != "Leader B"}
    assert study.audit_trail(action="participant.attributes")[-1].after["unit"] == "Strategy Office"


def test_an_unsupported_upload_names_the_file_and_changes_nothing(
    page: Callable[[str], AppTest], study: Project,
) -> None:
    at = page("analysis/workbench/pages/project.py")
    before = study.status()
    at.file_uploader[0].set_value([("field notes.pdf", b"%PDF-1.4 not a transcript", "application/pdf"),
                                   ("extra.txt", b"Interviewer: Hi?\n\nZed: Hello.\n", "text/plain")])
    at.run()
    next(b for b in at.button if b.label == "Import uploaded files").click()
    at.run()
    assert any("field notes.pdf" in e for e in _errors(at)), _errors(at)
    assert study.status() == before


def test_upload_then_map_the_new_speaker_to_a_new_participant(page: Callable[[str], AppTest], study: Project) -> None:
    at = page("analysis/workbench/pages/project.py")
    before = study.status()
    at.file_uploader[0].set_value(("focus_group.txt", b"Interviewer: Kia ora, welcome.\n\nZed: Thanks, happy to "
                                   b"talk about the micro-credential.\n", "text/plain"))
    at.run()
    next(b for b in at.button if b.label == "Import uploaded files").click()
    at.run()
    assert not at.error, _errors(at)
    assert study.status()["transcripts"] == before["transcripts"] + 1
    assert any("Speakers to map" in s.value for s in at.subheader)
    _w(at.selectbox, "Is", "map-focus_group.txt-Zed").set_value("New participant…")
    _w(at.text_input, "New participant's pseudonym", "map-focus_group.txt-Zed").input("Student A")
    _submit(at, "Map speaker", "map-focus_group.txt-Zed")
    assert not at.error, _errors(at)
    speakers = next(t for t in study.transcripts.list() if t.name == "focus_group.txt").speakers
    assert {s.label: s.participant for s in speakers}["Zed"] == "Student A"
    assert not any("Speakers to map" in s.value for s in at.subheader)
    assert study.audit_trail()[-1].action == "speaker.map" and study.audit_trail()[-2].action != "participant.add"


# -- journal and participants --------------------------------------------------------------------------
def test_a_journal_entry_is_written_with_the_researcher_and_phase(
    page: Callable[[str], AppTest], study: Project,
) -> None:
    at = page("analysis/workbench/pages/journal.py")
    at.sidebar.text_input[0].input("Dr Mere Tane")
    at.run()
    _w(at.text_input, "Title", "journal-entry").input("What I bring")
    _w(at.text_area, "Entry", "journal-entry").input("Ten years teaching in the sector: I expect frustration.")
    _w(at.selectbox, "Phase", "journal-entry").set_value("familiarising")
    _submit(at, "Save entry", "journal-entry")
    assert not at.error, _errors(at)
    memo = study.memos.list(kind="journal")[0]
    assert (memo.title, memo.author, memo.phase) == ("What I bring", "Dr Mere Tane", "familiarising")
    assert any("What I bring" in m.value for m in at.markdown)
    _w(at.multiselect, "Kind").set_value(["participant"])
    at.run()
    assert not any("What I bring" in m.value for m in at.markdown), "the kind filter let a journal entry through"


def test_an_empty_journal_entry_shows_an_error(page: Callable[[str], AppTest], study: Project) -> None:
    at = page("analysis/workbench/pages/journal.py")
    before = len(study.memos.list())
    _submit(at, "Save entry", "journal-entry")
    assert any("needs some text" in e for e in _errors(at)), _errors(at)
    assert len(study.memos.list()) == before


def test_participant_page_ranks_themes_shows_quotes_and_takes_a_memo(
    page: Callable[[str], AppTest], study: Project,
) -> None:
    at = page("analysis/workbench/pages/participant.py")
    _w(at.selectbox, "Participant").set_value("Academic B")
    at.run()
    mine = study.explore.codings_frame(participant="Academic B")
    ranked = at.dataframe[0].value
    assert list(ranked["codings"]) == sorted(ranked["codings"], reverse=True)
    assert ranked.iloc[0]["codings"] == mine.groupby("theme").size().max()
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")  # markdown escapes in quotes
    assert any(text.split("\n")[0][:40] in shown for text in mine["text"]), "no key quote of Academic B shown"
    _w(at.text_area, "Memo", "pp-memo").input("Speaks from the workshop floor.")
    _submit(at, "Save memo", "pp-memo")
    assert [m.body for m in study.memos.list(kind="participant", target="Academic B")] == ["Speaks from the workshop floor."]


# -- themes -----------------------------------------------------------------------------------------
def test_theme_matrix_drill_down_and_attribute_filter(page: Callable[[str], AppTest], study: Project) -> None:
    at = page("analysis/workbench/pages/themes.py")
    matrix = at.dataframe[0].value
    assert list(matrix.columns[1:]) == [p.pseudonym for p in study.participants.list()]
    assert any("not how important" in c.value for c in at.caption)
    frame = study.explore.codings_frame()
    theme = frame.groupby("theme").size().idxmax()
    theme_id = next(c.id for c in study.codebook.codes() if c.name == theme and c.parent_id is None)
    person = frame[frame["theme"] == theme]["participant"].value_counts().index[0]
    _w(at.selectbox, "Theme or code").set_value(theme_id)
    _w(at.selectbox, "Participant").set_value(person)
    at.run()
    expected = frame[(frame["theme"] == theme) & (frame["participant"] == person)]
    quotes = [m.value for m in at.markdown if m.value.startswith(">")]
    assert len(quotes) == min(len(expected), 40)
    assert any(f"{len(expected)} quotes" in c.value for c in at.caption)
    group = next(iter(sorted(p.attributes["stakeholder_group"] for p in study.participants.list())))
    _w(at.multiselect, "Stakeholder group").set_value([group])
    _w(at.selectbox, "Participant").set_value("All participants")
    at.run()
    kept = [p.pseudonym for p in study.participants.list() if p.attributes["stakeholder_group"] == group]
    assert list(at.dataframe[0].value.columns[1:]) == kept
    assert any(f"{len(frame[(frame['theme'] == theme) & frame['participant'].isin(kept)])} quotes" in c.value
               for c in at.caption)


@needs_extdata
def test_project_page_previews_and_imports_a_real_qda_codebook(page: Callable[[str], AppTest], study: Project) -> None:
    """The Project page's REFI-QDA section with a real ATLAS.ti codebook: previewed (nothing written),
    then imported as one recorded action. (The NVivo and MAXQDA projects are imported in test_refi.py.)"""
    book = EXTDATA / "refi-qda" / "codebooks" / "atlasti-win-23.4.0_requal_valid.qdc"
    at = page("analysis/workbench/pages/project.py")
    before = study.status()
    uploader = next(u for u in at.get("file_uploader") if "qdpx" in u.label)
    uploader.set_value([(book.name, book.read_bytes(), "application/xml")])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert study.status() == before  # the preview wrote nothing
    assert any("codes" in m.value for m in at.markdown), [m.value for m in at.markdown][:5]
    next(b for b in at.button if b.label == "Import it into this project").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert study.status()["codes"] > before["codes"]
    assert study.audit_trail()[-1].action == "refi.import"


# -- the Story and Cases pages: every tab over the split services (story/chapters, cases/case_tables) ----------
@pytest.mark.parametrize(("path", "key", "tab"), [
    *(("analysis/workbench/pages/story.py", "st_tab", t) for t in ("Timeline", "Restorying", "Chapter")),
    *(("analysis/workbench/pages/cases.py", "cs_tab", t) for t in ("Matrix", "Cases", "Conditions", "Compare", "Downloads & import"))])
def test_every_tab_of_story_and_cases_renders_on_the_sample_study(study: Project, path: str, key: str, tab: str) -> None:
    os.environ["STORYLOOM_PROJECT"] = str(study.path)
    try:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
        at.switch_page(path)
        at.session_state[key] = tab
        at.run()
        assert not at.exception and not at.error, (tab, [e.value for e in at.exception], _errors(at))
        [opened] = [t for t in at.tabs if t.label == tab]
        assert len(opened.children) > 0, f"the {tab} tab did not run"  # only the open tab runs
    finally:
        os.environ.pop("STORYLOOM_PROJECT", None)
