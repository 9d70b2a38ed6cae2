"""DOCX (python-docx): real styles that Word and LibreOffice show in their style lists: ``Title``,
``Heading 1``, ``Normal`` for narrative, and ``Block Quote`` (an indented paragraph style, based on
Normal, no italics) for block quotes; the appendix is a ``Table Grid`` table with a fixed layout whose
narrow columns are as wide as their longest word (no header word broken over two lines), its header
row repeated on each page. Every page has its number in the footer (a ``PAGE`` field). Document
properties carry the title, the author (empty for blind review) and the time of the export."""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import TYPE_CHECKING, cast

from analysis.export.document import (APPENDIX_NOTE, APPENDIX_TITLE, BlockQuote, Document, FigureBlock, Heading, InlineQuote,
                                      Paragraph, Prose, source_table)
from analysis.export.document import Table as TextTable
from analysis.export.sanitize import xml_safe

if TYPE_CHECKING:  # python-docx (and lxml) load when a document is written, not when the CLI starts
    from docx.document import Document as DocxDocument
    from docx.table import Table

BLOCK_STYLE = "Block Quote"
TEXT_WIDTH_CM = 15.2  # the default template's text width (6 inches)
TABLE_PT = 8  # the appendix table's font size
CELL_MARGINS_CM = 0.4  # Word's default cell margins, left and right together (0.19 cm each), rounded up
QUOTE_MIN_CM = 4.0
NARROW_MAX_CM = 3.5  # a longer word in a cell (a long file name) wraps inside it; header words always fit
_NARROW_CHARS, _WIDE_CHARS = set("iljtfrI.,:;'!|()[] -–"), set("mwMW@%")


def clean(text: str) -> str:
    """Text XML can hold: control characters, U+FFFE/U+FFFF and lone surrogates become U+FFFD
    (:func:`.sanitize.xml_safe`), so a stray character in a quote shows as � instead of stopping the export."""
    return xml_safe(text)


def new() -> DocxDocument:
    """An empty document with the block-quote style and neutral properties."""
    from docx import Document as new_document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm, Pt

    document = new_document()
    styles = document.styles
    if BLOCK_STYLE not in [s.name for s in styles]:
        style = styles.add_style(BLOCK_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.next_paragraph_style = styles["Normal"]
        style.quick_style = True
        fmt = style.paragraph_format
        fmt.left_indent, fmt.right_indent = Cm(1.27), Cm(0)
        fmt.space_before, fmt.space_after = Pt(6), Pt(10)
    props = document.core_properties
    props.author = props.last_modified_by = ""
    props.comments = "Written by Storyloom"
    page_numbers(document)
    return document


def page_numbers(document: DocxDocument) -> None:
    """The page number, centred in every section's footer (a ``PAGE`` field Word and LibreOffice fill in)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for section in document.sections:
        para = section.footer.paragraphs[0] if section.footer.paragraphs else section.footer.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        para._p.append(field)


def text_cm(text: str, size_pt: float = TABLE_PT) -> float:
    """About how wide ``text`` prints in bold at ``size_pt``: advances in ems by class of character, at
    least as wide as Arial Bold's (so Calibri, Word's default, and Liberation Sans fit too)."""
    ems = sum(0.34 if ch in _NARROW_CHARS else 0.9 if ch in _WIDE_CHARS else 0.74 if ch.isupper() or ch.isdigit()
              else 0.62 for ch in text)
    return ems * size_pt / 72 * 2.54


def column_cm(header: str, values: list[str]) -> float:
    """A narrow column's width: its longest word (of the header: always; of a cell: up to
    :data:`NARROW_MAX_CM`) and the cell margins."""
    cells = max((text_cm(w) for v in values for w in v.split()), default=0.0)
    need = max(text_cm(header), min(cells, NARROW_MAX_CM - CELL_MARGINS_CM)) + CELL_MARGINS_CM
    return math.ceil(need * 10) / 10


def _fixed(table: Table) -> None:
    """A fixed table layout (Word and LibreOffice keep the column widths) and the header row repeated."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table.autofit = False  # w:tblLayout w:type="fixed"
    row_props = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row_props.append(header)


