"""Codebook YAML round trip, bad codebook files, codings files, snapshots and their diff, memos."""

from __future__ import annotations

import pytest

from analysis.errors import CodebookFileError, ConflictError, ValidationError
from analysis.domain.model import PHASES
from analysis.services.results import CodeChange, CodebookImport, CodingsImport


@pytest.fixture
def project(make_project, interview_text):
    p = make_project(transcripts={"leader_a.txt": interview_text})
    p.codebook.add_code("Credentials for the system", kind="theme", status="reviewed",
               central_concept="Designed to pass approval, not to be taken up")
    p.codebook.add_code("Approval burden", parent="Credentials for the system", definition="Time and effort to approve",
               inclusion="Boards, the regulator", exclusion="Funding rules", example="fourteen months")
    p.codebook.add_code("Ākonga fear", definition="Learners' fear of being assessed again\nafter years away")
    return p


def test_yaml_round_trip_is_lossless(project, make_project, tmp_path):
    path = project.codebook_files.export_codebook(tmp_path / "codebook.yaml")
    text = path.read_text(encoding="utf-8")
    assert "Ākonga fear" in text and "central_concept:" in text
    fresh = make_project("fresh")
    assert fresh.codebook_files.import_codebook(path) == CodebookImport(created=3, updated=0)
    assert fresh.codebook_files.codebook_tree() == project.codebook_files.codebook_tree()
    fresh.codebook_files.export_codebook(tmp_path / "again.yaml")
    assert (tmp_path / "again.yaml").read_text(encoding="utf-8") == text


@pytest.mark.parametrize("body,needle", [
    ("codes:\n- name: A\n  colour_scheme: red\n", "entry 'A': unknown field(s) colour_scheme"),
    ("codes:\n- name: A\n- name: a\n", "entry 'a': duplicate name among its siblings"),
    ("codes:\n- name: A\n  children: just text\n", "A: expected a list of codes"),
    ("codes:\n- name: A\n  children:\n  - definition: no name\n", "entry A > #1: has no name"),
    ("codes:\n- name: A\n  kind: topic\n", "entry 'A': Kind 'topic' is not one of"),
    ("codes: [\n", "is not valid YAML"),
    ("title: no codes here\n", "has no 'codes:' list"),
])
def test_bad_codebook_files_name_the_entry_and_import_nothing(make_project, tmp_path, body, needle):
    p = make_project("bad")
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CodebookFileError) as info:
        p.codebook_files.import_codebook(path)
    assert needle in str(info.value) and "bad.yaml" in str(info.value)
    assert p.codebook.codes() == [] and p.version() == 0


def test_codings_file_round_trip_reanchors_by_quote(project, make_project, interview_text, tmp_path):
    text = project.transcripts.get("leader_a.txt").text
    i = text.index("nobody wanted it")
    project.codings.add_coding(transcript="leader_a.txt", start=i, end=i + 16, code="Ākonga fear", memo="why")
    project.codebook_files.export_codebook(tmp_path / "codebook.yaml")
    project.codebook_files.export_codings(tmp_path / "codings.yaml")
    shifted = make_project("shifted", transcripts={"leader_a.txt": "Interviewer: Extra opening.\n\n" + interview_text})
    shifted.codebook_files.import_codebook(tmp_path / "codebook.yaml")
    assert shifted.codebook_files.import_codings(tmp_path / "codings.yaml") == CodingsImport(placed=1, orphaned=0, skipped=0, warnings=())
    [coding] = shifted.codings.codings_in("leader_a.txt")
    assert coding.text == "nobody wanted it" and coding.start == i + len("Interviewer: Extra opening.\n\n")
    assert coding.memo == "why"


def test_snapshots_and_diff(project):
    project.codebook_files.snapshot("end of phase 2", phase=PHASES[1])
    project.codebook.edit_code("Approval burden", name="Approval delay")
    project.codebook.edit_code("Ākonga fear", definition="Fear of failing assessment")
    project.codebook.add_code("Stackability")
    project.codebook.add_code("Pricing")
    project.codebook.merge_codes("Pricing", "Stackability")
    project.codebook.move_code("Ākonga fear", parent="Credentials for the system")
    project.codebook_files.snapshot("end of phase 3", phase=PHASES[2])
    diff = project.codebook_files.diff_snapshots("end of phase 2", "end of phase 3")
    assert diff.renamed == (CodeChange("Credentials for the system > Approval delay", was="Approval burden",
                                       to="Approval delay"),)
    assert [d.code for d in diff.added] == ["Stackability"]
    assert diff.redefined == (CodeChange("Credentials for the system > Ākonga fear", fields=("definition",)),)
    assert diff.moved == (CodeChange("Ākonga fear", was="(top)", to="Credentials for the system"),)
    assert diff.removed == () and diff.merged == ()  # Pricing came and went between the snapshots
    snap = project.codebook_files.snapshots()[0]
    assert snap.codes[0]["codings"] == 0 and "participants" in snap.codes[0]
    with pytest.raises(ConflictError):
        project.codebook_files.snapshot("end of phase 2")


def test_diff_reports_merges_and_splits(project):
    text = project.transcripts.get("leader_a.txt").text
    ids = []
    for phrase in ("nobody wanted it", "afraid of failing"):
        i = text.index(phrase)
        ids.append(project.codings.add_coding(transcript="leader_a.txt", start=i, end=i + len(phrase), code="Ākonga fear").id)
    project.codebook.add_code("Pricing")
    project.codebook_files.snapshot("a")
    project.codebook.merge_codes("Pricing", "Approval burden")
    project.codebook.split_code("Ākonga fear", new_name="Rejection", coding_ids=[ids[0]])
    project.codebook_files.snapshot("b")
    diff = project.codebook_files.diff_snapshots("a", "b")
    assert diff.merged == (CodeChange("Pricing", to="Credentials for the system > Approval burden"),)
    assert diff.split == (CodeChange("Rejection", was="Ākonga fear"),)


def test_memos_and_journal_with_phases(project):
    project.memos.add("First read: a lot of frustration.", kind="familiarisation", target="leader_a.txt",
                     phase="familiarising", title="Leader A")
    project.memos.add("I notice my own bias towards the academics.", kind="journal", phase="coding")
    project.memos.add("About the approval code", kind="code", target="Approval burden", phase="coding")
    assert [m.kind for m in project.memos.list(phase="coding")] == ["code", "journal"]
    assert project.memos.list(kind="familiarisation", target="leader_a.txt")[0].title == "Leader A"
    with pytest.raises(ValidationError):
        project.memos.add("x", phase="phase 9")
    memo = project.memos.list(kind="journal")[0]
    project.memos.edit(memo.id, body="Edited reflection")
    assert project.memos.get(memo.id).body == "Edited reflection"
    project.undo()
    assert project.memos.get(memo.id).body.startswith("I notice")
