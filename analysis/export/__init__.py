"""Publication export, the renderer side: a document (:mod:`.document`: a vignette, a findings chapter)
to Markdown, DOCX, LaTeX and HTML, each format's renderer carried by its :data:`EXPORT_FORMATS` entry; the quote table (CSV, XLSX) and memos (Markdown, DOCX) in :mod:`.tables`; which format a
file name asks for; writing the file.

The exports themselves (the checks before a vignette is written, and the audit record of each export)
are :class:`analysis.services.exports.ExportService` (``project.exports``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import Errors, ExportError
from analysis.export import docx as docx_out
from analysis.export import html as html_out
from analysis.export import latex as latex_out
from analysis.export import markdown as md_out
from analysis.export.document import Document



@dataclass(frozen=True)
class ExportFormat:
    """One file format Storyloom writes, and which exports offer it."""

    name: str  # what --format takes
    suffixes: tuple[str, ...]  # the first is what a download is named with
    label: str
    mime: str
    used_for: tuple[str, ...]  # vignette, chapter, quotes, memos, methods, matrix (the case x condition matrix)
    render: Callable[[Document], bytes] | None = None
    """Its renderer of any :class:`Document` (a vignette, a chapter); None for the table formats (CSV, XLSX),
    which write rows, not documents (:mod:`.tables`)."""


def _utf8(render: Callable[[Document], str]) -> Callable[[Document], bytes]:
    return lambda doc: render(doc).encode("utf-8")


#: The registry of export formats: the CLI's --format help, the UI's download buttons and the README's list
#: come from it. To add a format, add its renderer (``analysis/export/<name>.py``) and one entry here.
EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("md", (".md", ".markdown"), "Markdown", "text/markdown", ("vignette", "chapter", "memos", "methods", "matrix"),
                 _utf8(md_out.render)),
    ExportFormat("docx", (".docx",), "Word (.docx)",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 ("vignette", "chapter", "memos", "methods", "matrix"), docx_out.render),
    ExportFormat("tex", (".tex",), "LaTeX", "application/x-tex", ("vignette", "chapter", "matrix"), _utf8(latex_out.render)),
    ExportFormat("html", (".html", ".htm"), "HTML", "text/html", ("vignette", "chapter", "matrix"), _utf8(html_out.render)),
    ExportFormat("csv", (".csv",), "CSV (UTF-8)", "text/csv", ("quotes", "matrix")),
    ExportFormat("xlsx", (".xlsx",), "Excel (.xlsx)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 ("quotes", "matrix")),
)
BY_NAME: dict[str, ExportFormat] = {f.name: f for f in EXPORT_FORMATS}
SUFFIXES: dict[str, str] = {s: f.name for f in EXPORT_FORMATS for s in f.suffixes}


def formats_for(kind: str) -> tuple[str, ...]:
    """The format names an export of ``kind`` (vignette, chapter, quotes, memos, methods, matrix) offers."""
    return tuple(f.name for f in EXPORT_FORMATS if kind in f.used_for)


VIGNETTE_FORMATS = formats_for("vignette")

__all__ = ["BY_NAME", "EXPORT_FORMATS", "ExportFormat", "SUFFIXES", "VIGNETTE_FORMATS", "formats_for", "pick_format",
           "render_document", "write_file"]


def render_document(doc: Document, format: str) -> bytes:
    """Render a document (a vignette, a chapter) in ``format`` (md, docx, tex, html): its registry entry's renderer."""
    render = BY_NAME[format].render if format in BY_NAME else None
    if render is None:
        allowed = ", ".join(f.name for f in EXPORT_FORMATS if f.render is not None)
        raise ExportError(Errors.E3101, where="", v2=format, allowed=allowed)
    return render(doc)


def pick_format(path: Path | None, format: str | None, allowed: Sequence[str]) -> str:
    """The format asked for, or the one the file name's suffix says."""
    fmt = (format or (SUFFIXES.get(path.suffix.lower(), "") if path else "")).lower().lstrip(".")
    fmt = {"markdown": "md", "latex": "tex", "htm": "html", "word": "docx"}.get(fmt, fmt)
    if fmt not in allowed:
        where = f" for {path}" if path else ""
        raise ExportError(Errors.E3101, where=where, v2=format or (path.suffix if path else ''), allowed=', '.join(allowed))
    return fmt


def write_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (:func:`analysis.export.destination.write_atomic`:
    a temporary file renamed over it, 0600 when new, never through a link or onto a FIFO);
    :class:`ExportError` (saying what to do) if the folder is missing or the file cannot be written."""
    from analysis.export.destination import write_atomic

    return write_atomic(path, data)
