"""The codebook: a hierarchy of themes, candidate themes and codes, and its operations.

Create, edit (rename, redefine), move (refusing cycles), merge, split, delete and reorder; each is
one action with one audit event, and ``history()`` answers "how did this theme come to be". A code
is named by its name when that is unique, else by its path ``Theme > Subtheme > Code``.
"""

from __future__ import annotations

import re
from typing import Any

from analysis.domain.audit import KINDS
from analysis.domain.codebook import EDITABLE, PALETTE, PATH_SEP, code_fields, code_from_row
from analysis.domain.names import check_name
from analysis.errors import ConflictError, Errors, ValidationError
from analysis.domain.model import CODE_KINDS, CODE_STATUSES, AuditEvent, Code
from analysis.store import audit as audit_store, codes as code_store, codings as coding_store, team as team_store
from analysis.services.context import Action, Context, new_guid

__all__ = ["CodebookService"]


class _NoChange(Exception):
    """Raised inside an edit that changes nothing: its transaction rolls back and no event is recorded."""


class CodebookService:
    """``project.codebook``: the codes and themes, and every operation on them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- reads ----------------------------------------------------------------------------------
    def codes(self) -> list[Code]:
        """All codes, parents before children, siblings in their researcher-chosen order."""
        with self.ctx.store.read() as conn:
            rows = [code_from_row(r) for r in code_store.code_rows(conn)]
        children: dict[int | None, list[Code]] = {}
        for code in rows:
            children.setdefault(code.parent_id, []).append(code)
        ordered: list[Code] = []

        def walk(parent: int | None) -> None:
            for code in children.get(parent, []):
                ordered.append(code)
                walk(code.id)

        walk(None)
        return ordered

    def code_paths(self) -> dict[int, str]:
        """``{code id: "Theme > Subtheme > Code"}``."""
        by_id = {c.id: c for c in self.codes()}
        paths: dict[int, str] = {}
        for c in by_id.values():
            parts: list[str] = []
            node: Code | None = c
            while node is not None:
                parts.append(node.name)
                node = by_id.get(node.parent_id) if node.parent_id else None
            paths[c.id] = PATH_SEP.join(reversed(parts))
        return paths

    def get_code(self, ref: str | int) -> Code:
        """The code named by id, name (case-insensitive, when unique) or path ``Theme > Code``."""
        with self.ctx.store.read() as conn:
            return code_from_row(code_store.code_row(conn, ref))

    # -- validation and the code-creating step (shared with other services) ---------------------
    @staticmethod
    def validate_fields(fields: dict[str, Any]) -> None:
        """Check (and normalise, in place: the name is stripped) the fields of a code.

        Raises :class:`~analysis.errors.ValidationError` for an empty name, a name containing the path
        separator, an unknown kind or status, or a colour that is not ``#rrggbb``."""
        if "name" in fields:
            name = (fields["name"] or "").strip()
            if not name:
                raise ValidationError(Errors.E2106)
            if PATH_SEP.strip() in name:
                raise ValidationError(Errors.E2107, PATH_SEP=PATH_SEP.strip())
            fields["name"] = check_name(name, what="code name")
        if "kind" in fields and fields["kind"] not in CODE_KINDS:
            raise ValidationError(Errors.E2102, kind=fields['kind'], CODE_KINDS=', '.join(CODE_KINDS))
        if "status" in fields and fields["status"] not in CODE_STATUSES:
            raise ValidationError(Errors.E2103, status=fields['status'], CODE_STATUSES=', '.join(CODE_STATUSES))
        colour = fields.get("colour")
        if colour and not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            raise ValidationError(Errors.E2104, colour=colour)

    def insert_code(self, act: Action, fields: dict[str, Any], parent: str | int | None) -> int:
        """The code-creating step of an action (``fields`` already passed :meth:`validate_fields`).

        ``parent`` is a code name, path or id (None or "" for the top level). Refuses a name a sibling
        already has; without a colour the code takes its parent's, else the next of the palette. Sets the
        action's target, ``after`` and summary (a caller may extend or replace them). Returns the new id."""
        parent_id = int(code_store.code_row(act.conn, parent).id) if parent is not None and parent != "" else None
        code_store.check_sibling_name(act.conn, fields["name"], parent_id)
        if not fields.get("colour"):
            inherited = code_store.colour_of(act.conn, parent_id)
            fields["colour"] = inherited or PALETTE[code_store.count(act.conn) % len(PALETTE)]
        guid = new_guid()
        cid = act.rec.insert("codes", guid=guid, parent_id=parent_id,
                             position=code_store.next_position(act.conn, parent_id), created_at=self.ctx.now(), **fields)
        act.target, act.after = f"code:{guid}", fields | {"parent_id": parent_id}
        act.summary = f"Created {fields.get('kind', 'code')} '{fields['name']}'"
        return int(cid)

    # -- actions --------------------------------------------------------------------------------
    def add_code(
        self, name: str, *, parent: str | int | None = None, kind: str = "code", definition: str = "",
        inclusion: str = "", exclusion: str = "", example: str = "", colour: str = "", status: str = "initial code",
        central_concept: str = "", note: str = "",
    ) -> Code:
        """Create a code (or theme) under ``parent`` (a name or path; None for the top level)."""
        fields: dict[str, Any] = dict(
            name=name, kind=kind, definition=definition, inclusion=inclusion, exclusion=exclusion, example=example,
            colour=colour, status=status, central_concept=central_concept)
        self.validate_fields(fields)
        with self.ctx.action("code.create", note=note) as act:
            cid = self.insert_code(act, fields, parent)
        return self.get_code(cid)

    def edit_code(self, code: str | int, *, note: str = "", expected: Any = None, **changes: Any) -> Code:
        """Edit fields: name (a rename), definition, inclusion, exclusion, example, colour, status, kind,
        central_concept.

        An edit that changes nothing (every value already as given) records no event and returns the
        code as it is. ``expected`` (optimistic concurrency, for a team): the fields as the editor read
        them, e.g. ``{"definition": old}``; if another researcher has changed any since, ConflictError
        names what changed and who changed it, and nothing is saved."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValidationError(Errors.E2105, unknown=', '.join(sorted(unknown)), EDITABLE=', '.join(EDITABLE))
        changes = {k: ("" if v is None else v) for k, v in changes.items()}
        self.validate_fields(changes)
        try:
            with self.ctx.action("code.edit", note=note) as act:
                row = code_store.code_row(act.conn, code)
                code_id = int(row.id)
                if expected:  # a dict (typed Any: callers pass their fields as **kwargs beside it)
                    team_store.check_expected(act.conn, current=dict(row._mapping), expected=dict(expected),
                                              what=f"The code '{row.name}'", entity="code", guid=str(row.guid))
                before = {k: getattr(row, k) for k in changes}
                changed = {k: v for k, v in changes.items() if before[k] != v}
                if not changed:
                    raise _NoChange
                if "name" in changed:
                    code_store.check_sibling_name(act.conn, changed["name"], row.parent_id, exclude=row.id)
                act.rec.update("codes", row.id, **changed)
                act.target, act.before, act.after = f"code:{row.guid}", {k: before[k] for k in changed}, changed
                if "name" in changed:
                    act.action = "code.rename"
                    act.summary = f"Renamed '{row.name}' to '{changed['name']}'"
                else:
                    act.summary = f"Edited {', '.join(changed)} of '{row.name}'"
        except _NoChange:
            pass
        return self.get_code(code_id)

    def move_code(self, code: str | int, *, parent: str | int | None, note: str = "") -> Code:
        """Re-parent a code (``parent=None``: to the top level). Refuses to create a cycle."""
        paths = self.code_paths()
        with self.ctx.action("code.move", note=note) as act:
            row = code_store.code_row(act.conn, code)
            new_pid: int | None = None
            if parent is not None and parent != "":
                new_parent = code_store.code_row(act.conn, parent)
                new_pid = int(new_parent.id)
                if new_pid == row.id or new_pid in code_store.descendants(act.conn, row.id):
                    raise ConflictError(
                        Errors.E2206, name=row.name, name2=new_parent.name)
            code_store.check_sibling_name(act.conn, row.name, new_pid, exclude=row.id)
            act.rec.update("codes", row.id, parent_id=new_pid, position=code_store.next_position(act.conn, new_pid))
            act.target = f"code:{row.guid}"
            act.before = {"parent": paths.get(row.parent_id) if row.parent_id else None}
            act.after = {"parent": paths.get(new_pid) if new_pid else None}
            act.summary = f"Moved '{row.name}' under {act.after['parent'] or 'the top level'}"
        return self.get_code(int(row.id))

    def reorder_code(self, code: str | int, *, position: int, note: str = "") -> Code:
        """Put a code at ``position`` (0-based) among its siblings."""
        with self.ctx.action("code.reorder", note=note) as act:
            row = code_store.code_row(act.conn, code)
            sibs = code_store.sibling_ids(act.conn, row.parent_id)
            sibs.remove(row.id)
            sibs.insert(max(0, min(position, len(sibs))), row.id)
            for pos, sid in enumerate(sibs):
                act.rec.update("codes", sid, position=pos)
            act.target, act.summary = f"code:{row.guid}", f"Moved '{row.name}' to position {position + 1}"
        return self.get_code(int(row.id))

    def _move_codings(self, act: Action, from_id: int, to_id: int, coding_ids: set[int] | None = None) -> dict[str, int]:
        """Move codings to another code; an exact duplicate there collapses into the existing one."""
        moved = collapsed = 0
        for r in coding_store.rows_of(act.conn, from_id):
            if coding_ids is not None and r.id not in coding_ids:
                continue
            if coding_store.duplicate(act.conn, to_id, r.transcript_id, r.start, r.end, coder=r.coder) is not None:
                act.rec.delete("codings", r.id)
                collapsed += 1
            else:
                act.rec.update("codings", r.id, code_id=to_id)
                moved += 1
        return {"moved": moved, "collapsed": collapsed}

    def _move_dependents(self, act: Action, from_id: int, to_id: int | None) -> None:
        """Memos, vignettes and suggestion decisions of a code follow it (or go, with ``to_id=None``)."""
        memo_ids, vignette_ids, decision_ids = code_store.dependents(act.conn, from_id)
        for mid in memo_ids:
            if to_id is None:
                act.rec.delete("memos", mid)
            else:
                act.rec.update("memos", mid, target_id=to_id)
        for vid in vignette_ids:
            act.rec.update("vignettes", vid, code_id=to_id)
        for sid in decision_ids:
            act.rec.delete("suggestion_decisions", sid)

    def _adopt_children(self, act: Action, from_id: int, to_id: int | None) -> None:
        """The sub-codes of ``from_id`` move under ``to_id`` (named in the event: it is part of their history)."""
        for child in code_store.children(act.conn, from_id):
            code_store.check_sibling_name(act.conn, child.name, to_id)
            act.rec.update("codes", child.id, parent_id=to_id, position=code_store.next_position(act.conn, to_id))
            act.about("code", str(child.guid), "moved")

    def merge_codes(self, source: str | int, target: str | int, *, note: str = "") -> Code:
        """Merge ``source`` into ``target``: codings move (duplicates collapse), memos and sub-codes travel."""
        with self.ctx.action("code.merge", note=note) as act:
            src, dst = code_store.code_row(act.conn, source), code_store.code_row(act.conn, target)
            if src.id == dst.id:
                raise ConflictError(Errors.E2201, name=src.name)
            if dst.id in code_store.descendants(act.conn, src.id):
                raise ConflictError(Errors.E2202, name=src.name, name2=dst.name)
            counts = self._move_codings(act, src.id, dst.id)
            self._adopt_children(act, src.id, dst.id)
            self._move_dependents(act, src.id, dst.id)
            act.rec.delete("codes", src.id)
            act.target = f"code:{dst.guid} code:{src.guid}"
            act.before = {"source": code_fields(src), "target": dst.name}
            act.after = {"target": dst.name, **counts}
            act.summary = (f"Merged '{src.name}' into '{dst.name}' ({counts['moved']} codings moved, "
                           f"{counts['collapsed']} duplicates collapsed)")
        return self.get_code(int(dst.id))

    def split_code(
        self, code: str | int, *, new_name: str, coding_ids: list[int], parent: str | int | None = "same",
        definition: str = "", note: str = "",
    ) -> Code:
        """Split: the chosen codings of ``code`` go to a new code (a sibling, unless ``parent`` is given)."""
        self.validate_fields({"name": new_name})
        name = new_name.strip()
        with self.ctx.action("code.split", note=note) as act:
            row = code_store.code_row(act.conn, code)
            foreign = set(coding_ids) - coding_store.ids_of(act.conn, row.id)
            if foreign:
                raise ConflictError(Errors.E2203, foreign=sorted(foreign), name=row.name)
            if not coding_ids:
                raise ValidationError(Errors.E2108, name=row.name)
            pid: int | None
            if parent == "same":
                pid = row.parent_id
            else:
                pid = int(code_store.code_row(act.conn, parent).id) if parent else None
            code_store.check_sibling_name(act.conn, name, pid)
            guid = new_guid()
            new_id = act.rec.insert("codes", guid=guid, parent_id=pid, name=name, kind=row.kind,
                                    definition=definition, colour=PALETTE[code_store.count(act.conn) % len(PALETTE)],
                                    position=code_store.next_position(act.conn, pid), created_at=self.ctx.now())
            counts = self._move_codings(act, row.id, new_id, set(coding_ids))
            act.target = f"code:{row.guid} code:{guid}"
            act.after = {"new": name, "from": row.name, "codings": sorted(coding_ids)}
            act.summary = f"Split {counts['moved']} codings of '{row.name}' into new code '{name}'"
        return self.get_code(new_id)

    def delete_code(self, code: str | int, *, move_to: str | int | None = None, discard: bool = False,
                    note: str = "") -> None:
        """Delete a code. Its codings must go somewhere: ``move_to`` another code, or ``discard=True``.
        Sub-codes move up to the deleted code's parent. Undoable."""
        with self.ctx.action("code.delete", note=note) as act:
            row = code_store.code_row(act.conn, code)
            n = coding_store.count_of(act.conn, row.id)
            target = code_store.code_row(act.conn, move_to) if move_to is not None and move_to != "" else None
            if target is not None and (target.id == row.id or target.id in code_store.descendants(act.conn, row.id)):
                raise ConflictError(Errors.E2204, name=row.name)
            if n and target is None and not discard:
                raise ConflictError(Errors.E2205, name=row.name, n=n)
            if target is not None:
                self._move_codings(act, row.id, target.id)
            else:
                for cid in sorted(coding_store.ids_of(act.conn, row.id)):
                    act.rec.delete("codings", cid)
            self._adopt_children(act, row.id, row.parent_id)
            self._move_dependents(act, row.id, int(target.id) if target is not None else None)
            act.rec.delete("codes", row.id)
            act.target = f"code:{row.guid}" + (f" code:{target.guid}" if target is not None else "")
            act.before = code_fields(row) | {"codings": n}
            act.after = {"codings_to": target.name if target is not None else None, "discarded": 0 if target else n}
            act.summary = (f"Deleted '{row.name}'" + (f", its {n} codings moved to '{target.name}'" if target is not None
                           else (f", {n} codings discarded" if n else "")))

    # -- history --------------------------------------------------------------------------------
    def history(self, code: str | int) -> list[AuditEvent]:
        """How a code or theme came to be: creation, renames, moves, merges in, splits, edits, in order.

        Includes the history of codes that were merged into it (recursively). An event belongs to the
        history when its ``audit_targets`` name one of these codes and it is a codebook action (a kind
        about codes that changes data), or it is the coding action that created the code together with
        its first coding; plain codings, memos and recorded uses of the tool are not history."""
        row = self.get_code(code)
        guids, frontier = {row.guid}, [row.guid]
        with self.ctx.store.read() as conn:
            while frontier:
                g = frontier.pop()
                for src in audit_store.related(conn, "code.merge", "code", g):
                    if src not in guids:
                        guids.add(src)
                        frontier.append(src)
            events = audit_store.events_about(conn, "code", guids)
        return [e for e in events if _is_history(e)]


def _is_history(event: AuditEvent) -> bool:
    kind = KINDS.get(event.action)
    if kind is None:
        return False
    if kind.entity == "code":
        return kind.data
    # a code created together with its first coding ("Coded ... as 'X' (new code 'X')")
    return event.action.startswith("coding.") and "(new code " in event.summary
