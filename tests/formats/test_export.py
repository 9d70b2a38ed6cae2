"""Publication export: every format written and read back; the quote table; memos; the CLI; the sample
study's per-participant vignettes as DOCX."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import docx
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import ExportError, QuoteIntegrityError
from analysis.export.tables import write_xlsx

PARTICIPANTS = ("pseudonym,transcript,speaker,interviewer,stakeholder_group,unit\n"
                "Leader A,leader_a.txt,Leader A,Interviewer,leader,Executive\n")
LONG = ("The ākonga came to us after years away, and many of them had been told at school that they were not "
        "academic, so when we asked them to sit an assessment on the first day it brought all of that back, and "
        "most never came back. <script>alert(1)</script> Costs rose 40% & fees_paid {sic} ~ $5 #1 ^ \\ end.")
TRANSCRIPT = f"""(00:00:03) Interviewer: Tell me about the programme.

(00:12:31) Leader A: {LONG}

(00:14:02) Interviewer: And approvals?

(00:14:10) Leader A: The approval took fourteen months. By then the employer had, um, trained staff "in-house".
"""
SHORT = 'By then the employer had [...] trained staff "in-house".'
runner = CliRunner()


def span(project, phrase: str) -> tuple[int, int]:
    text = project.transcripts.get("leader_a.txt").text
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.fixture
def project(make_project):
    p = make_project(transcripts={"leader_a.txt": TRANSCRIPT, "participants.csv": PARTICIPANTS})
    p.codebook.add_code("Barriers", kind="theme")
    p.codebook.add_code("Learner fear", parent="Barriers")
    p.codebook.add_code("Approval burden", parent="Barriers")
    for phrase, code in [(LONG, "Learner fear"), ("The approval took fourteen months.", "Approval burden")]:
        start, end = span(p, phrase)
        p.codings.add_coding(transcript="leader_a.txt", start=start, end=end, code=code)
    return p


@pytest.fixture
def vignette(project) -> int:
    v = project.vignettes.create("Leader A: a door & a wall", participant="Leader A")
    v = project.vignettes.add_narrative(v.id, "Leader A saw assessment through the learners' eyes.")
    v = project.vignettes.add_quote(v.id, coding=int(project.explore.codings_frame()["coding_id"].iloc[0]))
    v = project.vignettes.add_narrative(v.id, "Approval was slow:")
    v = project.vignettes.add_quote(v.id, coding=int(project.explore.codings_frame()["coding_id"].iloc[1]))
    start, end = span(project, 'By then the employer had, um, trained staff "in-house".')
    v = project.vignettes.add_quote(v.id, transcript="leader_a.txt", start=start, end=end, text=SHORT)
    return v.id


def render(project, vid: int, fmt: str, **options) -> bytes:
    return project.exports.render_vignette(vid, format=fmt, disclosure=False, **options)


def test_markdown_block_and_inline_quotes_attribution_and_appendix(project, vignette):
    md = render(project, vignette, "md").decode()
    assert md.startswith("# Leader A: a door & a wall\n")
    block = next(line for line in md.splitlines() if line.startswith("> "))
    assert block.startswith("> The ākonga came to us") and block.endswith("end. (Leader A)")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in block and r"fees\_paid" in block
    assert ("Approval was slow: “The approval took fourteen months” (Leader A).\n\n“By then the employer had [...] "
            "trained staff ‘in-house’” (Leader A).") in md  # a quote after a quote: its own paragraph (issue 15.7)
    timed = render(project, vignette, "md", timestamps=True, line_refs=True, appendix=True).decode()
    assert "(Leader A, 00:12:31, line 3)" in timed and "(Leader A, 00:14:10, line 7)" in timed
    assert "## Sources of quotes" in timed and "| 1 | The ākonga came to us after years away, ... | Leader A |" in timed
    assert render(project, vignette, "md", block_words=5).decode().count("\n> ") == 3


def test_docx_reads_back_with_real_styles(project, vignette):
    document = docx.Document(io.BytesIO(render(project, vignette, "docx", appendix=True, timestamps=True)))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Title", "Leader A: a door & a wall")
    blocks = [p for p in document.paragraphs if p.style.name == "Block Quote"]
    assert len(blocks) == 1 and blocks[0].text.startswith("The ākonga came to us")
    assert blocks[0].text.endswith("end. (Leader A, 00:12:31)") and "<script>alert(1)</script>" in blocks[0].text
    assert blocks[0].style.paragraph_format.left_indent > 0 and not blocks[0].style.font.italic
    inline = next(text for style, text in paragraphs if text.startswith("Approval was slow:"))
    assert inline.endswith("“The approval took fourteen months” (Leader A, 00:14:10).")
    assert ("Heading 1", "Sources of quotes") in paragraphs
    [table] = document.tables
    assert [c.text for c in table.rows[0].cells][:3] == ["#", "Quote", "Participant"] and len(table.rows) == 4
    assert document.core_properties.title == "Leader A: a door & a wall"
    assert document.core_properties.author == project.user  # the researcher; --anonymous leaves it empty


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.doctype = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)

    def handle_decl(self, decl):
        self.doctype = decl


def test_html_is_a_complete_document_with_nothing_unescaped(project, vignette):
    page = render(project, vignette, "html", appendix=True).decode()
    parser = Collector()
    parser.feed(page)
    assert parser.doctype.lower() == "doctype html"
    assert [t for t in parser.tags if t in ("html", "head", "body", "title", "style", "h1")] == [
        "html", "head", "title", "style", "body", "h1"]
    assert "script" not in parser.tags and parser.tags.count("blockquote") == 1
    assert "<script>alert(1)</script>" in "".join(parser.text)  # shown as text, never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<h1>Leader A: a door &amp; a wall</h1>" in page
    lxml_html = pytest.importorskip("lxml.html")
    tree = lxml_html.document_fromstring(page)
    assert not tree.xpath("//script") and len(tree.xpath("//table/tr")) == 4


def _balanced(tex: str) -> list[str]:
    stack: list[str] = []
    for kind, name in re.findall(r"\\(begin|end)\{(\w+)\}", tex):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name, f"\\end{{{name}}} without its \\begin"
    return stack


def test_latex_escapes_specials_and_balances_environments(project, vignette, tmp_path):
    tex = render(project, vignette, "tex", appendix=True).decode()
    assert _balanced(tex) == []
    assert r"\usepackage[utf8]{inputenc}" in tex and r"\usepackage{fontspec}" in tex
    body = tex.split(r"\begin{document}")[1]
    quote = body.split(r"\begin{quote}")[1].split(r"\end{quote}")[0]
    for escaped in (r"40\%", r"\&", r"fees\_paid", r"\{sic\}", r"\textasciitilde{}", r"\$5", r"\#1",
                    r"\textasciicircum{}", r"\textbackslash{}", r"\textless{}script\textgreater{}", "ākonga"):
        assert escaped in quote, escaped
    bare = re.sub(r"\\[a-zA-Z]+(\{[^{}]*\})*|\\[%&$#_{}]|\{\[\}|\{\]\}|\{\}", "", body)
    assert not re.search(r"[%&$#_^~]", bare), "an unescaped special character"
    assert r"``The approval took fourteen months'' (Leader A)." in body
    assert r"{[}\ldots{]}" in body and r"\title{Leader A: a door \& a wall}" in tex
    engine = shutil.which("pdflatex") or shutil.which("lualatex")
    if engine:
        (tmp_path / "v.tex").write_text(tex, encoding="utf-8")
        run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "v.tex"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and (tmp_path / "v.pdf").exists(), run.stdout[-2000:]


def test_export_writes_files_and_logs_refuses_bad_paths(project, vignette, tmp_path):
    for suffix in ("md", "docx", "tex", "html"):
        path = project.exports.export_vignette(vignette, tmp_path / f"v.{suffix}", disclosure=False)
        assert path.stat().st_size > 200
    events = project.audit_trail(action="vignette.export")
    assert len(events) == 4 and events[0].summary == "Exported vignette 'Leader A: a door & a wall' as md to v.md"
    with pytest.raises(ExportError, match="Choose one of: md, docx, tex, html"):
        project.exports.export_vignette(vignette, tmp_path / "v.pdf", disclosure=False)
    with pytest.raises(ExportError, match="does not exist"):
        project.exports.export_vignette(vignette, tmp_path / "nowhere" / "v.md", disclosure=False)


def test_export_checks_every_quote_against_a_corrected_transcript(project, vignette):
    changed = TRANSCRIPT.replace("The approval took fourteen months.", "The approval took four months.")
    (project.transcripts_dir / "leader_a.txt").write_text(changed, encoding="utf-8")
    project.sync()
    with pytest.raises(QuoteIntegrityError, match=r"Vignette \d+ 'Leader A: a door & a wall', quote 4 "
                                                  r"\(\"The approval took fourteen months.\"\).*fourteen"):
        render(project, vignette, "md")


def test_quote_table_csv_and_xlsx(project, tmp_path):
    csv = project.exports.export_quotes(tmp_path / "quotes.csv")
    df = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(df.columns) == ["code_path", "participant", "stakeholder_group", "unit", "transcript", "timestamp",
                                "text", "turn", "start", "end", "coding_id"]
    assert df["code_path"].tolist() == ["Barriers > Approval burden", "Barriers > Learner fear"]
    assert df["timestamp"].tolist() == ["00:14:10", "00:12:31"] and "ākonga" in df["text"].iloc[1]
    xlsx = project.exports.export_quotes(tmp_path / "quotes.xlsx", code="Learner fear")
    ws = openpyxl.load_workbook(xlsx).active
    assert ws["A1"].value == "code_path" and ws.max_row == 2 and ws["D2"].value == "Executive"
    write_xlsx(pd.DataFrame({"text": ["=HYPERLINK(\"http://x\")"]}), tmp_path / "f.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "f.xlsx").active["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK")  # neutralised (OWASP)
    write_xlsx(pd.DataFrame({"text": ["=HYPERLINK(\"http://x\")"]}), tmp_path / "raw.xlsx", raw=True)
    cell = openpyxl.load_workbook(tmp_path / "raw.xlsx").active["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_memos_and_journal_grouped_by_kind_and_phase(project, tmp_path):
    project.memos.add("Why I started with the learners.", kind="journal", phase="familiarising", title="Positioning")
    project.memos.add("Themes are mine, not found.", kind="journal", phase="generating initial themes")
    project.memos.add("Fear is anticipatory.", kind="code", target="Learner fear", phase="coding")
    project.memos.add("Heavy first read.", kind="familiarisation", target="leader_a.txt", phase="familiarising")
    project.memos.add("She speaks for the institution.", kind="participant", target="Leader A", phase="coding")
    frame = project.explore.codings_frame()
    approval = int(frame[frame["code"] == "Approval burden"]["coding_id"].iloc[0])
    project.memos.add("A turning point.", kind="coding", target=approval, phase="coding")
    md = project.exports.export_memos(tmp_path / "memos.md").read_text(encoding="utf-8")
    for heading in ("#### leader\\_a.txt", "#### Leader A", "#### Approval burden, Leader A: “The approval took fourteen months.”"):
        assert heading in md, heading
    order = [md.index(s) for s in ("## Reflexive journal", "### Phase: familiarising", "#### Positioning",
                                   "### Phase: generating initial themes", "## Memos on codes and themes",
                                   "#### Barriers &gt; Learner fear", "Fear is anticipatory.")]
    assert order == sorted(order)
    document = docx.Document(project.exports.export_memos(tmp_path / "memos.docx"))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[1:4] == [("Heading 1", "Reflexive journal"), ("Heading 2", "Phase: familiarising"),
                             ("Heading 3", "Positioning")]
    assert ("Heading 3", "Barriers > Learner fear") in headings


def cli(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_list_export_disclosure_and_tables(project, vignette, tmp_path):
    where = ["--project", str(project.path)]
    [row] = cli("vignette", "list", *where)["vignettes"]
    assert row["id"] == vignette and row["status"] == "edited" and row["items"] == 5
    assert cli("check-disclosure", str(vignette), *where) == {"flags": []}
    out = cli("vignette", "export", str(vignette), "--format", "docx", "--output", str(tmp_path / "v.docx"),
              "--timestamps", "--appendix", *where)
    assert out["format"] == "docx" and docx.Document(out["path"]).paragraphs[0].text.startswith("Leader A")
    assert cli("export", "quotes", "--output", str(tmp_path / "q.xlsx"), *where)["path"].endswith("q.xlsx")
    assert cli("export", "memos", "--format", "md", "--output", str(tmp_path / "m.md"), *where)
    assert cli("disclosure", "accept", "Kia ora", "--label", "ORG", *where)["term"] == "Kia ora"
    assert [t.term for t in project.disclosure.allow_list()] == ["Kia ora"]
    bad = runner.invoke(app, ["vignette", "export", "99", "--output", str(tmp_path / "x.md"), *where])
    assert bad.exit_code == 1 and "No vignette with id 99" in bad.output and "Traceback" not in bad.output


# -- the sample study (real spaCy + MiniLM) -----------------------------------------------------------
def _coded(project) -> None:
    """The sample study with codings: the codebook files if sync did not import them, else a few codings."""
    if project.status()["codings"]:
        return
    if (project.codebooks_dir / "codebook.yaml").exists() and (project.codebooks_dir / "codings.yaml").exists():
        project.codebook_files.import_codebook(project.codebooks_dir / "codebook.yaml")
        project.codebook_files.import_codings(project.codebooks_dir / "codings.yaml")
        return
    project.codebook.add_code("Experiences", kind="theme")
    for t in project.transcripts.list():
        for turn in [u for u in project.transcripts.turns(t.name) if not u.interviewer][:2]:
            project.codings.add_coding(transcript=t.name, start=turn.start, end=turn.end, code="Experiences")


def _finish(project, vid: int) -> None:
    """What a researcher does before export: write the narrative, resolve or accept each flag."""
    v = project.vignettes.get(vid)
    items = [({"kind": "narrative", "text": f"In their own words, {v.participant} recalled this."}
              if i.kind == "narrative" else i) for i in v.items]
    project.vignettes.update(vid, items=items)
    for flag in project.disclosure.check(vid):
        project.disclosure.accept_term(flag.text, label=flag.label, note="checked: not identifying")


@pytest.mark.slow
def test_a_vignette_per_participant_of_the_sample_study_exports_to_docx(sample_project, tmp_path):
    _coded(sample_project)
    for person in sample_project.participants.list():
        v = sample_project.vignettes.draft(participant=person.pseudonym)
        assert v.status == "draft" and v.quotes and all(q.participant == person.pseudonym for q in v.quotes)
        _finish(sample_project, v.id)
        path = sample_project.exports.export_vignette(v.id, tmp_path / f"{person.pseudonym}.docx", timestamps=True)
        document = docx.Document(path)
        assert document.paragraphs[0].style.name == "Title" and document.paragraphs[0].text == person.pseudonym
        attributed = [p.text for p in document.paragraphs if f"({person.pseudonym}" in p.text]
        assert len(attributed) >= 1
        long_quotes = [q for q in v.quotes if len(q.text.split()) >= 45]
        blocks = [p for p in document.paragraphs if p.style.name == "Block Quote"]
        assert len(blocks) >= len(long_quotes)


@pytest.mark.slow
def test_cli_draft_on_the_sample_study(sample_project):
    _coded(sample_project)
    out = cli("vignette", "draft", "--participant", "Leader A", "--project", str(sample_project.path))
    assert set(out) >= {"id", "title", "items"} and out["title"] == "Leader A"
    assert out["items"][0]["kind"] == "narrative" and out["items"][1]["kind"] == "quote"


@pytest.mark.parametrize("kind", ["memos", "methods"])
def test_memos_and_the_methods_report_are_documents_printed_by_each_formats_renderer(project, tmp_path, monkeypatch,
                                                                                     kind):
    """Each format the memo and methods exports offer goes through its registry entry's renderer of a
    ``Document`` (no format dispatch of their own): the file holds exactly what that renderer returned."""
    from analysis import export
    from analysis.export.document import Document

    printed: list[tuple[str, Document, bytes]] = []
    for fmt in export.formats_for(kind):
        entry = export.BY_NAME[fmt]

        def spy(doc: Document, render=entry.render, fmt=fmt) -> bytes:
            data = render(doc)
            printed.append((fmt, doc, data))
            return data

        monkeypatch.setitem(export.BY_NAME, fmt, dataclasses.replace(entry, render=spy))
    project.memos.add("Fear is *anticipatory*.", kind="code", target="Learner fear", phase="coding")
    write = project.exports.export_memos if kind == "memos" else project.exports.export_methods_report
    for fmt in export.formats_for(kind):
        path = write(tmp_path / f"{kind}{export.BY_NAME[fmt].suffixes[0]}", format=fmt)
        assert printed[-1][0] == fmt and path.read_bytes() == printed[-1][2]
    assert [f for f, _, _ in printed] == list(export.formats_for(kind)) == ["md", "docx"]
    title = "Memos and reflexive journal: p" if kind == "memos" else "Methods: the analysis process"
    assert {doc.title for _, doc, _ in printed} == {title}
    if kind == "methods":
        assert project.exports.methods_report().markdown == printed[0][2].decode("utf-8")
        assert project.exports.download_methods_report(format="docx")[:2] == b"PK"
