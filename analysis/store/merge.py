"""What merging another copy of a project reads (issue 14: ``services/merge.py``).

The other copy is never opened in place (opening migrates, and a merge must not change it): its
``project.db`` is copied with SQLite's online backup (consistent even while its owner has it open)
into a temporary file, and that copy is opened, and migrated if it is older.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.errors import Errors, ProjectError
from analysis.store import Store
from analysis.store.dberrors import busy_timeout_ms
from analysis.store.schema import codings, memos, participants, transcripts

__all__ = ["all_codings", "all_memos", "coding_by_guid", "copy_of", "memo_guid_exists", "participant_by_pseudonym",
           "pseudonyms", "table_counts", "transcript_rows"]


@contextmanager
def copy_of(db: Path) -> Iterator[Store]:
    """A :class:`Store` on a private copy of the SQLite database ``db`` (removed afterwards).

    Refused with a :class:`~analysis.errors.ProjectError` naming the folder, before anything is changed:
    a file that is not a whole SQLite database (empty, truncated, damaged: ``integrity_check``), one with
    none of a project's tables, and one another process keeps locked for longer than the busy timeout
    (SQLite's backup would otherwise retry forever): the message names the processes holding it."""
    folder = db.parent
    seconds = busy_timeout_ms() / 1000
    with tempfile.TemporaryDirectory(prefix="storyloom-merge-") as tmp:
        target = Path(tmp) / "other.db"
        try:
            with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=seconds)) as src, \
                    closing(sqlite3.connect(target)) as dst:
                src.execute("BEGIN")  # a read transaction: waits at most the busy timeout for a writer's lock
                names = {r[0] for r in src.execute("select name from sqlite_master where type = 'table'")}
                src.rollback()
                src.backup(dst, pages=0)
            with closing(sqlite3.connect(target)) as check:
                verdict = str(check.execute("PRAGMA integrity_check").fetchone()[0])
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise ProjectError(Errors.E4455, path=folder, holder=lock_holders(db), seconds=seconds) from None
            raise ProjectError(Errors.E4451, path=folder, detail=str(err)) from None
        except sqlite3.DatabaseError as err:
            raise ProjectError(Errors.E4451, path=folder, detail=str(err)) from None
        if verdict != "ok":
            raise ProjectError(Errors.E4451, path=folder, detail=f"integrity check: {verdict[:120]}")
        missing = {"transcripts", "codes", "codings", "memos"} - names
        if missing:
            detail = "an empty file" if not names else f"no {', '.join(sorted(missing))} table"
            raise ProjectError(Errors.E4451, path=folder, detail=detail)
        store = Store(f"sqlite:///{target}", db_path=target)
        try:
            yield store
        finally:
            store.close()


def lock_holders(db: Path) -> str:
    """Which processes have ``db`` (or its ``-wal``/``-journal``) open, as ``"process 123 (storyloom sync)"``;
    read from ``/proc`` where there is one, else "another process"."""
    wanted = {str(db.resolve()), f"{db.resolve()}-wal", f"{db.resolve()}-journal"}
    found: list[str] = []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                found.append(f"process {entry.name} ({' '.join(cmd.split())[:80] or '?'})")
        except OSError:
            continue
    return ", ".join(found[:3]) or "another process"


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
