"""Tables and notes for the write-up: the quote table (CSV, XLSX) and every memo and journal entry
(Markdown, DOCX), grouped by kind and by phase of the analysis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..model import PHASES
from . import docx as docx_out

QUOTE_COLUMNS = ["code_path", "participant", "transcript", "timestamp", "text", "turn", "start", "end", "coding_id"]
MEMO_KINDS = {"journal": "Reflexive journal", "familiarisation": "Familiarisation notes (transcripts)",
              "code": "Memos on codes and themes", "coding": "Memos on codings", "participant": "Memos on participants"}


def quote_table(frame: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
    """The codings frame as a quote table: code path, participant, attributes, transcript, timestamp, text
    (then turn, offsets and coding id to trace each quote back)."""
    df = frame.copy()
    if "turn" in df:
        df["turn"] = df["turn"].map(lambda t: "" if pd.isna(t) else int(t) + 1)
    cols = QUOTE_COLUMNS[:2] + [a for a in attributes if a in df.columns] + QUOTE_COLUMNS[2:]
    return df.reindex(columns=cols).sort_values(["code_path", "participant", "transcript", "start"]).reset_index(drop=True)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 with a byte-order mark, so Excel shows macrons (ā) correctly."""
    df.to_csv(path, index=False, encoding="utf-8-sig")


def write_xlsx(df: pd.DataFrame, path: Path, *, sheet: str = "Quotes") -> None:
    """An XLSX sheet with a bold, frozen header; text that starts with '=' stays text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(df.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in df.itertuples(index=False):
        ws.append(["" if (isinstance(v, float) and pd.isna(v)) or v is None else v for v in row])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for col in ws.columns:
        name = str(col[0].value)
        ws.column_dimensions[col[0].column_letter].width = 80 if name == "text" else min(
            40, max(10, *(len(str(c.value or "")) for c in col[:200])))
        if name == "text":
            for cell in col[1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)


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


def memos_markdown(entries: Sequence[MemoEntry], *, title: str) -> str:
    lines = [f"# {title}", ""]
    if not entries:
        lines += ["No memos or journal entries yet.", ""]
    for kind_title, phases in grouped(entries):
        lines += [f"## {kind_title}", ""]
        for phase, items in phases:
            lines += [f"### Phase: {phase}", ""]
            for e in items:
                lines += [f"#### {_heading(e)}", "", f"*{_byline(e)}*", "", e.body.strip(), ""]
    return "\n".join(lines)


def memos_docx(entries: Sequence[MemoEntry], *, title: str) -> bytes:
    document = docx_out.new()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    if not entries:
        document.add_paragraph("No memos or journal entries yet.")
    for kind_title, phases in grouped(entries):
        document.add_heading(kind_title, level=1)
        for phase, items in phases:
            document.add_heading(f"Phase: {phase}", level=2)
            for e in items:
                document.add_heading(docx_out.clean(_heading(e)), level=3)
                document.add_paragraph().add_run(docx_out.clean(_byline(e))).italic = True
                for para in e.body.strip().split("\n\n"):
                    document.add_paragraph(docx_out.clean(para.strip()))
    return docx_out.to_bytes(document)
