"""Writing up (issue 15, items 7 and 8): a vignette exported as a journal editor would receive it, read
back with python-docx; the vignette edited from the CLI; the disclosure check's built-in allow-list; the
UI's error messages in the researcher's words."""

from __future__ import annotations

import io
import json
import re
import zipfile

import docx
import pytest
from PIL import ImageFont
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import Errors, ExportError, Msg, NotFoundError, ValidationError, explain
from analysis.export.document import single_quotes, straight, typographic

PARTICIPANTS = ("pseudonym,transcript,speaker,interviewer,stakeholder_group\n"
                "Leader A,leader_a.txt,Leader A,Interviewer,leader\n")
TRANSCRIPT = """(00:00:03) Interviewer: Tell me about the programme.

(00:12:31) Leader A: It's the learners' programme, not ours. We said "come as you are" and they came.

(00:14:02) Interviewer: And approvals?

(00:14:10) Leader A: The approval took fourteen months. Nobody 'owned' it.

(00:15:00) Leader A: By March the employer had trained staff in-house.
"""
runner = CliRunner()
BOLD = "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"


def span(project, phrase: str) -> dict[str, object]:
    text = project.transcripts.get("leader_a.txt").text
    start = text.index(phrase)
    return {"transcript": "leader_a.txt", "start": start, "end": start + len(phrase)}


@pytest.fixture
def project(make_project):
    p = make_project(transcripts={"leader_a.txt": TRANSCRIPT, "participants.csv": PARTICIPANTS})
    p.codebook.add_code("Ownership", kind="theme")
    return p


@pytest.fixture
def vignette(project) -> int:
    items = [
        {"kind": "narrative", "text": 'Leader A put the learners first. "Ours" was never the word:'},
        span(project, "It's the learners' programme, not ours."),
        span(project, 'We said "come as you are" and they came.'),
        span(project, "The approval took fourteen months."),
        span(project, "Nobody 'owned' it."),
    ]
    return project.vignettes.create("Leader A's programme", participant="Leader A", items=items).id


def docx_of(project, vid: int, **options) -> docx.document.Document:
    return docx.Document(io.BytesIO(project.exports.render_vignette(vid, format="docx", disclosure=False, **options)))


# -- paragraphs: a quote after a quote stands alone unless joined -----------------------------------------
def test_consecutive_short_quotes_are_separate_paragraphs_unless_joined(project, vignette):
    body = [p.text for p in docx_of(project, vignette).paragraphs if p.style.name == "Normal" and p.text]
    assert body == [
        "Leader A put the learners first. “Ours” was never the word: “It’s the learners’ programme, not ours” (Leader A).",
        "“We said ‘come as you are’ and they came” (Leader A).",
        "“The approval took fourteen months” (Leader A).",
        "“Nobody ‘owned’ it” (Leader A).",
    ]
    project.vignettes.join_item(vignette, 4)
    body = [p.text for p in docx_of(project, vignette).paragraphs if p.style.name == "Normal" and p.text]
    assert body[-1] == "“The approval took fourteen months” (Leader A). “Nobody ‘owned’ it” (Leader A)."
    assert project.vignettes.get(vignette).items[4].joined and project.audit_trail()[-1].action == "vignette.join"
    project.undo()
    assert not project.vignettes.get(vignette).items[4].joined
    with pytest.raises(ValidationError, match="SL8201"):
        project.vignettes.join_item(vignette, 1)  # the item before it is narrative


