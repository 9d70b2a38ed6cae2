"""Reliability, at the level of the project's services: the cases of the reliability issue that are
about what a project does with what it is given (the readers' own cases are in test_bad_input.py,
the export sinks' in test_export_sinks.py, faults of the machine in test_faults.py).

Every refusal is checked with the table dump: the project is exactly as it was.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from analysis.errors import (
    CodebookFileError, ConflictError, FileRefusedError, ImportFormatError, StoryloomError, ValidationError,
)
from analysis.services.results import ParticipantsApplied

INTERVIEW = ("Interviewer: How did it start?\n\nLeader A: It started with a grant. The ākonga came later.\n\n"
             "Interviewer: And then?\n\nLeader A: The approval took fourteen months.\n")
CSV = "pseudonym,transcript,speaker,unit,role\nLeader A,a.txt,Leader A,Trades,Dean\n"


def dump(project: Any) -> list[tuple[str, list[tuple[Any, ...]]]]:
    with sqlite3.connect(project.path / "project.db") as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table' order by name")]
        return [(t, db.execute(f'select * from "{t}" order by 1').fetchall()) for t in tables]


@pytest.fixture
def study(make_project: Any) -> Any:
    return make_project(transcripts={"a.txt": INTERVIEW, "participants.csv": CSV})


def _write_csv(project: Any, text: str) -> None:
    (project.path / "transcripts" / "participants.csv").write_text(text, encoding="utf-8")


def _attrs(project: Any, who: str = "Leader A") -> dict[str, str]:
    return next(p.attributes for p in project.participants.list() if p.pseudonym == who)


# -- data lost or corrupted ---------------------------------------------------------------------------
def test_csv_never_overwrites_an_in_app_edit_and_reports_the_clash(study: Any) -> None:
    assert _attrs(study) == {"unit": "Trades", "role": "Dean"}
    study.participants.set_attributes("Leader A", {"unit": "Construction"})  # edited in the app
    # another row changes (a new participant): the in-app edit must survive
    _write_csv(study, CSV + "Leader B,b.txt,Leader B,Health,Director\n")
    report = study.sync()
    assert _attrs(study)["unit"] == "Construction" and _attrs(study, "Leader B") == {"unit": "Health", "role": "Director"}
    assert report["participants"]["conflicts"] == []
    # now the file itself changes the edited attribute: kept, and reported
    _write_csv(study, CSV.replace("Trades", "Engineering") + "Leader B,b.txt,Leader B,Health,Director\n")
    report = study.sync()
    assert _attrs(study)["unit"] == "Construction"
    [clash] = report["participants"]["conflicts"]
    assert clash == {"participant": "Leader A", "attribute": "unit", "line": 2, "in_app": "Construction",
                     "in_file": "Engineering", "kept": "Construction"}
    assert study.audit_trail(action="participants.sync")[-1].after["conflicts"] == [clash]  # plain JSON
    # the service itself returns a ParticipantsApplied: an unchanged file is not applied again
    again = study.participants.apply_csv(study.participants.read_csv(), known_transcripts=["a.txt"])
    assert again == ParticipantsApplied(applied=False, written=0, conflicts=(),
                                        warnings=("participants.csv, line 3: transcript 'b.txt' is not in transcripts/",))
    # an attribute the app did not touch follows the file
    _write_csv(study, CSV.replace("Dean", "Provost") + "Leader B,b.txt,Leader B,Health,Director\n")
    study.sync()
    assert _attrs(study) == {"unit": "Construction", "role": "Provost"}


def test_a_short_csv_row_blanks_nothing(study: Any) -> None:
    _write_csv(study, "pseudonym,transcript,speaker,unit,role\nLeader A,a.txt,Leader A\n")
    study.sync()
    assert _attrs(study) == {"unit": "Trades", "role": "Dean"}


def test_the_csv_step_of_sync_is_undoable(study: Any) -> None:
    before = dump(study)
    _write_csv(study, CSV.replace("Dean", "Provost") + "Leader B,a.txt,Someone,Health,Director\n")
    study.sync()
    assert _attrs(study)["role"] == "Provost"
    event = study.undo()
    assert event.action == "participants.sync"
    assert _attrs(study)["role"] == "Dean" and [p.pseudonym for p in study.participants.list()] == ["Leader A"]
    after = dict(dump(study))
    for table in ("participants", "participant_attributes", "variables"):
        assert after[table] == dict(before)[table], table


def test_csv_row_naming_a_missing_transcript_is_a_warning(study: Any) -> None:
    _write_csv(study, CSV + "Leader C,nowhere.txt,Leader C,Arts,Head\n")
    report = study.sync()
    assert any("nowhere.txt" in w and "line 3" in w for w in report["participants"]["warnings"])


@pytest.mark.parametrize("entry, where", [
    ("{transcript: a.txt, code: Delay, quote: fourteen months, start: -5, end: 3}", "codings[0].start"),
    ("{transcript: a.txt, code: Delay, quote: fourteen months, start: abc, end: 3}", "codings[0].start"),
    ("{transcript: a.txt, code: Delay, quote: '', start: 1, end: 3}", "codings[0].quote"),
    ("{transcript: a.txt, code: [Delay], quote: x, start: 1, end: 3}", "codings[0].code"),
    ("{transcript: a.txt, code: Delay, quote: fourteen, start: 9, end: 3}", "codings[0]"),
])
def test_bad_codings_yaml_is_an_error_naming_the_yaml_path(study: Any, tmp_path: Path, entry: str, where: str) -> None:
    study.codebook.add_code("Delay")
    path = tmp_path / "codings.yaml"
    path.write_text(f"codings:\n  - {entry}\n", encoding="utf-8")
    before = dump(study)
    with pytest.raises(CodebookFileError, match=re.escape(f"codings.yaml: {where}")):
        study.codebook_files.import_codings(path)
    assert dump(study) == before


def test_invalid_codings_yaml_is_an_error_with_its_line(study: Any, tmp_path: Path) -> None:
    path = tmp_path / "codings.yaml"
    path.write_text("codings:\n  - transcript: a.txt\n   code: [unclosed\n", encoding="utf-8")
    before = dump(study)
    with pytest.raises(CodebookFileError, match=r"line \d"):
        study.codebook_files.import_codings(path)
    assert dump(study) == before


def test_codings_past_the_end_are_reported(study: Any, tmp_path: Path) -> None:
    study.codebook.add_code("Delay")
    path = tmp_path / "codings.yaml"
    path.write_text("codings:\n  - {transcript: a.txt, code: Delay, quote: fourteen months, start: 5000, end: 5015}\n"
                    "  - {transcript: a.txt, code: Delay, quote: never said this, start: 1, end: 16}\n",
                    encoding="utf-8")
    report = study.codebook_files.import_codings(path)
    assert report.placed == 1 and report.orphaned == 1
    assert "run past the transcript's end" in report.warnings[0] and "placed by its quote" in report.warnings[0]
    assert "kept as an orphan" in report.warnings[1]


@pytest.mark.parametrize("name, problem", [("true", "a yes/no value"), ("[a, b]", "list"), ("12", "int")])
def test_a_codebook_name_that_is_not_text_is_refused(study: Any, tmp_path: Path, name: str, problem: str) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_text(f"codes:\n  - name: {name}\n", encoding="utf-8")
    before = dump(study)
    with pytest.raises(CodebookFileError, match=problem):
        study.codebook_files.import_codebook(path)
    assert dump(study) == before


def test_yaml_yes_stays_the_word_yes(study: Any, tmp_path: Path) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_text("codes:\n  - name: yes\n  - name: 'No'\n", encoding="utf-8")
    study.codebook_files.import_codebook(path)
    assert [c.name for c in study.codebook.codes()] == ["yes", "No"]


# -- crashes and hangs ----------------------------------------------------------------------------------
def test_an_edit_that_changes_nothing_is_no_error_and_no_event(study: Any) -> None:
    study.codebook.add_code("Delay", definition="waiting")
    events = len(study.audit_trail())
    assert study.codebook.edit_code("Delay", definition="waiting").definition == "waiting"
    assert study.codebook.edit_code("Delay").name == "Delay"
    assert len(study.audit_trail()) == events


def test_a_fifo_in_transcripts_is_refused_without_hanging(study: Any) -> None:
    os.mkfifo(study.path / "transcripts" / "pipe.txt")
    before = dump(study)
    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _catch(study.sync, errors), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "sync blocked on a FIFO"
    assert len(errors) == 1 and isinstance(errors[0], FileRefusedError) and "pipe.txt" in str(errors[0])
    assert "named pipe" in str(errors[0]) and dump(study) == before


def _catch(fn: Any, into: list[BaseException]) -> None:
    try:
        fn()
    except BaseException as err:  # noqa: BLE001 - the test inspects it
        into.append(err)


# -- accepted silently before -----------------------------------------------------------------------------
def test_a_symlink_out_of_the_project_is_not_followed(study: Any, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("Someone: a private note outside the project.\n", encoding="utf-8")
    (study.path / "transcripts" / "link.txt").symlink_to(secret)
    before = dump(study)
    with pytest.raises(FileRefusedError, match="link.txt.*outside"):
        study.sync()
    assert dump(study) == before


@pytest.mark.parametrize("name", ["../escape.txt", "a/b.txt", "two\nlines.txt", "\x1b[31mred.txt", "gpj\u202e.txt", ""])
def test_bad_names_through_the_api_are_refused(study: Any, name: str) -> None:
    before = dump(study)
    with pytest.raises(ImportFormatError):
        study.transcripts.import_bytes([(name, b"Leader A: hello there.\n")])
    assert dump(study) == before


@pytest.mark.parametrize("name", ["Bad\nname", "Esc\x1b[2J", "\u202eevil", "x" * 201])
def test_bad_code_and_participant_names_are_refused(study: Any, name: str) -> None:
    before = dump(study)
    with pytest.raises(ValidationError):
        study.codebook.add_code(name)
    with pytest.raises(ValidationError):
        study.participants.add(name)
    assert dump(study) == before


def test_sibling_names_are_unique_in_the_database_too(study: Any) -> None:
    """The check runs inside the write transaction, and the unique index backs it: a writer that
    skipped the check (another process, a bug) still cannot make a duplicate."""
    study.codebook.add_code("Delay")
    with pytest.raises(ConflictError):
        study.codebook.add_code("delay")
    with sqlite3.connect(study.path / "project.db") as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO codes (guid, name, name_key, created_at) VALUES ('x', 'DELAY', 'delay', 'now')")
    with pytest.raises(StoryloomError):
        assert study.ctx.store is not None  # the store is fine afterwards
        study.codebook.add_code(" Delay ")
