"""What every service receives: one typed :class:`Context` (store, action runner, actor, clock, embedder).

A researcher action is ``with ctx.action("code.create") as act: ...``: one transaction and one audit
event, rolled back together. Rows are written through ``act.rec`` (the undo recorder); the entities
the action is about are named with ``act.about("code", guid)`` (they land in ``audit_targets``, so
"how did this theme come to be" is a query, not a text search).

The running action is tracked (a context variable), so an action started inside another (a service
method calling another's) joins it: its rows go into the same transaction and the same undo step, its
targets into the same event, its role is checked. One that cannot join (another connection to the same
database, or another researcher) fails at once with an internal error (``SL9003``) instead of waiting
five seconds on its own write lock and reporting the project "locked".
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

from analysis.store import Connection

from analysis.domain.audit import check_kind
from analysis.domain.roles import check as check_role
from analysis.errors import Errors, StorageError, StoryloomError
from analysis.embedding.minilm import Embedder
from analysis.store import Store, audit as audit_store, batch, researchers as researcher_store
from analysis.store.recorder import Recorder

_ACTING_AS: ContextVar[str | None] = ContextVar("storyloom_acting_as", default=None)


@dataclass(frozen=True)
class _Running:
    """The action running in this thread or task: its store (the write lock it holds) and what it records."""

    store: Store
    act: Action


_RUNNING: ContextVar[_Running | None] = ContextVar("storyloom_running_action", default=None)


def _same_database(one: Store, other: Store) -> bool:
    """Whether two stores open the same database (one write lock between them)."""
    if one.db_path is not None and other.db_path is not None:
        return one.db_path.resolve() == other.db_path.resolve()
    return one.url == other.url


def now_iso() -> str:
    """The clock: UTC, ISO 8601 with microseconds (sorts as text)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def new_guid() -> str:
    return str(uuid4())


def default_user() -> str:
    return os.environ.get("STORYLOOM_USER") or getpass.getuser() or "researcher"


@dataclass
class Action:
    """What a running action records: row changes (via ``rec``) and a summary for the audit trail."""

    rec: Recorder
    action: str
    who: str
    target: str = ""
    summary: str = ""
    before: Any = None
    after: Any = None
    note: str = ""
    undoable: bool = True
    barrier: bool = False
    changes_data: bool = True  # False for usage records (a search): caches of the data stay valid
    read: list[list[Any]] = field(default_factory=list)
    """The rows of the action's ``reads`` (:meth:`Context.action`), one list per query, read under its lock."""
    targets: list[tuple[str, str, str]] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    """The summaries of the actions that joined this one (started inside it: :meth:`Context.action`)."""

    @property
    def conn(self) -> Connection:
        return self.rec.conn

    def about(self, entity: str, guid: str, role: str = "subject") -> None:
        """Name an entity this action is about (``code``, ``coding``, ``transcript``...)."""
        if (entity, guid, role) not in self.targets:
            self.targets.append((entity, guid, role))


