"""Codebook operations, their audit events and undo; the conservation property of codings."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import ConflictError, NotFoundError, NothingToUndoError, ValidationError


@pytest.fixture
def project(make_project, interview_text):
    return make_project(transcripts={"leader_a.txt": interview_text})


def span_of(project, phrase: str, name: str = "leader_a.txt") -> tuple[int, int]:
    text = project.transcripts.get(name).text
    start = text.index(phrase)
    return start, start + len(phrase)


def coded_spans(project) -> Counter:
    df = project.explore.codings_frame()
    return Counter(zip(df["transcript"], df["start"], df["end"]))


def test_create_edit_rename_and_history(project):
    theme = project.codebook.add_code("Credentials for the system", kind="theme", central_concept="Designed for approval")
    code = project.codebook.add_code("Approval burden", parent=theme.name, definition="Time spent getting approval",
                            inclusion="Mentions of boards", exclusion="Funding rules")
    assert code.parent_id == theme.id and code.colour.startswith("#")
    project.codebook.edit_code("Approval burden", name="Approval delay", definition="Delays in approval", note="narrower")
    project.codebook.move_code("Approval delay", parent=None)
    events = project.codebook.history("Approval delay")
    assert [e.action for e in events] == ["code.create", "code.rename", "code.move"]
    rename = next(e for e in events if e.action == "code.rename")
    assert rename.before == {"name": "Approval burden", "definition": "Time spent getting approval"}
    assert rename.after == {"name": "Approval delay", "definition": "Delays in approval"}
    assert rename.note == "narrower"


def test_bad_input_changes_nothing(project):
    project.codebook.add_code("Theme", kind="theme")
    project.codebook.add_code("Child", parent="Theme")
    before = (project.status(), [c.name for c in project.codebook.codes()], project.version())
    with pytest.raises(ValidationError):
        project.codebook.add_code("  ")
    with pytest.raises(ConflictError):
        project.codebook.add_code("child", parent="Theme")  # sibling clash, case-insensitive
    with pytest.raises(ConflictError):
        project.codebook.move_code("Theme", parent="Child")  # cycle
    with pytest.raises(ConflictError):
        project.codebook.merge_codes("Theme", "Child")  # into a descendant
    with pytest.raises(NotFoundError):
        project.codebook.add_code("X", parent="No such theme")
    with pytest.raises(ValidationError):
        project.codebook.add_code("Colourful", colour="red")
    assert (project.status(), [c.name for c in project.codebook.codes()], project.version()) == before


def test_merge_moves_codings_collapses_duplicates_and_memos_travel(project):
    project.codebook.add_code("A")
    project.codebook.add_code("B")
    s1, s2 = span_of(project, "nobody wanted it"), span_of(project, "fourteen months")
    project.codings.add_coding(transcript="leader_a.txt", start=s1[0], end=s1[1], code="A")
    project.codings.add_coding(transcript="leader_a.txt", start=s2[0], end=s2[1], code="A")
    project.codings.add_coding(transcript="leader_a.txt", start=s1[0], end=s1[1], code="B")
    project.memos.add("A is about rejection", kind="code", target="A", phase="coding")
    merged = project.codebook.merge_codes("A", "B", note="same idea")
    assert merged.name == "B"
    assert [c.name for c in project.codebook.codes()] == ["B"]
    assert len(project.explore.codings_frame()) == 2  # the duplicate collapsed
    assert project.memos.list(kind="code", target="B")[0].body == "A is about rejection"
    project.undo()
    assert sorted(c.name for c in project.codebook.codes()) == ["A", "B"]
    assert len(project.explore.codings_frame()) == 3
    assert project.memos.list(kind="code", target="A")
    project.redo()
    assert [c.name for c in project.codebook.codes()] == ["B"]


def test_split_and_delete_need_explicit_targets(project):
    project.codebook.add_code("Fear")
    a, b = span_of(project, "afraid of failing"), span_of(project, "nobody wanted it")
    c1 = project.codings.add_coding(transcript="leader_a.txt", start=a[0], end=a[1], code="Fear")
    c2 = project.codings.add_coding(transcript="leader_a.txt", start=b[0], end=b[1], code="Fear")
    new = project.codebook.split_code("Fear", new_name="Rejection", coding_ids=[c2.id], note="two ideas")
    assert project.codings.get(c2.id).code_id == new.id and project.codings.get(c1.id).code_id != new.id
    with pytest.raises(ConflictError):
        project.codebook.delete_code("Fear")
    assert project.status()["codings"] == 2
    project.codebook.delete_code("Fear", move_to="Rejection")
    assert project.status()["codings"] == 2 and [c.name for c in project.codebook.codes()] == ["Rejection"]
    project.undo()
    assert sorted(c.name for c in project.codebook.codes()) == ["Fear", "Rejection"]
    project.codebook.delete_code("Rejection", discard=True)
    assert project.status()["codings"] == 1
    project.undo()
    assert project.status()["codings"] == 2


def test_reorder_siblings(project):
    for name in ("One", "Two", "Three"):
        project.codebook.add_code(name)
    project.codebook.reorder_code("Three", position=0)
    assert [c.name for c in project.codebook.codes()] == ["Three", "One", "Two"]


def test_undo_survives_restart_and_redo_is_cleared_by_new_action(make_project, interview_text, tmp_path):
    project = make_project("r", transcripts={"x.txt": interview_text})
    project.codebook.add_code("Kept")
    project.codebook.add_code("Gone")
    project.close()
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    again = open_project(tmp_path / "r", embedder=HashingEmbedder())
    assert again.undo().summary == "Created code 'Gone'"
    again.codebook.add_code("Other")
    with pytest.raises(NothingToUndoError):
        again.redo()
    assert sorted(c.name for c in again.codebook.codes()) == ["Kept", "Other"]
    again.close()


def test_theme_history_includes_merged_codes(project):
    project.codebook.add_code("Theme T", kind="theme")
    project.codebook.add_code("Old idea")
    project.codebook.edit_code("Old idea", definition="first definition")
    project.codebook.merge_codes("Old idea", "Theme T", note="folded in")
    actions = [e.action for e in project.codebook.history("Theme T")]
    assert actions == ["code.create", "code.create", "code.edit", "code.merge"]


ops = st.lists(st.tuples(st.sampled_from(["merge", "move", "split"]), st.integers(0, 5), st.integers(0, 5),
                         st.integers(0, 2**16)), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_coded_spans_are_conserved_across_merge_move_split(make_project, interview_text, sequence):
    """Every coded span survives any sequence of merge/move/split (each span is coded once here, so
    no merge can collapse a duplicate and the count is conserved too)."""
    import uuid

    project = make_project(uuid.uuid4().hex[:8], transcripts={"t.txt": interview_text})
    text = project.transcripts.get("t.txt").text
    words = [(m, m + 6) for m in range(0, len(text) - 6, 37) if text[m:m + 6].strip()][:12]
    for i in range(4):
        project.codebook.add_code(f"C{i}")
    for j, (s, e) in enumerate(words):
        project.codings.add_coding(transcript="t.txt", start=s, end=e, code=f"C{j % 4}")
    spans_before = set(coded_spans(project))
    total_before = project.status()["codings"]
    for op, a, b, seed in sequence:
        codes = project.codebook.codes()
        src, dst = codes[a % len(codes)], codes[b % len(codes)]
        try:
            if op == "merge":
                project.codebook.merge_codes(src.id, dst.id)
            elif op == "move":
                project.codebook.move_code(src.id, parent=dst.id)
            else:
                own = project.explore.codings_frame(code=src.id)
                own = own[own["code_id"] == src.id]
                if len(own):
                    pick = [int(own.iloc[seed % len(own)]["coding_id"])]
                    project.codebook.split_code(src.id, new_name=f"S{seed}-{uuid.uuid4().hex[:4]}", coding_ids=pick)
        except ConflictError:
            pass  # refused operations (cycles, clashes) must change nothing
    assert set(coded_spans(project)) == spans_before  # every span still coded by something
    assert project.status()["codings"] == total_before
    df = project.explore.codings_frame()
    assert not df.duplicated(["code_id", "transcript", "start", "end"]).any()


def test_names_with_macrons_match_case_insensitively(project):
    project.codebook.add_code("Ākonga fear")
    assert project.codebook.get_code("ākonga FEAR").name == "Ākonga fear"
    with pytest.raises(ConflictError):
        project.codebook.add_code("ĀKONGA FEAR")


def test_acting_as_records_the_researcher(project):
    with project.acting_as("Dr Mere Tane"):
        project.codebook.add_code("Named")
    project.codebook.add_code("Unnamed")
    events = project.audit_trail(action="code.create")
    assert [e.who for e in events] == ["Dr Mere Tane", project.user]
    assert project.users() == [project.user, "Dr Mere Tane"]
