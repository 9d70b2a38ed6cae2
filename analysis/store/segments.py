"""Reads for the segment index and the exploration frames: segments with their turns, speakers and
vectors, turns with their speakers, transcript texts, and codings as spans.

Only reads: segments, turns and embeddings are written by the import; codings by
:class:`~analysis.services.codings.CodingService`.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import codings, embeddings, participants, segments, speakers, transcripts, turns

__all__ = ["CodingSpan", "FrameCoding", "IndexKey", "IndexedSegment", "TurnInfo", "coding_spans", "frame_codings",
           "index_key", "indexed_segments", "transcript_texts", "turn_infos"]

IndexKey = tuple[str, tuple[int, int | None], int, str | None, tuple[int, int | None]]
"""What the segment index depends on: model id, (segments, highest segment id), vectors of the model,
last transcript change, (mapped speakers, sum of their participant ids)."""


class IndexedSegment(NamedTuple):
    """A segment: its place, turn, speaker, participant and vector of the model (None: not embedded yet)."""

    id: int
    transcript_id: int
    transcript: str
    start: int
    end: int
    turn_id: int
    turn_start: int
    turn_end: int
    speaker: str
    interviewer: bool
    participant: str | None
    vector: bytes | None


class TurnInfo(NamedTuple):
    """A turn with its speaker and the participant the speaker is mapped to (if any)."""

    transcript_id: int
    idx: int
    start: int
    end: int
    t_start: float | None
    speaker: str
    interviewer: bool
    participant: str | None


class FrameCoding(NamedTuple):
    """A coding as the codings frame shows it (with its transcript's name)."""

    id: int
    code_id: int
    transcript_id: int
    start: int
    end: int
    quote: str
    coder: str
    memo: str
    origin: str
    orphaned: bool
    transcript: str


class CodingSpan(NamedTuple):
    coding_id: int
    code_id: int
    transcript_id: int
    start: int
    end: int


def _opt_int(value: int | None) -> int | None:
    return None if value is None else int(value)


def index_key(conn: Connection, model_id: str) -> IndexKey:
    """The key the segment index is cached under: it changes when segments, the model's vectors,
    transcript texts or speaker mappings change (and not when codings or the audit trail do)."""
    seg = conn.execute(sa.select(sa.func.count(), sa.func.max(segments.c.id))).one()
    emb = conn.execute(sa.select(sa.func.count()).select_from(embeddings)
                       .where(embeddings.c.model_id == model_id)).scalar_one()
    changed = conn.execute(sa.select(sa.func.max(transcripts.c.updated_at))).scalar()
    mapped = conn.execute(sa.select(sa.func.count(), sa.func.sum(speakers.c.participant_id))
                          .where(speakers.c.participant_id.is_not(None))).one()
    return (model_id, (int(seg[0]), _opt_int(seg[1])), int(emb), None if changed is None else str(changed),
            (int(mapped[0]), _opt_int(mapped[1])))


def indexed_segments(conn: Connection, model_id: str) -> list[IndexedSegment]:
    """Every segment with its vector of ``model_id`` (None where it has none yet), by id."""
    q = (sa.select(segments.c.id, segments.c.transcript_id, transcripts.c.name, segments.c.start,
                   segments.c.end, segments.c.turn_id, turns.c.start.label("turn_start"),
                   turns.c.end.label("turn_end"), speakers.c.label, speakers.c.interviewer,
                   participants.c.pseudonym, embeddings.c.vector)
         .join(transcripts, transcripts.c.id == segments.c.transcript_id)
         .join(turns, turns.c.id == segments.c.turn_id)
         .join(speakers, speakers.c.id == turns.c.speaker_id)
         .outerjoin(participants, participants.c.id == speakers.c.participant_id)
         .outerjoin(embeddings, sa.and_(embeddings.c.text_sha256 == segments.c.text_sha256,
                                        embeddings.c.model_id == model_id))
         .order_by(segments.c.id))
    return [IndexedSegment(int(r.id), int(r.transcript_id), r.name, int(r.start), int(r.end), int(r.turn_id),
                           int(r.turn_start), int(r.turn_end), r.label, bool(r.interviewer), r.pseudonym, r.vector)
            for r in conn.execute(q)]


def transcript_texts(conn: Connection) -> dict[int, str]:
    """``{transcript id: text}`` of every transcript."""
    return {int(i): str(s) for i, s in conn.execute(sa.select(transcripts.c.id, transcripts.c.text))}


def turn_infos(conn: Connection) -> list[TurnInfo]:
    """Every turn with its speaker (and mapped participant), by transcript id, then start."""
    q = (sa.select(turns.c.transcript_id, turns.c.idx, turns.c.start, turns.c.end, turns.c.t_start,
                   speakers.c.label, speakers.c.interviewer, participants.c.pseudonym)
         .join(speakers, speakers.c.id == turns.c.speaker_id)
         .outerjoin(participants, participants.c.id == speakers.c.participant_id)
         .order_by(turns.c.transcript_id, turns.c.start))
    # rows unpacked, not read by attribute: half the time at 30,000 turns (issue 26's x50 project)
    return [TurnInfo(int(tid), int(idx), int(start), int(end), None if t_start is None else float(t_start), label,
                     bool(interviewer), pseudonym)
            for tid, idx, start, end, t_start, label, interviewer, pseudonym in conn.execute(q)]


def frame_codings(conn: Connection) -> list[FrameCoding]:
    """Every coding (orphans included) with its transcript's name, in no particular order."""
    cd = codings
    q = (sa.select(cd.c.id, cd.c.code_id, cd.c.transcript_id, cd.c.start, cd.c.end, cd.c.quote, cd.c.coder,
                   cd.c.memo, cd.c.origin, cd.c.orphaned, transcripts.c.name.label("transcript"))
         .join(transcripts, transcripts.c.id == cd.c.transcript_id))
    return [FrameCoding(int(i), int(code_id), int(tid), int(start), int(end), quote, coder, memo, origin, bool(orphaned),
                        name) for i, code_id, tid, start, end, quote, coder, memo, origin, orphaned, name in conn.execute(q)]


def coding_spans(conn: Connection, code_ids: set[int] | None = None) -> list[CodingSpan]:
    """The spans of the codings that are not orphaned (of ``code_ids`` only, if given), by coding id."""
    cd = codings
    q = sa.select(cd.c.id, cd.c.code_id, cd.c.transcript_id, cd.c.start, cd.c.end).where(cd.c.orphaned.is_(False))
    if code_ids is not None:
        q = q.where(cd.c.code_id.in_(sorted(code_ids)))
    return [CodingSpan(int(r.id), int(r.code_id), int(r.transcript_id), int(r.start), int(r.end))
            for r in conn.execute(q.order_by(cd.c.id))]
