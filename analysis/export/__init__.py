"""Publication export, the renderer side: a laid-out vignette (:mod:`.document`) to Markdown, DOCX,
LaTeX and HTML; the quote table (CSV, XLSX) and memos (Markdown, DOCX) in :mod:`.tables`; which format a
file name asks for; writing the file.

The exports themselves (the checks before a vignette is written, and the audit record of each export)
are :class:`analysis.services.exports.ExportService` (``project.exports``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import Errors, ExportError
from . import docx as docx_out
from . import html as html_out
from . import latex as latex_out
from . import markdown as md_out
from .document import Document

VIGNETTE_FORMATS = ("md", "docx", "tex", "html")
SUFFIXES = {".md": "md", ".markdown": "md", ".docx": "docx", ".tex": "tex", ".html": "html", ".htm": "html",
            ".csv": "csv", ".xlsx": "xlsx"}

__all__ = ["SUFFIXES", "VIGNETTE_FORMATS", "pick_format", "render_document", "write_file"]


def render_document(doc: Document, format: str) -> bytes:
    """Render a laid-out vignette in ``format`` (md, docx, tex, html)."""
    if format == "docx":
        return docx_out.render(doc)
    text = {"md": md_out.render, "tex": latex_out.render, "html": html_out.render}[format](doc)
    return text.encode("utf-8")


def pick_format(path: Path | None, format: str | None, allowed: Sequence[str]) -> str:
    """The format asked for, or the one the file name's suffix says."""
    fmt = (format or (SUFFIXES.get(path.suffix.lower(), "") if path else "")).lower().lstrip(".")
    fmt = {"markdown": "md", "latex": "tex", "htm": "html", "word": "docx"}.get(fmt, fmt)
    if fmt not in allowed:
        where = f" for {path}" if path else ""
        raise ExportError(Errors.E3101, where=where, v2=format or (path.suffix if path else ''), allowed=', '.join(allowed))
    return fmt


def write_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``; :class:`ExportError` (saying what to do) if the folder is missing or the
    file cannot be written."""
    path = Path(path)
    if not path.parent.exists():
        raise ExportError(Errors.E3102, path=path, parent=path.parent)
    try:
        path.write_bytes(data)
    except OSError as err:
        raise ExportError(Errors.E3103, path=path, strerror=err.strerror) from None
    return path
