"""Queries of the audit trail: recording an action, its targets, undo/redo candidates, replay, history."""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.domain.model import AuditEvent
from analysis.store import meta
from analysis.store.batch import insert_or_keep, last_id, later
from analysis.store.recorder import CHANGE_FORMAT, Recorder, upgrade_changes
from analysis.store.schema import audit, audit_targets, users


class RecordedAction(Protocol):
    """What :func:`record` needs of a finished action (``analysis.services.context.Action``)."""

    action: str
    who: str
    target: str
    summary: str
    before: Any
    after: Any
    note: str
    undoable: bool
    barrier: bool
    changes_data: bool
    targets: list[tuple[str, str, str]]

    @property
    def rec(self) -> Recorder: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def parse_targets(target: str) -> list[tuple[str, str, str]]:
    """``"coding:G1 code:G2 transcript:a.txt"`` -> entity/identifier pairs (the first is the subject)."""
    out: list[tuple[str, str, str]] = []
    # an identifier may contain spaces (a transcript "interview 3.txt"): a token starts at ``entity:``
    for i, token in enumerate(t for t in re.split(r"\s+(?=[a-z_]+:)", target.strip()) if t):
        entity, sep, ident = token.partition(":")
        if sep and ident:
            out.append((entity, ident, "subject" if i == 0 else "related"))
    return out


def ensure_user(conn: Connection, name: str, guid: str) -> None:
    """Every researcher who acts gets a user record (with a GUID, as REFI-QDA wants)."""
    later(conn, insert_or_keep(conn, users).values(guid=guid, name=name).on_conflict_do_nothing(
        index_elements=[users.c.name]))


def user_names(conn: Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute(sa.select(users.c.name).order_by(users.c.id))]


def record(conn: Connection, act: RecordedAction, *, at: str, user_guid: str) -> None:
    """Write the audit event of a finished action (inside its transaction) and bump the change counter.

    Any action that changes data clears its researcher's redo stack: an undone action can only be
    redone while its researcher has done nothing since. Another researcher's actions leave it waiting
    (a redo whose rows they changed meanwhile is refused by the replay's row check)."""
    ensure_user(conn, act.who, user_guid)
    if act.changes_data:
        later(conn, audit.update().where(audit.c.state == "undone", audit.c.who == act.who).values(state="discarded"))
    changes = act.rec.changes if act.undoable else []
    later(conn, audit.insert().values(
        at=at, who=act.who, action=act.action, target=act.target, summary=act.summary,
        before=_dumps(act.before), after=_dumps(act.after), note=act.note, changes=Recorder.dumps(changes),
        undoable=act.undoable, barrier=act.barrier,
        # an undoable action may write no rows (dismissing a pattern): its undo flips its state
        state="done" if act.undoable else "final", format=CHANGE_FORMAT,
    ))
    targets = list(act.targets)
    for t in parse_targets(act.target):
        if not any(t[0] == e and t[1] == g for e, g, _ in targets):
            targets.append(t)
    _add_targets(conn, targets)
    if act.changes_data:
        bump(conn)


def _add_targets(conn: Connection, targets: list[tuple[str, str, str]]) -> None:
    """The target rows of the audit event just inserted (its id referred to in SQL, never read back)."""
    if targets:
        event_id = last_id(conn, audit)
        later(conn, audit_targets.insert().values(
            [{"audit_id": event_id, "entity": e, "guid": g, "role": r} for e, g, r in targets]))


def bump(conn: Connection) -> None:
    """Move the change counter on (readers poll it: Project.version)."""
    later(conn, meta.increment(conn, "change_counter"))


def change_counter(conn: Connection) -> int:
    return int(meta.get(conn, "change_counter", "0"))


#: What :func:`event` reads of an audit row: everything but its row images (``changes``: megabytes for an import,
#: read only where they are replayed or counted).
_EVENT = tuple(c for c in audit.c if c.name != "changes")


def event(row: Any) -> AuditEvent:
    return AuditEvent(
        id=row.id, at=row.at, who=row.who, action=row.action, target=row.target, summary=row.summary,
        before=json.loads(row.before) if row.before else None,
        after=json.loads(row.after) if row.after else None, note=row.note, state=row.state,
    )


def events(conn: Connection, *, action: str | None = None, limit: int | None = None) -> list[AuditEvent]:
    """The audit trail, oldest first (``action`` may end in ``*`` to match a prefix)."""
    q = sa.select(*_EVENT).order_by(audit.c.id)
    if action:
        q = q.where(audit.c.action.startswith(action[:-1]) if action.endswith("*") else audit.c.action == action)
    out = [event(r) for r in conn.execute(q).all()]
    return out[-limit:] if limit else out


def events_about(conn: Connection, entity: str, guids: set[str], *, kinds_prefix: str | None = None) -> list[AuditEvent]:
    """Live events (done or final) with a target row naming one of ``guids`` of ``entity``, oldest first."""
    if not guids:
        return []
    ids = sa.select(audit_targets.c.audit_id).where(audit_targets.c.entity == entity, audit_targets.c.guid.in_(guids))
    q = sa.select(*_EVENT).where(audit.c.id.in_(ids), audit.c.state.in_(("done", "final")))
    if kinds_prefix:
        q = q.where(audit.c.action.startswith(kinds_prefix))
    return [event(r) for r in conn.execute(q.order_by(audit.c.id)).all()]


