"""Queries of the narrative-inquiry tables: ``periods``, ``events``, ``event_evidence``, ``chapters`` and
``chapter_sections`` (rows are written through the undo recorder)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.errors import Errors, Msg, NotFoundError
from analysis.store.recorder import name_key
from analysis.store.schema import chapter_sections, chapters, codings, event_evidence, events, periods

__all__ = ["ChapterRow", "EventRow", "EvidenceRow", "PeriodRow", "SectionRow", "chapter_row", "chapter_rows",
           "coding_guid", "event_named", "event_row", "event_rows", "evidence_id", "evidence_rows", "period_named",
           "period_row", "period_rows", "section_rows", "uses_of_event", "uses_of_period"]


@dataclass(frozen=True)
class PeriodRow:
    id: int
    guid: str
    name: str
    position: int
    anchor: str
    description: str


@dataclass(frozen=True)
class EventRow:
    id: int
    guid: str
    name: str
    description: str
    when_kind: str
    when_value: str
    period_id: int | None
    relative_to: int | None
    sort_key: str
    created_at: str


@dataclass(frozen=True)
class EvidenceRow:
    id: int
    event_id: int
    coding_id: int
    when_kind: str
    when_value: str
    period_id: int | None
    relative_to: int | None
    note: str
    linked_by: str
    linked_at: str


@dataclass(frozen=True)
class ChapterRow:
    id: int
    guid: str
    title: str
    introduction: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class SectionRow:
    id: int
    guid: str
    chapter_id: int
    position: int
    heading: str
    items: str
    vignette_id: int | None


_Row = TypeVar("_Row")


def _opt(value: Any) -> int | None:
    return None if value is None else int(value)


def _period(r: sa.Row[Any]) -> PeriodRow:
    return PeriodRow(int(r.id), str(r.guid), str(r.name), int(r.position), str(r.anchor or ""), str(r.description or ""))


def _event(r: sa.Row[Any]) -> EventRow:
    return EventRow(int(r.id), str(r.guid), str(r.name), str(r.description or ""), str(r.when_kind),
                    str(r.when_value or ""), _opt(r.period_id), _opt(r.relative_to), str(r.sort_key or ""),
                    str(r.created_at))


def period_rows(conn: Connection) -> list[PeriodRow]:
    """Every period, in the researcher's order."""
    return [_period(r) for r in conn.execute(sa.select(periods).order_by(periods.c.position, periods.c.id))]


def _named(conn: Connection, table: sa.Table, name: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(table).where(table.c.name_key == name_key(name))).first()


def _found(found: _Row | None, msg: Msg, name: str, every: Callable[[], list[str]]) -> _Row:
    """``found``, or :class:`NotFoundError` ``msg`` naming ``name`` and listing ``every()`` name there is."""
    if found is None:
        raise NotFoundError(msg, name=name, known=", ".join(every()) or "none yet")
    return found


def period_named(conn: Connection, name: str) -> PeriodRow | None:
    """The period named ``name`` (case-insensitive), or None."""
    row = _named(conn, periods, name)
    return None if row is None else _period(row)


def period_row(conn: Connection, name: str) -> PeriodRow:
    """The period named ``name`` (case-insensitive); :class:`NotFoundError` listing the periods otherwise."""
    return _found(period_named(conn, name), Errors.E7006, name, lambda: [p.name for p in period_rows(conn)])


def event_rows(conn: Connection) -> list[EventRow]:
    """Every event, oldest first (story order is computed by :mod:`analysis.domain.narrative`)."""
    return [_event(r) for r in conn.execute(sa.select(events).order_by(events.c.id))]


def event_named(conn: Connection, name: str) -> EventRow | None:
    """The event named ``name`` (case-insensitive), or None."""
    row = _named(conn, events, name)
    return None if row is None else _event(row)


