"""The case x condition matrix's tables, exports and imports (``project.case_tables``): the matrix as a
publication table (Markdown, DOCX, LaTeX, HTML, CSV, XLSX) with an evidence appendix, each quote checked
verbatim; a matrix built in a spreadsheet (CSV import); the cases file (``codebooks/cases.yaml``: cases,
conditions and judged cells with their evidence quoted from coded passages; see :data:`CASES_FILE_FORMAT`),
imported on sync into a project with no cases. Each import is one action (``case.matrix.import``,
``case.file.import``); each export is recorded in the audit trail. The cases, conditions and cells themselves
are :class:`analysis.services.cases.CaseService` (``project.cases``).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import limits
from analysis.domain.cases import (EvidenceQuote, Publication, check_orientation, format_cell, matrix_table,
                                   parse_matrix_csv, parse_value, render)
from analysis.errors import Errors, ExportError, NotFoundError, StoryloomError, ValidationError
from analysis.export import BY_NAME, formats_for, pick_format, write_file
from analysis.export.tables import write_csv, write_xlsx
from analysis.domain.disclosure import PrintedQuote, check_publishable
from analysis.files.safe_yaml import Where, kind_of as _kind_of, load_yaml, yaml_list as _list, yaml_mapping as _mapping
from analysis.files.safe_yaml import yaml_path_error
from analysis.files.safe_yaml import yaml_name, yaml_text as _text
from analysis.store import cases as store, codes as code_store
from analysis.store.dberrors import storage_error
from analysis.services.cases import CaseService, attach, set_attribute, write_cell
from analysis.services.results import MatrixImport
from analysis.services.context import Context, new_guid
from analysis.services.file_quotes import Sources, coded_passages

if TYPE_CHECKING:
    import pandas as pd

    from analysis.services.explore import ExploreService

__all__ = ["CASES_FILE", "CASES_FILE_FORMAT", "MATRIX_FORMATS", "CaseTableService"]

MATRIX_FORMATS = formats_for("matrix")  # md, docx, tex, html (rendered documents), csv, xlsx (rows)
AUDIT_MISSING = "The export succeeded but its audit record could not be written: "


# -- the cases file (codebooks/cases.yaml) ---------------------------------------------------------------
CASES_FILE = "cases.yaml"
CASES_FILE_FORMAT = """\
A cases file (``codebooks/cases.yaml``, read by :meth:`CaseTableService.import_file`; imported on ``sync`` when
the project has no cases yet) is YAML with three top-level keys:

``storyloom_cases: 1``
    the format's version (optional; 1 is the only one).
