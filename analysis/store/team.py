"""A project on a database server (PostgreSQL): ``project.toml``, URLs, the writer lock, server errors.

A team project is a folder whose ``project.toml`` names the database instead of holding ``project.db``::

    # Storyloom project: the data lives on a database server.
    [database]
    url = "postgresql://coder@db.example.org/interviews"

The file never holds a password: the driver (libpq, through psycopg) finds it in ``PGPASSWORD``,
``~/.pgpass`` or a service file (``postgresql:///?service=NAME`` with ``~/.pg_service.conf``), so the
folder can be shared or committed without a secret in it.

**Writers, one at a time.** On SQLite a write transaction takes the database's write lock at once
(``BEGIN IMMEDIATE``). On PostgreSQL every write transaction first takes one transaction-scoped
advisory lock (``pg_advisory_xact_lock``), released at its commit or rollback: writers queue up, as
on SQLite, and every check a service makes inside its transaction (a sibling code's name, a duplicate
coding, the change counter, the audit trail's order) sees every earlier writer's commit. Readers never
wait (MVCC). A researcher action is a few milliseconds of SQL, so a team of a few coders never feels the
queue; the unique indexes remain the last line (their violations become ConflictError messages).
SERIALIZABLE transactions with retries would allow more parallel writers, but every action would then
have to be safe to run twice; the lock keeps one discipline for both dialects.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

from analysis.errors import ConflictError, Errors, ProjectError, StorageError, ValidationError
from analysis.store.dberrors import busy_timeout_ms

__all__ = ["PROJECT_FILE", "check_expected", "check_url", "engine_url", "lock_for_upgrade", "write_lock", "create_engine", "read_url",
           "redacted", "server_errors", "write_project_file", "coder_names", "coding_spans_by", "transcript_lengths",
           "unit_bounds", "coding_rows_by"]

PROJECT_FILE = "project.toml"
# Advisory lock keys (any two 64-bit numbers no other program on the database uses): "SLWR", "SLUP".
_WRITE_KEY = 0x534C5752
_UPGRADE_KEY = 0x534C5550
_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}


def check_url(url: str) -> str:
    """The database URL as ``project.toml`` keeps it (``postgresql://...``); refuses a URL with a
    password, or one for another kind of server."""
    text = url.strip()
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise ProjectError(Errors.E4201, url=redacted(text)) from None
    if parsed.password is not None or _secret_query(parsed.query):
        raise ProjectError(Errors.E4202, url=redacted(text))
    if parsed.drivername not in _SCHEMES:
        raise ProjectError(Errors.E4201, url=redacted(text))
    if not parsed.database and not parsed.query.get("service") and not parsed.query.get("dbname"):
        raise ProjectError(Errors.E4201, url=redacted(text))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


#: libpq connection parameters that hold a secret (``?password=...`` is as much a password as ``u:pw@``).
_SECRET_PARAMETERS = {"password", "sslpassword"}


def _secret_query(query: Any) -> bool:
    """True when the URL's query holds a secret: a password parameter (any case), or a ``dbname`` that is
    itself a connection string naming one (libpq reads ``dbname='db password=x'`` as one)."""
    for key, value in query.items():
        values = value if isinstance(value, tuple) else (value,)
        if key.lower() in _SECRET_PARAMETERS:
            return True
        if any(re.search(r"(?i)\b(ssl)?password\s*=", str(v)) for v in values):
            return True
    return False


def engine_url(url: str) -> str:
    """The SQLAlchemy URL for ``url``: PostgreSQL through psycopg (v3); anything else as it is."""
    parsed = make_url(url)
    if parsed.drivername in _SCHEMES:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def redacted(url: str) -> str:
    """``url`` fit for a message (a password, should one be there, masked)."""
    try:
        parsed = make_url(url)
        masked = {k: "***" if k.lower() in _SECRET_PARAMETERS or _secret_query({k: v}) else v
                  for k, v in parsed.query.items()}
        return parsed.set(drivername=parsed.get_backend_name(), query=masked).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(?i)(password\s*=\s*)[^&\s]*", r"\1***", re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:***@", url))


def read_url(folder: Path) -> str:
    """The database URL of the project folder ``folder`` (from its ``project.toml``)."""
    path = folder / PROJECT_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ProjectError(Errors.E4203, path=path, detail=str(err)) from None
    url = (data.get("database") or {}).get("url") if isinstance(data.get("database"), dict) else None
    if not isinstance(url, str) or not url.strip():
        raise ProjectError(Errors.E4203, path=path, detail="no [database] url")
    return check_url(url)


def write_project_file(folder: Path, url: str) -> Path:
    """Write ``folder/project.toml`` naming the database ``url`` (checked: no password in it)."""
    clean = check_url(url)
    path = folder / PROJECT_FILE
    # A JSON string is a valid TOML basic string (JSON never writes the one escape TOML lacks, "\/").
    path.write_text("# Storyloom project: the data lives on a database server. No password here: use\n"
                    "# PGPASSWORD, ~/.pgpass or a service file.\n"
                    f"[database]\nurl = {json.dumps(clean, ensure_ascii=False)}\n", encoding="utf-8")
    return path


def write_lock() -> list[str]:
    """The statements that start a write on PostgreSQL, inside its transaction: wait (up to the busy
    timeout) for the writer lock. Sent with ``BEGIN`` and the action's first reads in one round trip."""
    return [f"SET LOCAL lock_timeout = '{busy_timeout_ms()}ms'", f"SELECT pg_advisory_xact_lock({_WRITE_KEY})"]


#: A pooled connection idle for longer than this is pinged before use (one round trip); one in use more
#: recently (a coder at work, the Read & code page polling every 3 s) is trusted, so an action costs no
#: ping. One the server dropped within that time fails its next statement: the pool is replaced and the
#: researcher is told the server could not be reached (SL4204); the next try works.
PING_AFTER_S = 10.0


def create_engine(url: str) -> sa.Engine:
    """The engine of a team project's server.

    Its connections autocommit at the driver (psycopg's ``autocommit``): a read is its statements and
    nothing else (no ``BEGIN``/``ROLLBACK`` round trips; under READ COMMITTED each statement read its own
    snapshot anyway), and a write sends its own ``BEGIN`` with its lock and first reads, and its
    ``COMMIT`` with its last writes (``Store.writing``, ``batch.py``): the same transaction, in fewer
    round trips. The pool hands out the most recently used connection first and pings only one idle
    for more than :data:`PING_AFTER_S`."""
    import time

    engine = sa.create_engine(engine_url(url), isolation_level="AUTOCOMMIT", pool_use_lifo=True)

    @sa.event.listens_for(engine, "checkin")
    def _idle_since(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_S:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as err:
            raise sa.exc.DisconnectionError(str(err)) from err  # the pool replaces it and tries again

    return engine


def lock_for_upgrade(conn: Connection) -> None:
    """Inside the upgrade transaction on PostgreSQL: one upgrader at a time (the others then find the
    database at the newest revision and do nothing)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_KEY})


# SQLSTATE classes and codes of PostgreSQL (https://www.postgresql.org/docs/current/errcodes-appendix.html)
_BUSY = {"55P03", "40001", "40P01", "57014"}  # lock not available, serialization, deadlock, cancelled (timeout)
_CONNECT = ("08", "28", "3D")  # connection exceptions, authorisation, no such database
_READ_ONLY = {"25006", "42501"}  # read-only transaction, insufficient privilege
_FULL = {"53100"}  # disk full


@contextmanager
def server_errors(where: str) -> Iterator[None]:
    """Errors of a PostgreSQL server in a researcher's words (the cases ``dberrors`` does not know)."""
    try:
        yield
    except sa.exc.DBAPIError as err:
        orig: Any = err.orig
        state = str(getattr(orig, "sqlstate", "") or "")
        detail = str(orig or err).strip().splitlines()[0][:200] if str(orig or err).strip() else type(err).__name__
        if state in _BUSY:
            raise StorageError(Errors.E4001, seconds=round(busy_timeout_ms() / 1000, 1)) from err
        if state in _READ_ONLY:
            raise StorageError(Errors.E4205, where=where, detail=detail) from err
        if state in _FULL:
            raise StorageError(Errors.E4003, path=where) from err
        if state == "23505" and "participants_pseudonym" in str(orig):
            raise ConflictError(Errors.E2902) from err
        if state.startswith(_CONNECT) or (not state and isinstance(err, sa.exc.OperationalError)):
            raise StorageError(Errors.E4204, where=where, detail=detail) from err
        raise


# -- optimistic concurrency: an edit names the values it was made against ----------------------------
def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def check_expected(conn: Connection, *, current: dict[str, Any], expected: dict[str, Any], what: str,
                   entity: str, guid: str) -> None:
    """Refuse an edit made against values that have changed since the editor read them.

    ``current`` is the row now (inside the edit's transaction, so after every earlier writer's commit),
    ``expected`` the fields as the editor saw them. A field that differs raises ConflictError naming
    each change and who made the last change to the entity (from the audit trail); the edit's
    transaction rolls back, so nothing is overwritten silently."""
    unknown = sorted(set(expected) - set(current))
    if unknown:
        raise ValidationError(Errors.E2702, what=what, fields=", ".join(unknown))
    changed = [k for k in sorted(expected) if expected[k] != current[k]]
    if not changed:
        return
    from analysis.store.audit import events_about  # here, not at the top: audit imports this package's modules

    last = events_about(conn, entity, {guid})
    who = last[-1].who if last else "another researcher"
    changes = "; ".join(f"{k}: you read {_short(expected[k])}, it is now {_short(current[k])}" for k in changed)
    raise ConflictError(Errors.E2701, what=what, who=who, changes=changes)


# -- inter-coder agreement: what the comparison reads ------------------------------------------------
def coder_names(conn: Connection) -> list[str]:
    """Every name codings carry as their coder, sorted."""
    from analysis.store.schema import codings

    return sorted(str(r[0]) for r in conn.execute(sa.select(codings.c.coder).distinct()))


def coding_spans_by(conn: Connection, coders: Sequence[str], *, transcript_ids: set[int] | None = None,
                    code_ids: set[int] | None = None) -> list[tuple[str, int, int, int, int]]:
    """``(coder, code_id, transcript_id, start, end)`` of the live (not orphaned) codings of ``coders``."""
    from analysis.store.schema import codings

    q = sa.select(codings.c.coder, codings.c.code_id, codings.c.transcript_id, codings.c.start, codings.c.end).where(
        codings.c.coder.in_(list(coders)), codings.c.orphaned.is_(False))
    if transcript_ids is not None:
        q = q.where(codings.c.transcript_id.in_(transcript_ids))
    if code_ids is not None:
        q = q.where(codings.c.code_id.in_(code_ids))
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]))
            for r in conn.execute(q.order_by(codings.c.transcript_id, codings.c.start, codings.c.id))]


