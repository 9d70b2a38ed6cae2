"""Uniqueness keys for code names and pseudonyms, the audit change format, and ``audit_targets``.

* ``codes.name_key`` and ``participants.pseudonym_key``: the name NFC-normalised, stripped and
  case-folded, computed here in Python (SQL ``lower()`` is ASCII-only in SQLite), then NOT NULL, with
  the unique indexes ``uq_codes_sibling_name`` on ``(coalesce(parent_id, 0), name_key)`` and
  ``uq_participants_pseudonym_key``. A v1 project can hold siblings whose names differ only in case
  (or Unicode normal form), from a race between two windows; so that the upgrade never fails, every
  later duplicate (by id) is renamed ``"Name (2)"``, ``"Name (3)"``... and nothing else is recorded.
  Pseudonyms that differ only in case get the same treatment.
* ``audit.format``: the version of the JSON in ``audit.changes``; every existing row is format 1.
* ``audit_targets``: one row per entity an audit event names, backfilled from ``audit.target``
  (space-separated ``entity:identifier`` tokens; the first is the ``subject``, the others ``related``).
  v1 wrote names with spaces as they are (``participant:Leader A``, ``transcript:Interview 3.docx``),
  so a word without an ``entity:`` prefix continues the identifier before it; a target with no
  prefix at all (``journal``, ``codebook``) names nothing.

Dialect-neutral: batch mode rebuilds the tables on SQLite (the caller turns foreign keys off around
the upgrade, so the rebuild cascades nothing) and is plain ``ALTER TABLE`` elsewhere.

Revision ID: 0002_keys_targets
Revises: 0001_base
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_keys_targets"
down_revision: str | None = "0001_base"
branch_labels: str | None = None
depends_on: str | None = None


def _key(value: str | None) -> str:
    """The uniqueness key of a name (as ``analysis.store.schema`` computes it for new rows)."""
    return unicodedata.normalize("NFC", value or "").strip().casefold()


def _deduplicated(rows: Iterable[tuple[int, object, str]]) -> dict[int, tuple[str, str]]:
    """``{id: (name, key)}`` for rows ``(id, group, name)`` in id order: the first of each (group, key)
    keeps its name, each later one becomes ``"name (n)"`` with the smallest n >= 2 whose key is free
    in its group (free of every original key too, so a rename never collides with a later row)."""
    rows = list(rows)
    taken = {(group, _key(name)) for _id, group, name in rows}
    seen: set[tuple[object, str]] = set()
    out: dict[int, tuple[str, str]] = {}
    for row_id, group, name in rows:
        key = _key(name)
        if (group, key) not in seen:
            seen.add((group, key))
            out[row_id] = (name, key)
            continue
        n = 2
        while (group, _key(f"{name.strip()} ({n})")) in taken:
            n += 1
        new_name = f"{name.strip()} ({n})"
        taken.add((group, _key(new_name)))
        seen.add((group, _key(new_name)))
        out[row_id] = (new_name, _key(new_name))
    return out


def _backfill_keys(table: str, name_col: str, key_col: str, group_col: str | None) -> None:
    conn = op.get_bind()
    cols: list[sa.ColumnClause[Any]] = [sa.column(c) for c in ("id", name_col, key_col, group_col) if c]
    t = sa.table(table, *cols)
    group = t.c[group_col] if group_col else sa.literal(0)
    rows = conn.execute(sa.select(t.c.id, group, t.c[name_col]).order_by(t.c.id)).all()
    fixed = _deduplicated((int(r[0]), r[1] or 0, str(r[2])) for r in rows)
    old = {int(r[0]): str(r[2]) for r in rows}
    for row_id, (name, key) in fixed.items():
        values = {key_col: key} if name == old[row_id] else {name_col: name, key_col: key}
        conn.execute(t.update().where(t.c.id == row_id).values(**values))


_ENTITY = re.compile(r"[a-z_]+")


def _parse_targets(target: str) -> list[tuple[str, str, str]]:
    """``"coding:G1 code:G2 transcript:Interview 3.docx"`` -> ``(entity, identifier, role)``.

    A word with no ``entity:`` prefix continues the identifier before it: v1 wrote pseudonyms,
    transcript names, snapshot labels and allow-list terms as they are, spaces included."""
    out: list[list[str]] = []
    for word in target.split(" "):
        entity, sep, ident = word.partition(":")
        if sep and ident and _ENTITY.fullmatch(entity):
            out.append([entity, ident])
        elif out:
            out[-1][1] += " " + word
    return [(e, i.rstrip(), "subject" if n == 0 else "related") for n, (e, i) in enumerate(out)]


def upgrade() -> None:
    # 1. The key columns, nullable while they are filled in.
    with op.batch_alter_table("codes") as batch:
        batch.add_column(sa.Column("name_key", sa.String, nullable=True))
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("pseudonym_key", sa.String, nullable=True))
    _backfill_keys("codes", "name", "name_key", "parent_id")
    _backfill_keys("participants", "pseudonym", "pseudonym_key", None)
    with op.batch_alter_table("codes") as batch:
        batch.alter_column("name_key", existing_type=sa.String, nullable=False)
    with op.batch_alter_table("participants") as batch:
        batch.alter_column("pseudonym_key", existing_type=sa.String, nullable=False)
    op.create_index("uq_codes_sibling_name", "codes", [sa.text("coalesce(parent_id, 0)"), "name_key"], unique=True)
    op.create_index("uq_participants_pseudonym_key", "participants", ["pseudonym_key"], unique=True)

    # 2. The change format of audit events: all existing ones are format 1 (the server default).
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("format", sa.Integer, nullable=False, server_default="1"))

    # 3. audit_targets, from the target strings of existing events.
    audit_targets = op.create_table(
        "audit_targets", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("audit_id", sa.Integer, sa.ForeignKey("audit.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("entity", sa.String, nullable=False),
        sa.Column("guid", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False, server_default="subject"),
        sa.Index("ix_audit_targets_entity_guid", "entity", "guid"),
    )
    conn = op.get_bind()
    audit = sa.table("audit", sa.column("id"), sa.column("target"))
    rows = [
        {"audit_id": int(event_id), "entity": entity, "guid": ident, "role": role}
        for event_id, target in conn.execute(sa.select(audit.c.id, audit.c.target).order_by(audit.c.id))
        for entity, ident, role in _parse_targets(str(target or ""))
    ]
    if rows:
        conn.execute(audit_targets.insert(), rows)


def downgrade() -> None:
    """Back to the v1 schema (renamed duplicates keep their new names)."""
    op.drop_table("audit_targets")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("format")
    op.drop_index("uq_participants_pseudonym_key", table_name="participants")
    op.drop_index("uq_codes_sibling_name", table_name="codes")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("pseudonym_key")
    with op.batch_alter_table("codes") as batch:
        batch.drop_column("name_key")
