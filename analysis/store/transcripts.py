"""Queries of transcripts, their speakers, turns and segments."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.errors import Errors, NotFoundError
from analysis.domain.model import Anchor, Transcript, Turn
from analysis.store.schema import participants, segments, speakers, sync_points, transcripts, turns

__all__ = [
    "by_name", "delete_speaker", "delete_turns", "insert_segments", "insert_speaker", "insert_transcript",
    "insert_turn", "insert_turns", "replace_sync_points", "segment_count", "speaker", "sync_points_of", "speaker_summary", "speakers_of", "transcript", "transcript_id",
    "transcript_rows", "transcript_text", "transcripts_by_name", "turns_of", "update_speaker", "update_transcript",
]


def _pk(result: sa.CursorResult[Any]) -> int:
    pk = result.inserted_primary_key
    return int(pk[0]) if pk is not None else 0


# -- transcripts --------------------------------------------------------------------------------
def transcript_id(conn: Connection, name: str) -> int:
    row = conn.execute(sa.select(transcripts.c.id).where(transcripts.c.name == name)).first()
    if row is None:
        names = [str(r[0]) for r in conn.execute(sa.select(transcripts.c.name).order_by(transcripts.c.name))]
        raise NotFoundError(Errors.E2018, name=name, v2=', '.join(names) or 'none yet')
    return int(row[0])


def transcript_text(conn: Connection, tid: int) -> str:
    return str(conn.execute(sa.select(transcripts.c.text).where(transcripts.c.id == tid)).scalar_one())


def transcript_rows(conn: Connection) -> list[Any]:
    """id, name, format, source_sha256, warnings, corrections of every transcript, by name."""
    t = transcripts
    return list(conn.execute(sa.select(t.c.id, t.c.name, t.c.format, t.c.source_sha256, t.c.warnings, t.c.corrections)
                             .order_by(t.c.name)))


def by_name(conn: Connection, name: str) -> sa.Row[Any] | None:
    """The whole row of the transcript called ``name``, or None."""
    return conn.execute(sa.select(transcripts).where(transcripts.c.name == name)).first()


def transcripts_by_name(conn: Connection) -> list[sa.Row[Any]]:
    """Every transcript's whole row, by name."""
    return list(conn.execute(sa.select(transcripts).order_by(transcripts.c.name)).all())


def transcript(conn: Connection, tid: int) -> Transcript:
    r = conn.execute(sa.select(transcripts).where(transcripts.c.id == tid)).one()
    return Transcript(r.id, r.guid, r.name, r.format, r.text, tuple(json.loads(r.warnings)))


def insert_transcript(conn: Connection, *, guid: str, name: str, imported_at: str, **values: Any) -> int:
    """A new transcript row (``values``: format, text, source_sha256, warnings, updated_at)."""
    return _pk(conn.execute(transcripts.insert().values(guid=guid, name=name, imported_at=imported_at, **values)))


def update_transcript(conn: Connection, tid: int, **values: Any) -> None:
    conn.execute(transcripts.update().where(transcripts.c.id == tid).values(**values))


# -- turns and segments -------------------------------------------------------------------------
def delete_turns(conn: Connection, tid: int) -> None:
    """Delete a transcript's turns (and, by cascade, their segments)."""
    conn.execute(turns.delete().where(turns.c.transcript_id == tid))


def insert_turn(
    conn: Connection, *, transcript_id: int, idx: int, speaker_id: int, start: int, end: int,
    t_start: float | None, t_end: float | None, line: int | None,
) -> int:
    return _pk(conn.execute(turns.insert().values(
        transcript_id=transcript_id, idx=idx, speaker_id=speaker_id, start=start, end=end, t_start=t_start,
        t_end=t_end, line=line)))


def insert_turns(conn: Connection, tid: int, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert a transcript's turns (idx, speaker_id, start, end, t_start, t_end, line; the transcript has none
    yet: new, or after :func:`delete_turns`) in one statement; returns their ids in ``idx`` order. One
    executemany and one read of the ids, not an INSERT per turn (23,000 of them at 1M words: 14 s)."""
    if not rows:
        return []
    conn.execute(turns.insert(), [{"transcript_id": tid, **r} for r in rows])
    ids = [int(r[0]) for r in conn.execute(
        sa.select(turns.c.id).where(turns.c.transcript_id == tid).order_by(turns.c.idx))]
    if len(ids) != len(rows):  # turns were left behind: the caller broke the contract above
        raise RuntimeError(f"transcript {tid} has {len(ids)} turns after inserting {len(rows)}")
    return ids


def insert_segments(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert segment rows (transcript_id, turn_id, start, end, text_sha256)."""
    if rows:
        conn.execute(segments.insert(), [dict(r) for r in rows])


def turns_of(conn: Connection, tid: int) -> list[Turn]:
    """A transcript's turns in order, with their speaker labels and participants."""
    q = (sa.select(turns, speakers.c.label, speakers.c.interviewer, participants.c.pseudonym)
         .join(speakers, speakers.c.id == turns.c.speaker_id)
         .outerjoin(participants, participants.c.id == speakers.c.participant_id)
         .where(turns.c.transcript_id == tid)
         .order_by(turns.c.idx))
    return [Turn(r.id, r.transcript_id, r.idx, r.label, r.pseudonym, bool(r.interviewer), r.start, r.end,
                 r.t_start, r.t_end) for r in conn.execute(q).all()]


