"""Memos and the reflexive journal.

A memo is attached to a transcript (familiarisation notes), a code or theme, a coding or a
participant; a journal entry belongs to the project. Every entry has an author, a timestamp and a
phase of reflexive thematic analysis.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import sqlalchemy as sa

from .errors import ConflictError, NotFoundError
from .model import PHASES, Memo

MEMO_KINDS = ("journal", "familiarisation", "code", "coding", "participant")


def _memo(r: Any) -> Memo:
    return Memo(r.id, r.guid, r.kind, r.target_id, r.author, r.phase, r.title, r.body, r.created_at)


class MemoMixin:
    """Project methods for memos and the journal."""

    def _memo_target(self: Any, conn: Any, kind: str, target: str | int | None) -> tuple[int | None, str]:
        if kind == "journal":
            return None, "journal"
        if target is None or target == "":
            raise ConflictError(f"A {kind} memo needs a target (the {kind} it is about).")
        if kind == "familiarisation":
            return self._transcript_id(conn, str(target)), f"transcript:{target}"
        if kind == "code":
            row = self._code_row(conn, target)
            return row.id, f"code:{row.guid}"
        if kind == "participant":
            return self._participant_id(conn, str(target)), f"participant:{target}"
        cd = self.t.codings
        row = conn.execute(sa.select(cd.c.id, cd.c.guid).where(cd.c.id == int(target))).first()
        if row is None:
            raise NotFoundError(f"No coding with id {target}.")
        return row.id, f"coding:{row.guid}"

    def add_memo(
        self: Any, body: str, *, kind: str = "journal", target: str | int | None = None, phase: str = "coding",
        title: str = "", author: str | None = None,
    ) -> Memo:
        """Write a memo (``kind``: journal, familiarisation, code, coding, participant)."""
        if kind not in MEMO_KINDS:
            raise ConflictError(f"Memo kind '{kind}' is not one of: {', '.join(MEMO_KINDS)}.")
        if phase not in PHASES:
            raise ConflictError(f"Phase '{phase}' is not one of the six phases: {'; '.join(PHASES)}.")
        if not body.strip():
            raise ConflictError("A memo needs some text.")
        with self._action("memo.add", who=author) as act:
            target_id, target_ref = self._memo_target(act.conn, kind, target)
            now = self._now()
            mid = act.rec.insert("memos", guid=str(uuid4()), kind=kind, target_id=target_id, author=author or self.actor,
                                 phase=phase, title=title.strip(), body=body, created_at=now, updated_at=now)
            act.target = target_ref
            act.after = {"kind": kind, "phase": phase, "title": title}
            act.summary = f"Wrote a {kind} {'entry' if kind == 'journal' else 'memo'}" + (f" '{title}'" if title else "")
        return self.memo(mid)

    def memo(self: Any, memo_id: int) -> Memo:
        m = self.t.memos
        with self.store.read() as conn:
            row = conn.execute(sa.select(m).where(m.c.id == memo_id)).first()
        if row is None:
            raise NotFoundError(f"No memo with id {memo_id}.")
        return _memo(row)

    def edit_memo(self: Any, memo_id: int, *, body: str | None = None, title: str | None = None,
                  phase: str | None = None) -> Memo:
        """Change a memo's text, title or phase."""
        if phase is not None and phase not in PHASES:
            raise ConflictError(f"Phase '{phase}' is not one of the six phases.")
        changes = {k: v for k, v in dict(body=body, title=title, phase=phase).items() if v is not None}
        with self._action("memo.edit") as act:
            before = act.rec.get("memos", memo_id)
            if before is None:
                raise NotFoundError(f"No memo with id {memo_id}.")
            act.rec.update("memos", memo_id, updated_at=self._now(), **changes)
            act.target, act.before, act.after = f"memo:{before['guid']}", {k: before[k] for k in changes}, changes
            act.summary = "Edited a memo"
        return self.memo(memo_id)

    def delete_memo(self: Any, memo_id: int) -> None:
        with self._action("memo.delete") as act:
            before = act.rec.get("memos", memo_id)
            if before is None:
                raise NotFoundError(f"No memo with id {memo_id}.")
            act.rec.delete("memos", memo_id)
            act.target, act.before, act.summary = f"memo:{before['guid']}", before, "Deleted a memo"

    def memos(
        self: Any, *, kind: str | None = None, target: str | int | None = None, phase: str | None = None,
        author: str | None = None,
    ) -> list[Memo]:
        """Memos and journal entries, newest first, filtered by kind, target, phase or author."""
        m = self.t.memos
        q = sa.select(m).order_by(m.c.created_at.desc())
        with self.store.read() as conn:
            if kind:
                q = q.where(m.c.kind == kind)
                if target is not None and kind != "journal":
                    q = q.where(m.c.target_id == self._memo_target(conn, kind, target)[0])
            if phase:
                q = q.where(m.c.phase == phase)
            if author:
                q = q.where(m.c.author == author)
            return [_memo(r) for r in conn.execute(q)]