def to_bytes(document: DocxDocument) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _paragraph(document: DocxDocument, p: Paragraph, marks: tuple[str, str] = ("“", "”")) -> None:
    para = document.add_paragraph(style="Normal")
    for n, part in enumerate(p.parts):
        lead = " " if n else ""
        if isinstance(part, InlineQuote):
            run = para.add_run(clean(f"{lead}{marks[0]}{part.text}{marks[1]} {part.attribution}{part.closing}"))
        else:
            run = para.add_run(clean(lead + part))
        if p.emphasis:
            run.italic = True


def grid(document: DocxDocument, header: tuple[str, ...] | list[str],
          rows: tuple[tuple[str, ...], ...] | list[list[str]], *, fixed: bool = False) -> Table:
    """A ``Table Grid`` table: the header row in bold (repeated on each page, with ``fixed`` widths), then the rows."""
    table = document.add_table(rows=1, cols=len(header))
    table.style = document.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = clean(text)
        cell.paragraphs[0].runs[0].bold = True
    for values in rows:
        for cell, value in zip(table.add_row().cells, values):
            cell.text = clean(value)
    if fixed:
        _fixed(table)
    return cast("Table", table)


def _figure(document: DocxDocument, block: FigureBlock) -> None:
    """The picture (or the table), then its caption: the number and title in bold."""
    f = block.figure
    if f.png:
        from docx.shared import Inches

        document.add_picture(io.BytesIO(f.png), width=Inches(6.3))
    else:
        grid(document, f.header, f.rows)
    caption = document.add_paragraph(style="Caption")
    caption.add_run(clean(f"{block.number}. {f.title}. ")).bold = True
    caption.add_run(clean(f.caption))


def _text_table(document: DocxDocument, block: TextTable) -> None:
    """A table in the text at 9 pt, its legend in italics under it."""
    from docx.shared import Pt

    table = grid(document, block.header, block.rows)
    for row in table.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9)
    if block.legend:
        document.add_paragraph().add_run(clean(block.legend)).italic = True


def render(doc: Document) -> bytes:
    from docx.shared import Cm, Pt

    document = new()
    props = document.core_properties
    props.title = clean(doc.title)
    props.author = props.last_modified_by = clean(doc.author)
    if doc.created:
        props.created = props.modified = datetime.fromisoformat(doc.created)
    top = int(doc.section)
    document.add_heading(clean(doc.title), level=top)
    for note in doc.notes:
        document.add_paragraph().add_run(clean(note)).italic = True
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            document.add_paragraph(clean(f"{block.text} {block.attribution}"), style=BLOCK_STYLE)
        elif isinstance(block, Heading):
            document.add_heading(clean(block.text), level=min(9, block.level + top))
        elif isinstance(block, Prose):
            for text in block.paragraphs:
                document.add_paragraph(clean(text), style="Normal")
        elif isinstance(block, TextTable):
            _text_table(document, block)
        elif isinstance(block, FigureBlock):
            _figure(document, block)
        else:
            _paragraph(document, block, doc.marks)
    if doc.sources:
        document.add_heading(APPENDIX_TITLE, level=1)
        document.add_paragraph(APPENDIX_NOTE)
        headers, rows = source_table(doc.sources)
        table = grid(document, headers, rows, fixed=True)
        narrow = {h: column_cm(h, [r[i] for r in rows]) for i, h in enumerate(headers) if h != "Quote"}
        quote_cm = max(QUOTE_MIN_CM, TEXT_WIDTH_CM - sum(narrow.values()))
        for header, column in zip(headers, table.columns):
            width = Cm(quote_cm if header == "Quote" else narrow[header])
            column.width = width  # the grid (LibreOffice reads it) and each cell (Word reads those)
            for cell in column.cells:
                cell.width = width
                for para in cell.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(TABLE_PT)
    return to_bytes(document)