# -- quotation marks and apostrophes ------------------------------------------------------------------
def test_marks_are_typographic_everywhere_or_straight_everywhere(project, vignette):
    for fmt in ("md", "html", "docx"):
        data = project.exports.render_vignette(vignette, format=fmt, disclosure=False)
        if fmt == "docx":
            text = " ".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
        else:
            text = data.decode()
            text = re.sub(r"<[^>]+>", "", text.split("<body>")[1]) if fmt == "html" else text
        assert "'" not in text and '"' not in text, fmt
        assert "Leader A’s programme" in text and "It’s the learners’ programme" in text, fmt
    plain = [p.text for p in docx_of(project, vignette, straight_quotes=True).paragraphs]
    joined = " ".join(plain)
    assert not set("“”‘’") & set(joined)
    assert "Leader A's programme" in plain[0] and "\"It's the learners' programme, not ours\" (Leader A)." in joined
    assert "\"We said 'come as you are' and they came\" (Leader A)." in joined
    tex = project.exports.render_vignette(vignette, format="tex", disclosure=False, straight_quotes=True).decode()
    assert r"\textquotedbl{}Nobody \textquotesingle{}owned\textquotesingle{} it\textquotedbl{}" in tex


@pytest.mark.parametrize(("raw", "curly"), [
    ('He said "no" and it\'s fine', "He said “no” and it’s fine"),
    ("the students' work, 'cause in the '90s 'we' said", "the students’ work, ’cause in the ’90s ‘we’ said"),
    ('"\'Hello,\' she said"', "“‘Hello,’ she said”"),
    ("rock 'n' roll (\"x\")", "rock ’n’ roll (“x”)"),
])
def test_typographic_marks(raw, curly):
    assert typographic(raw) == curly and straight(curly) == raw.replace("\\", "")
    assert "“" not in single_quotes(raw) and "”" not in single_quotes(raw)


# -- DOCX: page numbers, properties, the appendix table ------------------------------------------------
def test_docx_has_page_numbers_title_author_and_date(project, vignette):
    data = project.exports.render_vignette(vignette, format="docx", disclosure=False, appendix=True)
    document = docx.Document(io.BytesIO(data))
    props = document.core_properties
    assert props.title == "Leader A’s programme" and props.author == project.user
    assert props.created is not None and props.created.year >= 2025  # not python-docx's template date (2013)
    footer = document.sections[0].footer._element.xml
    assert 'w:instr="PAGE"' in footer
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # Word shows the footer only if the section references it
        assert "footerReference" in z.read("word/document.xml").decode()
    assert docx_of(project, vignette, author="").core_properties.author == ""
    with project.acting_as("Dr Rangi Parata"):
        assert docx_of(project, vignette).core_properties.author == "Dr Rangi Parata"


def test_appendix_table_has_no_header_word_broken_over_two_lines(project, vignette):
    document = docx_of(project, vignette, appendix=True, timestamps=True, line_refs=True)
    [table] = document.tables
    assert table.autofit is False  # fixed layout: Word and LibreOffice keep the widths
    assert 'w:tblHeader w:val="true"' in table.rows[0]._tr.xml  # repeated on every page
    headers = [c.text for c in table.rows[0].cells]
    assert headers[:3] == ["#", "Quote", "Participant"] and "Timestamp" in headers
    margins_cm = 2 * 0.19
    for column, header in zip(table.columns, headers):
        width_cm = column.width.cm
        for cell in column.cells:
            size = cell.paragraphs[0].runs[0].font.size.pt
            font = ImageFont.truetype(BOLD, int(size * 10))  # Arial's metrics: wider than Calibri's
            for word in ([header] if header == "Quote" else cell.text.split()):
                need = font.getlength(word) / 10 / 72 * 2.54 + margins_cm
                assert header == "Quote" or need <= width_cm, (header, word, need, width_cm)
    total = sum(c.width.cm for c in table.columns)
    assert total <= 15.3  # the text width


