"""Every export (``project.exports``): vignettes (Markdown, DOCX, LaTeX, HTML), the quote table (CSV,
XLSX), memos and the journal, and the methods report (each a :class:`Document` that the format's renderer prints).

Before a vignette is written it must pass three checks: it is not a never-edited draft (unless
``allow_draft=True``; the output is then titled DRAFT), every quote matches its source once marked
edits are accounted for (:func:`analysis.domain.quotes.check_quote`), and the disclosure check finds no
unresolved identifying detail (unless ``disclosure=False``).

Every export that writes a file is recorded in the audit trail (a use of the tool, for the methods
report). The record is written after the file: if it cannot be written (a read-only or locked
database), the export has still succeeded; the method returns as usual and :attr:`ExportService.last_warnings`
says that the audit record is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.domain.disclosure import PrintedQuote, check_publishable
from analysis.errors import Errors, ExportError
from analysis.export import VIGNETTE_FORMATS, formats_for, pick_format, render_document, write_file
from analysis.export.document import BLOCK_WORDS, PLACEHOLDER, Document, Options, build
from analysis.export.tables import MemoEntry, memos_document, quote_table, write_csv, write_xlsx
from analysis.domain.methods_report import REPORT_FORMATS, MethodsReport, build_report, report_document
from analysis.domain.quotes import quote_label
from analysis.store import audit as audit_store, stats, transcripts as transcript_store
from analysis.domain.vignettes import QuoteItem
from analysis.services.context import Context

if TYPE_CHECKING:
    from analysis.services.cases import CaseService
    import pandas as pd
    from analysis.services.codebook import CodebookService
    from analysis.services.codebook_files import CodebookFileService
    from analysis.services.disclosure import DisclosureService
    from analysis.services.explore import ExploreService
    from analysis.services.memos import MemoService
    from analysis.services.participants import ParticipantService
    from analysis.services.vignettes import VignetteService



class ExportService:
    """Exports of vignettes, quotes, memos and the methods report, each recorded in the audit trail."""

    def __init__(
        self, ctx: Context, codebook: CodebookService, memos: MemoService, explore: ExploreService,
        participants: ParticipantService, vignettes: VignetteService, disclosure: DisclosureService,
        codebook_files: CodebookFileService, cases: CaseService | None = None,
    ) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.memos = memos
        self.explore = explore
        self.participants = participants
        self.vignettes = vignettes
        self.disclosure = disclosure
        self.codebook_files = codebook_files
        self.cases = cases
        self.last_warnings: list[str] = []
        """Warnings of the last export that wrote a file (empty when all went well): e.g. that the file was
        written but its audit record could not be."""

    def _record(self, kind: str, *, summary: str, after: dict[str, Any], target: str = "") -> None:
        """Record a finished export in the audit trail. The file is written by now, so a failure to write
        the record (the database read-only, locked, or on a full disk) does not undo or fail the export:
        it becomes a warning in :attr:`last_warnings`."""
        warning = self.ctx.log(kind, summary=summary, after=after, target=target)
        if warning:
            self.last_warnings.append(warning)

    # -- vignettes --------------------------------------------------------------------------------
    def layout_vignette(
        self, vignette_id: int, *, allow_draft: bool = False, timestamps: bool = False, line_refs: bool = False,
        appendix: bool = False, block_words: int = BLOCK_WORDS, attributes: Sequence[str] = (), disclosure: bool = True,
        straight_quotes: bool = False, author: str | None = None, fragment: bool = False,
    ) -> Document:
        """Check a vignette (draft, quote integrity, disclosure) and lay it out for printing.

        ``straight_quotes``: straight quotation marks and apostrophes (" ') instead of typographic ones;
        ``author``: the document's author property (default: the researcher exporting it; ``""`` for
        blind review); ``fragment``: LaTeX only, the vignette alone to ``\\input`` into a manuscript."""
        v = self.vignettes.get(vignette_id)
        name = f"Vignette {v.id} '{v.title}'"
        placeholders = [n for n, i in enumerate(v.items, 1) if i.kind == "narrative" and i.text.lstrip().startswith(PLACEHOLDER)]
        if not allow_draft and (v.status == "draft" or placeholders):
            why = ("was drafted by Storyloom and never edited" if v.status == "draft"
                   else f"still has placeholder paragraphs (items {', '.join(map(str, placeholders))})")
            raise ExportError(Errors.E3105, name=name, why=why, PLACEHOLDER=PLACEHOLDER)
        if not v.items:
            raise ExportError(Errors.E3106, name=name)
        quotes = [PrintedQuote(f"{name}, quote {n} ({quote_label(item.text)})", item.text, item.source or None,
                               item.transcript) for n, item in enumerate(v.items, 1) if isinstance(item, QuoteItem)]
        check_publishable(name, quotes, (lambda: self.disclosure.check(v.id, attributes=attributes)) if disclosure else None)
        attrs = {p.pseudonym: p.attributes for p in self.participants.list()}
        options = Options(block_words=block_words, timestamps=timestamps, line_refs=line_refs, appendix=appendix,
                          attributes=tuple(attributes), straight_quotes=straight_quotes,
                          author=self.ctx.actor if author is None else author.strip(), fragment=fragment)
        return build(v, options=options, attributes=attrs, created=self.ctx.now())

    def render_vignette(
        self, vignette_id: int, *, format: str = "md", allow_draft: bool = False, timestamps: bool = False,
        line_refs: bool = False, appendix: bool = False, block_words: int = BLOCK_WORDS,
        attributes: Sequence[str] = (), disclosure: bool = True, straight_quotes: bool = False,
        author: str | None = None, fragment: bool = False,
    ) -> bytes:
        """The vignette as ``format`` (md, docx, tex, html) bytes, after the checks of :meth:`layout_vignette`."""
        fmt = pick_format(None, format, VIGNETTE_FORMATS)
        doc = self.layout_vignette(vignette_id, allow_draft=allow_draft, timestamps=timestamps, line_refs=line_refs,
                                   appendix=appendix, block_words=block_words, attributes=attributes,
                                   disclosure=disclosure, straight_quotes=straight_quotes, author=author,
                                   fragment=fragment)
        return render_document(doc, fmt)

    def export_vignette(
        self, vignette_id: int, path: str | Path, *, format: str | None = None, allow_draft: bool = False,
        timestamps: bool = False, line_refs: bool = False, appendix: bool = False, block_words: int = BLOCK_WORDS,
        attributes: Sequence[str] = (), disclosure: bool = True, straight_quotes: bool = False,
        author: str | None = None, fragment: bool = False,
    ) -> Path:
        """Write the vignette to ``path`` (format from ``format`` or the suffix: .md .docx .tex .html);
        the export is recorded in the audit trail."""
        self.last_warnings = []
        path = Path(path)
        fmt = pick_format(path, format, VIGNETTE_FORMATS)
        data = self.render_vignette(vignette_id, format=fmt, attributes=attributes, allow_draft=allow_draft,
                                    timestamps=timestamps, line_refs=line_refs, appendix=appendix,
                                    block_words=block_words, disclosure=disclosure, straight_quotes=straight_quotes,
                                    author=author, fragment=fragment)
        out = write_file(path, data)
        v = self.vignettes.get(vignette_id)
        options: dict[str, Any] = dict(allow_draft=allow_draft, timestamps=timestamps, line_refs=line_refs,
                                       appendix=appendix, block_words=block_words, disclosure=disclosure,
                                       straight_quotes=straight_quotes, fragment=fragment)
        self._record("vignette.export", summary=f"Exported vignette '{v.title}' as {fmt} to {path.name}",
                     target=f"vignette:{v.guid}",
                     after={"path": str(path), "format": fmt, "attributes": list(attributes), **options})
        return out

    def download_vignette(
        self, vignette_id: int, *, format: str, allow_draft: bool = False, timestamps: bool = False,
        line_refs: bool = False, appendix: bool = False, block_words: int = BLOCK_WORDS,
        attributes: Sequence[str] = (), disclosure: bool = True, straight_quotes: bool = False,
        author: str | None = None, fragment: bool = False,
    ) -> bytes:
        """The vignette as ``format`` bytes for a download (the UI): the same checks as
        :meth:`export_vignette`, and recorded in the audit trail the same way (to "a download")."""
        self.last_warnings = []
        data = self.render_vignette(vignette_id, format=format, attributes=attributes, allow_draft=allow_draft,
                                    timestamps=timestamps, line_refs=line_refs, appendix=appendix,
                                    block_words=block_words, disclosure=disclosure, straight_quotes=straight_quotes,
                                    author=author, fragment=fragment)
        v = self.vignettes.get(vignette_id)
        self._record("vignette.export", summary=f"Exported vignette '{v.title}' as {format} (downloaded)",
                     target=f"vignette:{v.guid}",
                     after={"path": None, "format": format, "attributes": list(attributes), "allow_draft": allow_draft,
                            "timestamps": timestamps, "line_refs": line_refs, "appendix": appendix,
                            "block_words": block_words, "disclosure": disclosure,
                            "straight_quotes": straight_quotes, "fragment": fragment})
        return data

    # -- quote table and memos --------------------------------------------------------------------
    def quote_table(self, *, code: str | int | None = None, participant: str | None = None) -> pd.DataFrame:
        """Every coded quote: code path, participant, attributes, transcript, timestamp, text (+ turn, offsets)."""
        names = sorted({k for p in self.participants.list() for k in p.attributes})
        return quote_table(self.explore.codings_frame(code=code, participant=participant), names)

    def export_quotes(self, path: str | Path, *, format: str | None = None, code: str | int | None = None,
                      participant: str | None = None, raw: bool = False) -> Path:
        """Write the quote table as CSV (UTF-8) or XLSX. Cells that a spreadsheet would run as a formula
        (starting ``=``, ``+``, ``-``, ``@``, tab, CR) get a leading ``'`` unless ``raw``."""
        self.last_warnings = []
        path = Path(path)
        fmt = pick_format(path, format, formats_for("quotes"))
        df = self.quote_table(code=code, participant=participant)
        if not path.parent.exists():
            raise ExportError(Errors.E3107, path=path, parent=path.parent)
        (write_csv if fmt == "csv" else write_xlsx)(df, path, raw=raw)
        self._record("quotes.export", summary=f"Exported {len(df)} quotes as {fmt} to {path.name}",
                     after={"path": str(path)})
        return path

    def memo_entries(self) -> list[MemoEntry]:
        """Every memo and journal entry with a readable name for what it is about."""
        paths = self.codebook.code_paths()
        with self.ctx.store.read() as conn:
            transcripts = {int(r.id): str(r.name) for r in transcript_store.transcript_rows(conn)}
        people = {p.id: p.pseudonym for p in self.participants.list()}
        memos = self.memos.list()
        codings = self.explore.codings_frame(include_orphans=True).set_index("coding_id") if any(
            m.kind == "coding" for m in memos) else None
        out = []
        for m in memos:
            about = ""
            target = m.target_id
            if target is None:
                pass
            elif m.kind == "code":
                about = paths.get(target, "")
            elif m.kind == "familiarisation":
                about = transcripts.get(target, "")
            elif m.kind == "participant":
                about = people.get(target, "")
            elif m.kind == "coding" and codings is not None and target in codings.index:
                row = codings.loc[target]
                words = str(row["text"]).split()
                about = f"{row['code']}, {row['participant']}: “{' '.join(words[:8])}{' …' if len(words) > 8 else ''}”"
            out.append(MemoEntry(m.kind, m.phase, m.title, about, m.author, m.created_at, m.body))
        return out

    def export_memos(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write every memo and the journal, grouped by kind and phase, as Markdown or DOCX."""
        self.last_warnings = []
        path = Path(path)
        fmt = pick_format(path, format, formats_for("memos"))
        entries = self.memo_entries()
        doc = memos_document(entries, title=f"Memos and reflexive journal: {self.ctx.path.name}")
        write_file(path, render_document(doc, fmt))
        self._record("memos.export", summary=f"Exported {len(entries)} memos as {fmt} to {path.name}",
                     after={"path": str(path)})
        return path

    # -- the methods report -----------------------------------------------------------------------
    def methods_report(self) -> MethodsReport:
        """The methods paragraph, the counts behind it (``counts``), a ``table`` of measures, the codebook
        ``snapshots`` by phase, and the whole as ``markdown``; with cases, also the ``matrix_paragraph`` (how
        the case x condition matrix was built)."""
        with self.ctx.store.read() as conn:
            trail = audit_store.events(conn)
            status = stats.counts(conn, self.ctx.embedder.model_id)
        kinds = [c.kind for c in self.codebook.codes()]
        origins = [str(o) for o in self.explore.codings_frame()["origin"].tolist()]
        counts = self.cases.matrix_counts() if self.cases is not None else None
        matrix = None if counts is None else asdict(counts)
        return build_report(trail, status, kinds, origins, self.codebook_files.snapshots(), matrix)

    def render_methods_report(self, *, format: str = "md") -> bytes:
        """The methods report as ``format`` bytes: its :class:`Document` through the format's renderer."""
        return render_document(report_document(self.methods_report()), pick_format(None, format, REPORT_FORMATS))

    def download_methods_report(self, *, format: str = "md") -> bytes:
        """The methods report as ``format`` (md, docx) bytes for a download (the UI), recorded in the audit
        trail as the CLI's export is (the report itself does not count its own exports)."""
        self.last_warnings = []
        fmt = pick_format(None, format, REPORT_FORMATS)
        data = self.render_methods_report(format=fmt)
        self._record("methods.export", summary=f"Exported the methods report as {fmt} (downloaded)",
                     after={"path": None, "format": fmt})
        return data

    def export_methods_report(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write the methods report to ``path`` as ``md`` or ``docx`` (default: from the file suffix); the
        export is recorded in the audit trail."""
        self.last_warnings = []
        out = Path(path)
        fmt = (format or out.suffix.lstrip(".") or "md").lower()
        fmt = "md" if fmt == "markdown" else fmt
        if fmt not in REPORT_FORMATS:
            raise ExportError(Errors.E3108, fmt=fmt, out=out)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_file(out, self.render_methods_report(format=fmt))
        self._record("methods.export", summary=f"Exported the methods report as {fmt} to {out.name}",
                     after={"path": str(out), "format": fmt})
        return out
