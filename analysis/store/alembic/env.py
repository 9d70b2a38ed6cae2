"""Alembic environment of the project database.

Storyloom runs the migrations in code (:meth:`analysis.store.Store._migrate`): it builds the
:class:`alembic.config.Config` itself and passes an open connection, already inside the one
transaction of the upgrade, as ``config.attributes["connection"]``; nothing is committed here.

For a developer writing the next revision, ``alembic -x url=sqlite:///path/project.db revision
--autogenerate -m "..."`` (with ``script_location`` set to this folder) also works: then this file
makes its own engine and compares against :data:`analysis.store.schema.metadata`. Revisions never
import the schema module: each one declares the tables as they were at its time.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection


def _configure_and_run(connection: Connection, target_metadata: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: rebuild the table (batch mode)
        compare_type=True,
    )
    with context.begin_transaction():  # a no-op when the caller's transaction is already open
        context.run_migrations()


def run() -> None:
    if context.is_offline_mode():
        raise RuntimeError("Storyloom's migrations run online only (they backfill rows in Python).")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, None)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("No connection: pass config.attributes['connection'], or -x url=... on the command line.")
    from analysis.store import schema  # only for autogenerate, from a developer's command line

    # A plain engine: SQLite leaves foreign keys off, as the table rebuilds of batch mode need.
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            _configure_and_run(conn, schema.metadata)
            conn.commit()
    finally:
        engine.dispose()


run()
