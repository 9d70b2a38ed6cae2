"""Markdown (CommonMark; Pandoc-friendly): ``#`` title, ``##`` headings, paragraphs, ``>`` block quotes,
figures as pipe tables with their number and caption, a sources table. Every string is escaped
(:func:`escape`) but a memo's own Markdown (:class:`.document.Prose`), which keeps its markup with raw HTML
escaped (:func:`.sanitize.escape_markdown_html`)."""

from __future__ import annotations

import re

from analysis.export.document import (APPENDIX_NOTE, APPENDIX_TITLE, BlockQuote, Document, FigureBlock, Heading, InlineQuote,
                                      Paragraph, Prose, Table, source_table)
from analysis.export.sanitize import defang_urls, escape_markdown_html

_NUMBER = re.compile(r"\d+(\.\d+)?")


def escape(text: str) -> str:
    """Escape what Markdown would read as markup: raw HTML as entities (``<script>`` becomes
    ``&lt;script&gt;``, which every Markdown renderer shows as text), then emphasis, code, table pipes,
    headings, lists and inline links/images with backslashes."""
    text = escape_markdown_html(text)
    text = re.sub(r"([\\`*_|])", r"\\\1", text)
    text = text.replace("](", "]\\(")  # no inline link or image ([x](url), ![x](url)); [...] stays readable
    text = re.sub(r"^(\s*)([#+\-])", r"\1\\\2", text)
    text = defang_urls(text, colon="\\:")  # no javascript: (or data:, file:) link in any renderer
    return re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", text)


def _line(text: str) -> str:
    """A one-line element (the title, a heading, an italic line) on one line, escaped."""
    return escape(" ".join(text.split()))


def _paragraph(p: Paragraph, marks: tuple[str, str] = ("“", "”")) -> str:
    out = []
    for part in p.parts:
        if isinstance(part, InlineQuote):
            out.append(f"{marks[0]}{escape(part.text)}{marks[1]} {escape(part.attribution)}{part.closing}")
        else:
            out.append(escape(part))
    return " ".join(out)


def _table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    """A pipe table; a number stays as it is (escaping would write 0\\.5)."""
    return ["| " + " | ".join(escape(h) for h in header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(c if _NUMBER.fullmatch(c) else escape(c) for c in row) + " |" for row in rows)]


def render(doc: Document) -> str:
    top = "#" * (1 + doc.section)
    lines = [f"{top} {_line(doc.title)}", ""]
    for note in doc.notes:
        lines += [f"*{escape(note)}*", ""]
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            lines += [f"> {escape(block.text)} {escape(block.attribution)}", ""]
        elif isinstance(block, Heading):
            lines += [f"{top}{'#' * block.level} {_line(block.text)}", ""]
        elif isinstance(block, Prose):
            lines += [escape_markdown_html(block.text.strip()), ""]
        elif isinstance(block, Table):
            lines += [*_table(block.header, block.rows), "", *([f"*{escape(block.legend)}*", ""] if block.legend else [])]
        elif isinstance(block, FigureBlock):
            f = block.figure
            lines += [f"**{block.number}. {escape(f.title)}**", "", *_table(f.header, f.rows), "", f"*{escape(f.caption)}*", ""]
        elif block.emphasis:
            lines += [f"*{' '.join(_paragraph(block, doc.marks).split())}*", ""]
        else:
            lines += [_paragraph(block, doc.marks), ""]
    if doc.sources:
        headers, rows = source_table(doc.sources)
        lines += [f"## {APPENDIX_TITLE}", "", escape(APPENDIX_NOTE), "",
                  "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)
