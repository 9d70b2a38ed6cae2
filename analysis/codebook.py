"""The codebook: a hierarchy of themes, candidate themes and codes, and its operations.

Create, edit (rename, redefine), move (refusing cycles), merge, split, delete and reorder; each is
one ``Project`` action with one audit event, and ``history()`` answers "how did this theme come to
be". A code is named by its name when that is unique, else by its path ``Theme > Subtheme > Code``.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import sqlalchemy as sa

from .errors import ConflictError, NotFoundError
from .model import CODE_KINDS, CODE_STATUSES, AuditEvent, Code

PATH_SEP = " > "
EDITABLE = ("name", "kind", "definition", "inclusion", "exclusion", "example", "colour", "status", "central_concept")
PALETTE = ("#f6c85f", "#6fb1e7", "#9fd38a", "#f29e8e", "#c6a7e8", "#f7b267", "#7fd6c2", "#e8a0c8", "#b8c480", "#a3b8d9")


def _code(row: Any) -> Code:
    return Code(row.id, row.guid, row.name, row.parent_id, row.kind, row.definition, row.inclusion, row.exclusion,
                row.example, row.colour, row.status, row.central_concept, row.position)


def code_fields(row: Any) -> dict[str, Any]:
    return {k: getattr(row, k) for k in ("name", "parent_id", *EDITABLE[1:], "position")}


class CodebookMixin:
    """Project methods for the codebook."""

    # -- reads ----------------------------------------------------------------------------------
    def codes(self: Any) -> list[Code]:
        """All codes, parents before children, siblings in their researcher-chosen order."""
        c = self.t.codes
        with self.store.read() as conn:
            rows = [_code(r) for r in conn.execute(sa.select(c).order_by(c.c.position, c.c.id))]
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

    def code_paths(self: Any) -> dict[int, str]:
        """``{code id: "Theme > Subtheme > Code"}``."""
        by_id = {c.id: c for c in self.codes()}
        paths: dict[int, str] = {}
        for c in by_id.values():
            parts, node = [], c
            while node is not None:
                parts.append(node.name)
                node = by_id.get(node.parent_id) if node.parent_id else None
            paths[c.id] = PATH_SEP.join(reversed(parts))
        return paths

    def get_code(self: Any, ref: str | int) -> Code:
        with self.store.read() as conn:
            return _code(self._code_row(conn, ref))

    def _code_row(self: Any, conn: Any, ref: str | int) -> Any:
        c = self.t.codes
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and not self._named(conn, ref)):
            row = conn.execute(sa.select(c).where(c.c.id == int(ref))).first()
            if row:
                return row
            raise NotFoundError(f"No code with id {ref}.")
        ref = ref.strip()
        if PATH_SEP.strip() in ref:
            parent = None
            row = None
            for part in [p.strip() for p in ref.split(PATH_SEP.strip())]:
                row = conn.execute(sa.select(c).where(c.c.name == part, c.c.parent_id.is_(None) if parent is None
                                                      else c.c.parent_id == parent)).first()
                if row is None:
                    raise NotFoundError(f"No code at path '{ref}' (stopped at '{part}').")
                parent = row.id
            return row
        # casefold in Python: SQLite's lower() leaves non-ASCII letters (Ā, ū) alone
        rows = [r for r in conn.execute(sa.select(c)).all() if r.name.casefold() == ref.casefold()]
        if len(rows) == 1:
            return rows[0]
        if not rows:
            names = [r[0] for r in conn.execute(sa.select(c.c.name).order_by(c.c.name))]
            close = [n for n in names if ref.casefold()[:4] in n.casefold()][:5]
            hint = f" Did you mean: {', '.join(close)}?" if close else " Create it first, or check the codebook."
            raise NotFoundError(f"No code named '{ref}'.{hint}")
        raise NotFoundError(f"'{ref}' names {len(rows)} codes; give its path, e.g. 'Theme{PATH_SEP}{ref}'.")

    def _named(self: Any, conn: Any, name: str) -> bool:
        c = self.t.codes
        return conn.execute(sa.select(c.c.id).where(c.c.name == name)).first() is not None

    def _descendants(self: Any, conn: Any, code_id: int) -> set[int]:
        c = self.t.codes
        pairs = conn.execute(sa.select(c.c.id, c.c.parent_id)).all()
        out: set[int] = set()
        frontier = [code_id]
        while frontier:
            node = frontier.pop()
            for cid, parent in pairs:
                if parent == node and cid not in out:
                    out.add(cid)
                    frontier.append(cid)
        return out

    def _check_sibling_name(self: Any, conn: Any, name: str, parent_id: int | None, *, exclude: int | None = None) -> None:
        c = self.t.codes
        q = sa.select(c.c.id, c.c.name).where(c.c.parent_id.is_(None) if parent_id is None else c.c.parent_id == parent_id)
        if exclude is not None:
            q = q.where(c.c.id != exclude)
        if any(r.name.casefold() == name.casefold() for r in conn.execute(q)):
            where = "at the top of the codebook" if parent_id is None else "under the same parent"
            raise ConflictError(f"A code named '{name}' already exists {where}. Choose another name, or merge them.")

    @staticmethod
    def _validate(fields: dict[str, Any]) -> None:
        if "name" in fields:
            name = (fields["name"] or "").strip()
            if not name:
                raise ConflictError("A code needs a name: type one, e.g. 'Approval burden'.")
            if PATH_SEP.strip() in name:
                raise ConflictError(f"A code name cannot contain '{PATH_SEP.strip()}' (it separates levels of a path).")
            fields["name"] = name
        if "kind" in fields and fields["kind"] not in CODE_KINDS:
            raise ConflictError(f"Kind '{fields['kind']}' is not one of: {', '.join(CODE_KINDS)}.")
        if "status" in fields and fields["status"] not in CODE_STATUSES:
            raise ConflictError(f"Status '{fields['status']}' is not one of: {', '.join(CODE_STATUSES)}.")
        colour = fields.get("colour")
        if colour and not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            raise ConflictError(f"Colour '{colour}' is not a #rrggbb colour.")

    def _next_position(self: Any, conn: Any, parent_id: int | None) -> int:
        c = self.t.codes
        q = sa.select(sa.func.max(c.c.position)).where(c.c.parent_id.is_(None) if parent_id is None else c.c.parent_id == parent_id)
        top = conn.execute(q).scalar()
        return 0 if top is None else int(top) + 1

    # -- actions --------------------------------------------------------------------------------
    def add_code(
        self: Any, name: str, *, parent: str | int | None = None, kind: str = "code", definition: str = "",
        inclusion: str = "", exclusion: str = "", example: str = "", colour: str = "", status: str = "initial code",
        central_concept: str = "", note: str = "",
    ) -> Code:
        """Create a code (or theme) under ``parent`` (a name or path; None for the top level)."""
        fields = dict(name=name, kind=kind, definition=definition, inclusion=inclusion, exclusion=exclusion,
                      example=example, colour=colour, status=status, central_concept=central_concept)
        self._validate(fields)
        with self._action("code.create", note=note) as act:
            cid = self._insert_code(act, fields, parent)
        return self.get_code(cid)

    def _insert_code(self: Any, act: Any, fields: dict[str, Any], parent: str | int | None) -> int:
        """The code-creating step of an action (fields already validated)."""
        parent_id = self._code_row(act.conn, parent).id if parent is not None and parent != "" else None
        self._check_sibling_name(act.conn, fields["name"], parent_id)
        if not fields.get("colour"):
            inherited = act.conn.execute(sa.select(self.t.codes.c.colour).where(self.t.codes.c.id == parent_id)).scalar()
            count = act.conn.execute(sa.select(sa.func.count()).select_from(self.t.codes)).scalar_one()
            fields["colour"] = inherited or PALETTE[count % len(PALETTE)]
        guid = str(uuid4())
        cid = act.rec.insert("codes", guid=guid, parent_id=parent_id, position=self._next_position(act.conn, parent_id),
                             created_at=self._now(), **fields)
        act.target, act.after = f"code:{guid}", fields | {"parent_id": parent_id}
        act.summary = f"Created {fields.get('kind', 'code')} '{fields['name']}'"
        return int(cid)

    def edit_code(self: Any, code: str | int, *, note: str = "", **changes: Any) -> Code:
        """Edit fields: name (a rename), definition, inclusion, exclusion, example, colour, status, kind,
        central_concept."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ConflictError(f"Cannot edit {', '.join(sorted(unknown))}; editable fields: {', '.join(EDITABLE)}.")
        changes = {k: ("" if v is None else v) for k, v in changes.items()}
        self._validate(changes)
        with self._action("code.edit", note=note) as act:
            row = self._code_row(act.conn, code)
            if "name" in changes:
                self._check_sibling_name(act.conn, changes["name"], row.parent_id, exclude=row.id)
            before = {k: getattr(row, k) for k in changes}
            changed = {k: v for k, v in changes.items() if before[k] != v}
            act.rec.update("codes", row.id, **changed)
            act.target, act.before, act.after = f"code:{row.guid}", {k: before[k] for k in changed}, changed
            if "name" in changed:
                act.action = "code.rename"
                act.summary = f"Renamed '{row.name}' to '{changed['name']}'"
            else:
                act.summary = f"Edited {', '.join(changed) or 'nothing'} of '{row.name}'"
        return self.get_code(row.id)

    def move_code(self: Any, code: str | int, *, parent: str | int | None, note: str = "") -> Code:
        """Re-parent a code (``parent=None``: to the top level). Refuses to create a cycle."""
        with self._action("code.move", note=note) as act:
            row = self._code_row(act.conn, code)
            new_parent = self._code_row(act.conn, parent) if parent not in (None, "") else None
            new_pid = new_parent.id if new_parent is not None else None
            if new_pid is not None and (new_pid == row.id or new_pid in self._descendants(act.conn, row.id)):
                raise ConflictError(
                    f"Cannot move '{row.name}' under '{new_parent.name}': it is '{row.name}' itself or one of its "
                    f"descendants, which would make a cycle. Move the descendant out first.")
            self._check_sibling_name(act.conn, row.name, new_pid, exclude=row.id)
            paths = self.code_paths()
            act.rec.update("codes", row.id, parent_id=new_pid, position=self._next_position(act.conn, new_pid))
            act.target = f"code:{row.guid}"
            act.before = {"parent": paths.get(row.parent_id) if row.parent_id else None}
            act.after = {"parent": paths.get(new_pid) if new_pid else None}
            act.summary = f"Moved '{row.name}' under {act.after['parent'] or 'the top level'}"
        return self.get_code(row.id)

    def reorder_code(self: Any, code: str | int, *, position: int, note: str = "") -> Code:
        """Put a code at ``position`` (0-based) among its siblings."""
        c = self.t.codes
        with self._action("code.reorder", note=note) as act:
            row = self._code_row(act.conn, code)
            sibs = [r.id for r in act.conn.execute(sa.select(c.c.id).where(
                c.c.parent_id.is_(None) if row.parent_id is None else c.c.parent_id == row.parent_id)
                .order_by(c.c.position, c.c.id))]
            sibs.remove(row.id)
            sibs.insert(max(0, min(position, len(sibs))), row.id)
            for pos, sid in enumerate(sibs):
                act.rec.update("codes", sid, position=pos)
            act.target, act.summary = f"code:{row.guid}", f"Moved '{row.name}' to position {position + 1}"
        return self.get_code(row.id)

    def _move_codings(self: Any, act: Any, from_id: int, to_id: int, coding_ids: set[int] | None = None) -> dict[str, int]:
        """Move codings to another code; an exact duplicate there collapses into the existing one."""
        cd = self.t.codings
        moved = collapsed = 0
        rows = act.conn.execute(sa.select(cd).where(cd.c.code_id == from_id)).all()
        for r in rows:
            if coding_ids is not None and r.id not in coding_ids:
                continue
            dup = act.conn.execute(sa.select(cd.c.id).where(
                cd.c.code_id == to_id, cd.c.transcript_id == r.transcript_id, cd.c.start == r.start, cd.c.end == r.end)).first()
            if dup:
                act.rec.delete("codings", r.id)
                collapsed += 1
            else:
                act.rec.update("codings", r.id, code_id=to_id)
                moved += 1
        return {"moved": moved, "collapsed": collapsed}

    def _move_dependents(self: Any, act: Any, from_id: int, to_id: int | None) -> None:
        """Memos, vignettes and suggestion decisions of a code follow it (or go, with ``to_id=None``)."""
        t = self.t
        for m in act.conn.execute(sa.select(t.memos.c.id).where(t.memos.c.kind == "code", t.memos.c.target_id == from_id)):
            if to_id is None:
                act.rec.delete("memos", m.id)
            else:
                act.rec.update("memos", m.id, target_id=to_id)
        for v in act.conn.execute(sa.select(t.vignettes.c.id).where(t.vignettes.c.code_id == from_id)):
            act.rec.update("vignettes", v.id, code_id=to_id)
        for s in act.conn.execute(sa.select(t.suggestion_decisions.c.id).where(t.suggestion_decisions.c.code_id == from_id)):
            act.rec.delete("suggestion_decisions", s.id)

    def merge_codes(self: Any, source: str | int, target: str | int, *, note: str = "") -> Code:
        """Merge ``source`` into ``target``: codings move (duplicates collapse), memos and sub-codes travel."""
        c = self.t.codes
        with self._action("code.merge", note=note) as act:
            src, dst = self._code_row(act.conn, source), self._code_row(act.conn, target)
            if src.id == dst.id:
                raise ConflictError(f"Cannot merge '{src.name}' into itself.")
            if dst.id in self._descendants(act.conn, src.id):
                raise ConflictError(f"Cannot merge '{src.name}' into '{dst.name}': '{dst.name}' lies under "
                                    f"'{src.name}'. Move it out first, or merge the other way round.")
            counts = self._move_codings(act, src.id, dst.id)
            for child in act.conn.execute(sa.select(c).where(c.c.parent_id == src.id)).all():
                self._check_sibling_name(act.conn, child.name, dst.id)
                act.rec.update("codes", child.id, parent_id=dst.id, position=self._next_position(act.conn, dst.id))
            self._move_dependents(act, src.id, dst.id)
            act.rec.delete("codes", src.id)
            act.target = f"code:{dst.guid} code:{src.guid}"
            act.before = {"source": code_fields(src), "target": dst.name}
            act.after = {"target": dst.name, **counts}
            act.summary = (f"Merged '{src.name}' into '{dst.name}' ({counts['moved']} codings moved, "
                           f"{counts['collapsed']} duplicates collapsed)")
        return self.get_code(dst.id)

    def split_code(
        self: Any, code: str | int, *, new_name: str, coding_ids: list[int], parent: str | int | None = "same",
        definition: str = "", note: str = "",
    ) -> Code:
        """Split: the chosen codings of ``code`` go to a new code (a sibling, unless ``parent`` is given)."""
        self._validate({"name": new_name})
        with self._action("code.split", note=note) as act:
            row = self._code_row(act.conn, code)
            own = {r[0] for r in act.conn.execute(sa.select(self.t.codings.c.id).where(self.t.codings.c.code_id == row.id))}
            foreign = set(coding_ids) - own
            if foreign:
                raise ConflictError(f"Codings {sorted(foreign)} are not codings of '{row.name}'; choose among its own.")
            if not coding_ids:
                raise ConflictError(f"Choose at least one coding of '{row.name}' to split off.")
            pid = row.parent_id if parent == "same" else (self._code_row(act.conn, parent).id if parent else None)
            self._check_sibling_name(act.conn, new_name.strip(), pid)
            guid = str(uuid4())
            count = act.conn.execute(sa.select(sa.func.count()).select_from(self.t.codes)).scalar_one()
            new_id = act.rec.insert("codes", guid=guid, parent_id=pid, name=new_name.strip(), kind=row.kind,
                                    definition=definition, colour=PALETTE[count % len(PALETTE)],
                                    position=self._next_position(act.conn, pid), created_at=self._now())
            counts = self._move_codings(act, row.id, new_id, set(coding_ids))
            act.target = f"code:{row.guid} code:{guid}"
            act.after = {"new": new_name.strip(), "from": row.name, "codings": sorted(coding_ids)}
            act.summary = f"Split {counts['moved']} codings of '{row.name}' into new code '{new_name.strip()}'"
        return self.get_code(new_id)

    def delete_code(self: Any, code: str | int, *, move_to: str | int | None = None, discard: bool = False,
                    note: str = "") -> None:
        """Delete a code. Its codings must go somewhere: ``move_to`` another code, or ``discard=True``.
        Sub-codes move up to the deleted code's parent. Undoable."""
        c, cd = self.t.codes, self.t.codings
        with self._action("code.delete", note=note) as act:
            row = self._code_row(act.conn, code)
            n = act.conn.execute(sa.select(sa.func.count()).select_from(cd).where(cd.c.code_id == row.id)).scalar_one()
            target = self._code_row(act.conn, move_to) if move_to not in (None, "") else None
            if target is not None and (target.id == row.id or target.id in self._descendants(act.conn, row.id)):
                raise ConflictError(f"Move the codings of '{row.name}' to a code outside it, not to itself or a sub-code.")
            if n and target is None and not discard:
                raise ConflictError(f"'{row.name}' has {n} codings. Say where they go (move them to another code) "
                                    f"or discard them explicitly; nothing was deleted.")
            if target is not None:
                self._move_codings(act, row.id, target.id)
            else:
                for r in act.conn.execute(sa.select(cd.c.id).where(cd.c.code_id == row.id)).all():
                    act.rec.delete("codings", r.id)
            for child in act.conn.execute(sa.select(c).where(c.c.parent_id == row.id)).all():
                self._check_sibling_name(act.conn, child.name, row.parent_id)
                act.rec.update("codes", child.id, parent_id=row.parent_id,
                               position=self._next_position(act.conn, row.parent_id))
            self._move_dependents(act, row.id, target.id if target is not None else None)
            act.rec.delete("codes", row.id)
            act.target = f"code:{row.guid}" + (f" code:{target.guid}" if target is not None else "")
            act.before = code_fields(row) | {"codings": n}
            act.after = {"codings_to": target.name if target is not None else None, "discarded": 0 if target else n}
            act.summary = (f"Deleted '{row.name}'" + (f", its {n} codings moved to '{target.name}'" if target is not None
                           else (f", {n} codings discarded" if n else "")))

    # -- history --------------------------------------------------------------------------------
    def history(self: Any, code: str | int) -> list[AuditEvent]:
        """How a code or theme came to be: creation, renames, moves, merges in, splits, edits, in order.

        Includes the history of codes that were merged into it (recursively)."""
        a = self.t.audit
        row = self.get_code(code)
        guids, frontier = {row.guid}, [row.guid]
        with self.store.read() as conn:
            while frontier:
                g = frontier.pop()
                for ev in conn.execute(sa.select(a.c.target).where(a.c.action == "code.merge",
                                                                   a.c.target.like(f"code:{g} %"))):
                    src = ev.target.split()[1].removeprefix("code:")
                    if src not in guids:
                        guids.add(src)
                        frontier.append(src)
            # Codebook actions on these codes, and any other action that wrote a code row itself (a code
            # created together with its first coding, or from a pattern); plain codings are not history.
            about = sa.and_(sa.or_(*[a.c.target.like(f"%code:{g}%") for g in guids]), a.c.action.like("code.%"))
            wrote_code = sa.or_(*[a.c.changes.like(f'%"guid": "{g}"%') for g in guids])
            rows = conn.execute(sa.select(a).where(sa.or_(about, wrote_code), a.c.state.in_(("done", "final")))
                                .order_by(a.c.id)).all()
        return [self._event(r) for r in rows]
