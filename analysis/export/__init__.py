"""Publication export: vignettes to Markdown, DOCX, LaTeX and HTML; the quote table (CSV, XLSX);
memos and the journal (Markdown, DOCX).

Before a vignette is written it must pass three checks: it is not a never-edited draft (unless
``allow_draft=True``; the output is then titled DRAFT), every quote matches its source once marked
edits are accounted for (:func:`analysis.quotes.check_quote`), and the disclosure check finds no
unresolved identifying detail (unless ``disclosure=False``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ExportError
from ..quotes import check_quote, quote_label
from . import docx as docx_out
from . import html as html_out
from . import latex as latex_out
from . import markdown as md_out
from .document import BLOCK_WORDS, PLACEHOLDER, Document, Options, build
from .tables import MemoEntry, memos_docx, memos_markdown, quote_table, write_csv, write_xlsx

VIGNETTE_FORMATS = ("md", "docx", "tex", "html")
SUFFIXES = {".md": "md", ".markdown": "md", ".docx": "docx", ".tex": "tex", ".html": "html", ".htm": "html",
            ".csv": "csv", ".xlsx": "xlsx"}

__all__ = ["ExportMixin", "VIGNETTE_FORMATS", "render_document"]


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
        raise ExportError(f"Cannot tell which format to write{where} ('{format or (path.suffix if path else '')}'). "
                          f"Choose one of: {', '.join(allowed)}.")
    return fmt


def write_file(path: Path, data: bytes) -> Path:
    path = Path(path)
    if not path.parent.exists():
        raise ExportError(f"Cannot write {path}: the folder {path.parent} does not exist. Create it or choose another.")
    try:
        path.write_bytes(data)
    except OSError as err:
        raise ExportError(f"Cannot write {path}: {err.strerror}. Choose another file or folder.") from None
    return path


class ExportMixin:
    """Project methods for export (vignettes, the quote table, memos)."""

    def layout_vignette(
        self: Any, vignette_id: int, *, allow_draft: bool = False, timestamps: bool = False, line_refs: bool = False,
        appendix: bool = False, block_words: int = BLOCK_WORDS, attributes: Sequence[str] = (), disclosure: bool = True,
    ) -> Document:
        """Check a vignette (draft, quote integrity, disclosure) and lay it out for printing."""
        v = self.vignette(vignette_id)
        name = f"Vignette {v.id} '{v.title}'"
        placeholders = [n for n, i in enumerate(v.items, 1) if i.kind == "narrative" and i.text.lstrip().startswith(PLACEHOLDER)]
        if not allow_draft and (v.status == "draft" or placeholders):
            why = ("was drafted by Storyloom and never edited" if v.status == "draft"
                   else f"still has placeholder paragraphs (items {', '.join(map(str, placeholders))})")
            raise ExportError(f"{name} {why}. Edit it and save (replace each '{PLACEHOLDER} ...]' paragraph with your "
                              f"own words), or export it as a draft with allow_draft=True (CLI: --allow-draft); "
                              f"the output is then titled DRAFT.")
        if not v.items:
            raise ExportError(f"{name} is empty. Add quotes and narrative before exporting.")
        for n, item in enumerate(v.items, 1):
            if item.kind != "quote":
                continue
            where = f"{name}, quote {n} ({quote_label(item.text)})"
            if not item.source:
                raise ExportError(f"{where}: its transcript '{item.transcript}' is no longer in the project. "
                                  f"Remove the quote or import the transcript again.")
            check_quote(item.text, item.source, where=where)
        if disclosure:
            flags = self.check_disclosure(v.id, attributes=attributes)
            if flags:
                listed = "; ".join(f"'{f['text']}' ({f['label']}, in {f['quote']})" for f in flags[:8])
                more = f" and {len(flags) - 8} more" if len(flags) > 8 else ""
                raise ExportError(
                    f"{name} may identify someone: {listed}{more}. Replace each in its quote with a bracketed "
                    f"substitution such as [a colleague], or accept it if it identifies no one "
                    f"(`storyloom disclosure accept TERM`, or Accept on the Vignettes page). To export without the "
                    f"check, pass disclosure=False (CLI: --skip-disclosure-check).")
        attrs = {p.pseudonym: p.attributes for p in self.participants()}
        options = Options(block_words=block_words, timestamps=timestamps, line_refs=line_refs, appendix=appendix,
                          attributes=tuple(attributes))
        return build(v, options=options, attributes=attrs)

    def render_vignette(
        self: Any, vignette_id: int, *, format: str = "md", allow_draft: bool = False, timestamps: bool = False,
        line_refs: bool = False, appendix: bool = False, block_words: int = BLOCK_WORDS,
        attributes: Sequence[str] = (), disclosure: bool = True,
    ) -> bytes:
        """The vignette as ``format`` (md, docx, tex, html) bytes, after the checks of :meth:`layout_vignette`."""
        fmt = pick_format(None, format, VIGNETTE_FORMATS)
        doc = self.layout_vignette(vignette_id, allow_draft=allow_draft, timestamps=timestamps, line_refs=line_refs,
                                   appendix=appendix, block_words=block_words, attributes=attributes,
                                   disclosure=disclosure)
        return render_document(doc, fmt)

    def export_vignette(
        self: Any, vignette_id: int, path: str | Path, *, format: str | None = None, allow_draft: bool = False,
        timestamps: bool = False, line_refs: bool = False, appendix: bool = False, block_words: int = BLOCK_WORDS,
        attributes: Sequence[str] = (), disclosure: bool = True,
    ) -> Path:
        """Write the vignette to ``path`` (format from ``format`` or the suffix: .md .docx .tex .html);
        the export is recorded in the audit trail."""
        path = Path(path)
        fmt = pick_format(path, format, VIGNETTE_FORMATS)
        options = dict(allow_draft=allow_draft, timestamps=timestamps, line_refs=line_refs, appendix=appendix,
                       block_words=block_words, disclosure=disclosure)
        out = write_file(path, self.render_vignette(vignette_id, format=fmt, attributes=attributes, **options))
        v = self.vignette(vignette_id)
        self._log("vignette.export", summary=f"Exported vignette '{v.title}' as {fmt} to {path.name}",
                  target=f"vignette:{v.guid}",
                  after={"path": str(path), "format": fmt, "attributes": list(attributes), **options})
        return out

    # -- quote table and memos --------------------------------------------------------------------
    def quote_table(self: Any, *, code: str | int | None = None, participant: str | None = None) -> pd.DataFrame:
        """Every coded quote: code path, participant, attributes, transcript, timestamp, text (+ turn, offsets)."""
        names = sorted({k for p in self.participants() for k in p.attributes})
        return quote_table(self.codings_frame(code=code, participant=participant), names)

    def export_quotes(self: Any, path: str | Path, *, format: str | None = None, code: str | int | None = None,
                      participant: str | None = None) -> Path:
        """Write the quote table as CSV (UTF-8) or XLSX."""
        path = Path(path)
        fmt = pick_format(path, format, ("csv", "xlsx"))
        df = self.quote_table(code=code, participant=participant)
        if not path.parent.exists():
            raise ExportError(f"Cannot write {path}: the folder {path.parent} does not exist.")
        (write_csv if fmt == "csv" else write_xlsx)(df, path)
        self._log("quotes.export", summary=f"Exported {len(df)} quotes as {fmt} to {path.name}", after={"path": str(path)})
        return path

    def memo_entries(self: Any) -> list[MemoEntry]:
        """Every memo and journal entry with a readable name for what it is about."""
        paths = self.code_paths()
        transcripts = {r.id: r.name for r in self._transcript_rows()}
        people = {p.id: p.pseudonym for p in self.participants()}
        codings = self.codings_frame(include_orphans=True).set_index("coding_id") if any(
            m.kind == "coding" for m in self.memos()) else None
        out = []
        for m in self.memos():
            about = ""
            if m.kind == "code":
                about = paths.get(m.target_id, "")
            elif m.kind == "familiarisation":
                about = transcripts.get(m.target_id, "")
            elif m.kind == "participant":
                about = people.get(m.target_id, "")
            elif m.kind == "coding" and codings is not None and m.target_id in codings.index:
                row = codings.loc[m.target_id]
                words = str(row["text"]).split()
                about = f"{row['code']}, {row['participant']}: “{' '.join(words[:8])}{' …' if len(words) > 8 else ''}”"
            out.append(MemoEntry(m.kind, m.phase, m.title, about, m.author, m.created_at, m.body))
        return out

    def export_memos(self: Any, path: str | Path, *, format: str | None = None) -> Path:
        """Write every memo and the journal, grouped by kind and phase, as Markdown or DOCX."""
        path = Path(path)
        fmt = pick_format(path, format, ("md", "docx"))
        entries = self.memo_entries()
        title = f"Memos and reflexive journal: {self.path.name}"
        data = memos_markdown(entries, title=title).encode("utf-8") if fmt == "md" else memos_docx(entries, title=title)
        write_file(path, data)
        self._log("memos.export", summary=f"Exported {len(entries)} memos as {fmt} to {path.name}", after={"path": str(path)})
        return path