# -- time anchors (sync points) ------------------------------------------------------------------
def replace_sync_points(conn: Connection, tid: int, anchors: Sequence[Anchor]) -> None:
    """The transcript's anchors are ``anchors`` from now on (sorted by offset, one per offset)."""
    conn.execute(sync_points.delete().where(sync_points.c.transcript_id == tid))
    if anchors:
        conn.execute(sync_points.insert(), [{"transcript_id": tid, "position": a.offset, "t_start": a.t_start,
                                             "t_end": a.t_end} for a in anchors])


def sync_points_of(conn: Connection, tid: int | None = None) -> dict[int, list[Anchor]]:
    """Anchors by transcript id, each list by offset (every transcript, or only ``tid``)."""
    q = sa.select(sync_points.c.transcript_id, sync_points.c.position, sync_points.c.t_start, sync_points.c.t_end)
    if tid is not None:
        q = q.where(sync_points.c.transcript_id == tid)
    out: dict[int, list[Anchor]] = {}
    for r in conn.execute(q.order_by(sync_points.c.transcript_id, sync_points.c.position)):
        out.setdefault(int(r[0]), []).append(Anchor(int(r[1]), float(r[2]), None if r[3] is None else float(r[3])))
    return out


def segment_count(conn: Connection, tid: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(segments)
                            .where(segments.c.transcript_id == tid)).scalar_one())


# -- speakers -----------------------------------------------------------------------------------
def speakers_of(conn: Connection, tid: int) -> list[sa.Row[Any]]:
    """A transcript's speaker rows (id, label, participant_id, interviewer)."""
    return list(conn.execute(sa.select(speakers).where(speakers.c.transcript_id == tid)).all())


def speaker(conn: Connection, tid: int, label: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(speakers).where(speakers.c.transcript_id == tid, speakers.c.label == label)).first()


def insert_speaker(conn: Connection, tid: int, label: str, participant_id: int | None, interviewer: bool) -> int:
    return _pk(conn.execute(speakers.insert().values(
        transcript_id=tid, label=label, participant_id=participant_id, interviewer=interviewer)))


def update_speaker(conn: Connection, sid: int, *, participant_id: int | None, interviewer: bool) -> None:
    conn.execute(speakers.update().where(speakers.c.id == sid).values(participant_id=participant_id,
                                                                      interviewer=interviewer))


def delete_speaker(conn: Connection, sid: int) -> None:
    conn.execute(speakers.delete().where(speakers.c.id == sid))


def transcript_listing(conn: Connection) -> list[sa.Row[Any]]:
    """Every transcript by name without its text (id, name, format, warnings, corrections): for lists."""
    t = transcripts.c
    rows: Any = conn.execute(sa.select(t.id, t.name, t.format, t.warnings, t.corrections).order_by(t.name)).all()
    return list(rows)


def segment_counts(conn: Connection) -> dict[int, int]:
    """``{transcript id: segments}`` for every transcript with segments (one query)."""
    q = sa.select(segments.c.transcript_id, sa.func.count()).group_by(segments.c.transcript_id)
    return {int(tid): int(n) for tid, n in conn.execute(q).all()}


def speaker_summaries(conn: Connection) -> dict[int, list[sa.Row[Any]]]:
    """:func:`speaker_summary` of every transcript at once: ``{transcript id: rows}`` (one query)."""
    turn_counts = (sa.select(turns.c.speaker_id, sa.func.count().label("n")).group_by(turns.c.speaker_id)
                   .subquery())
    q = (sa.select(speakers.c.transcript_id, speakers.c.label, speakers.c.interviewer, participants.c.pseudonym,
                   sa.func.coalesce(turn_counts.c.n, 0).label("turns"))
         .outerjoin(participants, participants.c.id == speakers.c.participant_id)
         .outerjoin(turn_counts, turn_counts.c.speaker_id == speakers.c.id)
         .order_by(speakers.c.transcript_id, speakers.c.id))
    out: dict[int, list[sa.Row[Any]]] = {}
    rows: Any = conn.execute(q).all()
    for row in rows:
        out.setdefault(int(row.transcript_id), []).append(row)
    return out


def speaker_summary(conn: Connection, tid: int) -> list[sa.Row[Any]]:
    """A transcript's speakers in order: label, interviewer, pseudonym (or None), turns (a count)."""
    q = (sa.select(speakers.c.label, speakers.c.interviewer, participants.c.pseudonym,
                   sa.func.count(turns.c.id).label("turns"))
         .outerjoin(participants, participants.c.id == speakers.c.participant_id)
         .outerjoin(turns, turns.c.speaker_id == speakers.c.id)
         # every selected column grouped: PostgreSQL refuses a joined table's column that is not
         .where(speakers.c.transcript_id == tid).group_by(speakers.c.id, participants.c.pseudonym).order_by(speakers.c.id))
    return list(conn.execute(q).all())
