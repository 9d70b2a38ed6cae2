"""Several statements in one round trip to a database server (PostgreSQL), and writes held back until then.

Every statement sent on its own to a server waits for its answer: a round trip. A researcher action is
a dozen statements (take the writer lock, check the role, read, write the rows, the audit event, its
targets, the change counter, commit), and on a server each one costs its round trip, so one coding
took 15-26 of them. This module lets the write path send them in three:

* :func:`send` runs a list of statements as one query string (PostgreSQL's simple query protocol, which
  accepts several statements separated by ``;``; each still runs with its own snapshot, in order) and
  returns the rows of each. The values are bound on the client by psycopg (``ClientCursor.mogrify``,
  libpq's quoting), never pasted into the text by us.
* :func:`later` holds back a write whose result nobody reads (the audit event and its targets, the
  change counter, the user record): the store's write transaction sends all of them, with its
  ``COMMIT``, in one round trip when it ends (``analysis.store.Store.write``). On SQLite, where a
  statement is a function call and costs no round trip, a held-back write runs at once.

Nothing here changes what is written or in which transaction: a held-back write is sent before the
transaction (or savepoint) it belongs to ends, so every later read in it sees it, and any error rolls
back the whole, as before.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["Pending", "later", "literal", "send"]


class Pending:
    """The held-back writes of one open write transaction (or savepoint) of one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.statements: list[sa.Executable] = []


#: The held-back writes of the innermost write transaction open in this thread or task.
PENDING: ContextVar[Pending | None] = ContextVar("storyloom_pending_writes", default=None)


def later(conn: Connection, statement: sa.Executable) -> None:
    """Run ``statement`` (a write whose result is not read) before the open write transaction on ``conn``
    ends: on a server, in the round trip that ends it; on SQLite, or outside such a transaction, now."""
    pending = PENDING.get()
    if pending is None or pending.conn is not conn or conn.dialect.name == "sqlite":
        conn.execute(statement)
        return
    pending.statements.append(statement)


def literal(conn: Connection, statement: sa.Executable | str) -> str:
    """``statement`` as SQL text with its values in it, quoted by psycopg for this connection."""
    if isinstance(statement, str):
        return statement
    import psycopg

    compiled = cast(Any, statement).compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processors = compiled._bind_processors  # noqa: SLF001 - the types' own conversions, as execute() applies them
    values = {k: processors[k](v) if k in processors else v for k, v in params.items()}
    text = str(compiled)
    if not values:
        return text.replace("%%", "%")
    driver: Any = conn.connection.driver_connection
    out = psycopg.ClientCursor(driver).mogrify(text, values)
    return str(out)


@lru_cache(maxsize=256)
def _record(names: tuple[str, ...]) -> Any:
    return namedtuple("Record", names, rename=True)  # noqa: PYI024 - rows read by name


def send(conn: Connection, statements: Sequence[sa.Executable | str]) -> list[list[Any]]:
    """Run ``statements`` on a server connection in one round trip, in order, inside its open transaction
    (or opening one: a statement may be ``BEGIN``, ``COMMIT``). Returns, per statement, its rows (named
    tuples: ``row.name``), empty for a statement that returns none. A database error leaves as SQLAlchemy's
    (``sa.exc.DBAPIError``), the connection invalidated when it broke, as SQLAlchemy's own execute does."""
    import psycopg

    if not statements:
        return []
    text = ";\n".join(literal(conn, s) for s in statements)
    driver: Any = conn.connection.driver_connection
    try:
        with driver.cursor() as cur:
            cur.execute(text)
            out: list[list[Any]] = []
            while True:
                if cur.description is not None:
                    record = _record(tuple(c.name for c in cur.description))
                    out.append([record(*row) for row in cur.fetchall()])
                else:
                    out.append([])
                if not cur.nextset():
                    break
    except psycopg.Error as err:
        if driver.closed or driver.broken:
            conn.invalidate(err)
        raise sa.exc.DBAPIError.instance(text[:2000], None, err, psycopg.Error) from err
    return out


def last_id(conn: Connection, table: sa.Table) -> sa.ColumnElement[Any]:
    """The id of the row this transaction inserted last into ``table`` (its ``id`` counter), as SQL: a later
    held-back statement can refer to a row whose id was never read back."""
    if conn.dialect.name == "postgresql":
        return sa.func.currval(sa.func.pg_get_serial_sequence(table.name, "id"))
    # SQLite: every write holds the database's write lock (BEGIN IMMEDIATE), so the newest row is ours
    return sa.select(sa.func.max(table.c.id)).scalar_subquery()


def insert_or_keep(conn: Connection, table: sa.Table) -> Any:
    """An INSERT of ``table`` for this connection's dialect (``.on_conflict_do_nothing``/``_do_update``)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def rows_of(conn: Connection, statements: Sequence[sa.Executable]) -> list[list[Any]]:
    """Each statement's rows, one execute each: a nested action's reads, its outer action holding the lock."""
    return [list(conn.execute(q).all()) for q in statements]
