"""Cases and cross-case comparison (issue 12): the formulas against hand-computed examples, the
five-programme example, cases/conditions/cells as undoable actions, CSV import in both orientations,
every bad cell, the publication table with its verbatim evidence appendix."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import Project
from analysis.domain.cases import (Case, Cell, Condition, Contradiction, IncompleteCase, Matrix, Separating, compare,
                                   format_cell, matrix_table, parse_value)
from analysis.cli import app
from analysis.errors import ConflictError, ExportError, ImportFormatError, NotFoundError, QuoteIntegrityError, ValidationError

# The study the product was designed from: five programmes, conditions, and whether each gained traction.
PROGRAMMES = ["Programme A", "Programme B", "Programme C", "Programme D", "Programme E"]
CONDITIONS: dict[str, list[int]] = {
    "Learning attached": [1, 1, 1, 0, 1],
    "Commissioned by a client": [1, 1, 0, 0, 0],
    "Involved upskilling": [1, 0, 1, 1, 0],
    "Useful to learners": [1, 1, 1, 1, 0],
    "Assessment only": [0, 0, 1, 0, 1],
    "Approved within a year": [1, 0, 0, 1, 1],
    "Funded": [1, 1, 0, 1, 1],
    "Employer involved": [1, 1, 1, 0, 0],
    "Online": [0, 1, 1, 0, 1],
    "Stackable": [1, 0, 0, 0, 1],
}
TRACTION = [1, 1, 0, 0, 0]


def _matrix(values: dict[str, list[float | None]], cases: list[str], outcome: str) -> Matrix:
    conds = tuple(Condition(i, f"g{i}", n, is_outcome=n == outcome) for i, n in enumerate(values))
    return Matrix(tuple(Case(i, f"c{i}", n) for i, n in enumerate(cases)), conds,
                  {(c, k): Cell(v) for k, vs in values.items() for c, v in zip(cases, vs) if v is not None})


def _programmes() -> Matrix:
    return _matrix({**CONDITIONS, "Gained traction": TRACTION}, PROGRAMMES, "Gained traction")  # type: ignore[dict-item]


# -- the formulas -----------------------------------------------------------------------------------
def test_crisp_measures_by_hand() -> None:
    # x = 1 1 0 1, y = 1 0 0 1: Σmin = 2, Σx = 3, Σy = 2
    m = _matrix({"X": [1, 1, 0, 1], "Y": [1, 0, 0, 1]}, ["a", "b", "c", "d"], "Y")
    row = compare(m, "Y").conditions[0]
    assert row.sufficiency_consistency == round(2 / 3, 4)
    assert row.sufficiency_coverage == 1.0
    assert row.necessity_consistency == 1.0
    assert row.necessity_coverage == round(2 / 3, 4)
    assert row.present_in_all_outcome_cases and not row.absent_in_all_other_cases


def test_fuzzy_measures_by_hand() -> None:
    # x = .8 .6 .2 .9, y = .7 .9 .1 .4: min = .7 .6 .1 .4 -> 1.8; Σx = 2.5; Σy = 2.1
    m = _matrix({"X": [0.8, 0.6, 0.2, 0.9], "Y": [0.7, 0.9, 0.1, 0.4]}, ["a", "b", "c", "d"], "Y")
    row = compare(m, "Y").conditions[0]
    assert row.sufficiency_consistency == pytest.approx(1.8 / 2.5, abs=1e-4)
    assert row.sufficiency_coverage == pytest.approx(1.8 / 2.1, abs=1e-4)
    assert row.necessity_consistency == pytest.approx(1.8 / 2.1, abs=1e-4)
    assert row.necessity_coverage == pytest.approx(1.8 / 2.5, abs=1e-4)
    # the truth table: a and b are in X with the outcome; d in X without it; c out of X
    result = compare(m, "Y")
    rows = {tuple(r.configuration.values()): r for r in result.truth_table}
    assert rows[(1,)].cases == ("a", "b", "d") and rows[(1,)].outcome == "contradictory"
    # consistency of configuration X=1: Σmin(x, y) / Σx over all cases = 1.8 / 2.5
    assert rows[(1,)].consistency == pytest.approx(1.8 / 2.5, abs=1e-4)
    # of X=0 (membership 1-x = .2 .4 .8 .1; min with y = .2 .4 .1 .1 -> .8; Σ = 1.5)
    assert rows[(0,)].consistency == pytest.approx(0.8 / 1.5, abs=1e-4)
    assert result.contradictions[0].without_outcome == ("d",)


def test_five_programmes_exactly_one_condition_separates() -> None:
    result = compare(_programmes(), "Gained traction")
    assert result.separating == (Separating("Commissioned by a client", "present"),)
    client = next(r for r in result.conditions if r.name == "Commissioned by a client")
    assert client.necessity_consistency == client.sufficiency_consistency == 1.0
    assert client.sufficiency_coverage == client.necessity_coverage == 1.0
    useful = next(r for r in result.conditions if r.name == "Useful to learners")
    assert useful.necessity_consistency == 1.0 and useful.sufficiency_consistency == 0.5
    assert "Useful to learners" in result.necessary and "Commissioned by a client" in result.sufficient
    assert result.descriptive_only and "too few cases" in result.note
    assert result.with_outcome == ("Programme A", "Programme B")
    assert len(result.truth_table) == 5 and result.contradictions == ()
    assert any(c.conditions == ("Learning attached", "Commissioned by a client") for c in result.conjunctions)


def test_unjudged_cells_do_not_count_and_contradictions_are_flagged() -> None:
    m = _matrix({"X": [1, 1, None, 0], "Y": [1, 0, 1, None]}, ["a", "b", "c", "d"], "Y")
    result = compare(m, "Y")
    assert result.cases == ("a", "b", "c") and result.not_judged_on_outcome == ("d",)
    row = result.conditions[0]
    assert row.cases_judged == 2 and not row.present_in_all_outcome_cases  # c is not judged on X
    assert result.incomplete_cases == (IncompleteCase("c", not_judged=("X",), at_half=()),)
    assert result.contradictions == (Contradiction(configuration={"X": 1}, with_outcome=("a",), without_outcome=("b",)),)


def test_values_and_symbols() -> None:
    assert [parse_value(v) for v in ("1", "0", "✓", "✗", "X", "yes", "no", "0.67", "", "clear")] == [
        1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.67, None, None]
    for bad in ("2", "-0.1", "maybe", "nan"):
        with pytest.raises(ValidationError):
            parse_value(bad)
    assert [format_cell(v) for v in (1.0, 0.0, 0.5, 0.67, None)] == ["✓", "✗", "0.5", "0.67", "–"]
    header, rows = matrix_table(_programmes(), cases_as="columns")
    assert header[0] == "condition" and rows[-1][0] == "Gained traction (outcome)"
    assert rows[-1][1:] == ["✓", "✓", "✗", "✗", "✗"]


# -- the service ------------------------------------------------------------------------------------
INTERVIEW = """Interviewer: Who asked for the programme?

