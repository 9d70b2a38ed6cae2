"""Names are clean wherever they come from (issue 25, class 2): one check (``analysis.domain.names.check_name``)
at the service boundary refuses control and bidirectional characters, ESC sequences and names over 200
characters from the CLI's services, matrix CSV headers and rows, ``cases.yaml``, ``story.yaml`` (REFI-QDA
imports and merged copies: tests/formats/test_refi_hardening.py, tests/services/test_merge_hardening.py).
Every refusal leaves every table as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis.domain.names import check_name
from analysis.errors import ImportFormatError, StoryloomError, ValidationError
from tests.conftest import table_dump

BAD = {"newline": "Prog\nError: forged", "carriage return": "Prog\rX", "bidi override": "A\u202eB",
       "bidi isolate": "A\u2066B", "escape": "Red\x1b[31mX", "nul": "a\x00b", "zero width": "Del\u200bay",
       "too long": "x" * 1000}
GOOD = ["Programme A", "Te Reo Māori", "Lehrer/innen", "a > b", "x" * 200, "名前"]


@pytest.mark.parametrize("name", GOOD)
def test_ordinary_names_pass_and_come_back_nfc_and_stripped(name: str) -> None:
    assert check_name(f"  {name} ", what="code") == name


@pytest.mark.parametrize("kind", list(BAD))
def test_the_check_refuses_and_shows_the_name_escaped(kind: str) -> None:
    with pytest.raises(ValidationError) as typed:
        check_name(BAD[kind], what="code")
    with pytest.raises(ImportFormatError) as from_file:
        check_name(BAD[kind], what="matrix case", file="matrix.csv", line=3)
    assert typed.value.code == "SL2151" and from_file.value.code == "SL2161"
    assert str(from_file.value).startswith("[SL2161] matrix.csv, line 3:")
    for err in (typed.value, from_file.value):
        assert not any(ch in str(err) for ch in "\n\r\x1b\x00\u202e\u2066\u200b"), str(err)
        assert len(str(err)) < 500


def unchanged(project: Any, call: Callable[[], object], code: str) -> StoryloomError:
    before = table_dump(project.ctx.path)
    with pytest.raises(StoryloomError) as err:
        call()
    assert err.value.code == code, str(err.value)
    assert table_dump(project.ctx.path) == before
    return err.value


@pytest.mark.parametrize("kind", list(BAD))
def test_every_service_that_names_something_checks(kind: str, make_project: Callable[..., Any]) -> None:
    p = make_project()
    bad = BAD[kind]
    calls: list[Callable[[], object]] = [
        lambda: p.codebook.add_code(bad), lambda: p.participants.add(bad), lambda: p.cases.add(bad),
        lambda: p.cases.add_condition(bad), lambda: p.codebook_files.snapshot(bad),
        lambda: p.story.add_period(bad), lambda: p.story.add_event(bad),
        lambda: p.researchers.add(bad, role="lead"),
    ]
    for call in calls:
        unchanged(p, call, "SL2151")


@pytest.mark.parametrize("kind", list(BAD))
@pytest.mark.parametrize("where", ["header", "row"])
def test_matrix_csv_names_are_checked(kind: str, where: str, make_project: Callable[..., Any], tmp_path: Path) -> None:
    bad = BAD[kind]
    quoted = '"' + bad.replace('"', '""') + '"'
    header, row = ("case,Commissioned," + quoted, "Programme A,1,0") if where == "header" else \
        ("case,Commissioned", f"{quoted},1")
    path = tmp_path / "matrix.csv"
    path.write_bytes(f"{header}\r\n{row}\r\n".encode())
    p = make_project()
    err = unchanged(p, lambda: p.case_tables.import_csv(path), "SL2161")
    assert "matrix.csv" in str(err)


@pytest.mark.parametrize("kind", list(BAD))
@pytest.mark.parametrize("where", ["case", "condition"])
def test_cases_yaml_names_are_checked(kind: str, where: str, make_project: Callable[..., Any], tmp_path: Path) -> None:
    import json

    name = json.dumps(BAD[kind])  # a YAML double-quoted scalar holds any character as an escape
    case, cond = (name, '"Commissioned"') if where == "case" else ('"Programme A"', name)
    path = tmp_path / "cases.yaml"
    path.write_text(f"storyloom_cases: 1\nconditions:\n  - name: {cond}\ncases:\n  - name: {case}\n", encoding="utf-8")
    p = make_project()
    err = unchanged(p, lambda: p.case_tables.import_file(path), "SL2161")
    assert "cases.yaml: " in str(err) and f"{where}s[0].name" in str(err)


@pytest.mark.parametrize("kind", list(BAD))
@pytest.mark.parametrize("where", ["periods", "events", "chapters"])
def test_story_yaml_names_are_checked(kind: str, where: str, make_project: Callable[..., Any], tmp_path: Path) -> None:
    import json

    name = json.dumps(BAD[kind])
    entry = {"periods": f"  - name: {name}\n", "events": f"  - name: {name}\n    when: unknown\n",
             "chapters": f"  - title: {name}\n    sections:\n      - heading: One\n        items:\n          - text: Hi\n"}
    path = tmp_path / "story.yaml"
    path.write_text(f"storyloom_story: 1\n{where}:\n{entry[where]}", encoding="utf-8")
    p = make_project()
    err = unchanged(p, lambda: p.story.import_file(path), "SL2161")
    assert "story.yaml: " in str(err) and f"{where}[0]" in str(err)


# -- class 4: a matrix CSV over the cell cap is refused before anything is written ------------------------------
def test_a_huge_matrix_csv_is_refused_at_once(make_project: Callable[..., Any], tmp_path: Path) -> None:
    import time

    from analysis.limits import MATRIX_CELLS

    path = tmp_path / "matrix.csv"
    path.write_text("case," + ",".join(f"C{j}" for j in range(200)) + "\n"
                    + "".join(f"K{i}," + ",".join("1" for _ in range(200)) + "\n" for i in range(10_000)))
    p = make_project()
    start = time.monotonic()
    err = unchanged(p, lambda: p.case_tables.import_csv(path), "SL6151")
    assert time.monotonic() - start < 30 and f"{MATRIX_CELLS:,}" in str(err) and "2,000,000" in str(err)
