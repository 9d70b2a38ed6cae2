"""The undo recorder: writes rows and remembers each row's image before and after.

Every undoable researcher action writes through a :class:`Recorder`; its ``changes`` are stored in the
action's audit event (format :data:`CHANGE_FORMAT`) and :meth:`Recorder.apply` replays them backwards
(undo) or forwards (redo). Before it writes a row, ``apply`` checks that the row is still exactly as the
recorded image says; if anything changed since (a re-import moved a coding, another researcher edited a
code), it refuses with :class:`~analysis.errors.UndoConflictError` naming what changed, and the caller's
transaction rolls back: undo can refuse, it can never corrupt.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.domain.names import name_key
from analysis.errors import UndoConflictError
from analysis.store import schema

__all__ = ["CHANGE_FORMAT", "Change", "Recorder", "name_key", "upgrade_changes"]

# Version of the stored change format. 1: the first release (a list of {table, id, before, after});
# 2: the same shape, written only under the barrier and redo rules of this release.
CHANGE_FORMAT = 2

Change = dict[str, Any]

_ENTITY = {
    "codes": "code", "codings": "coding", "memos": "memo", "vignettes": "vignette", "participants": "participant",
    "participant_attributes": "participant attribute", "speakers": "speaker mapping", "snapshots": "snapshot",
    "suggestion_decisions": "suggestion decision", "allow_list": "disclosure allow-list term",
    "variables": "attribute", "transcripts": "transcript", "researchers": "researcher",
}


def _derived(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """Columns derived from others (kept by the one writer of rows, so no caller forgets them)."""
    if table == "codes" and "name" in values:
        return {**values, "name_key": name_key(str(values["name"]))}
    if table in ("cases", "conditions", "events", "periods", "researchers") and "name" in values:
        return {**values, "name_key": name_key(str(values["name"]))}
    if table == "participants" and "pseudonym" in values:
        return {**values, "pseudonym_key": name_key(str(values["pseudonym"]))}
    return values


# Rows that hang on a row by a foreign key with ON DELETE CASCADE and that an undo must bring back with it:
# :meth:`Recorder.delete` removes (and records) them first, so that undoing the deletion restores them.
# (table -> [(dependent table, its column that refers to the row)], deleted in this order.)
_DEPENDENTS: dict[str, list[tuple[str, str]]] = {
    "codings": [("case_value_evidence", "coding_id"), ("case_evidence", "coding_id"), ("event_evidence", "coding_id")],
}


def _table(name: str) -> sa.Table:
    table = schema.metadata.tables.get(name)
    if table is None:
        raise KeyError(f"no table {name}")
    return table


def _plain(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row image as it reads back from the audit trail's JSON (for comparing with a stored image)."""
    return None if image is None else json.loads(json.dumps(image, ensure_ascii=False, default=str))


def upgrade_changes(changes: list[Change], fmt: int) -> list[Change]:
    """Stored changes of any known format, in the current one.

    Format 1 (the first release) has the same shape, but its row images predate the derived
    uniqueness keys (``codes.name_key``, ``participants.pseudonym_key``): they are added here, as the
    migration that introduced them computed them."""
    if fmt == CHANGE_FORMAT:
        return changes
    if fmt == 1:
        return [{**ch, **{side: None if ch[side] is None else _derived(ch["table"], ch[side])
                          for side in ("before", "after")}} for ch in changes]
    raise UndoConflictError.unknown_format(fmt)