# -- LaTeX: a fragment to \input, and the standalone document -----------------------------------------
def test_latex_fragment_inputs_into_a_manuscript(project, vignette):
    fragment = project.exports.render_vignette(vignette, format="tex", disclosure=False, fragment=True,
                                               appendix=True).decode()
    for whole_document_only in (r"\documentclass", r"\begin{document}", r"\end{document}", r"\usepackage",
                                r"\maketitle"):
        assert whole_document_only not in fragment
    assert r"\subsection*{Leader A's programme}" in fragment and r"\subsubsection*{Sources of quotes}" in fragment
    assert fragment.count(r"\begin{enumerate}") == fragment.count(r"\end{enumerate}") == 1
    standalone = project.exports.render_vignette(vignette, format="tex", disclosure=False).decode()
    assert standalone.startswith("% Written by Storyloom") and standalone.rstrip().endswith(r"\end{document}")
    assert f"\\author{{{project.user}}}" in standalone
    assert "``It's the learners' programme, not ours'' (Leader A)." in standalone


# -- the CLI edits a vignette ------------------------------------------------------------------------
def test_cli_edits_a_vignette_and_exports_it(project, vignette, tmp_path):
    where = ["--project", str(project.path)]

    def cli(*args: str, code: int = 0, stdin: str | None = None) -> str:
        result = runner.invoke(app, [*args, *where], input=stdin)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result.output

    shown = cli("vignette", "show", str(vignette))
    assert " 1. Leader A put the learners first." in shown and " 5. quote (Leader A, leader_a.txt, 00:14:10)" in shown
    cli("vignette", "narrative", str(vignette), "1", "Leader A put the learners first:")
    cli("vignette", "edit-quote", str(vignette), "3", "We said \"come as you are\" [...]")
    cli("vignette", "move", str(vignette), "5", "--to", "4")
    cli("vignette", "join", str(vignette), "5")
    cli("vignette", "add-narrative", str(vignette), "-", "--at", "2", stdin="It was theirs.\n")
    out = json.loads(cli("vignette", "show", str(vignette), "--json"))
    texts = [i["text"] for i in out["items"]]
    assert texts == ["Leader A put the learners first:", "It was theirs.", "It's the learners' programme, not ours.",
                     'We said "come as you are" [...]', "Nobody 'owned' it.", "The approval took fourteen months."]
    assert out["items"][5]["joined"] and out["status"] == "edited"
    err = cli("vignette", "edit-quote", str(vignette), "9", "x", code=1)
    assert "SL8203" in err and "items 1 to 6; there is no item 9" in err
    err = cli("vignette", "narrative", str(vignette), "3", "x", code=1)
    assert "SL8202" in err and "is a quote" in err
    err = cli("vignette", "edit-quote", str(vignette), "3", "It is our programme", code=1)
    assert "Error:" in err  # the quote-integrity check refuses a rewording
    cli("vignette", "remove", str(vignette), "2")
    out_file = tmp_path / "vignette.docx"
    cli("vignette", "export", str(vignette), "-o", str(out_file), "--skip-disclosure-check", "--anonymous")
    document = docx.Document(str(out_file))
    assert document.core_properties.author == ""
    body = [p.text for p in document.paragraphs if p.style.name == "Normal" and p.text]
    assert body[-1] == "“Nobody ‘owned’ it” (Leader A). “The approval took fourteen months” (Leader A)."
    tex = tmp_path / "vignette.tex"
    cli("vignette", "export", str(vignette), "-o", str(tex), "--skip-disclosure-check", "--fragment")
    assert r"\begin{document}" not in tex.read_text(encoding="utf-8")


# -- the disclosure check: fewer false alarms --------------------------------------------------------
def test_builtin_allow_list_covers_months_weekdays_covid_and_tools(project):
    from analysis.domain.disclosure import BUILT_IN_ALLOWED, is_allowed, normalise_term

    allowed = {normalise_term(t) for t in BUILT_IN_ALLOWED}
    for term in ("COVID-19", "Covid", "covid-19 lockdown", "March", "the Monday", "Tuesday's", "Zoom",
                 "Microsoft Teams", "Christmas"):
        assert is_allowed(term, allowed), term
    for term in ("Hamilton", "Dr Smith", "Waikato District Health Board"):
        assert not is_allowed(term, allowed), term
    assert is_allowed("Leader A and Leader B", allowed | {"leader a", "leader b"})