@dataclass
class Context:
    """The one thing a service is given."""

    store: Store
    path: Path
    user: str
    embedder_factory: Callable[[], Embedder]
    clock: Callable[[], str] = now_iso
    _embedder: Embedder | None = None

    # -- who and what ------------------------------------------------------------------------------
    @property
    def actor(self) -> str:
        """Who the next action is recorded as: the ``acting_as`` researcher, else the project user."""
        return _ACTING_AS.get() or self.user

    @contextmanager
    def acting_as(self, researcher: str | None) -> Iterator[None]:
        """Record the actions inside the block as made by ``researcher`` (context-local)."""
        token = _ACTING_AS.set(researcher.strip() if researcher and researcher.strip() else None)
        try:
            yield
        finally:
            _ACTING_AS.reset(token)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self.embedder_factory()
        return self._embedder

    def now(self) -> str:
        return self.clock()

    @property
    def transcripts_dir(self) -> Path:
        return self.path / "transcripts"

    @property
    def media_dir(self) -> Path:
        """The project's recordings (``media/``), each attached to a transcript."""
        return self.path / "media"

    @property
    def codebooks_dir(self) -> Path:
        return self.path / "codebooks"

    # -- the action runner -------------------------------------------------------------------------
    @contextmanager
    def action(self, kind: str, *, who: str | None = None, note: str = "", undoable: bool = True,
               reads: Sequence[Any] = ()) -> Iterator[Action]:
        """One researcher action: one transaction and one audit event (rolled back together). Started
        inside a running action, it joins that one (see :meth:`_join`).

        ``reads``: queries (from the store's modules) whose rows the action needs first; they are read
        under the action's lock into ``act.read``, on a server in the same round trip as the transaction's
        start and the role check (``Store.writing``): a coding is three round trips, not fifteen."""
        check_kind(kind)
        running = _RUNNING.get()
        if running is not None:
            with self._join(running, kind, who=who or self.actor, note=note, undoable=undoable, reads=reads) as act:
                yield act
            return
        with self.store.writing([researcher_store.team_query(), *reads]) as (conn, rows):
            # the one place roles are enforced
            check_role(kind, self.actor, researcher_store.team(conn, rows[0]))
            act = Action(Recorder(conn), kind, who or self.actor, note=note, undoable=undoable, read=rows[1:])
            token = _RUNNING.set(_Running(self.store, act))
            try:
                yield act
            finally:
                _RUNNING.reset(token)
            check_kind(act.action)
            act.summary = act.summary or "; ".join(act.joined)
            audit_store.record(conn, act, at=self.now(), user_guid=new_guid())

    @contextmanager
    def _join(self, running: _Running, kind: str, *, who: str, note: str, undoable: bool,
              reads: Sequence[Any]) -> Iterator[Action]:
        """An action inside a running one: the same transaction, recorder and audit event (one undo step).
        Its role is checked; its targets and barrier join the running event's; its summary stands in for the
        running one's only if that one has none. On another connection to the same database, or as another
        researcher, it fails at once (SL9003): it would wait for the running action's lock, or be recorded
        under the wrong name. An action on another project's database is an action of its own."""
        outer = running.act
        if running.store is not self.store:
            if _same_database(running.store, self.store):
                raise StoryloomError(Errors.E9003, kind=kind, running=outer.action,
                                     why="on another connection to the same project")
            token = _RUNNING.set(None)
            try:
                with self.action(kind, who=who, note=note, undoable=undoable, reads=reads) as act:
                    yield act
            finally:
                _RUNNING.reset(token)
            return
        if who != outer.who:
            raise StoryloomError(Errors.E9003, kind=kind, running=outer.action,
                                 why=f"as {who}, while the running action records {outer.who}")
        check_role(kind, who, researcher_store.team(outer.conn))
        act = Action(outer.rec, kind, who, note=note, undoable=undoable,
                     read=batch.rows_of(outer.conn, reads))
        yield act
        check_kind(act.action)
        for entity, guid, role in [*act.targets, *audit_store.parse_targets(act.target)]:
            outer.about(entity, guid, role)
        outer.barrier = outer.barrier or act.barrier
        outer.changes_data = outer.changes_data or act.changes_data
        if act.summary:
            outer.joined.append(act.summary)

    def log(self, kind: str, *, summary: str, after: Any = None, target: str = "") -> str | None:
        """Record a use of the tool that changes no data (a search, an export) for the methods report.

        The use has happened by now (the file is written, the results are shown), so a record that
        cannot be written (the database read-only, locked, or on a full disk) does not fail it: the
        warning is returned for the front end to show, e.g. "the export succeeded; its audit record is
        missing"."""
        check_kind(kind)  # an undeclared kind is a programming error, not the database's refusal
        try:
            with self.action(kind, undoable=False) as act:
                act.summary, act.after, act.target, act.changes_data = summary, after, target, False
        except StoryloomError as err:
            return str(StorageError(Errors.E4009, reason=str(err)))
        return None
