"""What merging another copy of a project reads (issue 14: ``services/merge.py``).

The other copy is never opened in place (opening migrates, and a merge must not change it): its
``project.db`` is copied with SQLite's online backup (consistent even while its owner has it open)
into a temporary file, and that copy is opened, and migrated if it is older.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store import Store
from analysis.store.schema import codings, memos, participants, transcripts

__all__ = ["all_codings", "all_memos", "coding_by_guid", "copy_of", "memo_guid_exists", "participant_by_pseudonym",
           "pseudonyms", "table_counts", "transcript_rows"]


@contextmanager
def copy_of(db: Path) -> Iterator[Store]:
    """A :class:`Store` on a private copy of the SQLite database ``db`` (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="storyloom-merge-") as tmp:
        target = Path(tmp) / "other.db"
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
        store = Store(f"sqlite:///{target}", db_path=target)
        try:
            yield store
        finally:
            store.close()


def transcript_rows(conn: Connection) -> list[Any]:
    """``id, guid, name, text, source_sha256`` of every transcript."""
    t = transcripts
    return list(conn.execute(sa.select(t.c.id, t.c.guid, t.c.name, t.c.text, t.c.source_sha256).order_by(t.c.id)).all())


def all_codings(conn: Connection) -> list[sa.Row[Any]]:
    """Every coding row, by id."""
    return list(conn.execute(sa.select(codings).order_by(codings.c.id)).all())


def all_memos(conn: Connection) -> list[sa.Row[Any]]:
    """Every memo row, by id."""
    return list(conn.execute(sa.select(memos).order_by(memos.c.id)).all())


def pseudonyms(conn: Connection) -> dict[int, str]:
    """``{participant id: pseudonym}``."""
    return {int(r[0]): str(r[1]) for r in conn.execute(sa.select(participants.c.id, participants.c.pseudonym))}


def participant_by_pseudonym(conn: Connection, pseudonym: str) -> int | None:
    row = conn.execute(sa.select(participants.c.id).where(participants.c.pseudonym == pseudonym)).first()
    return None if row is None else int(row[0])


def coding_by_guid(conn: Connection, guid: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(codings).where(codings.c.guid == guid)).first()


def memo_guid_exists(conn: Connection, guid: str) -> bool:
    return conn.execute(sa.select(memos.c.id).where(memos.c.guid == guid)).first() is not None


def table_counts(conn: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    """Row counts of the named tables (what a merge does not carry over, for its report)."""
    from analysis.store.schema import metadata

    return {name: int(conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[name])).scalar_one())
            for name in tables}