def test_disclosure_allows_pseudonyms_code_names_and_accepted_terms(project, vignette, monkeypatch):
    found = [("COVID-19", "ORG"), ("March", "PERSON"), ("Leader A", "PERSON"), ("Ownership", "ORG"),
             ("Ngā mihi", "PERSON"), ("Waikato Hospital", "ORG"), ("Kia ora", "PERSON")]
    monkeypatch.setattr("analysis.services.disclosure.entities", lambda texts, labels=(): [found for _ in texts])
    flagged = {f.text for f in project.disclosure.check(vignette)}
    assert flagged == {"Ngā mihi", "Waikato Hospital"}  # (kia ora is built in)
    project.disclosure.accept_term("ngā mihi")
    assert {f.text for f in project.disclosure.check(vignette)} == {"Waikato Hospital"}


# -- messages in the researcher's words in the UI -----------------------------------------------------
def _developer_words(text: str) -> list[str]:
    return re.findall(r"\b[a-z_]+=(?:True|False|None)\b|\[SL\d+\]|\b[a-z]+_[a-z_]+\(", text)


def test_no_ui_message_names_a_python_argument():
    entries = {k: v for k, v in vars(Errors).items() if isinstance(v, Msg)}
    bad = {k: _developer_words(m.ui or m.text) for k, m in entries.items() if _developer_words(m.ui or m.text)}
    assert bad == {}


def test_explain_keeps_the_code_for_a_details_line(project, vignette):
    project.vignettes.create("Empty one")
    try:
        project.exports.render_vignette(project.vignettes.list()[-1].id, format="md")
    except ExportError as err:
        message, details = explain(err)
    assert "[SL" not in message and details == "SL3106"
    message, details = explain(NotFoundError(Errors.E8203, vid=1, n=2, index=3))
    assert message.startswith("Vignette 1 has items 1 to 2") and details == "SL8203"
    message, details = explain(RuntimeError("boom"))
    assert "[SL" not in message and details == "SL9001"


def test_the_workbench_raises_only_catalogued_messages():
    """The workbench raises Storyloom errors with catalogue entries too (a bare string there became an internal error)."""
    from tests.system.test_messages import REPO, _uncatalogued

    bad = [b for p in sorted([*(REPO / "analysis" / "workbench").rglob("*.py"), REPO / "app.py"]) for b in _uncatalogued(p)]
    assert bad == []


@pytest.mark.slow
def test_a_sample_study_vignette_reads_as_a_journal_editor_expects(sample_project, tmp_path):
    """Real models: a drafted vignette, its narrative written from the API, exported to DOCX and read back."""
    from analysis.domain.disclosure import BUILT_IN_ALLOWED, normalise_term

    project = sample_project
    who = project.participants.list()[0].pseudonym
    v = project.vignettes.draft(participant=who, per_code=2)
    for i, item in enumerate(v.items):
        if item.kind == "narrative":
            project.vignettes.set_narrative(v.id, i, f"What {who} said here matters (paragraph {i + 1}).")
    built_in = {normalise_term(t) for t in BUILT_IN_ALLOWED}
    assert not [f for f in project.disclosure.check(v.id) if normalise_term(f.text) in built_in]
    path = project.exports.export_vignette(v.id, tmp_path / "vignette.docx", disclosure=False, appendix=True,
                                           timestamps=True)
    document = docx.Document(str(path))
    body = [p.text for p in document.paragraphs if p.style.name in ("Normal", "Block Quote") and p.text]
    assert body and all(p.count(f"” ({who}") + p.count(f". ({who}") <= 1 for p in body), body  # one quote a paragraph
    assert not any("'" in p or '"' in p for p in body)  # typographic throughout
    assert 'w:instr="PAGE"' in document.sections[0].footer._element.xml
    assert document.core_properties.author == project.user and document.core_properties.title == v.title
