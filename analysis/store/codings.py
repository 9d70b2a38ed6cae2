"""Queries of ``codings``: codes applied to spans of transcripts (and the re-anchoring writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import codings, segments, speakers, transcripts, turns

__all__ = ["add_reads", "count", "count_of", "counts_by_code", "duplicate", "export_rows", "ids_by_guid", "ids_by_span",
           "ids_of", "mark_orphaned", "orphan_rows", "place", "rows_in", "rows_of", "segment_spans", "with_text"]

Span = tuple[int, int, int, int, str]  # (code id, transcript id, start, end, coder): what makes a coding unique


def count(conn: Connection) -> int:
    """How many codings the project holds."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(codings)).scalar_one())


def count_of(conn: Connection, code_id: int) -> int:
    """How many codings code ``code_id`` has (its own, not its sub-codes')."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(codings)
                            .where(codings.c.code_id == code_id)).scalar_one())


def rows_of(conn: Connection, code_id: int) -> list[sa.Row[Any]]:
    """The coding rows of code ``code_id``, by id."""
    return list(conn.execute(sa.select(codings).where(codings.c.code_id == code_id).order_by(codings.c.id)).all())


def ids_of(conn: Connection, code_id: int) -> set[int]:
    """The ids of the codings of code ``code_id``."""
    return {int(r[0]) for r in conn.execute(sa.select(codings.c.id).where(codings.c.code_id == code_id))}


def duplicate(conn: Connection, code_id: int, transcript_id: int, start: int, end: int, *, coder: str,
              exclude: int | None = None) -> int | None:
    """The id of a coding of ``code_id`` by ``coder`` on exactly ``[start, end)`` of the transcript, if one
    exists (two coders may code the same span with the same code: that is what agreement compares)."""
    q = sa.select(codings.c.id).where(codings.c.code_id == code_id, codings.c.transcript_id == transcript_id,
                                      codings.c.start == start, codings.c.end == end, codings.c.coder == coder)
    if exclude is not None:
        q = q.where(codings.c.id != exclude)
    row = conn.execute(q).first()
    return None if row is None else int(row[0])


def ids_by_span(conn: Connection, transcript_ids: Iterable[int]) -> dict[Span, int]:
    """``{(code id, transcript id, start, end, coder): coding id}`` of every coding in the transcripts: what
    :func:`duplicate` answers coding by coding, read in one statement per 500 transcripts."""
    out: dict[Span, int] = {}
    ids = sorted(set(transcript_ids))
    for i in range(0, len(ids), 500):
        q = (sa.select(codings.c.id, codings.c.code_id, codings.c.transcript_id, codings.c.start, codings.c.end,
                       codings.c.coder).where(codings.c.transcript_id.in_(ids[i:i + 500])))
        for cid, code_id, tid, start, end, coder in conn.execute(q):
            out[(int(code_id), int(tid), int(start), int(end), str(coder))] = int(cid)
    return out


def ids_by_guid(conn: Connection, guids: Iterable[str]) -> dict[str, int]:
    """``{GUID, lower-cased: coding id}`` of the codings whose GUID is one of ``guids`` (compared
    case-insensitively, as REFI-QDA compares them), in one statement per 500 GUIDs."""
    wanted = sorted({g.lower() for g in guids if g})
    out: dict[str, int] = {}
    for i in range(0, len(wanted), 500):
        q = sa.select(codings.c.id, codings.c.guid).where(sa.func.lower(codings.c.guid).in_(wanted[i:i + 500]))
        out.update({str(guid).lower(): int(cid) for cid, guid in conn.execute(q)})
    return out


def add_reads(transcript: str, start: int, end: int, coder: str) -> list[sa.Select[Any]]:
    """What adding a coding to ``[start, end)`` of ``transcript`` by ``coder`` reads first, for the action to
    read with its lock: the transcript's ``id`` and ``text``; the ``code_id`` of each coding ``coder`` has on
    exactly that span (a duplicate is one of the same code)."""
    return [
        sa.select(transcripts.c.id, transcripts.c.text).where(transcripts.c.name == transcript),
        sa.select(codings.c.code_id).join(transcripts, transcripts.c.id == codings.c.transcript_id).where(
            transcripts.c.name == transcript, codings.c.start == start, codings.c.end == end,
            codings.c.coder == coder),
    ]


def with_text(conn: Connection, coding_id: int) -> sa.Row[Any] | None:
    """A coding row together with its transcript's ``text``."""
    q = (sa.select(codings, transcripts.c.text).join(transcripts, transcripts.c.id == codings.c.transcript_id)
         .where(codings.c.id == coding_id))
    return conn.execute(q).first()


def rows_in(conn: Connection, transcript_id: int, *, text_order: bool = True) -> list[sa.Row[Any]]:
    """The coding rows of one transcript: in text order, orphans last (else by id, the order re-anchoring
    places them in)."""
    q = sa.select(codings).where(codings.c.transcript_id == transcript_id)
    q = q.order_by(codings.c.orphaned, codings.c.start, codings.c.end, codings.c.id) if text_order else \
        q.order_by(codings.c.id)
    return list(conn.execute(q).all())


def orphan_rows(conn: Connection) -> list[sa.Row[Any]]:
    """The codings whose text could not be found again, by id."""
    return list(conn.execute(sa.select(codings).where(codings.c.orphaned.is_(True)).order_by(codings.c.id)).all())


def export_rows(conn: Connection) -> list[sa.Row[Any]]:
    """Every coding with its transcript's name (``transcript``), by transcript, start, id."""
    q = (sa.select(codings, transcripts.c.name.label("transcript"))
         .join(transcripts, transcripts.c.id == codings.c.transcript_id)
         .order_by(transcripts.c.name, codings.c.start, codings.c.id))
    return list(conn.execute(q).all())


def counts_by_code(conn: Connection) -> dict[int, tuple[int, int]]:
    """``{code id: (codings, participants)}`` (direct codings only; participants speaking in the spans)."""
    q = (sa.select(codings.c.code_id, sa.func.count(sa.distinct(codings.c.id)),
                   sa.func.count(sa.distinct(speakers.c.participant_id)))
         .select_from(codings)
         .outerjoin(turns, sa.and_(turns.c.transcript_id == codings.c.transcript_id,
                                   turns.c.start < codings.c.end, turns.c.end > codings.c.start))
         .outerjoin(speakers, speakers.c.id == turns.c.speaker_id)
         .group_by(codings.c.code_id))
    return {int(r[0]): (int(r[1]), int(r[2])) for r in conn.execute(q)}


def segment_spans(conn: Connection, transcript_id: int, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)`` of the segments (sentences) of a transcript that overlap ``[start, end)``."""
    q = sa.select(segments.c.start, segments.c.end).where(
        segments.c.transcript_id == transcript_id, segments.c.end > start, segments.c.start < end)
    return [(int(r[0]), int(r[1])) for r in conn.execute(q)]


# -- re-anchoring (inside a transcript import's transaction; not through the undo recorder) --------
def mark_orphaned(conn: Connection, coding_id: int) -> None:
    """Keep a coding whose text cannot be placed again, flagged as an orphan."""
    conn.execute(codings.update().where(codings.c.id == coding_id).values(orphaned=True))


def place(conn: Connection, coding_id: int, *, start: int, end: int, quote: str, context_before: str,
          context_after: str) -> None:
    """Move a coding to its new span (no longer an orphan)."""
    conn.execute(codings.update().where(codings.c.id == coding_id).values(
        start=start, end=end, quote=quote, context_before=context_before, context_after=context_after,
        orphaned=False))
