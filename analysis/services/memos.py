"""Memos and the reflexive journal.

A memo is attached to a transcript (familiarisation notes), a code or theme, a coding or a
participant; a journal entry belongs to the project. Every entry has an author, a timestamp and a
phase of reflexive thematic analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.errors import Errors, NotFoundError, ValidationError
from analysis.domain.memos import MEMO_KINDS
from analysis.domain.model import PHASES, Memo
from analysis.store import codes, memos as store, participants, transcripts
from analysis.services.context import Context, new_guid

if TYPE_CHECKING:
    from analysis.store import Connection

__all__ = ["MEMO_KINDS", "MemoService"]


class MemoService:
    """Memos and the journal (``project.memos``)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @staticmethod
    def _target(conn: Connection, kind: str, target: str | int | None) -> tuple[int | None, str]:
        """The id a memo of ``kind`` is attached to, and its audit target (``code:<guid>`` ...)."""
        if kind == "journal":
            return None, "journal"
        if target is None or target == "":
            raise ValidationError(Errors.E2111, kind=kind)
        if kind == "familiarisation":
            return transcripts.transcript_id(conn, str(target)), f"transcript:{target}"
        if kind == "code":
            row = codes.code_row(conn, target)
            return int(row.id), f"code:{row.guid}"
        if kind == "participant":
            return participants.participant_id(conn, str(target)), f"participant:{target}"
        coding_id = int(target)
        guid = store.coding_guid(conn, coding_id)
        if guid is None:
            raise NotFoundError(Errors.E2006, target=target)
        return coding_id, f"coding:{guid}"

    def add(
        self, body: str, *, kind: str = "journal", target: str | int | None = None, phase: str = "coding",
        title: str = "", author: str | None = None,
    ) -> Memo:
        """Write a memo (``kind``: journal, familiarisation, code, coding, participant)."""
        if kind not in MEMO_KINDS:
            raise ValidationError(Errors.E2112, kind=kind, MEMO_KINDS=', '.join(MEMO_KINDS))
        if phase not in PHASES:
            raise ValidationError(Errors.E2113, phase=phase, PHASES='; '.join(PHASES))
        if not body.strip():
            raise ValidationError(Errors.E2114)
        with self.ctx.action("memo.add", who=author) as act:
            target_id, target_ref = self._target(act.conn, kind, target)
            now = self.ctx.now()
            mid = act.rec.insert("memos", guid=new_guid(), kind=kind, target_id=target_id,
                                 author=author or self.ctx.actor, phase=phase, title=title.strip(), body=body,
                                 created_at=now, updated_at=now)
            act.target = target_ref
            act.after = {"kind": kind, "phase": phase, "title": title}
            act.summary = f"Wrote a {kind} {'entry' if kind == 'journal' else 'memo'}" + (f" '{title}'" if title else "")
        return self.get(mid)

    def get(self, memo_id: int) -> Memo:
        """The memo with id ``memo_id``."""
        with self.ctx.store.read() as conn:
            memo = store.memo(conn, memo_id)
        if memo is None:
            raise NotFoundError(Errors.E2007, memo_id=memo_id)
        return memo

    def edit(self, memo_id: int, *, body: str | None = None, title: str | None = None,
             phase: str | None = None) -> Memo:
        """Change a memo's text, title or phase."""
        if phase is not None and phase not in PHASES:
            raise ValidationError(Errors.E2115, phase=phase)
        changes = {k: v for k, v in dict(body=body, title=title, phase=phase).items() if v is not None}
        with self.ctx.action("memo.edit") as act:
            before = act.rec.get("memos", memo_id)
            if before is None:
                raise NotFoundError(Errors.E2007, memo_id=memo_id)
            act.rec.update("memos", memo_id, updated_at=self.ctx.now(), **changes)
            act.target, act.before, act.after = f"memo:{before['guid']}", {k: before[k] for k in changes}, changes
            act.summary = "Edited a memo"
        return self.get(memo_id)

    def delete(self, memo_id: int) -> None:
        """Delete a memo (undoable)."""
        with self.ctx.action("memo.delete") as act:
            before = act.rec.get("memos", memo_id)
            if before is None:
                raise NotFoundError(Errors.E2007, memo_id=memo_id)
            act.rec.delete("memos", memo_id)
            act.target, act.before, act.summary = f"memo:{before['guid']}", before, "Deleted a memo"

    def list(
        self, *, kind: str | None = None, target: str | int | None = None, phase: str | None = None,
        author: str | None = None,
    ) -> list[Memo]:
        """Memos and journal entries, newest first, filtered by kind, target, phase or author."""
        with self.ctx.store.read() as conn:
            target_id = None
            if kind and target is not None and kind != "journal":
                target_id = self._target(conn, kind, target)[0]
            return store.memos_filtered(conn, kind=kind or None, target_id=target_id, phase=phase, author=author)
