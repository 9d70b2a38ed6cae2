"""Queries for REFI-QDA interchange: rows by GUID (for merging a re-import), and whole-project reads (export)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import audit, audit_targets, codes, codings, memos, participant_attributes, participants, speakers, transcripts, users, variables

__all__ = ["all_codings", "all_memos", "all_users", "attribute_rows", "by_guid", "insert_user", "participant_rows",
           "participant_sources", "variable_rows"]

_TABLES = {"codes": codes, "codings": codings, "memos": memos, "participants": participants,
           "transcripts": transcripts, "users": users, "variables": variables}


def by_guid(conn: Connection, table: str, guid: str) -> sa.Row[Any] | None:
    """The row of ``table`` (codes, codings, memos, participants, transcripts, users, variables) whose GUID is
    ``guid`` (compared case-insensitively), or None."""
    t = _TABLES[table]
    return conn.execute(sa.select(t).where(sa.func.lower(t.c.guid) == guid.lower())).first()


def all_users(conn: Connection) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(users).order_by(users.c.id)).all())


def insert_user(conn: Connection, *, guid: str, name: str) -> None:
    """A user record (a researcher named in an imported project), unless one of that name exists."""
    if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is None:
        conn.execute(users.insert().values(guid=guid, name=name))


def all_codings(conn: Connection) -> list[sa.Row[Any]]:
    """Every coding row, by transcript, start, end, id."""
    return list(conn.execute(sa.select(codings).order_by(codings.c.transcript_id, codings.c.start, codings.c.end,
                                                         codings.c.id)).all())


def all_memos(conn: Connection) -> list[sa.Row[Any]]:
    """Every memo row, oldest first."""
    return list(conn.execute(sa.select(memos).order_by(memos.c.created_at, memos.c.id)).all())


def participant_rows(conn: Connection) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(participants).order_by(participants.c.pseudonym)).all())


def variable_rows(conn: Connection) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(variables).order_by(variables.c.name)).all())


def attribute_rows(conn: Connection) -> list[Any]:
    """``(participant_id, variable_id, value)`` of every attribute value."""
    pa = participant_attributes
    return list(conn.execute(sa.select(pa.c.participant_id, pa.c.variable_id, pa.c.value)
                             .order_by(pa.c.participant_id, pa.c.variable_id)).all())


def participant_sources(conn: Connection) -> list[tuple[int, int]]:
    """``(participant_id, transcript_id)`` pairs: the transcripts in which each participant speaks."""
    q = (sa.select(speakers.c.participant_id, speakers.c.transcript_id).where(speakers.c.participant_id.is_not(None))
         .distinct().order_by(speakers.c.participant_id, speakers.c.transcript_id))
    return [(int(r[0]), int(r[1])) for r in conn.execute(q)]


def imported_transcript_names(conn: Connection) -> set[str]:
    """Names of the transcripts a REFI-QDA import added (their text lives in the project, not in transcripts/)."""
    ids = sa.select(audit_targets.c.guid).join(audit, audit.c.id == audit_targets.c.audit_id).where(
        audit.c.action == "refi.import", audit_targets.c.entity == "transcript")
    return {str(r[0]) for r in conn.execute(sa.select(transcripts.c.name).where(transcripts.c.guid.in_(ids)))}