def transcript_lengths(conn: Connection) -> dict[int, tuple[str, int]]:
    """``{transcript id: (name, length of its text in characters)}``."""
    from analysis.store.schema import transcripts

    return {int(r[0]): (str(r[1]), int(r[2] or 0)) for r in conn.execute(
        sa.select(transcripts.c.id, transcripts.c.name, sa.func.length(transcripts.c.text)))}


def unit_bounds(conn: Connection, unit: str, transcript_ids: set[int]) -> dict[int, list[tuple[int, int]]]:
    """The ``[start, end)`` of each sentence (segment) or turn of the transcripts, in text order."""
    from analysis.store.schema import segments, turns

    table = segments if unit == "sentence" else turns
    out: dict[int, list[tuple[int, int]]] = {t: [] for t in transcript_ids}
    q = (sa.select(table.c.transcript_id, table.c.start, table.c.end)
         .where(table.c.transcript_id.in_(transcript_ids)).order_by(table.c.transcript_id, table.c.start, table.c.id))
    for tid, start, end in conn.execute(q):
        out[int(tid)].append((int(start), int(end)))
    return out


def coding_rows_by(conn: Connection, coders: Sequence[str], *, transcript_id: int, code_id: int | None = None,
                   start: int | None = None, end: int | None = None) -> list[sa.Row[Any]]:
    """Live codings of ``coders`` in one transcript (of one code; overlapping ``[start, end)`` when given), in
    text order."""
    from analysis.store.schema import codings

    q = sa.select(codings).where(codings.c.coder.in_(list(coders)), codings.c.orphaned.is_(False),
                                 codings.c.transcript_id == transcript_id)
    if code_id is not None:
        q = q.where(codings.c.code_id == code_id)
    if start is not None and end is not None:
        q = q.where(codings.c.start < end, codings.c.end > start)
    return list(conn.execute(q.order_by(codings.c.start, codings.c.end, codings.c.id)).all())
