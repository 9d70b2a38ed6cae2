"""``Project``: the facade researchers (and the UI, the CLI, notebooks) hold.

Every researcher action is one method, one transaction, one audit event. The methods live in
focused mixins (importing, codebook, coding, memos, codebook files, exploration, vignettes,
assist); this module owns what they share: the store, the action/audit machinery, undo and redo.
"""

from __future__ import annotations

import getpass
import json
import os
from contextvars import ContextVar
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import sqlalchemy as sa

from .assist import AssistMixin
from .codebook import CodebookMixin
from .codebook_files import CodebookFilesMixin
from .coding import CodingMixin
from .embed import Embedder, default_embedder
from .errors import NothingToUndoError, ProjectError
from .explore import ExploreMixin
from .importing import ImportMixin
from .memos import MemoMixin
from .model import AuditEvent
from .store import Recorder, Store
from .vignettes import VignetteMixin


_ACTING_AS: ContextVar[str | None] = ContextVar("storyloom_acting_as", default=None)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


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

    @property
    def conn(self) -> sa.engine.Connection:
        return self.rec.conn


class Project(
    ImportMixin, CodebookMixin, CodingMixin, MemoMixin, CodebookFilesMixin, ExploreMixin,
    VignetteMixin, AssistMixin,
):
    """A Storyloom project: a folder with ``transcripts/``, ``codebooks/`` and ``project.db``."""

    def __init__(self, path: str | Path, *, embedder: Embedder | None = None, user: str | None = None) -> None:
        self.path = Path(path).resolve()
        if self.path.exists() and not self.path.is_dir():
            raise ProjectError(f"{self.path} is a file; a project is a folder. Pass the folder that holds project.db.")
        self.path.mkdir(parents=True, exist_ok=True)
        self.store = Store.for_folder(self.path)
        self.t = self.store.t
        self._embedder = embedder
        self.user = user or os.environ.get("STORYLOOM_USER") or getpass.getuser() or "researcher"

    # -- basics --------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @property
    def transcripts_dir(self) -> Path:
        return self.path / "transcripts"

    @property
    def codebooks_dir(self) -> Path:
        return self.path / "codebooks"

    def close(self) -> None:
        self.store.close()

    @contextmanager
    def acting_as(self, researcher: str | None) -> Iterator[None]:
        """Record the actions inside the block as made by ``researcher`` (e.g. the UI's sidebar name).

        Context-local, so two browser sessions sharing one open project do not mix up their names."""
        token = _ACTING_AS.set(researcher.strip() if researcher and researcher.strip() else None)
        try:
            yield
        finally:
            _ACTING_AS.reset(token)

    @property
    def actor(self) -> str:
        """Who the next action is recorded as: the ``acting_as`` researcher, else the project user."""
        return _ACTING_AS.get() or self.user

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def version(self) -> int:
        """A counter bumped by every change: caches (e.g. in the UI) key on it."""
        with self.store.read() as conn:
            return int(self.store.get_meta(conn, "change_counter", "0"))

    # -- actions and the audit trail -----------------------------------------------------------
    @contextmanager
    def _action(
        self, action: str, *, who: str | None = None, note: str = "", undoable: bool = True,
    ) -> Iterator[Action]:
        """One researcher action: one transaction and one audit event (rolled back together)."""
        with self.store.write() as conn:
            act = Action(Recorder(self.store, conn), action, who or self.actor, note=note, undoable=undoable)
            yield act
            audit = self.t.audit
            self._ensure_user(conn, act.who)
            if act.undoable:
                conn.execute(audit.update().where(audit.c.state == "undone").values(state="discarded"))
            conn.execute(audit.insert().values(
                at=now_iso(), who=act.who, action=act.action, target=act.target, summary=act.summary,
                before=json.dumps(act.before, ensure_ascii=False, default=str),
                after=json.dumps(act.after, ensure_ascii=False, default=str),
                note=act.note, changes=Recorder.dumps(act.rec.changes) if act.undoable else "[]",
                undoable=act.undoable, barrier=act.barrier, state="done" if act.undoable else "final",
            ))
            if act.changes_data:
                self._bump(conn)

    def _ensure_user(self, conn: sa.engine.Connection, name: str) -> None:
        """Every researcher who acts gets a user record (with a GUID, as REFI-QDA wants)."""
        users = self.t.users
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is None:
            conn.execute(users.insert().values(guid=str(uuid4()), name=name))

    def users(self) -> list[str]:
        """The researchers who have acted in this project."""
        with self.store.read() as conn:
            return [r[0] for r in conn.execute(sa.select(self.t.users.c.name).order_by(self.t.users.c.id))]

    def _bump(self, conn: sa.engine.Connection) -> None:
        self.store.set_meta(conn, "change_counter", str(int(self.store.get_meta(conn, "change_counter", "0")) + 1))

    def _log(self, action: str, *, summary: str, after: Any = None, target: str = "") -> None:
        """Record a non-mutating use of the tool (a search, a cluster review) for the methods report."""
        with self._action(action, undoable=False) as act:
            act.summary, act.after, act.target, act.changes_data = summary, after, target, False

    @staticmethod
    def _event(row: Any) -> AuditEvent:
        return AuditEvent(
            id=row.id, at=row.at, who=row.who, action=row.action, target=row.target, summary=row.summary,
            before=json.loads(row.before) if row.before else None,
            after=json.loads(row.after) if row.after else None, note=row.note, state=row.state,
        )

    def audit_trail(self, *, action: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        """The audit trail, oldest first (``action`` may end in ``*`` to match a prefix)."""
        a = self.t.audit
        q = sa.select(a).order_by(a.c.id)
        if action:
            q = q.where(a.c.action.like(action[:-1] + "%") if action.endswith("*") else a.c.action == action)
        with self.store.read() as conn:
            rows = conn.execute(q).all()
        events = [self._event(r) for r in rows]
        return events[-limit:] if limit else events

    def can_undo(self) -> AuditEvent | None:
        with self.store.read() as conn:
            return self._undo_candidate(conn)

    def can_redo(self) -> AuditEvent | None:
        with self.store.read() as conn:
            return self._redo_candidate(conn)

    def _undo_candidate(self, conn: sa.engine.Connection) -> AuditEvent | None:
        a = self.t.audit
        row = conn.execute(sa.select(a).where(a.c.state == "done").order_by(a.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        barrier = conn.execute(sa.select(a.c.id).where(a.c.barrier.is_(True), a.c.id > row.id).limit(1)).first()
        return None if barrier else self._event(row)

    def _redo_candidate(self, conn: sa.engine.Connection) -> AuditEvent | None:
        a = self.t.audit
        row = conn.execute(
            sa.select(a).where(a.c.state == "undone").order_by(a.c.undone_at.desc(), a.c.id.desc()).limit(1)
        ).first()
        return self._event(row) if row else None

    def undo(self) -> AuditEvent:
        """Undo the researcher's last action (works across restarts: the trail is in the project)."""
        return self._replay(inverse=True)

    def redo(self) -> AuditEvent:
        """Redo the action undone last, if nothing was done since."""
        return self._replay(inverse=False)

    def _replay(self, *, inverse: bool) -> AuditEvent:
        a = self.t.audit
        with self.store.write() as conn:
            event = self._undo_candidate(conn) if inverse else self._redo_candidate(conn)
            if event is None:
                raise NothingToUndoError(
                    "Nothing to undo: no action since the project opened, or the last import re-anchored "
                    "codings (undo stops there)." if inverse else "Nothing to redo: no undone action is waiting."
                )
            changes = json.loads(conn.execute(sa.select(a.c.changes).where(a.c.id == event.id)).scalar_one())
            Recorder(self.store, conn).apply(changes, inverse=inverse)
            conn.execute(a.update().where(a.c.id == event.id).values(
                state="undone" if inverse else "done", undone_at=now_iso() if inverse else None))
            verb = "undo" if inverse else "redo"
            conn.execute(a.insert().values(
                at=now_iso(), who=self.actor, action=verb, target=event.target,
                summary=f"{verb.capitalize()}: {event.summary}", before="null",
                after=json.dumps({"event": event.id}), note="", changes="[]", undoable=False, state="final",
            ))
            self._bump(conn)
        return event

    # -- status --------------------------------------------------------------------------------
    def status(self) -> dict[str, int]:
        """Counts: transcripts, participants, turns, segments, embedded, codes, codings."""
        t = self.t
        model_id = self.embedder.model_id
        with self.store.read() as conn:
            def count(q: Any) -> int:
                return int(conn.execute(q).scalar_one())

            embedded = count(
                sa.select(sa.func.count()).select_from(t.segments).join(
                    t.embeddings, sa.and_(t.embeddings.c.text_sha256 == t.segments.c.text_sha256,
                                          t.embeddings.c.model_id == model_id))
            )
            return {
                "transcripts": count(sa.select(sa.func.count()).select_from(t.transcripts)),
                "participants": count(sa.select(sa.func.count()).select_from(t.participants)),
                "turns": count(sa.select(sa.func.count()).select_from(t.turns)),
                "segments": count(sa.select(sa.func.count()).select_from(t.segments)),
                "embedded": embedded,
                "codes": count(sa.select(sa.func.count()).select_from(t.codes)),
                "codings": count(sa.select(sa.func.count()).select_from(t.codings)),
            }


def open_project(path: str | Path, *, embedder: Embedder | None = None, user: str | None = None) -> Project:
    """Create or open the project in folder ``path`` (its database is ``path/project.db``)."""
    return Project(path, embedder=embedder, user=user)
