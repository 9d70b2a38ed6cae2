"""Queries of the ``vignettes`` table (rows are written through the undo recorder)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.errors import Errors, NotFoundError
from analysis.store.schema import participants, vignettes

__all__ = ["VignetteRow", "participant_pseudonym", "vignette_row", "vignette_rows"]


@dataclass(frozen=True)
class VignetteRow:
    """A stored vignette as it is in the table (``items`` is the JSON list of stored items)."""

    id: int
    guid: str
    title: str
    participant_id: int | None
    code_id: int | None
    status: str
    items: str
    created_at: str
    updated_at: str


def _row(r: sa.Row[Any]) -> VignetteRow:
    return VignetteRow(
        id=int(r.id), guid=str(r.guid), title=str(r.title),
        participant_id=None if r.participant_id is None else int(r.participant_id),
        code_id=None if r.code_id is None else int(r.code_id), status=str(r.status), items=str(r.items or "[]"),
        created_at=str(r.created_at), updated_at=str(r.updated_at))


def vignette_rows(conn: Connection) -> list[VignetteRow]:
    """Every vignette, oldest first."""
    return [_row(r) for r in conn.execute(sa.select(vignettes).order_by(vignettes.c.id)).all()]


def vignette_row(conn: Connection, vignette_id: int) -> VignetteRow:
    """The vignette with id ``vignette_id``; :class:`NotFoundError` listing the ids there are otherwise."""
    row = conn.execute(sa.select(vignettes).where(vignettes.c.id == int(vignette_id))).first()
    if row is None:
        ids = [str(r[0]) for r in conn.execute(sa.select(vignettes.c.id).order_by(vignettes.c.id))]
        raise NotFoundError(Errors.E2019, vignette_id=vignette_id, v2=', '.join(ids) or 'none yet')
    return _row(row)


def participant_pseudonym(conn: Connection, participant_id: int) -> str | None:
    """The pseudonym of participant ``participant_id`` (None if there is no such participant)."""
    value = conn.execute(sa.select(participants.c.pseudonym).where(participants.c.id == participant_id)).scalar()
    return None if value is None else str(value)
