"""Silent guesses become questions (issue 25, class 8): what a file leaves ambiguous is refused with its line,
or warned about, instead of guessed: a matrix CSV with two outcome columns or an outcome column without one
judged cell (refused), a quoted ';' in a header cell (not taken for the separator), a case named twice (its
line and the first's), a ';' CSV with decimal commas (accepted: 0,5 is 0.5); two REFI-QDA sources of one name
(warned: the second is imported renamed), a REFI-QDA date that is not a date (refused). A refusal changes no
table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.services.test_names import unchanged
from tests.formats.test_refi_hardening import CODE, SRC, qdpx


def _matrix(p: Any, tmp_path: Path, text: str) -> Any:
    path = tmp_path / "matrix.csv"
    path.write_text(text, encoding="utf-8")
    return p.case_tables.import_csv(path)


def refused(p: Any, call: Callable[[], object], code: str) -> str:
    return str(unchanged(p, call, code))


def test_two_outcome_columns_are_refused(make_project: Callable[..., Any], tmp_path: Path) -> None:
    p = make_project()
    err = refused(p, lambda: _matrix(p, tmp_path, "case,Funded (outcome),Lasted (outcome)\nA,1,0\n"), "SL6152")
    assert "matrix.csv, line 1" in err and "'Funded'" in err and "'Lasted'" in err


def test_an_outcome_column_without_a_judged_cell_is_refused(make_project: Callable[..., Any], tmp_path: Path) -> None:
    p = make_project()
    err = refused(p, lambda: _matrix(p, tmp_path, "case,Funded,Lasted (outcome)\nA,1,\nB,0,\n"), "SL6153")
    assert "'Lasted'" in err


def test_a_case_named_twice_names_both_lines(make_project: Callable[..., Any], tmp_path: Path) -> None:
    p = make_project()
    err = refused(p, lambda: _matrix(p, tmp_path, "case,Funded\nProgramme A,1\n\nB,0\nprogramme a,1\n"), "SL6154")
    assert "matrix.csv, line 5" in err and "first at line 2" in err


def test_a_condition_named_twice_names_its_column(make_project: Callable[..., Any], tmp_path: Path) -> None:
    p = make_project()
    err = refused(p, lambda: _matrix(p, tmp_path, "case,Funded,funded\nA,1,0\n"), "SL6154")
    assert "line 1" in err and "header column 2" in err


def test_a_quoted_semicolon_in_a_header_is_not_the_separator(make_project: Callable[..., Any], tmp_path: Path) -> None:
    p = make_project()
    done = _matrix(p, tmp_path, 'case,"Funded; partly",Lasted\nA,1,0\nB,0,1\n')
    assert done.conditions == ("Funded; partly", "Lasted") and done.cells == 4


def test_a_semicolon_csv_with_decimal_commas_is_read(make_project: Callable[..., Any], tmp_path: Path) -> None:
    p = make_project()
    done = _matrix(p, tmp_path, "case;Funded;Lasted (outcome)\nA;0,5;1\nB;1;0,33\n")
    assert done.cells == 4 and done.outcome == "Lasted"
    m = p.cases.matrix()
    assert m.value("A", "Funded") == 0.5 and m.value("B", "Lasted") == 0.33


def _qde(sources: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook>'
            f'<Codes><Code guid="{CODE}" name="Delay" isCodable="true"/></Codes></CodeBook><Sources>{sources}'
            f'</Sources></Project>').encode()


def test_two_refi_sources_of_one_name_are_warned_about(make_project: Callable[..., Any], tmp_path: Path) -> None:
    other = "33333333-3333-3333-3333-333333333333"
    sources = "".join(f'<TextSource guid="{g}" name="Interview A" plainTextPath="internal://{g}.txt"/>'
                      for g in (SRC, other))
    path = qdpx(tmp_path / "dup.qdpx", {"project.qde": _qde(sources), f"sources/{SRC}.txt": b"Leader A: one.\n",
                                        f"sources/{other}.txt": b"Leader A: two.\n"})
    p = make_project()
    report = p.interchange.import_project(path, dry_run=True)
    assert [s["name"] for s in report["sources"]] == ["Interview A", "Interview A (2)"]
    assert len(report["warnings"]) == 1 and "'Interview A (2)'" in report["warnings"][0]


def _dated(tmp_path: Path, value: str) -> Path:
    """A .qdpx with one coded selection whose creationDateTime is ``value``."""
    source = (f'<TextSource guid="{SRC}" name="A" plainTextPath="internal://{SRC}.txt"><PlainTextSelection '
              f'guid="44444444-4444-4444-4444-444444444444" startPosition="0" endPosition="6" '
              f'creationDateTime="{value}"><Coding guid="55555555-5555-5555-5555-555555555555"><CodeRef '
              f'targetGUID="{CODE}"/></Coding></PlainTextSelection></TextSource>')
    return qdpx(tmp_path / "date.qdpx", {"project.qde": _qde(source), f"sources/{SRC}.txt": b"Leader A: one.\n"})


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45T10:00:00", "01/05/2024"])
def test_a_refi_date_that_is_not_a_date_is_refused(value: str, make_project: Callable[..., Any], tmp_path: Path) -> None:
    path = _dated(tmp_path, value)
    p = make_project()
    err = refused(p, lambda: p.interchange.import_project(path), "SL5106")
    assert "creationDateTime" in err and "date.qdpx" in err


def test_a_refi_date_in_xsd_form_is_kept(make_project: Callable[..., Any], tmp_path: Path) -> None:
    path = _dated(tmp_path, "2024-05-01T10:00:00Z")
    p = make_project()
    assert p.interchange.import_project(path)["codings"] == 1


def test_after_a_refi_import_sync_does_not_report_its_sources_missing(make_project: Callable[..., Any],
                                                                      tmp_path: Path) -> None:
    path = qdpx(tmp_path / "one.qdpx", {"project.qde": _qde(f'<TextSource guid="{SRC}" name="Interview A" '
                                                            f'plainTextPath="internal://{SRC}.txt"/>'),
                                        f"sources/{SRC}.txt": b"Leader A: It was hard.\n"})
    p = make_project(transcripts={"b.txt": "Leader B: Fine.\n"})
    p.interchange.import_project(path)
    (p.path / "transcripts" / "b.txt").unlink()
    assert p.sync()["missing"] == ["b.txt"]  # a file that went away is still reported; the REFI source is not


def test_undo_after_a_refi_import_names_the_import_it_cannot_reverse(make_project: Callable[..., Any],
                                                                     tmp_path: Path) -> None:
    """Was "no action yet, or a transcript's text changed": undo now names the import that stops it (SL5304),
    and changes nothing; an action after the import is still undone first."""
    path = qdpx(tmp_path / "one.qdpx", {"project.qde": _qde(f'<TextSource guid="{SRC}" name="Interview A" '
                                                            f'plainTextPath="internal://{SRC}.txt"/>'),
                                        f"sources/{SRC}.txt": b"Leader A: It was hard.\n"})
    p = make_project()
    p.codebook.add_code("Before the import")
    p.interchange.import_project(path)
    p.codebook.add_code("After the import")
    p.undo()
    assert "After the import" not in {c.name for c in p.codebook.codes()}
    message = refused(p, p.undo, "SL5304")
    assert '"Imported REFI-QDA project one.qdpx' in message and "cannot be undone" in message
    assert "Before the import" in {c.name for c in p.codebook.codes()}
