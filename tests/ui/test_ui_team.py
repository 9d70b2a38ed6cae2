"""The Team page (issue 14) through AppTest: the team and its roles, blind coding, the comparison of two
coders side by side with one click to reconcile or discuss, and agreement with its methods sentence."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.services.test_team import THOUSAND, _coded_by_two

REPO = Path(__file__).absolute().parents[2]


@pytest.fixture
def two_coders(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "team"
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / "a.txt").write_text(THOUSAND, encoding="utf-8")
    with open_project(folder, embedder=HashingEmbedder()) as p:
        p.sync()
        _coded_by_two(p)
    old = os.environ.get("STORYLOOM_PROJECT")
    os.environ["STORYLOOM_PROJECT"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("STORYLOOM_PROJECT", None)
    else:
        os.environ["STORYLOOM_PROJECT"] = old


def _page(who: str = "A") -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["researcher"] = who
    at.switch_page("analysis/workbench/pages/team.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_compare_side_by_side_and_reconcile(two_coders: Path) -> None:
    at = _page()
    assert not at.error, [e.value for e in at.error]
    assert "Where they disagree** · 1 passage(s)" in _text(at) and "Delay" in _text(at)
    assert {"Accept A's", "Accept B's"} <= {b.label for b in at.button}
    at = _click(at, "Compute agreement")
    table = at.dataframe[-1].value
    assert list(table["code"]) == ["Delay", "Fear", "(overall)"] and table["Cohen's kappa"][0] == "0.317"  # the worked
    # example over what was said: 989 of the 1,000 characters (not the label "Leader A: " or the line break)
    assert "Agreement was computed on characters of what was said" in at.code[0].value
    at = _click(at, "Accept B's")
    assert not at.error, [e.value for e in at.error]
    with open_project(two_coders, embedder=HashingEmbedder(), create=False) as p:
        assert p.agreement.disagreements(["A", "B"]) == []
        assert p.audit_trail()[-1].action == "coding.reconcile" and p.audit_trail()[-1].who == "A"
    assert "Where they disagree** · 0 passage(s)" in _text(at)


def test_discuss_writes_a_memo_on_the_passage(two_coders: Path) -> None:
    at = _page()
    at.text_area(key="team_note_0").set_value("Is waiting for funding a delay?")
    at = _click(at, "Save memo")
    with open_project(two_coders, embedder=HashingEmbedder(), create=False) as p:
        [memo] = p.memos.list(kind="coding")
        assert memo.body == "Is waiting for funding a delay?" and memo.author == "A" and "Delay" in memo.title


def _shown_coding_ids(who: str, blind: bool) -> set[int]:
    """The codings the Read & code view marks in its transcript (ids in the coder component's HTML)."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["researcher"] = who
    at.session_state["team_blind"] = blind
    at.switch_page("analysis/workbench/pages/read_code.py").run()
    assert not at.exception, [e.value for e in at.exception]
    found: set[int] = set()
    frontier: list[Any] = [at.main]
    while frontier:
        node = frontier.pop()
        frontier.extend(getattr(node, "children", {}).values())
        if getattr(getattr(node, "proto", None), "component_name", "") == "storyloom_coder":
            for ids in re.findall(r'data-c=\\\\*"([0-9 ]+)', str(node.proto)):
                found.update(int(i) for i in ids.split())
    return found


def test_blind_mode_hides_the_comparison_and_others_codings(two_coders: Path) -> None:
    at = _page("B")
    at = _click(at, "Code blind")
    assert "Blind mode is on" in at.warning[0].value and not any(b.label.startswith("Accept") for b in at.button)
    with open_project(two_coders, embedder=HashingEmbedder(), create=False) as p:
        everyone = {c.id: c.coder for c in p.codings.codings_in("a.txt")}
    assert _shown_coding_ids("B", blind=True) == {i for i, who in everyone.items() if who == "B"}
    assert _shown_coding_ids("B", blind=False) == set(everyone)
    at = _click(at, "Compare now (end blind mode)")
    assert any(b.label.startswith("Accept") for b in at.button)


def test_roles_on_the_page(two_coders: Path) -> None:
    at = _page("A")
    assert "No researchers registered" in at.info[0].value
    form_inputs = [t for t in at.text_input if t.label == "Name"]
    form_inputs[0].set_value("A")
    at = _click(at, "Add")
    at = _page("B")
    assert "not on the team" in _text(at)
    at = _click(at, "Accept A's")
    assert any("SL4303" in e.value for e in at.error)


def test_a_concurrent_code_edit_in_the_ui_is_a_conflict_not_a_loss(two_coders: Path) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["researcher"] = "A"
    at.switch_page("analysis/workbench/pages/codebook.py").run()
    with open_project(two_coders, embedder=HashingEmbedder(), create=False, user="Ben") as ben:
        delay = ben.codebook.get_code("Delay")
        next(s for s in at.selectbox if s.label == "Code or theme").set_value(delay.id)
        at.run()
        definition = next(t for t in at.text_area if t.label == "Definition" and t.form_id.startswith("edit-"))
        definition.input("Waiting for approvals.")
        ben.codebook.edit_code("Delay", definition="Slow approvals.")  # meanwhile, in Ben's window
        next(b for b in at.button if b.label == "Save changes").click()
        at.run()
        assert any("SL2701" in e.value and "Ben" in e.value for e in at.error), [e.value for e in at.error]
        assert ben.codebook.get_code("Delay").definition == "Slow approvals."  # Ben's edit is not overwritten
        # at the next run the form is drawn from the new version: saving then is A's informed edit
        at.run()
        definition = next(t for t in at.text_area if t.label == "Definition" and t.form_id.startswith("edit-"))
        assert definition.value == "Slow approvals."
        definition.input("Waiting for approvals, and what it costs.")
        next(b for b in at.button if b.label == "Save changes").click()
        at.run()
        assert not at.error, [e.value for e in at.error]
        assert ben.codebook.get_code("Delay").definition == "Waiting for approvals, and what it costs."


def test_a_dry_run_merge_shows_its_report(two_coders: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(two_coders, copy)
    at = _page()
    next(t for t in at.text_input if t.label == "Folder of the other copy").set_value(str(copy)).run()
    _click(at, "Dry run")
    text = _text(at)
    assert "Would merge" in text and "**0** added" in text and "**0** codings added" in text, text
