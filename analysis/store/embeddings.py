"""The embedding cache: one vector per (model id, sha256 of the text), and the embedding queue.

The queue is a query, not a table: the distinct text hashes of segments that have no vector of the
model (:func:`pending`). Vectors are written by :func:`insert_fresh` in short transactions of their own
(not actions: no audit event, no undo): only for hashes that some segment still holds (a late vector
for text since corrected or deleted is dropped) and not already stored (two workers never store one
twice)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import embeddings, segments, transcripts

__all__ = ["Pending", "cached", "coverage", "insert", "insert_fresh", "pending", "pending_count", "texts_of"]

_CHUNK = 500  # keys per IN (...) lookup


def cached(conn: Connection, model_id: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` (text hashes) already have a vector for ``model_id``."""
    have: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        have.update(str(r[0]) for r in conn.execute(sa.select(embeddings.c.text_sha256).where(
            embeddings.c.model_id == model_id, embeddings.c.text_sha256.in_(keys[i:i + _CHUNK]))))
    return have


class Pending(NamedTuple):
    """A text hash waiting for its vector, and one segment holding it (where to read its words)."""

    text_sha256: str
    transcript_id: int
    start: int
    end: int


def _missing(model_id: str) -> sa.ColumnElement[bool]:
    """Segments whose text has no vector of ``model_id`` (NOT EXISTS: one primary-key probe each)."""
    return ~sa.exists().where(embeddings.c.model_id == model_id, embeddings.c.text_sha256 == segments.c.text_sha256)


def _queue(model_id: str, transcript_id: int | None) -> sa.ColumnElement[bool]:
    missing = _missing(model_id)
    return missing if transcript_id is None else sa.and_(segments.c.transcript_id == transcript_id, missing)


def pending(conn: Connection, model_id: str, limit: int, *, skip: Sequence[str] = (),
            transcript_id: int | None = None) -> list[Pending]:
    """Up to ``limit`` text hashes without a vector (of one transcript's segments, if given), in the order
    their first segments were stored (the transcripts imported first are searchable first), each with
    that first segment (``skip``: hashes to pass over)."""
    first = sa.select(segments.c.text_sha256, sa.func.min(segments.c.id).label("sid")).where(
        _queue(model_id, transcript_id))
    if skip:
        first = first.where(segments.c.text_sha256.not_in(list(skip)))
    sub = first.group_by(segments.c.text_sha256).order_by(sa.func.min(segments.c.id)).limit(limit).subquery()
    q = (sa.select(sub.c.text_sha256, segments.c.transcript_id, segments.c.start, segments.c.end)
         .join(segments, segments.c.id == sub.c.sid).order_by(sub.c.sid))
    return [Pending(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(q)]


def pending_count(conn: Connection, model_id: str, transcript_id: int | None = None) -> int:
    """How many distinct texts of segments (of one transcript, if given) have no vector of ``model_id``
    (the queue's length)."""
    q = sa.select(sa.func.count(sa.distinct(segments.c.text_sha256))).where(_queue(model_id, transcript_id))
    return int(conn.execute(q).scalar_one())


def coverage(conn: Connection, model_id: str) -> tuple[int, int]:
    """(segments with a vector of ``model_id``, segments): what semantic search covers."""
    total = int(conn.execute(sa.select(sa.func.count()).select_from(segments)).scalar_one())
    if not total:
        return 0, 0
    missing = int(conn.execute(sa.select(sa.func.count()).select_from(segments).where(_missing(model_id))).scalar_one())
    return total - missing, total


def texts_of(conn: Connection, transcript_ids: Sequence[int]) -> dict[int, str]:
    """``{transcript id: text}`` of the given transcripts."""
    q = sa.select(transcripts.c.id, transcripts.c.text).where(transcripts.c.id.in_(sorted(set(transcript_ids))))
    return {int(i): str(t) for i, t in conn.execute(q)}


def insert_fresh(conn: Connection, model_id: str, vectors: Mapping[str, npt.NDArray[np.generic]]) -> int:
    """Store the vectors (text hash -> vector) that are still wanted: a hash some segment holds and no
    vector of ``model_id`` has yet (inside the caller's write transaction, so the check and the insert
    see one state). Returns how many were stored; the others are dropped."""
    keys = list(vectors)
    wanted: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i:i + _CHUNK]
        wanted.update(str(r[0]) for r in conn.execute(
            sa.select(segments.c.text_sha256).where(segments.c.text_sha256.in_(chunk)).distinct()))
    wanted -= cached(conn, model_id, sorted(wanted))
    insert(conn, model_id, {k: vectors[k] for k in keys if k in wanted})
    return len(wanted)


def insert(conn: Connection, model_id: str, vectors: Mapping[str, npt.NDArray[np.generic]]) -> None:
    """Store new vectors (text hash -> vector) of ``model_id``, as float32 bytes."""
    rows = [{"model_id": model_id, "text_sha256": k, "dim": len(v), "vector": v.astype(np.float32).tobytes()}
            for k, v in vectors.items()]
    if rows:
        conn.execute(embeddings.insert(), rows)
