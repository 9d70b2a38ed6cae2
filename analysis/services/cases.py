"""Cases and cross-case comparison (``project.cases``): cases with kinds, attributes and links to
participants and to coded passages; conditions (the matrix's columns, optionally tied to a code, one
of them the outcome); the researcher's judgement of each cell with its evidence and a note; machine
suggestions for a cell (never written by themselves); the set-theoretic comparison; the matrix as a
publication table (Markdown, DOCX, LaTeX, HTML, CSV, XLSX) with an evidence appendix; CSV import; the
cases file (``codebooks/cases.yaml``: cases, conditions and judged cells with their evidence quoted from
coded passages; see :data:`CASES_FILE_FORMAT`), imported on sync into a project with no cases.

Every change is one action (``case.*`` in :mod:`analysis.domain.audit`): one transaction, one audit event,
undo and redo for free. Removing a case or a condition removes the rows hanging on it through the
recorder too, so undo restores them. A coding removed elsewhere (``coding remove``, a code deleted with
its codings, a duplicate collapsed by a merge) takes its evidence links with it, recorded by the same
action (:data:`analysis.store.recorder._DEPENDENTS`), so undoing that removal brings back the coding, its
links to cases and its place in the cells' evidence.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import limits
from analysis.domain.cases import (Case, Condition, EvidenceQuote, Matrix, Publication, check_orientation, compare, format_cell,
                     matrix_methods_paragraph, matrix_table, parse_matrix_csv, parse_value, render)
from analysis.errors import ConflictError, Errors, ExportError, NotFoundError, StoryloomError, ValidationError
from analysis.export import BY_NAME, formats_for, pick_format, write_file
from analysis.export.tables import write_csv, write_xlsx
from analysis.domain.names import check_name
from analysis.domain.disclosure import PrintedQuote, check_publishable
from analysis.files.safe_yaml import Where, kind_of as _kind_of, load_yaml, yaml_list as _list, yaml_mapping as _mapping
from analysis.files.safe_yaml import yaml_path_error
from analysis.files.safe_yaml import yaml_name, yaml_text as _text
from analysis.store import cases as store, codes as code_store, participants as people_store
from analysis.store.dberrors import storage_error
from analysis.services.context import Action, Context, new_guid
from analysis.services.file_quotes import Sources, coded_passages

if TYPE_CHECKING:
    import pandas as pd

    from analysis.store import Connection
    from analysis.services.codebook import CodebookService
    from analysis.services.explore import ExploreService
    from analysis.services.participants import ParticipantService

__all__ = ["CASES_FILE", "CASES_FILE_FORMAT", "MATRIX_FORMATS", "CaseService"]

MATRIX_FORMATS = formats_for("matrix")  # md, docx, tex, html (rendered documents), csv, xlsx (rows)
AUDIT_MISSING = "The export succeeded but its audit record could not be written: "


# -- the cases file (codebooks/cases.yaml) ---------------------------------------------------------------
CASES_FILE = "cases.yaml"
CASES_FILE_FORMAT = """\
A cases file (``codebooks/cases.yaml``, read by :meth:`CaseService.import_file`; imported on ``sync`` when
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


class CaseService:
    """Cases, conditions, the matrix and the comparison (``project.cases``)."""

    def __init__(self, ctx: Context, codebook: CodebookService, participants: ParticipantService,
                 explore: ExploreService) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.participants = participants
        self.explore = explore
        self.last_warnings: list[str] = []
        self.last_evidence_path: Path | None = None  # the CSV export's evidence appendix, when it wrote one

    # -- reads ------------------------------------------------------------------------------------
    def matrix(self) -> Matrix:
        """Every case, condition and cell (see :class:`analysis.domain.cases.Matrix`; ``.to_json()`` for the CLI)."""
        paths = self.codebook.code_paths()
        with self.ctx.store.read() as conn:
            return store.matrix(conn, paths)

    def list(self) -> builtins.list[Case]:
        """Every case by name, with attributes, participants and linked codings."""
        return list(self.matrix().cases)

    def conditions(self) -> builtins.list[Condition]:
        return list(self.matrix().conditions)

    def condition(self, name: str) -> Condition:
        """The condition named ``name`` (ignoring case)."""
        with self.ctx.store.read() as conn:
            guid = str(store.condition_row(conn, name).guid)
        return next(c for c in self.conditions() if c.guid == guid)

    def get(self, name: str) -> Case:
        with self.ctx.store.read() as conn:
            guid = str(store.case_row(conn, name).guid)
        return next(c for c in self.list() if c.guid == guid)

    def evidence(self, name: str) -> pd.DataFrame:
        """The coded passages linked to case ``name`` (one row per coding: the codings frame's columns,
        plus ``cells``: the conditions whose cells they justify)."""
        case = self.get(name)
        frame = self.explore.codings_frame(include_orphans=True)
        mine = frame[frame["coding_id"].isin(case.evidence)].copy()
        m = self.matrix()
        cells: dict[int, builtins.list[str]] = {}
        for (cname, cond), cell in m.cells.items():
            if cname == case.name:
                for cid in cell.evidence:
                    cells.setdefault(cid, []).append(cond)
        mine["cells"] = [", ".join(cells.get(int(c), [])) for c in mine["coding_id"]]
        return mine.reset_index(drop=True)

    # -- cases ------------------------------------------------------------------------------------
    def add(self, name: str, *, kind: str = "case", description: str = "", attributes: dict[str, str] | None = None,
            participants: Sequence[str] = (), note: str = "") -> Case:
        """Create a case (``kind``: participant, programme, organisation, event... the researcher's word)."""
        name, kind = name.strip(), kind.strip()
        if not name:
            raise ValidationError(Errors.E6003)
        name = check_name(name, what="case")
        if not kind:
            raise ValidationError(Errors.E6021)
        with self.ctx.action("case.add", note=note) as act:
            if store.find_case(act.conn, name) is not None:
                raise ConflictError(Errors.E6005, name=name)
            guid = new_guid()
            cid = act.rec.insert("cases", guid=guid, name=name, kind=kind, description=description.strip(),
                                 created_at=self.ctx.now())
            for key, value in (attributes or {}).items():
                self._set_attribute(act, cid, key, value)
            for pseudonym in participants:
                act.rec.insert("case_participants", case_id=cid,
                               participant_id=people_store.participant_id(act.conn, pseudonym))
            act.target, act.summary = f"case:{guid}", f"Added case '{name}' ({kind})"
            act.after = {"name": name, "kind": kind, "attributes": attributes or {}, "participants": list(participants)}
        return self.get(name)

    def edit(self, name: str, *, new_name: str | None = None, kind: str | None = None,
             description: str | None = None, attributes: dict[str, str] | None = None, note: str = "") -> Case:
        """Rename a case, change its kind or description, or set attributes (a value "" keeps the attribute
        with an empty value)."""
        with self.ctx.action("case.edit", note=note) as act:
            row = store.case_row(act.conn, name)
            changes: dict[str, Any] = {}
            if new_name is not None and new_name.strip() != row.name:
                new_name = new_name.strip()
                if not new_name:
                    raise ValidationError(Errors.E6003)
                new_name = check_name(new_name, what="case")
                other = store.find_case(act.conn, new_name)
                if other is not None and other.id != row.id:
                    raise ConflictError(Errors.E6005, name=new_name)
                changes["name"] = new_name
            if kind is not None and kind.strip() != row.kind:
                if not kind.strip():
                    raise ValidationError(Errors.E6021)
                changes["kind"] = kind.strip()
            if description is not None and description.strip() != row.description:
                changes["description"] = description.strip()
            act.rec.update("cases", int(row.id), **changes)
            for key, value in (attributes or {}).items():
                self._set_attribute(act, int(row.id), key, value)
            act.target = f"case:{row.guid}"
            act.before = {k: row._mapping[k] for k in changes}
            act.after = {**changes, "attributes": attributes or {}}
            act.summary = f"Edited case '{row.name}'" + (f" (now '{changes['name']}')" if "name" in changes else "")
        return self.get(changes.get("name", row.name))

    def _set_attribute(self, act: Action, case_id: int, key: str, value: str) -> None:
        key = key.strip()
        if not key:
            raise ValidationError(Errors.E6015, text=f"={value}")
        vid = people_store.variable_id(act.conn, key)
        if vid is None:
            vid = act.rec.insert("variables", guid=new_guid(), name=key)
        existing = store.attribute_row(act.conn, case_id, vid)
        if existing is None:
            act.rec.insert("case_attributes", case_id=case_id, variable_id=vid, value=str(value))
        else:
            act.rec.update("case_attributes", existing, value=str(value))

    def remove(self, name: str, *, note: str = "") -> None:
        """Remove a case with its attributes, links and cells (undoable: undo restores them all)."""
        with self.ctx.action("case.remove", note=note) as act:
            row = store.case_row(act.conn, name)
            for table, ids in store.rows_of_case(act.conn, int(row.id)).items():
                for rid in ids:
                    act.rec.delete(table, rid)
            act.rec.delete("cases", int(row.id))
            act.target, act.summary, act.before = f"case:{row.guid}", f"Removed case '{row.name}'", {"name": row.name}

    def link(self, name: str, *, coding: int | None = None, participant: str | None = None, note: str = "") -> None:
        """Link case ``name`` to a coded passage (evidence) or to a participant."""
        if coding is None and participant is None:
            raise ValidationError(Errors.E6012, name=name)
        with self.ctx.action("case.link", note=note) as act:
            row = store.case_row(act.conn, name)
            act.target = f"case:{row.guid}"
            bits = []
            if coding is not None:
                self._link_coding(act, row, int(coding))
                bits.append(f"coding {coding}")
            if participant is not None:
                pid = people_store.participant_id(act.conn, participant)
                if store.link_id(act.conn, int(row.id), pid) is not None:
                    raise ConflictError(Errors.E6010, pseudonym=participant, name=row.name)
                act.rec.insert("case_participants", case_id=int(row.id), participant_id=pid)
                bits.append(f"participant {participant}")
            act.after = {"coding": coding, "participant": participant}
            act.summary = f"Linked case '{row.name}' to {' and '.join(bits)}"

    def _link_coding(self, act: Action, row: Any, coding: int, *, strict: bool = True) -> None:
        if not store.coding_exists(act.conn, coding):
            raise NotFoundError(Errors.E2006, target=coding)
        if store.evidence_id(act.conn, int(row.id), coding) is not None:
            if strict:
                raise ConflictError(Errors.E6008, coding_id=coding, name=row.name)
            return
        act.rec.insert("case_evidence", case_id=int(row.id), coding_id=coding, linked_by=act.who,
                       linked_at=self.ctx.now())
        guid = self._coding_guid(act.conn, coding)
        if guid:
            act.about("coding", guid, "related")

    @staticmethod
    def _coding_guid(conn: Connection, coding: int) -> str | None:
        from analysis.store import memos as memo_store

        return memo_store.coding_guid(conn, coding)

    def unlink(self, name: str, *, coding: int | None = None, participant: str | None = None, note: str = "") -> None:
        """Undo a link of case ``name`` to a coding (also detaching it from the case's cells) or a participant."""
        if coding is None and participant is None:
            raise ValidationError(Errors.E6012, name=name)
        with self.ctx.action("case.unlink", note=note) as act:
            row = store.case_row(act.conn, name)
            act.target = f"case:{row.guid}"
            if coding is not None:
                eid = store.evidence_id(act.conn, int(row.id), int(coding))
                if eid is None:
                    raise NotFoundError(Errors.E6009, coding_id=coding, name=row.name)
                for cond in store.condition_names(act.conn):
                    cell = store.cell_row(act.conn, int(row.id), int(store.condition_row(act.conn, cond).id))
                    if cell is not None and (vid := store.value_evidence_id(act.conn, int(cell.id), int(coding))):
                        act.rec.delete("case_value_evidence", vid)
                act.rec.delete("case_evidence", eid)
            if participant is not None:
                pid = people_store.participant_id(act.conn, participant)
                lid = store.link_id(act.conn, int(row.id), pid)
                if lid is None:
                    raise NotFoundError(Errors.E6011, pseudonym=participant, name=row.name)
                act.rec.delete("case_participants", lid)
            act.after = {"coding": coding, "participant": participant}
            act.summary = f"Unlinked {'coding ' + str(coding) if coding is not None else participant} from case '{row.name}'"

    def from_participants(self, *, kind: str = "participant", note: str = "") -> builtins.list[str]:
        """Make a case of kind ``kind`` for every participant that has none of that name yet, linked to
        them (one action). Returns the names of the cases made."""
        made: builtins.list[str] = []
        people = self.participants.list()
        with self.ctx.action("case.from_participants", note=note) as act:
            for person in people:
                if store.find_case(act.conn, person.pseudonym) is not None:
                    continue
                cid = act.rec.insert("cases", guid=new_guid(), name=person.pseudonym, kind=kind, description="",
                                     created_at=self.ctx.now())
                act.rec.insert("case_participants", case_id=cid, participant_id=person.id)
                made.append(person.pseudonym)
            act.target, act.after = "cases", {"cases": made}
            act.summary = f"Made {len(made)} participant cases"
        return made

    # -- conditions -------------------------------------------------------------------------------
    def add_condition(self, name: str, *, code: str | int | None = None, outcome: bool = False,
                      description: str = "", note: str = "") -> Condition:
        """A new column of the matrix; ``code`` ties it to a code (its passages linked to a case are offered
        as evidence); ``outcome`` makes it the outcome (the previous outcome stops being one)."""
        name = name.strip()
        if not name:
            raise ValidationError(Errors.E6004)
        name = check_name(name, what="condition")
        with self.ctx.action("case.condition.add", note=note) as act:
            if store.find_condition(act.conn, name) is not None:
                raise ConflictError(Errors.E6006, name=name)
            code_id = None if code is None or code == "" else int(code_store.code_row(act.conn, code).id)
            if outcome:
                for oid in store.outcome_rows(act.conn):
                    act.rec.update("conditions", oid, is_outcome=False)
            guid = new_guid()
            act.rec.insert("conditions", guid=guid, name=name, description=description.strip(), code_id=code_id,
                           is_outcome=outcome, position=store.next_position(act.conn), created_at=self.ctx.now())
            act.target = f"condition:{guid}"
            act.after = {"name": name, "code": code, "outcome": outcome}
            act.summary = f"Added {'the outcome' if outcome else 'condition'} '{name}'"
        return next(c for c in self.conditions() if c.guid == guid)

    def edit_condition(self, name: str, *, new_name: str | None = None, code: str | int | None = None,
                       untie: bool = False, outcome: bool | None = None, description: str | None = None,
                       note: str = "") -> Condition:
        """Rename a condition, tie it to a code (or ``untie``), make it the outcome (or not), describe it."""
        with self.ctx.action("case.condition.edit", note=note) as act:
            row = store.condition_row(act.conn, name)
            changes: dict[str, Any] = {}
            if new_name is not None and new_name.strip() != row.name:
                if not new_name.strip():
                    raise ValidationError(Errors.E6004)
                new_name = check_name(new_name, what="condition")
                other = store.find_condition(act.conn, new_name)
                if other is not None and other.id != row.id:
                    raise ConflictError(Errors.E6006, name=new_name.strip())
                changes["name"] = new_name.strip()
            if untie:
                changes["code_id"] = None
            elif code is not None and code != "":
                changes["code_id"] = int(code_store.code_row(act.conn, code).id)
            if outcome is not None and bool(outcome) != bool(row.is_outcome):
                if outcome:
                    for oid in store.outcome_rows(act.conn):
                        act.rec.update("conditions", oid, is_outcome=False)
                changes["is_outcome"] = bool(outcome)
            if description is not None:
                changes["description"] = description.strip()
            act.rec.update("conditions", int(row.id), **changes)
            act.target = f"condition:{row.guid}"
            act.before = {k: row._mapping[k] for k in changes}
            act.after = changes
            act.summary = f"Edited condition '{row.name}'"
        return next(c for c in self.conditions() if c.guid == row.guid)

    def remove_condition(self, name: str, *, note: str = "") -> None:
        """Remove a condition and its cells (undoable)."""
        with self.ctx.action("case.condition.remove", note=note) as act:
            row = store.condition_row(act.conn, name)
            for table, ids in store.rows_of_condition(act.conn, int(row.id)).items():
                for rid in ids:
                    act.rec.delete(table, rid)
            act.rec.delete("conditions", int(row.id))
            act.target, act.summary = f"condition:{row.guid}", f"Removed condition '{row.name}'"

    # -- cells ------------------------------------------------------------------------------------
    def set_cell(self, case: str, condition: str, value: str | float | None, *, evidence: Iterable[int] = (),
                 note: str | None = None, origin: str = "researcher") -> None:
        """Judge a cell: ``value`` 1, 0, a number in [0, 1] (or ✓/✗/yes/no); ``"clear"`` or None removes the
        judgement (and the cell's evidence and note: :meth:`clear_cell`). ``evidence`` codings are attached
        to the cell (and linked to the case if they were not); ``note`` is the short justification."""
        if isinstance(value, str) and value.strip().casefold() == "clear" or value is None:
            self.clear_cell(case, condition)
            return
        number = parse_value(value)
        if number is None:  # blank, "-", "?": not judged
            self.clear_cell(case, condition)
            return
        with self.ctx.action("case.cell.set") as act:
            crow, krow = store.case_row(act.conn, case), store.condition_row(act.conn, condition)
            vid = self._write_cell(act, crow, krow, number, note=note, origin=origin)
            for coding in evidence:
                self._attach(act, crow, krow, vid, int(coding))
            act.target = f"case:{crow.guid} condition:{krow.guid}"
            act.after = {"case": crow.name, "condition": krow.name, "value": number, "origin": origin,
                         "evidence": list(evidence), "note": note}
            act.summary = f"Judged '{crow.name}' x '{krow.name}': {format_cell(number)}" + (
                " (a machine suggestion, accepted)" if origin == "suggestion" else "")

    def _write_cell(self, act: Action, crow: Any, krow: Any, value: float | None, *, note: str | None,
                    origin: str) -> int:
        existing = store.cell_row(act.conn, int(crow.id), int(krow.id))
        values: dict[str, Any] = {"value": value, "origin": origin, "judged_by": act.who, "judged_at": self.ctx.now()}
        if note is not None:
            values["note"] = note.strip()
        if existing is None:
            return act.rec.insert("case_values", case_id=int(crow.id), condition_id=int(krow.id), **values)
        if value is None:  # attaching evidence or a note keeps the judgement as it is
            values = {k: v for k, v in values.items() if k == "note"}
        act.rec.update("case_values", int(existing.id), **values)
        return int(existing.id)

    def _attach(self, act: Action, crow: Any, krow: Any, vid: int, coding: int) -> None:
        self._link_coding(act, crow, coding, strict=False)
        if store.value_evidence_id(act.conn, vid, coding) is None:
            act.rec.insert("case_value_evidence", value_id=vid, coding_id=coding)

    def attach_evidence(self, case: str, condition: str, codings: Iterable[int], *, note: str | None = None) -> None:
        """Attach codings as evidence of a cell (an unjudged cell keeps no value until it is judged)."""
        codings = list(codings)
        with self.ctx.action("case.cell.evidence") as act:
            crow, krow = store.case_row(act.conn, case), store.condition_row(act.conn, condition)
            vid = self._write_cell(act, crow, krow, None, note=note, origin="researcher")
            for coding in codings:
                self._attach(act, crow, krow, vid, int(coding))
            act.target = f"case:{crow.guid} condition:{krow.guid}"
            act.after = {"case": crow.name, "condition": krow.name, "coding": codings}
            act.summary = f"Attached {len(codings)} passage(s) as evidence of '{crow.name}' x '{krow.name}'"

    def detach_evidence(self, case: str, condition: str, coding: int) -> None:
        with self.ctx.action("case.cell.evidence") as act:
            crow, krow = store.case_row(act.conn, case), store.condition_row(act.conn, condition)
            cell = store.cell_row(act.conn, int(crow.id), int(krow.id))
            vid = None if cell is None else store.value_evidence_id(act.conn, int(cell.id), int(coding))
            if vid is None:
                raise NotFoundError(Errors.E6017, coding_id=coding, case=crow.name, condition=krow.name)
            act.rec.delete("case_value_evidence", vid)
            act.target = f"case:{crow.guid} condition:{krow.guid}"
            act.after = {"case": crow.name, "condition": krow.name, "coding": coding, "detached": True}
            act.summary = f"Detached coding {coding} from '{crow.name}' x '{krow.name}'"

    def clear_cell(self, case: str, condition: str) -> None:
        """Back to "not yet judged": the value, the note and the cell's evidence go (the case keeps its links)."""
        with self.ctx.action("case.cell.clear") as act:
            crow, krow = store.case_row(act.conn, case), store.condition_row(act.conn, condition)
            cell = store.cell_row(act.conn, int(crow.id), int(krow.id))
            if cell is not None:
                for eid in store.cell_evidence_ids(act.conn, int(cell.id)):
                    act.rec.delete("case_value_evidence", eid)
                act.rec.delete("case_values", int(cell.id))
            act.target = f"case:{crow.guid} condition:{krow.guid}"
            act.after = {"case": crow.name, "condition": krow.name}
            act.summary = f"Cleared '{crow.name}' x '{krow.name}'"

    # -- machine suggestions (never written by themselves) ----------------------------------------
    def suggestion(self, case: str, condition: str) -> dict[str, Any] | None:
        """A machine suggestion for a cell, or None: when the condition is tied to a code and passages
        coded with it (or a code under it) are linked to the case, "present" (1) with those codings."""
        with self.ctx.store.read() as conn:
            crow, krow = store.case_row(conn, case), store.condition_row(conn, condition)
            if krow.code_id is None:
                return None
            codes = {int(krow.code_id)} | code_store.descendants(conn, int(krow.code_id))
            found = store.codings_of_code_for_case(conn, int(crow.id), codes)
            code_name = str(code_store.code_row(conn, int(krow.code_id)).name)
        if not found:
            return None
        return {"case": crow.name, "condition": krow.name, "value": 1.0, "evidence": found, "machine": True,
                "reason": f"{len(found)} passage(s) coded '{code_name}' are linked to this case"}

    def suggestions(self) -> builtins.list[dict[str, Any]]:
        """A suggestion for every cell not yet judged that has one (labelled ``machine``)."""
        m = self.matrix()
        out = []
        for k in m.conditions:
            if k.code_id is None:
                continue
            for c in m.cases:
                if m.value(c.name, k.name) is None and (s := self.suggestion(c.name, k.name)) is not None:
                    out.append(s)
        return out

    def accept_suggestion(self, case: str, condition: str, *, note: str | None = None) -> None:
        """Set the cell to the machine's suggestion, recorded as an accepted suggestion (origin ``suggestion``)."""
        s = self.suggestion(case, condition)
        if s is None:
            raise ValidationError(Errors.E6018, case=case, condition=condition,
                                  why="the condition is tied to no code, or no passage coded with it is linked to the case")
        self.set_cell(case, condition, s["value"], evidence=s["evidence"], note=note if note is not None else s["reason"],
                      origin="suggestion")

    # -- comparison -------------------------------------------------------------------------------
    def compare(self, outcome: str | None = None) -> dict[str, Any]:
        """The set-theoretic comparison for ``outcome`` (default: the condition marked as the outcome);
        see :func:`analysis.domain.cases.compare`."""
        m = self.matrix()
        if outcome is None:
            outcome = m.outcome
        if outcome is None:
            raise ValidationError(Errors.E6013, known=", ".join(c.name for c in m.conditions) or "none yet")
        with self.ctx.store.read() as conn:
            name = str(store.condition_row(conn, outcome).name)
        return compare(m, name)

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
        m = self.matrix()
        if not m.cases or not m.conditions:
            raise ExportError(Errors.E6019)
        header, rows = matrix_table(m, cases_as=cases_as)
        comparison = None
        chosen = outcome or m.outcome
        if chosen is not None:
            try:
                comparison = self.compare(chosen)
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

        header, rows = matrix_table(self.matrix(), cases_as=cases_as, symbols=False)
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
            m = self.matrix()
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
        m = self.matrix()
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

    def codings_in_selection(self, transcript: str, start: int, end: int) -> builtins.list[int]:
        """The ids of the codings that overlap a selection of a transcript (Read & code's pending selection)."""
        with self.ctx.store.read() as conn:
            return store.codings_in_span(conn, transcript, int(start), int(end))

    # -- import -----------------------------------------------------------------------------------
    def import_csv(self, path: str | Path, *, cases_as: str | None = None, data: bytes | None = None,
                   note: str = "") -> dict[str, Any]:
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
                self._write_cell(act, crows[case], krows[cond], value, note=None, origin="import")
            act.target = "cases"
            act.after = {"path": str(path), "cases": len(parsed.cases), "conditions": len(parsed.conditions),
                         "cells": len(parsed.cells), "new_cases": made_cases, "new_conditions": made_conds}
            act.summary = (f"Imported a matrix from {path.name}: {len(parsed.cases)} cases, {len(parsed.conditions)} "
                           f"conditions, {len(parsed.cells)} cells")
        return {"cases": parsed.cases, "conditions": parsed.conditions, "cells": len(parsed.cells),
                "outcome": parsed.outcome, "new_cases": made_cases, "new_conditions": made_conds}

    def import_file(self, path: str | Path, *, data: bytes | None = None, note: str = "") -> dict[str, Any]:
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
                    self._set_attribute(act, int(crow.id), key, value)
                for cell in case.cells:
                    krow = krows[cell.condition.casefold()]
                    vid = self._write_cell(act, crow, krow, cell.value, note=cell.note, origin="import")
                    n_cells += 1
                    for ev in cell.evidence:
                        for coding in coded_passages(act.conn, name, ev.transcript, ev.quote, ev.where, codings,
                                                     whole=True):
                            self._attach(act, crow, krow, vid, int(coding.id))
                            n_links += 1
            act.target = "cases"
            act.after = {"path": str(path), "cases": len(parsed.cases), "conditions": len(parsed.conditions),
                         "cells": n_cells, "evidence": n_links, "new_cases": made_cases, "new_conditions": made_conds}
            act.summary = (f"Imported {len(parsed.cases)} cases, {len(parsed.conditions)} conditions and {n_cells} "
                           f"judged cells ({n_links} evidence links) from {path.name}")
        return {"cases": [c.name for c in parsed.cases], "conditions": [c.name for c in parsed.conditions],
                "cells": n_cells, "evidence": n_links, "outcome": parsed.outcome, "new_cases": made_cases,
                "new_conditions": made_conds}

    def sync_folder(self) -> dict[str, Any]:
        """On sync: bring in ``codebooks/cases.yaml`` when the project has no cases yet (after the codebook
        and codings, whose passages its cells quote). Returns ``{"cases_imported": cases created}``."""
        path = self.ctx.codebooks_dir / CASES_FILE
        with self.ctx.store.read() as conn:
            has_cases = bool(store.case_names(conn))
        if has_cases or not path.exists():
            return {"cases_imported": 0}
        done = self.import_file(path, note="cases file found on sync")
        return {"cases_imported": len(done["new_cases"])}

    # -- the methods report -----------------------------------------------------------------------
    def matrix_counts(self) -> dict[str, Any] | None:
        """How the matrix was built, as counts for the methods report (None when there are no cases):
        cases (and their kinds), conditions, the outcome, cells in all, judged, partial, with evidence (linked
        coded passages), with a note, accepted machine suggestions, imported from a spreadsheet or a cases
        file, and the evidence links in all."""
        m = self.matrix()
        if not m.cases:
            return None
        judged = [c for c in m.cells.values() if c.value is not None]
        return {
            "cases": len(m.cases), "kinds": sorted({c.kind for c in m.cases}),
            "conditions": len(m.conditions) - (1 if m.outcome else 0), "outcome": m.outcome,
            "cells": len(m.cases) * len(m.conditions), "judged": len(judged),
            "partial": sum(1 for c in judged if c.value not in (0.0, 1.0)),
            "with_evidence": sum(1 for c in judged if c.evidence), "with_note": sum(1 for c in judged if c.note),
            "suggestions_accepted": sum(1 for c in judged if c.origin == "suggestion"),
            "imported": sum(1 for c in judged if c.origin == "import"),
            "evidence_links": sum(len(c.evidence) for c in judged),
        }

    def methods_paragraph(self) -> str:
        """How the matrix was built, for the methods report (empty when there are no cases)."""
        counts = self.matrix_counts()
        return "" if counts is None else matrix_methods_paragraph(counts)