def event_row(conn: Connection, name: str) -> EventRow:
    """The event named ``name`` (case-insensitive); :class:`NotFoundError` listing the events otherwise."""
    return _found(event_named(conn, name), Errors.E7001, name, lambda: [e.name for e in event_rows(conn)])


def evidence_rows(conn: Connection) -> list[EvidenceRow]:
    """Every link of a coding to an event, in the order they were made."""
    q = sa.select(event_evidence).order_by(event_evidence.c.id)
    return [EvidenceRow(int(r.id), int(r.event_id), int(r.coding_id), str(r.when_kind or ""), str(r.when_value or ""),
                        _opt(r.period_id), _opt(r.relative_to), str(r.note or ""), str(r.linked_by), str(r.linked_at))
            for r in conn.execute(q)]


def evidence_id(conn: Connection, event_id: int, coding_id: int) -> int | None:
    row = conn.execute(sa.select(event_evidence.c.id).where(
        event_evidence.c.event_id == event_id, event_evidence.c.coding_id == coding_id)).first()
    return None if row is None else int(row[0])


def uses_of_event(conn: Connection, event_id: int) -> list[str]:
    """What is placed before or after event ``event_id``: other events' names, and links ("coding N")."""
    names = [str(r[0]) for r in conn.execute(sa.select(events.c.name).where(events.c.relative_to == event_id))]
    links = [f"coding {int(r[0])}" for r in conn.execute(sa.select(event_evidence.c.coding_id).where(
        event_evidence.c.relative_to == event_id, event_evidence.c.event_id != event_id))]
    return names + links


def uses_of_period(conn: Connection, period_id: int) -> list[str]:
    """What is placed in period ``period_id``: events' names, and links ("coding N")."""
    names = [str(r[0]) for r in conn.execute(sa.select(events.c.name).where(events.c.period_id == period_id))]
    links = [f"coding {int(r[0])}" for r in conn.execute(sa.select(event_evidence.c.coding_id).where(
        event_evidence.c.period_id == period_id))]
    return names + links


def coding_guid(conn: Connection, coding_id: int) -> str | None:
    """The GUID of coding ``coding_id``, or None if there is no such coding."""
    row = conn.execute(sa.select(codings.c.guid).where(codings.c.id == coding_id)).first()
    return None if row is None else str(row[0])


def _chapter(r: sa.Row[Any]) -> ChapterRow:
    return ChapterRow(int(r.id), str(r.guid), str(r.title), str(r.introduction or ""), str(r.created_at),
                      str(r.updated_at))


def chapter_rows(conn: Connection) -> list[ChapterRow]:
    """Every chapter, oldest first."""
    return [_chapter(r) for r in conn.execute(sa.select(chapters).order_by(chapters.c.id))]


def chapter_row(conn: Connection, ref: int | str) -> ChapterRow:
    """The chapter with id ``ref`` (an int or digits), else titled ``ref`` (case-insensitive)."""
    every = chapter_rows(conn)
    if isinstance(ref, int) or str(ref).strip().isdigit():
        found = [c for c in every if c.id == int(ref)]
    else:
        found = [c for c in every if name_key(c.title) == name_key(str(ref))]
    if len(found) == 1:
        return found[0]
    if found:
        raise NotFoundError(Errors.E7017, n=len(found), ref=ref, ids=", ".join(str(c.id) for c in found))
    known = ", ".join(f"{c.id} '{c.title}'" for c in every) or "none yet"
    raise NotFoundError(Errors.E7013, ref=ref, known=known)


def section_rows(conn: Connection, chapter_id: int) -> list[SectionRow]:
    """The sections of chapter ``chapter_id``, in order."""
    s = chapter_sections
    q = sa.select(s).where(s.c.chapter_id == chapter_id).order_by(s.c.position, s.c.id)
    return [SectionRow(int(r.id), str(r.guid), int(r.chapter_id), int(r.position), str(r.heading), str(r.items or "[]"),
                       _opt(r.vignette_id)) for r in conn.execute(q)]

