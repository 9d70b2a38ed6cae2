"""Queries of a team project's researchers (issue 14: ``researchers``; the rules are in ``analysis.domain.roles``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.recorder import name_key
from analysis.store.schema import researchers

__all__ = ["by_name", "rows", "team", "team_query", "user_guid"]


def rows(conn: Connection) -> list[sa.Row[Any]]:
    """Every registered researcher, in the order they were added."""
    return list(conn.execute(sa.select(researchers).order_by(researchers.c.id)).all())


def team_query() -> sa.Select[Any]:
    """The query of :func:`team` (the write path sends it with its lock: ``Store.writing``)."""
    return sa.select(researchers.c.name, researchers.c.role).order_by(researchers.c.id)


def team(conn: Connection, rows: list[Any] | None = None) -> list[tuple[str, str]]:
    """``(name, role)`` of every registered researcher (empty: a project without roles); ``rows``: the
    rows of :func:`team_query`, when already read."""
    return [(str(r[0]), str(r[1])) for r in (conn.execute(team_query()) if rows is None else rows)]


def by_name(conn: Connection, name: str) -> sa.Row[Any] | None:
    """The researcher whose name compares equal to ``name`` (case-folded), if registered."""
    return conn.execute(sa.select(researchers).where(researchers.c.name_key == name_key(name))).first()


def user_guid(conn: Connection, name: str) -> str | None:
    """The GUID of the user record ``name`` already has (every researcher who acted has one), if any."""
    from analysis.store.schema import users

    row = conn.execute(sa.select(users.c.guid).where(users.c.name == name)).first()
    return None if row is None else str(row[0])
