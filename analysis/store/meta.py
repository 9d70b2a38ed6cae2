"""The ``meta`` table: small project-wide settings (the change counter, the applied participants.csv)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import meta as _meta


def get(conn: Connection, key: str, default: str = "") -> str:
    row = conn.execute(sa.select(_meta.c.value).where(_meta.c.key == key)).first()
    return str(row[0]) if row and row[0] is not None else default


def set(conn: Connection, key: str, value: str) -> None:  # noqa: A001 - the table's verb
    if conn.execute(sa.select(_meta.c.key).where(_meta.c.key == key)).first():
        conn.execute(_meta.update().where(_meta.c.key == key).values(value=value))
    else:
        conn.execute(_meta.insert().values(key=key, value=value))


def increment(conn: Connection, key: str) -> sa.Executable:
    """A statement adding one to the number kept under ``key`` (1 when there is none yet): no read first."""
    from analysis.store.batch import insert_or_keep

    ins = insert_or_keep(conn, _meta).values(key=key, value="1")
    return ins.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[_meta.c.key], set_={"value": sa.cast(sa.cast(_meta.c.value, sa.Integer) + 1, sa.String)})
