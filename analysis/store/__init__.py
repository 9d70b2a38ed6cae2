"""The only code that speaks SQL: the engine and migrations (here), the schema (``schema.py``),
queries per entity (one module each), and the undo recorder (``recorder.py``).

SQLite (WAL, foreign keys on) by default; a team project keeps its data on PostgreSQL (its folder's
``project.toml`` names the server: see ``team.py``, which also says how writers queue up there). Opening
a :class:`Store` brings its database to the newest schema with the Alembic revisions in
``analysis/store/alembic/versions/`` (see :meth:`Store._migrate`); they run unchanged on both dialects.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from analysis.errors import Errors, ProjectError
from analysis.store import batch, meta, schema, team  # noqa: F401 - schema: analysis.store.schema for every importer

if TYPE_CHECKING:  # Alembic costs ~0.3 s to import: only when a database is not at the newest revision
    from alembic.config import Config
    from alembic.script import ScriptDirectory
from analysis.store.dberrors import busy_timeout_ms, translated

__all__ = ["ALEMBIC_DIR", "Connection", "LEGACY_REVISION", "SCHEMA_VERSION", "Store"]

#: The transaction this thread or task has open, and its store: a read inside it reads through it (and so
#: sees its own uncommitted rows), as an action joined to a running one does (services/context.py).
_WRITING: ContextVar[tuple[Store, Connection] | None] = ContextVar("storyloom_writing", default=None)

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"
# The revision that is exactly the v1 release's schema (which recorded only meta.schema_version = '1').
LEGACY_REVISION = "0001_base"
# Still written to meta.schema_version after every upgrade, for anyone who reads that key (the v1
# release did; it refuses any value above 1, so an older Storyloom will not open an upgraded project).
# Alembic's ``alembic_version`` table is what this code trusts; bump this with each release's schema.
SCHEMA_VERSION = 2


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
    cur.close()


_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(?:None|[\"']([^\"']+)[\"'])\s*$", re.M)


def script_head() -> str | None:
    """The newest revision of ``alembic/versions``, read from the files' ``revision`` and
    ``down_revision`` lines without importing Alembic; None when they do not make one linear chain
    (then the caller asks Alembic itself). tests/store/test_migrations.py holds it to Alembic's head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (ALEMBIC_DIR / "versions").glob("*.py"):
        if path.name.startswith("_"):
            continue
        found = dict((m.group(1), m.group(2)) for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")))
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(str(found["revision"]))
        if found["down_revision"]:
            parents.add(str(found["down_revision"]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(parents) == len(revisions) - 1 else None


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, built in code (no ``alembic.ini``); ``connection`` is what env.py uses."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class Store:
    """A migrated database (its tables are declared in ``schema.py``) and its connections."""

    def __init__(self, url: str, *, db_path: Path | None = None) -> None:
        self.url = url
        self.db_path = db_path
        if url.startswith("sqlite"):
            self.engine: Engine = sa.create_engine(url)
        else:  # a server: PostgreSQL through psycopg (see team.py: round trips, a dropped connection)
            self.engine = team.create_engine(url)
        self.server = self.engine.dialect.name != "sqlite"
        if not self.server:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            with translated(self._where()), self._server_errors():
                self._migrate()
        except BaseException:
            self.engine.dispose()
            raise

    @classmethod
    def for_folder(cls, folder: Path) -> Store:
        """The store of project folder ``folder``: the server its ``project.toml`` names, else
        ``folder/project.db``."""
        if (folder / team.PROJECT_FILE).is_file():
            return cls(team.read_url(folder))
        db = folder / "project.db"
        return cls(f"sqlite:///{db}", db_path=db)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    @contextmanager
    def _server_errors(self) -> Iterator[None]:
        if self.server:
            with team.server_errors(self._where()):
                yield
        else:
            yield

    # -- migrations -------------------------------------------------------------------------
    def schema_version(self) -> int:
        """``meta.schema_version`` (1 for a v1 project, :data:`SCHEMA_VERSION` once upgraded; 0 if none)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("meta"):
                return 0
            return int(meta.get(conn, "schema_version", "0") or 0)

    def revision(self) -> str | None:
        """The Alembic revision the database is at (None for an empty or v1 database)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def _where(self) -> str:
        return str(self.db_path) if self.db_path is not None else team.redacted(self.url)

    def _state(self, conn: Connection, script: ScriptDirectory) -> tuple[str | None, bool]:
        """``(current revision, is a v1 database)``; raises ProjectError for a database this code
        cannot upgrade (written by a newer Storyloom, or not a Storyloom project)."""
        from alembic.runtime.migration import MigrationContext

        tables = set(sa.inspect(conn).get_table_names())
        heads = MigrationContext.configure(conn).get_current_heads()
        v1 = meta.get(conn, "schema_version") if "meta" in tables else None
        known = {rev.revision for rev in script.walk_revisions()}
        unknown = [h for h in heads if h not in known]
        if unknown or len(heads) > 1:
            raise ProjectError(
                Errors.E4101, self_text=self._where(), heads=', '.join(heads), script=script.get_current_head()
            )
        if heads:
            return heads[0], False
        if v1 == "1":
            return None, True
        if v1 is not None:
            raise ProjectError(
                Errors.E4102, self_text=self._where(), v1=v1)
        if tables:
            raise ProjectError(
                Errors.E4103, self_text=self._where(), tables=', '.join(sorted(tables)))
        return None, False

    def _backup(self, suffix: str) -> None:
        """Copy the database file beside itself (``project.db.bak-<suffix>``), connections closed first.

        An existing backup of that name is kept, never overwritten: it is the older copy (or one that
        a process racing this one to the same upgrade has just made)."""
        if self.db_path is None or not self.db_path.exists():
            return
        backup = self.db_path.with_name(f"{self.db_path.name}.bak-{suffix}")
        if backup.exists():
            return
        self.engine.dispose()  # the last connection to close checkpoints the WAL into the file
        shutil.copy2(self.db_path, backup)

    def _migrate(self) -> None:
        """Bring the database to the newest revision (``alembic/versions``), in one transaction.

        * empty (new) database: upgrade to head;
        * a v1 database (``meta.schema_version = '1'``, no ``alembic_version``): back it up as
          ``project.db.bak-v1``, stamp :data:`LEGACY_REVISION`, upgrade to head;
        * at an older revision: back up as ``project.db.bak-<revision>``, upgrade to head;
        * at head: nothing (no backup);
        * at a revision this code does not know (a newer release): :class:`ProjectError`, unchanged.

        After an upgrade ``meta.schema_version`` is :data:`SCHEMA_VERSION`. On SQLite the upgrade
        runs with foreign keys off (batch mode rebuilds tables; a rebuild with them on would cascade
        deletes) inside an explicit BEGIN IMMEDIATE ... COMMIT (pysqlite would otherwise autocommit
        DDL); the write lock is taken at once and the state read again under it, so two processes
        opening one project upgrade it once. References the upgrade broke are checked before the commit.
        """
        if self._at_head():
            return
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config())
        with self.engine.connect() as conn:
            current, legacy = self._state(conn, script)
        if current == script.get_current_head() and not legacy:
            return
        if legacy:
            self._backup("v1")
        elif current is not None:
            self._backup(current)
        self._upgrade(script)

    def _at_head(self) -> bool:
        """True when ``alembic_version`` holds exactly the newest revision (:func:`script_head`): the
        common case, decided with one query and without importing Alembic."""
        head = script_head()
        if head is None:
            return False
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return False
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
        return len(rows) == 1 and rows[0][0] == head

    def _upgrade(self, script: ScriptDirectory) -> None:
        from alembic import command

        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if not sqlite:  # the server's engine autocommits (team.create_engine): this one is a transaction
                conn.execution_options(isolation_level="READ COMMITTED")
            if sqlite:
                # pysqlite's autocommit mode: we issue BEGIN ourselves, so the DDL is in the transaction
                # too (SQLAlchemy's commit/rollback below still end it through the DBAPI connection).
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # ignored inside a transaction: set it first
                conn.commit()  # ends SQLAlchemy's autobegun (and, in autocommit mode, empty) transaction
            try:
                with conn.begin():
                    broken_before: set[tuple[Any, ...]] = set()
                    if sqlite:
                        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now: one upgrader at a time
                        broken_before = set(map(tuple, conn.exec_driver_sql("PRAGMA foreign_key_check")))
                    else:  # PostgreSQL: transactional DDL, foreign keys checked as each statement runs
                        team.lock_for_upgrade(conn)
                    # Again, inside the transaction: another process may have upgraded it meanwhile.
                    current, legacy = self._state(conn, script)
                    if current == script.get_current_head() and not legacy:
                        return
                    config = alembic_config(conn)
                    if legacy:
                        command.stamp(config, LEGACY_REVISION)
                    command.upgrade(config, "head")
                    if sqlite:  # only what the upgrade broke: an old dangling reference is not its business
                        broken = set(map(tuple, conn.exec_driver_sql("PRAGMA foreign_key_check"))) - broken_before
                        if broken:
                            raise ProjectError(
                                Errors.E4104, self_text=self._where(), n_broken=len(broken), v3=sorted(broken, key=str)[0])
                    meta.set(conn, "schema_version", str(SCHEMA_VERSION))
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()

    # -- connections ------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; database errors leave as Storyloom errors. Inside this store's open
        transaction (:meth:`write`, :meth:`transaction`), that transaction's connection: the read sees what
        it wrote."""
        shared = self._shared()
        if shared is not None:
            yield shared
            return
        with translated(self._where()), self._server_errors(), self.engine.connect() as conn:
            yield conn

    def _shared(self) -> Connection | None:
        held = _WRITING.get()
        return held[1] if held is not None and held[0] is self else None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction around several actions (a sync's files): every :meth:`write` and :meth:`read`
        inside it (in this thread or task) uses its connection, each write in a savepoint; the whole is
        committed at the end or, on any exception, rolled back whole. Nested, it is the outer one."""
        with self.write() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on any exception.

        On SQLite it takes the write lock at once (``BEGIN IMMEDIATE``): writers queue up for the busy
        timeout instead of reading a snapshot they can no longer commit on, so a check made inside
        the transaction (a sibling name, a duplicate coding) sees every earlier writer's commit. On
        PostgreSQL the transaction first takes the project's writer lock (``team.write_lock``): the
        same guarantee, the same busy timeout. Inside :meth:`transaction` it is a savepoint of that one."""
        with self.writing() as (conn, _rows):
            yield conn

    @contextmanager
    def writing(self, reads: Sequence[sa.Executable] = ()) -> Iterator[tuple[Connection, list[list[Any]]]]:
        """:meth:`write`, reading ``reads`` (selects) as soon as the lock is held: ``(connection, rows of each)``.

        On a server the transaction costs two round trips besides what the block itself reads and writes:
        ``BEGIN``, the writer lock and ``reads`` go in the first, the writes held back with
        :func:`analysis.store.batch.later` (the audit event, the change counter) and ``COMMIT`` in the last
        (:mod:`analysis.store.batch`). On SQLite each statement is a function call: run one by one."""
        shared = self._shared()
        if shared is not None:
            with translated(self._where()), self._server_errors(), shared.begin_nested():
                rows = [list(shared.execute(q).all()) for q in reads]
                with self._holding(shared) as pending:
                    yield shared, rows
                    if pending.statements:
                        batch.send(shared, pending.statements)
            return
        with translated(self._where()), self._server_errors(), self.engine.connect() as conn, conn.begin():
            if self.server:
                head = ["BEGIN", *team.write_lock()]  # one round trip: the transaction, the lock, the reads
                rows = batch.send(conn, [*head, *reads])[len(head):]
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                rows = [list(conn.execute(q).all()) for q in reads]
            token = _WRITING.set((self, conn))
            try:
                with self._holding(conn) as pending:
                    yield conn, rows
                    if self.server:  # the held-back writes and the commit: one round trip
                        batch.send(conn, [*pending.statements, "COMMIT"])
            finally:
                _WRITING.reset(token)

    @staticmethod
    @contextmanager
    def _holding(conn: Connection) -> Iterator[batch.Pending]:
        pending = batch.Pending(conn)
        token = batch.PENDING.set(pending)
        try:
            yield pending
        finally:
            batch.PENDING.reset(token)

    def close(self) -> None:
        self.engine.dispose()


def peek_revision(folder: Path) -> str | None:
    """The Alembic revision of the project database in ``folder`` (SQLite or the server its project.toml
    names), read without opening the project: nothing is upgraded or written (``storyloom doctor``)."""
    from alembic.runtime.migration import MigrationContext

    if (folder / team.PROJECT_FILE).is_file():
        engine = sa.create_engine(team.engine_url(team.read_url(folder)))
    else:
        engine = sa.create_engine(f"sqlite:///file:{(folder / 'project.db').resolve()}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
