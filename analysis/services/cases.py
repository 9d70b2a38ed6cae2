"""Cases and cross-case comparison (``project.cases``): cases with kinds, attributes and links to
participants and to coded passages; conditions (the matrix's columns, optionally tied to a code, one
of them the outcome); the researcher's judgement of each cell with its evidence and a note; machine
suggestions for a cell (never written by themselves); the set-theoretic comparison; the counts of how the
matrix was built, for the methods report. The matrix's tables, exports and imports (CSV, the cases file) are
:class:`analysis.services.case_tables.CaseTableService` (``project.case_tables``).

Every change is one action (``case.*`` in :mod:`analysis.domain.audit`): one transaction, one audit event,
undo and redo for free. Removing a case or a condition removes the rows hanging on it through the
recorder too, so undo restores them. A coding removed elsewhere (``coding remove``, a code deleted with
its codings, a duplicate collapsed by a merge) takes its evidence links with it, recorded by the same
action (:data:`analysis.store.recorder._DEPENDENTS`), so undoing that removal brings back the coding, its
links to cases and its place in the cells' evidence.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from analysis.domain.cases import (Case, Comparison, Condition, Matrix, compare, format_cell, matrix_methods_paragraph,
                                   parse_value)
from analysis.errors import ConflictError, Errors, NotFoundError, ValidationError
from analysis.domain.names import check_name
from analysis.store import cases as store, codes as code_store, participants as people_store
from analysis.services.results import CellSuggestion, MatrixCounts
from analysis.services.context import Action, Context, new_guid

if TYPE_CHECKING:
    import pandas as pd

    from analysis.store import Connection
    from analysis.services.codebook import CodebookService
    from analysis.services.explore import ExploreService
    from analysis.services.participants import ParticipantService

__all__ = ["CaseService", "attach", "link_coding", "set_attribute", "write_cell"]


# -- row writers inside a running action (the case service's edits and the imports of project.case_tables) --------
def set_attribute(act: Action, case_id: int, key: str, value: str) -> None:
    """Set a case's attribute ``key`` (a participant variable, made when new) to ``value``."""
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


def write_cell(act: Action, crow: Any, krow: Any, value: float | None, *, note: str | None, origin: str,
               now: str) -> int:
    """Judge the cell (case row ``crow``, condition row ``krow``): its value (None keeps the judgement, as
    attaching evidence does), note and origin; the cell's row id."""
    existing = store.cell_row(act.conn, int(crow.id), int(krow.id))
    values: dict[str, Any] = {"value": value, "origin": origin, "judged_by": act.who, "judged_at": now}
    if note is not None:
        values["note"] = note.strip()
    if existing is None:
        return act.rec.insert("case_values", case_id=int(crow.id), condition_id=int(krow.id), **values)
    if value is None:  # attaching evidence or a note keeps the judgement as it is
        values = {k: v for k, v in values.items() if k == "note"}
    act.rec.update("case_values", int(existing.id), **values)
    return int(existing.id)


def attach(act: Action, crow: Any, krow: Any, vid: int, coding: int, *, now: str) -> None:
    """Attach a coding to the cell ``vid`` as evidence (linking it to the case when it is not yet)."""
    link_coding(act, crow, coding, now=now, strict=False)
    if store.value_evidence_id(act.conn, vid, coding) is None:
        act.rec.insert("case_value_evidence", value_id=vid, coding_id=coding)


def link_coding(act: Action, row: Any, coding: int, *, now: str, strict: bool = True) -> None:
    """Link a coding to the case ``row`` as evidence; a link that exists is refused (``strict``) or kept."""
    if not store.coding_exists(act.conn, coding):
        raise NotFoundError(Errors.E2006, target=coding)
    if store.evidence_id(act.conn, int(row.id), coding) is not None:
        if strict:
            raise ConflictError(Errors.E6008, coding_id=coding, name=row.name)
        return
    act.rec.insert("case_evidence", case_id=int(row.id), coding_id=coding, linked_by=act.who,
                   linked_at=now)
    guid = _coding_guid(act.conn, coding)
    if guid:
        act.about("coding", guid, "related")


def _coding_guid(conn: Connection, coding: int) -> str | None:
    from analysis.store import memos as memo_store

    return memo_store.coding_guid(conn, coding)


