"""Queries of participants and their attributes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.errors import Errors, NotFoundError
from analysis.domain.model import Participant
from analysis.store.recorder import name_key
from analysis.store.schema import participant_attributes, participants, variables

__all__ = [
    "all_participants", "attribute_id", "attributes_of", "find_participant", "find_participant_by_key",
    "insert_attribute", "insert_participant", "insert_variable", "participant_id", "update_attribute", "variable_id",
]


def _pk(result: sa.CursorResult[tuple[int]]) -> int:
    pk = result.inserted_primary_key
    return int(pk[0]) if pk is not None else 0


def participant_id(conn: Connection, pseudonym: str) -> int:
    row = conn.execute(sa.select(participants.c.id).where(participants.c.pseudonym == pseudonym)).first()
    if row is None:
        names = [str(r[0]) for r in conn.execute(sa.select(participants.c.pseudonym).order_by(participants.c.pseudonym))]
        raise NotFoundError(Errors.E2017, pseudonym=pseudonym, v2=', '.join(names) or 'none yet')
    return int(row[0])


def find_participant(conn: Connection, pseudonym: str) -> int | None:
    """The id of the participant with exactly this pseudonym, or None."""
    row = conn.execute(sa.select(participants.c.id).where(participants.c.pseudonym == pseudonym)).first()
    return int(row[0]) if row else None


def find_participant_by_key(conn: Connection, pseudonym: str) -> int | None:
    """The id of the participant whose pseudonym equals this one case-folded (NFC), or None."""
    row = conn.execute(sa.select(participants.c.id).where(participants.c.pseudonym_key == name_key(pseudonym))).first()
    return int(row[0]) if row else None


def insert_participant(conn: Connection, *, guid: str, pseudonym: str, created_at: str) -> int:
    """A participant row written outside the undo recorder (imports and ``participants.csv``)."""
    return _pk(conn.execute(participants.insert().values(guid=guid, pseudonym=pseudonym, created_at=created_at)))


def all_participants(conn: Connection) -> list[Participant]:
    """Every participant with their attributes, by pseudonym."""
    people = conn.execute(sa.select(participants).order_by(participants.c.pseudonym)).all()
    pa = participant_attributes
    attrs = conn.execute(sa.select(pa.c.participant_id, variables.c.name, pa.c.value)
                         .join(variables, variables.c.id == pa.c.variable_id)).all()
    by_pid: dict[int, dict[str, str]] = {}
    for pid, name, value in attrs:
        by_pid.setdefault(int(pid), {})[str(name)] = str(value)
    return [Participant(p.id, p.guid, p.pseudonym, by_pid.get(p.id, {})) for p in people]


def attributes_of(conn: Connection, pid: int) -> dict[str, str]:
    """One participant's attributes (variable name -> value)."""
    pa = participant_attributes
    rows = conn.execute(sa.select(variables.c.name, pa.c.value).join(variables, variables.c.id == pa.c.variable_id)
                        .where(pa.c.participant_id == pid)).all()
    return {str(name): str(value) for name, value in rows}


# -- variables and attribute values -------------------------------------------------------------
def variable_id(conn: Connection, name: str) -> int | None:
    row = conn.execute(sa.select(variables.c.id).where(variables.c.name == name)).first()
    return int(row[0]) if row else None


def insert_variable(conn: Connection, *, guid: str, name: str) -> int:
    return _pk(conn.execute(variables.insert().values(guid=guid, name=name)))


def attribute_id(conn: Connection, pid: int, vid: int) -> int | None:
    """The id of participant ``pid``'s value of variable ``vid``, or None."""
    pa = participant_attributes
    row = conn.execute(sa.select(pa.c.id).where(pa.c.participant_id == pid, pa.c.variable_id == vid)).first()
    return int(row[0]) if row else None


def update_attribute(conn: Connection, attr_id: int, value: str) -> None:
    """Change an attribute value outside the undo recorder."""
    pa = participant_attributes
    conn.execute(pa.update().where(pa.c.id == attr_id).values(value=value))


def insert_attribute(conn: Connection, pid: int, vid: int, value: str) -> None:
    """Add an attribute value outside the undo recorder."""
    conn.execute(participant_attributes.insert().values(participant_id=pid, variable_id=vid, value=value))