Leader A: The regional council commissioned it from us, and they sent their staff.

Interviewer: And the other one?

Leader A: Nobody commissioned the trades badge; we built it hoping someone would come.
"""


@pytest.fixture
def study(make_project: Callable[..., Project]) -> Project:
    p = make_project(transcripts={"Interview 1.txt": INTERVIEW, "participants.csv":
                                  "pseudonym,transcript,speaker,interviewer\nLeader A,Interview 1.txt,Leader A,\n"})
    code = p.codebook.add_code("Commissioned by client")
    full = p.transcripts.get("Interview 1.txt").text
    start = full.index("The regional council")
    p.codings.add_coding(transcript="Interview 1.txt", start=start,
                         end=start + len("The regional council commissioned it from us"), code=code.id)
    return p


def _coding_ids(p: Project) -> list[int]:
    return [int(i) for i in p.explore.codings_frame()["coding_id"]]


def test_cases_conditions_cells_and_undo(study: Project) -> None:
    p = study
    case = p.cases.add("Programme A", kind="programme", description="Council-commissioned",
                       attributes={"sector": "health"}, participants=["Leader A"])
    assert case.kind == "programme" and case.attributes == {"sector": "health"} and case.participants == ("Leader A",)
    with pytest.raises(ConflictError):
        p.cases.add("programme a")
    with pytest.raises(ValidationError):
        p.cases.add("  ")
    cond = p.cases.add_condition("Commissioned", code="Commissioned by client")
    p.cases.add_condition("Traction", outcome=True)
    [coding] = _coding_ids(p)
    p.cases.link("Programme A", coding=coding)
    with pytest.raises(ConflictError):
        p.cases.link("Programme A", coding=coding)
    with pytest.raises(NotFoundError):
        p.cases.link("Programme A", coding=9999)
    s = p.cases.suggestion("Programme A", "Commissioned")
    assert s is not None and s.machine and s.evidence == (coding,) and "1 passage(s) coded" in s.reason
    assert p.cases.matrix().value("Programme A", "Commissioned") is None  # a suggestion sets nothing
    p.cases.accept_suggestion("Programme A", "Commissioned")
    cell = p.cases.matrix().cells[("Programme A", "Commissioned")]
    assert cell.value == 1.0 and cell.origin == "suggestion" and cell.evidence == (coding,)
    p.cases.set_cell("Programme A", "Traction", "0.67", note="partly")
    with pytest.raises(ValidationError):
        p.cases.set_cell("Programme A", "Traction", "1.5")
    assert p.cases.matrix().value("Programme A", "Traction") == 0.67
    assert cond.code == "Commissioned by client"
    assert "1 judgement accepted a machine suggestion" in p.cases.methods_paragraph()

    # every action is audited, and undo walks them back one by one
    kinds = [e.action for e in p.audit_trail(action="case.*")]
    assert kinds == ["case.add", "case.condition.add", "case.condition.add", "case.link", "case.cell.set",
                     "case.cell.set"]
    before = p.cases.matrix().to_json()
    p.cases.remove("Programme A")
    assert p.cases.list() == []
    p.undo()
    assert p.cases.matrix().to_json() == before  # attributes, links, cells and evidence all back
    p.cases.edit("Programme A", new_name="Programme Alpha", attributes={"sector": "education"})
    assert p.cases.get("programme alpha").attributes == {"sector": "education"}
    p.undo()
    assert p.cases.get("Programme A").attributes == {"sector": "health"}
    p.cases.clear_cell("Programme A", "Commissioned")
    assert ("Programme A", "Commissioned") not in p.cases.matrix().cells
    p.undo()
    p.cases.remove_condition("Commissioned")
    p.undo()
    p.cases.unlink("Programme A", coding=coding)
    assert p.cases.matrix().cells[("Programme A", "Commissioned")].evidence == ()
    p.undo()
    assert p.cases.matrix().to_json() == before
    for _ in range(6):
        p.undo()
    assert p.cases.list() == [] and p.cases.conditions() == []
    p.redo()
    assert [c.name for c in p.cases.list()] == ["Programme A"]


def test_undo_and_redo_of_every_case_and_matrix_action(study: Project, tmp_path: Path) -> None:
    p = study
    [coding] = _coding_ids(p)
    (tmp_path / "m.csv").write_text("case,Useful,Traction (outcome)\nProgramme A,1,\nProgramme C,0,1\n",
                                    encoding="utf-8")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("case.add", lambda: p.cases.add("Programme A", kind="programme", attributes={"sector": "health"})),
        ("case.add", lambda: p.cases.add("Programme B")),
        ("case.edit", lambda: p.cases.edit("Programme B", new_name="Programme Beta", kind="unit",
                                           description="d", attributes={"level": "4"})),
        ("case.link", lambda: p.cases.link("Programme A", participant="Leader A")),
        ("case.link", lambda: p.cases.link("Programme A", coding=coding)),
        ("case.from_participants", lambda: p.cases.from_participants()),
        ("case.condition.add", lambda: p.cases.add_condition("Commissioned", code="Commissioned by client")),
        ("case.condition.add", lambda: p.cases.add_condition("Traction", outcome=True)),
        ("case.condition.edit", lambda: p.cases.edit_condition("Commissioned", new_name="Commissioned by a client",
                                                               description="1: asked for", untie=True)),
        ("case.condition.edit", lambda: p.cases.edit_condition("Commissioned by a client", code="Commissioned by client")),
        ("case.cell.set", lambda: p.cases.accept_suggestion("Programme A", "Commissioned by a client")),
        ("case.cell.set", lambda: p.cases.set_cell("Programme Beta", "Traction", 0.33, note="hardly")),
        ("case.cell.evidence", lambda: p.cases.attach_evidence("Programme Beta", "Commissioned by a client", [coding])),
        ("case.cell.evidence", lambda: p.cases.detach_evidence("Programme A", "Commissioned by a client", coding)),
        ("case.cell.clear", lambda: p.cases.clear_cell("Programme Beta", "Traction")),
        ("case.matrix.import", lambda: p.case_tables.import_csv(tmp_path / "m.csv")),
        ("case.unlink", lambda: p.cases.unlink("Programme A", participant="Leader A")),
        ("case.unlink", lambda: p.cases.unlink("Programme Beta", coding=coding)),
        ("case.condition.remove", lambda: p.cases.remove_condition("Useful")),
        ("case.remove", lambda: p.cases.remove("Programme A")),
    ]
    for kind, step in steps:
        before = p.cases.matrix().to_json()
        step()
        after = p.cases.matrix().to_json()
        assert after != before, kind
        assert p.audit_trail()[-1].action == kind
        p.undo()
        assert p.cases.matrix().to_json() == before, f"undo of {kind}"
        p.redo()
        assert p.cases.matrix().to_json() == after, f"redo of {kind}"


def test_undo_of_a_coding_removal_restores_its_evidence_links(study: Project) -> None:
    p = study
    p.cases.add("Programme A", kind="programme")
    p.cases.add("Programme B", kind="programme")
    p.cases.add_condition("Commissioned")
    [coding] = _coding_ids(p)
    p.cases.set_cell("Programme A", "Commissioned", 1, evidence=[coding], note="the council")
    p.cases.link("Programme B", coding=coding)
    before = p.cases.matrix().to_json()
    assert before["cells"][0]["evidence"] == [coding]

    p.codings.remove_coding(coding)  # the links go with the coding, the judgement stays
    after = p.cases.matrix()
    assert after.cells[("Programme A", "Commissioned")].evidence == () and after.value("Programme A", "Commissioned") == 1
    assert all(c.evidence == () for c in after.cases)
    p.undo()
    assert p.cases.matrix().to_json() == before  # links to both cases and the cell's evidence are back
    p.redo()
    assert p.cases.get("Programme A").evidence == ()
    p.undo()

    p.codebook.delete_code("Commissioned by client", discard=True)  # a code deleted with its codings
    assert p.cases.get("Programme B").evidence == ()
    p.undo()
    assert p.cases.matrix().to_json() == before
    assert p.cases.evidence("Programme A")["cells"].tolist() == ["Commissioned"]


def test_methods_report_says_how_the_matrix_was_built(study: Project, tmp_path: Path) -> None:
    p = study
    assert p.exports.methods_report().matrix_paragraph == ""  # no cases: no paragraph
    for name in ("Programme A", "Programme B"):
        p.cases.add(name, kind="programme")
    p.cases.add_condition("Commissioned", code="Commissioned by client")
    p.cases.add_condition("Useful")
    p.cases.add_condition("Traction", outcome=True)
    [coding] = _coding_ids(p)
    p.cases.link("Programme A", coding=coding)
    p.cases.accept_suggestion("Programme A", "Commissioned")
    p.cases.set_cell("Programme B", "Commissioned", 0, note="nobody asked for it")
    p.cases.set_cell("Programme A", "Useful", 0.67)
    p.cases.set_cell("Programme A", "Traction", 1)
    report = p.exports.methods_report()
    para = report.matrix_paragraph
    assert para.startswith("Cases were compared in a case x condition matrix: 2 cases (programme) against "
                           "2 conditions and the outcome 'Traction'.")
    assert "judged 4 of the 6 cells (present, absent, or partial membership for 1)" in para
    assert "1 of the judged cells are justified by coded passages linked as evidence (1 link in all)" in para
    assert "2 by a written justification" in para and "1 judgement accepted a machine suggestion" in para
    assert report.counts["matrix"]["suggestions_accepted"] == 1
    assert para in report.markdown and "| Matrix cells judged | 4 |" in report.markdown
    assert "| Judged cells from accepted machine suggestions | 1 |" in report.markdown
    out = CliRunner().invoke(app, ["report", "methods", "--output", str(tmp_path / "m.docx"), "--format", "docx",
                                   "--project", str(p.path)])
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(tmp_path / "m.docx") as z:
        assert "case x condition matrix: 2 cases" in z.read("word/document.xml").decode("utf-8")
    p.undo()  # the outcome cell
    p.undo()
    p.undo()
    p.undo()  # the accepted suggestion
    assert "No judgement was taken from a machine suggestion" in p.exports.methods_report().matrix_paragraph


def test_cases_from_participants(study: Project) -> None:
    made = study.cases.from_participants()
    assert made == ["Leader A"]
    assert study.cases.get("Leader A").participants == ("Leader A",)
    assert study.cases.from_participants() == []  # once only
    study.undo()
    study.undo()
    assert study.cases.list() == []


def _five(p: Project) -> None:
    for name in PROGRAMMES:
        p.cases.add(name, kind="programme")
    for cond, values in {**CONDITIONS, "Gained traction": TRACTION}.items():
        p.cases.add_condition(cond, outcome=cond == "Gained traction")
        for case, v in zip(PROGRAMMES, values):
            p.cases.set_cell(case, cond, v)


def test_compare_through_the_service_and_cli(study: Project) -> None:
    _five(study)
    result = study.cases.compare()
    assert result.outcome == "Gained traction"
    assert [s.name for s in result.separating] == ["Commissioned by a client"]
    out = CliRunner().invoke(app, ["compare", "--outcome", "gained traction", "--project", str(study.path), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) >= {"outcome", "cases", "conditions", "truth_table", "contradictions"}
    assert set(data["conditions"][0]) >= {"name", "necessity_consistency", "necessity_coverage",
                                         "sufficiency_consistency", "sufficiency_coverage",
                                         "present_in_all_outcome_cases", "absent_in_all_other_cases"}
    assert list(data) == ["outcome", "cases", "with_outcome", "without_outcome", "not_judged_on_outcome", "conditions",
                          "separating", "necessary", "sufficient", "conjunctions", "truth_table", "contradictions",
                          "incomplete_cases", "descriptive_only", "note", "thresholds"]  # the keys as they always were
    assert data["separating"] == [{"name": "Commissioned by a client", "direction": "present"}]
    assert data["thresholds"] == {"necessity": 0.9, "sufficiency": 0.8} and data["incomplete_cases"] == []
    study.cases.set_cell("Programme E", "Stackable", 0.5)  # at 0.5: left out of the truth table
    assert study.cases.compare().incomplete_cases[0].at_half == ("Stackable",)
    out = CliRunner().invoke(app, ["compare", "--project", str(study.path), "--json"])
    assert json.loads(out.stdout)["incomplete_cases"] == [{"case": "Programme E", "not_judged": [],
                                                           "at_0.5": ["Stackable"]}]
    study.undo()
    text = CliRunner().invoke(app, ["compare", "--project", str(study.path)])
    assert text.exit_code == 0 and text.stdout.startswith("Outcome: Gained traction  (with: Programme A, Programme B;")
    assert "'Commissioned by a client' separates the cases with 'Gained traction'" in text.stdout, text.stdout
    assert "too few cases" in text.stdout
    shown = CliRunner().invoke(app, ["matrix", "show", "--project", str(study.path), "--json"])
    cells = json.loads(shown.stdout)["cells"]
    assert len(cells) == 55 and set(cells[0]) >= {"case", "condition", "value", "evidence", "note"}


# -- CSV import ---------------------------------------------------------------------------------------
ROWS_CSV = "case,Commissioned,Useful,Traction (outcome)\nP1,1,✓,yes\nP2,0,✗,no\nP3,X,0.5,\n"
COLUMNS_CSV = "condition,P1,P2,P3\nCommissioned,1,0,X\nUseful,✓,✗,0.5\nTraction (outcome),yes,no,\n"
SEMICOLON_CSV = "\ufeffcase;Commissioned;Useful;Traction (outcome)\r\nP1;1;✓;yes\r\nP2;0;✗;no\r\nP3;X;0.5;\r\n"


@pytest.mark.parametrize("text", [ROWS_CSV, COLUMNS_CSV, SEMICOLON_CSV, COLUMNS_CSV.replace(",", "\t")])
def test_import_both_orientations(study: Project, tmp_path: Path, text: str) -> None:
    path = tmp_path / "matrix.csv"
    path.write_text(text, encoding="utf-8")
    report = study.case_tables.import_csv(path)
    assert report.cells == 8 and report.outcome == "Traction"
    m = study.cases.matrix()
    assert m.outcome == "Traction" and m.value("P3", "Useful") == 0.5 and m.value("P3", "Traction") is None
    assert m.value("P1", "Commissioned") == 1.0 and m.value("P2", "Useful") == 0.0
    study.undo()
    assert study.cases.list() == [] and study.cases.conditions() == []


def test_import_matches_existing_names_and_takes_orientation_option(study: Project, tmp_path: Path) -> None:
    study.cases.add("P1", kind="programme")
    path = tmp_path / "m.csv"
    path.write_text("Programme,useful\np1,1\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        study.case_tables.import_csv(path)
    assert "first header cell is 'Programme'" in str(err.value) and "line 1" in str(err.value)
    study.case_tables.import_csv(path, cases_as="rows")
    assert [c.name for c in study.cases.list()] == ["P1"] and study.cases.matrix().value("P1", "useful") == 1.0


BAD_CELLS = ["maybe", "2", "-1", "1.5", "✔✔", "clear", "nan", "inf", "1,0", "0.5.1", "?!", "yes please", "'1"]


@pytest.mark.parametrize("bad", BAD_CELLS)
@pytest.mark.parametrize("orientation", ["rows", "columns"])
def test_every_bad_cell_names_row_and_column_and_writes_nothing(study: Project, tmp_path: Path, bad: str,
                                                                orientation: str) -> None:
    study.cases.add("P2")
    path = tmp_path / "bad.csv"
    quoted = f'"{bad}"' if "," in bad else bad
    if orientation == "rows":
        path.write_text(f"case,Commissioned,Useful\nP1,1,1\nP2,0,{quoted}\n", encoding="utf-8")
        where = "row 'P2', column 'Useful'"
    else:
        path.write_text(f"condition,P1,P2\nCommissioned,1,0\nUseful,1,{quoted}\n", encoding="utf-8")
        where = "row 'Useful', column 'P2'"
    before = study.version()
    with pytest.raises(ImportFormatError) as err:
        study.case_tables.import_csv(path)
    assert where in str(err.value) and "line 3" in str(err.value) and "bad.csv" in str(err.value)
    assert f"'{bad}' is not a cell value" in str(err.value) and "Nothing was imported" in str(err.value)
    assert study.version() == before and [c.name for c in study.cases.list()] == ["P2"] and study.cases.conditions() == []


@pytest.mark.parametrize("text, words", [
    ("", "no header row"),
    ("case,A,a\nP1,1,0\n", "appears twice"),
    ("case,A\nP1,1\np1,0\n", "appears twice"),
    ("case,A\n,1\n", "name is empty"),
    ("case,A\nP1,1,1\n", "has 3 cells"),
])
def test_bad_matrix_files(study: Project, tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        study.case_tables.import_csv(path)
    assert words in str(err.value)
    assert study.cases.list() == []


# -- publication ---------------------------------------------------------------------------------------
def test_exports_every_format_with_verbatim_evidence(study: Project, tmp_path: Path) -> None:
    p = study
    p.cases.add("Programme A", kind="programme")
    p.cases.add("Programme B", kind="programme")
    p.cases.add_condition("Commissioned", code="Commissioned by client")
    p.cases.add_condition("Traction", outcome=True)
    [coding] = _coding_ids(p)
    p.cases.set_cell("Programme A", "Commissioned", 1, evidence=[coding], note="The council asked for it.")
    p.cases.set_cell("Programme B", "Commissioned", 0)
    p.cases.set_cell("Programme A", "Traction", 1)
    p.cases.set_cell("Programme B", "Traction", 0)
    quote = "The regional council commissioned it from us"
    for fmt in ("md", "html", "tex", "docx", "csv", "xlsx"):
        out = p.case_tables.export(tmp_path / f"matrix.{fmt}", evidence=True)
        data = out.read_bytes()
        if fmt == "docx":
            data = zipfile.ZipFile(out).read("word/document.xml")
        if fmt == "xlsx":
            from openpyxl import load_workbook

            sheet = load_workbook(out).active
            data = " ".join(str(c.value) for row in sheet.iter_rows() for c in row).encode("utf-8")
        text = data.decode("utf-8-sig")
        if fmt in ("csv", "xlsx"):
            assert "condition" in text and "Traction (outcome)" in text
        else:
            assert quote in text and "Leader A" in text, fmt
            assert ("✓" in text or r"\cmark" in text) and "Commissioned" in text
    exports = [e for e in p.audit_trail(action="case.matrix.export")]
    assert len(exports) == 6
    # the CSV export reads back as the same matrix
    before = p.cases.matrix().to_json()["cells"]
    p.case_tables.import_csv(tmp_path / "matrix.csv")
    assert [(c["case"], c["condition"], c["value"]) for c in p.cases.matrix().to_json()["cells"]] == [
        (c["case"], c["condition"], c["value"]) for c in before]


def test_export_stops_when_evidence_no_longer_matches(study: Project, tmp_path: Path) -> None:
    p = study
    p.cases.add("Programme A")
    p.cases.add_condition("Commissioned")
    [coding] = _coding_ids(p)
    p.cases.set_cell("Programme A", "Commissioned", 1, evidence=[coding])
    # a stored quote that differs from its transcript (written behind Storyloom's back)
    with sqlite3.connect(p.path / "project.db") as db:
        db.execute("UPDATE codings SET quote = 'The regional council invented it' WHERE id = ?", (coding,))
    with pytest.raises(QuoteIntegrityError):
        p.case_tables.export(tmp_path / "m.md", evidence=True)
    assert not (tmp_path / "m.md").exists()
    # a passage orphaned by a re-import of its transcript
    (p.transcripts_dir / "Interview 1.txt").write_text(INTERVIEW.replace(
        "The regional council commissioned it from us, and they sent their staff.", "We never said."), encoding="utf-8")
    p.sync()
    with pytest.raises(ExportError) as err:
        p.case_tables.export(tmp_path / "m.md", evidence=True)
    assert "SL6020" in str(err.value) and "Programme A" in str(err.value)
    p.case_tables.export(tmp_path / "m.md")  # without the appendix it still exports


def test_cli_case_commands(study: Project, tmp_path: Path) -> None:
    run = CliRunner()
    proj = ["--project", str(study.path)]

    def ok(*args: str) -> str:
        out = run.invoke(app, [*args, *proj])
        assert out.exit_code == 0, out.output
        return out.stdout

    ok("case", "add", "Programme A", "--kind", "programme", "--attribute", "sector=health")
    ok("condition", "add", "Commissioned", "--code", "Commissioned by client")
    ok("condition", "add", "Traction", "--outcome")
    [coding] = _coding_ids(study)
    ok("case", "link", "Programme A", "--coding", str(coding))
    ok("matrix", "set", "Programme A", "Commissioned", "1", "--evidence", str(coding), "--note", "asked for")
    ok("matrix", "set", "Programme A", "Traction", "0.67")
    listed = json.loads(ok("case", "list", "--json"))
    assert listed["cases"][0]["attributes"] == {"sector": "health"}
    shown = json.loads(ok("matrix", "show", "--json"))
    assert {"case": "Programme A", "condition": "Commissioned", "value": 1.0, "evidence": [coding],
            "note": "asked for"}.items() <= shown["cells"][0].items()
    ok("matrix", "export", "--format", "md", "--output", str(tmp_path / "m.md"), "--evidence")
    assert "asked for" in (tmp_path / "m.md").read_text(encoding="utf-8")
    bad = run.invoke(app, ["matrix", "set", "Programme A", "Traction", "lots", *proj])
    assert bad.exit_code == 1 and "SL6007" in bad.output
    missing = run.invoke(app, ["case", "remove", "Nope", *proj])
    assert missing.exit_code == 1 and "No case named 'Nope'" in missing.output
    ok("case", "remove", "Programme A")
    ok("undo")
    assert study.cases.get("Programme A").evidence == (coding,)


def test_cli_every_command_and_json_shape_of_the_issue(study: Project, tmp_path: Path) -> None:
    run = CliRunner()
    proj = ["--project", str(study.path)]

    def js(*args: str) -> dict[str, object]:
        out = run.invoke(app, [*args, *proj, "--json"])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def fails(*args: str) -> str:
        out = run.invoke(app, [*args, *proj])
        assert out.exit_code == 1 and "Traceback" not in out.output, out.output
        return out.output

    added = js("case", "add", "Programme A", "--kind", "programme", "--description", "Council-commissioned",
               "--attribute", "sector=health", "--attribute", "level=4")
    assert {k: added[k] for k in ("name", "kind", "description", "attributes")} == {
        "name": "Programme A", "kind": "programme", "description": "Council-commissioned",
        "attributes": {"sector": "health", "level": "4"}}
    js("case", "add", "Programme B")
    assert [c["name"] for c in js("case", "list")["cases"]] == ["Programme A", "Programme B"]  # type: ignore[index]
    assert js("condition", "add", "Commissioned", "--code", "Commissioned by client")["code"] == "Commissioned by client"
    assert js("condition", "add", "Traction", "--outcome")["outcome"] is True
    [coding] = _coding_ids(study)
    assert js("case", "link", "Programme A", "--coding", str(coding))["linked"] is True
    cell = js("matrix", "set", "programme a", "commissioned", "1", "--evidence", str(coding), "--note", "asked")
    assert cell == {"case": "Programme A", "condition": "Commissioned", "value": 1.0, "evidence": [coding],
                    "note": "asked"}
    assert js("matrix", "set", "Programme B", "Commissioned", "0.25")["value"] == 0.25
    js("matrix", "set", "Programme A", "Traction", "1")
    js("matrix", "set", "Programme B", "Traction", "0")
    assert js("matrix", "set", "Programme B", "Commissioned", "clear")["value"] is None
    js("matrix", "set", "Programme B", "Commissioned", "0")
    shown = js("matrix", "show")
    assert set(shown) == {"cases", "conditions", "cells"}
    assert [c["name"] for c in shown["conditions"]] == ["Commissioned", "Traction"]  # type: ignore[index]
    assert all(set(c) >= {"case", "condition", "value", "evidence", "note"} for c in shown["cells"])  # type: ignore[union-attr]
    assert len(shown["cells"]) == 4  # type: ignore[arg-type]
    compared = js("compare", "--outcome", "Traction")
    assert set(compared) >= {"outcome", "cases", "conditions", "truth_table", "contradictions"}
    assert compared["conditions"] == [{  # type: ignore[comparison-overlap]
        "name": "Commissioned", "cases_judged": 2, "necessity_consistency": 1.0, "necessity_coverage": 1.0,
        "sufficiency_consistency": 1.0, "sufficiency_coverage": 1.0, "present_in_all_outcome_cases": True,
        "absent_in_all_other_cases": True}]
    assert "SL6007" in fails("matrix", "set", "Programme A", "Traction", "2")
    assert "No condition named 'Nope'" in fails("matrix", "set", "Programme A", "Nope", "1")

    # import in both orientations, and with --cases-as when the first header cell says neither
    (tmp_path / "rows.csv").write_text("case,Useful\nProgramme A,yes\nProgramme C,✗\n", encoding="utf-8")
    imported = js("matrix", "import", str(tmp_path / "rows.csv"))
    assert imported["new_cases"] == ["Programme C"] and imported["new_conditions"] == ["Useful"]
    (tmp_path / "cols.csv").write_text("condition,Programme A,Programme C\nOnline,X,\n", encoding="utf-8")
    assert js("matrix", "import", str(tmp_path / "cols.csv"))["cells"] == 1
    (tmp_path / "plain.csv").write_text("programme,Funded\nProgramme C,1\n", encoding="utf-8")
    assert "first header cell is 'programme'" in fails("matrix", "import", str(tmp_path / "plain.csv"))
    assert js("matrix", "import", str(tmp_path / "plain.csv"), "--cases-as", "rows")["cells"] == 1
    (tmp_path / "bad.csv").write_text("condition,Programme A,Programme C\nStackable,1,sometimes\n", encoding="utf-8")
    version = study.version()
    said = fails("matrix", "import", str(tmp_path / "bad.csv"))
    assert "bad.csv" in said and "line 2" in said and "row 'Stackable', column 'Programme C'" in said
    assert study.version() == version and "Stackable" not in [c.name for c in study.cases.conditions()]

    for fmt in ("md", "docx", "tex", "html", "csv", "xlsx"):
        out = js("matrix", "export", "--format", fmt, "--output", str(tmp_path / f"m.{fmt}"), "--evidence")
        assert out["path"] == str(tmp_path / f"m.{fmt}") and out["warnings"] == []
    assert js("matrix", "export", "--output", str(tmp_path / "m2.csv"))["path"] == str(tmp_path / "m2.csv")
    assert not (tmp_path / "m2-evidence.csv").exists()
    assert js("case", "remove", "Programme A") == {"removed": "Programme A"}
    run.invoke(app, ["undo", *proj])
    assert study.cases.matrix().cells[("Programme A", "Commissioned")].evidence == (coding,)


def test_evidence_appendix_is_verbatim_in_every_format(study: Project, tmp_path: Path) -> None:
    """Each justifying quote is printed exactly as the transcript has it (escaped only as the format needs),
    with its attribution, under its cell; CSV's appendix is a second file, XLSX's a second sheet."""
    import html

    p = study
    full = p.transcripts.get("Interview 1.txt").text
    second = "Nobody commissioned the trades badge; we built it hoping someone would come."
    p.codings.add_coding(transcript="Interview 1.txt", start=full.index(second),
                         end=full.index(second) + len(second), code="Commissioned by client")
    first, other = _coding_ids(p)
    quotes = {first: full[p.explore.codings_frame().set_index("coding_id").loc[first, "start"]:][:44], other: second}
    assert quotes[first] == "The regional council commissioned it from us"
    p.cases.add("Programme A", kind="programme")
    p.cases.add("Programme B", kind="programme")
    p.cases.add_condition("Commissioned by a client")
    p.cases.add_condition("Traction", outcome=True)
    p.cases.set_cell("Programme A", "Commissioned by a client", 1, evidence=[first], note="Council asked.")
    p.cases.set_cell("Programme B", "Commissioned by a client", 0, evidence=[other], note="Nobody asked.")
    p.cases.set_cell("Programme A", "Traction", 1)
    p.cases.set_cell("Programme B", "Traction", 0)
    attribution = "(Leader A, Interview 1.txt"

    def appendix(text: str, start: str) -> str:
        assert start in text
        return text[text.index(start):]

    md = appendix(p.case_tables.export(tmp_path / "m.md", evidence=True).read_text(encoding="utf-8"), "## Evidence")
    tex = appendix(p.case_tables.export(tmp_path / "m.tex", evidence=True).read_text(encoding="utf-8"), r"\section*{Evidence}")
    page = appendix(p.case_tables.export(tmp_path / "m.html", evidence=True).read_text(encoding="utf-8"), "<h2>Evidence</h2>")
    with zipfile.ZipFile(p.case_tables.export(tmp_path / "m.docx", evidence=True)) as z:
        docx = appendix(html.unescape(z.read("word/document.xml").decode("utf-8")), ">Evidence<")
    for cid, quote in quotes.items():
        cell = "Programme A: Commissioned by a client (✓)" if cid == first else "Programme B: Commissioned by a client (✗)"
        assert md.index(cell) < md.index(f"“{quote}” {attribution}")
        assert f"“{html.escape(quote)}” <span class=\"attribution\">{attribution}" in page
        assert f"``{quote}'' {attribution}" in tex
        assert f"“{quote}” {attribution}" in docx
    p.case_tables.export(tmp_path / "m.csv", evidence=True)
    import csv as csv_module

    with (tmp_path / "m-evidence.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv_module.DictReader(f))
    assert [(r["case"], r["condition"], r["value"], r["text"], r["participant"], int(r["coding_id"])) for r in rows] == [
        ("Programme A", "Commissioned by a client", "✓", quotes[first], "Leader A", first),
        ("Programme B", "Commissioned by a client", "✗", quotes[other], "Leader A", other)]
    p.case_tables.import_csv(tmp_path / "m.csv")  # the matrix file itself still reads back
    from openpyxl import load_workbook

    book = load_workbook(p.case_tables.export(tmp_path / "m.xlsx", evidence=True))
    assert book.sheetnames == ["Matrix", "Evidence"]
    assert [c.value for c in book["Evidence"]["D"]][1:] == [quotes[first], quotes[other]]


# -- the page ---------------------------------------------------------------------------------------------
def test_cases_page_sets_a_cell_and_compares(study: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    _five(study)
    [coding] = _coding_ids(study)
    study.cases.link("Programme A", coding=coding)
    study.cases.clear_cell("Programme A", "Useful to learners")
    monkeypatch.setenv("STORYLOOM_PROJECT", str(study.path))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.switch_page("analysis/workbench/pages/cases.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(s.label == "Outcome" for s in at.selectbox)  # only the open tab (Matrix) runs
    assert any("55 cells judged" in c.value for c in at.caption)
    next(s for s in at.selectbox if s.label == "Case").set_value("Programme A")
    next(s for s in at.selectbox if s.label == "Condition").set_value("Useful to learners")
    at.run()
    next(r for r in at.radio if r.label == "Judgement").set_value("present")
    next(t for t in at.text_input if t.label == "Justification").input("Learners said it helped.")
    next(b for b in at.button if b.label == "Save the cell").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    cell = study.cases.matrix().cells[("Programme A", "Useful to learners")]
    assert cell.value == 1.0 and cell.note == "Learners said it helped."
    next(b for b in at.button if b.label == "✗ Absent").click()  # one click judges the cell shown
    at.run()
    assert study.cases.matrix().cells[("Programme A", "Useful to learners")].value == 0.0
    at.session_state["cs_tab"] = "Compare"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.label == "Outcome" for s in at.selectbox)
    assert any("Commissioned by a client" in m.value and "separates" in m.value for m in at.markdown)
    at.session_state["cs_tab"] = "Downloads & import"
    at.run()
    assert not at.exception and any(b.label.startswith("Download") for b in at.get("download_button"))
    at.session_state["cs_tab"] = "Cases"
    at.run()
    next(s for s in at.selectbox if s.label == "Edit a case").set_value("Programme B")
    at.run()
    kinds = [t for t in at.text_input if t.label == "Kind"]
    kinds[-1].input("unit")
    next(m for m in at.multiselect if m.label == "Participants linked to it").set_value(["Leader A"])
    next(b for b in at.button if b.label == "Save the case").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert study.cases.get("Programme B").kind == "unit" and study.cases.get("Programme B").participants == ("Leader A",)
    at.session_state["cs_tab"] = "Conditions"
    at.run()
    next(s for s in at.selectbox if s.label == "Edit a condition").set_value("Online")
    at.run()
    next(c for c in at.checkbox if c.label == "Remove it with its cells (undoable)").check()
    next(b for b in at.button if b.label == "Save the condition").click()
    at.run()
    assert not at.exception and "Online" not in [c.name for c in study.cases.conditions()]
