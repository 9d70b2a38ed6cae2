"""Queries of the disclosure check's ``allow_list`` table (rows are written through the undo recorder)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import allow_list

__all__ = ["allow_list_entries", "allow_list_ids"]


def allow_list_entries(conn: Connection) -> list[dict[str, str]]:
    """Every accepted term, by term: ``{term, label, accepted_by, at}``."""
    rows = conn.execute(sa.select(allow_list).order_by(allow_list.c.term)).all()
    return [{"term": str(r.term), "label": str(r.label), "accepted_by": str(r.accepted_by), "at": str(r.at)}
            for r in rows]


def allow_list_ids(conn: Connection) -> list[tuple[int, str]]:
    """``(id, term)`` of every accepted term, in table order."""
    return [(int(r.id), str(r.term)) for r in conn.execute(sa.select(allow_list.c.id, allow_list.c.term)).all()]
