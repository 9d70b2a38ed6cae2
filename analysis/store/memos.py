"""Queries of memos and journal entries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.domain.model import Memo
from analysis.store.schema import codings, memos

__all__ = ["coding_guid", "memo", "memo_from_row", "memos_filtered"]


def memo_from_row(r: sa.Row[Any]) -> Memo:
    return Memo(r.id, r.guid, r.kind, r.target_id, r.author, r.phase, r.title, r.body, r.created_at)


def memo(conn: Connection, memo_id: int) -> Memo | None:
    row = conn.execute(sa.select(memos).where(memos.c.id == memo_id)).first()
    return None if row is None else memo_from_row(row)


def memos_filtered(
    conn: Connection, *, kind: str | None = None, target_id: int | None = None, phase: str | None = None,
    author: str | None = None,
) -> list[Memo]:
    """Memos newest first; each given filter narrows them (``target_id`` only together with ``kind``)."""
    q = sa.select(memos).order_by(memos.c.created_at.desc())
    if kind:
        q = q.where(memos.c.kind == kind)
        if target_id is not None:
            q = q.where(memos.c.target_id == target_id)
    if phase:
        q = q.where(memos.c.phase == phase)
    if author:
        q = q.where(memos.c.author == author)
    return [memo_from_row(r) for r in conn.execute(q)]


def coding_guid(conn: Connection, coding_id: int) -> str | None:
    """The GUID of coding ``coding_id`` (a memo's target), or None if there is no such coding."""
    row = conn.execute(sa.select(codings.c.guid).where(codings.c.id == coding_id)).first()
    return None if row is None else str(row[0])
