"""The only code that speaks SQL: engine, migrations, and a change recorder for undo.

SQLite (WAL, foreign keys on) by default; the tables are reflected from the migrated database, so
the migrations in :mod:`analysis.store.migrations` are the one definition of the schema.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import ProjectError
from .migrations import LATEST, MIGRATIONS

__all__ = ["Store", "Recorder"]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


class Store:
    """A migrated database and its reflected tables (``store.t.codes`` ...)."""

    def __init__(self, url: str, *, db_path: Path | None = None) -> None:
        self.url = url
        self.db_path = db_path
        self.engine: Engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()
        md = sa.MetaData()
        md.reflect(self.engine)
        self.t = SimpleNamespace(**{name: table for name, table in md.tables.items()})

    @classmethod
    def for_folder(cls, folder: Path) -> Store:
        db = folder / "project.db"
        return cls(f"sqlite:///{db}", db_path=db)

    # -- migrations -------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("meta"):
                return 0
            row = conn.execute(sa.text("SELECT value FROM meta WHERE key='schema_version'")).first()
            return int(row[0]) if row else 0

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > LATEST:
            raise ProjectError(
                f"{self.db_path or self.url} was written by a newer Storyloom (schema {current}, "
                f"this version knows {LATEST}). Upgrade Storyloom to open it."
            )
        if current == LATEST:
            return
        if current > 0 and self.db_path is not None and self.db_path.exists():
            self.engine.dispose()
            shutil.copy2(self.db_path, self.db_path.with_name(f"{self.db_path.name}.bak-v{current}"))
        with self.engine.begin() as conn:
            for version, _title, upgrade in MIGRATIONS:
                if version > current:
                    upgrade(conn)
            conn.execute(sa.text("DELETE FROM meta WHERE key = 'schema_version'"))
            conn.execute(sa.text("INSERT INTO meta(key, value) VALUES ('schema_version', :v)"), {"v": str(LATEST)})

    # -- connections ------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    def get_meta(self, conn: Connection, key: str, default: str = "") -> str:
        row = conn.execute(sa.select(self.t.meta.c.value).where(self.t.meta.c.key == key)).first()
        return row[0] if row else default

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        meta = self.t.meta
        if conn.execute(sa.select(meta.c.key).where(meta.c.key == key)).first():
            conn.execute(meta.update().where(meta.c.key == key).values(value=value))
        else:
            conn.execute(meta.insert().values(key=key, value=value))

    def close(self) -> None:
        self.engine.dispose()


def _row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


class Recorder:
    """Writes rows and remembers each row's image before and after, so an event can be inverted.

    Every researcher action writes through a Recorder; ``changes`` is stored in the audit event and
    :meth:`apply` replays it backwards (undo) or forwards (redo).
    """

    def __init__(self, store: Store, conn: Connection) -> None:
        self.store = store
        self.conn = conn
        self.changes: list[dict[str, Any]] = []

    def _table(self, name: str) -> sa.Table:
        return getattr(self.store.t, name)

    def get(self, table: str, row_id: int) -> dict[str, Any] | None:
        t = self._table(table)
        row = self.conn.execute(sa.select(t).where(t.c.id == row_id)).first()
        return _row_dict(row) if row else None

    def insert(self, table: str, **values: Any) -> int:
        t = self._table(table)
        row_id = self.conn.execute(t.insert().values(**values)).inserted_primary_key[0]
        self.changes.append({"table": table, "id": row_id, "before": None, "after": self.get(table, row_id)})
        return int(row_id)

    def update(self, table: str, row_id: int, **values: Any) -> dict[str, Any]:
        t = self._table(table)
        before = self.get(table, row_id)
        if before is None:
            raise KeyError(f"{table} {row_id}")
        self.conn.execute(t.update().where(t.c.id == row_id).values(**values))
        self.changes.append({"table": table, "id": row_id, "before": before, "after": self.get(table, row_id)})
        return before

    def delete(self, table: str, row_id: int) -> dict[str, Any]:
        t = self._table(table)
        before = self.get(table, row_id)
        if before is None:
            raise KeyError(f"{table} {row_id}")
        self.conn.execute(t.delete().where(t.c.id == row_id))
        self.changes.append({"table": table, "id": row_id, "before": before, "after": None})
        return before

    def apply(self, changes: list[dict[str, Any]], *, inverse: bool) -> None:
        """Replay recorded row changes: backwards to undo, forwards to redo."""
        ordered = reversed(changes) if inverse else changes
        for ch in ordered:
            t = self._table(ch["table"])
            target = ch["before"] if inverse else ch["after"]
            exists = self.conn.execute(sa.select(t.c.id).where(t.c.id == ch["id"])).first()
            if target is None:
                if exists:
                    self.conn.execute(t.delete().where(t.c.id == ch["id"]))
            elif exists:
                self.conn.execute(t.update().where(t.c.id == ch["id"]).values(**target))
            else:
                self.conn.execute(t.insert().values(**target))

    @staticmethod
    def dumps(changes: list[dict[str, Any]]) -> str:
        return json.dumps(changes, ensure_ascii=False, default=str)