def related(conn: Connection, kind: str, entity: str, guid: str) -> list[str]:
    """GUIDs named as ``related`` in events of ``kind`` whose subject is ``guid`` (the sources of a merge)."""
    subj = sa.select(audit_targets.c.audit_id).where(
        audit_targets.c.entity == entity, audit_targets.c.guid == guid, audit_targets.c.role == "subject")
    q = (sa.select(audit_targets.c.guid).join(audit, audit.c.id == audit_targets.c.audit_id)
         .where(audit.c.action == kind, audit.c.id.in_(subj), audit_targets.c.entity == entity,
                audit_targets.c.role == "related"))
    return [str(r[0]) for r in conn.execute(q)]


def undo_candidate(conn: Connection, who: str | None = None) -> AuditEvent | None:
    """The last done action (of researcher ``who``, when given: my undo never reverses your action),
    unless a barrier (a change of transcript text, by anyone) came after it."""
    q = sa.select(*_EVENT).where(audit.c.state == "done")
    if who is not None:
        q = q.where(audit.c.who == who)
    row = conn.execute(q.order_by(audit.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    barrier = conn.execute(sa.select(audit.c.id).where(audit.c.barrier.is_(True), audit.c.id > row.id).limit(1)).first()
    return None if barrier else event(row)


def last_barrier(conn: Connection) -> AuditEvent | None:
    """The latest barrier (an action undo cannot reach past: a REFI-QDA import, a transcript's new text), or None."""
    row = conn.execute(sa.select(*_EVENT).where(audit.c.barrier.is_(True)).order_by(audit.c.id.desc()).limit(1)).first()
    return None if row is None else event(row)


def redo_candidate(conn: Connection, who: str | None = None) -> AuditEvent | None:
    """The action undone last (of researcher ``who``, when given), unless a barrier came after it (the
    researcher's new data changes discard it anyway)."""
    q = sa.select(*_EVENT).where(audit.c.state == "undone")
    if who is not None:
        q = q.where(audit.c.who == who)
    row = conn.execute(q.order_by(audit.c.undone_at.desc(), audit.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    barrier = conn.execute(sa.select(audit.c.id).where(audit.c.barrier.is_(True), audit.c.id > row.id).limit(1)).first()
    return None if barrier else event(row)


def mark_undone(conn: Connection, event_id: int, *, at: str) -> None:
    """Mark an event undone whose reversal a service made itself (a correction: see Project.undo)."""
    conn.execute(audit.update().where(audit.c.id == event_id).values(state="undone", undone_at=at))


def replay(conn: Connection, ev: AuditEvent, *, inverse: bool, who: str, at: str, user_guid: str) -> None:
    """Undo (``inverse``) or redo one event inside the caller's transaction, checking every row first."""
    row = conn.execute(sa.select(audit.c.changes, audit.c.format).where(audit.c.id == ev.id)).one()
    changes = upgrade_changes(json.loads(row.changes), int(row.format))
    verb = "undo" if inverse else "redo"
    Recorder(conn).apply(changes, inverse=inverse, what=f"{verb} '{ev.summary}'")
    conn.execute(audit.update().where(audit.c.id == ev.id).values(
        state="undone" if inverse else "done", undone_at=at if inverse else None))
    ensure_user(conn, who, user_guid)
    later(conn, audit.insert().values(
        at=at, who=who, action=verb, target=ev.target, summary=f"{verb.capitalize()}: {ev.summary}", before="null",
        after=_dumps({"event": ev.id}), note="", changes="[]", undoable=False, state="final", format=CHANGE_FORMAT,
    ))
    _add_targets(conn, parse_targets(ev.target))
    bump(conn)


def recent_events(conn: Connection, *, limit: int, kinds: set[str]) -> list[AuditEvent]:
    """The last ``limit`` events of ``kinds`` (any researcher, any state), newest first: what a history shows
    (when, who, what, its state), without their row images and before/after (``before``/``after`` None). An
    import's row images are megabytes: reading them made the sidebar's history 38 ms of every page run at x10."""
    light = [audit.c.id, audit.c.at, audit.c.who, audit.c.action, audit.c.target, audit.c.summary, audit.c.note,
             audit.c.state]
    q = sa.select(*light).where(audit.c.action.in_(sorted(kinds))).order_by(audit.c.id.desc()).limit(limit)
    return [AuditEvent(id=r.id, at=r.at, who=r.who, action=r.action, target=r.target, summary=r.summary, before=None,
                       after=None, note=r.note, state=r.state) for r in conn.execute(q).all()]


def change_counts(conn: Connection, event_id: int) -> dict[str, int]:
    """``{table: rows}`` the event's recorded changes touch (what its undo would reverse)."""
    row = conn.execute(sa.select(audit.c.changes, audit.c.format).where(audit.c.id == event_id)).first()
    if row is None:
        return {}
    counts: dict[str, int] = {}
    for change in upgrade_changes(json.loads(row.changes), int(row.format)):
        counts[str(change["table"])] = counts.get(str(change["table"]), 0) + 1
    return counts
