"""DOCX (python-docx): real styles that Word and LibreOffice show in their style lists: ``Title``,
``Heading 1``, ``Normal`` for narrative, and ``Block Quote`` (an indented paragraph style, based on
Normal, no italics) for block quotes; the appendix is a ``Table Grid`` table. Document properties
carry the title and no author name (ready for blind review)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .document import APPENDIX_NOTE, APPENDIX_TITLE, BlockQuote, Document, InlineQuote, Paragraph, source_table
from .sanitize import xml_safe

if TYPE_CHECKING:  # python-docx (and lxml) load when a document is written, not when the CLI starts
    from docx.document import Document as DocxDocument

BLOCK_STYLE = "Block Quote"
TEXT_WIDTH_CM = 15.2  # the default template's text width (6 inches)
COLUMN_CM = {"#": 0.8, "Participant": 2.2, "Transcript": 2.8, "Turn": 1.3, "Offsets": 2.3, "Timestamp": 1.9,
             "Line": 1.3}


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
    return document


def to_bytes(document: DocxDocument) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _paragraph(document: DocxDocument, p: Paragraph) -> None:
    para = document.add_paragraph(style="Normal")
    for n, part in enumerate(p.parts):
        lead = " " if n else ""
        if isinstance(part, InlineQuote):
            para.add_run(clean(f"{lead}“{part.text}” {part.attribution}{part.closing}"))
        else:
            para.add_run(clean(lead + part))


def render(doc: Document) -> bytes:
    from docx.shared import Cm, Pt

    document = new()
    document.core_properties.title = clean(doc.title)
    document.add_heading(clean(doc.title), level=0)
    for note in doc.notes:
        document.add_paragraph().add_run(clean(note)).italic = True
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            document.add_paragraph(clean(f"{block.text} {block.attribution}"), style=BLOCK_STYLE)
        else:
            _paragraph(document, block)
    if doc.sources:
        document.add_heading(APPENDIX_TITLE, level=1)
        document.add_paragraph(APPENDIX_NOTE)
        headers, rows = source_table(doc.sources)
        table = document.add_table(rows=1, cols=len(headers))
        table.style = document.styles["Table Grid"]
        table.autofit = False
        for cell, header in zip(table.rows[0].cells, headers):
            cell.text = header
            cell.paragraphs[0].runs[0].bold = True
        for values in rows:
            for cell, value in zip(table.add_row().cells, values):
                cell.text = clean(value)
        quote_cm = max(4.0, TEXT_WIDTH_CM - sum(COLUMN_CM.get(h, 2.0) for h in headers if h != "Quote"))
        for header, column in zip(headers, table.columns):
            width = Cm(quote_cm if header == "Quote" else COLUMN_CM.get(header, 2.0))
            column.width = width  # the grid (LibreOffice reads it) and each cell (Word reads those)
            for cell in column.cells:
                cell.width = width
                for para in cell.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(8)
    return to_bytes(document)
