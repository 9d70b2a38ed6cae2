"""The sample study's own cases (issue 12 item 8): six of the polytechnic's programmes in
codebooks/cases.yaml, judged on five conditions and the outcome 'Gained traction', every judged cell
justified by coded passages; the cases file loader (CaseService.import_file) and sync_folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from analysis import Project
from analysis.domain.cases import Separating
from analysis.errors import CodebookFileError

REPO = Path(__file__).resolve().parents[2]
CASES_YAML = REPO / "codebooks" / "cases.yaml"
OUTCOME = "Gained traction"


# -- the sample study (real models) -------------------------------------------------------------------
@pytest.mark.slow
def test_sample_study_has_its_programme_cases(sample_project: Project) -> None:
    p = sample_project
    committed = yaml.safe_load(CASES_YAML.read_text(encoding="utf-8"))
    m = p.cases.matrix()
    assert {c.name for c in m.cases} == {c["name"] for c in committed["cases"]}
    assert 4 <= len(m.cases) <= 6 and {c.kind for c in m.cases} == {"programme"}
    assert [k.name for k in m.conditions] == [k["name"] for k in committed["conditions"]]
    assert m.outcome == OUTCOME
    # every case is judged on the outcome; the file's values are the matrix's
    for case in committed["cases"]:
        assert OUTCOME in case["cells"], case["name"]
        for cond, cell in case["cells"].items():
            assert m.value(case["name"], cond) == pytest.approx(float(cell["value"])), (case["name"], cond)
    # sync again: the project has cases now, so the file is not imported twice
    assert p.sync()["cases_imported"] == 0
    assert len(p.cases.list()) == len(committed["cases"])


@pytest.mark.slow
def test_every_judged_cell_has_evidence_quoting_the_transcript(sample_project: Project) -> None:
    p = sample_project
    m = p.cases.matrix()
    frame = p.explore.codings_frame(include_orphans=True).set_index("coding_id")
    texts: dict[str, str] = {}
    committed = {c["name"]: c["cells"] for c in yaml.safe_load(CASES_YAML.read_text(encoding="utf-8"))["cases"]}
    judged = [(key, cell) for key, cell in m.cells.items() if cell.value is not None]
    assert len(judged) == sum(len(cells) for cells in committed.values())
    for (case, cond), cell in judged:
        assert cell.evidence, f"'{case}' x '{cond}' is judged without evidence"
        quoted = set()
        for coding in cell.evidence:
            row = frame.loc[coding]
            name = str(row["transcript"])
            text = texts.setdefault(name, p.transcripts.get(name).text)
            quoted.add((name, text[int(row["start"]):int(row["end"])]))
        for ev in committed[case][cond]["evidence"]:
            assert (ev["transcript"], ev["quote"]) in quoted, (case, cond, ev["quote"][:60])
            assert ev["quote"] in texts[ev["transcript"]]
    # the publication's evidence appendix checks every quote against its transcript too
    assert len(p.case_tables.evidence_quotes()) == sum(len(c.evidence) for _k, c in judged)


@pytest.mark.slow
def test_compare_names_a_separating_condition_consistent_with_the_judgements(sample_project: Project) -> None:
    p = sample_project
    m = p.cases.matrix()
    result = p.cases.compare()
    assert result.separating, result
    names = [c.name for c in m.cases]
    with_outcome = [c for c in names if (m.value(c, OUTCOME) or 0) > 0.5]
    without = [c for c in names if (m.value(c, OUTCOME) or 0) < 0.5]
    assert with_outcome and without
    for sep in result.separating:
        present = sep.direction == "present"
        for c in with_outcome:
            value = m.value(c, sep.name)
            assert value is not None and (value > 0.5) == present, (c, sep)
        for c in without:
            value = m.value(c, sep.name)
            assert value is not None and (value < 0.5) == present, (c, sep)
    assert Separating("Demand beyond one client", "present") in result.separating


# -- the loader (fast: hashing embedder) --------------------------------------------------------------
INTERVIEW = """Interviewer: Who asked for the drone course?

Leader A: The regional council commissioned it from us, and they sent their staff.

Interviewer: And did it run?