class CaseService:
    """Cases, conditions, the matrix and the comparison (``project.cases``)."""

    def __init__(self, ctx: Context, codebook: CodebookService, participants: ParticipantService,
                 explore: ExploreService) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.participants = participants
        self.explore = explore

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
                set_attribute(act, cid, key, value)
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
                set_attribute(act, int(row.id), key, value)
            act.target = f"case:{row.guid}"
            act.before = {k: row._mapping[k] for k in changes}
            act.after = {**changes, "attributes": attributes or {}}
            act.summary = f"Edited case '{row.name}'" + (f" (now '{changes['name']}')" if "name" in changes else "")
        return self.get(changes.get("name", row.name))

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
                link_coding(act, row, int(coding), now=self.ctx.now())
                bits.append(f"coding {coding}")
            if participant is not None:
                pid = people_store.participant_id(act.conn, participant)
                if store.link_id(act.conn, int(row.id), pid) is not None:
                    raise ConflictError(Errors.E6010, pseudonym=participant, name=row.name)
                act.rec.insert("case_participants", case_id=int(row.id), participant_id=pid)
                bits.append(f"participant {participant}")
            act.after = {"coding": coding, "participant": participant}
            act.summary = f"Linked case '{row.name}' to {' and '.join(bits)}"

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
            vid = write_cell(act, crow, krow, number, note=note, origin=origin, now=self.ctx.now())
            for coding in evidence:
                attach(act, crow, krow, vid, int(coding), now=self.ctx.now())
            act.target = f"case:{crow.guid} condition:{krow.guid}"
            act.after = {"case": crow.name, "condition": krow.name, "value": number, "origin": origin,
                         "evidence": list(evidence), "note": note}
            act.summary = f"Judged '{crow.name}' x '{krow.name}': {format_cell(number)}" + (
                " (a machine suggestion, accepted)" if origin == "suggestion" else "")

    def attach_evidence(self, case: str, condition: str, codings: Iterable[int], *, note: str | None = None) -> None:
        """Attach codings as evidence of a cell (an unjudged cell keeps no value until it is judged)."""
        codings = list(codings)
        with self.ctx.action("case.cell.evidence") as act:
            crow, krow = store.case_row(act.conn, case), store.condition_row(act.conn, condition)
            vid = write_cell(act, crow, krow, None, note=note, origin="researcher", now=self.ctx.now())
            for coding in codings:
                attach(act, crow, krow, vid, int(coding), now=self.ctx.now())
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
    def suggestion(self, case: str, condition: str) -> CellSuggestion | None:
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
        return CellSuggestion(str(crow.name), str(krow.name), 1.0, tuple(found),
                              f"{len(found)} passage(s) coded '{code_name}' are linked to this case")

    def suggestions(self) -> builtins.list[CellSuggestion]:
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
        self.set_cell(case, condition, s.value, evidence=s.evidence, note=note if note is not None else s.reason,
                      origin="suggestion")

    # -- comparison -------------------------------------------------------------------------------
    def compare(self, outcome: str | None = None) -> Comparison:
        """The set-theoretic comparison for ``outcome`` (default: the condition marked as the outcome): a
        :class:`~analysis.domain.cases.Comparison` (see :func:`analysis.domain.cases.compare`)."""
        m = self.matrix()
        if outcome is None:
            outcome = m.outcome
        if outcome is None:
            raise ValidationError(Errors.E6013, known=", ".join(c.name for c in m.conditions) or "none yet")
        with self.ctx.store.read() as conn:
            name = str(store.condition_row(conn, outcome).name)
        return compare(m, name)

    def codings_in_selection(self, transcript: str, start: int, end: int) -> builtins.list[int]:
        """The ids of the codings that overlap a selection of a transcript (Read & code's pending selection)."""
        with self.ctx.store.read() as conn:
            return store.codings_in_span(conn, transcript, int(start), int(end))

    # -- the methods report -----------------------------------------------------------------------
    def matrix_counts(self) -> MatrixCounts | None:
        """How the matrix was built, as counts for the methods report (None when there are no cases):
        cases (and their kinds), conditions, the outcome, cells in all, judged, partial, with evidence (linked
        coded passages), with a note, accepted machine suggestions, imported from a spreadsheet or a cases
        file, and the evidence links in all."""
        m = self.matrix()
        if not m.cases:
            return None
        judged = [c for c in m.cells.values() if c.value is not None]
        return MatrixCounts(
            cases=len(m.cases), kinds=tuple(sorted({c.kind for c in m.cases})),
            conditions=len(m.conditions) - (1 if m.outcome else 0), outcome=m.outcome,
            cells=len(m.cases) * len(m.conditions), judged=len(judged),
            partial=sum(1 for c in judged if c.value not in (0.0, 1.0)),
            with_evidence=sum(1 for c in judged if c.evidence), with_note=sum(1 for c in judged if c.note),
            suggestions_accepted=sum(1 for c in judged if c.origin == "suggestion"),
            imported=sum(1 for c in judged if c.origin == "import"),
            evidence_links=sum(len(c.evidence) for c in judged),
        )

    def methods_paragraph(self) -> str:
        """How the matrix was built, for the methods report (empty when there are no cases)."""
        counts = self.matrix_counts()
        return "" if counts is None else matrix_methods_paragraph(asdict(counts))