``conditions``
    the matrix's columns, in order: each ``name`` (required), ``description`` (optional), ``code``
    (optional: a code's name or path ``Theme > Code``, whose passages are then offered as evidence) and
    ``outcome: true`` on the condition that is the outcome (at most one condition).
``cases``
    each ``name`` (required), ``kind`` (programme, participant, organisation...; default ``case``),
    ``description``, ``attributes`` (a mapping of text) and ``cells``: a mapping from a condition's name
    to the judgement of that cell:

    ``value``
        1 (present), 0 (absent) or a membership between 0 and 1 (0.67: more in than out); ✓/✗ and
        yes/no also read. A cell that is not judged is left out.
    ``note``
        the short justification (optional).
    ``evidence``
        the coded passages that justify the judgement: a list of ``{transcript, quote}``, each matched to
        the coding(s) of that transcript whose quote is exactly that text (as ``codings.yaml`` quotes it).

Names are compared ignoring case. Errors name the file and the entry (``cases[2].cells.Upskilling.value``).
"""
_CASE_KEYS = {"name", "kind", "description", "attributes", "cells"}
_CONDITION_KEYS = {"name", "description", "code", "outcome"}
_CELL_KEYS = {"value", "note", "evidence"}
_TOP_KEYS = {"storyloom_cases", "conditions", "cases"}



@dataclass(frozen=True)
class _FileEvidence:
    transcript: str
    quote: str
    where: Where


@dataclass(frozen=True)
class _FileCell:
    condition: str
    value: float
    note: str
    evidence: tuple[_FileEvidence, ...]


@dataclass(frozen=True)
class _FileCondition:
    name: str
    description: str
    code: str
    outcome: bool
    where: Where


@dataclass(frozen=True)
class _FileCase:
    name: str
    kind: str
    description: str
    attributes: dict[str, str]
    cells: tuple[_FileCell, ...]


@dataclass(frozen=True)
class _CasesFile:
    conditions: tuple[_FileCondition, ...]
    cases: tuple[_FileCase, ...]
    outcome: str | None = None


def _parse_cases_file(name: str, doc: Any) -> _CasesFile:
    """Check a whole cases file (see :data:`CASES_FILE_FORMAT`) before anything is written."""
    top = _mapping(name, (), doc, _TOP_KEYS, "a cases file: conditions and cases")
    version = top.get("storyloom_cases", 1)
    if version != 1 or isinstance(version, bool):
        raise yaml_path_error(name, ["storyloom_cases"], f"is {_kind_of(version)}; this version of Storyloom reads 1")
    if "conditions" not in top or "cases" not in top:
        missing = "conditions" if "conditions" not in top else "cases"
        raise yaml_path_error(name, (), f"has no '{missing}'")
    conditions: builtins.list[_FileCondition] = []
    seen: dict[str, str] = {}
    outcome: str | None = None
    for i, item in enumerate(_list(name, ["conditions"], top["conditions"], "conditions")):
        where: Where = ("conditions", i)
        entry = _mapping(name, where, item, _CONDITION_KEYS, "a condition: name, description, code, outcome")
        cname = yaml_name(name, [*where, "name"], entry.get("name"), "condition")
        if cname.casefold() in seen:
            raise yaml_path_error(name, [*where, "name"], f"'{cname}' is named twice (also '{seen[cname.casefold()]}')")
        seen[cname.casefold()] = cname
        is_outcome = entry.get("outcome", False)
        if not isinstance(is_outcome, bool):
            raise yaml_path_error(name, [*where, "outcome"], f"is {_kind_of(is_outcome)}, not true or false")
        if is_outcome:
            if outcome is not None:
                raise yaml_path_error(name, [*where, "outcome"], f"makes a second outcome ('{outcome}' is one): "
                                      "a matrix has one outcome")
            outcome = cname
        conditions.append(_FileCondition(cname, _text(name, [*where, "description"], entry.get("description")),
                                         _text(name, [*where, "code"], entry.get("code")), is_outcome, where))
    cases: builtins.list[_FileCase] = []
    case_names: dict[str, str] = {}
    for i, item in enumerate(_list(name, ["cases"], top["cases"], "cases")):
        where = ("cases", i)
        entry = _mapping(name, where, item, _CASE_KEYS, "a case: name, kind, description, attributes, cells")
        case_name = yaml_name(name, [*where, "name"], entry.get("name"), "case")
        if case_name.casefold() in case_names:
            raise yaml_path_error(name, [*where, "name"], f"'{case_name}' is named twice")
        case_names[case_name.casefold()] = case_name
        kind = _text(name, [*where, "kind"], entry.get("kind")) or "case"
        attributes: dict[str, str] = {}
        raw_attributes = entry.get("attributes") or {}
        if not isinstance(raw_attributes, dict):
            raise yaml_path_error(name, [*where, "attributes"], f"is {_kind_of(raw_attributes)}, not a mapping of text")
        for key, value in raw_attributes.items():
            if not isinstance(key, str) or not key.strip() or isinstance(value, (dict, list)):
                raise yaml_path_error(name, [*where, "attributes", str(key)], "is not a named text value")
            attributes[key.strip()] = "" if value is None else str(value)
        cells: builtins.list[_FileCell] = []
        raw_cells = entry.get("cells") or {}
        if not isinstance(raw_cells, dict):
            raise yaml_path_error(name, [*where, "cells"],
                                  f"is {_kind_of(raw_cells)}, not a mapping from condition to cell")
        for cond, raw in raw_cells.items():
            cwhere: Where = (*where, "cells", str(cond))
            if not isinstance(cond, str) or cond.strip().casefold() not in seen:
                raise yaml_path_error(name, cwhere, "names no condition of this file; "
                                      f"use one of {', '.join(seen.values()) or 'none (add conditions first)'}")
            cell = _mapping(name, cwhere, raw, _CELL_KEYS, "a cell: value, note, evidence")
            if "value" not in cell:
                raise yaml_path_error(name, cwhere, "has no 'value' (1, 0 or a membership between 0 and 1); "
                                      "leave a cell that is not judged out")
            try:
                value = parse_value(cell["value"])
            except ValidationError:
                value = None
            if value is None:
                raise yaml_path_error(name, [*cwhere, "value"], f"is {_kind_of(cell['value'])}, not a cell value: "
                                      "use 1 or 0, ✓ or ✗, or a membership between 0 and 1 such as 0.67")
            evidence: builtins.list[_FileEvidence] = []
            raw_evidence = _list(name, [*cwhere, "evidence"], cell.get("evidence") or [], "{transcript, quote}")
            for j, ev in enumerate(raw_evidence):
                ewhere: Where = (*cwhere, "evidence", j)
                ev_map = _mapping(name, ewhere, ev, {"transcript", "quote"}, "evidence: transcript, quote")
                for key in ("transcript", "quote"):
                    if key not in ev_map:
                        raise yaml_path_error(name, ewhere, f"has no '{key}'")
                quote = ev_map["quote"]
                if not isinstance(quote, str) or not quote.strip():
                    raise yaml_path_error(name, [*ewhere, "quote"],
                                          f"is {_kind_of(quote)}, not the text of a coded passage")
                evidence.append(_FileEvidence(_text(name, [*ewhere, "transcript"], ev_map["transcript"], required=True),
                                              quote, ewhere))
            cells.append(_FileCell(seen[cond.strip().casefold()], value,
                                   _text(name, [*cwhere, "note"], cell.get("note")), tuple(evidence)))
        cases.append(_FileCase(case_name, kind, _text(name, [*where, "description"], entry.get("description")),
                               attributes, tuple(cells)))
    return _CasesFile(tuple(conditions), tuple(cases), outcome)


class CaseTableService:
    """The matrix as tables and files: publication, exports, CSV and cases-file imports (``project.case_tables``)."""

    def __init__(self, ctx: Context, cases: CaseService, explore: ExploreService) -> None:
        self.ctx = ctx
        self.cases = cases
        self.explore = explore
        self.last_warnings: list[str] = []
        self.last_evidence_path: Path | None = None  # the CSV export's evidence appendix, when it wrote one

    # -- publication ------------------------------------------------------------------------------
    def evidence_quotes(self) -> builtins.list[EvidenceQuote]:
        """Every cell's justifying quotes, each checked verbatim against its transcript (an orphaned or
        changed passage stops the export, naming the cell)."""
        with self.ctx.store.read() as conn:
            rows = store.evidence_rows(conn)
        frame = self.explore.codings_frame(include_orphans=True).set_index("coding_id") if rows else None
        orphaned = next((r for r in rows if r.orphaned), None)
        if orphaned is not None:
            raise ExportError(Errors.E6020, case=orphaned.case, condition=orphaned.condition,
                              coding_id=orphaned.coding_id, transcript=orphaned.transcript)
        sources = [str(r.transcript_text)[int(r.start):int(r.end)] for r in rows]
        check_publishable("The case matrix", [
            PrintedQuote(f"Case '{r.case}', condition '{r.condition}', coding {r.coding_id}: ", str(r.quote), source,
                         str(r.transcript)) for r, source in zip(rows, sources)])
        out = []
        for r, source in zip(rows, sources):
            who, when = "", ""
            if frame is not None and r.coding_id in frame.index:
                info = frame.loc[r.coding_id]
                who, when = str(info["participant"] or ""), str(info["timestamp"] or "")
            out.append(EvidenceQuote(str(r.case), str(r.condition), None if r.value is None else float(r.value),
                                     " ".join(source.split()), who, str(r.transcript), when, int(r.coding_id),
                                     str(r.note)))
        return out

    def publication(self, *, cases_as: str = "columns", evidence: bool = False, outcome: str | None = None,
                    title: str | None = None) -> Publication:
        """What a matrix export prints: the ✓/✗ table, the comparison (when there is an outcome with judged
        cases) and, with ``evidence``, the appendix of justifying quotes."""
        check_orientation(cases_as)
        m = self.cases.matrix()
        if not m.cases or not m.conditions:
            raise ExportError(Errors.E6019)
        header, rows = matrix_table(m, cases_as=cases_as)
        comparison = None
        chosen = outcome or m.outcome
        if chosen is not None:
            try:
                comparison = self.cases.compare(chosen)
            except ValidationError:
                if outcome is not None:
                    raise
        return Publication(title or f"Case x condition matrix: {self.ctx.path.name}", header, rows, comparison,
                           tuple(self.evidence_quotes()) if evidence else ())

    def render(self, format: str = "md", *, cases_as: str = "columns", evidence: bool = False,
               outcome: str | None = None) -> bytes:
        """The matrix as ``format`` bytes (md, docx, tex, html; csv and xlsx: see :meth:`export`)."""
        fmt = pick_format(None, format, tuple(f for f in MATRIX_FORMATS if BY_NAME[f].render))
        return render(self.publication(cases_as=cases_as, evidence=evidence, outcome=outcome), fmt)

    def matrix_frame(self, *, cases_as: str = "rows") -> pd.DataFrame:
        """The matrix as a spreadsheet reads it back (1, 0, the value, blank; first header ``case`` or
        ``condition``; the outcome named "... (outcome)")."""
        import pandas as pd

        header, rows = matrix_table(self.cases.matrix(), cases_as=cases_as, symbols=False)
        return pd.DataFrame(rows, columns=header)

    def export(self, path: str | Path, *, format: str | None = None, cases_as: str = "columns",
               evidence: bool = False, outcome: str | None = None) -> Path:
        """Write the matrix to ``path`` (md, docx, tex, html, csv, xlsx: from ``format`` or the suffix), with
        ``evidence`` its appendix of justifying quotes (checked verbatim; for CSV in a second file, see
        :meth:`evidence_path`; for XLSX on a second sheet); the export is recorded in the audit trail (a
        failure to record it is a warning in :attr:`last_warnings`)."""
        self.last_warnings = []
        self.last_evidence_path = None
        path = Path(path)
        fmt = pick_format(path, format, MATRIX_FORMATS)
        if fmt in ("csv", "xlsx"):
            m = self.cases.matrix()
            if not m.cases or not m.conditions:
                raise ExportError(Errors.E6019)
            if not path.parent.exists():
                raise ExportError(Errors.E3107, path=path, parent=path.parent)
            df = self.matrix_frame(cases_as=cases_as)
            quotes = self.evidence_frame() if evidence else None  # checked verbatim before anything is written
            if fmt == "csv":
                if quotes is not None:
                    self.last_evidence_path = self.evidence_path(path)
                    write_csv(quotes, self.last_evidence_path)
                write_csv(df, path)
            else:
                write_xlsx(df, path, sheet="Matrix", more=[("Evidence", quotes)] if quotes is not None else ())
        else:
            write_file(path, self.render(fmt, cases_as=cases_as, evidence=evidence, outcome=outcome))
        try:
            self.ctx.log("case.matrix.export", summary=f"Exported the case x condition matrix as {fmt} to {path.name}",
                         after={"path": str(path), "format": fmt, "cases_as": cases_as, "evidence": evidence})
        except Exception as err:  # noqa: BLE001 - the file is written; only its record failed
            reason = err if isinstance(err, StoryloomError) else storage_error(err, self.ctx.path)
            self.last_warnings.append(f"{AUDIT_MISSING}{reason}")
        return path

    @staticmethod
    def evidence_path(path: str | Path) -> Path:
        """Where a CSV export's evidence appendix goes: ``matrix.csv`` -> ``matrix-evidence.csv`` beside it
        (a CSV holds one table; an XLSX export puts the appendix on its second sheet, "Evidence")."""
        path = Path(path)
        return path.with_name(f"{path.stem}-evidence.csv")

    def evidence_frame(self) -> pd.DataFrame:
        """The evidence appendix as a table (one row per justifying quote, checked verbatim): case,
        condition, value (✓ / ✗ / the membership), text, participant, transcript, timestamp, coding_id, note."""
        import pandas as pd

        return pd.DataFrame([{"case": q.case, "condition": q.condition, "value": format_cell(q.value), "text": q.text,
                              "participant": q.participant, "transcript": q.transcript, "timestamp": q.timestamp,
                              "coding_id": q.coding_id, "note": q.note} for q in self.evidence_quotes()],
                            columns=["case", "condition", "value", "text", "participant", "transcript", "timestamp",
                                     "coding_id", "note"])

    def table_bytes(self, format: str = "md", *, cases_as: str = "columns", evidence: bool = False) -> bytes:
        """The matrix as a file's bytes in ``format`` (md, docx, tex, html, csv, xlsx; CSV without the
        appendix, XLSX with it on a second sheet), as :meth:`export` writes it, for a download (the UI; it
        records the download with :meth:`log_download`)."""
        import tempfile

        fmt = pick_format(None, format, MATRIX_FORMATS)
        if fmt not in ("csv", "xlsx"):
            return self.render(fmt, cases_as=cases_as, evidence=evidence)
        m = self.cases.matrix()
        if not m.cases or not m.conditions:
            raise ExportError(Errors.E6019)
        df = self.matrix_frame(cases_as=cases_as)
        with tempfile.TemporaryDirectory(prefix="storyloom-matrix-") as tmp:
            out = Path(tmp) / f"matrix.{fmt}"
            if fmt == "csv":
                write_csv(df, out)
            else:
                write_xlsx(df, out, sheet="Matrix", more=[("Evidence", self.evidence_frame())] if evidence else ())
            return out.read_bytes()

    def log_download(self, format: str, *, cases_as: str = "columns", evidence: bool = False) -> None:
        """Record a download of the matrix (the UI's export) in the audit trail."""
        self.ctx.log("case.matrix.export", summary=f"Downloaded the case x condition matrix as {format}",
                     after={"path": "", "format": format, "cases_as": cases_as, "evidence": evidence})

    # -- import -----------------------------------------------------------------------------------
    def import_csv(self, path: str | Path, *, cases_as: str | None = None, data: bytes | None = None,
                   note: str = "") -> MatrixImport:
        """Bring in a matrix built in a spreadsheet (see :func:`analysis.domain.cases.parse_matrix_csv`): names are
        matched to existing cases and conditions (ignoring case), new ones are created, judged cells are
        set (origin ``import``; evidence and notes kept), blank cells left as they are. One action; a bad
        cell anywhere writes nothing."""
        path = Path(path)
        raw = data if data is not None else limits.read_regular_file(path, cap=limits.PARTICIPANTS_BYTES, name=str(path))
        parsed = parse_matrix_csv(path.name, raw, cases_as=cases_as)
        made_cases, made_conds = [], []
        with self.ctx.action("case.matrix.import", note=note) as act:
            crows: dict[str, Any] = {}
            for name in parsed.cases:
                row = store.find_case(act.conn, name)
                if row is None:
                    act.rec.insert("cases", guid=new_guid(), name=name, kind="case", description="",
                                   created_at=self.ctx.now())
                    row = store.find_case(act.conn, name)
                    made_cases.append(name)
                crows[name] = row
            krows: dict[str, Any] = {}
            for name in parsed.conditions:
                row = store.find_condition(act.conn, name)
                if row is None:
                    act.rec.insert("conditions", guid=new_guid(), name=name, description="", code_id=None,
                                   is_outcome=False, position=store.next_position(act.conn), created_at=self.ctx.now())
                    row = store.find_condition(act.conn, name)
                    made_conds.append(name)
                krows[name] = row
            if parsed.outcome is not None:
                target = krows[parsed.outcome]
                for oid in store.outcome_rows(act.conn):
                    if oid != int(target.id):
                        act.rec.update("conditions", oid, is_outcome=False)
                act.rec.update("conditions", int(target.id), is_outcome=True)
            for (case, cond), value in parsed.cells.items():
                write_cell(act, crows[case], krows[cond], value, note=None, origin="import", now=self.ctx.now())
            act.target = "cases"
            act.after = {"path": str(path), "cases": len(parsed.cases), "conditions": len(parsed.conditions),
                         "cells": len(parsed.cells), "new_cases": made_cases, "new_conditions": made_conds}
            act.summary = (f"Imported a matrix from {path.name}: {len(parsed.cases)} cases, {len(parsed.conditions)} "
                           f"conditions, {len(parsed.cells)} cells")
        return MatrixImport(tuple(parsed.cases), tuple(parsed.conditions), len(parsed.cells), parsed.outcome,
                            tuple(made_cases), tuple(made_conds))

    def import_file(self, path: str | Path, *, data: bytes | None = None, note: str = "") -> MatrixImport:
        """Bring in cases, conditions and judged cells from a cases file (``codebooks/cases.yaml``; the
        format is described in :data:`CASES_FILE_FORMAT`). Cases and conditions are matched to existing ones
        by name (ignoring case; a matched case keeps its kind and description) and created when new; the
        file's outcome becomes the outcome; every cell in the file is set (origin ``import``) and its
        evidence, each ``{transcript, quote}`` matched to the codings of that transcript whose quote is
        exactly that text, is attached (and linked to the case). One action: a bad entry anywhere, or a quote
        that matches no coding, writes nothing, and the error names the file and the entry's YAML path."""
        path = Path(path)
        name = str(path)
        raw = data if data is not None else limits.read_regular_file(path, cap=limits.YAML_BYTES, name=name)
        parsed = _parse_cases_file(name, load_yaml(name, raw))
        made_cases: builtins.list[str] = []
        made_conds: builtins.list[str] = []
        n_cells = n_links = 0
        with self.ctx.action("case.file.import", note=note) as act:
            krows: dict[str, Any] = {}
            for cond in parsed.conditions:
                row: Any = store.find_condition(act.conn, cond.name)
                if row is None:
                    code_id = None
                    if cond.code:
                        try:
                            code_id = int(code_store.code_row(act.conn, cond.code).id)
                        except NotFoundError as err:
                            raise yaml_path_error(name, [*cond.where, "code"],
                                                  f"names no code of this project ({err})") from None
                    act.rec.insert("conditions", guid=new_guid(), name=cond.name, description=cond.description,
                                   code_id=code_id, is_outcome=False, position=store.next_position(act.conn),
                                   created_at=self.ctx.now())
                    row = store.condition_row(act.conn, cond.name)
                    made_conds.append(cond.name)
                krows[cond.name.casefold()] = row
                if cond.outcome:
                    for oid in store.outcome_rows(act.conn):
                        if oid != int(row.id):
                            act.rec.update("conditions", oid, is_outcome=False)
                    if not row.is_outcome:
                        act.rec.update("conditions", int(row.id), is_outcome=True)
            codings: Sources = {}
            for case in parsed.cases:
                crow: Any = store.find_case(act.conn, case.name)
                if crow is None:
                    act.rec.insert("cases", guid=new_guid(), name=case.name, kind=case.kind,
                                   description=case.description, created_at=self.ctx.now())
                    crow = store.case_row(act.conn, case.name)
                    made_cases.append(case.name)
                for key, value in case.attributes.items():
                    set_attribute(act, int(crow.id), key, value)
                for cell in case.cells:
                    krow = krows[cell.condition.casefold()]
                    vid = write_cell(act, crow, krow, cell.value, note=cell.note, origin="import", now=self.ctx.now())
                    n_cells += 1
                    for ev in cell.evidence:
                        for coding in coded_passages(act.conn, name, ev.transcript, ev.quote, ev.where, codings,
                                                     whole=True):
                            attach(act, crow, krow, vid, int(coding.id), now=self.ctx.now())
                            n_links += 1
            act.target = "cases"
            act.after = {"path": str(path), "cases": len(parsed.cases), "conditions": len(parsed.conditions),
                         "cells": n_cells, "evidence": n_links, "new_cases": made_cases, "new_conditions": made_conds}
            act.summary = (f"Imported {len(parsed.cases)} cases, {len(parsed.conditions)} conditions and {n_cells} "
                           f"judged cells ({n_links} evidence links) from {path.name}")
        return MatrixImport(tuple(c.name for c in parsed.cases), tuple(c.name for c in parsed.conditions), n_cells,
                            parsed.outcome, tuple(made_cases), tuple(made_conds), evidence=n_links)

    def sync_folder(self) -> int:
        """On sync: bring in ``codebooks/cases.yaml`` when the project has no cases yet (after the codebook
        and codings, whose passages its cells quote). Returns how many cases it created."""
        path = self.ctx.codebooks_dir / CASES_FILE
        with self.ctx.store.read() as conn:
            has_cases = bool(store.case_names(conn))
        if has_cases or not path.exists():
            return 0
        done = self.import_file(path, note="cases file found on sync")
        return len(done.new_cases)