Leader A: It ran every month with a waiting list.
"""
COMMISSIONED = "The regional council commissioned it from us"
RAN = "It ran every month with a waiting list."


@pytest.fixture
def coded(make_project: Callable[..., Project]) -> Project:
    p = make_project(transcripts={"Interview 1.txt": INTERVIEW, "participants.csv":
                                  "pseudonym,transcript,speaker,interviewer\nLeader A,Interview 1.txt,Leader A,\n"})
    text = p.transcripts.get("Interview 1.txt").text
    for name, quote in (("Commissioned", COMMISSIONED), ("Ran", RAN)):
        code = p.codebook.add_code(name)
        start = text.index(quote)
        p.codings.add_coding(transcript="Interview 1.txt", start=start, end=start + len(quote), code=code.id)
    return p


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = f"""storyloom_cases: 1
conditions:
- name: Client commissioned
- name: Gained traction
  outcome: true
cases:
- name: Drone course
  kind: programme
  attributes: {{credits: 5}}
  cells:
    Client commissioned:
      value: 1
      note: asked for by the council
      evidence:
      - transcript: Interview 1.txt
        quote: {COMMISSIONED}
    Gained traction:
      value: 0.67
      evidence:
      - {{transcript: Interview 1.txt, quote: {RAN}}}
"""


def test_import_file_sets_cases_cells_and_evidence_in_one_undoable_action(coded: Project, tmp_path: Path) -> None:
    p = coded
    done = p.case_tables.import_file(_file(tmp_path, GOOD))
    assert done.new_cases == ("Drone course",) and done.cells == 2 and done.evidence == 2
    m = p.cases.matrix()
    assert m.outcome == "Gained traction" and m.value("Drone course", "Gained traction") == pytest.approx(0.67)
    assert m.cases[0].kind == "programme" and m.cases[0].attributes == {"credits": "5"}
    cell = m.cells[("Drone course", "Client commissioned")]
    assert cell.note == "asked for by the council" and cell.origin == "import" and len(cell.evidence) == 1
    assert len(p.cases.get("Drone course").evidence) == 2
    assert p.audit_trail(limit=1)[0].action == "case.file.import"
    p.undo()
    assert p.cases.list() == [] and p.cases.conditions() == []


def test_sync_folder_imports_the_cases_file_only_into_a_project_without_cases(coded: Project) -> None:
    p = coded
    assert p.case_tables.sync_folder() == 0  # no codebooks/cases.yaml
    p.ctx.codebooks_dir.mkdir(parents=True, exist_ok=True)
    (p.ctx.codebooks_dir / "cases.yaml").write_text(GOOD, encoding="utf-8")
    assert p.case_tables.sync_folder() == 1
    assert p.case_tables.sync_folder() == 0


@pytest.mark.parametrize(("change", "path", "words"), [
    (("value: 0.67", "value: maybe"), "cases[0].cells.Gained traction.value", "not a cell value"),
    (("value: 0.67", "value: 1.5"), "cases[0].cells.Gained traction.value", "not a cell value"),
    (("    Gained traction:\n", "    Gained tracton:\n"), "cases[0].cells.Gained tracton", "names no condition"),
    (("- name: Client commissioned\n", "- name: Client commissioned\n  outcome: true\n"), "conditions[1].outcome",
     "second outcome"),
    (("quote: It ran every month", "quote: It ran every week"), "cases[0].cells.Gained traction.evidence[0].quote",
     "matches no coding of Interview 1.txt"),
    (("transcript: Interview 1.txt, quote", "transcript: Interview 9.txt, quote"),
     "cases[0].cells.Gained traction.evidence[0].transcript", "not a transcript of this project"),
    (("  kind: programme\n", "  kind: programme\n  colour: red\n"), "cases[0].colour", "not a key of a case"),
])
def test_import_file_errors_name_the_file_and_the_yaml_path(coded: Project, tmp_path: Path, change: tuple[str, str],
                                                           path: str, words: str) -> None:
    assert change[0] in GOOD
    bad = _file(tmp_path, GOOD.replace(change[0], change[1], 1))
    with pytest.raises(CodebookFileError) as err:
        coded.case_tables.import_file(bad)
    message = str(err.value)
    assert "cases.yaml" in message and path in message and words in message, message
    assert coded.cases.list() == [] and coded.cases.conditions() == []  # nothing written


def test_import_file_refuses_invalid_yaml_naming_the_line(coded: Project, tmp_path: Path) -> None:
    with pytest.raises(CodebookFileError) as err:
        coded.case_tables.import_file(_file(tmp_path, "conditions: [a\ncases: []\n"))
    assert "cases.yaml" in str(err.value) and "line" in str(err.value)