class Recorder:
    """Writes rows of one transaction and records their images (see the module docstring)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.changes: list[Change] = []

    def get(self, table: str, row_id: int) -> dict[str, Any] | None:
        t = _table(table)
        row = self.conn.execute(sa.select(t).where(t.c.id == row_id)).first()
        return dict(row._mapping) if row else None

    def insert(self, table: str, **values: Any) -> int:
        """Insert one row; its image is the row as stored (``RETURNING``: one statement)."""
        return self.insert_many(table, [values])[0]

    def insert_many(self, table: str, rows: list[dict[str, Any]]) -> list[int]:
        """Insert ``rows`` (each a dict of the same columns) and record each one's image; their ids, in order.

        Batched: SQLAlchemy's "insertmanyvalues" sends multi-row ``INSERT ... VALUES (...), (...) RETURNING``
        statements of up to a thousand rows, so a thousand rows cost one round trip, not two thousand. Rows
        that each carry a GUID are matched to what comes back by it: asked to return rows in parameter order,
        SQLite falls back to one statement a row (it cannot tie a new ROWID to its parameters)."""
        if not rows:
            return []
        t = _table(table)
        params = [_derived(table, r) for r in rows]
        by_guid = len(params) > 1 and "guid" in t.c and len({str(p.get("guid") or "") for p in params} - {""}) == len(params)
        stmt = t.insert().returning(*t.c, sort_by_parameter_order=len(params) > 1 and not by_guid)
        images = [dict(row._mapping) for row in self.conn.execute(stmt, params[0] if len(params) == 1 else params).all()]
        if by_guid:
            at = {str(image["guid"]): image for image in images}
            images = [at[str(p["guid"])] for p in params]
        for image in images:
            self.changes.append({"table": table, "id": int(image["id"]), "before": None, "after": image})
        return [int(image["id"]) for image in images]

    def update(self, table: str, row_id: int, **values: Any) -> dict[str, Any]:
        t = _table(table)
        before = self.get(table, row_id)
        if before is None:
            raise KeyError(f"{table} {row_id}")
        if not values:  # nothing to change: no statement, no recorded change
            return before
        after = self.conn.execute(t.update().where(t.c.id == row_id).values(**_derived(table, values))
                                  .returning(*t.c)).one()
        self.changes.append({"table": table, "id": row_id, "before": before, "after": dict(after._mapping)})
        return before

    def delete(self, table: str, row_id: int) -> dict[str, Any]:
        t = _table(table)
        before = self.get(table, row_id)
        if before is None:
            raise KeyError(f"{table} {row_id}")
        for dep_name, column in _DEPENDENTS.get(table, ()):
            dep = _table(dep_name)
            for (dep_id,) in self.conn.execute(sa.select(dep.c.id).where(dep.c[column] == row_id).order_by(dep.c.id)).all():
                self.delete(dep_name, int(dep_id))
        self.conn.execute(t.delete().where(t.c.id == row_id))
        self.changes.append({"table": table, "id": row_id, "before": before, "after": None})
        return before

    def apply(self, changes: list[Change], *, inverse: bool, what: str) -> None:
        """Replay recorded row changes: backwards to undo, forwards to redo.

        Each row must be as the change left it (undo) or found it (redo); otherwise nothing is
        written and :class:`UndoConflictError` says which row changed and how. ``what`` names the
        action for that message ("undo 'Coded ... as X'")."""
        ordered = list(reversed(changes)) if inverse else list(changes)
        for ch in ordered:
            t = _table(ch["table"])
            expected = ch["after"] if inverse else ch["before"]
            target = ch["before"] if inverse else ch["after"]
            current = _plain(self.get(ch["table"], ch["id"]))
            if current != _plain(expected):
                raise UndoConflictError.changed_since(what, self.describe(ch["table"], expected, current))
            if target is None:
                self.conn.execute(t.delete().where(t.c.id == ch["id"]))
            elif current is not None:
                self.conn.execute(t.update().where(t.c.id == ch["id"]).values(**target))
            else:
                self.conn.execute(t.insert().values(**target))

    @staticmethod
    def describe(table: str, expected: dict[str, Any] | None, current: dict[str, Any] | None) -> str:
        """What changed in a row since an action recorded it, in a researcher's words."""
        entity = _ENTITY.get(table, table)
        image = expected or current or {}
        label = image.get("name") or image.get("title") or image.get("pseudonym") or image.get("quote") or ""
        label = str(label)
        named = f"{entity} '{label[:60]}{'...' if len(label) > 60 else ''}'" if label else f"{entity} {image.get('id', '')}"
        if expected is None:
            return f"a {named} now exists that the action did not expect"
        if current is None:
            return f"the {named} has since been deleted"
        fields = sorted(k for k in expected if _plain({k: expected[k]}) != _plain({k: current.get(k)}))
        return f"the {named} has since changed ({', '.join(fields)})"

    @staticmethod
    def dumps(changes: list[Change]) -> str:
        return json.dumps(changes, ensure_ascii=False, default=str)
