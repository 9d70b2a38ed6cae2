"""Tables and notes for the write-up: the quote table (CSV, XLSX) and every memo and journal entry as one
:class:`~.document.Document` (:func:`memos_document`), grouped by kind and by phase of the analysis."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.domain.model import PHASES
from analysis.export.document import Block, Document, Heading, Paragraph, Prose
from analysis.export.sanitize import table_cell

if TYPE_CHECKING:  # pandas costs ~0.4 s to import: only where a frame is built
    import pandas as pd

QUOTE_COLUMNS = ["code_path", "participant", "transcript", "timestamp", "text", "turn", "start", "end", "coding_id"]
MEMO_KINDS = {"journal": "Reflexive journal", "familiarisation": "Familiarisation notes (transcripts)",
              "code": "Memos on codes and themes", "coding": "Memos on codings", "participant": "Memos on participants"}


def quote_table(frame: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
    """The codings frame as a quote table: code path, participant, attributes, transcript, timestamp, text
    (then turn, offsets and coding id to trace each quote back)."""
    import pandas as pd

    df = frame.copy()
    if "turn" in df:
        df["turn"] = df["turn"].map(lambda t: "" if pd.isna(t) else int(t) + 1)
    cols = QUOTE_COLUMNS[:2] + [a for a in attributes if a in df.columns] + QUOTE_COLUMNS[2:]
    return df.reindex(columns=cols).sort_values(["code_path", "participant", "transcript", "start"]).reset_index(drop=True)


def _missing(value: Any) -> bool:
    import pandas as pd

    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array in a cell: not missing
        return False


def _cells(df: pd.DataFrame, *, raw: bool, xml: bool) -> tuple[list[Any], list[list[Any]]]:
    """Header and rows as sink-ready cells (:func:`.sanitize.table_cell`); missing values are empty."""
    header = [table_cell(str(c), raw=raw, xml=xml) for c in df.columns]
    rows = [[table_cell("" if _missing(v) else v, raw=raw, xml=xml) for v in row]
            for row in df.itertuples(index=False, name=None)]
    return header, rows


def write_whole(path: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(temporary)`` on a new file beside ``path``, then rename it over ``path``: ``path`` is
    either its old self or the whole new file, never a half-written one (a full disk, a crash, an error in
    ``write``). A new file is readable by its owner only (0600); one that existed keeps its permissions."""
    from analysis.export.destination import write_atomic

    return write_atomic(path, write)


def write_csv(df: pd.DataFrame, path: Path, *, raw: bool = False) -> None:
    """UTF-8 with a byte-order mark, so Excel shows macrons (ā) correctly. A cell a spreadsheet would run
    as a formula (starts with = + - @, tab or CR) gets a leading ' unless ``raw`` (CLI ``--raw``).
    Written whole or not at all (:func:`write_whole`)."""
    import pandas as pd

    header, rows = _cells(df, raw=raw, xml=False)
    table = pd.DataFrame(rows, columns=header)
    # CRLF rows (RFC 4180): a carriage return inside a quote is then quoted too, not read as a row break
    write_whole(path, lambda tmp: table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n"))


def write_xlsx(df: pd.DataFrame, path: Path, *, sheet: str = "Quotes", raw: bool = False,
               more: Sequence[tuple[str, pd.DataFrame]] = ()) -> None:
    """An XLSX sheet with a bold, frozen header. Every string is a text cell, never a formula; one that
    starts with = + - @, tab or CR also gets a leading ' unless ``raw`` (CLI ``--raw``). Characters XML
    cannot hold (a stray control character in a quote) become U+FFFD. ``more``: further (name, table)
    sheets, written the same way. Written whole or not at all."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    for n, (title, frame) in enumerate([(sheet, df), *more]):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = title
        header, rows = _cells(frame, raw=raw, xml=True)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type != "s":
                    cell.data_type = "s"  # openpyxl reads a leading '=' as a formula
        ws.freeze_panes = "A2"
        for col in ws.columns:
            name = str(col[0].value)
            ws.column_dimensions[col[0].column_letter].width = 80 if name == "text" else min(
                40, max(10, *(len(str(c.value or "")) for c in col[:200])))
            if name == "text":
                for cell in col[1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    write_whole(path, lambda tmp: wb.save(tmp))


@dataclass(frozen=True)
class MemoEntry:
    """A memo or journal entry ready to print: ``about`` names its target (a code, transcript ...)."""

    kind: str
    phase: str
    title: str
    about: str
    author: str
    created_at: str
    body: str


def grouped(entries: Sequence[MemoEntry]) -> list[tuple[str, list[tuple[str, list[MemoEntry]]]]]:
    """By kind (journal first), then by phase in the order of the six phases, oldest entry first."""
    out = []
    for kind, title in MEMO_KINDS.items():
        mine = [e for e in entries if e.kind == kind]
        if not mine:
            continue
        phases = [*PHASES, *sorted({e.phase for e in mine} - set(PHASES))]
        out.append((title, [(ph, sorted((e for e in mine if e.phase == ph), key=lambda e: e.created_at))
                            for ph in phases if any(e.phase == ph for e in mine)]))
    return out


def _heading(e: MemoEntry) -> str:
    bits = [b for b in (e.about, e.title) if b]
    return ": ".join(bits) or "Entry"


def _byline(e: MemoEntry) -> str:
    return f"{e.created_at[:10]}, {e.author}"


def memos_document(entries: Sequence[MemoEntry], *, title: str) -> Document:
    """Every entry under its kind (a heading) and phase (a heading below it): the entry's heading (what it is
    about, its title), its byline in italics, its body as the researcher wrote it (:class:`.document.Prose`:
    Markdown keeps the body's own markup, any raw HTML escaped). Every format renders it."""
    blocks: list[Block] = [] if entries else [Paragraph(("No memos or journal entries yet.",))]
    for kind_title, phases in grouped(entries):
        blocks.append(Heading(kind_title, level=1))
        for phase, items in phases:
            blocks.append(Heading(f"Phase: {phase}", level=2))
            for e in items:
                blocks += [Heading(_heading(e), level=3), Paragraph((_byline(e),), emphasis=True), Prose(e.body)]
    return Document(title, tuple(blocks))
