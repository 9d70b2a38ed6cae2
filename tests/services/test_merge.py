"""Merging two copies of a project coded separately from the same transcripts (issue 14, item 5).

The other copy is always a SQLite folder (the offline workflow); the project merged into runs on both
dialects (``team_project``: a lead merges coders' laptops into the team server too)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analysis import open_project
from analysis.cli import app
from analysis.embedding.minilm import HashingEmbedder
from analysis.errors import ProjectError
from analysis.services.results import MergeConflict, MergedCodings, MergedMemos, MergedTranscripts
from tests.services.test_team import team_project  # noqa: F401 - the fixture, on both dialects

runner = CliRunner()


def _copy(interview_text: str, tmp_path: Path, codebook_from: Any = None) -> Any:
    """The other coder's SQLite copy: the same transcript, their own coding."""
    folder = tmp_path / "ben-laptop"
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / "a.txt").write_text(interview_text, encoding="utf-8")
    other = open_project(folder, embedder=HashingEmbedder(), user="Ben")
    other.sync()
    return other


def test_merge_matches_adds_and_reports_conflicts(team_project: Any, interview_text: str, tmp_path: Path) -> None:
    p = team_project(transcripts={"a.txt": interview_text})
    p.codebook.add_code("Barriers", kind="theme")
    p.codebook.add_code("Delay", parent="Barriers", definition="Waiting for approvals.")
    p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay", coder="Ana")
    other = _copy(interview_text, tmp_path)
    try:
        other.codebook.add_code("Barriers", kind="theme")
        other.codebook.add_code("Delay", parent="Barriers", definition="Slow approvals.")  # same path, other text
        other.codebook.add_code("Fear", parent="Barriers")  # new
        other.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay")  # same span, other coder
        fear = other.codings.add_coding(transcript="a.txt", start=20, end=40, code="Fear")
        other.memos.add("Ben's journal.")
        other.memos.add("Why fear?", kind="coding", target=fear.id)
        other.vignettes.create("Ben's vignette")
        ben_guid = other.codebook.get_code("Fear").guid
    finally:
        other.close()
    folder = tmp_path / "ben-laptop"
    before_version = p.version()
    dry = p.merge.from_project(folder, dry_run=True)
    assert dry.dry_run and p.version() == before_version and len(p.codings.codings_in("a.txt")) == 1
    report = p.merge.from_project(folder)
    assert (report.codes, report.codings, report.memos) == (dry.codes, dry.codings, dry.memos)
    assert report.codes.matched_by_path == ("Barriers", "Barriers > Delay")
    assert report.codes.added == ("Barriers > Fear",)
    assert report.codes.conflicts == (MergeConflict(code="Barriers > Delay", field="definition",
                                                    ours="Waiting for approvals.", theirs="Slow approvals."),)
    assert report.codings == MergedCodings(matched=0, added=2, placed_by_quote=0, orphaned=0, unplaced=0)
    assert report.memos == MergedMemos(matched=0, added=2, unplaced=0)
    assert report.not_merged == {"vignettes": 1}
    codings = p.codings.codings_in("a.txt")
    assert sorted((c.coder, c.start) for c in codings) == [("Ana", 0), ("Ben", 0), ("Ben", 20)]
    assert p.codebook.get_code("Barriers > Fear").guid == ben_guid  # added with its GUID
    assert p.codebook.get_code("Barriers > Delay").definition == "Waiting for approvals."  # ours kept...
    assert any("Slow approvals." in m.body for m in p.memos.list(kind="code"))  # ...theirs in a memo: nothing lost
    assert any(m.body == "Why fear?" for m in p.memos.list(kind="coding"))
    # merging again finds everything already here
    again = p.merge.from_project(folder)
    assert again.codes.added == () and again.codings.added == 0 and again.codings.matched == 2
    assert again.codes.matched_by_guid == ("Barriers > Fear",)
    # one action: undo takes the second merge back, then the first, whole
    assert p.undo().action == "project.merge" and p.undo().action == "project.merge"
    assert len(p.codings.codings_in("a.txt")) == 1 and [c.name for c in p.codebook.codes()] == ["Barriers", "Delay"]


def test_merge_places_codings_on_a_changed_transcript_and_lists_missing_ones(team_project: Any, interview_text: str,
                                                                             tmp_path: Path) -> None:
    p = team_project(transcripts={"a.txt": interview_text.replace("hard", "very hard")})
    other = _copy(interview_text, tmp_path)
    try:
        (other.path / "transcripts" / "b.txt").write_text("Leader B: Only in Ben's copy.\n", encoding="utf-8")
        other.sync()
        other.codebook.add_code("Delay")
        start = interview_text.index("The approval took fourteen months")
        other.codings.add_coding(transcript="a.txt", start=start, end=start + 33, code="Delay")
        other.codings.add_coding(transcript="a.txt", start=interview_text.index("hard"),
                                 end=interview_text.index("hard") + 4, code="Delay")
        other.codings.add_coding(transcript="b.txt", start=10, end=14, code="Delay")
    finally:
        other.close()
    report = p.merge.from_project(tmp_path / "ben-laptop")
    assert report.transcripts == MergedTranscripts(matched=1, changed=("a.txt",), missing=("b.txt",))
    assert report.codings.added == 2 and report.codings.placed_by_quote == 2
    assert report.codings.unplaced == 1
    text = (p.path / "transcripts" / "a.txt").read_text(encoding="utf-8")
    assert sorted(text[c.start:c.end] for c in p.codings.codings_in("a.txt")) == [
        "The approval took fourteen months", "hard"]


def test_merge_refuses_what_is_not_another_sqlite_copy(make_project: Any, tmp_path: Path) -> None:
    p = make_project()
    with pytest.raises(ProjectError, match="SL4311"):
        p.merge.from_project(tmp_path / "nowhere")
    if p.store.dialect == "sqlite":
        with pytest.raises(ProjectError, match="SL4312"):
            p.merge.from_project(p.path)


def test_merge_cli_dry_run_and_json(tmp_path: Path, interview_text: str) -> None:
    ours = tmp_path / "ours"
    assert runner.invoke(app, ["init", str(ours)]).exit_code == 0
    other = _copy(interview_text, tmp_path)
    try:
        other.codebook.add_code("Delay")
        other.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay")
    finally:
        other.close()
    shutil.copy(tmp_path / "ben-laptop" / "transcripts" / "a.txt", ours / "transcripts" / "a.txt")
    assert runner.invoke(app, ["sync", "--project", str(ours)]).exit_code == 0
    dry = runner.invoke(app, ["merge", str(tmp_path / "ben-laptop"), "--dry-run", "--project", str(ours)])
    assert dry.exit_code == 0, dry.output
    assert "Would merge" in dry.output and "1 added" in dry.output and "dry run: nothing changed" in dry.output
    import json

    done = runner.invoke(app, ["merge", str(tmp_path / "ben-laptop"), "--project", str(ours), "--json"])
    assert done.exit_code == 0 and json.loads(done.output)["codings"]["added"] == 1
    out = json.loads(done.output)  # the report's keys, as the dict it was before printed them
    assert list(out) == ["other", "transcripts", "codes", "codings", "memos", "not_merged", "dry_run"]
    assert list(out["codes"]) == ["matched_by_guid", "matched_by_path", "added", "conflicts"]
    assert list(out["transcripts"]) == ["matched", "changed", "missing"] and out["dry_run"] is False
    bad = runner.invoke(app, ["merge", str(tmp_path / "nowhere"), "--project", str(ours)])
    assert bad.exit_code == 1 and "SL4311" in bad.output and "Traceback" not in bad.output
